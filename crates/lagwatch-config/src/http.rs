//! The `[http]` section: lagwatch's HTTP API (Burrow's v3 API, `/metrics`, health, JSON API).

use lagwatch_core::duration::serde_text;
use lagwatch_core::secret::Secret;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// Where and how lagwatch serves its HTTP API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Whether `lagwatch run` and `lagwatch demo` serve the API at all.
    pub enabled: bool,
    /// Address and port to listen on (`host:port`). Burrow's port on loopback by default;
    /// `0.0.0.0:8000` serves every interface.
    pub listen: String,
    /// PEM certificate chain for HTTPS (with `tls_key`); plain HTTP when empty.
    pub tls_cert: PathBuf,
    /// PEM private key for HTTPS (with `tls_cert`).
    pub tls_key: PathBuf,
    /// When set, every request needs `Authorization: Bearer <token>`.
    pub bearer_token: Secret,
    /// When set (with `password`), every request needs HTTP basic authentication (what
    /// Telegraf's `inputs.burrow` sends with `username` / `password`).
    pub username: String,
    /// Password for `username`.
    pub password: Secret,
    /// Token that allows changes (deleting a group, setting the log level), sent as
    /// `Authorization: Bearer <token>`; changes are refused while it is empty.
    pub admin_token: Secret,
    /// How much lag history per group the JSON API keeps in memory.
    #[serde(with = "serde_text")]
    pub history: Duration,
    /// `Access-Control-Allow-Origin` value on every response (empty: none), like Burrow's
    /// `general.access-control-allow-origin`.
    pub allow_origin: String,
    /// The base URL (`http://10.0.0.7:8000`) at which the other instances sharing a cluster
    /// (`coordination_group`) reach this one's API, to forward questions about the groups
    /// it owns; empty: the listen address, with the host name in place of `0.0.0.0`.
    pub advertise: String,
    /// What `/metrics` exposes.
    pub metrics: MetricsConfig,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            enabled: true,
            listen: "127.0.0.1:8000".to_owned(),
            tls_cert: PathBuf::new(),
            tls_key: PathBuf::new(),
            bearer_token: Secret::default(),
            username: String::new(),
            password: Secret::default(),
            admin_token: Secret::default(),
            history: Duration::from_secs(3600),
            allow_origin: String::new(),
            advertise: String::new(),
            metrics: MetricsConfig::default(),
        }
    }
}

/// A set of metric names `/metrics` can expose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricSetName {
    /// lagwatch's own names (`lagwatch_...`).
    Native,
    /// kafka_exporter's names and labels (`kafka_consumergroup_lag{consumergroup,...}`).
    KafkaExporter,
    /// kafka-lag-exporter's (and klag-exporter's) names and labels
    /// (`kafka_consumergroup_group_lag{cluster_name,group,...}`).
    KafkaLagExporter,
}

/// What `/metrics` exposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Which metric name sets to expose, any of `native`, `kafka_exporter`,
    /// `kafka_lag_exporter` (a list, or from the environment a comma-separated string).
    #[serde(deserialize_with = "set_list::deserialize")]
    pub sets: Vec<MetricSetName>,
    /// Whether per-partition series are exposed (off: group and group/topic series only).
    pub partition_series: bool,
    /// In the kafka-lag-exporter set, fill `member_host`, `consumer_id` and `client_id`
    /// (off: `unknown`, so rebalances do not create new series).
    pub member_labels: bool,
    /// Only groups matching this regular expression get series (empty: every group).
    pub group_allowlist: String,
    /// Groups matching this regular expression get no series.
    pub group_denylist: String,
    /// Only topics matching this regular expression get series (empty: every topic).
    pub topic_allowlist: String,
    /// Topics matching this regular expression get no series.
    pub topic_denylist: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            sets: vec![MetricSetName::Native],
            partition_series: true,
            member_labels: true,
            group_allowlist: String::new(),
            group_denylist: String::new(),
            topic_allowlist: String::new(),
            topic_denylist: String::new(),
        }
    }
}

/// The metric sets as a list or, from an environment variable, one comma-separated string.
mod set_list {
    use super::MetricSetName;
    use serde::Deserialize;
    use serde::de::{self, Deserializer, IntoDeserializer, SeqAccess, Visitor};
    use std::fmt;

    fn parse<E: de::Error>(name: &str) -> Result<MetricSetName, E> {
        MetricSetName::deserialize(name.trim().into_deserializer())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<MetricSetName>, D::Error> {
        struct SetVisitor;
        impl<'de> Visitor<'de> for SetVisitor {
            type Value = Vec<MetricSetName>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of metric sets or a comma-separated string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                v.split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(parse)
                    .collect()
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    out.push(parse(&item)?);
                }
                Ok(out)
            }
        }
        d.deserialize_any(SetVisitor)
    }
}
