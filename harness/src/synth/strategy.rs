//! Proptest strategies that generate whole, valid [`ClusterModel`]s, small enough that hundreds
//! of cases (each written as Parquet and run through the engine) fit in a CI run.
//!
//! Contract of [`cluster_model`] (and [`cluster_model_with`]): every model passes
//! [`ClusterModel::validate`], has at most [`ModelConfig`]'s numbers of nodes, namespaces, pods
//! and days, and draws its names, label keys and cost-category patterns from small fixed pools so
//! that the cases the spec singles out (§11) happen often rather than by luck:
//!
//! - label keys from [`LABEL_KEYS`] (five keys, two or three values each): the same key on node,
//!   namespace and pod (precedence, §6.1), keys that are enabled and keys that are not;
//! - node and namespace labels that change at arbitrary hours, mid-day included, either to a new
//!   set or by one key (so a change may touch only a disabled key, §6.1 "two distinct values in
//!   one day");
//! - enabled-key sets including the empty set (Trino drops every label then, §3
//!   `cte_pg_enabled_keys`), `vm_kubevirt_io_name`, a key nobody uses and a wrong-case key;
//! - overlapping cost-category LIKE patterns (`%`, `_`, exact names) and namespace names that
//!   match none, one or several of them (§6.5);
//! - pods without a node (`node = ''`, §7.10), pods in namespaces without namespace labels,
//!   sparse hours (gaps, partial days, no hours at all), partial-hour `pod_seconds`, zero and
//!   fractional usage, requests and limits, hourly usage variation;
//! - months of 28 to 31 days (years 2019–2030, leap years included, February favoured), a range
//!   of one to `max_days` days that ends on the month's last day about a third of the time;
//! - node-label and namespace-label reports sometimes switched off;
//! - a pod that moves to another node part-way (two entries with the same name, §6.3 fan-out);
//! - volumes (none a quarter of the time, so koku has no storage table, §1.3) with storage
//!   classes, CSI handles (some empty), PV labels, sizes whose request may differ from the
//!   capacity, and claimless hours (§10.3); claims bound to them, mounted by one to three pods
//!   of a namespace, by pods the pod report never mentions, or both (§6.3), reporting in their
//!   pods' hours or in hours of their own; volumes bound by several claims or mounted on several
//!   nodes (node count above 1, §6.3);
//! - node roles (§6.4): operator `node_role` values from [`OPERATOR_ROLES`] (non-standard,
//!   empty and wrong-case values included) on some nodes, node labels from [`ROLE_LABELS`] (the
//!   one koku's LIKE matches and two that look like it), pods in `openshift-kube-apiserver`;
//! - rows already in `reporting_ocp_nodes`: a node's own identity, its (node, resource_id) in
//!   another cluster, its name with another resource id, nodes the model lacks; roles from
//!   [`OPERATOR_ROLES`] or none.
//!
//! Strategies shrink toward fewer nodes, namespaces, pods, volumes, claims, labels and hours.

use std::collections::{BTreeMap, BTreeSet};

use ocp_engine::config::NodeRecord;
use proptest::prelude::*;
use proptest::sample::{select, subsequence, Index};

use super::model::{
    days_in_month, ClaimModel, ClusterModel, LabelPeriod, NamespaceModel, NodeModel, PodModel,
    VolumeModel, GIB,
};

/// Label keys (as koku stores them, without `label_`) and the values each may take (one
/// non-ASCII value, which koku's JSON writes as a `\u` escape).
pub const LABEL_KEYS: [(&str, &[&str]); 5] = [
    ("app", &["web", "db", "api"]),
    ("team", &["red", "blue"]),
    ("env", &["prod", "dev"]),
    ("tier", &["front", "back", "café"]),
    ("vm_kubevirt_io_name", &["vm-a", "vm-b"]),
];

/// Keys that may be enabled: the label keys, one key no label uses, and a wrong-case key that
/// must not enable `app` (matching is exact, §6.1).
pub const ENABLEABLE_KEYS: [&str; 7] = [
    "app",
    "team",
    "env",
    "tier",
    "vm_kubevirt_io_name",
    "version",
    "App",
];

/// Node names; a model takes a subsequence, so names are unique.
pub const NODE_NAMES: [&str; 6] = [
    "node-a",
    "node-b",
    "master-0",
    "worker-1",
    "ip-10-0-1-23.ec2.internal",
    "infra.x",
];

/// Namespace names, chosen to hit [`COST_CATEGORY_PATTERNS`] zero, one or several times.
pub const NAMESPACE_NAMES: [&str; 8] = [
    "openshift-monitoring",
    "openshift-kube-apiserver",
    "openshift",
    "kube-system",
    "app-a",
    "app-b",
    "payments-system",
    "default",
];

/// Cost-category LIKE patterns; overlapping on purpose (e.g. `openshift-monitoring` matches
/// `openshift-%`, `openshift-mon%` and `%-%ing`).
pub const COST_CATEGORY_PATTERNS: [&str; 9] = [
    "openshift-%",
    "openshift-mon%",
    "%-system",
    "kube-system",
    "app-_",
    "_pp-%",
    "openshift",
    "%-%ing",
    "Platform unallocated",
];

/// Operator `node_role` values: koku's three, a non-standard one (§12.5), the empty text an
/// operator writes for a node without a role, and a wrong-case one (koku's CASE is exact).
pub const OPERATOR_ROLES: [&str; 6] = ["master", "infra", "worker", "control-plane", "", "Worker"];

/// Node labels about roles (key and value as koku stores them): koku tests the raw label text
/// with `LIKE '%"node_role_kubernetes_io": "infra"%'` (§6.4), which only the first matches; the
/// second names another role, the third is how the operator's `node-role.kubernetes.io/infra`
/// label actually arrives.
pub const ROLE_LABELS: [(&str, &str); 3] = [
    ("node_role_kubernetes_io", "infra"),
    ("node_role_kubernetes_io", "master"),
    ("node_role_kubernetes_io_infra", ""),
];

