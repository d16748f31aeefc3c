//! Flags, config file and environment resolved into a [`RunRequest`]; the report printed.
//!
//! Exit codes: 0 success, 2 bad input (flags, config, Parquet, labels), 3 infrastructure
//! (PostgreSQL, S3, disk), 1 an internal error.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use tokio::signal::unix::{signal, SignalKind};
use uuid::Uuid;

use ocp_engine::compat::Compatibility;
use ocp_engine::config::ConfigFile;
use ocp_engine::error::{Error, Result, Service};
use ocp_engine::postgres::koku_tables_sql;
use ocp_engine::resolve::{resolve_request, Overrides};
use ocp_engine::run::{run, CatalogSource, Output, RunObserver, RunReport, RunRequest};
use ocp_engine::source::Source;

use crate::events::{self, LogFormat, RunLog};

#[derive(Parser)]
#[command(
    name = "ocp-engine",
    version,
    about = "Computes koku's OpenShift daily summary (reporting_ocpusagelineitem_daily_summary) \
             from koku's Parquet or on-prem line-item tables, without Trino.",
    long_about = "Computes the rows that koku's Trino script reporting_ocpusagelineitem_daily_summary.sql \
                  writes for one OpenShift source and a date range inside one month, from the same \
                  Parquet files (S3/MinIO or a local folder) or, on-prem, from koku's line-item tables \
                  in PostgreSQL (--input postgresql://…), and writes them to koku's PostgreSQL \
                  table in one transaction (deleting the rows koku would delete first) or to a file.\n\n\
                  Settings come from --config FILE, then OCP_ENGINE_* environment variables, then flags \
                  (later wins). S3 credentials come from the usual AWS_* variables.\n\n\
                  Exit codes: 0 success, 2 bad input, 3 infrastructure failure (PostgreSQL, S3, disk)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Summarise one source for a date range (Pod rows) and write the rows.
    #[command(
        long_about = "Summarise one OpenShift source for a date range inside one month, as koku's \
        Trino script does, and write the rows of reporting_ocpusagelineitem_daily_summary: to \
        PostgreSQL (--postgres-url and --schema; in one transaction, after deleting the rows koku \
        would delete for the report period and dates; rows with infrastructure_raw_cost stay) or \
        to a .parquet/.csv file (--out).\n\n\
        Settings come from --config FILE, then OCP_ENGINE_* environment variables, then flags \
        (later wins); see docs/operations.md. The report period and cluster are looked up in \
        reporting_ocpusagereportperiod when not given. S3 credentials come from AWS_* variables \
        or the config's [source] section.\n\n\
        On-prem (koku without Parquet), --input postgresql://… reads koku's line-item tables \
        (openshift_pod_usage_line_items and the four daily tables) in the --schema of that \
        database; the rows then go to the same database unless --postgres-url or --out says \
        otherwise, and the compatibility defaults to koku's PostgreSQL port.\n\n\
        Exit codes: 0 rows written, 2 bad input (settings, a Parquet file or table, a label text, \
        no pod-usage data: the message names the file or table, column or setting), 3 \
        infrastructure failure (PostgreSQL, S3, disk: nothing was written)."
    )]
    Aggregate(Box<AggregateArgs>),
    /// Print the DDL of the koku tables the engine reads and writes, for a schema.
    Ddl {
        /// Tenant schema to create the tables in.
        #[arg(long, env = "OCP_ENGINE_SCHEMA")]
        schema: String,
    },
}

