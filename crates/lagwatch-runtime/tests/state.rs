//! The state directory (windows, open alerts, outbox) across restarts, and supervision of
//! component tasks.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use lagwatch_component::{
    Ack, Alerter, ComponentError, Delivery, LagSink, RuleEngine, async_trait,
};
use lagwatch_core::alert::{AlertNotification, AlertState, Severity};
use lagwatch_core::{BrokerOffset, Event, Snapshot};
use lagwatch_runtime::{CancellationToken, Pipeline, RuntimeError};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;
use common::{Null, Scripted};

use lagwatch_component::clock::wall_clock_ms as now_ms;

/// Group `g` with lag 50 on one partition, two commits ten seconds apart.
fn lagging(now: i64) -> Vec<Event> {
    let broker = |hw: i64, at: i64| Event::BrokerOffsets {
        cluster: "c".into(),
        topic: "t".into(),
        partition_count: 1,
        offsets: vec![BrokerOffset {
            partition: 0,
            high_water: hw,
            log_start: Some(0),
        }],
        observed_ms: at,
    };
    let commit = |offset: i64, at: i64| Event::Commit {
        cluster: "c".into(),
        group: "g".into(),
        topic: "t".into(),
        partition: 0,
        offset,
        timestamp_ms: at,
        order: None,
    };
    vec![
        broker(100, now - 10_000),
        commit(60, now - 10_000),
        broker(150, now),
        commit(100, now),
    ]
}

/// Fires once per group with lag, remembers what fired, and keeps that as its alert state.
#[derive(Default)]
struct FiresOnce(BTreeMap<String, i64>);

