//! Resolving a run: the config file, with command-line flags and environment variables winning
//! over it, becomes a [`RunRequest`]. The CLI and the harness's `compare` share this, so a config
//! means the same run to both.

use std::path::PathBuf;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::compat::Compatibility;
use crate::config::{ConfigFile, SourceSection};
use crate::error::{Error, Result};
use crate::run::{CatalogSource, Output, PostgresTarget, RunRequest};
use crate::source::{S3Credentials, S3Settings};

/// Settings given outside the config file (flags, environment); each `Some` wins over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub input: Option<String>,
    pub s3_endpoint: Option<String>,
    pub account: Option<String>,
    pub source_uuid: Option<Uuid>,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub report_period_id: Option<i32>,
    pub cluster_id: Option<String>,
    pub cluster_alias: Option<String>,
    pub postgres_url: Option<String>,
    pub schema: Option<String>,
    /// A `.parquet` or `.csv` file to write instead of PostgreSQL.
    pub out: Option<PathBuf>,
    pub compatibility: Option<Compatibility>,
}

/// The run `file` describes, with `overrides` winning over it. Every missing setting is an
/// input error naming its flag, environment variable (where there is one) and config key.
///
/// The catalog is the file's `[catalog]` table when present (an explicit table wins), else
/// koku's tables in PostgreSQL; the output is `overrides.out`, else PostgreSQL when a URL and
/// schema are set.
pub fn resolve_request(file: ConfigFile, overrides: Overrides) -> Result<RunRequest> {
    let args = overrides;
    let s3_credentials = s3_credentials(&file.source)?;
    let missing = |what: &str, flag: &str, key: &str| {
        Error::setting(
            key,
            format!("{what} is not set: pass {flag} or set {key} in the config file"),
        )
    };
    let location = args.input.or(file.source.location).ok_or_else(|| {
        missing(
            "the input location",
            "--input / OCP_ENGINE_INPUT",
            "source.location",
        )
    })?;
    let account = args.account.or(file.source.account).ok_or_else(|| {
        missing(
            "the account",
            "--account / OCP_ENGINE_ACCOUNT",
            "source.account",
        )
    })?;
    let source_uuid = match args.source_uuid {
        Some(uuid) => uuid,
        None => {
            let text = file.source.source_uuid.ok_or_else(|| {
                missing(
                    "the source UUID",
                    "--source / OCP_ENGINE_SOURCE",
                    "source.source_uuid",
                )
            })?;
            Uuid::parse_str(&text).map_err(|e| {
                Error::setting(
                    "source.source_uuid",
                    format!("source.source_uuid {text:?} is not a UUID: {e}"),
                )
            })?
        }
    };
    let date = |flag: Option<NaiveDate>, text: Option<String>, name: &str| -> Result<NaiveDate> {
        match (flag, text) {
            (Some(date), _) => Ok(date),
            (None, Some(text)) => NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|e| {
                Error::setting(
                    format!("period.{name}"),
                    format!("period.{name} {text:?} is not a YYYY-MM-DD date: {e}"),
                )
            }),
            (None, None) => Err(missing(
                &format!("the {name} date"),
                &format!("--{name}"),
                &format!("period.{name}"),
            )),
        }
    };
    let start = date(args.start, file.period.start, "start")?;
    let end = date(args.end, file.period.end, "end")?;
    let postgres_url = args.postgres_url.or(file.postgres.url);
    let schema = args.schema.or(file.postgres.schema);
    let postgres = match (postgres_url, schema) {
        (Some(url), Some(schema)) => Some(PostgresTarget { url, schema }),
        (Some(_), None) => {
            return Err(missing(
                "the PostgreSQL schema",
                "--schema",
                "postgres.schema",
            ))
        }
        (None, _) => None,
    };
    // An explicit [catalog] table wins over koku's tables; a site's config leaves it out.
    let catalog = match (&postgres, file.catalog) {
        (_, Some(inline)) => CatalogSource::Inline(inline),
        (Some(_), None) => CatalogSource::Postgres,
        (None, None) => return Err(Error::setting(
            "postgres.url",
            "no catalog: set --postgres-url and --schema (koku's tables), or a [catalog] table \
                 in the config file",
        )),
    };
    let output = match args.out {
        Some(path) => Output::File(path),
        None if postgres.is_some() => Output::Postgres,
        None => {
            return Err(Error::setting(
                "--out",
                "no output: pass --out FILE (.parquet or .csv), or --postgres-url and --schema",
            ))
        }
    };
    Ok(RunRequest {
        location,
        s3: S3Settings {
            credentials: s3_credentials,
            endpoint: args.s3_endpoint.or(file.source.s3_endpoint),
            region: file.source.s3_region,
        },
        account,
        source_uuid,
        start,
        end,
        report_period_id: args.report_period_id.or(file.period.report_period_id),
        cluster_id: args.cluster_id.or(file.period.cluster_id),
        cluster_alias: args.cluster_alias.or(file.period.cluster_alias),
        catalog,
        postgres,
        output,
        compatibility: args
            .compatibility
            .or(file.summary.compatibility)
            .unwrap_or_default(),
    })
}

/// The S3 key pair from the config file: both keys or neither.
fn s3_credentials(source: &SourceSection) -> Result<Option<S3Credentials>> {
    match (&source.s3_access_key_id, &source.s3_secret_access_key) {
        (Some(id), Some(secret)) => Ok(Some(S3Credentials {
            access_key_id: id.clone(),
            secret_access_key: secret.clone(),
        })),
        (None, None) => Ok(None),
        _ => Err(Error::setting(
            "source.s3_access_key_id",
            "the config's [source] sets only one of s3_access_key_id and s3_secret_access_key: \
             set both, or neither and use AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
        )),
    }
}
