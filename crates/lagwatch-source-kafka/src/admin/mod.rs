//! Kafka Admin API calls rdkafka's safe API lacks: listing and describing consumer groups,
//! a group's committed offsets, and partition offsets (log start / end) for many partitions
//! at once.
//!
//! [`AdminConnection`] wraps one librdkafka client for one cluster. Every method is
//! **blocking**: it sends the request(s), then waits up to the given timeout for the result.
//! Call them from a blocking thread (`tokio::task::spawn_blocking`), never directly on an
//! async runtime thread. The connection is `Send + Sync`; several threads may call methods
//! on the same connection at once (each call uses its own librdkafka result queue).
//!
//! The `unsafe` code lives in the private `ffi` module; this module is the safe API.
//!
//! What goes to the broker, per call (librdkafka 2.12):
//!
//! | method | requests |
//! |---|---|
//! | [`list_groups`](AdminConnection::list_groups) | one `ListGroups` (v5) to **every** broker |
//! | [`describe_groups`](AdminConnection::describe_groups) | per group: `FindCoordinator` (cached), `ConsumerGroupDescribe`; for classic and simple groups (and unknown ones) then also `DescribeGroups` |
//! | [`committed_offsets`](AdminConnection::committed_offsets) | `FindCoordinator` (cached), one `OffsetFetch` to the group coordinator |
//! | [`list_offsets`](AdminConnection::list_offsets) | `Metadata` for partitions whose leader is not cached, then one `ListOffsets` per partition leader |
//! | [`metadata`](AdminConnection::metadata) | one `Metadata` request (all topics) to one broker |

mod ffi;

use std::collections::HashSet;
use std::ffi::CString;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::client::{Client, DefaultClientContext};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::producer::{DeliveryResult, Producer as _, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, ClientContext, Statistics};

/// Longest timeout librdkafka accepts for an admin request (one hour).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// How long an authentication failure the client reported is taken as the likely cause of a
/// later timeout (librdkafka suppresses identical connection errors for a while, so the
/// report may predate the call). Any successful call forgets it.
const AUTH_FAILURE_MEMORY: Duration = Duration::from_secs(120);

// librdkafka error codes (rd_kafka_resp_err_t) used for classification.
const ERR_TRANSPORT: i32 = -195;
const ERR_ALL_BROKERS_DOWN: i32 = -187;
const ERR_TIMED_OUT: i32 = ffi::ERR_TIMED_OUT;

/// What librdkafka says about one configuration property; see [`check_property`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyCheck {
    /// librdkafka knows the property and takes the value.
    Accepted,
    /// librdkafka has no property of that name (global or topic level).
    Unknown,
    /// librdkafka knows the property but refuses the value.
    InvalidValue,
}

/// Asks librdkafka whether it knows property `key` and takes `value` for it, on a throwaway
/// configuration object. Never echoes the value (librdkafka's own message quotes it).
pub fn check_property(key: &str, value: &str) -> PropertyCheck {
    ffi::check_property(key, value)
}
const ERR_SSL: i32 = -181;
const ERR_WAIT_COORD: i32 = -180;
const ERR_AUTHENTICATION: i32 = -169;
const ERR_TIMED_OUT_QUEUE: i32 = -166;
const ERR_NOENT: i32 = -156;
const ERR_LEADER_NOT_AVAILABLE: i32 = 5;
const ERR_NOT_LEADER_FOR_PARTITION: i32 = 6;
const ERR_REQUEST_TIMED_OUT: i32 = 7;
const ERR_NETWORK_EXCEPTION: i32 = 13;
const ERR_COORDINATOR_LOAD_IN_PROGRESS: i32 = 14;
const ERR_COORDINATOR_NOT_AVAILABLE: i32 = 15;
const ERR_NOT_COORDINATOR: i32 = 16;
const ERR_NOT_ENOUGH_REPLICAS: i32 = 19;
const ERR_SASL_AUTHENTICATION_FAILED: i32 = 58;
const ERR_KAFKA_STORAGE_ERROR: i32 = 56;
const ERR_FENCED_LEADER_EPOCH: i32 = 74;
const ERR_UNKNOWN_LEADER_EPOCH: i32 = 75;
const ERR_OFFSET_NOT_AVAILABLE: i32 = 78;

