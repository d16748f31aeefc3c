//! koku's catalog as DuckDB sees it, so that the reference query's Trino names
//! (`hive.<schema>.openshift_…`, `postgres.<schema>.reporting_…`) work unchanged.
//!
//! [`setup_script`] writes the SQL that, in a fresh DuckDB, attaches two in-memory catalogs named
//! `hive` and `postgres`, creates the tenant schema in each, and then:
//! - for each Hive table the query reads, a VIEW over `read_parquet` of koku's path layout
//!   (spec §2.1) with the partition columns `source`, `year`, `month` as varchar, like Trino's
//!   Hive tables. The view is the table's declared columns (spec §2.2, all NULL, no rows)
//!   `UNION ALL BY NAME` the files, so a column no file has reads as NULL and a table with no
//!   files at all is an empty table (koku's LEFT JOINs then find nothing), as in Hive;
//! - the PostgreSQL catalog tables from the run's parameters: `reporting_enabledtagkeys` (the
//!   enabled keys, `provider_type = 'OCP'`), `reporting_ocp_cost_category_namespace` (the
//!   patterns) and `reporting_ocp_nodes` (the node rows before the run, spec §2.4; the oracle's
//!   node step then adds this run's nodes).
//!
//! [`storage_exists`] answers koku's `storage_exists` (spec §1.3, §12.9) for the same folder.

use std::path::{Path, PathBuf};

use arrow::datatypes::{DataType, SchemaRef};
use ocp_engine::config::NodeRecord;

use super::query::{sql_identifier, sql_string, QueryParams};
use super::OracleError;
use crate::synth::{
    KokuRow, NamespaceLabelsDailyRow, NodeLabelsDailyRow, PodUsageDailyRow, PodUsageHourlyRow,
    StorageUsageDailyRow,
};

/// One of koku's Hive tables: its Trino name, where its files are, and its columns. The columns
/// are not listed here: they are the synthetic writer's, [`KokuRow::schema`] of the table's row
/// type (`synth::koku_tables`), so the Parquet files, the DuckDB views and the Trino DDL are one
/// declaration of koku's schema (spec §2.1 types, §2.2 columns).
pub struct HiveTable {
    /// Trino table name, e.g. `openshift_pod_usage_line_items_daily`.
    pub name: &'static str,
    /// koku's `report_type` folder.
    pub report_type: &'static str,
    /// Under `data/parquet/daily/` rather than `data/parquet/`.
    pub daily: bool,
    schema: fn() -> SchemaRef,
}

impl HiveTable {
    /// The table named `name` whose rows are `R`.
    const fn of<R: KokuRow>(name: &'static str) -> HiveTable {
        HiveTable {
            name,
            report_type: R::REPORT_TYPE,
            daily: R::DAILY,
            schema: R::schema,
        }
    }

    /// The columns other than the partitions, in file order, with their SQL types (the same
    /// names in DuckDB and Trino: `DOUBLE`, `VARCHAR`, `TIMESTAMP`, i.e. timestamp(3)).
    pub fn columns(&self) -> Vec<(String, &'static str)> {
        (self.schema)()
            .fields()
            .iter()
            .map(|field| {
                let ty = match field.data_type() {
                    DataType::Float64 => "DOUBLE",
                    DataType::Timestamp(..) => "TIMESTAMP",
                    DataType::Utf8 | DataType::LargeUtf8 => "VARCHAR",
                    other => panic!("koku's tables hold no {other} column ({})", field.name()),
                };
                (field.name().clone(), ty)
            })
            .collect()
    }
}

/// The storage table the reference query reads when it exists.
pub const STORAGE_USAGE_DAILY: HiveTable =
    HiveTable::of::<StorageUsageDailyRow>("openshift_storage_usage_line_items_daily");

