//! The cluster model: what a synthetic OpenShift cluster looks like, as plain data.
//!
//! The model says which nodes, namespaces, pods, volumes and claims exist, which hours each pod
//! and claim reports in and what it uses, and which node roles the operator and koku's node table
//! hold. It knows nothing of Parquet or of koku's row shapes (the module
//! [`koku_tables`](mod@super::koku_tables) derives those). Tests build models by hand for
//! hand-computed cases; [`super::generator`] builds realistic ones from a scale and a seed, and
//! validates them here ([`ClusterModel::validate`]).
//!
//! Hours are counted from the first hour (00:00) of `first_day`: hour `h` starts at
//! `first_day 00:00 + h hours`, so day index `d` covers hours `24*d .. 24*d + 24`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use ocp_engine::config::NodeRecord;
use uuid::Uuid;

/// 2^30 bytes: koku's "gigabyte" (spec §0.1).
pub const GIB: f64 = 1_073_741_824.0;

/// A set of labels in force from an hour on.
///
/// The labels in force at hour `h` are those of the last period whose `from_hour <= h`. In a
/// valid list the first period starts at hour 0 and `from_hour` strictly increases. An empty list
/// means "no labels" (`{}`) at every hour.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelPeriod {
    /// Hour index (from 00:00 of the model's `first_day`) at which these labels take effect.
    pub from_hour: u32,
    /// Label keys as the operator sends them minus the `label_` prefix, e.g. `("app", "web")`,
    /// in the order the operator sends them (the order of koku's JSON text).
    pub labels: Vec<(String, String)>,
}

