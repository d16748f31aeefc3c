//! The `compare` flow end to end through its library function
//! ([`ocp_harness::pipeline::run_compare`]): a tiny generated cluster and its engine.toml in a
//! temporary folder, the engine in-process, the DuckDB oracle, the report in its four forms.
//!
//! GO comes from the real oracle as is. NO-GO and REVIEW come from a *seeded difference*: the
//! real DuckDB oracle runs unchanged and [`Seeded`] then changes one row of its result (one value
//! scaled, or the row dropped), so the engine, the comparison, the verdict and the four writers
//! all run for real on a known difference. The verdict rules are `report::verdict`'s: GO when
//! every criterion is at or under its go bar, NO-GO when any is over its no-go bar or a row is
//! unmatched, REVIEW otherwise; the worst relative difference's bars are 0.01 % (go) and 0.1 %
//! (no-go). The exit code is [`Verdict::exit_code`], the mapping `ocp-harness compare` exits
//! with: 0 GO, 1 NO-GO, 4 REVIEW.
//!
//! The DuckDB CLI is found or installed by `ocp_harness::oracle::locate_duckdb` (`just
//! oracle-setup` installs it beforehand).

use std::cell::OnceCell;
use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::Utc;
use ocp_engine::summary::Metric;
use ocp_harness::compare::{ComparableRow, Tolerance};
use ocp_harness::oracle::{DuckDbOracle, Oracle, OracleError, OracleInput, OracleRun, QueryParams};
use ocp_harness::pipeline::{run_compare, CompareOutcome, CompareRun, ENGINE_ROWS};
use ocp_harness::report::{Verdict, FILES};
use ocp_harness::scenario::engine_config;
use ocp_harness::synth::{generate, write_cluster, Scale};
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::Value;
use tempfile::TempDir;

/// The metric the seeded value differences change.
const SEEDED: Metric = Metric::PodUsageCpuCoreHours;

#[test]
fn a_tiny_cluster_gives_a_go_report_in_four_forms() {
    let oracle = DuckDbOracle::locate().expect("the DuckDB CLI (just oracle-setup)");
    let run = compare_tiny_cluster(&oracle);
    let (outcome, report_dir) = (&run.outcome, &run.report_dir);

    assert_eq!(outcome.report.verdict, Verdict::Go, "{:#?}", outcome.report);
    assert_eq!(outcome.report.verdict.exit_code(), 0);
    let forms = Forms::read(outcome, report_dir);

    // The engine's rows as written, counted independently of the report.
    let written = SerializedFileReader::new(File::open(report_dir.join(ENGINE_ROWS)).unwrap())
        .unwrap()
        .metadata()
        .file_metadata()
        .num_rows();
    assert!(written > 0);
    let json = &forms.json;
    assert_eq!(json["verdict"], "GO");
    assert_eq!(json["rows_match"], true);
    let comparison = &json["comparison"];
    for count in ["engine_rows", "oracle_rows", "matched"] {
        assert_eq!(comparison[count], written, "{count}");
    }
    assert_eq!(comparison["only_in_engine"].as_array().unwrap().len(), 0);
    assert_eq!(comparison["only_in_oracle"].as_array().unwrap().len(), 0);
    assert_eq!(
        json["identity"]["run_id"],
        outcome.report.identity.run_id.as_str()
    );

    assert!(
        forms.terminal.starts_with("=== GO ==="),
        "{}",
        forms.terminal
    );
    assert!(forms.markdown.starts_with("# ocp-engine go/no-go: GO\n"));
    assert!(forms.html.contains("<header class=\"banner go\">"));
}

/// The oracle's largest `pod_usage_cpu_core_hours` scaled by 1.01: relative error
/// |v − 1.01·v| / max(|v|, |1.01·v|) = 0.01 / 1.01 = 1/101 ≈ 0.990 %, over the no-go bar of
/// 0.1 % (`verdict::criteria`), so the third criterion is NO-GO and the overall verdict, the
/// worst of the criteria's (`verdict::overall`), is NO-GO: exit code 1. The key is untouched, so
/// every row still has its partner (`rows_match` stays true); the one value is over the 0.01 %
/// comparison tolerance.
#[test]
fn a_value_one_percent_off_is_no_go_in_every_form() {
    let oracle = Seeded::scaling(SEEDED, 1.01);
    let run = compare_tiny_cluster(&oracle);
    let report = &run.outcome.report;
    let seeded = oracle.seeded_row();

    assert_eq!(report.verdict, Verdict::NoGo, "{:#?}", report);
    assert_eq!(report.verdict.exit_code(), 1);
    assert!(report.rows_match);
    let expected_percent = 100.0 / 101.0;
    let worst = the_seeded_difference(&run.outcome, seeded, 1.01);
    assert!((worst * 100.0 - expected_percent).abs() < 1e-9, "{worst}");
    let verdicts: Vec<Verdict> = report.criteria.iter().map(|c| c.verdict).collect();
    assert_eq!(verdicts, [Verdict::Go, Verdict::Go, Verdict::NoGo]);

    let forms = Forms::read(&run.outcome, &run.report_dir);
    let comparison = forms.json_names_one_value_difference(seeded, "NO-GO", true);
    assert_eq!(comparison["verdict"]["only_in_engine"], 0);
    assert_eq!(comparison["verdict"]["only_in_oracle"], 0);
    let why = "worst relative difference from the oracle is 0.9901 %, over the no-go bar of 0.1 %";
    forms.name_the_verdict("NO-GO", "no-go", why);
}

