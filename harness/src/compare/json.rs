//! How the row types of [`super::row`], which derive no `Serialize`, appear in JSON reports
//! (`serialize_with` adapters):
//! - a key is an object of its ten columns, `usage_start` as `YYYY-MM-DD`, labels as their
//!   canonical JSON text, NULL as `null`;
//! - a row is `{"key", "cost_category_id", "metrics"}`, metrics an object from koku's column
//!   name to value, in [`Metric::ALL`] order;
//! - a metric is its column name.

use ocp_engine::summary::Metric;
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use super::row::{ComparableRow, NaturalKey};

pub(crate) fn metric_column<S: Serializer>(metric: &Metric, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(metric.column())
}

pub(crate) fn key<S: Serializer>(key: &NaturalKey, s: S) -> Result<S::Ok, S::Error> {
    KeyView(key).serialize(s)
}

pub(crate) fn rows<S: Serializer>(rows: &[ComparableRow], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(rows.iter().map(RowView))
}

struct KeyView<'a>(&'a NaturalKey);

impl Serialize for KeyView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let k = self.0;
        let mut st = s.serialize_struct("NaturalKey", 10)?;
        st.serialize_field("data_source", &k.data_source)?;
        st.serialize_field("usage_start", &k.usage_start.format("%Y-%m-%d").to_string())?;
        st.serialize_field("namespace", &k.namespace)?;
        st.serialize_field("node", &k.node)?;
        st.serialize_field("resource_id", &k.resource_id)?;
        st.serialize_field("persistentvolumeclaim", &k.persistentvolumeclaim)?;
        st.serialize_field("persistentvolume", &k.persistentvolume)?;
        st.serialize_field("storageclass", &k.storageclass)?;
        st.serialize_field("pod_labels", &k.pod_labels)?;
        st.serialize_field("volume_labels", &k.volume_labels)?;
        st.end()
    }
}

struct RowView<'a>(&'a ComparableRow);

impl Serialize for RowView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("ComparableRow", 3)?;
        st.serialize_field("key", &KeyView(&self.0.key))?;
        st.serialize_field("cost_category_id", &self.0.cost_category_id)?;
        st.serialize_field("metrics", &MetricsView(&self.0.metrics))?;
        st.end()
    }
}

struct MetricsView<'a>(&'a [Option<f64>; 18]);

impl Serialize for MetricsView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(Metric::ALL.len()))?;
        for metric in Metric::ALL {
            map.serialize_entry(metric.column(), &self.0[metric as usize])?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::fixtures::{key, row};

    #[derive(Serialize)]
    struct Rows<'a>(#[serde(serialize_with = "rows")] &'a [ComparableRow]);

    #[test]
    fn a_row_is_its_key_category_and_named_metrics() {
        let mut r = row(
            key(9, Some("ns"), None),
            &[(Metric::NodeCapacityCpuCores, 4.0)],
        );
        r.key.pod_labels = Some(r#"{"app":"x"}"#.into());
        r.cost_category_id = Some(3);
        let json = serde_json::to_value(Rows(&[r])).unwrap();
        let row = &json[0];
        assert_eq!(row["key"]["usage_start"], "2024-05-09");
        assert_eq!(row["key"]["namespace"], "ns");
        assert_eq!(row["key"]["node"], serde_json::Value::Null);
        assert_eq!(row["key"]["pod_labels"], r#"{"app":"x"}"#);
        assert_eq!(row["cost_category_id"], 3);
        assert_eq!(row["metrics"]["node_capacity_cpu_cores"], 4.0);
        assert_eq!(
            row["metrics"]["pod_usage_cpu_core_hours"],
            serde_json::Value::Null
        );
        assert_eq!(row["metrics"].as_object().unwrap().len(), 18);
    }
}
