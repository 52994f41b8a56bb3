//! Turning the merged tree into a [`Config`], section by section, collecting every problem.
//!
//! Each section (`general`, `model`, `evaluator`, every `sources.<name>`, every
//! `sinks.<name>`) is deserialised on its own, so one broken section does not hide the
//! others. Inside a section, [`serde_path_to_error`] names the key; after a problem the
//! offending key is removed and the section read again, so several bad keys in one section
//! are all reported. Sections that deserialise cleanly then go through the semantic checks.

use crate::alerting::{
    AlerterConfig, CatchUpRuleConfig, LogAlerterConfig, RetentionRuleConfig, RuleCommon,
    RuleConfig, SlackAlerterConfig, StatusRuleConfig, ThresholdRuleConfig, TimeLagRuleConfig,
    WebhookAlerterConfig,
};
use crate::env_override::EnvOverride;
use crate::error::{ConfigError, Problem};
use crate::tree::{DeError, Node};
use crate::types::{
    Config, DemoSourceConfig, EvaluatorConfig, FileSinkConfig, GeneralConfig, ModelConfig,
    SinkConfig, SourceConfig, StdoutSinkConfig,
};
use lagwatch_core::duration;
use lagwatch_core::filter::NameFilter;
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use std::collections::BTreeMap;

/// Longest `general.state_save_interval`: a day of history lost in a crash is already more than
/// any window needs.
const MAX_STATE_SAVE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(86_400);

/// Top-level sections, in the order they are read and reported.
pub(crate) const SECTIONS: [&str; 8] = [
    "general",
    "model",
    "evaluator",
    "http",
    "sources",
    "sinks",
    "rules",
    "alerters",
];

/// The key naming a source's or sink's kind.
const TYPE_KEY: &str = "type";

/// Collects problems, noting which ones come from an environment override.
struct Problems<'a> {
    list: Vec<Problem>,
    overrides: &'a [EnvOverride],
}

impl Problems<'_> {
    fn push(&mut self, path: String, message: String) {
        let set_by = self.overrides.iter().rev().find(|o| {
            path == o.path
                || path
                    .strip_prefix(o.path.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        });
        let message = match set_by {
            Some(o) => format!("{message} (set by environment variable {})", o.var),
            None => message,
        };
        self.list.push(Problem::new(path, message));
    }
}

