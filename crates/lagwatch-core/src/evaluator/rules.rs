//! The individual rules of Burrow's partition evaluation, one function per rule.
//!
//! Each function takes the window with its empty (never filled) slots already removed, oldest
//! commit first, exactly as Burrow's rule functions do. They are public so tests can check every
//! column of Burrow's rule-vector table on its own (see `docs/evaluator.md`):
//!
//! | column | function |
//! |---|---|
//! | NZ | [`lag_always_not_zero`] |
//! | RW | [`first_rewind`] |
//! | SP | [`stop_condition`] |
//! | ST | [`offsets_stalled`] |
//! | ND | [`lag_never_decreased`] |
//! | RZ | [`recent_lag_zero`] |
//!
//! [`partition_status`] combines them in Burrow's order.

use crate::TimestampMs;
use crate::report::OffsetPoint;
use crate::status::PartitionStatus;

/// Burrow's clock has a resolution of one second: "now" is the Unix time in whole seconds,
/// multiplied by 1000. This floors `now_ms` the same way.
pub fn burrow_now_ms(now_ms: TimestampMs) -> TimestampMs {
    now_ms.div_euclid(1000).saturating_mul(1000)
}

/// NZ: `true` when no commit in the window has a known lag at or below `allowed_lag`.
///
/// Commits whose lag is unknown (`None`, stored out of order) are skipped. When this is
/// `false`, the zero-lag rule makes the partition OK (unless STOP or REWIND fired first).
pub fn lag_always_not_zero(offsets: &[OffsetPoint], allowed_lag: u64) -> bool {
    !offsets
        .iter()
        .filter_map(|o| o.lag)
        .any(|lag| lag <= allowed_lag)
}

/// RW: index of the first commit whose offset is lower than its predecessor's, `None` when the
/// offsets never go backwards. Never `Some(0)`.
pub fn first_rewind(offsets: &[OffsetPoint]) -> Option<usize> {
    (1..offsets.len()).find(|&i| offsets[i].offset < offsets[i - 1].offset)
}

/// REWIND: the offsets went backwards at [`first_rewind`] and no later commit (at or after
/// that index) got back to the offset committed just before the drop.
pub fn offsets_rewound(offsets: &[OffsetPoint]) -> bool {
    match first_rewind(offsets) {
        None => false,
        Some(i) => {
            let before = offsets[i - 1].offset;
            !offsets[i..].iter().any(|o| o.offset >= before)
        }
    }
}

/// SP: the time since the newest commit is strictly longer than the time the window spans
/// (newest commit time minus oldest commit time).
///
/// `now_ms` is first floored to whole seconds, as Burrow's clock is. `false` for an empty
/// window.
pub fn stop_condition(offsets: &[OffsetPoint], now_ms: TimestampMs) -> bool {
    let (Some(first), Some(last)) = (offsets.first(), offsets.last()) else {
        return false;
    };
    let now = i128::from(burrow_now_ms(now_ms));
    let (first, last) = (i128::from(first.timestamp), i128::from(last.timestamp));
    now - last > last - first
}

/// ST: every commit in the window has the same offset (trivially `true` for one commit).
pub fn offsets_stalled(offsets: &[OffsetPoint]) -> bool {
    offsets.windows(2).all(|w| w[0].offset == w[1].offset)
}

/// ND: walking the known lags oldest to newest, none is strictly smaller than the known lag
/// before it. Unknown lags (`None`) are skipped. `true` with fewer than two known lags.
pub fn lag_never_decreased(offsets: &[OffsetPoint]) -> bool {
    let mut previous: Option<u64> = None;
    for lag in offsets.iter().filter_map(|o| o.lag) {
        if previous.is_some_and(|p| lag < p) {
            return false;
        }
        previous = Some(lag);
    }
    true
}

/// RZ: some broker end-offset sample is at or below the newest committed offset, i.e. the
/// consumer was caught up at one of the samples. Pass only the samples Burrow would hold (the
/// newest `intervals`); [`super::evaluate_partition`] does that.
pub fn recent_lag_zero(broker_offsets: &[i64], newest_committed: i64) -> bool {
    broker_offsets.iter().any(|&b| b <= newest_committed)
}

/// Burrow's status for a window that has at least one commit (step 6 of the algorithm in
/// `docs/evaluator.md`). First rule that matches wins:
///
/// 1. `current_lag <= allowed_lag` → OK;
/// 2. STOP when [`stop_condition`] holds and not [`recent_lag_zero`];
/// 3. REWIND when [`offsets_rewound`];
/// 4. OK when some commit had a lag at or below `allowed_lag` (not [`lag_always_not_zero`]);
/// 5. STALL when [`offsets_stalled`];
/// 6. WARN when [`lag_never_decreased`];
/// 7. OK.
///
/// An empty window is OK.
pub fn partition_status(
    offsets: &[OffsetPoint],
    current_lag: u64,
    broker_offsets: &[i64],
    now_ms: TimestampMs,
    allowed_lag: u64,
) -> PartitionStatus {
    let Some(newest) = offsets.last() else {
        return PartitionStatus::Ok;
    };
    if current_lag <= allowed_lag {
        return PartitionStatus::Ok;
    }
    if stop_condition(offsets, now_ms) && !recent_lag_zero(broker_offsets, newest.offset) {
        return PartitionStatus::Stop;
    }
    if offsets_rewound(offsets) {
        return PartitionStatus::Rewind;
    }
    if !lag_always_not_zero(offsets, allowed_lag) {
        return PartitionStatus::Ok;
    }
    if offsets_stalled(offsets) {
        return PartitionStatus::Stall;
    }
    if lag_never_decreased(offsets) {
        return PartitionStatus::Warn;
    }
    PartitionStatus::Ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(offset: i64, timestamp: i64, lag: Option<u64>) -> OffsetPoint {
        OffsetPoint {
            offset,
            timestamp,
            observed_at: 0,
            lag,
        }
    }

    #[test]
    fn now_is_floored_to_whole_seconds() {
        assert_eq!(burrow_now_ms(1_999), 1_000);
        assert_eq!(burrow_now_ms(2_000), 2_000);
        assert_eq!(burrow_now_ms(-1), -1_000);
        // 1.999 s after a commit at 0 with a window of 1 s: Burrow sees 1 s, not more.
        let w = [c(1, -1_000, Some(1)), c(2, 0, Some(1))];
        assert!(!stop_condition(&w, 1_999));
        assert!(stop_condition(&w, 2_000));
    }

    #[test]
    fn rewind_recovery_counts_equal_offsets() {
        let w = [c(10, 0, None), c(5, 1, None), c(10, 2, None)];
        assert_eq!(first_rewind(&w), Some(1));
        assert!(!offsets_rewound(&w));
        let w = [c(10, 0, None), c(5, 1, None), c(9, 2, None)];
        assert!(offsets_rewound(&w));
    }

    #[test]
    fn unknown_lags_are_skipped() {
        let w = [c(1, 0, Some(5)), c(2, 1, None), c(3, 2, Some(4))];
        assert!(!lag_never_decreased(&w));
        assert!(lag_always_not_zero(&w, 3));
        assert!(!lag_always_not_zero(&w, 4));
        let only_unknown = [c(1, 0, None), c(1, 1, None)];
        assert!(lag_never_decreased(&only_unknown));
        assert!(lag_always_not_zero(&only_unknown, u64::MAX));
    }

    #[test]
    fn empty_window_is_ok() {
        assert_eq!(partition_status(&[], 10, &[], 0, 0), PartitionStatus::Ok);
        assert!(!stop_condition(&[], 0));
    }
}
