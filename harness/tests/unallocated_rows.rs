//! Unallocated-capacity rows and node roles on small hand-built clusters (spec §3 statement 3,
//! §5 step 5, §6.4).
//!
//! An unallocated row per (node, day) carries the node's capacity minus the sums of the Pod
//! rows' usage, request and effective usage, unclamped. Its namespace comes from the node's role:
//! master or infra → `Platform unallocated`, worker → `Worker unallocated`, anything else (or no
//! role) → NULL. Roles come from koku's node query over the Parquet (operator `node_role`, else
//! master if the node runs `openshift-kube-apiserver`, else infra by node label, else worker;
//! only nodes with node-label rows), merged into `reporting_ocp_nodes` where the first role
//! recorded wins. Values are worked out by hand next to each assertion.

mod common;

use common::*;
use ocp_engine::config::NodeRecord;
use ocp_engine::summary::{Metric, SummaryRow};
use ocp_harness::scenario::Scenario;
use ocp_harness::synth::model::GIB;
use ocp_harness::synth::ClusterModel;

/// 2026-09-01, one node `n1` (2 cores, 8 GiB) running pod `app` in namespace `shop` all day:
/// 0.5 cores used, 3 cores requested (above capacity), 1 GiB used, 2 GiB requested. Node labels
/// are reported (empty), so koku's node query finds the node.
fn overcommitted() -> ClusterModel {
    let mut model = ClusterModel::empty(2026, 9, 1, 1);
    model.nodes = vec![node("n1", 2.0, 8.0, Vec::new())];
    model.namespaces = vec![namespace("shop", Vec::new())];
    let mut app = pod("app", "shop", "n1", hours(0..24), 0.5, 1.0);
    app.cpu_request_cores = 3.0;
    app.memory_request_bytes = 2.0 * GIB;
    model.pods = vec![app];
    model
}

/// The model's unallocated rows.
async fn unallocated(model: ClusterModel) -> Vec<SummaryRow> {
    let scenario = Scenario::write(model).expect("model writes");
    let report = scenario.run().await.expect("engine run succeeds");
    report
        .rows
        .into_iter()
        .filter(|r| r.is_unallocated())
        .collect()
}

/// Requests above capacity give negative unallocated values (no clamping, §3 statement 3).
/// Capacity: 2 cores · 24 h = 48 core-hours, 8 GiB · 24 h = 192 GiB-hours.
/// - usage: 48 − 0.5 · 24 = 36; request: 48 − 3 · 24 = −24; effective (max(usage, request) per
///   hour = 3): 48 − 72 = −24.
/// - memory usage 192 − 24 = 168; request 192 − 48 = 144; effective max(1, 2) · 24 = 48 → 144.
/// The node has label rows, no apiserver namespace, no infra label: worker →
/// `Worker unallocated`; koku's default patterns match none of it: cost category NULL. Labels
/// NULL (all_labels `{}`), limits NULL, capacity columns copied.
#[tokio::test]
async fn requests_above_capacity_give_negative_unallocated() {
    let rows = unallocated(overcommitted()).await;
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let row = &rows[0];
    assert_eq!(row.namespace.as_deref(), Some("Worker unallocated"));
    assert_eq!(row.node.as_deref(), Some("n1"));
    assert_eq!(row.resource_id.as_deref(), Some("i-n1"));
    assert_eq!(row.cost_category_id, None);
    assert_eq!(row.pod_labels, None);
    assert_eq!(row.all_labels_json(), "{}");
    assert_eq!(row.metric(Metric::PodLimitCpuCoreHours), None);
    assert_eq!(row.metric(Metric::PodLimitMemoryGigabyteHours), None);
    assert_metrics(
        row,
        &[
            (Metric::PodUsageCpuCoreHours, 36.0),
            (Metric::PodRequestCpuCoreHours, -24.0),
            (Metric::PodEffectiveUsageCpuCoreHours, -24.0),
            (Metric::PodUsageMemoryGigabyteHours, 168.0),
            (Metric::PodRequestMemoryGigabyteHours, 144.0),
            (Metric::PodEffectiveUsageMemoryGigabyteHours, 144.0),
            (Metric::NodeCapacityCpuCores, 2.0),
            (Metric::NodeCapacityCpuCoreHours, 48.0),
            (Metric::NodeCapacityMemoryGigabytes, 8.0),
            (Metric::NodeCapacityMemoryGigabyteHours, 192.0),
            (Metric::ClusterCapacityCpuCoreHours, 48.0),
            (Metric::ClusterCapacityMemoryGigabyteHours, 192.0),
        ],
    );
}

