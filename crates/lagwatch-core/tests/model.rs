//! The lag model against Burrow's storage rules (burrow.md section 2).

use lagwatch_core::evaluator::EvaluatorSettings;
use lagwatch_core::filter::NameFilter;
use lagwatch_core::model::{Applied, IgnoreKind, IgnoreReason, LagModel, ModelSettings};
use lagwatch_core::time_lag::Confidence;
use lagwatch_core::{
    BrokerOffset, Event, GroupReport, GroupStatus, MemberAssignment, PartitionStatus,
};
use proptest::prelude::*;

const CLUSTER: &str = "local";
const T0: i64 = 1_700_000_000_000;

fn broker(topic: &str, count: u32, offsets: &[(i32, i64)], observed_ms: i64) -> Event {
    Event::BrokerOffsets {
        cluster: CLUSTER.into(),
        topic: topic.into(),
        partition_count: count,
        offsets: offsets
            .iter()
            .map(|&(partition, high_water)| BrokerOffset {
                partition,
                high_water,
                log_start: None,
            })
            .collect(),
        observed_ms,
    }
}

fn commit(
    group: &str,
    topic: &str,
    partition: i32,
    offset: i64,
    ts: i64,
    order: Option<i64>,
) -> Event {
    Event::Commit {
        cluster: CLUSTER.into(),
        group: group.into(),
        topic: topic.into(),
        partition,
        offset,
        timestamp_ms: ts,
        order,
    }
}

fn members(group: &str, assignments: &[(&str, i32, &str, &str)]) -> Event {
    Event::Members {
        cluster: CLUSTER.into(),
        group: group.into(),
        assignments: assignments
            .iter()
            .map(|&(topic, partition, owner, client_id)| MemberAssignment {
                topic: topic.into(),
                partition,
                owner: owner.into(),
                client_id: client_id.into(),
            })
            .collect(),
    }
}

fn health(healthy: bool) -> Event {
    Event::SourceHealth {
        cluster: CLUSTER.into(),
        healthy,
        reason: (!healthy).then(|| "brokers unreachable".to_owned()),
    }
}

fn settings(intervals: usize) -> ModelSettings {
    ModelSettings {
        intervals,
        ..ModelSettings::default()
    }
}

fn eval(model: &mut LagModel, group: &str, now: i64) -> GroupReport {
    model.evaluate_group(CLUSTER, group, now, &EvaluatorSettings::default())
}

fn stored(model: &mut LagModel, event: &Event, now: i64) {
    let applied = model.apply(event, now);
    assert_eq!(applied, Applied::Stored, "{event:?}");
}

fn ignored(model: &mut LagModel, event: &Event, now: i64) -> IgnoreReason {
    match model.apply(event, now) {
        Applied::Ignored(reason) => reason,
        Applied::Stored => panic!("expected {event:?} to be ignored"),
    }
}

/// (offset, timestamp, lag) of the oldest and the newest stored commit of a partition. With
/// a ring of two this is the whole ring (one commit shows up twice).
fn ring(report: &GroupReport, topic: &str, partition: i32) -> Vec<(i64, i64, Option<u64>)> {
    report
        .partitions
        .iter()
        .filter(|p| p.topic == topic && p.partition == partition)
        .flat_map(|p| [p.start, p.end])
        .flatten()
        .map(|o| (o.offset, o.timestamp, o.lag))
        .collect()
}

/// Offsets of the oldest and the newest stored commit of a partition.
fn start_end(report: &GroupReport, topic: &str, partition: i32) -> (Option<i64>, Option<i64>) {
    let p = report
        .partitions
        .iter()
        .find(|p| p.topic == topic && p.partition == partition);
    p.map_or((None, None), |p| {
        (p.start.map(|s| s.offset), p.end.map(|e| e.offset))
    })
}

// ---- drop conditions, in Burrow's order ----

