//! Faults in koku's Parquet (issue 15): each case either reads as koku's Trino reads it, and then
//! gives the rows of the unbroken input, or is refused as bad input naming the file (and the
//! column), PostgreSQL left exactly as the good run wrote it (the month's rows, the nodes and
//! clusters recorded, the run records: [`Case::assert_rejected`]).
//!
//! What Trino does comes from Trino 476's Hive connector (the version `just test` runs; its
//! classes read with `javap`) under koku's catalog settings (`hive.parquet.use-column-names=true`:
//! columns are matched by name):
//! - a file that is not Parquet, or whose footer is cut off, fails the query when the split is
//!   opened (the footer's length and the `PAR1` magic are read first): koku's summary task fails
//!   and the month keeps its rows;
//! - a zero-length file gives no split at all (`InternalHiveSplitFactory`: "empty files are
//!   allowed"), and names starting with `.` or `_` are hidden files Hive never lists;
//! - a column the table does not declare is never read; a declared column's physical type decides
//!   the reader: `INT32`/`INT64` for a `double` column is coerced (`ParquetTypeTranslator`,
//!   `IntegerNumberToDoubleCoercer`) and `FLOAT` widened (`ColumnReaderFactory`), any
//!   `BYTE_ARRAY` string reads as `varchar` whatever Arrow type the writer had in memory
//!   (dictionary, large, view), and an `INT64` timestamp of any unit reads into koku's
//!   `timestamp(3)` rounded half up to the millisecond (`Timestamps.round`), in UTC when the file
//!   says it is not adjusted to UTC, in `parquet.time-zone` (the JVM's zone, UTC in koku's
//!   containers) when it is;
//! - a month's table is what its folder holds: a day without files has no rows, a folder without
//!   files an empty table (spec §1.3, §12.9).
//!
//! A missing needed column and a column of another kind (text for a double, an integer for a
//! timestamp, a double for text) are `bad_input`'s cases, not repeated here.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Float64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Field, Schema, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType,
};
use arrow::record_batch::RecordBatch;
use ocp_engine::error::Problem;
use ocp_engine::run::RunReport;
use ocp_engine::summary::{DataSource, SummaryRow};
use ocp_harness::compare::assert_same_rows;
use ocp_harness::scenario::run_quietly;
use ocp_harness::synth::parquet_writer::{
    file_name, MANIFEST_ID, NODE_LABELS, POD_USAGE, REPORT_TYPES, STORAGE_USAGE,
};

// The tenant-schema machinery the bad-input suites share (harness/tests/common/case.rs); each
// suite uses a part of it.
#[allow(dead_code)]
mod common {
    pub mod case;
}
use common::case::{replaced, retyped, small_month, small_month_without_volumes, Case};

/// A case on [`small_month`] whose good run wrote Pod, Storage and unallocated rows on each day, so no
/// comparison below can pass on rows of one kind alone.
async fn case(prefix: &str) -> Case {
    let case = Case::new(prefix, small_month()).await;
    let model = &case.scenario.model;
    for day in 0..model.num_days() {
        let date = model.date(day);
        let of_day: Vec<&SummaryRow> = case
            .good
            .rows
            .iter()
            .filter(|r| r.usage_start == date)
            .collect();
        let pod = of_day
            .iter()
            .filter(|r| r.data_source == DataSource::Pod && !r.is_unallocated())
            .count();
        let storage = of_day
            .iter()
            .filter(|r| r.data_source == DataSource::Storage)
            .count();
        let unallocated = of_day.iter().filter(|r| r.is_unallocated()).count();
        assert!(
            pod > 0 && storage > 0 && unallocated > 0,
            "the good run's rows on {date}: {pod} Pod, {storage} Storage, {unallocated} unallocated"
        );
    }
    case
}

/// Runs the case's request and asserts it wrote `expected`'s rows, every row and column at
/// the engine's precision (1e-12 relative, 1e-9 absolute).
async fn assert_reads(case: &Case, expected: &RunReport, what: &str) {
    let report = run_quietly(&case.request())
        .await
        .unwrap_or_else(|e| panic!("{what}: the run fails: {e}"));
    let compared = assert_same_rows(&report, expected, what);
    assert!(compared > 0, "{what}: no rows compared");
}

