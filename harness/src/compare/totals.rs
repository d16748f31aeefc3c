//! Whole-table totals of each side, side by side: what a reader checks first.
//!
//! Contracts:
//! - Totals cover every row of a side, matched or not.
//! - A sum ignores NULLs; a column NULL on every row sums to 0.
//! - `namespaces` and `nodes` count distinct non-NULL values.
//! - [`Totals::lines`] gives one [`TotalLine`] per figure: rows, rows per data_source (every
//!   source either side has, 0 where absent), namespaces, nodes, then the [`TOTALED`] sums, each
//!   with the [`relative_error`] of the two sides. JSON carries `engine`, `oracle` and `lines`.

use std::collections::{BTreeMap, BTreeSet};

use ocp_engine::summary::Metric;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::json;
use super::metrics::relative_error;
use super::row::ComparableRow;

/// The metrics summed: usage, request and effective usage of CPU and memory, node and cluster
/// capacity, and the three storage GiB-month columns.
pub const TOTALED: [Metric; 13] = [
    Metric::PodUsageCpuCoreHours,
    Metric::PodRequestCpuCoreHours,
    Metric::PodEffectiveUsageCpuCoreHours,
    Metric::PodUsageMemoryGigabyteHours,
    Metric::PodRequestMemoryGigabyteHours,
    Metric::PodEffectiveUsageMemoryGigabyteHours,
    Metric::NodeCapacityCpuCoreHours,
    Metric::NodeCapacityMemoryGigabyteHours,
    Metric::ClusterCapacityCpuCoreHours,
    Metric::ClusterCapacityMemoryGigabyteHours,
    Metric::PersistentvolumeclaimCapacityGigabyteMonths,
    Metric::VolumeRequestStorageGigabyteMonths,
    Metric::PersistentvolumeclaimUsageGigabyteMonths,
];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricSum {
    #[serde(rename = "column", serialize_with = "json::metric_column")]
    pub metric: Metric,
    pub sum: f64,
}

/// One side's totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideTotals {
    pub rows: u64,
    pub rows_per_data_source: BTreeMap<String, u64>,
    pub namespaces: u64,
    pub nodes: u64,
    /// In [`TOTALED`] order.
    pub sums: Vec<MetricSum>,
}

impl SideTotals {
    pub fn of(rows: &[ComparableRow]) -> Self {
        let mut rows_per_data_source = BTreeMap::new();
        for row in rows {
            *rows_per_data_source
                .entry(row.key.data_source.clone())
                .or_default() += 1;
        }
        let distinct = |part: fn(&ComparableRow) -> &Option<String>| {
            rows.iter()
                .filter_map(|r| part(r).as_ref())
                .collect::<BTreeSet<_>>()
                .len() as u64
        };
        SideTotals {
            rows: rows.len() as u64,
            rows_per_data_source,
            namespaces: distinct(|r| &r.key.namespace),
            nodes: distinct(|r| &r.key.node),
            sums: TOTALED
                .into_iter()
                .map(|metric| MetricSum {
                    metric,
                    sum: rows.iter().filter_map(|r| r.metric(metric)).sum(),
                })
                .collect(),
        }
    }

    fn rows_of(&self, data_source: &str) -> u64 {
        self.rows_per_data_source
            .get(data_source)
            .copied()
            .unwrap_or(0)
    }
}

/// One figure of both sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TotalLine {
    /// `rows`, `rows (Pod)`, `namespaces`, `nodes`, or a metric's column name.
    pub name: String,
    pub engine: f64,
    pub oracle: f64,
    pub relative_error: f64,
}

