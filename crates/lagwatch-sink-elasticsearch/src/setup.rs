//! Index templates and retention policies (`lagwatch es setup`).
//!
//! Three template modes:
//!
//! * [`TemplateMode::None`]: nothing is installed; Elasticsearch's dynamic mapping applies,
//!   exactly as in the seed pipeline (`manage_template = false`): strings become `text` with a
//!   `.keyword` sub-field, integers `long`, `@timestamp` a `date`.
//! * [`TemplateMode::Telegraf`]: the legacy `_template` Telegraf installs with
//!   `manage_template = true` (tags as plain `keyword`, numbers as unindexed `float`). Offered
//!   for sites that ran Telegraf that way; the seed's `tag.topic.keyword` queries do not work
//!   with it.
//! * [`TemplateMode::Lagwatch`]: a composable `_index_template` giving the dynamic-mapping
//!   shape the seed's dashboards rely on (tags as `text` + `.keyword`), with exact types:
//!   `long` for offsets, lags and times, `date` for `@timestamp`.
//!
//! Retention (optional) is an ILM policy on Elasticsearch and an ISM policy on OpenSearch,
//! deleting an index a given time after its creation (daily indices need no rollover).
//!
//! [`setup_data_stream`] does the same for a data stream (the sink's `data_stream = true`):
//! the lagwatch template gets `"data_stream": {}` and matches exactly the stream's name, the
//! retention policy rolls the write index over daily before deleting old backing indices, and
//! the stream itself is created (`PUT _data_stream/<name>`), which also checks that a matching
//! data stream template exists.

use crate::EsError;
use crate::client::{EsClient, Flavor, ServerInfo};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// Default name of the template and of the retention policy lagwatch installs.
pub const NAME: &str = "lagwatch-burrow";

/// Which index template to install.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TemplateMode {
    /// No template: dynamic mapping (the seed's setup).
    #[default]
    None,
    /// Telegraf's own legacy template.
    Telegraf,
    /// lagwatch's composable template (dynamic-mapping shape with exact types).
    Lagwatch,
}

impl std::str::FromStr for TemplateMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(TemplateMode::None),
            "telegraf" => Ok(TemplateMode::Telegraf),
            "lagwatch" => Ok(TemplateMode::Lagwatch),
            other => Err(format!(
                "unknown template mode {other:?} (none, telegraf, lagwatch)"
            )),
        }
    }
}

