//! A night's folder read into a [`Night`] (the files are listed in the module contract of
//! [`super`]). The views below are the only place that knows the JSON of `ocp-harness bench`,
//! `compare` and criterion (cargo-mutants' `outcomes.json` reads as a [`MutationScore`]). Every
//! bench figure is optional, so that a bench JSON without the `engine_file`, `duckdb` or
//! `copy_in` objects, or with fields this module does not know, reads the same way.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::{
    json_lines, CompareOutcome, CriterionMedian, MutationScore, Night, PropertyRun, Ratios,
    ScaleFigures, Step, StepStatus,
};

/// `run.json`, written by `just nightly` before its first step.
#[derive(Debug, Deserialize)]
struct RunJson {
    date: String,
    #[serde(default)]
    commit: Option<String>,
}

/// One line of `steps.jsonl`.
#[derive(Debug, Deserialize)]
struct StepLine {
    name: String,
    #[serde(default)]
    exit_code: Option<i32>,
    #[serde(default)]
    seconds: Option<f64>,
    #[serde(default)]
    skipped: bool,
    #[serde(default)]
    detail: Option<String>,
    /// The property budget the step ran with: a case count, or a factor on the suite's counts.
    #[serde(default)]
    cases: Option<u64>,
    #[serde(default)]
    factor: Option<u64>,
}

/// `median`, the figure the night keeps, of the bench's `Spread` (`{median, min, max}`).
#[derive(Debug, Deserialize)]
struct SpreadJson {
    median: f64,
}

/// The part of `ocp-harness bench --json` the night keeps.
#[derive(Debug, Deserialize)]
struct BenchJson {
    scale: String,
    #[serde(default)]
    machine: Option<String>,
    #[serde(default)]
    rounds: Option<u64>,
    #[serde(default)]
    rows_written: Option<u64>,
    #[serde(default)]
    yardstick_seconds: Option<SpreadJson>,
    #[serde(default)]
    engine_wall_seconds: Option<SpreadJson>,
    #[serde(default)]
    peak_rss_bytes: Option<u64>,
    #[serde(default)]
    engine_over_yardstick: Option<f64>,
    #[serde(default)]
    trino: Option<TrinoJson>,
    #[serde(default)]
    engine_file: Option<EngineFileJson>,
    #[serde(default)]
    duckdb: Option<DuckdbJson>,
    #[serde(default)]
    copy_in: Option<CopyInJson>,
}

