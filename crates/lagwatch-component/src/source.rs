use crate::ComponentError;
use async_trait::async_trait;
use lagwatch_core::Event;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Where a source sends its events. Sending waits when the pipeline is busy (backpressure)
/// and fails once the pipeline has shut down.
#[derive(Debug, Clone)]
pub struct EventSender {
    component: Arc<str>,
    tx: mpsc::Sender<Vec<Event>>,
}

impl EventSender {
    /// Wraps the sending half of a bounded channel of event batches.
    pub fn new(component: impl Into<Arc<str>>, tx: mpsc::Sender<Vec<Event>>) -> EventSender {
        EventSender {
            component: component.into(),
            tx,
        }
    }

    /// A sender and the receiver it feeds, with room for `capacity` batches.
    pub fn channel(
        component: impl Into<Arc<str>>,
        capacity: usize,
    ) -> (EventSender, mpsc::Receiver<Vec<Event>>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (EventSender::new(component, tx), rx)
    }

    /// Sends one event.
    pub async fn send(&self, event: Event) -> Result<(), ComponentError> {
        self.send_batch(vec![event]).await
    }

    /// Sends several events that belong together (e.g. one poll of a cluster), in order.
    pub async fn send_batch(&self, events: Vec<Event>) -> Result<(), ComponentError> {
        if events.is_empty() {
            return Ok(());
        }
        self.tx
            .send(events)
            .await
            .map_err(|_| ComponentError::closed(self.component.as_ref()))
    }

    /// A copy of this sender that reports errors under another component name.
    pub fn named(&self, component: impl Into<Arc<str>>) -> EventSender {
        EventSender {
            component: component.into(),
            tx: self.tx.clone(),
        }
    }
}

/// What a running source receives.
#[derive(Debug, Clone)]
pub struct SourceContext {
    /// Where to send events.
    pub events: EventSender,
    /// Cancelled when the pipeline shuts down; [`OffsetSource::run`] must return soon after.
    pub shutdown: CancellationToken,
}

/// Reads offsets from somewhere and reports them as [`Event`]s.
///
/// `run` keeps going until `ctx.shutdown` is cancelled, reconnecting on its own after
/// transient failures (and reporting them with [`Event::SourceHealth`]); it returns an error
/// only for failures retrying cannot fix.
#[async_trait]
pub trait OffsetSource: Send + Sync {
    /// A short name for logs and metrics, e.g. `kafka[live]` or `demo`.
    fn name(&self) -> &str;

    /// Checks that the source can reach what it reads, without emitting events.
    async fn healthcheck(&self) -> Result<(), ComponentError>;

    /// Emits events until cancelled.
    async fn run(&self, ctx: SourceContext) -> Result<(), ComponentError>;
}

#[async_trait]
impl<T: OffsetSource + ?Sized> OffsetSource for Box<T> {
    fn name(&self) -> &str {
        (**self).name()
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        (**self).healthcheck().await
    }
    async fn run(&self, ctx: SourceContext) -> Result<(), ComponentError> {
        (**self).run(ctx).await
    }
}

#[async_trait]
impl<T: OffsetSource + ?Sized> OffsetSource for Arc<T> {
    fn name(&self) -> &str {
        (**self).name()
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        (**self).healthcheck().await
    }
    async fn run(&self, ctx: SourceContext) -> Result<(), ComponentError> {
        (**self).run(ctx).await
    }
}
