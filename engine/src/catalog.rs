//! The catalog tables the summary reads from PostgreSQL (spec §2.4): enabled tag keys,
//! cost-category patterns and the recorded nodes with their roles, plus the report period koku
//! looks up before it runs (spec §1.2 step 2).
//! For the embedded default they come from the config file's `[catalog]` table instead.

use chrono::NaiveDate;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::config::{CostCategoryPattern, InlineCatalog, NodeRecord};
use crate::error::{Error, Problem, Result, Service};
use crate::postgres::{describe, quote_ident};

/// What the summary needs from koku's catalog tables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    /// `reporting_enabledtagkeys.key` where `enabled AND provider_type = 'OCP'`, sorted.
    pub enabled_tag_keys: Vec<String>,
    /// Rows of `reporting_ocp_cost_category_namespace`, sorted by pattern.
    pub cost_categories: Vec<CostCategoryPattern>,
    /// Rows of `reporting_ocp_nodes` (every cluster of the tenant) before the run.
    pub nodes: Vec<CatalogNode>,
}

/// A `reporting_ocp_nodes` row before the run, with what koku's node step needs to know of it
/// (spec §6.4).
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogNode {
    pub record: NodeRecord,
    /// The row's `uuid` in koku's table; `None` for a row of an inline catalog.
    pub uuid: Option<Uuid>,
    /// Whether the row belongs to the cluster koku's `populate_cluster_table` picks for this
    /// run: the first `reporting_ocp_clusters` row of the run's source. `None` for an inline
    /// catalog, whose rows tell their cluster by its id only.
    pub run_cluster: Option<bool>,
}

impl CatalogNode {
    /// Whether the row is of the run's cluster: as read from PostgreSQL, else (inline) when its
    /// cluster id is the run's.
    pub fn of_run_cluster(&self, run_cluster_id: &str) -> bool {
        self.run_cluster
            .unwrap_or_else(|| self.record.cluster_id.as_deref() == Some(run_cluster_id))
    }
}

/// The `reporting_ocpusagereportperiod` row of a source's month.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportPeriod {
    pub id: i32,
    pub cluster_id: String,
    pub cluster_alias: Option<String>,
}

impl Catalog {
    /// The catalog given in a config file.
    pub fn inline(catalog: &InlineCatalog) -> Self {
        let mut enabled_tag_keys = catalog.enabled_tag_keys.clone();
        enabled_tag_keys.sort();
        enabled_tag_keys.dedup();
        let mut cost_categories = catalog.cost_category_namespaces.clone();
        cost_categories.sort_by(|a, b| a.pattern.cmp(&b.pattern));
        Catalog {
            enabled_tag_keys,
            cost_categories,
            nodes: catalog
                .nodes
                .iter()
                .map(|record| CatalogNode {
                    record: record.clone(),
                    uuid: None,
                    run_cluster: None,
                })
                .collect(),
        }
    }

    /// Reads the catalog of a run of `source` from koku's tables in `schema`.
    pub async fn from_postgres(client: &Client, schema: &str, source: Uuid) -> Result<Self> {
        let schema_sql = quote_ident(schema);
        let keys = client
            .query(
                &format!(
                    "SELECT key FROM {schema_sql}.reporting_enabledtagkeys \
                     WHERE enabled AND provider_type = 'OCP' ORDER BY key"
                ),
                &[],
            )
            .await
            .map_err(|e| query_error(schema, "reporting_enabledtagkeys", e))?;
        let patterns = client
            .query(
                &format!(
                    "SELECT namespace, cost_category_id FROM \
                     {schema_sql}.reporting_ocp_cost_category_namespace ORDER BY namespace"
                ),
                &[],
            )
            .await
            .map_err(|e| query_error(schema, "reporting_ocp_cost_category_namespace", e))?;
        let nodes = client
            .query(
                &format!(
                    "SELECT n.node, n.resource_id, n.node_capacity_cpu_cores::float8, \
                     c.cluster_id, n.node_role, n.uuid, \
                     n.cluster_id IS NOT NULL AND n.cluster_id IS NOT DISTINCT FROM ({}) \
                     FROM {schema_sql}.reporting_ocp_nodes n \
                     LEFT JOIN {schema_sql}.reporting_ocp_clusters c ON c.uuid = n.cluster_id \
                     ORDER BY n.node, n.resource_id",
                    run_cluster_sql(&schema_sql)
                ),
                &[&source],
            )
            .await
            .map_err(|e| query_error(schema, "reporting_ocp_nodes", e))?;
        Ok(Catalog {
            nodes: nodes
                .iter()
                .map(|row| CatalogNode {
                    record: NodeRecord {
                        node: row.get(0),
                        resource_id: row.get(1),
                        node_capacity_cpu_cores: row.get(2),
                        cluster_id: row.get(3),
                        node_role: row.get(4),
                    },
                    uuid: Some(row.get(5)),
                    run_cluster: Some(row.get(6)),
                })
                .collect(),
            enabled_tag_keys: keys.iter().map(|row| row.get(0)).collect(),
            cost_categories: patterns
                .iter()
                .map(|row| CostCategoryPattern {
                    pattern: row.get(0),
                    cost_category_id: row.get(1),
                })
                .collect(),
        })
    }
}

/// The `uuid` of the cluster koku's `populate_cluster_table` picks for a run of source `$1`: the
/// first `reporting_ocp_clusters` row of that source (Django's `.first()` orders by the primary
/// key); none when the source has no row yet (koku then creates one). A scalar subquery.
pub fn run_cluster_sql(schema_sql: &str) -> String {
    format!(
        "SELECT uuid FROM {schema_sql}.reporting_ocp_clusters WHERE provider_id = $1 \
         ORDER BY uuid LIMIT 1"
    )
}

/// koku's report period for `source` and the month starting `month_start`, if it exists.
pub async fn report_period(
    client: &Client,
    schema: &str,
    source: Uuid,
    month_start: NaiveDate,
) -> Result<Option<ReportPeriod>> {
    let row = client
        .query_opt(
            &format!(
                "SELECT id, cluster_id, cluster_alias FROM {}.reporting_ocpusagereportperiod \
                 WHERE provider_id = $1 AND (report_period_start AT TIME ZONE 'UTC')::date = $2",
                quote_ident(schema)
            ),
            &[&source, &month_start],
        )
        .await
        .map_err(|e| query_error(schema, "reporting_ocpusagereportperiod", e))?;
    Ok(row.map(|row| ReportPeriod {
        id: row.get(0),
        cluster_id: row.get(1),
        cluster_alias: row.get(2),
    }))
}

/// A missing schema or table is the operator's setting; anything else is the server's.
pub(crate) fn query_error(schema: &str, table: &str, e: tokio_postgres::Error) -> Error {
    use tokio_postgres::error::SqlState;
    match e.code() {
        Some(code)
            if *code == SqlState::UNDEFINED_TABLE || *code == SqlState::INVALID_SCHEMA_NAME =>
        {
            Error::input(
                Problem::Table(format!("{schema}.{table}")),
                format!(
                "table {schema}.{table} does not exist (setting postgres.schema / --schema): {}. \
                 Point --schema at the koku tenant schema, or create the tables with \
                 `ocp-engine ddl`.",
                describe(&e)
            ),
            )
        }
        _ => Error::infrastructure(
            Service::PostgreSql,
            format!(
                "PostgreSQL query on {schema}.{table} failed: {}",
                describe(&e)
            ),
        ),
    }
}
