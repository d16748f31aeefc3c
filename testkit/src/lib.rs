//! ocp-testkit: real services for the tests and benches of ocp-engine and ocp-harness, kept out of
//! their libraries. PostgreSQL, an S3-compatible server and Trino, each on loopback.
//!
//! - [`postgres`]: the shared server ([`server_url`]: 127.0.0.1:5432 when it answers, else a
//!   throwaway cluster), a fresh schema with koku's tables per test ([`fresh_schema`]), seeding
//!   helpers.
//! - [`s3`]: [`TestS3`], an in-process S3 server serving a temporary folder.
//! - [`trino`]: a real Trino on loopback ([`local_trino`]: installed by `just trino-setup`,
//!   started on first use, stopped when the process ends), with koku's `hive` and `postgres`
//!   catalogs; [`koku_site`]: koku's tables for one run in it ([`KokuSite`]).

pub mod koku_site;
pub mod postgres;
pub mod s3;
pub mod s3_faults;
pub mod trino;

pub use koku_site::KokuSite;
pub use postgres::{
    add_cost_category_patterns, add_report_period, enable_tag_keys, fresh_schema, server_url,
    start_throwaway, ThrowawayPostgres,
};
pub use s3::TestS3;
pub use trino::{local_trino, LocalTrino};
