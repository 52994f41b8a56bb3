//! Issue #7's outage acceptance test, as the issue states it, with the real `lagwatch` binary:
//! while `lagwatch run` writes continuously (a seeded `demo` source evaluated every second),
//! the harness's Elasticsearch is stopped for 60 s and started again, and in the middle of that
//! window the lagwatch process is killed with SIGKILL and a new one is started with the same
//! configuration (same spool directory, same file). Afterwards the index holds exactly the
//! expected documents: none missing, none duplicated, none invented, each with the content
//! lagwatch evaluated.
//!
//! # Ground truth
//!
//! The configuration has two sinks: the Elasticsearch sink (with a disk spool) and a `file`
//! sink with `fsync = "always"`, whose lines are the documents lagwatch evaluated (the file
//! sink writes lagwatch's native fields too, so the Elasticsearch sink runs with
//! `native_fields = true` and the documents must be equal, not just share an id). The two
//! sinks run as independent tasks fed from the same evaluation, so at the moment of the
//! SIGKILL one of them may have written the newest snapshot and the other not yet (or the
//! spool may hold a torn last line, which the next start cuts off). Neither is lost data:
//! the Elasticsearch sink acknowledges a snapshot only when its spool append is synced, and
//! only what it acknowledged is promised. So the test reads, right after the kill (nothing
//! writes then), both
//!
//! * `G1`: the complete lines of the file sink (the evaluations of the first process), and
//! * `S1`: the complete lines of the spool segments (what the first process's Elasticsearch
//!   sink acknowledged and had not yet sent; Elasticsearch is down, so nothing drains),
//!
//! and the lines the second process appends to the file are `G2`. Then, with `T` the older of
//! the newest time in `G1` and the newest time in `S1` (the evaluation in flight at the
//! kill):
//!
//! * every document of `S1` and of `G2` is in the index;
//! * every document of `G1` older than `T` is in the index (this includes everything written
//!   before Elasticsearch was stopped);
//! * a document of `G1` may be missing only if it is from `T` or newer and not in `S1`;
//! * the index holds nothing else: every document is in `G1 ∪ G2 ∪ S1`, and one not in the
//!   file must be from `T` or newer (spooled, then killed before the file sink wrote it);
//! * no `(measurement, tags, @timestamp)` appears twice: the id of every stored document is
//!   recomputed from its `_source` with the sink's own [`document_id`] and must equal `_id`
//!   and be unique, and the stored `_source` equals the file sink's line for it.
//!
//! Records are stamped in whole seconds (as Telegraf does), so an evaluation in the same
//! second as the one before gets the same ids. Periodic evaluations are one second apart and
//! the second process starts three seconds after the kill, so only the extra evaluation at
//! shutdown can collide with the last periodic one; the file then has two lines with one id,
//! and the index must hold the first (the second is refused with 409 and, by design, does
//! not overwrite it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_lib::core::measurement::{Measurement, MeasurementName, days_from_civil};
use lagwatch_lib::sinks::elasticsearch::bulk::document_id;
use lagwatch_test_support::services::{env, es, names, wait};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long Elasticsearch stays down (the issue's 60 s).
const OUTAGE: Duration = Duration::from_secs(60);
/// When, inside the outage, the first lagwatch process is killed.
const KILL_AFTER: Duration = Duration::from_secs(25);
/// Between the kill and the start of the second process (more than a record's 1 s precision).
const RESTART_AFTER: Duration = Duration::from_secs(3);

/// One document: the id the sink gives it, its time and its content.
#[derive(Clone, Debug)]
struct Doc {
    id: String,
    ts_ms: i64,
    source: Value,
}

/// `YYYY-MM-DDTHH:MM:SSZ` (whole seconds, as the records are stamped) to ms since the epoch.
fn parse_time(text: &str) -> i64 {
    let bad = || panic!("unexpected @timestamp {text:?}");
    let b = text.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        bad();
    }
    let num = |r: std::ops::Range<usize>| -> i64 { text[r].parse().unwrap_or_else(|_| bad()) };
    let days = days_from_civil(num(0..4), num(5..7) as u8, num(8..10) as u8);
    ((days * 24 + num(11..13)) * 60 + num(14..16)) * 60_000 + num(17..19) * 1000
}

