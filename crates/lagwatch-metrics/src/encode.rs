//! Prometheus text 0.0.4 and OpenMetrics 1.0 text, written by the `prometheus-client` crate
//! from a [`Collector`] over the snapshot: nothing is stored between scrapes.

use crate::settings::MetricsSettings;
use crate::visit;
use crate::walk::{Family, MetricKind, MetricVisitor, SampleSink, Samples};
use lagwatch_component::RuntimeStats;
use lagwatch_core::Snapshot;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use std::fmt;
use std::sync::Arc;

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Prometheus text format 0.0.4: no `# UNIT` lines and no `# EOF`; counters are typed
    /// under their `_total` name, infos are gauges.
    PrometheusText,
    /// OpenMetrics 1.0 text: `# UNIT` lines, counters typed under their base name, `info`
    /// type, `# EOF` at the end. No `_created` samples.
    OpenMetrics,
}

/// `Content-Type` of OpenMetrics text.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `Content-Type` of Prometheus text 0.0.4.
pub const PROMETHEUS_CONTENT_TYPE: &str =
    prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The `Content-Type` header value for a format.
pub fn content_type(format: Format) -> &'static str {
    match format {
        Format::PrometheusText => PROMETHEUS_CONTENT_TYPE,
        Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
    }
}

/// Picks the format from a request's `Accept` header: OpenMetrics when the client lists
/// `application/openmetrics-text` with a quality above 0 and not below the best other
/// acceptable type (Prometheus servers send it first); Prometheus text otherwise, also
/// without or with an unreadable header.
pub fn negotiate(accept: Option<&str>) -> Format {
    let Some(accept) = accept else {
        return Format::PrometheusText;
    };
    let mut openmetrics: Option<f32> = None;
    let mut other: f32 = 0.0;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut quality = 1.0f32;
        for param in parts {
            if let Some((key, value)) = param.split_once('=') {
                if key.trim().eq_ignore_ascii_case("q") {
                    quality = value.trim().parse().unwrap_or(0.0);
                }
            }
        }
        if media == "application/openmetrics-text" {
            openmetrics = Some(openmetrics.map_or(quality, |q| q.max(quality)));
        } else if !media.is_empty() {
            other = other.max(quality);
        }
    }
    match openmetrics {
        Some(q) if q > 0.0 && q >= other => Format::OpenMetrics,
        _ => Format::PrometheusText,
    }
}

/// Why encoding failed: only the writer can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The output writer refused text.
    #[error("writing the metrics exposition failed")]
    Write(#[from] fmt::Error),
}

/// A [`Collector`] that walks one snapshot (and runtime figures) when the registry is
/// encoded. Build one per scrape; it holds the snapshot's shared data, not a copy.
#[derive(Debug, Clone)]
pub struct SnapshotCollector {
    snapshot: Snapshot,
    stats: Option<RuntimeStats>,
    settings: Arc<MetricsSettings>,
}

impl SnapshotCollector {
    /// A collector over `snapshot`; with `stats`, the native set includes the operational
    /// metrics.
    pub fn new(
        snapshot: Snapshot,
        stats: Option<RuntimeStats>,
        settings: Arc<MetricsSettings>,
    ) -> SnapshotCollector {
        SnapshotCollector {
            snapshot,
            stats,
            settings,
        }
    }
}

impl Collector for SnapshotCollector {
    fn encode(&self, encoder: DescriptorEncoder<'_>) -> Result<(), fmt::Error> {
        let mut adapter = Adapter { encoder };
        visit(
            &self.snapshot,
            self.stats.as_ref(),
            &self.settings,
            &mut adapter,
        )
    }
}

/// Feeds the walk into prometheus-client's encoder.
struct Adapter<'e> {
    encoder: DescriptorEncoder<'e>,
}

impl MetricVisitor for Adapter<'_> {
    fn family(&mut self, family: &Family, samples: &mut Samples<'_>) -> fmt::Result {
        let unit = family.unit.map(|u| match u {
            "seconds" => Unit::Seconds,
            other => Unit::Other(other.to_owned()),
        });
        let metric_type = match family.kind {
            MetricKind::Gauge => MetricType::Gauge,
            MetricKind::Counter => MetricType::Counter,
            MetricKind::Info => MetricType::Info,
        };
        let mut metric = self.encoder.encode_descriptor(
            family.name_without_unit(),
            family.help,
            unit.as_ref(),
            metric_type,
        )?;
        samples(&mut Sink {
            metric: &mut metric,
            kind: family.kind,
        })
    }
}

struct Sink<'m, 'e> {
    metric: &'m mut MetricEncoder<'e>,
    kind: MetricKind,
}

