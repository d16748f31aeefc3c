//! A real PostgreSQL for tests.
//!
//! The project's rule: a test that needs PostgreSQL uses the server on `127.0.0.1:5432` when it
//! answers, and otherwise starts a throwaway cluster from the machine's PostgreSQL binaries. When
//! neither is possible the test fails with a message saying what was tried and what to install;
//! it never skips.
//!
//! `OCP_TEST_PG` chooses the path: unset, empty or `auto` (the rule above), `throwaway` (always
//! start a throwaway cluster, even when 5432 answers), `local` (only 5432, no fallback).

use std::ffi::OsStr;
use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ocp_engine::postgres::koku_tables_sql;
use ocp_harness::koku_catalog;
use tokio_postgres::{Client, NoTls};

/// The URL of the server on 127.0.0.1:5432 (trust auth, user `postgres`).
pub const LOCAL_URL: &str = "postgresql://postgres@127.0.0.1:5432/postgres";

/// What to tell a person whose machine has no PostgreSQL at all.
const INSTALL_HINT: &str = "Install the PostgreSQL server binaries (Debian/Ubuntu: \
    `apt-get install postgresql`; they land in /usr/lib/postgresql/<version>/bin), or run a \
    server on 127.0.0.1:5432 that lets user `postgres` in without a password.";

/// The URL of the PostgreSQL server every test of this process shares.
///
/// Decided once per process (later calls return the same URL at once) and synchronous, so it can
/// be called from any test, inside or outside a tokio runtime. Tests share the URL, not a
/// connection: each test connects on its own runtime (see [`fresh_schema`]).
///
/// Unless `OCP_TEST_PG` says otherwise, it is [`LOCAL_URL`] when 127.0.0.1:5432 accepts a TCP
/// connection and answers `SELECT 1` as user `postgres`; otherwise a throwaway cluster is started
/// (see [`start_throwaway`]) and kept until the process exits, when a watchdog stops it and
/// removes its files.
///
/// # Panics
/// When no server can be had: the message says what was tried, why each failed, and what to
/// install. Every later call panics with the same message.
pub fn server_url() -> &'static str {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    match SERVER.get_or_init(choose_server) {
        Ok(url) => url,
        Err(message) => panic!("{message}"),
    }
}

fn choose_server() -> Result<String, String> {
    let mode = std::env::var("OCP_TEST_PG").unwrap_or_default();
    match mode.trim() {
        "" | "auto" => match probe(LOCAL_URL) {
            Ok(()) => Ok(LOCAL_URL.to_string()),
            Err(local) => match try_start_throwaway() {
                Ok(server) => Ok(leak_url(server)),
                Err(throwaway) => Err(format!(
                    "no PostgreSQL for the tests.\n  tried 127.0.0.1:5432: {local}\n  tried a \
                     throwaway cluster: {throwaway}\n{INSTALL_HINT}"
                )),
            },
        },
        "throwaway" => try_start_throwaway().map(leak_url).map_err(|e| {
            format!(
                "OCP_TEST_PG=throwaway, but no throwaway cluster could start: {e}\n{INSTALL_HINT}"
            )
        }),
        "local" => probe(LOCAL_URL)
            .map(|()| LOCAL_URL.to_string())
            .map_err(|e| {
                format!("OCP_TEST_PG=local, but 127.0.0.1:5432 does not serve the tests: {e}")
            }),
        other => Err(format!(
            "OCP_TEST_PG={other:?} is not understood: use `auto` (or leave it unset), \
             `throwaway` or `local`"
        )),
    }
}

/// Keeps the process-wide throwaway server alive until the process exits (its watchdog then
/// cleans up) and returns its URL.
fn leak_url(server: ThrowawayPostgres) -> String {
    let url = server.url.clone();
    std::mem::forget(server);
    url
}

