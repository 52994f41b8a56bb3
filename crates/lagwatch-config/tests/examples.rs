//! The example configurations under deploy/config load, agree with each other and survive a
//! round trip through `to_toml_redacted`.

use lagwatch_config::{Config, Format, SinkConfig, SourceConfig};
use std::path::PathBuf;
use std::time::Duration;

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/config")
        .join(name)
}

fn load(name: &str) -> Config {
    match Config::from_file(example(name)) {
        Ok(c) => c,
        Err(e) => panic!("{name}: {e}"),
    }
}

#[test]
fn toml_example_loads() {
    let c = load("lagwatch.toml");
    assert_eq!(c.model.intervals, 15);
    assert_eq!(c.model.min_distance, Duration::from_secs(1));
    assert_eq!(c.model.expire_group, Duration::from_secs(7 * 86_400));
    assert_eq!(c.evaluator.minimum_complete, 0.5);
    assert_eq!(c.sources.keys().collect::<Vec<_>>(), ["live"]);
    assert_eq!(c.sinks.keys().collect::<Vec<_>>(), ["archive", "console"]);
    match c.sinks.get("archive") {
        Some(SinkConfig::File(f)) => {
            assert_eq!(f.path, PathBuf::from("/var/lib/lagwatch/lag.ndjson"));
            assert_eq!(f.max_files, 14);
        }
        other => panic!("archive sink: {other:?}"),
    }
    match c.sources.get("live") {
        Some(SourceConfig::Kafka(k)) => {
            assert_eq!(k.servers, "kafka-1:9092,kafka-2:9092,kafka-3:9092");
            assert_eq!(k.offset_refresh, Duration::from_secs(30));
            assert_eq!(k.sasl_username, "lagwatch");
        }
        other => panic!("live source: {other:?}"),
    }
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn yaml_example_is_the_same_configuration() {
    assert_eq!(load("lagwatch.yaml"), load("lagwatch.toml"));
}

#[test]
fn example_round_trips_through_the_shown_toml() {
    let c = load("lagwatch.toml");
    let shown = match c.to_toml_redacted() {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let again = Config::from_str(&shown, Format::Toml);
    assert_eq!(again.ok(), Some(c));
}

/// The configuration a Kubernetes manifest under deploy/k8s carries in its ConfigMap.
fn k8s_config(name: &str) -> Config {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/k8s")
        .join(name);
    let manifest = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let embedded: String = manifest
        .lines()
        .skip_while(|l| l.trim() != "lagwatch.toml: |")
        .skip(1)
        .take_while(|l| l.starts_with("    ") || l.trim().is_empty())
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect();
    assert!(
        !embedded.is_empty(),
        "{name}: no lagwatch.toml in the ConfigMap"
    );
    let config =
        Config::from_str(&embedded, Format::Toml).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(config.validate(), Ok(()), "{name}");
    config
}

#[test]
fn the_kubernetes_manifests_carry_valid_configurations() {
    let single = k8s_config("lagwatch.yaml");
    let shared = k8s_config("lagwatch-shared.yaml");
    let coordination = |c: &Config| match c.sources.get("live") {
        Some(SourceConfig::Kafka(k)) => (k.coordination_group.clone(), k.alert_topic()),
        other => panic!("live source: {other:?}"),
    };
    assert_eq!(coordination(&single), (String::new(), String::new()));
    assert_eq!(
        coordination(&shared),
        ("lagwatch".to_owned(), "lagwatch.alerts".to_owned())
    );
    // The shared pods announce their own address (from the pod IP) for forwarding.
    let manifest = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/k8s/lagwatch-shared.yaml"),
    )
    .unwrap_or_default();
    let advertise = manifest
        .lines()
        .skip_while(|l| !l.contains("name: LAGWATCH_HTTP__ADVERTISE"))
        .nth(1)
        .and_then(|l| l.trim().strip_prefix("value: "))
        .map(|v| v.trim_matches('"').replace("$(POD_IP)", "10.0.0.7"))
        .unwrap_or_default();
    assert_eq!(advertise, "http://10.0.0.7:8000");
    let mut with_address = shared;
    with_address.http.advertise = advertise;
    assert_eq!(with_address.validate(), Ok(()));
}
