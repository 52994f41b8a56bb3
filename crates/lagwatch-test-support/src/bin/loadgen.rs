//! `loadgen`: sets up a large consumer-lag workload on one Kafka broker, for lagwatch's scale
//! tests and benchmarks.
//!
//! It creates `--topics` × `--partitions` (CreateTopics with many topics per request),
//! produces `--messages` records to every partition (one high-throughput producer), then
//! commits offsets for `--groups` groups so that every group/partition has a lag drawn from
//! `--lag-min..=--lag-max` (seeded, so runs are repeatable). Group `g` reads
//! `--topics-per-group` consecutive topics starting at topic `g × topics-per-group mod topics`.
//!
//! Commits need one client per group id (librdkafka fixes `group.id` per client, and the
//! Rust binding has no AlterConsumerGroupOffsets), so a pool of worker threads creates
//! short-lived assign-free clients in parallel.
//!
//! See docs/testing-rust.md for usage and measured times.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail, ensure};
use clap::Parser;
use lagwatch_test_support::services::kafka::{DeliveryCounter, KafkaTarget, rdkafka};
use rand::rngs::SmallRng;
use rand::{Rng as _, SeedableRng as _};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::json;

/// Sets up topics, messages and consumer groups with chosen lags on a Kafka broker.
#[derive(Debug, Parser)]
#[command(name = "loadgen", version)]
struct Args {
    /// Bootstrap address of the broker.
    #[arg(long, env = "LAGWATCH_TEST_KAFKA")]
    bootstrap: String,
    /// Number of topics to create.
    #[arg(long, default_value_t = 10)]
    topics: usize,
    /// Partitions per topic.
    #[arg(long, default_value_t = 10)]
    partitions: i32,
    /// Number of consumer groups to commit offsets for.
    #[arg(long, default_value_t = 10)]
    groups: usize,
    /// Topics each group reads (consecutive topics, wrapping around).
    #[arg(long, default_value_t = 1)]
    topics_per_group: usize,
    /// Messages produced to every partition (the end offset of every partition).
    #[arg(long, default_value_t = 20)]
    messages: u64,
    /// Parallel producers (each writes a slice of the topics).
    #[arg(long, default_value_t = 2)]
    producers: usize,
    /// Topics a producer fills before it waits for their acknowledgements.
    #[arg(long, default_value_t = 100)]
    produce_window: usize,
    /// `linger.ms` of the producers.
    #[arg(long, default_value_t = 50)]
    linger_ms: u64,
    /// Payload size of each message in bytes.
    #[arg(long, default_value_t = 16)]
    message_bytes: usize,
    /// Smallest lag of a group on one partition.
    #[arg(long, default_value_t = 0)]
    lag_min: u64,
    /// Largest lag of a group on one partition (default: --messages).
    #[arg(long)]
    lag_max: Option<u64>,
    /// Seed of the lag draw.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Name prefix of topics and groups (default: `load-<pid>-<unix seconds>`).
    #[arg(long)]
    prefix: Option<String>,
    /// Topics per CreateTopics request.
    #[arg(long, default_value_t = 500)]
    create_batch: usize,
    /// Parallel commit workers (each creates one client per group it commits).
    #[arg(long, default_value_t = 32)]
    commit_workers: usize,
    /// Groups whose commits are read back and checked at the end.
    #[arg(long, default_value_t = 20)]
    verify: usize,
    /// Write the expected lag of every group as JSON to this file: per group its topics, total
    /// lag and committed offset per partition (`committed`: topic -> offsets by partition).
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Instead of generating: delete the topics and groups whose names start with
    /// `<PREFIX>-` (the output of an earlier run with that prefix), then exit.
    #[arg(long, value_name = "PREFIX")]
    cleanup: Option<String>,
    /// Extra librdkafka setting for every client, e.g. `-X security.protocol=SSL` (repeatable).
    #[arg(short = 'X', value_name = "KEY=VALUE", value_parser = parse_setting)]
    config: Vec<(String, String)>,
}

