//! `ocp-harness bench`: time and peak memory of the engine binary on a generated month, local
//! Parquet to PostgreSQL, against a yardstick measured in the same run.
//!
//! Each round runs, back to back, (1) the yardstick: decoding every Parquet file of the month
//! (all columns, one thread) with the `parquet` crate, and (2) the release `ocp-engine aggregate`
//! as a child process writing to a fresh PostgreSQL schema, with `--report-json`. The engine's
//! own report gives seconds and peak RSS per phase; the child's wall clock gives end to end
//! (process start, connect, catalog, read, labels, aggregate, write, exit). Because these
//! machines are noisy, the figure to compare across machines and nights is the ratio of the
//! engine's wall clock to the yardstick's, both medians of the same run.
//!
//! With Trino (`ocp-harness bench --trino`), each round also runs the same month on the local
//! Trino (ocp-testkit's `local_trino`, koku's tables loaded once before the rounds): the
//! reference query, as koku's summary script computes it, timed by Trino's own
//! `elapsedTimeMillis` ([`TrinoRound`]); the server's peak resident memory is its JVM's `VmHWM`
//! after the rounds. Trino returns the rows to the client, it does not write them to PostgreSQL:
//! the engine's figure includes that write.
//!
//! With the PostgreSQL source (`ocp-harness bench --postgres-source`), the month is loaded once
//! into koku's on-prem line-item tables ([`crate::onprem_tables`]) and each round also runs the
//! engine reading those tables (`--input postgresql://…`, writing to the same schema) and a
//! PostgreSQL yardstick: one plain binary `COPY (SELECT * …) TO STDOUT` per table of the same
//! rows (the source's month), read and dropped ([`copy_out_month`]).
//!
//! Side by side with DuckDB, each round also runs, on the same month: the engine writing its
//! rows to a Parquet file (`--out FILE.parquet`) and the pinned DuckDB CLI running the reference
//! query over the same Parquet files, its rows copied to a Parquet file (the embedded oracle's
//! own script, [`crate::oracle::duckdb::script`]); both children's wall clocks and their own peak
//! resident memory ([`crate::child_peak_memory`]). Once per bench the two files must hold as many
//! rows. A PostgreSQL write yardstick completes the round: a binary `COPY … FROM STDIN` of the
//! rows the engine wrote (taken once with `COPY … TO STDOUT`) into a scratch table `LIKE` the
//! summary table, emptied before each round ([`CopyIn`]).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::child_peak_memory::MeasuredChild;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::{Deserialize, Serialize};

/// The part of the engine's `--report-json` the benchmark reads.
#[derive(Debug, Clone, Deserialize)]
pub struct EngineReport {
    pub rows_per_data_source: serde_json::Map<String, serde_json::Value>,
    pub phases: Vec<EnginePhase>,
    pub peak_rss_bytes: Option<u64>,
}

/// One phase of the engine's report.
#[derive(Debug, Clone, Deserialize)]
pub struct EnginePhase {
    pub name: String,
    pub seconds: f64,
    pub peak_rss_bytes: Option<u64>,
}

/// Median, minimum and maximum of one measured quantity over the rounds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Spread {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        })
    }
}

/// One round's measurements.
#[derive(Debug, Clone)]
pub struct Round {
    pub yardstick: Duration,
    pub engine_wall: Duration,
    pub engine: EngineReport,
    /// The engine writing the same rows to a Parquet file.
    pub engine_file: ChildRound,
    /// DuckDB writing the reference query's rows to a Parquet file, when benched.
    pub duckdb: Option<ChildRound>,
    /// PostgreSQL's own binary COPY FROM of the rows the engine wrote.
    pub copy_in: Duration,
    /// The same month on the local Trino, when benched.
    pub trino: Option<TrinoRound>,
    /// The engine reading koku's on-prem tables, when benched.
    pub postgres_source: Option<PostgresSourceRound>,
}

/// A child process's wall clock and its own peak resident memory.
#[derive(Debug, Clone, Copy)]
pub struct ChildRound {
    pub wall: Duration,
    pub peak_rss_bytes: Option<u64>,
}

/// The engine writing to a Parquet file, over the rounds.
#[derive(Debug, Clone, Serialize)]
pub struct EngineFileFigures {
    /// The engine process, start to exit (seconds).
    pub wall_seconds: Spread,
    /// Its highest peak resident memory over the rounds (bytes).
    pub peak_rss_bytes: u64,
}

