//! The sink against the harness's Elasticsearch 9 and OpenSearch (`scripts/services up
//! elasticsearch opensearch`; the tests fail when the variables are missing).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_component::FromConfig;
use lagwatch_component::LagSink;
use lagwatch_config::ElasticsearchSinkConfig;
use lagwatch_core::measurement::{MeasurementOptions, from_snapshot};
use lagwatch_sink_elasticsearch::ElasticsearchSink;
use lagwatch_sink_elasticsearch::client::Flavor;
use lagwatch_test_support::conformance::sink::check_sink;
use lagwatch_test_support::sample;
use lagwatch_test_support::services::{env, es};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

fn config(url: &str, index: &str) -> ElasticsearchSinkConfig {
    let mut cfg = ElasticsearchSinkConfig::new(url);
    cfg.index_name = index.to_owned();
    cfg.batch_max_wait = Duration::from_millis(10);
    cfg.retry_initial_backoff = Duration::from_millis(50);
    cfg.retry_max_backoff = Duration::from_millis(500);
    cfg
}

/// Every snapshot `check_sink` writes, in order.
fn conformance_snapshots() -> Vec<lagwatch_core::Snapshot> {
    let mut all = sample::snapshots();
    all.push(sample::snapshot_at(sample::SAMPLE_AT_MS + 50_000, 6));
    all
}

async fn conformance(url: &str, index: &str, flavor: Flavor) {
    es::delete_index(url, index).await.unwrap();
    let sink = ElasticsearchSink::from_config("es", &config(url, index)).unwrap();
    assert_eq!(sink.detect().await.unwrap().flavor, flavor);
    check_sink(&sink, |s| sample::record_count(s, true))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let expected: usize = conformance_snapshots()
        .iter()
        .map(|s| sample::record_count(s, true))
        .sum();
    es::refresh(url, index).await.unwrap();
    assert_eq!(es::count(url, index).await.unwrap(), expected as u64);

    // Writing everything again changes nothing: same ids, `create` answers 409.
    for snapshot in conformance_snapshots() {
        sink.write(&snapshot).await.unwrap();
    }
    es::refresh(url, index).await.unwrap();
    assert_eq!(es::count(url, index).await.unwrap(), expected as u64);
    assert_eq!(sink.stats().dead_lettered(), 0);

    // The stored sources are exactly the documents lagwatch renders (Telegraf's shape).
    let snapshot = sample::snapshot();
    let records = from_snapshot(&snapshot, &MeasurementOptions::default());
    for record in &records {
        let (status, stored) = es::request(
            Method::GET,
            url,
            &format!(
                "{index}/_doc/{}",
                lagwatch_sink_elasticsearch::bulk::document_id(record)
            ),
            None,
        )
        .await
        .unwrap();
        assert_eq!(status.as_u16(), 200, "{stored}");
        let expected: Value = serde_json::from_str(&record.to_document()).unwrap();
        assert_eq!(stored["_source"], expected);
    }

    // Dynamic mapping gives the seed dashboard's `.keyword` fields and integer fields.
    let (_, mapping) = es::request(Method::GET, url, &format!("{index}/_mapping"), None)
        .await
        .unwrap();
    let props = &mapping[index]["mappings"]["properties"];
    assert_eq!(props["@timestamp"]["type"], "date");
    assert_eq!(
        props["tag"]["properties"]["topic"]["fields"]["keyword"]["type"],
        "keyword"
    );
    assert_eq!(
        props["burrow_partition"]["properties"]["lag"]["type"],
        "long"
    );
    es::delete_index(url, index).await.unwrap();
}

#[tokio::test]
async fn conformance_and_idempotence_on_elasticsearch() {
    conformance(
        &env::elasticsearch(),
        "lagwatch-it-conf-es",
        Flavor::Elasticsearch,
    )
    .await;
}

#[tokio::test]
async fn conformance_and_idempotence_on_opensearch() {
    conformance(
        &env::opensearch(),
        "lagwatch-it-conf-os",
        Flavor::OpenSearch,
    )
    .await;
}

async fn mapping_conflict(url: &str, index: &str) {
    es::delete_index(url, index).await.unwrap();
    // `status` of partitions mapped as a number: every burrow_partition document conflicts.
    let (status, body) = es::request(
        Method::PUT,
        url,
        index,
        Some(&json!({
            "settings": {"number_of_replicas": 0},
            "mappings": {"properties": {"burrow_partition": {"properties": {"status": {"type": "long"}}}}}
        })),
    )
    .await
    .unwrap();
    assert!(status.is_success(), "{body}");
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(url, index);
    cfg.dead_letter_path = dir.path().join("dead.ndjson");
    let sink = ElasticsearchSink::from_config("es", &cfg).unwrap();
    let snapshot = sample::snapshot();
    let records = from_snapshot(&snapshot, &MeasurementOptions::default());
    let partitions = records
        .iter()
        .filter(|r| r.name.as_str() == "burrow_partition")
        .count();
    assert!(partitions > 0);
    let ack = sink.write(&snapshot).await.unwrap();
    assert_eq!(ack.records, records.len());
    es::refresh(url, index).await.unwrap();
    assert_eq!(
        es::count(url, index).await.unwrap(),
        (records.len() - partitions) as u64
    );
    let dead = std::fs::read_to_string(dir.path().join("dead.ndjson")).unwrap();
    let lines: Vec<Value> = dead
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), partitions);
    for line in &lines {
        assert_eq!(line["status"], 400);
        assert_eq!(line["index"], index);
        assert_eq!(line["document"]["measurement_name"], "burrow_partition");
        assert!(
            line["reason"]
                .as_str()
                .unwrap()
                .contains("burrow_partition.status"),
            "{line}"
        );
    }
    assert_eq!(sink.stats().dead_lettered(), partitions as u64);
    es::delete_index(url, index).await.unwrap();
}

