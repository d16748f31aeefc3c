//! The report's content as titled tables of text, built once from a [`CompareReport`] and
//! rendered by every text form: terminal and Markdown lay them out with `tabled` ([`table`]),
//! HTML as `<table>`s between its charts.
//!
//! Contracts:
//! - Every form starts with the verdict's label and [`summary`], then the [`sections`] in order:
//!   run, criteria, time and memory, comparison, per-column errors, totals, worst differences,
//!   rows on one side only, category mismatches.
//! - Cells are plain text; each renderer escapes them for its form.
//! - Numbers: seconds to the millisecond (three significant digits under 1 s), MiB to 0.1,
//!   trailing zeros dropped; relative errors
//!   with three significant digits in scientific notation, and exactly 0 as `0`; compared values
//!   in full precision (the digits where engine and oracle part); NULL as `NULL`.

use ocp_engine::summary::Metric;
use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::Alignment;
use tabled::Table;

use super::document::{CompareReport, CriterionResult, SideTiming};
use super::verdict::Verdict;
use crate::compare::{ComparableRow, Comparison, NaturalKey};

/// Worst value differences a table shows (the JSON form has all the comparison kept).
pub const WORST_SHOWN: usize = 10;
/// Rows on one side only, and category mismatches, a table shows per side.
pub const EXAMPLES_SHOWN: usize = 5;

/// One titled table. Key-value tables (run, comparison) have no header.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Stable slug: the HTML anchor, and where the HTML form puts its charts.
    pub id: &'static str,
    pub title: &'static str,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// Indexes of the columns holding numbers (right-aligned).
    pub numeric: Vec<usize>,
    /// What the table means or leaves out: shown under it, or alone when it has no rows.
    pub note: Option<String>,
}

impl Section {
    /// Columns of the table: the header's, or the rows' when it has none.
    pub fn width(&self) -> usize {
        self.rows.first().map_or(self.header.len(), Vec::len)
    }
}

/// The verdict in a sentence, without its label: why it is what it is.
pub fn summary(report: &CompareReport) -> String {
    if report.verdict == Verdict::Go {
        return "every criterion is at or under its go bar, and every row matches".to_string();
    }
    let mut findings = Vec::new();
    if !report.rows_match {
        findings.push(format!(
            "the rows differ ({})",
            row_defects(&report.comparison)
        ));
    }
    findings.extend(report.criteria.iter().filter_map(finding));
    findings.join("; ")
}

/// What is wrong with one criterion, if anything.
fn finding(result: &CriterionResult) -> Option<String> {
    let c = &result.criterion;
    let measured = c.measured.map(|v| quantity(c.unit, v));
    match (result.verdict, measured) {
        (Verdict::Go, _) => None,
        (_, None) => Some(format!("{} was not measured", c.name)),
        (Verdict::NoGo, Some(m)) => Some(format!(
            "{} is {m}, over the no-go bar of {}",
            c.name,
            quantity(c.unit, c.no_go_bar)
        )),
        (Verdict::Review, Some(m)) => Some(format!(
            "{} is {m}, between the go bar of {} and the no-go bar of {}",
            c.name,
            quantity(c.unit, c.go_bar),
            quantity(c.unit, c.no_go_bar)
        )),
    }
}

/// The row-level defects as a list, e.g. "2 only in the engine, 1 NULL mismatch".
fn row_defects(comparison: &Comparison) -> String {
    let v = &comparison.verdict;
    [
        (v.only_in_engine, "only in the engine", "only in the engine"),
        (v.only_in_oracle, "only in the oracle", "only in the oracle"),
        (v.null_mismatches, "NULL mismatch", "NULL mismatches"),
        (
            v.category_mismatches,
            "category mismatch",
            "category mismatches",
        ),
    ]
    .into_iter()
    .filter(|(n, ..)| *n > 0)
    .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
    .collect::<Vec<_>>()
    .join(", ")
}

