//! Oracles: what the engine's rows are compared with.
//!
//! An [`Oracle`] computes the rows of `reporting_ocpusagelineitem_daily_summary` (Pod, Storage
//! and unallocated rows) for the source, days, catalog and koku variant (Trino or its PostgreSQL
//! port) of a [`QueryParams`], independently of the engine, and returns them as
//! [`ComparableRow`]s with the time and memory it took. Comparison and reports only see this
//! trait, so oracles plug in without touching them:
//! - [`DuckDbOracle`]: the project's reference queries (`harness/sql/`, Trino's dialect, made
//!   DuckDB's by [`dialect`]) run by the pinned DuckDB CLI over the same Parquet files the engine
//!   reads. No server; the default.
//! - [`TrinoOracle`]: the same query text, unchanged, on a site's own Trino over koku's own
//!   Hive and PostgreSQL tables; [`TrinoKokuStagingOracle`]: the rows koku itself wrote to its
//!   Hive staging table, read through that Trino ([`trino`], settings in [`settings`]).
//!
//! `docs/oracle.md` explains the query, the dialect rewrites and how DuckDB is run, and the
//! Trino client; `docs/operations.md` how to run the Trino oracles at a site.

pub mod dialect;
pub mod duckdb;
pub mod koku_postgres;
pub mod locate;
pub mod query;
pub mod settings;
pub mod tables;
pub mod trino;
pub mod trino_rows;

use std::path::PathBuf;
use std::time::Duration;

use crate::compare::ComparableRow;

pub use dialect::{translate, Dialect, DialectError};
pub use duckdb::DuckDbOracle;
pub use koku_postgres::{KokuPostgresOracle, KokuPostgresSettings};
pub use locate::locate_duckdb;
pub use query::{
    QueryParams, POPULATE_OCP_NODES_SQL, REFERENCE_NODE_ROLES_SQL, REFERENCE_SUMMARY_SQL,
};
pub use settings::{OracleConfigFile, Secret, TrinoSettings};
pub use trino::{TrinoKokuStagingOracle, TrinoOracle, TrinoSession};

/// Something that computes the summary rows the engine must equal.
pub trait Oracle {
    /// What the oracle is, for reports: engine, version, where it runs.
    fn describe(&self) -> String;

    /// Computes the rows for `query`. Blocking; an oracle that talks to a server may block on
    /// its own runtime.
    fn run(&self, query: &QueryParams) -> Result<OracleRun, OracleError>;
}

/// What an oracle computes from, and so what the engine must read for the two to be compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OracleInput {
    /// The config file's local folder and inline `[catalog]`, which the oracle reads too (the
    /// embedded DuckDB oracle).
    LocalFiles,
    /// A site's own stores: the engine reads the config's location (S3/MinIO or a folder) and
    /// koku's catalog tables from the config's PostgreSQL; the oracle reads the site's own
    /// servers (Trino over the same bucket and database, or the rows koku wrote).
    Site,
}

/// What one oracle run produced.
#[derive(Debug, Clone)]
pub struct OracleRun {
    /// The rows, in no particular order, labels as canonical JSON.
    pub rows: Vec<ComparableRow>,
    /// Wall-clock time of the oracle's work (for DuckDB: the child process, start to exit; for
    /// Trino: the query's own `elapsedTimeMillis`).
    pub elapsed: Duration,
    /// Peak memory of the oracle's work, where it can be measured (for DuckDB: the child's
    /// resident set; for Trino: the query's `peakMemoryBytes` across the cluster).
    pub peak_rss_bytes: Option<u64>,
    /// The SQL exactly as the oracle ran it (for DuckDB: the whole script given to the CLI).
    pub query_text: String,
}

/// Why an oracle run failed. Each message says what to check.
#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    /// The oracle's engine is missing and could not be installed.
    #[error("oracle setup: {0}")]
    Setup(String),
    /// The parameters cannot be turned into a query.
    #[error("oracle parameters: {0}")]
    Params(String),
    #[error(transparent)]
    Dialect(#[from] DialectError),
    /// A file-system operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The oracle's engine ran the query and failed; `message` is its own error output.
    #[error("{engine} failed: {message}")]
    Query { engine: String, message: String },
    /// The oracle's result could not be read back.
    #[error("cannot read the oracle's result {}: {message}", path.display())]
    Result { path: PathBuf, message: String },
}
