//! The rows koku writes to Parquet for a [`ClusterModel`], computed the way koku's Python does.
//!
//! The path modelled (spec §1.1, §2.2, §2.3, §10.2, §10.3): the operator (or nise) writes one CSV
//! row per (pod, hour), one storage row per (claim, mounting pod, hour) and per claimless volume
//! hour, and one label row per (node or namespace, hour); koku splits the CSVs by
//! day, sanitizes names (NUL removed, `html.escape`), turns label strings into JSON text, drops
//! anomalous rows, adds the effective-usage columns, writes the hourly frame, and writes a daily
//! frame made by pandas' `groupby(...).agg(...)` (sums with pandas' Kahan summation, in row order).
//!
//! Row structs are plain data with public fields, so tests can build or edit rows by hand and
//! write them with [`super::parquet_writer::write_table`].

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, NaiveDateTime};

use super::model::{
    labels_at, usage_factor, ClaimModel, ClusterModel, NodeModel, PodModel, VolumeModel,
};

/// One row of `openshift_pod_usage_line_items` (hourly), columns in file order (spec §10.2, plus
/// the two effective-usage columns koku appends).
#[derive(Clone, Debug, PartialEq)]
pub struct PodUsageHourlyRow {
    pub report_period_start: NaiveDateTime,
    pub report_period_end: NaiveDateTime,
    pub interval_start: NaiveDateTime,
    pub interval_end: NaiveDateTime,
    pub pod: String,
    pub namespace: String,
    pub node: String,
    pub resource_id: String,
    pub pod_usage_cpu_core_seconds: f64,
    pub pod_request_cpu_core_seconds: f64,
    pub pod_limit_cpu_core_seconds: f64,
    pub pod_usage_memory_byte_seconds: f64,
    pub pod_request_memory_byte_seconds: f64,
    pub pod_limit_memory_byte_seconds: f64,
    pub node_capacity_cpu_cores: f64,
    pub node_capacity_cpu_core_seconds: f64,
    pub node_capacity_memory_bytes: f64,
    pub node_capacity_memory_byte_seconds: f64,
    pub pod_labels: String,
    /// The operator's `node_role` (see [`ClusterModel::operator_node_roles`]); `None` is NULL.
    /// The column is written only in files where some row has a value.
    pub node_role: Option<String>,
    pub pod_effective_usage_cpu_core_seconds: f64,
    pub pod_effective_usage_memory_byte_seconds: f64,
}

/// One row of `openshift_pod_usage_line_items_daily`: group keys, day, then aggregates
/// (spec §2.2). `node_role` is NULL (`None`) in koku's files when the operator did not send it.
#[derive(Clone, Debug, PartialEq)]
pub struct PodUsageDailyRow {
    pub namespace: String,
    pub node: String,
    pub pod: String,
    pub pod_labels: String,
    /// Midnight of the day.
    pub interval_start: NaiveDateTime,
    pub report_period_start: NaiveDateTime,
    pub report_period_end: NaiveDateTime,
    pub resource_id: String,
    pub pod_usage_cpu_core_seconds: f64,
    pub pod_request_cpu_core_seconds: f64,
    pub pod_effective_usage_cpu_core_seconds: f64,
    pub pod_limit_cpu_core_seconds: f64,
    pub pod_usage_memory_byte_seconds: f64,
    pub pod_request_memory_byte_seconds: f64,
    pub pod_effective_usage_memory_byte_seconds: f64,
    pub pod_limit_memory_byte_seconds: f64,
    pub node_capacity_cpu_cores: f64,
    pub node_capacity_cpu_core_seconds: f64,
    pub node_capacity_memory_bytes: f64,
    pub node_capacity_memory_byte_seconds: f64,
    pub node_role: Option<String>,
}

/// One row of `openshift_storage_usage_line_items` (hourly), columns in file order (spec §10.2).
#[derive(Clone, Debug, PartialEq)]
pub struct StorageUsageHourlyRow {
    pub report_period_start: NaiveDateTime,
    pub report_period_end: NaiveDateTime,
    pub interval_start: NaiveDateTime,
    pub interval_end: NaiveDateTime,
    pub namespace: String,
    pub pod: String,
    pub node: String,
    pub persistentvolumeclaim: String,
    pub persistentvolume: String,
    pub storageclass: String,
    pub csi_driver: String,
    pub csi_volume_handle: String,
    pub persistentvolumeclaim_capacity_bytes: f64,
    pub persistentvolumeclaim_capacity_byte_seconds: f64,
    pub volume_request_storage_byte_seconds: f64,
    pub persistentvolumeclaim_usage_byte_seconds: f64,
    pub persistentvolume_labels: String,
    pub persistentvolumeclaim_labels: String,
}

/// One row of `openshift_storage_usage_line_items_daily`: group keys, day, then aggregates
/// (spec §2.2).
#[derive(Clone, Debug, PartialEq)]
pub struct StorageUsageDailyRow {
    pub namespace: String,
    pub node: String,
    pub pod: String,
    pub persistentvolumeclaim: String,
    pub persistentvolume: String,
    pub storageclass: String,
    pub csi_driver: String,
    pub csi_volume_handle: String,
    pub persistentvolume_labels: String,
    pub persistentvolumeclaim_labels: String,
    /// Midnight of the day.
    pub interval_start: NaiveDateTime,
    pub report_period_start: NaiveDateTime,
    pub report_period_end: NaiveDateTime,
    pub persistentvolumeclaim_capacity_bytes: f64,
    pub persistentvolumeclaim_capacity_byte_seconds: f64,
    pub volume_request_storage_byte_seconds: f64,
    pub persistentvolumeclaim_usage_byte_seconds: f64,
}

/// One row of `openshift_node_labels_line_items` (hourly).
#[derive(Clone, Debug, PartialEq)]
pub struct NodeLabelsHourlyRow {
    pub report_period_start: NaiveDateTime,
    pub report_period_end: NaiveDateTime,
    pub interval_start: NaiveDateTime,
    pub interval_end: NaiveDateTime,
    pub node: String,
    pub node_labels: String,
}

/// One row of `openshift_node_labels_line_items_daily`.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeLabelsDailyRow {
    pub node: String,
    pub node_labels: String,
    /// Midnight of the day.
    pub interval_start: NaiveDateTime,
    pub report_period_start: NaiveDateTime,
    pub report_period_end: NaiveDateTime,
}

/// One row of `openshift_namespace_labels_line_items` (hourly).
#[derive(Clone, Debug, PartialEq)]
pub struct NamespaceLabelsHourlyRow {
    pub report_period_start: NaiveDateTime,
    pub report_period_end: NaiveDateTime,
    pub interval_start: NaiveDateTime,
    pub interval_end: NaiveDateTime,
    pub namespace: String,
    pub namespace_labels: String,
}

/// One row of `openshift_namespace_labels_line_items_daily`.
#[derive(Clone, Debug, PartialEq)]
pub struct NamespaceLabelsDailyRow {
    pub namespace: String,
    pub namespace_labels: String,
    /// Midnight of the day.
    pub interval_start: NaiveDateTime,
    pub report_period_start: NaiveDateTime,
    pub report_period_end: NaiveDateTime,
}

