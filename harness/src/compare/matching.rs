//! Pairing the engine's rows with the oracle's as a NULL-safe multiset on [`NaturalKey`].
//!
//! Contracts:
//! - Keys are equal when every part is equal, NULL equal to NULL (`Option`'s equality), so a
//!   NULL part matches only NULL, never `""`.
//! - Every input row comes out exactly once: in a pair or among the rows only on its side.
//! - A key that appears `k` times on the engine side and `m` times on the oracle side gives
//!   `min(k, m)` pairs and `|k − m|` rows only on the larger side. Within such a group the pairs
//!   are chosen greedily by [`distance`] (closest pair first), which puts the extra rows
//!   where they resemble nothing on the other side. Groups beyond [`GREEDY_PAIRS_LIMIT`]
//!   candidate pairs are paired in sorted order instead, to bound the work.
//! - The result depends only on the two multisets, not the order of the input: groups come out
//!   in key order, and rows within a group are sorted by metrics and category before pairing.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::metrics::{Tolerance, ValueCheck};
use super::row::{ComparableRow, NaturalKey};

/// Largest `k · m` a group is paired greedily at; beyond it, in sorted order.
pub const GREEDY_PAIRS_LIMIT: usize = 65_536;

/// What a NULL mismatch or a category mismatch adds to a [`distance`]: the largest relative
/// error of values of opposite sign.
const MISMATCH_DISTANCE: f64 = 2.0;

/// An engine row and the oracle row it was matched with (same key).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair<'a> {
    pub engine: &'a ComparableRow,
    pub oracle: &'a ComparableRow,
}

/// Every input row, once.
#[derive(Debug, Default, PartialEq)]
pub struct Matching<'a> {
    pub pairs: Vec<Pair<'a>>,
    pub only_in_engine: Vec<&'a ComparableRow>,
    pub only_in_oracle: Vec<&'a ComparableRow>,
}

/// Pairs `engine` with `oracle` (see the module contract); `tolerance` measures distances.
pub fn match_rows<'a>(
    engine: &'a [ComparableRow],
    oracle: &'a [ComparableRow],
    tolerance: &Tolerance,
) -> Matching<'a> {
    let mut groups: BTreeMap<&NaturalKey, (Vec<&ComparableRow>, Vec<&ComparableRow>)> =
        BTreeMap::new();
    for row in engine {
        groups.entry(&row.key).or_default().0.push(row);
    }
    for row in oracle {
        groups.entry(&row.key).or_default().1.push(row);
    }
    let mut matching = Matching::default();
    for (_, (engine_rows, oracle_rows)) in groups {
        pair_group(engine_rows, oracle_rows, tolerance, &mut matching);
    }
    matching
}

/// How unlike two rows are: the sum over metrics of their errors (each capped at
/// [`MISMATCH_DISTANCE`], which a NULL mismatch counts), plus [`MISMATCH_DISTANCE`] for
/// unequal categories. 0 for rows that compare equal.
pub fn distance(a: &ComparableRow, b: &ComparableRow, tolerance: &Tolerance) -> f64 {
    let metrics: f64 = a
        .metrics
        .iter()
        .zip(&b.metrics)
        .map(|(&x, &y)| match tolerance.check(x, y) {
            ValueCheck::BothNull => 0.0,
            ValueCheck::NullMismatch => MISMATCH_DISTANCE,
            ValueCheck::Compared(error) => error.min(MISMATCH_DISTANCE),
        })
        .sum();
    let category = if a.cost_category_id == b.cost_category_id {
        0.0
    } else {
        MISMATCH_DISTANCE
    };
    metrics + category
}

/// A total order on rows of one key: metrics column by column (NULL first, values by
/// `total_cmp`), then category.
fn row_order(a: &ComparableRow, b: &ComparableRow) -> Ordering {
    let value_order = |x: &Option<f64>, y: &Option<f64>| match (x, y) {
        (Some(x), Some(y)) => x.total_cmp(y),
        _ => x.is_some().cmp(&y.is_some()),
    };
    a.metrics
        .iter()
        .zip(&b.metrics)
        .map(|(x, y)| value_order(x, y))
        .find(|order| order.is_ne())
        .unwrap_or(Ordering::Equal)
        .then(a.cost_category_id.cmp(&b.cost_category_id))
}

