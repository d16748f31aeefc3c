//! Pod rows (spec §3 statement 2 Pod branch, §5 step 3, §6.1, §6.2, §6.5).
//!
//! Each daily pod row with a node is joined, as Trino's LEFT JOINs do, to every distinct filtered
//! label map of its node and of its namespace that day and to every cost-category pattern its
//! namespace matches; each combination contributes the row's full values to the group
//! (day, namespace, node, merged labels). Several matches therefore multiply the sums: that is
//! koku's behaviour and is reproduced, not fixed (spec §7.6).

use std::collections::HashMap;

use crate::capacity::NullableFold;
use crate::config::CostCategoryPattern;
use crate::error::{Error, Result};
use crate::inputs::{
    Inputs, LabelRow, NameId, PodDay, RawLabelId, POD_CPU_EFFECTIVE, POD_CPU_LIMIT,
    POD_CPU_REQUEST, POD_CPU_USAGE, POD_MEMORY_EFFECTIVE, POD_MEMORY_LIMIT, POD_MEMORY_REQUEST,
    POD_MEMORY_USAGE,
};
use crate::labels::{filter_labels, parse_labels, EnabledKeys, LabelSetId, LabelSets};
use crate::like::like;
use crate::summary::{DataSource, Metric, SummaryRow};
use crate::window::{date_of_day, Day};

/// Seconds per hour: Trino's `3600.0`, a DECIMAL literal coerced to double (spec §7.1).
const SECONDS_PER_HOUR: f64 = 3600.0;
/// `power(2, -30)`: bytes to GiB, never 1e9 (spec §0.1).
const GIB_PER_BYTE: f64 = 1.0 / 1_073_741_824.0;

/// Filters raw label texts by the enabled keys, each distinct text once, and interns the result.
pub struct LabelFilter<'a> {
    inputs: &'a Inputs,
    keys: EnabledKeys,
    pub sets: LabelSets,
    filtered: HashMap<RawLabelId, LabelSetId>,
}

impl<'a> LabelFilter<'a> {
    pub fn new(inputs: &'a Inputs, keys: EnabledKeys) -> Self {
        LabelFilter {
            inputs,
            keys,
            sets: LabelSets::default(),
            filtered: HashMap::new(),
        }
    }

    /// `filt(json)` of spec §5; an unparsable text is bad input naming its file and column.
    pub fn filtered(&mut self, raw: RawLabelId, column: &str) -> Result<LabelSetId> {
        if let Some(&id) = self.filtered.get(&raw) {
            return Ok(id);
        }
        let text = self.inputs.raw_labels.text(raw);
        let entries = parse_labels(text).map_err(|reason| {
            let file = &self.inputs.files[self.inputs.raw_labels.first_file(raw) as usize];
            Error::input(format!(
                "{file}: column `{column}` holds {text:?}, which is {reason}. koku writes labels \
                 as a JSON object of strings (spec §2.3); fix or remove the file."
            ))
        })?;
        let id = self.sets.intern(filter_labels(&entries, &self.keys));
        self.filtered.insert(raw, id);
        Ok(id)
    }

    /// Distinct filtered maps per (day, name), as the label CTEs' GROUP BY produces them: a NULL
    /// text stays a NULL map, distinct from `{}` (both are later coalesced to `{}`).
    pub fn per_day(&mut self, rows: &[LabelRow], column: &str) -> Result<LabelsPerDay> {
        let mut per_day = LabelsPerDay::new();
        for &(day, name, raw) in rows {
            let Some(name) = name else { continue }; // a NULL name never equals a join key
            let filtered = raw.map(|raw| self.filtered(raw, column)).transpose()?;
            let maps = per_day.entry((day, name)).or_default();
            if !maps.contains(&filtered) {
                maps.push(filtered);
            }
        }
        Ok(per_day)
    }
}

/// The ids of every cost category whose pattern `namespace LIKE`s, one per matching pattern.
pub fn matching_categories(namespace: &str, patterns: &[CostCategoryPattern]) -> Vec<i32> {
    patterns
        .iter()
        .filter(|p| like(namespace, &p.pattern))
        .map(|p| p.cost_category_id)
        .collect()
}

