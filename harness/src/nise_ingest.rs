//! nise's OpenShift CSVs turned into koku's Parquet: the project's own implementation of koku's
//! ingest rules (spec §1.1, §2.1–§2.3), so that input no one here wrote (koku's test-data
//! generator nise, spec §10) can be summarised by the engine and the reference query.
//!
//! Contracts:
//! - Input: a folder of CSV files as nise (or the operator) writes them. Each file's report type
//!   is told from its header, as koku's `detect_type` does from the column set
//!   ([`ReportKind::detect`]); files of other types (vm_usage, gpu_usage, ROS) and header-only
//!   files are skipped and listed in [`NiseInput::skipped`]. File names do not matter, except as
//!   the fallback source of the cluster id ([`cluster_id_from_file_name`]).
//! - Path modelled: koku's daily-archive path (manifest `daily_reports: true`, what koku's
//!   `load_test_customer_data.sh` asks nise for): every field read as text with pandas' NA
//!   tokens made empty ([`PANDAS_NA_TOKENS`]), NUL bytes removed and name columns
//!   `html.escape`d ([`sanitize_name`]), then per column: timestamps parsed ([`parse_timestamp`]),
//!   metrics through `safe_float` ([`safe_float`]: an empty or unreadable value is 0.0, never
//!   NULL), labels through koku's converter to JSON text ([`koku_labels_json`]), other text kept
//!   (`''` stays `''`). Rows over the anomaly bound (> 1e18) are dropped; the pod rows gain the
//!   two effective-usage columns (per hour `max(usage, request)`).
//! - Daily tables: computed per CSV file, as koku computes them per file and chunk, with the
//!   synthetic writer's aggregations ([`pod_usage_daily`], [`storage_usage_daily`],
//!   [`node_labels_daily`], [`namespace_labels_daily`]; spec §2.2). Two files holding the same
//!   pod and day therefore give two daily rows, which the summary adds up again.
//! - Output: the synthetic generator's row types and writer ([`write_table`]): one file per table
//!   and day, `{report_type}.{YYYY-MM-DD}.1.1_0.parquet` / `..._daily_0.parquet` under
//!   `data/parquet[/daily]/{account}/OCP/{report_type}/source={uuid}/year={YYYY}/month={MM}`
//!   (spec §2.1), every month the CSVs hold. Storage and label tables are written only when
//!   their CSVs had rows.
//! - Columns: the columns the row types hold are required (nise 5.4.4 writes all of them, spec
//!   §10.2); koku's fallback of adding a missing storage `node`, `csi_driver` or
//!   `csi_volume_handle` as all-NULL text is not reproduced: such a file is refused, naming the
//!   column. An optional `node_role` in the pod report is read when present.
//! - Catalog and identity: as for a generated cluster, a [`ClusterModel`] carries them
//!   ([`Ingested::cluster`]; no nodes, pods or volumes, those are in the Parquet), so that
//!   [`crate::scenario::engine_config`] and [`crate::scenario::engine_request`] apply unchanged:
//!   enabled tag keys per [`EnabledKeys`], koku's default cost-category patterns, an empty
//!   `reporting_ocp_nodes` (a fresh tenant: the engine derives the roles, spec §6.4), the date
//!   range of the chosen month's rows.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use uuid::Uuid;

use crate::synth::koku_tables::{
    is_anomalous, is_storage_anomalous, koku_labels_json, namespace_labels_daily,
    node_labels_daily, pod_usage_daily, sanitize_name, storage_usage_daily,
};
use crate::synth::{
    write_table, ClusterModel, KokuTables, NamespaceLabelsHourlyRow, NodeLabelsHourlyRow,
    PodUsageHourlyRow, StorageUsageHourlyRow, SynthError, WrittenCluster, WrittenTable,
};

/// The nise release the harness pins (`testkit/nise/setup.sh`).
pub const NISE_VERSION: &str = "5.4.4";

/// pandas 2's default `na_values`: koku's Kafka handler reads the CSV with `StringDtype` before
/// cutting it by day, so a field holding exactly one of these comes out empty (spec §2.3).
pub const PANDAS_NA_TOKENS: [&str; 18] = [
    "-1.#IND", "1.#QNAN", "1.#IND", "-1.#QNAN", "#N/A N/A", "#N/A", "N/A", "n/a", "NA", "<NA>",
    "#NA", "NULL", "null", "NaN", "-NaN", "nan", "-nan", "None",
];

/// The four report types the summary reads (spec §10.2); nise's others play no part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReportKind {
    PodUsage,
    StorageUsage,
    NodeLabels,
    NamespaceLabels,
}

impl ReportKind {
    /// The report type a header (normalised names, [`normalize_column_name`]) belongs to, told
    /// by a column only that type has: `pod_usage_cpu_core_seconds`,
    /// `persistentvolumeclaim_capacity_bytes`, `node_labels` (without `pod`), `namespace_labels`.
    /// `None` for any other report (vm_usage, gpu_usage, ROS).
    pub fn detect(columns: &[String]) -> Option<ReportKind> {
        let has = |name: &str| columns.iter().any(|c| c == name);
        if has("pod_usage_cpu_core_seconds") {
            Some(ReportKind::PodUsage)
        } else if has("persistentvolumeclaim_capacity_bytes") {
            Some(ReportKind::StorageUsage)
        } else if has("node_labels") && !has("pod") {
            Some(ReportKind::NodeLabels)
        } else if has("namespace_labels") {
            Some(ReportKind::NamespaceLabels)
        } else {
            None
        }
    }

    /// koku's report type, as in the Parquet paths (`pod_usage`, ...).
    pub fn report_type(self) -> &'static str {
        use crate::synth::parquet_writer::{
            NAMESPACE_LABELS, NODE_LABELS, POD_USAGE, STORAGE_USAGE,
        };
        match self {
            ReportKind::PodUsage => POD_USAGE,
            ReportKind::StorageUsage => STORAGE_USAGE,
            ReportKind::NodeLabels => NODE_LABELS,
            ReportKind::NamespaceLabels => NAMESPACE_LABELS,
        }
    }
}

