//! S3 failing under a read, through the test kit's fault layer in front of its in-process S3
//! server ([`ocp_testkit::s3_faults`]): transient faults are retried and the run writes the
//! rows the undisturbed input gives; persistent ones fail the run as an infrastructure failure
//! (exit 3) that names the object, and the month in PostgreSQL is as the last good run left it.
//!
//! The engine's policy (engine/src/source/location.rs, docs/operations.md "Retries and
//! timeouts"): a timeout, a failed or reset connection, a 5xx answer and a body cut short are
//! retried 5 times, backing off from 0.1 s, within 60 s. The cases here set the request timeout
//! to 1 s so that a slow answer is slow at test speed.
//!
//! Every fault is on the first day's daily pod-usage file, the one file every run must read;
//! each case asserts the fault was met (its hit count), so none passes without a fault.

#[allow(dead_code)]
mod common {
    pub mod case;
}

use std::sync::Arc;
use std::time::Duration;

use common::case::Case;
use ocp_engine::error::{Error, Service};
use ocp_engine::run::RunRequest;
use ocp_engine::source::{S3Credentials, S3Settings};
use ocp_harness::compare::assert_same_rows;
use ocp_harness::scenario::run_quietly;
use ocp_harness::synth::parquet_writer::{file_name, MANIFEST_ID, POD_USAGE};
use ocp_harness::synth::{generate, write_cluster, Scale};
use ocp_testkit::s3::REGION;
use ocp_testkit::s3_faults::{Fault, FaultKind};
use ocp_testkit::TestS3;

/// The request timeout of these cases: a slow answer is one slower than this.
const TIMEOUT: Duration = Duration::from_secs(1);

/// A month in PostgreSQL and the same month's files in a fresh S3 bucket.
struct S3Case {
    case: Case,
    s3: TestS3,
    /// The file every fault is on.
    target: String,
}

impl S3Case {
    async fn new(prefix: &str) -> S3Case {
        let case = Case::with_koku_catalog(prefix, generate(Scale::Tiny, 11)).await;
        let s3 = TestS3::start();
        write_cluster(&case.scenario.model, &s3.bucket_dir).expect("write the month to S3");
        let target = file_name(
            POD_USAGE,
            case.scenario.model.first_date(),
            MANIFEST_ID,
            true,
        );
        S3Case { case, s3, target }
    }

    /// The good run's request, reading the bucket.
    fn request(&self) -> RunRequest {
        RunRequest {
            location: format!("s3://{}", self.s3.bucket),
            s3: S3Settings {
                endpoint: Some(self.s3.endpoint.clone()),
                region: Some(REGION.to_string()),
                credentials: Some(S3Credentials {
                    access_key_id: self.s3.access_key.clone(),
                    secret_access_key: self.s3.secret_key.clone(),
                }),
                request_timeout: Some(TIMEOUT),
            },
            ..self.case.request()
        }
    }

    fn inject(&self, kind: FaultKind, transient: bool) -> Arc<Fault> {
        self.s3.inject(if transient {
            Fault::first(&self.target, 2, kind)
        } else {
            Fault::always(&self.target, kind)
        })
    }

    /// A transient `kind` on the target's first two requests: the run retries and writes the
    /// rows of the undisturbed input.
    async fn assert_survives(&self, kind: FaultKind) {
        let fault = self.inject(kind.clone(), true);
        let report = run_quietly(&self.request())
            .await
            .unwrap_or_else(|e| panic!("{kind:?} twice is retried, the run failed: {e}"));
        assert_eq!(fault.hits(), 2, "{kind:?} met twice");
        assert!(fault.seen() > 2, "{kind:?}: the object was asked again");
        assert_same_rows(
            &report,
            &self.case.good,
            &format!("rows read through {kind:?} twice"),
        );
    }

    /// `kind` on every request for the target: the run fails as the object store's failure
    /// naming the file, after retrying, and the month is unchanged.
    async fn assert_fails(&self, kind: FaultKind) {
        let fault = self.inject(kind.clone(), false);
        let error = run_quietly(&self.request())
            .await
            .expect_err("a persistent fault fails the run");
        match &error {
            Error::Infrastructure {
                service: Service::ObjectStore,
                message,
            } => assert!(
                message.contains(&self.target),
                "{kind:?}: the message names the object: {message}"
            ),
            other => panic!("{kind:?}: expected the object store's failure, got {other:?}"),
        }
        assert_eq!(error.exit_code(), 3);
        assert!(
            fault.hits() > 1,
            "{kind:?}: retried before giving up ({} requests)",
            fault.hits()
        );
        self.case
            .assert_unchanged(&format!("a run failing on {kind:?}"))
            .await;
    }
}

#[tokio::test]
async fn transient_5xx_answers_are_retried() {
    let case = S3Case::new("s3_transient_5xx").await;
    case.assert_survives(FaultKind::Status(503)).await;
    case.s3.clear_faults();
    case.assert_survives(FaultKind::Status(500)).await;
}

#[tokio::test]
async fn transient_slow_answers_are_retried() {
    let case = S3Case::new("s3_transient_slow").await;
    case.assert_survives(FaultKind::Slow(TIMEOUT * 3)).await;
}

#[tokio::test]
async fn transient_resets_are_retried() {
    let case = S3Case::new("s3_transient_reset").await;
    case.assert_survives(FaultKind::Reset).await;
}

#[tokio::test]
async fn transient_truncated_bodies_are_retried() {
    let case = S3Case::new("s3_transient_cut").await;
    case.assert_survives(FaultKind::TruncatedBody).await;
}

#[tokio::test]
async fn persistent_5xx_fails_naming_the_object() {
    let case = S3Case::new("s3_persistent_5xx").await;
    case.assert_fails(FaultKind::Status(503)).await;
}

#[tokio::test]
async fn persistent_slowness_fails_naming_the_object() {
    let case = S3Case::new("s3_persistent_slow").await;
    case.assert_fails(FaultKind::Slow(TIMEOUT * 3)).await;
}

#[tokio::test]
async fn persistent_resets_fail_naming_the_object() {
    let case = S3Case::new("s3_persistent_reset").await;
    case.assert_fails(FaultKind::Reset).await;
}

#[tokio::test]
async fn persistent_truncation_fails_naming_the_object() {
    let case = S3Case::new("s3_persistent_cut").await;
    case.assert_fails(FaultKind::TruncatedBody).await;
}
