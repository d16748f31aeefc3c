//! Column projection and type normalisation: whatever physical type koku's writer chose for a
//! column (spec §2.1: double, `timestamp[ms]`, string or large_string), the aggregation sees one
//! Arrow type per kind, or the run stops with an error naming the file and the column. What is
//! read rather than refused follows Trino's Parquet reader (docs/semantics.md "Column types"):
//! signed integers and floats for a double, any string encoding for text, any timestamp unit.

use std::sync::Arc;

use arrow::array::Scalar;
use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, StringArray};
use arrow::compute::kernels::{boolean::and, cmp};
use arrow::compute::{cast, filter};
use arrow::datatypes::{
    DataType, Schema, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};

use crate::error::{Error, Result};
use crate::window::DayWindow;

/// The logical kind of a column, as koku's Hive DDL declares it (spec §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// `timestamp`: read as milliseconds since the epoch (naive, taken as UTC).
    Timestamp,
    /// `varchar`.
    Text,
    /// `double`.
    Double,
}

/// A column a scan needs.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub kind: ColumnKind,
    /// A file without the column reads it as all NULL, as koku adds such columns (spec §2.2:
    /// `node_role`, `csi_volume_handle`); a required column's absence is an error.
    pub optional: bool,
}

impl ColumnSpec {
    const fn new(name: &'static str, kind: ColumnKind) -> Self {
        ColumnSpec {
            name,
            kind,
            optional: false,
        }
    }
    pub const fn timestamp(name: &'static str) -> Self {
        ColumnSpec::new(name, ColumnKind::Timestamp)
    }
    pub const fn text(name: &'static str) -> Self {
        ColumnSpec::new(name, ColumnKind::Text)
    }
    pub const fn double(name: &'static str) -> Self {
        ColumnSpec::new(name, ColumnKind::Double)
    }
    /// A text column that older or partial files may lack.
    pub const fn optional_text(name: &'static str) -> Self {
        ColumnSpec {
            optional: true,
            ..ColumnSpec::new(name, ColumnKind::Text)
        }
    }
}

/// Finds each wanted column in a file's schema and checks its type; returns the column indexes,
/// `None` for an optional column the file lacks.
pub(crate) fn locate(
    schema: &Schema,
    wanted: &[ColumnSpec],
    file: &str,
    table: &str,
) -> Result<Vec<Option<usize>>> {
    wanted
        .iter()
        .map(|spec| {
            if spec.optional && schema.index_of(spec.name).is_err() {
                return Ok(None);
            }
            let index = schema.index_of(spec.name).map_err(|_| {
                Error::column(
                    file,
                    spec.name,
                    format!(
                        "{file}: column `{}` is missing from this {table} file; koku writes it \
                         as {}. Re-export the file with the column, or remove the file from the \
                         month.",
                        spec.name,
                        expected(spec.kind)
                    ),
                )
            })?;
            let data_type = schema.field(index).data_type();
            if !accepts(spec.kind, data_type) {
                return Err(Error::column(
                    file,
                    spec.name,
                    format!(
                        "{file}: column `{}` of {table} has type {data_type}, expected {}",
                        spec.name,
                        expected(spec.kind)
                    ),
                ));
            }
            Ok(Some(index))
        })
        .collect()
}

fn accepts(kind: ColumnKind, data_type: &DataType) -> bool {
    // An all-NULL column written by pandas/pyarrow may carry Arrow's Null type.
    if *data_type == DataType::Null {
        return true;
    }
    match kind {
        ColumnKind::Timestamp => matches!(data_type, DataType::Timestamp(_, _)),
        // Trino's Parquet reader coerces signed integers to double and widens float.
        ColumnKind::Double => matches!(
            data_type,
            DataType::Float64
                | DataType::Float32
                | DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64
        ),
        ColumnKind::Text => match data_type {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
            DataType::Dictionary(_, value) => {
                matches!(
                    **value,
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                )
            }
            _ => false,
        },
    }
}

fn expected(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Timestamp => "a timestamp (Parquet timestamp[ms])",
        ColumnKind::Text => "a string",
        ColumnKind::Double => "a double",
    }
}

