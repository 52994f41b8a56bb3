//! lagwatch's own Kafka request path, for what librdkafka's Admin API cannot do: the
//! committed offsets of many consumer groups in one `OffsetFetch` request per coordinator
//! (KIP-709, brokers 3.3+), where librdkafka's ListConsumerGroupOffsets takes one group per
//! call (two requests per group).
//!
//! Requests and responses are the `kafka-protocol` crate's messages, generated from Kafka's
//! own schemas; this module only frames them on a connection of its own (TCP, or TLS over
//! TCP; a 4-byte size, a request header with a correlation id, the body) and routes them:
//!
//! 1. `ApiVersions` on every new connection; a broker must offer `FindCoordinator` v4+
//!    (batched keys) and `OffsetFetch` v8+ (batched groups), otherwise the call fails with
//!    [`WireError::Unsupported`] and the caller keeps librdkafka's path;
//! 2. `FindCoordinator` for all groups at once (chunks of [`MAX_KEYS`]);
//! 3. per coordinator, `OffsetFetch` with up to [`MAX_GROUPS`] groups per request, the
//!    coordinators in parallel;
//! 4. a group answered with NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS or
//!    COORDINATOR_NOT_AVAILABLE is looked up and asked again, up to [`ATTEMPTS`] times.
//!
//! Every listener kind the source's settings describe is spoken ([`WireSettings`]):
//! PLAINTEXT; SSL (TLS through native-tls, i.e. OpenSSL on Linux like librdkafka, with the
//! configured CA or the system's, an optional client certificate whose key may be
//! encrypted, and host-name checking unless turned off); SASL_PLAINTEXT and SASL_SSL with
//! PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (`SaslHandshake` v1 and `SaslAuthenticate` right
//! after `ApiVersions`, on every new connection; refused credentials are one
//! [`WireError::Authentication`] naming the broker and the mechanism, a failed TLS
//! handshake a [`WireError::Tls`]). A `librdkafka` pass-through setting that
//! changes how connections are secured is not followed here:
//! [`WireSettings::from_config`] then says why, and the source keeps librdkafka's path for
//! that cluster.

mod codec;
mod connection;
mod error;
mod sasl;
mod settings;
mod share;
pub(crate) mod share_offsets;
mod transport;

pub use error::WireError;
pub use settings::WireSettings;
pub use share::ShareGroupRead;

use connection::Connection;
use kafka_protocol::messages::{
    FindCoordinatorRequest, GroupId, OffsetFetchRequest, find_coordinator_response::Coordinator,
    offset_fetch_request::OffsetFetchRequestGroup,
};
use kafka_protocol::protocol::{Request, StrBytes};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;

/// Group ids per `FindCoordinator` request.
pub const MAX_KEYS: usize = 1_000;
/// Groups per `OffsetFetch` request by default (bounds the request and, above all, the
/// response); see [`WireClient::with_max_groups`].
pub const MAX_GROUPS: usize = 500;
/// Tries per group when its coordinator moves or is loading.
pub const ATTEMPTS: usize = 5;

const FIND_COORDINATOR_MIN: i16 = 4;
const OFFSET_FETCH_MIN: i16 = 8;
/// Version 10 names topics by id; 8 and 9 by name, which is what lagwatch needs.
const OFFSET_FETCH_MAX: i16 = 9;

// Kafka error codes this module acts on.
const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
const COORDINATOR_NOT_AVAILABLE: i16 = 15;
const NOT_COORDINATOR: i16 = 16;
const GROUP_ID_NOT_FOUND: i16 = 69;

/// One group's committed offsets: `(topic, partition) → offset`, or the Kafka error code
/// the coordinator answered for the group.
pub type GroupOffsets = Result<BTreeMap<(String, i32), i64>, i16>;

/// A client for the batched calls, over connections it opens itself (TLS and SASL as its
/// [`WireSettings`] say) and keeps (one per broker).
pub struct WireClient {
    settings: WireSettings,
    connections: Mutex<HashMap<String, std::sync::Arc<Mutex<Connection>>>>,
    requests: AtomicU64,
    max_groups: usize,
    disabled: AtomicBool,
}

