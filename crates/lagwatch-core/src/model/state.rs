//! Saving and restoring the model's windows, so a restarted collector judges groups from
//! the history it had instead of from a single fresh commit.
//!
//! [`LagModel::save_state`] copies what evaluation needs — broker offset rings, commit rings,
//! owners, last statuses, group timestamps — into a [`ModelState`], a plain serde value the
//! caller writes wherever it likes (the runtime writes a file). [`LagModel::restore`] puts it
//! back, applying the settings in force now: entries older than `expire_group` are dropped,
//! the group and topic filters apply, rings are cut to `intervals` and `broker_history`.
//!
//! Every partition of a restored cluster is reported warming up until the first event about
//! that cluster arrives: until then the restored windows say nothing about the time the
//! collector was down. Counters, parked early commits and external verdicts are not saved
//! (sources send them again).

use super::{
    BrokerSample, ClusterState, GroupPartition, GroupState, LagModel, StoredCommit, TopicState,
    whole_seconds,
};
use crate::TimestampMs;
use crate::report::OffsetPoint;
use crate::status::PartitionStatus;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Version of the [`ModelState`] format; a state of another version is refused.
pub const STATE_VERSION: u32 = 1;

/// Why a saved state cannot be restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The state was written by a format this version does not read.
    #[error("model state has format version {found}, this version reads {expected}")]
    Version {
        /// Version in the state.
        found: u32,
        /// Version this code reads.
        expected: u32,
    },
}

/// The model's windows as plain data, made by [`LagModel::save_state`] and put back by
/// [`LagModel::restore`] (which says what is kept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelState {
    /// Format version ([`STATE_VERSION`]).
    pub version: u32,
    /// When the state was taken (ms, the model's clock).
    pub saved_at_ms: TimestampMs,
    clusters: Vec<SavedCluster>,
}

/// What [`LagModel::restore`] kept and dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestoreSummary {
    /// Clusters restored.
    pub clusters: usize,
    /// Groups restored.
    pub groups: usize,
    /// Group partitions restored.
    pub partitions: usize,
    /// Commits restored.
    pub commits: usize,
    /// Groups dropped because they expired while saved, or the group filter now refuses them.
    pub groups_dropped: usize,
    /// Clusters left alone because the model already held them.
    pub clusters_skipped: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SavedCluster {
    name: String,
    topics: Vec<SavedTopic>,
    groups: Vec<SavedGroup>,
}

/// One broker sample: (observed ms, high-water mark, log-start offset).
type SavedSample = (TimestampMs, i64, Option<i64>);

