//! Hand-built reports for the renderers' tests: small, with known figures, and with text that
//! needs escaping (`<`, `&`, `"`, `|`) in the dataset description and a namespace.

use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use ocp_engine::run::{PhaseReport, RunConstants, RunReport};
use ocp_engine::summary::Metric;
use uuid::Uuid;

use super::document::{CompareReport, Context};
use crate::compare::{compare, ComparableRow, NaturalKey, Tolerance, WrittenColumns};
use crate::oracle::OracleRun;

/// The dataset description: every character the forms must escape.
pub const DATASET: &str = "data/<typical> & \"friends\" | more";
/// A namespace that needs escaping, on a row present on both sides.
pub const NAMESPACE: &str = "ns<a&b>|c";

const MIB: u64 = 1 << 20;

fn key(day: u32, namespace: &str) -> NaturalKey {
    NaturalKey {
        data_source: "Pod".to_string(),
        usage_start: NaiveDate::from_ymd_opt(2026, 9, day).unwrap(),
        namespace: Some(namespace.to_string()),
        node: Some("node-1".to_string()),
        resource_id: Some("i-1".to_string()),
        persistentvolumeclaim: None,
        persistentvolume: None,
        storageclass: None,
        pod_labels: Some(r#"{"app":"web"}"#.to_string()),
        volume_labels: None,
        written: WrittenColumns::default(),
    }
}

fn row(day: u32, namespace: &str, cpu: f64) -> ComparableRow {
    let mut metrics = [None; 18];
    metrics[Metric::PodUsageCpuCoreHours as usize] = Some(cpu);
    metrics[Metric::PodUsageMemoryGigabyteHours as usize] = Some(2.0);
    ComparableRow {
        key: key(day, namespace),
        cost_category_id: None,
        metrics,
    }
}

fn engine_run() -> RunReport {
    let phase = |name, ms, mib| PhaseReport {
        name,
        elapsed: Duration::from_millis(ms),
        peak_rss_bytes: Some(mib * MIB),
    };
    RunReport {
        run_id: Uuid::from_u128(0x1234),
        effective_start: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
        end: NaiveDate::from_ymd_opt(2026, 9, 2).unwrap(),
        files_per_table: Vec::new(),
        rows_per_data_source: vec![("Pod", 2)],
        rows_deleted: 0,
        phases: vec![
            phase("read", 120, 40),
            phase("labels", 30, 45),
            phase("aggregate", 60, 56),
            phase("write", 30, 50),
        ],
        elapsed: Duration::from_millis(240),
        rows: Vec::new(),
        constants: RunConstants {
            report_period_id: 1,
            cluster_id: "c1".to_string(),
            cluster_alias: None,
            source_uuid: Uuid::from_u128(0x5678),
        },
    }
}

fn report(engine: &[ComparableRow], oracle: &[ComparableRow]) -> CompareReport {
    let oracle_run = OracleRun {
        rows: oracle.to_vec(),
        elapsed: Duration::from_millis(1500),
        peak_rss_bytes: Some(300 * MIB),
        query_text: String::new(),
    };
    CompareReport::new(
        &engine_run(),
        &oracle_run,
        compare(engine, oracle, &Tolerance::default()),
        Context {
            oracle: "DuckDB v1.5.6 (test)".to_string(),
            dataset: DATASET.to_string(),
            started_at: Utc.with_ymd_and_hms(2026, 11, 24, 13, 15, 0).unwrap(),
            engine_wall: Duration::from_millis(250),
        },
    )
}

/// GO: two rows, equal on both sides; engine 0.25 s end to end, peak 56 MiB; oracle 1.5 s,
/// 300 MiB.
pub fn sample_report() -> CompareReport {
    let rows = [row(1, NAMESPACE, 1.0), row(2, NAMESPACE, 3.0)];
    report(&rows, &rows)
}

/// NO-GO: day 1 CPU 1.0002 vs 1.0 (error 2e-4 / 1.0002 ≈ 0.02 %, over tolerance), day 3 only in
/// the engine, day 4 only in the oracle.
pub fn sample_report_with_differences() -> CompareReport {
    let engine = [row(1, NAMESPACE, 1.0002), row(3, "only-engine", 5.0)];
    let oracle = [row(1, NAMESPACE, 1.0), row(4, "only-oracle", 7.0)];
    report(&engine, &oracle)
}
