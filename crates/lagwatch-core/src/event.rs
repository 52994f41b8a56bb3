//! Events: what an offset source tells the model.
//!
//! Every source (Kafka Admin API polling, `__consumer_offsets` streaming, ZooKeeper, a Burrow
//! REST API, the demo simulator) reduces what it reads to these few shapes.

use crate::TimestampMs;
use crate::report::GroupReport;
use serde::{Deserialize, Serialize};

/// The newest known offsets of one partition on the brokers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerOffset {
    /// Partition number.
    pub partition: i32,
    /// Log end offset (high-water mark): the offset the next produced message will get.
    pub high_water: i64,
    /// Log start offset (the oldest offset still on disk), when the source knows it.
    pub log_start: Option<i64>,
}

/// One assigned partition of a group member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberAssignment {
    /// Topic of the assigned partition.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
    /// Host of the consumer that owns it (Burrow's `owner`, e.g. `/10.0.0.5`).
    pub owner: String,
    /// Client id of the consumer that owns it.
    pub client_id: String,
}

/// One partition of a share group, as a source read it ([`Event::ShareGroupOffsets`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharePartitionOffset {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
    /// The share-partition start offset: every record below it is done.
    pub start_offset: i64,
    /// The broker's lag of the partition (KIP-1226), when it reports one; `None` makes the
    /// model use its newest high-water mark minus `start_offset`.
    pub lag: Option<i64>,
}