/// An Admin API failure. Every message names the operation (`ListConsumerGroups`,
/// `DescribeConsumerGroups`, `ListConsumerGroupOffsets`, `ListOffsets`), e.g.
/// `ListConsumerGroups: timed out after 10s: ... (_TIMED_OUT)`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// librdkafka or the broker reported an error.
    #[error("{operation}: {message} ({code_name})")]
    Kafka {
        /// The Admin API operation.
        operation: &'static str,
        /// librdkafka's error code (`rd_kafka_resp_err_t`; negative: local, positive: broker).
        code: i32,
        /// librdkafka's name of the code (`rd_kafka_err2name`), e.g. `_TIMED_OUT`.
        code_name: String,
        /// librdkafka's message.
        message: String,
    },
    /// No result arrived within the timeout (librdkafka did not even report its own timeout).
    #[error("{operation}: no result within {timeout:?}")]
    TimedOut {
        /// The Admin API operation.
        operation: &'static str,
        /// The timeout of the call.
        timeout: Duration,
    },
    /// The arguments cannot be passed to librdkafka (e.g. a name with a NUL byte, a negative
    /// partition, a timeout above [`MAX_TIMEOUT`]).
    #[error("{operation}: invalid argument: {message}")]
    InvalidArgument {
        /// The Admin API operation.
        operation: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The librdkafka client could not be created (bad configuration).
    #[error("cannot create the Kafka admin client: {message}")]
    Client {
        /// rdkafka's message.
        message: String,
    },
    /// librdkafka answered something this module does not expect (a bug here or there).
    #[error("{operation}: unexpected result: {message}")]
    Internal {
        /// The Admin API operation.
        operation: &'static str,
        /// What was unexpected.
        message: String,
    },
}

impl AdminError {
    /// An error with a librdkafka code; the name is looked up with `rd_kafka_err2name`.
    fn kafka(operation: &'static str, code: i32, message: impl Into<String>) -> AdminError {
        AdminError::Kafka {
            operation,
            code,
            code_name: ffi::err_name(code),
            message: message.into(),
        }
    }

    fn invalid(operation: &'static str, message: impl Into<String>) -> AdminError {
        AdminError::InvalidArgument {
            operation,
            message: message.into(),
        }
    }

    fn internal(operation: &'static str, message: impl Into<String>) -> AdminError {
        AdminError::Internal {
            operation,
            message: message.into(),
        }
    }

