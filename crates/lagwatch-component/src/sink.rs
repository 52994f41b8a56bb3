use crate::ComponentError;
use async_trait::async_trait;
use lagwatch_core::Snapshot;

/// What a sink durably accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ack {
    /// Number of records (documents, lines, rows) accepted from the snapshot.
    pub records: usize,
}

/// Receives evaluation results.
///
/// [`write`](LagSink::write) returns `Ok` only once the snapshot's records are durably
/// accepted: written (and synced, per the sink's policy) to a file, indexed or spooled to
/// disk by a remote sink, printed by a console sink. A sink must not lose records it has
/// acknowledged, and should return quickly: the runtime queues snapshots for each sink and
/// drops (and counts) snapshots a sink cannot keep up with, rather than slowing evaluation.
#[async_trait]
pub trait LagSink: Send + Sync {
    /// A short name for logs and metrics, e.g. `file` or `elasticsearch`.
    fn name(&self) -> &str;

    /// Checks that the sink can reach its destination.
    async fn healthcheck(&self) -> Result<(), ComponentError>;

    /// Writes one snapshot.
    async fn write(&self, snapshot: &Snapshot) -> Result<Ack, ComponentError>;

    /// Makes everything acknowledged so far durable and releases buffers; called at shutdown.
    async fn flush(&self) -> Result<(), ComponentError>;
}

#[async_trait]
impl<T: LagSink + ?Sized> LagSink for Box<T> {
    fn name(&self) -> &str {
        (**self).name()
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        (**self).healthcheck().await
    }
    async fn write(&self, snapshot: &Snapshot) -> Result<Ack, ComponentError> {
        (**self).write(snapshot).await
    }
    async fn flush(&self) -> Result<(), ComponentError> {
        (**self).flush().await
    }
}
