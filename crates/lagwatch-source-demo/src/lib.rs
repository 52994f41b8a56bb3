//! # lagwatch-source-demo
//!
//! A simulated Kafka cluster that walks, within about fifteen seconds, through every partition
//! status Burrow's evaluator knows, so `lagwatch demo` has something to show without a real
//! cluster.
//!
//! * [`Simulation`] — the pure, seedable model: three topics with producers writing at varying
//!   rates, six consumer groups each built to show one behaviour. It never reads a clock:
//!   the caller passes the time of every step, so the same seed and the same step times give
//!   the same events.
//! * [`DemoSource`] — the simulation as an
//!   [`OffsetSource`](lagwatch_component::OffsetSource), stepped by the wall clock every
//!   `tick`.
//!
//! | group | topics | behaviour | status (default tick 500 ms, window 10 commits) |
//! |---|---|---|---|
//! | `billing-healthy` | `orders`, `payments` | keeps up | OK |
//! | `analytics-slow` | `clicks` | reads slower than production | WARN from ~5.5 s |
//! | `etl-stalled` | `payments` | commits the same offset while data arrives | STALL from ~7 s |
//! | `audit-stopped` | `payments` | stops committing after 4 s | STOP from ~9 s |
//! | `replay-rewind` | `orders` | offsets reset backwards at 9 s | REWIND ~9–13 s, then OK |
//! | `search-catchup` | `orders` | starts far behind, catches up | OK (lag 0 from ~13.5 s) |
//!
//! Every step emits, in this order: the broker offsets of every topic (high-water mark and
//! log start; `clicks` has a size-based retention that moves its log start forward), group
//! membership changes, then the commits of the step, timestamped with the step time. See
//! [`simulation`] for the full timeline.
//!
//! Burrow's single-commit quirk applies to a freshly started group: a group with one stored
//! commit and lag (here `search-catchup` between its first and second commit) is reported
//! STOP or STALL until its second commit, half a tick later.
//!
//! ## Example
//!
//! Stepping the simulation by hand, with simulated time:
//!
//! ```
//! use lagwatch_config::DemoSourceConfig;
//! use lagwatch_core::Event;
//! use lagwatch_source_demo::Simulation;
//!
//! let config = DemoSourceConfig { seed: 7, ..DemoSourceConfig::default() };
//! let mut sim = Simulation::new(&config);
//! let start = 1_700_000_000_000;
//! let mut commits = 0;
//! for step in 0..40 {
//!     for event in sim.step(start + step * 500) {
//!         if let Event::Commit { timestamp_ms, .. } = event {
//!             assert_eq!(timestamp_ms, start + step * 500);
//!             commits += 1;
//!         }
//!     }
//! }
//! assert!(commits > 0);
//!
//! // Same seed, same step times: same events.
//! let mut again = Simulation::new(&config);
//! let mut fresh = Simulation::new(&config);
//! assert_eq!(again.step(start), fresh.step(start));
//! ```
//!
//! Running it as a source (the pipeline normally does this):
//!
//! ```no_run
//! # async fn demo() -> Result<(), lagwatch_component::ComponentError> {
//! use lagwatch_component::{
//!     CancellationToken, EventSender, FromConfig, OffsetSource, SourceContext,
//! };
//! use lagwatch_config::DemoSourceConfig;
//! use lagwatch_source_demo::DemoSource;
//!
//! let source = DemoSource::from_config("live", &DemoSourceConfig::default())?;
//! let (events, mut batches) = EventSender::channel(source.name(), 64);
//! let shutdown = CancellationToken::new();
//! let ctx = SourceContext { events, shutdown: shutdown.clone() };
//! let running = tokio::spawn(async move { source.run(ctx).await });
//! if let Some(batch) = batches.recv().await {
//!     println!("{} events in the first step", batch.len());
//! }
//! shutdown.cancel();
//! running.await.ok();
//! # Ok(()) }
//! ```

/// The README's example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod rng;
pub mod simulation;
mod source;

pub use simulation::{DemoGroup, DemoTopic, GROUPS, Simulation, TOPICS};
pub use source::{DemoSource, MIN_TICK};
