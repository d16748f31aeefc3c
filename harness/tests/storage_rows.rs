//! Storage rows of the daily summary on small hand-built clusters (spec §3 Storage branch, §5
//! step 4, §6.3), in both koku variants where they differ (§9.3).
//!
//! Each case builds a [`ClusterModel`] with volumes and claims, writes it as koku's Parquet, runs
//! the engine in-process and checks the Storage rows against values worked out by hand. The
//! arithmetic sits next to each assertion; nothing is copied from the engine's output.
//!
//! Units (§0.1, §6.3): a claim reporting `g` GiB for every hour of a day contributes
//! `g · 2^30 · 86400` byte-seconds; GiB-months divide by `86400 · days_in_month` and multiply by
//! 2^-30, so one full day of `g` GiB in a 31-day month is `g / 31` GiB-months.

mod common;

use common::*;
use ocp_engine::compat::Compatibility;
use ocp_engine::summary::{DataSource, Metric, SummaryRow};
use ocp_harness::scenario::{run_quietly, Scenario};
use ocp_harness::synth::model::GIB;
use ocp_harness::synth::{ClaimModel, ClusterModel, LabelPeriod, VolumeModel};

/// One day, 2026-05-12 (May: 31 days), nodes `node-a` (4 cores, 16 GiB) and `node-b`
/// (2 cores, 8 GiB), namespace `shop`, pods `web-1` on node-a and `web-2` on node-b all day.
fn may_day() -> ClusterModel {
    let mut model = ClusterModel::empty(2026, 5, 12, 12);
    model.nodes = vec![
        node("node-a", 4.0, 16.0, Vec::new()),
        node("node-b", 2.0, 8.0, Vec::new()),
    ];
    model.namespaces = vec![namespace("shop", Vec::new())];
    model.pods = vec![
        pod("web-1", "shop", "node-a", hours(0..24), 1.0, 1.0),
        pod("web-2", "shop", "node-b", hours(0..24), 1.0, 1.0),
    ];
    model
}

/// A claim of `capacity_gib` using `usage_gib`, all day.
fn claim(name: &str, volume: &str, pods: &[&str], capacity_gib: f64, usage_gib: f64) -> ClaimModel {
    let mut claim = ClaimModel::new(name, "shop", volume, pods, hours(0..24));
    claim.capacity_bytes = capacity_gib * GIB;
    claim.usage_bytes = usage_gib * GIB;
    claim
}

/// Runs `model` in `compat` and returns its Storage rows.
async fn storage_rows(model: ClusterModel, compat: Compatibility) -> Vec<SummaryRow> {
    let scenario = Scenario::write(model).expect("model writes");
    let mut request = scenario.request();
    request.compatibility = compat;
    let report = run_quietly(&request).await.expect("engine run succeeds");
    report
        .rows
        .into_iter()
        .filter(|r| r.data_source == DataSource::Storage)
        .collect()
}

/// The Storage row of `node` (None: the row without a node).
#[track_caller]
fn row_on<'a>(rows: &'a [SummaryRow], node: Option<&str>, claim: Option<&str>) -> &'a SummaryRow {
    let found: Vec<&SummaryRow> = rows
        .iter()
        .filter(|r| r.node.as_deref() == node && r.persistentvolumeclaim.as_deref() == claim)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one row on {node:?} for {claim:?} in {rows:#?}"
    );
    found[0]
}

