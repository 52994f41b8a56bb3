//! Warm-up flags and saving / restoring the model's windows across a restart.

use lagwatch_core::evaluator::EvaluatorSettings;
use lagwatch_core::filter::NameFilter;
use lagwatch_core::model::{LagModel, ModelSettings, ModelState, STATE_VERSION, StateError};
use lagwatch_core::{BrokerOffset, Event, GroupReport, GroupStatus, PartitionStatus};

const CLUSTER: &str = "local";
const T0: i64 = 1_700_000_000_000;

fn broker(topic: &str, offsets: &[(i32, i64)], observed_ms: i64) -> Event {
    Event::BrokerOffsets {
        cluster: CLUSTER.into(),
        topic: topic.into(),
        partition_count: u32::try_from(offsets.len()).unwrap_or(0),
        offsets: offsets
            .iter()
            .map(|&(partition, high_water)| BrokerOffset {
                partition,
                high_water,
                log_start: Some(0),
            })
            .collect(),
        observed_ms,
    }
}

fn commit(group: &str, topic: &str, partition: i32, offset: i64, ts: i64) -> Event {
    Event::Commit {
        cluster: CLUSTER.into(),
        group: group.into(),
        topic: topic.into(),
        partition,
        offset,
        timestamp_ms: ts,
        order: None,
    }
}

fn settings(intervals: usize) -> ModelSettings {
    ModelSettings {
        intervals,
        ..ModelSettings::default()
    }
}

fn evaluate(model: &mut LagModel, group: &str, at: i64) -> GroupReport {
    model.evaluate_group(CLUSTER, group, at, &EvaluatorSettings::default())
}

/// A healthy group: the producer writes 100 messages per 5 s, the group commits every 5 s
/// with a lag of about 100 (100 or 110: under Burrow's rules a lag that never decreases is
/// WARN), `n` times.
fn healthy(model: &mut LagModel, group: &str, n: i64) -> i64 {
    let mut t = T0;
    for i in 0..n {
        let end = 1_000 + i * 100;
        let lag = 100 + (i % 2) * 10;
        model.apply(&broker("orders", &[(0, end), (1, end)], t), t);
        model.apply(&commit(group, "orders", 0, end - lag, t), t);
        model.apply(&commit(group, "orders", 1, end - lag, t), t);
        t += 5_000;
    }
    t
}

#[test]
fn a_single_commit_is_warming_up_not_an_alertable_stop() {
    let mut model = LagModel::new(settings(10));
    model.apply(&broker("orders", &[(0, 1_000)], T0), T0);
    model.apply(&commit("fresh", "orders", 0, 900, T0), T0);
    let report = evaluate(&mut model, "fresh", T0 + 10_000);
    // Burrow's verdict on a one-commit window with lag is STOP, and it is still reported...
    assert_eq!(report.partitions[0].status, PartitionStatus::Stop);
    assert_eq!(report.status, GroupStatus::Err);
    // ...but flagged, and no rule may judge it.
    assert!(report.partitions[0].extras.warming_up);
    assert!(report.warming_up);
    assert_eq!(report.alertable_status(), None);
    assert_eq!(report.judged_partitions().count(), 0);

    // A second commit makes the window judgeable.
    model.apply(&broker("orders", &[(0, 1_100)], T0 + 5_000), T0 + 5_000);
    model.apply(&commit("fresh", "orders", 0, 1_050, T0 + 5_000), T0 + 5_000);
    let report = evaluate(&mut model, "fresh", T0 + 6_000);
    assert!(!report.warming_up);
    assert_eq!(report.alertable_status(), Some(GroupStatus::Ok));
}

#[test]
fn minimum_complete_keeps_a_partition_warming_up() {
    let mut model = LagModel::new(settings(10));
    let t = healthy(&mut model, "g", 3);
    let strict = EvaluatorSettings {
        minimum_complete: 0.5,
        ..EvaluatorSettings::default()
    };
    let report = model.evaluate_group(CLUSTER, "g", t, &strict);
    assert!(report.partitions.iter().all(|p| p.extras.warming_up));
    let report = model.evaluate_group(CLUSTER, "g", t, &EvaluatorSettings::default());
    assert!(report.partitions.iter().all(|p| !p.extras.warming_up));
}

#[test]
fn only_warming_up_partitions_are_left_out_of_the_alertable_status() {
    let mut model = LagModel::new(settings(10));
    let t = healthy(&mut model, "g", 4);
    // A third partition appears with one commit and a large lag: Burrow says STOP.
    model.apply(
        &broker("orders", &[(0, 1_300), (1, 1_300), (2, 5_000)], t),
        t,
    );
    model.apply(&commit("g", "orders", 2, 10, t), t);
    let report = evaluate(&mut model, "g", t + 5_000);
    assert_eq!(report.status, GroupStatus::Err);
    assert!(report.warming_up);
    assert_eq!(report.judged_partitions().count(), 2);
    assert_eq!(report.alertable_status(), Some(GroupStatus::Ok));
}

