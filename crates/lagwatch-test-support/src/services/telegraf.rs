//! The harness's Telegraf (`LAGWATCH_TEST_TELEGRAF`) as a real client of lagwatch: its
//! `inputs.burrow` reads a Burrow-compatible API, its `inputs.prometheus` scrapes `/metrics`,
//! its `inputs.opentelemetry` receives an OTLP push.
//!
//! The caller writes only the inputs (and, if wanted, processors) part of the configuration;
//! the helper adds the `[agent]` section (interval and flush interval 1 s, no `host` tag, so
//! metrics do not depend on the machine) and an `outputs.file` that writes JSON lines with
//! millisecond timestamps into a temporary directory, and parses them into [`Metric`]s.
//!
//! * [`gather_once`] runs `telegraf --once`: every input gathers once, the output is flushed,
//!   Telegraf exits. Fails when Telegraf exits non-zero or logs an error (`E!` lines);
//!   [`gather_once_report`] returns the error lines instead.
//! * [`Telegraf::start`] runs an agent until dropped, for service inputs that listen
//!   (`inputs.opentelemetry` on an address from [`net::free_addr`](super::net::free_addr));
//!   [`Telegraf::metrics`] and [`Telegraf::wait_for`] read what it wrote so far.
//!
//! Errors name the configuration file (kept in the temporary directory while the value lives)
//! and end with the last lines Telegraf printed.
//!
//! [`compare_gathers`] holds two gathers side by side (Telegraf against real Burrow, and
//! against lagwatch's Burrow-compatible API): the same series, the same field sets and types,
//! equal values for the fields that are deterministic.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use lagwatch_test_support::services::{env, telegraf};
//!
//! let burrow = env::burrow();
//! let inputs = format!("[[inputs.burrow]]\n  servers = [\"{}\"]\n", burrow.url);
//! let metrics = telegraf::gather_once(&inputs).await?;
//! assert!(metrics.iter().any(|m| m.name == "burrow_topic"));
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use serde_json::Value;

use super::{env, wait};

/// Upper bound of one `telegraf --once` run.
pub const ONCE_TIMEOUT: Duration = Duration::from_secs(60);

/// How many lines of Telegraf's log an error message ends with.
const LOG_TAIL: usize = 30;

/// One metric as Telegraf's JSON serializer writes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    /// Measurement name, e.g. `burrow_group`.
    pub name: String,
    /// Tags (always strings in Telegraf).
    pub tags: BTreeMap<String, String>,
    /// Fields with their JSON types as written (integers stay integers).
    pub fields: BTreeMap<String, Value>,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
}

impl Metric {
    /// The tag `key`, if present.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }

    /// The field `key` as an integer, if present and integral.
    pub fn int(&self, key: &str) -> Option<i64> {
        self.fields.get(key).and_then(Value::as_i64)
    }

    /// The field `key` as a float (integers convert), if present and numeric.
    pub fn float(&self, key: &str) -> Option<f64> {
        self.fields.get(key).and_then(Value::as_f64)
    }

    /// The field `key` as a string, if present and a string.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }

    /// The series this metric belongs to: `name{tag=value,...}`, tags in key order.
    pub fn series(&self) -> String {
        let tags: Vec<String> = self.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}{{{}}}", self.name, tags.join(","))
    }

    /// Parses one line of Telegraf's JSON output (`{"fields":…,"name":…,"tags":…,"timestamp":…}`).
    pub fn parse_line(line: &str) -> anyhow::Result<Metric> {
        let value: Value = serde_json::from_str(line)
            .with_context(|| format!("Telegraf output line is not JSON: {line}"))?;
        let name = value["name"]
            .as_str()
            .ok_or_else(|| anyhow!("Telegraf output line without a string `name`: {line}"))?
            .to_owned();
        let tags = match &value["tags"] {
            Value::Null => BTreeMap::new(),
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    other => Err(anyhow!("tag `{k}` is not a string ({other}) in: {line}")),
                })
                .collect::<anyhow::Result<_>>()?,
            other => bail!("`tags` is not an object ({other}) in: {line}"),
        };
        let fields = match &value["fields"] {
            Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            other => bail!("`fields` is not an object ({other}) in: {line}"),
        };
        let timestamp = value["timestamp"]
            .as_i64()
            .ok_or_else(|| anyhow!("`timestamp` is not an integer in: {line}"))?;
        Ok(Metric {
            name,
            tags,
            fields,
            timestamp,
        })
    }
}

