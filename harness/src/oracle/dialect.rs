//! The dialect layer: one query text, written in Trino's dialect, made runnable on DuckDB.
//!
//! Contract: [`translate`] returns Trino text unchanged for [`Dialect::Trino`]; for
//! [`Dialect::DuckDb`] it rewrites calls of the few Trino functions that DuckDB names or treats
//! differently, and nothing else. Every rewrite keeps Trino's result, NULLs included:
//!
//! | Trino | DuckDB | why |
//! |---|---|---|
//! | `json_parse(x)` | `json(x)` | DuckDB has no `json_parse`; `json(x)` parses text to JSON (and, like Trino, fails on `''`). `CAST(json AS map(varchar, varchar))` then reads the same in both. |
//! | `map_filter(m, (k, v) -> p)` | `map_from_entries(list_filter(map_entries(m), lambda entry: p'))` | DuckDB has no `map_filter`; it filters the map's entry list instead. `p'` is `p` with `k` → `entry.key`, `v` → `entry.value`. DuckDB 1.5 deprecates the `x -> …` arrow, so the lambda is written `lambda entry: …`. |
//! | `map_concat(a, b, …)` | `CASE WHEN (a) IS NULL OR … THEN NULL ELSE map_concat(a, b, …) END` | Same name and "last map wins", but DuckDB skips NULL maps where Trino returns NULL (spec §6.1). |
//! | `greatest(a, b, …)` | `CASE WHEN (a) IS NULL OR … THEN NULL ELSE greatest(a, b, …) END` | DuckDB ignores NULL arguments, Trino returns NULL (spec §7.4). |
//! | `json_format(CAST(m AS json))` | `CAST(to_json(map_from_entries(list_sort(map_entries(m)))) AS varchar)` | Trino's map-to-JSON cast sorts keys, DuckDB's keeps insertion order. Sorted text makes equal maps equal text, which the query relies on to group by labels (spec §7.7). Only this form (a map cast to JSON) is supported. |
//! | `last_day_of_month(d)` | `last_day(d)` | Different name (days in month for the storage GB-months, spec §3). |
//!
//! Everything else (including `contains`, `ARRAY[…] || array_agg(…)`, `LIKE` with or without
//! `ESCAPE '\'`, `CAST(MAP() AS map(varchar, varchar))`, `x / 3600.0`, `power(2, -30)`, `day(d)`,
//! `bool_or`, `count(DISTINCT …)`, `nullif`, `trim`) already means the same in both engines and is
//! left alone. String literals, quoted identifiers and comments are never
//! rewritten. Function names are matched case-insensitively; qualified names (`a.map_concat`) are
//! not functions and are left alone.

use std::fmt;

/// A SQL engine the reference query runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Trino: the dialect the query is written in.
    Trino,
    /// DuckDB 1.5 (the embedded oracle).
    DuckDb,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Trino => "Trino",
            Dialect::DuckDb => "DuckDB",
        })
    }
}

/// Why a Trino text could not be translated: a call the layer does not support in that form, or
/// unbalanced parentheses. The message quotes the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot translate the query to {dialect}: {message}")]
pub struct DialectError {
    pub dialect: Dialect,
    pub message: String,
}

/// `sql` (Trino's dialect) as `dialect` reads it; see the module documentation for the rewrites.
pub fn translate(sql: &str, dialect: Dialect) -> Result<String, DialectError> {
    match dialect {
        Dialect::Trino => Ok(sql.to_string()),
        Dialect::DuckDb => to_duckdb(sql).map_err(|message| DialectError { dialect, message }),
    }
}

/// One Trino function DuckDB needs rewritten: its (lower-case) name and the DuckDB text of a call,
/// given the call's arguments already translated.
struct Rule {
    name: &'static str,
    rewrite: fn(&[String]) -> Result<String, String>,
}

