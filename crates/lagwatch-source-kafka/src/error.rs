//! What can go wrong reading a Kafka cluster.

use crate::admin::AdminError;

/// An error of the Kafka source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KafkaError {
    /// The configuration cannot be used (a bad pattern, a property librdkafka refuses).
    #[error("kafka cluster {cluster:?}: {key}: {reason}")]
    Config {
        /// Cluster name.
        cluster: String,
        /// The configuration key at fault.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// An Admin API call failed.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// The offsets topic cannot be read (missing, or not authorized).
    #[error("offsets topic {topic:?} cannot be read: {reason}")]
    OffsetsTopic {
        /// The topic.
        topic: String,
        /// Why.
        reason: String,
    },
    /// Something inside the source failed (a worker thread).
    #[error("internal error: {0}")]
    Internal(String),
}

impl KafkaError {
    /// Whether the error is an authentication failure (wrong password, TLS handshake).
    pub fn is_auth_failure(&self) -> bool {
        matches!(self, KafkaError::Admin(e) if e.is_auth_failure())
    }
}