fn pair_group<'a>(
    mut engine: Vec<&'a ComparableRow>,
    mut oracle: Vec<&'a ComparableRow>,
    tolerance: &Tolerance,
    matching: &mut Matching<'a>,
) {
    engine.sort_by(|a, b| row_order(a, b));
    oracle.sort_by(|a, b| row_order(a, b));
    let mut indices = if engine.len() * oracle.len() <= GREEDY_PAIRS_LIMIT {
        closest_first(&engine, &oracle, tolerance)
    } else {
        (0..engine.len().min(oracle.len()))
            .map(|i| (i, i))
            .collect()
    };
    indices.sort_unstable();
    let mut engine_paired = vec![false; engine.len()];
    let mut oracle_paired = vec![false; oracle.len()];
    for (i, j) in indices {
        engine_paired[i] = true;
        oracle_paired[j] = true;
        matching.pairs.push(Pair {
            engine: engine[i],
            oracle: oracle[j],
        });
    }
    let unpaired = |rows: Vec<&'a ComparableRow>, paired: Vec<bool>| {
        rows.into_iter()
            .zip(paired)
            .filter(|(_, p)| !p)
            .map(|(row, _)| row)
    };
    matching
        .only_in_engine
        .extend(unpaired(engine, engine_paired));
    matching
        .only_in_oracle
        .extend(unpaired(oracle, oracle_paired));
}