/// Storage classes and their CSI drivers (`""` for an in-tree volume).
pub const STORAGE_CLASSES: [(&str, &str); 3] = [
    ("gp3-csi", "ebs.csi.aws.com"),
    (
        "ocs-storagecluster-cephfs",
        "openshift-storage.cephfs.csi.ceph.com",
    ),
    ("standard", ""),
];

/// The mounting pod of generated claims that no pod-usage row ever names.
pub const GHOST_POD: &str = "ghost-pod";

/// The cluster id of `reporting_ocp_nodes` rows of another cluster of the tenant.
pub const OTHER_CLUSTER: &str = "other-cluster";

/// Upper bounds of a generated model. Node and namespace counts are also capped by the size of
/// [`NODE_NAMES`] and [`NAMESPACE_NAMES`].
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    pub max_nodes: usize,
    pub max_namespaces: usize,
    pub max_pods: usize,
    /// Days in the model's range; 0 counts as 1.
    pub max_days: u32,
    pub max_volumes: usize,
    pub max_claims: usize,
    /// Rows already in `reporting_ocp_nodes`.
    pub max_existing_nodes: usize,
    /// Whether the operator may send `node_role` values.
    pub operator_roles: bool,
}

impl Default for ModelConfig {
    /// At most 4 nodes, 5 namespaces, 10 pods (plus one moved pod's second entry), 4 days,
    /// 3 volumes, 4 claims and 3 `reporting_ocp_nodes` rows.
    fn default() -> Self {
        ModelConfig {
            max_nodes: 4,
            max_namespaces: 5,
            max_pods: 10,
            max_days: 4,
            max_volumes: 3,
            max_claims: 4,
            max_existing_nodes: 3,
            operator_roles: true,
        }
    }
}

/// Valid cluster models within [`ModelConfig::default`]; see the module documentation.
pub fn cluster_model() -> impl Strategy<Value = ClusterModel> {
    cluster_model_with(ModelConfig::default())
}

/// Valid cluster models within `config`; see the module documentation.
pub fn cluster_model_with(config: ModelConfig) -> impl Strategy<Value = ClusterModel> {
    let max_nodes = config.max_nodes.min(NODE_NAMES.len());
    let node_count = prop_oneof![1 => Just(0), 6 => 1..=max_nodes.max(1)]
        .prop_map(move |count| count.min(max_nodes));
    let max_namespaces = config.max_namespaces.min(NAMESPACE_NAMES.len());
    let max_pods = config.max_pods;
    let (max_volumes, max_claims) = (config.max_volumes, config.max_claims);
    let max_existing_nodes = config.max_existing_nodes;
    let with_roles = config.operator_roles;
    (
        date_range(config.max_days),
        node_count,
        enabled_keys(),
        cost_categories(),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.8),
    )
        .prop_flat_map(
            move |(range, node_count, keys, patterns, node_reports, namespace_reports)| {
                let mut model = range.empty_model();
                model.enabled_tag_keys = keys;
                model.cost_category_patterns = patterns;
                model.write_node_labels = node_reports;
                model.write_namespace_labels = namespace_reports;
                let hours = model.num_hours();
                (
                    Just(model),
                    nodes(node_count, hours),
                    namespaces(max_namespaces, hours),
                )
            },
        )
        .prop_flat_map(move |(mut model, nodes, namespaces)| {
            let node_names: Vec<String> = nodes.iter().map(|n| n.name.clone()).collect();
            let listed: Vec<String> = namespaces.iter().map(|n| n.name.clone()).collect();
            let pods = pods(max_pods, node_names, listed, model.num_hours());
            model.nodes = nodes;
            model.namespaces = namespaces;
            (Just(model), pods)
        })
        .prop_flat_map(|(mut model, pods)| {
            let nodes = model.nodes.iter().map(|n| n.name.clone()).collect();
            let pods = with_moved_pod(pods, nodes);
            model.pods = Vec::new();
            (Just(model), pods)
        })
        .prop_flat_map(move |(mut model, pods)| {
            model.pods = pods;
            let node_names: Vec<String> = model.nodes.iter().map(|n| n.name.clone()).collect();
            let extras = (
                volumes(max_volumes, model.num_hours()),
                operator_roles(if with_roles { node_names } else { Vec::new() }),
                existing_nodes(
                    max_existing_nodes,
                    model.nodes.clone(),
                    model.cluster_id.clone(),
                ),
            );
            (Just(model), extras)
        })
        .prop_flat_map(move |(mut model, (volumes, roles, existing))| {
            let names = volumes.iter().map(|v| v.name.clone()).collect();
            let claims = claims(max_claims, names, model.pods.clone(), model.num_hours());
            model.volumes = volumes;
            model.operator_node_roles = roles;
            model.existing_nodes = existing;
            (Just(model), claims)
        })
        .prop_map(|(mut model, claims)| {
            model.claims = claims;
            model
        })
}

/// A day range inside one month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateRange {
    pub year: i32,
    pub month: u32,
    pub first_day: u32,
    pub last_day: u32,
}

impl DateRange {
    /// [`ClusterModel::empty`] for this range.
    pub fn empty_model(&self) -> ClusterModel {
        ClusterModel::empty(self.year, self.month, self.first_day, self.last_day)
    }
}

