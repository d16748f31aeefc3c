//! ocp-engine: koku's OCP daily-summary step (Pod, Storage and unallocated rows of
//! `reporting_ocpusagelineitem_daily_summary`)
//! computed from koku's Parquet without Trino. See `docs/architecture.md` for the data flow and
//! `docs/spec.md` for the semantics every module cites.
//!
//! The public surface is what a caller needs to run the step and read its result ([`run`] with
//! its request and report, [`resolve`] and [`config`] to build a request, [`summary`] rows,
//! [`compat`], [`error`], [`postgres`] helpers, the [`source`] settings), and the pure functions
//! that state koku's rules ([`labels`], [`numeric`], [`like`], [`units`], [`window`]), each with
//! examples. Everything else is the engine's own.

pub mod compat;
pub mod config;
pub mod error;
pub mod labels;
pub mod like;
pub mod month_lock;
pub mod numeric;
pub mod postgres;
pub mod redact;
pub mod resolve;
pub mod run;
pub mod source;
pub mod summary;
pub mod units;
pub mod window;

// Public only so that the harness's criterion benches (harness/benches/kernels.rs) can time the
// engine's hot kernels in isolation; not part of the API above, and free to change.
#[doc(hidden)]
pub mod capacity;
mod catalog;
#[doc(hidden)]
pub mod daily;
#[doc(hidden)]
pub mod inputs;
#[doc(hidden)]
pub mod label_joins;
mod memory;
#[doc(hidden)]
pub mod node_roles;
#[doc(hidden)]
pub mod pod;
#[doc(hidden)]
pub mod sink;
#[doc(hidden)]
pub mod storage;
#[doc(hidden)]
pub mod unallocated;
