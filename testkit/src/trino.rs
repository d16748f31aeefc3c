//! A real Trino for tests and benches: a single node on loopback, started on first use.
//!
//! The server is the one `just trino-setup` installed (`testkit/trino/setup.sh`: the version
//! pinned in `testkit/trino/pom.xml`, unpacked under `~/.cache/koku-ocp/trino-server-<version>`,
//! or `OCP_TRINO_HOME`), run by a JDK 24 or newer (Trino 476 refuses older ones). It is one
//! coordinator that also schedules work on itself, on a free loopback port, with a small heap
//! (`OCP_TRINO_HEAP`, default `2G`) and only koku's two catalogs:
//! - `hive`: the Hive connector with the file metastore and the native local file system rooted
//!   at `/` (`local:///tmp/…` is the folder `/tmp/…`), so koku's line-item tables can be external
//!   tables over a scenario's Parquet folders, as koku's are over its bucket;
//! - `postgres`: the PostgreSQL connector on the tests' PostgreSQL ([`crate::server_url`]).
//!
//! [`local_trino`] gives the process-wide server: started once, waited for until it answers, and
//! stopped (its folder removed) by a watchdog when the test process ends. A missing install or
//! JDK makes it panic with what to run or install; a test that needs Trino never skips.
//! [`koku_site`](crate::koku_site) puts koku's tables for one run into it.

use std::ffi::OsString;
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::postgres::server_url;
use ocp_harness::oracle::settings::{TrinoSection, TrinoSettings};
use ocp_harness::oracle::TrinoSession;

/// How often Trino's scheduler refreshes its map of the nodes it may use.
const SCHEDULER_REFRESH: Duration = Duration::from_secs(5);

/// The pin of the Trino version: `testkit/trino/pom.xml`, whose `trino.version` `just
/// trino-setup` fetches.
const POM: &str = include_str!("../trino/pom.xml");

/// How long a start may take before it is given up (a loaded 2-core machine needs about 30 s).
const START_TIMEOUT: Duration = Duration::from_secs(240);

/// The Trino version the project pins (`trino.version` of `testkit/trino/pom.xml`).
pub fn pinned_version() -> &'static str {
    let start = POM
        .find("<trino.version>")
        .expect("pom.xml pins trino.version")
        + 15;
    let end = start + POM[start..].find('<').expect("trino.version is closed");
    &POM[start..end]
}

/// A Trino server of this process (see the module documentation).
pub struct LocalTrino {
    url: String,
    version: String,
    pid: u32,
    started_in: Duration,
    root: PathBuf,
    child: Child,
    watchdog: Child,
}

impl LocalTrino {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's version, as pinned.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Wall time from starting the JVM to the first answer.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The server process's peak resident memory so far (`VmHWM` of the JVM), in bytes.
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// A folder of the server's own, for what koku keeps beside its tables (schema locations,
    /// empty table folders); removed with the server.
    pub fn scratch(&self) -> PathBuf {
        self.root.join("warehouse")
    }

    /// The server log (JVM output), for error messages.
    pub fn log_path(&self) -> PathBuf {
        self.root.join("server.log")
    }
}

impl Drop for LocalTrino {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// The Trino every test of this process shares, started on first use.
///
/// # Panics
/// When the server cannot start: the message says what was missing (the install: run `just
/// trino-setup`; a JDK 24+) or shows the end of the server's log. Every later call panics with
/// the same message.
pub fn local_trino() -> &'static LocalTrino {
    static SERVER: OnceLock<Result<LocalTrino, String>> = OnceLock::new();
    match SERVER.get_or_init(|| start(server_url())) {
        Ok(server) => server,
        Err(message) => panic!("no Trino for the tests: {message}"),
    }
}

