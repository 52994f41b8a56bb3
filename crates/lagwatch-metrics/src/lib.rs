//! # lagwatch-metrics
//!
//! lagwatch's metrics, from an evaluation [`Snapshot`] and the
//! pipeline's [`RuntimeStats`]:
//!
//! * [`visit`] walks both once per metric family and hands every family and sample to a
//!   [`MetricVisitor`]; `/metrics` (this crate's [`encode`]) and the OTLP sink are both built
//!   on it, so they always agree.
//! * Three name sets ([`NameSet`]): lagwatch's own `lagwatch_…` names, kafka_exporter's names
//!   and label sets, and kafka-lag-exporter's (shared by klag-exporter), so that existing
//!   dashboards work unchanged. docs/metrics.md lists every metric of every set.
//! * Cardinality controls in [`MetricsSettings`]: per-partition series on/off, group and topic
//!   allow/deny lists, the kafka-lag-exporter member labels.
//! * [`encode`] writes Prometheus text 0.0.4 or OpenMetrics text with the `prometheus-client`
//!   crate, through a [`SnapshotCollector`] that holds nothing between scrapes; [`negotiate`]
//!   picks the format from an `Accept` header and [`content_type`] names it.
//!
//! A walk allocates nothing per series: labels are borrowed from the snapshot, partition
//! numbers are formatted into a stack buffer, and the few per-group scratch lists are reused.
//! `benches/scrape.rs` measures time, size and peak heap at 10k and 100k partitions.
//!
//! ```
//! use lagwatch_metrics::{encode, Format, MetricsSettings};
//! use std::sync::Arc;
//!
//! let snapshot = lagwatch_core::Snapshot::default();
//! let text = encode(&snapshot, None, Arc::new(MetricsSettings::default()), Format::PrometheusText)?;
//! assert!(text.contains("# TYPE lagwatch_build_info gauge"));
//! # Ok::<(), lagwatch_metrics::EncodeError>(())
//! ```

/// The README's example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod encode;
mod kafka_exporter;
mod lag_exporter;
mod native;
mod settings;
mod walk;

pub use encode::{
    EncodeError, Format, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, SnapshotCollector,
    content_type, encode, encode_to, negotiate, render,
};
pub use native::is_cluster_scoped;
pub use settings::{MetricsSettings, NameSet, UnknownNameSet};
pub use walk::{Family, MetricKind, MetricVisitor, SampleSink, Samples};

use lagwatch_component::RuntimeStats;
use lagwatch_core::Snapshot;
use std::fmt;

/// Walks `snapshot` (and `stats`, when given: operational metrics) for every name set of
/// `settings`, calling `visitor` with each family and its samples.
///
/// # Errors
/// Whatever the visitor returns (a writer's [`fmt::Error`]).
pub fn visit(
    snapshot: &Snapshot,
    stats: Option<&RuntimeStats>,
    settings: &MetricsSettings,
    visitor: &mut dyn MetricVisitor,
) -> fmt::Result {
    let walk = walk::Walk {
        snapshot,
        stats,
        settings,
    };
    for set in NameSet::ALL {
        if !settings.writes(set) {
            continue;
        }
        match set {
            NameSet::Native => native::visit(&walk, visitor)?,
            NameSet::KafkaExporter => kafka_exporter::visit(&walk, visitor)?,
            NameSet::KafkaLagExporter => lag_exporter::visit(&walk, visitor)?,
        }
    }
    Ok(())
}
