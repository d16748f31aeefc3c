//! What the catalog and the sink share about PostgreSQL: connecting, quoting the tenant schema,
//! the DDL the project ships for the tables it reads and writes (`engine/sql/`), and the rows of
//! koku's node and cluster tables as koku writes them (the sink's node step, the harness's
//! catalog).

use tokio_postgres::{Client, GenericClient, NoTls};
use uuid::Uuid;

use crate::config::NodeRecord;

use crate::error::{Error, Result, Service};
use crate::redact::redact_password;

const KOKU_TABLES_SQL: &str = include_str!("../sql/koku_tables.sql");
const ENGINE_RUNS_SQL: &str = include_str!("../sql/engine_runs.sql");

/// Quotes `name` as a PostgreSQL identifier (`"name"`, inner quotes doubled), so a schema name is
/// never spliced into SQL raw.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The DDL of koku's tables that the engine reads and writes, for `schema` (created if missing).
/// Idempotent; meant for tests and for sites without koku's own migrations.
pub fn koku_tables_sql(schema: &str) -> String {
    KOKU_TABLES_SQL.replace("{schema}", &quote_ident(schema))
}

/// The DDL of the engine's own runs table in `schema`. Idempotent.
pub fn engine_runs_sql(schema: &str) -> String {
    ENGINE_RUNS_SQL.replace("{schema}", &quote_ident(schema))
}

/// Inserts a `reporting_ocp_clusters` row of `provider` in the schema `schema_sql` (quoted);
/// returns its new `uuid`.
pub async fn insert_cluster(
    client: &impl GenericClient,
    schema_sql: &str,
    cluster_id: &str,
    cluster_alias: Option<&str>,
    provider: Uuid,
) -> std::result::Result<Uuid, tokio_postgres::Error> {
    let uuid = Uuid::new_v4();
    client
        .execute(
            &format!(
                "INSERT INTO {schema_sql}.reporting_ocp_clusters \
                 (uuid, cluster_id, cluster_alias, provider_id) VALUES ($1, $2, $3, $4)"
            ),
            &[&uuid, &cluster_id, &cluster_alias, &provider],
        )
        .await?;
    Ok(uuid)
}

/// Inserts `node` into `reporting_ocp_nodes` of the schema `schema_sql` (quoted), in the cluster
/// row `cluster`, with a new `uuid`; the cores go through float8 into numeric(18,2) as koku's
/// double does.
pub async fn insert_node(
    client: &impl GenericClient,
    schema_sql: &str,
    node: &NodeRecord,
    cluster: Option<Uuid>,
) -> std::result::Result<(), tokio_postgres::Error> {
    client
        .execute(
            &format!(
                "INSERT INTO {schema_sql}.reporting_ocp_nodes \
                 (uuid, node, resource_id, node_capacity_cpu_cores, node_role, cluster_id) \
                 VALUES ($1, $2, $3, $4::float8::numeric(18,2), $5, $6)"
            ),
            &[
                &Uuid::new_v4(),
                &node.node,
                &node.resource_id,
                &node.node_capacity_cpu_cores,
                &node.node_role,
                &cluster,
            ],
        )
        .await?;
    Ok(())
}

/// Connects to `url` and drives the connection on the current tokio runtime.
///
/// The error names the server from the URL (its password removed) and says what to check.
pub async fn connect(url: &str) -> Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.map_err(|e| {
        Error::infrastructure(
            Service::PostgreSql,
            format!(
                "cannot connect to PostgreSQL at {} (setting postgres.url / --postgres-url / \
             OCP_ENGINE_POSTGRES_URL): {}. Check that the server runs and accepts this user.",
                redact_password(url),
                describe(&e)
            ),
        )
    })?;
    tokio::spawn(async move {
        // The client reports errors on its next call; nothing to do here but end quietly.
        let _ = connection.await;
    });
    Ok(client)
}

/// A PostgreSQL error as a person needs it: for an error the server sent, its severity, message,
/// SQLSTATE, detail and hint (tokio-postgres's own `Display` says only "db error"); otherwise the
/// error and its causes.
pub fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut text = format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
        if let Some(detail) = db.detail() {
            text.push_str(&format!("; detail: {detail}"));
        }
        if let Some(hint) = db.hint() {
            text.push_str(&format!("; hint: {hint}"));
        }
        return text;
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(inner) = cause {
        text.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_ident_doubles_inner_quotes() {
        assert_eq!(quote_ident("org1234567"), "\"org1234567\"");
        assert_eq!(
            quote_ident("a\"; DROP TABLE x; --"),
            "\"a\"\"; DROP TABLE x; --\""
        );
    }

    #[test]
    fn ddl_quotes_the_schema_everywhere() {
        let sql = koku_tables_sql("t1");
        assert!(!sql.contains("{schema}"));
        assert!(sql.contains("CREATE SCHEMA IF NOT EXISTS \"t1\";"));
        assert!(sql.contains("\"t1\".reporting_ocpusagelineitem_daily_summary"));
    }
}
