//! Loading, environment overrides and validation, seen from outside the crate.

use lagwatch_config::{
    Config, ConfigError, DemoSourceConfig, Error, FileSinkConfig, Format, LogFormat, Problem,
    SinkConfig, SourceConfig, StdoutFormat, StdoutSinkConfig,
};
use std::path::PathBuf;
use std::time::Duration;

/// A valid minimal configuration to build the cases on.
const MINIMAL: &str = r#"
[sources.live]
type = "demo"

[sinks.out]
type = "stdout"
"#;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn toml_ok(text: &str) -> Config {
    match Config::from_str(text, Format::Toml) {
        Ok(c) => c,
        Err(e) => panic!("expected a valid configuration, got: {e}"),
    }
}

/// The problems as `path: message` lines.
fn problems(result: Result<Config, Error>) -> Vec<String> {
    match result {
        Ok(c) => panic!("expected problems, the configuration loaded: {c:?}"),
        Err(Error::Invalid(e)) => e.problems.iter().map(Problem::to_string).collect(),
        Err(other) => panic!("expected Error::Invalid, got: {other}"),
    }
}

fn toml_problems(text: &str) -> Vec<String> {
    problems(Config::from_str(text, Format::Toml))
}

#[test]
fn acceptance_three_problems_with_their_key_paths() {
    let text = r#"
[model]
intervals = "ten"

[sources.live]
type = "kafak"

[sinks.out]
type = "file"
"#;
    let result = Config::from_str(text, Format::Toml);
    let Err(Error::Invalid(err)) = result else {
        panic!("expected Error::Invalid, got {result:?}");
    };
    assert_eq!(
        err.paths(),
        ["model.intervals", "sources.live.type", "sinks.out.path"]
    );
    assert_eq!(
        err.to_string(),
        "model.intervals: invalid type: string \"ten\", expected usize\n\
         sources.live.type: unknown type \"kafak\" (expected one of: demo, burrow, zookeeper, kafka)\n\
         sinks.out.path: missing required key"
    );
}

#[test]
fn acceptance_in_yaml() {
    let text = "
model:
  intervals: ten
sources:
  live:
    type: kafak
sinks:
  out:
    type: file
";
    assert_eq!(
        problems(Config::from_str(text, Format::Yaml)),
        [
            "model.intervals: invalid type: string \"ten\", expected usize",
            "sources.live.type: unknown type \"kafak\" (expected one of: demo, burrow, zookeeper, kafka)",
            "sinks.out.path: missing required key",
        ]
    );
}

#[test]
fn every_bad_key_of_one_section_is_reported() {
    let text = format!(
        "{MINIMAL}
[general]
evaluation_interval = \"soon\"
log_format = \"xml\"
event_queue = -1
colour = true
"
    );
    assert_eq!(
        toml_problems(&text),
        [
            "general.colour: unknown key (expected one of: evaluation_interval, log_format, \
             event_queue, sink_queue, state_dir, persist_state, state_save_interval)",
            "general.evaluation_interval: invalid duration \"soon\": expected number at 0 \
             (write e.g. \"30s\", \"5m\", \"500ms\")",
            "general.event_queue: invalid value: integer `-1`, expected usize",
            "general.log_format: unknown value \"xml\" (expected one of: text, json)",
        ]
    );
}

#[test]
fn unknown_sections_and_keys_are_errors() {
    let text = format!(
        "{MINIMAL}
[storage]
intervals = 10

[sinks.out2]
type = \"file\"
path = \"lag.ndjson\"
rotate_megabytes = 5
"
    );
    assert_eq!(
        toml_problems(&text),
        [
            "storage: unknown section (expected one of: general, model, evaluator, http, \
             sources, sinks, rules, alerters)",
            "sinks.out2.rotate_megabytes: unknown key (expected one of: path, rotate_bytes, \
             rotate_daily, max_files, fsync, topics)",
        ]
    );
}

#[test]
fn sections_of_the_wrong_shape() {
    let text = r#"
general = 5
sources = "demo"

[sinks.a]
type = 3

[sinks.b]
type = "stdout"
format = ["json"]
"#;
    assert_eq!(
        toml_problems(text),
        [
            "general: invalid type: integer `5`, expected struct GeneralConfig",
            "sources: expected a table of named sections ([sources.<name>]), found a string",
            "sinks.a.type: expected a string (one of: stdout, file, elasticsearch, otlp), found an integer",
            "sinks.b.format: invalid type: sequence, expected enum StdoutFormat",
        ]
    );
    let text = "[sources]\nlive = \"demo\"\n[sinks.out]\ntype = \"stdout\"\n";
    assert_eq!(
        toml_problems(text),
        [
            "sources.live: expected a table with a `type` key (one of: demo, burrow, zookeeper, kafka), found a string"
        ]
    );
}

