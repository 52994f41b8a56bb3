//! Cycle time and requests per cycle of the Kafka source against a real broker, at 100, 1,000
//! and 10,000 consumer groups.
//!
//! Run it through `bench/kafka_cycle` (starts the harness's Kafka 4.4 and builds `loadgen`),
//! or by hand: `cargo bench -p lagwatch-source-kafka --bench kafka_cycle -- [--write]
//! [--quick]` with `LAGWATCH_TEST_KAFKA` (bootstrap address) and `LAGWATCH_LOADGEN` (path of
//! the `loadgen` binary) set. `--write` replaces the `kafka-cycle` section of
//! docs/benchmarks.md, `--quick` stops at 1,000 groups.
//!
//! For every size, `loadgen` creates 100 topics × 10 partitions and commits offsets for G
//! groups reading one topic each (10 partitions per group), under a prefix of its own; every
//! source only sees that prefix (group and topic allowlists). Then:
//!
//! * `admin`: one warm-up [`Snapshots::next`], then 5 timed reads;
//! * `auto` after its first snapshot, i.e. streaming commits: the real [`OffsetSource::run`]
//!   loop with `group_refresh` 1.5 × `offset_refresh` (2 s, longer for slow reads), so cycles
//!   alternate between broker offsets only and broker offsets + group description;
//! * `offsets-topic` from the earliest offset: time until commits of all G groups arrived.
//!
//! Requests are exact: librdkafka's own per-broker counters (`statistics.interval.ms` =
//! 100 ms, read through [`client::broker_requests`]), sampled 300 ms after a read ended —
//! except OffsetFetch, which librdkafka leaves out of the admin connection's statistics
//! (a producer-type client): it is one per ListConsumerGroupOffsets call, i.e. per group.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use lagwatch_component::FromConfig;
use lagwatch_component::{EventSender, OffsetSource, SourceContext};
use lagwatch_config::KafkaSourceConfig;
use lagwatch_config::kafka::{KafkaMode, OffsetsTopicStart};
use lagwatch_core::Event;
use lagwatch_core::secret::Secret;
use lagwatch_source_kafka::{KafkaSource, client};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const TOPICS: usize = 100;
const PARTITIONS: usize = 10;
const READS: usize = 5;
/// librdkafka statistics interval; counters are read 3 intervals after a read.
const STATS_INTERVAL_MS: u64 = 100;
const SETTLE: Duration = Duration::from_millis(3 * STATS_INTERVAL_MS);

type Requests = BTreeMap<String, u64>;

/// The one request type not counted by librdkafka here, derived instead.
const OFFSET_FETCH: &str = "OffsetFetch*";
/// The batched committed-offset path's requests (FindCoordinator and OffsetFetch, plus
/// ApiVersions on a new connection), exact.
const BATCHED: &str = "batched OffsetFetch+FindCoordinator";

fn delta(after: &Requests, before: &Requests) -> Requests {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

/// One measured kind of read.
struct Row {
    groups: usize,
    mode: String,
    times: Vec<Duration>,
    requests: Vec<Requests>,
    /// The source's own request estimate (`KafkaSourceStats::requests`) per read.
    estimates: Vec<u64>,
    events: Vec<usize>,
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 100.0 {
        format!("{ms:.0}")
    } else {
        format!("{ms:.1}")
    }
}

fn range<T: Ord + Copy + std::fmt::Display>(values: &[T]) -> String {
    let min = values.iter().min().unwrap();
    let max = values.iter().max().unwrap();
    if min == max {
        format!("{min}")
    } else {
        format!("{min}–{max}")
    }
}

fn row_line(r: &Row) -> String {
    let mut times = r.times.clone();
    times.sort();
    let time = if times.len() == 1 {
        ms(times[0])
    } else {
        format!(
            "{} ({}–{})",
            ms(times[times.len() / 2]),
            ms(times[0]),
            ms(*times.last().unwrap())
        )
    };
    let names: BTreeSet<&String> = r.requests.iter().flat_map(|m| m.keys()).collect();
    let by_type: Vec<String> = names
        .iter()
        .map(|name| {
            let counts: Vec<u64> = r
                .requests
                .iter()
                .map(|m| m.get(*name).copied().unwrap_or(0))
                .collect();
            format!("{name} {}", range(&counts))
        })
        .collect();
    let totals: Vec<u64> = r.requests.iter().map(|m| m.values().sum()).collect();
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
        r.groups,
        r.groups * PARTITIONS,
        r.mode,
        time,
        by_type.join(", "),
        range(&totals),
        range(&r.estimates),
        range(&r.events),
    )
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| groups | group-partitions | mode / read | read time ms, median (min–max) | requests per read, by type | requests per read | source's estimate | events per read |\n\
         |---:|---:|---|---:|---|---:|---:|---:|\n",
    );
    for r in rows {
        out.push_str(&row_line(r));
    }
    out
}

