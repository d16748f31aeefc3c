//! Metamorphic properties of the engine: relations between two runs that the spec guarantees
//! without anyone knowing either run's right answer, checked on generated clusters
//! ([`cluster_model`]). Spec sections (§n) refer to `docs/spec.md`.
//!
//! | property | relation |
//! |---|---|
//! | [`a_month_is_the_union_of_its_days`] | one run over a range = the runs of its single days, concatenated |
//! | [`row_and_file_order_change_nothing`] | rows shuffled within files, files renamed into another order |
//! | [`splitting_files_in_two_changes_nothing`] | a day's file of a table becomes two files in the same folder |
//! | [`koku_chunking_changes_nothing`] | hourly rows processed in two chunks, each with its own daily frame |
//! | [`second_copies_double_only_the_pod_sums`] | a second copy of a table's files |
//! | [`disabled_label_keys_change_nothing`] | a disabled key added to pods, namespaces and nodes |
//! | [`renaming_nodes_changes_only_the_node_column`] | node names permuted or replaced |
//!
//! Rows are compared as multisets of [`ComparableRow`]s sorted by natural key: keys and cost
//! category exactly, metrics within a relative [`REL_TOL`]. Trino's double sums depend on row
//! order in the last bits (§7.2, §12.7); the sums here are short, so 1e-9 hides no formula error.
//!
//! A model in which no pod reports at all has no daily pod-usage file, and the engine fails with
//! bad input "no pod-usage data" (engine `inputs::read_inputs`); both sides of a relation must
//! then fail that way. Any other error on a valid model fails the property.
//!
//! Failing cases are kept in `harness/proptest-regressions/metamorphic.txt` and replayed first.
//! `OCP_METAMORPHIC_FACTOR` multiplies every property's case count (the nightly report runs 8×).

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;

use chrono::{Duration, NaiveDate};
use ocp_engine::error::{Error, Problem};
use ocp_engine::run::{Output, RunReport, RunRequest};
use ocp_engine::summary::Metric;
use ocp_harness::compare::ComparableRow;
use ocp_harness::scenario::{engine_request, run_quietly, Scenario};
use ocp_harness::synth::koku_tables::{
    namespace_labels_daily, node_labels_daily, pod_usage_daily, storage_usage_daily,
};
use ocp_harness::synth::model::{days_in_month, labels_at};
use ocp_harness::synth::strategy::{cluster_model, LABEL_KEYS};
use ocp_harness::synth::{
    koku_tables_for_day, table_dir, to_record_batch, write_batch, ClusterModel, KokuRow,
    KokuTables, LabelPeriod,
};
use proptest::prelude::*;
use proptest::sample::{subsequence, Index};
use proptest::test_runner::FileFailurePersistence;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------------
// Running and comparing
// ---------------------------------------------------------------------------------------------

/// Relative tolerance on metrics.
const REL_TOL: f64 = 1e-9;
/// Absolute difference below which two values match whatever their size (as the comparison's
/// floor).
const ABS_FLOOR: f64 = 1e-9;

/// Where proptest keeps failing cases (committed, replayed before new cases).
const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/metamorphic.txt"
);

