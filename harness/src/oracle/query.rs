//! The reference query texts (`harness/sql/`) and the parameters of one run of them.
//!
//! The texts are templates in the style of koku's jinjasql ones. [`render`]:
//! - keeps or drops the text of `{% if NAME %} … {% else %} … {% endif %}` blocks (nesting
//!   allowed) on two conditions: `postgres` (the run reproduces koku's PostgreSQL port,
//!   [`Compatibility::Postgres`], spec §9.3) and `storage_exists` (koku's storage table exists,
//!   spec §12.9, a fact about the data the caller finds). A tag alone on its line takes the line
//!   with it;
//! - replaces each `{{name}}` placeholder with a SQL literal of [`QueryParams`] (strings quoted,
//!   dates as `DATE '…'`, a missing value as a typed NULL);
//! - refuses an unknown condition or tag, an unbalanced block, and a placeholder left unfilled.
//!
//! The result is still Trino's dialect; [`super::dialect`] makes it DuckDB's.

use std::path::PathBuf;

use chrono::{Datelike, NaiveDate};
use ocp_engine::compat::Compatibility;
use ocp_engine::config::NodeRecord;
use ocp_engine::run::{CatalogSource, RunRequest};
use uuid::Uuid;

use super::OracleError;

/// The reference query: the Pod, Storage and unallocated rows of the summary (spec §3
/// statements 2 and 3), in Trino's dialect; a template for [`render`].
pub const REFERENCE_SUMMARY_SQL: &str = include_str!("../../sql/reference_summary.sql");

/// The nodes koku finds before the summary, with their capacity and role (spec §6.4), in Trino's
/// dialect; a template for [`render`].
pub const REFERENCE_NODE_ROLES_SQL: &str = include_str!("../../sql/reference_node_roles.sql");

/// koku's merge of the found nodes (table `node_roles_found`) into `reporting_ocp_nodes` (spec
/// §6.4: first role wins), as DuckDB statements for the embedded oracle; a template for
/// [`render`].
pub const POPULATE_OCP_NODES_SQL: &str = include_str!("../../sql/populate_ocp_nodes.sql");

/// Everything one run of the reference query needs: where koku's files are, which source and
/// days, the run's constants, and the catalog rows koku keeps in PostgreSQL.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryParams {
    /// Where koku's `data/` tree is (the bucket root): for the embedded oracle a local folder,
    /// absolute; for the oracles that read a site ([`QueryParams::for_site`]) the engine's
    /// location as given (`s3://bucket`), which they do not read.
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
    /// `reporting_enabledtagkeys` keys enabled for OCP (empty for a site: its oracles read
    /// koku's table).
    pub enabled_tag_keys: Vec<String>,
    /// `reporting_ocp_cost_category_namespace` rows: (LIKE pattern, cost category id) (empty
    /// for a site).
    pub cost_category_patterns: Vec<(String, i32)>,
    /// `reporting_ocp_nodes` rows before the run, of any cluster of the tenant; the run adds the
    /// nodes it finds (spec §6.4) (empty for a site).
    pub nodes: Vec<NodeRecord>,
    /// The koku variant reproduced: Trino's SQL or its PostgreSQL port (spec §9.3).
    pub compatibility: Compatibility,
}

