//! Pure decoder of `__consumer_offsets` records: bytes in, [`Record`] out.
//!
//! No I/O, no clock, no client library: [`decode`] takes the raw key and value of one record
//! and either returns what it says or a [`DecodeError`] explaining what was wrong and where.
//! It never panics, never indexes out of bounds and never preallocates more than the bytes
//! that are actually left in the input, whatever a length field claims.
//!
//! The formats follow the group coordinator's message definitions of Kafka 4.4
//! (`kafka-group-coordinator-4.4.0.jar`, `common/message/*.json`) and the consumer protocol
//! of `kafka-clients-4.4.0.jar` (`ConsumerProtocolAssignment.json`); see
//! `docs/offsets-topic.md` for the table of versions.
//!
//! Bytes after the last field the schema defines are ignored, as Kafka's own readers do.

use std::fmt;
use std::sync::Arc;

/// Most members one classic group-metadata record may list. Kafka's own default
/// (`group.max.size`) is unlimited; a consumer group of more than a few thousand members is
/// not seen in practice.
pub const MAX_MEMBERS: usize = 10_000;

/// Most assigned partitions, counted over all members, one group-metadata record (or one
/// member's assignment bytes decoded on their own) may list.
pub const MAX_ASSIGNED_PARTITIONS: usize = 100_000;

/// Most bytes what is built from one group-metadata record may take: the decoded record and
/// the owners the source makes of it (one topic name, host and client id per assigned
/// partition). Counted as the strings' lengths, [`ASSIGNED_PARTITION_BYTES`] per assigned
/// partition and the size of every member; see `docs/offsets-topic.md` ("Memory bound").
pub const MAX_DECODED_BYTES: usize = 16 << 20;

/// What one assigned partition is counted as in [`MAX_DECODED_BYTES`], besides the names it
/// carries: its `(Arc<str>, i32)` in [`Member::assignment`] and the owner entry built from it.
pub const ASSIGNED_PARTITION_BYTES: usize = 112;

/// Which half of a `__consumer_offsets` record a [`DecodeError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// The record key.
    Key,
    /// The record value.
    Value,
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::Key => "key",
            Section::Value => "value",
        })
    }
}

/// What exactly was wrong with the bytes; part of a [`DecodeError`].
///
/// Every `at` is a byte offset from the start of the key or value (see
/// [`DecodeError::section`]) where the field that could not be read starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended in the middle of a field.
    #[error("truncated at byte {at} reading {field}")]
    Truncated {
        /// Offset of the field.
        at: usize,
        /// Name of the field.
        field: &'static str,
    },
    /// A length or count field holds a value no encoder writes (e.g. `-2`).
    #[error("invalid length {length} at byte {at} reading {field}")]
    InvalidLength {
        /// Offset of the length field.
        at: usize,
        /// Name of the field.
        field: &'static str,
        /// The length as read.
        length: i64,
    },
    /// A null where the schema does not allow one.
    #[error("null at byte {at} reading {field}, which is not nullable")]
    UnexpectedNull {
        /// Offset of the field.
        at: usize,
        /// Name of the field.
        field: &'static str,
    },
    /// A string that is not valid UTF-8.
    #[error("invalid UTF-8 at byte {at} reading {field}")]
    InvalidUtf8 {
        /// Offset of the string's length field.
        at: usize,
        /// Name of the field.
        field: &'static str,
    },
    /// An unsigned varint longer than 5 bytes or larger than `u32::MAX`.
    #[error("invalid varint at byte {at} reading {field}")]
    InvalidVarint {
        /// Offset of the varint.
        at: usize,
        /// Name of the field.
        field: &'static str,
    },
    /// A negative key version: not a coordinator record at all.
    #[error("key version {version} not supported")]
    UnsupportedKeyVersion {
        /// The key version as read.
        version: i16,
    },
    /// The record would decode into more than a cap allows (see [`MAX_MEMBERS`],
    /// [`MAX_ASSIGNED_PARTITIONS`], [`MAX_DECODED_BYTES`]); it is refused whole.
    #[error("{what} over the limit of {limit}{}", InGroup(group.as_deref()))]
    TooLarge {
        /// The group the record is about (`None` for assignment bytes decoded on their own).
        group: Option<String>,
        /// What is over the cap: `members`, `assigned partitions` or `decoded bytes`.
        what: &'static str,
        /// The cap.
        limit: usize,
    },
    /// A value version this decoder does not know for the record type.
    #[error("value version {version} of {record} not supported")]
    UnsupportedValueVersion {
        /// The record type, e.g. `offset commit`.
        record: &'static str,
        /// The value version as read.
        version: i16,
    },
}

/// Why a `__consumer_offsets` record could not be decoded.
///
/// Displays as e.g. `cannot decode value of __consumer_offsets record with key version 1:
/// value version 9 of offset commit not supported`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot decode {section} of __consumer_offsets record{}: {kind}",
    KeyVersionSuffix(*.key_version)
)]
pub struct DecodeError {
    key_version: Option<i16>,
    section: Section,
    #[source]
    kind: DecodeErrorKind,
}

struct InGroup<'a>(Option<&'a str>);

impl fmt::Display for InGroup<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(group) => write!(f, " in group {group:?}"),
            None => Ok(()),
        }
    }
}

struct KeyVersionSuffix(Option<i16>);

impl fmt::Display for KeyVersionSuffix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(version) => write!(f, " with key version {version}"),
            None => Ok(()),
        }
    }
}

impl DecodeError {
    /// The key version (record type) of the record, `None` if the key was too short to hold
    /// one.
    pub fn key_version(&self) -> Option<i16> {
        self.key_version
    }

    /// Whether the key or the value was malformed.
    pub fn section(&self) -> Section {
        self.section
    }

    /// What was wrong, and where.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.kind
    }
}

/// One decoded `__consumer_offsets` record.
///
/// Keys 0–2 are the classic records every Kafka version writes; keys 3 and above are the
/// coordinator records of Kafka 3.x/4.x (KIP-848 consumer groups, share groups, streams
/// groups). Every record type with a non-negative key version is recognised: the ones not
/// decoded in detail come back as [`Record::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Record {
    /// A committed offset (key version 0 or 1).
    OffsetCommit(OffsetCommit),
    /// A deleted or expired committed offset: key version 0 or 1 with a null value.
    OffsetTombstone {
        /// Consumer group id.
        group: String,
        /// Topic name.
        topic: String,
        /// Partition number.
        partition: i32,
    },
    /// The state of a classic group (key version 2), written after every rebalance.
    GroupMetadata(GroupMetadata),
    /// A deleted or expired classic group (key version 2 with a null value). Its committed
    /// offsets get their own tombstones.
    GroupTombstone {
        /// Group id.
        group: String,
    },
    /// A KIP-848 consumer group exists with this epoch (key version 3,
    /// `ConsumerGroupMetadata`).
    ConsumerGroup {
        /// Group id.
        group: String,
        /// The group epoch.
        epoch: i32,
    },
    /// A deleted KIP-848 consumer group (key version 3 with a null value).
    ConsumerGroupTombstone {
        /// Group id.
        group: String,
    },
    /// A member of a KIP-848 consumer group (key version 5, `ConsumerGroupMemberMetadata`).
    ConsumerGroupMember(ConsumerGroupMember),
    /// A member that left a KIP-848 consumer group (key version 5 with a null value).
    ConsumerGroupMemberTombstone {
        /// Group id.
        group: String,
        /// Member id.
        member_id: String,
    },
    /// The current assignment of a member of a KIP-848 consumer group (key version 8,
    /// `ConsumerGroupCurrentMemberAssignment`).
    ConsumerGroupAssignment(ConsumerGroupAssignment),
    /// The current assignment of a member that left a KIP-848 consumer group was removed
    /// (key version 8 with a null value).
    ConsumerGroupAssignmentTombstone {
        /// Group id.
        group: String,
        /// Member id.
        member_id: String,
    },
    /// A record recognised but not decoded further: the other KIP-848 records (4, 6, 7, 16),
    /// share group (9–15) and streams group (17–23) records, and any newer record type.
    Other {
        /// The key version, i.e. the record type.
        key_version: i16,
        /// The group id the key starts with; `None` only for a key version newer than this
        /// decoder knows whose key does not start with a readable string.
        group: Option<String>,
        /// Whether the value was null.
        tombstone: bool,
    },
}

