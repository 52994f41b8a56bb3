//! deploy/grafana: the dashboard's queries, translated to `_search` aggregations as Grafana's
//! Elasticsearch data source builds them, return the expected buckets against the harness's
//! Elasticsearch and OpenSearch with every template mode's mapping (the provisioning files
//! themselves are checked without services in `grafana_provisioning`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_component::FromConfig;
use lagwatch_core::measurement::{Measurement, MeasurementOptions, from_snapshot};
use lagwatch_sink_elasticsearch::ElasticsearchSink;
use lagwatch_sink_elasticsearch::setup::{TemplateMode, setup};
use lagwatch_test_support::sample;
use lagwatch_test_support::services::{env, es};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

#[path = "common/grafana_files.rs"]
mod grafana_files;

use grafana_files::dashboard;

/// The `_search` body Grafana's Elasticsearch data source sends for `target` over
/// `[from, to]` (variables set to All), with `field` renaming fields for a mapping.
fn to_search(target: &Value, from: i64, to: i64, field: &dyn Fn(&str) -> String) -> Value {
    let query = target["query"]
        .as_str()
        .unwrap()
        .replace("$cluster", "*")
        .replace("$group", "*")
        .replace("$topic", "*");
    let query = query.replace(".keyword:", &format!("{}:", field(".keyword")));
    let mut metrics = serde_json::Map::new();
    for m in target["metrics"].as_array().unwrap() {
        metrics.insert(
            m["id"].as_str().unwrap().to_owned(),
            json!({m["type"].as_str().unwrap(): {"field": m["field"]}}),
        );
    }
    let mut inner = Value::Object(metrics.clone());
    for b in target["bucketAggs"].as_array().unwrap().iter().rev() {
        let s = &b["settings"];
        let num = |v: &Value| v.as_str().unwrap().parse::<u64>().unwrap();
        let mut agg = match b["type"].as_str().unwrap() {
            "terms" => {
                // Grafana sends `_term` as `_key` (Elasticsearch 6 renamed it).
                let order_by = match s["orderBy"].as_str().unwrap() {
                    "_term" => "_key",
                    other => other,
                };
                let size = match num(&s["size"]) {
                    0 => 500,
                    n => n,
                };
                json!({"terms": {
                    "field": field(b["field"].as_str().unwrap()),
                    "size": size,
                    "min_doc_count": num(&s["min_doc_count"]),
                    "order": {order_by: s["order"]},
                }})
            }
            "date_histogram" => json!({"date_histogram": {
                "field": b["field"],
                "fixed_interval": s["interval"],
                "min_doc_count": num(&s["min_doc_count"]),
                "extended_bounds": {"min": from, "max": to},
                "format": "epoch_millis",
            }}),
            other => panic!("bucket type {other}"),
        };
        // Grafana puts the metrics beside every bucket level so terms can order by them.
        let mut aggs = metrics.clone();
        if let Value::Object(i) = inner {
            aggs.extend(i);
        }
        agg["aggs"] = Value::Object(aggs);
        inner = json!({b["id"].as_str().unwrap(): agg});
    }
    json!({
        "size": 0,
        "query": {"bool": {"filter": [
            {"range": {"@timestamp": {"gte": from, "lte": to, "format": "epoch_millis"}}},
            {"query_string": {"analyze_wildcard": true, "query": query}},
        ]}},
        "aggs": inner,
    })
}

