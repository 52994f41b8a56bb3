//! librdkafka client settings built from a [`KafkaSourceConfig`].

use crate::admin::{AdminConnection, PropertyCheck, check_property};
use lagwatch_config::KafkaSourceConfig;
use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError as RdError;
use rdkafka::statistics::Statistics;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
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
///
/// When `statistics.interval.ms` is set (through the `librdkafka` pass-through map), it also
/// counts the requests the client sent to the brokers; see [`broker_requests`].
#[derive(Debug, Clone)]
pub struct QuietContext {
    cluster: Arc<str>,
    /// The client's cumulative counters at the previous statistics report:
    /// (broker name, request name) → count.
    seen: Arc<Mutex<HashMap<(String, String), i64>>>,
}

impl QuietContext {
    /// A context for `cluster`.
    pub fn new(cluster: &str) -> QuietContext {
        QuietContext {
            cluster: cluster.into(),
            seen: Arc::default(),
        }
    }
}

/// Requests sent, by (cluster, client kind), then by request name. Only filled when
/// librdkafka reports statistics.
type RequestCounts = BTreeMap<(String, &'static str), BTreeMap<String, u64>>;

fn request_counts() -> &'static Mutex<RequestCounts> {
    static COUNTS: OnceLock<Mutex<RequestCounts>> = OnceLock::new();
    COUNTS.get_or_init(Mutex::default)
}

/// The requests every client of `cluster` of one kind sent to the brokers since the process
/// started, by librdkafka's request name (`Metadata`, `ListOffsets`, `ListGroups`,
/// `DescribeGroups`, `ConsumerGroupDescribe`, `FindCoordinator`, `ApiVersion`, `Fetch`...),
/// summed over brokers. `client` is `"admin"` (the connection that reads broker offsets and
/// groups) or `"offsets-topic"` (the `__consumer_offsets` consumer).
///
/// The counts come from librdkafka's statistics (`brokers.*.req`), so they are only kept when
/// `statistics.interval.ms` is set in the source's `librdkafka` settings, and lag up to one
/// interval behind. Every broker connection, the bootstrap one included, counts only what it
/// sent itself, so the sum counts each request once. librdkafka leaves consumer-only request
/// types out of a producer-type client's statistics, and the admin connection is one: its
/// `OffsetFetch` requests (one per group and ListConsumerGroupOffsets call) are not counted.
pub fn broker_requests(cluster: &str, client: &str) -> BTreeMap<String, u64> {
    request_counts()
        .lock()
        .ok()
        .and_then(|counts| {
            counts
                .iter()
                .find(|((c, k), _)| c == cluster && *k == client)
                .map(|(_, by_name)| by_name.clone())
        })
        .unwrap_or_default()
}

impl QuietContext {
    /// Adds what the client sent since its previous report to [`broker_requests`].
    fn count_requests(&self, statistics: &Statistics) {
        // The admin connection is a librdkafka producer instance; the offsets topic reader a
        // consumer.
        let kind = if statistics.client_type == "consumer" {
            "offsets-topic"
        } else {
            "admin"
        };
        let (Ok(mut seen), Ok(mut counts)) = (self.seen.lock(), request_counts().lock()) else {
            return;
        };
        let total = counts.entry((self.cluster.to_string(), kind)).or_default();
        for (broker, b) in &statistics.brokers {
            for (request, &now) in &b.req {
                let last = seen.insert((broker.clone(), request.clone()), now);
                // A counter below its previous value belongs to a new connection object.
                let delta = now - last.filter(|&l| l <= now).unwrap_or(0);
                if delta > 0 {
                    *total.entry(request.clone()).or_default() += delta.unsigned_abs();
                }
            }
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

    fn stats(&self, statistics: Statistics) {
        self.count_requests(&statistics);
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

/// Checks every key of the `librdkafka` pass-through map with librdkafka itself (on a
/// throwaway configuration object), before any client is built: librdkafka's own message for a
/// bad property quotes the value, which may be a secret.
///
/// # Errors
/// The first key librdkafka does not know or whose value it refuses, as
/// (`librdkafka.<key>`, reason); the reason never contains the value.
pub fn check_passthrough(config: &KafkaSourceConfig) -> Result<(), (String, String)> {
    for (key, value) in &config.librdkafka {
        let reason = match check_property(key, value.expose()) {
            PropertyCheck::Accepted => continue,
            PropertyCheck::Unknown => {
                "not a librdkafka property (check the spelling; the value is not shown)"
            }
            PropertyCheck::InvalidValue => {
                "librdkafka refuses the value (not shown: pass-through values are treated as secrets)"
            }
        };
        return Err((format!("librdkafka.{key}"), reason.to_owned()));
    }
    Ok(())
}

/// `text` with every secret of `config` (passwords and pass-through values) replaced by
/// `<redacted>`, for messages that come from librdkafka.
pub(crate) fn redact(text: &str, config: &KafkaSourceConfig) -> String {
    let mut out = text.to_owned();
    let secrets = [&config.sasl_password, &config.tls_key_password]
        .into_iter()
        .chain(config.librdkafka.values());
    for secret in secrets {
        let value = secret.expose();
        if !value.is_empty() && out.contains(value) {
            out = out.replace(value, "<redacted>");
        }
    }
    out
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

    fn with_passthrough(key: &str, value: &str) -> KafkaSourceConfig {
        let mut config = KafkaSourceConfig::new("live", "127.0.0.1:9092");
        config
            .librdkafka
            .insert(key.into(), Secret::new(value.into()));
        config
    }

    #[test]
    fn a_misspelled_passthrough_key_is_named_and_its_value_never_shown() {
        let secret = "Pa55-word-never-shown";
        let config = with_passthrough("sasl.pasword", secret);
        let (key, reason) = check_passthrough(&config).unwrap_err();
        assert_eq!(key, "librdkafka.sasl.pasword");
        assert!(reason.contains("not a librdkafka property"), "{reason}");
        assert!(!reason.contains(secret), "{reason}");
        // rdkafka's own error for the same key quotes the value; the reworded one does not.
        let raw = client_config(&config)
            .create::<rdkafka::producer::BaseProducer>()
            .err()
            .unwrap();
        assert!(raw.to_string().contains(secret), "rdkafka changed: {raw}");
        let text = crate::creation_error::creation_error_text(&raw);
        assert!(
            text.contains("sasl.pasword") && !text.contains(secret),
            "{text}"
        );
        assert!(!format!("{config:?}").contains(secret));
    }

    #[test]
    fn a_refused_value_is_reported_without_it() {
        let config = with_passthrough("socket.keepalive.enable", "maybe-secret");
        let (key, reason) = check_passthrough(&config).unwrap_err();
        assert_eq!(key, "librdkafka.socket.keepalive.enable");
        assert!(reason.contains("refuses the value"), "{reason}");
        assert!(!reason.contains("maybe-secret"), "{reason}");
    }

    #[test]
    fn known_keys_with_valid_values_pass_at_global_and_topic_level() {
        for (key, value) in [
            ("socket.keepalive.enable", "true"),
            ("statistics.interval.ms", "1000"),
            ("message.timeout.ms", "5000"),
        ] {
            assert_eq!(
                check_passthrough(&with_passthrough(key, value)),
                Ok(()),
                "{key}"
            );
        }
    }

    #[test]
    fn redact_removes_every_secret_value() {
        let mut config = with_passthrough("sasl.oauthbearer.client.secret", "oauth-s3cret");
        config.sasl_password = Secret::new("hunter2".into());
        let text = redact("failed with hunter2 and oauth-s3cret", &config);
        assert_eq!(text, "failed with <redacted> and <redacted>");
    }
}