/// Which label keys the run's catalog enables (`reporting_enabledtagkeys`, spec §2.4, §6.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnabledKeys {
    /// Every key of the input's pod, volume, node and namespace labels, after koku's conversion:
    /// the labels then flow through the summary and get compared.
    All,
    /// None: koku's state out of the box, where each new key is recorded disabled (§2.3).
    None,
    /// These keys.
    Listed(Vec<String>),
}

/// Identity and catalog of an ingest.
#[derive(Clone, Debug)]
pub struct IngestOptions {
    /// koku's account folder (tenant schema without `acct`).
    pub account: String,
    /// The OpenShift source; names the `source=` partition.
    pub source_uuid: Uuid,
    /// The cluster id; `None` takes it from nise's file names ([`cluster_id_from_file_name`]).
    pub cluster_id: Option<String>,
    /// The cluster alias; `None` uses the cluster id.
    pub cluster_alias: Option<String>,
    /// The month the engine config covers; `None` is the only month the CSVs have rows in.
    pub month: Option<(i32, u32)>,
    pub enabled_keys: EnabledKeys,
}

impl Default for IngestOptions {
    /// Account `org1234567` and the source UUID of [`ClusterModel::empty`], the cluster id from
    /// the file names, every label key enabled.
    fn default() -> Self {
        let shell = ClusterModel::empty(2024, 1, 1, 1);
        IngestOptions {
            account: shell.account,
            source_uuid: shell.source_uuid,
            cluster_id: None,
            cluster_alias: None,
            month: None,
            enabled_keys: EnabledKeys::All,
        }
    }
}

/// One CSV file read.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvFile {
    pub path: PathBuf,
    pub kind: ReportKind,
    /// Data rows in the file.
    pub rows: usize,
    /// Rows dropped by koku's anomaly filter.
    pub anomalous: usize,
}

/// Every CSV of a folder converted: koku's hourly and daily rows, per table.
#[derive(Clone, Debug, Default)]
pub struct NiseInput {
    pub tables: KokuTables,
    /// The files read, sorted by path.
    pub files: Vec<CsvFile>,
    /// CSV files of other report types, or header-only, sorted by path.
    pub skipped: Vec<PathBuf>,
}

impl NiseInput {
    /// The (year, month) pairs of every hourly row's `interval_start`, sorted.
    pub fn months(&self) -> Vec<(i32, u32)> {
        let months: BTreeSet<(i32, u32)> = self
            .interval_starts()
            .map(|t| (t.year(), t.month()))
            .collect();
        months.into_iter().collect()
    }

    /// The first and last day with an hourly row in `year`-`month`.
    pub fn day_range(&self, year: i32, month: u32) -> Option<(NaiveDate, NaiveDate)> {
        let days: BTreeSet<NaiveDate> = self
            .interval_starts()
            .map(|t| t.date())
            .filter(|d| (d.year(), d.month()) == (year, month))
            .collect();
        Some((*days.first()?, *days.last()?))
    }

    /// Every label key of the daily tables (pod, PV, PVC, node, namespace labels), sorted and
    /// distinct: the keys koku would record in `reporting_enabledtagkeys`.
    pub fn label_keys(&self) -> Vec<String> {
        let t = &self.tables;
        let texts = t
            .pod_usage_daily
            .iter()
            .map(|r| &r.pod_labels)
            .chain(
                t.storage_usage_daily
                    .iter()
                    .flat_map(|r| [&r.persistentvolume_labels, &r.persistentvolumeclaim_labels]),
            )
            .chain(t.node_labels_daily.iter().map(|r| &r.node_labels))
            .chain(t.namespace_labels_daily.iter().map(|r| &r.namespace_labels));
        let keys: BTreeSet<String> = texts.flat_map(|text| json_keys(text)).collect();
        keys.into_iter().collect()
    }

    fn interval_starts(&self) -> impl Iterator<Item = NaiveDateTime> + '_ {
        let t = &self.tables;
        t.pod_usage
            .iter()
            .map(|r| r.interval_start)
            .chain(t.storage_usage.iter().map(|r| r.interval_start))
            .chain(t.node_labels.iter().map(|r| r.interval_start))
            .chain(t.namespace_labels.iter().map(|r| r.interval_start))
    }
}

/// The keys of label JSON text written by [`koku_labels_json`] (an object of strings).
fn json_keys(text: &str) -> Vec<String> {
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text) {
        Ok(map) => map.keys().cloned().collect(),
        Err(_) => Vec::new(),
    }
}

/// What [`ingest_nise`] did.
#[derive(Clone, Debug)]
pub struct Ingested {
    /// Identity, date range and catalog of the run, as a model without nodes, pods or volumes.
    pub cluster: ClusterModel,
    pub input_files: Vec<CsvFile>,
    pub skipped: Vec<PathBuf>,
    /// Every month written (the engine config covers `cluster`'s).
    pub months: Vec<(i32, u32)>,
    pub written: WrittenCluster,
}

/// Why an ingest failed; each variant names the file (and line and column) at fault.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: line {line}: {message}", path.display())]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{}: no column {column} (a {report} report of nise {NISE_VERSION} has it)", path.display())]
    MissingColumn {
        path: PathBuf,
        report: &'static str,
        column: &'static str,
    },
    #[error("{}: no CSV with rows of pod usage, storage usage, node labels or namespace labels", dir.display())]
    NoRows { dir: PathBuf },
    #[error("{0}")]
    Setting(String),
    #[error(transparent)]
    Write(#[from] SynthError),
}

/// Result type of this module.
pub type Result<T> = std::result::Result<T, IngestError>;

