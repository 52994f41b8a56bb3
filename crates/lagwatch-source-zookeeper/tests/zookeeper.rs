//! The ZooKeeper source against the harness's ZooKeeper, with broker offsets taken from the
//! harness Kafka's high-water marks: exact lags, a later write, a deleted group, a bad
//! value and a ZooKeeper restart.
//!
//! Needs `LAGWATCH_TEST_ZOOKEEPER`, `LAGWATCH_TEST_KAFKA` and `LAGWATCH_TEST_SERVICES`
//! (`eval "$(scripts/services env)"`); fails without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_component::FromConfig;
use lagwatch_component::{CancellationToken, EventSender, OffsetSource, SourceContext};
use lagwatch_config::ZookeeperSourceConfig;
use lagwatch_core::{BrokerOffset, EvaluatorSettings, Event, GroupReport, LagModel, ModelSettings};
use lagwatch_source_zookeeper::ZookeeperSource;
use lagwatch_test_support::services::{env, kafka, names, zookeeper};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

const CLUSTER: &str = "live";

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// Broker offsets of `topic` from the harness Kafka's high-water marks.
async fn broker_offsets(topic: &str) -> Event {
    let marks = kafka::high_watermarks(&env::kafka(), topic).await.unwrap();
    Event::BrokerOffsets {
        cluster: CLUSTER.into(),
        topic: topic.into(),
        partition_count: u32::try_from(marks.len()).unwrap(),
        offsets: marks
            .iter()
            .map(|(&partition, &high_water)| BrokerOffset {
                partition,
                high_water,
                log_start: None,
            })
            .collect(),
        observed_ms: now_ms(),
    }
}

fn exact(name: &str) -> String {
    format!("^{}$", name.replace('.', "\\."))
}

/// Lag of one partition: (topic, partition, current lag).
type PartitionLag = (String, i32, u64);

/// (total lag, per (topic, partition) lag) of `group` in `reports`.
fn lags(reports: &[GroupReport], group: &str) -> Option<(u64, Vec<PartitionLag>)> {
    reports.iter().find(|r| r.group == group).map(|r| {
        (
            r.totallag,
            r.partitions
                .iter()
                .map(|p| (p.topic.clone(), p.partition, p.current_lag))
                .collect(),
        )
    })
}

