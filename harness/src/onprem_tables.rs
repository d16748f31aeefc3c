//! koku's on-prem line-item tables (spec §9.1), filled from a koku Parquet tree: what koku's
//! on-prem ingest (`write_to_self_hosted_table`) leaves in the tenant schema for the same
//! reports, so that the engine's PostgreSQL source can be run on any cluster the harness has as
//! Parquet (generated, a fixture, nise's) and compared with the engine on the Parquet itself.
//!
//! The tables are the five the summary reads ([`HIVE_TABLES`]), with the Parquet's columns (one
//! declaration: the synthetic writer's row types) as PostgreSQL types (`text`, `double
//! precision`, `timestamp with time zone`), plus the columns koku's models add on-prem: `id`,
//! `usage_start` (the partition key, `date(interval_start)`), `source`, `year`, `month`
//! (zero-padded), `manifestid`, `reportnumhours`. Each table is range-partitioned by `usage_start`
//! with one partition per month, as koku's `PartitionedTable` does.

use std::collections::BTreeSet;
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, TimeUnit, TimestampMillisecondType};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use ocp_engine::postgres::{describe, quote_ident};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Client;

use crate::oracle::tables::{partition_files, HiveTable, HIVE_TABLES};

/// The columns koku's on-prem models add to every line-item table, in DDL.
const ONPREM_COLUMNS: &str = "usage_start date, source varchar(64), year varchar(4), \
    month varchar(2), manifestid varchar(256), reportnumhours integer";

/// Text columns a file of a table carries only when some row has a value
/// ([`crate::synth::KokuRow::columns`]), while koku's on-prem model always has them: (report type,
/// column).
const SOMETIMES_WRITTEN: [(&str, &str); 1] = [("pod_usage", "node_role")];

/// What loading did, per table.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedTable {
    /// `openshift_pod_usage_line_items_daily` and so on.
    pub name: &'static str,
    pub files: usize,
    pub rows: u64,
}

/// Why a load failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {message}")]
    Parquet { path: String, message: String },
    #[error("PostgreSQL refused {what}: {message}")]
    Postgres { what: String, message: String },
}

fn pg(what: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> LoadError {
    let what = what.into();
    move |e| LoadError::Postgres {
        what,
        message: describe(&e),
    }
}

/// The DDL of the on-prem tables in `schema` (created if missing): each of [`HIVE_TABLES`]
/// partitioned by range of `usage_start`, with koku's `(source, year, month)` index. Idempotent.
pub fn onprem_tables_sql(schema: &str) -> String {
    let schema = quote_ident(schema);
    let mut sql = format!("CREATE SCHEMA IF NOT EXISTS {schema};\n");
    for table in &HIVE_TABLES {
        let declared = table.columns();
        let sometimes = SOMETIMES_WRITTEN
            .iter()
            .filter(|(report_type, column)| {
                *report_type == table.report_type && !declared.iter().any(|(n, _)| n == column)
            })
            .map(|(_, column)| (column.to_string(), "VARCHAR"));
        let columns: Vec<String> = declared
            .iter()
            .cloned()
            .chain(sometimes)
            .map(|(name, ty)| format!("{} {}", quote_ident(&name), postgres_type(ty)))
            .collect();
        sql.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS {schema}.{name} (\n    id uuid NOT NULL DEFAULT \
             gen_random_uuid(),\n    {},\n    {ONPREM_COLUMNS}\n) PARTITION BY RANGE \
             (usage_start);\nCREATE INDEX IF NOT EXISTS {name}_src_yr_mo ON {schema}.{name} \
             (source, year, month);\n",
            columns.join(",\n    "),
            name = table.name,
        ));
    }
    sql
}

/// The PostgreSQL type koku's Django models give a column of Hive type `hive`.
fn postgres_type(hive: &str) -> &'static str {
    match hive {
        "DOUBLE" => "double precision",
        "TIMESTAMP" => "timestamp with time zone",
        "VARCHAR" => "text",
        other => panic!("koku's line-item tables hold no {other} column"),
    }
}

