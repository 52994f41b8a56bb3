//! Smoke tests of the real services `scripts/services` starts: each test proves that one
//! service is up, reachable on loopback and behaves the way lagwatch's other tests rely on.
//!
//! A test whose `LAGWATCH_TEST_*` variable is missing fails with instructions (it never
//! skips). Run them with `scripts/test`, or by hand:
//!
//! ```text
//! scripts/services up all && eval "$(scripts/services env)"
//! cargo test -p lagwatch-tests --test services_smoke
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers shared by several tests fail the test by panicking"
)]

use std::time::{Duration, Instant};

use lagwatch_test_support::services::env::{self, KafkaEndpoint, KafkaTools, SaslEndpoint};
use lagwatch_test_support::services::kafka::{self, Protocol, RunningConsumer};
use lagwatch_test_support::services::tools::{self, DescribeRow};
use lagwatch_test_support::services::{burrow, es, names, wait, zookeeper};
use serde_json::json;

/// Generous bound for anything that waits for a service to catch up.
const CATCH_UP: Duration = Duration::from_secs(60);

/// Rows of a describe, indexed by partition (rows without a partition are dropped).
fn by_partition(rows: &[DescribeRow], topic: &str) -> Vec<DescribeRow> {
    let mut rows: Vec<DescribeRow> = rows
        .iter()
        .filter(|r| r.topic == topic && r.partition.is_some())
        .cloned()
        .collect();
    rows.sort_by_key(|r| r.partition);
    rows
}