/// Every section, in the order of the module contract.
pub fn sections(report: &CompareReport) -> Vec<Section> {
    vec![
        run(report),
        criteria(report),
        timing(report),
        comparison(&report.comparison),
        columns(&report.comparison),
        totals(&report.comparison),
        worst(&report.comparison),
        one_sided(&report.comparison),
        categories(&report.comparison),
    ]
}

/// A section as a `tabled` table: the header (a blank one when the section has none and
/// `blank_header` asks for it, as Markdown does), the rows, `cell` applied to every cell, numeric
/// columns right-aligned. The caller picks the style.
pub fn table(section: &Section, cell: impl Fn(&str) -> String, blank_header: bool) -> Table {
    let mut builder = Builder::new();
    if !section.header.is_empty() {
        builder.push_record(section.header.iter().map(|h| cell(h)));
    } else if blank_header {
        builder.push_record(vec![String::new(); section.width()]);
    }
    for row in &section.rows {
        builder.push_record(row.iter().map(|c| cell(c)));
    }
    let mut table = builder.build();
    for &column in &section.numeric {
        table.modify(Columns::one(column), Alignment::right());
    }
    table
}

fn key_value(id: &'static str, title: &'static str, rows: Vec<(&str, String)>) -> Section {
    Section {
        id,
        title,
        header: Vec::new(),
        rows: rows
            .into_iter()
            .map(|(k, v)| vec![k.to_string(), v])
            .collect(),
        numeric: Vec::new(),
        note: None,
    }
}

fn run(report: &CompareReport) -> Section {
    let id = &report.identity;
    let tolerance = &report.comparison.tolerance;
    key_value(
        "run",
        "Run",
        vec![
            (
                "engine",
                format!("ocp-engine {}, in-process", id.engine_version),
            ),
            ("run id", id.run_id.clone()),
            ("oracle", id.oracle.clone()),
            ("dataset", id.dataset.clone()),
            ("started", id.started_at.clone()),
            ("machine", id.machine.clone()),
            (
                "tolerance",
                format!(
                    "relative {} ({}), absolute {}",
                    error(tolerance.relative),
                    quantity("%", tolerance.relative * 100.0),
                    error(tolerance.absolute)
                ),
            ),
        ],
    )
}

fn criteria(report: &CompareReport) -> Section {
    let mut rows: Vec<Vec<String>> = report
        .criteria
        .iter()
        .map(|r| {
            let c = &r.criterion;
            vec![
                c.name.to_string(),
                c.measured
                    .map_or("not measured".to_string(), |v| quantity(c.unit, v)),
                format!("≤ {}", bar(c.unit, c.go_bar)),
                format!("> {}", bar(c.unit, c.no_go_bar)),
                r.verdict.label().to_string(),
            ]
        })
        .collect();
    rows.push(vec![
        "rows match".to_string(),
        if report.rows_match {
            "yes".to_string()
        } else {
            format!("no: {}", row_defects(&report.comparison))
        },
        "every row matched".to_string(),
        "any row unmatched".to_string(),
        if report.rows_match {
            Verdict::Go
        } else {
            Verdict::NoGo
        }
        .label()
        .to_string(),
    ]);
    Section {
        id: "criteria",
        title: "Criteria",
        header: vec!["criterion", "measured", "go bar", "no-go bar", "verdict"],
        rows,
        numeric: vec![1],
        note: Some(
            "GO when every criterion is at or under its go bar; NO-GO when any is over its no-go \
             bar or a row is unmatched (on one side only, NULL on one side, another cost \
             category); REVIEW otherwise. Memory bars are decimal GB."
                .to_string(),
        ),
    }
}

