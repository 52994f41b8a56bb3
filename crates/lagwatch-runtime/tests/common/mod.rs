//! Test components shared by the runtime's integration tests.

use lagwatch_component::{Ack, ComponentError, LagSink, OffsetSource, SourceContext, async_trait};
use lagwatch_core::{Event, Snapshot};

/// Sends a fixed list of event batches, records one successful read of cluster `c`, then
/// waits for cancellation.
#[allow(dead_code)] // not every test binary uses it
pub struct Scripted {
    pub batches: Vec<Vec<Event>>,
}

#[async_trait]
impl OffsetSource for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }
    async fn run(&self, ctx: SourceContext) -> Result<(), ComponentError> {
        for batch in &self.batches {
            ctx.events.send_batch(batch.clone()).await?;
        }
        ctx.record_read("c", std::time::Duration::from_millis(1), Ok(()));
        ctx.shutdown.cancelled().await;
        Ok(())
    }
}

/// Accepts every snapshot and keeps nothing.
#[allow(dead_code)] // not every test binary writes anywhere
pub struct Null;

#[async_trait]
impl LagSink for Null {
    fn name(&self) -> &str {
        "null"
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }
    async fn write(&self, s: &Snapshot) -> Result<Ack, ComponentError> {
        Ok(Ack {
            records: s.groups().len(),
        })
    }
    async fn flush(&self) -> Result<(), ComponentError> {
        Ok(())
    }
}
