//! A real Prometheus server (`LAGWATCH_TEST_PROMETHEUS`, built by `scripts/services install
//! prometheus`) that scrapes lagwatch's `/metrics` or receives its OTLP push, and answers PromQL.
//!
//! [`Prometheus::start`] writes a configuration with one scrape job per target (interval 1 s
//! by default), starts the server on a free loopback port with a temporary TSDB directory, and
//! returns once `/-/ready` answers. [`Prometheus::query`] runs an instant query;
//! [`Prometheus::wait_for_query`] polls one until its result satisfies a predicate. The server
//! is killed when the value is dropped.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use std::time::Duration;
//! use lagwatch_test_support::services::prometheus::{PromConfig, Prometheus, ScrapeTarget};
//!
//! let prometheus = Prometheus::start(PromConfig {
//!     targets: vec![ScrapeTarget::new("127.0.0.1:8000")],
//!     ..PromConfig::default()
//! })
//! .await?;
//! let rows = prometheus
//!     .wait_for_query("up", |rows| rows.iter().any(|(_, v)| *v == 1.0), Duration::from_secs(30))
//!     .await?;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fs::File;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use serde_json::{Value, json};

use super::{env, es, net, wait};

/// How long [`Prometheus::start`] waits for `/-/ready`.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How many lines of Prometheus's log an error message ends with.
const LOG_TAIL: usize = 30;

/// One endpoint Prometheus scrapes.
#[derive(Clone, PartialEq, Eq)]
pub struct ScrapeTarget {
    /// `host:port` (loopback only).
    pub address: String,
    /// Path of the exposition, `/metrics` by default.
    pub path: String,
    /// Bearer token sent as `Authorization: Bearer …`, if any.
    pub bearer_token: Option<String>,
    /// Scrape interval (and timeout), 1 s by default.
    pub interval: Duration,
}

impl ScrapeTarget {
    /// `address` at `/metrics`, no token, every second.
    pub fn new(address: impl Into<String>) -> ScrapeTarget {
        ScrapeTarget {
            address: address.into(),
            path: String::from("/metrics"),
            bearer_token: None,
            interval: Duration::from_secs(1),
        }
    }

    /// Scrapes `path` instead of `/metrics`.
    pub fn path(mut self, path: impl Into<String>) -> ScrapeTarget {
        self.path = path.into();
        self
    }

    /// Sends `token` as a bearer token.
    pub fn bearer_token(mut self, token: impl Into<String>) -> ScrapeTarget {
        self.bearer_token = Some(token.into());
        self
    }

    /// Scrapes every `interval` (at least 1 ms).
    pub fn interval(mut self, interval: Duration) -> ScrapeTarget {
        self.interval = interval;
        self
    }
}

impl std::fmt::Debug for ScrapeTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScrapeTarget")
            .field("address", &self.address)
            .field("path", &self.path)
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field("interval", &self.interval)
            .finish()
    }
}

/// What [`Prometheus::start`] sets up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PromConfig {
    /// Scrape targets, one job each (`job` label `target0`, `target1`, …).
    pub targets: Vec<ScrapeTarget>,
    /// Starts the OTLP receiver (`--web.enable-otlp-receiver`); see [`Prometheus::otlp_url`].
    pub otlp_receiver: bool,
}

