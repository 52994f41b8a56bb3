//! The demo's alert rules, assembled from configuration, delivering to a local webhook
//! receiver: the seed rule (average partition lag over 60 s above 10, decided every minute)
//! fires once for a lagging group and resolves once when the group has caught up.
#![cfg(all(feature = "alert", feature = "demo", feature = "file"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_lib::config::{
    AlerterConfig, Config, FileSinkConfig, SinkConfig, WebhookAlerterConfig,
};
use lagwatch_lib::runtime::CancellationToken;
use lagwatch_test_support::services::http::{Receiver, RecordedRequest};
use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

const SEED_RULE: &str = "average-lag-above-10";

/// `(group, state)` of every notification of `rule` the receiver got, in arrival order.
fn states(requests: &[RecordedRequest], rule: &str) -> Vec<(String, String)> {
    requests
        .iter()
        .map(|r| r.body_json().unwrap())
        .filter(|b| b["rule"] == rule)
        .map(|b| {
            (
                b["labels"]["group"].as_str().unwrap().to_owned(),
                b["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_rule_fires_once_and_resolves_once_on_the_demo() {
    let receiver = Receiver::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo();
    config.sinks = BTreeMap::from([(
        "file".to_owned(),
        SinkConfig::File(FileSinkConfig::new(dir.path().join("lag.ndjson"))),
    )]);
    config.alerters.insert(
        "hook".to_owned(),
        AlerterConfig::Webhook(WebhookAlerterConfig::new(format!(
            "{}/alerts",
            receiver.url()
        ))),
    );
    config.validate().unwrap();
    let pipeline = lagwatch_lib::assemble(&config).unwrap().build();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(pipeline.run(shutdown.clone()));

    // Decisions at about 1 s, 61 s and 121 s after the start. `search-catchup` starts far
    // behind (fires at the first decision, its 60 s average is still above 10 at the second)
    // and is at lag 0 for the whole window of the third: resolved.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    loop {
        let got = states(&receiver.requests(), SEED_RULE);
        if got.contains(&("search-catchup".to_owned(), "resolved".to_owned())) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no resolved notification for search-catchup within 180 s; got {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shutdown.cancel();
    let summary = running.await.unwrap().unwrap();
    let requests = receiver.requests();
    let seed = states(&requests, SEED_RULE);
    let of = |group: &str| -> Vec<&str> {
        seed.iter()
            .filter(|(g, _)| g == group)
            .map(|(_, s)| s.as_str())
            .collect()
    };
    assert_eq!(of("search-catchup"), ["firing", "resolved"]);
    // `analytics-slow` keeps falling behind: it fires once and stays firing.
    assert_eq!(of("analytics-slow"), ["firing"]);
    assert!(
        summary.alerters.iter().all(|a| a.failed == 0),
        "{:?}",
        summary.alerters
    );

    // The status rule saw ERR groups too (the demo's stopped and stalled groups).
    let status = states(&requests, "group-error");
    assert!(
        status.contains(&("audit-stopped".to_owned(), "firing".to_owned())),
        "{status:?}"
    );

    // Decision -> receiver time of every notification (the notification's `at` is the
    // evaluation time that decided it).
    let mut worst = Duration::ZERO;
    for r in &requests {
        let decided = Duration::from_millis(r.body_json().unwrap()["at_ms"].as_u64().unwrap());
        let arrived = r.received_at.duration_since(UNIX_EPOCH).unwrap();
        worst = worst.max(arrived.saturating_sub(decided));
    }
    println!(
        "decision -> receiver: worst {} ms over {} notifications",
        worst.as_millis(),
        requests.len()
    );
}

#[test]
fn assemble_builds_alerting_and_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo();
    config.sinks = BTreeMap::from([(
        "file".to_owned(),
        SinkConfig::File(FileSinkConfig::new(dir.path().join("lag.ndjson"))),
    )]);
    config.general.state_dir = dir.path().join("state");
    assert!(lagwatch_lib::assemble(&config).is_ok());

    let mut bad = WebhookAlerterConfig::new("http://127.0.0.1:9/x");
    bad.body = "{% if %}".to_owned();
    config
        .alerters
        .insert("broken".to_owned(), AlerterConfig::Webhook(bad));
    let err = lagwatch_lib::assemble(&config).err().unwrap().to_string();
    assert!(err.starts_with("alerters.broken: body template:"), "{err}");
}
