//! `ocp-harness`: tools around ocp-engine. `generate` writes a synthetic OpenShift cluster as the
//! Parquet files koku would hold for it, plus an engine config file pointing at them; `compare`
//! runs engine and oracle on one and writes the go/no-go report.

mod compare_command;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand};
use ocp_harness::bench;
use ocp_harness::scenario::engine_config;
use ocp_harness::synth::parquet_writer::REPORT_TYPES;
use ocp_harness::synth::{generate, table_dir, write_cluster, ClusterModel, Scale};
use ocp_harness::testkit::fresh_schema;

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
    /// Time and peak memory of the release engine on a generated month, to PostgreSQL.
    #[command(
        long_about = "Time and peak memory of the ocp-engine binary on a generated month, local \
        Parquet to PostgreSQL. Generates the cluster into --data if it is not there, creates a \
        fresh schema with koku's tables, then runs --rounds rounds of: decoding every Parquet \
        file once on one thread (the yardstick), and `ocp-engine aggregate` writing to \
        PostgreSQL. Prints medians per phase (from the engine's own report), end to end (the \
        process's wall clock), peak RSS, and the engine/yardstick ratio, which is the figure to \
        compare across machines. PostgreSQL: --postgres-url, else 127.0.0.1:5432 when it \
        answers, else a throwaway cluster started from the machine's PostgreSQL binaries."
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
}

#[derive(clap::Args)]
struct BenchArgs {
    /// Cluster size (see `generate --help`).
    #[arg(long, value_name = "SCALE", default_value = "typical",
        value_parser = PossibleValuesParser::new(["tiny", "typical", "large"])
            .map(|s| s.parse::<Scale>().expect("listed scale parses")))]
    scale: Scale,

    /// Rounds to measure, after one warm-up round that is not counted.
    #[arg(long, value_name = "N", default_value_t = 5,
        value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,

    /// Folder of the generated cluster (seed 42); generated when it holds no engine.toml.
    /// Default: data/bench-SCALE.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,

    /// The engine binary. Default: ocp-engine next to this program (build both with
    /// `cargo build --release`).
    #[arg(long, value_name = "FILE")]
    engine: Option<PathBuf>,

    /// PostgreSQL to write to (a fresh schema is created in it).
    #[arg(long, value_name = "URL", env = "OCP_BENCH_POSTGRES_URL")]
    postgres_url: Option<String>,

    /// Where to write the summary as JSON. Default: reports/bench-SCALE.json.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,

    /// Also run the month on the local Trino each round (installed by `just trino-setup`,
    /// started here; heap OCP_TRINO_HEAP, default 2G): the reference query, Trino's own time,
    /// and engine / Trino.
    #[arg(long)]
    trino: bool,
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// Cluster size. tiny: 3 nodes, 4 namespaces, 12 pods, 3 days (2026-09-01..03), every pod
    /// every hour, a claim or two and a claimless volume. typical: 50 nodes, 25 namespaces, 500
    /// pods, 30 days (September 2026), with pods that run only part of the month, a few pods
    /// without a node, node and namespace labels that change mid-day, claims in every
    /// namespace, shared, claimless and podless volumes, operator node roles and rows already
    /// in reporting_ocp_nodes. large: 250 nodes, 5000 pods, 30 days, for benchmarks.
    #[arg(
        long,
        value_name = "SCALE",
        value_parser = PossibleValuesParser::new(["tiny", "typical", "large"])
            .map(|s| s.parse::<Scale>().expect("listed scale parses")),
    )]
    scale: Scale,

    /// Random seed. The same scale and seed give exactly the same cluster (same source UUID,
    /// nodes, pods and usage) on every machine; change it for a different cluster.
    #[arg(long, value_name = "N", default_value_t = 42)]
    seed: u64,

    /// Folder to write into; it plays the root of koku's S3 bucket (files go to
    /// DIR/data/parquet/{account}/OCP/... and DIR/data/parquet/daily/...). Created if missing.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    /// Replace data a previous run wrote in DIR for the same source. Without it, generate refuses
    /// to write into a DIR that already holds a data/ folder.
    #[arg(long)]
    overwrite: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => run_generate(&args),
        Command::Bench(args) => run_bench(&args),
        Command::Compare(args) => return compare_command::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run_generate(args: &GenerateArgs) -> Result<(), String> {
    let started = Instant::now();
    let model = generate(args.scale, args.seed);
    let out = &args.out;
    if out.exists() && !out.is_dir() {
        return Err(format!(
            "--out {} exists and is not a folder; pick a folder to write into",
            out.display()
        ));
    }
    if out.join("data").exists() {
        if !args.overwrite {
            return Err(format!(
                "{} already holds a data/ folder; choose an empty folder, or pass --overwrite to \
                 replace this source's files",
                out.display()
            ));
        }
        remove_previous(&model, out)?;
    }
    std::fs::create_dir_all(out)
        .map_err(|e| format!("cannot create output folder {}: {e}", out.display()))?;

    let written = write_cluster(&model, out).map_err(|e| e.to_string())?;
    let config_path = out.join("engine.toml");
    std::fs::write(&config_path, engine_config(&model).to_toml())
        .map_err(|e| format!("cannot write {}: {e}", config_path.display()))?;

    let nodeless = model.pods.iter().filter(|p| p.node.is_empty()).count();
    println!(
        "Generated {} cluster (seed {}): {} nodes, {} namespaces, {} pods ({} without a node), {}..{}",
        args.scale,
        args.seed,
        model.nodes.len(),
        model.namespaces.len(),
        model.pods.len(),
        nodeless,
        model.first_date(),
        model.last_date(),
    );
    println!(
        "  account {}, source {}, cluster {}",
        model.account, model.source_uuid, model.cluster_id
    );
    for table in &written.tables {
        println!(
            "  {:<45} {:>5} files {:>10} rows",
            table.table_name(),
            table.files,
            table.rows
        );
    }
    println!("  engine config: {}", config_path.display());
    println!(
        "Wrote {} files in {:.1} s",
        written.files(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn run_bench(args: &BenchArgs) -> Result<(), String> {
    let scale = args.scale.to_string();
    let data = args
        .data
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("data/bench-{scale}")));
    let config = data.join("engine.toml");
    if !config.exists() {
        run_generate(&GenerateArgs {
            scale: args.scale,
            seed: 42,
            out: data.clone(),
            overwrite: true,
        })?;
    }
    let engine = match &args.engine {
        Some(path) => path.clone(),
        None => std::env::current_exe()
            .map_err(|e| format!("cannot locate this program: {e}"))?
            .with_file_name("ocp-engine"),
    };
    if !engine.is_file() {
        return Err(format!(
            "no engine binary at {}: build it with `cargo build --release -p ocp-engine`, or \
             pass --engine",
            engine.display()
        ));
    }
    let postgres_url = match &args.postgres_url {
        Some(url) => url.clone(),
        None => ocp_harness::testkit::server_url().to_string(),
    };
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let schema = runtime.block_on(async { fresh_schema("bench").await.1 });
    let (files, bytes) = bench::parquet_files(&data.join("data"))
        .map_err(|e| format!("cannot list {}: {e}", data.display()))?;
    let report_json = std::env::temp_dir().join(format!("ocp-bench-{}.json", std::process::id()));
    let invocation = bench::EngineInvocation {
        binary: &engine,
        config: &config,
        postgres_url: &postgres_url,
        schema: &schema,
        report_json: &report_json,
    };
    let trino = if args.trino {
        eprintln!("starting the local Trino and loading koku's tables ...");
        Some(bench::TrinoBench::load(&config)?)
    } else {
        None
    };
    let mut rounds = Vec::new();
    for round in 0..=args.rounds {
        let (yardstick, _) = bench::decode_all(&files)?;
        let (engine_wall, engine) = invocation.run()?;
        let trino_round = match &trino {
            Some(bench) => Some(bench.run()?.0),
            None => None,
        };
        if round == 0 {
            eprintln!(
                "warm-up done ({:.3} s); measuring {} rounds",
                engine_wall.as_secs_f64(),
                args.rounds
            );
            continue;
        }
        eprintln!(
            "round {round}: engine {:.3} s, yardstick {:.3} s{}",
            engine_wall.as_secs_f64(),
            yardstick.as_secs_f64(),
            trino_round.map_or(String::new(), |t| format!(
                ", Trino {:.3} s",
                t.elapsed.as_secs_f64()
            ))
        );
        rounds.push(bench::Round {
            yardstick,
            engine_wall,
            engine,
            trino: trino_round,
        });
    }
    let _ = std::fs::remove_file(&report_json);
    let summary = bench::summarise(
        &scale,
        bench::machine_description(),
        (files.len(), bytes),
        &rounds,
        trino
            .as_ref()
            .map(|t| (t.describe(), t.startup_seconds, t.server_peak_rss_bytes())),
    );
    print!("{}", bench::render(&summary));
    let json = args
        .json
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("reports/bench-{scale}.json")));
    if let Some(parent) = json.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let text = serde_json::to_string_pretty(&summary).expect("the summary serialises");
    std::fs::write(&json, text).map_err(|e| format!("cannot write {}: {e}", json.display()))?;
    println!("summary written to {}", json.display());
    Ok(())
}

