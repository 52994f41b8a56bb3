//! The rule engine's lifecycle with exact vectors; time is the snapshots' `at_ms`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_alert::{Phase, RuleSet};
use lagwatch_component::RuleEngine;
use lagwatch_config::{
    AggregateKind, CatchUpRuleConfig, RetentionRuleConfig, RuleConfig, StatusLevel,
    StatusRuleConfig, ThresholdOp, ThresholdRuleConfig, ThresholdTarget, TimeLagRuleConfig,
};
use lagwatch_core::alert::{AlertNotification, AlertState};
use lagwatch_core::report::{GroupReport, PartitionReport};
use lagwatch_core::snapshot::SnapshotData;
use lagwatch_core::time_lag::{Confidence, MAX_SECONDS, TimeLag};
use lagwatch_core::trend::{CatchUp, Trend};
use lagwatch_core::{GroupStatus, PartitionStatus, Snapshot, TimestampMs};
use lagwatch_test_support::sample;
use std::collections::BTreeMap;
use std::time::Duration;

const S: TimestampMs = 1_000;

fn part(topic: &str, partition: i32, lag: u64, at: TimestampMs) -> PartitionReport {
    let status = if lag > 0 {
        PartitionStatus::Warn
    } else {
        PartitionStatus::Ok
    };
    sample::partition(topic, partition, status, lag, Some(1_000), "", at)
}

/// Group `g` of cluster `c` with one partition per lag, all of topic `t`.
fn grp(lags: &[u64], at: TimestampMs) -> GroupReport {
    let partitions = lags
        .iter()
        .enumerate()
        .map(|(i, lag)| part("t", i as i32, *lag, at))
        .collect();
    sample::group("c", "g", partitions, at)
}

fn snap(at: TimestampMs, groups: Vec<GroupReport>) -> Snapshot {
    Snapshot::new(SnapshotData {
        at_ms: at,
        cycle: (at / S) as u64,
        groups,
        topics: vec![],
    })
}

fn engine(rule: RuleConfig) -> RuleSet {
    RuleSet::from_config(&BTreeMap::from([("r".to_owned(), rule)])).unwrap()
}

fn last_lag_rule(for_s: u64, repeat_s: u64) -> RuleConfig {
    RuleConfig::Threshold(ThresholdRuleConfig {
        aggregate: AggregateKind::Last,
        for_duration: Duration::from_secs(for_s),
        repeat_interval: Duration::from_secs(repeat_s),
        ..ThresholdRuleConfig::default()
    })
}

/// Feeds one snapshot per `(time in s, lag of the single partition)` and returns every
/// notification as `(time in s, state, reminder)`.
fn run(engine: &mut dyn RuleEngine, steps: &[(i64, u64)]) -> Vec<(i64, AlertState, bool)> {
    let mut out = Vec::new();
    for &(t, lag) in steps {
        for n in engine.evaluate(&snap(t * S, vec![grp(&[lag], t * S)])) {
            out.push((t, n.state, n.reminder));
        }
    }
    out
}

