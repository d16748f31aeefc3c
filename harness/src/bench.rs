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

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

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
    /// The same month on the local Trino, when benched.
    pub trino: Option<TrinoRound>,
    /// The engine reading koku's on-prem tables, when benched.
    pub postgres_source: Option<PostgresSourceRound>,
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
    pub report_json: &'a Path,
}

impl EngineInvocation<'_> {
    /// Runs `ocp-engine aggregate` to PostgreSQL; returns its wall clock and its JSON report.
    pub fn run(&self) -> Result<(Duration, EngineReport), String> {
        let started = Instant::now();
        let output = Command::new(self.binary)
            .args(["aggregate", "--quiet", "--config"])
            .arg(self.config)
            .args(
                self.input
                    .map(|input| ["--input", input])
                    .into_iter()
                    .flatten(),
            )
            .args(["--postgres-url", self.postgres_url, "--schema", self.schema])
            .arg("--report-json")
            .arg(self.report_json)
            .output()
            .map_err(|e| format!("cannot start {}: {e}", self.binary.display()))?;
        let wall = started.elapsed();
        if !output.status.success() {
            return Err(format!(
                "{} failed ({}): {}",
                self.binary.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let text = std::fs::read_to_string(self.report_json)
            .map_err(|e| format!("cannot read {}: {e}", self.report_json.display()))?;
        let report = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{} is not the engine's report: {e}",
                self.report_json.display()
            )
        })?;
        Ok((wall, report))
    }
}

/// Sums up the rounds. `rounds` must not be empty; `trino` is what the Trino bench adds when
/// every round ran Trino: (server, startup seconds, server peak RSS).
pub fn summarise(
    scale: &str,
    machine: String,
    files: (usize, u64),
    rounds: &[Round],
    trino: Option<(String, f64, Option<u64>)>,
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
    BenchSummary {
        postgres_source,
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
        "{:<28} {:>9} {:>9} {:>9} {:>12}\n",
        "seconds", "median", "min", "max", "peak RSS"
    ));
    let line = |name: &str, s: &Spread, rss: Option<u64>| {
        format!(
            "{:<28} {:>9.3} {:>9.3} {:>9.3} {:>12}\n",
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
}
