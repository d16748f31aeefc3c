//! The terminal form (`report.txt`, and what `ocp-harness compare` prints): the verdict banner
//! line first, then every section's title, its table (`tabled`, rounded borders, numbers
//! right-aligned, key-value tables' values wrapped at [`VALUE_WIDTH`]) and its note. Plain text without colour codes, so the file reads as the
//! terminal did.

use tabled::settings::object::Columns;
use tabled::settings::{Style, Width};

use super::content::{sections, summary, table};
use super::document::CompareReport;

/// Widest value of a key-value table (run, comparison): longer ones wrap at words.
const VALUE_WIDTH: usize = 100;

/// The whole report as terminal text.
pub fn render(report: &CompareReport) -> String {
    let mut out = banner(report);
    for section in sections(report) {
        out.push_str(&format!("\n{}\n", section.title));
        if !section.rows.is_empty() {
            let mut table = table(&section, str::to_string, false);
            if section.header.is_empty() {
                table.with(Style::rounded().remove_horizontals());
                table.modify(Columns::one(1), Width::wrap(VALUE_WIDTH).keep_words(true));
            } else {
                table.with(Style::rounded());
            }
            out.push_str(&format!("{table}\n"));
        }
        if let Some(note) = &section.note {
            out.push_str(&format!("{note}\n"));
        }
    }
    out
}

/// `=== GO === every criterion is …`: the line to read if nothing else.
pub fn banner(report: &CompareReport) -> String {
    format!("=== {} === {}\n", report.verdict.label(), summary(report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample::{sample_report, sample_report_with_differences, DATASET};

    #[test]
    fn the_verdict_comes_first() {
        let text = render(&sample_report());
        assert!(text.starts_with("=== GO === every criterion"), "{text}");
        let bad = render(&sample_report_with_differences());
        assert!(bad.starts_with("=== NO-GO === the rows differ"), "{bad}");
    }

    #[test]
    fn key_figures_and_text_appear_unchanged() {
        let text = render(&sample_report());
        for expected in [
            DATASET,
            "00000000-0000-0000-0000-000000001234",
            "2026-11-24T13:15:00Z",
            "engine time, end to end",
            "0.25 s",
            "≤ 60 s",
            "> 120 s",
            "1907.3 MiB (2 GB)",
            "end to end",
            "pod_usage_cpu_core_hours",
            "None: every compared value is equal",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }

    #[test]
    fn differences_are_listed_with_their_keys() {
        let text = render(&sample_report_with_differences());
        assert!(text.contains("1.0002"), "{text}");
        assert!(text.contains("only-engine") && text.contains("only-oracle"));
        assert!(text.contains("1 only in the engine, 1 only in the oracle"));
    }
}
