//! `--burrow-config`: the seed pipeline's burrow.toml, pointed at the harness's loopback Kafka
//! 3.9 and ZooKeeper (`LAGWATCH_TEST_KAFKA_LEGACY`, `LAGWATCH_TEST_ZOOKEEPER`; fails
//! without them), validates, converts and runs with no edit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_test_support::services::{env, kafka, names, zookeeper};
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
            "consumer.live.group-blacklist",
            "consumer.live.group-whitelist",
            "consumer.live_zk.group-blacklist",
            "consumer.live_zk.group-whitelist",
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
    let kafka = &table["sources"]["live"];
    assert_eq!(kafka["type"].as_str(), Some("kafka"));
    assert_eq!(kafka["mode"].as_str(), Some("auto"));
    assert_eq!(
        kafka["servers"].as_str(),
        Some(env::kafka_legacy().bootstrap.as_str())
    );
    assert_eq!(kafka["topic_refresh"].as_str(), Some("2m"));

    // `run` reads both the Kafka-committed and the ZooKeeper-committed group and reports
    // their lag, with no edit of the file.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (topic, kafka_group, zk_group) = runtime.block_on(async {
        let bootstrap = env::kafka_legacy().bootstrap;
        let topic = names::unique("lw-seed");
        let kafka_group = names::unique("lw-seed-kafka");
        let zk_group = names::unique("lw-seed-zk");
        kafka::create_topic(bootstrap.as_str(), &topic, 1)
            .await
            .unwrap();
        kafka::produce(bootstrap.as_str(), &topic, Some(0), 10)
            .await
            .unwrap();
        kafka::commit_offsets(bootstrap.as_str(), &kafka_group, &[(&topic, 0, 4)])
            .await
            .unwrap();
        zookeeper::write_offset(&env::zookeeper(), &zk_group, &topic, 0, 7)
            .await
            .unwrap();
        (topic, kafka_group, zk_group)
    });
    let mut child = Command::new(env!("CARGO_BIN_EXE_lagwatch"))
        // Several collectors run at once: each takes a free port for its HTTP API.
        .env("LAGWATCH_HTTP__LISTEN", "127.0.0.1:0")
        .args(["run", "--burrow-config", file])
        .env("LAGWATCH_GENERAL__EVALUATION_INTERVAL", "1s")
        .env("LAGWATCH_GENERAL__PERSIST_STATE", "false")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Lag per group of the topic's partition, from the burrow_partition documents.
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let mut lags = std::collections::BTreeMap::new();
    while lags.len() < 2 && std::time::Instant::now() < deadline {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(1)) else {
            continue;
        };
        let Ok(doc) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if doc["measurement_name"] != "burrow_partition" || doc["tag"]["topic"] != topic.as_str() {
            continue;
        }
        let group = doc["tag"]["group"].as_str().unwrap_or("").to_owned();
        if group == kafka_group || group == zk_group {
            lags.insert(group, doc["burrow_partition"]["lag"].as_i64());
        }
    }
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    drop(reader);
    let log = String::from_utf8_lossy(&output.stderr);
    assert_eq!(lags.get(&kafka_group), Some(&Some(6)), "{lags:?}\n{log}");
    assert_eq!(lags.get(&zk_group), Some(&Some(3)), "{lags:?}\n{log}");
    assert!(log.contains("zookeeper.servers: not imported"), "{log}");
}
