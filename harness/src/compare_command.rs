//! `ocp-harness compare`: its arguments, their defaults, and the exit code. The run itself is
//! [`ocp_harness::report::flow::run_compare`].
//!
//! Exit codes: the verdict's (0 GO, 1 NO-GO, 4 REVIEW), or 2 bad input, 3 infrastructure when no
//! report could be made.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use ocp_harness::compare::Tolerance;
use ocp_harness::oracle::{DuckDbOracle, Oracle};
use ocp_harness::report::flow::{run_compare, CompareError, CompareRun};
use ocp_harness::report::terminal;
use ocp_harness::synth::Scale;

use crate::{run_generate, GenerateArgs};

/// The dataset compared when no --config is given, generated when missing.
const DEFAULT_DATA: &str = "data/typical";

#[derive(clap::Args)]
pub struct CompareArgs {
    /// Engine config file (engine.toml) naming a local folder of koku's Parquet, with the catalog
    /// inline, as `generate` writes it. Default: data/typical/engine.toml, generated first
    /// (typical scale, seed 42) when missing.
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
}

/// The oracles `compare` can run.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum OracleKind {
    /// The project's reference query (harness/sql/reference_summary.sql) on the pinned DuckDB CLI,
    /// over the same files; no server. Found, or installed by pip as `just oracle-setup` does.
    Duckdb,
}

impl OracleKind {
    fn open(self) -> Result<Box<dyn Oracle>, CompareError> {
        match self {
            OracleKind::Duckdb => Ok(Box::new(DuckDbOracle::locate()?)),
        }
    }
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
    let config = match &args.config {
        Some(path) => path.clone(),
        None => default_config().map_err(|message| (3, message))?,
    };
    let oracle = args.oracle.open().map_err(fail)?;
    let started_at = Utc::now();
    let report_dir = fresh_dir(&args.out_dir, started_at);
    let outcome = run_compare(&CompareRun {
        config: &config,
        oracle: oracle.as_ref(),
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
        run_generate(&GenerateArgs {
            scale: Scale::Typical,
            seed: 42,
            out: data,
            overwrite: true,
        })?;
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

    #[test]
    fn a_tolerance_is_a_finite_non_negative_number() {
        assert_eq!(parse_tolerance("1e-4"), Ok(1e-4));
        assert_eq!(parse_tolerance("0"), Ok(0.0));
        for bad in ["-1", "NaN", "inf", "x"] {
            assert!(parse_tolerance(bad).is_err(), "{bad}");
        }
    }
}
