//! Secrets and hostile names (issue 15, "Security"): a PostgreSQL password never shows in what
//! the binaries print or write, and a tenant schema named like an injection is only ever a name.
//!
//! The password is a distinctive string made per run (`Sekr3t-pw-…`), given the engine the three
//! ways a site gives it: in `--postgres-url`, in the environment (`OCP_ENGINE_POSTGRES_URL`,
//! with `PGPASSWORD` beside it) and in a config file's `[postgres] url`. The tests' server lets
//! user `postgres` in with trust auth (testkit), so it accepts any password: the engine really
//! connects with the URL that carries it. Every run, in `--log-format text` and `json`, on
//! success and on each failure that is cheap to make (a setting missing, a truncated Parquet
//! file, the server unreachable, the month's lock held with `--lock-wait 0`, a read-only
//! transaction, SIGTERM inside the write), has all its stdout and stderr searched; so are the
//! `--report-json` file, every row of every table in the tenant schema (as text), and what
//! `ocp-harness` prints and writes when it is given such a URL (`generate --to-postgres`,
//! `load-onprem`, `compare --oracle koku-postgres` and its report files).
//!
//! Every search can fail: the password is not empty, the text searched is not empty, and the
//! same search finds the password where the test put it (the command line, the environment or
//! the config file it built).
//!
//! The hostile schema, `acct"X'; DROP SCHEMA public; --y z_<random>` (double and single quote,
//! semicolon, spaces, a capital letter), is made a koku tenant by `ocp-harness generate
//! --to-postgres` (on-prem tables, koku's tables, catalog and report period); the engine binary
//! writes its month there from Parquet, replaces it, and writes it again from the on-prem
//! tables; `ocp-engine ddl`, [`MonthState`] and `compare --oracle koku-postgres` run on it too.
//! The rows land in that schema only: `public` keeps its relations, no schema named after a
//! piece of the name appears, and the runs' ids and rows are in no other schema.
//!
//! They found four bugs, fixed since: the TOML error of a config file echoed the line holding
//! the URL (the engine's config, and `compare`'s oracle config in the harness); the key=value
//! form of a connection string was redacted wrongly when its password was quoted or spaced; and
//! an account with a character object_store encodes in a path named a folder the engine never
//! found (it is now refused, naming `source.account`).

#[allow(dead_code)]
mod common {
    pub mod case;
    pub mod engine_child;
    pub mod sessions;
}

use std::collections::BTreeSet;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

use common::case::{Case, MonthState};
use common::engine_child::{engine_binary, send_signal, SIGTERM};
use common::sessions::{backend_waiting, hold_month_lock, lock_month_rows, other_session};
use ocp_engine::config::ConfigFile;
use ocp_engine::month_lock::{Month, MonthLock};
use ocp_engine::postgres::quote_ident;
use ocp_engine::resolve::{resolve_request, Overrides};
use ocp_engine::run::RunRequest;
use ocp_harness::synth::parquet_writer::POD_USAGE;
use ocp_harness::synth::{generate, Scale};
use ocp_testkit as testkit;
use serde_json::Value;
use tokio_postgres::Client;
use uuid::Uuid;

const SUMMARY: &str = "reporting_ocpusagelineitem_daily_summary";
const RUNS: &str = "ocp_engine_runs";

// ---------------------------------------------------------------------------------------------
// Passwords and URLs

/// A password no other text holds: distinctive, and new on every run.
fn new_password() -> String {
    format!("Sekr3t-pw-{}", &Uuid::new_v4().simple().to_string()[..12])
}

/// `url`, the tests' server as `postgresql://postgres@HOST:PORT/DB`, with `password` for user
/// `postgres`. The server trusts user `postgres` (testkit starts it with trust auth), so it
/// accepts any password and the run goes through.
fn with_password(url: &str, password: &str) -> String {
    let with = url.replacen("://postgres@", &format!("://postgres:{password}@"), 1);
    assert_ne!(
        with, url,
        "the tests' server URL names user postgres: {url}"
    );
    with
}

/// A loopback port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("the bound address").port()
}

/// A server that is not there, the password in its URL.
fn unreachable_url(password: &str) -> String {
    format!(
        "postgresql://postgres:{password}@127.0.0.1:{}/postgres",
        closed_port()
    )
}

/// `url` with every session's transactions read-only (libpq's `options`).
fn read_only(url: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20default_transaction_read_only%3Don")
}

// ---------------------------------------------------------------------------------------------
// Child processes and what they print

/// The `ocp-harness` binary: `OCP_HARNESS_BIN`, else the one built beside this test.
fn harness_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("OCP_HARNESS_BIN") {
        return PathBuf::from(path);
    }
    let test = std::env::current_exe().expect("the test's own path");
    let binary = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/debug/deps")
        .join("ocp-harness");
    assert!(
        binary.exists(),
        "{} is missing: build it with `cargo build -p ocp-harness-cli` (`cargo test \
         --workspace` does) or point OCP_HARNESS_BIN at one",
        binary.display()
    );
    binary
}

