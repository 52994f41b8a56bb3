//! Exact vectors and invariants of the time-lag estimate.

use lagwatch_core::time_lag::{Confidence, MAX_SECONDS, TimeLag, estimate};
use proptest::prelude::*;

const T0: i64 = 1_700_000_000_000;

fn lag(seconds: f64, confidence: Confidence) -> TimeLag {
    TimeLag {
        seconds,
        confidence,
    }
}

/// High-water mark 1000 at T0, 1600 at T0 + 60 s, 1600 at T0 + 120 s, 2200 at T0 + 180 s.
fn history() -> Vec<(i64, i64)> {
    vec![
        (T0, 1000),
        (T0 + 60_000, 1600),
        (T0 + 120_000, 1600),
        (T0 + 180_000, 2200),
    ]
}

#[test]
fn caught_up_is_zero() {
    let now = T0 + 200_000;
    assert_eq!(
        estimate(&history(), 2200, now),
        lag(0.0, Confidence::Interpolated)
    );
    assert_eq!(
        estimate(&history(), 2500, now),
        lag(0.0, Confidence::Interpolated)
    );
    // One sample is enough to know the consumer is caught up.
    assert_eq!(
        estimate(&[(T0, 10)], 10, now),
        lag(0.0, Confidence::Interpolated)
    );
}

#[test]
fn between_two_samples_is_interpolated() {
    let now = T0 + 200_000;
    // 1300 is halfway from 1000 (T0) to 1600 (T0 + 60 s): produced at T0 + 30 s.
    assert_eq!(
        estimate(&history(), 1300, now),
        lag(170.0, Confidence::Interpolated)
    );
    // Exactly at a sample: the time of that sample.
    assert_eq!(
        estimate(&history(), 1000, now),
        lag(200.0, Confidence::Interpolated)
    );
    // On a flat stretch (1600 at 60 s and 120 s) the newest crossing wins: 1600 -> 2200 from
    // 120 s to 180 s, so 1600 was passed at 120 s.
    assert_eq!(
        estimate(&history(), 1600, now),
        lag(80.0, Confidence::Interpolated)
    );
    // 1900: halfway from 1600 (120 s) to 2200 (180 s) = 150 s.
    assert_eq!(
        estimate(&history(), 1900, now),
        lag(50.0, Confidence::Interpolated)
    );
}

#[test]
fn below_the_oldest_sample_is_extrapolated() {
    let now = T0 + 200_000;
    // Average rate: 1200 messages in 180 s. 400 messages before the oldest sample = 60 s.
    assert_eq!(
        estimate(&history(), 600, now),
        lag(260.0, Confidence::Extrapolated)
    );
}

#[test]
fn unknown_cases() {
    let now = T0 + 200_000;
    assert_eq!(estimate(&[], 5, now), TimeLag::UNKNOWN);
    assert_eq!(estimate(&[(T0, 10)], 5, now), TimeLag::UNKNOWN);
    // Below the oldest sample but no production over the history: no rate to go back with.
    assert_eq!(
        estimate(&[(T0, 10), (T0 + 1_000, 10)], 5, now),
        TimeLag::UNKNOWN
    );
    assert_eq!(
        estimate(&[(T0, 10), (T0 + 1_000, 11), (T0 + 2_000, 10)], 5, now),
        TimeLag::UNKNOWN
    );
    assert_eq!(estimate(&[(T0, 10), (T0, 20)], 5, now), TimeLag::UNKNOWN);
    // Any production at all is enough.
    let slow = estimate(&[(T0, 10), (T0 + 1_000, 10), (T0 + 2_000, 11)], 5, now);
    assert_eq!(slow.confidence, Confidence::Extrapolated);
    // A history that went backwards (topic recreated): the newest sample decides "caught up",
    // and crossings are searched newest first.
    let recreated = [(T0, 100), (T0 + 1_000, 10), (T0 + 2_000, 20)];
    assert_eq!(
        estimate(&recreated, 50, now),
        lag(0.0, Confidence::Interpolated)
    );
    assert_eq!(
        estimate(&recreated, 15, now),
        lag(198.5, Confidence::Interpolated)
    );
}

#[test]
fn never_negative_never_huge() {
    // Samples from the future (clock skew): 0, not negative.
    assert_eq!(
        estimate(&history(), 1300, T0),
        lag(0.0, Confidence::Interpolated)
    );
    // Absurd extrapolation: capped.
    let h = [(0, i64::MAX - 1), (1, i64::MAX)];
    assert_eq!(
        estimate(&h, i64::MIN, i64::MAX),
        lag(MAX_SECONDS, Confidence::Extrapolated)
    );
}

proptest! {
    #[test]
    fn estimates_are_finite_and_not_negative(
        samples in proptest::collection::vec((any::<i64>(), any::<i64>()), 0..8),
        committed in any::<i64>(),
        now in any::<i64>(),
    ) {
        let t = estimate(&samples, committed, now);
        prop_assert!(t.seconds.is_finite());
        prop_assert!(t.seconds >= 0.0 && t.seconds <= MAX_SECONDS);
        if t.confidence == Confidence::Unknown {
            prop_assert_eq!(t.seconds, 0.0);
        }
    }

    #[test]
    fn sorted_histories_give_more_lag_for_older_commits(
        mut samples in proptest::collection::vec((0i64..1_000_000, 0i64..1_000_000), 2..8),
        a in 0i64..1_000_000,
        b in 0i64..1_000_000,
    ) {
        // A real history: time and high-water mark both grow.
        samples.sort();
        let mut hw: Vec<i64> = samples.iter().map(|s| s.1).collect();
        hw.sort();
        for (s, h) in samples.iter_mut().zip(hw) {
            s.1 = h;
        }
        let now = 2_000_000;
        let (older, newer) = (a.min(b), a.max(b));
        let (lo, hi) = (estimate(&samples, older, now), estimate(&samples, newer, now));
        if lo.confidence != Confidence::Unknown && hi.confidence != Confidence::Unknown {
            prop_assert!(lo.seconds + 1e-6 >= hi.seconds, "{lo:?} {hi:?}");
        }
    }
}
