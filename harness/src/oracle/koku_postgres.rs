//! The koku oracle: the rows koku itself wrote into PostgreSQL for the same source and days.
//!
//! The reference-query oracles compute the summary from the Parquet files; this one computes
//! nothing. It reads `<schema>.reporting_ocpusagelineitem_daily_summary` as koku's summary step
//! left it, so a comparison with it checks the engine against koku's actual output rather than
//! against the project's reading of koku's SQL.
//!
//! One run ([`KokuPostgresOracle::run`]):
//! 1. connects to the server of [`KokuPostgresSettings::url`] (no TLS; 10 s connect timeout
//!    unless the URL sets `connect_timeout`);
//! 2. finds the report period R of the run (see [`KokuPostgresOracle`] for the rule);
//! 3. selects the rows with `report_period_id = R AND source_uuid = S AND usage_start BETWEEN
//!    start AND end` (end inclusive), leaving out the rows koku's delete keeps (cloud cost, see
//!    below), from the **partitioned parent table**. koku's table is range-partitioned on
//!    `usage_start` into monthly partitions (`…_YYYY_MM`) and a default partition; a query on the
//!    parent reads every partition whose range meets the dates, the default one included, so no
//!    partition is missed and none needs naming;
//! 4. maps each row to a [`ComparableRow`]: the natural key's columns as text (a NULL
//!    `data_source`, which the summary step never writes, becomes the empty text, so such a row
//!    shows up as only in the oracle instead of failing the run), `pod_labels` and
//!    `volume_labels` as jsonb text made canonical ([`canonical_json`]), `cost_category_id`, and
//!    the 18 metrics of [`Metric::ALL`] read with `::float8`.
//!
//! **Rounded values.** koku stores every metric as `numeric(33,15)` (spec §3 statement 4, §7.3),
//! so these are koku's rounded values, while the engine's rows are doubles before the sink's
//! rounding: a difference up to half a unit in the 15th decimal (plus the float8 conversion's
//! half ulp) is expected, and the comparison's tolerance (absolute floor 1e-9 by default) covers
//! it.
//!
//! **Cloud-cost rows are left out.** koku's summary step starts each chunk by deleting the rows of
//! its report period and days whose `infrastructure_raw_cost` is NULL or 0 (spec §1.2 step 4a);
//! rows carrying a cloud infrastructure cost survive, because another step of koku (the
//! OpenShift-on-cloud cost step) wrote them, not this one (and the summary step leaves `infrastructure_raw_cost` NULL, spec §4,
//! §12.4). The oracle reads exactly the complement: `infrastructure_raw_cost IS NULL OR
//! infrastructure_raw_cost = 0`, the rows the summary step owns.
//!
//! **Cost-model rows are left out.** koku's cost-model steps, which run after the summary, add
//! rows to the same table with `cost_model_rate_type` or `monthly_cost_type` set; the summary
//! step writes neither column (spec §4), so its rows are those with both NULL. Tag mapping
//! (spec §1.2 step 5, §12.11) rewrites labels in place and cannot be told apart: compare before
//! it runs, or expect label differences.
//!
//! **Measures.** [`OracleRun::elapsed`] is the wall time of the report-period lookup and the
//! select, rows received (not the connection, not the mapping). [`OracleRun::peak_rss_bytes`] is
//! `None`: the work happens in the server's processes, whose memory cannot be measured from
//! here. [`OracleRun::query_text`] holds both statements as run, values written in as literals,
//! so they can be rerun in `psql`.

use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use ocp_engine::postgres::{describe, quote_ident};
use ocp_engine::redact::redact_password;
use ocp_engine::summary::Metric;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};
use uuid::Uuid;

use super::query::sql_string;
use super::{Oracle, OracleError, OracleRun, QueryParams};
use crate::compare::{canonical_json, ComparableRow, NaturalKey, WrittenColumns};

/// The summary table, koku's partitioned parent.
const SUMMARY_TABLE: &str = "reporting_ocpusagelineitem_daily_summary";

/// The report-period table (spec §1.2 step 2).
const REPORT_PERIOD_TABLE: &str = "reporting_ocpusagereportperiod";

/// How long a connection attempt may take when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where koku's rows are. Its `Debug` form shows the URL without its password.
#[derive(Clone, PartialEq, Eq)]
pub struct KokuPostgresSettings {
    /// koku's database: a `postgresql://` URL or a `key=value` connection string. May carry a
    /// password; nothing this oracle prints shows it.
    pub url: String,
    /// The tenant schema holding koku's tables (e.g. `org1234567`). Used as given (quoted), not
    /// derived from the account: [`QueryParams::schema`] is ignored.
    pub schema: String,
}

impl std::fmt::Debug for KokuPostgresSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KokuPostgresSettings")
            .field("url", &redact_password(&self.url))
            .field("schema", &self.schema)
            .finish()
    }
}

