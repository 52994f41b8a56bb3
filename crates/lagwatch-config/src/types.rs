//! The configuration tree.

pub use crate::alerting::*;
pub use crate::elasticsearch::ElasticsearchSinkConfig;
pub use crate::http::{HttpConfig, MetricSetName, MetricsConfig};
pub use crate::otlp::{OtlpProtocol, OtlpSinkConfig};
use lagwatch_core::duration::serde_text;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The whole configuration of a lagwatch collector.
///
/// Build one with [`Config::from_file`], [`Config::load`] or [`Config::demo`]; the default
/// value has no source and no sink and so does not pass [`Config::validate`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Process-wide settings.
    pub general: GeneralConfig,
    /// How commits and broker offsets are stored (Burrow's `[storage]`).
    pub model: ModelConfig,
    /// How windows are judged (Burrow's `[evaluator]`).
    pub evaluator: EvaluatorConfig,
    /// The HTTP API (Burrow's v3 API, `/metrics`, health, JSON API).
    pub http: HttpConfig,
    /// Offset sources by name.
    pub sources: BTreeMap<String, SourceConfig>,
    /// Sinks by name.
    pub sinks: BTreeMap<String, SinkConfig>,
    /// Alert rules by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub rules: BTreeMap<String, RuleConfig>,
    /// Alerters by name; every alerter gets every alert notification.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub alerters: BTreeMap<String, AlerterConfig>,
}

/// Process-wide settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeneralConfig {
    /// How often every group is evaluated and the result sent to sinks and alert rules.
    #[serde(with = "serde_text")]
    pub evaluation_interval: Duration,
    /// Log line format: `text` or `json`.
    pub log_format: LogFormat,
    /// Room for event batches between sources and the model; a full queue slows the sources
    /// down, never the evaluation.
    pub event_queue: usize,
    /// Snapshots queued for each sink before the oldest is dropped (and counted).
    pub sink_queue: usize,
    /// Directory keeping the model's windows, the alert rules' state and the alert outbox
    /// across restarts (empty: the default location, see [`GeneralConfig::state_dir_or_default`]).
    pub state_dir: PathBuf,
    /// Whether `lagwatch run` keeps state on disk at all (`false`: in memory only, so a
    /// restart starts with empty windows and forgets open alerts).
    pub persist_state: bool,
    /// How often the model's windows are saved (open alerts and the outbox are saved at every
    /// change). A restart after a crash loses at most this much history.
    #[serde(with = "serde_text")]
    pub state_save_interval: Duration,
}

impl GeneralConfig {
    /// The state directory `lagwatch run` uses: `state_dir` when set; else `$STATE_DIRECTORY`
    /// (set by systemd's `StateDirectory=`); else `$XDG_STATE_HOME/lagwatch`; else
    /// `$HOME/.local/state/lagwatch`; else `lagwatch-state` in the working directory. `None`
    /// when `persist_state` is off.
    pub fn state_dir_or_default(&self) -> Option<PathBuf> {
        if !self.persist_state {
            return None;
        }
        if !self.state_dir.as_os_str().is_empty() {
            return Some(self.state_dir.clone());
        }
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if let Some(dir) = var("STATE_DIRECTORY") {
            // systemd may list several directories separated by colons; the first is ours.
            let first = dir.to_string_lossy().split(':').next().map(PathBuf::from);
            return first.or(Some(dir));
        }
        if let Some(dir) = var("XDG_STATE_HOME") {
            return Some(dir.join("lagwatch"));
        }
        if let Some(home) = var("HOME") {
            return Some(home.join(".local/state/lagwatch"));
        }
        Some(PathBuf::from("lagwatch-state"))
    }
}

