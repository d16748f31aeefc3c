//! Doubles to koku's `numeric(33,15)`, rounded the way Trino's insert-time cast rounds them
//! (spec §3 statement 4, §7.3): take the shortest decimal string that reads back as the same double
//! (Java's `BigDecimal.valueOf`), then round half up to 15 decimal places. koku's PostgreSQL port
//! casts float8 to numeric through 15 significant digits (`float8_numeric`, DBL_DIG) before the
//! same rounding to 15 places ([`Numeric::from_f64_in`], spec §9.3).
//!
//! The result is an unscaled `i128` (value × 10^15), which every sink uses: the Parquet sink as
//! `Decimal128(33, 15)`, the CSV sink as text, the PostgreSQL sink as binary `NUMERIC`.

use std::fmt::{self, Write as _};

use crate::compat::Compatibility;

/// Decimal places of koku's numeric columns.
pub const SCALE: u32 = 15;
/// Total digits of koku's numeric columns.
pub const PRECISION: u8 = 33;

/// A value of a `numeric(33,15)` column: `unscaled × 10^-15`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Numeric(pub i128);

/// Why a double cannot become `numeric(33,15)`; Trino fails the whole insert in these cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumericError {
    NotFinite(String),
    TooLarge(String),
}

impl NumericError {
    /// The value that does not fit, as text (`NaN`, `inf`, `1e40`).
    pub fn value(&self) -> &str {
        match self {
            NumericError::NotFinite(v) | NumericError::TooLarge(v) => v,
        }
    }
}

impl fmt::Display for NumericError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumericError::NotFinite(v) => write!(f, "{v} is not a finite number"),
            NumericError::TooLarge(v) => write!(f, "{v} does not fit numeric(33,15)"),
        }
    }
}

impl Numeric {
    /// Rounds `x` as the koku variant `compat` stores it: Trino from the shortest round-trip
    /// decimal, PostgreSQL from the decimal rounded to 15 significant digits; both then round
    /// half away from zero to 15 places.
    ///
    /// ```
    /// use ocp_engine::compat::Compatibility::{Postgres, Trino};
    /// use ocp_engine::numeric::Numeric;
    /// let text = |x: f64, c| Numeric::from_f64_in(x, c).unwrap().to_string();
    /// assert_eq!(text(0.1 + 0.2, Trino), "0.300000000000000");
    /// // 5e-16 is exactly half a unit of the 15th place in its shortest decimal: HALF_UP.
    /// assert_eq!(text(5e-16, Trino), "0.000000000000001");
    /// assert_eq!(text(1234.5678901234567, Trino), "1234.567890123456700");
    /// assert_eq!(text(1234.5678901234567, Postgres), "1234.567890123460000");
    /// assert!(Numeric::from_f64_in(f64::NAN, Trino).is_err());
    /// assert!(Numeric::from_f64_in(1e18, Trino).is_err());
    /// ```
    pub fn from_f64_in(x: f64, compat: Compatibility) -> Result<Numeric, NumericError> {
        let unscaled = round_to_places(x, SCALE, compat)?;
        if unscaled.unsigned_abs() >= 10u128.pow(PRECISION as u32) {
            return Err(NumericError::TooLarge(x.to_string()));
        }
        Ok(Numeric(unscaled))
    }

    /// Base-10000 digits of the PostgreSQL binary `NUMERIC` wire format: `(weight, digits)` with
    /// value = Σ digits[i] × 10000^(weight - i), the first digit not zero and trailing zero
    /// groups removed.
    pub fn base10000(&self) -> (i16, Vec<i16>) {
        // Scale 15 is not a multiple of 4: shift to scale 16 so groups align on the point.
        let mut magnitude = self.0.unsigned_abs() * 10;
        let mut groups = Vec::new(); // least significant first; groups[0..4] are the fraction
        while magnitude > 0 {
            groups.push((magnitude % 10_000) as i16);
            magnitude /= 10_000;
        }
        if groups.is_empty() {
            return (0, Vec::new());
        }
        let weight = groups.len() as i16 - 1 - 4;
        groups.reverse();
        // The most significant group is never zero (the loop stops when the magnitude is), so
        // only trailing zero groups, of the fraction, are dropped.
        while groups.last() == Some(&0) {
            groups.pop();
        }
        (weight, groups)
    }
}