impl LabelPeriod {
    /// Convenience constructor from string slices.
    pub fn new(from_hour: u32, labels: &[(&str, &str)]) -> Self {
        LabelPeriod {
            from_hour,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

/// The labels in force at `hour`: those of the last period with `from_hour <= hour`, or none.
pub fn labels_at(periods: &[LabelPeriod], hour: u32) -> &[(String, String)] {
    periods
        .iter()
        .rev()
        .find(|p| p.from_hour <= hour)
        .map(|p| p.labels.as_slice())
        .unwrap_or(&[])
}

/// An OpenShift node. Its capacity reaches koku only on the pod rows of the pods it runs, so a
/// node "reports" exactly in the hours in which at least one of its pods does.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeModel {
    /// Node name, unique in the cluster and not empty.
    pub name: String,
    /// Provider id as koku stores it, e.g. `i-0a1b2c3d4e5f60718` (nise writes `"i-" + id`).
    pub resource_id: String,
    /// Capacity in cores (`node_capacity_cpu_cores`).
    pub cpu_cores: f64,
    /// Capacity in bytes (`node_capacity_memory_bytes`).
    pub memory_bytes: f64,
    /// Node labels over time; see [`LabelPeriod`].
    pub labels: Vec<LabelPeriod>,
}

/// A namespace and its labels over time. A namespace reports label rows in the hours in which at
/// least one of its pods (with or without a node) reports. Pods may use namespaces that are not
/// listed here; such namespaces get no namespace-label rows.
#[derive(Clone, Debug, PartialEq)]
pub struct NamespaceModel {
    /// Namespace name, unique among the model's namespaces.
    pub name: String,
    /// Namespace labels over time; see [`LabelPeriod`].
    pub labels: Vec<LabelPeriod>,
}

/// A pod: where it runs, when it reports and what it uses.
///
/// In each present hour `h` the pod reports `pod_seconds` seconds, and uses
/// `cpu_usage_cores * f` cores and `memory_usage_bytes * f` bytes, where
/// `f = usage_factor(pod_index, h, usage_variation)` (pod_index = position in
/// [`ClusterModel::pods`]) lies in `[1 - usage_variation, 1]` and is exactly 1 when
/// `usage_variation == 0`. Requests and limits are the same every hour.
#[derive(Clone, Debug, PartialEq)]
pub struct PodModel {
    pub name: String,
    pub namespace: String,
    /// The node's name, or `""` for a pod without a node (koku then writes `node = ''`,
    /// `resource_id = ''` and zero capacity).
    pub node: String,
    /// Pod labels (minus `label_`), constant over the pod's life.
    pub labels: Vec<(String, String)>,
    /// Strictly increasing hour indexes (< [`ClusterModel::num_hours`]) in which the pod reports.
    pub hours: Vec<u32>,
    /// Seconds the pod ran in each present hour (0..=3600; 3600 = the whole hour).
    pub pod_seconds: f64,
    pub cpu_usage_cores: f64,
    pub cpu_request_cores: f64,
    pub cpu_limit_cores: f64,
    pub memory_usage_bytes: f64,
    pub memory_request_bytes: f64,
    pub memory_limit_bytes: f64,
    /// How much the hourly usage may fall below the base, in `[0, 1]`.
    pub usage_variation: f64,
}

impl PodModel {
    /// A pod with the given placement and hours, running whole hours (3600 s), with all usage,
    /// requests and limits 0, no labels and no variation: tests fill in what they need.
    pub fn new(name: &str, namespace: &str, node: &str, hours: Vec<u32>) -> Self {
        PodModel {
            name: name.to_string(),
            namespace: namespace.to_string(),
            node: node.to_string(),
            labels: Vec::new(),
            hours,
            pod_seconds: 3600.0,
            cpu_usage_cores: 0.0,
            cpu_request_cores: 0.0,
            cpu_limit_cores: 0.0,
            memory_usage_bytes: 0.0,
            memory_request_bytes: 0.0,
            memory_limit_bytes: 0.0,
            usage_variation: 0.0,
        }
    }
}

/// A persistent volume (PV). Its rows reach koku only through the storage report: one row per
/// hour for each claim bound to it and each pod mounting that claim (see [`ClaimModel`]), plus one
/// claimless row in each of its `claimless_hours` (spec §10.3).
#[derive(Clone, Debug, PartialEq)]
pub struct VolumeModel {
    /// PV name, unique among the model's volumes and not empty.
    pub name: String,
    pub storage_class: String,
    pub csi_driver: String,
    pub csi_volume_handle: String,
    /// The volume's size in bytes: the `persistentvolumeclaim_capacity_bytes` of its claimless
    /// rows. nise has a single size per volume, its "volume request", and writes that there
    /// (§10.3); a model mirrors nise with `capacity_bytes == request_bytes`.
    pub capacity_bytes: f64,
    /// The PV-level request in bytes, repeated on the row of every claim bound to the volume
    /// (`volume_request_storage_byte_seconds = request_bytes · 3600` per hour, §10.3).
    pub request_bytes: f64,
    /// PV labels over time; see [`LabelPeriod`].
    pub labels: Vec<LabelPeriod>,
    /// Strictly increasing hours (< [`ClusterModel::num_hours`]) in which the volume reports
    /// without a claim: one row with empty namespace, pod and claim, capacity
    /// `capacity_bytes · 3600` byte-seconds, request and usage 0 (nise leaves them empty and
    /// koku's `safe_float` makes them 0.0, §2.3, §10.3).
    pub claimless_hours: Vec<u32>,
}

impl VolumeModel {
    /// A volume of `request_bytes` (capacity the same, as nise writes it) with storage class
    /// `gp3-csi`, driver `ebs.csi.aws.com`, handle `vol-<name>`, no labels and no claimless hours.
    pub fn new(name: &str, request_bytes: f64) -> Self {
        VolumeModel {
            name: name.to_string(),
            storage_class: "gp3-csi".to_string(),
            csi_driver: "ebs.csi.aws.com".to_string(),
            csi_volume_handle: format!("vol-{name}"),
            capacity_bytes: request_bytes,
            request_bytes,
            labels: Vec::new(),
            claimless_hours: Vec::new(),
        }
    }
}

/// A persistent volume claim (PVC) bound to a [`VolumeModel`] and mounted by one or more pods.
///
/// In each of its `hours` the claim gives one storage row per mounting pod (as the operator
/// reports per pod and claim), with `capacity_bytes · 3600` capacity byte-seconds, the volume's
/// `request_bytes · 3600` request byte-seconds and `usage_bytes · 3600` usage byte-seconds
/// (full hours, §10.3). The pods are names in the claim's namespace and need not be pods of the
/// model: a pod without a pod-usage row that day is how a claim ends up with no node in the
/// summary (§6.3). A claim mounted by pods on several nodes (a shared, RWX volume) or by a pod
/// that moves node gives the volume a node count above 1 (§6.3).
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimModel {
    /// PVC name, not empty; (namespace, name) is unique among the model's claims.
    pub name: String,
    /// Not empty.
    pub namespace: String,
    /// Name of the bound volume, one of [`ClusterModel::volumes`].
    pub volume: String,
    /// Distinct names of the pods mounting the claim, at least one.
    pub pods: Vec<String>,
    /// `persistentvolumeclaim_capacity_bytes`.
    pub capacity_bytes: f64,
    /// Bytes used in every present hour.
    pub usage_bytes: f64,
    /// PVC labels over time; see [`LabelPeriod`].
    pub labels: Vec<LabelPeriod>,
    /// Strictly increasing hour indexes (< [`ClusterModel::num_hours`]) in which the claim
    /// reports.
    pub hours: Vec<u32>,
}

impl ClaimModel {
    /// A claim on `volume` in `namespace`, mounted by `pods` in `hours`, with capacity and usage
    /// 0 and no labels: tests fill in what they need.
    pub fn new(name: &str, namespace: &str, volume: &str, pods: &[&str], hours: Vec<u32>) -> Self {
        ClaimModel {
            name: name.to_string(),
            namespace: namespace.to_string(),
            volume: volume.to_string(),
            pods: pods.iter().map(|p| p.to_string()).collect(),
            capacity_bytes: 0.0,
            usage_bytes: 0.0,
            labels: Vec::new(),
            hours,
        }
    }
}

/// A whole synthetic cluster for one source and a range of days within one month.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterModel {
    /// koku's account folder: the tenant schema without a leading `acct`, e.g. `org1234567`.
    pub account: String,
    /// The OpenShift source (provider) UUID; names the `source=` partition.
    pub source_uuid: Uuid,
    pub cluster_id: String,
    pub cluster_alias: String,
    pub year: i32,
    /// 1..=12.
    pub month: u32,
    /// First day of the month covered (1-based).
    pub first_day: u32,
    /// Last day covered, inclusive, in the same month, `>= first_day`.
    pub last_day: u32,
    pub nodes: Vec<NodeModel>,
    pub namespaces: Vec<NamespaceModel>,
    /// Pods. A pod that moves node is several entries with the same name and namespace, one per
    /// node, each with the hours it ran there (koku's daily table then has one row per node).
    pub pods: Vec<PodModel>,
    /// Persistent volumes; none means koku has no storage table (`storage_exists` false, §1.3).
    pub volumes: Vec<VolumeModel>,
    /// Persistent volume claims, each bound to one of `volumes`.
    pub claims: Vec<ClaimModel>,
    /// The `node_role` values the operator sent, by node name (any text: `master`, `infra`,
    /// `worker`, `control-plane`, `""`, ...). Empty: the operator's pod report has no
    /// `node_role` column (nise's has none, §10.2) and koku's daily table gets an all-NULL one
    /// (§2.2). Otherwise the hourly pod table has the column: rows on a listed node carry its
    /// value, other rows (other nodes, pods without a node) NULL, and the daily table the max
    /// per group. A CSV cannot hold NULL: an operator that sends the column writes `""` for a
    /// node without a role, which koku keeps as `''` (§2.3) and records as that node's role,
    /// shadowing its own fallback (§6.4); map such a node to `""` to model that. Names that are
    /// not nodes of the model are allowed and never written.
    pub operator_node_roles: BTreeMap<String, String>,
    /// Rows already in koku's `reporting_ocp_nodes` before the run, of any cluster of the tenant
    /// (catalog, not Parquet; §2.4, §6.4).
    pub existing_nodes: Vec<NodeRecord>,
    /// Whether the operator sent node-label reports (else no node-label tables are written).
    pub write_node_labels: bool,
    /// Whether the operator sent namespace-label reports.
    pub write_namespace_labels: bool,
    /// Label keys enabled for OCP in `reporting_enabledtagkeys` (catalog, not Parquet).
    pub enabled_tag_keys: Vec<String>,
    /// `reporting_ocp_cost_category_namespace` rows: (LIKE pattern, category id).
    pub cost_category_patterns: Vec<(String, i32)>,
}

/// koku's default cost-category seed: `openshift-%`, `kube-%`, `Platform unallocated` and
/// `openshift`, all in category 1.
pub fn koku_default_cost_categories() -> Vec<(String, i32)> {
    ["openshift-%", "kube-%", "Platform unallocated", "openshift"]
        .iter()
        .map(|p| (p.to_string(), 1))
        .collect()
}

impl ClusterModel {
    /// An empty cluster for days `first_day..=last_day` of `year-month`: account `org1234567`,
    /// a fixed source UUID, cluster `test-cluster`, both label reports on, no enabled keys and
    /// koku's default cost categories, no volumes, no operator node roles and an empty
    /// `reporting_ocp_nodes`. Tests add nodes, namespaces, pods and volumes.
    pub fn empty(year: i32, month: u32, first_day: u32, last_day: u32) -> Self {
        ClusterModel {
            account: "org1234567".to_string(),
            source_uuid: Uuid::from_u128(0x6795_d5e6_951c_4382_a8d3_3905_15d7_ec2d),
            cluster_id: "test-cluster".to_string(),
            cluster_alias: "Test cluster".to_string(),
            year,
            month,
            first_day,
            last_day,
            nodes: Vec::new(),
            namespaces: Vec::new(),
            pods: Vec::new(),
            volumes: Vec::new(),
            claims: Vec::new(),
            operator_node_roles: BTreeMap::new(),
            existing_nodes: Vec::new(),
            write_node_labels: true,
            write_namespace_labels: true,
            enabled_tag_keys: Vec::new(),
            cost_category_patterns: koku_default_cost_categories(),
        }
    }