#[test]
fn missing_sources_and_sinks_are_named() {
    assert_eq!(
        toml_problems(""),
        [
            "sources: no source configured: add at least one [sources.<name>] section with a \
             type (one of: demo, burrow, zookeeper, kafka)",
            "sinks: no sink configured: add at least one [sinks.<name>] section with a type \
             (one of: stdout, file, elasticsearch, otlp)",
        ]
    );
    assert_eq!(
        problems(Config::from_str("sources:\nsinks: {}\n", Format::Yaml)).len(),
        2
    );
    let only_source = "[sources.live]\ntype = \"demo\"\n";
    assert_eq!(
        toml_problems(only_source),
        [
            "sinks: no sink configured: add at least one [sinks.<name>] section with a type \
          (one of: stdout, file, elasticsearch, otlp)"
        ]
    );
}

#[test]
fn semantic_checks_of_general_and_evaluator() {
    let text = format!(
        "{MINIMAL}
[general]
evaluation_interval = \"0s\"
event_queue = 0
sink_queue = 0

[evaluator]
minimum_complete = 1.5
"
    );
    assert_eq!(
        toml_problems(&text),
        [
            "general.evaluation_interval: must be longer than 0s",
            "general.event_queue: must be at least 1",
            "general.sink_queue: must be at least 1",
            "evaluator.minimum_complete: must be between 0.0 and 1.0, got 1.5",
        ]
    );
    let negative = format!("{MINIMAL}\n[evaluator]\nminimum_complete = -0.25\n");
    assert_eq!(
        toml_problems(&negative),
        ["evaluator.minimum_complete: must be between 0.0 and 1.0, got -0.25"]
    );
    let edges = format!("{MINIMAL}\n[evaluator]\nminimum_complete = 1.0\n");
    assert_eq!(toml_ok(&edges).evaluator.minimum_complete, 1.0);
}

#[test]
fn semantic_checks_of_model() {
    let text = format!(
        "{MINIMAL}
[model]
intervals = 10
broker_history = 5
min_distance = \"8d\"
expire_group = \"7d\"
group_allowlist = \"(\"
group_denylist = \"[z-a]\"
topic_allowlist = \"a{{2\"
topic_denylist = \")\"
"
    );
    assert_eq!(
        toml_problems(&text),
        [
            "model.broker_history: must be at least model.intervals (10), got 5",
            "model.min_distance: must be shorter than model.expire_group (7days), got 8days",
            "model.group_allowlist: invalid regular expression \"(\": unclosed group",
            "model.group_denylist: invalid regular expression \"[z-a]\": invalid character \
             class range, the start must be <= the end",
            "model.topic_allowlist: invalid regular expression \"a{2\": unclosed counted \
             repetition",
            "model.topic_denylist: invalid regular expression \")\": unopened group",
        ]
    );
    let zero = format!("{MINIMAL}\n[model]\nintervals = 0\n");
    assert_eq!(
        toml_problems(&zero),
        ["model.intervals: must be at least 1"]
    );
    // Equal is allowed for broker_history, not for min_distance.
    let equal = format!(
        "{MINIMAL}\n[model]\nintervals = 60\nmin_distance = \"1h\"\nexpire_group = \"1h\"\n"
    );
    assert_eq!(
        toml_problems(&equal),
        ["model.min_distance: must be shorter than model.expire_group (1h), got 1h"]
    );
}

#[test]
fn semantic_checks_of_sources_and_sinks() {
    let text = r#"
[sources.a]
type = "demo"
partitions = 0
tick = "0s"

[sinks.f]
type = "file"
path = ""
"#;
    assert_eq!(
        toml_problems(text),
        [
            "sources.a.partitions: must be at least 1",
            "sources.a.tick: must be longer than 0s",
            "sinks.f.path: must not be empty",
        ]
    );
}

#[test]
fn good_sections_are_checked_even_when_others_are_broken() {
    let text = r#"
[model]
intervals = true

[sources.a]
type = "demo"
partitions = 0

[sinks.f]
type = "file"
path = ""
"#;
    assert_eq!(
        toml_problems(text),
        [
            "model.intervals: invalid type: boolean `true`, expected usize",
            "sources.a.partitions: must be at least 1",
            "sinks.f.path: must not be empty",
        ]
    );
}

