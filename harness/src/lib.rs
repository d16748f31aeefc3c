//! ocp-harness: synthetic koku clusters, and (growing) the proof that ocp-engine computes what
//! koku's Trino SQL computes.

pub mod bench;
pub mod child_peak_memory;
pub mod compare;
pub mod fixture;
pub mod koku_catalog;
pub mod nightly;
pub mod nise_ingest;
pub mod onprem_tables;
pub mod oracle;
pub mod pipeline;
pub mod report;
pub mod scenario;
pub mod synth;
