//! Small hand-made evaluation results for tests.
//!
//! Built directly from `lagwatch_core`'s report types (not through the model or the
//! evaluator), so sink and rule tests do not depend on the evaluation logic.
//!
//! [`snapshot`] covers every case a sink has to render: every partition status, a group with
//! partitions of unknown owner and without commits, a NOTFOUND group, a stale group, two
//! clusters, topics with a partition that has no broker sample, and time-lag estimates of each
//! confidence.

use lagwatch_core::report::{GroupReport, OffsetPoint, PartitionExtras, PartitionReport};
use lagwatch_core::snapshot::{SnapshotData, TopicOffsets};
use lagwatch_core::status::{GroupStatus, PartitionStatus};
use lagwatch_core::time_lag::{Confidence, TimeLag};
use lagwatch_core::{Snapshot, TimestampMs};

/// Evaluation time of [`snapshot`]: 2019-08-19T08:32:10.250Z.
pub const SAMPLE_AT_MS: TimestampMs = 1_566_203_530_250;

/// One UTC day in milliseconds, for moving samples across midnight.
pub const DAY_MS: TimestampMs = 86_400_000;

/// A partition report with the given status and lag, owned by `owner`, whose newest commit is
/// `end_offset` at `at_ms - 1000` (`None`: no commit stored).
pub fn partition(
    topic: &str,
    partition: i32,
    status: PartitionStatus,
    current_lag: u64,
    end_offset: Option<i64>,
    owner: &str,
    at_ms: TimestampMs,
) -> PartitionReport {
    let end = end_offset.map(|offset| OffsetPoint {
        offset,
        timestamp: at_ms - 1_000,
        observed_at: at_ms - 900,
        lag: Some(current_lag),
    });
    let start = end_offset.map(|offset| OffsetPoint {
        offset: offset.saturating_sub(100),
        timestamp: at_ms - 60_000,
        observed_at: at_ms - 59_900,
        lag: Some(current_lag),
    });
    PartitionReport {
        topic: topic.to_owned(),
        partition,
        owner: owner.to_owned(),
        client_id: if owner.is_empty() {
            String::new()
        } else {
            format!("client-{partition}")
        },
        status,
        start,
        end,
        current_lag,
        complete: 1.0,
        extras: PartitionExtras {
            log_end_offset: end_offset
                .map(|o| o.saturating_add(i64::try_from(current_lag).unwrap_or(0))),
            log_start_offset: Some(0),
            time_lag: None,
            broker_sample_age_ms: Some(500),
            stale: false,
            warming_up: false,
            trend: None,
        },
    }
}

/// A group report over `partitions`, with status, totals and the most lagging partition
/// derived the way Burrow derives them (worst partition status capped at ERR).
pub fn group(
    cluster: &str,
    group: &str,
    partitions: Vec<PartitionReport>,
    at_ms: TimestampMs,
) -> GroupReport {
    let worst = partitions.iter().map(|p| p.status).max();
    let status = worst.map_or(GroupStatus::Ok, PartitionStatus::group_level);
    let maxlag = partitions
        .iter()
        .fold(None::<&PartitionReport>, |best, p| match best {
            Some(b) if b.current_lag >= p.current_lag => Some(b),
            _ => Some(p),
        })
        .cloned();
    let stale = partitions.iter().any(|p| p.extras.stale);
    GroupReport {
        group_type: lagwatch_core::report::GroupType::Consumer,
        cluster: cluster.to_owned(),
        group: group.to_owned(),
        status,
        complete: 1.0,
        partition_count: u32::try_from(partitions.len()).unwrap_or(u32::MAX),
        maxlag,
        totallag: partitions.iter().map(|p| p.current_lag).sum(),
        partitions,
        evaluated_at: at_ms,
        worst_partition: worst,
        stale,
        warming_up: false,
    }
}

/// [`snapshot_at`] at [`SAMPLE_AT_MS`], cycle 1.
pub fn snapshot() -> Snapshot {
    snapshot_at(SAMPLE_AT_MS, 1)
}

