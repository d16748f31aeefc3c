//! The night rendered: `index.md` and `index.html`.
//!
//! Contracts:
//! - Both start with the verdict (PASS or FAIL) and every reason for a FAIL, then the same
//!   [`sections`] (ratios against their baselines, benches, compares, property suites, steps,
//!   criterion, mutation score, the night's identity) as tables.
//! - The HTML page is self-contained as the compare report's is (inline CSS and SVG, no script,
//!   nothing fetched), its banner green for PASS and red for FAIL, and between the verdict and
//!   the tables the trend charts of [`charts`]: this night (the last, shaded position) against the
//!   earlier nights of the history, at most [`TREND_NIGHTS`] nights.
//! - A chart no night has a value for is left out, named in a note under the charts.

use super::judge::{Judgement, RatioCheck};
use super::{Night, Ratio, ScaleFigures, StepStatus};
use crate::report::content::{error, fixed, seconds, Section};
use crate::report::svg::{escape, line_chart, Line};
use crate::report::{html, markdown};

/// The most nights a trend chart shows (the last ones).
pub const TREND_NIGHTS: usize = 30;

/// Colours of the scales' lines, in scale order; other scales take the last.
const SCALE_COLOURS: [(&str, &str); 4] = [
    ("tiny", "#718096"),
    ("typical", "#2b6cb0"),
    ("large", "#dd6b20"),
    ("xl", "#6b46c1"),
];

/// A ratio with three significant digits.
fn ratio(v: f64) -> String {
    if !v.is_finite() || v <= 0.0 {
        return fixed(v, 3);
    }
    let decimals = (2 - v.log10().floor() as i32).max(0) as usize;
    fixed(v, decimals)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

fn opt(v: Option<f64>, shown: fn(f64) -> String) -> String {
    v.map_or("–".to_string(), shown)
}

fn mib_text(v: f64) -> String {
    fixed(v, 1)
}

fn percent(v: f64) -> String {
    format!("{} %", fixed(v, 1))
}

/// The verdict's label.
pub fn label(judgement: &Judgement) -> &'static str {
    if judgement.passed() {
        "PASS"
    } else {
        "FAIL"
    }
}

/// The verdict in a sentence.
fn summary(judgement: &Judgement) -> String {
    let judged = judgement
        .checks
        .iter()
        .filter(|c| c.baseline.is_some())
        .count();
    if judgement.passed() {
        format!(
            "every step passed or was skipped, every compare is GO, and none of the {judged} \
             judged ratios is more than 15 % worse than its baseline"
        )
    } else {
        let regressions = judgement.regressions().count();
        let s = |n: usize| if n == 1 { "" } else { "s" };
        format!(
            "{} failure{} and {regressions} regression{} of {judged} judged ratio{}",
            judgement.failures.len(),
            s(judgement.failures.len()),
            s(regressions),
            s(judged),
        )
    }
}

/// Every table of the page, in the order of the module contract.
pub fn sections(night: &Night, judgement: &Judgement) -> Vec<Section> {
    vec![
        reasons(judgement),
        ratios(judgement),
        benches(night),
        compares(night),
        properties(night),
        steps(night),
        criterion(night),
        mutation(night),
        identity(night),
    ]
}

fn section(
    id: &'static str,
    title: &'static str,
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    numeric: Vec<usize>,
    note: Option<String>,
) -> Section {
    Section {
        id,
        title,
        header,
        rows,
        numeric,
        note,
    }
}

fn reasons(judgement: &Judgement) -> Section {
    let note = judgement
        .passed()
        .then(|| "Nothing failed and nothing regressed.".to_string());
    let rows = judgement.reasons().into_iter().map(|r| vec![r]).collect();
    section("verdict", "Why", vec!["reason"], rows, vec![], note)
}

fn ratios(judgement: &Judgement) -> Section {
    let rows = judgement.checks.iter().map(ratio_row).collect();
    section(
        "ratios",
        "Ratios against the last nights",
        vec![
            "scale",
            "ratio",
            "tonight",
            "baseline",
            "earlier nights",
            "change",
            "judged",
        ],
        rows,
        vec![2, 3, 4, 5],
        Some(
            "Lower is better. The baseline is the median of the last five earlier nights that \
             have the ratio (of those there are when fewer); a ratio more than 15 % above it \
             fails the night, and with no earlier night it is not judged."
                .to_string(),
        ),
    )
}

