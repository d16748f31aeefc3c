//! The go/no-go report of one `compare` run, computed once and rendered in every form
//! (terminal, Markdown, HTML, JSON).
//!
//! Contracts:
//! - The criteria are [`criteria`]'s, measured as: the engine's **end-to-end** seconds (the wall
//!   clock of the whole in-process run, as the caller timed it), the engine's peak resident memory
//!   (the largest of its phases'), and the comparison's worst relative error × 100 (percent).
//! - Rows **match** when no row is on one side only and no value or category is NULL-mismatched
//!   or different in category: defects the relative error cannot show. Values over tolerance
//!   are the third criterion's business, not this flag's.
//! - The overall verdict is [`overall`] of those criteria and that flag.
//! - Memory is in MiB (2^20 bytes), time in seconds; `None` means not measured.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use ocp_engine::run::RunReport;
use serde::Serialize;

use super::verdict::{criteria, overall, Criterion, Verdict};
use crate::compare::Comparison;
use crate::oracle::OracleRun;

/// The engine's version: the workspace's, which the harness shares.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Which run this is: what ran, on what, when, where.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identity {
    pub engine_version: String,
    pub run_id: String,
    /// The oracle's own description ([`crate::oracle::Oracle::describe`]).
    pub oracle: String,
    /// The input: config file, source, days, location.
    pub dataset: String,
    /// RFC 3339, UTC, seconds.
    pub started_at: String,
    /// CPU, cores and memory ([`crate::bench::machine_description`]).
    pub machine: String,
}

/// Time and peak memory of one phase.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseTiming {
    pub name: String,
    pub seconds: f64,
    pub peak_mib: Option<f64>,
}

/// One side's time and memory: end to end, and per phase where the side reports phases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideTiming {
    pub seconds: f64,
    pub peak_mib: Option<f64>,
    /// Empty for a side that reports no phases (the DuckDB oracle is one child process).
    pub phases: Vec<PhaseTiming>,
}

impl SideTiming {
    /// The engine's phases as it reported them, end to end as the caller timed the run.
    fn of_engine(engine: &RunReport, wall: Duration) -> Self {
        SideTiming {
            seconds: wall.as_secs_f64(),
            peak_mib: engine.peak_rss_bytes().map(to_mib),
            phases: engine
                .phases
                .iter()
                .map(|p| PhaseTiming {
                    name: p.name.to_string(),
                    seconds: p.elapsed.as_secs_f64(),
                    peak_mib: p.peak_rss_bytes.map(to_mib),
                })
                .collect(),
        }
    }

    /// An oracle run: one figure, start to exit.
    fn of_oracle(oracle: &OracleRun) -> Self {
        SideTiming {
            seconds: oracle.elapsed.as_secs_f64(),
            peak_mib: oracle.peak_rss_bytes.map(to_mib),
            phases: Vec::new(),
        }
    }
}

/// A criterion and where its measured value stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionResult {
    #[serde(flatten)]
    pub criterion: Criterion,
    pub verdict: Verdict,
}

/// Everything a go/no-go report shows; serialised as is for the JSON form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareReport {
    pub verdict: Verdict,
    /// See the module contract.
    pub rows_match: bool,
    pub identity: Identity,
    pub criteria: Vec<CriterionResult>,
    pub engine: SideTiming,
    pub oracle: SideTiming,
    pub comparison: Comparison,
}

/// What the report needs besides the two runs and their comparison.
#[derive(Debug, Clone)]
pub struct Context {
    /// The oracle's description.
    pub oracle: String,
    /// The dataset's description.
    pub dataset: String,
    pub started_at: DateTime<Utc>,
    /// Wall clock of the engine's whole run, the time criterion's value.
    pub engine_wall: Duration,
}

impl CompareReport {
    /// The report of one engine run and one oracle run on the same input, and their comparison.
    pub fn new(
        engine: &RunReport,
        oracle: &OracleRun,
        comparison: Comparison,
        context: Context,
    ) -> Self {
        let engine_timing = SideTiming::of_engine(engine, context.engine_wall);
        let oracle_timing = SideTiming::of_oracle(oracle);
        let measured = criteria(
            Some(engine_timing.seconds),
            engine_timing.peak_mib,
            Some(comparison.worst_relative_error() * 100.0),
        );
        let rows_match = rows_match(&comparison);
        CompareReport {
            verdict: overall(&measured, rows_match),
            rows_match,
            identity: Identity {
                engine_version: ENGINE_VERSION.to_string(),
                run_id: engine.run_id.to_string(),
                oracle: context.oracle,
                dataset: context.dataset,
                started_at: context
                    .started_at
                    .to_rfc3339_opts(SecondsFormat::Secs, true),
                machine: crate::bench::machine_description(),
            },
            criteria: measured
                .into_iter()
                .map(|criterion| CriterionResult {
                    verdict: criterion.verdict(),
                    criterion,
                })
                .collect(),
            engine: engine_timing,
            oracle: oracle_timing,
            comparison,
        }
    }
}

/// See the module contract.
pub fn rows_match(comparison: &Comparison) -> bool {
    let v = &comparison.verdict;
    v.only_in_engine == 0
        && v.only_in_oracle == 0
        && v.null_mismatches == 0
        && v.category_mismatches == 0
}

/// Bytes in MiB.
fn to_mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}
