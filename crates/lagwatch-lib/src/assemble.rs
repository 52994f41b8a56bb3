//! From a configuration to a runnable pipeline.

use lagwatch_component::ComponentError;
use lagwatch_config::{Config, ModelConfig, SinkConfig, SourceConfig};
use lagwatch_core::evaluator::EvaluatorSettings;
use lagwatch_core::filter::{FilterError, NameFilter};
use lagwatch_core::model::ModelSettings;
use lagwatch_runtime::{Pipeline, PipelineBuilder};
use std::time::Duration;

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
    /// A component could not be built from its section.
    #[error("{section}: {source}")]
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

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
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
            warm_up_ms: i64::try_from(config.evaluator.warm_up.as_millis()).unwrap_or(i64::MAX),
        })
        .evaluation_interval(config.general.evaluation_interval)
        .event_queue(config.general.event_queue)
        .sink_queue(config.general.sink_queue)
        .state_dir(config.general.state_dir_or_default())
        .state_save_interval(config.general.state_save_interval);

    for (name, source) in &config.sources {
        let section = format!("sources.{name}");
        builder = builder.source(build_source(&section, source)?);
    }
    for (name, sink) in &config.sinks {
        let section = format!("sinks.{name}");
        builder = builder.sink(build_sink(&section, sink)?);
    }
    build_alerting(builder, config)
}

/// Adds the rule engine and every alerter.
#[cfg(feature = "alert")]
fn build_alerting(
    mut builder: PipelineBuilder,
    config: &Config,
) -> Result<PipelineBuilder, AssembleError> {
    use lagwatch_alert::{LogAlerter, RuleSet, SlackAlerter, WebhookAlerter};
    use lagwatch_config::AlerterConfig;
    if !config.rules.is_empty() {
        builder = builder.rules(Box::new(RuleSet::from_config(&config.rules)?));
    }
    for (name, alerter) in &config.alerters {
        let built: Box<dyn lagwatch_component::Alerter> = match alerter {
            AlerterConfig::Slack(cfg) => Box::new(SlackAlerter::new(name, cfg)?),
            AlerterConfig::Webhook(cfg) => Box::new(WebhookAlerter::new(name, cfg)?),
            AlerterConfig::Log(_) => Box::new(LogAlerter::new(name)),
            _ => {
                return Err(AssembleError::NotIncluded {
                    section: format!("alerters.{name}"),
                    kind: alerter.type_name(),
                    feature: "alert",
                });
            }
        };
        builder = builder.alerter(built);
    }
    Ok(builder)
}

/// Without the `alert` feature, a configuration with rules or alerters is refused.
#[cfg(not(feature = "alert"))]
fn build_alerting(
    builder: PipelineBuilder,
    config: &Config,
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

#[allow(unreachable_patterns)]
fn build_source(
    section: &str,
    source: &SourceConfig,
) -> Result<Box<dyn lagwatch_component::OffsetSource>, AssembleError> {
    match source {
        #[cfg(feature = "demo")]
        SourceConfig::Demo(cfg) => Ok(Box::new(lagwatch_source_demo::DemoSource::new(cfg.clone()))),
        #[cfg(not(feature = "demo"))]
        SourceConfig::Demo(_) => Err(AssembleError::NotIncluded {
            section: section.to_owned(),
            kind: "demo",
            feature: "demo",
        }),
        #[cfg(feature = "burrow")]
        SourceConfig::Burrow(cfg) => lagwatch_source_burrow::BurrowSource::new(cfg)
            .map(|s| Box::new(s) as Box<dyn lagwatch_component::OffsetSource>)
            .map_err(|e| AssembleError::Component {
                section: section.to_owned(),
                source: lagwatch_component::ComponentError::permanent(
                    "source.burrow",
                    e.to_string(),
                )
                .with_source(e),
            }),
        #[cfg(not(feature = "burrow"))]
        SourceConfig::Burrow(_) => Err(AssembleError::NotIncluded {
            section: section.to_owned(),
            kind: "burrow",
            feature: "burrow",
        }),
        #[cfg(feature = "zookeeper")]
        SourceConfig::Zookeeper(cfg) => {
            lagwatch_source_zookeeper::ZookeeperSource::new(cfg.as_ref().clone())
                .map(|s| Box::new(s) as Box<dyn lagwatch_component::OffsetSource>)
                .map_err(|e| AssembleError::Component {
                    section: section.to_owned(),
                    source: lagwatch_component::ComponentError::permanent(
                        "source.zookeeper",
                        e.to_string(),
                    )
                    .with_source(e),
                })
        }
        #[cfg(not(feature = "zookeeper"))]
        SourceConfig::Zookeeper(_) => Err(AssembleError::NotIncluded {
            section: section.to_owned(),
            kind: "zookeeper",
            feature: "zookeeper",
        }),
        #[cfg(feature = "kafka")]
        SourceConfig::Kafka(cfg) => {
            lagwatch_source_kafka::KafkaSource::new(cfg.as_ref().clone(), section)
                .map(|s| Box::new(s) as Box<dyn lagwatch_component::OffsetSource>)
                .map_err(|e| AssembleError::Component {
                    section: section.to_owned(),
                    source: lagwatch_component::ComponentError::permanent(
                        "source.kafka",
                        e.to_string(),
                    )
                    .with_source(e),
                })
        }
        #[cfg(not(feature = "kafka"))]
        SourceConfig::Kafka(_) => Err(AssembleError::NotIncluded {
            section: section.to_owned(),
            kind: "kafka",
            feature: "kafka",
        }),
        _ => Err(AssembleError::NotIncluded {
            section: section.to_owned(),
            kind: "unknown",
            feature: "unknown",
        }),
    }
}

#[allow(unreachable_patterns)]
fn build_sink(
    section: &str,
    sink: &SinkConfig,
) -> Result<Box<dyn lagwatch_component::LagSink>, AssembleError> {
    match sink {
        #[cfg(feature = "stdout")]
        SinkConfig::Stdout(cfg) => Ok(Box::new(lagwatch_sink_stdout::StdoutSink::new(cfg.clone()))),
        #[cfg(not(feature = "stdout"))]
        SinkConfig::Stdout(_) => Err(AssembleError::NotIncluded {
            section: section.to_owned(),
            kind: "stdout",
            feature: "stdout",
        }),
        #[cfg(feature = "file")]
        SinkConfig::File(cfg) => lagwatch_sink_file::FileSink::open(cfg.clone())
            .map(|s| Box::new(s) as Box<dyn lagwatch_component::LagSink>)
            .map_err(|source| AssembleError::Component {
                section: section.to_owned(),
                source,
            }),
        #[cfg(not(feature = "file"))]
        SinkConfig::File(_) => Err(AssembleError::NotIncluded {
            section: section.to_owned(),
            kind: "file",
            feature: "file",
        }),
        #[cfg(feature = "elasticsearch")]
        SinkConfig::Elasticsearch(cfg) => {
            lagwatch_sink_elasticsearch::ElasticsearchSink::new(section, (**cfg).clone())
                .map(|s| Box::new(s) as Box<dyn lagwatch_component::LagSink>)
                .map_err(|e| AssembleError::Component {
                    section: section.to_owned(),
                    source: e.into_component(section),
                })
        }
        #[cfg(not(feature = "elasticsearch"))]
        SinkConfig::Elasticsearch(_) => Err(AssembleError::NotIncluded {
            section: section.to_owned(),
            kind: "elasticsearch",
            feature: "elasticsearch",
        }),
        _ => Err(AssembleError::NotIncluded {
            section: section.to_owned(),
            kind: "unknown",
            feature: "unknown",
        }),
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
}
