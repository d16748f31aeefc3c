//! Reference for a double stored in koku's `numeric(33,15)` columns, from the spec alone.
//!
//! - Trino (spec §3 statement 4, §7.3): `BigDecimal.valueOf(double).setScale(15, HALF_UP)`:
//!   the shortest decimal that reads back as the double, then half away from zero at 15
//!   places. The shortest decimal comes from ryu (the engine uses the standard library's
//!   formatter, a different algorithm); where two shortest decimals are equally near, ryu
//!   takes the one with an even last digit, as Java's `Double.toString` does (Trino 476:
//!   `131029125931.515625` → `131029125931.515620000000000`). The rounding is integer
//!   arithmetic.
//! - koku's PostgreSQL port (spec §7.3, §9.3): `float8_numeric` prints `%.15g` (15 significant
//!   digits of the exact binary value, C's default rounding: ties to even), then numeric's
//!   rounding to 15 places (half away from zero). Computed from the exact binary value.
//! - Both: NaN and ±∞ fail (§7.13); a value needing more than 18 integer digits (33 − 15) does
//!   not fit and fails the insert (docs/semantics.md: Trino 476 refused `1e18`).

use num_bigint::BigInt;
use num_traits::Signed;

use crate::decimal::{binary_parts, pow10, Decimal};

/// Decimal places of `numeric(33,15)`.
pub const SCALE: i64 = 15;
/// Total digits of `numeric(33,15)`.
pub const PRECISION: u32 = 33;

/// What storing a double must give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// The unscaled value (value × 10^15).
    Value(BigInt),
    NotFinite,
    TooLarge,
}

/// The decimal Trino starts from: the shortest round-trip digits, as ryu finds them.
pub fn trino_decimal(x: f64) -> Option<Decimal> {
    if !x.is_finite() {
        return None;
    }
    let mut buffer = ryu::Buffer::new();
    Some(Decimal::parse(buffer.format_finite(x)).expect("ryu writes a decimal number"))
}

/// The decimal koku's PostgreSQL port starts from: 15 significant digits, ties to even.
pub fn postgres_decimal(x: f64) -> Option<Decimal> {
    Some(Decimal::of_f64(x)?.round_significant_half_even(15))
}

/// `x` stored in `numeric(33,15)` by Trino (`postgres == false`) or by koku's PostgreSQL port.
pub fn stored(x: f64, postgres: bool) -> Stored {
    let decimal = if postgres {
        postgres_decimal(x)
    } else {
        trino_decimal(x)
    };
    let Some(decimal) = decimal else {
        return Stored::NotFinite;
    };
    let unscaled = decimal.round_half_up(SCALE);
    if unscaled.abs() >= pow10(PRECISION) {
        Stored::TooLarge
    } else {
        Stored::Value(unscaled)
    }
}

/// Finding N1 (docs/testing.md "Fuzzing"): when `x` lies exactly halfway between two shortest
/// round-trip decimals, Java (so Trino 476) takes the one whose last digit is even, which is
/// what ryu gives (and the engine's rounding, since it uses ryu); the standard library's
/// formatter, which the engine's label parser uses (finding L6), takes the one of larger
/// magnitude. This is that decimal, when it differs from ryu's: `None` when `x` is not
/// halfway, or ryu's is already the larger. Found by exact arithmetic, not by the formatter.
pub fn upper_tie_partner(x: f64) -> Option<Decimal> {
    let shortest = trino_decimal(x)?;
    let exact = Decimal::of_f64(x)?;
    // Halfway above: 2·|x| = (2S + 1)·10^k, with shortest = S·10^k.
    let k = shortest.exp.min(exact.exp);
    let twice_exact = exact.significand.abs() * 2 * pow10((exact.exp - k) as u32);
    let midpoint = (shortest.significand.abs() * 2 + 1) * pow10((shortest.exp - k) as u32);
    if twice_exact != midpoint {
        return None;
    }
    let partner = Decimal {
        negative: shortest.negative,
        significand: shortest.significand.abs() + 1,
        exp: shortest.exp,
    };
    let sign = if partner.negative { "-" } else { "" };
    let text = format!("{sign}{}e{}", partner.significand, partner.exp);
    (text.parse::<f64>().ok() == Some(x)).then_some(partner)
}

/// Whether `unscaled × 10^-15` is within half a unit of the 15th place plus half the spacing of
/// doubles at `x` from `x`'s exact binary value: the shortest decimal lies within half a
/// spacing of `x` (it reads back as `x` under round-to-nearest), and HALF_UP moves it by at
/// most half a unit of 10^-15. This holds for the Trino rule whatever decimal ryu picked.
pub fn within_trino_bound(x: f64, unscaled: &BigInt) -> bool {
    let (negative, mantissa, exp2) = binary_parts(x).expect("a finite double");
    let exact = BigInt::from(mantissa);
    let value = if negative { -exact } else { exact };
    // Scale everything by 2·T with T = 2^max(1 − exp2, 0), so that every term is an integer:
    // |R/10^15 − m·2^e| ≤ 1/(2·10^15) + 2^(e−1)  ⇔  |2T·R − 2T·10^15·m·2^e| ≤ T + 10^15·T·2^e.
    let t_shift = (1 - exp2).max(0) as usize;
    let two_t = BigInt::from(1u8) << (t_shift + 1);
    let t = BigInt::from(1u8) << t_shift;
    let lhs = unscaled * &two_t;
    let scaled_value = shift(
        value * pow10(SCALE as u32),
        exp2 as i64 + t_shift as i64 + 1,
    );
    let bound = &t + shift(pow10(SCALE as u32), exp2 as i64 + t_shift as i64);
    (lhs - scaled_value).abs() <= bound
}

