//! What `/metrics` and the OTLP sink expose: name sets and cardinality controls.

use lagwatch_core::filter::NameFilter;
use std::fmt;

/// A set of metric names and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum NameSet {
    /// lagwatch's own names (`lagwatch_…`, base units), including its operational metrics.
    Native,
    /// The names and label sets of danielqsj/kafka_exporter (`kafka_consumergroup_lag{consumergroup,topic,partition}`, …).
    KafkaExporter,
    /// The names and label sets of seglo/kafka-lag-exporter, which klag-exporter copies
    /// (`kafka_consumergroup_group_lag{cluster_name,group,topic,partition,member_host,consumer_id,client_id}`, …).
    KafkaLagExporter,
}

impl NameSet {
    /// Every set, in the order they are written.
    pub const ALL: [NameSet; 3] = [
        NameSet::Native,
        NameSet::KafkaExporter,
        NameSet::KafkaLagExporter,
    ];

    /// The configuration spelling: `native`, `kafka_exporter`, `kafka_lag_exporter`.
    pub fn as_str(self) -> &'static str {
        match self {
            NameSet::Native => "native",
            NameSet::KafkaExporter => "kafka_exporter",
            NameSet::KafkaLagExporter => "kafka_lag_exporter",
        }
    }

    /// Parses the configuration spelling.
    ///
    /// # Errors
    /// [`UnknownNameSet`] naming the value and the accepted ones.
    pub fn parse(value: &str) -> Result<NameSet, UnknownNameSet> {
        NameSet::ALL
            .into_iter()
            .find(|set| set.as_str() == value)
            .ok_or_else(|| UnknownNameSet(value.to_owned()))
    }
}

impl fmt::Display for NameSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A metric name set that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown metric name set {0:?} (expected one of: native, kafka_exporter, kafka_lag_exporter)"
)]
pub struct UnknownNameSet(pub String);

/// What to expose. The configuration crate maps its `[http.metrics]`-style keys onto this.
#[derive(Debug, Clone)]
pub struct MetricsSettings {
    /// Name sets to write, each at most once (written in [`NameSet::ALL`] order whatever the
    /// order here). Default: native only.
    pub sets: Vec<NameSet>,
    /// Per-partition series (committed offset, lag, time lag, retention margin and status per
    /// group partition; end and start offsets per topic partition). Default `true`; `false`
    /// keeps only the per-group, per-group-and-topic and per-topic series.
    pub partition_series: bool,
    /// Groups whose series are written (default: all).
    pub groups: NameFilter,
    /// Topics whose series are written, also inside each group's aggregates (default: all).
    pub topics: NameFilter,
    /// kafka-lag-exporter set only: fill the `member_host`, `consumer_id` and `client_id`
    /// labels of per-partition series from the partition's owner (default `true`, as that
    /// exporter does). `false` writes `unknown` in all three, so a rebalance does not start
    /// new series; the label set stays the exporter's.
    pub member_labels: bool,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            sets: vec![NameSet::Native],
            partition_series: true,
            groups: NameFilter::allow_all(),
            topics: NameFilter::allow_all(),
            member_labels: true,
        }
    }
}

impl MetricsSettings {
    /// Settings writing exactly the given sets, everything else default.
    pub fn with_sets(sets: &[NameSet]) -> MetricsSettings {
        MetricsSettings {
            sets: sets.to_vec(),
            ..MetricsSettings::default()
        }
    }

    /// Whether `set` is written.
    pub fn writes(&self, set: NameSet) -> bool {
        self.sets.contains(&set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_names_round_trip_and_unknown_ones_are_named() {
        for set in NameSet::ALL {
            assert_eq!(NameSet::parse(set.as_str()), Ok(set));
        }
        let err = NameSet::parse("kminion").map_err(|e| e.to_string());
        assert!(err.is_err_and(|e| e.contains("\"kminion\"") && e.contains("kafka_exporter")));
    }
}
