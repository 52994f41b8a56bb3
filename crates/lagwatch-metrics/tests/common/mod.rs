//! A small hand-built snapshot shared by the encoding tests.
#![allow(dead_code)]

use lagwatch_component::RuntimeStats;
use lagwatch_component::stats::{ClusterReads, OutputStats, ReadRow, SourceState};
use lagwatch_core::report::{GroupReport, OffsetPoint, PartitionExtras, PartitionReport};
use lagwatch_core::snapshot::{SnapshotData, TopicOffsets};
use lagwatch_core::time_lag::{Confidence, TimeLag};
use lagwatch_core::trend::{CatchUp, Trend};
use lagwatch_core::{GroupStatus, PartitionStatus, Snapshot};
use std::time::Duration;

/// 2026-01-01T00:00:00Z.
pub const AT_MS: i64 = 1_767_225_600_000;

pub fn partition(
    topic: &str,
    partition: i32,
    committed: Option<i64>,
    lag: u64,
    owner: &str,
    client_id: &str,
) -> PartitionReport {
    PartitionReport {
        topic: topic.into(),
        partition,
        owner: owner.into(),
        client_id: client_id.into(),
        status: PartitionStatus::Ok,
        start: None,
        end: committed.map(|offset| OffsetPoint {
            offset,
            timestamp: AT_MS - 1_000,
            observed_at: AT_MS - 1_000,
            lag: Some(lag),
        }),
        current_lag: lag,
        complete: 1.0,
        extras: PartitionExtras::default(),
    }
}

pub fn group(cluster: &str, name: &str, partitions: Vec<PartitionReport>) -> GroupReport {
    let totallag = partitions.iter().map(|p| p.current_lag).sum();
    GroupReport {
        group_type: lagwatch_core::report::GroupType::Consumer,
        cluster: cluster.into(),
        group: name.into(),
        status: GroupStatus::Ok,
        complete: 1.0,
        partition_count: u32::try_from(partitions.len()).unwrap_or(0),
        maxlag: None,
        totallag,
        partitions,
        evaluated_at: AT_MS,
        worst_partition: Some(PartitionStatus::Ok),
        stale: false,
        warming_up: false,
    }
}

/// One cluster `live`: group `app` on `orders` (partition 0 committed 90 of 100 with a time
/// lag of 2.5 s, catching up in 4 s, partition 1 never committed) and `payments` (partition 0
/// caught up).
pub fn small_snapshot() -> Snapshot {
    let mut p0 = partition("orders", 0, Some(90), 10, "/10.0.0.1", "app-1");
    p0.status = PartitionStatus::Warn;
    p0.extras.log_start_offset = Some(40);
    p0.extras.time_lag = Some(TimeLag {
        seconds: 2.5,
        confidence: Confidence::Interpolated,
    });
    p0.extras.trend = Some(Trend {
        production_rate: Some(4.0),
        consumption_rate: Some(6.5),
        lag_rate: Some(-2.5),
        catch_up: CatchUp::In { seconds: 4.0 },
        retention_deadline_seconds: Some(125.0),
        ..Trend::UNKNOWN
    });
    let p1 = partition("orders", 1, None, 0, "", "");
    let mut p2 = partition("payments", 0, Some(7), 0, "/10.0.0.2", "app-2");
    p2.extras.time_lag = Some(TimeLag {
        seconds: 0.0,
        confidence: Confidence::Interpolated,
    });
    p2.extras.trend = Some(Trend {
        production_rate: Some(1.0),
        consumption_rate: Some(1.0),
        lag_rate: Some(0.0),
        catch_up: CatchUp::CaughtUp,
        ..Trend::UNKNOWN
    });
    let mut app = group("live", "app", vec![p0, p1, p2]);
    app.status = GroupStatus::Warn;
    app.warming_up = true;
    Snapshot::new(SnapshotData {
        at_ms: AT_MS,
        cycle: 3,
        groups: vec![app],
        topics: vec![
            TopicOffsets {
                cluster: "live".into(),
                topic: "orders".into(),
                high_water: vec![Some(100), Some(50)],
                log_start: vec![Some(40), None],
            },
            TopicOffsets {
                cluster: "live".into(),
                topic: "payments".into(),
                high_water: vec![Some(7)],
                log_start: vec![Some(0)],
            },
        ],
    })
}

/// The same data seen in two clusters, `live` and `backup`.
pub fn two_cluster_snapshot() -> Snapshot {
    let small = small_snapshot();
    let mut data = small.data().clone();
    let mut groups = Vec::new();
    let mut topics = Vec::new();
    for g in &data.groups {
        let mut b = g.clone();
        b.cluster = "backup".into();
        groups.push(b);
    }
    for t in &data.topics {
        let mut b = t.clone();
        b.cluster = "backup".into();
        topics.push(b);
    }
    groups.append(&mut data.groups);
    topics.append(&mut data.topics);
    data.groups = groups;
    data.topics = topics;
    Snapshot::new(data)
}

pub fn stats() -> RuntimeStats {
    RuntimeStats {
        started_ms: AT_MS - 60_000,
        cycles: 3,
        last_evaluation: Some(Duration::from_millis(12)),
        events: 420,
        event_queue_depth: 1,
        event_queue_capacity: 1024,
        sources: vec![SourceState {
            name: "kafka[live]".into(),
            has_read: true,
        }],
        reads: vec![ReadRow {
            source: "kafka[live]".into(),
            cluster: "live".into(),
            reads: ClusterReads {
                reads: 5,
                failures: 1,
                last_duration: Some(Duration::from_millis(250)),
                last_success_ms: Some(AT_MS - 2_000),
                last_error: None,
            },
        }],
        sinks: vec![OutputStats {
            name: "archive".into(),
            accepted: 3,
            records: 30,
            failed: 0,
            dropped: 2,
            queue_depth: 0,
            queue_capacity: 16,
        }],
        alerters: vec![OutputStats {
            name: "slack".into(),
            accepted: 1,
            records: 1,
            failed: 4,
            dropped: 6,
            queue_depth: 1,
            queue_capacity: 64,
        }],
        state_save_failures: 0,
        ownership: vec![lagwatch_component::OwnershipRow {
            cluster: "live".into(),
            offsets_partitions: vec![0, 2],
            partition_count: 4,
        }],
    }
}
