//! Burrow's evaluator vectors (rule table, group tests, worked examples) and lagwatch's own.

use lagwatch_core::evaluator::{
    EvaluatorSettings, PartitionWindow, aggregate_group, evaluate_group, evaluate_partition, rules,
};
use lagwatch_core::{GroupStatus, OffsetPoint, PartitionStatus};
use proptest::prelude::*;

use PartitionStatus::{Ok as OK, Rewind as REWIND, Stall as STALL, Stop as STOP, Warn as WARN};

/// A commit: offset, timestamp (ms), lag at commit.
type C = (i64, i64, Option<u64>);

fn point(&(offset, timestamp, lag): &C) -> OffsetPoint {
    OffsetPoint {
        offset,
        timestamp,
        observed_at: 0,
        lag,
    }
}

fn window(commits: &[C], current_lag: u64, broker: &[i64]) -> PartitionWindow {
    PartitionWindow {
        topic: "t".into(),
        partition: 0,
        offsets: commits.iter().map(|c| Some(point(c))).collect(),
        broker_offsets: broker.to_vec(),
        current_lag,
        ..PartitionWindow::default()
    }
}

/// One row of Burrow's rule table (burrow.md 1.8.1).
struct Vector {
    id: usize,
    window: Vec<C>,
    current_lag: u64,
    broker: Vec<i64>,
    now_s: i64,
    allowed: u64,
    nz: bool,
    rw: Option<usize>,
    sp: bool,
    st: bool,
    nd: bool,
    rz: bool,
    expected: PartitionStatus,
}

fn lags(offsets: &[i64], lags: &[Option<u64>]) -> Vec<C> {
    offsets
        .iter()
        .zip(lags)
        .enumerate()
        .map(|(i, (&o, &l))| (o, 100_000 * (i as i64 + 1), l))
        .collect()
}

fn s(values: &[u64]) -> Vec<Option<u64>> {
    values.iter().map(|&v| Some(v)).collect()
}

fn burrow_vectors() -> Vec<Vector> {
    let w0 = lags(&[1000, 2000, 3000, 4000, 5000], &s(&[0, 50, 100, 150, 200]));
    let w3 = lags(
        &[1000, 2000, 3000, 4000, 5000],
        &s(&[50, 100, 150, 200, 250]),
    );
    let w4 = lags(&[1000; 5], &s(&[0, 50, 100, 150, 200]));
    let w5 = lags(&[1000; 5], &s(&[100, 150, 200, 250, 300]));
    let w6 = lags(&[1000; 5], &s(&[100; 5]));
    let w7 = lags(
        &[1000, 2000, 3000, 2000, 4000],
        &s(&[100, 150, 200, 1250, 300]),
    );
    let ts9: [i64; 15] = [
        1512224618356,
        1512224619362,
        1512224620366,
        1512224621367,
        1512224622370,
        1512224623373,
        1512224624378,
        1512224625379,
        1512224626383,
        1512224627383,
        1512224628383,
        1512224629388,
        1512224630391,
        1512224631394,
        1512224632397,
    ];
    let w9: Vec<C> = (0..15)
        .map(|i| (792748079 + i as i64, ts9[i], Some(0)))
        .collect();
    let w11: Vec<C> = (0..10)
        .map(|i: i64| {
            let lag = (i % 2 == 0).then(|| 50 * (i as u64 / 2));
            (1000 + 500 * i, 100_000 + 50_000 * i, lag)
        })
        .collect();
    let w12 = vec![
        (1000, 100_000, Some(2)),
        (2000, 200_000, Some(1)),
        (2000, 300_000, Some(1)),
    ];
    let w15 = lags(
        &[1000, 2000, 3000, 2000, 2500],
        &s(&[100, 150, 200, 1250, 300]),
    );
    let b9 = vec![792749024, 792749000, 792748800, 792748600, 792748500];
    let b10 = vec![792748094, 792748093, 792748093, 792748093];

    #[rustfmt::skip]
    let rows = vec![
        // id, window, lag, broker, now, allowed, NZ, RW, SP, ST, ND, RZ, expected
        (0, w0.clone(), 200, vec![5200], 600, 0, false, None, false, false, true, false, OK),
        (1, w0.clone(), 200, vec![5200], 900, 0, false, None, false, false, true, false, OK),
        (2, w0.clone(), 200, vec![5200], 1000, 0, false, None, true, false, true, false, STOP),
        (3, w3.clone(), 250, vec![5250], 1000, 0, true, None, true, false, true, false, STOP),
        (4, w4, 200, vec![1200], 600, 0, false, None, false, true, true, false, OK),
        (5, w5.clone(), 300, vec![1300], 600, 0, true, None, false, true, true, false, STALL),
        (6, w6, 100, vec![1100], 600, 0, true, None, false, true, true, false, STALL),
        (7, w7.clone(), 300, vec![4300], 600, 0, true, Some(3), false, false, false, false, OK),
        (8, w3, 0, vec![5250], 1000, 0, true, None, true, false, true, false, OK),
        (9, w9.clone(), 931, b9, 1512224650, 0, false, None, true, false, true, false, STOP),
        (10, w9, 1, b10, 1512224650, 0, false, None, true, false, true, true, OK),
        (11, w11, 200, vec![5700], 600, 0, false, None, false, false, true, false, OK),
        (12, w12, 1, vec![2001], 550, 1, false, None, true, false, false, false, OK),
        (13, w5, 300, vec![1300], 600, 99, true, None, false, true, true, false, STALL),
        (14, w7, 300, vec![4300], 600, 99, true, Some(3), false, false, false, false, OK),
        (15, w15, 300, vec![4300], 600, 0, true, Some(3), false, false, false, false, REWIND),
    ];
    rows.into_iter()
        .map(
            |(
                id,
                window,
                current_lag,
                broker,
                now_s,
                allowed,
                nz,
                rw,
                sp,
                st,
                nd,
                rz,
                expected,
            )| {
                Vector {
                    id,
                    window,
                    current_lag,
                    broker,
                    now_s,
                    allowed,
                    nz,
                    rw,
                    sp,
                    st,
                    nd,
                    rz,
                    expected,
                }
            },
        )
        .collect()
}