/// koku's own rows in PostgreSQL as the oracle (see the module documentation).
///
/// **Report period.** When [`QueryParams::report_period_id`] is given, the oracle reads that
/// period: it is the id the compared engine run wrote its rows under, so reading any other would
/// compare different rows. It is checked first: the period must exist, belong to the run's
/// source (`provider_id`) and start on the first of the month of the run's start date; otherwise
/// the run fails naming the period, the source and the month, rather than quietly comparing with
/// another cluster's or month's rows. When it is not given, the oracle looks it up as koku does
/// (spec §1.2 step 2): the row of `reporting_ocpusagereportperiod` with `provider_id` = the source
/// and `report_period_start` on the first of the start date's month (in UTC, as koku stores it).
/// None, or more than one, is an error naming the source and the month.
///
/// Only the source, the dates and the report period of [`QueryParams`] are used; the folder,
/// catalog, run constants and koku variant describe how rows are computed, and koku's rows are
/// already computed.
#[derive(Debug, Clone)]
pub struct KokuPostgresOracle {
    settings: KokuPostgresSettings,
}

impl KokuPostgresOracle {
    /// The oracle reading `settings.schema` on `settings.url`. Connects only when run.
    pub fn new(settings: KokuPostgresSettings) -> Self {
        KokuPostgresOracle { settings }
    }

    /// The URL without its password, for messages.
    fn server(&self) -> String {
        redact_password(&self.settings.url)
    }

    /// `"schema".table`.
    fn table(&self, name: &str) -> String {
        format!("{}.{name}", quote_ident(&self.settings.schema))
    }

    /// Connects, finds the report period, selects the rows (see the module documentation).
    async fn run_async(&self, query: &QueryParams) -> Result<OracleRun, OracleError> {
        let client = self.connect().await?;
        let started = Instant::now();
        let (report_period_id, lookup_sql) = self.report_period(&client, query).await?;
        let select_sql = self.select_sql(report_period_id, query);
        let rows = client
            .query(select_sql.as_str(), &[])
            .await
            .map_err(|e| self.query_error(SUMMARY_TABLE, &e))?;
        let elapsed = started.elapsed();
        Ok(OracleRun {
            rows: rows.iter().map(comparable_row).collect(),
            elapsed,
            peak_rss_bytes: None,
            query_text: format!("{lookup_sql};\n\n{select_sql};\n"),
        })
    }

