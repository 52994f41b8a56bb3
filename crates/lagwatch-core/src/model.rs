//! The lag model: Burrow's in-memory storage, fed by [`Event`]s.
//!
//! [`LagModel`] keeps, per cluster, a history of broker end offsets for every partition of
//! every topic and, per consumer group, a ring of the last `intervals` commits for every
//! partition the group consumes. It stores commits by the same rules as Burrow's `inmemory`
//! storage module (drop conditions, ordering by the source's commit order, `min-distance`,
//! lag frozen at commit time, lazy `expire-group`), so evaluating it with
//! [`crate::evaluator`] gives Burrow's answers.
//!
//! What lagwatch adds: a topic allow/deny list, log-start offsets, time lag, the age of the
//! broker data, and protection against its own outages: while a source reports a cluster
//! unhealthy ([`Event::SourceHealth`]), reports of that cluster are marked stale and no
//! partition is newly reported STOP, STALL, REWIND or WARN (each keeps the status it had at
//! the last evaluation before the outage, or OK).
//!
//! # Memory
//!
//! Memory is bounded by the number of partitions, never by the number of events:
//!
//! * per partition of a group: a ring of at most `intervals` commits of 48 bytes each
//!   ([`OffsetPoint`] plus the commit order), allocated once, plus at most 96 bytes of
//!   bookkeeping and the owner and client-id strings — about 580 bytes plus the two strings with
//!   the default `intervals` of 10;
//! * per partition of a topic: a ring of at most `broker_history` samples of 32 bytes each
//!   (time, high-water mark, log-start offset), allocated once — about 1.9 KiB with the default
//!   of 60.
//!
//! Groups and topics themselves are created by events and removed by deletion events and
//! expiry; [`LagModel::stats`] reports how many are held.

use crate::TimestampMs;
use crate::evaluator::{self, EvaluatorSettings, PartitionWindow};
use crate::event::{BrokerOffset, Event, MemberAssignment};
use crate::filter::NameFilter;
use crate::report::{GroupReport, GroupType, OffsetPoint, PartitionDetail};
use crate::share::{ShareGroupState, SharePartitionOffset, ShareRead};
use crate::snapshot::{SnapshotData, TopicOffsets};
use crate::status::PartitionStatus;
use crate::time_lag;
use crate::trend::{self, BrokerPoint, CommitPoint};
use std::collections::{BTreeMap, VecDeque};

mod ignore;
mod parking;
mod ring;
mod state;
pub use ignore::{Applied, IgnoreKind, IgnoreReason};
pub use parking::MAX_PARKED_COMMITS;
use parking::ParkedCommit;
use ring::{NewCommit, Placement, Rejected, store_commit};
pub use state::{ModelState, RestoreSummary, STATE_VERSION, StateError};

/// How the model stores data, named after Burrow's `[storage]` keys.
#[derive(Debug, Clone)]
pub struct ModelSettings {
    /// Size of every commit ring (Burrow's `intervals`, default 10). Values below 1 count as 1.
    pub intervals: usize,
    /// Commits closer than this to the previous stored commit replace it instead of taking a
    /// new slot, keeping the previous slot's timestamp (Burrow's `min-distance`, in ms here;
    /// default 0).
    pub min_distance_ms: i64,
    /// Groups whose last commit is older than this are dropped when read, and older commits are
    /// ignored (Burrow's `expire-group`, in ms here; default 7 days).
    pub expire_group_ms: i64,
    /// Broker end-offset samples kept per partition (default 60, never below `intervals`). The
    /// evaluator uses only the newest `intervals` of them, as Burrow does; the rest feed the
    /// time-lag estimate.
    pub broker_history: usize,
    /// Which groups are stored (Burrow's group allow/deny lists).
    pub groups: NameFilter,
    /// Which topics are stored (a lagwatch addition).
    pub topics: NameFilter,
}

impl Default for ModelSettings {
    fn default() -> Self {
        ModelSettings {
            intervals: 10,
            min_distance_ms: 0,
            expire_group_ms: 604_800_000,
            broker_history: 60,
            groups: NameFilter::allow_all(),
            topics: NameFilter::allow_all(),
        }
    }
}

/// Counts describing what the model holds and what it dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelStats {
    /// Clusters known.
    pub clusters: usize,
    /// Clusters currently reported unhealthy by their source.
    pub stale_clusters: usize,
    /// Consumer groups held, each (cluster, group) counted once whether the model has its
    /// commits, an external verdict ([`Event::GroupVerdict`]) or both (including expired ones
    /// not read since they expired).
    pub groups: usize,
    /// Topics with broker offsets.
    pub topics: usize,
    /// Topic partitions with a broker-offset ring.
    pub broker_partitions: usize,
    /// Group partitions (every partition of every topic of every group).
    pub partitions: usize,
    /// Commits currently held in the rings.
    pub stored_commits: usize,
    /// Commit events stored since the model was created (including merged ones).
    pub commits_accepted: u64,
    /// Dropped events by reason.
    pub ignored: BTreeMap<IgnoreKind, u64>,
    /// Entries inside otherwise stored broker-offset or membership events that were dropped
    /// (a partition out of range, an assignment without broker data).
    pub entries_ignored: u64,
}

impl ModelStats {
    /// Total dropped events.
    pub fn ignored_total(&self) -> u64 {
        self.ignored.values().sum()
    }
}

/// One broker sample: 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BrokerSample {
    observed_ms: TimestampMs,
    high_water: i64,
    log_start: Option<i64>,
}

/// One stored commit: 48 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StoredCommit {
    point: OffsetPoint,
    order: i64,
}

#[derive(Debug, Default)]
struct TopicState {
    /// Index = partition; each ring oldest first.
    partitions: Vec<VecDeque<BrokerSample>>,
}

#[derive(Debug, Default)]
struct GroupPartition {
    /// `None`: the partition exists only because the topic has that many partitions. `Some`
    /// with fewer than `intervals` commits: the leading slots are empty.
    ring: Option<VecDeque<StoredCommit>>,
    owner: String,
    client_id: String,
    /// Status at the last evaluation while the cluster was not stale.
    last_status: Option<PartitionStatus>,
}

#[derive(Debug)]
struct GroupState {
    topics: BTreeMap<String, Vec<GroupPartition>>,
    /// Timestamp of the last appended commit (Burrow's `lastCommit`).
    last_commit_ms: Option<TimestampMs>,
    /// When the group was created, the expiry base until it commits.
    created_ms: TimestampMs,
    /// When a polling source last read the group's committed offsets
    /// ([`Event::CommitsRead`]): its newest commits are current as of then. `None`: current
    /// at evaluation time (streamed, or no read reported since the last stored commit).
    commits_read_ms: Option<TimestampMs>,
}

#[derive(Debug, Default)]
struct ClusterState {
    topics: BTreeMap<String, TopicState>,
    groups: BTreeMap<String, GroupState>,
    stale: bool,
    /// Restored from saved state and not heard of since: every partition is warming up.
    resuming: bool,
}

/// Burrow's in-memory storage, for every cluster. See the [module documentation](self).
#[derive(Debug)]
pub struct LagModel {
    settings: ModelSettings,
    clusters: BTreeMap<String, ClusterState>,
    ignored: BTreeMap<IgnoreKind, u64>,
    entries_ignored: u64,
    commits_accepted: u64,
    /// External verdicts ([`Event::GroupVerdict`]) by (cluster, group); they replace the
    /// model's own evaluation of those groups.
    verdicts: BTreeMap<(String, String), GroupReport>,
    /// Share groups ([`Event::ShareGroupOffsets`]) by (cluster, group): windows of reads,
    /// judged by [`crate::share`]'s rules instead of Burrow's.
    share_groups: BTreeMap<(String, String), ShareGroupState>,
    /// Commits that arrived before any broker offset of their partition, newest per
    /// partition, by (cluster, topic) then (group, partition); replayed when the topic's
    /// broker offsets arrive. See [`LagModel::apply`].
    parked: BTreeMap<(String, String), BTreeMap<(String, i32), ParkedCommit>>,
    parked_count: usize,
    /// Clusters restored from saved state and not heard of since (see `ClusterState::resuming`);
    /// while 0, applying an event needs no look-up for it.
    resuming_clusters: usize,
}

/// Burrow's clock has a one-second resolution.
fn whole_seconds(now_ms: TimestampMs) -> TimestampMs {
    evaluator::rules::burrow_now_ms(now_ms)
}