/// `cases` cases times `OCP_METAMORPHIC_FACTOR` (a whole number, default 1; the nightly runs
/// 8), failures persisted in [`REGRESSIONS`], shrinking bounded so a failure is reported within
/// minutes.
fn config(cases: u32) -> ProptestConfig {
    let factor = std::env::var("OCP_METAMORPHIC_FACTOR")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(1);
    ProptestConfig {
        cases: cases * factor,
        max_shrink_iters: 512,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        ..ProptestConfig::default()
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
        .block_on(future)
}

/// Why a run on a valid model failed.
#[derive(Debug, PartialEq)]
enum Failure {
    /// No daily pod-usage file in the month: the one bad input a valid model can give.
    NoPodFiles,
    /// Anything else: never expected.
    Other(String),
}

/// A run's rows, sorted, or why it failed.
type Outcome = Result<Vec<ComparableRow>, Failure>;

fn run_report(request: &RunRequest) -> Result<RunReport, Failure> {
    block_on(run_quietly(request)).map_err(|e| match e {
        Error::Input {
            problem: Problem::NoData { .. },
            ..
        } => Failure::NoPodFiles,
        other => Failure::Other(other.to_string()),
    })
}

fn run(request: &RunRequest) -> Outcome {
    run_report(request).map(|report| sorted(ComparableRow::of_run(&report)))
}

/// A run's Pod-branch and Storage rows, sorted: every row but the unallocated ones.
fn allocated(report: &RunReport) -> Vec<ComparableRow> {
    sorted(
        report
            .rows
            .iter()
            .filter(|row| !row.is_unallocated())
            .map(|row| ComparableRow::of_engine_row(row, &report.constants)),
    )
}

/// Rows in a canonical order: natural key, then cost category, then metrics.
fn sorted(rows: impl IntoIterator<Item = ComparableRow>) -> Vec<ComparableRow> {
    let mut rows: Vec<ComparableRow> = rows.into_iter().collect();
    rows.sort_by(|a, b| {
        a.key
            .cmp(&b.key)
            .then(a.cost_category_id.cmp(&b.cost_category_id))
            .then_with(|| {
                let metric = |m: &Option<f64>| m.unwrap_or(f64::NEG_INFINITY);
                a.metrics
                    .iter()
                    .zip(&b.metrics)
                    .map(|(x, y)| metric(x).total_cmp(&metric(y)))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
    });
    rows
}

/// Both NULL, or both numbers within [`REL_TOL`] of each other or [`ABS_FLOOR`] apart (an
/// unallocated value is a difference of sums and can cancel to near zero).
fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            (a - b).abs() <= ABS_FLOOR || (a - b).abs() <= REL_TOL * a.abs().max(b.abs())
        }
        _ => false,
    }
}

fn same_row(a: &ComparableRow, b: &ComparableRow) -> bool {
    a.key == b.key
        && a.cost_category_id == b.cost_category_id
        && a.metrics.iter().zip(&b.metrics).all(|(x, y)| close(*x, *y))
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Ok(rows) => format!("{} rows", rows.len()),
        Err(failure) => format!("{failure:?}"),
    }
}

/// Fails unless both outcomes are the same rows (within tolerance) or both "no pod-usage data".
fn assert_same(expected: &Outcome, actual: &Outcome) -> Result<(), TestCaseError> {
    match (expected, actual) {
        (Ok(expected), Ok(actual)) => assert_same_rows(expected, actual),
        (Err(Failure::NoPodFiles), Err(Failure::NoPodFiles)) => Ok(()),
        _ => Err(TestCaseError::fail(format!(
            "expected {}, got {}",
            describe(expected),
            describe(actual)
        ))),
    }
}

/// Fails on the first row that differs, showing both rows.
fn assert_same_rows(
    expected: &[ComparableRow],
    actual: &[ComparableRow],
) -> Result<(), TestCaseError> {
    let first_difference = expected
        .iter()
        .zip(actual)
        .position(|(e, a)| !same_row(e, a));
    if let Some(i) = first_difference {
        return Err(TestCaseError::fail(format!(
            "row {i} differs:\nexpected {:?}\nactual   {:?}",
            expected[i], actual[i]
        )));
    }
    if expected.len() != actual.len() {
        let keys = |rows: &[ComparableRow]| -> Vec<String> {
            rows.iter().map(|r| format!("{:?}", r.key)).collect()
        };
        return Err(TestCaseError::fail(format!(
            "{} rows expected, {} produced\nexpected keys {:#?}\nactual keys {:#?}",
            expected.len(),
            actual.len(),
            keys(expected),
            keys(actual)
        )));
    }
    Ok(())
}

/// `model` written by the harness's own writer (one file per table and day, spec §2.1).
fn scenario(model: &ClusterModel) -> Scenario {
    Scenario::write(model.clone()).expect("a valid model is written")
}

/// The baseline: `model` as koku writes it, summarised over its whole range.
fn baseline(model: &ClusterModel) -> Outcome {
    run(&scenario(model).request())
}

// ---------------------------------------------------------------------------------------------
// Writing a model's tables in other file layouts
// ---------------------------------------------------------------------------------------------

/// The eight tables koku writes for the pod, storage and label reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TableKind {
    PodHourly,
    PodDaily,
    StorageHourly,
    StorageDaily,
    NodeLabelsHourly,
    NodeLabelsDaily,
    NamespaceLabelsHourly,
    NamespaceLabelsDaily,
}