/// DuckDB over the rounds, beside the engine writing to a file.
#[derive(Debug, Clone, Serialize)]
pub struct DuckDbFigures {
    /// `DuckDB <version>`.
    pub cli: String,
    /// The CLI process, start to exit: the script's views, koku's node step and the reference
    /// query copied to a Parquet file (seconds).
    pub wall_seconds: Spread,
    /// Its highest peak resident memory over the rounds (bytes).
    pub peak_rss_bytes: u64,
    /// Median engine-to-file wall clock over DuckDB's median.
    pub engine_over_duckdb_time: f64,
    /// The engine's peak resident memory (to file) over DuckDB's.
    pub engine_over_duckdb_memory: f64,
}

/// The PostgreSQL write yardstick over the rounds.
#[derive(Debug, Clone, Serialize)]
pub struct CopyInFigures {
    /// PostgreSQL's binary COPY FROM STDIN of the rows the engine wrote (seconds).
    pub seconds: Spread,
    /// The engine's median write phase over the median COPY.
    pub write_over_copy: f64,
}

/// One round of the PostgreSQL source.
#[derive(Debug, Clone)]
pub struct PostgresSourceRound {
    /// The plain COPY of the month's rows of the five tables.
    pub yardstick: Duration,
    pub engine_wall: Duration,
    pub engine: EngineReport,
}

/// The PostgreSQL source's figures over the rounds.
#[derive(Debug, Clone, Serialize)]
pub struct PostgresSourceFigures {
    /// The plain COPY of the same rows (seconds).
    pub yardstick_seconds: Spread,
    /// The engine process reading the tables, start to exit (seconds).
    pub engine_wall_seconds: Spread,
    /// The engine's read phase from the tables (seconds), beside the Parquet read's.
    pub read_seconds: Spread,
    pub peak_rss_bytes: Option<u64>,
    /// Median read phase over the median COPY yardstick.
    pub read_over_yardstick: f64,
    /// Median read phase from PostgreSQL over the median read phase from Parquet.
    pub read_over_parquet_read: f64,
}

/// One Trino run of the month.
#[derive(Debug, Clone, Copy)]
pub struct TrinoRound {
    /// The query's own `elapsedTimeMillis`.
    pub elapsed: Duration,
    /// The query's own `peakMemoryBytes`.
    pub peak_memory_bytes: Option<u64>,
}

/// Trino's figures over the rounds.
#[derive(Debug, Clone, Serialize)]
pub struct TrinoFigures {
    pub server: String,
    /// JVM start to first answer (seconds), once per bench.
    pub startup_seconds: f64,
    /// The query's own elapsed time (seconds).
    pub query_seconds: Spread,
    /// The highest `peakMemoryBytes` of the query over the rounds.
    pub query_peak_memory_bytes: Option<u64>,
    /// The server JVM's peak resident memory after the rounds (bytes).
    pub server_peak_rss_bytes: Option<u64>,
    /// Median engine wall clock (process, to PostgreSQL) over median Trino query time.
    pub engine_over_trino: f64,
}

/// What the benchmark found, as printed and as written to JSON.
#[derive(Debug, Clone, Serialize)]
pub struct BenchSummary {
    pub scale: String,
    pub machine: String,
    pub rounds: usize,
    pub parquet_files: usize,
    pub parquet_bytes: u64,
    pub rows_written: u64,
    /// Decoding every file once, one thread (seconds).
    pub yardstick_seconds: Spread,
    /// The engine process, start to exit (seconds).
    pub engine_wall_seconds: Spread,
    /// Per phase, from the engine's report (seconds), in the engine's phase order.
    pub phase_seconds: Vec<(String, Spread)>,
    /// The highest peak RSS any round reported (bytes).
    pub peak_rss_bytes: Option<u64>,
    /// Peak RSS per phase, highest over the rounds (bytes).
    pub phase_peak_rss_bytes: Vec<(String, Option<u64>)>,
    /// Median engine wall clock over median yardstick.
    pub engine_over_yardstick: f64,
    /// The same month on the local Trino, when benched.
    pub trino: Option<TrinoFigures>,
    /// The engine reading koku's on-prem tables, when benched.
    pub postgres_source: Option<PostgresSourceFigures>,
    /// The engine writing the rows to a Parquet file instead of PostgreSQL.
    pub engine_file: EngineFileFigures,
    /// DuckDB on the same month, when benched.
    pub duckdb: Option<DuckDbFigures>,
    /// PostgreSQL's own COPY of the rows, the write phase's yardstick.
    pub copy_in: CopyInFigures,
}

