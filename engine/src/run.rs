//! One run: one source, one date range inside one month (spec §1.2). Phases, in order:
//! read (Parquet → compact rows), labels (parse and filter), aggregate (Pod rows, Storage rows,
//! node roles, unallocated rows), write (PostgreSQL or file). Each phase is timed and its peak
//! memory taken.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, Utc};
use uuid::Uuid;

use crate::catalog::{report_period, Catalog, ReportPeriod};
use crate::compat::Compatibility;
use crate::config::InlineCatalog;
use crate::daily::{DayAggregator, DaySummary, KeptRows};
use crate::error::{Error, Result};
use crate::inputs::read_inputs;
use crate::label_joins::{CostCategories, JoinedLabels, LabelFilter};
use crate::memory::{peak_rss_bytes, reset_peak};
use crate::month_lock::{Month, MonthLock};
use crate::node_roles::{discover_nodes, record_nodes, role_lookup, NodeRecording};
use crate::pod::filter_pod_labels;
use crate::sink::file::FileSink;
use crate::sink::postgres::{MonthWrite, RunRecord};
use crate::sink::{MonthSink, RowCounts, RunIdentity};
use crate::source::{MonthScan, Partition, S3Settings, ScanProgress, Source};
use crate::storage::filter_volume_labels;
use crate::summary::SummaryRow;
use crate::window::{date_of_day, DayWindow};

/// Where the catalog comes from.
#[derive(Debug, Clone)]
pub enum CatalogSource {
    /// koku's tables in the PostgreSQL schema of [`RunRequest::postgres`].
    Postgres,
    /// Given inline (the embedded default).
    Inline(InlineCatalog),
}

/// Where the rows go.
#[derive(Debug, Clone)]
pub enum Output {
    /// koku's summary table in the PostgreSQL schema of [`RunRequest::postgres`].
    Postgres,
    /// A `.parquet` or `.csv` file.
    File(PathBuf),
}

/// A PostgreSQL server and tenant schema.
#[derive(Debug, Clone)]
pub struct PostgresTarget {
    pub url: String,
    pub schema: String,
}

/// Everything a run needs, resolved from config file, environment and flags.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// Where the line items are: a folder, `s3://bucket[/prefix]`, or a PostgreSQL URL whose
    /// on-prem tables are read in the schema of [`RunRequest::postgres`].
    pub location: String,
    pub s3: S3Settings,
    pub account: String,
    pub source_uuid: Uuid,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub report_period_id: Option<i32>,
    pub cluster_id: Option<String>,
    pub cluster_alias: Option<String>,
    pub catalog: CatalogSource,
    pub postgres: Option<PostgresTarget>,
    pub output: Output,
    /// The koku variant reproduced (spec §9.3); Trino unless asked otherwise.
    pub compatibility: Compatibility,
    /// How long a run writing to PostgreSQL waits for another run of the same schema, source
    /// and month to finish ([`crate::month_lock`]); zero: not at all.
    pub month_lock_wait: Duration,
    /// Whether the report carries the rows ([`RunReport::rows`]), for callers that compare them.
    /// Without it a run holds one day of output at a time.
    pub keep_rows: bool,
}

/// How long a run waits for another run of its month by default: far beyond any month's write
/// measured (docs/performance.md), short of koku's task limits.
pub const DEFAULT_MONTH_LOCK_WAIT: Duration = Duration::from_secs(600);

/// Time and peak memory of one phase.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseReport {
    pub name: &'static str,
    pub elapsed: Duration,
    pub peak_rss_bytes: Option<u64>,
}

/// What a finished run did.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub run_id: Uuid,
    /// The start date after koku's move to the first day with data (spec §1.2 step 1).
    pub effective_start: NaiveDate,
    pub end: NaiveDate,
    pub files_per_table: Vec<(String, usize)>,
    pub rows_per_data_source: Vec<(&'static str, usize)>,
    /// Rows deleted from PostgreSQL (0 for a file output).
    pub rows_deleted: u64,
    pub phases: Vec<PhaseReport>,
    /// From the run's start to its end. Not the phases' sum: aggregate and write overlap.
    pub elapsed: Duration,
    /// The rows, when the request asked to keep them ([`RunRequest::keep_rows`]; otherwise
    /// empty): Pod rows and Storage rows each by natural key, then unallocated rows by node and
    /// day.
    pub rows: Vec<SummaryRow>,
    /// What every written row carries besides its own columns.
    pub constants: RunConstants,
}

