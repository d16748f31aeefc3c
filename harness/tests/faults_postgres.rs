//! PostgreSQL failing under a run, and runs of one month at once: each failure is an
//! infrastructure error (exit 3) and the month is as the last good run left it.
//!
//! Every case starts from a tenant schema holding one good run's rows ([`Case`]), injects one
//! fault on the real server, runs the engine in-process, and checks the error's kind and then
//! [`Case::assert_unchanged`]: the checksum of the month's rows, the nodes, the clusters and
//! the run records, before and after. The faults are placed deterministically: a trigger that
//! sleeps holds the run inside its COPY, a row lock held by the test holds it inside its
//! DELETE, an observer that restarts the server between the read phase and the write.
//!
//! Covered (issue 15): the connection terminated mid-COPY (`pg_terminate_backend`),
//! `statement_timeout` and `lock_timeout` hit, the month's rows locked by another transaction,
//! a read-only transaction, the server restarted between catalog read and write; and the
//! month lock ([`ocp_engine::month_lock`]): runs of one month at once leave one run's rows and
//! every run recorded, a run waits for the month and says so, runs of other sources and months
//! never wait.

#[allow(dead_code)]
mod common {
    pub mod case;
    pub mod sessions;
}

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use common::case::{postgres_request, Case, MonthState};
use common::sessions::{backend_waiting, connect, hold_month_lock, lock_month_rows, other_session};
use ocp_engine::error::{Error, Service};
use ocp_engine::month_lock::Month;
use ocp_engine::postgres::{koku_tables_sql, quote_ident};
use ocp_engine::run::{run, PhaseReport, RunObserver, RunReport, RunRequest};
use ocp_engine::source::ScanProgress;
use ocp_harness::scenario::{run_quietly, Scenario};
use ocp_harness::synth::{generate, ClusterModel, Scale};
use ocp_testkit as testkit;
use tokio_postgres::Client;
use uuid::Uuid;

const SUMMARY: &str = "reporting_ocpusagelineitem_daily_summary";

/// The tiny generated cluster: three days, a few dozen rows of every data source.
fn model() -> ClusterModel {
    generate(Scale::Tiny, 15)
}

/// `url` with `-c setting=value` for every session it opens (libpq's `options`).
fn with_session_setting(url: &str, setting: &str, value: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20{setting}%3D{value}")
}

/// Asserts `result` is a PostgreSQL infrastructure failure (exit code 3).
#[track_caller]
fn assert_postgres_failure(result: Result<RunReport, Error>, fault: &str) {
    match result {
        Err(error @ Error::Infrastructure { .. }) => {
            assert!(
                matches!(
                    error,
                    Error::Infrastructure {
                        service: Service::PostgreSql,
                        ..
                    }
                ),
                "{fault}: {error:?}"
            );
            assert_eq!(error.exit_code(), 3, "{fault}");
        }
        Err(other) => panic!("{fault}: expected a PostgreSQL failure, got {other:?}"),
        Ok(report) => panic!(
            "{fault}: expected a PostgreSQL failure, the run wrote {} rows",
            report.rows.len()
        ),
    }
}

