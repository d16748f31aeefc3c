//! The reference query (`harness/sql/reference_pod.sql`) and the parameters of one run of it.
//!
//! The query text holds `{{name}}` placeholders, as koku's jinjasql templates do. [`render`]
//! replaces each with a SQL literal of [`QueryParams`] (strings quoted, dates as `DATE '…'`,
//! a missing value as a typed NULL) and refuses to leave a placeholder unreplaced. The result is
//! still Trino's dialect; [`super::dialect`] makes it DuckDB's.

use std::path::PathBuf;

use chrono::{Datelike, NaiveDate};
use ocp_engine::run::{CatalogSource, RunRequest};
use uuid::Uuid;

use super::OracleError;
use crate::scenario::Scenario;

/// The Pod branch of the reference query, in Trino's dialect, with `{{name}}` placeholders.
pub const REFERENCE_POD_SQL: &str = include_str!("../../sql/reference_pod.sql");

/// Everything one run of the reference query needs: where koku's files are, which source and
/// days, the run's constants, and the catalog rows koku keeps in PostgreSQL.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryParams {
    /// Local folder holding koku's `data/` tree (the bucket root), absolute.
    pub location: PathBuf,
    /// koku's account folder (`org1234567`): the schema without a leading `acct`.
    pub account: String,
    /// The tenant schema the query's tables live in (`hive.<schema>.…`, `postgres.<schema>.…`).
    pub schema: String,
    pub source_uuid: Uuid,
    /// First day (D0). Year and month of the partitions come from it (spec §1.3).
    pub start: NaiveDate,
    /// Last day, inclusive (D1), in the same month as `start`.
    pub end: NaiveDate,
    pub report_period_id: Option<i32>,
    pub cluster_id: Option<String>,
    pub cluster_alias: Option<String>,
    /// `reporting_enabledtagkeys` keys enabled for OCP.
    pub enabled_tag_keys: Vec<String>,
    /// `reporting_ocp_cost_category_namespace` rows: (LIKE pattern, cost category id).
    pub cost_category_patterns: Vec<(String, i32)>,
}

impl QueryParams {
    /// The parameters of the engine run `request`: same folder, source, days, constants and
    /// catalog. The request must read a local folder (a path or `file://` URL) and carry its
    /// catalog inline.
    pub fn from_request(request: &RunRequest) -> Result<Self, OracleError> {
        let location = request
            .location
            .strip_prefix("file://")
            .unwrap_or(&request.location);
        if location.contains("://") {
            return Err(OracleError::Params(format!(
                "the embedded oracle reads a local folder, not {location}"
            )));
        }
        let CatalogSource::Inline(catalog) = &request.catalog else {
            return Err(OracleError::Params(
                "the embedded oracle needs the catalog inline (enabled keys and cost-category \
                 patterns), not read from PostgreSQL"
                    .to_string(),
            ));
        };
        // Absolute: the DuckDB CLI runs in a folder of its own.
        let location = std::path::absolute(location).map_err(|e| {
            OracleError::Params(format!("cannot resolve the folder {location}: {e}"))
        })?;
        Ok(QueryParams {
            location,
            account: request.account.clone(),
            schema: schema_of_account(&request.account),
            source_uuid: request.source_uuid,
            start: request.start,
            end: request.end,
            report_period_id: request.report_period_id,
            cluster_id: request.cluster_id.clone(),
            cluster_alias: request.cluster_alias.clone(),
            enabled_tag_keys: catalog.enabled_tag_keys.clone(),
            cost_category_patterns: catalog
                .cost_category_namespaces
                .iter()
                .map(|c| (c.pattern.clone(), c.cost_category_id))
                .collect(),
        })
    }

    /// The parameters of [`Scenario::request`]: the scenario's model over its whole date range.
    pub fn for_scenario(scenario: &Scenario) -> Self {
        Self::from_request(&scenario.request())
            .expect("a scenario reads a local folder with an inline catalog")
    }

    /// `year` partition value: four digits.
    pub fn year(&self) -> String {
        format!("{:04}", self.start.year())
    }

    /// `month` partition value: zero-padded (spec §1.3, §7.9).
    pub fn month(&self) -> String {
        format!("{:02}", self.start.month())
    }
}

/// koku's schema for an account folder: `org…` accounts are their own schema, older numeric
/// accounts live in `acct<account>` (spec §2.1 strips that prefix to make the folder name).
pub fn schema_of_account(account: &str) -> String {
    if account.starts_with("org") {
        account.to_string()
    } else {
        format!("acct{account}")
    }
}