fn parse_setting(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("expected KEY=VALUE, got {text:?}"))
}

/// One group's commits: `(topic index, partition, committed offset)`.
struct GroupPlan {
    name: String,
    topics: Vec<usize>,
    commits: Vec<(usize, i32, i64)>,
    total_lag: u64,
}

struct Plan {
    topics: Vec<String>,
    groups: Vec<GroupPlan>,
}

impl Args {
    fn config(&self) -> ClientConfig {
        let mut config = self.bootstrap.client_config();
        config.set("client.id", "lagwatch-loadgen");
        for (key, value) in &self.config {
            config.set(key, value);
        }
        config
    }

    fn plan(&self, prefix: &str) -> anyhow::Result<Plan> {
        ensure!(
            self.topics > 0 && self.partitions > 0,
            "need at least one topic and partition"
        );
        ensure!(
            (1..=self.topics).contains(&self.topics_per_group),
            "--topics-per-group must be between 1 and --topics"
        );
        let lag_max = self.lag_max.unwrap_or(self.messages);
        ensure!(
            self.lag_min <= lag_max,
            "--lag-min {} > --lag-max {lag_max}",
            self.lag_min
        );
        let topics: Vec<String> = (0..self.topics)
            .map(|t| format!("{prefix}-t{t:06}"))
            .collect();
        let mut rng = SmallRng::seed_from_u64(self.seed);
        let end = i64::try_from(self.messages)?;
        let mut groups = Vec::with_capacity(self.groups);
        for g in 0..self.groups {
            let first = (g * self.topics_per_group) % self.topics;
            let group_topics: Vec<usize> = (0..self.topics_per_group)
                .map(|k| (first + k) % self.topics)
                .collect();
            let mut commits = Vec::new();
            let mut total_lag = 0;
            for &t in &group_topics {
                for p in 0..self.partitions {
                    let lag = rng.random_range(self.lag_min..=lag_max).min(self.messages);
                    let offset = end - i64::try_from(lag)?;
                    commits.push((t, p, offset));
                    total_lag += lag;
                }
            }
            groups.push(GroupPlan {
                name: format!("{prefix}-g{g:06}"),
                topics: group_topics,
                commits,
                total_lag,
            });
        }
        Ok(Plan { topics, groups })
    }
}

/// Prints a progress line at most every two seconds.
struct Progress {
    phase: &'static str,
    total: u64,
    started: Instant,
    last: Mutex<Instant>,
}

impl Progress {
    fn new(phase: &'static str, total: u64) -> Progress {
        let now = Instant::now();
        Progress {
            phase,
            total,
            started: now,
            last: Mutex::new(now),
        }
    }

    fn report(&self, done: u64, unit: &str) {
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if last.elapsed() < Duration::from_secs(2) && done < self.total {
            return;
        }
        *last = Instant::now();
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        eprintln!(
            "  {}: {done}/{} {unit} ({rate:.0}/s, {secs:.1} s)",
            self.phase, self.total
        );
    }
}

