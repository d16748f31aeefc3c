//! The live Trino oracles against Trino's client protocol: a **protocol test, not a Trino run**,
//! kept for what the local Trino of `harness/tests/trino.rs` cannot show cheaply.
//!
//! `harness/tests/trino.rs` runs the oracles on a real Trino 476 (every fixture, generated
//! clusters, koku's staging table, a failed query, a missing storage table). These tests check
//! the adapter (`ocp_harness::oracle::trino`, on the `trino-rust-client` crate) against Trino's
//! documented client protocol where a real server would cost a TLS setup, an authenticator or a
//! fault it cannot be made to show: a loopback HTTP server in the test serves responses shaped as
//! Trino sends them (`harness/tests/trino_protocol/*.json`, written after trino-client's
//! `QueryResults`, `StatementStats` and `QueryError` and the client-protocol documentation), and
//! `{server}` in them becomes the test server's address. Each test's comment says what it shows
//! that the local Trino does not.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use ocp_engine::compat::Compatibility;
use ocp_engine::run::Output;
use ocp_engine::summary::Metric;
use ocp_harness::compare::{ComparableRow, NaturalKey, Tolerance, WrittenColumns};
use ocp_harness::oracle::query::{render, schema_of_account};
use ocp_harness::oracle::settings::{Secret, TrinoCredential, TrinoSection};
use ocp_harness::oracle::trino::{qualify, Places};
use ocp_harness::oracle::{
    DuckDbOracle, Oracle, OracleInput, QueryParams, TrinoKokuStagingOracle, TrinoOracle,
    TrinoSettings, REFERENCE_SUMMARY_SQL,
};
use ocp_harness::pipeline::{run_compare, CompareRun, ENGINE_ROWS};
use ocp_harness::report::Verdict;
use ocp_harness::scenario::{engine_config, engine_request};
use ocp_harness::synth::{generate, write_cluster, Scale};
use ocp_testkit as testkit;
use serde_json::{json, Value};
use uuid::Uuid;

const VERSION: &str = include_str!("trino_protocol/version.json");
const STORAGE_CHECK: &str = include_str!("trino_protocol/storage_check.json");
const SUMMARY: &str = include_str!("trino_protocol/summary.json");
const STAGING: &str = include_str!("trino_protocol/staging.json");

const USER: &str = "koku-reader";
const PASSWORD: &str = "hunter2";
/// base64("koku-reader:hunter2"), the HTTP Basic credentials.
const BASIC: &str = "Basic a29rdS1yZWFkZXI6aHVudGVyMg==";
const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJrb2t1LXJlYWRlciJ9.c2lnbmF0dXJl";

/// One request the server received.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    /// Header names lowercased.
    headers: HashMap<String, String>,
    body: String,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// The responses of the fake coordinator, by query.
#[derive(Clone, Default)]
struct Script {
    /// The response pages of each query kind ([`kind_of`]), as JSON texts with `{server}`.
    queries: HashMap<&'static str, String>,
    /// A page path answered once with 503 before its page.
    busy_once: Option<String>,
    /// Every request answered with this status and body instead.
    refuse: Option<(u16, String)>,
}

/// Which scripted query a statement is.
fn kind_of(sql: &str) -> &'static str {
    if sql.starts_with("SELECT version()") {
        "version"
    } else if sql.contains("information_schema.tables") {
        "storage_check"
    } else if sql.contains("cte_pg_enabled_keys") {
        "summary"
    } else {
        "staging"
    }
}

/// A loopback HTTP/1.1 server answering as a Trino coordinator from a [`Script`], one request
/// per connection. Stops when dropped.
struct FakeTrino {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeTrino {
    fn start(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let pages = Pages::new(&script, address);
        let (log, stopping) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut busy_once = script.busy_once.clone();
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let Some(request) = read_request(&mut stream) else {
                    continue;
                };
                log.lock().unwrap().push(request.clone());
                let (status, body) = match &script.refuse {
                    Some(refusal) => refusal.clone(),
                    None if busy_once.as_deref() == Some(request.path.as_str()) => {
                        busy_once = None;
                        (503, "Service Unavailable".to_string())
                    }
                    None => pages.answer(&request),
                };
                write_response(&mut stream, status, &body);
            }
        });
        FakeTrino {
            address,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// The statements posted, in order.
    fn statements(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .map(|r| r.body)
            .collect()
    }
}

