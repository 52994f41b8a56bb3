//! Test components shared by the runtime's integration tests.

use lagwatch_component::{ComponentError, OffsetSource, SourceContext, async_trait};
use lagwatch_core::Event;

/// Sends a fixed list of event batches, records one successful read of cluster `c`, then
/// waits for cancellation.
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