#[test]
fn minimal_configuration_gets_every_default() {
    let c = toml_ok(MINIMAL);
    let mut expected = Config::default();
    expected.sources.insert(
        "live".to_owned(),
        SourceConfig::Demo(DemoSourceConfig::default()),
    );
    expected.sinks.insert(
        "out".to_owned(),
        SinkConfig::Stdout(StdoutSinkConfig::default()),
    );
    assert_eq!(c, expected);
}

#[test]
fn file_sink_defaults_apply_around_the_required_path() {
    let c =
        toml_ok("[sources.a]\ntype = \"demo\"\n[sinks.f]\ntype = \"file\"\npath = \"x.ndjson\"\n");
    assert_eq!(
        c.sinks.get("f"),
        Some(&SinkConfig::File(FileSinkConfig::new("x.ndjson")))
    );
}

#[test]
fn environment_overrides_every_kind_of_value() {
    let vars = env(&[
        ("LAGWATCH_GENERAL__EVALUATION_INTERVAL", "5s"),
        ("LAGWATCH_GENERAL__LOG_FORMAT", "json"),
        ("LAGWATCH_MODEL__INTERVALS", "15"),
        ("LAGWATCH_EVALUATOR__MINIMUM_COMPLETE", "0.5"),
        ("LAGWATCH_SOURCES__LIVE__CLUSTER", "x"),
        ("LAGWATCH_SOURCES__LIVE__SEED", "7"),
        ("LAGWATCH_SINKS__OUT__FORMAT", "json"),
        ("LAGWATCH_SINKS__OUT__TOPICS", "true"),
    ]);
    let c = match Config::from_str_with_env(MINIMAL, Format::Toml, vars) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(c.general.evaluation_interval, Duration::from_secs(5));
    assert_eq!(c.general.log_format, LogFormat::Json);
    assert_eq!(c.model.intervals, 15);
    assert_eq!(c.evaluator.minimum_complete, 0.5);
    assert_eq!(
        c.sources.get("live"),
        Some(&SourceConfig::Demo(DemoSourceConfig {
            cluster: "x".to_owned(),
            seed: 7,
            ..DemoSourceConfig::default()
        }))
    );
    assert_eq!(
        c.sinks.get("out"),
        Some(&SinkConfig::Stdout(StdoutSinkConfig {
            format: StdoutFormat::Json,
            topics: true,
        }))
    );
}

#[test]
fn environment_keeps_strings_exact_and_can_clear_them() {
    let text = format!("{MINIMAL}\n[model]\ngroup_denylist = \"^console-\"\n");
    let vars = env(&[
        ("LAGWATCH_SOURCES__LIVE__CLUSTER", "007"),
        ("LAGWATCH_MODEL__GROUP_DENYLIST", ""),
    ]);
    let c = Config::from_str_with_env(&text, Format::Toml, vars).ok();
    assert_eq!(
        c.as_ref().and_then(|c| match c.sources.get("live") {
            Some(SourceConfig::Demo(d)) => Some(d.cluster.as_str()),
            _ => None,
        }),
        Some("007")
    );
    assert_eq!(c.map(|c| c.model.group_denylist), Some(String::new()));
}

#[test]
fn environment_can_add_whole_sections() {
    let vars = env(&[
        ("LAGWATCH_SINKS__ARCHIVE__TYPE", "file"),
        ("LAGWATCH_SINKS__ARCHIVE__PATH", "/data/lag.ndjson"),
        ("LAGWATCH_SINKS__ARCHIVE__ROTATE_BYTES", "1048576"),
        ("LAGWATCH_SINKS__ARCHIVE__ROTATE_DAILY", "FALSE"),
    ]);
    let c = Config::from_str_with_env(MINIMAL, Format::Toml, vars).ok();
    let expected = FileSinkConfig {
        rotate_bytes: 1_048_576,
        rotate_daily: false,
        ..FileSinkConfig::new("/data/lag.ndjson")
    };
    assert_eq!(
        c.and_then(|c| c.sinks.get("archive").cloned()),
        Some(SinkConfig::File(expected))
    );
}

#[test]
fn environment_names_are_case_insensitive_and_other_variables_ignored() {
    let vars = env(&[
        ("lagwatch_model__intervals", "12"),
        ("LAGWATCH_CONFIG", "/etc/lagwatch/lagwatch.toml"),
        ("LAGWATCH_LOG", "debug"),
        ("HOME", "/root"),
        ("MODEL__INTERVALS", "99"),
    ]);
    let c = Config::from_str_with_env(MINIMAL, Format::Toml, vars).ok();
    assert_eq!(c.map(|c| c.model.intervals), Some(12));
}

