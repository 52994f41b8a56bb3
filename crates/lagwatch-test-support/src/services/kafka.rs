//! Kafka helpers on librdkafka: topics, producing, committing offsets without a running
//! consumer, high watermarks, group members, and [`RunningConsumer`] — a real group member
//! that consumes in a background thread and can be paused, resumed and stopped.
//!
//! Every helper takes a [`KafkaTarget`]: a bare `"host:port"` (`PLAINTEXT`) or one of the
//! endpoints of [`env`](super::env) (`PLAINTEXT`, `SASL_PLAINTEXT` + `PLAIN`, `SSL`). All calls
//! are bounded by [`OP_TIMEOUT`] unless they take their own timeout.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail, ensure};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _, ProducerContext};
use rdkafka::{ClientConfig, ClientContext, Message as _, Offset, TopicPartitionList};

pub use rdkafka;

use super::env::{KafkaEndpoint, SaslEndpoint, TlsEndpoint};
use super::wait;

/// Upper bound of every single Kafka operation of this module.
pub const OP_TIMEOUT: Duration = Duration::from_secs(30);

/// Something that can build a librdkafka client configuration: a bare bootstrap address
/// (`PLAINTEXT`) or one of the endpoints of [`env`](super::env).
pub trait KafkaTarget: Send + Sync {
    /// `host:port` of the listener.
    fn bootstrap(&self) -> &str;

    /// A client configuration with `bootstrap.servers` and the security settings of this
    /// listener. Callers add `group.id` and friends.
    fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", self.bootstrap())
            .set("client.id", "lagwatch-test")
            .set("broker.address.family", "v4")
            .set("socket.connection.setup.timeout.ms", "10000");
        config
    }
}

impl KafkaTarget for str {
    fn bootstrap(&self) -> &str {
        self
    }
}

impl KafkaTarget for String {
    fn bootstrap(&self) -> &str {
        self
    }
}

impl KafkaTarget for KafkaEndpoint {
    fn bootstrap(&self) -> &str {
        &self.bootstrap
    }
}

impl KafkaTarget for SaslEndpoint {
    fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    fn client_config(&self) -> ClientConfig {
        let mut config = self.bootstrap.client_config();
        config
            .set("security.protocol", "SASL_PLAINTEXT")
            .set("sasl.mechanisms", "PLAIN")
            .set("sasl.username", &self.user)
            .set("sasl.password", &self.password);
        config
    }
}

impl KafkaTarget for TlsEndpoint {
    fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    fn client_config(&self) -> ClientConfig {
        let mut config = self.bootstrap.client_config();
        config
            .set("security.protocol", "SSL")
            .set("ssl.ca.location", self.ca_path.to_string_lossy());
        config
    }
}

impl<T: KafkaTarget + ?Sized> KafkaTarget for &T {
    fn bootstrap(&self) -> &str {
        (**self).bootstrap()
    }

    fn client_config(&self) -> ClientConfig {
        (**self).client_config()
    }
}

/// The consumer group protocol a [`RunningConsumer`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// The classic protocol (JoinGroup/SyncGroup/Heartbeat), `group.protocol=classic`.
    Classic,
    /// The KIP-848 protocol (ConsumerGroupHeartbeat), `group.protocol=consumer`; Kafka 4.x only.
    Consumer,
}

impl Protocol {
    /// The value of librdkafka's `group.protocol`.
    pub fn as_config(self) -> &'static str {
        match self {
            Protocol::Classic => "classic",
            Protocol::Consumer => "consumer",
        }
    }
}

/// Runs blocking librdkafka code off the async runtime, bounded by `timeout`.
async fn blocking<T, F>(what: &str, timeout: Duration, f: F) -> anyhow::Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> anyhow::Result<T> + Send + 'static,
{
    match tokio::time::timeout(timeout, tokio::task::spawn_blocking(f)).await {
        Ok(Ok(result)) => result.with_context(|| what.to_owned()),
        Ok(Err(join)) => Err(anyhow!("{what}: worker thread failed: {join}")),
        Err(_) => bail!("{what}: no answer within {timeout:?}"),
    }
}

/// An admin client for `target`.
pub fn admin(
    target: &(impl KafkaTarget + ?Sized),
) -> anyhow::Result<AdminClient<DefaultClientContext>> {
    target
        .client_config()
        .create()
        .with_context(|| format!("cannot create an admin client for {}", target.bootstrap()))
}

