//! Lag trends: how fast a partition is produced to and consumed, whether its consumer is
//! catching up and how long that takes, and whether retention deletes unread messages first.
//!
//! Everything here is pure: the data and "now" are arguments. The formulas are documented in
//! `docs/evaluator.md` ("Trends"); in short, over the span each kind of data covers:
//!
//! * production rate = (newest − oldest high-water mark) / (newest − oldest sample time);
//! * consumption rate = (newest − oldest committed offset) / (newest − oldest commit time), or
//!   0 once the consumer has been silent for longer than its window spans (Burrow's STOP
//!   timing);
//! * lag rate = production rate − consumption rate (negative: the lag shrinks);
//! * time to catch up = lag / (consumption − production) when consumption is faster;
//! * retention deadline = when the log-start offset, moving at its observed rate, passes the
//!   newest committed offset.
//!
//! ```
//! use lagwatch_core::trend::{partition_trend, BrokerPoint, CatchUp, CommitPoint};
//!
//! // Produced: 100 messages/s. Consumed: 150 messages/s. Lag 1000.
//! let commits = [CommitPoint { offset: 0, timestamp_ms: 0 }, CommitPoint { offset: 1500, timestamp_ms: 10_000 }];
//! let broker = [
//!     BrokerPoint { observed_ms: 0, high_water: 1500, log_start: None },
//!     BrokerPoint { observed_ms: 10_000, high_water: 2500, log_start: None },
//! ];
//! let trend = partition_trend(commits, broker, 1000, 0, 10_000);
//! assert_eq!(trend.lag_rate, Some(-50.0));
//! assert_eq!(trend.catch_up, CatchUp::In { seconds: 20.0 });
//! ```

use crate::TimestampMs;
use crate::time_lag::MAX_SECONDS;
use serde::{Deserialize, Serialize};

/// One stored commit, as the trend needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitPoint {
    /// Committed offset.
    pub offset: i64,
    /// Commit time (ms).
    pub timestamp_ms: TimestampMs,
}

/// One broker sample, as the trend needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokerPoint {
    /// When the sample was taken (ms).
    pub observed_ms: TimestampMs,
    /// High-water mark (log end offset).
    pub high_water: i64,
    /// Log-start offset, when the source reports it.
    pub log_start: Option<i64>,
}

/// Whether, and when, a consumer catches up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CatchUp {
    /// The lag is within the allowed lag.
    CaughtUp,
    /// Consumption outpaces production: the lag reaches 0 in about `seconds`.
    In {
        /// Estimated seconds until the lag is 0 (finite, at most ten years).
        seconds: f64,
    },
    /// The consumer lags and consumes no faster than messages are produced.
    NotCatchingUp,
    /// Too little data to say: fewer than two commits or broker samples, or a span of 0.
    Unknown,
}

impl CatchUp {
    /// The estimated seconds until caught up: 0 when caught up, `None` when not catching up
    /// or unknown.
    pub fn seconds(&self) -> Option<f64> {
        match self {
            CatchUp::CaughtUp => Some(0.0),
            CatchUp::In { seconds } => Some(*seconds),
            CatchUp::NotCatchingUp | CatchUp::Unknown => None,
        }
    }

    /// `Some(true)` when caught up or catching up, `Some(false)` when not catching up,
    /// `None` when unknown.
    pub fn catching_up(&self) -> Option<bool> {
        match self {
            CatchUp::CaughtUp | CatchUp::In { .. } => Some(true),
            CatchUp::NotCatchingUp => Some(false),
            CatchUp::Unknown => None,
        }
    }

    /// A short lowercase name: `caught_up`, `catching_up`, `not_catching_up`, `unknown`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CatchUp::CaughtUp => "caught_up",
            CatchUp::In { .. } => "catching_up",
            CatchUp::NotCatchingUp => "not_catching_up",
            CatchUp::Unknown => "unknown",
        }
    }
}

