//! A small proleptic Gregorian UTC calendar: day numbers, dates, RFC 3339 text. The document
//! timestamps, daily index names and day-based file rotation need no more, so the core stays
//! free of a date library.

use crate::TimestampMs;
use std::fmt;

/// Milliseconds in one day.
pub const MS_PER_DAY: i64 = 86_400_000;

/// Days in one 400-year cycle of the Gregorian calendar.
const DAYS_PER_ERA: i64 = 146_097;
/// Days from 0000-03-01 (the start of the shifted calendar used below) to 1970-01-01.
const EPOCH_SHIFT_DAYS: i64 = 719_468;

/// The proleptic Gregorian date `(year, month, day)` of a day number (days since
/// 1970-01-01, negative before it).
///
/// Works on a calendar whose year starts on March 1st, so the leap day is the last day of the
/// year and month lengths follow a fixed 153-day pattern; the 400-year cycle then gives the
/// year exactly, without loops or tables.
pub fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let shifted = days + EPOCH_SHIFT_DAYS;
    let era = shifted.div_euclid(DAYS_PER_ERA);
    let day_of_era = shifted.rem_euclid(DAYS_PER_ERA); // 0..=146096
    // Year within the era: remove the leap days accumulated so far (one every 4 years, none
    // every 100, one again every 400) before dividing by 365.
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // March = 0 … February = 11; five months make 153 days.
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // month is 1..=12 and day 1..=31 by construction.
    (year, month as u8, day as u8)
}

/// The day number (days since 1970-01-01) of a proleptic Gregorian date; the inverse of
/// [`civil_from_days`]. `month` must be 1..=12 and `day` 1..=31; other values give a day
/// number that does not round-trip.
pub fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let month = i64::from(month);
    let day = i64::from(day);
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * DAYS_PER_ERA + day_of_era - EPOCH_SHIFT_DAYS
}

/// The UTC day number (days since 1970-01-01) containing `ms`.
pub fn day_of(ms: TimestampMs) -> i64 {
    ms.div_euclid(MS_PER_DAY)
}

/// A point in time broken down into UTC calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcDateTime {
    /// Year (proleptic Gregorian; 0 is 1 BC).
    pub year: i64,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of the month, 1..=31.
    pub day: u8,
    /// Hour, 0..=23.
    pub hour: u8,
    /// Minute, 0..=59.
    pub minute: u8,
    /// Second, 0..=59 (Unix time has no leap seconds).
    pub second: u8,
    /// Millisecond, 0..=999.
    pub millisecond: u16,
}

impl UtcDateTime {
    /// Breaks down `ms` (milliseconds since the Unix epoch).
    pub fn from_unix_ms(ms: TimestampMs) -> UtcDateTime {
        let (year, month, day) = civil_from_days(ms.div_euclid(MS_PER_DAY));
        let ms_of_day = ms.rem_euclid(MS_PER_DAY); // 0..86_400_000
        let secs = ms_of_day / 1000;
        UtcDateTime {
            year,
            month,
            day,
            // All below are bounded by the ranges documented on the fields.
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
            millisecond: (ms_of_day % 1000) as u16,
        }
    }

    /// `YYYY-MM-DD`. Years outside 0..=9999 are written with as many digits as needed and a
    /// leading `-` when negative.
    pub fn date_string(&self) -> String {
        format!(
            "{}-{:02}-{:02}",
            year_string(self.year),
            self.month,
            self.day
        )
    }

    /// RFC 3339 in UTC: `YYYY-MM-DDTHH:MM:SSZ`, with a fraction only when the millisecond is
    /// non-zero and then without trailing zeros (`.5`, `.25`, `.125`), as Go's `RFC3339Nano`
    /// writes it.
    pub fn to_rfc3339(&self) -> String {
        let mut out = format!(
            "{}T{:02}:{:02}:{:02}",
            self.date_string(),
            self.hour,
            self.minute,
            self.second
        );
        if self.millisecond != 0 {
            let fraction = format!("{:03}", self.millisecond);
            out.push('.');
            out.push_str(fraction.trim_end_matches('0'));
        }
        out.push('Z');
        out
    }
}

impl fmt::Display for UtcDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

fn year_string(year: i64) -> String {
    if year < 0 {
        format!("-{:04}", year.unsigned_abs())
    } else {
        format!("{year:04}")
    }
}

/// `ms` as an RFC 3339 UTC timestamp (see [`UtcDateTime::to_rfc3339`]).
pub fn rfc3339_utc(ms: TimestampMs) -> String {
    UtcDateTime::from_unix_ms(ms).to_rfc3339()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip_and_handle_leap_years() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(days_from_civil(2000, 2, 29)), (2000, 2, 29));
        assert_eq!(
            days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28),
            2
        );
        assert_eq!(
            days_from_civil(1900, 3, 1) - days_from_civil(1900, 2, 28),
            1
        );
        assert_eq!(
            days_from_civil(2100, 3, 1) - days_from_civil(2100, 2, 28),
            1
        );
        assert_eq!(
            days_from_civil(2024, 3, 1) - days_from_civil(2024, 2, 28),
            2
        );
        assert_eq!(days_from_civil(2019, 8, 19), 18_127);
        assert_eq!(day_of(1_566_203_530_000), 18_127);
        assert_eq!(day_of(-1), -1);
        // Every day over several 400-year cycles, both directions, consecutive dates.
        let mut previous = civil_from_days(-250_000);
        for days in -249_999..250_000 {
            let date = civil_from_days(days);
            assert_eq!(days_from_civil(date.0, date.1, date.2), days);
            let (y, m, d) = previous;
            let next_expected = if date.2 == 1 {
                date.1 == m % 12 + 1 && (date.1 != 1 || date.0 == y + 1)
            } else {
                date == (y, m, d + 1)
            };
            assert!(next_expected, "{previous:?} -> {date:?}");
            previous = date;
        }
    }

    #[test]
    fn utc_date_time_fields() {
        let t = UtcDateTime::from_unix_ms(1_566_203_530_042);
        assert_eq!(
            t,
            UtcDateTime {
                year: 2019,
                month: 8,
                day: 19,
                hour: 8,
                minute: 32,
                second: 10,
                millisecond: 42
            }
        );
        assert_eq!(t.date_string(), "2019-08-19");
        assert_eq!(t.to_string(), "2019-08-19T08:32:10.042Z");
        assert_eq!(
            UtcDateTime::from_unix_ms(-62_198_755_200_000).date_string(),
            "-0001-01-01"
        );
    }
}
