//! Resolving a run: the config file, with command-line flags and environment variables winning
//! over it, becomes a [`RunRequest`]. The CLI and the harness's `compare` share this, so a config
//! means the same run to both.

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::compat::Compatibility;
use crate::config::{ConfigFile, SourceSection};
use crate::error::{Error, Result};
use crate::run::{CatalogSource, Output, PostgresTarget, RunRequest, DEFAULT_MONTH_LOCK_WAIT};
use crate::source::{is_plain_folder_name, S3Credentials, S3Settings, Source};

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
    /// Seconds to wait for another run of the same month (`--lock-wait`).
    pub lock_wait_seconds: Option<u64>,
}

/// The run `file` describes, with `overrides` winning over it. Every missing setting is an
/// input error naming its flag, environment variable (where there is one) and config key.
///
/// The catalog is the file's `[catalog]` table when present (an explicit table wins), else
/// koku's tables in PostgreSQL; the output is `overrides.out`, else PostgreSQL when a URL and
/// schema are set.
///
/// The account defaults to the one koku derives from the tenant schema ([`account_of_schema`]).
/// When the input is a PostgreSQL URL (koku's on-prem line-item tables, in the tenant schema),
/// the PostgreSQL URL defaults to it and the compatibility to koku's PostgreSQL port.
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
    let from_postgres = Source::is_postgres(&location);
    let postgres_url = args.postgres_url.or(file.postgres.url);
    let schema = args.schema.or(file.postgres.schema);
    let account = match (args.account.or(file.source.account), &schema) {
        (Some(account), _) => account,
        (None, Some(schema)) => account_of_schema(schema).to_string(),
        (None, None) => {
            return Err(missing(
                "the account",
                "--account / OCP_ENGINE_ACCOUNT (or --schema, whose name gives it)",
                "source.account",
            ))
        }
    };
    // koku's Parquet is under data/…/<account>/: the account must name that folder as it is.
    if !from_postgres && !is_plain_folder_name(&account) {
        return Err(Error::setting(
            "source.account",
            format!(
                "the account {account:?} cannot name koku's folder as it is written (characters \
                 such as \" % # * ? [ ] {{ }} ^ | ~ \\ or / change on the way to the object store); \
                 koku's accounts are the tenant schema without a leading \"acct\", letters and \
                 digits: pass --account (source.account)"
            ),
        ));
    }
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
    // Reading koku's on-prem tables, the rows go to the same database unless told otherwise.
    let postgres_url = postgres_url.or_else(|| from_postgres.then(|| location.clone()));
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
            request_timeout: s3_request_timeout(file.source.s3_request_timeout_seconds)?,
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
        // koku's on-prem tables are summarised by its PostgreSQL port.
        compatibility: args.compatibility.or(file.summary.compatibility).unwrap_or(
            if from_postgres {
                Compatibility::Postgres
            } else {
                Compatibility::Trino
            },
        ),
        month_lock_wait: args
            .lock_wait_seconds
            .or(file.postgres.lock_wait_seconds)
            .map_or(DEFAULT_MONTH_LOCK_WAIT, Duration::from_secs),
        keep_rows: false,
    })
}

/// `source.s3_request_timeout_seconds` as a duration: a positive number of seconds.
fn s3_request_timeout(seconds: Option<f64>) -> Result<Option<Duration>> {
    seconds
        .map(|s| {
            Duration::try_from_secs_f64(s)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    Error::setting(
                        "source.s3_request_timeout_seconds",
                        format!(
                            "source.s3_request_timeout_seconds is {s}: give a positive number of \
                             seconds (30 by default)"
                        ),
                    )
                })
        })
        .transpose()
}

