//! The wall clock, read the same way by every component.

use lagwatch_core::TimestampMs;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch by the system clock: 0 for a clock set before 1970,
/// `i64::MAX` past the year 292 million.
pub fn wall_clock_ms() -> TimestampMs {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_wall_clock_is_after_2020() {
        assert!(super::wall_clock_ms() > 1_577_836_800_000);
    }
}
