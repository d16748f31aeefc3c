//! How two metric values are judged, and what is kept about every column.
//!
//! Contracts:
//! - **Relative error** of `a` and `b` is `|a − b| / max(|a|, |b|)` ([`relative_error`]): 0 when
//!   they are equal (both zero included), symmetric, at most 1 for values of one sign and at most
//!   2 otherwise. Infinite when exactly one side is NaN, or one side is infinite and the other not.
//! - **Absolute floor**: a difference `|a − b| <= Tolerance::absolute` is noise and its error is
//!   0 ([`Tolerance::error`]); this is the error every statistic, histogram and verdict uses.
//! - **Pass**: an error `<= Tolerance::relative` passes — exactly at tolerance is a pass.
//! - **NULL**: both NULL is equal and is not counted among the compared values; NULL against any
//!   value (0.0 included) is a NULL mismatch, always a failure, and has no relative error.
//! - **Statistics** of a column ([`ColumnStats`]) cover the pairs with a value on both sides: the
//!   largest error, the p99 by nearest rank (the smallest error at least 99% of them do not
//!   exceed), the count over tolerance and a histogram of errors in decades ([`ErrorHistogram`]).
//! - **Worst differences** ([`ValueDifference`]): every non-zero error and every NULL mismatch is
//!   a candidate; the `keep` worst are kept, NULL mismatches first, then by error descending, then
//!   by key and column order, so the list does not depend on the order rows arrive in.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use ocp_engine::summary::Metric;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use super::json;
use super::row::{ComparableRow, NaturalKey};

/// The acceptance bar for metric values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    /// Largest relative error that passes (inclusive).
    pub relative: f64,
    /// Absolute differences up to this (inclusive) count as no difference at all.
    pub absolute: f64,
}

impl Tolerance {
    /// The precision the engine reaches against an oracle computing the same doubles: 1e-12
    /// relative (sums added in another order differ in the last bits, spec §7 item 2) with a
    /// 1e-9 absolute floor (unallocated values are differences of large numbers). Differential
    /// tests compare at this; the 0.01 % bar ([`Tolerance::default`]) is the go/no-go verdict's.
    pub const ENGINE_PRECISION: Tolerance = Tolerance {
        relative: 1e-12,
        absolute: 1e-9,
    };
}

impl Default for Tolerance {
    /// The go/no-go bar: 0.01 % relative, 1e-9 absolute.
    fn default() -> Self {
        Tolerance {
            relative: 1e-4,
            absolute: 1e-9,
        }
    }
}

/// What one column of one matched pair of rows came to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueCheck {
    /// NULL on both sides: equal.
    BothNull,
    /// NULL on exactly one side: a failure whatever the other value.
    NullMismatch,
    /// A value on both sides, and its error ([`Tolerance::error`]).
    Compared(f64),
}

/// `|a − b| / max(|a|, |b|)`; 0 when `a == b`; see the module contract for NaN and infinities.
pub fn relative_error(a: f64, b: f64) -> f64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0.0;
    }
    let error = (a - b).abs() / a.abs().max(b.abs());
    if error.is_nan() {
        f64::INFINITY
    } else {
        error
    }
}

impl Tolerance {
    /// The error that counts: 0 within the absolute floor, else [`relative_error`].
    pub fn error(&self, a: f64, b: f64) -> f64 {
        if (a - b).abs() <= self.absolute {
            0.0
        } else {
            relative_error(a, b)
        }
    }

    pub fn check(&self, engine: Option<f64>, oracle: Option<f64>) -> ValueCheck {
        match (engine, oracle) {
            (None, None) => ValueCheck::BothNull,
            (Some(a), Some(b)) => ValueCheck::Compared(self.error(a, b)),
            _ => ValueCheck::NullMismatch,
        }
    }

    /// Whether an error passes: `error <= relative`.
    pub fn passes(&self, error: f64) -> bool {
        error <= self.relative
    }

