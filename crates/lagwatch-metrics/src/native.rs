//! lagwatch's own metric names (`lagwatch_…`), described in docs/metrics.md.

use crate::walk::{
    Family, MetricKind, MetricVisitor, SampleSink, Walk, committed, flag, for_each_topic, inum,
    members, num, seconds, time_lag_seconds, topic_partition_offsets,
};
use lagwatch_core::report::{GroupReport, PartitionReport};
use lagwatch_core::trend::{GroupTrend, group_trend};
use std::fmt;

/// Per group partition.
pub(crate) const COMMITTED_OFFSET: Family = Family::gauge(
    "lagwatch_group_committed_offset",
    "Newest committed offset of the group on the partition (absent before the first commit).",
);
pub(crate) const LAG_MESSAGES: Family = Family::gauge_in(
    "lagwatch_group_lag_messages",
    "messages",
    "Log end offset minus committed offset, floored at 0 (absent before the first commit).",
);
pub(crate) const LAG_SECONDS: Family = Family::gauge_in(
    "lagwatch_group_lag_seconds",
    "seconds",
    "Estimated time since the committed offset was the log end (absent without an estimate).",
);
pub(crate) const RETENTION_MARGIN: Family = Family::gauge_in(
    "lagwatch_group_retention_margin_messages",
    "messages",
    "Committed offset minus log start offset: messages left before retention deletes unread data.",
);
pub(crate) const PARTITION_CATCH_UP: Family = Family::gauge_in(
    "lagwatch_group_partition_catch_up_seconds",
    "seconds",
    "Estimated time until the partition's lag is within the allowed lag (0: caught up; absent when not catching up or unknown).",
);
pub(crate) const PARTITION_LAG_RATE: Family = Family::gauge_in(
    "lagwatch_group_partition_lag_rate_messages_per_second",
    "messages_per_second",
    "Production rate minus consumption rate on the partition (negative: the lag shrinks; absent when unknown).",
);
pub(crate) const PARTITION_STATUS: Family = Family::gauge(
    "lagwatch_group_partition_status",
    "Partition status code: 1 OK, 2 WARN, 4 STOP, 5 STALL, 6 REWIND (Burrow's numbering).",
);
/// Per group and topic.
pub(crate) const TOPIC_LAG: Family = Family::gauge_in(
    "lagwatch_group_topic_lag_messages",
    "messages",
    "Sum of the group's partition lags on the topic.",
);
/// Per group.
pub(crate) const TOTAL_LAG: Family = Family::gauge_in(
    "lagwatch_group_total_lag_messages",
    "messages",
    "Sum of the group's partition lags.",
);
pub(crate) const MAX_LAG: Family = Family::gauge_in(
    "lagwatch_group_max_lag_messages",
    "messages",
    "Largest partition lag of the group.",
);
pub(crate) const MAX_LAG_SECONDS: Family = Family::gauge_in(
    "lagwatch_group_max_lag_seconds",
    "seconds",
    "Largest estimated time lag of the group's partitions (absent without any estimate).",
);
pub(crate) const CATCH_UP: Family = Family::gauge_in(
    "lagwatch_group_catch_up_seconds",
    "seconds",
    "Estimated time until the slowest partition of the group catches up (0: caught up; absent when not catching up or unknown).",
);
pub(crate) const CATCHING_UP: Family = Family::gauge(
    "lagwatch_group_catching_up",
    "1 when every lagging partition of the group is catching up, 0 when one is not (absent when unknown).",
);
pub(crate) const LAG_RATE: Family = Family::gauge_in(
    "lagwatch_group_lag_rate_messages_per_second",
    "messages_per_second",
    "Sum of the partitions' production minus consumption rates (negative: the lag shrinks; absent when unknown).",
);
pub(crate) const CONSUMPTION_RATE: Family = Family::gauge_in(
    "lagwatch_group_consumption_rate_messages_per_second",
    "messages_per_second",
    "Sum of the partitions' consumption rates (absent when unknown).",
);
pub(crate) const RETENTION_DEADLINE: Family = Family::gauge_in(
    "lagwatch_group_retention_deadline_seconds",
    "seconds",
    "Soonest time until retention deletes messages the group has not read (0: already deleted; absent while no log start moves).",
);
pub(crate) const GROUP_STATUS: Family = Family::gauge(
    "lagwatch_group_status",
    "Group status code: 0 NOTFOUND, 1 OK, 2 WARN, 3 ERR (Burrow's numbering).",
);
pub(crate) const WARMING_UP: Family = Family::gauge(
    "lagwatch_group_warming_up",
    "1 while a partition of the group has too little history for a verdict, else 0.",
);
pub(crate) const STALE: Family = Family::gauge(
    "lagwatch_group_stale",
    "1 when the group's cluster could not be read recently (data may be old), else 0.",
);
pub(crate) const MEMBERS: Family = Family::gauge(
    "lagwatch_group_members",
    "Distinct consumers (owner host and client id) owning the group's partitions.",
);
/// Per topic.
pub(crate) const TOPIC_PARTITIONS: Family = Family::gauge(
    "lagwatch_topic_partitions",
    "Number of partitions of the topic.",
);
pub(crate) const END_OFFSET: Family = Family::gauge(
    "lagwatch_partition_end_offset",
    "Newest log end offset (high-water mark) of the partition.",
);
pub(crate) const START_OFFSET: Family = Family::gauge(
    "lagwatch_partition_start_offset",
    "Newest log start offset of the partition.",
);
/// Operational.
pub(crate) const READ_DURATION: Family = Family::gauge_in(
    "lagwatch_read_duration_seconds",
    "seconds",
    "Duration of the source's newest read of the cluster.",
);
pub(crate) const READS: Family = Family::counter(
    "lagwatch_reads",
    "Reads of the cluster by the source, successful or not.",
);
pub(crate) const READ_FAILURES: Family = Family::counter(
    "lagwatch_read_failures",
    "Failed reads of the cluster by the source.",
);
pub(crate) const UP: Family = Family::gauge(
    "lagwatch_up",
    "1 when the source's newest read of the cluster succeeded, else 0.",
);
pub(crate) const LAST_SUCCESS: Family = Family::gauge_in(
    "lagwatch_last_success_timestamp_seconds",
    "seconds",
    "When the source's newest successful read of the cluster completed (Unix time).",
);
pub(crate) const EVALUATIONS: Family =
    Family::counter("lagwatch_evaluations", "Evaluations of the lag model.");
