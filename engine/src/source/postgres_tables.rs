//! koku's on-prem line-item tables (spec §9.1): the same five tables as the Parquet, kept in
//! PostgreSQL in the tenant schema, range-partitioned by `usage_start`, with `source`, `year` and
//! `month` as text columns instead of folders.
//!
//! Each table of a run is read on its own connection by one binary `COPY (SELECT …) TO STDOUT`,
//! filtered in PostgreSQL by source and by the run's days on `usage_start` (so only the month's
//! partitions are touched), and turned into the same [`Batch`]es the Parquet reader produces,
//! windowed on `interval_start` as the Parquet is. Nothing after the read knows where rows came
//! from: a table is reported as one "file" named `schema.table`.
//!
//! A table that does not exist, or holds no row of the source in the month, is read as a Parquet
//! folder without files is: no partial at all (the storage rule of spec §12.9 included).

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Builder, StringBuilder, TimestampMillisecondBuilder};
use chrono::{DateTime, Months, NaiveDate, Utc};
use futures::{pin_mut, TryStreamExt};
use tokio_postgres::binary_copy::{BinaryCopyOutRow, BinaryCopyOutStream};
use tokio_postgres::types::Type;
use tokio_postgres::Client;

use super::columns::{Batch, ColumnKind, ColumnSpec};
use super::{Partition, Table, BATCH_ROWS};
use crate::error::{Error, Result, Service};
use crate::postgres::{connect, describe, quote_ident};
use crate::redact::redact_password;
use crate::window::{date_of_day, DayWindow};

/// A PostgreSQL database and the tenant schema holding koku's on-prem line-item tables.
#[derive(Debug, Clone)]
pub struct TableSource {
    url: String,
    schema: String,
}

impl TableSource {
    /// The tables of `schema` in the database at `url` (connected per table when read).
    pub fn new(url: &str, schema: &str) -> TableSource {
        TableSource {
            url: url.to_string(),
            schema: schema.to_string(),
        }
    }

    /// The database and schema as a person names them, password removed.
    pub fn display(&self) -> String {
        format!("{} schema {}", redact_password(&self.url), self.schema)
    }

    /// `schema.table`, the name every message and the run report use for a table.
    pub fn table_name(&self, table: Table) -> String {
        format!("{}.{}", self.schema, table.trino_name())
    }

    /// Reads the rows of `table` for the source of `partition` whose `usage_start` is a day of
    /// `window`, keeping those whose `interval_start` (`columns[0]`) lies in the window, and
    /// folds them into one `P`. Returns no partial when the table is missing or has no row of
    /// the source in the partition's month; otherwise one, named [`Self::table_name`].
    ///
    /// Bad input (a required column missing, a column of the wrong type) is an error naming the
    /// table and the column; a refused query (no SELECT privilege, the server gone) is an
    /// infrastructure error naming the table.
    pub async fn scan<P>(
        &self,
        table: Table,
        columns: &[ColumnSpec],
        partition: &Partition,
        window: DayWindow,
        init: impl Fn() -> P,
        fold: impl Fn(&mut P, &Batch) -> Result<()>,
    ) -> Result<Vec<(String, P)>> {
        let name = self.table_name(table);
        let client = connect(&self.url).await?;
        let query_error = |e: tokio_postgres::Error| self.query_error(&name, e);
        // Timestamps without a time zone are then read as UTC, as the Parquet's naive ones are.
        client
            .batch_execute("SET TIME ZONE 'UTC'")
            .await
            .map_err(query_error)?;
        let Some(declared) = self.declared_columns(&client, table).await? else {
            return Ok(Vec::new());
        };
        let select = select_list(&declared, columns, &name)?;
        if !self.has_month(&client, table, partition).await? {
            return Ok(Vec::new());
        }
        let (first, last) = (date_of_day(window.first), date_of_day(window.last));
        let copy = format!(
            "COPY (SELECT {} FROM {}.{} WHERE source = {} AND usage_start >= DATE '{first}' \
             AND usage_start <= DATE '{last}') TO STDOUT (FORMAT binary)",
            select.join(", "),
            quote_ident(&self.schema),
            quote_ident(&table.trino_name()),
            quote_literal(&partition.source_uuid),
        );
        let stream = client.copy_out(&copy).await.map_err(query_error)?;
        let types: Vec<Type> = columns.iter().map(|c| wire_type(c.kind)).collect();
        let rows = BinaryCopyOutStream::new(stream, &types);
        pin_mut!(rows);
        let mut partial = init();
        let mut pending = PendingBatch::new(columns);
        while let Some(row) = rows.try_next().await.map_err(query_error)? {
            pending.push(&row, &name)?;
            if pending.rows == BATCH_ROWS {
                fold_batch(&mut partial, &fold, pending.take(), columns, window)?;
            }
        }
        if pending.rows > 0 {
            fold_batch(&mut partial, &fold, pending.take(), columns, window)?;
        }
        Ok(vec![(name, partial)])
    }

