//! Issue #16 acceptance, Burrow side: lagwatch's HTTP API next to the harness's real Burrow,
//! both watching the same Kafka 3.9 cluster, group and topic.
//!
//! * **Real Telegraf, both ways**: Telegraf's `inputs.burrow` gathers once from Burrow and once
//!   from lagwatch; the two runs give the same measurements, tags, field sets and values
//!   (Telegraf's own time stamp aside).
//! * **Burrow shape**: every v3 endpoint's JSON, and the error answers for an unknown cluster,
//!   group or topic, has Burrow's keys, JSON types and HTTP status code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_test_support::services::shape::compare_shapes;
use lagwatch_test_support::services::telegraf::{self, Metric};
use lagwatch_test_support::services::{burrow, env, kafka, names, wait};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(120);

mod collector;
use collector::Collector;

/// A `lagwatch run` reading Kafka 3.9 like the harness's Burrow does.
fn start_lagwatch(cluster: &str, bootstrap: &str) -> Collector {
    // Burrow's storage settings in the harness: 10 intervals, min-distance 1 s.
    let config = format!(
        r#"[general]
evaluation_interval = "1s"
persist_state = false

[model]
intervals = 10
min_distance = "1s"

[sources.legacy]
type = "kafka"
cluster = {cluster:?}
servers = {bootstrap:?}
offset_refresh = "2s"
topic_refresh = "3s"

[sinks.out]
type = "stdout"
format = "json"
"#
    );
    Collector::start(&config, &[])
}