fn config(bootstrap: &str, cluster: &str, prefix: &str, mode: KafkaMode) -> KafkaSourceConfig {
    let mut c = KafkaSourceConfig::new(cluster, bootstrap);
    c.mode = mode;
    c.group_allowlist = format!("^{prefix}-");
    c.topic_allowlist = format!("^{prefix}-");
    c.request_timeout = Duration::from_secs(30);
    c.librdkafka.insert(
        "statistics.interval.ms".into(),
        Secret::new(STATS_INTERVAL_MS.to_string()),
    );
    c
}

fn loadgen(args: &[&str]) {
    let path = std::env::var("LAGWATCH_LOADGEN")
        .expect("LAGWATCH_LOADGEN: path of the loadgen binary (bench/kafka_cycle sets it)");
    let status = Command::new(&path)
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {path}: {e}"));
    assert!(status.success(), "loadgen {args:?} failed: {status}");
}

async fn admin(bootstrap: &str, prefix: &str, groups: usize, batched: bool, rows: &mut Vec<Row>) {
    let path = if batched { "batched" } else { "librdkafka" };
    let cluster = format!("admin-{path}-{prefix}");
    let mut settings = config(bootstrap, &cluster, prefix, KafkaMode::Admin);
    settings.batched_offsets = batched;
    let source = KafkaSource::from_config("bench", &settings).unwrap();
    let mut snapshots = source.snapshots().unwrap();
    let label = if batched {
        "admin, batched OffsetFetch".to_owned()
    } else {
        format!(
            "admin, librdkafka one group per call (concurrency {})",
            KafkaSourceConfig::default().concurrency
        )
    };
    let mut first = Row {
        groups,
        mode: format!("{label}, first read"),
        times: vec![],
        requests: vec![],
        estimates: vec![],
        events: vec![],
    };
    let mut next = Row {
        groups,
        mode: format!("{label}, next reads"),
        times: vec![],
        requests: vec![],
        estimates: vec![],
        events: vec![],
    };
    for i in 0..=READS {
        let before = client::broker_requests(&cluster, "admin");
        let estimate = source.stats().requests;
        let batched_before = source.stats().batched_requests;
        let started = Instant::now();
        let events = snapshots.next().await.unwrap();
        let took = started.elapsed();
        tokio::time::sleep(SETTLE).await;
        let row = if i == 0 { &mut first } else { &mut next };
        row.times.push(took);
        let mut requests = delta(&client::broker_requests(&cluster, "admin"), &before);
        let stats = source.stats();
        let batched = stats.batched_requests - batched_before;
        if batched > 0 {
            // The batched path's own connections (ApiVersions, FindCoordinator, OffsetFetch),
            // counted exactly by the source.
            requests.insert(BATCHED.into(), batched);
        } else {
            // librdkafka leaves OffsetFetch out of a producer-type client's statistics (the
            // admin connection is one): one per ListConsumerGroupOffsets call, i.e. per
            // readable group.
            requests.insert(OFFSET_FETCH.into(), stats.groups - stats.unreadable_groups);
        }
        row.requests.push(requests);
        row.estimates.push(source.stats().requests - estimate);
        row.events.push(events.len());
        eprintln!("  admin read {i}: {} ms, {} events", ms(took), events.len());
    }
    let stats = source.stats();
    assert_eq!(stats.groups, groups as u64, "groups listed: {stats:?}");
    assert_eq!(stats.errors, 0, "{stats:?}");
    rows.push(first);
    rows.push(next);
}