#[test]
fn burrow_rule_vectors_every_column() {
    let vectors = burrow_vectors();
    assert_eq!(vectors.len(), 16);
    for v in &vectors {
        let offsets: Vec<OffsetPoint> = v.window.iter().map(point).collect();
        let now_ms = v.now_s * 1000;
        let newest = offsets[offsets.len() - 1].offset;
        let id = v.id;
        assert_eq!(
            rules::lag_always_not_zero(&offsets, v.allowed),
            v.nz,
            "vector {id}: NZ"
        );
        assert_eq!(rules::first_rewind(&offsets), v.rw, "vector {id}: RW");
        assert_eq!(
            rules::stop_condition(&offsets, now_ms),
            v.sp,
            "vector {id}: SP"
        );
        assert_eq!(rules::offsets_stalled(&offsets), v.st, "vector {id}: ST");
        assert_eq!(
            rules::lag_never_decreased(&offsets),
            v.nd,
            "vector {id}: ND"
        );
        assert_eq!(
            rules::recent_lag_zero(&v.broker, newest),
            v.rz,
            "vector {id}: RZ"
        );
        assert_eq!(
            rules::partition_status(&offsets, v.current_lag, &v.broker, now_ms, v.allowed),
            v.expected,
            "vector {id}: status"
        );
    }
}

#[test]
fn burrow_rule_vectors_through_evaluate_partition() {
    for v in burrow_vectors() {
        let w = window(&v.window, v.current_lag, &v.broker);
        let settings = EvaluatorSettings {
            minimum_complete: 0.0,
            allowed_lag: v.allowed,
            ..EvaluatorSettings::default()
        };
        let r = evaluate_partition(&w, v.window.len(), v.now_s * 1000, &settings);
        assert_eq!(r.status, v.expected, "vector {}", v.id);
        assert_eq!(r.complete, 1.0, "vector {}", v.id);
        assert_eq!(r.current_lag, v.current_lag, "vector {}", v.id);
        assert_eq!(r.start, Some(point(&v.window[0])), "vector {}", v.id);
        assert_eq!(r.end, v.window.last().map(point), "vector {}", v.id);
        assert_eq!(r.extras.log_end_offset, v.broker.last().copied());
    }
}

// ---- Burrow's group tests (burrow.md 1.8.2) with a fixed clock ----

const START_MS: i64 = 1_700_000_000_000;
const NOW_MS: i64 = START_MS + 100_000;

