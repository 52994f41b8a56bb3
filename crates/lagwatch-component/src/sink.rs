use crate::ComponentError;
use async_trait::async_trait;
use lagwatch_core::Snapshot;
use std::sync::Arc;

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

#[async_trait]
impl<T: LagSink + ?Sized> LagSink for Arc<T> {
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

/// Fan-out: every sink gets every snapshot. The acknowledgement counts the records of all
/// sinks; the first error is returned after every sink was tried.
#[async_trait]
impl<S: LagSink> LagSink for Vec<S> {
    fn name(&self) -> &str {
        "fanout"
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        first_error(futures_all(self.iter().map(|s| s.healthcheck())).await).map(|_| ())
    }
    async fn write(&self, snapshot: &Snapshot) -> Result<Ack, ComponentError> {
        let results = futures_all(self.iter().map(|s| s.write(snapshot))).await;
        first_error(results).map(|acks| Ack {
            records: acks.iter().map(|a| a.records).sum(),
        })
    }
    async fn flush(&self) -> Result<(), ComponentError> {
        first_error(futures_all(self.iter().map(|s| s.flush())).await).map(|_| ())
    }
}

/// Runs the futures one after another and collects every result (sinks are few; sequential
/// keeps this crate free of extra dependencies).
pub(crate) async fn futures_all<T, F: std::future::Future<Output = T>>(
    futures: impl Iterator<Item = F>,
) -> Vec<T> {
    let mut out = Vec::new();
    for f in futures {
        out.push(f.await);
    }
    out
}

pub(crate) fn first_error<T>(
    results: Vec<Result<T, ComponentError>>,
) -> Result<Vec<T>, ComponentError> {
    let mut oks = Vec::with_capacity(results.len());
    let mut first = None;
    for r in results {
        match r {
            Ok(v) => oks.push(v),
            Err(e) => {
                if first.is_none() {
                    first = Some(e);
                }
            }
        }
    }
    match first {
        Some(e) => Err(e),
        None => Ok(oks),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(AtomicUsize, bool);

    #[async_trait]
    impl LagSink for Counting {
        fn name(&self) -> &str {
            "counting"
        }
        async fn healthcheck(&self) -> Result<(), ComponentError> {
            Ok(())
        }
        async fn write(&self, _: &Snapshot) -> Result<Ack, ComponentError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            if self.1 {
                Err(ComponentError::transient("counting", "down"))
            } else {
                Ok(Ack { records: 2 })
            }
        }
        async fn flush(&self) -> Result<(), ComponentError> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn fanout_reaches_every_sink_even_after_an_error() {
        let a = Arc::new(Counting(AtomicUsize::new(0), true));
        let b = Arc::new(Counting(AtomicUsize::new(0), false));
        let sinks: Vec<Box<dyn LagSink>> = vec![Box::new(a.clone()), Box::new(b.clone())];
        let err = sinks.write(&Snapshot::default()).await;
        assert!(err.is_err_and(|e| e.is_retryable()));
        assert_eq!(a.0.load(Ordering::SeqCst), 1);
        assert_eq!(b.0.load(Ordering::SeqCst), 1);

        let ok: Vec<Box<dyn LagSink>> = vec![Box::new(b.clone()), Box::new(b.clone())];
        assert_eq!(
            ok.write(&Snapshot::default()).await.ok(),
            Some(Ack { records: 4 })
        );
    }
}