    /// The table's columns and their SQL types (`format_type` names: `text`, `double precision`,
    /// `timestamp with time zone`), or `None` when the schema has no such table. Read from
    /// `pg_catalog`, which shows a table to every user, so a table one cannot read is refused
    /// by the COPY (and said so) rather than taken for missing.
    async fn declared_columns(
        &self,
        client: &Client,
        table: Table,
    ) -> Result<Option<HashMap<String, String>>> {
        let rows = client
            .query(
                "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) \
                 FROM pg_catalog.pg_attribute a \
                 JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
                &[&self.schema, &table.trino_name()],
            )
            .await
            .map_err(|e| self.query_error(&self.table_name(table), e))?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            rows.iter()
                .map(|row| (row.get::<_, String>(0), row.get::<_, String>(1)))
                .collect(),
        ))
    }

    /// Whether `table` holds any row of the partition's source and month: koku's on-prem
    /// counterpart of the month's folder holding a file.
    async fn has_month(
        &self,
        client: &Client,
        table: Table,
        partition: &Partition,
    ) -> Result<bool> {
        let month_start = NaiveDate::from_ymd_opt(partition.year, partition.month, 1)
            .ok_or_else(|| Error::Internal(format!("no month {partition:?}")))?;
        let next_month = month_start + Months::new(1);
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {}.{} WHERE source = $1 AND usage_start >= $2 \
             AND usage_start < $3)",
            quote_ident(&self.schema),
            quote_ident(&table.trino_name()),
        );
        let row = client
            .query_one(&sql, &[&partition.source_uuid, &month_start, &next_month])
            .await
            .map_err(|e| self.query_error(&self.table_name(table), e))?;
        Ok(row.get(0))
    }

    /// A query on `table` the server refused or could not answer.
    fn query_error(&self, table: &str, e: tokio_postgres::Error) -> Error {
        let hint = match e.code() {
            Some(code) if *code == tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE => {
                format!("; grant this user SELECT on {table} (and USAGE on its schema)")
            }
            _ => String::new(),
        };
        Error::infrastructure(
            Service::PostgreSql,
            format!(
                "cannot read {table} from {}: {}{hint}",
                redact_password(&self.url),
                describe(&e)
            ),
        )
    }
}

