//! Which instance reports a topic when instances share a cluster: the owner of the
//! offsets-topic partition the topic's name hashes to.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use lagwatch_component::clock::wall_clock_ms as now_ms;
use lagwatch_component::{ComponentError, OffsetSource, SourceContext, async_trait};
use lagwatch_core::sharding::offsets_partition;
use lagwatch_core::{BrokerOffset, Event, Snapshot};
use lagwatch_runtime::{CancellationToken, Pipeline};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

mod common;
use common::Null;

/// Sends whatever batches the test hands it, recording a read of cluster `c` after each.
struct Remote(tokio::sync::Mutex<mpsc::UnboundedReceiver<Vec<Event>>>);

#[async_trait]
impl OffsetSource for Remote {
    fn name(&self) -> &str {
        "remote"
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }
    async fn run(&self, ctx: SourceContext) -> Result<(), ComponentError> {
        let mut rx = self.0.lock().await;
        while let Some(batch) = tokio::select! {
            () = ctx.shutdown.cancelled() => None,
            batch = rx.recv() => batch,
        } {
            ctx.events.send_batch(batch).await?;
            ctx.record_read("c", Duration::from_millis(1), Ok(()));
        }
        Ok(())
    }
}

/// Waits (at most 20 s) until `done` holds for the newest snapshot.
async fn wait_for(
    latest: &mut watch::Receiver<Snapshot>,
    what: &str,
    done: impl Fn(&Snapshot) -> bool,
) {
    let waited = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            latest.changed().await.unwrap();
            if done(&latest.borrow().clone()) {
                return;
            }
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting for {what}");
}

/// Broker offsets of `topic` (one partition) in cluster `c`.
fn broker(topic: &str) -> Event {
    Event::BrokerOffsets {
        cluster: "c".into(),
        topic: topic.into(),
        partition_count: 1,
        offsets: vec![BrokerOffset {
            partition: 0,
            high_water: 10,
            log_start: Some(0),
        }],
        observed_ms: now_ms(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_topic_is_reported_by_the_instance_owning_its_name_s_partition() {
    // Two topic names in different partitions of four.
    let first = "orders".to_owned();
    let second = (0..)
        .map(|i| format!("payments-{i}"))
        .find(|t| offsets_partition(t, 4) != offsets_partition(&first, 4))
        .unwrap();
    let topics = |s: &Snapshot| -> Vec<String> {
        let mut names: Vec<String> = s.topics().iter().map(|t| t.topic.clone()).collect();
        names.sort();
        names
    };
    let (events, rx) = mpsc::unbounded_channel();
    let pipeline = Pipeline::builder()
        .source(Box::new(Remote(tokio::sync::Mutex::new(rx))))
        .sink(Box::new(Null))
        .evaluation_interval(Duration::from_millis(50))
        .build();
    let mut latest = pipeline.subscribe();
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(pipeline.run(shutdown.clone()));
    // Alone (no ownership news): every topic.
    events.send(vec![broker(&first), broker(&second)]).unwrap();
    wait_for(&mut latest, "both topics", |s| s.topics().len() == 2).await;

    // Sharing the cluster and given the first topic's partition: only that one.
    events
        .send(vec![Event::GroupsAcquired {
            cluster: "c".into(),
            offsets_partitions: vec![offsets_partition(&first, 4)],
            partition_count: 4,
        }])
        .unwrap();
    wait_for(&mut latest, "the owned topic only", |s| {
        topics(s) == [first.clone()]
    })
    .await;

    // Given nothing (more instances than partitions): no topic at all.
    events
        .send(vec![Event::GroupsReleased {
            cluster: "c".into(),
            offsets_partitions: vec![offsets_partition(&first, 4)],
            partition_count: 4,
        }])
        .unwrap();
    wait_for(&mut latest, "no topic", |s| s.topics().is_empty()).await;
    shutdown.cancel();
    run.await.unwrap().unwrap();
}