/// A node carrying the label `node_role_kubernetes_io: infra` is infra (koku tests the raw label
/// text with LIKE '%"node_role_kubernetes_io": "infra"%', §6.4) → `Platform unallocated`, whether
/// or not the key is enabled. koku's seed pattern `Platform unallocated` puts it in the Platform
/// category (the model's default catalog gives that pattern id 1).
#[tokio::test]
async fn infra_labelled_node_is_platform() {
    let mut model = overcommitted();
    model.nodes[0].labels = always(&[("node_role_kubernetes_io", "infra")]);
    let rows = unallocated(model.clone()).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].namespace.as_deref(), Some("Platform unallocated"));
    let platform = model
        .cost_category_patterns
        .iter()
        .find(|(pattern, _)| pattern == "Platform unallocated")
        .map(|(_, id)| *id);
    assert_eq!(rows[0].cost_category_id, platform);
}

/// A node running the `openshift-kube-apiserver` namespace is a master → `Platform
/// unallocated`. The apiserver pod (0 use, 0 request) adds nothing to the sums, so values are
/// those of the overcommitted case (usage 36).
#[tokio::test]
async fn node_running_the_apiserver_is_master() {
    let mut model = overcommitted();
    model
        .namespaces
        .push(namespace("openshift-kube-apiserver", Vec::new()));
    model.pods.push(pod(
        "kube-apiserver-n1",
        "openshift-kube-apiserver",
        "n1",
        hours(0..24),
        0.0,
        0.0,
    ));
    let rows = unallocated(model).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].namespace.as_deref(), Some("Platform unallocated"));
    assert_metrics(&rows[0], &[(Metric::PodUsageCpuCoreHours, 36.0)]);
}

/// A node without node-label rows is not returned by koku's node query (its WHERE on the label
/// table makes the join inner, §6.4), so it has no role: the unallocated row is still written,
/// with a NULL namespace and no cost category (NULL LIKE matches nothing).
#[tokio::test]
async fn node_missing_from_the_node_table_has_a_null_namespace() {
    let mut model = overcommitted();
    model.write_node_labels = false;
    let rows = unallocated(model).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].namespace, None);
    assert_eq!(rows[0].cost_category_id, None);
    assert_metrics(&rows[0], &[(Metric::PodRequestCpuCoreHours, -24.0)]);
}

/// The operator's `node_role` wins over koku's guess (§6.4 `coalesce(max(node_role), ...)`):
/// `control-plane` is none of master, infra, worker → NULL namespace (§12.5).
#[tokio::test]
async fn operator_role_outside_the_three_gives_a_null_namespace() {
    let mut model = overcommitted();
    model
        .operator_node_roles
        .insert("n1".to_string(), "control-plane".to_string());
    let rows = unallocated(model).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].namespace, None);
}

/// A role already recorded in `reporting_ocp_nodes` for the same (node, resource_id, cores,
/// cluster) stays (first role wins): recorded `master` beats the discovered `worker` →
/// `Platform unallocated`. A recorded row of another cluster with a larger role (`worker` >
/// `master` as strings) is still part of the tenant-wide `max(node_role)` lookup (§12.6), so
/// adding one turns the node back into a worker.
#[tokio::test]
async fn recorded_role_wins_and_the_lookup_spans_clusters() {
    let mut model = overcommitted();
    let recorded = |cluster: &str, role: &str| NodeRecord {
        node: "n1".to_string(),
        resource_id: Some("i-n1".to_string()),
        node_capacity_cpu_cores: Some(2.0),
        cluster_id: Some(cluster.to_string()),
        node_role: Some(role.to_string()),
    };
    model.existing_nodes = vec![recorded(&model.cluster_id.clone(), "master")];
    let rows = unallocated(model.clone()).await;
    assert_eq!(rows[0].namespace.as_deref(), Some("Platform unallocated"));

    model
        .existing_nodes
        .push(recorded("another-cluster", "worker"));
    let rows = unallocated(model).await;
    assert_eq!(rows[0].namespace.as_deref(), Some("Worker unallocated"));
}

/// Cost categories are joined after aggregation without grouping (§3 statement 3 final select):
/// two patterns matching `Worker unallocated` give two rows with the same values, one per id.
#[tokio::test]
async fn overlapping_patterns_duplicate_the_unallocated_row() {
    let mut model = overcommitted();
    model.cost_category_patterns =
        vec![("Worker%".to_string(), 7), ("%unallocated".to_string(), 8)];
    let rows = unallocated(model).await;
    let mut ids: Vec<Option<i32>> = rows.iter().map(|r| r.cost_category_id).collect();
    ids.sort();
    assert_eq!(ids, vec![Some(7), Some(8)]);
    for row in &rows {
        assert_metrics(row, &[(Metric::PodUsageCpuCoreHours, 36.0)]);
    }
}
