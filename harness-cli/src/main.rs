//! `ocp-harness`: tools around ocp-engine. `generate` writes a synthetic OpenShift cluster as the
//! Parquet files koku would hold for it, plus an engine config file pointing at them;
//! `ingest-nise` does the same from the CSVs koku's test-data generator nise writes; `compare`
//! runs engine and oracle on one and writes the go/no-go report; `load-onprem` puts a Parquet
//! tree into koku's on-prem PostgreSQL tables; `bench` times the engine; `nightly-report`
//! assembles and judges one night of `just nightly`.

mod bench_command;
mod compare_command;
mod generate;
mod ingest_nise;
mod load_onprem;
mod nightly_command;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use bench_command::{run_bench, BenchArgs};
use generate::{run_generate, GenerateArgs};
use ingest_nise::{run_ingest_nise, IngestNiseArgs};
use load_onprem::{run_load, LoadArgs};

#[derive(Parser)]
#[command(
    name = "ocp-harness",
    version,
    about = "Synthetic koku data and checks for ocp-engine",
    long_about = "Synthetic koku data and checks for ocp-engine, the Trino-free replacement of \
                  koku's OpenShift daily summary (reporting_ocpusagelineitem_daily_summary)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a synthetic OpenShift cluster as koku's Parquet files, plus an engine.toml.
    #[command(
        long_about = "Write a synthetic OpenShift cluster as the Parquet files koku's \
        MASU processor would have written to S3 after ingesting the cost-management-metrics-operator's \
        daily reports: pod usage, storage usage, node labels and namespace labels, hourly and daily \
        tables, one file per day, under DIR/data/parquet/... exactly as in koku's bucket. Also \
        writes DIR/engine.toml, an ocp-engine config that reads those files (source location \
        \".\"), with the cluster's enabled tag keys, cost-category namespaces and existing \
        reporting_ocp_nodes rows inline, so `ocp-engine \
        --config DIR/engine.toml` needs no PostgreSQL catalog."
    )]
    Generate(GenerateArgs),
    /// Load a koku Parquet tree into koku's on-prem line-item tables in PostgreSQL.
    #[command(
        long_about = "Load the Parquet files of a koku data/ tree (what `generate` wrote, or \
        koku's own) into koku's on-prem line-item tables (openshift_pod_usage_line_items and the \
        four daily tables the summary reads) in a tenant schema, as koku's on-prem ingest writes \
        them: the same columns, plus usage_start, source, year and month, range-partitioned by \
        usage_start, one partition per month. Creates the schema and tables when missing; rows \
        already there stay, so load a source's month once. Then `ocp-engine aggregate --input \
        postgresql://… --schema S` summarises it from PostgreSQL."
    )]
    LoadOnprem(LoadArgs),
    /// Convert nise's OpenShift CSVs to koku's Parquet files, plus an engine.toml.
    #[command(
        long_about = "Convert the OpenShift CSV reports of nise (koku's test-data generator, \
        PyPI koku-nise 5.4.4; `nise report ocp ... -w` writes them) into the Parquet files koku's \
        MASU processor writes from them: koku's ingest rules (column types, empty values, label \
        text as JSON, anomaly filter, effective usage, the daily tables) applied by the harness's \
        own code, one file per table and day under DIR/data/parquet/... as in koku's bucket. Also \
        writes DIR/engine.toml with the cluster's identity and an inline catalog (enabled label \
        keys per --enabled-keys, koku's default cost categories, no reporting_ocp_nodes rows), so \
        `ocp-engine aggregate --config DIR/engine.toml` and `ocp-harness compare --config \
        DIR/engine.toml` run on it."
    )]
    IngestNise(IngestNiseArgs),
    /// Time and peak memory of the release engine on a generated month, beside DuckDB.
    #[command(
        long_about = "Time and peak memory of the ocp-engine binary on a generated month, local \
        Parquet to PostgreSQL, side by side with DuckDB. Generates the cluster into --data if it \
        is not there (--scale, resized by --nodes, --pods, --days), creates a fresh schema with \
        koku's tables, then runs one warm-up round and --rounds rounds of, back to back on the \
        same month: decoding every Parquet file once on one thread (the yardstick); `ocp-engine \
        aggregate` writing to PostgreSQL; the engine writing the same rows to a Parquet file; \
        the DuckDB CLI 1.5.6 running the reference query over the same files into a Parquet \
        file (unless --no-duckdb; the two files must hold as many rows); and PostgreSQL's own \
        binary COPY FROM STDIN of the rows the engine wrote into a scratch table (the write \
        yardstick). Prints medians per phase (from the engine's own report), end to end (each \
        process's wall clock), each process's own peak RSS, and the ratios: engine / yardstick, \
        engine to file / DuckDB (time and memory), engine write phase / COPY FROM. With --trino \
        and --postgres-source it adds the local Trino and the engine reading koku's on-prem \
        tables. The summary also goes to --json. PostgreSQL: --postgres-url, else \
        127.0.0.1:5432 when it answers, else a throwaway cluster started from the machine's \
        PostgreSQL binaries."
    )]
    Bench(BenchArgs),
    /// Engine against an oracle on one dataset: the go/no-go report, its verdict as exit code.
    #[command(
        long_about = "Run the engine in-process and an oracle on the dataset an engine.toml names, \
        compare their rows, and render the go/no-go report. Oracles (--oracle): duckdb, the \
        reference query on an embedded DuckDB (default; dataset default: the generated typical \
        cluster in data/typical, generated when missing); trino, the same query on the site's \
        Trino; koku-trino and koku-postgres, the rows koku itself wrote (its Hive staging table \
        through Trino, its PostgreSQL table). The report has the verdict, \
        the run's identity, the criteria (end-to-end time, peak memory, worst relative \
        difference) against the go and no-go bars, time and memory per phase, the comparison and \
        the totals. Prints it as tables and writes report.txt, report.md, report.html \
        (self-contained, with charts) and report.json, with the engine's rows, under \
        --out-dir/<UTC timestamp>/.\n\n\
        Exit codes: 0 GO, 1 NO-GO, 4 REVIEW; 2 bad input and 3 infrastructure failure (no \
        report)."
    )]
    Compare(Box<compare_command::CompareArgs>),
    /// Assemble one night of `just nightly`: night.json, index.md, index.html, the history line.
    #[command(
        long_about = "Read the folder `just nightly` wrote for one night (run.json, steps.jsonl, \
        bench-<scale>.json, compare-<name>/, criterion/, mutants.json) into one record, put it \
        into the history (JSON Lines, one night per date: a night of the same date is replaced), \
        and write night.json, index.md and index.html (trend charts of this night against the \
        earlier ones, and this night's tables) into the folder.\n\n\
        The night fails on any failed step, any compare that is not GO, any file that cannot be \
        read, and any judged ratio (engine / yardstick, engine / DuckDB time and memory, write / \
        COPY, per scale) more than 15 % above the median of the last five earlier nights that \
        have it (of those there are when fewer; not judged with none).\n\n\
        Exit codes: 0 passed, 1 failed (each reason printed), 2 nothing could be assembled."
    )]
    NightlyReport(nightly_command::NightlyReportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => run_generate(&args),
        Command::LoadOnprem(args) => run_load(&args),
        Command::IngestNise(args) => run_ingest_nise(&args),
        Command::Bench(args) => run_bench(&args),
        Command::Compare(args) => return compare_command::run(&args),
        Command::NightlyReport(args) => return nightly_command::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