/// The SELECT list for `wanted`, each column converted to the one wire type its kind is read
/// as; an optional column the table lacks is a typed NULL. The partition key `usage_start` and
/// `source` must exist too, since the filter needs them.
fn select_list(
    declared: &HashMap<String, String>,
    wanted: &[ColumnSpec],
    table: &str,
) -> Result<Vec<String>> {
    for (column, kind) in [("source", "text"), ("usage_start", "date")] {
        if !declared.contains_key(column) {
            return Err(Error::column(
                table,
                column,
                format!(
                    "{table}: column `{column}` is missing; koku's on-prem tables have a \
                     {kind} column `{column}` (filtered by source and day). Is this a table of \
                     koku's on-prem schema (migration 0343)?"
                ),
            ));
        }
    }
    wanted
        .iter()
        .map(|spec| match declared.get(spec.name) {
            None if spec.optional => Ok(format!("NULL::{}", cast_target(spec.kind))),
            None => Err(Error::column(
                table,
                spec.name,
                format!(
                    "{table}: column `{}` is missing; koku's on-prem table has it as {}. Add the \
                     column (koku's migrations do) or point the engine at koku's schema.",
                    spec.name,
                    accepted_types(spec.kind)
                ),
            )),
            Some(sql_type) if accepts(spec.kind, sql_type) => Ok(format!(
                "{}::{}",
                quote_ident(spec.name),
                cast_target(spec.kind)
            )),
            Some(sql_type) => Err(Error::column(
                table,
                spec.name,
                format!(
                    "{table}: column `{}` has type {sql_type}, expected {}",
                    spec.name,
                    accepted_types(spec.kind)
                ),
            )),
        })
        .collect()
}

/// Whether a column declared as `sql_type` holds `kind` as koku's models declare it
/// (`DateTimeField`, `CharField`/`TextField`, `FloatField`). Conversions the Parquet reader would
/// refuse (a number as text, an integer as a double) are refused here too.
fn accepts(kind: ColumnKind, sql_type: &str) -> bool {
    match kind {
        ColumnKind::Timestamp => sql_type.starts_with("timestamp"),
        ColumnKind::Text => sql_type == "text" || sql_type.starts_with("character varying"),
        ColumnKind::Double => sql_type == "double precision",
    }
}

fn accepted_types(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Timestamp => "timestamp with time zone (or without)",
        ColumnKind::Text => "text or character varying",
        ColumnKind::Double => "double precision",
    }
}

/// The SQL type a column of `kind` is cast to in the COPY, so one wire type serves each kind.
fn cast_target(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Timestamp => "timestamptz",
        ColumnKind::Text => "text",
        ColumnKind::Double => "float8",
    }
}

fn wire_type(kind: ColumnKind) -> Type {
    match kind {
        ColumnKind::Timestamp => Type::TIMESTAMPTZ,
        ColumnKind::Text => Type::TEXT,
        ColumnKind::Double => Type::FLOAT8,
    }
}

/// `text` as a SQL string literal (inner quotes doubled). COPY takes no bind parameters, so the
/// one text value the COPY filters on is spliced this way; dates are spliced from `NaiveDate`.
fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// One builder per column, in the order of the scan's specs.
enum ColumnBuilder {
    Timestamp(TimestampMillisecondBuilder),
    Text(StringBuilder),
    Double(Float64Builder),
}

/// Rows decoded from the COPY and not yet folded.
struct PendingBatch {
    builders: Vec<ColumnBuilder>,
    names: Vec<&'static str>,
    rows: usize,
}

impl PendingBatch {
    fn new(columns: &[ColumnSpec]) -> PendingBatch {
        PendingBatch {
            builders: columns
                .iter()
                .map(|c| match c.kind {
                    ColumnKind::Timestamp => ColumnBuilder::Timestamp(Default::default()),
                    ColumnKind::Text => ColumnBuilder::Text(Default::default()),
                    ColumnKind::Double => ColumnBuilder::Double(Default::default()),
                })
                .collect(),
            names: columns.iter().map(|c| c.name).collect(),
            rows: 0,
        }
    }

