//! The `compare` flow end to end through its library function
//! ([`ocp_harness::report::flow::run_compare`]): a tiny generated cluster and its engine.toml in a
//! temporary folder, the engine in-process, the DuckDB oracle, the report in its four forms.
//!
//! The DuckDB CLI is found or installed by `ocp_harness::oracle::locate_duckdb` (`just
//! oracle-setup` installs it beforehand).

use std::fs::File;

use chrono::Utc;
use ocp_harness::compare::Tolerance;
use ocp_harness::oracle::DuckDbOracle;
use ocp_harness::report::flow::{run_compare, CompareRun, ENGINE_ROWS};
use ocp_harness::report::{Verdict, FILES};
use ocp_harness::scenario::engine_config;
use ocp_harness::synth::{generate, write_cluster, Scale};
use parquet::file::reader::{FileReader, SerializedFileReader};

#[test]
fn a_tiny_cluster_gives_a_go_report_in_four_forms() {
    let dir = tempfile::tempdir().unwrap();
    let model = generate(Scale::Tiny, 42);
    write_cluster(&model, dir.path()).unwrap();
    let config = dir.path().join("engine.toml");
    std::fs::write(&config, engine_config(&model).to_toml()).unwrap();
    let report_dir = dir.path().join("reports").join("run");
    let oracle = DuckDbOracle::locate().expect("the DuckDB CLI (just oracle-setup)");

    let outcome = run_compare(&CompareRun {
        config: &config,
        oracle: &oracle,
        tolerance: Tolerance::default(),
        report_dir: &report_dir,
        started_at: Utc::now(),
    })
    .unwrap();

    assert_eq!(outcome.report.verdict, Verdict::Go, "{:#?}", outcome.report);
    let mut expected: Vec<_> = FILES.iter().map(|name| report_dir.join(name)).collect();
    expected.push(report_dir.join(ENGINE_ROWS));
    assert_eq!(outcome.files, expected);
    for file in &expected {
        assert!(file.metadata().unwrap().len() > 0, "{}", file.display());
    }

    // The engine's rows as written, counted independently of the report.
    let written = SerializedFileReader::new(File::open(report_dir.join(ENGINE_ROWS)).unwrap())
        .unwrap()
        .metadata()
        .file_metadata()
        .num_rows();
    assert!(written > 0);
    let text = std::fs::read_to_string(report_dir.join("report.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["verdict"], "GO");
    assert_eq!(json["rows_match"], true);
    let comparison = &json["comparison"];
    for count in ["engine_rows", "oracle_rows", "matched"] {
        assert_eq!(comparison[count], written, "{count}");
    }
    assert_eq!(comparison["only_in_engine"].as_array().unwrap().len(), 0);
    assert_eq!(comparison["only_in_oracle"].as_array().unwrap().len(), 0);
    assert_eq!(
        json["identity"]["run_id"],
        outcome.report.identity.run_id.as_str()
    );

    let terminal = std::fs::read_to_string(report_dir.join("report.txt")).unwrap();
    assert!(terminal.starts_with("=== GO ==="), "{terminal}");
    let html = std::fs::read_to_string(report_dir.join("report.html")).unwrap();
    assert!(html.contains("<header class=\"banner go\">"));
}
