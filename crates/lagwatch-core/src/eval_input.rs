//! The input of `lagwatch eval`: consumer groups with their commit windows written out by
//! hand (or exported from somewhere else), evaluated with Burrow's rules without running a
//! model.
//!
//! The format is described with an example in `docs/evaluator.md`. In short:
//!
//! ```
//! use lagwatch_core::eval_input::{evaluate, EvalInput};
//! use lagwatch_core::GroupStatus;
//!
//! let input: EvalInput = serde_json::from_str(r#"{
//!   "now_ms": 600000,
//!   "intervals": 5,
//!   "groups": [{
//!     "cluster": "local", "group": "billing",
//!     "partitions": [{
//!       "topic": "invoices", "partition": 0, "broker_offset": 1300,
//!       "offsets": [
//!         {"offset": 1000, "timestamp": 100000, "lag": 100},
//!         {"offset": 1000, "timestamp": 200000, "lag": 150},
//!         {"offset": 1000, "timestamp": 300000, "lag": 200},
//!         {"offset": 1000, "timestamp": 400000, "lag": 250},
//!         {"offset": 1000, "timestamp": 500000, "lag": 300}
//!       ]
//!     }]
//!   }]
//! }"#).unwrap();
//! let reports = evaluate(&input).unwrap();
//! assert_eq!(reports[0].status, GroupStatus::Err); // the partition is STALL
//! assert_eq!(reports[0].totallag, 300);
//! ```

use crate::TimestampMs;
use crate::evaluator::{self, EvaluatorSettings, PartitionWindow};
use crate::report::{GroupReport, OffsetPoint};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Largest `intervals` accepted: windows far longer than any Burrow setup uses, and small
/// enough that the windows of one group stay bounded.
pub const MAX_INTERVALS: usize = 10_000;

/// Most window slots (`intervals` × partitions) of one group. Each slot takes about 40 bytes
/// while the group is evaluated, so one group's windows stay under about 160 MB.
pub const MAX_WINDOW_SLOTS: usize = 4_000_000;

/// Largest input `lagwatch eval` reads (64 MiB); longer input is refused before parsing.
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

fn default_intervals() -> usize {
    10
}

/// The whole input: evaluation time, evaluator settings and the groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalInput {
    /// Evaluation time, ms since the epoch (Burrow's rules only use its whole seconds).
    pub now_ms: TimestampMs,
    /// Ring size (Burrow's `intervals`), default 10.
    #[serde(default = "default_intervals")]
    pub intervals: usize,
    /// Burrow's `allowed-lag`, default 0.
    #[serde(default)]
    pub allowed_lag: u64,
    /// Burrow's `minimum-complete`, default 0.
    #[serde(default)]
    pub minimum_complete: f32,
    /// The groups to evaluate; reports come back in the same order.
    pub groups: Vec<EvalGroup>,
}

/// One consumer group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalGroup {
    /// Cluster name.
    pub cluster: String,
    /// Group name.
    pub group: String,
    /// The group's partitions (any order; reports list them by topic, then partition).
    pub partitions: Vec<EvalPartition>,
}

/// One partition of a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalPartition {
    /// Topic.
    pub topic: String,
    /// Partition number (not negative).
    pub partition: i32,
    /// Owner host, empty when absent.
    #[serde(default)]
    pub owner: String,
    /// Owner client id, empty when absent.
    #[serde(default)]
    pub client_id: String,
    /// Newest broker end offset; shorthand for `broker_offsets: [broker_offset]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker_offset: Option<i64>,
    /// Broker end-offset samples, oldest first (for the "recent lag zero" check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker_offsets: Option<Vec<i64>>,
    /// Current lag; computed from the newest broker offset and the newest commit when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_lag: Option<u64>,
    /// Stored commits, oldest first. More than `intervals`: only the newest `intervals` count;
    /// fewer: the window is incomplete. Empty: the group never committed on this partition.
    pub offsets: Vec<EvalOffset>,
}

