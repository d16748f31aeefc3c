//! Reference `LIKE`, from the spec alone (§6.5, §9.3) and the engine's documented choice for a
//! pattern PostgreSQL refuses (docs/semantics.md "Choices where the spec leaves room"):
//!
//! - `%` matches any run of characters, the empty run included; `_` exactly one character;
//!   every other character itself, case-sensitively; the whole value must match (§6.5).
//! - Trino has no escape character: a backslash is an ordinary character (§6.5, checked on
//!   Trino 476, docs/semantics.md).
//! - koku's PostgreSQL port runs PostgreSQL's LIKE, whose default escape is a backslash (§9.3):
//!   a backslash makes the next character literal, whatever it is (`\%`, `\_`, `\\`, `\a`).
//!   PostgreSQL refuses a pattern ending in a lone backslash; the engine lets it match nothing.
//!
//! "Character" is a Unicode scalar value (a Rust `char`): Trino's varchar and PostgreSQL's
//! UTF-8 text both count code points.
//!
//! The matcher is a table: `rest[j]` says whether the value's suffix from the current position
//! matches the pattern's suffix from `j`, filled from the end of the value backwards. It is
//! quadratic, and plainly follows the three rules above.

/// One element of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    /// `%`: any run of characters.
    AnyRun,
    /// `_`: exactly one character.
    AnyOne,
    /// Any other character, or an escaped one: itself.
    Exactly(char),
}

/// The elements of `pattern`; `None` for a PostgreSQL pattern ending in a lone backslash.
pub fn elements(postgres: bool, pattern: &str) -> Option<Vec<Element>> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if postgres && c == '\\' {
            // The escape: the next character, whatever it is, stands for itself.
            out.push(Element::Exactly(*chars.get(i + 1)?));
            i += 2;
            continue;
        }
        out.push(match c {
            '%' => Element::AnyRun,
            '_' => Element::AnyOne,
            other => Element::Exactly(other),
        });
        i += 1;
    }
    Some(out)
}

/// `value LIKE pattern` in Trino (`postgres == false`) or in koku's PostgreSQL port.
pub fn like(postgres: bool, value: &str, pattern: &str) -> bool {
    let Some(pattern) = elements(postgres, pattern) else {
        return false;
    };
    let value: Vec<char> = value.chars().collect();
    let p = pattern.len();
    // After the step for position i, next[j] = value[i..] matches pattern[j..].
    // At i = value.len(): the empty value matches a pattern suffix made only of `%`.
    let mut next = vec![false; p + 1];
    next[p] = true;
    for j in (0..p).rev() {
        next[j] = pattern[j] == Element::AnyRun && next[j + 1];
    }
    let mut here = vec![false; p + 1];
    for i in (0..value.len()).rev() {
        // A non-empty value does not match the empty pattern.
        here[p] = false;
        for j in (0..p).rev() {
            here[j] = match pattern[j] {
                // `%` takes no character (here[j+1]) or one more (next[j]: same `%`, i+1).
                Element::AnyRun => here[j + 1] || next[j],
                Element::AnyOne => next[j + 1],
                Element::Exactly(c) => c == value[i] && next[j + 1],
            };
        }
        std::mem::swap(&mut next, &mut here);
    }
    next[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn koku_patterns_and_the_spec_rules() {
        let trino = |v, p| like(false, v, p);
        assert!(trino("openshift-monitoring", "openshift-%"));
        assert!(trino("openshift-", "openshift-%"));
        assert!(!trino("openshift", "openshift-%"));
        assert!(!trino("my-openshift-app", "openshift-%"));
        assert!(trino("kube_system", "kube_system") && trino("kubexsystem", "kube_system"));
        assert!(!trino("Kube-system", "kube-%"));
        assert!(trino("", "%") && trino("", "%%") && !trino("", "_") && trino("", ""));
        assert!(!trino("a", ""));
        assert!(trino("xaybzc", "%a%b%c") && !trino("xaybz", "%a%b%c"));
        assert!(trino("é", "_") && !trino("é", "__"));
        // Trino 476: no escape character.
        assert!(trino(r"a\x", r"a\%") && !trino("a%", r"a\%"));
        assert!(trino(r"a\", r"a\"));
    }

    #[test]
    fn postgres_escapes_with_a_backslash() {
        let pg = |v, p| like(true, v, p);
        assert!(pg("50%", r"50\%") && !pg("500", r"50\%"));
        assert!(pg("a_b", r"a\_b") && !pg("axb", r"a\_b"));
        assert!(pg(r"a\b", r"a\\b"));
        assert!(pg("ab", r"a\b"));
        assert!(!pg(r"a\", r"a\") && !pg("a", r"a\"));
        assert_eq!(elements(true, r"\"), None);
        assert_eq!(
            elements(true, r"\\%"),
            Some(vec![Element::Exactly('\\'), Element::AnyRun])
        );
    }
}
