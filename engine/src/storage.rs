//! Storage rows (spec §3 statement 2 Storage branch, `cte_volume_nodes`,
//! `cte_shared_volume_node_count`, §5 step 4, §6.3).
//!
//! A volume row takes its node and resource id from the daily pod rows of the pod that mounts
//! the claim (same namespace, pod and day), not from the storage report. A claim whose pod ran
//! on several nodes yields one row per node, each with the full sums; request and usage are
//! divided by the number of distinct nodes the volume was mounted on that day, capacity is not.
//! As in the Pod branch, every LEFT JOIN match (volume node, node labels, namespace labels,
//! cost-category pattern) contributes the storage row's full values once.

use std::collections::HashMap;

use crate::capacity::NullableFold;
use crate::compat::Compatibility;
use crate::error::Result;
use crate::inputs::{
    DayRows, Inputs, NameId, StorageDay, PVC_CAPACITY_BYTES, PVC_CAPACITY_BYTE_SECONDS,
    PVC_USAGE_BYTE_SECONDS, VOLUME_REQUEST_BYTE_SECONDS,
};
use crate::label_joins::{CostCategories, JoinedLabels, LabelFilter};
use crate::labels::LabelSetId;
use crate::summary::{DataSource, Metric, SummaryRow};
use crate::units::{gib, gib_months};
use crate::window::{date_of_day, days_in_month, Day};

/// A `cte_volume_nodes` entry a storage row joins: (persistentvolume, node, resource_id).
type VolumeNode = (Option<NameId>, Option<NameId>, Option<NameId>);
/// Where a pod ran: (node, resource_id).
type PodNode = (Option<NameId>, Option<NameId>);

/// `cte_volume_nodes` keyed by the join columns (day, namespace, pod, persistentvolumeclaim),
/// and `cte_shared_volume_node_count` keyed by (day, persistentvolume).
struct VolumeNodes {
    by_claim: HashMap<(Day, NameId, NameId, NameId), Vec<VolumeNode>>,
    node_count: HashMap<(Day, NameId), usize>,
}

impl VolumeNodes {
    /// Storage rows ⋈ daily pod rows on (namespace, pod, day), distinct over
    /// (day, pvc, pv, pod, namespace, node, resource_id); pod rows with an empty or NULL node are
    /// kept here (spec §7.10). NULL join columns never match.
    fn new(day: DayRows) -> Self {
        let mut pod_nodes: HashMap<(Day, NameId, NameId), Vec<PodNode>> = HashMap::new();
        for pod in day.pods {
            if let (Some(namespace), Some(name)) = (pod.namespace, pod.pod) {
                let nodes = pod_nodes.entry((pod.day, namespace, name)).or_default();
                push_distinct(nodes, (pod.node, pod.resource_id));
            }
        }
        let mut by_claim: HashMap<_, Vec<VolumeNode>> = HashMap::new();
        for volume in day.volumes {
            let (Some(namespace), Some(pod), Some(claim)) =
                (volume.namespace, volume.pod, volume.persistentvolumeclaim)
            else {
                continue;
            };
            let Some(nodes) = pod_nodes.get(&(volume.day, namespace, pod)) else {
                continue;
            };
            let entries = by_claim
                .entry((volume.day, namespace, pod, claim))
                .or_default();
            for &(node, resource_id) in nodes {
                push_distinct(entries, (volume.persistentvolume, node, resource_id));
            }
        }
        let mut nodes_per_volume: HashMap<(Day, NameId), Vec<NameId>> = HashMap::new();
        for (&(day, ..), entries) in &by_claim {
            for &(volume, node, _) in entries {
                if let (Some(volume), Some(node)) = (volume, node) {
                    push_distinct(nodes_per_volume.entry((day, volume)).or_default(), node);
                }
            }
        }
        let node_count = nodes_per_volume
            .into_iter()
            .map(|(key, nodes)| (key, nodes.len()))
            .collect();
        VolumeNodes {
            by_claim,
            node_count,
        }
    }

    /// The entries `volume` joins, or one all-NULL entry when it has none (LEFT JOIN).
    fn of(&self, volume: &StorageDay) -> &[VolumeNode] {
        const NO_MATCH: &[VolumeNode] = &[(None, None, None)];
        match (volume.namespace, volume.pod, volume.persistentvolumeclaim) {
            (Some(namespace), Some(pod), Some(claim)) => self
                .by_claim
                .get(&(volume.day, namespace, pod, claim))
                .map_or(NO_MATCH, Vec::as_slice),
            _ => NO_MATCH,
        }
    }

    /// `node_count` of the volume that day, `None` without a match.
    fn count(&self, day: Day, volume: Option<NameId>) -> Option<usize> {
        volume.and_then(|v| self.node_count.get(&(day, v)).copied())
    }
}

fn push_distinct<T: PartialEq>(items: &mut Vec<T>, item: T) {
    if !items.contains(&item) {
        items.push(item);
    }
}

/// The labels phase for Storage rows: filters every PV and PVC label text once.
pub fn filter_volume_labels(inputs: &Inputs, labels: &mut LabelFilter) -> Result<()> {
    for volume in inputs.storage_days.iter() {
        labels.filtered(volume.persistentvolume_labels, "persistentvolume_labels")?;
        labels.filtered(
            volume.persistentvolumeclaim_labels,
            "persistentvolumeclaim_labels",
        )?;
    }
    Ok(())
}