#[test]
fn seed_rule_average_over_60s_above_10_decided_every_minute() {
    // Samples every 10 s. First decision at the first snapshot (t=10), then every 60 s.
    let mut e = engine(RuleConfig::Threshold(ThresholdRuleConfig::default()));
    let mut all: Vec<AlertNotification> = Vec::new();
    let mut feed = |t: i64, lag: u64, all: &mut Vec<AlertNotification>| {
        all.extend(e.evaluate(&snap(t * S, vec![grp(&[lag], t * S)])));
    };
    // t = 10..=70: lag exactly 10, so the average is exactly 10: not above 10.
    for t in (10..=70).step_by(10) {
        feed(t, 10, &mut all);
    }
    assert!(all.is_empty());
    // t = 80..=120: lag 11. At t=80 the average over (20, 80] is 61/6 > 10, but the rule
    // only decides at t=130.
    for t in (80..=120).step_by(10) {
        feed(t, 11, &mut all);
    }
    assert!(all.is_empty(), "no decision between intervals: {all:?}");
    // t = 130: window (70, 130] holds six samples of 11: average 11 > 10: fires.
    feed(130, 11, &mut all);
    assert_eq!(all.len(), 1);
    let firing = all[0].clone();
    assert_eq!(firing.state, AlertState::Firing);
    assert_eq!(firing.value, 11.0);
    assert_eq!(firing.threshold, Some(10.0));
    assert_eq!(firing.at_ms, 130 * S);
    assert_eq!(firing.started_at_ms, 130 * S);
    assert_eq!(
        firing.labels,
        BTreeMap::from([
            ("cluster".to_owned(), "c".to_owned()),
            ("group".to_owned(), "g".to_owned())
        ])
    );
    assert_eq!(firing.partitions.len(), 1);
    assert_eq!(
        (
            firing.partitions[0].topic.as_str(),
            firing.partitions[0].partition
        ),
        ("t", 0)
    );
    assert_eq!(
        firing.summary,
        "avg partition lag over 1m is 11 (> 10) on 1 partition"
    );
    // Still breaching at t=190: no second notification (no repeat interval).
    for t in (140..=190).step_by(10) {
        feed(t, 12, &mut all);
    }
    assert_eq!(all.len(), 1);
    // Lag drops to 0 from t=200; decision at t=250 sees (190, 250]: all 0: resolved.
    for t in (200..=250).step_by(10) {
        feed(t, 0, &mut all);
    }
    assert_eq!(all.len(), 2);
    let resolved = &all[1];
    assert_eq!(resolved.state, AlertState::Resolved);
    assert_eq!(resolved.incident_id, firing.incident_id);
    assert_eq!(resolved.started_at_ms, 130 * S);
    assert_eq!(resolved.at_ms, 250 * S);
    assert_eq!(resolved.value, 0.0);
}

#[test]
fn ge_fires_on_exactly_the_value() {
    let mut e = engine(RuleConfig::Threshold(ThresholdRuleConfig {
        op: ThresholdOp::Ge,
        ..ThresholdRuleConfig::default()
    }));
    assert_eq!(run(&mut e, &[(10, 10)]), [(10, AlertState::Firing, false)]);
}

#[test]
fn for_keeps_the_alert_pending_until_it_has_held_long_enough() {
    // for = 2 min, decisions every minute: breach at 0, 60 (pending), fires at 120.
    let mut e = engine(last_lag_rule(120, 0));
    let out = run(&mut e, &[(0, 50), (60, 50), (90, 50), (120, 50), (180, 50)]);
    assert_eq!(out, [(120, AlertState::Firing, false)]);
    let open: Vec<_> = e.state().alerts.values().map(|a| a.phase).collect();
    assert_eq!(open, [Phase::Firing]);
}

#[test]
fn flapping_with_for_never_fires_and_without_for_opens_and_closes_each_time() {
    let flaps = [(0, 50), (60, 0), (120, 50), (180, 0), (240, 50), (300, 0)];
    let mut damped = engine(last_lag_rule(120, 0));
    assert!(run(&mut damped, &flaps).is_empty());
    assert!(damped.state().alerts.is_empty());

    let mut raw = engine(last_lag_rule(0, 0));
    let out = run(&mut raw, &flaps);
    assert_eq!(
        out,
        [
            (0, AlertState::Firing, false),
            (60, AlertState::Resolved, false),
            (120, AlertState::Firing, false),
            (180, AlertState::Resolved, false),
            (240, AlertState::Firing, false),
            (300, AlertState::Resolved, false),
        ]
    );
}

#[test]
fn pending_that_clears_sends_nothing_and_starts_over() {
    let mut e = engine(last_lag_rule(120, 0));
    // Pending from 0, cleared at 60, pending again from 120: fires at 240, not 180.
    let out = run(&mut e, &[(0, 50), (60, 0), (120, 50), (180, 50), (240, 50)]);
    assert_eq!(out, [(240, AlertState::Firing, false)]);
}

#[test]
fn reminders_come_every_repeat_interval_with_the_original_start() {
    let mut e = engine(last_lag_rule(0, 300));
    let steps: Vec<(i64, u64)> = (0..=11).map(|i| (i * 60, 50)).collect();
    let out = run(&mut e, &steps);
    assert_eq!(
        out,
        [
            (0, AlertState::Firing, false),
            (300, AlertState::Firing, true),
            (600, AlertState::Firing, true),
        ]
    );
    let n = e.evaluate(&snap(900 * S, vec![grp(&[50], 900 * S)]));
    assert_eq!(n.len(), 1);
    assert_eq!((n[0].started_at_ms, n[0].at_ms), (0, 900 * S));
}

