//! Issue #7: "A document written by lagwatch and the document Telegraf writes for the same
//! Burrow data have the same keys and value types", checked against Telegraf's own output.
//!
//! The harness's Burrow watches a Kafka 3.9 group with a known lag. The harness's Telegraf
//! (1.37) runs once (`telegraf --once`) with `[[inputs.burrow]]` filtered to that group and
//! topic, and the real `lagwatch run` reads the same Burrow with its `burrow` source and the
//! same filters; both write into the harness's OpenSearch, each into its own index. Then, for
//! every `burrow_group`, `burrow_partition` and `burrow_topic` document of that group and
//! topic, the Telegraf document and lagwatch's document of the same series must have
//!
//! * the same key set, recursively;
//! * the same JSON value type per key (string, integer, float, boolean, object), as stored
//!   in `_source`;
//! * the same values, tags and fields (only `@timestamp` differs: two runs);
//!
//! and OpenSearch's dynamic mapping of the two indices must be the same (what dashboards see).
//!
//! Why OpenSearch: Telegraf's `outputs.elasticsearch` reads the version from `GET /` before
//! it writes anything. The harness's Elasticsearch 9 (an integ-test build) answers that with
//! 405 and Telegraf gives up with `elasticsearch version not supported: `; against OpenSearch
//! 3.8 it gives up with `elasticsearch version not supported: 3.8.0`. Telegraf's
//! `outputs.opensearch` builds the same document (`@timestamp`, `measurement_name`, `tag`,
//! and the fields under the measurement name) and writes to OpenSearch, so both sides go
//! through the same store.
//!
//! Telegraf runs with a fixed `hostname` (so its `host` tag is known) and lagwatch's sink with
//! the same `host`, which checks that tag too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_test_support::services::{burrow, env, es, kafka, names, wait};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(120);
const HOST: &str = "lw-compare-host";
const MEASUREMENTS: [&str; 3] = ["burrow_group", "burrow_partition", "burrow_topic"];

/// The type of a JSON value as a dashboard sees it; objects and arrays recursively.
fn shape(value: &Value) -> Value {
    match value {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("boolean"),
        Value::Number(n) if n.is_f64() => json!("float"),
        Value::Number(_) => json!("integer"),
        Value::String(_) => json!("string"),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), shape(v)))
                .collect::<serde_json::Map<_, _>>(),
        ),
    }
}

/// `measurement_name` and the tags: which series a document belongs to.
fn series(doc: &Value) -> String {
    format!("{} {}", doc["measurement_name"], doc["tag"])
}

/// The documents of `index`, by series; more than one per series is an error.
async fn documents(url: &str, index: &str) -> BTreeMap<String, Value> {
    es::refresh(url, index).await.unwrap();
    let sources = es::search_sources(
        url,
        index,
        &json!({"size": 1000, "query": {"match_all": {}}}),
    )
    .await
    .unwrap();
    let mut by_series = BTreeMap::new();
    for doc in sources {
        if let Some(before) = by_series.insert(series(&doc), doc.clone()) {
            panic!("two documents of one series in {index}: {before} and {doc}");
        }
    }
    by_series
}

/// lagwatch's documents of one evaluation that has `wanted` series: the first at or after
/// `from` (an `@timestamp`; both sides write `YYYY-MM-DDTHH:MM:SSZ`, which sorts as text),
/// else the newest.
async fn lagwatch_cycle(
    url: &str,
    index: &str,
    wanted: usize,
    from: &str,
) -> anyhow::Result<Option<BTreeMap<String, Value>>> {
    let _ = es::refresh(url, index).await;
    let sources = es::search_sources(
        url,
        index,
        &json!({"size": 1000, "query": {"match_all": {}}}),
    )
    .await?;
    let mut cycles: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    for doc in sources {
        let at = doc["@timestamp"].as_str().unwrap_or_default().to_owned();
        cycles.entry(at).or_default().insert(series(&doc), doc);
    }
    cycles.retain(|_, c| c.len() == wanted);
    let first_after = cycles.keys().find(|at| at.as_str() >= from).cloned();
    Ok(match first_after {
        Some(at) => cycles.remove(&at),
        None => cycles.into_values().next_back(),
    })
}