const ALL_TABLES: [TableKind; 8] = [
    TableKind::PodHourly,
    TableKind::PodDaily,
    TableKind::StorageHourly,
    TableKind::StorageDaily,
    TableKind::NodeLabelsHourly,
    TableKind::NodeLabelsDaily,
    TableKind::NamespaceLabelsHourly,
    TableKind::NamespaceLabelsDaily,
];

/// How a variant lays out a table in files.
trait Layout {
    /// The files `(name, rows)` for `table`, from its rows per day as koku writes them (one
    /// file per day that has rows). Names must not start with `.` or `_` (skipped as hidden).
    fn files<R: Clone>(
        &mut self,
        table: TableKind,
        days: Vec<(NaiveDate, Vec<R>)>,
    ) -> Vec<(String, Vec<R>)>;
}

/// A model written into a temporary folder in some layout, and the request that reads it.
struct Variant {
    _dir: TempDir,
    request: RunRequest,
}

impl Variant {
    fn new(model: &ClusterModel, dir: TempDir) -> Variant {
        let location = dir.path().to_string_lossy().into_owned();
        let output = Output::File(dir.path().join("summary.parquet"));
        Variant {
            request: engine_request(model, &location, output),
            _dir: dir,
        }
    }
}

fn temp_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("ocp-metamorphic-")
        .tempdir()
        .expect("a temporary folder")
}

/// Writes `files` into `R`'s table folder of the model's partition.
fn write_files<R: KokuRow>(root: &Path, model: &ClusterModel, files: Vec<(String, Vec<R>)>) {
    let dir = table_dir(
        root,
        &model.account,
        &model.source_uuid,
        R::REPORT_TYPE,
        R::DAILY,
        model.year,
        model.month,
    );
    for (name, rows) in files {
        write_batch(&dir.join(name), &to_record_batch(&rows)).expect("a Parquet file is written");
    }
}

/// One table's rows per day, days without rows left out.
fn per_day<R: Clone>(
    days: &[(NaiveDate, KokuTables)],
    rows: impl Fn(&KokuTables) -> &Vec<R>,
) -> Vec<(NaiveDate, Vec<R>)> {
    days.iter()
        .map(|(date, tables)| (*date, rows(tables).clone()))
        .filter(|(_, rows)| !rows.is_empty())
        .collect()
}

/// Writes every table of `model` as `layout` arranges it.
fn write_layout(model: &ClusterModel, layout: &mut impl Layout) -> Variant {
    let days: Vec<(NaiveDate, KokuTables)> = (0..model.num_days())
        .map(|day| (model.date(day), koku_tables_for_day(model, day)))
        .collect();
    let dir = temp_dir();
    let root = dir.path();
    use TableKind::*;
    let pod = layout.files(PodHourly, per_day(&days, |t| &t.pod_usage));
    write_files(root, model, pod);
    let pod_daily = layout.files(PodDaily, per_day(&days, |t| &t.pod_usage_daily));
    write_files(root, model, pod_daily);
    let storage = layout.files(StorageHourly, per_day(&days, |t| &t.storage_usage));
    write_files(root, model, storage);
    let storage_daily = layout.files(StorageDaily, per_day(&days, |t| &t.storage_usage_daily));
    write_files(root, model, storage_daily);
    let node = layout.files(NodeLabelsHourly, per_day(&days, |t| &t.node_labels));
    write_files(root, model, node);
    let node_daily = layout.files(NodeLabelsDaily, per_day(&days, |t| &t.node_labels_daily));
    write_files(root, model, node_daily);
    let ns = layout.files(
        NamespaceLabelsHourly,
        per_day(&days, |t| &t.namespace_labels),
    );
    write_files(root, model, ns);
    let ns_daily = layout.files(
        NamespaceLabelsDaily,
        per_day(&days, |t| &t.namespace_labels_daily),
    );
    write_files(root, model, ns_daily);
    Variant::new(model, dir)
}