/// Reads every `*.csv` of `csv_dir`, converts it to koku's rows, writes them as koku's Parquet
/// under `out_root` (the bucket root) and returns the cluster the engine config describes; see
/// the module contract. The caller writes `engine.toml`
/// (`scenario::engine_config(&ingested.cluster)`).
pub fn ingest_nise(csv_dir: &Path, out_root: &Path, options: &IngestOptions) -> Result<Ingested> {
    let input = read_csv_folder(csv_dir)?;
    let cluster = cluster_of(&input, csv_dir, options)?;
    let written = write_tables(&input.tables, out_root, &cluster)?;
    Ok(Ingested {
        months: input.months(),
        cluster,
        input_files: input.files,
        skipped: input.skipped,
        written,
    })
}

/// The model carrying the run's identity, dates and catalog (see the module contract).
fn cluster_of(input: &NiseInput, csv_dir: &Path, options: &IngestOptions) -> Result<ClusterModel> {
    let months = input.months();
    let (year, month) = match (options.month, months.as_slice()) {
        (_, []) => {
            return Err(IngestError::NoRows {
                dir: csv_dir.to_path_buf(),
            })
        }
        (Some(wanted), _) if months.contains(&wanted) => wanted,
        (Some((y, m)), _) => {
            return Err(IngestError::Setting(format!(
                "the CSVs have no rows in {y}-{m:02}; they have rows in {}",
                list_months(&months)
            )))
        }
        (None, [only]) => *only,
        (None, _) => {
            return Err(IngestError::Setting(format!(
                "the CSVs have rows in several months ({}); the engine summarises one month at a \
                 time: choose one",
                list_months(&months)
            )))
        }
    };
    let (first, last) = input
        .day_range(year, month)
        .expect("a month with rows has days");
    let cluster_id = match &options.cluster_id {
        Some(id) => id.clone(),
        None => cluster_id_of_files(&input.files)?,
    };
    let mut cluster = ClusterModel::empty(year, month, first.day(), last.day());
    cluster.account = options.account.clone();
    cluster.source_uuid = options.source_uuid;
    cluster.cluster_alias = options.cluster_alias.clone().unwrap_or(cluster_id.clone());
    cluster.cluster_id = cluster_id;
    cluster.write_node_labels = !input.tables.node_labels.is_empty();
    cluster.write_namespace_labels = !input.tables.namespace_labels.is_empty();
    cluster.enabled_tag_keys = match &options.enabled_keys {
        EnabledKeys::All => input.label_keys(),
        EnabledKeys::None => Vec::new(),
        EnabledKeys::Listed(keys) => keys.clone(),
    };
    Ok(cluster)
}

