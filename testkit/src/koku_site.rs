//! koku's tables for one run, on the local Trino ([`super::trino`]) and the tests' PostgreSQL,
//! as a koku site has them when its summary script starts: what `--oracle trino` and `--oracle
//! koku-trino` then read as they would at a site.
//!
//! [`KokuSite::load`] for one run's [`QueryParams`] (a local folder of koku's Parquet and an
//! inline catalog):
//! 1. **PostgreSQL.** A fresh schema holding the catalog tables the script reads through Trino's
//!    PostgreSQL connector, made by the same statements the embedded oracle runs in DuckDB
//!    ([`catalog_tables_sql`]): `reporting_enabledtagkeys`,
//!    `reporting_ocp_cost_category_namespace` and `reporting_ocp_nodes` (the rows before the
//!    run; `cluster_id` holds the OpenShift cluster id where koku has a foreign key, which the
//!    script does not read).
//! 2. **Hive.** A schema of the same name in the `hive` catalog and koku's line-item tables
//!    created through Trino as koku creates them ([`HiveTable::trino_ddl`]): external Parquet
//!    tables over the scenario's folders, partitioned by source, year and month, partitions
//!    registered with `CALL system.sync_partition_metadata(…, 'FULL')`. The storage table exists
//!    only when its folder holds a file (koku's `storage_exists`); a table without files is
//!    created over an empty folder of the server's, as koku's are created before a source sends
//!    that report.
//! 3. **koku's node step** (spec §6.4), before the summary as koku runs it: the node query
//!    (`reference_node_roles.sql`) on Trino, its rows merged into `reporting_ocp_nodes` in
//!    PostgreSQL by `populate_ocp_nodes.sql` (first role wins), the statements the embedded
//!    oracle runs in DuckDB.
//!
//! Schemas are named `<tenant schema>_<8 hex digits>` so that tests running at once never share
//! one; they are not dropped (the servers vanish with the test process).
//! [`KokuSite::write_staging`] fills koku's Hive staging table for `--oracle koku-trino`.

use std::path::Path;

use serde_json::Value;
use tokio_postgres::NoTls;

use crate::postgres::server_url;
use crate::trino::local_trino;
use ocp_harness::oracle::query::{render, sql_identifier, sql_string};
use ocp_harness::oracle::settings::{TrinoSection, TrinoSettings};
use ocp_harness::oracle::tables::{catalog_tables_sql, storage_exists, HiveTable, HIVE_TABLES};
use ocp_harness::oracle::trino::{qualify, Places};
use ocp_harness::oracle::{
    QueryParams, TrinoSession, POPULATE_OCP_NODES_SQL, REFERENCE_NODE_ROLES_SQL,
    REFERENCE_SUMMARY_SQL,
};

/// koku's Hive staging table of the summary rows (spec §3 statement 1).
const STAGING_TABLE: &str = "reporting_ocpusagelineitem_daily_summary";

/// One run's koku tables on the local Trino and PostgreSQL (see the module documentation).
pub struct KokuSite {
    /// The schema name in both the `hive` and the `postgres` catalog (and in PostgreSQL).
    schema: String,
    settings: TrinoSettings,
    session: TrinoSession,
    storage_exists: bool,
}

impl KokuSite {
    /// Loads koku's tables for `params` (see the module documentation); starts the local Trino
    /// and PostgreSQL on first use.
    ///
    /// Blocking (it drives PostgreSQL on a runtime of its own): call it outside an async
    /// runtime. Errors say which step failed, with Trino's or PostgreSQL's words.
    pub fn load(params: &QueryParams) -> Result<KokuSite, String> {
        let trino = local_trino();
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let schema = sql_identifier(&format!("{}_{}", params.schema, &suffix[..8]))
            .map_err(|e| e.to_string())?
            .to_lowercase();
        let settings = TrinoSettings::resolve(TrinoSection {
            url: Some(trino.url().to_string()),
            user: Some("ocp-test".to_string()),
            hive_schema: Some(schema.clone()),
            postgres_schema: Some(schema.clone()),
            ..TrinoSection::default()
        })
        .map_err(|e| e.to_string())?;
        let session = TrinoSession::open(settings.clone()).map_err(|e| e.to_string())?;
        let site = KokuSite {
            storage_exists: storage_exists(params).map_err(|e| e.to_string())?,
            schema,
            settings,
            session,
        };
        site.load_catalog(params)?;
        site.create_hive_tables(params, &trino.scratch())?;
        site.replay_node_step(params)?;
        Ok(site)
    }

    /// The settings that point a Trino oracle at these tables.
    pub fn settings(&self) -> TrinoSettings {
        self.settings.clone()
    }

    /// A statement session on the local Trino, unqualified names in this site's Hive schema.
    pub fn session(&self) -> &TrinoSession {
        &self.session
    }