/// Checks that `url` answers as PostgreSQL: a TCP connect with a short timeout, then a real
/// connection and `SELECT 1` on a private runtime in its own thread (so this works from inside
/// any runtime).
fn probe(url: &str) -> Result<(), String> {
    let config: tokio_postgres::Config = url.parse().map_err(|e| format!("bad URL {url}: {e}"))?;
    if let (Some(tokio_postgres::config::Host::Tcp(host)), Some(port)) =
        (config.get_hosts().first(), config.get_ports().first())
    {
        let addr: SocketAddr = format!("{host}:{port}")
            .parse()
            .map_err(|e| format!("bad address {host}:{port}: {e}"))?;
        TcpStream::connect_timeout(&addr, Duration::from_millis(500))
            .map_err(|e| format!("no TCP answer on {addr}: {e}"))?;
    }
    let url = url.to_string();
    std::thread::spawn(move || -> Result<(), String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot build a tokio runtime: {e}"))?;
        runtime.block_on(async {
            let attempt = async {
                let (client, connection) = tokio_postgres::connect(&url, NoTls).await?;
                let driver = tokio::spawn(connection);
                let row = client.query_one("SELECT 1::int4", &[]).await?;
                drop(client);
                let _ = driver.await;
                Ok::<i32, tokio_postgres::Error>(row.get(0))
            };
            match tokio::time::timeout(Duration::from_secs(5), attempt).await {
                Ok(Ok(1)) => Ok(()),
                Ok(Ok(other)) => Err(format!("SELECT 1 returned {other}")),
                Ok(Err(e)) => Err(format!("not usable as user postgres: {e}")),
                Err(_) => Err("no PostgreSQL answer within 5 s".to_string()),
            }
        })
    })
    .join()
    .map_err(|_| "the probe thread panicked".to_string())?
}

/// A PostgreSQL cluster of this process: its own data directory in a temporary folder, its own
/// loopback port, trust auth for user `postgres`, `fsync=off`.
///
/// Stopped (immediate shutdown) and its folder removed by [`ThrowawayPostgres::stop`] or on drop;
/// if the process dies first, a detached watchdog started with the cluster does both within about
/// a second of the process's end.
pub struct ThrowawayPostgres {
    url: String,
    port: u16,
    root: Option<tempfile::TempDir>,
    data_dir: PathBuf,
    bin_dir: PathBuf,
    run_as: Option<(u32, u32)>,
    watchdog: Option<Child>,
}

impl ThrowawayPostgres {
    /// `postgresql://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The loopback port the cluster listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The folder of the PostgreSQL binaries used (initdb, pg_ctl, postgres).
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// Stops the cluster now and removes its files (the same as dropping it).
    pub fn stop(self) {}