/// Builds a [`Config`] from the merged tree. Returns the config only when there was no
/// problem; the problems come in a stable order.
pub(crate) fn from_tree(tree: Node, overrides: &[EnvOverride]) -> (Option<Config>, Vec<Problem>) {
    let mut problems = Problems {
        list: Vec::new(),
        overrides,
    };
    let mut root = match tree {
        Node::Map(map) => map,
        Node::Null => BTreeMap::new(),
        other => {
            problems.push(
                "(root)".to_owned(),
                format!("expected a table of sections, found {}", other.kind()),
            );
            return (None, problems.list);
        }
    };

    for key in root.keys() {
        if !SECTIONS.contains(&key.as_str()) {
            problems.push(
                key.clone(),
                format!("unknown section (expected one of: {})", SECTIONS.join(", ")),
            );
        }
    }

    let mut config = Config::default();

    let general = section::<GeneralConfig>("general", root.remove("general"), &mut problems);
    let model = section::<ModelConfig>("model", root.remove("model"), &mut problems);
    let evaluator =
        section::<EvaluatorConfig>("evaluator", root.remove("evaluator"), &mut problems);
    if let Some(g) = general {
        check_general(&g, &mut |p, m| problems.push(p, m));
        config.general = g;
    }
    if let Some(m) = model {
        check_model(&m, &mut |p, msg| problems.push(p, msg));
        config.model = m;
    }
    if let Some(e) = evaluator {
        check_evaluator(&e, &mut |p, m| problems.push(p, m));
        config.evaluator = e;
    }
    if let Some(h) = section::<crate::http::HttpConfig>("http", root.remove("http"), &mut problems)
    {
        check_http(&h, &mut |p, m| problems.push(p, m));
        config.http = h;
    }

    if let Some(entries) = named_sections("sources", root.remove("sources"), &mut problems) {
        if entries.is_empty() {
            problems.push("sources".to_owned(), no_component_message("source"));
        }
        for (name, node) in entries {
            let path = format!("sources.{name}");
            let parsed = tagged(&path, node, SourceConfig::TYPES, &mut problems)
                .and_then(|(tag, body)| parse_source(&path, &tag, body, &mut problems));
            if let Some(source) = parsed {
                check_source(&path, &source, &mut |p, m| problems.push(p, m));
                config.sources.insert(name, source);
            }
        }
    }

    if let Some(entries) = named_sections("sinks", root.remove("sinks"), &mut problems) {
        if entries.is_empty() {
            problems.push("sinks".to_owned(), no_component_message("sink"));
        }
        for (name, node) in entries {
            let path = format!("sinks.{name}");
            let parsed = tagged(&path, node, SinkConfig::TYPES, &mut problems)
                .and_then(|(tag, body)| parse_sink(&path, &tag, body, &mut problems));
            if let Some(sink) = parsed {
                check_sink(&path, &sink, &mut |p, m| problems.push(p, m));
                config.sinks.insert(name, sink);
            }
        }
    }

    if let Some(entries) = named_sections("rules", root.remove("rules"), &mut problems) {
        for (name, node) in entries {
            let path = format!("rules.{name}");
            let parsed = tagged(&path, node, RuleConfig::TYPES, &mut problems)
                .and_then(|(tag, body)| parse_rule(&path, &tag, body, &mut problems));
            if let Some(rule) = parsed {
                check_rule(&path, &rule, &mut |p, m| problems.push(p, m));
                config.rules.insert(name, rule);
            }
        }
    }

    if let Some(entries) = named_sections("alerters", root.remove("alerters"), &mut problems) {
        for (name, node) in entries {
            let path = format!("alerters.{name}");
            let parsed = tagged(&path, node, AlerterConfig::TYPES, &mut problems)
                .and_then(|(tag, body)| parse_alerter(&path, &tag, body, &mut problems));
            if let Some(alerter) = parsed {
                check_alerter(&path, &alerter, &mut |p, m| problems.push(p, m));
                config.alerters.insert(name, alerter);
            }
        }
    }

    // Every failed section has left a problem behind, so no problem means a full config.
    let config = problems.list.is_empty().then_some(config);
    (config, problems.list)
}

fn no_component_message(kind: &str) -> String {
    let (section, types) = match kind {
        "source" => ("sources", SourceConfig::TYPES),
        _ => ("sinks", SinkConfig::TYPES),
    };
    format!(
        "no {kind} configured: add at least one [{section}.<name>] section with a type \
         (one of: {})",
        types.join(", ")
    )
}

/// Deserialises one section; a missing or empty section means all defaults.
fn section<T: DeserializeOwned>(
    path: &str,
    node: Option<Node>,
    problems: &mut Problems<'_>,
) -> Option<T> {
    let node = match node {
        None | Some(Node::Null) => Node::Map(BTreeMap::new()),
        Some(node) => node,
    };
    deserialize_reporting(path, node, problems)
}

/// Reads `sources` / `sinks`: a table of named tables.
fn named_sections(
    path: &str,
    node: Option<Node>,
    problems: &mut Problems<'_>,
) -> Option<BTreeMap<String, Node>> {
    match node {
        None | Some(Node::Null) => Some(BTreeMap::new()),
        Some(Node::Map(map)) => Some(map),
        Some(other) => {
            problems.push(
                path.to_owned(),
                format!(
                    "expected a table of named sections ([{path}.<name>]), found {}",
                    other.kind()
                ),
            );
            None
        }
    }
}