/// A trigger on the case's summary table that sleeps `seconds` before each inserted row: it
/// holds a run inside its COPY.
async fn slow_inserts(client: &Client, schema: &str, seconds: f64) {
    let q = quote_ident(schema);
    client
        .batch_execute(&format!(
            "CREATE FUNCTION {q}.sleep_before_insert() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN PERFORM pg_sleep({seconds}); RETURN NEW; END $$; \
             CREATE TRIGGER sleep_before_insert BEFORE INSERT ON {q}.{SUMMARY} \
             FOR EACH ROW EXECUTE FUNCTION {q}.sleep_before_insert();"
        ))
        .await
        .expect("create the sleeping trigger");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_terminated_mid_copy_leaves_the_month() {
    let case = Case::with_koku_catalog("fault_copy", model()).await;
    let admin = other_session().await;
    slow_inserts(&admin, case.schema(), 30.0).await;
    let request = case.request();
    let engine = tokio::spawn(async move { run_quietly(&request).await });
    let pid = backend_waiting(&admin, "COPY", case.schema(), "Timeout").await;
    let terminated: bool = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .expect("terminate the engine's session")
        .get(0);
    assert!(terminated);
    assert_postgres_failure(engine.await.expect("the run's task"), "terminated mid-COPY");
    case.assert_unchanged("connection terminated mid-COPY")
        .await;
}

#[tokio::test]
async fn statement_timeout_leaves_the_month() {
    let case = Case::with_koku_catalog("fault_stmt_timeout", model()).await;
    slow_inserts(&other_session().await, case.schema(), 1.0).await;
    let mut request = case.request();
    let target = request.postgres.as_mut().expect("a PostgreSQL request");
    target.url = with_session_setting(&target.url, "statement_timeout", "300");
    assert_postgres_failure(run_quietly(&request).await, "statement_timeout");
    case.assert_unchanged("statement_timeout").await;
}

#[tokio::test]
async fn rows_locked_by_another_transaction_hit_lock_timeout() {
    let case = Case::with_koku_catalog("fault_row_lock", model()).await;
    let mut holder = other_session().await;
    let tx = lock_month_rows(&mut holder, case.schema()).await;
    let mut request = case.request();
    let target = request.postgres.as_mut().expect("a PostgreSQL request");
    target.url = with_session_setting(&target.url, "lock_timeout", "300");
    assert_postgres_failure(run_quietly(&request).await, "rows locked, lock_timeout");
    tx.rollback().await.expect("let the rows go");
    case.assert_unchanged("rows locked by another transaction")
        .await;
}

#[tokio::test]
async fn read_only_transactions_leave_the_month() {
    let case = Case::with_koku_catalog("fault_read_only", model()).await;
    let mut request = case.request();
    let target = request.postgres.as_mut().expect("a PostgreSQL request");
    target.url = with_session_setting(&target.url, "default_transaction_read_only", "on");
    assert_postgres_failure(run_quietly(&request).await, "read-only transaction");
    case.assert_unchanged("read-only transaction").await;
}

/// Watches a run: records `waiting` messages, and calls `after_read` when the read phase ends.
struct Watch<F: Fn() + Sync> {
    progress: ScanProgress,
    waited: Mutex<Vec<String>>,
    after_read: F,
}

impl<F: Fn() + Sync> Watch<F> {
    fn new(after_read: F) -> Self {
        Watch {
            progress: ScanProgress::hidden(),
            waited: Mutex::new(Vec::new()),
            after_read,
        }
    }

    fn waited(&self) -> Vec<String> {
        self.waited.lock().expect("not poisoned").clone()
    }
}

impl<F: Fn() + Sync> RunObserver for Watch<F> {
    fn progress(&self) -> &ScanProgress {
        &self.progress
    }

    fn phase_finished(&self, phase: &PhaseReport) {
        if phase.name == "read" {
            (self.after_read)();
        }
    }

    fn waiting(&self, message: &str) {
        self.waited
            .lock()
            .expect("not poisoned")
            .push(message.to_string());
    }
}

/// A server of its own (restarting the shared one would fail every other test), restarted when
/// the run has read its catalog and its input and not yet begun its write.
#[tokio::test]
async fn server_restarted_between_catalog_read_and_write_leaves_the_month() {
    let server = tokio::task::spawn_blocking(testkit::start_throwaway)
        .await
        .expect("start a server");
    let client = connect(server.url()).await;
    let schema = "fault_restart";
    client
        .batch_execute(&koku_tables_sql(schema))
        .await
        .expect("create koku's tables");
    let scenario = Scenario::write(model()).expect("write the scenario");
    let mut request = postgres_request(&scenario, schema);
    request.postgres.as_mut().expect("a PostgreSQL request").url = server.url().to_string();
    run_quietly(&request).await.expect("the good run");
    let before = MonthState::read(&client, schema).await;
    assert!(before.rows > 0);

    // The observer runs on the run's own thread: the run stays between its read and its
    // write until the server is back.
    let watch = Watch::new(|| server.restart());
    assert_postgres_failure(run(&request, &watch).await, "server restarted");
    let client = connect(server.url()).await;
    assert_eq!(
        MonthState::read(&client, schema).await,
        before,
        "a restart between catalog read and write leaves the month"
    );
}

/// Three runs of one month started together: the month lock makes them write one after the
/// other, so the month holds exactly one run's rows (no row twice), every run is recorded and
/// no node is recorded twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_of_one_month_at_once_leave_one_runs_rows() {
    let case = Case::with_koku_catalog("fault_concurrent", model()).await;
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let request = case.request();
            tokio::spawn(async move { run_quietly(&request).await })
        })
        .collect();
    for run in runs {
        let report = run
            .await
            .expect("the run's task")
            .expect("each run succeeds");
        assert_eq!(report.rows.len(), case.good.rows.len());
    }
    let after = MonthState::read(case.client(), case.schema()).await;
    assert_eq!(after.rows, case.good.rows.len() as i64, "one run's rows");
    assert_eq!(after.duplicate_rows, 0, "no row twice");
    assert_eq!(after.duplicate_nodes, 0, "no node twice");
    assert_eq!(after.runs, 4, "the good run and the three");
}