/// The type of a field as Telegraf's JSON output writes it.
fn field_type(value: &Value) -> &'static str {
    match value {
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Null => "null",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every difference between two gathers, ignoring timestamps: series (measurement and tag
/// set) present on one side only, field names present on one side only, field types that
/// differ (integer, float, string, bool), and values that differ for the fields named in
/// `equal_fields` (the deterministic ones, e.g. `lag`, `offset`, `status`). Empty when they
/// agree. When one side has a series twice, its last metric counts.
pub fn compare_gathers(ours: &[Metric], theirs: &[Metric], equal_fields: &[&str]) -> Vec<String> {
    let index = |metrics: &[Metric]| -> BTreeMap<String, Metric> {
        metrics.iter().map(|m| (m.series(), m.clone())).collect()
    };
    let (ours, theirs) = (index(ours), index(theirs));
    let mut out = Vec::new();
    for series in ours.keys().filter(|s| !theirs.contains_key(*s)) {
        out.push(format!("{series}: only in ours"));
    }
    for series in theirs.keys().filter(|s| !ours.contains_key(*s)) {
        out.push(format!("{series}: only in theirs"));
    }
    for (series, a) in &ours {
        let Some(b) = theirs.get(series) else {
            continue;
        };
        for field in a.fields.keys().filter(|f| !b.fields.contains_key(*f)) {
            out.push(format!("{series}: field `{field}` only in ours"));
        }
        for field in b.fields.keys().filter(|f| !a.fields.contains_key(*f)) {
            out.push(format!("{series}: field `{field}` only in theirs"));
        }
        for (field, value) in &a.fields {
            let Some(other) = b.fields.get(field) else {
                continue;
            };
            let (ta, tb) = (field_type(value), field_type(other));
            if ta != tb {
                out.push(format!(
                    "{series}: field `{field}` is {ta} in ours, {tb} in theirs"
                ));
            } else if equal_fields.contains(&field.as_str()) && value != other {
                out.push(format!(
                    "{series}: field `{field}` is {value} in ours, {other} in theirs"
                ));
            }
        }
    }
    out
}

/// What one `telegraf --once` run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Gathered {
    /// Every metric written.
    pub metrics: Vec<Metric>,
    /// The error lines Telegraf logged (`E! ...`), e.g. a failed request of an input.
    pub errors: Vec<String>,
    /// Everything Telegraf printed on standard error.
    pub log: String,
}

/// A temporary directory with `telegraf.conf` and the output file.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new(inputs_toml: &str, long_running: bool) -> anyhow::Result<Workspace> {
        let dir = tempfile::Builder::new()
            .prefix("lagwatch-telegraf-")
            .tempdir()
            .context("cannot create a temporary directory for Telegraf")?;
        let workspace = Workspace { dir };
        let config = config_text(inputs_toml, &workspace.output(), long_running);
        std::fs::write(workspace.config(), config)
            .with_context(|| format!("cannot write {}", workspace.config().display()))?;
        Ok(workspace)
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("telegraf.conf")
    }

    fn output(&self) -> PathBuf {
        self.dir.path().join("metrics.json")
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("telegraf.log")
    }
}

