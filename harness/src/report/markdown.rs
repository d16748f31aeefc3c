//! The Markdown form (`report.md`), for a review document: a heading naming the verdict, the
//! verdict's reason, then every section as a `##` heading, a Markdown table (`tabled`'s Markdown
//! style; key-value tables get a blank header row, as Markdown requires one) and its note.
//!
//! Every text cell and note goes through [`escape`], so data (namespaces, labels, paths) cannot
//! break a table or turn into markup.

use tabled::settings::Style;

use super::content::{sections, summary, table, Section};
use super::document::CompareReport;

/// The whole report as Markdown.
pub fn render(report: &CompareReport) -> String {
    let label = report.verdict.label();
    let mut out = format!(
        "# ocp-engine go/no-go: {label}\n\n**{label}**: {}\n",
        escape(&summary(report))
    );
    for section in sections(report) {
        out.push_str(&self::section(&section));
    }
    out
}

/// A section: a blank line, its `##` title, its table and note.
pub(crate) fn section(section: &Section) -> String {
    let mut parts = Vec::new();
    if !section.rows.is_empty() {
        let mut table = table(section, escape, true);
        table.with(Style::markdown());
        parts.push(table.to_string());
    }
    parts.extend(section.note.as_deref().map(escape));
    format!("\n## {}\n\n{}\n", section.title, parts.join("\n\n"))
}

/// Text safe in a Markdown table cell or paragraph: backslash, `|`, `*`, backtick, `<`, `&`, `[`
/// and `]` backslash-escaped (no HTML tag, entity, link, code or emphasis can start), `_` too unless inside a word (`pod_usage` stays
/// readable: an intraword `_` is no emphasis), line breaks as spaces. `>` is left alone: it is
/// markup only at the start of a line, and every line this module writes starts with its own
/// text (`#`, `|`, `**`, a note's first word).
pub fn escape(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let word = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        match c {
            '\\' | '|' | '*' | '`' | '<' | '&' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '_' if !(word(i.checked_sub(1)) && word(Some(i + 1))) => out.push_str("\\_"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample::{sample_report, sample_report_with_differences};

    #[test]
    fn the_verdict_comes_first() {
        let text = render(&sample_report());
        assert!(
            text.starts_with("# ocp-engine go/no-go: GO\n\n**GO**: every"),
            "{text}"
        );
        let bad = render(&sample_report_with_differences());
        assert!(bad.starts_with("# ocp-engine go/no-go: NO-GO\n"), "{bad}");
    }

    #[test]
    fn escaping_keeps_data_from_becoming_markup() {
        assert_eq!(escape("a|b"), "a\\|b");
        assert_eq!(escape("<x> *y* [z] & c"), "\\<x> \\*y\\* \\[z\\] \\& c");
        assert_eq!(escape("pod_usage _x_"), "pod_usage \\_x\\_");
        assert_eq!(escape("a\nb"), "a b");
        let text = render(&sample_report());
        assert!(
            text.contains("data/\\<typical> \\& \"friends\" \\| more"),
            "{text}"
        );
        // No `<` can open a tag: each is escaped.
        assert!(text
            .match_indices('<')
            .all(|(at, _)| text[..at].ends_with('\\')));
    }

    #[test]
    fn tables_are_markdown_tables_with_key_figures() {
        let text = render(&sample_report());
        assert!(text.contains("\n## Criteria\n\n| criterion "), "{text}");
        assert!(text.contains("| engine time, end to end "));
        assert!(text.contains("0.25 s"));
        // The key-value table's blank header, then its separator.
        let run = &text[text.find("## Run").unwrap()..];
        let lines: Vec<&str> = run.lines().skip(2).take(3).collect();
        assert!(lines[0].trim_matches([' ', '|']).is_empty(), "{lines:?}");
        assert!(lines[1].starts_with("|-"), "{lines:?}");
        assert!(lines[2].starts_with("| engine "), "{lines:?}");
        let bad = render(&sample_report_with_differences());
        assert!(bad.contains("ns\\<a\\&b>\\|c"), "{bad}");
    }
}
