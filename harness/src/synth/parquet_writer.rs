//! Writes koku's tables as Parquet in koku's S3 layout (spec §2.1), under a local root folder
//! that plays the bucket root:
//!
//! - hourly: `{root}/data/parquet/{account}/OCP/{report_type}/source={uuid}/year={YYYY}/month={MM}/{report_type}.{YYYY-MM-DD}.{manifest_id}.1_0.parquet`
//! - daily: `{root}/data/parquet/daily/{account}/OCP/{report_type}/source={uuid}/year={YYYY}/month={MM}/{report_type}.{YYYY-MM-DD}.{manifest_id}.1_daily_0.parquet`
//!
//! One file per day per table, as koku writes from daily archives. Column types as pandas and
//! pyarrow write them: `Timestamp(Millisecond, None)`, `Utf8`, `Float64`, every field nullable;
//! snappy compression. Report types: `pod_usage`, `storage_usage` (only for a model with
//! volumes: koku then has the storage tables, `storage_exists`, §1.3), `node_labels`,
//! `namespace_labels`.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, StringArray, TimestampMillisecondArray};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use uuid::Uuid;

use super::koku_tables::{
    koku_tables_for_day, KokuTables, NamespaceLabelsDailyRow, NamespaceLabelsHourlyRow,
    NodeLabelsDailyRow, NodeLabelsHourlyRow, PodUsageDailyRow, PodUsageHourlyRow,
    StorageUsageDailyRow, StorageUsageHourlyRow,
};
use super::model::ClusterModel;
use super::{Result, SynthError};

/// koku report type of the pod usage tables.
pub const POD_USAGE: &str = "pod_usage";
/// koku report type of the node-label tables.
pub const NODE_LABELS: &str = "node_labels";
/// koku report type of the namespace-label tables.
pub const NAMESPACE_LABELS: &str = "namespace_labels";
/// koku report type of the storage tables.
pub const STORAGE_USAGE: &str = "storage_usage";
/// Every report type [`write_cluster`] may write.
pub const REPORT_TYPES: [&str; 4] = [POD_USAGE, STORAGE_USAGE, NODE_LABELS, NAMESPACE_LABELS];
/// The manifest id used in every generated file name.
pub const MANIFEST_ID: u64 = 1;

/// The folder holding one table's files for one source and month:
/// `{root}/data/parquet[/daily]/{account}/OCP/{report_type}/source={source}/year={YYYY}/month={MM}`
/// with `MM` zero-padded.
pub fn table_dir(
    root: &Path,
    account: &str,
    source: &Uuid,
    report_type: &str,
    daily: bool,
    year: i32,
    month: u32,
) -> PathBuf {
    let mut dir = root.join("data").join("parquet");
    if daily {
        dir.push("daily");
    }
    dir.join(account)
        .join("OCP")
        .join(report_type)
        .join(format!("source={source}"))
        .join(format!("year={year:04}"))
        .join(format!("month={month:02}"))
}

/// The file name koku gives a day's file: `{report_type}.{YYYY-MM-DD}.{manifest_id}.1_0.parquet`
/// (hourly) or `{report_type}.{YYYY-MM-DD}.{manifest_id}.1_daily_0.parquet` (daily).
pub fn file_name(report_type: &str, date: NaiveDate, manifest_id: u64, daily: bool) -> String {
    let suffix = if daily { "_daily_0" } else { "_0" };
    format!(
        "{report_type}.{}.{manifest_id}.1{suffix}.parquet",
        date.format("%Y-%m-%d")
    )
}

/// Writes one batch as a snappy-compressed Parquet file at `path`, creating missing folders and
/// replacing an existing file. Any schema is accepted, so tests can write bad inputs.
pub fn write_batch(path: &Path, batch: &RecordBatch) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| SynthError::CreateDir {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let file = File::create(path).map_err(|source| SynthError::Io {
        action: "create file",
        path: path.to_path_buf(),
        source,
    })?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let parquet_err = |source| SynthError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let mut writer =
        ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(parquet_err)?;
    writer.write(batch).map_err(parquet_err)?;
    writer.close().map_err(parquet_err)?;
    Ok(())
}

/// A row of one of koku's tables: knows its report type, whether it is a daily table, its
/// columns (names, order and Arrow types as koku writes them) and its day.
pub trait KokuRow: Sized {
    /// koku's report type (one of [`REPORT_TYPES`]).
    const REPORT_TYPE: &'static str;
    /// Whether the row belongs to the `_daily` table.
    const DAILY: bool;
    /// The columns of `rows`, in file order. Fixed per type, except the hourly pod table's
    /// `node_role`, present only when some row has one.
    fn columns(rows: &[&Self]) -> Vec<(&'static str, ArrayRef)>;
    /// The row's `interval_start` (its day decides the file it goes to).
    fn interval_start(&self) -> NaiveDateTime;

    /// The table's Arrow schema (as for rows without optional columns): every field nullable.
    fn schema() -> SchemaRef {
        batch_of::<Self>(&[]).schema()
    }
}

fn batch_of<R: KokuRow>(rows: &[&R]) -> RecordBatch {
    RecordBatch::try_from_iter_with_nullable(
        R::columns(rows)
            .into_iter()
            .map(|(name, array)| (name, array, true)),
    )
    .expect("columns of equal length matching their own types")
}

/// The Arrow batch of `rows`, with the schema of [`KokuRow::schema`].
pub fn to_record_batch<R: KokuRow>(rows: &[R]) -> RecordBatch {
    let refs: Vec<&R> = rows.iter().collect();
    batch_of(&refs)
}

fn ts<R>(rows: &[&R], f: impl Fn(&R) -> NaiveDateTime) -> ArrayRef {
    let millis: Vec<i64> = rows
        .iter()
        .map(|r| f(r).and_utc().timestamp_millis())
        .collect();
    Arc::new(TimestampMillisecondArray::from(millis))
}

fn text<R>(rows: &[&R], f: impl Fn(&R) -> &str) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(rows.iter().map(|r| f(r))))
}

