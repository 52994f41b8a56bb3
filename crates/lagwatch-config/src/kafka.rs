//! The `kafka` source section: committed offsets and broker offsets read straight from a
//! Kafka cluster, through the Admin API, the `__consumer_offsets` topic, or both.

use lagwatch_core::duration::serde_text;
use lagwatch_core::secret::Secret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// How a Kafka source learns committed offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum KafkaMode {
    /// Stream `__consumer_offsets` for commits and describe groups periodically for
    /// membership; fall back to `admin` when the offsets topic cannot be read.
    #[default]
    Auto,
    /// Poll the Admin API every `offset_refresh`: list and describe groups and fetch their
    /// committed offsets.
    Admin,
    /// Consume `__consumer_offsets` like Burrow: commits and group metadata as they happen.
    OffsetsTopic,
}

impl KafkaMode {
    /// The name used in configuration, logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            KafkaMode::Auto => "auto",
            KafkaMode::Admin => "admin",
            KafkaMode::OffsetsTopic => "offsets-topic",
        }
    }
}

/// Where streaming starts reading `__consumer_offsets` when the source starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OffsetsTopicStart {
    /// From the oldest record kept (Burrow's default: rebuilds every group's history).
    #[default]
    Earliest,
    /// From the end: only commits made after the start.
    Latest,
}

/// The group protocol instances sharing a cluster (`coordination_group`) divide it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CoordinationProtocol {
    /// The classic protocol with the `cooperative-sticky` assignor: every broker version;
    /// `coordination_session_timeout` applies.
    #[default]
    Classic,
    /// KIP-848's protocol (`group.protocol=consumer`, Kafka 4.0+): the brokers assign
    /// partitions and every change is incremental; the session timeout is the brokers'
    /// (`group.consumer.session.timeout.ms`, 45 s by default).
    Consumer,
}

impl CoordinationProtocol {
    /// The name as configured.
    pub fn as_str(self) -> &'static str {
        match self {
            CoordinationProtocol::Classic => "classic",
            CoordinationProtocol::Consumer => "consumer",
        }
    }
}

/// How the source talks to the brokers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SecurityProtocol {
    /// No encryption, no authentication.
    #[default]
    Plaintext,
    /// TLS.
    Ssl,
    /// SASL authentication without encryption.
    SaslPlaintext,
    /// SASL authentication over TLS.
    SaslSsl,
}

impl SecurityProtocol {
    /// The librdkafka `security.protocol` value.
    pub fn as_librdkafka(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "plaintext",
            SecurityProtocol::Ssl => "ssl",
            SecurityProtocol::SaslPlaintext => "sasl_plaintext",
            SecurityProtocol::SaslSsl => "sasl_ssl",
        }
    }

    /// Whether the protocol authenticates with SASL.
    pub fn uses_sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }

    /// Whether the protocol encrypts with TLS.
    pub fn uses_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }
}

