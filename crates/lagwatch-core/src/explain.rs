//! One-line, human-readable reasons for a partition's Burrow verdict, for the dashboard and
//! the JSON API ("no commit for 3m12s while lag is 4,000").
//!
//! Pure functions of a [`PartitionReport`] and the evaluation time; an OK partition has no
//! reason (the empty string).

use crate::TimestampMs;
use crate::report::PartitionReport;
use crate::status::PartitionStatus;

/// Why `report` has its status, in one line; empty for OK.
///
/// * STOP: how long since the newest commit (at `now_ms`) and the current lag;
/// * STALL: the committed offset that did not move;
/// * WARN: the lag at the window's oldest and newest commits;
/// * REWIND: the committed offset going back, when the window's ends show it.
pub fn explain(report: &PartitionReport, now_ms: TimestampMs) -> String {
    let lag = thousands(report.current_lag);
    match report.status {
        PartitionStatus::Ok => String::new(),
        PartitionStatus::Stop => match report.end {
            Some(end) => format!(
                "no commit for {} while lag is {lag}",
                elapsed(now_ms.saturating_sub(end.timestamp))
            ),
            None => format!("no commit while lag is {lag}"),
        },
        PartitionStatus::Stall => match report.end {
            Some(end) => format!(
                "offset unchanged at {} over the window",
                thousands_signed(end.offset)
            ),
            None => "offset unchanged over the window".to_owned(),
        },
        PartitionStatus::Warn => match (
            report.start.and_then(|s| s.lag),
            report.end.and_then(|e| e.lag),
        ) {
            (Some(first), Some(last)) => format!(
                "lag grew at every commit ({} → {})",
                thousands(first),
                thousands(last)
            ),
            _ => format!("lag grew at every commit (now {lag})"),
        },
        PartitionStatus::Rewind => match (report.start, report.end) {
            (Some(first), Some(last)) if last.offset < first.offset => format!(
                "committed offset went back from {} to {}",
                thousands_signed(first.offset),
                thousands_signed(last.offset)
            ),
            _ => "committed offset went back within the window".to_owned(),
        },
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn thousands_signed(value: i64) -> String {
    if value < 0 {
        format!("-{}", thousands(value.unsigned_abs()))
    } else {
        thousands(value.unsigned_abs())
    }
}

/// A duration in ms as `45s`, `3m12s`, `2h5m` or `3d4h` (negative durations count as 0).
pub fn elapsed(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    if d > 0 {
        format!("{d}d{h}h")
    } else if h > 0 {
        format!("{h}h{m}m")
    } else if m > 0 {
        format!("{m}m{sec:02}s")
    } else {
        format!("{sec}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{OffsetPoint, PartitionExtras};

    fn point(offset: i64, timestamp: i64, lag: Option<u64>) -> OffsetPoint {
        OffsetPoint {
            offset,
            timestamp,
            observed_at: timestamp,
            lag,
        }
    }

    fn report(
        status: PartitionStatus,
        start: Option<OffsetPoint>,
        end: Option<OffsetPoint>,
        lag: u64,
    ) -> PartitionReport {
        PartitionReport {
            topic: "t".into(),
            partition: 0,
            owner: String::new(),
            client_id: String::new(),
            status,
            start,
            end,
            current_lag: lag,
            complete: 1.0,
            extras: PartitionExtras::default(),
        }
    }

    #[test]
    fn ok_has_no_reason() {
        let r = report(PartitionStatus::Ok, None, Some(point(5, 0, Some(0))), 0);
        assert_eq!(explain(&r, 10_000), "");
    }

    #[test]
    fn stop_says_how_long_without_a_commit_and_the_lag() {
        let r = report(
            PartitionStatus::Stop,
            Some(point(100, 0, Some(10))),
            Some(point(200, 1_000_000, Some(50))),
            4_000,
        );
        assert_eq!(
            explain(&r, 1_000_000 + 192_000),
            "no commit for 3m12s while lag is 4,000"
        );
        let none = report(PartitionStatus::Stop, None, None, 7);
        assert_eq!(explain(&none, 0), "no commit while lag is 7");
    }

    #[test]
    fn stall_names_the_offset_that_did_not_move() {
        let r = report(
            PartitionStatus::Stall,
            Some(point(30_000, 0, Some(10))),
            Some(point(30_000, 60_000, Some(900))),
            900,
        );
        assert_eq!(
            explain(&r, 70_000),
            "offset unchanged at 30,000 over the window"
        );
    }

    #[test]
    fn warn_shows_the_lag_at_both_ends_of_the_window() {
        let r = report(
            PartitionStatus::Warn,
            Some(point(10, 0, Some(120))),
            Some(point(90, 60_000, Some(900))),
            950,
        );
        assert_eq!(explain(&r, 60_000), "lag grew at every commit (120 → 900)");
        let unknown = report(
            PartitionStatus::Warn,
            Some(point(10, 0, None)),
            Some(point(90, 60_000, Some(900))),
            1_950,
        );
        assert_eq!(
            explain(&unknown, 60_000),
            "lag grew at every commit (now 1,950)"
        );
    }

    #[test]
    fn rewind_shows_where_the_offset_went_back_from_and_to() {
        let r = report(
            PartitionStatus::Rewind,
            Some(point(12_345, 0, Some(0))),
            Some(point(1_000, 60_000, Some(11_345))),
            11_345,
        );
        assert_eq!(
            explain(&r, 60_000),
            "committed offset went back from 12,345 to 1,000"
        );
        let inside = report(
            PartitionStatus::Rewind,
            Some(point(10, 0, Some(0))),
            Some(point(20, 60_000, Some(0))),
            0,
        );
        assert_eq!(
            explain(&inside, 60_000),
            "committed offset went back within the window"
        );
    }

    #[test]
    fn numbers_and_durations_are_written_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands_signed(-12_345), "-12,345");
        assert_eq!(elapsed(-5), "0s");
        assert_eq!(elapsed(45_999), "45s");
        assert_eq!(elapsed(65_000), "1m05s");
        assert_eq!(elapsed(2 * 3_600_000 + 5 * 60_000), "2h5m");
        assert_eq!(elapsed(3 * 86_400_000 + 4 * 3_600_000), "3d4h");
    }
}
