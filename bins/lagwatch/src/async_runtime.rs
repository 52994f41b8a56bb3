//! The Tokio runtime every command that talks to the network runs on.

use anyhow::Context;

/// A multi-threaded runtime with I/O and timers, its threads named `lagwatch`.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("lagwatch")
        .build()
        .context("cannot start the async runtime")
}