impl Default for GeneralConfig {
    fn default() -> Self {
        GeneralConfig {
            evaluation_interval: Duration::from_secs(10),
            log_format: LogFormat::Text,
            event_queue: 1024,
            sink_queue: 16,
            state_dir: PathBuf::new(),
            persist_state: true,
            state_save_interval: Duration::from_secs(10),
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// How commits and broker offsets are stored; the keys mirror Burrow's `[storage]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Commits kept per partition (Burrow's `intervals`).
    pub intervals: usize,
    /// Commits closer together than this share one slot (Burrow's `min-distance`); `0s` off.
    #[serde(with = "serde_text")]
    pub min_distance: Duration,
    /// Groups whose last commit is older than this are forgotten (Burrow's `expire-group`).
    #[serde(with = "serde_text")]
    pub expire_group: Duration,
    /// Broker offset samples kept per partition for time-lag estimates (at least `intervals`).
    pub broker_history: usize,
    /// Only groups matching this regular expression are kept (empty: all).
    pub group_allowlist: String,
    /// Groups matching this regular expression are dropped (empty: none).
    pub group_denylist: String,
    /// Only topics matching this regular expression are kept (empty: all).
    pub topic_allowlist: String,
    /// Topics matching this regular expression are dropped (empty: none).
    pub topic_denylist: String,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            intervals: 10,
            min_distance: Duration::ZERO,
            expire_group: Duration::from_secs(604_800),
            broker_history: 60,
            group_allowlist: String::new(),
            group_denylist: String::new(),
            topic_allowlist: String::new(),
            topic_denylist: String::new(),
        }
    }
}

/// How windows are judged; the keys mirror Burrow's `[evaluator]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvaluatorConfig {
    /// Which rules to apply. Only `burrow` (Burrow's exact rules) exists today.
    pub mode: EvaluatorMode,
    /// Share of the window (0.0–1.0) that must be filled before a partition can be non-OK
    /// (Burrow's `minimum-complete`).
    pub minimum_complete: f32,
    /// Lag (messages) at or below which a partition is OK (Burrow's `allowed-lag`).
    pub allowed_lag: u64,
    /// How long a partition whose window holds a single commit is reported warming up (no
    /// alert fires or resolves on it) while waiting for a second commit.
    #[serde(with = "serde_text")]
    pub warm_up: Duration,
}

impl Default for EvaluatorConfig {
    fn default() -> Self {
        EvaluatorConfig {
            mode: EvaluatorMode::Burrow,
            minimum_complete: 0.0,
            allowed_lag: 0,
            warm_up: Duration::from_secs(300),
        }
    }
}

/// Evaluation rule set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EvaluatorMode {
    /// Burrow's rules, quirks included.
    #[default]
    Burrow,
}

/// An offset source, selected by `type`.
///
/// Adding a variant: add its tag to [`SourceConfig::TYPES`] and
/// [`SourceConfig::type_name`], an arm in the loader (`validate::parse_source`) and in the
/// semantic checks, and a `Source type` section in `docs/configuration.md` (a test fails
/// until every key is documented).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SourceConfig {
    /// A simulated cluster (no external service).
    Demo(DemoSourceConfig),
    /// One or more Burrow v3 HTTP APIs, Burrow's verdicts included.
    Burrow(Box<crate::burrow::BurrowSourceConfig>),
    /// Consumer offsets stored in ZooKeeper by old consumers.
    Zookeeper(Box<crate::zookeeper::ZookeeperSourceConfig>),
    /// A Kafka cluster read directly (Admin API and/or `__consumer_offsets`).
    Kafka(Box<crate::kafka::KafkaSourceConfig>),
}

impl SourceConfig {
    /// Every `type` a source section may have.
    pub const TYPES: &'static [&'static str] = &["demo", "burrow", "zookeeper", "kafka"];

    /// This source's `type` tag.
    pub fn type_name(&self) -> &'static str {
        match self {
            SourceConfig::Demo(_) => "demo",
            SourceConfig::Burrow(_) => "burrow",
            SourceConfig::Zookeeper(_) => "zookeeper",
            SourceConfig::Kafka(_) => "kafka",
        }
    }
}

/// The simulated cluster of `lagwatch demo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemoSourceConfig {
    /// Cluster name the simulated events carry.
    pub cluster: String,
    /// Seed of the simulation; the same seed gives the same events.
    pub seed: u64,
    /// Simulated time between two steps (produce, commit, broker sample).
    #[serde(with = "serde_text")]
    pub tick: Duration,
    /// Partitions per simulated topic.
    pub partitions: u32,
}

