//! `ocp-harness bench`: the release engine process timed against a same-run yardstick, beside
//! itself writing to a file, DuckDB on the same month ([`DuckDbBench`]) and PostgreSQL's own
//! COPY of its rows and, with `--trino`, the same month on the local Trino ([`TrinoBench`]); the
//! measuring itself is `ocp_harness::bench`.

use std::path::{Path, PathBuf};

use ocp_engine::config::ConfigFile;
use ocp_engine::redact::redact_password;
use ocp_engine::resolve::{resolve_request, Overrides};
use ocp_harness::bench::{self, TrinoRound};
use ocp_harness::onprem_tables::load_parquet_tree;
use ocp_harness::oracle::tables::HIVE_TABLES;
use ocp_harness::oracle::{DuckDbOracle, Oracle, QueryParams, TrinoOracle};
use ocp_harness::synth::Scale;
use ocp_testkit::{fresh_schema, local_trino, KokuSite};

use crate::generate::{run_generate, scale_parser, GenerateArgs, SizeArgs};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Cluster size (see `generate --help`).
    #[arg(long, value_name = "SCALE", default_value = "typical", value_parser = scale_parser())]
    scale: Scale,

    /// --nodes, --pods, --days: the scale resized (see `generate --help`); the default --data
    /// and --json names then carry the sizes.
    #[command(flatten)]
    size: SizeArgs,

    /// Rounds to measure, after one warm-up round that is not counted.
    #[arg(long, value_name = "N", default_value_t = 5,
        value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,

    /// Folder of the generated cluster (seed 42); generated when it holds no engine.toml.
    /// Default: data/bench-SCALE (data/bench-SCALE-300nodes… when resized).
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

    /// Also load the month into koku's on-prem line-item tables (see `load-onprem`) and run,
    /// each round, the engine reading them (--input postgresql://…) and a plain COPY of the same
    /// rows (the PostgreSQL yardstick).
    #[arg(long)]
    postgres_source: bool,

    /// Also run the month on the local Trino each round (installed by `just trino-setup`,
    /// started here; heap OCP_TRINO_HEAP, default 2G): the reference query, Trino's own time,
    /// and engine / Trino.
    #[arg(long)]
    trino: bool,

    /// Leave out DuckDB. By default each round also runs, on the same month, the engine writing
    /// to a Parquet file and the DuckDB CLI (1.5.6, the oracle's, installed when missing)
    /// running the reference query over the same files into a Parquet file: wall clocks, peak
    /// memories and engine / DuckDB; the two files must hold as many rows.
    #[arg(long)]
    no_duckdb: bool,
}

