//! A tenant schema holding one good run's rows, and ways to break koku's Parquet under it: the
//! machinery `bad_input` and `faults_parquet` share.
//!
//! A [`Case`] writes a model as koku's Parquet, runs the engine once into a fresh schema (catalog
//! inline), and keeps that run's report (the rows the unbroken input gives) and what PostgreSQL
//! then holds. A suite breaks the Parquet, runs again, and either compares the rows with the good
//! run's or checks with [`Case::assert_rejected`] that the run is bad input of one kind, its
//! message naming the place, and that PostgreSQL is exactly as the good run left it.
//!
//! The suites include this file as `mod common { pub mod case; }`, not through `common/mod.rs`
//! (whose helpers are `pod_rows`'), so that each compiles only what it shares.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use ocp_engine::error::{Error, Problem};
use ocp_engine::postgres::quote_ident;
use ocp_engine::run::{CatalogSource, Output, PostgresTarget, RunReport, RunRequest};
use ocp_harness::koku_catalog::write_model_catalog;
use ocp_harness::scenario::{run_quietly, Scenario};
use ocp_harness::synth::model::GIB;
use ocp_harness::synth::parquet_writer::{file_name, MANIFEST_ID};
use ocp_harness::synth::{
    koku_tables_for_day, table_dir, to_record_batch, write_batch, write_cluster, ClaimModel,
    ClusterModel, KokuRow, KokuTables, LabelPeriod, NamespaceModel, NodeModel, PodModel,
    VolumeModel,
};
use ocp_testkit as testkit;
use tokio_postgres::Client;

const SUMMARY: &str = "reporting_ocpusagelineitem_daily_summary";
const RUNS: &str = "ocp_engine_runs";

/// What a failed run must leave alone: the month's rows (every column, as text, checksummed),
/// the nodes and clusters the runs recorded, and the run records; with the counts the
/// concurrency cases check.
#[derive(Debug, PartialEq)]
pub struct MonthState {
    /// Rows of the summary table.
    pub rows: i64,
    /// Rows sharing their group (data source, day, namespace, node, claim, volume, labels)
    /// with another: two runs' months side by side.
    pub duplicate_rows: i64,
    /// `reporting_ocp_nodes` rows of a node already recorded.
    pub duplicate_nodes: i64,
    /// `ocp_engine_runs` rows.
    pub runs: i64,
    /// md5 of the summary, node and cluster rows, each as its text, in order.
    checksum: String,
}

impl MonthState {
    /// The state of tenant `schema` (koku's tables and `ocp_engine_runs`).
    pub async fn read(client: &Client, schema: &str) -> MonthState {
        let q = quote_ident(schema);
        let row = client
            .query_one(
                &format!(
                    "SELECT \
                     (SELECT count(*) FROM {q}.{SUMMARY}), \
                     (SELECT count(*) - count(DISTINCT (data_source, usage_start, namespace, \
                        node, persistentvolumeclaim, persistentvolume, pod_labels::text, \
                        volume_labels::text)) FROM {q}.{SUMMARY}), \
                     (SELECT count(*) - count(DISTINCT (node, resource_id, cluster_id)) \
                        FROM {q}.reporting_ocp_nodes), \
                     (SELECT count(*) FROM {q}.{RUNS}), \
                     md5(concat_ws('|', \
                        (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM {q}.{SUMMARY} t), \
                        (SELECT string_agg(t::text, ';' ORDER BY t::text) \
                           FROM {q}.reporting_ocp_nodes t), \
                        (SELECT string_agg(t::text, ';' ORDER BY t::text) \
                           FROM {q}.reporting_ocp_clusters t)))"
                ),
                &[],
            )
            .await
            .unwrap_or_else(|e| panic!("read the month's state in {schema}: {e}"));
        MonthState {
            rows: row.get(0),
            duplicate_rows: row.get(1),
            duplicate_nodes: row.get(2),
            runs: row.get(3),
            checksum: row.get(4),
        }
    }
}