/// `v × 2^k` for `k ≥ 0`.
fn shift(v: BigInt, k: i64) -> BigInt {
    assert!(k >= 0, "the scaling keeps every power of two whole");
    v << k as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(x: f64, postgres: bool) -> String {
        match stored(x, postgres) {
            Stored::Value(u) => {
                let sign = if u.is_negative() { "-" } else { "" };
                let digits = format!("{:016}", u.abs());
                let (int, frac) = digits.split_at(digits.len() - 15);
                format!("{sign}{int}.{frac}")
            }
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn the_spec_and_semantics_examples() {
        // Trino 476 values (docs/semantics.md, double → numeric(33,15)).
        assert_eq!(text(0.1 + 0.2, false), "0.300000000000000");
        assert_eq!(text(5e-16, false), "0.000000000000001");
        assert_eq!(text(-5e-16, false), "-0.000000000000001");
        assert_eq!(text(4.9e-16, false), "0.000000000000000");
        assert_eq!(text(2.0 / 3.0, false), "0.666666666666667");
        assert_eq!(text(1234.5678901234567, false), "1234.567890123456700");
        assert_eq!(text(0.9999999999999999, false), "1.000000000000000");
        assert_eq!(text(1e17, false), "100000000000000000.000000000000000");
        assert_eq!(text(1e18, false), "TooLarge");
        assert_eq!(text(f64::NAN, false), "NotFinite");
        assert_eq!(text(f64::NEG_INFINITY, true), "NotFinite");
        // The PostgreSQL port: 15 significant digits first.
        assert_eq!(text(1234.5678901234567, true), "1234.567890123460000");
        assert_eq!(text(0.1 + 0.2, true), "0.300000000000000");
        assert_eq!(text(-96.0, true), "-96.000000000000000");
        // 999999999999999872 is the largest double below 1e18: its shortest decimal,
        // 9.999999999999999e17, fits in Trino; its 15 significant digits, 1.00000000000000e18,
        // do not.
        assert_eq!(
            text(999999999999999872.0, false),
            "999999999999999900.000000000000000"
        );
        assert_eq!(text(999999999999999872.0, true), "TooLarge");
    }

    #[test]
    // The literals are the doubles' exact values, halfway between two shortest decimals: the
    // shorter text clippy proposes is the standard library's pick of the two, the finding.
    #[allow(clippy::excessive_precision)]
    fn halfway_doubles_round_to_the_even_digit() {
        // Trino 476, 2026-12-02: CAST(DOUBLE '131029125931.515625' AS decimal(33,15)) is
        // 131029125931.515620000000000; the double is exactly 131029125931.515625, halfway
        // between the 17-digit decimals ...51562 and ...51563.
        assert_eq!(
            text(131029125931.515625, false),
            "131029125931.515620000000000"
        );
        assert_eq!(
            text(1008446700002001.25, false),
            "1008446700002001.200000000000000"
        );
        assert_eq!(
            text(-1008446700002001.25, false),
            "-1008446700002001.200000000000000"
        );
        let partner = upper_tie_partner(131029125931.515625).unwrap();
        assert_eq!(partner.digits(), ("13102912593151563".into(), 12));
        // Not halfway, or halfway with ryu's already the larger: no partner.
        assert_eq!(upper_tie_partner(0.1), None);
        assert_eq!(upper_tie_partner(1e15 + 0.75), None);
        assert!(upper_tie_partner(1e15 + 0.25).is_some());
    }

    #[test]
    fn values_below_half_a_unit_store_zero() {
        // 0.1 + 0.2 − 0.3 = 5.551115123125783e-17: below half of 10^-15, so 0 in both rules.
        let residual = 0.1 + 0.2 - 0.3;
        assert_eq!(text(residual, false), "0.000000000000000");
        assert_eq!(text(-7e-30, true), "0.000000000000000");
        assert_eq!(text(9e-17, false), "0.000000000000000");
        assert_eq!(text(5e-16, false), "0.000000000000001");
    }

    #[test]
    fn the_bound_holds_and_bites() {
        for x in [
            0.1,
            5e-16,
            1e17,
            123456789.123,
            2f64.powi(59) + 128.0,
            1e-300,
            -7.5,
        ] {
            let Stored::Value(u) = stored(x, false) else {
                panic!("{x} fits")
            };
            assert!(within_trino_bound(x, &u), "{x}");
            // Where doubles are closer than 10^-15, two units off is outside the bound.
            if x.abs() < 8.0 {
                assert!(!within_trino_bound(x, &(u.clone() + 2)), "{x} + 2 units");
            }
        }
        // 2^59 + 128: doubles are 128 apart there, so the bound allows a shortest decimal 64 off.
        let x = 2f64.powi(59) + 128.0;
        let exact = BigInt::from(2u64.pow(59) + 128) * pow10(15);
        assert!(within_trino_bound(x, &(&exact + pow10(15) * 64)));
        assert!(!within_trino_bound(x, &(&exact + pow10(15) * 65)));
    }
}
