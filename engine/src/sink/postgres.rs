//! The PostgreSQL sink: in one transaction, record the nodes in `reporting_ocp_nodes` with koku's
//! first-role-wins rule (spec §6.4), delete the rows koku would delete for the source's
//! report period and dates (spec §1.2 4a: rows carrying `infrastructure_raw_cost` stay), insert
//! the new rows with binary COPY, day after day as they are computed, and record the run in
//! `ocp_engine_runs`. Any failure rolls the
//! whole transaction back, so a month is never left half written.

use std::pin::Pin;

use bytes::{BufMut, Bytes, BytesMut};
use chrono::{DateTime, NaiveDate, Utc};
use futures::SinkExt;
use rayon::prelude::*;
use tokio_postgres::types::{IsNull, ToSql, Type};
use tokio_postgres::{Client, CopyInSink, Transaction};
use uuid::Uuid;

use super::{prepare_row, Kind, PreparedRow, RunIdentity, Value, COLUMNS, PREPARE_CHUNK};
use crate::catalog::{query_error, run_cluster_sql};
use crate::compat::Compatibility;
use crate::error::Result;
use crate::node_roles::NodeRecording;
use crate::numeric::{Numeric, SCALE};
use crate::postgres::{engine_runs_sql, insert_cluster, insert_node, quote_ident};
use crate::summary::SummaryRow;

/// What the engine records about a run in `ocp_engine_runs`.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub engine_version: String,
    /// The koku variant the rows reproduce; it also decides their rounding.
    pub compatibility: Compatibility,
    pub rows_per_data_source: serde_json::Value,
    /// Seconds per phase finished before the write.
    pub phase_seconds: serde_json::Value,
    pub peak_rss_bytes: Option<i64>,
    pub started_at: DateTime<Utc>,
}

/// Rows deleted and inserted by a committed write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteCounts {
    pub deleted: u64,
    pub inserted: u64,
}

/// The month's write, open: in one transaction, the node step recorded and the month's old rows
/// deleted, then a binary COPY into which each day's rows go as the day is computed (encoded by
/// [`MonthWrite::encode`], which needs no connection and can run beside other work, then sent by
/// [`MonthWrite::send`]). Nothing is
/// visible to others until [`MonthWrite::commit`]; dropping it, or any error, rolls everything back
/// (the connection's end does the same for a killed process), so a month is never half written.
pub struct MonthWrite<'c> {
    tx: Transaction<'c>,
    copy: Pin<Box<CopyInSink<Bytes>>>,
    types: Vec<Type>,
    schema: String,
    identity: RunIdentity,
    compat: Compatibility,
    deleted: u64,
}

