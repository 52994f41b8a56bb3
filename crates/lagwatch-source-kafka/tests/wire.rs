#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The batched committed-offset path (`wire`) against the harness's real brokers, Kafka 4.4
//! and 3.9: for classic, KIP-848 (4.4 only) and assign-only groups it returns exactly what
//! Kafka's own client reads group by group, in a handful of requests instead of two per
//! group. Without the services these tests fail; they never skip.

use lagwatch_source_kafka::wire::WireClient;
use lagwatch_test_support::services::env::KafkaEndpoint;
use lagwatch_test_support::services::kafka::{self, Protocol, RunningConsumer};
use lagwatch_test_support::services::{env, names, wait};
use std::collections::BTreeMap;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(15);
/// Groups per OffsetFetch request in these tests (the default is 500): small, so that a
/// few dozen groups take several requests.
const PER_REQUEST: usize = 16;

/// Waits until `group` committed offset 5 on each of the topic's 3 partitions.
async fn wait_consumed(kafka: &KafkaEndpoint, group: &str, topic: &str) {
    let all: Vec<(&str, i32)> = (0..3).map(|p| (topic, p)).collect();
    wait::until(
        &format!("group {group} to commit everything"),
        Duration::from_secs(60),
        Duration::from_millis(200),
        || {
            let all = &all;
            async move {
                let committed = kafka::committed_offsets(kafka, group, all).await?;
                Ok(committed.iter().all(|o| *o == Some(5)).then_some(()))
            }
        },
    )
    .await
    .unwrap();
}

/// Kafka's own client's view of `group`'s committed offsets on `topic`'s partitions.
async fn client_view(
    kafka: &KafkaEndpoint,
    group: &str,
    topic: &str,
) -> BTreeMap<(String, i32), i64> {
    let all: Vec<(&str, i32)> = (0..3).map(|p| (topic, p)).collect();
    let committed = kafka::committed_offsets(kafka, group, &all).await.unwrap();
    all.iter()
        .zip(committed)
        .filter_map(|(&(t, p), o)| Some(((t.to_owned(), p), o?)))
        .collect()
}