    /// Where the tables are: `hive.<schema>` and `postgres.<schema>`.
    pub fn places(&self) -> Places {
        Places {
            hive: format!("hive.{}", self.schema),
            postgres: format!("postgres.{}", self.schema),
        }
    }

    /// koku's statements 1–3 for `params` (spec §3): the Hive staging table
    /// `reporting_ocpusagelineitem_daily_summary` created as koku creates it (managed Parquet,
    /// partitioned by source, year, month and day, all varchar) and filled through Trino with
    /// the reference query's rows, the partitions written as koku writes them (the source uuid;
    /// year, month and day as unpadded numbers: `'9'`, not `'09'`). Returns the rows written.
    pub fn write_staging(&self, params: &QueryParams) -> Result<u64, String> {
        let hive = self.places().hive;
        self.statement("create koku's staging table", &staging_ddl(&hive))?;
        let query = render(
            &qualify(REFERENCE_SUMMARY_SQL, &self.places()),
            params,
            self.storage_exists,
        )
        .map_err(|e| e.to_string())?;
        let insert = format!(
            "INSERT INTO {hive}.{STAGING_TABLE}\n\
             SELECT CAST(uuid() AS varchar), report_period_id, cluster_id, cluster_alias, \
             data_source, usage_start, usage_end, namespace, node, resource_id, pod_labels, {}, \
             persistentvolumeclaim, persistentvolume, storageclass, volume_labels, {}, \
             source_uuid, infrastructure_usage_cost, CAST(NULL AS varchar), cost_category_id,\n\
             source_uuid, CAST(year(usage_start) AS varchar), \
             CAST(month(usage_start) AS varchar), CAST(day(usage_start) AS varchar)\n\
             FROM (\n{}\n)",
            POD_METRICS.join(", "),
            STORAGE_METRICS.join(", "),
            query.trim_end()
        );
        let rows = self.statement("fill koku's staging table", &insert)?;
        Ok(rows
            .first()
            .and_then(|row| row.first())
            .and_then(Value::as_u64)
            .unwrap_or(0))
    }

    /// Step 1: the PostgreSQL schema and its catalog rows.
    fn load_catalog(&self, params: &QueryParams) -> Result<(), String> {
        let mut sql = format!("CREATE SCHEMA {};\n", self.schema);
        sql.push_str(&catalog_tables_sql(&self.schema, params).map_err(|e| e.to_string())?);
        postgres(move |client| async move { client.batch_execute(&sql).await })
            .map_err(|e| format!("loading the catalog tables into PostgreSQL: {e}"))
    }

    /// Step 2: the Hive schema and koku's line-item tables with their partitions.
    fn create_hive_tables(&self, params: &QueryParams, scratch: &Path) -> Result<(), String> {
        let hive = self.places().hive;
        let empty = scratch.join(&self.schema);
        std::fs::create_dir_all(&empty)
            .map_err(|e| format!("cannot create {}: {e}", empty.display()))?;
        // The file metastore keeps a managed table (koku's staging table) under its own
        // folder, so the schema takes the metastore's default location.
        self.statement("create the Hive schema", &format!("CREATE SCHEMA {hive}"))?;
        for table in &HIVE_TABLES {
            let has_files = table
                .has_files(&params.location, &params.account)
                .map_err(|e| e.to_string())?;
            if table.name == ocp_harness::oracle::tables::STORAGE_USAGE_DAILY.name && !has_files {
                continue;
            }
            let folder = if has_files {
                table.folder(&params.location, &params.account)
            } else {
                empty.join(table.name)
            };
            std::fs::create_dir_all(&folder)
                .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
            self.create_table(table, &hive, &folder)?;
        }
        Ok(())
    }

    /// One external table over `folder`, its partitions registered.
    fn create_table(&self, table: &HiveTable, hive: &str, folder: &Path) -> Result<(), String> {
        self.statement(
            &format!("create koku's table {}", table.name),
            &table.trino_ddl(hive, &local_uri(folder)),
        )?;
        self.statement(
            &format!("register the partitions of {}", table.name),
            &format!(
                "CALL hive.system.sync_partition_metadata({}, {}, 'FULL')",
                sql_string(&self.schema),
                sql_string(table.name)
            ),
        )?;
        Ok(())
    }