/// Splits a source or sink section into its `type` tag and the remaining keys.
fn tagged(
    path: &str,
    node: Node,
    types: &[&str],
    problems: &mut Problems<'_>,
) -> Option<(String, Node)> {
    let expected = types.join(", ");
    let mut map = match node {
        Node::Map(map) => map,
        Node::Null => BTreeMap::new(),
        other => {
            problems.push(
                path.to_owned(),
                format!(
                    "expected a table with a `type` key (one of: {expected}), found {}",
                    other.kind()
                ),
            );
            return None;
        }
    };
    let tag_path = format!("{path}.{TYPE_KEY}");
    match map.remove(TYPE_KEY) {
        None => {
            problems.push(
                tag_path,
                format!("missing required key (one of: {expected})"),
            );
            None
        }
        Some(Node::Text(tag)) if types.contains(&tag.as_str()) => Some((tag, Node::Map(map))),
        Some(Node::Text(tag)) => {
            problems.push(
                tag_path,
                format!("unknown type {tag:?} (expected one of: {expected})"),
            );
            None
        }
        Some(other) => {
            problems.push(
                tag_path,
                format!(
                    "expected a string (one of: {expected}), found {}",
                    other.kind()
                ),
            );
            None
        }
    }
}

/// Deserialises a source body by its tag. Every entry of [`SourceConfig::TYPES`] has an arm.
fn parse_source(
    path: &str,
    tag: &str,
    body: Node,
    problems: &mut Problems<'_>,
) -> Option<SourceConfig> {
    match tag {
        "demo" => {
            deserialize_reporting::<DemoSourceConfig>(path, body, problems).map(SourceConfig::Demo)
        }
        "burrow" => {
            deserialize_reporting::<crate::burrow::BurrowSourceConfig>(path, body, problems)
                .map(|c| SourceConfig::Burrow(Box::new(c)))
        }
        "zookeeper" => {
            deserialize_reporting::<crate::zookeeper::ZookeeperSourceConfig>(path, body, problems)
                .map(|c| SourceConfig::Zookeeper(Box::new(c)))
        }
        "kafka" => deserialize_reporting::<crate::kafka::KafkaSourceConfig>(path, body, problems)
            .map(|c| SourceConfig::Kafka(Box::new(c))),
        other => {
            problems.push(
                format!("{path}.{TYPE_KEY}"),
                format!("type {other:?} is listed but cannot be read (this is a bug)"),
            );
            None
        }
    }
}

/// Deserialises a sink body by its tag. Every entry of [`SinkConfig::TYPES`] has an arm.
fn parse_sink(
    path: &str,
    tag: &str,
    body: Node,
    problems: &mut Problems<'_>,
) -> Option<SinkConfig> {
    match tag {
        "stdout" => {
            deserialize_reporting::<StdoutSinkConfig>(path, body, problems).map(SinkConfig::Stdout)
        }
        "file" => {
            deserialize_reporting::<FileSinkConfig>(path, body, problems).map(SinkConfig::File)
        }
        "elasticsearch" => {
            deserialize_reporting::<crate::ElasticsearchSinkConfig>(path, body, problems)
                .map(|c| SinkConfig::Elasticsearch(Box::new(c)))
        }
        "otlp" => deserialize_reporting::<crate::OtlpSinkConfig>(path, body, problems)
            .map(|c| SinkConfig::Otlp(Box::new(c))),
        other => {
            problems.push(
                format!("{path}.{TYPE_KEY}"),
                format!("type {other:?} is listed but cannot be read (this is a bug)"),
            );
            None
        }
    }
}

