//! Criterion benches of the engine's hot kernels, one group per kernel, on the harness's own
//! generator: label parsing, filtering and merging; the hourly capacity fold; the Pod, Storage
//! and unallocated grouping; numeric(33,15) rounding; the binary COPY encoding.
//!
//! `cargo bench -p ocp-harness --bench kernels` (or `just bench-kernels`); criterion's estimates
//! land in `$CARGO_TARGET_DIR/criterion/<group>/<bench>/new/estimates.json`, which a nightly job
//! collects: keep the bench ids stable. Figures and what each bench measures:
//! docs/performance.md "Kernel benches (criterion)".
//!
//! The kernels that need a month run on the typical scale (seed 42, as `just bench`), written
//! once into a temporary folder and read with the engine's own read phase. The pure kernels run
//! on smaller inputs built from the same generated model. Each group's input is made by one small
//! named function, so a change of the engine's API touches one place.

use std::collections::{BTreeSet, HashSet};
use std::hint::black_box;
use std::time::Duration;

use bytes::BytesMut;
use criterion::{BatchSize, Criterion, SamplingMode, Throughput};
use ocp_engine::capacity::{HourlyCapacity, NodeCapacity};
use ocp_engine::compat::Compatibility;
use ocp_engine::config::InlineCatalog;
use ocp_engine::daily::{DayAggregator, KeptRows};
use ocp_engine::inputs::{read_inputs, DayRows, Inputs, POD_HOURLY_COLUMNS};
use ocp_engine::label_joins::{CostCategories, JoinedLabels, LabelFilter};
use ocp_engine::labels::{filter_labels, parse_labels, EnabledKeys, LabelSetId, LabelSets};
use ocp_engine::node_roles::{discover_nodes, record_nodes, role_lookup, RoleLookup};
use ocp_engine::numeric::Numeric;
use ocp_engine::pod::{filter_pod_labels, pod_rows};
use ocp_engine::sink::postgres::{encode_row, pg_type};
use ocp_engine::sink::{prepare, prepare_row, RunIdentity, COLUMNS};
use ocp_engine::source::{Batch, MonthScan, Partition, S3Settings, ScanProgress, Source, Table};
use ocp_engine::storage::{filter_volume_labels, storage_rows};
use ocp_engine::summary::SummaryRow;
use ocp_engine::unallocated::unallocated_rows;
use ocp_engine::window::DayWindow;
use ocp_harness::scenario::inline_catalog;
use ocp_harness::synth::koku_tables::{koku_labels_json, operator_label_string};
use ocp_harness::synth::{generate, write_cluster, ClusterModel, LabelPeriod, Scale};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio_postgres::types::Type;
use uuid::Uuid;

/// The seed `just bench` generates its months with.
const SEED: u64 = 42;
/// The koku variant the month kernels reproduce (the engine's default).
const COMPAT: Compatibility = Compatibility::Trino;

/// Short enough that a whole `cargo bench` stays within a few minutes on two cores; the command
/// line (`-- --measurement-time 10`) still overrides it.
///
/// Groups whose iterations take milliseconds (capacity, grouping, copy) sample flat: 20 linear
/// samples of them would not fit in 3 s.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
}

fn main() {
    let mut c = config().configure_from_args();
    let model = generate(Scale::Typical, SEED);
    labels(&mut c, &model);
    numeric(&mut c);
    // Written and read once for the groups below (about a second).
    let month = Month::read(model);
    labels_month(&mut c, &month);
    capacity(&mut c, &month);
    grouping(&mut c, &month);
    copy(&mut c, &month);
    c.final_summary();
}

// ---- The typical month, as the engine's read phase leaves it ----------------------------------

/// A generated month in a temporary folder, read by the engine.
struct Month {
    model: ClusterModel,
    catalog: InlineCatalog,
    inputs: Inputs,
    /// The hourly pod-usage table's batches per file, as the capacity fold receives them.
    hourly: Vec<Vec<Batch>>,
    hourly_rows: usize,
    /// Keeps the files until the benches are done.
    _dir: tempfile::TempDir,
}