fn list_months(months: &[(i32, u32)]) -> String {
    months
        .iter()
        .map(|(y, m)| format!("{y}-{m:02}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The one cluster id the read files' names give; an error when none or several do.
fn cluster_id_of_files(files: &[CsvFile]) -> Result<String> {
    let ids: BTreeSet<String> = files
        .iter()
        .filter_map(|f| {
            f.path
                .file_name()?
                .to_str()
                .and_then(cluster_id_from_file_name)
        })
        .collect();
    match ids.len() {
        1 => Ok(ids.into_iter().next().expect("one id")),
        0 => Err(IngestError::Setting(
            "no cluster id: the file names are not nise's (<Month>-<YYYY>-<cluster id>-ocp_<report>.csv); \
             give the cluster id"
                .to_string(),
        )),
        _ => Err(IngestError::Setting(format!(
            "the file names name several clusters ({}); ingest one cluster at a time or give the \
             cluster id",
            ids.into_iter().collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The cluster id in a file name nise writes with `-w`: `<Month>-<YYYY>-<cluster id>-ocp_<report>.csv`
/// (possibly with a `-N` part suffix after the report), e.g. `February-2024-leap-cluster-ocp_pod_usage.csv`
/// → `leap-cluster`. `None` for any other name.
pub fn cluster_id_from_file_name(name: &str) -> Option<String> {
    let stem = name.strip_suffix(".csv")?;
    let before_report = &stem[..stem.rfind("-ocp_")?];
    let mut parts = before_report.splitn(3, '-');
    let month_name = parts.next()?;
    let year = parts.next()?;
    let cluster = parts.next()?;
    let is_month = month_name.len() >= 3 && month_name.chars().all(|c| c.is_ascii_alphabetic());
    let is_year = year.len() == 4 && year.chars().all(|c| c.is_ascii_digit());
    (is_month && is_year && !cluster.is_empty()).then(|| cluster.to_string())
}

/// Writes the tables that have rows (pod usage always: see the module contract) with the
/// synthetic writer, in [`WrittenCluster`]'s order.
fn write_tables(t: &KokuTables, root: &Path, cluster: &ClusterModel) -> Result<WrittenCluster> {
    let (account, source) = (cluster.account.as_str(), &cluster.source_uuid);
    let mut tables: Vec<WrittenTable> = vec![
        write_table(root, account, source, &t.pod_usage)?,
        write_table(root, account, source, &t.pod_usage_daily)?,
    ];
    if !t.storage_usage.is_empty() {
        tables.push(write_table(root, account, source, &t.storage_usage)?);
        tables.push(write_table(root, account, source, &t.storage_usage_daily)?);
    }
    if !t.node_labels.is_empty() {
        tables.push(write_table(root, account, source, &t.node_labels)?);
        tables.push(write_table(root, account, source, &t.node_labels_daily)?);
    }
    if !t.namespace_labels.is_empty() {
        tables.push(write_table(root, account, source, &t.namespace_labels)?);
        tables.push(write_table(
            root,
            account,
            source,
            &t.namespace_labels_daily,
        )?);
    }
    Ok(WrittenCluster { tables })
}

/// Converts every `*.csv` file directly in `dir` (sorted by name); see the module contract.
pub fn read_csv_folder(dir: &Path) -> Result<NiseInput> {
    let io = |action, source| IngestError::Io {
        action,
        path: dir.to_path_buf(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io("read folder", e))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| io("read folder", e))?;
    paths.retain(|p| p.is_file() && p.extension().is_some_and(|e| e == "csv"));
    paths.sort();
    let mut input = NiseInput::default();
    for path in paths {
        match read_csv_file(&path)? {
            Some((file, tables)) => {
                input.files.push(file);
                input.tables.extend(tables);
            }
            None => input.skipped.push(path),
        }
    }
    if input.files.is_empty() {
        return Err(IngestError::NoRows {
            dir: dir.to_path_buf(),
        });
    }
    Ok(input)
}

/// One CSV file's hourly rows and the daily rows koku makes of them; `None` for another report
/// type or a file without data rows.
pub fn read_csv_file(path: &Path) -> Result<Option<(CsvFile, KokuTables)>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| csv_error(path, 1, e))?;
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(path, 1, e))?
        .iter()
        .map(normalize_column_name)
        .collect();
    let Some(kind) = ReportKind::detect(&columns) else {
        return Ok(None);
    };
    let header = Header::new(path, kind, &columns);
    let mut tables = KokuTables::default();
    let (mut rows, mut anomalous) = (0, 0);
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let record = record.map_err(|e| csv_error(path, line, e))?;
        let row = CsvRow {
            header: &header,
            record: &record,
            line,
        };
        rows += 1;
        if !convert_row(kind, &row, &mut tables)? {
            anomalous += 1;
        }
    }
    if rows == 0 {
        return Ok(None);
    }
    tables.pod_usage_daily = pod_usage_daily(&tables.pod_usage);
    tables.storage_usage_daily = storage_usage_daily(&tables.storage_usage);
    tables.node_labels_daily = node_labels_daily(&tables.node_labels);
    tables.namespace_labels_daily = namespace_labels_daily(&tables.namespace_labels);
    let file = CsvFile {
        path: path.to_path_buf(),
        kind,
        rows,
        anomalous,
    };
    Ok(Some((file, tables)))
}

fn csv_error(path: &Path, line: u64, error: csv::Error) -> IngestError {
    let line = error.position().map_or(line, |p| p.line());
    IngestError::Csv {
        path: path.to_path_buf(),
        line,
        message: error.to_string(),
    }
}

/// Appends the row's converted form to its hourly table; false when koku's anomaly filter drops
/// it.
fn convert_row(kind: ReportKind, row: &CsvRow, tables: &mut KokuTables) -> Result<bool> {
    match kind {
        ReportKind::PodUsage => {
            let converted = pod_usage_row(row)?;
            let kept = !is_anomalous(&converted);
            if kept {
                tables.pod_usage.push(converted);
            }
            Ok(kept)
        }
        ReportKind::StorageUsage => {
            let converted = storage_usage_row(row)?;
            let kept = !is_storage_anomalous(&converted);
            if kept {
                tables.storage_usage.push(converted);
            }
            Ok(kept)
        }
        ReportKind::NodeLabels => {
            tables.node_labels.push(NodeLabelsHourlyRow {
                report_period_start: row.timestamp("report_period_start")?,
                report_period_end: row.timestamp("report_period_end")?,
                interval_start: row.timestamp("interval_start")?,
                interval_end: row.timestamp("interval_end")?,
                node: row.name("node")?,
                node_labels: row.labels("node_labels")?,
            });
            Ok(true)
        }
        ReportKind::NamespaceLabels => {
            tables.namespace_labels.push(NamespaceLabelsHourlyRow {
                report_period_start: row.timestamp("report_period_start")?,
                report_period_end: row.timestamp("report_period_end")?,
                interval_start: row.timestamp("interval_start")?,
                interval_end: row.timestamp("interval_end")?,
                namespace: row.name("namespace")?,
                namespace_labels: row.labels("namespace_labels")?,
            });
            Ok(true)
        }
    }
}

/// A pod-usage CSV row as koku's hourly row, with the effective-usage columns (spec §2.3).
fn pod_usage_row(row: &CsvRow) -> Result<PodUsageHourlyRow> {
    let mut converted = PodUsageHourlyRow {
        report_period_start: row.timestamp("report_period_start")?,
        report_period_end: row.timestamp("report_period_end")?,
        interval_start: row.timestamp("interval_start")?,
        interval_end: row.timestamp("interval_end")?,
        pod: row.name("pod")?,
        namespace: row.name("namespace")?,
        node: row.name("node")?,
        resource_id: row.name("resource_id")?,
        pod_usage_cpu_core_seconds: row.number("pod_usage_cpu_core_seconds")?,
        pod_request_cpu_core_seconds: row.number("pod_request_cpu_core_seconds")?,
        pod_limit_cpu_core_seconds: row.number("pod_limit_cpu_core_seconds")?,
        pod_usage_memory_byte_seconds: row.number("pod_usage_memory_byte_seconds")?,
        pod_request_memory_byte_seconds: row.number("pod_request_memory_byte_seconds")?,
        pod_limit_memory_byte_seconds: row.number("pod_limit_memory_byte_seconds")?,
        node_capacity_cpu_cores: row.number("node_capacity_cpu_cores")?,
        node_capacity_cpu_core_seconds: row.number("node_capacity_cpu_core_seconds")?,
        node_capacity_memory_bytes: row.number("node_capacity_memory_bytes")?,
        node_capacity_memory_byte_seconds: row.number("node_capacity_memory_byte_seconds")?,
        pod_labels: row.labels("pod_labels")?,
        node_role: row.optional_name("node_role"),
        pod_effective_usage_cpu_core_seconds: 0.0,
        pod_effective_usage_memory_byte_seconds: 0.0,
    };
    converted.pod_effective_usage_cpu_core_seconds = effective(
        converted.pod_usage_cpu_core_seconds,
        converted.pod_request_cpu_core_seconds,
    );
    converted.pod_effective_usage_memory_byte_seconds = effective(
        converted.pod_usage_memory_byte_seconds,
        converted.pod_request_memory_byte_seconds,
    );
    Ok(converted)
}

/// koku's effective usage of one hour: `max(usage, request)`, skipping NaN as pandas'
/// `max(axis=1)` does (spec §2.3).
pub fn effective(usage: f64, request: f64) -> f64 {
    usage.max(request)
}

/// A storage-usage CSV row as koku's hourly row.
fn storage_usage_row(row: &CsvRow) -> Result<StorageUsageHourlyRow> {
    Ok(StorageUsageHourlyRow {
        report_period_start: row.timestamp("report_period_start")?,
        report_period_end: row.timestamp("report_period_end")?,
        interval_start: row.timestamp("interval_start")?,
        interval_end: row.timestamp("interval_end")?,
        namespace: row.name("namespace")?,
        pod: row.name("pod")?,
        node: row.name("node")?,
        persistentvolumeclaim: row.name("persistentvolumeclaim")?,
        persistentvolume: row.name("persistentvolume")?,
        storageclass: row.name("storageclass")?,
        csi_driver: row.name("csi_driver")?,
        csi_volume_handle: row.name("csi_volume_handle")?,
        persistentvolumeclaim_capacity_bytes: row.number("persistentvolumeclaim_capacity_bytes")?,
        persistentvolumeclaim_capacity_byte_seconds: row
            .number("persistentvolumeclaim_capacity_byte_seconds")?,
        volume_request_storage_byte_seconds: row.number("volume_request_storage_byte_seconds")?,
        persistentvolumeclaim_usage_byte_seconds: row
            .number("persistentvolumeclaim_usage_byte_seconds")?,
        persistentvolume_labels: row.labels("persistentvolume_labels")?,
        persistentvolumeclaim_labels: row.labels("persistentvolumeclaim_labels")?,
    })
}

/// A CSV file's column positions by normalised name.
struct Header<'a> {
    path: &'a Path,
    kind: ReportKind,
    index: HashMap<String, usize>,
}

impl<'a> Header<'a> {
    fn new(path: &'a Path, kind: ReportKind, columns: &[String]) -> Self {
        // A repeated name: the last one wins, as a pandas frame built from the CSV keeps one.
        let index = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i))
            .collect();
        Header { path, kind, index }
    }
}

/// One data row of a CSV file, read column by column with koku's converters.
struct CsvRow<'a> {
    header: &'a Header<'a>,
    record: &'a csv::StringRecord,
    /// 1-based line in the file (the header is line 1).
    line: u64,
}