/// The whole configuration: agent, the caller's inputs, the JSON file output.
fn config_text(inputs_toml: &str, output: &Path, long_running: bool) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "# Written by lagwatch-test-support.");
    let _ = writeln!(text, "[agent]");
    let _ = writeln!(text, "  interval = \"1s\"");
    let _ = writeln!(text, "  flush_interval = \"1s\"");
    let _ = writeln!(text, "  collection_jitter = \"0s\"");
    let _ = writeln!(text, "  flush_jitter = \"0s\"");
    let _ = writeln!(text, "  round_interval = {}", !long_running);
    let _ = writeln!(text, "  omit_hostname = true");
    let _ = writeln!(text);
    let _ = writeln!(text, "{}", inputs_toml.trim_end());
    let _ = writeln!(text);
    let _ = writeln!(text, "[[outputs.file]]");
    let _ = writeln!(
        text,
        "  files = [{}]",
        toml_string(&output.to_string_lossy())
    );
    let _ = writeln!(text, "  data_format = \"json\"");
    let _ = writeln!(text, "  json_timestamp_units = \"1ms\"");
    text
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Parses every complete line of Telegraf's JSON output file; a missing file is no metrics.
fn read_metrics(path: &Path) -> anyhow::Result<Vec<Metric>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
    // A line being written has no newline yet; it is read next time.
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    complete
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| Metric::parse_line(line).with_context(|| format!("in {}", path.display())))
        .collect()
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Telegraf's error lines (`2026-01-01T00:00:00Z E! [inputs.burrow] ...`).
fn error_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|line| line.split_whitespace().nth(1) == Some("E!") || line.starts_with("E! "))
        .map(str::to_owned)
        .collect()
}

/// Runs `telegraf --once` with `inputs_toml` and returns every metric it wrote.
///
/// Fails when Telegraf exits non-zero, takes longer than [`ONCE_TIMEOUT`] or logs an error
/// line; the error names the configuration file and ends with Telegraf's log.
pub async fn gather_once(inputs_toml: &str) -> anyhow::Result<Vec<Metric>> {
    let workspace = Workspace::new(inputs_toml, false)?;
    let gathered = run_once(&workspace).await?;
    if !gathered.errors.is_empty() {
        bail!(
            "telegraf --once --config {} logged {} error(s); config:\n{}\n--- last lines of its log:\n{}",
            workspace.config().display(),
            gathered.errors.len(),
            inputs_toml.trim_end(),
            tail(&gathered.log, LOG_TAIL)
        );
    }
    Ok(gathered.metrics)
}

/// Like [`gather_once`], but an error logged by an input is returned in
/// [`Gathered::errors`] instead of failing (for tests of error answers).
pub async fn gather_once_report(inputs_toml: &str) -> anyhow::Result<Gathered> {
    let workspace = Workspace::new(inputs_toml, false)?;
    run_once(&workspace).await
}

async fn run_once(workspace: &Workspace) -> anyhow::Result<Gathered> {
    let binary = env::telegraf();
    let config = workspace.config();
    let mut command = tokio::process::Command::new(&binary);
    command
        .arg("--once")
        .arg("--config")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let shown = format!("telegraf --once --config {}", config.display());
    let child = command
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let output = tokio::time::timeout(ONCE_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| anyhow!("{shown} took longer than {ONCE_TIMEOUT:?}"))?
        .with_context(|| format!("waiting for {shown}"))?;
    let mut log = String::from_utf8_lossy(&output.stderr).into_owned();
    log.push_str(&String::from_utf8_lossy(&output.stdout));
    // With --once, Telegraf exits 1 when an input logged an error ("input plugins recorded N
    // errors") after writing everything else; those errors are reported, not fatal here.
    let input_errors_only = log.contains("input plugins recorded");
    if !output.status.success() && !input_errors_only {
        bail!(
            "{shown} failed ({}); last lines of its output:\n{}",
            output.status,
            tail(&log, LOG_TAIL)
        );
    }
    let metrics = read_metrics(&workspace.output())
        .with_context(|| format!("reading the output of {shown}"))?;
    Ok(Gathered {
        metrics,
        errors: error_lines(&log),
        log,
    })
}

/// A Telegraf agent running until dropped (then killed), writing its metrics to a JSON file.
pub struct Telegraf {
    child: Child,
    workspace: Workspace,
}

impl std::fmt::Debug for Telegraf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telegraf")
            .field("pid", &self.child.id())
            .field("config", &self.workspace.config())
            .finish_non_exhaustive()
    }
}

