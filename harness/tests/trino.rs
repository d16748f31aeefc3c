//! engine = a real Trino: koku's SQL run by Trino itself, not by our reading of it.
//!
//! One local Trino serves this whole test binary (`testkit::local_trino`: the server `just
//! trino-setup` installed, started on first use, stopped when the binary ends). Each case loads
//! koku's tables for its run into it as a koku site has them (`testkit::KokuSite`: external Hive
//! tables over the case's Parquet, the catalog in PostgreSQL behind Trino's PostgreSQL connector,
//! koku's node step replayed) and then runs the same oracles a site uses:
//! - `--oracle trino` ([`TrinoOracle`]): the reference query on Trino, for every fixture, the
//!   tiny cluster, the typical month through the whole compare report, and generated clusters
//!   (the property, [`property_cases`] seeded cases, `OCP_TRINO_PROPERTY_CASES` for more);
//! - `--oracle koku-trino` ([`TrinoKokuStagingOracle`]): koku's Hive staging table, created and
//!   filled through Trino as koku's statements 1–3 do, read back with koku's statement-4 filter.
//!
//! Only the default compatibility (Trino): the PostgreSQL-port mode has no Trino to compare
//! with. Values are compared at the precision the engine reaches (1e-12 relative, 1e-9 absolute
//! floor), not at the go/no-go bar.
//!
//! The `rules` module checks, one test per rule, each Trino-only behaviour the engine reproduces
//! (docs/semantics.md, "What a real Trino showed"): Trino's answer to a small query beside the
//! engine function that reproduces it.

mod differential;

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::Utc;
use ocp_engine::config::ConfigFile;
use ocp_engine::resolve::{resolve_request, Overrides};

use differential::{engine_equals_oracle, Tally};
use ocp_engine::compat::Compatibility;
use ocp_harness::compare::{compare, ComparableRow, Tolerance};
use ocp_harness::fixture::{fixture_files, Fixture};
use ocp_harness::oracle::tables::storage_exists;
use ocp_harness::oracle::{
    Oracle, OracleError, OracleInput, OracleRun, QueryParams, TrinoKokuStagingOracle, TrinoOracle,
};
use ocp_harness::pipeline::{run_compare, CompareRun};
use ocp_harness::report::Verdict;
use ocp_harness::scenario::{engine_config, run_quietly, Scenario};
use ocp_harness::synth::strategy::cluster_model;
use ocp_harness::synth::{generate, write_cluster, Scale};
use ocp_testkit::KokuSite;
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, RngSeed, TestCaseError, TestRunner};

/// The precision the engine reaches against Trino (1e-12 relative, 1e-9 absolute floor).
const EXACT: Tolerance = Tolerance::ENGINE_PRECISION;

/// The engine's rows for `scenario` (its whole date range, Trino compatibility).
fn engine_rows(scenario: &Scenario) -> Vec<ComparableRow> {
    let report = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
        .block_on(run_quietly(&scenario.request()))
        .unwrap_or_else(|e| panic!("the engine failed: {e}"));
    ComparableRow::of_run(&report)
}

/// koku's tables for `params` on the local Trino, and the reference query run there.
fn trino_run(params: &QueryParams) -> Result<OracleRun, String> {
    let site = KokuSite::load(params)?;
    let oracle = TrinoOracle::new(site.settings()).map_err(|e| e.to_string())?;
    oracle.run(params).map_err(|e| e.to_string())
}