/// Parses a document in Telegraf's shape and recomputes its id with the sink's own function.
fn doc_of(source: Value) -> Doc {
    let name = match source["measurement_name"].as_str() {
        Some("burrow_group") => MeasurementName::BurrowGroup,
        Some("burrow_partition") => MeasurementName::BurrowPartition,
        Some("burrow_topic") => MeasurementName::BurrowTopic,
        other => panic!("unexpected measurement_name {other:?} in {source}"),
    };
    let ts_ms = parse_time(source["@timestamp"].as_str().expect("@timestamp"));
    let mut record = Measurement::new(name, ts_ms);
    for (k, v) in source["tag"].as_object().expect("tag object") {
        record
            .tags
            .insert(k.clone(), v.as_str().expect("string tag").to_owned());
    }
    Doc {
        id: document_id(&record),
        ts_ms,
        source,
    }
}

/// The complete (newline-terminated) lines of `path` and the length of that prefix.
fn complete_lines(path: &Path) -> (Vec<String>, usize) {
    let text = std::fs::read(path).unwrap_or_default();
    let end = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let lines = String::from_utf8(text[..end].to_vec())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    (lines, end)
}

/// The file sink's documents from byte `from` on (complete lines only).
fn file_docs(path: &Path, from: usize) -> Vec<Doc> {
    let text = std::fs::read(path).unwrap();
    let end = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    std::str::from_utf8(&text[from.min(end)..end])
        .unwrap()
        .lines()
        .map(|l| doc_of(serde_json::from_str(l).unwrap()))
        .collect()
}

/// Every complete line of every spool segment, as documents (`{"index","id","source"}`).
fn spool_docs(dir: &Path) -> Vec<Doc> {
    let mut segments: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("segment-") && name.ends_with(".ndjson")
        })
        .collect();
    segments.sort();
    let mut docs = Vec::new();
    for segment in segments {
        for line in complete_lines(&segment).0 {
            let entry: Value = serde_json::from_str(&line).unwrap();
            let doc = doc_of(serde_json::from_str(entry["source"].as_str().unwrap()).unwrap());
            assert_eq!(entry["id"].as_str(), Some(doc.id.as_str()), "{line}");
            docs.push(doc);
        }
    }
    docs
}

/// Every document of `index` as `(_id, _source)` (refreshed first).
async fn index_docs(url: &str, index: &str) -> anyhow::Result<Vec<(String, Value)>> {
    es::refresh(url, index).await?;
    let answer = es::search(
        url,
        index,
        &json!({"size": 10_000, "track_total_hits": true, "query": {"match_all": {}}}),
    )
    .await?;
    let total = answer["hits"]["total"]["value"].as_u64().unwrap_or(0);
    anyhow::ensure!(total < 10_000, "{total} documents: more than one page");
    Ok(answer["hits"]["hits"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|h| (h["_id"].as_str().unwrap().to_owned(), h["_source"].clone()))
        .collect())
}

/// A `lagwatch run` child process; killed when dropped.
struct Lagwatch {
    child: Child,
    log: PathBuf,
}

impl Lagwatch {
    fn start(config: &Path, log: PathBuf) -> Lagwatch {
        let out = std::fs::File::create(&log).unwrap();
        // The state directory sits beside the configuration, so the restarted process finds
        // what the killed one saved.
        let state = config.with_file_name("state");
        let child = Command::new(env!("CARGO_BIN_EXE_lagwatch"))
            // Several collectors run at once: each takes a free port for its HTTP API.
            .env("LAGWATCH_HTTP__LISTEN", "127.0.0.1:0")
            .args(["run", "--config"])
            .arg(config)
            .arg("--state-dir")
            .arg(state)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start lagwatch run");
        Lagwatch { child, log }
    }

    fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("lagwatch exited early ({status}):\n{}", self.log_text());
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL (what `Child::kill` sends on Unix) and reap.
    fn sigkill(&mut self) {
        self.assert_running();
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then wait (bounded) for a successful exit.
    async fn sigterm(&mut self) {
        self.assert_running();
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "lagwatch did not stop within 60 s of SIGTERM:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert!(status.success(), "{status}:\n{}", self.log_text());
    }
}

impl Drop for Lagwatch {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts Elasticsearch again when dropped while armed, so a failing test does not leave it
/// down for the tests after it.
struct StartAgain {
    armed: bool,
}

impl Drop for StartAgain {
    fn drop(&mut self) {
        if self.armed {
            let ctl = env::services_ctl();
            let _ = Command::new(&ctl.path)
                .args(["start", "elasticsearch"])
                .status();
        }
    }
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// The ground truth (see the module documentation).
struct Truth {
    g1: Vec<Doc>,
    s1: Vec<Doc>,
    g2: Vec<Doc>,
    /// Documents of `g2` from this time on may still be on their way (while process 2 runs).
    g2_settled_before: i64,
}

impl Truth {
    /// The time from which a document of the first process may be missing (see the module
    /// documentation).
    fn in_flight_from(&self) -> i64 {
        let newest = |docs: &[Doc]| docs.iter().map(|d| d.ts_ms).max().unwrap_or(i64::MAX);
        newest(&self.g1).min(newest(&self.s1))
    }