/// Greedy assignment: every candidate pair by ascending distance (ties by index), each taken
/// when both its rows are still free. Returns `(engine index, oracle index)` pairs.
fn closest_first(
    engine: &[&ComparableRow],
    oracle: &[&ComparableRow],
    tolerance: &Tolerance,
) -> Vec<(usize, usize)> {
    if let ([_], [_]) = (engine, oracle) {
        return vec![(0, 0)];
    }
    let mut candidates: Vec<(f64, usize, usize)> = (0..engine.len())
        .flat_map(|i| (0..oracle.len()).map(move |j| (i, j)))
        .map(|(i, j)| (distance(engine[i], oracle[j], tolerance), i, j))
        .collect();
    candidates.sort_by(|a, b| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    let mut engine_taken = vec![false; engine.len()];
    let mut oracle_taken = vec![false; oracle.len()];
    let mut pairs = Vec::with_capacity(engine.len().min(oracle.len()));
    for (_, i, j) in candidates {
        if !engine_taken[i] && !oracle_taken[j] {
            engine_taken[i] = true;
            oracle_taken[j] = true;
            pairs.push((i, j));
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::fixtures::{key, row, rows_and_shuffled};
    use ocp_engine::summary::Metric;
    use proptest::prelude::*;

    const CPU: Metric = Metric::PodUsageCpuCoreHours;

    fn cpu(r: &ComparableRow) -> Option<f64> {
        r.metric(CPU)
    }

    #[test]
    fn null_key_parts_match_null_and_only_null() {
        let tolerance = Tolerance::default();
        let engine = [
            row(key(1, None, None), &[(CPU, 1.0)]),
            row(key(1, Some(""), None), &[(CPU, 2.0)]),
        ];
        let oracle = [row(key(1, None, None), &[(CPU, 1.0)])];
        let m = match_rows(&engine, &oracle, &tolerance);
        assert_eq!(m.pairs.len(), 1);
        assert_eq!(m.pairs[0].engine.key.namespace, None);
        assert_eq!(m.pairs[0].oracle.key.namespace, None);
        // namespace "" is not NULL: only in the engine.
        assert_eq!(m.only_in_engine.len(), 1);
        assert_eq!(m.only_in_engine[0].key.namespace.as_deref(), Some(""));
        assert!(m.only_in_oracle.is_empty());
    }

    /// Engine 2 rows, oracle 3 with the same key; CPU 10 and 20 against 20.0001, 30, 10.
    /// Closest first: (10, 10) at distance 0, then (20, 20.0001) at ≈ 5e-6; 30 is left over.
    #[test]
    fn a_key_repeated_two_and_three_times_pairs_the_closest() {
        let k = || key(2, Some("ns"), Some("node"));
        let engine = [row(k(), &[(CPU, 20.0)]), row(k(), &[(CPU, 10.0)])];
        let oracle = [
            row(k(), &[(CPU, 20.0001)]),
            row(k(), &[(CPU, 30.0)]),
            row(k(), &[(CPU, 10.0)]),
        ];
        let m = match_rows(&engine, &oracle, &Tolerance::default());
        let pairs: Vec<_> = m
            .pairs
            .iter()
            .map(|p| (cpu(p.engine), cpu(p.oracle)))
            .collect();
        assert_eq!(
            pairs,
            vec![(Some(10.0), Some(10.0)), (Some(20.0), Some(20.0001))]
        );
        assert!(m.only_in_engine.is_empty());
        assert_eq!(m.only_in_oracle.len(), 1);
        assert_eq!(cpu(m.only_in_oracle[0]), Some(30.0));
    }

    #[test]
    fn groups_pair_the_same_whatever_the_input_order() {
        let k = || key(3, None, Some("node"));
        let a = [
            row(k(), &[(CPU, 1.0)]),
            row(k(), &[(CPU, 2.0)]),
            row(k(), &[]),
        ];
        let b = [row(k(), &[(CPU, 2.5)]), row(k(), &[(CPU, 1.5)])];
        let forward = match_rows(&a, &b, &Tolerance::default());
        let (ra, rb): (Vec<_>, Vec<_>) = (
            a.iter().rev().cloned().collect(),
            b.iter().rev().cloned().collect(),
        );
        let backward = match_rows(&ra, &rb, &Tolerance::default());
        assert_eq!(forward, backward);
        // The NULL row resembles neither 1.5 nor 2.5 (distance 2 to both): it is the extra one.
        assert_eq!(forward.only_in_engine.len(), 1);
        assert_eq!(cpu(forward.only_in_engine[0]), None);
    }

    #[test]
    fn distance_counts_errors_null_and_category_mismatches() {
        let tolerance = Tolerance::default();
        let mut a = row(
            key(1, None, None),
            &[(CPU, 4.0), (Metric::NodeCapacityCpuCores, 1.0)],
        );
        let b = row(key(1, None, None), &[(CPU, 3.0)]);
        // CPU: |4 − 3| / 4 = 0.25; node capacity: NULL mismatch, 2.
        assert_eq!(distance(&a, &b, &tolerance), 2.25);
        a.cost_category_id = Some(1);
        assert_eq!(distance(&a, &b, &tolerance), 4.25);
        assert_eq!(distance(&a, &a, &tolerance), 0.0);
    }

    /// 300 · 300 candidate pairs exceed the greedy limit: the group is paired in sorted order,
    /// which still pairs a row set with a reversed copy of itself exactly.
    #[test]
    fn a_huge_group_is_paired_in_sorted_order() {
        let rows: Vec<_> = (0..300)
            .map(|i| row(key(4, None, None), &[(CPU, f64::from(i % 7))]))
            .collect();
        assert!(rows.len() * rows.len() > GREEDY_PAIRS_LIMIT);
        let reversed: Vec<_> = rows.iter().rev().cloned().collect();
        let m = match_rows(&rows, &reversed, &Tolerance::default());
        assert_eq!(m.pairs.len(), 300);
        assert!(m.pairs.iter().all(|p| p.engine == p.oracle));
    }

    proptest! {
        #[test]
        fn a_shuffled_copy_pairs_every_row_with_an_equal_one((rows, shuffled) in rows_and_shuffled()) {
            let m = match_rows(&rows, &shuffled, &Tolerance::default());
            prop_assert_eq!(m.pairs.len(), rows.len());
            prop_assert!(m.only_in_engine.is_empty() && m.only_in_oracle.is_empty());
            prop_assert!(m.pairs.iter().all(|p| p.engine == p.oracle));
        }

        /// Dropping rows from one side leaves exactly those rows unpaired, by key.
        #[test]
        fn every_row_comes_out_once((rows, shuffled) in rows_and_shuffled(), drop in 0..5usize) {
            let kept = &shuffled[drop.min(shuffled.len())..];
            let m = match_rows(&rows, kept, &Tolerance::default());
            prop_assert_eq!(m.pairs.len() + m.only_in_engine.len(), rows.len());
            prop_assert_eq!(m.pairs.len() + m.only_in_oracle.len(), kept.len());
            prop_assert!(m.only_in_oracle.is_empty());
            let mut extra: Vec<_> = m.only_in_engine.iter().map(|r| &r.key).collect();
            let mut dropped: Vec<_> = shuffled[..drop.min(shuffled.len())].iter().map(|r| &r.key).collect();
            extra.sort();
            dropped.sort();
            prop_assert_eq!(extra, dropped);
        }
    }
}
