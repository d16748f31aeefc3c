//! The live Trino oracles: a site's own Trino, over koku's own tables.
//!
//! - [`TrinoOracle`] runs the reference query (`harness/sql/reference_summary.sql`, Trino's
//!   dialect, unchanged) on the site's Trino: koku's Hive tables in
//!   `<hive_catalog>.<hive_schema>` (`openshift_pod_usage_line_items[_daily]`, the label and
//!   storage tables) and koku's catalog tables through Trino's PostgreSQL connector in
//!   `<postgres_catalog>.<postgres_schema>` (`reporting_enabledtagkeys`,
//!   `reporting_ocp_cost_category_namespace`, `reporting_ocp_nodes`), as koku's own script reads
//!   them. koku's node step has already filled `reporting_ocp_nodes`, so the embedded oracle's
//!   stand-in for it (`reference_node_roles.sql`, `populate_ocp_nodes.sql`) is not run: the
//!   query reads koku's table. The template's `hive.{{schema}}.` and `postgres.{{schema}}.`
//!   become the settings' catalogs and schemas (default `hive`, `postgres`, the tenant schema).
//! - [`TrinoKokuStagingOracle`] reads what koku itself wrote for the run: the rows of koku's Hive
//!   staging table `<hive_catalog>.<hive_schema>.reporting_ocpusagelineitem_daily_summary` with
//!   the filter koku's copy to PostgreSQL uses (spec §3 statement 4, §7.9): `source`, `year`,
//!   `lpad(month, 2, '0')` (koku writes the month unpadded) and `day IN ('1', '2', …)` (unpadded)
//!   for the run's days.
//!
//! Both only read (SELECT). One run:
//! 1. `SELECT version()` (connection and credentials checked before the long query; the version
//!    goes into [`Oracle::describe`]);
//! 2. for the reference query, koku's `storage_exists` (spec §1.3, §12.9): whether
//!    `openshift_storage_usage_line_items_daily` is in the Hive schema's `information_schema`;
//! 3. the query: `POST /v1/statement`, then every `nextUri` until there is none (a 502, 503 or
//!    504 on a page, or a failed connection, is retried up to [`PAGE_ATTEMPTS`] times), rows
//!    converted page by page ([`super::trino_rows`]);
//! 4. [`OracleRun::elapsed`] and [`OracleRun::peak_rss_bytes`] are the query's own
//!    `elapsedTimeMillis` and `peakMemoryBytes` from its final statistics: Trino's time and the
//!    query's peak memory across the cluster, not a process's.
//!
//! The client is `trino-rust-client` (docs/oracle.md says why). Blocking: each oracle owns a
//! single-threaded runtime; call it outside an async runtime. Errors are
//! [`OracleError::Query`] naming the query, Trino's query id, its error name and message, and
//! the file the query text was kept in; the password or token never appears in them.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use chrono::Datelike;
use ocp_engine::summary::Metric;
use serde_json::Value;
use trino_rust_client::auth::Auth;
use trino_rust_client::error::Error as ClientError;
use trino_rust_client::ssl::Ssl;
use trino_rust_client::{
    Client, ClientBuilder, Column, QueryError, QueryResult, QueryResultData, Row,
};

use super::dialect::{translate, Dialect};
use super::query::{render, sql_identifier, sql_string, QueryParams, REFERENCE_SUMMARY_SQL};
use super::settings::{TrinoCredential, TrinoSettings};
use super::trino_rows::{comparable_rows, raw_type};
use super::{Oracle, OracleError, OracleRun};

/// Attempts at one result page before a transient failure (HTTP 502, 503, 504, no connection)
/// becomes the run's error.
pub const PAGE_ATTEMPTS: u32 = 5;

/// koku's storage table, whose existence decides the Storage branch (spec §1.3).
const STORAGE_TABLE: &str = "openshift_storage_usage_line_items_daily";

/// koku's Hive staging table of the summary rows (spec §3 statement 1).
const STAGING_TABLE: &str = "reporting_ocpusagelineitem_daily_summary";

/// The reference query on a site's Trino (see the module documentation).
pub struct TrinoOracle {
    connection: Connection,
}

