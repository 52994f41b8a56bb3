//! What a running pipeline knows about itself: how each cluster's reads go, how full the
//! queues are, what each sink and alerter has done. The runtime gathers these figures; the
//! HTTP API, `/metrics` and OTLP export show them.

use lagwatch_core::TimestampMs;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

/// How one source's reads of one cluster have gone since the start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterReads {
    /// Reads that completed, successful or not.
    pub reads: u64,
    /// Reads that failed.
    pub failures: u64,
    /// Duration of the newest read.
    pub last_duration: Option<Duration>,
    /// When the newest successful read completed (ms since the epoch).
    pub last_success_ms: Option<TimestampMs>,
    /// Why the newest read failed, while the cluster is failing; `None` once a read succeeds.
    pub last_error: Option<String>,
}

/// One row of [`ReadLog::rows`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRow {
    /// The source (e.g. `kafka[live]`).
    pub source: String,
    /// The cluster it read.
    pub cluster: String,
    /// The figures.
    pub reads: ClusterReads,
}

/// A shared record of read outcomes, per source and cluster. Sources report through
/// [`SourceContext::record_read`](crate::SourceContext::record_read); cloning shares the
/// record.
#[derive(Debug, Clone, Default)]
pub struct ReadLog {
    inner: Arc<Mutex<BTreeMap<(String, String), ClusterReads>>>,
}

impl ReadLog {
    /// An empty record.
    pub fn new() -> ReadLog {
        ReadLog::default()
    }

    /// Records one completed read of `cluster` by `source` that took `took`, finished at
    /// `now_ms`, and either succeeded (`Ok`) or failed for the given reason.
    pub fn record(
        &self,
        source: &str,
        cluster: &str,
        took: Duration,
        now_ms: TimestampMs,
        outcome: Result<(), &str>,
    ) {
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = map
            .entry((source.to_owned(), cluster.to_owned()))
            .or_default();
        entry.reads += 1;
        entry.last_duration = Some(took);
        match outcome {
            Ok(()) => {
                entry.last_success_ms = Some(now_ms);
                entry.last_error = None;
            }
            Err(reason) => {
                entry.failures += 1;
                entry.last_error = Some(reason.to_owned());
            }
        }
    }

    /// Every (source, cluster) seen so far, sorted by source then cluster.
    pub fn rows(&self) -> Vec<ReadRow> {
        let map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.iter()
            .map(|((source, cluster), reads)| ReadRow {
                source: source.clone(),
                cluster: cluster.clone(),
                reads: reads.clone(),
            })
            .collect()
    }

    /// `true` once `source` has completed at least one successful read of any cluster.
    pub fn has_read(&self, source: &str) -> bool {
        let map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.iter()
            .any(|((s, _), r)| s == source && r.last_success_ms.is_some())
    }
}

/// What a sink or alerter has done, and how full its queue is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputStats {
    /// The component's name.
    pub name: String,
    /// Snapshots (sinks) or notifications (alerters) accepted by the receiver.
    pub accepted: u64,
    /// Records written (sinks) or notifications delivered (alerters).
    pub records: u64,
    /// Failed attempts.
    pub failed: u64,
    /// Items dropped because the queue was full (sinks: oldest snapshots; alerters: coalesced
    /// reminders).
    pub dropped: u64,
    /// Items waiting in its queue now.
    pub queue_depth: u64,
    /// Size of its queue.
    pub queue_capacity: u64,
}

/// A source and whether it has produced its first successful read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceState {
    /// The source's name.
    pub name: String,
    /// `true` once it has completed a successful read.
    pub has_read: bool,
}

/// The share of a cluster this instance has when it shares the cluster with other instances
/// (a Kafka source's `coordination_group`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnershipRow {
    /// Cluster name.
    pub cluster: String,
    /// The offsets-topic partitions (and so the groups and topics) this instance owns.
    pub offsets_partitions: Vec<u32>,
    /// The offsets topic's partition count.
    pub partition_count: u32,
}

