//! Label parsing, filtering by enabled keys and merging (spec §6.1, §5 "filt", §7.13, §7.14).
//!
//! koku stores labels as JSON object text (Python `json.dumps`). Trino reads them with
//! `cast(json_parse(x) as map(varchar, varchar))`, keeps the enabled keys with `map_filter`, and
//! merges node, namespace and pod maps with `map_concat`, where the last map wins on a key clash.
//! Label sets are interned: each distinct filtered or merged map gets a small id, so grouping on
//! "the merged label map" is grouping on an integer.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::compat::Compatibility;

/// A label map with keys in sorted order: equal maps compare equal whatever the input order
/// (spec §7.7), and JSON output has sorted keys as Trino's `json_format(cast(map as json))`.
pub type LabelMap = BTreeMap<String, String>;

/// The key koku keeps whenever at least one key is enabled (spec §3 `cte_pg_enabled_keys`).
pub const ALWAYS_KEPT_KEY: &str = "vm_kubevirt_io_name";

/// The keys a label filter keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnabledKeys {
    /// Trino with no enabled OCP key: `ARRAY['vm_kubevirt_io_name'] || array_agg(...)` is NULL,
    /// so `map_filter` keeps nothing, not even `vm_kubevirt_io_name` (spec §3, §7.14).
    DropAll,
    /// `vm_kubevirt_io_name` plus the enabled keys, matched exactly and case-sensitively.
    Keep(HashSet<String>),
}

impl EnabledKeys {
    /// The filter `compat` applies for these enabled keys (spec §5 KEYS, §9.3): with none
    /// enabled, Trino keeps nothing and koku's PostgreSQL port keeps `vm_kubevirt_io_name`.
    pub fn new(enabled: &[String], compat: Compatibility) -> Self {
        match compat {
            Compatibility::Trino => EnabledKeys::trino(enabled),
            Compatibility::Postgres => {
                let mut keys: HashSet<String> = enabled.iter().cloned().collect();
                keys.insert(ALWAYS_KEPT_KEY.to_string());
                EnabledKeys::Keep(keys)
            }
        }
    }

    /// The filter Trino applies for these enabled keys (spec §5: KEYS).
    pub fn trino(enabled: &[String]) -> Self {
        if enabled.is_empty() {
            return EnabledKeys::DropAll;
        }
        let mut keys: HashSet<String> = enabled.iter().cloned().collect();
        keys.insert(ALWAYS_KEPT_KEY.to_string());
        EnabledKeys::Keep(keys)
    }

    fn keeps(&self, key: &str) -> bool {
        match self {
            EnabledKeys::DropAll => false,
            EnabledKeys::Keep(keys) => keys.contains(key),
        }
    }
}

/// Parses koku's label JSON into its entries as Trino's
/// `cast(json_parse(x) as map(varchar, varchar))` reads it (checked on Trino 476,
/// `harness/tests/trino.rs`, `rules`): a key given twice keeps its last value; a number or a
/// boolean becomes the text Trino casts it to ([`json_scalar_text`]). It fails where Trino
/// fails: not JSON, not an object, a nested value (spec §7.13). A `null` value, which Trino
/// keeps as a NULL map value, is refused here: koku's ingest never writes one (its label JSON
/// maps strings to strings, spec §2.3), and a label map here holds text only.
pub fn parse_labels(text: &str) -> Result<Vec<(String, String)>, String> {
    serde_json::from_str::<LabelEntries>(text)
        .map(|entries| entries.0)
        .map_err(|e| format!("not a flat JSON object of labels ({e})"))
}

