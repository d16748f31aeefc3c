//! What the catalog and the sink share about PostgreSQL: connecting, quoting the tenant schema,
//! the DDL the project ships for the tables it reads and writes (`engine/sql/`), and the rows of
//! koku's node and cluster tables as koku writes them (the sink's node step, the harness's
//! catalog).

use tokio_postgres::{Client, GenericClient, NoTls};
use uuid::Uuid;

use crate::config::NodeRecord;

use crate::error::{Error, Result, Service};

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

/// `url` (a `postgresql://` URL or a libpq key=value string) with any password replaced by
/// `***`, safe to print. A key=value string is shown as what it connects to (host, port, user,
/// database), parsed by libpq's rules; one that does not parse is not shown at all.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return describe_key_value(url);
    };
    // The user info ends at the authority's last `@` (a raw `@` in a password comes before it).
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    format!("{scheme}://{authority}{}", redact_query_password(tail))
}

/// A key=value connection string as what it connects to, its password (if any) as `***`.
fn describe_key_value(text: &str) -> String {
    let Ok(config) = text.parse::<tokio_postgres::Config>() else {
        return "(a key=value connection string that does not parse: not shown, it may hold a \
                password)"
            .to_string();
    };
    let mut parts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => format!("host={name}"),
            tokio_postgres::config::Host::Unix(path) => format!("host={}", path.display()),
        })
        .collect();
    parts.extend(config.get_ports().iter().map(|port| format!("port={port}")));
    if let Some(user) = config.get_user() {
        parts.push(format!("user={user}"));
    }
    if let Some(dbname) = config.get_dbname() {
        parts.push(format!("dbname={dbname}"));
    }
    if config.get_password().is_some() {
        parts.push("password=***".to_string());
    }
    parts.join(" ")
}

/// Blanks a `password=` query parameter of a URL's path/query part.
fn redact_query_password(rest: &str) -> String {
    let Some((path, query)) = rest.split_once('?') else {
        return rest.to_string();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
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
    fn redact_password_hides_secrets_in_both_url_forms() {
        assert_eq!(
            redact_password("postgresql://koku:s3cret@db:5432/koku"),
            "postgresql://koku:***@db:5432/koku"
        );
        assert_eq!(
            redact_password("host=db user=koku password=s3cret dbname=koku"),
            "host=db user=koku dbname=koku password=***"
        );
        // libpq allows spaces around `=` and quoted values with spaces.
        assert_eq!(
            redact_password("host=db password = s3cret user=koku"),
            "host=db user=koku password=***"
        );
        assert_eq!(
            redact_password("host=db password='two words' port=5433"),
            "host=db port=5433 password=***"
        );
        let unparsable = redact_password("host=db password='s3cret");
        assert!(!unparsable.contains("s3cret"), "{unparsable}");
        // A raw `@` in a URL's password: everything before the host's `@` is hidden.
        assert_eq!(
            redact_password("postgresql://koku:p@ss@db/koku"),
            "postgresql://koku:***@db/koku"
        );
        assert_eq!(
            redact_password("postgresql://koku@db/koku"),
            "postgresql://koku@db/koku"
        );
        // libpq also takes the password as a query parameter.
        assert_eq!(
            redact_password("postgresql://koku@db/koku?sslmode=require&password=s3cret"),
            "postgresql://koku@db/koku?sslmode=require&password=***"
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
