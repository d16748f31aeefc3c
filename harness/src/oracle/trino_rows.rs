//! Trino's result rows as [`ComparableRow`]s.
//!
//! Trino's client protocol sends each row as a JSON array whose values are typed by the result's
//! `columns` (name, type, type signature): `double` and `real` as JSON numbers, or the strings
//! `NaN`, `Infinity`, `-Infinity`; `decimal` as a string (`"12.500"`); the integer types as
//! numbers; `varchar` and `char` as strings; `date` as `"YYYY-MM-DD"`; `json` as the JSON text in
//! a string; NULL as `null`.
//!
//! [`comparable_rows`] finds koku's columns by name (any order, other columns ignored), checks
//! each column's type once against what the comparison needs, and converts every value. Labels
//! (`pod_labels`, `volume_labels`, `varchar` or `json`) become canonical JSON. Any mismatch is an
//! error naming the row, the column, its Trino type and the value.

use chrono::NaiveDate;
use ocp_engine::summary::Metric;
use serde_json::Value;
use trino_rust_client::Column;

use crate::compare::{canonical_json, ComparableRow, NaturalKey, WrittenColumns};

/// What a compared column holds, and so which Trino types may carry it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Labels,
    Date,
    Number,
    Integer,
}

impl Kind {
    fn accepts(self, raw_type: &str) -> bool {
        const INTEGERS: [&str; 4] = ["bigint", "integer", "smallint", "tinyint"];
        match self {
            Kind::Text => matches!(raw_type, "varchar" | "char" | "uuid"),
            Kind::Labels => matches!(raw_type, "varchar" | "char" | "json"),
            Kind::Date => raw_type == "date",
            Kind::Number => {
                matches!(raw_type, "double" | "real" | "decimal") || INTEGERS.contains(&raw_type)
            }
            Kind::Integer => INTEGERS.contains(&raw_type),
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Kind::Text => "varchar",
            Kind::Labels => "varchar or json",
            Kind::Date => "date",
            Kind::Number => "a number type (double, real, decimal, an integer)",
            Kind::Integer => "an integer type",
        }
    }
}

/// A column's raw type, `decimal` for `decimal(33,15)`: its type signature's, else its type
/// name up to the first `(`.
pub fn raw_type(column: &Column) -> String {
    match &column.type_signature {
        Some(signature) => signature.raw_type.to_str().to_string(),
        None => column
            .ty
            .split('(')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// Where each compared column is in the rows, its type checked.
struct Layout<'a> {
    columns: &'a [Column],
}

impl Layout<'_> {
    /// The position of column `name`, which must be of a type `kind` accepts.
    fn index(&self, name: &str, kind: Kind) -> Result<usize, String> {
        let at = self
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("the result has no column {name}"))?;
        let raw = raw_type(&self.columns[at]);
        if kind.accepts(&raw) {
            Ok(at)
        } else {
            Err(format!(
                "column {name} is {}, expected {}",
                self.columns[at].ty,
                kind.expected()
            ))
        }
    }
}

/// The position of every compared column.
struct Fields {
    data_source: usize,
    usage_start: usize,
    namespace: usize,
    node: usize,
    resource_id: usize,
    persistentvolumeclaim: usize,
    persistentvolume: usize,
    storageclass: usize,
    pod_labels: usize,
    volume_labels: usize,
    cost_category_id: usize,
    metrics: Vec<usize>,
    usage_end: usize,
    all_labels: usize,
    infrastructure_usage_cost: usize,
    report_period_id: usize,
    cluster_id: usize,
    cluster_alias: usize,
    source_uuid: usize,
}