/// `high_water - offset`, floored at 0.
fn lag_between(high_water: i64, offset: i64) -> u64 {
    let lag = i128::from(high_water) - i128::from(offset);
    u64::try_from(lag.max(0)).unwrap_or(u64::MAX)
}

impl LagModel {
    /// An empty model.
    pub fn new(settings: ModelSettings) -> LagModel {
        let mut settings = settings;
        settings.intervals = settings.intervals.max(1);
        settings.broker_history = settings.broker_history.max(settings.intervals);
        LagModel {
            settings,
            clusters: BTreeMap::new(),
            ignored: BTreeMap::new(),
            entries_ignored: 0,
            commits_accepted: 0,
            verdicts: BTreeMap::new(),
            share_groups: BTreeMap::new(),
            parked: BTreeMap::new(),
            parked_count: 0,
            resuming_clusters: 0,
        }
    }

    /// The settings in effect (after raising `intervals` to at least 1 and `broker_history` to
    /// at least `intervals`).
    pub fn settings(&self) -> &ModelSettings {
        &self.settings
    }

    /// Applies one event observed at `now_ms`.
    ///
    /// * `BrokerOffsets` creates the cluster and topic as needed, grows the topic's partition
    ///   list to `partition_count` (it never shrinks) and appends one sample to the ring of
    ///   each listed partition. Offsets for partitions out of range are dropped.
    /// * `Commit` is stored like Burrow stores a commit; see `docs/evaluator.md` for the drop
    ///   conditions, ordering and `min-distance` rules. Unlike Burrow, a commit that arrives
    ///   before its partition has any broker offset (unknown cluster, topic or partition —
    ///   one source can be ahead of another) is reported as ignored but kept, the newest per
    ///   partition and at most [`MAX_PARKED_COMMITS`] in all, and stored as soon as the
    ///   topic's broker offsets arrive.
    /// * `CommitsRead` notes when a polling source last read the group's committed offsets:
    ///   until a newer commit is appended, the group's time lag is estimated as of that read
    ///   (the newest moment its committed offsets are known to be current) instead of as of
    ///   the evaluation time.
    /// * `Members` sets owner and client id of every assigned partition that has broker data
    ///   (creating the group and the partition's empty ring if needed); other partitions keep
    ///   their owner. An empty assignment list clears every owner of the group.
    /// * `GroupDeleted` removes the group; `TopicDeleted` removes the topic's broker data and
    ///   the topic from every group (a group left without topics stays, as in Burrow).
    /// * `OffsetDeleted` removes the partition's commits (and a commit parked for it). A topic
    ///   left with neither commits nor owners leaves the group, and a group left without
    ///   topics is removed: Kafka 3.x deletes a group that never had members with offset
    ///   deletions alone.
    /// * `SourceHealth` marks the cluster stale (`healthy: false`) or fresh.
    /// * `GroupVerdict` stores an external evaluator's report for the group (creating the
    ///   cluster if needed); from then on [`LagModel::evaluate_group`] and
    ///   [`LagModel::snapshot`] return that report unchanged (only `stale` follows the
    ///   cluster's health) until another verdict replaces it, a NOTFOUND verdict or
    ///   `GroupDeleted` removes it. The group allow/deny list applies.
    pub fn apply(&mut self, event: &Event, now_ms: TimestampMs) -> Applied {
        if self.resuming_clusters > 0 {
            if let Some(state) = self.clusters.get_mut(event.cluster()) {
                if state.resuming {
                    state.resuming = false;
                    self.resuming_clusters -= 1;
                }
            }
        }
        let result = match event {
            Event::BrokerOffsets {
                cluster,
                topic,
                partition_count,
                offsets,
                observed_ms,
            } => {
                let result =
                    self.apply_broker(cluster, topic, *partition_count, offsets, *observed_ms);
                if matches!(result, Applied::Stored) {
                    self.replay_parked(cluster, topic, now_ms);
                }
                result
            }
            Event::Commit {
                cluster,
                group,
                topic,
                partition,
                offset,
                timestamp_ms,
                order,
            } => {
                let commit = CommitRef {
                    cluster,
                    group,
                    topic,
                    partition: *partition,
                    offset: *offset,
                    timestamp_ms: *timestamp_ms,
                    order: *order,
                };
                let result = self.apply_commit(commit, now_ms);
                self.park_if_early(&result, commit);
                result
            }
            Event::CommitsRead {
                cluster,
                group,
                read_ms,
            } => self.apply_commits_read(cluster, group, *read_ms),
            Event::Members {
                cluster,
                group,
                assignments,
            } => self.apply_members(cluster, group, assignments, now_ms),
            Event::ShareGroupOffsets {
                cluster,
                group,
                partitions,
                assignments,
                observed_ms,
            } => self.apply_share_group(cluster, group, partitions, assignments, *observed_ms),
            Event::GroupDeleted { cluster, group } => self.apply_group_deleted(cluster, group),
            Event::OffsetDeleted {
                cluster,
                group,
                topic,
                partition,
            } => self.apply_offset_deleted(cluster, group, topic, *partition),
            Event::GroupsReleased {
                cluster,
                offsets_partitions,
                partition_count,
            } => self.apply_groups_released(cluster, offsets_partitions, *partition_count),
            // Nothing to keep: the groups arrive through the source's own events.
            Event::GroupsAcquired { .. } => Applied::Stored,
            Event::TopicDeleted { cluster, topic } => self.apply_topic_deleted(cluster, topic),
            Event::SourceHealth {
                cluster, healthy, ..
            } => {
                self.clusters.entry(cluster.clone()).or_default().stale = !healthy;
                Applied::Stored
            }
            Event::GroupVerdict {
                cluster,
                group,
                report,
            } => self.apply_verdict(cluster, group, report),
        };
        if let Applied::Ignored(reason) = &result {
            *self.ignored.entry(reason.kind()).or_default() += 1;
        }
        result
    }

    fn apply_broker(
        &mut self,
        cluster: &str,
        topic: &str,
        partition_count: u32,
        offsets: &[BrokerOffset],
        observed_ms: TimestampMs,
    ) -> Applied {
        let state = self.clusters.entry(cluster.to_owned()).or_default();
        if !self.settings.topics.accepts(topic) {
            return Applied::Ignored(IgnoreReason::TopicFiltered {
                cluster: cluster.to_owned(),
                topic: topic.to_owned(),
            });
        }
        let history = self.settings.broker_history;
        let topic_state = state.topics.entry(topic.to_owned()).or_default();
        let count = usize::try_from(partition_count).unwrap_or(usize::MAX);
        if count > topic_state.partitions.len() {
            topic_state
                .partitions
                .resize_with(count, || VecDeque::with_capacity(history));
        }
        let known = topic_state.partitions.len();
        let mut stored = 0usize;
        let mut bad = 0u64;
        let mut first_bad = None;
        for o in offsets {
            let ring = usize::try_from(o.partition)
                .ok()
                .and_then(|p| topic_state.partitions.get_mut(p));
            let Some(ring) = ring else {
                bad += 1;
                first_bad.get_or_insert(o.partition);
                continue;
            };
            if ring.len() >= history {
                ring.pop_front();
            }
            ring.push_back(BrokerSample {
                observed_ms,
                high_water: o.high_water,
                log_start: o.log_start,
            });
            stored += 1;
        }
        match first_bad {
            Some(partition) if stored == 0 => Applied::Ignored(IgnoreReason::PartitionOutOfRange {
                cluster: cluster.to_owned(),
                topic: topic.to_owned(),
                partition,
                partition_count: known,
            }),
            _ => {
                self.entries_ignored += bad;
                Applied::Stored
            }
        }
    }

    /// Finds the newest broker sample of a partition, or why a commit or owner for it must be
    /// dropped. Returns (newest high-water mark, partition index, partition count).
    fn broker_check(
        cluster_state: &ClusterState,
        cluster: &str,
        topic: &str,
        partition: i32,
    ) -> Result<(i64, usize, usize), IgnoreReason> {
        let Some(t) = cluster_state.topics.get(topic) else {
            return Err(IgnoreReason::UnknownTopic {
                cluster: cluster.to_owned(),
                topic: topic.to_owned(),
            });
        };
        let count = t.partitions.len();
        let index = usize::try_from(partition).ok().filter(|&p| p < count);
        let Some(index) = index else {
            return Err(IgnoreReason::PartitionOutOfRange {
                cluster: cluster.to_owned(),
                topic: topic.to_owned(),
                partition,
                partition_count: count,
            });
        };
        match t.partitions[index].back() {
            Some(sample) => Ok((sample.high_water, index, count)),
            None => Err(IgnoreReason::NoBrokerSample {
                cluster: cluster.to_owned(),
                topic: topic.to_owned(),
                partition,
            }),
        }
    }