#[tokio::test]
async fn mapping_conflict_goes_to_dead_letter_on_elasticsearch() {
    mapping_conflict(&env::elasticsearch(), "lagwatch-it-dl-es").await;
}

#[tokio::test]
async fn mapping_conflict_goes_to_dead_letter_on_opensearch() {
    mapping_conflict(&env::opensearch(), "lagwatch-it-dl-os").await;
}

#[tokio::test]
async fn daily_index_names_and_gzip() {
    let url = env::elasticsearch();
    es::delete_index(&url, "lagwatch-it-day-*").await.unwrap();
    let mut cfg = config(&url, "lagwatch-it-day-{{cluster}}-%Y.%m.%d");
    cfg.gzip = true;
    let sink = ElasticsearchSink::from_config("es", &cfg).unwrap();
    // One snapshot just before and one just after midnight UTC.
    let before = sample::snapshot_at(1_566_259_199_000, 1); // 2019-08-19T23:59:59Z
    let after = sample::snapshot_at(1_566_259_200_000, 2); // 2019-08-20T00:00:00Z
    sink.write(&before).await.unwrap();
    sink.write(&after).await.unwrap();
    es::refresh(&url, "lagwatch-it-day-*").await.unwrap();
    assert_eq!(
        es::count(&url, "lagwatch-it-day-*-2019.08.19")
            .await
            .unwrap(),
        sample::record_count(&before, true) as u64
    );
    // The sample has clusters `live` and `backup`: `{{cluster}}` splits them.
    assert!(
        es::count(&url, "lagwatch-it-day-live-2019.08.19")
            .await
            .unwrap()
            > 0
    );
    assert!(
        es::count(&url, "lagwatch-it-day-backup-2019.08.19")
            .await
            .unwrap()
            > 0
    );
    assert_eq!(
        es::count(&url, "lagwatch-it-day-*-2019.08.20")
            .await
            .unwrap(),
        sample::record_count(&after, true) as u64
    );
    es::delete_index(&url, "lagwatch-it-day-*").await.unwrap();
}

/// Keys and JSON value types of a document, recursively (`int` and `float` kept apart).
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!("int"),
        Value::Number(_) => json!("float"),
        Value::String(_) => json!("string"),
        Value::Bool(_) => json!("bool"),
        Value::Array(_) => json!("array"),
        Value::Null => json!("null"),
    }
}

/// What lagwatch stored in Elasticsearch has the keys and value types of the documents
/// Telegraf wrote for the same Burrow data (fixtures from the pipeline reference, with
/// Telegraf's `host` tag).
#[tokio::test]
async fn stored_documents_have_telegrafs_keys_and_types() {
    let fixtures = [
        r#"{"@timestamp":"2019-08-19T17:32:10+09:00","burrow_partition":{"lag":54,"offset":1234567,"status":"OK","status_code":1,"timestamp":1566203529000},"measurement_name":"burrow_partition","tag":{"cluster":"live","group":"hdfs_consumer","host":"telegraf01","owner":"/10.0.0.5","partition":"0","topic":"payment_log"}}"#,
        r#"{"@timestamp":"2019-08-19T08:32:10Z","burrow_group":{"lag":54,"offset":3702000,"partition_count":3,"status":"WARN","status_code":3,"timestamp":1566203529000,"total_lag":60},"measurement_name":"burrow_group","tag":{"cluster":"live","group":"hdfs_consumer","host":"telegraf01"}}"#,
        r#"{"@timestamp":"2019-08-19T08:32:10Z","burrow_topic":{"offset":1234002},"measurement_name":"burrow_topic","tag":{"cluster":"live","host":"telegraf01","partition":"2","topic":"payment_log"}}"#,
    ];
    let url = env::elasticsearch();
    let index = "lagwatch-it-shape";
    es::delete_index(&url, index).await.unwrap();
    let mut cfg = config(&url, index);
    cfg.host = "telegraf01".into();
    let sink = ElasticsearchSink::from_config("es", &cfg).unwrap();
    sink.write(&sample::snapshot()).await.unwrap();
    es::refresh(&url, index).await.unwrap();
    let stored = es::search_sources(
        &url,
        index,
        &json!({"size": 1000, "query": {"match_all": {}}}),
    )
    .await
    .unwrap();
    for fixture in fixtures {
        let want: Value = serde_json::from_str(fixture).unwrap();
        let name = want["measurement_name"].as_str().unwrap();
        let ours: Vec<&Value> = stored
            .iter()
            .filter(|d| d["measurement_name"] == name)
            .collect();
        assert!(!ours.is_empty(), "no {name} document stored");
        for doc in ours {
            assert_eq!(shape(doc), shape(&want), "{name}: {doc}");
        }
    }
    es::delete_index(&url, index).await.unwrap();
}
