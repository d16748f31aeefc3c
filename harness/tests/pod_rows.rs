//! Pod rows of the daily summary on small hand-built clusters.
//!
//! Each case builds a [`ClusterModel`], writes it as koku's Parquet, runs the engine in-process
//! and checks the Pod rows against values worked out by hand from the spec
//! (`docs/spec.md`, cited as §n). The arithmetic sits next to each
//! assertion. Nothing here is copied from the engine's output.
//!
//! Units (§0.1): core-hours = core-seconds / 3600; GiB-hours = byte-seconds / 3600 · 2^-30.
//! Every pod below runs whole hours (3600 s), so a pod using `c` cores for `h` hours gives
//! `c · h` core-hours and one using `g` GiB gives `g · h` GiB-hours.

mod common;

use common::*;
use ocp_engine::config::{CostCategoryPattern, InlineCatalog};
use ocp_engine::error::Error;
use ocp_engine::labels::LabelMap;
use ocp_engine::run::CatalogSource;
use ocp_engine::summary::{DataSource, Metric, SummaryRow};
use ocp_harness::scenario::{run_quietly, Scenario};
use ocp_harness::synth::koku_tables::{koku_tables, pod_usage_daily};
use ocp_harness::synth::model::GIB;
use ocp_harness::synth::{write_table, ClusterModel, LabelPeriod};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Writes `model` and returns the engine's Pod-branch rows (the unallocated rows derived from
/// them are checked in `unallocated_rows.rs`; these models have no volumes).
async fn summarise(model: ClusterModel) -> Vec<SummaryRow> {
    let scenario = Scenario::write(model).expect("model writes");
    rows_of(scenario.run().await)
}

fn rows_of(result: ocp_engine::error::Result<ocp_engine::run::RunReport>) -> Vec<SummaryRow> {
    let rows = result.expect("engine run succeeds").rows;
    assert!(
        rows.iter().all(|r| r.data_source == DataSource::Pod),
        "only Pod rows expected"
    );
    rows.into_iter().filter(|r| !r.is_unallocated()).collect()
}

/// The single row of `rows`.
#[track_caller]
fn only_row(rows: &[SummaryRow]) -> &SummaryRow {
    assert_eq!(rows.len(), 1, "expected one row, got {rows:#?}");
    &rows[0]
}

/// The one row whose `pod_labels` equal `expected`.
#[track_caller]
fn row_labelled<'a>(rows: &'a [SummaryRow], expected: Pairs) -> &'a SummaryRow {
    let expected = labels(expected);
    let found: Vec<&SummaryRow> = rows
        .iter()
        .filter(|r| r.pod_labels.as_ref() == Some(&expected))
        .collect();
    assert_eq!(found.len(), 1, "one row labelled {expected:?} in {rows:#?}");
    found[0]
}

/// The one row of namespace `ns`.
#[track_caller]
fn row_of_namespace<'a>(rows: &'a [SummaryRow], ns: &str) -> &'a SummaryRow {
    let found: Vec<&SummaryRow> = rows
        .iter()
        .filter(|r| r.namespace.as_deref() == Some(ns))
        .collect();
    assert_eq!(found.len(), 1, "one row of namespace {ns} in {rows:#?}");
    found[0]
}

/// Sets the request's inline catalog to `enabled` keys and `patterns`.
fn with_catalog(
    scenario: &Scenario,
    enabled: &[&str],
    patterns: &[(&str, i32)],
) -> ocp_engine::run::RunRequest {
    let mut request = scenario.request();
    request.catalog = CatalogSource::Inline(InlineCatalog {
        enabled_tag_keys: keys(enabled),
        cost_category_namespaces: patterns
            .iter()
            .map(|&(pattern, id)| CostCategoryPattern {
                pattern: pattern.to_string(),
                cost_category_id: id,
            })
            .collect(),
        nodes: Vec::new(),
    });
    request
}

// ---------------------------------------------------------------------------------------------
// §10.4 and §6.2: values and capacity of a full day
// ---------------------------------------------------------------------------------------------

