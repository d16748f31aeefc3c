"""koku's settings into the engine's: the names and defaults are koku's ``EnvConfigurator``'s
(koku/koku/configurator.py) and django-environ's booleans; the expected values below are
written from those rules, not from this package's output."""

import datetime
import os
import stat
import uuid

import pytest

from ocp_engine import InfrastructureError, InputError, S3Settings, build_invocation
from ocp_engine.settings import is_onprem, koku_postgres_dsn, koku_s3

SOURCE = "6795d5e6-951c-4382-a8d3-390515d7ec2d"


@pytest.fixture
def engine(tmp_path):
    """An executable file standing in for the binary: these tests only build the command."""
    path = tmp_path / "ocp-engine"
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def invocation(engine, environ, **kwargs):
    args = dict(compatibility=None, postgres_dsn=None, s3=None, input=None, tracing_id=None,
                engine=engine, environ=environ)
    args.update(kwargs)
    return build_invocation("acct10001", SOURCE, datetime.date(2026, 9, 1), "2026-09-30", 7,
                            "my-cluster", "My Cluster", **args)


def test_koku_database_defaults():
    # koku's defaults: user and password postgres, host localhost, port 15432, db postgres.
    assert koku_postgres_dsn({}) == "postgresql://postgres:postgres@localhost:15432/postgres"


def test_koku_database_host_and_port_come_from_the_service_name():
    environ = {
        "DATABASE_SERVICE_NAME": "koku-db",
        "KOKU_DB_SERVICE_HOST": "db.example",
        "KOKU_DB_SERVICE_PORT": "5433",
        "DATABASE_USER": "koku",
        "DATABASE_PASSWORD": "p@ss:w/rd",
        "DATABASE_NAME": "koku",
    }
    # '@' → %40, ':' → %3A, '/' → %2F: the URL parses back to the same password.
    assert koku_postgres_dsn(environ) == "postgresql://koku:p%40ss%3Aw%2Frd@db.example:5433/koku"


def test_koku_s3_endpoint_gets_a_scheme_only_when_it_has_none():
    assert koku_s3({}).endpoint == "https://s3.us-east-1.amazonaws.com"
    assert koku_s3({"S3_ENDPOINT": "minio:9000"}).endpoint == "https://minio:9000"
    assert koku_s3({"S3_ENDPOINT": "http://minio:9000"}).endpoint == "http://minio:9000"
    s3 = koku_s3({"S3_BUCKET_NAME": "koku-bucket", "S3_ACCESS_KEY": "AK", "S3_SECRET": "SK",
                  "S3_REGION": "us-east-2"})
    assert (s3.bucket, s3.access_key, s3.secret_key, s3.region) == (
        "koku-bucket", "AK", "SK", "us-east-2")


@pytest.mark.parametrize("value,onprem", [
    ("True", True), ("yes", True), ("1", True), ("on", True),
    ("False", False), ("0", False), ("", False), ("no", False),
])
def test_onprem_reads_djangos_booleans(value, onprem):
    assert is_onprem({"ONPREM": value}) is onprem


def test_parquet_on_s3_by_default_with_secrets_only_in_the_environment(engine):
    environ = {"S3_BUCKET_NAME": "koku-bucket", "S3_ENDPOINT": "minio:9000",
               "S3_ACCESS_KEY": "AKIA-TEST", "S3_SECRET": "s3-secret",
               "DATABASE_PASSWORD": "db-secret"}
    got = invocation(engine, environ)
    assert got.env["OCP_ENGINE_INPUT"] == "s3://koku-bucket"
    assert got.env["OCP_ENGINE_S3_ENDPOINT"] == "https://minio:9000"
    assert (got.env["AWS_ACCESS_KEY_ID"], got.env["AWS_SECRET_ACCESS_KEY"]) == (
        "AKIA-TEST", "s3-secret")
    assert got.env["OCP_ENGINE_SCHEMA"] == "acct10001"
    assert got.env["OCP_ENGINE_SOURCE"] == SOURCE
    assert got.env["OCP_ENGINE_LOG_FORMAT"] == "json"
    assert got.argv == [engine, "aggregate", "--start", "2026-09-01", "--end", "2026-09-30",
                        "--report-period-id", "7", "--cluster-id", "my-cluster",
                        "--cluster-alias", "My Cluster"]
    for secret in ("s3-secret", "db-secret", "AKIA-TEST"):
        assert not any(secret in arg for arg in got.argv)


def test_onprem_reads_the_tables_of_koku_s_database(engine):
    environ = {"ONPREM": "true", "DATABASE_PASSWORD": "x"}
    got = invocation(engine, environ)
    dsn = "postgresql://postgres:x@localhost:15432/postgres"
    assert got.env["OCP_ENGINE_INPUT"] == dsn and got.env["OCP_ENGINE_POSTGRES_URL"] == dsn
    assert "AWS_ACCESS_KEY_ID" not in got.env


def test_explicit_arguments_win_over_koku_settings(engine):
    environ = {"ONPREM": "true", "S3_BUCKET_NAME": "ignored"}
    got = invocation(engine, environ, input="/data/koku", postgres_dsn="postgresql://a@b/c",
                     compatibility="postgres", tracing_id="t-9")
    assert got.env["OCP_ENGINE_INPUT"] == "/data/koku"
    assert got.env["OCP_ENGINE_POSTGRES_URL"] == "postgresql://a@b/c"
    assert got.env["OCP_ENGINE_COMPATIBILITY"] == "postgres"
    assert got.env["OCP_ENGINE_TRACING_ID"] == "t-9"
    s3 = S3Settings(bucket="b2", endpoint="http://minio:9000")
    got = invocation(engine, {}, s3=s3)
    assert got.env["OCP_ENGINE_INPUT"] == "s3://b2"


def test_values_koku_passes_are_normalised(engine):
    got = build_invocation("org1", uuid.UUID(SOURCE), datetime.datetime(2026, 9, 3, 12, 30),
                           "2026-09-05T00:00:00", None, None, None, compatibility=None,
                           postgres_dsn="postgresql://a@b/c", s3=None, input="/d",
                           tracing_id=None, engine=engine, environ={})
    # Only the dates go on the command line when koku leaves the period to be looked up.
    assert got.argv[1:] == ["aggregate", "--start", "2026-09-03", "--end", "2026-09-05"]
    assert got.env["OCP_ENGINE_SOURCE"] == SOURCE


def test_no_bucket_is_bad_input_naming_koku_s_setting(engine):
    with pytest.raises(InputError) as raised:
        invocation(engine, {})
    assert raised.value.problem == "setting" and raised.value.place == ["S3_BUCKET_NAME"]


def test_the_binary_is_on_path_or_named_by_ocp_engine_bin(engine, tmp_path):
    folder = os.path.dirname(engine)
    environ = {"S3_BUCKET_NAME": "b"}
    got = invocation(None, {**environ, "PATH": os.pathsep.join(["/nonexistent", folder])})
    assert got.argv[0] == engine
    got = invocation(None, {**environ, "PATH": "", "OCP_ENGINE_BIN": engine})
    assert got.argv[0] == engine
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InfrastructureError) as raised:
        invocation(None, {**environ, "PATH": str(empty)})
    assert "OCP_ENGINE_BIN" in raised.value.message and raised.value.exit_code is None
    with pytest.raises(InfrastructureError):
        invocation(None, {**environ, "OCP_ENGINE_BIN": str(empty / "ocp-engine")})
