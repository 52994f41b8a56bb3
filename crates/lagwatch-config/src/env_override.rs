//! An environment variable that overrides one configuration key: found by the loader,
//! quoted by validation when the value it set is wrong. Its own module, so the loader and
//! validation both use it without depending on each other both ways.

/// An environment variable that overrides one key.
#[derive(Debug, Clone)]
pub(crate) struct EnvOverride {
    /// The variable's name as given.
    pub(crate) var: String,
    /// The key path it sets, lowercased and dotted.
    pub(crate) path: String,
}
