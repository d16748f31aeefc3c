//! Named fixtures: small clusters described in YAML under `fixtures/`, each a worked example from
//! the spec or a case a bug once broke, and the text form their rows are snapshotted in under
//! `golden/`.
//!
//! A fixture describes a [`ClusterModel`] in people's units (cores, GiB, hour ranges):
//!
//! ```yaml
//! description: "§10.4: node alpha, 4 cores, 16 GiB, one pod a full day"
//! year: 2026
//! month: 9
//! days: [1, 1]                 # first and last day covered
//! enabled_tag_keys: [app]      # default: none
//! cost_categories: [["openshift-%", 1]]   # default: koku's seed (see model.rs)
//! nodes:
//!   - { name: alpha, cpu_cores: 4, memory_gib: 16, labels: [{ from_hour: 0, labels: { zone: east } }] }
//! namespaces:
//!   - { name: web, labels: [{ from_hour: 0, labels: { team: a } }] }
//! pods:
//!   - name: pod1
//!     namespace: web
//!     node: alpha              # "" for a pod without a node
//!     hours: ["0-23"]          # hour indexes from 00:00 of the first day: "a-b" ranges or single numbers
//!     cpu: { usage: 1, request: 4, limit: 4 }          # cores
//!     memory_gib: { usage: 2, request: 2, limit: 2 }
//!     labels: { app: web }
//! ```
//!
//! Storage, node roles and koku's node table (all optional):
//!
//! ```yaml
//! nodes:
//!   - { name: alpha, cpu_cores: 4, memory_gib: 16, node_role: control-plane }  # operator's node_role
//! volumes:
//!   - name: pv-1
//!     request_gib: 20          # volume_request_storage_byte_seconds = request · 3600 per claim row
//!     capacity_gib: 20         # the capacity of claimless rows; default request_gib
//!     storage_class: gp3-csi   # default gp3-csi; csi_driver default ebs.csi.aws.com
//!     csi_volume_handle: h-1   # default vol-<name>
//!     labels: [{ from_hour: 0, labels: { app: db } }]
//!     claimless_hours: ["0-23"]   # hours it reports without a claim; default none
//! claims:
//!   - { name: data, namespace: web, volume: pv-1, pods: [pod1], hours: ["0-23"], capacity_gib: 5, usage_gib: 3 }
//! existing_nodes:              # rows already in reporting_ocp_nodes (resource id of a node: i-<name>)
//!   - { node: alpha, resource_id: i-alpha, node_capacity_cpu_cores: 4, cluster_id: test-cluster, node_role: infra }
//! ```
//!
//! A pod that moves node is listed once per node, with the same name and namespace.
//!
//! Expected rows (optional; checked by `harness/tests/expectations.rs`, contract in [`expect`]):
//! each entry selects engine rows by the identifying fields it lists and asserts the metric
//! values it lists, each with its hand arithmetic in a comment. Values are numbers, fractions
//! `"a/b"`, or `null` for an expected NULL.
//!
//! ```yaml
//! expect:
//!   - data_source: Pod                # Pod or Storage; unallocated rows are Pod rows
//!     unallocated: false              # optional: only (not) unallocated rows
//!     usage_start: 2026-09-01
//!     namespace: web                  # null: must be NULL; left out: any
//!     node: alpha
//!     pod_labels: {}                  # also volume_labels, resource_id, persistentvolumeclaim,
//!     cost_category_id: null          # persistentvolume, storageclass
//!     compatibility: both             # trino (default), postgres or both
//!     values:
//!       pod_usage_cpu_core_hours: 24  # 1 core × 24 h
//!       persistentvolumeclaim_capacity_gigabyte_months: null
//!   - { data_source: Storage, rows: 0 }   # rows: N — exactly N rows match (default exactly 1)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub mod expect;