    /// A client whose connection is driven on the current runtime.
    async fn connect(&self) -> Result<Client, OracleError> {
        let mut config: tokio_postgres::Config = self.settings.url.parse().map_err(|e| {
            OracleError::Params(format!(
                "the koku PostgreSQL URL {} is not understood: {e}",
                self.server()
            ))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let (client, connection) = config
            .connect(NoTls)
            .await
            .map_err(|e| OracleError::Query {
                engine: "PostgreSQL".to_string(),
                message: format!(
                    "cannot connect to koku's database at {}: {}. Check that the server \
                         runs and is reachable, and that the URL's host, port, user and \
                         database are right and the server lets this user in without TLS.",
                    self.server(),
                    describe(&e)
                ),
            })?;
        tokio::spawn(async move {
            // The client reports a broken connection on its next call.
            let _ = connection.await;
        });
        Ok(client)
    }

    /// The report period to read and the SQL that found or checked it (see
    /// [`KokuPostgresOracle`]).
    async fn report_period(
        &self,
        client: &Client,
        query: &QueryParams,
    ) -> Result<(i32, String), OracleError> {
        let month_start = query
            .start
            .with_day(1)
            .expect("every month has a first day");
        let month = month_start.format("%Y-%m");
        let source = query.source_uuid;
        let table = self.table(REPORT_PERIOD_TABLE);
        let start_day = "(report_period_start AT TIME ZONE 'UTC')::date";
        match query.report_period_id {
            Some(id) => {
                let sql = format!("SELECT provider_id, {start_day} FROM {table} WHERE id = {id}");
                let row = client
                    .query_opt(sql.as_str(), &[])
                    .await
                    .map_err(|e| self.query_error(REPORT_PERIOD_TABLE, &e))?
                    .ok_or_else(|| {
                        OracleError::Params(format!(
                            "report period {id} of the run is not in {}.{REPORT_PERIOD_TABLE} \
                             at {}: check the run's report period id and the schema",
                            self.settings.schema,
                            self.server()
                        ))
                    })?;
                let (provider, start): (Uuid, NaiveDate) = (row.get(0), row.get(1));
                if provider != source || start != month_start {
                    return Err(OracleError::Params(format!(
                        "report period {id} of the run belongs to source {provider}, month {}, \
                         not to source {source}, month {month}: koku's rows of another source \
                         or month are not this run's to compare",
                        start.format("%Y-%m")
                    )));
                }
                Ok((id, sql))
            }
            None => {
                let sql = format!(
                    "SELECT id FROM {table} WHERE provider_id = {}::uuid AND {start_day} = {} \
                     ORDER BY id",
                    sql_string(&source.to_string()),
                    sql_date(month_start)
                );
                let rows = client
                    .query(sql.as_str(), &[])
                    .await
                    .map_err(|e| self.query_error(REPORT_PERIOD_TABLE, &e))?;
                let ids: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
                match ids.as_slice() {
                    [id] => Ok((*id, sql)),
                    [] => Err(OracleError::Params(format!(
                        "no report period for source {source} and month {month} in {}.\
                         {REPORT_PERIOD_TABLE} at {}: koku has not processed that month of \
                         this source there; check the source, the dates and the schema",
                        self.settings.schema,
                        self.server()
                    ))),
                    several => Err(OracleError::Params(format!(
                        "several report periods for source {source} and month {month} in {}.\
                         {REPORT_PERIOD_TABLE} ({several:?}): give the run's report period id",
                        self.settings.schema
                    ))),
                }
            }
        }
    }

    /// The select of the summary rows (see the module documentation), values as literals.
    fn select_sql(&self, report_period_id: i32, query: &QueryParams) -> String {
        let metrics: Vec<String> = Metric::ALL
            .iter()
            .map(|m| format!("{}::float8", m.column()))
            .collect();
        format!(
            "SELECT coalesce(data_source::text, ''), usage_start::date, namespace::text, \
             node::text, resource_id::text, persistentvolumeclaim::text, persistentvolume::text, \
             storageclass::text, pod_labels::text, volume_labels::text, cost_category_id::int4,\n       \
             {metrics},\n       \
             usage_end::date, all_labels::text, infrastructure_usage_cost::text, \
             report_period_id::int4, cluster_id::text, cluster_alias::text, source_uuid::text\n\
             FROM {table}\n\
             WHERE report_period_id = {report_period_id}\n  \
               AND source_uuid = {source}::uuid\n  \
               AND usage_start BETWEEN {start} AND {end}\n  \
               AND (infrastructure_raw_cost IS NULL OR infrastructure_raw_cost = 0)\n  \
               AND cost_model_rate_type IS NULL AND monthly_cost_type IS NULL",
            metrics = metrics.join(", "),
            table = self.table(SUMMARY_TABLE),
            source = sql_string(&query.source_uuid.to_string()),
            start = sql_date(query.start),
            end = sql_date(query.end),
        )
    }

    /// A failed query on `table`: a missing schema or table is the settings' fault
    /// ([`OracleError::Params`]); anything else is the server's ([`OracleError::Query`]).
    fn query_error(&self, table: &str, e: &tokio_postgres::Error) -> OracleError {
        let schema = &self.settings.schema;
        match e.code() {
            Some(code)
                if *code == SqlState::UNDEFINED_TABLE || *code == SqlState::INVALID_SCHEMA_NAME =>
            {
                OracleError::Params(format!(
                    "table {schema}.{table} does not exist at {}: {}. Check the schema setting \
                     (koku's tenant schema, e.g. org1234567) and that koku's tables are there",
                    self.server(),
                    describe(e)
                ))
            }
            _ => OracleError::Query {
                engine: "PostgreSQL".to_string(),
                message: format!(
                    "reading {schema}.{table} at {}: {}",
                    self.server(),
                    describe(e)
                ),
            },
        }
    }
}

impl Oracle for KokuPostgresOracle {
    fn describe(&self) -> String {
        format!(
            "koku's rows in PostgreSQL {} schema {} ({SUMMARY_TABLE})",
            self.server(),
            self.settings.schema
        )
    }

    /// Blocking. The work runs on a current-thread runtime in a thread of its own, so this can be
    /// called from inside an async runtime too (it then blocks that runtime's thread meanwhile).
    fn run(&self, query: &QueryParams) -> Result<OracleRun, OracleError> {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| {
                            OracleError::Setup(format!("cannot start a tokio runtime: {e}"))
                        })?;
                    runtime.block_on(self.run_async(query))
                })
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

/// One selected row (columns in the order of [`KokuPostgresOracle::select_sql`]).
fn comparable_row(row: &tokio_postgres::Row) -> ComparableRow {
    let labels = |i: usize| row.get::<_, Option<String>>(i).map(|t| canonical_json(&t));
    let mut metrics = [None; 18];
    for (i, value) in metrics.iter_mut().enumerate() {
        *value = row.get(11 + i);
    }
    ComparableRow {
        key: NaturalKey {
            data_source: row.get(0),
            usage_start: row.get(1),
            namespace: row.get(2),
            node: row.get(3),
            resource_id: row.get(4),
            persistentvolumeclaim: row.get(5),
            persistentvolume: row.get(6),
            storageclass: row.get(7),
            pod_labels: labels(8),
            volume_labels: labels(9),
            written: WrittenColumns {
                usage_end: row.get(29),
                all_labels: labels(30),
                infrastructure_usage_cost: labels(31),
                report_period_id: row.get(32),
                cluster_id: row.get(33),
                cluster_alias: row.get(34),
                source_uuid: row.get(35),
            },
        },
        cost_category_id: row.get(10),
        metrics,
    }
}

fn sql_date(date: NaiveDate) -> String {
    format!("DATE '{}'", date.format("%Y-%m-%d"))
}
