//! Read one Kafka cluster and print the consumer groups that are not OK (WARN or ERR), with
//! the partition that makes each so and why.
//!
//! ```text
//! cargo run -p lagwatch-lib --example watch_cluster -- 127.0.0.1:9092 [EVALUATIONS]
//! ```
//!
//! Reads offsets through the Admin API every 5 s, evaluates every 5 s, and prints one block
//! per evaluation; stops after EVALUATIONS evaluations (default: on Ctrl-C).

use lagwatch_lib::component::{Ack, ComponentError, FromConfig, LagSink, async_trait};
use lagwatch_lib::config::KafkaSourceConfig;
use lagwatch_lib::config::kafka::KafkaMode;
use lagwatch_lib::core::explain::explain;
use lagwatch_lib::core::{GroupStatus, Snapshot};
use lagwatch_lib::runtime::{CancellationToken, Pipeline, cancel_on_signals};
use lagwatch_lib::sources::kafka::KafkaSource;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Prints the groups that need attention; cancels the pipeline after `limit` evaluations.
struct ProblemPrinter {
    seen: AtomicU64,
    limit: Option<u64>,
    shutdown: CancellationToken,
}

#[async_trait]
impl LagSink for ProblemPrinter {
    fn name(&self) -> &str {
        "problems"
    }

    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }

    async fn write(&self, snapshot: &Snapshot) -> Result<Ack, ComponentError> {
        // The pipeline evaluates once more when it stops: that one is not printed.
        let seen = self.seen.fetch_add(1, Ordering::Relaxed) + 1;
        if self.limit.is_some_and(|limit| seen > limit) {
            return Ok(Ack::default());
        }
        let problems: Vec<_> = snapshot
            .groups()
            .iter()
            .filter(|g| matches!(g.status, GroupStatus::Warn | GroupStatus::Err))
            .collect();
        println!(
            "evaluation {}: {} groups, {} not OK",
            snapshot.cycle(),
            snapshot.groups().len(),
            problems.len()
        );
        for group in &problems {
            print!(
                "  {} {} total lag {}",
                group.status.as_str(),
                group.group,
                group.totallag
            );
            if let Some(worst) = &group.maxlag {
                print!(
                    " (worst {}/{}: {} {})",
                    worst.topic,
                    worst.partition,
                    worst.status.as_str(),
                    explain(worst, snapshot.at_ms())
                );
            }
            if group.warming_up {
                // A window too young to judge: no alert rule acts on it yet.
                print!(" [warming up]");
            }
            println!();
        }
        if self.limit == Some(seen) {
            self.shutdown.cancel();
        }
        Ok(Ack {
            records: problems.len(),
        })
    }

    async fn flush(&self) -> Result<(), ComponentError> {
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let bootstrap = args
        .next()
        .ok_or("usage: watch_cluster HOST:PORT [EVALUATIONS]")?;
    let limit = match args.next() {
        Some(text) => Some(
            text.parse::<u64>()
                .map_err(|e| format!("EVALUATIONS {text:?}: {e}"))?,
        ),
        None => None,
    };

    let mut kafka = KafkaSourceConfig::new("kafka", bootstrap);
    kafka.mode = KafkaMode::Admin;
    kafka.offset_refresh = Duration::from_secs(5);
    let source = KafkaSource::from_config("kafka", &kafka)?;

    let shutdown = CancellationToken::new();
    cancel_on_signals(shutdown.clone());
    let printer = ProblemPrinter {
        seen: AtomicU64::new(0),
        limit,
        shutdown: shutdown.clone(),
    };
    let pipeline = Pipeline::builder()
        .source(Box::new(source))
        .sink(Box::new(printer))
        .evaluation_interval(Duration::from_secs(5))
        .build();
    pipeline.run(shutdown).await?;
    Ok(())
}