/// Ranges of 1..=`max_days` days (fewer if the month is shorter) in a month of 2019–2030,
/// February drawn about a third of the time, ending on the month's last day about a third of
/// the time.
pub fn date_range(max_days: u32) -> impl Strategy<Value = DateRange> {
    let month = prop_oneof![3 => 1u32..=12, 1 => Just(2u32)];
    (2019i32..=2030, month, 1..=max_days.max(1)).prop_flat_map(|(year, month, days)| {
        let month_days = days_in_month(year, month);
        let days = days.min(month_days);
        let range = move |first_day: u32| DateRange {
            year,
            month,
            first_day,
            last_day: first_day + days - 1,
        };
        prop_oneof![
            2 => (1..=month_days - days + 1).prop_map(range),
            1 => Just(range(month_days - days + 1)),
        ]
    })
}

/// Enabled-key sets: empty a quarter of the time, else 1–4 keys of [`ENABLEABLE_KEYS`].
pub fn enabled_keys() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        1 => Just(Vec::new()),
        3 => subsequence(ENABLEABLE_KEYS.to_vec(), 1..=4)
            .prop_map(|keys| keys.into_iter().map(String::from).collect()),
    ]
}

/// 0–5 distinct patterns of [`COST_CATEGORY_PATTERNS`], each in category 1, 2 or 3.
pub fn cost_categories() -> impl Strategy<Value = Vec<(String, i32)>> {
    prop::collection::vec((select(COST_CATEGORY_PATTERNS.to_vec()), 1..=3i32), 0..=5).prop_map(
        |picks| {
            let mut patterns: Vec<(String, i32)> = Vec::new();
            for (pattern, id) in picks {
                if !patterns.iter().any(|(p, _)| p == pattern) {
                    patterns.push((pattern.to_string(), id));
                }
            }
            patterns
        },
    )
}

/// The value `value` (taken modulo the key's value count) of label key number `key`.
fn label(key: usize, value: usize) -> (String, String) {
    let (name, values) = LABEL_KEYS[key];
    (name.to_string(), values[value % values.len()].to_string())
}

/// 0–3 labels with distinct keys from [`LABEL_KEYS`].
pub fn label_set() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((0..LABEL_KEYS.len(), 0..3usize), 0..=3).prop_map(|picks| {
        let mut labels: Vec<(String, String)> = Vec::new();
        for (key, value) in picks {
            let (k, v) = label(key, value);
            if !labels.iter().any(|(existing, _)| *existing == k) {
                labels.push((k, v));
            }
        }
        labels
    })
}

/// How a label period differs from the one before it.
#[derive(Clone, Debug)]
enum LabelChange {
    /// A new label set.
    Replace(Vec<(String, String)>),
    /// The previous labels with key number `.0` set to value number `.1`.
    Set(usize, usize),
}

fn label_change() -> impl Strategy<Value = LabelChange> {
    prop_oneof![
        label_set().prop_map(LabelChange::Replace),
        (0..LABEL_KEYS.len(), 0..3usize).prop_map(|(k, v)| LabelChange::Set(k, v)),
    ]
}

/// Label periods over `num_hours` hours: none at all a fifth of the time, else a first period
/// at hour 0 and up to two changes at arbitrary later hours (valid per [`LabelPeriod`]).
pub fn label_periods(num_hours: u32) -> impl Strategy<Value = Vec<LabelPeriod>> {
    let changes = prop::collection::vec((1..num_hours.max(2), label_change()), 0..=2);
    prop_oneof![
        1 => Just(Vec::new()),
        4 => (label_set(), changes).prop_map(|(first, mut changes)| {
            changes.sort_by_key(|(hour, _)| *hour);
            changes.dedup_by_key(|(hour, _)| *hour);
            let mut periods = vec![LabelPeriod { from_hour: 0, labels: first }];
            for (from_hour, change) in changes {
                let labels = match change {
                    LabelChange::Replace(labels) => labels,
                    LabelChange::Set(key, value) => {
                        let mut labels = periods[periods.len() - 1].labels.clone();
                        let (k, v) = label(key, value);
                        match labels.iter_mut().find(|(existing, _)| *existing == k) {
                            Some(entry) => entry.1 = v,
                            None => labels.push((k, v)),
                        }
                        labels
                    }
                };
                periods.push(LabelPeriod { from_hour, labels });
            }
            periods
        }),
    ]
}

/// CPU capacity in cores: round counts, quarter cores, or any value in 0.1..16.
fn node_cores() -> impl Strategy<Value = f64> {
    prop_oneof![
        select(vec![1.0, 2.0, 4.0, 8.0]),
        (1u32..=64).prop_map(|q| f64::from(q) / 4.0),
        0.1f64..16.0,
    ]
}

/// Memory capacity in bytes: half-GiB steps up to 64 GiB, or any byte count in 256 MiB..64 GiB.
fn node_memory() -> impl Strategy<Value = f64> {
    prop_oneof![
        (1u32..=128).prop_map(|halves| f64::from(halves) * GIB / 2.0),
        (1u64 << 28..1u64 << 36).prop_map(|bytes| bytes as f64),
    ]
}

/// `count` nodes named by a subsequence of [`NODE_NAMES`], resource ids `i-0<index>`; one in
/// three carries one of [`ROLE_LABELS`] in one of its label periods.
pub fn nodes(count: usize, num_hours: u32) -> impl Strategy<Value = Vec<NodeModel>> {
    let role_label = prop_oneof![
        2 => Just(None),
        1 => (select(ROLE_LABELS.to_vec()), any::<Index>()).prop_map(Some),
    ];
    let specs = prop::collection::vec(
        (
            node_cores(),
            node_memory(),
            label_periods(num_hours),
            role_label,
        ),
        count,
    );
    (subsequence(NODE_NAMES.to_vec(), count), specs).prop_map(|(names, specs)| {
        names
            .into_iter()
            .zip(specs)
            .enumerate()
            .map(|(i, (name, (cpu_cores, memory_bytes, mut labels, role)))| {
                if let Some(((key, value), period)) = role {
                    add_label(&mut labels, key, value, period);
                }
                NodeModel {
                    name: name.to_string(),
                    resource_id: format!("i-0{i}"),
                    cpu_cores,
                    memory_bytes,
                    labels,
                }
            })
            .collect()
    })
}

