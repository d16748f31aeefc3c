//! Reference for koku's label text read as Trino's `cast(json_parse(x) as map(varchar, varchar))`,
//! from the spec, the Trino 476 checks recorded in docs/semantics.md, and the Trino 476 answers
//! this fuzzing work asked for (2026-12-02, listed in docs/testing.md "Fuzzing"). The scanner
//! below is written from RFC 8259; it does not use serde_json, which the engine uses. Each rule:
//!
//! - **R1 syntax** (spec §2.3, §6.1: "JSON object text"; the spec names no dialect, and Trino
//!   476 refused a trailing comma, a comment, single quotes, `NaN`, `01`, `+1`, `1.`, `.5`, a raw
//!   tab in a string and trailing text, and accepted surrounding whitespace, as RFC 8259 says):
//!   one JSON document, whitespace being space, tab, CR and LF.
//! - **R2 an object** (§7.13; Trino 476: `[1]`, `"text"`, `''` and non-JSON fail).
//! - **R3 flat** (§7.13; Trino 476: `{"a": {"b": "c"}}` and `{"a": ["b"]}` fail): no value is an
//!   object or an array. A text with one is refused whatever follows it.
//! - **R4 no null** (docs/semantics.md "Label values", the engine's documented choice: Trino keeps
//!   a NULL map value, the engine refuses the text; koku never writes one).
//! - **R5 last wins** (Trino 476, docs/semantics.md, overturning §7.13's "duplicate keys fail"):
//!   a key given twice keeps its last value; each key once.
//! - **R6 strings** (RFC 8259 escapes; Python's `json.dumps` writes `\uXXXX`, §2.3): a key or
//!   string value is its decoded text; an escaped surrogate pair is one character. A lone
//!   escaped surrogate becomes `?` (Trino 476: `"\ud83e"` → `?`, `"\ude00x"` → `?x`, in keys too).
//! - **R7 booleans** (Trino 476 `{"a": true}`): `true`, `false`.
//! - **R8 integers** (a number without fraction or exponent; Trino 476: `1` → `1`, `-0` → `0`,
//!   `18446744073709551616`, `-9223372036854775809` and a 30-digit integer → their digits): the
//!   integer's value in decimal, `-` only when negative.
//! - **R9 other numbers** (Trino 476 `1.5` → `1.5E0`, `100.0` → `1.0E2`, `1e-4` → `1.0E-4`,
//!   `-0.0` → `-0E0`, `1e-400` → `0E0`; `parse_labels`' contract): the nearest double in Trino's
//!   double-to-varchar form: its shortest round-trip digits `d.ddd` with at least one fraction
//!   digit, `E`, the exponent; a zero is `0E0` or `-0E0`. The digits come from ryu (the engine
//!   uses the standard library); halfway between two shortest decimals, the one with an even
//!   last digit (Trino 476: `131029125931.515625` → `1.3102912593151562E11`). Trino 476 itself
//!   prints other digits for a few random doubles in 20,000 in this JSON path, where a shortest
//!   decimal lies exactly on the edge of the double's rounding interval (`1e23` →
//!   `9.999999999999999E22`, `-2.169134148609625e16` → `-2.1691341486096248E16`), and for the
//!   smallest subnormals (`5e-324` → `4.9E-324`): finding L3, which this rule does not model
//!   (no specification of those digits to write a reference from).
//! - **R10 beyond the doubles** (Trino 476: `1e400` → `Infinity`, `-1e400` → `-Infinity`): a
//!   non-integer number whose nearest double is infinite is `Infinity` or `-Infinity`.
//!
//! [`read`] with `known_findings` gives instead what the engine is known to do where it departs
//! from these rules (docs/testing.md "Fuzzing", findings L1, L2, L4, L5, L6), so that a fuzz run
//! keeps looking for new departures; the target accepts either unless `OCP_FUZZ_STRICT=1`.

use std::collections::BTreeMap;

use num_bigint::BigInt;

use crate::decimal::Decimal;
use crate::numeric_ref::{trino_decimal, upper_tie_partner};

/// What `parse_labels` must do with a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Refused, by the rule named.
    Refused(&'static str),
    /// Accepted with these entries (each key once).
    Accepted(BTreeMap<String, String>),
}

/// The reference reading of `text` by R1–R10 (Trino 476).
pub fn expected(text: &str) -> Expected {
    read(text, false)
}