#[test]
fn send_resolved_false_stays_silent_on_recovery() {
    let mut e = engine(RuleConfig::Threshold(ThresholdRuleConfig {
        aggregate: AggregateKind::Last,
        send_resolved: false,
        ..ThresholdRuleConfig::default()
    }));
    let out = run(&mut e, &[(0, 50), (60, 0), (120, 50)]);
    assert_eq!(
        out,
        [
            (0, AlertState::Firing, false),
            (120, AlertState::Firing, false)
        ]
    );
}

#[test]
fn restart_with_saved_state_neither_resends_nor_forgets() {
    let rules = || RuleSet::from_config(&BTreeMap::from([("r".to_owned(), last_lag_rule(0, 0))]));

    let mut first = rules().unwrap();
    assert_eq!(
        run(&mut first, &[(0, 50)]),
        [(0, AlertState::Firing, false)]
    );
    let saved = first.alert_state().unwrap();
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["alerts"].as_object().unwrap().len(), 1);
    // What the runtime writes and reads back is plain JSON text.
    let text = serde_json::to_string(&saved).unwrap();
    drop(first);

    // Restart: still breaching, so nothing is sent again; then it recovers and exactly one
    // resolved notification comes, carrying the start from before the restart.
    let mut second = rules().unwrap();
    second
        .restore_state(Some(serde_json::from_str(&text).unwrap()), None)
        .unwrap();
    let mut notes = Vec::new();
    for (t, lag) in [(60, 50), (120, 0), (180, 0)] {
        notes.extend(second.evaluate(&snap(t * S, vec![grp(&[lag], t * S)])));
    }
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].state, AlertState::Resolved);
    assert_eq!((notes[0].started_at_ms, notes[0].at_ms), (0, 120 * S));
    assert_eq!(
        second.alert_state().unwrap()["alerts"]
            .as_object()
            .unwrap()
            .len(),
        0
    );

    // Without the saved state a restart would announce the same alert again.
    let mut forgetful = rules().unwrap();
    assert_eq!(
        run(&mut forgetful, &[(0, 50), (60, 50)]),
        [(0, AlertState::Firing, false)]
    );
}

#[test]
fn unreadable_state_is_refused_and_the_engine_starts_empty() {
    let mut e =
        RuleSet::from_config(&BTreeMap::from([("r".to_owned(), last_lag_rule(0, 0))])).unwrap();
    let err = e
        .restore_state(Some(serde_json::json!({"alerts": 7})), None)
        .unwrap_err();
    assert!(err.contains("open alerts are unreadable"), "{err}");
    let err = e
        .restore_state(Some(serde_json::json!({"version": 99, "alerts": {}})), None)
        .unwrap_err();
    assert!(err.contains("version 99"), "{err}");
    assert_eq!(run(&mut e, &[(0, 50)]), [(0, AlertState::Firing, false)]);
}

#[test]
fn averaging_windows_survive_a_restart() {
    // Average lag over 3 minutes above 10, decided every minute.
    let rule = || {
        RuleSet::from_config(&BTreeMap::from([(
            "avg".to_owned(),
            RuleConfig::Threshold(ThresholdRuleConfig {
                value: 10.0,
                window: std::time::Duration::from_secs(180),
                ..ThresholdRuleConfig::default()
            }),
        )]))
        .unwrap()
    };
    let mut first = rule();
    // 0 + 0 + 40 over three minutes: average 13.3, fires at 120 s.
    let mut out = Vec::new();
    for (t, lag) in [(0, 0), (60, 0), (120, 40)] {
        out.extend(first.evaluate(&snap(t * S, vec![grp(&[lag], t * S)])));
    }
    assert_eq!(out.len(), 1);
    let alerts = serde_json::to_string(&first.alert_state().unwrap()).unwrap();
    let windows = serde_json::to_string(&first.window_state().unwrap()).unwrap();

    // After a restart a lag of 5 is averaged with the saved samples (above 10 either way),
    // so the alert stays firing instead of being judged on the single new sample.
    let mut second = rule();
    second
        .restore_state(
            Some(serde_json::from_str(&alerts).unwrap()),
            Some(serde_json::from_str(&windows).unwrap()),
        )
        .unwrap();
    let out = second.evaluate(&snap(180 * S, vec![grp(&[5], 180 * S)]));
    assert!(out.is_empty(), "{out:?}");

    // Without the windows, the lone sample 5 would have resolved it at once.
    let mut forgetful = rule();
    forgetful
        .restore_state(Some(serde_json::from_str(&alerts).unwrap()), None)
        .unwrap();
    let out = forgetful.evaluate(&snap(180 * S, vec![grp(&[5], 180 * S)]));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].state, AlertState::Resolved);
}

