//! The engine against the DuckDB oracle: the project's reference queries (`harness/sql/`), run
//! by the pinned DuckDB CLI over the same Parquet files, must give the engine's Pod, Storage and
//! unallocated rows, in both koku variants (Trino, and its PostgreSQL port: spec §9.3).
//!
//! Each case writes a [`ClusterModel`] as koku's Parquet ([`Scenario`]), runs the engine
//! in-process and the oracle on the same folder with the same request (catalog, compatibility),
//! and compares rows with the harness's comparison ([`compare`]): a NULL-safe multiset on the
//! natural key, metrics within 1e-12 relative plus 1e-9 absolute (the precision the engine
//! reaches, `Tolerance::ENGINE_PRECISION`), `cost_category_id` exactly.
//! Hand-built cases also check the oracle against the spec's rule they exercise, with the
//! arithmetic beside each expected number, so a wrong reference query cannot agree with a wrong
//! engine unnoticed. Storage rows are written by the tests themselves ([`write_storage`]), as
//! koku's `openshift_storage_usage_line_items_daily` (spec §2.2).
//!
//! Hand-built cases that are plain clusters live in `fixtures/oracle_*.yaml` with their expected
//! rows (`expect:`, checked by `expectations.rs`); `golden.rs` holds the reference query to the
//! engine on every fixture, in each koku variant its expectations name. The cases kept here are
//! not clusters a fixture can describe: Parquet edited after it is written (a removed hourly file,
//! a second file for a day, blank or unparsable labels, NULL request columns, node-label rows of
//! one node removed, operator roles on the daily table only), storage rows written by hand with
//! their own node column, the oracle's `reporting_ocp_nodes` step, and errors.
//!
//! The first tests check the dialect rewrites on DuckDB itself: each must keep Trino's result
//! (spec §6.1, §7.4, §7.7, §7.14), and the SQL both engines share must mean the same.
//!
//! The DuckDB CLI is found or installed by `ocp_harness::oracle::locate_duckdb` (`OCP_DUCKDB`,
//! the cache, or pip); `just oracle-setup` installs it beforehand.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Arc, OnceLock};

use arrow::array::{
    new_null_array, ArrayRef, Float64Array, StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use chrono::{Datelike, NaiveDate};
use ocp_engine::compat::Compatibility;
use ocp_engine::config::NodeRecord;
use ocp_engine::error::Problem;
use ocp_engine::run::CatalogSource;
use ocp_engine::summary::Metric;
use ocp_harness::compare::{compare, ComparableRow, Comparison, Tolerance};
use ocp_harness::oracle::OracleError;
use ocp_harness::oracle::{translate, Dialect, DuckDbOracle, Oracle, OracleRun, QueryParams};
use ocp_harness::scenario::{run_quietly, Scenario};
use ocp_harness::synth::model::GIB;
use ocp_harness::synth::parquet_writer::{file_name, MANIFEST_ID, POD_USAGE, STORAGE_USAGE};
use ocp_harness::synth::{
    generate, koku_tables_for_day, table_dir, to_record_batch, write_batch, write_table,
    ClusterModel, LabelPeriod, NamespaceModel, NodeModel, PodModel, Scale,
};

// ---------------------------------------------------------------------------------------------
// Running both sides and comparing
// ---------------------------------------------------------------------------------------------

fn oracle() -> &'static DuckDbOracle {
    static ORACLE: OnceLock<DuckDbOracle> = OnceLock::new();
    ORACLE.get_or_init(|| DuckDbOracle::locate().expect("the DuckDB CLI (just oracle-setup)"))
}

/// Both sides' rows for one model.
struct Sides {
    engine: Vec<ComparableRow>,
    oracle: OracleRun,
}

async fn run_both(model: ClusterModel) -> Sides {
    let scenario = Scenario::write(model).expect("model written as Parquet");
    run_both_on(&scenario).await
}

/// Compares the two sides with the harness's comparison at the precision the engine reaches
/// (1e-12 relative, 1e-9 absolute; `cost_category_id` exactly) and panics with the differences.
#[track_caller]
fn assert_same_rows(sides: &Sides) -> Comparison {
    assert!(!sides.oracle.rows.is_empty(), "the oracle returned no rows");
    let comparison = compare(
        &sides.engine,
        &sides.oracle.rows,
        &Tolerance::ENGINE_PRECISION,
    );
    assert!(
        comparison.within_tolerance(),
        "engine ({} rows) and oracle ({} rows) differ: {:#?}\nworst: {:#?}\nonly in engine: {:#?}\nonly in oracle: {:#?}",
        sides.engine.len(),
        sides.oracle.rows.len(),
        comparison.verdict,
        comparison.worst.iter().take(10).collect::<Vec<_>>(),
        comparison.only_in_engine.iter().take(5).collect::<Vec<_>>(),
        comparison.only_in_oracle.iter().take(5).collect::<Vec<_>>(),
    );
    comparison
}

/// `rows`, which a check is about to loop over: a check over no row would pass vacuously.
#[track_caller]
fn some<T>(rows: Vec<T>) -> Vec<T> {
    assert!(!rows.is_empty(), "no rows to check");
    rows
}

/// The oracle's rows of `namespace` on `day` (1-based day of the model's month).
fn oracle_rows<'a>(sides: &'a Sides, namespace: &str, day: u32) -> Vec<&'a ComparableRow> {
    sides
        .oracle
        .rows
        .iter()
        .filter(|r| r.key.namespace.as_deref() == Some(namespace))
        .filter(|r| r.key.usage_start.day() == day)
        .collect()
}

/// Whether `row` is an unallocated-capacity row (spec §3 statement 3): a Pod row without labels
/// and without limits. (Every Pod row here has limits and, in these models, labels.)
fn is_unallocated(row: &ComparableRow) -> bool {
    row.key.data_source == "Pod"
        && row.key.pod_labels.is_none()
        && row.metric(Metric::PodLimitCpuCoreHours).is_none()
}

/// The oracle's Pod rows (not unallocated) of `namespace` on `day`.
fn pod_rows<'a>(sides: &'a Sides, namespace: &str, day: u32) -> Vec<&'a ComparableRow> {
    oracle_rows(sides, namespace, day)
        .into_iter()
        .filter(|r| r.key.data_source == "Pod" && !is_unallocated(r))
        .collect()
}

/// The oracle's unallocated rows of `node` on `day`.
fn unallocated<'a>(sides: &'a Sides, node: &str, day: u32) -> Vec<&'a ComparableRow> {
    sides
        .oracle
        .rows
        .iter()
        .filter(|r| is_unallocated(r) && r.key.node.as_deref() == Some(node))
        .filter(|r| r.key.usage_start.day() == day)
        .collect()
}

