//! [`DemoSource`]: the simulation driven by the wall clock, as an [`OffsetSource`].

use crate::simulation::Simulation;
use lagwatch_component::{ComponentError, FromConfig, OffsetSource, SourceContext, async_trait};
use lagwatch_config::DemoSourceConfig;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::MissedTickBehavior;

/// Shortest step interval the source accepts; a smaller configured `tick` is raised to this.
pub const MIN_TICK: Duration = Duration::from_millis(10);

/// An [`OffsetSource`] that runs a [`Simulation`] in real time: one step every `tick`, each
/// step's events sent as one batch, timestamps taken from the system clock.
///
/// The simulation lives as long as the source, so if the pipeline restarts `run` the cluster
/// continues where it stopped instead of starting over (which would look like a rewind of
/// every group).
#[derive(Debug)]
pub struct DemoSource {
    name: String,
    cluster: String,
    tick: Duration,
    simulation: Mutex<Simulation>,
}

impl FromConfig for DemoSource {
    type Config = DemoSourceConfig;

    /// A source simulating the cluster `config` describes; named `demo[<cluster>]`. Never
    /// fails.
    fn from_config(_name: &str, config: &DemoSourceConfig) -> Result<DemoSource, ComponentError> {
        Ok(DemoSource {
            name: format!("demo[{}]", config.cluster),
            cluster: config.cluster.clone(),
            tick: config.tick.max(MIN_TICK),
            simulation: Mutex::new(Simulation::new(config)),
        })
    }
}

impl DemoSource {
    /// Time between two steps.
    pub fn tick(&self) -> Duration {
        self.tick
    }

    fn simulation(&self) -> MutexGuard<'_, Simulation> {
        // A panic while stepping cannot leave the simulation half-updated in a way that
        // matters for a demo, so a poisoned lock is simply taken over.
        self.simulation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

use lagwatch_component::clock::wall_clock_ms;

#[async_trait]
impl OffsetSource for DemoSource {
    fn name(&self) -> &str {
        &self.name
    }

    /// Always succeeds: there is nothing to reach.
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }

    /// Steps the simulation every `tick` until `ctx.shutdown` is cancelled (then returns
    /// `Ok`), or until the pipeline stops receiving (then returns a
    /// [`Closed`](lagwatch_component::ErrorClass::Closed) error). Every step is recorded as
    /// one successful read of the cluster ([`SourceContext::record_read`]).
    async fn run(&self, ctx: SourceContext) -> Result<(), ComponentError> {
        let mut ticker = tokio::time::interval(self.tick);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tracing::debug!(source = %self.name, tick = ?self.tick, "demo source started");
        loop {
            tokio::select! {
                biased;
                () = ctx.shutdown.cancelled() => break,
                _ = ticker.tick() => {}
            }
            let started = std::time::Instant::now();
            let events = self.simulation().step(wall_clock_ms());
            // One step is one read of the simulated cluster; it cannot fail.
            ctx.record_read(&self.cluster, started.elapsed(), Ok(()));
            tokio::select! {
                biased;
                () = ctx.shutdown.cancelled() => break,
                sent = ctx.events.send_batch(events) => sent?,
            }
        }
        tracing::debug!(source = %self.name, "demo source stopped");
        Ok(())
    }
}