fn admin_options() -> AdminOptions {
    AdminOptions::new()
        .operation_timeout(Some(OP_TIMEOUT))
        .request_timeout(Some(OP_TIMEOUT))
}

/// A consumer without a group, for metadata and watermark queries.
fn plain_consumer(target: &(impl KafkaTarget + ?Sized)) -> anyhow::Result<BaseConsumer> {
    target
        .client_config()
        .create()
        .with_context(|| format!("cannot create a client for {}", target.bootstrap()))
}

/// A consumer with `group.id = group` that never subscribes: commits and committed-offset
/// queries for a "simple" group.
fn group_client(target: &(impl KafkaTarget + ?Sized), group: &str) -> anyhow::Result<BaseConsumer> {
    target
        .client_config()
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .create()
        .with_context(|| {
            format!(
                "cannot create a client for group {group} on {}",
                target.bootstrap()
            )
        })
}

/// Creates the topics `names`, each with `partitions` partitions and replication factor 1,
/// in one CreateTopics request, and waits until the broker's metadata shows every
/// partition with a leader.
pub async fn create_topics(
    target: &(impl KafkaTarget + ?Sized),
    names: &[&str],
    partitions: i32,
) -> anyhow::Result<()> {
    ensure!(
        partitions > 0,
        "a topic needs at least one partition, not {partitions}"
    );
    let admin = admin(target)?;
    let new_topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|name| NewTopic::new(name, partitions, TopicReplication::Fixed(1)))
        .collect();
    let results = tokio::time::timeout(
        OP_TIMEOUT,
        admin.create_topics(&new_topics, &admin_options()),
    )
    .await
    .map_err(|_| {
        anyhow!(
            "creating {} topic(s) took longer than {OP_TIMEOUT:?}",
            names.len()
        )
    })?
    .context("CreateTopics failed")?;
    let failures: Vec<String> = results
        .into_iter()
        .filter_map(|result| result.err().map(|(name, code)| format!("{name}: {code}")))
        .collect();
    ensure!(
        failures.is_empty(),
        "cannot create topics: {}",
        failures.join(", ")
    );
    for name in names {
        wait_for_topic(target, name, partitions, OP_TIMEOUT).await?;
    }
    Ok(())
}

/// Creates one topic with `partitions` partitions (replication factor 1) and waits until it
/// is usable.
pub async fn create_topic(
    target: &(impl KafkaTarget + ?Sized),
    name: &str,
    partitions: i32,
) -> anyhow::Result<()> {
    create_topics(target, &[name], partitions).await
}

/// Waits until the metadata of `topic` shows `partitions` partitions, each with a leader.
pub async fn wait_for_topic(
    target: &(impl KafkaTarget + ?Sized),
    topic: &str,
    partitions: i32,
    timeout: Duration,
) -> anyhow::Result<()> {
    let client = Arc::new(plain_consumer(target)?);
    let topic = topic.to_owned();
    wait::until(
        &format!("topic {topic} to have {partitions} led partitions"),
        timeout,
        Duration::from_millis(100),
        || {
            let client = Arc::clone(&client);
            let topic = topic.clone();
            async move {
                blocking("metadata", OP_TIMEOUT, move || {
                    let metadata = client.fetch_metadata(Some(&topic), Duration::from_secs(5))?;
                    let ready = metadata.topics().iter().any(|t| {
                        t.name() == topic
                            && t.error().is_none()
                            && t.partitions().len()
                                == usize::try_from(partitions).unwrap_or(usize::MAX)
                            && t.partitions()
                                .iter()
                                .all(|p| p.leader() >= 0 && p.error().is_none())
                    });
                    Ok(ready.then_some(()))
                })
                .await
            }
        },
    )
    .await
}

/// Deletes a topic (a topic that does not exist is not an error).
pub async fn delete_topic(target: &(impl KafkaTarget + ?Sized), name: &str) -> anyhow::Result<()> {
    let admin = admin(target)?;
    let results = tokio::time::timeout(OP_TIMEOUT, admin.delete_topics(&[name], &admin_options()))
        .await
        .map_err(|_| anyhow!("deleting topic {name} took longer than {OP_TIMEOUT:?}"))?
        .context("DeleteTopics failed")?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::UnknownTopicOrPartition)) => {}
            Err((topic, code)) => bail!("cannot delete topic {topic}: {code}"),
        }
    }
    Ok(())
}

