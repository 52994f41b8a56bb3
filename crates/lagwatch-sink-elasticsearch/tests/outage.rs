//! The disk spool under an Elasticsearch outage: the harness's Elasticsearch is stopped while
//! lagwatch keeps writing (acknowledged from the spool), the writer is "killed" (dropped
//! without a flush, with a line torn as by a crash) and restarted, Elasticsearch is started
//! again, and the index ends with exactly the expected documents — none missing, none
//! duplicated.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_component::FromConfig;
use lagwatch_component::LagSink;
use lagwatch_config::ElasticsearchSinkConfig;
use lagwatch_sink_elasticsearch::ElasticsearchSink;
use lagwatch_test_support::sample;
use lagwatch_test_support::services::{env, es};
use std::collections::BTreeSet;
use std::io::Write;
use std::time::Duration;

const INDEX: &str = "lagwatch-it-outage";

fn config(url: &str, spool: &std::path::Path) -> ElasticsearchSinkConfig {
    let mut cfg = ElasticsearchSinkConfig::new(url);
    cfg.index_name = INDEX.into();
    cfg.spool_dir = spool.to_owned();
    cfg.batch_max_wait = Duration::from_millis(10);
    cfg.max_retries = 1;
    cfg.timeout = Duration::from_secs(2);
    cfg.retry_initial_backoff = Duration::from_millis(100);
    cfg.retry_max_backoff = Duration::from_secs(1);
    cfg
}

/// Starts Elasticsearch again when dropped, so a failing test does not leave it down.
struct StartAgain;

impl Drop for StartAgain {
    fn drop(&mut self) {
        let ctl = env::services_ctl();
        let _ = std::process::Command::new(&ctl.path)
            .args(["start", "elasticsearch"])
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_and_restart_end_with_exactly_the_expected_documents() {
    let url = env::elasticsearch();
    let ctl = env::services_ctl();
    es::delete_index(&url, INDEX).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let snapshots: Vec<_> = (0..6)
        .map(|i| sample::snapshot_at(sample::SAMPLE_AT_MS + i * 10_000, i as u64 + 1))
        .collect();
    let mut expected_ids = BTreeSet::new();
    let probe =
        ElasticsearchSink::from_config("probe", &ElasticsearchSinkConfig::new(&url)).unwrap();
    for s in &snapshots {
        for d in probe.documents(s) {
            expected_ids.insert(d.id);
        }
    }

    // One snapshot while Elasticsearch is up.
    let sink = ElasticsearchSink::from_config("es", &config(&url, dir.path())).unwrap();
    sink.write(&snapshots[0]).await.unwrap();
    sink.flush().await.unwrap();

    let guard = StartAgain;
    ctl.stop("elasticsearch").await.unwrap();
    assert!(
        probe.detect().await.is_err(),
        "Elasticsearch still answers after stop"
    );
    // During the outage every write is acknowledged at once from the spool.
    for s in &snapshots[1..4] {
        let ack = tokio::time::timeout(Duration::from_secs(5), sink.write(s))
            .await
            .expect("a write must not wait for Elasticsearch")
            .unwrap();
        assert_eq!(ack.records, sample::record_count(s, true));
    }
    assert!(sink.spool().unwrap().pending_bytes() > 0);
    // "SIGKILL": the writer goes away without a flush, in the middle of appending a line.
    drop(sink);
    let segment = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".ndjson"))
        .max()
        .unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&segment)
        .unwrap()
        .write_all(br#"{"index":"lagwatch-it-outage","id":"torn"#)
        .unwrap();

    // Restarted while Elasticsearch is still down; keeps accepting.
    let sink = ElasticsearchSink::from_config("es", &config(&url, dir.path())).unwrap();
    for s in &snapshots[4..] {
        sink.write(s).await.unwrap();
    }

    ctl.start("elasticsearch").await.unwrap();
    drop(guard);
    es::wait_for_yellow(&url, Duration::from_secs(60))
        .await
        .unwrap();
    // The spool drains by itself.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while sink.spool().unwrap().pending_bytes() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "spool not drained");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    es::refresh(&url, INDEX).await.unwrap();
    let expected: usize = snapshots
        .iter()
        .map(|s| sample::record_count(s, true))
        .sum();
    assert_eq!(expected_ids.len(), expected);
    assert_eq!(es::count(&url, INDEX).await.unwrap(), expected as u64);
    let hits = es::search(
        &url,
        INDEX,
        &serde_json::json!({"size": 1000, "_source": false, "query": {"match_all": {}}}),
    )
    .await
    .unwrap();
    let ids: BTreeSet<String> = hits["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, expected_ids);
    assert_eq!(sink.stats().dead_lettered(), 0);
    es::delete_index(&url, INDEX).await.unwrap();
}

#[tokio::test]
async fn spooled_sink_passes_the_conformance_check() {
    let url = env::opensearch();
    let index = "lagwatch-it-spool-conf";
    es::delete_index(&url, index).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&url, dir.path());
    cfg.index_name = index.into();
    let sink = ElasticsearchSink::from_config("es", &cfg).unwrap();
    lagwatch_test_support::conformance::sink::check_sink(&sink, |s| sample::record_count(s, true))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sink.spool().unwrap().pending_bytes(), 0);
    es::delete_index(&url, index).await.unwrap();
}