    fn apply_commit(&mut self, c: CommitRef<'_>, now_ms: TimestampMs) -> Applied {
        let settings = &self.settings;
        let Some(state) = self.clusters.get_mut(c.cluster) else {
            return Applied::Ignored(IgnoreReason::UnknownCluster {
                cluster: c.cluster.to_owned(),
            });
        };
        let cutoff_ms = whole_seconds(now_ms).saturating_sub(settings.expire_group_ms);
        if c.timestamp_ms < cutoff_ms {
            return Applied::Ignored(IgnoreReason::OldCommit {
                cluster: c.cluster.to_owned(),
                group: c.group.to_owned(),
                topic: c.topic.to_owned(),
                partition: c.partition,
                timestamp_ms: c.timestamp_ms,
                cutoff_ms,
            });
        }
        if !settings.groups.accepts(c.group) {
            return Applied::Ignored(IgnoreReason::GroupFiltered {
                cluster: c.cluster.to_owned(),
                group: c.group.to_owned(),
            });
        }
        if !settings.topics.accepts(c.topic) {
            return Applied::Ignored(IgnoreReason::TopicFiltered {
                cluster: c.cluster.to_owned(),
                topic: c.topic.to_owned(),
            });
        }
        let (high_water, index, count) =
            match Self::broker_check(state, c.cluster, c.topic, c.partition) {
                Ok(found) => found,
                Err(reason) => return Applied::Ignored(reason),
            };

        let group = state
            .groups
            .entry(c.group.to_owned())
            .or_insert_with(|| GroupState {
                topics: BTreeMap::new(),
                last_commit_ms: None,
                created_ms: now_ms,
                commits_read_ms: None,
            });
        let intervals = settings.intervals;
        let ring = group_partition(group, c.topic, index, count)
            .ring
            .get_or_insert_with(|| VecDeque::with_capacity(intervals));
        let commit = NewCommit {
            offset: c.offset,
            timestamp_ms: c.timestamp_ms,
            order: c.order,
            observed_ms: whole_seconds(now_ms),
            high_water,
        };
        match store_commit(ring, intervals, settings.min_distance_ms, commit) {
            Ok(Placement::Appended) => {
                group.last_commit_ms = Some(c.timestamp_ms);
                // A newer commit: current now, until a read says as of when.
                group.commits_read_ms = None;
                self.commits_accepted += 1;
                Applied::Stored
            }
            Ok(Placement::Inserted) => {
                self.commits_accepted += 1;
                Applied::Stored
            }
            Err(Rejected::BackfillFull { oldest_order }) => {
                Applied::Ignored(IgnoreReason::BackfillFull {
                    cluster: c.cluster.to_owned(),
                    group: c.group.to_owned(),
                    topic: c.topic.to_owned(),
                    partition: c.partition,
                    order: c.order.unwrap_or_default(),
                    oldest_order,
                })
            }
            Err(Rejected::Duplicate) => Applied::Ignored(IgnoreReason::DuplicateOrder {
                cluster: c.cluster.to_owned(),
                group: c.group.to_owned(),
                topic: c.topic.to_owned(),
                partition: c.partition,
                order: c.order.unwrap_or_default(),
            }),
        }
    }

    fn apply_commits_read(&mut self, cluster: &str, group: &str, read_ms: TimestampMs) -> Applied {
        if !self.settings.groups.accepts(group) {
            return Applied::Ignored(IgnoreReason::GroupFiltered {
                cluster: cluster.to_owned(),
                group: group.to_owned(),
            });
        }
        let Some(state) = self.clusters.get_mut(cluster) else {
            return Applied::Ignored(IgnoreReason::UnknownCluster {
                cluster: cluster.to_owned(),
            });
        };
        let Some(g) = state.groups.get_mut(group) else {
            return Applied::Ignored(IgnoreReason::UnknownGroup {
                cluster: cluster.to_owned(),
                group: group.to_owned(),
            });
        };
        g.commits_read_ms = Some(read_ms);
        Applied::Stored
    }

    fn apply_members(
        &mut self,
        cluster: &str,
        group: &str,
        assignments: &[MemberAssignment],
        now_ms: TimestampMs,
    ) -> Applied {
        let Some(state) = self.clusters.get_mut(cluster) else {
            return Applied::Ignored(IgnoreReason::UnknownCluster {
                cluster: cluster.to_owned(),
            });
        };
        if !self.settings.groups.accepts(group) {
            return Applied::Ignored(IgnoreReason::GroupFiltered {
                cluster: cluster.to_owned(),
                group: group.to_owned(),
            });
        }
        if assignments.is_empty() {
            let Some(g) = state.groups.get_mut(group) else {
                return Applied::Ignored(IgnoreReason::UnknownGroup {
                    cluster: cluster.to_owned(),
                    group: group.to_owned(),
                });
            };
            for p in g.topics.values_mut().flatten() {
                p.owner.clear();
                p.client_id.clear();
            }
            return Applied::Stored;
        }

        let mut first_bad: Option<IgnoreReason> = None;
        let mut valid = Vec::with_capacity(assignments.len());
        for a in assignments {
            let checked = if self.settings.topics.accepts(&a.topic) {
                Self::broker_check(state, cluster, &a.topic, a.partition)
            } else {
                Err(IgnoreReason::TopicFiltered {
                    cluster: cluster.to_owned(),
                    topic: a.topic.clone(),
                })
            };
            match checked {
                Ok((_, index, count)) => valid.push((a, index, count)),
                Err(reason) => {
                    first_bad.get_or_insert(reason);
                }
            }
        }
        if valid.is_empty() {
            return match first_bad {
                Some(reason) => Applied::Ignored(reason),
                None => Applied::Stored,
            };
        }
        self.entries_ignored += (assignments.len() - valid.len()) as u64;
        let intervals = self.settings.intervals;
        let g = state
            .groups
            .entry(group.to_owned())
            .or_insert_with(|| GroupState {
                topics: BTreeMap::new(),
                last_commit_ms: None,
                created_ms: now_ms,
                commits_read_ms: None,
            });
        for (a, index, count) in valid {
            let p = group_partition(g, &a.topic, index, count);
            // Like Burrow, naming an owner gives the partition a (still empty) commit ring.
            p.ring
                .get_or_insert_with(|| VecDeque::with_capacity(intervals));
            p.owner.clone_from(&a.owner);
            p.client_id.clone_from(&a.client_id);
        }
        Applied::Stored
    }

    fn apply_verdict(&mut self, cluster: &str, group: &str, report: &GroupReport) -> Applied {
        if !self.settings.groups.accepts(group) {
            return Applied::Ignored(IgnoreReason::GroupFiltered {
                cluster: cluster.to_owned(),
                group: group.to_owned(),
            });
        }
        self.clusters.entry(cluster.to_owned()).or_default();
        let key = (cluster.to_owned(), group.to_owned());
        if report.status == crate::status::GroupStatus::NotFound {
            self.verdicts.remove(&key);
        } else {
            let mut report = report.clone();
            cluster.clone_into(&mut report.cluster);
            group.clone_into(&mut report.group);
            self.verdicts.insert(key, report);
        }
        Applied::Stored
    }

