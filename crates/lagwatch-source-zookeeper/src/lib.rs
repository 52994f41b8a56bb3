//! # lagwatch-source-zookeeper
//!
//! An [`OffsetSource`] reading the offsets old (pre-0.9) Kafka consumers committed to
//! ZooKeeper: `<root_path>/consumers/<group>/offsets/<topic>/<partition>`, each znode holding
//! the offset as a decimal string — what Burrow's `kafka_zk` consumer module reads.
//!
//! **Polling, not watches.** Every `refresh` the source lists the groups, their topics and
//! partitions and reads every offset znode. A commit is sent only when the znode's
//! modification zxid differs from the one sent before, so neither a new poll nor a reconnect
//! (after a lost connection, an expired session or a ZooKeeper restart) sends a commit twice;
//! nothing has to be re-registered after a session is lost, which is what makes polling the
//! simpler choice here. A new commit shows within one `refresh`.
//!
//! * Commit time = the znode's modification time (`mtime`), commit order = its modification
//!   zxid (`mzxid`), as Burrow's `kafka_zk` module stores them.
//! * A value that is not a decimal offset is skipped, counted ([`ZookeeperSource::bad_values`])
//!   and logged once per znode version, naming the znode path.
//! * Owners are read from `<root_path>/consumers/<group>/owners/<topic>/<partition>` (the
//!   owning consumer's id) and sent as [`Event::Members`] when they change.
//! * A group whose znode is gone is sent as [`Event::GroupDeleted`].
//! * When ZooKeeper cannot be read the cluster is reported unhealthy
//!   ([`Event::SourceHealth`]); the session is dropped and a new one opened at the next
//!   `refresh`.
//!
//! Broker offsets are not read here: the model joins these commits with the broker offsets
//! of a Kafka source of the same cluster name.

/// The README's example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

use lagwatch_component::{ComponentError, FromConfig, OffsetSource, SourceContext, async_trait};
use lagwatch_config::ZookeeperSourceConfig;
use lagwatch_core::filter::{FilterError, NameFilter};
use lagwatch_core::{Event, MemberAssignment};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;
use zookeeper_client::{Client, Error as ZkError};

