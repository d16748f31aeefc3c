//! References for the cargo-fuzz targets in `fuzz_targets/`, written from the spec
//! (/work/shared/spec/ocp-daily-summary.md, docs/semantics.md), not from the engine's code:
//! each target runs an engine function and its reference on the same input and asserts they
//! agree. The references' own unit tests (`cargo +nightly test` in `fuzz/`) pin them to the
//! spec's and Trino 476's examples.

pub mod decimal;
pub mod labels_ref;
pub mod like_ref;
pub mod numeric_ref;
