//! The shared source conformance checks, and reading below a root path (chroot), against
//! the harness's ZooKeeper (`LAGWATCH_TEST_ZOOKEEPER`; fails without it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_component::FromConfig;
use lagwatch_config::ZookeeperSourceConfig;
use lagwatch_core::{Event, MemberAssignment};
use lagwatch_source_zookeeper::ZookeeperSource;
use lagwatch_test_support::conformance::source::{check_source, run_until_reads};
use lagwatch_test_support::services::{env, names, zookeeper};
use std::time::Duration;

fn config(root_path: &str) -> ZookeeperSourceConfig {
    let mut config = ZookeeperSourceConfig::new("live");
    config.servers = env::zookeeper();
    config.root_path = root_path.to_owned();
    config.refresh = Duration::from_millis(200);
    config.session_timeout = Duration::from_secs(10);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_source_conformance_checks() {
    let root = format!("/{}", names::unique("lw-zk-conformance"));
    let source = ZookeeperSource::from_config("zookeeper", &config(&root)).unwrap();
    let events = check_source(&source, 1, Duration::from_secs(10))
        .await
        .unwrap_or_else(|e| panic!("zookeeper source conformance: {e}"));
    assert!(!events.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_of_the_tree_is_recorded_for_the_cluster() {
    let root = format!("/{}", names::unique("lw-zk-reads"));
    zookeeper::write(
        &env::zookeeper(),
        &format!("{root}/consumers/g/offsets/t/0"),
        b"7",
    )
    .await
    .unwrap();
    let source = ZookeeperSource::from_config("zookeeper", &config(&root)).unwrap();
    let rows = run_until_reads(
        &source,
        |rows| rows.first().is_some_and(|r| r.reads.reads >= 2),
        Duration::from_secs(30),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].cluster, "live");
    assert_eq!(rows[0].reads.failures, 0, "{rows:?}");
    assert!(rows[0].reads.last_success_ms.is_some(), "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_below_the_root_path() {
    let zk = env::zookeeper();
    let root = format!("/{}", names::unique("lw-zk-chroot"));
    zookeeper::write(&zk, &format!("{root}/consumers/g/offsets/t/3"), b"42")
        .await
        .unwrap();
    zookeeper::write(
        &zk,
        &format!("{root}/consumers/g/owners/t/3"),
        b"g_host-1-0",
    )
    .await
    .unwrap();
    let source = ZookeeperSource::from_config("zookeeper", &config(&root)).unwrap();
    let events = source.poll().await;
    let members: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e, Event::Members { .. }))
        .collect();
    assert_eq!(
        members,
        [&Event::Members {
            cluster: "live".into(),
            group: "g".into(),
            assignments: vec![MemberAssignment {
                topic: "t".into(),
                partition: 3,
                owner: "g_host-1-0".into(),
                client_id: String::new(),
            }],
        }]
    );
    let commits: Vec<(String, String, i32, i64)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Commit {
                group,
                topic,
                partition,
                offset,
                ..
            } => Some((group.clone(), topic.clone(), *partition, *offset)),
            _ => None,
        })
        .collect();
    assert_eq!(commits, vec![("g".into(), "t".into(), 3, 42)]);
    zookeeper::delete_recursive(&zk, &root).await.unwrap();
}