/// Distinct filtered label maps per (day, name); `None` is a NULL label text.
pub type LabelsPerDay = HashMap<(Day, NameId), Vec<Option<LabelSetId>>>;

/// The label maps the Pod rows join: distinct filtered maps per (day, node) and per
/// (day, namespace) (spec §3 `cte_ocp_node_label_line_item_daily`, `..._namespace_...`).
pub struct JoinedLabels {
    node: LabelsPerDay,
    namespace: LabelsPerDay,
}

/// The labels phase: filters the node and namespace label rows and every Pod-branch pod row's
/// labels (each distinct text once), so that aggregation finds them all cached.
pub fn filter_pod_labels(inputs: &Inputs, labels: &mut LabelFilter) -> Result<JoinedLabels> {
    for (pod, _) in pod_branch_rows(inputs) {
        if let Some(raw) = pod.labels {
            labels.filtered(raw, "pod_labels")?;
        }
    }
    Ok(JoinedLabels {
        node: labels.per_day(&inputs.node_labels, "node_labels")?,
        namespace: labels.per_day(&inputs.namespace_labels, "namespace_labels")?,
    })
}

/// The daily pod rows the Pod branch reads: `li.node != ''`, which drops NULL and empty nodes
/// (spec §3 Pod branch, §7.10).
fn pod_branch_rows(inputs: &Inputs) -> impl Iterator<Item = (&PodDay, NameId)> {
    inputs.pod_days.iter().filter_map(|pod| {
        pod.node
            .filter(|&n| !inputs.names.text(n).is_empty())
            .map(|node| (pod, node))
    })
}

/// The aggregates of one Pod group.
#[derive(Debug, Default)]
struct PodGroup {
    seconds: [Option<f64>; 8],
    node_capacity_cpu_cores: Option<f64>,
    node_capacity_memory_bytes: Option<f64>,
    resource_id: Option<NameId>,
    cost_category_id: Option<i32>,
}

type GroupKey = (Day, Option<NameId>, NameId, Option<LabelSetId>);

/// Computes the Pod rows from the inputs, sorted by their natural key.
pub fn pod_rows(
    inputs: &Inputs,
    labels: &mut LabelFilter,
    joined: &JoinedLabels,
    patterns: &[CostCategoryPattern],
) -> Result<Vec<SummaryRow>> {
    let (node_labels, namespace_labels) = (&joined.node, &joined.namespace);
    let mut categories: HashMap<Option<NameId>, Vec<Option<i32>>> = HashMap::new();
    let mut merged: HashMap<(LabelSetId, LabelSetId, LabelSetId), LabelSetId> = HashMap::new();
    let mut groups: HashMap<GroupKey, PodGroup> = HashMap::new();
    const NO_MATCH: &[Option<LabelSetId>] = &[None];

    for (pod, node) in pod_branch_rows(inputs) {
        let pod_labels = pod
            .labels
            .map(|raw| labels.filtered(raw, "pod_labels"))
            .transpose()?;
        let node_maps = node_labels
            .get(&(pod.day, node))
            .map_or(NO_MATCH, Vec::as_slice);
        let namespace_maps = pod
            .namespace
            .and_then(|ns| namespace_labels.get(&(pod.day, ns)))
            .map_or(NO_MATCH, Vec::as_slice);
        let category_ids = categories.entry(pod.namespace).or_insert_with(|| {
            let ids = pod.namespace.map_or_else(Vec::new, |ns| {
                matching_categories(inputs.names.text(ns), patterns)
            });
            if ids.is_empty() {
                vec![None]
            } else {
                ids.into_iter().map(Some).collect()
            }
        });
        for node_map in node_maps {
            for namespace_map in namespace_maps {
                // map_concat(coalesce(node, {}), coalesce(namespace, {}), pod): NULL when the
                // pod's own map is NULL (spec §6.1).
                let labels_id = pod_labels.map(|pod_map| {
                    let parts = (
                        node_map.unwrap_or(LabelSets::EMPTY),
                        namespace_map.unwrap_or(LabelSets::EMPTY),
                        pod_map,
                    );
                    *merged
                        .entry(parts)
                        .or_insert_with(|| labels.sets.merge(&[parts.0, parts.1, parts.2]))
                });
                let group = groups
                    .entry((pod.day, pod.namespace, node, labels_id))
                    .or_default();
                for category in category_ids.iter() {
                    for (sum, value) in group.seconds.iter_mut().zip(pod.seconds) {
                        sum.add(value);
                    }
                    group
                        .node_capacity_cpu_cores
                        .maximize(pod.node_capacity_cpu_cores);
                    group
                        .node_capacity_memory_bytes
                        .maximize(pod.node_capacity_memory_bytes);
                    group.cost_category_id = group.cost_category_id.max(*category);
                    group.resource_id = max_text(inputs, group.resource_id, pod.resource_id);
                }
            }
        }
    }

    let mut rows: Vec<SummaryRow> = groups
        .into_iter()
        .map(|(key, group)| pod_row(inputs, &labels.sets, key, group))
        .collect();
    rows.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(rows)
}

