//! A real S3-compatible server on loopback, in-process: `s3s-fs` serves a temporary folder (each
//! bucket a subfolder) over HTTP with SigV4 checked against one static key pair, behind the
//! faults a test injects ([`TestS3::inject`], [`crate::s3_faults`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::sync::oneshot;

use crate::s3_faults::{Fault, Faults, FaultyService};

/// The region the test server's clients sign for (the server accepts any).
pub const REGION: &str = "us-east-1";

/// An S3-compatible server on `127.0.0.1` serving one bucket, `bucket`, from the folder
/// `bucket_dir`.
///
/// The server runs on its own thread with its own tokio runtime, so it outlives any test's
/// runtime; it stops and its folder is removed when the `TestS3` is dropped. Files written under
/// `bucket_dir` (subfolders make `/`-separated keys) are objects at once, and objects put through
/// S3 appear there as files. Requests must be signed (SigV4) with `access_key`/`secret_key`;
/// others are refused.
pub struct TestS3 {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub endpoint: String,
    /// The one bucket; path-style requests only (`ENDPOINT/BUCKET/KEY`).
    pub bucket: String,
    /// The access key id the server accepts.
    pub access_key: String,
    /// The secret key the server accepts.
    pub secret_key: String,
    /// The folder holding the bucket's objects.
    pub bucket_dir: PathBuf,
    root: Option<tempfile::TempDir>,
    faults: Faults,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestS3 {
    /// Starts a server on a free loopback port with an empty bucket `koku-bucket`, access key
    /// `ocp-test-access-key` and secret key `ocp-test-secret-key`. The server accepts connections
    /// when this returns.
    ///
    /// # Panics
    /// When the folder, the socket or the server thread cannot be set up.
    pub fn start() -> TestS3 {
        let bucket = "koku-bucket".to_string();
        let access_key = "ocp-test-access-key".to_string();
        let secret_key = "ocp-test-secret-key".to_string();

        let root = tempfile::Builder::new()
            .prefix("ocp-test-s3-")
            .tempdir()
            .expect("TestS3: cannot create a temporary folder");
        let bucket_dir = root.path().join(&bucket);
        std::fs::create_dir(&bucket_dir).expect("TestS3: cannot create the bucket folder");

        let fs = s3s_fs::FileSystem::new(root.path())
            .unwrap_or_else(|e| panic!("TestS3: s3s-fs refuses {}: {e:?}", root.path().display()));
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(
            access_key.clone(),
            secret_key.clone(),
        ));
        let faults = Faults::default();
        let service = FaultyService {
            inner: builder.build(),
            faults: faults.clone(),
        };

        // Bound here so the port is known, and connections queue, before the thread runs.
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("TestS3: cannot bind a loopback port");
        listener
            .set_nonblocking(true)
            .expect("TestS3: cannot make the socket non-blocking");
        let addr = listener.local_addr().expect("TestS3: no local address");

        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("ocp-test-s3".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("TestS3: cannot build the server runtime");
                runtime.block_on(serve(listener, service, shutdown_rx));
            })
            .expect("TestS3: cannot start the server thread");

        TestS3 {
            endpoint: format!("http://{addr}"),
            bucket,
            access_key,
            secret_key,
            bucket_dir,
            root: Some(root),
            faults,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    /// Injects `fault` into the requests that come from now on; the returned handle counts
    /// what it met and hit.
    pub fn inject(&self, fault: Fault) -> Arc<Fault> {
        self.faults.add(fault)
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.faults.clear();
    }

    /// An `object_store` client for the bucket: this endpoint over plain HTTP, region
    /// [`REGION`], these credentials, path-style requests.
    pub fn object_store(&self) -> AmazonS3 {
        self.object_store_with_credentials(&self.access_key, &self.secret_key)
    }

    /// Like [`TestS3::object_store`] but signing with the given credentials, e.g. wrong ones to
    /// see the server refuse.
    pub fn object_store_with_credentials(&self, access_key: &str, secret_key: &str) -> AmazonS3 {
        AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_region(REGION)
            .with_access_key_id(access_key)
            .with_secret_access_key(secret_key)
            .with_virtual_hosted_style_request(false)
            .with_bucket_name(&self.bucket)
            .build()
            .expect("TestS3: object_store refuses the S3 settings")
    }

    /// The environment for a child process (e.g. the engine binary) that reads S3 settings the
    /// way `object_store`'s `AmazonS3Builder::from_env` does: `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_ENDPOINT`, `AWS_REGION`, `AWS_ALLOW_HTTP=true`,
    /// `AWS_VIRTUAL_HOSTED_STYLE_REQUEST=false`. The bucket is not among them.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        [
            ("AWS_ACCESS_KEY_ID", self.access_key.as_str()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_key.as_str()),
            ("AWS_ENDPOINT", self.endpoint.as_str()),
            ("AWS_REGION", REGION),
            ("AWS_ALLOW_HTTP", "true"),
            ("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "false"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// `s3://BUCKET/KEY`, the URL form of an object of the bucket.
    pub fn url(&self, key: &str) -> String {
        format!("s3://{}/{}", self.bucket, key.trim_start_matches('/'))
    }
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        drop(self.root.take());
    }
}

impl std::fmt::Debug for TestS3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestS3")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("bucket_dir", &self.bucket_dir)
            .finish_non_exhaustive()
    }
}

/// Accepts connections until `shutdown` fires (or its sender is dropped), then gives open
/// connections a moment to finish.
async fn serve(
    listener: std::net::TcpListener,
    service: FaultyService,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener =
        tokio::net::TcpListener::from_std(listener).expect("TestS3: cannot adopt the socket");
    let http = ConnBuilder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(_) => continue,
            },
            _ = &mut shutdown => break,
        };
        let connection = http.serve_connection(TokioIo::new(socket), service.clone());
        let connection = graceful.watch(connection.into_owned());
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(2), graceful.shutdown()).await;
}