/// Runs `telegraf --once` with `config`; returns its combined output.
fn run_telegraf(config: &Path) -> String {
    let output = Command::new(env::telegraf())
        .args(["--once", "--config"])
        .arg(config)
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .output()
        .expect("run telegraf");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "telegraf failed: {text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagwatch_writes_what_telegraf_writes_for_the_same_burrow_data() {
    let endpoint = env::burrow();
    let broker = env::kafka_legacy();
    let store = env::opensearch();
    let telegraf_bin = env::telegraf();
    es::wait_for_yellow(&store, TIMEOUT).await.unwrap();

    // A group with a known lag: 12 and 5 messages, committed twice (2/1, then 4/3).
    let topic = names::topic("lw-tg-compare");
    let group = names::group("lw-tg-compare");
    kafka::create_topic(&broker, &topic, 2).await.unwrap();
    kafka::produce(&broker, &topic, Some(0), 12).await.unwrap();
    kafka::produce(&broker, &topic, Some(1), 5).await.unwrap();
    burrow::wait_for_topic_offsets(&endpoint, &topic, &[12, 5], TIMEOUT)
        .await
        .unwrap();
    for (p0, p1) in [(2, 1), (4, 3)] {
        kafka::commit_offsets(&broker, &group, &[(&topic, 0, p0), (&topic, 1, p1)])
            .await
            .unwrap();
    }
    burrow::wait_for_total_lag(&endpoint, &group, 10, TIMEOUT)
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let tg_index = names::index("lw-tg-telegraf");
    let lw_index = names::index("lw-tg-lagwatch");

    // lagwatch: the burrow source into the Elasticsearch sink, pointed at OpenSearch.
    let lw_config = dir.path().join("lagwatch.toml");
    std::fs::write(
        &lw_config,
        format!(
            r#"[general]
evaluation_interval = "1s"

[sources.burrow]
type = "burrow"
servers = [{burrow:?}]
interval = "1s"
groups_include = [{group:?}]
topics_include = [{topic:?}]

[sinks.es]
type = "elasticsearch"
url = {store:?}
index_name = {lw_index:?}
host = {HOST:?}
batch_max_wait = "50ms"
"#,
            burrow = endpoint.url,
        ),
    )
    .unwrap();
    let log = dir.path().join("lagwatch.log");
    let out = std::fs::File::create(&log).unwrap();
    let mut lagwatch = Command::new(env!("CARGO_BIN_EXE_lagwatch"))
        // Several collectors run at once: each takes a free port for its HTTP API.
        .env("LAGWATCH_HTTP__LISTEN", "127.0.0.1:0")
        .args(["run", "--config"])
        .arg(&lw_config)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("start lagwatch run");
    // 1 group + 2 group partitions + 2 topic partitions.
    let first = wait::until(
        "a complete lagwatch evaluation in OpenSearch",
        TIMEOUT,
        Duration::from_millis(500),
        || lagwatch_cycle(&store, &lw_index, 5, ""),
    )
    .await;
    if let Err(e) = first {
        let _ = lagwatch.kill();
        panic!("{e:#}\n{}", std::fs::read_to_string(&log).unwrap());
    }

    // Telegraf, once, the seed's input plugin with the same filters, into OpenSearch.
    let tg_config = dir.path().join("telegraf.toml");
    std::fs::write(
        &tg_config,
        format!(
            r#"[agent]
  interval = "10s"
  omit_hostname = false
  hostname = {HOST:?}

[[inputs.burrow]]
  servers = [{burrow:?}]
  groups_include = [{group:?}]
  topics_include = [{topic:?}]

[[outputs.opensearch]]
  urls = [{store:?}]
  index_name = {tg_index:?}
  template_name = "telegraf"
  manage_template = false
  timeout = "5s"
"#,
            burrow = endpoint.url,
        ),
    )
    .unwrap();
    let telegraf_log = tokio::task::spawn_blocking(move || run_telegraf(&tg_config))
        .await
        .unwrap();
    es::wait_for_count(&store, &tg_index, 5, TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e:#}\n{telegraf_log}"));
    // One more evaluation after Telegraf's gather, then stop lagwatch (SIGTERM).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &lagwatch.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = lagwatch.wait().unwrap();
    let lagwatch_log = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{status}: {lagwatch_log}");

    let theirs = documents(&store, &tg_index).await;
    let gathered_at = theirs
        .values()
        .filter_map(|d| d["@timestamp"].as_str())
        .min()
        .unwrap_or_default()
        .to_owned();
    let ours = lagwatch_cycle(&store, &lw_index, theirs.len(), &gathered_at)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no lagwatch evaluation with {} series", theirs.len()));
    println!(
        "telegraf {} (version {}):",
        telegraf_bin.display(),
        Command::new(&telegraf_bin)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    );
    for doc in theirs.values() {
        println!("  telegraf: {doc}");
    }
    for doc in ours.values() {
        println!("  lagwatch: {doc}");
    }

    // The same series, the same measurements, each with the group's and topic's data.
    assert_eq!(
        theirs.keys().collect::<Vec<_>>(),
        ours.keys().collect::<Vec<_>>(),
        "series differ"
    );
    for name in MEASUREMENTS {
        assert!(
            theirs.values().any(|d| d["measurement_name"] == name),
            "Telegraf wrote no {name}"
        );
    }
    let mut differences = Vec::new();
    for (key, tg) in &theirs {
        let lw = &ours[key];
        if shape(tg) != shape(lw) {
            differences.push(format!(
                "{key}: keys/types differ: telegraf {} lagwatch {}",
                shape(tg),
                shape(lw)
            ));
        }
        let name = tg["measurement_name"].as_str().unwrap();
        for part in ["measurement_name", "tag", name] {
            if tg[part] != lw[part] {
                differences.push(format!(
                    "{key}: {part}: telegraf {} lagwatch {}",
                    tg[part], lw[part]
                ));
            }
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    // The known data, in Telegraf's terms.
    let group_doc = theirs
        .values()
        .find(|d| d["measurement_name"] == "burrow_group")
        .unwrap();
    assert_eq!(group_doc["burrow_group"]["total_lag"], json!(10));
    assert_eq!(group_doc["burrow_group"]["offset"], json!(7));
    assert_eq!(group_doc["tag"]["host"], json!(HOST));

    // What dashboards see: the same dynamic mapping.
    let mapping = |index: String| {
        let store = store.clone();
        async move {
            let (_, answer) = es::request(
                reqwest::Method::GET,
                &store,
                &format!("{index}/_mapping"),
                None,
            )
            .await
            .unwrap();
            answer[&index]["mappings"].clone()
        }
    };
    assert_eq!(
        mapping(tg_index.clone()).await,
        mapping(lw_index.clone()).await
    );

    es::delete_index(&store, &tg_index).await.unwrap();
    es::delete_index(&store, &lw_index).await.unwrap();
    kafka::delete_group(&broker, &group).await.unwrap();
    kafka::delete_topic(&broker, &topic).await.unwrap();
}
