//! What the model does with an event it cannot store, and why: [`Applied`], [`IgnoreReason`]
//! and its kind for counting ([`IgnoreKind`]).

use crate::TimestampMs;

/// What [`LagModel::apply`](super::LagModel::apply) did with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The event changed the model (for a broker-offset or membership event: at least part of
    /// it did).
    Stored,
    /// The event was dropped, and why.
    Ignored(IgnoreReason),
}

/// Why an event was dropped. The message names the cluster, group, topic and partition
/// concerned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IgnoreReason {
    /// Nothing is known about the cluster yet (no broker offsets, no health report).
    #[error("cluster {cluster:?} is unknown: no broker offsets received for it yet")]
    UnknownCluster {
        /// Cluster name.
        cluster: String,
    },
    /// A commit older than `expire-group`.
    #[error(
        "commit of group {group:?} on {topic}/{partition} in cluster {cluster:?} at {timestamp_ms} ms is older than expire-group allows (cutoff {cutoff_ms} ms)"
    )]
    OldCommit {
        /// Cluster name.
        cluster: String,
        /// Group name.
        group: String,
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// Commit timestamp.
        timestamp_ms: TimestampMs,
        /// Oldest accepted timestamp.
        cutoff_ms: TimestampMs,
    },
    /// The group allow/deny list rejects the group.
    #[error("group {group:?} of cluster {cluster:?} is excluded by the group allow/deny list")]
    GroupFiltered {
        /// Cluster name.
        cluster: String,
        /// Group name.
        group: String,
    },
    /// The topic allow/deny list rejects the topic.
    #[error("topic {topic:?} of cluster {cluster:?} is excluded by the topic allow/deny list")]
    TopicFiltered {
        /// Cluster name.
        cluster: String,
        /// Topic.
        topic: String,
    },
    /// No broker offsets were received for the topic (or it was deleted).
    #[error("topic {topic:?} of cluster {cluster:?} is unknown: no broker offsets received for it")]
    UnknownTopic {
        /// Cluster name.
        cluster: String,
        /// Topic.
        topic: String,
    },
    /// The partition is negative or beyond the partition count known from the brokers.
    #[error(
        "partition {partition} of topic {topic:?} in cluster {cluster:?} is out of range: the brokers report {partition_count} partitions"
    )]
    PartitionOutOfRange {
        /// Cluster name.
        cluster: String,
        /// Topic.
        topic: String,
        /// The partition number received.
        partition: i32,
        /// Partitions known from broker offsets.
        partition_count: usize,
    },
    /// The partition exists but no broker offset was sampled for it yet.
    #[error("partition {topic}/{partition} of cluster {cluster:?} has no broker offset sample yet")]
    NoBrokerSample {
        /// Cluster name.
        cluster: String,
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
    },
    /// An out-of-order commit older than every stored one while the ring is full.
    #[error(
        "commit of group {group:?} on {topic}/{partition} in cluster {cluster:?} with order {order} is a backfill commit: the window is full and its oldest commit has order {oldest_order}"
    )]
    BackfillFull {
        /// Cluster name.
        cluster: String,
        /// Group name.
        group: String,
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// The commit's order.
        order: i64,
        /// Order of the oldest stored commit.
        oldest_order: i64,
    },
    /// A commit with the same order is already stored.
    #[error(
        "commit of group {group:?} on {topic}/{partition} in cluster {cluster:?} with order {order} is already stored"
    )]
    DuplicateOrder {
        /// Cluster name.
        cluster: String,
        /// Group name.
        group: String,
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// The duplicated order.
        order: i64,
    },
    /// A membership or deletion event for a group the model does not hold.
    #[error("group {group:?} of cluster {cluster:?} is unknown")]
    UnknownGroup {
        /// Cluster name.
        cluster: String,
        /// Group name.
        group: String,
    },
}

/// The kind of an [`IgnoreReason`], without its details (for counting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum IgnoreKind {
    /// [`IgnoreReason::UnknownCluster`].
    UnknownCluster,
    /// [`IgnoreReason::OldCommit`].
    OldCommit,
    /// [`IgnoreReason::GroupFiltered`].
    GroupFiltered,
    /// [`IgnoreReason::TopicFiltered`].
    TopicFiltered,
    /// [`IgnoreReason::UnknownTopic`].
    UnknownTopic,
    /// [`IgnoreReason::PartitionOutOfRange`].
    PartitionOutOfRange,
    /// [`IgnoreReason::NoBrokerSample`].
    NoBrokerSample,
    /// [`IgnoreReason::BackfillFull`].
    BackfillFull,
    /// [`IgnoreReason::DuplicateOrder`].
    DuplicateOrder,
    /// [`IgnoreReason::UnknownGroup`].
    UnknownGroup,
}

impl IgnoreKind {
    /// A short snake_case name, for metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            IgnoreKind::UnknownCluster => "unknown_cluster",
            IgnoreKind::OldCommit => "old_commit",
            IgnoreKind::GroupFiltered => "group_filtered",
            IgnoreKind::TopicFiltered => "topic_filtered",
            IgnoreKind::UnknownTopic => "unknown_topic",
            IgnoreKind::PartitionOutOfRange => "partition_out_of_range",
            IgnoreKind::NoBrokerSample => "no_broker_sample",
            IgnoreKind::BackfillFull => "backfill_full",
            IgnoreKind::DuplicateOrder => "duplicate_order",
            IgnoreKind::UnknownGroup => "unknown_group",
        }
    }
}

impl IgnoreReason {
    /// The kind of reason.
    pub fn kind(&self) -> IgnoreKind {
        match self {
            IgnoreReason::UnknownCluster { .. } => IgnoreKind::UnknownCluster,
            IgnoreReason::OldCommit { .. } => IgnoreKind::OldCommit,
            IgnoreReason::GroupFiltered { .. } => IgnoreKind::GroupFiltered,
            IgnoreReason::TopicFiltered { .. } => IgnoreKind::TopicFiltered,
            IgnoreReason::UnknownTopic { .. } => IgnoreKind::UnknownTopic,
            IgnoreReason::PartitionOutOfRange { .. } => IgnoreKind::PartitionOutOfRange,
            IgnoreReason::NoBrokerSample { .. } => IgnoreKind::NoBrokerSample,
            IgnoreReason::BackfillFull { .. } => IgnoreKind::BackfillFull,
            IgnoreReason::DuplicateOrder { .. } => IgnoreKind::DuplicateOrder,
            IgnoreReason::UnknownGroup { .. } => IgnoreKind::UnknownGroup,
        }
    }
}