/// An RWX volume mounted through one claim by pods on two nodes (§6.3): one row per node, each
/// with the full capacity; request and usage divided by node_count = 2.
/// PV `shared` requests 20 GiB; claim `data` has 10 GiB capacity and uses 4 GiB, mounted by
/// web-1 (node-a) and web-2 (node-b), so the storage report has a row per pod per hour.
/// - capacity_gigabyte = max(10 GiB) · 2^-30 = 10 (not summed over pods: a max).
/// - capacity GiB-months = 10 GiB · 86400 s / (86400 · 31) = 10/31 per node row (not divided).
/// - request GiB-months = 20/31 / 2 = 10/31; usage = 4/31 / 2 = 2/31.
#[tokio::test]
async fn rwx_volume_on_two_nodes_splits_request_and_usage() {
    let mut model = may_day();
    model.volumes = vec![VolumeModel::new("shared", 20.0 * GIB)];
    model.claims = vec![claim("data", "shared", &["web-1", "web-2"], 10.0, 4.0)];
    for compat in Compatibility::ALL {
        let rows = storage_rows(model.clone(), compat).await;
        assert_eq!(rows.len(), 2, "{compat}: one row per node: {rows:#?}");
        for (node, resource_id) in [("node-a", "i-node-a"), ("node-b", "i-node-b")] {
            let row = row_on(&rows, Some(node), Some("data"));
            assert_eq!(row.resource_id.as_deref(), Some(resource_id));
            assert_eq!(row.persistentvolume.as_deref(), Some("shared"));
            assert_eq!(row.namespace.as_deref(), Some("shop"));
            assert_metrics(
                row,
                &[
                    (Metric::PersistentvolumeclaimCapacityGigabyte, 10.0),
                    (
                        Metric::PersistentvolumeclaimCapacityGigabyteMonths,
                        10.0 / 31.0,
                    ),
                    (Metric::VolumeRequestStorageGigabyteMonths, 10.0 / 31.0),
                    (Metric::PersistentvolumeclaimUsageGigabyteMonths, 2.0 / 31.0),
                ],
            );
            // Storage rows carry no pod or capacity metric (§3 outer Storage select).
            assert_eq!(row.metric(Metric::PodUsageCpuCoreHours), None);
            assert_eq!(row.metric(Metric::NodeCapacityCpuCoreHours), None);
            assert!(row.has_infrastructure_usage_cost);
        }
    }
}

/// A claimless volume (nise: empty namespace, pod and claim; capacity = the volume's size;
/// request and usage 0, §10.3) has no pod to take a node from and no node count (§6.3):
/// node and resource_id NULL; capacity 5 GiB → 5 GiB and 5/31 GiB-months. Trino divides
/// request and usage by a missing count: NULL. The PostgreSQL port divides by
/// `coalesce(count, 1)`: the raw 0 (§9.3).
#[tokio::test]
async fn claimless_volume_has_no_node_and_trino_nulls_its_request() {
    let mut model = may_day();
    let mut orphan = VolumeModel::new("orphan", 5.0 * GIB);
    orphan.claimless_hours = hours(0..24);
    model.volumes = vec![orphan];
    for compat in Compatibility::ALL {
        let rows = storage_rows(model.clone(), compat).await;
        let row = row_on(&rows, None, Some(""));
        assert_eq!(row.resource_id, None);
        assert_eq!(row.namespace.as_deref(), Some(""));
        assert_metrics(
            row,
            &[
                (Metric::PersistentvolumeclaimCapacityGigabyte, 5.0),
                (
                    Metric::PersistentvolumeclaimCapacityGigabyteMonths,
                    5.0 / 31.0,
                ),
            ],
        );
        let (request, usage) = (
            row.metric(Metric::VolumeRequestStorageGigabyteMonths),
            row.metric(Metric::PersistentvolumeclaimUsageGigabyteMonths),
        );
        match compat {
            Compatibility::Trino => assert_eq!((request, usage), (None, None)),
            Compatibility::Postgres => assert_eq!((request, usage), (Some(0.0), Some(0.0))),
        }
    }
}

/// A claim mounted by a pod with no pod-usage row (`ghost`) gets no node (§6.3). Its PV has no
/// other claim, so there is no node count either: Trino NULL, PostgreSQL port undivided.
/// PV request 8 GiB → 8/31 GiB-months; usage 2 GiB → 2/31.
#[tokio::test]
async fn claim_whose_pod_has_no_usage_row_has_no_node() {
    let mut model = may_day();
    model.volumes = vec![VolumeModel::new("lonely", 8.0 * GIB)];
    model.claims = vec![claim("cache", "lonely", &["ghost"], 8.0, 2.0)];
    for compat in Compatibility::ALL {
        let rows = storage_rows(model.clone(), compat).await;
        let row = row_on(&rows, None, Some("cache"));
        assert_metrics(
            row,
            &[(
                Metric::PersistentvolumeclaimCapacityGigabyteMonths,
                8.0 / 31.0,
            )],
        );
        let request = row.metric(Metric::VolumeRequestStorageGigabyteMonths);
        let usage = row.metric(Metric::PersistentvolumeclaimUsageGigabyteMonths);
        match compat {
            Compatibility::Trino => assert_eq!((request, usage), (None, None)),
            Compatibility::Postgres => {
                assert_close(request, 8.0 / 31.0, "undivided request");
                assert_close(usage, 2.0 / 31.0, "undivided usage");
            }
        }
    }
}

