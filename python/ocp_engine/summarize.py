"""``summarize``: koku's daily-summary step for one source and date range, by the engine.

The call runs the ``ocp-engine`` binary as a child process with ``--log-format json``, relays
each JSON event it prints to the ``ocp_engine`` logger as koku logs its own (a dict as the
message), and returns the ``run_finished`` event's report, or raises the ``run_failed`` event's
error. Settings go to the child in ``OCP_ENGINE_*`` and ``AWS_*`` environment variables, never on
its command line, so no password shows in a process listing.
"""

import datetime
import json
import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Union
from uuid import UUID

from .errors import InfrastructureError, InputError, InternalError, from_event
from .settings import S3Settings, is_onprem, koku_postgres_dsn, koku_s3

LOG = logging.getLogger("ocp_engine")

DateLike = Union[datetime.date, str]

# Keys of a JSON event that describe the event rather than the run.
_ENVELOPE = ("timestamp", "level", "logger", "event", "message")

# The engine's event levels as logging's.
_LEVELS = {"ERROR": logging.ERROR, "WARNING": logging.WARNING, "INFO": logging.INFO}

# How many lines of stderr that are not JSON (a panic, a crash) an error quotes.
_QUOTED_LINES = 20


@dataclass
class Invocation:
    """The engine's command line and the environment variables added for it."""

    argv: List[str]
    env: Dict[str, str] = field(default_factory=dict)


def summarize(
    schema: str,
    source_uuid: Union[UUID, str],
    start_date: DateLike,
    end_date: DateLike,
    report_period_id: Optional[int],
    cluster_id: Optional[str],
    cluster_alias: Optional[str],
    *,
    compatibility: Optional[str] = None,
    postgres_dsn: Optional[str] = None,
    s3: Optional[S3Settings] = None,
    input: Optional[str] = None,
    tracing_id: Optional[str] = None,
    engine: Optional[str] = None,
    environ: Optional[Mapping[str, str]] = None,
) -> Dict[str, Any]:
    """Writes koku's ``reporting_ocpusagelineitem_daily_summary`` rows of one source and date
    range, as koku's ``populate_line_item_daily_summary_table_trino`` does with the same
    arguments: in one transaction, after deleting the rows koku deletes for the report period
    and dates.

    Args:
        schema: the tenant schema (``org1234567``); its account folder is the schema without a
            leading ``acct``.
        source_uuid: the OpenShift source (provider) UUID.
        start_date, end_date: the first and last day, in one month (dates, datetimes or
            ``YYYY-MM-DD`` strings).
        report_period_id, cluster_id, cluster_alias: written on every row; each looked up in
            ``reporting_ocpusagereportperiod`` when None.
        compatibility: ``"trino"`` (koku's Trino SQL) or ``"postgres"`` (koku's on-prem port);
            by default Trino for Parquet and the port for on-prem tables.
        postgres_dsn: the database; koku's ``DATABASE_*`` settings by default.
        s3: where koku's Parquet is; koku's ``S3_*`` settings by default.
        input: where the line items are, overriding the choice by koku's ``ONPREM`` setting (the
            database's on-prem tables when true, else ``s3://<bucket>``): a folder, an
            ``s3://`` URL or a ``postgresql://`` URL.
        tracing_id: koku's tracing id, carried on every logged event.
        engine: the ``ocp-engine`` binary; ``OCP_ENGINE_BIN``, else ``ocp-engine`` on ``PATH``.
        environ: where koku's settings are read; ``os.environ`` by default. The child inherits
            it.

    Returns:
        The run's report: ``run_id``, ``rows_per_data_source`` (Pod, Storage, unallocated),
        ``rows_deleted``, ``total_seconds`` and ``phases`` as the engine measured them,
        ``peak_rss_bytes``, ``report_period_id``, ``cluster_id``, the effective ``start`` and
        ``end``, and ``wall_seconds``, the call's own time (process start included).

    Raises:
        InputError: bad input (a setting, a Parquet file or table, no data for the month).
        InfrastructureError: PostgreSQL, S3, the disk or the binary failed.
        InternalError: a bug in the engine.
        In every case the month in PostgreSQL is as it was before the call.
    """
    environ = os.environ if environ is None else environ
    invocation = build_invocation(
        schema,
        source_uuid,
        start_date,
        end_date,
        report_period_id,
        cluster_id,
        cluster_alias,
        compatibility=compatibility,
        postgres_dsn=postgres_dsn,
        s3=s3,
        input=input,
        tracing_id=tracing_id,
        engine=engine,
        environ=environ,
    )
    started = time.monotonic()
    report = _run(invocation, {**environ, **invocation.env})
    report["wall_seconds"] = time.monotonic() - started
    return report


