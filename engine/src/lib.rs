//! ocp-engine: koku's OCP daily-summary step (Pod, Storage and unallocated rows of
//! `reporting_ocpusagelineitem_daily_summary`)
//! computed from koku's Parquet without Trino. See `docs/architecture.md` for the data flow and
//! `docs/spec.md` for the semantics every module cites.

pub mod capacity;
pub mod catalog;
pub mod compat;
pub mod config;
pub mod error;
pub mod inputs;
pub mod label_joins;
pub mod labels;
pub mod like;
pub mod memory;
pub mod node_roles;
pub mod numeric;
pub mod pod;
pub mod postgres;
pub mod resolve;
pub mod run;
pub mod sink;
pub mod source;
pub mod storage;
pub mod summary;
pub mod unallocated;
pub mod units;
pub mod window;
