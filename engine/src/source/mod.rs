//! Where koku's Parquet lives and how to read it (spec §2.1): a local folder or an S3 bucket
//! (MinIO included) through `object_store`, in koku's path layout.

mod columns;
mod location;
mod scan;

pub use columns::{Batch, ColumnKind, ColumnSpec};
pub use location::{S3Credentials, S3Settings, Source};
pub use scan::{MonthScan, ScanProgress};

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
