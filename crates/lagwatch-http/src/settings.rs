//! What the server needs to know beyond the running pipeline: where to listen, how to check
//! clients, how much history to keep, and the configuration facts Burrow's config endpoints
//! show.

use lagwatch_core::secret::Secret;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Burrow's port, and lagwatch's default listen address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8000";

/// How clients prove who they are. Applies to every endpoint.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub enum Auth {
    /// Anyone who can reach the address may read.
    #[default]
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic ...` with this user name and password (what Telegraf's
    /// `inputs.burrow` sends with `username`/`password`).
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: Secret,
    },
}

/// Certificate and key of an HTTPS listener (PEM files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain.
    pub cert: PathBuf,
    /// Private key.
    pub key: PathBuf,
}

/// Burrow's `[storage]` module as its config endpoint shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageModule {
    /// Commits kept per partition.
    pub intervals: u64,
    /// Commits closer than this many seconds replace the newest one.
    pub min_distance_s: u64,
    /// The group allow pattern (empty: every group).
    pub group_allowlist: String,
    /// Seconds without a commit before a group is forgotten.
    pub expire_group_s: u64,
}

impl Default for StorageModule {
    fn default() -> Self {
        StorageModule {
            intervals: 10,
            min_distance_s: 1,
            group_allowlist: String::new(),
            expire_group_s: 604_800,
        }
    }
}

/// A cluster as Burrow's `/v3/kafka/<cluster>` shows its module configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterModule {
    /// Burrow's class name (`kafka`).
    pub class_name: String,
    /// Bootstrap servers (never with credentials).
    pub servers: Vec<String>,
    /// Client profile name.
    pub client_profile: String,
    /// Seconds between topic list refreshes.
    pub topic_refresh_s: u64,
    /// Seconds between broker offset reads.
    pub offset_refresh_s: u64,
}

/// A source as Burrow's `/v3/config/consumer/<name>` shows a consumer module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumerModule {
    /// Burrow's class name (`kafka` for `__consumer_offsets`, `kafka_zk` for ZooKeeper).
    pub class_name: String,
    /// The cluster it reads.
    pub cluster: String,
    /// Servers it reads from (never with credentials).
    pub servers: Vec<String>,
    /// The group allow pattern.
    pub group_allowlist: String,
    /// ZooKeeper path (ZooKeeper sources).
    pub zookeeper_path: String,
    /// ZooKeeper session timeout in seconds (ZooKeeper sources).
    pub zookeeper_timeout_s: u64,
    /// The offsets topic it reads.
    pub offsets_topic: String,
    /// Whether it starts at the newest commit rather than the oldest.
    pub start_latest: bool,
}

/// The configuration facts Burrow's config endpoints show; everything is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BurrowView {
    /// The storage module.
    pub storage: StorageModule,
    /// Seconds between evaluations (Burrow's `expire-cache`).
    pub evaluation_interval_s: u64,
    /// Clusters by name.
    pub clusters: BTreeMap<String, ClusterModule>,
    /// Sources by name.
    pub consumers: BTreeMap<String, ConsumerModule>,
    /// Alerters by name, with their class (Burrow's notifiers).
    pub notifiers: BTreeMap<String, String>,
}

/// Everything the server needs besides the pipeline handle.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpSettings {
    /// Address to listen on (default [`DEFAULT_LISTEN`]).
    pub listen: SocketAddr,
    /// HTTPS certificate and key; plain HTTP when `None`.
    pub tls: Option<TlsFiles>,
    /// Client authentication for every endpoint.
    pub auth: Auth,
    /// Token that allows changes (deleting groups, setting the log level); those endpoints
    /// are refused while it is `None`.
    pub admin_token: Option<Secret>,
    /// How much lag history the JSON API keeps per group.
    pub history: Duration,
    /// Host name shown in Burrow's `request.host`.
    pub host: String,
    /// Configuration facts for Burrow's config endpoints.
    pub burrow: BurrowView,
    /// Value of `Access-Control-Allow-Origin` on every response (empty: none).
    pub allow_origin: String,
    /// The base URL other instances sharing a cluster reach this one at
    /// (`http://10.0.0.7:8000`); `None`: the bound address, with [`host_name`] in place of
    /// an unspecified IP (`0.0.0.0`).
    pub advertise: Option<String>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            tls: None,
            auth: Auth::None,
            admin_token: None,
            history: Duration::from_secs(3600),
            host: host_name(),
            burrow: BurrowView::default(),
            allow_origin: String::new(),
            advertise: None,
        }
    }
}

/// This machine's host name: `$HOSTNAME`, else the kernel's, else `lagwatch`.
pub fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "lagwatch".to_owned())
}