/// Burrow's storage fixture: `n` commits 1000 + 100 i at start + 10 s * i, broker offset 4321.
fn fixture_window(n: usize) -> PartitionWindow {
    let mut offsets = vec![None; 10 - n];
    offsets.extend((0..n as i64).map(|i| {
        Some(OffsetPoint {
            offset: 1000 + 100 * i,
            timestamp: START_MS + 10_000 * i,
            observed_at: 0,
            lag: Some((4321 - (1000 + 100 * i)) as u64),
        })
    }));
    let newest = 1000 + 100 * (n as i64 - 1);
    PartitionWindow {
        topic: "testtopic".into(),
        partition: 0,
        offsets,
        broker_offsets: vec![4321],
        current_lag: (4321 - newest) as u64,
        ..PartitionWindow::default()
    }
}

#[test]
fn burrow_group_testgroup_is_ok() {
    let g = evaluate_group(
        "testcluster",
        "testgroup",
        &[fixture_window(10)],
        10,
        NOW_MS,
        &EvaluatorSettings::default(),
    );
    assert_eq!(g.status, GroupStatus::Ok);
    assert_eq!(g.complete, 1.0);
    assert_eq!(g.partition_count, 1);
    assert_eq!(g.totallag, 2421);
    assert_eq!(
        (g.cluster.as_str(), g.group.as_str()),
        ("testcluster", "testgroup")
    );
    // `/lag` lists the partition, `/status` does not.
    assert_eq!(g.partitions.len(), 1);
    assert_eq!(g.only_problems().partitions.len(), 0);
    assert_eq!(g.evaluated_at, NOW_MS);
    assert_eq!(g.worst_partition, Some(OK));
}

#[test]
fn burrow_group_testgroup2_is_incomplete_and_stopped() {
    let g = evaluate_group(
        "testcluster",
        "testgroup2",
        &[fixture_window(5)],
        10,
        NOW_MS,
        &EvaluatorSettings::default(),
    );
    assert_eq!(g.status, GroupStatus::Err);
    assert_eq!(g.complete, 0.0);
    assert_eq!(g.partition_count, 1);
    assert_eq!(g.totallag, 2921);
    let problems = g.only_problems();
    assert_eq!(problems.partitions.len(), 1);
    assert_eq!(problems.partitions[0].complete, 0.5);
    assert_eq!(problems.partitions[0].status, STOP);
    let maxlag = g
        .maxlag
        .as_ref()
        .map(|m| (m.start.map(|s| s.offset), m.end.map(|e| e.offset)));
    assert_eq!(maxlag, Some((Some(1000), Some(1400))));
    assert_eq!(g.worst_partition, Some(STOP));
}

#[test]
fn burrow_group_without_topics_is_ok_and_empty() {
    let g = evaluate_group(
        "testcluster",
        "testgroup",
        &[],
        10,
        NOW_MS,
        &EvaluatorSettings::default(),
    );
    assert_eq!(g.status, GroupStatus::Ok);
    assert!(g.partitions.is_empty());
    assert_eq!(g.complete, 0.0);
    assert_eq!(g.maxlag, None);
    assert_eq!((g.totallag, g.partition_count), (0, 0));
    assert_eq!(g.worst_partition, None);
}

// ---- Worked examples (burrow.md 1.7), seconds written as ms ----

fn example_commits() -> Vec<C> {
    [
        (100, 900, 50),
        (200, 920, 60),
        (300, 940, 60),
        (400, 960, 70),
        (500, 980, 80),
    ]
    .iter()
    .map(|&(o, t, l)| (o, t * 1000, Some(l)))
    .collect()
}

#[test]
fn example_a_slow_consumer_is_warn() {
    let w = window(&example_commits(), 100, &[600]);
    let g = evaluate_group("c", "a", &[w], 5, 1_000_000, &EvaluatorSettings::default());
    assert_eq!(g.partitions[0].status, WARN);
    assert_eq!(g.status, GroupStatus::Warn);
    assert_eq!(g.partitions[0].complete, 1.0);
    assert_eq!(
        g.partitions[0].start.map(|s| (s.offset, s.timestamp)),
        Some((100, 900_000))
    );
    assert_eq!(
        g.partitions[0].end.map(|s| (s.offset, s.timestamp)),
        Some((500, 980_000))
    );
}

#[test]
fn example_b_stop_and_its_recent_zero_variant() {
    let w = window(&example_commits(), 200, &[560, 600, 640, 680, 700]);
    let g = evaluate_group("c", "b", &[w], 5, 1_100_000, &EvaluatorSettings::default());
    assert_eq!(g.partitions[0].status, STOP);
    assert_eq!(g.status, GroupStatus::Err);
    assert_eq!(g.totallag, 200);

    let w = window(&example_commits(), 200, &[480, 600, 640, 680, 700]);
    let r = evaluate_partition(&w, 5, 1_100_000, &EvaluatorSettings::default());
    assert_eq!(r.status, WARN);
}

