//! lagwatch's own Kafka request path, for what librdkafka's Admin API cannot do: the
//! committed offsets of many consumer groups in one `OffsetFetch` request per coordinator
//! (KIP-709, brokers 3.3+), where librdkafka's ListConsumerGroupOffsets takes one group per
//! call (two requests per group).
//!
//! Requests and responses are the `kafka-protocol` crate's messages, generated from Kafka's
//! own schemas; this module only frames them on a TCP connection of its own (a 4-byte size,
//! a request header with a correlation id, the body) and routes them:
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
//! Only PLAINTEXT listeners are spoken here; for TLS and SASL the source keeps librdkafka's
//! path (see the source's docs).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiVersionsRequest, ApiVersionsResponse, FindCoordinatorRequest, GroupId, OffsetFetchRequest,
    RequestHeader, ResponseHeader, find_coordinator_response::Coordinator,
    offset_fetch_request::OffsetFetchRequestGroup,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// Group ids per `FindCoordinator` request.
pub const MAX_KEYS: usize = 1_000;
/// Groups per `OffsetFetch` request by default (bounds the request and, above all, the
/// response); see [`WireClient::with_max_groups`].
pub const MAX_GROUPS: usize = 500;
/// Tries per group when its coordinator moves or is loading.
pub const ATTEMPTS: usize = 5;
/// The largest response accepted (a response size above it is a protocol error).
const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;

const FIND_COORDINATOR_MIN: i16 = 4;
const OFFSET_FETCH_MIN: i16 = 8;
/// Version 10 names topics by id; 8 and 9 by name, which is what lagwatch needs.
const OFFSET_FETCH_MAX: i16 = 9;

// Kafka error codes this module acts on.
const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
const COORDINATOR_NOT_AVAILABLE: i16 = 15;
const NOT_COORDINATOR: i16 = 16;
const GROUP_ID_NOT_FOUND: i16 = 69;

/// What can go wrong on the wire path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// A TCP connection or its I/O failed.
    #[error("{addr}: {source}")]
    Io {
        /// The broker.
        addr: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A request got no answer in time.
    #[error("{addr}: {api} got no answer within {timeout:?}")]
    Timeout {
        /// The broker.
        addr: String,
        /// The request.
        api: &'static str,
        /// The timeout.
        timeout: Duration,
    },
    /// A message could not be encoded or decoded.
    #[error("{addr}: {api}: {message}")]
    Codec {
        /// The broker.
        addr: String,
        /// The request.
        api: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The broker does not offer a version this path needs.
    #[error("{addr} offers {api} up to v{offered}, this path needs v{needed} or newer")]
    Unsupported {
        /// The broker.
        addr: String,
        /// The request.
        api: &'static str,
        /// The newest version the broker offers (-1: none).
        offered: i16,
        /// The oldest version this path can use.
        needed: i16,
    },
    /// A request-level error code.
    #[error("{addr}: {api} failed with Kafka error code {code}")]
    Broker {
        /// The broker.
        addr: String,
        /// The request.
        api: &'static str,
        /// Kafka's error code.
        code: i16,
    },
    /// No bootstrap server could be reached.
    #[error("no bootstrap server answered ({servers}): {last}")]
    NoBroker {
        /// The configured servers.
        servers: String,
        /// The last server's error.
        last: Box<WireError>,
    },
}

impl WireError {
    /// `true` when the brokers cannot serve this path at all (too old), as opposed to a
    /// failure that the next read may not see.
    pub fn is_unsupported(&self) -> bool {
        match self {
            WireError::Unsupported { .. } => true,
            WireError::NoBroker { last, .. } => last.is_unsupported(),
            _ => false,
        }
    }
}

/// One group's committed offsets: `(topic, partition) → offset`, or the Kafka error code
/// the coordinator answered for the group.
pub type GroupOffsets = Result<BTreeMap<(String, i32), i64>, i16>;

/// A connection to one broker, used for one request at a time.
struct Connection {
    addr: String,
    stream: TcpStream,
    correlation: i32,
    /// API key → (min, max) version the broker offers.
    versions: HashMap<i16, (i16, i16)>,
}

impl Connection {
    async fn open(addr: &str, timeout: Duration) -> Result<Connection, WireError> {
        let io = |source| WireError::Io {
            addr: addr.to_owned(),
            source,
        };
        let stream = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(connected) => connected.map_err(io)?,
            Err(_) => {
                return Err(WireError::Timeout {
                    addr: addr.to_owned(),
                    api: "connect",
                    timeout,
                });
            }
        };
        stream.set_nodelay(true).map_err(io)?;
        let mut conn = Connection {
            addr: addr.to_owned(),
            stream,
            correlation: 0,
            versions: HashMap::new(),
        };
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("lagwatch"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let response: ApiVersionsResponse = conn.call(&request, 3, timeout).await?;
        if response.error_code != 0 {
            return Err(WireError::Broker {
                addr: addr.to_owned(),
                api: "ApiVersions",
                code: response.error_code,
            });
        }
        conn.versions = response
            .api_keys
            .iter()
            .map(|k| (k.api_key, (k.min_version, k.max_version)))
            .collect();
        Ok(conn)
    }

    /// The newest version of `R` both sides speak, at least `needed` and at most `ours`.
    fn version<R: Request>(
        &self,
        api: &'static str,
        needed: i16,
        ours: i16,
    ) -> Result<i16, WireError> {
        let (min, max) = self.versions.get(&R::KEY).copied().unwrap_or((-1, -1));
        let version = max.min(ours).min(R::VERSIONS.max);
        if version < needed || version < min {
            return Err(WireError::Unsupported {
                addr: self.addr.clone(),
                api,
                offered: max,
                needed,
            });
        }
        Ok(version)
    }

    /// Sends one request and reads its response.
    async fn call<R: Request>(
        &mut self,
        request: &R,
        version: i16,
        timeout: Duration,
    ) -> Result<R::Response, WireError> {
        let api = api_name(R::KEY);
        match tokio::time::timeout(timeout, self.exchange(request, version, api)).await {
            Ok(result) => result,
            Err(_) => Err(WireError::Timeout {
                addr: self.addr.clone(),
                api,
                timeout,
            }),
        }
    }

    async fn exchange<R: Request>(
        &mut self,
        request: &R,
        version: i16,
        api: &'static str,
    ) -> Result<R::Response, WireError> {
        let addr = self.addr.clone();
        self.correlation = self.correlation.wrapping_add(1);
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(StrBytes::from_static_str("lagwatch")));
        let mut frame = BytesMut::new();
        frame.put_i32(0);
        header
            .encode(&mut frame, R::header_version(version))
            .map_err(|e| codec_error(&addr, api, e))?;
        request
            .encode(&mut frame, version)
            .map_err(|e| codec_error(&addr, api, e))?;
        let size = i32::try_from(frame.len() - 4).map_err(|_| WireError::Codec {
            addr: self.addr.clone(),
            api,
            message: "request too large".to_owned(),
        })?;
        frame[..4].copy_from_slice(&size.to_be_bytes());

        let io = |source| WireError::Io {
            addr: self.addr.clone(),
            source,
        };
        self.stream.write_all(&frame).await.map_err(io)?;
        let size = self.stream.read_i32().await.map_err(io)?;
        let size = usize::try_from(size)
            .ok()
            .filter(|s| *s <= MAX_RESPONSE_BYTES)
            .ok_or_else(|| WireError::Codec {
                addr: self.addr.clone(),
                api,
                message: format!("response size {size} out of range"),
            })?;
        let mut body = vec![0; size];
        self.stream.read_exact(&mut body).await.map_err(io)?;
        let mut body = Bytes::from(body);
        let response_header = ResponseHeader::decode(
            &mut body,
            <R::Response as HeaderVersion>::header_version(version),
        )
        .map_err(|e| codec_error(&addr, api, e))?;
        if response_header.correlation_id != self.correlation {
            return Err(WireError::Codec {
                addr: self.addr.clone(),
                api,
                message: format!(
                    "correlation id {} answered, {} expected",
                    response_header.correlation_id, self.correlation
                ),
            });
        }
        let response =
            R::Response::decode(&mut body, version).map_err(|e| codec_error(&addr, api, e))?;
        if body.has_remaining() {
            tracing::trace!(addr = %self.addr, api, left = body.remaining(), "response has trailing bytes");
        }
        Ok(response)
    }
}

