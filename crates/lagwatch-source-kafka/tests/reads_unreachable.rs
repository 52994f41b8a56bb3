//! Hermetic: a Kafka cluster that cannot be reached (a closed loopback port) is recorded as
//! failed reads of the cluster, with the reason that is logged, in admin and in auto mode;
//! never as a success (so the pipeline does not call itself ready).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_component::FromConfig;
use lagwatch_config::KafkaSourceConfig;
use lagwatch_config::kafka::KafkaMode;
use lagwatch_source_kafka::KafkaSource;
use lagwatch_test_support::conformance::source::run_until_reads;
use lagwatch_test_support::services::net;
use std::time::Duration;

async fn failed_reads(mode: KafkaMode) {
    let port = net::free_port().unwrap();
    let mut config = KafkaSourceConfig::new("live", format!("127.0.0.1:{port}"));
    config.mode = mode;
    config.offset_refresh = Duration::from_millis(100);
    config.request_timeout = Duration::from_secs(1);
    let source = KafkaSource::from_config("live", &config).unwrap();
    let rows = run_until_reads(
        &source,
        |rows| rows.first().is_some_and(|r| r.reads.failures >= 2),
        Duration::from_secs(60),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].cluster, "live");
    assert_eq!(rows[0].reads.last_success_ms, None, "{rows:?}");
    assert_eq!(rows[0].reads.reads, rows[0].reads.failures, "{rows:?}");
    let reason = rows[0].reads.last_error.clone().unwrap_or_default();
    assert!(reason.starts_with("kafka cluster \"live\""), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_mode_counts_failed_reads_of_an_unreachable_cluster() {
    failed_reads(KafkaMode::Admin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_mode_counts_failed_reads_of_an_unreachable_cluster() {
    failed_reads(KafkaMode::Auto).await;
}
