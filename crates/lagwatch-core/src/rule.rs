//! The threshold primitive alert rules are built from: aggregate a time series over a window
//! ending at "now" and compare the result with a value.
//!
//! It reproduces the seed's Grafana alert, `WHEN avg() OF query(A, 1m, now) IS ABOVE 10`,
//! evaluated every minute:
//!
//! ```
//! use lagwatch_core::rule::{Aggregate, Comparison, Threshold};
//!
//! let rule = Threshold { aggregate: Aggregate::Avg, window_ms: 60_000, comparison: Comparison::Gt, value: 10.0 };
//! // Samples every 20 s; the window (now - 60 s, now] holds the last three.
//! let series = [(0, 100.0), (20_000, 4.0), (40_000, 12.0), (60_000, 14.0)];
//! assert_eq!(rule.check(&series, 60_000), Some((10.0, false))); // avg 10 is not above 10
//! assert_eq!(rule.check(&series, 80_000), Some((13.0, true))); // (20 s, 80 s]: 12 and 14
//! assert_eq!(rule.check(&series, 200_000), None); // no data in the window
//! ```

use crate::TimestampMs;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How the samples inside the window are reduced to one value (also the `aggregate` key of
/// a threshold rule's configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Aggregate {
    /// Arithmetic mean (Grafana's `avg()`).
    #[default]
    Avg,
    /// Largest value.
    Max,
    /// Smallest value.
    Min,
    /// The sample with the newest timestamp (the later one in the series on equal timestamps).
    Last,
}

/// How the aggregated value is compared with the threshold value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Comparison {
    /// Breached when the value is strictly greater (Grafana's `IS ABOVE`).
    Gt,
    /// Breached when the value is greater or equal.
    Ge,
    /// Breached when the value is strictly smaller (Grafana's `IS BELOW`).
    Lt,
    /// Breached when the value is smaller or equal.
    Le,
}

impl Comparison {
    /// Whether `observed` breaches `value`. A NaN on either side never breaches.
    pub fn breached(self, observed: f64, value: f64) -> bool {
        match self {
            Comparison::Gt => observed > value,
            Comparison::Ge => observed >= value,
            Comparison::Lt => observed < value,
            Comparison::Le => observed <= value,
        }
    }

    /// The operator as written in rule text (`>`, `>=`, `<`, `<=`).
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
            Comparison::Lt => "<",
            Comparison::Le => "<=",
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// A threshold: `aggregate` of the samples in the last `window_ms`, compared with `value`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// How samples are reduced.
    pub aggregate: Aggregate,
    /// Window length in milliseconds; the window is `(now - window_ms, now]`.
    pub window_ms: i64,
    /// How the reduced value is compared.
    pub comparison: Comparison,
    /// The threshold value.
    pub value: f64,
}

impl Threshold {
    /// Aggregates `series` over the window ending at `now_ms` and compares it: `Some((observed,
    /// breached))`, or `None` when the window holds no sample.
    pub fn check(&self, series: &[(TimestampMs, f64)], now_ms: TimestampMs) -> Option<(f64, bool)> {
        let observed = aggregate(series, self.aggregate, self.window_ms, now_ms)?;
        Some((observed, self.comparison.breached(observed, self.value)))
    }

    /// [`Threshold::check`] over a [`Series`].
    pub fn check_series(&self, series: &Series, now_ms: TimestampMs) -> Option<(f64, bool)> {
        self.check(series.samples(), now_ms)
    }
}

/// Reduces the samples with `now_ms - window_ms < timestamp <= now_ms` with `agg`; `None` when
/// there is none. The series need not be sorted.
pub fn aggregate(
    series: &[(TimestampMs, f64)],
    agg: Aggregate,
    window_ms: i64,
    now_ms: TimestampMs,
) -> Option<f64> {
    let start = now_ms.saturating_sub(window_ms);
    let mut in_window = series
        .iter()
        .filter(|(ts, _)| *ts > start && *ts <= now_ms)
        .copied();
    let (first_ts, first) = in_window.next()?;
    let value = match agg {
        Aggregate::Avg => {
            let (sum, n) = in_window.fold((first, 1u64), |(s, n), (_, v)| (s + v, n + 1));
            sum / n as f64
        }
        Aggregate::Max => in_window.fold(first, |m, (_, v)| m.max(v)),
        Aggregate::Min => in_window.fold(first, |m, (_, v)| m.min(v)),
        Aggregate::Last => {
            in_window
                .fold(
                    (first_ts, first),
                    |last, (ts, v)| if ts >= last.0 { (ts, v) } else { last },
                )
                .1
        }
    };
    Some(value)
}

/// A bounded, time-ordered series of `(timestamp_ms, value)` samples.
///
/// Samples older than `max_age_ms` before the newest one are dropped on every push, and at
/// most `capacity` samples are kept (the oldest go first). Nothing is reserved up front: the
/// storage grows with the samples actually held (doubling, but never beyond `capacity`) and
/// shrinks again when most of them have aged out, so a rule over many partitions costs what
/// its windows hold, not `capacity` per partition. Memory is bounded by `capacity * 16` bytes
/// plus the vector header.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    samples: Vec<(TimestampMs, f64)>,
    max_age_ms: i64,
    capacity: usize,
}