fn create_topics(args: &Args, plan: &Plan) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = args
        .config()
        .create()
        .context("cannot create the admin client")?;
    let options = AdminOptions::new()
        .operation_timeout(Some(Duration::from_secs(120)))
        .request_timeout(Some(Duration::from_secs(150)));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start a runtime")?;
    let progress = Progress::new("create", u64::try_from(plan.topics.len())?);
    let mut created = 0u64;
    for batch in plan.topics.chunks(args.create_batch.max(1)) {
        let new_topics: Vec<NewTopic<'_>> = batch
            .iter()
            .map(|name| NewTopic::new(name, args.partitions, TopicReplication::Fixed(1)))
            .collect();
        let results = runtime
            .block_on(admin.create_topics(&new_topics, &options))
            .context("CreateTopics failed")?;
        for result in results {
            if let Err((name, code)) = result {
                bail!("cannot create topic {name}: {code}");
            }
            created += 1;
        }
        progress.report(created, "topics");
    }
    // Wait until the broker's metadata shows every partition with a leader.
    let client: BaseConsumer = args
        .config()
        .create()
        .context("cannot create a metadata client")?;
    let wanted: std::collections::HashSet<&str> = plan.topics.iter().map(String::as_str).collect();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let metadata = client
            .fetch_metadata(None, Duration::from_secs(60))
            .context("fetching metadata")?;
        let ready = metadata
            .topics()
            .iter()
            .filter(|t| wanted.contains(t.name()))
            .filter(|t| {
                i32::try_from(t.partitions().len()).ok() == Some(args.partitions)
                    && t.partitions().iter().all(|p| p.leader() >= 0)
            })
            .count();
        if ready == wanted.len() {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "only {ready} of {} topics have leaders after 10 minutes",
            wanted.len()
        );
        eprintln!(
            "  create: {ready}/{} topics have leaders for every partition",
            wanted.len()
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn produce(args: &Args, plan: &Plan) -> anyhow::Result<()> {
    if args.messages == 0 {
        return Ok(());
    }
    let total = u64::try_from(plan.topics.len())? * u64::try_from(args.partitions)? * args.messages;
    let progress = Progress::new("produce", total);
    let sent = AtomicU64::new(0);
    let producers = args.producers.clamp(1, plan.topics.len());
    let chunk = plan.topics.len().div_ceil(producers);
    std::thread::scope(|scope| {
        let workers: Vec<_> = plan
            .topics
            .chunks(chunk)
            .map(|topics| scope.spawn(|| produce_topics(args, topics, &sent, &progress)))
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join()
                .map_err(|_| anyhow!("a producer thread panicked"))?
        })
    })?;
    // Spot-check end offsets: the lags assume every partition ends at --messages.
    let client: BaseConsumer = args
        .config()
        .create()
        .context("cannot create a watermark client")?;
    let expected = i64::try_from(args.messages)?;
    for topic in plan.topics.iter().step_by((plan.topics.len() / 10).max(1)) {
        for partition in [0, args.partitions - 1] {
            let (_, high) = client.fetch_watermarks(topic, partition, Duration::from_secs(30))?;
            ensure!(
                high == expected,
                "{topic}/{partition} ends at {high}, expected {expected}"
            );
        }
    }
    Ok(())
}

/// One producer for a slice of the topics: every partition gets `--messages` records.
fn produce_topics(
    args: &Args,
    topics: &[String],
    sent: &AtomicU64,
    progress: &Progress,
) -> anyhow::Result<()> {
    let mut config = args.config();
    config
        .set("linger.ms", args.linger_ms.to_string())
        .set("batch.num.messages", "100000")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "2000000")
        .set("queue.buffering.max.kbytes", "1048576")
        .set("acks", "1")
        .set("message.timeout.ms", "300000");
    let producer: BaseProducer<DeliveryCounter> = config
        .create_with_context(DeliveryCounter::default())
        .context("cannot create the producer")?;
    let payload = vec![b'x'; args.message_bytes];
    let mut queued = 0u64;
    let mut window = 0;
    for topic in topics {
        for partition in 0..args.partitions {
            for _ in 0..args.messages {
                loop {
                    match producer.send::<[u8], [u8]>(
                        BaseRecord::to(topic)
                            .partition(partition)
                            .payload(&payload[..]),
                    ) {
                        Ok(()) => break,
                        Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                            producer.poll(Duration::from_millis(10));
                        }
                        Err((err, _)) => bail!("cannot send to {topic}/{partition}: {err}"),
                    }
                }
            }
            queued += args.messages;
            producer.poll(Duration::ZERO);
            progress.report(
                sent.fetch_add(args.messages, Ordering::Relaxed) + args.messages,
                "messages queued",
            );
        }
        window += 1;
        if window == args.produce_window {
            // librdkafka's cost grows with the number of partitions holding queued messages:
            // keep that number bounded.
            producer
                .flush(Duration::from_secs(300))
                .context("flushing the producer")?;
            window = 0;
        }
    }
    producer
        .flush(Duration::from_secs(600))
        .context("flushing the producer")?;
    producer.context().check(queued)
}