#[derive(Debug, Deserialize)]
struct TrinoJson {
    #[serde(default)]
    query_seconds: Option<SpreadJson>,
    #[serde(default)]
    engine_over_trino: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct EngineFileJson {
    #[serde(default)]
    wall_seconds: Option<SpreadJson>,
    #[serde(default)]
    peak_rss_bytes: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct DuckdbJson {
    #[serde(default)]
    wall_seconds: Option<SpreadJson>,
    #[serde(default)]
    peak_rss_bytes: Option<u64>,
    #[serde(default)]
    engine_over_duckdb_time: Option<f64>,
    #[serde(default)]
    engine_over_duckdb_memory: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct CopyInJson {
    #[serde(default)]
    seconds: Option<SpreadJson>,
    #[serde(default)]
    write_over_copy: Option<f64>,
}

/// The part of `compare`'s `report.json` the night keeps.
#[derive(Debug, Deserialize)]
struct CompareJson {
    verdict: String,
    engine: SideJson,
    oracle: SideJson,
    comparison: ComparisonJson,
}

#[derive(Debug, Deserialize)]
struct SideJson {
    seconds: f64,
}

#[derive(Debug, Deserialize)]
struct ComparisonJson {
    engine_rows: u64,
    oracle_rows: u64,
    matched: u64,
    verdict: ComparisonVerdictJson,
}

#[derive(Debug, Deserialize)]
struct ComparisonVerdictJson {
    worst_relative_error: f64,
}

/// criterion's `estimates.json`: the median's point estimate (ns).
#[derive(Debug, Deserialize)]
struct EstimatesJson {
    median: PointEstimate,
}

#[derive(Debug, Deserialize)]
struct PointEstimate {
    point_estimate: f64,
}

/// Reads the night in `dir`. Fails only when `dir` or its `steps.jsonl` cannot be read (no
/// night ran there); any other file that cannot be read is named in [`Night::unreadable`].
/// `machine` is the machine's description, used when no bench file names one.
pub fn read_night(dir: &Path, machine: &str) -> Result<Night, String> {
    let lines = read_steps(&dir.join("steps.jsonl"))?;
    let mut unreadable = Vec::new();
    let run: Option<RunJson> = optional(&dir.join("run.json"), &mut unreadable);
    let benches: Vec<BenchJson> = lines
        .iter()
        .filter_map(|l| l.name.strip_prefix("bench-"))
        .filter_map(|scale| optional(&dir.join(format!("bench-{scale}.json")), &mut unreadable))
        .collect();
    let compares = compare_names(dir)
        .into_iter()
        .filter_map(|name| {
            let path = latest_report(&dir.join(format!("compare-{name}")))?;
            let report: CompareJson = optional(&path, &mut unreadable)?;
            Some(compare_outcome(name, report))
        })
        .collect();
    let mutation: Option<MutationScore> = optional(&dir.join("mutants.json"), &mut unreadable);
    let criterion = read_criterion(&dir.join("criterion"), &mut unreadable);
    let date = match run {
        Some(ref run) => run.date.clone(),
        None => date_of_folder(dir)?,
    };
    Ok(Night {
        date,
        machine: benches
            .iter()
            .find_map(|b| b.machine.clone())
            .or_else(|| Some(machine.to_string())),
        commit: run.and_then(|r| r.commit),
        note: None,
        properties: lines
            .iter()
            .filter_map(|l| property_run(l, &dir.join("logs")))
            .collect(),
        steps: lines.into_iter().map(step).collect(),
        scales: benches.into_iter().map(scale_figures).collect(),
        compares,
        criterion,
        mutation,
        unreadable,
    })
}

/// The JSON file at `path` as `T`; `None` when there is no such file, or (named with why in
/// `unreadable`) when it cannot be read as `T`.
fn optional<T: DeserializeOwned>(path: &Path, unreadable: &mut Vec<String>) -> Option<T> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            unreadable.push(format!("{}: {e}", path.display()));
            return None;
        }
    };
    serde_json::from_str(&text)
        .map_err(|e| unreadable.push(format!("{}: {e}", path.display())))
        .ok()
}

/// The lines of `steps.jsonl`, in order.
fn read_steps(path: &Path) -> Result<Vec<StepLine>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read {} (is this a night `just nightly` wrote?): {e}",
            path.display()
        )
    })?;
    json_lines(&text, path, "")
}

/// The night's date from its folder's name, which `just nightly` makes the UTC date.
fn date_of_folder(dir: &Path) -> Result<String, String> {
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    chrono::NaiveDate::parse_from_str(&name, "%Y-%m-%d")
        .map(|_| name.clone())
        .map_err(|_| {
            format!(
                "{} has no run.json and its name {name:?} is not a date YYYY-MM-DD",
                dir.display()
            )
        })
}

fn step(line: StepLine) -> Step {
    let status = match (line.skipped, line.exit_code) {
        (true, _) => StepStatus::Skipped,
        (false, Some(0)) => StepStatus::Passed,
        (false, _) => StepStatus::Failed,
    };
    let budget = budget(&line);
    Step {
        name: line.name,
        status,
        exit_code: line.exit_code,
        seconds: line.seconds,
        detail: line.detail.or(budget),
    }
}

/// A property step's budget in words.
fn budget(line: &StepLine) -> Option<String> {
    match (line.cases, line.factor) {
        (Some(cases), _) => Some(format!("{cases} cases")),
        (None, Some(factor)) => Some(format!("{factor}× the suite's case counts")),
        (None, None) => None,
    }
}

/// The property suite a step ran, if it is one (`property-<suite>`), with the tally its log in
/// `logs` has.
fn property_run(line: &StepLine, logs: &Path) -> Option<PropertyRun> {
    line.name.strip_prefix("property-")?;
    Some(PropertyRun {
        step: line.name.clone(),
        budget: budget(line).unwrap_or_else(|| "the suite's own".to_string()),
        passed: !line.skipped && line.exit_code == Some(0),
        seconds: line.seconds,
        tally: tally(&logs.join(format!("{}.log", line.name))),
    })
}

