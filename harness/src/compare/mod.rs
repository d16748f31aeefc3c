//! Comparing the engine's rows with an oracle's.
//!
//! [`compare`] matches the two row sets on the natural key as a NULL-safe multiset
//! ([`matching`]), judges every metric of every matched pair against a [`Tolerance`]
//! ([`metrics`]), checks `cost_category_id` for equality, and totals both sides ([`totals`]).
//! The resulting [`Comparison`] holds everything a report shows (terminal, Markdown, HTML charts,
//! JSON): counts, every unmatched row, per-column statistics and error histograms, the worst
//! differences with their keys, category mismatches, totals side by side, and the [`Verdict`].
//!
//! Contract: the comparison is within tolerance exactly when no row is only on one side, no
//! metric value is over tolerance, no metric is NULL on one side only, and no matched pair
//! differs in `cost_category_id`. `uuid` and the run constants are not compared here.

pub mod matching;
pub mod metrics;
pub mod row;
pub mod totals;

#[cfg(test)]
mod fixtures;
mod json;

use ocp_engine::summary::Metric;
use serde::Serialize;

pub use metrics::{ColumnStats, ErrorHistogram, Tolerance, ValueDifference};
pub use row::{canonical_json, ComparableRow, NaturalKey, WrittenColumns};
pub use totals::{TotalLine, Totals};

use matching::Pair;
use metrics::ValueStats;

/// How many worst value differences and category mismatch examples a comparison keeps.
pub const WORST_KEPT: usize = 100;

/// A matched pair whose `cost_category_id` differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryMismatch {
    #[serde(serialize_with = "json::key")]
    pub key: NaturalKey,
    pub engine: Option<i32>,
    pub oracle: Option<i32>,
}

/// The headline: whether the engine agrees with the oracle, and the counts that say why not.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Verdict {
    pub within_tolerance: bool,
    /// Largest error of any value compared (NULL mismatches have none); 0 if none differ.
    pub worst_relative_error: f64,
    pub only_in_engine: u64,
    pub only_in_oracle: u64,
    /// Values over tolerance, all columns.
    pub over_tolerance: u64,
    /// Values NULL on one side only, all columns.
    pub null_mismatches: u64,
    pub category_mismatches: u64,
}

impl Verdict {
    fn of(
        columns: &[ColumnStats],
        only_in_engine: u64,
        only_in_oracle: u64,
        category_mismatches: u64,
    ) -> Self {
        let over_tolerance = columns.iter().map(|c| c.over_tolerance).sum();
        let null_mismatches = columns.iter().map(|c| c.null_mismatches).sum();
        Verdict {
            within_tolerance: only_in_engine == 0
                && only_in_oracle == 0
                && over_tolerance == 0
                && null_mismatches == 0
                && category_mismatches == 0,
            worst_relative_error: columns.iter().map(|c| c.max_error).fold(0.0, f64::max),
            only_in_engine,
            only_in_oracle,
            over_tolerance,
            null_mismatches,
            category_mismatches,
        }
    }
}

/// Everything one comparison found. Unmatched rows and examples are in key order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub verdict: Verdict,
    pub tolerance: Tolerance,
    pub engine_rows: u64,
    pub oracle_rows: u64,
    /// Pairs of rows matched on the key.
    pub matched: u64,
    /// Matched pairs with a failing value or a category mismatch.
    pub matched_with_differences: u64,
    #[serde(serialize_with = "json::rows")]
    pub only_in_engine: Vec<ComparableRow>,
    #[serde(serialize_with = "json::rows")]
    pub only_in_oracle: Vec<ComparableRow>,
    /// One per metric, in [`Metric::ALL`] order.
    pub columns: Vec<ColumnStats>,
    /// The [`WORST_KEPT`] worst value differences, worst first (passing ones included).
    pub worst: Vec<ValueDifference>,
    /// The first [`WORST_KEPT`] category mismatches; the count is in the verdict.
    pub category_mismatches: Vec<CategoryMismatch>,
    pub totals: Totals,
}