impl Fields {
    fn find(columns: &[Column]) -> Result<Self, String> {
        let layout = Layout { columns };
        let field = |name: &str, kind| layout.index(name, kind);
        Ok(Fields {
            data_source: field("data_source", Kind::Text)?,
            usage_start: field("usage_start", Kind::Date)?,
            namespace: field("namespace", Kind::Text)?,
            node: field("node", Kind::Text)?,
            resource_id: field("resource_id", Kind::Text)?,
            persistentvolumeclaim: field("persistentvolumeclaim", Kind::Text)?,
            persistentvolume: field("persistentvolume", Kind::Text)?,
            storageclass: field("storageclass", Kind::Text)?,
            pod_labels: field("pod_labels", Kind::Labels)?,
            volume_labels: field("volume_labels", Kind::Labels)?,
            cost_category_id: field("cost_category_id", Kind::Integer)?,
            metrics: Metric::ALL
                .iter()
                .map(|m| field(m.column(), Kind::Number))
                .collect::<Result<_, _>>()?,
            usage_end: field("usage_end", Kind::Date)?,
            all_labels: field("all_labels", Kind::Labels)?,
            infrastructure_usage_cost: field("infrastructure_usage_cost", Kind::Labels)?,
            report_period_id: field("report_period_id", Kind::Integer)?,
            cluster_id: field("cluster_id", Kind::Text)?,
            cluster_alias: field("cluster_alias", Kind::Text)?,
            source_uuid: field("source_uuid", Kind::Text)?,
        })
    }
}

/// The rows of a result with `columns` (see the module documentation).
pub fn comparable_rows(
    columns: &[Column],
    rows: &[Vec<Value>],
) -> Result<Vec<ComparableRow>, String> {
    let fields = Fields::find(columns)?;
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            if row.len() != columns.len() {
                return Err(format!(
                    "row {} has {} values for {} columns",
                    i + 1,
                    row.len(),
                    columns.len()
                ));
            }
            let cell = Cell {
                row,
                number: i + 1,
                columns,
            };
            comparable_row(&cell, &fields)
        })
        .collect()
}

/// One row's values, with what an error message needs.
struct Cell<'a> {
    row: &'a [Value],
    /// 1-based, for messages.
    number: usize,
    columns: &'a [Column],
}

impl Cell<'_> {
    /// The value of `field` as `convert` reads it; an error names the row, column and value.
    fn get<T>(
        &self,
        at: usize,
        convert: fn(&Value) -> Result<Option<T>, String>,
    ) -> Result<Option<T>, String> {
        let value = &self.row[at];
        convert(value).map_err(|problem| {
            let column = &self.columns[at];
            format!(
                "row {}, column {} ({}): {problem}, got {value}",
                self.number, column.name, column.ty
            )
        })
    }

    fn text(&self, at: usize) -> Result<Option<String>, String> {
        self.get(at, text)
    }

    /// A value that must not be NULL.
    fn required<T>(&self, at: usize, value: Option<T>) -> Result<T, String> {
        value.ok_or_else(|| {
            format!(
                "row {}, column {}: NULL where koku always writes a value",
                self.number, self.columns[at].name
            )
        })
    }
}

fn comparable_row(cell: &Cell, f: &Fields) -> Result<ComparableRow, String> {
    let key = NaturalKey {
        data_source: cell.required(f.data_source, cell.text(f.data_source)?)?,
        usage_start: cell.required(f.usage_start, cell.get(f.usage_start, date)?)?,
        namespace: cell.text(f.namespace)?,
        node: cell.text(f.node)?,
        resource_id: cell.text(f.resource_id)?,
        persistentvolumeclaim: cell.text(f.persistentvolumeclaim)?,
        persistentvolume: cell.text(f.persistentvolume)?,
        storageclass: cell.text(f.storageclass)?,
        pod_labels: cell.get(f.pod_labels, labels)?,
        volume_labels: cell.get(f.volume_labels, labels)?,
        written: WrittenColumns {
            usage_end: cell.get(f.usage_end, date)?,
            all_labels: cell.get(f.all_labels, labels)?,
            infrastructure_usage_cost: cell.get(f.infrastructure_usage_cost, labels)?,
            report_period_id: cell.get(f.report_period_id, integer)?,
            cluster_id: cell.text(f.cluster_id)?,
            cluster_alias: cell.text(f.cluster_alias)?,
            source_uuid: cell.text(f.source_uuid)?.map(|s| s.to_lowercase()),
        },
    };
    let mut metrics = [None; 18];
    for (value, at) in metrics.iter_mut().zip(&f.metrics) {
        *value = cell.get(*at, number)?;
    }
    Ok(ComparableRow {
        key,
        cost_category_id: cell.get(f.cost_category_id, integer)?,
        metrics,
    })
}

