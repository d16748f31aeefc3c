//! Sessions of their own on a test server, as other clients of a site are, and watching what
//! the engine's session does there: the fault suites' way to place a fault at a known point.

use std::time::{Duration, Instant};

use ocp_engine::month_lock::{Month, MonthLock};
use ocp_engine::postgres::quote_ident;
use ocp_testkit as testkit;
use tokio_postgres::{Client, NoTls, Transaction};

const SUMMARY: &str = "reporting_ocpusagelineitem_daily_summary";

/// A client of its own on the tests' server, as another session of the site would be.
pub async fn other_session() -> Client {
    connect(testkit::server_url()).await
}

/// A session on the server of `url`, its connection driven on the current runtime.
pub async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .expect("connect to the test server");
    tokio::spawn(connection);
    client
}

/// Waits (up to 60 s) until a session of the server runs a statement starting with
/// `statement` on `schema` and waits on `wait_event_type`; returns its backend pid.
pub async fn backend_waiting(client: &Client, statement: &str, schema: &str, wait: &str) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let row = client
            .query_opt(
                "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() \
                 AND query LIKE $1 || '%' AND strpos(query, $2) > 0 AND wait_event_type = $3",
                &[&statement, &schema, &wait],
            )
            .await
            .expect("read pg_stat_activity");
        if let Some(row) = row {
            return row.get(0);
        }
        assert!(
            Instant::now() < deadline,
            "no session ran {statement}… on {schema} waiting on {wait} within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Holds every row of `schema`'s summary table `FOR UPDATE` until the transaction ends: a run then
/// waits inside its DELETE.
pub async fn lock_month_rows<'a>(session: &'a mut Client, schema: &str) -> Transaction<'a> {
    let tx = session.transaction().await.expect("begin");
    let locked = tx
        .query(
            &format!(
                "SELECT uuid FROM {}.{SUMMARY} FOR UPDATE",
                quote_ident(schema)
            ),
            &[],
        )
        .await
        .expect("lock the month's rows");
    assert!(!locked.is_empty(), "the good run's rows are there to lock");
    tx
}

/// `month`'s lock (`ocp_engine::month_lock`), held on a session of the test's own until the
/// lock is released or the session dropped.
pub async fn hold_month_lock(month: &Month<'_>) -> (Client, MonthLock) {
    let client = other_session().await;
    let lock = MonthLock::acquire(&client, month, Duration::ZERO, |_| {})
        .await
        .expect("the month is free");
    (client, lock)
}