#[test]
fn commits_are_dropped_for_the_documented_reasons_in_order() {
    let mut m = LagModel::new(ModelSettings {
        groups: NameFilter::new(None, Some("^quick-")).unwrap(),
        topics: NameFilter::new(None, Some("^_")).unwrap(),
        expire_group_ms: 3_600_000,
        ..ModelSettings::default()
    });
    let now = T0 + 500;
    let r = ignored(&mut m, &commit("early", "t", 0, 1, T0, Some(1)), now);
    assert_eq!(r.kind(), IgnoreKind::UnknownCluster);
    assert!(r.to_string().contains("\"local\""), "{r}");
    assert!(m.groups("local").is_empty());

    // Unlike Burrow, the early commit was kept: the topic's first broker offsets store it.
    stored(&mut m, &broker("t", 2, &[(0, 100)], T0), now);
    assert_eq!(m.groups("local"), vec!["early".to_owned()]);
    // Old: the cutoff is whole seconds of now minus expire-group; an old commit of a filtered
    // group is reported old, because that check comes first.
    let cutoff = T0 - 3_600_000;
    let r = ignored(
        &mut m,
        &commit("quick-1", "t", 0, 1, cutoff - 1, Some(1)),
        now,
    );
    assert_eq!(r.kind(), IgnoreKind::OldCommit);
    assert!(r.to_string().contains(&cutoff.to_string()), "{r}");
    assert_eq!(
        m.apply(&commit("g", "t", 0, 1, cutoff, Some(1)), now),
        Applied::Stored
    );

    let r = ignored(
        &mut m,
        &commit("quick-1", "_internal", 0, 1, T0, Some(2)),
        now,
    );
    assert_eq!(r.kind(), IgnoreKind::GroupFiltered);
    let r = ignored(&mut m, &commit("g", "_internal", 0, 1, T0, Some(2)), now);
    assert_eq!(r.kind(), IgnoreKind::TopicFiltered);
    let r = ignored(&mut m, &commit("g", "other", 0, 1, T0, Some(2)), now);
    assert_eq!(r.kind(), IgnoreKind::UnknownTopic);
    let r = ignored(&mut m, &commit("g", "t", -1, 1, T0, Some(2)), now);
    assert_eq!(r.kind(), IgnoreKind::PartitionOutOfRange);
    let r = ignored(&mut m, &commit("g", "t", 2, 1, T0, Some(2)), now);
    assert_eq!(r.kind(), IgnoreKind::PartitionOutOfRange);
    assert!(r.to_string().contains("2 partitions"), "{r}");
    let r = ignored(&mut m, &commit("g", "t", 1, 1, T0, Some(2)), now);
    assert_eq!(r.kind(), IgnoreKind::NoBrokerSample);
    assert!(r.to_string().contains("t/1"), "{r}");

    let stats = m.stats();
    assert_eq!(stats.ignored_total(), 8);
    assert_eq!(
        stats.ignored.get(&IgnoreKind::PartitionOutOfRange),
        Some(&2)
    );
    // The early commit (replayed) and the one at the cutoff.
    assert_eq!(stats.commits_accepted, 2);
    assert_eq!(stats.stored_commits, 2);
}

#[test]
fn broker_offsets_of_filtered_topics_and_bad_partitions() {
    let mut m = LagModel::new(ModelSettings {
        topics: NameFilter::new(Some("^keep"), None).unwrap(),
        ..ModelSettings::default()
    });
    let r = ignored(&mut m, &broker("drop", 1, &[(0, 1)], T0), T0);
    assert_eq!(r.kind(), IgnoreKind::TopicFiltered);
    // The cluster became known all the same.
    assert_eq!(m.clusters(), vec![CLUSTER.to_owned()]);
    assert!(m.topics(CLUSTER).is_empty());
    let r = ignored(&mut m, &broker("keep", 1, &[(1, 1), (-1, 1)], T0), T0);
    assert_eq!(r.kind(), IgnoreKind::PartitionOutOfRange);
    stored(&mut m, &broker("keep", 1, &[(0, 5), (3, 1)], T0), T0);
    assert_eq!(m.stats().entries_ignored, 1);
    assert_eq!(m.topics(CLUSTER), vec!["keep".to_owned()]);
}

// ---- partition counts ----

#[test]
fn partition_lists_grow_like_burrow() {
    let mut m = LagModel::new(settings(10));
    let now = T0;
    stored(&mut m, &broker("t", 2, &[(0, 10), (1, 10)], now), now);
    stored(&mut m, &commit("g", "t", 0, 5, now, Some(1)), now);
    let g = eval(&mut m, "g", now);
    assert_eq!(
        g.partition_count, 2,
        "the group gets every partition of the topic"
    );
    let p1 = &g.partitions[1];
    assert_eq!((p1.complete, p1.start, p1.current_lag), (0.0, None, 0));

    // The topic grows to 4; the group only grows when a commit names a partition beyond its
    // list.
    stored(
        &mut m,
        &broker("t", 4, &[(0, 20), (1, 20), (2, 20), (3, 20)], now),
        now,
    );
    stored(&mut m, &commit("g", "t", 0, 6, now, Some(2)), now);
    assert_eq!(eval(&mut m, "g", now).partition_count, 2);
    stored(&mut m, &commit("g", "t", 3, 6, now, Some(3)), now);
    assert_eq!(eval(&mut m, "g", now).partition_count, 4);
    // A smaller count never shrinks the broker list.
    stored(&mut m, &broker("t", 1, &[(3, 30)], now), now);
    let snap = m.snapshot(now, &EvaluatorSettings::default(), 1);
    assert_eq!(
        snap.topics[0].high_water,
        vec![Some(20), Some(20), Some(20), Some(30)]
    );
}

// ---- how one commit is stored ----