impl<'c> MonthWrite<'c> {
    /// Records the node step's `nodes`, deletes the rows of `identity.report_period_id` dated
    /// `delete_from..=end_date` (as koku does, spec §1.2 4a) and opens the COPY of the new rows.
    pub async fn begin(
        client: &'c mut Client,
        schema: &str,
        identity: &RunIdentity,
        nodes: &NodeRecording,
        (delete_from, end_date): (NaiveDate, NaiveDate),
        compat: Compatibility,
    ) -> Result<MonthWrite<'c>> {
        let schema_sql = quote_ident(schema);
        let failed = |what: &str, e| query_error(schema, what, e);
        let tx = client
            .transaction()
            .await
            .map_err(|e| failed("(transaction)", e))?;
        tx.batch_execute(&engine_runs_sql(schema))
            .await
            .map_err(|e| failed("ocp_engine_runs", e))?;
        record_nodes(&tx, &schema_sql, identity, nodes)
            .await
            .map_err(|e| failed("reporting_ocp_nodes", e))?;
        let deleted = tx
            .execute(
                &format!(
                    "DELETE FROM {schema_sql}.{SUMMARY_TABLE} \
                     WHERE usage_start >= $1 AND usage_start <= $2 AND report_period_id = $3 \
                     AND (infrastructure_raw_cost IS NULL OR infrastructure_raw_cost = 0)"
                ),
                &[&delete_from, &end_date, &identity.report_period_id],
            )
            .await
            .map_err(|e| failed(SUMMARY_TABLE, e))?;
        let column_list: Vec<&str> = COLUMNS.iter().map(|c| c.name()).collect();
        let sink = tx
            .copy_in(&format!(
                "COPY {schema_sql}.{SUMMARY_TABLE} ({}) FROM STDIN (FORMAT binary)",
                column_list.join(", ")
            ))
            .await
            .map_err(|e| failed(SUMMARY_TABLE, e))?;
        let mut write = MonthWrite {
            tx,
            copy: Box::pin(sink),
            types: COLUMNS.iter().map(|c| pg_type(c.kind())).collect(),
            schema: schema.to_string(),
            identity: identity.clone(),
            compat,
            deleted,
        };
        write.send(vec![Bytes::from_static(COPY_HEADER)]).await?;
        Ok(write)
    }

    /// `rows` as binary COPY data, [`PREPARE_CHUNK`] rows to a buffer, the chunks rounded and
    /// encoded across the cores; a value koku could not store fails, naming the row and the
    /// column (the first such row in order).
    pub fn encode(&self, rows: &[&SummaryRow]) -> Result<Vec<Bytes>> {
        let chunks: Vec<Result<Bytes>> = rows
            .par_chunks(PREPARE_CHUNK)
            .map(|chunk| {
                let mut out = BytesMut::new();
                for row in chunk {
                    let row = prepare_row(row, self.compat)?;
                    encode_row(&row, &self.identity, &self.types, &mut out);
                }
                Ok(out.freeze())
            })
            .collect();
        chunks.into_iter().collect()
    }

    /// Sends encoded COPY data to the server.
    pub async fn send(&mut self, data: Vec<Bytes>) -> Result<()> {
        for bytes in data {
            self.copy
                .as_mut()
                .feed(bytes)
                .await
                .map_err(|e| query_error(&self.schema, SUMMARY_TABLE, e))?;
        }
        self.copy
            .as_mut()
            .flush()
            .await
            .map_err(|e| query_error(&self.schema, SUMMARY_TABLE, e))
    }

    /// Ends the COPY, records the run in `ocp_engine_runs` and commits: the month is replaced.
    pub async fn commit(self, record: &RunRecord) -> Result<WriteCounts> {
        let MonthWrite {
            tx,
            mut copy,
            schema,
            identity,
            deleted,
            ..
        } = self;
        let failed = |what: &str, e| query_error(&schema, what, e);
        copy.as_mut()
            .send(Bytes::from_static(COPY_TRAILER))
            .await
            .map_err(|e| failed(SUMMARY_TABLE, e))?;
        let inserted = copy
            .as_mut()
            .finish()
            .await
            .map_err(|e| failed(SUMMARY_TABLE, e))?;
        tx.execute(
            &format!(
                "INSERT INTO {}.ocp_engine_runs (run_id, source_uuid, report_period_id, \
                 start_date, end_date, engine_version, compatibility_mode, rows_deleted, \
                 rows_per_data_source, phase_seconds, peak_rss_bytes, started_at, finished_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now())",
                quote_ident(&schema)
            ),
            &[
                &identity.run_id,
                &identity.source_uuid,
                &identity.report_period_id,
                &record.start_date,
                &record.end_date,
                &record.engine_version,
                &record.compatibility.as_str(),
                &(deleted as i64),
                &record.rows_per_data_source,
                &record.phase_seconds,
                &record.peak_rss_bytes,
                &record.started_at,
            ],
        )
        .await
        .map_err(|e| failed("ocp_engine_runs", e))?;
        tx.commit().await.map_err(|e| failed("(commit)", e))?;
        Ok(WriteCounts { deleted, inserted })
    }
}

/// The table the rows go to.
const SUMMARY_TABLE: &str = "reporting_ocpusagelineitem_daily_summary";

/// The start of binary COPY data: the signature, no flags, no header extension (PostgreSQL's
/// manual, COPY "Binary Format").
const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The end of binary COPY data: a field count of -1.
const COPY_TRAILER: &[u8] = &[0xff, 0xff];