/// All eight tables koku writes for the pod report, the storage report and the two label
/// reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KokuTables {
    pub pod_usage: Vec<PodUsageHourlyRow>,
    pub pod_usage_daily: Vec<PodUsageDailyRow>,
    pub storage_usage: Vec<StorageUsageHourlyRow>,
    pub storage_usage_daily: Vec<StorageUsageDailyRow>,
    pub node_labels: Vec<NodeLabelsHourlyRow>,
    pub node_labels_daily: Vec<NodeLabelsDailyRow>,
    pub namespace_labels: Vec<NamespaceLabelsHourlyRow>,
    pub namespace_labels_daily: Vec<NamespaceLabelsDailyRow>,
}

impl KokuTables {
    /// Appends `other`'s rows to `self`'s, table by table.
    pub fn extend(&mut self, other: KokuTables) {
        self.pod_usage.extend(other.pod_usage);
        self.pod_usage_daily.extend(other.pod_usage_daily);
        self.storage_usage.extend(other.storage_usage);
        self.storage_usage_daily.extend(other.storage_usage_daily);
        self.node_labels.extend(other.node_labels);
        self.node_labels_daily.extend(other.node_labels_daily);
        self.namespace_labels.extend(other.namespace_labels);
        self.namespace_labels_daily
            .extend(other.namespace_labels_daily);
    }
}

/// Every row koku writes for the whole model (all days). The label tables are empty when
/// `write_node_labels` / `write_namespace_labels` is false. Holds everything in memory: for the
/// `Large` scale prefer [`koku_tables_for_day`]. The model must pass [`ClusterModel::validate`].
pub fn koku_tables(model: &ClusterModel) -> KokuTables {
    let mut all = KokuTables::default();
    for day in 0..model.num_days() {
        all.extend(koku_tables_for_day(model, day));
    }
    all
}

/// The rows of day index `day` (0 = `first_day`): what koku writes from that day's archives.
///
/// - pod usage: one hourly row per (pod, present hour), ordered by hour then pod, minus rows
///   koku's anomaly filter drops (any metric > 1e18, spec §2.3); daily rows from
///   [`pod_usage_daily`]; `node_role` as [`ClusterModel::operator_node_roles`] says;
/// - storage usage: the rows of [`storage_usage_hourly`]; daily rows from
///   [`storage_usage_daily`];
/// - node labels: one hourly row per (node, hour) in which at least one pod on that node reports
///   (before the anomaly filter), with the labels in force; daily rows from [`node_labels_daily`];
/// - namespace labels: the same per listed namespace, counting pods with or without a node.
pub fn koku_tables_for_day(model: &ClusterModel, day: u32) -> KokuTables {
    let rps = model.report_period_start();
    let rpe = model.report_period_end();
    let (lo, hi) = (24 * day, 24 * day + 24);

    // (hour, pod index) for every present hour of the day, in hour order.
    let mut present: Vec<(u32, usize)> = Vec::new();
    for (i, pod) in model.pods.iter().enumerate() {
        let from = pod.hours.partition_point(|&h| h < lo);
        let to = pod.hours.partition_point(|&h| h < hi);
        present.extend(pod.hours[from..to].iter().map(|&h| (h, i)));
    }
    present.sort_unstable();

    let pod_labels: Vec<String> = model
        .pods
        .iter()
        .map(|p| koku_labels_json(&operator_label_string(&p.labels)))
        .collect();

    let nodes: HashMap<&str, &NodeModel> =
        model.nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut tables = KokuTables::default();
    for &(hour, i) in &present {
        let pod = &model.pods[i];
        let start = model.hour_start(hour);
        let node = nodes.get(pod.node.as_str());
        let (resource_id, cores, memory) = match node {
            Some(n) => (n.resource_id.as_str(), n.cpu_cores, n.memory_bytes),
            None => ("", 0.0, 0.0),
        };
        let f = usage_factor(i, hour, pod.usage_variation);
        let secs = pod.pod_seconds;
        let mut row = PodUsageHourlyRow {
            report_period_start: rps,
            report_period_end: rpe,
            interval_start: start,
            interval_end: start + Duration::seconds(59 * 60 + 59),
            pod: sanitize_name(&pod.name),
            namespace: sanitize_name(&pod.namespace),
            node: sanitize_name(&pod.node),
            resource_id: sanitize_name(resource_id),
            pod_usage_cpu_core_seconds: secs * (pod.cpu_usage_cores * f),
            pod_request_cpu_core_seconds: secs * pod.cpu_request_cores,
            pod_limit_cpu_core_seconds: secs * pod.cpu_limit_cores,
            pod_usage_memory_byte_seconds: secs * (pod.memory_usage_bytes * f),
            pod_request_memory_byte_seconds: secs * pod.memory_request_bytes,
            pod_limit_memory_byte_seconds: secs * pod.memory_limit_bytes,
            node_capacity_cpu_cores: cores,
            node_capacity_cpu_core_seconds: cores * 3600.0,
            node_capacity_memory_bytes: memory,
            node_capacity_memory_byte_seconds: memory * 3600.0,
            pod_labels: pod_labels[i].clone(),
            node_role: operator_node_role(model, &pod.node),
            pod_effective_usage_cpu_core_seconds: 0.0,
            pod_effective_usage_memory_byte_seconds: 0.0,
        };
        if is_anomalous(&row) {
            continue;
        }
        // pandas max(axis=1) skips NaN, as f64::max does.
        row.pod_effective_usage_cpu_core_seconds = row
            .pod_usage_cpu_core_seconds
            .max(row.pod_request_cpu_core_seconds);
        row.pod_effective_usage_memory_byte_seconds = row
            .pod_usage_memory_byte_seconds
            .max(row.pod_request_memory_byte_seconds);
        tables.pod_usage.push(row);
    }
    tables.pod_usage_daily = pod_usage_daily(&tables.pod_usage);
    tables.storage_usage = storage_usage_hourly(model, day);
    tables.storage_usage_daily = storage_usage_daily(&tables.storage_usage);

    for by_hour in present.chunk_by(|a, b| a.0 == b.0) {
        let hour = by_hour[0].0;
        let start = model.hour_start(hour);
        let end = start + Duration::seconds(59 * 60 + 59);
        let pods_now = by_hour.iter().map(|&(_, i)| &model.pods[i]);
        if model.write_node_labels {
            let busy: HashSet<&str> = pods_now.clone().map(|p| p.node.as_str()).collect();
            for node in model
                .nodes
                .iter()
                .filter(|n| busy.contains(n.name.as_str()))
            {
                tables.node_labels.push(NodeLabelsHourlyRow {
                    report_period_start: rps,
                    report_period_end: rpe,
                    interval_start: start,
                    interval_end: end,
                    node: sanitize_name(&node.name),
                    node_labels: koku_labels_json(&operator_label_string(labels_at(
                        &node.labels,
                        hour,
                    ))),
                });
            }
        }
        if model.write_namespace_labels {
            let busy: HashSet<&str> = pods_now.map(|p| p.namespace.as_str()).collect();
            for ns in model
                .namespaces
                .iter()
                .filter(|n| busy.contains(n.name.as_str()))
            {
                tables.namespace_labels.push(NamespaceLabelsHourlyRow {
                    report_period_start: rps,
                    report_period_end: rpe,
                    interval_start: start,
                    interval_end: end,
                    namespace: sanitize_name(&ns.name),
                    namespace_labels: koku_labels_json(&operator_label_string(labels_at(
                        &ns.labels, hour,
                    ))),
                });
            }
        }
    }
    tables.node_labels_daily = node_labels_daily(&tables.node_labels);
    tables.namespace_labels_daily = namespace_labels_daily(&tables.namespace_labels);
    tables
}

