//! `lag-to-slack` against the harness Kafka 4.4 and a local HTTP receiver standing in for
//! Slack: a group whose average lag goes above the threshold gets one firing message, and
//! one resolved message once it catches up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_test_support::services::http::{Receiver, RecordedRequest};
use lagwatch_test_support::services::{env, kafka, names};
use std::time::{Duration, Instant};

/// Slack messages about `group`, with their plain-text fallback.
fn about(requests: &[RecordedRequest], group: &str) -> Vec<String> {
    requests
        .iter()
        .filter_map(|r| r.body_json().ok())
        .filter(|body| body.to_string().contains(group))
        .map(|body| body["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn wait_for(receiver: &Receiver, group: &str, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let seen = about(&receiver.requests(), group);
        if seen.len() >= n || Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lagging_group_fires_once_and_resolves_once() {
    let bootstrap = env::kafka().bootstrap;
    let topic = names::unique("lw-l2s");
    let group = names::unique("lw-l2s");
    kafka::create_topic(bootstrap.as_str(), &topic, 1)
        .await
        .unwrap();
    kafka::produce(bootstrap.as_str(), &topic, Some(0), 100)
        .await
        .unwrap();
    // Lag 60, above the threshold of 10.
    kafka::commit_offsets(bootstrap.as_str(), &group, &[(&topic, 0, 40)])
        .await
        .unwrap();

    let slack = Receiver::start().await.unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_lag-to-slack"))
        .arg(&bootstrap)
        .arg("10")
        .arg(format!("^{group}$"))
        .env("SLACK_WEBHOOK_URL", slack.url())
        .env("LAG_TO_SLACK_INTERVAL", "3s")
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    // The group commits again once the example has read its first commit: a window of a
    // single commit is still warming up (no rule acts on it), two commits can be judged.
    tokio::time::sleep(Duration::from_secs(5)).await;
    kafka::commit_offsets(bootstrap.as_str(), &group, &[(&topic, 0, 41)])
        .await
        .unwrap();

    let firing = wait_for(&slack, &group, 1).await;
    assert_eq!(firing.len(), 1, "{firing:?}");
    assert!(firing[0].contains("FIRING"), "{firing:?}");

    // The group catches up: one resolved message, and no second firing.
    kafka::commit_offsets(bootstrap.as_str(), &group, &[(&topic, 0, 100)])
        .await
        .unwrap();
    let both = wait_for(&slack, &group, 2).await;
    assert_eq!(both.len(), 2, "{both:?}");
    assert!(both[1].contains("RESOLVED"), "{both:?}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(about(&slack.requests(), &group).len(), 2);

    child.start_kill().unwrap();
    child.wait().await.unwrap();
}