    /// Number of days covered (`last_day - first_day + 1`).
    pub fn num_days(&self) -> u32 {
        self.last_day + 1 - self.first_day
    }

    /// Number of hours covered (`24 * num_days`).
    pub fn num_hours(&self) -> u32 {
        24 * self.num_days()
    }

    /// The calendar date of day index `day` (0 = `first_day`). Panics on an invalid model date.
    pub fn date(&self, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, self.first_day + day)
            .expect("model date is valid (see ClusterModel::validate)")
    }

    /// The first day covered.
    pub fn first_date(&self) -> NaiveDate {
        self.date(0)
    }

    /// The last day covered.
    pub fn last_date(&self) -> NaiveDate {
        self.date(self.num_days() - 1)
    }

    /// Start of hour index `hour` (naive UTC, as koku stores timestamps).
    pub fn hour_start(&self, hour: u32) -> NaiveDateTime {
        self.first_date()
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            + Duration::hours(hour.into())
    }

    /// `report_period_start`: 00:00 on the 1st of the model's month.
    pub fn report_period_start(&self) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .expect("model month is valid")
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
    }

    /// `report_period_end`: 00:00 on the 1st of the next month.
    pub fn report_period_end(&self) -> NaiveDateTime {
        let (y, m) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        NaiveDate::from_ymd_opt(y, m, 1)
            .expect("next month is valid")
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
    }

    /// The node called `name`, if the model has one.
    pub fn node(&self, name: &str) -> Option<&NodeModel> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The volume called `name`, if the model has one.
    pub fn volume(&self, name: &str) -> Option<&VolumeModel> {
        self.volumes.iter().find(|v| v.name == name)
    }

    /// Checks the rules the rest of the module relies on: a real date range within one month;
    /// unique, non-empty node names; unique namespace names; valid label periods; every pod on
    /// `""` or a listed node, with strictly increasing hours below `num_hours`, `pod_seconds` in
    /// `0..=3600` and `usage_variation` in `[0, 1]`; unique, non-empty volume names; claims with
    /// a name and namespace unique together, bound to a listed volume, mounted by at least one
    /// pod (no pod twice); finite, non-negative byte amounts; strictly increasing claim and
    /// claimless hours below `num_hours`; `existing_nodes` with distinct identities. Returns the
    /// first broken rule.
    pub fn validate(&self) -> Result<(), String> {
        self.check_dates()?;
        let nodes = self.check_nodes()?;
        self.check_namespaces()?;
        self.check_pods(&nodes)?;
        let volumes = self.check_volumes()?;
        self.check_claims(&volumes)?;
        self.check_existing_nodes()
    }

    fn check_dates(&self) -> Result<(), String> {
        if !(1..=12).contains(&self.month) {
            return Err(format!("month {} is not 1..=12", self.month));
        }
        if self.first_day < 1 || self.first_day > self.last_day {
            return Err(format!(
                "day range {}..={} is empty or starts before day 1",
                self.first_day, self.last_day
            ));
        }
        if NaiveDate::from_ymd_opt(self.year, self.month, self.last_day).is_none() {
            return Err(format!(
                "day {} does not exist in {}-{:02}",
                self.last_day, self.year, self.month
            ));
        }
        Ok(())
    }

    /// The node names, after checking them and their labels.
    fn check_nodes(&self) -> Result<BTreeSet<&str>, String> {
        let mut names = BTreeSet::new();
        for node in &self.nodes {
            if node.name.is_empty() {
                return Err("a node has an empty name".to_string());
            }
            if !names.insert(node.name.as_str()) {
                return Err(format!("node {} is listed twice", node.name));
            }
            check_periods(&node.labels).map_err(|e| format!("node {}: {e}", node.name))?;
        }
        Ok(names)
    }

    fn check_namespaces(&self) -> Result<(), String> {
        let mut names = BTreeSet::new();
        for ns in &self.namespaces {
            if !names.insert(ns.name.as_str()) {
                return Err(format!("namespace {} is listed twice", ns.name));
            }
            check_periods(&ns.labels).map_err(|e| format!("namespace {}: {e}", ns.name))?;
        }
        Ok(())
    }

    fn check_pods(&self, nodes: &BTreeSet<&str>) -> Result<(), String> {
        for pod in &self.pods {
            let what = format!("pod {}/{}", pod.namespace, pod.name);
            if !pod.node.is_empty() && !nodes.contains(pod.node.as_str()) {
                return Err(format!("{what} runs on unknown node {}", pod.node));
            }
            check_hours(&pod.hours, self.num_hours()).map_err(|e| format!("{what}: {e}"))?;
            if !(0.0..=3600.0).contains(&pod.pod_seconds) {
                return Err(format!(
                    "{what}: pod_seconds {} not in 0..=3600",
                    pod.pod_seconds
                ));
            }
            if !(0.0..=1.0).contains(&pod.usage_variation) {
                return Err(format!(
                    "{what}: usage_variation {} not in [0, 1]",
                    pod.usage_variation
                ));
            }
        }
        Ok(())
    }

    /// The volume names, after checking the volumes.
    fn check_volumes(&self) -> Result<BTreeSet<&str>, String> {
        let mut names = BTreeSet::new();
        for volume in &self.volumes {
            if volume.name.is_empty() {
                return Err("a volume has an empty name".to_string());
            }
            if !names.insert(volume.name.as_str()) {
                return Err(format!("volume {} is listed twice", volume.name));
            }
            let what = format!("volume {}", volume.name);
            check_bytes(&what, "capacity", volume.capacity_bytes)?;
            check_bytes(&what, "request", volume.request_bytes)?;
            check_periods(&volume.labels).map_err(|e| format!("{what}: {e}"))?;
            check_hours(&volume.claimless_hours, self.num_hours())
                .map_err(|e| format!("{what}: claimless {e}"))?;
        }
        Ok(names)
    }

    fn check_claims(&self, volumes: &BTreeSet<&str>) -> Result<(), String> {
        let mut names = BTreeSet::new();
        for claim in &self.claims {
            let what = format!("claim {}/{}", claim.namespace, claim.name);
            if claim.name.is_empty() || claim.namespace.is_empty() {
                return Err(format!("{what}: a claim needs a name and a namespace"));
            }
            if !names.insert((claim.namespace.as_str(), claim.name.as_str())) {
                return Err(format!("{what} is listed twice"));
            }
            if !volumes.contains(claim.volume.as_str()) {
                return Err(format!(
                    "{what} is bound to unknown volume {}",
                    claim.volume
                ));
            }
            let pods: BTreeSet<&str> = claim.pods.iter().map(String::as_str).collect();
            if pods.is_empty() || pods.len() != claim.pods.len() {
                return Err(format!("{what}: pods must be at least one, none twice"));
            }
            check_bytes(&what, "capacity", claim.capacity_bytes)?;
            check_bytes(&what, "usage", claim.usage_bytes)?;
            check_periods(&claim.labels).map_err(|e| format!("{what}: {e}"))?;
            check_hours(&claim.hours, self.num_hours()).map_err(|e| format!("{what}: {e}"))?;
        }
        Ok(())
    }

    /// koku looks a `reporting_ocp_nodes` row up by (node, resource_id, node_capacity_cpu_cores,
    /// cluster) before creating one (§6.4), so it never holds two rows of one identity; with two,
    /// which one gets the run's role is undefined.
    fn check_existing_nodes(&self) -> Result<(), String> {
        let mut identities = BTreeSet::new();
        for row in &self.existing_nodes {
            let cores = row.node_capacity_cpu_cores.map(f64::to_bits);
            let identity = (&row.node, &row.resource_id, cores, &row.cluster_id);
            if !identities.insert(identity) {
                return Err(format!(
                    "reporting_ocp_nodes row of node {} is listed twice with the same \
                     (node, resource_id, node_capacity_cpu_cores, cluster_id)",
                    row.node
                ));
            }
        }
        Ok(())
    }
}