pub(crate) const EVALUATION_DURATION: Family = Family::gauge_in(
    "lagwatch_evaluation_duration_seconds",
    "seconds",
    "Duration of the newest evaluation.",
);
pub(crate) const EVENTS: Family =
    Family::counter("lagwatch_events", "Events applied to the lag model.");
pub(crate) const EVENT_QUEUE_DEPTH: Family = Family::gauge(
    "lagwatch_event_queue_depth",
    "Event batches waiting for the lag model.",
);
pub(crate) const EVENT_QUEUE_CAPACITY: Family = Family::gauge(
    "lagwatch_event_queue_capacity",
    "Size of the event queue (batches).",
);
pub(crate) const SINK_QUEUE_DEPTH: Family = Family::gauge(
    "lagwatch_sink_queue_depth",
    "Snapshots waiting for the sink.",
);
pub(crate) const SINK_QUEUE_CAPACITY: Family = Family::gauge(
    "lagwatch_sink_queue_capacity",
    "Size of the sink's queue (snapshots).",
);
pub(crate) const SINK_RECORDS: Family =
    Family::counter("lagwatch_sink_records", "Records the sink wrote.");
pub(crate) const SINK_FAILURES: Family = Family::counter(
    "lagwatch_sink_failures",
    "Failed write attempts of the sink.",
);
pub(crate) const SINK_DROPPED: Family = Family::counter(
    "lagwatch_sink_dropped_snapshots",
    "Snapshots dropped because the sink's queue was full.",
);
pub(crate) const ALERTER_DELIVERIES: Family = Family::counter(
    "lagwatch_alerter_deliveries",
    "Notifications the alerter delivered.",
);
pub(crate) const ALERTER_FAILURES: Family = Family::counter(
    "lagwatch_alerter_failures",
    "Failed delivery attempts of the alerter.",
);
pub(crate) const ALERTER_QUEUE_DEPTH: Family = Family::gauge(
    "lagwatch_alerter_queue_depth",
    "Notifications waiting for the alerter.",
);
pub(crate) const ALERTER_COALESCED: Family = Family::counter(
    "lagwatch_alerter_coalesced",
    "Reminders merged into a queued notification because the alerter's queue was full.",
);
pub(crate) const STATE_SAVE_FAILURES: Family = Family::counter(
    "lagwatch_state_save_failures",
    "Saves of the state directory that failed.",
);
pub(crate) const OWNED_PARTITIONS: Family = Family::gauge(
    "lagwatch_coordination_owned_partitions",
    "Offsets-topic partitions (and so groups and topics) of the cluster this instance owns, \
     when instances share it; summed over the instances it equals the partition count.",
);
pub(crate) const COORDINATION_PARTITIONS: Family = Family::gauge(
    "lagwatch_coordination_partitions",
    "Partitions of the cluster's offsets topic that the instances sharing it divide.",
);
pub(crate) const BUILD_INFO: Family = Family {
    name: "lagwatch_build",
    help: "lagwatch's version (value 1).",
    kind: MetricKind::Info,
    unit: None,
};
pub(crate) const SNAPSHOT_TIMESTAMP: Family = Family::gauge_in(
    "lagwatch_snapshot_timestamp_seconds",
    "seconds",
    "When the exposed evaluation ran (Unix time).",
);
pub(crate) const READY: Family = Family::gauge(
    "lagwatch_ready",
    "1 once every source has read once and an evaluation has run since, else 0.",
);

