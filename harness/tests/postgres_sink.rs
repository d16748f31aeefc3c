//! The PostgreSQL round trip: the engine reads its catalog and report period from koku's tables
//! in a real server (the test kit's), writes the Pod and unallocated rows into
//! `reporting_ocpusagelineitem_daily_summary`, and records the run in `ocp_engine_runs`.
//!
//! Covered: the rows as koku's statement 4 writes them (spec §3 statement 4, §4, §7.3), checked
//! against values computed by hand from a small hand-built cluster, unallocated rows included;
//! the nodes recorded in `reporting_ocp_nodes` (first role wins); an idempotent re-run; koku's
//! delete rule (spec §1.2 step 4a: rows with cloud infrastructure cost, of another report period
//! or outside the dates survive); atomicity (a failure before the commit leaves the old rows);
//! and a tenant schema whose name needs quoting.
//!
//! Every test has its own schema, so they run in parallel on the shared server.

use chrono::NaiveDate;
use ocp_engine::compat::Compatibility;
use ocp_engine::error::{Error, Problem, Service};
use ocp_engine::postgres::{koku_tables_sql, quote_ident};
use ocp_engine::run::{CatalogSource, Output, PostgresTarget, RunReport, RunRequest};
use ocp_harness::scenario::{run_quietly, Scenario};
use ocp_harness::synth::koku_tables::{koku_tables, pod_usage_daily};
use ocp_harness::synth::model::GIB;
use ocp_harness::synth::{write_table, ClusterModel, NodeModel, PodModel};
use ocp_testkit as testkit;
use tokio_postgres::{Client, NoTls};
use uuid::Uuid;

const SUMMARY: &str = "reporting_ocpusagelineitem_daily_summary";

/// What `reporting_ocpusagereportperiod` says about the model's month; deliberately different from
/// the model's own cluster id and alias, so the rows show where the engine took them from.
const PG_CLUSTER_ID: &str = "cluster-from-koku";
const PG_CLUSTER_ALIAS: &str = "Cluster from koku";

/// Another source of the same tenant, owning another report period.
const OTHER_SOURCE: &str = "0b5c0000-0000-4000-8000-000000000001";

/// koku's `infrastructure_usage_cost` literal of Pod rows (spec §3 statement 2, copied by
/// statement 4 through `json_parse`); jsonb keeps the numbers' scale (spec §7.12).
const ZERO_USAGE_COST: &str =
    r#"{"cpu": 0.000000000, "memory": 0.000000000, "storage": 0.000000000}"#;

/// Two days, 2026-03-10 and 11, two nodes, three pods:
/// - node-a: 4 cores, 16 GiB, `i-0aaa`; node-b: 2 cores, 8 GiB, `i-0bbb`; no node labels.
/// - web-1 in `shop` on node-a, hours 0..36 (all of the 10th, the first 12 hours of the 11th),
///   0.5 cores used, 1 core requested, 1.5 GiB used; labels app=web (enabled) and tier=frontend
///   (not enabled).
/// - db-1 in `shop` on node-b, hours 0..6, running 1000 s of each hour at 1 core, no labels.
/// - prometheus-0 in `openshift-monitoring` on node-a, hours 24..48, using nothing.
///
/// The model's own catalog (no enabled keys, koku's default cost categories in category 1) is not
/// the one in PostgreSQL, so rows built from it would differ from the expected ones.
fn model() -> ClusterModel {
    let mut model = ClusterModel::empty(2026, 3, 10, 11);
    let node = |name: &str, resource_id: &str, cores: f64, gib: f64| NodeModel {
        name: name.to_string(),
        resource_id: resource_id.to_string(),
        cpu_cores: cores,
        memory_bytes: gib * GIB,
        labels: Vec::new(),
    };
    model.nodes = vec![
        node("node-a", "i-0aaa", 4.0, 16.0),
        node("node-b", "i-0bbb", 2.0, 8.0),
    ];
    let mut web = PodModel::new("web-1", "shop", "node-a", (0..36).collect());
    web.labels = vec![
        ("app".to_string(), "web".to_string()),
        ("tier".to_string(), "frontend".to_string()),
    ];
    web.cpu_usage_cores = 0.5;
    web.cpu_request_cores = 1.0;
    web.memory_usage_bytes = 1.5 * GIB;
    let mut db = PodModel::new("db-1", "shop", "node-b", (0..6).collect());
    db.pod_seconds = 1000.0;
    db.cpu_usage_cores = 1.0;
    let prometheus = PodModel::new(
        "prometheus-0",
        "openshift-monitoring",
        "node-a",
        (24..48).collect(),
    );
    model.pods = vec![web, db, prometheus];
    model
}

/// A tenant schema holding koku's tables, seeded with the catalog and the report period.
struct Tenant {
    client: Client,
    schema: String,
    report_period_id: i32,
    /// The id of the "Platform" cost category (pattern `openshift-%`).
    platform_category_id: i32,
}

impl Tenant {
    /// A fresh schema from the test kit (its name lowercased and made unique).
    async fn fresh(prefix: &str, model: &ClusterModel) -> Tenant {
        let (client, schema) = testkit::fresh_schema(prefix).await;
        Tenant::seed(client, schema, model).await
    }

