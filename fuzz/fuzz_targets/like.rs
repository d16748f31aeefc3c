//! Fuzz target `like`: `ocp_engine::like::like_in`, the cost-category `namespace LIKE pattern`
//! (spec §6.5; PostgreSQL port §9.3).
//!
//! For every value, pattern and koku variant:
//! - it never panics;
//! - it gives what `ocp_engine_fuzz::like_ref::like` gives: `%` any run, `_` one character,
//!   everything else itself, case-sensitive, whole value (§6.5); no escape in Trino (§6.5,
//!   Trino 476); a backslash escaping the next character in the PostgreSQL port (§9.3), a
//!   pattern ending in a lone backslash matching nothing (docs/semantics.md).
//!
//! Input: a flags byte (bit 0: the PostgreSQL port, else Trino; bit 1: the small alphabet),
//! then the value, a 0xFF byte (never in UTF-8), the pattern. Strings are the bytes as UTF-8
//! (lossily), or, with bit 1, one character per byte from a small alphabet of letters, `%`,
//! `_`, `\` and multi-byte characters, so that wildcards, escapes and matches are frequent. The
//! reference is quadratic: inputs whose value length times pattern length exceeds 2^20 are
//! checked for panics only.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ocp_engine::compat::Compatibility;
use ocp_engine::like::like_in;
use ocp_engine_fuzz::like_ref::like;

/// Characters of the small alphabet: two letters and a case variant, the wildcards, the
/// PostgreSQL escape, a two-byte and a four-byte character.
const ALPHABET: [char; 9] = ['a', 'b', 'A', '%', '_', '\\', 'é', '😀', '-'];

fn text(bytes: &[u8], small_alphabet: bool) -> String {
    if small_alphabet {
        bytes
            .iter()
            .map(|&b| ALPHABET[b as usize % ALPHABET.len()])
            .collect()
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (postgres, small_alphabet) = (flags & 1 == 1, flags & 2 == 2);
    let (value, pattern) = match rest.iter().position(|&b| b == 0xff) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let value = text(value, small_alphabet);
    let pattern = text(pattern, small_alphabet);
    let compat = if postgres {
        Compatibility::Postgres
    } else {
        Compatibility::Trino
    };
    let got = like_in(compat, &value, &pattern);
    if value
        .chars()
        .count()
        .saturating_mul(pattern.chars().count())
        > 1 << 20
    {
        return;
    }
    let want = like(postgres, &value, &pattern);
    assert_eq!(
        got, want,
        "{value:?} LIKE {pattern:?} in {compat:?}: engine {got}, reference {want}"
    );
});
