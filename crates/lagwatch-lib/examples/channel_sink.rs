//! A sink of your own: every evaluation's snapshot goes into a channel your application owns,
//! instead of (or beside) stdout, files or Elasticsearch.
//!
//! ```text
//! cargo run -p lagwatch-lib --example channel_sink
//! ```
//!
//! The pipeline reads the simulated cluster of `lagwatch demo`; the application takes five
//! snapshots from the channel, prints how many groups are not OK, and stops the pipeline.

use lagwatch_lib::component::{Ack, ComponentError, FromConfig, LagSink, async_trait};
use lagwatch_lib::config::DemoSourceConfig;
use lagwatch_lib::core::{GroupStatus, Snapshot};
use lagwatch_lib::runtime::{CancellationToken, Pipeline};
use lagwatch_lib::sources::demo::DemoSource;
use std::time::Duration;
use tokio::sync::mpsc;

/// Sends every snapshot to the application. A snapshot is cheap to clone (shared, not copied).
struct ChannelSink {
    tx: mpsc::Sender<Snapshot>,
}

#[async_trait]
impl LagSink for ChannelSink {
    fn name(&self) -> &str {
        "channel"
    }

    async fn healthcheck(&self) -> Result<(), ComponentError> {
        if self.tx.is_closed() {
            return Err(ComponentError::permanent("channel", "the receiver is gone"));
        }
        Ok(())
    }

    async fn write(&self, snapshot: &Snapshot) -> Result<Ack, ComponentError> {
        // Waiting here is fine: the pipeline queues snapshots per sink and never slows down
        // evaluation for a slow sink.
        self.tx
            .send(snapshot.clone())
            .await
            .map_err(|_| ComponentError::permanent("channel", "the receiver is gone"))?;
        Ok(Ack {
            records: snapshot.groups().len(),
        })
    }

    async fn flush(&self) -> Result<(), ComponentError> {
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (tx, mut rx) = mpsc::channel(4);
    let pipeline = Pipeline::builder()
        .source(Box::new(DemoSource::from_config(
            "demo",
            &DemoSourceConfig::default(),
        )?))
        .sink(Box::new(ChannelSink { tx }))
        .evaluation_interval(Duration::from_millis(500))
        .build();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(pipeline.run(shutdown.clone()));

    for _ in 0..5 {
        let Some(snapshot) = rx.recv().await else {
            break;
        };
        let not_ok: Vec<&str> = snapshot
            .groups()
            .iter()
            .filter(|g| g.status != GroupStatus::Ok)
            .map(|g| g.group.as_str())
            .collect();
        println!(
            "evaluation {}: {} groups, not OK: {not_ok:?}",
            snapshot.cycle(),
            snapshot.groups().len()
        );
    }

    // Stop the pipeline and let it flush; then the receiver can go.
    shutdown.cancel();
    let summary = running.await??;
    drop(rx);
    println!("stopped after {} evaluations", summary.cycles);
    Ok(())
}