fn ratio_row(check: &RatioCheck) -> Vec<String> {
    let judged = match (check.baseline, check.regressed) {
        (None, _) => "not judged",
        (Some(_), true) => "REGRESSED",
        (Some(_), false) => "ok",
    };
    vec![
        check.scale.clone(),
        check.ratio.to_string(),
        ratio(check.tonight),
        opt(check.baseline, ratio),
        check.nights.to_string(),
        opt(check.change(), |c| format!("{:+.1} %", c * 100.0)),
        judged.to_string(),
    ]
}

fn benches(night: &Night) -> Section {
    let rows = night
        .scales
        .iter()
        .map(|s| {
            vec![
                s.scale.clone(),
                s.rows_written.map_or("–".into(), |r| r.to_string()),
                opt(s.engine_wall_seconds, seconds),
                opt(s.yardstick_seconds, seconds),
                opt(s.ratios.engine_over_yardstick, ratio),
                opt(s.peak_rss_bytes.map(mib), mib_text),
                opt(s.engine_file_wall_seconds, seconds),
                opt(s.duckdb_wall_seconds, seconds),
                opt(s.duckdb_peak_rss_bytes.map(mib), mib_text),
                opt(s.ratios.engine_over_duckdb_time, ratio),
                opt(s.ratios.engine_over_duckdb_memory, ratio),
                opt(s.copy_in_seconds, seconds),
                opt(s.ratios.write_over_copy, ratio),
                opt(s.ratios.engine_over_trino, ratio),
            ]
        })
        .collect();
    section(
        "benches",
        "Benches (medians of the rounds)",
        vec![
            "scale",
            "rows written",
            "engine s",
            "yardstick s",
            "engine / yardstick",
            "engine peak MiB",
            "engine to file s",
            "DuckDB s",
            "DuckDB peak MiB",
            "engine / DuckDB time",
            "engine / DuckDB memory",
            "COPY s",
            "write / COPY",
            "engine / Trino",
        ],
        rows,
        (1..14).collect(),
        Some(
            "The engine to PostgreSQL, start to exit, against the yardstick (every Parquet file \
             decoded once, one thread), measured in the same run (docs/performance.md); – where \
             the bench did not measure it."
                .to_string(),
        ),
    )
}

fn compares(night: &Night) -> Section {
    let rows = night
        .compares
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                c.verdict.clone(),
                c.matched.to_string(),
                c.engine_rows.to_string(),
                c.oracle_rows.to_string(),
                error(c.worst_relative_error),
                seconds(c.engine_seconds),
                seconds(c.oracle_seconds),
            ]
        })
        .collect();
    section(
        "compares",
        "Correctness: engine against the reference query on DuckDB",
        vec![
            "dataset",
            "verdict",
            "rows matched",
            "engine rows",
            "oracle rows",
            "worst relative error",
            "engine s",
            "oracle s",
        ],
        rows,
        vec![2, 3, 4, 5, 6, 7],
        Some(
            "typical and large: the generated months of the benches; nise: a month of nise's \
             random mode through ingest-nise. Each report is under compare-<dataset>/."
                .to_string(),
        ),
    )
}

fn properties(night: &Night) -> Section {
    let rows = night
        .properties
        .iter()
        .map(|p| {
            vec![
                p.step.clone(),
                p.budget.clone(),
                if p.passed { "passed" } else { "FAILED" }.to_string(),
                opt(p.seconds, seconds),
                p.tally.clone().unwrap_or_default(),
            ]
        })
        .collect();
    section(
        "properties",
        "Property suites",
        vec!["suite", "budget", "result", "seconds", "compared"],
        rows,
        vec![3],
        Some(
            "The engine against the reference query on DuckDB on generated clusters \
             (oracle_property), and the metamorphic relations (metamorphic); docs/testing.md."
                .to_string(),
        ),
    )
}

fn steps(night: &Night) -> Section {
    let rows = night
        .steps
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                match s.status {
                    StepStatus::Passed => "passed",
                    StepStatus::Failed => "FAILED",
                    StepStatus::Skipped => "skipped",
                }
                .to_string(),
                s.exit_code.map_or("–".into(), |c| c.to_string()),
                opt(s.seconds, seconds),
                s.detail.clone().unwrap_or_default(),
            ]
        })
        .collect();
    section(
        "steps",
        "Steps",
        vec!["step", "status", "exit", "seconds", "detail"],
        rows,
        vec![2, 3],
        Some("Each step's output is in logs/<step>.log.".to_string()),
    )
}

