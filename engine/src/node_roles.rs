//! Node roles (spec §6.4): what koku records in `reporting_ocp_nodes` before the summary runs,
//! and the role the unallocated rows look up.
//!
//! koku's node query reads the daily pod rows in the window joined to the node-label rows of the
//! window on the node name only; its WHERE clause on the label table's partition and window turns
//! that LEFT JOIN into an inner join, so a node without node-label rows gets no role at all. Per
//! (node, resource_id) the role is the operator's `node_role` when sent (`max`), else `master`
//! when the node ran the `openshift-kube-apiserver` namespace, else `infra` when a raw node-label
//! text contains `"node_role_kubernetes_io": "infra"`, else `worker`.
//!
//! koku then adds a row only for a (node, resource_id, cores, cluster) it has not recorded yet and
//! fills a recorded row's role only when it has none: the first role recorded wins. The
//! unallocated rows take `max(node_role)` per (node, resource_id) over the whole table, every
//! cluster of the tenant included (spec §12.6).

use std::collections::HashMap;

use crate::capacity::NullableFold;
use crate::config::NodeRecord;
use crate::inputs::{Inputs, NameId};
use crate::like::like;

/// The namespace whose presence makes a node a master.
const API_SERVER_NAMESPACE: &str = "openshift-kube-apiserver";
/// koku's LIKE pattern for `infra` over a raw node-label text (Python `json.dumps` spacing). Its
/// `_` are LIKE wildcards, so `"node-role.kubernetes.io": "infra"` matches too, as in koku.
const INFRA_PATTERN: &str = r#"%"node_role_kubernetes_io": "infra"%"#;

/// A node as koku's node query reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveredNode {
    pub node: String,
    pub resource_id: Option<String>,
    /// `max(node_capacity_cpu_cores)` over the node's daily pod rows.
    pub node_capacity_cpu_cores: Option<f64>,
    pub node_role: String,
}

/// Runs koku's node query over the window's inputs, sorted by (node, resource_id).
pub fn discover_nodes(inputs: &Inputs) -> Vec<DiscoveredNode> {
    /// What the node query aggregates per (node, resource_id).
    #[derive(Default)]
    struct Seen {
        cores: Option<f64>,
        operator_role: Option<NameId>,
        runs_api_server: bool,
    }
    let labelled = labelled_nodes(inputs);
    let mut seen: HashMap<(NameId, Option<NameId>), Seen> = HashMap::new();
    for pod in &inputs.pod_days {
        let Some(node) = pod.node else { continue };
        if !labelled.contains_key(&node) {
            continue; // the WHERE on the label table makes koku's LEFT JOIN an inner join
        }
        let entry = seen.entry((node, pod.resource_id)).or_default();
        entry.cores.maximize(pod.node_capacity_cpu_cores);
        entry.operator_role = inputs.max_name(entry.operator_role, pod.node_role);
        entry.runs_api_server |= pod
            .namespace
            .is_some_and(|ns| inputs.names.text(ns) == API_SERVER_NAMESPACE);
    }
    let name = |id: NameId| inputs.names.text(id).to_string();
    let mut nodes: Vec<DiscoveredNode> = seen
        .into_iter()
        .map(|((node, resource_id), s)| {
            let node_role = match s.operator_role {
                Some(role) => name(role),
                None if s.runs_api_server => "master".to_string(),
                None if labelled[&node] => "infra".to_string(),
                None => "worker".to_string(),
            };
            DiscoveredNode {
                node: name(node),
                resource_id: resource_id.map(name),
                node_capacity_cpu_cores: s.cores,
                node_role,
            }
        })
        .collect();
    nodes.sort_by(|a, b| (&a.node, &a.resource_id).cmp(&(&b.node, &b.resource_id)));
    nodes
}

/// The nodes with at least one node-label row in the window, each with whether any of its raw
/// label texts carries the infra label.
fn labelled_nodes(inputs: &Inputs) -> HashMap<NameId, bool> {
    let mut labelled: HashMap<NameId, bool> = HashMap::new();
    for &(_, node, raw) in &inputs.node_labels {
        let Some(node) = node else { continue };
        let infra = raw.is_some_and(|raw| like(inputs.raw_labels.text(raw), INFRA_PATTERN));
        *labelled.entry(node).or_default() |= infra;
    }
    labelled
}

