//! The engine's PostgreSQL source (koku's on-prem line-item tables, spec §9.1) gives the rows the
//! Parquet source gives for the same cluster: every fixture and generated clusters, loaded into
//! a real PostgreSQL by the harness's loader (`onprem_tables`), summarised from the tables and from
//! the Parquet they were loaded from, in both compatibilities, every row and column compared at
//! the engine's precision. Bad input in the tables (a missing table or column, a wrong type, a
//! label text Trino cannot parse) is bad input naming the table and the column.

use chrono::NaiveDate;
use ocp_engine::compat::Compatibility;
use ocp_engine::error::{Error, Problem};
use ocp_engine::postgres::quote_ident;
use ocp_engine::run::{Output, PostgresTarget, RunReport, RunRequest};
use ocp_harness::compare::assert_same_rows;
use ocp_harness::fixture::{fixture_files, Fixture};
use ocp_harness::onprem_tables::load_parquet_tree;
use ocp_harness::oracle::tables::HIVE_TABLES;
use ocp_harness::scenario::{run_quietly, Scenario};
use ocp_harness::synth::{generate, Scale};
use ocp_testkit as testkit;
use tokio_postgres::Client;

/// A scenario's cluster loaded into the on-prem tables of a fresh schema.
struct Loaded {
    scenario: Scenario,
    client: Client,
    schema: String,
    /// The days to run, when not the whole model.
    window: Option<(NaiveDate, NaiveDate)>,
}

impl Loaded {
    async fn new(scenario: Scenario, prefix: &str) -> Loaded {
        let (client, schema) = testkit::postgres::fresh_schema(prefix).await;
        let loaded = load_parquet_tree(&client, scenario.root(), &scenario.model.account, &schema)
            .await
            .unwrap_or_else(|e| panic!("{prefix}: loading the on-prem tables failed: {e}"));
        assert!(
            loaded.iter().any(|t| t.rows > 0),
            "{prefix}: nothing was loaded: {loaded:?}"
        );
        Loaded {
            scenario,
            client,
            schema,
            window: None,
        }
    }

    /// The scenario's request reading the Parquet, in `compat`.
    fn reading_parquet(&self, compat: Compatibility) -> RunRequest {
        let request = self.scenario.request();
        let (start, end) = self.window.unwrap_or((request.start, request.end));
        RunRequest {
            compatibility: compat,
            start,
            end,
            ..request
        }
    }

    /// The same request reading the on-prem tables of the schema instead; rows to a file.
    fn reading_postgres(&self, compat: Compatibility) -> RunRequest {
        let url = testkit::postgres::server_url().to_string();
        RunRequest {
            location: url.clone(),
            postgres: Some(PostgresTarget {
                url,
                schema: self.schema.clone(),
            }),
            output: Output::File(self.scenario.path("from_postgres.parquet")),
            ..self.reading_parquet(compat)
        }
    }

    fn table(&self, name: &str) -> String {
        format!("{}.{}", quote_ident(&self.schema), name)
    }

    /// `schema.table` as the engine names it in errors.
    fn named(&self, name: &str) -> String {
        format!("{}.{}", self.schema, name)
    }
}

/// Runs both sources in both compatibilities and requires the same rows, every column.
async fn assert_sources_agree(loaded: &Loaded, case: &str) -> RunReport {
    let mut last = None;
    for compat in Compatibility::ALL {
        let parquet = run_quietly(&loaded.reading_parquet(compat))
            .await
            .unwrap_or_else(|e| panic!("{case} ({compat}): the Parquet run failed: {e}"));
        let postgres = run_quietly(&loaded.reading_postgres(compat))
            .await
            .unwrap_or_else(|e| panic!("{case} ({compat}): the PostgreSQL run failed: {e}"));
        assert!(
            !parquet.rows.is_empty(),
            "{case} ({compat}): the cluster gave no rows, so nothing was compared"
        );
        assert_eq!(
            parquet.effective_start, postgres.effective_start,
            "{case} ({compat}): the first day with data differs"
        );
        assert_same_rows(
            &postgres,
            &parquet,
            &format!("{case} ({compat}): PostgreSQL source against Parquet source"),
        );
        // A table is read (one "file") exactly when the Parquet folder has files.
        for ((table, files), (_, read)) in parquet
            .files_per_table
            .iter()
            .zip(&postgres.files_per_table)
        {
            assert_eq!(
                *read,
                usize::from(*files > 0),
                "{case} ({compat}): {table}: {files} Parquet files but {read} tables read"
            );
        }
        last = Some(postgres);
    }
    last.expect("two compatibilities ran")
}

