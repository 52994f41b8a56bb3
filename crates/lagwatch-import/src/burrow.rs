//! Importing a Burrow configuration file (`burrow.toml`) as a lagwatch [`Config`].
//!
//! What maps (section 5 of Burrow's configuration reference):
//!
//! * `[cluster.<name>]` (class `kafka`) → a `kafka` source named `<name>` (`servers`,
//!   `offset-refresh`, `topic-refresh`, and its `client-profile` with the `[tls.*]` and
//!   `[sasl.*]` profiles it names). Without a `[consumer.*]` of class `kafka` for the cluster
//!   the source reads broker offsets only (`mode = "admin"`, `group_allowlist = "^$"`), as
//!   Burrow's cluster module alone does;
//! * `[consumer.<name>]` with `class-name = "kafka"` → the groups of that cluster's `kafka`
//!   source: `mode = "auto"` (lagwatch's equivalent of reading `__consumer_offsets`, with a
//!   fast start from the Admin API), `offsets-topic`, `start-latest`, group lists;
//! * `[consumer.<name>]` with `class-name = "kafka_zk"` → a `zookeeper` source named after the
//!   consumer (`servers`, `zookeeper-path`, `zookeeper-timeout`, group lists);
//! * `[storage.<name>]` → `[model]` (`intervals`, `min-distance`, `expire-group`, group
//!   lists);
//! * `[evaluator.<name>]` → `[evaluator]` (`minimum-complete`, `allowed-lag`);
//! * `[httpserver.<name>]` → `[http]`: the `address` of the `default` listener (or of the
//!   first, when none is called `default`) as `listen`, so Telegraf's `inputs.burrow` and
//!   other Burrow API clients keep their URL, and its `tls` profile's `certfile` and
//!   `keyfile`;
//! * `group-whitelist` / `group-blacklist` (Burrow before 1.3.5) are read as `group-allowlist`
//!   / `group-denylist`, with a warning; an empty list means "not set".
//!
//! Everything else is reported as one warning per key (or per section where the whole
//! section has no counterpart), never dropped silently. A `stdout` sink is added so the
//! result runs as it is.

use crate::value::{ValueError, boolean, seconds, servers, text, unsigned};
use lagwatch_config::kafka::{
    KafkaMode, KafkaSourceConfig, OffsetsTopicStart, SaslMechanism, SecurityProtocol,
};
use lagwatch_config::zookeeper::ZookeeperSourceConfig;
use lagwatch_config::{Config, ConfigError, SinkConfig, SourceConfig, StdoutSinkConfig};
use std::path::Path;
use toml::{Table, Value};

/// A configuration imported from a Burrow file, and what could not be carried over.
#[derive(Debug, Clone, PartialEq)]
pub struct BurrowImport {
    /// The lagwatch configuration.
    pub config: Config,
    /// One line per key (or section) of the Burrow file that has no effect in lagwatch,
    /// naming it with its path (e.g. `zookeeper.servers`).
    pub warnings: Vec<String>,
}

/// Why a Burrow file cannot be imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BurrowImportError {
    /// The file cannot be read.
    #[error("cannot read Burrow configuration {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The text is not TOML.
    #[error("Burrow configuration is not valid TOML: {0}")]
    Syntax(String),
    /// A key has a value of the wrong kind.
    #[error("{path}: {message}")]
    Value {
        /// Key path, e.g. `storage.default.intervals`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The imported configuration does not validate.
    #[error("the imported configuration is not valid: {0}")]
    Invalid(#[from] ConfigError),
}

/// Imports a Burrow configuration file; see [`from_burrow_toml`].
///
/// # Errors
/// [`BurrowImportError`] when the file cannot be read or imported.
pub fn from_burrow_file(path: impl AsRef<Path>) -> Result<BurrowImport, BurrowImportError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| BurrowImportError::Io {
        path: path.display().to_string(),
        source,
    })?;
    from_burrow_toml(&text)
}

