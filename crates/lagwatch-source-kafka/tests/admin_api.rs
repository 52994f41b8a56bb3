#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Admin API module against the real Kafka 4.4 broker of the test harness
//! (`scripts/services up kafka`, then `eval "$(scripts/services env)"`). Without the
//! service these tests fail; they never skip. (What needs no broker, an address nothing
//! listens on, is in `admin_unreachable`.)

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lagwatch_source_kafka::admin::{
    AdminConnection, AdminError, GroupDescription, GroupKind, GroupListing, GroupState, OffsetSpec,
    PartitionOffset,
};
use lagwatch_test_support::services::kafka::{self, KafkaTarget as _, Protocol, RunningConsumer};
use lagwatch_test_support::services::{env, names, tools, wait};
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::{Offset, TopicPartitionList};

const TIMEOUT: Duration = Duration::from_secs(15);

fn connection() -> Arc<AdminConnection> {
    Arc::new(AdminConnection::new(&env::kafka().client_config()).unwrap())
}

/// Runs a blocking admin call on the blocking pool, as the source does.
async fn blocking<C: rdkafka::ClientContext + 'static, T: Send + 'static>(
    conn: &Arc<AdminConnection<C>>,
    f: impl FnOnce(&AdminConnection<C>) -> T + Send + 'static,
) -> T {
    let conn = Arc::clone(conn);
    tokio::task::spawn_blocking(move || f(&conn)).await.unwrap()
}

/// A topic with 3 partitions and 5 messages in each; a classic group and a KIP-848 group,
/// each with one running member that consumed (and committed) everything; and an
/// assign-only group with offsets committed for partitions 0 and 1 only.
struct Fixture {
    topic: String,
    classic: RunningConsumer,
    modern: RunningConsumer,
    simple: String,
    simple_offsets: Vec<(i32, i64)>,
}

impl Fixture {
    async fn start(prefix: &str) -> Fixture {
        let kafka = env::kafka();
        let topic = names::topic(prefix);
        kafka::create_topic(&kafka, &topic, 3).await.unwrap();
        kafka::produce_spread(&kafka, &topic, 5).await.unwrap();
        let classic = RunningConsumer::start(
            &kafka,
            &names::group(&format!("{prefix}-classic")),
            &[&topic],
            Protocol::Classic,
            &names::unique("client-classic"),
        )
        .unwrap();
        let modern = RunningConsumer::start(
            &kafka,
            &names::group(&format!("{prefix}-consumer")),
            &[&topic],
            Protocol::Consumer,
            &names::unique("client-consumer"),
        )
        .unwrap();
        let simple = names::group(&format!("{prefix}-simple"));
        let simple_offsets = vec![(0, 2), (1, 3)];
        let commits: Vec<(&str, i32, i64)> = simple_offsets
            .iter()
            .map(|&(p, o)| (topic.as_str(), p, o))
            .collect();
        kafka::commit_offsets(&kafka, &simple, &commits)
            .await
            .unwrap();
        for member in [&classic, &modern] {
            member
                .wait_for_assignment(Duration::from_secs(60))
                .await
                .unwrap();
        }
        // Both members consume everything and commit offset 5 on every partition.
        let all: Vec<(&str, i32)> = (0..3).map(|p| (topic.as_str(), p)).collect();
        for member in [&classic, &modern] {
            wait::until(
                &format!("group {} to commit everything", member.group()),
                Duration::from_secs(60),
                Duration::from_millis(200),
                || {
                    let (kafka, all) = (&kafka, &all);
                    async move {
                        let committed =
                            kafka::committed_offsets(kafka, member.group(), all).await?;
                        Ok(committed.iter().all(|o| *o == Some(5)).then_some(()))
                    }
                },
            )
            .await
            .unwrap();
        }
        Fixture {
            topic,
            classic,
            modern,
            simple,
            simple_offsets,
        }
    }

    async fn stop(self) {
        let kafka = env::kafka();
        let groups = [
            self.classic.group().to_owned(),
            self.modern.group().to_owned(),
            self.simple.clone(),
        ];
        self.classic.stop().await.unwrap();
        self.modern.stop().await.unwrap();
        for group in groups {
            kafka::delete_group(&kafka, &group).await.unwrap();
        }
        kafka::delete_topic(&kafka, &self.topic).await.unwrap();
    }
}