/// Asserts the engine's rows equal Trino's for `scenario`, and that there were rows to compare.
fn assert_engine_equals_trino(name: &str, scenario: &Scenario) -> OracleRun {
    let engine = engine_rows(scenario);
    let trino =
        trino_run(&scenario.query_params()).unwrap_or_else(|e| panic!("{name}: Trino failed: {e}"));
    assert!(!engine.is_empty(), "{name}: the engine wrote no rows");
    let comparison = compare(&engine, &trino.rows, &EXACT);
    assert!(
        comparison.within_tolerance(),
        "{name}: engine ({} rows) and Trino ({} rows) differ: {:#?}\nworst: {:#?}\nonly in \
         engine: {:#?}\nonly in Trino: {:#?}",
        engine.len(),
        trino.rows.len(),
        comparison.verdict,
        comparison.worst.iter().take(5).collect::<Vec<_>>(),
        comparison.only_in_engine.iter().take(3).collect::<Vec<_>>(),
        comparison.only_in_oracle.iter().take(3).collect::<Vec<_>>(),
    );
    trino
}

/// Every fixture; the Storage branch is in Trino's query exactly when koku's storage table exists
/// (the oracle asks Trino's `information_schema`, the loader creates the table only over files).
#[test]
fn every_fixture_equals_real_trino() {
    let files = fixture_files();
    assert!(files.len() >= 20, "found only {} fixtures", files.len());
    let mut storage_seen = BTreeSet::new();
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let fixture = Fixture::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let scenario = Scenario::write(fixture.model()).expect("the fixture's files are written");
        let trino = assert_engine_equals_trino(&name, &scenario);
        let storage = storage_exists(&scenario.query_params()).unwrap();
        assert!(
            trino
                .query_text
                .starts_with(&format!("-- storage_exists = {storage}")),
            "{name}: {}",
            trino.query_text.lines().next().unwrap_or_default()
        );
        storage_seen.insert(storage);
    }
    assert_eq!(
        storage_seen,
        [false, true].into(),
        "fixtures with and without storage"
    );
}