/// Something a source observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A fresh sample of the broker offsets of (some of) a topic's partitions.
    BrokerOffsets {
        /// Cluster name.
        cluster: String,
        /// Topic name.
        topic: String,
        /// Number of partitions the topic has in metadata (may exceed `offsets.len()` when a
        /// partition has no leader).
        partition_count: u32,
        /// The sampled offsets.
        offsets: Vec<BrokerOffset>,
        /// When the sample was taken (the source's clock).
        observed_ms: TimestampMs,
    },
    /// A consumer group committed an offset.
    Commit {
        /// Cluster name.
        cluster: String,
        /// Consumer group.
        group: String,
        /// Topic.
        topic: String,
        /// Partition number.
        partition: i32,
        /// The committed offset (the next message the group will read).
        offset: i64,
        /// Commit time from the commit record (ms).
        timestamp_ms: TimestampMs,
        /// Position of the commit in the source's own order (the record offset in
        /// `__consumer_offsets`, a znode mzxid); `None` when the source has no such order,
        /// in which case commits are taken in arrival order.
        order: Option<i64>,
    },
    /// A source that polls committed offsets (rather than streaming them) read every
    /// committed offset of a group at `read_ms`, whether or not any changed since its last
    /// read (an unchanged offset sends no [`Event::Commit`]). Sent after the read's commits.
    ///
    /// The group's newest commits are then known to be current as of `read_ms` and not
    /// later, so its time lag is estimated as of `read_ms` rather than as of evaluation time
    /// (see [`crate::time_lag`]). Until a group receives one, and again after any newer
    /// commit is stored without one, its newest commits count as current at evaluation time,
    /// which is right for streamed commits (the offsets topic).
    CommitsRead {
        /// Cluster name.
        cluster: String,
        /// Consumer group.
        group: String,
        /// When the offsets were read (the source's clock, ms).
        read_ms: TimestampMs,
    },
    /// The current members of a group and what each owns. An empty list means the group has
    /// no active members (owners are cleared).
    Members {
        /// Cluster name.
        cluster: String,
        /// Consumer group.
        group: String,
        /// Every assigned partition with its owner.
        assignments: Vec<MemberAssignment>,
    },
    /// A consumer group was deleted (or no longer exists).
    GroupDeleted {
        /// Cluster name.
        cluster: String,
        /// Consumer group.
        group: String,
    },
    /// One read of a share group (KIP-932): every partition it consumes with its start offset
    /// and lag, and what its members are assigned. Each read is one sample of the group's
    /// window (the share-group rules, docs/evaluator.md §10); a partition left out is no
    /// longer consumed.
    ShareGroupOffsets {
        /// Cluster name.
        cluster: String,
        /// Share group.
        group: String,
        /// Start offset and lag per partition.
        partitions: Vec<SharePartitionOffset>,
        /// The members' assignments (several members may share a partition).
        assignments: Vec<MemberAssignment>,
        /// When the group was read (source clock, ms).
        observed_ms: TimestampMs,
    },
    /// A group's committed offset of one partition was deleted: the group was deleted, the
    /// offset expired (`offsets.retention.minutes`), or `kafka-consumer-groups
    /// --delete-offsets` removed it. Kafka 3.x deletes a group that only ever committed
    /// offsets with such deletions alone, one per partition, and no group deletion.
    OffsetDeleted {
        /// Cluster name.
        cluster: String,
        /// Consumer group.
        group: String,
        /// Topic name.
        topic: String,
        /// Partition number.
        partition: i32,
    },
    /// Another instance took over the groups whose commits live in these partitions of the
    /// offsets topic (several instances sharing a cluster, `coordination`): they leave this
    /// instance's model as if deleted, without being deleted in Kafka.
    GroupsReleased {
        /// Cluster name.
        cluster: String,
        /// The offsets-topic partitions no longer owned.
        offsets_partitions: Vec<u32>,
        /// The offsets topic's partition count groups are divided by.
        partition_count: u32,
    },
    /// This instance took over the groups whose commits live in these partitions of the
    /// offsets topic (several instances sharing a cluster, `coordination`). The model needs
    /// nothing from it (the source reads those groups and they warm up); the runtime hands
    /// the alerts their previous owner left open to the rule engine.
    GroupsAcquired {
        /// Cluster name.
        cluster: String,
        /// The offsets-topic partitions newly owned.
        offsets_partitions: Vec<u32>,
        /// The offsets topic's partition count groups are divided by.
        partition_count: u32,
    },
    /// A topic was deleted from the cluster.
    TopicDeleted {
        /// Cluster name.
        cluster: String,
        /// Topic name.
        topic: String,
    },
    /// The source's view of a cluster became stale (it could not read) or fresh again.
    ///
    /// While a cluster is stale the model keeps its data but reports it as stale instead of
    /// evaluating STOP / STALL from the absence of news.
    SourceHealth {
        /// Cluster name.
        cluster: String,
        /// `true` when the source reads the cluster normally.
        healthy: bool,
        /// Human-readable reason when unhealthy.
        reason: Option<String>,
    },
    /// An external evaluator's verdict on a group (e.g. Burrow's `/lag` answer), reported
    /// unchanged instead of the model's own evaluation of that group.
    ///
    /// A verdict with status NOTFOUND removes a stored verdict; [`Event::GroupDeleted`]
    /// removes it too.
    GroupVerdict {
        /// Cluster name.
        cluster: String,
        /// Consumer group.
        group: String,
        /// The verdict as the external evaluator gave it (boxed: it is much larger than the
        /// other events).
        report: Box<GroupReport>,
    },
}

impl Event {
    /// The cluster this event is about.
    pub fn cluster(&self) -> &str {
        match self {
            Event::BrokerOffsets { cluster, .. }
            | Event::Commit { cluster, .. }
            | Event::CommitsRead { cluster, .. }
            | Event::Members { cluster, .. }
            | Event::GroupDeleted { cluster, .. }
            | Event::OffsetDeleted { cluster, .. }
            | Event::GroupsReleased { cluster, .. }
            | Event::GroupsAcquired { cluster, .. }
            | Event::TopicDeleted { cluster, .. }
            | Event::SourceHealth { cluster, .. }
            | Event::ShareGroupOffsets { cluster, .. }
            | Event::GroupVerdict { cluster, .. } => cluster,
        }
    }
}