fn find<'a>(listing: &'a [GroupListing], group: &str) -> Option<&'a GroupListing> {
    listing.iter().find(|g| g.group == group)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_groups_sees_classic_consumer_and_simple_groups() {
    let fx = Fixture::start("adm-list").await;
    let conn = connection();
    let (classic, modern, simple) = (
        fx.classic.group().to_owned(),
        fx.modern.group().to_owned(),
        fx.simple.clone(),
    );
    // A freshly joined group may still be settling: wait until both are Stable.
    let listing = wait::until(
        "the running groups to be listed as Stable",
        Duration::from_secs(30),
        Duration::from_millis(500),
        || {
            let conn = Arc::clone(&conn);
            let (classic, modern) = (classic.clone(), modern.clone());
            async move {
                let listing = blocking(&conn, move |c| c.list_groups(TIMEOUT)).await?;
                let stable =
                    |g: &str| find(&listing, g).is_some_and(|g| g.state == GroupState::Stable);
                Ok((stable(&classic) && stable(&modern)).then_some(listing))
            }
        },
    )
    .await
    .unwrap();

    let c = find(&listing, &classic).unwrap();
    assert_eq!(
        (c.state, c.kind, c.simple),
        (GroupState::Stable, GroupKind::Classic, false),
        "{c:?}"
    );
    let m = find(&listing, &modern).unwrap();
    assert_eq!(
        (m.state, m.kind, m.simple),
        (GroupState::Stable, GroupKind::Consumer, false),
        "{m:?}"
    );
    let s = find(&listing, &simple).unwrap();
    assert_eq!(
        (s.state, s.kind, s.simple),
        (GroupState::Empty, GroupKind::Classic, true),
        "{s:?}"
    );
    fx.stop().await;
}

