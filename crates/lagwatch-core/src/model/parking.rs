//! Commits that arrive before their partition has any broker offset (one source can be
//! ahead of another): Burrow drops them; the model keeps the newest per partition, at most
//! [`MAX_PARKED_COMMITS`] in all, and stores them once the topic's broker offsets arrive.

use super::{Applied, CommitRef, IgnoreReason, LagModel};
use crate::TimestampMs;

/// Most commits [`LagModel`](super::LagModel) keeps waiting for their partition's first broker offset.
pub const MAX_PARKED_COMMITS: usize = 100_000;

/// A commit waiting for its partition's first broker offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ParkedCommit {
    offset: i64,
    timestamp_ms: TimestampMs,
    order: Option<i64>,
}

impl LagModel {
    /// Keeps a commit dropped only because its partition has no broker offset yet.
    pub(super) fn park_if_early(&mut self, result: &Applied, c: CommitRef<'_>) {
        let early = matches!(
            result,
            Applied::Ignored(
                IgnoreReason::UnknownCluster { .. }
                    | IgnoreReason::UnknownTopic { .. }
                    | IgnoreReason::PartitionOutOfRange { .. }
                    | IgnoreReason::NoBrokerSample { .. }
            )
        );
        if !early || c.partition < 0 {
            return;
        }
        let waiting = self
            .parked
            .entry((c.cluster.to_owned(), c.topic.to_owned()))
            .or_default();
        let key = (c.group.to_owned(), c.partition);
        let newer = waiting.get(&key).is_none_or(|p| match (p.order, c.order) {
            (Some(old), Some(new)) => new > old,
            _ => true,
        });
        if !newer {
            return;
        }
        if !waiting.contains_key(&key) {
            if self.parked_count >= MAX_PARKED_COMMITS {
                return;
            }
            self.parked_count += 1;
        }
        waiting.insert(
            key,
            ParkedCommit {
                offset: c.offset,
                timestamp_ms: c.timestamp_ms,
                order: c.order,
            },
        );
    }

    /// Stores the commits parked for `topic` now that it has broker offsets; those whose
    /// partition still has none stay parked.
    pub(super) fn replay_parked(&mut self, cluster: &str, topic: &str, now_ms: TimestampMs) {
        let Some(waiting) = self.parked.remove(&(cluster.to_owned(), topic.to_owned())) else {
            return;
        };
        self.parked_count = self.parked_count.saturating_sub(waiting.len());
        for ((group, partition), p) in waiting {
            let commit = CommitRef {
                cluster,
                group: &group,
                topic,
                partition,
                offset: p.offset,
                timestamp_ms: p.timestamp_ms,
                order: p.order,
            };
            let result = self.apply_commit(commit, now_ms);
            self.park_if_early(&result, commit);
        }
    }
}
