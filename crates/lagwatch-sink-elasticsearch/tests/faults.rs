//! Retry, dead-letter, batching, compression, authentication and the refusals of data stream
//! mode against a scripted HTTP server (no Elasticsearch needed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_component::FromConfig;
use lagwatch_component::{ErrorClass, LagSink};
use lagwatch_config::ElasticsearchSinkConfig;
use lagwatch_core::secret::Secret;
use lagwatch_sink_elasticsearch::ElasticsearchSink;
use lagwatch_sink_elasticsearch::bulk::Doc;
use lagwatch_sink_elasticsearch::setup::{TemplateMode, setup_data_stream};
use lagwatch_test_support::sample;
use lagwatch_test_support::services::http::{Receiver, RecordedRequest, Reply};
use std::io::Read;
use std::time::Duration;

fn config(url: &str) -> ElasticsearchSinkConfig {
    let mut cfg = ElasticsearchSinkConfig::new(url);
    cfg.index_name = "lag-test".into();
    cfg.batch_max_wait = Duration::from_millis(10);
    cfg.retry_initial_backoff = Duration::from_millis(10);
    cfg.retry_max_backoff = Duration::from_millis(40);
    // One request at a time, so scripted replies meet their requests in order;
    // `requests_in_flight_are_bounded_by_concurrency` covers more.
    cfg.concurrency = 1;
    cfg
}