impl Drop for FakeTrino {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Every scripted response, by how it is asked for: the first page of each query by its kind
/// (a POST), the others by the path of the previous page's `nextUri` (a GET).
struct Pages {
    first: HashMap<&'static str, String>,
    by_path: HashMap<String, String>,
}

impl Pages {
    fn new(script: &Script, address: SocketAddr) -> Self {
        let server = address.to_string();
        let mut pages = Pages {
            first: HashMap::new(),
            by_path: HashMap::new(),
        };
        for (kind, text) in &script.queries {
            let responses: Vec<Value> =
                serde_json::from_str(&text.replace("{server}", &server)).unwrap();
            pages.first.insert(kind, responses[0].to_string());
            for pair in responses.windows(2) {
                let next = pair[0]["nextUri"].as_str().expect("a page before the last");
                let path = next.strip_prefix(&format!("http://{server}")).unwrap();
                pages.by_path.insert(path.to_string(), pair[1].to_string());
            }
        }
        pages
    }

    fn answer(&self, request: &Request) -> (u16, String) {
        let page = match request.method.as_str() {
            "POST" if request.path == "/v1/statement" => self.first.get(kind_of(&request.body)),
            "GET" => self.by_path.get(&request.path),
            _ => None,
        };
        match page {
            Some(page) => (200, page.clone()),
            None => (404, format!("no scripted page for {}", request.path)),
        }
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body: String::from_utf8(body).ok()?,
    })
}

fn write_response(stream: &mut TcpStream, status: u16, body: &str) {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        503 => "Service Unavailable",
        _ => "Not Found",
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
}

/// The usual site: version, storage table present, the reference query, koku's staging rows.
fn site_script() -> Script {
    Script {
        queries: HashMap::from([
            ("version", VERSION.to_string()),
            ("storage_check", STORAGE_CHECK.to_string()),
            ("summary", SUMMARY.to_string()),
            ("staging", STAGING.to_string()),
        ]),
        ..Script::default()
    }
}

fn settings(server: &FakeTrino, credential: TrinoCredential) -> TrinoSettings {
    let mut settings = TrinoSettings::resolve(TrinoSection {
        url: Some(server.url()),
        user: Some(USER.into()),
        postgres_catalog: Some("kokudb".into()),
        // Credentials over plain http are refused unless asked for: the test server is http.
        insecure: Some(true),
        ..TrinoSection::default()
    })
    .unwrap();
    settings.credential = Some(credential);
    settings
}

fn password() -> TrinoCredential {
    TrinoCredential::Password(Secret::new(PASSWORD))
}

/// Source 1 of org1234567, 8–10 September 2026.
fn params() -> QueryParams {
    QueryParams {
        location: PathBuf::from("s3://koku-bucket"),
        account: "org1234567".into(),
        schema: "org1234567".into(),
        source_uuid: Uuid::from_u128(1),
        start: day(8),
        end: day(10),
        report_period_id: Some(3),
        cluster_id: Some("c1".into()),
        cluster_alias: None,
        enabled_tag_keys: vec![],
        cost_category_patterns: vec![],
        nodes: vec![],
        compatibility: Compatibility::Trino,
    }
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, d).unwrap()
}

/// Marks a NULL metric in [`metrics`].
const X: f64 = f64::NAN;

fn metrics(values: [f64; 18]) -> [Option<f64>; 18] {
    values.map(|v| (!v.is_nan()).then_some(v))
}