/// The row holding the oracle's largest `pod_usage_cpu_core_hours` dropped from the oracle's
/// result: the engine's copy of it has no partner, a row only in the engine. Rows on one side
/// only are a correctness failure no relative error shows, so `rows_match` is false and
/// `verdict::overall` returns NO-GO whatever the criteria say (here all GO: the remaining pairs
/// are equal): exit code 1.
#[test]
fn a_row_missing_from_the_oracle_is_no_go_in_every_form() {
    let oracle = Seeded::dropping(SEEDED);
    let run = compare_tiny_cluster(&oracle);
    let report = &run.outcome.report;
    let dropped = oracle.seeded_row();

    assert_eq!(report.verdict, Verdict::NoGo, "{:#?}", report);
    assert_eq!(report.verdict.exit_code(), 1);
    assert!(!report.rows_match);
    let verdicts: Vec<Verdict> = report.criteria.iter().map(|c| c.verdict).collect();
    assert_eq!(verdicts, [Verdict::Go, Verdict::Go, Verdict::Go]);
    let comparison = &report.comparison;
    // The engine's own copy of the row: the same key (its values are the engine's).
    let keys: Vec<_> = comparison.only_in_engine.iter().map(|r| &r.key).collect();
    assert_eq!(keys, [&dropped.key]);
    assert!(comparison.only_in_oracle.is_empty());
    assert_eq!(comparison.engine_rows, comparison.oracle_rows + 1);
    assert_eq!(comparison.matched, comparison.oracle_rows);

    let forms = Forms::read(&run.outcome, &run.report_dir);
    let json = &forms.json;
    assert_eq!(json["verdict"], "NO-GO");
    assert_eq!(json["rows_match"], false);
    let comparison = &json["comparison"];
    assert_eq!(comparison["verdict"]["only_in_engine"], 1);
    assert_eq!(comparison["verdict"]["only_in_oracle"], 0);
    assert_eq!(comparison["verdict"]["over_tolerance"], 0);
    assert_eq!(
        comparison["engine_rows"],
        comparison["oracle_rows"].as_u64().unwrap() + 1
    );
    let only = comparison["only_in_engine"].as_array().unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["key"], key_json(dropped));
    let engine_value = only[0]["metrics"][SEEDED.column()].as_f64().unwrap();
    let oracle_value = dropped.metric(SEEDED).unwrap();
    assert!(Tolerance::default().error(engine_value, oracle_value) <= 1e-4);
    assert_eq!(comparison["only_in_oracle"].as_array().unwrap().len(), 0);
    forms.name_the_verdict("NO-GO", "no-go", "the rows differ (1 only in the engine)");
    let namespace = dropped.key.namespace.as_deref().unwrap();
    assert!(forms.terminal.contains("Rows on one side only"));
    assert!(forms
        .terminal
        .contains("1 only in the engine, 0 only in the oracle"));
    assert!(forms.terminal.contains(namespace), "{}", forms.terminal);
}