impl Record {
    /// The group the record is about, if known.
    pub fn group(&self) -> Option<&str> {
        match self {
            Record::OffsetCommit(commit) => Some(&commit.group),
            Record::GroupMetadata(metadata) => Some(&metadata.group),
            Record::ConsumerGroupMember(member) => Some(&member.group),
            Record::ConsumerGroupAssignment(assignment) => Some(&assignment.group),
            Record::OffsetTombstone { group, .. }
            | Record::GroupTombstone { group }
            | Record::ConsumerGroup { group, .. }
            | Record::ConsumerGroupTombstone { group }
            | Record::ConsumerGroupMemberTombstone { group, .. }
            | Record::ConsumerGroupAssignmentTombstone { group, .. } => Some(group),
            Record::Other { group, .. } => group.as_deref(),
        }
    }
}

/// A committed offset: key version 0 or 1 with `OffsetCommitValue` versions 0–4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommit {
    /// Consumer group id.
    pub group: String,
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
    /// The committed offset: the next record the group will consume.
    pub offset: i64,
    /// Leader epoch of the last consumed record (value version 3 and later, `None` when the
    /// client did not send one, i.e. `-1`).
    pub leader_epoch: Option<i32>,
    /// Metadata string the client committed with the offset (often empty).
    pub metadata: String,
    /// When the broker wrote the commit, in milliseconds since the Unix epoch.
    pub commit_timestamp_ms: i64,
    /// Explicit expiry time (value version 1 only; `None` otherwise or when `-1`).
    pub expire_timestamp_ms: Option<i64>,
    /// Topic id (tagged field 0 of value version 4), if the broker wrote it.
    pub topic_id: Option<[u8; 16]>,
    /// The value version the broker wrote (0–4).
    pub value_version: i16,
}

/// The state of a classic group: key version 2 with `GroupMetadataValue` versions 0–4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMetadata {
    /// Group id.
    pub group: String,
    /// Protocol type, `consumer` for consumer groups (`connect` for Kafka Connect, ...);
    /// empty for a group that only ever committed offsets.
    pub protocol_type: String,
    /// Generation id.
    pub generation: i32,
    /// The selected protocol, e.g. the assignor name `range`.
    pub protocol: Option<String>,
    /// Member id of the leader.
    pub leader: Option<String>,
    /// Time of the last state change, in milliseconds since the Unix epoch (value version 2
    /// and later; `None` otherwise or when `-1`).
    pub state_timestamp_ms: Option<i64>,
    /// The members.
    pub members: Vec<Member>,
    /// The value version the broker wrote (0–4).
    pub value_version: i16,
}

/// A member of a classic group, as stored in [`GroupMetadata`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Member id given by the coordinator.
    pub member_id: String,
    /// Static membership id (value version 3 and later).
    pub group_instance_id: Option<String>,
    /// `client.id` of the member's client.
    pub client_id: String,
    /// Host the member connects from, e.g. `/127.0.0.1`.
    pub client_host: String,
    /// Rebalance timeout (value version 1 and later).
    pub rebalance_timeout_ms: Option<i32>,
    /// Session timeout.
    pub session_timeout_ms: i32,
    /// Assigned `(topic, partition)` pairs in the order the leader encoded them; the
    /// partitions of one topic share its name. Decoded only for protocol type `consumer`;
    /// empty for other protocol types and for members without an assignment yet (empty
    /// assignment bytes).
    pub assignment: Vec<(Arc<str>, i32)>,
}

/// A member of a KIP-848 consumer group: key version 5 with
/// `ConsumerGroupMemberMetadataValue` version 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupMember {
    /// Group id.
    pub group: String,
    /// Member id.
    pub member_id: String,
    /// Static membership id.
    pub instance_id: Option<String>,
    /// Rack id.
    pub rack_id: Option<String>,
    /// `client.id` of the member's client.
    pub client_id: String,
    /// Host the member connects from, e.g. `/127.0.0.1`.
    pub client_host: String,
    /// Subscribed topic names.
    pub subscribed_topic_names: Vec<String>,
    /// Subscribed topic regular expression.
    pub subscribed_topic_regex: Option<String>,
    /// Rebalance timeout.
    pub rebalance_timeout_ms: i32,
    /// Server-side assignor requested by the member.
    pub server_assignor: Option<String>,
    /// Whether the member speaks the classic protocol to a consumer group (tagged field
    /// `ClassicMemberMetadata` present and not null).
    pub classic_protocol: bool,
}

/// Current assignment of a member of a KIP-848 consumer group: key version 8 with
/// `ConsumerGroupCurrentMemberAssignmentValue` version 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupAssignment {
    /// Group id.
    pub group: String,
    /// Member id.
    pub member_id: String,
    /// Current member epoch.
    pub member_epoch: i32,
    /// Previous member epoch.
    pub previous_member_epoch: i32,
    /// Member state as the coordinator encodes it (Kafka's `MemberState` ids).
    pub state: i8,
    /// Partitions assigned to (or owned by) the member.
    pub assigned: Vec<TopicIdPartitions>,
    /// Partitions the member must revoke.
    pub pending_revocation: Vec<TopicIdPartitions>,
}

/// Partitions of one topic, named by topic id (KIP-848 records do not carry topic names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicIdPartitions {
    /// Topic id (UUID bytes, big-endian as on the wire).
    pub topic_id: [u8; 16],
    /// Partition numbers.
    pub partitions: Vec<i32>,
}

/// Highest key version whose key Kafka 4.4 defines (`StreamsGroupTopologyKey`); every key
/// from 3 up to this one starts with the group id.
const LAST_KNOWN_KEY_VERSION: i16 = 23;

/// Decodes one `__consumer_offsets` record from its raw `key` and `value` (`None` for a
/// tombstone).
///
/// Control records and aborted transactional commits must be filtered by the consumer
/// (`isolation.level=read_committed`); they are not distinguishable here.
///
/// # Errors
///
/// A [`DecodeError`] when the key or value is truncated or malformed, a string is not UTF-8,
/// the key version is negative, or the value version is unknown for a record type decoded
/// in detail. Unknown record types (key versions) are not errors: see [`Record::Other`].
pub fn decode(key: &[u8], value: Option<&[u8]>) -> Result<Record, DecodeError> {
    let mut k = Reader::new(key);
    let key_version = k.i16("key version").map_err(|kind| DecodeError {
        key_version: None,
        section: Section::Key,
        kind,
    })?;
    let key_error = |kind| DecodeError {
        key_version: Some(key_version),
        section: Section::Key,
        kind,
    };
    let value_error = |kind| DecodeError {
        key_version: Some(key_version),
        section: Section::Value,
        kind,
    };
    match key_version {
        0 | 1 => {
            let group = k.string(false, "group").map_err(key_error)?;
            let topic = k.string(false, "topic").map_err(key_error)?;
            let partition = k.i32("partition").map_err(key_error)?;
            match value {
                None => Ok(Record::OffsetTombstone {
                    group,
                    topic,
                    partition,
                }),
                Some(value) => offset_commit_value(group, topic, partition, value)
                    .map(Record::OffsetCommit)
                    .map_err(value_error),
            }
        }
        2 => {
            let group = k.string(false, "group").map_err(key_error)?;
            match value {
                None => Ok(Record::GroupTombstone { group }),
                Some(value) => group_metadata_value(group, value)
                    .map(Record::GroupMetadata)
                    .map_err(value_error),
            }
        }
        3 => {
            let group = k.string(false, "group id").map_err(key_error)?;
            match value {
                None => Ok(Record::ConsumerGroupTombstone { group }),
                Some(value) => {
                    let epoch = consumer_group_metadata_value(value).map_err(value_error)?;
                    Ok(Record::ConsumerGroup { group, epoch })
                }
            }
        }
        5 => {
            let group = k.string(false, "group id").map_err(key_error)?;
            let member_id = k.string(false, "member id").map_err(key_error)?;
            match value {
                None => Ok(Record::ConsumerGroupMemberTombstone { group, member_id }),
                Some(value) => consumer_group_member_value(group, member_id, value)
                    .map(Record::ConsumerGroupMember)
                    .map_err(value_error),
            }
        }
        8 => {
            let group = k.string(false, "group id").map_err(key_error)?;
            let member_id = k.string(false, "member id").map_err(key_error)?;
            match value {
                None => Ok(Record::ConsumerGroupAssignmentTombstone { group, member_id }),
                Some(value) => consumer_group_assignment_value(group, member_id, value)
                    .map(Record::ConsumerGroupAssignment)
                    .map_err(value_error),
            }
        }
        version if version < 0 => Err(key_error(DecodeErrorKind::UnsupportedKeyVersion {
            version,
        })),
        version if version <= LAST_KNOWN_KEY_VERSION => Ok(Record::Other {
            key_version: version,
            group: Some(k.string(false, "group id").map_err(key_error)?),
            tombstone: value.is_none(),
        }),
        version => Ok(Record::Other {
            key_version: version,
            group: k.string(false, "group id").ok(),
            tombstone: value.is_none(),
        }),
    }
}