    fn apply_share_group(
        &mut self,
        cluster: &str,
        group: &str,
        partitions: &[SharePartitionOffset],
        assignments: &[MemberAssignment],
        observed_ms: TimestampMs,
    ) -> Applied {
        if !self.settings.groups.accepts(group) {
            return Applied::Ignored(IgnoreReason::GroupFiltered {
                cluster: cluster.to_owned(),
                group: group.to_owned(),
            });
        }
        let state = self.clusters.entry(cluster.to_owned()).or_default();
        let topic_filter = &self.settings.topics;
        let mut unknown = 0u64;
        let reads: Vec<ShareRead<'_>> = partitions
            .iter()
            .filter(|p| topic_filter.accepts(&p.topic))
            .filter_map(|p| {
                // The broker's lag, else the newest high-water mark minus the start offset.
                let lag = match p.lag {
                    Some(lag) if lag >= 0 => Some(u64::try_from(lag).unwrap_or(0)),
                    _ => Self::broker_check(state, cluster, &p.topic, p.partition)
                        .ok()
                        .map(|(high_water, _, _)| lag_between(high_water, p.start_offset)),
                };
                if lag.is_none() {
                    unknown += 1;
                }
                Some(ShareRead {
                    topic: &p.topic,
                    partition: p.partition,
                    start_offset: p.start_offset,
                    lag: lag?,
                })
            })
            .collect();
        self.entries_ignored += unknown;
        self.share_groups
            .entry((cluster.to_owned(), group.to_owned()))
            .or_default()
            .apply(&reads, assignments, observed_ms, self.settings.intervals);
        Applied::Stored
    }

    fn apply_group_deleted(&mut self, cluster: &str, group: &str) -> Applied {
        let mut unparked = 0;
        for ((c, _), waiting) in self.parked.iter_mut() {
            if c == cluster {
                let before = waiting.len();
                waiting.retain(|(g, _), _| g != group);
                unparked += before - waiting.len();
            }
        }
        self.parked_count = self.parked_count.saturating_sub(unparked);
        let key = (cluster.to_owned(), group.to_owned());
        let had_verdict =
            self.verdicts.remove(&key).is_some() | self.share_groups.remove(&key).is_some();
        let Some(state) = self.clusters.get_mut(cluster) else {
            return Applied::Ignored(IgnoreReason::UnknownCluster {
                cluster: cluster.to_owned(),
            });
        };
        match state.groups.remove(group) {
            Some(_) => Applied::Stored,
            None if had_verdict => Applied::Stored,
            None => Applied::Ignored(IgnoreReason::UnknownGroup {
                cluster: cluster.to_owned(),
                group: group.to_owned(),
            }),
        }
    }

    /// Drops every group of `cluster` whose commits live in one of `released` (partitions of
    /// an offsets topic of `count` partitions).
    fn apply_groups_released(&mut self, cluster: &str, released: &[u32], count: u32) -> Applied {
        let released: std::collections::BTreeSet<u32> = released.iter().copied().collect();
        let mut names: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        if let Some(state) = self.clusters.get(cluster) {
            names.extend(state.groups.keys().cloned());
        }
        for (c, g) in self.verdicts.keys().chain(self.share_groups.keys()) {
            if c == cluster {
                names.insert(g.clone());
            }
        }
        for ((c, _), waiting) in &self.parked {
            if c == cluster {
                names.extend(waiting.keys().map(|(g, _)| g.clone()));
            }
        }
        for group in names {
            if released.contains(&crate::sharding::offsets_partition(&group, count)) {
                self.apply_group_deleted(cluster, &group);
            }
        }
        // Nothing to drop is as good: the groups are not this instance's either way.
        Applied::Stored
    }

    fn apply_offset_deleted(
        &mut self,
        cluster: &str,
        group: &str,
        topic: &str,
        partition: i32,
    ) -> Applied {
        if let Some(waiting) = self.parked.get_mut(&(cluster.to_owned(), topic.to_owned())) {
            if waiting.remove(&(group.to_owned(), partition)).is_some() {
                self.parked_count = self.parked_count.saturating_sub(1);
            }
        }
        let unknown = || {
            Applied::Ignored(IgnoreReason::UnknownGroup {
                cluster: cluster.to_owned(),
                group: group.to_owned(),
            })
        };
        let Some(state) = self.clusters.get_mut(cluster) else {
            return Applied::Ignored(IgnoreReason::UnknownCluster {
                cluster: cluster.to_owned(),
            });
        };
        let Some(g) = state.groups.get_mut(group) else {
            return unknown();
        };
        let Some(partitions) = g.topics.get_mut(topic) else {
            return unknown();
        };
        if let Some(p) = usize::try_from(partition)
            .ok()
            .and_then(|i| partitions.get_mut(i))
        {
            p.ring = None;
            p.last_status = None;
        }
        if partitions
            .iter()
            .all(|p| p.ring.is_none() && p.owner.is_empty())
        {
            g.topics.remove(topic);
            if g.topics.is_empty() {
                state.groups.remove(group);
            }
        }
        Applied::Stored
    }

    fn apply_topic_deleted(&mut self, cluster: &str, topic: &str) -> Applied {
        if let Some(waiting) = self.parked.remove(&(cluster.to_owned(), topic.to_owned())) {
            self.parked_count = self.parked_count.saturating_sub(waiting.len());
        }
        let Some(state) = self.clusters.get_mut(cluster) else {
            return Applied::Ignored(IgnoreReason::UnknownCluster {
                cluster: cluster.to_owned(),
            });
        };
        let mut removed = state.topics.remove(topic).is_some();
        for g in state.groups.values_mut() {
            removed |= g.topics.remove(topic).is_some();
        }
        if removed {
            Applied::Stored
        } else {
            Applied::Ignored(IgnoreReason::UnknownTopic {
                cluster: cluster.to_owned(),
                topic: topic.to_owned(),
            })
        }
    }

    /// Evaluates one group at `now_ms`.
    ///
    /// Like Burrow, a group whose last commit is older than `expire_group_ms` is deleted when it
    /// is read and reported NOTFOUND; an unknown cluster or group is NOTFOUND too. A group that
    /// never committed (created by a membership event) expires `expire_group_ms` after it was
    /// created (Burrow would drop it at the first read).
    ///
    /// A group with an external verdict ([`Event::GroupVerdict`]) is not evaluated: the stored
    /// verdict is returned as it was given, marked stale while the cluster is.
    pub fn evaluate_group(
        &mut self,
        cluster: &str,
        group: &str,
        now_ms: TimestampMs,
        settings: &EvaluatorSettings,
    ) -> GroupReport {
        let key = (cluster.to_owned(), group.to_owned());
        if let Some(verdict) = self.verdicts.get(&key) {
            let mut report = verdict.clone();
            report.stale = self.is_stale(cluster);
            return report;
        }
        if self.share_groups.contains_key(&key) {
            return self.evaluate_share_group(key, now_ms);
        }
        let intervals = self.settings.intervals;
        let expire = self.settings.expire_group_ms;
        let Some(state) = self.clusters.get_mut(cluster) else {
            return GroupReport::not_found(cluster, group, now_ms);
        };
        let ClusterState {
            topics,
            groups,
            stale,
            resuming,
        } = state;
        let expired = groups.get(group).map(|g| {
            let base = g.last_commit_ms.unwrap_or(g.created_ms);
            whole_seconds(now_ms).saturating_sub(expire) > base
        });
        match expired {
            None => GroupReport::not_found(cluster, group, now_ms),
            Some(true) => {
                groups.remove(group);
                GroupReport::not_found(cluster, group, now_ms)
            }
            Some(false) => match groups.get_mut(group) {
                Some(g) => {
                    let mut report = evaluate_state(
                        cluster, group, g, topics, *stale, intervals, now_ms, settings,
                    );
                    if *resuming {
                        for p in &mut report.partitions {
                            p.extras.warming_up = true;
                        }
                        report.warming_up = !report.partitions.is_empty();
                    }
                    report
                }
                None => GroupReport::not_found(cluster, group, now_ms),
            },
        }
    }

    /// A share group's report; a group not read for `expire_group_ms` is removed and NOTFOUND.
    fn evaluate_share_group(&mut self, key: (String, String), now_ms: TimestampMs) -> GroupReport {
        let (cluster, group) = (&key.0, &key.1);
        let expire = self.settings.expire_group_ms;
        let expired = self
            .share_groups
            .get(&key)
            .is_none_or(|g| whole_seconds(now_ms).saturating_sub(expire) > g.last_read_ms);
        if expired {
            self.share_groups.remove(&key);
            return GroupReport::not_found(cluster, group, now_ms);
        }
        let stale = self.is_stale(cluster);
        let topics = self.clusters.get(cluster).map(|c| &c.topics);
        let broker = |topic: &str, partition: i32| {
            let ring = topics.and_then(|t| t.get(topic)).and_then(|t| {
                usize::try_from(partition)
                    .ok()
                    .and_then(|i| t.partitions.get(i))
            });
            (
                ring.and_then(|r| r.back()).map(|s| s.high_water),
                ring.and_then(|r| r.iter().rev().find_map(|s| s.log_start)),
            )
        };
        let partitions = self
            .share_groups
            .get(&key)
            .map(|g| g.evaluate(self.settings.intervals, stale, broker))
            .unwrap_or_default();
        let mut report = evaluator::aggregate_group(cluster, group, partitions, now_ms);
        report.group_type = GroupType::Share;
        report.stale = stale;
        report
    }

