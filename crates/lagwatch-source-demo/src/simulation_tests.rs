//! Unit tests of the simulation: determinism, event order and shape, and each group's
//! behaviour expressed directly on offsets (the status-level check against the real model
//! lives in `tests/scenario.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use std::collections::BTreeMap;

const START_MS: i64 = 1_700_000_000_000;
const TICK_MS: i64 = 500;

fn config(seed: u64, partitions: u32) -> DemoSourceConfig {
    DemoSourceConfig {
        seed,
        partitions,
        ..DemoSourceConfig::default()
    }
}

/// Runs `steps` steps of 500 ms and returns each step's events.
fn run(seed: u64, partitions: u32, steps: i64) -> Vec<Vec<Event>> {
    let mut sim = Simulation::new(&config(seed, partitions));
    (0..steps)
        .map(|k| sim.step(START_MS + k * TICK_MS))
        .collect()
}

/// One commit seen in a step, with the lag Burrow would store for it.
#[derive(Debug, Clone, Copy)]
struct SeenCommit {
    step: usize,
    offset: i64,
    lag: i64,
}

/// Commits per (group, topic, partition), with lag against the same step's broker sample.
fn commits_by_lane(steps: &[Vec<Event>]) -> BTreeMap<(String, String, i32), Vec<SeenCommit>> {
    let mut out: BTreeMap<_, Vec<SeenCommit>> = BTreeMap::new();
    let mut high_water: BTreeMap<(String, i32), i64> = BTreeMap::new();
    for (step, events) in steps.iter().enumerate() {
        for event in events {
            match event {
                Event::BrokerOffsets { topic, offsets, .. } => {
                    for o in offsets {
                        high_water.insert((topic.clone(), o.partition), o.high_water);
                    }
                }
                Event::Commit {
                    group,
                    topic,
                    partition,
                    offset,
                    ..
                } => {
                    let hw = high_water[&(topic.clone(), *partition)];
                    out.entry((group.clone(), topic.clone(), *partition))
                        .or_default()
                        .push(SeenCommit {
                            step,
                            offset: *offset,
                            lag: (hw - offset).max(0),
                        });
                }
                _ => {}
            }
        }
    }
    out
}

fn lanes_of<'a>(
    all: &'a BTreeMap<(String, String, i32), Vec<SeenCommit>>,
    group: &str,
) -> Vec<&'a Vec<SeenCommit>> {
    let lanes: Vec<_> = all
        .iter()
        .filter(|((g, _, _), _)| g == group)
        .map(|(_, v)| v)
        .collect();
    assert!(!lanes.is_empty(), "no commits for {group}");
    lanes
}

#[test]
fn same_seed_and_times_give_identical_events() {
    for seed in [1, 42, 7] {
        assert_eq!(run(seed, 3, 40), run(seed, 3, 40), "seed {seed}");
    }
}

#[test]
fn different_seeds_give_different_events() {
    assert_ne!(run(1, 3, 5), run(2, 3, 5));
}

#[test]
fn group_and_topic_tables_are_consistent() {
    assert_eq!(GROUPS.len(), BEHAVIOURS.len());
    for group in GROUPS {
        for topic in group.topics {
            assert!(
                TOPICS.iter().any(|t| t.name == *topic),
                "{} reads unknown topic {topic}",
                group.name
            );
        }
    }
    let statuses: Vec<_> = GROUPS.iter().map(|g| g.demonstrates).collect();
    for status in PartitionStatus::ALL {
        assert!(
            statuses.contains(&status),
            "no group demonstrates {status:?}"
        );
    }
}

#[test]
fn broker_offsets_of_every_topic_come_first_in_every_step() {
    for (k, events) in run(42, 3, 40).iter().enumerate() {
        let topics: Vec<&str> = events
            .iter()
            .take(TOPICS.len())
            .map(|e| match e {
                Event::BrokerOffsets {
                    topic,
                    partition_count,
                    offsets,
                    ..
                } => {
                    assert_eq!(*partition_count, 3);
                    assert_eq!(offsets.len(), 3);
                    topic.as_str()
                }
                other => panic!("step {k}: expected broker offsets first, got {other:?}"),
            })
            .collect();
        assert_eq!(topics, ["orders", "payments", "clicks"], "step {k}");
        assert!(
            events[TOPICS.len()..]
                .iter()
                .all(|e| !matches!(e, Event::BrokerOffsets { .. })),
            "step {k}: broker offsets after other events"
        );
    }
}

#[test]
fn events_carry_the_cluster_and_the_step_time() {
    let cfg = DemoSourceConfig {
        cluster: "sandbox".into(),
        ..config(7, 2)
    };
    let mut sim = Simulation::new(&cfg);
    assert_eq!(sim.cluster(), "sandbox");
    for k in 0..30 {
        let now = START_MS + k * TICK_MS;
        for event in sim.step(now) {
            assert_eq!(event.cluster(), "sandbox");
            match event {
                Event::BrokerOffsets { observed_ms, .. } => assert_eq!(observed_ms, now),
                Event::Commit {
                    timestamp_ms,
                    order,
                    offset,
                    partition,
                    ..
                } => {
                    assert_eq!(timestamp_ms, now);
                    assert_eq!(order, None);
                    assert!(offset >= 0);
                    assert!((0..2).contains(&partition));
                }
                _ => {}
            }
        }
    }
    assert_eq!(sim.steps(), 30);
}