type Result<T, E = DecodeErrorKind> = std::result::Result<T, E>;

fn offset_commit_value(
    group: String,
    topic: String,
    partition: i32,
    value: &[u8],
) -> Result<OffsetCommit> {
    let mut r = Reader::new(value);
    let version = r.i16("value version")?;
    if !(0..=4).contains(&version) {
        return Err(DecodeErrorKind::UnsupportedValueVersion {
            record: "offset commit",
            version,
        });
    }
    let flexible = version >= 4;
    let offset = r.i64("offset")?;
    let leader_epoch = if version >= 3 {
        Some(r.i32("leader epoch")?).filter(|&epoch| epoch != -1)
    } else {
        None
    };
    let metadata = r.string(flexible, "metadata")?;
    let commit_timestamp_ms = r.i64("commit timestamp")?;
    let expire_timestamp_ms = if version == 1 {
        Some(r.i64("expire timestamp")?).filter(|&ts| ts != -1)
    } else {
        None
    };
    let mut topic_id = None;
    if flexible {
        r.tagged_fields("tagged fields", |tag, mut data| {
            if tag == 0 {
                topic_id = Some(data.uuid("topic id")?);
            }
            Ok(())
        })?;
    }
    Ok(OffsetCommit {
        group,
        topic,
        partition,
        offset,
        leader_epoch,
        metadata,
        commit_timestamp_ms,
        expire_timestamp_ms,
        topic_id,
        value_version: version,
    })
}

fn group_metadata_value(group: String, value: &[u8]) -> Result<GroupMetadata> {
    let mut r = Reader::new(value);
    let version = r.i16("value version")?;
    if !(0..=4).contains(&version) {
        return Err(DecodeErrorKind::UnsupportedValueVersion {
            record: "group metadata",
            version,
        });
    }
    let flexible = version >= 4;
    let protocol_type = r.string(flexible, "protocol type")?;
    let generation = r.i32("generation")?;
    let protocol = r.nullable_string(flexible, "protocol")?;
    let leader = r.nullable_string(flexible, "leader")?;
    let state_timestamp_ms = if version >= 2 {
        Some(r.i64("current state timestamp")?).filter(|&ts| ts != -1)
    } else {
        None
    };
    let count = r.array_len(flexible, "members")?;
    let mut budget = Budget::new(&group);
    // Smallest possible member: four empty strings, session timeout, two empty byte arrays.
    let mut members = Vec::with_capacity(count.min(r.remaining() / 8).min(MAX_MEMBERS));
    for index in 0..count {
        // A count the bytes cannot hold is reported as the truncation it is; a record that
        // really lists more members than the cap is refused at the first one over it.
        if index == MAX_MEMBERS {
            return Err(budget.refuse("members", MAX_MEMBERS));
        }
        let member_id = r.string(flexible, "member id")?;
        let group_instance_id = if version >= 3 {
            r.nullable_string(flexible, "group instance id")?
        } else {
            None
        };
        let client_id = r.string(flexible, "client id")?;
        let client_host = r.string(flexible, "client host")?;
        let rebalance_timeout_ms = if version >= 1 {
            Some(r.i32("rebalance timeout")?)
        } else {
            None
        };
        let session_timeout_ms = r.i32("session timeout")?;
        budget.bytes(
            std::mem::size_of::<Member>()
                + member_id.len()
                + group_instance_id.as_ref().map_or(0, String::len)
                + client_id.len()
                + client_host.len(),
        )?;
        r.bytes(flexible, "subscription")?;
        let assignment_bytes = r.bytes(flexible, "assignment")?;
        let assignment = if protocol_type == "consumer" {
            // Offsets in errors stay relative to the whole value.
            let base = r.at().saturating_sub(assignment_bytes.len());
            // Every owner built from a partition copies the member's host and client id.
            let owner_bytes = client_id.len() + client_host.len();
            consumer_assignment(
                Reader::at_base(assignment_bytes, base),
                &mut budget,
                owner_bytes,
            )?
        } else {
            Vec::new()
        };
        if flexible {
            r.tagged_fields("member tagged fields", |_, _| Ok(()))?;
        }
        members.push(Member {
            member_id,
            group_instance_id,
            client_id,
            client_host,
            rebalance_timeout_ms,
            session_timeout_ms,
            assignment,
        });
    }
    if flexible {
        r.tagged_fields("tagged fields", |_, _| Ok(()))?;
    }
    Ok(GroupMetadata {
        group,
        protocol_type,
        generation,
        protocol,
        leader,
        state_timestamp_ms,
        members,
        value_version: version,
    })
}

/// Decodes the assignment bytes of a classic consumer-group member
/// (`ConsumerProtocolAssignment`), as DescribeGroups returns them and group metadata stores
/// them: the assigned `(topic, partition)` pairs. Empty bytes (no assignment yet) give none.
/// `owner_bytes` is what the caller copies besides the topic name for every partition (host
/// and client id of the member); it counts towards [`MAX_DECODED_BYTES`].
///
/// # Errors
/// What is malformed, and where; [`DecodeErrorKind::TooLarge`] over
/// [`MAX_ASSIGNED_PARTITIONS`] or [`MAX_DECODED_BYTES`].
pub fn decode_assignment(
    bytes: &[u8],
    owner_bytes: usize,
) -> std::result::Result<Vec<(String, i32)>, DecodeErrorKind> {
    let mut budget = Budget::unnamed();
    let shared = consumer_assignment(Reader::new(bytes), &mut budget, owner_bytes)?;
    Ok(shared
        .into_iter()
        .map(|(topic, partition)| (topic.to_string(), partition))
        .collect())
}

/// What one record has been counted as so far, against the caps.
struct Budget<'g> {
    group: Option<&'g str>,
    bytes: usize,
    partitions: usize,
}

impl<'g> Budget<'g> {
    fn new(group: &'g str) -> Self {
        Budget {
            group: Some(group),
            bytes: 0,
            partitions: 0,
        }
    }

    fn unnamed() -> Self {
        Budget {
            group: None,
            bytes: 0,
            partitions: 0,
        }
    }

    fn refuse(&self, what: &'static str, limit: usize) -> DecodeErrorKind {
        DecodeErrorKind::TooLarge {
            group: self.group.map(str::to_owned),
            what,
            limit,
        }
    }

    fn bytes(&mut self, n: usize) -> Result<()> {
        self.bytes = self.bytes.saturating_add(n);
        if self.bytes > MAX_DECODED_BYTES {
            return Err(self.refuse("decoded bytes", MAX_DECODED_BYTES));
        }
        Ok(())
    }

    /// Counts `n` partitions of one topic, each carrying `names` bytes of strings.
    fn partitions(&mut self, n: usize, names: usize) -> Result<()> {
        self.partitions = self.partitions.saturating_add(n);
        if self.partitions > MAX_ASSIGNED_PARTITIONS {
            return Err(self.refuse("assigned partitions", MAX_ASSIGNED_PARTITIONS));
        }
        self.bytes(n.saturating_mul(ASSIGNED_PARTITION_BYTES.saturating_add(names)))
    }
}

/// Decodes a `ConsumerProtocolAssignment` (versions 0–3 share one layout and are never
/// flexible; like Kafka's `ConsumerProtocol`, a newer version is read with that layout).
///
/// The whole assignment is walked once without allocating to count it against `budget`
/// (each partition carrying its topic name and `owner_bytes`), then built with exact
/// capacities.
fn consumer_assignment(
    r: Reader<'_>,
    budget: &mut Budget<'_>,
    owner_bytes: usize,
) -> Result<Vec<(Arc<str>, i32)>> {
    if r.remaining() == 0 {
        // A member that has joined but not yet received an assignment.
        return Ok(Vec::new());
    }
    let mut scan = Reader::at_base(r.buf, r.base);
    let total = assignment_walk(&mut scan, |topic, partitions| {
        budget.bytes(topic.len() + 16)?;
        budget.partitions(partitions.len() / 4, topic.len() + owner_bytes)
    })?;
    let mut assignment = Vec::with_capacity(total);
    let mut build = r;
    assignment_walk(&mut build, |topic, partitions| {
        let name: Arc<str> = Arc::from(topic);
        for chunk in partitions.chunks_exact(4) {
            let mut p = [0; 4];
            p.copy_from_slice(chunk);
            assignment.push((Arc::clone(&name), i32::from_be_bytes(p)));
        }
        Ok(())
    })?;
    Ok(assignment)
}

