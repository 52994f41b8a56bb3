//! The pipeline handle: live statistics, readiness, a group's windows and deleting a group.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use lagwatch_component::{Ack, ComponentError, LagSink, async_trait};
use lagwatch_core::{BrokerOffset, Event, Snapshot};
use lagwatch_runtime::{CancellationToken, NotRunning, Pipeline};
use std::time::Duration;

mod common;
use common::Scripted;

struct Counting;

#[async_trait]
impl LagSink for Counting {
    fn name(&self) -> &str {
        "counting"
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }
    async fn write(&self, snapshot: &Snapshot) -> Result<Ack, ComponentError> {
        Ok(Ack {
            records: snapshot.groups().len(),
        })
    }
    async fn flush(&self) -> Result<(), ComponentError> {
        Ok(())
    }
}

fn events(now: i64) -> Vec<Event> {
    let commit = |topic: &str| Event::Commit {
        cluster: "c".into(),
        group: "g".into(),
        topic: topic.into(),
        partition: 0,
        offset: 90,
        timestamp_ms: now,
        order: None,
    };
    let broker = |topic: &str| Event::BrokerOffsets {
        cluster: "c".into(),
        topic: topic.into(),
        partition_count: 1,
        offsets: vec![BrokerOffset {
            partition: 0,
            high_water: 100,
            log_start: Some(0),
        }],
        observed_ms: now,
    };
    vec![broker("t"), broker("u"), commit("t"), commit("u")]
}

async fn wait_until(
    rx: &mut tokio::sync::watch::Receiver<Snapshot>,
    done: impl Fn(&Snapshot) -> bool,
) {
    tokio::time::timeout(Duration::from_secs(30), async {
        while !done(&rx.borrow()) {
            rx.changed().await.unwrap();
        }
    })
    .await
    .expect("the pipeline kept evaluating");
}

#[tokio::test]
async fn the_handle_answers_from_the_running_model() {
    let now = lagwatch_component::clock::wall_clock_ms();
    let pipeline = Pipeline::builder()
        .source(Box::new(Scripted {
            batches: vec![events(now)],
        }))
        .sink(Box::new(Counting))
        .evaluation_interval(Duration::from_millis(20))
        .build();
    let handle = pipeline.handle();
    let before = handle.stats();
    assert!(!before.ready(), "not ready before it runs: {before:?}");
    assert_eq!(handle.latest().cycle(), 0);

    let mut latest = handle.subscribe();
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(pipeline.run(shutdown.clone()));
    wait_until(&mut latest, |s| s.groups().len() == 1).await;

    let stats = handle.stats();
    assert!(stats.ready(), "{stats:?}");
    assert_eq!(stats.events, 4);
    assert!(stats.cycles >= 1);
    assert_eq!(stats.sources.len(), 1);
    assert_eq!(stats.reads.len(), 1);
    assert_eq!(stats.reads[0].cluster, "c");
    assert_eq!(stats.sinks.len(), 1);
    assert_eq!(stats.sinks[0].name, "counting");
    assert_eq!(stats.sinks[0].queue_capacity, 16);

    let detail = handle.group_detail("c", "g").await.unwrap().unwrap();
    assert_eq!(detail.keys().collect::<Vec<_>>(), vec!["t", "u"]);
    assert_eq!(detail["t"][0].current_lag, 10);
    assert_eq!(handle.group_detail("c", "nope").await, Ok(None));

    assert_eq!(handle.delete_group_topic("c", "g", "t").await, Ok(true));
    let detail = handle.group_detail("c", "g").await.unwrap().unwrap();
    assert_eq!(detail.keys().collect::<Vec<_>>(), vec!["u"]);
    assert_eq!(handle.delete_group("c", "g").await, Ok(true));
    assert_eq!(handle.delete_group("c", "g").await, Ok(false));
    wait_until(&mut latest, |s| s.groups().is_empty()).await;

    shutdown.cancel();
    run.await.unwrap().unwrap();
    assert_eq!(handle.group_detail("c", "g").await, Err(NotRunning));
}

/// The first evaluation does not wait a whole interval once every source has read: with an
/// interval of an hour, the first snapshot still holds the source's group, and the next one
/// waits for the interval.
#[tokio::test]
async fn the_first_evaluation_follows_every_sources_first_read() {
    let now = lagwatch_component::clock::wall_clock_ms();
    let pipeline = Pipeline::builder()
        .source(Box::new(Scripted {
            batches: vec![events(now)],
        }))
        .sink(Box::new(Counting))
        .evaluation_interval(Duration::from_secs(3600))
        .build();
    let handle = pipeline.handle();
    let mut latest = handle.subscribe();
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(pipeline.run(shutdown.clone()));
    wait_until(&mut latest, |s| s.cycle() >= 1).await;
    let first = handle.latest();
    assert_eq!(first.cycle(), 1);
    assert_eq!(first.groups().len(), 1, "the source's events are in it");
    assert_eq!(first.groups()[0].totallag, 20);
    assert!(handle.stats().ready());
    // No second evaluation before the interval.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(handle.latest().cycle(), 1);
    shutdown.cancel();
    run.await.unwrap().unwrap();
}

#[test]
fn the_stats_slot_shows_the_built_pipeline() {
    use lagwatch_component::StatsProvider;
    let builder = Pipeline::builder().source(Box::new(Scripted {
        batches: Vec::new(),
    }));
    let slot = builder.stats_slot();
    assert!(
        slot.runtime_stats().sources.is_empty(),
        "empty before build"
    );
    let pipeline = builder.build();
    // The pipeline has not run yet: its sources are listed once it starts, but the slot
    // already answers with the pipeline's own figures (nothing evaluated).
    assert_eq!(slot.runtime_stats(), pipeline.handle().stats());
}