/// Starts a new server whose `postgres` catalog is the PostgreSQL at `postgres_url`
/// (`postgresql://user@host:port/db`, no password), and waits until it answers.
pub fn start(postgres_url: &str) -> Result<LocalTrino, String> {
    let home = install_dir()?;
    let java_home = find_java()?;
    let root = tempfile::Builder::new()
        .prefix("ocp-test-trino-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary folder: {e}"))?
        .keep();
    let port = free_port()?;
    write_config(&root, &home, port, postgres_url)?;
    let log_path = root.join("server.log");
    let log = fs::File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let log_err = log
        .try_clone()
        .map_err(|e| format!("cannot share {}: {e}", log_path.display()))?;

    let begun = Instant::now();
    let child = Command::new(java_home.join("bin").join("java"))
        .args(jvm_options())
        .arg("-cp")
        .arg(classpath(&home))
        .arg(format!(
            "-Dconfig={}",
            root.join("etc/config.properties").display()
        ))
        .arg(format!(
            "-Dlog.levels-file={}",
            root.join("etc/log.properties").display()
        ))
        .arg(format!("-Dnode.data-dir={}", root.join("data").display()))
        .args(["-Dnode.environment=test", "-Dnode.id=ocp-test"])
        .arg("io.trino.server.TrinoServer")
        .current_dir(root.join("data"))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot run {}/bin/java: {e}", java_home.display()))?;
    let pid = child.id();
    let watchdog = spawn_watchdog(pid, &root)?;
    let mut server = LocalTrino {
        url: format!("http://127.0.0.1:{port}"),
        version: pinned_version().to_string(),
        pid,
        started_in: Duration::ZERO,
        root,
        child,
        watchdog,
    };
    wait_until_ready(&mut server, port)?;
    wait_until_scheduling(&server)?;
    server.started_in = begun.elapsed();
    Ok(server)
}

/// Waits until the node has announced itself to the coordinator (`system.runtime.nodes` lists
/// it active), then for the scheduler's node map, which is refreshed every 5 seconds: until
/// then a query that reads a table fails with `NO_NODES_AVAILABLE`, for a few seconds after
/// `/v1/info` says the server has started.
fn wait_until_scheduling(server: &LocalTrino) -> Result<(), String> {
    let settings = TrinoSettings::resolve(TrinoSection {
        url: Some(server.url.clone()),
        user: Some("ocp-test".to_string()),
        ..TrinoSection::default()
    })
    .map_err(|e| e.to_string())?;
    let session = TrinoSession::open(settings).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + START_TIMEOUT;
    let probe = "SELECT count(*) FROM system.runtime.nodes WHERE state = 'active'";
    loop {
        let active = session.rows("the scheduling check", probe);
        match active {
            Ok(rows)
                if rows
                    .first()
                    .and_then(|r| r.first())
                    .and_then(|v| v.as_i64())
                    > Some(0) =>
            {
                std::thread::sleep(SCHEDULER_REFRESH);
                return Ok(());
            }
            _ if Instant::now() > deadline => {
                return Err(format!(
                    "Trino at {} started but schedules no query within {} s: {active:?}",
                    server.url,
                    START_TIMEOUT.as_secs()
                ))
            }
            _ => std::thread::sleep(Duration::from_millis(250)),
        }
    }
}

/// The unpacked server: `OCP_TRINO_HOME`, else `~/.cache/koku-ocp/trino-server-<version>`.
fn install_dir() -> Result<PathBuf, String> {
    let version = pinned_version();
    let dir = match std::env::var_os("OCP_TRINO_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
            PathBuf::from(home).join(format!(".cache/koku-ocp/trino-server-{version}"))
        }
    };
    if !dir.join("lib").is_dir() || !dir.join("plugin/hive").is_dir() {
        return Err(format!(
            "Trino {version} is not installed in {}: run `just trino-setup` (it fetches the \
             server with Maven), or set OCP_TRINO_HOME to an unpacked trino-server-{version}",
            dir.display()
        ));
    }
    Ok(dir)
}

