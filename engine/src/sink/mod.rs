//! Where the rows go: PostgreSQL (koku's table, in one transaction) or a Parquet/CSV file.
//!
//! Both sinks write the same columns, listed once in [`COLUMNS`], with the same values from
//! [`PreparedRow`]: metrics rounded to numeric(33,15) as Trino's insert does (spec §3 statement 4),
//! labels as JSON, a fresh v4 uuid per row.

pub mod file;
pub mod postgres;

use std::borrow::Borrow;

use bytes::Bytes;
use chrono::NaiveDate;
use rayon::prelude::*;
use uuid::Uuid;

use crate::compat::Compatibility;
use crate::error::{Error, Problem, Result};
use crate::numeric::Numeric;
use crate::summary::{DataSource, Metric, SummaryRow, ZERO_INFRASTRUCTURE_USAGE_COST};

/// Where a run's rows go, day after day, until the month is complete: all or nothing either way.
pub enum MonthSink<'c> {
    File(Box<file::FileSink>),
    Postgres(postgres::MonthWrite<'c>),
}

impl MonthSink<'_> {
    /// The CPU half of handing over a day's rows, which waits on no server and so can run beside
    /// the next day's aggregation: a file writes them; PostgreSQL gets them as binary COPY data
    /// for [`MonthSink::send`].
    pub fn encode(&mut self, rows: &[&SummaryRow]) -> Result<Vec<Bytes>> {
        match self {
            MonthSink::File(sink) => sink.rows(rows).map(|()| Vec::new()),
            MonthSink::Postgres(write) => write.encode(rows),
        }
    }

    /// The I/O half: what [`MonthSink::encode`] made, into the month's COPY (nothing for a
    /// file).
    pub async fn send(&mut self, encoded: Vec<Bytes>) -> Result<()> {
        match self {
            MonthSink::File(_) => Ok(()),
            MonthSink::Postgres(write) => write.send(encoded).await,
        }
    }

    /// Makes the month visible: the file put in place, or the transaction committed with the
    /// run's `record`. Returns the rows deleted (none for a file).
    pub async fn finish(self, record: &postgres::RunRecord) -> Result<u64> {
        match self {
            MonthSink::File(sink) => sink.finish().map(|()| 0),
            MonthSink::Postgres(write) => Ok(write.commit(record).await?.deleted),
        }
    }
}

/// What every row of a run shares.
#[derive(Debug, Clone, PartialEq)]
pub struct RunIdentity {
    pub run_id: Uuid,
    pub source_uuid: Uuid,
    pub report_period_id: i32,
    pub cluster_id: String,
    pub cluster_alias: Option<String>,
}

/// A summary row ready to write: uuid drawn, labels serialised, metrics rounded.
#[derive(Debug, Clone)]
pub struct PreparedRow<'a> {
    pub row: &'a SummaryRow,
    pub uuid: Uuid,
    pub pod_labels: Option<String>,
    pub volume_labels: Option<String>,
    pub all_labels: String,
    pub metrics: [Option<Numeric>; 18],
}

/// How many rows a sink prepares at a time: enough to keep every core busy, few enough that the
/// prepared form of a chunk (labels as JSON, metrics rounded) stays a few megabytes.
pub const PREPARE_CHUNK: usize = 4096;

/// [`prepare_row`] for each of `rows`, in their order, spread over the cores (rounding and label
/// JSON are most of a sink's work). Fails with the first row, in order, that fails.
pub fn prepare<'a, R>(rows: &'a [R], compat: Compatibility) -> Result<Vec<PreparedRow<'a>>>
where
    R: Borrow<SummaryRow> + Sync,
{
    let prepared: Vec<Result<PreparedRow>> = rows
        .par_iter()
        .map(|row| prepare_row(row.borrow(), compat))
        .collect();
    prepared.into_iter().collect()
}