/// Splits `rows` at random into two parts, each keeping the rows' order; both parts are
/// non-empty when there are at least two rows.
fn split_in_two<R>(rows: Vec<R>, rng: &mut ChaCha8Rng) -> (Vec<R>, Vec<R>) {
    let (mut a, mut b): (Vec<R>, Vec<R>) = rows.into_iter().partition(|_| rng.random_bool(0.5));
    if a.is_empty() {
        a.extend(b.pop());
    } else if b.is_empty() {
        b.extend(a.pop());
    }
    (a, b)
}

/// Rows shuffled within each file; files named `part-NN` by a random permutation, so the engine
/// (which reads a folder's files in name order) meets them in another order than by day.
struct Shuffled(ChaCha8Rng);

impl Layout for Shuffled {
    fn files<R: Clone>(
        &mut self,
        _: TableKind,
        days: Vec<(NaiveDate, Vec<R>)>,
    ) -> Vec<(String, Vec<R>)> {
        let mut ranks: Vec<usize> = (0..days.len()).collect();
        ranks.shuffle(&mut self.0);
        days.into_iter()
            .zip(ranks)
            .map(|((_, mut rows), rank)| {
                rows.shuffle(&mut self.0);
                (format!("part-{rank:02}.parquet"), rows)
            })
            .collect()
    }
}

/// The chosen tables' day files each split in two (random rows to each part).
struct Split {
    tables: Vec<TableKind>,
    rng: ChaCha8Rng,
}

impl Layout for Split {
    fn files<R: Clone>(
        &mut self,
        table: TableKind,
        days: Vec<(NaiveDate, Vec<R>)>,
    ) -> Vec<(String, Vec<R>)> {
        let mut files = Vec::new();
        for (date, rows) in days {
            if self.tables.contains(&table) && rows.len() >= 2 {
                let (a, b) = split_in_two(rows, &mut self.rng);
                files.push((format!("{date}-0.parquet"), a));
                files.push((format!("{date}-1.parquet"), b));
            } else {
                files.push((format!("{date}-0.parquet"), rows));
            }
        }
        files
    }
}

/// The chosen tables' day files each written twice.
struct Duplicated(Vec<TableKind>);

impl Layout for Duplicated {
    fn files<R: Clone>(
        &mut self,
        table: TableKind,
        days: Vec<(NaiveDate, Vec<R>)>,
    ) -> Vec<(String, Vec<R>)> {
        let mut files = Vec::new();
        for (date, rows) in days {
            if self.0.contains(&table) {
                files.push((format!("{date}-copy.parquet"), rows.clone()));
            }
            files.push((format!("{date}.parquet"), rows));
        }
        files
    }
}

/// koku's chunked processing of one report's hourly rows of a day (spec §1.1 step 3, §2.3
/// "Daily aggregation ... runs per CSV chunk"): the rows go at random into two chunks; each
/// chunk is written as its own hourly file and its own daily file, aggregated from that chunk
/// alone by `daily`.
fn write_chunks<H: KokuRow + Clone, D: KokuRow>(
    root: &Path,
    model: &ClusterModel,
    date: NaiveDate,
    hourly: Vec<H>,
    daily: fn(&[H]) -> Vec<D>,
    rng: &mut ChaCha8Rng,
) {
    let (a, b) = split_in_two(hourly, rng);
    for (i, chunk) in [a, b].into_iter().enumerate() {
        if chunk.is_empty() {
            continue;
        }
        let name = format!("{date}-{i}.parquet");
        write_files(root, model, vec![(name.clone(), daily(&chunk))]);
        write_files(root, model, vec![(name, chunk)]);
    }
}

/// `model` as koku writes it when every day's reports are processed in two chunks.
fn write_chunked(model: &ClusterModel, rng: &mut ChaCha8Rng) -> Variant {
    let dir = temp_dir();
    let root = dir.path();
    for day in 0..model.num_days() {
        let date = model.date(day);
        let t = koku_tables_for_day(model, day);
        write_chunks(root, model, date, t.pod_usage, pod_usage_daily, rng);
        write_chunks(root, model, date, t.storage_usage, storage_usage_daily, rng);
        write_chunks(root, model, date, t.node_labels, node_labels_daily, rng);
        let namespaces = t.namespace_labels;
        write_chunks(root, model, date, namespaces, namespace_labels_daily, rng);
    }
    Variant::new(model, dir)
}