/// koku's own rows in its Hive staging table, read through Trino (see the module
/// documentation).
pub struct TrinoKokuStagingOracle {
    connection: Connection,
}

impl TrinoOracle {
    /// The oracle on the Trino of `settings`. Checks the settings (URL, TLS files) without
    /// connecting; the first run connects.
    pub fn new(settings: TrinoSettings) -> Result<Self, OracleError> {
        Ok(TrinoOracle {
            connection: Connection::open(settings)?,
        })
    }
}

impl TrinoKokuStagingOracle {
    /// The oracle on the Trino of `settings`; see [`TrinoOracle::new`].
    pub fn new(settings: TrinoSettings) -> Result<Self, OracleError> {
        Ok(TrinoKokuStagingOracle {
            connection: Connection::open(settings)?,
        })
    }
}

impl Oracle for TrinoOracle {
    fn describe(&self) -> String {
        let c = &self.connection;
        let places = c.places_described();
        format!(
            "{} running harness/sql/reference_summary.sql over koku's Hive tables in {} and \
             koku's PostgreSQL tables in {}; time and peak memory are the query's own \
             (Trino's elapsedTimeMillis, peakMemoryBytes)",
            c.server(),
            places.hive,
            places.postgres
        )
    }

    fn run(&self, query: &QueryParams) -> Result<OracleRun, OracleError> {
        let c = &self.connection;
        let places = c.places(query)?;
        c.check_version()?;
        let (check, storage_exists) = c.storage_exists(&places.hive)?;
        let template = qualify(REFERENCE_SUMMARY_SQL, &places);
        let sql = translate(&render(&template, query, storage_exists)?, Dialect::Trino)?;
        let sql = sql.trim_end().to_string();
        let answer = c.query(
            "the reference summary query (harness/sql/reference_summary.sql)",
            &sql,
            comparable_rows,
        )?;
        Ok(OracleRun {
            rows: answer.rows,
            elapsed: answer.elapsed,
            peak_rss_bytes: Some(answer.peak_memory_bytes),
            query_text: format!(
                "-- storage_exists = {storage_exists}, from:\n-- {}\n{sql}\n",
                check.replace('\n', " ")
            ),
        })
    }
}

impl Oracle for TrinoKokuStagingOracle {
    fn describe(&self) -> String {
        let c = &self.connection;
        format!(
            "koku's own rows: its Hive staging table {}.{STAGING_TABLE}, read through {}; time \
             and peak memory are those of reading them (Trino's query statistics), not of \
             koku's run",
            c.places_described().hive,
            c.server()
        )
    }

    fn run(&self, query: &QueryParams) -> Result<OracleRun, OracleError> {
        let c = &self.connection;
        let places = c.places(query)?;
        c.check_version()?;
        let sql = staging_sql(&places.hive, query);
        let answer = c.query(
            &format!(
                "the read of koku's staging table {}.{STAGING_TABLE}",
                places.hive
            ),
            &sql,
            comparable_rows,
        )?;
        Ok(OracleRun {
            rows: answer.rows,
            elapsed: answer.elapsed,
            peak_rss_bytes: Some(answer.peak_memory_bytes),
            query_text: format!("{sql}\n"),
        })
    }
}

/// Statements on a Trino, answered as JSON rows: for setting a server up (DDL, partition
/// registration, loads) and for asking it single facts, never as an oracle. Blocking, like the
/// oracles; errors as theirs ([`OracleError::Query`] naming `what`, Trino's error, the kept
/// query text).
pub struct TrinoSession {
    connection: Connection,
}

impl TrinoSession {
    /// A session on the Trino of `settings` (its Hive catalog and schema are the defaults of
    /// unqualified names). Checks the settings without connecting.
    pub fn open(settings: TrinoSettings) -> Result<Self, OracleError> {
        Ok(TrinoSession {
            connection: Connection::open(settings)?,
        })
    }