    fn push(&mut self, row: &BinaryCopyOutRow, table: &str) -> Result<()> {
        for (i, builder) in self.builders.iter_mut().enumerate() {
            let undecodable = |e: tokio_postgres::Error| {
                Error::Internal(format!(
                    "{table}: column `{}` did not decode as the type it was cast to: {e}",
                    self.names[i]
                ))
            };
            match builder {
                ColumnBuilder::Timestamp(b) => b.append_option(
                    row.try_get::<Option<DateTime<Utc>>>(i)
                        .map_err(undecodable)?
                        .map(|t| t.timestamp_millis()),
                ),
                ColumnBuilder::Text(b) => {
                    b.append_option(row.try_get::<Option<&str>>(i).map_err(undecodable)?)
                }
                ColumnBuilder::Double(b) => {
                    b.append_option(row.try_get::<Option<f64>>(i).map_err(undecodable)?)
                }
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// The pending rows as Arrow columns; the builders start over.
    fn take(&mut self) -> (Vec<ArrayRef>, usize) {
        let columns = self
            .builders
            .iter_mut()
            .map(|builder| -> ArrayRef {
                match builder {
                    ColumnBuilder::Timestamp(b) => Arc::new(b.finish()),
                    ColumnBuilder::Text(b) => Arc::new(b.finish()),
                    ColumnBuilder::Double(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        (columns, std::mem::take(&mut self.rows))
    }
}

/// Normalises and windows decoded rows exactly as a Parquet batch is, then folds them.
fn fold_batch<P>(
    partial: &mut P,
    fold: &impl Fn(&mut P, &Batch) -> Result<()>,
    (columns, rows): (Vec<ArrayRef>, usize),
    specs: &[ColumnSpec],
    window: DayWindow,
) -> Result<()> {
    let batch = Batch::normalise(columns, specs, rows)?.in_window(window)?;
    if batch.num_rows > 0 {
        fold(partial, &batch)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect()
    }

    const SPECS: &[ColumnSpec] = &[
        ColumnSpec::timestamp("interval_start"),
        ColumnSpec::text("node"),
        ColumnSpec::double("pod_usage_cpu_core_seconds"),
        ColumnSpec::optional_text("node_role"),
    ];

    #[test]
    fn select_list_casts_each_kind_and_nulls_a_missing_optional_column() {
        let table = declared(&[
            ("source", "character varying(64)"),
            ("usage_start", "date"),
            ("interval_start", "timestamp with time zone"),
            ("node", "character varying(253)"),
            ("pod_usage_cpu_core_seconds", "double precision"),
        ]);
        assert_eq!(
            select_list(&table, SPECS, "org1.t").unwrap(),
            vec![
                "\"interval_start\"::timestamptz",
                "\"node\"::text",
                "\"pod_usage_cpu_core_seconds\"::float8",
                "NULL::text",
            ]
        );
    }

    #[test]
    fn select_list_names_table_and_column_of_a_missing_or_mistyped_column() {
        let base = [("source", "text"), ("usage_start", "date")];
        let missing = declared(&base);
        let err = select_list(&missing, SPECS, "org1.t").unwrap_err();
        assert_eq!(
            err.problem(),
            Some(&crate::error::Problem::Column {
                file: "org1.t".into(),
                column: "interval_start".into()
            })
        );
        let mut mistyped = base.to_vec();
        mistyped.extend([
            ("interval_start", "timestamp without time zone"),
            ("node", "text"),
            ("pod_usage_cpu_core_seconds", "numeric"),
        ]);
        let err = select_list(&declared(&mistyped), SPECS, "org1.t").unwrap_err();
        assert_eq!(
            err.problem(),
            Some(&crate::error::Problem::Column {
                file: "org1.t".into(),
                column: "pod_usage_cpu_core_seconds".into()
            })
        );
        let no_partition_key = declared(&[("source", "text")]);
        let err = select_list(&no_partition_key, SPECS, "org1.t").unwrap_err();
        assert!(matches!(
            err.problem(),
            Some(crate::error::Problem::Column { column, .. }) if column == "usage_start"
        ));
    }

    #[test]
    fn quote_literal_doubles_quotes() {
        assert_eq!(quote_literal("a'b"), "'a''b'");
    }
}
