//! Conformance tests shared by every component implementation.

pub mod alerter;
pub mod handover;
pub mod sink;
pub mod source;