impl Telegraf {
    /// Starts `telegraf --config <file>` with `inputs_toml` (gather and flush every second).
    ///
    /// Returns once the process runs; a service input that listens is ready when its port
    /// accepts connections ([`net::wait_listening`](super::net::wait_listening)). Fails when
    /// Telegraf exits within its first half second (a configuration error), with its log.
    pub async fn start(inputs_toml: &str) -> anyhow::Result<Telegraf> {
        let binary = env::telegraf();
        let workspace = Workspace::new(inputs_toml, true)?;
        let log = File::create(workspace.log())
            .with_context(|| format!("cannot create {}", workspace.log().display()))?;
        let log_err = log.try_clone().context("cannot duplicate the log file")?;
        let child = Command::new(&binary)
            .arg("--config")
            .arg(workspace.config())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut telegraf = Telegraf { child, workspace };
        tokio::time::sleep(Duration::from_millis(500)).await;
        if let Some(status) = telegraf
            .child
            .try_wait()
            .context("cannot ask Telegraf for its state")?
        {
            bail!(
                "telegraf --config {} exited at start ({status}); config:\n{}\n--- last lines of its log:\n{}",
                telegraf.workspace.config().display(),
                inputs_toml.trim_end(),
                telegraf.log_tail()
            );
        }
        Ok(telegraf)
    }

    /// Path of the configuration file in use.
    pub fn config_path(&self) -> PathBuf {
        self.workspace.config()
    }

    /// Everything Telegraf logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.workspace.log()).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        tail(&self.log(), LOG_TAIL)
    }

    /// Every metric written so far, oldest first.
    pub fn metrics(&self) -> anyhow::Result<Vec<Metric>> {
        read_metrics(&self.workspace.output()).with_context(|| {
            format!(
                "reading the output of telegraf --config {}",
                self.workspace.config().display()
            )
        })
    }

    /// Polls the output until `predicate` holds for the metrics written so far and returns
    /// them; fails after `timeout` (or when Telegraf has exited) with its log.
    pub async fn wait_for<P>(
        &mut self,
        predicate: P,
        timeout: Duration,
    ) -> anyhow::Result<Vec<Metric>>
    where
        P: Fn(&[Metric]) -> bool,
    {
        let predicate = &predicate;
        let output = self.workspace.output();
        let result = wait::until(
            "Telegraf to write the expected metrics",
            timeout,
            Duration::from_millis(200),
            || {
                let exited = self.child.try_wait();
                let output = output.clone();
                async move {
                    if let Ok(Some(status)) = exited {
                        bail!("Telegraf exited ({status})");
                    }
                    let metrics = read_metrics(&output)?;
                    if predicate(&metrics) {
                        Ok(Some(metrics))
                    } else {
                        Err(anyhow!(
                            "{} metric(s) so far, not the expected ones",
                            metrics.len()
                        ))
                    }
                }
            },
        )
        .await;
        result.with_context(|| {
            format!(
                "telegraf --config {}; last lines of its log:\n{}",
                self.workspace.config().display(),
                self.log_tail()
            )
        })
    }
}

impl Drop for Telegraf {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_json_line_keeping_integer_fields() {
        let metric = Metric::parse_line(
            r#"{"fields":{"lag":3,"status":"OK","ratio":0.5},"name":"burrow_group","tags":{"cluster":"local","group":"g"},"timestamp":1764680000123}"#,
        )
        .unwrap();
        assert_eq!(metric.name, "burrow_group");
        assert_eq!(metric.tag("cluster"), Some("local"));
        assert_eq!(metric.int("lag"), Some(3));
        assert_eq!(metric.str("status"), Some("OK"));
        assert_eq!(metric.float("ratio"), Some(0.5));
        assert!(metric.fields["lag"].is_i64());
        assert_eq!(metric.timestamp, 1_764_680_000_123);
    }