impl QueryParams {
    /// The parameters of the engine run `request`: same folder, source, days, constants,
    /// catalog (enabled keys, cost-category patterns, nodes) and compatibility. The request must
    /// read a local folder (a path or `file://` URL) and carry its catalog inline.
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
                "the embedded oracle needs the catalog inline (enabled keys, cost-category \
                 patterns, nodes), not read from PostgreSQL"
                    .to_string(),
            ));
        };
        // Absolute: the DuckDB CLI runs in a folder of its own.
        let location = std::path::absolute(location).map_err(|e| {
            OracleError::Params(format!("cannot resolve the folder {location}: {e}"))
        })?;
        Ok(QueryParams {
            enabled_tag_keys: catalog.enabled_tag_keys.clone(),
            cost_category_patterns: catalog
                .cost_category_namespaces
                .iter()
                .map(|c| (c.pattern.clone(), c.cost_category_id))
                .collect(),
            nodes: catalog.nodes.clone(),
            ..QueryParams::without_catalog(request, location)
        })
    }

    /// The parameters of the engine run `request` at a site, for the oracles that read the
    /// site's own servers: same source, days, constants, schema and compatibility; the location
    /// as given and no catalog rows (those oracles read koku's catalog tables themselves).
    pub fn for_site(request: &RunRequest) -> Self {
        QueryParams::without_catalog(request, PathBuf::from(&request.location))
    }

    /// The parameters of `request` read from `location`, with no catalog rows.
    fn without_catalog(request: &RunRequest, location: PathBuf) -> Self {
        QueryParams {
            location,
            account: request.account.clone(),
            schema: schema_of_account(&request.account),
            source_uuid: request.source_uuid,
            start: request.start,
            end: request.end,
            report_period_id: request.report_period_id,
            cluster_id: request.cluster_id.clone(),
            cluster_alias: request.cluster_alias.clone(),
            enabled_tag_keys: Vec::new(),
            cost_category_patterns: Vec::new(),
            nodes: Vec::new(),
            compatibility: request.compatibility,
        }
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

/// `template` rendered for `params` (see the module documentation): conditional blocks kept or
/// dropped on `postgres` (from `params.compatibility`) and `storage_exists`, then every
/// `{{name}}` replaced by the SQL literal of that parameter.
pub fn render(
    template: &str,
    params: &QueryParams,
    storage_exists: bool,
) -> Result<String, OracleError> {
    let conditions = [
        ("postgres", params.compatibility == Compatibility::Postgres),
        ("storage_exists", storage_exists),
    ];
    let mut sql = resolve_blocks(template, &conditions).map_err(OracleError::Params)?;
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

/// One open `{% if %}` block: its condition's value and whether its `{% else %}` was passed.
struct Block {
    value: bool,
    in_else: bool,
}

/// `template` with each `{% if NAME %} A {% else %} B {% endif %}` replaced by A when the
/// condition NAME is true, else by B (`{% else %}` optional; blocks nest). A tag with nothing
/// but whitespace beside it on its line is removed with its line.
fn resolve_blocks(template: &str, conditions: &[(&str, bool)]) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut open: Vec<Block> = Vec::new();
    let emitting = |open: &[Block]| open.iter().all(|b| b.value != b.in_else);
    let mut rest = template;
    // Whether `rest` starts a line (nothing of its line was consumed before it).
    let mut at_line_start = true;
    while let Some(start) = rest.find("{%") {
        let end = rest[start..]
            .find("%}")
            .map(|e| start + e)
            .ok_or_else(|| format!("unterminated tag at `{}`", excerpt(&rest[start..])))?;
        let tag = rest[start + 2..end].trim();
        let (mut before, mut after) = (&rest[..start], &rest[end + 2..]);
        let line_start = before.rfind('\n').map(|i| i + 1);
        let alone_before = before[line_start.unwrap_or(0)..].trim().is_empty()
            && (line_start.is_some() || at_line_start);
        let line_end = after.find('\n');
        let alone_after = after[..line_end.unwrap_or(after.len())].trim().is_empty();
        at_line_start = false;
        if alone_before && alone_after {
            before = &before[..line_start.unwrap_or(0)];
            after = line_end.map_or("", |e| &after[e + 1..]);
            at_line_start = true;
        }
        if emitting(&open) {
            out.push_str(before);
        }
        match tag.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["if", name] => {
                let value = conditions
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| *v)
                    .ok_or_else(|| {
                        let known: Vec<&str> = conditions.iter().map(|(n, _)| *n).collect();
                        format!("unknown condition `{name}` (known: {})", known.join(", "))
                    })?;
                open.push(Block {
                    value,
                    in_else: false,
                });
            }
            ["else"] => match open.last_mut() {
                Some(block) if !block.in_else => block.in_else = true,
                _ => {
                    return Err(format!(
                        "`{{% else %}}` without its `if` at `{}`",
                        excerpt(after)
                    ))
                }
            },
            ["endif"] => {
                open.pop().ok_or_else(|| {
                    format!("`{{% endif %}}` without its `if` at `{}`", excerpt(after))
                })?;
            }
            _ => return Err(format!("unknown tag `{{% {tag} %}}`")),
        }
        rest = after;
    }
    if !open.is_empty() {
        return Err(format!("{} `{{% if %}}` block(s) never closed", open.len()));
    }
    out.push_str(rest);
    Ok(out)
}