/// A batch of projected columns in their normalised types, in the order the scan asked for:
/// timestamps as `Int64Array` of epoch milliseconds, text as `StringArray`, doubles as
/// `Float64Array`.
#[derive(Debug, Clone)]
pub struct Batch {
    pub columns: Vec<ArrayRef>,
    pub num_rows: usize,
}

impl Batch {
    /// Normalises `columns` (same order as `specs`).
    pub(crate) fn normalise(
        columns: Vec<ArrayRef>,
        specs: &[ColumnSpec],
        num_rows: usize,
    ) -> Result<Batch> {
        let columns = columns
            .into_iter()
            .zip(specs)
            .map(|(column, spec)| normalise_column(column, spec.kind))
            .collect::<Result<Vec<_>>>()?;
        Ok(Batch { columns, num_rows })
    }

    /// The rows whose first column (`interval_start`, epoch milliseconds) lies in `window`:
    /// `[first day 00:00, last day + 1 00:00)` (spec §3 "Window"). A NULL timestamp is outside.
    pub(crate) fn in_window(self, window: DayWindow) -> Result<Batch> {
        let (low, high) = window.millis_range();
        let millis = self.millis(0);
        let keep = and(
            &cmp::gt_eq(millis, &Scalar::new(Int64Array::from(vec![low])))?,
            &cmp::lt(millis, &Scalar::new(Int64Array::from(vec![high])))?,
        )?;
        let num_rows = keep.true_count();
        if num_rows == self.num_rows {
            return Ok(self);
        }
        let columns = self
            .columns
            .iter()
            .map(|column| filter(column, &keep))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Batch { columns, num_rows })
    }

    pub fn millis(&self, i: usize) -> &Int64Array {
        self.columns[i].as_primitive()
    }
    pub fn text(&self, i: usize) -> &StringArray {
        self.columns[i].as_string()
    }
    pub fn double(&self, i: usize) -> &Float64Array {
        self.columns[i].as_primitive()
    }
}

/// The one Arrow type the aggregation reads a column of `kind` as.
fn normal_type(kind: ColumnKind) -> DataType {
    match kind {
        ColumnKind::Timestamp => DataType::Int64,
        ColumnKind::Text => DataType::Utf8,
        ColumnKind::Double => DataType::Float64,
    }
}

fn normalise_column(column: ArrayRef, kind: ColumnKind) -> Result<ArrayRef> {
    let target = normal_type(kind);
    if *column.data_type() == DataType::Null {
        return Ok(arrow::array::new_null_array(&target, column.len()));
    }
    match kind {
        ColumnKind::Timestamp => Ok(Arc::new(to_millis(&column))),
        _ if *column.data_type() == target => Ok(column),
        // Any string encoding as text; an integer or float as the double Trino's coercion
        // gives (`as f64`).
        _ => cast(&column, &target).map_err(|e| {
            Error::Internal(format!(
                "a checked {kind:?} column did not cast to {target}: {e}"
            ))
        }),
    }
}

/// Epoch milliseconds of a timestamp column of any unit (a time zone, if any, is ignored: the
/// stored instant is UTC). Finer units round half up to the millisecond, as Trino reads them
/// into koku's `timestamp(3)`: 23:59:59.9996 is the next day's midnight.
fn to_millis(column: &ArrayRef) -> Int64Array {
    let DataType::Timestamp(unit, _) = column.data_type() else {
        unreachable!("locate() admits only timestamps here")
    };
    match unit {
        TimeUnit::Second => column
            .as_primitive::<TimestampSecondType>()
            .unary(|v| v * 1000),
        TimeUnit::Millisecond => column
            .as_primitive::<TimestampMillisecondType>()
            .unary(|v| v),
        TimeUnit::Microsecond => column
            .as_primitive::<TimestampMicrosecondType>()
            .unary(|v| v.saturating_add(500).div_euclid(1000)),
        TimeUnit::Nanosecond => column
            .as_primitive::<TimestampNanosecondType>()
            .unary(|v| v.saturating_add(500_000).div_euclid(1_000_000)),
    }
}
