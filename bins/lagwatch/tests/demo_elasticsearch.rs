//! `lagwatch demo --elasticsearch URL` sends the demo's documents to `_bulk` (here a scripted
//! receiver on 127.0.0.1 that records them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_test_support::services::http::Receiver;
use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_writes_bulk_requests_with_telegraf_documents() {
    let receiver = Receiver::start().await.unwrap();
    let base = receiver.url().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_lagwatch"))
            .args(["demo", "--duration", "3s", "--format", "json"])
            .args(["--elasticsearch", &base])
            .output()
            .expect("run lagwatch demo")
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let bulk: Vec<_> = receiver
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/_bulk"))
        .collect();
    assert!(!bulk.is_empty(), "no _bulk request: {stderr}");
    let body = bulk[0].body_text();
    let lines: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() % 2, 0);
    let index = lines[0]["create"]["_index"].as_str().unwrap();
    assert!(index.starts_with("burrow-"), "{index}");
    assert_eq!(lines[0]["create"]["_id"].as_str().unwrap().len(), 32);
    let doc = lines[1].as_object().unwrap();
    let mut keys: Vec<&str> = doc.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let name = doc["measurement_name"].as_str().unwrap();
    assert!(keys.contains(&name) && keys.contains(&"@timestamp") && keys.contains(&"tag"));
    assert_eq!(keys.len(), 4);
}
