//! What the one walk over a snapshot and the runtime figures (the crate's `visit`) hands to
//! its visitor, and the helpers the name sets share. Both outputs (the `/metrics` text and
//! the OTLP sink) are built from that walk.
//!
//! `visit` calls [`MetricVisitor::family`] once per metric family, in a fixed order; the
//! visitor calls back the closure it is handed to receive that family's samples. Labels are
//! borrowed straight from the snapshot (partition numbers are formatted into a stack buffer),
//! so a walk allocates nothing per series.

use crate::settings::MetricsSettings;
use lagwatch_component::RuntimeStats;
use lagwatch_core::Snapshot;
use lagwatch_core::report::{GroupReport, PartitionReport};
use lagwatch_core::snapshot::TopicOffsets;
use std::fmt;

/// The type of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// A value that goes up and down.
    Gauge,
    /// A monotonic count since the start; exposed with the `_total` suffix.
    Counter,
    /// Metadata in labels, value 1; exposed with the `_info` suffix.
    Info,
}

/// Description of one metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// The name without the type suffix: counters get `_total` and infos `_info` appended
    /// when exposed ([`Family::exposed_name`]). A unit, when there is one, is already the
    /// name's last part.
    pub name: &'static str,
    /// One-line help text.
    pub help: &'static str,
    /// The type.
    pub kind: MetricKind,
    /// The unit (`seconds`, `messages`), the name's suffix; `None` for plain numbers,
    /// offsets, codes and flags.
    pub unit: Option<&'static str>,
}

impl Family {
    /// A gauge without unit.
    pub(crate) const fn gauge(name: &'static str, help: &'static str) -> Family {
        Family {
            name,
            help,
            kind: MetricKind::Gauge,
            unit: None,
        }
    }

    /// A gauge with a unit (the name must end with `_<unit>`).
    pub(crate) const fn gauge_in(
        name: &'static str,
        unit: &'static str,
        help: &'static str,
    ) -> Family {
        Family {
            name,
            help,
            kind: MetricKind::Gauge,
            unit: Some(unit),
        }
    }

    /// A counter (the name without `_total`).
    pub(crate) const fn counter(name: &'static str, help: &'static str) -> Family {
        Family {
            name,
            help,
            kind: MetricKind::Counter,
            unit: None,
        }
    }

    /// The sample name as exposed: `name`, `name_total` (counters) or `name_info` (infos).
    pub fn exposed_name(&self) -> String {
        match self.kind {
            MetricKind::Gauge => self.name.to_owned(),
            MetricKind::Counter => format!("{}_total", self.name),
            MetricKind::Info => format!("{}_info", self.name),
        }
    }

    /// The name without its unit suffix (what OpenMetrics' descriptor takes with the unit).
    pub(crate) fn name_without_unit(&self) -> &'static str {
        match self.unit {
            Some(unit) => self
                .name
                .strip_suffix(unit)
                .and_then(|n| n.strip_suffix('_'))
                .unwrap_or(self.name),
            None => self.name,
        }
    }
}

/// Receives the samples of one family.
pub trait SampleSink {
    /// One sample: label pairs in order, and the value (an info's value is 1).
    fn sample(&mut self, labels: &[(&str, &str)], value: f64) -> fmt::Result;
}

/// The samples of one family, produced on demand by [`visit`](crate::visit).
pub type Samples<'a> = dyn FnMut(&mut dyn SampleSink) -> fmt::Result + 'a;

/// Receives every metric family of a walk.
pub trait MetricVisitor {
    /// One family; call `samples` (once) with a sink to receive its samples.
    fn family(&mut self, family: &Family, samples: &mut Samples<'_>) -> fmt::Result;
}

/// What a name set walks over, with the filters applied.
pub(crate) struct Walk<'a> {
    pub(crate) snapshot: &'a Snapshot,
    pub(crate) stats: Option<&'a RuntimeStats>,
    pub(crate) settings: &'a MetricsSettings,
}

impl<'a> Walk<'a> {
    /// Groups passing the group filter.
    pub(crate) fn groups(&self) -> impl Iterator<Item = &'a GroupReport> + '_ {
        let settings = self.settings;
        self.snapshot
            .groups()
            .iter()
            .filter(move |g| settings.groups.accepts(&g.group))
    }

    /// Partitions of `group` whose topic passes the topic filter.
    pub(crate) fn partitions(
        &self,
        group: &'a GroupReport,
    ) -> impl Iterator<Item = &'a PartitionReport> + '_ {
        let settings = self.settings;
        group
            .partitions
            .iter()
            .filter(move |p| settings.topics.accepts(&p.topic))
    }

    /// Topics passing the topic filter.
    pub(crate) fn topics(&self) -> impl Iterator<Item = &'a TopicOffsets> + '_ {
        let settings = self.settings;
        self.snapshot
            .topics()
            .iter()
            .filter(move |t| settings.topics.accepts(&t.topic))
    }