/// Names of all topics the broker reports, waiting at most `timeout` for the metadata.
///
/// Also the simplest "can I talk to this listener" check: with a wrong SASL password or an
/// untrusted certificate it returns an error once `timeout` has passed.
pub async fn list_topics(
    target: &(impl KafkaTarget + ?Sized),
    timeout: Duration,
) -> anyhow::Result<Vec<String>> {
    let client = plain_consumer(target)?;
    let bootstrap = target.bootstrap().to_owned();
    blocking(
        &format!("metadata from {bootstrap}"),
        timeout + Duration::from_secs(5),
        move || {
            let metadata = client.fetch_metadata(None, timeout)?;
            Ok(metadata
                .topics()
                .iter()
                .map(|t| t.name().to_owned())
                .collect())
        },
    )
    .await
}

/// Number of partitions of `topic`.
pub async fn partition_count(
    target: &(impl KafkaTarget + ?Sized),
    topic: &str,
) -> anyhow::Result<i32> {
    let client = plain_consumer(target)?;
    let topic = topic.to_owned();
    blocking(&format!("partitions of {topic}"), OP_TIMEOUT, move || {
        let metadata = client.fetch_metadata(Some(&topic), Duration::from_secs(10))?;
        let found = metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none())
            .ok_or_else(|| anyhow!("topic {topic} does not exist"))?;
        Ok(i32::try_from(found.partitions().len())?)
    })
    .await
}

/// The value of the topic-level setting `key` of `topic` (`None`: not reported).
pub async fn topic_config(
    target: &(impl KafkaTarget + ?Sized),
    topic: &str,
    key: &str,
) -> anyhow::Result<Option<String>> {
    let admin = admin(target)?;
    let results = admin
        .describe_configs(
            [&rdkafka::admin::ResourceSpecifier::Topic(topic)],
            &admin_options(),
        )
        .await
        .with_context(|| format!("cannot describe topic {topic}"))?;
    let resource = results
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("no answer for topic {topic}"))?
        .map_err(|e| anyhow!("topic {topic}: {e}"))?;
    Ok(resource.get(key).and_then(|entry| entry.value.clone()))
}

/// High watermark (log end offset) of every partition of `topic`.
pub async fn high_watermarks(
    target: &(impl KafkaTarget + ?Sized),
    topic: &str,
) -> anyhow::Result<BTreeMap<i32, i64>> {
    let partitions = partition_count(target, topic).await?;
    let client = plain_consumer(target)?;
    let topic = topic.to_owned();
    blocking(
        &format!("high watermarks of {topic}"),
        OP_TIMEOUT * 2,
        move || {
            (0..partitions)
                .map(|p| {
                    let (_, high) = client
                        .fetch_watermarks(&topic, p, Duration::from_secs(10))
                        .with_context(|| format!("watermarks of {topic}/{p}"))?;
                    Ok((p, high))
                })
                .collect()
        },
    )
    .await
}

/// A producer context that counts acknowledged and failed deliveries and remembers the
/// first failure. Deliveries are counted when the producer is polled or flushed.
#[derive(Debug, Default)]
pub struct DeliveryCounter {
    delivered: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl DeliveryCounter {
    /// Messages the broker acknowledged.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Messages that could not be delivered.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// The first delivery error, as `topic/partition: error`.
    pub fn first_error(&self) -> Option<String> {
        self.first_error.lock().ok().and_then(|e| e.clone())
    }

    /// Fails unless exactly `expected` messages were acknowledged and none failed.
    pub fn check(&self, expected: u64) -> anyhow::Result<()> {
        let failed = self.failed();
        if failed > 0 {
            bail!(
                "{failed} of {expected} messages were not delivered; first error: {}",
                self.first_error().unwrap_or_default()
            );
        }
        let delivered = self.delivered();
        ensure!(
            delivered == expected,
            "only {delivered} of {expected} messages were acknowledged"
        );
        Ok(())
    }
}

impl ClientContext for DeliveryCounter {}

impl ProducerContext for DeliveryCounter {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((err, msg)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = self.first_error.lock() {
                    first.get_or_insert_with(|| {
                        format!("{}/{}: {err}", msg.topic(), msg.partition())
                    });
                }
            }
        }
    }
}