/// A JDK of version 24 or newer: `OCP_TRINO_JAVA_HOME`, else `JAVA_HOME` when new enough, else
/// the newest under `/usr/lib/jvm`.
fn find_java() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("OCP_TRINO_JAVA_HOME").filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(dir);
        return match java_feature_version(&dir) {
            Some(v) if v >= 24 => Ok(dir),
            found => Err(format!(
                "OCP_TRINO_JAVA_HOME={} is not a JDK 24 or newer (found {found:?})",
                dir.display()
            )),
        };
    }
    let mut candidates: Vec<PathBuf> = std::env::var_os("JAVA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .into_iter()
        .collect();
    if let Ok(entries) = fs::read_dir("/usr/lib/jvm") {
        candidates.extend(entries.flatten().map(|e| e.path()));
    }
    candidates
        .into_iter()
        .filter_map(|dir| java_feature_version(&dir).map(|v| (v, dir)))
        .filter(|(v, _)| *v >= 24)
        .max_by_key(|(v, _)| *v)
        .map(|(_, dir)| dir)
        .ok_or_else(|| {
            format!(
                "Trino {} needs a JDK 24 or newer and none was found (JAVA_HOME, /usr/lib/jvm): \
                 install one (e.g. Temurin 25) or set OCP_TRINO_JAVA_HOME to it",
                pinned_version()
            )
        })
}

/// The feature version (`25` of `25.0.1`) a JDK folder's `release` file states, if it has a
/// `bin/java`.
fn java_feature_version(dir: &Path) -> Option<u32> {
    if !dir.join("bin/java").is_file() {
        return None;
    }
    let release = fs::read_to_string(dir.join("release")).ok()?;
    let line = release.lines().find(|l| l.starts_with("JAVA_VERSION="))?;
    let version = line.trim_start_matches("JAVA_VERSION=").trim_matches('"');
    version.split(['.', '+', '-']).next()?.parse().ok()
}

/// The heap (`OCP_TRINO_HEAP`, default `2G`).
fn heap() -> String {
    std::env::var("OCP_TRINO_HEAP")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "2G".to_string())
}

/// Trino's recommended JVM options for its release, with the test heap.
fn jvm_options() -> Vec<String> {
    [
        "-server",
        "-XX:+UseG1GC",
        "-XX:G1HeapRegionSize=32M",
        "-XX:+ExplicitGCInvokesConcurrent",
        "-XX:+ExitOnOutOfMemoryError",
        "-XX:ReservedCodeCacheSize=256M",
        "-XX:PerMethodRecompilationCutoff=10000",
        "-XX:PerBytecodeRecompilationCutoff=10000",
        "-XX:+EnableDynamicAgentLoading",
        "-Djdk.attach.allowAttachSelf=true",
        "-Djdk.nio.maxCachedBufferSize=2000000",
        "-Dfile.encoding=UTF-8",
        "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow",
    ]
    .into_iter()
    .map(str::to_string)
    .chain([format!("-Xmx{}", heap())])
    .collect()
}

/// `<home>/lib/*`, the server's class path.
fn classpath(home: &Path) -> OsString {
    let mut path = home.join("lib").into_os_string();
    path.push("/*");
    path
}