/// §10.4 by hand: node alpha (4 cores, 16 GiB) and `pod_name1` (usage 1 core, request = limit =
/// 4 cores, 2 GiB usage, request and limit) for a full day. A second node, beta (2 cores,
/// 8 GiB), makes cluster capacity differ from node capacity.
#[tokio::test]
async fn example_10_4_full_day_values_and_capacity() {
    let mut m = one_day();
    m.nodes.push(node("alpha", 4.0, 16.0, vec![]));
    m.nodes.push(node("beta", 2.0, 8.0, vec![]));
    let mut p = pod("pod_name1", "shop", "alpha", hours(0..24), 1.0, 2.0);
    p.cpu_request_cores = 4.0; // min(5, 4) (§10.3)
    p.cpu_limit_cores = 4.0;
    p.memory_request_bytes = 2.0 * GIB;
    p.memory_limit_bytes = 2.0 * GIB;
    m.pods.push(p);
    m.pods
        .push(pod("other", "batch", "beta", hours(0..24), 1.0, 1.0));

    let rows = summarise(m).await;
    assert_eq!(rows.len(), 2, "one row per (namespace, node): {rows:#?}");
    let alpha = row_of_namespace(&rows, "shop");
    assert_eq!(alpha.usage_start, date(2026, 9, 1));
    assert_eq!(alpha.node.as_deref(), Some("alpha"));
    assert_eq!(alpha.resource_id.as_deref(), Some("i-alpha"));
    assert_eq!(alpha.cost_category_id, None); // "shop" matches no default pattern (§6.5)
    assert!(alpha.has_infrastructure_usage_cost); // zero-cost literal on Pod rows (§3)
    assert_eq!(alpha.pod_labels, Some(LabelMap::new())); // no keys enabled → {} (§5 filt)
    assert_metrics(
        alpha,
        &[
            (Metric::PodUsageCpuCoreHours, 24.0),   // 1 core × 24 h (§10.4)
            (Metric::PodRequestCpuCoreHours, 96.0), // 4 cores × 24 h (§10.4)
            (Metric::PodLimitCpuCoreHours, 96.0),   // 4 cores × 24 h (§10.4)
            (Metric::PodEffectiveUsageCpuCoreHours, 96.0), // Σh max(1, 4) = 4 × 24 (§10.4, §2.3)
            (Metric::PodUsageMemoryGigabyteHours, 48.0), // 2 GiB × 24 h (§10.4)
            (Metric::PodRequestMemoryGigabyteHours, 48.0), // 2 GiB × 24 h
            (Metric::PodLimitMemoryGigabyteHours, 48.0), // 2 GiB × 24 h
            (Metric::PodEffectiveUsageMemoryGigabyteHours, 48.0), // Σh max(2, 2) × 24
            (Metric::NodeCapacityCpuCores, 4.0),    // max cores (§6.2)
            (Metric::NodeCapacityCpuCoreHours, 96.0), // 4 × 3600 × 24 / 3600 (§6.2, §10.4)
            (Metric::NodeCapacityMemoryGigabytes, 16.0), // 16·2^30 · 2^-30 (§6.2)
            (Metric::NodeCapacityMemoryGigabyteHours, 384.0), // 16 GiB × 24 h (§10.4)
            (Metric::ClusterCapacityCpuCoreHours, 144.0), // alpha 96 + beta 2 × 24 = 48 (§6.2)
            (Metric::ClusterCapacityMemoryGigabyteHours, 576.0), // 384 + 8 × 24 = 192 (§6.2)
        ],
    );
    // Storage metrics are NULL on Pod rows (§3 outer Pod select).
    assert_eq!(
        alpha.metric(Metric::PersistentvolumeclaimCapacityGigabyte),
        None
    );
    let beta = row_of_namespace(&rows, "batch");
    assert_metrics(
        beta,
        &[
            (Metric::NodeCapacityCpuCoreHours, 48.0), // 2 cores × 24 h
            (Metric::NodeCapacityMemoryGigabyteHours, 192.0), // 8 GiB × 24 h
            (Metric::ClusterCapacityCpuCoreHours, 144.0), // same cluster value on every row (§6.2)
            // Σh max(usage 1, request 0) = 24: effective falls back to usage (§2.3).
            (Metric::PodEffectiveUsageCpuCoreHours, 24.0),
            (Metric::PodRequestCpuCoreHours, 0.0), // no request
        ],
    );
}