/// Deletes the `source=` folders this model writes to (hourly and daily, each report type).
fn remove_previous(model: &ClusterModel, out: &Path) -> Result<(), String> {
    for report_type in REPORT_TYPES {
        for daily in [false, true] {
            let month_dir = table_dir(
                out,
                &model.account,
                &model.source_uuid,
                report_type,
                daily,
                model.year,
                model.month,
            );
            let source_dir = month_dir
                .parent()
                .and_then(Path::parent)
                .expect("table_dir ends in source=/year=/month=");
            if source_dir.exists() {
                std::fs::remove_dir_all(source_dir).map_err(|e| {
                    format!("cannot remove previous data {}: {e}", source_dir.display())
                })?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocp_engine::config::ConfigFile;

    #[test]
    fn engine_config_round_trips_through_the_engine_loader() {
        let model = generate(Scale::Tiny, 5);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.toml");
        std::fs::write(&path, engine_config(&model).to_toml()).unwrap();
        let loaded = ConfigFile::load(&path).unwrap();
        // location "." resolves against the config's folder.
        let location = loaded.source.location.clone().unwrap();
        assert_eq!(Path::new(&location), dir.path().join("."));
        assert_eq!(loaded.period.start.as_deref(), Some("2026-09-01"));
        assert_eq!(loaded.period.end.as_deref(), Some("2026-09-03"));
        assert_eq!(loaded.period.report_period_id, Some(1));
        let catalog = loaded.catalog.unwrap();
        assert_eq!(catalog.enabled_tag_keys, ["app", "environment", "team"]);
        assert_eq!(catalog.cost_category_namespaces.len(), 4);
        assert_eq!(catalog.cost_category_namespaces[0].pattern, "openshift-%");
    }
}