#[track_caller]
fn assert_value(row: &ComparableRow, metric: Metric, expected: f64) {
    let actual = row.metric(metric).expect("metric not NULL");
    assert!(
        (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "{} of {:?}: expected {expected}, oracle {actual}",
        metric.column(),
        row.key
    );
}

#[track_caller]
fn assert_null(row: &ComparableRow, metric: Metric) {
    assert_eq!(
        row.metric(metric),
        None,
        "{} of {:?} should be NULL",
        metric.column(),
        row.key
    );
}

// ---------------------------------------------------------------------------------------------
// The dialect rewrites, on DuckDB itself
// ---------------------------------------------------------------------------------------------

/// The value of the Trino expression `expr`, translated and evaluated by the DuckDB CLI, as
/// text (`NULL` for NULL).
fn duckdb_value(expr: &str) -> String {
    let sql = translate(&format!("SELECT {expr}"), Dialect::DuckDb).expect("translates");
    let out = Command::new(oracle().binary())
        .args(["-no-init", "-batch", "-bail", "-list", "-noheader"])
        .args(["-nullvalue", "NULL", "-c", &sql])
        .output()
        .expect("duckdb runs");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

const MAP_A: &str =
    r#"CAST(json_parse('{"b": "2", "a": "1", "c": "3"}') AS map(varchar, varchar))"#;

#[test]
fn dialect_json_format_of_a_map_sorts_keys_like_trino() {
    assert_eq!(
        duckdb_value(&format!("json_format(CAST({MAP_A} AS json))")),
        r#"{"a":"1","b":"2","c":"3"}"#
    );
}

#[test]
fn dialect_map_filter_keeps_the_keys_the_lambda_accepts() {
    let filtered = format!(
        "json_format(CAST(map_filter({MAP_A}, (k, v) -> contains(ARRAY['c', 'a'], k)) AS json))"
    );
    assert_eq!(duckdb_value(&filtered), r#"{"a":"1","c":"3"}"#);
    // A NULL key list (no enabled key, §3) keeps nothing; a NULL map stays NULL.
    let none = format!(
        "json_format(CAST(map_filter({MAP_A}, (k, v) -> contains(CAST(NULL AS varchar[]), k)) AS json))"
    );
    assert_eq!(duckdb_value(&none), "{}");
    let null_map = "json_format(CAST(map_filter(CAST(NULL AS map(varchar, varchar)), \
                    (k, v) -> true) AS json))";
    assert_eq!(duckdb_value(null_map), "NULL");
}

#[test]
fn dialect_map_concat_is_last_wins_and_null_on_a_null_map() {
    let b = r#"CAST(json_parse('{"a": "x"}') AS map(varchar, varchar))"#;
    assert_eq!(
        duckdb_value(&format!(
            "json_format(CAST(map_concat({MAP_A}, {b}) AS json))"
        )),
        r#"{"a":"x","b":"2","c":"3"}"#
    );
    assert_eq!(
        duckdb_value(&format!(
            "map_concat({MAP_A}, CAST(NULL AS map(varchar, varchar))) IS NULL"
        )),
        "true"
    );
}

#[test]
fn dialect_greatest_is_null_on_a_null_argument() {
    assert_eq!(duckdb_value("greatest(1.5, 2.5)"), "2.5");
    assert_eq!(duckdb_value("greatest(1.5, CAST(NULL AS double))"), "NULL");
}

#[test]
fn dialect_needs_no_rewrite_for_array_concat_like_and_last_day() {
    // ARRAY[...] || NULL is NULL in DuckDB as in Trino (§3 cte_pg_enabled_keys quirk).
    assert_eq!(
        duckdb_value("ARRAY['vm_kubevirt_io_name'] || CAST(NULL AS varchar[]) IS NULL"),
        "true"
    );
    // LIKE has no escape character in either (§6.5): the backslash is an ordinary character.
    assert_eq!(duckdb_value(r"'a\_b' LIKE 'a\_%'"), "true");
    assert_eq!(duckdb_value(r"'a_b' LIKE 'a\_%'"), "false");
    assert_eq!(
        duckdb_value("day(last_day_of_month(DATE '2028-02-10'))"),
        "29"
    );
}

#[test]
fn dialect_needs_no_rewrite_for_the_storage_roles_and_postgres_sql() {
    // §9.3: with ESCAPE '\' the backslash escapes, as PostgreSQL's LIKE does by default.
    assert_eq!(duckdb_value(r"'a_b' LIKE 'a\_%' ESCAPE '\'"), "true");
    assert_eq!(duckdb_value(r"'a\_b' LIKE 'a\_%' ESCAPE '\'"), "false");
    // §6.4: bool_or skips NULL tests: false when none is true, NULL when all are NULL; a CASE
    // falls through on both, as on Trino's contains / any_match.
    assert_eq!(
        duckdb_value("(SELECT bool_or(x = 'm') FROM (VALUES ('a'), (NULL)) t(x))"),
        "false"
    );
    assert_eq!(
        duckdb_value("(SELECT bool_or(x = 'm') FROM (VALUES (NULL), (NULL)) t(x))"),
        "NULL"
    );
    assert_eq!(
        duckdb_value("(SELECT bool_or(x = 'm') FROM (VALUES ('m'), (NULL)) t(x))"),
        "true"
    );
    // §3 cte_shared_volume_node_count: count(DISTINCT) skips NULL and counts ''.
    assert_eq!(
        duckdb_value("(SELECT count(DISTINCT x) FROM (VALUES ('n1'), (''), (NULL), ('n1')) t(x))"),
        "2"
    );
    // §7.1: a double divided by a bigint (node count, 86400 · days) stays a double.
    assert_eq!(
        duckdb_value(
            "typeof(CAST(1 AS double) / (86400 * day(last_day_of_month(DATE '2026-02-01'))))"
        ),
        "DOUBLE"
    );
    assert_eq!(
        duckdb_value("CAST(30 AS double) / CAST(4 AS bigint)"),
        "7.5"
    );
    // §9.3 label filter: blank text reads as '{}'.
    assert_eq!(
        duckdb_value(
            "json_format(CAST(CAST(json_parse(coalesce(nullif(trim('  '), ''), '{}')) \
             AS map(varchar, varchar)) AS json))"
        ),
        "{}"
    );
}

// ---------------------------------------------------------------------------------------------
// Generated clusters
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn tiny_clusters_agree() {
    for seed in [1, 2, 3] {
        let sides = run_both(generate(Scale::Tiny, seed)).await;
        assert_same_rows(&sides);
    }
}

#[tokio::test]
async fn typical_cluster_agrees() {
    let sides = run_both(generate(Scale::Typical, 42)).await;
    let comparison = assert_same_rows(&sides);
    eprintln!(
        "typical/42: {} rows, worst relative difference {:.1e}; {} took {:.2} s, peak RSS {} MiB",
        sides.oracle.rows.len(),
        comparison.worst_relative_error(),
        oracle().describe(),
        sides.oracle.elapsed.as_secs_f64(),
        sides.oracle.peak_rss_bytes.unwrap_or(0) / (1 << 20)
    );
}

// ---------------------------------------------------------------------------------------------
// Hand-built clusters, one rule each
// ---------------------------------------------------------------------------------------------

fn node(name: &str, labels: &[(&str, &str)]) -> NodeModel {
    NodeModel {
        name: name.to_string(),
        resource_id: format!("i-{name}"),
        cpu_cores: 4.0,
        memory_bytes: 16.0 * GIB,
        labels: vec![LabelPeriod::new(0, labels)],
    }
}

fn namespace(name: &str, periods: Vec<LabelPeriod>) -> NamespaceModel {
    NamespaceModel {
        name: name.to_string(),
        labels: periods,
    }
}

/// A pod using 1 core (request 2, limit 3) and 1 GiB (request 2, limit 4) for `hours`.
fn pod(name: &str, ns: &str, node: &str, labels: &[(&str, &str)], hours: Vec<u32>) -> PodModel {
    let mut pod = PodModel::new(name, ns, node, hours);
    pod.labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    pod.cpu_usage_cores = 1.0;
    pod.cpu_request_cores = 2.0;
    pod.cpu_limit_cores = 3.0;
    pod.memory_usage_bytes = GIB;
    pod.memory_request_bytes = 2.0 * GIB;
    pod.memory_limit_bytes = 4.0 * GIB;
    pod
}

fn whole_days(days: u32) -> Vec<u32> {
    (0..24 * days).collect()
}

/// Node, namespace and pod all carry `team`; enabled keys app, environment, team.
fn precedence_model() -> ClusterModel {
    let mut m = ClusterModel::empty(2026, 9, 1, 2);
    m.enabled_tag_keys = vec!["app".into(), "environment".into(), "team".into()];
    m.nodes = vec![node(
        "n1",
        &[
            ("team", "node-team"),
            ("environment", "node-env"),
            ("app", "node-app"),
            ("zone", "a"),
        ],
    )];
    m.namespaces = vec![namespace(
        "shop",
        vec![LabelPeriod::new(
            0,
            &[("team", "ns-team"), ("environment", "ns-env")],
        )],
    )];
    m.pods = vec![
        pod(
            "p1",
            "shop",
            "n1",
            &[
                ("team", "pod-team"),
                ("vm_kubevirt_io_name", "vm1"),
                ("tier", "web"),
            ],
            whole_days(2),
        ),
        pod("p2", "shop", "n1", &[("tier", "db")], whole_days(2)),
        pod(
            "p3",
            "other",
            "n1",
            &[("app", "pod-app")],
            (0..30).collect(),
        ),
    ];
    m
}

/// The file of `model`'s day `day` (0-based) of the pod usage table, hourly or daily.
fn pod_usage_file(scenario: &Scenario, day: u32, daily: bool) -> std::path::PathBuf {
    let model = &scenario.model;
    let dir = table_dir(
        scenario.root(),
        &model.account,
        &model.source_uuid,
        POD_USAGE,
        daily,
        model.year,
        model.month,
    );
    dir.join(file_name(POD_USAGE, model.date(day), MANIFEST_ID, daily))
}

/// Runs the engine and the oracle on a scenario already written (and edited) by the test,
/// reproducing koku's Trino SQL with no node rows in the catalog.
async fn run_both_on(scenario: &Scenario) -> Sides {
    run_both_with(scenario, Compatibility::Trino, Vec::new()).await
}

/// Runs the engine and the oracle on the same request: the scenario's, reproducing
/// `compatibility`, with `nodes` as the catalog's `reporting_ocp_nodes` rows.
async fn run_both_with(
    scenario: &Scenario,
    compatibility: Compatibility,
    nodes: Vec<NodeRecord>,
) -> Sides {
    let request = request_with(scenario, compatibility, nodes);
    let report = run_quietly(&request).await.expect("engine run");
    let oracle = oracle()
        .run(&QueryParams::from_request(&request).expect("oracle parameters"))
        .unwrap_or_else(|e| panic!("oracle run: {e}"));
    Sides {
        engine: ComparableRow::of_run(&report),
        oracle,
    }
}

/// The scenario's request, reproducing `compatibility`, with `nodes` in the inline catalog.
fn request_with(
    scenario: &Scenario,
    compatibility: Compatibility,
    nodes: Vec<NodeRecord>,
) -> ocp_engine::run::RunRequest {
    let mut request = scenario.request();
    request.compatibility = compatibility;
    let CatalogSource::Inline(catalog) = &mut request.catalog else {
        panic!("a scenario's catalog is inline");
    };
    catalog.nodes = nodes;
    request
}

#[tokio::test]
async fn a_day_without_hourly_rows_has_null_capacity_hours() {
    let scenario = Scenario::write(precedence_model()).expect("model written as Parquet");
    std::fs::remove_file(pod_usage_file(&scenario, 0, false)).expect("hourly file of day 1");
    let sides = run_both_on(&scenario).await;
    // §3 Pod table: node and cluster capacity-hours come from the hourly table and are NULL
    // without a match; node_capacity_cpu_cores comes from the daily table.
    for row in some(oracle_rows(&sides, "shop", 1)) {
        assert_eq!(row.metric(Metric::NodeCapacityCpuCoreHours), None);
        assert_eq!(row.metric(Metric::ClusterCapacityMemoryGigabyteHours), None);
        assert_value(row, Metric::NodeCapacityCpuCores, 4.0);
    }
    for row in some(oracle_rows(&sides, "shop", 2)) {
        assert_value(row, Metric::NodeCapacityCpuCoreHours, 96.0);
    }
    assert_same_rows(&sides);
}

#[tokio::test]
async fn a_second_file_for_a_day_adds_usage_but_not_capacity() {
    let scenario = Scenario::write(precedence_model()).expect("model written as Parquet");
    // §2.3: koku may write a day's rows in several files (chunks); the summary re-aggregates.
    for daily in [true, false] {
        let file = pod_usage_file(&scenario, 0, daily);
        std::fs::copy(&file, file.with_extension("copy.parquet")).expect("copied");
    }
    let sides = run_both_on(&scenario).await;
    // p3 in namespace other: 24 core-hours counted twice; capacity is a max per hour: still 96.
    let other = oracle_rows(&sides, "other", 1);
    assert_eq!(other.len(), 1);
    assert_value(other[0], Metric::PodUsageCpuCoreHours, 48.0);
    assert_value(other[0], Metric::NodeCapacityCpuCoreHours, 96.0);
    assert_same_rows(&sides);
}

#[tokio::test]
async fn unparsable_labels_fail_both_the_engine_and_the_oracle() {
    // §7.13: json_parse('') aborts Trino's statement; json('') aborts DuckDB's.
    let model = generate(Scale::Tiny, 1);
    let scenario = Scenario::write(model.clone()).expect("model written as Parquet");
    let mut daily = koku_tables_for_day(&model, 0).pod_usage_daily;
    daily[0].pod_labels = String::new();
    write_table(scenario.root(), &model.account, &model.source_uuid, &daily).expect("written");
    assert!(
        scenario.run().await.is_err(),
        "the engine accepted an empty label text"
    );
    let error = oracle()
        .run(&scenario.query_params())
        .expect_err("an empty label text is an error");
    let OracleError::Query { message, .. } = &error else {
        panic!("expected a query error, got {error}");
    };
    assert!(message.contains("JSON"), "{message}");
    // The failed run's folder is kept for a rerun by hand; this test tidies it.
    let script = message
        .rsplit("script ")
        .next()
        .unwrap()
        .trim_end_matches(')');
    let kept = std::path::Path::new(script).parent().unwrap();
    assert!(kept.join("script.sql").is_file(), "{message}");
    std::fs::remove_dir_all(kept).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Storage rows (spec §3 statement 2 Storage branch, §5 step 4, §6.3)
// ---------------------------------------------------------------------------------------------

/// One row of koku's `openshift_storage_usage_line_items_daily` (spec §2.2), written by the test
/// as pyarrow writes it (strings, doubles, timestamp[ms]). Its own `node` column says
/// [`STORAGE_REPORT_NODE`], a node no pod runs on: the summary must take the node from the pod
/// rows instead (§6.3).
#[derive(Clone)]
struct StorageRow {
    /// 0-based day of the model.
    day: u32,
    namespace: &'static str,
    pod: &'static str,
    pvc: &'static str,
    pv: &'static str,
    storageclass: &'static str,
    /// JSON text as koku writes it; `None` is a NULL cell.
    pv_labels: Option<&'static str>,
    pvc_labels: Option<&'static str>,
    capacity_bytes: f64,
    capacity_byte_seconds: f64,
    request_byte_seconds: f64,
    usage_byte_seconds: f64,
}

/// The storage report's own node column, which the summary ignores.
const STORAGE_REPORT_NODE: &str = "node-named-by-the-storage-report";

/// Seconds in a day.
const DAY: f64 = 86400.0;

impl StorageRow {
    /// Claim `pvc` of `namespace` on volume `pv` (class `sc`), mounted by `pod` all day `day`:
    /// capacity `capacity_gib`, the volume's request `request_gib` and usage `usage_gib` (GiB),
    /// each held 86400 s; labels `{}`.
    fn whole_day(
        day: u32,
        namespace: &'static str,
        pod: &'static str,
        pvc: &'static str,
        pv: &'static str,
        sc: &'static str,
        (capacity_gib, request_gib, usage_gib): (f64, f64, f64),
    ) -> Self {
        StorageRow {
            day,
            namespace,
            pod,
            pvc,
            pv,
            storageclass: sc,
            pv_labels: Some("{}"),
            pvc_labels: Some("{}"),
            capacity_bytes: capacity_gib * GIB,
            capacity_byte_seconds: capacity_gib * GIB * DAY,
            request_byte_seconds: request_gib * GIB * DAY,
            usage_byte_seconds: usage_gib * GIB * DAY,
        }
    }

    fn labels(mut self, pv: Option<&'static str>, pvc: Option<&'static str>) -> Self {
        self.pv_labels = pv;
        self.pvc_labels = pvc;
        self
    }
}

/// Writes `rows` as koku's daily storage table of the scenario's source: one file per day, in
/// koku's layout (spec §2.1).
fn write_storage(scenario: &Scenario, rows: &[StorageRow]) {
    let model = &scenario.model;
    let mut by_day: BTreeMap<u32, Vec<&StorageRow>> = BTreeMap::new();
    for row in rows {
        by_day.entry(row.day).or_default().push(row);
    }
    let period_start = NaiveDate::from_ymd_opt(model.year, model.month, 1).unwrap();
    let period_end = period_start + chrono::Months::new(1);
    for (day, rows) in by_day {
        let date = model.date(day);
        let millis = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis();
        let ts = |d: NaiveDate| -> ArrayRef {
            Arc::new(TimestampMillisecondArray::from(vec![millis(d); rows.len()]))
        };
        let text = |f: &dyn Fn(&StorageRow) -> Option<&str>| -> ArrayRef {
            Arc::new(rows.iter().map(|r| f(r)).collect::<StringArray>())
        };
        let num = |f: &dyn Fn(&StorageRow) -> f64| -> ArrayRef {
            Arc::new(rows.iter().map(|r| f(r)).collect::<Float64Array>())
        };
        let batch = RecordBatch::try_from_iter(vec![
            ("namespace", text(&|r| Some(r.namespace))),
            ("node", text(&|_| Some(STORAGE_REPORT_NODE))),
            ("pod", text(&|r| Some(r.pod))),
            ("persistentvolumeclaim", text(&|r| Some(r.pvc))),
            ("persistentvolume", text(&|r| Some(r.pv))),
            ("storageclass", text(&|r| Some(r.storageclass))),
            ("csi_driver", text(&|_| Some("ebs.csi.aws.com"))),
            ("csi_volume_handle", text(&|r| Some(r.pv))),
            ("persistentvolume_labels", text(&|r| r.pv_labels)),
            ("persistentvolumeclaim_labels", text(&|r| r.pvc_labels)),
            ("interval_start", ts(date)),
            ("report_period_start", ts(period_start)),
            ("report_period_end", ts(period_end)),
            (
                "persistentvolumeclaim_capacity_bytes",
                num(&|r| r.capacity_bytes),
            ),
            (
                "persistentvolumeclaim_capacity_byte_seconds",
                num(&|r| r.capacity_byte_seconds),
            ),
            (
                "volume_request_storage_byte_seconds",
                num(&|r| r.request_byte_seconds),
            ),
            (
                "persistentvolumeclaim_usage_byte_seconds",
                num(&|r| r.usage_byte_seconds),
            ),
        ])
        .expect("storage batch");
        let dir = table_dir(
            scenario.root(),
            &model.account,
            &model.source_uuid,
            STORAGE_USAGE,
            true,
            model.year,
            model.month,
        );
        write_batch(
            &dir.join(file_name(STORAGE_USAGE, date, MANIFEST_ID, true)),
            &batch,
        )
        .expect("storage file written");
    }
}

/// The oracle's Storage rows of claim `pvc` (`""` for a claimless volume) on `node`.
fn storage_row<'a>(sides: &'a Sides, pvc: &str, node: Option<&str>) -> &'a ComparableRow {
    let rows: Vec<_> = sides
        .oracle
        .rows
        .iter()
        .filter(|r| r.key.data_source == "Storage")
        .filter(|r| r.key.persistentvolumeclaim.as_deref() == Some(pvc))
        .filter(|r| r.key.node.as_deref() == node)
        .collect();
    assert_eq!(
        rows.len(),
        1,
        "Storage rows of {pvc:?} on {node:?}: {rows:#?}"
    );
    rows[0]
}

/// A September (30 days) day of shop pods on two nodes, and their volumes:
/// - `data` on `pv-shared` (RWX), mounted by web-1 on n1 and web-2 on n2;
/// - `scratch` on `pv-scratch`, mounted by `batch`, which ran on n1 AND on n2 that day;
/// - the claimless volume `pv-free` (namespace, pod and claim ''), nise's shape;
/// - `orphan` on `pv-orphan`, whose pod `gone` has no pod-usage rows, and NULL PV labels.
///
/// Enabled keys app, env, team, tier; cost category 7 for `sh%`.
fn storage_scenario() -> Scenario {
    let mut m = ClusterModel::empty(2026, 9, 1, 1);
    m.enabled_tag_keys = vec!["app".into(), "env".into(), "team".into(), "tier".into()];
    m.cost_category_patterns = vec![("sh%".into(), 7)];
    m.nodes = vec![
        node(
            "n1",
            &[
                ("team", "node-team"),
                ("env", "node-env"),
                ("app", "node-app"),
            ],
        ),
        node("n2", &[("env", "n2-env")]),
    ];
    m.namespaces = vec![namespace(
        "shop",
        vec![LabelPeriod::new(
            0,
            &[("team", "ns-team"), ("tier", "ns-tier")],
        )],
    )];
    m.pods = vec![
        pod("web-1", "shop", "n1", &[], whole_days(1)),
        pod("web-2", "shop", "n2", &[], whole_days(1)),
        pod("batch", "shop", "n1", &[], whole_days(1)),
        pod("batch", "shop", "n2", &[], whole_days(1)),
    ];
    let scenario = Scenario::write(m).expect("model written as Parquet");
    let shared_labels = (
        Some(r#"{"tier": "pv-tier", "app": "pv-app", "other": "x"}"#),
        Some(r#"{"app": "pvc-app"}"#),
    );
    write_storage(
        &scenario,
        &[
            StorageRow::whole_day(
                0,
                "shop",
                "web-1",
                "data",
                "pv-shared",
                "nfs",
                (10.0, 20.0, 4.0),
            )
            .labels(shared_labels.0, shared_labels.1),
            StorageRow::whole_day(
                0,
                "shop",
                "web-2",
                "data",
                "pv-shared",
                "nfs",
                (10.0, 20.0, 4.0),
            )
            .labels(shared_labels.0, shared_labels.1),
            StorageRow::whole_day(
                0,
                "shop",
                "batch",
                "scratch",
                "pv-scratch",
                "gp3",
                (8.0, 8.0, 6.0),
            ),
            StorageRow::whole_day(0, "", "", "", "pv-free", "gp3", (3.0, 6.0, 2.0)),
            StorageRow::whole_day(
                0,
                "shop",
                "gone",
                "orphan",
                "pv-orphan",
                "gp3",
                (1.0, 1.0, 1.0),
            )
            .labels(None, Some(r#"{"app": "orphan"}"#)),
        ],
    );
    scenario
}

#[tokio::test]
async fn storage_rows_take_the_pods_nodes_and_share_request_and_usage_between_them() {
    let scenario = storage_scenario();
    for compatibility in Compatibility::ALL {
        let sides = run_both_with(&scenario, compatibility, Vec::new()).await;
        let storage = |pvc, node| storage_row(&sides, pvc, node);
        // §6.3: the node is the pod's, never the storage report's own column.
        assert!(sides
            .oracle
            .rows
            .iter()
            .all(|r| r.key.node.as_deref() != Some(STORAGE_REPORT_NODE)));

        // RWX pv-shared, used on n1 and n2: node_count 2. September has 30 days.
        for (node, labels) in [
            (
                "n1",
                r#"{"app":"pvc-app","env":"node-env","team":"ns-team","tier":"pv-tier"}"#,
            ),
            (
                "n2",
                r#"{"app":"pvc-app","env":"n2-env","team":"ns-team","tier":"pv-tier"}"#,
            ),
        ] {
            let row = storage("data", Some(node));
            assert_eq!(row.key.resource_id.as_deref(), Some(&*format!("i-{node}")));
            // §6.1: node (of the pod) < namespace < PV < PVC; "other" is not enabled.
            assert_eq!(row.key.volume_labels.as_deref(), Some(labels));
            assert_eq!(row.key.pod_labels, None);
            assert_eq!(row.cost_category_id, Some(7));
            // Capacity is not shared: 10 GiB; 10 GiB · 86400 s / (86400 · 30) = 10/30.
            assert_value(row, Metric::PersistentvolumeclaimCapacityGigabyte, 10.0);
            assert_value(
                row,
                Metric::PersistentvolumeclaimCapacityGigabyteMonths,
                10.0 / 30.0,
            );
            // Request and usage are halved: 20 GiB / 2 / 30 and 4 GiB / 2 / 30.
            assert_value(row, Metric::VolumeRequestStorageGigabyteMonths, 10.0 / 30.0);
            assert_value(
                row,
                Metric::PersistentvolumeclaimUsageGigabyteMonths,
                2.0 / 30.0,
            );
            assert_null(row, Metric::PodUsageCpuCoreHours);
            assert_null(row, Metric::NodeCapacityCpuCoreHours);
        }

        // The pod of scratch ran on two nodes: one row per node, each with the full capacity
        // (8/30) and half the request (8 / 2 / 30) and usage (6 / 2 / 30). No PV or PVC labels:
        // the node's and the namespace's.
        for (node, labels) in [
            (
                "n1",
                r#"{"app":"node-app","env":"node-env","team":"ns-team","tier":"ns-tier"}"#,
            ),
            (
                "n2",
                r#"{"env":"n2-env","team":"ns-team","tier":"ns-tier"}"#,
            ),
        ] {
            let row = storage("scratch", Some(node));
            assert_eq!(row.key.volume_labels.as_deref(), Some(labels));
            assert_value(
                row,
                Metric::PersistentvolumeclaimCapacityGigabyteMonths,
                8.0 / 30.0,
            );
            assert_value(row, Metric::VolumeRequestStorageGigabyteMonths, 4.0 / 30.0);
            assert_value(
                row,
                Metric::PersistentvolumeclaimUsageGigabyteMonths,
                3.0 / 30.0,
            );
        }

        // The claimless volume and the claim whose pod has no pod-usage rows: no volume node, so
        // node and resource_id NULL and no node count. Trino divides by NULL; the PostgreSQL
        // port by coalesce(NULL, 1) (§9.3).
        let free = storage("", None);
        assert_eq!(free.key.namespace.as_deref(), Some(""));
        assert_eq!(free.key.resource_id, None);
        assert_eq!(free.key.volume_labels.as_deref(), Some("{}"));
        assert_eq!(free.cost_category_id, None, "'' is not LIKE 'sh%'");
        assert_value(
            free,
            Metric::PersistentvolumeclaimCapacityGigabyteMonths,
            3.0 / 30.0,
        );
        let orphan = storage("orphan", None);
        assert_value(
            orphan,
            Metric::PersistentvolumeclaimCapacityGigabyteMonths,
            1.0 / 30.0,
        );
        match compatibility {
            Compatibility::Trino => {
                for row in [free, orphan] {
                    assert_null(row, Metric::VolumeRequestStorageGigabyteMonths);
                    assert_null(row, Metric::PersistentvolumeclaimUsageGigabyteMonths);
                }
                // A NULL PV label text makes the merged map NULL (§6.1).
                assert_eq!(orphan.key.volume_labels, None);
            }
            Compatibility::Postgres => {
                // 6 GiB / 1 / 30 and 2 GiB / 1 / 30; 1 GiB / 1 / 30 for both.
                assert_value(free, Metric::VolumeRequestStorageGigabyteMonths, 6.0 / 30.0);
                assert_value(
                    free,
                    Metric::PersistentvolumeclaimUsageGigabyteMonths,
                    2.0 / 30.0,
                );
                assert_value(
                    orphan,
                    Metric::VolumeRequestStorageGigabyteMonths,
                    1.0 / 30.0,
                );
                assert_value(
                    orphan,
                    Metric::PersistentvolumeclaimUsageGigabyteMonths,
                    1.0 / 30.0,
                );
                // NULL label text is '{}': namespace < PVC labels.
                assert_eq!(
                    orphan.key.volume_labels.as_deref(),
                    Some(r#"{"app":"orphan","team":"ns-team","tier":"ns-tier"}"#)
                );
            }
        }
        let storage_rows = sides
            .oracle
            .rows
            .iter()
            .filter(|r| r.key.data_source == "Storage")
            .count();
        assert_eq!(storage_rows, 6, "{compatibility}");
        assert_same_rows(&sides);
    }
}

#[tokio::test]
async fn storage_gigabyte_months_divide_by_the_days_of_the_month() {
    // One claim of 14 GiB, volume request 28 GiB, usage 7 GiB, all day 1.
    for (year, month, days) in [(2026, 2, 28.0), (2028, 2, 29.0), (2026, 3, 31.0)] {
        let mut m = ClusterModel::empty(year, month, 1, 1);
        m.nodes = vec![node("n1", &[])];
        m.pods = vec![pod("p", "db", "n1", &[], whole_days(1))];
        let scenario = Scenario::write(m).expect("model written as Parquet");
        write_storage(
            &scenario,
            &[StorageRow::whole_day(
                0,
                "db",
                "p",
                "claim",
                "pv-1",
                "gp3",
                (14.0, 28.0, 7.0),
            )],
        );
        let sides = run_both_on(&scenario).await;
        let row = storage_row(&sides, "claim", Some("n1"));
        // 14 GiB · 86400 s / (86400 · days) · 2^-30 = 14/days; 28/days; 7/days.
        assert_value(row, Metric::PersistentvolumeclaimCapacityGigabyte, 14.0);
        assert_value(
            row,
            Metric::PersistentvolumeclaimCapacityGigabyteMonths,
            14.0 / days,
        );
        assert_value(row, Metric::VolumeRequestStorageGigabyteMonths, 28.0 / days);
        assert_value(
            row,
            Metric::PersistentvolumeclaimUsageGigabyteMonths,
            7.0 / days,
        );
        assert_same_rows(&sides);
    }
}

#[tokio::test]
async fn the_storage_branch_runs_only_when_the_storage_table_exists() {
    // No storage file at all: koku's storage_exists is false and the branch is left out (§12.9).
    let scenario = Scenario::write(precedence_model()).expect("model written as Parquet");
    let sides = run_both_on(&scenario).await;
    let reads_storage = |sides: &Sides| {
        sides
            .oracle
            .query_text
            .contains("FROM hive.org1234567.openshift_storage_usage_line_items_daily AS sli")
    };
    assert!(!reads_storage(&sides));
    assert!(sides.oracle.rows.iter().all(|r| r.key.data_source == "Pod"));
    assert_same_rows(&sides);

    // A storage file of another source only: the table exists, the branch runs, no rows.
    let mut other = scenario.model.clone();
    other.source_uuid = uuid::Uuid::from_u128(99);
    let elsewhere = Scenario::write(other).expect("other model");
    write_storage(
        &elsewhere,
        &[StorageRow::whole_day(
            0,
            "shop",
            "p1",
            "c",
            "pv",
            "gp3",
            (1.0, 1.0, 1.0),
        )],
    );
    let from = elsewhere
        .root()
        .join("data/parquet/daily/org1234567/OCP/storage_usage");
    let to = scenario
        .root()
        .join("data/parquet/daily/org1234567/OCP/storage_usage");
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::rename(from, to).expect("storage folder moved");
    let sides = run_both_on(&scenario).await;
    assert!(reads_storage(&sides));
    assert!(sides.oracle.rows.iter().all(|r| r.key.data_source == "Pod"));
    assert_same_rows(&sides);
}

// ---------------------------------------------------------------------------------------------
// Node roles (spec §6.4) and unallocated rows (§3 statement 3, §5 step 5)
// ---------------------------------------------------------------------------------------------

/// A September day of six 4-core, 16 GiB nodes, one role rule each (§6.4):
/// - m1 runs a pod of `openshift-kube-apiserver`: master;
/// - i1's node labels hold `"node_role_kubernetes_io": "infra"`: infra;
/// - w1, w2: nothing special: worker;
/// - cp1: the operator sent node_role `control-plane` on its pod rows: that role;
/// - bare: no node-label rows in the window: koku finds no row for it (inner join).
///
/// Every pod uses 1 core (request 2) and 1 GiB (request 2) all day.
fn roles_scenario() -> Scenario {
    let mut m = ClusterModel::empty(2026, 9, 1, 1);
    m.nodes = vec![
        node("m1", &[("zone", "a")]),
        node("i1", &[("node_role_kubernetes_io", "infra")]),
        node("w1", &[("zone", "b")]),
        node("w2", &[("zone", "c")]),
        node("cp1", &[("zone", "d")]),
        node("bare", &[("zone", "e")]),
    ];
    m.pods = vec![
        pod(
            "apiserver",
            "openshift-kube-apiserver",
            "m1",
            &[],
            whole_days(1),
        ),
        pod("app", "shop", "m1", &[], whole_days(1)),
        pod("router", "openshift-ingress", "i1", &[], whole_days(1)),
        pod("web", "shop", "w1", &[], whole_days(1)),
        pod("web", "shop", "w2", &[], whole_days(1)),
        pod("ctl", "shop", "cp1", &[], whole_days(1)),
        pod("lone", "shop", "bare", &[], whole_days(1)),
    ];
    let model = m.clone();
    let scenario = Scenario::write(m).expect("model written as Parquet");
    let tables = koku_tables_for_day(&model, 0);
    let mut daily = tables.pod_usage_daily;
    for row in daily.iter_mut().filter(|r| r.node == "cp1") {
        row.node_role = Some("control-plane".into());
    }
    let mut node_labels = tables.node_labels_daily;
    node_labels.retain(|r| r.node != "bare");
    for written in [
        write_table(scenario.root(), &model.account, &model.source_uuid, &daily),
        write_table(
            scenario.root(),
            &model.account,
            &model.source_uuid,
            &node_labels,
        ),
    ] {
        written.expect("day 1 rewritten");
    }
    scenario
}

/// A `reporting_ocp_nodes` row of node `name` (resource id `i-<name>`).
fn node_record(name: &str, cores: f64, cluster: &str, role: Option<&str>) -> NodeRecord {
    NodeRecord {
        node: name.into(),
        resource_id: Some(format!("i-{name}")),
        node_capacity_cpu_cores: Some(cores),
        cluster_id: Some(cluster.into()),
        node_role: role.map(str::to_string),
    }
}

/// `nodes` sorted, for comparing tables.
fn sorted(mut nodes: Vec<NodeRecord>) -> Vec<NodeRecord> {
    nodes.sort_by(|a, b| {
        (&a.node, &a.cluster_id, &a.node_role)
            .partial_cmp(&(&b.node, &b.cluster_id, &b.node_role))
            .unwrap()
    });
    nodes
}

/// The namespace of the unallocated rows of `node` on day 1 (one row: no pattern matches).
fn unallocated_namespace(sides: &Sides, node: &str) -> Option<String> {
    let rows = unallocated(sides, node, 1);
    assert_eq!(rows.len(), 1, "unallocated rows of {node}: {rows:#?}");
    rows[0].key.namespace.clone()
}

#[tokio::test]
async fn node_roles_come_from_the_apiserver_namespace_the_infra_label_or_the_operator() {
    let scenario = roles_scenario();
    let request = request_with(&scenario, Compatibility::Trino, Vec::new());
    let params = QueryParams::from_request(&request).unwrap();
    // An empty catalog: reporting_ocp_nodes is what the run finds, with this run's cluster id
    // and the capacity max(node_capacity_cpu_cores) = 4; bare has no node-label row: no row.
    let found = |name, role| node_record(name, 4.0, "test-cluster", Some(role));
    assert_eq!(
        sorted(oracle().ocp_nodes(&params).expect("node step")),
        [
            found("cp1", "control-plane"),
            found("i1", "infra"),
            found("m1", "master"),
            found("w1", "worker"),
            found("w2", "worker"),
        ]
    );
    let sides = run_both_with(&scenario, Compatibility::Trino, Vec::new()).await;
    let platform = Some("Platform unallocated".to_string());
    let worker = Some("Worker unallocated".to_string());
    assert_eq!(unallocated_namespace(&sides, "m1"), platform);
    assert_eq!(unallocated_namespace(&sides, "i1"), platform);
    assert_eq!(unallocated_namespace(&sides, "w1"), worker);
    assert_eq!(unallocated_namespace(&sides, "w2"), worker);
    // Another role, or no row: NULL namespace, and the row is still written.
    assert_eq!(unallocated_namespace(&sides, "cp1"), None);
    assert_eq!(unallocated_namespace(&sides, "bare"), None);
    // m1: 96 core-hours of capacity minus the apiserver and app pods' 2 · 24 = 48 used,
    // 2 · 48 = 96 requested.
    let m1 = unallocated(&sides, "m1", 1)[0];
    assert_eq!(m1.key.resource_id.as_deref(), Some("i-m1"));
    assert_value(m1, Metric::PodUsageCpuCoreHours, 96.0 - 48.0);
    assert_value(m1, Metric::PodRequestCpuCoreHours, 96.0 - 96.0);
    assert_same_rows(&sides);
}

#[tokio::test]
async fn the_first_role_recorded_wins_and_roles_are_read_across_clusters() {
    let scenario = roles_scenario();
    let catalog = vec![
        // Same node, resource id, capacity and cluster, with a role: kept (not worker).
        node_record("w1", 4.0, "test-cluster", Some("infra")),
        // The same without a role: filled.
        node_record("m1", 4.0, "test-cluster", None),
        // Another capacity (8.00 != 4.00): a new row is added beside it.
        node_record("i1", 8.0, "test-cluster", Some("worker")),
        // Other clusters' rows: never matched, but statement 3 reads every cluster (§12.6).
        node_record("bare", 4.0, "other-cluster", Some("master")),
        node_record("cp1", 4.0, "other-cluster", Some("worker")),
    ];
    let request = request_with(&scenario, Compatibility::Trino, catalog.clone());
    let params = QueryParams::from_request(&request).unwrap();
    let mut expected = catalog.clone();
    expected[1].node_role = Some("master".into());
    expected.push(node_record("i1", 4.0, "test-cluster", Some("infra")));
    expected.push(node_record(
        "cp1",
        4.0,
        "test-cluster",
        Some("control-plane"),
    ));
    expected.push(node_record("w2", 4.0, "test-cluster", Some("worker")));
    assert_eq!(
        sorted(oracle().ocp_nodes(&params).expect("node step")),
        sorted(expected)
    );

    let sides = run_both_with(&scenario, Compatibility::Trino, catalog).await;
    let platform = Some("Platform unallocated".to_string());
    let worker = Some("Worker unallocated".to_string());
    assert_eq!(unallocated_namespace(&sides, "w1"), platform, "infra kept");
    assert_eq!(
        unallocated_namespace(&sides, "m1"),
        platform,
        "master filled in"
    );
    // max over the rows of (node, resource_id): 'worker' > 'infra', 'worker' > 'control-plane',
    // and bare borrows the other cluster's 'master'.
    assert_eq!(unallocated_namespace(&sides, "i1"), worker);
    assert_eq!(unallocated_namespace(&sides, "cp1"), worker);
    assert_eq!(unallocated_namespace(&sides, "bare"), platform);
    assert_same_rows(&sides);
}

#[tokio::test]
async fn an_empty_role_counts_as_missing() {
    // koku's populate_node_table fills a role when `not tmp_node.node_role`: Python takes '' for
    // missing as it does None (§6.4), so the found role replaces it.
    let scenario = roles_scenario();
    let catalog = vec![node_record("w2", 4.0, "test-cluster", Some(""))];
    let request = request_with(&scenario, Compatibility::Trino, catalog.clone());
    let params = QueryParams::from_request(&request).unwrap();
    let nodes = oracle().ocp_nodes(&params).expect("node step");
    let w2: Vec<_> = nodes.iter().filter(|n| n.node == "w2").collect();
    assert_eq!(
        w2,
        [&node_record("w2", 4.0, "test-cluster", Some("worker"))]
    );
    let sides = run_both_with(&scenario, Compatibility::Trino, catalog).await;
    assert_eq!(
        unallocated_namespace(&sides, "w2").as_deref(),
        Some("Worker unallocated")
    );
    assert_same_rows(&sides);
}

#[tokio::test]
async fn unallocated_is_capacity_minus_every_pod_row_unclamped() {
    let mut m = ClusterModel::empty(2026, 9, 1, 1);
    m.enabled_tag_keys = vec!["team".into()];
    m.cost_category_patterns = vec![("%unallocated".into(), 5), ("Worker%".into(), 6)];
    m.nodes = vec![node("n1", &[("zone", "a")]), node("n2", &[("zone", "b")])];
    // Namespace c's enabled label changes at noon: its pod rows come twice (§6.1).
    m.namespaces = vec![namespace(
        "c",
        vec![
            LabelPeriod::new(0, &[("team", "red")]),
            LabelPeriod::new(12, &[("team", "blue")]),
        ],
    )];
    m.pods = vec![
        pod("p1", "a", "n1", &[], whole_days(1)),
        pod("p2", "b", "n1", &[], whole_days(1)),
        pod("p3", "c", "n1", &[], whole_days(1)),
        // A namespace named like statement 3's own: its Pod row is left out of the sums.
        pod("p4", "Worker unallocated", "n1", &[], whole_days(1)),
        pod("q1", "a", "n2", &[], whole_days(1)),
    ];
    let model = m.clone();
    let scenario = Scenario::write(m).expect("model written as Parquet");
    // n2 has no node-label rows: no role, NULL namespace.
    let mut node_labels = koku_tables_for_day(&model, 0).node_labels_daily;
    node_labels.retain(|r| r.node != "n2");
    write_table(
        scenario.root(),
        &model.account,
        &model.source_uuid,
        &node_labels,
    )
    .expect("node labels rewritten");
    let sides = run_both_on(&scenario).await;

    // n1, worker: "Worker unallocated" matches both patterns, and the join after the grouping
    // is not aggregated: two rows, ids 5 and 6, the same numbers.
    let n1 = unallocated(&sides, "n1", 1);
    let mut ids: Vec<_> = n1.iter().map(|r| r.cost_category_id).collect();
    ids.sort();
    assert_eq!(ids, [Some(5), Some(6)]);
    for row in n1 {
        assert_eq!(row.key.namespace.as_deref(), Some("Worker unallocated"));
        assert_eq!(row.key.resource_id.as_deref(), Some("i-n1"));
        // Pod rows a, b and c twice (p4's namespace is left out): 4 rows of 24 core-hours used,
        // 48 requested and effective (max(1, 2) = 2 cores each hour); the same in GiB-hours.
        assert_value(row, Metric::PodUsageCpuCoreHours, 96.0 - 4.0 * 24.0); // 0
        assert_value(row, Metric::PodRequestCpuCoreHours, 96.0 - 4.0 * 48.0); // -96
        assert_value(
            row,
            Metric::PodEffectiveUsageCpuCoreHours,
            96.0 - 4.0 * 48.0,
        );
        assert_value(row, Metric::PodUsageMemoryGigabyteHours, 384.0 - 4.0 * 24.0); // 288
        assert_value(
            row,
            Metric::PodRequestMemoryGigabyteHours,
            384.0 - 4.0 * 48.0,
        ); // 192
        assert_value(
            row,
            Metric::PodEffectiveUsageMemoryGigabyteHours,
            384.0 - 4.0 * 48.0,
        );
        assert_null(row, Metric::PodLimitCpuCoreHours);
        assert_null(row, Metric::PodLimitMemoryGigabyteHours);
        assert_value(row, Metric::NodeCapacityCpuCores, 4.0);
        assert_value(row, Metric::NodeCapacityCpuCoreHours, 96.0);
        assert_value(row, Metric::NodeCapacityMemoryGigabytes, 16.0);
        assert_value(row, Metric::NodeCapacityMemoryGigabyteHours, 384.0);
        // Cluster: n1 and n2, 96 + 96 core-hours, 384 + 384 GiB-hours.
        assert_value(row, Metric::ClusterCapacityCpuCoreHours, 192.0);
        assert_value(row, Metric::ClusterCapacityMemoryGigabyteHours, 768.0);
        assert_null(row, Metric::PersistentvolumeclaimCapacityGigabyte);
        assert_eq!(row.key.volume_labels, None);
    }
    // n2: no role, NULL namespace, no pattern matches NULL: one row. One pod: 96 − 24 used,
    // 96 − 48 requested; 384 − 24, 384 − 48 GiB-hours.
    let n2 = unallocated(&sides, "n2", 1);
    assert_eq!(n2.len(), 1);
    assert_eq!(n2[0].key.namespace, None);
    assert_eq!(n2[0].cost_category_id, None);
    assert_value(n2[0], Metric::PodUsageCpuCoreHours, 72.0);
    assert_value(n2[0], Metric::PodRequestCpuCoreHours, 48.0);
    assert_value(n2[0], Metric::PodUsageMemoryGigabyteHours, 360.0);
    assert_value(n2[0], Metric::PodRequestMemoryGigabyteHours, 336.0);
    assert_same_rows(&sides);
}

// ---------------------------------------------------------------------------------------------
// koku's PostgreSQL port (spec §9.3), against the Trino behaviour of the same input
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn postgres_reads_blank_labels_as_empty_maps() {
    // Trino fails on json_parse('') (see unparsable_labels_fail_both_the_engine_and_the_oracle);
    // the PostgreSQL port's filter_json_by_keys returns '{}' for it (§9.3).
    let mut model = precedence_model();
    model.write_namespace_labels = false;
    let scenario = Scenario::write(model.clone()).expect("model written as Parquet");
    let mut daily = koku_tables_for_day(&model, 0).pod_usage_daily;
    for row in daily.iter_mut().filter(|r| r.pod == "p1") {
        row.pod_labels = String::new();
    }
    write_table(scenario.root(), &model.account, &model.source_uuid, &daily).expect("written");
    let sides = run_both_with(&scenario, Compatibility::Postgres, Vec::new()).await;
    // Day 1, shop: p1 now has no labels of its own, so it shares p2's row: the node's enabled
    // labels only; 2 pods · 24 h · 1 core = 48 core-hours.
    let shop = pod_rows(&sides, "shop", 1);
    assert_eq!(shop.len(), 1);
    assert_eq!(
        shop[0].key.pod_labels.as_deref(),
        Some(r#"{"app":"node-app","environment":"node-env","team":"node-team"}"#)
    );
    assert_value(shop[0], Metric::PodUsageCpuCoreHours, 48.0);
    assert_same_rows(&sides);
}

#[tokio::test]
async fn without_hourly_rows_capacity_is_null_in_trino_and_zero_in_postgres() {
    let scenario = Scenario::write(precedence_model()).expect("model written as Parquet");
    std::fs::remove_file(pod_usage_file(&scenario, 0, false)).expect("hourly file of day 1");
    for compatibility in Compatibility::ALL {
        let sides = run_both_with(&scenario, compatibility, Vec::new()).await;
        // Day 1 on n1: p1, p2 (shop) and p3 (other) ran all day: 72 core-hours used, 144
        // requested; no hourly row, so no capacity-hours.
        let shop = pod_rows(&sides, "shop", 1);
        let n1 = unallocated(&sides, "n1", 1);
        assert_eq!(n1.len(), 1);
        match compatibility {
            Compatibility::Trino => {
                for row in shop {
                    assert_null(row, Metric::NodeCapacityCpuCoreHours);
                    assert_null(row, Metric::ClusterCapacityCpuCoreHours);
                }
                // NULL − 72 is NULL.
                assert_null(n1[0], Metric::PodUsageCpuCoreHours);
                assert_null(n1[0], Metric::PodRequestMemoryGigabyteHours);
            }
            Compatibility::Postgres => {
                for row in shop {
                    assert_value(row, Metric::NodeCapacityCpuCoreHours, 0.0);
                    assert_value(row, Metric::NodeCapacityMemoryGigabyteHours, 0.0);
                    assert_value(row, Metric::ClusterCapacityCpuCoreHours, 0.0);
                    assert_value(row, Metric::ClusterCapacityMemoryGigabyteHours, 0.0);
                }
                // 0 − 72 core-hours used, 0 − 144 requested; 0 − 144 GiB-hours requested.
                assert_value(n1[0], Metric::PodUsageCpuCoreHours, -72.0);
                assert_value(n1[0], Metric::PodRequestCpuCoreHours, -144.0);
                assert_value(n1[0], Metric::PodRequestMemoryGigabyteHours, -144.0);
            }
        }
        // The core count comes from the daily table either way.
        assert_value(n1[0], Metric::NodeCapacityCpuCores, 4.0);
        assert_same_rows(&sides);
    }
}

#[tokio::test]
async fn postgres_greatest_ignores_a_null_request_in_the_effective_fallback() {
    let mut m = ClusterModel::empty(2026, 9, 1, 1);
    m.nodes = vec![node("n1", &[])];
    m.pods = vec![pod("solo", "solo", "n1", &[], whole_days(1))];
    let model = m.clone();
    let scenario = Scenario::write(m).expect("model written as Parquet");
    // The daily row without effective usage and without requests: the fallback
    // greatest(usage, request) meets a NULL (§7.4).
    let daily = to_record_batch(&koku_tables_for_day(&model, 0).pod_usage_daily);
    let nulled = [
        "pod_effective_usage_cpu_core_seconds",
        "pod_request_cpu_core_seconds",
        "pod_effective_usage_memory_byte_seconds",
        "pod_request_memory_byte_seconds",
    ];
    let columns: Vec<ArrayRef> = daily
        .schema()
        .fields()
        .iter()
        .zip(daily.columns())
        .map(|(field, column)| {
            if nulled.contains(&field.name().as_str()) {
                new_null_array(&DataType::Float64, daily.num_rows())
            } else {
                column.clone()
            }
        })
        .collect();
    let daily = RecordBatch::try_new(daily.schema(), columns).unwrap();
    write_batch(&pod_usage_file(&scenario, 0, true), &daily).expect("daily file rewritten");
    for compatibility in Compatibility::ALL {
        let sides = run_both_with(&scenario, compatibility, Vec::new()).await;
        let row = pod_rows(&sides, "solo", 1)[0];
        let n1 = unallocated(&sides, "n1", 1)[0];
        assert_null(row, Metric::PodRequestCpuCoreHours);
        match compatibility {
            Compatibility::Trino => {
                // greatest(24 · 3600, NULL) is NULL, and so is its sum.
                assert_null(row, Metric::PodEffectiveUsageCpuCoreHours);
                assert_null(row, Metric::PodEffectiveUsageMemoryGigabyteHours);
                assert_null(n1, Metric::PodEffectiveUsageCpuCoreHours);
            }
            Compatibility::Postgres => {
                // greatest ignores the NULL: the usage, 24 core-hours and 24 GiB-hours.
                assert_value(row, Metric::PodEffectiveUsageCpuCoreHours, 24.0);
                assert_value(row, Metric::PodEffectiveUsageMemoryGigabyteHours, 24.0);
                // 96 − 24 and 384 − 24.
                assert_value(n1, Metric::PodEffectiveUsageCpuCoreHours, 72.0);
                assert_value(n1, Metric::PodEffectiveUsageMemoryGigabyteHours, 360.0);
            }
        }
        assert_same_rows(&sides);
    }
}

/// The case the properties leave out: a cluster with nodes and namespaces but no pod hour and no
/// volume has no daily file at all. The engine refuses it as bad input naming what is missing
/// (no pod-usage files for the source and month); the reference query, whose LEFT JOINs find
/// nothing, returns no rows.
#[tokio::test]
async fn a_cluster_without_pods_or_volumes_is_refused_and_the_oracle_finds_nothing() {
    let mut model = ClusterModel::empty(2026, 9, 1, 2);
    model.nodes.push(NodeModel {
        name: "n1".into(),
        resource_id: "i-1".into(),
        cpu_cores: 4.0,
        memory_bytes: 8.0 * 1_073_741_824.0,
        labels: Vec::new(),
    });
    let scenario = Scenario::write(model).expect("model written as Parquet");
    let error = scenario
        .run()
        .await
        .expect_err("no daily file to summarise");
    assert!(
        matches!(error.problem(), Some(Problem::NoData { .. })),
        "{error}"
    );
    let oracle = oracle()
        .run(&scenario.query_params())
        .expect("the oracle runs on empty tables");
    assert!(oracle.rows.is_empty(), "{} rows", oracle.rows.len());
}