/// The `node_role` a pod-usage row on `node` carries: the node's sanitized operator value, or
/// none for a pod without a node or a node without a value (see
/// [`ClusterModel::operator_node_roles`]).
fn operator_node_role(model: &ClusterModel, node: &str) -> Option<String> {
    if node.is_empty() {
        return None;
    }
    model
        .operator_node_roles
        .get(node)
        .map(|role| sanitize_name(role))
}

/// The storage rows of day index `day`, ordered by hour, then volume (its claimless row), then
/// claim and mounting pod, minus rows koku's anomaly filter drops (spec §2.3):
///
/// - per claim, hour in the claim's hours and mounting pod: capacity `capacity_bytes`, byte-
///   seconds `capacity_bytes · 3600`, `request_bytes · 3600` of the bound volume and
///   `usage_bytes · 3600`; `node` is the node of the model pod of that name and namespace that
///   reports in that hour, else `""` (the summary never reads it, §2.2);
/// - per volume and claimless hour: empty namespace, pod, claim and node, capacity the volume's
///   `capacity_bytes`, request and usage 0.0, claim labels `{}` (§10.3).
///
/// Labels are those in force in the hour, through koku's conversion ([`koku_labels_json`]).
pub fn storage_usage_hourly(model: &ClusterModel, day: u32) -> Vec<StorageUsageHourlyRow> {
    let mut pods_by_name: HashMap<(&str, &str), Vec<&PodModel>> = HashMap::new();
    for pod in &model.pods {
        pods_by_name
            .entry((pod.namespace.as_str(), pod.name.as_str()))
            .or_default()
            .push(pod);
    }
    let node_at = |namespace: &str, pod: &str, hour: u32| -> &str {
        pods_by_name
            .get(&(namespace, pod))
            .and_then(|pods| pods.iter().find(|p| p.hours.binary_search(&hour).is_ok()))
            .map_or("", |p| p.node.as_str())
    };
    let volumes: HashMap<&str, &VolumeModel> =
        model.volumes.iter().map(|v| (v.name.as_str(), v)).collect();
    let mut rows = Vec::new();
    for hour in 24 * day..24 * day + 24 {
        for volume in &model.volumes {
            if volume.claimless_hours.binary_search(&hour).is_ok() {
                rows.push(claimless_row(model, volume, hour));
            }
        }
        for claim in &model.claims {
            if claim.hours.binary_search(&hour).is_err() {
                continue;
            }
            let volume = volumes[claim.volume.as_str()]; // listed (ClusterModel::validate)
            for pod in &claim.pods {
                let node = node_at(&claim.namespace, pod, hour);
                rows.push(claim_row(model, volume, claim, pod, node, hour));
            }
        }
    }
    rows.retain(|r| !is_storage_anomalous(r));
    rows
}

/// The row of one claim mounted by `pod` (on `node`) in `hour`.
fn claim_row(
    model: &ClusterModel,
    volume: &VolumeModel,
    claim: &ClaimModel,
    pod: &str,
    node: &str,
    hour: u32,
) -> StorageUsageHourlyRow {
    let mut row = storage_row(model, volume, hour);
    row.namespace = sanitize_name(&claim.namespace);
    row.pod = sanitize_name(pod);
    row.node = sanitize_name(node);
    row.persistentvolumeclaim = sanitize_name(&claim.name);
    row.persistentvolumeclaim_capacity_bytes = claim.capacity_bytes;
    row.persistentvolumeclaim_capacity_byte_seconds = claim.capacity_bytes * 3600.0;
    row.volume_request_storage_byte_seconds = volume.request_bytes * 3600.0;
    row.persistentvolumeclaim_usage_byte_seconds = claim.usage_bytes * 3600.0;
    row.persistentvolumeclaim_labels =
        koku_labels_json(&operator_label_string(labels_at(&claim.labels, hour)));
    row
}

/// The claimless row of `volume` in `hour` (§10.3 "A claimless volume ...").
fn claimless_row(model: &ClusterModel, volume: &VolumeModel, hour: u32) -> StorageUsageHourlyRow {
    let mut row = storage_row(model, volume, hour);
    row.persistentvolumeclaim_capacity_bytes = volume.capacity_bytes;
    row.persistentvolumeclaim_capacity_byte_seconds = volume.capacity_bytes * 3600.0;
    row
}

/// The volume's part of a storage row in `hour`: timestamps, volume columns and PV labels;
/// empty namespace, pod, node and claim, `{}` claim labels and zero metrics.
fn storage_row(model: &ClusterModel, volume: &VolumeModel, hour: u32) -> StorageUsageHourlyRow {
    let start = model.hour_start(hour);
    StorageUsageHourlyRow {
        report_period_start: model.report_period_start(),
        report_period_end: model.report_period_end(),
        interval_start: start,
        interval_end: start + Duration::seconds(59 * 60 + 59),
        namespace: String::new(),
        pod: String::new(),
        node: String::new(),
        persistentvolumeclaim: String::new(),
        persistentvolume: sanitize_name(&volume.name),
        storageclass: sanitize_name(&volume.storage_class),
        csi_driver: sanitize_name(&volume.csi_driver),
        csi_volume_handle: sanitize_name(&volume.csi_volume_handle),
        persistentvolumeclaim_capacity_bytes: 0.0,
        persistentvolumeclaim_capacity_byte_seconds: 0.0,
        volume_request_storage_byte_seconds: 0.0,
        persistentvolumeclaim_usage_byte_seconds: 0.0,
        persistentvolume_labels: koku_labels_json(&operator_label_string(labels_at(
            &volume.labels,
            hour,
        ))),
        persistentvolumeclaim_labels: koku_labels_json(""),
    }
}

/// koku's anomaly filter on storage rows (spec §2.3): dropped if any metric is > 1e18.
pub(crate) fn is_storage_anomalous(r: &StorageUsageHourlyRow) -> bool {
    [
        r.persistentvolumeclaim_capacity_bytes,
        r.persistentvolumeclaim_capacity_byte_seconds,
        r.volume_request_storage_byte_seconds,
        r.persistentvolumeclaim_usage_byte_seconds,
    ]
    .iter()
    .any(|&v| v > 1e18)
}

/// koku's anomaly filter (spec §2.3): a row is dropped if any listed metric is > 1e18.
pub(crate) fn is_anomalous(r: &PodUsageHourlyRow) -> bool {
    [
        r.pod_usage_cpu_core_seconds,
        r.pod_request_cpu_core_seconds,
        r.pod_limit_cpu_core_seconds,
        r.node_capacity_cpu_core_seconds,
        r.pod_usage_memory_byte_seconds,
        r.pod_request_memory_byte_seconds,
        r.pod_limit_memory_byte_seconds,
        r.node_capacity_memory_byte_seconds,
        r.node_capacity_memory_bytes,
    ]
    .iter()
    .any(|&v| v > 1e18)
}

/// Midnight of a timestamp's day (pandas `Grouper(freq='D')`).
fn midnight(t: NaiveDateTime) -> NaiveDateTime {
    t.date().and_hms_opt(0, 0, 0).expect("midnight exists")
}

/// pandas' groupby `sum`: Kahan-compensated, in row order (pandas `group_sum`, with the
/// compensation reset when it becomes NaN so infinities survive).
#[derive(Clone, Copy, Default)]
struct KahanSum {
    sum: f64,
    compensation: f64,
}

