//! The central property: on every generated cluster ([`cluster_model`]: small key space,
//! overlapping cost-category patterns, mid-day label changes, nodeless pods, 28–31-day months,
//! empty enabled-key sets, shared, claimless and pod-less volumes, operator and discovered node
//! roles, recorded `reporting_ocp_nodes` rows), in either koku variant (Trino or its PostgreSQL
//! port, drawn per case), the engine's Pod, Storage and unallocated rows equal the DuckDB
//! oracle's within the acceptance tolerance (1e-4 relative, 1e-9 absolute; `cost_category_id`
//! exactly), as a NULL-safe multiset on the natural key.
//!
//! A model with no pod hours and no volume has no daily file at all: see
//! [`differential::engine_equals_oracle`] for the outcome expected then.
//!
//! `OCP_PROPERTY_CASES` sets the number of cases (default 256). Failing cases shrink to a minimal
//! cluster and are kept in `harness/proptest-regressions/oracle_property.txt`, replayed first.

mod differential;

use std::sync::OnceLock;

use differential::engine_equals_oracle;
use ocp_engine::compat::Compatibility;
use ocp_harness::compare::Tolerance;
use ocp_harness::oracle::{DuckDbOracle, Oracle};
use ocp_harness::synth::strategy::cluster_model;
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
        let duckdb = |_: &_, params: &_| oracle().run(params).map_err(|e| e.to_string());
        if let Err(disagreement) = engine_equals_oracle(model, compat, &Tolerance::default(), duckdb) {
            prop_assert!(false, "{}", disagreement);
        }
    }
}