/// Creates a producer that counts deliveries, with `extra` settings on top of the defaults.
fn counting_producer(
    target: &(impl KafkaTarget + ?Sized),
    extra: &[(&str, &str)],
) -> anyhow::Result<BaseProducer<DeliveryCounter>> {
    let mut config = target.client_config();
    config
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "30000");
    for (key, value) in extra {
        config.set(*key, *value);
    }
    config
        .create_with_context(DeliveryCounter::default())
        .with_context(|| format!("cannot create a producer for {}", target.bootstrap()))
}

/// Sends one record, waiting (bounded by the producer's own timeouts) while the local queue
/// is full.
fn send_with_backpressure(
    producer: &BaseProducer<DeliveryCounter>,
    topic: &str,
    partition: Option<i32>,
    key: &[u8],
    payload: &[u8],
) -> anyhow::Result<()> {
    let deadline = Instant::now() + OP_TIMEOUT;
    loop {
        let mut record = BaseRecord::to(topic).key(key).payload(payload);
        if let Some(p) = partition {
            record = record.partition(p);
        }
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _))
                if Instant::now() < deadline =>
            {
                producer.poll(Duration::from_millis(20));
            }
            Err((err, _)) => bail!("cannot send to {topic}: {err}"),
        }
    }
}

fn flush_and_check(producer: &BaseProducer<DeliveryCounter>, expected: u64) -> anyhow::Result<()> {
    producer
        .flush(OP_TIMEOUT)
        .context("flushing the producer")?;
    producer.context().check(expected)
}

/// Produces `n` small keyed messages to `topic` — all to `partition` if given, otherwise
/// spread by key — waits for every acknowledgement and returns the end offset (high
/// watermark) of every partition of the topic afterwards.
pub async fn produce(
    target: &(impl KafkaTarget + ?Sized),
    topic: &str,
    partition: Option<i32>,
    n: u64,
) -> anyhow::Result<BTreeMap<i32, i64>> {
    let producer = counting_producer(target, &[])?;
    let name = topic.to_owned();
    blocking(
        &format!("producing {n} messages to {topic}"),
        OP_TIMEOUT * 3,
        move || {
            for i in 0..n {
                let key = format!("key-{i}");
                let payload = format!("lagwatch test message {i}");
                send_with_backpressure(
                    &producer,
                    &name,
                    partition,
                    key.as_bytes(),
                    payload.as_bytes(),
                )?;
            }
            flush_and_check(&producer, n)
        },
    )
    .await?;
    high_watermarks(target, topic).await
}

/// Produces exactly `n_per_partition` messages to every partition of `topic` and returns
/// the end offset of every partition afterwards.
pub async fn produce_spread(
    target: &(impl KafkaTarget + ?Sized),
    topic: &str,
    n_per_partition: u64,
) -> anyhow::Result<BTreeMap<i32, i64>> {
    let partitions = partition_count(target, topic).await?;
    let producer = counting_producer(target, &[])?;
    let name = topic.to_owned();
    let total = n_per_partition * u64::try_from(partitions)?;
    blocking(
        &format!("producing {total} messages to {topic}"),
        OP_TIMEOUT * 3,
        move || {
            for i in 0..n_per_partition {
                for p in 0..partitions {
                    let key = format!("key-{p}-{i}");
                    send_with_backpressure(
                        &producer,
                        &name,
                        Some(p),
                        key.as_bytes(),
                        b"lagwatch test message",
                    )?;
                }
            }
            flush_and_check(&producer, total)
        },
    )
    .await?;
    high_watermarks(target, topic).await
}

fn offsets_list(offsets: &[(&str, i32, i64)]) -> anyhow::Result<TopicPartitionList> {
    let mut list = TopicPartitionList::with_capacity(offsets.len());
    for &(topic, partition, offset) in offsets {
        list.add_partition_offset(topic, partition, Offset::Offset(offset))
            .with_context(|| format!("bad offset {offset} for {topic}/{partition}"))?;
    }
    Ok(list)
}