/// Imports the text of a Burrow configuration file (see the [module documentation](self)).
///
/// # Errors
/// [`BurrowImportError`] for text that is not TOML, a key with a value of the wrong
/// kind, or a result that does not validate.
pub fn from_burrow_toml(text: &str) -> Result<BurrowImport, BurrowImportError> {
    let root: Table = text
        .parse()
        .map_err(|e: toml::de::Error| BurrowImportError::Syntax(e.message().to_owned()))?;
    let mut import = Importer::default();
    let empty = Table::new();
    let profiles = Profiles {
        client: section_table(&root, "client-profile").unwrap_or(&empty),
        tls: section_table(&root, "tls").unwrap_or(&empty),
        sasl: section_table(&root, "sasl").unwrap_or(&empty),
    };
    // Clusters first: a kafka consumer completes its cluster's source.
    if let Some(modules) = section_table(&root, "cluster") {
        for (name, module) in modules {
            import.cluster(name, module, &profiles)?;
        }
    }
    if let Some(modules) = section_table(&root, "consumer") {
        for (name, module) in modules {
            import.consumer(name, module)?;
        }
    }
    // Before the unused-profile check: a listener's `tls` names a `[tls.*]` profile.
    if let Some(listeners) = root.get("httpserver") {
        import.httpserver(listeners, &profiles)?;
    }
    for (kind, table) in [
        ("client-profile", profiles.client),
        ("tls", profiles.tls),
        ("sasl", profiles.sasl),
    ] {
        for name in table.keys() {
            if !import.used_profiles.contains(&format!("{kind}.{name}")) {
                import.warn(
                    &format!("{kind}.{name}"),
                    "not referenced by any imported cluster",
                );
            }
        }
    }
    for (section, value) in &root {
        match (section.as_str(), value) {
            ("consumer" | "cluster" | "client-profile" | "tls" | "sasl", Value::Table(_)) => {}
            ("storage", Value::Table(modules)) => {
                for (name, module) in modules {
                    import.storage(name, module)?;
                }
            }
            ("evaluator", Value::Table(modules)) => {
                for (name, module) in modules {
                    import.evaluator(name, module)?;
                }
            }
            ("zookeeper", table) => import.unsupported_keys(
                "zookeeper",
                table,
                "Burrow's own ZooKeeper (notifier lock) is not needed by lagwatch",
            ),
            ("httpserver", _) => {}
            ("notifier", table) => import.unsupported_keys(
                "notifier",
                table,
                "Burrow notifiers are not imported; write lagwatch rules and alerters",
            ),
            ("general" | "logging", table) => import.unsupported_keys(
                section,
                table,
                "process settings of Burrow have no lagwatch counterpart",
            ),
            (other, table) => {
                import.unsupported_keys(other, table, "this Burrow section is not imported")
            }
        }
    }
    let mut config = import.config;
    config.sinks.insert(
        "stdout".to_owned(),
        SinkConfig::Stdout(StdoutSinkConfig::default()),
    );
    config.validate()?;
    Ok(BurrowImport {
        config,
        warnings: import.warnings,
    })
}

#[derive(Default)]
struct Importer {
    config: Config,
    warnings: Vec<String>,
    /// Profiles (`client-profile.x`, `tls.y`, `sasl.z`) some imported module referenced.
    used_profiles: std::collections::BTreeSet<String>,
}

/// The `[client-profile.*]`, `[tls.*]` and `[sasl.*]` tables of the file.
struct Profiles<'a> {
    client: &'a Table,
    tls: &'a Table,
    sasl: &'a Table,
}

/// Burrow's listener `address` (`host:port`, the host may be empty for every interface) as
/// lagwatch's `http.listen`; `None` when the host is neither empty, `localhost` nor an IP
/// address, or the port is not a number.
fn listen_address(address: &str) -> Option<String> {
    let (host, port) = address.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: std::net::IpAddr = match host {
        "" => std::net::Ipv4Addr::UNSPECIFIED.into(),
        "localhost" => std::net::Ipv4Addr::LOCALHOST.into(),
        other => other.parse().ok()?,
    };
    Some(std::net::SocketAddr::new(ip, port).to_string())
}

fn section_table<'a>(root: &'a Table, name: &str) -> Option<&'a Table> {
    root.get(name).and_then(Value::as_table)
}

impl From<ValueError> for BurrowImportError {
    fn from(e: ValueError) -> BurrowImportError {
        BurrowImportError::Value {
            path: e.path,
            message: e.message,
        }
    }
}

impl Importer {
    fn warn(&mut self, path: &str, why: &str) {
        crate::warnings::not_imported(&mut self.warnings, path, why);
    }

    /// One warning per key under `value`.
    fn unsupported_keys(&mut self, path: &str, value: &Value, why: &str) {
        crate::warnings::not_imported_keys(&mut self.warnings, path, value, why);
    }