    /// Restarts the server as an operator's `pg_ctl restart -m fast` does: every session is
    /// ended (open transactions rolled back), then the server answers again on the same port.
    ///
    /// # Panics
    /// When `pg_ctl` fails; the message quotes it.
    pub fn restart(&self) {
        let root = self
            .root
            .as_ref()
            .expect("a running cluster has its folder");
        let log_file = root.path().join("postgres.log");
        let output = self
            .command("pg_ctl", root.path())
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(&log_file)
            .args(["-w", "-t", "60", "-m", "fast", "restart"])
            .output()
            .expect("run pg_ctl restart");
        assert!(
            output.status.success(),
            "pg_ctl restart failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn shutdown(&mut self) {
        let Some(root) = self.root.take() else { return };
        let _ = self
            .command("pg_ctl", root.path())
            .arg("-D")
            .arg(&self.data_dir)
            .args(["stop", "-m", "immediate", "-w", "-t", "30"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        drop(root);
    }

    fn command(&self, program: &str, cwd: &Path) -> Command {
        pg_command(&self.bin_dir, program, cwd, self.run_as)
    }
}

impl Drop for ThrowawayPostgres {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for ThrowawayPostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThrowawayPostgres")
            .field("url", &self.url)
            .field("data_dir", &self.data_dir)
            .field("bin_dir", &self.bin_dir)
            .finish_non_exhaustive()
    }
}

/// Starts a new throwaway cluster (see [`ThrowawayPostgres`]) and waits until it answers
/// `SELECT 1`. Independent of [`server_url`]: each call starts another cluster.
///
/// Blocks for a second or a few (initdb and start); from an async test, call it through
/// `tokio::task::spawn_blocking` or accept that the test's runtime waits.
///
/// Finds `initdb`, `pg_ctl` and `postgres` in one folder on `PATH`, else in the newest
/// `/usr/lib/postgresql/*/bin` (also `/usr/pgsql-*/bin`, `/usr/local/pgsql/bin`). When the
/// process runs as root (initdb and postgres refuse root), the cluster runs as the `postgres`
/// system user, which must exist.
///
/// # Panics
/// When the cluster cannot start; the message says why and what to install.
pub fn start_throwaway() -> ThrowawayPostgres {
    try_start_throwaway()
        .unwrap_or_else(|e| panic!("cannot start a throwaway PostgreSQL: {e}\n{INSTALL_HINT}"))
}

fn try_start_throwaway() -> Result<ThrowawayPostgres, String> {
    let bin_dir = find_bin_dir()?;
    let run_as = if effective_uid() == Some(0) {
        Some(postgres_user_ids()?)
    } else {
        None
    };

    // The `postgres` user must reach the folder: under root's own TMPDIR it might not, so a
    // cluster run as `postgres` lives in /tmp.
    let parent = match run_as {
        Some(_) if Path::new("/tmp").is_dir() => PathBuf::from("/tmp"),
        _ => std::env::temp_dir(),
    };
    let root = tempfile::Builder::new()
        .prefix("ocp-test-pg-")
        .tempdir_in(&parent)
        .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    if let Some((uid, gid)) = run_as {
        std::os::unix::fs::chown(root.path(), Some(uid), Some(gid)).map_err(|e| {
            format!(
                "cannot hand {} to user postgres: {e}",
                root.path().display()
            )
        })?;
    }
    let data_dir = root.path().join("data");
    let socket_dir = root.path().join("socket");
    let log_file = root.path().join("postgres.log");

    let initdb = pg_command(&bin_dir, "initdb", root.path(), run_as)
        .arg("-D")
        .arg(&data_dir)
        .args([
            "--auth=trust",
            "-U",
            "postgres",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin_dir.join("initdb").display()))?;
    if !initdb.status.success() {
        return Err(format!(
            "{} failed ({}): {}{}",
            bin_dir.join("initdb").display(),
            initdb.status,
            String::from_utf8_lossy(&initdb.stdout),
            String::from_utf8_lossy(&initdb.stderr)
        ));
    }
    fs::create_dir_all(&socket_dir)
        .map_err(|e| format!("cannot create {}: {e}", socket_dir.display()))?;
    if let Some((uid, gid)) = run_as {
        std::os::unix::fs::chown(&socket_dir, Some(uid), Some(gid))
            .map_err(|e| format!("cannot hand {} to user postgres: {e}", socket_dir.display()))?;
    }

    let mut last_error = String::new();
    for _attempt in 0..3 {
        let port = free_port()?;
        let settings = format!(
            "\n# ocp-harness throwaway cluster\nlisten_addresses = '127.0.0.1'\nport = {port}\n\
             unix_socket_directories = '{}'\nfsync = off\nsynchronous_commit = off\n\
             full_page_writes = off\nmax_connections = 200\n",
            socket_dir.display()
        );
        let conf = data_dir.join("postgresql.auto.conf");
        fs::write(&conf, format!("# written by ocp-harness{settings}"))
            .map_err(|e| format!("cannot write {}: {e}", conf.display()))?;
        if let Some((uid, gid)) = run_as {
            let _ = std::os::unix::fs::chown(&conf, Some(uid), Some(gid));
        }

        let start = pg_command(&bin_dir, "pg_ctl", root.path(), run_as)
            .arg("-D")
            .arg(&data_dir)
            .arg("-l")
            .arg(&log_file)
            .args(["-w", "-t", "60", "start"])
            .output()
            .map_err(|e| format!("cannot run {}: {e}", bin_dir.join("pg_ctl").display()))?;
        if !start.status.success() {
            let log = fs::read_to_string(&log_file).unwrap_or_default();
            last_error = format!(
                "pg_ctl start failed ({}): {}{}\nserver log:\n{log}",
                start.status,
                String::from_utf8_lossy(&start.stdout),
                String::from_utf8_lossy(&start.stderr)
            );
            // Most likely someone took the port in between; try another.
            continue;
        }

        let url = format!("postgresql://postgres@127.0.0.1:{port}/postgres");
        let mut server = ThrowawayPostgres {
            url,
            port,
            root: None,
            data_dir: data_dir.clone(),
            bin_dir: bin_dir.clone(),
            run_as,
            watchdog: None,
        };
        let watchdog = spawn_watchdog(&bin_dir, &data_dir, root.path(), run_as);
        // From here on, dropping `server` stops the cluster and removes its folder.
        server.root = Some(root);
        server.watchdog = Some(watchdog?);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match probe(&server.url) {
                Ok(()) => return Ok(server),
                Err(e) if Instant::now() > deadline => {
                    return Err(format!(
                        "the cluster started but does not answer on {}: {e}",
                        server.url
                    ))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
    Err(last_error)
}

/// A command for one of the cluster's programs, run in `cwd` (the cluster's folder, so a user
/// without access to the test's working directory is fine), as `run_as` when given.
fn pg_command(bin_dir: &Path, program: &str, cwd: &Path, run_as: Option<(u32, u32)>) -> Command {
    user_command(bin_dir.join(program).as_os_str(), cwd, run_as)
}

/// `program` run in `cwd`, as `run_as` (uid, gid) when given, with no standard input.
fn user_command(program: &OsStr, cwd: &Path, run_as: Option<(u32, u32)>) -> Command {
    let mut command = Command::new(program);
    command.current_dir(cwd).stdin(Stdio::null());
    if let Some((uid, gid)) = run_as {
        // std drops the supplementary groups when root changes uid.
        command.uid(uid).gid(gid);
    }
    command
}

/// Starts a detached shell that waits until this process is gone, then stops the cluster and
/// removes its folder. Own process group, so a Ctrl-C on the test run does not kill it first.
fn spawn_watchdog(
    bin_dir: &Path,
    data_dir: &Path,
    root: &Path,
    run_as: Option<(u32, u32)>,
) -> Result<Child, String> {
    // `/proc/PID` rather than `kill -0`: the watchdog may run as another user than the tests.
    const SCRIPT: &str = r#"while [ -d "/proc/$1" ]; do sleep 1; done
"$2" -D "$3" stop -m immediate -w -t 30 >/dev/null 2>&1
rm -rf "$4""#;
    let mut command = user_command(OsStr::new("sh"), root, run_as);
    command
        .arg("-c")
        .arg(SCRIPT)
        .arg("ocp-test-pg-watchdog")
        .arg(std::process::id().to_string())
        .arg(bin_dir.join("pg_ctl"))
        .arg(data_dir)
        .arg(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    command
        .spawn()
        .map_err(|e| format!("cannot start the watchdog shell (sh): {e}"))
}

/// The first folder holding `initdb`, `pg_ctl` and `postgres`: `PATH` first, then the usual
/// install folders, newest version first.
fn find_bin_dir() -> Result<PathBuf, String> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    let mut versioned: Vec<(Vec<u32>, PathBuf)> = Vec::new();
    for (parent, prefix, suffix) in [
        ("/usr/lib/postgresql", "", "bin"),
        ("/usr", "pgsql-", "bin"),
    ] {
        let Ok(entries) = fs::read_dir(parent) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(version) = name.strip_prefix(prefix) else {
                continue;
            };
            let key: Vec<u32> = version.split('.').map(|p| p.parse().unwrap_or(0)).collect();
            if key.first().is_some_and(|major| *major > 0) {
                versioned.push((key, entry.path().join(suffix)));
            }
        }
    }
    versioned.sort_by(|a, b| b.0.cmp(&a.0));
    candidates.extend(versioned.into_iter().map(|(_, dir)| dir));
    candidates.push(PathBuf::from("/usr/local/pgsql/bin"));

    candidates
        .into_iter()
        .find(|dir| {
            ["initdb", "pg_ctl", "postgres"]
                .iter()
                .all(|p| dir.join(p).is_file())
        })
        .ok_or_else(|| {
            "found no folder with initdb, pg_ctl and postgres on PATH, under \
             /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin or /usr/local/pgsql/bin"
                .to_string()
        })
}

/// The effective uid of this process, from /proc/self/status (Linux).
fn effective_uid() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// The uid and gid of the `postgres` system user.
fn postgres_user_ids() -> Result<(u32, u32), String> {
    let id = |flag: &str| -> Result<u32, String> {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .map_err(|e| format!("cannot run `id {flag} postgres`: {e}"))?;
        if !out.status.success() {
            return Err(
                "the tests run as root, and initdb/postgres refuse to run as root, but \
                        there is no `postgres` system user to run them as (installing the \
                        postgresql package creates it; or run the tests as a non-root user)"
                    .to_string(),
            );
        }
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|e| format!("`id {flag} postgres` printed no number: {e}"))
    };
    Ok((id("-u")?, id("-g")?))
}

/// A loopback port nobody listens on right now.
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot bind a loopback port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot read the bound port: {e}"))
}

/// Connects to [`server_url`] (the connection is driven on the current tokio runtime), creates a
/// new schema named `prefix` (lowercased, at most 40 characters) + `_` + 8 random hex digits, and
/// runs the project's DDL ([`ocp_engine::postgres::koku_tables_sql`]) in it.
///
/// Returns the client and the schema name (unquoted). Schemas are not dropped afterwards: their
/// names never repeat, and a throwaway cluster vanishes with the process.
///
/// # Panics
/// When there is no server (see [`server_url`]) or the DDL fails.
pub async fn fresh_schema(prefix: &str) -> (Client, String) {
    let url = server_url();
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL at {url}: {e}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut base: String = prefix.to_lowercase().chars().take(40).collect();
    if base.is_empty() {
        base.push_str("test");
    }
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let schema = format!("{base}_{}", &suffix[..8]);
    client
        .batch_execute(&koku_tables_sql(&schema))
        .await
        .unwrap_or_else(|e| panic!("the koku DDL failed in schema {schema} at {url}: {e}"));
    (client, schema)
}

/// [`koku_catalog::enable_tag_keys`]: `keys` enabled for OCP in `schema`.
///
/// # Panics
/// When an insert fails.
pub async fn enable_tag_keys(client: &Client, schema: &str, keys: &[&str]) {
    koku_catalog::enable_tag_keys(client, schema, keys)
        .await
        .unwrap_or_else(|e| panic!("cannot enable tag keys {keys:?} in {schema}: {e}"));
}

/// [`koku_catalog::add_cost_category_patterns`]: each `(pattern, category_name)` in `schema`;
/// returns the category id of each pair, in the order given.
///
/// # Panics
/// When a statement fails.
pub async fn add_cost_category_patterns(
    client: &Client,
    schema: &str,
    patterns: &[(&str, &str)],
) -> Vec<i32> {
    koku_catalog::add_cost_category_patterns(client, schema, patterns)
        .await
        .unwrap_or_else(|e| panic!("cannot add cost categories {patterns:?} in {schema}: {e}"))
}

/// [`koku_catalog::add_report_period`]: the report period of a cluster's `year`-`month` for
/// source `source_uuid` (text form of a uuid); returns its `id`.
///
/// # Panics
/// When `source_uuid` is not a uuid, `month` is not 1..=12, or the insert fails.
pub async fn add_report_period(
    client: &Client,
    schema: &str,
    source_uuid: &str,
    cluster_id: &str,
    cluster_alias: &str,
    year: i32,
    month: u32,
) -> i32 {
    assert!(
        (1..=12).contains(&month),
        "add_report_period: month {month} is not 1..=12"
    );
    let source = uuid::Uuid::parse_str(source_uuid)
        .unwrap_or_else(|e| panic!("add_report_period: {source_uuid:?} is not a uuid: {e}"));
    koku_catalog::add_report_period(
        client,
        schema,
        source,
        cluster_id,
        cluster_alias,
        year,
        month,
    )
    .await
    .unwrap_or_else(|e| {
        panic!(
            "cannot add report period {year}-{month:02} of cluster {cluster_id} in {schema}: {e}"
        )
    })
}