/// The Parquet files under `root` (recursively), sorted, with their total size.
pub fn parquet_files(root: &Path) -> std::io::Result<(Vec<PathBuf>, u64)> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut bytes = 0;
    for file in &files {
        bytes += std::fs::metadata(file)?.len();
    }
    Ok((files, bytes))
}

/// The yardstick: decodes every row of every file, all columns, on this thread; returns the
/// time taken and the rows decoded.
pub fn decode_all(files: &[PathBuf]) -> Result<(Duration, usize), String> {
    let started = Instant::now();
    let mut rows = 0;
    for path in files {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for batch in reader {
            rows += batch
                .map_err(|e| format!("cannot decode {}: {e}", path.display()))?
                .num_rows();
        }
    }
    Ok((started.elapsed(), rows))
}

/// How to run the engine binary for one round.
pub struct EngineInvocation<'a> {
    pub binary: &'a Path,
    pub config: &'a Path,
    /// `--input`, replacing the config's location (a PostgreSQL URL for the on-prem tables).
    pub input: Option<&'a str>,
    pub postgres_url: &'a str,
    pub schema: &'a str,
    /// `--out`: the rows to this file instead of PostgreSQL.
    pub out: Option<&'a Path>,
    pub report_json: &'a Path,
}

/// How one engine process went.
#[derive(Debug, Clone)]
pub struct EngineRun {
    /// Start to exit.
    pub wall: Duration,
    /// The process's own peak resident memory, sampled from outside
    /// ([`crate::child_peak_memory`]); else the engine's own report's.
    pub peak_rss_bytes: Option<u64>,
    pub report: EngineReport,
}

impl EngineInvocation<'_> {
    /// Runs `ocp-engine aggregate` (to PostgreSQL, or to `out`); returns its wall clock, its
    /// own peak memory and its JSON report.
    pub fn run(&self) -> Result<EngineRun, String> {
        let mut command = Command::new(self.binary);
        command
            .args(["aggregate", "--quiet", "--config"])
            .arg(self.config)
            .args(
                self.input
                    .map(|input| ["--input", input])
                    .into_iter()
                    .flatten(),
            );
        match self.out {
            Some(out) => command.arg("--out").arg(out),
            None => command.args(["--postgres-url", self.postgres_url, "--schema", self.schema]),
        };
        command
            .arg("--report-json")
            .arg(self.report_json)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = MeasuredChild::spawn(&mut command)
            .map_err(|e| format!("cannot start {}: {e}", self.binary.display()))?;
        let stderr = child.take_stderr().map(|mut pipe| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        });
        let run = child
            .wait()
            .map_err(|e| format!("cannot wait for {}: {e}", self.binary.display()))?;
        let stderr = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
        if !run.status.success() {
            return Err(format!(
                "{} failed ({}): {}",
                self.binary.display(),
                run.status,
                stderr.trim()
            ));
        }
        let text = std::fs::read_to_string(self.report_json)
            .map_err(|e| format!("cannot read {}: {e}", self.report_json.display()))?;
        let report: EngineReport = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{} is not the engine's report: {e}",
                self.report_json.display()
            )
        })?;
        Ok(EngineRun {
            wall: run.elapsed,
            peak_rss_bytes: run.peak_rss_bytes.or(report.peak_rss_bytes),
            report,
        })
    }
}

/// The number of rows of a Parquet file, from its footer.
pub fn parquet_rows(path: &Path) -> Result<u64, String> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let reader = SerializedFileReader::new(file)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    u64::try_from(reader.metadata().file_metadata().num_rows())
        .map_err(|_| format!("{} has a negative row count", path.display()))
}

