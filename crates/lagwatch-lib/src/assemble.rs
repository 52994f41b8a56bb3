//! From a configuration to a runnable pipeline.

#[allow(unused_imports)] // sinks and sources are empty when their features are off
use crate::{sinks, sources};
#[cfg(feature = "alert")]
use lagwatch_component::Alerter;
use lagwatch_component::{ComponentError, FromConfig, LagSink, OffsetSource};
#[cfg(feature = "alert")]
use lagwatch_config::AlerterConfig;
use lagwatch_config::{Config, ModelConfig, SinkConfig, SourceConfig};
use lagwatch_core::duration::millis;
use lagwatch_core::evaluator::EvaluatorSettings;
use lagwatch_core::filter::{FilterError, NameFilter};
use lagwatch_core::model::ModelSettings;
use lagwatch_runtime::{Pipeline, PipelineBuilder};

/// Why a configuration could not be turned into a pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssembleError {
    /// A regular expression of the model section does not compile.
    #[error("model.{key}: {source}")]
    Filter {
        /// The key holding the pattern.
        key: &'static str,
        /// What was wrong.
        #[source]
        source: FilterError,
    },
    /// A component could not be built from its section. Shown as the section and the
    /// component's message (`sinks.archive: cannot open …`); the component's name is in
    /// `source`.
    #[error("{section}: {}", .source.message)]
    Component {
        /// The section, e.g. `sinks.archive`.
        section: String,
        /// What was wrong.
        #[source]
        source: ComponentError,
    },
    /// An alert rule, alerter or the alert state file could not be set up.
    #[cfg(feature = "alert")]
    #[error(transparent)]
    Alert(#[from] lagwatch_alert::AlertError),
    /// A value the configuration checks let through is still unusable.
    #[error("{key}: {message}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A section names a component this build of lagwatch does not include.
    #[error("{section}: type {kind:?} is not included in this build (cargo feature {feature:?})")]
    NotIncluded {
        /// The section.
        section: String,
        /// The `type` value.
        kind: &'static str,
        /// The cargo feature that adds it.
        feature: &'static str,
    },
}

/// The model settings a [`ModelConfig`] describes.
pub fn model_settings(model: &ModelConfig) -> Result<ModelSettings, AssembleError> {
    // The filter compiles the allow pattern first, so the failing pattern tells which key
    // was wrong.
    let filter = |key_allow: &'static str, allow: &str, key_deny: &'static str, deny: &str| {
        NameFilter::new(Some(allow), Some(deny)).map_err(|source| AssembleError::Filter {
            key: if source.pattern == allow {
                key_allow
            } else {
                key_deny
            },
            source,
        })
    };
    Ok(ModelSettings {
        intervals: model.intervals,
        min_distance_ms: millis(model.min_distance),
        expire_group_ms: millis(model.expire_group),
        broker_history: model.broker_history.max(model.intervals),
        groups: filter(
            "group_allowlist",
            &model.group_allowlist,
            "group_denylist",
            &model.group_denylist,
        )?,
        topics: filter(
            "topic_allowlist",
            &model.topic_allowlist,
            "topic_denylist",
            &model.topic_denylist,
        )?,
    })
}

/// Builds the pipeline a configuration describes: every source and sink section becomes a
/// component, the model, evaluator and general sections become pipeline settings.
///
/// Validate the configuration first (`lagwatch_config`'s loader does); this function reports
/// only what can go wrong while building components (an unwritable file, say).
pub fn assemble(config: &Config) -> Result<PipelineBuilder, AssembleError> {
    let mut builder = Pipeline::builder()
        .model(model_settings(&config.model)?)
        .evaluator(EvaluatorSettings {
            minimum_complete: config.evaluator.minimum_complete,
            allowed_lag: config.evaluator.allowed_lag,
            warm_up_ms: millis(config.evaluator.warm_up),
        })
        .evaluation_interval(config.general.evaluation_interval)
        .event_queue(config.general.event_queue)
        .sink_queue(config.general.sink_queue)
        .state_dir(config.general.state_dir_or_default())
        .state_save_interval(config.general.state_save_interval);

    for (name, source) in &config.sources {
        builder = builder.source(build_source(name, source)?);
    }
    let stats = builder.stats_slot();
    for (name, sink) in &config.sinks {
        builder = builder.sink(build_sink(name, sink, &stats)?);
    }
    let shared = coordination_stores(config)?;
    for store in &shared {
        builder = builder.member_directory(&store.cluster, std::sync::Arc::clone(&store.members));
    }
    build_alerting(builder, config, &shared)
}

/// The store of one cluster this instance shares with others: where open alerts move with
/// their groups, and where the instances announce themselves.
#[allow(dead_code)] // fields unused when the alert or kafka feature is off
struct SharedStore {
    cluster: String,
    alerts: std::sync::Arc<dyn lagwatch_component::AlertHandover>,
    members: std::sync::Arc<dyn lagwatch_component::MemberDirectory>,
}