use crate::synth::model::{koku_default_cost_categories, GIB};
use crate::synth::{
    ClaimModel, ClusterModel, LabelPeriod, NamespaceModel, NodeModel, PodModel, VolumeModel,
};
pub use expect::ExpectedRow;
use ocp_engine::compat::Compatibility;
use ocp_engine::config::NodeRecord;
use ocp_engine::summary::{DataSource, Metric, SummaryRow};

/// The repository's fixture files (`fixtures/*.yaml`), sorted by name.
///
/// # Panics
/// When the folder cannot be read: the tests that call this cannot run without it.
pub fn fixture_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read the fixtures folder {}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable folder entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// A fixture file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// What the fixture shows and where its rule is in the spec.
    pub description: String,
    pub year: i32,
    pub month: u32,
    /// First and last day covered.
    pub days: [u32; 2],
    #[serde(default)]
    pub enabled_tag_keys: Vec<String>,
    /// (LIKE pattern, category id); koku's default seed when absent.
    pub cost_categories: Option<Vec<(String, i32)>>,
    #[serde(default = "yes")]
    pub write_node_labels: bool,
    #[serde(default = "yes")]
    pub write_namespace_labels: bool,
    #[serde(default)]
    pub nodes: Vec<FixtureNode>,
    #[serde(default)]
    pub namespaces: Vec<FixtureNamespace>,
    #[serde(default)]
    pub pods: Vec<FixturePod>,
    #[serde(default)]
    pub volumes: Vec<FixtureVolume>,
    #[serde(default)]
    pub claims: Vec<FixtureClaim>,
    /// Rows already in `reporting_ocp_nodes` (spec §6.4).
    #[serde(default)]
    pub existing_nodes: Vec<NodeRecord>,
    /// Rows the engine must write, worked out by hand ([`expect`]); default none.
    #[serde(default)]
    pub expect: Vec<ExpectedRow>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureNode {
    pub name: String,
    pub cpu_cores: f64,
    pub memory_gib: f64,
    #[serde(default)]
    pub labels: Vec<FixtureLabels>,
    /// The `node_role` the operator sends for this node; when any node has one, the pod report
    /// has the column (see [`ClusterModel::operator_node_roles`]).
    pub node_role: Option<String>,
}

/// A persistent volume; sizes in GiB.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureVolume {
    pub name: String,
    pub request_gib: f64,
    /// Default: `request_gib`, as nise writes it.
    pub capacity_gib: Option<f64>,
    /// Default `gp3-csi`.
    pub storage_class: Option<String>,
    /// Default `ebs.csi.aws.com`.
    pub csi_driver: Option<String>,
    /// Default `vol-<name>`.
    pub csi_volume_handle: Option<String>,
    #[serde(default)]
    pub labels: Vec<FixtureLabels>,
    /// Hours in which the volume reports without a claim (`"a-b"` ranges or numbers).
    #[serde(default)]
    pub claimless_hours: Vec<String>,
}

/// A persistent volume claim; sizes in GiB.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureClaim {
    pub name: String,
    pub namespace: String,
    pub volume: String,
    /// Pods mounting the claim (need not be pods of the fixture).
    pub pods: Vec<String>,
    /// `"a-b"` (inclusive) ranges or single hour numbers.
    pub hours: Vec<String>,
    pub capacity_gib: f64,
    #[serde(default)]
    pub usage_gib: f64,
    #[serde(default)]
    pub labels: Vec<FixtureLabels>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureNamespace {
    pub name: String,
    #[serde(default)]
    pub labels: Vec<FixtureLabels>,
}

/// Labels in force from an hour on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureLabels {
    pub from_hour: u32,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixturePod {
    pub name: String,
    pub namespace: String,
    pub node: String,
    /// `"a-b"` (inclusive) ranges or single hour numbers.
    pub hours: Vec<String>,
    /// Seconds run per present hour; default 3600.
    pub pod_seconds: Option<f64>,
    #[serde(default)]
    pub cpu: Amounts,
    #[serde(default)]
    pub memory_gib: Amounts,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// Usage, request and limit, each per present hour.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amounts {
    #[serde(default)]
    pub usage: f64,
    #[serde(default)]
    pub request: f64,
    #[serde(default)]
    pub limit: f64,
}