    /// Runs `sql` to the end and returns its rows, each value as Trino sent it (JSON).
    pub fn rows(&self, what: &str, sql: &str) -> Result<Vec<Vec<Value>>, OracleError> {
        let answer = self
            .connection
            .query(what, sql, |_, rows| Ok(rows.to_vec()))?;
        Ok(answer.rows)
    }
}

/// `catalog.schema` of koku's Hive tables and of its PostgreSQL tables, for one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Places {
    pub hive: String,
    pub postgres: String,
}

/// `template` reading koku's tables at `places`: every `hive.{{schema}}.` and
/// `postgres.{{schema}}.` of the reference query's text replaced.
pub fn qualify(template: &str, places: &Places) -> String {
    template
        .replace("hive.{{schema}}.", &format!("{}.", places.hive))
        .replace("postgres.{{schema}}.", &format!("{}.", places.postgres))
}

/// The SELECT of koku's staging rows for the run of `query` from `hive` (`catalog.schema`):
/// koku's statement 4 filter (spec §3), the compared columns, `all_labels` computed as statement
/// 4 computes it on its copy (the pod labels, then the volume labels, over `{}`).
pub fn staging_sql(hive: &str, query: &QueryParams) -> String {
    let days: Vec<String> = query
        .start
        .iter_days()
        .take_while(|day| *day <= query.end)
        .map(|day| sql_string(&day.day().to_string()))
        .collect();
    let metrics: Vec<&str> = Metric::ALL.iter().map(Metric::column).collect();
    format!(
        "SELECT data_source, usage_start, namespace, node, resource_id, pod_labels, \
         volume_labels,\n    persistentvolumeclaim, persistentvolume, storageclass, \
         cost_category_id,\n    {},\n    usage_end, infrastructure_usage_cost, \
         report_period_id, cluster_id, cluster_alias, source_uuid,\n    \
         json_format(CAST(map_concat(\
         CAST(json_parse(coalesce(pod_labels, '{{}}')) AS map(varchar, varchar)), \
         CAST(json_parse(coalesce(volume_labels, '{{}}')) AS map(varchar, varchar))\
         ) AS json)) AS all_labels\nFROM {hive}.{STAGING_TABLE}\nWHERE source = {}\n  \
         AND year = {}\n  AND lpad(month, 2, '0') = {}\n  AND day IN ({})",
        metrics.join(", "),
        sql_string(&query.source_uuid.to_string()),
        sql_string(&query.year()),
        sql_string(&query.month()),
        days.join(", ")
    )
}

/// What one query returned: its rows converted, and its own statistics.
struct Answer<T> {
    rows: Vec<T>,
    elapsed: Duration,
    peak_memory_bytes: u64,
}

/// Converts one page of rows, given the result's columns.
type Convert<T> = fn(&[Column], &[Vec<Value>]) -> Result<Vec<T>, String>;

/// Why a query produced no answer, before it is put into words.
enum Failure {
    /// The client failed: HTTP status, connection, decoding.
    Client(ClientError),
    /// Trino ran the query and it failed.
    Failed { id: String, error: Box<QueryError> },
    /// The answer could not be used (spooled data, rows not convertible, unfinished state).
    Answer { id: String, message: String },
}

/// A Trino client, the runtime it runs on, and what the runs learned about the server.
struct Connection {
    settings: TrinoSettings,
    client: Client,
    runtime: tokio::runtime::Runtime,
    /// The server's version, once a run has asked.
    version: Mutex<Option<String>>,
    /// Where the last run found koku's tables.
    last_places: Mutex<Option<Places>>,
}

