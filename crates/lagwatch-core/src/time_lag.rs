//! Time lag: how many seconds behind the head of the partition a consumer is.
//!
//! (Estimation functions are being written.)

use serde::{Deserialize, Serialize};

/// How much an estimate can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// The committed offset lies between two broker samples; the time was interpolated.
    Interpolated,
    /// The committed offset is older than every broker sample; the time was extrapolated
    /// from the observed produce rate.
    Extrapolated,
    /// Not enough broker history to say.
    Unknown,
}

/// An estimate of time lag. `seconds` is always finite and never negative; it is 0 with
/// [`Confidence::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeLag {
    /// Seconds behind.
    pub seconds: f64,
    /// How the estimate was made.
    pub confidence: Confidence,
}