fn text(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err("expected a string".to_string()),
    }
}

/// Label JSON in canonical form: from a JSON text (`varchar` or Trino's `json`), or from an
/// object should a server send one unquoted.
fn labels(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(canonical_json(s))),
        Value::Object(_) => Ok(Some(canonical_json(&value.to_string()))),
        _ => Err("expected JSON text".to_string()),
    }
}

fn date(value: &Value) -> Result<Option<NaiveDate>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|e| format!("expected a YYYY-MM-DD date ({e})")),
        _ => Err("expected a date string".to_string()),
    }
}

/// A number: a JSON number, or a string holding a decimal (Trino's `decimal`) or one of
/// `NaN`, `Infinity`, `-Infinity` (Trino's non-finite doubles).
fn number(value: &Value) -> Result<Option<f64>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| "expected a number".to_string()),
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(Some(f64::NAN)),
            "Infinity" => Ok(Some(f64::INFINITY)),
            "-Infinity" => Ok(Some(f64::NEG_INFINITY)),
            _ => s
                .parse::<f64>()
                .map(Some)
                .map_err(|_| "expected a decimal number".to_string()),
        },
        _ => Err("expected a number".to_string()),
    }
}

fn integer(value: &Value) -> Result<Option<i32>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .and_then(|i| i32::try_from(i).ok())
            .map(Some)
            .ok_or_else(|| "expected an integer that fits in 32 bits".to_string()),
        _ => Err("expected an integer".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn column(name: &str, ty: &str) -> Column {
        serde_json::from_value(json!({ "name": name, "type": ty })).unwrap()
    }

    #[test]
    fn raw_types_come_from_the_signature_or_the_type_name() {
        assert_eq!(raw_type(&column("x", "decimal(33,15)")), "decimal");
        assert_eq!(raw_type(&column("x", "varchar")), "varchar");
        let signed: Column = serde_json::from_value(json!({
            "name": "x", "type": "varchar(253)",
            "typeSignature": {"rawType": "varchar", "arguments": [{"kind": "LONG", "value": 253}]}
        }))
        .unwrap();
        assert_eq!(raw_type(&signed), "varchar");
    }

    #[test]
    fn values_convert_by_their_trino_encoding() {
        assert_eq!(number(&json!(1.5)), Ok(Some(1.5)));
        assert_eq!(number(&json!(3)), Ok(Some(3.0)));
        assert_eq!(number(&json!("12.500")), Ok(Some(12.5)));
        assert_eq!(number(&json!("-Infinity")), Ok(Some(f64::NEG_INFINITY)));
        assert!(number(&json!("NaN")).unwrap().unwrap().is_nan());
        assert_eq!(number(&Value::Null), Ok(None));
        assert!(number(&json!("twelve")).is_err());
        assert_eq!(integer(&json!(7)), Ok(Some(7)));
        assert!(integer(&json!(1_i64 << 40)).is_err());
        assert_eq!(
            date(&json!("2026-09-01")),
            Ok(NaiveDate::from_ymd_opt(2026, 9, 1))
        );
        assert!(date(&json!("01/09/2026")).is_err());
        assert_eq!(
            labels(&json!(r#"{"b": "2", "a": "1"}"#)),
            Ok(Some(r#"{"a":"1","b":"2"}"#.to_string()))
        );
        assert_eq!(
            labels(&json!({"b": "2", "a": "1"})),
            Ok(Some(r#"{"a":"1","b":"2"}"#.to_string()))
        );
        assert!(text(&json!(1)).is_err());
    }

    #[test]
    fn a_column_of_the_wrong_type_or_missing_is_named() {
        let mut columns: Vec<Column> = vec![column("data_source", "integer")];
        let error = Fields::find(&columns).err().unwrap();
        assert_eq!(error, "column data_source is integer, expected varchar");
        columns[0] = column("data_source", "varchar");
        let error = Fields::find(&columns).err().unwrap();
        assert_eq!(error, "the result has no column usage_start");
    }
}