/// Rewrites the first day's file of each table the engine reads (daily pod usage, hourly pod
/// usage, daily storage usage, daily node and namespace labels) through `change`.
fn rewrite_every_table(case: &Case, change: impl Fn(RecordBatch) -> RecordBatch) {
    case.rewrite(|t| t.pod_usage_daily, &change);
    case.rewrite(|t| t.pod_usage, &change);
    case.rewrite(|t| t.storage_usage_daily, &change);
    case.rewrite(|t| t.node_labels_daily, &change);
    case.rewrite(|t| t.namespace_labels_daily, &change);
}

/// `batch` with every column of type `from` (if any) cast to `to`; asserts that casting back
/// gives the column it was, so the file holds the same values in another type.
fn every_column(from: DataType, to: DataType) -> impl Fn(RecordBatch) -> RecordBatch {
    move |batch| {
        let names: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .filter(|f| *f.data_type() == from)
            .map(|f| f.name().clone())
            .collect();
        names.iter().fold(batch, |batch, name| {
            let original = batch.column_by_name(name).expect("the column").clone();
            let batch = retyped(name, to.clone())(batch);
            let back = cast(batch.column_by_name(name).expect("the column"), &from)
                .expect("the cast back is supported");
            assert_eq!(
                back.as_ref(),
                original.as_ref(),
                "{name} as {to} keeps its values"
            );
            batch
        })
    }
}

/// `batch` with every timestamp column (koku's naive milliseconds) stored in `unit` with time
/// zone `zone`, each value the same UTC instant moved by `shift` of that unit.
fn timestamps_in(
    unit: TimeUnit,
    zone: Option<&'static str>,
    shift: i64,
) -> impl Fn(RecordBatch) -> RecordBatch {
    move |batch| {
        let names: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .filter(|f| matches!(f.data_type(), DataType::Timestamp(..)))
            .map(|f| f.name().clone())
            .collect();
        assert!(!names.is_empty(), "the batch has timestamp columns");
        names.iter().fold(batch, |batch, name| {
            let millis = batch
                .column_by_name(name)
                .expect("the column")
                .as_primitive::<TimestampMillisecondType>()
                .clone();
            let column: ArrayRef = match unit {
                TimeUnit::Millisecond => Arc::new(
                    millis
                        .unary::<_, TimestampMillisecondType>(|v| v + shift)
                        .with_timezone_opt(zone),
                ),
                TimeUnit::Microsecond => Arc::new(
                    millis
                        .unary::<_, TimestampMicrosecondType>(|v| v * 1_000 + shift)
                        .with_timezone_opt(zone),
                ),
                TimeUnit::Nanosecond => Arc::new(
                    millis
                        .unary::<_, TimestampNanosecondType>(|v| v * 1_000_000 + shift)
                        .with_timezone_opt(zone),
                ),
                TimeUnit::Second => unreachable!("Parquet has no second unit"),
            };
            replaced(batch, name, column)
        })
    }
}

/// `batch` with two columns koku's tables do not declare, one before the others (so every
/// column the engine wants moves) and one after.
fn with_unknown_columns(batch: RecordBatch) -> RecordBatch {
    let rows = batch.num_rows();
    let mut fields = vec![Field::new("operator_cluster_uuid", DataType::Utf8, true)];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec!["c-1"; rows]))];
    fields.extend(batch.schema().fields().iter().map(|f| f.as_ref().clone()));
    columns.extend(batch.columns().iter().cloned());
    fields.push(Field::new("pod_usage_gpu_seconds", DataType::Float64, true));
    columns.push(Arc::new(Float64Array::from(vec![7.5; rows])));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("a consistent batch")
}

/// Removes every file of `dir`, keeping the folder.
fn empty_folder(dir: &std::path::Path) {
    for entry in std::fs::read_dir(dir).expect("list the folder") {
        std::fs::remove_file(entry.expect("a folder entry").path()).expect("remove a file");
    }
}

fn display(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}