impl CsvRow<'_> {
    /// The field as koku has it after the Kafka handler's read ([`na_to_empty`]) and archive
    /// sanitizing of NUL bytes; a short record gives `""` for its missing fields.
    fn text(&self, column: &'static str) -> Result<String> {
        let i = *self
            .header
            .index
            .get(column)
            .ok_or(IngestError::MissingColumn {
                path: self.header.path.to_path_buf(),
                report: self.header.kind.report_type(),
                column,
            })?;
        Ok(na_to_empty(self.record.get(i).unwrap_or("")).replace('\0', ""))
    }

    /// A name column: [`Self::text`] through [`sanitize_name`] (`html.escape`).
    fn name(&self, column: &'static str) -> Result<String> {
        Ok(sanitize_name(&self.text(column)?))
    }

    /// A name column that may be absent from the file (`node_role`): `None` then.
    fn optional_name(&self, column: &'static str) -> Option<String> {
        self.name(column).ok()
    }

    fn number(&self, column: &'static str) -> Result<f64> {
        Ok(safe_float(&self.text(column)?))
    }

    fn labels(&self, column: &'static str) -> Result<String> {
        Ok(koku_labels_json(&self.text(column)?))
    }

    fn timestamp(&self, column: &'static str) -> Result<NaiveDateTime> {
        let text = self.text(column)?;
        parse_timestamp(&text).ok_or_else(|| IngestError::Csv {
            path: self.header.path.to_path_buf(),
            line: self.line,
            message: format!(
                "column {column}: {text:?} is not a timestamp (nise writes YYYY-MM-DD HH:MM:SS \
                 +0000 UTC)"
            ),
        })
    }
}

/// `""` for one of [`PANDAS_NA_TOKENS`], else the field unchanged.
pub fn na_to_empty(field: &str) -> &str {
    if PANDAS_NA_TOKENS.contains(&field) {
        ""
    } else {
        field
    }
}

/// koku's timestamp converter (spec §2.3): the literal ` +0000 UTC` removed, then an ISO 8601
/// date and time (`YYYY-MM-DD HH:MM:SS` or with `T`, optional fraction), naive and taken as
/// UTC. `None` when it is not one.
pub fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    let text = text.replace(" +0000 UTC", "");
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text.trim(), format).ok())
}

/// koku's `safe_float` (spec §2.3): Python's `float(text)`, or 0.0 when that raises, an empty
/// field included. Python's rules kept: surrounding whitespace ignored; `inf`, `infinity`, `nan`
/// in any case, signed; `_` allowed between digits only.
pub fn safe_float(text: &str) -> f64 {
    python_float(text).unwrap_or(0.0)
}

/// Python's `float(str)`; `None` where it raises `ValueError`.
fn python_float(text: &str) -> Option<f64> {
    let text = text.trim();
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let digit_before = i > 0 && bytes[i - 1].is_ascii_digit();
            let digit_after = bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !(digit_before && digit_after) {
                return None;
            }
        }
    }
    let text = text.replace('_', "");
    let unsigned = text.trim_start_matches(['+', '-']);
    if text.len() - unsigned.len() > 1 {
        return None;
    }
    let lower = unsigned.to_ascii_lowercase();
    let negative = text.starts_with('-');
    let special = match lower.as_str() {
        "inf" | "infinity" => Some(f64::INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    };
    if let Some(value) = special {
        return Some(if negative { -value } else { value });
    }
    // Rust's grammar is Python's for decimal numbers otherwise, once the names are handled.
    if lower.contains("inf") || lower.contains("nan") {
        return None;
    }
    text.parse::<f64>().ok()
}

