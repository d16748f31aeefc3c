//! `ocp-harness compare`: its arguments, their defaults, and the exit code. The run itself is
//! [`ocp_harness::pipeline::run_compare`].
//!
//! The oracle (`--oracle`) is the embedded DuckDB one by default, on the generated typical
//! cluster when no `--config` is given. The site oracles (`trino`, `koku-trino`,
//! `koku-postgres`) need `--config` naming the site's bucket and koku's PostgreSQL; their
//! settings come from flags, then environment variables, then `--oracle-config`
//! ([`ocp_harness::oracle::settings`]).
//!
//! Exit codes: the verdict's (0 GO, 1 NO-GO, 4 REVIEW), or 2 bad input, 3 infrastructure when no
//! report could be made.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use ocp_engine::config::ConfigFile;
use ocp_harness::compare::Tolerance;
use ocp_harness::oracle::settings::{KokuPostgresSection, TrinoSection};
use ocp_harness::oracle::{
    DuckDbOracle, KokuPostgresOracle, KokuPostgresSettings, Oracle, OracleConfigFile, OracleInput,
    TrinoKokuStagingOracle, TrinoOracle, TrinoSettings,
};
use ocp_harness::pipeline::{run_compare, CompareError, CompareRun};
use ocp_harness::report::terminal;
use ocp_harness::synth::Scale;

use crate::generate::{run_generate, GenerateArgs, SizeArgs};

/// The dataset compared when no --config is given, generated when missing.
const DEFAULT_DATA: &str = "data/typical";

#[derive(clap::Args)]
pub struct CompareArgs {
    /// Engine config file (engine.toml). For --oracle duckdb: a local folder of koku's Parquet
    /// with the catalog inline, as `generate` writes it; default data/typical/engine.toml,
    /// generated first (typical scale, seed 42) when missing. For the site oracles (required):
    /// the site's bucket (s3://…) and koku's PostgreSQL ([postgres] url and schema, no
    /// [catalog]), which the engine only reads.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// The oracle the engine's rows are compared with.
    #[arg(long, value_enum, default_value_t = OracleKind::Duckdb)]
    oracle: OracleKind,

    /// Largest relative error a value may have and still match (the absolute floor is 1e-9).
    #[arg(long, value_name = "RELATIVE", default_value_t = 1e-4, value_parser = parse_tolerance)]
    tolerance: f64,

    /// Folder the report goes under, in a subfolder named by the UTC start time
    /// (e.g. reports/20261124T131500Z/).
    #[arg(long, value_name = "DIR", default_value = "reports")]
    out_dir: PathBuf,

    /// Print only the verdict line and the files written, not the tables.
    #[arg(long, short)]
    quiet: bool,

    /// Settings of the site oracles: a TOML file with [trino] and [koku_postgres] sections
    /// (docs/operations.md). Environment variables (TRINO_*, KOKU_POSTGRES_*) win over it, and
    /// the flags below over both.
    #[arg(long, value_name = "FILE")]
    oracle_config: Option<PathBuf>,

    #[command(flatten)]
    trino: TrinoFlags,

    #[command(flatten)]
    koku_postgres: KokuPostgresFlags,
}

/// Flags of the Trino oracles; passwords and tokens only from TRINO_PASSWORD / TRINO_JWT or the
/// oracle config file, never flags (they would show in the process list).
#[derive(clap::Args)]
#[command(next_help_heading = "Trino (--oracle trino, koku-trino)")]
struct TrinoFlags {
    /// Trino coordinator, https://host:port [env TRINO_URL]
    #[arg(long, value_name = "URL")]
    trino_url: Option<String>,
    /// Trino user [env TRINO_USER]
    #[arg(long, value_name = "USER")]
    trino_user: Option<String>,
    /// Catalog of koku's Hive tables (default hive) [env TRINO_HIVE_CATALOG]
    #[arg(long, value_name = "CATALOG")]
    trino_hive_catalog: Option<String>,
    /// Schema of koku's Hive tables (default the tenant schema) [env TRINO_HIVE_SCHEMA]
    #[arg(long, value_name = "SCHEMA")]
    trino_hive_schema: Option<String>,
    /// Catalog over koku's PostgreSQL (default postgres) [env TRINO_POSTGRES_CATALOG]
    #[arg(long, value_name = "CATALOG")]
    trino_postgres_catalog: Option<String>,
    /// Schema of koku's tables in it (default the tenant schema) [env TRINO_POSTGRES_SCHEMA]
    #[arg(long, value_name = "SCHEMA")]
    trino_postgres_schema: Option<String>,
    /// PEM file of the CA that signed Trino's certificate [env TRINO_CA_FILE]
    #[arg(long, value_name = "FILE")]
    trino_ca_file: Option<PathBuf>,
    /// Skip TLS verification and allow credentials over http: test servers only
    /// [env TRINO_INSECURE]
    #[arg(long)]
    trino_insecure: bool,
}