/// Writes `etc/` (node config, log levels, the two catalogs) and creates `data/`, `warehouse/`
/// and `metastore/` under `root`.
fn write_config(root: &Path, home: &Path, port: u16, postgres_url: &str) -> Result<(), String> {
    let pg: tokio_postgres::Config = postgres_url
        .parse()
        .map_err(|e| format!("bad PostgreSQL URL {postgres_url}: {e}"))?;
    let (host, pg_port) = match (pg.get_hosts().first(), pg.get_ports().first()) {
        (Some(tokio_postgres::config::Host::Tcp(host)), Some(port)) => (host.clone(), *port),
        _ => return Err(format!("{postgres_url} is not a TCP PostgreSQL URL")),
    };
    let database = pg.get_dbname().unwrap_or("postgres");
    let user = pg.get_user().unwrap_or("postgres");
    let files = [
        (
            "etc/config.properties",
            format!(
                "coordinator=true\nnode-scheduler.include-coordinator=true\n\
                 http-server.http.port={port}\n\
                 discovery.uri=http://127.0.0.1:{port}\n\
                 query.max-memory=1GB\nquery.max-memory-per-node=1GB\n\
                 plugin.dir={}\ncatalog.config-dir={}\n",
                home.join("plugin").display(),
                root.join("etc/catalog").display()
            ),
        ),
        ("etc/log.properties", "io.trino=WARN\n".to_string()),
        (
            "etc/catalog/hive.properties",
            format!(
                "connector.name=hive\nhive.metastore=file\n\
                 hive.metastore.catalog.dir=local://{}\n\
                 fs.native-local.enabled=true\nlocal.location=/\n",
                root.join("metastore").display()
            ),
        ),
        (
            "etc/catalog/postgres.properties",
            format!(
                "connector.name=postgresql\n\
                 connection-url=jdbc:postgresql://{host}:{pg_port}/{database}\n\
                 connection-user={user}\n"
            ),
        ),
    ];
    for dir in ["etc/catalog", "data", "warehouse", "metastore"] {
        let path = root.join(dir);
        fs::create_dir_all(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    }
    for (name, text) in files {
        let path = root.join(name);
        fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Polls `/v1/info` until the server says it is no longer starting; fails when the JVM exits
/// or [`START_TIMEOUT`] passes, with the end of the server log.
fn wait_until_ready(server: &mut LocalTrino, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    loop {
        if let Some(status) = server.child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!(
                "the Trino JVM exited ({status}) while starting; end of {}:\n{}",
                server.log_path().display(),
                log_tail(&server.log_path())
            ));
        }
        if http_get(addr, "/v1/info").is_some_and(|body| body.contains("\"starting\":false")) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "Trino did not answer on {} within {} s; end of {}:\n{}",
                server.url,
                START_TIMEOUT.as_secs(),
                server.log_path().display(),
                log_tail(&server.log_path())
            ));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The body of `GET path` on `addr` (HTTP/1.0, so the server closes the connection), or `None`
/// when nothing answers.
fn http_get(addr: SocketAddr, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
}

/// The part of the server log at `path` that says why it stopped: 30 lines from its first
/// `ERROR`, else its last 40 lines.
fn log_tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines
        .iter()
        .position(|l| l.contains("\tERROR\t"))
        .unwrap_or(lines.len().saturating_sub(40));
    lines[from..(from + 40).min(lines.len())].join("\n")
}

/// A detached shell that waits until this process is gone, then kills the JVM and removes the
/// server's folder. Own process group, so a Ctrl-C on the test run does not kill it first.
fn spawn_watchdog(jvm: u32, root: &Path) -> Result<Child, String> {
    const SCRIPT: &str = r#"while [ -d "/proc/$1" ]; do sleep 1; done
kill -9 "$2" 2>/dev/null
rm -rf "$3""#;
    Command::new("sh")
        .arg("-c")
        .arg(SCRIPT)
        .arg("ocp-test-trino-watchdog")
        .arg(std::process::id().to_string())
        .arg(jvm.to_string())
        .arg(root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start the watchdog shell (sh): {e}"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_version_is_a_release_number() {
        let version = pinned_version();
        assert!(version.parse::<u32>().is_ok_and(|v| v >= 476), "{version}");
    }

    #[test]
    fn a_jdk_folder_states_its_feature_version() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(java_feature_version(dir.path()), None, "no bin/java");
        fs::create_dir_all(dir.path().join("bin")).unwrap();
        fs::write(dir.path().join("bin/java"), "").unwrap();
        fs::write(dir.path().join("release"), "JAVA_VERSION=\"25.0.3\"\n").unwrap();
        assert_eq!(java_feature_version(dir.path()), Some(25));
        fs::write(dir.path().join("release"), "JAVA_VERSION=\"17.0.15\"\n").unwrap();
        assert_eq!(java_feature_version(dir.path()), Some(17));
    }
}
