//! Captures `__consumer_offsets` records from a live broker as test fixtures.
//!
//! ```text
//! eval "$(scripts/services env)"
//! cargo run -p lagwatch-source-kafka --example capture_offsets_topic -- \
//!     --bootstrap "$LAGWATCH_TEST_KAFKA" --label kafka-4.4 \
//!     --out crates/lagwatch-source-kafka/tests/fixtures/offsets_topic
//! cargo run -p lagwatch-source-kafka --example capture_offsets_topic -- \
//!     --bootstrap "$LAGWATCH_TEST_KAFKA_LEGACY" --label kafka-3.9 --skip-kip848 \
//!     --out crates/lagwatch-source-kafka/tests/fixtures/offsets_topic
//! ```
//!
//! It runs a fixed scenario on freshly created topics and groups whose names share a random
//! suffix (`lagwatch-fixture-<suffix>-...`), then reads `__consumer_offsets` from the
//! beginning with a group-less consumer (all partitions assigned, nothing committed) until
//! every partition reports its end, keeps the records whose key names a scenario group and
//! writes them to `<out>/<label>.json`:
//!
//! 1. `classic`: two classic-protocol members (`fixture-classic-1`, `fixture-classic-2`) on
//!    the 2-partition topic `a`, one partition each; 5 messages per partition consumed and
//!    committed; both members leave.
//! 2. `consumer` (unless `--skip-kip848`): one KIP-848 member (`fixture-consumer-1`) on `a`
//!    consumes all 10 messages, commits `a/0=5`, `a/1=5` and leaves; then the group is
//!    deleted.
//! 3. `simple`: an assign-only group commits `a/0=3`, `a/1=4`, `b/0=5`.
//! 4. `metadata`: an assign-only group commits `b/0=7` with metadata
//!    `lagwatch fixture metadata`.
//! 5. `txn`: a transactional producer commits `b/0=10` with `send_offsets_to_transaction`
//!    and commits the transaction, then sends `b/0=20` and aborts. The aborted record is
//!    kept with `"read_committed": false` (it is only visible with
//!    `isolation.level=read_uncommitted`).
//! 6. `deleted`: an assign-only group commits `a/0=1`, then the group is deleted.
//!
//! Each fixture record is `{"partition", "offset", "key_hex", "value_hex" (null for a
//! tombstone), "read_committed", "note"}`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use lagwatch_test_support::services::kafka::{self, Protocol, RunningConsumer};
use lagwatch_test_support::services::names;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};
use rdkafka::{ClientConfig, Message as _, Offset, TopicPartitionList};
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(60);
const METADATA: &str = "lagwatch fixture metadata";

struct Args {
    bootstrap: String,
    out: PathBuf,
    label: String,
    kip848: bool,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut bootstrap = None;
    let mut out = None;
    let mut label = "kafka".to_owned();
    let mut kip848 = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bootstrap" => bootstrap = args.next(),
            "--out" => out = args.next().map(PathBuf::from),
            "--label" => label = args.next().context("--label needs a value")?,
            "--skip-kip848" => kip848 = false,
            other => bail!(
                "unknown argument {other}; usage: --bootstrap HOST:PORT --out DIR \
                 [--label NAME] [--skip-kip848]"
            ),
        }
    }
    Ok(Args {
        bootstrap: bootstrap.context("--bootstrap HOST:PORT is required")?,
        out: out.context("--out DIR is required")?,
        label,
        kip848,
    })
}

/// The scenario's names.
struct Names {
    suffix: String,
    topic_a: String,
    topic_b: String,
}