/// Series points of an answer: (bucket keys…, time or "" ) → metric "1".
fn points(aggs: &Value, target: &Value, keys: Vec<String>, out: &mut BTreeMap<Vec<String>, f64>) {
    let buckets = target["bucketAggs"].as_array().unwrap();
    let level = keys.len();
    if level == buckets.len() {
        return;
    }
    let id = buckets[level]["id"].as_str().unwrap();
    for bucket in aggs[id]["buckets"].as_array().unwrap() {
        let key = match &bucket["key"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut keys = keys.clone();
        keys.push(key);
        if keys.len() == buckets.len() {
            if let Some(v) = bucket["1"]["value"].as_f64() {
                out.insert(keys, v);
            }
        } else {
            points(bucket, target, keys, out);
        }
    }
}

const T0: i64 = 1_566_201_600_000; // 2019-08-19T08:00:00Z

/// The data set: four evaluations 30 s apart (two minutes), lags changed per evaluation.
fn data_set() -> Vec<Measurement> {
    let mut all = Vec::new();
    for (i, at) in [T0, T0 + 30_000, T0 + 60_000, T0 + 90_000]
        .iter()
        .enumerate()
    {
        let snapshot = sample::snapshot_at(*at, i as u64 + 1);
        let mut records = from_snapshot(&snapshot, &MeasurementOptions::default());
        for r in &mut records {
            if let Some(lagwatch_core::measurement::FieldValue::Int(lag)) = r.fields.get_mut("lag")
            {
                *lag += 7 * i as i64;
            }
            if let Some(lagwatch_core::measurement::FieldValue::Int(lag)) =
                r.fields.get_mut("total_lag")
            {
                *lag += 11 * i as i64;
            }
        }
        all.extend(records);
    }
    all
}

/// Expected series of the seed panel: max lag per topic, group, partition and minute.
fn expected(
    records: &[Measurement],
    measurement: &str,
    tags: &[&str],
    field: &str,
    time: bool,
) -> BTreeMap<Vec<String>, f64> {
    let mut out: BTreeMap<Vec<String>, f64> = BTreeMap::new();
    for r in records.iter().filter(|r| r.name.as_str() == measurement) {
        let mut key: Vec<String> = tags.iter().map(|t| r.tag(t).unwrap().to_owned()).collect();
        if time {
            key.push((r.timestamp_ms - r.timestamp_ms.rem_euclid(60_000)).to_string());
        }
        let v = r.int_field(field).unwrap() as f64;
        let e = out.entry(key).or_insert(f64::MIN);
        *e = e.max(v);
    }
    out
}

async fn dashboard_queries(url: &str, mode: TemplateMode, prefix: &str) {
    let index = format!("{prefix}*");
    es::delete_index(url, &index).await.unwrap();
    let mut cfg = lagwatch_config::ElasticsearchSinkConfig::new(url);
    cfg.index_name = format!("{prefix}%Y.%m.%d");
    cfg.batch_max_wait = Duration::from_millis(10);
    let sink = ElasticsearchSink::from_config("es", &cfg).unwrap();
    let name = prefix.trim_end_matches('-');
    setup(sink.client(), name, mode, prefix, None)
        .await
        .unwrap();
    let records = data_set();
    let docs = records
        .iter()
        .map(|m| {
            lagwatch_sink_elasticsearch::bulk::Doc::from_measurement(
                m,
                &lagwatch_sink_elasticsearch::index::IndexPattern::parse(
                    &format!("{prefix}%Y.%m.%d"),
                    "",
                )
                .unwrap(),
            )
        })
        .collect();
    sink.write_docs(docs).await.unwrap();
    es::refresh(url, &index).await.unwrap();
    assert_eq!(es::count(url, &index).await.unwrap(), records.len() as u64);

    // The mapping each mode gives.
    let (_, mapping) = es::request(Method::GET, url, &format!("{index}/_mapping"), None)
        .await
        .unwrap();
    let props = &mapping.as_object().unwrap().values().next().unwrap()["mappings"]["properties"];
    let lag = &props["burrow_partition"]["properties"]["lag"]["type"];
    let topic = &props["tag"]["properties"]["topic"];
    assert_eq!(props["@timestamp"]["type"], "date", "{mode:?}");
    match mode {
        TemplateMode::Telegraf => {
            assert_eq!(*lag, "float");
            assert_eq!(topic["type"], "keyword");
            assert!(topic.get("fields").is_none());
        }
        _ => {
            assert_eq!(*lag, "long", "{mode:?}");
            assert_eq!(topic["type"], "text", "{mode:?}");
            assert_eq!(topic["fields"]["keyword"]["type"], "keyword", "{mode:?}");
        }
    }

    // Telegraf's template maps tags straight to keyword: the same panels query `tag.x`.
    let field = |f: &str| -> String {
        if mode == TemplateMode::Telegraf {
            f.replace(".keyword", "")
        } else {
            f.to_owned()
        }
    };
    let d = dashboard();
    let panel = |title: &str| -> Value {
        d["panels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["title"] == title)
            .unwrap()["targets"][0]
            .clone()
    };
    let (from, to) = (T0, T0 + 119_999);
    let run = |target: Value| {
        let body = to_search(&target, from, to, &field);
        let index = index.clone();
        async move {
            let answer = es::search(url, &index, &body).await.unwrap();
            let mut out = BTreeMap::new();
            points(&answer["aggregations"], &target, Vec::new(), &mut out);
            out
        }
    };

    let seed = run(panel("groupId, topic lag by partition")).await;
    let want = expected(
        &records,
        "burrow_partition",
        &["topic", "group", "partition"],
        "lag",
        true,
    );
    assert_eq!(seed, want, "{mode:?}: seed panel");
    assert_eq!(seed.len(), want.len());

    let totals = run(panel("Total lag per group")).await;
    assert_eq!(
        totals,
        expected(&records, "burrow_group", &["group"], "total_lag", true),
        "{mode:?}: total lag"
    );

    let status = run(panel("Group status (Telegraf status_code)")).await;
    assert_eq!(
        status,
        expected(&records, "burrow_group", &["group"], "status_code", true),
        "{mode:?}: status"
    );

    let top = run(panel("Top 10 lagging partitions")).await;
    assert_eq!(
        top,
        expected(
            &records,
            "burrow_partition",
            &["topic", "group", "partition"],
            "lag",
            false
        ),
        "{mode:?}: top"
    );

    if mode != TemplateMode::None {
        let path = if mode == TemplateMode::Telegraf {
            format!("_template/{name}")
        } else {
            format!("_index_template/{name}")
        };
        es::request(Method::DELETE, url, &path, None).await.unwrap();
    }
    es::delete_index(url, &index).await.unwrap();
}

#[tokio::test]
async fn dashboard_queries_on_elasticsearch_with_dynamic_mapping() {
    dashboard_queries(
        &env::elasticsearch(),
        TemplateMode::None,
        "lagwatch-it-gf-none-es-",
    )
    .await;
}

#[tokio::test]
async fn dashboard_queries_on_elasticsearch_with_the_lagwatch_template() {
    dashboard_queries(
        &env::elasticsearch(),
        TemplateMode::Lagwatch,
        "lagwatch-it-gf-lw-es-",
    )
    .await;
}

#[tokio::test]
async fn dashboard_queries_on_elasticsearch_with_the_telegraf_template() {
    dashboard_queries(
        &env::elasticsearch(),
        TemplateMode::Telegraf,
        "lagwatch-it-gf-tg-es-",
    )
    .await;
}

#[tokio::test]
async fn dashboard_queries_on_opensearch_with_dynamic_mapping() {
    dashboard_queries(
        &env::opensearch(),
        TemplateMode::None,
        "lagwatch-it-gf-none-os-",
    )
    .await;
}

#[tokio::test]
async fn dashboard_queries_on_opensearch_with_the_lagwatch_template() {
    dashboard_queries(
        &env::opensearch(),
        TemplateMode::Lagwatch,
        "lagwatch-it-gf-lw-os-",
    )
    .await;
}

#[tokio::test]
async fn dashboard_queries_on_opensearch_with_the_telegraf_template() {
    dashboard_queries(
        &env::opensearch(),
        TemplateMode::Telegraf,
        "lagwatch-it-gf-tg-os-",
    )
    .await;
}
