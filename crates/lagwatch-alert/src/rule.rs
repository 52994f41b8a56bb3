//! Rules compiled from their configuration, and what one rule sees in one group.

use crate::error::AlertError;
use lagwatch_config::{RuleConfig, StatusLevel, ThresholdOp, ThresholdTarget};
use lagwatch_core::alert::{PartitionDetail, Severity};
use lagwatch_core::duration::millis;
use lagwatch_core::filter::NameFilter;
use lagwatch_core::report::{GroupReport, PartitionReport};
use lagwatch_core::rule::{Comparison, Threshold};
use lagwatch_core::status::{GroupStatus, PartitionStatus};
use std::collections::BTreeMap;

/// At most this many partitions are named in one notification.
pub const MAX_PARTITIONS: usize = 5;

/// A rule ready to be evaluated.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Name (the key of its `[rules.<name>]` section).
    pub name: String,
    /// What the rule checks.
    pub kind: RuleKind,
    /// Clusters watched.
    pub clusters: NameFilter,
    /// Groups watched.
    pub groups: NameFilter,
    /// Topics whose partitions count.
    pub topics: NameFilter,
    /// `true` when `topics` lets everything through.
    pub all_topics: bool,
    /// Severity of its alerts.
    pub severity: Severity,
    /// Extra labels.
    pub labels: BTreeMap<String, String>,
    /// The condition must hold this long before firing (ms).
    pub for_ms: i64,
    /// Decision period (ms, at least 1).
    pub interval_ms: i64,
    /// Reminder period while firing (ms; 0: none).
    pub repeat_ms: i64,
    /// Whether resolved notifications are sent.
    pub send_resolved: bool,
}

/// What a rule checks.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RuleKind {
    /// Aggregated lag compared with a value.
    Threshold {
        /// Partition lag or group lag.
        target: ThresholdTarget,
        /// Aggregate, window and comparison.
        threshold: Threshold,
    },
    /// Group status at or above `min`.
    Status {
        /// The lowest status that fires (WARN or ERR).
        min: GroupStatus,
    },
    /// Seconds behind above `seconds`.
    TimeLag {
        /// The limit.
        seconds: f64,
    },
    /// Committed offset within a margin of the log start.
    Retention {
        /// Margin in messages.
        margin_messages: u64,
        /// Margin as a share of the retained messages.
        margin_share: f64,
    },
    /// Time to catch up above `max_seconds`, not catching up while lagging, or (with
    /// `retention`) unread data deleted before it is read.
    CatchUp {
        /// The longest acceptable time to catch up (seconds).
        max_seconds: f64,
        /// Whether data loss before the catch up also fires.
        retention: bool,
    },
}

impl Rule {
    /// Compiles a rule from its section.
    ///
    /// # Errors
    /// [`AlertError::Rule`] when a regular expression does not compile.
    pub fn from_config(name: &str, config: &RuleConfig) -> Result<Rule, AlertError> {
        let common = config.common();
        let filter = |key: &str, pattern: &str| {
            NameFilter::new(Some(pattern), None).map_err(|e| AlertError::Rule {
                rule: name.to_owned(),
                message: format!("{key}: {e}"),
            })
        };
        let kind = match config {
            RuleConfig::Threshold(t) => RuleKind::Threshold {
                target: t.target,
                threshold: Threshold {
                    aggregate: t.aggregate,
                    window_ms: millis(t.window).max(1),
                    comparison: match t.op {
                        ThresholdOp::Gt => Comparison::Gt,
                        ThresholdOp::Ge => Comparison::Ge,
                    },
                    value: t.value,
                },
            },
            RuleConfig::Status(s) => RuleKind::Status {
                min: match s.status {
                    StatusLevel::Warn => GroupStatus::Warn,
                    StatusLevel::Err => GroupStatus::Err,
                },
            },
            RuleConfig::TimeLag(t) => RuleKind::TimeLag { seconds: t.seconds },
            RuleConfig::Retention(r) => RuleKind::Retention {
                margin_messages: r.margin_messages,
                margin_share: r.margin_share,
            },
            RuleConfig::CatchUp(c) => RuleKind::CatchUp {
                max_seconds: c.max_catch_up.as_secs_f64(),
                retention: c.retention,
            },
            other => {
                return Err(AlertError::Rule {
                    rule: name.to_owned(),
                    message: format!("rule type {:?} is not supported", other.type_name()),
                });
            }
        };
        Ok(Rule {
            name: name.to_owned(),
            kind,
            clusters: filter("clusters", &common.clusters)?,
            groups: filter("groups", &common.groups)?,
            topics: filter("topics", &common.topics)?,
            all_topics: common.topics.is_empty(),
            severity: common.severity,
            labels: common.labels,
            for_ms: millis(common.for_duration),
            interval_ms: millis(common.interval).max(1),
            repeat_ms: millis(common.repeat_interval),
            send_resolved: common.send_resolved,
        })
    }

    /// Whether the rule watches this group at all.
    pub fn watches(&self, group: &GroupReport) -> bool {
        self.clusters.accepts(&group.cluster) && self.groups.accepts(&group.group)
    }

    /// Whether a partition of a watched group counts.
    pub fn counts(&self, partition: &PartitionReport) -> bool {
        self.all_topics || self.topics.accepts(&partition.topic)
    }
}

/// What a rule concluded about one group at one decision.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Condition {
    /// The condition holds.
    Breach {
        /// The value compared (the worst one).
        value: f64,
        /// The partitions that breach, worst first.
        partitions: Vec<PartitionDetail>,
        /// One line for people.
        summary: String,
    },
    /// The condition does not hold.
    Clear {
        /// The value compared (the worst one).
        value: f64,
        /// One line for people.
        summary: String,
    },
    /// Nothing can be said (stale data, no samples): the alert state stays as it is.
    Unknown,
}

/// A partition with the value the rule compared.
pub(crate) fn detail(p: &PartitionReport, value: f64) -> PartitionDetail {
    PartitionDetail {
        topic: p.topic.clone(),
        partition: p.partition,
        lag: p.current_lag,
        value,
        status: p.status,
    }
}

/// Sorts worst first (highest value, then topic/partition) and keeps [`MAX_PARTITIONS`].
pub(crate) fn worst(mut partitions: Vec<PartitionDetail>) -> Vec<PartitionDetail> {
    partitions.sort_by(|a, b| {
        b.value
            .total_cmp(&a.value)
            .then_with(|| a.topic.cmp(&b.topic))
            .then_with(|| a.partition.cmp(&b.partition))
    });
    partitions.truncate(MAX_PARTITIONS);
    partitions
}

/// The group status as Burrow would compute it from the partitions that count.
pub(crate) fn status_of(partitions: &[&PartitionReport]) -> GroupStatus {
    partitions
        .iter()
        .map(|p| match p.status {
            PartitionStatus::Ok => GroupStatus::Ok,
            PartitionStatus::Warn => GroupStatus::Warn,
            PartitionStatus::Stop | PartitionStatus::Stall | PartitionStatus::Rewind => {
                GroupStatus::Err
            }
        })
        .max()
        .unwrap_or(GroupStatus::Ok)
}

/// Formats a value without a pointless fraction (`10`, `10.5`).
pub(crate) fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}