#[test]
fn the_first_step_has_no_commits() {
    let steps = run(1, 3, 2);
    assert!(!steps[0].iter().any(|e| matches!(e, Event::Commit { .. })));
    assert!(steps[1].iter().any(|e| matches!(e, Event::Commit { .. })));
}

#[test]
fn members_join_at_start_and_audit_stopped_leaves() {
    let steps = run(42, 3, 40);
    let mut members: Vec<(usize, String, Vec<MemberAssignment>)> = Vec::new();
    for (k, events) in steps.iter().enumerate() {
        for e in events {
            if let Event::Members {
                group, assignments, ..
            } = e
            {
                members.push((k, group.clone(), assignments.clone()));
            }
        }
    }
    let at_start: Vec<_> = members.iter().filter(|m| m.0 == 0).collect();
    assert_eq!(at_start.len(), GROUPS.len());
    for (_, group, assignments) in &at_start {
        let spec = GROUPS.iter().find(|g| g.name == group).unwrap();
        assert_eq!(assignments.len(), spec.topics.len() * 3, "{group}");
        for a in assignments {
            assert!(a.owner.starts_with("/127.0.0."), "{a:?}");
            assert!(a.client_id.starts_with(&format!("{group}-")), "{a:?}");
        }
        let clients: std::collections::BTreeSet<_> =
            assignments.iter().map(|a| a.client_id.as_str()).collect();
        assert_eq!(clients.len(), 2, "{group} has two consumers");
    }
    let later: Vec<_> = members.iter().filter(|m| m.0 != 0).collect();
    assert_eq!(later.len(), 1, "{later:?}");
    assert_eq!(later[0].0, usize::try_from(STOP_STEP + 1).unwrap());
    assert_eq!(later[0].1, "audit-stopped");
    assert!(later[0].2.is_empty());
}

#[test]
fn one_partition_means_one_consumer() {
    let steps = run(3, 1, 1);
    for e in &steps[0] {
        if let Event::Members { assignments, .. } = e {
            assert!(assignments.iter().all(|a| a.client_id.ends_with("-1")));
        }
    }
}

#[test]
fn zero_partitions_is_treated_as_one() {
    let steps = run(3, 0, 3);
    for e in &steps[2] {
        if let Event::BrokerOffsets {
            partition_count,
            offsets,
            ..
        } = e
        {
            assert_eq!(*partition_count, 1);
            assert_eq!(offsets.len(), 1);
        }
    }
}

#[test]
fn high_water_never_shrinks_and_grows_every_step() {
    // Time going backwards or standing still still produces a little, never less.
    let mut sim = Simulation::new(&config(5, 2));
    let times = [
        START_MS,
        START_MS + 500,
        START_MS + 400,
        START_MS + 400,
        START_MS + 900,
    ];
    let mut previous: BTreeMap<(String, i32), i64> = BTreeMap::new();
    for (k, now) in times.into_iter().enumerate() {
        for e in sim.step(now) {
            if let Event::BrokerOffsets { topic, offsets, .. } = e {
                for o in offsets {
                    let key = (topic.clone(), o.partition);
                    if let Some(before) = previous.get(&key) {
                        assert!(o.high_water > *before, "step {k} {key:?}");
                    }
                    previous.insert(key, o.high_water);
                }
            }
        }
    }
}

#[test]
fn only_clicks_has_a_moving_log_start() {
    let steps = run(42, 3, 200);
    let mut first: BTreeMap<(String, i32), i64> = BTreeMap::new();
    let mut last: BTreeMap<(String, i32), i64> = BTreeMap::new();
    for events in &steps {
        for e in events {
            if let Event::BrokerOffsets { topic, offsets, .. } = e {
                for o in offsets {
                    let start = o.log_start.expect("log start is always known");
                    assert!(0 <= start && start <= o.high_water, "{o:?}");
                    assert_eq!(start % SEGMENT_MESSAGES, 0, "whole segments only");
                    let key = (topic.clone(), o.partition);
                    if let Some(before) = last.get(&key) {
                        assert!(start >= *before, "log start went back: {key:?}");
                    }
                    first.entry(key.clone()).or_insert(start);
                    last.insert(key, start);
                }
            }
        }
    }
    for (key, start) in &last {
        if key.0 == "clicks" {
            assert!(*start > first[key], "{key:?} log start did not move");
        } else {
            assert_eq!(*start, first[key], "{key:?} log start moved");
        }
    }
}

