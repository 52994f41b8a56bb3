//! Open alerts moving with their groups between two pipelines that share a cluster, through
//! an in-memory handover store: announced once, resolved once, whichever instance owns the
//! group.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use lagwatch_component::{
    Ack, Alerter, ComponentError, Delivery, LagSink, MemoryHandover, OffsetSource, SourceContext,
    async_trait,
};
use lagwatch_config::{AggregateKind, RuleConfig, ThresholdRuleConfig};
use lagwatch_core::alert::{AlertNotification, AlertState};
use lagwatch_core::{BrokerOffset, Event, Snapshot};
use lagwatch_runtime::{CancellationToken, Pipeline, RunSummary, RuntimeError};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use lagwatch_component::clock::wall_clock_ms as now_ms;

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
        loop {
            tokio::select! {
                () = ctx.shutdown.cancelled() => return Ok(()),
                batch = rx.recv() => match batch {
                    Some(batch) => {
                        ctx.events.send_batch(batch).await?;
                        ctx.record_read("c", Duration::from_millis(1), Ok(()));
                    }
                    None => {
                        ctx.shutdown.cancelled().await;
                        return Ok(());
                    }
                },
            }
        }
    }
}

struct Null;

#[async_trait]
impl LagSink for Null {
    fn name(&self) -> &str {
        "null"
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }
    async fn write(&self, s: &Snapshot) -> Result<Ack, ComponentError> {
        Ok(Ack {
            records: s.groups().len(),
        })
    }
    async fn flush(&self) -> Result<(), ComponentError> {
        Ok(())
    }
}

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<AlertNotification>>>);

#[async_trait]
impl Alerter for Received {
    fn name(&self) -> &str {
        "received"
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }
    async fn deliver(&self, n: &AlertNotification) -> Result<Delivery, ComponentError> {
        self.0.lock().unwrap().push(n.clone());
        Ok(Delivery { attempts: 1 })
    }
}

impl Received {
    fn states(&self) -> Vec<AlertState> {
        self.0.lock().unwrap().iter().map(|n| n.state).collect()
    }
}

/// Group `g` of topic `t` (one partition) committed at `committed` while the log ends at
/// `end`, twice, ten seconds apart.
fn commits(now: i64, committed: i64, end: i64) -> Vec<Event> {
    let mut out = Vec::new();
    for at in [now - 10_000, now] {
        out.push(Event::BrokerOffsets {
            cluster: "c".into(),
            topic: "t".into(),
            partition_count: 1,
            offsets: vec![BrokerOffset {
                partition: 0,
                high_water: end,
                log_start: Some(0),
            }],
            observed_ms: at,
        });
        out.push(Event::Commit {
            cluster: "c".into(),
            group: "g".into(),
            topic: "t".into(),
            partition: 0,
            offset: committed,
            timestamp_ms: at,
            order: None,
        });
    }
    out
}

/// The only offsets-topic partition (of one), given to or taken from an instance.
fn acquired() -> Event {
    Event::GroupsAcquired {
        cluster: "c".into(),
        offsets_partitions: vec![0],
        partition_count: 1,
    }
}

fn released() -> Event {
    Event::GroupsReleased {
        cluster: "c".into(),
        offsets_partitions: vec![0],
        partition_count: 1,
    }
}

struct Instance {
    events: mpsc::UnboundedSender<Vec<Event>>,
    latest: watch::Receiver<Snapshot>,
    received: Received,
    shutdown: CancellationToken,
    run: JoinHandle<Result<RunSummary, RuntimeError>>,
}

/// A pipeline with the seed rule made quick: last lag of a partition above 10, decided
/// every 100 ms.
fn start(store: &Arc<MemoryHandover>) -> Instance {
    let rule = RuleConfig::Threshold(ThresholdRuleConfig {
        aggregate: AggregateKind::Last,
        interval: Duration::from_millis(100),
        ..ThresholdRuleConfig::default()
    });
    let rules =
        lagwatch_alert::RuleSet::from_config(&BTreeMap::from([("lag".to_owned(), rule)])).unwrap();
    let (events, rx) = mpsc::unbounded_channel();
    let received = Received::default();
    let pipeline = Pipeline::builder()
        .source(Box::new(Remote(tokio::sync::Mutex::new(rx))))
        .sink(Box::new(Null))
        .alerter(Box::new(received.clone()))
        .rules(Box::new(rules))
        .alert_handover("c", store.clone())
        .evaluation_interval(Duration::from_millis(50))
        .shutdown_grace(Duration::from_secs(5))
        .build();
    let latest = pipeline.subscribe();
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(pipeline.run(shutdown.clone()));
    Instance {
        events,
        latest,
        received,
        shutdown,
        run,
    }
}

