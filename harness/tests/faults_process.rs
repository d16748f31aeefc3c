//! The engine's process stopped mid-run, as a worker's shutdown or the kernel's OOM killer
//! stops it: SIGKILL during the read, at the start of the write and with every day written but
//! not committed, and SIGTERM (a clean stop with a message) at the same moments. Whatever the
//! moment, the month is as the last good run left it.
//!
//! The binary runs as a child process (`--log-format json`), on a tenant schema holding one
//! good run's rows with the catalog in koku's tables ([`Case::with_koku_catalog`]). The stop is
//! placed at a known point of the run:
//! - read: the input is koku's on-prem tables and the test holds an exclusive lock on the pod
//!   usage table, so the engine's session reading it waits on its first query of it;
//! - start of the write: the test holds the month's rows `FOR UPDATE`, so the engine's session
//!   waits inside its DELETE, its transaction open (its node step done), before any day is
//!   aggregated and copied;
//! - every day copied: the test holds `ocp_engine_runs` in SHARE mode, so the session waits on
//!   the run's record, the last statement before the commit, with the whole month copied into
//!   its open transaction (aggregate and write interleave day by day, so this is the latest
//!   moment of both).

#[allow(dead_code)]
mod common {
    pub mod case;
    pub mod engine_child;
    pub mod sessions;
}

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use common::case::Case;
use common::engine_child::{Engine, Input, SIGKILL, SIGTERM};
use common::sessions::{backend_waiting, lock_month_rows, other_session};
use ocp_engine::postgres::quote_ident;
use ocp_harness::onprem_tables::load_parquet_tree;
use ocp_harness::synth::{generate, Scale};
use serde_json::Value;

const POD_USAGE: &str = "openshift_pod_usage_line_items";

/// What a stop by `signal` must look like: SIGKILL ends the process by the signal; SIGTERM
/// ends it with exit 3 and a `run_failed` event of the host, after no `run_finished`.
fn assert_stopped(status: ExitStatus, events: &[Value], signal: i32) {
    assert!(
        !events.iter().any(|e| e["event"] == "run_finished"),
        "the run did not finish: {events:?}"
    );
    match signal {
        SIGKILL => assert_eq!(status.signal(), Some(SIGKILL), "{status:?}"),
        _ => {
            assert_eq!(
                status.code(),
                Some(3),
                "SIGTERM: exit 3, {status:?} {events:?}"
            );
            let last = events.last().expect("a run_failed event");
            assert_eq!(last["event"], "run_failed", "{last}");
            assert_eq!(last["error_kind"], "infrastructure", "{last}");
            assert_eq!(last["service"], "host", "{last}");
            assert_eq!(last["exit_code"], 3, "{last}");
        }
    }
}

/// Stopped inside its DELETE, transaction open, before the first day is copied.
async fn stopped_during_write(signal: i32, prefix: &str) {
    let case = Case::with_koku_catalog(prefix, generate(Scale::Tiny, 3)).await;
    let mut holder = other_session().await;
    let rows = lock_month_rows(&mut holder, case.schema()).await;
    let engine = Engine::start(&case, Input::Parquet);
    backend_waiting(case.client(), "DELETE", case.schema(), "Lock").await;
    let (status, events) = engine.stop(signal);
    assert_stopped(status, &events, signal);
    let finished = |phase: &str| {
        events
            .iter()
            .any(|e| e["event"] == "phase_finished" && e["phase"] == phase)
    };
    assert!(
        finished("labels") && !finished("aggregate"),
        "the stop came after the labels, before the days: {events:?}"
    );
    rows.rollback().await.expect("let the rows go");
    case.assert_unchanged("a run stopped during its write")
        .await;
}

#[tokio::test]
async fn sigkill_during_write_leaves_the_month() {
    stopped_during_write(SIGKILL, "kill_write").await;
}

#[tokio::test]
async fn sigterm_during_write_rolls_back_and_says_so() {
    stopped_during_write(SIGTERM, "term_write").await;
}

/// Stopped while reading the on-prem pod usage table.
async fn stopped_during_read(signal: i32, prefix: &str) {
    let model = generate(Scale::Tiny, 4);
    let case = Case::with_koku_catalog(prefix, model).await;
    load_parquet_tree(
        case.client(),
        case.scenario.root(),
        &case.scenario.model.account,
        case.schema(),
    )
    .await
    .expect("load the on-prem tables");
    let mut holder = other_session().await;
    let tx = holder.transaction().await.expect("begin");
    tx.batch_execute(&format!(
        "LOCK TABLE {}.{POD_USAGE} IN ACCESS EXCLUSIVE MODE",
        quote_ident(case.schema())
    ))
    .await
    .expect("lock the pod usage table");
    let engine = Engine::start(&case, Input::OnPrem);
    backend_waiting(case.client(), "", POD_USAGE, "Lock").await;
    let (status, events) = engine.stop(signal);
    assert_stopped(status, &events, signal);
    assert!(
        !events.iter().any(|e| e["event"] == "phase_finished"),
        "the stop came in the read phase: {events:?}"
    );
    tx.rollback().await.expect("let the table go");
    case.assert_unchanged("a run stopped during its read").await;
}

#[tokio::test]
async fn sigkill_during_read_leaves_the_month() {
    stopped_during_read(SIGKILL, "kill_read").await;
}

#[tokio::test]
async fn sigterm_during_read_rolls_back_and_says_so() {
    stopped_during_read(SIGTERM, "term_read").await;
}

/// Stopped with every day aggregated and copied, before the commit: the test holds the runs
/// table, so the engine's session waits on the run's record, the last statement before the
/// commit, its transaction holding the whole month.
async fn stopped_with_every_day_copied(signal: i32, prefix: &str) {
    let case = Case::with_koku_catalog(prefix, generate(Scale::Typical, 5)).await;
    let mut holder = other_session().await;
    let runs = holder.transaction().await.expect("begin");
    let lock = format!(
        "LOCK TABLE {}.ocp_engine_runs IN SHARE MODE",
        quote_ident(case.schema())
    );
    runs.batch_execute(&lock)
        .await
        .expect("hold the runs table");
    let engine = Engine::start(&case, Input::Parquet);
    backend_waiting(case.client(), "INSERT", case.schema(), "Lock").await;
    let (status, events) = engine.stop(signal);
    runs.rollback().await.expect("let the runs table go");
    assert_stopped(status, &events, signal);
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "phase_finished" && e["phase"] == "aggregate"),
        "the stop came after the last day: {events:?}"
    );
    case.assert_unchanged("a run stopped with every day copied")
        .await;
}

#[tokio::test]
async fn sigkill_with_every_day_copied_leaves_the_month() {
    stopped_with_every_day_copied(SIGKILL, "kill_copied").await;
}

#[tokio::test]
async fn sigterm_with_every_day_copied_rolls_back_and_says_so() {
    stopped_with_every_day_copied(SIGTERM, "term_copied").await;
}
