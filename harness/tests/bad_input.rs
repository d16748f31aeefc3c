//! Bad input stops a run with [`Error::Input`] before PostgreSQL is touched, and an unreachable
//! PostgreSQL is [`Error::Infrastructure`] that names the server but never its password.
//!
//! Every bad-input case starts from a tenant schema that already holds a good run's rows (the
//! engine writing to PostgreSQL, catalog inline), breaks koku's Parquet in one way, runs again
//! and checks three things: the error is bad input; its message names the file (or the source
//! and month) and the column, so an operator knows what to fix; and the summary table and
//! `ocp_engine_runs` are exactly as before (nothing deleted, nothing written).
//!
//! Covered: a needed column missing (spec §2.2), a column of the wrong type (§2.3), label text
//! Trino's `cast(json_parse(x) as map(varchar, varchar))` fails on (§6.1), no daily pod-usage file
//! for the source and month. Missing node- and namespace-label tables are not bad input; that is
//! covered by the fixtures `fixtures/pod_label_reports_*.yaml`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use ocp_engine::error::{Error, Problem, Service};
use ocp_engine::postgres::quote_ident;
use ocp_engine::run::{Output, PostgresTarget, RunRequest};
use ocp_harness::scenario::{run_quietly, Scenario};
use ocp_harness::synth::model::GIB;
use ocp_harness::synth::parquet_writer::{file_name, MANIFEST_ID, POD_USAGE};
use ocp_harness::synth::{
    koku_tables_for_day, table_dir, to_record_batch, write_batch, write_cluster, ClusterModel,
    KokuRow, KokuTables, LabelPeriod, NodeLabelsDailyRow, NodeModel, PodModel, PodUsageDailyRow,
    PodUsageHourlyRow,
};
use ocp_testkit as testkit;
use tokio_postgres::Client;
use uuid::Uuid;

const SUMMARY: &str = "reporting_ocpusagelineitem_daily_summary";
const RUNS: &str = "ocp_engine_runs";

/// Two days, 2026-03-10 and 11; one labelled node, one labelled namespace, one pod running every
/// hour of both days with some usage, so a good run writes two Pod rows.
fn model() -> ClusterModel {
    let mut model = ClusterModel::empty(2026, 3, 10, 11);
    model.enabled_tag_keys = vec!["app".to_string()];
    model.nodes = vec![NodeModel {
        name: "node-a".to_string(),
        resource_id: "i-0aaa".to_string(),
        cpu_cores: 4.0,
        memory_bytes: 16.0 * GIB,
        labels: vec![LabelPeriod::new(0, &[("zone", "east")])],
    }];
    let mut web = PodModel::new("web-1", "shop", "node-a", (0..48).collect());
    web.labels = vec![("app".to_string(), "web".to_string())];
    web.cpu_usage_cores = 0.5;
    web.cpu_request_cores = 1.0;
    web.memory_usage_bytes = GIB;
    model.pods = vec![web];
    model
}

/// The summary table and the run records, as far as a failed run must leave them alone.
#[derive(Debug, PartialEq)]
struct Snapshot {
    summary_uuids: Vec<Uuid>,
    runs: i64,
}

/// A written model and a tenant schema holding one good run's rows.
struct Case {
    scenario: Scenario,
    client: Client,
    schema: String,
    before: Snapshot,
}

impl Case {
    /// Writes the model, creates a fresh schema and runs the engine into it once.
    async fn new(prefix: &str) -> Case {
        let scenario = Scenario::write(model()).expect("write the scenario");
        let (client, schema) = testkit::fresh_schema(prefix).await;
        let mut case = Case {
            scenario,
            client,
            schema,
            before: Snapshot {
                summary_uuids: Vec::new(),
                runs: 0,
            },
        };
        let report = run_quietly(&case.request())
            .await
            .unwrap_or_else(|e| panic!("the good run into {} fails: {e}", case.schema));
        assert!(!report.rows.is_empty(), "the good run writes rows");
        case.before = case.snapshot().await;
        assert_eq!(case.before.summary_uuids.len(), report.rows.len());
        assert_eq!(case.before.runs, 1);
        case
    }

    /// The whole model, catalog inline, rows to the case's schema.
    fn request(&self) -> RunRequest {
        let mut request = self.scenario.request();
        request.output = Output::Postgres;
        request.postgres = Some(PostgresTarget {
            url: testkit::server_url().to_string(),
            schema: self.schema.clone(),
        });
        request
    }