/// One row ready to write, its metrics rounded as the koku variant `compat` stores them; a NaN,
/// infinite or too large value fails, as it fails koku's insert, naming the row and the column.
pub fn prepare_row(row: &SummaryRow, compat: Compatibility) -> Result<PreparedRow<'_>> {
    let mut metrics = [None; 18];
    for (slot, metric) in metrics.iter_mut().zip(Metric::ALL) {
        *slot = row
            .metric(metric)
            .map(|value| Numeric::from_f64_in(value, compat))
            .transpose()
            .map_err(|e| {
                Error::input(
                    Problem::Value {
                        column: metric.column().to_string(),
                        value: e.value().to_string(),
                    },
                    format!(
                    "{} of the {} row for {} namespace {:?} node {:?}: {e}; koku's insert would \
                     fail too. Check the input values of that day.",
                    metric.column(),
                    row.data_source.as_str(),
                    row.usage_start,
                    row.namespace,
                    row.node
                ),
                )
            })?;
    }
    Ok(PreparedRow {
        row,
        uuid: Uuid::new_v4(),
        pod_labels: row.pod_labels_json(),
        volume_labels: row.volume_labels_json(),
        all_labels: row.all_labels_json(),
        metrics,
    })
}

/// The columns written, in koku's insert order (spec §3 statement 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Uuid,
    ReportPeriodId,
    ClusterId,
    ClusterAlias,
    DataSource,
    UsageStart,
    UsageEnd,
    Namespace,
    Node,
    ResourceId,
    PodLabels,
    Metric(Metric),
    Persistentvolumeclaim,
    Persistentvolume,
    Storageclass,
    VolumeLabels,
    AllLabels,
    SourceUuid,
    InfrastructureUsageCost,
    CostCategoryId,
}

/// Every written column, in order.
pub const COLUMNS: [Column; 37] = {
    use crate::summary::Metric as M;
    use Column::*;
    [
        Uuid,
        ReportPeriodId,
        ClusterId,
        ClusterAlias,
        DataSource,
        UsageStart,
        UsageEnd,
        Namespace,
        Node,
        ResourceId,
        PodLabels,
        Metric(M::PodUsageCpuCoreHours),
        Metric(M::PodRequestCpuCoreHours),
        Metric(M::PodEffectiveUsageCpuCoreHours),
        Metric(M::PodLimitCpuCoreHours),
        Metric(M::PodUsageMemoryGigabyteHours),
        Metric(M::PodRequestMemoryGigabyteHours),
        Metric(M::PodEffectiveUsageMemoryGigabyteHours),
        Metric(M::PodLimitMemoryGigabyteHours),
        Metric(M::NodeCapacityCpuCores),
        Metric(M::NodeCapacityCpuCoreHours),
        Metric(M::NodeCapacityMemoryGigabytes),
        Metric(M::NodeCapacityMemoryGigabyteHours),
        Metric(M::ClusterCapacityCpuCoreHours),
        Metric(M::ClusterCapacityMemoryGigabyteHours),
        Persistentvolumeclaim,
        Persistentvolume,
        Storageclass,
        VolumeLabels,
        AllLabels,
        Metric(M::PersistentvolumeclaimCapacityGigabyte),
        Metric(M::PersistentvolumeclaimCapacityGigabyteMonths),
        Metric(M::VolumeRequestStorageGigabyteMonths),
        Metric(M::PersistentvolumeclaimUsageGigabyteMonths),
        SourceUuid,
        InfrastructureUsageCost,
        CostCategoryId,
    ]
};

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Uuid,
    Int,
    Text,
    Date,
    Json,
    Numeric,
}