#[test]
fn example_c_incomplete_ring_zero_lag_and_group_aggregation() {
    let p0 = PartitionWindow {
        partition: 0,
        offsets: vec![
            None,
            None,
            Some(point(&(10, 950_000, Some(0)))),
            Some(point(&(20, 960_000, Some(5)))),
            Some(point(&(30, 970_000, Some(5)))),
        ],
        current_lag: 5,
        topic: "t".into(),
        ..PartitionWindow::default()
    };
    let p1_commits: Vec<C> = [7, 8, 9, 10, 12]
        .iter()
        .enumerate()
        .map(|(i, &l)| (40, (900 + 20 * i as i64) * 1000, Some(l)))
        .collect();
    let mut p1 = window(&p1_commits, 15, &[]);
    p1.partition = 1;
    // Partition 0 alone at its own clock (975 s).
    let r0 = evaluate_partition(&p0, 5, 975_000, &EvaluatorSettings::default());
    assert_eq!((r0.status, r0.complete), (OK, 0.6));
    // The group at 990 s, partitions given in reverse order.
    let g = evaluate_group(
        "c",
        "c",
        &[p1, p0],
        5,
        990_000,
        &EvaluatorSettings::default(),
    );
    assert_eq!(g.status, GroupStatus::Err);
    assert_eq!(g.worst_partition, Some(STALL));
    assert_eq!(g.totallag, 20);
    assert_eq!(g.partition_count, 2);
    assert_eq!(g.complete, 0.5);
    assert_eq!(
        g.partitions.iter().map(|p| p.partition).collect::<Vec<_>>(),
        vec![0, 1]
    );
    assert_eq!(
        g.partitions.iter().map(|p| p.status).collect::<Vec<_>>(),
        vec![OK, STALL]
    );
    assert_eq!(g.maxlag.as_ref().map(|m| m.partition), Some(1));
    assert_eq!(g.only_problems().partitions.len(), 1);
}

// ---- lagwatch's own vectors ----

#[test]
fn empty_window_is_ok_with_complete_zero() {
    let w = PartitionWindow {
        current_lag: 0,
        broker_offsets: vec![10],
        ..PartitionWindow::default()
    };
    let r = evaluate_partition(&w, 10, 0, &EvaluatorSettings::default());
    assert_eq!(
        (r.status, r.complete, r.start, r.end),
        (OK, 0.0, None, None)
    );
}

#[test]
fn all_empty_slots_keep_one_slot_like_burrow() {
    let w = PartitionWindow {
        offsets: vec![None; 10],
        current_lag: 50,
        ..PartitionWindow::default()
    };
    let r = evaluate_partition(&w, 10, 1_000_000, &EvaluatorSettings::default());
    assert_eq!(
        (r.status, r.complete, r.start, r.end),
        (OK, 0.1, None, None)
    );
    // A ring of one empty slot counts as complete.
    let w = PartitionWindow {
        offsets: vec![None],
        ..PartitionWindow::default()
    };
    assert_eq!(
        evaluate_partition(&w, 1, 0, &EvaluatorSettings::default()).complete,
        1.0
    );
}

#[test]
fn single_commit_with_lag_is_stop_then_stall() {
    let w = window(&[(100, 1_000_000, Some(10))], 10, &[110]);
    let s = EvaluatorSettings::default();
    // No time has passed (same second): not STOP; one offset is trivially STALL.
    assert_eq!(evaluate_partition(&w, 10, 1_000_999, &s).status, STALL);
    // One second later: STOP.
    assert_eq!(evaluate_partition(&w, 10, 1_001_000, &s).status, STOP);
    // Unless a broker sample shows the consumer was caught up.
    let w = window(&[(100, 1_000_000, Some(10))], 10, &[100, 110]);
    assert_eq!(evaluate_partition(&w, 10, 1_001_000, &s).status, STALL);
}

#[test]
fn minimum_complete_gates_the_rules() {
    // testgroup2: half full, STOP by default.
    let w = fixture_window(5);
    let gated = EvaluatorSettings {
        minimum_complete: 0.6,
        allowed_lag: 0,
        ..EvaluatorSettings::default()
    };
    let r = evaluate_partition(&w, 10, NOW_MS, &gated);
    assert_eq!((r.status, r.complete), (OK, 0.5));
    assert!(
        r.start.is_some(),
        "start/end are reported even when not evaluated"
    );
    let exact = EvaluatorSettings {
        minimum_complete: 0.5,
        allowed_lag: 0,
        ..EvaluatorSettings::default()
    };
    assert_eq!(evaluate_partition(&w, 10, NOW_MS, &exact).status, STOP);
}

