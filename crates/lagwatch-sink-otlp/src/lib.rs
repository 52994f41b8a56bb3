//! OTLP metrics sink for lagwatch.
//!
//! After every evaluation [`OtlpSink`] pushes lagwatch's native metrics (the `lagwatch_…`
//! names of docs/metrics.md) to an OpenTelemetry receiver, over gRPC (tonic) or HTTP with a
//! binary protobuf body (reqwest). The messages are `opentelemetry-proto`'s generated OTLP
//! types, filled from the same walk that writes `/metrics` ([`lagwatch_metrics::visit`]), so
//! a pushed data point equals the scraped sample with the same name and labels.
//!
//! * Gauges are OTLP `Gauge`s; counters are monotonic cumulative `Sum`s whose start time is
//!   the pipeline's start; the build info is a gauge of 1 named `lagwatch_build_info`.
//! * One `ResourceMetrics` per Kafka cluster, with resource attributes `service.name =
//!   lagwatch`, `service.instance.id` (configurable, default the host name),
//!   `service.version` and `kafka.cluster.name`; data points keep their `cluster` attribute
//!   too, so receivers that ignore resource attributes (Prometheus) still tell clusters apart.
//! * With [`OtlpSink::with_stats`], one more resource without cluster carries lagwatch's own
//!   figures (reads, queues, deliveries, readiness, build info, snapshot time).
//!
//! The OpenTelemetry SDK is not used: its aggregation would hold every series a second time
//! and push on a timer of its own, while here each evaluation is pushed as it happens.
//!
//! ```no_run
//! use lagwatch_component::FromConfig;
//! use lagwatch_config::OtlpSinkConfig;
//! use lagwatch_sink_otlp::OtlpSink;
//! let sink = OtlpSink::from_config("otel", &OtlpSinkConfig::new("http://127.0.0.1:4317"))?;
//! # Ok::<(), lagwatch_component::ComponentError>(())
//! ```

/// The README's example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod message;
mod sink;

pub use sink::OtlpSink;

/// A configuration the sink cannot be built from.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtlpError {
    /// A key has a value the sink cannot use.
    #[error("{key}: {reason}")]
    Config {
        /// The key, relative to the sink's section.
        key: &'static str,
        /// What is wrong (never a header value).
        reason: String,
    },
}