/// What can go wrong building or running the ZooKeeper source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZookeeperError {
    /// An allow or deny list is not a valid regular expression.
    #[error("invalid {key} {pattern:?}: {reason}")]
    Filter {
        /// Which list.
        key: &'static str,
        /// The pattern.
        pattern: String,
        /// What is wrong.
        reason: String,
    },
    /// No session could be opened.
    #[error("cannot connect to ZooKeeper {servers}: {reason}")]
    Connect {
        /// The servers.
        servers: String,
        /// Why.
        reason: String,
    },
    /// A request about a znode failed (other than the znode being absent).
    #[error("ZooKeeper {servers}: reading {path}: {reason}")]
    Read {
        /// The servers.
        servers: String,
        /// The znode path.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Last znode version sent per group, by (topic, partition): the modification zxid.
type Sent = BTreeMap<(String, i32), i64>;

#[derive(Debug, Default)]
struct State {
    client: Option<Client>,
    /// Health last reported (`None`: nothing reported yet).
    healthy: Option<bool>,
    /// Per group listed: what was sent.
    sent: BTreeMap<String, Sent>,
    /// Bad znodes already logged, with the version logged.
    bad: BTreeMap<String, i64>,
    /// Owners sent per group.
    owners: BTreeMap<String, Vec<MemberAssignment>>,
}

/// An [`OffsetSource`] reading ZooKeeper-committed offsets; see the [crate documentation](crate).
#[derive(Debug)]
pub struct ZookeeperSource {
    name: String,
    config: ZookeeperSourceConfig,
    consumers_path: String,
    groups: NameFilter,
    topics: NameFilter,
    bad_values: AtomicU64,
    state: Mutex<State>,
}

fn filter(
    allow: &str,
    deny: &str,
    keys: (&'static str, &'static str),
) -> Result<NameFilter, ZookeeperError> {
    NameFilter::new(Some(allow), Some(deny)).map_err(|e: FilterError| ZookeeperError::Filter {
        key: if e.pattern == allow { keys.0 } else { keys.1 },
        reason: e.source.to_string(),
        pattern: e.pattern,
    })
}

impl FromConfig for ZookeeperSource {
    type Config = ZookeeperSourceConfig;

    /// A source for `config`, named `zookeeper[<cluster>]`.
    ///
    /// # Errors
    /// A permanent [`ComponentError`] (`source.zookeeper`) with the
    /// [`ZookeeperError::Filter`] for an invalid allow or deny list as its source.
    fn from_config(
        _name: &str,
        config: &ZookeeperSourceConfig,
    ) -> Result<ZookeeperSource, ComponentError> {
        ZookeeperSource::build(config.clone()).map_err(|e| {
            ComponentError::permanent("source.zookeeper", e.to_string()).with_source(e)
        })
    }
}

impl ZookeeperSource {
    fn build(config: ZookeeperSourceConfig) -> Result<ZookeeperSource, ZookeeperError> {
        let groups = filter(
            &config.group_allowlist,
            &config.group_denylist,
            ("group_allowlist", "group_denylist"),
        )?;
        let topics = filter(
            &config.topic_allowlist,
            &config.topic_denylist,
            ("topic_allowlist", "topic_denylist"),
        )?;
        Ok(ZookeeperSource {
            name: format!("zookeeper[{}]", config.cluster),
            consumers_path: format!("{}/consumers", config.root_path.trim_end_matches('/')),
            groups,
            topics,
            bad_values: AtomicU64::new(0),
            state: Mutex::new(State::default()),
            config,
        })
    }

    /// Offset znodes skipped so far because their value is not a decimal offset (each
    /// version of a znode counted once).
    pub fn bad_values(&self) -> u64 {
        self.bad_values.load(Ordering::Relaxed)
    }

    /// Time between two reads.
    pub fn refresh(&self) -> Duration {
        self.config.refresh
    }

    fn limit(&self) -> Duration {
        self.config.session_timeout.max(Duration::from_millis(100))
    }

    async fn connect(&self) -> Result<Client, ZookeeperError> {
        let failed = |reason: String| ZookeeperError::Connect {
            servers: self.config.servers.clone(),
            reason,
        };
        let connecting = Client::connector()
            .with_session_timeout(self.limit())
            .with_connection_timeout(self.limit())
            .with_fail_eagerly()
            .connect(&self.config.servers);
        match tokio::time::timeout(self.limit(), connecting).await {
            Err(_) => Err(failed(format!("no session within {:?}", self.limit()))),
            Ok(Err(e)) => Err(failed(e.to_string())),
            Ok(Ok(client)) => Ok(client),
        }
    }

    fn read_error(&self, path: &str, reason: String) -> ZookeeperError {
        ZookeeperError::Read {
            servers: self.config.servers.clone(),
            path: path.to_owned(),
            reason,
        }
    }

    /// Children of `path`; `None` when the znode does not exist.
    async fn children(
        &self,
        client: &Client,
        path: &str,
    ) -> Result<Option<Vec<String>>, ZookeeperError> {
        match tokio::time::timeout(self.limit(), client.list_children(path)).await {
            Err(_) => Err(self.read_error(path, format!("no answer within {:?}", self.limit()))),
            Ok(Ok(mut children)) => {
                children.sort();
                Ok(Some(children))
            }
            Ok(Err(ZkError::NoNode)) => Ok(None),
            Ok(Err(e)) => Err(self.read_error(path, e.to_string())),
        }
    }

    /// Reads the whole tree once and returns the events. A failure to read ZooKeeper drops
    /// the session (a new one is opened at the next call) and reports the cluster unhealthy
    /// (once).
    pub async fn poll(&self) -> Vec<Event> {
        self.poll_read().await.0
    }

    /// [`poll`](Self::poll), and whether the tree was read (the reason it was not, as
    /// logged).
    async fn poll_read(&self) -> (Vec<Event>, Result<(), String>) {
        let mut state = self.state.lock().await;
        let client = match state.client.take() {
            Some(client) => Ok(client),
            None => self.connect().await,
        };
        let mut events = Vec::new();
        let result = match client {
            Ok(client) => {
                let read = self.read_tree(&client, &mut state, &mut events).await;
                if read.is_ok() {
                    state.client = Some(client);
                }
                read
            }
            Err(e) => Err(e),
        };
        let cluster = self.config.cluster.clone();
        match result {
            Ok(()) => {
                if state.healthy != Some(true) {
                    state.healthy = Some(true);
                    events.insert(
                        0,
                        Event::SourceHealth {
                            cluster,
                            healthy: true,
                            reason: None,
                        },
                    );
                }
                (events, Ok(()))
            }
            Err(e) => {
                tracing::warn!(source = %self.name, error = %e, "cannot read ZooKeeper; will reconnect");
                if state.healthy != Some(false) {
                    state.healthy = Some(false);
                    events.push(Event::SourceHealth {
                        cluster,
                        healthy: false,
                        reason: Some(e.to_string()),
                    });
                }
                (events, Err(e.to_string()))
            }
        }
    }

    /// Reads the tree into `events`. On an error the events already collected stay (their
    /// znode versions are recorded as sent), so nothing is lost or sent twice.
    async fn read_tree(
        &self,
        client: &Client,
        state: &mut State,
        events: &mut Vec<Event>,
    ) -> Result<(), ZookeeperError> {
        let cluster = &self.config.cluster;
        let groups: Vec<String> = self
            .children(client, &self.consumers_path)
            .await?
            .unwrap_or_default()
            .into_iter()
            .filter(|g| self.groups.accepts(g))
            .collect();
        let State {
            sent, bad, owners, ..
        } = state;
        let gone: Vec<String> = sent
            .keys()
            .filter(|g| groups.binary_search(g).is_err())
            .cloned()
            .collect();
        for group in gone {
            sent.remove(&group);
            owners.remove(&group);
            events.push(Event::GroupDeleted {
                cluster: cluster.clone(),
                group,
            });
        }
        for group in groups {
            let group_sent = sent.entry(group.clone()).or_default();
            let offsets = format!("{}/{group}/offsets", self.consumers_path);
            let topics = self.children(client, &offsets).await?.unwrap_or_default();
            // Whether any offset znode of the group was read (changed or not).
            let mut read_any = false;
            for topic in topics.into_iter().filter(|t| self.topics.accepts(t)) {
                let topic_path = format!("{offsets}/{topic}");
                let partitions = self
                    .children(client, &topic_path)
                    .await?
                    .unwrap_or_default();
                for child in partitions {
                    let path = format!("{topic_path}/{child}");
                    let Some(partition) = child.parse::<i32>().ok().filter(|p| *p >= 0) else {
                        self.bad(bad, &path, 0, "the znode name is not a partition number");
                        continue;
                    };
                    let read = tokio::time::timeout(self.limit(), client.get_data(&path)).await;
                    let (data, stat) = match read {
                        Err(_) => {
                            return Err(self.read_error(
                                &path,
                                format!("no answer within {:?}", self.limit()),
                            ));
                        }
                        Ok(Err(ZkError::NoNode)) => continue,
                        Ok(Err(e)) => return Err(self.read_error(&path, e.to_string())),
                        Ok(Ok(found)) => found,
                    };
                    read_any = true;
                    let slot = (topic.clone(), partition);
                    if group_sent.get(&slot) == Some(&stat.mzxid) {
                        continue;
                    }
                    let text = String::from_utf8_lossy(&data);
                    let Some(offset) = text.trim().parse::<i64>().ok().filter(|o| *o >= 0) else {
                        self.bad(
                            bad,
                            &path,
                            stat.mzxid,
                            &format!("the value {text:?} is not an offset"),
                        );
                        continue;
                    };
                    group_sent.insert(slot, stat.mzxid);
                    events.push(Event::Commit {
                        cluster: cluster.clone(),
                        group: group.clone(),
                        topic: topic.clone(),
                        partition,
                        offset,
                        timestamp_ms: stat.mtime,
                        order: Some(stat.mzxid),
                    });
                }
            }
            if read_any {
                // Polled: the group's offsets are current as of this read, changed or not.
                events.push(Event::CommitsRead {
                    cluster: cluster.clone(),
                    group: group.clone(),
                    read_ms: lagwatch_component::clock::wall_clock_ms(),
                });
            }
            let current = self.read_owners(client, &group).await?;
            let changed = match owners.get(&group) {
                Some(before) => *before != current,
                None => !current.is_empty(),
            };
            if changed {
                owners.insert(group.clone(), current.clone());
                events.push(Event::Members {
                    cluster: cluster.clone(),
                    group: group.clone(),
                    assignments: current,
                });
            }
        }
        Ok(())
    }

    /// `<consumers>/<group>/owners/<topic>/<partition>`, each holding the owning consumer's
    /// id, as Burrow's `kafka_zk` module reads them (client id stays empty).
    async fn read_owners(
        &self,
        client: &Client,
        group: &str,
    ) -> Result<Vec<MemberAssignment>, ZookeeperError> {
        let base = format!("{}/{group}/owners", self.consumers_path);
        let mut assignments = Vec::new();
        let topics = self.children(client, &base).await?.unwrap_or_default();
        for topic in topics.into_iter().filter(|t| self.topics.accepts(t)) {
            let topic_path = format!("{base}/{topic}");
            for child in self
                .children(client, &topic_path)
                .await?
                .unwrap_or_default()
            {
                let Ok(partition) = child.parse::<i32>() else {
                    continue;
                };
                let path = format!("{topic_path}/{child}");
                match tokio::time::timeout(self.limit(), client.get_data(&path)).await {
                    Err(_) => {
                        return Err(
                            self.read_error(&path, format!("no answer within {:?}", self.limit()))
                        );
                    }
                    Ok(Err(ZkError::NoNode)) => {}
                    Ok(Err(e)) => return Err(self.read_error(&path, e.to_string())),
                    Ok(Ok((data, _))) => {
                        let owner = String::from_utf8_lossy(&data).trim().to_owned();
                        if partition >= 0 && !owner.is_empty() {
                            assignments.push(MemberAssignment {
                                topic: topic.clone(),
                                partition,
                                owner,
                                client_id: String::new(),
                            });
                        }
                    }
                }
            }
        }
        Ok(assignments)
    }

    /// Counts and logs a bad znode, once per version.
    fn bad(&self, logged: &mut BTreeMap<String, i64>, path: &str, version: i64, what: &str) {
        if logged.get(path) == Some(&version) {
            return;
        }
        logged.insert(path.to_owned(), version);
        self.bad_values.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(source = %self.name, path, "skipping ZooKeeper offset znode {path}: {what}");
    }
}

#[async_trait]
impl OffsetSource for ZookeeperSource {
    fn name(&self) -> &str {
        &self.name
    }

    /// Opens a session and lists the consumers znode (its absence is fine).
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        let client = self
            .connect()
            .await
            .map_err(|e| ComponentError::transient(&self.name, e.to_string()))?;
        self.children(&client, &self.consumers_path)
            .await
            .map_err(|e| ComponentError::transient(&self.name, e.to_string()))?;
        Ok(())
    }

    /// Reads the tree every `refresh` until `ctx.shutdown` is cancelled (then returns `Ok`)
    /// or the pipeline stops receiving (then a
    /// [`Closed`](lagwatch_component::ErrorClass::Closed) error). Every read of the tree is
    /// recorded as one read of the cluster ([`SourceContext::record_read`]), failed with the
    /// logged reason when ZooKeeper could not be reached or read.
    async fn run(&self, ctx: SourceContext) -> Result<(), ComponentError> {
        ctx.poll_every(
            self.config.refresh.max(Duration::from_millis(10)),
            || async {
                let started = std::time::Instant::now();
                let (events, outcome) = self.poll_read().await;
                ctx.record_read(
                    &self.config.cluster,
                    started.elapsed(),
                    outcome.as_ref().map(|_| ()).map_err(String::as_str),
                );
                events
            },
        )
        .await
    }
}