/// `x` rounded to `places` decimal places as the koku variant `compat` rounds a double into a
/// numeric column, unscaled (× 10^places): the decimal digits of `x` (Trino: the shortest that
/// read back; PostgreSQL: 15 significant), then half away from zero.
fn round_to_places(x: f64, places: u32, compat: Compatibility) -> Result<i128, NumericError> {
    if !x.is_finite() {
        return Err(NumericError::NotFinite(x.to_string()));
    }
    let decimal = match compat {
        Compatibility::Trino => Decimal::shortest(x),
        Compatibility::Postgres => Decimal::significant_15(x),
    };
    // value = d1.d2d3... × 10^exponent; digit i (0-based) has weight 10^(exponent - i). Keep the
    // digits of weight >= 10^-places, then round half up on the first dropped digit, the one of
    // weight 10^-(places+1). When even the first digit weighs less, that digit is an implicit
    // zero: the value rounds to 0 (5.6e-17 is 0.000000000000000, not 1e-15).
    let first_dropped = decimal.exponent + places as i32 + 1;
    let kept = first_dropped.max(0) as usize;
    let mut unscaled: i128 = 0;
    for i in 0..kept {
        unscaled = unscaled
            .checked_mul(10)
            .and_then(|u| u.checked_add(decimal.digit(i) as i128))
            .ok_or_else(|| NumericError::TooLarge(x.to_string()))?;
    }
    if first_dropped >= 0 && decimal.digit(kept) >= 5 {
        unscaled += 1;
    }
    Ok(if decimal.negative {
        -unscaled
    } else {
        unscaled
    })
}

/// A double's decimal digits d1 d2 … dn, the first not zero (none for zero), and the exponent e
/// of value = ±d1.d2… × 10^e. Held on the stack: a run rounds every metric of every row.
struct Decimal {
    negative: bool,
    /// A formatted double has at most 24 characters, so at most 24 digits.
    digits: [u8; 24],
    len: usize,
    exponent: i32,
}

impl Decimal {
    /// `x` as Trino's cast reads it: the shortest decimal that reads back as `x` (Java's
    /// `Double.toString`), the even last digit where two are equally near
    /// (`131029125931.515625` is `…51562`, where Rust's own formatting gives `…51563`: ryu
    /// breaks ties as Java does).
    fn shortest(x: f64) -> Decimal {
        let mut buffer = ryu::Buffer::new();
        Decimal::parse(buffer.format_finite(x))
    }

    /// `x` as the PostgreSQL port's cast reads it: 15 significant digits, correctly rounded
    /// (C's `%.15g`).
    fn significant_15(x: f64) -> Decimal {
        let mut text = StackText::default();
        write!(text, "{x:.14e}").expect("a formatted double fits 32 bytes");
        Decimal::parse(text.as_str())
    }

    /// Reads `[-]digits[.digits][e[-]power]`, as ryu and `{:e}` write a finite double.
    fn parse(text: &str) -> Decimal {
        let mut decimal = Decimal {
            negative: text.starts_with('-'),
            digits: [0; 24],
            len: 0,
            exponent: 0,
        };
        let (mantissa, power) = match text.split_once('e') {
            Some((mantissa, power)) => (mantissa, power.parse().expect("a decimal exponent")),
            None => (text, 0),
        };
        // Mantissa digit i (counting every digit, leading zeros too) has weight
        // 10^(before_point - 1 - i + power).
        let mut seen = 0i32;
        let mut before_point = None;
        let mut first = None;
        for byte in mantissa.bytes() {
            match byte {
                b'0'..=b'9' => {
                    if first.is_none() && byte != b'0' {
                        first = Some(seen);
                    }
                    if first.is_some() {
                        decimal.digits[decimal.len] = byte - b'0';
                        decimal.len += 1;
                    }
                    seen += 1;
                }
                b'.' => before_point = Some(seen),
                _ => {} // the sign
            }
        }
        if let Some(first) = first {
            decimal.exponent = before_point.unwrap_or(seen) - 1 - first + power;
        }
        decimal
    }

    /// Digit `i` (0-based), zero past the last (the unused places of `digits` are zeros).
    fn digit(&self, i: usize) -> u8 {
        self.digits.get(i).copied().unwrap_or(0)
    }
}