/// Closes a group client with short polls: dropping it unclosed polls in 100 ms steps, which
/// would dominate the time of a commit.
fn close_quickly(client: &BaseConsumer) {
    if client.close_queue().is_err() {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !client.closed() && Instant::now() < deadline {
        client.poll(Duration::from_millis(1));
    }
}

fn commit_group(args: &Args, plan: &Plan, group: &GroupPlan) -> anyhow::Result<()> {
    let mut list = TopicPartitionList::with_capacity(group.commits.len());
    for &(t, p, offset) in &group.commits {
        list.add_partition_offset(&plan.topics[t], p, Offset::Offset(offset))?;
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        let client: BaseConsumer = args
            .config()
            .set("group.id", &group.name)
            .set("enable.auto.commit", "false")
            .create()
            .context("cannot create a commit client")?;
        match client.commit(&list, CommitMode::Sync) {
            Ok(()) => {
                close_quickly(&client);
                return Ok(());
            }
            Err(err) if attempt < 5 => {
                eprintln!(
                    "  commit: {} attempt {attempt} failed: {err}; retrying",
                    group.name
                );
                std::thread::sleep(Duration::from_millis(200 * attempt));
            }
            Err(err) => return Err(anyhow!("committing group {}: {err}", group.name)),
        }
    }
}

fn commit(args: &Args, plan: &Plan) -> anyhow::Result<()> {
    let next = AtomicUsize::new(0);
    let done = AtomicU64::new(0);
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let progress = Progress::new("commit", u64::try_from(plan.groups.len())?);
    std::thread::scope(|scope| {
        for _ in 0..args.commit_workers.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(group) = plan.groups.get(i) else {
                        break;
                    };
                    if let Err(err) = commit_group(args, plan, group) {
                        if let Ok(mut first) = failure.lock() {
                            first.get_or_insert(err);
                        }
                        // Stop handing out work.
                        next.store(plan.groups.len(), Ordering::Relaxed);
                        break;
                    }
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    progress.report(n, "groups");
                }
            });
        }
    });
    match failure.into_inner() {
        Ok(Some(err)) => Err(err),
        Ok(None) => Ok(()),
        Err(_) => bail!("a commit worker panicked"),
    }
}

fn verify(args: &Args, plan: &Plan) -> anyhow::Result<usize> {
    if plan.groups.is_empty() || args.verify == 0 {
        return Ok(0);
    }
    let step = (plan.groups.len() / args.verify).max(1);
    let mut checked = 0;
    for group in plan.groups.iter().step_by(step).take(args.verify) {
        let client: BaseConsumer = args
            .config()
            .set("group.id", &group.name)
            .create()
            .context("cannot create a verification client")?;
        let mut list = TopicPartitionList::new();
        for &(t, p, _) in &group.commits {
            list.add_partition(&plan.topics[t], p);
        }
        let committed = client.committed_offsets(list, Duration::from_secs(30))?;
        for &(t, p, offset) in &group.commits {
            let found = committed
                .find_partition(&plan.topics[t], p)
                .map(|e| e.offset())
                .ok_or_else(|| anyhow!("{}: {}/{p} missing", group.name, plan.topics[t]))?;
            ensure!(
                found == Offset::Offset(offset),
                "{}: {}/{p} committed {found:?}, expected {offset}",
                group.name,
                plan.topics[t]
            );
        }
        checked += 1;
    }
    Ok(checked)
}

