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

mod error;
mod ffi;
mod types;

pub use error::AdminError;
use error::*;
pub use types::{
    CommittedOffset, GroupDescription, GroupKind, GroupListing, GroupMember, GroupState,
    OffsetSpec, PartitionOffset,
};

use std::collections::HashSet;
use std::ffi::CString;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::client::{Client, DefaultClientContext};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::producer::{DeliveryResult, Producer as _, ProducerContext, ThreadedProducer};
use rdkafka::{ClientConfig, ClientContext, Statistics};

/// Longest timeout librdkafka accepts for an admin request (one hour).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// How long an authentication failure the client reported is taken as the likely cause of a
/// later timeout (librdkafka suppresses identical connection errors for a while, so the
/// report may predate the call). Any successful call forgets it.
const AUTH_FAILURE_MEMORY: Duration = Duration::from_secs(120);

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
            // Two nested `if`s rather than a let chain: the crate builds with Rust 1.85.
            if matches!(
                code,
                ERR_AUTHENTICATION | ERR_SASL_AUTHENTICATION_FAILED | ERR_SSL
            ) {
                if let Ok(mut last) = self.auth_failure.lock() {
                    *last = Some((Instant::now(), code, reason.to_owned()));
                }
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
    use rdkafka::types::RDKafkaErrorCode;

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
