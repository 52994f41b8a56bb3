//! The shared source conformance checks, against the harness Kafka 4.4
//! (`LAGWATCH_TEST_KAFKA`; fails without it), in every mode the source has.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_component::FromConfig;
use lagwatch_config::KafkaSourceConfig;
use lagwatch_config::kafka::KafkaMode;
use lagwatch_source_kafka::KafkaSource;
use lagwatch_test_support::conformance::source::check_source;
use lagwatch_test_support::services::{env, kafka, names};
use std::time::Duration;

async fn passes_in(mode: KafkaMode) {
    let bootstrap = env::kafka().bootstrap;
    // A topic and a committed group, so every mode has broker offsets and commits to send.
    let topic = names::unique("lw-conformance");
    let group = names::unique("lw-conformance");
    kafka::create_topic(bootstrap.as_str(), &topic, 2)
        .await
        .unwrap();
    kafka::produce(bootstrap.as_str(), &topic, None, 20)
        .await
        .unwrap();
    kafka::commit_offsets(
        bootstrap.as_str(),
        &group,
        &[(&topic, 0, 1), (&topic, 1, 1)],
    )
    .await
    .unwrap();

    let mut config = KafkaSourceConfig::new("live", bootstrap.as_str());
    config.mode = mode;
    config.offset_refresh = Duration::from_secs(1);
    config.topic_refresh = Duration::from_secs(1);
    config.request_timeout = Duration::from_secs(5);
    config.group_allowlist = format!("^{group}$");
    let source = KafkaSource::from_config("live", &config).unwrap();
    let events = check_source(&source, 3, Duration::from_secs(60))
        .await
        .unwrap_or_else(|e| panic!("kafka source conformance ({mode:?}): {e}"));
    assert!(events.len() >= 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn passes_the_source_conformance_checks_in_admin_mode() {
    passes_in(KafkaMode::Admin).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn passes_the_source_conformance_checks_in_auto_mode() {
    passes_in(KafkaMode::Auto).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn passes_the_source_conformance_checks_in_offsets_topic_mode() {
    passes_in(KafkaMode::OffsetsTopic).await;
}

/// The alert handover on a compacted topic of the harness Kafka 4.4 passes the shared
/// checks (alerts, and the instances' announcements on the same topic); the topic is created on first use with `cleanup.policy=compact`, and a second
/// store on the same topic (another instance) reads what the first one wrote.
#[tokio::test(flavor = "multi_thread")]
async fn the_kafka_alert_handover_passes_the_handover_conformance_checks() {
    use lagwatch_component::AlertHandover;
    use lagwatch_source_kafka::KafkaAlertHandover;
    use lagwatch_test_support::conformance::handover::{check_directory, check_handover};

    let bootstrap = env::kafka().bootstrap;
    let mut config = KafkaSourceConfig::new("live", bootstrap.as_str());
    config.request_timeout = Duration::from_secs(5);
    config.coordination_group = names::unique("lw-handover");
    let store = KafkaAlertHandover::new(&config).unwrap();
    assert_eq!(
        store.topic(),
        format!("{}.alerts", config.coordination_group)
    );
    check_handover(&store, "first").await.unwrap();

    let compaction = kafka::topic_config(bootstrap.as_str(), store.topic(), "cleanup.policy")
        .await
        .unwrap();
    assert_eq!(compaction.as_deref(), Some("compact"));

    // The instances' announcements share the topic with the alerts.
    check_directory(&store, "first").await.unwrap();

    // Another instance (its own client) sees the same open alerts, and no announcement
    // among them.
    let other = KafkaAlertHandover::new(&config).unwrap();
    let all: Vec<u32> = (0..4).collect();
    let seen = other.collect("first-c", &all, 4).await.unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].id, "first-2");
}