impl std::fmt::Debug for WireClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireClient")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl WireClient {
    /// A client connecting as `settings` say; connects on first use.
    pub fn new(settings: WireSettings) -> WireClient {
        WireClient {
            settings,
            connections: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
            max_groups: MAX_GROUPS,
            disabled: AtomicBool::new(false),
        }
    }

    /// A client for the comma-separated `bootstrap` servers on PLAINTEXT listeners.
    pub fn plaintext(bootstrap: &str, timeout: Duration) -> WireClient {
        WireClient::new(WireSettings::plaintext(bootstrap, timeout))
    }

    /// `false` once [`disable`](WireClient::disable)d: the brokers cannot serve this path.
    pub fn enabled(&self) -> bool {
        !self.disabled.load(Ordering::Relaxed)
    }

    /// Marks the path unusable for this cluster (brokers too old); returns `true` the first
    /// time, so that the caller logs the decision once.
    pub fn disable(&self) -> bool {
        !self.disabled.swap(true, Ordering::Relaxed)
    }

    /// At most `n` (at least 1) groups per `OffsetFetch` request instead of [`MAX_GROUPS`].
    pub fn with_max_groups(mut self, n: usize) -> WireClient {
        self.max_groups = n.max(1);
        self
    }

    /// Requests sent so far (ApiVersions and SASL authentication included).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The connection to `addr`, opened (TLS, ApiVersions, SASL) when there is none.
    async fn connection(&self, addr: &str) -> Result<std::sync::Arc<Mutex<Connection>>, WireError> {
        let mut connections = self.connections.lock().await;
        if let Some(conn) = connections.get(addr) {
            return Ok(std::sync::Arc::clone(conn));
        }
        let conn = Connection::open(addr, &self.settings).await?;
        self.requests
            .fetch_add(conn.opening_requests, Ordering::Relaxed);
        let conn = std::sync::Arc::new(Mutex::new(conn));
        connections.insert(addr.to_owned(), std::sync::Arc::clone(&conn));
        Ok(conn)
    }

    /// Forgets a connection after an I/O error, so the next call opens a new one.
    async fn drop_connection(&self, addr: &str) {
        self.connections.lock().await.remove(addr);
    }

    /// Sends `request` to `addr` with the newest version in `[needed, ours]`. A kept
    /// connection the broker closed meanwhile (idle connections are closed after
    /// `connections.max.idle.ms`, 10 minutes by default) is opened again once.
    async fn send<R: Request>(
        &self,
        addr: &str,
        request: &R,
        needed: i16,
        ours: i16,
    ) -> Result<R::Response, WireError> {
        let reused = self.connections.lock().await.contains_key(addr);
        match self.send_once(addr, request, needed, ours).await {
            Err(WireError::Io { .. }) if reused => {
                self.send_once(addr, request, needed, ours).await
            }
            result => result,
        }
    }

    async fn send_once<R: Request>(
        &self,
        addr: &str,
        request: &R,
        needed: i16,
        ours: i16,
    ) -> Result<R::Response, WireError> {
        let conn = self.connection(addr).await?;
        let mut conn = conn.lock().await;
        let version = conn.version::<R>(needed, ours)?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let result = conn.call(request, version, self.settings.timeout).await;
        drop(conn);
        if matches!(
            result,
            Err(WireError::Io { .. } | WireError::Timeout { .. } | WireError::Codec { .. })
        ) {
            // The connection's state is unknown (a half-read response): never reuse it.
            self.drop_connection(addr).await;
        }
        result
    }

    /// Sends `request` to the first bootstrap server that answers.
    async fn send_any<R: Request>(
        &self,
        request: &R,
        needed: i16,
        ours: i16,
    ) -> Result<R::Response, WireError> {
        let mut last = None;
        for addr in &self.settings.servers {
            match self.send(addr, request, needed, ours).await {
                Ok(response) => return Ok(response),
                // Another broker would answer the same.
                Err(e @ (WireError::Unsupported { .. } | WireError::Authentication { .. })) => {
                    return Err(e);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(WireError::NoBroker {
            servers: self.settings.servers.join(","),
            last: Box::new(last.unwrap_or(WireError::Codec {
                addr: String::new(),
                api: "connect",
                message: "no bootstrap server configured".to_owned(),
            })),
        })
    }

    /// `groups` by their coordinator (`host:port`), and the groups whose coordinator was
    /// not found, with the error code they were answered with.
    async fn by_coordinator(
        &self,
        groups: &[String],
    ) -> Result<(BTreeMap<String, Vec<String>>, Vec<(String, i16)>), WireError> {
        let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut failed = Vec::new();
        for (group, coordinator) in self.coordinators(groups).await? {
            match coordinator {
                Ok(addr) => found.entry(addr).or_default().push(group),
                Err(code) => failed.push((group, code)),
            }
        }
        Ok((found, failed))
    }

    /// Each group's coordinator (`host:port`), or the error code it was answered with.
    async fn coordinators(
        &self,
        groups: &[String],
    ) -> Result<Vec<(String, Result<String, i16>)>, WireError> {
        let mut found = Vec::with_capacity(groups.len());
        for chunk in groups.chunks(MAX_KEYS) {
            let request = FindCoordinatorRequest::default()
                .with_key_type(0)
                .with_coordinator_keys(
                    chunk
                        .iter()
                        .map(|g| StrBytes::from_string(g.clone()))
                        .collect(),
                );
            let response = self
                .send_any(&request, FIND_COORDINATOR_MIN, FIND_COORDINATOR_MIN.max(6))
                .await?;
            found.extend(response.coordinators.into_iter().map(|c: Coordinator| {
                let result = if c.error_code == 0 {
                    Ok(format!("{}:{}", c.host.as_str(), c.port))
                } else {
                    Err(c.error_code)
                };
                (c.key.to_string(), result)
            }));
        }
        Ok(found)
    }

    /// The committed offsets of every group in `groups`, in a handful of requests per
    /// coordinator. A group the coordinator does not know is answered with no offsets; a
    /// group-level error (after [`ATTEMPTS`] tries for moving coordinators) is returned as
    /// that group's `Err(code)`. Fails as a whole only when no broker can be asked.
    pub async fn committed_offsets(
        &self,
        groups: &[String],
    ) -> Result<BTreeMap<String, GroupOffsets>, WireError> {
        let mut result = BTreeMap::new();
        let mut pending: Vec<String> = groups.to_vec();
        for attempt in 0..ATTEMPTS {
            if pending.is_empty() {
                break;
            }
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 << attempt.min(4))).await;
            }
            let (by_coordinator, failed) = self.by_coordinator(&pending).await?;
            let mut retry = Vec::new();
            for (group, code) in failed {
                if retriable(code) {
                    retry.push(group);
                } else {
                    result.insert(group, Err(code));
                }
            }
            let fetches = by_coordinator
                .into_iter()
                .flat_map(|(addr, groups)| {
                    groups
                        .chunks(self.max_groups)
                        .map(|chunk| (addr.clone(), chunk.to_vec()))
                        .collect::<Vec<_>>()
                })
                .map(|(addr, chunk)| async move {
                    let fetched = self.fetch(&addr, &chunk).await;
                    (chunk, fetched)
                });
            for (chunk, fetched) in futures_util::future::join_all(fetches).await {
                match fetched {
                    Ok(answers) => {
                        for (group, answer) in answers {
                            match answer {
                                Err(code) if retriable(code) => retry.push(group),
                                other => {
                                    result.insert(group, other);
                                }
                            }
                        }
                    }
                    // The coordinator could not be asked: look it up again next round.
                    Err(e) if !e.is_unsupported() => {
                        tracing::debug!(error = %e, groups = chunk.len(), "OffsetFetch failed; retrying");
                        retry.extend(chunk);
                    }
                    Err(e) => return Err(e),
                }
            }
            pending = retry;
        }
        for group in pending {
            result.insert(group, Err(COORDINATOR_NOT_AVAILABLE));
        }
        Ok(result)
    }

    /// One `OffsetFetch` for `groups` at their coordinator `addr`.
    async fn fetch(
        &self,
        addr: &str,
        groups: &[String],
    ) -> Result<Vec<(String, GroupOffsets)>, WireError> {
        let request = OffsetFetchRequest::default().with_groups(
            groups
                .iter()
                .map(|g| {
                    OffsetFetchRequestGroup::default()
                        .with_group_id(GroupId(StrBytes::from_string(g.clone())))
                        .with_topics(None)
                })
                .collect(),
        );
        let response = self
            .send(addr, &request, OFFSET_FETCH_MIN, OFFSET_FETCH_MAX)
            .await?;
        if response.error_code != 0 && response.groups.is_empty() {
            return Err(WireError::Broker {
                addr: addr.to_owned(),
                api: "OffsetFetch",
                code: response.error_code,
            });
        }
        Ok(response
            .groups
            .into_iter()
            .map(|g| {
                let group = g.group_id.0.to_string();
                let answer = match g.error_code {
                    0 => Ok(g
                        .topics
                        .into_iter()
                        .flat_map(|t| {
                            let topic = t.name.0.to_string();
                            t.partitions.into_iter().filter_map(move |p| {
                                (p.error_code == 0 && p.committed_offset >= 0).then(|| {
                                    ((topic.clone(), p.partition_index), p.committed_offset)
                                })
                            })
                        })
                        .collect()),
                    GROUP_ID_NOT_FOUND => Ok(BTreeMap::new()),
                    code => Err(code),
                };
                (group, answer)
            })
            .collect())
    }
}

/// Codes after which the group's coordinator is looked up again.
fn retriable(code: i16) -> bool {
    matches!(
        code,
        NOT_COORDINATOR | COORDINATOR_LOAD_IN_PROGRESS | COORDINATOR_NOT_AVAILABLE
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_coordinators_are_retried_and_unknown_groups_are_not() {
        assert!(retriable(NOT_COORDINATOR));
        assert!(retriable(COORDINATOR_LOAD_IN_PROGRESS));
        assert!(retriable(COORDINATOR_NOT_AVAILABLE));
        assert!(!retriable(GROUP_ID_NOT_FOUND));
        assert!(!retriable(0));
    }

    #[test]
    fn bootstrap_servers_are_split_and_trimmed() {
        let client = WireClient::plaintext(" a:1, b:2 ,,", Duration::from_secs(1));
        assert_eq!(client.settings.servers, ["a:1", "b:2"]);
    }
}