#[test]
fn warming_up_partitions_neither_fire_nor_resolve() {
    let status_rule = RuleConfig::Status(StatusRuleConfig {
        status: StatusLevel::Err,
        ..lagwatch_config::StatusRuleConfig::default()
    });
    let mut e = engine(status_rule);
    let group = |status: PartitionStatus, warming: bool, at: TimestampMs| {
        let mut p = part("t", 0, 100, at);
        p.status = status;
        p.extras.warming_up = warming;
        let mut g = sample::group("c", "g", vec![p], at);
        g.warming_up = warming;
        g
    };
    // A fresh start: Burrow says STOP on the single commit, but the window is warming up.
    let mut out = Vec::new();
    out.extend(e.evaluate(&snap(0, vec![group(PartitionStatus::Stop, true, 0)])));
    out.extend(e.evaluate(&snap(
        60 * S,
        vec![group(PartitionStatus::Stop, true, 60 * S)],
    )));
    assert!(out.is_empty(), "{out:?}");
    // A real STOP fires; a warming-up OK (after, say, a partition reassignment) does not
    // resolve it; a judged OK does.
    out.extend(e.evaluate(&snap(
        120 * S,
        vec![group(PartitionStatus::Stop, false, 120 * S)],
    )));
    out.extend(e.evaluate(&snap(
        180 * S,
        vec![group(PartitionStatus::Ok, true, 180 * S)],
    )));
    let states: Vec<_> = out.iter().map(|n| (n.at_ms / S, n.state)).collect();
    assert_eq!(states, [(120, AlertState::Firing)]);
    out.extend(e.evaluate(&snap(
        240 * S,
        vec![group(PartitionStatus::Ok, false, 240 * S)],
    )));
    let states: Vec<_> = out.iter().map(|n| (n.at_ms / S, n.state)).collect();
    assert_eq!(
        states,
        [(120, AlertState::Firing), (240, AlertState::Resolved)]
    );
}

#[test]
fn an_alert_of_a_vanished_group_resolves_after_a_minute() {
    let mut e = engine(last_lag_rule(0, 0));
    let mut out = run(&mut e, &[(0, 50)]);
    assert_eq!(out, [(0, AlertState::Firing, false)]);
    // The group disappears (deleted, expired or filtered out): the snapshots no longer list it.
    let mut notes = Vec::new();
    for t in [60, 90] {
        notes.extend(e.evaluate(&snap(t * S, vec![])));
    }
    assert!(notes.is_empty(), "not before a minute: {notes:?}");
    notes.extend(e.evaluate(&snap(120 * S, vec![])));
    assert_eq!(notes.len(), 1);
    let n = &notes[0];
    assert_eq!(n.state, AlertState::Resolved);
    assert_eq!(n.started_at_ms, 0);
    assert_eq!(n.group_status, Some(GroupStatus::NotFound));
    assert!(n.summary.contains("no longer evaluated"), "{}", n.summary);
    assert!(e.state().alerts.is_empty());
    // A group that comes back within the minute keeps its alert.
    out = run(&mut e, &[(200, 50)]);
    assert_eq!(out, [(200, AlertState::Firing, false)]);
    assert!(e.evaluate(&snap(260 * S, vec![])).is_empty());
    assert!(
        e.evaluate(&snap(300 * S, vec![grp(&[50], 300 * S)]))
            .is_empty()
    );
    assert!(e.evaluate(&snap(360 * S, vec![])).is_empty());
    assert_eq!(e.state().alerts.len(), 1);
}