/// The trend of one partition of a group. Rates are messages per second; `None` means the
/// data does not tell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    /// High-water-mark growth over the broker history.
    pub production_rate: Option<f64>,
    /// Committed-offset growth over the commit window (0 for a consumer silent longer than
    /// its window spans).
    pub consumption_rate: Option<f64>,
    /// Production rate minus consumption rate; negative when the lag shrinks.
    pub lag_rate: Option<f64>,
    /// Whether, and when, the consumer catches up.
    pub catch_up: CatchUp,
    /// Seconds from now until the moving log-start offset passes the newest committed offset
    /// (0 when it already has); `None` while the log start does not move forward.
    pub retention_deadline_seconds: Option<f64>,
    /// The newest committed offset is already below the log-start offset: unread messages
    /// were deleted.
    pub unread_deleted: bool,
    /// The consumer lags and unread messages are (or will be) deleted before it catches up.
    pub data_loss_before_catch_up: bool,
}

impl Trend {
    /// Nothing known.
    pub const UNKNOWN: Trend = Trend {
        production_rate: None,
        consumption_rate: None,
        lag_rate: None,
        catch_up: CatchUp::Unknown,
        retention_deadline_seconds: None,
        unread_deleted: false,
        data_loss_before_catch_up: false,
    };
}

impl Default for Trend {
    fn default() -> Self {
        Trend::UNKNOWN
    }
}

/// `a - b` as a float, without overflowing `i64`.
fn diff(a: i64, b: i64) -> f64 {
    (i128::from(a) - i128::from(b)) as f64
}

/// Growth per second between two `(time_ms, value)` points; `None` for a span of 0 or less
/// or a result that is not finite.
fn rate(oldest: (TimestampMs, i64), newest: (TimestampMs, i64)) -> Option<f64> {
    let span_s = diff(newest.0, oldest.0) / 1000.0;
    if span_s <= 0.0 {
        return None;
    }
    let r = diff(newest.1, oldest.1) / span_s;
    r.is_finite().then_some(r)
}

fn capped(seconds: f64) -> f64 {
    if seconds.is_nan() {
        0.0
    } else {
        seconds.clamp(0.0, MAX_SECONDS)
    }
}

/// The trend of one partition.
///
/// * `commits`: the group's commit window, oldest first;
/// * `broker`: the partition's broker history, oldest first;
/// * `current_lag`: newest high-water mark minus newest committed offset (floored at 0);
/// * `allowed_lag`: the evaluator's allowed lag (within it, the partition is caught up);
/// * `now_ms`: evaluation time.
///
/// See the [module documentation](self) and `docs/evaluator.md` for the formulas.
pub fn partition_trend<C, B>(
    commits: C,
    broker: B,
    current_lag: u64,
    allowed_lag: u64,
    now_ms: TimestampMs,
) -> Trend
where
    C: IntoIterator<Item = CommitPoint>,
    C::IntoIter: DoubleEndedIterator,
    B: IntoIterator<Item = BrokerPoint>,
    B::IntoIter: DoubleEndedIterator + Clone,
{
    let mut commits = commits.into_iter();
    let oldest_commit = commits.next();
    let newest_commit = commits.next_back().or(oldest_commit);
    let broker = broker.into_iter();

    let production_rate = {
        let mut b = broker.clone();
        match (b.next(), b.next_back()) {
            (Some(o), Some(n)) => {
                rate((o.observed_ms, o.high_water), (n.observed_ms, n.high_water))
            }
            _ => None,
        }
    };
    let consumption_rate = match (oldest_commit, newest_commit) {
        (Some(o), Some(n)) => {
            let span = i128::from(n.timestamp_ms) - i128::from(o.timestamp_ms);
            let silent = i128::from(now_ms) - i128::from(n.timestamp_ms);
            rate((o.timestamp_ms, o.offset), (n.timestamp_ms, n.offset))
                .map(|r| if silent > span { 0.0 } else { r })
        }
        _ => None,
    };
    let lag_rate = match (production_rate, consumption_rate) {
        (Some(p), Some(c)) => Some(p - c),
        _ => None,
    };
    let catch_up = if current_lag <= allowed_lag {
        CatchUp::CaughtUp
    } else {
        match (production_rate, consumption_rate) {
            (Some(p), Some(c)) if c > p => CatchUp::In {
                seconds: capped(current_lag as f64 / (c - p)),
            },
            (Some(_), Some(_)) => CatchUp::NotCatchingUp,
            _ => CatchUp::Unknown,
        }
    };

    // Retention: the log-start offset's movement over the samples that carry one.
    let mut with_start = broker.filter_map(|b| b.log_start.map(|s| (b.observed_ms, s)));
    let oldest_start = with_start.next();
    let newest_start = with_start.next_back().or(oldest_start);
    let mut unread_deleted = false;
    let mut retention_deadline_seconds = None;
    if let (Some(committed), Some((newest_t, newest_ls))) = (newest_commit, newest_start) {
        if committed.offset < newest_ls {
            unread_deleted = true;
            retention_deadline_seconds = Some(0.0);
        } else if let Some(r) = oldest_start.and_then(|o| rate(o, (newest_t, newest_ls))) {
            if r > 0.0 {
                let reach_ms = newest_t as f64 + diff(committed.offset, newest_ls) / r * 1000.0;
                retention_deadline_seconds = Some(capped((reach_ms - now_ms as f64) / 1000.0));
            }
        }
    }
    let lagging = current_lag > allowed_lag;
    let data_loss_before_catch_up = lagging
        && match (retention_deadline_seconds, catch_up) {
            (Some(_), _) if unread_deleted => true,
            (Some(deadline), CatchUp::In { seconds }) => deadline < seconds,
            (Some(_), CatchUp::NotCatchingUp) => true,
            _ => false,
        };

    Trend {
        production_rate,
        consumption_rate,
        lag_rate,
        catch_up,
        retention_deadline_seconds,
        unread_deleted,
        data_loss_before_catch_up,
    }
}