#[derive(Args)]
struct AggregateArgs {
    /// TOML config file (see docs/operations.md); flags and environment override it.
    #[arg(long, short, env = "OCP_ENGINE_CONFIG")]
    config: Option<PathBuf>,
    /// Where koku's line items are: a local folder or s3://BUCKET[/PREFIX] holding koku's data/
    /// tree, or postgresql://… for koku's on-prem line-item tables (in the --schema).
    #[arg(long, env = "OCP_ENGINE_INPUT")]
    input: Option<String>,
    /// S3 endpoint URL for MinIO or another S3-compatible server (else AWS_ENDPOINT).
    #[arg(long, env = "OCP_ENGINE_S3_ENDPOINT")]
    s3_endpoint: Option<String>,
    /// koku's account folder: the tenant schema without a leading "acct" (e.g. org1234567);
    /// the schema by default when the input is PostgreSQL.
    #[arg(long, env = "OCP_ENGINE_ACCOUNT")]
    account: Option<String>,
    /// The OpenShift source (provider) UUID.
    #[arg(long = "source", env = "OCP_ENGINE_SOURCE")]
    source_uuid: Option<Uuid>,
    /// First day to summarise (YYYY-MM-DD).
    #[arg(long)]
    start: Option<NaiveDate>,
    /// Last day to summarise, inclusive, in the same month (YYYY-MM-DD).
    #[arg(long)]
    end: Option<NaiveDate>,
    /// reporting_ocpusagereportperiod.id of the rows; looked up in PostgreSQL when omitted.
    #[arg(long)]
    report_period_id: Option<i32>,
    /// cluster_id written on every row; from the report period when omitted.
    #[arg(long)]
    cluster_id: Option<String>,
    /// cluster_alias written on every row; from the report period when omitted.
    #[arg(long)]
    cluster_alias: Option<String>,
    /// PostgreSQL URL (catalog and sink), e.g. postgresql://koku@db:5432/koku; the input's
    /// when the input is PostgreSQL.
    #[arg(long, env = "OCP_ENGINE_POSTGRES_URL")]
    postgres_url: Option<String>,
    /// koku tenant schema in PostgreSQL (e.g. org1234567): catalog, sink and on-prem tables.
    #[arg(long, env = "OCP_ENGINE_SCHEMA")]
    schema: Option<String>,
    /// Write the rows to this .parquet or .csv file instead of PostgreSQL.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Which koku to reproduce: "trino" (koku's Trino SQL, the default for Parquet) or
    /// "postgres" (koku's on-prem PostgreSQL port, the default for a PostgreSQL input; it differs
    /// in a few NULL and rounding cases: docs/semantics.md). Else summary.compatibility in the
    /// config file.
    #[arg(long, env = "OCP_ENGINE_COMPATIBILITY", value_name = "trino|postgres")]
    compatibility: Option<Compatibility>,
    /// Seconds to wait when another run is writing the same source and month to PostgreSQL
    /// (runs of one month go one at a time; other sources and months never wait); 0 fails at
    /// once. Else postgres.lock_wait_seconds in the config file; 600 by default.
    #[arg(long, env = "OCP_ENGINE_LOCK_WAIT", value_name = "SECONDS")]
    lock_wait: Option<u64>,
    /// No progress bar, only the final report.
    #[arg(long, short)]
    quiet: bool,
    /// Also write the run's report (run id, files, rows, seconds and peak memory per phase) as
    /// JSON to this file, for benchmarks and monitoring.
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
    /// text: a progress bar and a report for people. json: one JSON object per event on stderr
    /// (run_started, phase_finished, run_finished with the report, run_failed with the error's
    /// kind), with koku's context fields, and nothing on stdout (docs/operations.md "Logs").
    #[arg(long, env = "OCP_ENGINE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// koku's tracing id, carried on every JSON event.
    #[arg(long, env = "OCP_ENGINE_TRACING_ID")]
    tracing_id: Option<String>,
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        Command::Ddl { schema } => {
            println!("{}", koku_tables_sql(&schema));
            0
        }
        Command::Aggregate(args) => {
            let log = Arc::new(RunLog::new(
                args.log_format,
                args.tracing_id.as_deref(),
                args.quiet,
            ));
            match aggregate(*args, &log) {
                Ok(()) => 0,
                Err(error) => {
                    log.failed(&error);
                    error.exit_code()
                }
            }
        }
    }
}

fn aggregate(args: AggregateArgs, log: &Arc<RunLog>) -> Result<()> {
    let report_json = args.report_json.clone();
    let request = Arc::new(resolve(args)?);
    log.set_request(&request);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Error::infrastructure(
                Service::Host,
                format!("cannot start the async runtime: {e}"),
            )
        })?;
    let report = runtime.block_on(run_until_stopped(request.clone(), log.clone()));
    // A stopped run's task may still be computing: leave it to the process's exit, which
    // also closes its PostgreSQL connection, and so rolls its transaction back.
    runtime.shutdown_background();
    log.progress().finish_and_clear();
    let report = report?;
    log.finished(&request, &report);
    if log.is_text() {
        print_report(&request, &report);
    }
    if let Some(path) = report_json {
        let text = serde_json::to_string_pretty(&events::report_json(&request, &report))
            .expect("a JSON value serialises");
        std::fs::write(&path, text).map_err(|e| {
            Error::infrastructure(
                Service::FileSystem,
                format!(
                    "the rows are written, but the report cannot be written to {}: {e}",
                    path.display()
                ),
            )
        })?;
    }
    Ok(())
}