/// The last line of the log at `path` that starts with a number and ` cases`.
fn tally(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .rev()
        .find(|l| {
            l.split_once(" cases")
                .is_some_and(|(n, _)| n.parse::<u64>().is_ok())
        })
        .map(str::to_string)
}

fn median(spread: Option<SpreadJson>) -> Option<f64> {
    spread.map(|s| s.median)
}

fn scale_figures(bench: BenchJson) -> ScaleFigures {
    let (trino_query_seconds, engine_over_trino) = bench.trino.map_or((None, None), |t| {
        (median(t.query_seconds), t.engine_over_trino)
    });
    let (engine_file_wall_seconds, engine_file_peak_rss_bytes) = bench
        .engine_file
        .map_or((None, None), |f| (median(f.wall_seconds), f.peak_rss_bytes));
    let (
        duckdb_wall_seconds,
        duckdb_peak_rss_bytes,
        engine_over_duckdb_time,
        engine_over_duckdb_memory,
    ) = bench.duckdb.map_or((None, None, None, None), |d| {
        (
            median(d.wall_seconds),
            d.peak_rss_bytes,
            d.engine_over_duckdb_time,
            d.engine_over_duckdb_memory,
        )
    });
    let (copy_in_seconds, write_over_copy) = bench
        .copy_in
        .map_or((None, None), |c| (median(c.seconds), c.write_over_copy));
    ScaleFigures {
        scale: bench.scale,
        rounds: bench.rounds,
        rows_written: bench.rows_written,
        engine_wall_seconds: median(bench.engine_wall_seconds),
        yardstick_seconds: median(bench.yardstick_seconds),
        peak_rss_bytes: bench.peak_rss_bytes,
        engine_file_wall_seconds,
        engine_file_peak_rss_bytes,
        duckdb_wall_seconds,
        duckdb_peak_rss_bytes,
        trino_query_seconds,
        copy_in_seconds,
        ratios: Ratios {
            engine_over_yardstick: bench.engine_over_yardstick,
            engine_over_duckdb_time,
            engine_over_duckdb_memory,
            write_over_copy,
            engine_over_trino,
        },
    }
}

/// The names of the night's `compare-<name>` folders, sorted.
fn compare_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_prefix("compare-"))
                .map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

/// The `report.json` of the latest run folder under `dir` (folders are named by their UTC
/// start, so the latest sorts last).
fn latest_report(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path().join("report.json"))
        .filter(|p| p.is_file())
        .max()
}

fn compare_outcome(name: String, report: CompareJson) -> CompareOutcome {
    CompareOutcome {
        name,
        verdict: report.verdict,
        engine_rows: report.comparison.engine_rows,
        oracle_rows: report.comparison.oracle_rows,
        matched: report.comparison.matched,
        worst_relative_error: report.comparison.verdict.worst_relative_error,
        engine_seconds: report.engine.seconds,
        oracle_seconds: report.oracle.seconds,
    }
}

/// The median of every `estimates.json` under `root`, named by its folder relative to `root`,
/// sorted by name.
fn read_criterion(root: &Path, unreadable: &mut Vec<String>) -> Vec<CriterionMedian> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for path in std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
        {
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|n| n == "estimates.json") {
                let estimates: Option<EstimatesJson> = optional(&path, unreadable);
                found.extend(estimates.map(|e| CriterionMedian {
                    bench: bench_name(root, &path),
                    median_ns: e.median.point_estimate,
                }));
            }
        }
    }
    found.sort_by(|a, b| a.bench.cmp(&b.bench));
    found
}

