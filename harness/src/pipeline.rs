//! One `ocp-harness compare` run as a library function ([`run_compare`]): the engine in-process
//! and an oracle on the input an engine config file names, their comparison, and the go/no-go
//! report written in its four forms.
//!
//! Contracts:
//! - The engine reads what the oracle reads ([`OracleInput`]):
//!   - [`OracleInput::LocalFiles`] (the embedded oracle): the config file must name a local
//!     folder and carry its catalog inline (`[catalog]`, as `ocp-harness generate` writes it);
//!     `[postgres]` is ignored.
//!   - [`OracleInput::Site`] (Trino, koku's own rows): the config's location as it is (S3/MinIO
//!     or a folder) and koku's catalog tables from the config's `[postgres]` (URL there or in
//!     `OCP_ENGINE_POSTGRES_URL`, as the engine's command reads it), which the engine only
//!     reads; a `[catalog]` table is refused, since the oracle reads koku's tables.
//!
//!   Either way the engine writes its rows to [`ENGINE_ROWS`] in the report folder, never to
//!   PostgreSQL.
//! - Order: config, then both sides' parameters (so a config the oracle cannot use fails before
//!   any work), the engine, the oracle, the comparison, the report.
//! - Blocking: the engine runs on a runtime of its own; call this outside an async runtime.
//! - A failure carries its exit code ([`CompareError::exit_code`]): 2 bad input (config file,
//!   Parquet, parameters the oracle refuses), 3 infrastructure (oracle missing or failing, disk).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ocp_engine::config::ConfigFile;
use ocp_engine::error::{Error as EngineError, Service};
use ocp_engine::resolve::{resolve_request, Overrides};
use ocp_engine::run::{RunReport, RunRequest};

use crate::compare::{compare, ComparableRow, Tolerance};
use crate::oracle::{Oracle, OracleError, OracleInput, QueryParams};
use crate::report::{write_all, CompareReport, Context};
use crate::scenario::run_quietly;

/// The engine's rows, in the report folder.
pub const ENGINE_ROWS: &str = "engine-rows.parquet";

/// What one compare run needs.
pub struct CompareRun<'a> {
    /// The engine config file (`engine.toml`).
    pub config: &'a Path,
    pub oracle: &'a dyn Oracle,
    /// What `oracle` reads, and so what the engine is given.
    pub input: OracleInput,
    pub tolerance: Tolerance,
    /// Where the engine's rows and the report go; created if missing.
    pub report_dir: &'a Path,
    /// The run's start, as the report and its folder name show it.
    pub started_at: DateTime<Utc>,
}

/// A finished run: the report, and the files written (the four forms, then the engine's rows).
pub struct CompareOutcome {
    pub report: CompareReport,
    pub files: Vec<PathBuf>,
}

/// Why a compare run produced no report.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Oracle(#[from] OracleError),
    #[error("report: {0}")]
    Report(String),
}

impl CompareError {
    /// 2 for bad input, 3 for infrastructure (see the module contract).
    pub fn exit_code(&self) -> i32 {
        match self {
            CompareError::Engine(error) => error.exit_code(),
            CompareError::Oracle(OracleError::Params(_) | OracleError::Dialect(_)) => 2,
            CompareError::Oracle(_) | CompareError::Report(_) => 3,
        }
    }
}

/// Runs engine and oracle on the config's input, compares, writes the report; see the module
/// contract.
pub fn run_compare(run: &CompareRun) -> Result<CompareOutcome, CompareError> {
    let config = ConfigFile::load(run.config)?;
    let engine_rows = run.report_dir.join(ENGINE_ROWS);
    let request = request_from_config(&config, engine_rows.clone(), run.input)?;
    let query = match run.input {
        OracleInput::LocalFiles => QueryParams::from_request(&request)?,
        OracleInput::Site => QueryParams::for_site(&request),
    };
    std::fs::create_dir_all(run.report_dir).map_err(|e| {
        CompareError::Report(format!("cannot create {}: {e}", run.report_dir.display()))
    })?;
    let (engine, engine_wall) = run_engine(&request)?;
    let oracle = run.oracle.run(&query)?;
    let rows = ComparableRow::of_run(&engine);
    let comparison = compare(&rows, &oracle.rows, &run.tolerance);
    let context = Context {
        oracle: run.oracle.describe(),
        dataset: describe_dataset(run.config, &request, &engine),
        started_at: run.started_at,
        engine_wall,
    };
    let report = CompareReport::new(&engine, &oracle, comparison, context);
    let mut files = write_all(&report, run.report_dir).map_err(CompareError::Report)?;
    files.push(engine_rows);
    Ok(CompareOutcome { report, files })
}

/// The engine's run and the wall clock it took, on a multi-threaded runtime as the engine's own
/// command line uses.
fn run_engine(request: &RunRequest) -> Result<(RunReport, Duration), EngineError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            EngineError::infrastructure(
                Service::Host,
                format!("cannot start the async runtime: {e}"),
            )
        })?;
    let started = Instant::now();
    let report = runtime.block_on(run_quietly(request))?;
    Ok((report, started.elapsed()))
}

