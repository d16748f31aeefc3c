//! Reading one table of one partition: every Parquet file in parallel (or the on-prem table in
//! one COPY), projected to the needed columns, restricted to the day window, folded batch by
//! batch into a per-file partial result. No table is ever held in memory whole: each batch is
//! folded and dropped.

use std::sync::Arc;

use arrow::array::new_null_array;
use arrow::datatypes::DataType;
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectMeta;
// parquet 60 deprecates ParquetObjectReader in favour of a hand-written AsyncFileReader; it
// still works and is the object_store integration arrow-rs ships, so we keep it until a
// replacement lands upstream (arrow-rs issue 10308).
#[allow(deprecated)]
use parquet::arrow::async_reader::ParquetObjectReader;
use parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder;
use parquet::arrow::ProjectionMask;
use parquet::errors::ParquetError;

use super::columns::{locate, Batch, ColumnSpec};
use super::{ObjectSource, Partition, Source, Table, BATCH_ROWS};
use crate::error::{Error, Problem, Result, Service};
use crate::window::DayWindow;

/// Reports files done; the CLI shows it as a progress bar, tests ignore it.
pub type ScanProgress = indicatif::ProgressBar;

/// The month being read: where, which partition, which days, and where progress goes.
#[derive(Clone, Copy)]
pub struct MonthScan<'a> {
    pub source: &'a Source,
    pub partition: &'a Partition,
    pub window: DayWindow,
    pub progress: &'a ScanProgress,
}

impl MonthScan<'_> {
    /// Reads every file of `table` in the partition, keeping rows whose `columns[0]` (the
    /// `interval_start` timestamp) falls in the window, and folds them into one `P` per file.
    /// Returns the partials with their files' full names ([`ObjectSource::object_name`]), sorted;
    /// an empty vector means the table has no file in this partition.
    pub async fn table<P, I, F>(
        &self,
        table: Table,
        columns: &'static [ColumnSpec],
        init: I,
        fold: F,
    ) -> Result<Vec<(String, P)>>
    where
        P: Send + 'static,
        I: Fn() -> P + Send + Sync + 'static,
        F: Fn(&mut P, &Batch) -> Result<()> + Send + Sync + 'static,
    {
        let mut partials = Vec::new();
        self.each_file(table, columns, init, fold, |file, partial| {
            partials.push((file, partial));
            Ok(())
        })
        .await?;
        Ok(partials)
    }

    /// [`MonthScan::table`], handing each file's partial to `consume` as soon as it and every
    /// file before it are read, in the order of the files' full names: a caller that reduces
    /// the partials holds only the few files being read at a time, not the table.
    ///
    /// Files are read concurrently on the tokio runtime (decoding spreads over its worker
    /// threads), twice as many at a time as there are cores. From PostgreSQL, the table is the
    /// one "file" ([`super::TableSource::scan`]).
    pub async fn each_file<P, I, F>(
        &self,
        table: Table,
        columns: &'static [ColumnSpec],
        init: I,
        fold: F,
        mut consume: impl FnMut(String, P) -> Result<()>,
    ) -> Result<()>
    where
        P: Send + 'static,
        I: Fn() -> P + Send + Sync + 'static,
        F: Fn(&mut P, &Batch) -> Result<()> + Send + Sync + 'static,
    {
        let MonthScan {
            source,
            partition,
            window,
            progress,
        } = *self;
        let source = match source {
            Source::Objects(objects) => objects,
            Source::Tables(tables) => {
                progress.inc_length(1);
                let partials = tables
                    .scan(table, columns, partition, window, init, fold)
                    .await?;
                progress.inc(1);
                return partials
                    .into_iter()
                    .try_for_each(|(file, partial)| consume(file, partial));
            }
        };
        // Sorted by path, hence by full name.
        let files = source.list(&partition.prefix(table)).await?;
        progress.inc_length(files.len() as u64);
        let init = Arc::new(init);
        let fold = Arc::new(fold);
        let concurrency = std::thread::available_parallelism().map_or(2, |n| n.get()) * 2;
        let mut partials = futures::stream::iter(files)
            .map(|meta| {
                let (source, init, fold) = (source.clone(), init.clone(), fold.clone());
                let progress = progress.clone();
                tokio::spawn(async move {
                    let file = source.object_name(&meta.location);
                    let mut partial = init();
                    read_file(&source, meta, table, columns, window, |batch| {
                        fold(&mut partial, batch)
                    })
                    .await?;
                    progress.inc(1);
                    Ok::<_, Error>((file, partial))
                })
            })
            .buffered(concurrency);
        while let Some(joined) = partials.next().await {
            let (file, partial) =
                joined.map_err(|e| Error::Internal(format!("a read task failed: {e}")))??;
            consume(file, partial)?;
        }
        Ok(())
    }
}

/// Streams one file's row groups through `each`, already projected, normalised and windowed.
async fn read_file(
    source: &ObjectSource,
    meta: ObjectMeta,
    table: Table,
    columns: &[ColumnSpec],
    window: DayWindow,
    mut each: impl FnMut(&Batch) -> Result<()>,
) -> Result<()> {
    let file = source.object_name(&meta.location);
    let table_name = table.trino_name();
    #[allow(deprecated)]
    let reader =
        ParquetObjectReader::new(source.store.clone(), meta.location).with_file_size(meta.size);
    let builder = ParquetRecordBatchStreamBuilder::new(reader)
        .await
        .map_err(|e| parquet_error(&file, source.access_hint, e))?;
    let indexes = locate(builder.schema(), columns, &file, &table_name)?;
    let present: Vec<usize> = indexes.iter().flatten().copied().collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), present.iter().copied());
    // The projected batch keeps the file's column order; map each wanted column to its place
    // (`None`: an optional column the file lacks, read as all NULL).
    let mut sorted = present.clone();
    sorted.sort_unstable();
    let positions: Vec<Option<usize>> = indexes
        .iter()
        .map(|i| {
            i.map(|i| {
                sorted
                    .binary_search(&i)
                    .expect("index is in the projection")
            })
        })
        .collect();
    let mut stream = builder
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| parquet_error(&file, source.access_hint, e))?;
    while let Some(batch) = stream
        .try_next()
        .await
        .map_err(|e| parquet_error(&file, source.access_hint, e))?
    {
        let ordered = positions
            .iter()
            .map(|&p| match p {
                Some(p) => batch.column(p).clone(),
                None => new_null_array(&DataType::Null, batch.num_rows()),
            })
            .collect();
        let batch = Batch::normalise(ordered, columns, batch.num_rows())
            .and_then(|batch| batch.in_window(window))
            .map_err(|e| Error::input(Problem::File(file.to_string()), format!("{file}: {e}")))?;
        if batch.num_rows > 0 {
            each(&batch)?;
        }
    }
    Ok(())
}

/// A failure to read `file`: the store's (infrastructure, with what to check) or the file's own
/// (bad input).
fn parquet_error(file: &str, access_hint: &str, error: ParquetError) -> Error {
    match error {
        ParquetError::External(e) => Error::infrastructure(
            Service::ObjectStore,
            format!("{file}: cannot read the object: {e}; {access_hint}"),
        ),
        other => Error::input(
            Problem::File(file.to_string()),
            format!("{file}: not a readable Parquet file: {other}"),
        ),
    }
}