fn sorted(mut v: Vec<(String, i32)>) -> Vec<(String, i32)> {
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_groups_in_one_call() {
    let fx = Fixture::start("adm-describe").await;
    let conn = connection();
    let unknown = names::group("adm-describe-unknown");
    let asked = vec![
        fx.classic.group().to_owned(),
        fx.modern.group().to_owned(),
        fx.simple.clone(),
        unknown.clone(),
        // Duplicates are described once.
        fx.simple.clone(),
    ];
    let described: Vec<GroupDescription> =
        blocking(&conn, move |c| c.describe_groups(&asked, TIMEOUT))
            .await
            .unwrap();
    let names: Vec<&str> = described.iter().map(|d| d.group.as_str()).collect();
    assert_eq!(
        names,
        [
            fx.classic.group(),
            fx.modern.group(),
            fx.simple.as_str(),
            unknown.as_str()
        ],
        "results come in request order"
    );

    for (d, consumer, kind) in [
        (&described[0], &fx.classic, GroupKind::Classic),
        (&described[1], &fx.modern, GroupKind::Consumer),
    ] {
        assert_eq!(d.error, None, "{d:?}");
        assert_eq!(
            (d.state, d.kind, d.simple),
            (GroupState::Stable, kind, false),
            "{d:?}"
        );
        assert!(d.coordinator.is_some_and(|id| id >= 0), "{d:?}");
        assert_eq!(d.members.len(), 1, "{d:?}");
        let member = &d.members[0];
        assert_eq!(member.client_id, consumer.client_id());
        assert!(member.host.contains("127.0.0.1"), "{member:?}");
        assert!(!member.member_id.is_empty(), "{member:?}");
        assert_eq!(
            sorted(member.assignment.clone()),
            sorted(consumer.assignment()),
            "{d:?}"
        );
        assert_eq!(member.assignment.len(), 3, "{d:?}");
        assert!(member.assignment.iter().all(|(t, _)| *t == fx.topic));
    }
    // The classic member id is the one DescribeGroups reports to other clients too.
    assert_eq!(
        described[0].members[0].member_id,
        fx.classic.member_id(&env::kafka()).await.unwrap()
    );
    // Member ids, client ids and assignments agree with Kafka's own tool, for the KIP-848
    // group too (whose member id the client chose: a 22-character base64 UUID).
    let tools = env::kafka_tools();
    let bootstrap = env::kafka().bootstrap;
    for d in &described[..2] {
        let rows = tools::consumer_groups_describe(&tools, &bootstrap, &d.group)
            .await
            .unwrap();
        let member = &d.members[0];
        let mut owned: Vec<(String, i32)> = Vec::new();
        for row in &rows {
            assert_eq!(
                row.consumer_id.as_deref(),
                Some(member.member_id.as_str()),
                "{row:?}"
            );
            assert_eq!(
                row.client_id.as_deref(),
                Some(member.client_id.as_str()),
                "{row:?}"
            );
            owned.push((row.topic.clone(), row.partition.unwrap()));
        }
        assert_eq!(sorted(owned), sorted(member.assignment.clone()), "{rows:?}");
    }
    assert_eq!(
        described[1].members[0].member_id.len(),
        22,
        "{:?}",
        described[1]
    );

    let s = &described[2];
    assert_eq!(s.error, None, "{s:?}");
    assert!(s.members.is_empty(), "{s:?}");
    assert!(s.simple, "{s:?}");
    assert_eq!(s.state, GroupState::Empty, "{s:?}");

    // An unknown group does not fail the call. Kafka 4.4 answers ConsumerGroupDescribe
    // with GROUP_ID_NOT_FOUND, librdkafka falls back to DescribeGroups, which reports the
    // group as Dead (no protocol type, hence "simple") without an error.
    let u = &described[3];
    assert_eq!(u.error, None, "{u:?}");
    assert_eq!(u.state, GroupState::Dead, "{u:?}");
    assert!(u.members.is_empty(), "{u:?}");

    // Nothing to describe: no request at all.
    let empty = blocking(&conn, |c| c.describe_groups(&[], TIMEOUT))
        .await
        .unwrap();
    assert!(empty.is_empty());

    // The batched classic description (one DescribeGroups per broker) agrees with the
    // per-group one for the classic and the simple group.
    let all = blocking(&conn, |c| c.describe_classic_groups(TIMEOUT))
        .await
        .unwrap();
    let classic = all
        .iter()
        .find(|d| d.group == fx.classic.group())
        .unwrap_or_else(|| panic!("{all:?}"));
    assert_eq!((classic.state, classic.simple), (GroupState::Stable, false));
    assert_eq!(classic.members.len(), 1);
    assert_eq!(
        classic.members[0].client_id,
        described[0].members[0].client_id
    );
    assert_eq!(classic.members[0].host, described[0].members[0].host);
    assert_eq!(
        sorted(classic.members[0].assignment.clone()),
        sorted(described[0].members[0].assignment.clone())
    );
    let simple = all.iter().find(|d| d.group == fx.simple).unwrap();
    assert!(simple.members.is_empty() && simple.simple, "{simple:?}");
    // A KIP-848 group is not described here: DescribeGroups reports it Dead with no members
    // (the source takes only the groups ListConsumerGroups calls classic from this list).
    if let Some(modern) = all.iter().find(|d| d.group == fx.modern.group()) {
        assert_eq!(modern.state, GroupState::Dead, "{modern:?}");
        assert!(modern.members.is_empty(), "{modern:?}");
    }
    fx.stop().await;
}

fn committed_map(
    list: &[lagwatch_source_kafka::admin::CommittedOffset],
) -> BTreeMap<(String, i32), i64> {
    list.iter()
        .map(|c| {
            assert_eq!(c.error, None, "{c:?}");
            ((c.topic.clone(), c.partition), c.offset.expect("an offset"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_offsets_of_every_kind_of_group() {
    let fx = Fixture::start("adm-commits").await;
    let kafka = env::kafka();
    let conn = connection();
    let all: Vec<(&str, i32)> = (0..3).map(|p| (fx.topic.as_str(), p)).collect();
    for group in [fx.classic.group(), fx.modern.group()] {
        let g = group.to_owned();
        let ours = blocking(&conn, move |c| c.committed_offsets(&g, TIMEOUT))
            .await
            .unwrap();
        let theirs = kafka::committed_offsets(&kafka, group, &all).await.unwrap();
        let expected: BTreeMap<(String, i32), i64> = all
            .iter()
            .zip(theirs)
            .map(|(&(t, p), o)| ((t.to_owned(), p), o.unwrap()))
            .collect();
        assert_eq!(committed_map(&ours), expected, "group {group}");
        // Everything was consumed: 5 messages per partition.
        assert!(expected.values().all(|&o| o == 5), "{expected:?}");
    }

    let g = fx.simple.clone();
    let ours = blocking(&conn, move |c| c.committed_offsets(&g, TIMEOUT))
        .await
        .unwrap();
    let expected: BTreeMap<(String, i32), i64> = fx
        .simple_offsets
        .iter()
        .map(|&(p, o)| ((fx.topic.clone(), p), o))
        .collect();
    assert_eq!(committed_map(&ours), expected);

    // A group that never existed has no offsets; that is not an error.
    let unknown = names::group("adm-commits-unknown");
    let none = blocking(&conn, move |c| c.committed_offsets(&unknown, TIMEOUT))
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");

    // Many concurrent calls on one connection (as the source runs them).
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let conn = Arc::clone(&conn);
        let g = fx.simple.clone();
        calls.spawn_blocking(move || conn.committed_offsets(&g, TIMEOUT));
    }
    while let Some(result) = calls.join_next().await {
        assert_eq!(committed_map(&result.unwrap().unwrap()), expected);
    }
    fx.stop().await;
}

fn offsets_map(list: &[PartitionOffset]) -> BTreeMap<(String, i32), Result<i64, AdminError>> {
    list.iter()
        .map(|p| ((p.topic.clone(), p.partition), p.offset.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_offsets_latest_earliest_and_per_partition_errors() {
    let kafka = env::kafka();
    let conn = connection();
    let topic = names::topic("adm-offsets");
    kafka::create_topic(&kafka, &topic, 3).await.unwrap();
    kafka::produce(&kafka, &topic, Some(0), 7).await.unwrap();
    kafka::produce(&kafka, &topic, Some(1), 3).await.unwrap();
    let high = kafka::high_watermarks(&kafka, &topic).await.unwrap();
    assert_eq!(high.values().copied().collect::<Vec<_>>(), [7, 3, 0]);

    let partitions: Vec<(String, i32)> = (0..3).map(|p| (topic.clone(), p)).collect();
    let asked = partitions.clone();
    let latest = blocking(&conn, move |c| {
        c.list_offsets(&asked, OffsetSpec::Latest, TIMEOUT)
    })
    .await
    .unwrap();
    let expected: BTreeMap<(String, i32), Result<i64, AdminError>> = high
        .iter()
        .map(|(&p, &o)| ((topic.clone(), p), Ok(o)))
        .collect();
    assert_eq!(offsets_map(&latest), expected);

    let asked = partitions.clone();
    let earliest = blocking(&conn, move |c| {
        c.list_offsets(&asked, OffsetSpec::Earliest, TIMEOUT)
    })
    .await
    .unwrap();
    assert!(earliest.iter().all(|p| p.offset == Ok(0)), "{earliest:?}");

    // Delete the records before offset 4 of partition 0: the log start moves there.
    let admin: AdminClient<DefaultClientContext> = kafka.client_config().create().unwrap();
    let mut before = TopicPartitionList::new();
    before
        .add_partition_offset(&topic, 0, Offset::Offset(4))
        .unwrap();
    let deleted = admin
        .delete_records(&before, &AdminOptions::new().request_timeout(Some(TIMEOUT)))
        .await
        .unwrap();
    assert!(deleted.elements().iter().all(|e| e.error().is_ok()));
    let asked = partitions.clone();
    let earliest = blocking(&conn, move |c| {
        c.list_offsets(&asked, OffsetSpec::Earliest, TIMEOUT)
    })
    .await
    .unwrap();
    let starts: BTreeMap<i32, i64> = earliest
        .iter()
        .map(|p| (p.partition, *p.offset.as_ref().unwrap()))
        .collect();
    assert_eq!(starts, BTreeMap::from([(0, 4), (1, 0), (2, 0)]));

    // Unknown topics and partitions next to good ones: per-partition errors.
    let missing_topic = names::topic("adm-offsets-missing");
    let mut asked = partitions.clone();
    asked.push((missing_topic.clone(), 0));
    asked.push((topic.clone(), 7));
    let mixed = blocking(&conn, move |c| {
        c.list_offsets(&asked, OffsetSpec::Latest, TIMEOUT)
    })
    .await
    .unwrap();
    let mixed = offsets_map(&mixed);
    assert_eq!(mixed.len(), 5, "{mixed:?}");
    for p in 0..3 {
        assert_eq!(mixed[&(topic.clone(), p)], Ok(high[&p]));
    }
    // UNKNOWN_TOPIC_OR_PARTITION from the metadata for the unknown topic; librdkafka's
    // local _UNKNOWN_PARTITION for a partition beyond the topic's count.
    for (key, code) in [((missing_topic.clone(), 0), 3), ((topic.clone(), 7), -190)] {
        let error = mixed[&key].as_ref().unwrap_err();
        assert_eq!(error.code(), Some(code), "{key:?}: {error}");
        assert!(error.to_string().starts_with("ListOffsets: "), "{error}");
        assert!(!error.is_retriable(), "{error}");
    }

    // Only unknown partitions: still per-partition errors, not a failed call.
    let asked = vec![(missing_topic.clone(), 0), (missing_topic.clone(), 1)];
    let unknown = blocking(&conn, move |c| {
        c.list_offsets(&asked, OffsetSpec::Latest, TIMEOUT)
    })
    .await
    .unwrap();
    assert_eq!(unknown.len(), 2, "{unknown:?}");
    assert!(unknown.iter().all(|p| p.offset.is_err()), "{unknown:?}");

    // A deleted topic.
    kafka::delete_topic(&kafka, &topic).await.unwrap();
    let asked = partitions.clone();
    let gone = wait::until(
        "offsets of the deleted topic to fail",
        Duration::from_secs(30),
        Duration::from_millis(500),
        || {
            let conn = Arc::clone(&conn);
            let asked = asked.clone();
            async move {
                let list = blocking(&conn, move |c| {
                    c.list_offsets(&asked, OffsetSpec::Latest, TIMEOUT)
                })
                .await?;
                Ok(list.iter().all(|p| p.offset.is_err()).then_some(list))
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(gone.len(), 3);

    // Nothing asked: no request.
    let none = blocking(&conn, |c| c.list_offsets(&[], OffsetSpec::Latest, TIMEOUT))
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_sasl_password_is_an_auth_failure() {
    let sasl = env::kafka_sasl();
    // The right password works.
    let good = Arc::new(AdminConnection::new(&sasl.client_config()).unwrap());
    blocking(&good, |c| c.list_groups(TIMEOUT)).await.unwrap();

    let mut wrong = sasl.clone();
    wrong.password = format!("{}-wrong", sasl.password);
    let conn = Arc::new(AdminConnection::new(&wrong.client_config()).unwrap());
    let timeout = Duration::from_secs(5);
    let started = Instant::now();
    let error = blocking(&conn, move |c| c.list_groups(timeout))
        .await
        .unwrap_err();
    assert!(started.elapsed() < timeout + Duration::from_secs(3));
    eprintln!("wrong password: {error}");
    assert!(error.is_auth_failure(), "{error:?}");
    assert!(!error.is_retriable(), "{error:?}");
    assert!(
        error.to_string().starts_with("ListConsumerGroups: "),
        "{error}"
    );
    let error = blocking(&conn, move |c| c.metadata(timeout))
        .await
        .unwrap_err();
    assert!(error.is_auth_failure(), "{error:?}");
}

/// Keeps the request counters of librdkafka's latest statistics.
#[derive(Default)]
struct StatsContext {
    requests: std::sync::Mutex<BTreeMap<String, i64>>,
}

impl rdkafka::ClientContext for StatsContext {
    fn stats(&self, statistics: rdkafka::Statistics) {
        let mut total = BTreeMap::new();
        for broker in statistics.brokers.values().filter(|b| b.nodeid >= 0) {
            for (request, n) in &broker.req {
                *total.entry(request.clone()).or_insert(0) += n;
            }
        }
        *self.requests.lock().unwrap() = total;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_context_receives_statistics() {
    let mut config = env::kafka().client_config();
    config.set("statistics.interval.ms", "100");
    let conn =
        Arc::new(AdminConnection::new_with_context(&config, StatsContext::default()).unwrap());
    blocking(&conn, |c| c.list_groups(TIMEOUT)).await.unwrap();
    let counted = wait::until(
        "statistics counting the ListGroups request",
        Duration::from_secs(10),
        Duration::from_millis(100),
        || {
            let counted = conn
                .context()
                .requests
                .lock()
                .unwrap()
                .get("ListGroups")
                .copied();
            async move { Ok(counted.filter(|&n| n >= 1)) }
        },
    )
    .await
    .unwrap();
    assert!(counted >= 1);
}