async fn get(base: &str, path: &str) -> (u16, Value) {
    let response = reqwest::get(format!("{base}{path}")).await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// Measurements by name and tags: what Telegraf writes, without its own time stamp.
fn series(metrics: &[Metric]) -> BTreeMap<String, BTreeMap<String, Value>> {
    let mut out = BTreeMap::new();
    for m in metrics {
        let key = format!("{} {:?}", m.name, m.tags);
        assert!(
            out.insert(key.clone(), m.fields.clone()).is_none(),
            "two metrics of one series: {key}"
        );
    }
    out
}

fn inputs(url: &str, group: &str, topic: &str) -> String {
    format!(
        "[[inputs.burrow]]\n  servers = [{url:?}]\n  groups_include = [{group:?}]\n  topics_include = [{topic:?}]\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegraf_reads_lagwatch_like_burrow_and_every_endpoint_has_burrows_shape() {
    let endpoint = env::burrow();
    let broker = env::kafka_legacy();
    let cluster = endpoint.cluster.clone();

    // A group with a known lag: 12 and 5 messages, committed 4 and 3.
    let topic = names::topic("lw-http-burrow");
    let group = names::group("lw-http-burrow");
    kafka::create_topic(&broker, &topic, 2).await.unwrap();
    kafka::produce(&broker, &topic, Some(0), 12).await.unwrap();
    kafka::produce(&broker, &topic, Some(1), 5).await.unwrap();
    // Burrow drops a commit for a topic it has not listed yet: wait until it has. (Its
    // broker-offset history then starts at the produced end offsets, as lagwatch's does, so
    // both judge the single commit the same way: Burrow's "recent lag zero" exception does
    // not apply to either.)
    burrow::wait_for_topic_offsets(&endpoint, &topic, &[12, 5], TIMEOUT)
        .await
        .unwrap();
    kafka::commit_offsets(&broker, &group, &[(&topic, 0, 4), (&topic, 1, 3)])
        .await
        .unwrap();
    burrow::wait_for_total_lag(&endpoint, &group, 10, TIMEOUT)
        .await
        .unwrap();

    let lagwatch = start_lagwatch(&cluster, &broker.bootstrap);
    // Wait until both judge the single commit for good: STOP once any time has passed since
    // it (Burrow caches an evaluation for 10 s, and right after the commit the rule says
    // STALL), so what Telegraf reads next is the same on both sides.
    let lag_path = format!("/v3/kafka/{cluster}/consumer/{group}/lag");
    for base in [endpoint.url.clone(), lagwatch.url.clone()] {
        let path = lag_path.clone();
        wait::until(
            "a settled verdict",
            TIMEOUT,
            Duration::from_millis(500),
            || {
                let (base, path) = (base.clone(), path.clone());
                async move {
                    let (code, body) = get(&base, &path).await;
                    let settled = code == 200
                        && body["status"]["totallag"] == 10
                        && body["status"]["partitions"].as_array().is_some_and(|ps| {
                            ps.len() == 2 && ps.iter().all(|p| p["status"] == "STOP")
                        });
                    Ok(settled.then_some(()))
                }
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{base}: {e:#}"));
    }

    // Telegraf's inputs.burrow, once against each.
    let theirs = series(
        &telegraf::gather_once(&inputs(&endpoint.url, &group, &topic))
            .await
            .unwrap(),
    );
    let ours = series(
        &telegraf::gather_once(&inputs(&lagwatch.url, &group, &topic))
            .await
            .unwrap(),
    );
    for (key, fields) in &theirs {
        println!("burrow   {key} {fields:?}");
    }
    for (key, fields) in &ours {
        println!("lagwatch {key} {fields:?}");
    }
    // 1 group + 2 partitions + 2 topic partitions.
    assert_eq!(theirs.len(), 5, "Telegraf's series from Burrow");
    assert_eq!(
        theirs.keys().collect::<Vec<_>>(),
        ours.keys().collect::<Vec<_>>(),
        "the same measurements and tags"
    );
    for (key, fields) in &theirs {
        assert_eq!(&ours[key], fields, "fields of {key}");
    }

    // Every v3 endpoint: same status code, same keys and JSON types.
    let known = [
        "/v3/kafka".to_owned(),
        format!("/v3/kafka/{cluster}"),
        format!("/v3/kafka/{cluster}/topic"),
        format!("/v3/kafka/{cluster}/topic/{topic}"),
        format!("/v3/kafka/{cluster}/topic/{topic}/consumers"),
        format!("/v3/kafka/{cluster}/consumer"),
        format!("/v3/kafka/{cluster}/consumer/{group}"),
        format!("/v3/kafka/{cluster}/consumer/{group}/status"),
        format!("/v3/kafka/{cluster}/consumer/{group}/lag"),
        "/v3/admin/loglevel".to_owned(),
        "/v3/config/storage".to_owned(),
        "/v3/config/evaluator".to_owned(),
        "/v3/config/cluster".to_owned(),
        "/v3/config/consumer".to_owned(),
    ];
    let unknown = [
        "/v3/kafka/no-such-cluster".to_owned(),
        "/v3/kafka/no-such-cluster/topic".to_owned(),
        format!("/v3/kafka/{cluster}/topic/no-such-topic"),
        "/v3/kafka/no-such-cluster/topic/x/consumers".to_owned(),
        "/v3/kafka/no-such-cluster/consumer".to_owned(),
        format!("/v3/kafka/{cluster}/consumer/no-such-group"),
        format!("/v3/kafka/{cluster}/consumer/no-such-group/status"),
        format!("/v3/kafka/{cluster}/consumer/no-such-group/lag"),
        "/v3/kafka/no-such-cluster/consumer/x/lag".to_owned(),
        "/v3/config/storage/no-such-module".to_owned(),
        "/v4/no-such-path".to_owned(),
    ];
    let mut problems = Vec::new();
    for path in known.iter().chain(&unknown) {
        let (their_code, their_body) = get(&endpoint.url, path).await;
        let (our_code, our_body) = get(&lagwatch.url, path).await;
        if their_code != our_code {
            problems.push(format!("{path}: status {our_code}, Burrow {their_code}"));
        }
        for difference in compare_shapes(&our_body, &their_body) {
            // `observedAt` (when Burrow stored a commit) is written by current Burrow but not
            // by Debian's 1.2.1, the harness's; lagwatch writes it as current Burrow does.
            if difference.ends_with("key `observedAt` only in ours") {
                continue;
            }
            problems.push(format!("{path}: {difference}"));
        }
    }
    let (code, text) = get(&lagwatch.url, "/burrow/admin").await;
    assert_eq!((code, text), (200, Value::String("GOOD".into())));
    assert!(
        problems.is_empty(),
        "differences from Burrow:\n{}",
        problems.join("\n")
    );
}