/// A row's key: the day, namespace, node `node-<n>` on `i-<n>`, labels, and the volume (claim,
/// volume, class) of a Storage row.
fn key(
    data_source: &str,
    (usage_start, namespace, n): (NaiveDate, &str, u32),
    (pod_labels, volume_labels): (Option<&str>, Option<&str>),
    volume: Option<[&str; 3]>,
) -> NaturalKey {
    let volume = volume.map(|v| v.map(str::to_string));
    NaturalKey {
        data_source: data_source.into(),
        usage_start,
        namespace: Some(namespace.into()),
        node: Some(format!("node-{n}")),
        resource_id: Some(format!("i-{n}")),
        persistentvolumeclaim: volume.as_ref().map(|v| v[0].clone()),
        persistentvolume: volume.as_ref().map(|v| v[1].clone()),
        storageclass: volume.as_ref().map(|v| v[2].clone()),
        pod_labels: pod_labels.map(str::to_string),
        volume_labels: volume_labels.map(str::to_string),
        // What the responses carry beside: the run of `params()`, `all_labels` the row's own
        // labels or `{}`, koku's usage-cost literal on every row but the unallocated ones.
        written: WrittenColumns {
            usage_end: Some(usage_start),
            all_labels: Some(pod_labels.or(volume_labels).unwrap_or("{}").to_string()),
            infrastructure_usage_cost: (!namespace.ends_with("unallocated"))
                .then(|| r#"{"cpu":0.0,"memory":0.0,"storage":0.0}"#.to_string()),
            report_period_id: Some(3),
            cluster_id: Some("c1".to_string()),
            cluster_alias: None,
            source_uuid: Some(Uuid::from_u128(1).to_string()),
        },
    }
}

/// The rows of `summary.json`, as they must come out: labels canonical (keys sorted), NULLs
/// kept.
fn summary_rows() -> Vec<ComparableRow> {
    vec![
        ComparableRow {
            key: key(
                "Pod",
                (day(8), "koku", 1),
                (Some(r#"{"app":"web","environment":"prod"}"#), None),
                None,
            ),
            cost_category_id: None,
            metrics: metrics([
                0.25, 1.5, 1.5, 2.0, 0.5, 1.0, 1.0, 4.0, 4.0, 96.0, 15.5, 372.0, 192.0, 744.0, X,
                X, X, X,
            ]),
        },
        ComparableRow {
            key: key(
                "Storage",
                (day(8), "koku", 1),
                (None, Some(r#"{"app":"db"}"#)),
                Some(["data-pvc", "pv-0001", "gp3"]),
            ),
            cost_category_id: None,
            metrics: metrics([
                X,
                X,
                X,
                X,
                X,
                X,
                X,
                X,
                X,
                X,
                X,
                X,
                X,
                X,
                10.0,
                0.3333333333333333,
                0.16666666666666666,
                0.05,
            ]),
        },
        ComparableRow {
            key: key(
                "Pod",
                (day(8), "Platform unallocated", 1),
                (None, None),
                None,
            ),
            cost_category_id: Some(1),
            metrics: metrics([
                95.75, 94.5, 94.5, X, 371.5, 371.0, 371.0, X, 4.0, 96.0, 15.5, 372.0, 192.0, 744.0,
                X, X, X, X,
            ]),
        },
    ]
}

/// Kept: koku's PostgreSQL catalog under a site's own name (`kokudb`, not `postgres`), the exact
/// statements sent, and every page followed; the local Trino has one catalog name only.
#[test]
fn the_reference_query_runs_unchanged_on_kokus_catalogs_and_its_rows_keep_their_values() {
    let server = FakeTrino::start(site_script());
    let oracle = TrinoOracle::new(settings(&server, password())).unwrap();
    let run = oracle.run(&params()).unwrap();

    assert_eq!(run.rows, summary_rows());
    // The query's own statistics from its last page, not the client's clock.
    assert_eq!(run.elapsed, Duration::from_millis(4321));
    assert_eq!(run.peak_rss_bytes, Some(138_412_032));

    let statements = server.statements();
    assert_eq!(statements.len(), 3, "{statements:?}");
    assert_eq!(statements[0], "SELECT version() AS trino_version");
    assert!(statements[1].contains("FROM hive.information_schema.tables"));
    assert!(statements[1].contains("table_schema = 'org1234567'"));
    assert!(statements[1].contains("table_name = 'openshift_storage_usage_line_items_daily'"));
    // The reference query exactly as the template renders, Hive tables in hive.org1234567, the
    // catalog tables (koku's node roles included) in the PostgreSQL catalog named in settings.
    let places = Places {
        hive: "hive.org1234567".into(),
        postgres: "kokudb.org1234567".into(),
    };
    let expected = render(&qualify(REFERENCE_SUMMARY_SQL, &places), &params(), true).unwrap();
    assert_eq!(statements[2], expected.trim_end());
    assert!(statements[2].contains("FROM kokudb.org1234567.reporting_ocp_nodes"));
    assert!(statements[2].contains("FROM hive.org1234567.openshift_storage_usage_line_items_daily"));
    assert!(run.query_text.contains(&statements[2]));
    assert!(run.query_text.starts_with("-- storage_exists = true"));

    // Paging: every nextUri followed (version 1, storage check 1, summary 4 pages after the first).
    let gets = server
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .count();
    assert_eq!(gets, 1 + 1 + 4);
    let described = oracle.describe();
    assert!(
        described.starts_with("Trino 481 at http://127.0.0.1:"),
        "{described}"
    );
    assert!(
        described.contains("in hive.org1234567 and") && described.contains("kokudb.org1234567")
    );
}

/// Kept: a staging table whose columns are typed `json`, `bigint` and `decimal(33,15)` (sent as
/// strings), which koku's own statement 1 does not create; the local Trino's staging table is
/// koku's (varchar, integer, double).
#[test]
fn kokus_staging_rows_are_read_from_their_partitions_whatever_the_column_types() {
    let server = FakeTrino::start(site_script());
    let oracle = TrinoKokuStagingOracle::new(settings(&server, password())).unwrap();
    let run = oracle.run(&params()).unwrap();

    let statements = server.statements();
    let sql = &statements[1];
    assert!(sql.contains("FROM hive.org1234567.reporting_ocpusagelineitem_daily_summary"));
    assert!(sql.contains("source = '00000000-0000-0000-0000-000000000001'"));
    assert!(sql.contains("year = '2026'"));
    // koku writes the staging month and day unpadded (spec §7.9).
    assert!(sql.contains("lpad(month, 2, '0') = '09'"));
    assert!(sql.contains("day IN ('8', '9', '10')"));

    // staging.json: labels typed json, the category bigint, the first four metrics
    // decimal(33,15) sent as strings, the rest double; NULLs kept.
    let pod = ComparableRow {
        key: key(
            "Pod",
            (day(9), "koku", 2),
            (Some(r#"{"app":"web"}"#), None),
            None,
        ),
        cost_category_id: None,
        metrics: metrics([
            0.25, 1.5, 1.5, X, 0.5, 1.0, 1.0, X, 4.0, 96.0, 15.5, 372.0, 192.0, 744.0, X, X, X, X,
        ]),
    };
    let unallocated = ComparableRow {
        key: key(
            "Pod",
            (day(10), "Worker unallocated", 2),
            (None, None),
            None,
        ),
        cost_category_id: Some(2),
        metrics: metrics([
            95.75, -1.125, 94.5, X, 371.5, 371.0, 371.0, X, 4.0, 96.0, 15.5, 372.0, 192.0, 744.0,
            X, X, X, X,
        ]),
    };
    assert_eq!(run.rows, [pod, unallocated]);
    assert_eq!(run.elapsed, Duration::from_millis(655));
    assert_eq!(run.peak_rss_bytes, Some(9_437_184));
    assert!(oracle
        .describe()
        .contains("reporting_ocpusagelineitem_daily_summary"));
}

/// Kept: a 401 needs an authenticator, which needs TLS on a real Trino.
#[test]
fn a_refused_login_is_a_clear_error_without_the_secret() {
    let script = Script {
        // Even a server that echoes the credentials must not get them printed.
        refuse: Some((
            401,
            format!("Unauthorized: bad password {PASSWORD} for {USER}"),
        )),
        ..Script::default()
    };
    let server = FakeTrino::start(script);
    let oracle = TrinoOracle::new(settings(&server, password())).unwrap();
    let error = oracle.run(&params()).unwrap_err().to_string();
    assert!(error.contains("the version check"), "{error}");
    assert!(error.contains("HTTP 401"), "{error}");
    assert!(error.contains("TRINO_PASSWORD"), "{error}");
    assert!(!error.contains(PASSWORD), "{error}");
    assert!(error.contains("bad password ***"), "{error}");
}

/// Kept: a real coordinator cannot be made to answer 503 on demand.
#[test]
fn a_busy_coordinator_is_asked_again() {
    let mut script = site_script();
    // The summary's second page (see summary.json) answers 503 once.
    script.busy_once =
        Some("/v1/statement/executing/20261124_101501_00003_kq7vp/y5d8e1f4a7b0c3d6/2".into());
    let server = FakeTrino::start(script);
    let oracle = TrinoOracle::new(settings(&server, password())).unwrap();
    let run = oracle.run(&params()).unwrap();
    assert_eq!(run.rows, summary_rows());
    let gets = server
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .count();
    assert_eq!(gets, 1 + 1 + 4 + 1, "the 503 page asked twice");
}

/// Kept: Basic and Bearer credentials need TLS and an authenticator on a real Trino.
#[test]
fn every_request_carries_the_user_and_the_credentials() {
    let server = FakeTrino::start(site_script());
    TrinoOracle::new(settings(&server, password()))
        .unwrap()
        .run(&params())
        .unwrap();
    let requests = server.requests();
    assert!(requests.len() > 3);
    for request in &requests {
        assert_eq!(request.header("X-Trino-User"), Some(USER), "{request:?}");
        assert_eq!(request.header("Authorization"), Some(BASIC), "{request:?}");
    }
    let post = requests.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.path, "/v1/statement");
    assert_eq!(post.header("X-Trino-Catalog"), Some("hive"));
    assert_eq!(post.header("X-Trino-Source"), Some("ocp-harness"));

    let server = FakeTrino::start(site_script());
    let token = TrinoCredential::Jwt(Secret::new(JWT));
    TrinoKokuStagingOracle::new(settings(&server, token))
        .unwrap()
        .run(&params())
        .unwrap();
    let bearer = format!("Bearer {JWT}");
    for request in server.requests() {
        assert_eq!(request.header("X-Trino-User"), Some(USER));
        assert_eq!(request.header("Authorization"), Some(bearer.as_str()));
    }
}

/// The reference query's result as Trino pages it, holding `rows`: `summary.json`'s first
/// (`QUEUED`) response, then its last one carrying the compared columns with the query's types,
/// every row, and statistics of 2.5 s and 96 MiB.
fn result_pages(rows: &[ComparableRow]) -> String {
    let column = |name: &str, ty: &str| {
        let arguments = if ty == "varchar" {
            json!([{"kind": "LONG", "value": 2147483647}])
        } else {
            json!([])
        };
        json!({"name": name, "type": ty, "typeSignature": {"rawType": ty, "arguments": arguments}})
    };
    let mut columns = vec![
        column("data_source", "varchar"),
        column("usage_start", "date"),
    ];
    for name in [
        "namespace",
        "node",
        "resource_id",
        "persistentvolumeclaim",
        "persistentvolume",
        "storageclass",
        "pod_labels",
        "volume_labels",
    ] {
        columns.push(column(name, "varchar"));
    }
    columns.push(column("cost_category_id", "integer"));
    columns.extend(Metric::ALL.iter().map(|m| column(m.column(), "double")));
    columns.push(column("usage_end", "date"));
    for name in ["all_labels", "infrastructure_usage_cost"] {
        columns.push(column(name, "varchar"));
    }
    columns.push(column("report_period_id", "integer"));
    for name in ["cluster_id", "cluster_alias", "source_uuid"] {
        columns.push(column(name, "varchar"));
    }
    let data: Vec<Value> = rows
        .iter()
        .map(|row| {
            let k = &row.key;
            let mut values = vec![
                json!(k.data_source),
                json!(k.usage_start.to_string()),
                json!(k.namespace),
                json!(k.node),
                json!(k.resource_id),
                json!(k.persistentvolumeclaim),
                json!(k.persistentvolume),
                json!(k.storageclass),
                json!(k.pod_labels),
                json!(k.volume_labels),
                json!(row.cost_category_id),
            ];
            values.extend(row.metrics.iter().map(|m| json!(m)));
            let w = &k.written;
            values.extend([
                json!(w.usage_end.map(|d| d.to_string())),
                json!(w.all_labels),
                json!(w.infrastructure_usage_cost),
                json!(w.report_period_id),
                json!(w.cluster_id),
                json!(w.cluster_alias),
                json!(w.source_uuid),
            ]);
            Value::Array(values)
        })
        .collect();
    let mut pages: Vec<Value> = serde_json::from_str(SUMMARY).unwrap();
    let mut last = pages.pop().unwrap();
    last["columns"] = Value::Array(columns);
    last["data"] = Value::Array(data);
    last["stats"]["elapsedTimeMillis"] = json!(2500);
    last["stats"]["peakMemoryBytes"] = json!(96 * 1024 * 1024);
    // The first response's nextUri leads straight to the last page.
    pages[0]["nextUri"] = pages[1]["nextUri"].clone();
    pages[1] = last;
    pages.truncate(2);
    serde_json::to_string(&pages).unwrap()
}

/// Kept: the site input (the engine reading koku's catalog from koku's own PostgreSQL tables)
/// with Trino's catalogs under site names; `trino.rs` compares through the local Trino with the
/// catalog given inline.
///
/// `ocp-harness compare --oracle trino` as a library call: the engine on a generated cluster's
/// files with koku's catalog from PostgreSQL (the site input), the Trino oracle on the fake
/// coordinator serving the reference query's rows (computed by DuckDB for the same catalog). The
/// report is the embedded run's, GO, naming Trino and showing Trino's own time and memory.
#[test]
fn a_site_compare_through_trino_gives_the_go_report_with_trinos_figures() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = generate(Scale::Tiny, 42);
    model.existing_nodes.clear();
    write_cluster(&model, dir.path()).unwrap();

    // koku's catalog in PostgreSQL: the model's keys and patterns (ids as PostgreSQL gives them).
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (schema, patterns) = runtime.block_on(async {
        let (client, schema) = testkit::fresh_schema("trino_site").await;
        let keys: Vec<&str> = model.enabled_tag_keys.iter().map(String::as_str).collect();
        testkit::enable_tag_keys(&client, &schema, &keys).await;
        let names: Vec<(String, String)> = model
            .cost_category_patterns
            .iter()
            .map(|(pattern, id)| (pattern.clone(), format!("category {id}")))
            .collect();
        let pairs: Vec<(&str, &str)> = names
            .iter()
            .map(|(p, n)| (p.as_str(), n.as_str()))
            .collect();
        let ids = testkit::add_cost_category_patterns(&client, &schema, &pairs).await;
        let patterns: Vec<(String, i32)> = names.into_iter().map(|(p, _)| p).zip(ids).collect();
        (schema, patterns)
    });

    // What the reference query gives for that catalog, served as Trino's answer.
    let folder = dir.path().to_str().unwrap();
    let request = engine_request(&model, folder, Output::File(dir.path().join("x.parquet")));
    let mut query = QueryParams::from_request(&request).unwrap();
    query.cost_category_patterns = patterns;
    let rows = DuckDbOracle::locate().unwrap().run(&query).unwrap().rows;
    let mut script = site_script();
    script.queries.insert("summary", result_pages(&rows));
    let server = FakeTrino::start(script);

    let mut config = engine_config(&model);
    config.catalog = None;
    config.postgres.url = Some(testkit::server_url().to_string());
    config.postgres.schema = Some(schema);
    let config_path = dir.path().join("site.toml");
    std::fs::write(&config_path, config.to_toml()).unwrap();
    let mut settings = settings(&server, password());
    settings.credential = None;
    let oracle = TrinoOracle::new(settings).unwrap();
    let report_dir = dir.path().join("report");
    let outcome = run_compare(&CompareRun {
        config: &config_path,
        oracle: &oracle,
        input: OracleInput::Site,
        tolerance: Tolerance::default(),
        report_dir: &report_dir,
        started_at: Utc::now(),
    })
    .unwrap();

    let report = &outcome.report;
    assert_eq!(
        report.verdict,
        Verdict::Go,
        "{:?}",
        report.comparison.verdict
    );
    assert_eq!(report.comparison.oracle_rows, rows.len() as u64);
    assert!(
        report
            .identity
            .oracle
            .starts_with("Trino 481 at http://127.0.0.1:"),
        "{}",
        report.identity.oracle
    );
    assert_eq!(report.oracle.seconds, 2.5);
    assert_eq!(report.oracle.peak_mib, Some(96.0));
    assert!(report_dir.join(ENGINE_ROWS).exists());
    let account_schema = schema_of_account(&model.account);
    assert!(server.statements()[2]
        .contains(&format!("FROM kokudb.{account_schema}.reporting_ocp_nodes")));
}