/// Waits (at most 20 s) until `done` holds, checking after every evaluation of `instance`.
async fn wait_for(instance: &mut Instance, what: &str, done: impl Fn(&Snapshot) -> bool) {
    let waited = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            instance.latest.changed().await.unwrap();
            let snapshot = instance.latest.borrow().clone();
            if done(&snapshot) {
                return;
            }
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting for {what}");
}

/// Lets `n` more evaluations of `instance` pass.
async fn evaluations(instance: &mut Instance, n: u64) {
    let until = instance.latest.borrow().cycle() + n;
    wait_for(instance, "more evaluations", |s| s.cycle() >= until).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_firing_alert_moves_with_its_group_and_is_resolved_once_by_the_new_owner() {
    let store = Arc::new(MemoryHandover::new());

    // The first owner sees the group lag by 50 and fires; the open alert reaches the store.
    let mut old = start(&store);
    old.events.send(vec![acquired()]).unwrap();
    old.events.send(commits(now_ms(), 100, 150)).unwrap();
    let fired = old.received.clone();
    wait_for(&mut old, "the first owner's firing", |_| {
        !fired.states().is_empty()
    })
    .await;
    evaluations(&mut old, 3).await;
    assert_eq!(old.received.states(), [AlertState::Firing]);
    assert_eq!(store.len(), 1);
    let started = old.received.0.lock().unwrap()[0].started_at_ms;

    // The group moves away: the first owner lets the alert go silently and leaves it in the
    // store for the next owner.
    old.events.send(vec![released()]).unwrap();
    wait_for(&mut old, "the group to leave", |s| s.groups().is_empty()).await;
    evaluations(&mut old, 5).await;
    assert_eq!(old.received.states(), [AlertState::Firing]);
    assert_eq!(
        store.len(),
        1,
        "a handed-over alert is not closed in the store"
    );

    // The new owner takes it: still lagging, so nothing is announced again.
    let mut new = start(&store);
    new.events.send(vec![acquired()]).unwrap();
    new.events.send(commits(now_ms(), 100, 150)).unwrap();
    wait_for(&mut new, "the group at the new owner", |s| {
        s.groups().iter().any(|g| !g.warming_up && g.totallag == 50)
    })
    .await;
    evaluations(&mut new, 5).await;
    assert!(
        new.received.states().is_empty(),
        "{:?}",
        new.received.states()
    );

    // The consumer catches up: the new owner resolves the incident the first one opened,
    // once, and the store forgets it.
    new.events.send(commits(now_ms(), 150, 150)).unwrap();
    let resolved = new.received.clone();
    wait_for(&mut new, "the resolution", |_| {
        !resolved.states().is_empty()
    })
    .await;
    evaluations(&mut new, 5).await;
    let got = new.received.0.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].state, AlertState::Resolved);
    assert_eq!(got[0].started_at_ms, started);
    assert!(store.is_empty());

    for instance in [old, new] {
        instance.shutdown.cancel();
        instance.run.await.unwrap().unwrap();
        assert!(instance.received.states().len() <= 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_previous_owners_record_the_new_owner_announces_the_alert() {
    // The control: the same takeover with an empty store fires, so the test above proves
    // the handover and not a quiet rule.
    let store = Arc::new(MemoryHandover::new());
    let mut new = start(&store);
    new.events.send(vec![acquired()]).unwrap();
    new.events.send(commits(now_ms(), 100, 150)).unwrap();
    let fired = new.received.clone();
    wait_for(&mut new, "the firing", |_| !fired.states().is_empty()).await;
    assert_eq!(new.received.states(), [AlertState::Firing]);
    new.shutdown.cancel();
    new.run.await.unwrap().unwrap();
}
