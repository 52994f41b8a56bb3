//! Steady workloads for long end-to-end runs: a producer writing at a fixed rate into every
//! partition of a topic, and an assign-only group committing at a chosen lag on a fixed
//! schedule.
//!
//! The group of a [`LagCommitter`] has no members and no consumer protocol: a client with its
//! `group.id` commits `log end - lag` on every partition (what an assign-only consumer or a
//! tool that moves offsets does). So the group's commits are exactly the ones the test asks
//! for, at the times it asks for them, and the lag each commit leaves is known.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use std::time::Duration;
//! use lagwatch_test_support::services::steady::{CommitPlan, LagCommitter, SteadyProducer};
//! use lagwatch_test_support::services::{env, kafka, names};
//!
//! let broker = env::kafka().bootstrap;
//! let topic = names::topic("steady");
//! kafka::create_topic(broker.as_str(), &topic, 3).await?;
//! let producer = SteadyProducer::start(broker.as_str(), &topic, 3, 10)?;
//! let plan = CommitPlan::every(Duration::from_secs(5)).lags(&[120, 80]);
//! let committer = LagCommitter::start(broker.as_str(), &names::group("steady"), &topic, 3, plan)?;
//! committer.wait_for_commits(3, Duration::from_secs(60)).await?;
//! committer.stop().await?;
//! producer.stop().await?;
//! # Ok(()) }
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail, ensure};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};
use rdkafka::{Offset, TopicPartitionList};

use super::kafka::{KafkaTarget, OP_TIMEOUT};
use super::wait;

/// How often the background threads look at their stop flag.
const TICK: Duration = Duration::from_millis(50);

/// Sleeps until `until` in small steps; returns `false` as soon as `stop` is set.
fn sleep_until(until: Instant, stop: &AtomicBool) -> bool {
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        std::thread::sleep((until - now).min(TICK));
    }
}

/// Joins a worker thread without blocking the async runtime.
async fn join<T: Send + 'static>(
    what: &str,
    thread: Option<JoinHandle<anyhow::Result<T>>>,
) -> anyhow::Result<T> {
    let thread = thread.ok_or_else(|| anyhow!("{what} was already stopped"))?;
    tokio::task::spawn_blocking(move || thread.join())
        .await
        .map_err(|e| anyhow!("{what}: cannot join the thread: {e}"))?
        .map_err(|_| anyhow!("{what}: the thread panicked"))?
}

/// Writes `per_second` small messages per second into each of `partitions` partitions of a
/// topic from one long-lived producer in a background thread, until [`stop`](Self::stop).
///
/// Messages go out in ten rounds a second, spread evenly, so the log end offsets grow
/// smoothly. A failed send (the broker away) is counted and the round skipped.
pub struct SteadyProducer {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    thread: Option<JoinHandle<anyhow::Result<u64>>>,
}

impl std::fmt::Debug for SteadyProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SteadyProducer")
            .field("sent", &self.sent())
            .field("failed", &self.failed())
            .finish_non_exhaustive()
    }
}

impl SteadyProducer {
    /// Starts producing to partitions `0..partitions` of `topic`.
    pub fn start(
        target: &(impl KafkaTarget + ?Sized),
        topic: &str,
        partitions: i32,
        per_second: u32,
    ) -> anyhow::Result<SteadyProducer> {
        ensure!(
            partitions > 0,
            "a steady producer needs at least one partition"
        );
        ensure!(per_second > 0, "a steady producer needs a rate above 0");
        let producer: BaseProducer = target
            .client_config()
            .set("acks", "1")
            .set("linger.ms", "5")
            .set("message.timeout.ms", "30000")
            .create()
            .with_context(|| format!("cannot create a producer for {}", target.bootstrap()))?;
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let (flag, sent_count, failed_count, topic) = (
            Arc::clone(&stop),
            Arc::clone(&sent),
            Arc::clone(&failed),
            topic.to_owned(),
        );
        let thread = std::thread::Builder::new()
            .name(format!("steady-producer-{topic}"))
            .spawn(move || {
                let rounds_per_second = 10u64;
                let round = Duration::from_millis(1000 / rounds_per_second);
                let started = Instant::now();
                let mut due = 0u64;
                let mut round_no = 0u64;
                loop {
                    round_no += 1;
                    // Messages owed per partition after this round, so the rate is exact
                    // also when `per_second` is not a multiple of the rounds.
                    let owed = round_no * u64::from(per_second) / rounds_per_second;
                    for _ in due..owed {
                        for partition in 0..partitions {
                            let key = format!("k{partition}");
                            let record = BaseRecord::to(&topic)
                                .partition(partition)
                                .key(key.as_bytes())
                                .payload("steady");
                            match producer.send(record) {
                                Ok(()) => sent_count.fetch_add(1, Ordering::Relaxed),
                                Err(_) => failed_count.fetch_add(1, Ordering::Relaxed),
                            };
                        }
                    }
                    due = owed;
                    producer.poll(Duration::ZERO);
                    let next =
                        started + round.saturating_mul(u32::try_from(round_no).unwrap_or(u32::MAX));
                    if !sleep_until(next, &flag) {
                        break;
                    }
                }
                producer
                    .flush(OP_TIMEOUT)
                    .context("flushing the steady producer")?;
                Ok(sent_count.load(Ordering::Relaxed))
            })
            .context("cannot start the producer thread")?;
        Ok(SteadyProducer {
            stop,
            sent,
            failed,
            thread: Some(thread),
        })
    }