    /// Step 3: the node query on Trino, merged into `reporting_ocp_nodes` in PostgreSQL.
    fn replay_node_step(&self, params: &QueryParams) -> Result<(), String> {
        let query = render(
            &qualify(REFERENCE_NODE_ROLES_SQL, &self.places()),
            params,
            self.storage_exists,
        )
        .map_err(|e| e.to_string())?;
        let found = self.statement("koku's node query (reference_node_roles.sql)", &query)?;
        let mut sql = String::from(
            "CREATE TEMP TABLE node_roles_found (node varchar, resource_id varchar, \
             node_capacity_cpu_cores double precision, node_role varchar);\n",
        );
        for row in &found {
            sql.push_str(&format!(
                "INSERT INTO node_roles_found VALUES ({});\n",
                row.iter().map(sql_value).collect::<Vec<_>>().join(", ")
            ));
        }
        let in_postgres = Places {
            hive: String::new(),
            postgres: self.schema.clone(),
        };
        sql.push_str(
            &render(
                &qualify(POPULATE_OCP_NODES_SQL, &in_postgres),
                params,
                self.storage_exists,
            )
            .map_err(|e| e.to_string())?,
        );
        postgres(move |client| async move { client.batch_execute(&sql).await })
            .map_err(|e| format!("merging the found nodes into reporting_ocp_nodes: {e}"))
    }

    /// Runs `sql` on the local Trino; errors name `what`.
    fn statement(&self, what: &str, sql: &str) -> Result<Vec<Vec<Value>>, String> {
        self.session
            .rows(what, sql)
            .map_err(|e| format!("{what}: {e}"))
    }
}

/// The Pod metric columns of koku's staging table, in its column order (spec §3 statement 1).
const POD_METRICS: [&str; 14] = [
    "pod_usage_cpu_core_hours",
    "pod_request_cpu_core_hours",
    "pod_effective_usage_cpu_core_hours",
    "pod_limit_cpu_core_hours",
    "pod_usage_memory_gigabyte_hours",
    "pod_request_memory_gigabyte_hours",
    "pod_effective_usage_memory_gigabyte_hours",
    "pod_limit_memory_gigabyte_hours",
    "node_capacity_cpu_cores",
    "node_capacity_cpu_core_hours",
    "node_capacity_memory_gigabytes",
    "node_capacity_memory_gigabyte_hours",
    "cluster_capacity_cpu_core_hours",
    "cluster_capacity_memory_gigabyte_hours",
];

/// The Storage metric columns of koku's staging table, in its column order.
const STORAGE_METRICS: [&str; 4] = [
    "persistentvolumeclaim_capacity_gigabyte",
    "persistentvolumeclaim_capacity_gigabyte_months",
    "volume_request_storage_gigabyte_months",
    "persistentvolumeclaim_usage_gigabyte_months",
];

/// koku's statement 1 (spec §3): the staging table in `hive` (`catalog.schema`).
fn staging_ddl(hive: &str) -> String {
    let double =
        |names: &[&str]| -> String { names.iter().map(|n| format!("    {n} double,\n")).collect() };
    format!(
        "CREATE TABLE IF NOT EXISTS {hive}.{STAGING_TABLE} (\n    uuid varchar,\n    \
         report_period_id integer,\n    cluster_id varchar,\n    cluster_alias varchar,\n    \
         data_source varchar,\n    usage_start date,\n    usage_end date,\n    \
         namespace varchar,\n    node varchar,\n    resource_id varchar,\n    \
         pod_labels varchar,\n{}    persistentvolumeclaim varchar,\n    \
         persistentvolume varchar,\n    storageclass varchar,\n    volume_labels varchar,\n{}    \
         source_uuid varchar,\n    infrastructure_usage_cost varchar,\n    \
         csi_volume_handle varchar,\n    cost_category_id integer,\n    source varchar,\n    \
         year varchar,\n    month varchar,\n    day varchar\n) WITH (format = 'PARQUET', \
         partitioned_by = ARRAY['source', 'year', 'month', 'day'])",
        double(&POD_METRICS),
        double(&STORAGE_METRICS)
    )
}

/// `local:///abs/path`, the native local file system's name of a folder (rooted at `/`).
fn local_uri(folder: &Path) -> String {
    format!("local://{}", folder.display())
}

/// A JSON value from Trino as a SQL literal for PostgreSQL: NULL, a number, or a quoted string.
fn sql_value(value: &Value) -> String {
    match value {
        Value::Null => "NULL".to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => sql_string(s),
        other => sql_string(&other.to_string()),
    }
}

/// Runs `work` with a client of the tests' PostgreSQL on a private runtime in its own thread,
/// so it works from any caller.
fn postgres<F, Fut>(work: F) -> Result<(), String>
where
    F: FnOnce(tokio_postgres::Client) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), tokio_postgres::Error>>,
{
    let url = server_url().to_string();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot build a tokio runtime: {e}"))?;
        runtime.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&url, NoTls)
                .await
                .map_err(|e| format!("cannot connect to {url}: {e}"))?;
            let driver = tokio::spawn(connection);
            let result = work(client).await.map_err(|e| match e.as_db_error() {
                Some(db) => format!("{}: {}", db.code().code(), db.message()),
                None => e.to_string(),
            });
            let _ = driver.await;
            result
        })
    })
    .join()
    .map_err(|_| "the PostgreSQL thread panicked".to_string())?
}