fn timing(report: &CompareReport) -> Section {
    let (engine, oracle) = (&report.engine, &report.oracle);
    let mut names: Vec<&str> = engine.phases.iter().map(|p| p.name.as_str()).collect();
    for phase in &oracle.phases {
        if !names.contains(&phase.name.as_str()) {
            names.push(&phase.name);
        }
    }
    let cells = |side: &SideTiming, name: &str| match side.phases.iter().find(|p| p.name == name) {
        Some(p) => [seconds(p.seconds), mib(p.peak_mib)],
        None => ["—".to_string(), "—".to_string()],
    };
    let mut rows: Vec<Vec<String>> = names
        .iter()
        .map(|name| {
            let mut row = vec![name.to_string()];
            row.extend(cells(engine, name));
            row.extend(cells(oracle, name));
            row
        })
        .collect();
    rows.push(vec![
        "end to end".to_string(),
        seconds(engine.seconds),
        mib(engine.peak_mib),
        seconds(oracle.seconds),
        mib(oracle.peak_mib),
    ]);
    let mut note = "Engine: phases from its own report; end to end is the wall clock of the whole \
                    in-process run, peak the largest phase peak."
        .to_string();
    if oracle.phases.is_empty() {
        note.push_str(
            " The oracle reports no phases: one figure for its whole run (DuckDB: the child \
             process start to exit, its peak resident memory; Trino: the query's own elapsed \
             time and peak memory from Trino's statistics; koku's PostgreSQL rows: the time of \
             reading them, memory unmeasured).",
        );
    }
    Section {
        id: "timing",
        title: "Time and memory",
        header: vec![
            "phase",
            "engine s",
            "engine peak MiB",
            "oracle s",
            "oracle peak MiB",
        ],
        rows,
        numeric: vec![1, 2, 3, 4],
        note: Some(note),
    }
}

fn comparison(c: &Comparison) -> Section {
    let v = &c.verdict;
    let mut section = key_value(
        "comparison",
        "Comparison",
        vec![
            ("engine rows", c.engine_rows.to_string()),
            ("oracle rows", c.oracle_rows.to_string()),
            ("matched pairs", c.matched.to_string()),
            (
                "matched with differences",
                c.matched_with_differences.to_string(),
            ),
            ("only in the engine", v.only_in_engine.to_string()),
            ("only in the oracle", v.only_in_oracle.to_string()),
            ("values over tolerance", v.over_tolerance.to_string()),
            ("NULL mismatches", v.null_mismatches.to_string()),
            ("category mismatches", v.category_mismatches.to_string()),
            ("worst relative error", error(v.worst_relative_error)),
            (
                "within tolerance",
                if v.within_tolerance { "yes" } else { "no" }.to_string(),
            ),
        ],
    );
    section.numeric = vec![1];
    section
}

fn columns(c: &Comparison) -> Section {
    Section {
        id: "columns",
        title: "Per-column errors",
        header: vec![
            "column",
            "compared",
            "max error",
            "p99 error",
            "over tolerance",
            "NULL mismatches",
        ],
        rows: c
            .columns
            .iter()
            .map(|col| {
                vec![
                    col.metric.column().to_string(),
                    col.compared.to_string(),
                    error(col.max_error),
                    error(col.p99_error),
                    col.over_tolerance.to_string(),
                    col.null_mismatches.to_string(),
                ]
            })
            .collect(),
        numeric: vec![1, 2, 3, 4, 5],
        note: Some(format!(
            "Relative error |a − b| / max(|a|, |b|); differences up to {} count as 0; over \
             tolerance means an error above {}. Pairs NULL on both sides are not compared.",
            error(c.tolerance.absolute),
            error(c.tolerance.relative)
        )),
    }
}

fn totals(c: &Comparison) -> Section {
    Section {
        id: "totals",
        title: "Totals",
        header: vec!["figure", "engine", "oracle", "relative difference"],
        rows: c
            .totals
            .lines()
            .into_iter()
            .map(|l| {
                vec![
                    l.name,
                    number(l.engine),
                    number(l.oracle),
                    error(l.relative_error),
                ]
            })
            .collect(),
        numeric: vec![1, 2, 3],
        note: Some("Every row of each side, matched or not; sums ignore NULLs.".to_string()),
    }
}

