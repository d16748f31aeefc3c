//! Exact decimal values for the references: a decimal text or a double becomes
//! `± digits × 10^exp` with integer digits, and rounding is integer arithmetic on those digits.
//! Nothing here goes through the standard library's float formatting, which the engine uses.

use num_bigint::BigInt;
use num_traits::{Signed, Zero};

/// `(-1)^negative × significand × 10^exp`, exactly. Zero has a zero significand (and keeps
/// its sign, as a double's `-0.0` does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    pub negative: bool,
    pub significand: BigInt,
    pub exp: i64,
}

impl Decimal {
    /// Reads a decimal number as JSON and ryu write them: optional `-`, digits, optional `.` and
    /// digits, optional `e`/`E`, sign and digits. `None` for anything else.
    pub fn parse(text: &str) -> Option<Decimal> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut exp: i64 = match exponent {
            None => 0,
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                // Exponents past 10^9 are not what the targets feed here.
                e.parse::<i64>().ok().filter(|e| e.abs() < 1_000_000_000)?
            }
        };
        exp -= frac.len() as i64;
        let significand: BigInt = format!("{int}{frac}").parse().ok()?;
        Some(Decimal {
            negative,
            significand,
            exp,
        })
    }

    /// The exact value of a finite double: its integer mantissa times a power of two, written
    /// as a decimal (2^-k = 5^k × 10^-k). `None` for NaN and infinities.
    pub fn of_f64(x: f64) -> Option<Decimal> {
        let (negative, mantissa, exp2) = binary_parts(x)?;
        let m = BigInt::from(mantissa);
        let (significand, exp) = if exp2 >= 0 {
            (m << exp2 as usize, 0)
        } else {
            (m * BigInt::from(5u8).pow((-exp2) as u32), exp2 as i64)
        };
        Some(Decimal {
            negative,
            significand,
            exp,
        })
    }

    /// The significant digits (no leading or trailing zeros; empty for zero) and the power of
    /// ten of the first one: `value = 0.d1d2… × 10^(point)`, written `d1.d2… × 10^(point - 1)`.
    pub fn digits(&self) -> (String, i64) {
        if self.significand.is_zero() {
            return (String::new(), 0);
        }
        let text = self.significand.abs().to_string();
        let trimmed = text.trim_end_matches('0');
        let point = self.exp + text.len() as i64;
        (trimmed.to_string(), point)
    }

    /// The value rounded to `places` decimal places, half away from zero (Java's `HALF_UP`,
    /// PostgreSQL's numeric rounding), unscaled: `round(value × 10^places)`.
    pub fn round_half_up(&self, places: i64) -> BigInt {
        let magnitude = self.significand.abs();
        let shift = self.exp + places;
        let rounded = if shift >= 0 {
            magnitude * pow10(shift as u32)
        } else {
            let unit = pow10((-shift) as u32);
            let (q, r) = (&magnitude / &unit, &magnitude % &unit);
            if r * 2 >= unit {
                q + 1
            } else {
                q
            }
        };
        if self.negative {
            -rounded
        } else {
            rounded
        }
    }

    /// The value rounded to `n` significant digits, ties to even (C's `printf("%.*e")` on an
    /// exact binary value under the default rounding mode). Zero stays zero.
    pub fn round_significant_half_even(&self, n: u32) -> Decimal {
        let (digits, point) = self.digits();
        if digits.is_empty() {
            return self.clone();
        }
        // value = int(digits) × 10^(point - len); keep n digits: divide by 10^(len - n).
        let len = digits.len() as i64;
        let digits: BigInt = digits.parse().expect("digits are digits");
        if len <= n as i64 {
            return Decimal {
                negative: self.negative,
                significand: digits,
                exp: point - len,
            };
        }
        let unit = pow10((len - n as i64) as u32);
        let (q, r) = (&digits / &unit, &digits % &unit);
        let twice = r * 2;
        let odd = (&q % 2u8) == BigInt::from(1u8);
        let q = if twice > unit || (twice == unit && odd) {
            q + 1
        } else {
            q
        };
        Decimal {
            negative: self.negative,
            significand: q,
            exp: point - n as i64,
        }
    }
}

/// `10^k`.
pub fn pow10(k: u32) -> BigInt {
    BigInt::from(10u8).pow(k)
}

/// A finite double as `(negative, mantissa, exp2)` with `|x| = mantissa × 2^exp2` exactly
/// (IEEE 754 binary64: 52 stored fraction bits, exponent bias 1023, subnormals without the
/// implicit bit). `None` for NaN and infinities.
pub fn binary_parts(x: f64) -> Option<(bool, u64, i32)> {
    let bits = x.to_bits();
    let negative = bits >> 63 == 1;
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    match biased {
        0x7ff => None,
        0 => Some((negative, fraction, -1074)),
        _ => Some((negative, fraction | (1u64 << 52), biased - 1075)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    #[test]
    fn parses_json_and_ryu_numbers() {
        assert_eq!(dec("1.5").digits(), ("15".into(), 1));
        assert_eq!(dec("-0.0001").digits(), ("1".into(), -3));
        assert_eq!(dec("1E+2").digits(), ("1".into(), 3));
        assert_eq!(dec("100.0").digits(), ("1".into(), 3));
        assert_eq!(dec("0").digits(), (String::new(), 0));
        assert!(dec("-0.0").negative);
        for bad in ["", "-", ".5", "1e", "1e+", "+1", "0x10", "1.5.5", "inf"] {
            assert_eq!(Decimal::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn exact_values_of_doubles() {
        assert_eq!(Decimal::of_f64(0.5).unwrap().digits(), ("5".into(), 0));
        // 0.1 is 0.1000000000000000055511151231257827021181583404541015625 exactly.
        assert_eq!(
            Decimal::of_f64(0.1).unwrap().digits().0,
            "1000000000000000055511151231257827021181583404541015625"
        );
        assert_eq!(
            Decimal::of_f64(-96.0).unwrap().round_half_up(0),
            (-96).into()
        );
        // The smallest subnormal, 2^-1074, starts 4.94065645841246544e-324.
        let (digits, point) = Decimal::of_f64(f64::from_bits(1)).unwrap().digits();
        assert!(digits.starts_with("494065645841246544"));
        assert_eq!(point, -323);
        assert_eq!(Decimal::of_f64(f64::NAN), None);
    }

    #[test]
    fn rounding() {
        // HALF_UP is away from zero on an exact half, both signs.
        assert_eq!(dec("5e-16").round_half_up(15), 1.into());
        assert_eq!(dec("-5e-16").round_half_up(15), (-1).into());
        assert_eq!(dec("4.9e-16").round_half_up(15), 0.into());
        assert_eq!(dec("0.9999999999999999").round_half_up(15), pow10(15));
        // Ties to even at 15 significant digits: ...45|5 goes up to the even 6, ...44|5 stays.
        let tie = dec("1234567890123455").round_significant_half_even(15);
        assert_eq!(tie.digits(), ("123456789012346".into(), 16));
        let tie = dec("1234567890123445").round_significant_half_even(15);
        assert_eq!(tie.digits(), ("123456789012344".into(), 16));
        let carry = dec("9999999999999999").round_significant_half_even(15);
        assert_eq!(carry.digits(), ("1".into(), 17));
    }
}
