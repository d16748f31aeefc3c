//! Trino's `LIKE` for cost-category patterns (spec §6.5): `%` matches any run of characters, `_`
//! exactly one, everything else itself; case-sensitive; the whole value must match; no escape
//! character (Trino has no default escape, unlike PostgreSQL's backslash).

/// Whether `value LIKE pattern` under Trino's rules.
pub fn like(value: &str, pattern: &str) -> bool {
    let value: Vec<char> = value.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    matches_from(&value, &pattern)
}

/// Iterative matcher with single-point backtracking on the last `%` seen (linear in practice).
fn matches_from(value: &[char], pattern: &[char]) -> bool {
    let (mut v, mut p) = (0, 0);
    let mut last_percent: Option<(usize, usize)> = None; // (pattern index after %, value index)
    while v < value.len() {
        match pattern.get(p) {
            Some('%') => {
                last_percent = Some((p + 1, v));
                p += 1;
            }
            Some('_') => {
                v += 1;
                p += 1;
            }
            Some(&c) if c == value[v] => {
                v += 1;
                p += 1;
            }
            _ => match last_percent {
                // Let the last % swallow one more character and retry from there.
                Some((after, start)) => {
                    last_percent = Some((after, start + 1));
                    p = after;
                    v = start + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '%')
}

#[cfg(test)]
mod tests {
    use super::like;

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
}