/// The trend of a whole group, from its partitions' trends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupTrend {
    /// Sum of the partitions' known production rates (`None` when none is known).
    pub production_rate: Option<f64>,
    /// Sum of the partitions' known consumption rates (`None` when none is known).
    pub consumption_rate: Option<f64>,
    /// Sum of the partitions' known lag rates (`None` when none is known).
    pub lag_rate: Option<f64>,
    /// The slowest partition's: [`CatchUp::NotCatchingUp`] when any lagging partition is not
    /// catching up, else [`CatchUp::Unknown`] when any lagging partition is unknown, else the
    /// longest [`CatchUp::In`], else [`CatchUp::CaughtUp`] (also without partitions).
    pub catch_up: CatchUp,
    /// The soonest retention deadline of any partition.
    pub retention_deadline_seconds: Option<f64>,
    /// Any partition's unread messages were already deleted.
    pub unread_deleted: bool,
    /// Any partition loses unread data before it catches up.
    pub data_loss_before_catch_up: bool,
}

fn add(acc: Option<f64>, v: Option<f64>) -> Option<f64> {
    match (acc, v) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

/// Combines partition trends into the group's; see [`GroupTrend`]'s fields.
pub fn group_trend<'t>(partitions: impl IntoIterator<Item = &'t Trend>) -> GroupTrend {
    let mut g = GroupTrend {
        production_rate: None,
        consumption_rate: None,
        lag_rate: None,
        catch_up: CatchUp::CaughtUp,
        retention_deadline_seconds: None,
        unread_deleted: false,
        data_loss_before_catch_up: false,
    };
    for t in partitions {
        g.production_rate = add(g.production_rate, t.production_rate);
        g.consumption_rate = add(g.consumption_rate, t.consumption_rate);
        g.lag_rate = add(g.lag_rate, t.lag_rate);
        g.catch_up = match (g.catch_up, t.catch_up) {
            (CatchUp::NotCatchingUp, _) | (_, CatchUp::NotCatchingUp) => CatchUp::NotCatchingUp,
            (CatchUp::Unknown, _) | (_, CatchUp::Unknown) => CatchUp::Unknown,
            (CatchUp::In { seconds: a }, CatchUp::In { seconds: b }) => {
                CatchUp::In { seconds: a.max(b) }
            }
            (i @ CatchUp::In { .. }, CatchUp::CaughtUp) | (CatchUp::CaughtUp, i) => i,
        };
        g.retention_deadline_seconds =
            match (g.retention_deadline_seconds, t.retention_deadline_seconds) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        g.unread_deleted |= t.unread_deleted;
        g.data_loss_before_catch_up |= t.data_loss_before_catch_up;
    }
    g
}

