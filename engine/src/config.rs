//! The engine's configuration file (TOML) and the run parameters it resolves to.
//!
//! A config file names where koku's Parquet lives, which source and dates to aggregate, where the
//! catalog comes from (PostgreSQL, or the `[catalog]` table for the embedded default) and where the
//! rows go. Command-line flags and environment variables override the file (see `cli`).

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::compat::Compatibility;
use crate::error::{Error, Problem, Result};
use crate::redact::redact_password;

/// The whole config file. Every section is optional so that flags can supply what is missing.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub source: SourceSection,
    #[serde(default)]
    pub period: PeriodSection,
    /// Catalog tables given inline, used when no PostgreSQL catalog is configured.
    pub catalog: Option<InlineCatalog>,
    #[serde(default)]
    pub postgres: PostgresSection,
    #[serde(default)]
    pub summary: SummarySection,
}

/// How the rows are computed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SummarySection {
    /// The koku variant to reproduce: `trino` (default) or `postgres` (spec §9.3).
    pub compatibility: Option<Compatibility>,
}

/// Where koku's Parquet is and which source to read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceSection {
    /// A local folder (path or `file://` URL) or `s3://bucket[/prefix]` holding koku's `data/` tree.
    /// A relative path is taken relative to the config file's folder.
    pub location: Option<String>,
    /// koku's account folder: the tenant schema without a leading `acct` (e.g. `org1234567`).
    pub account: Option<String>,
    /// The OpenShift source (provider) UUID.
    pub source_uuid: Option<String>,
    /// S3 endpoint (MinIO etc.); otherwise `AWS_ENDPOINT` or AWS's default.
    pub s3_endpoint: Option<String>,
    /// Seconds one S3 request may take, body included (30 by default); failed requests are
    /// retried (docs/operations.md "Retries and timeouts").
    pub s3_request_timeout_seconds: Option<f64>,
    /// S3 region; otherwise `AWS_REGION`, else `us-east-1`.
    pub s3_region: Option<String>,
    /// S3 access key id; otherwise `AWS_ACCESS_KEY_ID`. Needs `s3_secret_access_key` too.
    pub s3_access_key_id: Option<String>,
    /// S3 secret key; otherwise `AWS_SECRET_ACCESS_KEY`. Prefer the environment variable at a
    /// site, so the secret stays out of files.
    pub s3_secret_access_key: Option<String>,
}

/// The date range and the identity of the rows written.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PeriodSection {
    /// First day, `YYYY-MM-DD`.
    pub start: Option<String>,
    /// Last day, inclusive, same month as `start`.
    pub end: Option<String>,
    /// `reporting_ocpusagereportperiod.id`; looked up in PostgreSQL when absent.
    pub report_period_id: Option<i32>,
    pub cluster_id: Option<String>,
    pub cluster_alias: Option<String>,
}

/// Enabled tag keys and cost-category patterns given in the file instead of PostgreSQL.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InlineCatalog {
    /// Keys enabled for OCP in `reporting_enabledtagkeys` (after koku strips `label_`).
    #[serde(default)]
    pub enabled_tag_keys: Vec<String>,
    /// Rows of `reporting_ocp_cost_category_namespace`.
    #[serde(default)]
    pub cost_category_namespaces: Vec<CostCategoryPattern>,
    /// Rows already in `reporting_ocp_nodes` before the run (any cluster of the tenant). The run
    /// adds the nodes it finds, keeping these rows' roles (spec §6.4: first role wins).
    #[serde(default)]
    pub nodes: Vec<NodeRecord>,
}

/// One `reporting_ocp_nodes` row, as far as the summary uses it (spec §2.4, §6.4).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NodeRecord {
    pub node: String,
    pub resource_id: Option<String>,
    /// numeric(18,2) in koku; part of the identity of a row with `node`, `resource_id`, cluster.
    pub node_capacity_cpu_cores: Option<f64>,
    /// The OpenShift cluster id (`reporting_ocp_clusters.cluster_id`) the row belongs to.
    pub cluster_id: Option<String>,
    pub node_role: Option<String>,
}

/// One `reporting_ocp_cost_category_namespace` row: a LIKE pattern and its category.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CostCategoryPattern {
    pub pattern: String,
    pub cost_category_id: i32,
}

/// PostgreSQL used as catalog and (unless a file output is chosen) as sink.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PostgresSection {
    /// libpq-style URL or key=value string, e.g. `postgresql://koku@db:5432/koku`.
    pub url: Option<String>,
    /// The tenant schema holding koku's tables (e.g. `org1234567`).
    pub schema: Option<String>,
    /// How long a run waits for another run writing the same source and month (600 by default;
    /// 0: fail at once instead of waiting).
    pub lock_wait_seconds: Option<u64>,
}

impl ConfigFile {
    /// Reads and parses a config file; relative `source.location` paths are resolved against
    /// the file's folder.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::input(
                Problem::File(path.display().to_string()),
                format!("cannot read config file {}: {e}", path.display()),
            )
        })?;
        let mut config: ConfigFile = toml::from_str(&text).map_err(|e| {
            Error::input(
                Problem::File(path.display().to_string()),
                format!(
                    "config file {} is not valid: {}",
                    path.display(),
                    describe_toml_error(&text, &e)
                ),
            )
        })?;
        if let Some(location) = &config.source.location {
            let is_url = location.contains("://");
            if !is_url && Path::new(location).is_relative() {
                let base = path.parent().unwrap_or(Path::new("."));
                config.source.location = Some(base.join(location).to_string_lossy().into_owned());
            }
        }
        Ok(config)
    }

    /// The file's text, as `load` reads it back.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("config serialises to TOML")
    }
}

/// Where and why a config file's `text` does not parse, without quoting it: toml's own message
/// shows the offending line, which may hold a PostgreSQL URL and its password. Any URL in
/// toml's explanation (a value of the wrong type) is shown without its password.
pub fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    let explanation: Vec<String> = error
        .message()
        .split(' ')
        .map(|word| {
            if word.contains("://") {
                redact_password(word)
            } else {
                word.to_string()
            }
        })
        .collect();
    let explanation = explanation.join(" ");
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!("line {line}, column {column}: {explanation}")
        }
        None => explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_that_does_not_parse_is_located_not_quoted() {
        // An unquoted URL: toml's own message would print the line, password and all.
        let text = "[postgres]\nurl = postgresql://koku:s3cret@db/koku\n";
        let error = toml::from_str::<ConfigFile>(text).unwrap_err();
        let message = describe_toml_error(text, &error);
        assert!(!message.contains("s3cret"), "{message}");
        assert!(message.starts_with("line 2, column "), "{message}");
    }

    #[test]
    fn a_url_quoted_in_the_explanation_loses_its_password() {
        // A URL where a number belongs: toml's explanation quotes the value.
        let text = "[postgres]\nlock_wait_seconds = \"postgresql://koku:s3cret@db/koku\"\n";
        let error = toml::from_str::<ConfigFile>(text).unwrap_err();
        let message = describe_toml_error(text, &error);
        assert!(!message.contains("s3cret"), "{message}");
        assert!(message.starts_with("line 2, column 21"), "{message}");
    }
}