/// Reads an assignment, calling `f(topic, partition bytes)` for every topic entry (the
/// partitions as 4 big-endian bytes each), and returns the number of partitions.
fn assignment_walk<'a>(
    r: &mut Reader<'a>,
    mut f: impl FnMut(&'a str, &'a [u8]) -> Result<()>,
) -> Result<usize> {
    let version = r.i16("assignment version")?;
    if version < 0 {
        return Err(DecodeErrorKind::UnsupportedValueVersion {
            record: "consumer protocol assignment",
            version,
        });
    }
    let topics = r.array_len(false, "assigned topics")?;
    let mut total = 0usize;
    for _ in 0..topics {
        let topic = r.str(false, "assigned topic")?;
        let count = r.array_len(false, "assigned partitions")?;
        let at = r.at();
        let partitions = count
            .checked_mul(4)
            .ok_or(DecodeErrorKind::Truncated {
                at,
                field: "assigned partition",
            })
            .and_then(|n| r.take(n, at, "assigned partition"))
            .map_err(|_| DecodeErrorKind::Truncated {
                // Where the first partition that is missing would start.
                at: at + (r.remaining() / 4) * 4,
                field: "assigned partition",
            })?;
        total = total.saturating_add(count);
        f(topic, partitions)?;
    }
    r.nullable_bytes(false, "assignment user data")?;
    Ok(total)
}

fn value_version(r: &mut Reader<'_>, record: &'static str) -> Result<()> {
    let version = r.i16("value version")?;
    if version == 0 {
        Ok(())
    } else {
        Err(DecodeErrorKind::UnsupportedValueVersion { record, version })
    }
}

fn consumer_group_metadata_value(value: &[u8]) -> Result<i32> {
    let mut r = Reader::new(value);
    value_version(&mut r, "consumer group metadata")?;
    let epoch = r.i32("epoch")?;
    r.tagged_fields("tagged fields", |_, _| Ok(()))?;
    Ok(epoch)
}

fn consumer_group_member_value(
    group: String,
    member_id: String,
    value: &[u8],
) -> Result<ConsumerGroupMember> {
    let mut r = Reader::new(value);
    value_version(&mut r, "consumer group member metadata")?;
    let instance_id = r.nullable_string(true, "instance id")?;
    let rack_id = r.nullable_string(true, "rack id")?;
    let client_id = r.string(true, "client id")?;
    let client_host = r.string(true, "client host")?;
    let count = r.array_len(true, "subscribed topic names")?;
    let mut subscribed_topic_names = Vec::with_capacity(count.min(r.remaining()));
    for _ in 0..count {
        subscribed_topic_names.push(r.string(true, "subscribed topic name")?);
    }
    let subscribed_topic_regex = r.nullable_string(true, "subscribed topic regex")?;
    let rebalance_timeout_ms = r.i32("rebalance timeout")?;
    let server_assignor = r.nullable_string(true, "server assignor")?;
    let mut classic_protocol = false;
    r.tagged_fields("tagged fields", |tag, mut data| {
        // A nullable struct: varint 0 for null (Kafka 4.4 writes the null explicitly for
        // members of the consumer protocol), 1 followed by the struct otherwise.
        if tag == 0 {
            classic_protocol = data.uvarint("classic member metadata")? != 0;
        }
        Ok(())
    })?;
    Ok(ConsumerGroupMember {
        group,
        member_id,
        instance_id,
        rack_id,
        client_id,
        client_host,
        subscribed_topic_names,
        subscribed_topic_regex,
        rebalance_timeout_ms,
        server_assignor,
        classic_protocol,
    })
}

fn consumer_group_assignment_value(
    group: String,
    member_id: String,
    value: &[u8],
) -> Result<ConsumerGroupAssignment> {
    let mut r = Reader::new(value);
    value_version(&mut r, "consumer group current member assignment")?;
    let member_epoch = r.i32("member epoch")?;
    let previous_member_epoch = r.i32("previous member epoch")?;
    let state = r.i8("state")?;
    let assigned = topic_id_partitions(&mut r, "assigned partitions")?;
    let pending_revocation = topic_id_partitions(&mut r, "partitions pending revocation")?;
    r.tagged_fields("tagged fields", |_, _| Ok(()))?;
    Ok(ConsumerGroupAssignment {
        group,
        member_id,
        member_epoch,
        previous_member_epoch,
        state,
        assigned,
        pending_revocation,
    })
}

/// A compact array of `TopicPartitions { TopicId uuid, Partitions []int32, tagged fields }`.
fn topic_id_partitions(r: &mut Reader<'_>, field: &'static str) -> Result<Vec<TopicIdPartitions>> {
    let count = r.array_len(true, field)?;
    // Smallest element: 16-byte uuid, empty array, empty tagged fields.
    let mut topics = Vec::with_capacity(count.min(r.remaining() / 18));
    for _ in 0..count {
        let topic_id = r.uuid("topic id")?;
        let n = r.array_len(true, "partitions")?;
        let mut partitions = Vec::with_capacity(n.min(r.remaining() / 4));
        for _ in 0..n {
            partitions.push(r.i32("partition")?);
        }
        r.tagged_fields("topic partitions tagged fields", |_, _| Ok(()))?;
        topics.push(TopicIdPartitions {
            topic_id,
            partitions,
        });
    }
    Ok(topics)
}