impl Connection {
    fn open(settings: TrinoSettings) -> Result<Self, OracleError> {
        let client = build_client(&settings)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| OracleError::Setup(format!("cannot start the async runtime: {e}")))?;
        Ok(Connection {
            settings,
            client,
            runtime,
            version: Mutex::new(None),
            last_places: Mutex::new(None),
        })
    }

    /// `Trino <version> at <url> as <user>`.
    fn server(&self) -> String {
        let version = self.version.lock().expect("not poisoned").clone();
        format!(
            "Trino{} at {} as {}",
            version.map_or(String::new(), |v| format!(" {v}")),
            self.settings.url,
            self.settings.user
        )
    }

    /// Where koku's tables are for `query`: the settings' catalogs and schemas, the tenant
    /// schema where no schema is set. Each must be a plain identifier. Remembered for
    /// [`Connection::places_described`].
    fn places(&self, query: &QueryParams) -> Result<Places, OracleError> {
        let s = &self.settings;
        let place = |what: &str, catalog: &str, schema: Option<&String>| {
            let schema = schema.unwrap_or(&query.schema);
            let plain = |key: &str, name: &str| {
                sql_identifier(name).map_err(|_| {
                    OracleError::Params(format!(
                        "the Trino {what} {key} {name:?} is not a plain SQL identifier (letters, \
                         digits, _)"
                    ))
                })
            };
            Ok::<_, OracleError>(format!(
                "{}.{}",
                plain("catalog", catalog)?,
                plain("schema", schema)?
            ))
        };
        let places = Places {
            hive: place("Hive", &s.hive_catalog, s.hive_schema.as_ref())?,
            postgres: place(
                "PostgreSQL",
                &s.postgres_catalog,
                s.postgres_schema.as_ref(),
            )?,
        };
        *self.last_places.lock().expect("not poisoned") = Some(places.clone());
        Ok(places)
    }

    /// [`Connection::places`] of the last run, for a report; before any run, the settings with
    /// the tenant schema unnamed.
    fn places_described(&self) -> Places {
        if let Some(places) = self.last_places.lock().expect("not poisoned").clone() {
            return places;
        }
        let s = &self.settings;
        let schema =
            |set: &Option<String>| set.clone().unwrap_or_else(|| "<tenant schema>".to_string());
        Places {
            hive: format!("{}.{}", s.hive_catalog, schema(&s.hive_schema)),
            postgres: format!("{}.{}", s.postgres_catalog, schema(&s.postgres_schema)),
        }
    }

    /// Asks the server's version (and so checks the connection and credentials).
    fn check_version(&self) -> Result<(), OracleError> {
        let answer = self.query(
            "the version check",
            "SELECT version() AS trino_version",
            |_, rows| Ok(rows.iter().filter_map(|r| r.first()).cloned().collect()),
        )?;
        let version = answer
            .rows
            .first()
            .and_then(Value::as_str)
            .map(str::to_string);
        *self.version.lock().expect("not poisoned") = version;
        Ok(())
    }

    /// koku's `storage_exists` for the Hive schema `hive` (`catalog.schema`): the check's SQL
    /// and its answer.
    fn storage_exists(&self, hive: &str) -> Result<(String, bool), OracleError> {
        let (catalog, schema) = hive.split_once('.').expect("a place is catalog.schema");
        let sql = format!(
            "SELECT count(*) AS tables FROM {catalog}.information_schema.tables \
             WHERE table_schema = {} AND table_name = {}",
            sql_string(schema),
            sql_string(STORAGE_TABLE)
        );
        let answer = self.query("the storage-table check", &sql, |columns, rows| {
            let numeric = columns.first().map(raw_type).as_deref() == Some("bigint");
            rows.iter()
                .map(|row| match row.first().and_then(Value::as_i64) {
                    Some(n) if numeric => Ok(n),
                    _ => Err(format!("expected one bigint count, got {row:?}")),
                })
                .collect()
        })?;
        let exists = answer.rows.first().is_some_and(|n| *n > 0);
        Ok((sql, exists))
    }

    /// Runs `sql` (named `what` in errors), rows converted by `convert` page by page.
    fn query<T>(
        &self,
        what: &str,
        sql: &str,
        convert: Convert<T>,
    ) -> Result<Answer<T>, OracleError> {
        self.runtime
            .block_on(fetch(&self.client, sql, convert))
            .map_err(|failure| self.explain(what, sql, failure))
    }

    /// The error a failure becomes: the query named, Trino's words, secrets redacted.
    fn explain(&self, what: &str, sql: &str, failure: Failure) -> OracleError {
        let url = &self.settings.url;
        let message = match failure {
            Failure::Failed { id, error } => {
                let at = error.error_location.as_ref().map_or(String::new(), |l| {
                    format!(" (line {}, column {})", l.line_number, l.column_number)
                });
                let hint = if error.error_name == "PERMISSION_DENIED" {
                    "; the user needs SELECT on koku's tables (docs/operations.md)"
                } else {
                    ""
                };
                format!(
                    "{what} failed on Trino at {url} (query {id}): {}: {}{at}{hint}{}",
                    error.error_name,
                    error.message,
                    kept_text(sql)
                )
            }
            Failure::Answer { id, message } => {
                format!(
                    "{what} (query {id} on Trino at {url}): {message}{}",
                    kept_text(sql)
                )
            }
            Failure::Client(ClientError::HttpNotOk(status, body)) => {
                let hint = if status.as_u16() == 401 {
                    " (check the user and TRINO_PASSWORD or TRINO_JWT)"
                } else {
                    ""
                };
                let body: String = body.trim().chars().take(300).collect();
                format!("{what}: Trino at {url} answered HTTP {status}{hint}: {body}")
            }
            Failure::Client(error) => format!("{what}: Trino at {url}: {}", chain(&error)),
        };
        OracleError::Query {
            engine: "Trino".to_string(),
            message: self.settings.redact(&message),
        }
    }
}