fn write_manifest(args: &Args, plan: &Plan, prefix: &str, path: &PathBuf) -> anyhow::Result<()> {
    let groups: BTreeMap<&str, serde_json::Value> = plan
        .groups
        .iter()
        .map(|g| {
            let topics: Vec<&str> = g.topics.iter().map(|&t| plan.topics[t].as_str()).collect();
            // Committed offset of every partition, by topic, indexed by partition: the exact
            // truth a lag reader must serve (lag = `messages_per_partition` − offset), and
            // what a re-committer sends again to keep the group's windows live.
            let mut committed: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
            for &(t, _, offset) in &g.commits {
                committed
                    .entry(plan.topics[t].as_str())
                    .or_default()
                    .push(offset);
            }
            (
                g.name.as_str(),
                json!({ "topics": topics, "total_lag": g.total_lag, "committed": committed }),
            )
        })
        .collect();
    let manifest = json!({
        "bootstrap": args.bootstrap,
        "prefix": prefix,
        "topics": plan.topics.len(),
        "partitions_per_topic": args.partitions,
        "messages_per_partition": args.messages,
        "total_lag": plan.groups.iter().map(|g| g.total_lag).sum::<u64>(),
        "groups": groups,
    });
    std::fs::write(path, serde_json::to_vec_pretty(&manifest)?)
        .with_context(|| format!("writing {}", path.display()))
}

fn cleanup(args: &Args, prefix: &str) -> anyhow::Result<()> {
    let start = format!("{prefix}-");
    let client: BaseConsumer = args
        .config()
        .create()
        .context("cannot create a metadata client")?;
    let metadata = client
        .fetch_metadata(None, Duration::from_secs(60))
        .context("fetching metadata")?;
    let topics: Vec<String> = metadata
        .topics()
        .iter()
        .map(|t| t.name().to_owned())
        .filter(|name| name.starts_with(&start))
        .collect();
    let groups: Vec<String> = client
        .fetch_group_list(None, Duration::from_secs(60))
        .context("listing groups")?
        .groups()
        .iter()
        .map(|g| g.name().to_owned())
        .filter(|name| name.starts_with(&start))
        .collect();
    eprintln!(
        "cleanup: {} topics and {} groups start with {start}",
        topics.len(),
        groups.len()
    );
    let admin: AdminClient<DefaultClientContext> = args
        .config()
        .create()
        .context("cannot create the admin client")?;
    let options = AdminOptions::new()
        .operation_timeout(Some(Duration::from_secs(120)))
        .request_timeout(Some(Duration::from_secs(150)));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start a runtime")?;
    let mut failures = 0usize;
    for batch in groups.chunks(500) {
        let names: Vec<&str> = batch.iter().map(String::as_str).collect();
        let results = runtime.block_on(admin.delete_groups(&names, &options))?;
        failures += results.iter().filter(|r| r.is_err()).count();
    }
    for batch in topics.chunks(args.create_batch.max(1)) {
        let names: Vec<&str> = batch.iter().map(String::as_str).collect();
        let results = runtime.block_on(admin.delete_topics(&names, &options))?;
        failures += results.iter().filter(|r| r.is_err()).count();
    }
    ensure!(failures == 0, "{failures} deletions failed");
    println!(
        "{}",
        json!({ "deleted_topics": topics.len(), "deleted_groups": groups.len() })
    );
    Ok(())
}

