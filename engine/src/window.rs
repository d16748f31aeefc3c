//! Days as the engine counts them: days since 1970-01-01 of naive UTC timestamps, and the
//! inclusive day window of a run (spec §3 "Window", §7.8).

use chrono::{Datelike, NaiveDate};

/// Milliseconds in a day.
pub const DAY_MILLIS: i64 = 86_400_000;

/// A day as days since 1970-01-01 (Arrow's `Date32`).
pub type Day = i32;

/// The day of an epoch-milliseconds timestamp (`date(interval_start)`).
pub fn day_of_millis(millis: i64) -> Day {
    millis.div_euclid(DAY_MILLIS) as Day
}

pub fn day_of_date(date: NaiveDate) -> Day {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as Day
}

pub fn date_of_day(day: Day) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Duration::days(day as i64)
}

/// Days in the month of `date` (`day(last_day_of_month(d))`).
pub fn days_in_month(date: NaiveDate) -> u32 {
    let first = date.with_day(1).expect("day 1 exists");
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .expect("a next month exists");
    (next - first).num_days() as u32
}

/// The days `first..=last` of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayWindow {
    pub first: Day,
    pub last: Day,
}

impl DayWindow {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Self {
        DayWindow {
            first: day_of_date(start),
            last: day_of_date(end),
        }
    }

    /// `[first 00:00, last + 1 day 00:00)` in epoch milliseconds.
    pub fn millis_range(&self) -> (i64, i64) {
        (
            self.first as i64 * DAY_MILLIS,
            (self.last as i64 + 1) * DAY_MILLIS,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn day_numbers_round_trip() {
        assert_eq!(day_of_date(date(1970, 1, 2)), 1);
        assert_eq!(
            date_of_day(day_of_date(date(2024, 2, 29))),
            date(2024, 2, 29)
        );
        // 23:59:59.999 on 1970-01-01 is still day 0; a millisecond before the epoch is day -1.
        assert_eq!(day_of_millis(DAY_MILLIS - 1), 0);
        assert_eq!(day_of_millis(-1), -1);
    }

    #[test]
    fn month_lengths() {
        assert_eq!(days_in_month(date(2024, 2, 10)), 29);
        assert_eq!(days_in_month(date(2026, 2, 10)), 28);
        assert_eq!(days_in_month(date(2026, 5, 31)), 31);
        assert_eq!(days_in_month(date(2026, 9, 1)), 30);
        assert_eq!(days_in_month(date(2026, 12, 1)), 31);
    }

    #[test]
    fn window_covers_whole_days() {
        let w = DayWindow::new(date(1970, 1, 2), date(1970, 1, 3));
        assert_eq!((w.first, w.last), (1, 2));
        assert_eq!(w.millis_range(), (DAY_MILLIS, 3 * DAY_MILLIS));
    }
}