    /// Seeds `schema`: enabled key `app`; cost categories "Kube" (`kube-%`, created first so
    /// that "Platform" is not id 1 as in the model's inline catalog) and "Platform"
    /// (`openshift-%`); the model's report period, and another source's in the same month.
    async fn seed(client: Client, schema: String, model: &ClusterModel) -> Tenant {
        testkit::enable_tag_keys(&client, &schema, &["app"]).await;
        let ids = testkit::add_cost_category_patterns(
            &client,
            &schema,
            &[("kube-%", "Kube"), ("openshift-%", "Platform")],
        )
        .await;
        let report_period_id = testkit::add_report_period(
            &client,
            &schema,
            &model.source_uuid.to_string(),
            PG_CLUSTER_ID,
            PG_CLUSTER_ALIAS,
            model.year,
            model.month,
        )
        .await;
        Tenant {
            client,
            schema,
            report_period_id,
            platform_category_id: ids[1],
        }
    }

    /// `"schema".table`.
    fn table(&self, name: &str) -> String {
        format!("{}.{name}", quote_ident(&self.schema))
    }

    /// The request for the whole model: catalog from PostgreSQL, rows to PostgreSQL, report
    /// period and cluster left to the lookup in `reporting_ocpusagereportperiod`.
    fn request(&self, scenario: &Scenario) -> RunRequest {
        let mut request = scenario.request();
        request.catalog = CatalogSource::Postgres;
        request.output = Output::Postgres;
        request.postgres = Some(PostgresTarget {
            url: testkit::server_url().to_string(),
            schema: self.schema.clone(),
        });
        request.report_period_id = None;
        request.cluster_id = None;
        request.cluster_alias = None;
        request
    }

    async fn run(&self, scenario: &Scenario) -> RunReport {
        run_quietly(&self.request(scenario))
            .await
            .unwrap_or_else(|e| panic!("the run into schema {} fails: {e}", self.schema))
    }

    async fn count(&self, sql: &str) -> i64 {
        self.client
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .get(0)
    }

    async fn summary_rows(&self) -> i64 {
        self.count(&format!("SELECT count(*) FROM {}", self.table(SUMMARY)))
            .await
    }

    /// Rows per `data_source` in the table, sorted by name.
    async fn rows_per_data_source(&self) -> Vec<(String, i64)> {
        let sql = format!(
            "SELECT data_source, count(*) FROM {} GROUP BY 1 ORDER BY 1",
            self.table(SUMMARY)
        );
        let rows = self.client.query(&sql, &[]).await.expect("count by source");
        rows.iter().map(|r| (r.get(0), r.get(1))).collect()
    }

    /// Every row as JSON text without its uuid, sorted: the table's contents up to the random
    /// uuids (spec §7.11).
    async fn contents_without_uuid(&self) -> Vec<String> {
        let sql = format!(
            "SELECT (to_jsonb(t) - 'uuid')::text AS r FROM {} t ORDER BY r",
            self.table(SUMMARY)
        );
        let rows = self.client.query(&sql, &[]).await.expect("read the rows");
        rows.iter().map(|r| r.get(0)).collect()
    }

    async fn uuids(&self) -> Vec<Uuid> {
        let sql = format!("SELECT uuid FROM {} ORDER BY uuid", self.table(SUMMARY));
        let rows = self.client.query(&sql, &[]).await.expect("read the uuids");
        rows.iter().map(|r| r.get(0)).collect()
    }

    /// `run_id`s of `ocp_engine_runs`, oldest first.
    async fn recorded_runs(&self) -> Vec<Uuid> {
        let sql = format!(
            "SELECT run_id FROM {} ORDER BY finished_at",
            self.table("ocp_engine_runs")
        );
        let rows = self.client.query(&sql, &[]).await.expect("read the runs");
        rows.iter().map(|r| r.get(0)).collect()
    }
}

/// A decimal literal as PostgreSQL prints a `numeric(33,15)` value: exactly 15 decimals.
fn numeric_text(literal: &str) -> String {
    let (int, frac) = literal.split_once('.').unwrap_or((literal, ""));
    assert!(frac.len() <= 15, "{literal} has more than 15 decimals");
    format!("{int}.{frac:0<15}")
}

