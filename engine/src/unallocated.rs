//! Unallocated-capacity rows (spec §3 statement 3, §5 step 5, §6.4).
//!
//! Per (node, day) over the Pod rows just computed: the node's capacity minus the sums of usage,
//! request and effective usage, CPU and memory, unclamped (requests above capacity give negative
//! values). Rows in the special namespaces, or with a NULL namespace, are left out. The namespace
//! comes from the node's role: `Platform unallocated` for master and infra, `Worker unallocated`
//! for worker, NULL otherwise (the row is still written). The cost category is joined by LIKE
//! afterwards without aggregating, so several matching patterns duplicate the row.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::capacity::NullableFold;
use crate::label_joins::CostCategories;
use crate::node_roles::RoleLookup;
use crate::summary::{DataSource, Metric, SummaryRow};

/// Namespaces whose Pod rows do not count against capacity.
const EXCLUDED_NAMESPACES: [&str; 4] = [
    "Platform unallocated",
    "Worker unallocated",
    "Network unattributed",
    "Storage unattributed",
];

/// (capacity column, Pod column it is reduced by) of every unallocated metric.
const CAPACITY_MINUS: [(Metric, Metric); 6] = [
    (
        Metric::NodeCapacityCpuCoreHours,
        Metric::PodUsageCpuCoreHours,
    ),
    (
        Metric::NodeCapacityCpuCoreHours,
        Metric::PodRequestCpuCoreHours,
    ),
    (
        Metric::NodeCapacityCpuCoreHours,
        Metric::PodEffectiveUsageCpuCoreHours,
    ),
    (
        Metric::NodeCapacityMemoryGigabyteHours,
        Metric::PodUsageMemoryGigabyteHours,
    ),
    (
        Metric::NodeCapacityMemoryGigabyteHours,
        Metric::PodRequestMemoryGigabyteHours,
    ),
    (
        Metric::NodeCapacityMemoryGigabyteHours,
        Metric::PodEffectiveUsageMemoryGigabyteHours,
    ),
];

/// Capacity columns copied as `max(...)`.
const CAPACITY: [Metric; 6] = [
    Metric::NodeCapacityCpuCores,
    Metric::NodeCapacityCpuCoreHours,
    Metric::NodeCapacityMemoryGigabytes,
    Metric::NodeCapacityMemoryGigabyteHours,
    Metric::ClusterCapacityCpuCoreHours,
    Metric::ClusterCapacityMemoryGigabyteHours,
];

/// The unallocated namespace of a role (`CASE max(node_role) ...`).
pub fn unallocated_namespace(role: Option<&str>) -> Option<&'static str> {
    match role? {
        "master" | "infra" => Some("Platform unallocated"),
        "worker" => Some("Worker unallocated"),
        _ => None,
    }
}

/// The aggregates of one (node, day).
#[derive(Debug, Default)]
struct NodeDay<'a> {
    resource_id: Option<&'a str>,
    role: Option<&'a str>,
    /// `max` of every capacity metric, indexed by `Metric as usize`.
    max: [Option<f64>; 18],
    /// `sum` of every Pod metric, indexed by `Metric as usize`.
    sum: [Option<f64>; 18],
}

/// The unallocated rows of `pod_rows` (the Pod rows of this run), with `roles` the lookup
/// `max(node_role)` per (node, resource_id) of `reporting_ocp_nodes`.
pub fn unallocated_rows(
    pod_rows: &[SummaryRow],
    roles: &RoleLookup,
    categories: &mut CostCategories,
) -> Vec<SummaryRow> {
    let mut node_days: BTreeMap<(&str, NaiveDate), NodeDay> = BTreeMap::new();
    for row in pod_rows {
        let (Some(namespace), Some(node)) = (&row.namespace, &row.node) else {
            continue; // `namespace != ...` is NULL for a NULL namespace; node IS NOT NULL
        };
        if row.data_source != DataSource::Pod || EXCLUDED_NAMESPACES.contains(&namespace.as_str()) {
            continue;
        }
        let group = node_days.entry((node, row.usage_start)).or_default();
        let resource_id = row.resource_id.as_deref();
        group.resource_id = group.resource_id.max(resource_id);
        let role = resource_id
            .and_then(|r| roles.get(node.as_str())?.get(r))
            .map(String::as_str);
        group.role = group.role.max(role);
        for metric in CAPACITY {
            group.max[metric as usize].maximize(row.metric(metric));
        }
        for (_, metric) in CAPACITY_MINUS {
            group.sum[metric as usize].add(row.metric(metric));
        }
    }
    let mut rows = Vec::new();
    for ((node, day), group) in node_days {
        let namespace = unallocated_namespace(group.role);
        for &category in categories.of(namespace) {
            let mut row = SummaryRow::new(DataSource::Pod, day);
            row.namespace = namespace.map(str::to_string);
            row.node = Some(node.to_string());
            row.resource_id = group.resource_id.map(str::to_string);
            row.cost_category_id = category;
            for metric in CAPACITY {
                row.set(metric, group.max[metric as usize]);
            }
            for (capacity, metric) in CAPACITY_MINUS {
                let left = group.max[capacity as usize];
                let used = group.sum[metric as usize];
                row.set(metric, left.zip(used).map(|(c, u)| c - u));
            }
            rows.push(row);
        }
    }
    rows
}
