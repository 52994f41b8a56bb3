//! # lagwatch-core
//!
//! The pure heart of lagwatch: everything that turns offsets into verdicts, with no I/O, no
//! async runtime and no global state, so it can be tested with exact vectors.
//!
//! * [`event`] — what sources report: broker offsets, consumer commits, membership, deletions.
//! * [`model`] — per-partition bounded windows of commits and broker offsets, stored exactly the
//!   way Burrow's in-memory storage stores them (`intervals`, `min-distance`, `expire-group`,
//!   allow/deny lists).
//! * [`evaluator`] — Burrow's partition and group status rules (OK / WARN / STOP / STALL /
//!   REWIND; OK / WARN / ERR / NOTFOUND), same order of checks and same edge cases.
//! * [`report`] — the evaluated group and partition objects, serialised like Burrow's v3 `/lag`.
//! * [`eval_input`] — the JSON input of `lagwatch eval`: groups and windows written out by hand,
//!   evaluated without a model.
//! * [`share`] — share groups (KIP-932): windows of start offsets and lag, and their statuses.
//! * [`time_lag`] — seconds behind, interpolated from the high-water-mark history.
//! * [`trend`] — production and consumption rates, time to catch up, retention deadline.
//! * [`rule`] — aggregate a lag series over a window and compare it with a threshold.
//! * [`measurement`] — Telegraf-compatible `burrow_partition` / `burrow_group` / `burrow_topic`
//!   records that every sink writes.
//! * [`filter`], [`secret`], [`duration`], [`text`] — small shared building blocks.
//!
//! Time is always passed in explicitly as milliseconds since the Unix epoch (`now_ms`), which is
//! what makes every function here deterministic.

/// The README's example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod alert;
pub mod calendar;
pub mod duration;
pub mod eval_input;
pub mod evaluator;
pub mod event;
pub mod explain;
pub mod filter;
pub mod measurement;
pub mod model;
pub mod report;
pub mod rule;
pub mod secret;
pub mod sharding;
pub mod share;
pub mod snapshot;
pub mod status;
pub mod text;
pub mod time_lag;
pub mod trend;

pub use evaluator::{EvaluatorSettings, PartitionWindow};
pub use event::{BrokerOffset, Event, MemberAssignment};
pub use model::{Applied, LagModel, ModelSettings};
pub use report::{GroupReport, OffsetPoint, PartitionDetail, PartitionReport};
pub use snapshot::Snapshot;
pub use status::{GroupStatus, PartitionStatus};

/// Milliseconds since the Unix epoch. Every timestamp in lagwatch uses this unit.
pub type TimestampMs = i64;