/// The columns every row of a run carries alike (spec §3 statement 4).
#[derive(Debug, Clone, PartialEq)]
pub struct RunConstants {
    pub report_period_id: i32,
    pub cluster_id: String,
    pub cluster_alias: Option<String>,
    pub source_uuid: Uuid,
}

impl RunReport {
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        self.phases.iter().filter_map(|p| p.peak_rss_bytes).max()
    }
}

/// Who watches a run as it goes (the CLI's progress bar and its JSON event log). Every method
/// has a default that does nothing.
pub trait RunObserver: Sync {
    /// File or table progress of the read phase.
    fn progress(&self) -> &ScanProgress;
    /// The run got its id; nothing is read yet.
    fn started(&self, _run_id: Uuid) {}
    /// A phase finished (in order: read, labels, aggregate, write).
    fn phase_finished(&self, _phase: &PhaseReport) {}
    /// Another run of the same month is writing; this one waits (`message` says for whom and
    /// how long) before it reads anything.
    fn waiting(&self, _message: &str) {}
}

impl RunObserver for ScanProgress {
    fn progress(&self) -> &ScanProgress {
        self
    }
}

/// Times phases and their peak memory, and tells the observer as each ends.
struct Phases<'a> {
    done: Vec<PhaseReport>,
    observer: &'a dyn RunObserver,
}

impl Phases<'_> {
    async fn run<T>(
        &mut self,
        name: &'static str,
        work: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        reset_peak();
        let started = Instant::now();
        let result = work.await?;
        let phase = PhaseReport {
            name,
            elapsed: started.elapsed(),
            peak_rss_bytes: peak_rss_bytes(),
        };
        self.observer.phase_finished(&phase);
        self.done.push(phase);
        Ok(result)
    }

    /// Records a phase timed by the caller (the aggregate and write phases, which interleave
    /// day by day).
    fn record(&mut self, name: &'static str, elapsed: Duration, peak_rss_bytes: Option<u64>) {
        let phase = PhaseReport {
            name,
            elapsed,
            peak_rss_bytes,
        };
        self.observer.phase_finished(&phase);
        self.done.push(phase);
    }
}

/// Checks the dates: `start <= end`, both in one month (koku splits ranges by month first).
pub fn validate_dates(start: NaiveDate, end: NaiveDate) -> Result<()> {
    if start > end {
        return Err(Error::setting(
            "period.start",
            format!("start date {start} is after end date {end}"),
        ));
    }
    if (start.year(), start.month()) != (end.year(), end.month()) {
        return Err(Error::setting(
            "period.end",
            format!(
            "start {start} and end {end} are in different months; koku summarises one month at a \
             time: run once per month"
        ),
        ));
    }
    Ok(())
}

