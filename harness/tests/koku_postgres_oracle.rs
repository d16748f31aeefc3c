//! The koku oracle ([`KokuPostgresOracle`]) against a real PostgreSQL (the test kit's): rows
//! written by hand into koku's partitioned `reporting_ocpusagelineitem_daily_summary` come back as
//! the [`ComparableRow`]s stated beside them.
//!
//! Covered: every compared column mapped (labels made canonical, NULL metrics kept NULL, values
//! as koku's numeric(33,15) holds them); rows found in a monthly partition and in the default
//! partition; rows of another report period, another source or outside the dates left out; rows
//! with cloud infrastructure cost left out (koku's delete keeps them: another step's rows); the
//! report period looked up, or given and checked; clear errors for no report period, an
//! unreachable server, a missing schema or table; describe() never shows a password. And end to
//! end: the engine writes a generated cluster into PostgreSQL, and the oracle reads back exactly
//! the engine's rows.
//!
//! Every test has its own schema, so they run in parallel on the shared server.

use std::net::TcpListener;
use std::path::PathBuf;

use chrono::NaiveDate;
use ocp_engine::compat::Compatibility;
use ocp_engine::postgres::quote_ident;
use ocp_engine::run::{CatalogSource, Output, PostgresTarget};
use ocp_engine::summary::Metric;
use ocp_harness::compare::{compare, ComparableRow, NaturalKey, Tolerance, WrittenColumns};
use ocp_harness::oracle::{
    KokuPostgresOracle, KokuPostgresSettings, Oracle, OracleError, OracleRun, QueryParams,
};
use ocp_harness::scenario::{run_quietly, Scenario};
use ocp_harness::synth::{generate, Scale};
use ocp_testkit as testkit;
use tokio_postgres::Client;
use uuid::Uuid;

const SUMMARY: &str = "reporting_ocpusagelineitem_daily_summary";

/// The source whose rows the tests read.
const SOURCE: Uuid = Uuid::from_u128(0x5e0c0000_0000_4000_8000_000000000001);
/// Another source of the same tenant.
const OTHER_SOURCE: Uuid = Uuid::from_u128(0x5e0c0000_0000_4000_8000_000000000002);

fn day(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, day).unwrap()
}

/// The oracle on the test kit's server, reading `schema`.
fn oracle(schema: &str) -> KokuPostgresOracle {
    KokuPostgresOracle::new(KokuPostgresSettings {
        url: testkit::server_url().to_string(),
        schema: schema.to_string(),
    })
}

/// Parameters for `source` and the days `start..=end`. The koku oracle uses only those and the
/// report period: the folder, account, schema and catalog are deliberately ones that exist
/// nowhere.
fn params(source: Uuid, start: NaiveDate, end: NaiveDate, period: Option<i32>) -> QueryParams {
    QueryParams {
        location: PathBuf::from("/nonexistent"),
        account: "org0000000".to_string(),
        schema: "not_the_schema_read".to_string(),
        source_uuid: source,
        start,
        end,
        report_period_id: period,
        cluster_id: None,
        cluster_alias: None,
        enabled_tag_keys: vec![],
        cost_category_patterns: vec![],
        nodes: vec![],
        compatibility: Compatibility::Trino,
    }
}

/// A tenant schema with koku's tables (the project's DDL: the summary table range-partitioned on
/// `usage_start` with a default partition).
struct Tenant {
    client: Client,
    schema: String,
}

impl Tenant {
    async fn fresh(prefix: &str) -> Tenant {
        let (client, schema) = testkit::fresh_schema(prefix).await;
        Tenant { client, schema }
    }

    fn table(&self, name: &str) -> String {
        format!("{}.{name}", quote_ident(&self.schema))
    }

    /// koku's report period of `source` for 2026-`month`; its id.
    async fn period(&self, source: Uuid, cluster: &str, month: u32) -> i32 {
        testkit::add_report_period(
            &self.client,
            &self.schema,
            &source.to_string(),
            cluster,
            cluster,
            2026,
            month,
        )
        .await
    }