const DUCKDB_RULES: [Rule; 6] = [
    Rule {
        name: "json_parse",
        rewrite: json_parse,
    },
    Rule {
        name: "map_filter",
        rewrite: map_filter,
    },
    Rule {
        name: "map_concat",
        rewrite: |args| null_if_any_null("map_concat", args),
    },
    Rule {
        name: "greatest",
        rewrite: |args| null_if_any_null("greatest", args),
    },
    Rule {
        name: "json_format",
        rewrite: json_format,
    },
    Rule {
        name: "last_day_of_month",
        rewrite: last_day_of_month,
    },
];

fn json_parse(args: &[String]) -> Result<String, String> {
    let [text] = exactly::<1>("json_parse", args)?;
    Ok(format!("json({text})"))
}

fn map_filter(args: &[String]) -> Result<String, String> {
    let [map, lambda] = exactly::<2>("map_filter", args)?;
    let (params, body) = parse_lambda(lambda)?;
    let [key, value] = params.as_slice() else {
        return Err(format!(
            "map_filter needs a lambda of two parameters (k, v), got `{lambda}`"
        ));
    };
    let body = replace_identifiers(
        body,
        &[(key.as_str(), "entry.key"), (value.as_str(), "entry.value")],
    );
    Ok(format!(
        "map_from_entries(list_filter(map_entries({map}), lambda entry: {body}))"
    ))
}

/// `name(args)`, but NULL as soon as one argument is NULL (Trino's rule for these functions).
fn null_if_any_null(name: &str, args: &[String]) -> Result<String, String> {
    if args.is_empty() {
        return Err(format!("{name} needs at least one argument"));
    }
    let tests: Vec<String> = args.iter().map(|a| format!("({a}) IS NULL")).collect();
    Ok(format!(
        "CASE WHEN {} THEN NULL ELSE {name}({}) END",
        tests.join(" OR "),
        args.join(", ")
    ))
}

fn json_format(args: &[String]) -> Result<String, String> {
    let [json] = exactly::<1>("json_format", args)?;
    let map = parse_cast(json)
        .filter(|(_, target)| target.eq_ignore_ascii_case("json"))
        .map(|(expr, _)| expr)
        .ok_or_else(|| {
            format!(
                "json_format is supported only as json_format(CAST(<map> AS json)), got `{json}`"
            )
        })?;
    Ok(format!(
        "CAST(to_json(map_from_entries(list_sort(map_entries({map})))) AS varchar)"
    ))
}

fn last_day_of_month(args: &[String]) -> Result<String, String> {
    let [date] = exactly::<1>("last_day_of_month", args)?;
    Ok(format!("last_day({date})"))
}

fn exactly<'a, const N: usize>(name: &str, args: &'a [String]) -> Result<[&'a str; N], String> {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    refs.try_into()
        .map_err(|_| format!("{name} takes {N} argument(s), got {}", args.len()))
}

/// Rewrites every rule's calls in `sql`, innermost arguments first.
fn to_duckdb(sql: &str) -> Result<String, String> {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while i < bytes.len() {
        if let Some(end) = opaque_end(bytes, i) {
            out.push_str(&sql[i..end]);
            i = end;
        } else if is_ident_start(bytes[i]) && !follows_ident_or_dot(bytes, i) {
            let end = ident_end(bytes, i);
            match call_of_rule(sql, i, end)? {
                Some((text, after)) => {
                    out.push_str(&text);
                    i = after;
                }
                None => {
                    out.push_str(&sql[i..end]);
                    i = end;
                }
            }
        } else {
            let len = char_len(sql, i);
            out.push_str(&sql[i..i + len]);
            i += len;
        }
    }
    Ok(out)
}