// ---------------------------------------------------------------------------------------------
// Model transformations
// ---------------------------------------------------------------------------------------------

/// The run's days, widened by one day on each side where the month allows: days outside the
/// model have no rows, and must add none.
fn widened_range(model: &ClusterModel) -> (NaiveDate, NaiveDate) {
    let first = if model.first_day > 1 {
        model.first_date() - Duration::days(1)
    } else {
        model.first_date()
    };
    let last = if model.last_day < days_in_month(model.year, model.month) {
        model.last_date() + Duration::days(1)
    } else {
        model.last_date()
    };
    (first, last)
}

fn with_dates(mut request: RunRequest, start: NaiveDate, end: NaiveDate) -> RunRequest {
    request.start = start;
    request.end = end;
    request
}

/// Spec §1.2 step 1: the start moves up to the first day with daily pod-usage rows in the
/// range (pods without a node count: the orchestrator reads the table unfiltered).
fn expected_effective_start(model: &ClusterModel, start: NaiveDate) -> NaiveDate {
    let first_hour = model.pods.iter().filter_map(|p| p.hours.first()).min();
    first_hour.map_or(start, |&hour| model.date(hour / 24).max(start))
}

/// The label keys Trino's filter drops for `enabled` (spec §5 KEYS, §6.1): every key when none
/// is enabled (the Trino quirk drops `vm_kubevirt_io_name` too, §3 `cte_pg_enabled_keys`), else
/// every key but the enabled ones and `vm_kubevirt_io_name`. Drawn from the strategy's keys
/// plus one no model uses.
fn disabled_keys(enabled: &[String]) -> Vec<&'static str> {
    std::iter::once("extra_key")
        .chain(LABEL_KEYS.iter().map(|(key, _)| *key))
        .filter(|key| {
            enabled.is_empty()
                || (*key != "vm_kubevirt_io_name" && !enabled.iter().any(|e| e == key))
        })
        .collect()
}

/// Sets `key` to `value` in `labels`, appending it if absent.
fn set_label(labels: &mut Vec<(String, String)>, key: &str, value: &str) {
    match labels.iter_mut().find(|(k, _)| k == key) {
        Some(entry) => entry.1 = value.to_string(),
        None => labels.push((key.to_string(), value.to_string())),
    }
}

const DISABLED_VALUES: [&str; 3] = ["d1", "d2", "d3"];

fn disabled_value(rng: &mut ChaCha8Rng) -> &'static str {
    DISABLED_VALUES.choose(rng).expect("values")
}

/// Puts `key` on most label periods (with a random value each), and half the time adds a
/// period at a random hour that changes only `key`: a within-day change in a disabled key.
fn add_key_to_periods(
    periods: &mut Vec<LabelPeriod>,
    key: &str,
    num_hours: u32,
    rng: &mut ChaCha8Rng,
) {
    if periods.is_empty() {
        periods.push(LabelPeriod::new(0, &[]));
    }
    for period in periods.iter_mut() {
        if rng.random_bool(0.7) {
            set_label(&mut period.labels, key, disabled_value(rng));
        }
    }
    if num_hours > 1 && rng.random_bool(0.5) {
        let hour = rng.random_range(1..num_hours);
        if !periods.iter().any(|p| p.from_hour == hour) {
            let mut labels = labels_at(periods, hour).to_vec();
            set_label(&mut labels, key, disabled_value(rng));
            let at = periods.partition_point(|p| p.from_hour < hour);
            periods.insert(
                at,
                LabelPeriod {
                    from_hour: hour,
                    labels,
                },
            );
        }
    }
}

/// `model` with the disabled `key` added to most pods and to the labels of every node and listed
/// namespace (see [`add_key_to_periods`]).
fn with_disabled_key(model: &ClusterModel, key: &str, rng: &mut ChaCha8Rng) -> ClusterModel {
    let mut changed = model.clone();
    let hours = model.num_hours();
    for pod in &mut changed.pods {
        if rng.random_bool(0.7) {
            set_label(&mut pod.labels, key, disabled_value(rng));
        }
    }
    for node in &mut changed.nodes {
        add_key_to_periods(&mut node.labels, key, hours, rng);
    }
    for namespace in &mut changed.namespaces {
        add_key_to_periods(&mut namespace.labels, key, hours, rng);
    }
    changed
}