#[test]
fn lag_is_frozen_at_commit_and_current_lag_follows_the_broker() {
    let mut m = LagModel::new(settings(10));
    stored(&mut m, &broker("t", 1, &[(0, 100)], T0), T0);
    stored(&mut m, &commit("g", "t", 0, 40, T0, Some(1)), T0 + 1_700);
    stored(
        &mut m,
        &broker("t", 1, &[(0, 250)], T0 + 10_000),
        T0 + 10_000,
    );
    let g = eval(&mut m, "g", T0 + 10_000);
    let p = &g.partitions[0];
    let end = p.end.unwrap();
    assert_eq!(
        end.lag,
        Some(60),
        "frozen at the broker sample known at commit time"
    );
    assert_eq!(
        end.observed_at,
        T0 + 1_000,
        "observedAt is whole seconds of the model clock"
    );
    assert_eq!(p.current_lag, 210);
    // A commit ahead of the newest broker sample has lag 0, and so has the partition.
    stored(
        &mut m,
        &commit("g", "t", 0, 300, T0 + 11_000, Some(2)),
        T0 + 11_000,
    );
    let g = eval(&mut m, "g", T0 + 11_000);
    assert_eq!(g.partitions[0].end.unwrap().lag, Some(0));
    assert_eq!(g.partitions[0].current_lag, 0);
}

#[test]
fn out_of_order_commits_are_placed_by_order() {
    let mut m = LagModel::new(settings(3));
    stored(&mut m, &broker("t", 1, &[(0, 1000)], T0), T0);
    // Not full: 20 and 30 stored, then 10 goes in front with an unknown lag.
    stored(&mut m, &commit("g", "t", 0, 200, T0 + 2_000, Some(20)), T0);
    stored(&mut m, &commit("g", "t", 0, 300, T0 + 3_000, Some(30)), T0);
    stored(&mut m, &commit("g", "t", 0, 100, T0 + 1_000, Some(10)), T0);
    let g = eval(&mut m, "g", T0 + 3_000);
    let p = &g.partitions[0];
    assert_eq!(p.start.map(|s| (s.offset, s.lag)), Some((100, None)));
    assert_eq!(p.end.map(|s| (s.offset, s.lag)), Some((300, Some(700))));
    assert_eq!(p.complete, 1.0);

    // Full: older than the oldest (or equal to it) is a backfill commit.
    let r = ignored(&mut m, &commit("g", "t", 0, 50, T0, Some(5)), T0);
    assert_eq!(r.kind(), IgnoreKind::BackfillFull);
    assert!(r.to_string().contains("oldest commit has order 10"), "{r}");
    let r = ignored(&mut m, &commit("g", "t", 0, 50, T0, Some(10)), T0);
    assert_eq!(r.kind(), IgnoreKind::BackfillFull);
    let r = ignored(&mut m, &commit("g", "t", 0, 50, T0, Some(20)), T0);
    assert_eq!(r.kind(), IgnoreKind::DuplicateOrder);
    let r = ignored(&mut m, &commit("g", "t", 0, 50, T0, Some(30)), T0);
    assert_eq!(r.kind(), IgnoreKind::DuplicateOrder);

    // Full, between 10 and 20: replaces the oldest. Between 20 and 30: the oldest falls out.
    stored(&mut m, &commit("g", "t", 0, 150, T0 + 1_500, Some(15)), T0);
    assert_eq!(
        start_end(&eval(&mut m, "g", T0 + 3_000), "t", 0),
        (Some(150), Some(300))
    );
    stored(&mut m, &commit("g", "t", 0, 250, T0 + 2_500, Some(25)), T0);
    assert_eq!(
        start_end(&eval(&mut m, "g", T0 + 3_000), "t", 0),
        (Some(200), Some(300))
    );
    // Appending still works, and drops the oldest.
    stored(&mut m, &commit("g", "t", 0, 400, T0 + 4_000, Some(40)), T0);
    assert_eq!(
        start_end(&eval(&mut m, "g", T0 + 4_000), "t", 0),
        (Some(250), Some(400))
    );
}

#[test]
fn commits_without_order_are_appended_in_arrival_order() {
    let mut m = LagModel::new(settings(2));
    stored(&mut m, &broker("t", 1, &[(0, 1000)], T0), T0);
    stored(&mut m, &commit("g", "t", 0, 500, T0 + 5_000, None), T0);
    // Older timestamp and offset, but it arrived later: it is the newest.
    stored(&mut m, &commit("g", "t", 0, 400, T0 + 9_000, None), T0);
    stored(&mut m, &commit("g", "t", 0, 450, T0 + 10_000, None), T0);
    let g = eval(&mut m, "g", T0 + 10_000);
    assert_eq!(
        ring(&g, "t", 0),
        vec![(400, T0 + 9_000, Some(600)), (450, T0 + 10_000, Some(550))]
    );
}