/// Whether DuckDB's output holds as many rows as the engine's file; the error says both.
pub fn check_same_rows(engine_rows: u64, duckdb_rows: u64) -> Result<(), String> {
    if engine_rows == duckdb_rows {
        Ok(())
    } else {
        Err(format!(
            "DuckDB wrote {duckdb_rows} rows and the engine {engine_rows} for the same month: \
             the side-by-side is not comparing the same work (run `ocp-harness compare` on the \
             month to see which rows differ)"
        ))
    }
}

/// `numerator / denominator`, the way the summary's ratios are taken.
pub fn ratio(numerator: f64, denominator: f64) -> f64 {
    numerator / denominator
}

/// The PostgreSQL write yardstick: the rows of a summary table, taken once in PostgreSQL's
/// binary COPY format into a file, copied back each round into a scratch table `LIKE` it.
pub struct CopyIn {
    schema: String,
    scratch: String,
    file: PathBuf,
    /// Bytes of the binary COPY data.
    pub bytes: u64,
}

impl CopyIn {
    /// Copies every row of `schema.table` out to `file` (binary COPY), and creates
    /// `schema.scratch` `LIKE` the table (`INCLUDING ALL`: defaults, constraints, indexes),
    /// replacing any previous one.
    pub async fn prepare(
        client: &tokio_postgres::Client,
        schema: &str,
        table: &str,
        scratch: &str,
        file: &Path,
    ) -> Result<CopyIn, String> {
        use futures::TryStreamExt;
        use ocp_engine::postgres::{describe, quote_ident};
        use std::io::Write;
        let (qschema, qtable, qscratch) = (
            quote_ident(schema),
            quote_ident(table),
            quote_ident(scratch),
        );
        let copy = format!("COPY (SELECT * FROM {qschema}.{qtable}) TO STDOUT (FORMAT binary)");
        let stream = client
            .copy_out(&copy)
            .await
            .map_err(|e| format!("{copy}: {}", describe(&e)))?;
        let mut stream = std::pin::pin!(stream);
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(file)
                .map_err(|e| format!("cannot create {}: {e}", file.display()))?,
        );
        let mut bytes = 0;
        while let Some(chunk) = stream
            .try_next()
            .await
            .map_err(|e| format!("{copy}: {}", describe(&e)))?
        {
            bytes += chunk.len() as u64;
            out.write_all(&chunk)
                .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        }
        out.flush()
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        let create = format!(
            "DROP TABLE IF EXISTS {qschema}.{qscratch}; \
             CREATE TABLE {qschema}.{qscratch} (LIKE {qschema}.{qtable} INCLUDING ALL)"
        );
        client
            .batch_execute(&create)
            .await
            .map_err(|e| format!("{create}: {}", describe(&e)))?;
        Ok(CopyIn {
            schema: qschema,
            scratch: qscratch,
            file: file.to_path_buf(),
            bytes,
        })
    }

    /// Empties the scratch table (not timed), then times PostgreSQL's `COPY … FROM STDIN
    /// (FORMAT binary)` of the rows, read from the file in 1 MiB chunks, until the server
    /// answers that it has them all.
    pub async fn run(&self, client: &tokio_postgres::Client) -> Result<Duration, String> {
        use futures::SinkExt;
        use ocp_engine::postgres::describe;
        let table = format!("{}.{}", self.schema, self.scratch);
        client
            .batch_execute(&format!("TRUNCATE {table}"))
            .await
            .map_err(|e| format!("TRUNCATE {table}: {}", describe(&e)))?;
        let mut file = std::fs::File::open(&self.file)
            .map_err(|e| format!("cannot open {}: {e}", self.file.display()))?;
        let copy = format!("COPY {table} FROM STDIN (FORMAT binary)");
        let started = Instant::now();
        let sink = client
            .copy_in(&copy)
            .await
            .map_err(|e| format!("{copy}: {}", describe(&e)))?;
        let mut sink = std::pin::pin!(sink);
        loop {
            let mut chunk = vec![0u8; 1 << 20];
            let read = file
                .read(&mut chunk)
                .map_err(|e| format!("cannot read {}: {e}", self.file.display()))?;
            if read == 0 {
                break;
            }
            chunk.truncate(read);
            sink.send(bytes::Bytes::from(chunk))
                .await
                .map_err(|e| format!("{copy}: {}", describe(&e)))?;
        }
        sink.as_mut()
            .finish()
            .await
            .map_err(|e| format!("{copy}: {}", describe(&e)))?;
        Ok(started.elapsed())
    }
}