    /// Evaluates every group of every cluster (sorted by cluster, then group; expired groups
    /// are removed and left out) and lists every topic's newest high-water marks (sorted by
    /// cluster, then topic).
    pub fn snapshot(
        &mut self,
        now_ms: TimestampMs,
        settings: &EvaluatorSettings,
        cycle: u64,
    ) -> SnapshotData {
        let mut groups = Vec::new();
        for cluster in self.clusters() {
            for group in self.groups(&cluster) {
                let report = self.evaluate_group(&cluster, &group, now_ms, settings);
                if report.status != crate::status::GroupStatus::NotFound {
                    groups.push(report);
                }
            }
        }
        let topics = self
            .clusters
            .iter()
            .flat_map(|(cluster, state)| {
                state.topics.iter().map(move |(topic, t)| TopicOffsets {
                    cluster: cluster.clone(),
                    topic: topic.clone(),
                    high_water: t
                        .partitions
                        .iter()
                        .map(|ring| ring.back().map(|s| s.high_water))
                        .collect(),
                    log_start: t
                        .partitions
                        .iter()
                        .map(|ring| ring.iter().rev().find_map(|s| s.log_start))
                        .collect(),
                })
            })
            .collect();
        // The snapshot is kept until the next one replaces it: no spare capacity.
        groups.shrink_to_fit();
        SnapshotData {
            at_ms: now_ms,
            cycle,
            groups,
            topics,
        }
    }

    /// Everything stored for one group, as Burrow's consumer-detail endpoint shows it: per
    /// topic, per partition (index = partition number), the whole commit window oldest first
    /// (empty slots first, `intervals` long; empty for a partition never committed), owner,
    /// client id and current lag. `None` for an unknown cluster or group, and for a group known
    /// only by an external verdict.
    pub fn group_detail(
        &self,
        cluster: &str,
        group: &str,
    ) -> Option<BTreeMap<String, Vec<PartitionDetail>>> {
        let state = self.clusters.get(cluster)?;
        let g = state.groups.get(group)?;
        let intervals = self.settings.intervals;
        let detail = g
            .topics
            .iter()
            .map(|(topic, partitions)| {
                let broker = state.topics.get(topic);
                let list = partitions
                    .iter()
                    .enumerate()
                    .map(|(index, p)| {
                        let newest = broker
                            .and_then(|t| t.partitions.get(index))
                            .and_then(|s| s.back());
                        let commit = p.ring.as_ref().and_then(|r| r.back());
                        let current_lag = match (commit, newest) {
                            (Some(c), Some(s)) => lag_between(s.high_water, c.point.offset),
                            _ => 0,
                        };
                        PartitionDetail {
                            offsets: p.window_slots(intervals),
                            owner: p.owner.clone(),
                            client_id: p.client_id.clone(),
                            current_lag,
                        }
                    })
                    .collect();
                (topic.clone(), list)
            })
            .collect();
        Some(detail)
    }

    /// Removes one topic from a group (Burrow's `DELETE .../consumer/<group>/topic/<topic>`);
    /// a group left without topics is removed too. Returns whether anything was removed.
    pub fn remove_group_topic(&mut self, cluster: &str, group: &str, topic: &str) -> bool {
        let Some(state) = self.clusters.get_mut(cluster) else {
            return false;
        };
        let Some(g) = state.groups.get_mut(group) else {
            return false;
        };
        let removed = g.topics.remove(topic).is_some();
        if g.topics.is_empty() {
            state.groups.remove(group);
        }
        removed
    }

    /// Known clusters, sorted.
    pub fn clusters(&self) -> Vec<String> {
        self.clusters.keys().cloned().collect()
    }

    /// Groups held for a cluster, sorted (empty for an unknown cluster), including groups
    /// known only by an external verdict. Like Burrow's group list, this still shows an
    /// expired group until it is read.
    pub fn groups(&self, cluster: &str) -> Vec<String> {
        let mut groups: Vec<String> = self
            .clusters
            .get(cluster)
            .map(|c| c.groups.keys().cloned().collect())
            .unwrap_or_default();
        let external = self
            .verdicts
            .keys()
            .chain(self.share_groups.keys())
            .filter(|(c, g)| c == cluster && groups.binary_search(g).is_err())
            .map(|(_, g)| g.clone())
            .collect::<Vec<_>>();
        if !external.is_empty() {
            groups.extend(external);
            groups.sort();
        }
        groups
    }

    /// Topics with broker offsets for a cluster, sorted (empty for an unknown cluster).
    pub fn topics(&self, cluster: &str) -> Vec<String> {
        self.clusters
            .get(cluster)
            .map(|c| c.topics.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether a source currently reports the cluster unhealthy.
    pub fn is_stale(&self, cluster: &str) -> bool {
        self.clusters.get(cluster).is_some_and(|c| c.stale)
    }

    /// What the model holds and what it dropped.
    pub fn stats(&self) -> ModelStats {
        let mut stats = ModelStats {
            clusters: self.clusters.len(),
            commits_accepted: self.commits_accepted,
            ignored: self.ignored.clone(),
            entries_ignored: self.entries_ignored,
            ..ModelStats::default()
        };
        for c in self.clusters.values() {
            stats.stale_clusters += usize::from(c.stale);
            stats.groups += c.groups.len();
            stats.topics += c.topics.len();
            stats.broker_partitions += c.topics.values().map(|t| t.partitions.len()).sum::<usize>();
            for p in c.groups.values().flat_map(|g| g.topics.values().flatten()) {
                stats.partitions += 1;
                stats.stored_commits += p.ring.as_ref().map_or(0, VecDeque::len);
            }
        }
        // Groups known only through a verdict (those with data are counted above).
        stats.groups += self
            .verdicts
            .keys()
            .filter(|(cluster, group)| {
                self.clusters
                    .get(cluster)
                    .is_none_or(|c| !c.groups.contains_key(group))
            })
            .count();
        stats
    }
}

impl GroupPartition {
    /// The commit window as `intervals` slots, oldest first, empty slots first; empty for a
    /// partition never committed.
    fn window_slots(&self, intervals: usize) -> Vec<Option<OffsetPoint>> {
        match &self.ring {
            None => Vec::new(),
            Some(ring) => {
                let mut slots = vec![None; intervals.saturating_sub(ring.len())];
                slots.extend(ring.iter().map(|c| Some(c.point)));
                slots
            }
        }
    }
}

/// The group's entry for a partition, creating the topic and growing its partition list to
/// `count` when `index` is beyond it (Burrow grows it only then).
fn group_partition<'g>(
    group: &'g mut GroupState,
    topic: &str,
    index: usize,
    count: usize,
) -> &'g mut GroupPartition {
    let list = group.topics.entry(topic.to_owned()).or_default();
    if index >= list.len() {
        list.resize_with(count.max(index + 1), GroupPartition::default);
    }
    &mut list[index]
}

