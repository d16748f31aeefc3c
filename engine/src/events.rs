//! What a run tells the person or the worker that started it: the text report on stdout and one
//! error line on stderr (`--log-format text`, the default), or one JSON object per event on
//! stderr (`--log-format json`) for koku's workers and log pipelines.
//!
//! A JSON event carries koku's context fields as koku's own log lines do (`tracing_id`, `schema`,
//! `provider_uuid`, `start_date`, `end_date`, `report_period_id`, `cluster_id`), the `run_id`,
//! and what happened: `event` is `run_started`, `phase_finished` (with `phase`, `seconds`,
//! `peak_rss_bytes`), `run_waiting` (another run is writing the month; `message` says whose
//! and for how long this one waits), `run_finished` (the report of `--report-json`, rows per data source
//! included) or `run_failed` (`error_kind` `input`, `infrastructure` or `internal`, with the
//! `problem` and its `place`, or the `service`, and the `exit_code`). docs/operations.md "Logs"
//! lists every field; the Python package reads these lines.

use std::io::IsTerminal;
use std::sync::Mutex;

use chrono::{SecondsFormat, Utc};
use clap::ValueEnum;
use indicatif::{ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use ocp_engine::error::{Error, Problem};
use ocp_engine::redact::redact_password;
use ocp_engine::run::{Output, PhaseReport, RunObserver, RunReport, RunRequest};
use ocp_engine::source::ScanProgress;

/// How the run is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// A progress bar and the report for people; an error is one line on stderr.
    Text,
    /// One JSON object per line on stderr, per event; nothing on stdout.
    Json,
}

/// The run's log: its format, the context every JSON event carries, and the progress bar.
pub struct RunLog {
    format: LogFormat,
    context: Mutex<Map<String, Value>>,
    progress: ScanProgress,
}

impl RunLog {
    /// A log in `format`; `tracing_id` (koku's, when it passes one) goes on every JSON event.
    /// The progress bar shows in text format on a terminal, unless `quiet`.
    pub fn new(format: LogFormat, tracing_id: Option<&str>, quiet: bool) -> RunLog {
        let mut context = Map::new();
        if let Some(id) = tracing_id {
            context.insert("tracing_id".into(), id.into());
        }
        let progress = if format == LogFormat::Json || quiet || !std::io::stderr().is_terminal() {
            ScanProgress::hidden()
        } else {
            progress_bar()
        };
        RunLog {
            format,
            context: Mutex::new(context),
            progress,
        }
    }

    /// Whether the text report is for this log.
    pub fn is_text(&self) -> bool {
        self.format == LogFormat::Text
    }

    /// Adds koku's context fields of `request` to every later event.
    pub fn set_request(&self, request: &RunRequest) {
        let mut context = self.context();
        context.insert(
            "schema".into(),
            request
                .postgres
                .as_ref()
                .map_or(Value::Null, |p| p.schema.clone().into()),
        );
        context.insert(
            "provider_uuid".into(),
            request.source_uuid.to_string().into(),
        );
        context.insert("start_date".into(), request.start.to_string().into());
        context.insert("end_date".into(), request.end.to_string().into());
        if let Some(id) = request.report_period_id {
            context.insert("report_period_id".into(), id.into());
        }
        if let Some(cluster) = &request.cluster_id {
            context.insert("cluster_id".into(), cluster.clone().into());
        }
    }

    /// The run finished: its report (JSON), or nothing in text format (the caller prints the
    /// text report).
    pub fn finished(&self, request: &RunRequest, report: &RunReport) {
        let rows: usize = report.rows_per_data_source.iter().map(|(_, n)| n).sum();
        self.emit(
            "INFO",
            "run_finished",
            format!("wrote {rows} rows in {:.3} s", report.elapsed.as_secs_f64()),
            object(report_json(request, report)),
        );
    }

    /// The run failed with `error`: one line `ocp-engine: KIND: MESSAGE` on stderr, or a
    /// `run_failed` event.
    pub fn failed(&self, error: &Error) {
        match self.format {
            LogFormat::Text => eprintln!("ocp-engine: {}: {error}", error.kind()),
            LogFormat::Json => self.emit(
                "ERROR",
                "run_failed",
                error.to_string(),
                error_fields(error),
            ),
        }
    }

