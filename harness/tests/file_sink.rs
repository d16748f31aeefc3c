//! The file sink's promise (`--out FILE`, docs/operations.md "Configuration"): the output is the
//! whole month or what was there before, and a failed run leaves nothing beside it. (That the
//! file holds the run's rows is `golden.rs`'s: every fixture's Parquet and CSV output read back.)

#[allow(dead_code)] // the hand-case helpers; this suite uses the model builders
mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{hours, node, one_day, pod};
use ocp_engine::error::Problem;
use ocp_harness::scenario::Scenario;
use ocp_harness::synth::koku_tables::{koku_tables, pod_usage_daily};
use ocp_harness::synth::write_table;

/// The names in `dir`.
fn names_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("the scenario's folder reads")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// A run that fails while writing (a NaN metric: koku's column cannot store it, spec §3
/// statement 4) after a good run wrote the month: the good run's file stays byte for byte, and
/// the hidden file the failed run wrote its rows to is gone.
#[tokio::test]
async fn a_run_failing_while_writing_keeps_the_previous_file_and_leaves_nothing_beside_it() {
    let mut m = one_day();
    m.nodes.push(node("alpha", 4.0, 16.0, vec![]));
    m.pods
        .push(pod("web", "shop", "alpha", hours(0..24), 1.0, 1.0));
    let scenario = Scenario::write(m.clone()).expect("model writes");
    let out = scenario.path("summary.parquet");
    let good = scenario.run().await.expect("the good run");
    assert!(!good.rows.is_empty());
    let before = std::fs::read(&out).expect("the good run's file");
    let names_before = names_in(scenario.root());
    assert!(names_before.contains("summary.parquet"), "{names_before:?}");

    let mut daily = pod_usage_daily(&koku_tables(&m).pod_usage);
    daily[0].pod_usage_cpu_core_seconds = f64::NAN;
    write_table(scenario.root(), &m.account, &m.source_uuid, &daily).expect("daily rewritten");
    let err = scenario.run().await.expect_err("a NaN cannot be written");
    assert!(
        matches!(err.problem(), Some(Problem::Value { .. })),
        "{err}"
    );

    assert_eq!(
        std::fs::read(&out).expect("the file is still there"),
        before
    );
    assert_eq!(names_in(scenario.root()), names_before);
}