    /// Messages handed to the producer so far (all partitions).
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Messages the producer refused so far.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Stops producing, flushes and returns the number of messages sent.
    pub async fn stop(mut self) -> anyhow::Result<u64> {
        self.stop.store(true, Ordering::Relaxed);
        join("the steady producer", self.thread.take()).await
    }
}

impl Drop for SteadyProducer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// When a [`LagCommitter`] commits and at which lag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitPlan {
    /// Time between two commits.
    pub interval: Duration,
    /// Time between the first and the second commit (the later ones are `interval` apart).
    pub first_gap: Duration,
    /// The lag (messages behind the log end) each commit leaves on every partition, used in
    /// turn: `[120, 80]` commits at lag 120, then 80, then 120 again, ...
    pub lags: Vec<i64>,
}

impl CommitPlan {
    /// Commits every `interval` (the second commit too) at lag 0.
    pub fn every(interval: Duration) -> CommitPlan {
        CommitPlan {
            interval,
            first_gap: interval,
            lags: vec![0],
        }
    }

    /// Sets the lags used in turn (at least one).
    pub fn lags(mut self, lags: &[i64]) -> CommitPlan {
        self.lags = lags.to_vec();
        self
    }

    /// Sets the time between the first and the second commit.
    pub fn first_gap(mut self, gap: Duration) -> CommitPlan {
        self.first_gap = gap;
        self
    }
}

/// One commit a [`LagCommitter`] made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitRecord {
    /// When it was made (after the broker confirmed it).
    pub at: Instant,
    /// The committed offset per partition, partition 0 first.
    pub offsets: Vec<i64>,
    /// The log end offset per partition it was computed from.
    pub log_ends: Vec<i64>,
}

#[derive(Default)]
struct CommitterShared {
    stop: AtomicBool,
    paused: AtomicBool,
    commits: Mutex<Vec<CommitRecord>>,
    last_error: Mutex<Option<String>>,
}

/// An assign-only consumer group committing `log end - lag` on every partition of one topic
/// on the schedule of a [`CommitPlan`], from a background thread, until
/// [`stop`](Self::stop).
///
/// [`pause`](Self::pause) stops committing (the group looks stopped: its offsets stay while
/// the log grows); [`resume`](Self::resume) commits again at once and then on the plan's
/// interval. Committed offsets never go backwards: a computed offset below the previous one
/// is raised to it. A failed commit is remembered ([`last_error`](Self::last_error)) and
/// tried again at the next due time.
pub struct LagCommitter {
    group: String,
    shared: Arc<CommitterShared>,
    thread: Option<JoinHandle<anyhow::Result<()>>>,
}

impl std::fmt::Debug for LagCommitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LagCommitter")
            .field("group", &self.group)
            .field("commits", &self.commits())
            .finish_non_exhaustive()
    }
}

/// Log end offsets of partitions `0..partitions`.
fn log_ends(client: &BaseConsumer, topic: &str, partitions: i32) -> anyhow::Result<Vec<i64>> {
    (0..partitions)
        .map(|p| {
            client
                .fetch_watermarks(topic, p, OP_TIMEOUT)
                .map(|(_, high)| high)
                .with_context(|| format!("log end offset of {topic}/{p}"))
        })
        .collect()
}