/// A point-in-time view of a running pipeline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeStats {
    /// When the pipeline started (ms since the epoch).
    pub started_ms: TimestampMs,
    /// Evaluations done.
    pub cycles: u64,
    /// Duration of the newest evaluation.
    pub last_evaluation: Option<Duration>,
    /// Events applied to the model.
    pub events: u64,
    /// Event batches waiting for the model now.
    pub event_queue_depth: u64,
    /// Size of the event queue (batches).
    pub event_queue_capacity: u64,
    /// Every source.
    pub sources: Vec<SourceState>,
    /// Read outcomes per source and cluster.
    pub reads: Vec<ReadRow>,
    /// Every sink.
    pub sinks: Vec<OutputStats>,
    /// Every alerter.
    pub alerters: Vec<OutputStats>,
    /// Saves of the state directory that failed.
    pub state_save_failures: u64,
    /// This instance's share of every cluster it shares with other instances.
    pub ownership: Vec<OwnershipRow>,
}

impl RuntimeStats {
    /// `true` once every source has completed a first successful read and an evaluation has
    /// run since: what `/readyz` reports.
    pub fn ready(&self) -> bool {
        self.cycles > 0 && self.sources.iter().all(|s| s.has_read)
    }
}

/// Something that can report a [`RuntimeStats`] now (the runtime's pipeline handle).
pub trait StatsProvider: Send + Sync {
    /// The current figures.
    fn runtime_stats(&self) -> RuntimeStats;
}

/// A [`StatsProvider`] that can be filled in later: a component built before its pipeline
/// (an OTLP sink assembled from a configuration) holds the slot, and the pipeline fills it
/// when it is built. Empty figures until then.
#[derive(Clone, Default)]
pub struct StatsSlot(Arc<OnceLock<Arc<dyn StatsProvider>>>);

impl std::fmt::Debug for StatsSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsSlot")
            .field("filled", &self.0.get().is_some())
            .finish()
    }
}

impl StatsSlot {
    /// An empty slot.
    pub fn new() -> StatsSlot {
        StatsSlot::default()
    }

    /// Fills the slot; only the first call counts.
    pub fn fill(&self, provider: Arc<dyn StatsProvider>) {
        let _ = self.0.set(provider);
    }
}

impl StatsProvider for StatsSlot {
    fn runtime_stats(&self) -> RuntimeStats {
        self.0.get().map(|p| p.runtime_stats()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_log_counts_failures_and_keeps_the_newest_success() {
        let log = ReadLog::new();
        log.record("k", "live", Duration::from_millis(5), 1_000, Ok(()));
        log.record(
            "k",
            "live",
            Duration::from_millis(7),
            2_000,
            Err("timed out"),
        );
        let rows = log.rows();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].reads,
            ClusterReads {
                reads: 2,
                failures: 1,
                last_duration: Some(Duration::from_millis(7)),
                last_success_ms: Some(1_000),
                last_error: Some("timed out".to_owned()),
            }
        );
        assert!(log.has_read("k"));
        assert!(!log.has_read("other"));
        log.record("k", "live", Duration::from_millis(3), 3_000, Ok(()));
        assert_eq!(log.rows()[0].reads.last_error, None);
    }

    #[test]
    fn a_slot_reports_nothing_until_filled_then_its_provider() {
        struct Fixed;
        impl StatsProvider for Fixed {
            fn runtime_stats(&self) -> RuntimeStats {
                RuntimeStats {
                    cycles: 7,
                    ..RuntimeStats::default()
                }
            }
        }
        let slot = StatsSlot::new();
        assert_eq!(slot.clone().runtime_stats().cycles, 0);
        slot.fill(Arc::new(Fixed));
        assert_eq!(slot.runtime_stats().cycles, 7);
    }

    #[test]
    fn ready_needs_an_evaluation_and_every_source_read() {
        let mut stats = RuntimeStats {
            sources: vec![SourceState {
                name: "a".into(),
                has_read: true,
            }],
            ..RuntimeStats::default()
        };
        assert!(!stats.ready());
        stats.cycles = 1;
        assert!(stats.ready());
        stats.sources.push(SourceState {
            name: "b".into(),
            has_read: false,
        });
        assert!(!stats.ready());
    }
}
