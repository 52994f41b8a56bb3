//! Keeps `docs/configuration.md` true: every key of every section and of every source and
//! sink type has a row, the documented defaults are the real ones, every type tag has its
//! own section and every environment example works.
//!
//! The page is read at compile time, so editing it rebuilds these tests.

use crate::tree::Node;
use crate::types::*;
use crate::validate::expected_list;
use crate::{ENV_PREFIX, ENV_SEPARATOR, Format};
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet};

const DOC: &str = include_str!("../../../docs/configuration.md");

/// Placeholder for the name of a source or sink in documented key paths.
const NAME: &str = "<name>";

/// One row of a key table: `| key | type | default | description | environment example |`.
#[derive(Debug, Clone)]
struct Row {
    key: String,
    ty: String,
    default: String,
    env: String,
}

/// The key tables of the page, by heading text (without the `#`s).
fn doc_tables() -> BTreeMap<String, Vec<Row>> {
    let mut tables: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    let mut heading = String::new();
    for line in DOC.lines() {
        if line.starts_with('#') {
            heading = line.trim_start_matches('#').trim().to_owned();
            continue;
        }
        if !line.starts_with("| `") {
            continue;
        }
        let cells = table_cells(line);
        assert_eq!(cells.len(), 5, "a key row needs 5 cells: {line}");
        let key = cells[0].trim_matches('`').to_owned();
        tables.entry(heading.clone()).or_default().push(Row {
            key,
            ty: cells[1].clone(),
            default: cells[2].clone(),
            env: cells[4].clone(),
        });
    }
    tables
}

/// The cells of a table row; `\\|` is a `|` inside a cell (Markdown's escape).
fn table_cells(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut chars = line.trim().trim_matches('|').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                if let Some(cell) = cells.last_mut() {
                    cell.push('|');
                }
            }
            '|' => cells.push(String::new()),
            c => {
                if let Some(cell) = cells.last_mut() {
                    cell.push(c);
                }
            }
        }
    }
    cells.iter().map(|c| c.trim().to_owned()).collect()
}

fn table<'a>(tables: &'a BTreeMap<String, Vec<Row>>, heading: &str) -> &'a [Row] {
    match tables.get(heading) {
        Some(rows) => rows,
        None => panic!("docs/configuration.md has no key table under a heading {heading:?}"),
    }
}

/// A value as the page shows it in the default column.
fn shown(value: &toml::Value) -> String {
    format!("`{value}`")
}

fn serialized<T: serde::Serialize>(value: &T) -> toml::Table {
    match toml::Table::try_from(value) {
        Ok(t) => t,
        Err(e) => panic!("cannot serialise {}: {e}", std::any::type_name::<T>()),
    }
}

/// The variable documented for `path` (`<name>` becomes `<NAME>`).
fn env_var(path: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        path.split('.')
            .map(str::to_ascii_uppercase)
            .collect::<Vec<_>>()
            .join(ENV_SEPARATOR)
    )
}

/// One source of every type, with defaults (and placeholders for required keys).
fn source_sample(tag: &str) -> SourceConfig {
    match tag {
        "demo" => SourceConfig::Demo(DemoSourceConfig::default()),
        "burrow" => SourceConfig::Burrow(Box::default()),
        "zookeeper" => SourceConfig::Zookeeper(Box::new(
            crate::zookeeper::ZookeeperSourceConfig::new("live"),
        )),
        "kafka" => SourceConfig::Kafka(Box::new(crate::kafka::KafkaSourceConfig::new(
            "",
            "localhost:9092",
        ))),
        other => panic!("no sample for source type {other:?}: add one to doc_tests.rs"),
    }
}