/// The first 40 characters of `text`, for messages.
fn excerpt(text: &str) -> String {
    text.chars().take(40).collect()
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
            nodes: vec![],
            compatibility: Compatibility::Trino,
        }
    }

    #[test]
    fn render_writes_sql_literals() {
        let sql = render(
            "{{schema}} {{source}} {{year}} {{month}} {{start_date}} {{end_date}} \
             {{report_period_id}} {{cluster_id}} {{cluster_alias}}",
            &params(),
            false,
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
        let err = render("SELECT {{days}}", &params(), false).unwrap_err();
        assert!(err.to_string().contains("{{days}}"), "{err}");
        let mut p = params();
        p.schema = "org1; DROP".into();
        assert!(render("{{schema}}", &p, false).is_err());
    }

    fn blocks(template: &str, postgres: bool, storage: bool) -> String {
        let mut p = params();
        if postgres {
            p.compatibility = Compatibility::Postgres;
        }
        render(template, &p, storage).unwrap()
    }

    #[test]
    fn blocks_keep_the_branch_of_their_condition() {
        let t = "a {% if postgres %}P{% else %}T{% endif %} b";
        assert_eq!(blocks(t, false, false), "a T b");
        assert_eq!(blocks(t, true, false), "a P b");
        let nested = "{% if storage_exists %}s{% if postgres %}p{% endif %}{% endif %}.";
        assert_eq!(blocks(nested, true, true), "sp.");
        assert_eq!(blocks(nested, true, false), ".");
        assert_eq!(blocks(nested, false, true), "s.");
    }

    #[test]
    fn a_tag_alone_on_its_line_takes_the_line_with_it() {
        let t = "SELECT\n  {% if postgres %}\n  1\n  {% else %}\n  2\n  {% endif %}\nFROM t";
        assert_eq!(blocks(t, false, false), "SELECT\n  2\nFROM t");
        assert_eq!(blocks(t, true, false), "SELECT\n  1\nFROM t");
        // A tag after other text on its line keeps the line's end.
        let inline = "x{% if postgres %}{% endif %}\ny";
        assert_eq!(blocks(inline, false, false), "x\ny");
    }

    #[test]
    fn bad_blocks_are_refused() {
        for (template, message) in [
            ("{% if trino %}x{% endif %}", "unknown condition `trino`"),
            ("{% if postgres %}x", "never closed"),
            ("x{% endif %}", "without its `if`"),
            ("{% else %}", "without its `if`"),
            (
                "{% if postgres %}{% else %}{% else %}{% endif %}",
                "without its `if`",
            ),
            ("{% for x %}", "unknown tag"),
            ("{% if postgres ", "unterminated"),
        ] {
            let err = render(template, &params(), false).unwrap_err();
            assert!(err.to_string().contains(message), "{template}: {err}");
        }
    }

    #[test]
    fn the_reference_queries_render_in_every_mode() {
        for compatibility in Compatibility::ALL {
            for storage in [false, true] {
                let mut p = params();
                p.compatibility = compatibility;
                let sql = render(REFERENCE_SUMMARY_SQL, &p, storage).unwrap();
                assert!(
                    sql.contains("FROM hive.org1234567.openshift_pod_usage_line_items_daily AS li")
                );
                assert_eq!(
                    sql.contains("FROM hive.org1234567.openshift_storage_usage_line_items_daily"),
                    storage,
                    "the storage branch follows storage_exists"
                );
                assert_eq!(
                    sql.contains("ESCAPE '\\'"),
                    compatibility == Compatibility::Postgres
                );
                assert!(!sql.contains("{%"));
                render(REFERENCE_NODE_ROLES_SQL, &p, storage).unwrap();
                render(POPULATE_OCP_NODES_SQL, &p, storage).unwrap();
            }
        }
    }

    #[test]
    fn schemas_follow_kokus_account_rule() {
        assert_eq!(schema_of_account("org1234567"), "org1234567");
        assert_eq!(schema_of_account("10001"), "acct10001");
    }
}
