//! Input no one here wrote: koku's own test-data generator, nise (PyPI koku-nise, pinned at
//! [`NISE_VERSION`]), run on the static report `fixtures/nise/leap_day.yml`; its CSVs converted
//! by the harness's ingest ([`ingest_nise`], koku's rules of spec §2); the engine and the
//! reference query (DuckDB oracle) run on the result with the ingest's catalog, and every row and
//! column compared at the precision the engine reaches (`Tolerance::ENGINE_PRECISION`). The
//! fixture's header gives the hand arithmetic of the values checked one by one here.
//!
//! nise is installed by `just setup` (`testkit/nise/setup.sh`, a venv under
//! `~/.cache/koku-ocp/nise-5.4.4/`); this test installs nothing. Without python3 it is skipped
//! with a message; with python3 but no venv it fails, saying to run `just setup`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use chrono::NaiveDate;
use ocp_engine::run::Output;
use ocp_engine::summary::Metric;
use ocp_harness::compare::{compare, ComparableRow, Tolerance};
use ocp_harness::nise_ingest::{ingest_nise, IngestOptions, NISE_VERSION};
use ocp_harness::oracle::{DuckDbOracle, Oracle, QueryParams};
use ocp_harness::scenario::{engine_request, run_quietly};

/// The nise command of the venv `just setup` made; `None` (after a loud message) when python3 is
/// absent, so nise cannot be installed on this machine at all.
fn nise_command() -> Option<PathBuf> {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!(
            "\n*** SKIPPED harness/tests/nise.rs: python3 is not installed, so nise {NISE_VERSION} \
             (koku's test-data generator) cannot run here. Install Python 3.11+ and run \
             `just setup`. ***\n"
        );
        return None;
    }
    let cache = std::env::var_os("OCP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/koku-ocp")
        });
    let nise = cache.join(format!("nise-{NISE_VERSION}/bin/nise"));
    assert!(
        nise.is_file(),
        "nise {NISE_VERSION} is not installed at {}: run `just setup` (or `just nise-setup`)",
        nise.display()
    );
    Some(nise)
}

