//! # lagwatch-source-burrow
//!
//! An [`OffsetSource`](lagwatch_component::OffsetSource) that reads one or more existing
//! Burrow servers through their v3 HTTP API, so lagwatch can take Telegraf's place in front of
//! a Burrow that stays in service.
//!
//! Each poll follows Telegraf's `inputs.burrow` request sequence: per server `GET <prefix>`
//! (clusters); per cluster passing the cluster globs `GET <prefix>/<c>/topic` and
//! `GET <prefix>/<c>/topic/<t>` (broker offsets), then `GET <prefix>/<c>/consumer` and
//! `GET <prefix>/<c>/consumer/<g>/lag` (Burrow's evaluation). Per-topic and per-group requests
//! of one server share `concurrent_connections` slots.
//!
//! What a poll emits, per cluster, in this order:
//!
//! * [`Event::BrokerOffsets`](lagwatch_core::Event::BrokerOffsets) for every topic passing the
//!   topic globs;
//! * per group passing the group globs: [`Event::Commit`](lagwatch_core::Event::Commit) from
//!   each partition's newest commit (`end`) — only when it differs from the one sent before,
//!   so a commit is not stored again at every poll —, [`Event::Members`](lagwatch_core::Event::Members)
//!   when the owners changed, and [`Event::GroupVerdict`](lagwatch_core::Event::GroupVerdict)
//!   carrying Burrow's `/lag` answer unchanged, which the model reports instead of its own
//!   evaluation;
//! * [`Event::GroupDeleted`](lagwatch_core::Event::GroupDeleted) for a group Burrow no longer
//!   lists or answers NOTFOUND for, [`Event::TopicDeleted`](lagwatch_core::Event::TopicDeleted)
//!   for a topic it no longer lists; both for every group and topic of a cluster the server
//!   no longer lists (unless another configured server still lists a cluster of that name),
//!   after which the cluster is forgotten.
//!
//! Failures stay local, as in Telegraf: a failed `/lag` request skips that group (its last
//! verdict stays), a failed topic or group list skips that part of the cluster, and a server
//! whose cluster list fails is reported with
//! [`Event::SourceHealth`](lagwatch_core::Event::SourceHealth) (`healthy: false`) for every
//! cluster it served, until it answers again.

/// The README's example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod api;
pub mod glob;
mod source;

pub use glob::{Glob, GlobFilter};
pub use source::BurrowSource;

/// What can go wrong building or running the Burrow source. URLs are shown redacted (scheme
/// and host only).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BurrowError {
    /// An include or exclude glob does not parse.
    #[error("glob {pattern:?} {reason}")]
    Glob {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A server URL is not an http(s) URL with a host.
    #[error("server URL {url} is not an http:// or https:// URL with a host")]
    BadUrl {
        /// The URL, redacted.
        url: String,
    },
    /// An `https` server or `tls_ca` in a build without TLS support.
    #[error(
        "{what} needs TLS, which this build lacks (cargo feature \"tls\" of lagwatch-source-burrow)"
    )]
    NoTls {
        /// What asked for TLS.
        what: String,
    },
    /// The CA file cannot be read or parsed.
    #[error("cannot use CA file {path}: {reason}")]
    Ca {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The HTTP client cannot be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// A request failed: no answer, a timeout, or an unexpected HTTP status.
    #[error("GET {url}: {reason}")]
    Request {
        /// The URL, redacted.
        url: String,
        /// Why.
        reason: String,
    },
    /// The answer is not the JSON Burrow sends.
    #[error("GET {url}: unexpected answer: {reason}")]
    Decode {
        /// The URL, redacted.
        url: String,
        /// Why.
        reason: String,
    },
}