/// The reading of `text` by R1–R10, or, with `known_findings`, as the engine is known to read
/// it where it departs from them:
/// - L1: the integer `-0` becomes `-0E0` (R8 says `0`);
/// - L2: an integer below -2^63 or above 2^64 − 1 becomes the nearest double's text (R9's form)
///   instead of its digits (R8), and the text is refused when that double is infinite;
/// - L4: a number beyond the doubles refuses the text (R10 says `Infinity`);
/// - L5: a lone escaped surrogate refuses the text (R6 says `?`);
/// - L6 (N1's cause): a double halfway between two shortest decimals gets the one of larger
///   magnitude (R9, like Trino, takes the one with an even last digit).
pub fn read(text: &str, known_findings: bool) -> Expected {
    let mut scanner = Scanner {
        text,
        at: 0,
        known_findings,
    };
    match scanner.object() {
        Ok(map) => Expected::Accepted(map),
        Err(rule) => Expected::Refused(rule),
    }
}

/// Trino's `CAST(double AS varchar)` of a finite double (R9), from ryu's shortest digits.
pub fn trino_double_text(x: f64) -> String {
    if x == 0.0 {
        return if x.is_sign_negative() { "-0E0" } else { "0E0" }.to_string();
    }
    decimal_text(&trino_decimal(x).expect("a finite double"))
}

/// A non-zero decimal in Trino's double-to-varchar form: `d.ddd` (at least one fraction
/// digit), `E`, the exponent.
fn decimal_text(decimal: &Decimal) -> String {
    let sign = if decimal.negative { "-" } else { "" };
    let (digits, point) = decimal.digits();
    let (first, rest) = digits.split_at(1);
    let rest = if rest.is_empty() { "0" } else { rest };
    format!("{sign}{first}.{rest}E{}", point - 1)
}

type Scan<T> = Result<T, &'static str>;

