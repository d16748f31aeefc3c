//! The central property: on every generated cluster ([`cluster_model`]: small key space,
//! overlapping cost-category patterns, mid-day label changes, nodeless pods, 28–31-day months,
//! empty enabled-key sets, shared, claimless and pod-less volumes, operator and discovered node
//! roles, recorded `reporting_ocp_nodes` rows), in either koku variant (Trino or its PostgreSQL
//! port, drawn per case), the engine's Pod, Storage and unallocated rows equal the DuckDB
//! oracle's within the acceptance tolerance (1e-4 relative, 1e-9 absolute; `cost_category_id`
//! exactly), as a NULL-safe multiset on the natural key.
//!
//! A model with no pod hours and no volume has no daily file at all; the engine then refuses the
//! run as bad input ("no pod-usage files") and the oracle, whose LEFT JOINs find nothing, returns
//! no rows. That pair is the expected outcome for such a model; any other engine error fails.
//!
//! `OCP_PROPERTY_CASES` sets the number of cases (default 256). Failing cases shrink to a minimal
//! cluster and are kept in `harness/proptest-regressions/oracle_property.txt`, replayed first.

use std::sync::OnceLock;

use ocp_engine::compat::Compatibility;
use ocp_engine::error::Error;
use ocp_harness::compare::{compare, ComparableRow, Tolerance};
use ocp_harness::oracle::{DuckDbOracle, Oracle, QueryParams};
use ocp_harness::scenario::{run_quietly, Scenario};
use ocp_harness::synth::strategy::cluster_model;
use ocp_harness::synth::ClusterModel;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/oracle_property.txt"
);

fn cases() -> u32 {
    std::env::var("OCP_PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn oracle() -> &'static DuckDbOracle {
    static ORACLE: OnceLock<DuckDbOracle> = OnceLock::new();
    ORACLE.get_or_init(|| DuckDbOracle::locate().expect("the DuckDB CLI (just oracle-setup)"))
}

/// Runs both sides on `model` in `compat`; `Err` describes the disagreement.
fn engine_equals_oracle(model: ClusterModel, compat: Compatibility) -> Result<(), String> {
    let scenario = Scenario::write(model).map_err(|e| format!("writing the model: {e}"))?;
    let mut request = scenario.request();
    request.compatibility = compat;
    let engine = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
        .block_on(run_quietly(&request));
    let params = QueryParams::from_request(&request).map_err(|e| format!("oracle: {e}"))?;
    let oracle = oracle().run(&params).map_err(|e| format!("oracle: {e}"))?;
    let engine_rows: Vec<ComparableRow> = match engine {
        Ok(report) => report.rows.iter().map(ComparableRow::from).collect(),
        Err(Error::Input(message)) if message.starts_with("no pod-usage files") => {
            return if oracle.rows.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "the engine found no pod-usage files but the oracle returned {} rows",
                    oracle.rows.len()
                ))
            };
        }
        Err(other) => return Err(format!("engine: {other}")),
    };
    let comparison = compare(&engine_rows, &oracle.rows, &Tolerance::default());
    if comparison.within_tolerance() {
        return Ok(());
    }
    Err(format!(
        "engine {} rows, oracle {} rows: {:#?}\nworst: {:#?}\nonly in engine: {:#?}\nonly in oracle: {:#?}",
        engine_rows.len(),
        oracle.rows.len(),
        comparison.verdict,
        comparison.worst.iter().take(5).collect::<Vec<_>>(),
        comparison.only_in_engine.iter().take(3).collect::<Vec<_>>(),
        comparison.only_in_oracle.iter().take(3).collect::<Vec<_>>(),
    ))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn engine_equals_the_reference_query_on_generated_clusters(
        (model, compat) in (cluster_model(), prop::sample::select(Compatibility::ALL.to_vec()))
    ) {
        if let Err(disagreement) = engine_equals_oracle(model, compat) {
            prop_assert!(false, "{}", disagreement);
        }
    }
}