impl Fixture {
    /// Reads and checks a fixture file; the error names the file.
    pub fn load(path: &Path) -> Result<Fixture, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read fixture {}: {e}", path.display()))?;
        let fixture: Fixture = serde_yaml::from_str(&text)
            .map_err(|e| format!("fixture {} is not valid: {e}", path.display()))?;
        fixture.model().validate().map_err(|e| {
            format!(
                "fixture {} describes an invalid cluster: {e}",
                path.display()
            )
        })?;
        Ok(fixture)
    }

    /// The koku variants the fixture's expectations name, Trino first; none without `expect:`.
    pub fn compatibilities(&self) -> Vec<Compatibility> {
        Compatibility::ALL
            .into_iter()
            .filter(|c| self.expect.iter().any(|e| e.compatibility.includes(*c)))
            .collect()
    }

    /// The cluster the fixture describes.
    pub fn model(&self) -> ClusterModel {
        let mut model = ClusterModel::empty(self.year, self.month, self.days[0], self.days[1]);
        model.enabled_tag_keys = self.enabled_tag_keys.clone();
        model.cost_category_patterns = self
            .cost_categories
            .clone()
            .unwrap_or_else(koku_default_cost_categories);
        model.write_node_labels = self.write_node_labels;
        model.write_namespace_labels = self.write_namespace_labels;
        model.nodes = self.nodes.iter().map(FixtureNode::model).collect();
        model.namespaces = self
            .namespaces
            .iter()
            .map(FixtureNamespace::model)
            .collect();
        model.pods = self.pods.iter().map(FixturePod::model).collect();
        model.volumes = self.volumes.iter().map(FixtureVolume::model).collect();
        model.claims = self.claims.iter().map(FixtureClaim::model).collect();
        model.operator_node_roles = self
            .nodes
            .iter()
            .filter_map(|n| Some((n.name.clone(), n.node_role.clone()?)))
            .collect();
        model.existing_nodes = self.existing_nodes.clone();
        model
    }
}

impl FixtureNode {
    fn model(&self) -> NodeModel {
        NodeModel {
            name: self.name.clone(),
            resource_id: format!("i-{}", self.name),
            cpu_cores: self.cpu_cores,
            memory_bytes: self.memory_gib * GIB,
            labels: periods(&self.labels),
        }
    }
}

impl FixtureVolume {
    fn model(&self) -> VolumeModel {
        let mut volume = VolumeModel::new(&self.name, self.request_gib * GIB);
        volume.capacity_bytes = self.capacity_gib.unwrap_or(self.request_gib) * GIB;
        if let Some(class) = &self.storage_class {
            volume.storage_class = class.clone();
        }
        if let Some(driver) = &self.csi_driver {
            volume.csi_driver = driver.clone();
        }
        if let Some(handle) = &self.csi_volume_handle {
            volume.csi_volume_handle = handle.clone();
        }
        volume.labels = periods(&self.labels);
        volume.claimless_hours = hours(&self.claimless_hours);
        volume
    }
}

impl FixtureClaim {
    fn model(&self) -> ClaimModel {
        let pods: Vec<&str> = self.pods.iter().map(String::as_str).collect();
        let mut claim = ClaimModel::new(
            &self.name,
            &self.namespace,
            &self.volume,
            &pods,
            hours(&self.hours),
        );
        claim.capacity_bytes = self.capacity_gib * GIB;
        claim.usage_bytes = self.usage_gib * GIB;
        claim.labels = periods(&self.labels);
        claim
    }
}

impl FixtureNamespace {
    fn model(&self) -> NamespaceModel {
        NamespaceModel {
            name: self.name.clone(),
            labels: periods(&self.labels),
        }
    }
}