fn doc(n: usize) -> Doc {
    Doc {
        index: "lag-test".into(),
        id: format!("{n:032x}"),
        source: format!(r#"{{"n":{n}}}"#),
    }
}

/// A `_bulk` answer with one item per status.
fn bulk_reply(statuses: &[u16]) -> Reply {
    let items: Vec<String> = statuses
        .iter()
        .map(|s| match s {
            200..=299 => format!(r#"{{"create":{{"status":{s}}}}}"#),
            400 => r#"{"create":{"status":400,"error":{"type":"document_parsing_exception","reason":"failed to parse field [n] of type [boolean]"}}}"#.to_owned(),
            409 => r#"{"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"document already exists"}}}"#.to_owned(),
            _ => format!(r#"{{"create":{{"status":{s},"error":{{"type":"es_rejected_execution_exception","reason":"rejected"}}}}}}"#),
        })
        .collect();
    Reply::status(200)
        .header("content-type", "application/json")
        .body(&format!(
            r#"{{"errors":true,"items":[{}]}}"#,
            items.join(",")
        ))
}

/// The `_id`s of a recorded `_bulk` request, in order.
fn ids(request: &RecordedRequest) -> Vec<String> {
    let text = if request.header("content-encoding") == Some("gzip") {
        let mut out = String::new();
        flate2::read::GzDecoder::new(&request.body[..])
            .read_to_string(&mut out)
            .unwrap();
        out
    } else {
        request.body_text()
    };
    assert!(text.ends_with('\n'), "bulk body must end with a newline");
    text.lines()
        .step_by(2)
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            v["create"]["_id"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn only_failed_retryable_items_are_resent_and_permanent_ones_dead_lettered() {
    let server = Receiver::start().await.unwrap();
    server.push(bulk_reply(&[201, 429, 400, 409, 503]));
    server.push(bulk_reply(&[429, 201]));
    server.push(bulk_reply(&[201]));
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(server.url());
    cfg.dead_letter_path = dir.path().join("dead.ndjson");
    let sink = ElasticsearchSink::from_config("es", &cfg).unwrap();

    sink.write_docs((0..5).map(doc).collect()).await.unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests[0].path.starts_with("/_bulk"));
    assert_eq!(
        requests[0].header("content-type"),
        Some("application/x-ndjson")
    );
    assert_eq!(
        ids(&requests[0]),
        (0..5).map(|n| doc(n).id).collect::<Vec<_>>()
    );
    assert_eq!(ids(&requests[1]), [doc(1).id, doc(4).id]);
    assert_eq!(ids(&requests[2]), [doc(1).id]);
    assert_eq!(sink.stats().written(), 4);
    assert_eq!(sink.stats().dead_lettered(), 1);
    assert_eq!(sink.stats().retried(), 3);

    let dead = std::fs::read_to_string(dir.path().join("dead.ndjson")).unwrap();
    let lines: Vec<serde_json::Value> = dead
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        lines[0],
        serde_json::json!({
            "index": "lag-test",
            "id": doc(2).id,
            "status": 400,
            "reason": "document_parsing_exception: failed to parse field [n] of type [boolean]",
            "document": {"n": 2},
        })
    );
}

#[tokio::test]
async fn whole_request_429_honours_retry_after() {
    let server = Receiver::start().await.unwrap();
    server.push(Reply::status(429).header("retry-after", "1"));
    server.push(bulk_reply(&[201, 201]));
    let mut cfg = config(server.url());
    cfg.retry_max_backoff = Duration::from_secs(5);
    let sink = ElasticsearchSink::from_config("es", &cfg).unwrap();
    sink.write_docs(vec![doc(0), doc(1)]).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(ids(&requests[0]), ids(&requests[1]));
    let gap = requests[1].received_instant - requests[0].received_instant;
    assert!(
        gap >= Duration::from_secs(1),
        "retried after {gap:?}, before Retry-After"
    );
    assert_eq!(sink.stats().written(), 2);
}

#[tokio::test]
async fn persistent_5xx_gives_up_after_max_retries_with_a_transient_error() {
    let server = Receiver::start().await.unwrap();
    server.set_default(Reply::status(500).body(r#"{"error":{"type":"x","reason":"boom"}}"#));
    let mut cfg = config(server.url());
    cfg.max_retries = 2;
    let sink = ElasticsearchSink::from_config("es", &cfg).unwrap();
    let err = sink.write(&sample::snapshot()).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Transient);
    assert!(err.message.contains("after 3 attempts"), "{}", err.message);
    assert!(err.message.contains("HTTP 500: x: boom"), "{}", err.message);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn connection_refused_is_transient() {
    // A port nobody listens on: bind, read the port, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cfg = config(&format!("http://127.0.0.1:{port}"));
    cfg.max_retries = 1;
    let sink = ElasticsearchSink::from_config("es", &cfg).unwrap();
    let err = sink.write(&sample::snapshot()).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Transient);
    assert!(
        err.message.contains(&format!("127.0.0.1:{port}")),
        "{}",
        err.message
    );
    let health = sink.healthcheck().await.unwrap_err();
    assert_eq!(health.class, ErrorClass::Transient);
}

#[tokio::test]
async fn unauthorized_is_permanent_and_not_retried() {
    let server = Receiver::start().await.unwrap();
    server.set_default(Reply::status(401).body(
        r#"{"error":{"type":"security_exception","reason":"missing authentication credentials"}}"#,
    ));
    let sink = ElasticsearchSink::from_config("es", &config(server.url())).unwrap();
    let err = sink.write_docs(vec![doc(0)]).await.unwrap_err();
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        format!(
            "{}: POST /_bulk answered HTTP 401: security_exception: missing authentication credentials",
            server.url()
        )
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn batches_are_bounded_by_count_and_bytes_and_may_be_gzipped() {
    let server = Receiver::start().await.unwrap();
    server.push(bulk_reply(&[201, 201]));
    server.push(bulk_reply(&[201, 201]));
    server.push(bulk_reply(&[201]));
    let mut cfg = config(server.url());
    cfg.batch_max_docs = 2;
    cfg.gzip = true;
    let sink = ElasticsearchSink::from_config("es", &cfg).unwrap();
    sink.write_docs((0..5).map(doc).collect()).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| r.header("content-encoding") == Some("gzip"))
    );
    let all: Vec<String> = requests.iter().flat_map(ids).collect();
    assert_eq!(all, (0..5).map(|n| doc(n).id).collect::<Vec<_>>());

    // Bytes: each document is about 90 bytes in the body; 1024 bytes hold 11 of them.
    let server = Receiver::start().await.unwrap();
    let per = doc(0).bulk_len();
    let fit = 1024 / per;
    server.push(bulk_reply(&vec![201; fit]));
    server.push(bulk_reply(&vec![201; 20 - fit]));
    let mut cfg = config(server.url());
    cfg.batch_max_bytes = 1024;
    let sink = ElasticsearchSink::from_config("es", &cfg).unwrap();
    sink.write_docs((0..20).map(doc).collect()).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.body.len() <= 1024));
    assert_eq!(ids(&requests[0]).len(), fit);
}

#[tokio::test]
async fn requests_in_flight_are_bounded_by_concurrency() {
    const HOLD: Duration = Duration::from_millis(600);
    for concurrency in [1, 3] {
        let server = Receiver::start().await.unwrap();
        server.set_default(bulk_reply(&[201]).delayed(HOLD));
        let mut cfg = config(server.url());
        cfg.batch_max_docs = 1;
        cfg.concurrency = concurrency;
        let sink = ElasticsearchSink::from_config("es", &cfg).unwrap();
        sink.write_docs((0..7).map(doc).collect()).await.unwrap();
        let requests = server.requests();
        let mut all: Vec<String> = requests.iter().flat_map(ids).collect();
        all.sort();
        assert_eq!(all, (0..7).map(|n| doc(n).id).collect::<Vec<_>>());
        // Nothing is answered before HOLD has passed, so every request that arrived
        // before then was in flight beside the first.
        let first = requests[0].received_instant;
        let together = requests
            .iter()
            .filter(|r| r.received_instant.duration_since(first) < HOLD)
            .count();
        assert_eq!(together, concurrency, "requests in flight at once");
        assert_eq!(sink.stats().requests(), 7);
    }
}

#[tokio::test]
async fn snapshots_written_together_share_a_request() {
    let server = Receiver::start().await.unwrap();
    server.push(bulk_reply(&[201, 201, 201]));
    let mut cfg = config(server.url());
    cfg.batch_max_wait = Duration::from_secs(5);
    let sink = ElasticsearchSink::from_config("es", &cfg).unwrap();
    let a = sink.write_docs(vec![doc(0)]);
    let b = sink.write_docs(vec![doc(1), doc(2)]);
    let flush = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        sink.flush().await
    };
    let (a, b, f) = tokio::join!(a, b, flush);
    a.unwrap();
    b.unwrap();
    f.unwrap();
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        1,
        "flush sends the gathered documents at once"
    );
    assert_eq!(ids(&requests[0]).len(), 3);
}