fn criterion(night: &Night) -> Section {
    let rows = night
        .criterion
        .iter()
        .map(|c| vec![c.bench.clone(), format!("{} ns", fixed(c.median_ns, 1))])
        .collect();
    let note = night
        .criterion
        .is_empty()
        .then(|| "No criterion estimates this night.".to_string());
    section(
        "criterion",
        "Criterion kernels (median)",
        vec!["bench", "median"],
        rows,
        vec![1],
        note,
    )
}

fn mutation(night: &Night) -> Section {
    let rows = night
        .mutation
        .iter()
        .map(|m| {
            vec![
                m.caught.to_string(),
                m.missed.to_string(),
                m.timeout.to_string(),
                m.unviable.to_string(),
                opt(m.percent(), percent),
            ]
        })
        .collect();
    let note = Some(match night.mutation {
        Some(_) => "Score: caught and timed-out mutants over all viable ones (just mutants). \
                    Shown, not judged."
            .to_string(),
        None => "No mutation outcome this night (reports/mutants/mutants.out/outcomes.json)."
            .to_string(),
    });
    section(
        "mutation",
        "Mutation score",
        vec!["caught", "missed", "timeout", "unviable", "score"],
        rows,
        vec![0, 1, 2, 3, 4],
        note,
    )
}

fn identity(night: &Night) -> Section {
    let mut rows = vec![
        vec!["date".to_string(), night.date.clone()],
        vec![
            "machine".to_string(),
            night.machine.clone().unwrap_or_default(),
        ],
        vec![
            "commit".to_string(),
            night.commit.clone().unwrap_or_default(),
        ],
    ];
    rows.extend(
        night
            .note
            .iter()
            .map(|n| vec!["note".to_string(), n.clone()]),
    );
    section("night", "The night", vec![], rows, vec![], None)
}

/// The nights a chart shows: the last [`TREND_NIGHTS`] of `history`.
fn shown_nights(history: &[Night]) -> &[Night] {
    &history[history.len().saturating_sub(TREND_NIGHTS)..]
}

/// The scales any of `nights` benched, known ones first in [`SCALE_COLOURS`] order.
fn scales(nights: &[Night]) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for s in nights.iter().flat_map(|n| &n.scales) {
        if !found.contains(&s.scale) {
            found.push(s.scale.clone());
        }
    }
    let rank = |s: &String| {
        SCALE_COLOURS
            .iter()
            .position(|(name, _)| name == s)
            .unwrap_or(SCALE_COLOURS.len())
    };
    found.sort_by_key(rank);
    found
}

fn scale_colour(scale: &str) -> &'static str {
    SCALE_COLOURS
        .iter()
        .find(|(name, _)| *name == scale)
        .map_or(SCALE_COLOURS[3].1, |(_, c)| c)
}

/// One chart to draw: its title, its lines, how its values are shown.
pub struct Chart {
    pub title: String,
    pub lines: Vec<Line>,
    pub shown: fn(f64) -> String,
}

/// A line of `nights` through `value`, or `None` when no night has a value.
fn line(
    name: &str,
    colour: &'static str,
    nights: &[Night],
    value: impl Fn(&Night) -> Option<f64>,
) -> Option<Line> {
    let points: Vec<Option<f64>> = nights.iter().map(value).collect();
    points.iter().any(Option::is_some).then(|| Line {
        name: name.to_string(),
        colour,
        points,
    })
}

/// A figure of one scale drawn as a line: its name, colour, and value in a night's figures.
type Figure = (&'static str, &'static str, fn(&ScaleFigures) -> Option<f64>);

/// The lines of a scale's seconds chart.
const SECONDS: [Figure; 4] = [
    ("engine", "#2b6cb0", |f| f.engine_wall_seconds),
    ("yardstick", "#38a169", |f| f.yardstick_seconds),
    ("engine to file", "#805ad5", |f| f.engine_file_wall_seconds),
    ("DuckDB", "#dd6b20", |f| f.duckdb_wall_seconds),
];

/// The lines of a scale's peak memory chart (MiB).
const MEMORY: [Figure; 3] = [
    ("engine", "#2b6cb0", |f| f.peak_rss_bytes.map(mib)),
    ("engine to file", "#805ad5", |f| {
        f.engine_file_peak_rss_bytes.map(mib)
    }),
    ("DuckDB", "#dd6b20", |f| f.duckdb_peak_rss_bytes.map(mib)),
];