    pub fn passes_check(&self, check: ValueCheck) -> bool {
        match check {
            ValueCheck::BothNull => true,
            ValueCheck::NullMismatch => false,
            ValueCheck::Compared(error) => self.passes(error),
        }
    }
}

/// Counts of errors in decades. Bucket `i` holds errors `e` with `UPPER[i-1] <= e < UPPER[i]`
/// (bucket 0 exactly 0, the last `e >= 1e-2`); the buckets do not depend on the tolerance.
/// Serialises as an ordered map from [`ErrorHistogram::LABELS`] to counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorHistogram {
    counts: [u64; 7],
}

impl ErrorHistogram {
    pub const LABELS: [&'static str; 7] =
        ["0", "<1e-12", "<1e-9", "<1e-6", "<1e-4", "<1e-2", ">=1e-2"];
    /// Exclusive upper bounds of buckets 1..=5.
    const UPPER: [f64; 5] = [1e-12, 1e-9, 1e-6, 1e-4, 1e-2];

    pub fn add(&mut self, error: f64) {
        self.counts[Self::bucket(error)] += 1;
    }

    fn bucket(error: f64) -> usize {
        if error == 0.0 {
            return 0;
        }
        1 + Self::UPPER
            .iter()
            .take_while(|&&upper| error >= upper)
            .count()
    }

    /// Counts in [`ErrorHistogram::LABELS`] order.
    pub fn counts(&self) -> &[u64; 7] {
        &self.counts
    }

    /// `(label, count)` in bucket order, for tables and charts.
    pub fn buckets(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        Self::LABELS.into_iter().zip(self.counts.iter().copied())
    }
}

impl Serialize for ErrorHistogram {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.counts.len()))?;
        for (label, count) in self.buckets() {
            map.serialize_entry(label, &count)?;
        }
        map.end()
    }
}

/// What one metric column came to over all matched pairs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnStats {
    #[serde(rename = "column", serialize_with = "json::metric_column")]
    pub metric: Metric,
    /// Pairs with a value on both sides; the statistics below are over these.
    pub compared: u64,
    pub both_null: u64,
    pub null_mismatches: u64,
    /// Compared pairs whose error exceeds the relative tolerance.
    pub over_tolerance: u64,
    /// 0 when nothing was compared.
    pub max_error: f64,
    /// Nearest-rank p99; 0 when nothing was compared.
    pub p99_error: f64,
    pub histogram: ErrorHistogram,
}

impl ColumnStats {
    /// No value over tolerance and no NULL mismatch.
    pub fn passes(&self) -> bool {
        self.over_tolerance == 0 && self.null_mismatches == 0
    }
}

/// One differing value of a matched pair: the key says which input produced it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueDifference {
    #[serde(serialize_with = "json::key")]
    pub key: NaturalKey,
    #[serde(rename = "column", serialize_with = "json::metric_column")]
    pub metric: Metric,
    pub engine: Option<f64>,
    pub oracle: Option<f64>,
    /// `None` for a NULL mismatch.
    pub error: Option<f64>,
    /// Over tolerance or a NULL mismatch.
    pub fails: bool,
}

impl ValueDifference {
    fn severity(&self) -> f64 {
        severity(self.error)
    }
}

/// How bad a difference is: a NULL mismatch (no error) is worse than any error.
fn severity(error: Option<f64>) -> f64 {
    error.unwrap_or(f64::INFINITY)
}

/// Nearest-rank p99 of `errors` (reordered in place); 0 for none.
pub fn p99(errors: &mut [f64]) -> f64 {
    if errors.is_empty() {
        return 0.0;
    }
    let rank = (errors.len() * 99).div_ceil(100);
    *errors
        .select_nth_unstable_by(rank - 1, |a, b| a.total_cmp(b))
        .1
}

/// One column's running tally.
#[derive(Debug, Default)]
struct ColumnTally {
    errors: Vec<f64>,
    both_null: u64,
    null_mismatches: u64,
    histogram: ErrorHistogram,
}

