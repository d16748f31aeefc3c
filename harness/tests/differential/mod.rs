//! The differential check the property suites share (`oracle_property` on DuckDB, `trino` on a
//! real Trino): the engine and an oracle on one generated cluster, compared row for row, and the
//! count of what was compared, so that a run whose cases compared nothing cannot pass.

use std::sync::atomic::{AtomicU32, Ordering};

use ocp_engine::compat::Compatibility;
use ocp_engine::error::{Error, Problem};
use ocp_engine::summary::{DataSource, SummaryRow};
use ocp_harness::compare::{compare, ComparableRow, Tolerance};
use ocp_harness::oracle::{OracleRun, QueryParams};
use ocp_harness::scenario::{run_quietly, Scenario};
use ocp_harness::synth::ClusterModel;

/// What one case compared: its rows of each kind, on both sides alike.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Compared {
    pub pod: usize,
    pub storage: usize,
    pub unallocated: usize,
}

impl Compared {
    fn of(rows: &[SummaryRow]) -> Self {
        let mut compared = Compared::default();
        for row in rows {
            match (row.data_source, row.is_unallocated()) {
                (_, true) => compared.unallocated += 1,
                (DataSource::Pod, false) => compared.pod += 1,
                (DataSource::Storage, false) => compared.storage += 1,
            }
        }
        compared
    }
}

/// Per property run: how many cases compared at least one row of each kind.
#[derive(Default)]
pub struct Tally {
    cases: AtomicU32,
    pod: AtomicU32,
    storage: AtomicU32,
    unallocated: AtomicU32,
}

impl Tally {
    pub const fn new() -> Self {
        Tally {
            cases: AtomicU32::new(0),
            pod: AtomicU32::new(0),
            storage: AtomicU32::new(0),
            unallocated: AtomicU32::new(0),
        }
    }

    /// Counts one case that passed.
    pub fn add(&self, compared: Compared) {
        self.cases.fetch_add(1, Ordering::Relaxed);
        for (counter, rows) in [
            (&self.pod, compared.pod),
            (&self.storage, compared.storage),
            (&self.unallocated, compared.unallocated),
        ] {
            if rows > 0 {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Panics unless at least `floor` (a fraction) of the passed cases compared a Pod row, a
    /// Storage row and an unallocated row each; returns the counts for the log.
    pub fn assert_not_vacuous(&self, floor: f64) -> String {
        let cases = self.cases.load(Ordering::Relaxed);
        let counts = [
            ("Pod", self.pod.load(Ordering::Relaxed)),
            ("Storage", self.storage.load(Ordering::Relaxed)),
            ("unallocated", self.unallocated.load(Ordering::Relaxed)),
        ];
        let line = format!(
            "{cases} cases; with Pod rows {}, with Storage rows {}, with unallocated rows {}",
            counts[0].1, counts[1].1, counts[2].1
        );
        assert!(cases > 0, "the property compared no case at all");
        for (kind, count) in counts {
            assert!(
                f64::from(count) >= floor * f64::from(cases),
                "too few cases compared {kind} rows: {line} (floor {:.0} %)",
                floor * 100.0
            );
        }
        line
    }
}

/// Writes `model` as koku's Parquet, runs the engine in `compat` and `oracle` on the same
/// files and catalog, and compares their rows within `tolerance`: `Ok(Some(_))` with what was
/// compared, `Err` describing the disagreement.
///
/// `Ok(None)`: the model wrote no daily file at all (no pod hour and no volume), the engine
/// refused it as bad input ("no pod-usage data") and the oracle returned no rows. Such a model
/// is not a case of the property (the suites reject it and draw another); the engine's refusal
/// is tested by name in `bad_input.rs`.
pub fn engine_equals_oracle(
    model: ClusterModel,
    compat: Compatibility,
    tolerance: &Tolerance,
    oracle: impl FnOnce(&Scenario, &QueryParams) -> Result<OracleRun, String>,
) -> Result<Option<Compared>, String> {
    let scenario = Scenario::write(model).map_err(|e| format!("writing the model: {e}"))?;
    let mut request = scenario.request();
    request.compatibility = compat;
    let engine = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
        .block_on(run_quietly(&request));
    let params = QueryParams::from_request(&request).map_err(|e| format!("oracle: {e}"))?;
    let oracle = oracle(&scenario, &params).map_err(|e| format!("oracle: {e}"))?;
    let report = match engine {
        Ok(report) => report,
        Err(Error::Input {
            problem: Problem::NoData { .. },
            ..
        }) => {
            return if oracle.rows.is_empty() {
                Ok(None)
            } else {
                Err(format!(
                    "the engine found no pod-usage files but the oracle returned {} rows",
                    oracle.rows.len()
                ))
            };
        }
        Err(other) => return Err(format!("engine: {other}")),
    };
    let engine_rows = ComparableRow::of_run(&report);
    let comparison = compare(&engine_rows, &oracle.rows, tolerance);
    if comparison.within_tolerance() {
        return Ok(Some(Compared::of(&report.rows)));
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
