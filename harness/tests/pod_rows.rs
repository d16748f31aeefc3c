//! Pod rows of the daily summary: the hand-computed cases that cannot be fixtures.
//!
//! The hand-computed Pod cases live in `fixtures/pod_*.yaml` with their expected rows in an
//! `expect:` block (checked by `expectations.rs`). What stays here is not a cluster a fixture can
//! describe:
//! - a '' node with capacity needs koku's hourly and daily files edited after they are written
//!   (koku itself writes zero capacity for a nodeless pod; that case is
//!   `fixtures/pod_without_node_is_dropped.yaml`);
//! - label values that are JSON booleans or numbers need the files edited too (a fixture's labels
//!   are strings, as koku's ingest writes them);
//! - the run's window and its refusals are about the request, not the cluster (a fixture is
//!   always run over all its days);
//! - an error kind is not a row.
//!
//! Values are worked out by hand from the spec (`docs/spec.md`, cited as §n), the arithmetic
//! next to each assertion; nothing is copied from the engine's output.

mod common;

use common::*;
use ocp_engine::error::Error;
use ocp_engine::labels::LabelMap;
use ocp_engine::summary::{DataSource, Metric, SummaryRow};
use ocp_harness::scenario::{run_quietly, Scenario};
use ocp_harness::synth::koku_tables::{koku_tables, pod_usage_daily};
use ocp_harness::synth::model::GIB;
use ocp_harness::synth::{write_table, ClusterModel, PodUsageHourlyRow};

/// The engine's Pod-branch rows of a run (not the unallocated rows; these models have no
/// volumes).
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

/// Rewrites the scenario's hourly and daily pod-usage files with each hourly row passed through
/// `edit`, the daily rows derived from the edited hourly ones as koku's ingest derives them.
fn rewrite_pod_usage(scenario: &Scenario, edit: impl FnMut(&mut PodUsageHourlyRow)) {
    let m = &scenario.model;
    let mut tables = koku_tables(m);
    tables.pod_usage.iter_mut().for_each(edit);
    let daily = pod_usage_daily(&tables.pod_usage);
    let (root, account, source) = (scenario.root(), &m.account, &m.source_uuid);
    write_table(root, account, source, &tables.pod_usage).expect("hourly rewritten");
    write_table(root, account, source, &daily).expect("daily rewritten");
}

/// §3 Pod branch and §6.2: a pod with node `''` gives no row (`li.node != ''`), but the
/// capacity CTEs have no node filter, so the `''` node's hourly capacity is in cluster capacity.
/// koku writes zero capacity for a nodeless pod (`fixtures/pod_without_node_is_dropped.yaml`), so
/// the hourly rows are edited to carry 2 cores and 4 GiB for 10 hours to make that contribution
/// visible.
#[tokio::test]
async fn pod_without_node_is_dropped_but_counts_in_cluster_capacity() {
    let mut m = one_day();
    m.nodes.push(node("alpha", 4.0, 16.0, vec![]));
    m.pods
        .push(pod("web", "shop", "alpha", hours(0..24), 1.0, 1.0));
    m.pods
        .push(pod("pending", "shop", "", hours(0..10), 3.0, 3.0));
    let scenario = Scenario::write(m.clone()).expect("model writes");

    // Same day with capacity on the '' rows: rewrite that day's pod-usage files.
    rewrite_pod_usage(&scenario, |r| {
        if r.node.is_empty() {
            r.node_capacity_cpu_cores = 2.0;
            r.node_capacity_cpu_core_seconds = 2.0 * 3600.0;
            r.node_capacity_memory_bytes = 4.0 * GIB;
            r.node_capacity_memory_byte_seconds = 4.0 * GIB * 3600.0;
        }
    });

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

/// A two-day model of `year-month`, days `first_day` and `first_day + 1`, one pod both days.
fn two_day_model(year: i32, month: u32, first_day: u32) -> ClusterModel {
    let mut m = ClusterModel::empty(year, month, first_day, first_day + 1);
    m.nodes.push(node("alpha", 4.0, 16.0, vec![]));
    m.pods
        .push(pod("web", "shop", "alpha", hours(0..48), 1.0, 1.0));
    m
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

/// §6.1 koku's `cast(json_parse(pod_labels) as map(varchar, varchar))`, with the texts a real
/// Trino 476 gave (docs/semantics.md "label JSON to map", `trino.rs`'s
/// `label_texts_parse_or_fail_as_trino_casts_them`): a boolean becomes `true`/`false`, an
/// integer its digits as written, and any other number Trino's double-to-varchar text, shortest
/// digits in scientific form with a fraction digit (`1.5` → `1.5E0`, `100.0` → `1.0E2`, `1e-4` →
/// `1.0E-4`, `-0.0` → `-0E0`). koku's ingest writes string values only, so the daily and hourly
/// files are edited to hold these; the negative integer is the case where "fits i64" and "fits
/// u64" part.
#[tokio::test]
async fn label_values_that_are_not_strings_become_trinos_text() {
    let text = r#"{"on": true, "off": false, "n": 12, "neg": -3, "half": 1.5,
        "hundred": 100.0, "tiny": 1e-4, "zero": -0.0, "app": "web"}"#;
    let expected = [
        ("app", "web"),
        ("half", "1.5E0"),
        ("hundred", "1.0E2"),
        ("n", "12"),
        ("neg", "-3"),
        ("off", "false"),
        ("on", "true"),
        ("tiny", "1.0E-4"),
        ("zero", "-0E0"),
    ];
    let mut m = one_day();
    m.enabled_tag_keys = expected.iter().map(|(k, _)| k.to_string()).collect();
    m.nodes.push(node("alpha", 4.0, 16.0, vec![]));
    m.pods
        .push(pod("web", "shop", "alpha", hours(0..24), 1.0, 1.0));
    let scenario = Scenario::write(m.clone()).expect("model writes");

    rewrite_pod_usage(&scenario, |r| r.pod_labels = text.to_string());

    let rows = rows_of(scenario.run().await);
    let expected: LabelMap = expected
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(only_row(&rows).pod_labels, Some(expected));
}

/// §3 Pod branch: the row of a (day, namespace, node, labels) group takes `max(resource_id)` of
/// its pods' daily rows: the greatest text, whichever pod holds it. Three pods of `shop` on
/// `alpha` report the resource ids `i-a`, `i-b` and `i-c` (a node replaced under the same name
/// would); the ids are rotated among the pods over three runs, so that the greatest is read
/// first, in the middle and last whatever order the engine reads pods in. Each run gives one
/// row with `i-c`.
#[tokio::test]
async fn a_pod_group_takes_the_greatest_resource_id() {
    let mut m = one_day();
    m.nodes.push(node("alpha", 4.0, 16.0, vec![]));
    let pods = ["p1", "p2", "p3"];
    for name in pods {
        m.pods
            .push(pod(name, "shop", "alpha", hours(0..24), 1.0, 1.0));
    }
    let scenario = Scenario::write(m.clone()).expect("model writes");
    let ids = ["i-a", "i-b", "i-c"];
    for rotation in 0..ids.len() {
        rewrite_pod_usage(&scenario, |r| {
            let pod_index = pods
                .iter()
                .position(|p| *p == r.pod)
                .expect("one of the model's pods");
            r.resource_id = ids[(pod_index + rotation) % ids.len()].to_string();
        });

        let rows = rows_of(scenario.run().await);
        assert_eq!(
            only_row(&rows).resource_id.as_deref(),
            Some("i-c"),
            "rotation {rotation}"
        );
    }
}