impl Default for DemoSourceConfig {
    fn default() -> Self {
        DemoSourceConfig {
            cluster: "demo".into(),
            seed: 42,
            tick: Duration::from_millis(500),
            partitions: 3,
        }
    }
}

/// A sink, selected by `type`.
///
/// Adding a variant: add its tag to [`SinkConfig::TYPES`] and [`SinkConfig::type_name`], an
/// arm in the loader (`validate::parse_sink`) and in the semantic checks, and a `Sink type`
/// section in `docs/configuration.md` (a test fails until every key is documented).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SinkConfig {
    /// Standard output.
    Stdout(StdoutSinkConfig),
    /// Newline-delimited JSON files.
    File(FileSinkConfig),
    /// Elasticsearch or OpenSearch (`_bulk`).
    Elasticsearch(Box<ElasticsearchSinkConfig>),
    /// OTLP metrics push (gRPC or HTTP/protobuf).
    Otlp(Box<OtlpSinkConfig>),
}

impl SinkConfig {
    /// Every `type` a sink section may have.
    pub const TYPES: &'static [&'static str] = &["stdout", "file", "elasticsearch", "otlp"];

    /// This sink's `type` tag.
    pub fn type_name(&self) -> &'static str {
        match self {
            SinkConfig::Stdout(_) => "stdout",
            SinkConfig::File(_) => "file",
            SinkConfig::Elasticsearch(_) => "elasticsearch",
            SinkConfig::Otlp(_) => "otlp",
        }
    }
}

/// Standard output sink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StdoutSinkConfig {
    /// `auto` (a refreshing table on a terminal, JSON lines otherwise), `table` or `json`.
    pub format: StdoutFormat,
    /// Include `burrow_topic` records (broker offsets) in JSON output.
    pub topics: bool,
}

impl Default for StdoutSinkConfig {
    fn default() -> Self {
        StdoutSinkConfig {
            format: StdoutFormat::Auto,
            topics: false,
        }
    }
}

/// Output format of the stdout sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StdoutFormat {
    /// Table on a terminal, JSON lines otherwise.
    #[default]
    Auto,
    /// A human table.
    Table,
    /// One JSON document per record, in Telegraf's Elasticsearch document shape.
    Json,
}

/// File sink: newline-delimited JSON documents in Telegraf's Elasticsearch shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSinkConfig {
    /// File to write; rotated files get a suffix. Required.
    pub path: PathBuf,
    /// Rotate when the file would grow beyond this many bytes (`0`: never by size).
    #[serde(default = "default_rotate_bytes")]
    pub rotate_bytes: u64,
    /// Rotate when the UTC day changes.
    #[serde(default = "default_true")]
    pub rotate_daily: bool,
    /// Rotated files kept (`0`: keep all). Default 14: two weeks of daily files.
    #[serde(default = "default_max_files")]
    pub max_files: usize,
    /// When data is forced to disk.
    #[serde(default)]
    pub fsync: FsyncPolicy,
    /// Include `burrow_topic` records (broker offsets).
    #[serde(default = "default_true")]
    pub topics: bool,
}

impl FileSinkConfig {
    /// A configuration writing to `path` with every other key at its default.
    pub fn new(path: impl Into<PathBuf>) -> FileSinkConfig {
        FileSinkConfig {
            path: path.into(),
            rotate_bytes: default_rotate_bytes(),
            rotate_daily: true,
            max_files: default_max_files(),
            fsync: FsyncPolicy::default(),
            topics: true,
        }
    }
}

fn default_max_files() -> usize {
    14
}

fn default_rotate_bytes() -> u64 {
    100 * 1024 * 1024
}

fn default_true() -> bool {
    true
}

/// When the file sink forces data to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FsyncPolicy {
    /// After every snapshot, before acknowledging it (no acknowledged record is lost on a
    /// power cut).
    #[default]
    Always,
    /// Never explicitly; the operating system writes when it likes (a crash of lagwatch
    /// loses nothing, a power cut may).
    Never,
}