/// A file cut short, and a file that is not Parquet at all, fail Trino's read of the split (it
/// reads the footer's length and the trailing `PAR1` first and finds neither): koku's task
/// fails, so the engine refuses the run as bad input naming the file, and PostgreSQL keeps the
/// month's rows.
#[tokio::test]
async fn truncated_and_non_parquet_files_are_refused_naming_the_file() {
    let case = case("faults_unreadable").await;
    let request = case.request();
    let daily = case.file(POD_USAGE, true, 0);
    let whole = std::fs::read(&daily).expect("read the daily pod-usage file");
    let csv = "report_period_start,report_period_end,interval_start,interval_end,pod,namespace\n\
               2026-03-01 00:00:00 +0000 UTC,2026-04-01 00:00:00 +0000 UTC,\
               2026-03-10 00:00:00 +0000 UTC,2026-03-10 00:59:59 +0000 UTC,web-1,shop\n";
    let cut = |len: usize| whole[..len].to_vec();
    let breakages: [(&str, _, Vec<u8>); 7] = [
        ("cut in half", daily.clone(), cut(whole.len() / 2)),
        ("without its last byte", daily.clone(), cut(whole.len() - 1)),
        ("only the leading magic", daily.clone(), cut(4)),
        ("CSV text", daily.clone(), csv.as_bytes().to_vec()),
        ("CSV text", case.file(POD_USAGE, false, 1), csv.into()),
        ("CSV text", case.file(STORAGE_USAGE, true, 2), csv.into()),
        ("cut in half", case.file(NODE_LABELS, true, 1), {
            let labels = std::fs::read(case.file(NODE_LABELS, true, 1)).expect("read");
            labels[..labels.len() / 2].to_vec()
        }),
    ];
    for (what, path, bytes) in breakages {
        std::fs::write(&path, bytes).expect("break the file");
        eprintln!("{}: {what}", path.display());
        case.assert_rejected(&request, Problem::File(display(&path)))
            .await;
        case.restore();
    }
}

/// Trino lists a zero-length object and makes no split of it (`InternalHiveSplitFactory`: a file
/// of estimated size 0 gives no split, "per HIVE-13040 empty files are allowed"), so an empty
/// file beside a day's files changes nothing.
#[tokio::test]
async fn zero_length_files_are_skipped_as_trino_skips_them() {
    let case = case("faults_zero_length").await;
    let model = &case.scenario.model;
    for report_type in REPORT_TYPES {
        for daily in [true, false] {
            let path = case.dir(report_type, daily).join(file_name(
                report_type,
                model.date(1),
                MANIFEST_ID + 1,
                daily,
            ));
            std::fs::write(path, b"").expect("write an empty file");
        }
    }
    assert_reads(
        &case,
        &case.good,
        "an empty file beside every table's files",
    )
    .await;
}

/// A folder whose only file is zero-length is an empty table to Trino, as a folder without
/// files is (see `an_empty_pod_usage_folder_has_no_data`): no daily data at all.
#[tokio::test]
async fn a_pod_usage_folder_holding_only_a_zero_length_file_has_no_data() {
    let case = Case::new("faults_zero_length_only", small_month_without_volumes()).await;
    let dir = case.dir(POD_USAGE, true);
    empty_folder(&dir);
    std::fs::write(case.file(POD_USAGE, true, 0), b"").expect("write an empty file");
    let searched = display(&dir);
    case.assert_rejected(&case.request(), Problem::NoData { searched })
        .await;
}

/// koku's catalog reads Parquet columns by name (`hive.parquet.use-column-names=true`): a
/// column the table does not declare is never read, and the declared ones are found wherever
/// they sit in the file.
#[tokio::test]
async fn unknown_columns_are_ignored() {
    let case = case("faults_extra_column").await;
    rewrite_every_table(&case, with_unknown_columns);
    assert_reads(&case, &case.good, "two unknown columns in every table").await;
}

/// Trino 476 reads an `INT32` or `INT64` Parquet column into a `double` table column through a
/// coercion (`ParquetTypeTranslator.createCoercer` → `IntegerNumberToDoubleCoercer`) and a
/// `FLOAT` one through its float-to-double decoder (`ColumnReaderFactory`), so whole-number
/// metrics written as integers or single-precision floats read as the same doubles.
#[tokio::test]
async fn integer_and_float_metrics_read_as_doubles() {
    let case = case("faults_narrow_metrics").await;
    rewrite_every_table(&case, |batch| {
        // 4 cores fit an INT32 as well; every other metric becomes an INT64.
        let cores = "node_capacity_cpu_cores";
        let batch = if batch.schema().index_of(cores).is_ok() {
            retyped(cores, DataType::Int32)(batch)
        } else {
            batch
        };
        every_column(DataType::Float64, DataType::Int64)(batch)
    });
    assert_reads(&case, &case.good, "metrics as INT64 (one as INT32)").await;
    case.restore();
    rewrite_every_table(&case, every_column(DataType::Float64, DataType::Float32));
    assert_reads(&case, &case.good, "metrics as FLOAT").await;
}