/// One sink of every type, with defaults (and placeholders for required keys).
fn sink_sample(tag: &str) -> SinkConfig {
    match tag {
        "stdout" => SinkConfig::Stdout(StdoutSinkConfig::default()),
        "file" => SinkConfig::File(FileSinkConfig::new("lag.ndjson")),
        "elasticsearch" => SinkConfig::Elasticsearch(Box::new(ElasticsearchSinkConfig::new(
            "http://127.0.0.1:9200",
        ))),
        "otlp" => SinkConfig::Otlp(Box::new(crate::OtlpSinkConfig::new(
            "http://127.0.0.1:4317",
        ))),
        other => panic!("no sample for sink type {other:?}: add one to doc_tests.rs"),
    }
}

/// One rule of every type, with defaults.
fn rule_sample(tag: &str) -> RuleConfig {
    match tag {
        "threshold" => RuleConfig::Threshold(ThresholdRuleConfig::default()),
        "status" => RuleConfig::Status(StatusRuleConfig::default()),
        "time_lag" => RuleConfig::TimeLag(TimeLagRuleConfig::default()),
        "retention" => RuleConfig::Retention(RetentionRuleConfig::default()),
        "catch_up" => RuleConfig::CatchUp(crate::CatchUpRuleConfig::default()),
        other => panic!("no sample for rule type {other:?}: add one to doc_tests.rs"),
    }
}

/// One alerter of every type, with defaults (and placeholders for required keys).
fn alerter_sample(tag: &str) -> AlerterConfig {
    match tag {
        "slack" => AlerterConfig::Slack(SlackAlerterConfig::new("https://hooks.example/x")),
        "webhook" => AlerterConfig::Webhook(WebhookAlerterConfig::new("https://hooks.example/x")),
        "log" => AlerterConfig::Log(LogAlerterConfig::default()),
        other => panic!("no sample for alerter type {other:?}: add one to doc_tests.rs"),
    }
}

/// Heading of the table of keys every rule type shares.
const RULE_COMMON: &str = "Keys of every rule";

