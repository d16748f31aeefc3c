//! The go/no-go report of a comparison: the verdict and its criteria ([`verdict`]), the report
//! itself ([`document`]), its content as tables ([`content`]), and the forms it is rendered in:
//! terminal table ([`terminal`]), Markdown ([`markdown`]), self-contained HTML with charts
//! ([`html`], [`svg`]) and JSON ([`json`]). Rendering only: the run that produces a report is
//! [`crate::pipeline`].
//!
//! [`write_all`] writes the four forms into one folder as `report.txt`, `report.md`,
//! `report.html` and `report.json`.

pub mod content;
pub mod document;
pub mod html;
pub mod json;
pub mod markdown;
#[cfg(test)]
mod sample;
pub mod svg;
pub mod terminal;
pub mod verdict;

use std::path::{Path, PathBuf};

pub use document::{CompareReport, Context};
pub use verdict::{criteria, overall, Criterion, Verdict};

/// The file names of the four forms, in the order [`write_all`] returns them.
pub const FILES: [&str; 4] = ["report.txt", "report.md", "report.html", "report.json"];

/// Writes the four forms of `report` into `dir` (created if missing); returns their paths.
pub fn write_all(report: &CompareReport, dir: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let texts = [
        terminal::render(report),
        markdown::render(report),
        html::render(report),
        json::render(report),
    ];
    FILES
        .iter()
        .zip(texts)
        .map(|(name, text)| {
            let path = dir.join(name);
            std::fs::write(&path, text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_all_writes_the_four_forms() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("reports").join("20261124T131500Z");
        let paths = write_all(&sample::sample_report(), &target).unwrap();
        let names: Vec<_> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, FILES);
        for path in &paths {
            let text = std::fs::read_to_string(path).unwrap();
            assert!(text.contains("GO"), "{}", path.display());
        }
    }
}
