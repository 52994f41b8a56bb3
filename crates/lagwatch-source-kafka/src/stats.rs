//! Counters of one Kafka source, readable while it runs.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The counters; see [`KafkaSourceStats`] for their meaning.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    attempts: AtomicU64,
    cycles: AtomicU64,
    requests: AtomicU64,
    batched_requests: AtomicU64,
    last_cycle_us: AtomicU64,
    errors: AtomicU64,
    groups: AtomicU64,
    unreadable_groups: AtomicU64,
    records: AtomicU64,
    skipped_records: AtomicU64,
    oversized_records: AtomicU64,
    mode: Mutex<&'static str>,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Stats {
    pub(crate) fn attempt(&self) {
        add(&self.attempts, 1);
    }

    pub(crate) fn cycle_done(&self, took: Duration) {
        add(&self.cycles, 1);
        self.last_cycle_us.store(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn requests(&self, n: usize) {
        add(&self.requests, u64::try_from(n).unwrap_or(u64::MAX));
    }

    /// Requests of the batched committed-offset path (counted in `requests` too).
    pub(crate) fn batched_requests(&self, n: u64) {
        add(&self.requests, n);
        add(&self.batched_requests, n);
    }

    pub(crate) fn error(&self) {
        add(&self.errors, 1);
    }

    pub(crate) fn groups(&self, listed: usize, unreadable: usize) {
        self.groups
            .store(u64::try_from(listed).unwrap_or(u64::MAX), Ordering::Relaxed);
        self.unreadable_groups.store(
            u64::try_from(unreadable).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn record(&self, decoded: bool) {
        add(
            if decoded {
                &self.records
            } else {
                &self.skipped_records
            },
            1,
        );
    }

    /// A record refused for going over a decoder cap (also counted as skipped).
    pub(crate) fn oversized(&self) {
        add(&self.oversized_records, 1);
    }

    pub(crate) fn set_mode(&self, mode: &'static str) {
        if let Ok(mut m) = self.mode.lock() {
            *m = mode;
        }
    }

    pub(crate) fn snapshot(&self) -> KafkaSourceStats {
        KafkaSourceStats {
            mode: self.mode.lock().map(|m| *m).unwrap_or(""),
            attempts: self.attempts.load(Ordering::Relaxed),
            cycles: self.cycles.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            batched_requests: self.batched_requests.load(Ordering::Relaxed),
            last_cycle: Duration::from_micros(self.last_cycle_us.load(Ordering::Relaxed)),
            errors: self.errors.load(Ordering::Relaxed),
            groups: self.groups.load(Ordering::Relaxed),
            unreadable_groups: self.unreadable_groups.load(Ordering::Relaxed),
            records: self.records.load(Ordering::Relaxed),
            skipped_records: self.skipped_records.load(Ordering::Relaxed),
            oversized_records: self.oversized_records.load(Ordering::Relaxed),
        }
    }
}

/// What a Kafka source has done so far.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KafkaSourceStats {
    /// The mode in use: `admin` or `offsets-topic` (`auto` resolves to one of them; empty
    /// before the first read).
    pub mode: &'static str,
    /// Admin API reads of the cluster started (successful or not).
    pub attempts: u64,
    /// Completed Admin API reads of the cluster.
    pub cycles: u64,
    /// Requests sent to brokers by those reads, estimated from the calls made: ListOffsets
    /// once per leader broker, ListGroups and DescribeGroups once per broker, and a
    /// FindCoordinator with every per-group request (ConsumerGroupDescribe, and OffsetFetch
    /// on librdkafka's path); the batched OffsetFetch path ([`crate::wire`]) counts its
    /// requests exactly. `benches/kafka_cycle.rs` compares it with librdkafka's own counts.
    pub requests: u64,
    /// Of `requests`, those of the batched committed-offset path (ApiVersions,
    /// FindCoordinator and OffsetFetch on lagwatch's own connections; exact).
    pub batched_requests: u64,
    /// Duration of the newest completed read.
    pub last_cycle: Duration,
    /// Failed reads and failed per-group requests.
    pub errors: u64,
    /// Groups the newest read listed (after the allow/deny lists).
    pub groups: u64,
    /// Listed groups of a kind librdkafka could not tell (not described, offsets not read).
    pub unreadable_groups: u64,
    /// `__consumer_offsets` records decoded.
    pub records: u64,
    /// `__consumer_offsets` records that could not be decoded and were skipped.
    pub skipped_records: u64,
    /// Of the skipped records, those refused because they would decode into more than the
    /// decoder's caps allow (members, assigned partitions, bytes; see `docs/offsets-topic.md`).
    pub oversized_records: u64,
}