/// The group key: (day, namespace, node, resource_id, pvc, pv, storageclass, csi_volume_handle,
/// merged labels).
type GroupKey = (
    Day,
    Option<NameId>,
    Option<NameId>,
    Option<NameId>,
    Option<NameId>,
    Option<NameId>,
    Option<NameId>,
    Option<NameId>,
    Option<LabelSetId>,
);

/// The aggregates of one Storage group.
#[derive(Debug, Default)]
struct StorageGroup {
    capacity_bytes: Option<f64>,
    capacity_byte_seconds: Option<f64>,
    request_byte_seconds: Option<f64>,
    usage_byte_seconds: Option<f64>,
    /// `max(nc.node_count)`.
    node_count: Option<usize>,
    cost_category_id: Option<i32>,
}

/// Computes the Storage rows of one day from its daily storage and pod rows, sorted by their
/// natural key; none when the partition has no storage table (spec §12.9).
pub fn storage_rows(
    inputs: &Inputs,
    day: DayRows,
    labels: &mut LabelFilter,
    joined: &JoinedLabels,
    categories: &mut CostCategories,
) -> Result<Vec<SummaryRow>> {
    let compat = labels.compat();
    if !inputs.storage_exists {
        return Ok(Vec::new());
    }
    let volume_nodes = VolumeNodes::new(day);
    let mut groups: HashMap<GroupKey, StorageGroup> = HashMap::new();
    for volume in day.volumes {
        let own = [
            labels.filtered(volume.persistentvolume_labels, "persistentvolume_labels")?,
            labels.filtered(
                volume.persistentvolumeclaim_labels,
                "persistentvolumeclaim_labels",
            )?,
        ];
        let node_count = volume_nodes.count(volume.day, volume.persistentvolume);
        let namespace = volume.namespace.map(|ns| inputs.names.text(ns));
        let category_ids = categories.of(namespace);
        for &(_, node, resource_id) in volume_nodes.of(volume) {
            for &node_map in joined.node_maps(volume.day, node) {
                for &namespace_map in joined.namespace_maps(volume.day, volume.namespace) {
                    let labels_id = labels.merge(node_map, namespace_map, &own);
                    let key = (
                        volume.day,
                        volume.namespace,
                        node,
                        resource_id,
                        volume.persistentvolumeclaim,
                        volume.persistentvolume,
                        volume.storageclass,
                        volume.csi_volume_handle,
                        labels_id,
                    );
                    let group = groups.entry(key).or_default();
                    for category in category_ids {
                        add_volume(group, volume, node_count, *category);
                    }
                }
            }
        }
    }
    let mut rows: Vec<SummaryRow> = groups
        .into_iter()
        .map(|(key, group)| storage_row(inputs, labels, key, group, compat))
        .collect();
    rows.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(rows)
}

fn add_volume(
    group: &mut StorageGroup,
    volume: &StorageDay,
    node_count: Option<usize>,
    category: Option<i32>,
) {
    let v = volume.values.all();
    group.capacity_bytes.maximize(v[PVC_CAPACITY_BYTES]);
    group
        .capacity_byte_seconds
        .add(v[PVC_CAPACITY_BYTE_SECONDS]);
    group
        .request_byte_seconds
        .add(v[VOLUME_REQUEST_BYTE_SECONDS]);
    group.usage_byte_seconds.add(v[PVC_USAGE_BYTE_SECONDS]);
    group.node_count = group.node_count.max(node_count);
    group.cost_category_id = group.cost_category_id.max(category);
}

/// `sum / max(nc.node_count)` (double / bigint): NULL without a count in Trino, the undivided sum
/// in koku's PostgreSQL port (`coalesce(max(node_count), 1)`, spec §9.3).
fn per_node(sum: Option<f64>, node_count: Option<usize>, compat: Compatibility) -> Option<f64> {
    let divisor = match (node_count, compat) {
        (Some(count), _) => count,
        (None, Compatibility::Postgres) => 1,
        (None, Compatibility::Trino) => return None,
    };
    sum.map(|s| s / divisor as f64)
}

/// The outer Storage select: GiB and GiB-months with the days of `usage_start`'s month.
fn storage_row(
    inputs: &Inputs,
    labels: &LabelFilter,
    key: GroupKey,
    group: StorageGroup,
    compat: Compatibility,
) -> SummaryRow {
    let (day, namespace, node, resource_id, claim, volume, storageclass, _csi, labels_id) = key;
    let name = |id: Option<NameId>| id.map(|id| inputs.names.text(id).to_string());
    let date = date_of_day(day);
    let days = days_in_month(date);
    let mut row = SummaryRow::new(DataSource::Storage, date);
    row.namespace = name(namespace);
    row.node = name(node);
    row.resource_id = name(resource_id);
    row.persistentvolumeclaim = name(claim);
    row.persistentvolume = name(volume);
    row.storageclass = name(storageclass);
    row.volume_labels = labels_id.map(|id| labels.sets.get(id).clone());
    row.cost_category_id = group.cost_category_id;
    row.has_infrastructure_usage_cost = true;
    row.set(
        Metric::PersistentvolumeclaimCapacityGigabyte,
        gib(group.capacity_bytes),
    );
    row.set(
        Metric::PersistentvolumeclaimCapacityGigabyteMonths,
        gib_months(group.capacity_byte_seconds, days),
    );
    row.set(
        Metric::VolumeRequestStorageGigabyteMonths,
        gib_months(
            per_node(group.request_byte_seconds, group.node_count, compat),
            days,
        ),
    );
    row.set(
        Metric::PersistentvolumeclaimUsageGigabyteMonths,
        gib_months(
            per_node(group.usage_byte_seconds, group.node_count, compat),
            days,
        ),
    );
    row
}