impl Month {
    /// Writes `model` with the harness's Parquet writer and reads it as `ocp-engine aggregate`
    /// does (`run.rs`: the same partition and window), plus the hourly table's raw batches.
    fn read(model: ClusterModel) -> Month {
        let dir = tempfile::tempdir().expect("temporary folder");
        write_cluster(&model, dir.path()).expect("the typical month is written");
        let location = dir.path().to_str().expect("UTF-8 temporary path");
        let source = Source::open(location, &S3Settings::default(), None).expect("folder opens");
        let partition = Partition {
            account: model.account.clone(),
            source_uuid: model.source_uuid.to_string(),
            year: model.year,
            month: model.month,
        };
        let progress = ScanProgress::hidden();
        let scan = MonthScan {
            source: &source,
            partition: &partition,
            window: DayWindow::new(model.first_date(), model.last_date()),
            progress: &progress,
        };
        let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
        let (inputs, hourly) = runtime
            .block_on(async {
                tokio::try_join!(
                    read_inputs(scan),
                    scan.table(
                        Table::POD_USAGE_HOURLY,
                        POD_HOURLY_COLUMNS,
                        Vec::new,
                        |batches: &mut Vec<Batch>, batch| {
                            batches.push(batch.clone());
                            Ok(())
                        }
                    )
                )
            })
            .expect("the engine reads the typical month");
        let hourly: Vec<Vec<Batch>> = hourly.into_iter().map(|(_, batches)| batches).collect();
        let hourly_rows = hourly.iter().flatten().map(|b| b.num_rows).sum();
        eprintln!(
            "typical month (seed {SEED}): {hourly_rows} hourly pod rows, {} daily pod rows, {} \
             daily storage rows",
            inputs.pod_days.iter().count(),
            inputs.storage_days.iter().count()
        );
        Month {
            catalog: inline_catalog(&model),
            model,
            inputs,
            hourly,
            hourly_rows,
            _dir: dir,
        }
    }

    /// The labels phase of a run: the filter with every label text parsed, and the node and
    /// namespace joins, as the aggregate phase starts from them.
    fn labelled(&self) -> (LabelFilter<'_>, JoinedLabels) {
        let mut labels = LabelFilter::new(&self.inputs, &self.catalog.enabled_tag_keys, COMPAT);
        filter_pod_labels(&self.inputs, &mut labels).expect("pod labels parse");
        filter_volume_labels(&self.inputs, &mut labels).expect("volume labels parse");
        let joined = JoinedLabels::new(&self.inputs, &mut labels).expect("label rows parse");
        (labels, joined)
    }

    fn categories(&self) -> CostCategories<'_> {
        CostCategories::new(&self.catalog.cost_category_namespaces, COMPAT)
    }

    fn pod_rows(&self) -> Vec<SummaryRow> {
        let (mut labels, joined) = self.labelled();
        let mut categories = self.categories();
        every_day(&self.inputs, |day| {
            pod_rows(&self.inputs, day, &mut labels, &joined, &mut categories).expect("pod rows")
        })
    }

    /// The node roles the unallocated rows read: koku's node step over this month's nodes (the
    /// model's few rows already in `reporting_ocp_nodes` left out: the catalog is the engine's own).
    fn roles(&self) -> RoleLookup {
        let discovered = discover_nodes(&self.inputs, COMPAT);
        role_lookup(&record_nodes(&[], &discovered, &self.model.cluster_id).table)
    }

    /// Every row the month writes: Pod, Storage, unallocated.
    fn rows(&self) -> Vec<SummaryRow> {
        let (mut labels, joined) = self.labelled();
        let mut days = DayAggregator {
            inputs: &self.inputs,
            labels: &mut labels,
            joined: &joined,
            categories: self.categories(),
            roles: self.roles(),
        };
        let mut kept = KeptRows::default();
        for day in self.inputs.days() {
            kept.add(days.rows(day).expect("the day's rows"));
        }
        kept.into_rows()
    }

    /// Distinct raw label texts the labels phase parses (pod, volume, node, namespace).
    fn distinct_label_texts(&self) -> usize {
        let inputs = &self.inputs;
        let pods = inputs.pod_days.iter().map(|p| p.labels);
        let volumes = inputs
            .storage_days
            .iter()
            .flat_map(|s| [s.persistentvolume_labels, s.persistentvolumeclaim_labels]);
        let rows = inputs.node_labels.iter().chain(&inputs.namespace_labels);
        let ids: HashSet<u32> = pods
            .chain(volumes)
            .chain(rows.map(|&(_, _, raw)| raw))
            .flatten()
            .collect();
        ids.len()
    }
}

// ---- 1. labels ---------------------------------------------------------------------------------

/// koku's label JSON text of a label list (`label_k:v|…` through koku's converter).
fn koku_text(labels: &[(String, String)]) -> String {
    koku_labels_json(&operator_label_string(labels))
}