/// Runs the bench `args` describe; prints the summary and writes it as JSON.
pub fn run_bench(args: &BenchArgs) -> Result<(), String> {
    let size = args.size.size();
    size.check(args.scale)?;
    let scale = size.label(args.scale);
    let data = args
        .data
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("data/bench-{scale}")));
    let config = data.join("engine.toml");
    if !config.exists() {
        run_generate(&GenerateArgs::seed_42(args.scale, args.size, data.clone()))?;
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
        None => ocp_testkit::server_url().to_string(),
    };
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let (client, schema) = runtime.block_on(fresh_schema("bench"));
    let (files, bytes) = bench::parquet_files(&data.join("data"))
        .map_err(|e| format!("cannot list {}: {e}", data.display()))?;
    let work = tempfile::Builder::new()
        .prefix("ocp-bench-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    let report_json = work.path().join("engine-report.json");
    let engine_out = work.path().join("engine.parquet");
    let invocation = bench::EngineInvocation {
        binary: &engine,
        config: &config,
        input: None,
        postgres_url: &postgres_url,
        schema: &schema,
        out: None,
        report_json: &report_json,
    };
    let file_invocation = bench::EngineInvocation {
        out: Some(&engine_out),
        ..invocation
    };
    let duckdb = if args.no_duckdb {
        None
    } else {
        Some(DuckDbBench::prepare(&config, work.path())?)
    };
    let trino = if args.trino {
        eprintln!("starting the local Trino and loading koku's tables ...");
        Some(TrinoBench::load(&config)?)
    } else {
        None
    };
    let onprem = if args.postgres_source {
        eprintln!("loading the month into koku's on-prem tables ...");
        Some(runtime.block_on(OnpremBench::load(&postgres_url, &config))?)
    } else {
        None
    };
    let onprem_invocation = onprem.as_ref().map(|o| bench::EngineInvocation {
        input: Some(&postgres_url),
        schema: &o.schema,
        ..invocation
    });
    let mut copy_in: Option<bench::CopyIn> = None;
    let mut rounds = Vec::new();
    for round in 0..=args.rounds {
        let (yardstick, _) = bench::decode_all(&files)?;
        let engine_run = invocation.run()?;
        let _ = std::fs::remove_file(&engine_out);
        let file_run = file_invocation.run()?;
        let engine_file = bench::ChildRound {
            wall: file_run.wall,
            peak_rss_bytes: file_run.peak_rss_bytes,
        };
        let duckdb_round = match &duckdb {
            Some(duckdb) => Some(duckdb.run()?),
            None => None,
        };
        if round == 0 {
            if let Some(duckdb) = &duckdb {
                let (engine_rows, duckdb_rows) = (
                    bench::parquet_rows(&engine_out)?,
                    bench::parquet_rows(&duckdb.result)?,
                );
                bench::check_same_rows(engine_rows, duckdb_rows)?;
                eprintln!("engine and DuckDB both wrote {engine_rows} rows");
            }
            copy_in = Some(runtime.block_on(bench::CopyIn::prepare(
                &client,
                &schema,
                "reporting_ocpusagelineitem_daily_summary",
                "bench_copy_in_scratch",
                &work.path().join("summary.copy"),
            ))?);
        }
        let copy_in_time = match &copy_in {
            Some(copy_in) => runtime.block_on(copy_in.run(&client))?,
            None => unreachable!("prepared in the warm-up round"),
        };
        let trino_round = match &trino {
            Some(bench) => Some(bench.run()?.0),
            None => None,
        };
        let postgres_source = match (&onprem, &onprem_invocation) {
            (Some(onprem), Some(invocation)) => {
                let (yardstick, _) = runtime.block_on(onprem.copy_out())?;
                let run = invocation.run()?;
                Some(bench::PostgresSourceRound {
                    yardstick,
                    engine_wall: run.wall,
                    engine: run.report,
                })
            }
            _ => None,
        };
        if round == 0 {
            eprintln!(
                "warm-up done ({:.3} s); measuring {} rounds",
                engine_run.wall.as_secs_f64(),
                args.rounds
            );
            continue;
        }
        eprintln!(
            "round {round}: engine {:.3} s, yardstick {:.3} s, engine to file {:.3} s{}, COPY \
             FROM {:.3} s{}{}",
            engine_run.wall.as_secs_f64(),
            yardstick.as_secs_f64(),
            engine_file.wall.as_secs_f64(),
            duckdb_round.map_or(String::new(), |d| format!(
                ", DuckDB {:.3} s",
                d.wall.as_secs_f64()
            )),
            copy_in_time.as_secs_f64(),
            trino_round.map_or(String::new(), |t| format!(
                ", Trino {:.3} s",
                t.elapsed.as_secs_f64()
            )),
            postgres_source.as_ref().map_or(String::new(), |p| format!(
                ", engine from PostgreSQL {:.3} s, COPY {:.3} s",
                p.engine_wall.as_secs_f64(),
                p.yardstick.as_secs_f64()
            ))
        );
        rounds.push(bench::Round {
            yardstick,
            engine_wall: engine_run.wall,
            engine: engine_run.report,
            engine_file,
            duckdb: duckdb_round,
            copy_in: copy_in_time,
            trino: trino_round,
            postgres_source,
        });
    }
    let summary = bench::summarise(
        &scale,
        bench::machine_description(),
        (files.len(), bytes),
        &rounds,
        trino
            .as_ref()
            .map(|t| (t.describe(), t.startup_seconds, t.server_peak_rss_bytes())),
        duckdb.as_ref().map(|d| d.oracle.short_name()),
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

/// The month of a config file on the DuckDB CLI: the oracle's script (koku's tables as views
/// over the same Parquet files, koku's node step, the reference query copied to a Parquet
/// file), written once and run each round.
struct DuckDbBench {
    oracle: DuckDbOracle,
    dir: PathBuf,
    script: PathBuf,
    /// The Parquet file the script writes.
    result: PathBuf,
}

impl DuckDbBench {
    /// Finds (or installs) the pinned CLI and writes the script for the run `config`
    /// describes into `dir`.
    fn prepare(config: &Path, dir: &Path) -> Result<DuckDbBench, String> {
        let oracle = DuckDbOracle::locate().map_err(|e| e.to_string())?;
        let params = QueryParams::from_request(&request_of(config)?).map_err(|e| e.to_string())?;
        let result = dir.join("duckdb.parquet");
        let script = oracle
            .write_script(&params, dir, &result)
            .map_err(|e| e.to_string())?;
        Ok(DuckDbBench {
            oracle,
            dir: dir.to_path_buf(),
            script,
            result,
        })
    }

    /// One run: the CLI's wall clock and its own peak memory.
    fn run(&self) -> Result<bench::ChildRound, String> {
        let _ = std::fs::remove_file(&self.result);
        let stats = self
            .oracle
            .run_timed(&self.dir, &self.script)
            .map_err(|e| e.to_string())?;
        Ok(bench::ChildRound {
            wall: stats.elapsed,
            peak_rss_bytes: stats.peak_rss_bytes,
        })
    }
}

/// The month of a config file in koku's on-prem tables of a fresh schema.
struct OnpremBench {
    client: tokio_postgres::Client,
    schema: String,
    source: String,
    days: (chrono::NaiveDate, chrono::NaiveDate),
}

impl OnpremBench {
    /// Loads the Parquet the run `config` describes into a fresh schema's on-prem tables.
    async fn load(url: &str, config: &Path) -> Result<OnpremBench, String> {
        let request = request_of(config)?;
        let (client, schema) = fresh_schema("bench_onprem").await;
        let root = Path::new(&request.location);
        load_parquet_tree(&client, root, &request.account, &schema)
            .await
            .map_err(|e| {
                format!(
                    "loading the on-prem tables at {}: {e}",
                    redact_password(url)
                )
            })?;
        Ok(OnpremBench {
            client,
            schema,
            source: request.source_uuid.to_string(),
            days: (request.start, request.end),
        })
    }

    /// The PostgreSQL yardstick: a plain COPY of the month's rows of the five tables.
    async fn copy_out(&self) -> Result<(std::time::Duration, u64), String> {
        let tables: Vec<&str> = HIVE_TABLES.iter().map(|t| t.name).collect();
        bench::copy_out_month(&self.client, &self.schema, &tables, &self.source, self.days).await
    }
}

/// The run a generated folder's `engine.toml` describes (a local folder with its catalog
/// inline, as `ocp-harness generate` writes it).
fn request_of(config: &Path) -> Result<ocp_engine::run::RunRequest, String> {
    let overrides = Overrides {
        out: Some(std::env::temp_dir().join("unused.parquet")),
        ..Overrides::default()
    };
    resolve_request(
        ConfigFile::load(config).map_err(|e| e.to_string())?,
        overrides,
    )
    .map_err(|e| e.to_string())
}

/// The month of a config file on the local Trino (see the module documentation).
pub struct TrinoBench {
    oracle: TrinoOracle,
    params: QueryParams,
    /// Seconds from starting the JVM to its first answer.
    pub startup_seconds: f64,
}

impl TrinoBench {
    /// Starts the local Trino and loads koku's tables for the run `config` describes (a local
    /// folder with its catalog inline, as `ocp-harness generate` writes).
    pub fn load(config: &Path) -> Result<TrinoBench, String> {
        let request = request_of(config)?;
        let params = QueryParams::from_request(&request).map_err(|e| e.to_string())?;
        let startup_seconds = local_trino().started_in().as_secs_f64();
        let site = KokuSite::load(&params)?;
        let oracle = TrinoOracle::new(site.settings()).map_err(|e| e.to_string())?;
        Ok(TrinoBench {
            oracle,
            params,
            startup_seconds,
        })
    }

    /// Runs the month once; returns Trino's own figures and the rows it returned.
    pub fn run(&self) -> Result<(TrinoRound, usize), String> {
        let run = self.oracle.run(&self.params).map_err(|e| e.to_string())?;
        Ok((
            TrinoRound {
                elapsed: run.elapsed,
                peak_memory_bytes: run.peak_rss_bytes,
            },
            run.rows.len(),
        ))
    }

    /// The server's peak resident memory so far (its JVM's `VmHWM`).
    pub fn server_peak_rss_bytes(&self) -> Option<u64> {
        local_trino().peak_rss_bytes()
    }

    /// `Trino <version>`.
    pub fn describe(&self) -> String {
        format!("Trino {}", local_trino().version())
    }
}
