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
use std::sync::{Arc, Mutex};

use arrow::array::StringArray;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use ocp_engine::error::{Error, Problem, Service};
use ocp_engine::run::{run, Output, PhaseReport, PostgresTarget, RunObserver};
use ocp_engine::source::ScanProgress;
use ocp_harness::scenario::{run_quietly, Scenario};
use ocp_harness::synth::parquet_writer::POD_USAGE;
use ocp_harness::synth::{
    KokuTables, NodeLabelsDailyRow, PodUsageDailyRow, PodUsageHourlyRow, StorageUsageDailyRow,
};

// The tenant-schema machinery the bad-input suites share (harness/tests/common/case.rs); each
// suite uses a part of it.
#[allow(dead_code)]
mod common {
    pub mod case;
}
use common::case::{replaced, retyped, small_month, small_month_without_volumes, Case};

fn pod_usage_daily(t: KokuTables) -> Vec<PodUsageDailyRow> {
    t.pod_usage_daily
}

fn pod_usage_hourly(t: KokuTables) -> Vec<PodUsageHourlyRow> {
    t.pod_usage
}

fn storage_usage_daily(t: KokuTables) -> Vec<StorageUsageDailyRow> {
    t.storage_usage_daily
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
    let case = Case::new("bad_missing_column", small_month()).await;
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
    let case = Case::new("bad_column_type", small_month()).await;
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
/// not JSON (including `''` and the operator's `label_k:v|...` form that koku converts), JSON
/// that is not an object, a nested value. A key given twice does not: Trino 476 keeps its last
/// value (docs/semantics.md). Where the engine, not the JSON reader, finds the fault (JSON that
/// is not an object of scalars), its message says what a label text must be.
#[tokio::test]
async fn unparsable_labels_name_the_file_and_the_column() {
    let case = Case::new("bad_labels", small_month()).await;
    let request = case.request();
    for (text, says) in [
        (r#"{"app": "web""#, None),
        ("label_app:web|label_tier:db", None),
        ("", None),
        (r#"["app", "web"]"#, Some("expected a JSON object")),
        (r#"{"app": {"name": "web"}}"#, Some("not a string")),
    ] {
        let file = case.rewrite(pod_usage_daily, text_everywhere("pod_labels", text));
        let message = case
            .assert_rejected(&request, column_problem(&file, "pod_labels"))
            .await;
        if let Some(says) = says {
            assert!(message.contains(says), "{says:?} missing from: {message}");
        }
        case.restore();
    }
    let file = case.rewrite(
        node_labels_daily,
        text_everywhere("node_labels", "zone=east"),
    );
    case.assert_rejected(&request, column_problem(&file, "node_labels"))
        .await;
}

/// Records the phases a run finishes.
struct FinishedPhases {
    progress: ScanProgress,
    names: Mutex<Vec<&'static str>>,
}

impl RunObserver for FinishedPhases {
    fn progress(&self) -> &ScanProgress {
        &self.progress
    }

    fn phase_finished(&self, phase: &PhaseReport) {
        self.names.lock().unwrap().push(phase.name);
    }
}

/// Every label text is parsed in the labels phase, before the sink opens: a text Trino's cast
/// fails on stops the run there, before any day is aggregated and before the month's DELETE.
#[tokio::test]
async fn unparsable_labels_stop_the_run_before_aggregating() {
    let case = Case::new("labels_phase", small_month()).await;
    let bad = "zone=east";
    let file = case.rewrite(pod_usage_daily, text_everywhere("pod_labels", bad));
    assert_stopped_in_labels_phase(&case, &file, "pod_labels").await;
    case.restore();
    let column = "persistentvolume_labels";
    let file = case.rewrite(storage_usage_daily, text_everywhere(column, bad));
    assert_stopped_in_labels_phase(&case, &file, column).await;
}

async fn assert_stopped_in_labels_phase(case: &Case, file: &str, column: &str) {
    let observer = FinishedPhases {
        progress: ScanProgress::hidden(),
        names: Mutex::new(Vec::new()),
    };
    match run(&case.request(), &observer).await {
        Err(Error::Input { problem, .. }) => assert_eq!(problem, column_problem(file, column)),
        other => panic!("expected bad {column}, got {other:?}"),
    }
    assert_eq!(*observer.names.lock().unwrap(), ["read"], "{column}");
    case.assert_unchanged("a run stopped in the labels phase")
        .await;
}

#[tokio::test]
async fn no_pod_usage_files_name_the_source_and_the_month() {
    let case = Case::new("bad_no_files", small_month_without_volumes()).await;
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
    let dir = case.dir(POD_USAGE, true);
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
    let scenario = Scenario::write(small_month()).expect("write the scenario");
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