impl KahanSum {
    fn add(&mut self, value: f64) {
        if value.is_nan() {
            return;
        }
        let y = value - self.compensation;
        let t = self.sum + y;
        self.compensation = t - self.sum - y;
        if self.compensation.is_nan() {
            self.compensation = 0.0;
        }
        self.sum = t;
    }
}

/// pandas' `max` skipping NaN.
fn nan_max(a: f64, b: f64) -> f64 {
    a.max(b)
}

struct PodDailyAcc {
    report_period_start: NaiveDateTime,
    report_period_end: NaiveDateTime,
    resource_id: String,
    sums: [KahanSum; 10],
    cpu_cores: f64,
    memory_bytes: f64,
    node_role: Option<String>,
}

/// pandas' `max` of a text column, skipping missing values.
fn max_text(acc: &mut Option<String>, value: Option<&str>) {
    if let Some(v) = value {
        if acc.as_deref().is_none_or(|a| v > a) {
            *acc = Some(v.to_string());
        }
    }
}

/// koku's daily pod frame from hourly rows: `groupby([namespace, node, pod, pod_labels,
/// day(interval_start)])` with max of report_period_start/end and resource_id, sum of the eight
/// pod_* second columns and of the two node capacity second columns, max of the two capacity
/// columns, and max of `node_role` (NULL when no hourly row has one: koku adds the column
/// all-NULL when the CSV lacked it, §2.2). Rows come out sorted by the group key (pandas sorts
/// groups).
pub fn pod_usage_daily(hourly: &[PodUsageHourlyRow]) -> Vec<PodUsageDailyRow> {
    type Key = (String, String, String, String, NaiveDateTime);
    let mut groups: BTreeMap<Key, PodDailyAcc> = BTreeMap::new();
    for r in hourly {
        let key = (
            r.namespace.clone(),
            r.node.clone(),
            r.pod.clone(),
            r.pod_labels.clone(),
            midnight(r.interval_start),
        );
        let acc = groups.entry(key).or_insert_with(|| PodDailyAcc {
            report_period_start: r.report_period_start,
            report_period_end: r.report_period_end,
            resource_id: r.resource_id.clone(),
            sums: [KahanSum::default(); 10],
            cpu_cores: f64::NAN,
            memory_bytes: f64::NAN,
            node_role: None,
        });
        acc.report_period_start = acc.report_period_start.max(r.report_period_start);
        acc.report_period_end = acc.report_period_end.max(r.report_period_end);
        if r.resource_id > acc.resource_id {
            acc.resource_id = r.resource_id.clone();
        }
        let values = [
            r.pod_usage_cpu_core_seconds,
            r.pod_request_cpu_core_seconds,
            r.pod_effective_usage_cpu_core_seconds,
            r.pod_limit_cpu_core_seconds,
            r.pod_usage_memory_byte_seconds,
            r.pod_request_memory_byte_seconds,
            r.pod_effective_usage_memory_byte_seconds,
            r.pod_limit_memory_byte_seconds,
            r.node_capacity_cpu_core_seconds,
            r.node_capacity_memory_byte_seconds,
        ];
        for (sum, v) in acc.sums.iter_mut().zip(values) {
            sum.add(v);
        }
        acc.cpu_cores = nan_max(acc.cpu_cores, r.node_capacity_cpu_cores);
        acc.memory_bytes = nan_max(acc.memory_bytes, r.node_capacity_memory_bytes);
        max_text(&mut acc.node_role, r.node_role.as_deref());
    }
    groups
        .into_iter()
        .map(|((namespace, node, pod, pod_labels, day), a)| {
            let s = a.sums.map(|k| k.sum);
            PodUsageDailyRow {
                namespace,
                node,
                pod,
                pod_labels,
                interval_start: day,
                report_period_start: a.report_period_start,
                report_period_end: a.report_period_end,
                resource_id: a.resource_id,
                pod_usage_cpu_core_seconds: s[0],
                pod_request_cpu_core_seconds: s[1],
                pod_effective_usage_cpu_core_seconds: s[2],
                pod_limit_cpu_core_seconds: s[3],
                pod_usage_memory_byte_seconds: s[4],
                pod_request_memory_byte_seconds: s[5],
                pod_effective_usage_memory_byte_seconds: s[6],
                pod_limit_memory_byte_seconds: s[7],
                node_capacity_cpu_cores: a.cpu_cores,
                node_capacity_cpu_core_seconds: s[8],
                node_capacity_memory_bytes: a.memory_bytes,
                node_capacity_memory_byte_seconds: s[9],
                node_role: a.node_role,
            }
        })
        .collect()
}

/// The ten text group keys of koku's daily storage frame, in the spec's order (§2.2).
type StorageKey = [String; 10];

struct StorageDailyAcc {
    report_period_start: NaiveDateTime,
    report_period_end: NaiveDateTime,
    capacity_bytes: f64,
    sums: [KahanSum; 3],
}

/// koku's daily storage frame from hourly rows (spec §2.2): `groupby([namespace, node, pod,
/// persistentvolumeclaim, persistentvolume, storageclass, csi_driver, csi_volume_handle,
/// persistentvolume_labels, persistentvolumeclaim_labels, day(interval_start)])` with max of
/// report_period_start/end and of `persistentvolumeclaim_capacity_bytes`, and sums (pandas'
/// Kahan sums, in row order) of the capacity, request and usage byte-seconds. Rows come out
/// sorted by the group key.
pub fn storage_usage_daily(hourly: &[StorageUsageHourlyRow]) -> Vec<StorageUsageDailyRow> {
    let mut groups: BTreeMap<(StorageKey, NaiveDateTime), StorageDailyAcc> = BTreeMap::new();
    for r in hourly {
        let key = [
            &r.namespace,
            &r.node,
            &r.pod,
            &r.persistentvolumeclaim,
            &r.persistentvolume,
            &r.storageclass,
            &r.csi_driver,
            &r.csi_volume_handle,
            &r.persistentvolume_labels,
            &r.persistentvolumeclaim_labels,
        ]
        .map(String::clone);
        let acc = groups
            .entry((key, midnight(r.interval_start)))
            .or_insert_with(|| StorageDailyAcc {
                report_period_start: r.report_period_start,
                report_period_end: r.report_period_end,
                capacity_bytes: f64::NAN,
                sums: [KahanSum::default(); 3],
            });
        acc.report_period_start = acc.report_period_start.max(r.report_period_start);
        acc.report_period_end = acc.report_period_end.max(r.report_period_end);
        acc.capacity_bytes = nan_max(acc.capacity_bytes, r.persistentvolumeclaim_capacity_bytes);
        let values = [
            r.persistentvolumeclaim_capacity_byte_seconds,
            r.volume_request_storage_byte_seconds,
            r.persistentvolumeclaim_usage_byte_seconds,
        ];
        for (sum, v) in acc.sums.iter_mut().zip(values) {
            sum.add(v);
        }
    }
    groups
        .into_iter()
        .map(|((key, day), a)| {
            let [namespace, node, pod, pvc, pv, storageclass, csi_driver, csi_volume_handle, pv_labels, pvc_labels] =
                key;
            StorageUsageDailyRow {
                namespace,
                node,
                pod,
                persistentvolumeclaim: pvc,
                persistentvolume: pv,
                storageclass,
                csi_driver,
                csi_volume_handle,
                persistentvolume_labels: pv_labels,
                persistentvolumeclaim_labels: pvc_labels,
                interval_start: day,
                report_period_start: a.report_period_start,
                report_period_end: a.report_period_end,
                persistentvolumeclaim_capacity_bytes: a.capacity_bytes,
                persistentvolumeclaim_capacity_byte_seconds: a.sums[0].sum,
                volume_request_storage_byte_seconds: a.sums[1].sum,
                persistentvolumeclaim_usage_byte_seconds: a.sums[2].sum,
            }
        })
        .collect()
}