/// Hours must be strictly increasing and below `num_hours`.
fn check_hours(hours: &[u32], num_hours: u32) -> Result<(), String> {
    if hours.windows(2).any(|w| w[0] >= w[1]) {
        return Err("hours are not strictly increasing".to_string());
    }
    match hours.last() {
        Some(&last) if last >= num_hours => Err(format!(
            "hour {last} is outside the model's {num_hours} hours"
        )),
        _ => Ok(()),
    }
}

/// A byte amount must be finite and not negative.
fn check_bytes(what: &str, name: &str, bytes: f64) -> Result<(), String> {
    if bytes.is_finite() && bytes >= 0.0 {
        Ok(())
    } else {
        Err(format!(
            "{what}: {name} {bytes} bytes is not a finite amount >= 0"
        ))
    }
}

fn check_periods(periods: &[LabelPeriod]) -> Result<(), String> {
    if let Some(first) = periods.first() {
        if first.from_hour != 0 {
            return Err(format!(
                "first label period starts at hour {}, not 0",
                first.from_hour
            ));
        }
    }
    if periods.windows(2).any(|w| w[0].from_hour >= w[1].from_hour) {
        return Err("label periods are not in strictly increasing hour order".to_string());
    }
    Ok(())
}

/// The hourly usage factor of pod `pod_index` in hour `hour`: `1 - usage_variation * u`, where
/// `u` in `[0, 1)` is a fixed hash of `(pod_index, hour)` (same value on every machine).
/// Exactly 1.0 when `usage_variation == 0`.
pub fn usage_factor(pod_index: usize, hour: u32, usage_variation: f64) -> f64 {
    if usage_variation == 0.0 {
        return 1.0;
    }
    let h = splitmix64(((pod_index as u64) << 32) ^ u64::from(hour) ^ 0x0005_eed0_f0c9);
    let u = (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    1.0 - usage_variation * u
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The month's length in days (used by callers that build models by hand).
pub fn days_in_month(year: i32, month: u32) -> u32 {
    let first = NaiveDate::from_ymd_opt(year, month, 1).expect("valid month");
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .expect("next month exists");
    (next - first).num_days() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_at_takes_last_period_started() {
        let periods = vec![
            LabelPeriod::new(0, &[("env", "prod")]),
            LabelPeriod::new(12, &[("env", "stage")]),
        ];
        assert_eq!(
            labels_at(&periods, 0),
            &[("env".to_string(), "prod".to_string())]
        );
        assert_eq!(
            labels_at(&periods, 11),
            &[("env".to_string(), "prod".to_string())]
        );
        assert_eq!(
            labels_at(&periods, 12),
            &[("env".to_string(), "stage".to_string())]
        );
        assert_eq!(
            labels_at(&periods, 500),
            &[("env".to_string(), "stage".to_string())]
        );
        assert!(labels_at(&[], 3).is_empty());
    }

    #[test]
    fn usage_factor_is_one_without_variation_and_bounded_otherwise() {
        for pod in 0..20 {
            for hour in 0..100 {
                assert_eq!(usage_factor(pod, hour, 0.0), 1.0);
                let f = usage_factor(pod, hour, 0.4);
                assert!((0.6..=1.0).contains(&f), "factor {f}");
                assert_eq!(f, usage_factor(pod, hour, 0.4));
            }
        }
        // Not constant: some variation actually happens.
        assert_ne!(usage_factor(0, 0, 0.4), usage_factor(0, 1, 0.4));
    }

    /// A valid model with one volume (pv) and one claim (shop/data on pv, mounted by web).
    fn storage_model() -> ClusterModel {
        let mut m = ClusterModel::empty(2026, 9, 1, 1);
        m.volumes.push(VolumeModel::new("pv", GIB));
        m.claims
            .push(ClaimModel::new("data", "shop", "pv", &["web"], vec![0, 1]));
        m
    }

    #[test]
    fn validate_rejects_broken_storage() {
        assert_eq!(storage_model().validate(), Ok(()));
        type Break = fn(&mut ClusterModel);
        let broken: [(&str, Break); 14] = [
            ("empty name", |m| m.volumes[0].name.clear()),
            ("listed twice", |m| {
                m.volumes.push(VolumeModel::new("pv", 1.0))
            }),
            ("not a finite amount", |m| {
                m.volumes[0].request_bytes = f64::NAN
            }),
            ("not a finite amount", |m| {
                m.volumes[0].capacity_bytes = -1.0
            }),
            ("claimless hour 24 is outside", |m| {
                m.volumes[0].claimless_hours = vec![24]
            }),
            ("not 0", |m| {
                m.volumes[0].labels = vec![LabelPeriod::new(1, &[])]
            }),
            ("unknown volume nowhere", |m| {
                m.claims[0].volume = "nowhere".into()
            }),
            ("name and a namespace", |m| m.claims[0].namespace.clear()),
            ("listed twice", |m| m.claims.push(m.claims[0].clone())),
            ("at least one", |m| m.claims[0].pods.clear()),
            ("none twice", |m| m.claims[0].pods.push("web".into())),
            ("not a finite amount", |m| {
                m.claims[0].usage_bytes = f64::INFINITY
            }),
            ("strictly increasing", |m| m.claims[0].hours = vec![1, 1]),
            ("strictly increasing", |m| {
                m.claims[0].labels = vec![LabelPeriod::new(0, &[]), LabelPeriod::new(0, &[])]
            }),
        ];
        for (message, breaks) in broken {
            let mut m = storage_model();
            breaks(&mut m);
            let err = m.validate().unwrap_err();
            assert!(err.contains(message), "{err:?} should say {message:?}");
        }
        // Claims with the same name in two namespaces, claims on pods the model lacks, and
        // roles for nodes it lacks are fine.
        let mut m = storage_model();
        let row = NodeRecord {
            node: "alpha".into(),
            resource_id: Some("i-alpha".into()),
            node_capacity_cpu_cores: Some(4.0),
            cluster_id: Some("c".into()),
            node_role: Some("master".into()),
        };
        m.existing_nodes = vec![row.clone(), row.clone()];
        m.existing_nodes[1].node_role = None;
        assert!(m.validate().unwrap_err().contains("listed twice"));
        m.existing_nodes[1].cluster_id = Some("other".into());
        assert_eq!(m.validate(), Ok(()));
        let mut other = m.claims[0].clone();
        other.namespace = "web".into();
        m.claims.push(other);
        m.operator_node_roles.insert("gone".into(), "master".into());
        assert_eq!(m.validate(), Ok(()));
    }

    #[test]
    fn report_period_bounds_and_hours() {
        let m = ClusterModel::empty(2026, 12, 30, 31);
        assert_eq!(m.report_period_start().to_string(), "2026-12-01 00:00:00");
        assert_eq!(m.report_period_end().to_string(), "2027-01-01 00:00:00");
        assert_eq!(m.hour_start(25).to_string(), "2026-12-31 01:00:00");
        assert_eq!(days_in_month(2028, 2), 29);
    }
}