#[test]
fn environment_problems_name_the_variable() {
    let vars = env(&[
        ("LAGWATCH_MODEL__INTERVALS", "ten"),
        ("LAGWATCH_SINKS__OUT__COLOUR", "red"),
        ("LAGWATCH_SOURCES__NEW__CLUSTER", "x"),
        ("LAGWATCH_GENERAL__", "1"),
    ]);
    assert_eq!(
        problems(Config::from_str_with_env(MINIMAL, Format::Toml, vars)),
        [
            "LAGWATCH_GENERAL__: cannot turn this environment variable into a key path: write \
             LAGWATCH_<SECTION>__<KEY> with levels of letters, digits, '_' or '-' separated by \
             \"__\"",
            "model.intervals: invalid type: string \"ten\", expected usize (set by environment \
             variable LAGWATCH_MODEL__INTERVALS)",
            "sources.new.type: missing required key (one of: demo, burrow, zookeeper, kafka)",
            "sinks.out.colour: unknown key (expected one of: format, topics) (set by \
             environment variable LAGWATCH_SINKS__OUT__COLOUR)",
        ]
    );
}

#[test]
fn semantic_problems_from_the_environment_name_the_variable() {
    let vars = env(&[("LAGWATCH_SOURCES__LIVE__PARTITIONS", "0")]);
    assert_eq!(
        problems(Config::from_str_with_env(MINIMAL, Format::Toml, vars)),
        [
            "sources.live.partitions: must be at least 1 (set by environment variable \
          LAGWATCH_SOURCES__LIVE__PARTITIONS)"
        ]
    );
}

#[test]
fn from_file_reads_toml_yaml_and_yml() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    let yaml = "sources:\n  live:\n    type: demo\nsinks:\n  out:\n    type: stdout\n";
    let cases = [("c.toml", MINIMAL), ("c.yaml", yaml), ("c.YML", yaml)];
    for (name, text) in cases {
        let path = dir.path().join(name);
        if let Err(e) = std::fs::write(&path, text) {
            panic!("{e}");
        }
        let loaded = Config::from_file(&path);
        assert_eq!(loaded.ok(), Some(toml_ok(MINIMAL)), "{name}");
    }
    let path = dir.path().join("c.toml");
    let vars = env(&[("LAGWATCH_MODEL__INTERVALS", "3")]);
    let loaded = Config::load_with_env(&path, vars);
    assert_eq!(loaded.ok().map(|c| c.model.intervals), Some(3));
}