/// `template` with every `{{name}}` replaced by the SQL literal of that parameter.
pub fn render(template: &str, params: &QueryParams) -> Result<String, OracleError> {
    let mut sql = template.to_string();
    for (name, literal) in bindings(params)? {
        sql = sql.replace(&format!("{{{{{name}}}}}"), &literal);
    }
    match sql.find("{{") {
        None => Ok(sql),
        Some(at) => {
            let rest: String = sql[at..].chars().take(40).collect();
            Err(OracleError::Params(format!(
                "the query has a placeholder no parameter fills: {rest}"
            )))
        }
    }
}

fn bindings(params: &QueryParams) -> Result<Vec<(&'static str, String)>, OracleError> {
    Ok(vec![
        ("schema", sql_identifier(&params.schema)?),
        ("source", sql_string(&params.source_uuid.to_string())),
        ("year", sql_string(&params.year())),
        ("month", sql_string(&params.month())),
        ("start_date", sql_date(params.start)),
        ("end_date", sql_date(params.end)),
        (
            "report_period_id",
            params
                .report_period_id
                .map_or("CAST(NULL AS integer)".to_string(), |id| id.to_string()),
        ),
        (
            "cluster_id",
            sql_optional_string(params.cluster_id.as_deref()),
        ),
        (
            "cluster_alias",
            sql_optional_string(params.cluster_alias.as_deref()),
        ),
    ])
}

/// A SQL string literal: `'…'` with quotes doubled.
pub fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn sql_optional_string(text: Option<&str>) -> String {
    text.map_or("CAST(NULL AS varchar)".to_string(), sql_string)
}

fn sql_date(date: NaiveDate) -> String {
    format!("DATE '{}'", date.format("%Y-%m-%d"))
}

/// `name` if it is a plain SQL identifier (letters, digits, `_`, not starting with a digit).
pub fn sql_identifier(name: &str) -> Result<String, OracleError> {
    let mut bytes = name.bytes();
    let plain = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if plain {
        Ok(name.to_string())
    } else {
        Err(OracleError::Params(format!(
            "schema name {name:?} is not a plain SQL identifier"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> QueryParams {
        QueryParams {
            location: PathBuf::from("/data"),
            account: "org1234567".into(),
            schema: "org1234567".into(),
            source_uuid: Uuid::from_u128(1),
            start: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            end: NaiveDate::from_ymd_opt(2026, 9, 3).unwrap(),
            report_period_id: Some(7),
            cluster_id: Some("o'clock".into()),
            cluster_alias: None,
            enabled_tag_keys: vec![],
            cost_category_patterns: vec![],
        }
    }

    #[test]
    fn render_writes_sql_literals() {
        let sql = render(
            "{{schema}} {{source}} {{year}} {{month}} {{start_date}} {{end_date}} \
             {{report_period_id}} {{cluster_id}} {{cluster_alias}}",
            &params(),
        )
        .unwrap();
        assert_eq!(
            sql,
            "org1234567 '00000000-0000-0000-0000-000000000001' '2026' '09' DATE '2026-09-01' \
             DATE '2026-09-03' 7 'o''clock' CAST(NULL AS varchar)"
        );
    }

    #[test]
    fn render_refuses_unknown_placeholders_and_odd_schemas() {
        let err = render("SELECT {{days}}", &params()).unwrap_err();
        assert!(err.to_string().contains("{{days}}"), "{err}");
        let mut p = params();
        p.schema = "org1; DROP".into();
        assert!(render("{{schema}}", &p).is_err());
    }

    #[test]
    fn the_reference_query_renders() {
        let sql = render(REFERENCE_POD_SQL, &params()).unwrap();
        assert!(sql.contains("FROM hive.org1234567.openshift_pod_usage_line_items_daily AS li"));
    }

    #[test]
    fn from_request_takes_a_local_folder_and_an_inline_catalog() {
        use crate::scenario::engine_request;
        use crate::synth::{generate, Scale};
        use ocp_engine::run::Output;

        let model = generate(Scale::Tiny, 1);
        let output = Output::File("out.parquet".into());
        let request = engine_request(&model, "file:///data/tiny", output.clone());
        let p = QueryParams::from_request(&request).unwrap();
        assert_eq!(p.location, PathBuf::from("/data/tiny"));
        assert_eq!(
            (p.year(), p.month()),
            ("2026".to_string(), "09".to_string())
        );
        assert_eq!(p.enabled_tag_keys, model.enabled_tag_keys);
        assert_eq!(p.cost_category_patterns, model.cost_category_patterns);

        let s3 = engine_request(&model, "s3://bucket", output.clone());
        assert!(QueryParams::from_request(&s3).is_err());
        let mut from_postgres = engine_request(&model, "/data", output);
        from_postgres.catalog = CatalogSource::Postgres;
        assert!(QueryParams::from_request(&from_postgres).is_err());
    }

    #[test]
    fn schemas_follow_kokus_account_rule() {
        assert_eq!(schema_of_account("org1234567"), "org1234567");
        assert_eq!(schema_of_account("10001"), "acct10001");
    }
}
