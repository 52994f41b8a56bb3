//! # lagwatch-import
//!
//! Turns the configuration of the programs lagwatch replaces into a lagwatch
//! [`Config`]:
//!
//! * [`burrow`]: a Burrow file (`burrow.toml`) → sources, `[model]` and `[evaluator]`;
//! * [`telegraf`]: a Telegraf file (`telegraf.conf`) with `[[inputs.burrow]]` and
//!   `[[outputs.elasticsearch]]` → `burrow` sources and `elasticsearch` sinks, or both files
//!   together.
//!
//! Every key without an effect in lagwatch is returned as a warning naming its path, never
//! dropped silently; a wrong value is an error naming its key. The result has been validated.
//!
//! The functions are also reachable as associated functions of [`Config`] through the
//! [`ConfigImport`] trait:
//!
//! ```
//! use lagwatch_config::Config;
//! use lagwatch_import::ConfigImport;
//!
//! let import = Config::from_burrow_toml(
//!     "[cluster.local]\nclass-name = \"kafka\"\nservers = [\"127.0.0.1:9092\"]\n",
//! )?;
//! assert!(import.config.sources.contains_key("local"));
//! # Ok::<(), lagwatch_import::BurrowImportError>(())
//! ```
//!
//! Only the `lagwatch` binary and `lagwatch-lib` depend on this crate.

/// The README's example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod burrow;
pub mod telegraf;
mod value;
mod warnings;

pub use burrow::{BurrowImport, BurrowImportError};
pub use lagwatch_config::Config;
pub use telegraf::{CombinedImport, TelegrafImport, TelegrafImportError};

use std::path::Path;

/// The importers as associated functions of [`Config`] (`Config::from_burrow_toml(..)`);
/// each calls the function of the same name in [`burrow`] or [`telegraf`].
pub trait ConfigImport: Sized {
    /// See [`burrow::from_burrow_file`].
    ///
    /// # Errors
    /// [`BurrowImportError`] when the file cannot be read or imported.
    fn from_burrow_file(path: impl AsRef<Path>) -> Result<BurrowImport, BurrowImportError>;

    /// See [`burrow::from_burrow_toml`].
    ///
    /// # Errors
    /// [`BurrowImportError`] when the text cannot be imported.
    fn from_burrow_toml(text: &str) -> Result<BurrowImport, BurrowImportError>;

    /// See [`telegraf::from_telegraf_file`].
    ///
    /// # Errors
    /// [`TelegrafImportError`] when the file cannot be read or imported.
    fn from_telegraf_file(path: impl AsRef<Path>) -> Result<TelegrafImport, TelegrafImportError>;

    /// See [`telegraf::from_telegraf_toml`].
    ///
    /// # Errors
    /// [`TelegrafImportError`] when the text cannot be imported.
    fn from_telegraf_toml(text: &str) -> Result<TelegrafImport, TelegrafImportError>;

    /// See [`telegraf::from_telegraf_toml_with_env`].
    ///
    /// # Errors
    /// [`TelegrafImportError`] when the text cannot be imported.
    fn from_telegraf_toml_with_env(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<TelegrafImport, TelegrafImportError>;

    /// See [`telegraf::from_burrow_and_telegraf_files`].
    ///
    /// # Errors
    /// [`TelegrafImportError`] when a file cannot be read or imported.
    fn from_burrow_and_telegraf_files(
        burrow: impl AsRef<Path>,
        telegraf: impl AsRef<Path>,
    ) -> Result<CombinedImport, TelegrafImportError>;

    /// See [`telegraf::from_burrow_and_telegraf_toml`].
    ///
    /// # Errors
    /// [`TelegrafImportError`] when either text cannot be imported.
    fn from_burrow_and_telegraf_toml(
        burrow: &str,
        telegraf: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<CombinedImport, TelegrafImportError>;
}

impl ConfigImport for Config {
    fn from_burrow_file(path: impl AsRef<Path>) -> Result<BurrowImport, BurrowImportError> {
        burrow::from_burrow_file(path)
    }

    fn from_burrow_toml(text: &str) -> Result<BurrowImport, BurrowImportError> {
        burrow::from_burrow_toml(text)
    }

    fn from_telegraf_file(path: impl AsRef<Path>) -> Result<TelegrafImport, TelegrafImportError> {
        telegraf::from_telegraf_file(path)
    }

    fn from_telegraf_toml(text: &str) -> Result<TelegrafImport, TelegrafImportError> {
        telegraf::from_telegraf_toml(text)
    }

    fn from_telegraf_toml_with_env(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<TelegrafImport, TelegrafImportError> {
        telegraf::from_telegraf_toml_with_env(text, env)
    }

    fn from_burrow_and_telegraf_files(
        burrow: impl AsRef<Path>,
        telegraf: impl AsRef<Path>,
    ) -> Result<CombinedImport, TelegrafImportError> {
        telegraf::from_burrow_and_telegraf_files(burrow, telegraf)
    }

    fn from_burrow_and_telegraf_toml(
        burrow: &str,
        telegraf: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<CombinedImport, TelegrafImportError> {
        telegraf::from_burrow_and_telegraf_toml(burrow, telegraf, env)
    }
}
