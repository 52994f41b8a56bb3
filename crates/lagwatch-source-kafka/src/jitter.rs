//! Poll intervals with jitter, so that polls do not lock onto a consumer's commit cycle.
//!
//! A source that polls committed offsets every `offset_refresh` sees each commit only at its
//! polls. When consumers commit at a fixed interval that divides the poll interval (commits
//! every 5 s, polls every 10 s), every poll lands at the same point of the commit cycle, for
//! hours: the lag and time lag it reports are the values at that one point (just after a
//! commit, or just before the next), not a fair sample of the cycle. Drawing each interval
//! from `[0.75, 1.25] × offset_refresh` keeps the average rate and moves the polls across the
//! whole cycle within a few reads.

use std::time::Duration;

/// The spread of a jittered interval around its mean: ±25 %.
pub(crate) const SPREAD: f64 = 0.25;

/// A small pseudo-random source (SplitMix64): jitter needs no cryptographic quality, only
/// different sequences in different processes and sources.
#[derive(Debug, Clone)]
pub(crate) struct Jitter {
    state: u64,
}

impl Jitter {
    /// Seeded from `seed` (e.g. the cluster name) and the wall clock.
    pub(crate) fn new(seed: &str) -> Jitter {
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let name = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        Jitter::seeded(clock ^ name ^ u64::from(std::process::id()))
    }

    /// A fixed sequence, for tests.
    pub(crate) fn seeded(state: u64) -> Jitter {
        Jitter { state }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform draw in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `mean` scaled by a uniform factor in `[1 - SPREAD, 1 + SPREAD)`.
    pub(crate) fn around(&mut self, mean: Duration) -> Duration {
        mean.mul_f64(1.0 - SPREAD + 2.0 * SPREAD * self.unit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_stay_in_bounds_and_average_to_the_mean() {
        let mut jitter = Jitter::seeded(7);
        let mean = Duration::from_secs(10);
        let draws: Vec<f64> = (0..10_000)
            .map(|_| jitter.around(mean).as_secs_f64())
            .collect();
        assert!(
            draws.iter().all(|d| (7.5..12.5).contains(d)),
            "out of bounds"
        );
        let average = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((average - 10.0).abs() < 0.05, "average {average}");
    }

    #[test]
    fn polls_spread_over_a_commit_cycle_that_divides_the_poll_interval() {
        // Commits every 5 s, polls every 10 s on average: without jitter every poll would
        // fall at the same point of the cycle. With it, 200 polls cover every second of it.
        let mut jitter = Jitter::seeded(42);
        let mut at = 0.0;
        let mut phases = [0usize; 5];
        for _ in 0..200 {
            at += jitter.around(Duration::from_secs(10)).as_secs_f64();
            phases[(at % 5.0) as usize] += 1;
        }
        assert!(phases.iter().all(|&n| n >= 20), "{phases:?}");
    }
}