/// Commits `offsets` (`(topic, partition, offset)`) for `group` without any consumer running:
/// a client with that `group.id` that never subscribes commits them (a "simple" group, as
/// tools and assign-only consumers create), then the commit is read back and checked.
///
/// Fails when the group has active members of its own (the broker refuses the commit).
pub async fn commit_offsets(
    target: &(impl KafkaTarget + ?Sized),
    group: &str,
    offsets: &[(&str, i32, i64)],
) -> anyhow::Result<()> {
    ensure!(!offsets.is_empty(), "nothing to commit for group {group}");
    let client = group_client(target, group)?;
    let list = offsets_list(offsets)?;
    let expected: Vec<(String, i32, i64)> = offsets
        .iter()
        .map(|&(t, p, o)| (t.to_owned(), p, o))
        .collect();
    let group_name = group.to_owned();
    blocking(
        &format!("committing offsets of group {group}"),
        OP_TIMEOUT * 2,
        move || {
            // A broker that has just started answers "coordinator load in progress" (or
            // "not coordinator") until it has loaded the group's offsets-topic partition:
            // retried, as a consumer would.
            let deadline = Instant::now() + OP_TIMEOUT;
            loop {
                match client.commit(&list, CommitMode::Sync) {
                    Err(KafkaError::ConsumerCommit(
                        RDKafkaErrorCode::CoordinatorLoadInProgress
                        | RDKafkaErrorCode::NotCoordinator
                        | RDKafkaErrorCode::CoordinatorNotAvailable,
                    )) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    other => break other?,
                }
            }
            let committed = client.committed_offsets(list, OP_TIMEOUT)?;
            for (topic, partition, offset) in expected {
                let found = committed.find_partition(&topic, partition).ok_or_else(|| {
                    anyhow!("{topic}/{partition} missing from the committed offsets")
                })?;
                found
                    .error()
                    .with_context(|| format!("commit of {topic}/{partition}"))?;
                ensure!(
                    found.offset() == Offset::Offset(offset),
                    "group {group_name}: {topic}/{partition} committed {:?}, expected {offset}",
                    found.offset()
                );
            }
            Ok(())
        },
    )
    .await
}

/// The committed offset of `group` for each `(topic, partition)` (`None`: nothing committed).
pub async fn committed_offsets(
    target: &(impl KafkaTarget + ?Sized),
    group: &str,
    partitions: &[(&str, i32)],
) -> anyhow::Result<Vec<Option<i64>>> {
    let client = group_client(target, group)?;
    let mut list = TopicPartitionList::with_capacity(partitions.len());
    for &(topic, partition) in partitions {
        list.add_partition(topic, partition);
    }
    let wanted: Vec<(String, i32)> = partitions.iter().map(|&(t, p)| (t.to_owned(), p)).collect();
    blocking(
        &format!("committed offsets of group {group}"),
        OP_TIMEOUT + Duration::from_secs(5),
        move || {
            let committed = client.committed_offsets(list, OP_TIMEOUT)?;
            wanted
                .iter()
                .map(|(topic, partition)| {
                    let elem = committed
                        .find_partition(topic, *partition)
                        .ok_or_else(|| anyhow!("{topic}/{partition} missing from the answer"))?;
                    elem.error()
                        .with_context(|| format!("committed offset of {topic}/{partition}"))?;
                    Ok(match elem.offset() {
                        Offset::Offset(o) => Some(o),
                        _ => None,
                    })
                })
                .collect()
        },
    )
    .await
}

/// Deletes consumer group `group` (a group that does not exist is not an error; a group
/// with active members is).
pub async fn delete_group(target: &(impl KafkaTarget + ?Sized), group: &str) -> anyhow::Result<()> {
    let admin = admin(target)?;
    let results = tokio::time::timeout(OP_TIMEOUT, admin.delete_groups(&[group], &admin_options()))
        .await
        .map_err(|_| anyhow!("deleting group {group} took longer than {OP_TIMEOUT:?}"))?
        .context("DeleteGroups failed")?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::GroupIdNotFound)) => {}
            Err((name, code)) => bail!("cannot delete group {name}: {code}"),
        }
    }
    Ok(())
}

/// One member of a classic consumer group, as DescribeGroups reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMember {
    /// Member id given by the coordinator.
    pub member_id: String,
    /// `client.id` of the member's client.
    pub client_id: String,
    /// Host the member connects from (e.g. `/127.0.0.1`).
    pub client_host: String,
}

/// State and members of `group` from the classic DescribeGroups API.
///
/// Kafka 4.x answers this for classic groups only; for a KIP-848 (`consumer` protocol) group
/// use [`tools::consumer_groups_describe`](super::tools::consumer_groups_describe).
pub async fn describe_classic_group(
    target: &(impl KafkaTarget + ?Sized),
    group: &str,
) -> anyhow::Result<(String, Vec<GroupMember>)> {
    let client = plain_consumer(target)?;
    let group = group.to_owned();
    blocking(
        &format!("describing group {group}"),
        OP_TIMEOUT,
        move || {
            let list = client.fetch_group_list(Some(&group), Duration::from_secs(10))?;
            let info = list
                .groups()
                .iter()
                .find(|g| g.name() == group)
                .ok_or_else(|| anyhow!("group {group} not in the answer"))?;
            let members = info
                .members()
                .iter()
                .map(|m| GroupMember {
                    member_id: m.id().to_owned(),
                    client_id: m.client_id().to_owned(),
                    client_host: m.client_host().to_owned(),
                })
                .collect();
            Ok((info.state().to_owned(), members))
        },
    )
    .await
}

