//! koku's unit conversions, with Trino's arithmetic (spec §0.1, §7.1): every division is a double
//! division by the literal divisor (never a multiplication by its reciprocal, which differs in the
//! last bit); bytes become GiB by the exact factor 2^-30, never 1e9.

/// Seconds per hour: Trino's `3600.0`, a DECIMAL literal coerced to double.
pub const SECONDS_PER_HOUR: f64 = 3600.0;
/// `power(2, -30)`: bytes to GiB.
pub const GIB_PER_BYTE: f64 = 1.0 / 1_073_741_824.0;
/// Seconds per day, the integer factor of `86400 * days_in_month`.
const SECONDS_PER_DAY: u32 = 86_400;

/// `seconds / 3600.0`.
///
/// ```
/// use ocp_engine::units::{gib_hours, gib_months, hours};
/// assert_eq!(hours(Some(7200.0)), Some(2.0));
/// assert_eq!(hours(None), None);
/// // A divided, never multiplied by the reciprocal: the last bit can differ (spec §7 item 1).
/// let x = 3.0;
/// assert_eq!(hours(Some(x)), Some(x / 3600.0));
/// assert_ne!(x / 3600.0, x * (1.0 / 3600.0));
/// assert_eq!(gib_hours(Some(3600.0 * 1_073_741_824.0)), Some(1.0));
/// // 30 days of one GiB is one GiB-month in September.
/// assert_eq!(gib_months(Some(30.0 * 86_400.0 * 1_073_741_824.0), 30), Some(1.0));
/// ```
pub fn hours(seconds: Option<f64>) -> Option<f64> {
    seconds.map(|s| s / SECONDS_PER_HOUR)
}

/// `byte_seconds / 3600.0 * power(2, -30)`.
pub fn gib_hours(byte_seconds: Option<f64>) -> Option<f64> {
    byte_seconds.map(|b| b / SECONDS_PER_HOUR * GIB_PER_BYTE)
}

/// `bytes * power(2, -30)`.
pub fn gib(bytes: Option<f64>) -> Option<f64> {
    bytes.map(|b| b * GIB_PER_BYTE)
}

/// `byte_seconds / (86400 * days_in_month) * power(2, -30)`: the divisor is an integer product
/// (exact), divided in double (spec §3 outer Storage select).
pub fn gib_months(byte_seconds: Option<f64>, days_in_month: u32) -> Option<f64> {
    let divisor = f64::from(SECONDS_PER_DAY * days_in_month);
    byte_seconds.map(|b| b / divisor * GIB_PER_BYTE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_match_the_spec_by_hand() {
        // Spec §10.4: 4 cores for 24 full hours = 4·3600·24 core-seconds = 96 core-hours.
        assert_eq!(hours(Some(4.0 * 3600.0 * 24.0)), Some(96.0));
        // 2 GiB for 24 hours = 48 GiB-hours.
        assert_eq!(
            gib_hours(Some(2.0 * 1_073_741_824.0 * 3600.0 * 24.0)),
            Some(48.0)
        );
        // 5 GiB claimed for a whole 31-day month = 5 GiB-months; one day of it = 5/31.
        let day = 5.0 * 1_073_741_824.0 * 86_400.0;
        assert_eq!(gib_months(Some(day * 31.0), 31), Some(5.0));
        assert_eq!(
            gib_months(Some(day), 31),
            Some(day / 2_678_400.0 / 1_073_741_824.0)
        );
        assert_eq!(gib(Some(1_073_741_824.0)), Some(1.0));
        assert_eq!(hours(None), None);
    }
}
