//! `lagwatch es setup` against the harness Elasticsearch and OpenSearch: the index template
//! for daily indices, and a data stream (OpenSearch; the Elasticsearch integ-test build has
//! no data streams).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_test_support::services::{env, es, names};
use reqwest::Method;
use serde_json::Value;
use std::process::Output;

async fn lagwatch(args: Vec<String>) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_lagwatch"))
        .args(args)
        .output()
        .await
        .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn es_setup_installs_a_template_and_creates_a_data_stream() {
    // Daily indices on Elasticsearch: a composable template for the pattern's prefix.
    let url = env::elasticsearch();
    let name = names::unique("lw-cli-setup");
    let prefix = names::unique("lw-cli-daily");
    let pattern = format!("{prefix}-%Y.%m.%d");
    let out = lagwatch(args(&[
        "es",
        "setup",
        "--url",
        &url,
        "--name",
        &name,
        "--index-name",
        &pattern,
    ]))
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("PUT /_index_template/{name}")),
        "{stdout}"
    );
    let template: Value = es::request(Method::GET, &url, &format!("/_index_template/{name}"), None)
        .await
        .unwrap()
        .1;
    let patterns = &template["index_templates"][0]["index_template"]["index_patterns"];
    assert_eq!(
        patterns[0].as_str(),
        Some(format!("{prefix}-*").as_str()),
        "{template}"
    );
    es::request(
        Method::DELETE,
        &url,
        &format!("/_index_template/{name}"),
        None,
    )
    .await
    .unwrap();

    // A data stream on OpenSearch.
    let url = env::opensearch();
    let name = names::unique("lw-cli-ds");
    let stream = names::unique("lw-cli-stream");
    let setup = args(&[
        "es",
        "setup",
        "--url",
        &url,
        "--name",
        &name,
        "--index-name",
        &stream,
        "--data-stream",
    ]);
    let out = lagwatch(setup.clone()).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("PUT /_data_stream/{stream}")),
        "{stdout}"
    );
    let found: Value = es::request(Method::GET, &url, &format!("/_data_stream/{stream}"), None)
        .await
        .unwrap()
        .1;
    assert_eq!(
        found["data_streams"][0]["name"].as_str(),
        Some(stream.as_str()),
        "{found}"
    );
    // Again: nothing breaks, the stream is kept.
    let again = lagwatch(setup).await;
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    es::request(
        Method::DELETE,
        &url,
        &format!("/_data_stream/{stream}"),
        None,
    )
    .await
    .unwrap();
    es::request(
        Method::DELETE,
        &url,
        &format!("/_index_template/{name}"),
        None,
    )
    .await
    .unwrap();

    // A date placeholder cannot name a data stream.
    let bad = lagwatch(args(&[
        "es",
        "setup",
        "--url",
        &url,
        "--index-name",
        "lw-%Y",
        "--data-stream",
    ]))
    .await;
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("%Y"));
}
