//! Time lag: how many seconds behind the head of the partition a consumer is.
//!
//! Burrow measures lag only in messages. lagwatch also estimates it in seconds from the history
//! of broker high-water marks it has sampled: the committed offset is located on the
//! (time, high-water mark) curve, and the time lag is the distance between "now" and the moment
//! the high-water mark passed the committed offset.
//!
//! "Now" is the newest moment the committed offset is known to be current: the evaluation
//! time for streamed commits, the time of the last read for polled ones (the model takes it
//! from [`crate::Event::CommitsRead`]). Measuring a polled offset at evaluation time would add
//! the age of the read to the lag.
//!
//! ```
//! use lagwatch_core::time_lag::{estimate, Confidence};
//!
//! // High-water mark 100 at t = 10 s and 200 at t = 20 s; the group committed 150.
//! let history = [(10_000, 100), (20_000, 200)];
//! let lag = estimate(&history, 150, 30_000);
//! assert_eq!(lag.seconds, 15.0); // produced at 15 s, now is 30 s
//! assert_eq!(lag.confidence, Confidence::Interpolated);
//! ```

use crate::TimestampMs;
use serde::{Deserialize, Serialize};

/// How much an estimate can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// The committed offset lies between two broker samples; the time was interpolated.
    Interpolated,
    /// The committed offset is older than every broker sample; the time was extrapolated
    /// from the observed produce rate.
    Extrapolated,
    /// Not enough broker history to say.
    Unknown,
}

/// An estimate of time lag. `seconds` is always finite and never negative; it is 0 with
/// [`Confidence::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeLag {
    /// Seconds behind.
    pub seconds: f64,
    /// How the estimate was made.
    pub confidence: Confidence,
}

impl TimeLag {
    /// The "cannot say" estimate: 0 seconds, [`Confidence::Unknown`].
    pub const UNKNOWN: TimeLag = TimeLag {
        seconds: 0.0,
        confidence: Confidence::Unknown,
    };

    /// The seconds, when the estimate carries information (interpolated or extrapolated).
    pub fn estimated_seconds(&self) -> Option<f64> {
        (self.confidence != Confidence::Unknown).then_some(self.seconds)
    }
}

/// Upper bound of any estimate: ten years (365-day years), in seconds.
pub const MAX_SECONDS: f64 = 10.0 * 365.0 * 86_400.0;

/// Estimates the time lag of a group that committed `committed` on a partition.
///
/// `history` holds broker samples `(observed_ms, high_water)`, oldest first. Cases, in order:
///
/// 1. no sample at all → 0 s, [`Confidence::Unknown`];
/// 2. `committed` at or above the newest high-water mark → caught up: 0 s,
///    [`Confidence::Interpolated`];
/// 3. fewer than two samples → 0 s, [`Confidence::Unknown`];
/// 4. two consecutive samples `a`, `b` with `a.high_water <= committed < b.high_water` (the
///    newest such pair) → the time the high-water mark reached `committed`, by linear
///    interpolation between `a` and `b`; [`Confidence::Interpolated`];
/// 5. `committed` below the oldest high-water mark → that time extrapolated backwards from the
///    oldest sample at the average produce rate over the whole history (newest minus oldest
///    high-water mark over newest minus oldest time); [`Confidence::Extrapolated`]. A rate
///    that is zero, negative or not finite gives 0 s, [`Confidence::Unknown`].
///
/// A committed offset between the oldest and the newest high-water mark always lies on some
/// pair of case 4, even when the history went backwards (a recreated topic).
///
/// `now_ms` is the moment the lag is measured at: the newest moment `committed` is known to
/// be current (see the [module documentation](self)). The result is `(now_ms - t) / 1000`
/// seconds, clamped to `0..=`[`MAX_SECONDS`], so it is
/// never negative (a sample from the future counts as "just now"), NaN or infinite.
pub fn estimate(history: &[(TimestampMs, i64)], committed: i64, now_ms: TimestampMs) -> TimeLag {
    let Some(&(_, newest_hw)) = history.last() else {
        return TimeLag::UNKNOWN;
    };
    if committed >= newest_hw {
        return TimeLag {
            seconds: 0.0,
            confidence: Confidence::Interpolated,
        };
    }
    if history.len() < 2 {
        return TimeLag::UNKNOWN;
    }

    let crossing = history
        .windows(2)
        .rev()
        .find(|pair| pair[0].1 <= committed && committed < pair[1].1);
    if let Some(pair) = crossing {
        let ((ta, ha), (tb, hb)) = (pair[0], pair[1]);
        let fraction = diff(committed, ha) / diff(hb, ha);
        let t = ta as f64 + fraction * diff(tb, ta);
        return since(t, now_ms, Confidence::Interpolated);
    }

    let (oldest_t, oldest_hw) = history[0];
    let newest_t = history[history.len() - 1].0;
    if committed < oldest_hw {
        let rate = diff(newest_hw, oldest_hw) / diff(newest_t, oldest_t);
        if !rate.is_finite() || rate <= 0.0 {
            return TimeLag::UNKNOWN;
        }
        let t = oldest_t as f64 - diff(oldest_hw, committed) / rate;
        return since(t, now_ms, Confidence::Extrapolated);
    }
    // Not reachable: an offset from the oldest up to below the newest mark has a crossing.
    TimeLag::UNKNOWN
}

/// `a - b` as a float, without overflowing `i64`.
fn diff(a: i64, b: i64) -> f64 {
    (i128::from(a) - i128::from(b)) as f64
}

fn since(t_ms: f64, now_ms: TimestampMs, confidence: Confidence) -> TimeLag {
    let seconds = (now_ms as f64 - t_ms) / 1000.0;
    if seconds.is_nan() {
        return TimeLag::UNKNOWN;
    }
    TimeLag {
        seconds: seconds.clamp(0.0, MAX_SECONDS),
        confidence,
    }
}
