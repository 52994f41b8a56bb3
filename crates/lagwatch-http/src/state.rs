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
    /// Sends questions about groups and topics another instance owns to that instance.
    pub peer_client: reqwest::Client,
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

impl AppState {
    /// When `cluster` is shared with other instances (`coordination_group`) and `name`, a
    /// group or a topic, belongs to an offsets-topic partition this instance does not own:
    /// a sentence saying so, for a 404 that would otherwise only say "unknown".
    pub(crate) fn owned_elsewhere(&self, cluster: &str, name: &str) -> Option<String> {
        let stats = self.handle.stats();
        let row = stats.ownership.iter().find(|r| r.cluster == cluster)?;
        if row.partition_count == 0 {
            return None;
        }
        let partition = lagwatch_core::sharding::offsets_partition(name, row.partition_count);
        if row.offsets_partitions.contains(&partition) {
            return None;
        }
        Some(format!(
            "{name:?} belongs to offsets-topic partition {partition} of cluster {cluster:?}, \
             which another lagwatch instance sharing the cluster owns (this one owns \
             partitions {:?} of {}): ask that instance",
            row.offsets_partitions, row.partition_count
        ))
    }
}