/// For every Kafka source that shares its cluster with other instances
/// (`coordination_group`), its compacted coordination topic.
fn coordination_stores(
    #[allow(unused_variables)] config: &Config,
) -> Result<Vec<SharedStore>, AssembleError> {
    #[allow(unused_mut)]
    let mut stores = Vec::new();
    #[cfg(feature = "kafka")]
    for (name, source) in &config.sources {
        let SourceConfig::Kafka(c) = source else {
            continue;
        };
        if c.coordination_group.is_empty() {
            continue;
        }
        let mut settings = (**c).clone();
        if settings.cluster.trim().is_empty() {
            name.clone_into(&mut settings.cluster);
        }
        let store = sources::kafka::KafkaAlertHandover::new(&settings).map_err(|source| {
            AssembleError::Component {
                section: format!("sources.{name}"),
                source,
            }
        })?;
        let store = std::sync::Arc::new(store);
        stores.push(SharedStore {
            cluster: settings.cluster,
            alerts: store.clone(),
            members: store,
        });
    }
    Ok(stores)
}

/// Builds component `T` for the section `at` (`("sinks", "archive")`) the one way every
/// component is built, [`FromConfig::from_config`]; an error names the section.
#[allow(dead_code)] // unused when every component feature is off
fn component<T: FromConfig>(at: (&str, &str), config: &T::Config) -> Result<T, AssembleError> {
    T::from_config(at.1, config).map_err(|source| AssembleError::Component {
        section: format!("{}.{}", at.0, at.1),
        source,
    })
}

/// One row of the component table: with cargo feature `$feature` on, returns the boxed `$ty`
/// built from `$config` from the enclosing function; with it off, returns
/// [`AssembleError::NotIncluded`] naming the feature. Each source and sink feature is named
/// after its `type`.
macro_rules! build {
    ($feature:literal, $ty:path, $at:expr, $config:expr) => {{
        #[cfg(feature = $feature)]
        return Ok(Box::new(component::<$ty>($at, $config)?));
        #[cfg(not(feature = $feature))]
        return {
            let _ = $config;
            Err(AssembleError::NotIncluded {
                section: format!("{}.{}", $at.0, $at.1),
                kind: $feature,
                feature: $feature,
            })
        };
    }};
}

fn build_source(name: &str, source: &SourceConfig) -> Result<Box<dyn OffsetSource>, AssembleError> {
    let at = ("sources", name);
    match source {
        SourceConfig::Demo(c) => build!("demo", sources::demo::DemoSource, at, c),
        SourceConfig::Burrow(c) => build!("burrow", sources::burrow::BurrowSource, at, &**c),
        SourceConfig::Zookeeper(c) => {
            build!("zookeeper", sources::zookeeper::ZookeeperSource, at, &**c)
        }
        SourceConfig::Kafka(c) => build!("kafka", sources::kafka::KafkaSource, at, &**c),
        other => Err(unknown(at, other.type_name())),
    }
}

/// `stats` reaches the sinks that export the pipeline's own figures (OTLP).
fn build_sink(
    name: &str,
    sink: &SinkConfig,
    #[allow(unused_variables)] stats: &lagwatch_component::StatsSlot,
) -> Result<Box<dyn LagSink>, AssembleError> {
    let at = ("sinks", name);
    match sink {
        SinkConfig::Stdout(c) => build!("stdout", sinks::stdout::StdoutSink, at, c),
        SinkConfig::File(c) => build!("file", sinks::file::FileSink, at, c),
        SinkConfig::Elasticsearch(c) => build!(
            "elasticsearch",
            sinks::elasticsearch::ElasticsearchSink,
            at,
            &**c
        ),
        #[cfg(feature = "otlp")]
        SinkConfig::Otlp(c) => {
            let sink = component::<sinks::otlp::OtlpSink>(at, &**c)?;
            Ok(Box::new(
                sink.with_stats(std::sync::Arc::new(stats.clone())),
            ))
        }
        #[cfg(not(feature = "otlp"))]
        SinkConfig::Otlp(c) => build!("otlp", sinks::otlp::OtlpSink, at, &**c),
        other => Err(unknown(at, other.type_name())),
    }
}

#[cfg(feature = "alert")]
fn build_alerter(name: &str, alerter: &AlerterConfig) -> Result<Box<dyn Alerter>, AssembleError> {
    let at = ("alerters", name);
    match alerter {
        AlerterConfig::Slack(c) => build!("alert", crate::alert::SlackAlerter, at, c),
        AlerterConfig::Webhook(c) => build!("alert", crate::alert::WebhookAlerter, at, c),
        AlerterConfig::Log(c) => build!("alert", crate::alert::LogAlerter, at, c),
        other => Err(unknown(at, other.type_name())),
    }
}

