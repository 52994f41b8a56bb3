//! `--burrow-config`: the seed pipeline's burrow.toml, pointed at the harness's loopback Kafka
//! 3.9 and ZooKeeper (`LAGWATCH_TEST_KAFKA_LEGACY`, `LAGWATCH_TEST_ZOOKEEPER`; fails
//! without them), validates, converts and runs with no edit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_test_support::services::env;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The seed's burrow.toml with the harness's loopback addresses.
fn seed_file(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let kafka = env::kafka_legacy().bootstrap;
    let zk = env::zookeeper();
    let text = format!(
        r#"[zookeeper]
servers=["{zk}"]
timeout=6
root-path="/burrow"

[cluster.live]
class-name="kafka"
servers=["{kafka}"]
topic-refresh=120
offset-refresh=30

[consumer.live]
class-name="kafka"
cluster="live"
servers=["{kafka}"]
group-blacklist="^(console-consumer-|quick-).*$"
group-whitelist=""

[consumer.live_zk]
class-name="kafka_zk"
cluster="live"
servers=["{zk}"]
zookeeper-timeout=30
group-blacklist="^(console-consumer-|quick-).*$"
group-whitelist=""

[httpserver.default]
address=":8000"
"#
    );
    let path = dir.path().join("burrow.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn lagwatch(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lagwatch"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_seed_burrow_toml_validates_converts_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = seed_file(&dir);
    let file = file.to_str().unwrap();

    let validated = lagwatch(&["validate", "--burrow-config", file]);
    let text = String::from_utf8_lossy(&validated.stdout);
    assert!(validated.status.success(), "{text}");
    let warned: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("warning: "))
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(
        warned,
        [
            "cluster.live.class-name",
            "cluster.live.offset-refresh",
            "cluster.live.servers",
            "cluster.live.topic-refresh",
            "consumer.live.class-name",
            "consumer.live.cluster",
            "consumer.live.group-blacklist",
            "consumer.live.group-whitelist",
            "consumer.live.servers",
            "consumer.live_zk.group-blacklist",
            "consumer.live_zk.group-whitelist",
            "httpserver.default.address",
            "zookeeper.root-path",
            "zookeeper.servers",
            "zookeeper.timeout",
        ]
    );
    assert_eq!(text.lines().last(), Some("ok"));

    let converted = lagwatch(&["config", "convert", "--burrow-config", file]);
    assert!(converted.status.success());
    let toml_text = String::from_utf8_lossy(&converted.stdout);
    let table: toml::Table = toml_text.parse().unwrap();
    let source = &table["sources"]["live_zk"];
    assert_eq!(source["type"].as_str(), Some("zookeeper"));
    assert_eq!(source["cluster"].as_str(), Some("live"));
    assert_eq!(source["servers"].as_str(), Some(env::zookeeper().as_str()));
    assert_eq!(
        source["group_denylist"].as_str(),
        Some("^(console-consumer-|quick-).*$")
    );
    assert!(toml_text.starts_with("# Imported from "), "{toml_text}");

    // `run` starts and keeps running against the harness ZooKeeper.
    let mut child = Command::new(env!("CARGO_BIN_EXE_lagwatch"))
        .args(["run", "--burrow-config", file])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let still_running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(still_running, "lagwatch run stopped early: {log}");
    assert!(log.contains("zookeeper.servers: not imported"), "{log}");
}