impl Comparison {
    /// See the module contract.
    pub fn within_tolerance(&self) -> bool {
        self.verdict.within_tolerance
    }

    pub fn worst_relative_error(&self) -> f64 {
        self.verdict.worst_relative_error
    }

    pub fn column(&self, metric: Metric) -> &ColumnStats {
        &self.columns[metric as usize]
    }
}

/// Category mismatches: all counted, the first [`WORST_KEPT`] kept.
#[derive(Default)]
struct CategoryTally {
    count: u64,
    examples: Vec<CategoryMismatch>,
}

impl CategoryTally {
    /// True when the pair's categories are equal (NULL equal to NULL).
    fn observe(&mut self, pair: &Pair) -> bool {
        let (engine, oracle) = (pair.engine.cost_category_id, pair.oracle.cost_category_id);
        if engine == oracle {
            return true;
        }
        self.count += 1;
        if self.examples.len() < WORST_KEPT {
            self.examples.push(CategoryMismatch {
                key: pair.engine.key.clone(),
                engine,
                oracle,
            });
        }
        false
    }
}

/// For tests: panics unless two engine runs wrote the same rows, every row and column at the
/// engine's precision ([`Tolerance::ENGINE_PRECISION`]) and as many of them; `what` names the
/// two runs in the message. Returns the number of rows compared.
pub fn assert_same_rows(
    got: &ocp_engine::run::RunReport,
    expected: &ocp_engine::run::RunReport,
    what: &str,
) -> usize {
    let comparison = compare(
        &ComparableRow::of_run(got),
        &ComparableRow::of_run(expected),
        &Tolerance::ENGINE_PRECISION,
    );
    assert!(
        comparison.within_tolerance(),
        "{what}: the rows differ: {:#?}",
        comparison.verdict
    );
    assert_eq!(got.rows.len(), expected.rows.len(), "{what}: row counts");
    got.rows.len()
}

