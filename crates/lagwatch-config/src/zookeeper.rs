//! The `zookeeper` source section: offsets committed to ZooKeeper by old consumers
//! (`/consumers/<group>/offsets/<topic>/<partition>`), as Burrow's `kafka_zk` module reads
//! them.

use lagwatch_core::duration::serde_text;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A source reading consumer offsets stored in ZooKeeper.
///
/// Broker offsets for these groups come from another source of the same `cluster` (a Kafka
/// source): the model joins them by cluster name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZookeeperSourceConfig {
    /// Name of the Kafka cluster these offsets belong to. Required.
    pub cluster: String,
    /// ZooKeeper servers, `host:port[,host:port...]`.
    #[serde(default = "default_servers")]
    pub servers: String,
    /// Path of the Kafka cluster in ZooKeeper (its chroot); `/consumers` is read below it.
    #[serde(default)]
    pub root_path: String,
    /// Time between two reads of the whole tree.
    #[serde(default = "default_refresh", with = "serde_text")]
    pub refresh: Duration,
    /// ZooKeeper session timeout; also bounds connecting and every request.
    #[serde(default = "default_session_timeout", with = "serde_text")]
    pub session_timeout: Duration,
    /// Only groups matching this regular expression are read (empty: all).
    #[serde(default)]
    pub group_allowlist: String,
    /// Groups matching this regular expression are skipped (empty: none).
    #[serde(default)]
    pub group_denylist: String,
    /// Only topics matching this regular expression are read (empty: all).
    #[serde(default)]
    pub topic_allowlist: String,
    /// Topics matching this regular expression are skipped (empty: none).
    #[serde(default)]
    pub topic_denylist: String,
}

impl ZookeeperSourceConfig {
    /// A configuration for `cluster` with every other key at its default.
    pub fn new(cluster: impl Into<String>) -> ZookeeperSourceConfig {
        ZookeeperSourceConfig {
            cluster: cluster.into(),
            servers: default_servers(),
            root_path: String::new(),
            refresh: default_refresh(),
            session_timeout: default_session_timeout(),
            group_allowlist: String::new(),
            group_denylist: String::new(),
            topic_allowlist: String::new(),
            topic_denylist: String::new(),
        }
    }
}

fn default_servers() -> String {
    "localhost:2181".to_owned()
}

fn default_refresh() -> Duration {
    Duration::from_secs(10)
}

fn default_session_timeout() -> Duration {
    Duration::from_secs(30)
}

/// The semantic checks of a zookeeper source section at `path`.
pub(crate) fn check(path: &str, c: &ZookeeperSourceConfig, report: &mut dyn FnMut(String, String)) {
    if c.cluster.trim().is_empty() {
        report(format!("{path}.cluster"), "must not be empty".into());
    }
    if c.servers.trim().is_empty() {
        report(format!("{path}.servers"), "must not be empty".into());
    }
    if !c.root_path.is_empty() && (!c.root_path.starts_with('/') || c.root_path.ends_with('/')) {
        report(
            format!("{path}.root_path"),
            format!(
                "must start with '/' and not end with one, got {:?}",
                c.root_path
            ),
        );
    }
    for (key, value) in [
        ("refresh", c.refresh),
        ("session_timeout", c.session_timeout),
    ] {
        if value.is_zero() {
            report(format!("{path}.{key}"), "must be longer than 0s".into());
        }
    }
    check_filters(
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

/// Reports every pattern of `filters` (key, pattern) that is not a valid regular expression.
pub(crate) fn check_filters(
    path: &str,
    filters: [(&str, &String); 4],
    report: &mut dyn FnMut(String, String),
) {
    for (key, pattern) in filters {
        if let Err(e) = lagwatch_core::filter::NameFilter::new(Some(pattern), None) {
            report(
                format!("{path}.{key}"),
                format!(
                    "invalid regular expression {pattern:?}: {}",
                    e.source
                        .to_string()
                        .lines()
                        .rev()
                        .find_map(|l| l.trim().strip_prefix("error: ").map(str::to_owned))
                        .unwrap_or_else(|| e.source.to_string())
                ),
            );
        }
    }
}