fn worst(c: &Comparison) -> Section {
    let rows: Vec<Vec<String>> = c
        .worst
        .iter()
        .take(WORST_SHOWN)
        .map(|d| {
            let mut row = key_cells(&d.key).to_vec();
            row.extend([
                d.metric.column().to_string(),
                value(d.engine),
                value(d.oracle),
                d.error.map_or("NULL mismatch".to_string(), error),
                if d.fails { "yes" } else { "no" }.to_string(),
            ]);
            row
        })
        .collect();
    let note = if rows.is_empty() {
        "None: every compared value is equal (within the absolute floor).".to_string()
    } else {
        format!(
            "The {} worst of {} kept differences (NULL mismatches first, then by error); full \
             keys, labels included, in report.json.",
            rows.len(),
            c.worst.len()
        )
    };
    Section {
        id: "worst",
        title: "Worst differences",
        header: vec![
            "day",
            "namespace",
            "node",
            "column",
            "engine",
            "oracle",
            "error",
            "fails",
        ],
        rows,
        numeric: vec![4, 5, 6],
        note: Some(note),
    }
}

fn one_sided(c: &Comparison) -> Section {
    let side = |name: &str, rows: &[ComparableRow]| -> Vec<Vec<String>> {
        rows.iter()
            .take(EXAMPLES_SHOWN)
            .map(|r| {
                let mut row = vec![name.to_string()];
                row.extend(key_cells(&r.key));
                row.extend([
                    text(&r.key.resource_id),
                    text(&r.key.pod_labels),
                    value(r.metric(Metric::PodUsageCpuCoreHours)),
                ]);
                row
            })
            .collect()
    };
    let mut rows = side("engine", &c.only_in_engine);
    rows.extend(side("oracle", &c.only_in_oracle));
    let note = if rows.is_empty() {
        "None: every row has a partner on the other side.".to_string()
    } else {
        format!(
            "{} only in the engine, {} only in the oracle; the first {EXAMPLES_SHOWN} of each \
             side shown, all in report.json.",
            c.only_in_engine.len(),
            c.only_in_oracle.len()
        )
    };
    Section {
        id: "one-sided",
        title: "Rows on one side only",
        header: vec![
            "side",
            "day",
            "namespace",
            "node",
            "resource_id",
            "pod_labels",
            "pod_usage_cpu_core_hours",
        ],
        rows,
        numeric: vec![6],
        note: Some(note),
    }
}

fn categories(c: &Comparison) -> Section {
    let rows: Vec<Vec<String>> = c
        .category_mismatches
        .iter()
        .take(EXAMPLES_SHOWN)
        .map(|m| {
            let mut row = key_cells(&m.key).to_vec();
            let category = |id: Option<i32>| id.map_or("NULL".to_string(), |i| i.to_string());
            row.extend([category(m.engine), category(m.oracle)]);
            row
        })
        .collect();
    let note = if rows.is_empty() {
        "None: every matched pair has the same cost_category_id.".to_string()
    } else {
        format!(
            "The first {} of {} matched pairs whose cost_category_id differs.",
            rows.len(),
            c.verdict.category_mismatches
        )
    };
    Section {
        id: "categories",
        title: "Category mismatches",
        header: vec!["day", "namespace", "node", "engine", "oracle"],
        rows,
        numeric: vec![3, 4],
        note: Some(note),
    }
}

/// Day, namespace and node of a key: what tells a reader which row it is.
fn key_cells(key: &NaturalKey) -> [String; 3] {
    [
        key.usage_start.format("%Y-%m-%d").to_string(),
        text(&key.namespace),
        text(&key.node),
    ]
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "NULL".to_string())
}

/// A compared value in full precision.
fn value(v: Option<f64>) -> String {
    v.map_or("NULL".to_string(), number)
}

/// `v` in full precision, with a sum of nothing (-0) shown as 0.
fn number(v: f64) -> String {
    (v + 0.0).to_string()
}

/// A relative error: `0`, or three significant digits in scientific notation.
pub fn error(e: f64) -> String {
    if e == 0.0 {
        "0".to_string()
    } else {
        format!("{e:.2e}")
    }
}

