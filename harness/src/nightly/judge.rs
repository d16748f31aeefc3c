//! The night's verdict: failures, then regressions of the judged ratios against the last
//! nights.
//!
//! Contracts:
//! - **Failures** (correctness, and anything that kept a figure from being measured): every step
//!   whose exit code is not 0 (a skipped step is not one), every compare report whose verdict is
//!   not GO, every file of the night that could not be read.
//! - **Regressions**: for each scale of this night and each ratio of [`Ratio::JUDGED`] the night
//!   has (all lower-is-better: engine / yardstick, engine / DuckDB time and memory, write /
//!   COPY), the baseline is the median of that scale's ratio over the last [`BASELINE_NIGHTS`]
//!   earlier nights (dates before this night's) that have it; the ratio regresses when it is
//!   more than [`MARGIN`] above the baseline (`tonight > baseline × 1.15`). With fewer earlier
//!   nights the median is of those there are; with none, the ratio is not judged.
//! - The night passes when there is neither.

use serde::Serialize;

use super::{Night, Ratio, StepStatus};
use crate::bench::Spread;

/// How many earlier nights the baseline is the median of, at most.
pub const BASELINE_NIGHTS: usize = 5;

/// How much worse than the baseline a ratio may be: 15 %.
pub const MARGIN: f64 = 0.15;

/// A ratio of one scale against its baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RatioCheck {
    pub scale: String,
    pub ratio: &'static str,
    pub tonight: f64,
    /// The median of the earlier nights; `None` when there are none (not judged).
    pub baseline: Option<f64>,
    /// How many earlier nights the baseline is the median of.
    pub nights: usize,
    pub regressed: bool,
}

impl RatioCheck {
    /// Tonight over the baseline, minus one: +0.2 is 20 % worse.
    pub fn change(&self) -> Option<f64> {
        self.baseline.map(|b| self.tonight / b - 1.0)
    }

    /// The regression in words.
    pub fn describe(&self) -> String {
        format!(
            "{} {}: {:.3} against a median of {:.3} over {} earlier night{} ({:+.1} %, more than {:.0} % worse)",
            self.scale,
            self.ratio,
            self.tonight,
            self.baseline.unwrap_or(f64::NAN),
            self.nights,
            if self.nights == 1 { "" } else { "s" },
            self.change().unwrap_or(f64::NAN) * 100.0,
            MARGIN * 100.0
        )
    }
}

/// The night's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judgement {
    /// Each failure in words.
    pub failures: Vec<String>,
    /// Every judged ratio the night has, regressed or not, in scale then [`Ratio::JUDGED`] order.
    pub checks: Vec<RatioCheck>,
}

impl Judgement {
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.regressions().next().is_none()
    }

    pub fn regressions(&self) -> impl Iterator<Item = &RatioCheck> {
        self.checks.iter().filter(|c| c.regressed)
    }

    /// Every reason the night failed, failures first.
    pub fn reasons(&self) -> Vec<String> {
        self.failures
            .iter()
            .cloned()
            .chain(
                self.regressions()
                    .map(|r| format!("regression: {}", r.describe())),
            )
            .collect()
    }
}

/// Judges `night` against `history` (which may hold `night` itself and later nights: only
/// earlier dates count).
pub fn judge(night: &Night, history: &[Night]) -> Judgement {
    let mut earlier: Vec<&Night> = history.iter().filter(|n| n.date < night.date).collect();
    earlier.sort_by(|a, b| a.date.cmp(&b.date));
    Judgement {
        failures: failures(night),
        checks: night
            .scales
            .iter()
            .flat_map(|figures| {
                Ratio::JUDGED.into_iter().filter_map(|ratio| {
                    let tonight = ratio.of(&figures.ratios)?;
                    Some(check(&figures.scale, ratio, tonight, &earlier))
                })
            })
            .collect(),
    }
}

/// See the module contract.
fn failures(night: &Night) -> Vec<String> {
    let steps = night
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Failed)
        .map(|s| match s.exit_code {
            Some(code) => format!("step {} failed (exit {code})", s.name),
            None => format!("step {} failed (no exit code)", s.name),
        });
    let compares = night
        .compares
        .iter()
        .filter(|c| c.verdict != "GO")
        .map(|c| {
            format!(
                "compare {}: {} ({} of {} engine and {} oracle rows matched, worst relative error {:e})",
                c.name, c.verdict, c.matched, c.engine_rows, c.oracle_rows, c.worst_relative_error
            )
        });
    let unreadable = night.unreadable.iter().map(|u| format!("unreadable: {u}"));
    steps.chain(compares).chain(unreadable).collect()
}