impl LagCommitter {
    /// Starts committing for `group` on partitions `0..partitions` of `topic`; the first
    /// commit is made at once.
    pub fn start(
        target: &(impl KafkaTarget + ?Sized),
        group: &str,
        topic: &str,
        partitions: i32,
        plan: CommitPlan,
    ) -> anyhow::Result<LagCommitter> {
        ensure!(partitions > 0, "a committer needs at least one partition");
        ensure!(
            !plan.lags.is_empty(),
            "a commit plan needs at least one lag"
        );
        ensure!(
            !plan.interval.is_zero(),
            "a commit plan needs an interval above 0"
        );
        let client: BaseConsumer = target
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
            })?;
        let shared = Arc::new(CommitterShared::default());
        let (state, topic_name) = (Arc::clone(&shared), topic.to_owned());
        let thread = std::thread::Builder::new()
            .name(format!("lag-committer-{group}"))
            .spawn(move || {
                let mut next = Instant::now();
                let mut made = 0usize;
                let mut previous: Vec<i64> = vec![0; usize::try_from(partitions).unwrap_or(0)];
                while sleep_until(next, &state.stop) {
                    if state.paused.load(Ordering::Relaxed) {
                        // Paused: look again shortly; once resumed, commit at once.
                        next = Instant::now() + TICK;
                        continue;
                    }
                    let lag = plan.lags[made % plan.lags.len()];
                    let attempt = log_ends(&client, &topic_name, partitions).and_then(|ends| {
                        let offsets: Vec<i64> = ends
                            .iter()
                            .zip(&previous)
                            .map(|(end, prev)| (end - lag).max(0).max(*prev))
                            .collect();
                        let mut list = TopicPartitionList::new();
                        for (p, offset) in (0..partitions).zip(&offsets) {
                            list.add_partition_offset(&topic_name, p, Offset::Offset(*offset))
                                .context("building the offset list")?;
                        }
                        client
                            .commit(&list, CommitMode::Sync)
                            .context("committing")?;
                        Ok((offsets, ends))
                    });
                    match attempt {
                        Ok((offsets, ends)) => {
                            previous.clone_from(&offsets);
                            if let Ok(mut commits) = state.commits.lock() {
                                commits.push(CommitRecord {
                                    at: Instant::now(),
                                    offsets,
                                    log_ends: ends,
                                });
                            }
                            made += 1;
                            next += if made == 1 {
                                plan.first_gap
                            } else {
                                plan.interval
                            };
                            // After a pause the schedule starts again from now.
                            next = next.max(Instant::now());
                        }
                        Err(err) => {
                            if let Ok(mut last) = state.last_error.lock() {
                                *last = Some(format!("{err:#}"));
                            }
                            next = Instant::now() + Duration::from_millis(500);
                        }
                    }
                }
                Ok(())
            })
            .context("cannot start the committer thread")?;
        Ok(LagCommitter {
            group: group.to_owned(),
            shared,
            thread: Some(thread),
        })
    }

    /// The group id.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// Commits made so far.
    pub fn commits(&self) -> usize {
        self.shared.commits.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// Every commit made so far, oldest first.
    pub fn history(&self) -> Vec<CommitRecord> {
        self.shared
            .commits
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// The last commit error, if any.
    pub fn last_error(&self) -> Option<String> {
        self.shared.last_error.lock().ok().and_then(|e| e.clone())
    }

    /// Stops committing until [`resume`](Self::resume).
    pub fn pause(&self) {
        self.shared.paused.store(true, Ordering::Relaxed);
    }

    /// Commits again: at once, then every `interval`.
    pub fn resume(&self) {
        self.shared.paused.store(false, Ordering::Relaxed);
    }

    /// Waits until at least `n` commits were made.
    pub async fn wait_for_commits(&self, n: usize, timeout: Duration) -> anyhow::Result<()> {
        let shared = Arc::clone(&self.shared);
        wait::until(
            &format!("{n} commit(s) of group {}", self.group),
            timeout,
            Duration::from_millis(100),
            || {
                let made = shared.commits.lock().map(|c| c.len()).unwrap_or(0);
                let error = shared.last_error.lock().ok().and_then(|e| e.clone());
                async move {
                    if made >= n {
                        Ok(Some(()))
                    } else {
                        bail!(
                            "{made} commit(s) so far; last error: {}",
                            error.as_deref().unwrap_or("none")
                        )
                    }
                }
            },
        )
        .await
    }

    /// Stops the thread.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shared.stop.store(true, Ordering::Relaxed);
        join("the lag committer", self.thread.take()).await
    }
}

impl Drop for LagCommitter {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}