/// A trend as the outputs write it (measurements' native fields, `lagwatch check`'s JSON, the
/// HTTP JSON API): flat, each value left out when unknown.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct TrendFields {
    /// Messages produced per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_rate: Option<f64>,
    /// Messages consumed per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumption_rate: Option<f64>,
    /// Change of the lag per second (negative: shrinking).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_rate: Option<f64>,
    /// Seconds until caught up (0 when caught up); left out when not catching up or unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_catch_up_seconds: Option<f64>,
    /// Caught up or catching up (`true`), not catching up (`false`); left out when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catching_up: Option<bool>,
    /// Seconds until retention deletes unread messages (0: already deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_deadline_seconds: Option<f64>,
    /// Unread messages are deleted before the catch up; known only with a retention deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_loss_before_catch_up: Option<bool>,
}

impl TrendFields {
    fn new(
        rates: [Option<f64>; 3],
        catch_up: CatchUp,
        deadline: Option<f64>,
        data_loss: bool,
    ) -> TrendFields {
        TrendFields {
            production_rate: rates[0],
            consumption_rate: rates[1],
            lag_rate: rates[2],
            time_to_catch_up_seconds: catch_up.seconds(),
            catching_up: catch_up.catching_up(),
            retention_deadline_seconds: deadline,
            data_loss_before_catch_up: deadline.map(|_| data_loss),
        }
    }
}

impl From<&Trend> for TrendFields {
    fn from(t: &Trend) -> TrendFields {
        TrendFields::new(
            [t.production_rate, t.consumption_rate, t.lag_rate],
            t.catch_up,
            t.retention_deadline_seconds,
            t.data_loss_before_catch_up,
        )
    }
}

