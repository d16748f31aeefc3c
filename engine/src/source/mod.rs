//! Where koku's line items live and how to read them: koku's Parquet (spec §2.1) in a local
//! folder or an S3 bucket (MinIO included) through `object_store`, in koku's path layout; or
//! koku's on-prem line-item tables in PostgreSQL (spec §9.1). Both give the read phase the same
//! batches.

mod columns;
mod location;
mod postgres_tables;
mod scan;

pub use columns::{Batch, ColumnKind, ColumnSpec};
pub use location::{is_plain_folder_name, ObjectSource, S3Credentials, S3Settings};
pub use postgres_tables::TableSource;
pub use scan::{MonthScan, ScanProgress};

use crate::error::{Error, Result};

/// Rows per batch a scan hands to its fold, from Parquet and from PostgreSQL alike.
const BATCH_ROWS: usize = 65_536;

/// Where a run reads koku's line items from.
#[derive(Clone)]
pub enum Source {
    /// koku's Parquet, in a folder or a bucket.
    Objects(ObjectSource),
    /// koku's on-prem line-item tables in a PostgreSQL schema.
    Tables(TableSource),
}

impl Source {
    /// Whether `location` names a PostgreSQL database (`postgresql://…` or `postgres://…`)
    /// rather than a folder or a bucket.
    pub fn is_postgres(location: &str) -> bool {
        location.starts_with("postgresql://") || location.starts_with("postgres://")
    }

    /// Opens `location`: a PostgreSQL URL (its tables in `schema`, which must then be given),
    /// or anything [`ObjectSource::open`] takes.
    pub fn open(location: &str, s3: &S3Settings, schema: Option<&str>) -> Result<Source> {
        if !Source::is_postgres(location) {
            return ObjectSource::open(location, s3).map(Source::Objects);
        }
        let schema = schema.ok_or_else(|| {
            Error::setting(
                "postgres.schema",
                "the input is a PostgreSQL database, but no tenant schema is set: pass --schema \
                 or set postgres.schema (the schema holding koku's on-prem line-item tables)",
            )
        })?;
        Ok(Source::Tables(TableSource::new(location, schema)))
    }

    /// Where a table of `partition` was looked for, for a message saying it has nothing: the
    /// month's folder, or the table with the source and month.
    pub fn searched(&self, partition: &Partition, table: Table) -> String {
        match self {
            Source::Objects(objects) => format!(
                "{}/{}",
                objects.display.trim_end_matches('/'),
                partition.prefix(table)
            ),
            Source::Tables(tables) => format!(
                "{} (source = '{}', usage_start in {:04}-{:02}) in {}",
                tables.table_name(table),
                partition.source_uuid,
                partition.year,
                partition.month,
                tables.display()
            ),
        }
    }

    /// What to check when the month has no data, said for this kind of source.
    pub fn no_data_hint(&self) -> &'static str {
        match self {
            Source::Objects(_) => {
                "Check the source UUID, the account and the month, and that koku has converted \
                 the month's reports to Parquet."
            }
            Source::Tables(_) => {
                "Check the source UUID, the schema and the month, and that koku has loaded the \
                 month's reports into its on-prem line-item tables."
            }
        }
    }
}

/// One of koku's line-item tables, by the folder koku writes it to (spec §2.1, §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    /// koku's `report_type` folder: `pod_usage`, `node_labels`, `namespace_labels`, ...
    pub report_type: &'static str,
    /// The daily table (`data/parquet/daily/...`) rather than the hourly one.
    pub daily: bool,
}

impl Table {
    pub const POD_USAGE_DAILY: Table = Table {
        report_type: "pod_usage",
        daily: true,
    };
    pub const POD_USAGE_HOURLY: Table = Table {
        report_type: "pod_usage",
        daily: false,
    };
    pub const STORAGE_USAGE_DAILY: Table = Table {
        report_type: "storage_usage",
        daily: true,
    };
    pub const NODE_LABELS_DAILY: Table = Table {
        report_type: "node_labels",
        daily: true,
    };
    pub const NAMESPACE_LABELS_DAILY: Table = Table {
        report_type: "namespace_labels",
        daily: true,
    };

    /// The Trino table name, for messages (`openshift_pod_usage_line_items_daily`).
    pub fn trino_name(&self) -> String {
        let suffix = if self.daily { "_daily" } else { "" };
        format!("openshift_{}_line_items{suffix}", self.report_type)
    }
}

/// The partition of a source's month: `source={uuid}/year={YYYY}/month={MM}` (MM zero-padded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub account: String,
    pub source_uuid: String,
    pub year: i32,
    pub month: u32,
}

impl Partition {
    /// koku's object prefix of `table` for this partition (spec §2.1).
    pub fn prefix(&self, table: Table) -> String {
        let daily = if table.daily { "/daily" } else { "" };
        format!(
            "data/parquet{daily}/{}/OCP/{}/source={}/year={:04}/month={:02}",
            self.account, table.report_type, self.source_uuid, self.year, self.month
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_follow_kokus_layout() {
        let p = Partition {
            account: "org1234567".into(),
            source_uuid: "6795d5e6-951c-4382-a8d3-390515d7ec2d".into(),
            year: 2024,
            month: 5,
        };
        assert_eq!(
            p.prefix(Table::POD_USAGE_DAILY),
            "data/parquet/daily/org1234567/OCP/pod_usage/source=6795d5e6-951c-4382-a8d3-390515d7ec2d/year=2024/month=05"
        );
        assert_eq!(
            p.prefix(Table::POD_USAGE_HOURLY),
            "data/parquet/org1234567/OCP/pod_usage/source=6795d5e6-951c-4382-a8d3-390515d7ec2d/year=2024/month=05"
        );
        assert_eq!(
            Table::NODE_LABELS_DAILY.trino_name(),
            "openshift_node_labels_line_items_daily"
        );
    }
}