#[test]
fn from_file_errors_name_the_file() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };

    let ini = dir.path().join("lagwatch.ini");
    let err = Config::from_file(&ini).err();
    assert!(matches!(&err, Some(Error::UnknownFormat { path }) if *path == ini));
    assert_eq!(
        err.map(|e| e.to_string()),
        Some(format!(
            "cannot tell the format of configuration file {}: name it *.toml, *.yaml or *.yml",
            ini.display()
        ))
    );

    let missing = dir.path().join("missing.toml");
    let err = Config::from_file(&missing).err();
    assert!(matches!(&err, Some(Error::Io { path, .. }) if *path == missing));
    assert!(
        err.map(|e| e.to_string())
            .is_some_and(|m| m.starts_with(&format!(
                "cannot read configuration file {}: ",
                missing.display()
            )))
    );

    let broken = dir.path().join("broken.toml");
    if let Err(e) = std::fs::write(&broken, "[sources.live\ntype = \"demo\"\n") {
        panic!("{e}");
    }
    match Config::from_file(&broken) {
        Err(Error::Syntax { origin, message }) => {
            assert_eq!(PathBuf::from(origin), broken);
            assert!(message.contains("line 1"), "{message}");
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn yaml_syntax_errors_are_syntax_errors() {
    let err = Config::from_str("sources: [1,\n", Format::Yaml).err();
    assert!(
        matches!(&err, Some(Error::Syntax { origin, .. }) if origin == "configuration text"),
        "{err:?}"
    );
}

#[test]
fn demo_configuration() {
    let demo = Config::demo();
    assert_eq!(demo.general.evaluation_interval, Duration::from_secs(1));
    assert_eq!(demo.model.intervals, 10);
    assert_eq!(
        demo.sources.get("demo"),
        Some(&SourceConfig::Demo(DemoSourceConfig::default()))
    );
    assert_eq!(demo.sources.len(), 1);
    assert_eq!(
        demo.sinks.get("console"),
        Some(&SinkConfig::Stdout(StdoutSinkConfig::default()))
    );
    assert_eq!(demo.sinks.len(), 1);
    use lagwatch_config::{AlerterConfig, LogAlerterConfig, RuleConfig, ThresholdRuleConfig};
    assert_eq!(
        demo.rules.get("average-lag-above-10"),
        Some(&RuleConfig::Threshold(ThresholdRuleConfig::default()))
    );
    assert_eq!(
        demo.rules.keys().collect::<Vec<_>>(),
        ["average-lag-above-10", "group-error"]
    );
    assert_eq!(
        demo.alerters.get("console"),
        Some(&AlerterConfig::Log(LogAlerterConfig::default()))
    );
    assert_eq!(demo.validate(), Ok(()));

    let same = Config::demo_with_env(Vec::new());
    assert_eq!(same.ok(), Some(Config::demo()));
    let vars = env(&[("LAGWATCH_SOURCES__DEMO__PARTITIONS", "8")]);
    let eight = Config::demo_with_env(vars).ok();
    assert_eq!(
        eight.and_then(|c| match c.sources.get("demo") {
            Some(SourceConfig::Demo(d)) => Some(d.partitions),
            _ => None,
        }),
        Some(8)
    );
}

#[test]
fn http_problems_name_their_keys() {
    let text = format!(
        "{MINIMAL}
[http]
listen = \"localhost\"
advertise = \"10.0.0.7:8000\"
tls_cert = \"cert.pem\"
bearer_token = \"t\"
username = \"u\"
history = \"0s\"

[http.metrics]
sets = [\"native\", \"kminion\"]
group_denylist = \"(\"
"
    );
    let problems = toml_problems(&text);
    assert!(
        problems[0].starts_with("http.metrics.sets") && problems[0].contains("kminion"),
        "{problems:?}"
    );
    let problems = toml_problems(&text.replace(", \"kminion\"", ""));
    let paths: Vec<&str> = problems
        .iter()
        .map(|p| p.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(
        paths,
        [
            "http.listen",
            "http.advertise",
            "http.tls_key",
            "http.username",
            "http.password",
            "http.history",
            "http.metrics.group_denylist"
        ],
        "{problems:?}"
    );
    let shown = Config::from_str(
        &format!("{MINIMAL}\n[http]\nbearer_token = \"reader-secret\"\n"),
        Format::Toml,
    )
    .ok()
    .and_then(|c| c.to_toml_redacted().ok())
    .unwrap_or_default();
    assert!(
        shown.contains("bearer_token") && !shown.contains("reader-secret"),
        "{shown}"
    );
}

#[test]
fn validate_reports_an_empty_configuration() {
    let err = Config::default().validate().err();
    assert_eq!(
        err.as_ref().map(ConfigError::paths),
        Some(vec!["sources", "sinks"])
    );
}

#[test]
fn shown_toml_has_every_key_and_round_trips() {
    let shown = match Config::demo().to_toml_redacted() {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        shown,
        r#"[general]
evaluation_interval = "1s"
log_format = "text"
event_queue = 1024
sink_queue = 16
state_dir = ""
persist_state = false
state_save_interval = "10s"

[model]
intervals = 10
min_distance = "0s"
expire_group = "7days"
broker_history = 60
group_allowlist = ""
group_denylist = ""
topic_allowlist = ""
topic_denylist = ""

[evaluator]
mode = "burrow"
minimum_complete = 0.0
allowed_lag = 0
warm_up = "5m"

[http]
enabled = true
listen = "127.0.0.1:8000"
tls_cert = ""
tls_key = ""
bearer_token = ""
username = ""
password = ""
admin_token = ""
history = "1h"
allow_origin = ""
advertise = ""

[http.metrics]
sets = ["native"]
partition_series = true
member_labels = true
group_allowlist = ""
group_denylist = ""
topic_allowlist = ""
topic_denylist = ""

[sources.demo]
type = "demo"
cluster = "demo"
seed = 42
tick = "500ms"
partitions = 3

[sinks.console]
type = "stdout"
format = "auto"
topics = false

[rules.average-lag-above-10]
type = "threshold"
clusters = ""
groups = ""
topics = ""
severity = "warning"
for = "0s"
interval = "1m"
repeat_interval = "0s"
send_resolved = true
target = "partition_lag"
aggregate = "avg"
window = "1m"
op = ">"
value = 10.0

[rules.average-lag-above-10.labels]

[rules.group-error]
type = "status"
clusters = ""
groups = ""
topics = ""
severity = "warning"
for = "0s"
interval = "10s"
repeat_interval = "0s"
send_resolved = true
status = "err"

[rules.group-error.labels]

[alerters.console]
type = "log"
"#
    );
    assert_eq!(
        Config::from_str(&shown, Format::Toml).ok(),
        Some(Config::demo())
    );
}

#[test]
fn catch_up_rules_load_with_their_defaults_and_bad_durations_name_the_key() {
    use lagwatch_config::{CatchUpRuleConfig, RuleConfig};
    let text = format!(
        "{MINIMAL}
[rules.slow]
type = \"catch_up\"
max_catch_up = \"15m\"
retention = false

[rules.plain]
type = \"catch_up\"
"
    );
    let config = match Config::from_str(&text, Format::Toml) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let Some(RuleConfig::CatchUp(slow)) = config.rules.get("slow") else {
        panic!("rule slow missing: {:?}", config.rules);
    };
    assert_eq!(slow.max_catch_up, Duration::from_secs(900));
    assert!(!slow.retention);
    let Some(RuleConfig::CatchUp(plain)) = config.rules.get("plain") else {
        panic!("rule plain missing: {:?}", config.rules);
    };
    assert_eq!(plain, &CatchUpRuleConfig::default());
    assert_eq!(plain.max_catch_up, Duration::from_secs(3600));
    assert!(plain.retention);

    let bad = format!(
        "{MINIMAL}
[rules.slow]
type = \"catch_up\"
max_catch_up = \"soon\"
"
    );
    let problems = toml_problems(&bad);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("rules.slow.max_catch_up: "),
        "{problems:?}"
    );
}

#[test]
fn rules_and_alerters_load_and_are_checked() {
    use lagwatch_config::{AggregateKind, AlerterConfig, RuleConfig, ThresholdOp, WebhookPreset};
    let text = format!(
        "{MINIMAL}
[rules.lag]
type = \"threshold\"
aggregate = \"max\"
op = \">=\"
value = 500
for = \"5m\"
groups = \"^payments-\"
labels = {{ team = \"payments\" }}

[alerters.hook]
type = \"webhook\"
url = \"https://events.example/hook/token\"
preset = \"alertmanager\"
headers = {{ Authorization = \"Bearer abc\" }}
"
    );
    let config = match Config::from_str(&text, Format::Toml) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let Some(RuleConfig::Threshold(rule)) = config.rules.get("lag") else {
        panic!("rule lag missing: {:?}", config.rules);
    };
    assert_eq!(rule.aggregate, AggregateKind::Max);
    assert_eq!(rule.op, ThresholdOp::Ge);
    assert_eq!(rule.value, 500.0);
    assert_eq!(rule.for_duration, Duration::from_secs(300));
    assert_eq!(
        rule.labels.get("team").map(String::as_str),
        Some("payments")
    );
    let Some(AlerterConfig::Webhook(hook)) = config.alerters.get("hook") else {
        panic!("alerter hook missing");
    };
    assert_eq!(hook.url.expose(), "https://events.example/hook/token");
    assert_eq!(hook.preset, WebhookPreset::Alertmanager);
    let shown = config.to_toml_redacted().unwrap_or_default();
    // The secrets' values (key names such as `http.admin_token` may say "token").
    assert!(
        !shown.contains("hook/token") && !shown.contains("Bearer"),
        "{shown}"
    );

    let bad = format!(
        "{MINIMAL}
[rules.a]
type = \"threshold\"
window = \"0s\"
groups = \"(\"

[rules.b]
type = \"retention\"
margin_share = 1.5

[rules.c]
type = \"lag\"

[alerters.s]
type = \"slack\"

[alerters.w]
type = \"webhook\"
url = \"\"
method = \"post\"
"
    );
    assert_eq!(
        toml_problems(&bad),
        [
            "rules.a.groups: invalid regular expression \"(\": unclosed group",
            "rules.a.window: must be longer than 0s",
            "rules.b.margin_share: must be between 0.0 and 1.0, got 1.5",
            "rules.c.type: unknown type \"lag\" (expected one of: threshold, status, time_lag, \
             retention, catch_up)",
            "alerters.s.url: missing required key",
            "alerters.w.method: must be an HTTP method in capitals such as POST or PUT, got \
             \"post\"",
            "alerters.w.url: must not be empty",
        ]
    );
}