#[test]
fn idempotency_keys_name_each_notification() {
    let mut e = engine(last_lag_rule(0, 120));
    let mut notes = Vec::new();
    for (t, lag) in [(0, 50), (60, 50), (120, 50), (180, 0)] {
        notes.extend(e.evaluate(&snap(t * S, vec![grp(&[lag], t * S)])));
    }
    let keys: Vec<&str> = notes.iter().map(|n| n.idempotency_key.as_str()).collect();
    assert_eq!(keys.len(), 3, "firing, reminder, resolved: {keys:?}");
    let id = &notes[0].incident_id;
    assert_eq!(keys[0], format!("{id}-0-firing"));
    assert_eq!(keys[1], format!("{id}-0-firing-{}", 120 * S));
    assert_eq!(keys[2], format!("{id}-0-resolved"));
    // A later incident of the same rule and group gets keys of its own.
    let again = e.evaluate(&snap(240 * S, vec![grp(&[50], 240 * S)]));
    assert_eq!(again[0].idempotency_key, format!("{id}-{}-firing", 240 * S));
}

#[test]
fn stale_data_neither_fires_nor_resolves() {
    let mut e = engine(last_lag_rule(0, 0));
    let stale_group = |lag: u64, at: TimestampMs| {
        let mut g = grp(&[lag], at);
        g.stale = true;
        g
    };
    let stale_partition = |lag: u64, at: TimestampMs| {
        let mut p = part("t", 0, lag, at);
        p.extras.stale = true;
        sample::group("c", "g", vec![p], at)
    };
    // Stale breaches do not fire.
    let mut out = Vec::new();
    for (t, g) in [(0, stale_group(50, 0)), (60, stale_partition(50, 60 * S))] {
        out.extend(e.evaluate(&snap(t * S, vec![g])));
    }
    assert!(out.is_empty());
    // A real breach fires; stale recoveries do not resolve; a real recovery does.
    out.extend(e.evaluate(&snap(120 * S, vec![grp(&[50], 120 * S)])));
    out.extend(e.evaluate(&snap(180 * S, vec![stale_group(0, 180 * S)])));
    out.extend(e.evaluate(&snap(240 * S, vec![stale_partition(0, 240 * S)])));
    out.extend(e.evaluate(&snap(300 * S, vec![])));
    let states: Vec<_> = out.iter().map(|n| (n.at_ms / S, n.state)).collect();
    assert_eq!(states, [(120, AlertState::Firing)]);
    out.extend(e.evaluate(&snap(360 * S, vec![grp(&[0], 360 * S)])));
    let states: Vec<_> = out.iter().map(|n| (n.at_ms / S, n.state)).collect();
    assert_eq!(
        states,
        [(120, AlertState::Firing), (360, AlertState::Resolved)]
    );
}

#[test]
fn partitions_of_one_group_make_one_notification_worst_first() {
    let mut e = engine(last_lag_rule(0, 0));
    let n = e.evaluate(&snap(0, vec![grp(&[5, 40, 0, 90, 11], 0)]));
    assert_eq!(n.len(), 1);
    let listed: Vec<(i32, u64)> = n[0]
        .partitions
        .iter()
        .map(|p| (p.partition, p.lag))
        .collect();
    assert_eq!(listed, [(3, 90), (1, 40), (4, 11)]);
    assert_eq!(n[0].value, 90.0);
    assert_eq!(n[0].total_lag, Some(146));
    assert_eq!(n[0].max_lag, Some(90));
    assert_eq!(
        n[0].summary,
        "last partition lag over 1m is 90 (> 10) on 3 partitions"
    );
}

#[test]
fn selection_by_cluster_group_and_topic_and_labels_in_the_incident() {
    let mut e = engine(RuleConfig::Threshold(ThresholdRuleConfig {
        aggregate: AggregateKind::Last,
        groups: "^pay".to_owned(),
        topics: "^orders$".to_owned(),
        clusters: "^c$".to_owned(),
        labels: BTreeMap::from([("team".to_owned(), "payments".to_owned())]),
        ..ThresholdRuleConfig::default()
    }));
    let g = |cluster: &str, group: &str, topic: &str| {
        sample::group(cluster, group, vec![part(topic, 0, 99, 0)], 0)
    };
    let n = e.evaluate(&snap(
        0,
        vec![
            g("c", "payments", "orders"),
            g("c", "payments2", "clicks"),
            g("c", "search", "orders"),
            g("other", "payments", "orders"),
        ],
    ));
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].group(), "payments");
    assert_eq!(
        n[0].labels.get("team").map(String::as_str),
        Some("payments")
    );
    assert_eq!(
        n[0].incident_id,
        lagwatch_core::alert::incident_id("r", &n[0].labels)
    );
}

