//! Alert notifications: what an alert rule hands to an alerter when its state changes.

use crate::TimestampMs;
use crate::status::{GroupStatus, PartitionStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Severity of an alert rule.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For information only.
    Info,
    /// Needs attention soon.
    #[default]
    Warning,
    /// Needs attention now.
    Critical,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        })
    }
}

/// The state an alert moved into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// The condition holds (and has held for the rule's `for` duration).
    Firing,
    /// The condition no longer holds.
    Resolved,
}

impl fmt::Display for AlertState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        })
    }
}

/// One alert state change, ready to be delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AlertNotification {
    /// Stable id of the incident: the same for the firing and the resolved notification.
    pub incident_id: String,
    /// Name of the rule.
    pub rule: String,
    /// New state.
    pub state: AlertState,
    /// Severity of the rule.
    pub severity: Severity,
    /// What the alert is about: `cluster`, `group`, and where relevant `topic`, `partition`,
    /// plus the rule's own labels.
    pub labels: BTreeMap<String, String>,
    /// The value that was compared with the threshold (e.g. the average lag).
    pub value: f64,
    /// The threshold, for threshold rules.
    pub threshold: Option<f64>,
    /// One line a person can read.
    pub summary: String,
    /// When the incident started firing (ms).
    pub started_at_ms: TimestampMs,
    /// When this notification was produced (ms).
    pub at_ms: TimestampMs,
    /// `true` for a reminder of an alert that was already announced as firing.
    #[serde(default)]
    pub reminder: bool,
    /// Key a receiver can de-duplicate on: the same for every delivery attempt of this
    /// notification, including a replay after a restart, and different for every other
    /// notification (see [`idempotency_key`]).
    #[serde(default)]
    pub idempotency_key: String,
    /// The group's Burrow status when the notification was produced, when known.
    #[serde(default)]
    pub group_status: Option<GroupStatus>,
    /// The group's total lag (messages) when the notification was produced, when known.
    #[serde(default)]
    pub total_lag: Option<u64>,
    /// The largest partition lag of the group (messages), when known.
    #[serde(default)]
    pub max_lag: Option<u64>,
    /// The partitions that breached the rule, worst first (at most a handful).
    #[serde(default)]
    pub partitions: Vec<PartitionDetail>,
}

/// One partition named in a notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartitionDetail {
    /// Topic.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
    /// Current lag (messages).
    pub lag: u64,
    /// The value the rule compared for this partition (e.g. its average lag).
    pub value: f64,
    /// Partition status from the evaluator.
    pub status: PartitionStatus,
}

impl AlertNotification {
    /// Builds a notification; `incident_id` is derived from the rule and the labels.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        rule: impl Into<String>,
        state: AlertState,
        severity: Severity,
        labels: BTreeMap<String, String>,
        value: f64,
        threshold: Option<f64>,
        summary: impl Into<String>,
        started_at_ms: TimestampMs,
        at_ms: TimestampMs,
    ) -> AlertNotification {
        let rule = rule.into();
        let incident_id = incident_id(&rule, &labels);
        let idempotency_key = idempotency_key(&incident_id, state, started_at_ms, None);
        AlertNotification {
            idempotency_key,
            incident_id,
            rule,
            state,
            severity,
            labels,
            value,
            threshold,
            summary: summary.into(),
            started_at_ms,
            at_ms,
            reminder: false,
            group_status: None,
            total_lag: None,
            max_lag: None,
            partitions: Vec::new(),
        }
    }

    /// The `cluster` label, or an empty string.
    pub fn cluster(&self) -> &str {
        self.labels.get("cluster").map_or("", String::as_str)
    }

    /// The `group` label, or an empty string.
    pub fn group(&self) -> &str {
        self.labels.get("group").map_or("", String::as_str)
    }
}

/// The idempotency key of a notification: `<incident id>-<started ms>-<state>`, followed by
/// `-<at ms>` for a repeated firing notification (a reminder or an escalation), whose
/// [`AlertNotification::at_ms`] tells it apart from the first one. The incident id names the
/// rule and labels, the start time the occurrence of the incident, the state which of its
/// notifications this is.
pub fn idempotency_key(
    incident_id: &str,
    state: AlertState,
    started_at_ms: TimestampMs,
    repeat_at_ms: Option<TimestampMs>,
) -> String {
    match repeat_at_ms {
        Some(at) => format!("{incident_id}-{started_at_ms}-{state}-{at}"),
        None => format!("{incident_id}-{started_at_ms}-{state}"),
    }
}

/// A stable incident id: FNV-1a 64 of the rule name and the sorted labels, in hex.
pub fn incident_id(rule: &str, labels: &BTreeMap<String, String>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    feed(rule.as_bytes());
    for (k, v) in labels {
        feed(b"\n");
        feed(k.as_bytes());
        feed(b"=");
        feed(v.as_bytes());
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_id_is_stable_and_label_sensitive() {
        let mut a = BTreeMap::new();
        a.insert("group".to_string(), "g1".to_string());
        let mut b = a.clone();
        b.insert("group".to_string(), "g2".to_string());
        assert_eq!(incident_id("r", &a), incident_id("r", &a));
        assert_ne!(incident_id("r", &a), incident_id("r", &b));
        assert_eq!(incident_id("r", &a).len(), 16);
    }
}