#[tokio::test]
async fn every_fixture_reads_the_same_from_postgres_as_reading_parquet() {
    let files = fixture_files();
    assert!(files.len() >= 20, "found only {} fixtures", files.len());
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let fixture = Fixture::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let scenario = Scenario::write(fixture.model()).expect("the fixture's files are written");
        let loaded = Loaded::new(scenario, &format!("onprem_{name}")).await;
        assert_sources_agree(&loaded, &name).await;
    }
}

#[tokio::test]
async fn generated_clusters_read_the_same_from_postgres_as_reading_parquet() {
    let cases = [
        (Scale::Tiny, 1),
        (Scale::Tiny, 2),
        (Scale::Tiny, 3),
        (Scale::Typical, 42),
    ];
    for (scale, seed) in cases {
        let case = format!("{scale} seed {seed}");
        let scenario = Scenario::write(generate(scale, seed)).expect("written");
        let loaded = Loaded::new(scenario, "onprem_generated").await;
        let report = assert_sources_agree(&loaded, &case).await;
        if scale == Scale::Typical {
            // The typical month has Pod, Storage and unallocated rows: all three were compared.
            let kinds: Vec<&str> = report
                .rows_per_data_source
                .iter()
                .map(|(k, _)| *k)
                .collect();
            assert_eq!(kinds.len(), 2, "{case}: {kinds:?}");
            assert!(
                report.rows.iter().any(|r| r
                    .namespace
                    .as_deref()
                    .is_some_and(|n| n.ends_with(" unallocated"))),
                "{case}: no unallocated row"
            );
        }
    }
}

#[tokio::test]
async fn rows_of_another_source_or_outside_the_days_are_not_read() {
    let scenario = Scenario::write(generate(Scale::Tiny, 7)).expect("written");
    let mut loaded = Loaded::new(scenario, "onprem_filter").await;
    // Every row again under another source: read, they would double every sum.
    for table in HIVE_TABLES.iter().map(|t| t.name) {
        let t = loaded.table(table);
        loaded
            .client
            .batch_execute(&format!(
                "CREATE TEMP TABLE other AS SELECT * FROM {t}; \
                 UPDATE other SET source = 'another-source', id = gen_random_uuid(); \
                 INSERT INTO {t} SELECT * FROM other; DROP TABLE other;"
            ))
            .await
            .unwrap_or_else(|e| panic!("copying {table} to another source: {e}"));
    }
    let (first, last) = (
        loaded.scenario.model.first_date(),
        loaded.scenario.model.last_date(),
    );
    assert!(first < last, "the tiny month has more than one day");
    // All days, then a run that leaves the last day out (its rows are in the tables).
    assert_sources_agree(&loaded, "tiny seed 7 beside another source").await;
    loaded.window = Some((first, last.pred_opt().expect("a day before")));
    assert_sources_agree(&loaded, "tiny seed 7 without its last day").await;
}

/// Runs from the tables and returns the bad-input problem, failing on any other outcome.
async fn input_problem(loaded: &Loaded) -> Problem {
    match run_quietly(&loaded.reading_postgres(Compatibility::Postgres)).await {
        Err(error @ Error::Input { .. }) => {
            let problem = error
                .problem()
                .expect("an input error has a problem")
                .clone();
            for place in Error::place(&problem) {
                assert!(
                    error.to_string().contains(place),
                    "the message does not name {place:?}: {error}"
                );
            }
            problem
        }
        Err(other) => panic!("expected bad input, got {} : {other}", other.kind()),
        Ok(report) => panic!("expected bad input, got {} rows", report.rows.len()),
    }
}

