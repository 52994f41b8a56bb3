//! Share groups (KIP-932) through the binary, against the harness Kafka 4.4: Kafka's console
//! share consumer consumes part of a topic, then `lagwatch check` and the records `lagwatch
//! run` writes (file sink, the documents Elasticsearch gets too) show start offset and lag per
//! partition exactly as `kafka-share-groups --describe` does, marked `group_type = share`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod collector;

use lagwatch_test_support::services::{env, kafka, names, tools};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// `(topic, partition) → (start offset, lag)` from `kafka-share-groups --describe`, started
/// partitions only.
async fn tool_view(group: &str) -> BTreeMap<(String, i64), (i64, i64)> {
    tools::share_groups_describe(&env::kafka_tools(), &env::kafka().bootstrap, group)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|r| Some(((r.topic, i64::from(r.partition)), (r.start_offset?, r.lag?))))
        .collect()
}

async fn share_group_with_lag() -> (String, String) {
    let bootstrap = env::kafka().bootstrap;
    let topic = names::unique("lw-bin-share");
    let group = names::unique("lw-bin-share-group");
    kafka::create_topic(bootstrap.as_str(), &topic, 2)
        .await
        .unwrap();
    kafka::produce(bootstrap.as_str(), &topic, Some(0), 120)
        .await
        .unwrap();
    kafka::produce(bootstrap.as_str(), &topic, Some(1), 30)
        .await
        .unwrap();
    tools::share_consume(&env::kafka_tools(), &bootstrap, &topic, &group, 40)
        .await
        .unwrap();
    (topic, group)
}

#[tokio::test(flavor = "multi_thread")]
async fn check_shows_share_groups_as_the_share_groups_tool_does() {
    let (_topic, group) = share_group_with_lag().await;
    let expected = tool_view(&group).await;
    assert!(!expected.is_empty());

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_lagwatch"))
        .args(["check", "--bootstrap", &env::kafka().bootstrap])
        .args(["--group", &format!("^{group}$"), "--output", "json"])
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let mut seen = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        assert_eq!(row["group_type"], "share", "{row}");
        assert_eq!(row["committed_offset"], Value::Null, "{row}");
        seen.insert(
            (
                row["topic"].as_str().unwrap().to_owned(),
                row["partition"].as_i64().unwrap(),
            ),
            (
                row["start_offset"].as_i64().unwrap(),
                row["lag"].as_i64().unwrap(),
            ),
        );
    }
    assert_eq!(seen, expected);

    // The table marks the group's type.
    let table = tokio::process::Command::new(env!("CARGO_BIN_EXE_lagwatch"))
        .args(["check", "--bootstrap", &env::kafka().bootstrap])
        .args(["--group", &format!("^{group}$")])
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.lines().next().unwrap().ends_with("TYPE"), "{text}");
    assert!(text.lines().skip(1).all(|l| l.ends_with("share")), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn run_writes_share_group_records_with_the_tools_lag() {
    let (topic, group) = share_group_with_lag().await;
    let expected = tool_view(&group).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lag.ndjson");
    let state = dir.path().join("state");
    let config = format!(
        r#"[general]
evaluation_interval = "1s"
state_dir = {state:?}

[sources.live]
type = "kafka"
servers = "{bootstrap}"
mode = "admin"
offset_refresh = "1s"
group_allowlist = "^{group}$"
topic_allowlist = "^{topic}$"

[sinks.file]
type = "file"
path = {file:?}
rotate_bytes = 0
rotate_daily = false
"#,
        state = state.display().to_string(),
        bootstrap = env::kafka().bootstrap,
        file = file.display().to_string(),
    );
    let _run = collector::Collector::start(&config, &[]);

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let mut seen = BTreeMap::new();
        let mut group_record = None;
        for line in text.lines() {
            let Ok(record) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let tags = &record["tag"];
            if tags["group"] != group.as_str() {
                continue;
            }
            assert_eq!(tags["group_type"], "share", "{record}");
            match record["measurement_name"].as_str() {
                Some("burrow_partition") => {
                    let fields = &record["burrow_partition"];
                    seen.insert(
                        (
                            tags["topic"].as_str().unwrap().to_owned(),
                            tags["partition"].as_str().unwrap().parse::<i64>().unwrap(),
                        ),
                        (
                            fields["offset"].as_i64().unwrap(),
                            fields["lag"].as_i64().unwrap(),
                        ),
                    );
                }
                Some("burrow_group") => group_record = Some(record["burrow_group"].clone()),
                _ => {}
            }
        }
        if seen == expected {
            let total: i64 = expected.values().map(|(_, lag)| lag).sum();
            assert_eq!(group_record.unwrap()["total_lag"], total);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no records equal to {expected:?} in {}: last seen {seen:?}",
            file.display()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