/// Deserialises a rule body by its tag. Every entry of [`RuleConfig::TYPES`] has an arm.
fn parse_rule(
    path: &str,
    tag: &str,
    body: Node,
    problems: &mut Problems<'_>,
) -> Option<RuleConfig> {
    match tag {
        "threshold" => deserialize_reporting::<ThresholdRuleConfig>(path, body, problems)
            .map(RuleConfig::Threshold),
        "status" => {
            deserialize_reporting::<StatusRuleConfig>(path, body, problems).map(RuleConfig::Status)
        }
        "time_lag" => deserialize_reporting::<TimeLagRuleConfig>(path, body, problems)
            .map(RuleConfig::TimeLag),
        "retention" => deserialize_reporting::<RetentionRuleConfig>(path, body, problems)
            .map(RuleConfig::Retention),
        "catch_up" => deserialize_reporting::<CatchUpRuleConfig>(path, body, problems)
            .map(RuleConfig::CatchUp),
        other => {
            problems.push(
                format!("{path}.{TYPE_KEY}"),
                format!("type {other:?} is listed but cannot be read (this is a bug)"),
            );
            None
        }
    }
}

/// Deserialises an alerter body by its tag. Every entry of [`AlerterConfig::TYPES`] has an
/// arm.
fn parse_alerter(
    path: &str,
    tag: &str,
    body: Node,
    problems: &mut Problems<'_>,
) -> Option<AlerterConfig> {
    match tag {
        "slack" => deserialize_reporting::<SlackAlerterConfig>(path, body, problems)
            .map(AlerterConfig::Slack),
        "webhook" => deserialize_reporting::<WebhookAlerterConfig>(path, body, problems)
            .map(AlerterConfig::Webhook),
        "log" => {
            deserialize_reporting::<LogAlerterConfig>(path, body, problems).map(AlerterConfig::Log)
        }
        other => {
            problems.push(
                format!("{path}.{TYPE_KEY}"),
                format!("type {other:?} is listed but cannot be read (this is a bug)"),
            );
            None
        }
    }
}

/// Deserialises `node` as `T`, reporting every problem under `prefix`. After each problem
/// at an existing key, that key is dropped and the value read again to find the next one.
fn deserialize_reporting<T: DeserializeOwned>(
    prefix: &str,
    mut node: Node,
    problems: &mut Problems<'_>,
) -> Option<T> {
    let mut failed = false;
    // Each round removes one key, so the loop ends; the bound is a second safety net.
    for _ in 0..256 {
        match serde_path_to_error::deserialize::<_, T>(node.clone()) {
            Ok(value) => return (!failed).then_some(value),
            Err(err) => {
                failed = true;
                let keys: Vec<String> = err.path().iter().map(segment_text).collect();
                let (path, message) = describe(prefix, &keys, err.inner());
                problems.push(path, message);
                if keys.is_empty() || !node.remove(&keys) {
                    return None;
                }
            }
        }
    }
    None
}

fn segment_text(segment: &Segment) -> String {
    match segment {
        Segment::Seq { index } => index.to_string(),
        Segment::Map { key } => key.clone(),
        Segment::Enum { variant } => variant.clone(),
        Segment::Unknown => "?".to_owned(),
    }
}

/// Turns serde's error into a key path and a one-line message in our wording.
fn describe(prefix: &str, keys: &[String], err: &DeError) -> (String, String) {
    let mut path = prefix.to_owned();
    for key in keys {
        path.push('.');
        path.push_str(key);
    }
    let text = err.to_string();
    if let Some(field) = between(&text, "missing field `", "`") {
        return (format!("{path}.{field}"), "missing required key".to_owned());
    }
    if let Some(rest) = text.strip_prefix("unknown field `") {
        let expected = rest.split_once('`').map(|(_, tail)| expected_list(tail));
        let message = match expected {
            Some(list) if !list.is_empty() => format!("unknown key (expected one of: {list})"),
            _ => "unknown key".to_owned(),
        };
        return (path, message);
    }
    if let Some(rest) = text.strip_prefix("unknown variant `") {
        if let Some((value, tail)) = rest.split_once('`') {
            let list = expected_list(tail);
            return (
                path,
                format!("unknown value {value:?} (expected one of: {list})"),
            );
        }
    }
    (path, text)
}

/// The text between the first `start` and the following `end`, when `text` starts with
/// `start`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    text.strip_prefix(start)?
        .split_once(end)
        .map(|(inside, _)| inside)
}