/// One stored commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalOffset {
    /// Committed offset.
    pub offset: i64,
    /// Commit timestamp, ms.
    pub timestamp: TimestampMs,
    /// Lag at commit time; absent or `null` for an unknown lag.
    #[serde(default)]
    pub lag: Option<u64>,
    /// When the commit was stored, ms (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<TimestampMs>,
}

/// Something in the input that cannot be evaluated. The message names the record
/// (`groups[i].partitions[j]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalInputError {
    /// `intervals` is 0.
    #[error("intervals must be at least 1, got 0")]
    ZeroIntervals,
    /// `intervals` is above [`MAX_INTERVALS`].
    #[error("intervals must be at most {max}, got {intervals}")]
    TooManyIntervals {
        /// The value given.
        intervals: usize,
        /// The limit.
        max: usize,
    },
    /// A group's windows would hold more than [`MAX_WINDOW_SLOTS`] slots.
    #[error(
        "{path}: {partitions} partitions with windows of {intervals} commits make {slots} window slots, more than the {max} one group may have; lower intervals or split the group"
    )]
    WindowsTooLarge {
        /// Record path, `groups[i]`.
        path: String,
        /// Partitions of the group.
        partitions: usize,
        /// The `intervals` of the input.
        intervals: usize,
        /// Their product.
        slots: u128,
        /// The limit.
        max: usize,
    },
    /// Neither `current_lag` nor a broker offset is given for a partition with commits.
    #[error(
        "{path} (topic {topic:?} partition {partition}): give current_lag, broker_offset or broker_offsets; without one the current lag cannot be computed"
    )]
    MissingLag {
        /// Record path, `groups[i].partitions[j]`.
        path: String,
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
    },
    /// `broker_offsets` is given but empty while the current lag must be computed.
    #[error(
        "{path} (topic {topic:?} partition {partition}): broker_offsets is empty, so the current lag cannot be computed; give current_lag or at least one broker offset"
    )]
    EmptyBrokerOffsets {
        /// Record path.
        path: String,
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
    },
    /// `broker_offset` and `broker_offsets` disagree.
    #[error(
        "{path} (topic {topic:?} partition {partition}): broker_offset {broker_offset} is not the newest of broker_offsets ({newest:?})"
    )]
    ConflictingBrokerOffsets {
        /// Record path.
        path: String,
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// The single value.
        broker_offset: i64,
        /// The newest value of the list (`None` for an empty list).
        newest: Option<i64>,
    },
    /// A negative partition number.
    #[error("{path} (topic {topic:?}): partition {partition} is negative")]
    NegativePartition {
        /// Record path.
        path: String,
        /// Topic.
        topic: String,
        /// The partition number.
        partition: i32,
    },
    /// The same topic and partition twice in one group.
    #[error("{path}: topic {topic:?} partition {partition} is already given at {first}")]
    DuplicatePartition {
        /// Record path of the repetition.
        path: String,
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// Record path of the first occurrence.
        first: String,
    },
}

