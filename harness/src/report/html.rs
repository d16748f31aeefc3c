//! The HTML form (`report.html`): one self-contained page to open in a browser or attach to a
//! review.
//!
//! Contracts:
//! - Self-contained: inline CSS and inline SVG only; no script, no external file, font, image or
//!   link. The only URL in the page is the SVG namespace.
//! - The verdict comes first, as a banner coloured by verdict (green GO, amber REVIEW, red NO-GO)
//!   with its reason, then one card per criterion, then the shared [`sections`] as tables, with
//!   charts after the sections they illustrate: time per phase and peak memory (engine vs oracle)
//!   after "Time and memory", the distribution of relative errors after "Per-column errors".
//! - Every text from the report goes through [`escape`].

use super::content::{bar, error, mib, quantity, seconds, sections, summary, Section};
use super::document::{CompareReport, CriterionResult, SideTiming};
use super::svg::{bar_chart, escape, Bar, Series};
use super::verdict::Verdict;
use crate::compare::{Comparison, ErrorHistogram};

const ENGINE_COLOUR: &str = "#2b6cb0";
const ORACLE_COLOUR: &str = "#dd6b20";
const ERROR_COLOUR: &str = "#6b46c1";

const CSS: &str = "
:root { --go: #1f7a3a; --review: #b7791f; --no-go: #c53030; --ink: #1a202c; --muted: #5a6473;
  --line: #e2e8f0; --zebra: #f7fafc; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
  color: var(--ink); background: #edf2f7; }
main { max-width: 1120px; margin: 0 auto; padding: 0 24px 40px; }
.banner { color: #fff; padding: 28px 24px; }
.banner > div { max-width: 1072px; margin: 0 auto; display: flex; gap: 24px; align-items: center; }
.banner.go { background: var(--go); } .banner.review { background: var(--review); }
.banner.no-go { background: var(--no-go); }
.banner .label { font-size: 44px; font-weight: 800; letter-spacing: 1px; padding: 4px 20px;
  border: 3px solid rgba(255,255,255,.8); border-radius: 10px; white-space: nowrap; }
.banner h1 { margin: 0 0 4px; font-size: 20px; font-weight: 600; }
.banner p { margin: 0; opacity: .9; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); gap: 16px;
  margin: 24px 0; }
.card { background: #fff; border-radius: 10px; padding: 16px 18px; border-top: 6px solid;
  box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.card.go { border-color: var(--go); } .card.review { border-color: var(--review); }
.card.no-go { border-color: var(--no-go); }
.card .name { color: var(--muted); font-size: 13px; }
.card .value { font-size: 26px; font-weight: 700; margin: 4px 0; }
.card .bars { color: var(--muted); font-size: 12px; }
section { background: #fff; border-radius: 10px; padding: 8px 20px 16px; margin: 16px 0;
  box-shadow: 0 1px 3px rgba(0,0,0,.08); }
h2 { font-size: 17px; margin: 12px 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; }
th { background: var(--zebra); font-weight: 600; white-space: nowrap; }
tbody tr:nth-child(even) td { background: var(--zebra); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv { width: auto; min-width: 50%; }
table.kv td:first-child { color: var(--muted); width: 180px; white-space: nowrap; }
.note { color: var(--muted); font-size: 12px; margin: 8px 0 0; }
.badge { display: inline-block; color: #fff; font-weight: 700; font-size: 11px;
  padding: 1px 8px; border-radius: 9px; }
.badge.go { background: var(--go); } .badge.review { background: var(--review); }
.badge.no-go { background: var(--no-go); }
.charts { display: flex; flex-wrap: wrap; gap: 8px 32px; margin-top: 16px; overflow-x: auto; }
svg text { font: 12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; fill: var(--ink); }
svg text.title { font-weight: 600; font-size: 13px; }
footer { color: var(--muted); font-size: 12px; text-align: center; margin-top: 24px; }
";

/// The whole report as one HTML page.
pub fn render(report: &CompareReport) -> String {
    let label = report.verdict.label();
    let mut body = banner(report);
    body.push_str("<main>\n");
    body.push_str(&cards(report));
    for section in sections(report) {
        body.push_str(&self::section(&section, &charts(report, section.id)));
    }
    body.push_str(
        "<footer>ocp-harness compare: the same report is in report.txt, report.md and \
         report.json.</footer>\n</main>\n",
    );
    page(
        &format!(
            "{label} · ocp-engine go/no-go · {}",
            report.identity.started_at
        ),
        &body,
    )
}

/// A page of this module's style: `title` (escaped here) and `body`, markup already.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n\
         <body>\n{body}</body>\n</html>\n",
        escape(title)
    )
}

/// A section: its title, its table and note, then `charts` (markup already).
pub(crate) fn section(section: &Section, charts: &str) -> String {
    format!(
        "<section id=\"{}\">\n<h2>{}</h2>\n{}{charts}</section>\n",
        section.id,
        escape(section.title),
        table(section)
    )
}

/// The CSS class of a verdict: `go`, `review`, `no-go`.
pub(crate) fn class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Go => "go",
        Verdict::Review => "review",
        Verdict::NoGo => "no-go",
    }
}