#[test]
fn group_lag_target_sums_the_partitions() {
    let mut e = engine(RuleConfig::Threshold(ThresholdRuleConfig {
        target: ThresholdTarget::GroupLag,
        aggregate: AggregateKind::Max,
        value: 100.0,
        ..ThresholdRuleConfig::default()
    }));
    assert!(e.evaluate(&snap(0, vec![grp(&[40, 60], 0)])).is_empty());
    let n = e.evaluate(&snap(60 * S, vec![grp(&[40, 61], 60 * S)]));
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].value, 101.0);
    assert_eq!(n[0].summary, "max group lag over 1m is 101 (> 100)");
}

/// A status rule fires at or above its level, announces a worse status (WARN -> ERR) at once
/// instead of waiting for a reminder, and resolves on OK.
#[test]
fn status_rule_fires_at_or_above_its_level() {
    let warn = engine(RuleConfig::Status(StatusRuleConfig::default()));
    let err = engine(RuleConfig::Status(StatusRuleConfig {
        status: StatusLevel::Err,
        ..StatusRuleConfig::default()
    }));
    let g = |status: PartitionStatus| {
        sample::group(
            "c",
            "g",
            vec![sample::partition("t", 0, status, 7, Some(10), "", 0)],
            0,
        )
    };
    for (mut e, expected) in [(warn, [true, true, false]), (err, [false, true, false])] {
        let mut got = Vec::new();
        for (i, status) in [
            PartitionStatus::Warn,
            PartitionStatus::Stop,
            PartitionStatus::Ok,
        ]
        .into_iter()
        .enumerate()
        {
            let t = i as i64 * 60 * S;
            let out = e.evaluate(&snap(t, vec![g(status)]));
            got.push(out.iter().any(|n| n.state == AlertState::Firing));
        }
        assert_eq!(got, expected);
    }
    // A NOTFOUND group neither fires nor resolves.
    let mut e = engine(RuleConfig::Status(StatusRuleConfig::default()));
    assert_eq!(
        e.evaluate(&snap(0, vec![g(PartitionStatus::Stop)])).len(),
        1
    );
    let gone = GroupReport::not_found("c", "g", 60 * S);
    assert!(e.evaluate(&snap(60 * S, vec![gone])).is_empty());
    assert_eq!(e.state().alerts.len(), 1);
}

#[test]
fn time_lag_rule_compares_seconds_behind() {
    let mut e = engine(RuleConfig::TimeLag(TimeLagRuleConfig {
        seconds: 60.0,
        ..TimeLagRuleConfig::default()
    }));
    let g = |secs: Option<f64>, at: TimestampMs| {
        let mut p = part("t", 0, 5, at);
        p.extras.time_lag = secs.map(|seconds| TimeLag {
            seconds,
            confidence: Confidence::Interpolated,
        });
        sample::group("c", "g", vec![p], at)
    };
    assert!(e.evaluate(&snap(0, vec![g(Some(60.0), 0)])).is_empty());
    let n = e.evaluate(&snap(60 * S, vec![g(Some(61.5), 60 * S)]));
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].value, 61.5);
    // No estimate, or one of unknown confidence (0 s): unknown, the alert stays.
    assert!(
        e.evaluate(&snap(120 * S, vec![g(None, 120 * S)]))
            .is_empty()
    );
    let mut unknown = g(None, 180 * S);
    unknown.partitions[0].extras.time_lag = Some(TimeLag::UNKNOWN);
    assert!(e.evaluate(&snap(180 * S, vec![unknown])).is_empty());
    assert_eq!(e.state().alerts.len(), 1);
    let n = e.evaluate(&snap(240 * S, vec![g(Some(1.0), 240 * S)]));
    assert_eq!(n[0].state, AlertState::Resolved);
}