    /// The operation that failed (`None` for [`AdminError::Client`]).
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            AdminError::Kafka { operation, .. }
            | AdminError::TimedOut { operation, .. }
            | AdminError::InvalidArgument { operation, .. }
            | AdminError::Internal { operation, .. } => Some(operation),
            AdminError::Client { .. } => None,
        }
    }

    /// librdkafka's raw error code, if the error has one.
    pub fn code(&self) -> Option<i32> {
        match self {
            AdminError::Kafka { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The error code as rdkafka's enum (`None` when there is no code or rdkafka does not
    /// know it).
    pub fn kafka_code(&self) -> Option<RDKafkaErrorCode> {
        let code = self.code()?;
        rdkafka::types::RDKafkaRespErr::try_from(code)
            .ok()
            .map(RDKafkaErrorCode::from)
    }

    /// Whether trying again later may succeed: timeouts, connection failures, leader or
    /// coordinator changes and loads. Authentication failures and unknown topics or groups
    /// are not retriable.
    pub fn is_retriable(&self) -> bool {
        match self {
            AdminError::TimedOut { .. } => true,
            AdminError::Kafka { code, .. } => matches!(
                *code,
                ERR_TRANSPORT
                    | ERR_ALL_BROKERS_DOWN
                    | ERR_TIMED_OUT
                    | ERR_WAIT_COORD
                    | ERR_TIMED_OUT_QUEUE
                    | ERR_LEADER_NOT_AVAILABLE
                    | ERR_NOT_LEADER_FOR_PARTITION
                    | ERR_REQUEST_TIMED_OUT
                    | ERR_NETWORK_EXCEPTION
                    | ERR_COORDINATOR_LOAD_IN_PROGRESS
                    | ERR_COORDINATOR_NOT_AVAILABLE
                    | ERR_NOT_COORDINATOR
                    | ERR_NOT_ENOUGH_REPLICAS
                    | ERR_KAFKA_STORAGE_ERROR
                    | ERR_FENCED_LEADER_EPOCH
                    | ERR_UNKNOWN_LEADER_EPOCH
                    | ERR_OFFSET_NOT_AVAILABLE
            ),
            AdminError::InvalidArgument { .. }
            | AdminError::Client { .. }
            | AdminError::Internal { .. } => false,
        }
    }

    /// Whether the cluster could not be reached: timeouts, connection failures, all brokers
    /// down. (Authentication failures are [`is_auth_failure`](Self::is_auth_failure).)
    pub fn is_transport_failure(&self) -> bool {
        matches!(self, AdminError::TimedOut { .. })
            || matches!(
                self.code(),
                Some(
                    ERR_TRANSPORT
                        | ERR_ALL_BROKERS_DOWN
                        | ERR_TIMED_OUT
                        | ERR_TIMED_OUT_QUEUE
                        | ERR_REQUEST_TIMED_OUT
                        | ERR_NETWORK_EXCEPTION
                )
            )
    }

    /// Whether the client could not authenticate: SASL failures (`_AUTHENTICATION`,
    /// `SASL_AUTHENTICATION_FAILED`) and TLS failures (`_SSL`, e.g. an untrusted
    /// certificate).
    ///
    /// librdkafka usually reports a failed login only to the client's error callback and
    /// lets the admin request time out; [`AdminConnection`] remembers such a report and
    /// returns it instead of the bare timeout.
    pub fn is_auth_failure(&self) -> bool {
        matches!(
            self.code(),
            Some(ERR_AUTHENTICATION | ERR_SASL_AUTHENTICATION_FAILED | ERR_SSL)
        )
    }
}

/// The state of a consumer group.
///
/// librdkafka 2.12 knows the classic states only; a KIP-848 (`consumer` protocol) group in
/// state `Assigning` or `Reconciling` is reported as [`GroupState::Unknown`] by the Admin
/// API. [`GroupState::from_name`] understands all names (e.g. from other sources).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupState {
    /// Unknown to librdkafka (also: KIP-848 `Assigning` / `Reconciling`).
    Unknown,
    /// Classic: members are (re)joining.
    PreparingRebalance,
    /// Classic: waiting for the leader's assignment.
    CompletingRebalance,
    /// Members are consuming with a settled assignment.
    Stable,
    /// The group is being removed (also what a describe of a missing group may show).
    Dead,
    /// No members; offsets may still be committed.
    Empty,
    /// KIP-848: a new target assignment is being computed.
    Assigning,
    /// KIP-848: members are moving to the target assignment.
    Reconciling,
}

impl GroupState {
    /// Maps librdkafka's `rd_kafka_consumer_group_state_t`.
    pub fn from_code(code: i32) -> GroupState {
        match code {
            1 => GroupState::PreparingRebalance,
            2 => GroupState::CompletingRebalance,
            3 => GroupState::Stable,
            4 => GroupState::Dead,
            5 => GroupState::Empty,
            _ => GroupState::Unknown,
        }
    }

    /// Maps a state name as Kafka spells it (case-insensitive); unknown names give
    /// [`GroupState::Unknown`].
    pub fn from_name(name: &str) -> GroupState {
        [
            GroupState::PreparingRebalance,
            GroupState::CompletingRebalance,
            GroupState::Stable,
            GroupState::Dead,
            GroupState::Empty,
            GroupState::Assigning,
            GroupState::Reconciling,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(name))
        .unwrap_or(GroupState::Unknown)
    }

    /// The name as Kafka spells it, e.g. `PreparingRebalance`.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Unknown => "Unknown",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
            GroupState::Empty => "Empty",
            GroupState::Assigning => "Assigning",
            GroupState::Reconciling => "Reconciling",
        }
    }
}

impl std::fmt::Display for GroupState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The protocol of a consumer group (librdkafka's `rd_kafka_consumer_group_type_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupKind {
    /// The classic protocol (JoinGroup / SyncGroup), including simple (assign-only) groups.
    Classic,
    /// The KIP-848 protocol (`group.protocol=consumer`).
    Consumer,
    /// Not known: an older broker that does not tell (ListGroups before v5), or a group
    /// type librdkafka does not know.
    Unknown,
}

impl GroupKind {
    /// Maps librdkafka's `rd_kafka_consumer_group_type_t`.
    pub fn from_code(code: i32) -> GroupKind {
        match code {
            1 => GroupKind::Consumer,
            2 => GroupKind::Classic,
            _ => GroupKind::Unknown,
        }
    }