#[tokio::test]
async fn bad_tables_are_bad_input_naming_table_and_column() {
    let scenario = Scenario::write(generate(Scale::Tiny, 11)).expect("written");
    let loaded = Loaded::new(scenario, "onprem_bad").await;
    let daily = "openshift_pod_usage_line_items_daily";
    let exec = |sql: String| {
        let client = &loaded.client;
        async move {
            client
                .batch_execute(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        }
    };

    let table = loaded.table(daily);
    // Each break stays for the next, so every later case has the earlier ones under it: a label
    // text Trino's json_parse refuses, a metric column of the wrong type, a needed column missing.
    let breaks = [
        (
            format!(
                "UPDATE {table} SET pod_labels = '{{\"app\": ' \
                 WHERE ctid = (SELECT min(ctid) FROM {table})"
            ),
            "pod_labels",
        ),
        (
            format!("ALTER TABLE {table} ALTER COLUMN pod_request_cpu_core_seconds TYPE numeric"),
            "pod_request_cpu_core_seconds",
        ),
        (
            format!("ALTER TABLE {table} DROP COLUMN pod_request_cpu_core_seconds"),
            "pod_request_cpu_core_seconds",
        ),
    ];
    for (sql, column) in breaks {
        exec(sql).await;
        assert_eq!(
            input_problem(&loaded).await,
            Problem::Column {
                file: loaded.named(daily),
                column: column.into()
            }
        );
    }

    // No daily pod or storage table at all: no data, naming the table looked in.
    exec(format!(
        "DROP TABLE {}; DROP TABLE {}",
        loaded.table(daily),
        loaded.table("openshift_storage_usage_line_items_daily")
    ))
    .await;
    match input_problem(&loaded).await {
        Problem::NoData { searched } => assert!(
            searched.contains(&loaded.named(daily)),
            "the message should name {daily}: {searched}"
        ),
        other => panic!("expected no data, got {other:?}"),
    }
}

#[tokio::test]
async fn a_source_without_rows_in_the_month_is_no_data() {
    let scenario = Scenario::write(generate(Scale::Tiny, 12)).expect("written");
    let loaded = Loaded::new(scenario, "onprem_nodata").await;
    for table in [
        "openshift_pod_usage_line_items_daily",
        "openshift_storage_usage_line_items_daily",
    ] {
        loaded
            .client
            .batch_execute(&format!("TRUNCATE {}", loaded.table(table)))
            .await
            .expect("truncated");
    }
    assert!(matches!(
        input_problem(&loaded).await,
        Problem::NoData { .. }
    ));
}

#[tokio::test]
async fn without_a_storage_table_there_are_no_storage_rows_as_without_storage_files() {
    let scenario = Scenario::write(generate(Scale::Tiny, 13)).expect("written");
    let loaded = Loaded::new(scenario, "onprem_nostorage").await;
    let before = run_quietly(&loaded.reading_postgres(Compatibility::Trino))
        .await
        .expect("the full run");
    assert!(
        before
            .rows_per_data_source
            .iter()
            .any(|(k, n)| *k == "Storage" && *n > 0),
        "the tiny cluster should have Storage rows: {:?}",
        before.rows_per_data_source
    );
    loaded
        .client
        .batch_execute(&format!(
            "DROP TABLE {}",
            loaded.table("openshift_storage_usage_line_items_daily")
        ))
        .await
        .expect("dropped");
    let after = run_quietly(&loaded.reading_postgres(Compatibility::Trino))
        .await
        .expect("a run without the storage table");
    assert!(
        after
            .rows_per_data_source
            .iter()
            .all(|(k, _)| *k != "Storage"),
        "{:?}",
        after.rows_per_data_source
    );
    let pods = |r: &RunReport| {
        r.rows
            .iter()
            .filter(|row| row.data_source.as_str() == "Pod")
            .count()
    };
    assert_eq!(pods(&after), pods(&before));
    assert!(pods(&after) > 0);
}