#[test]
fn min_distance_merges_into_the_previous_slot_keeping_its_timestamp() {
    let mut m = LagModel::new(ModelSettings {
        intervals: 2,
        min_distance_ms: 10_000,
        ..ModelSettings::default()
    });
    stored(&mut m, &broker("t", 1, &[(0, 1000)], T0), T0);
    stored(&mut m, &commit("g", "t", 0, 100, T0, Some(1)), T0);
    stored(&mut m, &commit("g", "t", 0, 110, T0 + 5_000, Some(2)), T0);
    let g = eval(&mut m, "g", T0 + 5_000);
    // One slot: the new offset and lag, the first timestamp.
    assert_eq!(
        ring(&g, "t", 0),
        vec![(110, T0, Some(890)), (110, T0, Some(890))]
    );
    assert_eq!(g.partitions[0].complete, 0.5);
    stored(&mut m, &commit("g", "t", 0, 120, T0 + 9_999, Some(3)), T0);
    stored(&mut m, &commit("g", "t", 0, 130, T0 + 10_000, Some(4)), T0);
    let g = eval(&mut m, "g", T0 + 10_000);
    assert_eq!(
        ring(&g, "t", 0),
        vec![(120, T0, Some(880)), (130, T0 + 10_000, Some(870))]
    );
    assert_eq!(g.partitions[0].complete, 1.0);
    assert_eq!(m.stats().commits_accepted, 4);
    assert_eq!(m.stats().stored_commits, 2);
}

#[test]
fn min_distance_zero_still_merges_a_commit_with_an_earlier_timestamp() {
    // Burrow compares `new - previous < min-distance`, so with 0 a newer commit (by order)
    // whose timestamp is earlier replaces the previous slot.
    let mut m = LagModel::new(settings(3));
    stored(&mut m, &broker("t", 1, &[(0, 1000)], T0), T0);
    stored(&mut m, &commit("g", "t", 0, 100, T0 + 5_000, Some(1)), T0);
    stored(&mut m, &commit("g", "t", 0, 200, T0 + 4_000, Some(2)), T0);
    let g = eval(&mut m, "g", T0 + 5_000);
    assert_eq!(
        ring(&g, "t", 0),
        vec![(200, T0 + 5_000, Some(800)), (200, T0 + 5_000, Some(800))]
    );
    assert_eq!(g.partitions[0].complete, 1.0 / 3.0);
}

#[test]
fn inserted_commits_merge_with_their_predecessor_but_never_become_merged_oldest() {
    let mut m = LagModel::new(ModelSettings {
        intervals: 4,
        min_distance_ms: 10_000,
        ..ModelSettings::default()
    });
    stored(&mut m, &broker("t", 1, &[(0, 1000)], T0), T0);
    stored(&mut m, &commit("g", "t", 0, 100, T0, Some(10)), T0);
    stored(&mut m, &commit("g", "t", 0, 300, T0 + 60_000, Some(30)), T0);
    // Order 20, 5 s after order 10: replaces order 10's slot (timestamp kept, lag unknown).
    stored(&mut m, &commit("g", "t", 0, 200, T0 + 5_000, Some(20)), T0);
    let g = eval(&mut m, "g", T0 + 60_000);
    assert_eq!(
        ring(&g, "t", 0),
        vec![(200, T0, None), (300, T0 + 60_000, Some(700))]
    );
    assert_eq!(g.partitions[0].complete, 0.5);
    // Order 5 goes in front without merging, though it is close to the next one.
    stored(&mut m, &commit("g", "t", 0, 50, T0 - 1_000, Some(5)), T0);
    let g = eval(&mut m, "g", T0 + 60_000);
    assert_eq!(
        g.partitions[0].start.map(|s| (s.offset, s.timestamp)),
        Some((50, T0 - 1_000))
    );
    assert_eq!(g.partitions[0].complete, 0.75);
}

// ---- reading: expiry ----

#[test]
fn groups_expire_lazily_on_read() {
    let mut m = LagModel::new(ModelSettings {
        expire_group_ms: 60_000,
        ..ModelSettings::default()
    });
    stored(&mut m, &broker("t", 1, &[(0, 10)], T0), T0);
    stored(&mut m, &commit("g", "t", 0, 5, T0, Some(1)), T0);
    // An inserted (older-order) commit does not move the group's last commit.
    stored(
        &mut m,
        &commit("g", "t", 0, 4, T0 + 30_000, Some(0)),
        T0 + 30_000,
    );
    let later = T0 + 60_999; // whole seconds: T0 + 60 s, not beyond the limit
    assert_ne!(eval(&mut m, "g", later).status, GroupStatus::NotFound);
    let expired = T0 + 61_000;
    assert_eq!(
        m.groups(CLUSTER),
        vec!["g".to_owned()],
        "still listed until read"
    );
    assert_eq!(eval(&mut m, "g", expired).status, GroupStatus::NotFound);
    assert!(m.groups(CLUSTER).is_empty());
    assert_eq!(
        eval(&mut m, "nosuchgroup", expired).status,
        GroupStatus::NotFound
    );
    let unknown = m.evaluate_group("nosuchcluster", "g", expired, &EvaluatorSettings::default());
    assert_eq!(
        unknown,
        GroupReport::not_found("nosuchcluster", "g", expired)
    );
}