/// Sums up the rounds. `rounds` must not be empty; `trino` is what the Trino bench adds when
/// every round ran Trino: (server, startup seconds, server peak RSS); `duckdb_cli` names the
/// DuckDB CLI when the rounds ran it.
pub fn summarise(
    scale: &str,
    machine: String,
    files: (usize, u64),
    rounds: &[Round],
    trino: Option<(String, f64, Option<u64>)>,
    duckdb_cli: Option<String>,
) -> BenchSummary {
    let seconds = |f: &dyn Fn(&Round) -> f64| -> Spread {
        Spread::of(&rounds.iter().map(f).collect::<Vec<_>>()).expect("at least one round")
    };
    let yardstick = seconds(&|r| r.yardstick.as_secs_f64());
    let engine_wall = seconds(&|r| r.engine_wall.as_secs_f64());
    let phase_names: Vec<String> = rounds[0]
        .engine
        .phases
        .iter()
        .map(|p| p.name.clone())
        .collect();
    let phase = |r: &Round, name: &str| r.engine.phases.iter().find(|p| p.name == name).cloned();
    let phase_seconds: Vec<(String, Spread)> = phase_names
        .iter()
        .map(|name| {
            let spread = seconds(&|r| phase(r, name).map_or(0.0, |p| p.seconds));
            (name.clone(), spread)
        })
        .collect();
    let phase_peak_rss_bytes = phase_names
        .iter()
        .map(|name| {
            let peak = rounds
                .iter()
                .filter_map(|r| phase(r, name).and_then(|p| p.peak_rss_bytes))
                .max();
            (name.clone(), peak)
        })
        .collect();
    let rows_written = rounds[0]
        .engine
        .rows_per_data_source
        .values()
        .filter_map(|v| v.as_u64())
        .sum();
    let parquet_read = phase_seconds
        .iter()
        .find(|(name, _)| name == "read")
        .map(|(_, spread)| spread.median);
    let postgres_source = summarise_postgres_source(rounds, parquet_read);
    let write_median = phase_seconds
        .iter()
        .find(|(name, _)| name == "write")
        .map_or(0.0, |(_, spread)| spread.median);
    let (engine_file, duckdb) = summarise_side_by_side(rounds, duckdb_cli);
    let copy_in_seconds = seconds(&|r| r.copy_in.as_secs_f64());
    BenchSummary {
        postgres_source,
        engine_file,
        duckdb,
        copy_in: CopyInFigures {
            write_over_copy: ratio(write_median, copy_in_seconds.median),
            seconds: copy_in_seconds,
        },
        scale: scale.to_string(),
        machine,
        rounds: rounds.len(),
        parquet_files: files.0,
        parquet_bytes: files.1,
        rows_written,
        yardstick_seconds: yardstick,
        engine_wall_seconds: engine_wall,
        phase_seconds,
        peak_rss_bytes: rounds.iter().filter_map(|r| r.engine.peak_rss_bytes).max(),
        phase_peak_rss_bytes,
        engine_over_yardstick: engine_wall.median / yardstick.median,
        trino: trino.and_then(|(server, startup_seconds, server_peak_rss_bytes)| {
            let runs: Vec<TrinoRound> = rounds.iter().filter_map(|r| r.trino).collect();
            let query_seconds = Spread::of(
                &runs
                    .iter()
                    .map(|t| t.elapsed.as_secs_f64())
                    .collect::<Vec<_>>(),
            )?;
            Some(TrinoFigures {
                server,
                startup_seconds,
                engine_over_trino: engine_wall.median / query_seconds.median,
                query_seconds,
                query_peak_memory_bytes: runs.iter().filter_map(|t| t.peak_memory_bytes).max(),
                server_peak_rss_bytes,
            })
        }),
    }
}

