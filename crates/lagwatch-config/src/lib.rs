//! # lagwatch-config
//!
//! One typed configuration tree for the whole collector. Sources, sinks and alerters are
//! named sections tagged with their `type`:
//!
//! ```toml
//! [general]
//! evaluation_interval = "10s"
//!
//! [sources.live]
//! type = "demo"
//!
//! [sinks.console]
//! type = "stdout"
//! ```
//!
//! Component crates take their section's struct from here, so a library user can build a
//! component from the same struct an operator writes in a file.
//!
//! * Loading: [`Config::from_file`] (TOML or YAML by extension), [`Config::from_str`],
//!   and with `LAGWATCH_<SECTION>__<KEY>` environment overrides [`Config::load`] /
//!   [`Config::load_with_env`] (the environment is a parameter, so tests stay pure).
//! * Checking: every problem is reported at once with its key path
//!   (`sinks.out.path: missing required key`), see [`ConfigError`]. [`Config::validate`]
//!   runs the semantic checks on a configuration built in code.
//! * Showing: [`Config::to_toml_redacted`] writes the effective configuration back out.
//! * [`Config::demo`] is the built-in configuration of `lagwatch demo`.
//!
//! Every key is described in `docs/configuration.md`; a test keeps that file complete.

/// The README's example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod alerting;
pub mod burrow;
#[cfg(test)]
mod doc_tests;
pub mod elasticsearch;
mod env_override;
mod error;
pub mod http;
pub mod kafka;
mod load;
pub mod otlp;
mod show;
mod tree;
pub mod types;
mod validate;
pub mod zookeeper;

pub use burrow::BurrowSourceConfig;
pub use error::{ConfigError, Error, Problem};
pub use kafka::KafkaSourceConfig;
pub use load::{ENV_PREFIX, ENV_SEPARATOR, Format, process_env};
pub use types::*;
pub use zookeeper::ZookeeperSourceConfig;
