//! Synthetic koku clusters: a cluster model and a writer of koku-shaped Parquet.
//!
//! Layers, kept apart so each can be used alone:
//! - [`model`]: the cluster as plain data ([`ClusterModel`]) and its rules, built by hand in tests;
//! - [`generator`]: realistic clusters from a [`Scale`] and a seed ([`generate`]); [`strategy`]:
//!   proptest strategies of whole clusters;
//! - [`koku_tables`](mod@koku_tables): the rows koku would write for that cluster (pod usage,
//!   storage usage, node and namespace labels; spec §2.2, §2.3, §8), computed the way koku's
//!   Python does;
//! - [`parquet_writer`]: those rows (or any Arrow batch) written as Parquet in koku's S3 layout
//!   (spec §2.1).

pub mod generator;
pub mod koku_tables;
pub mod model;
pub mod parquet_writer;
pub mod strategy;

use std::path::PathBuf;

pub use generator::{generate, generate_sized, Scale, Size};
pub use koku_tables::{
    koku_tables, koku_tables_for_day, KokuTables, NamespaceLabelsDailyRow,
    NamespaceLabelsHourlyRow, NodeLabelsDailyRow, NodeLabelsHourlyRow, PodUsageDailyRow,
    PodUsageHourlyRow, StorageUsageDailyRow, StorageUsageHourlyRow,
};
pub use model::{
    ClaimModel, ClusterModel, LabelPeriod, NamespaceModel, NodeModel, PodModel, VolumeModel,
};
pub use parquet_writer::{
    table_dir, to_record_batch, write_batch, write_cluster, write_table, KokuRow, WrittenCluster,
    WrittenTable,
};

/// Why generating or writing a synthetic cluster failed. Every variant names what it was doing
/// and, where there is one, the path involved, so the message alone is actionable.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The model breaks one of the rules documented on [`ClusterModel`].
    #[error("invalid cluster model: {0}")]
    InvalidModel(String),
    /// A folder could not be created (missing permission, a file in the way, ...).
    #[error("cannot create folder {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Any other file-system operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The Parquet encoder failed (e.g. the disk filled up while writing).
    #[error("cannot write Parquet file {}: {source}", path.display())]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
}

/// Result type of the synth module.
pub type Result<T> = std::result::Result<T, SynthError>;