/// A cursor over the text, reading the one grammar a label text may have (R1–R3).
struct Scanner<'a> {
    text: &'a str,
    at: usize,
    known_findings: bool,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        Some(c)
    }

    fn expect(&mut self, c: char, rule: &'static str) -> Scan<()> {
        if self.bump() == Some(c) {
            Ok(())
        } else {
            Err(rule)
        }
    }

    /// RFC 8259 whitespace: space, tab, line feed, carriage return.
    fn whitespace(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.at += 1;
        }
    }

    /// The whole text: `ws { (string : value (, string : value)*)? } ws` and nothing after.
    fn object(&mut self) -> Scan<BTreeMap<String, String>> {
        self.whitespace();
        self.expect('{', "R2: not an object")?;
        let mut map = BTreeMap::new();
        self.whitespace();
        if self.peek() == Some('}') {
            self.at += 1;
        } else {
            loop {
                self.whitespace();
                self.expect('"', "R1: a key that is not a string")?;
                let key = self.string()?;
                self.whitespace();
                self.expect(':', "R1: no colon after a key")?;
                self.whitespace();
                let value = self.value()?;
                map.insert(key, value); // R5: a later value replaces an earlier one.
                self.whitespace();
                match self.bump() {
                    Some(',') => continue,
                    Some('}') => break,
                    _ => return Err("R1: no comma or closing brace"),
                }
            }
        }
        self.whitespace();
        if self.at == self.text.len() {
            Ok(map)
        } else {
            Err("R1: text after the object")
        }
    }

    /// A member's value as map text (R3, R4, R6–R10).
    fn value(&mut self) -> Scan<String> {
        match self.peek() {
            Some('{' | '[') => Err("R3: a nested value"),
            Some('"') => {
                self.at += 1;
                self.string()
            }
            Some('t') => self.word("true"),
            Some('f') => self.word("false"),
            Some('n') => Err("R4: a null value"),
            Some('-' | '0'..='9') => self.number(),
            _ => Err("R1: not a JSON value"),
        }
    }

    fn word(&mut self, word: &'static str) -> Scan<String> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(word.to_string())
        } else {
            Err("R1: not a JSON literal")
        }
    }

    /// After the opening quote: the decoded string up to the closing quote (R6).
    fn string(&mut self) -> Scan<String> {
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err("R1: an unterminated string"),
                Some('"') => return Ok(out),
                Some(c) if (c as u32) < 0x20 => return Err("R1: a control character in a string"),
                Some('\\') => match self.bump() {
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('/') => out.push('/'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some('u') => {
                        let unit = self.hex4()?;
                        out.push(self.code_point(unit)?);
                    }
                    _ => return Err("R1: an unknown escape"),
                },
                Some(c) => out.push(c),
            }
        }
    }

    /// The character a `\uXXXX` escape starts: a scalar value, a surrogate pair joined with the
    /// `\uXXXX` right after it, or `?` for a lone surrogate (R6; L5 refuses).
    fn code_point(&mut self, unit: u32) -> Scan<char> {
        if let Some(c) = char::from_u32(unit) {
            return Ok(c);
        }
        if (0xd800..0xdc00).contains(&unit) && self.text[self.at..].starts_with("\\u") {
            let back = self.at;
            self.at += 2;
            let low = self.hex4()?;
            if (0xdc00..0xe000).contains(&low) {
                let c = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
                return Ok(char::from_u32(c).expect("a surrogate pair is a scalar value"));
            }
            // Not a low surrogate: it is read again as an escape of its own.
            self.at = back;
        }
        if self.known_findings {
            return Err("L5: a lone surrogate");
        }
        Ok('?')
    }

    fn hex4(&mut self) -> Scan<u32> {
        let digits = self
            .text
            .get(self.at..self.at + 4)
            .ok_or("R1: a short \\u escape")?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("R1: a \\u escape that is not hex");
        }
        self.at += 4;
        Ok(u32::from_str_radix(digits, 16).expect("four hex digits"))
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` as map text (R8–R10).
    fn number(&mut self) -> Scan<String> {
        let start = self.at;
        if self.peek() == Some('-') {
            self.at += 1;
        }
        match self.peek() {
            Some('0') => self.at += 1,
            Some('1'..='9') => self.digits(),
            _ => return Err("R1: a number without digits"),
        }
        let mut integer = true;
        if self.peek() == Some('.') {
            self.at += 1;
            integer = false;
            self.required_digits()?;
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            self.at += 1;
            integer = false;
            if matches!(self.peek(), Some('+' | '-')) {
                self.at += 1;
            }
            self.required_digits()?;
        }
        let lexeme = &self.text[start..self.at];
        if integer {
            self.integer(lexeme)
        } else {
            let x: f64 = lexeme
                .parse()
                .expect("a JSON number is a Rust float literal");
            if x.is_finite() {
                match upper_tie_partner(x).filter(|_| self.known_findings) {
                    Some(partner) => Ok(decimal_text(&partner)),
                    None => Ok(trino_double_text(x)),
                }
            } else if self.known_findings {
                Err("L4: a number beyond the doubles")
            } else {
                Ok(if x < 0.0 { "-Infinity" } else { "Infinity" }.to_string())
            }
        }
    }

    /// R8, or L1/L2 with known findings.
    fn integer(&self, lexeme: &str) -> Scan<String> {
        let value: BigInt = lexeme.parse().expect("JSON integer digits");
        if self.known_findings {
            if lexeme == "-0" {
                return Ok("-0E0".to_string());
            }
            let in_64_bits = BigInt::from(i64::MIN) <= value && value <= BigInt::from(u64::MAX);
            if !in_64_bits {
                let x: f64 = lexeme.parse().expect("an integer is a Rust float literal");
                return if x.is_finite() {
                    Ok(trino_double_text(x))
                } else {
                    Err("L2/L4: an integer beyond the doubles")
                };
            }
        }
        Ok(value.to_string())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some('0'..='9')) {
            self.at += 1;
        }
    }

    fn required_digits(&mut self) -> Scan<()> {
        let before = self.at;
        self.digits();
        if self.at == before {
            Err("R1: a fraction or exponent without digits")
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(text: &str) -> BTreeMap<String, String> {
        match expected(text) {
            Expected::Accepted(map) => map,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn value(text: &str) -> String {
        accepted(text).remove("a").expect("key a")
    }

    #[test]
    fn the_trino_476_examples() {
        // docs/semantics.md "What a real Trino showed", `label_texts_parse_or_fail_...`.
        let map = accepted(r#"{"a": 1.5, "b": 100.0, "c": 1e-4, "d": -0.0, "e": 1, "f": true}"#);
        let values: Vec<&str> = map.values().map(String::as_str).collect();
        assert_eq!(values, ["1.5E0", "1.0E2", "1.0E-4", "-0E0", "1", "true"]);
        assert_eq!(
            accepted(r#"{"a": "1", "a": "2", "b": "3", "a": "4"}"#),
            BTreeMap::from([("a".into(), "4".into()), ("b".into(), "3".into())])
        );
        assert_eq!(accepted(r#"{"é": "ü\u00e9"}"#)["é"], "üé");
        assert_eq!(accepted(" {} \n"), BTreeMap::new());
        assert_eq!(accepted(r#"{"": ""}"#)[""], "");
        for bad in [
            "",
            "not json",
            "[1]",
            r#""text""#,
            r#"{"a": {"b": "c"}}"#,
            r#"{"a": ["b"]}"#,
            r#"{"a": null}"#,
            r#"{"a": "b",}"#,
            r#"{"a": "b"} x"#,
            r#"{"a": "b"}{}"#,
            "{'a': 'b'}",
            r#"{"a": NaN}"#,
            r#"{"a": 01}"#,
            r#"{"a": +1}"#,
            "{\"a\": \"t\tb\"}",
            r#"{"a": 1.}"#,
            r#"{"a": .5}"#,
            r#"{"a" : 1 /* c */}"#,
            r#"{"a": -}"#,
            r#"{"a": "\u00"}"#,
            r#"{"a": "\x"}"#,
            r#"{"a" "b"}"#,
            r#"{"a": tru}"#,
        ] {
            assert!(matches!(expected(bad), Expected::Refused(_)), "{bad:?}");
        }
    }

    #[test]
    fn the_trino_476_answers_to_this_fuzzing() {
        // Asked of Trino 476 on 2026-12-02 (docs/testing.md "Fuzzing").
        assert_eq!(value(r#"{"a": -0}"#), "0");
        assert_eq!(
            value(r#"{"a": 18446744073709551616}"#),
            "18446744073709551616"
        );
        assert_eq!(
            value(r#"{"a": -9223372036854775809}"#),
            "-9223372036854775809"
        );
        let big = "123456789012345678901234567890";
        assert_eq!(value(&format!(r#"{{"a": {big}}}"#)), big);
        assert_eq!(value(r#"{"a": 1e400}"#), "Infinity");
        assert_eq!(value(r#"{"a": -1e400}"#), "-Infinity");
        assert_eq!(value(r#"{"a": 1e-400}"#), "0E0");
        assert_eq!(value(r#"{"a": -0e5}"#), "-0E0");
        assert_eq!(value(r#"{"a": 0.1e1}"#), "1.0E0");
        assert_eq!(value(r#"{"a": 1e308}"#), "1.0E308");
        assert_eq!(value(r#"{"a": "\ud83e"}"#), "?");
        assert_eq!(value(r#"{"a": "\ude00x"}"#), "?x");
        assert_eq!(value(r#"{"a": "\ud83e-"}"#), "?-");
        assert_eq!(value(r#"{"a": "\ud83d\ude00"}"#), "😀");
        assert_eq!(value(r#"{"a": "x\u0000y"}"#), "x\0y");
        assert_eq!(accepted(r#"{"\ud83e": "v"}"#)["?"], "v");
        assert_eq!(
            value(r#"{"a": 131029125931.515625}"#),
            "1.3102912593151562E11"
        );
        assert_eq!(
            value(r#"{"a": 1008446700002001.25}"#),
            "1.0084467000020012E15"
        );
    }

    #[test]
    fn known_findings_read_as_the_engine_does() {
        let known = |text: &str| match read(text, true) {
            Expected::Accepted(mut map) => Some(map.remove("a").unwrap()),
            Expected::Refused(_) => None,
        };
        assert_eq!(known(r#"{"a": -0}"#).as_deref(), Some("-0E0"));
        assert_eq!(
            known(r#"{"a": 18446744073709551616}"#).as_deref(),
            Some("1.8446744073709552E19")
        );
        assert_eq!(
            known(r#"{"a": -9223372036854775809}"#).as_deref(),
            Some("-9.223372036854776E18")
        );
        assert_eq!(
            known(r#"{"a": 18446744073709551615}"#).as_deref(),
            Some("18446744073709551615")
        );
        assert_eq!(known(r#"{"a": 1e400}"#), None);
        assert_eq!(known(r#"{"a": "\ud83e"}"#), None);
        assert_eq!(known(r#"{"a": "\ud83d\ude00"}"#).as_deref(), Some("😀"));
        assert_eq!(
            known(r#"{"a": 131029125931.515625}"#).as_deref(),
            Some("1.3102912593151563E11")
        );
    }

    #[test]
    fn double_text_examples() {
        // The engine's unit tests list these as Trino 476's answers.
        for (x, text) in [
            (123456789.123, "1.23456789123E8"),
            (1234567.0, "1.234567E6"),
            (-0.5, "-5.0E-1"),
            (1.7976931348623157e308, "1.7976931348623157E308"),
            (0.0, "0E0"),
        ] {
            assert_eq!(trino_double_text(x), text);
        }
    }
}