/// `binary` with no variable inherited that could carry a setting (or a password) in.
fn clean(binary: PathBuf) -> Command {
    let mut command = Command::new(binary);
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if [
            "OCP_ENGINE_",
            "OCP_BENCH_",
            "KOKU_POSTGRES_",
            "TRINO_",
            "PGPASSWORD",
        ]
        .iter()
        .any(|prefix| name_text.starts_with(prefix))
        {
            command.env_remove(&name);
        }
    }
    command
}

fn engine() -> Command {
    clean(engine_binary())
}

fn harness() -> Command {
    clean(harness_binary())
}

/// The arguments and environment `command` was given, as text: where a test put a password.
fn given(command: &Command) -> String {
    format!(
        "{:?} {:?}",
        command.get_args().collect::<Vec<_>>(),
        command.get_envs().collect::<Vec<_>>()
    )
}

/// How a child process ended and everything it printed.
#[derive(Debug)]
struct Printed {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// A child process whose stdout and stderr threads of their own read to the end.
struct Running {
    child: Child,
    stdout: JoinHandle<String>,
    stderr: JoinHandle<String>,
}

impl Running {
    fn start(mut command: Command) -> Running {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {:?}: {e}", command.get_program()));
        let read_all = |mut stream: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                stream
                    .read_to_end(&mut bytes)
                    .expect("read the child's output");
                String::from_utf8_lossy(&bytes).into_owned()
            })
        };
        let stdout = read_all(Box::new(child.stdout.take().expect("piped stdout")));
        let stderr = read_all(Box::new(child.stderr.take().expect("piped stderr")));
        Running {
            child,
            stdout,
            stderr,
        }
    }

    /// Sends `signal`, then waits for the end.
    fn stop(self, signal: i32) -> Printed {
        send_signal(&self.child, signal);
        self.finish()
    }

    fn finish(mut self) -> Printed {
        let status = self.child.wait().expect("wait for the child");
        Printed {
            code: status.code(),
            stdout: self.stdout.join().expect("the stdout reader"),
            stderr: self.stderr.join().expect("the stderr reader"),
        }
    }
}

/// Runs `command` to its end.
fn run(command: Command) -> Printed {
    Running::start(command).finish()
}

/// Every line of `stderr` parsed as a JSON event (`--log-format json`).
fn events(stderr: &str) -> Vec<Value> {
    stderr
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON event ({e}): {line}\nstderr:\n{stderr}"))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The search

/// Looks for one password in everything searched, and counts what it searched.
struct Search {
    /// The password, and each of its words when it has spaces: a part is a leak too.
    needles: Vec<String>,
    searched: usize,
}

impl Search {
    fn new(password: &str) -> Search {
        assert!(!password.trim().is_empty(), "a password to search for");
        let mut needles = vec![password.to_string()];
        let words: Vec<&str> = password.split_whitespace().collect();
        if words.len() > 1 {
            needles.extend(words.iter().map(|w| w.to_string()));
        }
        assert!(
            needles.iter().all(|n| n.len() >= 6),
            "{needles:?} too short"
        );
        Search {
            needles,
            searched: 0,
        }
    }

    fn finds(&self, text: &str) -> bool {
        self.needles.iter().any(|needle| text.contains(needle))
    }

    /// The sanity check: where the test put the password, this search finds it.
    #[track_caller]
    fn assert_finds(&self, what: &str, text: &str) {
        assert!(
            self.finds(text),
            "the search for {:?} misses it in {what}: {text}",
            self.needles
        );
    }

    /// `text` is not empty and holds no part of the password.
    #[track_caller]
    fn assert_absent(&mut self, what: &str, text: &str) {
        assert!(!text.trim().is_empty(), "{what}: nothing to search");
        assert!(
            !self.finds(text),
            "{what} shows the password ({:?}):\n{text}",
            self.needles
        );
        self.searched += 1;
    }

    /// Something was printed, and neither stdout nor stderr shows the password.
    #[track_caller]
    fn assert_printed_without(&mut self, what: &str, printed: &Printed) {
        assert!(
            !(printed.stdout.trim().is_empty() && printed.stderr.trim().is_empty()),
            "{what} printed nothing: {printed:?}"
        );
        for (stream, text) in [("stdout", &printed.stdout), ("stderr", &printed.stderr)] {
            if !text.trim().is_empty() {
                self.assert_absent(&format!("{what}, {stream}"), text);
            }
        }
    }

    /// Every file under `dir` (read as text, lossily) is non-empty and without the password;
    /// returns how many there were.
    fn assert_files_without(&mut self, what: &str, dir: &Path) -> usize {
        let mut files = 0;
        let mut folders = vec![dir.to_path_buf()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).expect("list a report folder") {
                let path = entry.expect("a folder entry").path();
                if path.is_dir() {
                    folders.push(path);
                } else {
                    let bytes = std::fs::read(&path).expect("read a report file");
                    let text = String::from_utf8_lossy(&bytes);
                    self.assert_absent(&format!("{what}: {}", path.display()), &text);
                    files += 1;
                }
            }
        }
        files
    }

    /// Every row of every table of `schema`, as its text, is without the password; the runs
    /// table and the summary have rows.
    async fn assert_tables_without(&mut self, client: &Client, schema: &str) {
        let texts = table_texts(client, schema).await;
        for table in [RUNS, SUMMARY] {
            assert!(
                texts
                    .iter()
                    .any(|(name, text)| name == table && !text.is_empty()),
                "{schema}.{table} has rows to search: {:?}",
                texts.iter().map(|(name, _)| name).collect::<Vec<_>>()
            );
        }
        for (table, text) in texts.iter().filter(|(_, text)| !text.is_empty()) {
            self.assert_absent(&format!("the rows of {schema}.{table}"), text);
        }
    }
}

