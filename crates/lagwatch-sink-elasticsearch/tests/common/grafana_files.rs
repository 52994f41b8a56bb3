//! The files under deploy/grafana, read for the tests (shared by `grafana_provisioning`,
//! which checks them, and `grafana`, which runs the dashboard's queries).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::path::PathBuf;
use yaml_rust2::{Yaml, YamlLoader};

/// The path of `path` under deploy/grafana.
pub fn deploy(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/grafana")
        .join(path)
}

/// A YAML document as JSON.
pub fn to_json(y: &Yaml) -> Value {
    match y {
        Yaml::Real(r) => json!(r.parse::<f64>().unwrap()),
        Yaml::Integer(i) => json!(i),
        Yaml::String(s) => json!(s),
        Yaml::Boolean(b) => json!(b),
        Yaml::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .map(|(k, v)| (k.as_str().unwrap().to_owned(), to_json(v)))
                .collect(),
        ),
        Yaml::Null => Value::Null,
        other => panic!("unexpected YAML node {other:?}"),
    }
}

/// The YAML file `path` under deploy/grafana, as JSON.
pub fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(deploy(path)).unwrap();
    let docs = YamlLoader::load_from_str(&text).unwrap();
    assert_eq!(docs.len(), 1, "{path}");
    to_json(&docs[0])
}

/// The provisioned dashboard.
pub fn dashboard() -> Value {
    serde_json::from_str(&std::fs::read_to_string(deploy("dashboards/kafka-lag.json")).unwrap())
        .unwrap()
}
