//! Cross-crate integration tests live beside this file; see each `[[test]]` in Cargo.toml.