    /// Whether per-partition series are written.
    pub(crate) fn partition_series(&self) -> bool {
        self.settings.partition_series
    }

    /// Number of distinct clusters in the snapshot. Groups and topics are each sorted by
    /// cluster, so counting runs is enough; a cluster with topics but no group counts too.
    pub(crate) fn cluster_count(&self) -> usize {
        let groups = self.snapshot.groups();
        let mut count = 0;
        let mut last: Option<&str> = None;
        for g in groups {
            if last != Some(g.cluster.as_str()) {
                count += 1;
                last = Some(g.cluster.as_str());
            }
        }
        let mut last: Option<&str> = None;
        for t in self.snapshot.topics() {
            if last == Some(t.cluster.as_str()) {
                continue;
            }
            last = Some(t.cluster.as_str());
            let has_groups = groups
                .binary_search_by(|g| g.cluster.as_str().cmp(t.cluster.as_str()))
                .is_ok();
            count += usize::from(!has_groups);
        }
        count
    }
}

/// The value of a committed offset or lag as exposed: the newest commit of a partition.
pub(crate) fn committed(p: &PartitionReport) -> Option<i64> {
    p.end.map(|e| e.offset)
}

/// Time lag in seconds when an estimate exists (not for partitions without a commit or
/// without enough broker history).
pub(crate) fn time_lag_seconds(p: &PartitionReport) -> Option<f64> {
    committed(p)?;
    p.extras.time_lag.as_ref()?.estimated_seconds()
}

/// Calls `each` with every run of partitions of one topic among `group`'s accepted
/// partitions, in topic order. `scratch` is reused between groups, so this allocates only
/// when a group is larger than every group before it.
pub(crate) fn for_each_topic<'a>(
    walk: &Walk<'a>,
    group: &'a GroupReport,
    scratch: &mut Vec<&'a PartitionReport>,
    mut each: impl FnMut(&'a str, &[&'a PartitionReport]) -> fmt::Result,
) -> fmt::Result {
    scratch.clear();
    scratch.extend(walk.partitions(group));
    if !scratch.is_sorted_by(|a, b| a.topic <= b.topic) {
        scratch.sort_by(|a, b| a.topic.cmp(&b.topic));
    }
    for run in scratch.chunk_by(|a, b| a.topic == b.topic) {
        each(&run[0].topic, run)?;
    }
    Ok(())
}

/// The end and start offset of every accepted topic partition, as `families` (end offsets
/// first), labelled `cluster_label`, `topic`, `partition`; without the cluster label when
/// `with_cluster` is off. Nothing is written without per-partition series.
pub(crate) fn topic_partition_offsets(
    walk: &Walk<'_>,
    visitor: &mut dyn MetricVisitor,
    families: [&Family; 2],
    cluster_label: &str,
    with_cluster: bool,
) -> fmt::Result {
    if !walk.partition_series() {
        return Ok(());
    }
    for (family, start) in [(families[0], false), (families[1], true)] {
        visitor.family(family, &mut |out: &mut dyn SampleSink| {
            for t in walk.topics() {
                let values = if start { &t.log_start } else { &t.high_water };
                for (partition, value) in values.iter().enumerate() {
                    let Some(value) = value else { continue };
                    let mut number = itoa::Buffer::new();
                    let all = [
                        (cluster_label, t.cluster.as_str()),
                        ("topic", t.topic.as_str()),
                        ("partition", number.format(partition)),
                    ];
                    let labels = if with_cluster { &all[..] } else { &all[1..] };
                    out.sample(labels, inum(*value))?;
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Distinct consumers (owner host and client id) among `group`'s accepted partitions with a
/// known owner. `scratch` is reused between groups.
pub(crate) fn members<'a>(
    walk: &Walk<'a>,
    group: &'a GroupReport,
    scratch: &mut Vec<(&'a str, &'a str)>,
) -> usize {
    scratch.clear();
    scratch.extend(
        walk.partitions(group)
            .filter(|p| !p.owner.is_empty())
            .map(|p| (p.owner.as_str(), p.client_id.as_str())),
    );
    scratch.sort_unstable();
    scratch.dedup();
    scratch.len()
}

/// A u64 count as a sample value (exact below 2^53, which every offset and count is).
#[allow(clippy::cast_precision_loss)]
pub(crate) fn num(v: u64) -> f64 {
    v as f64
}

/// An i64 as a sample value.
#[allow(clippy::cast_precision_loss)]
pub(crate) fn inum(v: i64) -> f64 {
    v as f64
}

/// Milliseconds since the epoch as seconds.
pub(crate) fn seconds(ms: i64) -> f64 {
    inum(ms) / 1_000.0
}

/// 1.0 or 0.0.
pub(crate) fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}
