//! The file sink: the rows as Parquet or CSV, with koku's column names, written day by day. Metrics are
//! `Decimal128(33, 15)` (Parquet) or their numeric(33,15) text (CSV): the values PostgreSQL would
//! hold, so a file and a table compare equal.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Decimal128Array, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use rayon::prelude::*;

use super::{Column, Kind, PreparedRow, RunIdentity, Value, COLUMNS, PREPARE_CHUNK};
use crate::compat::Compatibility;
use crate::error::{Error, Result, Service};
use crate::numeric::{PRECISION, SCALE};
use crate::summary::SummaryRow;
use crate::window::day_of_date;

/// How a CSV output writes NULL: PostgreSQL's marker, so that an empty text (a claimless
/// volume's namespace and claim are '', spec §3 Storage branch) is not read back as NULL, nor NULL
/// as ''. koku's text never holds it. Loaded with `COPY … (FORMAT csv, HEADER, NULL '\N')`.
pub const CSV_NULL: &str = "\\N";

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

/// The rows as one Arrow batch with koku's column names, its columns built in parallel.
pub fn to_record_batch(rows: &[PreparedRow], identity: &RunIdentity) -> RecordBatch {
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = COLUMNS
        .par_iter()
        .map(|column| {
            let (data_type, array) = column_array(column, rows, identity);
            (Field::new(column.name(), data_type, true), array)
        })
        .unzip();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("columns match the schema")
}

/// One column of the rows as an Arrow array, with its type.
fn column_array(
    column: &Column,
    rows: &[PreparedRow],
    identity: &RunIdentity,
) -> (DataType, ArrayRef) {
    let values = rows.iter().map(|row| column.value(row, identity));
    match column.kind() {
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
    }
}

/// A file being written day by day. The rows go to a hidden file beside the output, renamed over
/// it by [`FileSink::finish`]; a run that fails or is dropped removes it, so the output is either
/// the whole month or what was there before.
pub struct FileSink {
    path: PathBuf,
    partial: PathBuf,
    writer: Option<FormatWriter>,
    identity: RunIdentity,
    compat: Compatibility,
}

/// The open writer of a format.
enum FormatWriter {
    Parquet(ArrowWriter<File>),
    Csv(arrow::csv::Writer<File>),
}

impl FileSink {
    /// Creates the hidden file the rows go to, with the columns (a CSV header; Parquet's schema);
    /// bad input when `path`'s extension is neither `.parquet` nor `.csv`.
    pub fn create(path: &Path, identity: &RunIdentity, compat: Compatibility) -> Result<Self> {
        let format = FileFormat::from_path(path)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let partial = path.with_file_name(format!(
            ".{}.{}.partial",
            name.unwrap_or_default(),
            identity.run_id
        ));
        let mut sink = FileSink {
            path: path.to_path_buf(),
            partial,
            writer: None,
            identity: identity.clone(),
            compat,
        };
        let file = File::create(&sink.partial).map_err(|e| {
            Error::infrastructure(
                Service::FileSystem,
                format!("cannot create output file {}: {e}", sink.partial.display()),
            )
        })?;
        // The columns' types do not depend on the rows: an empty batch carries them.
        let columns = to_record_batch(&[], identity);
        let writer = match format {
            FileFormat::Parquet => {
                let properties = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .build();
                ArrowWriter::try_new(file, columns.schema(), Some(properties))
                    .map(FormatWriter::Parquet)
                    .map_err(|e| sink.failed(&e))?
            }
            FileFormat::Csv => {
                let mut writer = arrow::csv::WriterBuilder::new()
                    .with_null(CSV_NULL.to_string())
                    .build(file);
                writer.write(&columns).map_err(|e| sink.failed(&e))?;
                FormatWriter::Csv(writer)
            }
        };
        sink.writer = Some(writer);
        Ok(sink)
    }

    /// Appends `rows` (one row group per call in Parquet), each metric rounded as the koku
    /// variant stores it; a value koku could not store fails, naming the row and the column.
    /// Rows are prepared and converted [`PREPARE_CHUNK`] at a time.
    pub fn rows(&mut self, rows: &[&SummaryRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        for chunk in rows.chunks(PREPARE_CHUNK) {
            let batch = to_record_batch(&super::prepare(chunk, self.compat)?, &self.identity);
            let result = match self.writer.as_mut().expect("not finished") {
                FormatWriter::Parquet(writer) => writer.write(&batch).map_err(|e| e.to_string()),
                FormatWriter::Csv(writer) => writer.write(&batch).map_err(|e| e.to_string()),
            };
            result.map_err(|e| self.failed(&e))?;
        }
        if let Some(FormatWriter::Parquet(writer)) = self.writer.as_mut() {
            let flushed = writer.flush();
            flushed.map_err(|e| self.failed(&e))?;
        }
        Ok(())
    }

    /// Closes the file and puts it in place of the output.
    pub fn finish(mut self) -> Result<()> {
        match self.writer.take().expect("finished once") {
            FormatWriter::Parquet(writer) => {
                writer.close().map_err(|e| self.failed(&e))?;
            }
            FormatWriter::Csv(writer) => drop(writer),
        }
        std::fs::rename(&self.partial, &self.path).map_err(|e| self.failed(&e))
    }

    fn failed(&self, e: &dyn std::fmt::Display) -> Error {
        Error::infrastructure(
            Service::FileSystem,
            format!("cannot write output file {}: {e}", self.path.display()),
        )
    }
}

impl Drop for FileSink {
    /// A sink dropped before [`FileSink::finish`] put the file in place leaves no file behind
    /// (after the rename there is nothing at the hidden name to remove).
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.partial);
    }
}