/// A text field with a `.keyword` sub-field, as dynamic mapping makes it.
fn text_keyword() -> Value {
    json!({"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}})
}

/// The composable template of [`TemplateMode::Lagwatch`] for indices `<prefix>*`; with
/// `ilm` it attaches that ILM policy (`index.lifecycle.name`). OpenSearch needs no setting:
/// its ISM policy attaches itself through its `ism_template`.
pub fn lagwatch_template(prefix: &str, ilm: Option<&str>) -> Value {
    let long = json!({"type": "long"});
    let burrow_fields = |names: &[&str]| {
        let mut props = serde_json::Map::new();
        for n in names {
            props.insert((*n).to_owned(), long.clone());
        }
        props.insert("status".to_owned(), text_keyword());
        Value::Object(props)
    };
    let mut settings = json!({"index": {"refresh_interval": "10s"}});
    if let Some(policy) = ilm {
        settings["index"]["lifecycle"] = json!({"name": policy});
    }
    json!({
        "index_patterns": [format!("{prefix}*")],
        "priority": 200,
        "version": 1,
        "_meta": {"managed_by": "lagwatch"},
        "template": {
            "settings": settings,
            "mappings": {
                "dynamic_templates": [
                    {"tags": {
                        "path_match": "tag.*",
                        "match_mapping_type": "string",
                        "mapping": text_keyword()
                    }},
                    {"strings": {
                        "match_mapping_type": "string",
                        "mapping": text_keyword()
                    }},
                    {"integers": {"match_mapping_type": "long", "mapping": {"type": "long"}}},
                    {"floats": {"match_mapping_type": "double", "mapping": {"type": "double"}}}
                ],
                "properties": {
                    "@timestamp": {"type": "date"},
                    "measurement_name": text_keyword(),
                    "burrow_partition": {"properties": burrow_fields(&["lag", "offset", "status_code", "timestamp"])},
                    "burrow_group": {"properties": burrow_fields(&["lag", "offset", "partition_count", "status_code", "timestamp", "total_lag"])},
                    "burrow_topic": {"properties": {"offset": {"type": "long"}}}
                }
            }
        }
    })
}

/// The composable template of [`TemplateMode::Lagwatch`] for the data stream `stream`: the
/// same mappings and settings as [`lagwatch_template`], `"data_stream": {}`, and an index
/// pattern that is exactly the stream's name. Its priority (210) is above the daily
/// template's, so a stream whose name starts like the daily indices still gets this one.
pub fn lagwatch_data_stream_template(stream: &str, ilm: Option<&str>) -> Value {
    let mut template = lagwatch_template(stream, ilm);
    template["index_patterns"] = json!([stream]);
    template["priority"] = json!(210);
    template["data_stream"] = json!({});
    template
}

/// Telegraf's legacy template (`manage_template = true`, Elasticsearch 7+ form) for indices
/// `<prefix>*`.
pub fn telegraf_template(prefix: &str) -> Value {
    json!({
        "index_patterns": [format!("{prefix}*")],
        "settings": {"index": {
            "refresh_interval": "10s",
            "mapping.total_fields.limit": 5000,
            "auto_expand_replicas": "0-1",
            "codec": "best_compression"
        }},
        "mappings": {
            "properties": {
                "@timestamp": {"type": "date"},
                "measurement_name": {"type": "keyword"}
            },
            "dynamic_templates": [
                {"tags": {
                    "path_match": "tag.*",
                    "match_mapping_type": "string",
                    "mapping": {"ignore_above": 512, "type": "keyword"}
                }},
                {"metrics_long": {
                    "match_mapping_type": "long",
                    "mapping": {"type": "float", "index": false}
                }},
                {"metrics_double": {
                    "match_mapping_type": "double",
                    "mapping": {"type": "float", "index": false}
                }},
                {"text_fields": {"match": "*", "mapping": {"norms": false}}}
            ]
        }
    })
}

/// The ILM policy (Elasticsearch) deleting an index `days` days after its creation.
pub fn ilm_policy(days: u64) -> Value {
    json!({"policy": {
        "_meta": {"managed_by": "lagwatch"},
        "phases": {
            "hot": {"min_age": "0ms", "actions": {}},
            "delete": {"min_age": format!("{days}d"), "actions": {"delete": {}}}
        }
    }})
}

/// The ISM policy (OpenSearch) deleting an index `days` days after its creation, attached
/// automatically to new indices `<prefix>*`.
pub fn ism_policy(prefix: &str, days: u64) -> Value {
    json!({"policy": {
        "description": "lagwatch: delete burrow indices after the retention period",
        "default_state": "hot",
        "states": [
            {"name": "hot", "actions": [], "transitions": [
                {"state_name": "delete", "conditions": {"min_index_age": format!("{days}d")}}
            ]},
            {"name": "delete", "actions": [{"delete": {}}], "transitions": []}
        ],
        "ism_template": [{"index_patterns": [format!("{prefix}*")], "priority": 100}]
    }})
}

/// The ILM policy (Elasticsearch) for a data stream: the write index rolls over after a day
/// (or at 50 GB per primary shard), and a backing index is deleted `days` days after its
/// rollover. (The write index of a data stream cannot be deleted, so without rollover
/// nothing would ever be.)
pub fn ilm_data_stream_policy(days: u64) -> Value {
    json!({"policy": {
        "_meta": {"managed_by": "lagwatch"},
        "phases": {
            "hot": {"min_age": "0ms", "actions": {
                "rollover": {"max_age": "1d", "max_primary_shard_size": "50gb"}
            }},
            "delete": {"min_age": format!("{days}d"), "actions": {"delete": {}}}
        }
    }})
}

/// The ISM policy (OpenSearch) for the data stream `stream`: the write index rolls over after
/// a day and a backing index is deleted `days` days after its creation. ISM matches the
/// `ism_template` patterns of a backing index (`.ds-<stream>-000001`) against the name of
/// its data stream, so the pattern is the stream's name.
pub fn ism_data_stream_policy(stream: &str, days: u64) -> Value {
    json!({"policy": {
        "description": "lagwatch: roll the burrow data stream over daily, delete old backing indices after the retention period",
        "default_state": "hot",
        "states": [
            {"name": "hot", "actions": [{"rollover": {"min_index_age": "1d"}}], "transitions": [
                {"state_name": "delete", "conditions": {"min_index_age": format!("{days}d")}}
            ]},
            {"name": "delete", "actions": [{"delete": {}}], "transitions": []}
        ],
        "ism_template": [{"index_patterns": [stream], "priority": 100}]
    }})
}

/// What [`setup`] installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupReport {
    /// Product and version found.
    pub server: ServerInfo,
    /// Requests made, as `METHOD path`.
    pub installed: Vec<String>,
}

/// Installs the template of `mode`, named `name`, for indices `<prefix>*` and, with
/// `retention`, a lifecycle policy of the same name deleting indices that long after their
/// creation (rounded up to whole days).
pub async fn setup(
    client: &EsClient,
    name: &str,
    mode: TemplateMode,
    prefix: &str,
    retention: Option<Duration>,
) -> Result<SetupReport, EsError> {
    if prefix.is_empty() && mode != TemplateMode::None {
        return Err(EsError::IndexPattern {
            pattern: prefix.to_owned(),
            reason: "a template needs an index name that starts with fixed text".to_owned(),
        });
    }
    let server = client.detect().await?;
    let mut installed = Vec::new();
    let days = retention.map(|r| r.as_secs().div_ceil(86_400).max(1));
    if let Some(days) = days {
        let (path, body) = match server.flavor {
            Flavor::Elasticsearch => (format!("/_ilm/policy/{name}"), ilm_policy(days)),
            Flavor::OpenSearch => (
                format!("/_plugins/_ism/policies/{name}"),
                ism_policy(prefix, days),
            ),
        };
        put(client, &path, &body).await?;
        installed.push(format!("PUT {path}"));
    }
    let template = match mode {
        TemplateMode::None => None,
        TemplateMode::Telegraf => Some((format!("/_template/{name}"), telegraf_template(prefix))),
        TemplateMode::Lagwatch => Some((
            format!("/_index_template/{name}"),
            lagwatch_template(
                prefix,
                (days.is_some() && server.flavor == Flavor::Elasticsearch).then_some(name),
            ),
        )),
    };
    if let Some((path, body)) = template {
        put(client, &path, &body).await?;
        installed.push(format!("PUT {path}"));
    }
    Ok(SetupReport { server, installed })
}

/// [`setup`] for the data stream `stream` (the sink's `index_name` with `data_stream =
/// true`): installs the template of `mode` named `name` and, with `retention`, a lifecycle
/// policy of the same name (daily rollover, deletion that long after; see
/// [`ilm_data_stream_policy`], [`ism_data_stream_policy`]), then creates the data stream.
///
/// * [`TemplateMode::Lagwatch`] installs [`lagwatch_data_stream_template`].
/// * [`TemplateMode::None`]: no template is installed; the stream is still created, which
///   the cluster refuses (reported as an error) unless a composable template with
///   `"data_stream": {}` matching `stream` is already there (the operator's own).
/// * [`TemplateMode::Telegraf`] is refused: a legacy `_template` cannot make a data stream.
///
/// An existing data stream is left as it is; the new template applies from its next rollover.
pub async fn setup_data_stream(
    client: &EsClient,
    name: &str,
    mode: TemplateMode,
    stream: &str,
    retention: Option<Duration>,
) -> Result<SetupReport, EsError> {
    let refused = |reason: String| EsError::DataStream {
        name: stream.to_owned(),
        reason,
    };
    lagwatch_config::elasticsearch::check_index_name(stream)
        .and_then(|()| lagwatch_config::elasticsearch::check_data_stream_name(stream))
        .map_err(|reason| refused(format!("index name {reason}")))?;
    if mode == TemplateMode::Telegraf {
        return Err(refused(
            "template mode telegraf installs a legacy _template, which cannot create data \
             streams; use template mode lagwatch (or none with your own composable template \
             that has \"data_stream\": {})"
                .to_owned(),
        ));
    }
    let server = client.detect().await?;
    let mut installed = Vec::new();
    let days = retention.map(|r| r.as_secs().div_ceil(86_400).max(1));
    if let Some(days) = days {
        let (path, body) = match server.flavor {
            Flavor::Elasticsearch => (format!("/_ilm/policy/{name}"), ilm_data_stream_policy(days)),
            Flavor::OpenSearch => (
                format!("/_plugins/_ism/policies/{name}"),
                ism_data_stream_policy(stream, days),
            ),
        };
        put(client, &path, &body).await?;
        installed.push(format!("PUT {path}"));
    }
    if mode == TemplateMode::Lagwatch {
        let path = format!("/_index_template/{name}");
        let ilm = (days.is_some() && server.flavor == Flavor::Elasticsearch).then_some(name);
        put(client, &path, &lagwatch_data_stream_template(stream, ilm)).await?;
        installed.push(format!("PUT {path}"));
    }
    let path = format!("/_data_stream/{stream}");
    let (status, _, answer) = client.json(Method::PUT, &path, None).await?;
    let exists = answer["error"]["type"] == "resource_already_exists_exception";
    if (200..300).contains(&status) {
        installed.push(format!("PUT {path}"));
    } else if !exists {
        let hint = if mode == TemplateMode::None {
            " (template mode none installs no template: the data stream needs a composable \
             template with \"data_stream\": {} whose index_patterns match its name; use \
             template mode lagwatch to install one)"
        } else {
            ""
        };
        return Err(refused(format!(
            "PUT {path} answered HTTP {status}: {}{hint}",
            crate::client::short(&answer)
        )));
    }
    Ok(SetupReport { server, installed })
}

async fn put(client: &EsClient, path: &str, body: &Value) -> Result<(), EsError> {
    let (status, _, answer) = client.json(Method::PUT, path, Some(body)).await?;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(EsError::Status {
            url: client.shown_url().to_owned(),
            what: format!("PUT {path}"),
            status,
            reason: crate::client::short(&answer),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The files under deploy/elasticsearch/ are exactly what `lagwatch es setup` installs
    /// for the default index name (`LAGWATCH_BLESS=1` rewrites them).
    #[test]
    fn deploy_files_match_the_generated_bodies() {
        let files: [(&str, Value); 5] = [
            (
                "lagwatch-index-template.json",
                lagwatch_template("burrow-", None),
            ),
            (
                "lagwatch-index-template-ilm.json",
                lagwatch_template("burrow-", Some(NAME)),
            ),
            (
                "telegraf-legacy-template.json",
                telegraf_template("burrow-"),
            ),
            ("ilm-policy.json", ilm_policy(30)),
            ("ism-policy.json", ism_policy("burrow-", 30)),
        ];
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/elasticsearch");
        for (name, expected) in files {
            if std::env::var_os("LAGWATCH_BLESS").is_some() {
                let mut text = serde_json::to_string_pretty(&expected).unwrap();
                text.push('\n');
                std::fs::write(dir.join(name), text).unwrap();
            }
            let text = std::fs::read_to_string(dir.join(name)).unwrap();
            let actual: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                actual, expected,
                "deploy/elasticsearch/{name} is out of date"
            );
        }
    }

    #[test]
    fn templates_give_the_seed_dashboard_fields() {
        let t = lagwatch_template("burrow-", None);
        let m = &t["template"]["mappings"];
        assert_eq!(t["index_patterns"], json!(["burrow-*"]));
        assert_eq!(m["properties"]["@timestamp"]["type"], "date");
        assert_eq!(
            m["properties"]["burrow_partition"]["properties"]["lag"]["type"],
            "long"
        );
        assert_eq!(
            m["properties"]["burrow_group"]["properties"]["total_lag"]["type"],
            "long"
        );
        assert_eq!(
            m["dynamic_templates"][0]["tags"]["mapping"]["fields"]["keyword"]["type"],
            "keyword"
        );
        assert_eq!(
            lagwatch_template("x-", Some(NAME))["template"]["settings"]["index"]["lifecycle"]["name"],
            NAME
        );
        assert_eq!(ilm_policy(7)["policy"]["phases"]["delete"]["min_age"], "7d");
        assert_eq!(
            ism_policy("burrow-", 7)["policy"]["states"][0]["transitions"][0]["conditions"]["min_index_age"],
            "7d"
        );
        assert_eq!("lagwatch".parse(), Ok(TemplateMode::Lagwatch));
        let ds = lagwatch_data_stream_template("lagwatch-burrow", Some(NAME));
        assert_eq!(ds["index_patterns"], json!(["lagwatch-burrow"]));
        assert_eq!(ds["data_stream"], json!({}));
        assert_eq!(ds["priority"], 210);
        assert_eq!(ds["template"]["mappings"], m.clone());
        assert_eq!(
            ds["template"]["settings"]["index"]["lifecycle"]["name"],
            NAME
        );
        let ilm = ilm_data_stream_policy(7);
        assert_eq!(
            ilm["policy"]["phases"]["hot"]["actions"]["rollover"]["max_age"],
            "1d"
        );
        assert_eq!(ilm["policy"]["phases"]["delete"]["min_age"], "7d");
        let ism = ism_data_stream_policy("lagwatch-burrow", 7);
        assert_eq!(
            ism["policy"]["ism_template"][0]["index_patterns"],
            json!(["lagwatch-burrow"])
        );
        assert_eq!(
            ism["policy"]["states"][0]["actions"][0]["rollover"]["min_index_age"],
            "1d"
        );
        assert!("x".parse::<TemplateMode>().is_err());
    }
}