async fn every_kind_of_group(kafka: KafkaEndpoint, with_kip848: bool, prefix: &str) {
    let topic = names::topic(prefix);
    kafka::create_topic(&kafka, &topic, 3).await.unwrap();
    kafka::produce_spread(&kafka, &topic, 5).await.unwrap();

    let mut members = vec![
        RunningConsumer::start(
            &kafka,
            &names::group(&format!("{prefix}-classic")),
            &[&topic],
            Protocol::Classic,
            &names::unique("client-classic"),
        )
        .unwrap(),
    ];
    if with_kip848 {
        members.push(
            RunningConsumer::start(
                &kafka,
                &names::group(&format!("{prefix}-consumer")),
                &[&topic],
                Protocol::Consumer,
                &names::unique("client-consumer"),
            )
            .unwrap(),
        );
    }
    // More assign-only groups than one OffsetFetch request carries here, each with its own
    // offsets (partition p at i % 5 + p), so that a mix-up between groups shows.
    let simple: Vec<String> = (0..3 * PER_REQUEST + 5)
        .map(|i| names::group(&format!("{prefix}-simple-{i}")))
        .collect();
    for (i, group) in simple.iter().enumerate() {
        let offsets: Vec<(&str, i32, i64)> = (0..3)
            .filter(|p| (i + *p as usize) % 4 != 0) // some partitions never committed
            .map(|p| (topic.as_str(), p, (i % 5) as i64 + i64::from(p)))
            .collect();
        kafka::commit_offsets(&kafka, group, &offsets)
            .await
            .unwrap();
    }
    for member in &members {
        member
            .wait_for_assignment(Duration::from_secs(60))
            .await
            .unwrap();
        wait_consumed(&kafka, member.group(), &topic).await;
    }

    let unknown = names::group(&format!("{prefix}-never-existed"));
    let mut groups: Vec<String> = members.iter().map(|m| m.group().to_owned()).collect();
    groups.extend(simple.iter().cloned());
    groups.push(unknown.clone());

    let client = WireClient::new(&kafka.bootstrap, TIMEOUT).with_max_groups(PER_REQUEST);
    let fetched = client.committed_offsets(&groups).await.unwrap();
    assert_eq!(fetched.len(), groups.len());
    for group in &groups {
        let ours = fetched[group]
            .clone()
            .unwrap_or_else(|code| panic!("{group}: error {code}"));
        let ours: BTreeMap<(String, i32), i64> =
            ours.into_iter().filter(|((t, _), _)| *t == topic).collect();
        assert_eq!(
            ours,
            client_view(&kafka, group, &topic).await,
            "group {group}"
        );
    }
    assert!(fetched[&unknown].as_ref().unwrap().is_empty());
    // One ApiVersions and one FindCoordinator to the bootstrap server, then per
    // coordinator (a single broker here: the same connection) ceil(groups / PER_REQUEST)
    // OffsetFetch requests, against 2 requests per group with librdkafka's
    // ListConsumerGroupOffsets.
    let expected = 2 + groups.len().div_ceil(PER_REQUEST) as u64;
    assert_eq!(client.requests(), expected, "{} groups", groups.len());

    // A second read reuses the connection: no new ApiVersions.
    let again = client.committed_offsets(&groups[..1]).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(client.requests(), expected + 2);

    for member in members {
        let group = member.group().to_owned();
        member.stop().await.unwrap();
        kafka::delete_group(&kafka, &group).await.unwrap();
    }
    for group in &simple {
        kafka::delete_group(&kafka, group).await.unwrap();
    }
    kafka::delete_topic(&kafka, &topic).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_offsets_equal_the_clients_view_on_kafka_4_4() {
    every_kind_of_group(env::kafka(), true, "wire-44").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_offsets_equal_the_clients_view_on_kafka_3_9() {
    every_kind_of_group(env::kafka_legacy(), false, "wire-39").await;
}

#[tokio::test]
async fn an_unreachable_cluster_is_an_error_naming_the_servers() {
    // A loopback port nothing listens on.
    let servers = lagwatch_test_support::services::net::free_addr()
        .unwrap()
        .to_string();
    let client = WireClient::new(&servers, Duration::from_secs(2));
    let err = client
        .committed_offsets(&["g".to_owned()])
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&servers), "{err}");
    assert!(!err.is_unsupported());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_mode_source_reads_every_groups_commits_in_a_few_requests() {
    use lagwatch_component::FromConfig;
    use lagwatch_config::KafkaSourceConfig;
    use lagwatch_config::kafka::KafkaMode;
    use lagwatch_core::Event;
    use lagwatch_source_kafka::KafkaSource;

    let kafka = env::kafka();
    let prefix = "wire-source";
    let topic = names::topic(prefix);
    kafka::create_topic(&kafka, &topic, 1).await.unwrap();
    kafka::produce_spread(&kafka, &topic, 10).await.unwrap();
    let groups: Vec<String> = (0..40)
        .map(|i| names::group(&format!("{prefix}-{i}")))
        .collect();
    for (i, group) in groups.iter().enumerate() {
        kafka::commit_offsets(&kafka, group, &[(topic.as_str(), 0, (i % 10) as i64)])
            .await
            .unwrap();
    }
    let mut config = KafkaSourceConfig::new("wire", kafka.bootstrap.clone());
    config.mode = KafkaMode::Admin;
    config.topic_allowlist = format!("^{topic}$");
    config.group_allowlist = format!("^g-{prefix}-");
    let source = KafkaSource::from_config("wire", &config).unwrap();
    let events = source.read_once().await.unwrap();
    for (i, group) in groups.iter().enumerate() {
        let offset = (i % 10) as i64;
        assert!(
            events.iter().any(|e| matches!(
                e,
                Event::Commit { group: g, topic: t, partition: 0, offset: o, .. }
                    if g == group && *t == topic && *o == offset
            )),
            "no commit {offset} for {group}"
        );
    }
    // librdkafka's path sends 2 requests per group (80 here) on top of the listing,
    // describing and broker-offset requests; the batched path a handful.
    let stats = source.stats();
    assert!(
        stats.requests < 40,
        "{} requests for 40 groups",
        stats.requests
    );
    for group in &groups {
        kafka::delete_group(&kafka, group).await.unwrap();
    }
    kafka::delete_topic(&kafka, &topic).await.unwrap();
}