/// Reads serde's "expected one of `a`, `b`" / "expected `a` or `b`" tail as "a, b".
pub(crate) fn expected_list(tail: &str) -> String {
    tail.split('`')
        .skip(1)
        .step_by(2)
        .collect::<Vec<_>>()
        .join(", ")
}

type Sink<'a> = dyn FnMut(String, String) + 'a;

fn check_general(g: &GeneralConfig, report: &mut Sink<'_>) {
    if g.evaluation_interval.is_zero() {
        report(
            "general.evaluation_interval".into(),
            "must be longer than 0s".into(),
        );
    }
    if g.event_queue < 1 {
        report("general.event_queue".into(), "must be at least 1".into());
    }
    if g.sink_queue < 1 {
        report("general.sink_queue".into(), "must be at least 1".into());
    }
    if g.state_save_interval > MAX_STATE_SAVE_INTERVAL {
        report(
            "general.state_save_interval".into(),
            format!(
                "must be at most {}",
                lagwatch_core::duration::format(MAX_STATE_SAVE_INTERVAL)
            ),
        );
    }
}

fn check_model(m: &ModelConfig, report: &mut Sink<'_>) {
    if m.intervals < 1 {
        report("model.intervals".into(), "must be at least 1".into());
    }
    if m.broker_history < m.intervals {
        report(
            "model.broker_history".into(),
            format!(
                "must be at least model.intervals ({}), got {}",
                m.intervals, m.broker_history
            ),
        );
    }
    if m.min_distance >= m.expire_group {
        report(
            "model.min_distance".into(),
            format!(
                "must be shorter than model.expire_group ({}), got {}",
                duration::format(m.expire_group),
                duration::format(m.min_distance)
            ),
        );
    }
    let patterns = [
        ("model.group_allowlist", &m.group_allowlist),
        ("model.group_denylist", &m.group_denylist),
        ("model.topic_allowlist", &m.topic_allowlist),
        ("model.topic_denylist", &m.topic_denylist),
    ];
    for (path, pattern) in patterns {
        if let Err(e) = NameFilter::new(Some(pattern), None) {
            report(path.into(), regex_message(pattern, &e.source.to_string()));
        }
    }
}

/// One line about a bad pattern: the regex engine's own summary line when it has one (its
/// full message draws a pointer over several lines).
fn regex_message(pattern: &str, engine: &str) -> String {
    let summary = engine
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or(engine);
    format!("invalid regular expression {pattern:?}: {summary}")
}

fn check_evaluator(e: &EvaluatorConfig, report: &mut Sink<'_>) {
    if e.warm_up > MAX_STATE_SAVE_INTERVAL {
        report(
            "evaluator.warm_up".into(),
            format!(
                "must be at most {}",
                lagwatch_core::duration::format(MAX_STATE_SAVE_INTERVAL)
            ),
        );
    }
    if !(0.0..=1.0).contains(&e.minimum_complete) {
        report(
            "evaluator.minimum_complete".into(),
            format!("must be between 0.0 and 1.0, got {}", e.minimum_complete),
        );
    }
}