impl ColumnTally {
    fn add(&mut self, check: ValueCheck) {
        match check {
            ValueCheck::BothNull => self.both_null += 1,
            ValueCheck::NullMismatch => self.null_mismatches += 1,
            ValueCheck::Compared(error) => {
                self.errors.push(error);
                self.histogram.add(error);
            }
        }
    }

    fn finish(mut self, metric: Metric, tolerance: &Tolerance) -> ColumnStats {
        ColumnStats {
            metric,
            compared: self.errors.len() as u64,
            both_null: self.both_null,
            null_mismatches: self.null_mismatches,
            over_tolerance: self
                .errors
                .iter()
                .filter(|&&e| !tolerance.passes(e))
                .count() as u64,
            max_error: self.errors.iter().copied().fold(0.0, f64::max),
            p99_error: p99(&mut self.errors),
            histogram: self.histogram,
        }
    }
}

/// Orders differences so that greater is worse: severity, then the smaller key, then the
/// earlier column.
#[derive(Debug)]
struct Ranked(ValueDifference);

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .severity()
            .total_cmp(&other.0.severity())
            .then_with(|| other.0.key.cmp(&self.0.key))
            .then_with(|| (other.0.metric as usize).cmp(&(self.0.metric as usize)))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

/// The `keep` worst differences seen; a candidate is built only if it may be kept.
#[derive(Debug)]
struct WorstDifferences {
    keep: usize,
    /// Min-heap: the top is the least bad difference kept.
    heap: BinaryHeap<Reverse<Ranked>>,
}

impl WorstDifferences {
    fn new(keep: usize) -> Self {
        WorstDifferences {
            keep,
            heap: BinaryHeap::with_capacity(keep + 1),
        }
    }

    /// Offers a difference with this `error` (`None`: NULL mismatch), built only if kept.
    fn offer(&mut self, error: Option<f64>, build: impl FnOnce() -> ValueDifference) {
        let may_keep = self.heap.len() < self.keep
            || self
                .heap
                .peek()
                .is_some_and(|Reverse(least)| severity(error) >= least.0.severity());
        if may_keep {
            self.heap.push(Reverse(Ranked(build())));
            if self.heap.len() > self.keep {
                self.heap.pop();
            }
        }
    }

    /// Worst first.
    fn into_sorted(self) -> Vec<ValueDifference> {
        // Ascending order of Reverse is descending order of badness.
        let sorted = self.heap.into_sorted_vec();
        sorted.into_iter().map(|Reverse(ranked)| ranked.0).collect()
    }
}

/// Every metric column of every matched pair, tallied.
#[derive(Debug)]
pub(crate) struct ValueStats {
    tolerance: Tolerance,
    columns: [ColumnTally; 18],
    worst: WorstDifferences,
}

impl ValueStats {
    /// Keeps the `keep` worst differences.
    pub(crate) fn new(tolerance: Tolerance, keep: usize) -> Self {
        ValueStats {
            tolerance,
            columns: Default::default(),
            worst: WorstDifferences::new(keep),
        }
    }

    /// Tallies every metric of a matched pair; true when all of them pass.
    pub(crate) fn observe(&mut self, engine: &ComparableRow, oracle: &ComparableRow) -> bool {
        let mut all_pass = true;
        for metric in Metric::ALL {
            let (e, o) = (engine.metric(metric), oracle.metric(metric));
            let check = self.tolerance.check(e, o);
            let passes = self.tolerance.passes_check(check);
            all_pass &= passes;
            self.columns[metric as usize].add(check);
            let error = match check {
                ValueCheck::BothNull | ValueCheck::Compared(0.0) => continue,
                ValueCheck::NullMismatch => None,
                ValueCheck::Compared(error) => Some(error),
            };
            self.worst.offer(error, || ValueDifference {
                key: engine.key.clone(),
                metric,
                engine: e,
                oracle: o,
                error,
                fails: !passes,
            });
        }
        all_pass
    }