/// Runs `nise report ocp` on the static report `yaml`, writing the monthly CSVs into `dir`.
fn run_nise(nise: &Path, yaml: &Path, cluster_id: &str, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let output = Command::new(nise)
        .args(["report", "ocp", "--static-report-file"])
        .arg(yaml)
        .args(["--ocp-cluster-id", cluster_id, "--write-monthly"])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", nise.display()));
    assert!(
        output.status.success(),
        "nise failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn feb(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 2, day).unwrap()
}

fn is_unallocated(row: &ComparableRow) -> bool {
    matches!(
        row.key.namespace.as_deref(),
        Some("Platform unallocated" | "Worker unallocated")
    )
}

/// The one row of `rows` that `keep` selects.
#[track_caller]
fn one(rows: &[ComparableRow], keep: impl Fn(&ComparableRow) -> bool) -> &ComparableRow {
    let found: Vec<&ComparableRow> = rows.iter().filter(|r| keep(r)).collect();
    assert_eq!(found.len(), 1, "expected one row, found {found:#?}");
    found[0]
}

/// `metric` of `row` equals the hand-computed `expected` within 1e-12 relative.
#[track_caller]
fn assert_hand(row: &ComparableRow, metric: Metric, expected: f64) {
    let actual = row
        .metric(metric)
        .unwrap_or_else(|| panic!("{} of {:?} is NULL", metric.column(), row.key));
    assert!(
        (actual - expected).abs() <= 1e-12 * expected.abs(),
        "{} of {:?}: engine {actual}, by hand {expected}",
        metric.column(),
        row.key
    );
}

#[tokio::test]
async fn nise_static_leap_month_engine_equals_reference_query() {
    let Some(nise) = nise_command() else { return };
    let started = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix("ocp-nise-")
        .tempdir()
        .unwrap();
    let (csv, root) = (dir.path().join("csv"), dir.path().join("bucket"));
    let yaml = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/nise/leap_day.yml");
    run_nise(&nise, &yaml, "nise-leap", &csv);
    let nise_time = started.elapsed();

    let ingested = ingest_nise(&csv, &root, &IngestOptions::default()).expect("ingest");
    let cluster = &ingested.cluster;
    assert_eq!(cluster.cluster_id, "nise-leap"); // from nise's file names
                                                 // end_date 2024-03-01 = 00:00 of March 1, excluded: February 27-29, nothing in March.
    assert_eq!(
        (cluster.first_date(), cluster.last_date()),
        (feb(27), feb(29))
    );
    assert_eq!(ingested.months, [(2024, 2)]);
    assert_eq!(ingested.input_files.len(), 4); // pod, storage, node and namespace labels
                                               // Skipped: vm_usage and gpu_usage of both months, and March's four header-only files.
    assert_eq!(ingested.skipped.len(), 8, "{:#?}", ingested.skipped);
    let daily_pods = root.join(format!(
        "data/parquet/daily/org1234567/OCP/pod_usage/source={}/year=2024/month=02",
        cluster.source_uuid
    ));
    assert!(daily_pods
        .join("pod_usage.2024-02-29.1.1_daily_0.parquet")
        .is_file());
    // 3 pods x 72 hours; 5 claim or volume declarations x 72 hours.
    assert_eq!(
        ingested.written.table("pod_usage", false).unwrap().rows,
        216
    );
    assert_eq!(
        ingested.written.table("storage_usage", false).unwrap().rows,
        360
    );

    let location = root.to_string_lossy().into_owned();
    let request = engine_request(
        cluster,
        &location,
        Output::File(dir.path().join("rows.parquet")),
    );
    let engine_started = Instant::now();
    let report = run_quietly(&request).await.expect("engine run");
    let engine_time = engine_started.elapsed();
    let oracle = DuckDbOracle::locate().expect("the DuckDB CLI (just oracle-setup)");
    let expected = oracle
        .run(&QueryParams::from_request(&request).expect("oracle parameters"))
        .unwrap_or_else(|e| panic!("oracle run: {e}"));
    let engine = ComparableRow::of_run(&report);
    let comparison = compare(&engine, &expected.rows, &Tolerance::ENGINE_PRECISION);
    assert!(
        comparison.within_tolerance(),
        "engine ({} rows) and reference query ({} rows) differ on nise's data: worst {:#?}\nonly in engine: {:#?}\nonly in oracle: {:#?}",
        engine.len(),
        expected.rows.len(),
        comparison.worst.iter().take(10).collect::<Vec<_>>(),
        comparison.only_in_engine.iter().take(5).collect::<Vec<_>>(),
        comparison.only_in_oracle.iter().take(5).collect::<Vec<_>>(),
    );
    assert_eq!(comparison.matched as usize, engine.len());
    assert_eq!(comparison.matched as usize, expected.rows.len());
    let count = |keep: &dyn Fn(&ComparableRow) -> bool| engine.iter().filter(|r| keep(r)).count();
    let pods = count(&|r| r.key.data_source == "Pod" && !is_unallocated(r));
    let storage = count(&|r| r.key.data_source == "Storage");
    let unallocated = count(&is_unallocated);
    // Per day: 3 Pod rows (one per namespace), 5 Storage rows (data-shop, data-mon,
    // data-orphan, data-unmounted, pv-free), 3 unallocated rows (one per node).
    assert_eq!(
        (pods, storage, unallocated),
        (9, 15, 9),
        "Pod, Storage, unallocated rows"
    );

    // Hand-checked values (arithmetic in fixtures/nise/leap_day.yml), on the leap day.
    let on_29 = |ns: &'static str| {
        move |r: &ComparableRow| {
            r.key.usage_start == feb(29) && r.key.namespace.as_deref() == Some(ns)
        }
    };
    let web = one(&engine, |r| on_29("shop")(r) && r.key.data_source == "Pod");
    assert_hand(web, Metric::PodUsageCpuCoreHours, 12.0); // 24 h x 1800 s / 3600
    assert_hand(web, Metric::PodEffectiveUsageCpuCoreHours, 24.0); // 24 x max(0.5, 1)
    assert_hand(web, Metric::NodeCapacityCpuCoreHours, 96.0); // 4 cores x 24 h
    let data_shop = |r: &ComparableRow| {
        on_29("shop")(r) && r.key.persistentvolumeclaim.as_deref() == Some("data-shop")
    };
    let shop_volume = one(&engine, data_shop);
    assert_eq!(shop_volume.key.node.as_deref(), Some("alpha"));
    // 10 GiB x 86400 s / (86400 x 29 days) = 10/29 GiB-months: February 2024 has 29 days.
    assert_hand(
        shop_volume,
        Metric::PersistentvolumeclaimCapacityGigabyteMonths,
        10.0 / 29.0,
    );
    // The PV's 20 GiB request over 29 days, split over its 2 nodes (alpha, beta).
    assert_hand(
        shop_volume,
        Metric::VolumeRequestStorageGigabyteMonths,
        10.0 / 29.0,
    );
    assert_hand(
        shop_volume,
        Metric::PersistentvolumeclaimUsageGigabyteMonths,
        2.0 / 29.0,
    );
    let orphan = one(&engine, |r| {
        on_29("shop")(r) && r.key.persistentvolumeclaim.as_deref() == Some("data-orphan")
    });
    assert_eq!(orphan.key.node, None); // its pod has no pod usage
    assert_eq!(
        orphan.metric(Metric::VolumeRequestStorageGigabyteMonths),
        None
    );
    assert_hand(
        orphan,
        Metric::PersistentvolumeclaimCapacityGigabyteMonths,
        5.0 / 29.0,
    );
    let worker = one(&engine, on_29("Worker unallocated"));
    assert_eq!(worker.key.node.as_deref(), Some("alpha"));
    assert_hand(worker, Metric::PodUsageCpuCoreHours, 84.0); // 96 - 12
    let master = one(&engine, |r| {
        on_29("Platform unallocated")(r) && r.key.node.as_deref() == Some("gamma")
    });
    assert_hand(master, Metric::PodUsageCpuCoreHours, 42.0); // 2 x 24 - 24 x 0.25

    eprintln!(
        "nise {:.1} s, engine {:.1} s, whole test {:.1} s: {} rows compared ({pods} Pod, \
         {storage} Storage, {unallocated} unallocated)",
        nise_time.as_secs_f64(),
        engine_time.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        comparison.matched
    );
}
