//! The threshold primitive, with the seed's Grafana rule: avg over 60 s > 10, every minute.

use lagwatch_core::rule::{Aggregate, Comparison, Series, Threshold, aggregate};

const MINUTE: i64 = 60_000;

fn seed_rule() -> Threshold {
    Threshold {
        aggregate: Aggregate::Avg,
        window_ms: MINUTE,
        comparison: Comparison::Gt,
        value: 10.0,
    }
}

/// Telegraf's 10 s interval: one lag sample every 10 s.
fn lag_every_10s(values: &[f64]) -> Vec<(i64, f64)> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| (10_000 * (i as i64 + 1), v))
        .collect()
}

#[test]
fn seed_rule_every_minute() {
    // Minute 1: samples at 10..60 s; minute 2: 70..120 s.
    let series = lag_every_10s(&[
        0.0, 0.0, 30.0, 30.0, 0.0, 0.0, 12.0, 12.0, 9.0, 11.0, 10.0, 12.0,
    ]);
    let rule = seed_rule();
    assert_eq!(
        rule.check(&series, MINUTE),
        Some((10.0, false)),
        "avg 10 is not above 10"
    );
    assert_eq!(rule.check(&series, 2 * MINUTE), Some((11.0, true)));
    assert_eq!(
        rule.check(&series, 3 * MINUTE),
        None,
        "no data in the window"
    );
}

#[test]
fn window_edges() {
    let series = [(0, 100.0), (1, 1.0), (MINUTE, 3.0), (MINUTE + 1, 1_000.0)];
    // (now - 60 s, now]: the sample exactly 60 s old is out, the one at now is in, the future
    // one is out.
    assert_eq!(
        aggregate(&series, Aggregate::Avg, MINUTE, MINUTE),
        Some(2.0)
    );
    // One millisecond earlier the window is (-1 ms, 59.999 s]: the samples at 0 and 1 ms.
    assert_eq!(
        aggregate(&series, Aggregate::Avg, MINUTE, MINUTE - 1),
        Some(50.5)
    );
    assert_eq!(
        aggregate(&series, Aggregate::Max, MINUTE, MINUTE),
        Some(3.0)
    );
    assert_eq!(
        aggregate(&series, Aggregate::Min, MINUTE, MINUTE),
        Some(1.0)
    );
    assert_eq!(
        aggregate(&series, Aggregate::Last, MINUTE, MINUTE),
        Some(3.0)
    );
    assert_eq!(aggregate(&[], Aggregate::Avg, MINUTE, MINUTE), None);
}

#[test]
fn last_takes_the_newest_timestamp_even_unsorted() {
    let series = [(30, 3.0), (50, 5.0), (40, 4.0), (50, 6.0)];
    assert_eq!(aggregate(&series, Aggregate::Last, 100, 60), Some(6.0));
}

#[test]
fn comparisons_at_the_boundary() {
    let at = |comparison, observed| {
        Threshold {
            aggregate: Aggregate::Last,
            window_ms: MINUTE,
            comparison,
            value: 10.0,
        }
        .check(&[(1, observed)], 1)
        .map(|(_, breached)| breached)
    };
    assert_eq!(at(Comparison::Gt, 10.0), Some(false));
    assert_eq!(at(Comparison::Ge, 10.0), Some(true));
    assert_eq!(at(Comparison::Lt, 10.0), Some(false));
    assert_eq!(at(Comparison::Le, 10.0), Some(true));
    assert_eq!(at(Comparison::Gt, 10.5), Some(true));
    assert_eq!(at(Comparison::Lt, 9.5), Some(true));
    assert_eq!(at(Comparison::Gt, f64::NAN), Some(false));
    assert_eq!(Comparison::Ge.to_string(), ">=");
}

#[test]
fn series_is_bounded_by_age_and_count() {
    let mut s = Series::new(2 * MINUTE, 5);
    for i in 0..4 {
        s.push(i * MINUTE, i as f64);
    }
    // Ages: newest at 180 s keeps samples from 60 s on.
    assert_eq!(
        s.samples(),
        &[(MINUTE, 1.0), (2 * MINUTE, 2.0), (3 * MINUTE, 3.0)]
    );
    // Out of order but recent: inserted in time order.
    s.push(2 * MINUTE + 1, 2.5);
    assert_eq!(s.samples()[2], (2 * MINUTE + 1, 2.5));
    // Too old already: dropped at once.
    s.push(0, 9.0);
    assert_eq!(s.len(), 4);
    // Count limit: the oldest go first.
    for i in 0..4 {
        s.push(3 * MINUTE + 1 + i, 4.0);
    }
    assert_eq!(s.len(), 5);
    assert_eq!(s.samples()[0], (3 * MINUTE, 3.0));
    assert_eq!(s.last(), Some((3 * MINUTE + 4, 4.0)));
    assert_eq!(
        seed_rule().check_series(&s, 3 * MINUTE + 4),
        Some((3.8, false))
    );
    assert_eq!(
        s.aggregate(Aggregate::Max, MINUTE, 3 * MINUTE + 4),
        Some(4.0)
    );
    assert!(!s.is_empty());
}
