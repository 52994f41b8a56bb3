use lagwatch_core::TimestampMs;

/// Where the pipeline reads "now" from. Injectable so tests and simulations can control time.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> TimestampMs;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> TimestampMs {
        lagwatch_component::clock::wall_clock_ms()
    }
}