/// `error` and each of its sources, joined: a connection error's cause is in its sources.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// `; the query text is in <file>` after writing `sql` to a kept temporary file, or nothing
/// when it cannot be written.
fn kept_text(sql: &str) -> String {
    let kept = tempfile::Builder::new()
        .prefix("ocp-oracle-trino-")
        .tempdir()
        .ok()
        .and_then(|dir| {
            let path: PathBuf = dir.keep().join("query.sql");
            std::fs::write(&path, sql).ok().map(|()| path)
        });
    kept.map_or(String::new(), |path| {
        format!("; the query text is in {}", path.display())
    })
}

/// The client for `settings`: endpoint, user, catalog, credential and TLS.
fn build_client(settings: &TrinoSettings) -> Result<Client, OracleError> {
    let endpoint = Endpoint::parse(&settings.url)?;
    if settings.credential.is_some() && !endpoint.secure && !settings.insecure {
        return Err(OracleError::Params(format!(
            "a Trino password or token would go over plain http to {}: use an https:// URL, \
             or set insecure = true (TRINO_INSECURE=1) for a test server",
            settings.url
        )));
    }
    let mut builder = ClientBuilder::new(&settings.user, &endpoint.host)
        .port(endpoint.port)
        .secure(endpoint.secure)
        .source("ocp-harness")
        .catalog(&settings.hive_catalog)
        .no_verify(settings.insecure)
        .auth_http_insecure(settings.insecure);
    if let Some(schema) = &settings.hive_schema {
        builder = builder.schema(schema);
    }
    builder = match &settings.credential {
        Some(TrinoCredential::Password(p)) => {
            builder.auth(Auth::new_basic(&settings.user, Some(p.expose())))
        }
        Some(TrinoCredential::Jwt(token)) => builder.auth(Auth::new_jwt(token.expose())),
        None => builder,
    };
    if let Some(ca_file) = &settings.ca_file {
        let root = Ssl::read_pem(ca_file).map_err(|e| {
            OracleError::Params(format!("Trino CA file {}: {e}", ca_file.display()))
        })?;
        builder = builder.ssl(Ssl {
            root_cert: Some(root),
        });
    }
    builder
        .build()
        .map_err(|e| OracleError::Setup(settings.redact(&format!("Trino client: {e}"))))
}

/// The coordinator's host, port and scheme.
struct Endpoint {
    host: String,
    port: u16,
    secure: bool,
}