/// A written model and a tenant schema holding one good run's rows.
pub struct Case {
    pub scenario: Scenario,
    /// The good run: the rows the unbroken input gives.
    pub good: RunReport,
    request: RunRequest,
    client: Client,
    schema: String,
    before: MonthState,
}

impl Case {
    /// Writes `model`, creates a fresh schema (named after `prefix`) and runs the engine into it
    /// once, the catalog given inline.
    pub async fn new(prefix: &str, model: ClusterModel) -> Case {
        Case::build(prefix, model, false).await
    }

    /// As [`Case::new`], with the catalog in koku's tables of the schema, as at a site: the
    /// runs read it there, and see the nodes earlier runs recorded.
    pub async fn with_koku_catalog(prefix: &str, model: ClusterModel) -> Case {
        Case::build(prefix, model, true).await
    }

    async fn build(prefix: &str, model: ClusterModel, koku_catalog: bool) -> Case {
        let scenario = Scenario::write(model).expect("write the scenario");
        let (client, schema) = testkit::fresh_schema(prefix).await;
        let mut request = postgres_request(&scenario, &schema);
        if koku_catalog {
            write_model_catalog(&client, &schema, &scenario.model)
                .await
                .expect("write the model's catalog");
            request.catalog = CatalogSource::Postgres;
        }
        let good = run_quietly(&request)
            .await
            .unwrap_or_else(|e| panic!("the good run into {schema} fails: {e}"));
        assert!(!good.rows.is_empty(), "the good run writes rows");
        let before = MonthState::read(&client, &schema).await;
        assert_eq!(before.rows, good.rows.len() as i64);
        assert_eq!(before.runs, 1);
        Case {
            scenario,
            request,
            good,
            client,
            schema,
            before,
        }
    }

    /// The good run's request: the whole model, rows to the case's schema.
    pub fn request(&self) -> RunRequest {
        self.request.clone()
    }

    /// The tenant schema holding the good run's rows.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The case's own session on the tests' server.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Asserts PostgreSQL holds exactly what the good run left: after `what` failed, the month,
    /// its nodes and clusters, and the run records are unchanged.
    pub async fn assert_unchanged(&self, what: &str) {
        assert_eq!(
            MonthState::read(&self.client, &self.schema).await,
            self.before,
            "{what} leaves PostgreSQL as the good run left it"
        );
    }

    /// Runs `request`, asserts bad input of kind `expected` (whose message names its place:
    /// [`Error::place`]), and that PostgreSQL is as the good run left it. Returns the message,
    /// for a test whose rule is also what the message says.
    pub async fn assert_rejected(&self, request: &RunRequest, expected: Problem) -> String {
        let message = match run_quietly(request).await {
            Err(Error::Input { problem, message }) => {
                assert_eq!(problem, expected, "{message}");
                for place in Error::place(&problem) {
                    assert!(message.contains(place), "{place:?} missing from: {message}");
                }
                message
            }
            Err(other) => panic!("expected bad input ({expected:?}), got {other:?}"),
            Ok(report) => panic!(
                "expected bad input ({expected:?}), the run wrote {} rows",
                report.rows.len()
            ),
        };
        self.assert_unchanged("a rejected run").await;
        message
    }

    /// The folder of one of koku's tables (`report_type`, daily or hourly) for the model's
    /// source and month.
    pub fn dir(&self, report_type: &str, daily: bool) -> PathBuf {
        let model = &self.scenario.model;
        table_dir(
            self.scenario.root(),
            &model.account,
            &model.source_uuid,
            report_type,
            daily,
            model.year,
            model.month,
        )
    }

    /// The file the model's day index `day` has in that table.
    pub fn file(&self, report_type: &str, daily: bool, day: u32) -> PathBuf {
        let date = self.scenario.model.date(day);
        self.dir(report_type, daily)
            .join(file_name(report_type, date, MANIFEST_ID, daily))
    }