enum Command {
    Pause(mpsc::Sender<()>),
    Resume(mpsc::Sender<()>),
    Stop,
}

#[derive(Default)]
struct Shared {
    consumed: AtomicU64,
    commits: AtomicU64,
    paused: AtomicBool,
    assignment: Mutex<Vec<(String, i32)>>,
    last_error: Mutex<Option<String>>,
}

impl Shared {
    fn record_error(&self, err: impl std::fmt::Display) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(err.to_string());
        }
    }
}

/// A consumer group member consuming in a background thread.
///
/// It subscribes to `topics` from the earliest offset, stores the offset of every message it
/// receives and commits synchronously whenever it has caught up (and at least every 500 ms
/// while busy). [`pause`](Self::pause) commits what was consumed, then stops fetching while
/// staying a member (it keeps polling, so heartbeats and rebalances go on);
/// [`resume`](Self::resume) continues; [`stop`](Self::stop) commits and closes the consumer,
/// which leaves the group. Dropping it without `stop` asks the thread to stop and does not
/// wait.
pub struct RunningConsumer {
    group: String,
    client_id: String,
    protocol: Protocol,
    commands: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for RunningConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningConsumer")
            .field("group", &self.group)
            .field("client_id", &self.client_id)
            .field("protocol", &self.protocol)
            .field("consumed", &self.consumed())
            .finish_non_exhaustive()
    }
}

/// What a stopped [`RunningConsumer`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsumerSummary {
    /// Messages received.
    pub consumed: u64,
    /// Successful commits.
    pub commits: u64,
}

