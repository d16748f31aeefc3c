//! Pod rows (spec §3 statement 2 Pod branch, §5 step 3, §6.1, §6.2, §6.5).
//!
//! Each daily pod row with a node is joined, as Trino's LEFT JOINs do, to every distinct filtered
//! label map of its node and of its namespace that day and to every cost-category pattern its
//! namespace matches; each combination contributes the row's full values to the group
//! (day, namespace, node, merged labels). Several matches therefore multiply the sums: that is
//! koku's behaviour and is reproduced, not fixed (spec §7.6).

use std::collections::HashMap;

use crate::capacity::{CapacitySeconds, NullableFold};
use crate::compat::Compatibility;
use crate::error::Result;
use crate::inputs::{
    DayRows, Inputs, NameId, PodDay, NODE_CAPACITY_CPU_CORES, NODE_CAPACITY_MEMORY_BYTES,
    POD_CPU_EFFECTIVE, POD_CPU_LIMIT, POD_CPU_REQUEST, POD_CPU_USAGE, POD_MEMORY_EFFECTIVE,
    POD_MEMORY_LIMIT, POD_MEMORY_REQUEST, POD_MEMORY_USAGE, POD_METRICS,
};
use crate::label_joins::{CostCategories, JoinedLabels, LabelFilter};
use crate::labels::{LabelSetId, LabelSets};
use crate::summary::{DataSource, Metric, SummaryRow};
use crate::units::{gib, gib_hours, hours};
use crate::window::{date_of_day, Day};

/// The labels phase for Pod rows: filters every Pod-branch row's labels (each distinct text
/// once), so that aggregation finds them cached.
pub fn filter_pod_labels(inputs: &Inputs, labels: &mut LabelFilter) -> Result<()> {
    for (pod, _) in pod_branch_rows(inputs, inputs.pod_days.iter()) {
        labels.filtered(pod.labels, "pod_labels")?;
    }
    Ok(())
}

/// The daily pod rows of `pods` the Pod branch reads: `li.node != ''`, which drops NULL and empty
/// nodes (spec §3 Pod branch, §7.10).
fn pod_branch_rows<'a>(
    inputs: &'a Inputs,
    pods: impl Iterator<Item = &'a PodDay>,
) -> impl Iterator<Item = (&'a PodDay, NameId)> {
    pods.filter_map(|pod| {
        pod.node
            .filter(|&n| !inputs.names.text(n).is_empty())
            .map(|node| (pod, node))
    })
}

/// A pod row's seconds with the effective columns filled as
/// `coalesce(effective, greatest(usage, request))` (spec §3). Trino's `greatest` is NULL when an
/// argument is NULL; PostgreSQL's ignores NULLs (spec §7.4, §9.3).
fn effective_seconds(pod: &PodDay, compat: Compatibility) -> [Option<f64>; POD_METRICS] {
    let mut values: [Option<f64>; POD_METRICS] = std::array::from_fn(|i| pod.values.get(i));
    for (effective, usage, request) in [
        (POD_CPU_EFFECTIVE, POD_CPU_USAGE, POD_CPU_REQUEST),
        (POD_MEMORY_EFFECTIVE, POD_MEMORY_USAGE, POD_MEMORY_REQUEST),
    ] {
        if values[effective].is_none() {
            values[effective] = compat.greatest(values[usage], values[request]);
        }
    }
    values
}

/// The aggregates of one Pod group.
#[derive(Debug, Default)]
struct PodGroup {
    seconds: [Option<f64>; POD_METRICS],
    node_capacity_cpu_cores: Option<f64>,
    node_capacity_memory_bytes: Option<f64>,
    resource_id: Option<NameId>,
    cost_category_id: Option<i32>,
}

type GroupKey = (Day, Option<NameId>, NameId, Option<LabelSetId>);