    /// Per-column statistics in [`Metric::ALL`] order, and the worst differences, worst first.
    pub(crate) fn finish(self) -> (Vec<ColumnStats>, Vec<ValueDifference>) {
        let tolerance = self.tolerance;
        let columns = Metric::ALL
            .into_iter()
            .zip(self.columns)
            .map(|(metric, tally)| tally.finish(metric, &tolerance))
            .collect();
        (columns, self.worst.into_sorted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::fixtures::{key, row};
    use proptest::prelude::*;

    const CPU: Metric = Metric::PodUsageCpuCoreHours;
    const MEM: Metric = Metric::PodUsageMemoryGigabyteHours;

    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() <= 1e-15 * expected.abs().max(1.0),
            "{actual} != {expected}"
        );
    }

    #[test]
    fn relative_error_is_difference_over_larger_magnitude() {
        // |1.0001 − 1| / 1.0001 = 1e-4 / 1.0001 ≈ 9.999e-5 (the subtraction is inexact).
        assert_close(relative_error(1.0001, 1.0), (1.0001 - 1.0) / 1.0001);
        assert_close(relative_error(1.0, 1.0001), (1.0001 - 1.0) / 1.0001);
        assert_eq!(relative_error(1.0, 0.0), 1.0); // 1 / 1
        assert_eq!(relative_error(-1.0, 1.0), 2.0); // 2 / 1
        assert_eq!(relative_error(0.0, 0.0), 0.0);
        assert_eq!(relative_error(0.0, -0.0), 0.0);
        assert_eq!(relative_error(f64::NAN, 1.0), f64::INFINITY);
        assert_eq!(relative_error(f64::NAN, f64::NAN), 0.0);
        assert_eq!(relative_error(f64::INFINITY, 1.0), f64::INFINITY);
    }

    #[test]
    fn default_tolerance_passes_one_in_ten_thousand() {
        let tolerance = Tolerance::default();
        // 9.999e-5 <= 1e-4: pass.
        assert!(tolerance.passes(tolerance.error(1.0001, 1.0)));
        // 1.0002 vs 1: 2e-4 / 1.0002 ≈ 1.9996e-4 > 1e-4: fail.
        assert!(!tolerance.passes(tolerance.error(1.0002, 1.0)));
    }

    #[test]
    fn exactly_at_tolerance_is_a_pass() {
        // Values whose relative error is exact in binary: |4 − 3| / 4 = 0.25.
        let tolerance = Tolerance {
            relative: 0.25,
            absolute: 0.0,
        };
        assert_eq!(tolerance.error(4.0, 3.0), 0.25);
        assert!(tolerance.passes_check(tolerance.check(Some(4.0), Some(3.0))));
        // |4 − 2.99| / 4 = 0.2525 > 0.25.
        assert!(!tolerance.passes_check(tolerance.check(Some(4.0), Some(2.99))));
    }

    #[test]
    fn null_against_zero_is_a_mismatch_and_both_null_is_equal() {
        let tolerance = Tolerance::default();
        assert_eq!(tolerance.check(None, Some(0.0)), ValueCheck::NullMismatch);
        assert_eq!(tolerance.check(Some(0.0), None), ValueCheck::NullMismatch);
        assert!(!tolerance.passes_check(ValueCheck::NullMismatch));
        assert_eq!(tolerance.check(None, None), ValueCheck::BothNull);
        assert!(tolerance.passes_check(ValueCheck::BothNull));
    }

