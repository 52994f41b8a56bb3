//! Burrow's partition and group evaluation, reproduced rule for rule.
//!
//! [`evaluate_partition`] turns one [`PartitionWindow`] (the stored commits of a group on one
//! partition, plus the broker end-offset history) into a [`PartitionReport`];
//! [`evaluate_group`] does that for every partition of a group and aggregates the results into
//! a [`GroupReport`] the way Burrow's evaluator does. The individual rules live in [`rules`].
//!
//! Everything here is a pure function of its arguments: the evaluation time is passed in as
//! `now_ms`. Like Burrow, the STOP rule only looks at whole seconds of `now_ms`.
//!
//! ```
//! use lagwatch_core::evaluator::{evaluate_partition, EvaluatorSettings, PartitionWindow};
//! use lagwatch_core::{OffsetPoint, PartitionStatus};
//!
//! // Burrow's rule vector 5: the committed offset never moves while lag grows.
//! let offsets = (0..5)
//!     .map(|i| Some(OffsetPoint { offset: 1000, timestamp: 100_000 * (i + 1), observed_at: 0, lag: Some(100 + 50 * i as u64) }))
//!     .collect();
//! let window = PartitionWindow {
//!     topic: "orders".into(),
//!     partition: 0,
//!     offsets,
//!     broker_offsets: vec![1300],
//!     current_lag: 300,
//!     ..PartitionWindow::default()
//! };
//! let report = evaluate_partition(&window, 5, 600_000, &EvaluatorSettings::default());
//! assert_eq!(report.status, PartitionStatus::Stall);
//! assert_eq!(report.complete, 1.0);
//! ```

pub mod rules;

use crate::TimestampMs;
use crate::report::{GroupReport, OffsetPoint, PartitionExtras, PartitionReport};
use crate::status::{GroupStatus, PartitionStatus};

/// The evaluator's settings, named after Burrow's `[evaluator]` keys, plus lagwatch's
/// warm-up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvaluatorSettings {
    /// Burrow's `minimum-complete`: a partition whose window is filled to less than this share
    /// (0.0–1.0) is reported OK without checking any rule. Default 0.0: every partition with at
    /// least one commit is evaluated.
    pub minimum_complete: f32,
    /// Burrow's `allowed-lag`: a current lag at or below this is always OK, and a commit whose
    /// lag was at or below it makes the zero-lag rule apply. Default 0.
    pub allowed_lag: u64,
    /// How long (ms) a window holding a single commit counts as warming up, counted from when
    /// that commit was stored. A consumer that commits again within this time is judged from
    /// two commits; one that does not is judged on its single commit after it (a consumer
    /// that was already stopped when lagwatch started is reported then). Default 5 minutes;
    /// 0 turns this part of the warm-up off.
    pub warm_up_ms: i64,
}

impl Default for EvaluatorSettings {
    fn default() -> Self {
        EvaluatorSettings {
            minimum_complete: 0.0,
            allowed_lag: 0,
            warm_up_ms: 300_000,
        }
    }
}

/// What the evaluator needs to know about one partition of a group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PartitionWindow {
    /// Topic.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
    /// Host of the owning consumer, empty when unknown.
    pub owner: String,
    /// Client id of the owning consumer, empty when unknown.
    pub client_id: String,
    /// The commit ring, oldest slot first. Never-filled slots are `None` and sit at the start.
    /// An empty vector means the group never committed on this partition (it exists only
    /// because the topic has that many partitions). A vector longer than `intervals` is cut to
    /// its newest `intervals` slots; a shorter one counts as padded with leading `None`s.
    pub offsets: Vec<Option<OffsetPoint>>,
    /// Broker end-offset samples, oldest first. Only the newest `intervals` take part in the
    /// "recent lag zero" check, as Burrow keeps only that many.
    pub broker_offsets: Vec<i64>,
    /// Newest broker end offset minus the newest committed offset, floored at 0 (0 without a
    /// commit).
    pub current_lag: u64,
}

/// Evaluates one partition exactly as Burrow does.
///
/// `intervals` is the ring size (Burrow's `intervals`); 0 means "the length of
/// `window.offsets`". Steps:
///
/// 1. An empty `offsets` vector is reported OK with `complete` 0 and no `start`/`end`.
/// 2. Leading empty slots are dropped; `complete` is the share of slots that remain (1.0 when
///    none was empty). When every slot is empty Burrow keeps the last one, so `complete` is
///    `1 / intervals` and the partition is OK without `start`/`end`.
/// 3. `start` and `end` are the oldest and newest commit. `extras.warming_up` is set when
///    the window is filled to less than `minimum_complete`, or holds a single commit stored
///    less than `warm_up_ms` ago: Burrow's rules cannot tell a stopped consumer from a new
///    one on a single commit.
/// 4. When `complete >= minimum_complete` the status is [`rules::partition_status`], otherwise
///    OK.
///
/// `extras.log_end_offset` is set from the newest broker sample; the other extras are left
/// for the model to fill.
pub fn evaluate_partition(
    window: &PartitionWindow,
    intervals: usize,
    now_ms: TimestampMs,
    settings: &EvaluatorSettings,
) -> PartitionReport {
    let mut report = PartitionReport {
        topic: window.topic.clone(),
        partition: window.partition,
        owner: window.owner.clone(),
        client_id: window.client_id.clone(),
        status: PartitionStatus::Ok,
        start: None,
        end: None,
        current_lag: window.current_lag,
        complete: 0.0,
        extras: PartitionExtras {
            log_end_offset: window.broker_offsets.last().copied(),
            ..PartitionExtras::default()
        },
    };
    if window.offsets.is_empty() {
        return report;
    }

    let size = if intervals == 0 {
        window.offsets.len()
    } else {
        intervals
    };
    let slots = &window.offsets[window.offsets.len().saturating_sub(size)..];
    let first_filled = slots.iter().position(Option::is_some);
    // Burrow keeps the last slot when all of them are empty.
    let kept = first_filled.map_or(1, |i| slots.len() - i);
    report.complete = if kept < size {
        kept as f32 / size as f32
    } else {
        1.0
    };

    let commits: Vec<OffsetPoint> = slots[first_filled.unwrap_or(slots.len())..]
        .iter()
        .flatten()
        .copied()
        .collect();
    let (Some(start), Some(end)) = (commits.first(), commits.last()) else {
        return report;
    };
    report.start = Some(*start);
    report.end = Some(*end);
    let single_and_new =
        commits.len() < 2 && now_ms.saturating_sub(end.observed_at) < settings.warm_up_ms;
    report.extras.warming_up = single_and_new || report.complete < settings.minimum_complete;

    if report.complete >= settings.minimum_complete {
        let broker = &window.broker_offsets;
        let recent = &broker[broker.len().saturating_sub(size)..];
        report.status = rules::partition_status(
            &commits,
            window.current_lag,
            recent,
            now_ms,
            settings.allowed_lag,
        );
    }
    report
}