def build_invocation(
    schema: str,
    source_uuid: Union[UUID, str],
    start_date: DateLike,
    end_date: DateLike,
    report_period_id: Optional[int],
    cluster_id: Optional[str],
    cluster_alias: Optional[str],
    *,
    compatibility: Optional[str],
    postgres_dsn: Optional[str],
    s3: Optional[S3Settings],
    input: Optional[str],
    tracing_id: Optional[str],
    engine: Optional[str],
    environ: Mapping[str, str],
) -> Invocation:
    """The command line and environment ``summarize`` runs the engine with (see there)."""
    dsn = postgres_dsn or koku_postgres_dsn(environ)
    argv = [
        _engine_binary(engine, environ),
        "aggregate",
        "--start",
        _day(start_date),
        "--end",
        _day(end_date),
    ]
    for flag, value in (
        ("--report-period-id", report_period_id),
        ("--cluster-id", cluster_id),
        ("--cluster-alias", cluster_alias),
    ):
        if value is not None:
            argv += [flag, str(value)]
    env = {
        "OCP_ENGINE_SCHEMA": schema,
        "OCP_ENGINE_SOURCE": str(UUID(str(source_uuid))),
        "OCP_ENGINE_POSTGRES_URL": dsn,
        "OCP_ENGINE_LOG_FORMAT": "json",
    }
    if compatibility is not None:
        env["OCP_ENGINE_COMPATIBILITY"] = compatibility
    if tracing_id is not None:
        env["OCP_ENGINE_TRACING_ID"] = str(tracing_id)
    if input is not None:
        env["OCP_ENGINE_INPUT"] = input
    elif is_onprem(environ):
        env["OCP_ENGINE_INPUT"] = dsn
    else:
        s3 = s3 or koku_s3(environ)
        if not s3.bucket:
            raise InputError(
                "no input: koku's S3_BUCKET_NAME is not set and neither input= nor s3= was "
                "given (on-prem, set ONPREM=true to read the line items from PostgreSQL)",
                problem="setting",
                place=["S3_BUCKET_NAME"],
            )
        env.update(_s3_env(s3))
    return Invocation(argv, env)


def _s3_env(s3: S3Settings) -> Dict[str, str]:
    """The engine's S3 settings: the bucket as its input, the rest as ``AWS_*`` variables."""
    env = {"OCP_ENGINE_INPUT": f"s3://{s3.bucket}"}
    for name, value in (
        ("OCP_ENGINE_S3_ENDPOINT", s3.endpoint),
        ("AWS_ACCESS_KEY_ID", s3.access_key),
        ("AWS_SECRET_ACCESS_KEY", s3.secret_key),
        ("AWS_REGION", s3.region),
    ):
        if value:
            env[name] = value
    return env


def _engine_binary(engine: Optional[str], environ: Mapping[str, str]) -> str:
    """The binary to run: ``engine``, ``OCP_ENGINE_BIN``, or ``ocp-engine`` on ``PATH``."""
    chosen = engine or environ.get("OCP_ENGINE_BIN")
    found = chosen if chosen else shutil.which("ocp-engine", path=environ.get("PATH"))
    if not found or not os.access(found, os.X_OK):
        raise InfrastructureError(
            f"the ocp-engine binary is not there: {found or 'ocp-engine is not on PATH'}; "
            "install it in the worker image or set OCP_ENGINE_BIN to its path",
            service="host",
        )
    return found


def _day(value: DateLike) -> str:
    """``YYYY-MM-DD`` of a date, a datetime or a string starting with one (as koku passes)."""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return datetime.date.fromisoformat(str(value)[:10]).isoformat()


def _run(invocation: Invocation, env: Mapping[str, str]) -> Dict[str, Any]:
    """Runs the engine, relays its events to ``LOG``, returns the report or raises."""
    try:
        child = subprocess.Popen(
            invocation.argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
    except OSError as e:
        raise InfrastructureError(
            f"cannot start {invocation.argv[0]}: {e}", service="host"
        ) from e
    finished = failed = None
    other: List[str] = []
    assert child.stderr is not None
    for line in child.stderr:
        line = line.rstrip("\n")
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if not isinstance(event, dict) or "event" not in event:
            if line:
                other.append(line)
                LOG.warning({"message": line, "logger": "ocp_engine", "event": "stderr"})
            continue
        LOG.log(_LEVELS.get(event.get("level"), logging.INFO), event)
        if event["event"] == "run_finished":
            finished = event
        elif event["event"] == "run_failed":
            failed = event
    code = child.wait()
    if code == 0 and finished is not None:
        return {k: v for k, v in finished.items() if k not in _ENVELOPE}
    if failed is not None:
        raise from_event(failed)
    quoted = "\n".join(other[-_QUOTED_LINES:]) or "(nothing on stderr)"
    raise InternalError(
        f"ocp-engine ended with exit code {code} without a report:\n{quoted}",
        exit_code=code,
    )
