//! # lagwatch-alert
//!
//! Alerting for lagwatch: rules that watch the evaluated consumer groups, an alert lifecycle,
//! and the alerters that deliver notifications.
//!
//! * [`RuleSet`] — the pure rule engine ([`lagwatch_component::RuleEngine`]): `threshold`
//!   (average/max/min/last of partition or group lag over a window), `status` (Burrow group
//!   status), `time_lag` (seconds behind) and `retention` (committed offset near the log
//!   start) rules, each selecting clusters, groups and topics by regex. Every alert goes
//!   inactive → pending → firing → resolved; one notification when it fires, reminders every
//!   `repeat_interval`, one when it resolves; all partitions of a group share one alert.
//!   Time is the snapshot's time, so the lifecycle is tested with exact vectors. Stale data
//!   and windows still warming up never change an alert; an alert whose group is no longer
//!   evaluated (deleted, expired, filtered out) resolves after [`engine::GONE_AFTER_MS`].
//!   The engine hands its state out as plain values (`RuleEngine::alert_state`,
//!   `window_state`) and the runtime keeps them on disk, so a restart neither sends a firing
//!   alert again nor forgets it.
//! * Alerters ([`lagwatch_component::Alerter`]): [`SlackAlerter`] (incoming webhook, blocks
//!   plus a text fallback), [`WebhookAlerter`] (method, headers, minijinja body template,
//!   presets for Burrow's HTTP notifier and Alertmanager's webhook JSON) and [`LogAlerter`].
//!   HTTP delivery retries 5xx answers and connection errors with backoff, honours 429
//!   `Retry-After`, gives up at once on permanent errors, limits the rate per destination and
//!   never logs a full URL.
//!
//! ```
//! use lagwatch_alert::RuleSet;
//! use lagwatch_component::RuleEngine;
//! use lagwatch_config::{RuleConfig, ThresholdRuleConfig};
//! use lagwatch_core::Snapshot;
//! use lagwatch_core::snapshot::SnapshotData;
//! use std::collections::BTreeMap;
//!
//! let rules = BTreeMap::from([(
//!     "lag-above-10".to_owned(),
//!     RuleConfig::Threshold(ThresholdRuleConfig::default()),
//! )]);
//! let mut engine = RuleSet::from_config(&rules)?;
//! let snapshot = Snapshot::new(SnapshotData { at_ms: 60_000, cycle: 1, groups: vec![], topics: vec![] });
//! assert!(engine.evaluate(&snapshot).is_empty());
//! # Ok::<(), lagwatch_alert::AlertError>(())
//! ```

/// The README's example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod delivery;
pub mod engine;
pub mod error;
mod log;
pub mod rule;
mod slack;
mod template;
mod webhook;

pub use delivery::Backoff;
pub use engine::{AlertRecord, EngineState, Phase, RuleSet};
pub use error::AlertError;
pub use log::LogAlerter;
pub use rule::{Condition, Rule, RuleKind};
pub use slack::SlackAlerter;
pub use webhook::WebhookAlerter;