fn opt_text<R>(rows: &[&R], f: impl Fn(&R) -> Option<&str>) -> ArrayRef {
    Arc::new(rows.iter().map(|r| f(r)).collect::<StringArray>())
}

fn num<R>(rows: &[&R], f: impl Fn(&R) -> f64) -> ArrayRef {
    Arc::new(Float64Array::from(
        rows.iter().map(|r| f(r)).collect::<Vec<f64>>(),
    ))
}

impl KokuRow for PodUsageHourlyRow {
    const REPORT_TYPE: &'static str = POD_USAGE;
    const DAILY: bool = false;

    /// The operator's CSV columns (`node_role`, when sent, after `pod_labels`), then the two
    /// effective-usage columns koku appends.
    fn columns(rows: &[&Self]) -> Vec<(&'static str, ArrayRef)> {
        let mut columns = vec![
            ("report_period_start", ts(rows, |r| r.report_period_start)),
            ("report_period_end", ts(rows, |r| r.report_period_end)),
            ("interval_start", ts(rows, |r| r.interval_start)),
            ("interval_end", ts(rows, |r| r.interval_end)),
            ("pod", text(rows, |r| &r.pod)),
            ("namespace", text(rows, |r| &r.namespace)),
            ("node", text(rows, |r| &r.node)),
            ("resource_id", text(rows, |r| &r.resource_id)),
            (
                "pod_usage_cpu_core_seconds",
                num(rows, |r| r.pod_usage_cpu_core_seconds),
            ),
            (
                "pod_request_cpu_core_seconds",
                num(rows, |r| r.pod_request_cpu_core_seconds),
            ),
            (
                "pod_limit_cpu_core_seconds",
                num(rows, |r| r.pod_limit_cpu_core_seconds),
            ),
            (
                "pod_usage_memory_byte_seconds",
                num(rows, |r| r.pod_usage_memory_byte_seconds),
            ),
            (
                "pod_request_memory_byte_seconds",
                num(rows, |r| r.pod_request_memory_byte_seconds),
            ),
            (
                "pod_limit_memory_byte_seconds",
                num(rows, |r| r.pod_limit_memory_byte_seconds),
            ),
            (
                "node_capacity_cpu_cores",
                num(rows, |r| r.node_capacity_cpu_cores),
            ),
            (
                "node_capacity_cpu_core_seconds",
                num(rows, |r| r.node_capacity_cpu_core_seconds),
            ),
            (
                "node_capacity_memory_bytes",
                num(rows, |r| r.node_capacity_memory_bytes),
            ),
            (
                "node_capacity_memory_byte_seconds",
                num(rows, |r| r.node_capacity_memory_byte_seconds),
            ),
            ("pod_labels", text(rows, |r| &r.pod_labels)),
        ];
        if rows.iter().any(|r| r.node_role.is_some()) {
            columns.push(("node_role", opt_text(rows, |r| r.node_role.as_deref())));
        }
        columns.push((
            "pod_effective_usage_cpu_core_seconds",
            num(rows, |r| r.pod_effective_usage_cpu_core_seconds),
        ));
        columns.push((
            "pod_effective_usage_memory_byte_seconds",
            num(rows, |r| r.pod_effective_usage_memory_byte_seconds),
        ));
        columns
    }

    fn interval_start(&self) -> NaiveDateTime {
        self.interval_start
    }
}

impl KokuRow for PodUsageDailyRow {
    const REPORT_TYPE: &'static str = POD_USAGE;
    const DAILY: bool = true;