/// Each table of `schema` (a partitioned one whole, not its partitions) with all its rows as
/// text, one a line.
async fn table_texts(client: &Client, schema: &str) -> Vec<(String, String)> {
    let tables: Vec<String> = client
        .query(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition \
             ORDER BY 1",
            &[&schema],
        )
        .await
        .expect("list the schema's tables")
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut texts = Vec::new();
    for table in tables {
        let text: String = client
            .query_one(
                &format!(
                    "SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM {}.{} t",
                    quote_ident(schema),
                    quote_ident(&table)
                ),
                &[],
            )
            .await
            .unwrap_or_else(|e| panic!("read {schema}.{table}: {e}"))
            .get(0);
        texts.push((table, text));
    }
    texts
}

// ---------------------------------------------------------------------------------------------
// The engine given the password three ways

/// How the run gets the PostgreSQL URL.
#[derive(Debug, Clone, Copy)]
enum Way {
    /// `--postgres-url URL`.
    Flag,
    /// `OCP_ENGINE_POSTGRES_URL=URL`, with `PGPASSWORD` set too (tokio-postgres does not read
    /// it, but nothing may print it either).
    Environment,
    /// `--config FILE` whose `[postgres] url` is the URL.
    ConfigFile,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Text,
    Json,
}

impl Format {
    fn flag(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
        }
    }
}

/// Runs of the engine on a case's month, the URL given one way, all output searched.
struct Secrets<'a> {
    case: &'a Case,
    way: Way,
    password: String,
    search: Search,
    /// Config files and reports.
    dir: tempfile::TempDir,
    runs: usize,
}

