//! librdkafka client settings built from a [`KafkaSourceConfig`].

use crate::admin::AdminConnection;
use lagwatch_config::KafkaSourceConfig;
use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError as RdError;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The admin connection every source uses: librdkafka's chatter goes to `tracing` at debug
/// level through [`QuietContext`].
pub type Connection = AdminConnection<QuietContext>;

/// A librdkafka client context that sends librdkafka's own log lines and error callbacks to
/// `tracing` at debug (warnings and errors) or trace level, tagged with the cluster.
///
/// librdkafka reports a refused connection on every retry, several times; the source reports
/// a failure itself, once per change, naming the cluster, so these stay out of an operator's
/// way unless asked for (`-v`).
#[derive(Debug, Clone)]
pub struct QuietContext {
    cluster: Arc<str>,
}

impl QuietContext {
    /// A context for `cluster`.
    pub fn new(cluster: &str) -> QuietContext {
        QuietContext {
            cluster: cluster.into(),
        }
    }
}

impl ClientContext for QuietContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error
            | RDKafkaLogLevel::Warning => {
                tracing::debug!(cluster = %self.cluster, facility = fac, "librdkafka: {log_message}");
            }
            _ => {
                tracing::trace!(cluster = %self.cluster, facility = fac, "librdkafka: {log_message}")
            }
        }
    }

    fn error(&self, error: RdError, reason: &str) {
        tracing::debug!(cluster = %self.cluster, %error, "librdkafka: {reason}");
    }
}

impl ConsumerContext for QuietContext {}

/// What every connection of a source shares: bootstrap servers, client id, security, timeouts
/// and the pass-through properties. Callers add what their client kind needs (`group.id`...).
///
/// The returned configuration holds secrets (SASL and key passwords, pass-through values);
/// never log it — use [`describe`] instead.
pub fn client_config(config: &KafkaSourceConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", config.servers.trim())
        .set("client.id", &config.client_id)
        .set(
            "security.protocol",
            config.security_protocol.as_librdkafka(),
        )
        .set(
            "socket.timeout.ms",
            millis(config.request_timeout.max(Duration::from_secs(10))),
        )
        .set(
            "socket.connection.setup.timeout.ms",
            millis(config.request_timeout),
        )
        .set("reconnect.backoff.ms", "250")
        .set("reconnect.backoff.max.ms", "5000")
        .set("topic.metadata.refresh.interval.ms", "-1")
        .set("log.connection.close", "false");
    if config.security_protocol.uses_sasl() {
        c.set("sasl.mechanism", config.sasl_mechanism.as_librdkafka())
            .set("sasl.username", &config.sasl_username)
            .set("sasl.password", config.sasl_password.expose());
    }
    if config.security_protocol.uses_tls() {
        set_path(&mut c, "ssl.ca.location", &config.tls_ca);
        set_path(&mut c, "ssl.certificate.location", &config.tls_cert);
        set_path(&mut c, "ssl.key.location", &config.tls_key);
        if !config.tls_key_password.expose().is_empty() {
            c.set("ssl.key.password", config.tls_key_password.expose());
        }
        c.set(
            "ssl.endpoint.identification.algorithm",
            if config.tls_verify_hostname {
                "https"
            } else {
                "none"
            },
        );
    }
    for (key, value) in &config.librdkafka {
        c.set(key, value.expose());
    }
    c
}

/// A loggable one-line summary of the connection settings: no secret values, only whether
/// they are set.
pub fn describe(config: &KafkaSourceConfig) -> String {
    let mut text = format!(
        "servers={} security={}",
        config.servers.trim(),
        config.security_protocol.as_librdkafka()
    );
    if config.security_protocol.uses_sasl() {
        text.push_str(&format!(
            " sasl={} user={}",
            config.sasl_mechanism.as_librdkafka(),
            config.sasl_username
        ));
    }
    if config.security_protocol.uses_tls() && !config.tls_ca.as_os_str().is_empty() {
        text.push_str(&format!(" ca={}", config.tls_ca.display()));
    }
    if !config.librdkafka.is_empty() {
        let keys: Vec<&str> = config.librdkafka.keys().map(String::as_str).collect();
        text.push_str(&format!(" extra=[{}]", keys.join(",")));
    }
    text
}

fn set_path(c: &mut ClientConfig, key: &str, path: &Path) {
    if !path.as_os_str().is_empty() {
        c.set(key, path.to_string_lossy());
    }
}

fn millis(d: Duration) -> String {
    d.as_millis().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagwatch_config::kafka::{SaslMechanism, SecurityProtocol};
    use lagwatch_core::secret::Secret;

    #[test]
    fn sasl_and_tls_settings_reach_librdkafka() {
        let mut config = KafkaSourceConfig::new("live", "127.0.0.1:9093");
        config.security_protocol = SecurityProtocol::SaslSsl;
        config.sasl_mechanism = SaslMechanism::ScramSha512;
        config.sasl_username = "monitor".into();
        config.sasl_password = Secret::new("hunter2".into());
        config.tls_ca = "ca.pem".into();
        config
            .librdkafka
            .insert("socket.keepalive.enable".into(), Secret::new("true".into()));
        let c = client_config(&config);
        assert_eq!(c.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(c.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(c.get("sasl.username"), Some("monitor"));
        assert_eq!(c.get("sasl.password"), Some("hunter2"));
        assert_eq!(c.get("ssl.ca.location"), Some("ca.pem"));
        assert_eq!(c.get("socket.keepalive.enable"), Some("true"));
        let text = describe(&config);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("user=monitor"), "{text}");
    }

    #[test]
    fn plaintext_sets_no_security_keys() {
        let c = client_config(&KafkaSourceConfig::new("live", "127.0.0.1:9092"));
        assert_eq!(c.get("security.protocol"), Some("plaintext"));
        assert_eq!(c.get("sasl.password"), None);
        assert_eq!(c.get("ssl.ca.location"), None);
    }
}
