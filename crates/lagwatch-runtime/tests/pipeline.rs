//! Pipeline behaviour with scripted sources and recording sinks.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use lagwatch_component::{
    Ack, ComponentError, LagSink, OffsetSource, RuleEngine, SourceContext, async_trait,
};
use lagwatch_core::alert::{AlertNotification, AlertState, Severity};
use lagwatch_core::{BrokerOffset, Event, GroupStatus, Snapshot};
use lagwatch_runtime::{CancellationToken, Pipeline, RuntimeError};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;
use common::Scripted;

/// Fails at once with a permanent error.
struct Broken;

#[async_trait]
impl OffsetSource for Broken {
    fn name(&self) -> &str {
        "broken"
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Err(ComponentError::permanent("broken", "bad credentials"))
    }
    async fn run(&self, _: SourceContext) -> Result<(), ComponentError> {
        Err(ComponentError::permanent("broken", "bad credentials"))
    }
}

#[derive(Default, Clone)]
struct Recording {
    snapshots: Arc<Mutex<Vec<Snapshot>>>,
    flushed: Arc<Mutex<u32>>,
}

#[async_trait]
impl LagSink for Recording {
    fn name(&self) -> &str {
        "recording"
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }
    async fn write(&self, snapshot: &Snapshot) -> Result<Ack, ComponentError> {
        self.snapshots.lock().unwrap().push(snapshot.clone());
        Ok(Ack {
            records: snapshot.groups().len(),
        })
    }
    async fn flush(&self) -> Result<(), ComponentError> {
        *self.flushed.lock().unwrap() += 1;
        Ok(())
    }
}

/// A sink that never finishes a write: evaluation must go on regardless.
struct Stuck;

#[async_trait]
impl LagSink for Stuck {
    fn name(&self) -> &str {
        "stuck"
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }
    async fn write(&self, _: &Snapshot) -> Result<Ack, ComponentError> {
        std::future::pending().await
    }
    async fn flush(&self) -> Result<(), ComponentError> {
        Ok(())
    }
}

fn events(now: i64) -> Vec<Event> {
    vec![
        Event::BrokerOffsets {
            cluster: "c".into(),
            topic: "t".into(),
            partition_count: 1,
            offsets: vec![BrokerOffset {
                partition: 0,
                high_water: 100,
                log_start: Some(0),
            }],
            observed_ms: now,
        },
        Event::Commit {
            cluster: "c".into(),
            group: "g".into(),
            topic: "t".into(),
            partition: 0,
            offset: 100,
            timestamp_ms: now,
            order: None,
        },
    ]
}

use lagwatch_component::clock::wall_clock_ms as now_ms;

async fn wait_for_cycles(rx: &mut tokio::sync::watch::Receiver<Snapshot>, cycles: u64) {
    tokio::time::timeout(Duration::from_secs(30), async {
        while rx.borrow().cycle() < cycles {
            rx.changed().await.unwrap();
        }
    })
    .await
    .expect("pipeline kept evaluating");
}

#[tokio::test]
async fn events_reach_the_model_and_snapshots_reach_every_sink() {
    let sink = Recording::default();
    let pipeline = Pipeline::builder()
        .source(Box::new(Scripted {
            batches: vec![events(now_ms())],
        }))
        .sink(Box::new(sink.clone()))
        .evaluation_interval(Duration::from_millis(20))
        .build();
    let mut latest = pipeline.subscribe();
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(pipeline.run(shutdown.clone()));
    wait_for_cycles(&mut latest, 3).await;
    shutdown.cancel();
    let summary = run.await.unwrap().unwrap();

    assert_eq!(summary.events, 2);
    assert_eq!(summary.events_ignored, 0);
    assert!(summary.cycles >= 3);
    let snapshots = sink.snapshots.lock().unwrap();
    let last = snapshots.last().expect("at least one snapshot");
    assert_eq!(last.groups().len(), 1);
    assert_eq!(last.groups()[0].group, "g");
    assert_eq!(last.groups()[0].status, GroupStatus::Ok);
    assert_eq!(last.groups()[0].totallag, 0);
    // The final evaluation at shutdown is delivered too, then the sink is flushed once.
    assert_eq!(snapshots.len() as u64, summary.cycles);
    assert_eq!(*sink.flushed.lock().unwrap(), 1);
    assert_eq!(summary.sinks[0].accepted, summary.cycles);
    assert_eq!(summary.sinks[0].dropped, 0);
}