/// SASL mechanisms the source supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SaslMechanism {
    /// User name and password in the clear (use with TLS).
    #[default]
    #[serde(rename = "PLAIN")]
    Plain,
    /// SCRAM with SHA-256.
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    /// SCRAM with SHA-512.
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    /// The librdkafka `sasl.mechanism` value.
    pub fn as_librdkafka(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// The default group deny list: the throw-away groups of Kafka's console tools.
pub const DEFAULT_GROUP_DENYLIST: &str = "^(console-consumer-|quick-).*$";
/// The default topic deny list: Kafka's internal topics.
pub const DEFAULT_TOPIC_DENYLIST: &str =
    "^__(consumer_offsets|transaction_state|share_group_state|cluster_metadata)$";

/// A source reading one Kafka cluster.
///
/// Broker offsets (log end and log start of every allowed partition) are read with one
/// ListOffsets round per leader broker every `offset_refresh`; committed offsets come from the
/// Admin API or `__consumer_offsets` depending on `mode`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSourceConfig {
    /// Name of the cluster in events, sinks and alerts (empty: the section's name).
    #[serde(default)]
    pub cluster: String,
    /// Bootstrap brokers, `host:port[,host:port...]`. Required.
    pub servers: String,
    /// How committed offsets are read: `auto`, `admin` or `offsets-topic`.
    #[serde(default)]
    pub mode: KafkaMode,
    /// Time between two reads of broker offsets and (in `admin` mode) committed offsets.
    #[serde(default = "default_offset_refresh", with = "serde_text")]
    pub offset_refresh: Duration,
    /// Time between two reads of topic metadata (partitions, leaders, deleted topics).
    #[serde(default = "default_topic_refresh", with = "serde_text")]
    pub topic_refresh: Duration,
    /// Time between two group descriptions (members and owners) in `auto` mode.
    #[serde(default = "default_group_refresh", with = "serde_text")]
    pub group_refresh: Duration,
    /// Time limit of one request to the cluster.
    #[serde(default = "default_request_timeout", with = "serde_text")]
    pub request_timeout: Duration,
    /// Committed-offset requests in flight at once in `admin` mode, on librdkafka's
    /// one-group-per-call path.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Read committed offsets (`admin` mode, `auto` mode's snapshot, `lagwatch check`) with
    /// batched `OffsetFetch` requests, many groups per request and coordinator (brokers 3.3+),
    /// on every `security_protocol` with the same TLS and SASL settings (PLAIN, SCRAM-SHA-256,
    /// SCRAM-SHA-512) as librdkafka. `false`, brokers older than 3.3, or a `librdkafka`
    /// pass-through key that changes security (`security.protocol`, `ssl.*`, `sasl.*`...)
    /// keep librdkafka's one-group-per-call path (the reason is logged once).
    #[serde(default = "default_true")]
    pub batched_offsets: bool,
    /// Name of the offsets topic read in `offsets-topic` and `auto` mode.
    #[serde(default = "default_offsets_topic")]
    pub offsets_topic: String,
    /// Where streaming starts when the source starts in `offsets-topic` mode (`latest`:
    /// `history` back; `auto` mode always starts `history` back, after a full snapshot through
    /// the Admin API).
    #[serde(default)]
    pub offsets_topic_start: OffsetsTopicStart,
    /// How far back `__consumer_offsets` is read at start (`auto` mode, and `offsets-topic`
    /// mode with `offsets_topic_start = "latest"`): commits newer than this refill the
    /// commit windows at once, each with its own commit time. `0s` turns it off.
    #[serde(default = "default_history", with = "serde_text")]
    pub history: Duration,
    /// Kafka consumer group on the offsets topic that instances sharing this cluster join
    /// (empty: this instance reads every group alone). Kafka divides the offsets topic's
    /// partitions among the members, and each instance keeps the groups whose commits live
    /// in its partitions.
    #[serde(default)]
    pub coordination_group: String,
    /// How long the coordination group waits for an instance that stopped answering before
    /// its groups move to the others (Kafka's `session.timeout.ms`).
    #[serde(default = "default_coordination_session_timeout", with = "serde_text")]
    pub coordination_session_timeout: Duration,
    /// The group protocol of the coordination group: `classic` (cooperative-sticky, every
    /// broker) or `consumer` (KIP-848, Kafka 4.0+; the brokers' session timeout applies).
    #[serde(default)]
    pub coordination_protocol: CoordinationProtocol,
    /// Compacted topic on this cluster where instances sharing it (`coordination_group`)
    /// leave their groups' open alerts for the next owner. Empty: `<coordination_group>.alerts`.
    #[serde(default)]
    pub coordination_alert_topic: String,
    /// Client id the source's connections announce.
    #[serde(default = "default_client_id")]
    pub client_id: String,
    /// `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl`.
    #[serde(default)]
    pub security_protocol: SecurityProtocol,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    #[serde(default)]
    pub sasl_mechanism: SaslMechanism,
    /// SASL user name.
    #[serde(default)]
    pub sasl_username: String,
    /// SASL password.
    #[serde(default)]
    pub sasl_password: Secret,
    /// PEM file of the certificate authority that signed the brokers' certificates (empty:
    /// the system's).
    #[serde(default)]
    pub tls_ca: PathBuf,
    /// PEM file of the client certificate, for brokers that require one.
    #[serde(default)]
    pub tls_cert: PathBuf,
    /// PEM file of the client certificate's private key.
    #[serde(default)]
    pub tls_key: PathBuf,
    /// Password of `tls_key`, when it is encrypted.
    #[serde(default)]
    pub tls_key_password: Secret,
    /// Whether the broker's host name must match its certificate.
    #[serde(default = "default_true")]
    pub tls_verify_hostname: bool,
    /// Further librdkafka properties, passed through unchanged (values are never logged).
    #[serde(default)]
    pub librdkafka: BTreeMap<String, Secret>,
    /// Only groups matching this regular expression are read (empty: all).
    #[serde(default)]
    pub group_allowlist: String,
    /// Groups matching this regular expression are skipped (empty: none).
    #[serde(default = "default_group_denylist")]
    pub group_denylist: String,
    /// Only topics matching this regular expression are read (empty: all).
    #[serde(default)]
    pub topic_allowlist: String,
    /// Topics matching this regular expression are skipped (empty: none).
    #[serde(default = "default_topic_denylist")]
    pub topic_denylist: String,
}