/// §6.2: a node reporting 12 of 24 hours has 4 cores × 12 h = 48 core-hours; the hours come
/// from the distinct hourly timestamps (max over the pods of each hour, not a sum over pods).
#[tokio::test]
async fn node_reporting_half_a_day_has_half_the_capacity() {
    let mut m = one_day();
    m.nodes.push(node("alpha", 4.0, 16.0, vec![]));
    // Hours 0..6 and 3..12 overlap in 3..6: distinct hours 0..12 = 12 hours.
    m.pods
        .push(pod("early", "shop", "alpha", hours(0..6), 1.0, 1.0));
    m.pods
        .push(pod("late", "shop", "alpha", hours(3..12), 1.0, 1.0));

    let rows = summarise(m).await;
    let row = only_row(&rows); // same day, namespace, node and labels {} (§3 GROUP BY)
    assert_metrics(
        row,
        &[
            // 12 distinct hours × max(4·3600, 4·3600) / 3600 = 48, not (6 + 9) × 4 = 60 (§6.2)
            (Metric::NodeCapacityCpuCoreHours, 48.0),
            (Metric::NodeCapacityMemoryGigabyteHours, 192.0), // 16 GiB × 12 h
            (Metric::NodeCapacityCpuCores, 4.0),              // max, not summed over pods
            (Metric::NodeCapacityMemoryGigabytes, 16.0),
            (Metric::ClusterCapacityCpuCoreHours, 48.0), // the only node
            (Metric::PodUsageCpuCoreHours, 15.0),        // 1 core × (6 + 9) h
            (Metric::PodUsageMemoryGigabyteHours, 15.0), // 1 GiB × (6 + 9) h
        ],
    );
}