/// Names a renamed node may take besides another node's: a namespace name and a resource-id-like
/// text (the engine interns all names together), and a plain new name.
const FRESH_NODE_NAMES: [&str; 3] = ["kube-system", "i-00", "renamed.node"];

/// A renaming of `model`'s nodes: their names permuted, and half the time one of them replaced
/// by an unused name of [`FRESH_NODE_NAMES`].
fn node_renaming(model: &ClusterModel, rng: &mut ChaCha8Rng) -> BTreeMap<String, String> {
    let old: Vec<String> = model.nodes.iter().map(|n| n.name.clone()).collect();
    let mut new = old.clone();
    new.shuffle(rng);
    let unused: Vec<&str> = FRESH_NODE_NAMES
        .into_iter()
        .filter(|name| !old.iter().any(|o| o == name))
        .collect();
    if rng.random_bool(0.5) {
        if let Some(fresh) = unused.choose(rng) {
            let i = rng.random_range(0..new.len());
            new[i] = fresh.to_string();
        }
    }
    old.into_iter().zip(new).collect()
}

/// `model` with its nodes renamed everywhere a node name appears: nodes, pods, the operator's
/// roles and the recorded `reporting_ocp_nodes` rows (a recorded name that is not one of the
/// model's nodes stays).
fn renamed(model: &ClusterModel, names: &BTreeMap<String, String>) -> ClusterModel {
    let rename = |name: &str| names.get(name).cloned().unwrap_or_else(|| name.to_string());
    let mut changed = model.clone();
    for node in &mut changed.nodes {
        node.name = rename(&node.name);
    }
    for pod in changed.pods.iter_mut().filter(|p| !p.node.is_empty()) {
        pod.node = rename(&pod.node);
    }
    changed.operator_node_roles = model
        .operator_node_roles
        .iter()
        .map(|(node, role)| (rename(node), role.clone()))
        .collect();
    for record in &mut changed.existing_nodes {
        record.node = rename(&record.node);
    }
    changed
}

/// The eight pod metrics, summed over a group's daily pod rows (spec §3 Pod table).
const POD_SUMS: [Metric; 8] = [
    Metric::PodUsageCpuCoreHours,
    Metric::PodRequestCpuCoreHours,
    Metric::PodEffectiveUsageCpuCoreHours,
    Metric::PodLimitCpuCoreHours,
    Metric::PodUsageMemoryGigabyteHours,
    Metric::PodRequestMemoryGigabyteHours,
    Metric::PodEffectiveUsageMemoryGigabyteHours,
    Metric::PodLimitMemoryGigabyteHours,
];