/// Compares the engine's rows with the oracle's; see the module contract.
pub fn compare(
    engine: &[ComparableRow],
    oracle: &[ComparableRow],
    tolerance: &Tolerance,
) -> Comparison {
    let matching = matching::match_rows(engine, oracle, tolerance);
    let mut values = ValueStats::new(*tolerance, WORST_KEPT);
    let mut categories = CategoryTally::default();
    let mut matched_with_differences = 0;
    for pair in &matching.pairs {
        let values_pass = values.observe(pair.engine, pair.oracle);
        let category_passes = categories.observe(pair);
        matched_with_differences += u64::from(!(values_pass && category_passes));
    }
    let (columns, worst) = values.finish();
    let owned = |rows: Vec<&ComparableRow>| rows.into_iter().cloned().collect::<Vec<_>>();
    let only_in_engine = owned(matching.only_in_engine);
    let only_in_oracle = owned(matching.only_in_oracle);
    Comparison {
        verdict: Verdict::of(
            &columns,
            only_in_engine.len() as u64,
            only_in_oracle.len() as u64,
            categories.count,
        ),
        tolerance: *tolerance,
        engine_rows: engine.len() as u64,
        oracle_rows: oracle.len() as u64,
        matched: matching.pairs.len() as u64,
        matched_with_differences,
        only_in_engine,
        only_in_oracle,
        columns,
        worst,
        category_mismatches: categories.examples,
        totals: Totals::new(engine, oracle),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fixtures::{key, row, rows_and_shuffled};
    use proptest::prelude::*;

    const CPU: Metric = Metric::PodUsageCpuCoreHours;
    const MEM: Metric = Metric::PodUsageMemoryGigabyteHours;

    /// Engine and oracle rows:
    /// - A (day 1, a, n1): equal on both sides.
    /// - B (day 1, b, n1): CPU 1.0002 vs 1.0, error 2e-4 / 1.0002 ≈ 1.9996e-4, over; category
    ///   1 vs 2.
    /// - D (day 1, NULL, NULL): memory NULL vs 0.0, a NULL mismatch.
    /// - C (day 2, a, NULL) only in the engine; E (day 3, c, n2) only in the oracle.
    fn sides() -> (Vec<ComparableRow>, Vec<ComparableRow>) {
        let a = || row(key(1, Some("a"), Some("n1")), &[(CPU, 1.0), (MEM, 2.0)]);
        let mut b_engine = row(key(1, Some("b"), Some("n1")), &[(CPU, 1.0002)]);
        b_engine.cost_category_id = Some(1);
        let mut b_oracle = row(key(1, Some("b"), Some("n1")), &[(CPU, 1.0)]);
        b_oracle.cost_category_id = Some(2);
        let d_engine = row(key(1, None, None), &[(CPU, 3.0)]);
        let d_oracle = row(key(1, None, None), &[(CPU, 3.0), (MEM, 0.0)]);
        let c = row(key(2, Some("a"), None), &[(CPU, 5.0)]);
        let e = row(key(3, Some("c"), Some("n2")), &[(CPU, 7.0)]);
        (
            vec![c, d_engine, b_engine, a()],
            vec![e, a(), b_oracle, d_oracle],
        )
    }

    #[test]
    fn every_kind_of_difference_is_reported() {
        let (engine, oracle) = sides();
        let c = compare(&engine, &oracle, &Tolerance::default());
        assert_eq!((c.engine_rows, c.oracle_rows, c.matched), (4, 4, 3));
        assert_eq!(c.matched_with_differences, 2); // B and D
        assert_eq!(c.only_in_engine, vec![engine[0].clone()]);
        assert_eq!(c.only_in_oracle, vec![oracle[0].clone()]);
        let b_error = (1.0002 - 1.0) / 1.0002;
        assert_eq!(c.column(CPU).over_tolerance, 1);
        assert_eq!(c.column(CPU).compared, 3);
        assert_eq!(c.column(CPU).max_error, b_error);
        assert_eq!(c.column(MEM).null_mismatches, 1);
        assert_eq!(c.column(MEM).compared, 1); // A
        assert_eq!(c.column(MEM).both_null, 1); // B
        assert_eq!(
            c.category_mismatches,
            vec![CategoryMismatch {
                key: key(1, Some("b"), Some("n1")),
                engine: Some(1),
                oracle: Some(2)
            }]
        );
        // The NULL mismatch is worst, then B's CPU.
        let worst: Vec<_> = c
            .worst
            .iter()
            .map(|d| (d.metric, d.key.clone(), d.error))
            .collect();
        assert_eq!(
            worst,
            vec![
                (MEM, key(1, None, None), None),
                (CPU, key(1, Some("b"), Some("n1")), Some(b_error)),
            ]
        );
        assert_eq!(
            c.verdict,
            Verdict {
                within_tolerance: false,
                worst_relative_error: b_error,
                only_in_engine: 1,
                only_in_oracle: 1,
                over_tolerance: 1,
                null_mismatches: 1,
                category_mismatches: 1,
            }
        );
        assert!(!c.within_tolerance());
        // Totals: CPU 5 + 3 + 1.0002 + 1 = 10.0002 vs 7 + 1 + 1 + 3 = 12.
        let cpu_line = c
            .totals
            .lines()
            .into_iter()
            .find(|l| l.name == CPU.column())
            .unwrap();
        assert_eq!((cpu_line.engine, cpu_line.oracle), (10.0002, 12.0));
    }

    #[test]
    fn each_defect_alone_fails_the_verdict() {
        let base = || vec![row(key(1, Some("a"), None), &[(CPU, 1.0)])];
        let tolerance = Tolerance::default();
        assert!(compare(&base(), &base(), &tolerance).within_tolerance());
        let mut extra = base();
        extra.push(row(key(2, None, None), &[]));
        let mut over = base();
        over[0].metrics[CPU as usize] = Some(1.0002);
        let mut null = base();
        null[0].metrics[CPU as usize] = None;
        let mut category = base();
        category[0].cost_category_id = Some(1);
        for (name, engine) in [
            ("extra", &extra),
            ("over", &over),
            ("null", &null),
            ("category", &category),
        ] {
            assert!(
                !compare(engine, &base(), &tolerance).within_tolerance(),
                "{name} engine"
            );
            assert!(
                !compare(&base(), engine, &tolerance).within_tolerance(),
                "{name} oracle"
            );
        }
    }

    /// 1.00005 vs 1: error 5e-5 / 1.00005 ≈ 4.9998e-5, within 1e-4: a pass, listed as a passing
    /// difference and counted as the worst error.
    #[test]
    fn a_small_difference_passes_but_is_shown() {
        let engine = [row(key(1, None, None), &[(CPU, 1.00005)])];
        let oracle = [row(key(1, None, None), &[(CPU, 1.0)])];
        let c = compare(&engine, &oracle, &Tolerance::default());
        assert!(c.within_tolerance());
        assert_eq!(c.matched_with_differences, 0);
        assert_eq!(c.worst.len(), 1);
        assert!(!c.worst[0].fails);
        assert_eq!(c.worst_relative_error(), (1.00005 - 1.0) / 1.00005);
    }

    #[test]
    fn a_comparison_serialises_to_json() {
        let (engine, oracle) = sides();
        let c = compare(&engine, &oracle, &Tolerance::default());
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["verdict"]["within_tolerance"], false);
        assert_eq!(json["tolerance"]["relative"], 1e-4);
        assert_eq!(
            json["only_in_engine"][0]["key"]["usage_start"],
            "2024-05-02"
        );
        assert_eq!(json["columns"].as_array().unwrap().len(), 18);
        assert_eq!(json["worst"][0]["column"], MEM.column());
        assert_eq!(json["worst"][0]["error"], serde_json::Value::Null);
        assert_eq!(json["category_mismatches"][0]["oracle"], 2);
        assert_eq!(json["totals"]["lines"][0]["name"], "rows");
    }

    proptest! {
        #[test]
        fn a_shuffled_copy_is_all_matching_without_errors((rows, shuffled) in rows_and_shuffled()) {
            let c = compare(&shuffled, &rows, &Tolerance::default());
            prop_assert!(c.within_tolerance());
            prop_assert_eq!(c.matched, rows.len() as u64);
            prop_assert_eq!(c.matched_with_differences, 0);
            prop_assert_eq!(c.worst_relative_error(), 0.0);
            prop_assert!(c.worst.is_empty());
            prop_assert!(c.columns.iter().all(|col| col.histogram.counts()[1..].iter().all(|&n| n == 0)));
        }

        /// Scaling one non-zero value of the engine's copy by 1 + 2e-4 (error
        /// 2e-4 / (1 + 2e-4) ≈ 1.9996e-4) gives exactly one value over tolerance, in that column.
        #[test]
        fn one_perturbed_value_is_exactly_one_over_tolerance(
            (rows, shuffled) in rows_and_shuffled(),
            pick in any::<prop::sample::Index>(),
        ) {
            let cells: Vec<(usize, usize)> = shuffled
                .iter()
                .enumerate()
                .flat_map(|(i, r)| r.metrics.iter().enumerate().filter(|(_, v)| v.is_some_and(|v| v != 0.0)).map(move |(m, _)| (i, m)))
                .collect();
            prop_assume!(!cells.is_empty());
            let (i, m) = *pick.get(&cells);
            let mut engine = shuffled;
            let value = engine[i].metrics[m].as_mut().unwrap();
            *value *= 1.0 + 2e-4;
            let c = compare(&engine, &rows, &Tolerance::default());
            prop_assert_eq!(c.verdict.over_tolerance, 1);
            prop_assert_eq!(c.columns[m].over_tolerance, 1);
            prop_assert_eq!(c.matched_with_differences, 1);
            prop_assert!(!c.within_tolerance());
            prop_assert_eq!(c.worst.len(), 1);
            prop_assert_eq!(c.worst[0].metric as usize, m);
            prop_assert!((c.worst_relative_error() - 2e-4 / (1.0 + 2e-4)).abs() < 1e-12);
        }
    }
}