    fn columns(rows: &[&Self]) -> Vec<(&'static str, ArrayRef)> {
        vec![
            ("namespace", text(rows, |r| &r.namespace)),
            ("node", text(rows, |r| &r.node)),
            ("pod", text(rows, |r| &r.pod)),
            ("pod_labels", text(rows, |r| &r.pod_labels)),
            ("interval_start", ts(rows, |r| r.interval_start)),
            ("report_period_start", ts(rows, |r| r.report_period_start)),
            ("report_period_end", ts(rows, |r| r.report_period_end)),
            ("resource_id", text(rows, |r| &r.resource_id)),
            (
                "pod_usage_cpu_core_seconds",
                num(rows, |r| r.pod_usage_cpu_core_seconds),
            ),
            (
                "pod_request_cpu_core_seconds",
                num(rows, |r| r.pod_request_cpu_core_seconds),
            ),
            (
                "pod_effective_usage_cpu_core_seconds",
                num(rows, |r| r.pod_effective_usage_cpu_core_seconds),
            ),
            (
                "pod_limit_cpu_core_seconds",
                num(rows, |r| r.pod_limit_cpu_core_seconds),
            ),
            (
                "pod_usage_memory_byte_seconds",
                num(rows, |r| r.pod_usage_memory_byte_seconds),
            ),
            (
                "pod_request_memory_byte_seconds",
                num(rows, |r| r.pod_request_memory_byte_seconds),
            ),
            (
                "pod_effective_usage_memory_byte_seconds",
                num(rows, |r| r.pod_effective_usage_memory_byte_seconds),
            ),
            (
                "pod_limit_memory_byte_seconds",
                num(rows, |r| r.pod_limit_memory_byte_seconds),
            ),
            (
                "node_capacity_cpu_cores",
                num(rows, |r| r.node_capacity_cpu_cores),
            ),
            (
                "node_capacity_cpu_core_seconds",
                num(rows, |r| r.node_capacity_cpu_core_seconds),
            ),
            (
                "node_capacity_memory_bytes",
                num(rows, |r| r.node_capacity_memory_bytes),
            ),
            (
                "node_capacity_memory_byte_seconds",
                num(rows, |r| r.node_capacity_memory_byte_seconds),
            ),
            ("node_role", opt_text(rows, |r| r.node_role.as_deref())),
        ]
    }

    fn interval_start(&self) -> NaiveDateTime {
        self.interval_start
    }
}

impl KokuRow for StorageUsageHourlyRow {
    const REPORT_TYPE: &'static str = STORAGE_USAGE;
    const DAILY: bool = false;

    fn columns(rows: &[&Self]) -> Vec<(&'static str, ArrayRef)> {
        vec![
            ("report_period_start", ts(rows, |r| r.report_period_start)),
            ("report_period_end", ts(rows, |r| r.report_period_end)),
            ("interval_start", ts(rows, |r| r.interval_start)),
            ("interval_end", ts(rows, |r| r.interval_end)),
            ("namespace", text(rows, |r| &r.namespace)),
            ("pod", text(rows, |r| &r.pod)),
            ("node", text(rows, |r| &r.node)),
            (
                "persistentvolumeclaim",
                text(rows, |r| &r.persistentvolumeclaim),
            ),
            ("persistentvolume", text(rows, |r| &r.persistentvolume)),
            ("storageclass", text(rows, |r| &r.storageclass)),
            ("csi_driver", text(rows, |r| &r.csi_driver)),
            ("csi_volume_handle", text(rows, |r| &r.csi_volume_handle)),
            (
                "persistentvolumeclaim_capacity_bytes",
                num(rows, |r| r.persistentvolumeclaim_capacity_bytes),
            ),
            (
                "persistentvolumeclaim_capacity_byte_seconds",
                num(rows, |r| r.persistentvolumeclaim_capacity_byte_seconds),
            ),
            (
                "volume_request_storage_byte_seconds",
                num(rows, |r| r.volume_request_storage_byte_seconds),
            ),
            (
                "persistentvolumeclaim_usage_byte_seconds",
                num(rows, |r| r.persistentvolumeclaim_usage_byte_seconds),
            ),
            (
                "persistentvolume_labels",
                text(rows, |r| &r.persistentvolume_labels),
            ),
            (
                "persistentvolumeclaim_labels",
                text(rows, |r| &r.persistentvolumeclaim_labels),
            ),
        ]
    }

    fn interval_start(&self) -> NaiveDateTime {
        self.interval_start
    }
}

impl KokuRow for StorageUsageDailyRow {
    const REPORT_TYPE: &'static str = STORAGE_USAGE;
    const DAILY: bool = true;

    fn columns(rows: &[&Self]) -> Vec<(&'static str, ArrayRef)> {
        vec![
            ("namespace", text(rows, |r| &r.namespace)),
            ("node", text(rows, |r| &r.node)),
            ("pod", text(rows, |r| &r.pod)),
            (
                "persistentvolumeclaim",
                text(rows, |r| &r.persistentvolumeclaim),
            ),
            ("persistentvolume", text(rows, |r| &r.persistentvolume)),
            ("storageclass", text(rows, |r| &r.storageclass)),
            ("csi_driver", text(rows, |r| &r.csi_driver)),
            ("csi_volume_handle", text(rows, |r| &r.csi_volume_handle)),
            (
                "persistentvolume_labels",
                text(rows, |r| &r.persistentvolume_labels),
            ),
            (
                "persistentvolumeclaim_labels",
                text(rows, |r| &r.persistentvolumeclaim_labels),
            ),
            ("interval_start", ts(rows, |r| r.interval_start)),
            ("report_period_start", ts(rows, |r| r.report_period_start)),
            ("report_period_end", ts(rows, |r| r.report_period_end)),
            (
                "persistentvolumeclaim_capacity_bytes",
                num(rows, |r| r.persistentvolumeclaim_capacity_bytes),
            ),
            (
                "persistentvolumeclaim_capacity_byte_seconds",
                num(rows, |r| r.persistentvolumeclaim_capacity_byte_seconds),
            ),
            (
                "volume_request_storage_byte_seconds",
                num(rows, |r| r.volume_request_storage_byte_seconds),
            ),
            (
                "persistentvolumeclaim_usage_byte_seconds",
                num(rows, |r| r.persistentvolumeclaim_usage_byte_seconds),
            ),
        ]
    }

