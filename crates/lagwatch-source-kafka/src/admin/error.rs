//! librdkafka's and Kafka's error codes that the Admin API calls classify, and [`AdminError`].

use rdkafka::types::RDKafkaErrorCode;
use std::time::Duration;

// librdkafka error codes (rd_kafka_resp_err_t) used for classification.
pub(super) const ERR_TRANSPORT: i32 = -195;
pub(super) const ERR_ALL_BROKERS_DOWN: i32 = -187;
pub(super) const ERR_TIMED_OUT: i32 = super::ffi::ERR_TIMED_OUT;

pub(super) const ERR_SSL: i32 = -181;
pub(super) const ERR_WAIT_COORD: i32 = -180;
pub(super) const ERR_AUTHENTICATION: i32 = -169;
pub(super) const ERR_TIMED_OUT_QUEUE: i32 = -166;
pub(super) const ERR_NOENT: i32 = -156;
pub(super) const ERR_LEADER_NOT_AVAILABLE: i32 = 5;
pub(super) const ERR_NOT_LEADER_FOR_PARTITION: i32 = 6;
pub(super) const ERR_REQUEST_TIMED_OUT: i32 = 7;
pub(super) const ERR_NETWORK_EXCEPTION: i32 = 13;
pub(super) const ERR_COORDINATOR_LOAD_IN_PROGRESS: i32 = 14;
pub(super) const ERR_COORDINATOR_NOT_AVAILABLE: i32 = 15;
pub(super) const ERR_NOT_COORDINATOR: i32 = 16;
pub(super) const ERR_NOT_ENOUGH_REPLICAS: i32 = 19;
pub(super) const ERR_SASL_AUTHENTICATION_FAILED: i32 = 58;
pub(super) const ERR_KAFKA_STORAGE_ERROR: i32 = 56;
pub(super) const ERR_FENCED_LEADER_EPOCH: i32 = 74;
pub(super) const ERR_UNKNOWN_LEADER_EPOCH: i32 = 75;
pub(super) const ERR_OFFSET_NOT_AVAILABLE: i32 = 78;

/// An Admin API failure. Every message names the operation (`ListConsumerGroups`,
/// `DescribeConsumerGroups`, `ListConsumerGroupOffsets`, `ListOffsets`), e.g.
/// `ListConsumerGroups: timed out after 10s: ... (_TIMED_OUT)`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
    /// partition, a timeout above [`MAX_TIMEOUT`](super::MAX_TIMEOUT)).
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
    pub(super) fn kafka(
        operation: &'static str,
        code: i32,
        message: impl Into<String>,
    ) -> AdminError {
        AdminError::Kafka {
            operation,
            code,
            code_name: super::ffi::err_name(code),
            message: message.into(),
        }
    }

    pub(super) fn invalid(operation: &'static str, message: impl Into<String>) -> AdminError {
        AdminError::InvalidArgument {
            operation,
            message: message.into(),
        }
    }

    pub(super) fn internal(operation: &'static str, message: impl Into<String>) -> AdminError {
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
    /// lets the admin request time out; [`AdminConnection`](super::AdminConnection) remembers such a report and
    /// returns it instead of the bare timeout.
    pub fn is_auth_failure(&self) -> bool {
        matches!(
            self.code(),
            Some(ERR_AUTHENTICATION | ERR_SASL_AUTHENTICATION_FAILED | ERR_SSL)
        )
    }
}