/// A table missing from koku's Hive schema: the run fails naming the query, Trino's query id,
/// its error name and message, and a kept file holding the query text to rerun by hand.
#[test]
fn a_failed_query_names_the_query_and_trinos_error() {
    let scenario = Scenario::write(generate(Scale::Tiny, 3)).expect("the cluster is written");
    let params = scenario.query_params();
    let site = KokuSite::load(&params).expect("koku's tables load");
    let hive = site.places().hive;
    site.session()
        .rows(
            "drop a table",
            &format!("DROP TABLE {hive}.openshift_pod_usage_line_items_daily"),
        )
        .expect("the table is dropped");
    let error = TrinoOracle::new(site.settings())
        .unwrap()
        .run(&params)
        .expect_err("the query cannot run without the daily pod table");
    let OracleError::Query { engine, message } = &error else {
        panic!("not a query error: {error}");
    };
    assert_eq!(engine, "Trino");
    for part in [
        "the reference summary query (harness/sql/reference_summary.sql)",
        "TABLE_NOT_FOUND",
        &format!("Table '{hive}.openshift_pod_usage_line_items_daily' does not exist"),
        "(line ",
    ] {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
    let kept = message
        .split("the query text is in ")
        .nth(1)
        .expect("names the kept query text");
    let kept = PathBuf::from(kept.trim());
    let text = std::fs::read_to_string(&kept).unwrap();
    assert!(text.contains(&format!("FROM {hive}.openshift_pod_usage_line_items_daily")));
    std::fs::remove_dir_all(kept.parent().unwrap()).unwrap();
}

#[test]
fn the_tiny_cluster_equals_real_trino() {
    let scenario = Scenario::write(generate(Scale::Tiny, 42)).expect("the cluster is written");
    let trino = assert_engine_equals_trino("tiny", &scenario);
    let sources: BTreeSet<&str> = trino
        .rows
        .iter()
        .map(|r| r.key.data_source.as_str())
        .collect();
    assert_eq!(
        sources,
        ["Pod", "Storage"].into(),
        "Pod (unallocated included) and Storage rows"
    );
}

/// `ocp-harness compare --oracle trino` as a library call, on the typical month: the engine on
/// the config's folder and inline catalog, the reference query on the local Trino over the same
/// files and catalog; the report is GO at the tests' precision and shows Trino's own figures.
#[test]
fn a_compare_of_the_typical_month_with_real_trino_is_go_with_trinos_figures() {
    let dir = tempfile::tempdir().unwrap();
    let model = generate(Scale::Typical, 42);
    write_cluster(&model, dir.path()).expect("the cluster is written");
    let config = dir.path().join("engine.toml");
    std::fs::write(&config, engine_config(&model).to_toml()).unwrap();
    let request = resolve_request(
        ConfigFile::load(&config).unwrap(),
        Overrides {
            out: Some(dir.path().join("unused.parquet")),
            ..Overrides::default()
        },
    )
    .unwrap();
    let site =
        KokuSite::load(&QueryParams::from_request(&request).unwrap()).expect("koku's tables load");
    let oracle = TrinoOracle::new(site.settings()).unwrap();
    let outcome = run_compare(&CompareRun {
        config: &config,
        oracle: &oracle,
        input: OracleInput::LocalFiles,
        tolerance: EXACT,
        report_dir: &dir.path().join("report"),
        started_at: Utc::now(),
    })
    .expect("the compare runs");
    let report = &outcome.report;
    assert_eq!(
        report.verdict,
        Verdict::Go,
        "{:#?}",
        report.comparison.verdict
    );
    assert!(
        report.comparison.matched > 10_000,
        "{} rows matched",
        report.comparison.matched
    );
    assert!(
        report
            .identity
            .oracle
            .starts_with("Trino 476 at http://127.0.0.1:"),
        "{}",
        report.identity.oracle
    );
    assert!(
        report.oracle.seconds > 0.0,
        "Trino's own elapsed time is reported"
    );
    assert!(
        report.oracle.peak_mib.is_some_and(|m| m > 0.0),
        "Trino's peak memory is reported"
    );
}

#[test]
fn koku_trino_reads_the_staging_rows_koku_wrote() {
    let scenario = Scenario::write(generate(Scale::Tiny, 7)).expect("the cluster is written");
    let params = scenario.query_params();
    let site = KokuSite::load(&params).expect("koku's tables load");
    let written = site
        .write_staging(&params)
        .expect("koku's staging rows are written");
    let engine = engine_rows(&scenario);
    assert_eq!(
        written as usize,
        engine.len(),
        "rows written to the staging table"
    );

    // koku writes month and day unpadded; the oracle's filter must find every row.
    let partitions = site
        .session()
        .rows(
            "the staging partitions",
            &format!(
                "SELECT DISTINCT month, day FROM {}.reporting_ocpusagelineitem_daily_summary",
                site.places().hive
            ),
        )
        .expect("the partitions are listed");
    assert!(
        partitions.iter().any(|p| p[0] == "9" && p[1] == "1"),
        "September 1st as koku writes it: {partitions:?}"
    );

    let staging = TrinoKokuStagingOracle::new(site.settings())
        .expect("settings")
        .run(&params)
        .expect("the staging rows are read");
    let comparison = compare(&engine, &staging.rows, &EXACT);
    assert!(
        comparison.within_tolerance(),
        "engine and koku's staging rows differ: {:#?}",
        comparison.verdict
    );
}

/// Cases of the property per run: seeded, so CI runs the same clusters every time;
/// `OCP_TRINO_PROPERTY_CASES` asks for more.
fn property_cases() -> u32 {
    std::env::var("OCP_TRINO_PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/trino.txt"
);

/// Of the cases a run compares, the share that must have compared a Pod row, a Storage row and
/// an unallocated row each (the same floor as the DuckDB property, `oracle_property.rs`).
const NOT_VACUOUS: f64 = 0.5;

/// What the cases of this run compared.
static TALLY: Tally = Tally::new();

#[test]
fn engine_equals_real_trino_on_generated_clusters() {
    let config = ProptestConfig {
        cases: property_cases(),
        max_shrink_iters: 64,
        rng_seed: RngSeed::Fixed(20261202),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&cluster_model(), |model| {
        let trino = |_: &Scenario, params: &QueryParams| trino_run(params);
        match engine_equals_oracle(model, Compatibility::Trino, &EXACT, trino) {
            Ok(Some(compared)) => {
                TALLY.add(compared);
                Ok(())
            }
            Ok(None) => Err(TestCaseError::reject("no daily file: not a case")),
            Err(disagreement) => Err(TestCaseError::fail(disagreement)),
        }
    });
    if let Err(failure) = result {
        panic!("{failure}\n{runner}");
    }
    println!("{}", TALLY.assert_not_vacuous(NOT_VACUOUS));
}

/// One test per Trino-only rule the engine reproduces: Trino's own answer beside the engine's.
mod rules {
    use chrono::NaiveDate;
    use ocp_engine::compat::Compatibility;
    use ocp_engine::labels::{filter_labels, parse_labels, to_json, EnabledKeys};
    use ocp_engine::like::like_in;
    use ocp_engine::numeric::Numeric;
    use ocp_engine::units::{gib, hours};
    use ocp_engine::window::{days_in_month, DayWindow};
    use ocp_harness::oracle::query::sql_string;
    use ocp_harness::oracle::settings::{TrinoSection, TrinoSettings};
    use ocp_harness::oracle::TrinoSession;
    use ocp_testkit::local_trino;
    use serde_json::Value;

    /// A session on the local Trino.
    fn trino() -> TrinoSession {
        let settings = TrinoSettings::resolve(TrinoSection {
            url: Some(local_trino().url().to_string()),
            user: Some("ocp-test".to_string()),
            ..TrinoSection::default()
        })
        .expect("settings");
        TrinoSession::open(settings).expect("a session")
    }

    /// The single row of `sql` on the local Trino.
    fn row(sql: &str) -> Vec<Value> {
        let mut rows = trino()
            .rows("a rule's query", sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(rows.len(), 1, "{sql}: one row expected");
        rows.remove(0)
    }

    /// Trino's error for `sql`, which must fail.
    fn error(sql: &str) -> String {
        match trino().rows("a rule's query", sql) {
            Ok(rows) => panic!("{sql}: expected an error, got {rows:?}"),
            Err(e) => e.to_string(),
        }
    }

    /// A JSON map as Trino sends a `map(varchar, varchar)`, in the engine's JSON text.
    fn map_json(value: &Value) -> String {
        serde_json::to_string(value.as_object().expect("a map")).expect("JSON")
    }

    #[test]
    fn no_enabled_key_drops_every_label() {
        // koku's cte_pg_enabled_keys: ARRAY['vm_kubevirt_io_name'] || array_agg(key) over no
        // row is NULL, and map_filter with contains(NULL, k) keeps nothing, not even the VM key.
        let text = r#"{"app": "web", "vm_kubevirt_io_name": "vm1"}"#;
        let trino = row(&format!(
            "WITH enabled AS (SELECT ARRAY['vm_kubevirt_io_name'] || array_agg(k) AS keys \
             FROM (VALUES 'x') t(k) WHERE false) \
             SELECT keys IS NULL, map_filter(CAST(json_parse({}) AS map(varchar, varchar)), \
             (k, v) -> contains(keys, k)) FROM enabled",
            sql_string(text)
        ));
        assert_eq!(trino[0], Value::Bool(true), "the key array is NULL");
        let engine = filter_labels(
            &parse_labels(text).unwrap(),
            &EnabledKeys::new(&[], Compatibility::Trino),
        );
        assert_eq!(map_json(&trino[1]), to_json(&engine));
        assert_eq!(to_json(&engine), "{}");
    }

    #[test]
    fn a_null_label_text_gives_a_null_map_and_a_null_merge() {
        let trino = row(
            "SELECT CAST(json_parse(CAST(NULL AS varchar)) AS map(varchar, varchar)) IS NULL, \
             map_concat(MAP(ARRAY['a'], ARRAY['1']), CAST(NULL AS map(varchar, varchar))) IS NULL",
        );
        assert_eq!(trino, vec![Value::Bool(true), Value::Bool(true)]);
    }

    #[test]
    fn an_empty_map_cast_is_the_empty_json_object() {
        let trino = row(
            "SELECT json_format(CAST(CAST(MAP() AS map(varchar, varchar)) AS json)), \
             json_format(CAST(MAP(ARRAY['b', 'a'], ARRAY['2', '1']) AS json))",
        );
        assert_eq!(trino[0], "{}");
        assert_eq!(to_json(&Default::default()), "{}");
        // Keys sorted, as the engine's maps are (spec §7.7).
        let engine = filter_labels(
            &parse_labels(r#"{"b": "2", "a": "1"}"#).unwrap(),
            &EnabledKeys::new(&["a".into(), "b".into()], Compatibility::Trino),
        );
        assert_eq!(trino[1], Value::String(to_json(&engine)));
    }

    #[test]
    fn label_texts_parse_or_fail_as_trino_casts_them() {
        // Each text through koku's cast(json_parse(x) as map(varchar, varchar)). Trino 476
        // overturned two readings of the spec (§7.13): a repeated key is no error (the last
        // value wins), and a number's text is Trino's double-to-varchar form (1.5 -> "1.5E0").
        for text in [
            r#"{"a": "1", "b": "x y"}"#,
            "{}",
            r#"{"a": 1}"#,
            r#"{"a": 1.5, "b": 100.0, "c": 1e-4, "d": -0.0}"#,
            r#"{"a": true}"#,
            r#"{"é": "ü\u00e9"}"#,
            r#"{"a": "1", "a": "2", "b": "3", "a": "4"}"#,
            "",
            "not json",
            "[1]",
            r#""text""#,
            r#"{"a": {"b": "c"}}"#,
            r#"{"a": ["b"]}"#,
        ] {
            let sql = format!(
                "SELECT CAST(json_parse({}) AS map(varchar, varchar))",
                sql_string(text)
            );
            let trino = trino().rows("a label cast", &sql);
            let engine = parse_labels(text);
            match (&trino, &engine) {
                (Ok(rows), Ok(entries)) => {
                    let keys = EnabledKeys::Keep(entries.iter().map(|(k, _)| k.clone()).collect());
                    assert_eq!(
                        map_json(&rows[0][0]),
                        to_json(&filter_labels(entries, &keys)),
                        "{text:?}"
                    );
                }
                (Err(_), Err(_)) => {}
                _ => panic!("{text:?}: Trino {trino:?}, engine {engine:?}"),
            }
        }
    }

    /// The one label text on which the engine and Trino part: a `null` value. Trino keeps it as
    /// a NULL map value; the engine refuses the text as bad input (its label maps hold text).
    /// koku's ingest never writes one (spec §2.3), so no koku month has it; this test keeps the
    /// difference visible and fails the day either side changes.
    #[test]
    fn a_null_label_value_is_kept_by_trino_and_refused_by_the_engine() {
        let trino =
            row(r#"SELECT CAST(json_parse('{"a": null, "b": "2"}') AS map(varchar, varchar))"#);
        assert_eq!(trino[0], serde_json::json!({"a": null, "b": "2"}));
        assert!(parse_labels(r#"{"a": null, "b": "2"}"#).is_err());
    }

    #[test]
    fn the_label_lambda_reads_an_outer_column() {
        let trino = row(
            "SELECT map_filter(m, (k, v) -> contains(keys, k)) FROM (VALUES (MAP(ARRAY['a', \
             'b', 'vm_kubevirt_io_name'], ARRAY['1', '2', '3']), ARRAY['vm_kubevirt_io_name', \
             'a'])) AS t(m, keys)",
        );
        let engine = filter_labels(
            &parse_labels(r#"{"a": "1", "b": "2", "vm_kubevirt_io_name": "3"}"#).unwrap(),
            &EnabledKeys::new(&["a".into()], Compatibility::Trino),
        );
        assert_eq!(map_json(&trino[0]), to_json(&engine));
    }

    #[test]
    fn doubles_round_to_numeric_33_15_half_up_from_the_shortest_decimal() {
        // koku's statement 4 inserts doubles into numeric(33,15) columns through Trino's
        // PostgreSQL connector; Trino rounds with the cast double -> decimal(33,15).
        let values = [
            0.1 + 0.2,
            1.0 / 3.0,
            -2.0 / 3.0,
            5e-16,
            4.9e-16,
            -5e-16,
            1.5e-15,
            2.5e-15,
            123_456_789.123_456_79,
            1e17,
            0.000_123_456_789_012_345_67,
            7.000_000_000_000_001,
            1_234.567_890_123_456_7,
        ];
        let literals: Vec<String> = values.iter().map(|v| format!("DOUBLE '{v:e}'")).collect();
        let trino = row(&format!(
            "SELECT {}",
            literals
                .iter()
                .map(|l| format!("CAST(CAST({l} AS decimal(33, 15)) AS varchar)"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for (value, trino) in values.iter().zip(&trino) {
            let engine = Numeric::from_f64_in(*value, Compatibility::Trino).unwrap();
            assert_eq!(
                trino.as_str(),
                Some(engine.to_string().as_str()),
                "{value:e}"
            );
        }
        // A value over 18 integer digits does not fit: the whole statement fails, as koku's
        // insert does (spec §7.13), and the engine refuses it too.
        let refused = error("SELECT CAST(DOUBLE '1e18' AS decimal(33, 15))");
        assert!(
            refused.contains("Cannot cast DOUBLE '1.0E18' to DECIMAL(33, 15)"),
            "{refused}"
        );
        assert!(Numeric::from_f64_in(1e18, Compatibility::Trino).is_err());
    }

    #[test]
    fn doubles_inserted_into_numeric_33_15_through_the_postgresql_connector_round_as_the_engine_does(
    ) {
        // koku's statement 4 inserts the staging table's doubles into PostgreSQL's numeric(33,15)
        // columns through Trino's PostgreSQL connector (spec §3): the value PostgreSQL stores.
        let values = [
            0.1 + 0.2,
            1.0 / 3.0,
            -2.0 / 3.0,
            5e-16,
            -5e-16,
            2.5e-15,
            7.000_000_000_000_001,
        ];
        let table = format!("postgres.public.rounding_{}", uuid::Uuid::new_v4().simple());
        let session = trino();
        session
            .rows(
                "create",
                &format!("CREATE TABLE {table} (id integer, x decimal(33, 15))"),
            )
            .unwrap();
        let rows: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("({i}, DOUBLE '{v:e}')"))
            .collect();
        session
            .rows(
                "insert",
                &format!(
                    "INSERT INTO {table} SELECT * FROM (VALUES {}) AS t(id, x)",
                    rows.join(", ")
                ),
            )
            .unwrap();
        let stored = session
            .rows(
                "read",
                &format!("SELECT id, CAST(x AS varchar) FROM {table} ORDER BY id"),
            )
            .unwrap();
        assert_eq!(stored.len(), values.len());
        for (row, value) in stored.iter().zip(values) {
            let engine = Numeric::from_f64_in(value, Compatibility::Trino).unwrap();
            assert_eq!(
                row[1].as_str(),
                Some(engine.to_string().as_str()),
                "{value:e}"
            );
        }
        session
            .rows("drop", &format!("DROP TABLE {table}"))
            .unwrap();
    }

    #[test]
    fn timestamps_compare_with_date_literals_at_midnight() {
        // The window filter: interval_start >= DATE D0 AND interval_start < DATE D1 + 1 day.
        let trino = row(
            "SELECT TIMESTAMP '2026-09-01 00:00:00.000' >= DATE '2026-09-01', \
             TIMESTAMP '2026-08-31 23:59:59.999' >= DATE '2026-09-01', \
             TIMESTAMP '2026-09-02 23:59:59.999' < DATE '2026-09-02' + INTERVAL '1' DAY, \
             TIMESTAMP '2026-09-03 00:00:00.000' < DATE '2026-09-02' + INTERVAL '1' DAY",
        );
        let (from, to) = DayWindow::new(
            NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 9, 2).unwrap(),
        )
        .millis_range();
        let millis = |text: &str| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.3f")
                .unwrap()
                .and_utc()
                .timestamp_millis()
        };
        let engine = [
            millis("2026-09-01 00:00:00.000") >= from,
            millis("2026-08-31 23:59:59.999") >= from,
            millis("2026-09-02 23:59:59.999") < to,
            millis("2026-09-03 00:00:00.000") < to,
        ];
        assert_eq!(trino, engine.map(Value::Bool).to_vec());
        assert_eq!(engine, [true, false, true, false]);
    }

    #[test]
    fn greatest_with_a_null_argument_is_null() {
        let trino = row(
            "SELECT greatest(DOUBLE '7', CAST(NULL AS double)), greatest(DOUBLE '7', DOUBLE '9')",
        );
        assert_eq!(trino, vec![Value::Null, Value::from(9.0)]);
        // The effective-usage fallback, coalesce(effective, greatest(usage, request)).
        assert_eq!(Compatibility::Trino.greatest(Some(7.0), None), None);
        assert_eq!(
            Compatibility::Trino.greatest(Some(7.0), Some(9.0)),
            Some(9.0)
        );
    }

    #[test]
    fn like_has_no_escape_character() {
        let cases = [
            ("openshift-monitoring", "openshift-%"),
            ("openshift", "openshift-%"),
            ("kube_system", "kube_system"),
            ("kubexsystem", "kube_system"),
            (r"a\x", r"a\%"),
            ("a%", r"a\%"),
            (r"a\", r"a\"),
            ("Platform unallocated", "Platform unallocated"),
            ("OPENSHIFT-x", "openshift-%"),
        ];
        let trino = row(&format!(
            "SELECT {}",
            cases
                .iter()
                .map(|(v, p)| format!("{} LIKE {}", sql_string(v), sql_string(p)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for ((value, pattern), trino) in cases.iter().zip(&trino) {
            assert_eq!(
                trino,
                &Value::Bool(like_in(Compatibility::Trino, value, pattern)),
                "{value:?} LIKE {pattern:?}"
            );
        }
    }

    #[test]
    fn hours_divide_by_the_decimal_literal_in_double() {
        // x / 3600.0: the DECIMAL literal is coerced to double and divided (spec §7.1); for
        // 3, 6 and 12, x * (1 / 3600) differs in the last bit, so a multiplying engine fails.
        let values = [
            3.0,
            6.0,
            12.0,
            1.0e7 + 1.0,
            12_345.678_9,
            86_399.0,
            3.0e-5,
            7.0,
        ];
        assert!(values[..3].iter().all(|x| x / 3600.0 != x * (1.0 / 3600.0)));
        let trino = row(&format!(
            "SELECT {}",
            values
                .iter()
                .map(|v| format!("DOUBLE '{v:e}' / 3600.0, DOUBLE '{v:e}' * power(2, -30)"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for (i, value) in values.iter().enumerate() {
            assert_eq!(
                trino[2 * i].as_f64(),
                hours(Some(*value)),
                "{value} / 3600.0"
            );
            assert_eq!(
                trino[2 * i + 1].as_f64(),
                gib(Some(*value)),
                "{value} * 2^-30"
            );
        }
    }

    #[test]
    fn days_in_month_come_from_last_day_of_month() {
        for (date, days) in [("2024-02-10", 29), ("2026-02-01", 28), ("2026-09-30", 30)] {
            let trino = row(&format!("SELECT day(last_day_of_month(DATE '{date}'))"));
            let engine = days_in_month(NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap());
            assert_eq!(trino[0], Value::from(days), "{date}");
            assert_eq!(engine, days, "{date}");
        }
    }
}
