//! # lagwatch-component
//!
//! The small, object-safe traits that join lagwatch's crates:
//!
//! * [`OffsetSource`] — reads a cluster (or a Burrow, or a simulator) and emits
//!   [`Event`](lagwatch_core::Event)s until cancelled.
//! * [`LagSink`] — receives each evaluation [`Snapshot`](lagwatch_core::Snapshot) and
//!   acknowledges it only once it is durably accepted.
//! * [`Alerter`] — delivers [`AlertNotification`](lagwatch_core::alert::AlertNotification)s.
//! * [`RuleEngine`] — turns snapshots into alert state changes (pure; the runtime calls it).
//! * [`AlertHandover`] — where an instance leaves its open alerts for the next owner of their
//!   groups, when several instances share a cluster.
//! * [`FromConfig`] — the one way to build a source, sink or alerter from its configuration
//!   section.
//!
//! Every trait is implemented for `Box<T>`, so `Box<dyn LagSink>` and friends are components
//! themselves. Fan-out to several sinks and alerters is the runtime's job: it gives each one
//! a queue and a task of its own, so one slow component never holds back another.

/// The README's example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod alerter;
mod build;
pub mod clock;
pub mod directory;
mod error;
pub mod handover;
mod rules;
mod sink;
mod source;
pub mod stats;

pub use alerter::{Alerter, Delivery};
pub use build::FromConfig;
pub use directory::{Member, MemberDirectory};
pub use error::{ComponentError, ErrorClass};
pub use handover::{AlertHandover, HandedAlert, MemoryHandover};
pub use rules::{NoRules, RuleEngine};
pub use sink::{Ack, LagSink};
pub use source::{EventSender, OffsetSource, SourceContext};
pub use stats::{OwnershipRow, ReadLog, RuntimeStats, StatsProvider, StatsSlot};

/// Re-exported so implementors need not depend on `async-trait` themselves.
pub use async_trait::async_trait;
/// Re-exported cancellation token used by [`SourceContext`].
pub use tokio_util::sync::CancellationToken;