#[test]
fn allowed_lag_boundary() {
    let w = window(&example_commits(), 200, &[560, 600, 640, 680, 700]);
    let at = |allowed_lag| {
        let s = EvaluatorSettings {
            minimum_complete: 0.0,
            allowed_lag,
            ..EvaluatorSettings::default()
        };
        evaluate_partition(&w, 5, 1_100_000, &s).status
    };
    assert_eq!(at(200), OK);
    assert_eq!(at(199), STOP);
    // The zero-lag rule uses the same boundary: a lag of 50 in the window makes it OK once the
    // allowed lag reaches 50 (STOP does not apply when time has not run out).
    let w = window(&example_commits(), 100, &[600]);
    let at = |allowed_lag| {
        let s = EvaluatorSettings {
            minimum_complete: 0.0,
            allowed_lag,
            ..EvaluatorSettings::default()
        };
        evaluate_partition(&w, 5, 1_000_000, &s).status
    };
    assert_eq!(at(49), WARN);
    assert_eq!(at(50), OK);
}

#[test]
fn rewind_recovered_and_not() {
    let recovered = lags(&[1000, 2000, 1500, 2000], &s(&[10, 10, 600, 10]));
    let w = window(&recovered, 10, &[2010]);
    assert_eq!(
        evaluate_partition(&w, 4, 450_000, &EvaluatorSettings::default()).status,
        OK
    );
    let not = lags(&[1000, 2000, 1500, 1999], &s(&[10, 10, 600, 11]));
    let w = window(&not, 11, &[2010]);
    assert_eq!(
        evaluate_partition(&w, 4, 450_000, &EvaluatorSettings::default()).status,
        REWIND
    );
}

#[test]
fn stop_wins_over_rewind() {
    let rewound = lags(&[1000, 2000, 1500], &s(&[10, 10, 600]));
    let w = window(&rewound, 600, &[2100]);
    // 300 s since the last commit > 200 s span.
    assert_eq!(
        evaluate_partition(&w, 3, 600_000, &EvaluatorSettings::default()).status,
        STOP
    );
    assert_eq!(
        evaluate_partition(&w, 3, 500_000, &EvaluatorSettings::default()).status,
        REWIND
    );
}

#[test]
fn warn_ignores_unknown_lags() {
    let commits = lags(&[100, 200, 300, 400], &[Some(10), None, Some(10), Some(12)]);
    let w = window(&commits, 12, &[412]);
    assert_eq!(
        evaluate_partition(&w, 4, 400_000, &EvaluatorSettings::default()).status,
        WARN
    );
}

#[test]
fn only_the_newest_intervals_broker_samples_count_for_recent_lag_zero() {
    // The consumer was caught up (broker 500 <= 500) six samples ago, beyond a ring of 5.
    let mut broker = vec![500];
    broker.extend([560, 600, 640, 680, 700]);
    let w = window(&example_commits(), 200, &broker);
    assert_eq!(
        evaluate_partition(&w, 5, 1_100_000, &EvaluatorSettings::default()).status,
        STOP
    );
    assert_eq!(
        evaluate_partition(&w, 6, 1_100_000, &EvaluatorSettings::default()).status,
        WARN
    );
}

#[test]
fn maxlag_ties_break_by_topic_then_partition() {
    let mk = |topic: &str, partition: i32, lag: u64| {
        let mut w = window(&[(1, 1_000, Some(0))], lag, &[]);
        w.topic = topic.into();
        w.partition = partition;
        w
    };
    let windows = [mk("b", 0, 7), mk("a", 2, 7), mk("a", 1, 3), mk("a", 3, 7)];
    let g = evaluate_group("c", "g", &windows, 10, 1_000, &EvaluatorSettings::default());
    let m = g.maxlag.as_ref().map(|m| (m.topic.as_str(), m.partition));
    assert_eq!(m, Some(("a", 2)));
    let order: Vec<(&str, i32)> = g
        .partitions
        .iter()
        .map(|p| (p.topic.as_str(), p.partition))
        .collect();
    assert_eq!(order, vec![("a", 1), ("a", 2), ("a", 3), ("b", 0)]);
    assert_eq!(g.totallag, 24);
}