impl Names {
    fn group(&self, name: &str) -> String {
        format!("lagwatch-fixture-{}-{name}", self.suffix)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let target = args.bootstrap.as_str();
    // The random tail of a unique name: 8 hex digits.
    let unique = names::unique("x");
    let suffix = unique.rsplit('-').next().unwrap_or("0").to_owned();
    let n = Names {
        topic_a: format!("lagwatch-fixture-{suffix}-a"),
        topic_b: format!("lagwatch-fixture-{suffix}-b"),
        suffix,
    };
    eprintln!("scenario suffix {}", n.suffix);
    kafka::create_topic(target, &n.topic_a, 2).await?;
    kafka::create_topic(target, &n.topic_b, 1).await?;

    // 1. Classic group, two members, one partition each.
    let classic = n.group("classic");
    let topics = [n.topic_a.as_str()];
    let m1 = RunningConsumer::start(
        target,
        &classic,
        &topics,
        Protocol::Classic,
        "fixture-classic-1",
    )?;
    m1.wait_for_assignment(TIMEOUT).await?;
    let m2 = RunningConsumer::start(
        target,
        &classic,
        &topics,
        Protocol::Classic,
        "fixture-classic-2",
    )?;
    let deadline = Instant::now() + TIMEOUT;
    while m1.assignment().len() != 1 || m2.assignment().len() != 1 {
        ensure!(
            Instant::now() < deadline,
            "classic group not balanced: {:?} / {:?}",
            m1.assignment(),
            m2.assignment()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    kafka::produce_spread(target, &n.topic_a, 5).await?;
    // Both may have caught up before a wait could start: poll the counters; `stop` commits.
    while m1.consumed() < 5 || m2.consumed() < 5 {
        ensure!(
            Instant::now() < deadline + TIMEOUT,
            "classic members consumed only {} and {}",
            m1.consumed(),
            m2.consumed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    m1.stop().await?;
    m2.stop().await?;

    // 2. KIP-848 group, one member.
    if args.kip848 {
        let member = RunningConsumer::start(
            target,
            &n.group("consumer"),
            &topics,
            Protocol::Consumer,
            "fixture-consumer-1",
        )?;
        member.wait_for_consumed(10, TIMEOUT).await?;
        member.stop().await?;
        // Deleting the empty group writes the KIP-848 group tombstone.
        kafka::delete_group(target, &n.group("consumer")).await?;
    }

    // 3. Assign-only group.
    kafka::produce(target, &n.topic_b, Some(0), 5).await?;
    kafka::commit_offsets(
        target,
        &n.group("simple"),
        &[(&n.topic_a, 0, 3), (&n.topic_a, 1, 4), (&n.topic_b, 0, 5)],
    )
    .await?;

    // 4. Commit with a metadata string.
    commit_with_metadata(target, &n.group("metadata"), &n.topic_b).await?;

    // 5. Transactional commits: one committed, one aborted.
    transactional_commits(target, &n).await?;

    // 6. A deleted group.
    let deleted = n.group("deleted");
    kafka::commit_offsets(target, &deleted, &[(&n.topic_a, 0, 1)]).await?;
    kafka::delete_group(target, &deleted).await?;

    // Read everything back.
    let prefix = format!("lagwatch-fixture-{}-", n.suffix);
    let committed = read_offsets_topic(target, "read_committed", &prefix).await?;
    let uncommitted = read_offsets_topic(target, "read_uncommitted", &prefix).await?;
    let mut records = Vec::new();
    for (&(partition, offset), (key, value)) in &uncommitted {
        let read_committed = committed.contains_key(&(partition, offset));
        records.push(json!({
            "partition": partition,
            "offset": offset,
            "key_hex": hex(key),
            "value_hex": value.as_deref().map(hex),
            "read_committed": read_committed,
            "note": note(key, value.is_none(), read_committed, &n),
        }));
    }
    ensure!(
        committed.keys().all(|k| uncommitted.contains_key(k)),
        "read_committed saw records read_uncommitted did not"
    );
    let document = json!({
        "label": args.label,
        "suffix": n.suffix,
        "kip848": args.kip848,
        "topics": { "a": n.topic_a, "b": n.topic_b },
        "records": records,
    });
    std::fs::create_dir_all(&args.out)?;
    let path = args.out.join(format!("{}.json", args.label));
    let mut text = serde_json::to_string_pretty(&document)?;
    text.push('\n');
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {} records to {}", records.len(), path.display());
    kafka::delete_topic(target, &n.topic_a).await?;
    kafka::delete_topic(target, &n.topic_b).await?;
    Ok(())
}

fn group_client(target: &str, group: &str) -> anyhow::Result<BaseConsumer> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", target)
        .set("group.id", group)
        .set("enable.auto.commit", "false");
    Ok(config.create()?)
}

async fn commit_with_metadata(target: &str, group: &str, topic: &str) -> anyhow::Result<()> {
    let client = group_client(target, group)?;
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut list = TopicPartitionList::new();
        list.add_partition_offset(&topic, 0, Offset::Offset(7))?;
        list.find_partition(&topic, 0)
            .context("partition just added")?
            .set_metadata(METADATA);
        client.commit(&list, CommitMode::Sync)?;
        Ok(())
    })
    .await?
}

async fn transactional_commits(target: &str, n: &Names) -> anyhow::Result<()> {
    let group = n.group("txn");
    let consumer = group_client(target, &group)?;
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", target)
        .set("transactional.id", format!("{group}-producer"))
        .create()?;
    let topic = n.topic_b.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let cgm = consumer
            .group_metadata()
            .context("no consumer group metadata")?;
        let offsets = |offset| -> anyhow::Result<TopicPartitionList> {
            let mut list = TopicPartitionList::new();
            list.add_partition_offset(&topic, 0, Offset::Offset(offset))?;
            Ok(list)
        };
        producer.init_transactions(TIMEOUT)?;
        producer.begin_transaction()?;
        producer
            .send(
                BaseRecord::to(&topic)
                    .partition(0)
                    .key("txn")
                    .payload("committed"),
            )
            .map_err(|(err, _)| err)?;
        producer.send_offsets_to_transaction(&offsets(10)?, &cgm, TIMEOUT)?;
        producer.commit_transaction(TIMEOUT)?;
        producer.begin_transaction()?;
        producer.send_offsets_to_transaction(&offsets(20)?, &cgm, TIMEOUT)?;
        producer.abort_transaction(TIMEOUT)?;
        Ok(())
    })
    .await?
}

