//! The file sink: the rows as Parquet or CSV, with koku's column names. Metrics are
//! `Decimal128(33, 15)` (Parquet) or their numeric(33,15) text (CSV): the values PostgreSQL would
//! hold, so a file and a table compare equal.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Decimal128Array, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::{Kind, PreparedRow, RunIdentity, Value, COLUMNS};
use crate::error::{Error, Result, Service};
use crate::numeric::{PRECISION, SCALE};
use crate::window::day_of_date;

/// The file formats, chosen by the output path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Parquet,
    Csv,
}

impl FileFormat {
    /// `.parquet` or `.csv`; anything else is bad input.
    pub fn from_path(path: &Path) -> Result<Self> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("parquet") => Ok(FileFormat::Parquet),
            Some("csv") => Ok(FileFormat::Csv),
            _ => Err(Error::setting(
                "--out",
                format!(
                    "output file {} must end in .parquet or .csv (setting --out)",
                    path.display()
                ),
            )),
        }
    }
}

/// The rows as one Arrow batch with koku's column names.
pub fn to_record_batch(rows: &[PreparedRow], identity: &RunIdentity) -> RecordBatch {
    let mut fields = Vec::with_capacity(COLUMNS.len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(COLUMNS.len());
    for column in COLUMNS {
        let values = rows.iter().map(|row| column.value(row, identity));
        let (data_type, array): (DataType, ArrayRef) = match column.kind() {
            Kind::Uuid => (
                DataType::Utf8,
                Arc::new(StringArray::from_iter_values(values.map(|v| match v {
                    Value::Uuid(u) => u.to_string(),
                    _ => unreachable!("column kind is fixed"),
                }))),
            ),
            Kind::Int => (
                DataType::Int32,
                Arc::new(Int32Array::from_iter(values.map(|v| match v {
                    Value::Int(i) => i,
                    _ => unreachable!("column kind is fixed"),
                }))),
            ),
            Kind::Text | Kind::Json => (
                DataType::Utf8,
                Arc::new(StringArray::from_iter(values.map(|v| match v {
                    Value::Text(t) | Value::Json(t) => t.map(str::to_string),
                    _ => unreachable!("column kind is fixed"),
                }))),
            ),
            Kind::Date => (
                DataType::Date32,
                Arc::new(Date32Array::from_iter_values(values.map(|v| match v {
                    Value::Date(d) => day_of_date(d),
                    _ => unreachable!("column kind is fixed"),
                }))),
            ),
            Kind::Numeric => {
                let data_type = DataType::Decimal128(PRECISION, SCALE as i8);
                let array = Decimal128Array::from_iter(values.map(|v| match v {
                    Value::Numeric(n) => n.map(|n| n.0),
                    _ => unreachable!("column kind is fixed"),
                }))
                .with_data_type(data_type.clone());
                (data_type, Arc::new(array))
            }
        };
        fields.push(Field::new(column.name(), data_type, true));
        arrays.push(array);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("columns match the schema")
}

/// Writes the rows to `path` (Parquet or CSV by extension), replacing the file.
pub fn write(path: &Path, rows: &[PreparedRow], identity: &RunIdentity) -> Result<()> {
    let format = FileFormat::from_path(path)?;
    let batch = to_record_batch(rows, identity);
    let file = std::fs::File::create(path).map_err(|e| {
        Error::infrastructure(
            Service::FileSystem,
            format!("cannot create output file {}: {e}", path.display()),
        )
    })?;
    let failed = |e: &dyn std::fmt::Display| {
        Error::infrastructure(
            Service::FileSystem,
            format!("cannot write output file {}: {e}", path.display()),
        )
    };
    match format {
        FileFormat::Parquet => {
            let properties = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build();
            let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(properties))
                .map_err(|e| failed(&e))?;
            writer.write(&batch).map_err(|e| failed(&e))?;
            writer.close().map_err(|e| failed(&e))?;
        }
        FileFormat::Csv => {
            let mut writer = arrow::csv::Writer::new(file);
            writer.write(&batch).map_err(|e| failed(&e))?;
        }
    }
    Ok(())
}
