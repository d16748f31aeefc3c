//! The row both sides of a comparison are brought into: the engine's [`SummaryRow`] and an
//! oracle's result rows become [`ComparableRow`]s, so matching and reports never care where a row
//! came from.

use chrono::NaiveDate;
use ocp_engine::run::{RunConstants, RunReport};
use ocp_engine::summary::{Metric, SummaryRow, ZERO_INFRASTRUCTURE_USAGE_COST};

/// The columns compared: every column of `reporting_ocpusagelineitem_daily_summary` the summary
/// step writes but `uuid` (random): the natural key and the other written columns
/// ([`NaturalKey`], compared exactly), `cost_category_id` (exactly) and the 18 metrics (within a
/// tolerance).
#[derive(Debug, Clone, PartialEq)]
pub struct ComparableRow {
    pub key: NaturalKey,
    pub cost_category_id: Option<i32>,
    /// Indexed by `Metric as usize`, in [`Metric::ALL`] order.
    pub metrics: [Option<f64>; 18],
}

/// What identifies a row (issue 3 "Comparison"): data_source, usage_start, namespace, node,
/// resource_id, pvc, pv, storageclass, and the labels as canonical JSON; then the other columns
/// written, which follow from the key or the run (`usage_end`, `all_labels`,
/// `infrastructure_usage_cost`, the report period, cluster and source): a row that differs in
/// any of them matches no row of the other side, so every written column is compared exactly.
/// Any part may be NULL, and koku's own quirks can repeat a key, so rows are matched as a
/// NULL-safe multiset.
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
    /// The written columns that are not part of the identity.
    pub written: WrittenColumns,
}

/// The columns a row is written with besides its identity and values (spec §3 statement 4).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WrittenColumns {
    pub usage_end: Option<NaiveDate>,
    /// Canonical JSON of `all_labels`.
    pub all_labels: Option<String>,
    /// Canonical JSON of `infrastructure_usage_cost`.
    pub infrastructure_usage_cost: Option<String>,
    pub report_period_id: Option<i32>,
    pub cluster_id: Option<String>,
    pub cluster_alias: Option<String>,
    /// The source uuid, lowercase hyphenated text.
    pub source_uuid: Option<String>,
}

impl ComparableRow {
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        self.metrics[metric as usize]
    }
}

impl ComparableRow {
    /// The rows a finished engine run wrote, every written column as the sinks write it
    /// (`usage_end` = `usage_start`, `all_labels` from the pod and volume labels, koku's
    /// `infrastructure_usage_cost` literal on Pod and Storage rows, the run's constants).
    pub fn of_run(report: &RunReport) -> Vec<ComparableRow> {
        report
            .rows
            .iter()
            .map(|row| ComparableRow::of_engine_row(row, &report.constants))
            .collect()
    }

    /// One engine row, carrying `constants`.
    pub fn of_engine_row(row: &SummaryRow, constants: &RunConstants) -> ComparableRow {
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
                written: WrittenColumns {
                    usage_end: Some(row.usage_start),
                    all_labels: Some(row.all_labels_json()),
                    infrastructure_usage_cost: row
                        .has_infrastructure_usage_cost
                        .then(|| canonical_json(ZERO_INFRASTRUCTURE_USAGE_COST)),
                    report_period_id: Some(constants.report_period_id),
                    cluster_id: Some(constants.cluster_id.clone()),
                    cluster_alias: constants.cluster_alias.clone(),
                    source_uuid: Some(constants.source_uuid.to_string()),
                },
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
