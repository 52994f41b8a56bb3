//! # lagwatch-source-kafka
//!
//! An [`OffsetSource`](lagwatch_component::OffsetSource) reading one Kafka cluster directly:
//! where every partition ends and where every consumer group is.
//!
//! * **Broker offsets** — every `offset_refresh`, the latest offsets of every allowed
//!   partition with a leader, through librdkafka's ListOffsets admin call, which sends one
//!   request per leader broker; topic metadata (partition counts, leaders, deleted topics)
//!   every `topic_refresh`, and at once after a partition error (a leader moved), each time
//!   with the earliest offsets (log start) in a second ListOffsets round.
//! * **Committed offsets**, by [`KafkaMode`](lagwatch_config::kafka::KafkaMode):
//!   * `admin` — list every group, describe them in batches (members, owners, client ids)
//!     and fetch the groups' committed offsets: with [`wire`]'s batched OffsetFetch (many
//!     groups per request and coordinator) on brokers 3.3+ over any listener (TLS and
//!     SASL PLAIN / SCRAM included, [`wire::WireSettings`]), else `concurrency` at a time
//!     through librdkafka's ListConsumerGroupOffsets, which takes one group per call. See [`groups`] for how snapshots become events.
//!   * `offsets-topic` — stream `__consumer_offsets` like Burrow ([`offsets_topic`]), with a
//!     group description every `group_refresh` for owners of KIP-848 groups and for groups
//!     that disappeared.
//!   * `auto` — one `admin` snapshot, then streaming the offsets topic from `history` back
//!     (the commits of that history refill the windows with their own commit times; the
//!     snapshot's commits fill only the partitions it did not cover); falls back to `admin`
//!     when the offsets topic cannot be read. The mode in use is logged and shown in
//!     [`KafkaSource::stats`].
//!   * In the streaming modes the first broker offsets are sent before any streamed commit.
//! * **Failures** — a read that fails marks the cluster stale ([`Event::SourceHealth`]) with
//!   the error naming the cluster, logged once per change; the model then keeps the last
//!   statuses instead of judging a consumer by lagwatch's own inability to read. librdkafka
//!   reconnects with backoff; the next read that succeeds marks the cluster fresh.
//!
//! The Admin API calls rdkafka's safe API lacks are in [`admin`], the only module with
//! `unsafe` code.
//!
//! [`Event::SourceHealth`]: lagwatch_core::Event::SourceHealth

/// The README's example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod admin;
pub mod client;
mod creation_error;
mod error;
pub mod groups;
pub mod handover;
mod interest;
mod jitter;
pub mod membership;
pub mod metadata;
pub mod offsets_topic;
mod reader;
pub mod records;
mod source;
mod stats;
pub mod topics;
pub mod wire;

pub use error::KafkaError;
pub use handover::KafkaAlertHandover;
pub use source::{KafkaSource, Snapshots};
pub use stats::KafkaSourceStats;

/// The version of the librdkafka this crate is linked with (e.g. `2.12.1`).
pub fn librdkafka_version() -> String {
    rdkafka::util::get_rdkafka_version().1
}