#[tokio::test]
async fn rows_written_carry_the_hand_computed_values() {
    let scenario = Scenario::write(model()).expect("write the scenario");
    let tenant = Tenant::fresh("sink_rows", &scenario.model).await;
    let called = std::time::Instant::now();
    let report = tenant.run(&scenario).await;
    let call = called.elapsed();

    // The phases in order, and the run's own time: at least any phase's (aggregate and write
    // overlap, so not their sum) and at most the call's.
    let names: Vec<&str> = report.phases.iter().map(|p| p.name).collect();
    assert_eq!(names, ["read", "labels", "aggregate", "write"]);
    assert!(report.phases.iter().all(|p| p.elapsed <= report.elapsed));
    assert!(report.elapsed <= call, "{:?} > {call:?}", report.elapsed);

    // Grain (spec §0.1, §3 statement 2): one Pod row per (day, namespace, node, labels):
    // (10th, shop, node-a), (10th, shop, node-b), (11th, shop, node-a),
    // (11th, openshift-monitoring, node-a); plus one unallocated row (also 'Pod', spec §4) per
    // (node, day) with Pod rows (§3 statement 3): (node-a, 10th), (node-b, 10th), (node-a, 11th).
    // No volumes, so no Storage rows.
    let expected_per_source = vec![("Pod".to_string(), 7)];
    assert_eq!(tenant.rows_per_data_source().await, expected_per_source);
    let mut reported: Vec<(String, i64)> = report
        .rows_per_data_source
        .iter()
        .map(|(name, n)| (name.to_string(), *n as i64))
        .collect();
    reported.sort();
    assert_eq!(reported, expected_per_source, "the run's own count");
    assert_eq!(report.rows.len(), 7);
    assert_eq!(report.rows_deleted, 0, "nothing to delete in a new schema");

    // Statement 4 (spec §3): usage_end = usage_start; uuid a fresh v4 per row, never NULL.
    let q = tenant.table(SUMMARY);
    let shape = tenant
        .client
        .query_one(
            &format!(
                "SELECT count(uuid), count(DISTINCT uuid), \
                        count(*) FILTER (WHERE usage_end <> usage_start) FROM {q}"
            ),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(shape.get::<_, i64>(0), 7, "uuid is never NULL");
    assert_eq!(shape.get::<_, i64>(1), 7, "uuids are unique");
    assert_eq!(shape.get::<_, i64>(2), 0, "usage_end = usage_start");

    // What every row shares: the source, the report period and cluster from
    // reporting_ocpusagereportperiod (spec §1.2 step 2) and the zero-cost literal of Pod-branch
    // rows (NULL on unallocated rows, whose insert omits the column: §3 statement 3); the cost
    // columns this step does not set stay NULL (spec §4).
    let shared = tenant
        .client
        .query(
            &format!(
                "SELECT DISTINCT source_uuid, report_period_id, cluster_id, cluster_alias, \
                        coalesce(infrastructure_usage_cost::text, 'NULL'), \
                        infrastructure_raw_cost IS NULL AND cost_model_cpu_cost IS NULL \
                 FROM {q} WHERE namespace <> 'Worker unallocated'"
            ),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(shared.len(), 1, "every row carries the same run constants");
    let shared = &shared[0];
    assert_eq!(shared.get::<_, Uuid>(0), scenario.model.source_uuid);
    assert_eq!(shared.get::<_, i32>(1), tenant.report_period_id);
    assert_eq!(shared.get::<_, String>(2), PG_CLUSTER_ID);
    assert_eq!(shared.get::<_, String>(3), PG_CLUSTER_ALIAS);
    assert_eq!(shared.get::<_, String>(4), ZERO_USAGE_COST);
    assert!(shared.get::<_, bool>(5), "cost columns are not set here");
    let unallocated_cost = tenant
        .count(&format!(
            "SELECT count(*) FROM {q} WHERE namespace = 'Worker unallocated' \
             AND infrastructure_usage_cost IS NULL AND report_period_id = {}",
            tenant.report_period_id
        ))
        .await;
    assert_eq!(
        unallocated_cost, 3,
        "unallocated rows carry no usage-cost literal"
    );

    // Per-row values, computed by hand from the model (hours are 3600 s; GiB = 2^30):
    // - Labels: only enabled keys survive (§6.1), so web-1 keeps {"app": "web"}; the others {}.
    //   all_labels of a Pod row = its pod_labels (§3 statement 4).
    // - pod_usage_cpu_core_hours = Σ usage seconds / 3600 (§3):
    //   web-1 on the 10th: 0.5 core × 3600 s × 24 h / 3600 = 12; on the 11th: 0.5 × 12 h = 6.
    //   db-1: 1 core × 1000 s × 6 h / 3600 = 1.6666666666666667 (the double), which Trino's
    //   cast rounds HALF_UP to 15 places: 1.666666666666667 (§3 statement 4, §7.3).
    // - pod_effective_usage_cpu_core_hours = Σ max(usage, request) per hour / 3600:
    //   web-1: max(0.5, 1) × 24 = 24 on the 10th, × 12 = 12 on the 11th; db-1: as its usage.
    // - pod_usage_memory_gigabyte_hours: web-1 1.5 GiB × 24 h = 36, × 12 h = 18.
    // - node_capacity_cpu_core_hours = Σ over the node's reporting hours of cores × 3600 / 3600
    //   (§0.1, §3 cte_ocp_node_capacity): node-a 4 cores × 24 h = 96 on both days (web-1 covers
    //   the 10th, prometheus-0 the 11th); node-b 2 cores × 6 h = 12.
    // - node_capacity_memory_gigabyte_hours: node-a 16 GiB × 24 h = 384; node-b 8 × 6 = 48.
    // - cluster_capacity_cpu_core_hours = Σ nodes of the day: 96 + 12 = 108 on the 10th, 96 on
    //   the 11th.
    // - cost_category_id: `openshift-monitoring` LIKE `openshift-%` → Platform (§6.5); else NULL.
    // Unallocated rows (§3 statement 3, §6.4): both nodes have node-label rows (empty labels),
    // no apiserver namespace and no infra label, so koku's node query makes them workers →
    // `Worker unallocated`, which no pattern matches (cost category NULL). Labels NULL, so
    // all_labels `{}`. Values = node capacity − Σ over the node's Pod rows that day:
    // - node-a, 10th: usage 96 − 12 = 84, effective 96 − 24 = 72, memory 384 − 36 = 348;
    // - node-b, 10th: usage 12 − 1.6666666666666667 = 10.333333333333334 (the double, 15
    //   decimals already), effective the same, memory 48 − 0 = 48;
    // - node-a, 11th: usage 96 − (6 + 0) = 90, effective 96 − (12 + 0) = 84, memory
    //   384 − (18 + 0) = 366. Capacity columns are the Pod rows' (max).
    let platform = tenant.platform_category_id.to_string();
    #[rustfmt::skip]
    let expected: Vec<[&str; 13]> = vec![
        // usage_start, namespace, node, resource_id, pod_labels, all_labels,
        // usage cpu, effective cpu, usage mem, node cores, node cpu h, node mem h, cluster cpu h
        // (ordered by day, then namespace in byte order: 'W' sorts before lower case)
        ["2026-03-10", "Worker unallocated", "node-a", "i-0aaa", "NULL", "{}",
         "84", "72", "348", "4", "96", "384", "108"],
        ["2026-03-10", "Worker unallocated", "node-b", "i-0bbb", "NULL", "{}",
         "10.333333333333334", "10.333333333333334", "48", "2", "12", "48", "108"],
        ["2026-03-10", "shop", "node-a", "i-0aaa", r#"{"app": "web"}"#, r#"{"app": "web"}"#,
         "12", "24", "36", "4", "96", "384", "108"],
        ["2026-03-10", "shop", "node-b", "i-0bbb", "{}", "{}",
         "1.666666666666667", "1.666666666666667", "0", "2", "12", "48", "108"],
        ["2026-03-11", "Worker unallocated", "node-a", "i-0aaa", "NULL", "{}",
         "90", "84", "366", "4", "96", "384", "96"],
        ["2026-03-11", "openshift-monitoring", "node-a", "i-0aaa", "{}", "{}",
         "0", "0", "0", "4", "96", "384", "96"],
        ["2026-03-11", "shop", "node-a", "i-0aaa", r#"{"app": "web"}"#, r#"{"app": "web"}"#,
         "6", "12", "18", "4", "96", "384", "96"],
    ];
    let expected_cost_categories = [
        "NULL",
        "NULL",
        "NULL",
        "NULL",
        "NULL",
        platform.as_str(),
        "NULL",
    ];
    let expected: Vec<Vec<String>> = expected
        .iter()
        .zip(expected_cost_categories)
        .map(|(row, category)| {
            let (text, numbers) = row.split_at(6);
            text.iter()
                .map(|s| s.to_string())
                .chain(numbers.iter().map(|n| numeric_text(n)))
                .chain([category.to_string()])
                .collect()
        })
        .collect();
    let rows = tenant
        .client
        .query(
            &format!(
                "SELECT ARRAY[usage_start::text, namespace, node, resource_id, \
                        coalesce(pod_labels::text, 'NULL'), \
                        all_labels::text, pod_usage_cpu_core_hours::text, \
                        pod_effective_usage_cpu_core_hours::text, \
                        pod_usage_memory_gigabyte_hours::text, node_capacity_cpu_cores::text, \
                        node_capacity_cpu_core_hours::text, \
                        node_capacity_memory_gigabyte_hours::text, \
                        cluster_capacity_cpu_core_hours::text, \
                        coalesce(cost_category_id::text, 'NULL')] \
                 FROM {q} ORDER BY usage_start, namespace COLLATE \"C\", node"
            ),
            &[],
        )
        .await
        .unwrap();
    let actual: Vec<Vec<String>> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(actual, expected);

    // The run record (engine/sql/engine_runs.sql), written in the same transaction as the rows:
    // start_date is the first day with pod data (spec §1.2 step 1), here the requested start.
    let runs = tenant
        .client
        .query(
            &format!(
                "SELECT run_id, source_uuid, report_period_id, start_date, end_date, \
                        rows_deleted, rows_per_data_source \
                 FROM {}",
                tenant.table("ocp_engine_runs")
            ),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(runs.len(), 1, "one run, one record");
    let run = &runs[0];
    assert_eq!(run.get::<_, Uuid>(0), report.run_id);
    assert_eq!(run.get::<_, Uuid>(1), scenario.model.source_uuid);
    assert_eq!(run.get::<_, i32>(2), tenant.report_period_id);
    assert_eq!(
        run.get::<_, NaiveDate>(3),
        NaiveDate::from_ymd_opt(2026, 3, 10).unwrap()
    );
    assert_eq!(
        run.get::<_, NaiveDate>(4),
        NaiveDate::from_ymd_opt(2026, 3, 11).unwrap()
    );
    assert_eq!(run.get::<_, i64>(5), 0);
    assert_eq!(
        run.get::<_, serde_json::Value>(6),
        serde_json::json!({ "Pod": 7 })
    );
}

/// Values whose decimal text is not plain digits: below 1, below 10^-5 (which the shortest
/// decimal writes with an exponent, `9.313225746154785e-10`) and negative. Each must reach
/// `numeric(33,15)` with its exact 15 places in both variants (spec §3 statement 4, §7.3; §9.3 for
/// the port's 15 significant digits). The hand cluster above has only whole hours of whole
/// cores, so none of its values is one of these.
///
/// One node (1 core, 1 GiB) on one day, one pod `hog` in `shop` for hour 0 using 2 cores,
/// requesting none, and 1 byte of memory:
/// - Pod row: cpu usage = effective = 2 core × 3600 s / 3600 = 2; memory 1 B × 3600 s / 3600 /
///   2^30 = 2^-30 = 9.31322574615478515625e-10 GiB-hours. Trino: shortest decimal
///   9.313225746154785e-10, at 15 places 0.000000000931322|5746… → 0.000000000931323; the port:
///   15 significant digits 9.31322574615479e-10 → the same 15 places.
/// - Unallocated row (worker, spec §3 statement 3, unclamped §6.4): cpu usage = effective =
///   1 − 2 = −1; memory 1 − 2^-30 = 0.999999999068677425384521484375 (exact in a double);
///   shortest decimal 0.9999999990686774, 15 places 0.999999999068677|4 → 0.999999999068677;
///   the port's 15 significant digits give the same.
/// - cpu request: the pod requests none, 0 (no base-10000 digits on the wire; PostgreSQL stores
///   a zero as 0 whatever sign it is sent with, checked with the sign flipped); the unallocated
///   request is 1 − 0 = 1.
#[tokio::test]
async fn values_below_one_tiny_and_negative_keep_their_places() {
    let mut model = ClusterModel::empty(2026, 3, 10, 10);
    model.nodes = vec![NodeModel {
        name: "node-a".to_string(),
        resource_id: "i-0aaa".to_string(),
        cpu_cores: 1.0,
        memory_bytes: GIB,
        labels: Vec::new(),
    }];
    let mut hog = PodModel::new("hog", "shop", "node-a", vec![0]);
    hog.cpu_usage_cores = 2.0;
    hog.memory_usage_bytes = 1.0;
    model.pods = vec![hog];
    let scenario = Scenario::write(model).expect("write the scenario");
    let expected = [
        [
            "Worker unallocated",
            "-1.000000000000000",
            "-1.000000000000000",
            "0.999999999068677",
            "1.000000000000000",
        ],
        [
            "shop",
            "2.000000000000000",
            "2.000000000000000",
            "0.000000000931323",
            "0.000000000000000",
        ],
    ];
    for compatibility in Compatibility::ALL {
        let tenant = Tenant::fresh("sink_places", &scenario.model).await;
        let mut request = tenant.request(&scenario);
        request.compatibility = compatibility;
        run_quietly(&request)
            .await
            .unwrap_or_else(|e| panic!("the {compatibility:?} run fails: {e}"));
        let rows = tenant
            .client
            .query(
                &format!(
                    "SELECT ARRAY[namespace, pod_usage_cpu_core_hours::text, \
                            pod_effective_usage_cpu_core_hours::text, \
                            pod_usage_memory_gigabyte_hours::text, \
                            pod_request_cpu_core_hours::text] \
                     FROM {} ORDER BY namespace COLLATE \"C\"",
                    tenant.table(SUMMARY)
                ),
                &[],
            )
            .await
            .unwrap();
        let actual: Vec<Vec<String>> = rows.iter().map(|r| r.get(0)).collect();
        assert_eq!(actual, expected, "{compatibility:?}");
    }
}

#[tokio::test]
async fn rerun_replaces_the_rows_with_equal_ones() {
    let scenario = Scenario::write(model()).expect("write the scenario");
    let tenant = Tenant::fresh("sink_rerun", &scenario.model).await;
    let first = tenant.run(&scenario).await;
    let first_contents = tenant.contents_without_uuid().await;
    let first_uuids = tenant.uuids().await;

    let second = tenant.run(&scenario).await;
    assert_eq!(
        second.rows_deleted,
        first.rows.len() as u64,
        "the re-run deletes exactly the first run's rows (spec §1.2 step 4a)"
    );
    assert_eq!(tenant.summary_rows().await, first.rows.len() as i64);
    assert_eq!(
        tenant.contents_without_uuid().await,
        first_contents,
        "every column but uuid is the same after the re-run"
    );
    let second_uuids = tenant.uuids().await;
    assert!(
        second_uuids.iter().all(|u| !first_uuids.contains(u)),
        "the re-run's rows are new rows with new uuids"
    );
    assert_eq!(
        tenant.recorded_runs().await,
        vec![first.run_id, second.run_id]
    );
    let recorded_deleted = tenant
        .count(&format!(
            "SELECT rows_deleted FROM {} WHERE run_id = '{}'",
            tenant.table("ocp_engine_runs"),
            second.run_id
        ))
        .await;
    assert_eq!(recorded_deleted, first.rows.len() as i64);
}

/// A row put in the table by SQL, standing for rows other steps of koku wrote.
struct Marker {
    name: &'static str,
    report_period_id: i32,
    day: NaiveDate,
    infrastructure_raw_cost: Option<&'static str>,
    survives: bool,
}

#[tokio::test]
async fn rerun_keeps_the_rows_koku_keeps() {
    let scenario = Scenario::write(model()).expect("write the scenario");
    let tenant = Tenant::fresh("sink_keep", &scenario.model).await;
    let other_period = testkit::add_report_period(
        &tenant.client,
        &tenant.schema,
        OTHER_SOURCE,
        "other-cluster",
        "Other cluster",
        2026,
        3,
    )
    .await;
    let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    let ours = tenant.report_period_id;
    // koku deletes rows with usage_start in the dates, of this report period, and with
    // infrastructure_raw_cost NULL or 0 (spec §1.2 step 4a); everything else stays.
    let markers = [
        Marker {
            name: "cloud cost",
            report_period_id: ours,
            day: day(10),
            infrastructure_raw_cost: Some("12.5"),
            survives: true,
        },
        Marker {
            name: "zero cloud cost",
            report_period_id: ours,
            day: day(11),
            infrastructure_raw_cost: Some("0"),
            survives: false,
        },
        Marker {
            name: "other report period",
            report_period_id: other_period,
            day: day(10),
            infrastructure_raw_cost: None,
            survives: true,
        },
        Marker {
            name: "day before the dates",
            report_period_id: ours,
            day: day(9),
            infrastructure_raw_cost: None,
            survives: true,
        },
        Marker {
            name: "day after the dates",
            report_period_id: ours,
            day: day(12),
            infrastructure_raw_cost: None,
            survives: true,
        },
    ];
    let insert = format!(
        "INSERT INTO {} (uuid, report_period_id, usage_start, usage_end, data_source, namespace, \
                         infrastructure_raw_cost) \
         VALUES ($1, $2, $3, $3, 'Pod', $4, $5::text::numeric)",
        tenant.table(SUMMARY)
    );
    for m in &markers {
        tenant
            .client
            .execute(
                &insert,
                &[
                    &Uuid::new_v4(),
                    &m.report_period_id,
                    &m.day,
                    &m.name,
                    &m.infrastructure_raw_cost,
                ],
            )
            .await
            .unwrap_or_else(|e| panic!("insert marker {}: {e}", m.name));
    }

    let report = tenant.run(&scenario).await;
    assert_eq!(
        report.rows_deleted, 1,
        "only the zero-cost marker is deleted"
    );
    let left = tenant
        .client
        .query(
            &format!(
                "SELECT namespace FROM {} \
                 WHERE namespace NOT IN ('shop', 'openshift-monitoring', 'Worker unallocated') \
                 ORDER BY namespace",
                tenant.table(SUMMARY)
            ),
            &[],
        )
        .await
        .unwrap();
    let left: Vec<String> = left.iter().map(|r| r.get(0)).collect();
    let mut survivors: Vec<String> = markers
        .iter()
        .filter(|m| m.survives)
        .map(|m| m.name.to_string())
        .collect();
    survivors.sort();
    assert_eq!(left, survivors);
    assert_eq!(
        tenant.summary_rows().await,
        (report.rows.len() + survivors.len()) as i64
    );

    // And again: the run's own rows go, the survivors stay.
    let again = tenant.run(&scenario).await;
    assert_eq!(again.rows_deleted, report.rows.len() as u64);
    assert_eq!(
        tenant.summary_rows().await,
        (again.rows.len() + survivors.len()) as i64
    );
}

/// Makes every later insert into `ocp_engine_runs` fail: that insert is the sink's last statement
/// before the commit. Before raising, the trigger notes what the failing transaction saw in the
/// summary table (all rows, and rows that were there before) in two sequences, which a rollback
/// does not undo: see [`seen_by_failed_write`].
async fn refuse_run_records(tenant: &Tenant) {
    let summary = tenant.table(SUMMARY);
    let before = tenant.table("rows_before_failure");
    let function = tenant.table("refuse_run_record");
    let seen_rows = tenant.table("seen_rows");
    let seen_old = tenant.table("seen_old_rows");
    let regclass = |name: &str| format!("'{}'", name.replace('\'', "''"));
    tenant
        .client
        .batch_execute(&format!(
            "CREATE TABLE {before} AS SELECT uuid FROM {summary};
             CREATE SEQUENCE {seen_rows} MINVALUE -1 START -1;
             CREATE SEQUENCE {seen_old} MINVALUE -1 START -1;
             CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
             DECLARE
                 total bigint;
                 old bigint;
             BEGIN
                 SELECT count(*) INTO total FROM {summary};
                 SELECT count(*) INTO old FROM {summary} WHERE uuid IN (SELECT uuid FROM {before});
                 PERFORM setval({seen_rows_literal}, total);
                 PERFORM setval({seen_old_literal}, old);
                 RAISE EXCEPTION 'injected failure: % rows, % of them from before', total, old;
             END $$;
             CREATE TRIGGER refuse_run_record BEFORE INSERT ON {runs}
                 FOR EACH STATEMENT EXECUTE FUNCTION {function}();",
            runs = tenant.table("ocp_engine_runs"),
            seen_rows_literal = regclass(&seen_rows),
            seen_old_literal = regclass(&seen_old),
        ))
        .await
        .expect("create the failing trigger");
}

/// What the failed write's transaction held in the summary table when the trigger of
/// [`refuse_run_records`] fired: (rows, rows from before the run); (-1, -1) if it never fired.
async fn seen_by_failed_write(tenant: &Tenant) -> (i64, i64) {
    let seen = |name| format!("SELECT last_value FROM {}", tenant.table(name));
    (
        tenant.count(&seen("seen_rows")).await,
        tenant.count(&seen("seen_old_rows")).await,
    )
}

#[tokio::test]
async fn failure_before_commit_leaves_the_previous_rows() {
    let scenario = Scenario::write(model()).expect("write the scenario");
    let tenant = Tenant::fresh("sink_atomic", &scenario.model).await;
    let good = tenant.run(&scenario).await;
    let uuids_before = tenant.uuids().await;
    let contents_before = tenant.contents_without_uuid().await;
    refuse_run_records(&tenant).await;

    let err = run_quietly(&tenant.request(&scenario))
        .await
        .expect_err("the injected failure fails the run");
    assert!(
        matches!(
            err,
            Error::Infrastructure {
                service: Service::PostgreSql,
                ..
            }
        ),
        "a refused statement is an infrastructure error, got {err:?}"
    );
    assert!(
        err.to_string().contains("ocp_engine_runs"),
        "the message names the table: {err}"
    );
    // The failure came after the DELETE and the COPY: the transaction held the 7 new rows (4 Pod,
    // 3 unallocated) and none of the old ones.
    assert_eq!(seen_by_failed_write(&tenant).await, (7, 0));

    assert_eq!(
        tenant.uuids().await,
        uuids_before,
        "the very same rows are still there"
    );
    assert_eq!(tenant.contents_without_uuid().await, contents_before);
    assert_eq!(tenant.recorded_runs().await, vec![good.run_id]);
}

/// The operator must learn why PostgreSQL refused a statement: the server's own message belongs
/// in the error (docs/operations.md: "read the message").
#[tokio::test]
async fn refused_write_reports_the_servers_reason() {
    let scenario = Scenario::write(model()).expect("write the scenario");
    let tenant = Tenant::fresh("sink_reason", &scenario.model).await;
    tenant.run(&scenario).await;
    refuse_run_records(&tenant).await;

    let err = run_quietly(&tenant.request(&scenario))
        .await
        .expect_err("the injected failure fails the run");
    assert!(
        err.to_string()
            .contains("injected failure: 7 rows, 0 of them from before"),
        "the message carries the server's reason: {err}"
    );
}

/// koku's tenant schemas are plain names, but nothing stops a site from one that needs quoting.
#[tokio::test]
async fn schema_needing_quotes_works() {
    let scenario = Scenario::write(model()).expect("write the scenario");
    // fresh_schema lowercases its prefix, so this schema is made here with the project's DDL.
    let suffix = Uuid::new_v4().simple().to_string();
    let schema = format!("Org-Mixed \"Case\" {}", &suffix[..8]);
    let url = testkit::server_url();
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    tokio::spawn(connection);
    client
        .batch_execute(&koku_tables_sql(&schema))
        .await
        .unwrap_or_else(|e| panic!("the koku DDL fails in schema {schema:?}: {e}"));
    let tenant = Tenant::seed(client, schema, &scenario.model).await;

    let first = tenant.run(&scenario).await;
    assert_eq!(first.rows.len(), 7, "4 Pod and 3 unallocated rows");
    assert_eq!(tenant.summary_rows().await, 7);
    let second = tenant.run(&scenario).await;
    assert_eq!(second.rows_deleted, 7, "the DELETE finds the rows too");
    assert_eq!(tenant.summary_rows().await, 7);
    assert_eq!(
        tenant.recorded_runs().await,
        vec![first.run_id, second.run_id]
    );
}

/// koku records a cluster's nodes before the summary (spec §6.4, `populate_node_table`); the
/// engine does it in the summary's transaction. The model's nodes both have node-label rows (with
/// empty labels), run no apiserver namespace and carry no infra label, so koku's node query calls
/// them workers.
/// - First run, empty tables: the cluster row is made (koku's cluster step would have), one node
///   row each, role `worker`, cores as numeric(18,2).
/// - A recorded role wins over the discovered one: with node-a's role set to `infra` and node-b's
///   cleared by hand, a re-run keeps `infra`, fills node-b's `worker`, adds no row; node-a's
///   unallocated rows become `Platform unallocated` (§3 statement 3: master or infra).
#[tokio::test]
async fn nodes_are_recorded_and_the_first_role_wins() {
    let scenario = Scenario::write(model()).expect("write the scenario");
    let tenant = Tenant::fresh("sink_nodes", &scenario.model).await;
    tenant.run(&scenario).await;
    let nodes = || async {
        let rows = tenant
            .client
            .query(
                &format!(
                    "SELECT n.node, n.resource_id, n.node_capacity_cpu_cores::text, \
                            coalesce(n.node_role, 'NULL'), c.cluster_id, c.provider_id \
                     FROM {} n JOIN {} c ON c.uuid = n.cluster_id ORDER BY n.node",
                    tenant.table("reporting_ocp_nodes"),
                    tenant.table("reporting_ocp_clusters")
                ),
                &[],
            )
            .await
            .expect("read the nodes");
        rows.iter()
            .map(|r| {
                assert_eq!(r.get::<_, Uuid>(5), scenario.model.source_uuid);
                assert_eq!(r.get::<_, String>(4), PG_CLUSTER_ID);
                [r.get(0), r.get(1), r.get(2), r.get(3)]
            })
            .collect::<Vec<[String; 4]>>()
    };
    let recorded = |a: &str, b: &str| {
        vec![
            ["node-a", "i-0aaa", "4.00", a].map(String::from),
            ["node-b", "i-0bbb", "2.00", b].map(String::from),
        ]
    };
    assert_eq!(nodes().await, recorded("worker", "worker"));

    tenant
        .client
        .batch_execute(&format!(
            "UPDATE {t} SET node_role = 'infra' WHERE node = 'node-a'; \
             UPDATE {t} SET node_role = NULL WHERE node = 'node-b';",
            t = tenant.table("reporting_ocp_nodes")
        ))
        .await
        .expect("change the recorded roles");
    let again = tenant.run(&scenario).await;
    assert_eq!(nodes().await, recorded("infra", "worker"));
    let unallocated: Vec<(String, String)> = again
        .rows
        .iter()
        .filter(|r| r.is_unallocated())
        .map(|r| (r.node.clone().unwrap(), r.namespace.clone().unwrap()))
        .collect();
    assert_eq!(
        unallocated,
        vec![
            ("node-a".into(), "Platform unallocated".into()), // 10th
            ("node-a".into(), "Platform unallocated".into()), // 11th
            ("node-b".into(), "Worker unallocated".into()),   // 10th
        ]
    );
}

/// The node step is decided once (`node_roles::record_nodes`) and the sink writes that decision,
/// so what the unallocated rows looked up is what is stored (spec §6.4):
/// - cores as PostgreSQL stores the double in numeric(18,2): node-b's 1.005 cores (binary
///   1.00499999…, 15 significant digits 1.00500…) are stored as 1.01, and the next run matches
///   that row (no second row; a cleared role is filled again);
/// - the run's cluster is the one koku's `populate_cluster_table` picks by source: a row recorded
///   with the same cluster id under another source (node-a as `infra`) is another cluster's, so
///   the run adds its own node-a row (`worker`) and the lookup, `max(role)` over every cluster,
///   gives node-a `worker`: its unallocated rows are `Worker unallocated`.
#[tokio::test]
async fn the_node_step_matches_stored_cores_and_picks_the_cluster_by_source() {
    let mut model = model();
    model.nodes[1].cpu_cores = 1.005;
    let scenario = Scenario::write(model).expect("write the scenario");
    let tenant = Tenant::fresh("sink_node_step", &scenario.model).await;
    let other_cluster = Uuid::new_v4();
    tenant
        .client
        .batch_execute(&format!(
            "INSERT INTO {clusters} (uuid, cluster_id, cluster_alias, provider_id) \
             VALUES ('{other_cluster}', '{PG_CLUSTER_ID}', 'elsewhere', '{OTHER_SOURCE}'); \
             INSERT INTO {nodes} (uuid, node, resource_id, node_capacity_cpu_cores, node_role, \
             cluster_id) VALUES ('{}', 'node-a', 'i-0aaa', 4.00, 'infra', '{other_cluster}');",
            Uuid::new_v4(),
            clusters = tenant.table("reporting_ocp_clusters"),
            nodes = tenant.table("reporting_ocp_nodes"),
        ))
        .await
        .expect("a cluster of another source");
    let nodes = || async {
        let rows = tenant
            .client
            .query(
                &format!(
                    "SELECT n.node, n.node_capacity_cpu_cores::text, coalesce(n.node_role, 'NULL'), \
                            c.provider_id::text \
                     FROM {} n JOIN {} c ON c.uuid = n.cluster_id ORDER BY n.node, c.provider_id",
                    tenant.table("reporting_ocp_nodes"),
                    tenant.table("reporting_ocp_clusters")
                ),
                &[],
            )
            .await
            .expect("read the nodes");
        rows.iter()
            .map(|r| [r.get(0), r.get(1), r.get(2), r.get(3)])
            .collect::<Vec<[String; 4]>>()
    };
    let source = scenario.model.source_uuid.to_string();
    let expected = |b_role: &str| {
        let mut rows = vec![
            ["node-a", "4.00", "worker", source.as_str()].map(String::from),
            ["node-a", "4.00", "infra", OTHER_SOURCE].map(String::from),
            ["node-b", "1.01", b_role, source.as_str()].map(String::from),
        ];
        rows.sort_by(|a, b| (&a[0], &a[3]).cmp(&(&b[0], &b[3])));
        rows
    };

    let first = tenant.run(&scenario).await;
    assert_eq!(nodes().await, expected("worker"));
    let namespaces = |report: &RunReport| -> Vec<(String, String)> {
        report
            .rows
            .iter()
            .filter(|r| r.is_unallocated())
            .map(|r| (r.node.clone().unwrap(), r.namespace.clone().unwrap()))
            .collect()
    };
    let all_workers = vec![
        ("node-a".to_string(), "Worker unallocated".to_string()),
        ("node-a".to_string(), "Worker unallocated".to_string()),
        ("node-b".to_string(), "Worker unallocated".to_string()),
    ];
    assert_eq!(namespaces(&first), all_workers);

    tenant
        .client
        .batch_execute(&format!(
            "UPDATE {} SET node_role = NULL WHERE node = 'node-b'",
            tenant.table("reporting_ocp_nodes")
        ))
        .await
        .expect("clear node-b's role");
    let second = tenant.run(&scenario).await;
    assert_eq!(
        nodes().await,
        expected("worker"),
        "matched, filled, not added"
    );
    assert_eq!(namespaces(&second), all_workers);
}

/// A value koku cannot store (NaN, spec §3 statement 4: Trino's cast to decimal fails the whole
/// insert) fails the run with bad input naming the column; the rows are rounded as they are
/// copied, so the failure comes inside the transaction, which rolls back: the month written
/// before stays as it was (the delete is undone too) and no run is recorded.
#[tokio::test]
async fn a_value_koku_cannot_store_fails_the_run_and_keeps_the_month() {
    let scenario = Scenario::write(model()).expect("write the scenario");
    let tenant = Tenant::fresh("sink_nan", &scenario.model).await;
    let good = tenant.run(&scenario).await;
    let uuids_before = tenant.uuids().await;

    // The same month with one daily pod row's usage NaN (koku's converter would have made it 0;
    // a hand-edited or foreign file need not), written over the scenario's daily files.
    let mut daily = pod_usage_daily(&koku_tables(&scenario.model).pod_usage);
    daily[0].pod_usage_cpu_core_seconds = f64::NAN;
    let model = &scenario.model;
    write_table(scenario.root(), &model.account, &model.source_uuid, &daily)
        .expect("the daily files are rewritten");
    let err = run_quietly(&tenant.request(&scenario))
        .await
        .expect_err("a NaN cannot become numeric(33,15)");
    let problem = Problem::Value {
        column: "pod_usage_cpu_core_hours".to_string(),
        value: "NaN".to_string(),
    };
    assert_eq!(err.problem(), Some(&problem), "{err}");
    // The message names the column and the value, so that a person can find the bad input.
    let message = err.to_string();
    for place in Error::place(&problem) {
        assert!(message.contains(place), "{place:?} is not in: {message}");
    }
    assert_eq!(
        tenant.uuids().await,
        uuids_before,
        "the previous month stays"
    );
    assert_eq!(tenant.recorded_runs().await, vec![good.run_id]);
}
