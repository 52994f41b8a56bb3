//! Breach -> receiver latency: how long after a consumer group's lag crosses a threshold the
//! firing notification reaches a webhook receiver, through the whole pipeline (source events,
//! model, evaluation every second, rule engine, webhook alerter, HTTP on 127.0.0.1).
//!
//! Run with `cargo bench -p lagwatch-alert --bench latency` (add `-- --write` to record the
//! table in docs/benchmarks.md, `-- --quick` to skip the 60 s rule interval).
//!
//! A scripted source sends a broker offset and a commit for one partition every 100 ms. The
//! lag is 0, then at a recorded instant it becomes 1000 (the breach); the rule is a threshold
//! rule on the `last` partition lag above 10, so the breach is an exact instant. The latency is
//! the receiver's arrival time minus the breach instant. After each firing the lag returns to
//! 0 and the bench waits for the resolved notification before the next breach, which starts at
//! a different phase of the rule's decision schedule.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use async_trait::async_trait;
use lagwatch_alert::{RuleSet, WebhookAlerter};
use lagwatch_component::FromConfig;
use lagwatch_component::{ComponentError, OffsetSource, SourceContext};
use lagwatch_config::{AggregateKind, RuleConfig, ThresholdRuleConfig, WebhookAlerterConfig};
use lagwatch_core::{BrokerOffset, Event};
use lagwatch_runtime::{CancellationToken, Pipeline};
use lagwatch_test_support::services::http::Receiver;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const EVALUATION_INTERVAL: Duration = Duration::from_secs(1);

struct ScriptedSource {
    lag: Arc<AtomicI64>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[async_trait]
impl OffsetSource for ScriptedSource {
    fn name(&self) -> &str {
        "scripted"
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }
    async fn run(&self, ctx: SourceContext) -> Result<(), ComponentError> {
        let mut base = 1_000i64;
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                _ = ctx.shutdown.cancelled() => return Ok(()),
                _ = tick.tick() => {}
            }
            base += 10;
            let now = now_ms();
            let lag = self.lag.load(Ordering::SeqCst);
            ctx.events
                .send_batch(vec![
                    Event::BrokerOffsets {
                        cluster: "bench".into(),
                        topic: "t".into(),
                        partition_count: 1,
                        offsets: vec![BrokerOffset {
                            partition: 0,
                            high_water: base + lag,
                            log_start: Some(0),
                        }],
                        observed_ms: now,
                    },
                    Event::Commit {
                        cluster: "bench".into(),
                        group: "g".into(),
                        topic: "t".into(),
                        partition: 0,
                        offset: base,
                        timestamp_ms: now,
                        order: None,
                    },
                ])
                .await?;
        }
    }
}

/// Latencies (ms) of `breaches` breaches with a rule deciding every `interval`.
async fn measure(interval: Duration, breaches: usize) -> Vec<i64> {
    let receiver = Receiver::start().await.unwrap();
    let lag = Arc::new(AtomicI64::new(0));
    let rule = RuleConfig::Threshold(ThresholdRuleConfig {
        aggregate: AggregateKind::Last,
        interval,
        ..ThresholdRuleConfig::default()
    });
    let rules = RuleSet::from_config(&BTreeMap::from([("lag".to_owned(), rule)])).unwrap();
    let alerter =
        WebhookAlerter::from_config("bench", &WebhookAlerterConfig::new(receiver.url())).unwrap();
    let pipeline = Pipeline::builder()
        .evaluation_interval(EVALUATION_INTERVAL)
        .source(Box::new(ScriptedSource { lag: lag.clone() }))
        .rules(Box::new(rules))
        .alerter(Box::new(alerter))
        .build();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(pipeline.run(shutdown.clone()));
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut latencies = Vec::new();
    for i in 0..breaches {
        // A different phase of the decision schedule each time.
        let phase = interval.mul_f64((i as f64 * 0.37).fract());
        tokio::time::sleep(phase).await;
        let before = receiver.requests().len();
        let breach_ms = now_ms();
        lag.store(1_000, Ordering::SeqCst);
        let requests = receiver
            .wait_for_requests(before + 1, interval * 3 + Duration::from_secs(10))
            .await
            .unwrap();
        let firing = &requests[before];
        assert_eq!(firing.body_json().unwrap()["state"], "firing");
        let arrived = firing
            .received_at
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        latencies.push(arrived - breach_ms);
        lag.store(0, Ordering::SeqCst);
        let requests = receiver
            .wait_for_requests(before + 2, interval * 3 + Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(
            requests[before + 1].body_json().unwrap()["state"],
            "resolved"
        );
    }
    shutdown.cancel();
    running.await.unwrap().unwrap();
    latencies
}

struct Row {
    interval: Duration,
    latencies: Vec<i64>,
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| rule interval | breaches | median (ms) | max (ms) | target: rule interval + 1 s (ms) | within target |\n\
         |---:|---:|---:|---:|---:|:---:|\n",
    );
    for r in rows {
        let mut sorted = r.latencies.clone();
        sorted.sort_unstable();
        let median = sorted[sorted.len() / 2];
        let max = *sorted.last().unwrap();
        let target = (r.interval + Duration::from_secs(1)).as_millis() as i64;
        out.push_str(&format!(
            "| {} | {} | {median} | {max} | {target} | {} |\n",
            lagwatch_core::duration::format(r.interval),
            sorted.len(),
            if max <= target { "yes" } else { "no" }
        ));
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let write = args.iter().any(|a| a == "--write");
    let mut plan = vec![(Duration::from_secs(1), 10), (Duration::from_secs(10), 5)];
    if !quick {
        plan.push((Duration::from_secs(60), 3));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let rows: Vec<Row> = plan
        .into_iter()
        .map(|(interval, breaches)| Row {
            interval,
            latencies: rt.block_on(measure(interval, breaches)),
        })
        .collect();
    let table = table(&rows);
    print!("{table}");
    if write {
        let body = format!(
            "## Alert latency (`lagwatch-alert`)\n\n\
             `cargo bench -p lagwatch-alert --bench latency -- --write`: time from a lag breach \
             (a partition's lag jumping from 0 to 1000 in the source's events) to the firing \
             notification's arrival at a webhook receiver on 127.0.0.1, through the whole \
             pipeline: source events every 100 ms, evaluation every {} s, a `threshold` rule on \
             the `last` partition lag above 10 deciding every *rule interval*, the `webhook` \
             alerter. Each breach starts at a different phase of the decision schedule; the \
             worst case is a breach just after a decision, which waits one rule interval \
             (decisions fall on evaluations; one due within 250 ms is taken at once).\n\n{table}\n",
            EVALUATION_INTERVAL.as_secs()
        );
        lagwatch_test_support::bench::write_section("alert-latency", &body);
    }
}