/// If the identifier `sql[start..end]` names a rule and is followed by `(`: the rewritten call
/// and the index just past its `)`.
fn call_of_rule(sql: &str, start: usize, end: usize) -> Result<Option<(String, usize)>, String> {
    let name = &sql[start..end];
    let Some(rule) = DUCKDB_RULES
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(name))
    else {
        return Ok(None);
    };
    let open = skip_whitespace(sql.as_bytes(), end);
    if sql.as_bytes().get(open) != Some(&b'(') {
        return Ok(None);
    }
    let close = matching_paren(sql, open)?;
    let args = split_top_level(&sql[open + 1..close], ",")
        .into_iter()
        .map(|arg| to_duckdb(arg.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let args = if args.len() == 1 && args[0].is_empty() {
        Vec::new()
    } else {
        args
    };
    Ok(Some(((rule.rewrite)(&args)?, close + 1)))
}

/// `(a, b) -> body` or `a -> body`: the parameter names and the body.
fn parse_lambda(text: &str) -> Result<(Vec<String>, &str), String> {
    let parts = split_top_level(text, "->");
    let [params, body] = parts.as_slice() else {
        return Err(format!("expected a lambda `(k, v) -> ...`, got `{text}`"));
    };
    let params = params.trim();
    let params = params
        .strip_prefix('(')
        .and_then(|p| p.strip_suffix(')'))
        .unwrap_or(params);
    let names: Vec<String> = params.split(',').map(|p| p.trim().to_string()).collect();
    if names
        .iter()
        .any(|n| n.is_empty() || !n.bytes().all(is_ident_byte))
    {
        return Err(format!(
            "lambda parameters must be plain names, got `{text}`"
        ));
    }
    Ok((names, body.trim()))
}

/// `CAST(expr AS type)` as (expr, type), if `text` is exactly such a cast.
fn parse_cast(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    let name_end = ident_end(bytes, 0);
    if name_end == 0 || !text[..name_end].eq_ignore_ascii_case("cast") {
        return None;
    }
    let open = skip_whitespace(bytes, name_end);
    if bytes.get(open) != Some(&b'(') {
        return None;
    }
    let close = matching_paren(text, open).ok()?;
    if !text[close + 1..].trim().is_empty() {
        return None;
    }
    let inner = &text[open + 1..close];
    let as_at = top_level_keyword_positions(inner, "as").pop()?;
    Some((inner[..as_at].trim(), inner[as_at + 2..].trim()))
}

/// `text` with each identifier named in `renames` (not qualified, not a function name) replaced.
fn replace_identifiers(text: &str, renames: &[(&str, &str)]) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if let Some(end) = opaque_end(bytes, i) {
            out.push_str(&text[i..end]);
            i = end;
        } else if is_ident_start(bytes[i]) && !follows_ident_or_dot(bytes, i) {
            let end = ident_end(bytes, i);
            let word = &text[i..end];
            let is_call = bytes.get(skip_whitespace(bytes, end)) == Some(&b'(');
            match renames.iter().find(|(from, _)| *from == word) {
                Some((_, to)) if !is_call => out.push_str(to),
                _ => out.push_str(word),
            }
            i = end;
        } else {
            let len = char_len(text, i);
            out.push_str(&text[i..i + len]);
            i += len;
        }
    }
    out
}