/// Integral values within f64's exact range are written as integers (`42`, not `42.0`).
fn as_integer(value: f64) -> Option<i64> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    #[allow(clippy::cast_possible_truncation)]
    (value.fract() == 0.0 && value.abs() <= EXACT).then_some(value as i64)
}

impl SampleSink for Sink<'_, '_> {
    fn sample(&mut self, labels: &[(&str, &str)], value: f64) -> fmt::Result {
        match self.kind {
            MetricKind::Info => self.metric.encode_info(&labels),
            MetricKind::Gauge => {
                let mut series = self.metric.encode_family(&labels)?;
                match as_integer(value) {
                    Some(i) => series.encode_gauge(&i),
                    None => series.encode_gauge(&value),
                }
            }
            MetricKind::Counter => {
                let mut series = self.metric.encode_family(&labels)?;
                match as_integer(value).and_then(|i| u64::try_from(i).ok()) {
                    Some(n) => series.encode_counter::<NoLabelSet, _, f64>(&n, None),
                    None => series.encode_counter::<NoLabelSet, _, f64>(&value, None),
                }
            }
        }
    }
}

/// Writes the exposition of `snapshot` (and `stats`) in `format` to `out`.
///
/// # Errors
/// [`EncodeError::Write`] when `out` refuses text.
pub fn encode_to(
    out: &mut impl fmt::Write,
    snapshot: &Snapshot,
    stats: Option<RuntimeStats>,
    settings: Arc<MetricsSettings>,
    format: Format,
) -> Result<(), EncodeError> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(SnapshotCollector::new(
        snapshot.clone(),
        stats,
        settings,
    )));
    match format {
        Format::OpenMetrics => prometheus_client::encoding::text::encode(out, &registry)?,
        Format::PrometheusText => {
            prometheus_client::encoding::prometheus_text::encode(out, &registry)?;
        }
    }
    Ok(())
}

/// The exposition of `snapshot` (and `stats`) in `format`, in a string sized up front from
/// the snapshot so that it grows at most rarely.
///
/// # Errors
/// Never in practice (writing to a `String` cannot fail); see [`encode_to`].
pub fn encode(
    snapshot: &Snapshot,
    stats: Option<RuntimeStats>,
    settings: Arc<MetricsSettings>,
    format: Format,
) -> Result<String, EncodeError> {
    let mut out = String::with_capacity(estimated_size(snapshot, &settings));
    encode_to(&mut out, snapshot, stats, settings, format)?;
    Ok(out)
}

/// One scrape as an HTTP handler needs it: picks the format from the `Accept` header
/// ([`negotiate`]), appends the exposition to `out` (reserving its estimated size first) and
/// returns the `Content-Type` to answer with.
///
/// # Errors
/// Never in practice (writing to a `String` cannot fail); see [`encode_to`].
pub fn render(
    snapshot: &Snapshot,
    stats: Option<RuntimeStats>,
    settings: Arc<MetricsSettings>,
    accept: Option<&str>,
    out: &mut String,
) -> Result<&'static str, EncodeError> {
    let format = negotiate(accept);
    out.reserve(estimated_size(snapshot, &settings));
    encode_to(out, snapshot, stats, settings, format)?;
    Ok(content_type(format))
}

/// A slightly generous estimate of the exposition size, from the lengths of the names in
/// the snapshot (one pass, no allocation), so the output string is allocated once instead of
/// being doubled and copied while it grows.
fn estimated_size(snapshot: &Snapshot, settings: &MetricsSettings) -> usize {
    use crate::settings::NameSet;
    let native = settings.writes(NameSet::Native);
    let exporter = settings.writes(NameSet::KafkaExporter);
    let lag_exporter = settings.writes(NameSet::KafkaLagExporter);
    let mut bytes = 64 * 1024;
    for g in snapshot.groups() {
        let group_line = g.cluster.len() + g.group.len() + 80;
        // Group and group/topic families of all sets (at most ~18 per group).
        bytes += 18 * group_line;
        if !settings.partition_series {
            bytes += g.partitions.len().min(64) * group_line;
            continue;
        }
        for p in &g.partitions {
            let line = group_line + p.topic.len() + 30;
            if native {
                // Seven families, two of them (the trend's) with names about 30 bytes longer.
                bytes += 7 * line + 60;
            }
            if exporter {
                bytes += 2 * line;
            }
            if lag_exporter {
                bytes += 3 * (line + p.owner.len() + 2 * p.client_id.len() + 50);
            }
        }
    }
    let sets = usize::from(native) + usize::from(exporter) + usize::from(lag_exporter);
    for t in snapshot.topics() {
        let line = t.cluster.len() + t.topic.len() + 90;
        bytes += sets * line;
        if settings.partition_series {
            bytes += sets * 2 * t.high_water.len() * line;
        }
    }
    bytes + bytes / 16
}