impl FixturePod {
    fn model(&self) -> PodModel {
        let mut pod = PodModel::new(&self.name, &self.namespace, &self.node, hours(&self.hours));
        pod.pod_seconds = self.pod_seconds.unwrap_or(3600.0);
        pod.cpu_usage_cores = self.cpu.usage;
        pod.cpu_request_cores = self.cpu.request;
        pod.cpu_limit_cores = self.cpu.limit;
        pod.memory_usage_bytes = self.memory_gib.usage * GIB;
        pod.memory_request_bytes = self.memory_gib.request * GIB;
        pod.memory_limit_bytes = self.memory_gib.limit * GIB;
        pod.labels = self.labels.clone().into_iter().collect();
        pod
    }
}

fn periods(labels: &[FixtureLabels]) -> Vec<LabelPeriod> {
    labels
        .iter()
        .map(|p| LabelPeriod {
            from_hour: p.from_hour,
            labels: p.labels.clone().into_iter().collect(),
        })
        .collect()
}

/// Expands `"a-b"` ranges and single numbers into sorted, distinct hours. A malformed entry
/// panics with the entry: fixtures are test input, and the message says what to fix.
fn hours(entries: &[String]) -> Vec<u32> {
    let number = |s: &str| -> u32 {
        s.trim()
            .parse()
            .unwrap_or_else(|_| panic!("fixture hour {s:?} is not a number"))
    };
    let mut hours: Vec<u32> = entries
        .iter()
        .flat_map(|entry| match entry.split_once('-') {
            Some((a, b)) => number(a)..=number(b),
            None => number(entry)..=number(entry),
        })
        .collect();
    hours.sort_unstable();
    hours.dedup();
    hours
}

/// The rows in the golden text form: one block per row, key fields on the first line, then each
/// non-NULL metric on its own line (rounded to 9 decimals so the text is stable across platforms
/// and a reviewer can read it), in the engine's row order.
pub fn render_rows(rows: &[SummaryRow]) -> String {
    let mut out = String::new();
    for row in rows {
        out.push_str(&format!(
            "{} {} namespace={} node={} resource_id={} cost_category_id={}\n",
            row.data_source.as_str(),
            row.usage_start,
            shown(row.namespace.as_deref()),
            shown(row.node.as_deref()),
            shown(row.resource_id.as_deref()),
            row.cost_category_id
                .map_or("NULL".to_string(), |id| id.to_string()),
        ));
        match row.data_source {
            DataSource::Pod => out.push_str(&format!(
                "  pod_labels={}\n",
                shown(row.pod_labels_json().as_deref())
            )),
            DataSource::Storage => out.push_str(&format!(
                "  persistentvolumeclaim={} persistentvolume={} storageclass={}\n  volume_labels={}\n",
                shown(row.persistentvolumeclaim.as_deref()),
                shown(row.persistentvolume.as_deref()),
                shown(row.storageclass.as_deref()),
                shown(row.volume_labels_json().as_deref()),
            )),
        }
        for metric in Metric::ALL {
            if let Some(value) = row.metric(metric) {
                out.push_str(&format!("  {:<45} {value:.9}\n", metric.column()));
            }
        }
    }
    out
}