type LabelDayKey = (String, String, NaiveDateTime);

fn label_daily(
    rows: impl Iterator<Item = (LabelDayKey, NaiveDateTime, NaiveDateTime)>,
) -> BTreeMap<LabelDayKey, (NaiveDateTime, NaiveDateTime)> {
    let mut groups: BTreeMap<LabelDayKey, (NaiveDateTime, NaiveDateTime)> = BTreeMap::new();
    for (key, rps, rpe) in rows {
        let e = groups.entry(key).or_insert((rps, rpe));
        e.0 = e.0.max(rps);
        e.1 = e.1.max(rpe);
    }
    groups
}

/// koku's daily node-label frame: `groupby([node, node_labels, day])` with max of
/// report_period_start/end; one row per distinct (node, labels, day), sorted.
pub fn node_labels_daily(hourly: &[NodeLabelsHourlyRow]) -> Vec<NodeLabelsDailyRow> {
    label_daily(hourly.iter().map(|r| {
        (
            (
                r.node.clone(),
                r.node_labels.clone(),
                midnight(r.interval_start),
            ),
            r.report_period_start,
            r.report_period_end,
        )
    }))
    .into_iter()
    .map(
        |((node, node_labels, day), (rps, rpe))| NodeLabelsDailyRow {
            node,
            node_labels,
            interval_start: day,
            report_period_start: rps,
            report_period_end: rpe,
        },
    )
    .collect()
}

/// koku's daily namespace-label frame: as [`node_labels_daily`] with (namespace,
/// namespace_labels).
pub fn namespace_labels_daily(hourly: &[NamespaceLabelsHourlyRow]) -> Vec<NamespaceLabelsDailyRow> {
    label_daily(hourly.iter().map(|r| {
        (
            (
                r.namespace.clone(),
                r.namespace_labels.clone(),
                midnight(r.interval_start),
            ),
            r.report_period_start,
            r.report_period_end,
        )
    }))
    .into_iter()
    .map(
        |((namespace, namespace_labels, day), (rps, rpe))| NamespaceLabelsDailyRow {
            namespace,
            namespace_labels,
            interval_start: day,
            report_period_start: rps,
            report_period_end: rpe,
        },
    )
    .collect()
}

/// The label field as the operator writes it in the CSV: `label_k1:v1|label_k2:v2`, in order
/// (empty string for no labels).
pub fn operator_label_string(labels: &[(String, String)]) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("label_{k}:{v}"))
        .collect::<Vec<_>>()
        .join("|")
}

/// koku's label converter (spec §2.3): NUL bytes removed (archive sanitizing), split on `|`,
/// pieces without exactly one `:` dropped, every `label_` removed from the key, a repeated key
/// takes the last value (keeping its first position, as a Python dict does), then
/// [`python_json_dumps`]. `""` gives `{}`.
pub fn koku_labels_json(raw: &str) -> String {
    let raw = raw.replace('\0', "");
    let mut dict: Vec<(String, String)> = Vec::new();
    if !raw.is_empty() {
        for piece in raw.split('|') {
            let parts: Vec<&str> = piece.split(':').collect();
            if parts.len() != 2 {
                continue;
            }
            let key = parts[0].replace("label_", "");
            let value = parts[1].to_string();
            match dict.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = value,
                None => dict.push((key, value)),
            }
        }
    }
    python_json_dumps(&dict)
}

/// Python's `json.dumps(dict)` for a dict of strings with default options: `{"k": "v", "k2":
/// "v2"}` (separators `, ` and `: `), keys in the given order, `ensure_ascii=True` (every char
/// outside `' '..='~'` other than the short escapes becomes `\uXXXX` in lower-case hex, with
/// surrogate pairs above U+FFFF), `"` and `\` escaped; `{}` when empty. Duplicate keys are
/// written as given (callers pass dicts).
pub fn python_json_dumps(dict: &[(String, String)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in dict.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_json_string(&mut out, k);
        out.push_str(": ");
        push_json_string(&mut out, v);
    }
    out.push('}');
    out
}

fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// koku's archive sanitizing of name columns (namespace, pod, node, resource_id, ...): NUL bytes
/// removed, then Python `html.escape(s, quote=True)` (`&` `<` `>` `"` `'`).
pub fn sanitize_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => {}
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::model::{LabelPeriod, NamespaceModel, GIB};

    /// `one_pod_model(vec![0, 1])` (pod web-1 in shop on node-a, hours 0 and 1) plus:
    /// - pv-1: 20 GiB request, label tier=gold; claim data-1 in shop, 5 GiB capacity, 3 GiB
    ///   used, label app=db, mounted by web-1 and by ghost (no pod-usage rows), hours 0, 1, 2;
    /// - pv-2: 10 GiB, claimless in hours 0 and 1.
    fn storage_model() -> ClusterModel {
        let mut m = one_pod_model(vec![0, 1]);
        let mut pv1 = VolumeModel::new("pv-1", 20.0 * GIB);
        pv1.labels = vec![LabelPeriod::new(0, &[("tier", "gold")])];
        let mut pv2 = VolumeModel::new("pv-2", 10.0 * GIB);
        pv2.claimless_hours = vec![0, 1];
        let mut claim =
            ClaimModel::new("data-1", "shop", "pv-1", &["web-1", "ghost"], vec![0, 1, 2]);
        claim.capacity_bytes = 5.0 * GIB;
        claim.usage_bytes = 3.0 * GIB;
        claim.labels = vec![LabelPeriod::new(0, &[("app", "db")])];
        m.volumes = vec![pv1, pv2];
        m.claims = vec![claim];
        m
    }

    /// (namespace, node, pod, pvc, pv) of a storage row.
    fn storage_key(r: &StorageUsageDailyRow) -> [&str; 5] {
        [
            &r.namespace,
            &r.node,
            &r.pod,
            &r.persistentvolumeclaim,
            &r.persistentvolume,
        ]
        .map(String::as_str)
    }

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ts(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    /// One 4-core, 16 GiB node and one pod on it; the pod reports in `hours`.
    fn one_pod_model(hours: Vec<u32>) -> ClusterModel {
        let mut m = ClusterModel::empty(2026, 9, 1, 2);
        m.nodes.push(NodeModel {
            name: "node-a".into(),
            resource_id: "i-0abc".into(),
            cpu_cores: 4.0,
            memory_bytes: 16.0 * GIB,
            labels: vec![LabelPeriod::new(0, &[("app", "web")])],
        });
        m.namespaces.push(NamespaceModel {
            name: "shop".into(),
            labels: vec![LabelPeriod::new(0, &[("team", "pay")])],
        });
        let mut pod = PodModel::new("web-1", "shop", "node-a", hours);
        pod.labels = kv(&[("app", "web"), ("tier", "db")]);
        pod.pod_seconds = 1800.0;
        pod.cpu_usage_cores = 0.5;
        pod.cpu_request_cores = 1.0;
        pod.cpu_limit_cores = 2.0;
        pod.memory_usage_bytes = 2.0 * GIB;
        pod.memory_request_bytes = 1.0 * GIB;
        pod.memory_limit_bytes = 4.0 * GIB;
        m.pods.push(pod);
        m
    }

    #[test]
    fn json_dumps_matches_python() {
        assert_eq!(python_json_dumps(&[]), "{}");
        assert_eq!(
            python_json_dumps(&kv(&[("app", "web"), ("tier", "db")])),
            r#"{"app": "web", "tier": "db"}"#
        );
        // Insertion order, not sorted.
        assert_eq!(
            python_json_dumps(&kv(&[("z", "1"), ("a", "2")])),
            r#"{"z": "1", "a": "2"}"#
        );
        // json.dumps({'q': 'say "hi"', 'b': 'a\\b'}) == '{"q": "say \\"hi\\"", "b": "a\\\\b"}'
        assert_eq!(
            python_json_dumps(&kv(&[("q", "say \"hi\""), ("b", "a\\b")])),
            r#"{"q": "say \"hi\"", "b": "a\\b"}"#
        );
        // json.dumps({'café': 'ü'}) == '{"caf\\u00e9": "\\u00fc"}'
        assert_eq!(
            python_json_dumps(&kv(&[("café", "ü")])),
            r#"{"caf\u00e9": "\u00fc"}"#
        );
        // json.dumps({'e': '😀\n\x7f\x01'}) == '{"e": "\\ud83d\\ude00\\n\\u007f\\u0001"}'
        assert_eq!(
            python_json_dumps(&kv(&[("e", "😀\n\u{7f}\u{1}")])),
            r#"{"e": "\ud83d\ude00\n\u007f\u0001"}"#
        );
    }

    #[test]
    fn label_conversion_follows_koku() {
        assert_eq!(koku_labels_json(""), "{}");
        // bad: no ':' (skipped); x: two ':' (ValueError, dropped); every "label_" removed;
        // repeated key: last value, first position.
        assert_eq!(
            koku_labels_json(
                "label_app:web|label_bad|label_x:a:b|label_my_label_k:v|label_app:api"
            ),
            r#"{"app": "api", "my_k": "v"}"#
        );
        assert_eq!(koku_labels_json("label_role:"), r#"{"role": ""}"#);
        assert_eq!(
            operator_label_string(&kv(&[("app", "web"), ("tier", "db")])),
            "label_app:web|label_tier:db"
        );
    }

    #[test]
    fn names_are_sanitized_like_koku() {
        assert_eq!(
            sanitize_name("a&b<c>\"d'e\0"),
            "a&amp;b&lt;c&gt;&quot;d&#x27;e"
        );
    }

    #[test]
    fn hand_computed_pod_rows() {
        // Pod present in hours 0 and 1 of 2026-09-01, 1800 s each, usage 0.5 cores, request 1,
        // limit 2; memory usage 2 GiB, request 1 GiB, limit 4 GiB; node 4 cores, 16 GiB.
        let t = koku_tables(&one_pod_model(vec![0, 1]));
        assert_eq!(t.pod_usage.len(), 2);
        let h = &t.pod_usage[1];
        assert_eq!(h.interval_start, ts("2026-09-01 01:00:00"));
        assert_eq!(h.interval_end, ts("2026-09-01 01:59:59"));
        assert_eq!(h.report_period_start, ts("2026-09-01 00:00:00"));
        assert_eq!(h.report_period_end, ts("2026-10-01 00:00:00"));
        assert_eq!(h.resource_id, "i-0abc");
        assert_eq!(h.pod_usage_cpu_core_seconds, 900.0); // 1800 * 0.5
        assert_eq!(h.pod_request_cpu_core_seconds, 1800.0); // 1800 * 1
        assert_eq!(h.pod_limit_cpu_core_seconds, 3600.0); // 1800 * 2
        assert_eq!(h.pod_effective_usage_cpu_core_seconds, 1800.0); // max(900, 1800)
        assert_eq!(h.pod_usage_memory_byte_seconds, 3600.0 * GIB); // 1800 * 2 GiB
        assert_eq!(h.pod_effective_usage_memory_byte_seconds, 3600.0 * GIB); // max(usage, 1800 GiB)
        assert_eq!(h.node_capacity_cpu_cores, 4.0);
        assert_eq!(h.node_capacity_cpu_core_seconds, 14400.0); // 4 * 3600
        assert_eq!(h.node_capacity_memory_bytes, 17_179_869_184.0); // 16 * 2^30
        assert_eq!(h.node_capacity_memory_byte_seconds, 61_847_529_062_400.0); // * 3600
        assert_eq!(h.pod_labels, r#"{"app": "web", "tier": "db"}"#);

        assert_eq!(t.pod_usage_daily.len(), 1);
        let d = &t.pod_usage_daily[0];
        assert_eq!(d.interval_start, ts("2026-09-01 00:00:00"));
        assert_eq!(d.pod_usage_cpu_core_seconds, 1800.0); // 2 * 900
        assert_eq!(d.pod_request_cpu_core_seconds, 3600.0); // 2 * 1800
        assert_eq!(d.pod_effective_usage_cpu_core_seconds, 3600.0);
        assert_eq!(d.pod_limit_cpu_core_seconds, 7200.0);
        assert_eq!(d.pod_usage_memory_byte_seconds, 7200.0 * GIB);
        assert_eq!(d.pod_request_memory_byte_seconds, 3600.0 * GIB);
        assert_eq!(d.pod_limit_memory_byte_seconds, 14400.0 * GIB);
        assert_eq!(d.node_capacity_cpu_cores, 4.0); // max, not sum
        assert_eq!(d.node_capacity_cpu_core_seconds, 28800.0); // 4 * 3600 * 2 hours
        assert_eq!(d.node_capacity_memory_bytes, 16.0 * GIB);
        assert_eq!(
            d.node_capacity_memory_byte_seconds,
            2.0 * 3600.0 * 16.0 * GIB
        );
        assert_eq!(d.node_role, None);
        assert_eq!((d.namespace.as_str(), d.node.as_str()), ("shop", "node-a"));

        // Label tables: 2 hourly rows each, 1 daily row each.
        assert_eq!(t.node_labels.len(), 2);
        assert_eq!(t.node_labels[0].node_labels, r#"{"app": "web"}"#);
        assert_eq!(t.node_labels_daily.len(), 1);
        assert_eq!(t.namespace_labels.len(), 2);
        assert_eq!(
            t.namespace_labels_daily[0].namespace_labels,
            r#"{"team": "pay"}"#
        );
    }

    #[test]
    fn effective_usage_is_summed_per_hour_max() {
        // Hand-built hourly rows: hour 1 usage 100 request 50, hour 2 usage 10 request 50 →
        // effective 100 + 50 = 150, not max(110, 100) = 110.
        let m = one_pod_model(vec![0]);
        let mut rows = koku_tables(&m).pod_usage;
        let mut second = rows[0].clone();
        second.interval_start = ts("2026-09-01 01:00:00");
        rows.push(second);
        for (r, (u, q)) in rows.iter_mut().zip([(100.0, 50.0), (10.0, 50.0)]) {
            r.pod_usage_cpu_core_seconds = u;
            r.pod_request_cpu_core_seconds = q;
            r.pod_effective_usage_cpu_core_seconds = f64::max(u, q);
        }
        let d = pod_usage_daily(&rows);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].pod_effective_usage_cpu_core_seconds, 150.0);
        assert_eq!(d[0].pod_usage_cpu_core_seconds, 110.0);
    }

    #[test]
    fn varying_usage_keeps_effective_as_hourly_max() {
        let mut m = one_pod_model((0..48).collect());
        m.pods[0].cpu_usage_cores = 1.5; // factor in [0.5, 1] → usage 0.75..1.5, request 1
        m.pods[0].usage_variation = 0.5;
        let t = koku_tables(&m);
        assert_eq!(t.pod_usage.len(), 48);
        for r in &t.pod_usage {
            assert!(r.pod_usage_cpu_core_seconds >= 1800.0 * 0.75);
            assert!(r.pod_usage_cpu_core_seconds <= 1800.0 * 1.5);
            assert_eq!(
                r.pod_effective_usage_cpu_core_seconds,
                r.pod_usage_cpu_core_seconds.max(1800.0)
            );
        }
        assert_eq!(t.pod_usage_daily.len(), 2); // one per day
    }

    #[test]
    fn node_label_change_mid_day_gives_two_daily_rows() {
        let mut m = one_pod_model((0..48).collect());
        m.nodes[0].labels = vec![
            LabelPeriod::new(0, &[("env", "prod")]),
            LabelPeriod::new(12, &[("env", "stage")]),
        ];
        let t = koku_tables(&m);
        assert_eq!(t.node_labels.len(), 48);
        let daily: Vec<(String, String)> = t
            .node_labels_daily
            .iter()
            .map(|r| (r.interval_start.date().to_string(), r.node_labels.clone()))
            .collect();
        assert_eq!(
            daily,
            vec![
                ("2026-09-01".to_string(), r#"{"env": "prod"}"#.to_string()),
                ("2026-09-01".to_string(), r#"{"env": "stage"}"#.to_string()),
                ("2026-09-02".to_string(), r#"{"env": "stage"}"#.to_string()),
            ]
        );
        assert_eq!(
            t.node_labels_daily[0].report_period_end,
            ts("2026-10-01 00:00:00")
        );
    }

    #[test]
    fn label_rows_only_in_hours_with_pods() {
        // Pod A hours {0,1}, pod B (no node) hours {1,5}: namespace reports hours {0,1,5},
        // the node only {0,1}.
        let mut m = one_pod_model(vec![0, 1]);
        let mut b = PodModel::new("batch-1", "shop", "", vec![1, 5]);
        b.cpu_usage_cores = 1.0;
        m.pods.push(b);
        let t = koku_tables(&m);
        let ns_hours: Vec<u32> = t
            .namespace_labels
            .iter()
            .map(|r| r.interval_start.format("%H").to_string().parse().unwrap())
            .collect();
        assert_eq!(ns_hours, vec![0, 1, 5]);
        assert_eq!(t.node_labels.len(), 2);
        let nodeless: Vec<_> = t.pod_usage.iter().filter(|r| r.pod == "batch-1").collect();
        assert_eq!(nodeless.len(), 2);
        for r in nodeless {
            assert_eq!((r.node.as_str(), r.resource_id.as_str()), ("", ""));
            assert_eq!(r.node_capacity_cpu_cores, 0.0);
            assert_eq!(r.node_capacity_cpu_core_seconds, 0.0);
            assert_eq!(r.node_capacity_memory_bytes, 0.0);
            assert_eq!(r.node_capacity_memory_byte_seconds, 0.0);
            assert_eq!(r.pod_labels, "{}");
        }
        // Label reports switched off → no label rows.
        m.write_node_labels = false;
        m.write_namespace_labels = false;
        let t = koku_tables(&m);
        assert!(t.node_labels.is_empty() && t.namespace_labels_daily.is_empty());
    }

    #[test]
    fn anomalous_rows_are_dropped() {
        let mut m = one_pod_model(vec![0, 1]);
        m.pods[0].memory_usage_bytes = 1e15; // 1800 * 1e15 = 1.8e18 > 1e18
        let t = koku_tables(&m);
        assert!(t.pod_usage.is_empty() && t.pod_usage_daily.is_empty());
    }

    #[test]
    fn hand_computed_storage_rows() {
        let m = storage_model();
        assert_eq!(m.validate(), Ok(()));
        let t = koku_tables(&m);
        // Hours 0 and 1: pv-2's claimless row, then data-1 for web-1 and ghost; hour 2: data-1
        // for web-1 and ghost → 3 + 3 + 2 rows.
        assert_eq!(t.storage_usage.len(), 8);
        let claimless = &t.storage_usage[0];
        assert_eq!(claimless.persistentvolume, "pv-2");
        for empty in [&claimless.namespace, &claimless.pod, &claimless.node] {
            assert_eq!(empty, "");
        }
        assert_eq!(claimless.persistentvolumeclaim, "");
        assert_eq!(claimless.persistentvolumeclaim_capacity_bytes, 10.0 * GIB);
        // 10 * 2^30 * 3600 = 38_654_705_664_000; request and usage empty → 0.0 (§10.3).
        assert_eq!(
            claimless.persistentvolumeclaim_capacity_byte_seconds,
            38_654_705_664_000.0
        );
        assert_eq!(claimless.volume_request_storage_byte_seconds, 0.0);
        assert_eq!(claimless.persistentvolumeclaim_usage_byte_seconds, 0.0);
        assert_eq!(claimless.persistentvolumeclaim_labels, "{}");
        assert_eq!(claimless.storageclass, "gp3-csi");
        assert_eq!(claimless.csi_volume_handle, "vol-pv-2");

        let web = &t.storage_usage[1];
        assert_eq!(
            (web.namespace.as_str(), web.pod.as_str(), web.node.as_str()),
            ("shop", "web-1", "node-a")
        );
        assert_eq!(web.interval_end, ts("2026-09-01 00:59:59"));
        assert_eq!(web.persistentvolumeclaim_capacity_bytes, 5_368_709_120.0); // 5 * 2^30
                                                                               // 5 * 2^30 * 3600, 20 * 2^30 * 3600 (the PV's request), 3 * 2^30 * 3600.
        assert_eq!(
            web.persistentvolumeclaim_capacity_byte_seconds,
            19_327_352_832_000.0
        );
        assert_eq!(
            web.volume_request_storage_byte_seconds,
            77_309_411_328_000.0
        );
        assert_eq!(
            web.persistentvolumeclaim_usage_byte_seconds,
            11_596_411_699_200.0
        );
        assert_eq!(web.persistentvolume_labels, r#"{"tier": "gold"}"#);
        assert_eq!(web.persistentvolumeclaim_labels, r#"{"app": "db"}"#);
        // ghost has no pod in the model; web-1 does not run in hour 2: no node.
        assert_eq!(t.storage_usage[2].pod, "ghost");
        assert_eq!(t.storage_usage[2].node, "");
        assert_eq!(t.storage_usage[6].pod, "web-1");
        assert_eq!(t.storage_usage[6].node, "");
    }

    #[test]
    fn storage_daily_groups_by_pod_node_and_labels_and_sums_byte_seconds() {
        let t = koku_tables(&storage_model());
        let keys: Vec<[&str; 5]> = t.storage_usage_daily.iter().map(storage_key).collect();
        // Sorted by (namespace, node, pod, ...): the claimless row (namespace ""), then shop's
        // rows with node "" (ghost, web-1 in hour 2) before node-a.
        assert_eq!(
            keys,
            [
                ["", "", "", "", "pv-2"],
                ["shop", "", "ghost", "data-1", "pv-1"],
                ["shop", "", "web-1", "data-1", "pv-1"],
                ["shop", "node-a", "web-1", "data-1", "pv-1"],
            ]
        );
        let d = &t.storage_usage_daily;
        // Claimless: 2 hours * 10 GiB * 3600.
        assert_eq!(
            d[0].persistentvolumeclaim_capacity_byte_seconds,
            77_309_411_328_000.0
        );
        assert_eq!(d[0].volume_request_storage_byte_seconds, 0.0);
        // ghost: 3 hours; capacity bytes is a max (5 GiB), not a sum.
        assert_eq!(d[1].persistentvolumeclaim_capacity_bytes, 5.0 * GIB);
        assert_eq!(
            d[1].persistentvolumeclaim_capacity_byte_seconds,
            3.0 * 19_327_352_832_000.0
        );
        assert_eq!(
            d[1].volume_request_storage_byte_seconds,
            3.0 * 77_309_411_328_000.0
        );
        assert_eq!(
            d[1].persistentvolumeclaim_usage_byte_seconds,
            3.0 * 11_596_411_699_200.0
        );
        // web-1 on node-a: hours 0 and 1; on no node: hour 2.
        assert_eq!(
            d[3].persistentvolumeclaim_usage_byte_seconds,
            23_192_823_398_400.0
        );
        assert_eq!(
            d[2].persistentvolumeclaim_usage_byte_seconds,
            11_596_411_699_200.0
        );
        assert_eq!(d[3].interval_start, ts("2026-09-01 00:00:00"));
        assert_eq!(d[3].report_period_end, ts("2026-10-01 00:00:00"));
        assert_eq!(d[3].csi_driver, "ebs.csi.aws.com");
        assert_eq!(d[3].persistentvolume_labels, r#"{"tier": "gold"}"#);
    }

    #[test]
    fn storage_daily_splits_on_label_change_and_day() {
        let mut m = storage_model();
        m.claims[0].hours = (0..48).collect();
        m.claims[0].pods = vec!["ghost".into()];
        m.claims[0]
            .labels
            .push(LabelPeriod::new(30, &[("app", "cache")]));
        let t = koku_tables(&m);
        let ghost: Vec<(String, String, f64)> = t
            .storage_usage_daily
            .iter()
            .filter(|r| r.pod == "ghost")
            .map(|r| {
                (
                    r.interval_start.date().to_string(),
                    r.persistentvolumeclaim_labels.clone(),
                    r.persistentvolumeclaim_usage_byte_seconds / (3.0 * GIB * 3600.0),
                )
            })
            .collect();
        // Day 1: 24 hours of app=db; day 2: hours 24-29 app=db, 30-47 app=cache.
        assert_eq!(
            ghost,
            [
                ("2026-09-01".into(), r#"{"app": "db"}"#.into(), 24.0),
                ("2026-09-02".into(), r#"{"app": "cache"}"#.into(), 18.0),
                ("2026-09-02".into(), r#"{"app": "db"}"#.into(), 6.0),
            ]
        );
    }

    #[test]
    fn a_pod_that_moves_node_gives_a_row_per_node() {
        // web-1 runs on node-a in hours 0-11, then on node-b in hours 12-23; its claim reports
        // all day: pod usage and storage each get one daily row per node.
        let mut m = storage_model();
        let mut node_b = m.nodes[0].clone();
        node_b.name = "node-b".into();
        node_b.resource_id = "i-0def".into();
        m.nodes.push(node_b);
        m.pods[0].hours = (0..12).collect();
        let mut moved = m.pods[0].clone();
        moved.node = "node-b".into();
        moved.hours = (12..24).collect();
        m.pods.push(moved);
        m.claims[0].pods = vec!["web-1".into()];
        m.claims[0].hours = (0..24).collect();
        assert_eq!(m.validate(), Ok(()));
        let t = koku_tables(&m);
        let pod_nodes: Vec<(&str, &str)> = t
            .pod_usage_daily
            .iter()
            .map(|r| (r.node.as_str(), r.resource_id.as_str()))
            .collect();
        assert_eq!(pod_nodes, [("node-a", "i-0abc"), ("node-b", "i-0def")]);
        let storage: Vec<(&str, f64)> = t
            .storage_usage_daily
            .iter()
            .filter(|r| r.pod == "web-1")
            .map(|r| {
                let hours = r.persistentvolumeclaim_capacity_byte_seconds / (5.0 * GIB * 3600.0);
                (r.node.as_str(), hours)
            })
            .collect();
        assert_eq!(storage, [("node-a", 12.0), ("node-b", 12.0)]);
    }

    #[test]
    fn anomalous_storage_rows_are_dropped() {
        let mut m = storage_model();
        m.claims[0].usage_bytes = 1e15; // 1e15 * 3600 = 3.6e18 > 1e18
        let t = koku_tables(&m);
        assert!(t.storage_usage.iter().all(|r| r.persistentvolume == "pv-2"));
        assert_eq!(t.storage_usage.len(), 2);
    }

    #[test]
    fn storage_names_are_sanitized() {
        let mut m = storage_model();
        m.volumes[1].storage_class = "fast&cheap".into();
        let t = koku_tables(&m);
        assert_eq!(t.storage_usage[0].storageclass, "fast&amp;cheap");
    }

    #[test]
    fn node_role_from_the_operator() {
        // No roles sent: no value hourly, NULL daily (koku adds the column all-NULL, §2.2).
        let mut m = one_pod_model(vec![0, 1]);
        m.pods.push(PodModel::new("batch-1", "shop", "", vec![0]));
        let t = koku_tables(&m);
        assert!(t.pod_usage.iter().all(|r| r.node_role.is_none()));
        assert!(t.pod_usage_daily.iter().all(|r| r.node_role.is_none()));
        // Sent for node-a (sanitized like a name); a pod without a node gets none.
        m.operator_node_roles
            .insert("node-a".into(), "control-plane&x".into());
        let t = koku_tables(&m);
        let daily: Vec<(&str, Option<&str>)> = t
            .pod_usage_daily
            .iter()
            .map(|r| (r.pod.as_str(), r.node_role.as_deref()))
            .collect();
        assert_eq!(
            daily,
            [("batch-1", None), ("web-1", Some("control-plane&amp;x"))]
        );
        // The daily value is pandas' max over the group's hourly values, NULLs skipped.
        let mut rows = t.pod_usage.clone();
        rows.retain(|r| r.pod == "web-1");
        rows[0].node_role = Some("infra".into());
        rows[1].node_role = None;
        assert_eq!(
            pod_usage_daily(&rows)[0].node_role.as_deref(),
            Some("infra")
        );
        rows[1].node_role = Some("master".into());
        assert_eq!(
            pod_usage_daily(&rows)[0].node_role.as_deref(),
            Some("master")
        );
    }

    #[test]
    fn kahan_sum_matches_pandas_compensation() {
        // Naive 1e16 + 1 + 1 = 1e16 (each 1 lost); Kahan recovers 1e16 + 2.
        let mut k = KahanSum::default();
        for v in [1e16, 1.0, 1.0] {
            k.add(v);
        }
        assert_eq!(k.sum, 1e16 + 2.0);
    }
}