/// `v` rounded to `decimals`, trailing zeros (and a bare point) dropped.
pub fn fixed(v: f64, decimals: usize) -> String {
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Seconds: to the millisecond from 1 s up, three significant digits below (so a phase of
/// 0.4 ms shows as 0.0004, not 0).
pub fn seconds(s: f64) -> String {
    if s >= 1.0 || s <= 0.0 || !s.is_finite() {
        return fixed(s, 3);
    }
    let decimals = (2 - s.log10().floor() as i32).max(0) as usize;
    fixed(s, decimals)
}

pub fn mib(m: Option<f64>) -> String {
    m.map_or("n/a".to_string(), |m| fixed(m, 1))
}

/// A criterion's value with its unit: seconds to the ms, MiB to 0.1, percent to four decimals
/// (scientific below 0.001 %).
pub fn quantity(unit: &str, v: f64) -> String {
    let number = match unit {
        "s" => seconds(v),
        "MiB" => mib(Some(v)),
        _ if v != 0.0 && v.abs() < 1e-3 => format!("{v:.2e}"),
        _ => fixed(v, 4),
    };
    format!("{number} {unit}")
}

/// A bar with its unit; memory bars also in the decimal GB they were set in.
pub fn bar(unit: &str, v: f64) -> String {
    match unit {
        "MiB" => format!(
            "{} ({} GB)",
            quantity(unit, v),
            fixed(v * 1048576.0 / 1e9, 1)
        ),
        _ => quantity(unit, v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample::{sample_report, sample_report_with_differences};

    #[test]
    fn numbers_are_formatted_as_the_contract_says() {
        assert_eq!(error(0.0), "0");
        assert_eq!(error(2.9e-16), "2.90e-16");
        assert_eq!(seconds(0.2), "0.2");
        assert_eq!(seconds(60.0), "60");
        assert_eq!(seconds(0.113_4), "0.113");
        assert_eq!(seconds(0.000_412), "0.000412");
        assert_eq!(number(-0.0), "0");
        assert_eq!(quantity("%", 0.01), "0.01 %");
        assert_eq!(quantity("%", 2.9e-14), "2.90e-14 %");
        assert_eq!(quantity("MiB", 56.04), "56 MiB");
        assert_eq!(bar("MiB", 1_907.348_632_812_5), "1907.3 MiB (2 GB)");
    }

    #[test]
    fn a_go_report_says_so_and_a_no_go_report_says_why() {
        assert_eq!(
            summary(&sample_report()),
            "every criterion is at or under its go bar, and every row matches"
        );
        let bad = summary(&sample_report_with_differences());
        assert!(
            bad.starts_with("the rows differ (1 only in the engine, 1 only in the oracle"),
            "{bad}"
        );
        assert!(
            bad.contains(
                "worst relative difference from the oracle is 0.02 %, between the go bar of \
                 0.01 % and the no-go bar of 0.1 %"
            ),
            "{bad}"
        );
    }

    #[test]
    fn sections_come_in_contract_order_with_rectangular_rows() {
        let ids: Vec<&str> = sections(&sample_report()).iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            [
                "run",
                "criteria",
                "timing",
                "comparison",
                "columns",
                "totals",
                "worst",
                "one-sided",
                "categories"
            ]
        );
        for section in sections(&sample_report_with_differences()) {
            for row in &section.rows {
                assert_eq!(row.len(), section.width(), "{}", section.id);
            }
            if !section.header.is_empty() {
                assert_eq!(section.header.len(), section.width(), "{}", section.id);
            }
        }
    }

    #[test]
    fn phases_are_listed_with_the_end_to_end_row_last() {
        let timing = timing(&sample_report());
        let names: Vec<&str> = timing.rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            names,
            ["read", "labels", "aggregate", "write", "end to end"]
        );
        assert_eq!(timing.rows[0], ["read", "0.12", "40", "—", "—"]);
        assert_eq!(timing.rows[4], ["end to end", "0.25", "56", "1.5", "300"]);
    }
}
