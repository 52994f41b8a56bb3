//! Data stream mode (`data_stream = true`) against the harness's OpenSearch 3
//! (`scripts/services up opensearch`; the tests fail when the variable is missing). The
//! harness's Elasticsearch 9 is an integ-test build without data streams, so it is not used.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_component::FromConfig;
use lagwatch_component::LagSink;
use lagwatch_config::ElasticsearchSinkConfig;
use lagwatch_core::measurement::{MeasurementOptions, from_snapshot};
use lagwatch_sink_elasticsearch::setup::{TemplateMode, setup_data_stream};
use lagwatch_sink_elasticsearch::{ElasticsearchSink, EsError, bulk};
use lagwatch_test_support::sample;
use lagwatch_test_support::services::{env, es};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

fn config(url: &str, stream: &str) -> ElasticsearchSinkConfig {
    let mut cfg = ElasticsearchSinkConfig::new(url);
    cfg.index_name = stream.to_owned();
    cfg.data_stream = true;
    cfg.batch_max_wait = Duration::from_millis(10);
    cfg.retry_initial_backoff = Duration::from_millis(50);
    cfg.retry_max_backoff = Duration::from_millis(500);
    cfg
}

/// Deletes the data stream (with its backing indices) and the template, if there.
async fn remove(url: &str, stream: &str, template: &str) {
    for path in [
        format!("_data_stream/{stream}"),
        format!("_index_template/{template}"),
    ] {
        let (status, body) = es::request(Method::DELETE, url, &path, None).await.unwrap();
        assert!(
            status.is_success() || status.as_u16() == 404,
            "DELETE {path}: {status} {body}"
        );
    }
}

async fn get(url: &str, path: &str) -> Value {
    let (status, body) = es::request(Method::GET, url, path, None).await.unwrap();
    assert!(status.is_success(), "GET {path}: {status} {body}");
    body
}

#[tokio::test]
async fn setup_write_and_no_duplicates_on_opensearch() {
    let url = env::opensearch();
    let stream = "lagwatch-it-ds";
    let template = "lagwatch-it-ds";
    remove(&url, stream, template).await;
    let sink = ElasticsearchSink::from_config("es", &config(&url, stream)).unwrap();

    // Setup installs the data stream template and creates the stream.
    let report = setup_data_stream(
        sink.client(),
        template,
        TemplateMode::Lagwatch,
        stream,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        report.installed,
        [
            format!("PUT /_index_template/{template}"),
            format!("PUT /_data_stream/{stream}"),
        ]
    );
    let installed = get(&url, &format!("_index_template/{template}")).await;
    let body = &installed["index_templates"][0]["index_template"];
    assert_eq!(body["index_patterns"], json!([stream]), "{installed}");
    assert!(body["data_stream"].is_object(), "{installed}");
    let streams = get(&url, &format!("_data_stream/{stream}")).await;
    assert_eq!(streams["data_streams"][0]["name"], stream, "{streams}");
    assert_eq!(
        streams["data_streams"][0]["template"], template,
        "{streams}"
    );
    let backing = streams["data_streams"][0]["indices"][0]["index_name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(backing.starts_with(&format!(".ds-{stream}-")), "{streams}");
    // A second setup leaves the existing stream as it is.
    let again = setup_data_stream(
        sink.client(),
        template,
        TemplateMode::Lagwatch,
        stream,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        again.installed,
        [format!("PUT /_index_template/{template}")]
    );

    // The sink writes every snapshot into the stream (`create` with the document ids).
    sink.healthcheck().await.unwrap();
    let snapshots = sample::snapshots();
    let expected: usize = snapshots
        .iter()
        .map(|s| sample::record_count(s, true))
        .sum();
    for snapshot in &snapshots {
        assert!(sink.documents(snapshot).iter().all(|d| d.index == stream));
        let ack = sink.write(snapshot).await.unwrap();
        assert_eq!(ack.records, sample::record_count(snapshot, true));
    }
    sink.flush().await.unwrap();
    es::refresh(&url, stream).await.unwrap();
    assert_eq!(es::count(&url, stream).await.unwrap(), expected as u64);
    assert_eq!(sink.stats().written(), expected as u64);
    assert_eq!(sink.stats().dead_lettered(), 0);

    // Documents are searchable by the stream's name, stored in its backing index with the
    // deterministic id and exactly the rendered source.
    let snapshot = sample::snapshot();
    for record in from_snapshot(&snapshot, &MeasurementOptions::default()) {
        let id = bulk::document_id(&record);
        let answer = es::search(&url, stream, &json!({"query": {"ids": {"values": [id]}}}))
            .await
            .unwrap();
        let hits = answer["hits"]["hits"].as_array().unwrap();
        assert_eq!(hits.len(), 1, "{id}: {answer}");
        assert_eq!(hits[0]["_index"], backing.as_str());
        let want: Value = serde_json::from_str(&record.to_document()).unwrap();
        assert_eq!(hits[0]["_source"], want);
    }
    let groups = es::search_sources(
        &url,
        stream,
        &es::term_query("measurement_name.keyword", &json!("burrow_group")),
    )
    .await
    .unwrap();
    assert!(!groups.is_empty());

    // The lagwatch template's mapping applies to the backing index.
    let mapping = get(&url, &format!("{backing}/_mapping")).await;
    let props = &mapping[backing.as_str()]["mappings"]["properties"];
    assert_eq!(props["@timestamp"]["type"], "date", "{mapping}");
    assert_eq!(
        props["burrow_partition"]["properties"]["lag"]["type"],
        "long"
    );
    assert_eq!(
        props["tag"]["properties"]["topic"]["fields"]["keyword"]["type"],
        "keyword"
    );

    // Writing everything again adds nothing: same ids, `create` answers 409.
    for snapshot in &snapshots {
        sink.write(snapshot).await.unwrap();
    }
    es::refresh(&url, stream).await.unwrap();
    assert_eq!(es::count(&url, stream).await.unwrap(), expected as u64);
    assert_eq!(sink.stats().written(), 2 * expected as u64);
    assert_eq!(sink.stats().dead_lettered(), 0);

    remove(&url, stream, template).await;
}

/// Template mode none installs nothing; creating the stream then fails with the server's
/// reason and a hint, unless the operator's own data stream template matches.
#[tokio::test]
async fn template_mode_none_needs_a_data_stream_template_on_opensearch() {
    let url = env::opensearch();
    let stream = "lagwatch-it-ds-none";
    let template = "lagwatch-it-ds-none";
    remove(&url, stream, template).await;
    let client = ElasticsearchSink::from_config("es", &config(&url, stream)).unwrap();
    let err = setup_data_stream(client.client(), template, TemplateMode::None, stream, None)
        .await
        .unwrap_err();
    assert!(matches!(err, EsError::DataStream { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("no matching index template") && text.contains("template mode none"),
        "{text}"
    );
    assert_eq!(
        get(&url, &format!("_data_stream/{stream}*")).await["data_streams"],
        json!([])
    );

    // With the operator's own template, mode none creates the stream and installs nothing.
    let (status, body) = es::request(
        Method::PUT,
        &url,
        &format!("_index_template/{template}"),
        Some(&json!({"index_patterns": [stream], "data_stream": {}, "priority": 220})),
    )
    .await
    .unwrap();
    assert!(status.is_success(), "{body}");
    let report = setup_data_stream(client.client(), template, TemplateMode::None, stream, None)
        .await
        .unwrap();
    assert_eq!(report.installed, [format!("PUT /_data_stream/{stream}")]);
    get(&url, &format!("_data_stream/{stream}")).await;
    remove(&url, stream, template).await;
}