/// `key: value` set in the label period `period` picks (a first period at hour 0 is made when
/// there is none).
fn add_label(periods: &mut Vec<LabelPeriod>, key: &str, value: &str, period: Index) {
    if periods.is_empty() {
        periods.push(LabelPeriod::new(0, &[]));
    }
    let at = period.index(periods.len());
    let labels = &mut periods[at].labels;
    match labels.iter_mut().find(|(k, _)| k == key) {
        Some(entry) => entry.1 = value.to_string(),
        None => labels.push((key.to_string(), value.to_string())),
    }
}

/// 0..=`max` namespaces named by a subsequence of [`NAMESPACE_NAMES`], each with label periods.
pub fn namespaces(max: usize, num_hours: u32) -> impl Strategy<Value = Vec<NamespaceModel>> {
    subsequence(NAMESPACE_NAMES.to_vec(), 0..=max).prop_flat_map(move |names| {
        let count = names.len();
        prop::collection::vec(label_periods(num_hours), count).prop_map(move |periods| {
            names
                .iter()
                .zip(periods)
                .map(|(name, labels)| NamespaceModel {
                    name: name.to_string(),
                    labels,
                })
                .collect()
        })
    })
}

/// Hours a pod reports in, strictly increasing and below `num_hours`: every hour, a contiguous
/// block, a random subset (possibly empty, with gaps) or a subset of a single day.
pub fn pod_hours(num_hours: u32) -> impl Strategy<Value = Vec<u32>> {
    let days = num_hours / 24;
    let block = (0..num_hours, 1..=num_hours)
        .prop_map(move |(start, len)| (start..(start + len).min(num_hours)).collect());
    let subset = (0.05f64..0.95).prop_flat_map(move |p| {
        prop::collection::vec(prop::bool::weighted(p), num_hours as usize).prop_map(hours_of)
    });
    let one_day =
        (0..days.max(1), prop::collection::vec(any::<bool>(), 24)).prop_map(|(day, mask)| {
            hours_of(mask)
                .into_iter()
                .map(|hour| 24 * day + hour)
                .collect()
        });
    prop_oneof![
        2 => Just((0..num_hours).collect()),
        2 => block,
        3 => subset,
        1 => one_day,
    ]
}

/// The indexes of the `true` entries.
fn hours_of(mask: Vec<bool>) -> Vec<u32> {
    (0u32..)
        .zip(mask)
        .filter_map(|(hour, present)| present.then_some(hour))
        .collect()
}

/// Seconds per present hour: mostly the whole hour, else whole or fractional seconds.
fn pod_seconds() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => Just(3600.0),
        1 => (1u32..=3600).prop_map(f64::from),
        1 => 0.5f64..3600.0,
    ]
}

/// Cores used, requested or allowed: zero, hundredths up to 4, or any value below 4.
fn cores() -> impl Strategy<Value = f64> {
    prop_oneof![
        1 => Just(0.0),
        2 => (1u32..=400).prop_map(|c| f64::from(c) / 100.0),
        2 => 0.001f64..4.0,
    ]
}

/// Bytes used, requested or allowed: zero, eighths of a GiB up to 8 GiB, or any byte count.
fn bytes() -> impl Strategy<Value = f64> {
    prop_oneof![
        1 => Just(0.0),
        2 => (1u32..=64).prop_map(|e| f64::from(e) * GIB / 8.0),
        2 => (1u64..8u64 << 30).prop_map(|b| b as f64),
    ]
}

/// A pod's placement and labels: (namespace, node, labels).
type Placement = (String, String, Vec<(String, String)>);

/// Namespace (a listed one four times in five, else any of [`NAMESPACE_NAMES`]), node (one of
/// `nodes`, or `""` one time in six and always when there is no node) and labels.
fn placement(nodes: Vec<String>, listed: Vec<String>) -> impl Strategy<Value = Placement> {
    let any_namespace = select(NAMESPACE_NAMES.to_vec()).prop_map(String::from);
    let namespace = if listed.is_empty() {
        any_namespace.boxed()
    } else {
        prop_oneof![4 => select(listed), 1 => any_namespace].boxed()
    };
    let node = if nodes.is_empty() {
        Just(String::new()).boxed()
    } else {
        prop_oneof![5 => select(nodes), 1 => Just(String::new())].boxed()
    };
    (namespace, node, label_set())
}

/// Usage, request and limit: cores (CPU) then bytes (memory).
type Resources = ((f64, f64, f64), (f64, f64, f64));

fn resources() -> impl Strategy<Value = Resources> {
    ((cores(), cores(), cores()), (bytes(), bytes(), bytes()))
}

/// 0..=`max` pods named `pod-00`, `pod-01`, ... (no pods one time in thirteen).
pub fn pods(
    max: usize,
    nodes: Vec<String>,
    listed: Vec<String>,
    num_hours: u32,
) -> impl Strategy<Value = Vec<PodModel>> {
    let pod = (
        placement(nodes, listed),
        pod_hours(num_hours),
        pod_seconds(),
        resources(),
        prop_oneof![Just(0.0), 0.0f64..=1.0],
    );
    prop_oneof![
        1 => Just(Vec::new()),
        12 => prop::collection::vec(pod, 1..=max.max(1)),
    ]
    .prop_map(move |mut specs| {
        specs.truncate(max);
        name_pods(specs)
    })
}

type PodSpec = (Placement, Vec<u32>, f64, Resources, f64);