    #[test]
    fn tiny_values_within_the_absolute_floor_pass() {
        let tolerance = Tolerance::default();
        // |1e-12 − 3e-12| = 2e-12 <= 1e-9: error 0 although the relative error is 2/3.
        assert_eq!(
            tolerance.check(Some(1e-12), Some(3e-12)),
            ValueCheck::Compared(0.0)
        );
        assert_eq!(
            tolerance.check(Some(0.0), Some(1e-9)),
            ValueCheck::Compared(0.0)
        );
        // |1e-6 − 3e-6| = 2e-6 > 1e-9: error 2e-6 / 3e-6 = 2/3, a failure.
        let ValueCheck::Compared(error) = tolerance.check(Some(1e-6), Some(3e-6)) else {
            panic!("compared");
        };
        assert_close(error, 2.0 / 3.0);
        assert!(!tolerance.passes(error));
    }

    #[test]
    fn histogram_buckets_are_half_open_decades() {
        let mut histogram = ErrorHistogram::default();
        for error in [
            0.0,
            1e-13,
            1e-12,
            5e-8,
            1e-6,
            5e-5,
            1e-4,
            0.5,
            f64::INFINITY,
        ] {
            histogram.add(error);
        }
        // 0 | 1e-13 | 1e-12 (a lower bound is in its bucket) | 5e-8 | 1e-6, 5e-5 | 1e-4 | 0.5, inf
        assert_eq!(histogram.counts(), &[1, 1, 1, 1, 2, 1, 2]);
        let json = serde_json::to_string(&histogram).unwrap();
        assert_eq!(
            json,
            r#"{"0":1,"<1e-12":1,"<1e-9":1,"<1e-6":1,"<1e-4":2,"<1e-2":1,">=1e-2":2}"#
        );
    }

    #[test]
    fn p99_is_nearest_rank() {
        // 100 values 1..=100: rank ceil(0.99 · 100) = 99, the value 99.
        let mut hundred: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(p99(&mut hundred), 99.0);
        // 250 values 1..=250: rank ceil(247.5) = 248.
        let mut many: Vec<f64> = (1..=250).map(f64::from).collect();
        assert_eq!(p99(&mut many), 248.0);
        // 101 values: rank ceil(99.99) = 100; one outlier above it does not move p99.
        let mut outlier: Vec<f64> = std::iter::repeat_n(1e-6, 100).chain([0.5]).collect();
        assert_eq!(p99(&mut outlier), 1e-6);
        assert_eq!(p99(&mut [7.0]), 7.0);
        assert_eq!(p99(&mut []), 0.0);
    }

    /// 120 pairs of CPU values: pair `i` (1-based) has oracle 1.0 and engine `1 + i·1e-6`, so its
    /// error is `i·1e-6 / (1 + i·1e-6)`.
    #[test]
    fn column_stats_over_many_pairs() {
        let tolerance = Tolerance::default();
        let mut stats = ValueStats::new(tolerance, 3);
        let err = |i: u32| {
            let engine = 1.0 + f64::from(i) * 1e-6;
            (engine - 1.0) / engine
        };
        for i in 1..=120 {
            let engine = row(
                key(1, Some("ns"), None),
                &[(CPU, 1.0 + f64::from(i) * 1e-6)],
            );
            let oracle = row(key(1, Some("ns"), None), &[(CPU, 1.0)]);
            // Over tolerance from i = 101: 101e-6 / 1.000101 ≈ 1.00990e-4 > 1e-4;
            // i = 100 gives 1e-4 / 1.0001 ≈ 9.999e-5, a pass.
            assert_eq!(stats.observe(&engine, &oracle), i <= 100, "pair {i}");
        }
        let (columns, worst) = stats.finish();
        let cpu = &columns[CPU as usize];
        assert_eq!(cpu.compared, 120);
        assert_eq!(cpu.both_null, 0);
        assert_eq!(cpu.over_tolerance, 20);
        assert_close(cpu.max_error, err(120));
        // Nearest rank ceil(0.99 · 120) = 119: the 119th smallest error is pair 119's.
        assert_close(cpu.p99_error, err(119));
        // Pair 1 (1e-6 / 1.000001 < 1e-6) in "<1e-6"; 2..=100 in "<1e-4"; 101..=120 in "<1e-2".
        assert_eq!(cpu.histogram.counts(), &[0, 0, 0, 1, 99, 20, 0]);
        assert!(!cpu.passes());
        // Every other column was NULL on both sides.
        let mem = &columns[MEM as usize];
        assert_eq!((mem.compared, mem.both_null, mem.max_error), (0, 120, 0.0));
        assert!(mem.passes());
        // The three worst, worst first.
        let errors: Vec<f64> = worst.iter().map(|d| d.error.unwrap()).collect();
        assert_eq!(errors, vec![err(120), err(119), err(118)]);
        assert!(worst.iter().all(|d| d.fails && d.metric == CPU));
    }