    /// Replaces the first day's file of one daily or hourly table (`rows` picks the table from
    /// the day's [`KokuTables`]) with its batch passed through `change`; returns the file's path.
    pub fn rewrite<R: KokuRow>(
        &self,
        rows: fn(KokuTables) -> Vec<R>,
        change: impl FnOnce(RecordBatch) -> RecordBatch,
    ) -> String {
        let path = self.file(R::REPORT_TYPE, R::DAILY, 0);
        let batch = to_record_batch(&rows(koku_tables_for_day(&self.scenario.model, 0)));
        write_batch(&path, &change(batch)).expect("rewrite the file");
        path.to_string_lossy().into_owned()
    }

    /// Writes every file of the model again, undoing earlier breakage (files a case added are
    /// the case's to remove).
    pub fn restore(&self) {
        write_cluster(&self.scenario.model, self.scenario.root()).expect("restore the files");
    }
}

/// The whole model of `scenario`, catalog inline, rows to `schema`.
pub fn postgres_request(scenario: &Scenario, schema: &str) -> RunRequest {
    let mut request = scenario.request();
    request.output = Output::Postgres;
    request.postgres = Some(PostgresTarget {
        url: testkit::server_url().to_string(),
        schema: schema.to_string(),
    });
    request
}

/// The bad-input suites' month: three days, 2026-03-10 to 12, so that one lies between two others: a labelled node, a
/// labelled namespace, one pod running every hour with usage and requests, and a claim that pod
/// mounts on a volume, so a good run writes Pod, Storage and unallocated rows every day. Every
/// metric is a whole number (0.5 core × 3600 s = 1800 core-seconds an hour), so an integer copy
/// of a metric column holds the same values.
pub fn small_month() -> ClusterModel {
    let mut model = ClusterModel::empty(2026, 3, 10, 12);
    model.enabled_tag_keys = vec!["app".to_string()];
    model.nodes = vec![NodeModel {
        name: "node-a".to_string(),
        resource_id: "i-0aaa".to_string(),
        cpu_cores: 4.0,
        memory_bytes: 16.0 * GIB,
        labels: vec![LabelPeriod::new(0, &[("zone", "east")])],
    }];
    model.namespaces = vec![NamespaceModel {
        name: "shop".to_string(),
        labels: vec![LabelPeriod::new(0, &[("app", "shop")])],
    }];
    let hours: Vec<u32> = (0..model.num_hours()).collect();
    let mut web = PodModel::new("web-1", "shop", "node-a", hours.clone());
    web.labels = vec![("app".to_string(), "web".to_string())];
    web.cpu_usage_cores = 0.5;
    web.cpu_request_cores = 1.0;
    web.memory_usage_bytes = GIB;
    model.pods = vec![web];
    model.volumes = vec![VolumeModel::new("pv-data", 10.0 * GIB)];
    let mut claim = ClaimModel::new("data", "shop", "pv-data", &["web-1"], hours);
    claim.capacity_bytes = 10.0 * GIB;
    claim.usage_bytes = 2.0 * GIB;
    model.claims = vec![claim];
    model
}

/// The model without volumes: koku then has no storage table, and pod usage is the month's only
/// daily data.
pub fn small_month_without_volumes() -> ClusterModel {
    let mut model = small_month();
    model.volumes.clear();
    model.claims.clear();
    model
}

/// `batch` with column `name` replaced by `column` (its field takes the new type).
pub fn replaced(batch: RecordBatch, name: &str, column: ArrayRef) -> RecordBatch {
    let schema = batch.schema();
    let index = schema.index_of(name).expect("the column exists");
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields[index] = Field::new(name, column.data_type().clone(), true);
    let mut columns = batch.columns().to_vec();
    columns[index] = column;
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("a consistent batch")
}

/// `batch` with column `name` cast to `data_type` (values that do not convert become NULL).
pub fn retyped(name: &str, data_type: DataType) -> impl FnOnce(RecordBatch) -> RecordBatch + '_ {
    move |batch| {
        let column = batch.column_by_name(name).expect("the column exists");
        let column = cast(column, &data_type).expect("the cast is supported");
        replaced(batch, name, column)
    }
}
