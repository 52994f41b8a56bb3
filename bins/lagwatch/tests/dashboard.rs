//! Issue #17 acceptance: the built-in dashboard in a real headless Chromium.
//!
//! * Against `lagwatch demo`: the page loads, its charts fill, every group's status shown
//!   equals the JSON API's, the group and topic pages open; screenshots go to
//!   `$CARGO_TARGET_TMPDIR/dashboard/`, page weight and time to first chart are printed.
//! * Against `lagwatch run` on the harness Kafka: a real consumer group that stops committing
//!   while messages keep arriving is shown ERR/STOP by the page no later than the evaluation
//!   after the one where the API first says so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod collector;
use collector::Collector;

use lagwatch_test_support::services::browser::Browser;
use lagwatch_test_support::services::kafka::{self, Protocol, RunningConsumer, Trickle};
use lagwatch_test_support::services::{env, names};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(90);

fn out_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard")
}

/// `lagwatch demo` with its HTTP API on a free port; killed on drop.
struct Demo {
    child: Child,
    url: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    fn start() -> Demo {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lagwatch"))
            .args([
                "demo",
                "--http",
                "127.0.0.1:0",
                "--duration",
                "300s",
                "--format",
                "json",
                "--seed",
                "17",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start lagwatch demo");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent
                    && let Some(url) = line
                        .split("HTTP API on ")
                        .nth(1)
                        .and_then(|rest| rest.split_whitespace().next())
                {
                    let _ = tx.send(url.to_owned());
                    sent = true;
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("lagwatch demo did not print its HTTP address");
        Demo { child, url }
    }
}

async fn api(base: &str, path: &str) -> Value {
    reqwest::get(format!("{base}{path}"))
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: not JSON: {e}"))
}

/// `(cluster, group) -> status` from the API.
async fn api_statuses(base: &str) -> BTreeMap<(String, String), String> {
    let groups = api(base, "/api/v1/groups").await;
    groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                (
                    g["cluster"].as_str().unwrap().to_owned(),
                    g["group"].as_str().unwrap().to_owned(),
                ),
                g["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `(cluster, group) -> (status attribute, visible status text)` from the page's rows.
async fn page_statuses(browser: &Browser) -> BTreeMap<(String, String), (String, String)> {
    let rows = browser
        .execute(
            "return [...document.querySelectorAll('tr.group-row')].map(r => \
             [r.dataset.cluster, r.dataset.group, r.dataset.status, \
              r.querySelector('td.status').innerText]);",
            Vec::new(),
        )
        .await
        .unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                (
                    r[0].as_str().unwrap().to_owned(),
                    r[1].as_str().unwrap().to_owned(),
                ),
                (
                    r[2].as_str().unwrap().to_owned(),
                    r[3].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect()
}

/// Bytes of the page and the assets it loads, fetched the way the browser does.
async fn page_weight(base: &str, browser: &Browser) -> usize {
    let assets = browser
        .execute(
            "return [...document.querySelectorAll('script[src],link[rel=stylesheet]')]\
             .map(e => e.getAttribute('src') || e.getAttribute('href'));",
            Vec::new(),
        )
        .await
        .unwrap();
    let mut total = 0;
    let mut paths = vec!["/".to_owned()];
    paths.extend(
        assets
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned()),
    );
    for path in paths {
        let bytes = reqwest::get(format!("{base}{path}"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        println!("asset {path}: {} bytes", bytes.len());
        total += bytes.len();
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_the_demo_with_the_apis_statuses_in_chromium() {
    let demo = Demo::start();
    let browser = Browser::start().await.unwrap();
    let dir = out_dir();
    browser.goto(&format!("{}/", demo.url)).await.unwrap();

    // Charts hold data: every demo group listed with a sparkline of at least two points.
    browser
        .wait_for_script(
            "return document.querySelectorAll('tr.group-row').length >= 6 && \
             document.querySelectorAll('tr.group-row svg.spark[data-points]').length >= 6",
            TIMEOUT,
        )
        .await
        .unwrap_or_else(|e| panic!("{e:#}\n{}", browser.log_tail()));

    // Every group's status shown equals the API's, in text as well as in the attribute. The
    // demo's groups change status as its story unfolds, so compare until one evaluation
    // matches (the page redraws within a second of a new evaluation) once the demo has groups
    // in ERR (from about 9 s on).
    let deadline = Instant::now() + TIMEOUT;
    let (shown, wanted) = loop {
        let before = api_statuses(&demo.url).await;
        let shown = page_statuses(&browser).await;
        let after = api_statuses(&demo.url).await;
        let same = shown.len() == before.len()
            && shown
                .iter()
                .all(|(k, (status, _))| before.get(k) == Some(status));
        if same && before == after && before.values().any(|s| s == "ERR") {
            break (shown, before);
        }
        assert!(
            Instant::now() < deadline,
            "the page never showed the API's statuses: page {shown:?}, API {before:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    for ((cluster, group), (status, text)) in &shown {
        assert!(
            text.contains(status.as_str()),
            "{cluster}/{group}: status {status} not written in the cell {text:?}"
        );
    }
    let overview = dir.join("overview.png");
    browser.screenshot(&overview).await.unwrap();

    // Page weight, and time to first chart on a fresh load now that the history has data.
    let weight = page_weight(&demo.url, &browser).await;
    browser.goto(&format!("{}/", demo.url)).await.unwrap();
    let first = browser
        .wait_for_script(
            "return window.lagwatch && window.lagwatch.firstChartMs",
            TIMEOUT,
        )
        .await
        .unwrap();
    println!("page weight: {weight} bytes (page, script and style sheet)");
    println!("time to first chart: {first} ms after navigation start");

    // A group page: the group in ERR, its charts filled, a reason on every non-OK partition.
    let (cluster, group) = wanted
        .iter()
        .find(|(_, s)| s.as_str() == "ERR")
        .map(|(k, _)| k.clone())
        .unwrap();
    browser
        .goto(&format!("{}/#/group/{cluster}/{group}", demo.url))
        .await
        .unwrap();
    browser
        .wait_for_script(
            "const c = document.querySelector('#chart-total-svg'); \
             const p = document.querySelector('#chart-partitions-svg'); \
             return c && p && Number(c.dataset.points) >= 2 && Number(p.dataset.points) >= 2 \
               && document.querySelectorAll('tr.partition-row').length > 0",
            TIMEOUT,
        )
        .await
        .unwrap();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let detail = api(&demo.url, &format!("/api/v1/groups/{cluster}/{group}")).await;
        let shown = browser
            .execute(
                "return document.querySelector('#group-status').dataset.status",
                Vec::new(),
            )
            .await
            .unwrap();
        if shown == detail["group"]["status"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "group page shows {shown}, API {}",
            detail["group"]["status"]
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let reasons = browser
        .execute(
            "return [...document.querySelectorAll('tr.partition-row')]\
             .filter(r => r.dataset.status !== 'OK')\
             .map(r => r.querySelector('td.reason').innerText.trim());",
            Vec::new(),
        )
        .await
        .unwrap();
    let reasons = reasons.as_array().unwrap();
    assert!(!reasons.is_empty());
    assert!(
        reasons.iter().all(|r| !r.as_str().unwrap().is_empty()),
        "{reasons:?}"
    );
    // The group's trend, as the API gives it: a time to catch up, or "not catching up".
    let detail = api(&demo.url, &format!("/api/v1/groups/{cluster}/{group}")).await;
    if let Some(catching_up) = detail["group"]["catching_up"].as_bool() {
        let summary = browser
            .execute(
                "return document.querySelector('#summary').innerText",
                Vec::new(),
            )
            .await
            .unwrap();
        let summary = summary.as_str().unwrap_or_default().to_lowercase();
        assert!(summary.contains("time to catch up"), "{summary}");
        if !catching_up {
            assert!(summary.contains("not catching up"), "{summary}");
        }
    } else {
        panic!("the API gives the demo's {group} no trend: {detail}");
    }
    browser
        .screenshot_full_page(&dir.join("group.png"))
        .await
        .unwrap();

    // A topic page, reached by the link in the partition table.
    let link = browser.find("tr.partition-row td.name a").await.unwrap();
    browser.click(&link).await.unwrap();
    browser
        .wait_for_elements("tr.consumer-row", 1, TIMEOUT)
        .await
        .unwrap();
    let consumers = browser
        .execute(
            "return [...document.querySelectorAll('tr.consumer-row')].map(r => r.dataset.group)",
            Vec::new(),
        )
        .await
        .unwrap();
    assert!(
        consumers
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g.as_str() == Some(group.as_str())),
        "{consumers}"
    );
    browser.screenshot(&dir.join("topic.png")).await.unwrap();

    // Dark mode follows the system's preference.
    browser.prefer_color_scheme("dark").await.unwrap();
    browser.goto(&format!("{}/", demo.url)).await.unwrap();
    browser
        .wait_for_elements("tr.group-row", 6, TIMEOUT)
        .await
        .unwrap();
    let background = browser
        .execute(
            "return getComputedStyle(document.body).backgroundColor",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(background, "rgb(13, 17, 23)");
    browser.screenshot(&dir.join("dark.png")).await.unwrap();

    // The overview on a phone-sized window, for the record.
    let phone = Browser::start_with_size(390, 844).await.unwrap();
    phone.goto(&format!("{}/", demo.url)).await.unwrap();
    phone
        .wait_for_elements("tr.group-row", 6, TIMEOUT)
        .await
        .unwrap();
    phone.screenshot(&dir.join("phone.png")).await.unwrap();
    println!("screenshots in {}", dir.display());
    assert!(std::fs::metadata(&overview).unwrap().len() > 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_group_that_stops_committing_shows_err_stop_within_one_evaluation() {
    let broker = env::kafka();
    let cluster = names::group("lw-dash-cluster");
    let topic = names::topic("lw-dash");
    let group = names::group("lw-dash");
    kafka::create_topic(&broker, &topic, 1).await.unwrap();
    let trickle = Trickle::start(&broker.bootstrap, &topic, 5, Duration::from_millis(300));

    let interval_s = 3;
    let config = format!(
        r#"[general]
evaluation_interval = "{interval_s}s"
persist_state = false

[sources.k]
type = "kafka"
cluster = {cluster:?}
servers = {bootstrap:?}
offset_refresh = "1s"
topic_refresh = "2s"
group_allowlist = {allow:?}

[sinks.out]
type = "stdout"
format = "json"
"#,
        bootstrap = broker.bootstrap,
        allow = format!("^{group}$"),
    );
    let lagwatch = Collector::start(&config, &[]);
    let consumer = RunningConsumer::start(
        &broker,
        &group,
        &[topic.as_str()],
        Protocol::Classic,
        "dash-consumer",
    )
    .unwrap();
    consumer
        .wait_for_consumed(20, TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e:#}: {:?}", consumer.last_error()));

    let browser = Browser::start().await.unwrap();
    browser.goto(&format!("{}/", lagwatch.url)).await.unwrap();
    let row = format!("tr.group-row[data-group=\"{group}\"]");
    browser.wait_for_elements(&row, 1, TIMEOUT).await.unwrap();

    // Let the window fill with commits, then stop committing while messages keep coming.
    let commits_before = consumer.commits();
    kafka_wait_commits(&consumer, commits_before + 8).await;
    consumer.pause().await.unwrap();

    // The first evaluation where the API says ERR/STOP.
    let path = format!("/api/v1/groups/{cluster}/{group}");
    let deadline = Instant::now() + TIMEOUT;
    let first_err_at = loop {
        let g = api(&lagwatch.url, &path).await;
        if g["group"]["status"] == "ERR" && g["group"]["worst_partition"] == "STOP" {
            break g["group"]["evaluated_at_ms"].as_i64().unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "the API never said ERR/STOP: {g}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // The page shows ERR/STOP before the API has moved past the next evaluation.
    let script = format!(
        "const r = document.querySelector('{}'); if (!r) return null; \
         return [r.dataset.status, r.querySelector('td.status').innerText];",
        row.replace('\'', "\\'")
    );
    loop {
        let shown = browser.execute(&script, Vec::new()).await.unwrap();
        let status = await_status(&lagwatch.url).await;
        if shown[0] == "ERR" {
            let text = shown[1].as_str().unwrap();
            assert!(
                text.contains("ERR") && text.contains("STOP"),
                "status cell {text:?}"
            );
            break;
        }
        // Before the second evaluation after that one (half an interval of slack for timer
        // jitter): within one evaluation.
        assert!(
            status < first_err_at + interval_s * 1500,
            "the API said ERR/STOP at the evaluation of {first_err_at} ms, the page still \
             shows {shown} at the evaluation of {status} ms"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser
        .screenshot(&out_dir().join("kafka-stopped-group.png"))
        .await
        .unwrap();
    drop(browser);
    consumer.stop().await.unwrap();
    trickle.stop().await.unwrap();
}

/// The evaluation time the API answers for now.
async fn await_status(base: &str) -> i64 {
    api(base, "/api/v1/status").await["evaluated_at_ms"]
        .as_i64()
        .unwrap_or(0)
}

async fn kafka_wait_commits(consumer: &RunningConsumer, n: u64) {
    let deadline = Instant::now() + TIMEOUT;
    while consumer.commits() < n {
        assert!(
            Instant::now() < deadline,
            "the consumer made {} commits, not {n}: {:?}",
            consumer.commits(),
            consumer.last_error()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