/// The Hive tables the reference queries read.
pub const HIVE_TABLES: [HiveTable; 5] = [
    HiveTable::of::<PodUsageHourlyRow>("openshift_pod_usage_line_items"),
    HiveTable::of::<PodUsageDailyRow>("openshift_pod_usage_line_items_daily"),
    HiveTable::of::<NodeLabelsDailyRow>("openshift_node_labels_line_items_daily"),
    HiveTable::of::<NamespaceLabelsDailyRow>("openshift_namespace_labels_line_items_daily"),
    STORAGE_USAGE_DAILY,
];

/// koku's partition columns of the line-item tables, varchar as in Hive (spec §2.1), last in
/// every table's column list.
const PARTITION_COLUMNS: [(&str, &str); 3] = [
    ("source", "VARCHAR"),
    ("year", "VARCHAR"),
    ("month", "VARCHAR"),
];

impl HiveTable {
    /// Trino's `CREATE TABLE` of this table in `place` (`hive.org1`) as koku creates it (spec
    /// §2.1): an external Parquet table over `location` (a `local:///…` or `s3://…` folder
    /// holding `source=…/year=…/month=…/`), the declared columns (DuckDB's type names are
    /// Trino's too: `VARCHAR`, `DOUBLE`, `TIMESTAMP`, i.e. timestamp(3)), partitioned by
    /// source, year and month.
    pub fn trino_ddl(&self, place: &str, location: &str) -> String {
        let columns: Vec<String> = self
            .columns()
            .iter()
            .map(|(name, ty)| (name.as_str(), *ty))
            .chain(PARTITION_COLUMNS)
            .map(|(name, ty)| format!("    {name} {ty}"))
            .collect();
        let partitions: Vec<String> = PARTITION_COLUMNS
            .iter()
            .map(|(name, _)| sql_string(name))
            .collect();
        format!(
            "CREATE TABLE {place}.{} (\n{}\n) WITH (\n    external_location = {},\n    \
             format = 'PARQUET',\n    partitioned_by = ARRAY[{}]\n)",
            self.name,
            columns.join(",\n"),
            sql_string(location),
            partitions.join(", ")
        )
    }

    /// The table's folder: `{location}/data/parquet[/daily]/{account}/OCP/{report_type}`; its
    /// files sit below it in `source=…/year=…/month=…/` (spec §2.1).
    pub fn folder(&self, location: &Path, account: &str) -> PathBuf {
        let mut dir = location.join("data").join("parquet");
        if self.daily {
            dir.push("daily");
        }
        dir.join(account).join("OCP").join(self.report_type)
    }

    /// The table's files in every partition, or `None` when it has none (DuckDB's `read_parquet`
    /// refuses a glob that matches nothing).
    fn files_glob(&self, location: &Path, account: &str) -> Result<Option<String>, OracleError> {
        if !self.has_files(location, account)? {
            return Ok(None);
        }
        let folder = self.folder(location, account);
        Ok(Some(format!("{}/*/*/*/*.parquet", folder.display())))
    }

    /// Whether the table's folder holds a Parquet file in any partition: koku creates a table
    /// when it writes the table's first file.
    pub fn has_files(&self, location: &Path, account: &str) -> Result<bool, OracleError> {
        has_partition_files(&self.folder(location, account))
    }

    /// `CREATE VIEW` of this table in `hive.<schema>`.
    fn create_view(
        &self,
        schema: &str,
        location: &Path,
        account: &str,
    ) -> Result<String, OracleError> {
        let declared: Vec<String> = self
            .columns()
            .iter()
            .map(|(name, ty)| (name.as_str(), *ty))
            .chain(PARTITION_COLUMNS)
            .map(|(name, ty)| format!("CAST(NULL AS {ty}) AS {name}"))
            .collect();
        let mut view = format!(
            "CREATE VIEW hive.{schema}.{} AS\nSELECT {} WHERE false",
            self.name,
            declared.join(", ")
        );
        if let Some(glob) = self.files_glob(location, account)? {
            view.push_str(&format!(
                "\nUNION ALL BY NAME\nSELECT * FROM read_parquet({}, hive_partitioning = true, \
                 union_by_name = true, \
                 hive_types = {{'source': VARCHAR, 'year': VARCHAR, 'month': VARCHAR}})",
                sql_string(&glob)
            ));
        }
        view.push_str(";\n");
        Ok(view)
    }
}

