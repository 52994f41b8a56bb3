//! A tiny seedable pseudo-random generator (SplitMix64).
//!
//! The simulation needs randomness that is identical on every platform and every version of
//! the program for a given seed, and nothing cryptographic, so it carries its own 64-bit
//! generator instead of depending on one whose output may change between releases.

/// SplitMix64: one 64-bit word of state, one addition and a few multiply/xor-shift rounds per
/// output. Good statistical quality for a simulation and fully portable.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator started from `seed`.
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `low..=high` (returns `low` when the range is empty).
    pub(crate) fn range(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            return low;
        }
        // The span fits in u64 because both ends are i64; the modulo bias is irrelevant for a
        // simulation with spans this small.
        let span = high.abs_diff(low).saturating_add(1);
        let pick = self.next_u64() % span;
        low.saturating_add_unsigned(pick)
    }

    /// `true` with probability `percent` / 100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn different_seeds_differ() {
        let mut a = SplitMix64::new(1);
        let mut b = SplitMix64::new(2);
        assert_ne!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn range_stays_inside_bounds() {
        let mut r = SplitMix64::new(42);
        for _ in 0..1000 {
            let v = r.range(-3, 5);
            assert!((-3..=5).contains(&v));
        }
        assert_eq!(r.range(9, 9), 9);
        assert_eq!(r.range(9, 2), 9);
        let v = r.range(i64::MIN, i64::MAX);
        let _ = v;
    }
}
