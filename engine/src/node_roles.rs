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

use uuid::Uuid;

use crate::capacity::NullableFold;
use crate::catalog::CatalogNode;
use crate::compat::Compatibility;
use crate::config::NodeRecord;
use crate::inputs::{Inputs, NameId, NODE_CAPACITY_CPU_CORES};
use crate::like::like_in;
use crate::numeric::cents;

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

/// Runs koku's node query (its Trino text, or its PostgreSQL port: `compat`) over the window's
/// inputs, sorted by (node, resource_id).
pub fn discover_nodes(inputs: &Inputs, compat: Compatibility) -> Vec<DiscoveredNode> {
    /// What the node query aggregates per (node, resource_id).
    #[derive(Default)]
    struct Seen {
        cores: Option<f64>,
        operator_role: Option<NameId>,
        runs_api_server: bool,
    }
    let labelled = labelled_nodes(inputs, compat);
    let mut seen: HashMap<(NameId, Option<NameId>), Seen> = HashMap::new();
    for pod in inputs.pod_days.iter() {
        let Some(node) = pod.node else { continue };
        if !labelled.contains_key(&node) {
            continue; // the WHERE on the label table makes koku's LEFT JOIN an inner join
        }
        let entry = seen.entry((node, pod.resource_id)).or_default();
        entry
            .cores
            .maximize(pod.values.get(NODE_CAPACITY_CPU_CORES));
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
fn labelled_nodes(inputs: &Inputs, compat: Compatibility) -> HashMap<NameId, bool> {
    let mut labelled: HashMap<NameId, bool> = HashMap::new();
    for &(_, node, raw) in &inputs.node_labels {
        let Some(node) = node else { continue };
        let infra =
            raw.is_some_and(|raw| like_in(compat, inputs.raw_labels.text(raw), INFRA_PATTERN));
        *labelled.entry(node).or_default() |= infra;
    }
    labelled
}

/// What koku's node step does to `reporting_ocp_nodes` for one run (spec §6.4), decided here and
/// only here: the unallocated rows read [`NodeRecording::table`], and the PostgreSQL sink writes
/// [`NodeRecording::added`] and [`NodeRecording::filled`] and nothing else.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeRecording {
    /// The table after the step: the rows before it, roles filled, the new rows appended.
    pub table: Vec<NodeRecord>,
    /// Rows the step adds to the run's cluster, cores as the column stores them.
    pub added: Vec<NodeRecord>,
    /// Stored rows whose missing role the step fills: the row's `uuid` and the role.
    pub filled: Vec<(Uuid, String)>,
}

/// koku's `populate_node_table` (spec §6.4) for the nodes `discovered` by this run, over the rows
/// of `existing` (every cluster of the tenant). A discovered node matches a row of the run's
/// cluster ([`CatalogNode::of_run_cluster`]) with the same node, resource id and cores as
/// numeric(18,2) stores them ([`cents`]; NULL matches NULL). A matching row without a role (NULL
/// or `''`, both missing to koku's Python `not node_role`) takes the discovered one; a matching
/// row with a role keeps it: the first role wins. A node without a matching row is added.
pub fn record_nodes(
    existing: &[CatalogNode],
    discovered: &[DiscoveredNode],
    run_cluster_id: &str,
) -> NodeRecording {
    let mut recording = NodeRecording {
        table: existing.iter().map(|n| n.record.clone()).collect(),
        ..NodeRecording::default()
    };
    for found in discovered {
        let cores = found.node_capacity_cpu_cores.and_then(cents);
        let matching = existing.iter().position(|row| {
            row.of_run_cluster(run_cluster_id)
                && row.record.node == found.node
                && row.record.resource_id == found.resource_id
                && row.record.node_capacity_cpu_cores.and_then(cents) == cores
        });
        match matching {
            Some(i)
                if recording.table[i]
                    .node_role
                    .as_deref()
                    .is_none_or(str::is_empty) =>
            {
                recording.table[i].node_role = Some(found.node_role.clone());
                if let Some(uuid) = existing[i].uuid {
                    recording.filled.push((uuid, found.node_role.clone()));
                }
            }
            Some(_) => {}
            None => {
                let row = NodeRecord {
                    node: found.node.clone(),
                    resource_id: found.resource_id.clone(),
                    node_capacity_cpu_cores: cores.map(|c| c as f64 / 100.0),
                    cluster_id: Some(run_cluster_id.to_string()),
                    node_role: Some(found.node_role.clone()),
                };
                recording.table.push(row.clone());
                recording.added.push(row);
            }
        }
    }
    recording
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

    /// An inline catalog's row: its cluster told by the cluster id.
    fn inline(record: NodeRecord) -> CatalogNode {
        CatalogNode {
            record,
            uuid: None,
            run_cluster: None,
        }
    }

    /// A row read from PostgreSQL, of the run's cluster or not.
    fn stored(record: NodeRecord, uuid: u128, of_run_cluster: bool) -> CatalogNode {
        CatalogNode {
            record,
            uuid: Some(Uuid::from_u128(uuid)),
            run_cluster: Some(of_run_cluster),
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
            &[inline(record(4.0, "c", Some("infra")))],
            &[found(4.0, "worker")],
            "c",
        );
        assert_eq!(kept.table, vec![record(4.0, "c", Some("infra"))]);
        assert_eq!((kept.added.len(), kept.filled.len()), (0, 0));
        for missing in [None, Some("")] {
            let filled = record_nodes(
                &[stored(record(4.0, "c", missing), 7, true)],
                &[found(4.0, "worker")],
                "c",
            );
            assert_eq!(filled.table, vec![record(4.0, "c", Some("worker"))]);
            assert_eq!(
                filled.filled,
                vec![(Uuid::from_u128(7), "worker".to_string())]
            );
            assert!(filled.added.is_empty());
        }
        // Cores compare as numeric(18,2): 4.001 is 4.00, 4.5 is another row; another cluster's
        // row is never matched.
        let same = record_nodes(
            &[inline(record(4.0, "c", Some("infra")))],
            &[found(4.001, "worker")],
            "c",
        );
        assert_eq!(same.table.len(), 1);
        let added = record_nodes(
            &[inline(record(4.0, "x", Some("infra")))],
            &[found(4.5, "worker")],
            "c",
        );
        assert_eq!(
            added.table,
            vec![
                record(4.0, "x", Some("infra")),
                record(4.5, "c", Some("worker"))
            ]
        );
        assert_eq!(added.added, vec![record(4.5, "c", Some("worker"))]);
    }

    #[test]
    fn cores_match_as_postgresql_stores_the_double_in_numeric_18_2() {
        // 1.005 is 1.00499999999999989… in binary; PostgreSQL casts float8 through 15
        // significant digits (1.00500000000000) and rounds half away from zero: 1.01. A row
        // stored as 1.01 is the same node; a new row of 1.005 cores is written as 1.01.
        let matched = record_nodes(
            &[stored(record(1.01, "c", None), 1, true)],
            &[found(1.005, "worker")],
            "c",
        );
        assert_eq!(
            matched.filled,
            vec![(Uuid::from_u128(1), "worker".to_string())]
        );
        let added = record_nodes(&[], &[found(1.005, "worker")], "c");
        assert_eq!(added.added[0].node_capacity_cpu_cores, Some(1.01));
    }

    #[test]
    fn a_row_of_a_cluster_another_source_recorded_is_not_the_run_clusters() {
        // koku's populate_cluster_table picks the cluster by the source (provider), not by the
        // cluster id: a row recorded under another source, even with the same cluster id, is
        // another cluster's; the run adds its own row.
        let other = stored(record(4.0, "c", Some("infra")), 1, false);
        let recording = record_nodes(&[other], &[found(4.0, "worker")], "c");
        assert!(recording.filled.is_empty());
        assert_eq!(recording.added, vec![record(4.0, "c", Some("worker"))]);
        assert_eq!(recording.table.len(), 2);
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
        let like = |value: &str, pattern: &str| like_in(Compatibility::Trino, value, pattern);
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
