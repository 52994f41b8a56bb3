//! Where the test services are: one function per service, read from `LAGWATCH_TEST_*`.
//!
//! A missing (or empty) variable **panics** with a message that says how to start the
//! service, so a test that needs a service fails instead of silently passing:
//!
//! ```text
//! LAGWATCH_TEST_KAFKA is not set: start the service with `scripts/services up kafka` and load
//! `eval "$(scripts/services env)"`, or run scripts/test
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};

/// A Kafka listener without authentication (`PLAINTEXT`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KafkaEndpoint {
    /// `host:port` of the listener.
    pub bootstrap: String,
}

/// A Kafka `SASL_PLAINTEXT` listener with mechanism `PLAIN`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaslEndpoint {
    /// `host:port` of the listener.
    pub bootstrap: String,
    /// SASL user name.
    pub user: String,
    /// SASL password.
    pub password: String,
}

/// A Kafka `SSL` listener with a self-signed certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsEndpoint {
    /// `host:port` of the listener.
    pub bootstrap: String,
    /// PEM file of the CA that signed the broker certificate.
    pub ca_path: PathBuf,
}

/// A directory of wrapper scripts for Kafka's Java command-line tools
/// (`kafka-consumer-groups`, `kafka-topics`, `kafka-console-producer`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KafkaTools {
    /// The directory that holds the wrappers.
    pub dir: PathBuf,
}

impl KafkaTools {
    /// Path of one tool, e.g. `tool("kafka-consumer-groups")`.
    pub fn tool(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Burrow's HTTP endpoint and the name it gives the monitored (legacy) Kafka cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BurrowEndpoint {
    /// Base URL, e.g. `http://127.0.0.1:18000`.
    pub url: String,
    /// Cluster name in Burrow's API (`/v3/kafka/<cluster>/...`).
    pub cluster: String,
}

/// Path of the Prometheus server binary (`LAGWATCH_TEST_PROMETHEUS`); see
/// [`prometheus`](super::prometheus) for running it.
#[track_caller]
pub fn prometheus() -> PathBuf {
    require_path("LAGWATCH_TEST_PROMETHEUS", "prometheus")
}

/// The `scripts/services` control script, for tests that restart or stop a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicesCtl {
    /// Path of the script.
    pub path: PathBuf,
}