impl TotalLine {
    fn new(name: impl Into<String>, engine: f64, oracle: f64) -> Self {
        TotalLine {
            name: name.into(),
            engine,
            oracle,
            relative_error: relative_error(engine, oracle),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Totals {
    pub engine: SideTotals,
    pub oracle: SideTotals,
}

impl Totals {
    pub fn new(engine: &[ComparableRow], oracle: &[ComparableRow]) -> Self {
        Totals {
            engine: SideTotals::of(engine),
            oracle: SideTotals::of(oracle),
        }
    }

    /// Every figure side by side, in the order of the module contract.
    pub fn lines(&self) -> Vec<TotalLine> {
        let (e, o) = (&self.engine, &self.oracle);
        let count = |name: String, engine: u64, oracle: u64| {
            TotalLine::new(name, engine as f64, oracle as f64)
        };
        let sources: BTreeSet<&String> = e
            .rows_per_data_source
            .keys()
            .chain(o.rows_per_data_source.keys())
            .collect();
        let mut lines = vec![count("rows".into(), e.rows, o.rows)];
        lines.extend(sources.into_iter().map(|source| {
            count(
                format!("rows ({source})"),
                e.rows_of(source),
                o.rows_of(source),
            )
        }));
        lines.push(count("namespaces".into(), e.namespaces, o.namespaces));
        lines.push(count("nodes".into(), e.nodes, o.nodes));
        lines.extend(
            e.sums
                .iter()
                .zip(&o.sums)
                .map(|(a, b)| TotalLine::new(a.metric.column(), a.sum, b.sum)),
        );
        lines
    }
}

impl Serialize for Totals {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Totals", 3)?;
        st.serialize_field("engine", &self.engine)?;
        st.serialize_field("oracle", &self.oracle)?;
        st.serialize_field("lines", &self.lines())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::fixtures::{key, row};

    const CPU: Metric = Metric::PodUsageCpuCoreHours;
    const PVC_MONTHS: Metric = Metric::PersistentvolumeclaimUsageGigabyteMonths;

    fn engine_rows() -> Vec<ComparableRow> {
        let mut storage = row(key(1, Some("b"), None), &[(PVC_MONTHS, 0.5)]);
        storage.key.data_source = "Storage".into();
        vec![
            row(key(1, Some("a"), Some("n1")), &[(CPU, 1.5)]),
            row(key(1, Some("a"), Some("n2")), &[]),
            row(key(2, None, Some("n1")), &[(CPU, 2.25)]),
            storage,
        ]
    }

    #[test]
    fn sums_ignore_nulls_and_counts_ignore_null_names() {
        let totals = SideTotals::of(&engine_rows());
        assert_eq!(totals.rows, 4);
        assert_eq!(
            totals.rows_per_data_source,
            BTreeMap::from([("Pod".into(), 3), ("Storage".into(), 1)])
        );
        // Namespaces a, a, NULL, b: 2 distinct. Nodes n1, n2, n1, NULL: 2.
        assert_eq!((totals.namespaces, totals.nodes), (2, 2));
        // CPU 1.5 + NULL + 2.25 + NULL = 3.75.
        assert_eq!(
            totals.sums[0],
            MetricSum {
                metric: CPU,
                sum: 3.75
            }
        );
        assert_eq!(
            totals.sums[12],
            MetricSum {
                metric: PVC_MONTHS,
                sum: 0.5
            }
        );
        // Every other column is NULL on every row: 0.
        assert!(totals.sums[1..12].iter().all(|s| s.sum == 0.0));
    }

    #[test]
    fn lines_put_both_sides_together() {
        // The oracle has only the first Pod row, with CPU 3.0.
        let oracle = [row(key(1, Some("a"), Some("n1")), &[(CPU, 3.0)])];
        let totals = Totals::new(&engine_rows(), &oracle);
        let lines = totals.lines();
        let names: Vec<&str> = lines.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names[..6],
            [
                "rows",
                "rows (Pod)",
                "rows (Storage)",
                "namespaces",
                "nodes",
                CPU.column()
            ]
        );
        assert_eq!(lines.len(), 5 + TOTALED.len());
        // rows 4 vs 1: 3 / 4.
        assert_eq!(lines[0].relative_error, 0.75);
        // Storage 1 vs 0 (absent on the oracle side): 1 / 1.
        assert_eq!(
            (lines[2].engine, lines[2].oracle, lines[2].relative_error),
            (1.0, 0.0, 1.0)
        );
        // CPU 3.75 vs 3.0: 0.75 / 3.75 = 0.2.
        assert_eq!((lines[5].engine, lines[5].oracle), (3.75, 3.0));
        assert!((lines[5].relative_error - 0.2).abs() < 1e-15);
        let json = serde_json::to_value(&totals).unwrap();
        assert_eq!(json["lines"][0]["name"], "rows");
        assert_eq!(json["engine"]["sums"][0]["column"], CPU.column());
        assert_eq!(json["oracle"]["rows_per_data_source"]["Pod"], 1);
    }
}