    fn context(&self) -> std::sync::MutexGuard<'_, Map<String, Value>> {
        self.context.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes one JSON event (JSON format only): time, level, logger, event, message, the
    /// context, then `fields`.
    fn emit(&self, level: &str, event: &str, message: String, fields: Map<String, Value>) {
        if self.format != LogFormat::Json {
            return;
        }
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            Utc::now()
                .to_rfc3339_opts(SecondsFormat::Millis, true)
                .into(),
        );
        line.insert("level".into(), level.into());
        line.insert("logger".into(), "ocp_engine".into());
        line.insert("event".into(), event.into());
        line.insert("message".into(), message.into());
        line.extend(self.context().clone());
        line.extend(fields);
        eprintln!("{}", Value::Object(line));
    }
}

impl RunObserver for RunLog {
    fn progress(&self) -> &ScanProgress {
        &self.progress
    }

    fn started(&self, run_id: Uuid) {
        self.context()
            .insert("run_id".into(), run_id.to_string().into());
        self.emit("INFO", "run_started", "run started".into(), Map::new());
    }

    fn waiting(&self, message: &str) {
        match self.format {
            LogFormat::Text => eprintln!("ocp-engine: {message}"),
            LogFormat::Json => self.emit("WARNING", "run_waiting", message.into(), Map::new()),
        }
    }

    fn phase_finished(&self, phase: &PhaseReport) {
        let fields = object(json!({
            "phase": phase.name,
            "seconds": phase.elapsed.as_secs_f64(),
            "peak_rss_bytes": phase.peak_rss_bytes,
        }));
        self.emit(
            "INFO",
            "phase_finished",
            format!(
                "{} finished in {:.3} s",
                phase.name,
                phase.elapsed.as_secs_f64()
            ),
            fields,
        );
    }
}

/// The read phase's bar on stderr: files (or tables) read of all.
fn progress_bar() -> ScanProgress {
    let bar = ScanProgress::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("reading {bar:30} {pos}/{len} files or tables {elapsed}")
            .expect("the template is valid"),
    );
    bar
}

/// The fields of a JSON object built with `json!`.
fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(fields) => fields,
        _ => unreachable!("built as a JSON object"),
    }
}

/// The error as data: its kind, exit code, and the problem and place (bad input) or the
/// service (infrastructure).
fn error_fields(error: &Error) -> Map<String, Value> {
    let mut fields = Map::new();
    let kind = match error {
        Error::Input { problem, .. } => {
            fields.insert("problem".into(), problem_name(problem).into());
            fields.insert("place".into(), Error::place(problem).into());
            "input"
        }
        Error::Infrastructure { service, .. } => {
            fields.insert("service".into(), service.to_string().into());
            "infrastructure"
        }
        Error::Internal(_) => "internal",
    };
    fields.insert("error_kind".into(), kind.into());
    fields.insert("exit_code".into(), error.exit_code().into());
    fields
}

/// The problem's kind, as the JSON events name it.
fn problem_name(problem: &Problem) -> &'static str {
    match problem {
        Problem::Setting(_) => "setting",
        Problem::File(_) => "file",
        Problem::Column { .. } => "column",
        Problem::Table(_) => "table",
        Problem::NoData { .. } => "no_data",
        Problem::Value { .. } => "value",
    }
}

/// The run's report as JSON (`--report-json` and the `run_finished` event): what the text
/// report prints, in machine-readable form.
pub fn report_json(request: &RunRequest, report: &RunReport) -> Value {
    let phases: Vec<Value> = report
        .phases
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "seconds": p.elapsed.as_secs_f64(),
                "peak_rss_bytes": p.peak_rss_bytes,
            })
        })
        .collect();
    let counts = |pairs: &[(String, usize)]| -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(*v)))
            .collect()
    };
    let rows: Vec<(String, usize)> = report
        .rows_per_data_source
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    json!({
        "engine_version": env!("CARGO_PKG_VERSION"),
        "run_id": report.run_id.to_string(),
        "source_uuid": request.source_uuid.to_string(),
        "input": redact_password(&request.location),
        "output": match &request.output {
            Output::Postgres => "postgresql".to_string(),
            Output::File(path) => path.display().to_string(),
        },
        "compatibility": request.compatibility.as_str(),
        "start": report.effective_start.to_string(),
        "end": report.end.to_string(),
        "report_period_id": report.constants.report_period_id,
        "cluster_id": report.constants.cluster_id,
        "files_per_table": counts(&report.files_per_table),
        "rows_per_data_source": counts(&rows),
        "rows_deleted": report.rows_deleted,
        "phases": phases,
        "total_seconds": report.elapsed.as_secs_f64(),
        "peak_rss_bytes": report.peak_rss_bytes(),
    })
}