fn banner(report: &CompareReport) -> String {
    let id = &report.identity;
    format!(
        "<header class=\"banner {}\"><div>\n<div class=\"label\">{}</div>\n<div><h1>{}</h1>\n\
         <p>ocp-engine {} · run {} · {}</p></div>\n</div></header>\n",
        class(report.verdict),
        report.verdict.label(),
        escape(&capitalised(&summary(report))),
        escape(&id.engine_version),
        escape(&id.run_id),
        escape(&id.started_at),
    )
}

/// `text` with its first letter upper-case.
pub(crate) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or(String::new(), |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// One card per criterion, and one for whether the rows match.
fn cards(report: &CompareReport) -> String {
    let mut out = String::from("<div class=\"cards\">\n");
    for result in &report.criteria {
        out.push_str(&criterion_card(result));
    }
    let rows = if report.rows_match {
        Verdict::Go
    } else {
        Verdict::NoGo
    };
    let c = &report.comparison;
    out.push_str(&card(
        rows,
        "rows matched",
        &format!("{} / {}", c.matched, c.engine_rows.max(c.oracle_rows)),
        &format!(
            "{} only in the engine · {} only in the oracle",
            c.verdict.only_in_engine, c.verdict.only_in_oracle
        ),
    ));
    out.push_str("</div>\n");
    out
}

fn criterion_card(result: &CriterionResult) -> String {
    let c = &result.criterion;
    card(
        result.verdict,
        c.name,
        &c.measured
            .map_or("not measured".to_string(), |v| quantity(c.unit, v)),
        &format!(
            "go ≤ {} · no-go &gt; {}",
            escape(&bar(c.unit, c.go_bar)),
            escape(&bar(c.unit, c.no_go_bar))
        ),
    )
}

/// A card; `bars` is markup already escaped.
fn card(verdict: Verdict, name: &str, value: &str, bars: &str) -> String {
    format!(
        "<div class=\"card {}\"><div class=\"name\">{}</div><div class=\"value\">{}</div>\
         <div class=\"bars\">{bars}</div> <span class=\"badge {}\">{}</span></div>\n",
        class(verdict),
        escape(name),
        escape(value),
        class(verdict),
        verdict.label()
    )
}

fn table(section: &Section) -> String {
    let mut out = String::new();
    if !section.rows.is_empty() {
        let kind = if section.header.is_empty() {
            " class=\"kv\""
        } else {
            ""
        };
        out.push_str(&format!("<div class=\"scroll\"><table{kind}>\n"));
        if !section.header.is_empty() {
            out.push_str("<thead><tr>");
            for (i, name) in section.header.iter().enumerate() {
                out.push_str(&format!("<th{}>{}</th>", num(section, i), escape(name)));
            }
            out.push_str("</tr></thead>\n");
        }
        out.push_str("<tbody>\n");
        for row in &section.rows {
            out.push_str("<tr>");
            for (i, text) in row.iter().enumerate() {
                out.push_str(&format!("<td{}>{}</td>", num(section, i), cell(text)));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table></div>\n");
    }
    if let Some(note) = &section.note {
        out.push_str(&format!("<p class=\"note\">{}</p>\n", escape(note)));
    }
    out
}

fn num(section: &Section, column: usize) -> &'static str {
    if section.numeric.contains(&column) {
        " class=\"num\""
    } else {
        ""
    }
}

/// A cell's markup: a verdict label as a coloured badge, any other text escaped.
fn cell(text: &str) -> String {
    [Verdict::Go, Verdict::Review, Verdict::NoGo]
        .into_iter()
        .find(|v| v.label() == text)
        .map_or_else(
            || escape(text),
            |v| format!("<span class=\"badge {}\">{}</span>", class(v), v.label()),
        )
}

/// The charts that follow section `id`, if any.
fn charts(report: &CompareReport, id: &str) -> String {
    let svgs = match id {
        "timing" => vec![
            bar_chart("Seconds per phase", &timing_series(report, time_bars)),
            bar_chart(
                "Peak resident memory, MiB",
                &timing_series(report, memory_bars),
            ),
        ],
        "columns" => vec![error_chart(&report.comparison)],
        _ => return String::new(),
    };
    format!("<div class=\"charts\">\n{}</div>\n", svgs.concat())
}

/// The engine's and the oracle's bars of one figure.
fn timing_series(report: &CompareReport, bars: fn(&SideTiming) -> Vec<Bar>) -> Vec<Series> {
    vec![
        Series {
            name: "engine".to_string(),
            colour: ENGINE_COLOUR,
            bars: bars(&report.engine),
        },
        Series {
            name: "oracle".to_string(),
            colour: ORACLE_COLOUR,
            bars: bars(&report.oracle),
        },
    ]
}

/// Seconds of each phase, then end to end.
fn time_bars(side: &SideTiming) -> Vec<Bar> {
    side.phases
        .iter()
        .map(|p| (p.name.as_str(), p.seconds))
        .chain([("end to end", side.seconds)])
        .map(|(label, s)| Bar {
            label: label.to_string(),
            value: s,
            shown: format!("{} s", seconds(s)),
        })
        .collect()
}

/// Peak MiB of each phase, then of the whole run; unmeasured peaks draw empty, shown "n/a".
fn memory_bars(side: &SideTiming) -> Vec<Bar> {
    side.phases
        .iter()
        .map(|p| (p.name.as_str(), p.peak_mib))
        .chain([("end to end", side.peak_mib)])
        .map(|(label, m)| Bar {
            label: label.to_string(),
            value: m.unwrap_or(0.0),
            shown: m.map_or("n/a".to_string(), |m| format!("{} MiB", mib(Some(m)))),
        })
        .collect()
}

/// Compared values per relative-error bucket, summed over all columns.
fn error_chart(c: &Comparison) -> String {
    let mut counts = [0u64; 7];
    for column in &c.columns {
        for (total, n) in counts.iter_mut().zip(column.histogram.counts()) {
            *total += n;
        }
    }
    let bars = ErrorHistogram::LABELS
        .iter()
        .zip(counts)
        .map(|(label, n)| Bar {
            label: format!("error {label}"),
            value: n as f64,
            shown: n.to_string(),
        })
        .collect();
    bar_chart(
        &format!(
            "Compared values per relative error, all columns (tolerance {})",
            error(c.tolerance.relative)
        ),
        &[Series {
            name: "values".to_string(),
            colour: ERROR_COLOUR,
            bars,
        }],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample::{sample_report, sample_report_with_differences};

    #[test]
    fn the_verdict_banner_comes_first_in_the_body() {
        let page = render(&sample_report());
        let body = &page[page.find("<body>").unwrap() + 6..];
        assert!(
            body.trim_start()
                .starts_with("<header class=\"banner go\"><div>\n<div class=\"label\">GO</div>"),
            "{body}"
        );
        assert!(page.contains("<title>GO · ocp-engine go/no-go · 2026-11-24T13:15:00Z</title>"));
        let bad = render(&sample_report_with_differences());
        assert!(bad.contains("<header class=\"banner no-go\">"));
        assert!(bad.find("banner no-go").unwrap() < bad.find("<table").unwrap());
    }

    #[test]
    fn the_page_needs_nothing_from_outside() {
        for page in [
            render(&sample_report()),
            render(&sample_report_with_differences()),
        ] {
            let without_namespace = page.replace("http://www.w3.org/2000/svg", "");
            assert!(!without_namespace.contains("http"));
            for external in [
                "<script", "<link", "<img", "<iframe", " src=", "url(", "@import",
            ] {
                assert!(!page.contains(external), "{external}");
            }
            assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
        }
    }

    #[test]
    fn report_text_is_escaped() {
        let page = render(&sample_report_with_differences());
        assert!(page.contains("data/&lt;typical&gt; &amp; &quot;friends&quot; | more"));
        assert!(page.contains("ns&lt;a&amp;b&gt;|c"));
        assert!(!page.contains("<typical>") && !page.contains("ns<a"));
    }

    #[test]
    fn charts_and_key_figures_are_there() {
        let page = render(&sample_report());
        assert_eq!(page.matches("<svg ").count(), 3);
        for expected in [
            "Seconds per phase",
            "Peak resident memory, MiB",
            "Compared values per relative error",
            ">0.25 s<",
            ">1.5 s<",
            ">300 MiB<",
            "engine time, end to end",
            "<span class=\"badge go\">GO</span>",
        ] {
            assert!(page.contains(expected), "missing {expected:?}");
        }
        // Two rows on both sides: 2 × 2 compared values (CPU and memory), all exactly equal.
        assert!(page.contains(">error 0</text>"));
        assert!(page.contains(">4</text>"));
    }
}
