//! The row both sides of a comparison are brought into: the engine's [`SummaryRow`] and an
//! oracle's result rows become [`ComparableRow`]s, so matching and reports never care where a row
//! came from.

use chrono::NaiveDate;
use ocp_engine::summary::{Metric, SummaryRow};

/// The columns compared: every column of `reporting_ocpusagelineitem_daily_summary` the summary
/// step computes, minus `uuid` (random) and the run constants (report period, cluster, source),
/// which a comparison checks once rather than per row.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparableRow {
    pub key: NaturalKey,
    pub cost_category_id: Option<i32>,
    /// Indexed by `Metric as usize`, in [`Metric::ALL`] order.
    pub metrics: [Option<f64>; 18],
}

/// What identifies a row (issue 3 "Comparison"): data_source, usage_start, namespace, node,
/// resource_id, pvc, pv, storageclass, and the labels as canonical JSON. Any part may be NULL,
/// and koku's own quirks can repeat a key, so rows are matched as a NULL-safe multiset.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NaturalKey {
    pub data_source: String,
    pub usage_start: NaiveDate,
    pub namespace: Option<String>,
    pub node: Option<String>,
    pub resource_id: Option<String>,
    pub persistentvolumeclaim: Option<String>,
    pub persistentvolume: Option<String>,
    pub storageclass: Option<String>,
    /// Canonical JSON ([`canonical_json`]) of `pod_labels`.
    pub pod_labels: Option<String>,
    /// Canonical JSON of `volume_labels`.
    pub volume_labels: Option<String>,
}

impl ComparableRow {
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        self.metrics[metric as usize]
    }
}

impl From<&SummaryRow> for ComparableRow {
    fn from(row: &SummaryRow) -> Self {
        ComparableRow {
            key: NaturalKey {
                data_source: row.data_source.as_str().to_string(),
                usage_start: row.usage_start,
                namespace: row.namespace.clone(),
                node: row.node.clone(),
                resource_id: row.resource_id.clone(),
                persistentvolumeclaim: row.persistentvolumeclaim.clone(),
                persistentvolume: row.persistentvolume.clone(),
                storageclass: row.storageclass.clone(),
                // The engine's maps serialise with sorted keys already.
                pod_labels: row.pod_labels_json(),
                volume_labels: row.volume_labels_json(),
            },
            cost_category_id: row.cost_category_id,
            metrics: row.metrics,
        }
    }
}

/// A JSON object text in one canonical form: keys sorted, no whitespace, values as compact JSON.
/// DuckDB keeps map insertion order and Trino sorts keys, so both sides go through this before
/// comparing. Text that is not a JSON object is returned unchanged (and will then differ visibly).
pub fn canonical_json(text: &str) -> String {
    match serde_json::from_str::<std::collections::BTreeMap<String, serde_json::Value>>(text) {
        Ok(map) => serde_json::to_string(&map).expect("a parsed map serialises"),
        Err(_) => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        assert_eq!(
            canonical_json(r#"{"b": "2", "a": "1"}"#),
            r#"{"a":"1","b":"2"}"#
        );
        assert_eq!(canonical_json("{}"), "{}");
        assert_eq!(canonical_json("not json"), "not json");
    }
}
