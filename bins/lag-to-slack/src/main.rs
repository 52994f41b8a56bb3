//! `lag-to-slack`: lagwatch's crates wired by hand, without the collector's configuration
//! system — one Kafka cluster, the seed's lag rule, one Slack webhook.
//!
//! ```text
//! SLACK_WEBHOOK_URL=https://hooks.slack.com/services/... lag-to-slack 127.0.0.1:9092 [THRESHOLD [GROUPS]]
//! ```
//!
//! Posts to Slack when a partition's average lag over the last minute stays above THRESHOLD
//! (default 10) in a group matching the regular expression GROUPS (default: every group),
//! decided every minute (`LAG_TO_SLACK_INTERVAL`, e.g. `5s`, changes both the
//! window and the decision interval), and again when it is resolved.

use anyhow::Context as _;
use lagwatch_alert::{RuleSet, SlackAlerter};
use lagwatch_component::FromConfig;
use lagwatch_config::kafka::KafkaMode;
use lagwatch_config::{KafkaSourceConfig, RuleConfig, SlackAlerterConfig, ThresholdRuleConfig};
use lagwatch_runtime::{CancellationToken, Pipeline, cancel_on_signals};
use lagwatch_source_kafka::KafkaSource;
use std::collections::BTreeMap;
use std::time::Duration;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
    let mut args = std::env::args().skip(1);
    let bootstrap = args
        .next()
        .context("usage: lag-to-slack HOST:PORT [THRESHOLD]")?;
    let threshold: f64 = match args.next() {
        Some(text) => text
            .parse()
            .with_context(|| format!("THRESHOLD {text:?} is not a number"))?,
        None => 10.0,
    };
    let groups = args.next().unwrap_or_default();
    let webhook = std::env::var("SLACK_WEBHOOK_URL").context("set SLACK_WEBHOOK_URL")?;
    let every = match std::env::var("LAG_TO_SLACK_INTERVAL") {
        Ok(text) => lagwatch_core::duration::parse(&text)
            .map_err(|e| anyhow::anyhow!("LAG_TO_SLACK_INTERVAL: {e}"))?,
        Err(_) => Duration::from_secs(60),
    };

    // 1. Where offsets come from: the Kafka cluster, read through the Admin API.
    let mut kafka = KafkaSourceConfig::new("kafka", bootstrap);
    kafka.mode = KafkaMode::Admin;
    kafka.offset_refresh = every.min(Duration::from_secs(10));
    kafka.group_allowlist = groups;
    let source = KafkaSource::from_config("kafka", &kafka)?;

    // 2. When to alert: average partition lag over the window above the threshold.
    let rule = RuleConfig::Threshold(ThresholdRuleConfig {
        value: threshold,
        window: every,
        interval: every,
        ..ThresholdRuleConfig::default()
    });
    let rules = RuleSet::from_config(&BTreeMap::from([("lag".to_owned(), rule)]))?;

    // 3. Where alerts go.
    let slack = SlackAlerter::from_config("slack", &SlackAlerterConfig::new(webhook))?;

    // 4. The pipeline: evaluate every second, stop on Ctrl-C or SIGTERM.
    let pipeline = Pipeline::builder()
        .evaluation_interval(Duration::from_secs(1))
        .source(Box::new(source))
        .rules(Box::new(rules))
        .alerter(Box::new(slack))
        .build();
    let shutdown = CancellationToken::new();
    cancel_on_signals(shutdown.clone());
    let summary = pipeline.run(shutdown).await?;
    eprintln!("stopped after {} evaluations", summary.cycles);
    Ok(())
}
