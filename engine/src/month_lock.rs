//! One run at a time per tenant schema, source and month.
//!
//! Two runs writing the same month at once would each delete the rows their snapshot saw and
//! insert their own, so both months could survive side by side, and both could add the same
//! new node to `reporting_ocp_nodes` (each decided on the catalog it read before the other
//! wrote). So a run writing to PostgreSQL first takes a session-level advisory lock whose key
//! the server hashes from the schema, source and month, before it reads the catalog, and
//! releases it after its commit (or when its connection ends, whatever ends it). A second run
//! of the same month says it waits, waits up to its limit, then reads the catalog the first
//! one left. Runs of other sources or months take other keys and never wait for each other.
//!
//! The lock lives on the run's connection: behind a pooler in transaction mode (pgbouncer)
//! point the engine at the server itself (docs/operations.md "Concurrent runs").

use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::error::{Error, Result, Service};
use crate::postgres::describe;

/// Which month a run writes: the lock's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Month<'a> {
    pub schema: &'a str,
    pub source_uuid: Uuid,
    /// Any day of the month.
    pub day: NaiveDate,
}

impl Month<'_> {
    /// The text the server hashes into the lock key; one text per schema, source and month.
    fn key_text(&self) -> String {
        format!(
            "ocp-engine month {} {} {:04}-{:02}",
            self.schema,
            self.source_uuid,
            self.day.year(),
            self.day.month()
        )
    }

    /// For messages: `source S, 2026-03, schema X`.
    fn describe(&self) -> String {
        format!(
            "source {}, {:04}-{:02}, schema {}",
            self.source_uuid,
            self.day.year(),
            self.day.month(),
            self.schema
        )
    }
}

/// A held month lock; [`MonthLock::release`] it after the commit. Dropped without release, it
/// is released when its connection closes.
#[derive(Debug)]
pub struct MonthLock {
    key: i64,
}

impl MonthLock {
    /// Takes `month`'s lock on `client`'s session. When another session holds it, tells
    /// `on_wait` who and for how long this run will wait, then waits up to `wait` (zero: not at
    /// all). Waiting longer is an infrastructure failure that names the month and the holder.
    pub async fn acquire(
        client: &Client,
        month: &Month<'_>,
        wait: Duration,
        on_wait: impl FnOnce(&str),
    ) -> Result<MonthLock> {
        let failed = |e: tokio_postgres::Error| {
            Error::infrastructure(
                Service::PostgreSql,
                format!(
                    "cannot take the lock of {} that keeps two runs of one month apart: {}",
                    month.describe(),
                    describe(&e)
                ),
            )
        };
        let key: i64 = client
            .query_one("SELECT hashtextextended($1, 0)", &[&month.key_text()])
            .await
            .map_err(failed)?
            .get(0);
        let got: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .await
            .map_err(failed)?
            .get(0);
        if got {
            return Ok(MonthLock { key });
        }
        let holder = match holder_pid(client, key).await.map_err(failed)? {
            Some(pid) => format!("PostgreSQL backend pid {pid}"),
            None => "a session that has just let go".to_string(),
        };
        let too_long = || {
            Error::infrastructure(
                Service::PostgreSql,
                format!(
                    "another run is writing {} ({holder}) and did not finish within {} s \
                     (setting postgres.lock_wait_seconds / --lock-wait): nothing was read or \
                     written. Re-run once it has finished; a stuck run shows in pg_stat_activity.",
                    month.describe(),
                    wait.as_secs_f64()
                ),
            )
        };
        if wait.is_zero() {
            return Err(too_long());
        }
        on_wait(&format!(
            "another run is writing {} ({holder}); waiting up to {} s for it to finish",
            month.describe(),
            wait.as_secs_f64()
        ));
        // lock_timeout 0 would mean no limit; `wait` is not zero here.
        client
            .batch_execute(&format!("SET lock_timeout = {}", wait.as_millis().max(1)))
            .await
            .map_err(failed)?;
        let locked = client.execute("SELECT pg_advisory_lock($1)", &[&key]).await;
        client
            .batch_execute("RESET lock_timeout")
            .await
            .map_err(failed)?;
        match locked {
            Ok(_) => Ok(MonthLock { key }),
            Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => Err(too_long()),
            Err(e) => Err(failed(e)),
        }
    }

    /// Lets the next run of the month go.
    pub async fn release(self, client: &Client) -> Result<()> {
        client
            .execute("SELECT pg_advisory_unlock($1)", &[&self.key])
            .await
            .map_err(|e| {
                Error::infrastructure(
                    Service::PostgreSql,
                    format!(
                        "the rows are written, but the month's lock cannot be released (it is \
                         when the connection closes): {}",
                        describe(&e)
                    ),
                )
            })?;
        Ok(())
    }
}

/// The backend holding the advisory lock `key`, if any. PostgreSQL shows a bigint key in
/// `pg_locks` as its high half in `classid`, its low half in `objid`, and `objsubid` 1.
async fn holder_pid(client: &Client, key: i64) -> Result<Option<i32>, tokio_postgres::Error> {
    let high = (key >> 32) as u32;
    let low = key as u32;
    let row = client
        .query_opt(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND objsubid = 1 AND classid = $1 AND objid = $2 LIMIT 1",
            &[&high, &low],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}