/// koku's `storage_exists` for `params` (spec §1.3): whether its Hive table
/// `openshift_storage_usage_line_items_daily` exists. koku creates a table when it writes the
/// table's first file, for any source or month, so the table exists here when its folder holds a
/// file in any partition. Whether this source and window have rows does not matter (§12.9).
pub fn storage_exists(params: &QueryParams) -> Result<bool, OracleError> {
    STORAGE_USAGE_DAILY.has_files(&params.location, &params.account)
}

/// Whether `folder` holds a `*.parquet` file exactly three folders down
/// (`source=…/year=…/month=…/file.parquet`). A missing folder holds none.
fn has_partition_files(folder: &Path) -> Result<bool, OracleError> {
    Ok(!partition_files(folder)?.is_empty())
}

/// The `*.parquet` files exactly three folders down from `folder`
/// (`source=…/year=…/month=…/file.parquet`), sorted. A missing folder holds none.
pub fn partition_files(folder: &Path) -> Result<Vec<PathBuf>, OracleError> {
    let mut level = vec![folder.to_path_buf()];
    for _ in 0..3 {
        let mut next = Vec::new();
        for dir in &level {
            next.extend(entries(dir)?.into_iter().filter(|p| p.is_dir()));
        }
        level = next;
    }
    let mut files = Vec::new();
    for dir in &level {
        let parquet = |p: &PathBuf| p.is_file() && p.extension().is_some_and(|e| e == "parquet");
        files.extend(entries(dir)?.into_iter().filter(parquet));
    }
    files.sort();
    Ok(files)
}

fn entries(dir: &Path) -> Result<Vec<PathBuf>, OracleError> {
    match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(OracleError::Io {
            action: "list folder",
            path: dir.to_path_buf(),
            source,
        }),
        Ok(read) => read
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(|source| OracleError::Io {
                action: "list folder",
                path: dir.to_path_buf(),
                source,
            }),
    }
}

/// The DuckDB statements that make `hive.<schema>.*` and `postgres.<schema>.*` hold koku's
/// tables for `params` (see the module documentation).
pub fn setup_script(params: &QueryParams) -> Result<String, OracleError> {
    let schema = sql_identifier(&params.schema)?;
    let mut sql = String::from(
        "-- The oracle's catalogs: koku's Hive tables over Parquet, its PostgreSQL catalog rows.\n\
         SET autoinstall_known_extensions = false;\n\
         SET enable_progress_bar = false;\n\
         ATTACH ':memory:' AS hive;\n\
         ATTACH ':memory:' AS postgres;\n",
    );
    sql.push_str(&format!(
        "CREATE SCHEMA hive.{schema};\nCREATE SCHEMA postgres.{schema};\n"
    ));
    for table in &HIVE_TABLES {
        sql.push_str(&table.create_view(&schema, &params.location, &params.account)?);
    }
    sql.push_str(&catalog_tables_sql(&format!("postgres.{schema}"), params)?);
    Ok(sql)
}

/// The statements that create koku's three catalog tables the queries read in `place` (a
/// qualified schema: `postgres.org1` in DuckDB, `"t_1a2b"` in PostgreSQL) and fill them from
/// `params`: `reporting_enabledtagkeys`, `reporting_ocp_cost_category_namespace` and
/// `reporting_ocp_nodes` (the rows before the run). Portable SQL: DuckDB and PostgreSQL both run
/// it, so the embedded oracle and the local Trino (`testkit::koku_site`) start from the same
/// catalog.
pub fn catalog_tables_sql(place: &str, params: &QueryParams) -> Result<String, OracleError> {
    let mut sql = enabled_keys_table(place, &params.enabled_tag_keys);
    sql.push_str(&cost_category_table(place, &params.cost_category_patterns));
    sql.push_str(&nodes_table(place, &params.nodes)?);
    Ok(sql)
}