/// Creates a 3-partition topic, produces 5 / 7 / 11 messages, commits 2 / 7 / 4 for a new
/// group and checks that the broker's own tool reports exactly lag 3 / 0 / 7.
async fn committed_lag_matches_the_java_tool(broker: &KafkaEndpoint, tools: &KafkaTools) {
    let topic = names::topic("smoke-lag");
    let group = names::group("smoke-lag");
    kafka::create_topic(broker, &topic, 3).await.unwrap();
    let produced = [5_u64, 7, 11];
    for (partition, n) in (0..).zip(produced) {
        kafka::produce(broker, &topic, Some(partition), n)
            .await
            .unwrap();
    }
    let ends = kafka::high_watermarks(broker, &topic).await.unwrap();
    assert_eq!(ends.values().copied().collect::<Vec<_>>(), vec![5, 7, 11]);

    let commits = [2_i64, 7, 4];
    let offsets: Vec<(&str, i32, i64)> = (0..)
        .zip(commits)
        .map(|(p, o)| (topic.as_str(), p, o))
        .collect();
    kafka::commit_offsets(broker, &group, &offsets)
        .await
        .unwrap();
    let committed = kafka::committed_offsets(
        broker,
        &group,
        &[
            (topic.as_str(), 0),
            (topic.as_str(), 1),
            (topic.as_str(), 2),
        ],
    )
    .await
    .unwrap();
    assert_eq!(committed, vec![Some(2), Some(7), Some(4)]);

    let rows = tools::consumer_groups_describe(tools, &broker.bootstrap, &group)
        .await
        .unwrap();
    let rows = by_partition(&rows, &topic);
    assert_eq!(rows.len(), 3, "{rows:#?}");
    for (row, (end, commit)) in rows.iter().zip([(5, 2), (7, 7), (11, 4)]) {
        assert_eq!(row.group, group);
        assert_eq!(row.current_offset, Some(commit), "{row:?}");
        assert_eq!(row.log_end_offset, Some(end), "{row:?}");
        assert_eq!(row.lag, Some(end - commit), "{row:?}");
        assert_eq!(
            row.consumer_id, None,
            "a simple group has no members: {row:?}"
        );
    }

    kafka::delete_group(broker, &group).await.unwrap();
    kafka::delete_topic(broker, &topic).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_committed_lag_matches_kafka_consumer_groups() {
    committed_lag_matches_the_java_tool(&env::kafka(), &env::kafka_tools()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_legacy_committed_lag_matches_kafka_consumer_groups() {
    committed_lag_matches_the_java_tool(&env::kafka_legacy(), &env::kafka_legacy_tools()).await;
}

/// Describes `group` until `accept` holds for its rows of `topic` (the tool is ~1 s a call).
async fn describe_until(
    tools: &KafkaTools,
    broker: &KafkaEndpoint,
    group: &str,
    topic: &str,
    what: &str,
    accept: impl Fn(&[DescribeRow]) -> bool,
) -> Vec<DescribeRow> {
    wait::until(what, CATCH_UP, Duration::from_millis(500), || async {
        let rows = tools::consumer_groups_describe(tools, &broker.bootstrap, group).await?;
        let rows = by_partition(&rows, topic);
        if accept(&rows) {
            Ok(Some(rows))
        } else {
            Err(anyhow::anyhow!("describe shows {rows:#?}"))
        }
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_kip848_consumer_is_a_member_and_pauses_without_leaving() {
    let broker = env::kafka();
    let tools = env::kafka_tools();
    let topic = names::topic("smoke-848");
    let group = names::group("smoke-848");
    let client_id = names::unique("smoke-848-client");
    kafka::create_topic(&broker, &topic, 2).await.unwrap();
    kafka::produce_spread(&broker, &topic, 5).await.unwrap();

    let consumer = RunningConsumer::start(
        &broker,
        &group,
        &[topic.as_str()],
        Protocol::Consumer,
        &client_id,
    )
    .unwrap();
    let assignment = consumer.wait_for_assignment(CATCH_UP).await.unwrap();
    assert_eq!(assignment.len(), 2, "{assignment:?}");
    consumer.wait_for_consumed(10, CATCH_UP).await.unwrap();

    let rows = describe_until(
        &tools,
        &broker,
        &group,
        &topic,
        "the member to commit 5/5",
        |rows| {
            rows.len() == 2
                && rows
                    .iter()
                    .all(|r| r.current_offset == Some(5) && r.consumer_id.is_some())
        },
    )
    .await;
    for row in &rows {
        assert_eq!(row.lag, Some(0), "{row:?}");
        assert!(
            !row.consumer_id.as_deref().unwrap_or_default().is_empty(),
            "{row:?}"
        );
        assert_eq!(
            row.client_id.as_deref(),
            Some(client_id.as_str()),
            "{row:?}"
        );
    }

    // Paused: still the owner of both partitions, but the new messages stay unconsumed.
    consumer.pause().await.unwrap();
    kafka::produce_spread(&broker, &topic, 3).await.unwrap();
    let rows = describe_until(
        &tools,
        &broker,
        &group,
        &topic,
        "lag 3 on both partitions",
        |rows| rows.len() == 2 && rows.iter().all(|r| r.lag == Some(3)),
    )
    .await;
    assert!(
        rows.iter()
            .all(|r| r.client_id.as_deref() == Some(client_id.as_str())),
        "{rows:#?}"
    );

    consumer.resume().await.unwrap();
    consumer.wait_for_consumed(16, CATCH_UP).await.unwrap();
    let summary = consumer.stop().await.unwrap();
    assert_eq!(summary.consumed, 16);

    // Stopped: the member left, the commits stay.
    describe_until(
        &tools,
        &broker,
        &group,
        &topic,
        "the member to leave with lag 0",
        |rows| {
            rows.len() == 2
                && rows
                    .iter()
                    .all(|r| r.consumer_id.is_none() && r.lag == Some(0))
        },
    )
    .await;
    kafka::delete_group(&broker, &group).await.unwrap();
    kafka::delete_topic(&broker, &topic).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_classic_consumer_member_id_matches_and_pause_loses_nothing() {
    let broker = env::kafka();
    let tools = env::kafka_tools();
    let topic = names::topic("smoke-classic");
    let group = names::group("smoke-classic");
    let client_id = names::unique("smoke-classic-client");
    let total = 5000;
    kafka::create_topic(&broker, &topic, 1).await.unwrap();
    kafka::produce(&broker, &topic, None, total).await.unwrap();

    let consumer = RunningConsumer::start(
        &broker,
        &group,
        &[topic.as_str()],
        Protocol::Classic,
        &client_id,
    )
    .unwrap();
    consumer.wait_for_assignment(CATCH_UP).await.unwrap();
    wait::until(
        "the first message",
        CATCH_UP,
        Duration::from_millis(1),
        || async { Ok((consumer.consumed() > 0).then_some(())) },
    )
    .await
    .unwrap();
    // Pause, most likely in the middle of the backlog: what was consumed is committed.
    consumer.pause().await.unwrap();
    let consumed_at_pause = consumer.consumed();
    eprintln!("paused after {consumed_at_pause} of {total} messages");
    let committed = kafka::committed_offsets(&broker, &group, &[(topic.as_str(), 0)])
        .await
        .unwrap();
    assert_eq!(
        committed[0].unwrap_or(0),
        i64::try_from(consumed_at_pause).unwrap()
    );
    consumer.resume().await.unwrap();
    consumer.wait_for_consumed(total, CATCH_UP).await.unwrap();

    let member_id = consumer.member_id(&broker).await.unwrap();
    assert!(!member_id.is_empty());
    let end = i64::try_from(total).unwrap();
    let rows = describe_until(
        &tools,
        &broker,
        &group,
        &topic,
        "the classic member to show",
        |rows| {
            rows.len() == 1 && rows[0].consumer_id.is_some() && rows[0].current_offset == Some(end)
        },
    )
    .await;
    assert_eq!(rows[0].consumer_id.as_deref(), Some(member_id.as_str()));
    let summary = consumer.stop().await.unwrap();
    assert_eq!(
        summary.consumed, total,
        "no message lost or repeated across the pause"
    );
    kafka::delete_topic(&broker, &topic).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_sasl_accepts_the_password_and_refuses_a_wrong_one() {
    let sasl = env::kafka_sasl();
    let topic = names::topic("smoke-sasl");
    kafka::create_topic(&sasl, &topic, 1).await.unwrap();
    let topics = kafka::list_topics(&sasl, Duration::from_secs(20))
        .await
        .unwrap();
    assert!(topics.contains(&topic), "{topics:?}");

    let wrong = SaslEndpoint {
        password: format!("{}-wrong", sasl.password),
        ..sasl.clone()
    };
    let started = Instant::now();
    let refused = kafka::list_topics(&wrong, Duration::from_secs(10)).await;
    assert!(
        refused.is_err(),
        "a wrong password must not list topics: {refused:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "refusal took {:?}",
        started.elapsed()
    );
    kafka::delete_topic(&sasl, &topic).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_tls_lists_metadata_with_the_ca() {
    let tls = env::kafka_tls();
    let topic = names::topic("smoke-tls");
    kafka::create_topic(&tls, &topic, 1).await.unwrap();
    let topics = kafka::list_topics(&tls, Duration::from_secs(20))
        .await
        .unwrap();
    assert!(topics.contains(&topic), "{topics:?}");
    kafka::delete_topic(&tls, &topic).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zookeeper_znodes_round_trip() {
    let zk = env::zookeeper();
    let group = names::group("smoke-zk");
    zookeeper::write_offset(&zk, &group, "some-topic", 0, 42)
        .await
        .unwrap();
    zookeeper::write_offset(&zk, &group, "some-topic", 1, 7)
        .await
        .unwrap();
    // Overwriting an existing node works too.
    zookeeper::write_offset(&zk, &group, "some-topic", 0, 43)
        .await
        .unwrap();
    assert_eq!(
        zookeeper::read_offset(&zk, &group, "some-topic", 0)
            .await
            .unwrap(),
        Some(43)
    );
    assert_eq!(
        zookeeper::read_string(&zk, &zookeeper::offset_path(&group, "some-topic", 1))
            .await
            .unwrap(),
        Some("7".to_owned())
    );
    let mut partitions =
        zookeeper::children(&zk, &format!("/consumers/{group}/offsets/some-topic"))
            .await
            .unwrap();
    partitions.sort();
    assert_eq!(partitions, vec!["0", "1"]);

    zookeeper::delete_group(&zk, &group).await.unwrap();
    assert_eq!(
        zookeeper::read_offset(&zk, &group, "some-topic", 0)
            .await
            .unwrap(),
        None
    );
}

/// Indexes one document, refreshes, and finds it again with `_search`.
async fn index_refresh_search(url: &str) {
    let index = names::index("smoke");
    let group = names::group("smoke-es");
    let doc = json!({"@timestamp": "2026-11-25T05:00:00Z", "group": group, "topic": "t", "partition": 0, "lag": 200});
    es::index_doc(url, &index, Some("1"), &doc).await.unwrap();
    es::refresh(url, &index).await.unwrap();
    let hits = es::search_sources(url, &index, &es::term_query("group.keyword", &json!(group)))
        .await
        .unwrap();
    assert_eq!(hits, vec![doc]);
    assert_eq!(es::count(url, &index).await.unwrap(), 1);
    es::delete_index(url, &index).await.unwrap();
    assert_eq!(es::count(url, &index).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elasticsearch_indexes_and_finds_a_document() {
    index_refresh_search(&env::elasticsearch()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opensearch_indexes_and_finds_a_document() {
    index_refresh_search(&env::opensearch()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burrow_reports_exact_lag_of_kafka_and_zookeeper_groups() {
    let burrow_api = env::burrow();
    let broker = env::kafka_legacy();
    let zk = env::zookeeper();
    let topic = names::topic("smoke-burrow");
    let kafka_group = names::group("smoke-burrow-kafka");
    let zk_group = names::group("smoke-burrow-zk");
    kafka::create_topic(&broker, &topic, 2).await.unwrap();
    kafka::produce(&broker, &topic, Some(0), 10).await.unwrap();
    kafka::produce(&broker, &topic, Some(1), 6).await.unwrap();
    // Burrow drops commits for topics it has not discovered yet: wait for it first.
    let timeout = Duration::from_secs(120);
    burrow::wait_for_topic_offsets(&burrow_api, &topic, &[10, 6], timeout)
        .await
        .unwrap();

    // Broker-committed group (Burrow's `kafka` consumer module): lag 7 + 0.
    kafka::commit_offsets(
        &broker,
        &kafka_group,
        &[(topic.as_str(), 0, 2), (topic.as_str(), 1, 5)],
    )
    .await
    .unwrap();
    kafka::commit_offsets(
        &broker,
        &kafka_group,
        &[(topic.as_str(), 0, 3), (topic.as_str(), 1, 6)],
    )
    .await
    .unwrap();
    // ZooKeeper-committed group (Burrow's `kafka_zk` module): lag 6 + 5.
    zookeeper::write_offset(&zk, &zk_group, &topic, 0, 4)
        .await
        .unwrap();
    zookeeper::write_offset(&zk, &zk_group, &topic, 1, 1)
        .await
        .unwrap();

    let status = burrow::wait_for_total_lag(&burrow_api, &kafka_group, 7, timeout)
        .await
        .unwrap();
    assert_eq!(status["group"], json!(kafka_group));
    burrow::wait_for_total_lag(&burrow_api, &zk_group, 11, timeout)
        .await
        .unwrap();
    let known = burrow::consumers(&burrow_api).await.unwrap();
    assert!(
        known.contains(&kafka_group) && known.contains(&zk_group),
        "{known:?}"
    );

    zookeeper::delete_group(&zk, &zk_group).await.unwrap();
    kafka::delete_group(&broker, &kafka_group).await.unwrap();
    kafka::delete_topic(&broker, &topic).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegraf_prints_its_version() {
    let telegraf = env::telegraf();
    let mut command = tokio::process::Command::new(&telegraf);
    command.arg("--version").kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("telegraf --version took longer than 60 s")
        .expect("cannot run telegraf");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "telegraf --version failed: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.starts_with("Telegraf "),
        "unexpected version line: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_starts_and_answers_a_query() {
    use lagwatch_test_support::services::prometheus::{PromConfig, Prometheus};
    // No scrape target: Prometheus still answers PromQL, e.g. a scalar.
    let prometheus = Prometheus::start(PromConfig::default()).await.unwrap();
    let rows = prometheus.query("scalar(vector(1)) + 1").await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].1, 2.0, "{rows:?}");
}
