//! # lagwatch-test-support
//!
//! Helpers for lagwatch's own tests (not published):
//!
//! * [`conformance`] — the shared behaviour tests every source, sink and alerter runs.
//! * [`sample`] — small hand-made snapshots and events.

pub mod conformance;
pub mod sample;
pub mod services;
