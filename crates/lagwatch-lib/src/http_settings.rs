//! From the `[http]` section (and the rest of the configuration, which Burrow's config
//! endpoints show) to the server's settings.

use crate::assemble::AssembleError;
use lagwatch_config::{AlerterConfig, Config, MetricSetName, MetricsConfig, SourceConfig};
use lagwatch_core::filter::NameFilter;
use lagwatch_core::secret::Secret;
use lagwatch_http::settings::{BurrowView, ClusterModule, ConsumerModule, StorageModule};
use lagwatch_http::{Auth, HttpSettings, MetricsRenderer, TlsFiles};
use lagwatch_metrics::{MetricsSettings, NameSet};
use std::sync::Arc;

fn secret_or_none(s: &Secret) -> Option<Secret> {
    (!s.expose().is_empty()).then(|| s.clone())
}

/// The HTTP server's settings for `config`; `None` when `http.enabled` is off.
pub fn http_settings(config: &Config) -> Result<Option<HttpSettings>, AssembleError> {
    let h = &config.http;
    if !h.enabled {
        return Ok(None);
    }
    let listen = h.listen.parse().map_err(|_| AssembleError::Invalid {
        key: "http.listen",
        message: format!("must be an IP address and port, got {:?}", h.listen),
    })?;
    let auth = if !h.bearer_token.expose().is_empty() {
        Auth::Bearer(h.bearer_token.clone())
    } else if !h.username.is_empty() {
        Auth::Basic {
            username: h.username.clone(),
            password: h.password.clone(),
        }
    } else {
        Auth::None
    };
    let tls = (!h.tls_cert.as_os_str().is_empty()).then(|| TlsFiles {
        cert: h.tls_cert.clone(),
        key: h.tls_key.clone(),
    });
    let mut settings = HttpSettings {
        listen,
        tls,
        auth,
        admin_token: secret_or_none(&h.admin_token),
        history: h.history,
        allow_origin: h.allow_origin.clone(),
        advertise: (!h.advertise.is_empty()).then(|| h.advertise.trim_end_matches('/').to_owned()),
        burrow: burrow_view(config),
        ..HttpSettings::default()
    };
    if settings.host.is_empty() {
        settings.host = lagwatch_http::settings::host_name();
    }
    Ok(Some(settings))
}

/// The `/metrics` settings an `[http.metrics]` section describes.
pub fn metrics_settings(m: &MetricsConfig) -> Result<MetricsSettings, AssembleError> {
    let filter = |key_allow: &'static str, allow: &str, deny: &str| {
        NameFilter::new(Some(allow), Some(deny)).map_err(|source| AssembleError::Invalid {
            key: key_allow,
            message: source.to_string(),
        })
    };
    let mut sets: Vec<NameSet> = m
        .sets
        .iter()
        .map(|s| match s {
            MetricSetName::Native => NameSet::Native,
            MetricSetName::KafkaExporter => NameSet::KafkaExporter,
            MetricSetName::KafkaLagExporter => NameSet::KafkaLagExporter,
        })
        .collect();
    sets.sort();
    sets.dedup();
    Ok(MetricsSettings {
        sets,
        partition_series: m.partition_series,
        groups: filter(
            "http.metrics.group_allowlist",
            &m.group_allowlist,
            &m.group_denylist,
        )?,
        topics: filter(
            "http.metrics.topic_allowlist",
            &m.topic_allowlist,
            &m.topic_denylist,
        )?,
        member_labels: m.member_labels,
    })
}

/// Renders `/metrics` with `lagwatch-metrics`.
struct SnapshotMetrics {
    settings: Arc<MetricsSettings>,
}