    /// `classic`, `consumer` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Classic => "classic",
            GroupKind::Consumer => "consumer",
            GroupKind::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for GroupKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One group of [`AdminConnection::list_groups`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupListing {
    /// Group id.
    pub group: String,
    /// State.
    pub state: GroupState,
    /// Protocol.
    pub kind: GroupKind,
    /// Whether the group has no protocol type: a "simple" group that only commits offsets
    /// (assign-only consumers, tools).
    pub simple: bool,
}

/// One group of [`AdminConnection::describe_groups`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupDescription {
    /// Group id.
    pub group: String,
    /// State.
    pub state: GroupState,
    /// Protocol.
    pub kind: GroupKind,
    /// Whether it is a simple (assign-only) group.
    pub simple: bool,
    /// Broker id of the group coordinator, if known.
    pub coordinator: Option<i32>,
    /// Current members.
    pub members: Vec<GroupMember>,
    /// Why this group could not be described (the other fields are then defaults).
    pub error: Option<AdminError>,
}

/// A member of a described group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMember {
    /// Member id given by the coordinator (for KIP-848 groups: chosen by the client).
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub instance_id: Option<String>,
    /// `client.id` of the member's client.
    pub client_id: String,
    /// Host the member connects from, as the broker sees it (e.g. `/127.0.0.1`).
    pub host: String,
    /// Assigned partitions, `(topic, partition)`.
    pub assignment: Vec<(String, i32)>,
}

/// A committed offset of [`AdminConnection::committed_offsets`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedOffset {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The committed offset (the next message to consume); `None` when nothing is committed.
    pub offset: Option<i64>,
    /// The broker's error for this partition, if any.
    pub error: Option<AdminError>,
}

/// Which offset [`AdminConnection::list_offsets`] asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OffsetSpec {
    /// The log start offset (first offset still in the log).
    Earliest,
    /// The log end offset, i.e. the high watermark (isolation level read_uncommitted).
    Latest,
}

/// A partition offset of [`AdminConnection::list_offsets`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionOffset {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The offset, or this partition's error (e.g. `UNKNOWN_TOPIC_OR_PARTITION`).
    pub offset: Result<i64, AdminError>,
}

/// The [`ClientContext`] of an [`AdminConnection`]'s client: it forwards everything to the
/// caller's context `C` and remembers the last authentication failure librdkafka reported.
pub struct AdminContext<C> {
    inner: C,
    auth_failure: Mutex<Option<(Instant, i32, String)>>,
}

impl<C> AdminContext<C> {
    /// The caller's context.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    fn forget_auth_failure(&self) {
        if let Ok(mut last) = self.auth_failure.lock() {
            *last = None;
        }
    }

    fn recent_auth_failure(&self) -> Option<(i32, String)> {
        let guard = self.auth_failure.lock().ok()?;
        let (at, code, reason) = guard.as_ref()?;
        (at.elapsed() <= AUTH_FAILURE_MEMORY).then(|| (*code, reason.clone()))
    }
}

impl<C: ClientContext> ClientContext for AdminContext<C> {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = C::ENABLE_REFRESH_OAUTH_TOKEN;

    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        self.inner.log(level, fac, log_message);
    }

    fn stats(&self, statistics: Statistics) {
        self.inner.stats(statistics);
    }

    fn stats_raw(&self, statistics: &[u8]) {
        self.inner.stats_raw(statistics);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if let Some(code) = error.rdkafka_error_code() {
            let code = code as i32;
            if matches!(
                code,
                ERR_AUTHENTICATION | ERR_SASL_AUTHENTICATION_FAILED | ERR_SSL
            ) && let Ok(mut last) = self.auth_failure.lock()
            {
                *last = Some((Instant::now(), code, reason.to_owned()));
            }
        }
        self.inner.error(error, reason);
    }

    fn generate_oauth_token(
        &self,
        oauthbearer_config: Option<&str>,
    ) -> Result<rdkafka::client::OAuthToken, Box<dyn std::error::Error>> {
        self.inner.generate_oauth_token(oauthbearer_config)
    }
}

impl<C: ClientContext> ProducerContext for AdminContext<C> {
    type DeliveryOpaque = ();

