//! Comparing the engine's rows with an oracle's.

pub mod row;

pub use row::{canonical_json, ComparableRow, NaturalKey};
