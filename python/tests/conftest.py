"""Real parts for the package's tests: the engine and harness binaries the Rust build made, the
tests' PostgreSQL (the same server the Rust tests use, from ``ocp-test-postgres``), and a koku
tenant made by ``ocp-harness generate --to-postgres`` for each test.

Binaries come from ``OCP_TEST_BIN_DIR`` (``just pytest`` sets it), else the debug folder of
``CARGO_TARGET_DIR`` (default ``~/.cache/koku-ocp/target``). A missing binary or server fails the
test with what to run; nothing is skipped.
"""

import glob
import os
import shutil
import subprocess
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import pytest


def _bin_dir() -> Path:
    explicit = os.environ.get("OCP_TEST_BIN_DIR")
    if explicit:
        return Path(explicit)
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.expanduser("~/.cache/koku-ocp/target")
    return Path(target) / "debug"


@pytest.fixture(scope="session")
def bins() -> Dict[str, Path]:
    """``ocp-engine``, ``ocp-harness`` and ``ocp-test-postgres``, built by cargo."""
    found = {name: _bin_dir() / name for name in ("ocp-engine", "ocp-harness", "ocp-test-postgres")}
    missing = [str(path) for path in found.values() if not os.access(path, os.X_OK)]
    if missing:
        pytest.fail(
            f"missing binaries {missing}: build them with `cargo test --workspace --no-run` "
            "(`just pytest` does), or set OCP_TEST_BIN_DIR to their folder"
        )
    return found


@pytest.fixture(scope="session")
def pg_url(bins):
    """The tests' PostgreSQL: 127.0.0.1:5432 when it answers, else a throwaway cluster that lives
    as long as the session."""
    server = subprocess.Popen(
        [str(bins["ocp-test-postgres"])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    url = server.stdout.readline().strip()
    if not url:
        server.wait(timeout=60)
        pytest.fail("ocp-test-postgres gave no server (its stderr says why)")
    yield url
    server.stdin.close()
    server.wait(timeout=60)


def _psql() -> str:
    found = shutil.which("psql") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)), None
    )
    if not found:
        pytest.fail("psql is missing: install PostgreSQL's client (`just postgres-setup`)")
    return found


@dataclass
class Tenant:
    """A koku tenant in the tests' PostgreSQL holding one generated tiny cluster: koku's tables
    with its catalog and report period, its on-prem line-item tables, and its Parquet under
    ``folder``."""

    url: str
    schema: str
    folder: Path
    source_uuid: str
    start: str
    end: str
    cluster_id: str
    cluster_alias: str
    report_period_id: int

    def sql(self, query: str) -> List[List[str]]:
        """Rows of ``query``, each a list of column texts."""
        done = subprocess.run(
            [_psql(), self.url, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
             "-c", query],
            capture_output=True, text=True, check=False,
        )
        assert done.returncode == 0, f"psql failed on {query!r}: {done.stderr}"
        return [line.split("\t") for line in done.stdout.splitlines() if line]

    def table(self, name: str) -> str:
        return f'"{self.schema}".{name}'

    def month_rows(self) -> List[str]:
        """Every summary row of the tenant, every column but the random ``uuid``, as JSON text,
        sorted: two runs wrote the same rows when these are equal."""
        return [
            row[0]
            for row in self.sql(
                "SELECT (to_jsonb(t) - 'uuid')::text AS r FROM "
                f"{self.table('reporting_ocpusagelineitem_daily_summary')} t ORDER BY r"
            )
        ]

    def uuids(self) -> List[str]:
        return [r[0] for r in self.sql(
            f"SELECT uuid FROM {self.table('reporting_ocpusagelineitem_daily_summary')}")]

    def rows_per_data_source(self) -> Dict[str, int]:
        return {
            source: int(count)
            for source, count in self.sql(
                "SELECT data_source, count(*) FROM "
                f"{self.table('reporting_ocpusagelineitem_daily_summary')} GROUP BY 1"
            )
        }

    def recorded_runs(self) -> List[str]:
        return [r[0] for r in self.sql(f"SELECT run_id FROM {self.table('ocp_engine_runs')}")]

    def delete_rows(self) -> None:
        self.sql(f"DELETE FROM {self.table('reporting_ocpusagelineitem_daily_summary')}")

    def koku_environ(self) -> Dict[str, str]:
        """koku's database settings naming this server, as a koku worker has them (with
        ``DATABASE_SERVICE_NAME``, so the host and port come from ``<SERVICE>_SERVICE_*``)."""
        rest = self.url.split("://", 1)[1]
        userinfo, hostpart = rest.split("@", 1)
        hostport, name = hostpart.split("/", 1)
        host, port = hostport.rsplit(":", 1)
        return {
            "PATH": os.environ.get("PATH", ""),
            "DATABASE_SERVICE_NAME": "koku-db",
            "KOKU_DB_SERVICE_HOST": host,
            "KOKU_DB_SERVICE_PORT": port,
            "DATABASE_USER": userinfo.split(":", 1)[0],
            "DATABASE_NAME": name,
        }

    def cli(self, bins, input: str, *extra: str) -> subprocess.CompletedProcess:
        """``ocp-engine aggregate`` as an operator runs it for this tenant's month."""
        return subprocess.run(
            [str(bins["ocp-engine"]), "aggregate", "--input", input,
             "--postgres-url", self.url, "--schema", self.schema,
             "--source", self.source_uuid, "--start", self.start, "--end", self.end,
             "--report-period-id", str(self.report_period_id),
             "--cluster-id", self.cluster_id, "--cluster-alias", self.cluster_alias,
             "--quiet", *extra],
            capture_output=True, text=True, check=False,
        )


@pytest.fixture
def tenant(bins, pg_url, tmp_path) -> Tenant:
    """A fresh tenant schema holding a generated tiny cluster (see ``Tenant``)."""
    schema = f"org_py_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "bucket"
    done = subprocess.run(
        [str(bins["ocp-harness"]), "generate", "--scale", "tiny", "--out", str(folder),
         "--to-postgres", pg_url, "--schema", schema],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, f"ocp-harness generate failed: {done.stderr}"
    with open(folder / "engine.toml", "rb") as f:
        config = tomllib.load(f)
    tenant = Tenant(
        url=pg_url,
        schema=schema,
        folder=folder,
        source_uuid=config["source"]["source_uuid"],
        start=config["period"]["start"],
        end=config["period"]["end"],
        cluster_id=config["period"]["cluster_id"],
        cluster_alias=config["period"]["cluster_alias"],
        report_period_id=0,
    )
    (period,) = tenant.sql(
        f"SELECT id FROM {tenant.table('reporting_ocpusagereportperiod')} "
        f"WHERE provider_id = '{tenant.source_uuid}'"
    )
    tenant.report_period_id = int(period[0])
    return tenant
