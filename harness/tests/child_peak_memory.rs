//! A child's peak memory, measured from a large parent, must be the child's own.
//!
//! On Linux a spawned child's `ru_maxrss` starts from its parent's high-water mark (see
//! `ocp_harness::child_peak_memory`), so the DuckDB oracle's peak was once reported as the
//! harness's own size. Here the test process first makes itself large (about 600 MiB written,
//! page by page, and kept), then measures small children: their figures must stay far below the
//! parent's. This file holds only these tests, so the large allocation is in a process of its own
//! and disturbs no other test.

use std::process::Command;
use std::sync::OnceLock;

use ocp_harness::child_peak_memory::MeasuredChild;
use ocp_harness::oracle::{DuckDbOracle, Oracle};
use ocp_harness::scenario::Scenario;
use ocp_harness::synth::{generate, Scale};

const MIB: u64 = 1 << 20;

/// What the parent holds resident while the children run.
const PARENT_BYTES: usize = 600 << 20;

/// Makes this process large, once: `PARENT_BYTES` allocated and every page written (a zeroed
/// allocation alone would stay unmapped). Returns the process's own high-water mark, checked
/// to be at least that large, so the tests below measure from a parent that really is large.
fn large_parent() -> u64 {
    static BLOCK: OnceLock<Vec<u8>> = OnceLock::new();
    let block = BLOCK.get_or_init(|| {
        let mut block = vec![0u8; PARENT_BYTES];
        for page in block.chunks_mut(4096) {
            page[0] = 1;
        }
        block
    });
    std::hint::black_box(block);
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM");
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let hwm = kib * 1024;
    assert!(
        hwm >= PARENT_BYTES as u64,
        "the parent peaks at {} MiB only",
        hwm / MIB
    );
    hwm
}

#[test]
fn a_small_child_of_a_large_parent_is_measured_small() {
    let parent = large_parent();
    // `sleep` lives 0.2 s (about 40 sampling intervals), so it is sampled many times.
    let run = MeasuredChild::spawn(Command::new("sleep").arg("0.2"))
        .expect("sleep starts")
        .wait()
        .expect("sleep reaped");
    assert!(run.status.success(), "{:?}", run.status);
    let peak = run.peak_rss_bytes.expect("sleep was sampled");
    eprintln!(
        "parent {} MiB, sleep {:.1} MiB",
        parent / MIB,
        peak as f64 / MIB as f64
    );
    // `sleep` itself needs a couple of MiB. A figure near the parent's (600+ MiB) would be the
    // parent's high-water mark inherited through spawn and exec, which `ru_maxrss` reports.
    assert!(
        peak < 100 * MIB,
        "sleep measured at {} MiB with a {} MiB parent: the parent's peak leaked in",
        peak / MIB,
        parent / MIB
    );
}

#[test]
fn the_duckdb_oracle_of_a_large_parent_reports_duckdbs_own_peak() {
    let parent = large_parent();
    let oracle = DuckDbOracle::locate().expect("the DuckDB CLI (just oracle-setup)");
    // The tiny cluster (3 nodes, 12 pods, 3 days): DuckDB reads its Parquet, runs the node step
    // and the summary, and writes the result, which keeps it alive for many sampling intervals.
    let scenario = Scenario::write(generate(Scale::Tiny, 42)).expect("model written");
    let run = oracle
        .run(&scenario.query_params())
        .unwrap_or_else(|e| panic!("oracle run: {e}"));
    assert!(!run.rows.is_empty());
    let peak = run.peak_rss_bytes.expect("DuckDB was sampled");
    eprintln!(
        "parent {} MiB, DuckDB on the tiny cluster {:.1} MiB in {:?}",
        parent / MIB,
        peak as f64 / MIB as f64,
        run.elapsed
    );
    // DuckDB's binary and the tiny cluster's tables fit in some tens of MiB; the 600+ MiB of
    // this process are not DuckDB's and must not appear in its figure (they did with
    // `ru_maxrss`, whose count starts from the parent's high-water mark).
    assert!(
        peak < 150 * MIB,
        "DuckDB measured at {} MiB with a {} MiB parent: the parent's peak leaked in",
        peak / MIB,
        parent / MIB
    );
}