/// Creates the on-prem tables in `schema` and loads every Parquet file of account `account`
/// under `location` (koku's `data/parquet` tree, every source and month) into them, one binary
/// COPY per file, then analyses them. Rows already in the tables stay: load a cluster once.
pub async fn load_parquet_tree(
    client: &Client,
    location: &Path,
    account: &str,
    schema: &str,
) -> Result<Vec<LoadedTable>, LoadError> {
    client
        .batch_execute(&onprem_tables_sql(schema))
        .await
        .map_err(pg(format!("the on-prem tables' DDL in schema {schema}")))?;
    let mut loaded = Vec::new();
    for table in &HIVE_TABLES {
        let files =
            partition_files(&table.folder(location, account)).map_err(|e| LoadError::Parquet {
                path: table.folder(location, account).display().to_string(),
                message: e.to_string(),
            })?;
        let mut months = BTreeSet::new();
        let mut rows = 0;
        for file in &files {
            rows += load_file(client, schema, table, file, &mut months).await?;
        }
        client
            .batch_execute(&format!(
                "ANALYZE {}.{}",
                quote_ident(schema),
                quote_ident(table.name)
            ))
            .await
            .map_err(pg(format!("ANALYZE {}", table.name)))?;
        loaded.push(LoadedTable {
            name: table.name,
            files: files.len(),
            rows,
        });
    }
    Ok(loaded)
}

/// Copies one Parquet file of `table` into it; creates the month partitions its rows need
/// (remembered in `months`). Returns the rows copied.
async fn load_file(
    client: &Client,
    schema: &str,
    table: &HiveTable,
    path: &Path,
    months: &mut BTreeSet<NaiveDate>,
) -> Result<u64, LoadError> {
    let unreadable = |message: String| LoadError::Parquet {
        path: path.display().to_string(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| unreadable(e.to_string()))?;
    let source = partition_value(path, "source")
        .ok_or_else(|| unreadable("not under a source=… folder of koku's layout".to_string()))?;
    let mut copied = 0;
    for batch in reader {
        let batch = batch.map_err(|e| unreadable(e.to_string()))?;
        let days = usage_starts(&batch).map_err(unreadable)?;
        for day in days.iter().flatten() {
            let month = day.with_day(1).expect("day 1 exists");
            if months.insert(month) {
                create_month_partition(client, schema, table.name, month).await?;
            }
        }
        copied += copy_batch(client, schema, table.name, &batch, &days, &source).await?;
    }
    Ok(copied)
}

/// `date(interval_start)` of each row (koku's `usage_start`); NULL stays NULL.
fn usage_starts(batch: &RecordBatch) -> Result<Vec<Option<NaiveDate>>, String> {
    let column = batch
        .column_by_name("interval_start")
        .ok_or("no interval_start column")?;
    if *column.data_type() != DataType::Timestamp(TimeUnit::Millisecond, None) {
        return Err(format!(
            "interval_start is {}, not timestamp[ms]",
            column.data_type()
        ));
    }
    let millis = column.as_primitive::<TimestampMillisecondType>();
    Ok((0..millis.len())
        .map(|i| {
            millis
                .is_valid(i)
                .then(|| to_utc(millis.value(i)).date_naive())
        })
        .collect())
}

fn to_utc(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).expect("a timestamp koku can write")
}

/// The value of the `name=…` folder in a path of koku's layout.
fn partition_value(path: &Path, name: &str) -> Option<String> {
    path.ancestors().find_map(|dir| {
        dir.file_name()?
            .to_str()?
            .strip_prefix(&format!("{name}="))
            .map(str::to_string)
    })
}

async fn create_month_partition(
    client: &Client,
    schema: &str,
    table: &str,
    month: NaiveDate,
) -> Result<(), LoadError> {
    let partition = format!("{table}_{:04}_{:02}", month.year(), month.month());
    let sql = format!(
        "CREATE TABLE IF NOT EXISTS {schema}.{} PARTITION OF {schema}.{} FOR VALUES FROM ('{month}') \
         TO ('{}')",
        quote_ident(&partition),
        quote_ident(table),
        month + Months::new(1),
        schema = quote_ident(schema),
    );
    client
        .batch_execute(&sql)
        .await
        .map_err(pg(format!("partition {partition}")))
}

/// One cell of a row being copied.
type Cell<'a> = Box<dyn ToSql + Sync + Send + 'a>;