/// Runs the summary for `request`, telling `observer` its id, the read phase's progress and
/// each phase as it ends (a [`ScanProgress`] alone is an observer of progress only).
pub async fn run(request: &RunRequest, observer: &dyn RunObserver) -> Result<RunReport> {
    validate_dates(request.start, request.end)?;
    let run_started = Instant::now();
    let started_at = Utc::now();
    let run_id = Uuid::new_v4();
    observer.started(run_id);
    let progress = observer.progress();
    let mut phases = Phases {
        done: Vec::new(),
        observer,
    };

    // Connect first: an unreachable server should fail before minutes of reading.
    let mut client = match &request.postgres {
        Some(target) => Some(crate::postgres::connect(&target.url).await?),
        None => None,
    };
    let schema = request
        .postgres
        .as_ref()
        .map(|t| t.schema.as_str())
        .unwrap_or_default();
    // A run that writes the month waits for any other run writing it, before it reads the
    // catalog that run may change.
    let month_lock = match (&request.output, &client) {
        (Output::Postgres, Some(client)) => {
            let month = Month {
                schema,
                source_uuid: request.source_uuid,
                day: request.start,
            };
            let wait = request.month_lock_wait;
            Some(MonthLock::acquire(client, &month, wait, |m| observer.waiting(m)).await?)
        }
        _ => None,
    };
    let catalog = match (&request.catalog, &client) {
        (CatalogSource::Inline(inline), _) => Catalog::inline(inline),
        (CatalogSource::Postgres, Some(client)) => {
            Catalog::from_postgres(client, schema, request.source_uuid).await?
        }
        (CatalogSource::Postgres, None) => {
            return Err(Error::setting(
                "postgres.url",
                "the catalog is to come from PostgreSQL, but no postgres.url is set",
            ))
        }
    };
    let identity = resolve_identity(request, run_id, client.as_ref(), schema).await?;

    let source = Source::open(
        &request.location,
        &request.s3,
        request.postgres.as_ref().map(|t| t.schema.as_str()),
    )?;
    let partition = Partition {
        account: request.account.clone(),
        source_uuid: request.source_uuid.to_string(),
        year: request.start.year(),
        month: request.start.month(),
    };
    let window = DayWindow::new(request.start, request.end);
    let scan = MonthScan {
        source: &source,
        partition: &partition,
        window,
        progress,
    };
    let inputs = phases.run("read", read_inputs(scan)).await?;
    let effective_start = inputs
        .first_pod_day()
        .map(date_of_day)
        .filter(|first| *first > request.start)
        .unwrap_or(request.start);

    let compat = request.compatibility;
    let mut labels = LabelFilter::new(&inputs, &catalog.enabled_tag_keys, compat);
    let joined = phases
        .run("labels", async {
            filter_pod_labels(&inputs, &mut labels)?;
            filter_volume_labels(&inputs, &mut labels)?;
            JoinedLabels::new(&inputs, &mut labels)
        })
        .await?;

    // Aggregate and write, day after day: a day's rows are written (and dropped unless the
    // caller keeps them) before the next day is computed, so memory holds one day of output.
    reset_peak();
    let mut aggregate = Duration::ZERO;
    let mut write = Duration::ZERO;
    let started = Instant::now();
    let discovered = discover_nodes(&inputs, compat);
    let nodes = record_nodes(&catalog.nodes, &discovered, &identity.cluster_id);
    let mut days = DayAggregator {
        inputs: &inputs,
        labels: &mut labels,
        joined: &joined,
        categories: CostCategories::new(&catalog.cost_categories, compat),
        roles: role_lookup(&nodes.table),
    };
    aggregate += started.elapsed();

    let started = Instant::now();
    let mut sink = open_sink(
        request,
        client.as_mut(),
        schema,
        &identity,
        &nodes,
        effective_start,
    )
    .await?;
    write += started.elapsed();
    let mut counts = RowCounts::default();
    let mut kept = request.keep_rows.then(KeptRows::default);
    // Each day is aggregated while the day before is encoded for the sink, one beside the other
    // on the cores; then that day is sent. The last turn has no day to aggregate and encodes the
    // last day. Each phase's time is its own, so the two overlap.
    let mut previous = DaySummary::default();
    for day in inputs.days().map(Some).chain([None]) {
        let (rows, encoded) = rayon::join(
            || timed(&mut aggregate, || day.map(|day| days.rows(day)).transpose()),
            || timed(&mut write, || sink.encode(&previous.all())),
        );
        let encoded = encoded?;
        let started = Instant::now();
        sink.send(encoded).await?;
        write += started.elapsed();
        counts.add(&previous.all());
        if let Some(kept) = &mut kept {
            kept.add(previous);
        }
        previous = rows?.unwrap_or_default();
    }
    drop(days);
    drop(labels);
    phases.record("aggregate", aggregate, peak_rss_bytes());

    let counts = counts.per_data_source();
    let phase_seconds: serde_json::Map<String, serde_json::Value> = phases
        .done
        .iter()
        .map(|p| (p.name.to_string(), p.elapsed.as_secs_f64().into()))
        .collect();
    let record = RunRecord {
        start_date: effective_start,
        end_date: request.end,
        engine_version: env!("CARGO_PKG_VERSION").to_string(),
        compatibility: request.compatibility,
        rows_per_data_source: counts
            .iter()
            .map(|(k, v)| (k.to_string(), (*v).into()))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        phase_seconds: phase_seconds.into(),
        peak_rss_bytes: phases
            .done
            .iter()
            .filter_map(|p| p.peak_rss_bytes)
            .max()
            .map(|b| b as i64),
        started_at,
    };
    let started = Instant::now();
    let rows_deleted = sink.finish(&record).await?;
    write += started.elapsed();
    phases.record("write", write, peak_rss_bytes());
    if let (Some(lock), Some(client)) = (month_lock, &client) {
        lock.release(client).await?;
    }

    Ok(RunReport {
        run_id,
        effective_start,
        end: request.end,
        files_per_table: inputs.files_per_table.clone(),
        rows_per_data_source: counts,
        rows_deleted,
        phases: phases.done,
        elapsed: run_started.elapsed(),
        rows: kept.map(KeptRows::into_rows).unwrap_or_default(),
        constants: RunConstants {
            report_period_id: identity.report_period_id,
            cluster_id: identity.cluster_id,
            cluster_alias: identity.cluster_alias,
            source_uuid: identity.source_uuid,
        },
    })
}