    /// Problems of `stored` (`_id`, `_source`); empty when the index is exactly right.
    fn problems(&self, stored: &[(String, Value)]) -> Vec<String> {
        let mut problems = Vec::new();
        let t = self.in_flight_from();
        // First version of every id in evaluation order: the file (process 1, then 2), and
        // spooled documents the file never got.
        let mut expected: BTreeMap<&str, &Doc> = BTreeMap::new();
        for d in self.g1.iter().chain(&self.g2) {
            expected.entry(&d.id).or_insert(d);
        }
        let in_file: BTreeSet<&str> = expected.keys().copied().collect();
        let in_s1: BTreeSet<&str> = self.s1.iter().map(|d| d.id.as_str()).collect();
        for d in &self.s1 {
            expected.entry(&d.id).or_insert(d);
        }

        let mut seen = BTreeSet::new();
        for (id, source) in stored {
            let doc = doc_of(source.clone());
            if &doc.id != id {
                problems.push(format!("_id {id} but its content gives {}", doc.id));
            }
            if !seen.insert(doc.id.clone()) {
                problems.push(format!("duplicate {}: {source}", doc.id));
            }
            match expected.get(doc.id.as_str()) {
                None => problems.push(format!("not evaluated by lagwatch: {source}")),
                Some(want) if want.source != *source => problems.push(format!(
                    "stored {source} but lagwatch evaluated {}",
                    want.source
                )),
                Some(_) if !in_file.contains(doc.id.as_str()) && doc.ts_ms < t => {
                    problems.push(format!("spooled only, yet older than the kill: {source}"))
                }
                Some(_) => {}
            }
        }
        for d in &self.s1 {
            if !seen.contains(&d.id) {
                problems.push(format!("spooled (acknowledged) but missing: {}", d.source));
            }
        }
        for d in &self.g2 {
            if !seen.contains(&d.id) && d.ts_ms < self.g2_settled_before {
                problems.push(format!(
                    "written by the second process but missing: {}",
                    d.source
                ));
            }
        }
        for d in &self.g1 {
            if !seen.contains(&d.id) && (d.ts_ms < t || in_s1.contains(d.id.as_str())) {
                problems.push(format!(
                    "written by the first process but missing: {}",
                    d.source
                ));
            }
        }
        problems
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_second_outage_with_a_sigkill_ends_with_exactly_the_expected_documents() {
    let url = env::elasticsearch();
    let ctl = env::services_ctl();
    es::wait_for_yellow(&url, Duration::from_secs(120))
        .await
        .unwrap();
    let index = names::index("lw-sigkill");
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    let truth_file = dir.path().join("truth.ndjson");
    let config = dir.path().join("lagwatch.toml");
    let text = format!(
        r#"[general]
evaluation_interval = "1s"

[sources.sim]
type = "demo"
seed = 7

[sinks.es]
type = "elasticsearch"
url = {url:?}
index_name = {index:?}
native_fields = true
spool_dir = {spool:?}
dead_letter_path = {dead:?}
batch_max_wait = "50ms"
timeout = "2s"
max_retries = 1
retry_initial_backoff = "100ms"
retry_max_backoff = "1s"

[sinks.truth]
type = "file"
path = {truth:?}
fsync = "always"
rotate_bytes = 0
rotate_daily = false
"#,
        spool = spool.display().to_string(),
        dead = dir.path().join("dead.ndjson").display().to_string(),
        truth = truth_file.display().to_string(),
    );
    std::fs::write(&config, text).unwrap();
    let started = Instant::now();

    // Process 1, with Elasticsearch up.
    let mut first = Lagwatch::start(&config, dir.path().join("first.log"));
    es::wait_for_count(&url, &index, 1, Duration::from_secs(60))
        .await
        .unwrap_or_else(|e| panic!("{e:#}\n{}", first.log_text()));
    tokio::time::sleep(Duration::from_secs(3)).await;
    first.assert_running();

    // The outage.
    let mut guard = StartAgain { armed: true };
    ctl.stop("elasticsearch").await.unwrap();
    let outage_start = Instant::now();
    let stopped_at_ms = now_ms();
    assert!(
        es::count(&url, &index).await.is_err(),
        "Elasticsearch still answers after stop"
    );
    tokio::time::sleep(KILL_AFTER).await;
    first.sigkill();
    let (_, g1_len) = complete_lines(&truth_file);
    let g1 = file_docs(&truth_file, 0);
    let s1 = spool_docs(&spool);
    let killed_at_ms = now_ms();
    println!(
        "killed process 1 after {:?}: {} records in the file, {} in the spool",
        started.elapsed(),
        g1.len(),
        s1.len()
    );
    assert!(
        s1.iter().any(|d| d.ts_ms >= stopped_at_ms - 1000),
        "process 1 spooled nothing during the outage:\n{}",
        first.log_text()
    );
    tokio::time::sleep(RESTART_AFTER).await;

    // Process 2: same configuration, same spool, same file; Elasticsearch still down.
    let mut second = Lagwatch::start(&config, dir.path().join("second.log"));
    let back_in = OUTAGE.saturating_sub(outage_start.elapsed());
    tokio::time::sleep(back_in).await;
    second.assert_running();
    let restart_at_ms = now_ms();
    println!(
        "starting Elasticsearch after {:?} down",
        outage_start.elapsed()
    );
    ctl.run(&["start", "elasticsearch"], Duration::from_secs(180))
        .await
        .unwrap();
    guard.armed = false;
    es::wait_for_yellow(&url, Duration::from_secs(120))
        .await
        .unwrap();
    println!("Elasticsearch back after {:?}", started.elapsed());

    // Let the spool drain while process 2 keeps evaluating: everything evaluated so far
    // (except what the in-flight rule allows) must arrive.
    let drained = wait::until(
        "the spool to drain into the index",
        Duration::from_secs(120),
        Duration::from_secs(1),
        || {
            let truth = Truth {
                g1: g1.clone(),
                s1: s1.clone(),
                g2: file_docs(&truth_file, g1_len),
                // What process 2 evaluated in the last two seconds may not be there yet.
                g2_settled_before: now_ms() - 2000,
            };
            let (url, index) = (url.clone(), index.clone());
            async move {
                let stored = index_docs(&url, &index).await?;
                let problems = truth.problems(&stored);
                anyhow::ensure!(problems.is_empty(), "{}", problems.join("\n"));
                Ok(Some(()))
            }
        },
    )
    .await;
    if let Err(e) = drained {
        panic!("{e:#}\n--- second process:\n{}", second.log_text());
    }
    second.sigterm().await;

    // The final comparison, after the second process flushed and exited.
    let truth = Truth {
        g1,
        s1,
        g2: file_docs(&truth_file, g1_len),
        g2_settled_before: i64::MAX,
    };
    let mut stored = Vec::new();
    let mut last = Vec::new();
    for _ in 0..30 {
        stored = index_docs(&url, &index).await.unwrap();
        last = truth.problems(&stored);
        if last.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(
        last.is_empty(),
        "{} problem(s):\n{}\n--- second process:\n{}",
        last.len(),
        last.join("\n"),
        second.log_text()
    );

    // The scenario really happened: process 2 evaluated during the outage and after it,
    // and the index spans both processes.
    let g2_during = truth
        .g2
        .iter()
        .filter(|d| d.ts_ms > killed_at_ms && d.ts_ms < restart_at_ms)
        .count();
    assert!(g2_during > 0, "process 2 wrote nothing during the outage");
    assert!(truth.g2.iter().any(|d| d.ts_ms > restart_at_ms));
    let evaluated: BTreeSet<&str> = truth
        .g1
        .iter()
        .chain(&truth.g2)
        .map(|d| d.id.as_str())
        .collect();
    let same_second_again = truth.g1.len() + truth.g2.len() - evaluated.len();
    let mut first_version: BTreeMap<&str, &Value> = BTreeMap::new();
    let mut differing = 0;
    for d in truth.g1.iter().chain(&truth.g2) {
        if let Some(first) = first_version.insert(&d.id, &d.source) {
            differing += usize::from(*first != d.source);
        }
    }
    let stored_ids: BTreeSet<&str> = stored.iter().map(|(id, _)| id.as_str()).collect();
    let not_acknowledged = evaluated.difference(&stored_ids).count();
    let spooled_only = stored_ids.difference(&evaluated).count();
    let dead = std::fs::read_to_string(dir.path().join("dead.ndjson")).unwrap_or_default();
    assert!(dead.is_empty(), "dead letters: {dead}");
    println!(
        "index {index}: {} documents; file: {} (process 1) + {} (process 2) lines, {} of them \
         a second evaluation in the same second (kept once; {differing} with other values); spool at the kill: {}; evaluated \
         by process 1 but in flight at the kill: {not_acknowledged}; spooled but not in the \
         file: {spooled_only}; total {:?}",
        stored.len(),
        truth.g1.len(),
        truth.g2.len(),
        same_second_again,
        truth.s1.len(),
        started.elapsed()
    );
    es::delete_index(&url, &index).await.unwrap();
}