fn codec_error(addr: &str, api: &'static str, e: impl std::fmt::Display) -> WireError {
    WireError::Codec {
        addr: addr.to_owned(),
        api,
        message: e.to_string(),
    }
}

fn api_name(key: i16) -> &'static str {
    match key {
        18 => "ApiVersions",
        10 => "FindCoordinator",
        9 => "OffsetFetch",
        _ => "request",
    }
}

/// A client for the batched calls, over PLAINTEXT connections it opens itself and keeps
/// (one per broker).
pub struct WireClient {
    bootstrap: Vec<String>,
    timeout: Duration,
    connections: Mutex<HashMap<String, std::sync::Arc<Mutex<Connection>>>>,
    requests: AtomicU64,
    max_groups: usize,
    disabled: AtomicBool,
}

impl std::fmt::Debug for WireClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireClient")
            .field("bootstrap", &self.bootstrap)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl WireClient {
    /// A client for the comma-separated `bootstrap` servers; connects on first use.
    pub fn new(bootstrap: &str, timeout: Duration) -> WireClient {
        WireClient {
            bootstrap: bootstrap
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            timeout,
            connections: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
            max_groups: MAX_GROUPS,
            disabled: AtomicBool::new(false),
        }
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

    /// Requests sent so far (ApiVersions included).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The connection to `addr`, opened (with its ApiVersions exchange) when there is none.
    async fn connection(&self, addr: &str) -> Result<std::sync::Arc<Mutex<Connection>>, WireError> {
        let mut connections = self.connections.lock().await;
        if let Some(conn) = connections.get(addr) {
            return Ok(std::sync::Arc::clone(conn));
        }
        let conn = Connection::open(addr, self.timeout).await?;
        self.requests.fetch_add(1, Ordering::Relaxed);
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
        let version = conn.version::<R>(api_name(R::KEY), needed, ours)?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let result = conn.call(request, version, self.timeout).await;
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
        for addr in &self.bootstrap {
            match self.send(addr, request, needed, ours).await {
                Ok(response) => return Ok(response),
                Err(e @ WireError::Unsupported { .. }) => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(WireError::NoBroker {
            servers: self.bootstrap.join(","),
            last: Box::new(last.unwrap_or(WireError::Codec {
                addr: String::new(),
                api: "connect",
                message: "no bootstrap server configured".to_owned(),
            })),
        })
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
            let mut by_coordinator: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let mut retry = Vec::new();
            for (group, found) in self.coordinators(&pending).await? {
                match found {
                    Ok(addr) => by_coordinator.entry(addr).or_default().push(group),
                    Err(code) if retriable(code) => retry.push(group),
                    Err(code) => {
                        result.insert(group, Err(code));
                    }
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
        let client = WireClient::new(" a:1, b:2 ,,", Duration::from_secs(1));
        assert_eq!(client.bootstrap, ["a:1", "b:2"]);
    }
}
