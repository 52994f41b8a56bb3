//! The one way to build a component from its configuration section.

use crate::ComponentError;

/// Builds a source, sink or alerter from its configuration section.
///
/// Every component of lagwatch is built this way, from the same struct an operator writes in
/// a file (`[sinks.<name>]` → `FileSinkConfig`), so the assembly of a pipeline and a library
/// user's code look alike:
///
/// ```ignore
/// use lagwatch_component::FromConfig;
/// let sink = FileSink::from_config("archive", &FileSinkConfig::new("lag.ndjson"))?;
/// ```
///
/// Building does at most local work (checking patterns and URLs, opening a file); a component
/// talks to the network only in `healthcheck` and `run` / `write` / `send`.
pub trait FromConfig: Sized {
    /// The component's configuration section.
    type Config;

    /// Builds the component for the section `[<kind>.<name>]`; `name` is the section's
    /// `<name>` (a Kafka source without a `cluster` uses it as the cluster name; alerters and
    /// the Elasticsearch sink show it in their component name).
    ///
    /// # Errors
    /// A [`ComponentError`] (permanent) naming the component and what was wrong in `config`:
    /// an invalid pattern, URL or template, a file that cannot be opened.
    fn from_config(name: &str, config: &Self::Config) -> Result<Self, ComponentError>;
}