/// Evaluates every partition of a found group and aggregates them (see [`aggregate_group`]).
pub fn evaluate_group(
    cluster: &str,
    group: &str,
    partitions: &[PartitionWindow],
    intervals: usize,
    now_ms: TimestampMs,
    settings: &EvaluatorSettings,
) -> GroupReport {
    let reports = partitions
        .iter()
        .map(|w| evaluate_partition(w, intervals, now_ms, settings))
        .collect();
    aggregate_group(cluster, group, reports, now_ms)
}

/// Builds a found group's report from its evaluated partitions, as Burrow's evaluator does:
///
/// * `partitions` sorted by topic, then partition number;
/// * `status`: the worst partition status, with STOP, STALL and REWIND reported as ERR (OK
///   without partitions); `worst_partition` keeps the uncapped worst status;
/// * `totallag`: sum of every partition's current lag (saturating);
/// * `maxlag`: the partition with the highest current lag, the first in topic/partition order
///   on ties (Burrow's choice is random there);
/// * `partition_count`: number of partitions;
/// * `complete`: share of partitions whose own `complete` is 1.0 (0 without partitions);
/// * `stale`: `true` when any partition is stale;
/// * `warming_up`: `true` when any partition is warming up.
pub fn aggregate_group(
    cluster: &str,
    group: &str,
    mut partitions: Vec<PartitionReport>,
    now_ms: TimestampMs,
) -> GroupReport {
    partitions.sort_by(|a, b| {
        a.topic
            .cmp(&b.topic)
            .then_with(|| a.partition.cmp(&b.partition))
    });

    let mut status = GroupStatus::Ok;
    let mut worst: Option<PartitionStatus> = None;
    let mut totallag = 0u64;
    let mut maxlag: Option<&PartitionReport> = None;
    let mut complete_partitions = 0usize;
    for p in &partitions {
        status = status.max(p.status.group_level());
        worst = worst.max(Some(p.status));
        totallag = totallag.saturating_add(p.current_lag);
        if maxlag.is_none_or(|m| p.current_lag > m.current_lag) {
            maxlag = Some(p);
        }
        if p.complete == 1.0 {
            complete_partitions += 1;
        }
    }
    let count = partitions.len();
    let maxlag = maxlag.cloned();
    let stale = partitions.iter().any(|p| p.extras.stale);
    let warming_up = partitions.iter().any(|p| p.extras.warming_up);
    GroupReport {
        group_type: crate::report::GroupType::Consumer,
        cluster: cluster.to_owned(),
        group: group.to_owned(),
        status,
        complete: if count == 0 {
            0.0
        } else {
            complete_partitions as f32 / count as f32
        },
        partition_count: u32::try_from(count).unwrap_or(u32::MAX),
        partitions,
        maxlag,
        totallag,
        evaluated_at: now_ms,
        worst_partition: worst,
        stale,
        warming_up,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(offset: i64, timestamp: i64, lag: u64) -> Option<OffsetPoint> {
        Some(OffsetPoint {
            offset,
            timestamp,
            observed_at: 0,
            lag: Some(lag),
        })
    }

    #[test]
    fn long_windows_keep_their_newest_slots() {
        // Six slots for a ring of five: the oldest (a rewind from 9000) is cut away.
        let window = PartitionWindow {
            offsets: vec![
                point(9000, 0, 1),
                point(1000, 100_000, 100),
                point(2000, 200_000, 90),
                point(3000, 300_000, 80),
                point(4000, 400_000, 70),
                point(5000, 500_000, 60),
            ],
            broker_offsets: vec![5060],
            current_lag: 60,
            ..PartitionWindow::default()
        };
        let r = evaluate_partition(&window, 5, 500_000, &EvaluatorSettings::default());
        assert_eq!(r.status, PartitionStatus::Ok);
        assert_eq!(r.start.map(|s| s.offset), Some(1000));
        assert_eq!(r.complete, 1.0);
        assert_eq!(r.extras.log_end_offset, Some(5060));
    }

    #[test]
    fn intervals_zero_uses_the_window_length() {
        let window = PartitionWindow {
            offsets: vec![None, point(1, 0, 5)],
            current_lag: 5,
            ..PartitionWindow::default()
        };
        let r = evaluate_partition(&window, 0, 0, &EvaluatorSettings::default());
        assert_eq!(r.complete, 0.5);
        // One commit, no time elapsed: not STOP; a single offset is STALL.
        assert_eq!(r.status, PartitionStatus::Stall);
    }
}