impl RunningConsumer {
    /// Starts a member of `group` subscribed to `topics` with the given group `protocol` and
    /// `client.id`.
    pub fn start(
        target: &(impl KafkaTarget + ?Sized),
        group: &str,
        topics: &[&str],
        protocol: Protocol,
        client_id: &str,
    ) -> anyhow::Result<RunningConsumer> {
        let mut config = target.client_config();
        config
            .set("group.id", group)
            .set("client.id", client_id)
            .set("group.protocol", protocol.as_config())
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false");
        if protocol == Protocol::Classic {
            // Faster joins and failure detection than the defaults; the KIP-848 protocol
            // takes these from the broker and refuses them on the client.
            config
                .set("session.timeout.ms", "10000")
                .set("heartbeat.interval.ms", "1000");
        }
        let consumer: BaseConsumer = config.create().with_context(|| {
            format!(
                "cannot create a consumer for group {group} on {}",
                target.bootstrap()
            )
        })?;
        consumer
            .subscribe(topics)
            .with_context(|| format!("cannot subscribe group {group} to {topics:?}"))?;
        let shared = Arc::new(Shared::default());
        let (commands, receiver) = mpsc::channel();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("consumer-{client_id}"))
            .spawn(move || consume_loop(consumer, receiver, thread_shared))
            .context("cannot start the consumer thread")?;
        Ok(RunningConsumer {
            group: group.to_owned(),
            client_id: client_id.to_owned(),
            protocol,
            commands,
            shared,
            thread: Some(thread),
        })
    }

    /// The group id.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// The `client.id` the member reports.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The group protocol in use.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Messages received so far.
    pub fn consumed(&self) -> u64 {
        self.shared.consumed.load(Ordering::Relaxed)
    }

    /// Successful commits so far.
    pub fn commits(&self) -> u64 {
        self.shared.commits.load(Ordering::Relaxed)
    }

    /// Whether the consumer is paused.
    pub fn is_paused(&self) -> bool {
        self.shared.paused.load(Ordering::Relaxed)
    }

    /// The partitions currently assigned to this member.
    pub fn assignment(&self) -> Vec<(String, i32)> {
        self.shared
            .assignment
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default()
    }

    /// The last error librdkafka reported to the consumer, if any.
    pub fn last_error(&self) -> Option<String> {
        self.shared.last_error.lock().ok().and_then(|e| e.clone())
    }

    /// The member id the coordinator gave this consumer (classic protocol only: it is read
    /// with DescribeGroups, which Kafka answers for classic groups).
    pub async fn member_id(&self, target: &(impl KafkaTarget + ?Sized)) -> anyhow::Result<String> {
        let (_, members) = describe_classic_group(target, &self.group).await?;
        members
            .into_iter()
            .find(|m| m.client_id == self.client_id)
            .map(|m| m.member_id)
            .ok_or_else(|| {
                anyhow!(
                    "no member with client id {} in group {}",
                    self.client_id,
                    self.group
                )
            })
    }

    /// Waits until the member has at least one partition assigned; returns the assignment.
    pub async fn wait_for_assignment(
        &self,
        timeout: Duration,
    ) -> anyhow::Result<Vec<(String, i32)>> {
        let shared = Arc::clone(&self.shared);
        wait::until(
            &format!(
                "group {} to assign partitions to {}",
                self.group, self.client_id
            ),
            timeout,
            Duration::from_millis(100),
            || {
                let assignment = shared
                    .assignment
                    .lock()
                    .map(|a| a.clone())
                    .unwrap_or_default();
                let error = shared.last_error.lock().ok().and_then(|e| e.clone());
                async move {
                    match (assignment.is_empty(), error) {
                        (false, _) => Ok(Some(assignment)),
                        (true, Some(err)) => Err(anyhow!("last consumer error: {err}")),
                        (true, None) => Ok(None),
                    }
                }
            },
        )
        .await
    }

    /// Waits until at least `n` messages were received and committed.
    pub async fn wait_for_consumed(&self, n: u64, timeout: Duration) -> anyhow::Result<()> {
        let shared = Arc::clone(&self.shared);
        let commits_before = self.commits();
        wait::until(
            &format!("{} to consume {n} messages", self.client_id),
            timeout,
            Duration::from_millis(100),
            || {
                let consumed = shared.consumed.load(Ordering::Relaxed);
                let commits = shared.commits.load(Ordering::Relaxed);
                async move {
                    if consumed >= n && (commits > commits_before || n == 0) {
                        Ok(Some(()))
                    } else {
                        Err(anyhow!(
                            "consumed {consumed}, {} commit(s) since the wait began",
                            commits - commits_before
                        ))
                    }
                }
            },
        )
        .await
    }

    fn command(
        &self,
        make: impl FnOnce(mpsc::Sender<()>) -> Command,
    ) -> anyhow::Result<mpsc::Receiver<()>> {
        let (ack, done) = mpsc::channel();
        self.commands
            .send(make(ack))
            .map_err(|_| anyhow!("the consumer thread of {} has ended", self.client_id))?;
        Ok(done)
    }

    /// Commits what was consumed, then stops fetching; the member stays in the group.
    /// Returns once the consumer thread has done so.
    pub async fn pause(&self) -> anyhow::Result<()> {
        let done = self.command(Command::Pause)?;
        blocking("pausing the consumer", OP_TIMEOUT, move || {
            done.recv_timeout(OP_TIMEOUT)
                .context("no answer from the consumer thread")
        })
        .await
    }

    /// Continues fetching after [`pause`](Self::pause).
    pub async fn resume(&self) -> anyhow::Result<()> {
        let done = self.command(Command::Resume)?;
        blocking("resuming the consumer", OP_TIMEOUT, move || {
            done.recv_timeout(OP_TIMEOUT)
                .context("no answer from the consumer thread")
        })
        .await
    }

    /// Commits, closes the consumer (leaving the group) and waits for the thread to end.
    pub async fn stop(mut self) -> anyhow::Result<ConsumerSummary> {
        // The thread may have ended on its own; joining tells.
        let _ = self.commands.send(Command::Stop);
        let thread = self.thread.take();
        if let Some(thread) = thread {
            blocking("stopping the consumer", OP_TIMEOUT * 2, move || {
                thread
                    .join()
                    .map_err(|_| anyhow!("the consumer thread panicked"))
            })
            .await?;
        }
        Ok(ConsumerSummary {
            consumed: self.consumed(),
            commits: self.commits(),
        })
    }
}

impl Drop for RunningConsumer {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.commands.send(Command::Stop);
        }
    }
}

fn commit_stored(consumer: &BaseConsumer, shared: &Shared) {
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) => {
            shared.commits.fetch_add(1, Ordering::Relaxed);
        }
        // Nothing stored since the last commit.
        Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
        Err(err) => shared.record_error(format!("commit: {err}")),
    }
}