/// Pieces of `text` between top-level (outside parentheses, literals and comments)
/// occurrences of `separator`.
fn split_top_level<'a>(text: &'a str, separator: &str) -> Vec<&'a str> {
    let bytes = text.as_bytes();
    let mut pieces = Vec::new();
    let (mut depth, mut start, mut i) = (0usize, 0, 0);
    while i < bytes.len() {
        if let Some(end) = opaque_end(bytes, i) {
            i = end;
            continue;
        }
        match bytes[i] {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            _ if depth == 0 && bytes[i..].starts_with(separator.as_bytes()) => {
                pieces.push(&text[start..i]);
                start = i + separator.len();
                i = start;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    pieces.push(&text[start..]);
    pieces
}

/// Byte offsets of the top-level occurrences of the keyword `word` (case-insensitive, whole word).
fn top_level_keyword_positions(text: &str, word: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let (mut depth, mut i) = (0usize, 0);
    while i < bytes.len() {
        if let Some(end) = opaque_end(bytes, i) {
            i = end;
            continue;
        }
        match bytes[i] {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            b if depth == 0 && is_ident_start(b) && !follows_ident_or_dot(bytes, i) => {
                let end = ident_end(bytes, i);
                if text[i..end].eq_ignore_ascii_case(word) {
                    found.push(i);
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// The index of the `)` closing the `(` at `open`.
fn matching_paren(text: &str, open: usize) -> Result<usize, String> {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, open);
    while i < bytes.len() {
        if let Some(end) = opaque_end(bytes, i) {
            i = end;
            continue;
        }
        match bytes[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    let context: String = text[open..].chars().take(60).collect();
    Err(format!("unbalanced parentheses after `{context}`"))
}

/// If a string literal, quoted identifier or comment starts at `i`: the index just past it
/// (the end of the text if it is unterminated).
fn opaque_end(bytes: &[u8], i: usize) -> Option<usize> {
    let rest = &bytes[i..];
    let find_from = |from: usize, pat: &[u8]| {
        bytes[from..]
            .windows(pat.len())
            .position(|w| w == pat)
            .map_or(bytes.len(), |p| from + p + pat.len())
    };
    match rest {
        [b'\'' | b'"', ..] => Some(quoted_end(bytes, i)),
        [b'-', b'-', ..] => Some(find_from(i + 2, b"\n")),
        [b'/', b'*', ..] => Some(find_from(i + 2, b"*/")),
        _ => None,
    }
}

/// End of the quoted text starting at `i` (`'…'` or `"…"`, a doubled quote escaping itself).
fn quoted_end(bytes: &[u8], i: usize) -> usize {
    let quote = bytes[i];
    let mut j = i + 1;
    while j < bytes.len() {
        if bytes[j] == quote {
            if bytes.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    bytes.len()
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether the byte before `i` continues an identifier or is a `.` (so `i` starts no new name).
fn follows_ident_or_dot(bytes: &[u8], i: usize) -> bool {
    i > 0 && (is_ident_byte(bytes[i - 1]) || bytes[i - 1] == b'.')
}

fn ident_end(bytes: &[u8], start: usize) -> usize {
    let mut end = start;
    while end < bytes.len() && is_ident_byte(bytes[end]) {
        end += 1;
    }
    end
}

fn skip_whitespace(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Length in bytes of the character starting at byte `i` of `text`.
fn char_len(text: &str, i: usize) -> usize {
    text[i..].chars().next().map_or(1, char::len_utf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duck(sql: &str) -> String {
        translate(sql, Dialect::DuckDb).unwrap()
    }

    #[test]
    fn trino_text_is_returned_unchanged() {
        let sql = "SELECT map_filter(m, (k, v) -> contains(keys, k)) FROM t";
        assert_eq!(translate(sql, Dialect::Trino).unwrap(), sql);
    }

    #[test]
    fn json_parse_becomes_json() {
        assert_eq!(
            duck("CAST(json_parse(x.labels) AS map(varchar, varchar))"),
            "CAST(json(x.labels) AS map(varchar, varchar))"
        );
    }

    #[test]
    fn map_filter_filters_the_entry_list_with_a_lambda_keyword() {
        assert_eq!(
            duck("map_filter(m, (k, v) -> contains(ek.keys, k))"),
            "map_from_entries(list_filter(map_entries(m), lambda entry: contains(ek.keys, entry.key)))"
        );
        assert_eq!(
            duck("map_filter(m, (key, val) -> val = 'k' AND key <> t.key)"),
            "map_from_entries(list_filter(map_entries(m), lambda entry: entry.value = 'k' AND entry.key <> t.key))"
        );
    }

    #[test]
    fn map_filter_rejects_a_lambda_of_one_parameter() {
        let err = translate("map_filter(m, k -> true)", Dialect::DuckDb).unwrap_err();
        assert!(err.message.contains("two parameters"), "{err}");
    }

    #[test]
    fn map_concat_and_greatest_become_null_when_an_argument_is_null() {
        assert_eq!(
            duck("map_concat(a, b, c)"),
            "CASE WHEN (a) IS NULL OR (b) IS NULL OR (c) IS NULL THEN NULL ELSE map_concat(a, b, c) END"
        );
        assert_eq!(
            duck("GREATEST(x.u, x.r)"),
            "CASE WHEN (x.u) IS NULL OR (x.r) IS NULL THEN NULL ELSE greatest(x.u, x.r) END"
        );
    }

    #[test]
    fn json_format_of_a_map_cast_sorts_keys() {
        assert_eq!(
            duck("json_format(CAST(m AS json))"),
            "CAST(to_json(map_from_entries(list_sort(map_entries(m)))) AS varchar)"
        );
    }

    #[test]
    fn json_format_of_anything_else_is_an_error() {
        let err = translate("json_format(j)", Dialect::DuckDb).unwrap_err();
        assert!(
            err.message.contains("json_format(CAST(<map> AS json))"),
            "{err}"
        );
        let err = translate("json_format(CAST(m AS varchar))", Dialect::DuckDb).unwrap_err();
        assert!(err.message.contains("json_format"), "{err}");
    }

    #[test]
    fn last_day_of_month_becomes_last_day() {
        assert_eq!(duck("day(last_day_of_month(d))"), "day(last_day(d))");
    }

    #[test]
    fn nested_calls_are_rewritten_inside_out() {
        assert_eq!(
            duck("json_format(CAST(map_concat(CAST(json_parse(a) AS map(varchar, varchar)), b) AS json))"),
            "CAST(to_json(map_from_entries(list_sort(map_entries(\
             CASE WHEN (CAST(json(a) AS map(varchar, varchar))) IS NULL OR (b) IS NULL THEN NULL \
             ELSE map_concat(CAST(json(a) AS map(varchar, varchar)), b) END)))) AS varchar)"
        );
    }

    #[test]
    fn literals_comments_and_qualified_names_are_left_alone() {
        let sql = "SELECT 'json_parse(x)', \"greatest\"(1), t.map_concat -- map_concat(a)\n\
                   /* greatest(a, b) */ FROM my_json_parse(x)";
        assert_eq!(duck(sql), sql);
    }

    #[test]
    fn a_name_without_a_call_is_not_a_function() {
        assert_eq!(duck("SELECT greatest FROM t"), "SELECT greatest FROM t");
    }

    #[test]
    fn unbalanced_parentheses_are_an_error() {
        let err = translate("SELECT json_parse(x", Dialect::DuckDb).unwrap_err();
        assert!(err.message.contains("unbalanced"), "{err}");
    }

    #[test]
    fn non_ascii_text_survives() {
        assert_eq!(
            duck("SELECT 'é' AS näme, json_parse('{\"ü\": \"1\"}')"),
            "SELECT 'é' AS näme, json('{\"ü\": \"1\"}')"
        );
    }

    #[test]
    fn the_reference_queries_translate_without_trino_only_syntax() {
        use super::super::query::{REFERENCE_NODE_ROLES_SQL, REFERENCE_SUMMARY_SQL};
        for template in [REFERENCE_SUMMARY_SQL, REFERENCE_NODE_ROLES_SQL] {
            let sql = translate(template, Dialect::DuckDb).unwrap();
            let code: String = sql
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n");
            for trino_only in [
                "json_parse",
                "map_filter",
                "->",
                "json_format",
                "last_day_of_month",
            ] {
                assert!(!code.contains(trino_only), "{trino_only} left in:\n{code}");
            }
        }
        let summary = translate(REFERENCE_SUMMARY_SQL, Dialect::DuckDb).unwrap();
        assert!(summary.contains("lambda entry: contains(ek.keys, entry.key)"));
        assert!(summary.contains("/ (86400 * day(last_day(ss.usage_start)))"));
    }

    #[test]
    fn functions_both_engines_share_are_left_alone() {
        let sql = "SELECT day(d), bool_or(x LIKE p ESCAPE '\\'), count(DISTINCT n), \
                   nullif(trim(t), ''), coalesce(a, b) FROM t";
        assert_eq!(duck(sql), sql);
    }
}