/// `tonight`'s value of `ratio` for `scale` against the earlier nights (oldest first).
fn check(scale: &str, ratio: Ratio, tonight: f64, earlier: &[&Night]) -> RatioCheck {
    let values: Vec<f64> = earlier
        .iter()
        .filter_map(|n| n.scale(scale).and_then(|f| ratio.of(&f.ratios)))
        .collect();
    let last = &values[values.len().saturating_sub(BASELINE_NIGHTS)..];
    let baseline = Spread::of(last).map(|s| s.median);
    RatioCheck {
        scale: scale.to_string(),
        ratio: ratio.label(),
        tonight,
        baseline,
        nights: last.len(),
        regressed: baseline.is_some_and(|b| tonight > b * (1.0 + MARGIN)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nightly::{typical_night, CompareOutcome, Step};

    /// A night of `date` whose `typical` scale has engine / yardstick `ratio`.
    fn night(date: &str, ratio: Option<f64>) -> Night {
        Night {
            steps: vec![step("bench-typical", Some(0))],
            ..typical_night(date, ratio)
        }
    }

    fn step(name: &str, exit_code: Option<i32>) -> Step {
        Step {
            name: name.to_string(),
            status: match exit_code {
                Some(0) => StepStatus::Passed,
                None => StepStatus::Skipped,
                Some(_) => StepStatus::Failed,
            },
            exit_code,
            seconds: Some(1.0),
            detail: None,
        }
    }

    /// Six earlier nights: 4.0 (oldest), then 5.0, 10.0, 4.5, 6.0, 5.5.
    fn six_earlier() -> Vec<Night> {
        [4.0, 5.0, 10.0, 4.5, 6.0, 5.5]
            .into_iter()
            .enumerate()
            .map(|(i, r)| night(&format!("2026-11-2{i}"), Some(r)))
            .collect()
    }

    #[test]
    fn the_baseline_is_the_median_of_the_last_five_earlier_nights() {
        // The last five: 5.0, 10.0, 4.5, 6.0, 5.5 → sorted 4.5, 5.0, 5.5, 6.0, 10.0 → median 5.5;
        // the bar is 5.5 × 1.15 = 6.325. (With the oldest night, 4.0, the median would be
        // (5.0 + 5.5) / 2 = 5.25 and the bar 6.0375: 6.3 would fail.)
        let history = six_earlier();
        let ok = judge(&night("2026-12-02", Some(6.3)), &history);
        assert_eq!(ok.checks.len(), 1);
        assert_eq!(ok.checks[0].baseline, Some(5.5));
        assert_eq!(ok.checks[0].nights, 5);
        assert!(ok.passed(), "{:?}", ok.reasons());
        let bad = judge(&night("2026-12-02", Some(6.33)), &history);
        assert!(!bad.passed());
        let reasons = bad.reasons();
        assert_eq!(reasons.len(), 1);
        assert!(
            reasons[0].starts_with(
                "regression: typical engine / yardstick: 6.330 against a median of 5.500 over 5 earlier nights (+15.1 %"
            ),
            "{reasons:?}"
        );
    }

    #[test]
    fn fewer_than_five_earlier_nights_give_the_median_of_those_and_none_no_judgement() {
        // Two nights, 4.0 and 5.0: median 4.5, bar 5.175.
        let two = vec![
            night("2026-11-20", Some(4.0)),
            night("2026-11-21", Some(5.0)),
        ];
        let check = &judge(&night("2026-12-02", Some(5.2)), &two).checks[0];
        assert_eq!(
            (check.baseline, check.nights, check.regressed),
            (Some(4.5), 2, true)
        );
        assert!(!judge(&night("2026-12-02", Some(5.17)), &two).checks[0].regressed);
        // None at all (and a night without the ratio does not count): not judged, whatever
        // the value.
        let none = vec![night("2026-11-20", None)];
        let unjudged = judge(&night("2026-12-02", Some(100.0)), &none);
        assert_eq!(unjudged.checks[0].baseline, None);
        assert!(unjudged.passed());
    }

    #[test]
    fn only_earlier_dates_count_and_tonights_own_line_is_not_its_baseline() {
        let mut history = vec![night("2026-11-20", Some(4.0))];
        history.push(night("2026-12-02", Some(9.0))); // tonight, already in the history
        history.push(night("2026-12-05", Some(1.0))); // a later night
        let check = &judge(&night("2026-12-02", Some(4.5)), &history).checks[0];
        assert_eq!((check.baseline, check.nights), (Some(4.0), 1));
        assert!(!check.regressed);
    }

    #[test]
    fn a_failing_step_or_a_compare_that_is_not_go_fails_the_night() {
        let mut failing = night("2026-12-02", None);
        failing.steps = vec![
            step("bench-typical", Some(0)),
            step("property-oracle", Some(101)),
            step("criterion", None),
        ];
        let judgement = judge(&failing, &[]);
        assert!(!judgement.passed());
        assert_eq!(
            judgement.reasons(),
            vec!["step property-oracle failed (exit 101)".to_string()]
        );
        let mut no_go = night("2026-12-02", None);
        no_go.compares.push(CompareOutcome {
            name: "nise".into(),
            verdict: "NO-GO".into(),
            engine_rows: 10,
            oracle_rows: 11,
            matched: 9,
            worst_relative_error: 0.5,
            engine_seconds: 1.0,
            oracle_seconds: 1.0,
        });
        no_go.unreadable.push("bench-large.json: EOF".into());
        assert_eq!(
            judge(&no_go, &[]).reasons(),
            vec![
                "compare nise: NO-GO (9 of 10 engine and 11 oracle rows matched, worst relative error 5e-1)"
                    .to_string(),
                "unreadable: bench-large.json: EOF".to_string()
            ]
        );
        // Skipped steps and passing ones alone: a pass.
        let mut fine = night("2026-12-02", None);
        fine.steps.push(step("criterion", None));
        assert!(judge(&fine, &[]).passed());
    }
}