/// Runs `request` on a task of its own, so that SIGTERM (a worker's shutdown) or SIGINT
/// (Ctrl-C) stops it even in the middle of computing: the run is then abandoned with an
/// infrastructure error (re-running will do), its open transaction, if any, rolled back by
/// PostgreSQL when the process ends; the month keeps the rows of its last committed run.
async fn run_until_stopped(request: Arc<RunRequest>, log: Arc<RunLog>) -> Result<RunReport> {
    let listen = |kind: SignalKind| {
        signal(kind).map_err(|e| {
            Error::infrastructure(Service::Host, format!("cannot listen for signals: {e}"))
        })
    };
    let mut terminate = listen(SignalKind::terminate())?;
    let mut interrupt = listen(SignalKind::interrupt())?;
    let task = tokio::spawn(async move { run(&request, &*log).await });
    let stopped = |name: &str| {
        Error::infrastructure(
            Service::Host,
            format!(
                "stopped by {name} before the run finished: a write not yet committed is rolled \
                 back, so the month holds the rows of its last committed run. Run it again."
            ),
        )
    };
    tokio::select! {
        biased;
        finished = task => finished
            .map_err(|e| Error::Internal(format!("the run's task ended abnormally: {e}")))?,
        _ = terminate.recv() => Err(stopped("SIGTERM")),
        _ = interrupt.recv() => Err(stopped("SIGINT")),
    }
}

/// Config file first, then flags and environment (clap merges those two).
fn resolve(args: AggregateArgs) -> Result<RunRequest> {
    let file = match &args.config {
        Some(path) => ConfigFile::load(path)?,
        None => ConfigFile::default(),
    };
    let overrides = Overrides {
        input: args.input,
        s3_endpoint: args.s3_endpoint,
        account: args.account,
        source_uuid: args.source_uuid,
        start: args.start,
        end: args.end,
        report_period_id: args.report_period_id,
        cluster_id: args.cluster_id,
        cluster_alias: args.cluster_alias,
        postgres_url: args.postgres_url,
        schema: args.schema,
        out: args.out,
        compatibility: args.compatibility,
        lock_wait_seconds: args.lock_wait,
    };
    resolve_request(file, overrides)
}

fn print_report(request: &RunRequest, report: &RunReport) {
    let mib = |bytes: Option<u64>| {
        bytes.map_or("n/a".to_string(), |b| {
            format!("{:.1} MiB", b as f64 / 1048576.0)
        })
    };
    println!(
        "ocp-engine {} run {}",
        env!("CARGO_PKG_VERSION"),
        report.run_id
    );
    println!(
        "source {} days {}..{} (requested start {})",
        request.source_uuid, report.effective_start, report.end, request.start
    );
    match &request.catalog {
        CatalogSource::Inline(_) => println!("catalog: the config file's [catalog] table"),
        CatalogSource::Postgres => println!(
            "catalog: koku's tables in PostgreSQL schema {}",
            request.postgres.as_ref().map_or("", |p| p.schema.as_str())
        ),
    }
    let variant = match request.compatibility {
        Compatibility::Trino => "koku's Trino SQL",
        Compatibility::Postgres => "koku's on-prem PostgreSQL port",
    };
    println!(
        "reproducing: {variant} (--compatibility {})",
        request.compatibility
    );
    let from_tables = Source::is_postgres(&request.location);
    for (table, files) in &report.files_per_table {
        match (from_tables, files) {
            (true, 0) => println!("  no rows of the source in {table}"),
            (true, _) => println!("  read the on-prem table {table}"),
            (false, _) => println!("  read {files:>4} files of {table}"),
        }
    }
    let rows: Vec<String> = report
        .rows_per_data_source
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let destination = match &request.output {
        Output::File(path) => path.display().to_string(),
        Output::Postgres => format!(
            "PostgreSQL schema {} ({} old rows deleted)",
            request.postgres.as_ref().map_or("", |p| p.schema.as_str()),
            report.rows_deleted
        ),
    };
    println!(
        "rows: {} → {destination}",
        if rows.is_empty() {
            "none".to_string()
        } else {
            rows.join(", ")
        }
    );
    println!("{:<10} {:>10} {:>12}", "phase", "seconds", "peak RSS");
    for phase in &report.phases {
        println!(
            "{:<10} {:>10.3} {:>12}",
            phase.name,
            phase.elapsed.as_secs_f64(),
            mib(phase.peak_rss_bytes)
        );
    }
    println!(
        "{:<10} {:>10.3} {:>12}",
        "total",
        report.elapsed.as_secs_f64(),
        mib(report.peak_rss_bytes())
    );
}