fn current_assignment(consumer: &BaseConsumer) -> TopicPartitionList {
    consumer.assignment().unwrap_or_default()
}

fn consume_loop(consumer: BaseConsumer, commands: mpsc::Receiver<Command>, shared: Arc<Shared>) {
    let mut paused = false;
    let mut dirty = false;
    let mut last_commit = Instant::now();
    let mut paused_assignment = 0usize;
    loop {
        match commands.try_recv() {
            Ok(Command::Pause(ack)) => {
                if dirty {
                    commit_stored(&consumer, &shared);
                    dirty = false;
                }
                let assignment = current_assignment(&consumer);
                if let Err(err) = consumer.pause(&assignment) {
                    shared.record_error(format!("pause: {err}"));
                }
                paused_assignment = assignment.count();
                paused = true;
                shared.paused.store(true, Ordering::Relaxed);
                let _ = ack.send(());
            }
            Ok(Command::Resume(ack)) => {
                if let Err(err) = consumer.resume(&current_assignment(&consumer)) {
                    shared.record_error(format!("resume: {err}"));
                }
                paused = false;
                shared.paused.store(false, Ordering::Relaxed);
                let _ = ack.send(());
            }
            Ok(Command::Stop) | Err(mpsc::TryRecvError::Disconnected) => break,
            Err(mpsc::TryRecvError::Empty) => {}
        }
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) if !paused => {
                shared.consumed.fetch_add(1, Ordering::Relaxed);
                // Stores offset + 1: the commit names the next message to read.
                if let Err(err) = consumer.store_offset_from_message(&message) {
                    shared.record_error(format!("store offset: {err}"));
                }
                dirty = true;
            }
            // Fetched before the pause took effect: not processed, not stored; rewind so it is
            // delivered again after `resume`.
            Some(Ok(message)) => {
                let offset = Offset::Offset(message.offset());
                if let Err(err) = consumer.seek(
                    message.topic(),
                    message.partition(),
                    offset,
                    Duration::from_secs(5),
                ) {
                    shared.record_error(format!("seek: {err}"));
                }
            }
            Some(Err(err)) => shared.record_error(err),
            None => {
                if dirty {
                    commit_stored(&consumer, &shared);
                    dirty = false;
                    last_commit = Instant::now();
                }
            }
        }
        if dirty && last_commit.elapsed() > Duration::from_millis(500) {
            commit_stored(&consumer, &shared);
            dirty = false;
            last_commit = Instant::now();
        }
        let assignment = current_assignment(&consumer);
        if paused && assignment.count() != paused_assignment {
            // A rebalance while paused: keep the new partitions paused too.
            if let Err(err) = consumer.pause(&assignment) {
                shared.record_error(format!("pause: {err}"));
            }
            paused_assignment = assignment.count();
        }
        let list: Vec<(String, i32)> = assignment
            .elements()
            .iter()
            .map(|e| (e.topic().to_owned(), e.partition()))
            .collect();
        if let Ok(mut shared_assignment) = shared.assignment.lock() {
            *shared_assignment = list;
        }
    }
    if dirty {
        commit_stored(&consumer, &shared);
    }
    // Dropping the consumer closes it: it leaves the group and waits for that.
    drop(consumer);
    if let Ok(mut shared_assignment) = shared.assignment.lock() {
        shared_assignment.clear();
    }
}

/// A steady trickle of messages into every partition of a topic, produced by a background
/// task until [`Trickle::stop`]. Failed rounds (e.g. while the broker is down) are skipped.
pub struct Trickle {
    running: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Trickle {
    /// Produces `per_partition` messages to every partition of `topic` every `every`.
    pub fn start(bootstrap: &str, topic: &str, per_partition: u64, every: Duration) -> Trickle {
        let running = Arc::new(AtomicBool::new(true));
        let (flag, bootstrap, topic) =
            (Arc::clone(&running), bootstrap.to_owned(), topic.to_owned());
        let task = tokio::spawn(async move {
            while flag.load(Ordering::Relaxed) {
                let _ = produce_spread(bootstrap.as_str(), &topic, per_partition).await;
                tokio::time::sleep(every).await;
            }
        });
        Trickle { running, task }
    }

    /// Stops producing and waits for the task.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.running.store(false, Ordering::Relaxed);
        self.task.await.context("the producing task failed")
    }
}