#[tokio::test]
async fn a_stuck_sink_does_not_stop_evaluation() {
    let healthy = Recording::default();
    let pipeline = Pipeline::builder()
        .source(Box::new(Scripted {
            batches: vec![events(now_ms())],
        }))
        .sink(Box::new(Stuck))
        .sink(Box::new(healthy.clone()))
        .sink_queue(2)
        .shutdown_grace(Duration::from_millis(500))
        .evaluation_interval(Duration::from_millis(10))
        .build();
    let mut latest = pipeline.subscribe();
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(pipeline.run(shutdown.clone()));
    wait_for_cycles(&mut latest, 10).await;
    shutdown.cancel();
    // The stuck sink is abandoned once the shutdown grace period is over.
    let summary = run.await.unwrap().unwrap();
    let stuck = summary.sinks.iter().find(|s| s.name == "stuck").unwrap();
    // One snapshot is being written forever, two wait in the queue, the rest were dropped.
    assert!(
        stuck.dropped >= summary.cycles - 3,
        "{stuck:?} after {} cycles",
        summary.cycles
    );
    let healthy_stats = summary
        .sinks
        .iter()
        .find(|s| s.name == "recording")
        .unwrap();
    assert_eq!(healthy_stats.accepted, summary.cycles);
}

#[tokio::test]
async fn all_sources_failing_ends_the_run_with_their_error() {
    let sink = Recording::default();
    let pipeline = Pipeline::builder()
        .source(Box::new(Broken))
        .sink(Box::new(sink.clone()))
        .evaluation_interval(Duration::from_millis(10))
        .build();
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        pipeline.run(CancellationToken::new()),
    )
    .await
    .expect("run ends by itself");
    match result {
        Err(RuntimeError::AllSourcesFailed(e)) => {
            assert!(e.to_string().contains("bad credentials"))
        }
        other => panic!("expected AllSourcesFailed, got {other:?}"),
    }
    // Sinks are still flushed.
    assert_eq!(*sink.flushed.lock().unwrap(), 1);
}

/// Fires once for every group whose total lag is above zero.
struct LagAboveZero(BTreeMap<String, bool>);

impl RuleEngine for LagAboveZero {
    fn evaluate(&mut self, snapshot: &Snapshot) -> Vec<AlertNotification> {
        let mut out = Vec::new();
        for g in snapshot.groups() {
            let firing = g.totallag > 0;
            let was = self.0.insert(g.group.clone(), firing).unwrap_or(false);
            if firing && !was {
                let mut labels = BTreeMap::new();
                labels.insert("group".to_string(), g.group.clone());
                out.push(AlertNotification::new(
                    "lag-above-zero",
                    AlertState::Firing,
                    Severity::Warning,
                    labels,
                    g.totallag as f64,
                    Some(0.0),
                    "lag above zero",
                    snapshot.at_ms(),
                    snapshot.at_ms(),
                ));
            }
        }
        out
    }
}

#[derive(Default, Clone)]
struct Inbox(Arc<Mutex<Vec<AlertNotification>>>);

#[async_trait]
impl lagwatch_component::Alerter for Inbox {
    fn name(&self) -> &str {
        "inbox"
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }
    async fn deliver(
        &self,
        n: &AlertNotification,
    ) -> Result<lagwatch_component::Delivery, ComponentError> {
        self.0.lock().unwrap().push(n.clone());
        Ok(lagwatch_component::Delivery { attempts: 1 })
    }
}

#[tokio::test]
async fn rule_notifications_reach_alerters() {
    let now = now_ms();
    let mut batch = events(now);
    // Produce more: lag 50 for the group.
    batch.push(Event::BrokerOffsets {
        cluster: "c".into(),
        topic: "t".into(),
        partition_count: 1,
        offsets: vec![BrokerOffset {
            partition: 0,
            high_water: 150,
            log_start: Some(0),
        }],
        observed_ms: now,
    });
    let inbox = Inbox::default();
    let pipeline = Pipeline::builder()
        .source(Box::new(Scripted {
            batches: vec![batch],
        }))
        .sink(Box::new(Recording::default()))
        .alerter(Box::new(inbox.clone()))
        .rules(Box::new(LagAboveZero(BTreeMap::new())))
        .evaluation_interval(Duration::from_millis(10))
        .build();
    let mut latest = pipeline.subscribe();
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(pipeline.run(shutdown.clone()));
    wait_for_cycles(&mut latest, 5).await;
    shutdown.cancel();
    let summary = run.await.unwrap().unwrap();
    let got = inbox.0.lock().unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].value, 50.0);
    assert_eq!(summary.notifications, 1);
    assert_eq!(summary.alerters[0].accepted, 1);
}

#[tokio::test]
async fn the_shutdown_evaluation_never_shares_a_second_with_the_previous_one() {
    let sink = Recording::default();
    let pipeline = Pipeline::builder()
        .source(Box::new(Scripted {
            batches: vec![events(now_ms())],
        }))
        .sink(Box::new(sink.clone()))
        .evaluation_interval(Duration::from_millis(300))
        .build();
    let mut latest = pipeline.subscribe();
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(pipeline.run(shutdown.clone()));
    wait_for_cycles(&mut latest, 1).await;
    shutdown.cancel();
    let summary = run.await.unwrap().unwrap();
    let seconds: Vec<i64> = sink
        .snapshots
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.at_ms().div_euclid(1000))
        .collect();
    assert_eq!(seconds.len() as u64, summary.cycles);
    let n = seconds.len();
    assert_ne!(
        seconds[n - 2],
        seconds[n - 1],
        "records would share their keys"
    );
}
