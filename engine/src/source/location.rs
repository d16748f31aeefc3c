//! Opening the object store named by a location string.

use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientConfigKey, ObjectMeta, ObjectStore, RetryConfig};

use crate::error::{Error, Result, Service};

/// An opened store plus the prefix inside it under which koku's `data/` tree starts.
#[derive(Clone)]
pub struct ObjectSource {
    pub store: Arc<dyn ObjectStore>,
    /// Prefix inside the store (empty for a bucket or folder root).
    root: String,
    /// The location as the user gave it, for messages.
    pub display: String,
    /// What to check when the store cannot be reached, for messages.
    pub access_hint: &'static str,
    /// The store's root as a person names it (`s3://bucket` or the folder), for messages.
    store_display: String,
}

/// What to check when S3 refuses or cannot be reached.
const S3_ACCESS_HINT: &str = "check the endpoint (source.s3_endpoint / --s3-endpoint / \
    AWS_ENDPOINT), the bucket name, and the credentials (source.s3_access_key_id and \
    s3_secret_access_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY): a 403 means the key \
    pair is wrong or lacks read access to the bucket";

/// What to check when a local folder cannot be read.
const FOLDER_ACCESS_HINT: &str = "check that the folder (source.location / --input) exists and \
    is readable by this user";

/// S3 settings that override the `AWS_*` environment.
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Access key id and secret key; otherwise `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.
    pub credentials: Option<S3Credentials>,
    /// How long one S3 request may take, body included; [`S3_REQUEST_TIMEOUT`] when `None`.
    pub request_timeout: Option<Duration>,
}

/// How long one S3 request may take, from connecting to the last byte of its body. koku's
/// files are a day of one table each (a few MB at most), read in ranges.
pub const S3_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting to S3 may take.
pub const S3_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What is retried, and for how long (docs/operations.md "Retries and timeouts"): a request
/// that times out, a connection that fails or is reset, a 5xx answer (and S3's `SlowDown`),
/// and a body cut short (the rest read again from where it broke, while the object's ETag is
/// unchanged) are tried again up to [`S3_RETRIES`] times, backing off 0.1 s, 0.2 s, … up to
/// 5 s, within [`S3_RETRY_WINDOW`] of the first failure; a 4xx answer is not retried. Then
/// the run fails as an infrastructure failure naming the object.
pub const S3_RETRIES: usize = 5;
/// The time within which a failed S3 request is retried.
pub const S3_RETRY_WINDOW: Duration = Duration::from_secs(60);

/// The engine's retry policy for S3 ([`S3_RETRIES`]).
fn s3_retry() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            base: 2.0,
        },
        max_retries: S3_RETRIES,
        retry_timeout: S3_RETRY_WINDOW,
    }
}

/// A static S3 key pair.
#[derive(Clone, Default)]
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Credentials {
    /// Never prints the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Whether `name` (an account) can be one folder of koku's tree as it is written: not empty, no
/// `/`, and nothing `object_store` would percent-encode in a path (`"`, `%`, `#`, `*`, `?`,
/// brackets, braces, `^`, `` ` ``, `|`, `~`, `\`, control characters), which would make the
/// engine list another folder than koku's.
pub fn is_plain_folder_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('/') && ObjectPath::from(name).as_ref() == name
}

impl ObjectSource {
    /// Opens `location`: `s3://bucket[/prefix]`, `file:///path`, or a plain folder path.
    ///
    /// S3 credentials, endpoint and region come from the usual `AWS_*` environment variables
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ENDPOINT`, `AWS_REGION`,
    /// `AWS_ALLOW_HTTP`), with `settings` taking precedence.
    pub fn open(location: &str, settings: &S3Settings) -> Result<ObjectSource> {
        if let Some(rest) = location
            .strip_prefix("s3://")
            .or_else(|| location.strip_prefix("s3a://"))
        {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(Error::setting(
                    "source.location",
                    format!(
                        "source location {location:?} names no bucket: use s3://BUCKET[/PREFIX]"
                    ),
                ));
            }
            let timeout = settings.request_timeout.unwrap_or(S3_REQUEST_TIMEOUT);
            let mut builder = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_retry(s3_retry())
                .with_config(
                    AmazonS3ConfigKey::Client(ClientConfigKey::Timeout),
                    format!("{}ms", timeout.as_millis()),
                )
                .with_config(
                    AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                    format!("{}ms", S3_CONNECT_TIMEOUT.as_millis()),
                );
            if let Some(endpoint) = &settings.endpoint {
                builder = builder
                    .with_endpoint(endpoint)
                    .with_allow_http(endpoint.starts_with("http://"));
            }
            if let Some(region) = &settings.region {
                builder = builder.with_region(region);
            }
            if let Some(credentials) = &settings.credentials {
                builder = builder
                    .with_access_key_id(&credentials.access_key_id)
                    .with_secret_access_key(&credentials.secret_access_key);
            }
            let store = builder.build().map_err(|e| {
                Error::setting(
                    "source.location",
                    format!("cannot configure S3 for {location:?}: {e}"),
                )
            })?;
            return Ok(ObjectSource {
                store: Arc::new(store),
                root: prefix.trim_matches('/').to_string(),
                display: location.to_string(),
                access_hint: S3_ACCESS_HINT,
                store_display: format!("s3://{bucket}"),
            });
        }
        let path = location.strip_prefix("file://").unwrap_or(location);
        if !std::path::Path::new(path).is_dir() {
            return Err(Error::setting(
                "source.location",
                format!(
                "source location {location:?} is not a folder (setting source.location / --input); \
                 give a local folder holding koku's data/ tree, or s3://BUCKET[/PREFIX]"
            ),
            ));
        }
        let store = LocalFileSystem::new_with_prefix(path).map_err(|e| {
            Error::setting(
                "source.location",
                format!("cannot open folder {path:?}: {e}"),
            )
        })?;
        Ok(ObjectSource {
            store: Arc::new(store),
            root: String::new(),
            display: location.to_string(),
            access_hint: FOLDER_ACCESS_HINT,
            store_display: path.trim_end_matches('/').to_string(),
        })
    }

    /// The full name of an object of this store (`s3://bucket/key` or `folder/path`), for messages.
    pub fn object_name(&self, object: &ObjectPath) -> String {
        format!("{}/{object}", self.store_display)
    }

    /// The Parquet objects under `prefix` (relative to the source root), sorted by path.
    /// Hidden files (`.x`, `_x`) are skipped, as Hive skips them, and so are zero-length files,
    /// of which Trino makes no split: they hold no rows.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        let full = if self.root.is_empty() {
            prefix.to_string()
        } else {
            format!("{}/{prefix}", self.root)
        };
        let mut objects: Vec<ObjectMeta> = self
            .store
            .list(Some(&ObjectPath::from(full.as_str())))
            .try_collect()
            .await
            .map_err(|e| {
                Error::infrastructure(
                    Service::ObjectStore,
                    format!(
                        "cannot list {full} in {}: {e}; {}",
                        self.display, self.access_hint
                    ),
                )
            })?;
        objects.retain(|o| {
            o.size > 0
                && o.location
                    .filename()
                    .is_some_and(|name| !name.starts_with('.') && !name.starts_with('_'))
        });
        objects.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(objects)
    }
}