/// The trend charts over `nights` (oldest first, this night last): one per ratio with a line
/// per scale, per scale one of seconds ([`SECONDS`]) and one of peak memory ([`MEMORY`]), and
/// the mutation score. Each chart keeps only its lines that have a value; a chart with none has
/// no lines.
pub fn charts(nights: &[Night]) -> Vec<Chart> {
    let scales = scales(nights);
    let ratios = Ratio::ALL.into_iter().map(|r| Chart {
        title: r.label().to_string(),
        lines: scales
            .iter()
            .filter_map(|s| {
                line(s, scale_colour(s), nights, |n| {
                    n.scale(s).and_then(|f| r.of(&f.ratios))
                })
            })
            .collect(),
        shown: ratio,
    });
    let per_scale = scales.iter().flat_map(|s| {
        [
            scale_chart(nights, s, "seconds", &SECONDS, seconds),
            scale_chart(nights, s, "peak RSS, MiB", &MEMORY, mib_text),
        ]
    });
    let mutation = Chart {
        title: "mutation score, %".to_string(),
        lines: line("caught", "#c53030", nights, |n| {
            n.mutation.and_then(|m| m.percent())
        })
        .into_iter()
        .collect(),
        shown: percent,
    };
    ratios
        .chain(per_scale)
        .chain(std::iter::once(mutation))
        .collect()
}

/// The chart `<scale>: <what>` with a line per figure that some night has.
fn scale_chart(
    nights: &[Night],
    scale: &str,
    what: &str,
    figures: &[Figure],
    shown: fn(f64) -> String,
) -> Chart {
    Chart {
        title: format!("{scale}: {what}"),
        lines: figures
            .iter()
            .filter_map(|(name, colour, value)| {
                line(name, colour, nights, |n| n.scale(scale).and_then(value))
            })
            .collect(),
        shown,
    }
}

/// The night as Markdown.
pub fn markdown(night: &Night, judgement: &Judgement) -> String {
    let label = label(judgement);
    let mut out = format!(
        "# ocp-engine nightly {}: {label}\n\n**{label}**: {}. Trend charts against the earlier \
         nights are in index.html.\n",
        night.date,
        markdown::escape(&summary(judgement))
    );
    for section in sections(night, judgement) {
        out.push_str(&markdown::section(&section));
    }
    out
}

/// The night as one self-contained HTML page, with the trend charts over `history` (which holds
/// this night, oldest first).
pub fn html(night: &Night, judgement: &Judgement, history: &[Night]) -> String {
    let label = label(judgement);
    let verdict = if judgement.passed() {
        crate::report::Verdict::Go
    } else {
        crate::report::Verdict::NoGo
    };
    let mut body = format!(
        "<header class=\"banner {}\"><div>\n<div class=\"label\">{label}</div>\n<div><h1>{}</h1>\n\
         <p>ocp-engine nightly · {} · {}</p></div>\n</div></header>\n<main>\n",
        html::class(verdict),
        escape(&html::capitalised(&summary(judgement))),
        escape(&night.date),
        escape(night.commit.as_deref().unwrap_or("")),
    );
    let mut rendered = sections(night, judgement).into_iter();
    if let Some(first) = rendered.next() {
        body.push_str(&html::section(&first, ""));
    }
    body.push_str(&trends(history));
    for section in rendered {
        body.push_str(&html::section(&section, ""));
    }
    body.push_str(
        "<footer>ocp-harness nightly-report: the same night is in index.md and night.json; \
         every night in history.jsonl.</footer>\n</main>\n",
    );
    html::page(
        &format!("{label} · ocp-engine nightly · {}", night.date),
        &body,
    )
}