#[tokio::test]
async fn a_run_waits_for_its_month_says_so_and_gives_up_in_time() {
    let case = Case::with_koku_catalog("fault_lock_wait", model()).await;
    let request = case.request();
    let month = Month {
        schema: case.schema(),
        source_uuid: request.source_uuid,
        day: request.start,
    };
    let (holder, _lock) = hold_month_lock(&month).await;
    let holder_pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .expect("own pid")
        .get(0);
    let watch = Watch::new(|| {});
    let waiting = RunRequest {
        month_lock_wait: Duration::from_millis(500),
        ..request
    };
    assert_postgres_failure(run(&waiting, &watch).await, "month held");
    let waited = watch.waited();
    assert_eq!(waited.len(), 1, "one waiting message: {waited:?}");
    assert!(
        waited[0].contains(&format!("pid {holder_pid}")),
        "the message names the holder: {}",
        waited[0]
    );
    case.assert_unchanged("a run that gave up waiting").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_run_goes_on_when_the_month_is_free() {
    let case = Case::with_koku_catalog("fault_lock_go", model()).await;
    let request = case.request();
    let month = Month {
        schema: case.schema(),
        source_uuid: request.source_uuid,
        day: request.start,
    };
    let (holder, lock) = hold_month_lock(&month).await;
    let watch = std::sync::Arc::new(Watch::new(|| {}));
    let engine = {
        let watch = watch.clone();
        tokio::spawn(async move { run(&request, &*watch).await })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while watch.waited().is_empty() {
        assert!(Instant::now() < deadline, "the run never said it waits");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    lock.release(&holder).await.expect("let the month go");
    let report = engine
        .await
        .expect("the run's task")
        .expect("the run goes on");
    assert_eq!(report.rows.len(), case.good.rows.len());
    assert_eq!(report.rows_deleted, case.good.rows.len() as u64);
}

/// A lock on another source's month and on another month of the same source: with no wait
/// allowed at all, the run still goes through.
#[tokio::test]
async fn runs_of_other_sources_and_months_do_not_wait() {
    let case = Case::with_koku_catalog("fault_lock_other", model()).await;
    let request = case.request();
    let other_source = Month {
        schema: case.schema(),
        source_uuid: Uuid::from_u128(0x0b5c_0000_0000_4000_8000_0000_0000_0002),
        day: request.start,
    };
    let other_month = Month {
        schema: case.schema(),
        source_uuid: request.source_uuid,
        day: NaiveDate::from_ymd_opt(2026, 10, 1).expect("a date"),
    };
    assert_ne!(
        other_month.day.month(),
        request.start.month(),
        "another month"
    );
    let _held = (
        hold_month_lock(&other_source).await,
        hold_month_lock(&other_month).await,
    );
    let no_wait = RunRequest {
        month_lock_wait: Duration::ZERO,
        ..request
    };
    let report = run_quietly(&no_wait).await.expect("no wait needed");
    assert_eq!(report.rows.len(), case.good.rows.len());
}