/// The request the config file describes for an oracle reading `input`, writing the rows to
/// `out`: the engine's own resolution ([`resolve_request`]) of the file (see the module contract
/// for what each input needs), keeping the rows for the comparison.
pub fn request_from_config(
    config: &ConfigFile,
    out: PathBuf,
    input: OracleInput,
) -> Result<RunRequest, EngineError> {
    let mut request = match input {
        OracleInput::LocalFiles => local_files_request(config, out),
        OracleInput::Site => site_request(config, out),
    }?;
    request.keep_rows = true;
    Ok(request)
}

/// The files-only request: the catalog inline, `[postgres]` ignored.
fn local_files_request(config: &ConfigFile, out: PathBuf) -> Result<RunRequest, EngineError> {
    if config.catalog.is_none() {
        return Err(EngineError::setting(
            "catalog",
            "the config file has no [catalog] table; compare needs the catalog inline (enabled \
             tag keys, cost-category patterns), as `ocp-harness generate` writes it",
        ));
    }
    let mut files_only = config.clone();
    files_only.postgres = Default::default();
    resolve_request(
        files_only,
        Overrides {
            out: Some(out),
            ..Overrides::default()
        },
    )
}

/// The site request: the config's location, koku's catalog from its PostgreSQL (URL from the
/// file or `OCP_ENGINE_POSTGRES_URL`), rows to `out`.
fn site_request(config: &ConfigFile, out: PathBuf) -> Result<RunRequest, EngineError> {
    if config.catalog.is_some() {
        return Err(EngineError::setting(
            "catalog",
            "the config file has a [catalog] table, but this oracle reads koku's catalog tables \
             at the site: remove [catalog] so that the engine reads the same tables from \
             [postgres]",
        ));
    }
    let postgres_url = std::env::var("OCP_ENGINE_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty());
    if postgres_url.is_none() && config.postgres.url.is_none() || config.postgres.schema.is_none() {
        return Err(EngineError::setting(
            "postgres.url",
            "comparing at a site needs koku's PostgreSQL for the engine's catalog: set [postgres] \
             url (or OCP_ENGINE_POSTGRES_URL) and schema in the config file",
        ));
    }
    resolve_request(
        config.clone(),
        Overrides {
            out: Some(out),
            postgres_url,
            ..Overrides::default()
        },
    )
}

/// `CONFIG: source UUID (account, cluster), days START..END, N Parquet files, koku variant V`.
fn describe_dataset(config: &Path, request: &RunRequest, engine: &RunReport) -> String {
    let files: usize = engine.files_per_table.iter().map(|(_, n)| n).sum();
    let cluster = request
        .cluster_id
        .as_deref()
        .map_or(String::new(), |c| format!(", cluster {c}"));
    format!(
        "{}: source {} (account {}{cluster}), days {}..{}, {files} Parquet files, koku variant \
         {} (summary.compatibility)",
        config.display(),
        request.source_uuid,
        request.account,
        request.start,
        request.end,
        request.compatibility,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::engine_config;
    use crate::synth::{generate, Scale};
    use ocp_engine::run::{CatalogSource, Output};

    #[test]
    fn a_generated_config_resolves_to_the_scenario_request() {
        let model = generate(Scale::Tiny, 7);
        let config = engine_config(&model);
        let request =
            request_from_config(&config, "x.parquet".into(), OracleInput::LocalFiles).unwrap();
        assert_eq!(request.location, ".");
        assert_eq!(request.source_uuid, model.source_uuid);
        assert_eq!(
            (request.start, request.end),
            (model.first_date(), model.last_date())
        );
        assert_eq!(
            request.cluster_id.as_deref(),
            Some(model.cluster_id.as_str())
        );
        assert!(request.postgres.is_none());
        assert!(matches!(request.catalog, CatalogSource::Inline(_)));
    }

    #[test]
    fn a_config_without_inline_catalog_is_bad_input() {
        let mut config = engine_config(&generate(Scale::Tiny, 7));
        config.catalog = None;
        let error =
            request_from_config(&config, "x.parquet".into(), OracleInput::LocalFiles).unwrap_err();
        assert_eq!(CompareError::from(error).exit_code(), 2);
        config = engine_config(&generate(Scale::Tiny, 7));
        config.period.start = Some("September".into());
        let error =
            request_from_config(&config, "x.parquet".into(), OracleInput::LocalFiles).unwrap_err();
        assert!(error.to_string().contains("period.start"), "{error}");
    }

    #[test]
    fn a_site_request_reads_the_location_and_kokus_catalog_and_writes_a_file() {
        let mut config = engine_config(&generate(Scale::Tiny, 7));
        config.source.location = Some("s3://koku-bucket".into());
        let error =
            request_from_config(&config, "x.parquet".into(), OracleInput::Site).unwrap_err();
        assert!(error.to_string().contains("[catalog]"), "{error}");
        config.catalog = None;
        config.postgres.url = Some("postgresql://koku@db/koku".into());
        config.postgres.schema = Some("org1234567".into());
        let request = request_from_config(&config, "x.parquet".into(), OracleInput::Site).unwrap();
        assert_eq!(request.location, "s3://koku-bucket");
        assert!(matches!(request.catalog, CatalogSource::Postgres));
        assert!(matches!(request.output, Output::File(_)));
        let query = QueryParams::for_site(&request);
        assert_eq!(query.schema, "org1234567");
        assert_eq!(query.source_uuid, request.source_uuid);
        config.postgres.schema = None;
        let error =
            request_from_config(&config, "x.parquet".into(), OracleInput::Site).unwrap_err();
        assert_eq!(CompareError::from(error).exit_code(), 2);
    }
}
