//! `lagwatch check` against the harness Kafka 4.4: JSON rows, Burrow status with several
//! samples, and the exit codes (the failures that need no broker are in `check_errors`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_test_support::services::kafka::{self, Protocol, RunningConsumer};
use lagwatch_test_support::services::{env, names};
use serde_json::Value;
use std::process::Output;
use std::time::Duration;

async fn check(args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_lagwatch"));
    cmd.arg("check").args(args).kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("lagwatch check finishes")
        .expect("lagwatch check runs")
}

fn json_rows(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn json_rows_carry_every_field_and_exit_codes_follow_the_worst_status() {
    let kafka_env = env::kafka();
    let bootstrap = kafka_env.bootstrap.as_str();
    let topic = names::unique("lw-check");
    let idle = names::unique("lw-check-idle");
    let live = names::unique("lw-check-live");
    kafka::create_topic(bootstrap, &topic, 2).await.unwrap();
    kafka::produce_spread(bootstrap, &topic, 20).await.unwrap();
    // A group that committed once and stopped, with lag: Burrow calls that STOP (ERR).
    kafka::commit_offsets(bootstrap, &idle, &[(&topic, 0, 5), (&topic, 1, 20)])
        .await
        .unwrap();
    // A live member that has read everything: OK.
    let member = RunningConsumer::start(
        bootstrap,
        &live,
        &[&topic],
        Protocol::Consumer,
        "check-live",
    )
    .unwrap();
    member
        .wait_for_consumed(40, Duration::from_secs(60))
        .await
        .unwrap();
    member.pause().await.unwrap();

    let pattern = format!("^({idle}|{live})$");
    let one = check(&[
        "--bootstrap",
        bootstrap,
        "--group",
        &pattern,
        "--output",
        "json",
    ])
    .await;
    let stderr = String::from_utf8_lossy(&one.stderr);
    assert_eq!(one.status.code(), Some(0), "{stderr}");
    let rows = json_rows(&one);
    let fields = [
        "cluster",
        "group",
        "topic",
        "partition",
        "committed_offset",
        "log_end_offset",
        "log_start_offset",
        "lag",
        "owner",
        "client_id",
        "status",
    ];
    for row in &rows {
        for field in fields {
            assert!(row.get(field).is_some(), "{field} missing in {row}");
        }
        assert!(row["status"].is_null(), "one sample gives no status: {row}");
    }
    let idle_rows: Vec<(i64, i64, i64)> = rows
        .iter()
        .filter(|r| r["group"] == idle.as_str())
        .map(|r| {
            (
                r["partition"].as_i64().unwrap(),
                r["committed_offset"].as_i64().unwrap(),
                r["lag"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(idle_rows, vec![(0, 5, 15), (1, 20, 0)]);
    for r in rows.iter().filter(|r| r["group"] == live.as_str()) {
        assert_eq!(r["lag"], 0, "{r}");
        assert_eq!(r["client_id"], "check-live", "{r}");
        assert_eq!(r["owner"], "/127.0.0.1", "{r}");
        assert_eq!(r["log_end_offset"], 20, "{r}");
        assert_eq!(r["log_start_offset"], 0, "{r}");
    }

    // Two samples: the stopped group with lag is STOP, so the exit code is 2 (ERR).
    let two = check(&[
        "--bootstrap",
        bootstrap,
        "--group",
        &pattern,
        "--output",
        "json",
        "--samples",
        "2",
        "--interval",
        "1s",
    ])
    .await;
    let stderr = String::from_utf8_lossy(&two.stderr);
    assert_eq!(two.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("sample 2/2"),
        "a progress line per sample: {stderr}"
    );
    let statuses: Vec<(String, i64, String)> = json_rows(&two)
        .iter()
        .map(|r| {
            (
                r["group"].as_str().unwrap().to_owned(),
                r["partition"].as_i64().unwrap(),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&(idle.clone(), 0, "STOP".into())),
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .filter(|(g, _, _)| *g == live)
            .all(|(_, _, s)| s == "OK")
    );

    // The table names the columns of the Java tool.
    let table = check(&["--bootstrap", bootstrap, "--group", &pattern]).await;
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.starts_with("GROUP") && text.contains("LOG-END-OFFSET") && text.contains(&idle),
        "{text}"
    );
    member.stop().await.unwrap();
}