/// The engine-to-file figures, and DuckDB's beside them when `cli` is given and every round ran
/// it. A peak that no round could sample counts as 0.
fn summarise_side_by_side(
    rounds: &[Round],
    cli: Option<String>,
) -> (EngineFileFigures, Option<DuckDbFigures>) {
    let figures = |runs: &[ChildRound]| {
        let wall = Spread::of(
            &runs
                .iter()
                .map(|r| r.wall.as_secs_f64())
                .collect::<Vec<_>>(),
        );
        let peak = runs
            .iter()
            .filter_map(|r| r.peak_rss_bytes)
            .max()
            .unwrap_or(0);
        wall.map(|wall| (wall, peak))
    };
    let files: Vec<ChildRound> = rounds.iter().map(|r| r.engine_file).collect();
    let (file_wall, file_peak) = figures(&files).expect("at least one round");
    let duckdb = cli.and_then(|cli| {
        let runs: Vec<ChildRound> = rounds.iter().map(|r| r.duckdb).collect::<Option<_>>()?;
        let (wall, peak) = figures(&runs)?;
        Some(DuckDbFigures {
            cli,
            engine_over_duckdb_time: ratio(file_wall.median, wall.median),
            engine_over_duckdb_memory: ratio(file_peak as f64, peak as f64),
            wall_seconds: wall,
            peak_rss_bytes: peak,
        })
    });
    (
        EngineFileFigures {
            wall_seconds: file_wall,
            peak_rss_bytes: file_peak,
        },
        duckdb,
    )
}

/// The PostgreSQL source's figures, when every round ran it.
fn summarise_postgres_source(
    rounds: &[Round],
    parquet_read: Option<f64>,
) -> Option<PostgresSourceFigures> {
    let runs: Vec<&PostgresSourceRound> = rounds
        .iter()
        .map(|r| r.postgres_source.as_ref())
        .collect::<Option<_>>()?;
    let spread = |f: &dyn Fn(&PostgresSourceRound) -> f64| {
        Spread::of(&runs.iter().map(|r| f(r)).collect::<Vec<_>>())
    };
    let read = |r: &PostgresSourceRound| {
        r.engine
            .phases
            .iter()
            .find(|p| p.name == "read")
            .map_or(0.0, |p| p.seconds)
    };
    let yardstick_seconds = spread(&|r| r.yardstick.as_secs_f64())?;
    let read_seconds = spread(&read)?;
    Some(PostgresSourceFigures {
        engine_wall_seconds: spread(&|r| r.engine_wall.as_secs_f64())?,
        peak_rss_bytes: runs.iter().filter_map(|r| r.engine.peak_rss_bytes).max(),
        read_over_yardstick: read_seconds.median / yardstick_seconds.median,
        read_over_parquet_read: read_seconds.median / parquet_read?,
        yardstick_seconds,
        read_seconds,
    })
}

/// The PostgreSQL yardstick: one plain binary `COPY (SELECT * …) TO STDOUT` per table in
/// `tables` of the rows of `source` whose `usage_start` is in `[first, last]`, every byte read
/// and dropped. Returns the time taken and the bytes read.
pub async fn copy_out_month(
    client: &tokio_postgres::Client,
    schema: &str,
    tables: &[&str],
    source: &str,
    (first, last): (chrono::NaiveDate, chrono::NaiveDate),
) -> Result<(Duration, u64), String> {
    use crate::oracle::query::sql_string;
    use futures::TryStreamExt;
    use ocp_engine::postgres::{describe, quote_ident};
    let started = Instant::now();
    let mut bytes = 0;
    for table in tables {
        let copy = format!(
            "COPY (SELECT * FROM {}.{} WHERE source = {} AND usage_start BETWEEN '{first}' \
             AND '{last}') TO STDOUT (FORMAT binary)",
            quote_ident(schema),
            quote_ident(table),
            sql_string(source),
        );
        let stream = client
            .copy_out(&copy)
            .await
            .map_err(|e| format!("{copy}: {}", describe(&e)))?;
        let mut stream = std::pin::pin!(stream);
        while let Some(chunk) = stream
            .try_next()
            .await
            .map_err(|e| format!("{copy}: {}", describe(&e)))?
        {
            bytes += chunk.len() as u64;
        }
    }
    Ok((started.elapsed(), bytes))
}

/// A line naming the machine: CPU model, cores and memory, from `/proc`.
pub fn machine_description() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or("? GiB".to_string(), |kb| {
            format!("{:.0} GiB", kb / 1048576.0)
        });
    format!("{cores} cores ({model}), {memory_gib}")
}