/// Evaluates every group of the input; reports are in input order.
pub fn evaluate(input: &EvalInput) -> Result<Vec<GroupReport>, EvalInputError> {
    if input.intervals == 0 {
        return Err(EvalInputError::ZeroIntervals);
    }
    if input.intervals > MAX_INTERVALS {
        return Err(EvalInputError::TooManyIntervals {
            intervals: input.intervals,
            max: MAX_INTERVALS,
        });
    }
    for (gi, group) in input.groups.iter().enumerate() {
        let slots = group.partitions.len() as u128 * input.intervals as u128;
        if slots > MAX_WINDOW_SLOTS as u128 {
            return Err(EvalInputError::WindowsTooLarge {
                path: format!("groups[{gi}]"),
                partitions: group.partitions.len(),
                intervals: input.intervals,
                slots,
                max: MAX_WINDOW_SLOTS,
            });
        }
    }
    let settings = EvaluatorSettings {
        minimum_complete: input.minimum_complete,
        allowed_lag: input.allowed_lag,
        ..EvaluatorSettings::default()
    };
    let mut reports = Vec::with_capacity(input.groups.len());
    for (gi, group) in input.groups.iter().enumerate() {
        let mut seen: BTreeMap<(&str, i32), String> = BTreeMap::new();
        let mut windows = Vec::with_capacity(group.partitions.len());
        for (pi, p) in group.partitions.iter().enumerate() {
            let path = format!("groups[{gi}].partitions[{pi}]");
            if let Some(first) = seen.get(&(p.topic.as_str(), p.partition)) {
                return Err(EvalInputError::DuplicatePartition {
                    path,
                    topic: p.topic.clone(),
                    partition: p.partition,
                    first: first.clone(),
                });
            }
            windows.push(window(p, input.intervals, &path)?);
            seen.insert((p.topic.as_str(), p.partition), path);
        }
        reports.push(evaluator::evaluate_group(
            &group.cluster,
            &group.group,
            &windows,
            input.intervals,
            input.now_ms,
            &settings,
        ));
    }
    Ok(reports)
}

/// The evaluator window for one input partition; `path` names it in errors.
pub fn window(
    p: &EvalPartition,
    intervals: usize,
    path: &str,
) -> Result<PartitionWindow, EvalInputError> {
    if intervals > MAX_INTERVALS {
        return Err(EvalInputError::TooManyIntervals {
            intervals,
            max: MAX_INTERVALS,
        });
    }
    if p.partition < 0 {
        return Err(EvalInputError::NegativePartition {
            path: path.to_owned(),
            topic: p.topic.clone(),
            partition: p.partition,
        });
    }
    let broker_offsets = match (&p.broker_offsets, p.broker_offset) {
        (Some(list), Some(single)) => {
            if list.last() != Some(&single) {
                return Err(EvalInputError::ConflictingBrokerOffsets {
                    path: path.to_owned(),
                    topic: p.topic.clone(),
                    partition: p.partition,
                    broker_offset: single,
                    newest: list.last().copied(),
                });
            }
            list.clone()
        }
        (Some(list), None) => list.clone(),
        (None, Some(single)) => vec![single],
        (None, None) => Vec::new(),
    };

    let start = p.offsets.len().saturating_sub(intervals);
    let kept = &p.offsets[start..];
    let current_lag = match (p.current_lag, kept.last()) {
        (Some(lag), _) => lag,
        (None, None) => 0,
        (None, Some(newest)) => match broker_offsets.last() {
            Some(&high_water) => {
                let lag = i128::from(high_water) - i128::from(newest.offset);
                u64::try_from(lag.max(0)).unwrap_or(u64::MAX)
            }
            None if p.broker_offsets.is_some() => {
                return Err(EvalInputError::EmptyBrokerOffsets {
                    path: path.to_owned(),
                    topic: p.topic.clone(),
                    partition: p.partition,
                });
            }
            None => {
                return Err(EvalInputError::MissingLag {
                    path: path.to_owned(),
                    topic: p.topic.clone(),
                    partition: p.partition,
                });
            }
        },
    };

    let mut offsets = Vec::new();
    if !kept.is_empty() {
        offsets = vec![None; intervals - kept.len()];
        offsets.extend(kept.iter().map(|o| {
            Some(OffsetPoint {
                offset: o.offset,
                timestamp: o.timestamp,
                observed_at: o.observed_at.unwrap_or(0),
                lag: o.lag,
            })
        }));
    }
    Ok(PartitionWindow {
        topic: p.topic.clone(),
        partition: p.partition,
        owner: p.owner.clone(),
        client_id: p.client_id.clone(),
        offsets,
        broker_offsets,
        current_lag,
    })
}