#[allow(clippy::too_many_arguments)]
fn evaluate_state(
    cluster: &str,
    group: &str,
    state: &mut GroupState,
    topics: &BTreeMap<String, TopicState>,
    stale: bool,
    intervals: usize,
    now_ms: TimestampMs,
    settings: &EvaluatorSettings,
) -> GroupReport {
    // Sized exactly: a snapshot holds one report per group partition, and a vector grown by
    // doubling would carry up to half as much again unused.
    let mut reports = Vec::with_capacity(state.topics.values().map(Vec::len).sum());
    for (topic, partitions) in &mut state.topics {
        let broker = topics.get(topic);
        for (index, p) in partitions.iter_mut().enumerate() {
            let samples = broker.and_then(|t| t.partitions.get(index));
            let newest_commit = p.ring.as_ref().and_then(|r| r.back()).map(|c| c.point);
            let newest_sample = samples.and_then(|s| s.back());
            let current_lag = match (newest_commit, newest_sample) {
                (Some(c), Some(s)) => lag_between(s.high_water, c.offset),
                _ => 0,
            };
            let offsets = p.window_slots(intervals);
            let window = PartitionWindow {
                topic: topic.clone(),
                partition: i32::try_from(index).unwrap_or(i32::MAX),
                owner: p.owner.clone(),
                client_id: p.client_id.clone(),
                offsets,
                broker_offsets: samples
                    .map(|s| s.iter().map(|b| b.high_water).collect())
                    .unwrap_or_default(),
                current_lag,
            };
            let mut report = evaluator::evaluate_partition(&window, intervals, now_ms, settings);
            if stale {
                report.status = p.last_status.unwrap_or(PartitionStatus::Ok);
            } else {
                p.last_status = Some(report.status);
            }
            let extras = &mut report.extras;
            extras.stale = stale;
            if let Some(samples) = samples {
                extras.log_start_offset = samples.iter().rev().find_map(|s| s.log_start);
                extras.broker_sample_age_ms =
                    newest_sample.map(|s| now_ms.saturating_sub(s.observed_ms).max(0));
                if let Some(commit) = newest_commit {
                    let history: Vec<(TimestampMs, i64)> = samples
                        .iter()
                        .map(|s| (s.observed_ms, s.high_water))
                        .collect();
                    // As of the newest moment the committed offset is known to be current.
                    let as_of = state
                        .commits_read_ms
                        .map_or(now_ms, |read| read.min(now_ms));
                    extras.time_lag = Some(time_lag::estimate(&history, commit.offset, as_of));
                    let commits = p.ring.iter().flatten().map(|c| CommitPoint {
                        offset: c.point.offset,
                        timestamp_ms: c.point.timestamp,
                    });
                    let broker = samples.iter().map(|s| BrokerPoint {
                        observed_ms: s.observed_ms,
                        high_water: s.high_water,
                        log_start: s.log_start,
                    });
                    extras.trend = Some(trend::partition_trend(
                        commits,
                        broker,
                        report.current_lag,
                        settings.allowed_lag,
                        now_ms,
                    ));
                }
            }
            reports.push(report);
        }
    }
    let mut report = evaluator::aggregate_group(cluster, group, reports, now_ms);
    report.stale = stale;
    report
}

