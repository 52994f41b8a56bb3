use crate::ComponentError;
use crate::stats::ReadLog;
use async_trait::async_trait;
use lagwatch_core::Event;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Where a source sends its events. Sending waits when the pipeline is busy (backpressure)
/// and fails once the pipeline has shut down.
#[derive(Debug, Clone)]
pub struct EventSender {
    component: Arc<str>,
    tx: mpsc::Sender<Vec<Event>>,
    reads: ReadLog,
}

impl EventSender {
    /// Wraps the sending half of a bounded channel of event batches.
    pub fn new(component: impl Into<Arc<str>>, tx: mpsc::Sender<Vec<Event>>) -> EventSender {
        EventSender {
            component: component.into(),
            tx,
            reads: ReadLog::new(),
        }
    }

    /// The same sender, recording read outcomes ([`SourceContext::record_read`]) in `reads`
    /// (the runtime passes the log it shows in its statistics).
    pub fn with_read_log(mut self, reads: ReadLog) -> EventSender {
        self.reads = reads;
        self
    }

    /// Where read outcomes are recorded.
    pub fn read_log(&self) -> &ReadLog {
        &self.reads
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
            reads: self.reads.clone(),
        }
    }
}

impl SourceContext {
    /// Records that one read of `cluster` (a poll, or for a streaming source one round of
    /// broker offsets once it has caught up) completed after `took`, successfully or with the
    /// given reason. The pipeline's statistics, `/metrics` and `/readyz` are built from these:
    /// a source counts as ready after its first successful read, so a source should record
    /// its first success only once its view of the cluster is complete.
    pub fn record_read(&self, cluster: &str, took: Duration, outcome: Result<(), &str>) {
        self.events.reads.record(
            &self.events.component,
            cluster,
            took,
            crate::clock::wall_clock_ms(),
            outcome,
        );
    }

    /// Runs a polling source: calls `poll` right away and then every `interval`, sends each
    /// poll's events as one batch, and returns `Ok` as soon as shutdown is requested — also
    /// while a poll or a send is still waiting. Returns the error of a send that failed because
    /// the pipeline closed.
    ///
    /// A poll that takes longer than `interval` delays the next one rather than piling up.
    pub async fn poll_every<F, Fut>(
        &self,
        interval: Duration,
        mut poll: F,
    ) -> Result<(), ComponentError>
    where
        F: FnMut() -> Fut + Send,
        Fut: std::future::Future<Output = Vec<Event>> + Send,
    {
        let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(1)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = self.shutdown.cancelled() => return Ok(()),
                _ = ticker.tick() => {}
            }
            let events = tokio::select! {
                biased;
                () = self.shutdown.cancelled() => return Ok(()),
                events = poll() => events,
            };
            tokio::select! {
                biased;
                () = self.shutdown.cancelled() => return Ok(()),
                sent = self.events.send_batch(events) => sent?,
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use lagwatch_core::Event;

    fn health(n: usize) -> Event {
        Event::SourceHealth {
            cluster: format!("c{n}"),
            healthy: true,
            reason: None,
        }
    }

    #[tokio::test]
    async fn poll_every_sends_each_poll_and_stops_on_shutdown() {
        let (events, mut rx) = EventSender::channel("test", 4);
        let ctx = SourceContext {
            events,
            shutdown: CancellationToken::new(),
        };
        let mut polls = 0usize;
        let runner = {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                ctx.poll_every(Duration::from_millis(5), move || {
                    polls += 1;
                    let n = polls;
                    async move { vec![health(n)] }
                })
                .await
            })
        };
        for n in 1..=3 {
            assert_eq!(rx.recv().await, Some(vec![health(n)]));
        }
        ctx.shutdown.cancel();
        // Bounded wait for a hang, not a speed check.
        let ended = tokio::time::timeout(Duration::from_secs(10), runner).await;
        assert!(matches!(ended, Ok(Ok(Ok(())))), "{ended:?}");
    }

    #[tokio::test]
    async fn poll_every_reports_a_closed_pipeline() {
        let (events, rx) = EventSender::channel("test", 1);
        drop(rx);
        let ctx = SourceContext {
            events,
            shutdown: CancellationToken::new(),
        };
        let result = ctx
            .poll_every(Duration::from_millis(5), || async { vec![health(0)] })
            .await;
        assert!(result.is_err_and(|e| e.class == crate::ErrorClass::Closed));
    }
}
