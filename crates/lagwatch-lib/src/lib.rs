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
//! ## From one cluster to your own sink
//!
//! ### 1. Read one cluster, the way the collector does
//!
//! A configuration (the same TOML or YAML the `lagwatch` binary reads; every key in
//! `docs/configuration.md`) and [`assemble()`]:
//!
//! ```no_run
//! # #[cfg(all(feature = "kafka", feature = "stdout"))]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use lagwatch_lib::config::{Config, Format};
//! use lagwatch_lib::runtime::{CancellationToken, cancel_on_signals};
//!
//! let config = Config::from_str(r#"
//!     [sources.production]
//!     type = "kafka"
//!     servers = "127.0.0.1:9092"
//!
//!     [sinks.console]
//!     type = "stdout"
//! "#, Format::Toml)?;
//! config.validate()?; // every problem, named by its key path
//! let pipeline = lagwatch_lib::assemble(&config)?.build();
//! let shutdown = CancellationToken::new();
//! cancel_on_signals(shutdown.clone()); // Ctrl-C / SIGTERM: evaluate once more, flush, stop
//! pipeline.run(shutdown).await?;
//! # Ok(()) }
//! ```
//!
//! ### 2. Wire the components by hand
//!
//! Every source and sink is built from its own configuration struct with
//! [`FromConfig`](component::FromConfig), and the [`Pipeline`](runtime::Pipeline) builder joins
//! them; no configuration file is involved:
//!
//! ```no_run
//! # #[cfg(all(feature = "kafka", feature = "stdout"))]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use lagwatch_lib::component::FromConfig;
//! use lagwatch_lib::config::{KafkaSourceConfig, StdoutSinkConfig};
//! use lagwatch_lib::runtime::{CancellationToken, Pipeline};
//! use lagwatch_lib::sinks::stdout::StdoutSink;
//! use lagwatch_lib::sources::kafka::KafkaSource;
//!
//! let kafka = KafkaSourceConfig::new("production", "127.0.0.1:9092");
//! let pipeline = Pipeline::builder()
//!     .source(Box::new(KafkaSource::from_config("production", &kafka)?))
//!     .sink(Box::new(StdoutSink::from_config("console", &StdoutSinkConfig::default())?))
//!     .evaluation_interval(std::time::Duration::from_secs(10))
//!     .build();
//! pipeline.run(CancellationToken::new()).await?;
//! # Ok(()) }
//! ```
//!
//! ### 3. Ask the running pipeline
//!
//! [`Pipeline::handle`](runtime::Pipeline::handle) gives a cheap, cloneable
//! [`PipelineHandle`](runtime::PipelineHandle): the newest evaluation, a watch channel that
//! changes at every evaluation, one group's whole window, live statistics. The HTTP API is
//! built on it, and so can your service be:
//!
//! ```no_run
//! # async fn run(pipeline: lagwatch_lib::runtime::Pipeline) {
//! use lagwatch_lib::core::GroupStatus;
//! let mut evaluations = pipeline.handle().subscribe();
//! tokio::spawn(pipeline.run(lagwatch_lib::runtime::CancellationToken::new()));
//! while evaluations.changed().await.is_ok() {
//!     let snapshot = evaluations.borrow_and_update().clone();
//!     for group in snapshot.groups().iter().filter(|g| g.status != GroupStatus::Ok) {
//!         println!("{} {} lag {}", group.status.as_str(), group.group, group.totallag);
//!     }
//! }
//! # }
//! ```
//!
//! ### 4. Only the model, fed by you
//!
//! [`core::LagModel`] has no I/O and no runtime: [`apply`](core::LagModel::apply) the offsets
//! you already have as [`core::Event`]s and [`evaluate_group`](core::LagModel::evaluate_group)
//! when you want a verdict. The `embed_model` example does exactly that.
//!
//! ### 5. Your own sink (or source, or alerter)
//!
//! Implement [`component::LagSink`]: `write` receives every evaluation's
//! [`Snapshot`](core::Snapshot) and returns once the records are safely handled. The pipeline
//! gives each sink its own bounded queue, so a slow sink never delays evaluation:
//!
//! ```
//! use lagwatch_lib::component::{Ack, ComponentError, LagSink, async_trait};
//! use lagwatch_lib::core::Snapshot;
//!
//! struct Audit;
//!
//! #[async_trait]
//! impl LagSink for Audit {
//!     fn name(&self) -> &str { "audit" }
//!     async fn healthcheck(&self) -> Result<(), ComponentError> { Ok(()) }
//!     async fn write(&self, snapshot: &Snapshot) -> Result<Ack, ComponentError> {
//!         for group in snapshot.groups() {
//!             println!("{}/{} {}", group.cluster, group.group, group.totallag);
//!         }
//!         Ok(Ack { records: snapshot.groups().len() })
//!     }
//!     async fn flush(&self) -> Result<(), ComponentError> { Ok(()) }
//! }
//! ```
//!
//! Add it with `PipelineBuilder::sink(Box::new(Audit))`, beside or instead of the built-in
//! sinks; with [`assemble()`] the builder it returns takes more sinks the same way. A source
//! implements [`component::OffsetSource`] (send [`core::Event`]s until cancelled), an alerter
//! [`component::Alerter`].
//!
//! The crate's `examples/` hold complete programs: `embed_model` (step 4), `channel_sink`
//! (step 5, a sink writing into a channel the application owns) and `watch_cluster` (steps
//! 2 and 5: read one cluster and print the groups that are WARN or ERR).
//!
//! ## Stability
//!
//! Versions follow semver. Error enums, event and configuration enums that will grow are
//! `#[non_exhaustive]`: match them with a wildcard arm. Enums that mirror Burrow's fixed
//! vocabulary ([`core::GroupStatus`], [`core::PartitionStatus`]) are exhaustive on purpose.
//! Configuration structs implement `Default`: start from it and set fields. The minimum Rust
//! version is the workspace's `rust-version` (1.85), checked by building with that toolchain.

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
