//! The differential check the property suites share (`oracle_property` on DuckDB, `trino` on a
//! real Trino): the engine and an oracle on one generated cluster, compared row for row.

use ocp_engine::compat::Compatibility;
use ocp_engine::error::Error;
use ocp_harness::compare::{compare, ComparableRow, Tolerance};
use ocp_harness::oracle::{OracleRun, QueryParams};
use ocp_harness::scenario::{run_quietly, Scenario};
use ocp_harness::synth::ClusterModel;

/// Writes `model` as koku's Parquet, runs the engine in `compat` and `oracle` on the same
/// files and catalog, and compares their rows within `tolerance`; `Err` describes the
/// disagreement.
///
/// A model with no pod hours and no volume has no daily file at all; the engine then refuses the
/// run as bad input ("no pod-usage files") and the oracle, whose LEFT JOINs find nothing, returns
/// no rows. That pair is the expected outcome for such a model; any other engine error fails.
pub fn engine_equals_oracle(
    model: ClusterModel,
    compat: Compatibility,
    tolerance: &Tolerance,
    oracle: impl FnOnce(&Scenario, &QueryParams) -> Result<OracleRun, String>,
) -> Result<(), String> {
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
    let comparison = compare(&engine_rows, &oracle.rows, tolerance);
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