/// The trend section: every chart with a line, and a note naming those without.
fn trends(history: &[Night]) -> String {
    let nights = shown_nights(history);
    let dates: Vec<String> = nights.iter().map(|n| n.date.clone()).collect();
    let (drawn, empty): (Vec<Chart>, Vec<Chart>) = charts(nights)
        .into_iter()
        .partition(|c| !c.lines.is_empty());
    let svgs: String = drawn
        .iter()
        .map(|c| line_chart(&c.title, &dates, &c.lines, c.shown))
        .collect();
    let mut note = format!(
        "{} night{} from {} to {}; tonight is the shaded last position.",
        nights.len(),
        if nights.len() == 1 { "" } else { "s" },
        dates.first().map_or("", String::as_str),
        dates.last().map_or("", String::as_str),
    );
    if !empty.is_empty() {
        let names: Vec<&str> = empty.iter().map(|c| c.title.as_str()).collect();
        note.push_str(&format!(
            " Not measured on any night: {}.",
            names.join("; ")
        ));
    }
    format!(
        "<section id=\"trends\">\n<h2>Trends</h2>\n<div class=\"charts\">\n{svgs}</div>\n\
         <p class=\"note\">{}</p>\n</section>\n",
        escape(&note)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nightly::judge::judge;
    use crate::nightly::read::{read_night, tests::sample_night_dir};
    use crate::nightly::typical_night;

    fn earlier(date: &str, engine_over_yardstick: f64) -> Night {
        let mut night = typical_night(date, Some(engine_over_yardstick));
        night.note = Some("transcribed".into());
        night.scales[0].engine_wall_seconds = Some(0.3);
        night
    }

    /// The sample night (a failing property suite) after two earlier nights.
    fn page() -> (Night, Judgement, Vec<Night>) {
        let dir = sample_night_dir();
        let night = read_night(dir.path(), "m").unwrap();
        let history = vec![
            earlier("2026-11-24", 4.55),
            earlier("2026-11-30", 4.0),
            night.clone(),
        ];
        let judgement = judge(&night, &history);
        (night, judgement, history)
    }

    #[test]
    fn the_page_leads_with_the_verdict_and_names_each_reason() {
        let (night, judgement, history) = page();
        // typical: 5.625 against the median of 4.55 and 4.0, 4.275 (bar 4.916): regressed.
        assert_eq!(
            judgement.reasons(),
            vec![
                "step property-oracle failed (exit 101)".to_string(),
                "regression: typical engine / yardstick: 5.625 against a median of 4.275 over 2 \
                 earlier nights (+31.6 %, more than 15 % worse)"
                    .to_string()
            ]
        );
        let page = html(&night, &judgement, &history);
        let body = &page[page.find("<body>").unwrap()..];
        assert!(
            body.starts_with(
                "<body>\n<header class=\"banner no-go\"><div>\n<div class=\"label\">FAIL</div>"
            ),
            "{body}"
        );
        assert!(page.contains("step property-oracle failed (exit 101)"));
        let md = markdown(&night, &judgement);
        assert!(md.starts_with("# ocp-engine nightly 2026-12-02: FAIL\n\n**FAIL**: 1 failure and 1 regression of 1 judged ratio"), "{md}");
        assert!(
            md.contains("| typical | engine / yardstick      |    5.62 |     4.28 |              2 | +31.6 % | REGRESSED  |"),
            "{md}"
        );
    }

    #[test]
    fn trend_charts_show_the_history_and_name_the_charts_no_night_has() {
        let (night, judgement, history) = page();
        let page = html(&night, &judgement, &history);
        let without_namespace = page.replace("http://www.w3.org/2000/svg", "");
        assert!(!without_namespace.contains("http"));
        assert!(!page.contains("<script"));
        // Ratios: engine / yardstick (typical, large), engine / DuckDB time and memory and
        // write / COPY (large only), not engine / Trino; seconds and peak RSS of typical and
        // large; the mutation score: 9 charts.
        assert_eq!(page.matches("<svg ").count(), 9, "{page}");
        assert!(page.contains("Not measured on any night: engine / Trino."));
        // Three nights on the x axis, the typical ratio on all three.
        assert!(page.contains(">2026-11-24</text>") && page.contains(">2026-12-02</text>"));
        assert!(page.contains("<title>typical 2026-11-30: 4</title>"));
    }

    #[test]
    fn a_chart_keeps_only_the_lines_with_values() {
        let nights = vec![earlier("2026-11-24", 4.55)];
        let charts = charts(&nights);
        let titles: Vec<(&str, usize)> = charts
            .iter()
            .map(|c| (c.title.as_str(), c.lines.len()))
            .collect();
        assert_eq!(
            titles,
            [
                ("engine / yardstick", 1),
                ("engine / DuckDB, time", 0),
                ("engine / DuckDB, memory", 0),
                ("write / COPY", 0),
                ("engine / Trino", 0),
                ("typical: seconds", 1),
                ("typical: peak RSS, MiB", 0),
                ("mutation score, %", 0),
            ]
        );
    }

    #[test]
    fn ratios_show_three_significant_digits() {
        assert_eq!(ratio(5.661604314224786), "5.66");
        assert_eq!(ratio(0.07083975413190619), "0.0708");
        assert_eq!(ratio(10.7), "10.7");
        assert_eq!(ratio(0.0), "0");
    }
}