/// Keeps the entries whose key `keys` keeps (Trino `map_filter(m, (k, v) -> contains(keys, k))`).
pub fn filter_labels(entries: &[(String, String)], keys: &EnabledKeys) -> LabelMap {
    entries
        .iter()
        .filter(|(key, _)| keys.keeps(key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// Right-biased union: entries of `later` replace those of `earlier` (Trino `map_concat`).
pub fn merge_into(merged: &mut LabelMap, later: &LabelMap) {
    for (key, value) in later {
        merged.insert(key.clone(), value.clone());
    }
}

/// Compact JSON with sorted keys, as Trino's `json_format(cast(map as json))` writes it.
pub fn to_json(labels: &LabelMap) -> String {
    serde_json::to_string(labels).expect("a string map always serialises")
}

/// Identifier of an interned [`LabelMap`].
pub type LabelSetId = u32;

/// Interns label maps: equal maps get equal ids. Id 0 is always the empty map.
#[derive(Debug)]
pub struct LabelSets {
    maps: Vec<LabelMap>,
    ids: HashMap<LabelMap, LabelSetId>,
}

impl Default for LabelSets {
    fn default() -> Self {
        let mut sets = LabelSets {
            maps: Vec::new(),
            ids: HashMap::new(),
        };
        sets.intern(LabelMap::new());
        sets
    }
}

impl LabelSets {
    /// The id of the empty map.
    pub const EMPTY: LabelSetId = 0;

    /// The id of `map`, adding it if new.
    pub fn intern(&mut self, map: LabelMap) -> LabelSetId {
        if let Some(&id) = self.ids.get(&map) {
            return id;
        }
        let id = self.maps.len() as LabelSetId;
        self.maps.push(map.clone());
        self.ids.insert(map, id);
        id
    }

    pub fn get(&self, id: LabelSetId) -> &LabelMap {
        &self.maps[id as usize]
    }

    /// The id of `ids[0] ⊕ ids[1] ⊕ ...` (later maps win), interning the result.
    pub fn merge(&mut self, ids: &[LabelSetId]) -> LabelSetId {
        let mut merged = LabelMap::new();
        for &id in ids {
            merge_into(&mut merged, &self.maps[id as usize]);
        }
        self.intern(merged)
    }
}

/// The text Trino's cast of a JSON scalar to varchar gives: a string as is, `true`/`false`, an
/// integer as written, and any other number as the double it reads, in Trino's double-to-varchar
/// form: the shortest digits that read back, in scientific notation with at least one fraction
/// digit (`1.5` → `1.5E0`, `100.0` → `1.0E2`, `0.0001` → `1.0E-4`, `0.0` → `0E0`).
///
/// ```
/// use ocp_engine::labels::json_scalar_text;
/// let text = |v: &str| json_scalar_text(&serde_json::from_str(v).unwrap());
/// assert_eq!(text("1.5").as_deref(), Some("1.5E0"));
/// assert_eq!(text("1e2").as_deref(), Some("1.0E2"));
/// assert_eq!(text("-0.5").as_deref(), Some("-5.0E-1"));
/// assert_eq!(text("10").as_deref(), Some("10"));
/// assert_eq!(text("\"web\"").as_deref(), Some("web"));
/// assert_eq!(text("null"), None);
/// ```
pub fn json_scalar_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        serde_json::Value::Number(n) => n.as_f64().map(trino_double_text),
        _ => None,
    }
}

/// Trino's `CAST(double AS varchar)` of a finite double: `0E0`/`-0E0` for zeros, else the
/// shortest round-trip digits as `d.ddd…E<exponent>`.
fn trino_double_text(x: f64) -> String {
    if x == 0.0 {
        return if x.is_sign_negative() { "-0E0" } else { "0E0" }.to_string();
    }
    let text = format!("{x:e}");
    let (mantissa, exponent) = text.split_once('e').expect("{:e} always has an exponent");
    let mantissa = if mantissa.contains('.') {
        mantissa.to_string()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exponent}")
}

/// The entries of a JSON object, each key once with its last value (document order of first
/// appearance).
struct LabelEntries(Vec<(String, String)>);

impl<'de> Deserialize<'de> for LabelEntries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(LabelEntriesVisitor)
    }
}

struct LabelEntriesVisitor;