    fn interval_start(&self) -> NaiveDateTime {
        self.interval_start
    }
}

impl KokuRow for NodeLabelsHourlyRow {
    const REPORT_TYPE: &'static str = NODE_LABELS;
    const DAILY: bool = false;

    fn columns(rows: &[&Self]) -> Vec<(&'static str, ArrayRef)> {
        vec![
            ("report_period_start", ts(rows, |r| r.report_period_start)),
            ("report_period_end", ts(rows, |r| r.report_period_end)),
            ("interval_start", ts(rows, |r| r.interval_start)),
            ("interval_end", ts(rows, |r| r.interval_end)),
            ("node", text(rows, |r| &r.node)),
            ("node_labels", text(rows, |r| &r.node_labels)),
        ]
    }

    fn interval_start(&self) -> NaiveDateTime {
        self.interval_start
    }
}

impl KokuRow for NodeLabelsDailyRow {
    const REPORT_TYPE: &'static str = NODE_LABELS;
    const DAILY: bool = true;

    fn columns(rows: &[&Self]) -> Vec<(&'static str, ArrayRef)> {
        vec![
            ("node", text(rows, |r| &r.node)),
            ("node_labels", text(rows, |r| &r.node_labels)),
            ("interval_start", ts(rows, |r| r.interval_start)),
            ("report_period_start", ts(rows, |r| r.report_period_start)),
            ("report_period_end", ts(rows, |r| r.report_period_end)),
        ]
    }

    fn interval_start(&self) -> NaiveDateTime {
        self.interval_start
    }
}

impl KokuRow for NamespaceLabelsHourlyRow {
    const REPORT_TYPE: &'static str = NAMESPACE_LABELS;
    const DAILY: bool = false;

    fn columns(rows: &[&Self]) -> Vec<(&'static str, ArrayRef)> {
        vec![
            ("report_period_start", ts(rows, |r| r.report_period_start)),
            ("report_period_end", ts(rows, |r| r.report_period_end)),
            ("interval_start", ts(rows, |r| r.interval_start)),
            ("interval_end", ts(rows, |r| r.interval_end)),
            ("namespace", text(rows, |r| &r.namespace)),
            ("namespace_labels", text(rows, |r| &r.namespace_labels)),
        ]
    }

    fn interval_start(&self) -> NaiveDateTime {
        self.interval_start
    }
}

impl KokuRow for NamespaceLabelsDailyRow {
    const REPORT_TYPE: &'static str = NAMESPACE_LABELS;
    const DAILY: bool = true;

    fn columns(rows: &[&Self]) -> Vec<(&'static str, ArrayRef)> {
        vec![
            ("namespace", text(rows, |r| &r.namespace)),
            ("namespace_labels", text(rows, |r| &r.namespace_labels)),
            ("interval_start", ts(rows, |r| r.interval_start)),
            ("report_period_start", ts(rows, |r| r.report_period_start)),
            ("report_period_end", ts(rows, |r| r.report_period_end)),
        ]
    }

    fn interval_start(&self) -> NaiveDateTime {
        self.interval_start
    }
}

/// What was written for one table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenTable {
    pub report_type: &'static str,
    pub daily: bool,
    /// Parquet files written (one per day that has rows).
    pub files: usize,
    pub rows: usize,
}

impl WrittenTable {
    /// koku's table name, e.g. `openshift_pod_usage_line_items_daily`.
    pub fn table_name(&self) -> String {
        format!(
            "openshift_{}_line_items{}",
            self.report_type,
            if self.daily { "_daily" } else { "" }
        )
    }

    fn add(&mut self, other: &WrittenTable) {
        self.files += other.files;
        self.rows += other.rows;
    }
}

/// What [`write_cluster`] wrote: one entry per table, in the order pod usage (hourly, daily),
/// storage usage (hourly, daily), node labels (hourly, daily), namespace labels (hourly, daily);
/// storage tables of a model without volumes and label tables the model switches off are
/// absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WrittenCluster {
    pub tables: Vec<WrittenTable>,
}

impl WrittenCluster {
    /// Files written over all tables.
    pub fn files(&self) -> usize {
        self.tables.iter().map(|t| t.files).sum()
    }

    /// The entry for `(report_type, daily)`, if that table was written.
    pub fn table(&self, report_type: &str, daily: bool) -> Option<&WrittenTable> {
        self.tables
            .iter()
            .find(|t| t.report_type == report_type && t.daily == daily)
    }
}