/// The oracle's largest `pod_usage_cpu_core_hours` scaled by 1.0005: relative error
/// 0.0005 / 1.0005 ≈ 0.04998 %, over the go bar of 0.01 % and at or under the no-go bar of 0.1 %
/// (`verdict::criteria`), so the third criterion is REVIEW. Time (milliseconds against 60 s) and
/// memory (tens of MiB against 2 GB) stay at GO and every row has its partner, so the worst of
/// the criteria (`verdict::overall`) is REVIEW: exit code 4. The value is over the 0.01 %
/// comparison tolerance, but values over tolerance are the criterion's business, not a row
/// defect (`report::document`), so `rows_match` stays true.
#[test]
fn a_value_between_the_bars_is_review_in_every_form() {
    let oracle = Seeded::scaling(SEEDED, 1.0005);
    let run = compare_tiny_cluster(&oracle);
    let report = &run.outcome.report;
    let seeded = oracle.seeded_row();

    assert_eq!(report.verdict, Verdict::Review, "{:#?}", report);
    assert_eq!(report.verdict.exit_code(), 4);
    assert!(report.rows_match);
    let worst = the_seeded_difference(&run.outcome, seeded, 1.0005);
    assert!((worst - 0.0005 / 1.0005).abs() < 1e-11, "{worst}");
    let verdicts: Vec<Verdict> = report.criteria.iter().map(|c| c.verdict).collect();
    assert_eq!(verdicts, [Verdict::Go, Verdict::Go, Verdict::Review]);

    let forms = Forms::read(&run.outcome, &run.report_dir);
    let comparison = forms.json_names_one_value_difference(seeded, "REVIEW", true);
    assert_eq!(comparison["verdict"]["only_in_engine"], 0);
    assert_eq!(comparison["verdict"]["only_in_oracle"], 0);
    assert_eq!(forms.json["criteria"][2]["verdict"], "REVIEW");
    let why = "worst relative difference from the oracle is 0.05 %, between the go bar of 0.01 % \
               and the no-go bar of 0.1 %";
    forms.name_the_verdict("REVIEW", "review", why);
}

/// The real DuckDB oracle with one difference seeded into its result: the row with the largest
/// value of a metric (ties broken by key, so the choice does not depend on row order) is scaled
/// or dropped after DuckDB computed it. The row as DuckDB gave it is kept for the assertions.
struct Seeded {
    inner: DuckDbOracle,
    metric: Metric,
    /// `Some(factor)`: the metric's value is multiplied by it; `None`: the row is dropped.
    factor: Option<f64>,
    seeded: OnceCell<ComparableRow>,
}

impl Seeded {
    fn scaling(metric: Metric, factor: f64) -> Self {
        Self::new(metric, Some(factor))
    }

    fn dropping(metric: Metric) -> Self {
        Self::new(metric, None)
    }

    fn new(metric: Metric, factor: Option<f64>) -> Self {
        Seeded {
            inner: DuckDbOracle::locate().expect("the DuckDB CLI (just oracle-setup)"),
            metric,
            factor,
            seeded: OnceCell::new(),
        }
    }

    /// The seeded row as the real oracle returned it, before the change.
    fn seeded_row(&self) -> &ComparableRow {
        self.seeded.get().expect("the oracle ran")
    }
}

impl Oracle for Seeded {
    fn describe(&self) -> String {
        format!("{} (test: one seeded difference)", self.inner.describe())
    }

    fn run(&self, query: &QueryParams) -> Result<OracleRun, OracleError> {
        let mut run = self.inner.run(query)?;
        let value = |row: &ComparableRow| row.metric(self.metric).unwrap_or(0.0);
        let at = (0..run.rows.len())
            .max_by(|&a, &b| {
                let (a, b) = (&run.rows[a], &run.rows[b]);
                value(a).total_cmp(&value(b)).then(b.key.cmp(&a.key))
            })
            .expect("the oracle returned rows");
        // Large enough that a 0.05 % change is far above the comparison's absolute floor (1e-9).
        assert!(value(&run.rows[at]) > 1e-3, "{:?}", run.rows[at]);
        self.seeded
            .set(run.rows[at].clone())
            .expect("one oracle run per test");
        match self.factor {
            Some(factor) => {
                let cell = run.rows[at].metrics[self.metric as usize].as_mut().unwrap();
                *cell *= factor;
            }
            None => {
                run.rows.remove(at);
            }
        }
        Ok(run)
    }
}

/// One finished compare run and the temporary folder holding its input and report.
struct TinyRun {
    outcome: CompareOutcome,
    report_dir: PathBuf,
    _dir: TempDir,
}

/// `run_compare` on the tiny cluster of seed 42, generated into a temporary folder with its
/// engine.toml, against `oracle`, with the default tolerance (as `ocp-harness compare` uses).
fn compare_tiny_cluster(oracle: &dyn Oracle) -> TinyRun {
    let dir = tempfile::tempdir().unwrap();
    let model = generate(Scale::Tiny, 42);
    write_cluster(&model, dir.path()).unwrap();
    let config = dir.path().join("engine.toml");
    std::fs::write(&config, engine_config(&model).to_toml()).unwrap();
    let report_dir = dir.path().join("reports").join("run");
    let outcome = run_compare(&CompareRun {
        config: &config,
        oracle,
        input: OracleInput::LocalFiles,
        tolerance: Tolerance::default(),
        report_dir: &report_dir,
        started_at: Utc::now(),
    })
    .unwrap();
    TinyRun {
        outcome,
        report_dir,
        _dir: dir,
    }
}