fn default_offset_refresh() -> Duration {
    Duration::from_secs(10)
}

fn default_topic_refresh() -> Duration {
    Duration::from_secs(60)
}

fn default_group_refresh() -> Duration {
    Duration::from_secs(30)
}

fn default_request_timeout() -> Duration {
    Duration::from_secs(10)
}

/// The default of [`KafkaSourceConfig::history`]: a 10-commit window at 60 s commit intervals
/// with room to spare.
pub const DEFAULT_HISTORY: Duration = Duration::from_secs(15 * 60);

/// The longest [`KafkaSourceConfig::history`] accepted: reading further back costs start-up
/// time and brings commits older than any window needs.
pub const MAX_HISTORY: Duration = Duration::from_secs(24 * 60 * 60);

fn default_history() -> Duration {
    DEFAULT_HISTORY
}

fn default_coordination_session_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_concurrency() -> usize {
    16
}

fn default_offsets_topic() -> String {
    "__consumer_offsets".to_owned()
}

fn default_client_id() -> String {
    "lagwatch".to_owned()
}

fn default_true() -> bool {
    true
}

fn default_group_denylist() -> String {
    DEFAULT_GROUP_DENYLIST.to_owned()
}

fn default_topic_denylist() -> String {
    DEFAULT_TOPIC_DENYLIST.to_owned()
}

impl Default for KafkaSourceConfig {
    fn default() -> Self {
        KafkaSourceConfig {
            cluster: String::new(),
            servers: String::new(),
            mode: KafkaMode::Auto,
            offset_refresh: default_offset_refresh(),
            topic_refresh: default_topic_refresh(),
            group_refresh: default_group_refresh(),
            request_timeout: default_request_timeout(),
            concurrency: default_concurrency(),
            batched_offsets: default_true(),
            offsets_topic: default_offsets_topic(),
            offsets_topic_start: OffsetsTopicStart::Earliest,
            history: default_history(),
            coordination_group: String::new(),
            coordination_session_timeout: default_coordination_session_timeout(),
            coordination_protocol: CoordinationProtocol::default(),
            coordination_alert_topic: String::new(),
            client_id: default_client_id(),
            security_protocol: SecurityProtocol::Plaintext,
            sasl_mechanism: SaslMechanism::Plain,
            sasl_username: String::new(),
            sasl_password: Secret::default(),
            tls_ca: PathBuf::new(),
            tls_cert: PathBuf::new(),
            tls_key: PathBuf::new(),
            tls_key_password: Secret::default(),
            tls_verify_hostname: default_true(),
            librdkafka: BTreeMap::new(),
            group_allowlist: String::new(),
            group_denylist: default_group_denylist(),
            topic_allowlist: String::new(),
            topic_denylist: default_topic_denylist(),
        }
    }
}

impl KafkaSourceConfig {
    /// A configuration for cluster `cluster` at `servers`, every other key at its default.
    pub fn new(cluster: impl Into<String>, servers: impl Into<String>) -> KafkaSourceConfig {
        KafkaSourceConfig {
            cluster: cluster.into(),
            servers: servers.into(),
            ..KafkaSourceConfig::default()
        }
    }

    /// The topic where open alerts wait for the next owner of their groups:
    /// `coordination_alert_topic`, or `<coordination_group>.alerts` with every character a
    /// topic name cannot hold replaced by `_`. Empty without a `coordination_group`.
    pub fn alert_topic(&self) -> String {
        if !self.coordination_alert_topic.is_empty() {
            return self.coordination_alert_topic.clone();
        }
        if self.coordination_group.is_empty() {
            return String::new();
        }
        let mut topic: String = self
            .coordination_group
            .chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-') {
                    ch
                } else {
                    '_'
                }
            })
            .take(242)
            .collect();
        topic.push_str(".alerts");
        topic
    }
}

/// librdkafka properties the typed keys own; setting them in `librdkafka` is an error so that
/// one setting never has two places.
pub const OWNED_LIBRDKAFKA_KEYS: &[&str] = &[
    "bootstrap.servers",
    "metadata.broker.list",
    "client.id",
    "security.protocol",
    "sasl.mechanism",
    "sasl.mechanisms",
    "sasl.username",
    "sasl.password",
    "ssl.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
    "ssl.key.password",
    "ssl.endpoint.identification.algorithm",
    "group.id",
];