/// Binary-COPYs `batch` (its own columns, by name) plus koku's on-prem columns into `table`.
async fn copy_batch(
    client: &Client,
    schema: &str,
    table: &str,
    batch: &RecordBatch,
    days: &[Option<NaiveDate>],
    source: &str,
) -> Result<u64, LoadError> {
    let fields = batch.schema();
    let mut names: Vec<String> = fields
        .fields()
        .iter()
        .map(|f| quote_ident(f.name()))
        .collect();
    let mut types: Vec<Type> = fields
        .fields()
        .iter()
        .map(|f| wire_type(f.data_type()))
        .collect::<Result<_, _>>()
        .map_err(|message| LoadError::Parquet {
            path: table.to_string(),
            message,
        })?;
    names.extend(["usage_start", "source", "year", "month"].map(String::from));
    types.extend([Type::DATE, Type::VARCHAR, Type::VARCHAR, Type::VARCHAR]);
    let copy = format!(
        "COPY {}.{} ({}) FROM STDIN (FORMAT binary)",
        quote_ident(schema),
        quote_ident(table),
        names.join(", ")
    );
    let sink = client.copy_in(&copy).await.map_err(pg(&copy))?;
    let writer = BinaryCopyInWriter::new(sink, &types);
    let mut writer = std::pin::pin!(writer);
    for (row, day) in days.iter().enumerate() {
        let mut cells: Vec<Cell> = batch
            .columns()
            .iter()
            .map(|c| cell(c.as_ref(), row))
            .collect();
        cells.push(Box::new(*day));
        cells.push(Box::new(source));
        cells.push(Box::new(day.map(|d| format!("{:04}", d.year()))));
        cells.push(Box::new(day.map(|d| format!("{:02}", d.month()))));
        let refs: Vec<&(dyn ToSql + Sync)> = cells
            .iter()
            .map(|c| c.as_ref() as &(dyn ToSql + Sync))
            .collect();
        writer
            .as_mut()
            .write(&refs)
            .await
            .map_err(pg(format!("a row of {table}")))?;
    }
    writer
        .as_mut()
        .finish()
        .await
        .map_err(pg(format!("COPY into {table}")))
}

/// The wire type of a Parquet column of koku's tables.
fn wire_type(data_type: &DataType) -> Result<Type, String> {
    match data_type {
        DataType::Float64 => Ok(Type::FLOAT8),
        DataType::Utf8 | DataType::Null => Ok(Type::TEXT),
        DataType::Timestamp(TimeUnit::Millisecond, None) => Ok(Type::TIMESTAMPTZ),
        other => Err(format!("no on-prem column type for Parquet type {other}")),
    }
}

/// The value at `row` of a column of a type [`wire_type`] accepts.
fn cell(column: &dyn Array, row: usize) -> Cell<'_> {
    if *column.data_type() == DataType::Null || column.is_null(row) {
        return match column.data_type() {
            DataType::Float64 => Box::new(None::<f64>),
            DataType::Timestamp(..) => Box::new(None::<DateTime<Utc>>),
            _ => Box::new(None::<&str>),
        };
    }
    match column.data_type() {
        DataType::Float64 => Box::new(
            column
                .as_primitive::<arrow::datatypes::Float64Type>()
                .value(row),
        ),
        DataType::Timestamp(..) => Box::new(to_utc(
            column.as_primitive::<TimestampMillisecondType>().value(row),
        )),
        _ => Box::new(column.as_string::<i32>().value(row)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddl_partitions_each_table_by_usage_start_with_kokus_extra_columns() {
        let sql = onprem_tables_sql("org1");
        for table in &HIVE_TABLES {
            assert!(sql.contains(&format!(
                "CREATE TABLE IF NOT EXISTS \"org1\".{} (",
                table.name
            )));
        }
        assert_eq!(sql.matches("PARTITION BY RANGE (usage_start)").count(), 5);
        assert!(sql.contains("\"pod_usage_cpu_core_seconds\" double precision"));
        assert!(sql.contains("\"interval_start\" timestamp with time zone"));
        assert!(sql.contains("\"pod_labels\" text"));
        // Both pod tables have node_role, as koku's models do, whether or not files carry it.
        assert_eq!(sql.matches("\"node_role\" text").count(), 2);
        assert_eq!(sql.matches(ONPREM_COLUMNS).count(), 5);
    }

    #[test]
    fn partition_values_come_from_kokus_folders() {
        let path = Path::new(
            "/d/data/parquet/daily/org1/OCP/pod_usage/source=abc/year=2024/month=02/f.parquet",
        );
        assert_eq!(partition_value(path, "source").as_deref(), Some("abc"));
        assert_eq!(partition_value(path, "month").as_deref(), Some("02"));
        assert_eq!(partition_value(path, "day"), None);
    }
}
