use lagwatch_core::TimestampMs;
use std::time::{SystemTime, UNIX_EPOCH};

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
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            // A clock set before 1970: report the epoch rather than a negative time.
            Err(_) => 0,
        }
    }
}
