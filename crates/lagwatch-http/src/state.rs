//! What every handler shares.

use crate::history::History;
use crate::settings::HttpSettings;
use lagwatch_runtime::PipelineHandle;
use std::sync::Arc;

/// Reads and changes the process's log level for Burrow's `/v3/admin/loglevel` (the binary
/// that installs the log subscriber provides it).
pub trait LogLevelControl: Send + Sync {
    /// The current level as text (`info`, `debug`, ...).
    fn current(&self) -> String;
    /// Sets the level; `level` is one of `trace`, `debug`, `info`, `warn`, `error`.
    fn set(&self, level: &str) -> Result<(), String>;
}

/// The state behind every route.
#[derive(Clone)]
pub struct AppState {
    /// The running pipeline.
    pub handle: PipelineHandle,
    /// Server settings.
    pub settings: Arc<HttpSettings>,
    /// Recent lag per group.
    pub history: Arc<History>,
    /// Log level control, when the process offers one.
    pub log_level: Option<Arc<dyn LogLevelControl>>,
    /// Renders `/metrics` (the metrics crate's encoder), when configured.
    pub metrics: Option<Arc<dyn MetricsRenderer>>,
}

/// Renders the metrics exposition for a scrape.
pub trait MetricsRenderer: Send + Sync {
    /// Writes the exposition of `snapshot` and the pipeline's figures into `out` in the
    /// format chosen from the `Accept` header; returns the response's content type.
    fn render(
        &self,
        snapshot: &lagwatch_core::Snapshot,
        stats: &lagwatch_component::RuntimeStats,
        accept: Option<&str>,
        out: &mut String,
    ) -> &'static str;
}