/// The configuration file's content (YAML; written as JSON, which YAML reads as well).
fn config_text(config: &PromConfig) -> String {
    let seconds = |d: Duration| format!("{}ms", d.as_millis().max(1));
    let jobs: Vec<Value> = config
        .targets
        .iter()
        .enumerate()
        .map(|(i, target)| {
            let mut job = json!({
                "job_name": format!("target{i}"),
                "scrape_interval": seconds(target.interval),
                "scrape_timeout": seconds(target.interval),
                "metrics_path": target.path,
                "scheme": "http",
                "static_configs": [{"targets": [target.address]}],
            });
            if let Some(token) = &target.bearer_token {
                job["authorization"] = json!({"type": "Bearer", "credentials": token});
            }
            job
        })
        .collect();
    let document = json!({
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "scrape_configs": jobs,
    });
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

/// A running Prometheus server; killed when dropped.
pub struct Prometheus {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for Prometheus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prometheus")
            .field("pid", &self.child.id())
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// One row of a query result: the series' labels (with `__name__` when the query keeps it)
/// and its value.
pub type Sample = (BTreeMap<String, String>, f64);

impl Prometheus {
    /// Starts Prometheus on `127.0.0.1:<free port>` and waits until `/-/ready` answers.
    pub async fn start(config: PromConfig) -> anyhow::Result<Prometheus> {
        let binary = env::prometheus();
        let dir = tempfile::Builder::new()
            .prefix("lagwatch-prometheus-")
            .tempdir()
            .context("cannot create a temporary directory for Prometheus")?;
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config_text(&config))
            .with_context(|| format!("cannot write {}", config_path.display()))?;
        let addr = net::free_addr()?;
        let log_path = dir.path().join("prometheus.log");
        let log = File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let log_err = log.try_clone().context("cannot duplicate the log file")?;
        let mut command = Command::new(&binary);
        command
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        if config.otlp_receiver {
            command.arg("--web.enable-otlp-receiver");
        }
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut prometheus = Prometheus { child, addr, dir };
        if let Err(err) = prometheus.wait_ready().await {
            return Err(err.context(format!(
                "Prometheus with {} did not become ready; last lines of its log:\n{}",
                config_path.display(),
                prometheus.log_tail()
            )));
        }
        Ok(prometheus)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let url = format!("{}/-/ready", self.url());
        let client = es::client()?;
        let child = &mut self.child;
        wait::until(
            &format!("{url} to answer 200"),
            READY_TIMEOUT,
            Duration::from_millis(200),
            || {
                let exited = child.try_wait();
                let request = client.get(&url).send();
                async move {
                    match exited {
                        Ok(Some(status)) => bail!("Prometheus exited ({status})"),
                        Err(err) => bail!("cannot ask Prometheus for its state: {err}"),
                        Ok(None) => {}
                    }
                    let response = request.await.map_err(|e| anyhow!("GET /-/ready: {e}"))?;
                    if response.status().is_success() {
                        Ok(Some(()))
                    } else {
                        Err(anyhow!("GET /-/ready answered {}", response.status()))
                    }
                }
            },
        )
        .await
    }

    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address Prometheus listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// URL of the OTLP/HTTP metrics receiver (`…/api/v1/otlp/v1/metrics`, protobuf), when
    /// started with [`PromConfig::otlp_receiver`]; an OTLP exporter configured with a base
    /// endpoint wants [`Prometheus::otlp_base_url`] instead.
    pub fn otlp_url(&self) -> String {
        format!("{}/v1/metrics", self.otlp_base_url())
    }

    /// The OTLP base endpoint (`…/api/v1/otlp`); exporters append `/v1/metrics`.
    pub fn otlp_base_url(&self) -> String {
        format!("{}/api/v1/otlp", self.url())
    }

    /// Everything Prometheus logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(LOG_TAIL)..].join("\n")
    }

    /// Runs the instant query `promql` (`/api/v1/query`) and returns one row per series; a
    /// scalar result is one row without labels. A failed query (bad PromQL) is an error
    /// naming the query and Prometheus's message.
    pub async fn query(&self, promql: &str) -> anyhow::Result<Vec<Sample>> {
        let base = format!("{}/api/v1/query", self.url());
        let url = reqwest::Url::parse_with_params(&base, &[("query", promql)])
            .with_context(|| format!("cannot build the query URL for {promql}"))?;
        let response = es::client()?
            .get(url)
            .send()
            .await
            .with_context(|| format!("query {promql}"))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .with_context(|| format!("reading the answer to {promql}"))?;
        let body: Value = serde_json::from_str(&text)
            .with_context(|| format!("query {promql} answered {status} with non-JSON: {text}"))?;
        parse_query_answer(&body).with_context(|| format!("query {promql} ({status})"))
    }

    /// Polls `promql` every 250 ms until `predicate` holds for its rows and returns them;
    /// fails after `timeout` with the last rows (or error) seen.
    pub async fn wait_for_query<P>(
        &self,
        promql: &str,
        predicate: P,
        timeout: Duration,
    ) -> anyhow::Result<Vec<Sample>>
    where
        P: Fn(&[Sample]) -> bool,
    {
        let predicate = &predicate;
        wait::until(
            &format!("Prometheus query {promql} to give the expected rows"),
            timeout,
            Duration::from_millis(250),
            || async move {
                let rows = self.query(promql).await?;
                if predicate(&rows) {
                    Ok(Some(rows))
                } else {
                    Err(anyhow!("rows so far: {rows:?}"))
                }
            },
        )
        .await
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sample_value(pair: &Value) -> anyhow::Result<f64> {
    let text = pair[1]
        .as_str()
        .ok_or_else(|| anyhow!("value is not [time, \"number\"]: {pair}"))?;
    text.parse::<f64>()
        .with_context(|| format!("value {text:?} is not a number"))
}

/// The rows of an `/api/v1/query` answer.
fn parse_query_answer(body: &Value) -> anyhow::Result<Vec<Sample>> {
    if body["status"] != "success" {
        bail!(
            "Prometheus answered {}: {} {}",
            body["status"],
            body["errorType"],
            body["error"]
        );
    }
    let data = &body["data"];
    match data["resultType"].as_str() {
        Some("vector") => data["result"]
            .as_array()
            .ok_or_else(|| anyhow!("vector result without a list: {data}"))?
            .iter()
            .map(|row| {
                let labels = row["metric"]
                    .as_object()
                    .ok_or_else(|| anyhow!("series without `metric`: {row}"))?
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect();
                Ok((labels, sample_value(&row["value"])?))
            })
            .collect(),
        Some("scalar") => Ok(vec![(BTreeMap::new(), sample_value(&data["result"])?)]),
        other => {
            bail!("unsupported result type {other:?} (use an instant vector or scalar): {data}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_and_scalar_answers_become_rows() {
        let body = json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"__name__": "up", "job": "target0"}, "value": [1.5, "1"]},
            {"metric": {"job": "target1"}, "value": [1.5, "NaN"]},
        ]}});
        let rows = parse_query_answer(&body).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0["job"], "target0");
        assert_eq!(rows[0].1, 1.0);
        assert!(rows[1].1.is_nan());
        let body =
            json!({"status": "success", "data": {"resultType": "scalar", "result": [1.5, "+Inf"]}});
        let rows = parse_query_answer(&body).unwrap();
        assert_eq!(rows, vec![(BTreeMap::new(), f64::INFINITY)]);
    }

    #[test]
    fn an_error_answer_carries_the_message() {
        let body = json!({"status": "error", "errorType": "bad_data", "error": "parse error"});
        let err = parse_query_answer(&body).unwrap_err();
        assert!(format!("{err:#}").contains("parse error"), "{err:#}");
    }

    #[test]
    fn the_config_has_one_job_per_target_and_hides_nothing_needed() {
        let config = PromConfig {
            targets: vec![
                ScrapeTarget::new("127.0.0.1:1"),
                ScrapeTarget::new("127.0.0.1:2")
                    .path("/m")
                    .bearer_token("s3cret")
                    .interval(Duration::from_secs(2)),
            ],
            otlp_receiver: true,
        };
        let parsed: Value = serde_json::from_str(&config_text(&config)).unwrap();
        let jobs = parsed["scrape_configs"].as_array().unwrap();
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0]["metrics_path"], "/metrics");
        assert_eq!(jobs[0]["scrape_interval"], "1000ms");
        assert!(jobs[0].get("authorization").is_none());
        assert_eq!(jobs[1]["static_configs"][0]["targets"][0], "127.0.0.1:2");
        assert_eq!(jobs[1]["authorization"]["credentials"], "s3cret");
        assert_eq!(jobs[1]["scrape_timeout"], "2000ms");
        assert!(!format!("{config:?}").contains("s3cret"));
    }
}