#[tokio::test]
async fn authentication_headers() {
    let server = Receiver::start().await.unwrap();
    server.set_default(bulk_reply(&[201]));
    type Setter = fn(&mut ElasticsearchSinkConfig);
    let cases: [(Setter, &str); 3] = [
        (
            |c| {
                c.username = "lagwatch".into();
                c.password = Secret::new("s3cret".into());
            },
            "Basic bGFnd2F0Y2g6czNjcmV0",
        ),
        (|c| c.api_key = Secret::new("a2V5".into()), "ApiKey a2V5"),
        (|c| c.bearer_token = Secret::new("tok".into()), "Bearer tok"),
    ];
    for (i, (set, expected)) in cases.iter().enumerate() {
        let mut cfg = config(server.url());
        set(&mut cfg);
        let sink = ElasticsearchSink::from_config("es", &cfg).unwrap();
        sink.write_docs(vec![doc(i)]).await.unwrap();
        let requests = server.requests();
        assert_eq!(requests[i].header("authorization"), Some(*expected));
    }
}

#[tokio::test]
async fn version_is_read_from_nodes_not_root() {
    let server = Receiver::start().await.unwrap();
    server.push(
        Reply::status(200)
            .header("x-elastic-product", "Elasticsearch")
            .body(r#"{"nodes":{"n1":{"version":"8.19.0"}}}"#),
    );
    let sink = ElasticsearchSink::from_config("es", &config(server.url())).unwrap();
    sink.healthcheck().await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].path.starts_with("/_nodes/_local"),
        "{}",
        requests[0].path
    );
}

#[tokio::test]
async fn bad_index_patterns_are_refused_at_build() {
    let mut cfg = config("http://127.0.0.1:1");
    cfg.index_name = "burrow-%Y-%j".into();
    let err = ElasticsearchSink::from_config("es", &cfg)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "elasticsearch[es]: index name pattern \"burrow-%Y-%j\": unknown placeholder %j (known: %Y %y %m %d %H %V)"
    );
}

/// A sink in data stream mode (`data_stream = true`) writing to `stream`.
fn data_stream_config(url: &str, stream: &str) -> ElasticsearchSinkConfig {
    let mut cfg = config(url);
    cfg.index_name = stream.to_owned();
    cfg.data_stream = true;
    cfg
}

/// Refused before any request: a legacy template cannot make a data stream, and a stream's
/// name has no placeholders.
#[tokio::test]
async fn telegraf_mode_and_placeholders_are_refused() {
    // Nothing listens here; the refusals come first.
    let url = "http://127.0.0.1:9";
    let client = ElasticsearchSink::from_config("es", &data_stream_config(url, "lag")).unwrap();
    let err = setup_data_stream(client.client(), "t", TemplateMode::Telegraf, "lag", None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("template mode telegraf") && err.contains("legacy _template"),
        "{err}"
    );
    let err = setup_data_stream(
        client.client(),
        "t",
        TemplateMode::Lagwatch,
        "lag-%Y.%m.%d",
        None,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("date placeholder %Y"), "{err}");
    let err = ElasticsearchSink::from_config("es", &data_stream_config(url, "lag-{{cluster}}"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"lag-{{cluster}}\"") && err.contains("tag placeholder {{cluster}}"),
        "{err}"
    );
}