/// The distinct pod, node and namespace label texts of the generated model, as koku stores them.
fn label_texts(model: &ClusterModel) -> Vec<String> {
    let pods = model.pods.iter().map(|p| koku_text(&p.labels));
    let nodes = model.nodes.iter().flat_map(|n| &n.labels);
    let namespaces = model.namespaces.iter().flat_map(|n| &n.labels);
    let periods = nodes.chain(namespaces).map(|p| koku_text(&p.labels));
    let distinct: BTreeSet<String> = pods.chain(periods).collect();
    distinct.into_iter().collect()
}

/// What each pod of the model merges (node, namespace and pod maps, filtered, interned) with the
/// label sets holding them: the engine's `map_concat` of a Pod row.
fn merge_inputs(model: &ClusterModel) -> (LabelSets, Vec<[LabelSetId; 4]>) {
    let keys = EnabledKeys::new(&model.enabled_tag_keys, COMPAT);
    let mut sets = LabelSets::default();
    let mut intern = |labels: &[(String, String)]| {
        let entries = parse_labels(&koku_text(labels)).expect("koku's JSON parses");
        sets.intern(filter_labels(&entries, &keys))
    };
    let first = |periods: &[LabelPeriod]| periods.first().map_or(Vec::new(), |p| p.labels.clone());
    let mut merges = Vec::new();
    for pod in &model.pods {
        let node = model.nodes.iter().find(|n| n.name == pod.node);
        let namespace = model.namespaces.iter().find(|n| n.name == pod.namespace);
        let node = intern(&node.map_or(Vec::new(), |n| first(&n.labels)));
        let namespace = intern(&namespace.map_or(Vec::new(), |n| first(&n.labels)));
        let own = intern(&pod.labels);
        merges.push([node, namespace, own, LabelSets::EMPTY]);
    }
    (sets, merges)
}