    /// Never called: the connection produces nothing.
    fn delivery(&self, _: &DeliveryResult<'_>, _: ()) {}
}

/// A connection to one cluster for admin calls.
///
/// It wraps a librdkafka client built from the caller's [`ClientConfig`]
/// (`bootstrap.servers`, security settings, `client.id`, and e.g.
/// `statistics.interval.ms`). The client is a librdkafka producer instance (as rdkafka's own
/// `AdminClient`) with a background thread that serves its main queue, so the context `C`
/// receives librdkafka's logs, errors and statistics ([`ClientContext::stats`]).
///
/// All methods block; see the [module documentation](self).
pub struct AdminConnection<C: ClientContext + 'static = DefaultClientContext> {
    producer: ThreadedProducer<AdminContext<C>>,
}

impl<C: ClientContext + 'static> std::fmt::Debug for AdminConnection<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConnection").finish_non_exhaustive()
    }
}

impl AdminConnection<DefaultClientContext> {
    /// Creates the client (it connects lazily, on the first call).
    pub fn new(config: &ClientConfig) -> Result<AdminConnection, AdminError> {
        AdminConnection::new_with_context(config, DefaultClientContext)
    }
}

/// Limits `timeout` to what librdkafka accepts.
fn check_timeout(operation: &'static str, timeout: Duration) -> Result<Duration, AdminError> {
    if timeout > MAX_TIMEOUT {
        return Err(AdminError::invalid(
            operation,
            format!("timeout {timeout:?} is above the maximum {MAX_TIMEOUT:?}"),
        ));
    }
    Ok(timeout.max(Duration::from_millis(1)))
}

fn c_string(operation: &'static str, what: &str, value: &str) -> Result<CString, AdminError> {
    CString::new(value).map_err(|_| {
        AdminError::invalid(operation, format!("{what} {value:?} contains a NUL byte"))
    })
}

