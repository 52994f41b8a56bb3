//! What the Admin API calls return: group listings and descriptions, members, committed
//! offsets, partition offsets.

use super::AdminError;

/// The state of a consumer group.
///
/// librdkafka 2.12 knows the classic states only; a KIP-848 (`consumer` protocol) group in
/// state `Assigning` or `Reconciling` is reported as [`GroupState::Unknown`] by the Admin
/// API. [`GroupState::from_name`] understands all names (e.g. from other sources).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GroupState {
    /// Unknown to librdkafka (also: KIP-848 `Assigning` / `Reconciling`).
    Unknown,
    /// Classic: members are (re)joining.
    PreparingRebalance,
    /// Classic: waiting for the leader's assignment.
    CompletingRebalance,
    /// Members are consuming with a settled assignment.
    Stable,
    /// The group is being removed (also what a describe of a missing group may show).
    Dead,
    /// No members; offsets may still be committed.
    Empty,
    /// KIP-848: a new target assignment is being computed.
    Assigning,
    /// KIP-848: members are moving to the target assignment.
    Reconciling,
}

impl GroupState {
    /// Maps librdkafka's `rd_kafka_consumer_group_state_t`.
    pub fn from_code(code: i32) -> GroupState {
        match code {
            1 => GroupState::PreparingRebalance,
            2 => GroupState::CompletingRebalance,
            3 => GroupState::Stable,
            4 => GroupState::Dead,
            5 => GroupState::Empty,
            _ => GroupState::Unknown,
        }
    }

    /// Maps a state name as Kafka spells it (case-insensitive); unknown names give
    /// [`GroupState::Unknown`].
    pub fn from_name(name: &str) -> GroupState {
        [
            GroupState::PreparingRebalance,
            GroupState::CompletingRebalance,
            GroupState::Stable,
            GroupState::Dead,
            GroupState::Empty,
            GroupState::Assigning,
            GroupState::Reconciling,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(name))
        .unwrap_or(GroupState::Unknown)
    }

    /// The name as Kafka spells it, e.g. `PreparingRebalance`.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Unknown => "Unknown",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
            GroupState::Empty => "Empty",
            GroupState::Assigning => "Assigning",
            GroupState::Reconciling => "Reconciling",
        }
    }
}

impl std::fmt::Display for GroupState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The protocol of a consumer group (librdkafka's `rd_kafka_consumer_group_type_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GroupKind {
    /// The classic protocol (JoinGroup / SyncGroup), including simple (assign-only) groups.
    Classic,
    /// The KIP-848 protocol (`group.protocol=consumer`).
    Consumer,
    /// Not known: an older broker that does not tell (ListGroups before v5), or a group
    /// type librdkafka does not know.
    Unknown,
}

impl GroupKind {
    /// Maps librdkafka's `rd_kafka_consumer_group_type_t`.
    pub fn from_code(code: i32) -> GroupKind {
        match code {
            1 => GroupKind::Consumer,
            2 => GroupKind::Classic,
            _ => GroupKind::Unknown,
        }
    }

    /// `classic`, `consumer` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Classic => "classic",
            GroupKind::Consumer => "consumer",
            GroupKind::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for GroupKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One group of [`AdminConnection::list_groups`](super::AdminConnection::list_groups).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupListing {
    /// Group id.
    pub group: String,
    /// State.
    pub state: GroupState,
    /// Protocol.
    pub kind: GroupKind,
    /// Whether the group has no protocol type: a "simple" group that only commits offsets
    /// (assign-only consumers, tools).
    pub simple: bool,
}

/// One group of [`AdminConnection::describe_groups`](super::AdminConnection::describe_groups).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupDescription {
    /// Group id.
    pub group: String,
    /// State.
    pub state: GroupState,
    /// Protocol.
    pub kind: GroupKind,
    /// Whether it is a simple (assign-only) group.
    pub simple: bool,
    /// Broker id of the group coordinator, if known.
    pub coordinator: Option<i32>,
    /// Current members.
    pub members: Vec<GroupMember>,
    /// Why this group could not be described (the other fields are then defaults).
    pub error: Option<AdminError>,
}

/// A member of a described group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMember {
    /// Member id given by the coordinator (for KIP-848 groups: chosen by the client).
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub instance_id: Option<String>,
    /// `client.id` of the member's client.
    pub client_id: String,
    /// Host the member connects from, as the broker sees it (e.g. `/127.0.0.1`).
    pub host: String,
    /// Assigned partitions, `(topic, partition)`.
    pub assignment: Vec<(String, i32)>,
}

/// A committed offset of [`AdminConnection::committed_offsets`](super::AdminConnection::committed_offsets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedOffset {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The committed offset (the next message to consume); `None` when nothing is committed.
    pub offset: Option<i64>,
    /// The broker's error for this partition, if any.
    pub error: Option<AdminError>,
}

/// Which offset [`AdminConnection::list_offsets`](super::AdminConnection::list_offsets) asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OffsetSpec {
    /// The log start offset (first offset still in the log).
    Earliest,
    /// The log end offset, i.e. the high watermark (isolation level read_uncommitted).
    Latest,
}

/// A partition offset of [`AdminConnection::list_offsets`](super::AdminConnection::list_offsets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionOffset {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The offset, or this partition's error (e.g. `UNKNOWN_TOPIC_OR_PARTITION`).
    pub offset: Result<i64, AdminError>,
}