/// `max(resource_id)`: the lexicographically greatest non-NULL text.
fn max_text(inputs: &Inputs, current: Option<NameId>, candidate: Option<NameId>) -> Option<NameId> {
    match (current, candidate) {
        (Some(c), Some(n)) if inputs.names.text(n) > inputs.names.text(c) => Some(n),
        (None, candidate) => candidate,
        (current, _) => current,
    }
}

/// The outer Pod select: the formulas of the spec §3 Pod table.
fn pod_row(inputs: &Inputs, sets: &LabelSets, key: GroupKey, group: PodGroup) -> SummaryRow {
    let (day, namespace, node, labels) = key;
    let node_name = inputs.names.text(node);
    let mut row = SummaryRow::new(DataSource::Pod, date_of_day(day));
    row.namespace = namespace.map(|ns| inputs.names.text(ns).to_string());
    row.node = Some(node_name.to_string());
    row.resource_id = group.resource_id.map(|r| inputs.names.text(r).to_string());
    row.pod_labels = labels.map(|id| sets.get(id).clone());
    row.cost_category_id = group.cost_category_id;
    row.has_infrastructure_usage_cost = true;

    let hours = |seconds: Option<f64>| seconds.map(|s| s / SECONDS_PER_HOUR);
    let gib_hours =
        |byte_seconds: Option<f64>| byte_seconds.map(|b| b / SECONDS_PER_HOUR * GIB_PER_BYTE);
    let s = &group.seconds;
    row.set(Metric::PodUsageCpuCoreHours, hours(s[POD_CPU_USAGE]));
    row.set(Metric::PodRequestCpuCoreHours, hours(s[POD_CPU_REQUEST]));
    row.set(
        Metric::PodEffectiveUsageCpuCoreHours,
        hours(s[POD_CPU_EFFECTIVE]),
    );
    row.set(Metric::PodLimitCpuCoreHours, hours(s[POD_CPU_LIMIT]));
    row.set(
        Metric::PodUsageMemoryGigabyteHours,
        gib_hours(s[POD_MEMORY_USAGE]),
    );
    row.set(
        Metric::PodRequestMemoryGigabyteHours,
        gib_hours(s[POD_MEMORY_REQUEST]),
    );
    row.set(
        Metric::PodEffectiveUsageMemoryGigabyteHours,
        gib_hours(s[POD_MEMORY_EFFECTIVE]),
    );
    row.set(
        Metric::PodLimitMemoryGigabyteHours,
        gib_hours(s[POD_MEMORY_LIMIT]),
    );

    let node_capacity = inputs.capacity.node(day, node_name);
    let cluster_capacity = inputs.capacity.cluster(day);
    row.set(Metric::NodeCapacityCpuCores, group.node_capacity_cpu_cores);
    row.set(
        Metric::NodeCapacityCpuCoreHours,
        hours(node_capacity.cpu_core_seconds),
    );
    row.set(
        Metric::NodeCapacityMemoryGigabytes,
        group.node_capacity_memory_bytes.map(|b| b * GIB_PER_BYTE),
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