fn labels(c: &mut Criterion, model: &ClusterModel) {
    let texts = label_texts(model);
    let keys = EnabledKeys::new(&model.enabled_tag_keys, COMPAT);
    let mut group = c.benchmark_group("labels");
    group.throughput(Throughput::Elements(texts.len() as u64));
    // parse_labels + filter_labels: what LabelFilter::filtered does once per distinct text.
    group.bench_function("parse_filter", |b| {
        b.iter(|| {
            for text in &texts {
                let entries = parse_labels(black_box(text)).expect("koku's JSON parses");
                black_box(filter_labels(&entries, &keys));
            }
        })
    });
    let merges = merge_inputs(model).1;
    eprintln!(
        "labels: {} distinct label texts, {} merges (one per pod)",
        texts.len(),
        merges.len()
    );
    group.throughput(Throughput::Elements(merges.len() as u64));
    // LabelSets::merge: one right-biased union of four maps, interned, per distinct combination.
    group.bench_function("merge", |b| {
        b.iter_batched(
            || merge_inputs(model).0,
            |mut sets| {
                for parts in &merges {
                    black_box(sets.merge(parts));
                }
                sets
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// The labels phase of a run over the typical month (each distinct text parsed and filtered
/// once, node and namespace label rows joined per day).
fn labels_month(c: &mut Criterion, month: &Month) {
    let mut group = c.benchmark_group("labels");
    group.throughput(Throughput::Elements(month.distinct_label_texts() as u64));
    group.bench_function("phase_typical", |b| {
        b.iter_with_large_drop(|| month.labelled())
    });
    group.finish();
}

// ---- 2. capacity -------------------------------------------------------------------------------

/// Hourly node capacity of the typical month to per node and day: each file's batches folded
/// into an `HourlyCapacity` as the read phase does, then merged and summed per day.
fn capacity(c: &mut Criterion, month: &Month) {
    let mut group = c.benchmark_group("capacity");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(month.hourly_rows as u64));
    group.bench_function("fold", |b| {
        b.iter_with_large_drop(|| {
            NodeCapacity::from_hourly(month.hourly.iter().map(|batches| {
                let mut partial = HourlyCapacity::default();
                for batch in batches {
                    partial.add_batch(batch);
                }
                partial
            }))
        })
    });
    group.finish();
}

// ---- 3. grouping -------------------------------------------------------------------------------

/// The rows `of_day` computes for each day of the month, one day after another as a run does.
fn every_day(inputs: &Inputs, of_day: impl FnMut(DayRows) -> Vec<SummaryRow>) -> Vec<SummaryRow> {
    inputs.days().flat_map(of_day).collect()
}

/// Pod, Storage and unallocated rows of the typical month, each from the state the run gives it
/// (labels phase done; untimed), per input row: daily pod rows, daily storage rows, Pod rows.
/// Like every month bench, the time excludes dropping the result.
fn grouping(c: &mut Criterion, month: &Month) {
    let inputs = &month.inputs;
    let mut group = c.benchmark_group("grouping");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(inputs.pod_days.iter().count() as u64));
    group.bench_function("pod_rows", |b| {
        b.iter_batched(
            || (month.labelled(), month.categories()),
            |((mut labels, joined), mut categories)| {
                every_day(inputs, |day| {
                    pod_rows(inputs, day, &mut labels, &joined, &mut categories).expect("pod rows")
                })
            },
            BatchSize::LargeInput,
        )
    });
    group.throughput(Throughput::Elements(
        inputs.storage_days.iter().count() as u64
    ));
    group.bench_function("storage_rows", |b| {
        b.iter_batched(
            || (month.labelled(), month.categories()),
            |((mut labels, joined), mut categories)| {
                every_day(inputs, |day| {
                    storage_rows(inputs, day, &mut labels, &joined, &mut categories)
                        .expect("storage rows")
                })
            },
            BatchSize::LargeInput,
        )
    });
    let (pod, roles) = (month.pod_rows(), month.roles());
    group.throughput(Throughput::Elements(pod.len() as u64));
    group.bench_function("unallocated_rows", |b| {
        b.iter_with_large_drop(|| unallocated_rows(&pod, &roles, &mut month.categories()))
    });
    group.finish();
}

// ---- 4. numeric --------------------------------------------------------------------------------

/// 10,000 doubles shaped like the summary's metrics: 1 to 17 significant digits, from 1e-6 to
/// 1e9, either sign (unallocated rows go negative).
fn metric_values() -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    (0..10_000)
        .map(|_| {
            let magnitude = 10f64.powi(rng.random_range(-6..=9));
            let digits = 10f64.powi(rng.random_range(0..=16));
            let value = (rng.random::<f64>() * digits).round() / digits * magnitude;
            if rng.random_bool(0.1) {
                -value
            } else {
                value
            }
        })
        .collect()
}

fn numeric(c: &mut Criterion) {
    let values = metric_values();
    let mut group = c.benchmark_group("numeric");
    group.throughput(Throughput::Elements(values.len() as u64));
    for (id, compat) in [
        ("round_trino", Compatibility::Trino),
        ("round_postgres", Compatibility::Postgres),
    ] {
        group.bench_function(id, |b| {
            b.iter(|| {
                for &value in &values {
                    black_box(Numeric::from_f64_in(black_box(value), compat).expect("fits"));
                }
            })
        });
    }
    group.finish();
}

// ---- 5. copy -----------------------------------------------------------------------------------

/// What every row of the month carries besides its own columns.
fn identity(model: &ClusterModel) -> RunIdentity {
    RunIdentity {
        run_id: Uuid::new_v4(),
        source_uuid: model.source_uuid,
        report_period_id: 1,
        cluster_id: model.cluster_id.clone(),
        cluster_alias: Some(model.cluster_alias.clone()),
    }
}

/// The typical month's rows (Pod, Storage, unallocated) encoded for COPY into a buffer, no
/// server: `encode` from rows already prepared (rounded, labels as JSON, uuid drawn),
/// `prepare_encode` as the sink does it, each row prepared as it is copied.
fn copy(c: &mut Criterion, month: &Month) {
    let rows = month.rows();
    let prepared = prepare(&rows, COMPAT).expect("every row rounds");
    let identity = identity(&month.model);
    let types: Vec<Type> = COLUMNS.iter().map(|c| pg_type(c.kind())).collect();
    let mut out = BytesMut::new();
    let mut group = c.benchmark_group("copy");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(rows.len() as u64));
    group.bench_function("encode", |b| {
        b.iter(|| {
            out.clear();
            for row in &prepared {
                encode_row(row, &identity, &types, &mut out);
            }
            black_box(out.len())
        })
    });
    group.bench_function("prepare_encode", |b| {
        b.iter(|| {
            out.clear();
            for row in &rows {
                let row = prepare_row(row, COMPAT).expect("every row rounds");
                encode_row(&row, &identity, &types, &mut out);
            }
            black_box(out.len())
        })
    });
    group.finish();
}