/// A cursor over a byte slice reading Kafka's protocol primitives; every read is checked.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf` in the key or value, for error positions of embedded structures.
    base: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader::at_base(buf, 0)
    }

    fn at_base(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    /// Current position relative to the start of the key or value.
    fn at(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The next `n` bytes; on failure nothing is consumed.
    fn take(&mut self, n: usize, at: usize, field: &'static str) -> Result<&'a [u8]> {
        let slice = self
            .pos
            .checked_add(n)
            .and_then(|end| self.buf.get(self.pos..end))
            .ok_or(DecodeErrorKind::Truncated { at, field })?;
        self.pos += n;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N]> {
        let at = self.at();
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, at, field)?);
        Ok(out)
    }

    fn i8(&mut self, field: &'static str) -> Result<i8> {
        self.array(field).map(i8::from_be_bytes)
    }

    fn i16(&mut self, field: &'static str) -> Result<i16> {
        self.array(field).map(i16::from_be_bytes)
    }

    fn i32(&mut self, field: &'static str) -> Result<i32> {
        self.array(field).map(i32::from_be_bytes)
    }

    fn i64(&mut self, field: &'static str) -> Result<i64> {
        self.array(field).map(i64::from_be_bytes)
    }

    fn uuid(&mut self, field: &'static str) -> Result<[u8; 16]> {
        self.array(field)
    }

    fn uvarint(&mut self, field: &'static str) -> Result<u32> {
        let at = self.at();
        let mut value: u32 = 0;
        for i in 0..5 {
            let [byte] = self
                .array::<1>(field)
                .map_err(|_| DecodeErrorKind::Truncated { at, field })?;
            let bits = u32::from(byte & 0x7f);
            if i == 4 && bits > 0x0f {
                return Err(DecodeErrorKind::InvalidVarint { at, field });
            }
            value |= bits << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeErrorKind::InvalidVarint { at, field })
    }

    /// A length prefix: `int16` (classic strings), `int32` (classic bytes and arrays) or an
    /// unsigned varint of length + 1 (compact); `None` for null.
    fn length(&mut self, flexible: bool, wide: bool, field: &'static str) -> Result<Option<usize>> {
        let at = self.at();
        let length = if flexible {
            i64::from(self.uvarint(field)?) - 1
        } else if wide {
            i64::from(self.i32(field)?)
        } else {
            i64::from(self.i16(field)?)
        };
        match length {
            -1 => Ok(None),
            n => usize::try_from(n)
                .map(Some)
                .map_err(|_| DecodeErrorKind::InvalidLength {
                    at,
                    field,
                    length: n,
                }),
        }
    }

    fn nullable_bytes(&mut self, flexible: bool, field: &'static str) -> Result<Option<&'a [u8]>> {
        let at = self.at();
        match self.length(flexible, true, field)? {
            None => Ok(None),
            Some(n) => self.take(n, at, field).map(Some),
        }
    }

    fn bytes(&mut self, flexible: bool, field: &'static str) -> Result<&'a [u8]> {
        let at = self.at();
        self.nullable_bytes(flexible, field)?
            .ok_or(DecodeErrorKind::UnexpectedNull { at, field })
    }

    fn nullable_string(&mut self, flexible: bool, field: &'static str) -> Result<Option<String>> {
        let at = self.at();
        match self.length(flexible, false, field)? {
            None => Ok(None),
            Some(n) => {
                let bytes = self.take(n, at, field)?;
                std::str::from_utf8(bytes)
                    .map(|s| Some(s.to_owned()))
                    .map_err(|_| DecodeErrorKind::InvalidUtf8 { at, field })
            }
        }
    }

    /// A non-nullable string borrowed from the input.
    fn str(&mut self, flexible: bool, field: &'static str) -> Result<&'a str> {
        let at = self.at();
        match self.length(flexible, false, field)? {
            None => Err(DecodeErrorKind::UnexpectedNull { at, field }),
            Some(n) => {
                let bytes = self.take(n, at, field)?;
                std::str::from_utf8(bytes).map_err(|_| DecodeErrorKind::InvalidUtf8 { at, field })
            }
        }
    }

    fn string(&mut self, flexible: bool, field: &'static str) -> Result<String> {
        let at = self.at();
        self.nullable_string(flexible, field)?
            .ok_or(DecodeErrorKind::UnexpectedNull { at, field })
    }

    /// The element count of a non-nullable array.
    fn array_len(&mut self, flexible: bool, field: &'static str) -> Result<usize> {
        let at = self.at();
        self.length(flexible, true, field)?
            .ok_or(DecodeErrorKind::UnexpectedNull { at, field })
    }

    /// A tagged-fields section; calls `f(tag, data)` for every field.
    fn tagged_fields(
        &mut self,
        field: &'static str,
        mut f: impl FnMut(u32, Reader<'a>) -> Result<()>,
    ) -> Result<()> {
        let count = self.uvarint(field)?;
        for _ in 0..count {
            let tag = self.uvarint(field)?;
            let at = self.at();
            let size = self.uvarint(field)?;
            let size = usize::try_from(size).map_err(|_| DecodeErrorKind::InvalidLength {
                at,
                field,
                length: i64::from(size),
            })?;
            let data = self.take(size, at, field)?;
            let base = self.at().saturating_sub(size);
            f(tag, Reader::at_base(data, base))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::collection::vec;
    use proptest::option;
    use proptest::prelude::*;
    use proptest::sample::Index;

    /// Hand-building helpers for Kafka's big-endian encodings.
    #[derive(Default)]
    struct B(Vec<u8>);

    impl B {
        fn i8(mut self, v: i8) -> Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn i16(mut self, v: i16) -> Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn i32(mut self, v: i32) -> Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn i64(mut self, v: i64) -> Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn raw(mut self, v: &[u8]) -> Self {
            self.0.extend_from_slice(v);
            self
        }
        fn str(self, s: &str) -> Self {
            let n = i16::try_from(s.len()).unwrap();
            self.i16(n).raw(s.as_bytes())
        }
        fn bytes(self, b: &[u8]) -> Self {
            let n = i32::try_from(b.len()).unwrap();
            self.i32(n).raw(b)
        }
        fn uvarint(mut self, mut v: u32) -> Self {
            while v >= 0x80 {
                self.0.push(u8::try_from(v & 0x7f).unwrap() | 0x80);
                v >>= 7;
            }
            self.0.push(u8::try_from(v).unwrap());
            self
        }
        fn cstr(self, s: &str) -> Self {
            self.uvarint(u32::try_from(s.len() + 1).unwrap())
                .raw(s.as_bytes())
        }
        fn cbytes(self, b: &[u8]) -> Self {
            self.uvarint(u32::try_from(b.len() + 1).unwrap()).raw(b)
        }
        fn no_tags(self) -> Self {
            self.uvarint(0)
        }
    }

    fn offset_key(group: &str, topic: &str, partition: i32) -> Vec<u8> {
        B::default().i16(1).str(group).str(topic).i32(partition).0
    }

    fn kind(err: &DecodeError) -> &DecodeErrorKind {
        err.kind()
    }

    #[test]
    fn offset_commit_key_exact_bytes() {
        // key version 1, group "g", topic "t", partition 3
        let key = [0, 1, 0, 1, b'g', 0, 1, b't', 0, 0, 0, 3];
        assert_eq!(
            decode(&key, None).unwrap(),
            Record::OffsetTombstone {
                group: "g".into(),
                topic: "t".into(),
                partition: 3
            }
        );
    }

    #[test]
    fn offset_commit_value_v0_to_v3() {
        let key = offset_key("grp", "topic", 0);
        let v0 = B::default().i16(0).i64(42).str("m").i64(1000).0;
        let v1 = B::default().i16(1).i64(42).str("").i64(1000).i64(2000).0;
        let v1_no_expiry = B::default().i16(1).i64(42).str("").i64(1000).i64(-1).0;
        let v2 = B::default().i16(2).i64(42).str("").i64(1000).0;
        let v3 = B::default().i16(3).i64(42).i32(7).str("meta").i64(1000).0;
        let v3_no_epoch = B::default().i16(3).i64(42).i32(-1).str("").i64(1000).0;
        let expect = |version, epoch, metadata: &str, expire| {
            Record::OffsetCommit(OffsetCommit {
                group: "grp".into(),
                topic: "topic".into(),
                partition: 0,
                offset: 42,
                leader_epoch: epoch,
                metadata: metadata.into(),
                commit_timestamp_ms: 1000,
                expire_timestamp_ms: expire,
                topic_id: None,
                value_version: version,
            })
        };
        assert_eq!(decode(&key, Some(&v0)).unwrap(), expect(0, None, "m", None));
        assert_eq!(
            decode(&key, Some(&v1)).unwrap(),
            expect(1, None, "", Some(2000))
        );
        assert_eq!(
            decode(&key, Some(&v1_no_expiry)).unwrap(),
            expect(1, None, "", None)
        );
        assert_eq!(decode(&key, Some(&v2)).unwrap(), expect(2, None, "", None));
        assert_eq!(
            decode(&key, Some(&v3)).unwrap(),
            expect(3, Some(7), "meta", None)
        );
        assert_eq!(
            decode(&key, Some(&v3_no_epoch)).unwrap(),
            expect(3, None, "", None)
        );
        // Key version 0 (LegacyOffsetCommitKey) has the same layout.
        let mut key0 = key.clone();
        key0[1] = 0;
        assert!(matches!(
            decode(&key0, Some(&v0)).unwrap(),
            Record::OffsetCommit(OffsetCommit { offset: 42, .. })
        ));
    }

    #[test]
    fn offset_commit_value_v4_flexible_with_topic_id() {
        let key = offset_key("g", "t", 1);
        let id: [u8; 16] = *b"0123456789abcdef";
        let value = [
            0u8, 4, // version 4
            0, 0, 0, 0, 0, 0, 0, 9, // offset 9
            0, 0, 0, 2, // leader epoch 2
            3, b'h', b'i', // compact string "hi"
            0, 0, 0, 0, 0, 0, 0x03, 0xe8, // commit timestamp 1000
            2,    // two tagged fields
            0, 16, // tag 0, 16 bytes: topic id
        ]
        .into_iter()
        .chain(id)
        .chain([5, 2, 0xaa, 0xbb]) // unknown tag 5, 2 bytes: skipped
        .collect::<Vec<u8>>();
        let Record::OffsetCommit(commit) = decode(&key, Some(&value)).unwrap() else {
            panic!("not an offset commit");
        };
        assert_eq!(commit.offset, 9);
        assert_eq!(commit.leader_epoch, Some(2));
        assert_eq!(commit.metadata, "hi");
        assert_eq!(commit.commit_timestamp_ms, 1000);
        assert_eq!(commit.topic_id, Some(id));
        assert_eq!(commit.value_version, 4);

        // Without tagged fields.
        let plain = B::default()
            .i16(4)
            .i64(9)
            .i32(-1)
            .cstr("")
            .i64(1000)
            .no_tags()
            .0;
        let Record::OffsetCommit(commit) = decode(&key, Some(&plain)).unwrap() else {
            panic!("not an offset commit");
        };
        assert_eq!((commit.topic_id, commit.leader_epoch), (None, None));
    }

    #[test]
    fn unsupported_offset_commit_value_version() {
        let key = offset_key("g", "t", 0);
        let value = B::default().i16(9).i64(1).0;
        let err = decode(&key, Some(&value)).unwrap_err();
        assert_eq!(err.key_version(), Some(1));
        assert_eq!(err.section(), Section::Value);
        assert_eq!(
            err.to_string(),
            "cannot decode value of __consumer_offsets record with key version 1: \
             value version 9 of offset commit not supported"
        );
    }

    #[test]
    fn truncation_reports_position_and_field() {
        // group "g" (bytes 2..5), then the topic's length is cut after one byte.
        let key = [0, 1, 0, 1, b'g', 0];
        let err = decode(&key, None).unwrap_err();
        assert_eq!(
            kind(&err),
            &DecodeErrorKind::Truncated {
                at: 5,
                field: "topic"
            }
        );
        assert_eq!(
            err.to_string(),
            "cannot decode key of __consumer_offsets record with key version 1: \
             truncated at byte 5 reading topic"
        );
        // A string length pointing past the end.
        let key = [0, 1, 0, 1, b'g', 0, 9, b't'];
        assert_eq!(
            kind(&decode(&key, None).unwrap_err()),
            &DecodeErrorKind::Truncated {
                at: 5,
                field: "topic"
            }
        );
        // Too short for a key version.
        let err = decode(&[1], None).unwrap_err();
        assert_eq!(err.key_version(), None);
        assert_eq!(
            err.to_string(),
            "cannot decode key of __consumer_offsets record: \
             truncated at byte 0 reading key version"
        );
        let err = decode(&[], Some(&[])).unwrap_err();
        assert_eq!(err.key_version(), None);
    }

    #[test]
    fn invalid_strings_and_lengths() {
        let key = [0, 2, 0, 2, 0xff, 0xfe];
        assert_eq!(
            kind(&decode(&key, None).unwrap_err()),
            &DecodeErrorKind::InvalidUtf8 {
                at: 2,
                field: "group"
            }
        );
        let key = [0, 2, 0xff, 0xff];
        assert_eq!(
            kind(&decode(&key, None).unwrap_err()),
            &DecodeErrorKind::UnexpectedNull {
                at: 2,
                field: "group"
            }
        );
        let key = [0, 2, 0xff, 0xfe];
        assert_eq!(
            kind(&decode(&key, None).unwrap_err()),
            &DecodeErrorKind::InvalidLength {
                at: 2,
                field: "group",
                length: -2
            }
        );
        let err = decode(&[0xff, 0xff, 0, 0], None).unwrap_err();
        assert_eq!(
            kind(&err),
            &DecodeErrorKind::UnsupportedKeyVersion { version: -1 }
        );
        assert_eq!(err.key_version(), Some(-1));
    }

    #[test]
    fn huge_counts_do_not_preallocate() {
        // Group metadata claiming i32::MAX members in a 30-byte value.
        let key = B::default().i16(2).str("g").0;
        let value = B::default()
            .i16(3)
            .str("consumer")
            .i32(1)
            .str("range")
            .i16(-1)
            .i64(5)
            .i32(i32::MAX)
            .0;
        assert_eq!(
            kind(&decode(&key, Some(&value)).unwrap_err()),
            &DecodeErrorKind::Truncated {
                at: value.len(),
                field: "member id"
            }
        );
        // Compact array count near u32::MAX.
        let key = B::default().i16(8).str("g").str("m").0;
        let value = B::default().i16(0).i32(1).i32(0).i8(2).uvarint(u32::MAX).0;
        assert!(matches!(
            kind(&decode(&key, Some(&value)).unwrap_err()),
            DecodeErrorKind::Truncated {
                field: "topic id",
                ..
            }
        ));
        // A varint longer than five bytes.
        let value = B::default()
            .i16(0)
            .i32(1)
            .i32(0)
            .i8(2)
            .raw(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
            .0;
        assert!(matches!(
            kind(&decode(&key, Some(&value)).unwrap_err()),
            DecodeErrorKind::InvalidVarint { at: 11, .. }
        ));
    }

    /// A classic group-metadata value (v3) of protocol type `consumer` with `members`, each
    /// given as (client id, assignment bytes).
    fn group_metadata_v3(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut b = B::default()
            .i16(3)
            .str("consumer")
            .i32(1)
            .str("range")
            .i16(-1)
            .i64(5)
            .i32(i32::try_from(members.len()).unwrap());
        for (i, (client_id, assignment)) in members.iter().enumerate() {
            b = b
                .str(&format!("m-{i}"))
                .i16(-1)
                .str(client_id)
                .str("/127.0.0.1")
                .i32(300_000)
                .i32(45_000)
                .bytes(b"")
                .bytes(assignment);
        }
        b.0
    }

    /// The error of a record that must be refused (without printing the record).
    fn refused(key: &[u8], value: &[u8]) -> String {
        match decode(key, Some(value)) {
            Ok(_) => panic!("a record over a cap was decoded"),
            Err(e) => {
                assert!(matches!(e.kind(), DecodeErrorKind::TooLarge { .. }), "{e}");
                e.to_string()
            }
        }
    }

    /// One topic with `count` partitions.
    fn wide_assignment(topic: &str, count: i32) -> Vec<u8> {
        let partitions: Vec<i32> = (0..count).collect();
        assignment_v0(&[(topic, &partitions)])
    }

    #[test]
    fn a_large_assignment_is_refused_naming_the_group() {
        // 150 000 partitions of a 1000-byte topic name: 600 kB of input that would expand to
        // 150 MB of copied topic names (and more in the owners built from it).
        let topic = "t".repeat(1000);
        let key = B::default().i16(2).str("hostile").0;
        let value = group_metadata_v3(&[("c", wide_assignment(&topic, 150_000))]);
        let text = refused(&key, &value);
        assert!(text.contains("\"hostile\""), "{text}");
        assert!(text.contains("assigned partitions"), "{text}");
        assert!(text.contains("limit"), "{text}");
    }

    #[test]
    fn a_long_client_id_times_many_partitions_is_refused() {
        // 2000 partitions is well under the partition cap, but every owner the mapper builds
        // copies the 30 kB client id: 60 MB.
        let client_id = "c".repeat(30_000);
        let key = B::default().i16(2).str("hostile").0;
        let value = group_metadata_v3(&[(&client_id, wide_assignment("t", 2000))]);
        let text = refused(&key, &value);
        assert!(
            text.contains("\"hostile\"") && text.contains("decoded bytes"),
            "{text}"
        );
    }

    #[test]
    fn too_many_members_are_refused() {
        let members: Vec<(&str, Vec<u8>)> = (0..10_001).map(|_| ("c", Vec::new())).collect();
        let key = B::default().i16(2).str("crowd").0;
        let value = group_metadata_v3(&members);
        let text = refused(&key, &value);
        assert!(
            text.contains("\"crowd\"") && text.contains("members"),
            "{text}"
        );
        // At the cap, it decodes.
        let value = group_metadata_v3(&members[..10_000]);
        assert!(decode(&key, Some(&value)).is_ok());
    }

    fn assignment_v0(topics: &[(&str, &[i32])]) -> Vec<u8> {
        let mut b = B::default()
            .i16(0)
            .i32(i32::try_from(topics.len()).unwrap());
        for (topic, partitions) in topics {
            b = b.str(topic).i32(i32::try_from(partitions.len()).unwrap());
            for p in *partitions {
                b = b.i32(*p);
            }
        }
        b.i32(-1).0 // null user data
    }

    #[test]
    fn group_metadata_v3_with_two_members() {
        let key = B::default().i16(2).str("cg").0;
        let value = B::default()
            .i16(3)
            .str("consumer")
            .i32(4) // generation
            .str("range")
            .str("m-1")
            .i64(1_700_000_000_000)
            .i32(2)
            // member 1
            .str("m-1")
            .i16(-1) // no group instance id
            .str("client-a")
            .str("/10.0.0.1")
            .i32(300_000)
            .i32(10_000)
            .bytes(b"sub")
            .bytes(&assignment_v0(&[("t", &[0, 1])]))
            // member 2: static, no assignment yet
            .str("m-2")
            .str("instance-2")
            .str("client-b")
            .str("/10.0.0.2")
            .i32(300_000)
            .i32(10_000)
            .bytes(b"")
            .bytes(b"")
            .0;
        let Record::GroupMetadata(meta) = decode(&key, Some(&value)).unwrap() else {
            panic!("not group metadata");
        };
        assert_eq!(
            meta,
            GroupMetadata {
                group: "cg".into(),
                protocol_type: "consumer".into(),
                generation: 4,
                protocol: Some("range".into()),
                leader: Some("m-1".into()),
                state_timestamp_ms: Some(1_700_000_000_000),
                members: vec![
                    Member {
                        member_id: "m-1".into(),
                        group_instance_id: None,
                        client_id: "client-a".into(),
                        client_host: "/10.0.0.1".into(),
                        rebalance_timeout_ms: Some(300_000),
                        session_timeout_ms: 10_000,
                        assignment: vec![("t".into(), 0), ("t".into(), 1)],
                    },
                    Member {
                        member_id: "m-2".into(),
                        group_instance_id: Some("instance-2".into()),
                        client_id: "client-b".into(),
                        client_host: "/10.0.0.2".into(),
                        rebalance_timeout_ms: Some(300_000),
                        session_timeout_ms: 10_000,
                        assignment: vec![],
                    },
                ],
                value_version: 3,
            }
        );
        assert_eq!(
            decode(&key, None).unwrap(),
            Record::GroupTombstone { group: "cg".into() }
        );
    }

    #[test]
    fn group_metadata_v0_v1_v2_and_empty_group() {
        let key = B::default().i16(2).str("g").0;
        for version in 0..=2 {
            let mut b = B::default()
                .i16(version)
                .str("consumer")
                .i32(1)
                .i16(-1)
                .i16(-1);
            if version >= 2 {
                b = b.i64(-1);
            }
            b = b.i32(1).str("m").str("c").str("/h");
            if version >= 1 {
                b = b.i32(5);
            }
            let value = b.i32(6).bytes(b"").bytes(&assignment_v0(&[("x", &[3])])).0;
            let Record::GroupMetadata(meta) = decode(&key, Some(&value)).unwrap() else {
                panic!("not group metadata");
            };
            assert_eq!(meta.value_version, version);
            assert_eq!((meta.protocol, meta.leader), (None, None));
            assert_eq!(meta.state_timestamp_ms, None);
            let member = &meta.members[0];
            assert_eq!(member.rebalance_timeout_ms, (version >= 1).then_some(5));
            assert_eq!(member.session_timeout_ms, 6);
            assert_eq!(member.assignment, vec![("x".into(), 3)]);
        }
        // The "empty" group a simple (assign-only) consumer's commits create.
        let value = B::default()
            .i16(3)
            .str("")
            .i32(0)
            .i16(-1)
            .i16(-1)
            .i64(123)
            .i32(0)
            .0;
        let Record::GroupMetadata(meta) = decode(&key, Some(&value)).unwrap() else {
            panic!("not group metadata");
        };
        assert_eq!(meta.protocol_type, "");
        assert!(meta.members.is_empty());
    }

    #[test]
    fn group_metadata_v4_flexible() {
        let key = B::default().i16(2).str("g").0;
        let value = B::default()
            .i16(4)
            .cstr("consumer")
            .i32(2)
            .cstr("range")
            .uvarint(0) // null leader
            .i64(77)
            .uvarint(2) // one member
            .cstr("m")
            .uvarint(0) // null instance id
            .cstr("c")
            .cstr("/h")
            .i32(1)
            .i32(2)
            .cbytes(b"s")
            .cbytes(&assignment_v0(&[("t", &[1])]))
            .raw(&[1, 3, 1, 0xee]) // member tagged field 3, 1 byte
            .no_tags()
            .0;
        let Record::GroupMetadata(meta) = decode(&key, Some(&value)).unwrap() else {
            panic!("not group metadata");
        };
        assert_eq!(meta.value_version, 4);
        assert_eq!(meta.leader, None);
        assert_eq!(meta.state_timestamp_ms, Some(77));
        assert_eq!(meta.members[0].assignment, vec![("t".into(), 1)]);
        assert_eq!(meta.members[0].group_instance_id, None);
    }

    #[test]
    fn non_consumer_protocol_assignment_is_not_decoded() {
        let key = B::default().i16(2).str("connect-cluster").0;
        let value = B::default()
            .i16(3)
            .str("connect")
            .i32(1)
            .str("sessioned")
            .str("m")
            .i64(1)
            .i32(1)
            .str("m")
            .i16(-1)
            .str("c")
            .str("/h")
            .i32(1)
            .i32(2)
            .bytes(b"\x00\x01garbage")
            .bytes(b"\xff\xffgarbage")
            .0;
        let Record::GroupMetadata(meta) = decode(&key, Some(&value)).unwrap() else {
            panic!("not group metadata");
        };
        assert_eq!(meta.protocol_type, "connect");
        assert_eq!(meta.members[0].client_id, "c");
        assert!(meta.members[0].assignment.is_empty());
    }

    #[test]
    fn bad_consumer_assignment_is_an_error_with_absolute_position() {
        let key = B::default().i16(2).str("g").0;
        let prefix = B::default()
            .i16(3)
            .str("consumer")
            .i32(1)
            .i16(-1)
            .i16(-1)
            .i64(1)
            .i32(1)
            .str("m")
            .i16(-1)
            .str("c")
            .str("/h")
            .i32(1)
            .i32(2)
            .bytes(b"");
        let assignment_at = prefix.0.len() + 4;
        let value = prefix.bytes(&[0xff, 0xff]).0;
        assert_eq!(
            kind(&decode(&key, Some(&value)).unwrap_err()),
            &DecodeErrorKind::UnsupportedValueVersion {
                record: "consumer protocol assignment",
                version: -1
            }
        );
        let key2 = key.clone();
        let value = B::default()
            .raw(&value[..assignment_at - 4])
            .bytes(&[0, 1, 0, 0, 0, 1, 0, 5, b't'])
            .0;
        assert_eq!(
            kind(&decode(&key2, Some(&value)).unwrap_err()),
            &DecodeErrorKind::Truncated {
                at: assignment_at + 6,
                field: "assigned topic"
            }
        );
    }

    #[test]
    fn assignment_versions_and_user_data() {
        // Version 3 (what Java clients write) with user data and two topics.
        let bytes = B::default()
            .i16(3)
            .i32(2)
            .str("a")
            .i32(1)
            .i32(0)
            .str("b")
            .i32(2)
            .i32(1)
            .i32(2)
            .bytes(b"ud")
            .0;
        assert_eq!(
            consumer_assignment(Reader::new(&bytes), &mut Budget::unnamed(), 0).unwrap(),
            vec![("a".into(), 0), ("b".into(), 1), ("b".into(), 2)]
        );
        // A future version is read with the same layout, trailing fields ignored.
        let mut future = bytes.clone();
        future[1] = 7;
        future.extend_from_slice(&[1, 2, 3]);
        assert_eq!(
            consumer_assignment(Reader::new(&future), &mut Budget::unnamed(), 0)
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn consumer_group_records() {
        let key3 = B::default().i16(3).str("kg").0;
        let value = B::default().i16(0).i32(5).raw(&[1, 0, 8]).i64(99).0;
        assert_eq!(
            decode(&key3, Some(&value)).unwrap(),
            Record::ConsumerGroup {
                group: "kg".into(),
                epoch: 5
            }
        );
        assert_eq!(
            decode(&key3, None).unwrap(),
            Record::ConsumerGroupTombstone { group: "kg".into() }
        );
        let err = decode(&key3, Some(&[0, 1, 0, 0, 0, 5, 0])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot decode value of __consumer_offsets record with key version 3: \
             value version 1 of consumer group metadata not supported"
        );

        let key5 = B::default().i16(5).str("kg").str("mid").0;
        let value = B::default()
            .i16(0)
            .uvarint(0) // null instance id
            .cstr("rack-1")
            .cstr("client-k")
            .cstr("/127.0.0.1")
            .uvarint(3)
            .cstr("t1")
            .cstr("t2")
            .uvarint(0) // null regex
            .i32(45_000)
            .cstr("uniform")
            // ClassicMemberMetadata (tag 0): present, session timeout, no protocols, no tags.
            .raw(&[1, 0, 7, 1, 0, 0, 0xaf, 0xc8, 1, 0])
            .0;
        assert_eq!(
            decode(&key5, Some(&value)).unwrap(),
            Record::ConsumerGroupMember(ConsumerGroupMember {
                group: "kg".into(),
                member_id: "mid".into(),
                instance_id: None,
                rack_id: Some("rack-1".into()),
                client_id: "client-k".into(),
                client_host: "/127.0.0.1".into(),
                subscribed_topic_names: vec!["t1".into(), "t2".into()],
                subscribed_topic_regex: None,
                rebalance_timeout_ms: 45_000,
                server_assignor: Some("uniform".into()),
                classic_protocol: true,
            })
        );
        // Kafka 4.4 writes the tag with an explicit null for consumer-protocol members.
        let mut explicit_null = value.clone();
        explicit_null.truncate(explicit_null.len() - 10);
        explicit_null.extend_from_slice(&[1, 0, 1, 0]);
        let Record::ConsumerGroupMember(member) = decode(&key5, Some(&explicit_null)).unwrap()
        else {
            panic!("not a member");
        };
        assert!(!member.classic_protocol);
        assert_eq!(
            decode(&key5, None).unwrap(),
            Record::ConsumerGroupMemberTombstone {
                group: "kg".into(),
                member_id: "mid".into()
            }
        );

        let key8 = B::default().i16(8).str("kg").str("mid").0;
        let id = [7u8; 16];
        let value = B::default()
            .i16(0)
            .i32(3)
            .i32(2)
            .i8(0)
            .uvarint(2)
            .raw(&id)
            .uvarint(3)
            .i32(0)
            .i32(1)
            .raw(&[1, 0, 9, 3, 0, 0, 0, 3, 0, 0, 0, 3]) // AssignmentEpochs tag 0, skipped
            .uvarint(1) // nothing pending
            .no_tags()
            .0;
        assert_eq!(
            decode(&key8, Some(&value)).unwrap(),
            Record::ConsumerGroupAssignment(ConsumerGroupAssignment {
                group: "kg".into(),
                member_id: "mid".into(),
                member_epoch: 3,
                previous_member_epoch: 2,
                state: 0,
                assigned: vec![TopicIdPartitions {
                    topic_id: id,
                    partitions: vec![0, 1]
                }],
                pending_revocation: vec![],
            })
        );
        assert_eq!(
            decode(&key8, None).unwrap(),
            Record::ConsumerGroupAssignmentTombstone {
                group: "kg".into(),
                member_id: "mid".into()
            }
        );
    }

    #[test]
    fn other_record_types_are_recognised() {
        for version in [4, 6, 7, 9, 10, 11, 16, 17, 23] {
            let key = B::default().i16(version).str("grp").str("more").0;
            let record = decode(&key, Some(b"\xff\xff anything")).unwrap();
            assert_eq!(
                record,
                Record::Other {
                    key_version: version,
                    group: Some("grp".into()),
                    tombstone: false
                }
            );
            assert_eq!(record.group(), Some("grp"));
        }
        // A key newer than this decoder: the group id is best effort.
        assert_eq!(
            decode(&[0, 99, 0xff], None).unwrap(),
            Record::Other {
                key_version: 99,
                group: None,
                tombstone: true
            }
        );
        // A known key without a group id is malformed.
        assert!(decode(&[0, 4, 0], None).is_err());
    }

    /// A realistic group metadata record with a member and an assignment, for mutation.
    fn sample_records() -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let gm_key = B::default().i16(2).str("cg").0;
        let gm = B::default()
            .i16(3)
            .str("consumer")
            .i32(1)
            .str("range")
            .str("m")
            .i64(1)
            .i32(1)
            .str("m")
            .i16(-1)
            .str("c")
            .str("/h")
            .i32(1)
            .i32(2)
            .bytes(b"s")
            .bytes(&assignment_v0(&[("t", &[0, 1])]))
            .0;
        let oc = B::default()
            .i16(4)
            .i64(9)
            .i32(1)
            .cstr("x")
            .i64(1)
            .raw(&[1, 0, 16])
            .raw(&[1; 16])
            .0;
        let key8 = B::default().i16(8).str("kg").str("mid").0;
        let ca = B::default()
            .i16(0)
            .i32(3)
            .i32(2)
            .i8(0)
            .uvarint(2)
            .raw(&[7; 16])
            .uvarint(3)
            .i32(0)
            .i32(1)
            .no_tags()
            .uvarint(1)
            .no_tags()
            .0;
        vec![
            (gm_key, Some(gm)),
            (offset_key("g", "t", 0), Some(oc)),
            (key8, Some(ca)),
        ]
    }

    /// Every record of the fixtures captured from real brokers, as `(key, value)`.
    fn fixture_records() -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let unhex = |s: &str| -> Vec<u8> {
            (0..s.len() / 2)
                .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
                .collect()
        };
        [
            include_str!("../tests/fixtures/offsets_topic/kafka-4.4.json"),
            include_str!("../tests/fixtures/offsets_topic/kafka-3.9.json"),
        ]
        .into_iter()
        .flat_map(|text| {
            let doc: serde_json::Value = serde_json::from_str(text).unwrap();
            doc["records"].as_array().unwrap().clone()
        })
        .map(|r| {
            (
                unhex(r["key_hex"].as_str().unwrap()),
                r["value_hex"].as_str().map(unhex),
            )
        })
        .collect()
    }

    #[test]
    fn every_truncation_of_every_fixture_is_an_error_not_a_panic() {
        let records = fixture_records();
        assert!(records.len() > 40);
        for (key, value) in records {
            let whole = decode(&key, value.as_deref()).unwrap();
            for cut in 0..key.len() {
                let result = decode(&key[..cut], value.as_deref());
                // Other records are decoded up to the group id only.
                if cut < 4 || !matches!(whole, Record::Other { .. }) {
                    assert!(result.is_err(), "{whole:?} cut at {cut}: {result:?}");
                }
            }
            if let Some(value) = value {
                for cut in 0..value.len() {
                    // Cutting only trailing tagged fields can still decode; never panics.
                    let _ = decode(&key, Some(&value[..cut]));
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn mutated_fixtures_never_panic(
            which in any::<prop::sample::Index>(),
            key_mutations in vec((any::<Index>(), any::<u8>()), 0..3),
            value_mutations in vec((any::<Index>(), any::<u8>()), 0..6),
            insert in option::of((any::<Index>(), vec(any::<u8>(), 1..8))),
            cut in option::of(any::<Index>()),
        ) {
            let records = fixture_records();
            let (mut key, value) = records[which.index(records.len())].clone();
            let mut value = value.unwrap_or_default();
            for (at, byte) in key_mutations {
                let i = at.index(key.len());
                key[i] = byte;
            }
            if !value.is_empty() {
                for (at, byte) in value_mutations {
                    let i = at.index(value.len());
                    value[i] ^= byte;
                }
                if let Some((at, bytes)) = insert {
                    let i = at.index(value.len());
                    value.splice(i..i, bytes);
                }
                if let Some(cut) = cut {
                    value.truncate(cut.index(value.len() + 1));
                }
            }
            let _ = decode(&key, Some(&value));
            let _ = decode(&key, None);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            key in proptest::collection::vec(any::<u8>(), 0..64),
            value in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..256)),
        ) {
            let _ = decode(&key, value.as_deref());
        }

        #[test]
        fn arbitrary_values_of_known_keys_never_panic(
            key_version in 0i16..10,
            value in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            let key = B::default().i16(key_version).str("g").str("t").i32(0).0;
            let _ = decode(&key, Some(&value));
        }

        #[test]
        fn mutated_records_never_panic(
            which in 0usize..3,
            mutations in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
            cut in proptest::option::of(any::<usize>()),
        ) {
            let (key, value) = sample_records().swap_remove(which);
            let mut value = value.unwrap_or_default();
            let original = value.clone();
            for (at, byte) in mutations {
                let len = value.len();
                if let Some(b) = value.get_mut(at % len) {
                    *b = byte;
                }
            }
            if let Some(cut) = cut {
                value.truncate(cut % (value.len() + 1));
            }
            let _ = decode(&key, Some(&value));
            // The unmutated record still decodes.
            prop_assert!(decode(&key, Some(&original)).is_ok());
        }
    }
}