/// Writes `rows` of one table in koku's layout under `root`, one file per day of
/// `interval_start` (year and month of the path from that day), replacing files of the same
/// name. Rows keep their order within a file. Writes nothing for no rows.
pub fn write_table<R: KokuRow>(
    root: &Path,
    account: &str,
    source: &Uuid,
    rows: &[R],
) -> Result<WrittenTable> {
    let mut by_day: BTreeMap<NaiveDate, Vec<&R>> = BTreeMap::new();
    for row in rows {
        by_day
            .entry(row.interval_start().date())
            .or_default()
            .push(row);
    }
    for (date, day_rows) in &by_day {
        let dir = table_dir(
            root,
            account,
            source,
            R::REPORT_TYPE,
            R::DAILY,
            date.year(),
            date.month(),
        );
        let path = dir.join(file_name(R::REPORT_TYPE, *date, MANIFEST_ID, R::DAILY));
        write_batch(&path, &batch_of(day_rows))?;
    }
    Ok(WrittenTable {
        report_type: R::REPORT_TYPE,
        daily: R::DAILY,
        files: by_day.len(),
        rows: rows.len(),
    })
}

/// Validates `model`, then writes every table koku would hold for it under `root` (the bucket
/// root), day by day so memory stays bounded: pod usage hourly and daily always, storage usage
/// only when the model has volumes (a day without storage rows gets no storage file), node-label
/// and namespace-label tables only when `write_node_labels` / `write_namespace_labels` is set.
/// Days are written in parallel, one per core, each from its own [`koku_tables_for_day`]: at
/// most one day's rows per core are in memory, and every file is the same whatever the order.
/// Returns the files and rows written per table, in the order of [`WrittenCluster`].
pub fn write_cluster(model: &ClusterModel, root: &Path) -> Result<WrittenCluster> {
    model.validate().map_err(SynthError::InvalidModel)?;
    let days = model.num_days();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(days as usize);
    let next = AtomicU32::new(0);
    let failed = AtomicBool::new(false);
    let per_worker: Vec<Result<Vec<Vec<WrittenTable>>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut written = Vec::new();
                    while !failed.load(Ordering::Relaxed) {
                        let day = next.fetch_add(1, Ordering::Relaxed);
                        if day >= days {
                            break;
                        }
                        match write_day(model, root, &koku_tables_for_day(model, day)) {
                            Ok(tables) => written.push(tables),
                            Err(error) => {
                                failed.store(true, Ordering::Relaxed);
                                return Err(error);
                            }
                        }
                    }
                    Ok(written)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a day's writer panicked"))
            .collect()
    });
    let mut totals: Vec<WrittenTable> = Vec::new();
    for written in per_worker {
        for day in written? {
            if totals.is_empty() {
                totals = day;
            } else {
                for (total, w) in totals.iter_mut().zip(&day) {
                    total.add(w);
                }
            }
        }
    }
    Ok(WrittenCluster { tables: totals })
}

