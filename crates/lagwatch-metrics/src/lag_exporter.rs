//! seglo/kafka-lag-exporter's names and label sets, which klag-exporter copies
//! (docs/metrics.md, "kafka-lag-exporter set"). Every metric is a gauge, as there.

use crate::native::{max_lag, max_lag_seconds, total_lag};
use crate::walk::{
    Family, MetricVisitor, SampleSink, Walk, committed, for_each_topic, inum, num,
    time_lag_seconds, topic_partition_offsets,
};
use lagwatch_core::report::PartitionReport;
use std::fmt;

pub(crate) const GROUP_OFFSET: Family = Family::gauge(
    "kafka_consumergroup_group_offset",
    "Committed offset of the group on the partition (NaN without a commit).",
);
pub(crate) const GROUP_LAG: Family = Family::gauge(
    "kafka_consumergroup_group_lag",
    "Log end offset minus committed offset, floored at 0 (NaN without a commit).",
);
pub(crate) const GROUP_LAG_SECONDS: Family = Family::gauge(
    "kafka_consumergroup_group_lag_seconds",
    "Estimated time lag of the group on the partition in seconds (NaN without an estimate).",
);
pub(crate) const GROUP_MAX_LAG: Family = Family::gauge(
    "kafka_consumergroup_group_max_lag",
    "Largest partition lag of the group.",
);
pub(crate) const GROUP_MAX_LAG_SECONDS: Family = Family::gauge(
    "kafka_consumergroup_group_max_lag_seconds",
    "Largest estimated partition time lag of the group in seconds (NaN without an estimate).",
);
pub(crate) const GROUP_SUM_LAG: Family = Family::gauge(
    "kafka_consumergroup_group_sum_lag",
    "Sum of the group's partition lags.",
);
pub(crate) const GROUP_TOPIC_SUM_LAG: Family = Family::gauge(
    "kafka_consumergroup_group_topic_sum_lag",
    "Sum of the group's partition lags on the topic.",
);
pub(crate) const LATEST_OFFSET: Family = Family::gauge(
    "kafka_partition_latest_offset",
    "Log end offset (high-water mark) of the partition.",
);
pub(crate) const EARLIEST_OFFSET: Family = Family::gauge(
    "kafka_partition_earliest_offset",
    "Log start offset of the partition.",
);
pub(crate) const POLL_TIME_MS: Family = Family::gauge(
    "kafka_consumergroup_poll_time_ms",
    "Duration of the newest read of the cluster in milliseconds (slowest source).",
);

/// The member-label value for an unknown member, as kafka-lag-exporter writes it.
const UNKNOWN: &str = "unknown";

fn or_unknown(s: &str) -> &str {
    if s.is_empty() { UNKNOWN } else { s }
}

pub(crate) fn visit(walk: &Walk<'_>, visitor: &mut dyn MetricVisitor) -> fmt::Result {
    let member_labels = walk.settings.member_labels;
    type PartitionValue = fn(&PartitionReport) -> f64;
    let per_partition: [(&Family, PartitionValue); 3] = [
        (&GROUP_OFFSET, |p| committed(p).map_or(f64::NAN, inum)),
        (&GROUP_LAG, |p| {
            committed(p).map_or(f64::NAN, |_| num(p.current_lag))
        }),
        (&GROUP_LAG_SECONDS, |p| {
            time_lag_seconds(p).unwrap_or(f64::NAN)
        }),
    ];
    if walk.partition_series() {
        for (family, value) in per_partition {
            visitor.family(family, &mut |out: &mut dyn SampleSink| {
                for g in walk.groups() {
                    for p in walk.partitions(g) {
                        let mut number = itoa::Buffer::new();
                        let (host, client) = if member_labels {
                            (or_unknown(&p.owner), or_unknown(&p.client_id))
                        } else {
                            (UNKNOWN, UNKNOWN)
                        };
                        let labels = [
                            ("cluster_name", g.cluster.as_str()),
                            ("group", g.group.as_str()),
                            ("topic", p.topic.as_str()),
                            ("partition", number.format(p.partition)),
                            ("member_host", host),
                            ("consumer_id", client),
                            ("client_id", client),
                        ];
                        out.sample(&labels, value(p))?;
                    }
                }
                Ok(())
            })?;
        }
    }

    type GroupValue = fn(&Walk<'_>, &lagwatch_core::GroupReport) -> f64;
    let per_group: [(&Family, GroupValue); 3] = [
        (&GROUP_MAX_LAG, |w, g| num(max_lag(w, g))),
        (&GROUP_MAX_LAG_SECONDS, |w, g| {
            max_lag_seconds(w, g).unwrap_or(f64::NAN)
        }),
        (&GROUP_SUM_LAG, |w, g| num(total_lag(w, g))),
    ];
    for (family, value) in per_group {
        visitor.family(family, &mut |out: &mut dyn SampleSink| {
            for g in walk.groups() {
                out.sample(
                    &[
                        ("cluster_name", g.cluster.as_str()),
                        ("group", g.group.as_str()),
                    ],
                    value(walk, g),
                )?;
            }
            Ok(())
        })?;
    }
    visitor.family(&GROUP_TOPIC_SUM_LAG, &mut |out: &mut dyn SampleSink| {
        let mut scratch = Vec::new();
        for g in walk.groups() {
            for_each_topic(walk, g, &mut scratch, |topic, run| {
                let sum = run
                    .iter()
                    .filter(|p| committed(p).is_some())
                    .fold(0u64, |s, p| s.saturating_add(p.current_lag));
                out.sample(
                    &[
                        ("cluster_name", g.cluster.as_str()),
                        ("group", g.group.as_str()),
                        ("topic", topic),
                    ],
                    num(sum),
                )
            })?;
        }
        Ok(())
    })?;

    topic_partition_offsets(
        walk,
        visitor,
        [&LATEST_OFFSET, &EARLIEST_OFFSET],
        "cluster_name",
        true,
    )?;

    if let Some(stats) = walk.stats {
        visitor.family(&POLL_TIME_MS, &mut |out: &mut dyn SampleSink| {
            // One series per cluster: the slowest source's newest read.
            for (i, row) in stats.reads.iter().enumerate() {
                if stats.reads[..i].iter().any(|r| r.cluster == row.cluster) {
                    continue;
                }
                let slowest = stats
                    .reads
                    .iter()
                    .filter(|r| r.cluster == row.cluster)
                    .filter_map(|r| r.reads.last_duration)
                    .max();
                if let Some(d) = slowest {
                    out.sample(
                        &[("cluster_name", row.cluster.as_str())],
                        d.as_secs_f64() * 1_000.0,
                    )?;
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}
