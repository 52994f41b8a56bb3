//! # lagwatch-lib
//!
//! Kafka consumer-lag monitoring as a library. This facade re-exports lagwatch's crates behind
//! cargo features and offers [`assemble()`], which turns a [`config::Config`] into a ready
//! [`runtime::Pipeline`] — the same wiring the `lagwatch` collector binary uses.
//!
//! | module | crate | what it is |
//! |---|---|---|
//! | [`core`] | `lagwatch-core` | events, the Burrow-compatible lag model and evaluator, time lag, rules |
//! | [`component`] | `lagwatch-component` | the `OffsetSource`, `LagSink`, `Alerter`, `RuleEngine` traits |
//! | [`config`] | `lagwatch-config` | the typed configuration tree |
//! | [`runtime`] | `lagwatch-runtime` | the pipeline |
//! | [`sources::demo`] | `lagwatch-source-demo` (feature `demo`) | a simulated cluster |
//! | [`sources::kafka`] | `lagwatch-source-kafka` (feature `kafka`) | a Kafka cluster: Admin API and `__consumer_offsets` |
//! | [`sources::burrow`], [`sources::zookeeper`] | `lagwatch-source-burrow`, `lagwatch-source-zookeeper` (features `burrow`, `zookeeper`) | an existing Burrow; offsets in ZooKeeper |
//! | [`sinks::stdout`], [`sinks::file`] | `lagwatch-sink-stdout`, `lagwatch-sink-file` (features `stdout`, `file`) | sinks |
//! | [`alert`] | `lagwatch-alert` (feature `alert`) | alert rules and the Slack, webhook and log alerters |
//!
//! Wiring components by hand, without the configuration system:
//!
//! ```no_run
//! # #[cfg(all(feature = "demo", feature = "stdout"))]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use lagwatch_lib::component::FromConfig;
//! use lagwatch_lib::config::{DemoSourceConfig, StdoutSinkConfig};
//! use lagwatch_lib::runtime::{CancellationToken, Pipeline};
//! use lagwatch_lib::sinks::stdout::StdoutSink;
//! use lagwatch_lib::sources::demo::DemoSource;
//!
//! let pipeline = Pipeline::builder()
//!     .source(Box::new(DemoSource::from_config("live", &DemoSourceConfig::default())?))
//!     .sink(Box::new(StdoutSink::from_config("console", &StdoutSinkConfig::default())?))
//!     .evaluation_interval(std::time::Duration::from_secs(1))
//!     .build();
//! let shutdown = CancellationToken::new();
//! lagwatch_lib::runtime::cancel_on_signals(shutdown.clone());
//! pipeline.run(shutdown).await?;
//! # Ok(()) }
//! ```

pub mod assemble;
mod build_info;
#[cfg(feature = "http")]
mod http_settings;

pub use assemble::{AssembleError, assemble, model_settings};
pub use build_info::{features, librdkafka_version};
#[cfg(feature = "http")]
pub use http_settings::{http_settings, metrics_renderer, metrics_settings};
/// Alert rules and alerters.
#[cfg(feature = "alert")]
pub use lagwatch_alert as alert;
pub use lagwatch_component as component;
pub use lagwatch_config as config;
pub use lagwatch_core as core;
/// The HTTP API (Burrow's v3 API, `/metrics`, health, JSON API).
#[cfg(feature = "http")]
pub use lagwatch_http as http;
/// Importing Burrow and Telegraf configuration files as a [`config::Config`].
pub use lagwatch_import as import;
pub use lagwatch_runtime as runtime;

/// Offset sources.
pub mod sources {
    /// An existing Burrow's HTTP API.
    #[cfg(feature = "burrow")]
    pub use lagwatch_source_burrow as burrow;
    /// The simulated cluster.
    #[cfg(feature = "demo")]
    pub use lagwatch_source_demo as demo;
    /// A Kafka cluster read directly: Admin API and `__consumer_offsets`.
    #[cfg(feature = "kafka")]
    pub use lagwatch_source_kafka as kafka;
    /// Consumer offsets stored in ZooKeeper.
    #[cfg(feature = "zookeeper")]
    pub use lagwatch_source_zookeeper as zookeeper;
}

/// Sinks.
pub mod sinks {
    /// Elasticsearch and OpenSearch.
    #[cfg(feature = "elasticsearch")]
    pub use lagwatch_sink_elasticsearch as elasticsearch;
    /// Newline-delimited JSON files.
    #[cfg(feature = "file")]
    pub use lagwatch_sink_file as file;
    /// OTLP metrics push.
    #[cfg(feature = "otlp")]
    pub use lagwatch_sink_otlp as otlp;
    /// Standard output.
    #[cfg(feature = "stdout")]
    pub use lagwatch_sink_stdout as stdout;
}