    /// Reads `group-allowlist`/`group-denylist` (and the old names, with a warning).
    fn group_list(
        &mut self,
        path: &str,
        key: &str,
        value: &Value,
    ) -> Result<String, BurrowImportError> {
        let full = format!("{path}.{key}");
        let list = text(&full, value)?;
        let renamed = match key {
            "group-whitelist" => Some("group-allowlist"),
            "group-blacklist" => Some("group-denylist"),
            _ => None,
        };
        if let Some(new) = renamed {
            self.warnings.push(format!(
                "{full}: old Burrow key name, read as {new} (Burrow 1.3.5 and later refuse it)"
            ));
        }
        Ok(list)
    }

    fn consumer(&mut self, name: &str, module: &Value) -> Result<(), BurrowImportError> {
        let path = format!("consumer.{name}");
        let Value::Table(keys) = module else {
            self.warn(&path, "expected a table");
            return Ok(());
        };
        let class = keys.get("class-name").and_then(Value::as_str).unwrap_or("");
        if class == "kafka" {
            return self.kafka_consumer(name, keys);
        }
        if class != "kafka_zk" {
            self.unsupported_keys(
                &path,
                module,
                &format!("consumer class {class:?} is not one of Burrow's (kafka, kafka_zk)"),
            );
            return Ok(());
        }
        let cluster = keys.get("cluster").and_then(Value::as_str).unwrap_or(name);
        let mut zk = ZookeeperSourceConfig::new(cluster);
        for (key, value) in keys {
            let full = format!("{path}.{key}");
            match key.as_str() {
                "class-name" | "cluster" => {}
                "servers" => zk.servers = servers(&full, value)?,
                "zookeeper-path" => {
                    zk.root_path = text(&full, value)?.trim_end_matches('/').to_owned();
                }
                "zookeeper-timeout" => zk.session_timeout = seconds(&full, value)?,
                "group-allowlist" | "group-whitelist" => {
                    zk.group_allowlist = self.group_list(&path, key, value)?;
                }
                "group-denylist" | "group-blacklist" => {
                    zk.group_denylist = self.group_list(&path, key, value)?;
                }
                _ => self.warn(&full, "unknown or unsupported key of a kafka_zk consumer"),
            }
        }
        self.config
            .sources
            .insert(name.to_owned(), SourceConfig::Zookeeper(Box::new(zk)));
        Ok(())
    }

    /// `[cluster.<name>]` → a `kafka` source reading broker offsets only, until a kafka
    /// consumer of the cluster adds its groups.
    fn cluster(
        &mut self,
        name: &str,
        module: &Value,
        profiles: &Profiles<'_>,
    ) -> Result<(), BurrowImportError> {
        let path = format!("cluster.{name}");
        let Value::Table(keys) = module else {
            self.warn(&path, "expected a table");
            return Ok(());
        };
        let mut kafka = KafkaSourceConfig::new(name, "");
        kafka.mode = KafkaMode::Admin;
        kafka.group_allowlist = "^$".to_owned();
        kafka.group_denylist = String::new();
        for (key, value) in keys {
            let full = format!("{path}.{key}");
            match key.as_str() {
                "class-name" if value.as_str() == Some("kafka") => {}
                "servers" => kafka.servers = servers(&full, value)?,
                "offset-refresh" => kafka.offset_refresh = seconds(&full, value)?,
                "topic-refresh" => kafka.topic_refresh = seconds(&full, value)?,
                "client-profile" => {
                    let profile = text(&full, value)?;
                    self.client_profile(&full, &profile, profiles, &mut kafka)?;
                }
                "groups-reaper-refresh" => self.warn(
                    &full,
                    "lagwatch removes a group once three group reads in a row no longer list it",
                ),
                _ => self.warn(&full, "unknown or unsupported key of a kafka cluster"),
            }
        }
        self.config
            .sources
            .insert(name.to_owned(), SourceConfig::Kafka(Box::new(kafka)));
        Ok(())
    }

