//! The `ocp-harness` binary as a user meets it: what `--help` answers, and a clear error for a
//! bad `--out`. The work behind each command is tested in the library's suites
//! (harness/tests/); `just smoke` runs `generate` end to end.

use std::process::Command;

fn harness(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ocp-harness"))
        .args(args)
        .output()
        .expect("the ocp-harness binary runs")
}

fn stdout(args: &[&str]) -> String {
    let output = harness(args);
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).expect("UTF-8 help")
}

#[test]
fn help_names_the_commands() {
    let help = stdout(&["--help"]);
    for command in ["generate", "ingest-nise", "load-onprem", "bench", "compare"] {
        assert!(help.contains(command), "{command} missing from:\n{help}");
    }
}

#[test]
fn each_command_explains_its_choices() {
    let generate = stdout(&["generate", "--help"]);
    for words in [
        "tiny", "typical", "large", "xl", "--nodes", "--pods", "--days",
    ] {
        assert!(
            generate.contains(words),
            "generate --help lacks {words}:\n{generate}"
        );
    }
    let bench = stdout(&["bench", "--help"]);
    for words in [
        "--trino",
        "yardstick",
        "--postgres-source",
        "--no-duckdb",
        "DuckDB",
        "COPY FROM",
        "--nodes",
    ] {
        assert!(
            bench.contains(words),
            "bench --help lacks {words}:\n{bench}"
        );
    }
    let load = stdout(&["load-onprem", "--help"]);
    for words in ["usage_start", "--schema", "ocp-engine aggregate --input"] {
        assert!(
            load.contains(words),
            "load-onprem --help lacks {words:?}:\n{load}"
        );
    }
    let nise = stdout(&["ingest-nise", "--help"]);
    for words in ["5.4.4", "--enabled-keys", "--cluster-id", "engine.toml"] {
        assert!(
            nise.contains(words),
            "ingest-nise --help lacks {words:?}:\n{nise}"
        );
    }
    let compare = stdout(&["compare", "--help"]);
    for words in ["0 GO", "1 NO-GO", "4 REVIEW", "--oracle"] {
        assert!(
            compare.contains(words),
            "compare --help lacks {words:?}:\n{compare}"
        );
    }
}

#[test]
fn generate_sizes_a_cluster_between_the_scales() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sized");
    let out = out.to_str().unwrap();
    let sized = [
        "generate", "--scale", "tiny", "--nodes", "4", "--pods", "20", "--days", "2", "--out", out,
    ];
    let text = stdout(&sized);
    assert!(
        text.contains("tiny-4nodes-20pods-2days cluster (seed 42): 4 nodes, 4 namespaces, 20 pods")
            && text.contains("2026-09-01..2026-09-02"),
        "{text}"
    );
    // Too few nodes for tiny's master and infra node: the generator's reason.
    let output = harness(&["generate", "--scale", "tiny", "--nodes", "2", "--out", out]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("at least 3 nodes"),
        "{output:?}"
    );
    // Days outside September and a zero count are refused before anything runs.
    for bad in [["--days", "31"], ["--pods", "0"]] {
        let mut args = vec!["generate", "--scale", "tiny", "--out", out];
        args.extend(bad);
        let output = harness(&args);
        assert_eq!(output.status.code(), Some(2), "{bad:?}: {output:?}");
    }
}

#[test]
fn generate_into_a_file_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let output = harness(&[
        "generate",
        "--scale",
        "tiny",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("exists and is not a folder") && stderr.contains("pick a folder"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "x",
        "the file is left alone"
    );
}

/// `generate --to-postgres` fills koku's on-prem tables, and the engine given that database as its
/// input (flags over the generated engine.toml, as an operator would) writes the rows the same
/// config gives from the Parquet.
#[test]
fn a_generated_cluster_loaded_on_prem_summarises_as_from_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let url = ocp_testkit::server_url();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let schema = runtime.block_on(async { ocp_testkit::fresh_schema("cli_onprem").await.1 });
    let out = dir.path().join("tiny");
    let output = harness(&[
        "generate",
        "--scale",
        "tiny",
        "--out",
        out.to_str().unwrap(),
        "--to-postgres",
        url,
        "--schema",
        &schema,
    ]);
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.contains("openshift_pod_usage_line_items_daily") && printed.contains(&schema),
        "{printed}"
    );

    let config = ocp_engine::config::ConfigFile::load(&out.join("engine.toml")).unwrap();
    let run = |overrides: ocp_engine::resolve::Overrides| {
        let mut request = ocp_engine::resolve::resolve_request(config.clone(), overrides).unwrap();
        request.keep_rows = true;
        runtime
            .block_on(ocp_harness::scenario::run_quietly(&request))
            .unwrap()
    };
    let file = |name: &str| Some(dir.path().join(name));
    let from_parquet = run(ocp_engine::resolve::Overrides {
        out: file("parquet.csv"),
        compatibility: Some(ocp_engine::compat::Compatibility::Postgres),
        ..Default::default()
    });
    let from_postgres = run(ocp_engine::resolve::Overrides {
        input: Some(url.to_string()),
        schema: Some(schema.clone()),
        out: file("postgres.csv"),
        ..Default::default()
    });
    assert!(!from_parquet.rows.is_empty());
    // The PostgreSQL input defaults to koku's on-prem port, as asked explicitly of the Parquet.
    use ocp_harness::compare::assert_same_rows;
    assert_same_rows(
        &from_postgres,
        &from_parquet,
        "the on-prem tables against the Parquet",
    );
    assert!(dir.path().join("postgres.csv").is_file());
}
