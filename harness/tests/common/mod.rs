//! Helpers of the hand-computed tests that cannot be fixtures (`pod_rows`):
//! small model builders and tolerant metric assertions.

use std::ops::Range;

use chrono::NaiveDate;
use ocp_engine::summary::{Metric, SummaryRow};
use ocp_harness::synth::model::GIB;
use ocp_harness::synth::{ClusterModel, LabelPeriod, NodeModel, PodModel};

/// Relative tolerance for metric comparisons (the spec asks for about 1e-12, §7.2; every value
/// here is a short sum, so 1e-9 leaves room without hiding a wrong formula).
pub const REL_TOL: f64 = 1e-9;

/// Asserts `actual` is non-NULL and equal to `expected` within [`REL_TOL`] (exact for 0).
#[track_caller]
pub fn assert_close(actual: Option<f64>, expected: f64, what: &str) {
    let Some(actual) = actual else {
        panic!("{what}: expected {expected}, got NULL");
    };
    let scale = actual.abs().max(expected.abs());
    assert!(
        (actual - expected).abs() <= REL_TOL * scale,
        "{what}: expected {expected}, got {actual}"
    );
}

/// Asserts each `(metric, expected)` pair on `row`.
#[track_caller]
pub fn assert_metrics(row: &SummaryRow, expected: &[(Metric, f64)]) {
    for &(metric, value) in expected {
        let what = format!(
            "{} of row ({}, {:?}, {:?}, {:?})",
            metric.column(),
            row.usage_start,
            row.namespace,
            row.node,
            row.pod_labels_json()
        );
        assert_close(row.metric(metric), value, &what);
    }
}

pub fn hours(range: Range<u32>) -> Vec<u32> {
    range.collect()
}

pub fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid date")
}

/// A node with resource id `i-<name>`.
pub fn node(name: &str, cores: f64, memory_gib: f64, labels: Vec<LabelPeriod>) -> NodeModel {
    NodeModel {
        name: name.to_string(),
        resource_id: format!("i-{name}"),
        cpu_cores: cores,
        memory_bytes: memory_gib * GIB,
        labels,
    }
}

/// A pod using `cpu_cores` and `memory_gib` in each of `hours` (whole hours), with no request,
/// limit or labels unless the test sets them.
pub fn pod(
    name: &str,
    ns: &str,
    node: &str,
    hours: Vec<u32>,
    cpu_cores: f64,
    memory_gib: f64,
) -> PodModel {
    let mut pod = PodModel::new(name, ns, node, hours);
    pod.cpu_usage_cores = cpu_cores;
    pod.memory_usage_bytes = memory_gib * GIB;
    pod
}

/// An empty one-day cluster on 2026-09-01.
pub fn one_day() -> ClusterModel {
    ClusterModel::empty(2026, 9, 1, 1)
}
