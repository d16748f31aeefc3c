//! The `ocp-engine` binary as an operator meets it: help text, exit codes and the messages on
//! stderr for settings and inputs that are wrong before any Parquet is read.
//!
//! Contract (engine/src/cli.rs, engine/src/error.rs): exit 0 success, 2 bad input (flags, config,
//! Parquet, labels), 3 infrastructure (PostgreSQL, S3, disk). Every failure prints one message
//! on stderr that says what is wrong and where: the flag and config key of a missing setting,
//! the folder or file involved, the server (never its password).
//!
//! These tests cannot use the harness crate (it depends on the engine), so they cover what needs
//! no Parquet data. `OCP_ENGINE_*` variables of the calling environment are removed from every
//! run so they cannot fill in a setting a test leaves out.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The source UUID the tests pass; any UUID will do.
const SOURCE: &str = "6795d5e6-951c-4382-a8d3-390515d7ec2d";
/// A password that must never appear in the output.
const PASSWORD: &str = "n0t-for-logs-7f3a";
/// koku's table the engine writes, which the help must name.
const SUMMARY: &str = "reporting_ocpusagelineitem_daily_summary";

/// The binary with no `OCP_ENGINE_*` variable inherited.
fn engine() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ocp-engine"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("OCP_ENGINE_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs `command` and returns (exit code, stdout, stderr).
fn run(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("the ocp-engine binary starts");
    let code = status
        .code()
        .unwrap_or_else(|| panic!("ocp-engine was killed by a signal: {status}"));
    (
        code,
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Runs `command`, checks it exits with `code`, and returns its stderr.
fn stderr_of_failure(command: &mut Command, code: i32) -> String {
    let (actual, stdout, stderr) = run(command);
    assert_eq!(
        actual, code,
        "exit code; stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stderr
}

/// Asserts `text` contains every one of `words`.
fn assert_mentions(text: &str, words: &[&str]) {
    for word in words {
        assert!(text.contains(word), "expected {word:?} in:\n{text}");
    }
}

/// A loopback port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("the bound address").port()
}

/// A temporary folder holding a config file whose `[catalog]` is inline (so no PostgreSQL is
/// needed for the catalog), and an empty `data` folder to point `--input` at.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        let dir = tempfile::Builder::new()
            .prefix("ocp-engine-cli-")
            .tempdir()
            .expect("create a temporary folder");
        let workspace = Workspace { dir };
        std::fs::create_dir(workspace.data()).expect("create the data folder");
        workspace.write_config("engine.toml", "[catalog]\nenabled_tag_keys = []\n");
        workspace
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// An existing, empty input folder.
    fn data(&self) -> PathBuf {
        self.path("data")
    }

    /// Writes `text` as config file `name` and returns its path.
    fn write_config(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// `aggregate` with every setting a file output needs, the catalog from the config file and
    /// the input the empty `data` folder; tests change or drop one setting. Pairs of flag and
    /// value, so a test can leave one out.
    fn settings(&self) -> Vec<(&'static str, String)> {
        let text = |p: &Path| p.to_string_lossy().into_owned();
        vec![
            ("--config", text(&self.path("engine.toml"))),
            ("--input", text(&self.data())),
            ("--account", "org1234567".to_string()),
            ("--source", SOURCE.to_string()),
            ("--start", "2026-03-01".to_string()),
            ("--end", "2026-03-02".to_string()),
            ("--report-period-id", "1".to_string()),
            ("--cluster-id", "test-cluster".to_string()),
            ("--out", text(&self.path("summary.parquet"))),
        ]
    }

    /// `ocp-engine aggregate --quiet` with `settings`.
    fn aggregate(&self, settings: &[(&str, String)]) -> Command {
        let mut command = engine();
        command.arg("aggregate").arg("--quiet");
        for (flag, value) in settings {
            command.arg(flag).arg(value);
        }
        command
    }

    /// [`Workspace::settings`] with `flag` set to `value` (added if absent).
    fn aggregate_with(&self, flag: &'static str, value: &str) -> Command {
        let mut settings = self.settings();
        settings.retain(|(f, _)| *f != flag);
        settings.push((flag, value.to_string()));
        self.aggregate(&settings)
    }
}

#[test]
fn help_names_the_table_the_exit_codes_and_the_config() {
    let (code, help, _) = run(engine().arg("--help"));
    assert_eq!(code, 0);
    assert_mentions(
        &help,
        &[
            SUMMARY,
            "aggregate",
            "ddl",
            "--config",
            "Exit codes",
            "2",
            "3",
        ],
    );
}

/// The help of the command an operator runs says where the rows go and what the exit codes
/// mean, besides every setting.
#[test]
fn aggregate_help_names_every_setting_the_table_and_the_exit_codes() {
    let (code, help, _) = run(engine().args(["aggregate", "--help"]));
    assert_eq!(code, 0);
    assert_mentions(
        &help,
        &[
            "--config",
            "--input",
            "--account",
            "--source",
            "--start",
            "--end",
            "--postgres-url",
            "--schema",
            "--out",
            "OCP_ENGINE_POSTGRES_URL",
        ],
    );
    assert_mentions(&help, &[SUMMARY, "Exit codes"]);
}

/// Without PostgreSQL, the report period and the cluster id must be given too: each missing
/// setting is reported with its flag and its config key. Every case is checked before the test
/// fails, so one run lists all the messages that fall short.
#[test]
fn each_missing_setting_names_its_flag_and_config_key() {
    let workspace = Workspace::new();
    let mut problems = Vec::new();
    let mut check = |mut command: Command, flag: &str, key: &str| {
        let (code, _, stderr) = run(&mut command);
        if code != 2 || !stderr.contains(flag) || !stderr.contains(key) {
            problems.push(format!(
                "without {flag}: expected exit 2 naming {flag} and {key}, got exit {code}: {stderr}"
            ));
        }
    };
    for (flag, key) in [
        ("--input", "source.location"),
        ("--account", "source.account"),
        ("--source", "source.source_uuid"),
        ("--start", "period.start"),
        ("--end", "period.end"),
        ("--report-period-id", "period.report_period_id"),
        ("--cluster-id", "period.cluster_id"),
    ] {
        let mut settings = workspace.settings();
        settings.retain(|(f, _)| *f != flag);
        check(workspace.aggregate(&settings), flag, key);
    }
    // A PostgreSQL URL without a schema.
    check(
        workspace.aggregate_with("--postgres-url", "postgresql://koku@127.0.0.1/koku"),
        "--schema",
        "postgres.schema",
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn input_folder_that_does_not_exist_is_named() {
    let workspace = Workspace::new();
    let missing = workspace.path("no-such-folder");
    let missing = missing.to_string_lossy();
    let stderr = stderr_of_failure(&mut workspace.aggregate_with("--input", &missing), 2);
    assert_mentions(&stderr, &[&missing, "--input"]);
}

#[test]
fn empty_input_folder_has_no_pod_usage_files() {
    let workspace = Workspace::new();
    let stderr = stderr_of_failure(&mut workspace.aggregate(&workspace.settings()), 2);
    assert_mentions(&stderr, &["no pod-usage data", SOURCE, "2026-03"]);
}

#[test]
fn dates_in_two_months_or_backwards_are_bad_input() {
    let workspace = Workspace::new();
    for (start, end) in [("2026-03-31", "2026-04-01"), ("2026-03-02", "2026-03-01")] {
        let mut settings = workspace.settings();
        settings.retain(|(f, _)| !matches!(*f, "--start" | "--end"));
        settings.push(("--start", start.to_string()));
        settings.push(("--end", end.to_string()));
        let stderr = stderr_of_failure(&mut workspace.aggregate(&settings), 2);
        assert_mentions(&stderr, &[start, end]);
    }
}

#[test]
fn unreachable_postgres_is_exit_3_naming_the_server_not_the_password() {
    let workspace = Workspace::new();
    let port = closed_port().to_string();
    let url = format!("postgresql://koku:{PASSWORD}@127.0.0.1:{port}/koku");
    // Catalog and rows from and to PostgreSQL: no [catalog], no --out.
    let mut settings = workspace.settings();
    settings.retain(|(f, _)| !matches!(*f, "--config" | "--out"));
    settings.push(("--schema", "org1234567".to_string()));

    let mut by_flag = workspace.aggregate(&settings);
    by_flag.arg("--postgres-url").arg(&url);
    let mut by_env = workspace.aggregate(&settings);
    by_env.env("OCP_ENGINE_POSTGRES_URL", &url);
    for mut command in [by_flag, by_env] {
        let (code, stdout, stderr) = run(&mut command);
        assert_eq!(code, 3, "stdout:\n{stdout}\nstderr:\n{stderr}");
        assert_mentions(&stderr, &["127.0.0.1", &port]);
        assert!(
            stderr.to_lowercase().contains("refused"),
            "the message gives the reason (connection refused):\n{stderr}"
        );
        assert!(
            !stderr.contains(PASSWORD) && !stdout.contains(PASSWORD),
            "the password is printed:\n{stdout}\n{stderr}"
        );
    }
}

#[test]
fn ddl_prints_create_table_in_the_quoted_schema() {
    let (code, sql, stderr) = run(engine().args(["ddl", "--schema", "Org-Mixed"]));
    assert_eq!(code, 0, "{stderr}");
    assert_mentions(
        &sql,
        &[
            "CREATE SCHEMA IF NOT EXISTS \"Org-Mixed\"",
            &format!("CREATE TABLE IF NOT EXISTS \"Org-Mixed\".{SUMMARY}"),
            "\"Org-Mixed\".reporting_ocpusagereportperiod",
            "\"Org-Mixed\".reporting_enabledtagkeys",
        ],
    );
}

#[test]
fn unknown_config_key_is_named_with_the_file() {
    let workspace = Workspace::new();
    for (text, unknown) in [
        ("[source]\nbucket = \"koku\"\n", "bucket"),
        ("[postgress]\nurl = \"postgresql://db/koku\"\n", "postgress"),
    ] {
        let config = workspace.write_config("typo.toml", text);
        let config = config.to_string_lossy();
        let stderr = stderr_of_failure(&mut workspace.aggregate_with("--config", &config), 2);
        assert_mentions(&stderr, &[&config, unknown]);
    }
}

#[test]
fn half_an_s3_key_pair_is_bad_input() {
    let workspace = Workspace::new();
    for key in ["s3_access_key_id", "s3_secret_access_key"] {
        let text = format!("[catalog]\nenabled_tag_keys = []\n\n[source]\n{key} = \"x\"\n");
        let config = workspace.write_config("half-key.toml", &text);
        let stderr = stderr_of_failure(
            &mut workspace.aggregate_with("--config", &config.to_string_lossy()),
            2,
        );
        assert_mentions(&stderr, &["s3_access_key_id", "s3_secret_access_key"]);
    }
}

/// `--compatibility` takes koku's two variants only (docs/semantics.md); anything else, as a flag
/// or as `summary.compatibility` in the config file, is bad input naming both values.
#[test]
fn an_unknown_koku_variant_is_bad_input_naming_the_two() {
    let workspace = Workspace::new();
    let stderr = stderr_of_failure(&mut workspace.aggregate_with("--compatibility", "mysql"), 2);
    assert_mentions(&stderr, &["mysql", "trino", "postgres"]);

    let config = workspace.write_config("variant.toml", "[summary]\ncompatibility = \"mysql\"\n");
    let stderr = stderr_of_failure(
        &mut workspace.aggregate_with("--config", &config.to_string_lossy()),
        2,
    );
    assert_mentions(&stderr, &["mysql", "trino", "postgres"]);
}

/// The lines of `stderr`, each parsed as one JSON event.
fn json_events(stderr: &str) -> Vec<serde_json::Value> {
    stderr
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON event ({e}): {line:?}\nstderr:\n{stderr}"))
        })
        .collect()
}

#[test]
fn the_json_log_tells_a_failure_as_one_event_with_its_kind_as_data() {
    let workspace = Workspace::new();
    // A setting missing: bad input, before any context is known.
    let mut settings = workspace.settings();
    settings.retain(|(f, _)| *f != "--source");
    let mut command = workspace.aggregate(&settings);
    command.args(["--log-format", "json"]);
    let (code, stdout, stderr) = run(&mut command);
    assert_eq!((code, stdout.as_str()), (2, ""), "stderr:\n{stderr}");
    let events = json_events(&stderr);
    assert_eq!(events.len(), 1, "{events:#?}");
    let failed = &events[0];
    assert_eq!(failed["event"], "run_failed");
    assert_eq!(failed["level"], "ERROR");
    assert_eq!(failed["error_kind"], "input");
    assert_eq!(failed["problem"], "setting");
    assert_eq!(failed["place"], serde_json::json!(["source.source_uuid"]));
    assert_eq!(failed["exit_code"], 2);
    assert!(failed.get("provider_uuid").is_none(), "{failed}");

    // PostgreSQL unreachable: infrastructure, with koku's context fields and no password.
    let url = format!(
        "postgresql://koku:{PASSWORD}@127.0.0.1:{}/koku",
        closed_port()
    );
    let mut settings = workspace.settings();
    settings.retain(|(f, _)| !matches!(*f, "--config" | "--out"));
    settings.push(("--schema", "org1234567".to_string()));
    let mut command = workspace.aggregate(&settings);
    command
        .env("OCP_ENGINE_POSTGRES_URL", &url)
        .env("OCP_ENGINE_LOG_FORMAT", "json")
        .args(["--tracing-id", "koku-task-1"]);
    let (code, stdout, stderr) = run(&mut command);
    assert_eq!((code, stdout.as_str()), (3, ""), "stderr:\n{stderr}");
    assert!(
        !stderr.contains(PASSWORD),
        "the password is printed:\n{stderr}"
    );
    let events = json_events(&stderr);
    let failed = events.last().expect("an event");
    assert_eq!(failed["event"], "run_failed");
    assert_eq!(failed["error_kind"], "infrastructure");
    assert_eq!(failed["service"], "PostgreSQL");
    assert_eq!(failed["exit_code"], 3);
    assert_eq!(failed["schema"], "org1234567");
    assert_eq!(failed["provider_uuid"], SOURCE);
    assert_eq!(failed["start_date"], "2026-03-01");
    assert_eq!(failed["end_date"], "2026-03-02");
    assert_eq!(failed["report_period_id"], 1);
    assert_eq!(failed["tracing_id"], "koku-task-1");
}