/// Every Arrow string type is a Parquet `BYTE_ARRAY` string on disk, which Trino reads as
/// `varchar`: dictionary-encoded, `large_string` (pandas' type for koku's `node_role`, spec §2.1)
/// and `string_view` text gives the same rows as plain strings.
#[tokio::test]
async fn dictionary_large_and_view_strings_read_as_text() {
    let case = case("faults_string_types").await;
    for to in [
        DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
        DataType::LargeUtf8,
        DataType::Utf8View,
    ] {
        rewrite_every_table(&case, every_column(DataType::Utf8, to.clone()));
        assert_reads(&case, &case.good, &format!("every text column as {to}")).await;
        case.restore();
    }
}

/// A Parquet timestamp of any unit reads into koku's `timestamp(3)` as the same instant:
/// milliseconds as they are, microseconds and nanoseconds rounded to the millisecond (exact
/// here). A file marked adjusted to UTC (an Arrow time zone) is read in Trino's
/// `parquet.time-zone`, the JVM's zone, UTC in koku's containers: the same wall clock as the
/// naive file (Arrow stores the UTC instant whatever the zone's name).
#[tokio::test]
async fn timestamps_of_any_unit_and_zone_read_as_the_same_instant() {
    let case = case("faults_timestamp_units").await;
    for unit in [
        TimeUnit::Millisecond,
        TimeUnit::Microsecond,
        TimeUnit::Nanosecond,
    ] {
        for zone in [None, Some("UTC"), Some("+02:00")] {
            rewrite_every_table(&case, timestamps_in(unit, zone, 0));
            let what = format!("timestamps in {unit:?}, zone {zone:?}");
            assert_reads(&case, &case.good, &what).await;
            case.restore();
        }
    }
}

/// Trino rounds a finer timestamp to `timestamp(3)` half up (`Timestamps.round`): 400 µs
/// before midnight is midnight, so the first day's rows stay on that day and in the run's window.
#[tokio::test]
async fn sub_millisecond_timestamps_round_to_the_nearest_millisecond() {
    let case = case("faults_timestamp_rounding").await;
    for (unit, shift) in [
        (TimeUnit::Microsecond, -400),
        (TimeUnit::Nanosecond, -400_000),
    ] {
        rewrite_every_table(&case, timestamps_in(unit, None, shift));
        let what = format!("timestamps in {unit:?} 0.4 ms early");
        assert_reads(&case, &case.good, &what).await;
        case.restore();
    }
}

/// koku reads what the month's folders hold: with the middle day's files gone from every table,
/// that day has no rows and the days around it keep theirs (their rows depend on their own
/// day's files; node roles come from any day's node labels in the window).
#[tokio::test]
async fn a_missing_day_has_no_rows_and_the_others_keep_theirs() {
    let case = case("faults_missing_day").await;
    let middle = case.scenario.model.date(1);
    for report_type in REPORT_TYPES {
        for daily in [true, false] {
            std::fs::remove_file(case.file(report_type, daily, 1)).expect("remove the day");
        }
    }
    let mut expected = case.good.clone();
    expected.rows.retain(|r| r.usage_start != middle);
    assert!(expected.rows.len() < case.good.rows.len());
    assert_reads(&case, &expected, "the middle day's files removed").await;
}

/// A storage folder without files is a storage table with no rows in the month: koku's Storage
/// branch returns nothing (spec §12.9), and the Pod and unallocated rows are the good run's.
#[tokio::test]
async fn an_empty_storage_folder_gives_no_storage_rows() {
    let case = case("faults_empty_storage").await;
    empty_folder(&case.dir(STORAGE_USAGE, true));
    let mut expected = case.good.clone();
    expected
        .rows
        .retain(|r| r.data_source != DataSource::Storage);
    assert!(expected.rows.len() < case.good.rows.len());
    assert_reads(&case, &expected, "the daily storage folder emptied").await;
}

/// A daily pod-usage folder without files (or with hidden files only, which Hive never lists),
/// and no storage table, is a month without daily data: the wrong source, account or month.
#[tokio::test]
async fn an_empty_pod_usage_folder_has_no_data() {
    let case = Case::new("faults_empty_pod_folder", small_month_without_volumes()).await;
    let dir = case.dir(POD_USAGE, true);
    empty_folder(&dir);
    let searched = display(&dir);
    case.assert_rejected(
        &case.request(),
        Problem::NoData {
            searched: searched.clone(),
        },
    )
    .await;
    std::fs::write(dir.join("_SUCCESS"), b"").expect("write a marker");
    std::fs::write(dir.join(".pod_usage.crc"), b"not parquet").expect("write a checksum");
    case.assert_rejected(&case.request(), Problem::NoData { searched })
        .await;
}
