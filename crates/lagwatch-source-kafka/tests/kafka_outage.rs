#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The harness Kafka 4.4 stops for 30 s while a consumer group is watched: lagwatch reports
//! its data as stale, never STOP or STALL on a judged partition (a window still warming up
//! at the very start, with a single commit, is Burrow's STOP but flagged and never alerted
//! on; the warm-up must be over before the outage), and is fresh again within two reads of
//! the restart.
//!
//! Alone in its test binary: stopping the broker would break any test running beside it.

use lagwatch_component::FromConfig;
use lagwatch_component::{EventSender, OffsetSource, SourceContext};
use lagwatch_config::KafkaSourceConfig;
use lagwatch_config::kafka::KafkaMode;
use lagwatch_core::{EvaluatorSettings, Event, LagModel, ModelSettings, PartitionStatus};
use lagwatch_source_kafka::KafkaSource;
use lagwatch_test_support::services::kafka::{self, Protocol, RunningConsumer};
use lagwatch_test_support::services::{env, names};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const OUTAGE: Duration = Duration::from_secs(30);
const REFRESH: Duration = Duration::from_secs(2);

use lagwatch_component::clock::wall_clock_ms as now_ms;

/// One evaluation of the watched group.
#[derive(Debug)]
struct Seen {
    at: Duration,
    stale: bool,
    statuses: Vec<PartitionStatus>,
    /// Per partition: still warming up.
    warming: Vec<bool>,
}

/// The model the test feeds, and what it showed.
struct Watch {
    model: LagModel,
    seen: Vec<Seen>,
    health: Vec<(Duration, bool)>,
    started: Instant,
    group: String,
}