/// `reporting_ocp_nodes` after koku records `discovered` for `cluster_id`: `existing` plus the
/// new rows, with roles filled where a matching row had none (first role wins).
pub fn record_nodes(
    existing: &[NodeRecord],
    discovered: &[DiscoveredNode],
    cluster_id: &str,
) -> Vec<NodeRecord> {
    let mut table = existing.to_vec();
    for found in discovered {
        let cores = found.node_capacity_cpu_cores.map(round_cents);
        let matching = table.iter_mut().find(|row| {
            row.node == found.node
                && row.resource_id == found.resource_id
                && row.node_capacity_cpu_cores.map(round_cents) == cores
                && row.cluster_id.as_deref() == Some(cluster_id)
        });
        match matching {
            // koku fills when `not tmp_node.node_role`: Python treats '' as missing too.
            Some(row) if row.node_role.as_deref().is_none_or(str::is_empty) => {
                row.node_role = Some(found.node_role.clone())
            }
            Some(_) => {}
            None => table.push(NodeRecord {
                node: found.node.clone(),
                resource_id: found.resource_id.clone(),
                node_capacity_cpu_cores: cores,
                cluster_id: Some(cluster_id.to_string()),
                node_role: Some(found.node_role.clone()),
            }),
        }
    }
    table
}

/// A value as koku's `numeric(18,2)` column stores it.
pub fn round_cents(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// `max(node_role)` by node, then resource id.
pub type RoleLookup = HashMap<String, HashMap<String, String>>;

/// `cte_node_role`: `max(node_role)` per (node, resource_id) over the whole table. Rows with a
/// NULL resource id are left out: the unallocated join on `resource_id =` never matches them.
pub fn role_lookup(table: &[NodeRecord]) -> RoleLookup {
    let mut roles = RoleLookup::new();
    for row in table {
        let (Some(resource_id), Some(role)) = (&row.resource_id, &row.node_role) else {
            continue;
        };
        let entry = roles
            .entry(row.node.clone())
            .or_default()
            .entry(resource_id.clone())
            .or_insert_with(|| role.clone());
        if role > entry {
            *entry = role.clone();
        }
    }
    roles
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(cores: f64, cluster: &str, role: Option<&str>) -> NodeRecord {
        NodeRecord {
            node: "n1".into(),
            resource_id: Some("i-1".into()),
            node_capacity_cpu_cores: Some(cores),
            cluster_id: Some(cluster.into()),
            node_role: role.map(String::from),
        }
    }

    fn found(cores: f64, role: &str) -> DiscoveredNode {
        DiscoveredNode {
            node: "n1".into(),
            resource_id: Some("i-1".into()),
            node_capacity_cpu_cores: Some(cores),
            node_role: role.into(),
        }
    }

    #[test]
    fn first_recorded_role_wins_and_missing_roles_are_filled() {
        // Spec §6.4 populate_node_table: an existing (node, resource_id, cores, cluster) keeps its
        // role; NULL or '' (Python `not node_role`) is filled.
        let kept = record_nodes(
            &[record(4.0, "c", Some("infra"))],
            &[found(4.0, "worker")],
            "c",
        );
        assert_eq!(kept, vec![record(4.0, "c", Some("infra"))]);
        for missing in [None, Some("")] {
            let filled = record_nodes(&[record(4.0, "c", missing)], &[found(4.0, "worker")], "c");
            assert_eq!(filled, vec![record(4.0, "c", Some("worker"))]);
        }
        // Cores compare as numeric(18,2): 4.001 is 4.00, 4.5 is another row; another cluster's
        // row is never matched.
        let same = record_nodes(
            &[record(4.0, "c", Some("infra"))],
            &[found(4.001, "worker")],
            "c",
        );
        assert_eq!(same.len(), 1);
        let added = record_nodes(
            &[record(4.0, "x", Some("infra"))],
            &[found(4.5, "worker")],
            "c",
        );
        assert_eq!(
            added,
            vec![
                record(4.0, "x", Some("infra")),
                record(4.5, "c", Some("worker"))
            ]
        );
    }

    #[test]
    fn lookup_takes_the_largest_role_and_skips_null_resource_ids() {
        // `max(node_role)` as strings: worker > master > infra (spec §6.4).
        let mut other = record(2.0, "other", Some("master"));
        other.resource_id = None;
        let table = [
            record(4.0, "c", Some("infra")),
            record(4.0, "d", Some("worker")),
            other,
        ];
        let roles = role_lookup(&table);
        assert_eq!(roles.len(), 1);
        assert_eq!(roles["n1"].len(), 1);
        assert_eq!(roles["n1"]["i-1"], "worker");
    }

    #[test]
    fn infra_pattern_has_like_wildcards() {
        // Spec §6.4: koku's LIKE '%"node_role_kubernetes_io": "infra"%', `_` matching any char.
        assert!(like(
            r#"{"node_role_kubernetes_io": "infra"}"#,
            INFRA_PATTERN
        ));
        assert!(like(
            r#"{"a": "b", "node-role.kubernetes.io": "infra"}"#,
            INFRA_PATTERN
        ));
        assert!(!like(
            r#"{"node_role_kubernetes_io":"infra"}"#,
            INFRA_PATTERN
        ));
        assert!(!like(
            r#"{"node_role_kubernetes_io": "worker"}"#,
            INFRA_PATTERN
        ));
    }
}