    /// koku's monthly partition `…_YYYY_MM` of the summary table, as its partition manager makes
    /// it: `[first of the month, first of the next)`.
    async fn monthly_partition(&self, year: i32, month: u32) {
        let from = NaiveDate::from_ymd_opt(year, month, 1).unwrap();
        let to = from + chrono::Months::new(1);
        let sql = format!(
            "CREATE TABLE {} PARTITION OF {} FOR VALUES FROM ('{from}') TO ('{to}')",
            self.table(&format!("{SUMMARY}_{year}_{month:02}")),
            self.table(SUMMARY)
        );
        self.client
            .batch_execute(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// `INSERT INTO <schema>.reporting_ocpusagelineitem_daily_summary (uuid, usage_end, <the
    /// columns>) VALUES (gen_random_uuid(), <usage_start>, <the literals>)`: one row through the
    /// partitioned parent (PostgreSQL puts it in its partition), every other column NULL.
    /// `columns` must include `usage_start`.
    async fn insert(&self, columns: &[(&str, &str)]) {
        let usage_start = columns
            .iter()
            .find(|(c, _)| *c == "usage_start")
            .expect("a row has a usage_start")
            .1;
        let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
        let values: Vec<&str> = columns.iter().map(|(_, v)| *v).collect();
        let sql = format!(
            "INSERT INTO {} (uuid, usage_end, {}) VALUES (gen_random_uuid(), {usage_start}, {})",
            self.table(SUMMARY),
            names.join(", "),
            values.join(", ")
        );
        self.client
            .batch_execute(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// A minimal Pod row of `period` and `source` on `usage_start`, told apart by `namespace`.
    async fn marker(&self, period: i32, source: Uuid, usage_start: NaiveDate, namespace: &str) {
        self.marker_with_cost(period, source, usage_start, namespace, "NULL")
            .await;
    }

    /// [`Tenant::marker`] with `infrastructure_raw_cost` set to the SQL literal `raw_cost`.
    async fn marker_with_cost(
        &self,
        period: i32,
        source: Uuid,
        usage_start: NaiveDate,
        namespace: &str,
        raw_cost: &str,
    ) {
        let (period, source) = (period.to_string(), format!("'{source}'"));
        let (usage_start, namespace) = (format!("'{usage_start}'"), format!("'{namespace}'"));
        self.insert(&[
            ("report_period_id", &period),
            ("source_uuid", &source),
            ("data_source", "'Pod'"),
            ("usage_start", &usage_start),
            ("namespace", &namespace),
            ("pod_usage_cpu_core_hours", "1"),
            ("infrastructure_raw_cost", raw_cost),
        ])
        .await;
    }

    /// (partition, namespace) of every row, sorted: where PostgreSQL put the rows.
    async fn partitions(&self) -> Vec<(String, String)> {
        let sql = format!(
            "SELECT c.relname::text, t.namespace FROM {} t \
             JOIN pg_class c ON c.oid = t.tableoid ORDER BY 1, 2",
            self.table(SUMMARY)
        );
        let rows = self.client.query(&sql, &[]).await.expect("read partitions");
        rows.iter().map(|r| (r.get(0), r.get(1))).collect()
    }
}

/// A key with `data_source` and `usage_start`, everything else NULL.
fn key(data_source: &str, usage_start: NaiveDate) -> NaturalKey {
    NaturalKey {
        data_source: data_source.to_string(),
        usage_start,
        namespace: None,
        node: None,
        resource_id: None,
        persistentvolumeclaim: None,
        persistentvolume: None,
        storageclass: None,
        pod_labels: None,
        volume_labels: None,
        written: WrittenColumns::default(),
    }
}

/// The written columns of a row of report period `period` of [`SOURCE`] on `usage_end`, the
/// rest NULL.
fn written(period: i32, usage_end: NaiveDate) -> WrittenColumns {
    WrittenColumns {
        usage_end: Some(usage_end),
        report_period_id: Some(period),
        source_uuid: Some(SOURCE.to_string()),
        ..WrittenColumns::default()
    }
}

fn text(s: &str) -> Option<String> {
    Some(s.to_string())
}

/// The metrics array with `values` set, the rest NULL.
fn metrics(values: &[(Metric, f64)]) -> [Option<f64>; 18] {
    let mut metrics = [None; 18];
    for &(metric, value) in values {
        metrics[metric as usize] = Some(value);
    }
    metrics
}

/// The rows sorted by key (the keys in these tests are distinct).
fn sorted(mut rows: Vec<ComparableRow>) -> Vec<ComparableRow> {
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    rows
}

/// The namespaces of a run's rows, sorted: which marker rows came back.
fn namespaces(run: &OracleRun) -> Vec<String> {
    let mut names: Vec<String> = run
        .rows
        .iter()
        .map(|r| r.key.namespace.clone().unwrap_or_default())
        .collect();
    names.sort();
    names
}

/// Hand-written rows of each kind the summary step writes, in koku's monthly partition
/// `_2026_09` and (for October, which has no partition) in the default partition, each read back
/// as the row stated beside its INSERT.
#[tokio::test]
async fn rows_come_back_mapped_from_monthly_and_default_partitions() {
    use Metric::*;
    let tenant = Tenant::fresh("kpo_map").await;
    tenant.monthly_partition(2026, 9).await;
    let september_id = tenant.period(SOURCE, "cluster-s", 9).await;
    let october_id = tenant.period(SOURCE, "cluster-s", 10).await;
    let (september, october) = (september_id.to_string(), october_id.to_string());
    let source = format!("'{SOURCE}'");

    // A Pod row. Its label text is not canonical: jsonb prints shorter keys first,
    // {"b": "1", "aa": "2"}; canonical is sorted, no spaces. The memory usage has 16 decimals:
    // numeric(33,15) rounds it half up to 1.666666666666667, koku's rounded value.
    tenant
        .insert(&[
            ("report_period_id", &september),
            ("source_uuid", &source),
            ("cluster_id", "'cluster-s'"),
            ("data_source", "'Pod'"),
            ("usage_start", "'2026-09-02'"),
            ("namespace", "'shop'"),
            ("node", "'node-a'"),
            ("resource_id", "'i-0aaa'"),
            ("pod_labels", r#"'{"b": "1", "aa": "2"}'"#),
            ("all_labels", r#"'{"b": "1", "aa": "2"}'"#),
            ("cost_category_id", "3"),
            ("pod_usage_cpu_core_hours", "12"),
            ("pod_request_cpu_core_hours", "24"),
            ("pod_effective_usage_cpu_core_hours", "24.5"),
            ("pod_limit_cpu_core_hours", "36"),
            ("pod_usage_memory_gigabyte_hours", "1.6666666666666667"),
            ("pod_request_memory_gigabyte_hours", "2"),
            ("pod_effective_usage_memory_gigabyte_hours", "2.25"),
            ("pod_limit_memory_gigabyte_hours", "4"),
            ("node_capacity_cpu_cores", "4"),
            ("node_capacity_cpu_core_hours", "96"),
            ("node_capacity_memory_gigabytes", "16"),
            ("node_capacity_memory_gigabyte_hours", "384"),
            ("cluster_capacity_cpu_core_hours", "108"),
            ("cluster_capacity_memory_gigabyte_hours", "480"),
            ("infrastructure_usage_cost", r#"'{"cpu": 0.000000000}'"#),
        ])
        .await;
    let pod = ComparableRow {
        key: NaturalKey {
            namespace: text("shop"),
            node: text("node-a"),
            resource_id: text("i-0aaa"),
            pod_labels: text(r#"{"aa":"2","b":"1"}"#),
            written: WrittenColumns {
                all_labels: text(r#"{"aa":"2","b":"1"}"#),
                infrastructure_usage_cost: text(r#"{"cpu":0.0}"#),
                cluster_id: text("cluster-s"),
                ..written(september_id, day(9, 2))
            },
            ..key("Pod", day(9, 2))
        },
        cost_category_id: Some(3),
        metrics: metrics(&[
            (PodUsageCpuCoreHours, 12.0),
            (PodRequestCpuCoreHours, 24.0),
            (PodEffectiveUsageCpuCoreHours, 24.5),
            (PodLimitCpuCoreHours, 36.0),
            (PodUsageMemoryGigabyteHours, 1.666666666666667),
            (PodRequestMemoryGigabyteHours, 2.0),
            (PodEffectiveUsageMemoryGigabyteHours, 2.25),
            (PodLimitMemoryGigabyteHours, 4.0),
            (NodeCapacityCpuCores, 4.0),
            (NodeCapacityCpuCoreHours, 96.0),
            (NodeCapacityMemoryGigabytes, 16.0),
            (NodeCapacityMemoryGigabyteHours, 384.0),
            (ClusterCapacityCpuCoreHours, 108.0),
            (ClusterCapacityMemoryGigabyteHours, 480.0),
            // the four storage metrics: NULL
        ]),
    };

    // A Storage row: claim, volume, class and volume labels; its pod metrics are NULL and stay
    // NULL (not 0). 1/3 GiB-month rounds to 0.333333333333333.
    tenant
        .insert(&[
            ("report_period_id", &september),
            ("source_uuid", &source),
            ("data_source", "'Storage'"),
            ("usage_start", "'2026-09-03'"),
            ("namespace", "'shop'"),
            ("node", "'node-a'"),
            ("resource_id", "'i-0aaa'"),
            ("persistentvolumeclaim", "'data-db-0'"),
            ("persistentvolume", "'pv-0001'"),
            ("storageclass", "'gp3'"),
            ("volume_labels", r#"'{"tier": "db", "app": "pg"}'"#),
            ("persistentvolumeclaim_capacity_gigabyte", "10"),
            (
                "persistentvolumeclaim_capacity_gigabyte_months",
                "0.3333333333333333",
            ),
            ("volume_request_storage_gigabyte_months", "0.5"),
            ("persistentvolumeclaim_usage_gigabyte_months", "0.25"),
        ])
        .await;
    let storage = ComparableRow {
        key: NaturalKey {
            namespace: text("shop"),
            node: text("node-a"),
            resource_id: text("i-0aaa"),
            persistentvolumeclaim: text("data-db-0"),
            persistentvolume: text("pv-0001"),
            storageclass: text("gp3"),
            volume_labels: text(r#"{"app":"pg","tier":"db"}"#),
            written: written(september_id, day(9, 3)),
            ..key("Storage", day(9, 3))
        },
        cost_category_id: None,
        metrics: metrics(&[
            (PersistentvolumeclaimCapacityGigabyte, 10.0),
            (
                PersistentvolumeclaimCapacityGigabyteMonths,
                0.333333333333333,
            ),
            (VolumeRequestStorageGigabyteMonths, 0.5),
            (PersistentvolumeclaimUsageGigabyteMonths, 0.25),
        ]),
    };

    // An unallocated row: 'Pod', no labels (pod_labels NULL stays NULL; all_labels '{}'), limits
    // NULL, a negative value kept as is.
    tenant
        .insert(&[
            ("report_period_id", &september),
            ("source_uuid", &source),
            ("data_source", "'Pod'"),
            ("usage_start", "'2026-09-02'"),
            ("namespace", "'Worker unallocated'"),
            ("node", "'node-a'"),
            ("resource_id", "'i-0aaa'"),
            ("all_labels", "'{}'"),
            ("pod_usage_cpu_core_hours", "84"),
            ("pod_request_cpu_core_hours", "-3.5"),
            ("node_capacity_cpu_core_hours", "96"),
        ])
        .await;
    let unallocated = ComparableRow {
        key: NaturalKey {
            namespace: text("Worker unallocated"),
            node: text("node-a"),
            resource_id: text("i-0aaa"),
            written: WrittenColumns {
                all_labels: text("{}"),
                ..written(september_id, day(9, 2))
            },
            ..key("Pod", day(9, 2))
        },
        cost_category_id: None,
        metrics: metrics(&[
            (PodUsageCpuCoreHours, 84.0),
            (PodRequestCpuCoreHours, -3.5),
            (NodeCapacityCpuCoreHours, 96.0),
        ]),
    };

    // October has no monthly partition: this row lands in the default partition.
    tenant
        .insert(&[
            ("report_period_id", &october),
            ("source_uuid", &source),
            ("data_source", "'Pod'"),
            ("usage_start", "'2026-10-05'"),
            ("namespace", "'shop'"),
            ("node", "'node-b'"),
            ("pod_labels", "'{}'"),
            ("pod_usage_cpu_core_hours", "0.000000000000001"),
        ])
        .await;
    let in_default = ComparableRow {
        key: NaturalKey {
            namespace: text("shop"),
            node: text("node-b"),
            pod_labels: text("{}"),
            written: written(october_id, day(10, 5)),
            ..key("Pod", day(10, 5))
        },
        cost_category_id: None,
        metrics: metrics(&[(PodUsageCpuCoreHours, 1e-15)]),
    };

    let monthly = format!("{SUMMARY}_2026_09");
    let default = format!("{SUMMARY}_default");
    assert_eq!(
        tenant.partitions().await,
        vec![
            (monthly.clone(), "Worker unallocated".to_string()),
            (monthly.clone(), "shop".to_string()),
            (monthly, "shop".to_string()),
            (default, "shop".to_string()),
        ],
        "three September rows in the monthly partition, the October one in the default"
    );

    let oracle = oracle(&tenant.schema);
    let september_run = oracle
        .run(&params(SOURCE, day(9, 1), day(9, 30), None))
        .expect("the September rows");
    assert_eq!(
        sorted(september_run.rows.clone()),
        sorted(vec![pod, storage, unallocated])
    );
    let october_run = oracle
        .run(&params(SOURCE, day(10, 1), day(10, 31), None))
        .expect("the October rows");
    assert_eq!(october_run.rows, vec![in_default]);

    // The select reads the partitioned parent, so every partition is covered.
    let parent = format!("FROM {}\n", tenant.table(SUMMARY));
    assert!(
        september_run.query_text.contains(&parent),
        "{}",
        september_run.query_text
    );
    assert!(september_run
        .query_text
        .contains("reporting_ocpusagereportperiod"));
    assert_eq!(
        september_run.peak_rss_bytes, None,
        "the server's memory is not measured"
    );
}

/// Only the rows of the source's report period, of that source and within the dates come back;
/// a given report period is used once checked against the source and month.
#[tokio::test]
async fn only_the_sources_period_and_dates_are_read() {
    let tenant = Tenant::fresh("kpo_filter").await;
    let ours = tenant.period(SOURCE, "cluster-s", 9).await;
    let ours_october = tenant.period(SOURCE, "cluster-s", 10).await;
    let theirs = tenant.period(OTHER_SOURCE, "cluster-o", 9).await;

    tenant
        .marker(ours, SOURCE, day(9, 2), "kept first day")
        .await;
    tenant
        .marker(ours, SOURCE, day(9, 3), "kept last day")
        .await;
    tenant.marker(ours, SOURCE, day(9, 1), "day before").await;
    tenant.marker(ours, SOURCE, day(9, 4), "day after").await;
    tenant
        .marker(
            theirs,
            OTHER_SOURCE,
            day(9, 2),
            "period of the other source",
        )
        .await;
    tenant
        .marker(ours, OTHER_SOURCE, day(9, 2), "our period, other source")
        .await;
    tenant
        .marker(ours_october, SOURCE, day(9, 2), "our October period")
        .await;

    let oracle = oracle(&tenant.schema);
    let kept = vec!["kept first day".to_string(), "kept last day".to_string()];
    let looked_up = oracle
        .run(&params(SOURCE, day(9, 2), day(9, 3), None))
        .expect("the period looked up");
    assert_eq!(namespaces(&looked_up), kept);
    let given = oracle
        .run(&params(SOURCE, day(9, 2), day(9, 3), Some(ours)))
        .expect("the period given");
    assert_eq!(namespaces(&given), kept);
    // koku stores report_period_start as midnight UTC; the lookup reads it in UTC whatever the
    // session's time zone (in New York that instant is still August 31st).
    let new_york = KokuPostgresOracle::new(KokuPostgresSettings {
        url: format!(
            "{}?options=-c%20TimeZone%3DAmerica%2FNew_York",
            testkit::server_url()
        ),
        schema: tenant.schema.clone(),
    });
    let in_new_york = new_york
        .run(&params(SOURCE, day(9, 2), day(9, 3), None))
        .expect("the period looked up in UTC");
    assert_eq!(namespaces(&in_new_york), kept);

    // A given period of another source or month is refused, not read.
    let params_error = |period: i32| -> String {
        match oracle.run(&params(SOURCE, day(9, 2), day(9, 3), Some(period))) {
            Err(e @ OracleError::Params(_)) => e.to_string(),
            other => panic!("period {period}: expected a parameter error, got {other:?}"),
        }
    };
    let other_source = params_error(theirs);
    for part in [
        &theirs.to_string(),
        &OTHER_SOURCE.to_string(),
        &SOURCE.to_string(),
    ] {
        assert!(other_source.contains(part), "{other_source}");
    }
    let other_month = params_error(ours_october);
    for part in ["2026-10", "2026-09"] {
        assert!(other_month.contains(part), "{other_month}");
    }
    let missing = params_error(999_999);
    assert!(
        missing.contains("999999") && missing.contains("reporting_ocpusagereportperiod"),
        "{missing}"
    );
}

/// koku's delete keeps rows carrying cloud infrastructure cost (spec §1.2 step 4a): another
/// step's rows, left out. A cost of 0 or NULL is the summary step's own.
#[tokio::test]
async fn rows_with_cloud_cost_are_left_out() {
    let tenant = Tenant::fresh("kpo_cloud").await;
    let period = tenant.period(SOURCE, "cluster-s", 9).await;
    for (namespace, raw_cost) in [
        ("no cost", "NULL"),
        ("zero cost", "0"),
        ("cloud cost", "12.5"),
        ("negative cloud cost", "-0.01"),
    ] {
        tenant
            .marker_with_cost(period, SOURCE, day(9, 2), namespace, raw_cost)
            .await;
    }
    // Rows the cost-model steps add after the summary carry a rate or monthly cost type (the
    // summary step writes neither, spec §4): not the summary's output either.
    for (namespace, column) in [
        ("cost model rate", "cost_model_rate_type"),
        ("monthly cost", "monthly_cost_type"),
    ] {
        tenant
            .insert(&[
                ("report_period_id", &period.to_string()),
                ("source_uuid", &format!("'{SOURCE}'")),
                ("data_source", "'Pod'"),
                ("usage_start", &format!("'{}'", day(9, 2))),
                ("namespace", &format!("'{namespace}'")),
                (column, "'Supplementary'"),
            ])
            .await;
    }
    let run = oracle(&tenant.schema)
        .run(&params(SOURCE, day(9, 2), day(9, 2), None))
        .expect("the rows");
    assert_eq!(namespaces(&run), vec!["no cost", "zero cost"]);
}

#[tokio::test]
async fn no_or_several_report_periods_are_clear_errors() {
    let tenant = Tenant::fresh("kpo_period").await;
    let oracle = oracle(&tenant.schema);
    let run = || oracle.run(&params(SOURCE, day(9, 2), day(9, 3), None));

    tenant.period(OTHER_SOURCE, "cluster-o", 9).await;
    tenant.period(SOURCE, "cluster-s", 8).await;
    let err = run().expect_err("no period of this source and month");
    assert!(matches!(err, OracleError::Params(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("no report period")
            && message.contains(&SOURCE.to_string())
            && message.contains("2026-09"),
        "the message names the source and the month: {message}"
    );

    // koku's unique key is (cluster, start, source): one source may have two in a month.
    tenant.period(SOURCE, "cluster-s", 9).await;
    tenant.period(SOURCE, "cluster-s-renamed", 9).await;
    let message = run().expect_err("two periods").to_string();
    assert!(
        message.contains("several report periods") && message.contains(&SOURCE.to_string()),
        "{message}"
    );
}

#[test]
fn an_unreachable_server_is_a_clear_error_without_the_password() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().unwrap().port()
    };
    let oracle = KokuPostgresOracle::new(KokuPostgresSettings {
        url: format!("postgresql://koku:s3cret-pw@127.0.0.1:{port}/koku"),
        schema: "org1234567".to_string(),
    });
    let err = oracle
        .run(&params(SOURCE, day(9, 2), day(9, 3), None))
        .expect_err("nothing listens there");
    assert!(matches!(err, OracleError::Query { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("cannot connect")
            && message.contains(&format!("127.0.0.1:{port}"))
            && message.contains("Check that the server runs"),
        "the message names the server and what to check: {message}"
    );
    assert!(!message.contains("s3cret-pw"), "{message}");
}

#[tokio::test]
async fn a_missing_schema_or_table_is_a_clear_error() {
    let missing_schema = oracle("kpo_no_such_schema")
        .run(&params(SOURCE, day(9, 2), day(9, 3), None))
        .expect_err("no such schema");
    assert!(
        matches!(missing_schema, OracleError::Params(_)),
        "{missing_schema:?}"
    );
    let message = missing_schema.to_string();
    assert!(
        message.contains("kpo_no_such_schema.reporting_ocpusagereportperiod does not exist")
            && message.contains("Check the schema setting"),
        "{message}"
    );

    // The schema is there with its report period, but not the summary table.
    let tenant = Tenant::fresh("kpo_no_table").await;
    tenant.period(SOURCE, "cluster-s", 9).await;
    tenant
        .client
        .batch_execute(&format!("DROP TABLE {}", tenant.table(SUMMARY)))
        .await
        .expect("drop the summary table");
    let message = oracle(&tenant.schema)
        .run(&params(SOURCE, day(9, 2), day(9, 3), None))
        .expect_err("no summary table")
        .to_string();
    assert!(
        message.contains(&format!("{}.{SUMMARY} does not exist", tenant.schema)),
        "{message}"
    );
}

#[test]
fn describe_and_debug_name_the_server_and_schema_but_never_the_password() {
    for url in [
        "postgresql://koku:s3cret@db.example:5432/koku",
        "host=db.example user=koku password=s3cret dbname=koku",
        "postgresql://koku@db.example/koku?sslmode=disable&password=s3cret",
    ] {
        let oracle = KokuPostgresOracle::new(KokuPostgresSettings {
            url: url.to_string(),
            schema: "org1234567".to_string(),
        });
        let described = oracle.describe();
        assert!(!described.contains("s3cret"), "{described}");
        let debugged = format!("{oracle:?}");
        assert!(
            !debugged.contains("s3cret") && debugged.contains("db.example"),
            "{debugged}"
        );
        assert!(
            described.starts_with("koku's rows in PostgreSQL ")
                && described.contains("db.example")
                && described.contains("schema org1234567"),
            "{described}"
        );
    }
}

/// The engine writes a generated cluster (Pod, Storage and unallocated rows) into PostgreSQL, with
/// koku's monthly partition in place, as a summary step would; the oracle reads back exactly the
/// engine's rows: every row matches, and the values differ by no more than the numeric(33,15)
/// rounding (tolerance 1e-12 relative, 1e-12 absolute).
#[tokio::test]
async fn the_oracle_reads_back_what_the_engine_wrote() {
    let scenario = Scenario::write(generate(Scale::Tiny, 7)).expect("write the scenario");
    let model = &scenario.model;
    let tenant = Tenant::fresh("kpo_e2e").await;
    tenant.monthly_partition(model.year, model.month).await;
    let keys: Vec<&str> = model.enabled_tag_keys.iter().map(String::as_str).collect();
    testkit::enable_tag_keys(&tenant.client, &tenant.schema, &keys).await;
    let names: Vec<(String, String)> = model
        .cost_category_patterns
        .iter()
        .map(|(pattern, id)| (pattern.clone(), format!("category {id}")))
        .collect();
    let patterns: Vec<(&str, &str)> = names
        .iter()
        .map(|(p, n)| (p.as_str(), n.as_str()))
        .collect();
    testkit::add_cost_category_patterns(&tenant.client, &tenant.schema, &patterns).await;
    testkit::add_report_period(
        &tenant.client,
        &tenant.schema,
        &model.source_uuid.to_string(),
        &model.cluster_id,
        &model.cluster_alias,
        model.year,
        model.month,
    )
    .await;

    let mut request = scenario.request();
    request.catalog = CatalogSource::Postgres;
    request.output = Output::Postgres;
    request.postgres = Some(PostgresTarget {
        url: testkit::server_url().to_string(),
        schema: tenant.schema.clone(),
    });
    request.report_period_id = None;
    request.cluster_id = None;
    request.cluster_alias = None;
    let report = run_quietly(&request)
        .await
        .unwrap_or_else(|e| panic!("the run into {} fails: {e}", tenant.schema));
    let engine: Vec<ComparableRow> = ComparableRow::of_run(&report);
    let sources: std::collections::BTreeSet<&str> =
        engine.iter().map(|r| r.key.data_source.as_str()).collect();
    assert_eq!(
        sources.into_iter().collect::<Vec<_>>(),
        ["Pod", "Storage"],
        "a cluster with both kinds of rows"
    );
    assert!(
        report.rows.iter().any(|r| r.is_unallocated()),
        "and unallocated rows"
    );

    // The engine looked the period up, so the oracle does too.
    let mut query = scenario.query_params();
    query.report_period_id = None;
    let run = oracle(&tenant.schema).run(&query).expect("koku's rows");
    assert_eq!(run.rows.len(), engine.len());
    let tolerance = Tolerance {
        relative: 1e-12,
        absolute: 1e-12,
    };
    let comparison = compare(&engine, &run.rows, &tolerance);
    assert!(
        comparison.only_in_engine.is_empty() && comparison.only_in_oracle.is_empty(),
        "only in engine: {:?}\nonly in oracle: {:?}",
        comparison.only_in_engine,
        comparison.only_in_oracle
    );
    assert_eq!(comparison.matched, engine.len() as u64);
    assert!(
        comparison.within_tolerance(),
        "verdict {:?}, worst {:?}",
        comparison.verdict,
        comparison.worst.first()
    );
}
