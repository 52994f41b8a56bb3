//! Reading consumer group state from Kafka's internal `__consumer_offsets` topic.
//!
//! Every committed offset and every group state change is a record of that compacted topic.
//! [`decode`](decode::decode) turns one record's raw key and value into a [`Record`]:
//! committed offsets and their tombstones, classic group metadata (members, client ids,
//! hosts, assignments) and group tombstones, and the KIP-848 consumer group records of
//! Kafka 3.x/4.x (group epoch and deletion, member metadata, current member assignment).
//! Newer record types are recognised as [`Record::Other`], never an error.
//!
//! The decoder is pure (no I/O, no clock); the formats it handles, and how the test
//! fixtures captured from real brokers are regenerated, are described in
//! `docs/offsets-topic.md`.

/// The record decoder, which the Admin API path shares (it lives at the crate's top level).
pub use crate::records as decode;
pub mod mapper;
pub(crate) mod stream;

pub use decode::{
    ConsumerGroupAssignment, ConsumerGroupMember, DecodeError, DecodeErrorKind, GroupMetadata,
    Member, OffsetCommit, Record, Section, TopicIdPartitions, decode,
};
