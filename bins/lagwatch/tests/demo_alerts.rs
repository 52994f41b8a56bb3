//! `lagwatch demo` with its alert rules: state changes printed, and delivered to a webhook
//! and a Slack-style receiver given on the command line (both on 127.0.0.1).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_test_support::services::http::Receiver;
use std::process::Command;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_prints_alerts_and_delivers_them_to_webhook_and_slack() {
    let receiver = Receiver::start().await.unwrap();
    let base = receiver.url().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_lagwatch"))
            .args(["demo", "--duration", "14s", "--format", "json"])
            .args(["--webhook", &format!("{base}/hook/secret-token")])
            .args(["--slack-webhook", &format!("{base}/services/T0/B0/secret")])
            // Every log line, down to the HTTP client's, must keep the URLs' secret paths out.
            .env("RUST_LOG", "trace")
            .output()
            .expect("run lagwatch demo")
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // The status rule decides every 10 s: at its decision after the windows have warmed up
    // it sees the stopped consumer. (The catching-up group raises nothing at start: its
    // windows are warming up.)
    assert!(
        stderr.contains("[FIRING] group-error demo/audit-stopped: group status is ERR"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("demo/search-catchup"),
        "no alert for the catching-up group at start: {stderr}"
    );
    assert!(
        !stderr.contains("secret"),
        "a webhook URL was logged: {stderr}"
    );

    let requests = receiver
        .wait_for_requests(2, Duration::from_secs(5))
        .await
        .unwrap();
    let hook: Vec<_> = requests
        .iter()
        .filter(|r| r.path == "/hook/secret-token")
        .map(|r| r.body_json().unwrap())
        .collect();
    let slack: Vec<_> = requests
        .iter()
        .filter(|r| r.path == "/services/T0/B0/secret")
        .map(|r| r.body_json().unwrap())
        .collect();
    assert!(
        hook.iter().any(|b| b["rule"] == "group-error"
            && b["state"] == "firing"
            && b["labels"]["group"] == "audit-stopped"
            && !b["idempotency_key"].as_str().unwrap_or_default().is_empty()),
        "{hook:?}"
    );
    assert_eq!(hook.len(), slack.len());
    assert!(
        slack.iter().any(|b| b["text"]
            .as_str()
            .unwrap()
            .starts_with("[FIRING] group-error: demo/audit-stopped")),
        "{slack:?}"
    );
}