/// The full sample evaluated at `at_ms` as cycle `cycle`:
///
/// * `backup/archiver`: OK, one partition.
/// * `live/billing`: ERR, five partitions of `payments`, one per partition status (OK, WARN,
///   STOP, STALL, REWIND), with time-lag estimates of every confidence, one partition with
///   no owner.
/// * `live/ghost`: NOTFOUND.
/// * `live/hdfs_consumer`: WARN, three partitions of `payment_log` (lags 54, 4, 2), one
///   without a commit.
/// * `live/slow_reader`: OK but stale.
/// * Topics `backup/archive` (1 partition), `live/payment_log` (3 partitions, one without a
///   broker sample) and `live/payments` (5 partitions).
pub fn snapshot_at(at_ms: TimestampMs, cycle: u64) -> Snapshot {
    use PartitionStatus::*;

    let archiver = group(
        "backup",
        "archiver",
        vec![partition(
            "archive",
            0,
            Ok,
            0,
            Some(5_000),
            "/10.1.0.1",
            at_ms,
        )],
        at_ms,
    );

    let mut billing_parts = vec![
        partition("payments", 0, Ok, 3, Some(10_000), "/10.0.0.7", at_ms),
        partition("payments", 1, Warn, 120, Some(20_000), "/10.0.0.7", at_ms),
        partition("payments", 2, Stop, 4_000, Some(30_000), "/10.0.0.8", at_ms),
        partition("payments", 3, Stall, 900, Some(40_000), "/10.0.0.8", at_ms),
        partition("payments", 4, Rewind, 15, Some(50_000), "", at_ms),
    ];
    let estimates = [
        (Confidence::Interpolated, 1.5),
        (Confidence::Interpolated, 42.25),
        (Confidence::Extrapolated, 3_600.0),
        (Confidence::Interpolated, 610.0),
        (Confidence::Unknown, 0.0),
    ];
    for (p, (confidence, seconds)) in billing_parts.iter_mut().zip(estimates) {
        p.extras.time_lag = Some(TimeLag {
            seconds,
            confidence,
        });
    }
    let billing = group("live", "billing", billing_parts, at_ms);

    let ghost = GroupReport::not_found("live", "ghost", at_ms);

    let hdfs = group(
        "live",
        "hdfs_consumer",
        vec![
            partition(
                "payment_log",
                0,
                Warn,
                54,
                Some(1_234_567),
                "/10.0.0.5",
                at_ms,
            ),
            partition("payment_log", 1, Ok, 4, Some(1_233_433), "/10.0.0.5", at_ms),
            partition("payment_log", 2, Ok, 2, None, "", at_ms),
        ],
        at_ms,
    );

    let mut slow_parts = vec![
        partition("payments", 0, Ok, 0, Some(10_003), "/10.0.0.9", at_ms),
        partition("payments", 1, Ok, 1, Some(20_119), "/10.0.0.9", at_ms),
    ];
    for p in &mut slow_parts {
        p.extras.stale = true;
        p.extras.broker_sample_age_ms = Some(120_000);
    }
    let slow = group("live", "slow_reader", slow_parts, at_ms);

    let topics = vec![
        TopicOffsets {
            cluster: "backup".into(),
            topic: "archive".into(),
            high_water: vec![Some(5_000)],
            log_start: vec![Some(0)],
        },
        TopicOffsets {
            cluster: "live".into(),
            topic: "payment_log".into(),
            high_water: vec![Some(1_234_621), Some(1_233_437), None],
            log_start: vec![Some(1_000_000), None, None],
        },
        TopicOffsets {
            cluster: "live".into(),
            topic: "payments".into(),
            high_water: vec![
                Some(10_003),
                Some(20_120),
                Some(34_000),
                Some(40_900),
                Some(50_015),
            ],
            log_start: vec![Some(0), Some(0), Some(0), Some(0), Some(0)],
        },
    ];

    Snapshot::new(SnapshotData {
        at_ms,
        cycle,
        groups: vec![archiver, billing, ghost, hdfs, slow],
        topics,
    })
}

/// A snapshot with no groups and no topics (a collector that has seen nothing yet).
pub fn empty_snapshot(at_ms: TimestampMs, cycle: u64) -> Snapshot {
    Snapshot::new(SnapshotData {
        at_ms,
        cycle,
        groups: Vec::new(),
        topics: Vec::new(),
    })
}

/// Snapshots that only contain topics, only a NOTFOUND group, and the full sample, at
/// consecutive 10-second cycles starting at [`SAMPLE_AT_MS`].
pub fn snapshots() -> Vec<Snapshot> {
    let full = snapshot();
    let topics_only = Snapshot::new(SnapshotData {
        at_ms: SAMPLE_AT_MS + 10_000,
        cycle: 2,
        groups: Vec::new(),
        topics: full.topics().to_vec(),
    });
    let notfound_only = Snapshot::new(SnapshotData {
        at_ms: SAMPLE_AT_MS + 20_000,
        cycle: 3,
        groups: vec![GroupReport::not_found(
            "live",
            "ghost",
            SAMPLE_AT_MS + 20_000,
        )],
        topics: Vec::new(),
    });
    vec![
        full,
        topics_only,
        notfound_only,
        snapshot_at(SAMPLE_AT_MS + 30_000, 4),
    ]
}

/// The number of Telegraf-shaped records a snapshot holds, counted from the report structure
/// (independently of `lagwatch_core::measurement`): one per group, one per listed partition
/// and, with `topics`, one per topic partition that has a broker sample.
pub fn record_count(snapshot: &Snapshot, topics: bool) -> usize {
    let groups: usize = snapshot
        .groups()
        .iter()
        .map(|g| 1 + g.partitions.len())
        .sum();
    let topic_records: usize = if topics {
        snapshot
            .topics()
            .iter()
            .map(|t| t.high_water.iter().filter(|h| h.is_some()).count())
            .sum()
    } else {
        0
    };
    groups + topic_records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_covers_every_status_and_counts_records() {
        let s = snapshot();
        let statuses: std::collections::BTreeSet<_> = s
            .groups()
            .iter()
            .flat_map(|g| g.partitions.iter().map(|p| p.status))
            .collect();
        assert_eq!(statuses.len(), PartitionStatus::ALL.len());
        let group_statuses: std::collections::BTreeSet<_> =
            s.groups().iter().map(|g| g.status).collect();
        assert_eq!(group_statuses.len(), 4);
        assert!(s.groups().iter().any(|g| g.stale));
        // 5 groups + 11 partitions, + 8 topic partitions with a sample.
        assert_eq!(record_count(&s, false), 16);
        assert_eq!(record_count(&s, true), 24);
        assert_eq!(record_count(&empty_snapshot(0, 1), true), 0);
        let billing = &s.groups()[1];
        assert_eq!(billing.status, GroupStatus::Err);
        assert_eq!(billing.totallag, 5_038);
        assert_eq!(billing.maxlag.as_ref().map(|p| p.partition), Some(2));
    }
}
