//! Calendar dates as days since 1970-01-01 (proleptic Gregorian), enough for
//! expiries and valuation dates without a date-time dependency.

use std::fmt;

/// A calendar day, stored as the number of days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

impl Date {
    /// The date `year-month-day`, or `None` when no such day exists.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Self> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
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

    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().splitn(3, '-');
        let year = parts.next()?.parse().ok()?;
        let month_text = parts.next()?;
        let day_text = parts.next()?;
        if month_text.len() != 2 || day_text.len() != 2 {
            return None;
        }
        Self::from_ymd(year, month_text.parse().ok()?, day_text.parse().ok()?)
    }

    pub fn days_since_epoch(self) -> i32 {
        self.0
    }

    pub fn from_days_since_epoch(days: i32) -> Self {
        Self(days)
    }

    /// Signed number of days from `self` to `later`.
    pub fn days_until(self, later: Date) -> i32 {
        later.0 - self.0
    }

    pub fn add_days(self, days: i32) -> Self {
        Self(self.0 + days)
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
            "",
        ] {
            assert!(Date::parse(text).is_none(), "{text}");
        }
    }
}
