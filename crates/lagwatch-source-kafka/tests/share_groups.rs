#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Share groups (KIP-932) against the harness Kafka 4.4: a real share consumer (Kafka's
//! console share consumer) consumes part of a topic, and lagwatch's start offset and lag per
//! partition equal what `kafka-share-groups --describe` prints; statuses over a window of
//! reads; deletion.

use lagwatch_component::FromConfig;
use lagwatch_config::KafkaSourceConfig;
use lagwatch_config::kafka::KafkaMode;
use lagwatch_core::report::GroupType;
use lagwatch_core::{
    EvaluatorSettings, Event, GroupReport, GroupStatus, LagModel, ModelSettings, PartitionStatus,
};
use lagwatch_source_kafka::{KafkaSource, Snapshots};
use lagwatch_test_support::services::{env, kafka, names, tools};
use std::collections::BTreeMap;

use lagwatch_component::clock::wall_clock_ms as now_ms;

fn source(group: &str) -> KafkaSource {
    let mut c = KafkaSourceConfig::new("live", env::kafka().bootstrap);
    c.mode = KafkaMode::Admin;
    c.group_allowlist = format!("^{group}$");
    KafkaSource::from_config("live", &c).unwrap()
}

/// One admin read into `model`; returns its events.
async fn read(source: &mut Snapshots, model: &mut LagModel) -> Vec<Event> {
    let events = source.next().await.unwrap();
    let now = now_ms();
    for e in &events {
        model.apply(e, now);
    }
    events
}

fn report(model: &mut LagModel, group: &str) -> GroupReport {
    model.evaluate_group("live", group, now_ms(), &EvaluatorSettings::default())
}

/// `(topic, partition) → (start offset, lag)` as lagwatch reports the group.
fn lagwatch_view(report: &GroupReport) -> BTreeMap<(String, i32), (i64, u64)> {
    report
        .partitions
        .iter()
        .map(|p| {
            let start = p.end.map(|e| e.offset).unwrap();
            ((p.topic.clone(), p.partition), (start, p.current_lag))
        })
        .collect()
}

/// The same from `kafka-share-groups --describe` (partitions the group has not started on,
/// shown as `-`, left out: lagwatch does not list them).
async fn tool_view(group: &str) -> BTreeMap<(String, i32), (i64, u64)> {
    tools::share_groups_describe(&env::kafka_tools(), &env::kafka().bootstrap, group)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|r| {
            let lag = u64::try_from(r.lag?).unwrap();
            Some(((r.topic, r.partition), (r.start_offset?, lag)))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn share_group_lag_per_partition_equals_the_share_groups_tool() {
    let bootstrap = env::kafka().bootstrap;
    let topic = names::unique("lw-share");
    let group = names::unique("lw-share-group");
    kafka::create_topic(bootstrap.as_str(), &topic, 3)
        .await
        .unwrap();
    kafka::produce(bootstrap.as_str(), &topic, Some(0), 150)
        .await
        .unwrap();
    kafka::produce(bootstrap.as_str(), &topic, Some(1), 40)
        .await
        .unwrap();
    // Partition 2 stays empty.
    tools::share_consume(&env::kafka_tools(), &bootstrap, &topic, &group, 50)
        .await
        .unwrap();
    // The consumer's acknowledgements reach the share-partition state a moment after it
    // exits: wait until the broker itself counts all 50 before comparing views.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let view = tool_view(&group).await;
        let acknowledged: i64 = view.values().map(|(start, _)| start).sum();
        if acknowledged == 50 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }

    let source = source(&group);
    let mut source = source.snapshots().unwrap();
    let mut model = LagModel::new(ModelSettings::default());
    let events = read(&mut source, &mut model).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::ShareGroupOffsets { group: g, .. } if *g == group)),
        "no share-group event for {group}: {events:?}"
    );
    let expected = tool_view(&group).await;
    assert!(!expected.is_empty(), "the tool shows no started partition");
    // Kafka 4.4 answers DescribeShareGroupOffsets v1: the lag is the broker's own, the
    // number the tool prints, not the model's log end minus start offset.
    let broker_lags: BTreeMap<(String, i32), Option<i64>> = events
        .iter()
        .filter_map(|e| match e {
            Event::ShareGroupOffsets {
                group: g,
                partitions,
                ..
            } if *g == group => Some(partitions),
            _ => None,
        })
        .flatten()
        .map(|p| ((p.topic.clone(), p.partition), p.lag))
        .collect();
    for (key, (_, lag)) in &expected {
        assert_eq!(
            broker_lags.get(key).copied().flatten(),
            Some(i64::try_from(*lag).unwrap()),
            "{key:?}: the broker's lag (v1) should be in the event: {broker_lags:?}"
        );
    }
    let r = report(&mut model, &group);
    assert_eq!(r.group_type, GroupType::Share);
    assert_eq!(lagwatch_view(&r), expected);
    // Every started partition was read from offset 0, so the start offsets add up to the
    // records the consumer acknowledged.
    let done: i64 = expected.values().map(|(start, _)| start).sum();
    assert_eq!(done, 50, "{expected:?}");

    // More records arrive: both views move together.
    kafka::produce(bootstrap.as_str(), &topic, Some(0), 25)
        .await
        .unwrap();
    read(&mut source, &mut model).await;
    let r = report(&mut model, &group);
    let expected = tool_view(&group).await;
    assert_eq!(lagwatch_view(&r), expected);
    assert_eq!(
        r.totallag,
        expected.values().map(|(_, lag)| lag).sum::<u64>()
    );
    assert!(r.totallag >= 100 + 25, "{expected:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_share_group_nobody_consumes_stops_and_a_deleted_one_is_gone() {
    let bootstrap = env::kafka().bootstrap;
    let topic = names::unique("lw-share-stop");
    let group = names::unique("lw-share-stopped");
    kafka::create_topic(bootstrap.as_str(), &topic, 1)
        .await
        .unwrap();
    kafka::produce(bootstrap.as_str(), &topic, Some(0), 30)
        .await
        .unwrap();
    tools::share_consume(&env::kafka_tools(), &bootstrap, &topic, &group, 10)
        .await
        .unwrap();

    let source = source(&group);
    let mut source = source.snapshots().unwrap();
    let mut model = LagModel::new(ModelSettings {
        intervals: 3,
        ..ModelSettings::default()
    });
    // A window that is not full yet judges nothing but progress.
    read(&mut source, &mut model).await;
    let r = report(&mut model, &group);
    assert_eq!(r.partitions[0].status, PartitionStatus::Ok);
    assert!(r.partitions[0].complete < 1.0);
    // Three reads, no member, lag 20 and the start offset at 10 throughout: STOP.
    read(&mut source, &mut model).await;
    read(&mut source, &mut model).await;
    let r = report(&mut model, &group);
    assert_eq!(lagwatch_view(&r)[&(topic.clone(), 0)], (10, 20));
    assert_eq!(r.partitions[0].status, PartitionStatus::Stop);
    assert_eq!(r.status, GroupStatus::Err);

    tools::run(
        &env::kafka_tools(),
        "kafka-share-groups",
        &[
            "--bootstrap-server",
            &bootstrap,
            "--delete",
            "--group",
            &group,
        ],
        None,
    )
    .await
    .unwrap();
    let events = read(&mut source, &mut model).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::GroupDeleted { group: g, .. } if *g == group)),
        "{events:?}"
    );
    assert_eq!(report(&mut model, &group).status, GroupStatus::NotFound);
}