/// Computes the Pod rows of one day from its daily pod rows, sorted by their natural key.
pub fn pod_rows(
    inputs: &Inputs,
    day: DayRows,
    labels: &mut LabelFilter,
    joined: &JoinedLabels,
    categories: &mut CostCategories,
) -> Result<Vec<SummaryRow>> {
    let compat = labels.compat();
    let mut groups: HashMap<GroupKey, PodGroup> = HashMap::new();

    for (pod, node) in pod_branch_rows(inputs, day.pods.iter()) {
        let pod_labels = labels.filtered(pod.labels, "pod_labels")?;
        let seconds = effective_seconds(pod, compat);
        let namespace = pod.namespace.map(|ns| inputs.names.text(ns));
        let category_ids = categories.of(namespace);
        for &node_map in joined.node_maps(pod.day, Some(node)) {
            for &namespace_map in joined.namespace_maps(pod.day, pod.namespace) {
                let labels_id = labels.merge(node_map, namespace_map, &[pod_labels]);
                let group = groups
                    .entry((pod.day, pod.namespace, node, labels_id))
                    .or_default();
                for category in category_ids {
                    for (sum, value) in group.seconds.iter_mut().zip(seconds) {
                        sum.add(value);
                    }
                    group
                        .node_capacity_cpu_cores
                        .maximize(pod.values.get(NODE_CAPACITY_CPU_CORES));
                    group
                        .node_capacity_memory_bytes
                        .maximize(pod.values.get(NODE_CAPACITY_MEMORY_BYTES));
                    group.cost_category_id = group.cost_category_id.max(*category);
                    group.resource_id = inputs.max_name(group.resource_id, pod.resource_id);
                }
            }
        }
    }

    let mut rows: Vec<SummaryRow> = groups
        .into_iter()
        .map(|(key, group)| pod_row(inputs, &labels.sets, key, group, compat))
        .collect();
    rows.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(rows)
}

/// Capacity-seconds as the Pod branch reads them: NULL without a match in Trino,
/// `coalesce(max(...), 0)` in koku's PostgreSQL port (spec §9.3).
fn capacity_or_zero(capacity: CapacitySeconds, compat: Compatibility) -> CapacitySeconds {
    match compat {
        Compatibility::Trino => capacity,
        Compatibility::Postgres => CapacitySeconds {
            cpu_core_seconds: capacity.cpu_core_seconds.or(Some(0.0)),
            memory_byte_seconds: capacity.memory_byte_seconds.or(Some(0.0)),
        },
    }
}

/// The outer Pod select: the formulas of the spec §3 Pod table.
fn pod_row(
    inputs: &Inputs,
    sets: &LabelSets,
    key: GroupKey,
    group: PodGroup,
    compat: Compatibility,
) -> SummaryRow {
    let (day, namespace, node, labels) = key;
    let node_name = inputs.names.text(node);
    let mut row = SummaryRow::new(DataSource::Pod, date_of_day(day));
    row.namespace = namespace.map(|ns| inputs.names.text(ns).to_string());
    row.node = Some(node_name.to_string());
    row.resource_id = group.resource_id.map(|r| inputs.names.text(r).to_string());
    row.pod_labels = labels.map(|id| sets.get(id).clone());
    row.cost_category_id = group.cost_category_id;
    row.has_infrastructure_usage_cost = true;

    let s = &group.seconds;
    for (metric, value) in [
        (Metric::PodUsageCpuCoreHours, hours(s[POD_CPU_USAGE])),
        (Metric::PodRequestCpuCoreHours, hours(s[POD_CPU_REQUEST])),
        (
            Metric::PodEffectiveUsageCpuCoreHours,
            hours(s[POD_CPU_EFFECTIVE]),
        ),
        (Metric::PodLimitCpuCoreHours, hours(s[POD_CPU_LIMIT])),
        (
            Metric::PodUsageMemoryGigabyteHours,
            gib_hours(s[POD_MEMORY_USAGE]),
        ),
        (
            Metric::PodRequestMemoryGigabyteHours,
            gib_hours(s[POD_MEMORY_REQUEST]),
        ),
        (
            Metric::PodEffectiveUsageMemoryGigabyteHours,
            gib_hours(s[POD_MEMORY_EFFECTIVE]),
        ),
        (
            Metric::PodLimitMemoryGigabyteHours,
            gib_hours(s[POD_MEMORY_LIMIT]),
        ),
    ] {
        row.set(metric, value);
    }

    let node_capacity = capacity_or_zero(inputs.capacity.node(day, node_name), compat);
    let cluster_capacity = capacity_or_zero(inputs.capacity.cluster(day), compat);
    row.set(Metric::NodeCapacityCpuCores, group.node_capacity_cpu_cores);
    row.set(
        Metric::NodeCapacityCpuCoreHours,
        hours(node_capacity.cpu_core_seconds),
    );
    row.set(
        Metric::NodeCapacityMemoryGigabytes,
        gib(group.node_capacity_memory_bytes),
    );
    row.set(
        Metric::NodeCapacityMemoryGigabyteHours,
        gib_hours(node_capacity.memory_byte_seconds),
    );
    row.set(
        Metric::ClusterCapacityCpuCoreHours,
        hours(cluster_capacity.cpu_core_seconds),
    );
    row.set(
        Metric::ClusterCapacityMemoryGigabyteHours,
        gib_hours(cluster_capacity.memory_byte_seconds),
    );
    row
}
