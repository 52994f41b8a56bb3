//! Configuration of the OTLP metrics sink (`type = "otlp"`).

use lagwatch_core::duration::serde_text;
use lagwatch_core::filter::NameFilter;
use lagwatch_core::secret::{Secret, SecretUrl};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// OTLP sink: lagwatch's native metrics pushed to an OpenTelemetry receiver after every
/// evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpSinkConfig {
    /// The receiver: for `grpc` its address (`http://host:4317`); for `http` the URL the
    /// metrics are posted to (`http://host:4318/v1/metrics`; a URL without a path gets
    /// `/v1/metrics`). Required. Credentials in it are shown as `<redacted>`.
    pub endpoint: SecretUrl,
    /// `grpc` or `http` (HTTP/protobuf).
    #[serde(default)]
    pub protocol: OtlpProtocol,
    /// Time limit of one export request.
    #[serde(default = "default_timeout", with = "serde_text")]
    pub timeout: Duration,
    /// Extra request headers or gRPC metadata (values may hold tokens and are secrets).
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// `service.instance.id` of the pushed resources (empty: the host name).
    #[serde(default)]
    pub instance: String,
    /// Groups whose metrics are pushed (regular expression; empty: all).
    #[serde(default)]
    pub group_allowlist: String,
    /// Groups whose metrics are not pushed (regular expression; empty: none). Wins over the
    /// allowlist.
    #[serde(default)]
    pub group_denylist: String,
    /// Topics whose metrics are pushed (regular expression; empty: all).
    #[serde(default)]
    pub topic_allowlist: String,
    /// Topics whose metrics are not pushed (regular expression; empty: none).
    #[serde(default)]
    pub topic_denylist: String,
    /// Push per-partition data points (committed offset, lag, time lag, retention margin,
    /// status, end and start offsets); `false` keeps the per-group and per-topic ones.
    #[serde(default = "default_true")]
    pub partition_series: bool,
}

/// How the OTLP sink talks to its receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OtlpProtocol {
    /// OTLP/gRPC (`MetricsService/Export`).
    #[default]
    Grpc,
    /// OTLP/HTTP with a binary protobuf body.
    Http,
}

fn default_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_true() -> bool {
    true
}

impl OtlpSinkConfig {
    /// A configuration for `endpoint` with every other key at its default.
    pub fn new(endpoint: impl Into<String>) -> OtlpSinkConfig {
        OtlpSinkConfig {
            endpoint: SecretUrl::new(endpoint),
            protocol: OtlpProtocol::Grpc,
            timeout: default_timeout(),
            headers: BTreeMap::new(),
            instance: String::new(),
            group_allowlist: String::new(),
            group_denylist: String::new(),
            topic_allowlist: String::new(),
            topic_denylist: String::new(),
            partition_series: true,
        }
    }

    /// Problems with this configuration, as `(key, message)` pairs (key relative to the sink).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let endpoint = self.endpoint.expose();
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            out.push((
                "endpoint".to_owned(),
                "must start with http:// or https://".to_owned(),
            ));
        }
        if self.timeout.is_zero() {
            out.push(("timeout".to_owned(), "must be longer than 0s".to_owned()));
        }
        for name in self.headers.keys() {
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
            if !valid {
                out.push((
                    format!("headers.{name}"),
                    "a header name may only hold letters, digits, '-', '_' and '.'".to_owned(),
                ));
            }
        }
        for (key, pattern) in [
            ("group_allowlist", &self.group_allowlist),
            ("group_denylist", &self.group_denylist),
            ("topic_allowlist", &self.topic_allowlist),
            ("topic_denylist", &self.topic_denylist),
        ] {
            if let Err(e) = NameFilter::new(Some(pattern), None) {
                out.push((
                    key.to_owned(),
                    format!("not a valid regular expression: {}", e.source),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_their_keys_and_never_a_header_value() {
        let mut c = OtlpSinkConfig::new("127.0.0.1:4317");
        c.timeout = Duration::ZERO;
        c.topic_denylist = "(".into();
        c.headers
            .insert("bad header".into(), Secret::new("token-123".to_owned()));
        let problems = c.problems();
        let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            vec![
                "endpoint",
                "timeout",
                "headers.bad header",
                "topic_denylist"
            ]
        );
        assert!(!format!("{problems:?}{c:?}").contains("token-123"));
        assert!(
            OtlpSinkConfig::new("http://127.0.0.1:4317")
                .problems()
                .is_empty()
        );
    }
}