/// Checks that the seeded value difference is the report's worst, with the engine's value, the
/// scaled oracle value and their error; returns that error.
fn the_seeded_difference(outcome: &CompareOutcome, seeded: &ComparableRow, factor: f64) -> f64 {
    let comparison = &outcome.report.comparison;
    assert_eq!(comparison.verdict.over_tolerance, 1);
    assert_eq!(comparison.matched_with_differences, 1);
    assert_eq!(comparison.column(SEEDED).over_tolerance, 1);
    let worst = &comparison.worst[0];
    assert_eq!((worst.metric, &worst.key), (SEEDED, &seeded.key));
    assert!(worst.fails);
    let original = seeded.metric(SEEDED).unwrap();
    assert_eq!(worst.oracle, Some(original * factor));
    let engine = worst.engine.expect("the engine has the value");
    let error = Tolerance::default().error(engine, original * factor);
    assert_eq!(worst.error, Some(error));
    assert_eq!(comparison.worst_relative_error(), error);
    assert_eq!(
        outcome.report.criteria[2].criterion.measured,
        Some(error * 100.0)
    );
    error
}

/// The four forms as written, after checking that the outcome lists them (then the engine's rows)
/// and that none is empty.
struct Forms {
    terminal: String,
    markdown: String,
    html: String,
    json: Value,
}

impl Forms {
    fn read(outcome: &CompareOutcome, report_dir: &Path) -> Self {
        let mut expected: Vec<_> = FILES.iter().map(|name| report_dir.join(name)).collect();
        expected.push(report_dir.join(ENGINE_ROWS));
        assert_eq!(outcome.files, expected);
        for file in &expected {
            assert!(file.metadata().unwrap().len() > 0, "{}", file.display());
        }
        let read = |name: &str| std::fs::read_to_string(report_dir.join(name)).unwrap();
        Forms {
            terminal: read("report.txt"),
            markdown: read("report.md"),
            html: read("report.html"),
            json: serde_json::from_str(&read("report.json")).unwrap(),
        }
    }

    /// Every form leads with the verdict's label and `why` (the HTML banner capitalises it).
    fn name_the_verdict(&self, label: &str, class: &str, why: &str) {
        let banner = format!("=== {label} === {why}\n");
        assert!(self.terminal.starts_with(&banner), "{}", self.terminal);
        let heading = format!("# ocp-engine go/no-go: {label}\n\n**{label}**: {why}\n");
        assert!(self.markdown.starts_with(&heading), "{}", self.markdown);
        assert!(
            self.html
                .contains(&format!("<header class=\"banner {class}\">")),
            "{}",
            self.html
        );
        let mut capitalised = why[..1].to_uppercase();
        capitalised.push_str(&why[1..]);
        assert!(
            self.html.contains(&format!("<h1>{capitalised}</h1>")),
            "{}",
            self.html
        );
        assert_eq!(self.json["verdict"], label);
    }

    /// The JSON's verdict and `rows_match`, its one value over tolerance, and its worst
    /// difference naming the seeded row and column; returns the JSON's comparison.
    fn json_names_one_value_difference(
        &self,
        seeded: &ComparableRow,
        verdict: &str,
        rows_match: bool,
    ) -> &Value {
        assert_eq!(self.json["verdict"], verdict);
        assert_eq!(self.json["rows_match"], rows_match);
        let comparison = &self.json["comparison"];
        assert_eq!(comparison["verdict"]["over_tolerance"], 1);
        assert_eq!(comparison["verdict"]["within_tolerance"], false);
        assert_eq!(comparison["matched_with_differences"], 1);
        assert_eq!(comparison["engine_rows"], comparison["oracle_rows"]);
        let worst = &comparison["worst"][0];
        assert_eq!(worst["column"], SEEDED.column());
        assert_eq!(worst["key"], key_json(seeded));
        assert_eq!(worst["fails"], true);
        assert!(
            self.terminal.contains(SEEDED.column())
                && self.terminal.contains("values over tolerance"),
            "{}",
            self.terminal
        );
        comparison
    }
}

/// A row's key as the JSON form writes it (`compare::json`): ten columns, NULL as `null`.
fn key_json(row: &ComparableRow) -> Value {
    let k = &row.key;
    serde_json::json!({
        "data_source": k.data_source,
        "usage_start": k.usage_start.format("%Y-%m-%d").to_string(),
        "namespace": k.namespace,
        "node": k.node,
        "resource_id": k.resource_id,
        "persistentvolumeclaim": k.persistentvolumeclaim,
        "persistentvolume": k.persistentvolume,
        "storageclass": k.storageclass,
        "pod_labels": k.pod_labels,
        "volume_labels": k.volume_labels,
    })
}
