//! Hermetic: a ZooKeeper that cannot be reached (a closed loopback port) is recorded as a
//! failed read of the cluster, with the reason that is logged, and never as a success.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_component::FromConfig;
use lagwatch_config::ZookeeperSourceConfig;
use lagwatch_source_zookeeper::ZookeeperSource;
use lagwatch_test_support::conformance::source::run_until_reads;
use lagwatch_test_support::services::net;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_zookeeper_counts_failed_reads() {
    let port = net::free_port().unwrap();
    let mut config = ZookeeperSourceConfig::new("old");
    config.servers = format!("127.0.0.1:{port}");
    config.refresh = Duration::from_millis(20);
    config.session_timeout = Duration::from_millis(500);
    let source = ZookeeperSource::from_config("zookeeper", &config).unwrap();
    let rows = run_until_reads(
        &source,
        |rows| rows.first().is_some_and(|r| r.reads.failures >= 2),
        Duration::from_secs(30),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].cluster, "old");
    assert_eq!(rows[0].reads.last_success_ms, None);
    let reason = rows[0].reads.last_error.clone().unwrap_or_default();
    assert!(reason.contains(&format!("127.0.0.1:{port}")), "{reason}");
}