/// A commit event, borrowed.
#[derive(Clone, Copy)]
struct CommitRef<'e> {
    cluster: &'e str,
    group: &'e str,
    topic: &'e str,
    partition: i32,
    offset: i64,
    timestamp_ms: TimestampMs,
    order: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(offset: i64, timestamp_ms: i64, order: Option<i64>) -> NewCommit {
        NewCommit {
            offset,
            timestamp_ms,
            order,
            observed_ms: 0,
            high_water: 100,
        }
    }

    fn orders(ring: &VecDeque<StoredCommit>) -> Vec<i64> {
        ring.iter().map(|c| c.order).collect()
    }

    #[test]
    fn sizes_match_the_documented_memory() {
        assert_eq!(std::mem::size_of::<StoredCommit>(), 48);
        assert_eq!(std::mem::size_of::<BrokerSample>(), 32);
        assert!(std::mem::size_of::<GroupPartition>() <= 96);
        // What a trend adds to each partition report (docs/benchmarks.md).
        assert!(std::mem::size_of::<Option<crate::trend::Trend>>() <= 96);
    }

    #[test]
    fn rings_never_grow_beyond_their_capacity() {
        let mut ring = VecDeque::with_capacity(3);
        let allocated = ring.capacity();
        for order in (0..20).step_by(2).chain([15, 17, 5, 17]) {
            let _ = store_commit(&mut ring, 3, 0, commit(order, order, Some(order)));
            assert!(ring.len() <= 3);
        }
        assert_eq!(ring.capacity(), allocated);
        assert_eq!(orders(&ring), vec![16, 17, 18]);
    }

    #[test]
    fn out_of_order_commits_are_inserted_by_order() {
        let mut ring = VecDeque::new();
        for order in [10, 30, 20] {
            assert!(store_commit(&mut ring, 3, 0, commit(order, order, Some(order))).is_ok());
        }
        assert_eq!(orders(&ring), vec![10, 20, 30]);
        assert_eq!(ring[1].point.lag, None);
        assert_eq!(ring[2].point.lag, Some(70));
        // Full: an order older than the oldest is a backfill commit.
        assert_eq!(
            store_commit(&mut ring, 3, 0, commit(5, 5, Some(5))),
            Err(Rejected::BackfillFull { oldest_order: 10 })
        );
        assert_eq!(
            store_commit(&mut ring, 3, 0, commit(20, 20, Some(20))),
            Err(Rejected::Duplicate)
        );
        // Full, between the two newest: inserted, the oldest falls out.
        assert_eq!(
            store_commit(&mut ring, 3, 0, commit(25, 25, Some(25))),
            Ok(Placement::Inserted)
        );
        assert_eq!(orders(&ring), vec![20, 25, 30]);
    }

    fn verdict(cluster: &str, group: &str, status: crate::status::GroupStatus) -> GroupReport {
        let partition = crate::report::PartitionReport {
            topic: "orders".into(),
            partition: 1,
            owner: "/10.0.0.1".into(),
            client_id: "app-1".into(),
            status: PartitionStatus::Stall,
            start: None,
            end: Some(OffsetPoint {
                offset: 40,
                timestamp: 1_000,
                observed_at: 2_000,
                lag: Some(7),
            }),
            current_lag: 11,
            complete: 0.5,
            extras: crate::report::PartitionExtras::default(),
        };
        GroupReport {
            group_type: crate::report::GroupType::Consumer,
            cluster: cluster.into(),
            group: group.into(),
            status,
            complete: 0.5,
            partitions: vec![partition.clone()],
            partition_count: 2,
            maxlag: Some(partition),
            totallag: 11,
            evaluated_at: 5_000,
            worst_partition: Some(PartitionStatus::Stall),
            stale: false,
            warming_up: false,
        }
    }

    #[test]
    fn group_detail_shows_the_whole_window_and_a_topic_can_be_removed() {
        let mut model = LagModel::new(ModelSettings {
            intervals: 3,
            ..ModelSettings::default()
        });
        let broker = |hw: i64, at: i64| Event::BrokerOffsets {
            cluster: "c".into(),
            topic: "orders".into(),
            partition_count: 2,
            offsets: vec![BrokerOffset {
                partition: 0,
                high_water: hw,
                log_start: Some(3),
            }],
            observed_ms: at,
        };
        let commit = |topic: &str, offset: i64, at: i64| Event::Commit {
            cluster: "c".into(),
            group: "g".into(),
            topic: topic.into(),
            partition: 0,
            offset,
            timestamp_ms: at,
            order: None,
        };
        assert_eq!(model.apply(&broker(100, 1_000), 1_000), Applied::Stored);
        assert_eq!(
            model.apply(&commit("orders", 40, 1_000), 1_000),
            Applied::Stored
        );
        assert_eq!(model.apply(&broker(120, 61_000), 61_000), Applied::Stored);
        assert_eq!(
            model.apply(&commit("orders", 90, 61_000), 61_000),
            Applied::Stored
        );

        let detail = model.group_detail("c", "g").unwrap_or_default();
        let parts = &detail["orders"];
        assert_eq!(parts.len(), 2, "both partitions of the topic are listed");
        assert_eq!(parts[0].offsets.len(), 3);
        assert_eq!(parts[0].offsets[0], None, "the empty slot comes first");
        assert_eq!(parts[0].offsets[1].map(|o| o.offset), Some(40));
        assert_eq!(parts[0].offsets[2].map(|o| o.offset), Some(90));
        assert_eq!(parts[0].current_lag, 30);
        assert!(parts[1].offsets.is_empty(), "never committed");
        assert_eq!(parts[1].current_lag, 0);
        assert_eq!(model.group_detail("c", "nope"), None);
        assert_eq!(model.group_detail("nope", "g"), None);

        let snapshot = model.snapshot(61_000, &EvaluatorSettings::default(), 1);
        assert_eq!(snapshot.topics[0].log_start, vec![Some(3), None]);

        assert!(!model.remove_group_topic("c", "g", "other"));
        assert!(model.remove_group_topic("c", "g", "orders"));
        assert_eq!(
            model.group_detail("c", "g"),
            None,
            "a group without topics is gone"
        );
    }

    #[test]
    fn evaluation_fills_every_partitions_trend_and_the_groups() {
        use crate::trend::CatchUp;
        let mut model = LagModel::new(ModelSettings::default());
        let broker = |hw: i64, log_start: i64, at: i64| Event::BrokerOffsets {
            cluster: "c".into(),
            topic: "orders".into(),
            partition_count: 2,
            offsets: vec![BrokerOffset {
                partition: 0,
                high_water: hw,
                log_start: Some(log_start),
            }],
            observed_ms: at,
        };
        let commit = |offset: i64, at: i64| Event::Commit {
            cluster: "c".into(),
            group: "g".into(),
            topic: "orders".into(),
            partition: 0,
            offset,
            timestamp_ms: at,
            order: None,
        };
        model.apply(&broker(500, 0, 0), 0);
        model.apply(&commit(0, 0), 0);
        model.apply(&broker(1_000, 100, 10_000), 10_000);
        model.apply(&commit(900, 10_000), 10_000);
        let report = model.evaluate_group("c", "g", 10_000, &EvaluatorSettings::default());
        // Produced 50/s, consumed 90/s, lag 100: 2.5 s. Log start 10/s reaches 900 in 80 s.
        let trend = report.partitions[0].extras.trend.unwrap_or_default();
        assert_eq!(trend.production_rate, Some(50.0));
        assert_eq!(trend.consumption_rate, Some(90.0));
        assert_eq!(trend.lag_rate, Some(-40.0));
        assert_eq!(trend.catch_up, CatchUp::In { seconds: 2.5 });
        assert_eq!(trend.retention_deadline_seconds, Some(80.0));
        assert!(!trend.data_loss_before_catch_up);
        // Partition 1 was never committed: no trend, and the group's is partition 0's.
        assert_eq!(report.partitions[1].extras.trend, None);
        let group = report.trend();
        assert_eq!(group.catch_up, CatchUp::In { seconds: 2.5 });
        assert_eq!(group.production_rate, Some(50.0));
        assert_eq!(group.retention_deadline_seconds, Some(80.0));
    }

    /// Time lag of partition 0 of group `g` on cluster `c`, topic `orders`.
    fn time_lag_at(model: &mut LagModel, now_ms: TimestampMs) -> Option<time_lag::TimeLag> {
        let report = model.evaluate_group("c", "g", now_ms, &EvaluatorSettings::default());
        report.partitions[0].extras.time_lag
    }

    /// A producer writing 10 messages/s from offset 0 at t = 0, sampled every 10 s up to
    /// `until_ms`, and a group whose commit of offset 150 (written at t = 15 s) is seen at
    /// 20 s.
    fn polled_model(until_ms: TimestampMs) -> LagModel {
        let mut model = LagModel::new(ModelSettings::default());
        for at in (0..=until_ms).step_by(10_000) {
            let broker = Event::BrokerOffsets {
                cluster: "c".into(),
                topic: "orders".into(),
                partition_count: 1,
                offsets: vec![BrokerOffset {
                    partition: 0,
                    high_water: at / 100,
                    log_start: None,
                }],
                observed_ms: at,
            };
            assert_eq!(model.apply(&broker, at), Applied::Stored);
            if at == 20_000 {
                let commit = Event::Commit {
                    cluster: "c".into(),
                    group: "g".into(),
                    topic: "orders".into(),
                    partition: 0,
                    offset: 150,
                    timestamp_ms: at,
                    order: None,
                };
                assert_eq!(model.apply(&commit, at), Applied::Stored);
            }
        }
        model
    }

    fn read(at: TimestampMs) -> Event {
        Event::CommitsRead {
            cluster: "c".into(),
            group: "g".into(),
            read_ms: at,
        }
    }

    #[test]
    fn time_lag_of_a_polled_commit_is_taken_as_of_its_read() {
        use crate::time_lag::{Confidence, TimeLag};
        let lag = |seconds| {
            Some(TimeLag {
                seconds,
                confidence: Confidence::Interpolated,
            })
        };
        // Streamed (no read reported): current at evaluation time, 27 s - 15 s.
        let mut model = polled_model(20_000);
        assert_eq!(time_lag_at(&mut model, 27_000), lag(12.0));

        // Read at 20 s and evaluated at 27 s: 5 s behind as of the read, not 12 s.
        assert_eq!(model.apply(&read(20_000), 20_000), Applied::Stored);
        assert_eq!(time_lag_at(&mut model, 27_000), lag(5.0));
        // A read from the future of the evaluation counts as "now".
        assert_eq!(time_lag_at(&mut model, 18_000), lag(3.0));

        // The same offset read again at 30 s (no commit event): still current then, so the
        // lag grows with the reads, not with the evaluations.
        let mut model = polled_model(30_000);
        assert_eq!(model.apply(&read(20_000), 20_000), Applied::Stored);
        assert_eq!(model.apply(&read(30_000), 30_000), Applied::Stored);
        assert_eq!(time_lag_at(&mut model, 37_000), lag(15.0));

        // A newer commit without a read (streamed) is current at evaluation time again.
        let commit = Event::Commit {
            cluster: "c".into(),
            group: "g".into(),
            topic: "orders".into(),
            partition: 0,
            offset: 250,
            timestamp_ms: 31_000,
            order: None,
        };
        assert_eq!(model.apply(&commit, 31_000), Applied::Stored);
        assert_eq!(time_lag_at(&mut model, 37_000), lag(12.0));
    }

    #[test]
    fn a_read_of_an_unknown_or_filtered_group_is_ignored() {
        let mut model = LagModel::new(ModelSettings::default());
        assert!(matches!(
            model.apply(&read(1_000), 1_000),
            Applied::Ignored(IgnoreReason::UnknownCluster { .. })
        ));
        let mut model = polled_model(0);
        assert!(matches!(
            model.apply(&read(1_000), 1_000),
            Applied::Ignored(IgnoreReason::UnknownGroup { .. })
        ));
        let Ok(groups) = NameFilter::new(None, Some("^g$")) else {
            panic!("a valid pattern");
        };
        let mut model = LagModel::new(ModelSettings {
            groups,
            ..ModelSettings::default()
        });
        assert!(matches!(
            model.apply(&read(1_000), 1_000),
            Applied::Ignored(IgnoreReason::GroupFiltered { .. })
        ));
    }

    fn verdict_event(report: &GroupReport) -> Event {
        Event::GroupVerdict {
            cluster: report.cluster.clone(),
            group: report.group.clone(),
            report: Box::new(report.clone()),
        }
    }

    #[test]
    fn an_external_verdict_is_reported_unchanged() {
        use crate::status::GroupStatus;
        let mut model = LagModel::new(ModelSettings::default());
        let settings = EvaluatorSettings::default();
        // The model also holds broker data and a commit for the group: the verdict wins.
        let broker = Event::BrokerOffsets {
            cluster: "c".into(),
            topic: "orders".into(),
            partition_count: 2,
            offsets: vec![BrokerOffset {
                partition: 1,
                high_water: 100,
                log_start: None,
            }],
            observed_ms: 1_000,
        };
        assert_eq!(model.apply(&broker, 1_000), Applied::Stored);
        let commit = Event::Commit {
            cluster: "c".into(),
            group: "g".into(),
            topic: "orders".into(),
            partition: 1,
            offset: 100,
            timestamp_ms: 1_000,
            order: None,
        };
        assert_eq!(model.apply(&commit, 1_000), Applied::Stored);
        let given = verdict("c", "g", GroupStatus::Err);
        assert_eq!(model.apply(&verdict_event(&given), 2_000), Applied::Stored);
        assert_eq!(model.evaluate_group("c", "g", 9_000, &settings), given);

        // A group known only by its verdict (and a cluster known only by it) is listed.
        let only = verdict("other", "h", GroupStatus::Warn);
        assert_eq!(model.apply(&verdict_event(&only), 2_000), Applied::Stored);
        assert_eq!(model.groups("other"), vec!["h".to_owned()]);
        let snapshot = model.snapshot(9_000, &settings, 1);
        assert_eq!(snapshot.groups, vec![given.clone(), only.clone()]);

        // Stale follows the cluster's health; nothing else changes.
        let down = Event::SourceHealth {
            cluster: "other".into(),
            healthy: false,
            reason: None,
        };
        assert_eq!(model.apply(&down, 3_000), Applied::Stored);
        let mut stale = only.clone();
        stale.stale = true;
        assert_eq!(model.evaluate_group("other", "h", 9_000, &settings), stale);
    }

    #[test]
    fn released_groups_leave_by_offsets_partition_and_others_stay() {
        let mut model = LagModel::new(ModelSettings::default());
        model.apply(
            &Event::BrokerOffsets {
                cluster: "c".into(),
                topic: "orders".into(),
                partition_count: 1,
                offsets: vec![BrokerOffset {
                    partition: 0,
                    high_water: 100,
                    log_start: None,
                }],
                observed_ms: 1_000,
            },
            1_000,
        );
        // Of an offsets topic of 4 partitions: "abc" and "orders-consumer" live in 2,
        // "a" and "grüße-gruppe" in 1.
        let groups = ["abc", "orders-consumer", "a", "grüße-gruppe"];
        for group in groups {
            let commit = Event::Commit {
                cluster: "c".into(),
                group: group.into(),
                topic: "orders".into(),
                partition: 0,
                offset: 50,
                timestamp_ms: 1_000,
                order: None,
            };
            assert_eq!(model.apply(&commit, 1_000), Applied::Stored);
        }
        let release = |partitions: Vec<u32>| Event::GroupsReleased {
            cluster: "c".into(),
            offsets_partitions: partitions,
            partition_count: 4,
        };
        assert_eq!(model.apply(&release(vec![2, 3]), 2_000), Applied::Stored);
        assert_eq!(model.groups("c"), ["a", "grüße-gruppe"]);
        assert_eq!(model.apply(&release(vec![0]), 2_000), Applied::Stored);
        assert_eq!(model.groups("c").len(), 2, "nothing in partition 0");
        model.apply(&release(vec![1]), 2_000);
        assert!(model.groups("c").is_empty());
    }

    #[test]
    fn deleted_offsets_remove_partitions_then_topics_then_the_group() {
        let mut model = LagModel::new(ModelSettings::default());
        let settings = EvaluatorSettings::default();
        let broker = |topic: &str| Event::BrokerOffsets {
            cluster: "c".into(),
            topic: topic.into(),
            partition_count: 2,
            offsets: (0..2)
                .map(|partition| BrokerOffset {
                    partition,
                    high_water: 100,
                    log_start: None,
                })
                .collect(),
            observed_ms: 1_000,
        };
        let commit = |group: &str, topic: &str, partition, offset| Event::Commit {
            cluster: "c".into(),
            group: group.into(),
            topic: topic.into(),
            partition,
            offset,
            timestamp_ms: 1_000,
            order: None,
        };
        let deleted = |group: &str, topic: &str, partition| Event::OffsetDeleted {
            cluster: "c".into(),
            group: group.into(),
            topic: topic.into(),
            partition,
        };
        model.apply(&broker("orders"), 1_000);
        for (group, partition, offset) in [("g", 0, 90), ("g", 1, 80), ("h", 0, 70)] {
            let event = commit(group, "orders", partition, offset);
            assert_eq!(model.apply(&event, 1_000), Applied::Stored);
        }
        assert_eq!(
            model.evaluate_group("c", "g", 2_000, &settings).totallag,
            30
        );

        // One partition's offset goes; the group keeps the other.
        assert_eq!(
            model.apply(&deleted("g", "orders", 0), 2_000),
            Applied::Stored
        );
        assert_eq!(
            model.evaluate_group("c", "g", 3_000, &settings).totallag,
            20
        );
        assert_eq!(model.groups("c"), vec!["g".to_owned(), "h".to_owned()]);
        // The last one goes: so does the group (Kafka 3.x deletes a member-less group so).
        assert_eq!(
            model.apply(&deleted("g", "orders", 1), 3_000),
            Applied::Stored
        );
        assert_eq!(model.groups("c"), vec!["h".to_owned()]);
        assert_eq!(
            model.apply(&deleted("g", "orders", 1), 4_000),
            Applied::Ignored(IgnoreReason::UnknownGroup {
                cluster: "c".into(),
                group: "g".into(),
            })
        );

        // A partition with an owner stays (and with it the group), without its commits.
        let members = Event::Members {
            cluster: "c".into(),
            group: "h".into(),
            assignments: vec![MemberAssignment {
                topic: "orders".into(),
                partition: 0,
                owner: "/10.0.0.1".into(),
                client_id: "app".into(),
            }],
        };
        assert_eq!(model.apply(&members, 4_000), Applied::Stored);
        assert_eq!(
            model.apply(&deleted("h", "orders", 0), 5_000),
            Applied::Stored
        );
        assert_eq!(model.groups("c"), vec!["h".to_owned()]);
        assert_eq!(model.evaluate_group("c", "h", 6_000, &settings).totallag, 0);

        // A commit parked for a topic without broker offsets yet is deleted too.
        let early = commit("p", "later", 0, 5);
        assert!(matches!(model.apply(&early, 6_000), Applied::Ignored(_)));
        assert_eq!(
            model.apply(&deleted("p", "later", 0), 6_500),
            Applied::Ignored(IgnoreReason::UnknownGroup {
                cluster: "c".into(),
                group: "p".into(),
            })
        );
        model.apply(&broker("later"), 7_000);
        assert_eq!(model.groups("c"), vec!["h".to_owned()]);
    }

    #[test]
    fn a_verdict_is_removed_by_notfound_and_by_deletion() {
        use crate::status::GroupStatus;
        let mut model = LagModel::new(ModelSettings::default());
        let settings = EvaluatorSettings::default();
        let given = verdict("c", "g", GroupStatus::Ok);
        model.apply(&verdict_event(&given), 1_000);
        let gone = GroupReport::not_found("c", "g", 2_000);
        assert_eq!(model.apply(&verdict_event(&gone), 2_000), Applied::Stored);
        assert_eq!(model.groups("c"), Vec::<String>::new());
        assert_eq!(
            model.evaluate_group("c", "g", 3_000, &settings).status,
            GroupStatus::NotFound
        );

        model.apply(&verdict_event(&given), 4_000);
        let delete = Event::GroupDeleted {
            cluster: "c".into(),
            group: "g".into(),
        };
        assert_eq!(model.apply(&delete, 5_000), Applied::Stored);
        assert!(model.snapshot(6_000, &settings, 1).groups.is_empty());
        assert_eq!(
            model.apply(&delete, 7_000),
            Applied::Ignored(IgnoreReason::UnknownGroup {
                cluster: "c".into(),
                group: "g".into(),
            })
        );
    }

    #[test]
    fn a_snapshot_carries_the_newest_log_start_of_every_topic_partition() {
        let mut model = LagModel::new(ModelSettings::default());
        let broker = |observed_ms, offsets: Vec<BrokerOffset>| Event::BrokerOffsets {
            cluster: "c".into(),
            topic: "orders".into(),
            partition_count: 3,
            offsets,
            observed_ms,
        };
        let offset = |partition, high_water, log_start| BrokerOffset {
            partition,
            high_water,
            log_start,
        };
        model.apply(
            &broker(
                1_000,
                vec![offset(0, 100, Some(10)), offset(1, 50, Some(5))],
            ),
            1_000,
        );
        // The newer sample of partition 1 lacks a log start: the older one still counts.
        model.apply(
            &broker(2_000, vec![offset(0, 120, Some(20)), offset(1, 60, None)]),
            2_000,
        );
        let snapshot = model.snapshot(3_000, &EvaluatorSettings::default(), 1);
        assert_eq!(snapshot.topics.len(), 1);
        assert_eq!(
            snapshot.topics[0].high_water,
            vec![Some(120), Some(60), None]
        );
        assert_eq!(snapshot.topics[0].log_start, vec![Some(20), Some(5), None]);
    }

    #[test]
    fn verdicts_respect_the_group_filter() {
        use crate::status::GroupStatus;
        let settings = ModelSettings {
            groups: NameFilter::new(None, Some("^skip")).unwrap(),
            ..ModelSettings::default()
        };
        let mut model = LagModel::new(settings);
        let given = verdict("c", "skip-me", GroupStatus::Ok);
        assert_eq!(
            model.apply(&verdict_event(&given), 1_000),
            Applied::Ignored(IgnoreReason::GroupFiltered {
                cluster: "c".into(),
                group: "skip-me".into(),
            })
        );
        assert!(model.groups("c").is_empty());
    }
}