#[test]
fn billing_healthy_moves_forward_and_is_caught_up_often() {
    let all = commits_by_lane(&run(42, 3, 80));
    for lane in lanes_of(&all, "billing-healthy") {
        assert_eq!(lane[0].lag, 0);
        for pair in lane.windows(2) {
            assert!(pair[1].offset > pair[0].offset, "{pair:?}");
        }
        for three in lane.windows(3) {
            assert!(three.iter().any(|c| c.lag == 0), "{three:?}");
        }
        assert!(lane.iter().any(|c| c.lag > 0), "never behind at all");
    }
}

#[test]
fn analytics_slow_lag_grows_at_every_commit() {
    let all = commits_by_lane(&run(7, 3, 80));
    for lane in lanes_of(&all, "analytics-slow") {
        assert_eq!(lane[0].lag, 0);
        for pair in lane.windows(2) {
            assert!(pair[1].lag > pair[0].lag, "{pair:?}");
            assert!(pair[1].offset > pair[0].offset, "{pair:?}");
        }
    }
}

#[test]
fn analytics_slow_eventually_loses_data_to_retention() {
    let steps = run(1, 1, 600);
    let mut log_start = 0;
    let mut skipped = false;
    let mut previous_offset = None;
    for events in &steps {
        for e in events {
            match e {
                Event::BrokerOffsets { topic, offsets, .. } if topic == "clicks" => {
                    log_start = offsets[0].log_start.unwrap();
                }
                Event::Commit { group, offset, .. } if group == "analytics-slow" => {
                    assert!(*offset >= log_start, "committed below the log start");
                    if let Some(before) = previous_offset {
                        skipped |= *offset == log_start && *offset > before;
                    }
                    previous_offset = Some(*offset);
                }
                _ => {}
            }
        }
    }
    assert!(
        skipped,
        "analytics-slow never hit the retention limit in 300 s"
    );
}

#[test]
fn etl_stalled_repeats_one_offset_while_data_arrives() {
    let all = commits_by_lane(&run(1, 3, 40));
    let stall = usize::try_from(STALL_STEP).unwrap();
    for lane in lanes_of(&all, "etl-stalled") {
        assert_eq!(lane.len(), 39, "commits every step but the first");
        let stuck: Vec<_> = lane.iter().filter(|c| c.step >= stall).collect();
        assert_eq!(stuck[0].lag, 0, "caught up when it got stuck");
        for pair in stuck.windows(2) {
            assert_eq!(pair[1].offset, pair[0].offset);
            assert!(pair[1].lag > pair[0].lag);
        }
        assert!(lane.iter().all(|c| c.step >= stall || c.lag == 0));
    }
}

#[test]
fn audit_stopped_commits_then_goes_silent() {
    let all = commits_by_lane(&run(1, 3, 40));
    for lane in lanes_of(&all, "audit-stopped") {
        assert_eq!(lane.len(), usize::try_from(STOP_STEP).unwrap());
        assert_eq!(
            lane.last().unwrap().step,
            usize::try_from(STOP_STEP).unwrap()
        );
        assert!(lane.iter().all(|c| c.lag == 0));
    }
}

#[test]
fn replay_rewind_jumps_back_stays_below_then_recovers() {
    for seed in [1, 42, 7, 99, 2024] {
        let all = commits_by_lane(&run(seed, 3, 120));
        let rewind = usize::try_from(REWIND_STEP).unwrap();
        for lane in lanes_of(&all, "replay-rewind") {
            let before: Vec<_> = lane.iter().filter(|c| c.step < rewind).collect();
            let after: Vec<_> = lane.iter().filter(|c| c.step >= rewind).collect();
            assert!(before.iter().all(|c| c.lag == 0));
            let max_before = before.last().unwrap().offset;
            assert!(after[0].offset < max_before, "seed {seed}: no jump back");
            // Below the old maximum for longer than a window of 10 commits.
            assert!(
                after.iter().take(10).all(|c| c.offset < max_before),
                "seed {seed}: recovered too early"
            );
            // Lag shrinks at every commit after the jump, until it is 0.
            for pair in after.windows(2) {
                assert!(pair[1].lag < pair[0].lag || pair[1].lag == 0, "{pair:?}");
            }
            assert_eq!(after.last().unwrap().lag, 0, "seed {seed}: never caught up");
        }
    }
}

#[test]
fn search_catchup_starts_far_behind_and_reaches_zero_lag() {
    for seed in [1, 42, 7] {
        let all = commits_by_lane(&run(seed, 3, 40));
        for lane in lanes_of(&all, "search-catchup") {
            assert!(lane[0].lag > 5_000, "seed {seed}: {:?}", lane[0]);
            for pair in lane.windows(2) {
                assert!(pair[1].lag < pair[0].lag || pair[1].lag == 0, "{pair:?}");
            }
            let caught_up = lane.iter().find(|c| c.lag == 0).expect("caught up");
            assert!(caught_up.step <= 27, "seed {seed}: {caught_up:?}");
            assert!(lane.iter().skip_while(|c| c.lag > 0).all(|c| c.lag == 0));
        }
    }
}
