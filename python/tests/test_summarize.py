"""``summarize`` against a real PostgreSQL holding a koku tenant, in both of koku's layouts
(Parquet in a folder that plays the bucket, and the on-prem line-item tables): it writes exactly
the rows the CLI writes, a re-run replaces them, a failure raises the engine's kind of error and
leaves the month as it was, and the engine's JSON events reach Python's logging.

What is not run here: S3. The package hands koku's S3 settings to the engine as variables
(tests/test_settings.py checks which); the engine's S3 reading is tested in Rust against an
S3-compatible server."""

import json
import logging

import pytest

from ocp_engine import InfrastructureError, InputError, summarize

PHASES = ["read", "labels", "aggregate", "write"]


def call(tenant, bins, layout, **kwargs):
    """``summarize`` for the tenant's month as koku's accessor calls it: Parquet from the
    tenant's folder, or on-prem (koku's ``ONPREM``) with the database from koku's settings."""
    kwargs.setdefault("engine", str(bins["ocp-engine"]))
    if layout == "parquet":
        kwargs.setdefault("input", str(tenant.folder))
        kwargs.setdefault("postgres_dsn", tenant.url)
        environ = {"PATH": ""}
    else:
        environ = {**tenant.koku_environ(), "ONPREM": "True"}
    return summarize(
        tenant.schema,
        tenant.source_uuid,
        tenant.start,
        tenant.end,
        tenant.report_period_id,
        tenant.cluster_id,
        tenant.cluster_alias,
        environ=environ,
        **kwargs,
    )


def cli_input(tenant, layout):
    return str(tenant.folder) if layout == "parquet" else tenant.url


@pytest.mark.parametrize("layout", ["parquet", "onprem"])
def test_the_call_writes_the_rows_the_cli_writes(tenant, bins, layout):
    done = tenant.cli(bins, cli_input(tenant, layout))
    assert done.returncode == 0, done.stderr
    by_cli = tenant.month_rows()
    counts = tenant.rows_per_data_source()
    # The tiny cluster has pods and claims: both kinds of row, so the comparison compares.
    assert counts.get("Pod", 0) > 0 and counts.get("Storage", 0) > 0, counts

    tenant.delete_rows()
    assert tenant.month_rows() == []
    report = call(tenant, bins, layout)

    assert tenant.month_rows() == by_cli
    assert report["rows_per_data_source"] == counts
    assert report["rows_deleted"] == 0
    assert report["report_period_id"] == tenant.report_period_id
    assert report["cluster_id"] == tenant.cluster_id
    assert report["compatibility"] == ("trino" if layout == "parquet" else "postgres")
    assert [p["name"] for p in report["phases"]] == PHASES
    assert report["total_seconds"] > 0 and report["wall_seconds"] >= report["total_seconds"]
    assert report["peak_rss_bytes"] > 0
    assert report["run_id"] in tenant.recorded_runs()


@pytest.mark.parametrize("layout", ["parquet", "onprem"])
def test_a_rerun_replaces_the_rows(tenant, bins, layout):
    first = call(tenant, bins, layout)
    rows, uuids = tenant.month_rows(), set(tenant.uuids())
    assert rows

    second = call(tenant, bins, layout)

    assert tenant.month_rows() == rows
    # New rows, not the old ones kept: every uuid changed, and the old rows were counted deleted.
    assert set(tenant.uuids()).isdisjoint(uuids)
    assert second["rows_deleted"] == len(rows)
    assert sorted(tenant.recorded_runs()) == sorted([first["run_id"], second["run_id"]])