/// Waits (bounded) for a batch holding an event `wanted` accepts; every event received is
/// appended to `log`.
async fn wait_for(
    rx: &mut mpsc::Receiver<Vec<Event>>,
    log: &mut Vec<Event>,
    what: &str,
    wanted: impl Fn(&Event) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let batch = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no {what} within 60 s; events so far: {log:#?}"))
            .expect("source stopped");
        let found = batch.iter().any(&wanted);
        log.extend(batch);
        if found {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_offsets_follows_changes_and_survives_a_restart() {
    let zk = env::zookeeper();
    let broker = env::kafka();
    let t1 = names::topic("lw-zk-a");
    let t2 = names::topic("lw-zk-b");
    let g1 = names::group("lw-zk-one");
    let g2 = names::group("lw-zk-two");
    kafka::create_topic(&broker, &t1, 2).await.unwrap();
    kafka::create_topic(&broker, &t2, 1).await.unwrap();
    kafka::produce(&broker, &t1, Some(0), 10).await.unwrap();
    kafka::produce(&broker, &t1, Some(1), 6).await.unwrap();
    kafka::produce(&broker, &t2, Some(0), 8).await.unwrap();

    for (group, topic, partition, offset) in [
        (&g1, &t1, 0, 4),
        (&g1, &t1, 1, 6),
        (&g1, &t2, 0, 3),
        (&g2, &t1, 0, 10),
        (&g2, &t2, 0, 1),
    ] {
        zookeeper::write_offset(&zk, group, topic, partition, offset)
            .await
            .unwrap();
    }
    // A value that is not an offset: skipped and counted.
    zookeeper::write(&zk, &zookeeper::offset_path(&g2, &t1, 1), b"not-a-number")
        .await
        .unwrap();

    let mut config = ZookeeperSourceConfig::new(CLUSTER);
    config.servers = zk.clone();
    config.refresh = Duration::from_millis(500);
    config.session_timeout = Duration::from_secs(10);
    config.group_allowlist = format!("{}|{}", exact(&g1), exact(&g2));
    let source = Arc::new(ZookeeperSource::from_config("zookeeper", &config).unwrap());

    // Two groups on two topics: lag as the high-water marks give it.
    let mut model = LagModel::new(ModelSettings::default());
    let now = now_ms();
    for topic in [&t1, &t2] {
        model.apply(&broker_offsets(topic).await, now);
    }
    let first = source.poll().await;
    for event in &first {
        model.apply(event, now);
    }
    assert_eq!(source.bad_values(), 1);
    let snapshot = model.snapshot(now, &EvaluatorSettings::default(), 1);
    let mut expected_g1 = vec![(t1.clone(), 0, 6), (t1.clone(), 1, 0), (t2.clone(), 0, 5)];
    expected_g1.sort();
    let (total, mut per) = lags(&snapshot.groups, &g1).unwrap();
    per.sort();
    assert_eq!((total, per), (11, expected_g1));
    // g2 never committed partition 1 of t1 (its znode is bad): lag 0 there, as in Burrow.
    let (total, mut per) = lags(&snapshot.groups, &g2).unwrap();
    per.sort();
    let mut expected_g2 = vec![(t1.clone(), 0, 0), (t1.clone(), 1, 0), (t2.clone(), 0, 7)];
    expected_g2.sort();
    assert_eq!((total, per), (7, expected_g2));
    // Commit time and order come from the znode.
    assert!(first.iter().all(|e| match e {
        Event::Commit {
            order,
            timestamp_ms,
            ..
        } => order.is_some() && *timestamp_ms > 0,
        _ => true,
    }));
    // Nothing changed: the next read sends no commit, only when each group's offsets were
    // read (still current then).
    let again = source.poll().await;
    assert!(!again.is_empty());
    assert!(
        again.iter().all(|e| matches!(e, Event::CommitsRead { .. })),
        "{again:?}"
    );

    // Running: a later write arrives.
    let (events, mut rx) = EventSender::channel("test", 64);
    let shutdown = CancellationToken::new();
    let running = {
        let source = Arc::clone(&source);
        let ctx = SourceContext {
            events,
            shutdown: shutdown.clone(),
        };
        tokio::spawn(async move { source.run(ctx).await })
    };
    let mut log = first.clone();
    zookeeper::write_offset(&zk, &g1, &t1, 1, 2).await.unwrap();
    wait_for(
        &mut rx,
        &mut log,
        "commit of the later write",
        |e| matches!(e, Event::Commit { group, offset: 2, .. } if *group == g1),
    )
    .await;

    // A deleted group disappears.
    zookeeper::delete_group(&zk, &g2).await.unwrap();
    wait_for(
        &mut rx,
        &mut log,
        "deletion of the group",
        |e| matches!(e, Event::GroupDeleted { group, .. } if *group == g2),
    )
    .await;
    let now = now_ms();
    for event in &log[first.len()..] {
        model.apply(event, now);
    }
    let snapshot = model.snapshot(now, &EvaluatorSettings::default(), 2);
    assert!(lags(&snapshot.groups, &g2).is_none());
    assert_eq!(lags(&snapshot.groups, &g1).unwrap().0, 15);

    // ZooKeeper restarts: no crash, and data resumes.
    env::services_ctl().restart("zookeeper").await.unwrap();
    zookeeper::write_offset(&zk, &g1, &t2, 0, 5).await.unwrap();
    wait_for(
        &mut rx,
        &mut log,
        "commit written after the restart",
        |e| matches!(e, Event::Commit { group, offset: 5, .. } if *group == g1),
    )
    .await;
    assert!(!running.is_finished());

    // No commit was sent twice, across polls and sessions.
    let mut seen = BTreeSet::new();
    for event in &log {
        if let Event::Commit {
            group,
            topic,
            partition,
            order,
            ..
        } = event
        {
            assert!(
                seen.insert((group.clone(), topic.clone(), *partition, *order)),
                "commit sent twice: {event:?}"
            );
        }
    }

    shutdown.cancel();
    running.await.unwrap().unwrap();
    zookeeper::delete_group(&zk, &g1).await.unwrap();
    kafka::delete_topic(&broker, &t1).await.unwrap();
    kafka::delete_topic(&broker, &t2).await.unwrap();
}