fn enabled_keys_table(place: &str, keys: &[String]) -> String {
    let mut sql = format!(
        "CREATE TABLE {place}.reporting_enabledtagkeys \
         (uuid UUID, key VARCHAR, enabled BOOLEAN, provider_type VARCHAR);\n"
    );
    if !keys.is_empty() {
        let rows: Vec<String> = keys
            .iter()
            .map(|k| format!("(gen_random_uuid(), {}, true, 'OCP')", sql_string(k)))
            .collect();
        sql.push_str(&format!(
            "INSERT INTO {place}.reporting_enabledtagkeys VALUES {};\n",
            rows.join(", ")
        ));
    }
    sql
}

fn cost_category_table(place: &str, patterns: &[(String, i32)]) -> String {
    let mut sql = format!(
        "CREATE TABLE {place}.reporting_ocp_cost_category_namespace \
         (id INTEGER, namespace VARCHAR, system_default BOOLEAN, cost_category_id INTEGER);\n"
    );
    if !patterns.is_empty() {
        let rows: Vec<String> = patterns
            .iter()
            .enumerate()
            .map(|(i, (pattern, id))| format!("({}, {}, false, {id})", i + 1, sql_string(pattern)))
            .collect();
        sql.push_str(&format!(
            "INSERT INTO {place}.reporting_ocp_cost_category_namespace VALUES {};\n",
            rows.join(", ")
        ));
    }
    sql
}