fn timed<T>(name: &str, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(T, Duration)> {
    eprintln!("{name} ...");
    let started = Instant::now();
    let value = f().with_context(|| format!("phase {name}"))?;
    let took = started.elapsed();
    eprintln!("{name}: done in {:.1} s", took.as_secs_f64());
    Ok((value, took))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(prefix) = &args.cleanup {
        return cleanup(&args, prefix);
    }
    let prefix = args.prefix.clone().unwrap_or_else(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        format!("load-{}-{secs}", std::process::id())
    });
    let plan = args.plan(&prefix)?;
    let partitions = plan.topics.len() * usize::try_from(args.partitions)?;
    let offsets: usize = plan.groups.iter().map(|g| g.commits.len()).sum();
    eprintln!(
        "loadgen: {} topics x {} partitions = {partitions} partitions, {} groups, {offsets} committed offsets, \
         {} messages per partition, prefix {prefix}, broker {}",
        plan.topics.len(),
        args.partitions,
        plan.groups.len(),
        args.messages,
        args.bootstrap
    );
    let started = Instant::now();
    let ((), create) = timed("create topics", || create_topics(&args, &plan))?;
    let ((), produced) = timed("produce", || produce(&args, &plan))?;
    let ((), committed) = timed("commit offsets", || commit(&args, &plan))?;
    let (checked, _) = timed("verify", || verify(&args, &plan))?;
    if let Some(path) = &args.manifest {
        write_manifest(&args, &plan, &prefix, path)?;
        eprintln!("manifest written to {}", path.display());
    }
    let total_lag: u64 = plan.groups.iter().map(|g| g.total_lag).sum();
    let summary = json!({
        "prefix": prefix,
        "topics": plan.topics.len(),
        "partitions": partitions,
        "groups": plan.groups.len(),
        "committed_offsets": offsets,
        "messages": partitions as u64 * args.messages,
        "total_lag": total_lag,
        "verified_groups": checked,
        "seconds": {
            "create": create.as_secs_f64(),
            "produce": produced.as_secs_f64(),
            "commit": committed.as_secs_f64(),
            "total": started.elapsed().as_secs_f64(),
        },
    });
    println!("{summary}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Args {
        let mut argv = vec!["loadgen", "--bootstrap", "127.0.0.1:1"];
        argv.extend_from_slice(extra);
        Args::try_parse_from(argv).unwrap()
    }

    #[test]
    fn plan_wraps_topics_and_keeps_lags_in_range() {
        let a = args(&[
            "--topics",
            "3",
            "--partitions",
            "2",
            "--groups",
            "4",
            "--topics-per-group",
            "2",
        ]);
        let plan = a.plan("p").unwrap();
        assert_eq!(plan.topics, vec!["p-t000000", "p-t000001", "p-t000002"]);
        assert_eq!(plan.groups[1].name, "p-g000001");
        assert_eq!(plan.groups[1].topics, vec![2, 0]);
        for group in &plan.groups {
            assert_eq!(group.commits.len(), 4);
            let lag: u64 = group.commits.iter().map(|&(_, _, o)| 20 - o as u64).sum();
            assert_eq!(lag, group.total_lag);
            assert!(group.commits.iter().all(|&(_, _, o)| (0..=20).contains(&o)));
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_plan() {
        let a = args(&["--groups", "5", "--seed", "7"]);
        let lags = |plan: Plan| plan.groups.iter().map(|g| g.total_lag).collect::<Vec<_>>();
        assert_eq!(lags(a.plan("x").unwrap()), lags(a.plan("x").unwrap()));
    }

    #[test]
    fn the_manifest_holds_every_committed_offset() {
        let a = args(&["--topics", "3", "--partitions", "4", "--groups", "5"]);
        let plan = a.plan("m").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.json");
        write_manifest(&a, &plan, "m", &path).unwrap();
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for group in &plan.groups {
            let entry = &manifest["groups"][group.name.as_str()];
            let committed = entry["committed"].as_object().unwrap();
            assert_eq!(committed.len(), 1);
            let offsets = committed[&plan.topics[group.topics[0]]].as_array().unwrap();
            let expected: Vec<i64> = group.commits.iter().map(|&(_, _, o)| o).collect();
            let got: Vec<i64> = offsets.iter().map(|o| o.as_i64().unwrap()).collect();
            assert_eq!(got, expected);
            let lag: u64 = got.iter().map(|&o| 20 - o as u64).sum();
            assert_eq!(lag, entry["total_lag"].as_u64().unwrap());
        }
    }

    #[test]
    fn fixed_lag_and_bad_ranges() {
        let a = args(&["--lag-min", "5", "--lag-max", "5", "--messages", "8"]);
        let plan = a.plan("x").unwrap();
        assert!(
            plan.groups
                .iter()
                .all(|g| g.commits.iter().all(|&(_, _, o)| o == 3))
        );
        assert!(
            args(&["--lag-min", "9", "--lag-max", "5"])
                .plan("x")
                .is_err()
        );
        assert!(args(&["--topics-per-group", "99"]).plan("x").is_err());
        assert_eq!(
            parse_setting("a=b=c").unwrap(),
            ("a".to_owned(), "b=c".to_owned())
        );
        assert!(parse_setting("novalue").is_err());
    }
}
