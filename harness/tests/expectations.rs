//! Hand-computed expectations: every fixture under `fixtures/` with an `expect:` block is run
//! through the engine in each koku variant its expectations name, and its rows are held to them
//! (`ocp_harness::fixture::expect::check`: each expected row matches exactly one engine row, each
//! listed value agrees at 1e-12 relative / 1e-9 absolute, a listed NULL is NULL).
//!
//! The expected values were worked out by hand from the spec (`docs/spec.md`), the arithmetic in
//! a comment beside each; none is taken from the engine's output. The test counts the fixtures
//! and values it checked and fails below a floor, so it cannot pass by checking nothing.

use ocp_harness::fixture::expect::check;
use ocp_harness::fixture::{fixture_files, Fixture};
use ocp_harness::scenario::{run_quietly, Scenario};

/// Fewest fixtures with expectations, and fewest values, a run must check (2026-12-02: 65
/// fixtures, 451 values).
const MIN_FIXTURES: usize = 60;
const MIN_VALUES: usize = 400;

/// Runs `fixture` in every variant its expectations name and checks them; returns the number of
/// values compared, or the failures naming the fixture and variant.
async fn check_fixture(name: &str, fixture: &Fixture) -> Result<usize, String> {
    let scenario = Scenario::write(fixture.model()).expect("the fixture's files are written");
    let mut values = 0;
    let mut failures = Vec::new();
    for compatibility in fixture.compatibilities() {
        let mut request = scenario.request();
        request.compatibility = compatibility;
        let report = run_quietly(&request)
            .await
            .unwrap_or_else(|e| panic!("fixture {name} ({compatibility}): the engine failed: {e}"));
        match check(&fixture.expect, compatibility, &report.rows) {
            Ok(checked) => values += checked.values,
            Err(failed) => failures.push(format!("fixture {name} ({compatibility}):\n{failed}")),
        }
    }
    if failures.is_empty() {
        Ok(values)
    } else {
        Err(failures.join("\n"))
    }
}

#[tokio::test]
async fn every_fixture_writes_the_rows_it_expects() {
    let (mut fixtures, mut values) = (0, 0);
    let mut failures = Vec::new();
    for path in fixture_files() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let fixture = Fixture::load(&path).unwrap_or_else(|e| panic!("{e}"));
        if fixture.expect.is_empty() {
            continue;
        }
        fixtures += 1;
        match check_fixture(&name, &fixture).await {
            Ok(checked) => values += checked,
            Err(failed) => failures.push(failed),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        fixtures >= MIN_FIXTURES && values >= MIN_VALUES,
        "checked {fixtures} fixtures and {values} values; expected at least {MIN_FIXTURES} and {MIN_VALUES}"
    );
}
