//! Golden snapshots: every fixture under `fixtures/` run through the engine, its rows in the text
//! form of [`render_rows`] compared with `golden/<fixture>.snap`.
//!
//! A snapshot is right because a reviewer checked it against the fixture's `expect:` block and
//! description, which give the expected figures from the spec (the block is checked by machine in
//! `expectations.rs`); the snapshot then guards every other column too. A change of output is
//! reviewed with `cargo insta review` (or `INSTA_UPDATE=always` and `git diff golden/`).
//!
//! Every fixture is also run through the reference query (DuckDB oracle), which must agree, in
//! Trino and in every koku variant the fixture's `expect:` block names: a snapshot accepted by
//! mistake would have to fool the oracle too. So must the Parquet file each run writes (its
//! `summary.parquet`, read back): what a site's `--out` file holds is held to the oracle as the
//! run's own rows are. The hand-computed `expect:` blocks themselves are checked by
//! `expectations.rs`.

use std::collections::BTreeMap;
use std::fs::File;

use ocp_engine::compat::Compatibility;
use ocp_engine::run::Output;
use ocp_engine::sink::file::CSV_NULL;
use ocp_harness::compare::{compare, ComparableRow, Tolerance};
use ocp_harness::fixture::{fixture_files, render_rows, Fixture};
use ocp_harness::oracle::duckdb::{summary_rows_in, summary_rows_of};
use ocp_harness::oracle::{DuckDbOracle, Oracle, QueryParams};
use ocp_harness::scenario::{run_quietly, Scenario};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use regex::Regex;

#[tokio::test]
async fn every_fixture_matches_its_golden_rows() {
    let files = fixture_files();
    assert!(
        files.len() >= 9,
        "expected the fixtures of the spec's rules, found {}",
        files.len()
    );
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let fixture = Fixture::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let scenario = Scenario::write(fixture.model()).expect("the fixture's files are written");
        let report = scenario
            .run()
            .await
            .unwrap_or_else(|e| panic!("fixture {name}: the engine failed: {e}"));
        insta::with_settings!({
            snapshot_path => "../../golden",
            prepend_module_to_snapshot => false,
            description => fixture.description.clone(),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, render_rows(&report.rows));
        });
    }
}

/// The koku variants a fixture is compared with the reference query in: Trino, and those its
/// `expect:` block names (a fixture moved from a PostgreSQL-port hand case keeps its oracle check).
fn oracle_variants(fixture: &Fixture) -> Vec<Compatibility> {
    let mut variants = fixture.compatibilities();
    if !variants.contains(&Compatibility::Trino) {
        variants.insert(0, Compatibility::Trino);
    }
    variants
}

#[tokio::test]
async fn every_fixture_agrees_with_the_reference_query() {
    let oracle = DuckDbOracle::locate().expect("the DuckDB CLI (just oracle-setup)");
    for path in fixture_files() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let fixture = Fixture::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let scenario = Scenario::write(fixture.model()).expect("the fixture's files are written");
        for compatibility in oracle_variants(&fixture) {
            let mut request = scenario.request();
            request.compatibility = compatibility;
            let report = run_quietly(&request).await.unwrap_or_else(|e| {
                panic!("fixture {name} ({compatibility}): the engine failed: {e}")
            });
            let written = summary_rows_in(&scenario.path("summary.parquet"))
                .unwrap_or_else(|e| panic!("fixture {name} ({compatibility}): {e}"));
            let params =
                QueryParams::from_request(&request).expect("a local folder, inline catalog");
            let expected = oracle.run(&params).unwrap_or_else(|e| {
                panic!("fixture {name} ({compatibility}): the oracle failed: {e}")
            });
            // The run's own count of rows per data source (its report and `ocp_engine_runs`)
            // is the oracle's.
            let mut oracle_counts: BTreeMap<&str, usize> = BTreeMap::new();
            for row in &expected.rows {
                *oracle_counts.entry(&row.key.data_source).or_default() += 1;
            }
            let reported: BTreeMap<&str, usize> =
                report.rows_per_data_source.iter().copied().collect();
            assert_eq!(reported, oracle_counts, "fixture {name} ({compatibility})");
            for (engine, what) in [
                (ComparableRow::of_run(&report), "the run's rows"),
                (written, "the file the run wrote"),
            ] {
                let comparison = compare(&engine, &expected.rows, &Tolerance::ENGINE_PRECISION);
                assert!(
                    comparison.within_tolerance(),
                    "fixture {name} ({compatibility}): {what} and the reference query differ: \
                     {:#?}",
                    comparison.verdict
                );
            }
        }
    }
}

/// `--out x.csv` writes the rows `--out x.parquet` writes: every fixture's run into each, the CSV
/// read back with the Parquet file's column types (koku's decimals, dates and text) and its NULL
/// marker, both compared at the engine's precision. The claimless-volume fixture holds '' and
/// NULL text in one row (namespace and claim '', node NULL), which an empty field for NULL would
/// have merged.
#[tokio::test]
async fn every_fixtures_csv_output_holds_its_parquet_rows() {
    for path in fixture_files() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let fixture = Fixture::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let scenario = Scenario::write(fixture.model()).expect("the fixture's files are written");
        let parquet = scenario.path("summary.parquet");
        let csv = scenario.path("summary.csv");
        let mut request = scenario.request();
        for out in [&parquet, &csv] {
            request.output = Output::File(out.clone());
            run_quietly(&request)
                .await
                .unwrap_or_else(|e| panic!("fixture {name} into {}: {e}", out.display()));
        }
        let from_parquet = summary_rows_in(&parquet).expect("the Parquet output reads");
        let schema = ParquetRecordBatchReaderBuilder::try_new(File::open(&parquet).unwrap())
            .expect("a Parquet file")
            .schema()
            .clone();
        let null = Regex::new(&format!("^{}$", regex::escape(CSV_NULL))).unwrap();
        let reader = arrow::csv::ReaderBuilder::new(schema)
            .with_header(true)
            .with_null_regex(null)
            .build(File::open(&csv).expect("the CSV output exists"))
            .expect("a CSV reader");
        let mut from_csv = Vec::new();
        for batch in reader {
            let batch = batch.unwrap_or_else(|e| panic!("fixture {name}: the CSV reads: {e}"));
            from_csv.extend(summary_rows_of(&batch).expect("koku's columns"));
        }
        assert!(!from_parquet.is_empty(), "fixture {name} wrote no rows");
        let comparison = compare(&from_csv, &from_parquet, &Tolerance::ENGINE_PRECISION);
        assert!(
            comparison.within_tolerance(),
            "fixture {name}: the CSV and Parquet outputs differ: {:#?}",
            comparison.verdict
        );
    }
}