/// Runs `work`, adding its time to `total`.
fn timed<T>(total: &mut Duration, work: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let result = work();
    *total += started.elapsed();
    result
}

/// Opens where the rows go: the output file, or the month's transaction in PostgreSQL with the
/// node step recorded and the month's old rows deleted from `delete_from` on.
async fn open_sink<'c>(
    request: &RunRequest,
    client: Option<&'c mut tokio_postgres::Client>,
    schema: &str,
    identity: &RunIdentity,
    nodes: &NodeRecording,
    delete_from: NaiveDate,
) -> Result<MonthSink<'c>> {
    let compat = request.compatibility;
    match (&request.output, client) {
        (Output::File(path), _) => Ok(MonthSink::File(Box::new(FileSink::create(
            path, identity, compat,
        )?))),
        (Output::Postgres, Some(client)) => {
            let dates = (delete_from, request.end);
            let write = MonthWrite::begin(client, schema, identity, nodes, dates, compat).await?;
            Ok(MonthSink::Postgres(write))
        }
        (Output::Postgres, None) => Err(Error::setting(
            "--out",
            "no output: set --out FILE, or postgres.url and postgres.schema",
        )),
    }
}

/// The report period and cluster the rows carry: flags win; otherwise koku's
/// `reporting_ocpusagereportperiod` row for the source's month (spec §1.2 step 2).
async fn resolve_identity(
    request: &RunRequest,
    run_id: Uuid,
    client: Option<&tokio_postgres::Client>,
    schema: &str,
) -> Result<RunIdentity> {
    let looked_up: Option<ReportPeriod> =
        match (client, request.report_period_id, &request.cluster_id) {
            (Some(client), None, _) | (Some(client), _, None) => {
                let month_start = request.start.with_day(1).expect("day 1 exists");
                report_period(client, schema, request.source_uuid, month_start).await?
            }
            _ => None,
        };
    let report_period_id = request
        .report_period_id
        .or(looked_up.as_ref().map(|p| p.id))
        .ok_or_else(|| {
            let lookup = if client.is_some() {
                format!(
                    ", or make sure {schema}.reporting_ocpusagereportperiod has a row for source \
                     {} and {}",
                    request.source_uuid,
                    request.start.format("%Y-%m")
                )
            } else {
                " (without PostgreSQL it cannot be looked up)".to_string()
            };
            Error::setting(
                "period.report_period_id",
                format!(
                "no report period: pass --report-period-id or set period.report_period_id in the \
                 config file{lookup}"
            ),
            )
        })?;
    let cluster_id = request
        .cluster_id
        .clone()
        .or(looked_up.as_ref().map(|p| p.cluster_id.clone()))
        .ok_or_else(|| {
            Error::setting(
                "period.cluster_id",
                "no cluster id: pass --cluster-id or set period.cluster_id in the config file \
                 (koku's provider credentials cluster_id); with PostgreSQL it comes from \
                 reporting_ocpusagereportperiod",
            )
        })?;
    let cluster_alias = request
        .cluster_alias
        .clone()
        .or(looked_up.and_then(|p| p.cluster_alias));
    Ok(RunIdentity {
        run_id,
        source_uuid: request.source_uuid,
        report_period_id,
        cluster_id,
        cluster_alias,
    })
}