fn check_http(h: &crate::http::HttpConfig, report: &mut Sink<'_>) {
    if h.listen.parse::<std::net::SocketAddr>().is_err() {
        report(
            "http.listen".into(),
            format!(
                "must be an IP address and port such as 127.0.0.1:8000 or [::1]:8000, got {:?}",
                h.listen
            ),
        );
    }
    if !h.advertise.is_empty() {
        let scheme_ok = h.advertise.starts_with("http://") || h.advertise.starts_with("https://");
        let host = h
            .advertise
            .split_once("://")
            .map_or("", |(_, rest)| rest.split('/').next().unwrap_or(""));
        let path = h
            .advertise
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('/'))
            .map_or("", |(_, path)| path);
        if !scheme_ok
            || host.is_empty()
            || !path.is_empty()
            || h.advertise.contains(['?', '#', ' '])
        {
            report(
                "http.advertise".into(),
                format!(
                    "must be a base URL such as http://10.0.0.7:8000 (http or https, a host, \
                     no path), got {:?}",
                    h.advertise
                ),
            );
        }
    }
    let cert = !h.tls_cert.as_os_str().is_empty();
    let key = !h.tls_key.as_os_str().is_empty();
    if cert != key {
        let (missing, given) = if cert {
            ("http.tls_key", "http.tls_cert")
        } else {
            ("http.tls_cert", "http.tls_key")
        };
        report(
            missing.into(),
            format!("must be set together with {given} (both files, PEM)"),
        );
    }
    let bearer = !h.bearer_token.expose().is_empty();
    let basic = !h.username.is_empty();
    if bearer && basic {
        report(
            "http.username".into(),
            "choose one way to authenticate: http.bearer_token or http.username/password".into(),
        );
    }
    let password = !h.password.expose().is_empty();
    if basic != password {
        let missing = if basic {
            "http.password"
        } else {
            "http.username"
        };
        report(
            missing.into(),
            "http.username and http.password must be set together".into(),
        );
    }
    if h.history.is_zero() {
        report("http.history".into(), "must be longer than 0s".into());
    }
    let m = &h.metrics;
    if m.sets.is_empty() {
        report(
            "http.metrics.sets".into(),
            "must name at least one of: native, kafka_exporter, kafka_lag_exporter".into(),
        );
    }
    let patterns = [
        ("http.metrics.group_allowlist", &m.group_allowlist),
        ("http.metrics.group_denylist", &m.group_denylist),
        ("http.metrics.topic_allowlist", &m.topic_allowlist),
        ("http.metrics.topic_denylist", &m.topic_denylist),
    ];
    for (path, pattern) in patterns {
        if let Err(e) = NameFilter::new(Some(pattern), None) {
            report(path.into(), regex_message(pattern, &e.source.to_string()));
        }
    }
}

fn check_source(path: &str, source: &SourceConfig, report: &mut Sink<'_>) {
    match source {
        SourceConfig::Demo(demo) => {
            if demo.partitions < 1 {
                report(format!("{path}.partitions"), "must be at least 1".into());
            }
            if demo.tick.is_zero() {
                report(format!("{path}.tick"), "must be longer than 0s".into());
            }
        }
        SourceConfig::Burrow(burrow) => crate::burrow::check(path, burrow, report),
        SourceConfig::Zookeeper(zk) => crate::zookeeper::check(path, zk, report),
        SourceConfig::Kafka(kafka) => crate::kafka::check(path, kafka, report),
    }
}

fn check_sink(path: &str, sink: &SinkConfig, report: &mut Sink<'_>) {
    match sink {
        SinkConfig::Stdout(_) => {}
        SinkConfig::File(file) => {
            if file.path.as_os_str().is_empty() {
                report(format!("{path}.path"), "must not be empty".into());
            }
        }
        SinkConfig::Elasticsearch(es) => {
            for (key, message) in es.problems() {
                report(format!("{path}.{key}"), message);
            }
        }
        SinkConfig::Otlp(otlp) => {
            for (key, message) in otlp.problems() {
                report(format!("{path}.{key}"), message);
            }
        }
    }
}