/// The summary as a plain-text table for the terminal.
pub fn render(summary: &BenchSummary) -> String {
    let mib = |b: Option<u64>| {
        b.map_or("n/a".to_string(), |b| {
            format!("{:.1} MiB", b as f64 / 1048576.0)
        })
    };
    let mut out = String::new();
    out.push_str(&format!(
        "ocp-engine bench: scale {}, {} rounds, {} Parquet files ({:.1} MiB), {} rows written\n",
        summary.scale,
        summary.rounds,
        summary.parquet_files,
        summary.parquet_bytes as f64 / 1048576.0,
        summary.rows_written
    ));
    out.push_str(&format!("machine: {}\n\n", summary.machine));
    out.push_str(&format!(
        "{:<32} {:>9} {:>9} {:>9} {:>12}\n",
        "seconds", "median", "min", "max", "peak RSS"
    ));
    let line = |name: &str, s: &Spread, rss: Option<u64>| {
        format!(
            "{:<32} {:>9.3} {:>9.3} {:>9.3} {:>12}\n",
            name,
            s.median,
            s.min,
            s.max,
            mib(rss)
        )
    };
    for ((name, spread), (_, rss)) in summary
        .phase_seconds
        .iter()
        .zip(&summary.phase_peak_rss_bytes)
    {
        out.push_str(&line(&format!("  engine phase {name}"), spread, *rss));
    }
    out.push_str(&line(
        "engine end to end (process)",
        &summary.engine_wall_seconds,
        summary.peak_rss_bytes,
    ));
    out.push_str(&line(
        "yardstick: decode all files",
        &summary.yardstick_seconds,
        None,
    ));
    out.push_str(&line(
        "engine to a Parquet file",
        &summary.engine_file.wall_seconds,
        Some(summary.engine_file.peak_rss_bytes),
    ));
    if let Some(duckdb) = &summary.duckdb {
        out.push_str(&line(
            &format!("{}: query to Parquet", duckdb.cli),
            &duckdb.wall_seconds,
            Some(duckdb.peak_rss_bytes),
        ));
    }
    out.push_str(&line(
        "copy-in: PostgreSQL COPY FROM",
        &summary.copy_in.seconds,
        None,
    ));
    if let Some(trino) = &summary.trino {
        out.push_str(&line(
            &format!("{}: the query", trino.server),
            &trino.query_seconds,
            trino.server_peak_rss_bytes,
        ));
        out.push_str(&format!(
            "  (Trino started in {:.1} s; the query's own peak memory {}; peak RSS is the JVM's)\n",
            trino.startup_seconds,
            mib(trino.query_peak_memory_bytes)
        ));
    }
    if let Some(pg) = &summary.postgres_source {
        out.push_str(&line(
            "engine from PostgreSQL",
            &pg.engine_wall_seconds,
            pg.peak_rss_bytes,
        ));
        out.push_str(&line("  its phase read", &pg.read_seconds, None));
        out.push_str(&line(
            "yardstick: COPY the tables",
            &pg.yardstick_seconds,
            None,
        ));
    }
    out.push_str(&format!(
        "\nengine / yardstick (medians): {:.2}\n",
        summary.engine_over_yardstick
    ));
    if let Some(duckdb) = &summary.duckdb {
        out.push_str(&format!(
            "engine to file / {} (medians): time {:.3}, peak memory {:.3}\n",
            duckdb.cli, duckdb.engine_over_duckdb_time, duckdb.engine_over_duckdb_memory
        ));
    }
    out.push_str(&format!(
        "engine write phase / PostgreSQL COPY FROM (medians): {:.2}\n",
        summary.copy_in.write_over_copy
    ));
    if let Some(pg) = &summary.postgres_source {
        out.push_str(&format!(
            "PostgreSQL read / COPY yardstick (medians): {:.2}\n\
             PostgreSQL read / Parquet read (medians): {:.2}\n",
            pg.read_over_yardstick, pg.read_over_parquet_read
        ));
    }
    if let Some(trino) = &summary.trino {
        out.push_str(&format!(
            "engine / Trino (medians): {:.3}\n",
            trino.engine_over_trino
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_the_middle_value_or_the_mean_of_the_two_middle_ones() {
        let odd = Spread::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((odd.median, odd.min, odd.max), (2.0, 1.0, 3.0));
        let even = Spread::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((even.median, even.min, even.max), (2.5, 1.0, 4.0));
        assert!(Spread::of(&[]).is_none());
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// A round whose engine wrote in `write` s, to file in `file` s with `file_peak` bytes,
    /// DuckDB (when given) in (s, bytes), COPY FROM in `copy_in` s.
    fn round(write: f64, file: (f64, u64), duckdb: Option<(f64, u64)>, copy_in: f64) -> Round {
        let child = |(wall, peak): (f64, u64)| ChildRound {
            wall: secs(wall),
            peak_rss_bytes: Some(peak),
        };
        Round {
            yardstick: secs(0.1),
            engine_wall: secs(1.0),
            engine: EngineReport {
                rows_per_data_source: serde_json::Map::new(),
                phases: vec![
                    EnginePhase {
                        name: "read".into(),
                        seconds: 0.2,
                        peak_rss_bytes: Some(10),
                    },
                    EnginePhase {
                        name: "write".into(),
                        seconds: write,
                        peak_rss_bytes: Some(20),
                    },
                ],
                peak_rss_bytes: Some(20),
            },
            engine_file: child(file),
            duckdb: duckdb.map(child),
            copy_in: secs(copy_in),
            trino: None,
            postgres_source: None,
        }
    }

    fn summary(rounds: &[Round], cli: Option<&str>) -> BenchSummary {
        summarise(
            "typical",
            "test".into(),
            (1, 1),
            rounds,
            None,
            cli.map(str::to_string),
        )
    }

    #[test]
    fn the_side_by_side_ratios_are_the_engines_medians_over_the_others() {
        let rounds = [
            round(0.6, (1.0, 100), Some((4.0, 400)), 0.2),
            round(0.9, (3.0, 300), Some((2.0, 1000)), 0.3),
            round(0.3, (2.0, 200), Some((8.0, 500)), 0.1),
        ];
        let s = summary(&rounds, Some("DuckDB 1.5.6"));
        assert_eq!(s.engine_file.wall_seconds.median, 2.0);
        assert_eq!(s.engine_file.peak_rss_bytes, 300);
        let duckdb = s.duckdb.as_ref().expect("DuckDB ran every round");
        assert_eq!(duckdb.cli, "DuckDB 1.5.6");
        assert_eq!(
            (duckdb.wall_seconds.median, duckdb.peak_rss_bytes),
            (4.0, 1000)
        );
        // Engine over DuckDB: 2.0 / 4.0 s, 300 / 1000 bytes (peaks, not medians).
        assert_eq!(duckdb.engine_over_duckdb_time, 0.5);
        assert_eq!(duckdb.engine_over_duckdb_memory, 0.3);
        // Write phase median 0.6 over COPY median 0.2.
        assert_eq!(s.copy_in.seconds.median, 0.2);
        assert!((s.copy_in.write_over_copy - 3.0).abs() < 1e-12);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["duckdb"]["cli"], "DuckDB 1.5.6");
        assert_eq!(json["engine_file"]["peak_rss_bytes"], 300);
        assert_eq!(json["copy_in"]["seconds"]["median"], 0.2);
        let text = render(&s);
        for words in [
            "engine to a Parquet file",
            "DuckDB 1.5.6: query to Parquet",
            "copy-in",
            "time 0.500, peak memory 0.300",
            "COPY FROM (medians): 3.00",
        ] {
            assert!(text.contains(words), "{words:?} missing from:\n{text}");
        }
    }

    #[test]
    fn duckdb_is_left_out_when_it_did_not_run_every_round() {
        let rounds = [
            round(0.6, (1.0, 100), Some((4.0, 400)), 0.2),
            round(0.6, (1.0, 100), None, 0.2),
        ];
        assert!(summary(&rounds, Some("DuckDB 1.5.6")).duckdb.is_none());
        let rounds = [round(0.6, (1.0, 100), None, 0.2)];
        let s = summary(&rounds, None);
        assert!(s.duckdb.is_none());
        assert!(serde_json::to_value(&s).unwrap()["duckdb"].is_null());
        assert!(!render(&s).contains("DuckDB"));
    }

    #[test]
    fn differing_row_counts_fail_with_both_counts() {
        assert_eq!(check_same_rows(15_476, 15_476), Ok(()));
        let err = check_same_rows(15_476, 15_475).unwrap_err();
        assert!(err.contains("15475") && err.contains("15476"), "{err}");
    }
}
