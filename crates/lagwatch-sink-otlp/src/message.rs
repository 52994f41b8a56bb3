//! From a snapshot (and runtime figures) to one OTLP `ExportMetricsServiceRequest`, through the
//! same walk as `/metrics` ([`lagwatch_metrics::visit`]).

use lagwatch_component::RuntimeStats;
use lagwatch_core::Snapshot;
use lagwatch_metrics::{
    Family, MetricKind, MetricVisitor, MetricsSettings, SampleSink, Samples, is_cluster_scoped,
    visit,
};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use std::fmt;

/// Resource attribute naming the Kafka cluster of a resource's data points.
pub const CLUSTER_ATTRIBUTE: &str = "kafka.cluster.name";

/// An export request and the number of data points in it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Export {
    /// The request.
    pub request: ExportMetricsServiceRequest,
    /// Data points in all its resources.
    pub points: usize,
}

/// Builds the export of `snapshot`: one `ResourceMetrics` per cluster with that cluster's
/// data points, and, when `stats` is given, one without cluster with lagwatch's own figures
/// (build info, snapshot time, reads, queues, deliveries). Every data point keeps its labels
/// as attributes, `cluster` included, so the points equal the `/metrics` samples one for one.
pub fn build(
    snapshot: &Snapshot,
    stats: Option<&RuntimeStats>,
    settings: &MetricsSettings,
    instance: &str,
) -> Export {
    let mut builder = Builder {
        clusters: Vec::new(),
        operational: Vec::new(),
        keep_operational: stats.is_some(),
        time_ns: nanos(snapshot.at_ms()),
        start_ns: stats.map_or(0, |s| nanos(s.started_ms)),
        points: 0,
    };
    // The builder never fails: it only collects.
    let _ = visit(snapshot, stats, settings, &mut builder);
    let Builder {
        clusters,
        operational,
        points,
        ..
    } = builder;
    let mut resource_metrics: Vec<ResourceMetrics> = clusters
        .into_iter()
        .map(|(cluster, metrics)| resource(instance, Some(cluster), metrics))
        .collect();
    if stats.is_some() && !operational.is_empty() {
        resource_metrics.push(resource(instance, None, operational));
    }
    Export {
        request: ExportMetricsServiceRequest { resource_metrics },
        points,
    }
}

fn nanos(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000)
}

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..KeyValue::default()
    }
}

fn resource(instance: &str, cluster: Option<String>, metrics: Vec<Metric>) -> ResourceMetrics {
    let version = env!("CARGO_PKG_VERSION");
    let mut attributes = vec![
        text("service.name", "lagwatch"),
        text("service.instance.id", instance),
        text("service.version", version),
    ];
    if let Some(cluster) = cluster {
        attributes.push(text(CLUSTER_ATTRIBUTE, &cluster));
    }
    ResourceMetrics {
        resource: Some(Resource {
            attributes,
            ..Resource::default()
        }),
        scope_metrics: vec![ScopeMetrics {
            scope: Some(InstrumentationScope {
                name: "lagwatch".to_owned(),
                version: version.to_owned(),
                ..InstrumentationScope::default()
            }),
            metrics,
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    }
}

struct Builder {
    /// Metrics per cluster, in order of first appearance.
    clusters: Vec<(String, Vec<Metric>)>,
    operational: Vec<Metric>,
    keep_operational: bool,
    time_ns: u64,
    start_ns: u64,
    points: usize,
}

/// The samples of one family: (cluster label, point).
struct Points {
    points: Vec<(String, NumberDataPoint)>,
    time_ns: u64,
    start_ns: u64,
    counter: bool,
}

impl SampleSink for Points {
    fn sample(&mut self, labels: &[(&str, &str)], value: f64) -> fmt::Result {
        let cluster = labels
            .iter()
            .find(|(k, _)| *k == "cluster")
            .map_or("", |(_, v)| *v);
        let point = NumberDataPoint {
            attributes: labels.iter().map(|(k, v)| text(k, v)).collect(),
            start_time_unix_nano: if self.counter { self.start_ns } else { 0 },
            time_unix_nano: self.time_ns,
            value: Some(number_data_point::Value::AsDouble(value)),
            ..NumberDataPoint::default()
        };
        self.points.push((cluster.to_owned(), point));
        Ok(())
    }
}

/// OTLP's unit for a family (UCUM; curly braces for counted things).
fn unit(family: &Family) -> &'static str {
    match family.unit {
        Some("seconds") => "s",
        Some("messages") => "{message}",
        Some("messages_per_second") => "{message}/s",
        _ => "",
    }
}

fn metric(family: &Family, points: Vec<NumberDataPoint>) -> Metric {
    let data = match family.kind {
        MetricKind::Counter => metric::Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: true,
        }),
        MetricKind::Gauge | MetricKind::Info => metric::Data::Gauge(Gauge {
            data_points: points,
        }),
    };
    Metric {
        name: family.exposed_name(),
        description: family.help.to_owned(),
        unit: unit(family).to_owned(),
        data: Some(data),
        ..Metric::default()
    }
}

impl MetricVisitor for Builder {
    fn family(&mut self, family: &Family, samples: &mut Samples<'_>) -> fmt::Result {
        let scoped = is_cluster_scoped(family);
        if !scoped && !self.keep_operational {
            return Ok(());
        }
        let mut collected = Points {
            points: Vec::new(),
            time_ns: self.time_ns,
            start_ns: self.start_ns,
            counter: family.kind == MetricKind::Counter,
        };
        samples(&mut collected)?;
        if collected.points.is_empty() {
            return Ok(());
        }
        self.points += collected.points.len();
        if !scoped {
            let points = collected.points.into_iter().map(|(_, p)| p).collect();
            self.operational.push(metric(family, points));
            return Ok(());
        }
        // Split by cluster (the walk lists clusters in order, so runs are long).
        let mut rest = collected.points;
        while !rest.is_empty() {
            let cluster = rest[0].0.clone();
            let (mine, others): (Vec<_>, Vec<_>) =
                rest.into_iter().partition(|(c, _)| *c == cluster);
            rest = others;
            let points = mine.into_iter().map(|(_, p)| p).collect();
            let m = metric(family, points);
            match self.clusters.iter_mut().find(|(c, _)| *c == cluster) {
                Some((_, metrics)) => metrics.push(m),
                None => self.clusters.push((cluster, vec![m])),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_written_in_ucum() {
        let family = |unit| Family {
            name: "x",
            help: "x",
            kind: MetricKind::Gauge,
            unit,
        };
        assert_eq!(unit(&family(Some("seconds"))), "s");
        assert_eq!(unit(&family(Some("messages"))), "{message}");
        assert_eq!(unit(&family(Some("messages_per_second"))), "{message}/s");
        assert_eq!(unit(&family(None)), "");
    }
}
