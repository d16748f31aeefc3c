//! The go/no-go decision: measured values against the review's two bars.
//!
//! Each criterion has a **go bar** (at or under it is good enough to switch) and a **no-go bar**
//! (over it rules switching out). A value between the bars needs a person's judgement. The
//! verdict is GO when every criterion is at or under its go bar, NO-GO when any is over its no-go
//! bar, and REVIEW otherwise. A criterion that could not be measured counts as REVIEW: a missing
//! figure never passes.

use serde::Serialize;

/// Where one measured value stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub enum Verdict {
    Go,
    Review,
    NoGo,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Go => "GO",
            Verdict::Review => "REVIEW",
            Verdict::NoGo => "NO-GO",
        }
    }

    /// Process exit code of `just compare`: 0 GO, 1 NO-GO, 4 REVIEW (2 and 3 are the engine's
    /// bad-input and infrastructure codes).
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Go => 0,
            Verdict::NoGo => 1,
            Verdict::Review => 4,
        }
    }
}

/// One line of the criteria table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Criterion {
    pub name: &'static str,
    /// The unit `measured` and the bars are in, e.g. "s", "MiB", "% relative error".
    pub unit: &'static str,
    /// `None` when the value could not be measured.
    pub measured: Option<f64>,
    pub go_bar: f64,
    pub no_go_bar: f64,
}

impl Criterion {
    /// GO at or under the go bar, NO-GO over the no-go bar, REVIEW between or when unmeasured.
    pub fn verdict(&self) -> Verdict {
        match self.measured {
            Some(v) if v <= self.go_bar => Verdict::Go,
            Some(v) if v > self.no_go_bar => Verdict::NoGo,
            _ => Verdict::Review,
        }
    }
}

/// The review's bars (issue 3): go under 60 s, within 0.01 %, under 2 GB; no-go over 120 s, over
/// 0.1 %, over 4 GB. Memory bars are in MiB, from decimal gigabytes: 2 GB = 2·10^9 bytes =
/// 1907.3 MiB.
pub fn criteria(
    engine_seconds: Option<f64>,
    engine_peak_mib: Option<f64>,
    worst_relative_error_percent: Option<f64>,
) -> Vec<Criterion> {
    const MIB_PER_GB: f64 = 1e9 / 1048576.0;
    vec![
        Criterion {
            name: "engine time, end to end",
            unit: "s",
            measured: engine_seconds,
            go_bar: 60.0,
            no_go_bar: 120.0,
        },
        Criterion {
            name: "engine peak memory",
            unit: "MiB",
            measured: engine_peak_mib,
            go_bar: 2.0 * MIB_PER_GB,
            no_go_bar: 4.0 * MIB_PER_GB,
        },
        Criterion {
            name: "worst relative difference from the oracle",
            unit: "%",
            measured: worst_relative_error_percent,
            go_bar: 0.01,
            no_go_bar: 0.1,
        },
    ]
}

/// The overall verdict: the worst of the criteria's, where NO-GO is worse than REVIEW. Rows
/// present on one side only are a correctness failure the relative error cannot show, so the
/// caller passes `rows_match = false` to make the verdict NO-GO.
pub fn overall(criteria: &[Criterion], rows_match: bool) -> Verdict {
    if !rows_match {
        return Verdict::NoGo;
    }
    let verdicts: Vec<Verdict> = criteria.iter().map(Criterion::verdict).collect();
    if verdicts.contains(&Verdict::NoGo) {
        Verdict::NoGo
    } else if verdicts.contains(&Verdict::Review) {
        Verdict::Review
    } else {
        Verdict::Go
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(measured: Option<f64>) -> Criterion {
        criteria(measured, Some(1.0), Some(0.0)).remove(0)
    }

    #[test]
    fn bars_are_inclusive_on_the_go_side_and_exclusive_on_the_no_go_side() {
        assert_eq!(time(Some(60.0)).verdict(), Verdict::Go);
        assert_eq!(time(Some(60.5)).verdict(), Verdict::Review);
        assert_eq!(time(Some(120.0)).verdict(), Verdict::Review);
        assert_eq!(time(Some(120.1)).verdict(), Verdict::NoGo);
    }

    #[test]
    fn an_unmeasured_value_never_passes() {
        assert_eq!(time(None).verdict(), Verdict::Review);
    }

    #[test]
    fn memory_bars_are_decimal_gigabytes_in_mib() {
        let memory = &criteria(None, None, None)[1];
        // 2 GB = 2e9 bytes = 2e9 / 2^20 MiB = 1907.35 MiB.
        assert!((memory.go_bar - 1_907.348_632_812_5).abs() < 1e-9);
        assert!((memory.no_go_bar - 3_814.697_265_625).abs() < 1e-9);
    }

    #[test]
    fn the_overall_verdict_is_the_worst_and_missing_rows_are_no_go() {
        let all_good = criteria(Some(0.2), Some(56.0), Some(0.0));
        assert_eq!(overall(&all_good, true), Verdict::Go);
        assert_eq!(overall(&all_good, false), Verdict::NoGo);
        let slow = criteria(Some(90.0), Some(56.0), Some(0.0));
        assert_eq!(overall(&slow, true), Verdict::Review);
        let wrong = criteria(Some(90.0), Some(56.0), Some(0.5));
        assert_eq!(overall(&wrong, true), Verdict::NoGo);
    }
}