impl Watch {
    /// Applies every event received so far, then evaluates the group.
    fn evaluate(&mut self, rx: &mut tokio::sync::mpsc::Receiver<Vec<Event>>) {
        while let Ok(batch) = rx.try_recv() {
            for event in batch {
                if let Event::SourceHealth { healthy, .. } = &event {
                    self.health.push((self.started.elapsed(), *healthy));
                }
                self.model.apply(&event, now_ms());
            }
        }
        let report =
            self.model
                .evaluate_group("live", &self.group, now_ms(), &EvaluatorSettings::default());
        self.seen.push(Seen {
            at: self.started.elapsed(),
            stale: report.stale,
            statuses: report.partitions.iter().map(|p| p.status).collect(),
            warming: report
                .partitions
                .iter()
                .map(|p| p.extras.warming_up)
                .collect(),
        });
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_broker_makes_data_stale_and_never_stop_or_stall() {
    let kafka_env = env::kafka();
    let bootstrap = kafka_env.bootstrap.clone();
    let topic = names::unique("lw-outage");
    let group = names::unique("lw-outage");
    kafka::create_topic(bootstrap.as_str(), &topic, 2)
        .await
        .unwrap();
    let consumer = RunningConsumer::start(
        bootstrap.as_str(),
        &group,
        &[&topic],
        Protocol::Classic,
        "outage",
    )
    .unwrap();
    consumer
        .wait_for_assignment(Duration::from_secs(60))
        .await
        .unwrap();

    // A steady trickle of messages; while the broker is down the producer just fails.
    let producer = kafka::Trickle::start(&bootstrap, &topic, 2, Duration::from_millis(300));

    let mut config = KafkaSourceConfig::new("live", bootstrap.as_str());
    config.mode = KafkaMode::Admin;
    config.offset_refresh = REFRESH;
    config.topic_refresh = REFRESH;
    config.request_timeout = Duration::from_secs(3);
    let source = Arc::new(KafkaSource::from_config("live", &config).unwrap());
    let (events, mut rx) = EventSender::channel("test", 1024);
    let token = CancellationToken::new();
    let task = {
        let source = Arc::clone(&source);
        let ctx = SourceContext {
            events,
            shutdown: token.clone(),
        };
        tokio::spawn(async move { source.run(ctx).await.unwrap() })
    };

    let started = Instant::now();
    let mut watch = Watch {
        model: LagModel::new(ModelSettings::default()),
        seen: Vec::new(),
        health: Vec::new(),
        started,
        group: group.clone(),
    };
    let run_for = |d: Duration| tokio::time::sleep(d);

    // Warm up: several reads and commits.
    for _ in 0..15 {
        run_for(Duration::from_secs(1)).await;
        watch.evaluate(&mut rx);
    }
    let ctl = env::services_ctl();
    ctl.stop("kafka").await.unwrap();
    let stopped_at = started.elapsed();
    let outage_end = Instant::now() + OUTAGE;
    while Instant::now() < outage_end {
        run_for(Duration::from_secs(1)).await;
        watch.evaluate(&mut rx);
    }
    ctl.start("kafka").await.unwrap();
    let restarted_at = started.elapsed();
    // A restarted broker listens before it serves: its group coordinator loads
    // __consumer_offsets and partition leaders are elected anew, which takes seconds on a
    // loaded machine. lagwatch's recovery is counted from the moment an independent client
    // reads the group's committed offsets and the topic's end offsets again.
    let served_again = broker_serves_again(&bootstrap, &group, &topic).await;
    let attempts_at_restart = source.stats().attempts;
    // Until fresh again, then a while longer.
    let mut fresh_after: Option<u64> = None;
    for _ in 0..40 {
        run_for(Duration::from_secs(1)).await;
        watch.evaluate(&mut rx);
        if fresh_after.is_none()
            && watch
                .health
                .iter()
                .any(|(at, ok)| *ok && *at > restarted_at)
        {
            fresh_after = Some(source.stats().attempts.saturating_sub(attempts_at_restart));
        }
        if fresh_after.is_some()
            && watch
                .seen
                .last()
                .is_some_and(|s| s.at > restarted_at + Duration::from_secs(15))
        {
            break;
        }
    }
    token.cancel();
    task.await.unwrap();
    producer.stop().await.unwrap();
    consumer.stop().await.unwrap();

    let Watch { seen, health, .. } = watch;
    let timeline: Vec<String> = seen
        .iter()
        .map(|s| {
            format!(
                "{:>5.1}s stale={} {:?} warming={:?}",
                s.at.as_secs_f64(),
                s.stale,
                s.statuses,
                s.warming
            )
        })
        .collect();
    let timeline = timeline.join("\n");
    eprintln!(
        "stopped at {stopped_at:?}, restarted at {restarted_at:?}, broker served again at \
         {served_again:?}\nhealth: {health:?}\n{timeline}"
    );
    assert!(
        seen.iter().all(|s| !s
            .statuses
            .iter()
            .zip(&s.warming)
            .any(|(p, warming)| !warming
                && matches!(p, PartitionStatus::Stop | PartitionStatus::Stall))),
        "STOP or STALL reported:\n{timeline}"
    );
    assert!(
        seen.iter()
            .any(|s| s.at < stopped_at && !s.statuses.is_empty() && s.warming.iter().all(|w| !w)),
        "the warm-up was not over before the outage:\n{timeline}"
    );
    assert!(
        seen.iter()
            .filter(|s| s.at >= stopped_at)
            .all(|s| s.warming.iter().all(|w| !w)),
        "a partition was warming up during or after the outage:\n{timeline}"
    );
    assert!(
        seen.iter()
            .any(|s| s.stale && s.at > stopped_at && s.at < restarted_at),
        "the outage never showed as stale:\n{timeline}"
    );
    assert!(
        seen.iter()
            .any(|s| !s.statuses.is_empty() && s.at < stopped_at),
        "the group was evaluated before the outage:\n{timeline}"
    );
    let fresh_after = fresh_after.expect("fresh again after the restart");
    assert!(
        fresh_after <= 2,
        "fresh only after {fresh_after} reads since the broker served again"
    );
    assert!(!seen.last().unwrap().stale, "{timeline}");
}

/// Waits (up to a minute) until a client of the test's own reads `group`'s committed offsets
/// and `topic`'s end offsets from the restarted broker; returns the time since `ctl.start`
/// returned.
async fn broker_serves_again(bootstrap: &str, group: &str, topic: &str) -> Duration {
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(60);
    loop {
        let committed = kafka::committed_offsets(bootstrap, group, &[(topic, 0), (topic, 1)]).await;
        let ends = kafka::high_watermarks(bootstrap, topic).await;
        match (committed, ends) {
            (Ok(_), Ok(_)) => return t0.elapsed(),
            (committed, ends) if Instant::now() > deadline => panic!(
                "the restarted broker does not serve: committed offsets {:?}, end offsets {:?}",
                committed.err(),
                ends.err()
            ),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