impl From<&GroupTrend> for TrendFields {
    fn from(t: &GroupTrend) -> TrendFields {
        TrendFields::new(
            [t.production_rate, t.consumption_rate, t.lag_rate],
            t.catch_up,
            t.retention_deadline_seconds,
            t.data_loss_before_catch_up,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commits(points: &[(i64, i64)]) -> Vec<CommitPoint> {
        points
            .iter()
            .map(|&(timestamp_ms, offset)| CommitPoint {
                offset,
                timestamp_ms,
            })
            .collect()
    }

    fn broker(points: &[(i64, i64, Option<i64>)]) -> Vec<BrokerPoint> {
        points
            .iter()
            .map(|&(observed_ms, high_water, log_start)| BrokerPoint {
                observed_ms,
                high_water,
                log_start,
            })
            .collect()
    }

    #[test]
    fn a_faster_consumer_catches_up_in_lag_over_the_rate_difference() {
        // Produced 0..=2000 over 20 s: 100/s. Consumed 0 -> 1200 over 8 s: 150/s.
        let c = commits(&[(10_000, 0), (14_000, 600), (18_000, 1200)]);
        let b = broker(&[(0, 0, None), (10_000, 1000, None), (20_000, 2000, None)]);
        let t = partition_trend(c, b, 800, 0, 20_000);
        assert_eq!(t.production_rate, Some(100.0));
        assert_eq!(t.consumption_rate, Some(150.0));
        assert_eq!(t.lag_rate, Some(-50.0));
        assert_eq!(t.catch_up, CatchUp::In { seconds: 16.0 });
        assert_eq!(t.catch_up.seconds(), Some(16.0));
        assert_eq!(t.catch_up.catching_up(), Some(true));
        assert_eq!(t.retention_deadline_seconds, None);
        assert!(!t.unread_deleted && !t.data_loss_before_catch_up);
    }

    #[test]
    fn equal_or_slower_consumption_is_not_catching_up() {
        let b = broker(&[(0, 0, None), (10_000, 1000, None)]);
        let equal = partition_trend(commits(&[(0, 0), (10_000, 1000)]), b.clone(), 50, 0, 10_000);
        assert_eq!(equal.lag_rate, Some(0.0));
        assert_eq!(equal.catch_up, CatchUp::NotCatchingUp);
        assert_eq!(equal.catch_up.catching_up(), Some(false));
        let slower = partition_trend(commits(&[(0, 0), (10_000, 500)]), b, 500, 0, 10_000);
        assert_eq!(slower.lag_rate, Some(50.0));
        assert_eq!(slower.catch_up, CatchUp::NotCatchingUp);
    }

    #[test]
    fn within_the_allowed_lag_is_caught_up_even_without_rates() {
        let t = partition_trend(commits(&[(0, 10)]), broker(&[(0, 12, None)]), 2, 2, 0);
        assert_eq!(t.catch_up, CatchUp::CaughtUp);
        assert_eq!(t.catch_up.seconds(), Some(0.0));
        assert_eq!(t.production_rate, None);
        assert_eq!(t.consumption_rate, None);
        let lagging = partition_trend(commits(&[(0, 10)]), broker(&[(0, 13, None)]), 3, 2, 0);
        assert_eq!(lagging.catch_up, CatchUp::Unknown);
    }

    #[test]
    fn too_little_data_is_unknown() {
        let two = broker(&[(0, 0, None), (10_000, 1000, None)]);
        // One commit.
        let t = partition_trend(commits(&[(0, 0)]), two.clone(), 10, 0, 1_000);
        assert_eq!((t.consumption_rate, t.catch_up), (None, CatchUp::Unknown));
        // One broker sample.
        let t = partition_trend(
            commits(&[(0, 0), (5_000, 500)]),
            broker(&[(0, 1000, None)]),
            10,
            0,
            5_000,
        );
        assert_eq!((t.production_rate, t.catch_up), (None, CatchUp::Unknown));
        // Commits with a span of 0.
        let t = partition_trend(
            commits(&[(5_000, 0), (5_000, 500)]),
            two.clone(),
            10,
            0,
            5_000,
        );
        assert_eq!((t.consumption_rate, t.catch_up), (None, CatchUp::Unknown));
        // Broker samples with a span of 0.
        let same = broker(&[(0, 0, None), (0, 1000, None)]);
        let t = partition_trend(commits(&[(0, 0), (5_000, 500)]), same, 10, 0, 5_000);
        assert_eq!((t.production_rate, t.lag_rate), (None, None));
        // Nothing at all.
        let t = partition_trend(Vec::new(), Vec::new(), 10, 0, 5_000);
        assert_eq!(t, Trend::UNKNOWN);
    }

    #[test]
    fn a_consumer_silent_longer_than_its_window_spans_consumes_nothing() {
        let b = broker(&[(0, 0, None), (30_000, 3000, None)]);
        let c = commits(&[(0, 0), (10_000, 2000)]);
        // 10 s since the last commit over a 10 s span: not longer, still 200/s.
        let t = partition_trend(c.clone(), b.clone(), 1000, 0, 20_000);
        assert_eq!(t.consumption_rate, Some(200.0));
        assert_eq!(t.catch_up, CatchUp::In { seconds: 10.0 });
        // 10.001 s: stopped.
        let t = partition_trend(c, b, 1000, 0, 20_001);
        assert_eq!(t.consumption_rate, Some(0.0));
        assert_eq!(t.lag_rate, Some(100.0));
        assert_eq!(t.catch_up, CatchUp::NotCatchingUp);
    }

    #[test]
    fn retention_deadline_from_the_log_start_movement() {
        // Log start 0 -> 100 over 10 s: 10/s. Committed 400 at t = 10 s: reached at t = 40 s.
        let b = broker(&[
            (0, 1000, Some(0)),
            (5_000, 1500, None),
            (10_000, 2000, Some(100)),
        ]);
        let c = commits(&[(0, 200), (10_000, 400)]);
        // Production 100/s, consumption 20/s: not catching up, so data is lost first.
        let t = partition_trend(c.clone(), b.clone(), 1600, 0, 12_000);
        assert_eq!(t.retention_deadline_seconds, Some(28.0));
        assert_eq!(t.catch_up, CatchUp::NotCatchingUp);
        assert!(t.data_loss_before_catch_up);
        assert!(!t.unread_deleted);

        // Consumption 300/s, production 100/s, lag 1600: caught up in 8 s, before 28 s.
        let fast = commits(&[(0, 0), (10_000, 3000)]);
        let b2 = broker(&[(0, 1000, Some(0)), (10_000, 2000, Some(100))]);
        let t = partition_trend(fast.clone(), b2.clone(), 1600, 0, 10_000);
        assert_eq!(t.catch_up, CatchUp::In { seconds: 8.0 });
        assert_eq!(t.retention_deadline_seconds, Some(290.0));
        assert!(!t.data_loss_before_catch_up);
        // Lag 50_000 at the same rates: 250 s to catch up, log start reaches 3000 at 290 s.
        let t = partition_trend(fast.clone(), b2.clone(), 50_000, 0, 10_000);
        assert_eq!(t.catch_up, CatchUp::In { seconds: 250.0 });
        assert!(!t.data_loss_before_catch_up);
        let t = partition_trend(fast, b2, 70_000, 0, 10_000);
        assert_eq!(t.catch_up, CatchUp::In { seconds: 350.0 });
        assert!(
            t.data_loss_before_catch_up,
            "290 s deadline before 350 s catch-up"
        );
    }

    #[test]
    fn a_committed_offset_below_log_start_means_unread_data_was_deleted() {
        let b = broker(&[(0, 1000, Some(300)), (10_000, 2000, Some(300))]);
        let t = partition_trend(commits(&[(0, 100), (10_000, 200)]), b, 1800, 0, 10_000);
        assert!(t.unread_deleted);
        assert_eq!(t.retention_deadline_seconds, Some(0.0));
        assert!(t.data_loss_before_catch_up);
    }

    #[test]
    fn a_log_start_that_does_not_move_gives_no_deadline() {
        let b = broker(&[(0, 1000, Some(50)), (10_000, 2000, Some(50))]);
        let t = partition_trend(commits(&[(0, 100), (10_000, 200)]), b, 1800, 0, 10_000);
        assert_eq!(t.retention_deadline_seconds, None);
        assert!(!t.unread_deleted && !t.data_loss_before_catch_up);
    }

    #[test]
    fn output_fields_leave_out_what_is_unknown() {
        let t = Trend {
            production_rate: Some(100.0),
            catch_up: CatchUp::NotCatchingUp,
            ..Trend::UNKNOWN
        };
        let json = serde_json::to_string(&TrendFields::from(&t)).unwrap_or_default();
        assert_eq!(json, r#"{"production_rate":100.0,"catching_up":false}"#);
        let t = Trend {
            catch_up: CatchUp::In { seconds: 2.5 },
            retention_deadline_seconds: Some(0.0),
            unread_deleted: true,
            data_loss_before_catch_up: true,
            ..Trend::UNKNOWN
        };
        let json = serde_json::to_string(&TrendFields::from(&t)).unwrap_or_default();
        assert_eq!(
            json,
            concat!(
                r#"{"time_to_catch_up_seconds":2.5,"catching_up":true,"#,
                r#""retention_deadline_seconds":0.0,"data_loss_before_catch_up":true}"#
            )
        );
        assert_eq!(
            serde_json::to_string(&TrendFields::from(&Trend::UNKNOWN)).unwrap_or_default(),
            "{}"
        );
    }

    #[test]
    fn a_group_takes_sums_the_slowest_partition_and_the_soonest_deadline() {
        let a = Trend {
            production_rate: Some(10.0),
            consumption_rate: Some(30.0),
            lag_rate: Some(-20.0),
            catch_up: CatchUp::In { seconds: 5.0 },
            retention_deadline_seconds: Some(100.0),
            ..Trend::UNKNOWN
        };
        let b = Trend {
            production_rate: Some(5.0),
            consumption_rate: Some(6.0),
            lag_rate: Some(-1.0),
            catch_up: CatchUp::In { seconds: 50.0 },
            retention_deadline_seconds: Some(40.0),
            data_loss_before_catch_up: true,
            ..Trend::UNKNOWN
        };
        let caught = Trend {
            catch_up: CatchUp::CaughtUp,
            ..Trend::UNKNOWN
        };
        let g = group_trend([&a, &b, &caught]);
        assert_eq!(g.production_rate, Some(15.0));
        assert_eq!(g.consumption_rate, Some(36.0));
        assert_eq!(g.lag_rate, Some(-21.0));
        assert_eq!(g.catch_up, CatchUp::In { seconds: 50.0 });
        assert_eq!(g.retention_deadline_seconds, Some(40.0));
        assert!(g.data_loss_before_catch_up && !g.unread_deleted);

        let stuck = Trend {
            catch_up: CatchUp::NotCatchingUp,
            ..Trend::UNKNOWN
        };
        assert_eq!(
            group_trend([&a, &stuck, &Trend::UNKNOWN]).catch_up,
            CatchUp::NotCatchingUp
        );
        assert_eq!(
            group_trend([&a, &Trend::UNKNOWN]).catch_up,
            CatchUp::Unknown
        );
        assert_eq!(group_trend([&caught]).catch_up, CatchUp::CaughtUp);
        let none = group_trend(std::iter::empty());
        assert_eq!(
            (none.catch_up, none.production_rate),
            (CatchUp::CaughtUp, None)
        );
    }
}
