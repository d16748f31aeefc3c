//! Faults the test S3 server injects in front of its objects, as a site's S3 or MinIO has them:
//! a 5xx answer, an answer slower than the client's timeout, a connection closed without an
//! answer, a body cut in half. Each [`Fault`] hits the requests whose path contains a name (an
//! object's file name), numbered in arrival order, and counts what it did, so that a test can
//! show a fault was really met.

use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use s3s::service::S3Service;
use s3s::Body;

/// What happens to a hit request.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// Answered with this status and S3's XML error (`SlowDown` for 503, `InternalError`
    /// otherwise), without reaching the object.
    Status(u16),
    /// Answered as usual, after this delay.
    Slow(Duration),
    /// The connection closed without an answer.
    Reset,
    /// The usual status and headers (its full `Content-Length`), then half of the body, then
    /// the connection closed.
    TruncatedBody,
}

/// One injected fault: hits the requests whose path contains `name`, numbered from 0 in
/// arrival order, whose number is in `requests`.
#[derive(Debug)]
pub struct Fault {
    name: String,
    requests: Range<usize>,
    kind: FaultKind,
    seen: AtomicUsize,
    hits: AtomicUsize,
}

impl Fault {
    /// A fault on every request for `name` (a persistent failure).
    pub fn always(name: &str, kind: FaultKind) -> Fault {
        Fault::on_requests(name, 0..usize::MAX, kind)
    }

    /// A fault on the first `count` requests for `name` (a transient failure).
    pub fn first(name: &str, count: usize, kind: FaultKind) -> Fault {
        Fault::on_requests(name, 0..count, kind)
    }

    /// A fault on the requests for `name` numbered in `requests`.
    pub fn on_requests(name: &str, requests: Range<usize>, kind: FaultKind) -> Fault {
        Fault {
            name: name.to_string(),
            requests,
            kind,
            seen: AtomicUsize::new(0),
            hits: AtomicUsize::new(0),
        }
    }

    /// Requests for the name so far.
    pub fn seen(&self) -> usize {
        self.seen.load(Ordering::SeqCst)
    }

    /// Requests the fault hit so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Counts a request for `path`; the fault's kind when it hits it.
    fn meet(&self, path: &str) -> Option<FaultKind> {
        if !path.contains(&self.name) {
            return None;
        }
        let number = self.seen.fetch_add(1, Ordering::SeqCst);
        if !self.requests.contains(&number) {
            return None;
        }
        self.hits.fetch_add(1, Ordering::SeqCst);
        Some(self.kind.clone())
    }
}

/// The faults in force; the first that hits a request decides it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults(Arc<Mutex<Vec<Arc<Fault>>>>);

impl Faults {
    pub(crate) fn add(&self, fault: Fault) -> Arc<Fault> {
        let fault = Arc::new(fault);
        self.lock().push(fault.clone());
        fault
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Fault>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every fault counts the request; the first that hits it decides.
    fn meet(&self, path: &str) -> Option<FaultKind> {
        self.lock()
            .iter()
            .map(|fault| fault.meet(path))
            .fold(None, |first, hit| first.or(hit))
    }
}

/// The S3 service behind the faults.
#[derive(Clone)]
pub(crate) struct FaultyService {
    pub(crate) inner: S3Service,
    pub(crate) faults: Faults,
}

type StdError = Box<dyn std::error::Error + Send + Sync>;

impl hyper::service::Service<Request<Incoming>> for FaultyService {
    type Response = Response<Body>;
    type Error = StdError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, StdError>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let fault = self.faults.meet(request.uri().path());
        let inner = self.inner.clone();
        let answer = async move {
            inner
                .call(request.map(Body::from))
                .await
                .map_err(StdError::from)
        };
        Box::pin(async move {
            match fault {
                None => answer.await,
                Some(FaultKind::Status(status)) => Ok(error_answer(status)),
                Some(FaultKind::Slow(delay)) => {
                    tokio::time::sleep(delay).await;
                    answer.await
                }
                // hyper closes the connection on a service error.
                Some(FaultKind::Reset) => {
                    Err("injected: connection closed without an answer".into())
                }
                Some(FaultKind::TruncatedBody) => {
                    let (parts, body) = answer.await?.into_parts();
                    let bytes: Bytes = body.collect().await?.to_bytes();
                    // The headers still promise every byte: hyper closes the connection when
                    // the body ends early.
                    let half = bytes.slice(..bytes.len() / 2);
                    Ok(Response::from_parts(parts, Body::from(half)))
                }
            }
        })
    }
}

/// S3's error answer for `status`.
fn error_answer(status: u16) -> Response<Body> {
    let code = if status == 503 {
        "SlowDown"
    } else {
        "InternalError"
    };
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
         <Message>injected by the test server</Message></Error>"
    );
    let mut response = Response::new(Body::from(xml));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        "application/xml".parse().expect("a header value"),
    );
    response
}