    /// `client-profile = "<profile>"` at `path`: client id, timeouts, TLS and SASL.
    fn client_profile(
        &mut self,
        path: &str,
        profile: &str,
        profiles: &Profiles<'_>,
        kafka: &mut KafkaSourceConfig,
    ) -> Result<(), BurrowImportError> {
        let keys = self.profile(path, "client-profile", profile, profiles.client)?;
        let base = format!("client-profile.{profile}");
        let (mut tls, mut sasl) = (false, false);
        for (key, value) in keys {
            let full = format!("{base}.{key}");
            match key.as_str() {
                "client-id" => kafka.client_id = text(&full, value)?,
                "read-timeout" => kafka.request_timeout = seconds(&full, value)?,
                "kafka-version" => self.warn(
                    &full,
                    "librdkafka negotiates the protocol version with each broker",
                ),
                "dial-timeout" => self.warn(&full, "connections share `request_timeout`"),
                "tls" => {
                    let name = text(&full, value)?;
                    self.tls_profile(&full, &name, profiles, kafka)?;
                    tls = true;
                }
                "sasl" => {
                    let name = text(&full, value)?;
                    self.sasl_profile(&full, &name, profiles, kafka)?;
                    sasl = true;
                }
                _ => self.warn(&full, "unknown or unsupported key of a client profile"),
            }
        }
        kafka.security_protocol = match (tls, sasl) {
            (false, false) => SecurityProtocol::Plaintext,
            (true, false) => SecurityProtocol::Ssl,
            (false, true) => SecurityProtocol::SaslPlaintext,
            (true, true) => SecurityProtocol::SaslSsl,
        };
        Ok(())
    }

