//! Calendar dates as days since 1970-01-01 (proleptic Gregorian), enough for
//! expiries and valuation dates without a date-time dependency.
//!
//! Every date is between [`Date::MIN`] (1900-01-01) and [`Date::MAX`]
//! (9999-12-31), the range the input files already accept: a date read from a
//! file or a flag, and every date computed from one, stays in it, so day
//! arithmetic cannot overflow and a typo such as a nine-digit year is refused
//! instead of wrapping into a date nobody wrote.

use std::fmt;

/// A calendar day, stored as the number of days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

impl Date {
    /// The first supported date, 1900-01-01.
    pub const MIN: Date = Date(-25_567);
    /// The last supported date, 9999-12-31.
    pub const MAX: Date = Date(2_932_896);
    /// The supported range, as error messages state it.
    pub const RANGE_TEXT: &'static str = "1900-01-01..=9999-12-31";

    /// The date `year-month-day`, or `None` when no such day exists or it is
    /// outside [`Date::MIN`]..=[`Date::MAX`].
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Self> {
        if !(1900..=9999).contains(&year)
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
        {
            return None;
        }
        // Howard Hinnant's days_from_civil.
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = month as i32;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Self(era * 146_097 + doe - 719_468))
    }

    /// Parses `YYYY-MM-DD` (a four-digit year, within the supported range).
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().splitn(3, '-');
        let year_text = parts.next()?;
        if year_text.len() != 4 || !year_text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let year = year_text.parse().ok()?;
        let month_text = parts.next()?;
        let day_text = parts.next()?;
        let two_digits = |t: &str| t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(month_text) || !two_digits(day_text) {
            return None;
        }
        Self::from_ymd(year, month_text.parse().ok()?, day_text.parse().ok()?)
    }

    pub fn days_since_epoch(self) -> i32 {
        self.0
    }

    /// The date `days` after 1970-01-01, or `None` outside the supported range.
    pub fn checked_from_days_since_epoch(days: i32) -> Option<Self> {
        (Self::MIN.0..=Self::MAX.0)
            .contains(&days)
            .then_some(Self(days))
    }

    /// Signed number of days from `self` to `later` (cannot overflow: both
    /// lie within the supported range).
    pub fn days_until(self, later: Date) -> i32 {
        later.0 - self.0
    }

    /// The date `days` later (earlier if negative), or `None` when that leaves
    /// the supported range: for dates that must exist, such as the end of a
    /// window or the next date of a series.
    pub fn checked_add_days(self, days: i64) -> Option<Self> {
        let target = i64::from(self.0).checked_add(days)?;
        Self::checked_from_days_since_epoch(i32::try_from(target).ok()?)
    }

    /// The date `days` later, clamped to the supported range: for the start of
    /// a look-back window, where "from before the first supported date" means
    /// "from the beginning".
    pub fn add_days(self, days: i32) -> Self {
        let target = i64::from(self.0) + i64::from(days);
        Self(target.clamp(i64::from(Self::MIN.0), i64::from(Self::MAX.0)) as i32)
    }

    /// (year, month, day), by Hinnant's civil_from_days.
    pub fn ymd(self) -> (i32, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i32::from(month <= 2);
        (year, month, day)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl serde::Serialize for Date {
    /// As `YYYY-MM-DD`, the form every input file uses.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_known_days() {
        assert_eq!(Date::parse("1970-01-01").unwrap().days_since_epoch(), 0);
        assert_eq!(
            Date::parse("2000-03-01").unwrap().days_since_epoch(),
            11_017
        );
        assert_eq!(
            Date::parse("2025-02-20").unwrap().days_since_epoch(),
            20_139
        );
    }

    #[test]
    fn round_trips_through_text() {
        for text in ["2024-02-29", "1999-12-31", "2025-02-20", "2100-03-01"] {
            assert_eq!(Date::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn rejects_impossible_days() {
        for text in [
            "2023-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-1-10",
            "20250220",
            "2025-+1-01",
            "2025-01-+1",
            "",
        ] {
            assert!(Date::parse(text).is_none(), "{text}");
        }
    }

    #[test]
    fn dates_outside_1900_to_9999_are_refused() {
        for text in [
            "1899-12-31",
            "10000-01-01",
            "123456789-01-01",
            "-2025-01-01",
            "0000-01-01",
            "+202-01-01",
        ] {
            assert!(Date::parse(text).is_none(), "{text}");
        }
        assert_eq!(Date::parse("1900-01-01"), Some(Date::MIN));
        assert_eq!(Date::parse("9999-12-31"), Some(Date::MAX));
        assert_eq!(Date::MIN.to_string(), "1900-01-01");
        assert_eq!(Date::MAX.to_string(), "9999-12-31");
        assert_eq!(Date::from_ymd(123_456_789, 1, 1), None);
        assert_eq!(Date::from_ymd(i32::MIN, 1, 1), None);
        assert!(Date::RANGE_TEXT.starts_with(&Date::MIN.to_string()));
        assert!(Date::RANGE_TEXT.ends_with(&Date::MAX.to_string()));
    }

    #[test]
    fn checked_arithmetic_stays_in_range() {
        let d = Date::parse("2025-02-20").unwrap();
        assert_eq!(d.checked_add_days(8).unwrap().to_string(), "2025-02-28");
        assert_eq!(
            d.checked_add_days(-20_139).unwrap().to_string(),
            "1970-01-01"
        );
        assert_eq!(Date::MAX.checked_add_days(1), None);
        assert_eq!(Date::MIN.checked_add_days(-1), None);
        assert_eq!(d.checked_add_days(i64::MAX), None);
        assert_eq!(d.checked_add_days(i64::MIN), None);
        // What `--every 2147483647` once turned into a date in year -5877587.
        assert_eq!(d.checked_add_days(i64::from(i32::MAX)), None);
        assert_eq!(
            Date::MAX.checked_add_days(-i64::from(Date::MIN.days_until(Date::MAX))),
            Some(Date::MIN)
        );
    }

    #[test]
    fn window_starts_clamp_to_the_first_date() {
        let d = Date::parse("1905-01-01").unwrap();
        assert_eq!(d.add_days(-10 * 365), Date::MIN);
        assert_eq!(Date::MAX.add_days(i32::MAX), Date::MAX);
        assert_eq!(Date::MIN.add_days(i32::MIN), Date::MIN);
        assert_eq!(d.add_days(30).to_string(), "1905-01-31");
        assert_eq!(Date::checked_from_days_since_epoch(i32::MAX), None);
        assert_eq!(
            Date::checked_from_days_since_epoch(0).unwrap().to_string(),
            "1970-01-01"
        );
    }
}