#[test]
fn snapshot_is_sorted_and_drops_expired_groups() {
    let mut m = LagModel::new(ModelSettings {
        expire_group_ms: 60_000,
        ..ModelSettings::default()
    });
    for cluster in ["zeta", "alpha"] {
        let mut e = broker("t2", 2, &[(1, 7)], T0);
        if let Event::BrokerOffsets { cluster: c, .. } = &mut e {
            *c = cluster.into();
        }
        stored(&mut m, &e, T0);
        let mut e = broker("t1", 1, &[(0, 9)], T0);
        if let Event::BrokerOffsets { cluster: c, .. } = &mut e {
            *c = cluster.into();
        }
        stored(&mut m, &e, T0);
        for (group, ts) in [("b", T0 + 50_000), ("a", T0), ("c", T0 + 50_000)] {
            let mut e = commit(group, "t1", 0, 1, ts, None);
            if let Event::Commit { cluster: c, .. } = &mut e {
                *c = cluster.into();
            }
            stored(&mut m, &e, T0);
        }
    }
    let snap = m.snapshot(T0 + 90_000, &EvaluatorSettings::default(), 7);
    assert_eq!((snap.at_ms, snap.cycle), (T0 + 90_000, 7));
    let groups: Vec<(&str, &str)> = snap
        .groups
        .iter()
        .map(|g| (g.cluster.as_str(), g.group.as_str()))
        .collect();
    assert_eq!(
        groups,
        vec![("alpha", "b"), ("alpha", "c"), ("zeta", "b"), ("zeta", "c")]
    );
    let topics: Vec<(&str, &str)> = snap
        .topics
        .iter()
        .map(|t| (t.cluster.as_str(), t.topic.as_str()))
        .collect();
    assert_eq!(
        topics,
        vec![
            ("alpha", "t1"),
            ("alpha", "t2"),
            ("zeta", "t1"),
            ("zeta", "t2")
        ]
    );
    assert_eq!(snap.topics[1].high_water, vec![None, Some(7)]);
    assert_eq!(m.stats().groups, 4);
}

// ---- deletions ----

#[test]
fn topic_and_group_deletion() {
    let mut m = LagModel::new(settings(10));
    stored(&mut m, &broker("t", 1, &[(0, 10)], T0), T0);
    stored(&mut m, &broker("u", 1, &[(0, 10)], T0), T0);
    stored(&mut m, &commit("g", "t", 0, 5, T0, Some(1)), T0);
    stored(&mut m, &commit("g", "u", 0, 5, T0, Some(2)), T0);
    stored(&mut m, &commit("h", "t", 0, 5, T0, Some(1)), T0);
    let delete_t = Event::TopicDeleted {
        cluster: CLUSTER.into(),
        topic: "t".into(),
    };
    stored(&mut m, &delete_t, T0);
    assert_eq!(m.topics(CLUSTER), vec!["u".to_owned()]);
    let g = eval(&mut m, "g", T0);
    assert_eq!(
        g.partitions
            .iter()
            .map(|p| p.topic.as_str())
            .collect::<Vec<_>>(),
        vec!["u"]
    );
    // A group left without topics stays, OK with nothing in it (Burrow's TopicDeleted test).
    let h = eval(&mut m, "h", T0);
    assert_eq!(
        (h.status, h.complete, h.partition_count, h.totallag),
        (GroupStatus::Ok, 0.0, 0, 0)
    );
    assert!(h.partitions.is_empty() && h.maxlag.is_none());
    // Commits for the deleted topic are dropped until it has broker offsets again.
    assert_eq!(
        ignored(&mut m, &commit("g", "t", 0, 6, T0, Some(3)), T0).kind(),
        IgnoreKind::UnknownTopic
    );
    assert_eq!(
        ignored(&mut m, &delete_t, T0).kind(),
        IgnoreKind::UnknownTopic
    );

    let delete_g = Event::GroupDeleted {
        cluster: CLUSTER.into(),
        group: "g".into(),
    };
    stored(&mut m, &delete_g, T0);
    assert_eq!(eval(&mut m, "g", T0).status, GroupStatus::NotFound);
    assert_eq!(
        ignored(&mut m, &delete_g, T0).kind(),
        IgnoreKind::UnknownGroup
    );
    assert_eq!(m.groups(CLUSTER), vec!["h".to_owned()]);
}

// ---- owners ----

