//! The wire path's error type.

use std::time::Duration;

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
    /// The TLS handshake with a broker failed (certificate not trusted, host name not in it,
    /// no TLS on that listener...).
    #[error("{addr}: TLS handshake failed: {message}")]
    Tls {
        /// The broker.
        addr: String,
        /// What the TLS library reported.
        message: String,
    },
    /// SASL authentication with a broker failed: mechanism not enabled, wrong credentials,
    /// or a SCRAM answer that does not check out. Never holds the password.
    #[error("{addr}: SASL {mechanism} authentication failed: {message}")]
    Authentication {
        /// The broker.
        addr: String,
        /// The SASL mechanism (`PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`).
        mechanism: &'static str,
        /// The broker's message (`SaslAuthenticate`'s error message) or what did not check out.
        message: String,
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