/// `reporting_ocp_nodes` with the catalog's rows. `cluster_id` stands for koku's foreign key to
/// `reporting_ocp_clusters` and holds the OpenShift cluster id the key leads to; `uuid` and
/// `architecture` are left out (the summary reads neither).
fn nodes_table(place: &str, nodes: &[NodeRecord]) -> Result<String, OracleError> {
    let mut sql = format!(
        "CREATE TABLE {place}.reporting_ocp_nodes \
         (node VARCHAR, resource_id VARCHAR, node_capacity_cpu_cores DECIMAL(18, 2), \
         cluster_id VARCHAR, node_role VARCHAR);\n"
    );
    if !nodes.is_empty() {
        let text = |t: &Option<String>| t.as_deref().map_or("NULL".to_string(), sql_string);
        let rows = nodes
            .iter()
            .map(|n| {
                let cores = match n.node_capacity_cpu_cores {
                    None => "NULL".to_string(),
                    Some(c) if c.is_finite() => format!("CAST('{c:?}' AS DECIMAL(18, 2))"),
                    Some(c) => {
                        return Err(OracleError::Params(format!(
                            "node {} has capacity {c}, which numeric(18,2) cannot hold",
                            n.node
                        )))
                    }
                };
                Ok(format!(
                    "({}, {}, {cores}, {}, {})",
                    sql_string(&n.node),
                    text(&n.resource_id),
                    text(&n.cluster_id),
                    text(&n.node_role)
                ))
            })
            .collect::<Result<Vec<_>, OracleError>>()?;
        sql.push_str(&format!(
            "INSERT INTO {place}.reporting_ocp_nodes VALUES {};\n",
            rows.join(", ")
        ));
    }
    Ok(sql)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use uuid::Uuid;

    fn params(location: &Path) -> QueryParams {
        QueryParams {
            location: location.to_path_buf(),
            account: "org1".into(),
            schema: "org1".into(),
            source_uuid: Uuid::from_u128(1),
            start: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            end: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            report_period_id: None,
            cluster_id: None,
            cluster_alias: None,
            enabled_tag_keys: vec!["app".into(), "o'k".into()],
            cost_category_patterns: vec![("openshift-%".into(), 1)],
            nodes: vec![],
            compatibility: Default::default(),
        }
    }

    #[test]
    fn a_table_without_files_is_only_its_declared_columns() {
        let dir = tempfile::tempdir().unwrap();
        let sql = setup_script(&params(dir.path())).unwrap();
        assert!(sql.contains(
            "CREATE VIEW hive.org1.openshift_node_labels_line_items_daily AS\n\
             SELECT CAST(NULL AS VARCHAR) AS node, CAST(NULL AS VARCHAR) AS node_labels, "
        ));
        assert!(!sql.contains("read_parquet"));
        assert!(sql.contains("VALUES (gen_random_uuid(), 'app', true, 'OCP'), (gen_random_uuid(), 'o''k', true, 'OCP');"));
        assert!(sql.contains("VALUES (1, 'openshift-%', false, 1);"));
        assert!(sql.contains("CREATE TABLE postgres.org1.reporting_ocp_nodes "));
        assert!(!sql.contains("INSERT INTO postgres.org1.reporting_ocp_nodes"));
    }

    #[test]
    fn catalog_nodes_become_rows_of_reporting_ocp_nodes() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = params(dir.path());
        let node = |name: &str, cores, role: Option<&str>| NodeRecord {
            node: name.into(),
            resource_id: Some(format!("i-{name}")),
            node_capacity_cpu_cores: cores,
            cluster_id: Some("c1".into()),
            node_role: role.map(str::to_string),
        };
        p.nodes = vec![node("a", Some(4.0), Some("infra")), node("b'", None, None)];
        let sql = setup_script(&p).unwrap();
        assert!(sql.contains(
            "INSERT INTO postgres.org1.reporting_ocp_nodes VALUES \
             ('a', 'i-a', CAST('4.0' AS DECIMAL(18, 2)), 'c1', 'infra'), \
             ('b''', 'i-b''', NULL, 'c1', NULL);"
        ));
        p.nodes = vec![node("c", Some(f64::NAN), None)];
        assert!(setup_script(&p).is_err());
    }

    #[test]
    fn storage_exists_when_the_table_has_a_file_in_any_partition() {
        let dir = tempfile::tempdir().unwrap();
        let p = params(dir.path());
        assert!(!storage_exists(&p).unwrap());
        let other_source = STORAGE_USAGE_DAILY
            .folder(dir.path(), "org1")
            .join("source=other/year=2025/month=01");
        std::fs::create_dir_all(&other_source).unwrap();
        assert!(!storage_exists(&p).unwrap(), "an empty folder is no table");
        std::fs::write(other_source.join("f.parquet"), b"").unwrap();
        assert!(storage_exists(&p).unwrap());
    }

    #[test]
    fn a_table_with_partition_files_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let month = HIVE_TABLES[1]
            .folder(dir.path(), "org1")
            .join("source=x/year=2026/month=09");
        std::fs::create_dir_all(&month).unwrap();
        std::fs::write(month.join("f.parquet"), b"").unwrap();
        let sql = setup_script(&params(dir.path())).unwrap();
        let glob = format!(
            "read_parquet('{}/data/parquet/daily/org1/OCP/pod_usage/*/*/*/*.parquet'",
            dir.path().display()
        );
        assert!(sql.contains(&glob), "{sql}");
        assert_eq!(sql.matches("read_parquet").count(), 1);
    }

    #[test]
    fn daily_and_hourly_pod_usage_declare_their_own_columns() {
        let names = |t: &HiveTable| t.columns().into_iter().map(|c| c.0).collect::<Vec<_>>();
        assert!(names(&HIVE_TABLES[0]).contains(&"interval_end".to_string()));
        assert!(!names(&HIVE_TABLES[1]).contains(&"interval_end".to_string()));
        for table in &HIVE_TABLES {
            let mut n = names(table);
            n.sort();
            n.dedup();
            assert_eq!(
                n.len(),
                table.columns().len(),
                "{} repeats a column",
                table.name
            );
        }
    }
}