    async fn snapshot(&self) -> Snapshot {
        let q = quote_ident(&self.schema);
        let uuids = self
            .client
            .query(
                &format!("SELECT uuid FROM {q}.{SUMMARY} ORDER BY uuid"),
                &[],
            )
            .await
            .expect("read the summary uuids");
        let runs: i64 = self
            .client
            .query_one(&format!("SELECT count(*) FROM {q}.{RUNS}"), &[])
            .await
            .expect("count the runs")
            .get(0);
        Snapshot {
            summary_uuids: uuids.iter().map(|r| r.get(0)).collect(),
            runs,
        }
    }

    /// Runs `request`, asserts bad input of kind `expected` (whose message names its place:
    /// [`Error::place`]), and that PostgreSQL is as the good run left it.
    async fn assert_rejected(&self, request: &RunRequest, expected: Problem) {
        match run_quietly(request).await {
            Err(Error::Input { problem, message }) => {
                assert_eq!(problem, expected, "{message}");
                for place in Error::place(&problem) {
                    assert!(message.contains(place), "{place:?} missing from: {message}");
                }
            }
            Err(other) => panic!("expected bad input ({expected:?}), got {other:?}"),
            Ok(report) => panic!(
                "expected bad input ({expected:?}), the run wrote {} rows",
                report.rows.len()
            ),
        }
        assert_eq!(
            self.snapshot().await,
            self.before,
            "a rejected run leaves PostgreSQL alone"
        );
    }

    /// Replaces the first day's file of one daily or hourly table (`rows` picks the table from
    /// the day's [`KokuTables`]) with its batch passed through `change`; returns the file's path.
    fn rewrite<R: KokuRow>(
        &self,
        rows: fn(KokuTables) -> Vec<R>,
        change: impl FnOnce(RecordBatch) -> RecordBatch,
    ) -> String {
        let model = &self.scenario.model;
        let dir = table_dir(
            self.scenario.root(),
            &model.account,
            &model.source_uuid,
            R::REPORT_TYPE,
            R::DAILY,
            model.year,
            model.month,
        );
        let path = dir.join(file_name(
            R::REPORT_TYPE,
            model.first_date(),
            MANIFEST_ID,
            R::DAILY,
        ));
        let batch = to_record_batch(&rows(koku_tables_for_day(model, 0)));
        write_batch(&path, &change(batch)).expect("rewrite the file");
        path.to_string_lossy().into_owned()
    }

    /// Writes every file of the model again, undoing earlier breakage.
    fn restore(&self) {
        write_cluster(&self.scenario.model, self.scenario.root()).expect("restore the files");
    }

    /// The daily pod-usage folder of the model's month.
    fn pod_usage_daily_dir(&self) -> PathBuf {
        let model = &self.scenario.model;
        table_dir(
            self.scenario.root(),
            &model.account,
            &model.source_uuid,
            POD_USAGE,
            true,
            model.year,
            model.month,
        )
    }
}

fn pod_usage_daily(t: KokuTables) -> Vec<PodUsageDailyRow> {
    t.pod_usage_daily
}

fn pod_usage_hourly(t: KokuTables) -> Vec<PodUsageHourlyRow> {
    t.pod_usage
}

fn node_labels_daily(t: KokuTables) -> Vec<NodeLabelsDailyRow> {
    t.node_labels_daily
}

/// `batch` without column `name`.
fn without(name: &str) -> impl FnOnce(RecordBatch) -> RecordBatch + '_ {
    move |mut batch| {
        let index = batch.schema().index_of(name).expect("the column exists");
        batch.remove_column(index);
        batch
    }
}

/// `batch` with column `name` replaced by `column` (its field takes the new type).
fn replaced(batch: RecordBatch, name: &str, column: ArrayRef) -> RecordBatch {
    let schema = batch.schema();
    let index = schema.index_of(name).expect("the column exists");
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields[index] = Field::new(name, column.data_type().clone(), true);
    let mut columns = batch.columns().to_vec();
    columns[index] = column;
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("a consistent batch")
}

/// `batch` with column `name` cast to `data_type` (values that do not convert become NULL).
fn retyped(name: &str, data_type: DataType) -> impl FnOnce(RecordBatch) -> RecordBatch + '_ {
    move |batch| {
        let column = batch.column_by_name(name).expect("the column exists");
        let column = cast(column, &data_type).expect("the cast is supported");
        replaced(batch, name, column)
    }
}

/// `batch` with every value of text column `name` set to `text`.
fn text_everywhere<'a>(
    name: &'a str,
    text: &'a str,
) -> impl FnOnce(RecordBatch) -> RecordBatch + 'a {
    move |batch| {
        let rows = batch.num_rows();
        let column = Arc::new(StringArray::from(vec![text; rows]));
        replaced(batch, name, column)
    }
}