#[test]
fn restored_windows_give_the_status_from_before_the_restart() {
    let mut before = LagModel::new(settings(10));
    let t = healthy(&mut before, "steady", 10);
    let expected = evaluate(&mut before, "steady", t);
    assert_eq!(expected.status, GroupStatus::Ok);
    assert!(!expected.warming_up);

    let saved = before.save_state(t);
    let text = serde_json::to_string(&saved).unwrap_or_default();
    let parsed: ModelState = serde_json::from_str(&text).unwrap_or_else(|_| ModelState::empty(0));
    assert_eq!(parsed, saved);

    let mut after = LagModel::new(settings(10));
    let summary = after.restore(parsed, t + 3_000);
    let summary = summary.unwrap_or_default();
    assert_eq!(summary.groups, 1);
    assert_eq!(summary.partitions, 2);
    assert_eq!(summary.commits, 20);

    // Until the source is heard from again, the restored windows are flagged.
    let resumed = evaluate(&mut after, "steady", t + 3_000);
    assert!(resumed.warming_up);
    assert_eq!(resumed.status, GroupStatus::Ok);
    assert_eq!(resumed.totallag, expected.totallag);

    // The first event of the cluster ends that; the verdict is the one from before.
    after.apply(
        &broker("orders", &[(0, 2_000), (1, 2_000)], t + 4_000),
        t + 4_000,
    );
    after.apply(&commit("steady", "orders", 0, 1_950, t + 5_000), t + 5_000);
    after.apply(&commit("steady", "orders", 1, 1_950, t + 5_000), t + 5_000);
    let report = evaluate(&mut after, "steady", t + 6_000);
    assert!(!report.warming_up);
    assert_eq!(report.status, GroupStatus::Ok);
    assert_eq!(report.alertable_status(), Some(GroupStatus::Ok));
    assert!(report.partitions.iter().all(|p| p.complete == 1.0));
}

#[test]
fn restore_applies_todays_settings() {
    let mut before = LagModel::new(settings(10));
    let t = healthy(&mut before, "old", 10);
    let t = {
        let mut t2 = t;
        for i in 0..10 {
            before.apply(&broker("orders", &[(0, 5_000 + i)], t2), t2);
            before.apply(&commit("other", "orders", 0, 4_900 + i, t2), t2);
            t2 += 5_000;
        }
        t2
    };
    let saved = before.save_state(t);

    // Fewer intervals, a group deny list, and `old` expired while lagwatch was down.
    let mut after = LagModel::new(ModelSettings {
        intervals: 4,
        expire_group_ms: 60_000,
        groups: NameFilter::new(None, Some("^other$")).unwrap_or_default(),
        ..ModelSettings::default()
    });
    let summary = after.restore(saved, t + 20_000).unwrap_or_default();
    assert_eq!(summary.groups, 0, "old expired, other is denied");
    assert_eq!(summary.groups_dropped, 2);

    let mut after = LagModel::new(ModelSettings {
        intervals: 4,
        ..ModelSettings::default()
    });
    let summary = after
        .restore(before.save_state(t), t + 1_000)
        .unwrap_or_default();
    assert_eq!(summary.groups, 2);
    // Rings keep their newest `intervals` commits.
    assert_eq!(summary.commits, 4 * 2 + 4);
    after.apply(
        &broker("orders", &[(0, 6_000), (1, 6_000)], t + 1_000),
        t + 1_000,
    );
    let report = evaluate(&mut after, "other", t + 1_000);
    let end = report.partitions[0].end.map(|e| e.offset);
    assert_eq!(end, Some(4_909));
    let start = report.partitions[0].start.map(|e| e.offset);
    assert_eq!(start, Some(4_906));
}

#[test]
fn a_state_of_another_version_is_refused_and_changes_nothing() {
    let mut before = LagModel::new(settings(10));
    let t = healthy(&mut before, "g", 3);
    let mut saved = before.save_state(t);
    saved.version = STATE_VERSION + 1;
    let mut after = LagModel::new(settings(10));
    assert_eq!(
        after.restore(saved, t),
        Err(StateError::Version {
            found: STATE_VERSION + 1,
            expected: STATE_VERSION
        })
    );
    assert!(after.clusters().is_empty());
}

#[test]
fn a_damaged_state_does_not_parse() {
    let text = r#"{"version":1,"saved_at_ms":0,"clusters":[{"name":"x","topics":7}]}"#;
    assert!(serde_json::from_str::<ModelState>(text).is_err());
}