/// One commit: (offset, commit timestamp, observed at, lag at commit, order).
type SavedCommit = (i64, TimestampMs, TimestampMs, Option<u64>, i64);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SavedTopic {
    name: String,
    /// Index = partition.
    partitions: Vec<Vec<SavedSample>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SavedGroup {
    name: String,
    created_ms: TimestampMs,
    last_commit_ms: Option<TimestampMs>,
    topics: Vec<SavedGroupTopic>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SavedGroupTopic {
    name: String,
    /// Index = partition.
    partitions: Vec<SavedPartition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SavedPartition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ring: Option<Vec<SavedCommit>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    owner: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_status: Option<PartitionStatus>,
}

impl ModelState {
    /// An empty state (nothing to restore).
    pub fn empty(saved_at_ms: TimestampMs) -> ModelState {
        ModelState {
            version: STATE_VERSION,
            saved_at_ms,
            clusters: Vec::new(),
        }
    }

    /// Number of group partitions in the state.
    pub fn partitions(&self) -> usize {
        self.clusters
            .iter()
            .flat_map(|c| &c.groups)
            .flat_map(|g| &g.topics)
            .map(|t| t.partitions.len())
            .sum()
    }
}

/// The newest `keep` items of `items`.
fn newest<T>(items: Vec<T>, keep: usize) -> impl Iterator<Item = T> {
    let skip = items.len().saturating_sub(keep);
    items.into_iter().skip(skip)
}

impl LagModel {
    /// Copies the model's windows into a [`ModelState`] stamped `now_ms`.
    pub fn save_state(&self, now_ms: TimestampMs) -> ModelState {
        let clusters = self
            .clusters
            .iter()
            .map(|(name, c)| SavedCluster {
                name: name.clone(),
                topics: c
                    .topics
                    .iter()
                    .map(|(topic, t)| SavedTopic {
                        name: topic.clone(),
                        partitions: t
                            .partitions
                            .iter()
                            .map(|ring| {
                                ring.iter()
                                    .map(|s| (s.observed_ms, s.high_water, s.log_start))
                                    .collect()
                            })
                            .collect(),
                    })
                    .collect(),
                groups: c
                    .groups
                    .iter()
                    .map(|(group, g)| SavedGroup {
                        name: group.clone(),
                        created_ms: g.created_ms,
                        last_commit_ms: g.last_commit_ms,
                        topics: g
                            .topics
                            .iter()
                            .map(|(topic, partitions)| SavedGroupTopic {
                                name: topic.clone(),
                                partitions: partitions.iter().map(save_partition).collect(),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        ModelState {
            version: STATE_VERSION,
            saved_at_ms: now_ms,
            clusters,
        }
    }

    /// Restores windows saved by [`LagModel::save_state`], judged by the settings in force
    /// now: entries older than `expire_group` are dropped, the group and topic filters apply,
    /// rings are cut to `intervals` and `broker_history`, and every partition of a restored
    /// cluster is reported warming up until the first event about that cluster arrives.
    /// Clusters the model already holds are left alone: restore before the first event.
    ///
    /// # Errors
    /// [`StateError::Version`] for a state of another format version; nothing is changed.
    pub fn restore(
        &mut self,
        state: ModelState,
        now_ms: TimestampMs,
    ) -> Result<RestoreSummary, StateError> {
        if state.version != STATE_VERSION {
            return Err(StateError::Version {
                found: state.version,
                expected: STATE_VERSION,
            });
        }
        let mut summary = RestoreSummary::default();
        let intervals = self.settings.intervals;
        let history = self.settings.broker_history;
        let cutoff = whole_seconds(now_ms).saturating_sub(self.settings.expire_group_ms);
        for saved in state.clusters {
            if self.clusters.contains_key(&saved.name) {
                summary.clusters_skipped += 1;
                continue;
            }
            let mut cluster = ClusterState {
                resuming: true,
                ..ClusterState::default()
            };
            for topic in saved.topics {
                if !self.settings.topics.accepts(&topic.name) {
                    continue;
                }
                let partitions = topic
                    .partitions
                    .into_iter()
                    .map(|ring| {
                        let mut restored = VecDeque::with_capacity(history);
                        restored.extend(newest(ring, history).map(|(observed_ms, hw, ls)| {
                            BrokerSample {
                                observed_ms,
                                high_water: hw,
                                log_start: ls,
                            }
                        }));
                        restored
                    })
                    .collect();
                cluster.topics.insert(topic.name, TopicState { partitions });
            }
            for group in saved.groups {
                let base = group.last_commit_ms.unwrap_or(group.created_ms);
                if base < cutoff || !self.settings.groups.accepts(&group.name) {
                    summary.groups_dropped += 1;
                    continue;
                }
                let mut topics = BTreeMap::new();
                for topic in group.topics {
                    if !self.settings.topics.accepts(&topic.name) {
                        continue;
                    }
                    let partitions: Vec<GroupPartition> = topic
                        .partitions
                        .into_iter()
                        .map(|p| restore_partition(p, intervals))
                        .collect();
                    summary.partitions += partitions.len();
                    summary.commits += partitions
                        .iter()
                        .map(|p| p.ring.as_ref().map_or(0, VecDeque::len))
                        .sum::<usize>();
                    topics.insert(topic.name, partitions);
                }
                summary.groups += 1;
                cluster.groups.insert(
                    group.name,
                    GroupState {
                        topics,
                        last_commit_ms: group.last_commit_ms,
                        created_ms: group.created_ms,
                        commits_read_ms: None,
                    },
                );
            }
            summary.clusters += 1;
            self.resuming_clusters += 1;
            self.clusters.insert(saved.name, cluster);
        }
        Ok(summary)
    }
}

fn save_partition(p: &GroupPartition) -> SavedPartition {
    SavedPartition {
        ring: p.ring.as_ref().map(|ring| {
            ring.iter()
                .map(|c| {
                    (
                        c.point.offset,
                        c.point.timestamp,
                        c.point.observed_at,
                        c.point.lag,
                        c.order,
                    )
                })
                .collect()
        }),
        owner: p.owner.clone(),
        client_id: p.client_id.clone(),
        last_status: p.last_status,
    }
}

fn restore_partition(p: SavedPartition, intervals: usize) -> GroupPartition {
    GroupPartition {
        ring: p.ring.map(|ring| {
            let mut restored = VecDeque::with_capacity(intervals);
            restored.extend(newest(ring, intervals).map(
                |(offset, timestamp, observed_at, lag, order)| StoredCommit {
                    point: OffsetPoint {
                        offset,
                        timestamp,
                        observed_at,
                        lag,
                    },
                    order,
                },
            ));
            restored
        }),
        owner: p.owner,
        client_id: p.client_id,
        last_status: p.last_status,
    }
}