impl<'a> Secrets<'a> {
    fn new(case: &'a Case, way: Way, password: &str) -> Secrets<'a> {
        Secrets {
            case,
            way,
            password: password.to_string(),
            search: Search::new(password),
            dir: tempfile::tempdir().expect("a temporary folder"),
            runs: 0,
        }
    }

    /// `ocp-engine aggregate` on the case's month into its schema in `format`, the PostgreSQL
    /// URL `url` given the case's way, without `leave_out` (a flag) when given.
    fn command(&mut self, url: &str, format: Format, leave_out: Option<&str>) -> Command {
        let request = self.case.request();
        let mut flags = vec![
            ("--log-format", format.flag().to_string()),
            ("--input", request.location.clone()),
            ("--account", request.account.clone()),
            ("--source", request.source_uuid.to_string()),
            ("--start", request.start.to_string()),
            ("--end", request.end.to_string()),
            ("--schema", self.case.schema().to_string()),
            (
                "--compatibility",
                request.compatibility.as_str().to_string(),
            ),
        ];
        flags.retain(|(flag, _)| Some(*flag) != leave_out);
        let mut command = engine();
        command.arg("aggregate");
        for (flag, value) in flags {
            command.arg(flag).arg(value);
        }
        self.runs += 1;
        let holder = match self.way {
            Way::Flag => {
                command.arg("--postgres-url").arg(url);
                given(&command)
            }
            Way::Environment => {
                command
                    .env("OCP_ENGINE_POSTGRES_URL", url)
                    .env("PGPASSWORD", &self.password);
                given(&command)
            }
            Way::ConfigFile => {
                let config = ConfigFile {
                    postgres: ocp_engine::config::PostgresSection {
                        url: Some(url.to_string()),
                        ..Default::default()
                    },
                    ..Default::default()
                };
                let path = self.dir.path().join(format!("engine-{}.toml", self.runs));
                std::fs::write(&path, config.to_toml()).expect("write the config file");
                command.arg("--config").arg(&path);
                std::fs::read_to_string(&path).expect("read the config file back")
            }
        };
        self.search
            .assert_finds(&format!("the {:?} the test built", self.way), &holder);
        command
    }

    /// `printed` is the run `what` ending with exit `code`, its output in `format` mentioning
    /// `mention` (JSON: one event a line, the last `run_failed` or `run_finished`); no output
    /// shows the password.
    #[track_caller]
    fn check(&mut self, what: &str, format: Format, printed: &Printed, code: i32, mention: &str) {
        let what = format!("{what} ({:?}, {format:?})", self.way);
        assert_eq!(printed.code, Some(code), "{what}: {printed:#?}");
        let all = format!("{}\n{}", printed.stdout, printed.stderr);
        assert!(all.contains(mention), "{what} mentions {mention:?}: {all}");
        if format == Format::Json {
            assert_eq!(printed.stdout, "", "{what}: nothing on stdout in JSON");
            let events = events(&printed.stderr);
            let last = events.last().expect("an event");
            let expected = if code == 0 {
                "run_finished"
            } else {
                "run_failed"
            };
            assert_eq!(last["event"], expected, "{what}: {last}");
        }
        self.search.assert_printed_without(&what, printed);
    }
}

/// The month lock of the case's run, held on a session of the test's own.
async fn hold_month(case: &Case) -> (Client, MonthLock) {
    let request = case.request();
    hold_month_lock(&Month {
        schema: case.schema(),
        source_uuid: request.source_uuid,
        day: request.start,
    })
    .await
}

/// Every failure and then success, in both formats, with the URL given `way`: no output, no
/// report file and no row shows the password.
async fn the_password_stays_out(way: Way, prefix: &str, seed: u64) {
    let case = Case::with_koku_catalog(prefix, generate(Scale::Tiny, seed)).await;
    let password = new_password();
    let url = with_password(testkit::server_url(), &password);
    let mut secrets = Secrets::new(&case, way, &password);

    for format in [Format::Text, Format::Json] {
        let printed = run(secrets.command(&url, format, Some("--start")));
        secrets.check("a setting missing", format, &printed, 2, "--start");

        let pod_file = case.file(POD_USAGE, true, 0);
        let whole = std::fs::read(&pod_file).expect("read the daily pod-usage file");
        std::fs::write(&pod_file, &whole[..whole.len() / 2]).expect("truncate it");
        let printed = run(secrets.command(&url, format, None));
        case.restore();
        let name = pod_file.file_name().expect("a file name").to_string_lossy();
        secrets.check("a truncated Parquet file", format, &printed, 2, &name);

        let printed = run(secrets.command(&unreachable_url(&password), format, None));
        secrets.check("PostgreSQL unreachable", format, &printed, 3, "refused");

        let (holder, lock) = hold_month(&case).await;
        let mut command = secrets.command(&url, format, None);
        command.args(["--lock-wait", "0"]);
        let printed = run(command);
        lock.release(&holder).await.expect("let the month go");
        secrets.check(
            "the month's lock held",
            format,
            &printed,
            3,
            "another run is writing",
        );

        let printed = run(secrets.command(&read_only(&url), format, None));
        secrets.check("a read-only transaction", format, &printed, 3, "read-only");

        let mut holder = other_session().await;
        let rows = lock_month_rows(&mut holder, case.schema()).await;
        let engine = Running::start(secrets.command(&url, format, None));
        backend_waiting(case.client(), "DELETE", case.schema(), "Lock").await;
        let printed = engine.stop(SIGTERM);
        rows.rollback().await.expect("let the rows go");
        secrets.check("SIGTERM inside the write", format, &printed, 3, "SIGTERM");
    }
    case.assert_unchanged("the failed runs").await;

    for format in [Format::Text, Format::Json] {
        let report = secrets
            .dir
            .path()
            .join(format!("report-{}.json", format.flag()));
        let mut command = secrets.command(&url, format, None);
        command.arg("--report-json").arg(&report);
        let printed = run(command);
        secrets.check("a run that writes its rows", format, &printed, 0, "");
        let text = std::fs::read_to_string(&report).expect("the report file");
        assert!(text.contains("rows_per_data_source"), "{text}");
        secrets.search.assert_absent(
            &format!("the --report-json file ({way:?}, {format:?})"),
            &text,
        );
    }
    assert_eq!(
        MonthState::read(case.client(), case.schema()).await.runs,
        3,
        "the good run and the two that succeeded are recorded"
    );
    secrets
        .search
        .assert_tables_without(case.client(), case.schema())
        .await;
    // 12 runs of failures and 2 of success, each with at least one stream; 2 report files;
    // the runs table and the summary at least.
    assert!(
        secrets.search.searched >= 12 + 2 + 2 + 2,
        "{} texts searched",
        secrets.search.searched
    );
}

#[tokio::test]
async fn a_password_in_the_postgres_url_flag_is_never_printed_or_stored() {
    the_password_stays_out(Way::Flag, "secrets_flag", 1511).await;
}

#[tokio::test]
async fn a_password_in_the_environment_is_never_printed_or_stored() {
    the_password_stays_out(Way::Environment, "secrets_env", 1512).await;
}

#[tokio::test]
async fn a_password_in_the_config_file_is_never_printed_or_stored() {
    the_password_stays_out(Way::ConfigFile, "secrets_config", 1513).await;
}

/// The other forms of a connection string the engine takes (docs/operations.md: "libpq-style
/// URL or key=value string"), with the password where libpq allows it: a URL's query, a
/// key=value pair. The message of an unreachable server names the server; a read-only
/// transaction fails on the server.
#[tokio::test]
async fn a_password_in_a_url_query_or_a_key_value_string_is_never_printed() {
    let case = Case::with_koku_catalog("secrets_forms", generate(Scale::Tiny, 1514)).await;
    let password = new_password();
    let mut secrets = Secrets::new(&case, Way::Flag, &password);
    let server = testkit::server_url();
    let config: tokio_postgres::Config = server.parse().expect("the server's URL");
    let (host, port) = match (config.get_hosts().first(), config.get_ports().first()) {
        (Some(tokio_postgres::config::Host::Tcp(host)), Some(port)) => (host.clone(), *port),
        other => panic!("a TCP server: {other:?}"),
    };
    let closed = closed_port();
    let forms = [
        (
            "a URL's query",
            format!("postgresql://postgres@127.0.0.1:{closed}/postgres?password={password}"),
            format!("{server}?password={password}&options=-c%20default_transaction_read_only%3Don"),
        ),
        (
            "a key=value string",
            format!(
                "host=127.0.0.1 port={closed} user=postgres password={password} dbname=postgres"
            ),
            format!(
                "host={host} port={port} user=postgres password={password} dbname=postgres \
                 options='-c default_transaction_read_only=on'"
            ),
        ),
    ];
    for (form, unreachable, read_only) in &forms {
        for format in [Format::Text, Format::Json] {
            let printed = run(secrets.command(unreachable, format, None));
            secrets.check(
                &format!("PostgreSQL unreachable, {form}"),
                format,
                &printed,
                3,
                "refused",
            );
            let printed = run(secrets.command(read_only, format, None));
            secrets.check(
                &format!("a read-only transaction, {form}"),
                format,
                &printed,
                3,
                "read-only",
            );
        }
    }
    case.assert_unchanged("the failed runs").await;
}

/// libpq's key=value syntax allows spaces around `=` and a quoted value with spaces in it; both
/// reach the server, and the message of an unreachable one prints the string through
/// `redact_password`.
#[tokio::test]
async fn a_quoted_or_spaced_key_value_password_is_never_printed() {
    let case = Case::with_koku_catalog("secrets_kv", generate(Scale::Tiny, 1515)).await;
    let closed = closed_port();
    let spaced = new_password();
    let two_words = new_password().replacen('-', " ", 1);
    let forms = [
        (
            "spaces around =",
            &spaced,
            format!(
                "host=127.0.0.1 port={closed} user=postgres password = {spaced} dbname=postgres"
            ),
        ),
        (
            "a quoted value with a space",
            &two_words,
            format!(
                "host=127.0.0.1 port={closed} user=postgres password='{two_words}' dbname=postgres"
            ),
        ),
    ];
    for (form, password, url) in &forms {
        let mut secrets = Secrets::new(&case, Way::Flag, password);
        for format in [Format::Text, Format::Json] {
            let printed = run(secrets.command(url, format, None));
            secrets.check(
                &format!("PostgreSQL unreachable, {form}"),
                format,
                &printed,
                3,
                "refused",
            );
        }
    }
}

/// A config file whose line holding the URL does not parse (the value unquoted, the key
/// mistyped): the run is bad input naming the file, and the message must not carry the line.
/// `ocp-harness compare --config` loads the engine's config the same way.
#[tokio::test]
async fn a_config_file_line_that_does_not_parse_is_not_echoed() {
    let case = Case::with_koku_catalog("secrets_toml", generate(Scale::Tiny, 1516)).await;
    let password = new_password();
    let url = with_password(testkit::server_url(), &password);
    let mut secrets = Secrets::new(&case, Way::Flag, &password);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let broken = [
        ("unquoted", format!("[postgres]\nurl = {url}\n")),
        ("mistyped key", format!("[postgres]\nurll = \"{url}\"\n")),
    ];
    for (name, text) in &broken {
        let path = dir.path().join(format!("{}.toml", name.replace(' ', "-")));
        std::fs::write(&path, text).expect("write the config file");
        secrets.search.assert_finds("the config file", text);
        for format in [Format::Text, Format::Json] {
            // The flag carries the password too: the file is read first, and fails.
            let mut command = secrets.command(&url, format, None);
            command.arg("--config").arg(&path);
            let printed = run(command);
            let file = path.file_name().expect("a name").to_string_lossy();
            secrets.check(
                &format!("a config file, {name}"),
                format,
                &printed,
                2,
                &file,
            );
        }
        let mut compare = harness();
        compare
            .args(["compare", "--oracle", "koku-postgres", "--config"])
            .arg(&path)
            .arg("--out-dir")
            .arg(dir.path().join("reports"));
        let printed = run(compare);
        assert_eq!(printed.code, Some(2), "{printed:#?}");
        secrets
            .search
            .assert_printed_without(&format!("compare, a config file, {name}"), &printed);
    }
}

// ---------------------------------------------------------------------------------------------
// ocp-harness given the password

/// The run an `engine.toml` that `ocp-harness generate` wrote in `out` describes (to a file).
fn request_of(out: &Path) -> RunRequest {
    let config = ConfigFile::load(&out.join("engine.toml")).unwrap_or_else(|e| {
        panic!("{}: {e}", out.join("engine.toml").display());
    });
    resolve_request(
        config,
        Overrides {
            out: Some(out.join("unused.parquet")),
            ..Overrides::default()
        },
    )
    .expect("the generated engine.toml resolves")
}

/// `ocp-engine aggregate` of `request`'s month from `input` into `schema` at `url`, logs in
/// `format`, the account `request`'s; the compatibility is the input's default.
fn engine_into(
    request: &RunRequest,
    input: &str,
    url: &str,
    schema: &str,
    format: Format,
) -> Command {
    let mut command = engine_defaulting_the_account(request, input, url, schema, format);
    command.args(["--account", &request.account]);
    command
}

/// [`engine_into`] without `--account`: the engine takes the schema's.
fn engine_defaulting_the_account(
    request: &RunRequest,
    input: &str,
    url: &str,
    schema: &str,
    format: Format,
) -> Command {
    let mut command = engine();
    command
        .args(["aggregate", "--log-format", format.flag(), "--input", input])
        .args(["--source", &request.source_uuid.to_string()])
        .args(["--start", &request.start.to_string()])
        .args(["--end", &request.end.to_string()])
        .args(["--postgres-url", url, "--schema", schema]);
    command
}

/// An engine config for `compare`'s site oracles: the location and run of the engine.toml in
/// `out`, the catalog from koku's tables in `schema` at `url`.
fn site_config(out: &Path, url: &str, schema: &str) -> PathBuf {
    let mut config = ConfigFile::load(&out.join("engine.toml")).expect("the generated config");
    config.catalog = None;
    config.postgres.url = Some(url.to_string());
    config.postgres.schema = Some(schema.to_string());
    let path = out.join(format!("site-{}.toml", Uuid::new_v4().simple()));
    std::fs::write(&path, config.to_toml()).expect("write the site config");
    path
}

/// `ocp-harness generate --to-postgres`, `load-onprem` (URL from the environment) and `compare
/// --oracle koku-postgres` (URL in the config file, or `KOKU_POSTGRES_URL`), each given a URL
/// with the password, on success and with the server unreachable: nothing they print or
/// write shows it.
#[tokio::test]
async fn ocp_harness_never_prints_or_writes_the_password() {
    let password = new_password();
    let url = with_password(testkit::server_url(), &password);
    let mut search = Search::new(&password);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (client, schema) = testkit::fresh_schema("secrets_harness").await;

    let out = dir.path().join("cluster");
    let mut command = harness();
    command
        .args(["generate", "--scale", "tiny", "--seed", "1518", "--out"])
        .arg(&out)
        .args(["--to-postgres", &url, "--schema", &schema]);
    search.assert_finds("generate's command line", &given(&command));
    let printed = run(command);
    assert_eq!(printed.code, Some(0), "{printed:#?}");
    search.assert_printed_without("generate --to-postgres", &printed);
    let request = request_of(&out);

    let mut command = harness();
    command
        .args(["generate", "--scale", "tiny", "--out"])
        .arg(dir.path().join("unreachable"))
        .args([
            "--to-postgres",
            &unreachable_url(&password),
            "--schema",
            &schema,
        ]);
    search.assert_finds("generate's command line", &given(&command));
    let printed = run(command);
    assert_eq!(printed.code, Some(1), "{printed:#?}");
    assert!(printed.stderr.contains("refused"), "{printed:#?}");
    search.assert_printed_without("generate --to-postgres, server unreachable", &printed);

    let (_, onprem_schema) = testkit::fresh_schema("secrets_load").await;
    for (target, code) in [(url.clone(), 0), (unreachable_url(&password), 1)] {
        let mut command = harness();
        command
            .args(["load-onprem", "--input"])
            .arg(&out)
            .args(["--account", &request.account, "--schema", &onprem_schema])
            .env("OCP_ENGINE_POSTGRES_URL", &target);
        search.assert_finds("load-onprem's environment", &given(&command));
        let printed = run(command);
        assert_eq!(printed.code, Some(code), "{printed:#?}");
        search.assert_printed_without(&format!("load-onprem, exit {code}"), &printed);
    }

    // koku's rows for the koku-postgres oracle: the engine's, written with the password too.
    let command = engine_into(&request, &request.location, &url, &schema, Format::Text);
    search.assert_finds("the engine's command line", &given(&command));
    let printed = run(command);
    assert_eq!(printed.code, Some(0), "{printed:#?}");
    search.assert_printed_without("the engine writing koku's rows", &printed);

    let config = site_config(&out, &url, &schema);
    search.assert_finds(
        "compare's config file",
        &std::fs::read_to_string(&config).expect("read it back"),
    );
    let reports = dir.path().join("reports");
    let mut command = harness();
    command
        .args(["compare", "--oracle", "koku-postgres", "--config"])
        .arg(&config)
        .arg("--out-dir")
        .arg(&reports);
    let printed = run(command);
    assert_eq!(printed.code, Some(0), "compare says GO: {printed:#?}");
    search.assert_printed_without("compare --oracle koku-postgres", &printed);
    let files = search.assert_files_without("compare's report", &reports);
    assert!(files >= 4, "report.txt, .md, .html, .json: {files} files");

    // The oracle's server unreachable (KOKU_POSTGRES_URL), then the engine's (the config).
    let failed_reports = dir.path().join("failed-reports");
    let unreachable_config = site_config(&out, &unreachable_url(&password), &schema);
    for (what, config, env) in [
        (
            "the oracle's server",
            &config,
            Some(unreachable_url(&password)),
        ),
        ("the engine's server", &unreachable_config, None),
    ] {
        let mut command = harness();
        command
            .args(["compare", "--oracle", "koku-postgres", "--config"])
            .arg(config)
            .arg("--out-dir")
            .arg(&failed_reports);
        if let Some(env) = env {
            command.env("KOKU_POSTGRES_URL", env);
            search.assert_finds("compare's environment", &given(&command));
        }
        let printed = run(command);
        assert_eq!(printed.code, Some(3), "{what} unreachable: {printed:#?}");
        assert!(printed.stderr.contains("refused"), "{printed:#?}");
        search.assert_printed_without(&format!("compare, {what} unreachable"), &printed);
    }
    if failed_reports.exists() {
        search.assert_files_without("a failed compare's folder", &failed_reports);
    }
    search.assert_tables_without(&client, &schema).await;
}

/// `compare --oracle-config FILE` whose `[koku_postgres] url` line does not parse: exit 2, and
/// the message must not carry the line.
#[tokio::test]
async fn an_oracle_config_line_that_does_not_parse_is_not_echoed() {
    let password = new_password();
    let url = with_password(testkit::server_url(), &password);
    let mut search = Search::new(&password);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (_client, schema) = testkit::fresh_schema("secrets_oracle_toml").await;
    let out = dir.path().join("cluster");
    let mut command = harness();
    command
        .args(["generate", "--scale", "tiny", "--out"])
        .arg(&out);
    assert_eq!(run(command).code, Some(0));
    let config = site_config(&out, testkit::server_url(), &schema);
    let oracle_config = dir.path().join("oracle.toml");
    let text = format!("[koku_postgres]\nurl = {url}\n");
    std::fs::write(&oracle_config, &text).expect("write the oracle config");
    search.assert_finds("the oracle config", &text);
    let mut command = harness();
    command
        .args(["compare", "--oracle", "koku-postgres", "--config"])
        .arg(&config)
        .arg("--oracle-config")
        .arg(&oracle_config)
        .arg("--out-dir")
        .arg(dir.path().join("reports"));
    let printed = run(command);
    assert_eq!(printed.code, Some(2), "{printed:#?}");
    assert!(printed.stderr.contains("oracle.toml"), "{printed:#?}");
    search.assert_printed_without("compare, an oracle config that does not parse", &printed);
}

// ---------------------------------------------------------------------------------------------
// A schema named like an injection

/// The name: a double quote (ends a quoted identifier), a single quote (ends a literal), a
/// semicolon and a statement after it, a comment, spaces, a capital (folded when unquoted).
const HOSTILE: &str = "acct\"X'; DROP SCHEMA public; --y z";

/// The account folder of the hostile tenants' Parquet.
const PLAIN_ACCOUNT: &str = "org1519";

/// `ocp-harness generate --to-postgres` of a tiny cluster (`seed`) into `out` and tenant
/// `schema` at `url`, its Parquet under [`PLAIN_ACCOUNT`]; what it printed.
fn hostile_tenant(out: &Path, url: &str, schema: &str, seed: u64) -> Printed {
    let mut command = harness();
    command
        .args([
            "generate",
            "--scale",
            "tiny",
            "--seed",
            &seed.to_string(),
            "--out",
        ])
        .arg(out)
        .args(["--to-postgres", url, "--schema", schema])
        .args(["--account", PLAIN_ACCOUNT]);
    let printed = run(command);
    assert_eq!(printed.code, Some(0), "{printed:#?}");
    printed
}

/// Every schema of the server.
async fn schema_names(client: &Client) -> BTreeSet<String> {
    client
        .query("SELECT nspname::text FROM pg_namespace", &[])
        .await
        .expect("list the schemas")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// Every relation of `schema`, as `name kind`.
async fn relations_of(client: &Client, schema: &str) -> Vec<String> {
    client
        .query(
            "SELECT c.relname::text || ' ' || c.relkind::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY 1",
            &[&schema],
        )
        .await
        .expect("list the relations")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// For each schema holding `table`, how many of its rows have `column` in `values`.
async fn rows_with(
    client: &Client,
    table: &str,
    column: &str,
    values: &[Uuid],
) -> Vec<(String, i64)> {
    let schemas: Vec<String> = client
        .query(
            "SELECT n.nspname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1",
            &[&table],
        )
        .await
        .expect("list the schemas holding the table")
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut counts = Vec::new();
    for schema in schemas {
        let count: i64 = client
            .query_one(
                &format!(
                    "SELECT count(*) FROM {}.{} WHERE {} = ANY($1)",
                    quote_ident(&schema),
                    quote_ident(table),
                    quote_ident(column)
                ),
                &[&values],
            )
            .await
            .unwrap_or_else(|e| panic!("count in {schema}.{table}: {e}"))
            .get(0);
        if count > 0 {
            counts.push((schema, count));
        }
    }
    counts
}

/// The last JSON event of a run that succeeded.
#[track_caller]
fn finished(printed: &Printed) -> Value {
    assert_eq!(printed.code, Some(0), "{printed:#?}");
    let events = events(&printed.stderr);
    let last = events.last().expect("an event").clone();
    assert_eq!(last["event"], "run_finished", "{last}");
    last
}

#[tokio::test]
async fn a_schema_named_like_an_injection_is_only_ever_a_name() {
    let schema = format!("{HOSTILE}_{}", &Uuid::new_v4().simple().to_string()[..8]);
    let url = testkit::server_url();
    let admin = other_session().await;
    let schemas_before = schema_names(&admin).await;
    let public_before = relations_of(&admin, "public").await;
    assert!(schemas_before.contains("public"));
    let dir = tempfile::tempdir().expect("a temporary folder");

    // The harness makes it a koku tenant: on-prem tables loaded, koku's tables, the catalog and
    // the report period (load_parquet_tree, write_model_catalog). Its Parquet goes under a plain
    // account: the one koku would derive from this schema cannot name a folder as it is, and
    // the engine refuses it (`a_hostile_schema_as_the_default_account_is_refused_…`).
    let tenant = dir.path().join("tenant");
    let printed = hostile_tenant(&tenant, url, &schema, 1519);
    assert!(printed.stdout.contains(&schema), "{}", printed.stdout);
    let request = request_of(&tenant);
    assert_eq!(request.account, PLAIN_ACCOUNT);

    // The engine from Parquet (text), then again (JSON): the month replaced.
    let printed = run(engine_into(
        &request,
        &request.location,
        url,
        &schema,
        Format::Text,
    ));
    assert_eq!(printed.code, Some(0), "{printed:#?}");
    assert!(
        printed
            .stdout
            .contains(&format!("PostgreSQL schema {schema} (0 old rows deleted)")),
        "{}",
        printed.stdout
    );
    let first = MonthState::read(&admin, &schema).await;
    assert!(first.rows > 0, "rows written");
    assert_eq!(first.runs, 1);

    let second = finished(&run(engine_into(
        &request,
        &request.location,
        url,
        &schema,
        Format::Json,
    )));
    assert_eq!(second["schema"], schema.as_str(), "{second}");
    assert_eq!(second["rows_deleted"], first.rows, "{second}");
    let replaced = MonthState::read(&admin, &schema).await;
    assert_eq!(
        (
            replaced.rows,
            replaced.duplicate_rows,
            replaced.duplicate_nodes,
            replaced.runs
        ),
        (first.rows, 0, 0, 2),
        "the month replaced, not doubled"
    );

    // The koku-postgres oracle reads the rows the engine wrote there.
    let config = site_config(&tenant, url, &schema);
    let mut compare = harness();
    compare
        .args([
            "compare",
            "--oracle",
            "koku-postgres",
            "--quiet",
            "--config",
        ])
        .arg(&config)
        .arg("--out-dir")
        .arg(dir.path().join("reports"));
    let printed = run(compare);
    assert_eq!(printed.code, Some(0), "compare says GO: {printed:#?}");

    // From koku's on-prem tables in the schema (the input's default: koku's PostgreSQL port).
    let third = finished(&run(engine_into(&request, url, url, &schema, Format::Json)));
    assert_eq!(third["rows_deleted"], first.rows, "{third}");
    assert_eq!(third["input"], url, "{third}");
    let last = MonthState::read(&admin, &schema).await;
    assert!(
        last.rows > 0 && last.duplicate_rows == 0 && last.runs == 3,
        "{last:?}"
    );

    // The DDL the engine prints for the name runs as it is.
    let mut ddl = engine();
    ddl.args(["ddl", "--schema", &schema]);
    let printed = run(ddl);
    assert_eq!(printed.code, Some(0), "{printed:#?}");
    admin
        .batch_execute(&printed.stdout)
        .await
        .expect("the DDL for the schema runs");

    // Nowhere else: public as it was, no schema named after a piece of the name, and the runs
    // and the rows in this schema only.
    assert_eq!(relations_of(&admin, "public").await, public_before);
    let new: Vec<String> = schema_names(&admin)
        .await
        .difference(&schemas_before)
        .filter(|name| {
            *name != &schema
                && (schema.contains(name.as_str()) || name.to_lowercase().contains("drop"))
        })
        .cloned()
        .collect();
    assert!(
        new.is_empty(),
        "schemas made of pieces of the name: {new:?}"
    );
    let run_ids: Vec<Uuid> = admin
        .query(
            &format!("SELECT run_id FROM {}.{RUNS}", quote_ident(&schema)),
            &[],
        )
        .await
        .expect("read the runs")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(run_ids.len(), 3);
    assert_eq!(
        rows_with(&admin, RUNS, "run_id", &run_ids).await,
        vec![(schema.clone(), 3)]
    );
    let row_ids: Vec<Uuid> = admin
        .query(
            &format!("SELECT uuid FROM {}.{SUMMARY}", quote_ident(&schema)),
            &[],
        )
        .await
        .expect("read the rows")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        rows_with(&admin, SUMMARY, "uuid", &row_ids).await,
        vec![(schema.clone(), last.rows)]
    );
}

/// The account defaults to the schema without its leading `acct` (docs/operations.md), and
/// `ocp-harness generate --to-postgres` writes the Parquet under that account, as koku does:
/// the engine given the schema alone must find the files there.
/// An account (here the schema's, by default) with a character object_store percent-encodes in
/// a path cannot name koku's folder as written: the engine refuses it up front, naming the
/// setting, rather than list another folder and report no data.
#[tokio::test]
async fn a_hostile_schema_as_the_default_account_is_refused_naming_the_account() {
    let schema = format!("{HOSTILE}_{}", &Uuid::new_v4().simple().to_string()[..8]);
    let url = testkit::server_url();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let tenant = dir.path().join("tenant");
    hostile_tenant(&tenant, url, &schema, 1520);
    let request = request_of(&tenant);
    let command =
        engine_defaulting_the_account(&request, &request.location, url, &schema, Format::Json);
    let printed = run(command);
    assert_eq!(printed.code, Some(2), "{printed:#?}");
    let events = events(&printed.stderr);
    let last = events.last().expect("a run_failed event");
    assert_eq!(last["event"], "run_failed", "{last}");
    assert_eq!(last["problem"], "setting", "{last}");
    assert_eq!(last["place"][0], "source.account", "{last}");
}