#[test]
fn members_set_and_clear_owners() {
    let mut m = LagModel::new(settings(10));
    stored(&mut m, &broker("t", 3, &[(0, 10), (1, 10)], T0), T0);
    // No broker data for the topic: nothing is created.
    let r = ignored(
        &mut m,
        &members("g", &[("other", 0, "/10.0.0.1", "c1")]),
        T0,
    );
    assert_eq!(r.kind(), IgnoreKind::UnknownTopic);
    assert!(m.groups(CLUSTER).is_empty());
    // Partition 2 has no broker sample: that assignment is skipped, the rest applies.
    stored(
        &mut m,
        &members(
            "g",
            &[("t", 0, "/10.0.0.1", "c1"), ("t", 2, "/10.0.0.2", "c2")],
        ),
        T0,
    );
    assert_eq!(m.stats().entries_ignored, 1);
    let g = eval(&mut m, "g", T0);
    assert_eq!(g.partition_count, 3);
    let p0 = &g.partitions[0];
    assert_eq!(
        (p0.owner.as_str(), p0.client_id.as_str()),
        ("/10.0.0.1", "c1")
    );
    // Naming an owner gives the partition an empty ring: Burrow's all-empty edge case.
    assert_eq!(
        (p0.status, p0.complete, p0.start),
        (PartitionStatus::Ok, 0.1, None)
    );
    assert_eq!(g.partitions[1].complete, 0.0);

    // A new assignment list only touches the partitions it names.
    stored(&mut m, &members("g", &[("t", 1, "/10.0.0.3", "c3")]), T0);
    let g = eval(&mut m, "g", T0);
    assert_eq!(g.partitions[0].owner, "/10.0.0.1");
    assert_eq!(g.partitions[1].client_id, "c3");
    // An empty list clears every owner.
    stored(&mut m, &members("g", &[]), T0);
    let g = eval(&mut m, "g", T0);
    assert!(
        g.partitions
            .iter()
            .all(|p| p.owner.is_empty() && p.client_id.is_empty())
    );
    assert_eq!(
        ignored(&mut m, &members("nobody", &[]), T0).kind(),
        IgnoreKind::UnknownGroup
    );
}

#[test]
fn a_group_created_by_members_expires_from_its_creation() {
    let mut m = LagModel::new(ModelSettings {
        expire_group_ms: 60_000,
        ..ModelSettings::default()
    });
    stored(&mut m, &broker("t", 1, &[(0, 10)], T0), T0);
    stored(&mut m, &members("g", &[("t", 0, "/h", "c")]), T0);
    assert_eq!(eval(&mut m, "g", T0 + 60_000).status, GroupStatus::Ok);
    assert_eq!(eval(&mut m, "g", T0 + 61_000).status, GroupStatus::NotFound);
}

// ---- staleness ----

#[test]
fn stale_clusters_never_raise_new_alarms() {
    let mut m = LagModel::new(settings(10));
    stored(&mut m, &broker("t", 2, &[(0, 1000), (1, 2000)], T0), T0);
    // Partition 0: one old commit -> STOP. Partition 1: commits advance, lag shrinks -> OK.
    stored(&mut m, &commit("g", "t", 0, 500, T0, Some(1)), T0);
    for i in 0..3 {
        stored(
            &mut m,
            &commit("g", "t", 1, 1000 + i, T0 + 10_000 * i, Some(10 + i)),
            T0,
        );
    }
    let before = eval(&mut m, "g", T0 + 20_000);
    assert_eq!(before.partitions[0].status, PartitionStatus::Stop);
    assert_eq!(before.partitions[1].status, PartitionStatus::Ok);
    assert!(!before.stale);

    stored(&mut m, &health(false), T0 + 21_000);
    assert!(m.is_stale(CLUSTER));
    // Much later partition 1 would be STOP too (no commit for 580 s); while stale it keeps its
    // OK, and partition 0 keeps its STOP.
    let during = eval(&mut m, "g", T0 + 600_000);
    assert!(during.stale);
    assert!(during.partitions.iter().all(|p| p.extras.stale));
    assert_eq!(during.partitions[0].status, PartitionStatus::Stop);
    assert_eq!(during.partitions[1].status, PartitionStatus::Ok);
    assert_eq!(during.status, GroupStatus::Err);
    assert_eq!(m.stats().stale_clusters, 1);

    stored(&mut m, &health(true), T0 + 600_000);
    let after = eval(&mut m, "g", T0 + 600_000);
    assert!(!after.stale);
    assert_eq!(after.partitions[1].status, PartitionStatus::Stop);
}

#[test]
fn a_group_first_seen_while_stale_is_ok() {
    let mut m = LagModel::new(settings(10));
    stored(&mut m, &health(false), T0);
    stored(&mut m, &broker("t", 1, &[(0, 1000)], T0), T0);
    stored(&mut m, &commit("g", "t", 0, 500, T0, Some(1)), T0);
    let g = eval(&mut m, "g", T0 + 600_000);
    assert_eq!((g.status, g.stale), (GroupStatus::Ok, true));
    assert_eq!(g.partitions[0].current_lag, 500);
}

// ---- extras ----