/// The semantic checks of a kafka source section at `path`.
pub(crate) fn check(path: &str, c: &KafkaSourceConfig, report: &mut dyn FnMut(String, String)) {
    if !c.coordination_group.is_empty() && c.coordination_group.trim() != c.coordination_group {
        report(
            format!("{path}.coordination_group"),
            "must not start or end with white space".into(),
        );
    }
    let topic = &c.coordination_alert_topic;
    if !topic.is_empty() {
        let legal = topic
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-'));
        if !legal || topic.len() > 249 || topic == "." || topic == ".." {
            report(
                format!("{path}.coordination_alert_topic"),
                "not a Kafka topic name (up to 249 of a-z, A-Z, 0-9, '.', '_', '-')".into(),
            );
        }
    }
    let timeout = c.coordination_session_timeout;
    if timeout < Duration::from_secs(6) || timeout > Duration::from_secs(1800) {
        report(
            format!("{path}.coordination_session_timeout"),
            "must be between 6s and 30m (the brokers' default limits)".into(),
        );
    }
    if c.servers.trim().is_empty() {
        report(format!("{path}.servers"), "missing required key".into());
    } else {
        for server in c.servers.split(',') {
            let server = server.trim();
            let valid = server
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if !valid {
                report(
                    format!("{path}.servers"),
                    format!("{server:?} is not host:port"),
                );
            }
        }
    }
    for (key, value) in [
        ("offset_refresh", c.offset_refresh),
        ("topic_refresh", c.topic_refresh),
        ("group_refresh", c.group_refresh),
        ("request_timeout", c.request_timeout),
    ] {
        if value.is_zero() {
            report(format!("{path}.{key}"), "must be longer than 0s".into());
        }
    }
    if c.history > MAX_HISTORY {
        report(
            format!("{path}.history"),
            format!(
                "must be at most {}h (0s turns it off)",
                MAX_HISTORY.as_secs() / 3600
            ),
        );
    }
    if c.concurrency == 0 {
        report(format!("{path}.concurrency"), "must be at least 1".into());
    }
    if c.offsets_topic.trim().is_empty() {
        report(format!("{path}.offsets_topic"), "must not be empty".into());
    }
    if c.security_protocol.uses_sasl() && c.sasl_username.is_empty() {
        report(
            format!("{path}.sasl_username"),
            format!(
                "required with security_protocol = {:?}",
                c.security_protocol.as_librdkafka()
            ),
        );
    }
    for key in c.librdkafka.keys() {
        // Whether librdkafka knows the property is asked of librdkafka itself when the source
        // is built; here only the shape of the name. Values are never echoed.
        let shaped = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !shaped {
            report(
                format!("{path}.librdkafka.{key}"),
                "not a librdkafka property name (letters, digits, '.', '_' and '-' only)".into(),
            );
        } else if OWNED_LIBRDKAFKA_KEYS.contains(&key.as_str()) {
            report(
                format!("{path}.librdkafka.{key}"),
                "set by a typed key of this section; use that instead".into(),
            );
        }
    }
    crate::zookeeper::check_filters(
        path,
        [
            ("group_allowlist", &c.group_allowlist),
            ("group_denylist", &c.group_denylist),
            ("topic_allowlist", &c.topic_allowlist),
            ("topic_denylist", &c.topic_denylist),
        ],
        report,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(c: &KafkaSourceConfig) -> Vec<(String, String)> {
        let mut found = Vec::new();
        check("sources.live", c, &mut |key, reason| {
            found.push((key, reason))
        });
        found
    }

    #[test]
    fn librdkafka_keys_must_look_like_property_names_and_values_are_never_echoed() {
        let mut c = KafkaSourceConfig::new("live", "127.0.0.1:9092");
        c.librdkafka
            .insert("sasl password".into(), Secret::new("s3cret-value".into()));
        c.librdkafka
            .insert("socket.keepalive.enable".into(), Secret::new("true".into()));
        let found = problems(&c);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "sources.live.librdkafka.sasl password");
        assert!(!format!("{found:?}").contains("s3cret-value"));
    }

    #[test]
    fn history_defaults_to_fifteen_minutes_and_is_bounded() {
        let mut c = KafkaSourceConfig::new("live", "127.0.0.1:9092");
        assert_eq!(c.history, Duration::from_secs(900));
        assert!(problems(&c).is_empty());
        c.history = Duration::ZERO;
        assert!(problems(&c).is_empty(), "0s turns it off");
        c.history = MAX_HISTORY;
        assert!(problems(&c).is_empty());
        c.history = MAX_HISTORY + Duration::from_secs(1);
        assert_eq!(
            problems(&c),
            vec![(
                "sources.live.history".to_owned(),
                "must be at most 24h (0s turns it off)".to_owned()
            )]
        );
    }
}
