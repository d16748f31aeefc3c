"""koku's own settings, read where koku keeps them, for the engine.

koku's workers take their database and object-store settings from environment variables (koku's
``EnvConfigurator``); the names and defaults below are koku's, so a worker that runs koku already
has them. ``summarize`` uses these only for what its caller does not pass.
"""

from dataclasses import dataclass
from typing import Mapping, Optional
from urllib.parse import quote

# django-environ's true strings, which koku's ``ENVIRONMENT.bool`` accepts (any case).
_TRUE = ("true", "on", "ok", "y", "yes", "1")


@dataclass(frozen=True)
class S3Settings:
    """Where koku's Parquet is: the bucket, its endpoint and the key pair."""

    bucket: str
    endpoint: Optional[str] = None
    access_key: Optional[str] = None
    secret_key: Optional[str] = None
    region: Optional[str] = None


def is_onprem(environ: Mapping[str, str]) -> bool:
    """koku's ``ONPREM`` setting: line items live in PostgreSQL, not in Parquet on S3."""
    return environ.get("ONPREM", "").strip().lower() in _TRUE


def koku_postgres_dsn(environ: Mapping[str, str]) -> str:
    """The database koku's worker uses, as a PostgreSQL URL.

    koku's names and defaults: ``DATABASE_USER`` and ``DATABASE_PASSWORD`` (both ``postgres``),
    ``DATABASE_NAME`` (``postgres``), and the host and port in ``<SERVICE>_SERVICE_HOST`` and
    ``<SERVICE>_SERVICE_PORT`` (``localhost``, ``15432``), where ``<SERVICE>`` is
    ``DATABASE_SERVICE_NAME`` upper-cased with ``-`` as ``_``. User and password are
    percent-encoded, so any character may appear in them.
    """
    service = environ.get("DATABASE_SERVICE_NAME", "").upper().replace("-", "_")
    user = environ.get("DATABASE_USER", "postgres")
    password = environ.get("DATABASE_PASSWORD", "postgres")
    host = environ.get(f"{service}_SERVICE_HOST", "localhost")
    port = environ.get(f"{service}_SERVICE_PORT", "15432")
    name = environ.get("DATABASE_NAME", "postgres")
    userinfo = quote(user, safe="")
    if password:
        userinfo += ":" + quote(password, safe="")
    return f"postgresql://{userinfo}@{host}:{port}/{quote(name, safe='')}"


def koku_s3(environ: Mapping[str, str]) -> S3Settings:
    """koku's object store: ``S3_BUCKET_NAME``, ``S3_ENDPOINT`` (``https://`` added when it has
    no scheme; koku's default is AWS's ``s3.us-east-1.amazonaws.com``), ``S3_ACCESS_KEY``,
    ``S3_SECRET`` and ``S3_REGION``."""
    endpoint = environ.get("S3_ENDPOINT", "s3.us-east-1.amazonaws.com")
    if not endpoint.startswith(("https://", "http://")):
        endpoint = "https://" + endpoint
    return S3Settings(
        bucket=environ.get("S3_BUCKET_NAME", ""),
        endpoint=endpoint,
        access_key=environ.get("S3_ACCESS_KEY"),
        secret_key=environ.get("S3_SECRET"),
        region=environ.get("S3_REGION"),
    )