impl Endpoint {
    /// `http(s)://host[:port]`; a path, query, user or password is refused (the password goes
    /// in `TRINO_PASSWORD`). Messages never repeat a URL that holds user information.
    fn parse(text: &str) -> Result<Self, OracleError> {
        let bad = |why: &str| OracleError::Params(format!("the Trino URL {why}"));
        let url = url::Url::parse(text).map_err(|e| bad(&format!("is not a URL: {e}")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "must not hold a user or password: set them with --trino-user / TRINO_USER and \
                 TRINO_PASSWORD",
            ));
        }
        let secure = match url.scheme() {
            "https" => true,
            "http" => false,
            other => {
                return Err(bad(&format!(
                    "{text} has scheme {other}, not http or https"
                )))
            }
        };
        if !matches!(url.path(), "" | "/") || url.query().is_some() {
            return Err(bad(&format!(
                "{text} must be scheme://host:port, without a path"
            )));
        }
        let host = url
            .host_str()
            .ok_or_else(|| bad(&format!("{text} has no host")))?
            .to_string();
        let port = url
            .port_or_known_default()
            .expect("http(s) has a default port");
        Ok(Endpoint { host, port, secure })
    }
}

/// Submits `sql` and follows `nextUri` to the end, converting each page's rows.
async fn fetch<T>(client: &Client, sql: &str, convert: Convert<T>) -> Result<Answer<T>, Failure> {
    let mut page = client
        .get::<Row>(sql.to_string())
        .await
        .map_err(Failure::Client)?;
    let id = page.id.clone();
    let mut columns: Option<Vec<Column>> = None;
    let mut rows = Vec::new();
    loop {
        if let Some(error) = page.error.take() {
            return Err(Failure::Failed {
                id,
                error: Box::new(error),
            });
        }
        if columns.is_none() {
            columns = page.columns.take();
        }
        if let Err(message) = take_rows(&mut page, columns.as_deref(), convert, &mut rows) {
            // Stop the query on the server; the failure is reported either way.
            let _ = client.cancel(&id).await;
            return Err(Failure::Answer { id, message });
        }
        match page.next_uri.take() {
            Some(uri) => page = next_page(client, &uri).await?,
            None => break,
        }
    }
    if page.stats.state != "FINISHED" {
        let message = format!(
            "the query ended in state {} without an error",
            page.stats.state
        );
        return Err(Failure::Answer { id, message });
    }
    Ok(Answer {
        rows,
        elapsed: Duration::from_millis(page.stats.elapsed_time_millis),
        peak_memory_bytes: page.stats.peak_memory_bytes,
    })
}

/// Moves `page`'s rows, converted, into `rows`.
fn take_rows<T>(
    page: &mut QueryResult<Row>,
    columns: Option<&[Column]>,
    convert: Convert<T>,
    rows: &mut Vec<T>,
) -> Result<(), String> {
    match page.data.take() {
        None => Ok(()),
        Some(QueryResultData::Direct(data)) => {
            let columns = columns.ok_or("rows arrived before their columns")?;
            let values: Vec<Vec<Value>> = data.into_iter().map(Row::into_json).collect();
            rows.extend(convert(columns, &values)?);
            Ok(())
        }
        Some(_) => Err("Trino sent spooled segments, which this client never asks for".to_string()),
    }
}

/// The page at `uri`, retrying transient failures ([`PAGE_ATTEMPTS`], backing off from 200 ms).
async fn next_page(client: &Client, uri: &str) -> Result<QueryResult<Row>, Failure> {
    let mut delay = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match client.get_next::<Row>(uri).await {
            Err(error) if attempt < PAGE_ATTEMPTS && transient(&error) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            result => return result.map_err(Failure::Client),
        }
    }
}