    /// Five differences offered (one pair is equal), three kept: the NULL mismatch first, then by
    /// error descending, the tie (0.3 twice) broken by key (day 1 before day 2).
    #[test]
    fn worst_differences_are_ordered_and_bounded() {
        let mut stats = ValueStats::new(Tolerance::default(), 3);
        let pairs = [
            (2, Some(1.3), Some(1.0)),  // 0.3 / 1.3 ≈ 0.2308: dropped
            (3, Some(1.0), Some(1.0)),  // equal: not a difference
            (4, Some(1.0), Some(1.1)),  // 0.1 / 1.1 ≈ 0.0909: dropped
            (5, None, Some(0.0)),       // NULL mismatch: worst
            (2, Some(10.0), Some(7.0)), // 3 / 10 = 0.3
            (1, Some(10.0), Some(7.0)), // 0.3 again, smaller key
        ];
        for (day, engine, oracle) in pairs {
            let with = |value: Option<f64>| {
                let mut r = row(key(day, None, None), &[]);
                r.metrics[MEM as usize] = value;
                r
            };
            stats.observe(&with(engine), &with(oracle));
        }
        let (_, worst) = stats.finish();
        let seen: Vec<(u32, Option<f64>)> = worst
            .iter()
            .map(|d| (chrono::Datelike::day(&d.key.usage_start), d.error))
            .collect();
        assert_eq!(
            seen,
            vec![(5, None), (1, Some(0.3)), (2, Some(0.3))],
            "{worst:#?}"
        );
        assert_eq!((worst[0].engine, worst[0].oracle), (None, Some(0.0)));
        assert!(worst.iter().all(|d| d.fails));
    }

    #[test]
    fn column_stats_serialise_with_the_column_name() {
        let mut stats = ValueStats::new(Tolerance::default(), 1);
        let a = row(key(1, None, None), &[(CPU, 2.0)]);
        let b = row(key(1, None, None), &[(CPU, 1.0)]);
        stats.observe(&a, &b);
        let (columns, worst) = stats.finish();
        let json = serde_json::to_value(&columns[CPU as usize]).unwrap();
        assert_eq!(json["column"], "pod_usage_cpu_core_hours");
        assert_eq!(json["max_error"], 0.5);
        assert_eq!(json["histogram"][">=1e-2"], 1);
        let json = serde_json::to_value(&worst[0]).unwrap();
        assert_eq!(json["key"]["usage_start"], "2024-05-01");
        assert_eq!(json["engine"], 2.0);
    }

    proptest! {
        #[test]
        fn relative_error_is_symmetric_and_bounded(a in -1e9..1e9f64, b in -1e9..1e9f64) {
            let error = relative_error(a, b);
            prop_assert_eq!(error, relative_error(b, a));
            prop_assert!((0.0..=2.0).contains(&error));
        }

        /// Scaling by 1 + 2e-4 fails (error 2e-4 / (1 + 2e-4) ≈ 1.9996e-4), by 1 + 0.5e-4 passes.
        #[test]
        fn scaling_crosses_the_default_tolerance(value in 1e-3..1e9f64) {
            let tolerance = Tolerance::default();
            prop_assert!(!tolerance.passes(tolerance.error(value * (1.0 + 2e-4), value)));
            prop_assert!(tolerance.passes(tolerance.error(value * (1.0 + 0.5e-4), value)));
        }
    }
}