/// One cell, typed by what the column holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Uuid(Uuid),
    Int(Option<i32>),
    Text(Option<&'a str>),
    Date(NaiveDate),
    Json(Option<&'a str>),
    Numeric(Option<Numeric>),
}

impl Column {
    pub fn name(&self) -> &'static str {
        match self {
            Column::Uuid => "uuid",
            Column::ReportPeriodId => "report_period_id",
            Column::ClusterId => "cluster_id",
            Column::ClusterAlias => "cluster_alias",
            Column::DataSource => "data_source",
            Column::UsageStart => "usage_start",
            Column::UsageEnd => "usage_end",
            Column::Namespace => "namespace",
            Column::Node => "node",
            Column::ResourceId => "resource_id",
            Column::PodLabels => "pod_labels",
            Column::Metric(metric) => metric.column(),
            Column::Persistentvolumeclaim => "persistentvolumeclaim",
            Column::Persistentvolume => "persistentvolume",
            Column::Storageclass => "storageclass",
            Column::VolumeLabels => "volume_labels",
            Column::AllLabels => "all_labels",
            Column::SourceUuid => "source_uuid",
            Column::InfrastructureUsageCost => "infrastructure_usage_cost",
            Column::CostCategoryId => "cost_category_id",
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Column::Uuid | Column::SourceUuid => Kind::Uuid,
            Column::ReportPeriodId | Column::CostCategoryId => Kind::Int,
            Column::UsageStart | Column::UsageEnd => Kind::Date,
            Column::PodLabels
            | Column::VolumeLabels
            | Column::AllLabels
            | Column::InfrastructureUsageCost => Kind::Json,
            Column::Metric(_) => Kind::Numeric,
            Column::ClusterId
            | Column::ClusterAlias
            | Column::DataSource
            | Column::Namespace
            | Column::Node
            | Column::ResourceId
            | Column::Persistentvolumeclaim
            | Column::Persistentvolume
            | Column::Storageclass => Kind::Text,
        }
    }

    /// This column's value in `row`; its variant always matches [`Column::kind`].
    pub fn value<'a>(&self, row: &'a PreparedRow, identity: &'a RunIdentity) -> Value<'a> {
        let summary = row.row;
        match self {
            Column::Uuid => Value::Uuid(row.uuid),
            Column::ReportPeriodId => Value::Int(Some(identity.report_period_id)),
            Column::ClusterId => Value::Text(Some(&identity.cluster_id)),
            Column::ClusterAlias => Value::Text(identity.cluster_alias.as_deref()),
            Column::DataSource => Value::Text(Some(summary.data_source.as_str())),
            Column::UsageStart | Column::UsageEnd => Value::Date(summary.usage_start),
            Column::Namespace => Value::Text(summary.namespace.as_deref()),
            Column::Node => Value::Text(summary.node.as_deref()),
            Column::ResourceId => Value::Text(summary.resource_id.as_deref()),
            Column::PodLabels => Value::Json(row.pod_labels.as_deref()),
            Column::Metric(metric) => Value::Numeric(row.metrics[*metric as usize]),
            Column::Persistentvolumeclaim => Value::Text(summary.persistentvolumeclaim.as_deref()),
            Column::Persistentvolume => Value::Text(summary.persistentvolume.as_deref()),
            Column::Storageclass => Value::Text(summary.storageclass.as_deref()),
            Column::VolumeLabels => Value::Json(row.volume_labels.as_deref()),
            Column::AllLabels => Value::Json(Some(&row.all_labels)),
            Column::SourceUuid => Value::Uuid(identity.source_uuid),
            Column::InfrastructureUsageCost => Value::Json(
                summary
                    .has_infrastructure_usage_cost
                    .then_some(ZERO_INFRASTRUCTURE_USAGE_COST),
            ),
            Column::CostCategoryId => Value::Int(summary.cost_category_id),
        }
    }
}

/// Rows per `data_source`, counted as the days are written, for reports and the runs table.
#[derive(Debug, Default)]
pub struct RowCounts {
    pod: usize,
    storage: usize,
}

impl RowCounts {
    pub fn add(&mut self, rows: &[&SummaryRow]) {
        for row in rows {
            match row.data_source {
                DataSource::Pod => self.pod += 1,
                DataSource::Storage => self.storage += 1,
            }
        }
    }

    /// The counts of the data sources that have rows, `Pod` first.
    pub fn per_data_source(&self) -> Vec<(&'static str, usize)> {
        [
            (DataSource::Pod, self.pod),
            (DataSource::Storage, self.storage),
        ]
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(source, count)| (source.as_str(), count))
        .collect()
    }
}