impl MetricsRenderer for SnapshotMetrics {
    fn render(
        &self,
        snapshot: &lagwatch_core::Snapshot,
        stats: &lagwatch_component::RuntimeStats,
        accept: Option<&str>,
        out: &mut String,
    ) -> &'static str {
        match lagwatch_metrics::render(
            snapshot,
            Some(stats.clone()),
            self.settings.clone(),
            accept,
            out,
        ) {
            Ok(content_type) => content_type,
            // Writing into a String does not fail; answer with what was written.
            Err(_) => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

/// The `/metrics` renderer the `[http.metrics]` section describes.
pub fn metrics_renderer(config: &Config) -> Result<Arc<dyn MetricsRenderer>, AssembleError> {
    Ok(Arc::new(SnapshotMetrics {
        settings: Arc::new(metrics_settings(&config.http.metrics)?),
    }))
}

/// A comma-separated server list as a list.
fn server_list(servers: &str) -> Vec<String> {
    servers
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What Burrow's config endpoints show, from lagwatch's configuration.
fn burrow_view(config: &Config) -> BurrowView {
    let secs = |d: std::time::Duration| d.as_secs();
    let mut view = BurrowView {
        storage: StorageModule {
            intervals: config.model.intervals as u64,
            min_distance_s: secs(config.model.min_distance),
            group_allowlist: config.model.group_allowlist.clone(),
            expire_group_s: secs(config.model.expire_group),
        },
        evaluation_interval_s: secs(config.general.evaluation_interval),
        ..BurrowView::default()
    };
    for (name, source) in &config.sources {
        let (cluster, class, servers, module) = match source {
            SourceConfig::Kafka(k) => {
                let cluster = if k.cluster.is_empty() {
                    name.clone()
                } else {
                    k.cluster.clone()
                };
                let servers = server_list(&k.servers);
                let module = ClusterModule {
                    class_name: "kafka".into(),
                    servers: servers.clone(),
                    client_profile: "default".into(),
                    topic_refresh_s: secs(k.topic_refresh),
                    offset_refresh_s: secs(k.offset_refresh),
                };
                let consumer = ConsumerModule {
                    class_name: "kafka".into(),
                    cluster: cluster.clone(),
                    servers,
                    group_allowlist: k.group_allowlist.clone(),
                    offsets_topic: k.offsets_topic.clone(),
                    ..ConsumerModule::default()
                };
                (cluster, consumer, module.servers.clone(), Some(module))
            }
            SourceConfig::Zookeeper(z) => {
                let cluster = if z.cluster.is_empty() {
                    name.clone()
                } else {
                    z.cluster.clone()
                };
                let servers = server_list(&z.servers);
                let consumer = ConsumerModule {
                    class_name: "kafka_zk".into(),
                    cluster: cluster.clone(),
                    servers: servers.clone(),
                    group_allowlist: z.group_allowlist.clone(),
                    zookeeper_path: z.root_path.clone(),
                    zookeeper_timeout_s: secs(z.session_timeout),
                    ..ConsumerModule::default()
                };
                (cluster, consumer, servers, None)
            }
            SourceConfig::Demo(d) => {
                let consumer = ConsumerModule {
                    class_name: "demo".into(),
                    cluster: d.cluster.clone(),
                    ..ConsumerModule::default()
                };
                (d.cluster.clone(), consumer, Vec::new(), None)
            }
            // A Burrow source brings clusters of its own, known from its data only.
            _ => continue,
        };
        let module = module.unwrap_or(ClusterModule {
            class_name: class.class_name.clone(),
            servers,
            client_profile: "default".into(),
            ..ClusterModule::default()
        });
        view.clusters.entry(cluster).or_insert(module);
        view.consumers.insert(name.clone(), class);
    }
    for (name, alerter) in &config.alerters {
        let class = match alerter {
            AlerterConfig::Slack(_) => "slack",
            AlerterConfig::Webhook(_) => "http",
            _ => "null",
        };
        view.notifiers.insert(name.clone(), class.to_owned());
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_configuration_serves_on_burrows_port_without_auth() {
        let config = Config::demo();
        let settings = http_settings(&config).ok().flatten();
        let Some(s) = settings else {
            panic!("the demo serves HTTP");
        };
        assert_eq!(s.listen.to_string(), "127.0.0.1:8000");
        assert_eq!(s.auth, Auth::None);
        assert_eq!(s.admin_token, None);
        assert_eq!(s.burrow.clusters.keys().collect::<Vec<_>>(), vec!["demo"]);
        assert_eq!(s.burrow.consumers["demo"].class_name, "demo");

        let mut off = Config::demo();
        off.http.enabled = false;
        assert!(matches!(http_settings(&off), Ok(None)));
    }

    #[test]
    fn a_bearer_token_wins_and_admin_tokens_are_optional() {
        let mut config = Config::demo();
        config.http.bearer_token = Secret::new("t".to_owned());
        config.http.admin_token = Secret::new("a".to_owned());
        let s = http_settings(&config).ok().flatten();
        assert!(matches!(s.as_ref().map(|s| &s.auth), Some(Auth::Bearer(_))));
        assert!(s.is_some_and(|s| s.admin_token.is_some()));
    }
}