impl Series {
    /// An empty series keeping samples for `max_age_ms` and at most `capacity` (at least 1) of
    /// them.
    pub fn new(max_age_ms: i64, capacity: usize) -> Series {
        Series {
            samples: Vec::new(),
            max_age_ms,
            capacity: capacity.max(1),
        }
    }

    /// Adds a sample. A sample older than the newest one is inserted in time order (after
    /// samples with the same timestamp); one that is already too old is dropped.
    pub fn push(&mut self, timestamp_ms: TimestampMs, value: f64) {
        let newest = self
            .samples
            .last()
            .map_or(timestamp_ms, |s| s.0.max(timestamp_ms));
        let mut position = self.samples.partition_point(|s| s.0 <= timestamp_ms);
        if self.samples.len() >= self.capacity {
            // Full: the oldest sample makes room — or, when the new one would be the oldest,
            // the new one is what goes.
            if position == 0 {
                self.drop_older_than(newest.saturating_sub(self.max_age_ms));
                return;
            }
            let over = self.samples.len() + 1 - self.capacity;
            self.samples.drain(..over);
            position -= over;
        }
        if self.samples.len() == self.samples.capacity() {
            // Grow by doubling, but never reserve beyond `capacity`.
            let len = self.samples.len();
            let target = (len * 2).clamp(4, self.capacity);
            self.samples
                .reserve_exact(target.saturating_sub(len).max(1));
        }
        self.samples.insert(position, (timestamp_ms, value));
        self.drop_older_than(newest.saturating_sub(self.max_age_ms));
    }

    /// Drops the samples older than `cutoff`, and gives memory back once at most a quarter
    /// of the storage is in use.
    fn drop_older_than(&mut self, cutoff: TimestampMs) {
        let too_old = self.samples.partition_point(|s| s.0 < cutoff);
        self.samples.drain(..too_old);
        if self.samples.capacity() > 8 && self.samples.len() * 4 <= self.samples.capacity() {
            self.samples.shrink_to((self.samples.len() * 2).max(4));
        }
    }

    /// The samples, oldest first.
    pub fn samples(&self) -> &[(TimestampMs, f64)] {
        &self.samples
    }

    /// Heap bytes the samples' storage takes now (what the series costs beyond its own
    /// fixed-size fields).
    pub fn allocated_bytes(&self) -> usize {
        self.samples.capacity() * std::mem::size_of::<(TimestampMs, f64)>()
    }

    /// Number of samples held.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// `true` when no sample is held.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The newest sample.
    pub fn last(&self) -> Option<(TimestampMs, f64)> {
        self.samples.last().copied()
    }

    /// [`aggregate`] over this series.
    pub fn aggregate(&self, agg: Aggregate, window_ms: i64, now_ms: TimestampMs) -> Option<f64> {
        aggregate(self.samples(), agg, window_ms, now_ms)
    }
}

#[cfg(test)]
mod series_memory_tests {
    use super::*;

    #[test]
    fn a_new_series_allocates_nothing_and_grows_on_demand() {
        let mut series = Series::new(60_000, 4096);
        assert_eq!(series.samples.capacity(), 0, "nothing reserved up front");
        for i in 0..7 {
            series.push(i * 10_000, 1.0);
        }
        assert_eq!(series.len(), 7);
        assert!(
            series.samples.capacity() <= 16,
            "{}",
            series.samples.capacity()
        );
    }

    #[test]
    fn the_capacity_stays_an_upper_bound_of_the_allocation() {
        let mut series = Series::new(i64::MAX, 3000);
        for i in 0..10_000 {
            series.push(i, i as f64);
        }
        assert_eq!(series.len(), 3000);
        assert!(
            series.samples.capacity() <= 3000,
            "{}",
            series.samples.capacity()
        );
        // The newest 3000 samples, in order.
        assert_eq!(series.samples().first(), Some(&(7000, 7000.0)));
        assert_eq!(series.last(), Some((9999, 9999.0)));
        // A sample older than all of a full series is dropped, like before.
        series.push(5, 5.0);
        assert_eq!(series.samples().first(), Some(&(7000, 7000.0)));
        assert_eq!(series.len(), 3000);
        // One in the middle pushes the oldest out.
        series.push(8000, -1.0);
        assert_eq!(series.samples().first(), Some(&(7001, 7001.0)));
        assert_eq!(series.len(), 3000);
        let at = series.samples().partition_point(|s| s.0 <= 8000);
        assert_eq!(series.samples()[at - 1], (8000, -1.0));
    }

    #[test]
    fn a_series_that_empties_gives_memory_back() {
        let mut series = Series::new(1_000, 4096);
        for i in 0..4096 {
            series.push(i64::from(i) / 8, 0.0);
        }
        let big = series.samples.capacity();
        // Much later: everything but the newest sample is too old.
        series.push(1_000_000, 0.0);
        assert_eq!(series.len(), 1);
        assert!(
            series.samples.capacity() < big / 4,
            "{} of {big}",
            series.samples.capacity()
        );
    }
}
