//! The result of one evaluation cycle, handed to sinks and alert rules.

use crate::TimestampMs;
use crate::report::GroupReport;
use std::sync::Arc;

/// Broker end offsets of one topic at evaluation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicOffsets {
    /// Cluster name.
    pub cluster: String,
    /// Topic name.
    pub topic: String,
    /// Newest high-water mark per partition, indexed by partition number; `None` for a
    /// partition that has no sample yet.
    pub high_water: Vec<Option<i64>>,
    /// Newest known log-start offset per partition, indexed like `high_water`; `None` where
    /// no source reported one.
    pub log_start: Vec<Option<i64>>,
}

/// Everything one evaluation cycle produced. Cheap to clone (shared behind an [`Arc`]).
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    inner: Arc<SnapshotData>,
}

/// The data of a [`Snapshot`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotData {
    /// Evaluation time (ms since the epoch).
    pub at_ms: TimestampMs,
    /// Monotonic cycle number, starting at 1.
    pub cycle: u64,
    /// Every group, sorted by cluster then group name.
    pub groups: Vec<GroupReport>,
    /// Every topic with broker offsets, sorted by cluster then topic name.
    pub topics: Vec<TopicOffsets>,
}

impl Snapshot {
    /// Wraps evaluated data.
    pub fn new(data: SnapshotData) -> Snapshot {
        Snapshot {
            inner: Arc::new(data),
        }
    }

    /// Evaluation time (ms).
    pub fn at_ms(&self) -> TimestampMs {
        self.inner.at_ms
    }

    /// Cycle number.
    pub fn cycle(&self) -> u64 {
        self.inner.cycle
    }

    /// Evaluated groups.
    pub fn groups(&self) -> &[GroupReport] {
        &self.inner.groups
    }

    /// Topics with broker offsets.
    pub fn topics(&self) -> &[TopicOffsets] {
        &self.inner.topics
    }

    /// The underlying data.
    pub fn data(&self) -> &SnapshotData {
        &self.inner
    }
}