impl RuleEngine for FiresOnce {
    fn evaluate(&mut self, snapshot: &Snapshot) -> Vec<AlertNotification> {
        let mut out = Vec::new();
        for g in snapshot.groups() {
            if g.totallag > 0 && !g.warming_up && !self.0.contains_key(&g.group) {
                self.0.insert(g.group.clone(), snapshot.at_ms());
                out.push(AlertNotification::new(
                    "lag",
                    AlertState::Firing,
                    Severity::Warning,
                    BTreeMap::from([("group".to_owned(), g.group.clone())]),
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
    fn alert_state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.0).ok()
    }
    fn restore_state(
        &mut self,
        alerts: Option<serde_json::Value>,
        _: Option<serde_json::Value>,
    ) -> Result<(), String> {
        if let Some(v) = alerts {
            self.0 = serde_json::from_value(v).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// Delivers while `up`, else answers with a transient error; records what it accepted.
#[derive(Clone, Default)]
struct Receiver {
    up: Arc<AtomicBool>,
    attempts: Arc<AtomicU32>,
    got: Arc<Mutex<Vec<AlertNotification>>>,
    refuse_for_good: bool,
}

#[async_trait]
impl Alerter for Receiver {
    fn name(&self) -> &str {
        "receiver"
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }
    async fn deliver(&self, n: &AlertNotification) -> Result<Delivery, ComponentError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        if self.refuse_for_good {
            return Err(ComponentError::permanent("receiver", "400 bad request"));
        }
        if !self.up.load(Ordering::SeqCst) {
            return Err(ComponentError::transient("receiver", "503 unavailable"));
        }
        self.got.lock().unwrap().push(n.clone());
        Ok(Delivery { attempts: 1 })
    }
}

/// Runs a pipeline until `until` holds for the newest snapshot (or 30 s), then shuts it down.
async fn run_until(
    dir: &Path,
    batches: Vec<Vec<Event>>,
    receiver: Receiver,
    until: impl Fn(&Snapshot, &Receiver) -> bool,
) -> (
    Vec<Snapshot>,
    Result<lagwatch_runtime::RunSummary, RuntimeError>,
) {
    let pipeline = Pipeline::builder()
        .source(Box::new(Scripted { batches }))
        .sink(Box::new(Null))
        .alerter(Box::new(receiver.clone()))
        .rules(Box::new(FiresOnce::default()))
        .evaluation_interval(Duration::from_millis(50))
        .state_dir(Some(dir.to_owned()))
        .state_save_interval(Duration::ZERO)
        .shutdown_grace(Duration::from_secs(5))
        .build();
    let mut latest = pipeline.subscribe();
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(pipeline.run(shutdown.clone()));
    let mut seen = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            latest.changed().await.unwrap();
            let snap = latest.borrow().clone();
            seen.push(snap.clone());
            if until(&snap, &receiver) {
                break;
            }
        }
    })
    .await;
    shutdown.cancel();
    (seen, run.await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn windows_and_open_alerts_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::default();
    receiver.up.store(true, Ordering::SeqCst);
    let (_, result) = run_until(
        dir.path(),
        vec![lagging(now_ms())],
        receiver.clone(),
        |_, r| !r.got.lock().unwrap().is_empty(),
    )
    .await;
    result.unwrap();
    assert_eq!(receiver.got.lock().unwrap().len(), 1);
    assert!(dir.path().join("model.json").exists());
    let alerts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("alerts.json")).unwrap()).unwrap();
    assert_eq!(
        alerts["outbox"],
        serde_json::json!([]),
        "delivered, so removed"
    );

    // Restart with a source that says nothing: the windows come back (flagged until the
    // cluster is heard of), and the open alert is not sent again.
    let (seen, result) =
        run_until(dir.path(), vec![], receiver.clone(), |s, _| s.cycle() >= 5).await;
    result.unwrap();
    let first = &seen[0];
    assert_eq!(first.groups().len(), 1);
    assert_eq!(first.groups()[0].totallag, 50);
    assert!(first.groups()[0].warming_up);
    assert_eq!(
        first.groups()[0].partitions[0].start.map(|p| p.offset),
        Some(60)
    );
    assert_eq!(receiver.got.lock().unwrap().len(), 1);

    // The first event of the cluster ends the warm-up of the restored window.
    let health = vec![vec![Event::SourceHealth {
        cluster: "c".into(),
        healthy: true,
        reason: None,
    }]];
    let (seen, result) = run_until(dir.path(), health, receiver.clone(), |s, _| {
        s.groups().first().is_some_and(|g| !g.warming_up)
    })
    .await;
    result.unwrap();
    assert!(seen.last().is_some_and(|s| !s.groups()[0].warming_up));
    assert_eq!(receiver.got.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_undelivered_notification_is_replayed_with_its_key_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let down = Receiver::default();
    let (_, result) = run_until(dir.path(), vec![lagging(now_ms())], down.clone(), |_, r| {
        r.attempts.load(Ordering::SeqCst) >= 1
    })
    .await;
    result.unwrap();
    assert!(down.got.lock().unwrap().is_empty());
    let alerts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("alerts.json")).unwrap()).unwrap();
    let outbox = alerts["outbox"].as_array().unwrap();
    assert_eq!(outbox.len(), 1);
    let key = outbox[0]["notification"]["idempotency_key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!key.is_empty());

    let up = Receiver::default();
    up.up.store(true, Ordering::SeqCst);
    let (_, result) = run_until(dir.path(), vec![], up.clone(), |_, r| {
        !r.got.lock().unwrap().is_empty()
    })
    .await;
    let summary = result.unwrap();
    let got = up.got.lock().unwrap();
    assert_eq!(got.len(), 1, "replayed once, not fired again: {got:?}");
    assert_eq!(got[0].idempotency_key, key);
    assert_eq!(got[0].state, AlertState::Firing);
    assert_eq!(summary.alerters[0].accepted, 1);
    let alerts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("alerts.json")).unwrap()).unwrap();
    assert_eq!(alerts["outbox"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_notification_refused_for_good_leaves_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let refusing = Receiver {
        refuse_for_good: true,
        ..Receiver::default()
    };
    let (_, result) = run_until(
        dir.path(),
        vec![lagging(now_ms())],
        refusing.clone(),
        |_, r| r.attempts.load(Ordering::SeqCst) >= 1,
    )
    .await;
    let summary = result.unwrap();
    assert_eq!(summary.alerters[0].failed, 1);
    let alerts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("alerts.json")).unwrap()).unwrap();
    assert_eq!(alerts["outbox"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_state_directory_is_ignored_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.json"), b"\x00garbage").unwrap();
    std::fs::write(dir.path().join("alerts.json"), b"{\"version\": 42}").unwrap();
    let receiver = Receiver::default();
    receiver.up.store(true, Ordering::SeqCst);
    let (_, result) = run_until(
        dir.path(),
        vec![lagging(now_ms())],
        receiver.clone(),
        |_, r| !r.got.lock().unwrap().is_empty(),
    )
    .await;
    result.unwrap();
    assert!(dir.path().join("model.json.unreadable").exists());
    assert!(dir.path().join("alerts.json.unreadable").exists());
    assert!(dir.path().join("model.json").exists(), "saved anew");
}

/// A sink whose write panics.
struct Panicking;

#[async_trait]
impl LagSink for Panicking {
    fn name(&self) -> &str {
        "panicking"
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }
    async fn write(&self, _: &Snapshot) -> Result<Ack, ComponentError> {
        panic!("byte index 200 is not a char boundary");
    }
    async fn flush(&self) -> Result<(), ComponentError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sink_task_that_dies_stops_the_pipeline_with_its_name() {
    let pipeline = Pipeline::builder()
        .source(Box::new(Scripted {
            batches: vec![lagging(now_ms())],
        }))
        .sink(Box::new(Panicking))
        .evaluation_interval(Duration::from_millis(20))
        .build();
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        pipeline.run(CancellationToken::new()),
    )
    .await
    .expect("the run ends by itself");
    match result {
        Err(RuntimeError::ComponentStopped { component, reason }) => {
            assert_eq!(component, "panicking");
            assert!(reason.contains("char boundary"), "{reason}");
        }
        other => panic!("expected ComponentStopped, got {other:?}"),
    }
}
