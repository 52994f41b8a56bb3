//! `--telegraf-config`: the seed pipeline's telegraf.conf (loopback addresses, an unrelated
//! `[[inputs.cpu]]`) validates and converts. No external service is needed: neither command
//! connects to Burrow or Elasticsearch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

/// The seed's telegraf.conf; the Elasticsearch host comes from `${ES_HOST}`.
const SEED: &str = r#"[agent]
  interval = "10s"

[[inputs.cpu]]
  percpu = true

[[inputs.burrow]]
  servers = ["http://127.0.0.1:8000"]
  topics_exclude = ["__consumer_offsets"]
  groups_exclude = ["console-*"]

[[outputs.elasticsearch]]
  urls = ["http://${ES_HOST}:9200"]
  timeout = "5s"
  enable_sniffer = false
  health_check_interval = "10s"
  index_name = "burrow-%Y.%m.%d"
  manage_template = false
"#;

const BURROW: &str = r#"[cluster.live]
class-name="kafka"
servers=["127.0.0.1:9092"]

[consumer.live]
class-name="kafka"
cluster="live"

[httpserver.default]
address=":8000"
timeout=300
"#;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn lagwatch(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lagwatch"))
        .args(args)
        .env("ES_HOST", "127.0.0.1")
        .output()
        .unwrap()
}

fn warned_paths(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.strip_prefix("warning: "))
        .map(|l| l.split(": ").next().unwrap_or(""))
        .collect()
}

#[test]
fn validate_prints_the_warnings_and_ok() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "telegraf.conf", SEED);
    let validated = lagwatch(&["validate", "--telegraf-config", &file]);
    let text = String::from_utf8_lossy(&validated.stdout);
    assert!(validated.status.success(), "{text}");
    assert_eq!(
        warned_paths(&text),
        [
            "inputs.cpu[0]",
            "outputs.elasticsearch[0].health_check_interval"
        ]
    );
    assert_eq!(text.lines().last(), Some("ok"));
}

#[test]
fn convert_prints_toml_with_the_burrow_source_and_the_elasticsearch_sink() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "telegraf.conf", SEED);
    let converted = lagwatch(&["config", "convert", "--telegraf-config", &file]);
    let toml_text = String::from_utf8_lossy(&converted.stdout);
    assert!(converted.status.success(), "{toml_text}");
    assert!(toml_text.starts_with("# Imported from "), "{toml_text}");
    assert!(
        toml_text.contains("\n# inputs.cpu[0]: not imported"),
        "{toml_text}"
    );
    let table: toml::Table = toml_text.parse().unwrap();
    let source = &table["sources"]["burrow"];
    assert_eq!(source["type"].as_str(), Some("burrow"));
    assert_eq!(
        source["servers"].as_array().unwrap()[0].as_str(),
        Some("http://127.0.0.1:8000")
    );
    assert_eq!(source["interval"].as_str(), Some("10s"));
    assert_eq!(
        source["groups_exclude"].as_array().unwrap()[0].as_str(),
        Some("console-*")
    );
    let sink = &table["sinks"]["elasticsearch"];
    assert_eq!(sink["type"].as_str(), Some("elasticsearch"));
    assert_eq!(sink["url"].as_str(), Some("http://127.0.0.1:9200"));
    assert_eq!(sink["index_name"].as_str(), Some("burrow-%Y.%m.%d"));
    assert_eq!(sink["timeout"].as_str(), Some("5s"));
    assert!(table["sinks"].get("stdout").is_none(), "{toml_text}");
}

#[test]
fn burrow_and_telegraf_files_combine_and_bad_values_name_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let telegraf = write(&dir, "telegraf.conf", SEED);
    let burrow = write(&dir, "burrow.toml", BURROW);
    let validated = lagwatch(&[
        "validate",
        "--burrow-config",
        &burrow,
        "--telegraf-config",
        &telegraf,
    ]);
    let text = String::from_utf8_lossy(&validated.stdout);
    assert!(validated.status.success(), "{text}");
    let lines: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("warning: "))
        .collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[0].starts_with(&format!("{burrow}: httpserver.default.timeout: ")),
        "{text}"
    );
    assert!(
        lines[3].starts_with(&format!("{telegraf}: inputs.burrow[0]: not imported")),
        "{text}"
    );

    let converted = lagwatch(&[
        "config",
        "convert",
        "--burrow-config",
        &burrow,
        "--telegraf-config",
        &telegraf,
    ]);
    let table: toml::Table = String::from_utf8_lossy(&converted.stdout).parse().unwrap();
    assert_eq!(table["sources"]["live"]["type"].as_str(), Some("kafka"));
    assert!(table["sources"].get("burrow").is_none());
    // Burrow's listener address carries over, so inputs.burrow elsewhere keeps its URL.
    assert_eq!(table["http"]["listen"].as_str(), Some("0.0.0.0:8000"));
    assert_eq!(
        table["sinks"]["elasticsearch"]["type"].as_str(),
        Some("elasticsearch")
    );

    let bad = write(
        &dir,
        "bad.conf",
        "[[inputs.burrow]]\n  response_timeout = \"soon\"\n",
    );
    let refused = lagwatch(&["validate", "--telegraf-config", &bad]);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&refused.stdout).trim_end(),
        format!(
            "{bad}: inputs.burrow[0].response_timeout: expected a duration string like \"5s\", \
             found \"soon\""
        )
    );

    let both = lagwatch(&["validate", "--config", &bad, "--telegraf-config", &bad]);
    assert_eq!(both.status.code(), Some(2), "--config conflicts");
}