#[test]
fn retention_rule_fires_near_the_log_start() {
    // margin: the larger of 100 messages and 10 % of (end - start) = 1000 * 0.1 = 100.
    let mut e = engine(RuleConfig::Retention(RetentionRuleConfig {
        margin_messages: 100,
        margin_share: 0.1,
        ..RetentionRuleConfig::default()
    }));
    let g = |start: i64, commit: i64, at: TimestampMs| {
        let mut p = sample::partition("t", 0, PartitionStatus::Ok, 0, Some(commit), "", at);
        p.extras.log_start_offset = Some(start);
        p.extras.log_end_offset = Some(start + 1_000);
        sample::group("c", "g", vec![p], at)
    };
    assert!(e.evaluate(&snap(0, vec![g(0, 100, 0)])).is_empty());
    let n = e.evaluate(&snap(60 * S, vec![g(0, 99, 60 * S)]));
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].value, 99.0);
    assert_eq!(n[0].threshold, None);
    let n = e.evaluate(&snap(120 * S, vec![g(0, 500, 120 * S)]));
    assert_eq!(n[0].state, AlertState::Resolved);
}

/// Group `g` with one partition per trend (lag 10 each).
fn trend_group(trends: &[Trend], at: TimestampMs) -> GroupReport {
    let partitions = trends
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut p = part("t", i as i32, 10, at);
            p.extras.trend = Some(*t);
            p
        })
        .collect();
    sample::group("c", "g", partitions, at)
}

fn catching_up(seconds: f64) -> Trend {
    Trend {
        catch_up: CatchUp::In { seconds },
        ..Trend::UNKNOWN
    }
}

#[test]
fn catch_up_rule_fires_above_max_catch_up_and_resolves_when_caught_up() {
    let mut e = engine(RuleConfig::CatchUp(CatchUpRuleConfig {
        max_catch_up: Duration::from_secs(60),
        interval: Duration::from_secs(60),
        ..CatchUpRuleConfig::default()
    }));
    let at = |t: i64, trends: &[Trend]| snap(t * S, vec![trend_group(trends, t * S)]);
    // 60 s is not above 60 s.
    assert!(
        e.evaluate(&at(0, &[catching_up(30.0), catching_up(60.0)]))
            .is_empty()
    );
    let n = e.evaluate(&at(60, &[catching_up(30.0), catching_up(120.0)]));
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].state, AlertState::Firing);
    assert_eq!(n[0].value, 120.0);
    assert_eq!(n[0].threshold, Some(60.0));
    assert_eq!(
        n[0].summary,
        "catching up takes 120 s (above 1m) on 1 partition(s)"
    );
    assert_eq!(n[0].partitions.len(), 1);
    assert_eq!(n[0].partitions[0].partition, 1);
    // Unknown trend, or no trend at all: nothing can be said, the alert stays.
    assert!(e.evaluate(&at(120, &[Trend::UNKNOWN])).is_empty());
    assert!(
        e.evaluate(&snap(180 * S, vec![grp(&[10], 180 * S)]))
            .is_empty()
    );
    assert_eq!(e.state().alerts.len(), 1);
    let caught = Trend {
        catch_up: CatchUp::CaughtUp,
        ..Trend::UNKNOWN
    };
    let n = e.evaluate(&at(240, &[caught, catching_up(59.0)]));
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].state, AlertState::Resolved);
    assert_eq!(n[0].value, 59.0);
}

