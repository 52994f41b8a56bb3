#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The batched committed-offset path (`wire`) against the harness's real brokers, Kafka 4.4
//! and 3.9: for classic, KIP-848 (4.4 only) and assign-only groups it returns exactly what
//! Kafka's own client reads group by group, in a handful of requests instead of two per
//! group. Over SASL_PLAINTEXT (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and SSL listeners of
//! both brokers it returns the same, and a wrong password is one clear error. Without the
//! services these tests fail; they never skip.

use lagwatch_config::KafkaSourceConfig;
use lagwatch_config::kafka::{SaslMechanism, SecurityProtocol};
use lagwatch_source_kafka::wire::{WireClient, WireError, WireSettings};
use lagwatch_test_support::services::env::{KafkaEndpoint, SaslEndpoint, TlsEndpoint};
use lagwatch_test_support::services::kafka::{self, KafkaTarget, Protocol, RunningConsumer};
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
    kafka: &(impl KafkaTarget + ?Sized),
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

    let client = WireClient::plaintext(&kafka.bootstrap, TIMEOUT).with_max_groups(PER_REQUEST);
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
    let client = WireClient::plaintext(&servers, Duration::from_secs(2));
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

/// A source configuration for `listener` of a secured kind.
fn secured_config(servers: &str, protocol: SecurityProtocol) -> KafkaSourceConfig {
    let mut c = KafkaSourceConfig::new("wire-secured", servers);
    c.security_protocol = protocol;
    c.request_timeout = TIMEOUT;
    c
}

fn sasl_config(sasl: &SaslEndpoint, mechanism: SaslMechanism) -> KafkaSourceConfig {
    let mut c = secured_config(&sasl.bootstrap, SecurityProtocol::SaslPlaintext);
    c.sasl_mechanism = mechanism;
    c.sasl_username = sasl.user.clone();
    c.sasl_password = sasl.password.clone().into();
    c
}

fn tls_config(tls: &TlsEndpoint) -> KafkaSourceConfig {
    let mut c = secured_config(&tls.bootstrap, SecurityProtocol::Ssl);
    c.tls_ca = tls.ca_path.clone();
    c
}

/// Assign-only groups with their own offsets on `plain`; over every secured listener of the
/// same broker, the batched path returns what Kafka's own client reads over that listener, in
/// the requests expected: the connection's opening ones (ApiVersions, plus SaslHandshake and
/// one SaslAuthenticate for PLAIN or two for SCRAM), one FindCoordinator, then
/// ceil(groups / PER_REQUEST) OffsetFetch requests.
async fn secured_listeners(
    plain: KafkaEndpoint,
    sasl: SaslEndpoint,
    tls: TlsEndpoint,
    prefix: &str,
) {
    let topic = names::topic(prefix);
    kafka::create_topic(&plain, &topic, 3).await.unwrap();
    kafka::produce_spread(&plain, &topic, 5).await.unwrap();
    let groups: Vec<String> = (0..2 * PER_REQUEST + 3)
        .map(|i| names::group(&format!("{prefix}-{i}")))
        .collect();
    for (i, group) in groups.iter().enumerate() {
        let offsets: Vec<(&str, i32, i64)> = (0..3)
            .filter(|p| (i + *p as usize) % 3 != 0)
            .map(|p| (topic.as_str(), p, (i % 5) as i64 + i64::from(p)))
            .collect();
        kafka::commit_offsets(&plain, group, &offsets)
            .await
            .unwrap();
    }

    let mut cases: Vec<(&str, KafkaSourceConfig, u64)> = vec![
        ("PLAIN", sasl_config(&sasl, SaslMechanism::Plain), 3),
        (
            "SCRAM-SHA-256",
            sasl_config(&sasl, SaslMechanism::ScramSha256),
            4,
        ),
        (
            "SCRAM-SHA-512",
            sasl_config(&sasl, SaslMechanism::ScramSha512),
            4,
        ),
        ("SSL", tls_config(&tls), 1),
    ];
    // SASL over TLS is not a listener of the harness; SSL with host-name checks off is.
    let mut unchecked = tls_config(&tls);
    unchecked.tls_verify_hostname = false;
    cases.push(("SSL, host name not checked", unchecked, 1));
    for (name, config, opening) in cases {
        let settings = WireSettings::from_config(&config).unwrap();
        let client = WireClient::new(settings).with_max_groups(PER_REQUEST);
        let fetched = client
            .committed_offsets(&groups)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(fetched.len(), groups.len(), "{name}");
        for group in &groups {
            let ours = fetched[group]
                .clone()
                .unwrap_or_else(|code| panic!("{name}: {group}: error {code}"));
            let ours: BTreeMap<(String, i32), i64> =
                ours.into_iter().filter(|((t, _), _)| *t == topic).collect();
            let theirs = if config.security_protocol == SecurityProtocol::Ssl {
                client_view(&tls, group, &topic).await
            } else {
                client_view(&sasl, group, &topic).await
            };
            assert!(!theirs.is_empty(), "{name}: {group}");
            assert_eq!(ours, theirs, "{name}: group {group}");
        }
        let expected = opening + 1 + groups.len().div_ceil(PER_REQUEST) as u64;
        assert_eq!(
            client.requests(),
            expected,
            "{name}: {} groups",
            groups.len()
        );
    }

    for group in &groups {
        kafka::delete_group(&plain, group).await.unwrap();
    }
    kafka::delete_topic(&plain, &topic).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_offsets_over_sasl_and_tls_equal_the_clients_view_on_kafka_4_4() {
    secured_listeners(
        env::kafka(),
        env::kafka_sasl(),
        env::kafka_tls(),
        "wire-sec-44",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_offsets_over_sasl_and_tls_equal_the_clients_view_on_kafka_3_9() {
    secured_listeners(
        env::kafka_legacy(),
        env::kafka_legacy_sasl(),
        env::kafka_legacy_tls(),
        "wire-sec-39",
    )
    .await;
}

#[tokio::test]
async fn a_wrong_password_is_one_clear_error_naming_mechanism_and_broker() {
    const WRONG: &str = "not-the-password-4711";
    for sasl in [env::kafka_sasl(), env::kafka_legacy_sasl()] {
        for mechanism in [
            SaslMechanism::Plain,
            SaslMechanism::ScramSha256,
            SaslMechanism::ScramSha512,
        ] {
            let mut config = sasl_config(&sasl, mechanism);
            config.sasl_password = WRONG.to_owned().into();
            let client = WireClient::new(WireSettings::from_config(&config).unwrap());
            let err = client
                .committed_offsets(&["g".to_owned()])
                .await
                .unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(&err, WireError::Authentication { addr, .. } if *addr == sasl.bootstrap),
                "{text}"
            );
            assert!(text.contains(mechanism.as_librdkafka()), "{text}");
            assert!(text.contains(&sasl.bootstrap), "{text}");
            assert!(text.contains("authentication failed"), "{text}");
            assert!(!text.contains(WRONG), "{text}");
            assert!(!format!("{err:?}").contains(WRONG), "{err:?}");
            assert!(!err.is_unsupported());
        }
    }
}

#[tokio::test]
async fn a_certificate_from_another_authority_fails_the_tls_handshake() {
    // The 3.9 broker's CA did not sign the 4.4 broker's certificate.
    let mut config = tls_config(&env::kafka_tls());
    config.tls_ca = env::kafka_legacy_tls().ca_path;
    let client = WireClient::new(WireSettings::from_config(&config).unwrap());
    let err = client
        .committed_offsets(&["g".to_owned()])
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("TLS handshake failed"), "{text}");
    assert!(text.contains(&config.servers), "{text}");
}
