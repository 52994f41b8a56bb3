//! Commit → event latency of the Kafka source's streaming (`auto` mode, after its snapshot):
//! how long after a consumer group's commit is acknowledged by the broker the source hands the
//! matching `Commit` event on (what the model then stores at once).
//!
//! `cargo bench -p lagwatch-source-kafka --bench commit_latency` with the harness Kafka up
//! (`scripts/services up kafka`, `eval "$(scripts/services env)"`); `-- --write` records the
//! result in docs/benchmarks.md. The target: visible in the model within 1 s.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use lagwatch_component::FromConfig;
use lagwatch_component::{EventSender, OffsetSource, SourceContext};
use lagwatch_config::KafkaSourceConfig;
use lagwatch_config::kafka::KafkaMode;
use lagwatch_core::Event;
use lagwatch_source_kafka::KafkaSource;
use lagwatch_test_support::services::{kafka, names};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const COMMITS: i64 = 30;

fn main() {
    let write = std::env::args().any(|a| a == "--write");
    let bootstrap = std::env::var("LAGWATCH_TEST_KAFKA")
        .expect("LAGWATCH_TEST_KAFKA: bootstrap address (eval \"$(scripts/services env)\")");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut latencies = rt.block_on(measure(&bootstrap));
    latencies.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = latencies[latencies.len() / 2];
    let max = *latencies.last().unwrap();
    let table = format!(
        "| commits | min (ms) | median (ms) | max (ms) | target | within target |\n\
         |---:|---:|---:|---:|---:|:---:|\n\
         | {} | {:.1} | {:.1} | {:.1} | 1000 | {} |\n",
        latencies.len(),
        ms(latencies[0]),
        ms(median),
        ms(max),
        if max <= Duration::from_secs(1) {
            "yes"
        } else {
            "no"
        }
    );
    print!("{table}");
    if write {
        let body = format!(
            "## Kafka source: commit to event (`lagwatch-source-kafka`)\n\n\
             `cargo bench -p lagwatch-source-kafka --bench commit_latency -- --write`: a source in \
             `auto` mode on the harness Kafka 4.4 (loopback, single broker, 2-core machine), \
             streaming `__consumer_offsets` after its first snapshot; {COMMITS} commits of an \
             assign-only group, one every 200 ms, each timed from just before the commit request \
             to the arrival of the source's `Commit` event (the model stores it as it arrives).\n\n\
             {table}\n"
        );
        lagwatch_test_support::bench::write_section("commit-latency", &body);
    }
}

async fn measure(bootstrap: &str) -> Vec<Duration> {
    let topic = names::unique("lw-bench-latency");
    let group = names::unique("lw-bench-latency");
    kafka::create_topic(bootstrap, &topic, 1).await.unwrap();
    kafka::produce(bootstrap, &topic, Some(0), COMMITS as u64 + 1)
        .await
        .unwrap();
    kafka::commit_offsets(bootstrap, &group, &[(&topic, 0, 0)])
        .await
        .unwrap();
    let mut config = KafkaSourceConfig::new("bench", bootstrap);
    config.mode = KafkaMode::Auto;
    config.group_allowlist = format!("^{group}$");
    config.topic_allowlist = format!("^{topic}$");
    let source = KafkaSource::from_config("bench", &config).unwrap();
    let (events, mut rx) = EventSender::channel("bench", 1024);
    let token = CancellationToken::new();
    let ctx = SourceContext {
        events,
        shutdown: token.clone(),
    };
    let task = tokio::spawn(async move { source.run(ctx).await.unwrap() });
    // Wait for the snapshot's commit; the stream opens right after it.
    let committed = |batch: &[Event], want: i64| {
        batch
            .iter()
            .any(|e| matches!(e, Event::Commit { group: g, offset, .. } if *g == group && *offset == want))
    };
    loop {
        let batch = rx.recv().await.unwrap();
        if committed(&batch, 0) {
            break;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut latencies = Vec::new();
    for offset in 1..=COMMITS {
        let started = Instant::now();
        kafka::commit_offsets(bootstrap, &group, &[(&topic, 0, offset)])
            .await
            .unwrap();
        loop {
            let batch = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await
                .expect("the commit arrives")
                .unwrap();
            if committed(&batch, offset) {
                break;
            }
        }
        latencies.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    token.cancel();
    task.await.unwrap();
    kafka::delete_topic(bootstrap, &topic).await.unwrap();
    latencies
}