def truncate_one_pod_file(tenant):
    """Cuts the first file of the month's daily pod usage in half, as an interrupted copy
    leaves it; returns its path."""
    pattern = "data/parquet/daily/*/OCP/pod_usage/source=*/year=*/month=*/*.parquet"
    files = sorted(tenant.folder.glob(pattern))
    assert files, f"no daily pod usage file {pattern} under {tenant.folder}"
    data = files[0].read_bytes()
    files[0].write_bytes(data[: len(data) // 2])
    return files[0]


FAILURES = {
    # A bad Parquet file: bad input naming the file; re-running will not help.
    "truncated_parquet": (InputError, 2),
    # A schema without koku's tables: bad input naming the table.
    "missing_schema": (InputError, 2),
    # The database is not there: infrastructure; a retry may help.
    "unreachable_database": (InfrastructureError, 3),
    # The worker image has no engine: infrastructure, before any process runs.
    "missing_binary": (InfrastructureError, None),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_a_failure_raises_its_kind_and_leaves_the_month(tenant, bins, failure, tmp_path):
    call(tenant, bins, "parquet")
    before = tenant.month_rows()
    assert before

    kwargs, schema_override = {}, None
    if failure == "truncated_parquet":
        broken = truncate_one_pod_file(tenant)
    elif failure == "missing_schema":
        schema_override = "org_missing_tenant"
    elif failure == "unreachable_database":
        kwargs["postgres_dsn"] = "postgresql://postgres@127.0.0.1:9/postgres"
    else:
        kwargs["engine"] = str(tmp_path / "no-such-ocp-engine")

    expected, exit_code = FAILURES[failure]
    with pytest.raises(expected) as raised:
        if schema_override:
            summarize(schema_override, tenant.source_uuid, tenant.start, tenant.end,
                      tenant.report_period_id, tenant.cluster_id, tenant.cluster_alias,
                      input=str(tenant.folder), postgres_dsn=tenant.url,
                      engine=str(bins["ocp-engine"]), environ={"PATH": ""})
        else:
            call(tenant, bins, "parquet", **kwargs)
    error = raised.value
    assert error.exit_code == exit_code
    if failure == "truncated_parquet":
        assert error.problem == "file" and str(broken) in error.place, (error.problem, error.place)
    if failure == "missing_schema":
        assert error.problem == "table", error.problem
        assert any(p.startswith("org_missing_tenant.") for p in error.place), error.place
    if failure == "unreachable_database":
        assert error.service == "PostgreSQL"
    assert tenant.month_rows() == before


def test_the_json_log_tells_the_run_in_events(tenant, bins):
    done = tenant.cli(bins, str(tenant.folder), "--log-format", "json", "--tracing-id", "t-1")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    events = [json.loads(line) for line in done.stderr.splitlines()]
    names = [e["event"] for e in events]
    assert names == ["run_started"] + ["phase_finished"] * 4 + ["run_finished"], names
    assert [e["phase"] for e in events if e["event"] == "phase_finished"] == PHASES
    run_id = events[0]["run_id"]
    for event in events:
        # koku's context fields, the run id and the envelope on every event.
        assert event["schema"] == tenant.schema
        assert event["provider_uuid"] == tenant.source_uuid
        assert (event["start_date"], event["end_date"]) == (tenant.start, tenant.end)
        assert event["report_period_id"] == tenant.report_period_id
        assert event["tracing_id"] == "t-1"
        assert event["run_id"] == run_id
        assert event["logger"] == "ocp_engine" and event["level"] == "INFO"
    finished = events[-1]
    assert finished["rows_per_data_source"] == tenant.rows_per_data_source()
    assert tenant.recorded_runs() == [run_id]


def test_a_failed_run_logs_one_event_with_its_kind(tenant, bins):
    broken = truncate_one_pod_file(tenant)
    done = tenant.cli(bins, str(tenant.folder), "--log-format", "json")
    assert done.returncode == 2
    events = [json.loads(line) for line in done.stderr.splitlines()]
    failed = events[-1]
    assert failed["event"] == "run_failed" and failed["level"] == "ERROR"
    assert (failed["error_kind"], failed["problem"], failed["exit_code"]) == ("input", "file", 2)
    assert str(broken) in failed["place"]
    assert failed["schema"] == tenant.schema
    assert [e["event"] for e in events[:-1]] == ["run_started"]


def test_the_call_relays_the_engines_events_to_logging(tenant, bins, caplog):
    with caplog.at_level(logging.INFO, logger="ocp_engine"):
        report = call(tenant, bins, "onprem", tracing_id="koku-task-7")
    events = [r.msg for r in caplog.records if r.name == "ocp_engine"]
    assert [e["event"] for e in events] == (
        ["run_started"] + ["phase_finished"] * 4 + ["run_finished"]
    )
    for event in events:
        assert event["tracing_id"] == "koku-task-7"
        assert event["run_id"] == report["run_id"]
        assert event["provider_uuid"] == tenant.source_uuid