/// The variant tags serde's derive knows for an internally tagged enum, read from its
/// unknown-variant message, so a variant added without updating `TYPES` is noticed.
fn serde_tags<T: DeserializeOwned + std::fmt::Debug>() -> Vec<String> {
    let probe = Node::Map(BTreeMap::from([(
        "type".to_owned(),
        Node::Text("no-such-type".to_owned()),
    )]));
    let message = match T::deserialize(probe) {
        Ok(v) => panic!("a bogus tag was accepted: {v:?}"),
        Err(e) => e.to_string(),
    };
    let tail = message
        .split_once("`no-such-type`")
        .map(|(_, tail)| tail)
        .unwrap_or_default();
    expected_list(tail)
        .split(", ")
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checks a documented table against a serialised value: same keys, same defaults,
/// environment examples named after the key. `required(key)` says whether a key without a
/// value fails to load.
fn check_table(
    prefix: &str,
    rows: &[Row],
    values: &toml::Table,
    required: impl Fn(&str) -> bool,
    failures: &mut Vec<String>,
) {
    let documented: BTreeSet<&str> = rows.iter().map(|r| r.key.as_str()).collect();
    let actual: BTreeSet<String> = values.keys().map(|k| format!("{prefix}.{k}")).collect();
    for missing in actual.iter().filter(|k| !documented.contains(k.as_str())) {
        failures.push(format!("{missing}: not documented"));
    }
    for stale in documented.iter().filter(|k| !actual.contains(**k)) {
        failures.push(format!("{stale}: documented but no such key"));
    }
    if documented.len() != rows.len() {
        failures.push(format!("{prefix}: a key is documented twice"));
    }
    for row in rows {
        let Some(key) = row
            .key
            .strip_prefix(prefix)
            .and_then(|k| k.strip_prefix('.'))
        else {
            continue;
        };
        let Some(value) = values.get(key) else {
            continue;
        };
        // A table-valued key (labels, headers) is set one entry at a time.
        let expected_env = if value.is_table() {
            format!("`{}{ENV_SEPARATOR}", env_var(&row.key))
        } else {
            format!("`{}=", env_var(&row.key))
        };
        if !row.env.starts_with(&expected_env) {
            failures.push(format!(
                "{}: environment example {} should start with {expected_env}",
                row.key, row.env
            ));
        }
        if key == "type" {
            let tag = shown(value);
            if row.default != "required" || row.ty != tag {
                failures.push(format!(
                    "{}: type row should read type {tag}, default required",
                    row.key
                ));
            }
        } else if row.default == "required" {
            if !required(key) {
                failures.push(format!(
                    "{}: documented as required but has a default",
                    row.key
                ));
            }
        } else if row.default != shown(value) {
            failures.push(format!(
                "{}: documented default {} but the code says {}",
                row.key,
                row.default,
                shown(value)
            ));
        }
    }
}

/// Whether deserialising `values` without `key` fails for want of it.
fn is_required<T: DeserializeOwned>(values: &toml::Table, key: &str) -> bool {
    let mut without = values.clone();
    without.remove(key);
    match toml::Value::Table(without).try_into::<T>() {
        Ok(_) => false,
        Err(e) => e.to_string().contains(&format!("missing field `{key}`")),
    }
}

#[test]
fn type_lists_match_the_enums() {
    assert_eq!(serde_tags::<SourceConfig>(), SourceConfig::TYPES);
    assert_eq!(serde_tags::<SinkConfig>(), SinkConfig::TYPES);
    assert_eq!(serde_tags::<RuleConfig>(), RuleConfig::TYPES);
    assert_eq!(serde_tags::<AlerterConfig>(), AlerterConfig::TYPES);
    for tag in RuleConfig::TYPES {
        assert_eq!(rule_sample(tag).type_name(), *tag);
    }
    for tag in AlerterConfig::TYPES {
        assert_eq!(alerter_sample(tag).type_name(), *tag);
    }
    for tag in SourceConfig::TYPES {
        assert_eq!(source_sample(tag).type_name(), *tag);
    }
    for tag in SinkConfig::TYPES {
        assert_eq!(sink_sample(tag).type_name(), *tag);
    }
}

#[test]
fn every_key_is_documented_with_its_default() {
    let tables = doc_tables();
    let defaults = serialized(&Config::default());
    let mut failures = Vec::new();

    for section in crate::validate::SECTIONS {
        if ["sources", "sinks", "rules", "alerters"].contains(&section) {
            continue;
        }
        let values = match defaults.get(section) {
            Some(toml::Value::Table(t)) => t,
            other => panic!("section {section} serialises as {other:?}"),
        };
        // A sub-table of a section (`[http.metrics]`) has a key table of its own.
        let (nested, flat): (toml::Table, toml::Table) =
            values.clone().into_iter().partition(|(_, v)| v.is_table());
        let rows = table(&tables, &format!("`[{section}]`"));
        check_table(section, rows, &flat, |_| false, &mut failures);
        for (key, value) in &nested {
            let Some(values) = value.as_table() else {
                continue;
            };
            let path = format!("{section}.{key}");
            let rows = table(&tables, &format!("`[{path}]`"));
            check_table(&path, rows, values, |_| false, &mut failures);
        }
    }

    let prefix = format!("sources.{NAME}");
    for tag in SourceConfig::TYPES {
        let values = serialized(&source_sample(tag));
        let rows = table(&tables, &format!("Source type `{tag}`"));
        let required = |key: &str| is_required::<SourceConfig>(&values, key);
        check_table(&prefix, rows, &values, required, &mut failures);
    }
    let prefix = format!("sinks.{NAME}");
    for tag in SinkConfig::TYPES {
        let values = serialized(&sink_sample(tag));
        let rows = table(&tables, &format!("Sink type `{tag}`"));
        let required = |key: &str| is_required::<SinkConfig>(&values, key);
        check_table(&prefix, rows, &values, required, &mut failures);
    }
    let prefix = format!("rules.{NAME}");
    for tag in RuleConfig::TYPES {
        let values = serialized(&rule_sample(tag));
        let mut rows: Vec<Row> = table(&tables, RULE_COMMON).to_vec();
        rows.extend(
            table(&tables, &format!("Rule type `{tag}`"))
                .iter()
                .cloned(),
        );
        let required = |key: &str| is_required::<RuleConfig>(&values, key);
        check_table(&prefix, &rows, &values, required, &mut failures);
    }
    let prefix = format!("alerters.{NAME}");
    for tag in AlerterConfig::TYPES {
        let values = serialized(&alerter_sample(tag));
        let rows = table(&tables, &format!("Alerter type `{tag}`"));
        let required = |key: &str| is_required::<AlerterConfig>(&values, key);
        check_table(&prefix, rows, &values, required, &mut failures);
    }

    assert!(
        failures.is_empty(),
        "docs/configuration.md is out of date:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_section_type_list_is_documented() {
    let sources = format!("Types: {}.", quoted(SourceConfig::TYPES));
    let sinks = format!("Types: {}.", quoted(SinkConfig::TYPES));
    let rules = format!("Types: {}.", quoted(RuleConfig::TYPES));
    let alerters = format!("Types: {}.", quoted(AlerterConfig::TYPES));
    assert!(DOC.contains(&rules), "docs should say {rules:?}");
    assert!(DOC.contains(&alerters), "docs should say {alerters:?}");
    assert!(DOC.contains(&sources), "docs should say {sources:?}");
    assert!(DOC.contains(&sinks), "docs should say {sinks:?}");
}

fn quoted(tags: &[&str]) -> String {
    tags.iter()
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every documented environment example loads, and changes the configuration unless it
/// sets the default.
#[test]
fn every_environment_example_works() {
    let tables = doc_tables();
    let mut failures = Vec::new();
    for (heading, rows) in &tables {
        let mut base = Config::demo();
        if let Some(tag) = heading
            .strip_prefix("Source type `")
            .and_then(|t| t.strip_suffix('`'))
        {
            base.sources.insert("x".to_owned(), source_sample(tag));
        }
        if let Some(tag) = heading
            .strip_prefix("Sink type `")
            .and_then(|t| t.strip_suffix('`'))
        {
            base.sinks.insert("x".to_owned(), sink_sample(tag));
        }
        if heading == RULE_COMMON {
            base.rules.insert("x".to_owned(), rule_sample("threshold"));
        }
        if let Some(tag) = heading
            .strip_prefix("Rule type `")
            .and_then(|t| t.strip_suffix('`'))
        {
            base.rules.insert("x".to_owned(), rule_sample(tag));
        }
        if let Some(tag) = heading
            .strip_prefix("Alerter type `")
            .and_then(|t| t.strip_suffix('`'))
        {
            base.alerters.insert("x".to_owned(), alerter_sample(tag));
        }
        let text = match base.to_toml_redacted() {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        for row in rows {
            // The first `VAR=value` is the key's own; further ones (a key that only works
            // together with another, e.g. `data_stream` with a plain `index_name`) are set too.
            let mut env = Vec::new();
            for example in row.env.split('`').skip(1).step_by(2) {
                match example.split_once('=') {
                    Some((var, value)) => {
                        env.push((var.replace("<NAME>", "X"), value.to_owned()));
                    }
                    None => failures.push(format!("{}: environment example without '='", row.key)),
                }
            }
            let Some((var, value)) = env.first().cloned() else {
                failures.push(format!("{}: no environment example", row.key));
                continue;
            };
            match Config::from_str_with_env(&text, Format::Toml, env) {
                Ok(loaded) => {
                    let is_default = row.default.trim_matches('`').trim_matches('"') == value;
                    let is_type = row.key.ends_with(".type");
                    if loaded == base && !is_default && !is_type {
                        failures.push(format!("{var}={value} changed nothing"));
                    }
                }
                Err(e) => failures.push(format!("{var}={value}: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
