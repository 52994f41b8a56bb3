//! # lagwatch-test-support
//!
//! Helpers for lagwatch's own tests (not published):
//!
//! * [`conformance`] — the shared behaviour tests every source, sink and alerter runs.
//! * [`sample`] — small hand-made snapshots and events.
//! * [`services`] — the real services of `scripts/services` (Kafka, ZooKeeper, Elasticsearch,
//!   OpenSearch, Burrow, Telegraf, Prometheus): their addresses, clients and fixtures. A test that needs a
//!   service fails, naming the `scripts/services up …` command, when it is not running.

pub mod bench;
pub mod conformance;
pub mod sample;
pub mod services;