type Records = BTreeMap<(i32, i64), (Vec<u8>, Option<Vec<u8>>)>;

/// Reads all of `__consumer_offsets` with the given isolation level, keeping the records
/// whose key's group id starts with `prefix`.
async fn read_offsets_topic(
    target: &str,
    isolation: &str,
    prefix: &str,
) -> anyhow::Result<Records> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", target)
        .set("group.id", names::unique("lagwatch-capture"))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("isolation.level", isolation)
        .create()?;
    let prefix = prefix.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Records> {
        let metadata = consumer.fetch_metadata(Some("__consumer_offsets"), TIMEOUT)?;
        let partitions = metadata
            .topics()
            .first()
            .map(|t| t.partitions().len())
            .unwrap_or(0);
        ensure!(partitions > 0, "__consumer_offsets has no partitions");
        let mut list = TopicPartitionList::new();
        for p in 0..i32::try_from(partitions)? {
            list.add_partition_offset("__consumer_offsets", p, Offset::Beginning)?;
        }
        consumer.assign(&list)?;
        let mut at_end = std::collections::BTreeSet::new();
        let mut records = Records::new();
        let deadline = Instant::now() + TIMEOUT;
        while at_end.len() < partitions {
            ensure!(
                Instant::now() < deadline,
                "__consumer_offsets not read within {TIMEOUT:?}"
            );
            match consumer.poll(Duration::from_millis(200)) {
                None => {}
                Some(Err(KafkaError::PartitionEOF(p))) => {
                    at_end.insert(p);
                }
                Some(Err(err)) => bail!("reading __consumer_offsets: {err}"),
                Some(Ok(message)) => {
                    at_end.remove(&message.partition());
                    let key = message.key().unwrap_or_default();
                    if key_group(key).is_some_and(|g| g.starts_with(prefix.as_str())) {
                        records.insert(
                            (message.partition(), message.offset()),
                            (key.to_vec(), message.payload().map(<[u8]>::to_vec)),
                        );
                    }
                }
            }
        }
        Ok(records)
    })
    .await?
}

/// The group id every coordinator key starts with after its int16 version.
fn key_group(key: &[u8]) -> Option<&str> {
    let len = usize::from(u16::from_be_bytes([*key.get(2)?, *key.get(3)?]));
    std::str::from_utf8(key.get(4..4 + len)?).ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn note(key: &[u8], tombstone: bool, read_committed: bool, n: &Names) -> String {
    let version = key
        .get(..2)
        .and_then(|v| <[u8; 2]>::try_from(v).ok())
        .map_or(-1, i16::from_be_bytes);
    let group = key_group(key).unwrap_or("?");
    let short = group
        .strip_prefix(&format!("lagwatch-fixture-{}-", n.suffix))
        .unwrap_or(group);
    let what = match (version, tombstone) {
        (0 | 1, false) => "offset commit",
        (0 | 1, true) => "offset tombstone",
        (2, false) => "group metadata",
        (2, true) => "group tombstone",
        (3, false) => "consumer group metadata (KIP-848)",
        (3, true) => "consumer group tombstone (KIP-848)",
        (4, _) => "consumer group partition metadata (KIP-848)",
        (5, false) => "consumer group member metadata (KIP-848)",
        (5, true) => "consumer group member tombstone (KIP-848)",
        (6, _) => "consumer group target assignment metadata (KIP-848)",
        (7, _) => "consumer group target assignment member (KIP-848)",
        (8, false) => "consumer group current member assignment (KIP-848)",
        (8, true) => "consumer group current member assignment tombstone (KIP-848)",
        _ => "other coordinator record",
    };
    let scenario = match short {
        "classic" => "classic group, 2 members on a (2 partitions)",
        "consumer" => "KIP-848 group, 1 member on a, then deleted",
        "simple" => "assign-only group committing a/0=3 a/1=4 b/0=5",
        "metadata" => "assign-only group committing b/0=7 with a metadata string",
        "txn" if read_committed => "transactional commit b/0=10, committed",
        "txn" => "transactional commit b/0=20, aborted: only visible read_uncommitted",
        "deleted" => "assign-only group committing a/0=1, then deleted",
        _ => "?",
    };
    format!("key v{version} {what}; group {short}: {scenario}")
}