/// koku's column-name normalisation (spec §2.1): `re.sub(r'\W+', '_', name).lower()`, a run of
/// characters other than letters, digits and `_` becoming one `_`.
pub fn normalize_column_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if c.is_alphanumeric() || c == '_' {
            out.extend(c.to_lowercase());
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::model::GIB;

    const POD_HEADER: &str = "report_period_start,report_period_end,interval_start,interval_end,pod,namespace,node,resource_id,pod_usage_cpu_core_seconds,pod_request_cpu_core_seconds,pod_limit_cpu_core_seconds,pod_usage_memory_byte_seconds,pod_request_memory_byte_seconds,pod_limit_memory_byte_seconds,node_capacity_cpu_cores,node_capacity_cpu_core_seconds,node_capacity_memory_bytes,node_capacity_memory_byte_seconds,pod_labels";
    const STORAGE_HEADER: &str = "report_period_start,report_period_end,interval_start,interval_end,namespace,pod,node,persistentvolumeclaim,persistentvolume,storageclass,csi_driver,csi_volume_handle,persistentvolumeclaim_capacity_bytes,persistentvolumeclaim_capacity_byte_seconds,volume_request_storage_byte_seconds,persistentvolumeclaim_usage_byte_seconds,persistentvolume_labels,persistentvolumeclaim_labels";
    const PERIOD: &str = "2024-02-01 00:00:00 +0000 UTC,2024-03-01 00:00:00 +0000 UTC";

    fn ts(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    /// The hour starting at `hh`:00 on 2024-02-29, as nise writes it.
    fn hour(hh: u32) -> String {
        format!("2024-02-29 {hh:02}:00:00 +0000 UTC,2024-02-29 {hh:02}:59:59 +0000 UTC")
    }

    /// A pod-usage file of web-1 on alpha (4 cores, 16 GiB), hours 00 and 01, and a pod without
    /// a node whose name needs escaping and whose limit and labels are empty:
    /// - hour 00: usage 0.5 core·3600 s = 1800, request 1·3600 = 3600, limit 2·3600 = 7200;
    ///   memory usage 3 GiB·3600 = 11596411699200, request 2 GiB·3600 = 7730941132800, limit
    ///   4 GiB·3600 = 15461882265600; capacity 4, 4·3600 = 14400, 16 GiB = 17179869184,
    ///   16 GiB·3600 = 61847529062400;
    /// - hour 01: the same but CPU usage 1.5 core·3600 = 5400.
    fn pod_csv() -> String {
        let web = |h: u32, usage: &str| {
            format!(
                "{PERIOD},{},web-1,shop,alpha,i-alpha,{usage},3600,7200,11596411699200,\
                 7730941132800,15461882265600,4,14400,17179869184,61847529062400,\
                 label_app:web|label_tier:front",
                hour(h)
            )
        };
        let nodeless = format!("{PERIOD},{},batch&1,shop,,,10,20,,0,0,0,,,,,", hour(0));
        format!(
            "{POD_HEADER}\n{}\n{}\n{nodeless}\n",
            web(0, "1800.0"),
            web(1, "5400")
        )
    }

    /// Hour 00: claim data-1 of web-1 (10 GiB capacity, PV request 20 GiB, 4 GiB used) and the
    /// claimless volume pv-free (30 GiB), whose request and usage nise leaves empty (§10.3).
    fn storage_csv() -> String {
        format!(
            "{STORAGE_HEADER}\n\
             {PERIOD},{h},shop,web-1,alpha,data-1,pv-1,gp3-csi,ebs.csi.aws.com,vol-1,10737418240.0,38654705664000.0,77309411328000,15461882265600,label_tier:gold,label_app:web\n\
             {PERIOD},{h},,,,,pv-free,gp3-csi,ebs.csi.aws.com,vol-free,32212254720.0,115964116992000.0,,,,\n",
            h = hour(0)
        )
    }

    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn timestamps_as_koku_parses_them() {
        assert_eq!(
            parse_timestamp("2024-02-29 23:00:00 +0000 UTC"),
            Some(ts("2024-02-29 23:00:00"))
        );
        assert_eq!(
            parse_timestamp("2024-02-29T23:59:59"),
            Some(ts("2024-02-29 23:59:59"))
        );
        assert_eq!(parse_timestamp("2024-02-30 00:00:00 +0000 UTC"), None);
        assert_eq!(parse_timestamp(""), None);
    }

    #[test]
    fn numbers_as_safe_float_reads_them() {
        assert_eq!(safe_float("1800.0"), 1800.0);
        assert_eq!(safe_float("3600"), 3600.0);
        assert_eq!(safe_float(" 2.5 "), 2.5); // float(' 2.5 ') == 2.5
        assert_eq!(safe_float("1e3"), 1000.0);
        assert_eq!(safe_float("1_000.5"), 1000.5); // float('1_000.5') == 1000.5
        assert_eq!(safe_float("-inf"), f64::NEG_INFINITY);
        assert!(safe_float("NaN").is_nan());
        // float() raises on these: safe_float gives 0.0.
        for bad in ["", "abc", "1__0", "_1", "1_", "--1", "1,5", "infx"] {
            assert_eq!(safe_float(bad), 0.0, "{bad:?}");
        }
    }

    #[test]
    fn pandas_na_tokens_become_empty_fields() {
        assert_eq!(na_to_empty("NA"), "");
        assert_eq!(na_to_empty("null"), "");
        assert_eq!(na_to_empty("nan"), "");
        assert_eq!(na_to_empty("None"), "");
        assert_eq!(na_to_empty("none"), "none"); // not a token: case matters
        assert_eq!(na_to_empty("web-1"), "web-1");
    }

    #[test]
    fn column_names_normalised_like_koku() {
        assert_eq!(normalize_column_name("pod_labels"), "pod_labels");
        assert_eq!(normalize_column_name("Pod Usage--CPU"), "pod_usage_cpu");
        assert_eq!(normalize_column_name("node.role"), "node_role");
    }

    #[test]
    fn report_type_told_from_the_header() {
        let cols = |header: &str| -> Vec<String> { header.split(',').map(String::from).collect() };
        assert_eq!(
            ReportKind::detect(&cols(POD_HEADER)),
            Some(ReportKind::PodUsage)
        );
        assert_eq!(
            ReportKind::detect(&cols(STORAGE_HEADER)),
            Some(ReportKind::StorageUsage)
        );
        let node =
            "report_period_start,report_period_end,interval_start,interval_end,node,node_labels";
        assert_eq!(
            ReportKind::detect(&cols(node)),
            Some(ReportKind::NodeLabels)
        );
        let ns = "report_period_start,interval_start,namespace,namespace_labels";
        assert_eq!(
            ReportKind::detect(&cols(ns)),
            Some(ReportKind::NamespaceLabels)
        );
        let vm = "report_period_start,interval_start,node,namespace,vm_name,vm_labels";
        assert_eq!(ReportKind::detect(&cols(vm)), None);
    }

    #[test]
    fn cluster_id_from_nise_file_names() {
        assert_eq!(
            cluster_id_from_file_name("February-2024-leap-cluster-ocp_pod_usage.csv").as_deref(),
            Some("leap-cluster")
        );
        assert_eq!(
            cluster_id_from_file_name("May-2024-c1-ocp_storage_usage-2.csv").as_deref(),
            Some("c1")
        );
        assert_eq!(
            cluster_id_from_file_name("1234_openshift_report.0.csv"),
            None
        );
        assert_eq!(
            cluster_id_from_file_name("May-24-c1-ocp_pod_usage.csv"),
            None
        );
    }

    #[test]
    fn pod_rows_hand_computed() {
        let dir = folder(&[("February-2024-c1-ocp_pod_usage.csv", &pod_csv())]);
        let input = read_csv_folder(dir.path()).unwrap();
        let t = &input.tables;
        assert_eq!(t.pod_usage.len(), 3);
        let web0 = &t.pod_usage[0];
        assert_eq!(web0.interval_start, ts("2024-02-29 00:00:00"));
        assert_eq!(web0.interval_end, ts("2024-02-29 00:59:59"));
        assert_eq!(web0.report_period_end, ts("2024-03-01 00:00:00"));
        assert_eq!(web0.pod_labels, r#"{"app": "web", "tier": "front"}"#);
        assert_eq!(web0.node_role, None); // nise writes no node_role column (§10.2)
                                          // Hour 00: effective = max(1800, 3600) = 3600; memory max(3 GiB, 2 GiB)·3600.
        assert_eq!(web0.pod_effective_usage_cpu_core_seconds, 3600.0);
        assert_eq!(
            web0.pod_effective_usage_memory_byte_seconds,
            3.0 * GIB * 3600.0
        );
        // The pod without a node: node '' (not NULL), empty numbers 0.0, escaped name, `{}`.
        let nodeless = &t.pod_usage[2];
        assert_eq!(nodeless.pod, "batch&amp;1");
        assert_eq!(
            (nodeless.node.as_str(), nodeless.resource_id.as_str()),
            ("", "")
        );
        assert_eq!(nodeless.pod_limit_cpu_core_seconds, 0.0);
        assert_eq!(nodeless.node_capacity_cpu_cores, 0.0);
        assert_eq!(nodeless.pod_labels, "{}");
        // effective = max(usage 10, request 20) = 20.
        assert_eq!(nodeless.pod_effective_usage_cpu_core_seconds, 20.0);

        // Daily: one row per (namespace, node, pod, labels, day), sorted: the nodeless pod
        // (node '') first.
        assert_eq!(t.pod_usage_daily.len(), 2);
        let web = &t.pod_usage_daily[1];
        assert_eq!(web.pod, "web-1");
        assert_eq!(web.interval_start, ts("2024-02-29 00:00:00"));
        assert_eq!(web.pod_usage_cpu_core_seconds, 7200.0); // 1800 + 5400
        assert_eq!(web.pod_request_cpu_core_seconds, 7200.0); // 3600 + 3600
                                                              // Σ per hour of max(usage, request) = 3600 + 5400, not max(7200, 7200).
        assert_eq!(web.pod_effective_usage_cpu_core_seconds, 9000.0);
        assert_eq!(web.node_capacity_cpu_cores, 4.0); // max, not sum
        assert_eq!(web.node_capacity_cpu_core_seconds, 28800.0); // 14400 · 2 hours
        assert_eq!(web.resource_id, "i-alpha");
        assert_eq!(web.node_role, None);
        assert_eq!(input.label_keys(), ["app", "tier"]);
    }

    #[test]
    fn storage_rows_hand_computed() {
        let dir = folder(&[("February-2024-c1-ocp_storage_usage.csv", &storage_csv())]);
        let t = read_csv_folder(dir.path()).unwrap().tables;
        assert_eq!(t.storage_usage.len(), 2);
        let claimed = &t.storage_usage[0];
        assert_eq!(claimed.persistentvolumeclaim_capacity_bytes, 10.0 * GIB);
        assert_eq!(
            claimed.volume_request_storage_byte_seconds,
            20.0 * GIB * 3600.0
        );
        assert_eq!(
            claimed.persistentvolumeclaim_usage_byte_seconds,
            4.0 * GIB * 3600.0
        );
        assert_eq!(claimed.persistentvolume_labels, r#"{"tier": "gold"}"#);
        // Claimless: empty namespace, pod, claim and node stay '', empty request and usage
        // become 0.0, empty labels `{}`.
        let free = &t.storage_usage[1];
        assert_eq!(
            [
                &free.namespace,
                &free.pod,
                &free.node,
                &free.persistentvolumeclaim
            ],
            [""; 4]
        );
        assert_eq!(
            free.persistentvolumeclaim_capacity_byte_seconds,
            30.0 * GIB * 3600.0
        );
        assert_eq!(free.volume_request_storage_byte_seconds, 0.0);
        assert_eq!(free.persistentvolumeclaim_usage_byte_seconds, 0.0);
        assert_eq!(
            (
                free.persistentvolume_labels.as_str(),
                free.persistentvolumeclaim_labels.as_str()
            ),
            ("{}", "{}")
        );
        // Daily, sorted by namespace: the claimless row ('') first.
        let daily: Vec<&str> = t
            .storage_usage_daily
            .iter()
            .map(|r| r.persistentvolume.as_str())
            .collect();
        assert_eq!(daily, ["pv-free", "pv-1"]);
    }

    #[test]
    fn anomalous_rows_are_dropped_and_counted() {
        // 2e18 > 1e18 in the memory usage: koku drops the row (§2.3).
        let text = format!(
            "{POD_HEADER}\n{PERIOD},{},big,shop,alpha,i-alpha,1,1,1,2e18,0,0,4,14400,1,3600,\n",
            hour(0)
        );
        let dir = folder(&[("pods.csv", &text), ("more.csv", &pod_csv())]);
        let input = read_csv_folder(dir.path()).unwrap();
        assert_eq!(input.files.len(), 2);
        let big = input
            .files
            .iter()
            .find(|f| f.path.ends_with("pods.csv"))
            .unwrap();
        assert_eq!((big.rows, big.anomalous), (1, 1));
        assert!(input.tables.pod_usage.iter().all(|r| r.pod != "big"));
    }

    #[test]
    fn daily_rows_are_per_file() {
        // The same CSV twice: koku's daily frames are per file, so each pod and day has two
        // daily rows (the summary adds them up again, §2.3 "Daily aggregation").
        let dir = folder(&[("a.csv", &pod_csv()), ("b.csv", &pod_csv())]);
        let t = read_csv_folder(dir.path()).unwrap().tables;
        assert_eq!(t.pod_usage.len(), 6);
        assert_eq!(t.pod_usage_daily.len(), 4);
    }

    #[test]
    fn a_missing_column_is_named() {
        let text = pod_csv().replacen(",pod_labels", ",labels", 1);
        let dir = folder(&[("pods.csv", &text)]);
        let error = read_csv_folder(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("pods.csv") && error.contains("pod_labels"),
            "{error}"
        );
        let text = pod_csv().replacen("2024-02-29 01:00:00", "yesterday", 1);
        let dir = folder(&[("pods.csv", &text)]);
        let error = read_csv_folder(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("line 3") && error.contains("interval_start"),
            "{error}"
        );
    }

    #[test]
    fn ingest_writes_kokus_layout_and_the_cluster_it_describes() {
        let vm = "report_period_start,interval_start,node,namespace,vm_name,vm_labels\n";
        let csv = folder(&[
            ("February-2024-leap-ocp_pod_usage.csv", pod_csv().as_str()),
            (
                "February-2024-leap-ocp_storage_usage.csv",
                storage_csv().as_str(),
            ),
            ("February-2024-leap-ocp_vm_usage.csv", vm),
            (
                "March-2024-leap-ocp_pod_usage.csv",
                &format!("{POD_HEADER}\n"),
            ),
        ]);
        let out = tempfile::tempdir().unwrap();
        let ingested = ingest_nise(csv.path(), out.path(), &IngestOptions::default()).unwrap();
        let c = &ingested.cluster;
        assert_eq!(c.cluster_id, "leap");
        assert_eq!(c.cluster_alias, "leap");
        assert_eq!(
            (c.first_date(), c.last_date()),
            (d(2024, 2, 29), d(2024, 2, 29))
        );
        assert_eq!(c.enabled_tag_keys, ["app", "tier"]);
        assert!(c.existing_nodes.is_empty() && c.nodes.is_empty());
        assert_eq!(ingested.months, [(2024, 2)]);
        assert_eq!(ingested.skipped.len(), 2); // vm_usage, header-only March file
        let month = out.path().join(format!(
            "data/parquet/daily/org1234567/OCP/pod_usage/source={}/year=2024/month=02",
            c.source_uuid
        ));
        assert!(month
            .join("pod_usage.2024-02-29.1.1_daily_0.parquet")
            .is_file());
        let storage = ingested.written.table("storage_usage", true).unwrap();
        assert_eq!((storage.files, storage.rows), (1, 2));
        // No label CSVs: no label tables.
        assert!(ingested.written.table("node_labels", false).is_none());

        let mut options = IngestOptions {
            enabled_keys: EnabledKeys::None,
            cluster_id: Some("mine".into()),
            ..IngestOptions::default()
        };
        let again = ingest_nise(csv.path(), out.path(), &options).unwrap();
        assert_eq!(again.cluster.cluster_id, "mine");
        assert!(again.cluster.enabled_tag_keys.is_empty());
        options.month = Some((2024, 3));
        let error = ingest_nise(csv.path(), out.path(), &options)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("2024-03") && error.contains("2024-02"),
            "{error}"
        );
    }

    #[test]
    fn rows_in_two_months_need_a_choice() {
        let march = pod_csv().replace("2024-02-29", "2024-03-01");
        let csv = folder(&[
            ("February-2024-c-ocp_pod_usage.csv", &pod_csv()),
            ("March-2024-c-ocp_pod_usage.csv", &march),
        ]);
        let out = tempfile::tempdir().unwrap();
        let error = ingest_nise(csv.path(), out.path(), &IngestOptions::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("several months"), "{error}");
        let options = IngestOptions {
            month: Some((2024, 3)),
            ..IngestOptions::default()
        };
        let ingested = ingest_nise(csv.path(), out.path(), &options).unwrap();
        assert_eq!(ingested.cluster.first_date(), d(2024, 3, 1));
        assert_eq!(ingested.months, [(2024, 2), (2024, 3)]);
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
}