#[tokio::test]
async fn missing_column_names_the_file_and_the_column() {
    let case = Case::new("bad_missing_column").await;
    let request = case.request();
    for column in ["namespace", "pod_usage_cpu_core_seconds", "interval_start"] {
        let file = case.rewrite(pod_usage_daily, without(column));
        case.assert_rejected(&request, column_problem(&file, column))
            .await;
        case.restore();
    }
    // The hourly table gives node capacity (spec §3 cte_ocp_node_capacity).
    let column = "node_capacity_cpu_core_seconds";
    let file = case.rewrite(pod_usage_hourly, without(column));
    case.assert_rejected(&request, column_problem(&file, column))
        .await;
}

#[tokio::test]
async fn wrong_column_type_names_the_file_the_column_and_the_type() {
    let case = Case::new("bad_column_type").await;
    let request = case.request();
    for (column, data_type) in [
        ("pod_usage_cpu_core_seconds", DataType::Utf8),
        ("interval_start", DataType::Int64),
        ("namespace", DataType::Float64),
    ] {
        let file = case.rewrite(pod_usage_daily, retyped(column, data_type));
        case.assert_rejected(&request, column_problem(&file, column))
            .await;
        case.restore();
    }
}

/// What aborts Trino's `cast(json_parse(x) as map(varchar, varchar))` (spec §6.1, §7 item 13):
/// not JSON (including `''` and the operator's `label_k:v|...` form that koku converts), a nested
/// value. A key given twice does not: Trino 476 keeps its last value (docs/semantics.md).
#[tokio::test]
async fn unparsable_labels_name_the_file_and_the_column() {
    let case = Case::new("bad_labels").await;
    let request = case.request();
    for text in [
        r#"{"app": "web""#,
        "label_app:web|label_tier:db",
        "",
        r#"{"app": {"name": "web"}}"#,
    ] {
        let file = case.rewrite(pod_usage_daily, text_everywhere("pod_labels", text));
        case.assert_rejected(&request, column_problem(&file, "pod_labels"))
            .await;
        case.restore();
    }
    let file = case.rewrite(
        node_labels_daily,
        text_everywhere("node_labels", "zone=east"),
    );
    case.assert_rejected(&request, column_problem(&file, "node_labels"))
        .await;
}

#[tokio::test]
async fn no_pod_usage_files_name_the_source_and_the_month() {
    let case = Case::new("bad_no_files").await;
    let source = case.scenario.model.source_uuid.to_string();

    // A month koku has no Parquet for.
    let mut april = case.request();
    april.start = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
    april.end = NaiveDate::from_ymd_opt(2026, 4, 2).unwrap();
    let searched = |month: &str| Problem::NoData {
        searched: format!(
            "{}/data/parquet/daily/{}/OCP/pod_usage/source={source}/year=2026/month={month}",
            case.scenario.root().display(),
            case.scenario.model.account
        ),
    };
    case.assert_rejected(&april, searched("04")).await;

    // The month's daily pod-usage files gone (hourly and label files still there).
    let dir = case.pod_usage_daily_dir();
    std::fs::remove_dir_all(&dir).expect("remove the daily pod-usage files");
    assert_eq!(
        searched("03"),
        Problem::NoData {
            searched: dir.display().to_string()
        }
    );
    case.assert_rejected(&case.request(), searched("03")).await;
}

/// A loopback port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("the bound address").port()
}

#[tokio::test]
async fn unreachable_postgres_names_the_server_not_the_password() {
    let scenario = Scenario::write(model()).expect("write the scenario");
    let password = "n0t-for-logs-7f3a";
    let port = closed_port().to_string();
    for url in [
        format!("postgresql://koku:{password}@127.0.0.1:{port}/koku"),
        format!("host=127.0.0.1 port={port} user=koku password={password} dbname=koku"),
    ] {
        let mut request = scenario.request();
        request.output = Output::Postgres;
        request.postgres = Some(PostgresTarget {
            url,
            schema: "org1234567".to_string(),
        });
        match run_quietly(&request).await {
            Err(Error::Infrastructure {
                service: Service::PostgreSql,
                message,
            }) => {
                assert!(message.contains("127.0.0.1"), "{message}");
                assert!(message.contains(&port), "{message}");
                assert!(!message.contains(password), "the password leaks: {message}");
            }
            other => panic!("expected an infrastructure error, got {other:?}"),
        }
    }
}

/// The problem of a bad `column` in `file`.
fn column_problem(file: &str, column: &str) -> Problem {
    Problem::Column {
        file: file.to_string(),
        column: column.to_string(),
    }
}