/// Writes one day's tables (those [`write_cluster`] writes for `model`), in
/// [`WrittenCluster`]'s order.
fn write_day(model: &ClusterModel, root: &Path, t: &KokuTables) -> Result<Vec<WrittenTable>> {
    let (account, source) = (model.account.as_str(), &model.source_uuid);
    let mut written = vec![
        write_table(root, account, source, &t.pod_usage)?,
        write_table(root, account, source, &t.pod_usage_daily)?,
    ];
    if !model.volumes.is_empty() {
        written.push(write_table(root, account, source, &t.storage_usage)?);
        written.push(write_table(root, account, source, &t.storage_usage_daily)?);
    }
    if model.write_node_labels {
        written.push(write_table(root, account, source, &t.node_labels)?);
        written.push(write_table(root, account, source, &t.node_labels_daily)?);
    }
    if model.write_namespace_labels {
        written.push(write_table(root, account, source, &t.namespace_labels)?);
        written.push(write_table(
            root,
            account,
            source,
            &t.namespace_labels_daily,
        )?);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::generator::{generate, Scale};
    use crate::synth::koku_tables::koku_tables;
    use crate::synth::model::{LabelPeriod, NodeModel, PodModel, VolumeModel, GIB};
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType, Float64Type, TimeUnit};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    fn read(path: &Path) -> RecordBatch {
        let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
        arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
    }

    fn uuid() -> Uuid {
        Uuid::parse_str("6795d5e6-951c-4382-a8d3-390515d7ec2d").unwrap()
    }

    #[test]
    fn paths_follow_koku_layout() {
        let dir = table_dir(
            Path::new("/bucket"),
            "org1234567",
            &uuid(),
            "pod_usage",
            false,
            2026,
            9,
        );
        assert_eq!(
            dir,
            Path::new("/bucket/data/parquet/org1234567/OCP/pod_usage/source=6795d5e6-951c-4382-a8d3-390515d7ec2d/year=2026/month=09")
        );
        let daily = table_dir(
            Path::new("/b"),
            "org1",
            &uuid(),
            "node_labels",
            true,
            2026,
            11,
        );
        assert_eq!(
            daily,
            Path::new("/b/data/parquet/daily/org1/OCP/node_labels/source=6795d5e6-951c-4382-a8d3-390515d7ec2d/year=2026/month=11")
        );
        let d = NaiveDate::from_ymd_opt(2026, 9, 3).unwrap();
        assert_eq!(
            file_name("pod_usage", d, 1, false),
            "pod_usage.2026-09-03.1.1_0.parquet"
        );
        assert_eq!(
            file_name("pod_usage", d, 1, true),
            "pod_usage.2026-09-03.1.1_daily_0.parquet"
        );
    }

    #[test]
    fn tiny_cluster_lands_at_koku_paths_with_koku_types() {
        let root = tempfile::tempdir().unwrap();
        let model = generate(Scale::Tiny, 42);
        let written = write_cluster(&model, root.path()).unwrap();
        // 8 tables, 3 days each, every pod in every hour → one file per table per day.
        assert_eq!(written.tables.len(), 8);
        assert_eq!(written.files(), 24);
        // Tiny: 1-2 claims, each mounted by one pod running every hour, plus one claimless
        // volume reporting every hour → (claims + 1) rows per hour; one daily row each per day.
        let claims = model.claims.len();
        assert!((1..=2).contains(&claims) && model.claims.iter().all(|c| c.pods.len() == 1));
        assert_eq!(model.volumes.len(), claims + 1);
        let storage = written.table(STORAGE_USAGE, false).unwrap();
        assert_eq!(storage.rows, (claims + 1) * 72);
        assert_eq!(
            written.table(STORAGE_USAGE, true).unwrap().rows,
            (claims + 1) * 3
        );
        // 12 pods * 72 hours = 864 hourly pod rows; daily = 12 pods * 3 days = 36.
        assert_eq!(written.table(POD_USAGE, false).unwrap().rows, 864);
        assert_eq!(written.table(POD_USAGE, true).unwrap().rows, 36);
        // Each of the 3 nodes runs pods every hour: 3 * 72 hourly node-label rows; labels do not
        // change in tiny → 3 nodes * 3 days daily rows.
        assert_eq!(written.table(NODE_LABELS, false).unwrap().rows, 216);
        assert_eq!(written.table(NODE_LABELS, true).unwrap().rows, 9);

        let account = "org1234567";
        let src = model.source_uuid;
        let hourly = table_dir(root.path(), account, &src, "pod_usage", false, 2026, 9)
            .join("pod_usage.2026-09-02.1.1_0.parquet");
        let daily = table_dir(root.path(), account, &src, "pod_usage", true, 2026, 9)
            .join("pod_usage.2026-09-02.1.1_daily_0.parquet");
        assert!(hourly.starts_with(root.path().join(format!(
            "data/parquet/org1234567/OCP/pod_usage/source={src}/year=2026/month=09"
        ))));

        let h = read(&hourly);
        assert_eq!(h.num_rows(), 12 * 24);
        let ms = DataType::Timestamp(TimeUnit::Millisecond, None);
        let names: Vec<&str> = h
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(
            names,
            [
                "report_period_start",
                "report_period_end",
                "interval_start",
                "interval_end",
                "pod",
                "namespace",
                "node",
                "resource_id",
                "pod_usage_cpu_core_seconds",
                "pod_request_cpu_core_seconds",
                "pod_limit_cpu_core_seconds",
                "pod_usage_memory_byte_seconds",
                "pod_request_memory_byte_seconds",
                "pod_limit_memory_byte_seconds",
                "node_capacity_cpu_cores",
                "node_capacity_cpu_core_seconds",
                "node_capacity_memory_bytes",
                "node_capacity_memory_byte_seconds",
                "pod_labels",
                "pod_effective_usage_cpu_core_seconds",
                "pod_effective_usage_memory_byte_seconds",
            ]
        );
        for f in h.schema_ref().fields() {
            assert!(f.is_nullable());
            let expected = match f.name().as_str() {
                n if n.starts_with("report_period") || n.starts_with("interval") => ms.clone(),
                "pod" | "namespace" | "node" | "resource_id" | "pod_labels" => DataType::Utf8,
                _ => DataType::Float64,
            };
            assert_eq!(f.data_type(), &expected, "{}", f.name());
        }
        // Values survive the round trip (timestamps: 2026-09-02 00:00 is 1788307200000 ms).
        let starts = h.column_by_name("interval_start").unwrap();
        let starts = starts
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .unwrap();
        assert_eq!(starts.value(0), 1_788_307_200_000);

        let d = read(&daily);
        assert_eq!(d.num_rows(), 12);
        let names: Vec<&str> = d
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(
            &names[..5],
            ["namespace", "node", "pod", "pod_labels", "interval_start"]
        );
        assert_eq!(names.last(), Some(&"node_role"));
        let role = d.column_by_name("node_role").unwrap();
        assert_eq!(role.data_type(), &DataType::Utf8);
        assert_eq!(role.null_count(), 12);
        assert!(d.column_by_name("interval_end").is_none());
        // Every tiny pod runs all 24 hours on its node: daily capacity seconds = cores * 3600 * 24.
        let cores = d.column_by_name("node_capacity_cpu_cores").unwrap();
        let secs = d.column_by_name("node_capacity_cpu_core_seconds").unwrap();
        let (cores, secs) = (
            cores.as_primitive::<Float64Type>(),
            secs.as_primitive::<Float64Type>(),
        );
        for i in 0..d.num_rows() {
            assert_eq!(secs.value(i), cores.value(i) * 86400.0);
        }

        let nl = read(
            &table_dir(root.path(), account, &src, "node_labels", true, 2026, 9)
                .join("node_labels.2026-09-01.1.1_daily_0.parquet"),
        );
        let names: Vec<&str> = nl
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(
            names,
            [
                "node",
                "node_labels",
                "interval_start",
                "report_period_start",
                "report_period_end"
            ]
        );
        assert_eq!(nl.schema_ref().field(2).data_type(), &ms);
        let ns = read(
            &table_dir(
                root.path(),
                account,
                &src,
                "namespace_labels",
                false,
                2026,
                9,
            )
            .join("namespace_labels.2026-09-03.1.1_0.parquet"),
        );
        assert_eq!(ns.schema_ref().field(4).name(), "namespace");
        // 4 namespaces with pods in every hour → 4 * 24 rows.
        assert_eq!(ns.num_rows(), 96);

        // Snappy compression.
        let meta = SerializedFileReader::new(File::open(&hourly).unwrap()).unwrap();
        let col = meta.metadata().row_group(0).column(0).compression();
        assert_eq!(col, Compression::SNAPPY);
    }

    #[test]
    fn label_tables_skipped_when_switched_off() {
        let root = tempfile::tempdir().unwrap();
        let mut model = generate(Scale::Tiny, 1);
        model.write_node_labels = false;
        model.write_namespace_labels = false;
        let written = write_cluster(&model, root.path()).unwrap();
        assert_eq!(written.tables.len(), 4); // pod and storage usage, hourly and daily
        assert_eq!(written.files(), 12);
        assert!(!root
            .path()
            .join("data/parquet/org1234567/OCP/node_labels")
            .exists());
        assert!(!root
            .path()
            .join("data/parquet/daily/org1234567/OCP/namespace_labels")
            .exists());
    }

    #[test]
    fn no_volumes_no_storage_files() {
        // koku's storage_exists is false without the table (§1.3): nothing may be written.
        let root = tempfile::tempdir().unwrap();
        let mut model = generate(Scale::Tiny, 1);
        model.volumes.clear();
        model.claims.clear();
        let written = write_cluster(&model, root.path()).unwrap();
        assert_eq!(written.tables.len(), 6);
        assert!(written.table(STORAGE_USAGE, true).is_none());
        for daily in ["", "daily/"] {
            let dir = format!("data/parquet/{daily}org1234567/OCP/storage_usage");
            assert!(!root.path().join(dir).exists());
        }
    }

    fn column_names(batch: &RecordBatch) -> Vec<String> {
        batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    #[test]
    fn storage_tables_have_koku_columns_and_types() {
        let mut m = ClusterModel::empty(2026, 9, 1, 1);
        let mut volume = VolumeModel::new("pv-1", 10.0 * GIB);
        volume.claimless_hours = vec![0, 1];
        m.volumes.push(volume);
        let root = tempfile::tempdir().unwrap();
        let written = write_cluster(&m, root.path()).unwrap();
        assert_eq!(written.table(STORAGE_USAGE, false).unwrap().rows, 2);
        let dir = |daily| {
            table_dir(
                root.path(),
                &m.account,
                &m.source_uuid,
                STORAGE_USAGE,
                daily,
                2026,
                9,
            )
        };
        let daily = read(&dir(true).join("storage_usage.2026-09-01.1.1_daily_0.parquet"));
        let hourly = read(&dir(false).join("storage_usage.2026-09-01.1.1_0.parquet"));
        assert_eq!(
            column_names(&daily),
            [
                "namespace",
                "node",
                "pod",
                "persistentvolumeclaim",
                "persistentvolume",
                "storageclass",
                "csi_driver",
                "csi_volume_handle",
                "persistentvolume_labels",
                "persistentvolumeclaim_labels",
                "interval_start",
                "report_period_start",
                "report_period_end",
                "persistentvolumeclaim_capacity_bytes",
                "persistentvolumeclaim_capacity_byte_seconds",
                "volume_request_storage_byte_seconds",
                "persistentvolumeclaim_usage_byte_seconds",
            ]
        );
        assert_eq!(
            column_names(&hourly)[..8],
            [
                "report_period_start",
                "report_period_end",
                "interval_start",
                "interval_end",
                "namespace",
                "pod",
                "node",
                "persistentvolumeclaim",
            ]
        );
        let ms = DataType::Timestamp(TimeUnit::Millisecond, None);
        for batch in [&daily, &hourly] {
            for f in batch.schema_ref().fields() {
                let expected = match f.name().as_str() {
                    n if n.starts_with("report_period") || n.starts_with("interval") => ms.clone(),
                    n if n.ends_with("bytes") || n.ends_with("seconds") => DataType::Float64,
                    _ => DataType::Utf8,
                };
                assert_eq!(f.data_type(), &expected, "{}", f.name());
                assert!(f.is_nullable());
            }
        }
        // Two claimless hours of a 10 GiB volume: 2 * 10 * 2^30 * 3600 capacity byte-seconds.
        assert_eq!(daily.num_rows(), 1);
        let capacity = daily
            .column_by_name("persistentvolumeclaim_capacity_byte_seconds")
            .unwrap();
        assert_eq!(
            capacity.as_primitive::<Float64Type>().value(0),
            77_309_411_328_000.0
        );
        let pvc = daily.column_by_name("persistentvolumeclaim").unwrap();
        assert_eq!(pvc.as_string::<i32>().value(0), "");
    }

    #[test]
    fn hourly_node_role_column_only_when_the_operator_sends_it() {
        let mut m = ClusterModel::empty(2026, 9, 1, 1);
        m.nodes.push(NodeModel {
            name: "n1".into(),
            resource_id: "i-1".into(),
            cpu_cores: 4.0,
            memory_bytes: 8.0 * GIB,
            labels: Vec::new(),
        });
        m.pods.push(PodModel::new("p", "ns", "n1", vec![0]));
        let t = koku_tables(&m);
        assert!(!column_names(&to_record_batch(&t.pod_usage)).contains(&"node_role".to_string()));
        assert!(
            column_names(&to_record_batch(&t.pod_usage_daily)).contains(&"node_role".to_string())
        );
        m.operator_node_roles
            .insert("n1".into(), "control-plane".into());
        let t = koku_tables(&m);
        let hourly = to_record_batch(&t.pod_usage);
        let names = column_names(&hourly);
        // After the operator's pod_labels, before koku's effective-usage columns.
        let at = names.iter().position(|n| n == "node_role").unwrap();
        assert_eq!(names[at - 1], "pod_labels");
        assert_eq!(names[at + 1], "pod_effective_usage_cpu_core_seconds");
        let role = hourly.column(at).as_string::<i32>().value(0).to_string();
        assert_eq!(role, "control-plane");
    }

    #[test]
    fn hand_built_rows_with_duplicate_keys_write_as_given() {
        // A daily table with two rows for the same key on one day (as koku's chunking makes).
        let mut m = ClusterModel::empty(2026, 9, 1, 1);
        m.nodes.push(NodeModel {
            name: "n1".into(),
            resource_id: "i-1".into(),
            cpu_cores: 4.0,
            memory_bytes: 8.0 * GIB,
            labels: vec![LabelPeriod::new(0, &[])],
        });
        let mut pod = PodModel::new("p", "ns", "n1", vec![0, 1]);
        pod.cpu_usage_cores = 1.0;
        m.pods.push(pod);
        let mut daily = koku_tables(&m).pod_usage_daily;
        daily.push(daily[0].clone());
        daily[1].node_role = Some("worker".into());
        let root = tempfile::tempdir().unwrap();
        let w = write_table(root.path(), &m.account, &m.source_uuid, &daily).unwrap();
        assert_eq!((w.files, w.rows), (1, 2));
        assert_eq!(w.table_name(), "openshift_pod_usage_line_items_daily");
        let b = read(
            &table_dir(
                root.path(),
                &m.account,
                &m.source_uuid,
                "pod_usage",
                true,
                2026,
                9,
            )
            .join("pod_usage.2026-09-01.1.1_daily_0.parquet"),
        );
        assert_eq!(b.num_rows(), 2);
        let usage = b.column_by_name("pod_usage_cpu_core_seconds").unwrap();
        // 1 core * 3600 s * 2 hours in each row.
        assert_eq!(
            usage.as_primitive::<Float64Type>().values().to_vec(),
            [7200.0, 7200.0]
        );
        let role = b.column_by_name("node_role").unwrap();
        assert_eq!(
            role.as_string::<i32>().iter().collect::<Vec<_>>(),
            [None, Some("worker")]
        );
    }

    #[test]
    fn arbitrary_batches_can_be_written() {
        let batch = RecordBatch::try_from_iter(vec![(
            "pod_labels",
            Arc::new(StringArray::from(vec![Some(""), None])) as ArrayRef,
        )])
        .unwrap();
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("deep/er/bad.parquet");
        write_batch(&path, &batch).unwrap();
        let back = read(&path);
        assert_eq!(back.num_rows(), 2);
        assert_eq!(back.column(0).null_count(), 1);
        assert_eq!(PodUsageDailyRow::schema().fields().len(), 21);
    }

    #[test]
    fn unwritable_root_is_a_clear_error() {
        let root = tempfile::tempdir().unwrap();
        let blocker = root.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let err = write_cluster(&generate(Scale::Tiny, 1), &blocker).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("cannot create folder"), "{msg}");
        assert!(msg.contains(&blocker.display().to_string()), "{msg}");
        let mut bad = generate(Scale::Tiny, 1);
        bad.last_day = 31;
        let err = write_cluster(&bad, root.path()).unwrap_err();
        assert!(
            err.to_string().starts_with("invalid cluster model"),
            "{err}"
        );
    }
}
