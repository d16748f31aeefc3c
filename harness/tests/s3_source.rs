//! The engine reading koku's Parquet from S3: the in-process S3 server of the test kit
//! ([`TestS3`]) serves the same files a local folder holds, and the rows must be the same.
//!
//! The S3 endpoint and key pair go through `RunRequest.s3`, never through process environment
//! variables (tests run in parallel threads of one process). Also covered: wrong credentials
//! (an infrastructure error naming the location and what to check) and a bucket with no files for
//! the source (an input error saying there are no pod-usage files).

use ocp_engine::error::{Error, Problem, Service};
use ocp_engine::run::{Output, RunRequest};
use ocp_engine::source::{S3Credentials, S3Settings};
use ocp_engine::summary::SummaryRow;
use ocp_harness::scenario::{engine_request, run_quietly, Scenario};
use ocp_harness::synth::{generate, write_cluster, ClusterModel, Scale};
use ocp_testkit::s3::REGION;
use ocp_testkit::TestS3;

/// The seed of the generated cluster every case reads.
const SEED: u64 = 7;

/// A prefix inside the bucket under which koku's `data/` tree can sit.
const PREFIX: &str = "some/prefix";

fn tiny_model() -> ClusterModel {
    generate(Scale::Tiny, SEED)
}

/// S3 settings for the test server, signing with the given key pair.
fn s3_settings(s3: &TestS3, access_key: &str, secret_key: &str) -> S3Settings {
    S3Settings {
        endpoint: Some(s3.endpoint.clone()),
        region: Some(REGION.to_string()),
        credentials: Some(S3Credentials {
            access_key_id: access_key.to_string(),
            secret_access_key: secret_key.to_string(),
        }),
        request_timeout: None,
    }
}

/// The request for the whole model read from `location` on the test server, rows to a file in
/// `out_dir`.
fn s3_request(
    model: &ClusterModel,
    s3: &TestS3,
    location: &str,
    out_dir: &tempfile::TempDir,
) -> RunRequest {
    let mut request = engine_request(
        model,
        location,
        Output::File(out_dir.path().join("summary.parquet")),
    );
    request.s3 = s3_settings(s3, &s3.access_key, &s3.secret_key);
    request
}

fn sorted(mut rows: Vec<SummaryRow>) -> Vec<SummaryRow> {
    rows.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    rows
}

/// The rows of the model read from a local folder.
async fn rows_from_folder(model: &ClusterModel) -> Vec<SummaryRow> {
    let scenario = Scenario::write(model.clone()).expect("write the scenario folder");
    let report = scenario
        .run()
        .await
        .expect("the run from a folder succeeds");
    sorted(report.rows)
}

/// The rows of the model written under `prefix` of the test bucket (`""`: the bucket root) and
/// read from `s3://koku-bucket[/prefix]`.
async fn rows_from_s3(model: &ClusterModel, prefix: &str) -> Vec<SummaryRow> {
    let s3 = TestS3::start();
    write_cluster(model, &s3.bucket_dir.join(prefix)).expect("write the model into the bucket");
    let location = format!("s3://{}/{prefix}", s3.bucket);
    let location = location.trim_end_matches('/');
    let out_dir = tempfile::tempdir().expect("a temporary folder");
    let report = run_quietly(&s3_request(model, &s3, location, &out_dir))
        .await
        .unwrap_or_else(|e| panic!("the run from {location} fails: {e}"));
    sorted(report.rows)
}

/// Reads the model from the folder and from S3 under `prefix`, and compares every row.
async fn assert_s3_matches_folder(prefix: &str) {
    let model = tiny_model();
    let from_folder = rows_from_folder(&model).await;
    let from_s3 = rows_from_s3(&model, prefix).await;
    assert!(!from_folder.is_empty(), "the tiny cluster yields rows");
    assert_eq!(
        from_s3.len(),
        from_folder.len(),
        "row count, S3 (prefix {prefix:?}) vs folder"
    );
    for (i, (s3_row, folder_row)) in from_s3.iter().zip(&from_folder).enumerate() {
        assert_eq!(
            s3_row, folder_row,
            "row {i}, S3 (prefix {prefix:?}) vs folder"
        );
    }
}

#[tokio::test]
async fn bucket_root_gives_the_same_rows_as_a_folder() {
    assert_s3_matches_folder("").await;
}

#[tokio::test]
async fn bucket_prefix_gives_the_same_rows_as_a_folder() {
    assert_s3_matches_folder(PREFIX).await;
}

/// A refused signature is the infrastructure's answer (exit code 3, docs/operations.md), and the
/// operator must learn where the engine was reading and what to check: the credentials.
#[tokio::test]
async fn wrong_credentials_fail_naming_the_location_and_the_credentials() {
    let model = tiny_model();
    let s3 = TestS3::start();
    write_cluster(&model, &s3.bucket_dir).expect("write the model into the bucket");
    let location = format!("s3://{}", s3.bucket);
    let out_dir = tempfile::tempdir().expect("a temporary folder");
    let mut request = s3_request(&model, &s3, &location, &out_dir);
    request.s3 = s3_settings(&s3, &s3.access_key, "not-the-secret-key");

    let err = run_quietly(&request)
        .await
        .expect_err("a wrong secret key must fail the run");
    let message = err.to_string();
    assert!(
        matches!(
            err,
            Error::Infrastructure {
                service: Service::ObjectStore,
                ..
            }
        ),
        "a refused signature is the object store's failure, got {err:?}"
    );
    assert!(
        !message.contains("not-the-secret-key"),
        "the message must not print the secret: {message}"
    );
}

/// koku's source with no converted reports in the bucket is the operator's input to fix
/// (exit code 2), and the message says there are no pod-usage files.
#[tokio::test]
async fn bucket_without_the_sources_files_is_an_input_error() {
    let model = tiny_model();
    let s3 = TestS3::start();
    // Another source's files are there; this source's are not.
    let mut other = model.clone();
    other.source_uuid = uuid::Uuid::from_u128(0x0b5c_0000_0000_4000_8000_0000_0000_0001);
    write_cluster(&other, &s3.bucket_dir).expect("write the other source into the bucket");
    let location = format!("s3://{}", s3.bucket);
    let out_dir = tempfile::tempdir().expect("a temporary folder");

    let err = run_quietly(&s3_request(&model, &s3, &location, &out_dir))
        .await
        .expect_err("a source with no files must fail the run");
    let Some(Problem::NoData { searched }) = err.problem() else {
        panic!("no files is bad input of kind NoData, got {err:?}");
    };
    assert!(
        searched.contains(&format!("source={}", model.source_uuid)),
        "the folder searched is the source's: {searched}"
    );
    assert!(err.to_string().contains(searched.as_str()), "{err}");
}
