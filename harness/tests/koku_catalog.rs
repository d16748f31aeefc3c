//! The harness's writer of koku's catalog (`koku_catalog::write_model_catalog`, behind
//! `ocp-harness generate --to-postgres` and the Python package's tests) puts a cluster's catalog
//! into koku's tables so that the engine, reading it from PostgreSQL, computes exactly what it
//! computes with the same catalog given inline: every fixture and the typical month, every row
//! and column compared at the engine's precision.

use ocp_engine::run::{CatalogSource, Output, PostgresTarget, RunRequest};
use ocp_harness::compare::assert_same_rows;
use ocp_harness::fixture::{fixture_files, Fixture};
use ocp_harness::koku_catalog::write_model_catalog;
use ocp_harness::scenario::{run_quietly, Scenario};
use ocp_harness::synth::{generate, Scale};
use ocp_testkit as testkit;

/// Runs `scenario` with its inline catalog and with the catalog written into a fresh schema, and
/// requires the same rows; returns how many rows were compared.
async fn assert_catalogs_agree(scenario: &Scenario, case: &str) -> usize {
    let (client, schema) = testkit::postgres::fresh_schema("catalog").await;
    let report_period = write_model_catalog(&client, &schema, &scenario.model)
        .await
        .unwrap_or_else(|e| panic!("{case}: writing the catalog failed: {e}"));
    let inline = scenario.request();
    let from_tables = RunRequest {
        catalog: CatalogSource::Postgres,
        postgres: Some(PostgresTarget {
            url: testkit::postgres::server_url().to_string(),
            schema,
        }),
        // Looked up in the report period written, as at a site.
        report_period_id: None,
        output: Output::File(scenario.path("from_catalog.parquet")),
        ..inline.clone()
    };
    let expected = run_quietly(&inline)
        .await
        .unwrap_or_else(|e| panic!("{case}: the inline run failed: {e}"));
    let got = run_quietly(&from_tables)
        .await
        .unwrap_or_else(|e| panic!("{case}: the run on koku's tables failed: {e}"));
    assert_eq!(got.constants.report_period_id, report_period, "{case}");
    assert_same_rows(
        &got,
        &expected,
        &format!("{case}: catalog from koku's tables against inline"),
    )
}

#[tokio::test]
async fn the_written_catalog_gives_the_rows_of_the_inline_one() {
    let mut compared = 0;
    let files = fixture_files();
    for path in &files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let fixture = Fixture::load(path).unwrap_or_else(|e| panic!("{e}"));
        let scenario = Scenario::write(fixture.model()).expect("the fixture's files are written");
        compared += assert_catalogs_agree(&scenario, &name).await;
    }
    let typical = generate(Scale::Typical, 42);
    // The typical month has what the catalog decides: enabled keys, cost categories, and
    // recorded nodes with roles, of its own cluster and of another.
    assert!(!typical.enabled_tag_keys.is_empty() && !typical.cost_category_patterns.is_empty());
    assert!(typical
        .existing_nodes
        .iter()
        .any(|n| n.cluster_id.as_deref() == Some(typical.cluster_id.as_str())));
    let scenario = Scenario::write(typical).expect("written");
    let typical_rows = assert_catalogs_agree(&scenario, "typical").await;
    assert!(
        typical_rows > 1000,
        "typical compared only {typical_rows} rows"
    );
    assert!(
        compared > 100,
        "the {} fixtures compared only {compared} rows",
        files.len()
    );
}