impl<C: ClientContext + 'static> AdminConnection<C> {
    /// Creates the client with a custom context (e.g. one that records statistics).
    pub fn new_with_context(
        config: &ClientConfig,
        context: C,
    ) -> Result<AdminConnection<C>, AdminError> {
        let context = AdminContext {
            inner: context,
            auth_failure: Mutex::new(None),
        };
        let producer = config
            .create_with_context(context)
            .map_err(|e| AdminError::Client {
                message: crate::creation_error::creation_error_text(&e),
            })?;
        Ok(AdminConnection { producer })
    }

    /// The caller's context.
    pub fn context(&self) -> &C {
        self.producer.context().inner()
    }

    /// The underlying rdkafka client (e.g. for [`Client::fetch_watermarks`]).
    pub fn client(&self) -> &Client<AdminContext<C>> {
        self.producer.client()
    }

    /// The metadata of every topic and broker, through rdkafka's safe metadata call (one
    /// `Metadata` request to one broker). Errors name the operation `Metadata`; a failure
    /// that follows a failed login is reported as that login failure.
    pub fn metadata(&self, timeout: Duration) -> Result<rdkafka::metadata::Metadata, AdminError> {
        const OP: &str = "Metadata";
        let timeout = check_timeout(OP, timeout)?;
        let result =
            self.client()
                .fetch_metadata(None, timeout)
                .map_err(|e| match e.rdkafka_error_code() {
                    Some(code) => AdminError::kafka(OP, code as i32, e.to_string()),
                    None => AdminError::internal(OP, e.to_string()),
                });
        self.settle(result, timeout)
    }

    /// Every classic group of the cluster with its members and their assignments, through
    /// librdkafka's group listing (`rd_kafka_list_groups`): one ListGroups and **one**
    /// DescribeGroups request per broker for all its groups, where
    /// [`AdminConnection::describe_groups`] sends about four requests per group. Assignments
    /// are decoded from the consumer protocol's bytes; members of groups of another protocol
    /// type (Kafka Connect, ...) get none. KIP-848 groups are not described here.
    pub fn describe_classic_groups(
        &self,
        timeout: Duration,
    ) -> Result<Vec<GroupDescription>, AdminError> {
        const OP: &str = "DescribeGroups";
        let timeout = check_timeout(OP, timeout)?;
        let result = self.client().fetch_group_list(None, timeout).map_err(|e| {
            match e.rdkafka_error_code() {
                Some(code) => AdminError::kafka(OP, code as i32, e.to_string()),
                None => AdminError::internal(OP, e.to_string()),
            }
        });
        let list = self.settle(result, timeout)?;
        let groups = list
            .groups()
            .iter()
            .map(|g| {
                let consumer = g.protocol_type() == "consumer";
                let members = g
                    .members()
                    .iter()
                    .map(|m| GroupMember {
                        member_id: m.id().to_owned(),
                        instance_id: None,
                        client_id: m.client_id().to_owned(),
                        host: m.client_host().to_owned(),
                        assignment: match m.assignment() {
                            Some(bytes) if consumer => {
                                crate::records::decode_assignment(
                                    bytes,
                                    m.client_id().len() + m.client_host().len(),
                                )
                                    .unwrap_or_else(|e| {
                                        tracing::debug!(group = g.name(), member = m.id(), error = %e, "undecodable assignment");
                                        Vec::new()
                                    })
                            }
                            _ => Vec::new(),
                        },
                    })
                    .collect();
                GroupDescription {
                    group: g.name().to_owned(),
                    state: GroupState::from_name(g.state()),
                    kind: GroupKind::Classic,
                    simple: g.protocol_type().is_empty(),
                    coordinator: None,
                    members,
                    error: None,
                }
            })
            .collect();
        Ok(groups)
    }

    /// The end of every call: a success forgets any earlier authentication failure (the
    /// client logs in fine now); an error is [explained](Self::explain).
    fn settle<T>(&self, result: Result<T, AdminError>, timeout: Duration) -> Result<T, AdminError> {
        match result {
            Ok(value) => {
                self.producer.context().forget_auth_failure();
                Ok(value)
            }
            Err(error) => Err(self.explain(error, timeout)),
        }
    }

    /// Says how long a timed-out call waited, and replaces a timeout or connection error
    /// with the authentication failure the client reported recently, if any: librdkafka
    /// does not fail admin requests when the login fails, it keeps retrying until the
    /// request times out.
    fn explain(&self, error: AdminError, timeout: Duration) -> AdminError {
        let error = match error {
            AdminError::Kafka {
                operation,
                code: ERR_TIMED_OUT,
                code_name,
                message,
            } => AdminError::Kafka {
                operation,
                code: ERR_TIMED_OUT,
                code_name,
                message: format!("timed out after {timeout:?} ({message})"),
            },
            other => other,
        };
        if !error.is_transport_failure() {
            return error;
        }
        match self.producer.context().recent_auth_failure() {
            Some((code, reason)) => {
                let operation = error.operation().unwrap_or("admin");
                let outcome = match &error {
                    AdminError::Kafka { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                AdminError::kafka(operation, code, format!("{reason}; {outcome}"))
            }
            None => error,
        }
    }

    /// All consumer groups of the cluster (ListConsumerGroups, no state or type filter).
    ///
    /// Sends one `ListGroups` request to **every** broker. If some brokers fail while others
    /// answer, the groups that were listed are returned and the failures are logged as
    /// warnings (so a group coordinated by a failing broker may be missing); the call fails
    /// only when there is no list at all.
    ///
    /// Only consumer groups are listed: librdkafka 2.12 drops every group whose protocol
    /// type is neither `consumer` nor empty, so KIP-932 share groups (and streams groups)
    /// never appear. (A share group asked for by name is described as `Dead` with no
    /// members, and has no committed offsets: its progress is not in `OffsetFetch`.)
    pub fn list_groups(&self, timeout: Duration) -> Result<Vec<GroupListing>, AdminError> {
        let (groups, errors) = self.list_groups_partial(timeout)?;
        for error in &errors {
            tracing::warn!(%error, "some brokers did not list their consumer groups");
        }
        Ok(groups)
    }

    /// Like [`AdminConnection::list_groups`], but returns the per-broker failures next to a
    /// partial list instead of logging them, so that a caller can tell "this group is gone"
    /// from "its coordinator did not answer".
    pub fn list_groups_partial(
        &self,
        timeout: Duration,
    ) -> Result<(Vec<GroupListing>, Vec<AdminError>), AdminError> {
        const OP: &str = "ListConsumerGroups";
        let timeout = check_timeout(OP, timeout)?;
        let result = ffi::list_consumer_groups(self.producer.client().native_client(), timeout)
            .and_then(|(groups, errors)| match errors.first() {
                Some(first) if groups.is_empty() => Err(first.clone()),
                _ => Ok((groups, errors)),
            });
        self.settle(result, timeout)
    }

    /// Describes `groups` in one call: state, protocol, coordinator and members with their
    /// assignments, in the order asked (duplicates are described once).
    ///
    /// librdkafka sends one request per group to its coordinator: `ConsumerGroupDescribe`
    /// (KIP-848), and for groups that are not KIP-848 groups then `DescribeGroups`. A group
    /// that cannot be described carries its own [`GroupDescription::error`]; the call as a
    /// whole fails only on a timeout or connection problem.
    ///
    /// A group that does not exist is **not** an error: Kafka 4.4 answers
    /// `ConsumerGroupDescribe` with `GROUP_ID_NOT_FOUND`, librdkafka then asks
    /// `DescribeGroups`, which reports state [`GroupState::Dead`], no members, no protocol
    /// (so `simple` is true) and no error.
    pub fn describe_groups(
        &self,
        groups: &[String],
        timeout: Duration,
    ) -> Result<Vec<GroupDescription>, AdminError> {
        const OP: &str = "DescribeConsumerGroups";
        let timeout = check_timeout(OP, timeout)?;
        let mut seen = HashSet::new();
        let names = groups
            .iter()
            .filter(|g| seen.insert(g.as_str()))
            .map(|g| c_string(OP, "group", g))
            .collect::<Result<Vec<_>, _>>()?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let result =
            ffi::describe_consumer_groups(self.producer.client().native_client(), &names, timeout);
        self.settle(result, timeout)
    }

    /// The committed offsets of `group` for every partition it has committed to
    /// (ListConsumerGroupOffsets without a partition list: one `OffsetFetch` to the
    /// coordinator). A group that does not exist has no offsets (an empty list).
    pub fn committed_offsets(
        &self,
        group: &str,
        timeout: Duration,
    ) -> Result<Vec<CommittedOffset>, AdminError> {
        const OP: &str = "ListConsumerGroupOffsets";
        let timeout = check_timeout(OP, timeout)?;
        let group = c_string(OP, "group", group)?;
        let result = ffi::list_consumer_group_offsets(
            self.producer.client().native_client(),
            &group,
            timeout,
        );
        self.settle(result, timeout)
    }

    /// The earliest or latest offset of every partition in `partitions`, in one call.
    ///
    /// librdkafka looks up the partition leaders and sends one `ListOffsets` request per
    /// leader, with isolation level read_uncommitted: [`OffsetSpec::Latest`] is the high
    /// watermark, not the last stable offset. A partition that cannot be answered (e.g. of a
    /// deleted topic) carries its own error in [`PartitionOffset::offset`]; duplicates are
    /// asked once. Results come back in no particular order.
    ///
    /// When **no** partition has a leader (e.g. every topic is unknown), librdkafka fails
    /// the whole call with `_NOENT` ("Failed to query partition leaders: No leaders
    /// found"); this method then reports that error for every partition instead. Otherwise
    /// an unknown topic gives `UNKNOWN_TOPIC_OR_PARTITION` and a partition beyond a topic's
    /// count librdkafka's `_UNKNOWN_PARTITION`.
    pub fn list_offsets(
        &self,
        partitions: &[(String, i32)],
        spec: OffsetSpec,
        timeout: Duration,
    ) -> Result<Vec<PartitionOffset>, AdminError> {
        const OP: &str = "ListOffsets";
        let timeout = check_timeout(OP, timeout)?;
        let mut seen = HashSet::new();
        let mut wanted = Vec::with_capacity(partitions.len());
        for (topic, partition) in partitions {
            if topic.is_empty() || *partition < 0 {
                return Err(AdminError::invalid(
                    OP,
                    format!("bad partition {topic:?}/{partition}"),
                ));
            }
            if seen.insert((topic.as_str(), *partition)) {
                wanted.push((c_string(OP, "topic", topic)?, *partition));
            }
        }
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let result = match ffi::list_offsets(
            self.producer.client().native_client(),
            &wanted,
            spec,
            timeout,
        ) {
            Ok(offsets) => Ok(offsets),
            // librdkafka fails the whole call when not one partition has a leader; that is
            // a per-partition condition here.
            Err(error) if error.code() == Some(ERR_NOENT) => Ok(wanted
                .into_iter()
                .map(|(topic, partition)| PartitionOffset {
                    topic: topic.to_string_lossy().into_owned(),
                    partition,
                    offset: Err(error.clone()),
                })
                .collect()),
            Err(error) => Err(error),
        };
        self.settle(result, timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_map_from_librdkafka_codes_and_names() {
        let codes = [
            (0, GroupState::Unknown),
            (1, GroupState::PreparingRebalance),
            (2, GroupState::CompletingRebalance),
            (3, GroupState::Stable),
            (4, GroupState::Dead),
            (5, GroupState::Empty),
            (6, GroupState::Unknown),
            (-1, GroupState::Unknown),
        ];
        for (code, state) in codes {
            assert_eq!(GroupState::from_code(code), state, "code {code}");
        }
        for state in [
            GroupState::PreparingRebalance,
            GroupState::CompletingRebalance,
            GroupState::Stable,
            GroupState::Dead,
            GroupState::Empty,
            GroupState::Assigning,
            GroupState::Reconciling,
        ] {
            assert_eq!(GroupState::from_name(state.as_str()), state);
            assert_eq!(
                GroupState::from_name(&state.as_str().to_ascii_uppercase()),
                state
            );
        }
        assert_eq!(GroupState::from_name("Whatever"), GroupState::Unknown);
        assert_eq!(GroupState::Stable.to_string(), "Stable");
    }

    #[test]
    fn kinds_map_from_librdkafka_codes() {
        assert_eq!(GroupKind::from_code(0), GroupKind::Unknown);
        assert_eq!(GroupKind::from_code(1), GroupKind::Consumer);
        assert_eq!(GroupKind::from_code(2), GroupKind::Classic);
        assert_eq!(GroupKind::from_code(3), GroupKind::Unknown);
        assert_eq!(GroupKind::Consumer.to_string(), "consumer");
    }

    #[test]
    fn errors_are_classified() {
        let timeout = AdminError::kafka("ListOffsets", ERR_TIMED_OUT, "timed out");
        assert!(timeout.is_retriable());
        assert!(!timeout.is_auth_failure());
        assert_eq!(timeout.to_string(), "ListOffsets: timed out (_TIMED_OUT)");
        assert_eq!(
            timeout.kafka_code(),
            Some(RDKafkaErrorCode::OperationTimedOut)
        );
        for code in [ERR_AUTHENTICATION, ERR_SASL_AUTHENTICATION_FAILED, ERR_SSL] {
            let err = AdminError::kafka("ListConsumerGroups", code, "login failed");
            assert!(err.is_auth_failure(), "{err}");
            assert!(!err.is_retriable(), "{err}");
        }
        assert!(AdminError::kafka("x", ERR_NOT_COORDINATOR, "").is_retriable());
        assert!(AdminError::kafka("x", ERR_LEADER_NOT_AVAILABLE, "").is_retriable());
        // UNKNOWN_TOPIC_OR_PARTITION: a deleted topic stays deleted.
        assert!(!AdminError::kafka("x", 3, "").is_retriable());
        let own_timeout = AdminError::TimedOut {
            operation: "DescribeConsumerGroups",
            timeout: Duration::from_secs(10),
        };
        assert!(own_timeout.is_retriable());
        assert_eq!(
            own_timeout.to_string(),
            "DescribeConsumerGroups: no result within 10s"
        );
        assert_eq!(own_timeout.operation(), Some("DescribeConsumerGroups"));
    }

    #[test]
    fn unknown_error_codes_are_safe() {
        // 121 is a Kafka 4.x broker code librdkafka 2.12 does not know.
        let err = AdminError::kafka("ListOffsets", 121, "new broker error");
        assert_eq!(err.code(), Some(121));
        assert_eq!(err.kafka_code(), None);
        assert!(!err.code_name_is_empty());
    }

    impl AdminError {
        fn code_name_is_empty(&self) -> bool {
            matches!(self, AdminError::Kafka { code_name, .. } if code_name.is_empty())
        }
    }

    #[test]
    fn timeouts_are_checked() {
        assert!(check_timeout("x", Duration::from_secs(3601)).is_err());
        assert_eq!(
            check_timeout("x", Duration::ZERO).ok(),
            Some(Duration::from_millis(1))
        );
    }

    #[test]
    fn connection_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<AdminConnection>();
    }
}
