//! danielqsj/kafka_exporter's names and label sets (docs/metrics.md, "kafka_exporter set").
//!
//! kafka_exporter has no cluster label. With one cluster in the snapshot the label sets are
//! exactly kafka_exporter's; with several, every series gets a leading `cluster` label so
//! that two clusters' series cannot collide.

use crate::walk::{
    Family, MetricVisitor, SampleSink, Walk, committed, for_each_topic, inum, members, num,
    topic_partition_offsets,
};
use lagwatch_core::report::PartitionReport;
use std::fmt;

pub(crate) const CURRENT_OFFSET: Family = Family::gauge(
    "kafka_consumergroup_current_offset",
    "Committed offset of the consumer group on the partition, -1 without a commit.",
);
pub(crate) const CURRENT_OFFSET_SUM: Family = Family::gauge(
    "kafka_consumergroup_current_offset_sum",
    "Sum of the consumer group's committed offsets on the topic (-1 entries included).",
);
pub(crate) const LAG: Family = Family::gauge(
    "kafka_consumergroup_lag",
    "Log end offset minus committed offset (floored at 0), -1 without a commit.",
);
pub(crate) const LAG_SUM: Family = Family::gauge(
    "kafka_consumergroup_lag_sum",
    "Sum of the consumer group's partition lags on the topic (-1 entries skipped).",
);
pub(crate) const MEMBERS: Family = Family::gauge(
    "kafka_consumergroup_members",
    "Consumers owning partitions of the group.",
);
pub(crate) const TOPIC_PARTITIONS: Family = Family::gauge(
    "kafka_topic_partitions",
    "Number of partitions of the topic.",
);
pub(crate) const TOPIC_CURRENT_OFFSET: Family = Family::gauge(
    "kafka_topic_partition_current_offset",
    "Log end offset (high-water mark) of the partition.",
);
pub(crate) const TOPIC_OLDEST_OFFSET: Family = Family::gauge(
    "kafka_topic_partition_oldest_offset",
    "Log start offset of the partition.",
);

/// Committed offset, -1 without a commit.
fn offset_or_minus_one(p: &PartitionReport) -> i64 {
    committed(p).unwrap_or(-1)
}

/// Lag, -1 without a commit.
fn lag_or_minus_one(p: &PartitionReport) -> f64 {
    match committed(p) {
        Some(_) => num(p.current_lag),
        None => -1.0,
    }
}

/// Label pairs, with the leading `cluster` pair only when `multi`.
fn labels<'l>(multi: bool, all: &'l [(&'l str, &'l str)]) -> &'l [(&'l str, &'l str)] {
    if multi { all } else { &all[1..] }
}

pub(crate) fn visit(walk: &Walk<'_>, visitor: &mut dyn MetricVisitor) -> fmt::Result {
    let multi = walk.cluster_count() > 1;

    // Per partition and per group/topic: topics where the group has no commit at all are
    // skipped for that group, as kafka_exporter does.
    type PartitionValue = fn(&PartitionReport) -> f64;
    let per_partition: [(&Family, PartitionValue); 2] = [
        (&CURRENT_OFFSET, |p| inum(offset_or_minus_one(p))),
        (&LAG, lag_or_minus_one),
    ];
    if walk.partition_series() {
        for (family, value) in per_partition {
            visitor.family(family, &mut |out: &mut dyn SampleSink| {
                let mut scratch = Vec::new();
                for g in walk.groups() {
                    for_each_topic(walk, g, &mut scratch, |topic, run| {
                        if run.iter().all(|p| committed(p).is_none()) {
                            return Ok(());
                        }
                        for p in run {
                            let mut number = itoa::Buffer::new();
                            let all = [
                                ("cluster", g.cluster.as_str()),
                                ("consumergroup", g.group.as_str()),
                                ("topic", topic),
                                ("partition", number.format(p.partition)),
                            ];
                            out.sample(labels(multi, &all), value(p))?;
                        }
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
        }
    }
    type RunValue = fn(&[&PartitionReport]) -> f64;
    let per_topic: [(&Family, RunValue); 2] = [
        (&CURRENT_OFFSET_SUM, |run| {
            inum(
                run.iter()
                    .fold(0i64, |s, p| s.saturating_add(offset_or_minus_one(p))),
            )
        }),
        (&LAG_SUM, |run| {
            num(run
                .iter()
                .filter(|p| committed(p).is_some())
                .fold(0u64, |s, p| s.saturating_add(p.current_lag)))
        }),
    ];
    for (family, value) in per_topic {
        visitor.family(family, &mut |out: &mut dyn SampleSink| {
            let mut scratch = Vec::new();
            for g in walk.groups() {
                for_each_topic(walk, g, &mut scratch, |topic, run| {
                    if run.iter().all(|p| committed(p).is_none()) {
                        return Ok(());
                    }
                    let all = [
                        ("cluster", g.cluster.as_str()),
                        ("consumergroup", g.group.as_str()),
                        ("topic", topic),
                    ];
                    out.sample(labels(multi, &all), value(run))
                })?;
            }
            Ok(())
        })?;
    }
    visitor.family(&MEMBERS, &mut |out: &mut dyn SampleSink| {
        let mut scratch = Vec::new();
        for g in walk.groups() {
            let n = members(walk, g, &mut scratch);
            let all = [
                ("cluster", g.cluster.as_str()),
                ("consumergroup", g.group.as_str()),
            ];
            out.sample(labels(multi, &all), num(n as u64))?;
        }
        Ok(())
    })?;

    visitor.family(&TOPIC_PARTITIONS, &mut |out: &mut dyn SampleSink| {
        for t in walk.topics() {
            let all = [("cluster", t.cluster.as_str()), ("topic", t.topic.as_str())];
            out.sample(labels(multi, &all), num(t.high_water.len() as u64))?;
        }
        Ok(())
    })?;
    topic_partition_offsets(
        walk,
        visitor,
        [&TOPIC_CURRENT_OFFSET, &TOPIC_OLDEST_OFFSET],
        "cluster",
        multi,
    )?;
    Ok(())
}
