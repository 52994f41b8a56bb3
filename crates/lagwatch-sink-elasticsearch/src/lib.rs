//! Elasticsearch / OpenSearch sink for lagwatch.
//!
//! Every evaluation becomes one document per group, group partition and topic partition, in
//! exactly the shape Telegraf's `outputs.elasticsearch` wrote (see
//! [`lagwatch_core::measurement`]), so dashboards built on the old pipeline keep working.
//! Documents are written with `_bulk`:
//!
//! * requests are bounded by document count, bytes and waiting time, and may be gzipped;
//! * every document has a deterministic `_id` ([`bulk::document_id`]) and is written with
//!   `create`, so a retry never duplicates it (409 counts as success);
//! * only retryable failures (429, 5xx, connection errors, timeouts) are retried, item by
//!   item, with exponential backoff and jitter; a document refused for good (400 mapping
//!   conflict …) goes to a dead-letter NDJSON file with the reason and never holds up the
//!   others;
//! * the version is detected with `GET /_nodes/_local` (Elasticsearch 7.x-9.x, OpenSearch
//!   1.x-3.x), never `GET /`.
//!
//! ```no_run
//! use lagwatch_config::ElasticsearchSinkConfig;
//! use lagwatch_component::FromConfig;
//! use lagwatch_sink_elasticsearch::ElasticsearchSink;
//! let config = ElasticsearchSinkConfig::new("http://127.0.0.1:9200");
//! let sink = ElasticsearchSink::from_config("es", &config)?;
//! # Ok::<(), lagwatch_component::ComponentError>(())
//! ```

/// The README's example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod bulk;
pub mod client;
pub mod index;
pub mod setup;
mod sink;
pub mod spool;

pub use sink::{ElasticsearchSink, SinkStats};

use lagwatch_component::ComponentError;

/// What went wrong talking to Elasticsearch.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EsError {
    /// The index-name pattern cannot be used.
    #[error("index name pattern {pattern:?}: {reason}")]
    IndexPattern {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The data stream cannot be set up or written (`data_stream = true`).
    #[error("data stream {name:?}: {reason}")]
    DataStream {
        /// The data stream's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The server answered something that is not what the API promises.
    #[error("{url}: unexpected response: {reason}")]
    BadResponse {
        /// The cluster (redacted).
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// The server's product or version is not supported.
    #[error("{url}: {version} is not supported (Elasticsearch 7 or newer, or OpenSearch)")]
    Unsupported {
        /// The cluster (redacted).
        url: String,
        /// Product and version found.
        version: String,
    },
    /// The CA file cannot be read.
    #[error("CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// HTTPS was asked for but this build has no TLS.
    #[error("{url}: https and ca_file need lagwatch-sink-elasticsearch's `tls` feature")]
    NoTls {
        /// The cluster (redacted).
        url: String,
    },
    /// The HTTP client could not be built or a body could not be encoded.
    #[error("{url}: {reason}")]
    Client {
        /// The cluster (redacted).
        url: String,
        /// The reason.
        reason: String,
    },
    /// The request did not get an answer (connection refused, reset, timed out).
    #[error("{url}: {reason}")]
    Transport {
        /// The cluster (redacted).
        url: String,
        /// The reason.
        reason: String,
    },
    /// A request was answered with an error status.
    #[error("{url}: {what} answered HTTP {status}: {reason}")]
    Status {
        /// The cluster (redacted).
        url: String,
        /// The request.
        what: String,
        /// HTTP status.
        status: u16,
        /// Elasticsearch's error type and reason.
        reason: String,
    },
    /// Documents still failed for a retryable reason after every retry.
    #[error("{url}: {docs} documents not written after {attempts} attempts, last error: {reason}")]
    RetriesExhausted {
        /// The cluster (redacted).
        url: String,
        /// Documents not written.
        docs: usize,
        /// Attempts made.
        attempts: u32,
        /// Last failure.
        reason: String,
    },
    /// The dead-letter file cannot be written.
    #[error("dead-letter file {path}: {reason}")]
    DeadLetter {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The disk spool cannot be used.
    #[error("spool {path}: {reason}")]
    Spool {
        /// The file or directory.
        path: String,
        /// Why.
        reason: String,
    },
    /// The background writer has stopped.
    #[error("the Elasticsearch writer has stopped")]
    Closed,
    /// The background writer failed while sending these documents; it is restarted and a
    /// later write may succeed.
    #[error("the Elasticsearch writer failed while sending these documents (restarted)")]
    WriterFailed,
}

impl EsError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            EsError::Transport { .. }
            | EsError::RetriesExhausted { .. }
            | EsError::WriterFailed => true,
            EsError::Status { status, .. } => bulk::is_retryable_status(*status),
            _ => false,
        }
    }

    /// This error as a component error of sink `name`.
    pub fn into_component(self, name: &str) -> ComponentError {
        let message = self.to_string();
        if matches!(self, EsError::Closed) {
            ComponentError::closed(name)
        } else if self.is_retryable() {
            ComponentError::transient(name, message)
        } else {
            ComponentError::permanent(name, message)
        }
    }
}