fn name_pods(specs: Vec<PodSpec>) -> Vec<PodModel> {
    specs
        .into_iter()
        .enumerate()
        .map(|(i, spec)| {
            let ((namespace, node, labels), hours, pod_seconds, (cpu, memory), variation) = spec;
            PodModel {
                name: format!("pod-{i:02}"),
                namespace,
                node,
                labels,
                hours,
                pod_seconds,
                cpu_usage_cores: cpu.0,
                cpu_request_cores: cpu.1,
                cpu_limit_cores: cpu.2,
                memory_usage_bytes: memory.0,
                memory_request_bytes: memory.1,
                memory_limit_bytes: memory.2,
                usage_variation: variation,
            }
        })
        .collect()
}

/// `pods`, or (one time in four, when some pod runs on a node in two hours or more and there is
/// another node) the same pods with one of them moved: it keeps its hours before a split hour,
/// and a second entry with the same name and namespace runs on another node from the split on.
pub fn with_moved_pod(
    pods: Vec<PodModel>,
    nodes: Vec<String>,
) -> impl Strategy<Value = Vec<PodModel>> {
    let movable: Vec<usize> = (0..pods.len())
        .filter(|&i| !pods[i].node.is_empty() && pods[i].hours.len() >= 2)
        .collect();
    if movable.is_empty() || nodes.len() < 2 {
        return Just(pods).boxed();
    }
    let unmoved = pods.clone();
    let moved =
        (select(movable), any::<Index>(), any::<Index>()).prop_map(move |(i, split, node)| {
            let mut pods = pods.clone();
            let mut second = pods[i].clone();
            second.hours = pods[i]
                .hours
                .split_off(1 + split.index(second.hours.len() - 1));
            let others: Vec<&String> = nodes.iter().filter(|n| **n != second.node).collect();
            second.node = others[node.index(others.len())].clone();
            pods.push(second);
            pods
        });
    prop_oneof![3 => Just(unmoved), 1 => moved].boxed()
}

/// Bytes of a volume or claim: zero, whole GiB up to 100, or any byte count below 1 TiB.
fn storage_bytes() -> impl Strategy<Value = f64> {
    prop_oneof![
        1 => Just(0.0),
        3 => (1u32..=100).prop_map(|g| f64::from(g) * GIB),
        2 => (1u64..1u64 << 40).prop_map(|b| b as f64),
    ]
}

/// 0..=`max` volumes `vol-0`, `vol-1`, ... (none a quarter of the time): class and driver from
/// [`STORAGE_CLASSES`], handle `handle-<i>` or empty, a request and (one time in three) a
/// different capacity, PV labels, and claimless hours one time in three.
pub fn volumes(max: usize, num_hours: u32) -> impl Strategy<Value = Vec<VolumeModel>> {
    let volume = (
        select(STORAGE_CLASSES.to_vec()),
        any::<bool>(),
        storage_bytes(),
        prop_oneof![2 => Just(None), 1 => storage_bytes().prop_map(Some)],
        label_periods(num_hours),
        prop_oneof![2 => Just(Vec::new()), 1 => pod_hours(num_hours)],
    );
    prop_oneof![
        1 => Just(Vec::new()),
        3 => prop::collection::vec(volume, 1..=max.max(1)),
    ]
    .prop_map(move |mut specs| {
        specs.truncate(max);
        let volumes = specs.into_iter().enumerate();
        volumes
            .map(
                |(i, ((class, driver), handle, request, capacity, labels, claimless))| {
                    let mut volume = VolumeModel::new(&format!("vol-{i}"), request);
                    volume.storage_class = class.to_string();
                    volume.csi_driver = driver.to_string();
                    volume.csi_volume_handle = if handle {
                        format!("handle-{i}")
                    } else {
                        String::new()
                    };
                    volume.capacity_bytes = capacity.unwrap_or(request);
                    volume.labels = labels;
                    volume.claimless_hours = claimless;
                    volume
                },
            )
            .collect()
    })
}

/// When a claim reports.
#[derive(Clone, Debug)]
enum ClaimHours {
    /// In the hours its mounting pods report in (their union).
    OfItsPods,
    /// In hours of its own, whatever its pods do.
    Own(Vec<u32>),
}

/// A claim before its pods are resolved: volume, picks among the model's pods, whether
/// [`GHOST_POD`] mounts it too, its namespace when the model has no pods, hours, capacity,
/// usage and labels.
type ClaimSpec = (
    String,
    Vec<Index>,
    bool,
    &'static str,
    ClaimHours,
    f64,
    f64,
    Vec<LabelPeriod>,
);

/// 0..=`max` claims `pvc-00`, `pvc-01`, ... bound to `volumes` (none without volumes). A claim
/// is in the namespace of the first of one to three picked `pods` and mounted by the picked pods
/// of that namespace, and one time in four also by [`GHOST_POD`] (only by it when there are no
/// pods); it reports in its pods' hours or in its own.
pub fn claims(
    max: usize,
    volumes: Vec<String>,
    pods: Vec<PodModel>,
    num_hours: u32,
) -> impl Strategy<Value = Vec<ClaimModel>> {
    if volumes.is_empty() {
        return Just(Vec::new()).boxed();
    }
    let hours = prop_oneof![
        2 => Just(ClaimHours::OfItsPods),
        1 => pod_hours(num_hours).prop_map(ClaimHours::Own),
    ];
    let claim = (
        select(volumes),
        prop::collection::vec(any::<Index>(), 1..=3),
        prop::bool::weighted(0.25),
        select(NAMESPACE_NAMES.to_vec()),
        hours,
        storage_bytes(),
        storage_bytes(),
        label_periods(num_hours),
    );
    prop::collection::vec(claim, 0..=max)
        .prop_map(move |specs| {
            let claims = specs.into_iter().enumerate();
            claims.map(|(i, spec)| claim_of(i, spec, &pods)).collect()
        })
        .boxed()
}

