//! Errors of the HTTP server.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The listen address cannot be bound (in use, not local, no permission).
    #[error("cannot listen on {addr} (http.listen): {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A TLS certificate or key cannot be read or used.
    #[error("TLS file {path} (http.tls_cert / http.tls_key): {reason}")]
    Tls {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// TLS was configured in a build without the `tls` feature.
    #[error("http.tls_cert is set, but this build of lagwatch has no TLS support (feature `tls`)")]
    TlsUnsupported,
    /// Serving failed.
    #[error("HTTP server on {addr} failed: {source}")]
    Serve {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
