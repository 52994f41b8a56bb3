//! # lagwatch-config
//!
//! One typed configuration tree for the whole collector. Sources, sinks and alerters are
//! named sections tagged with their `type`:
//!
//! ```toml
//! [sources.live]
//! type = "demo"
//!
//! [sinks.console]
//! type = "stdout"
//! ```
//!
//! Component crates take their section's struct from here, so a library user can build a
//! component from the same struct an operator writes in a file.

pub mod types;

pub use types::*;