/// koku's account folder for a tenant `schema` (spec §2): the schema name without a leading
/// `acct` (`acct10001` → `10001`; new tenants' `org1234567` stays as it is).
pub fn account_of_schema(schema: &str) -> &str {
    schema.strip_prefix("acct").unwrap_or(schema)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PeriodSection;
    use crate::error::Problem;

    const DB: &str = "postgresql://koku@db:5432/koku";

    fn config(location: &str) -> ConfigFile {
        ConfigFile {
            source: SourceSection {
                location: Some(location.to_string()),
                source_uuid: Some("6795d5e6-951c-4382-a8d3-390515d7ec2d".to_string()),
                ..Default::default()
            },
            period: PeriodSection {
                start: Some("2026-05-01".to_string()),
                end: Some("2026-05-31".to_string()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn with_schema() -> Overrides {
        Overrides {
            schema: Some("org1234567".to_string()),
            ..Default::default()
        }
    }

    #[test]
    fn a_postgres_input_defaults_to_its_database_the_schema_as_account_and_the_port() {
        let request = resolve_request(config(DB), with_schema()).unwrap();
        let target = request.postgres.as_ref().expect("the input's database");
        assert_eq!(
            (target.url.as_str(), target.schema.as_str()),
            (DB, "org1234567")
        );
        assert_eq!(request.account, "org1234567");
        assert_eq!(request.compatibility, Compatibility::Postgres);
        assert!(matches!(request.catalog, CatalogSource::Postgres));
        assert!(matches!(request.output, Output::Postgres));
    }

    #[test]
    fn explicit_settings_win_over_the_postgres_input_defaults() {
        let overrides = Overrides {
            account: Some("acct9".to_string()),
            postgres_url: Some("postgresql://other@db2/koku".to_string()),
            compatibility: Some(Compatibility::Trino),
            out: Some(PathBuf::from("rows.csv")),
            ..with_schema()
        };
        let request = resolve_request(config(DB), overrides).unwrap();
        assert_eq!(request.account, "acct9");
        assert_eq!(request.postgres.unwrap().url, "postgresql://other@db2/koku");
        assert_eq!(request.compatibility, Compatibility::Trino);
        assert!(matches!(request.output, Output::File(_)));
    }

    #[test]
    fn a_postgres_input_needs_the_tenant_schema() {
        let err = resolve_request(config(DB), Overrides::default()).unwrap_err();
        // Without a schema there is no account either; the account is asked for first.
        assert_eq!(
            err.problem(),
            Some(&Problem::Setting("source.account".into()))
        );
        let overrides = Overrides {
            account: Some("org1".to_string()),
            ..Default::default()
        };
        let err = resolve_request(config(DB), overrides).unwrap_err();
        assert_eq!(
            err.problem(),
            Some(&Problem::Setting("postgres.schema".into()))
        );
    }

    #[test]
    fn a_folder_input_still_reproduces_trino_and_needs_an_account_or_schema() {
        let mut file = config("/data/koku");
        file.source.account = Some("org1".to_string());
        let overrides = Overrides {
            out: Some(PathBuf::from("rows.csv")),
            ..Default::default()
        };
        file.catalog = Some(Default::default());
        let request = resolve_request(file, overrides).unwrap();
        assert_eq!(request.compatibility, Compatibility::Trino);
        assert!(request.postgres.is_none());
        let err = resolve_request(config("/data/koku"), Overrides::default()).unwrap_err();
        assert_eq!(
            err.problem(),
            Some(&Problem::Setting("source.account".into()))
        );
    }

    #[test]
    fn the_account_is_the_schema_without_a_leading_acct_for_any_input() {
        // Spec §2: koku's Parquet path uses the schema name with any leading `acct` removed.
        let cases = [
            ("acct10001", "10001"),
            ("org1234567", "org1234567"),
            ("myacct", "myacct"),
        ];
        for (schema, account) in cases {
            assert_eq!(account_of_schema(schema), account);
            let overrides = Overrides {
                schema: Some(schema.to_string()),
                postgres_url: Some(DB.to_string()),
                ..Default::default()
            };
            let request = resolve_request(config("s3://koku-bucket"), overrides).unwrap();
            assert_eq!(request.account, account, "schema {schema}");
        }
    }

    #[test]
    fn the_lock_wait_and_s3_timeout_come_from_flag_file_or_default() {
        let request = resolve_request(config(DB), with_schema()).unwrap();
        assert_eq!(request.month_lock_wait, DEFAULT_MONTH_LOCK_WAIT);
        assert_eq!(
            request.s3.request_timeout, None,
            "object_store gets the default"
        );

        let mut file = config(DB);
        file.postgres.lock_wait_seconds = Some(30);
        file.source.s3_request_timeout_seconds = Some(2.5);
        let request = resolve_request(file.clone(), with_schema()).unwrap();
        assert_eq!(request.month_lock_wait, Duration::from_secs(30));
        assert_eq!(
            request.s3.request_timeout,
            Some(Duration::from_millis(2500))
        );

        let flag = Overrides {
            lock_wait_seconds: Some(0),
            ..with_schema()
        };
        let request = resolve_request(file, flag).unwrap();
        assert_eq!(request.month_lock_wait, Duration::ZERO, "the flag wins");
    }

    #[test]
    fn an_s3_timeout_must_be_a_positive_number_of_seconds() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let mut file = config(DB);
            file.source.s3_request_timeout_seconds = Some(bad);
            let err = resolve_request(file, with_schema()).unwrap_err();
            assert_eq!(
                err.problem(),
                Some(&Problem::Setting(
                    "source.s3_request_timeout_seconds".into()
                )),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_account_that_cannot_name_its_folder_is_refused() {
        // object_store percent-encodes these in a path: the folder koku wrote would not be listed.
        for account in ["a\"b", "50%", "x#1", "a/b", ""] {
            let overrides = Overrides {
                account: Some(account.to_string()),
                ..with_schema()
            };
            let err = resolve_request(config("s3://koku-bucket"), overrides).unwrap_err();
            assert_eq!(
                err.problem(),
                Some(&Problem::Setting("source.account".into())),
                "{account:?}"
            );
        }
        // Spaces, quotes and semicolons stay as written; koku's own accounts are plain.
        for account in ["org1234567", "10001", "a b'; c"] {
            let overrides = Overrides {
                account: Some(account.to_string()),
                postgres_url: Some(DB.to_string()),
                ..with_schema()
            };
            let request = resolve_request(config("s3://koku-bucket"), overrides).unwrap();
            assert_eq!(request.account, account);
        }
        // The on-prem tables are not read by folder: any schema will do.
        let overrides = Overrides {
            schema: Some("acct\"x".to_string()),
            ..Default::default()
        };
        assert!(resolve_request(config(DB), overrides).is_ok());
    }
}
