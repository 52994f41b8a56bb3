//! Access to the real services lagwatch's tests run against.
//!
//! `scripts/services` starts every service on loopback and `scripts/services env` prints the
//! `LAGWATCH_TEST_*` variables that [`env`](mod@env) reads. A test that needs a service calls the
//! matching [`env`](mod@env) function first: when the variable is missing the test **fails** (it never
//! skips) and the message says how to start the service.
//!
//! | module | what it does |
//! |---|---|
//! | [`env`](mod@env) | addresses and paths of the services, from `LAGWATCH_TEST_*` |
//! | [`names`] | unique, valid topic and group names per test |
//! | [`kafka`] | topics, producing, committing offsets, running consumers (librdkafka) |
//! | [`tools`] | Kafka's own Java command-line tools (`kafka-consumer-groups --describe`) |
//! | [`zookeeper`] | old-style consumer offsets under `/consumers` |
//! | [`burrow`] | Burrow's `/v3/kafka/...` HTTP API |
//! | [`es`] | Elasticsearch / OpenSearch: index, refresh, search, count, delete |
//! | [`http`] | a local HTTP receiver that records requests, for alerter tests |
//! | [`steady`] | a producer at a fixed rate and an assign-only group committing at a chosen lag |
//! | [`wait`] | bounded polling |
//! | [`net`] | free loopback ports, waiting for a listener |
//! | [`telegraf`] | the harness's Telegraf: `--once` gathers and long-running agents, parsed output |
//! | [`prometheus`] | a real Prometheus server scraping given targets, PromQL queries |
//! | [`shape`] | key-by-key, type-by-type comparison of two JSON documents |
//! | [`browser`] | headless Chromium over WebDriver: pages, elements, scripts, screenshots |
//!
//! Every helper that does I/O is bounded in time: it returns an error (or the test panics with
//! a clear message) instead of hanging.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use lagwatch_test_support::services::{env, kafka, names};
//!
//! let broker = env::kafka();
//! let topic = names::topic("demo");
//! kafka::create_topic(&broker, &topic, 3).await?;
//! kafka::produce_spread(&broker, &topic, 10).await?;
//! let group = names::group("demo");
//! kafka::commit_offsets(&broker, &group, &[(topic.as_str(), 0, 4)]).await?;
//! # Ok(()) }
//! ```

pub mod browser;
pub mod burrow;
pub mod env;
pub mod es;
pub mod http;
pub mod kafka;
pub mod names;
pub mod net;
pub mod prometheus;
pub mod shape;
pub mod steady;
pub mod telegraf;
pub mod tools;
pub mod wait;
pub mod zookeeper;

pub use anyhow::{Error, Result};