impl TrinoFlags {
    fn section(&self) -> TrinoSection {
        TrinoSection {
            url: self.trino_url.clone(),
            user: self.trino_user.clone(),
            password: None,
            jwt: None,
            hive_catalog: self.trino_hive_catalog.clone(),
            hive_schema: self.trino_hive_schema.clone(),
            postgres_catalog: self.trino_postgres_catalog.clone(),
            postgres_schema: self.trino_postgres_schema.clone(),
            ca_file: self.trino_ca_file.clone(),
            insecure: self.trino_insecure.then_some(true),
        }
    }
}

/// Flags of the koku PostgreSQL oracle; by default the engine config's [postgres].
#[derive(clap::Args)]
#[command(next_help_heading = "koku's PostgreSQL rows (--oracle koku-postgres)")]
struct KokuPostgresFlags {
    /// koku's database, postgresql://user@host:port/db (prefer the variable when it holds a
    /// password) [env KOKU_POSTGRES_URL; default the engine config's]
    #[arg(long, value_name = "URL")]
    koku_postgres_url: Option<String>,
    /// koku's tenant schema [env KOKU_POSTGRES_SCHEMA; default the engine config's]
    #[arg(long, value_name = "SCHEMA")]
    koku_postgres_schema: Option<String>,
}

/// The oracles `compare` can run.
#[derive(Clone, Copy, Debug, PartialEq, clap::ValueEnum)]
pub enum OracleKind {
    /// The project's reference query (harness/sql/reference_summary.sql) on the pinned DuckDB CLI,
    /// over the same files; no server. Found, or installed by pip as `just oracle-setup` does.
    Duckdb,
    /// The same reference query on the site's Trino, over koku's Hive tables and its PostgreSQL
    /// catalog tables.
    Trino,
    /// The rows koku itself wrote to its Hive staging table, read through the site's Trino.
    KokuTrino,
    /// The rows koku itself wrote to PostgreSQL's reporting_ocpusagelineitem_daily_summary.
    KokuPostgres,
}

impl OracleKind {
    /// What the oracle reads, and so what the engine is given.
    fn input(self) -> OracleInput {
        match self {
            OracleKind::Duckdb => OracleInput::LocalFiles,
            OracleKind::Trino | OracleKind::KokuTrino | OracleKind::KokuPostgres => {
                OracleInput::Site
            }
        }
    }

    /// The oracle, its settings resolved from `args` (engine config `config` for the koku
    /// PostgreSQL defaults).
    fn open(self, args: &CompareArgs, config: &Path) -> Result<Box<dyn Oracle>, CompareError> {
        Ok(match self {
            OracleKind::Duckdb => Box::new(DuckDbOracle::locate()?),
            OracleKind::Trino => Box::new(TrinoOracle::new(trino_settings(args)?)?),
            OracleKind::KokuTrino => Box::new(TrinoKokuStagingOracle::new(trino_settings(args)?)?),
            OracleKind::KokuPostgres => {
                let (url, schema) = koku_postgres_settings(args, config)?;
                Box::new(KokuPostgresOracle::new(KokuPostgresSettings {
                    url,
                    schema,
                }))
            }
        })
    }
}

/// The oracle config file of `args`, or an empty one.
fn oracle_config(args: &CompareArgs) -> Result<OracleConfigFile, CompareError> {
    Ok(match &args.oracle_config {
        Some(path) => OracleConfigFile::load(path)?,
        None => OracleConfigFile::default(),
    })
}

/// Trino's settings: flags, then TRINO_* variables, then the oracle config file.
fn trino_settings(args: &CompareArgs) -> Result<TrinoSettings, CompareError> {
    let env = TrinoSection::from_env(|name| std::env::var(name).ok())?;
    let file = oracle_config(args)?.trino;
    Ok(TrinoSettings::resolve(
        args.trino.section().or(env).or(file),
    )?)
}

/// koku's PostgreSQL URL and schema: flags, then KOKU_POSTGRES_* variables, then the oracle
/// config file, then the engine config's [postgres] (its URL from OCP_ENGINE_POSTGRES_URL when
/// set, as the engine reads it).
fn koku_postgres_settings(
    args: &CompareArgs,
    config: &Path,
) -> Result<(String, String), CompareError> {
    let flags = KokuPostgresSection {
        url: args.koku_postgres.koku_postgres_url.clone(),
        schema: args.koku_postgres.koku_postgres_schema.clone(),
    };
    let env = KokuPostgresSection::from_env(|name| std::env::var(name).ok());
    let file = oracle_config(args)?.koku_postgres;
    let engine = ConfigFile::load(config)?.postgres;
    let engine = KokuPostgresSection {
        url: std::env::var("OCP_ENGINE_POSTGRES_URL")
            .ok()
            .filter(|url| !url.is_empty())
            .or(engine.url),
        schema: engine.schema,
    };
    Ok(flags.or(env).or(file).or(engine).resolve()?)
}