/// Writes one per-partition family of every accepted group.
fn per_partition(
    walk: &Walk<'_>,
    visitor: &mut dyn MetricVisitor,
    family: &Family,
    value: fn(&PartitionReport) -> Option<f64>,
) -> fmt::Result {
    visitor.family(family, &mut |out: &mut dyn SampleSink| {
        for g in walk.groups() {
            for p in walk.partitions(g) {
                if let Some(v) = value(p) {
                    let mut number = itoa::Buffer::new();
                    let labels = [
                        ("cluster", g.cluster.as_str()),
                        ("group", g.group.as_str()),
                        ("topic", p.topic.as_str()),
                        ("partition", number.format(p.partition)),
                    ];
                    out.sample(&labels, v)?;
                }
            }
        }
        Ok(())
    })
}

/// Writes one per-group family of every accepted group.
fn per_group(
    walk: &Walk<'_>,
    visitor: &mut dyn MetricVisitor,
    family: &Family,
    value: &dyn Fn(&Walk<'_>, &GroupReport) -> Option<f64>,
) -> fmt::Result {
    visitor.family(family, &mut |out: &mut dyn SampleSink| {
        for g in walk.groups() {
            if let Some(v) = value(walk, g) {
                out.sample(
                    &[("cluster", g.cluster.as_str()), ("group", g.group.as_str())],
                    v,
                )?;
            }
        }
        Ok(())
    })
}

/// Largest lag over the accepted partitions with a commit (0 for none).
pub(crate) fn max_lag(walk: &Walk<'_>, g: &GroupReport) -> u64 {
    walk.partitions(g)
        .filter(|p| committed(p).is_some())
        .map(|p| p.current_lag)
        .max()
        .unwrap_or(0)
}

/// Sum of the lags over the accepted partitions with a commit.
pub(crate) fn total_lag(walk: &Walk<'_>, g: &GroupReport) -> u64 {
    walk.partitions(g)
        .filter(|p| committed(p).is_some())
        .fold(0u64, |sum, p| sum.saturating_add(p.current_lag))
}

/// The trend of the accepted partitions, `None` when none has one.
fn trend(walk: &Walk<'_>, g: &GroupReport) -> Option<GroupTrend> {
    let mut any = false;
    let t = group_trend(walk.partitions(g).filter_map(|p| {
        any |= p.extras.trend.is_some();
        p.extras.trend.as_ref()
    }));
    any.then_some(t)
}

/// Largest time lag over the accepted partitions, `None` without any estimate.
pub(crate) fn max_lag_seconds(walk: &Walk<'_>, g: &GroupReport) -> Option<f64> {
    walk.partitions(g)
        .filter_map(time_lag_seconds)
        .fold(None, |max: Option<f64>, s| {
            Some(max.map_or(s, |m| m.max(s)))
        })
}

pub(crate) fn visit(walk: &Walk<'_>, visitor: &mut dyn MetricVisitor) -> fmt::Result {
    if walk.partition_series() {
        per_partition(walk, visitor, &COMMITTED_OFFSET, |p| committed(p).map(inum))?;
        per_partition(walk, visitor, &LAG_MESSAGES, |p| {
            committed(p).map(|_| num(p.current_lag))
        })?;
        per_partition(walk, visitor, &LAG_SECONDS, time_lag_seconds)?;
        per_partition(walk, visitor, &RETENTION_MARGIN, |p| {
            let start = p.extras.log_start_offset?;
            committed(p).map(|c| inum(c.saturating_sub(start)))
        })?;
        per_partition(walk, visitor, &PARTITION_CATCH_UP, |p| {
            p.extras.trend.and_then(|t| t.catch_up.seconds())
        })?;
        per_partition(walk, visitor, &PARTITION_LAG_RATE, |p| {
            p.extras.trend.and_then(|t| t.lag_rate)
        })?;
        per_partition(walk, visitor, &PARTITION_STATUS, |p| {
            Some(f64::from(p.status as u8))
        })?;
    }

    visitor.family(&TOPIC_LAG, &mut |out: &mut dyn SampleSink| {
        let mut scratch = Vec::new();
        for g in walk.groups() {
            for_each_topic(walk, g, &mut scratch, |topic, run| {
                let committed_any = run.iter().any(|p| committed(p).is_some());
                if !committed_any {
                    return Ok(());
                }
                let sum = run
                    .iter()
                    .filter(|p| committed(p).is_some())
                    .fold(0u64, |s, p| s.saturating_add(p.current_lag));
                out.sample(
                    &[
                        ("cluster", g.cluster.as_str()),
                        ("group", g.group.as_str()),
                        ("topic", topic),
                    ],
                    num(sum),
                )
            })?;
        }
        Ok(())
    })?;

    per_group(walk, visitor, &TOTAL_LAG, &|w, g| {
        Some(num(total_lag(w, g)))
    })?;
    per_group(walk, visitor, &MAX_LAG, &|w, g| Some(num(max_lag(w, g))))?;
    per_group(walk, visitor, &MAX_LAG_SECONDS, &max_lag_seconds)?;
    per_group(walk, visitor, &CATCH_UP, &|w, g| {
        trend(w, g).and_then(|t| t.catch_up.seconds())
    })?;
    per_group(walk, visitor, &CATCHING_UP, &|w, g| {
        trend(w, g).and_then(|t| t.catch_up.catching_up()).map(flag)
    })?;
    per_group(walk, visitor, &LAG_RATE, &|w, g| {
        trend(w, g).and_then(|t| t.lag_rate)
    })?;
    per_group(walk, visitor, &CONSUMPTION_RATE, &|w, g| {
        trend(w, g).and_then(|t| t.consumption_rate)
    })?;
    per_group(walk, visitor, &RETENTION_DEADLINE, &|w, g| {
        trend(w, g).and_then(|t| t.retention_deadline_seconds)
    })?;
    per_group(walk, visitor, &GROUP_STATUS, &|_, g| {
        Some(f64::from(g.status as u8))
    })?;
    per_group(walk, visitor, &WARMING_UP, &|_, g| Some(flag(g.warming_up)))?;
    per_group(walk, visitor, &STALE, &|_, g| Some(flag(g.stale)))?;
    visitor.family(&MEMBERS, &mut |out: &mut dyn SampleSink| {
        let mut scratch = Vec::new();
        for g in walk.groups() {
            let n = members(walk, g, &mut scratch);
            out.sample(
                &[("cluster", g.cluster.as_str()), ("group", g.group.as_str())],
                num(n as u64),
            )?;
        }
        Ok(())
    })?;

    visitor.family(&TOPIC_PARTITIONS, &mut |out: &mut dyn SampleSink| {
        for t in walk.topics() {
            out.sample(
                &[("cluster", t.cluster.as_str()), ("topic", t.topic.as_str())],
                num(t.high_water.len() as u64),
            )?;
        }
        Ok(())
    })?;
    topic_partition_offsets(walk, visitor, [&END_OFFSET, &START_OFFSET], "cluster", true)?;

    operational(walk, visitor)
}

/// Build info, snapshot time and (with runtime figures) the pipeline's own metrics.
fn operational(walk: &Walk<'_>, visitor: &mut dyn MetricVisitor) -> fmt::Result {
    visitor.family(&BUILD_INFO, &mut |out: &mut dyn SampleSink| {
        out.sample(&[("version", env!("CARGO_PKG_VERSION"))], 1.0)
    })?;
    visitor.family(&SNAPSHOT_TIMESTAMP, &mut |out: &mut dyn SampleSink| {
        out.sample(&[], seconds(walk.snapshot.at_ms()))
    })?;
    let Some(stats) = walk.stats else {
        return Ok(());
    };

    type ReadValue = fn(&lagwatch_component::stats::ClusterReads) -> Option<f64>;
    let reads: [(&Family, ReadValue); 5] = [
        (&READ_DURATION, |r| r.last_duration.map(|d| d.as_secs_f64())),
        (&READS, |r| Some(num(r.reads))),
        (&READ_FAILURES, |r| Some(num(r.failures))),
        (&UP, |r| {
            Some(flag(r.last_error.is_none() && r.last_success_ms.is_some()))
        }),
        (&LAST_SUCCESS, |r| r.last_success_ms.map(seconds)),
    ];
    for (family, value) in reads {
        visitor.family(family, &mut |out: &mut dyn SampleSink| {
            for row in &stats.reads {
                if let Some(v) = value(&row.reads) {
                    out.sample(
                        &[
                            ("source", row.source.as_str()),
                            ("cluster", row.cluster.as_str()),
                        ],
                        v,
                    )?;
                }
            }
            Ok(())
        })?;
    }

    let plain: [(&Family, Option<f64>); 5] = [
        (&EVALUATIONS, Some(num(stats.cycles))),
        (
            &EVALUATION_DURATION,
            stats.last_evaluation.map(|d| d.as_secs_f64()),
        ),
        (&EVENTS, Some(num(stats.events))),
        (&EVENT_QUEUE_DEPTH, Some(num(stats.event_queue_depth))),
        (&EVENT_QUEUE_CAPACITY, Some(num(stats.event_queue_capacity))),
    ];
    for (family, value) in plain {
        visitor.family(family, &mut |out: &mut dyn SampleSink| match value {
            Some(v) => out.sample(&[], v),
            None => Ok(()),
        })?;
    }

    type OutputValue = fn(&lagwatch_component::stats::OutputStats) -> u64;
    let sinks: [(&Family, OutputValue); 5] = [
        (&SINK_QUEUE_DEPTH, |s| s.queue_depth),
        (&SINK_QUEUE_CAPACITY, |s| s.queue_capacity),
        (&SINK_RECORDS, |s| s.records),
        (&SINK_FAILURES, |s| s.failed),
        (&SINK_DROPPED, |s| s.dropped),
    ];
    for (family, value) in sinks {
        visitor.family(family, &mut |out: &mut dyn SampleSink| {
            for s in &stats.sinks {
                out.sample(&[("sink", s.name.as_str())], num(value(s)))?;
            }
            Ok(())
        })?;
    }
    let alerters: [(&Family, OutputValue); 4] = [
        (&ALERTER_DELIVERIES, |s| s.records),
        (&ALERTER_FAILURES, |s| s.failed),
        (&ALERTER_QUEUE_DEPTH, |s| s.queue_depth),
        (&ALERTER_COALESCED, |s| s.dropped),
    ];
    for (family, value) in alerters {
        visitor.family(family, &mut |out: &mut dyn SampleSink| {
            for s in &stats.alerters {
                out.sample(&[("alerter", s.name.as_str())], num(value(s)))?;
            }
            Ok(())
        })?;
    }
    visitor.family(&STATE_SAVE_FAILURES, &mut |out: &mut dyn SampleSink| {
        out.sample(&[], num(stats.state_save_failures))
    })?;
    if !stats.ownership.is_empty() {
        visitor.family(&OWNED_PARTITIONS, &mut |out: &mut dyn SampleSink| {
            for row in &stats.ownership {
                out.sample(
                    &[("cluster", row.cluster.as_str())],
                    num(row.offsets_partitions.len() as u64),
                )?;
            }
            Ok(())
        })?;
        visitor.family(&COORDINATION_PARTITIONS, &mut |out: &mut dyn SampleSink| {
            for row in &stats.ownership {
                out.sample(
                    &[("cluster", row.cluster.as_str())],
                    num(u64::from(row.partition_count)),
                )?;
            }
            Ok(())
        })?;
    }
    visitor.family(&READY, &mut |out: &mut dyn SampleSink| {
        out.sample(&[], flag(stats.ready()))
    })
}

/// Whether a family carries a `cluster` label (the OTLP sink moves those into the
/// resource of their cluster).
pub fn is_cluster_scoped(family: &Family) -> bool {
    CLUSTER_SCOPED.iter().any(|f| f.name == family.name)
}

/// Families whose samples all carry a `cluster` label and describe that cluster's data.
const CLUSTER_SCOPED: [&Family; 23] = [
    &COMMITTED_OFFSET,
    &LAG_MESSAGES,
    &LAG_SECONDS,
    &RETENTION_MARGIN,
    &PARTITION_CATCH_UP,
    &PARTITION_LAG_RATE,
    &PARTITION_STATUS,
    &TOPIC_LAG,
    &TOTAL_LAG,
    &MAX_LAG,
    &MAX_LAG_SECONDS,
    &CATCH_UP,
    &CATCHING_UP,
    &LAG_RATE,
    &CONSUMPTION_RATE,
    &RETENTION_DEADLINE,
    &GROUP_STATUS,
    &WARMING_UP,
    &STALE,
    &MEMBERS,
    &TOPIC_PARTITIONS,
    &END_OFFSET,
    &START_OFFSET,
];