impl<'de> Visitor<'de> for LabelEntriesVisitor {
    type Value = LabelEntries;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object whose values are strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LabelEntries, A::Error> {
        let mut entries: Vec<(String, String)> = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
            let Some(value) = json_scalar_text(&value) else {
                return Err(de::Error::custom(format!(
                    "value of key {key:?} is {value}, not a string"
                )));
            };
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = value,
                None => entries.push((key, value)),
            }
        }
        Ok(LabelEntries(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> EnabledKeys {
        EnabledKeys::trino(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn parses_python_json_dumps_output() {
        let entries = parse_labels(r#"{"app": "web", "tier": "db"}"#).unwrap();
        assert_eq!(
            entries,
            vec![("app".into(), "web".into()), ("tier".into(), "db".into())]
        );
        assert_eq!(parse_labels("{}").unwrap(), vec![]);
        // ensure_ascii escapes decode to the character.
        assert_eq!(parse_labels(r#"{"k": "caf\u00e9"}"#).unwrap()[0].1, "café");
    }

    #[test]
    fn rejects_what_trino_cannot_cast_to_a_map() {
        for bad in [
            "",
            "app=web",
            "[1]",
            r#"{"a": {"b": "c"}}"#,
            r#"{"a": null}"#,
        ] {
            assert!(parse_labels(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value_as_trinos_json_parse_does() {
        // Trino 476: json_parse('{"a": "1", "a": "2", "b": "3", "a": "4"}') is {"a":"4","b":"3"}.
        let entries = parse_labels(r#"{"a": "1", "a": "2", "b": "3", "a": "4"}"#).unwrap();
        assert_eq!(
            entries,
            vec![("a".into(), "4".into()), ("b".into(), "3".into())]
        );
    }

    #[test]
    fn numbers_become_the_text_trino_casts_them_to() {
        // Each pair as Trino 476 cast the JSON number to varchar inside a map(varchar, varchar).
        for (json, trino) in [
            ("1.5", "1.5E0"),
            ("100.0", "1.0E2"),
            ("1E+2", "1.0E2"),
            ("0.0001", "1.0E-4"),
            ("-0.5", "-5.0E-1"),
            ("123456789.123", "1.23456789123E8"),
            ("1234567.0", "1.234567E6"),
            ("0.0", "0E0"),
            ("-0.0", "-0E0"),
            ("1.7976931348623157e308", "1.7976931348623157E308"),
            ("10", "10"),
            ("-3", "-3"),
            ("9223372036854775808", "9223372036854775808"),
        ] {
            let entries = parse_labels(&format!(r#"{{"a": {json}}}"#)).unwrap();
            assert_eq!(entries[0].1, trino, "{json}");
        }
    }

    #[test]
    fn filter_keeps_enabled_keys_and_vm_name_only() {
        let entries =
            parse_labels(r#"{"app": "web", "version": "3", "vm_kubevirt_io_name": "vm1"}"#)
                .unwrap();
        let kept = filter_labels(&entries, &keys(&["app"]));
        assert_eq!(
            to_json(&kept),
            r#"{"app":"web","vm_kubevirt_io_name":"vm1"}"#
        );
        // Matching is exact and case-sensitive.
        assert_eq!(filter_labels(&entries, &keys(&["App"])).len(), 1);
    }

    #[test]
    fn no_enabled_key_drops_every_label_even_vm_name() {
        // Spec §3 cte_pg_enabled_keys: the Trino quirk.
        let entries = parse_labels(r#"{"app": "web", "vm_kubevirt_io_name": "vm1"}"#).unwrap();
        assert!(filter_labels(&entries, &EnabledKeys::trino(&[])).is_empty());
    }

    #[test]
    fn postgres_port_keeps_vm_name_with_no_enabled_key() {
        // Spec §9.3: ARRAY['vm_kubevirt_io_name'] || NULL is {vm_kubevirt_io_name} in PostgreSQL.
        let entries = parse_labels(r#"{"app": "web", "vm_kubevirt_io_name": "vm1"}"#).unwrap();
        let kept = filter_labels(&entries, &EnabledKeys::new(&[], Compatibility::Postgres));
        assert_eq!(to_json(&kept), r#"{"vm_kubevirt_io_name":"vm1"}"#);
        assert_eq!(
            EnabledKeys::new(&[], Compatibility::Trino),
            EnabledKeys::DropAll
        );
    }

    #[test]
    fn merge_is_right_biased_and_interning_ignores_key_order() {
        let mut sets = LabelSets::default();
        let node = sets.intern(LabelMap::from([
            ("app".into(), "node".into()),
            ("zone".into(), "a".into()),
        ]));
        let pod = sets.intern(LabelMap::from([("app".into(), "pod".into())]));
        let merged = sets.merge(&[node, LabelSets::EMPTY, pod]);
        assert_eq!(to_json(sets.get(merged)), r#"{"app":"pod","zone":"a"}"#);
        let again = sets.intern(LabelMap::from([
            ("zone".into(), "a".into()),
            ("app".into(), "pod".into()),
        ]));
        assert_eq!(merged, again);
    }
}
