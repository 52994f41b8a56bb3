//! Issue #16 acceptance, Prometheus side: a real Prometheus server scrapes `lagwatch run`'s
//! `/metrics` (with the bearer token the collector asks for) and answers PromQL over it with
//! the lag of a real Kafka group; the kafka_exporter and kafka-lag-exporter sets carry exactly
//! those exporters' metric names and label sets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod collector;
use collector::Collector;

use lagwatch_test_support::services::prometheus::{PromConfig, Prometheus, ScrapeTarget};
use lagwatch_test_support::services::{env, kafka, names};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(120);
const TOKEN: &str = "scrape-token-7f3a";

/// The label sets of the exporters' metrics (reference: pipeline.md, sections 7.1, 7.2).
fn expected_labels() -> BTreeMap<&'static str, &'static [&'static str]> {
    const PARTITION_7: &[&str] = &[
        "client_id",
        "cluster_name",
        "consumer_id",
        "group",
        "member_host",
        "partition",
        "topic",
    ];
    BTreeMap::from([
        // kafka_exporter
        (
            "kafka_consumergroup_current_offset",
            &["consumergroup", "partition", "topic"][..],
        ),
        (
            "kafka_consumergroup_current_offset_sum",
            &["consumergroup", "topic"][..],
        ),
        (
            "kafka_consumergroup_lag",
            &["consumergroup", "partition", "topic"][..],
        ),
        (
            "kafka_consumergroup_lag_sum",
            &["consumergroup", "topic"][..],
        ),
        ("kafka_consumergroup_members", &["consumergroup"][..]),
        (
            "kafka_topic_partition_current_offset",
            &["partition", "topic"][..],
        ),
        (
            "kafka_topic_partition_oldest_offset",
            &["partition", "topic"][..],
        ),
        ("kafka_topic_partitions", &["topic"][..]),
        // kafka-lag-exporter (and klag-exporter)
        ("kafka_consumergroup_group_offset", PARTITION_7),
        ("kafka_consumergroup_group_lag", PARTITION_7),
        ("kafka_consumergroup_group_lag_seconds", PARTITION_7),
        (
            "kafka_consumergroup_group_max_lag",
            &["cluster_name", "group"][..],
        ),
        (
            "kafka_consumergroup_group_max_lag_seconds",
            &["cluster_name", "group"][..],
        ),
        (
            "kafka_consumergroup_group_sum_lag",
            &["cluster_name", "group"][..],
        ),
        (
            "kafka_consumergroup_group_topic_sum_lag",
            &["cluster_name", "group", "topic"][..],
        ),
        (
            "kafka_partition_latest_offset",
            &["cluster_name", "partition", "topic"][..],
        ),
        (
            "kafka_partition_earliest_offset",
            &["cluster_name", "partition", "topic"][..],
        ),
    ])
}

async fn value(prom: &Prometheus, promql: &str) -> f64 {
    let samples = prom
        .wait_for_query(promql, |s| !s.is_empty(), TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{promql}: {e:#}\n{}", prom.log()));
    assert_eq!(samples.len(), 1, "{promql}: {samples:?}");
    samples[0].1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_lagwatch_and_the_compatible_sets_match_the_exporters() {
    let broker = env::kafka();
    let cluster = names::group("lw-prom-cluster");
    let topic = names::topic("lw-prom");
    let group = names::group("lw-prom");
    kafka::create_topic(&broker, &topic, 2).await.unwrap();
    kafka::produce(&broker, &topic, Some(0), 12).await.unwrap();
    kafka::produce(&broker, &topic, Some(1), 5).await.unwrap();
    kafka::commit_offsets(&broker, &group, &[(&topic, 0, 4), (&topic, 1, 3)])
        .await
        .unwrap();

    let config = format!(
        r#"[general]
evaluation_interval = "1s"
persist_state = false

[sources.k]
type = "kafka"
cluster = {cluster:?}
servers = {bootstrap:?}
offset_refresh = "1s"
topic_refresh = "2s"
group_allowlist = {allow:?}

[sinks.out]
type = "stdout"
format = "json"

[http]
bearer_token = {TOKEN:?}

[http.metrics]
sets = ["native", "kafka_exporter", "kafka_lag_exporter"]
"#,
        bootstrap = broker.bootstrap,
        allow = format!("^{group}$"),
    );
    let lagwatch = Collector::start(&config, &[]);

    // Without the token, /metrics answers 401.
    let anonymous = reqwest::get(format!("{}/metrics", lagwatch.url))
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);

    let prom = Prometheus::start(PromConfig {
        targets: vec![ScrapeTarget::new(lagwatch.addr.clone()).bearer_token(TOKEN)],
        otlp_receiver: false,
    })
    .await
    .unwrap();

    // Native names: the group's lag, per group and per partition, and its status code.
    let total = value(
        &prom,
        &format!("lagwatch_group_total_lag_messages{{group=\"{group}\"}}"),
    )
    .await;
    assert_eq!(total, 10.0);
    let p0 = value(
        &prom,
        &format!("lagwatch_group_lag_messages{{group=\"{group}\",partition=\"0\"}}"),
    )
    .await;
    assert_eq!(p0, 8.0);
    let summed = value(
        &prom,
        &format!("sum(lagwatch_group_lag_messages{{cluster=\"{cluster}\",group=\"{group}\"}})"),
    )
    .await;
    assert_eq!(summed, 10.0);
    let up = value(&prom, &format!("lagwatch_up{{cluster=\"{cluster}\"}}")).await;
    assert_eq!(up, 1.0);

    // kafka_exporter names.
    let lag1 = value(
        &prom,
        &format!("kafka_consumergroup_lag{{consumergroup=\"{group}\",partition=\"1\"}}"),
    )
    .await;
    assert_eq!(lag1, 2.0);
    let lag_sum = value(
        &prom,
        &format!("kafka_consumergroup_lag_sum{{consumergroup=\"{group}\",topic=\"{topic}\"}}"),
    )
    .await;
    assert_eq!(lag_sum, 10.0);
    let end = value(
        &prom,
        &format!("kafka_topic_partition_current_offset{{topic=\"{topic}\",partition=\"0\"}}"),
    )
    .await;
    assert_eq!(end, 12.0);
    // kafka-lag-exporter names.
    let max = value(
        &prom,
        &format!(
            "kafka_consumergroup_group_max_lag{{cluster_name=\"{cluster}\",group=\"{group}\"}}"
        ),
    )
    .await;
    assert_eq!(max, 8.0);
    let committed = value(
        &prom,
        &format!("kafka_consumergroup_group_offset{{group=\"{group}\",partition=\"1\"}}"),
    )
    .await;
    assert_eq!(committed, 3.0);

    // Exactly the exporters' label sets (Prometheus adds `instance` and `job`).
    let mut problems = Vec::new();
    for (name, labels) in expected_labels() {
        let samples = prom.query(name).await.unwrap();
        if samples.is_empty() {
            problems.push(format!("{name}: no series"));
        }
        let wanted: BTreeSet<&str> = labels.iter().copied().collect();
        for (sample_labels, _) in samples {
            let got: BTreeSet<&str> = sample_labels
                .keys()
                .map(String::as_str)
                .filter(|k| !["__name__", "instance", "job"].contains(k))
                .collect();
            if got != wanted {
                problems.push(format!("{name}: labels {got:?}, exporter has {wanted:?}"));
            }
        }
    }
    let poll = prom
        .query("kafka_consumergroup_poll_time_ms")
        .await
        .unwrap();
    if poll.is_empty() {
        problems.push("kafka_consumergroup_poll_time_ms: no series".to_owned());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