#[test]
fn partition_extras_are_filled() {
    let mut m = LagModel::new(settings(10));
    for (i, hw) in [100, 200, 300].iter().enumerate() {
        let e = Event::BrokerOffsets {
            cluster: CLUSTER.into(),
            topic: "t".into(),
            partition_count: 2,
            offsets: vec![BrokerOffset {
                partition: 0,
                high_water: *hw,
                log_start: (i < 2).then_some(10 * i as i64),
            }],
            observed_ms: T0 + 10_000 * i as i64,
        };
        stored(&mut m, &e, T0);
    }
    stored(
        &mut m,
        &commit("g", "t", 0, 150, T0 + 20_000, Some(1)),
        T0 + 20_000,
    );
    let g = eval(&mut m, "g", T0 + 25_000);
    let x = &g.partitions[0].extras;
    assert_eq!(x.log_end_offset, Some(300));
    assert_eq!(x.log_start_offset, Some(10), "newest known log start");
    assert_eq!(x.broker_sample_age_ms, Some(5_000));
    let t = x.time_lag.unwrap();
    // 150 was passed halfway between 100 (T0) and 200 (T0 + 10 s): 20 s before now.
    assert_eq!((t.seconds, t.confidence), (20.0, Confidence::Interpolated));
    assert!(!x.stale);
    // The never-committed partition has no time lag and no broker data.
    let x1 = &g.partitions[1].extras;
    assert_eq!(
        (x1.time_lag, x1.log_end_offset, x1.broker_sample_age_ms),
        (None, None, None)
    );
}

#[test]
fn broker_history_is_bounded_and_only_intervals_samples_count_for_recent_zero() {
    let mut m = LagModel::new(ModelSettings {
        intervals: 3,
        broker_history: 5,
        ..ModelSettings::default()
    });
    // The consumer commits 500 once; the broker was at 500 four samples ago.
    stored(&mut m, &broker("t", 1, &[(0, 500)], T0), T0);
    stored(&mut m, &commit("g", "t", 0, 500, T0, Some(1)), T0);
    for (i, hw) in [600, 700, 800].iter().enumerate() {
        stored(
            &mut m,
            &broker("t", 1, &[(0, *hw)], T0 + 1_000 * (i as i64 + 1)),
            T0,
        );
    }
    // Samples 500, 600, 700, 800; the newest 3 are all above 500 -> STOP.
    assert_eq!(
        eval(&mut m, "g", T0 + 5_000).partitions[0].status,
        PartitionStatus::Stop
    );
    for i in 0..10 {
        stored(
            &mut m,
            &broker("t", 1, &[(0, 900 + i)], T0 + 10_000 + i),
            T0,
        );
    }
    let t = eval(&mut m, "g", T0 + 20_000).partitions[0]
        .extras
        .time_lag
        .unwrap();
    // 500 is older than all five kept samples (904..909): extrapolated.
    assert_eq!(t.confidence, Confidence::Extrapolated);
}

// ---- Burrow's storage fixture (burrow.md 1.8.2) through the model ----

#[test]
fn burrow_group_fixture_through_the_model() {
    let start = T0;
    let now = start + 100_000;
    let mut m = LagModel::new(ModelSettings {
        intervals: 10,
        min_distance_ms: 0,
        ..ModelSettings::default()
    });
    let e = Event::BrokerOffsets {
        cluster: "testcluster".into(),
        topic: "testtopic".into(),
        partition_count: 1,
        offsets: vec![BrokerOffset {
            partition: 0,
            high_water: 4321,
            log_start: None,
        }],
        observed_ms: 9876,
    };
    assert_eq!(m.apply(&e, start), Applied::Stored);
    for (group, n) in [("testgroup", 10), ("testgroup2", 5)] {
        for i in 0..n {
            let e = Event::Commit {
                cluster: "testcluster".into(),
                group: group.into(),
                topic: "testtopic".into(),
                partition: 0,
                offset: 1000 + 100 * i,
                timestamp_ms: start + 10_000 * i,
                order: Some(10 + i),
            };
            assert_eq!(m.apply(&e, start), Applied::Stored);
        }
    }
    let s = EvaluatorSettings::default();
    assert_eq!(
        m.evaluate_group("testcluster", "nosuchgroup", now, &s)
            .status,
        GroupStatus::NotFound
    );

    let g = m.evaluate_group("testcluster", "testgroup", now, &s);
    assert_eq!(
        (g.status, g.complete, g.partition_count, g.totallag),
        (GroupStatus::Ok, 1.0, 1, 2421)
    );
    assert_eq!(g.partitions.len(), 1);
    assert!(g.only_problems().partitions.is_empty());
    let lags: Vec<Option<u64>> = [g.partitions[0].start, g.partitions[0].end]
        .iter()
        .map(|o| o.and_then(|o| o.lag))
        .collect();
    assert_eq!(lags, vec![Some(3321), Some(2421)]);

    let g = m.evaluate_group("testcluster", "testgroup2", now, &s);
    assert_eq!(
        (g.status, g.complete, g.partition_count, g.totallag),
        (GroupStatus::Err, 0.0, 1, 2921)
    );
    let p = &g.only_problems().partitions[0];
    assert_eq!((p.status, p.complete), (PartitionStatus::Stop, 0.5));
    let maxlag = g
        .maxlag
        .as_ref()
        .map(|m| (m.start.map(|s| s.offset), m.end.map(|e| e.offset)));
    assert_eq!(maxlag, Some((Some(1000), Some(1400))));

    let delete = Event::TopicDeleted {
        cluster: "testcluster".into(),
        topic: "testtopic".into(),
    };
    assert_eq!(m.apply(&delete, now), Applied::Stored);
    let g = m.evaluate_group("testcluster", "testgroup", now, &s);
    assert_eq!((g.status, g.complete), (GroupStatus::Ok, 0.0));
    assert!(g.partitions.is_empty());
}

