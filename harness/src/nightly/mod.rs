//! The nightly report (`ocp-harness nightly-report`, run last by `just nightly`): one night's
//! files read into a [`Night`], judged against the earlier nights of the history, and rendered as
//! `night.json`, `index.md` and `index.html` (trend charts and this night's tables).
//!
//! Contracts:
//! - A night's folder holds what `just nightly` wrote: `run.json` (date, start, commit),
//!   `steps.jsonl` (one line per step: name, exit code, seconds, or `skipped` with a reason),
//!   `bench-<scale>.json` (`ocp-harness bench --json`), `compare-<name>/<UTC stamp>/report.json`
//!   (`ocp-harness compare`), `criterion/<bench path>/estimates.json` and `mutants.json`
//!   (cargo-mutants' `outcomes.json`). Every file but `steps.jsonl` may be missing: its figures
//!   are then absent from the night, not zero. A file that is there but cannot be read is named
//!   in [`Night::unreadable`], which fails the night ([`judge`]).
//! - The history is a JSON Lines file of nights, one line per date, oldest first
//!   ([`history::with_night`] replaces a line of the same date).
//! - The verdict ([`judge::judge`]) fails the night on any correctness failure (a failed step, a
//!   compare whose verdict is not GO, an unreadable file) and on any judged ratio more than 15 %
//!   above the median of the same scale's ratio over the last five earlier nights that have it.

pub mod history;
pub mod judge;
pub mod page;
pub mod read;

use serde::{Deserialize, Serialize};

/// Everything one night measured and checked; one line of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Night {
    /// The UTC date the night ran, `YYYY-MM-DD`: the history's key.
    pub date: String,
    /// CPU, cores and memory of the machine.
    #[serde(default)]
    pub machine: Option<String>,
    /// The commit measured.
    #[serde(default)]
    pub commit: Option<String>,
    /// Where the figures come from when they were not measured by `just nightly` (e.g. a night
    /// transcribed from docs/performance.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default)]
    pub steps: Vec<Step>,
    /// The benches, in the order of their steps.
    #[serde(default)]
    pub scales: Vec<ScaleFigures>,
    /// The compare reports, by name (`typical`, `large`, `nise`).
    #[serde(default)]
    pub compares: Vec<CompareOutcome>,
    #[serde(default)]
    pub properties: Vec<PropertyRun>,
    #[serde(default)]
    pub criterion: Vec<CriterionMedian>,
    #[serde(default)]
    pub mutation: Option<MutationScore>,
    /// Files of the night that exist but could not be read, each with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
}

/// How one step of the night ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Passed,
    Failed,
    /// Could not run here (e.g. the criterion bench does not exist yet): not a failure.
    Skipped,
}

/// One step of `just nightly`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub status: StepStatus,
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub seconds: Option<f64>,
    /// Why a step was skipped, or its budget.
    #[serde(default)]
    pub detail: Option<String>,
}

/// One scale's bench figures (medians of the bench's rounds); `None` where the bench did not
/// measure it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScaleFigures {
    pub scale: String,
    #[serde(default)]
    pub rounds: Option<u64>,
    #[serde(default)]
    pub rows_written: Option<u64>,
    /// The engine process to PostgreSQL, start to exit.
    #[serde(default)]
    pub engine_wall_seconds: Option<f64>,
    #[serde(default)]
    pub yardstick_seconds: Option<f64>,
    #[serde(default)]
    pub peak_rss_bytes: Option<u64>,
    /// The engine process writing a file instead.
    #[serde(default)]
    pub engine_file_wall_seconds: Option<f64>,
    #[serde(default)]
    pub engine_file_peak_rss_bytes: Option<u64>,
    /// The reference query on the DuckDB CLI over the same month.
    #[serde(default)]
    pub duckdb_wall_seconds: Option<f64>,
    #[serde(default)]
    pub duckdb_peak_rss_bytes: Option<u64>,
    /// The reference query on the local Trino (its own elapsed time).
    #[serde(default)]
    pub trino_query_seconds: Option<f64>,
    /// A plain COPY of the written rows into PostgreSQL.
    #[serde(default)]
    pub copy_in_seconds: Option<f64>,
    #[serde(default)]
    pub ratios: Ratios,
}

/// Each non-blank line of `text` (the file at `path`) parsed as JSON, in order. A line that does
/// not parse fails, naming the file and the line, its message after `what`.
fn json_lines<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &std::path::Path,
    what: &str,
) -> Result<Vec<T>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line)
                .map_err(|e| format!("{}, line {}: {what}{e}", path.display(), i + 1))
        })
        .collect()
}

/// The ratios of one scale; lower is better for all of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Ratios {
    #[serde(default)]
    pub engine_over_yardstick: Option<f64>,
    #[serde(default)]
    pub engine_over_duckdb_time: Option<f64>,
    #[serde(default)]
    pub engine_over_duckdb_memory: Option<f64>,
    #[serde(default)]
    pub write_over_copy: Option<f64>,
    #[serde(default)]
    pub engine_over_trino: Option<f64>,
}