fn shown(value: Option<&str>) -> String {
    value.map_or("NULL".to_string(), |v| format!("{v:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_expand_ranges_and_singles_sorted_and_distinct() {
        let entries = ["5".to_string(), "0-2".to_string(), "2-3".to_string()];
        assert_eq!(hours(&entries), vec![0, 1, 2, 3, 5]);
    }

    #[test]
    fn a_fixture_becomes_the_model_it_describes() {
        let text = r#"
description: "one pod"
year: 2028
month: 2
days: [28, 29]
enabled_tag_keys: [app]
nodes: [{ name: alpha, cpu_cores: 4, memory_gib: 16 }]
pods:
  - { name: p, namespace: web, node: alpha, hours: ["0-23", "30"], cpu: { usage: 1 }, memory_gib: { limit: 2 }, labels: { app: web } }
"#;
        let fixture: Fixture = serde_yaml::from_str(text).unwrap();
        let model = fixture.model();
        model.validate().unwrap();
        assert_eq!((model.first_day, model.last_day), (28, 29));
        assert_eq!(model.nodes[0].memory_bytes, 16.0 * GIB);
        let pod = &model.pods[0];
        assert_eq!(pod.hours.len(), 25);
        assert_eq!(pod.cpu_usage_cores, 1.0);
        assert_eq!(pod.memory_limit_bytes, 2.0 * GIB);
        assert_eq!(pod.labels, vec![("app".to_string(), "web".to_string())]);
        // No cost_categories given: koku's seed.
        assert_eq!(model.cost_category_patterns, koku_default_cost_categories());
        assert!(model.volumes.is_empty() && model.operator_node_roles.is_empty());
    }

    #[test]
    fn storage_roles_and_existing_nodes_become_the_model() {
        let text = r#"
description: "storage"
year: 2026
month: 9
days: [1, 1]
nodes:
  - { name: alpha, cpu_cores: 4, memory_gib: 16, node_role: control-plane }
  - { name: beta, cpu_cores: 2, memory_gib: 8 }
pods:
  - { name: p, namespace: web, node: alpha, hours: ["0-11"] }
  - { name: p, namespace: web, node: beta, hours: ["12-23"] }
volumes:
  - { name: pv-1, request_gib: 20, labels: [{ from_hour: 0, labels: { app: db } }] }
  - { name: pv-2, request_gib: 10, capacity_gib: 12, storage_class: fast, csi_driver: d, csi_volume_handle: h, claimless_hours: ["0-1", "5"] }
claims:
  - { name: data, namespace: web, volume: pv-1, pods: [p, ghost], hours: ["0-23"], capacity_gib: 5, usage_gib: 1.5 }
existing_nodes:
  - { node: alpha, resource_id: i-alpha, node_capacity_cpu_cores: 4, cluster_id: test-cluster, node_role: infra }
  - { node: gone }
"#;
        let fixture: Fixture = serde_yaml::from_str(text).unwrap();
        let model = fixture.model();
        model.validate().unwrap();
        assert_eq!(model.pods.len(), 2); // one pod that moves node
        let (pv1, pv2) = (&model.volumes[0], &model.volumes[1]);
        assert_eq!(
            (pv1.request_bytes, pv1.capacity_bytes),
            (20.0 * GIB, 20.0 * GIB)
        );
        assert_eq!(pv1.csi_volume_handle, "vol-pv-1");
        assert_eq!(
            pv1.labels[0].labels,
            [("app".to_string(), "db".to_string())]
        );
        assert_eq!(pv2.capacity_bytes, 12.0 * GIB);
        assert_eq!(
            (
                pv2.storage_class.as_str(),
                pv2.csi_driver.as_str(),
                pv2.csi_volume_handle.as_str()
            ),
            ("fast", "d", "h")
        );
        assert_eq!(pv2.claimless_hours, [0, 1, 5]);
        let claim = &model.claims[0];
        assert_eq!(claim.pods, ["p", "ghost"]);
        assert_eq!(claim.hours.len(), 24);
        assert_eq!(
            (claim.capacity_bytes, claim.usage_bytes),
            (5.0 * GIB, 1.5 * GIB)
        );
        assert_eq!(
            model.operator_node_roles.into_iter().collect::<Vec<_>>(),
            [("alpha".to_string(), "control-plane".to_string())]
        );
        assert_eq!(model.existing_nodes[0].node_role.as_deref(), Some("infra"));
        assert_eq!(model.existing_nodes[0].node_capacity_cpu_cores, Some(4.0));
        assert_eq!(model.existing_nodes[1].resource_id, None);
    }

    #[test]
    fn every_fixture_file_loads() {
        let files = fixture_files();
        for path in &files {
            Fixture::load(path).unwrap_or_else(|e| panic!("{e}"));
        }
        assert!(files.len() >= 9, "{} fixtures", files.len());
    }
}