/// Formatted text on the stack, for the 22 characters of a double in `{:.14e}`.
#[derive(Default)]
struct StackText {
    bytes: [u8; 32],
    len: usize,
}

impl StackText {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("formatting writes UTF-8")
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.bytes
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A node's cores as `reporting_ocp_nodes.node_capacity_cpu_cores` (numeric(18,2)) stores the
/// double koku writes, in hundredths: PostgreSQL's cast of a float8 (15 significant digits,
/// then half away from zero at 2 places). `None` for a value the column cannot hold.
///
/// ```
/// use ocp_engine::numeric::cents;
/// assert_eq!(cents(4.0), Some(400));
/// // 1.005 is 1.00499999999999989… in binary, but its 15 significant digits are 1.00500…
/// assert_eq!(cents(1.005), Some(101));
/// assert_eq!(cents(4.001), Some(400));
/// assert_eq!(cents(f64::NAN), None);
/// // numeric(18,2) holds less than 10^16 (in hundredths, less than 10^18).
/// assert_eq!(cents(999_999_999_999_999.0), Some(99_999_999_999_999_900));
/// assert_eq!(cents(1e16), None);
/// ```
pub fn cents(x: f64) -> Option<i64> {
    round_to_places(x, 2, Compatibility::Postgres)
        .ok()
        .filter(|c| c.unsigned_abs() < 10u128.pow(18))
        .map(|c| c as i64)
}

impl fmt::Display for Numeric {
    /// Plain decimal text with exactly 15 fraction digits, as PostgreSQL prints numeric(33,15).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        let unit = 10u128.pow(SCALE);
        write!(f, "{sign}{}.{:015}", magnitude / unit, magnitude % unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(x: f64) -> String {
        Numeric::from_f64_in(x, Compatibility::Trino)
            .unwrap()
            .to_string()
    }

    fn postgres_text(x: f64) -> String {
        Numeric::from_f64_in(x, Compatibility::Postgres)
            .unwrap()
            .to_string()
    }

    #[test]
    fn postgres_port_keeps_15_significant_digits_first() {
        // 0.1 + 0.2 = 0.30000000000000004 (shortest repr, 17 digits). Trino rounds that to 15
        // places: 0.300000000000000. PostgreSQL's %.15g gives 0.300000000000000 as well.
        assert_eq!(text(0.1 + 0.2), "0.300000000000000");
        assert_eq!(postgres_text(0.1 + 0.2), "0.300000000000000");
        // 1234.5678901234567: Trino keeps 15 places of the shortest repr → 1234.567890123456700;
        // %.15g keeps 15 significant digits → 1234.56789012346, padded to 15 places.
        assert_eq!(text(1234.5678901234567), "1234.567890123456700");
        assert_eq!(postgres_text(1234.5678901234567), "1234.567890123460000");
        // 2/3: shortest 0.6666666666666666 → HALF_UP at 15 places 0.666666666666667;
        // %.15g 0.666666666666667 → the same.
        assert_eq!(text(2.0 / 3.0), "0.666666666666667");
        assert_eq!(postgres_text(2.0 / 3.0), "0.666666666666667");
        assert_eq!(postgres_text(-96.0), "-96.000000000000000");
    }

    /// Found by fuzzing (fuzz/regressions/numeric/N1_*): Trino 476 answered (2026-12-02)
    /// `CAST(DOUBLE '131029125931.515625' AS decimal(33,15))` = 131029125931.515620000000000;
    /// the double is exactly halfway between the shortest decimals …51562 and …51563, and Java
    /// takes the even digit.
    #[test]
    #[allow(clippy::excessive_precision)]
    fn a_double_halfway_between_two_shortest_decimals_takes_the_even_digit() {
        assert_eq!(text(131029125931.515625), "131029125931.515620000000000");
        assert_eq!(
            text(1008446700002001.25),
            "1008446700002001.200000000000000"
        );
        assert_eq!(
            text(-1008446700002001.25),
            "-1008446700002001.200000000000000"
        );
        // Not a tie: unchanged.
        assert_eq!(text(1e15 + 0.75), "1000000000000000.800000000000000");
    }

    /// Found by fuzzing (fuzz/regressions/numeric/N2_*): a value whose first digit lies below
    /// the 16th place rounded up to one unit of the 15th.
    #[test]
    fn values_below_half_a_unit_of_the_15th_place_store_zero() {
        // Spec §7.3: HALF_UP at 15 places. 0.1 + 0.2 - 0.3 = 5.551115123125783e-17 < 5e-16.
        assert_eq!(text(0.1 + 0.2 - 0.3), "0.000000000000000");
        assert_eq!(text(9e-17), "0.000000000000000");
        assert_eq!(postgres_text(-7e-30), "0.000000000000000");
        // Unchanged: here the first digit is the one rounded on.
        assert_eq!(text(5e-16), "0.000000000000001");
        assert_eq!(text(4.9e-16), "0.000000000000000");
        // numeric(18,2): 0.0006 is below half a cent.
        assert_eq!(cents(0.0006), Some(0));
        assert_eq!(cents(0.006), Some(1));
    }

    #[test]
    fn exact_values_keep_their_digits() {
        assert_eq!(text(96.0), "96.000000000000000");
        assert_eq!(text(-2.5), "-2.500000000000000");
        assert_eq!(text(0.0), "0.000000000000000");
        // 16 GiB of memory = 16.0 GiB exactly.
        assert_eq!(text(17179869184.0 / 1073741824.0), "16.000000000000000");
    }

    #[test]
    fn rounds_half_up_on_the_shortest_decimal_not_the_binary_value() {
        // 1/3 prints as 0.3333333333333333 (16 digits); the 16th place is 3: truncate.
        assert_eq!(text(1.0 / 3.0), "0.333333333333333");
        // 2/3 prints as 0.6666666666666666; the 16th place is 6: round up.
        assert_eq!(text(2.0 / 3.0), "0.666666666666667");
        // 5e-16 prints as "5e-16": exactly half a unit of the 15th place; HALF_UP gives 1e-15
        // although the binary value of 5e-16 is slightly below one half-unit.
        assert_eq!(text(5e-16), "0.000000000000001");
        assert_eq!(text(-5e-16), "-0.000000000000001");
        assert_eq!(text(4.9e-16), "0.000000000000000");
        // 0.1 + 0.2 prints as 0.30000000000000004: the 17th place is dropped.
        assert_eq!(text(0.1 + 0.2), "0.300000000000000");
    }

    #[test]
    fn carries_through_nines() {
        // 0.9999999999999999 (16 nines) rounds up to 1.
        assert_eq!(text(0.9999999999999999), "1.000000000000000");
    }

    #[test]
    fn rejects_what_trino_rejects() {
        assert!(matches!(
            Numeric::from_f64_in(f64::NAN, Compatibility::Trino),
            Err(NumericError::NotFinite(_))
        ));
        assert!(matches!(
            Numeric::from_f64_in(f64::INFINITY, Compatibility::Trino),
            Err(NumericError::NotFinite(_))
        ));
        // 18 integer digits fit, 19 do not.
        assert!(Numeric::from_f64_in(1e17, Compatibility::Trino).is_ok());
        assert!(matches!(
            Numeric::from_f64_in(1e18, Compatibility::Trino),
            Err(NumericError::TooLarge(_))
        ));
    }

    #[test]
    fn base10000_groups_align_on_the_decimal_point() {
        // 12345.5 = 1·10000 + 2345 + 5000/10000 → weight 1, digits [1, 2345, 5000].
        assert_eq!(
            Numeric::from_f64_in(12345.5, Compatibility::Trino)
                .unwrap()
                .base10000(),
            (1, vec![1, 2345, 5000])
        );
        // 0.000000000000001 = 10/10000^4 → weight -4, digits [10].
        assert_eq!(Numeric(1).base10000(), (-4, vec![10]));
        // 96 → weight 0, digits [96].
        assert_eq!(
            Numeric::from_f64_in(96.0, Compatibility::Trino)
                .unwrap()
                .base10000(),
            (0, vec![96])
        );
        // 20000 → weight 1, digits [2] (trailing zero group dropped).
        assert_eq!(
            Numeric::from_f64_in(20000.0, Compatibility::Trino)
                .unwrap()
                .base10000(),
            (1, vec![2])
        );
        assert_eq!(Numeric(0).base10000(), (0, vec![]));
    }
}
