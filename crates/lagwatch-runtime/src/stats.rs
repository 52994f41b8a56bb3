use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of one sink or alerter, updated while the pipeline runs.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) accepted: AtomicU64,
    pub(crate) records: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) dropped: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self, name: &str) -> ComponentStats {
        ComponentStats {
            name: name.to_owned(),
            accepted: self.accepted.load(Ordering::Relaxed),
            records: self.records.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

/// What one sink or alerter did during a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentStats {
    /// The component's name.
    pub name: String,
    /// Snapshots (sinks) or notifications (alerters) accepted.
    pub accepted: u64,
    /// Records acknowledged (sinks) or delivery attempts (alerters).
    pub records: u64,
    /// Writes or deliveries that failed.
    pub failed: u64,
    /// Items dropped because the component could not keep up.
    pub dropped: u64,
}

/// What a pipeline run did, returned when it stops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Evaluation cycles completed.
    pub cycles: u64,
    /// Events received from sources.
    pub events: u64,
    /// Events the model did not store (filtered, too old, unknown topic, …).
    pub events_ignored: u64,
    /// Alert notifications produced by the rule engine.
    pub notifications: u64,
    /// State saves (windows, open alerts, outbox) that failed; each was logged.
    pub state_save_failures: u64,
    /// Per-sink counters.
    pub sinks: Vec<ComponentStats>,
    /// Per-alerter counters.
    pub alerters: Vec<ComponentStats>,
}
