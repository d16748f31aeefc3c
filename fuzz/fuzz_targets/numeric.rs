//! Fuzz target `numeric`: `ocp_engine::numeric::Numeric::from_f64_in`, a double stored in koku's
//! `numeric(33,15)` columns (spec §3 statement 4, §7.3, §7.13, §9.3), and the `base10000` digits
//! the PostgreSQL sink writes.
//!
//! For every double and koku variant:
//! - it never panics;
//! - NaN and ±∞ give `Err(NotFinite)` (§7.13), a value needing more than 18 integer digits
//!   `Err(TooLarge)` (33 − 15 digits; Trino 476 refused `1e18`), and anything else `Ok`;
//! - the value is the reference's exactly (`ocp_engine_fuzz::numeric_ref::stored`): Trino's
//!   shortest round-trip decimal (from ryu; halfway between two, the even one, as Java's
//!   `Double.toString`) rounded half away from zero to 15 places (§7.3); the
//!   PostgreSQL port's 15 significant digits of the exact binary value, ties to even (`%.15g`),
//!   then half away from zero to 15 places (§7.3, §9.3);
//! - in Trino's rule it is within half a unit of 10^-15, plus half the spacing of doubles at x,
//!   of x's exact binary value (the shortest decimal reads back as x; the rounding moves it by
//!   at most half a unit), checked on integers, independently of ryu;
//! - `base10000()` reconstructs the same magnitude: `Σ digits[i] × 10000^(weight − i)`, every
//!   digit in 0..=9999, the first and last not zero, no digits for zero;
//! - `Display` prints the same value with exactly 15 fraction digits.
//!
//! The findings N1 and N2 (docs/testing.md "Fuzzing") are fixed in the engine: the rule alone
//! is accepted, and the reproducers under `fuzz/regressions/numeric/` pass.
//!
//! Input: a flags byte (bit 0: the PostgreSQL port, else Trino; bit 1: raw bits), then either
//! up to 8 bytes, little-endian, as the double's bits (every NaN payload, subnormals, huge
//! values), or a text read as a decimal number (`0.30000000000000004`, `5e-16`, `1e400`, `inf`)
//! giving the nearest double, which reaches halves of 10^-15 and 15-significant-digit ties far
//! more often than random bits do. A text that is no number is skipped.

#![no_main]

use libfuzzer_sys::fuzz_target;
use num_bigint::BigInt;
use num_traits::{Signed, Zero};
use ocp_engine::compat::Compatibility;
use ocp_engine::numeric::{Numeric, NumericError};
use ocp_engine_fuzz::decimal::pow10;
use ocp_engine_fuzz::numeric_ref::{stored, within_trino_bound, Stored};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let postgres = flags & 1 == 1;
    let x = if flags & 2 == 2 {
        let mut bits = [0u8; 8];
        let n = rest.len().min(8);
        bits[..n].copy_from_slice(&rest[..n]);
        f64::from_bits(u64::from_le_bytes(bits))
    } else {
        let Some(x) = std::str::from_utf8(rest).ok().and_then(|t| t.parse().ok()) else {
            return;
        };
        x
    };
    let compat = if postgres {
        Compatibility::Postgres
    } else {
        Compatibility::Trino
    };
    let got = Numeric::from_f64_in(x, compat);
    let want = stored(x, postgres);
    if !agrees(&want, &got) {
        panic!(
            "{x:e} ({:#x}) in {compat:?}: engine {got:?}, reference {want:?}",
            x.to_bits()
        );
    }
    let Ok(numeric) = got else {
        return;
    };
    if compat == Compatibility::Trino {
        assert!(
            within_trino_bound(x, &BigInt::from(numeric.0)),
            "{x:e}: {numeric} is further from the exact value than the rounding allows"
        );
    }
    check_base10000(&numeric);
    check_display(&numeric);
});

/// Whether the engine stored what `want` says: the same unscaled value, or the same failure.
fn agrees(want: &Stored, got: &Result<Numeric, NumericError>) -> bool {
    match (want, got) {
        (Stored::Value(want), Ok(numeric)) => BigInt::from(numeric.0) == *want,
        (Stored::NotFinite, Err(NumericError::NotFinite(_))) => true,
        (Stored::TooLarge, Err(NumericError::TooLarge(_))) => true,
        _ => false,
    }
}

/// `base10000()` is the magnitude in base-10000 digits around the decimal point.
fn check_base10000(numeric: &Numeric) {
    let (weight, digits) = numeric.base10000();
    if numeric.0 == 0 {
        assert!(digits.is_empty(), "zero has no digits: {digits:?}");
        return;
    }
    assert!(!digits.is_empty(), "{numeric} has digits");
    assert_ne!(digits[0], 0, "{numeric}: leading zero group in {digits:?}");
    assert_ne!(
        digits[digits.len() - 1],
        0,
        "{numeric}: trailing zero group"
    );
    // value × 10^16 = Σ digits[i] × 10000^(weight − i + 4); 10^16 = 10000^4.
    let mut sum = BigInt::zero();
    for (i, &digit) in digits.iter().enumerate() {
        assert!((0..=9999).contains(&digit), "{numeric}: digit {digit}");
        let power = weight as i64 - i as i64 + 4;
        assert!(
            power >= 0,
            "{numeric}: a digit below 10^-16 ({weight}, {digits:?})"
        );
        sum += BigInt::from(digit) * pow10(4 * power as u32);
    }
    assert_eq!(
        sum,
        BigInt::from(numeric.0).abs() * 10,
        "{numeric}: base10000 ({weight}, {digits:?})"
    );
}

/// `Display` writes the unscaled value with the point 15 digits from the right.
fn check_display(numeric: &Numeric) {
    let text = numeric.to_string();
    let (int, frac) = text.split_once('.').expect("a point");
    assert_eq!(frac.len(), 15, "{text}");
    let unsigned: BigInt = format!("{}{frac}", int.trim_start_matches('-'))
        .parse()
        .expect("digits");
    let signed = if int.starts_with('-') {
        -unsigned
    } else {
        unsigned
    };
    assert_eq!(signed, BigInt::from(numeric.0), "{text}");
}