    /// The `[<kind>.<name>]` table that `path` refers to, marked as used.
    fn profile<'t>(
        &mut self,
        path: &str,
        kind: &str,
        name: &str,
        tables: &'t Table,
    ) -> Result<&'t Table, BurrowImportError> {
        let Some(Value::Table(keys)) = tables.get(name) else {
            return Err(BurrowImportError::Value {
                path: path.to_owned(),
                message: format!("no [{kind}.{name}] section"),
            });
        };
        self.used_profiles.insert(format!("{kind}.{name}"));
        Ok(keys)
    }

    /// `[httpserver.<name>]` → `[http]`: the listener's `address` (`:8000` listens on every
    /// interface, as Burrow does) and the certificate and key of its `tls` profile. lagwatch
    /// has one listener: `default` (or else the first by name) is imported, the others are
    /// named in warnings.
    fn httpserver(
        &mut self,
        listeners: &Value,
        profiles: &Profiles<'_>,
    ) -> Result<(), BurrowImportError> {
        let Value::Table(listeners) = listeners else {
            self.unsupported_keys("httpserver", listeners, "not a table of listeners");
            return Ok(());
        };
        let chosen = if listeners.contains_key("default") {
            Some("default")
        } else {
            listeners.keys().next().map(String::as_str)
        };
        for (name, listener) in listeners {
            let path = format!("httpserver.{name}");
            if Some(name.as_str()) != chosen {
                let why = format!(
                    "lagwatch serves one HTTP listener; httpserver.{} is the one imported",
                    chosen.unwrap_or_default()
                );
                self.unsupported_keys(&path, listener, &why);
                continue;
            }
            let Value::Table(keys) = listener else {
                self.unsupported_keys(&path, listener, "not a listener table");
                continue;
            };
            for (key, value) in keys {
                let full = format!("{path}.{key}");
                match key.as_str() {
                    "address" => {
                        let address = text(&full, value)?;
                        match listen_address(&address) {
                            Some(listen) => self.config.http.listen = listen,
                            None => self.warn(
                                &full,
                                "lagwatch listens on an IP address and port (http.listen)",
                            ),
                        }
                    }
                    "tls" => {
                        let profile = text(&full, value)?;
                        let tls = self.profile(&full, "tls", &profile, profiles.tls)?;
                        for (key, value) in tls {
                            let tls_path = format!("tls.{profile}.{key}");
                            match key.as_str() {
                                "certfile" => {
                                    self.config.http.tls_cert = text(&tls_path, value)?.into();
                                }
                                "keyfile" => {
                                    self.config.http.tls_key = text(&tls_path, value)?.into();
                                }
                                _ => {}
                            }
                        }
                    }
                    "timeout" => self.warn(&full, "lagwatch's HTTP API keeps its own timeouts"),
                    _ => self.warn(&full, "unknown key of an HTTP listener"),
                }
            }
        }
        Ok(())
    }

    fn tls_profile(
        &mut self,
        path: &str,
        name: &str,
        profiles: &Profiles<'_>,
        kafka: &mut KafkaSourceConfig,
    ) -> Result<(), BurrowImportError> {
        let keys = self.profile(path, "tls", name, profiles.tls)?;
        for (key, value) in keys {
            let full = format!("tls.{name}.{key}");
            match key.as_str() {
                "cafile" => kafka.tls_ca = text(&full, value)?.into(),
                "certfile" => kafka.tls_cert = text(&full, value)?.into(),
                "keyfile" => kafka.tls_key = text(&full, value)?.into(),
                "noverify" => {
                    if boolean(&full, value)? {
                        kafka.tls_verify_hostname = false;
                        kafka.librdkafka.insert(
                            "enable.ssl.certificate.verification".into(),
                            "false".to_owned().into(),
                        );
                    }
                }
                _ => self.warn(&full, "unknown or unsupported key of a TLS profile"),
            }
        }
        Ok(())
    }

    fn sasl_profile(
        &mut self,
        path: &str,
        name: &str,
        profiles: &Profiles<'_>,
        kafka: &mut KafkaSourceConfig,
    ) -> Result<(), BurrowImportError> {
        let keys = self.profile(path, "sasl", name, profiles.sasl)?;
        for (key, value) in keys {
            let full = format!("sasl.{name}.{key}");
            match key.as_str() {
                "username" => kafka.sasl_username = text(&full, value)?,
                "password" => kafka.sasl_password = text(&full, value)?.into(),
                // Burrow: any other value leaves the library default, PLAIN.
                "mechanism" => {
                    kafka.sasl_mechanism = match text(&full, value)?.as_str() {
                        "SCRAM-SHA-256" => SaslMechanism::ScramSha256,
                        "SCRAM-SHA-512" => SaslMechanism::ScramSha512,
                        _ => SaslMechanism::Plain,
                    };
                }
                "handshake-first" => self.warn(&full, "librdkafka always sends the handshake"),
                _ => self.warn(&full, "unknown or unsupported key of a SASL profile"),
            }
        }
        Ok(())
    }

    /// `[consumer.<name>]` of class `kafka`: the groups of its cluster's `kafka` source.
    fn kafka_consumer(&mut self, name: &str, keys: &Table) -> Result<(), BurrowImportError> {
        let path = format!("consumer.{name}");
        let cluster = match keys.get("cluster") {
            Some(value) => text(&format!("{path}.cluster"), value)?,
            None => {
                return Err(BurrowImportError::Value {
                    path: format!("{path}.cluster"),
                    message: "missing: a kafka consumer names its [cluster.<name>]".into(),
                });
            }
        };
        let Some(SourceConfig::Kafka(kafka)) = self.config.sources.get(&cluster).cloned() else {
            return Err(BurrowImportError::Value {
                path: format!("{path}.cluster"),
                message: format!("no [cluster.{cluster}] of class kafka to read from"),
            });
        };
        let mut kafka = *kafka;
        kafka.mode = KafkaMode::Auto;
        kafka.group_allowlist = String::new();
        for (key, value) in keys {
            let full = format!("{path}.{key}");
            match key.as_str() {
                "class-name" | "cluster" => {}
                "servers" => {
                    let listed = servers(&full, value)?;
                    if listed != kafka.servers {
                        self.warn(
                            &full,
                            "lagwatch reads the cluster's offsets topic through the cluster's \
                             servers",
                        );
                    }
                }
                "offsets-topic" => kafka.offsets_topic = text(&full, value)?,
                "start-latest" => {
                    kafka.offsets_topic_start = if boolean(&full, value)? {
                        OffsetsTopicStart::Latest
                    } else {
                        OffsetsTopicStart::Earliest
                    };
                }
                "backfill-earliest" => self.warn(
                    &full,
                    "in auto mode lagwatch starts from an Admin API snapshot instead",
                ),
                "client-profile" => self.warn(
                    &full,
                    "the cluster's client profile is used for every connection",
                ),
                "group-allowlist" | "group-whitelist" => {
                    kafka.group_allowlist = self.group_list(&path, key, value)?;
                }
                "group-denylist" | "group-blacklist" => {
                    kafka.group_denylist = self.group_list(&path, key, value)?;
                }
                _ => self.warn(&full, "unknown or unsupported key of a kafka consumer"),
            }
        }
        self.config
            .sources
            .insert(cluster, SourceConfig::Kafka(Box::new(kafka)));
        Ok(())
    }

    fn storage(&mut self, name: &str, module: &Value) -> Result<(), BurrowImportError> {
        let path = format!("storage.{name}");
        let Value::Table(keys) = module else {
            self.warn(&path, "expected a table");
            return Ok(());
        };
        for (key, value) in keys {
            let full = format!("{path}.{key}");
            let model = &mut self.config.model;
            match key.as_str() {
                "class-name" if value.as_str() == Some("inmemory") => {}
                "intervals" => {
                    model.intervals =
                        usize::try_from(unsigned(&full, value)?).unwrap_or(usize::MAX);
                }
                "min-distance" => model.min_distance = seconds(&full, value)?,
                "expire-group" => model.expire_group = seconds(&full, value)?,
                "group-allowlist" | "group-whitelist" => {
                    let list = self.group_list(&path, key, value)?;
                    self.config.model.group_allowlist = list;
                }
                "group-denylist" | "group-blacklist" => {
                    let list = self.group_list(&path, key, value)?;
                    self.config.model.group_denylist = list;
                }
                _ => self.warn(&full, "no lagwatch counterpart"),
            }
        }
        Ok(())
    }

    fn evaluator(&mut self, name: &str, module: &Value) -> Result<(), BurrowImportError> {
        let path = format!("evaluator.{name}");
        let Value::Table(keys) = module else {
            self.warn(&path, "expected a table");
            return Ok(());
        };
        for (key, value) in keys {
            let full = format!("{path}.{key}");
            let evaluator = &mut self.config.evaluator;
            match (key.as_str(), value) {
                ("class-name", v) if v.as_str() == Some("caching") => {}
                ("minimum-complete", Value::Float(f)) => evaluator.minimum_complete = *f as f32,
                ("minimum-complete", Value::Integer(i)) => {
                    evaluator.minimum_complete = if *i >= 1 { 1.0 } else { 0.0 };
                }
                ("allowed-lag", v) => evaluator.allowed_lag = unsigned(&full, v)?,
                _ => self.warn(&full, "no lagwatch counterpart"),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The key paths the warnings name, in order.
    fn dropped_paths(import: &BurrowImport) -> Vec<&str> {
        import
            .warnings
            .iter()
            .map(|w| w.split(':').next().unwrap_or(""))
            .collect()
    }

    /// The seed pipeline's burrow.toml, with loopback hosts.
    const SEED: &str = r#"
[zookeeper]
servers=["127.0.0.1:2181", "127.0.0.1:2182", "127.0.0.1:2183"]
timeout=6
root-path="/burrow"

[cluster.live]
class-name="kafka"
servers=["127.0.0.1:9092", "127.0.0.1:9093", "127.0.0.1:9094"]
topic-refresh=120
offset-refresh=30

[consumer.live]
class-name="kafka"
cluster="live"
servers=["127.0.0.1:9092", "127.0.0.1:9093", "127.0.0.1:9094"]
group-blacklist="^(console-consumer-|quick-).*$"
group-whitelist=""

[consumer.live_zk]
class-name="kafka_zk"
cluster="live"
servers=["127.0.0.1:2181", "127.0.0.1:2182", "127.0.0.1:2183"]
zookeeper-timeout=30
group-blacklist="^(console-consumer-|quick-).*$"
group-whitelist=""

[httpserver.default]
address=":8000"
"#;

    #[test]
    fn the_seed_file_imports_with_every_dropped_key_named() {
        let import = from_burrow_toml(SEED).unwrap();
        let mut expected_zk = ZookeeperSourceConfig::new("live");
        expected_zk.servers = "127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183".into();
        expected_zk.session_timeout = Duration::from_secs(30);
        expected_zk.group_denylist = "^(console-consumer-|quick-).*$".into();
        assert_eq!(
            import.config.sources.get("live_zk"),
            Some(&SourceConfig::Zookeeper(Box::new(expected_zk)))
        );
        let mut expected_kafka =
            KafkaSourceConfig::new("live", "127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094");
        expected_kafka.mode = KafkaMode::Auto;
        expected_kafka.topic_refresh = Duration::from_secs(120);
        expected_kafka.offset_refresh = Duration::from_secs(30);
        expected_kafka.group_allowlist = String::new();
        expected_kafka.group_denylist = "^(console-consumer-|quick-).*$".into();
        assert_eq!(
            import.config.sources.get("live"),
            Some(&SourceConfig::Kafka(Box::new(expected_kafka)))
        );
        assert_eq!(import.config.sources.len(), 2);
        assert!(import.config.sinks.contains_key("stdout"));
        // Burrow's ":8000" listens on every interface; so does the imported API.
        assert_eq!(import.config.http.listen, "0.0.0.0:8000");
        let dropped = dropped_paths(&import);
        assert_eq!(
            dropped,
            [
                "consumer.live.group-blacklist",
                "consumer.live.group-whitelist",
                "consumer.live_zk.group-blacklist",
                "consumer.live_zk.group-whitelist",
                "zookeeper.root-path",
                "zookeeper.servers",
                "zookeeper.timeout",
            ]
        );
        assert!(
            import.warnings[0].contains("read as group-denylist"),
            "{:?}",
            import.warnings
        );
    }

    #[test]
    fn a_cluster_alone_reads_broker_offsets_and_profiles_carry_tls_and_sasl() {
        let text = r#"
[client-profile.secure]
client-id="burrow-lagchecker"
kafka-version="2.8.0"
tls="internal"
sasl="monitor"

[tls.internal]
cafile="/etc/kafka/ca.pem"

[sasl.monitor]
mechanism="SCRAM-SHA-512"
username="burrow"
password="s3cret"

[tls.unused]
cafile="/x.pem"

[cluster.prod]
class-name="kafka"
servers="127.0.0.1:9093"
client-profile="secure"
groups-reaper-refresh=30
"#;
        let import = from_burrow_toml(text).unwrap();
        let Some(SourceConfig::Kafka(kafka)) = import.config.sources.get("prod") else {
            panic!("{:?}", import.config.sources);
        };
        assert_eq!(kafka.mode, KafkaMode::Admin);
        assert_eq!(kafka.group_allowlist, "^$");
        assert_eq!(kafka.security_protocol, SecurityProtocol::SaslSsl);
        assert_eq!(kafka.sasl_mechanism, SaslMechanism::ScramSha512);
        assert_eq!(kafka.sasl_username, "burrow");
        assert_eq!(kafka.sasl_password.expose(), "s3cret");
        assert_eq!(kafka.tls_ca, std::path::PathBuf::from("/etc/kafka/ca.pem"));
        assert_eq!(kafka.client_id, "burrow-lagchecker");
        let dropped = dropped_paths(&import);
        assert_eq!(
            dropped,
            [
                "client-profile.secure.kafka-version",
                "cluster.prod.groups-reaper-refresh",
                "tls.unused",
            ]
        );
    }

    #[test]
    fn environment_overrides_apply_to_an_import_and_keep_its_secrets() {
        let text = r#"
[client-profile.secure]
sasl="monitor"
[sasl.monitor]
username="burrow"
password="s3cret"
[cluster.prod]
class-name="kafka"
servers="127.0.0.1:9093"
client-profile="secure"
"#;
        let import = from_burrow_toml(text).unwrap();
        let env = [
            ("LAGWATCH_HTTP__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ("LAGWATCH_MODEL__INTERVALS".to_owned(), "15".to_owned()),
        ];
        let overridden = import.config.clone().with_env(env).unwrap();
        let mut expected = import.config;
        expected.http.listen = "127.0.0.1:0".to_owned();
        expected.model.intervals = 15;
        assert_eq!(overridden, expected);
        let Some(SourceConfig::Kafka(kafka)) = overridden.sources.get("prod") else {
            panic!("{:?}", overridden.sources);
        };
        assert_eq!(kafka.sasl_password.expose(), "s3cret");

        let bad = [("LAGWATCH_MODEL__INTERVALS".to_owned(), "many".to_owned())];
        let err = expected.with_env(bad).unwrap_err().to_string();
        assert!(err.contains("LAGWATCH_MODEL__INTERVALS"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn one_http_listener_is_imported_with_its_tls_profile() {
        let listener = |address: &str| {
            let text = format!(
                "[cluster.c]\nclass-name=\"kafka\"\nservers=\"127.0.0.1:9092\"\n\
                 [httpserver.default]\naddress=\"{address}\"\n"
            );
            let import = from_burrow_toml(&text).unwrap();
            (import.config.http.listen, import.warnings)
        };
        assert_eq!(listener(":8000").0, "0.0.0.0:8000");
        assert_eq!(listener("127.0.0.1:8080").0, "127.0.0.1:8080");
        assert_eq!(listener("localhost:9000").0, "127.0.0.1:9000");
        assert_eq!(listener("[::1]:8000").0, "[::1]:8000");
        let (listen, warnings) = listener("burrow.example:8000");
        assert_eq!(listen, "127.0.0.1:8000", "the default stays");
        assert!(
            warnings[0].starts_with("httpserver.default.address: not imported"),
            "{warnings:?}"
        );

        let text = r#"
[cluster.c]
class-name="kafka"
servers="127.0.0.1:9092"
[tls.web]
certfile="/etc/burrow/cert.pem"
keyfile="/etc/burrow/key.pem"
[httpserver.admin]
address=":9001"
[httpserver.public]
address=":8443"
tls="web"
timeout=60
"#;
        let import = from_burrow_toml(text).unwrap();
        let http = &import.config.http;
        assert_eq!(http.listen, "0.0.0.0:9001");
        assert_eq!(
            (http.tls_cert.to_str(), http.tls_key.to_str()),
            (Some(""), Some(""))
        );
        let dropped = dropped_paths(&import);
        assert_eq!(
            dropped,
            [
                "httpserver.public.address",
                "httpserver.public.timeout",
                "httpserver.public.tls",
                "tls.web",
            ]
        );

        let text = text
            .replace("[httpserver.admin]", "[httpserver.other]")
            .replace("[httpserver.public]", "[httpserver.default]");
        let import = from_burrow_toml(&text).unwrap();
        let http = &import.config.http;
        assert_eq!(http.listen, "0.0.0.0:8443");
        assert_eq!(http.tls_cert.to_str(), Some("/etc/burrow/cert.pem"));
        assert_eq!(http.tls_key.to_str(), Some("/etc/burrow/key.pem"));
        assert!(
            import
                .warnings
                .iter()
                .any(|w| w.starts_with("httpserver.default.timeout")),
            "{:?}",
            import.warnings
        );
        assert!(
            import
                .warnings
                .iter()
                .any(|w| w.starts_with("httpserver.other.address")),
            "{:?}",
            import.warnings
        );
    }

    #[test]
    fn a_missing_profile_names_the_key_that_refers_to_it() {
        let text = "[cluster.c]\nclass-name=\"kafka\"\nservers=\"127.0.0.1:9092\"\nclient-profile=\"nope\"\n";
        let err = from_burrow_toml(text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cluster.c.client-profile: no [client-profile.nope] section"
        );
    }

    #[test]
    fn a_kafka_consumer_needs_its_cluster() {
        let text =
            "[consumer.c]\nclass-name=\"kafka\"\ncluster=\"nowhere\"\nservers=\"127.0.0.1:9092\"\n";
        let err = from_burrow_toml(text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "consumer.c.cluster: no [cluster.nowhere] of class kafka to read from"
        );
    }

    #[test]
    fn storage_and_evaluator_map_to_model_and_evaluator() {
        let text = r#"
[storage.default]
class-name="inmemory"
intervals=15
min-distance=1
expire-group=3600
group-allowlist="^app-"
workers=20

[evaluator.default]
class-name="caching"
minimum-complete=0.5
allowed-lag=100
expire-cache=10

[consumer.zk]
class-name="kafka_zk"
cluster="live"
servers="127.0.0.1:2181"
zookeeper-path="/kafka-live/"
"#;
        let import = from_burrow_toml(text).unwrap();
        let model = &import.config.model;
        assert_eq!(model.intervals, 15);
        assert_eq!(model.min_distance, Duration::from_secs(1));
        assert_eq!(model.expire_group, Duration::from_secs(3600));
        assert_eq!(model.group_allowlist, "^app-");
        assert_eq!(import.config.evaluator.minimum_complete, 0.5);
        assert_eq!(import.config.evaluator.allowed_lag, 100);
        let Some(SourceConfig::Zookeeper(zk)) = import.config.sources.get("zk") else {
            panic!("{:?}", import.config.sources);
        };
        assert_eq!(zk.root_path, "/kafka-live");
        assert_eq!(
            import.warnings,
            [
                "evaluator.default.expire-cache: not imported (no lagwatch counterpart)",
                "storage.default.workers: not imported (no lagwatch counterpart)",
            ]
        );
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = from_burrow_toml("[storage.default]\nintervals=\"ten\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "storage.default.intervals: expected a whole number of 0 or more, found \"ten\""
        );
    }
}
