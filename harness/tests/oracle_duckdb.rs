//! The engine against the DuckDB oracle: the project's reference query
//! (`harness/sql/reference_pod.sql`), run by the pinned DuckDB CLI over the same Parquet files,
//! must give the engine's Pod rows.
//!
//! Each case writes a [`ClusterModel`] as koku's Parquet ([`Scenario`]), runs the engine
//! in-process and the oracle on the same folder, and compares rows with the harness's comparison
//! ([`compare`]): a NULL-safe multiset on the natural key, metrics within 1e-4 relative plus
//! 1e-9 absolute, `cost_category_id` exactly.
//! Hand-built cases also check the oracle against the spec's rule they exercise, so a wrong
//! reference query cannot agree with a wrong engine unnoticed.
//!
//! The first tests check the dialect rewrites on DuckDB itself: each must keep Trino's result
//! (spec §6.1, §7.4, §7.7, §7.14).
//!
//! The DuckDB CLI is found or installed by `ocp_harness::oracle::locate_duckdb` (`OCP_DUCKDB`,
//! the cache, or pip); `just oracle-setup` installs it beforehand.

use std::process::Command;
use std::sync::OnceLock;

use ocp_engine::summary::Metric;
use ocp_harness::compare::{compare, ComparableRow, Comparison, Tolerance};
use ocp_harness::oracle::OracleError;
use ocp_harness::oracle::{translate, Dialect, DuckDbOracle, Oracle, OracleRun, QueryParams};
use ocp_harness::scenario::Scenario;
use ocp_harness::synth::model::GIB;
use ocp_harness::synth::parquet_writer::{file_name, MANIFEST_ID, POD_USAGE};
use ocp_harness::synth::{
    generate, koku_tables_for_day, table_dir, write_table, ClusterModel, LabelPeriod,
    NamespaceModel, NodeModel, PodModel, Scale,
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

/// Compares the two sides with the harness's comparison at the acceptance tolerance (1e-4
/// relative, 1e-9 absolute; `cost_category_id` exactly) and panics with the differences.
#[track_caller]
fn assert_same_rows(sides: &Sides) -> Comparison {
    assert!(!sides.oracle.rows.is_empty(), "the oracle returned no rows");
    let comparison = compare(&sides.engine, &sides.oracle.rows, &Tolerance::default());
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

/// The oracle's rows of `namespace` on `day` (1-based day of the model's month).
fn oracle_rows<'a>(sides: &'a Sides, namespace: &str, day: u32) -> Vec<&'a ComparableRow> {
    sides
        .oracle
        .rows
        .iter()
        .filter(|r| r.key.namespace.as_deref() == Some(namespace))
        .filter(|r| chrono::Datelike::day(&r.key.usage_start) == day)
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

#[tokio::test]
async fn label_precedence_node_then_namespace_then_pod() {
    let sides = run_both(precedence_model()).await;
    // §6.1: node < namespace < pod; only enabled keys and vm_kubevirt_io_name survive.
    let labels = |ns: &str| -> Vec<String> {
        let mut l: Vec<String> = oracle_rows(&sides, ns, 1)
            .iter()
            .filter_map(|r| r.key.pod_labels.clone())
            .collect();
        l.sort();
        l
    };
    assert_eq!(
        labels("shop"),
        [
            r#"{"app":"node-app","environment":"ns-env","team":"ns-team"}"#,
            r#"{"app":"node-app","environment":"ns-env","team":"pod-team","vm_kubevirt_io_name":"vm1"}"#,
        ]
    );
    assert_eq!(
        labels("other"),
        [r#"{"app":"pod-app","environment":"node-env","team":"node-team"}"#]
    );
    // p3 ran 24 hours of day 1 and 6 of day 2: 24 core-hours, then 6.
    assert_value(
        oracle_rows(&sides, "other", 1)[0],
        Metric::PodUsageCpuCoreHours,
        24.0,
    );
    assert_value(
        oracle_rows(&sides, "other", 2)[0],
        Metric::PodUsageCpuCoreHours,
        6.0,
    );
    assert_same_rows(&sides);
}

#[tokio::test]
async fn no_enabled_keys_drops_every_label() {
    let mut model = precedence_model();
    model.enabled_tag_keys.clear();
    let sides = run_both(model).await;
    // §3 cte_pg_enabled_keys, §7.14: KEYS is NULL, so even vm_kubevirt_io_name goes; p1 and p2
    // then share one row of namespace shop: 2 pods · 24 h · 1 core = 48 core-hours.
    assert!(sides
        .oracle
        .rows
        .iter()
        .all(|r| r.key.pod_labels.as_deref() == Some("{}")));
    let shop = oracle_rows(&sides, "shop", 1);
    assert_eq!(shop.len(), 1);
    assert_value(shop[0], Metric::PodUsageCpuCoreHours, 48.0);
    assert_same_rows(&sides);
}

#[tokio::test]
async fn pods_without_a_node_are_left_out_but_their_hours_count_for_capacity() {
    let mut m = precedence_model();
    m.pods.push(pod("lost", "shop", "", &[], whole_days(2)));
    // A pod alone in its hours on node '' adds those hours to the hourly table (capacity 0).
    m.pods.push(pod("late", "batch", "", &[], vec![40, 41]));
    let sides = run_both(m).await;
    // §7.10: node != '' drops them from the Pod rows.
    assert!(sides
        .oracle
        .rows
        .iter()
        .all(|r| r.key.node.as_deref() == Some("n1")));
    assert!(oracle_rows(&sides, "batch", 2).is_empty());
    // §6.2: n1 reported all 24 hours of day 1 with 4 cores: 96 core-hours, for node and cluster.
    for row in oracle_rows(&sides, "shop", 1) {
        assert_value(row, Metric::NodeCapacityCpuCoreHours, 96.0);
        assert_value(row, Metric::ClusterCapacityCpuCoreHours, 96.0);
    }
    assert_same_rows(&sides);
}

#[tokio::test]
async fn labels_changing_within_a_day_duplicate_the_pod_rows() {
    let mut m = ClusterModel::empty(2026, 9, 1, 2);
    m.enabled_tag_keys = vec!["environment".into(), "team".into()];
    let mut n1 = node("n1", &[("environment", "prod")]);
    // Enabled key changes at 12:00 on day 1: two node-label variants that day (§6.1).
    n1.labels
        .push(LabelPeriod::new(12, &[("environment", "stage")]));
    let mut n2 = node("n2", &[("environment", "dev"), ("tier", "a")]);
    // Disabled key changes: the filtered labels stay the same, no duplicate.
    n2.labels.push(LabelPeriod::new(
        6,
        &[("environment", "dev"), ("tier", "b")],
    ));
    m.nodes = vec![n1, n2];
    m.namespaces = vec![namespace(
        "web",
        vec![
            LabelPeriod::new(0, &[("team", "red")]),
            LabelPeriod::new(30, &[("team", "blue")]),
        ],
    )];
    m.pods = vec![
        pod("a", "web", "n1", &[], whole_days(2)),
        pod("b", "web", "n2", &[], whole_days(2)),
        pod("c", "api", "n1", &[], whole_days(2)),
    ];
    let sides = run_both(m).await;
    // Day 1, namespace api on n1: two rows (prod, stage), each with the full 24 core-hours.
    let api: Vec<_> = oracle_rows(&sides, "api", 1);
    assert_eq!(api.len(), 2);
    for row in &api {
        assert_value(row, Metric::PodUsageCpuCoreHours, 24.0);
    }
    // Day 2, namespace web: node n1 has one variant (stage), web two (red until 06:00, blue):
    // 2 rows on n1 and 2 on n2.
    assert_eq!(oracle_rows(&sides, "web", 2).len(), 4);
    // Day 1, web: n1 2 variants x 1 namespace variant + n2 1 x 1 = 3 rows.
    assert_eq!(oracle_rows(&sides, "web", 1).len(), 3);
    assert_same_rows(&sides);
}

#[tokio::test]
async fn overlapping_cost_category_patterns_multiply_and_take_the_max_id() {
    let mut m = ClusterModel::empty(2026, 9, 1, 1);
    m.cost_category_patterns = vec![
        ("shop-%".into(), 2),
        ("shop-api".into(), 3),
        ("%-api".into(), 4),
        ("dat_".into(), 5),
        (r"weird\_%".into(), 6),
    ];
    m.nodes = vec![node("n1", &[])];
    for ns in [
        "shop-api",
        "shop-web",
        "data",
        "weird_ns",
        r"weird\_ns",
        "plain",
    ] {
        m.pods
            .push(pod(&format!("p-{ns}"), ns, "n1", &[], whole_days(1)));
    }
    let sides = run_both(m).await;
    let only = |ns: &str| {
        let rows = oracle_rows(&sides, ns, 1);
        assert_eq!(rows.len(), 1, "{ns}");
        rows[0].clone()
    };
    // §6.5: shop-api matches three patterns: id max(2, 3, 4) = 4 and every sum x 3.
    let shop_api = only("shop-api");
    assert_eq!(shop_api.cost_category_id, Some(4));
    assert_value(&shop_api, Metric::PodUsageCpuCoreHours, 72.0);
    assert_value(&shop_api, Metric::NodeCapacityCpuCoreHours, 96.0);
    assert_eq!(only("shop-web").cost_category_id, Some(2));
    assert_eq!(only("data").cost_category_id, Some(5));
    // No escape character: `weird\_%` needs a backslash, which only `weird\_ns` has.
    assert_eq!(only(r"weird\_ns").cost_category_id, Some(6));
    assert_eq!(only("weird_ns").cost_category_id, None);
    assert_eq!(only("plain").cost_category_id, None);
    assert_value(&only("plain"), Metric::PodUsageCpuCoreHours, 24.0);
    assert_same_rows(&sides);
}

#[tokio::test]
async fn missing_label_tables_read_as_empty_tables() {
    let mut model = precedence_model();
    model.write_node_labels = false;
    model.write_namespace_labels = false;
    let sides = run_both(model).await;
    // No node or namespace labels: only the pods' own enabled labels are left.
    let mut labels: Vec<_> = oracle_rows(&sides, "shop", 1)
        .iter()
        .filter_map(|r| r.key.pod_labels.clone())
        .collect();
    labels.sort();
    assert_eq!(
        labels,
        [r#"{"team":"pod-team","vm_kubevirt_io_name":"vm1"}"#, "{}"]
    );
    assert_same_rows(&sides);
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

/// Runs the engine and the oracle on a scenario already written (and edited) by the test.
async fn run_both_on(scenario: &Scenario) -> Sides {
    let report = scenario.run().await.expect("engine run");
    let oracle = oracle()
        .run(&QueryParams::for_scenario(scenario))
        .unwrap_or_else(|e| panic!("oracle run: {e}"));
    Sides {
        engine: report.rows.iter().map(ComparableRow::from).collect(),
        oracle,
    }
}

#[tokio::test]
async fn a_day_without_hourly_rows_has_null_capacity_hours() {
    let scenario = Scenario::write(precedence_model()).expect("model written as Parquet");
    std::fs::remove_file(pod_usage_file(&scenario, 0, false)).expect("hourly file of day 1");
    let sides = run_both_on(&scenario).await;
    // §3 Pod table: node and cluster capacity-hours come from the hourly table and are NULL
    // without a match; node_capacity_cpu_cores comes from the daily table.
    for row in oracle_rows(&sides, "shop", 1) {
        assert_eq!(row.metric(Metric::NodeCapacityCpuCoreHours), None);
        assert_eq!(row.metric(Metric::ClusterCapacityMemoryGigabyteHours), None);
        assert_value(row, Metric::NodeCapacityCpuCores, 4.0);
    }
    for row in oracle_rows(&sides, "shop", 2) {
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
        .run(&QueryParams::for_scenario(&scenario))
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