impl ServicesCtl {
    /// Runs `scripts/services <args...>` and returns its standard output.
    ///
    /// Fails when the script exits non-zero or runs longer than `timeout`.
    pub async fn run(&self, args: &[&str], timeout: Duration) -> anyhow::Result<String> {
        let mut command = tokio::process::Command::new(&self.path);
        command.args(args).kill_on_drop(true);
        let output = tokio::time::timeout(timeout, command.output())
            .await
            .with_context(|| {
                format!(
                    "{} {} took longer than {timeout:?}",
                    self.path.display(),
                    args.join(" ")
                )
            })?
            .with_context(|| format!("cannot run {}", self.path.display()))?;
        if !output.status.success() {
            bail!(
                "{} {} failed ({}): {}",
                self.path.display(),
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// `scripts/services restart <service>` (bounded by two minutes).
    pub async fn restart(&self, service: &str) -> anyhow::Result<()> {
        self.run(&["restart", service], Duration::from_secs(120))
            .await
            .map(drop)
    }

    /// `scripts/services stop <service>` (bounded by one minute).
    pub async fn stop(&self, service: &str) -> anyhow::Result<()> {
        self.run(&["stop", service], Duration::from_secs(60))
            .await
            .map(drop)
    }

    /// `scripts/services start <service>`: a stopped service again, on its old ports and
    /// data (bounded by three minutes).
    pub async fn start(&self, service: &str) -> anyhow::Result<()> {
        self.run(&["start", service], Duration::from_secs(180))
            .await
            .map(drop)
    }

    /// `scripts/services up <service>` (bounded by three minutes): installs and starts it
    /// afresh when it is not running (a Kafka broker's data is formatted anew).
    pub async fn up(&self, service: &str) -> anyhow::Result<()> {
        self.run(&["up", service], Duration::from_secs(180))
            .await
            .map(drop)
    }
}

/// Reads `var`, or panics with instructions naming `service` (the `scripts/services` name).
///
/// Public so that tests of services added later can use the same message.
#[track_caller]
pub fn require(var: &str, service: &str) -> String {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => value.trim().to_owned(),
        _ => panic!(
            "{var} is not set: start the service with `scripts/services up {service}` and load \
             `eval \"$(scripts/services env)\"`, or run scripts/test"
        ),
    }
}

/// Reads `var` if it is set and not empty.
pub fn optional(var: &str) -> Option<String> {
    std::env::var(var)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

#[track_caller]
fn require_path(var: &str, service: &str) -> PathBuf {
    let path = PathBuf::from(require(var, service));
    if !Path::new(&path).exists() {
        panic!(
            "{var}={} does not exist: restart the service with `scripts/services up {service}` and \
             load `eval \"$(scripts/services env)\"`, or run scripts/test",
            path.display()
        );
    }
    path
}

/// Kafka 4.4, `PLAINTEXT` listener (`LAGWATCH_TEST_KAFKA`).
#[track_caller]
pub fn kafka() -> KafkaEndpoint {
    KafkaEndpoint {
        bootstrap: require("LAGWATCH_TEST_KAFKA", "kafka"),
    }
}

/// Kafka 4.4, `SASL_PLAINTEXT` listener with `PLAIN`, `SCRAM-SHA-256` and `SCRAM-SHA-512`
/// for one user (`LAGWATCH_TEST_KAFKA_SASL`,
/// `LAGWATCH_TEST_KAFKA_SASL_USER`, `LAGWATCH_TEST_KAFKA_SASL_PASSWORD`).
#[track_caller]
pub fn kafka_sasl() -> SaslEndpoint {
    SaslEndpoint {
        bootstrap: require("LAGWATCH_TEST_KAFKA_SASL", "kafka"),
        user: require("LAGWATCH_TEST_KAFKA_SASL_USER", "kafka"),
        password: require("LAGWATCH_TEST_KAFKA_SASL_PASSWORD", "kafka"),
    }
}

/// Kafka 4.4, `SSL` listener and its CA file (`LAGWATCH_TEST_KAFKA_TLS`,
/// `LAGWATCH_TEST_KAFKA_TLS_CA`).
#[track_caller]
pub fn kafka_tls() -> TlsEndpoint {
    TlsEndpoint {
        bootstrap: require("LAGWATCH_TEST_KAFKA_TLS", "kafka"),
        ca_path: require_path("LAGWATCH_TEST_KAFKA_TLS_CA", "kafka"),
    }
}

/// The Java tools of Kafka 4.4 (`LAGWATCH_TEST_KAFKA_TOOLS`).
#[track_caller]
pub fn kafka_tools() -> KafkaTools {
    KafkaTools {
        dir: require_path("LAGWATCH_TEST_KAFKA_TOOLS", "kafka"),
    }
}

/// Kafka 3.9, `PLAINTEXT` listener (`LAGWATCH_TEST_KAFKA_LEGACY`); Burrow reads this broker.
#[track_caller]
pub fn kafka_legacy() -> KafkaEndpoint {
    KafkaEndpoint {
        bootstrap: require("LAGWATCH_TEST_KAFKA_LEGACY", "kafka-legacy"),
    }
}

/// Kafka 3.9, `SASL_PLAINTEXT` listener with `PLAIN`, `SCRAM-SHA-256` and `SCRAM-SHA-512`
/// for one user (`LAGWATCH_TEST_KAFKA_LEGACY_SASL`, `LAGWATCH_TEST_KAFKA_LEGACY_SASL_USER`,
/// `LAGWATCH_TEST_KAFKA_LEGACY_SASL_PASSWORD`).
#[track_caller]
pub fn kafka_legacy_sasl() -> SaslEndpoint {
    SaslEndpoint {
        bootstrap: require("LAGWATCH_TEST_KAFKA_LEGACY_SASL", "kafka-legacy"),
        user: require("LAGWATCH_TEST_KAFKA_LEGACY_SASL_USER", "kafka-legacy"),
        password: require("LAGWATCH_TEST_KAFKA_LEGACY_SASL_PASSWORD", "kafka-legacy"),
    }
}

/// Kafka 3.9, `SSL` listener and its CA file (`LAGWATCH_TEST_KAFKA_LEGACY_TLS`,
/// `LAGWATCH_TEST_KAFKA_LEGACY_TLS_CA`).
#[track_caller]
pub fn kafka_legacy_tls() -> TlsEndpoint {
    TlsEndpoint {
        bootstrap: require("LAGWATCH_TEST_KAFKA_LEGACY_TLS", "kafka-legacy"),
        ca_path: require_path("LAGWATCH_TEST_KAFKA_LEGACY_TLS_CA", "kafka-legacy"),
    }
}

/// The Java tools of Kafka 3.9 (`LAGWATCH_TEST_KAFKA_LEGACY_TOOLS`).
#[track_caller]
pub fn kafka_legacy_tools() -> KafkaTools {
    KafkaTools {
        dir: require_path("LAGWATCH_TEST_KAFKA_LEGACY_TOOLS", "kafka-legacy"),
    }
}

/// ZooKeeper 3.9, `host:port` (`LAGWATCH_TEST_ZOOKEEPER`).
#[track_caller]
pub fn zookeeper() -> String {
    require("LAGWATCH_TEST_ZOOKEEPER", "zookeeper")
}

/// Elasticsearch 9 base URL (`LAGWATCH_TEST_ELASTICSEARCH`).
#[track_caller]
pub fn elasticsearch() -> String {
    require("LAGWATCH_TEST_ELASTICSEARCH", "elasticsearch")
}

/// Elasticsearch 8 base URL if that optional service runs (`LAGWATCH_TEST_ELASTICSEARCH8`).
pub fn elasticsearch8() -> Option<String> {
    optional("LAGWATCH_TEST_ELASTICSEARCH8")
}

/// OpenSearch 3 base URL (`LAGWATCH_TEST_OPENSEARCH`).
#[track_caller]
pub fn opensearch() -> String {
    require("LAGWATCH_TEST_OPENSEARCH", "opensearch")
}

/// Burrow base URL and cluster name (`LAGWATCH_TEST_BURROW`, `LAGWATCH_TEST_BURROW_CLUSTER`).
#[track_caller]
pub fn burrow() -> BurrowEndpoint {
    BurrowEndpoint {
        url: require("LAGWATCH_TEST_BURROW", "burrow"),
        cluster: require("LAGWATCH_TEST_BURROW_CLUSTER", "burrow"),
    }
}

/// Path of the Telegraf binary (`LAGWATCH_TEST_TELEGRAF`).
#[track_caller]
pub fn telegraf() -> PathBuf {
    require_path("LAGWATCH_TEST_TELEGRAF", "telegraf")
}

/// The `scripts/services` script (`LAGWATCH_TEST_SERVICES`).
#[track_caller]
pub fn services_ctl() -> ServicesCtl {
    ServicesCtl {
        path: require_path("LAGWATCH_TEST_SERVICES", "kafka"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_variable_panics_with_instructions() {
        let err =
            std::panic::catch_unwind(|| require("LAGWATCH_TEST_SURELY_UNSET_VARIABLE", "kafka"))
                .expect_err("must panic");
        let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            message.contains("LAGWATCH_TEST_SURELY_UNSET_VARIABLE is not set"),
            "{message}"
        );
        assert!(message.contains("scripts/services up kafka"), "{message}");
        assert!(message.contains("scripts/services env"), "{message}");
    }

    #[test]
    fn tool_paths_are_inside_the_directory() {
        let tools = KafkaTools {
            dir: PathBuf::from("tools"),
        };
        assert_eq!(
            tools.tool("kafka-topics"),
            PathBuf::from("tools").join("kafka-topics")
        );
    }
}