    #[test]
    fn bad_lines_are_named_in_the_error() {
        let err = Metric::parse_line(r#"{"fields":{},"tags":{}}"#).unwrap_err();
        assert!(
            format!("{err:#}").contains("without a string `name`"),
            "{err:#}"
        );
        let err = Metric::parse_line("not json").unwrap_err();
        assert!(format!("{err:#}").contains("not json"), "{err:#}");
    }

    #[test]
    fn the_config_has_the_agent_the_inputs_and_the_json_output() {
        let text = config_text(
            "[[inputs.burrow]]\n  servers = [\"http://127.0.0.1:1\"]\n",
            Path::new("/tmp/x \"y\"/metrics.json"),
            false,
        );
        let parsed: toml::Table = text.parse().unwrap();
        assert_eq!(parsed["agent"]["omit_hostname"].as_bool(), Some(true));
        assert!(parsed["inputs"]["burrow"].is_array());
        let file = &parsed["outputs"]["file"][0];
        assert_eq!(file["files"][0].as_str(), Some("/tmp/x \"y\"/metrics.json"));
        assert_eq!(file["data_format"].as_str(), Some("json"));
        assert_eq!(file["json_timestamp_units"].as_str(), Some("1ms"));
    }

    #[test]
    fn only_complete_lines_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        assert!(read_metrics(&path).unwrap().is_empty());
        std::fs::write(
            &path,
            "{\"fields\":{\"a\":1},\"name\":\"m\",\"tags\":{},\"timestamp\":1}\n{\"fields\":",
        )
        .unwrap();
        let metrics = read_metrics(&path).unwrap();
        assert_eq!(metrics.len(), 1);
        assert_eq!(metrics[0].name, "m");
    }

    fn metric(line: &str) -> Metric {
        Metric::parse_line(line).unwrap()
    }

    #[test]
    fn gathers_compare_by_series_fields_types_and_chosen_values() {
        let ours = vec![
            metric(
                r#"{"fields":{"lag":3,"offset":5,"timestamp":11},"name":"burrow_group","tags":{"cluster":"c","group":"g"},"timestamp":1}"#,
            ),
            metric(
                r#"{"fields":{"offset":5},"name":"burrow_topic","tags":{"cluster":"c","partition":"0","topic":"t"},"timestamp":1}"#,
            ),
            metric(
                r#"{"fields":{"lag":1.0,"extra":1},"name":"burrow_partition","tags":{"cluster":"c","group":"g","partition":"0","topic":"t"},"timestamp":1}"#,
            ),
        ];
        let theirs = vec![
            metric(
                r#"{"fields":{"lag":3,"offset":6,"timestamp":99},"name":"burrow_group","tags":{"cluster":"c","group":"g"},"timestamp":2}"#,
            ),
            metric(
                r#"{"fields":{"lag":1,"status":"OK"},"name":"burrow_partition","tags":{"cluster":"c","group":"g","partition":"0","topic":"t"},"timestamp":2}"#,
            ),
            metric(
                r#"{"fields":{"offset":5},"name":"burrow_topic","tags":{"cluster":"c","partition":"1","topic":"t"},"timestamp":2}"#,
            ),
        ];
        assert_eq!(
            compare_gathers(&ours, &theirs, &["lag", "offset"]),
            vec![
                "burrow_topic{cluster=c,partition=0,topic=t}: only in ours",
                "burrow_topic{cluster=c,partition=1,topic=t}: only in theirs",
                "burrow_group{cluster=c,group=g}: field `offset` is 5 in ours, 6 in theirs",
                "burrow_partition{cluster=c,group=g,partition=0,topic=t}: field `extra` only in ours",
                "burrow_partition{cluster=c,group=g,partition=0,topic=t}: field `status` only in theirs",
                "burrow_partition{cluster=c,group=g,partition=0,topic=t}: field `lag` is float in ours, integer in theirs",
            ]
        );
        assert!(compare_gathers(&ours, &ours, &["lag", "offset", "timestamp"]).is_empty());
    }

    #[test]
    fn error_lines_are_the_e_lines() {
        let log = "2026-12-02T15:00:00Z I! Starting Telegraf\n\
                   2026-12-02T15:00:01Z E! [inputs.burrow] Error in plugin: wrong response: 404\n\
                   2026-12-02T15:00:01Z W! something\n";
        assert_eq!(
            error_lines(log),
            vec!["2026-12-02T15:00:01Z E! [inputs.burrow] Error in plugin: wrong response: 404"]
        );
    }
}