/// §3 Pod branch and §6.2: a pod with node `''` gives no row (`li.node != ''`), but the
/// capacity CTEs have no node filter, so the `''` node's hourly capacity is in cluster capacity.
/// koku writes zero capacity for a nodeless pod, so the hourly rows are edited to carry 2 cores
/// and 4 GiB for 10 hours to make that contribution visible.
#[tokio::test]
async fn pod_without_node_is_dropped_but_counts_in_cluster_capacity() {
    let mut m = one_day();
    m.nodes.push(node("alpha", 4.0, 16.0, vec![]));
    m.pods
        .push(pod("web", "shop", "alpha", hours(0..24), 1.0, 1.0));
    m.pods
        .push(pod("pending", "shop", "", hours(0..10), 3.0, 3.0));
    let scenario = Scenario::write(m.clone()).expect("model writes");

    // As koku writes it: the nodeless pod has zero capacity (koku_tables) → adds 0.
    let rows = rows_of(scenario.run().await);
    let row = only_row(&rows);
    assert_eq!(row.node.as_deref(), Some("alpha"));
    assert_metrics(
        row,
        &[
            (Metric::PodUsageCpuCoreHours, 24.0), // only "web": 1 × 24; "pending" dropped (§3)
            (Metric::ClusterCapacityCpuCoreHours, 96.0), // 96 + 0 (zero capacity on '' rows)
        ],
    );

    // Same day with capacity on the '' rows: rewrite that day's pod-usage files.
    let mut tables = koku_tables(&m);
    for r in tables.pod_usage.iter_mut().filter(|r| r.node.is_empty()) {
        r.node_capacity_cpu_cores = 2.0;
        r.node_capacity_cpu_core_seconds = 2.0 * 3600.0;
        r.node_capacity_memory_bytes = 4.0 * GIB;
        r.node_capacity_memory_byte_seconds = 4.0 * GIB * 3600.0;
    }
    let daily = pod_usage_daily(&tables.pod_usage);
    let (root, account, source) = (scenario.root(), &m.account, &m.source_uuid);
    write_table(root, account, source, &tables.pod_usage).expect("hourly rewritten");
    write_table(root, account, source, &daily).expect("daily rewritten");

    let rows = rows_of(scenario.run().await);
    let row = only_row(&rows); // still no row for node '' (§3 Pod branch, §7.10)
    assert_metrics(
        row,
        &[
            (Metric::PodUsageCpuCoreHours, 24.0),
            (Metric::NodeCapacityCpuCoreHours, 96.0), // alpha alone: 4 × 24
            // alpha 96 + node '' 2 cores × 10 h = 20 → 116 (§3 cte_ocp_cluster_capacity)
            (Metric::ClusterCapacityCpuCoreHours, 116.0),
            // 16 × 24 = 384 + 4 GiB × 10 h = 40 → 424
            (Metric::ClusterCapacityMemoryGigabyteHours, 424.0),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// §6.1: labels
// ---------------------------------------------------------------------------------------------

/// §6.1 precedence node < namespace < pod, with every key enabled: the pod's value wins over
/// the namespace's and the node's; the namespace's wins over the node's; keys from all three
/// merge; a disabled node key (`rack`) is dropped.
#[tokio::test]
async fn labels_merge_node_then_namespace_then_pod() {
    let mut m = one_day();
    m.enabled_tag_keys = keys(&["app", "owner", "team", "zone"]);
    m.nodes.push(node(
        "alpha",
        4.0,
        16.0,
        always(&[("team", "node-team"), ("zone", "east"), ("rack", "r7")]),
    ));
    m.namespaces.push(namespace(
        "shop",
        always(&[("team", "ns-team"), ("owner", "alice")]),
    ));
    let mut web = pod("web", "shop", "alpha", hours(0..24), 1.0, 1.0);
    web.labels = pairs(&[("team", "pod-team"), ("app", "web")]);
    let mut api = pod("api", "shop", "alpha", hours(0..24), 0.25, 1.0);
    api.labels = pairs(&[("app", "api")]);
    m.pods.extend([web, api]);

    let rows = summarise(m).await;
    assert_eq!(rows.len(), 2, "merged maps differ → two rows: {rows:#?}");
    // team: pod-team (pod) beats ns-team and node-team.
    let web = row_labelled(
        &rows,
        &[
            ("app", "web"),
            ("owner", "alice"),
            ("team", "pod-team"),
            ("zone", "east"),
        ],
    );
    assert_metrics(web, &[(Metric::PodUsageCpuCoreHours, 24.0)]); // 1 core × 24 h
                                                                  // No team on the pod: ns-team (namespace) beats node-team (node).
    let api = row_labelled(
        &rows,
        &[
            ("app", "api"),
            ("owner", "alice"),
            ("team", "ns-team"),
            ("zone", "east"),
        ],
    );
    assert_metrics(api, &[(Metric::PodUsageCpuCoreHours, 6.0)]); // 0.25 core × 24 h
}

/// §6.1 grouping: pods that differ only in a disabled key merge into one row carrying the sums.
#[tokio::test]
async fn pods_differing_only_in_disabled_keys_share_a_row() {
    let mut m = one_day();
    m.enabled_tag_keys = keys(&["app"]);
    m.nodes.push(node("alpha", 4.0, 16.0, vec![]));
    let mut v1 = pod("web-v1", "shop", "alpha", hours(0..24), 1.0, 1.0);
    v1.labels = pairs(&[("app", "web"), ("version", "v1")]);
    v1.cpu_request_cores = 2.0;
    v1.cpu_limit_cores = 4.0;
    let mut v2 = pod("web-v2", "shop", "alpha", hours(0..24), 1.5, 3.0);
    v2.labels = pairs(&[("app", "web"), ("version", "v2")]);
    v2.cpu_request_cores = 0.5;
    v2.cpu_limit_cores = 2.0;
    m.pods.extend([v1, v2]);

    let rows = summarise(m).await;
    let row = only_row(&rows);
    assert_eq!(row.pod_labels, Some(labels(&[("app", "web")]))); // version filtered out
    assert_metrics(
        row,
        &[
            (Metric::PodUsageCpuCoreHours, 60.0),   // (1 + 1.5) × 24
            (Metric::PodRequestCpuCoreHours, 60.0), // (2 + 0.5) × 24
            (Metric::PodLimitCpuCoreHours, 144.0),  // (4 + 2) × 24
            // Σ per pod-hour max: (max(1, 2) + max(1.5, 0.5)) × 24 = 3.5 × 24 = 84 (§2.3),
            // not max(60, 60) = 60.
            (Metric::PodEffectiveUsageCpuCoreHours, 84.0),
            (Metric::PodUsageMemoryGigabyteHours, 96.0), // (1 + 3) GiB × 24
            (Metric::NodeCapacityCpuCoreHours, 96.0),    // node's, not per pod (§6.2)
        ],
    );
}

/// §6.1 and §3 `cte_pg_enabled_keys`: with NO enabled key, Trino's key array is NULL and every
/// label is dropped, `vm_kubevirt_io_name` included: `pod_labels` is `{}` (not NULL) and all
/// pods of a namespace and node merge. With one key enabled, `vm_kubevirt_io_name` survives.
#[tokio::test]
async fn no_enabled_keys_drops_every_label_even_vm_name() {
    let mut m = one_day();
    m.nodes
        .push(node("alpha", 4.0, 16.0, always(&[("zone", "east")])));
    m.namespaces
        .push(namespace("shop", always(&[("team", "pay")])));
    let mut vm = pod("vm-pod", "shop", "alpha", hours(0..24), 1.0, 1.0);
    vm.labels = pairs(&[("app", "web"), ("vm_kubevirt_io_name", "vm1")]);
    let mut api = pod("api", "shop", "alpha", hours(0..24), 0.5, 1.0);
    api.labels = pairs(&[("app", "api")]);
    m.pods.extend([vm, api]);
    assert!(m.enabled_tag_keys.is_empty());
    let scenario = Scenario::write(m).expect("model writes");

    let rows = rows_of(scenario.run().await);
    let row = only_row(&rows);
    // map_filter with contains(NULL, k) keeps nothing → {} for every source (§5 filt).
    assert_eq!(row.pod_labels, Some(LabelMap::new()));
    assert_metrics(row, &[(Metric::PodUsageCpuCoreHours, 36.0)]); // (1 + 0.5) × 24

    // Enabling one key brings back `vm_kubevirt_io_name` (§6.1), so the pods split again.
    let request = with_catalog(&scenario, &["zone"], &[]);
    let rows = rows_of(run_quietly(&request).await);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    let vm = row_labelled(&rows, &[("vm_kubevirt_io_name", "vm1"), ("zone", "east")]);
    assert_metrics(vm, &[(Metric::PodUsageCpuCoreHours, 24.0)]); // 1 × 24
    let api = row_labelled(&rows, &[("zone", "east")]);
    assert_metrics(api, &[(Metric::PodUsageCpuCoreHours, 12.0)]); // 0.5 × 24
}

/// §6.1: matching is exact and case-sensitive on the key after koku removes every `label_`
/// (§2.3): `x_label_y` arrives as `x_y`; `App` is not `app`.
#[tokio::test]
async fn enabled_keys_match_converted_keys_exactly() {
    let mut m = one_day();
    m.enabled_tag_keys = keys(&["app", "x_y", "x_label_y"]);
    m.nodes.push(node("alpha", 4.0, 16.0, vec![]));
    let mut p = pod("web", "shop", "alpha", hours(0..24), 1.0, 1.0);
    p.labels = pairs(&[("App", "Web"), ("app", "web"), ("x_label_y", "1")]);
    m.pods.push(p);

    let rows = summarise(m).await;
    assert_eq!(
        only_row(&rows).pod_labels,
        Some(labels(&[("app", "web"), ("x_y", "1")]))
    );
}

/// One day: node alpha (4 cores, 16 GiB) labelled `first` in hours 0–11 and `second` in
/// 12–23, key `env` enabled, and pod `web` all day (usage 1 core, request 2 cores, 2 GiB).
fn relabelled_node_model(first: Pairs, second: Pairs) -> ClusterModel {
    let mut m = one_day();
    m.enabled_tag_keys = keys(&["env"]);
    m.nodes.push(node(
        "alpha",
        4.0,
        16.0,
        vec![LabelPeriod::new(0, first), LabelPeriod::new(12, second)],
    ));
    let mut p = pod("web", "shop", "alpha", hours(0..24), 1.0, 2.0);
    p.cpu_request_cores = 2.0;
    m.pods.push(p);
    m
}

/// §6.1: a node whose enabled labels change within the day has two distinct filtered maps that
/// day; the LEFT JOIN doubles the pod rows, and each variant is a row with the FULL day's sums
/// and the full node and cluster capacity (nothing is split between them, §6.2).
#[tokio::test]
async fn node_label_change_within_a_day_doubles_the_rows() {
    let m = relabelled_node_model(
        &[("env", "prod"), ("rack", "r1")],
        &[("env", "stage"), ("rack", "r1")],
    );
    let rows = summarise(m).await;
    assert_eq!(rows.len(), 2, "{rows:#?}");
    for env in ["prod", "stage"] {
        let row = row_labelled(&rows, &[("env", env)]);
        assert_metrics(
            row,
            &[
                (Metric::PodUsageCpuCoreHours, 24.0), // full day: 1 × 24, not 12
                (Metric::PodRequestCpuCoreHours, 48.0), // 2 × 24
                (Metric::PodUsageMemoryGigabyteHours, 48.0), // 2 GiB × 24
                (Metric::NodeCapacityCpuCoreHours, 96.0), // 4 × 24 on both rows
                (Metric::NodeCapacityMemoryGigabyteHours, 384.0), // 16 × 24
                (Metric::ClusterCapacityCpuCoreHours, 96.0),
            ],
        );
    }
    // Summed over the rows, usage counts twice: 24 + 24 = 48 (§6.1, §12.12).
    let total: f64 = rows
        .iter()
        .filter_map(|r| r.metric(Metric::PodUsageCpuCoreHours))
        .sum();
    assert_close(Some(total), 48.0, "usage summed over the day's rows");
}

/// §6.1: only the FILTERED maps are distinct-ed, so a change in a disabled key only does not
/// double the rows.
#[tokio::test]
async fn node_label_change_in_a_disabled_key_keeps_one_row() {
    let m = relabelled_node_model(
        &[("env", "prod"), ("rack", "r1")],
        &[("env", "prod"), ("rack", "r2")],
    );
    let rows = summarise(m).await;
    let row = only_row(&rows);
    assert_eq!(row.pod_labels, Some(labels(&[("env", "prod")])));
    assert_metrics(row, &[(Metric::PodUsageCpuCoreHours, 24.0)]); // 1 × 24, once
}

/// §5 step 3: node-label variants × namespace-label variants: 2 × 2 = 4 rows, each with the
/// full sums.
#[tokio::test]
async fn node_and_namespace_label_changes_multiply() {
    let mut m = relabelled_node_model(&[("env", "prod")], &[("env", "stage")]);
    m.enabled_tag_keys = keys(&["env", "team"]);
    m.namespaces.push(namespace(
        "shop",
        vec![
            LabelPeriod::new(0, &[("team", "pay")]),
            LabelPeriod::new(6, &[("team", "ops")]),
        ],
    ));
    let rows = summarise(m).await;
    assert_eq!(rows.len(), 4, "{rows:#?}");
    for env in ["prod", "stage"] {
        for team in ["pay", "ops"] {
            let row = row_labelled(&rows, &[("env", env), ("team", team)]);
            assert_metrics(
                row,
                &[
                    (Metric::PodUsageCpuCoreHours, 24.0), // full day each (§6.1)
                    (Metric::NodeCapacityCpuCoreHours, 96.0),
                ],
            );
        }
    }
}

/// Missing label reports are not bad input: with no node-label (or namespace-label) tables the
/// LEFT JOIN finds nothing and coalesces to `{}` (§6.1 NULL handling), so the row keeps the
/// other sources' labels.
#[tokio::test]
async fn missing_label_reports_are_not_bad_input() {
    let cases: [(bool, bool, Pairs); 4] = [
        (
            true,
            true,
            &[("app", "web"), ("team", "pay"), ("zone", "east")],
        ),
        (false, true, &[("app", "web"), ("team", "pay")]),
        (true, false, &[("app", "web"), ("zone", "east")]),
        (false, false, &[("app", "web")]),
    ];
    for (node_labels, namespace_labels, expected) in cases {
        let mut m = one_day();
        m.enabled_tag_keys = keys(&["app", "team", "zone"]);
        m.write_node_labels = node_labels;
        m.write_namespace_labels = namespace_labels;
        m.nodes
            .push(node("alpha", 4.0, 16.0, always(&[("zone", "east")])));
        m.namespaces
            .push(namespace("shop", always(&[("team", "pay")])));
        let mut p = pod("web", "shop", "alpha", hours(0..24), 1.0, 1.0);
        p.labels = pairs(&[("app", "web")]);
        m.pods.push(p);

        let rows = summarise(m).await;
        let row = only_row(&rows);
        assert_eq!(
            row.pod_labels,
            Some(labels(expected)),
            "node labels written: {node_labels}, namespace labels written: {namespace_labels}"
        );
        assert_metrics(
            row,
            &[
                (Metric::PodUsageCpuCoreHours, 24.0),     // 1 × 24
                (Metric::NodeCapacityCpuCoreHours, 96.0), // capacity comes from pod rows
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// §6.5: cost category
// ---------------------------------------------------------------------------------------------

/// §6.5: the LIKE join sits before aggregation, so a namespace matching k patterns has all its
/// sums multiplied by k; `cost_category_id` is the max id. The Pod row count is unchanged (the
/// category is not a group key). Capacity is a max, so it is not multiplied.
#[tokio::test]
async fn overlapping_cost_category_patterns_multiply_the_sums() {
    let mut m = one_day();
    m.cost_category_patterns = vec![
        ("openshift-%".to_string(), 1),
        ("%-monitoring".to_string(), 7),
        ("openshift-monitoring".to_string(), 3),
    ];
    m.nodes.push(node("alpha", 4.0, 16.0, vec![]));
    m.pods.push(pod(
        "prom",
        "openshift-monitoring",
        "alpha",
        hours(0..24),
        1.0,
        2.0,
    ));
    m.pods
        .push(pod("web", "shop", "alpha", hours(0..24), 1.0, 2.0));

    let rows = summarise(m).await;
    assert_eq!(
        rows.len(),
        2,
        "one row per namespace, not per pattern: {rows:#?}"
    );
    let platform = row_of_namespace(&rows, "openshift-monitoring");
    assert_eq!(platform.cost_category_id, Some(7)); // max(1, 7, 3)
    assert_metrics(
        platform,
        &[
            (Metric::PodUsageCpuCoreHours, 72.0), // 1 × 24 × 3 patterns
            (Metric::PodEffectiveUsageCpuCoreHours, 72.0), // max(1, 0) × 24 × 3
            (Metric::PodUsageMemoryGigabyteHours, 144.0), // 2 GiB × 24 × 3
            (Metric::NodeCapacityCpuCores, 4.0),  // max: not multiplied
            (Metric::NodeCapacityCpuCoreHours, 96.0), // max(nc): not multiplied
            (Metric::ClusterCapacityCpuCoreHours, 96.0),
        ],
    );
    let user = row_of_namespace(&rows, "shop");
    assert_eq!(user.cost_category_id, None); // no pattern matches → NULL
    assert_metrics(user, &[(Metric::PodUsageCpuCoreHours, 24.0)]); // 1 × 24, k = 1 (no match)
}

/// §6.5: Trino LIKE is case-sensitive, `_` matches one character, and a pattern without
/// wildcards matches only itself.
#[tokio::test]
async fn cost_category_like_semantics() {
    let mut m = one_day();
    m.cost_category_patterns.push(("team_a".to_string(), 5));
    m.nodes.push(node("alpha", 4.0, 16.0, vec![]));
    let expected = [
        ("openshift", Some(1)),      // exact default pattern `openshift`
        ("openshiftx", None),        // `openshift` has no wildcard; `openshift-%` needs '-'
        ("OpenShift-console", None), // case-sensitive
        ("kube-system", Some(1)),    // `kube-%`
        ("team-a", Some(5)),         // `_` matches '-'
        ("team--a", None),           // `_` is exactly one character
    ];
    for (i, (ns, _)) in expected.iter().enumerate() {
        m.pods
            .push(pod(&format!("p{i}"), ns, "alpha", hours(0..1), 1.0, 1.0));
    }

    let rows = summarise(m).await;
    assert_eq!(rows.len(), expected.len());
    for (ns, category) in expected {
        assert_eq!(
            row_of_namespace(&rows, ns).cost_category_id,
            category,
            "{ns}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// §3 window, §7.8 dates, §1.2 one month per run
// ---------------------------------------------------------------------------------------------

/// A two-day model of `year-month`, days `first_day` and `first_day + 1`, one pod both days.
fn two_day_model(year: i32, month: u32, first_day: u32) -> ClusterModel {
    let mut m = ClusterModel::empty(year, month, first_day, first_day + 1);
    m.nodes.push(node("alpha", 4.0, 16.0, vec![]));
    m.pods
        .push(pod("web", "shop", "alpha", hours(0..48), 1.0, 1.0));
    m
}

/// For Pod rows the month's length matters only through the window (§3, §7.8: days are
/// `date(interval_start)`; no days-in-month divisor in the Pod branch): Feb 29 of a leap year and
/// Jan 31 are ordinary days, and each day gets its own row with that day's 24 hours.
#[tokio::test]
async fn last_days_of_short_and_long_months_are_ordinary_days() {
    for (year, month, first_day) in [(2028, 2, 28), (2026, 1, 30)] {
        let rows = summarise(two_day_model(year, month, first_day)).await;
        assert_eq!(rows.len(), 2, "{year}-{month}: {rows:#?}");
        for (row, day) in rows.iter().zip([first_day, first_day + 1]) {
            assert_eq!(row.usage_start, date(year, month, day));
            assert_metrics(
                row,
                &[
                    (Metric::PodUsageCpuCoreHours, 24.0),     // 1 × 24 per day
                    (Metric::NodeCapacityCpuCoreHours, 96.0), // 4 × 24 per day, not 48 h
                ],
            );
        }
    }
}

/// §3 window: `[D0 00:00, D1 + 1 day 00:00)`: a run for Feb 29 alone sees only Feb 29.
#[tokio::test]
async fn window_keeps_only_the_requested_days() {
    let scenario = Scenario::write(two_day_model(2028, 2, 28)).expect("model writes");
    let mut request = scenario.request();
    request.start = date(2028, 2, 29);
    request.end = date(2028, 2, 29);
    let rows = rows_of(run_quietly(&request).await);
    let row = only_row(&rows);
    assert_eq!(row.usage_start, date(2028, 2, 29));
    assert_metrics(
        row,
        &[
            (Metric::PodUsageCpuCoreHours, 24.0),
            (Metric::ClusterCapacityCpuCoreHours, 96.0), // Feb 28's hours not counted
        ],
    );
}

/// §1.2, §12.10: koku summarises one month at a time; a range crossing a month boundary, or
/// ending before it starts, is bad input.
#[tokio::test]
async fn ranges_across_months_or_backwards_are_input_errors() {
    let scenario = Scenario::write(two_day_model(2028, 2, 28)).expect("model writes");
    for (start, end) in [
        (date(2028, 2, 29), date(2028, 3, 1)),
        (date(2028, 1, 31), date(2028, 2, 28)),
        (date(2028, 2, 29), date(2028, 2, 28)),
    ] {
        let mut request = scenario.request();
        request.start = start;
        request.end = end;
        match run_quietly(&request).await {
            Err(Error::Input { .. }) => {}
            Err(other) => panic!("{start}..{end}: expected an Input error, got {other:?}"),
            Ok(report) => panic!(
                "{start}..{end}: expected an Input error, got {} rows",
                report.rows.len()
            ),
        }
    }
}