/// One row of binary COPY data: its field count, then each field's length (-1 for NULL) and
/// bytes, `types` giving each column's wire type.
pub fn encode_row(row: &PreparedRow, identity: &RunIdentity, types: &[Type], out: &mut BytesMut) {
    out.put_i16(COLUMNS.len() as i16);
    for (column, ty) in COLUMNS.iter().zip(types) {
        let at = out.len();
        out.put_i32(0);
        let length = match encode_value(&column.value(row, identity), ty, out) {
            IsNull::Yes => -1,
            IsNull::No => (out.len() - at - 4) as i32,
        };
        out[at..at + 4].copy_from_slice(&length.to_be_bytes());
    }
}

/// Writes what koku's node step does to `reporting_ocp_nodes`, as [`crate::node_roles::record_nodes`]
/// decided it (spec §6.4): each filled role into its row (by `uuid`), each added row into the
/// run's cluster. The run's cluster is the one koku's `populate_cluster_table` picks, the first
/// `reporting_ocp_clusters` row of the source ([`run_cluster_sql`]), created with the run's
/// cluster id and alias when the source has none. Nothing is matched or rounded here.
async fn record_nodes(
    tx: &Transaction<'_>,
    schema_sql: &str,
    identity: &RunIdentity,
    nodes: &NodeRecording,
) -> std::result::Result<(), tokio_postgres::Error> {
    for (uuid, role) in &nodes.filled {
        tx.execute(
            &format!("UPDATE {schema_sql}.reporting_ocp_nodes SET node_role = $1 WHERE uuid = $2"),
            &[role, uuid],
        )
        .await?;
    }
    if nodes.added.is_empty() {
        return Ok(());
    }
    let cluster: Uuid = match tx
        .query_opt(&run_cluster_sql(schema_sql), &[&identity.source_uuid])
        .await?
    {
        Some(row) => row.get(0),
        None => {
            insert_cluster(
                tx,
                schema_sql,
                &identity.cluster_id,
                identity.cluster_alias.as_deref(),
                identity.source_uuid,
            )
            .await?
        }
    };
    for node in &nodes.added {
        insert_node(tx, schema_sql, node, Some(cluster)).await?;
    }
    Ok(())
}

/// The wire type of each column kind.
pub fn pg_type(kind: Kind) -> Type {
    match kind {
        Kind::Uuid => Type::UUID,
        Kind::Int => Type::INT4,
        Kind::Text => Type::VARCHAR,
        Kind::Date => Type::DATE,
        Kind::Json => Type::JSONB,
        Kind::Numeric => Type::NUMERIC,
    }
}

/// Appends `value` to `out` in PostgreSQL's binary format of the wire type `ty` (its column's
/// [`pg_type`]); whether it is NULL.
fn encode_value(value: &Value, ty: &Type, out: &mut BytesMut) -> IsNull {
    let encoded = match value {
        Value::Uuid(u) => u.to_sql(ty, out),
        Value::Int(i) => i.to_sql(ty, out),
        Value::Text(t) => t.to_sql(ty, out),
        Value::Date(d) => d.to_sql(ty, out),
        Value::Json(None) | Value::Numeric(None) => Ok(IsNull::Yes),
        Value::Json(Some(text)) => {
            // jsonb binary format: version byte 1, then the JSON text.
            out.put_u8(1);
            out.put_slice(text.as_bytes());
            Ok(IsNull::No)
        }
        Value::Numeric(Some(n)) => {
            put_numeric(*n, out);
            Ok(IsNull::No)
        }
    };
    encoded.expect("uuid, int4, text and date values encode")
}

/// PostgreSQL's binary NUMERIC: digit count, weight, sign, display scale, base-10000 digits.
fn put_numeric(n: Numeric, out: &mut BytesMut) {
    let (weight, digits) = n.base10000();
    out.put_i16(digits.len() as i16);
    out.put_i16(weight);
    out.put_u16(if n.0 < 0 { 0x4000 } else { 0x0000 });
    out.put_u16(SCALE as u16);
    for digit in digits {
        out.put_i16(digit);
    }
}