/// Whether a page request may succeed when repeated: Trino's protocol asks clients to retry a
/// 502, 503 or 504; a connection that failed or timed out is retried too (pages are GETs).
fn transient(error: &ClientError) -> bool {
    match error {
        ClientError::HttpNotOk(status, _) => matches!(status.as_u16(), 502..=504),
        ClientError::HttpError(error) => error.is_connect() || error.is_timeout(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::settings::{Secret, TrinoSection};
    use chrono::NaiveDate;
    use ocp_engine::compat::Compatibility;
    use uuid::Uuid;

    fn params() -> QueryParams {
        QueryParams {
            location: PathBuf::from("s3://koku"),
            account: "org1234567".into(),
            schema: "org1234567".into(),
            source_uuid: Uuid::from_u128(1),
            start: NaiveDate::from_ymd_opt(2026, 9, 8).unwrap(),
            end: NaiveDate::from_ymd_opt(2026, 9, 10).unwrap(),
            report_period_id: Some(3),
            cluster_id: Some("c1".into()),
            cluster_alias: None,
            enabled_tag_keys: vec![],
            cost_category_patterns: vec![],
            nodes: vec![],
            compatibility: Compatibility::Trino,
        }
    }

    fn settings(url: &str) -> TrinoSettings {
        TrinoSettings::resolve(TrinoSection {
            url: Some(url.into()),
            user: Some("reader".into()),
            ..TrinoSection::default()
        })
        .unwrap()
    }

    #[test]
    fn the_reference_query_reads_the_configured_catalogs_and_kokus_node_table() {
        let places = Places {
            hive: "lake.org1234567".into(),
            postgres: "kokudb.public_org".into(),
        };
        for storage in [false, true] {
            let sql = render(&qualify(REFERENCE_SUMMARY_SQL, &places), &params(), storage).unwrap();
            // Only the comments still say `hive.` or `postgres.`; every table read is at the places.
            assert!(
                !sql.contains("hive.org1234567") && !sql.contains("postgres.org1234567"),
                "{sql}"
            );
            assert!(sql.contains("FROM lake.org1234567.openshift_pod_usage_line_items_daily"));
            assert!(sql.contains("FROM kokudb.public_org.reporting_ocp_nodes"));
            assert!(sql.contains("kokudb.public_org.reporting_enabledtagkeys"));
            assert_eq!(
                sql.contains("lake.org1234567.openshift_storage_usage_line_items_daily"),
                storage
            );
        }
    }

    #[test]
    fn the_staging_read_uses_kokus_unpadded_partitions() {
        let sql = staging_sql("hive.org1234567", &params());
        assert!(sql.contains("FROM hive.org1234567.reporting_ocpusagelineitem_daily_summary"));
        assert!(sql.contains("source = '00000000-0000-0000-0000-000000000001'"));
        assert!(sql.contains("year = '2026'"));
        assert!(sql.contains("lpad(month, 2, '0') = '09'"));
        assert!(sql.contains("day IN ('8', '9', '10')"), "{sql}");
        for metric in Metric::ALL {
            assert!(sql.contains(metric.column()));
        }
    }

    #[test]
    fn places_default_to_the_tenant_schema_and_refuse_odd_names() {
        let oracle = TrinoOracle::new(settings("http://127.0.0.1:8080")).unwrap();
        assert_eq!(
            oracle.connection.places(&params()).unwrap(),
            Places {
                hive: "hive.org1234567".into(),
                postgres: "postgres.org1234567".into()
            }
        );
        let mut odd = settings("http://127.0.0.1:8080");
        odd.postgres_catalog = "koku-db".into();
        let error = TrinoOracle::new(odd)
            .unwrap()
            .connection
            .places(&params())
            .unwrap_err();
        assert!(
            error.to_string().contains("PostgreSQL catalog \"koku-db\""),
            "{error}"
        );
    }

    #[test]
    fn urls_are_host_and_port_only_and_never_carry_secrets() {
        let endpoint = Endpoint::parse("https://trino.example:8443").unwrap();
        assert_eq!(
            (endpoint.host.as_str(), endpoint.port),
            ("trino.example", 8443)
        );
        assert!(endpoint.secure);
        assert_eq!(Endpoint::parse("http://t").unwrap().port, 80);
        for bad in ["ftp://t", "https://t/trino", "not a url"] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
        let error = Endpoint::parse("https://u:hunter2@t:8443").err().unwrap();
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[test]
    fn a_credential_over_plain_http_needs_the_insecure_flag() {
        let mut s = settings("http://127.0.0.1:8080");
        s.credential = Some(TrinoCredential::Password(Secret::new("hunter2")));
        let error = TrinoOracle::new(s.clone()).err().unwrap();
        assert!(error.to_string().contains("https://"), "{error}");
        assert!(!error.to_string().contains("hunter2"));
        s.insecure = true;
        assert!(TrinoOracle::new(s).is_ok());
    }
}