fn check_rule(path: &str, rule: &RuleConfig, report: &mut Sink<'_>) {
    let common: RuleCommon = rule.common();
    for (key, pattern) in [
        ("clusters", &common.clusters),
        ("groups", &common.groups),
        ("topics", &common.topics),
    ] {
        if let Err(e) = NameFilter::new(Some(pattern), None) {
            report(
                format!("{path}.{key}"),
                regex_message(pattern, &e.source.to_string()),
            );
        }
    }
    if common.interval.is_zero() {
        report(format!("{path}.interval"), "must be longer than 0s".into());
    }
    match rule {
        RuleConfig::Threshold(t) => {
            if t.window.is_zero() {
                report(format!("{path}.window"), "must be longer than 0s".into());
            }
            if !t.value.is_finite() {
                report(format!("{path}.value"), "must be a finite number".into());
            }
        }
        RuleConfig::Status(_) => {}
        RuleConfig::TimeLag(t) => {
            if !t.seconds.is_finite() || t.seconds < 0.0 {
                report(
                    format!("{path}.seconds"),
                    format!(
                        "must be a number of seconds of 0 or more, got {}",
                        t.seconds
                    ),
                );
            }
        }
        RuleConfig::Retention(r) => {
            if !(0.0..=1.0).contains(&r.margin_share) {
                report(
                    format!("{path}.margin_share"),
                    format!("must be between 0.0 and 1.0, got {}", r.margin_share),
                );
            }
            if r.margin_messages == 0 && r.margin_share == 0.0 {
                report(
                    format!("{path}.margin_share"),
                    "margin_messages and margin_share are both 0: the rule could only fire \
                     once data is already lost; set one of them"
                        .into(),
                );
            }
        }
        RuleConfig::CatchUp(_) => {}
    }
}

fn check_alerter(path: &str, alerter: &AlerterConfig, report: &mut Sink<'_>) {
    let (url, timeout) = match alerter {
        AlerterConfig::Slack(s) => (Some(&s.url), s.timeout),
        AlerterConfig::Webhook(w) => {
            let method_ok =
                !w.method.is_empty() && w.method.bytes().all(|b| b.is_ascii_uppercase());
            if !method_ok {
                report(
                    format!("{path}.method"),
                    format!(
                        "must be an HTTP method in capitals such as POST or PUT, got {:?}",
                        w.method
                    ),
                );
            }
            (Some(&w.url), w.timeout)
        }
        AlerterConfig::Log(_) => (None, std::time::Duration::from_secs(1)),
    };
    if let Some(url) = url {
        if url.expose().trim().is_empty() {
            report(format!("{path}.url"), "must not be empty".into());
        }
    }
    if timeout.is_zero() {
        report(format!("{path}.timeout"), "must be longer than 0s".into());
    }
}

/// The semantic checks alone, for a configuration built in code.
pub(crate) fn check(config: &Config) -> Result<(), ConfigError> {
    let mut problems = Vec::new();
    let mut report = |path: String, message: String| problems.push(Problem::new(path, message));
    check_general(&config.general, &mut report);
    check_model(&config.model, &mut report);
    check_evaluator(&config.evaluator, &mut report);
    check_http(&config.http, &mut report);
    if config.sources.is_empty() {
        report("sources".into(), no_component_message("source"));
    }
    for (name, source) in &config.sources {
        check_source(&format!("sources.{name}"), source, &mut report);
    }
    if config.sinks.is_empty() {
        report("sinks".into(), no_component_message("sink"));
    }
    for (name, sink) in &config.sinks {
        check_sink(&format!("sinks.{name}"), sink, &mut report);
    }
    for (name, rule) in &config.rules {
        check_rule(&format!("rules.{name}"), rule, &mut report);
    }
    for (name, alerter) in &config.alerters {
        check_alerter(&format!("alerters.{name}"), alerter, &mut report);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigError { problems })
    }
}

impl Config {
    /// Runs the semantic checks (ranges, relations between keys, regular expressions, at
    /// least one source and one sink) on a configuration built in code. Loading runs them
    /// already.
    ///
    /// # Errors
    /// [`ConfigError`] listing every problem with its key path.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_lists_read_both_serde_forms() {
        assert_eq!(expected_list(", expected one of `a`, `b`, `c`"), "a, b, c");
        assert_eq!(expected_list(", expected `text` or `json`"), "text, json");
        assert_eq!(expected_list(", there are no fields"), "");
    }

    #[test]
    fn regex_message_keeps_the_summary_line() {
        let err = NameFilter::new(Some("("), None)
            .err()
            .map(|e| e.source.to_string());
        let engine = err.unwrap_or_default();
        assert_eq!(
            regex_message("(", &engine),
            "invalid regular expression \"(\": unclosed group"
        );
    }
}