/// Volume labels merge node < namespace < PV < PVC, each filtered by the enabled keys first
/// (§6.1). Enabled: team, env, tier, zone.
/// - node-a {team: node, zone: a}; namespace shop {team: ns, env: ns};
/// - PV {team: pv, env: pv, tier: gold, secret: x}; PVC {team: pvc}.
///   → team: pvc (PVC last), env: pv (PV over namespace), tier: gold, zone: a (node only);
///   `secret` is not enabled.
#[tokio::test]
async fn volume_labels_merge_node_namespace_pv_pvc() {
    let mut model = may_day();
    model.enabled_tag_keys = keys(&["team", "env", "tier", "zone"]);
    model.nodes[0].labels = always(&[("team", "node"), ("zone", "a")]);
    model.namespaces[0].labels = always(&[("team", "ns"), ("env", "ns")]);
    let mut volume = VolumeModel::new("gold-pv", 1.0 * GIB);
    volume.labels = vec![LabelPeriod::new(
        0,
        &[
            ("team", "pv"),
            ("env", "pv"),
            ("tier", "gold"),
            ("secret", "x"),
        ],
    )];
    let mut data = claim("data", "gold-pv", &["web-1"], 1.0, 1.0);
    data.labels = always(&[("team", "pvc")]);
    model.volumes = vec![volume];
    model.claims = vec![data];
    let rows = storage_rows(model, Compatibility::Trino).await;
    let row = row_on(&rows, Some("node-a"), Some("data"));
    assert_eq!(
        row.volume_labels,
        Some(labels(&[
            ("env", "pv"),
            ("team", "pvc"),
            ("tier", "gold"),
            ("zone", "a"),
        ]))
    );
    assert_eq!(row.pod_labels, None);
}

/// GiB-months divide by the days of `usage_start`'s month (§6.3): the same full day of a 10 GiB
/// claim is 10/28 GiB-months on 2026-02-12 and 10/31 on 2026-05-12. With one pod on one node the
/// node count is 1: request (PV 10 GiB) 10/28 and 10/31, usage (3 GiB) 3/28 and 3/31.
#[tokio::test]
async fn february_and_may_months_have_their_own_day_counts() {
    for (month, days) in [(2, 28.0), (5, 31.0)] {
        let mut model = ClusterModel::empty(2026, month, 12, 12);
        model.nodes = vec![node("node-a", 4.0, 16.0, Vec::new())];
        model.namespaces = vec![namespace("shop", Vec::new())];
        model.pods = vec![pod("web-1", "shop", "node-a", hours(0..24), 1.0, 1.0)];
        model.volumes = vec![VolumeModel::new("pv", 10.0 * GIB)];
        model.claims = vec![claim("data", "pv", &["web-1"], 10.0, 3.0)];
        let rows = storage_rows(model, Compatibility::Trino).await;
        let row = row_on(&rows, Some("node-a"), Some("data"));
        assert_metrics(
            row,
            &[
                (
                    Metric::PersistentvolumeclaimCapacityGigabyteMonths,
                    10.0 / days,
                ),
                (Metric::VolumeRequestStorageGigabyteMonths, 10.0 / days),
                (Metric::PersistentvolumeclaimUsageGigabyteMonths, 3.0 / days),
            ],
        );
    }
}

/// No volume at all: koku has no storage table, its Storage branch is left out (§12.9), and the
/// run is not an error.
#[tokio::test]
async fn no_storage_table_means_no_storage_rows() {
    let rows = storage_rows(may_day(), Compatibility::Trino).await;
    assert!(rows.is_empty(), "{rows:#?}");
}