// ---- invariants ----

#[derive(Debug, Clone)]
enum Op {
    Broker(i32, i64),
    Commit(i32, i64, Option<i64>, i64),
    Advance(i64),
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0i32..3, 0i64..1_000).prop_map(|(p, hw)| Op::Broker(p, hw)),
        (
            -1i32..4,
            0i64..1_200,
            proptest::option::of(0i64..30),
            -5_000i64..5_000
        )
            .prop_map(|(p, o, order, dt)| Op::Commit(p, o, order, dt)),
        (0i64..20_000).prop_map(Op::Advance),
    ]
}

proptest! {
    #[test]
    fn model_invariants_hold_for_any_event_sequence(
        ops in proptest::collection::vec(arb_op(), 1..80),
        intervals in 1usize..6,
        min_distance in 0i64..3_000,
    ) {
        let mut m = LagModel::new(ModelSettings {
            intervals,
            min_distance_ms: min_distance,
            broker_history: intervals + 2,
            ..ModelSettings::default()
        });
        let mut now = T0;
        let mut newest_hw = [None::<i64>; 3];
        for op in &ops {
            match *op {
                Op::Broker(p, hw) => {
                    m.apply(&broker("t", 3, &[(p, hw)], now), now);
                    newest_hw[p as usize] = Some(hw);
                }
                Op::Commit(p, offset, order, dt) => {
                    m.apply(&commit("g", "t", p, offset, now + dt, order), now);
                }
                Op::Advance(dt) => now += dt,
            }
            let stats = m.stats();
            prop_assert!(stats.stored_commits <= stats.partitions * intervals);
        }
        let g = eval(&mut m, "g", now);
        if g.status == GroupStatus::NotFound {
            return Ok(());
        }
        for p in &g.partitions {
            let expected = match (p.end, newest_hw[p.partition as usize]) {
                (Some(end), Some(hw)) => (hw - end.offset).max(0) as u64,
                _ => 0,
            };
            prop_assert_eq!(p.current_lag, expected);
            if p.current_lag == 0 {
                prop_assert_eq!(p.status, PartitionStatus::Ok);
            }
            if let Some(t) = p.extras.time_lag {
                prop_assert!(t.seconds.is_finite() && t.seconds >= 0.0);
            }
        }
        prop_assert_eq!(g.totallag, g.partitions.iter().map(|p| p.current_lag).sum::<u64>());
    }
}

// ---- stats ----

/// A verdict of the kind a Burrow source sends (`Event::GroupVerdict`).
fn verdict(cluster: &str, group: &str, status: GroupStatus) -> Event {
    let mut report = GroupReport::not_found(cluster, group, T0);
    report.status = status;
    Event::GroupVerdict {
        cluster: cluster.into(),
        group: group.into(),
        report: Box::new(report),
    }
}

#[test]
fn stats_count_each_group_once_whether_known_by_data_a_verdict_or_both() {
    let mut m = LagModel::new(settings(3));
    stored(&mut m, &broker("t", 1, &[(0, 100)], T0), T0);
    // "data": commits only; "both": commits and a verdict; "verdict": a verdict only.
    stored(&mut m, &commit("data", "t", 0, 10, T0, None), T0);
    stored(&mut m, &commit("both", "t", 0, 20, T0, None), T0);
    stored(&mut m, &verdict(CLUSTER, "both", GroupStatus::Ok), T0);
    stored(&mut m, &verdict(CLUSTER, "verdict", GroupStatus::Warn), T0);
    // The same group name in a cluster known only through a verdict is another group.
    stored(&mut m, &verdict("other", "verdict", GroupStatus::Ok), T0);
    let stats = m.stats();
    assert_eq!(stats.clusters, 2);
    assert_eq!(stats.groups, 4);
    assert_eq!(stats.partitions, 2);
    assert_eq!(stats.stored_commits, 2);

    // A NOTFOUND verdict removes the verdict; the group with data stays counted once.
    let gone = verdict(CLUSTER, "both", GroupStatus::NotFound);
    stored(&mut m, &gone, T0 + 1_000);
    assert_eq!(m.stats().groups, 4);
    let deleted = Event::GroupDeleted {
        cluster: CLUSTER.into(),
        group: "verdict".into(),
    };
    stored(&mut m, &deleted, T0 + 2_000);
    assert_eq!(m.stats().groups, 3);
}