/// `root/<group>/<bench>/estimates.json` → `<group>/<bench>`.
fn bench_name(root: &Path, estimates: &Path) -> String {
    estimates
        .parent()
        .and_then(|p| p.strip_prefix(root).ok())
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes `text` to `dir/name`, making folders.
    pub(crate) fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// The bench JSON of today's `ocp-harness bench`: none of the optional objects.
    const BENCH_WITHOUT_OPTIONAL: &str = r#"{"scale": "typical", "machine": "2 cores (AMD EPYC), 24 GiB",
        "rounds": 5, "parquet_files": 240, "parquet_bytes": 11015188, "rows_written": 15476,
        "yardstick_seconds": {"median": 0.08, "min": 0.07, "max": 0.1},
        "engine_wall_seconds": {"median": 0.45, "min": 0.32, "max": 0.62},
        "phase_seconds": [["read", {"median": 0.07, "min": 0.06, "max": 0.13}]],
        "peak_rss_bytes": 49795072, "phase_peak_rss_bytes": [["read", 27643904]],
        "engine_over_yardstick": 5.625, "trino": null, "postgres_source": null}"#;

    /// With the objects another bench adds: engine_file, duckdb, copy_in.
    const BENCH_WITH_OPTIONAL: &str = r#"{"scale": "large", "rounds": 3, "rows_written": 141576,
        "yardstick_seconds": {"median": 0.5, "min": 0.4, "max": 0.6},
        "engine_wall_seconds": {"median": 4.0, "min": 3.9, "max": 4.2},
        "peak_rss_bytes": 346030080, "engine_over_yardstick": 8.0,
        "engine_file": {"wall_seconds": {"median": 2.5, "min": 2.4, "max": 2.6}, "peak_rss_bytes": 300000000},
        "duckdb": {"cli": "duckdb 1.5.6", "wall_seconds": {"median": 5.0, "min": 4.9, "max": 5.1},
                   "peak_rss_bytes": 600000000, "engine_over_duckdb_time": 0.5, "engine_over_duckdb_memory": 0.5},
        "copy_in": {"seconds": {"median": 1.0, "min": 0.9, "max": 1.1}, "write_over_copy": 1.25},
        "a_field_added_later": [1, 2]}"#;

    const STEPS: &str = r#"{"name":"build","exit_code":0,"seconds":120.5}
{"name":"bench-typical","exit_code":0,"seconds":30.0}
{"name":"bench-large","exit_code":0,"seconds":90.0}
{"name":"compare-typical","exit_code":0,"seconds":3.0}
{"name":"property-oracle","exit_code":101,"seconds":400.0,"cases":2048}
{"name":"property-metamorphic","exit_code":0,"seconds":200.0,"factor":8}
{"name":"criterion","skipped":true,"detail":"no bench target kernels in ocp-harness yet"}
"#;

    /// A night's folder as `just nightly` leaves it, with a failing property suite.
    pub(crate) fn sample_night_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "run.json",
            r#"{"date":"2026-12-02","started_at":"2026-12-02T18:30:00Z","commit":"abc123","scales":"typical large"}"#,
        );
        write(d, "steps.jsonl", STEPS);
        write(
            d,
            "logs/property-oracle.log",
            "running 1 test\n2048 cases; with Pod rows 1662, with Storage rows 1410\ntest … ok\n",
        );
        write(d, "bench-typical.json", BENCH_WITHOUT_OPTIONAL);
        write(d, "bench-large.json", BENCH_WITH_OPTIONAL);
        write(
            d,
            "compare-typical/20261202T183000Z/report.json",
            r#"{"verdict": "GO", "rows_match": true, "engine": {"seconds": 0.15, "peak_mib": 80.0, "phases": []},
               "oracle": {"seconds": 0.22, "peak_mib": 147.0, "phases": []},
               "comparison": {"engine_rows": 15476, "oracle_rows": 15476, "matched": 15476,
                              "verdict": {"worst_relative_error": 0.0, "within_tolerance": true}}}"#,
        );
        write(
            d,
            "criterion/columns/decode/estimates.json",
            r#"{"mean": {"point_estimate": 1200.0}, "median": {"point_estimate": 1150.5}}"#,
        );
        write(
            d,
            "mutants.json",
            r#"{"total_mutants": 50, "caught": 45, "missed": 3, "timeout": 1, "unviable": 1, "outcomes": []}"#,
        );
        dir
    }

    #[test]
    fn a_night_folder_reads_into_one_record() {
        let dir = sample_night_dir();
        let night = read_night(dir.path(), "this machine").unwrap();
        assert_eq!(night.date, "2026-12-02");
        assert_eq!(night.commit.as_deref(), Some("abc123"));
        assert_eq!(night.machine.as_deref(), Some("2 cores (AMD EPYC), 24 GiB"));
        assert_eq!(night.steps.len(), 7);
        assert_eq!(night.steps[4].status, StepStatus::Failed);
        assert_eq!(night.steps[6].status, StepStatus::Skipped);
        assert_eq!(night.steps[4].detail.as_deref(), Some("2048 cases"));
        assert_eq!(
            night.properties,
            vec![
                PropertyRun {
                    step: "property-oracle".into(),
                    budget: "2048 cases".into(),
                    passed: false,
                    seconds: Some(400.0),
                    tally: Some("2048 cases; with Pod rows 1662, with Storage rows 1410".into()),
                },
                PropertyRun {
                    step: "property-metamorphic".into(),
                    budget: "8× the suite's case counts".into(),
                    passed: true,
                    seconds: Some(200.0),
                    tally: None,
                },
            ]
        );
        assert_eq!(night.compares.len(), 1);
        assert_eq!(night.compares[0].name, "typical");
        assert_eq!(night.compares[0].verdict, "GO");
        assert_eq!(night.compares[0].matched, 15476);
        assert_eq!(
            night.criterion,
            vec![CriterionMedian {
                bench: "columns/decode".into(),
                median_ns: 1150.5
            }]
        );
        assert_eq!(night.mutation.unwrap().caught, 45);
        assert!(night.unreadable.is_empty(), "{:?}", night.unreadable);
    }

    #[test]
    fn missing_optional_figures_are_absent_not_zero() {
        let dir = sample_night_dir();
        let night = read_night(dir.path(), "m").unwrap();
        let typical = night.scale("typical").unwrap();
        assert_eq!(typical.engine_wall_seconds, Some(0.45));
        assert_eq!(typical.ratios.engine_over_yardstick, Some(5.625));
        for absent in [
            typical.engine_file_wall_seconds,
            typical.duckdb_wall_seconds,
            typical.copy_in_seconds,
            typical.trino_query_seconds,
            typical.ratios.engine_over_duckdb_time,
            typical.ratios.engine_over_duckdb_memory,
            typical.ratios.write_over_copy,
        ] {
            assert_eq!(absent, None);
        }
        assert_eq!(typical.engine_file_peak_rss_bytes, None);
        assert_eq!(typical.duckdb_peak_rss_bytes, None);
        let large = night.scale("large").unwrap();
        assert_eq!(large.engine_file_wall_seconds, Some(2.5));
        assert_eq!(large.engine_file_peak_rss_bytes, Some(300000000));
        assert_eq!(large.duckdb_wall_seconds, Some(5.0));
        assert_eq!(large.copy_in_seconds, Some(1.0));
        assert_eq!(large.ratios.engine_over_duckdb_memory, Some(0.5));
        assert_eq!(large.ratios.write_over_copy, Some(1.25));
    }

    #[test]
    fn a_file_that_exists_but_does_not_read_is_named() {
        let dir = sample_night_dir();
        write(dir.path(), "bench-typical.json", "{\"scale\": \"typ");
        write(dir.path(), "criterion/columns/decode/estimates.json", "{}");
        let night = read_night(dir.path(), "m").unwrap();
        assert_eq!(night.unreadable.len(), 2, "{:?}", night.unreadable);
        assert!(night.unreadable[0].contains("bench-typical.json"));
        assert!(night.unreadable[1].contains("estimates.json"));
        assert!(night.scale("typical").is_none());
        assert!(night.scale("large").is_some());
    }

    #[test]
    fn a_folder_without_steps_is_no_night_and_without_run_json_the_folder_names_the_date() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_night(dir.path(), "m")
            .unwrap_err()
            .contains("steps.jsonl"));
        let night_dir = dir.path().join("2026-11-30");
        write(
            &night_dir,
            "steps.jsonl",
            "{\"name\":\"build\",\"exit_code\":0,\"seconds\":1}\n",
        );
        assert_eq!(read_night(&night_dir, "m").unwrap().date, "2026-11-30");
        assert_eq!(
            read_night(&night_dir, "m").unwrap().machine.as_deref(),
            Some("m")
        );
    }
}