/// Drains a source's events, counting them and the groups seen in commits.
fn drain(
    mut rx: tokio::sync::mpsc::Receiver<Vec<Event>>,
) -> (Arc<AtomicU64>, Arc<Mutex<BTreeSet<String>>>) {
    let count = Arc::new(AtomicU64::new(0));
    let groups = Arc::new(Mutex::new(BTreeSet::new()));
    let (c, g) = (Arc::clone(&count), Arc::clone(&groups));
    tokio::spawn(async move {
        while let Some(batch) = rx.recv().await {
            c.fetch_add(batch.len() as u64, Ordering::Relaxed);
            let mut seen = g.lock().unwrap();
            for event in batch {
                if let Event::Commit { group, .. } = event {
                    seen.insert(group);
                }
            }
        }
    });
    (count, groups)
}

/// A source running its [`OffsetSource::run`] loop.
struct Running {
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    /// Events received so far.
    events: Arc<AtomicU64>,
    /// Groups seen in Commit events.
    groups: Arc<Mutex<BTreeSet<String>>>,
}

impl Running {
    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap();
    }
}

fn start(source: &Arc<KafkaSource>, name: &str) -> Running {
    let (events, rx) = EventSender::channel(name.to_owned(), 1024);
    let (count, groups) = drain(rx);
    let shutdown = CancellationToken::new();
    let ctx = SourceContext {
        events,
        shutdown: shutdown.clone(),
    };
    let s = Arc::clone(source);
    let task = tokio::spawn(async move { s.run(ctx).await.unwrap() });
    Running {
        shutdown,
        task,
        events: count,
        groups,
    }
}

async fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `auto` mode once streaming: periodic reads of broker offsets, and group descriptions every
/// `group_refresh`, with no committed-offset fetch.
///
/// `offset_refresh` is 2 s, or twice the slowest admin read when that is longer, so every
/// cycle ends well before the next starts and its requests can be told apart.
async fn streaming_cycles(
    bootstrap: &str,
    prefix: &str,
    groups: usize,
    slowest_admin_read: Duration,
    rows: &mut Vec<Row>,
) {
    let cluster = format!("auto-{prefix}");
    let mut cfg = config(bootstrap, &cluster, prefix, KafkaMode::Auto);
    cfg.offset_refresh = Duration::from_secs((2 * slowest_admin_read.as_secs() + 2).max(2));
    cfg.group_refresh = cfg.offset_refresh.mul_f64(1.5);
    let refresh = cfg.offset_refresh;
    let source = Arc::new(KafkaSource::from_config("bench", &cfg).unwrap());
    let running = start(&source, &cluster);
    let events = Arc::clone(&running.events);
    wait_for(
        "the first snapshot and the stream",
        Duration::from_secs(300),
        || source.stats().mode == "offsets-topic" && source.stats().cycles >= 1,
    )
    .await;
    let mut describe = Row {
        groups,
        mode: format!(
            "auto/offsets-topic: periodic read with describe (offset_refresh {}s)",
            refresh.as_secs()
        ),
        times: vec![],
        requests: vec![],
        estimates: vec![],
        events: vec![],
    };
    let mut offsets_only = Row {
        groups,
        mode: "auto/offsets-topic: periodic read, broker offsets only".into(),
        times: vec![],
        requests: vec![],
        estimates: vec![],
        events: vec![],
    };
    // Start sampling after a completed cycle's counters have settled.
    let mut cycles = source.stats().cycles;
    wait_for("a cycle", Duration::from_secs(60), || {
        source.stats().cycles > cycles
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    cycles = source.stats().cycles;
    let mut before = client::broker_requests(&cluster, "admin");
    let mut estimate = source.stats().requests;
    let mut seen = events.load(Ordering::Relaxed);
    while describe.times.len() < 3 || offsets_only.times.len() < 3 {
        wait_for("a cycle", Duration::from_secs(60), || {
            source.stats().cycles > cycles
        })
        .await;
        tokio::time::sleep(SETTLE).await;
        let stats = source.stats();
        assert_eq!(stats.cycles, cycles + 1, "cycles closer than {SETTLE:?}");
        cycles = stats.cycles;
        let after = client::broker_requests(&cluster, "admin");
        let requests = delta(&after, &before);
        let row = if requests.contains_key("ListGroups") {
            &mut describe
        } else {
            &mut offsets_only
        };
        let now = events.load(Ordering::Relaxed);
        if row.times.len() < READS {
            row.times.push(stats.last_cycle);
            row.requests.push(requests);
            row.estimates.push(stats.requests - estimate);
            row.events.push(usize::try_from(now - seen).unwrap());
        }
        eprintln!("  auto cycle: {} ms", ms(stats.last_cycle));
        (before, estimate, seen) = (after, stats.requests, now);
    }
    running.stop().await;
    assert_eq!(source.stats().errors, 0, "{:?}", source.stats());
    rows.push(describe);
    rows.push(offsets_only);
}

/// `offsets-topic` from the earliest record, as Burrow starts: time until every group's
/// commits arrived.
async fn stream_bootstrap(bootstrap: &str, prefix: &str, groups: usize) -> Row {
    let cluster = format!("stream-{prefix}");
    let mut cfg = config(bootstrap, &cluster, prefix, KafkaMode::OffsetsTopic);
    cfg.offsets_topic_start = OffsetsTopicStart::Earliest;
    let source = Arc::new(KafkaSource::from_config("bench", &cfg).unwrap());
    let started = Instant::now();
    let running = start(&source, &cluster);
    wait_for("commits of every group", Duration::from_secs(300), || {
        running.groups.lock().unwrap().len() >= groups
    })
    .await;
    let took = started.elapsed();
    tokio::time::sleep(SETTLE).await;
    let stats = source.stats();
    let mut requests = client::broker_requests(&cluster, "admin");
    for (name, n) in client::broker_requests(&cluster, "offsets-topic") {
        *requests.entry(format!("{name} (stream)")).or_default() += n;
    }
    let events = running.events.load(Ordering::Relaxed);
    running.stop().await;
    assert_eq!(stats.errors, 0, "{stats:?}");
    eprintln!(
        "  offsets-topic bootstrap: {} ms, {} records decoded",
        ms(took),
        stats.records
    );
    Row {
        groups,
        mode: format!(
            "offsets-topic from earliest: start until commits of all groups ({} records read)",
            stats.records + stats.skipped_records
        ),
        times: vec![took],
        requests: vec![requests],
        estimates: vec![stats.requests],
        events: vec![usize::try_from(events).unwrap()],
    }
}

async fn measure(bootstrap: &str, groups: usize, rows: &mut Vec<Row>) {
    let prefix = format!("kcb{}-{groups}", std::process::id());
    eprintln!("{groups} groups: loadgen, prefix {prefix}");
    let setup = Instant::now();
    let (g, t, p) = (
        groups.to_string(),
        TOPICS.to_string(),
        PARTITIONS.to_string(),
    );
    loadgen(&[
        "--bootstrap",
        bootstrap,
        "--topics",
        &t,
        "--partitions",
        &p,
        "--groups",
        &g,
        "--topics-per-group",
        "1",
        "--messages",
        "20",
        "--verify",
        "5",
        "--prefix",
        &prefix,
    ]);
    eprintln!("  workload ready in {:.1} s", setup.elapsed().as_secs_f64());
    admin(bootstrap, &prefix, groups, true, rows).await;
    admin(bootstrap, &prefix, groups, false, rows).await;
    let slowest = rows.last().unwrap().times.iter().max().copied().unwrap();
    streaming_cycles(bootstrap, &prefix, groups, slowest, rows).await;
    rows.push(stream_bootstrap(bootstrap, &prefix, groups).await);
    loadgen(&["--bootstrap", bootstrap, "--cleanup", &prefix]);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let write = args.iter().any(|a| a == "--write");
    let bootstrap = std::env::var("LAGWATCH_TEST_KAFKA")
        .expect("LAGWATCH_TEST_KAFKA: bootstrap address (eval \"$(scripts/services env)\")");
    let sizes: &[usize] = if quick {
        &[100, 1_000]
    } else {
        &[100, 1_000, 10_000]
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let load = || {
        std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next().map(str::to_owned))
            .unwrap_or_else(|| "?".into())
    };
    let load_before = load();
    let started = Instant::now();
    let mut rows = Vec::new();
    rt.block_on(async {
        for &groups in sizes {
            measure(&bootstrap, groups, &mut rows).await;
        }
    });
    let table = table(&rows);
    print!("{table}");
    let took = started.elapsed().as_secs_f64();
    let load_after = load();
    eprintln!("total {took:.0} s, load average {load_before} before, {load_after} after");
    if write {
        let body = format!(
            "## Kafka source cycle (`lagwatch-source-kafka`)\n\n\
             `bench/kafka_cycle` (or `-- --quick` for 100 and 1,000 groups): for each size, `loadgen` \
             creates {TOPICS} topics × {PARTITIONS} partitions (20 messages each) and commits offsets \
             for G groups reading one topic each, so {PARTITIONS} partitions per group; the sources see \
             only that workload (allowlists). *admin*: one `Snapshots::next` (metadata on the first read, \
             ListOffsets latest and earliest, ListConsumerGroups, classic groups described by librdkafka's group list \
             (one DescribeGroups per broker), KIP-848 groups by DescribeConsumerGroups, \
             committed offsets either through lagwatch's batched OffsetFetch (`batched_offsets`, the \
             default: FindCoordinator for all groups, then OffsetFetch with up to 500 groups per request) \
             or through librdkafka's ListConsumerGroupOffsets per group, 16 in flight), a warm-up read then \
             {READS} timed reads. \
             *auto/offsets-topic*: the real run loop once it streams commits, with `offset_refresh` 2 s \
             (longer where a read takes longer, see the row) and `group_refresh` 1.5 × that, so its periodic reads alternate between broker offsets only and broker \
             offsets + list and describe groups (no committed-offset fetch). *offsets-topic from \
             earliest*: time from start until Commit events of all G groups arrived, as Burrow starts \
             (the shared `__consumer_offsets` also holds earlier runs' and tests' commits: records read \
             in the row). Requests are exact, from librdkafka's per-broker request counters \
             (`statistics.interval.ms` 100 ms, `client::broker_requests`), counted on the admin \
             connection (stream consumer's marked \"(stream)\"), except `OffsetFetch*`: librdkafka \
             leaves OffsetFetch out of the admin connection's statistics (it is a producer-type client), \
             so it is derived as one per ListConsumerGroupOffsets call, i.e. per group, and the batched \
             path's requests (its own connections), counted exactly by the source; the source's own estimate \
             (`KafkaSourceStats::requests`) is shown beside them. Machine: 2 cores, loopback \
             single-node Kafka 4.4 broker from `scripts/services`, shared with other work (1-minute load \
             average {load_before} before the run, {load_after} after; the whole run took {took:.0} s).\n\n\
             Classic groups (all of these) are described through librdkafka's group list: one \
             ListGroups and one DescribeGroups per broker for all of them. librdkafka 2.12's \
             DescribeConsumerGroups, used before for every group and still for KIP-848 groups, sends \
             about four requests per group (FindCoordinator and ConsumerGroupDescribe, then \
             FindCoordinator and DescribeGroups for a classic group); with it one description of \
             10,000 groups took 39,460 requests and 3.6 s here. ListConsumerGroupOffsets takes one \
             group per call: 2 requests (FindCoordinator, OffsetFetch) per group in *admin* mode.\n\n{table}\n"
        );
        lagwatch_test_support::bench::write_section("kafka-cycle", &body);
    }
}
