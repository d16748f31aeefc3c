//! The go/no-go report of a comparison: the verdict and its criteria, and the forms it is
//! rendered in (terminal table, Markdown, self-contained HTML with charts, JSON).

pub mod svg;
pub mod verdict;

pub use verdict::{criteria, overall, Criterion, Verdict};