/// Claim number `i` from its spec (see [`claims`]).
fn claim_of(i: usize, spec: ClaimSpec, pods: &[PodModel]) -> ClaimModel {
    let (volume, picks, ghost, fallback, hours, capacity, usage, labels) = spec;
    let picked: Vec<&PodModel> = if pods.is_empty() {
        Vec::new()
    } else {
        picks.iter().map(|p| &pods[p.index(pods.len())]).collect()
    };
    let namespace = picked.first().map_or(fallback, |p| p.namespace.as_str());
    let mut mounting: Vec<&str> = Vec::new();
    for pod in picked.iter().filter(|p| p.namespace == namespace) {
        if !mounting.contains(&pod.name.as_str()) {
            mounting.push(&pod.name);
        }
    }
    if ghost || mounting.is_empty() {
        mounting.push(GHOST_POD);
    }
    let hours = match hours {
        ClaimHours::Own(hours) => hours,
        ClaimHours::OfItsPods => {
            let of_pods = pods
                .iter()
                .filter(|p| p.namespace == namespace && mounting.contains(&p.name.as_str()));
            let hours: BTreeSet<u32> = of_pods.flat_map(|p| p.hours.iter().copied()).collect();
            hours.into_iter().collect()
        }
    };
    let mut claim = ClaimModel::new(&format!("pvc-{i:02}"), namespace, &volume, &mounting, hours);
    claim.capacity_bytes = capacity;
    claim.usage_bytes = usage;
    claim.labels = labels;
    claim
}

/// No operator roles half the time (always without `nodes`), else values of [`OPERATOR_ROLES`]
/// for some of `nodes`.
pub fn operator_roles(nodes: Vec<String>) -> impl Strategy<Value = BTreeMap<String, String>> {
    if nodes.is_empty() {
        return Just(BTreeMap::new()).boxed();
    }
    let count = nodes.len();
    let roles = prop::collection::vec((any::<Index>(), select(OPERATOR_ROLES.to_vec())), 1..=count)
        .prop_map(move |picks| {
            let roles = picks.into_iter();
            roles
                .map(|(node, role)| (nodes[node.index(nodes.len())].clone(), role.to_string()))
                .collect()
        });
    prop_oneof![1 => Just(BTreeMap::new()), 1 => roles].boxed()
}

/// How a `reporting_ocp_nodes` row relates to the model.
#[derive(Clone, Copy, Debug)]
enum Existing {
    /// A node's own identity (node, resource_id, cores, cluster): its first role wins (§6.4).
    SameIdentity,
    /// A node's (node, resource_id) with other cores in [`OTHER_CLUSTER`]: the role lookup spans
    /// the tenant (§12.6).
    OtherCluster,
    /// A node's name with another resource id: never matched (the lookup keys on both).
    OtherResourceId,
    /// A node the model does not have.
    Unrelated,
}

/// 0..=`max` rows of `reporting_ocp_nodes` for a model with `nodes` in cluster `cluster_id`:
/// a node's own identity, its (node, resource_id) in [`OTHER_CLUSTER`], its name with another
/// resource id, or a node the model lacks; with a role of [`OPERATOR_ROLES`] or none; no two
/// with the same identity.
pub fn existing_nodes(
    max: usize,
    nodes: Vec<NodeModel>,
    cluster_id: String,
) -> impl Strategy<Value = Vec<NodeRecord>> {
    let kind = select(vec![
        Existing::SameIdentity,
        Existing::OtherCluster,
        Existing::OtherResourceId,
        Existing::Unrelated,
    ]);
    let role = prop_oneof![
        1 => Just(None),
        4 => select(OPERATOR_ROLES.to_vec()).prop_map(|r| Some(r.to_string())),
    ];
    prop::collection::vec((kind, any::<Index>(), role), 0..=max).prop_map(move |specs| {
        let mut records: Vec<NodeRecord> = Vec::new();
        for (kind, node, role) in specs {
            let node = (!nodes.is_empty()).then(|| &nodes[node.index(nodes.len())]);
            let record = existing_record(kind, node, &cluster_id, role);
            if !records.iter().any(|r| same_identity(r, &record)) {
                records.push(record);
            }
        }
        records
    })
}

/// Whether two rows have the identity koku looks rows up by (§6.4); a table never holds two.
fn same_identity(a: &NodeRecord, b: &NodeRecord) -> bool {
    a.node == b.node
        && a.resource_id == b.resource_id
        && a.node_capacity_cpu_cores == b.node_capacity_cpu_cores
        && a.cluster_id == b.cluster_id
}

