//! Hand-made rows and row strategies for the comparison's tests.

use chrono::NaiveDate;
use ocp_engine::summary::Metric;
use proptest::prelude::*;

use super::row::{ComparableRow, NaturalKey, WrittenColumns};

/// A Pod key on 2024-05-`day`; every other part NULL.
pub(crate) fn key(day: u32, namespace: Option<&str>, node: Option<&str>) -> NaturalKey {
    NaturalKey {
        data_source: "Pod".into(),
        usage_start: NaiveDate::from_ymd_opt(2024, 5, day).expect("a May day"),
        namespace: namespace.map(Into::into),
        node: node.map(Into::into),
        resource_id: None,
        persistentvolumeclaim: None,
        persistentvolume: None,
        storageclass: None,
        pod_labels: None,
        volume_labels: None,
        written: WrittenColumns::default(),
    }
}

/// A row with the given metrics set, every other metric and the category NULL.
pub(crate) fn row(key: NaturalKey, values: &[(Metric, f64)]) -> ComparableRow {
    let mut metrics = [None; 18];
    for &(metric, value) in values {
        metrics[metric as usize] = Some(value);
    }
    ComparableRow {
        key,
        cost_category_id: None,
        metrics,
    }
}

/// Keys from a small domain, so that NULL parts and repeated keys are common.
fn key_strategy() -> impl Strategy<Value = NaturalKey> {
    let name = |names: &'static [&'static str]| {
        prop::option::of(prop::sample::select(names).prop_map(String::from))
    };
    (
        prop::sample::select(&["Pod", "Storage"][..]),
        1..=3u32,
        name(&["ns-a", "ns-b"]),
        name(&["node-1", "node-2"]),
        name(&["pvc-1"]),
        name(&["{}", r#"{"app":"x"}"#]),
    )
        .prop_map(|(source, day, namespace, node, pvc, labels)| {
            let mut k = key(day, None, None);
            k.data_source = source.into();
            k.namespace = namespace;
            k.node = node;
            k.persistentvolumeclaim = pvc;
            k.pod_labels = labels;
            k
        })
}

/// Rows with repeated keys, NULL and zero metrics, values in [1e-3, 1e6).
fn rows_strategy() -> impl Strategy<Value = Vec<ComparableRow>> {
    let value = prop_oneof![Just(None), Just(Some(0.0)), (1e-3..1e6f64).prop_map(Some)];
    let row = (
        key_strategy(),
        prop::option::of(1..=2i32),
        prop::array::uniform18(value),
    )
        .prop_map(|(key, cost_category_id, metrics)| ComparableRow {
            key,
            cost_category_id,
            metrics,
        });
    prop::collection::vec(row, 0..60)
}

/// Rows and a shuffled copy of them.
pub(crate) fn rows_and_shuffled() -> impl Strategy<Value = (Vec<ComparableRow>, Vec<ComparableRow>)>
{
    rows_strategy().prop_flat_map(|rows| (Just(rows.clone()), Just(rows).prop_shuffle()))
}
