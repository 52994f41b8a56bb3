//! Conformance tests shared by every component implementation.

pub mod alerter;
pub mod sink;
pub mod source;