fn parse_tolerance(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "{text:?} is not a relative error (a number ≥ 0, e.g. 1e-4)"
        )),
    }
}

/// Runs `compare`; the exit code is the verdict's, or 2/3 when no report could be made.
pub fn run(args: &CompareArgs) -> ExitCode {
    match compare(args) {
        Ok(code) => ExitCode::from(code),
        Err((code, message)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

fn compare(args: &CompareArgs) -> Result<u8, (u8, String)> {
    let fail = |e: CompareError| (e.exit_code() as u8, e.to_string());
    let input = args.oracle.input();
    let config = match (&args.config, input) {
        (Some(path), _) => path.clone(),
        (None, OracleInput::LocalFiles) => default_config().map_err(|message| (3, message))?,
        (None, OracleInput::Site) => {
            return Err((
                2,
                "the site oracles need --config FILE naming the site's bucket and koku's \
                 PostgreSQL (docs/operations.md, \"Comparing with Trino at a site\")"
                    .to_string(),
            ))
        }
    };
    let oracle = args.oracle.open(args, &config).map_err(fail)?;
    let started_at = Utc::now();
    let report_dir = fresh_dir(&args.out_dir, started_at);
    let outcome = run_compare(&CompareRun {
        config: &config,
        oracle: oracle.as_ref(),
        input,
        tolerance: Tolerance {
            relative: args.tolerance,
            ..Tolerance::default()
        },
        report_dir: &report_dir,
        started_at,
    })
    .map_err(fail)?;
    if args.quiet {
        print!("{}", terminal::banner(&outcome.report));
    } else {
        print!("{}", terminal::render(&outcome.report));
    }
    println!("\nWritten:");
    for file in &outcome.files {
        println!("  {}", file.display());
    }
    Ok(outcome.report.verdict.exit_code() as u8)
}

/// data/typical/engine.toml, generating the typical cluster (seed 42) there when it is missing.
fn default_config() -> Result<PathBuf, String> {
    let data = PathBuf::from(DEFAULT_DATA);
    let config = data.join("engine.toml");
    if !config.exists() {
        run_generate(&GenerateArgs::seed_42(
            Scale::Typical,
            SizeArgs::default(),
            data,
        ))?;
    }
    Ok(config)
}

/// `out_dir/<UTC start, e.g. 20261124T131500Z>`, with `-2`, `-3`… when that folder exists.
fn fresh_dir(out_dir: &Path, started_at: DateTime<Utc>) -> PathBuf {
    let stamp = started_at.format("%Y%m%dT%H%M%SZ").to_string();
    std::iter::once(stamp.clone())
        .chain((2..).map(|n| format!("{stamp}-{n}")))
        .map(|name| out_dir.join(name))
        .find(|dir| !dir.exists())
        .expect("an unused name exists")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_report_folder_is_the_utc_start_and_never_an_existing_one() {
        let out = tempfile::tempdir().unwrap();
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 13, 15, 0).unwrap();
        let first = fresh_dir(out.path(), at);
        assert_eq!(first, out.path().join("20261124T131500Z"));
        std::fs::create_dir(&first).unwrap();
        assert_eq!(
            fresh_dir(out.path(), at),
            out.path().join("20261124T131500Z-2")
        );
    }

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: CompareArgs,
    }

    #[test]
    fn the_site_flags_parse_into_the_oracles_settings() {
        use clap::{CommandFactory, Parser};
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "compare",
            "--oracle",
            "koku-trino",
            "--trino-url",
            "https://trino:8443",
            "--trino-user",
            "reader",
            "--trino-postgres-catalog",
            "kokudb",
            "--trino-insecure",
            "--koku-postgres-schema",
            "org1",
        ])
        .unwrap();
        let args = cli.args;
        assert_eq!(args.oracle, OracleKind::KokuTrino);
        assert_eq!(args.oracle.input(), OracleInput::Site);
        let section = args.trino.section();
        assert_eq!(section.url.as_deref(), Some("https://trino:8443"));
        assert_eq!(section.postgres_catalog.as_deref(), Some("kokudb"));
        assert_eq!(section.insecure, Some(true));
        assert_eq!(
            args.koku_postgres.koku_postgres_schema.as_deref(),
            Some("org1")
        );
        let default = Cli::try_parse_from(["compare"]).unwrap().args;
        assert_eq!(default.oracle.input(), OracleInput::LocalFiles);
        assert_eq!(default.trino.section().insecure, None);
    }

    #[test]
    fn a_tolerance_is_a_finite_non_negative_number() {
        assert_eq!(parse_tolerance("1e-4"), Ok(1e-4));
        assert_eq!(parse_tolerance("0"), Ok(0.0));
        for bad in ["-1", "NaN", "inf", "x"] {
            assert!(parse_tolerance(bad).is_err(), "{bad}");
        }
    }
}
