//! # lagwatch-runtime
//!
//! The pipeline that joins lagwatch's components:
//!
//! ```text
//! sources ──events──▶ model (windows) ──every evaluation_interval──▶ snapshot
//!                                                                     ├──▶ sink queues ──▶ sinks
//!                                                                     ├──▶ rule engine ──▶ alert queue ──▶ alerters
//!                                                                     └──▶ latest-snapshot watch (HTTP API, tests)
//! ```
//!
//! * Sources send event batches through a bounded channel: when the model falls behind, sources
//!   wait (backpressure) — nothing they sent is dropped.
//! * Evaluation runs on its own schedule and never waits for a sink or an alerter: each sink
//!   has a small queue of snapshots; when a sink cannot keep up, its *oldest* queued snapshot
//!   is dropped and counted, so what it receives is always the newest data.
//! * Alert notifications are never dropped: they go through an outbox (kept on disk with a
//!   state directory) before any alerter sees them, are delivered in order, retried while the
//!   receiver fails transiently, and removed once accepted; see [`state_dir`].
//! * With a state directory ([`PipelineBuilder::state_dir`]) the model's windows and the rule
//!   engine's state are saved by a thread of their own and restored at the next start, so a
//!   restart neither forgets history nor repeats alerts.
//! * A sink or alerter task that ends while the pipeline runs (a panic) stops the pipeline
//!   with [`RuntimeError::ComponentStopped`] instead of leaving that component silent.
//! * Shutdown (cancelling the token, e.g. on SIGINT/SIGTERM) stops the sources, evaluates one
//!   last time, saves the state, lets every sink write what is queued and flushes it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lagwatch_runtime::{Pipeline, CancellationToken};
//! # let source: Box<dyn lagwatch_component::OffsetSource> = todo!();
//! # let sink: Box<dyn lagwatch_component::LagSink> = todo!();
//! let shutdown = CancellationToken::new();
//! let summary = Pipeline::builder()
//!     .source(source)
//!     .sink(sink)
//!     .build()
//!     .run(shutdown)
//!     .await?;
//! println!("{} evaluation cycles", summary.cycles);
//! # Ok(()) }
//! ```

/// The README's example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod alert_queue;
mod changes;
mod clock;
mod handle;
mod handover;
mod peers;
mod persister;
mod pipeline;
mod queue;
mod signal;
pub mod state_dir;
mod stats;

pub use clock::{Clock, SystemClock};
pub use handle::{AlertsView, GroupDetail, NotRunning, PipelineHandle, RECENT_ALERTS};
pub use peers::Owner;
pub use pipeline::{Pipeline, PipelineBuilder, RuntimeError};
pub use queue::DropOldestQueue;
pub use signal::cancel_on_signals;
pub use stats::{ComponentStats, RunSummary};

pub use tokio_util::sync::CancellationToken;