/// One of [`Ratios`], named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ratio {
    EngineOverYardstick,
    EngineOverDuckdbTime,
    EngineOverDuckdbMemory,
    WriteOverCopy,
    EngineOverTrino,
}

impl Ratio {
    pub const ALL: [Ratio; 5] = [
        Ratio::EngineOverYardstick,
        Ratio::EngineOverDuckdbTime,
        Ratio::EngineOverDuckdbMemory,
        Ratio::WriteOverCopy,
        Ratio::EngineOverTrino,
    ];

    /// The ratios the verdict judges. engine / Trino is shown but not judged: `just nightly`
    /// does not start Trino, so nights seldom have it.
    pub const JUDGED: [Ratio; 4] = [
        Ratio::EngineOverYardstick,
        Ratio::EngineOverDuckdbTime,
        Ratio::EngineOverDuckdbMemory,
        Ratio::WriteOverCopy,
    ];

    /// The ratio's value in `ratios`.
    pub fn of(self, ratios: &Ratios) -> Option<f64> {
        match self {
            Ratio::EngineOverYardstick => ratios.engine_over_yardstick,
            Ratio::EngineOverDuckdbTime => ratios.engine_over_duckdb_time,
            Ratio::EngineOverDuckdbMemory => ratios.engine_over_duckdb_memory,
            Ratio::WriteOverCopy => ratios.write_over_copy,
            Ratio::EngineOverTrino => ratios.engine_over_trino,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Ratio::EngineOverYardstick => "engine / yardstick",
            Ratio::EngineOverDuckdbTime => "engine / DuckDB, time",
            Ratio::EngineOverDuckdbMemory => "engine / DuckDB, memory",
            Ratio::WriteOverCopy => "write / COPY",
            Ratio::EngineOverTrino => "engine / Trino",
        }
    }
}

impl Night {
    /// The figures of `scale`, if it was benched.
    pub fn scale(&self, scale: &str) -> Option<&ScaleFigures> {
        self.scales.iter().find(|s| s.scale == scale)
    }
}

/// One compare report's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareOutcome {
    /// What was compared: `typical`, `large`, `nise`.
    pub name: String,
    /// `GO`, `REVIEW` or `NO-GO`.
    pub verdict: String,
    pub engine_rows: u64,
    pub oracle_rows: u64,
    pub matched: u64,
    pub worst_relative_error: f64,
    pub engine_seconds: f64,
    pub oracle_seconds: f64,
}

/// A property suite's run at the nightly budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyRun {
    /// The step that ran it.
    pub step: String,
    /// The case count, or the factor on the suite's own counts.
    pub budget: String,
    pub passed: bool,
    #[serde(default)]
    pub seconds: Option<f64>,
    /// What the suite says it ran, from its log: the line starting with its case count (e.g.
    /// `2048 cases; with Pod rows 1662, …`), when it prints one.
    #[serde(default)]
    pub tally: Option<String>,
}

/// One criterion benchmark's median.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionMedian {
    /// `<group>/<bench>` (criterion's folder under its output).
    pub bench: String,
    /// The median's point estimate, nanoseconds.
    pub median_ns: f64,
}

/// cargo-mutants' outcome counts, as its `outcomes.json` has them at the top (its other fields
/// ignored; a count it leaves out is 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MutationScore {
    #[serde(default)]
    pub caught: u64,
    #[serde(default)]
    pub missed: u64,
    #[serde(default)]
    pub timeout: u64,
    #[serde(default)]
    pub unviable: u64,
}

impl MutationScore {
    /// Caught and timed-out mutants over all viable ones, in percent (as `just mutants` prints
    /// it); `None` when no mutant was viable.
    pub fn percent(&self) -> Option<f64> {
        let viable = self.caught + self.missed + self.timeout;
        (viable > 0).then(|| 100.0 * (self.caught + self.timeout) as f64 / viable as f64)
    }
}

/// A night of `date` with no step and one scale, `typical`, whose engine / yardstick is `ratio`
/// (the tests' earlier nights).
#[cfg(test)]
pub(crate) fn typical_night(date: &str, ratio: Option<f64>) -> Night {
    Night {
        date: date.to_string(),
        machine: None,
        commit: None,
        note: None,
        steps: Vec::new(),
        scales: vec![ScaleFigures {
            scale: "typical".to_string(),
            ratios: Ratios {
                engine_over_yardstick: ratio,
                ..Ratios::default()
            },
            ..ScaleFigures::default()
        }],
        compares: Vec::new(),
        properties: Vec::new(),
        criterion: Vec::new(),
        mutation: None,
        unreadable: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mutation_score_counts_timeouts_as_caught_and_ignores_unviable_mutants() {
        // docs/testing.md's numeric.rs run: 45 caught, 3 missed, 1 timeout, 1 unviable.
        let score = MutationScore {
            caught: 45,
            missed: 3,
            timeout: 1,
            unviable: 1,
        };
        // (45 + 1) / 49 = 93.877…
        assert!((score.percent().unwrap() - 4600.0 / 49.0).abs() < 1e-12);
        let none = MutationScore {
            caught: 0,
            missed: 0,
            timeout: 0,
            unviable: 3,
        };
        assert_eq!(none.percent(), None);
    }
}