#[test]
fn catch_up_rule_fires_when_not_catching_up_or_losing_data_but_never_while_warming_up() {
    let stuck = Trend {
        catch_up: CatchUp::NotCatchingUp,
        ..Trend::UNKNOWN
    };
    let losing = Trend {
        catch_up: CatchUp::In { seconds: 30.0 },
        retention_deadline_seconds: Some(20.0),
        data_loss_before_catch_up: true,
        ..Trend::UNKNOWN
    };
    let rule = |retention: bool| {
        engine(RuleConfig::CatchUp(CatchUpRuleConfig {
            retention,
            ..CatchUpRuleConfig::default()
        }))
    };

    let mut e = rule(true);
    let n = e.evaluate(&snap(0, vec![trend_group(&[stuck], 0)]));
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].value, MAX_SECONDS);
    assert_eq!(n[0].summary, "not catching up on 1 partition(s)");

    let mut e = rule(true);
    let n = e.evaluate(&snap(0, vec![trend_group(&[losing], 0)]));
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].value, 30.0);
    assert_eq!(
        n[0].summary,
        "retention deletes unread messages in 20 s, before the catch up, on 1 partition(s)"
    );
    // Without `retention`, 30 s is well within the default hour.
    let mut e = rule(false);
    assert!(
        e.evaluate(&snap(0, vec![trend_group(&[losing], 0)]))
            .is_empty()
    );

    // Warming-up or stale partitions are never judged.
    let mut e = rule(true);
    let mut warming = trend_group(&[stuck], 0);
    warming.partitions[0].extras.warming_up = true;
    warming.warming_up = true;
    assert!(e.evaluate(&snap(0, vec![warming])).is_empty());
    let mut stale = trend_group(&[stuck], 60 * S);
    stale.partitions[0].extras.stale = true;
    assert!(e.evaluate(&snap(60 * S, vec![stale])).is_empty());
    assert!(e.state().alerts.is_empty());
}

#[test]
fn a_group_handed_to_another_instance_is_neither_announced_again_nor_left_unresolved() {
    let rules = || engine(last_lag_rule(0, 0));
    let mut old = rules();
    assert_eq!(run(&mut old, &[(0, 50)]), [(0, AlertState::Firing, false)]);
    let handed = old.open_alerts();
    assert_eq!(handed.len(), 1);
    assert_eq!(
        (handed[0].cluster.as_str(), handed[0].group.as_str()),
        ("c", "g")
    );
    assert_eq!(
        handed[0].id,
        old.state().alerts.keys().next().unwrap().clone()
    );

    // The old owner lets the group go: silently, now and after the vanished-group minute.
    assert_eq!(old.release_groups("other", &|_| true), 0);
    assert_eq!(old.release_groups("c", &|g| g == "g"), 1);
    assert!(old.state().alerts.is_empty());
    for t in [60, 120, 180] {
        assert!(old.evaluate(&snap(t * S, vec![])).is_empty());
    }

    // The new owner takes the record: still breaching, nothing is sent; the recovery is
    // announced once, with the start the old owner announced.
    let mut new = rules();
    assert_eq!(new.adopt_alerts(handed.clone()), 1);
    let mut notes = Vec::new();
    for (t, lag) in [(60, 50), (120, 50), (180, 0), (240, 0)] {
        notes.extend(new.evaluate(&snap(t * S, vec![grp(&[lag], t * S)])));
    }
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].state, AlertState::Resolved);
    assert_eq!((notes[0].started_at_ms, notes[0].at_ms), (0, 180 * S));
    assert!(new.open_alerts().is_empty());

    // Records of rules the new owner does not have, unreadable ones and closings are skipped.
    let mut other = RuleSet::from_config(&BTreeMap::from([(
        "another".to_owned(),
        last_lag_rule(0, 0),
    )]))
    .unwrap();
    let mut junk = handed[0].clone();
    junk.record = Some(serde_json::json!({"rule": 3}));
    let mut closed = handed[0].clone();
    closed.record = None;
    assert_eq!(other.adopt_alerts(vec![handed[0].clone(), junk, closed]), 0);
    assert!(other.state().alerts.is_empty());
}

#[test]
fn an_adopted_alert_does_not_replace_one_announced_earlier_here() {
    let mut here = engine(last_lag_rule(0, 0));
    assert_eq!(run(&mut here, &[(0, 50)]), [(0, AlertState::Firing, false)]);
    let mut later = engine(last_lag_rule(0, 0));
    assert_eq!(
        run(&mut later, &[(30, 50)]),
        [(30, AlertState::Firing, false)]
    );
    assert_eq!(here.adopt_alerts(later.open_alerts()), 0);
    assert_eq!(
        here.state().alerts.values().next().unwrap().started_at_ms,
        Some(0)
    );
    // The other way round the earlier announcement wins.
    assert_eq!(later.adopt_alerts(here.open_alerts()), 1);
    assert_eq!(
        later.state().alerts.values().next().unwrap().started_at_ms,
        Some(0)
    );
}