#[test]
fn group_status_caps_at_err_and_keeps_the_worst() {
    let stalled = window(&lags(&[5, 5], &s(&[3, 4])), 4, &[9]);
    let mut rewound = window(&lags(&[9, 5], &s(&[3, 4])), 4, &[9]);
    rewound.partition = 1;
    let g = evaluate_group(
        "c",
        "g",
        &[stalled, rewound],
        2,
        200_000,
        &EvaluatorSettings::default(),
    );
    assert_eq!(g.status, GroupStatus::Err);
    assert_eq!(g.worst_partition, Some(REWIND));
}

#[test]
fn aggregate_group_marks_stale_groups() {
    let mut r = evaluate_partition(
        &PartitionWindow::default(),
        10,
        0,
        &EvaluatorSettings::default(),
    );
    r.extras.stale = true;
    assert!(aggregate_group("c", "g", vec![r], 0).stale);
}

// ---- invariants ----

fn arb_window() -> impl Strategy<Value = (PartitionWindow, usize)> {
    let commit = (
        0i64..1_000,
        0i64..100_000,
        proptest::option::of(0u64..1_000),
    );
    (
        proptest::collection::vec(proptest::option::of(commit), 0..12),
        proptest::collection::vec(0i64..2_000, 0..12),
        0u64..500,
        1usize..12,
        "[ab]",
        0i32..4,
    )
        .prop_map(
            |(slots, broker, current_lag, intervals, topic, partition)| {
                // Burrow's rings keep empty slots first.
                let mut slots = slots;
                slots.sort_by_key(Option::is_some);
                let offsets = slots.into_iter().map(|s| s.map(|c| point(&c))).collect();
                let w = PartitionWindow {
                    topic,
                    partition,
                    offsets,
                    broker_offsets: broker,
                    current_lag,
                    ..PartitionWindow::default()
                };
                (w, intervals)
            },
        )
}

proptest! {
    #[test]
    fn current_lag_at_or_below_allowed_is_ok(
        (mut w, intervals) in arb_window(), allowed in 0u64..100, now in 0i64..300_000,
    ) {
        w.current_lag = w.current_lag.min(allowed);
        let s = EvaluatorSettings { minimum_complete: 0.0, allowed_lag: allowed, ..EvaluatorSettings::default() };
        prop_assert_eq!(evaluate_partition(&w, intervals, now, &s).status, OK);
        w.current_lag = 0;
        prop_assert_eq!(evaluate_partition(&w, intervals, now, &EvaluatorSettings::default()).status, OK);
    }

    #[test]
    fn reports_are_consistent_with_their_windows(
        (w, intervals) in arb_window(), now in 0i64..300_000, min in 0.0f32..1.2,
    ) {
        let s = EvaluatorSettings { minimum_complete: min, allowed_lag: 0, ..EvaluatorSettings::default() };
        let r = evaluate_partition(&w, intervals, now, &s);
        prop_assert_eq!(r.current_lag, w.current_lag);
        prop_assert!((0.0..=1.0).contains(&r.complete));
        if r.complete < min {
            prop_assert_eq!(r.status, OK);
        }
        prop_assert_eq!(r.start.is_some(), r.end.is_some());
    }

    #[test]
    fn group_aggregates_match_partitions(
        windows in proptest::collection::vec(arb_window(), 0..6), now in 0i64..300_000,
    ) {
        let ws: Vec<PartitionWindow> = windows.iter().map(|(w, _)| w.clone()).collect();
        let g = evaluate_group("c", "g", &ws, 10, now, &EvaluatorSettings::default());
        let worst = g.partitions.iter().map(|p| p.status.group_level()).max().unwrap_or(GroupStatus::Ok);
        prop_assert_eq!(g.status, worst);
        prop_assert!(g.status != GroupStatus::NotFound);
        prop_assert_eq!(g.totallag, g.partitions.iter().map(|p| p.current_lag).sum::<u64>());
        prop_assert_eq!(g.totallag, ws.iter().map(|w| w.current_lag).sum::<u64>());
        prop_assert_eq!(g.partition_count as usize, ws.len());
        let max = g.partitions.iter().map(|p| p.current_lag).max();
        prop_assert_eq!(g.maxlag.as_ref().map(|m| m.current_lag), max);
        prop_assert_eq!(g.worst_partition, g.partitions.iter().map(|p| p.status).max());
    }
}
