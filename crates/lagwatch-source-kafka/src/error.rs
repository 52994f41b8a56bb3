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
    /// A short stable name of the failure — operation and error code, without the timings
    /// and counters librdkafka puts in its messages — to tell a new failure from the same one
    /// again.
    pub fn kind(&self) -> String {
        match self {
            KafkaError::Config { key, .. } => format!("config:{key}"),
            KafkaError::Admin(AdminError::Kafka {
                operation,
                code_name,
                ..
            }) => format!("{operation}:{code_name}"),
            KafkaError::Admin(AdminError::TimedOut { operation, .. }) => {
                format!("{operation}:timeout")
            }
            KafkaError::Admin(e) => format!("{}:other", e.operation().unwrap_or("admin")),
            KafkaError::OffsetsTopic { topic, .. } => format!("offsets-topic:{topic}"),
            KafkaError::Internal(_) => "internal".to_owned(),
        }
    }

    /// Whether the error is an authentication failure (wrong password, TLS handshake).
    pub fn is_auth_failure(&self) -> bool {
        matches!(self, KafkaError::Admin(e) if e.is_auth_failure())
    }
}