/// A section of a type this version of `lagwatch-lib` does not know.
fn unknown(at: (&str, &str), type_name: &'static str) -> AssembleError {
    AssembleError::NotIncluded {
        section: format!("{}.{}", at.0, at.1),
        kind: type_name,
        feature: "unknown",
    }
}

/// Adds the rule engine and every alerter.
#[cfg(feature = "alert")]
fn build_alerting(
    mut builder: PipelineBuilder,
    config: &Config,
    shared: &[SharedStore],
) -> Result<PipelineBuilder, AssembleError> {
    if !config.rules.is_empty() {
        let rules = lagwatch_alert::RuleSet::from_config(&config.rules)?;
        builder = builder.rules(Box::new(rules));
        for store in shared {
            builder = builder.alert_handover(&store.cluster, std::sync::Arc::clone(&store.alerts));
        }
    }
    for (name, alerter) in &config.alerters {
        builder = builder.alerter(build_alerter(name, alerter)?);
    }
    Ok(builder)
}

/// Without the `alert` feature, a configuration with rules or alerters is refused.
#[cfg(not(feature = "alert"))]
fn build_alerting(
    builder: PipelineBuilder,
    config: &Config,
    _shared: &[SharedStore],
) -> Result<PipelineBuilder, AssembleError> {
    let section = config
        .rules
        .keys()
        .map(|n| format!("rules.{n}"))
        .chain(config.alerters.keys().map(|n| format!("alerters.{n}")))
        .next();
    match section {
        Some(section) => Err(AssembleError::NotIncluded {
            section,
            kind: "alerting",
            feature: "alert",
        }),
        None => Ok(builder),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_key(edit: impl FnOnce(&mut ModelConfig)) -> Option<&'static str> {
        let mut model = ModelConfig::default();
        edit(&mut model);
        match model_settings(&model) {
            Err(AssembleError::Filter { key, .. }) => Some(key),
            _ => None,
        }
    }

    #[cfg(feature = "otlp")]
    #[test]
    fn an_otlp_sink_section_is_built_and_its_errors_name_the_section() {
        let mut config = lagwatch_config::OtlpSinkConfig::new("http://127.0.0.1:4317");
        let sink = build_sink(
            "otel",
            &SinkConfig::Otlp(Box::new(config.clone())),
            &Default::default(),
        );
        assert_eq!(
            sink.map(|s| s.name().to_owned()).ok(),
            Some("otlp[otel]".into())
        );
        config.topic_denylist = "(".into();
        let err = build_sink(
            "otel",
            &SinkConfig::Otlp(Box::new(config)),
            &Default::default(),
        )
        .err();
        let shown = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(shown.starts_with("sinks.otel: topic_denylist"), "{shown}");
    }

    #[test]
    fn a_bad_pattern_is_reported_under_its_own_key() {
        assert_eq!(
            error_key(|m| m.group_allowlist = "(".into()),
            Some("group_allowlist")
        );
        assert_eq!(
            error_key(|m| m.group_denylist = "(".into()),
            Some("group_denylist")
        );
        assert_eq!(
            error_key(|m| m.topic_allowlist = "[".into()),
            Some("topic_allowlist")
        );
        assert_eq!(
            error_key(|m| m.topic_denylist = "[".into()),
            Some("topic_denylist")
        );
        // Both bad: the allow list is reported first.
        assert_eq!(
            error_key(|m| {
                m.group_allowlist = "(".into();
                m.group_denylist = "(".into();
            }),
            Some("group_allowlist")
        );
        assert_eq!(error_key(|_| {}), None);
    }

    /// docs/configuration.md: a Kafka source's empty `cluster` means the section's
    /// `<name>` (not the key path `sources.<name>`).
    #[cfg(feature = "kafka")]
    #[test]
    fn a_kafka_source_without_a_cluster_is_named_after_its_section() {
        let config = lagwatch_config::KafkaSourceConfig::new("", "127.0.0.1:9092");
        let source = match build_source("live", &SourceConfig::Kafka(Box::new(config))) {
            Ok(source) => source,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(source.name(), "kafka[live]");
    }

    #[cfg(feature = "file")]
    #[test]
    fn a_component_error_names_the_section() {
        let dir = tempfile::tempdir().unwrap();
        let taken = dir.path().join("taken");
        std::fs::create_dir(&taken).unwrap();
        let config = lagwatch_config::FileSinkConfig::new(&taken);
        let err = match build_sink("archive", &SinkConfig::File(config), &Default::default()) {
            Ok(_) => panic!("a directory was opened as the sink's file"),
            Err(e) => e,
        };
        let shown = err.to_string();
        assert!(shown.starts_with("sinks.archive: "), "{shown}");
        match err {
            AssembleError::Component { section, source } => {
                assert_eq!(section, "sinks.archive");
                assert_eq!(source.class, lagwatch_component::ErrorClass::Permanent);
            }
            other => panic!("{other:?}"),
        }
    }
}