/// The row of `kind` for `node` (`Unrelated` without one).
fn existing_record(
    kind: Existing,
    node: Option<&NodeModel>,
    cluster_id: &str,
    node_role: Option<String>,
) -> NodeRecord {
    let record = |name: &str, resource_id: &str, cores: f64, cluster: &str| NodeRecord {
        node: name.to_string(),
        resource_id: Some(resource_id.to_string()),
        node_capacity_cpu_cores: Some(cores),
        cluster_id: Some(cluster.to_string()),
        node_role: node_role.clone(),
    };
    match (kind, node) {
        (Existing::SameIdentity, Some(n)) => {
            record(&n.name, &n.resource_id, n.cpu_cores, cluster_id)
        }
        (Existing::OtherCluster, Some(n)) => {
            record(&n.name, &n.resource_id, n.cpu_cores + 1.0, OTHER_CLUSTER)
        }
        (Existing::OtherResourceId, Some(n)) => record(&n.name, "i-other", n.cpu_cores, cluster_id),
        _ => record("gone-node", "i-gone", 2.0, OTHER_CLUSTER),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::model::labels_at;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn every_model_is_valid_and_small(model in cluster_model()) {
            prop_assert_eq!(model.validate(), Ok(()));
            let config = ModelConfig::default();
            prop_assert!(model.nodes.len() <= config.max_nodes);
            prop_assert!(model.namespaces.len() <= config.max_namespaces);
            // A moved pod adds a second entry of the same pod.
            prop_assert!(model.pods.len() <= config.max_pods + 1);
            prop_assert!((1..=config.max_days).contains(&model.num_days()));
            prop_assert!(model.volumes.len() <= config.max_volumes);
            prop_assert!(model.claims.len() <= config.max_claims);
            prop_assert!(model.existing_nodes.len() <= config.max_existing_nodes);
            prop_assert!(model.volumes.is_empty() <= model.claims.is_empty());
        }

        #[test]
        fn tighter_bounds_are_respected(
            model in cluster_model_with(ModelConfig {
                max_nodes: 1,
                max_namespaces: 0,
                max_pods: 2,
                max_days: 1,
                max_volumes: 0,
                max_claims: 3,
                max_existing_nodes: 0,
                operator_roles: false,
            })
        ) {
            prop_assert_eq!(model.validate(), Ok(()));
            prop_assert!(model.nodes.len() <= 1 && model.namespaces.is_empty());
            // One node: no pod can move.
            prop_assert!(model.pods.len() <= 2 && model.num_days() == 1);
            prop_assert!(model.volumes.is_empty() && model.claims.is_empty());
            prop_assert!(model.existing_nodes.is_empty());
            prop_assert!(model.operator_node_roles.is_empty());
        }
    }

    /// What a sample of models contains; each count must be non-zero.
    #[derive(Debug, Default)]
    struct Coverage {
        no_enabled_keys: usize,
        some_enabled_keys: usize,
        nodeless_pods: usize,
        pods_without_hours: usize,
        sparse_pods: usize,
        partial_hour_pods: usize,
        mid_day_node_label_change: usize,
        mid_day_namespace_label_change: usize,
        key_on_node_namespace_and_pod: usize,
        namespace_matching_two_patterns: usize,
        ends_on_last_day_of_month: usize,
        leap_day: usize,
        months_of_28: usize,
        months_of_29: usize,
        months_of_30: usize,
        months_of_31: usize,
        no_node_label_report: usize,
        no_namespace_label_report: usize,
        fractional_cores: usize,
        unlisted_namespace: usize,
        no_pods: usize,
        non_ascii_label: usize,
        moved_pod: usize,
        no_volumes: usize,
        claimless_volume: usize,
        capacity_differs_from_request: usize,
        empty_csi_handle: usize,
        volume_on_two_nodes: usize,
        volume_with_two_claims: usize,
        claim_mounted_by_two_pods: usize,
        claim_with_ghost_pod: usize,
        claim_with_own_hours: usize,
        key_on_pv_and_pvc: usize,
        operator_roles: usize,
        control_plane_role: usize,
        empty_role: usize,
        infra_label: usize,
        decoy_role_label: usize,
        apiserver_pod_on_node: usize,
        existing_same_identity: usize,
        existing_other_cluster: usize,
        existing_without_role: usize,
    }

    /// The patterns of [`COST_CATEGORY_PATTERNS`] each namespace matches, worked out by hand.
    const PATTERNS_MATCHED: [(&str, &[&str]); 7] = [
        (
            "openshift-monitoring",
            &["openshift-%", "openshift-mon%", "%-%ing"],
        ),
        ("openshift-kube-apiserver", &["openshift-%"]),
        ("openshift", &["openshift"]),
        ("kube-system", &["%-system", "kube-system"]),
        ("app-a", &["app-_", "_pp-%"]),
        ("app-b", &["app-_", "_pp-%"]),
        ("payments-system", &["%-system"]),
    ];

    fn mid_day_change(periods: &[LabelPeriod]) -> bool {
        periods.iter().skip(1).any(|p| p.from_hour % 24 != 0)
    }

    fn has_key(labels: &[(String, String)], key: &str) -> bool {
        labels.iter().any(|(k, _)| k == key)
    }

    impl Coverage {
        fn add(&mut self, m: &ClusterModel) {
            let count = |flag: bool| usize::from(flag);
            let month_days = days_in_month(m.year, m.month);
            self.no_enabled_keys += count(m.enabled_tag_keys.is_empty());
            self.some_enabled_keys += count(!m.enabled_tag_keys.is_empty());
            self.nodeless_pods += count(m.pods.iter().any(|p| p.node.is_empty()));
            self.pods_without_hours += count(m.pods.iter().any(|p| p.hours.is_empty()));
            self.sparse_pods += count(
                m.pods
                    .iter()
                    .any(|p| !p.hours.is_empty() && p.hours.len() < m.num_hours() as usize),
            );
            self.partial_hour_pods += count(m.pods.iter().any(|p| p.pod_seconds < 3600.0));
            self.mid_day_node_label_change +=
                count(m.nodes.iter().any(|n| mid_day_change(&n.labels)));
            self.mid_day_namespace_label_change +=
                count(m.namespaces.iter().any(|n| mid_day_change(&n.labels)));
            self.key_on_node_namespace_and_pod += count(LABEL_KEYS.iter().any(|(key, _)| {
                m.nodes
                    .iter()
                    .any(|n| has_key(labels_at(&n.labels, 0), key))
                    && m.namespaces
                        .iter()
                        .any(|n| has_key(labels_at(&n.labels, 0), key))
                    && m.pods.iter().any(|p| has_key(&p.labels, key))
            }));
            self.namespace_matching_two_patterns += count(m.pods.iter().any(|p| {
                let matches = PATTERNS_MATCHED
                    .iter()
                    .find(|(ns, _)| *ns == p.namespace)
                    .map_or(&[][..], |(_, patterns)| *patterns);
                let present =
                    |pattern: &&&str| m.cost_category_patterns.iter().any(|(q, _)| q == **pattern);
                matches.iter().filter(present).count() >= 2
            }));
            self.ends_on_last_day_of_month += count(m.last_day == month_days);
            self.leap_day += count(m.month == 2 && m.last_day == 29);
            self.months_of_28 += count(month_days == 28);
            self.months_of_29 += count(month_days == 29);
            self.months_of_30 += count(month_days == 30);
            self.months_of_31 += count(month_days == 31);
            self.no_node_label_report += count(!m.write_node_labels);
            self.no_namespace_label_report += count(!m.write_namespace_labels);
            self.fractional_cores += count(m.nodes.iter().any(|n| n.cpu_cores.fract() != 0.0));
            self.unlisted_namespace += count(
                m.pods
                    .iter()
                    .any(|p| !m.namespaces.iter().any(|n| n.name == p.namespace)),
            );
            self.no_pods += count(m.pods.is_empty());
            self.non_ascii_label += count(
                m.pods
                    .iter()
                    .any(|p| !p.labels.iter().all(|(_, v)| v.is_ascii())),
            );
            self.add_storage(m);
            self.add_roles(m);
        }

        fn add_storage(&mut self, m: &ClusterModel) {
            let count = |flag: bool| usize::from(flag);
            let names: BTreeSet<(&str, &str)> = m
                .pods
                .iter()
                .map(|p| (p.namespace.as_str(), p.name.as_str()))
                .collect();
            self.moved_pod += count(names.len() < m.pods.len());
            self.no_volumes += count(m.volumes.is_empty());
            self.claimless_volume += count(m.volumes.iter().any(|v| !v.claimless_hours.is_empty()));
            self.capacity_differs_from_request += count(
                m.volumes
                    .iter()
                    .any(|v| v.capacity_bytes != v.request_bytes),
            );
            self.empty_csi_handle +=
                count(m.volumes.iter().any(|v| v.csi_volume_handle.is_empty()));
            self.volume_on_two_nodes += count(m.volumes.iter().any(|v| {
                let nodes: BTreeSet<&str> = m
                    .claims
                    .iter()
                    .filter(|c| c.volume == v.name)
                    .flat_map(|c| {
                        m.pods
                            .iter()
                            .filter(move |p| p.namespace == c.namespace && c.pods.contains(&p.name))
                    })
                    .filter(|p| !p.node.is_empty())
                    .map(|p| p.node.as_str())
                    .collect();
                nodes.len() >= 2
            }));
            self.volume_with_two_claims += count(
                m.volumes
                    .iter()
                    .any(|v| m.claims.iter().filter(|c| c.volume == v.name).count() >= 2),
            );
            self.claim_mounted_by_two_pods += count(m.claims.iter().any(|c| {
                c.pods
                    .iter()
                    .filter(|p| names.contains(&(c.namespace.as_str(), p.as_str())))
                    .count()
                    >= 2
            }));
            self.claim_with_ghost_pod += count(
                m.claims
                    .iter()
                    .any(|c| c.pods.iter().any(|p| p == GHOST_POD)),
            );
            self.claim_with_own_hours += count(m.claims.iter().any(|c| {
                let of_pods: BTreeSet<u32> = m
                    .pods
                    .iter()
                    .filter(|p| p.namespace == c.namespace && c.pods.contains(&p.name))
                    .flat_map(|p| p.hours.iter().copied())
                    .collect();
                c.hours != of_pods.into_iter().collect::<Vec<_>>()
            }));
            self.key_on_pv_and_pvc += count(m.claims.iter().any(|c| {
                let volume = m.volume(&c.volume).expect("a listed volume");
                labels_at(&c.labels, 0)
                    .iter()
                    .any(|(k, _)| has_key(labels_at(&volume.labels, 0), k))
            }));
        }

        fn add_roles(&mut self, m: &ClusterModel) {
            let count = |flag: bool| usize::from(flag);
            let roles = &m.operator_node_roles;
            self.operator_roles += count(!roles.is_empty());
            self.control_plane_role += count(roles.values().any(|r| r == "control-plane"));
            self.empty_role += count(roles.values().any(String::is_empty));
            let node_has_label = |key: &str, value: &str| {
                m.nodes.iter().any(|n| {
                    n.labels
                        .iter()
                        .any(|p| p.labels.contains(&(key.to_string(), value.to_string())))
                })
            };
            self.infra_label += count(node_has_label(ROLE_LABELS[0].0, ROLE_LABELS[0].1));
            self.decoy_role_label += count(node_has_label(ROLE_LABELS[2].0, ROLE_LABELS[2].1));
            self.apiserver_pod_on_node += count(
                m.pods
                    .iter()
                    .any(|p| p.namespace == "openshift-kube-apiserver" && !p.node.is_empty()),
            );
            let same = |r: &NodeRecord| {
                m.nodes.iter().any(|n| {
                    r.node == n.name
                        && r.resource_id.as_deref() == Some(n.resource_id.as_str())
                        && r.node_capacity_cpu_cores == Some(n.cpu_cores)
                        && r.cluster_id.as_deref() == Some(m.cluster_id.as_str())
                })
            };
            let existing = &m.existing_nodes;
            self.existing_same_identity += count(existing.iter().any(same));
            self.existing_other_cluster += count(existing.iter().any(|r| {
                r.cluster_id.as_deref() == Some(OTHER_CLUSTER) && m.node(&r.node).is_some()
            }));
            self.existing_without_role += count(existing.iter().any(|r| r.node_role.is_none()));
        }
    }

    #[test]
    fn models_cover_the_cases_the_spec_singles_out() {
        let mut runner = TestRunner::deterministic();
        let strategy = cluster_model();
        let mut coverage = Coverage::default();
        for _ in 0..400 {
            let model = strategy
                .new_tree(&mut runner)
                .expect("the strategy never rejects")
                .current();
            coverage.add(&model);
        }
        let text = format!("{coverage:#?}");
        assert!(
            !text.contains(": 0,"),
            "a case never occurs in 400 models: {text}"
        );
    }
}
