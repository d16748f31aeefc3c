//! `LIKE` for cost-category patterns (spec §6.5): `%` matches any run of characters, `_` exactly
//! one, everything else itself; case-sensitive; the whole value must match. Trino has no escape
//! character; koku's PostgreSQL port runs PostgreSQL's LIKE, whose default escape is a backslash
//! (spec §9.3): `\%` is a literal `%` there.

use crate::compat::Compatibility;

/// One element of a pattern.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    /// `%`
    AnyRun,
    /// `_`
    AnyOne,
    Literal(char),
}

/// Whether `value LIKE pattern` in the koku variant `compat` reproduces. PostgreSQL rejects a
/// pattern ending in a lone backslash; here such a pattern matches nothing.
///
/// ```
/// use ocp_engine::compat::Compatibility::{Postgres, Trino};
/// use ocp_engine::like::like_in;
/// assert!(like_in(Trino, "openshift-monitoring", "openshift-%"));
/// assert!(!like_in(Trino, "openshift", "openshift-%"));
/// assert!(like_in(Trino, "kube_system", "kube_system") && like_in(Trino, "kubexsystem", "kube_system"));
/// // Trino has no escape character; the PostgreSQL port's is a backslash.
/// assert!(like_in(Trino, r"a\x", r"a\%") && !like_in(Trino, "a%", r"a\%"));
/// assert!(like_in(Postgres, "a%", r"a\%") && !like_in(Postgres, r"a\x", r"a\%"));
/// ```
pub fn like_in(compat: Compatibility, value: &str, pattern: &str) -> bool {
    let Some(tokens) = tokens(compat, pattern) else {
        return false;
    };
    let value: Vec<char> = value.chars().collect();
    matches_from(&value, &tokens)
}

/// The pattern's tokens; `None` for a PostgreSQL pattern ending in its escape character.
fn tokens(compat: Compatibility, pattern: &str) -> Option<Vec<Token>> {
    let mut chars = pattern.chars();
    let mut tokens = Vec::new();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '%' => Token::AnyRun,
            '_' => Token::AnyOne,
            '\\' if compat == Compatibility::Postgres => Token::Literal(chars.next()?),
            c => Token::Literal(c),
        });
    }
    Some(tokens)
}

/// Iterative matcher with single-point backtracking on the last `%` seen (linear in practice).
fn matches_from(value: &[char], pattern: &[Token]) -> bool {
    let (mut v, mut p) = (0, 0);
    let mut last_percent: Option<(usize, usize)> = None; // (pattern index after %, value index)
    while v < value.len() {
        match pattern.get(p) {
            Some(Token::AnyRun) => {
                p += 1;
                last_percent = Some((p, v));
            }
            Some(Token::AnyOne) => {
                v += 1;
                p += 1;
            }
            Some(&Token::Literal(c)) if c == value[v] => {
                v += 1;
                p += 1;
            }
            _ => match last_percent {
                // Let the last % swallow one more character and retry from there.
                Some((after, start)) => {
                    v = start + 1;
                    p = after;
                    last_percent = Some((after, v));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&t| t == Token::AnyRun)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trino's LIKE.
    fn like(value: &str, pattern: &str) -> bool {
        like_in(Compatibility::Trino, value, pattern)
    }

    #[test]
    fn koku_default_patterns() {
        assert!(like("openshift-monitoring", "openshift-%"));
        assert!(like("openshift-", "openshift-%"));
        assert!(!like("openshift", "openshift-%"));
        assert!(like("openshift", "openshift"));
        assert!(like("kube-system", "kube-%"));
        assert!(like("Platform unallocated", "Platform unallocated"));
        assert!(!like("my-openshift-app", "openshift-%"));
    }

    #[test]
    fn wildcards_and_case() {
        assert!(like("abc", "a_c"));
        assert!(!like("abbc", "a_c"));
        assert!(like("abc", "%"));
        assert!(like("", "%"));
        assert!(!like("", "_"));
        assert!(like("a%b", "a%b"));
        assert!(like("xaybzc", "%a%b%c"));
        assert!(!like("xaybz", "%a%b%c"));
        assert!(!like("Kube-system", "kube-%"));
        // No escape character: a backslash is an ordinary character.
        assert!(like(r"a\b", r"a\b"));
        assert!(like(r"a\xyz", r"a\%"));
    }

    #[test]
    fn postgres_backslash_escapes_wildcards() {
        let pg = Compatibility::Postgres;
        // Spec §9.3: PostgreSQL's LIKE escapes with a backslash by default.
        assert!(like_in(pg, "50%", r"50\%"));
        assert!(!like_in(pg, "500", r"50\%"));
        assert!(like_in(pg, "a_b", r"a\_b"));
        assert!(!like_in(pg, "axb", r"a\_b"));
        assert!(like_in(pg, r"a\b", r"a\\b"));
        assert!(!like_in(pg, r"a\", r"a\"));
        // Trino reads the same patterns with the backslash as an ordinary character.
        assert!(!like("500", r"50\%"));
        assert!(like(r"50\0", r"50\%"));
        // Without backslashes both agree.
        assert!(like_in(pg, "openshift-x", "openshift-%"));
    }
}