/// The three storage metrics summed over a group's daily storage rows (spec §3 Storage table);
/// Pod and unallocated rows have them NULL.
const STORAGE_SUMS: [Metric; 3] = [
    Metric::PersistentvolumeclaimCapacityGigabyteMonths,
    Metric::VolumeRequestStorageGigabyteMonths,
    Metric::PersistentvolumeclaimUsageGigabyteMonths,
];

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(48))]

    /// Every input of a Pod row is keyed by its day: the daily pod rows, node and namespace labels
    /// joined on (node or namespace, day), capacity per (day, node) and per day (spec §3 Pod
    /// branch, §5 steps 1–3); the cost category depends on the namespace alone (§6.5). So a run
    /// over days D0..D1 is the concatenation of the runs over each single day (koku itself relies
    /// on this when it splits a range into 5-day chunks, §1.2 step 4).
    ///
    /// The range is widened by a day on each side where the month allows. A day without data
    /// still reads the month's files (there is no day partition, §2.1) and gives no rows: koku's
    /// start-date move (§1.2 step 1) finds no minimum and leaves the date alone, and the SQL's
    /// window holds nothing. Only when the month has no daily pod-usage file at all does every
    /// run fail, whole or per day, with the same bad input. The whole run's reported start is the
    /// first day with daily pod rows (§1.2 step 1); a single-day run's is that day.
    ///
    /// Unallocated rows are left out: their namespace comes from node roles, which koku's node
    /// query discovers over the whole run's window (§6.4), so a node that runs
    /// `openshift-kube-apiserver` on one day is a master for the month's run but a worker for a
    /// run of another day alone. Their values are day-local and checked by the other properties.
    #[test]
    fn a_month_is_the_union_of_its_days(model in cluster_model()) {
        let scenario = scenario(&model);
        let (first, last) = widened_range(&model);
        let whole = run_report(&with_dates(scenario.request(), first, last));
        if let Ok(report) = &whole {
            prop_assert_eq!(report.effective_start, expected_effective_start(&model, first));
        }
        let whole: Outcome = whole.map(|r| allocated(&r));
        let mut union = Vec::new();
        for date in first.iter_days().take_while(|d| *d <= last) {
            let day = run_report(&with_dates(scenario.request(), date, date));
            match (&whole, day) {
                (Ok(_), Ok(report)) => {
                    prop_assert_eq!(report.effective_start, date);
                    union.extend(allocated(&report));
                }
                (_, day) => {
                    let day = day.map(|r| allocated(&r));
                    assert_same(&whole, &day)
                        .map_err(|e| TestCaseError::fail(format!("day {date}: {e}")))?;
                }
            }
        }
        if whole.is_ok() {
            assert_same(&whole, &Ok(sorted(union)))?;
        }
    }

    /// The SQL is set-based: sums and maxima over groups (§3 Pod branch), DISTINCT label rows
    /// (§3 label CTEs), max per (hour, node) then sums (§3 `cte_ocp_node_capacity`). Neither
    /// the order of rows in a file nor the order files are read in can change a result beyond
    /// the last bits of a double sum (§7.2).
    #[test]
    fn row_and_file_order_change_nothing((model, seed) in (cluster_model(), any::<u64>())) {
        let mut layout = Shuffled(ChaCha8Rng::seed_from_u64(seed));
        let variant = write_layout(&model, &mut layout);
        assert_same(&baseline(&model), &run(&variant.request))?;
    }

    /// Hive tables have no day partition (§2.1): the files of a partition folder are one table,
    /// whatever their number. Splitting a day's file into two files of the same folder keeps
    /// every row, each in exactly one file, so the invariant holds for every table read: the
    /// daily pod rows are summed per group (§3 Pod branch), the hourly rows give a max per
    /// (hour, node) (§3 `cte_ocp_node_capacity`), label rows are DISTINCT per day (§3 label
    /// CTEs). The chosen subset of tables shrinks to the ones that matter.
    #[test]
    fn splitting_files_in_two_changes_nothing(
        (model, tables, seed) in (cluster_model(), subsequence(ALL_TABLES.to_vec(), 1..=8), any::<u64>())
    ) {
        let mut layout = Split { tables, rng: ChaCha8Rng::seed_from_u64(seed) };
        let variant = write_layout(&model, &mut layout);
        assert_same(&baseline(&model), &run(&variant.request))?;
    }

    /// koku aggregates the daily tables per CSV chunk (§2.3 "Daily aggregation"), so the same
    /// (namespace, node, pod, labels, day) can appear in several daily rows, each with a partial
    /// sum, and the same (node, labels, day) label row in several files. The Pod branch groups
    /// and sums daily rows (no grouping by pod, §3), takes max of the capacity columns, and the
    /// label CTEs are DISTINCT, so "sums are unaffected" (§2.3, §12.7). Effective usage stays
    /// right because it is a per-hour max computed before any chunking (§2.3). Here every day's
    /// hourly rows of each report are split into two chunks, each written with its own daily
    /// file.
    #[test]
    fn koku_chunking_changes_nothing((model, seed) in (cluster_model(), any::<u64>())) {
        let variant = write_chunked(&model, &mut ChaCha8Rng::seed_from_u64(seed));
        assert_same(&baseline(&model), &run(&variant.request))?;
    }

    /// A second copy of a table's files is not a split: every row is there twice. The tables
    /// the SQL reads idempotently ignore it: label rows are DISTINCT (§3 label CTEs), hourly
    /// capacity is a max per (hour, node) (§3 `cte_ocp_node_capacity`). The daily pod rows are
    /// summed (§3 Pod branch), so a copy of them doubles the eight pod sums of the Pod-branch
    /// rows, and nothing else: capacity cores are a max, capacity hours come from the hourly
    /// table, and labels, cost category and resource id are unchanged. An unallocated row is
    /// capacity − Σ pod sums (§3 statement 3), so with the sums doubled it becomes
    /// capacity − 2·Σ = 2·(capacity − Σ) − capacity. The daily storage rows are summed too
    /// (§3 Storage branch): a copy doubles the three GiB-month sums and not the capacity in GiB
    /// (a max) nor the node count (DISTINCT nodes).
    #[test]
    fn second_copies_double_only_the_pod_sums(
        (model, tables) in (cluster_model(), subsequence(ALL_TABLES.to_vec(), 1..=8))
    ) {
        let doubled = tables.contains(&TableKind::PodDaily);
        let storage_doubled = tables.contains(&TableKind::StorageDaily);
        let expected = run_report(&scenario(&model).request()).map(|report| {
            sorted(report.rows.iter().map(|row| {
                let unallocated = row.is_unallocated();
                let mut row = ComparableRow::of_engine_row(row, &report.constants);
                if storage_doubled {
                    for metric in STORAGE_SUMS {
                        let value = &mut row.metrics[metric as usize];
                        *value = value.map(|v| 2.0 * v);
                    }
                }
                if doubled {
                    for metric in POD_SUMS {
                        let capacity = match metric {
                            _ if !unallocated => None,
                            Metric::PodUsageCpuCoreHours
                            | Metric::PodRequestCpuCoreHours
                            | Metric::PodEffectiveUsageCpuCoreHours => {
                                row.metric(Metric::NodeCapacityCpuCoreHours)
                            }
                            _ => row.metric(Metric::NodeCapacityMemoryGigabyteHours),
                        };
                        let value = &mut row.metrics[metric as usize];
                        *value = match (unallocated, *value, capacity) {
                            (false, v, _) => v.map(|v| 2.0 * v),
                            (true, Some(v), Some(c)) => Some(2.0 * v - c),
                            (true, v, _) => v,
                        };
                    }
                }
                row
            }))
        });
        let variant = write_layout(&model, &mut Duplicated(tables));
        assert_same(&expected, &run(&variant.request))?;
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// Labels are filtered by the enabled keys before anything else, separately on each source
    /// (§6.1 "Filtering runs before merging"), and the label CTEs group on the *filtered* map
    /// (§3): a key no filter keeps changes nothing, even when its value changes within a day
    /// (raw label rows then differ, filtered ones do not) or differs between pods of a group
    /// (§6.1 "Pods whose raw labels differ only in disabled keys merge into one summary row").
    /// With no enabled key at all every key is disabled, `vm_kubevirt_io_name` included (§3
    /// `cte_pg_enabled_keys`, §7.14).
    #[test]
    fn disabled_label_keys_change_nothing(
        (model, pick, seed) in (cluster_model(), any::<Index>(), any::<u64>())
    ) {
        let keys = disabled_keys(&model.enabled_tag_keys);
        let key = pick.get(&keys);
        let changed = with_disabled_key(&model, key, &mut ChaCha8Rng::seed_from_u64(seed));
        prop_assert_eq!(changed.validate(), Ok(()));
        assert_same(&baseline(&model), &baseline(&changed))?;
    }
}

proptest! {
    #![proptest_config(config(32))]

    /// A node's name is only a join and group key (§3: node labels on (node, day), capacity on
    /// (day, node), the Pod group (day, namespace, node, labels)); nothing compares it with
    /// anything but itself. Renaming nodes consistently (a permutation, sometimes a new name
    /// that equals a namespace name or a resource id) renames the node column and changes
    /// nothing else.
    #[test]
    fn renaming_nodes_changes_only_the_node_column(
        (model, seed) in (
            cluster_model().prop_filter("a model with a node", |m| !m.nodes.is_empty()),
            any::<u64>(),
        )
    ) {
        let names = node_renaming(&model, &mut ChaCha8Rng::seed_from_u64(seed));
        let expected = baseline(&model).map(|rows| {
            sorted(rows.into_iter().map(|mut row| {
                // A Storage row's node may be '' (a nodeless pod mounts the claim, §7.10).
                row.key.node = row.key.node.map(|node| names.get(&node).cloned().unwrap_or(node));
                row
            }))
        });
        assert_same(&expected, &baseline(&renamed(&model, &names)))?;
    }
}
