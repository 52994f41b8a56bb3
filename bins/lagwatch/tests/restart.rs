//! Issue #14's acceptance tests ("No false alarm at start or after a restart, alerts delivered
//! at least once"), with the real `lagwatch` binary against the harness Kafka 4.4 and a local
//! webhook receiver.
//!
//! | test | criterion |
//! |---|---|
//! | [`restart_keeps_the_verdict_of_a_healthy_group`] | 1 (and 2 on Kafka): in `admin` and `auto` mode, with commits every 5 s and every 60 s, a healthy group is never flagged STOP, STALL or REWIND after a SIGKILL and restart, no notification is sent, and the first evaluation after the restart shows the status from before the kill; before the kill, the fresh start flags the group's partitions `warming_up` until their second commit, and so does `lagwatch check --output json` for a single sample |
//! | [`demo_raises_no_alert_for_search_catchup_at_start`] | 2: `lagwatch demo` sends nothing for `search-catchup` while its window is warming up |
//! | [`outbox_delivers_a_firing_alert_retried_when_killed`] | 3: a FIRING answered 503 and retried when lagwatch is SIGKILLed reaches the receiver after the restart with the same idempotency key; exactly one RESOLVED follows |
//! | [`deleted_group_resolves_its_alert_with_a_reason`] | 4: a deleted group's firing alert resolves within the bound computed from the configuration and says why |
//!
//! # The healthy group
//!
//! An assign-only group (no members, no consumer protocol: offsets committed by a client
//! with its `group.id`, [`LagCommitter`]) on a three-partition topic that a
//! [`SteadyProducer`] writes to at 10 messages a second per partition. The group commits
//! `log end - lag` on every partition with lags of 120 and 80 in turn, i.e. about 100 behind.
//! A lag that is exactly the same at every commit would be WARN under Burrow's rules (the
//! lag never went down in the window, with `allowed_lag = 0`), so it alternates; 40 messages
//! is more than lagwatch's broker offsets can be out of date by (one `offset_refresh`, 1 s =
//! 10 messages), and less than the log grows between two commits (50 messages in 5 s), so
//! the committed offsets only ever move forward (no REWIND). The second commit comes 15 s
//! later than the interval says, so a window of two commits spans more time than the
//! consumer is ever silent afterwards (Burrow's STOP rule compares those two). The window
//! judged therefore has every property of a healthy group: offsets moving, lag going down at
//! least once, commits as recent as the window's span. Only a window lagwatch lost (a single
//! commit after a restart) can look STOP or STALL — which is what issue #14 is about.
//!
//! # What is checked
//!
//! `general.state_dir` (the model's windows and the alert outbox survive a restart), the
//! `warming_up` flag of every `burrow_partition` and `burrow_group` record, the
//! `idempotency_key` of webhook notifications (body field and `Idempotency-Key` header) and the
//! resolution of a deleted group's alert, as docs/operations.md ("Restarts and the state
//! directory", "Warm-up") and docs/alerting.md describe them.
//!
//! Elasticsearch is not used: it gets the same documents as the file sink (the same
//! renderer), and the file sink plus the stdout JSON of both processes are checked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_lib::core::measurement::days_from_civil;
use lagwatch_test_support::services::http::{Receiver, Reply};
use lagwatch_test_support::services::kafka;
use lagwatch_test_support::services::steady::{CommitPlan, LagCommitter, SteadyProducer};
use lagwatch_test_support::services::{env, names};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Partitions of every test topic.
const PARTITIONS: i32 = 3;
/// Messages per second and partition of the steady producer in the restart test.
const RATE: u32 = 10;
/// The lags the healthy group commits at, in turn (about 100).
const HEALTHY_LAGS: [i64; 2] = [120, 80];
/// How long the restart test watches the second process.
const OBSERVE_AFTER_RESTART: Duration = Duration::from_secs(180);
/// Partition statuses that must never be shown for a healthy group.
const BAD_PARTITION: [&str; 3] = ["STOP", "STALL", "REWIND"];

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// The wall-clock time (ms since the epoch) of a past `Instant`.
fn wall_ms(at: Instant) -> i64 {
    now_ms() - i64::try_from(at.elapsed().as_millis()).unwrap()
}

/// `YYYY-MM-DDTHH:MM:SSZ` (the records' whole seconds) to ms since the epoch.
fn parse_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { text.get(r)?.parse().ok() };
    let month = u8::try_from(num(5..7)?).ok()?;
    let day = u8::try_from(num(8..10)?).ok()?;
    let days = days_from_civil(num(0..4)?, month, day);
    Some(((days * 24 + num(11..13)?) * 60 + num(14..16)?) * 60_000 + num(17..19)? * 1000)
}

// ---------------------------------------------------------------------------------------
// Records written by the sinks
// ---------------------------------------------------------------------------------------

/// One `burrow_group` or `burrow_partition` record of a sink.
#[derive(Clone, Debug)]
struct Rec {
    /// `burrow_group` or `burrow_partition`.
    name: String,
    group: String,
    /// `topic/partition` for partition records, empty for group records.
    partition: String,
    ts_ms: i64,
    status: String,
    /// The `warming_up` flag: inside the measurement's fields, or at the top level.
    warming_up: Option<bool>,
    line: String,
}

impl Rec {
    fn is_group(&self) -> bool {
        self.name == "burrow_group"
    }
}

/// Parses one sink line; `None` for other measurements (`burrow_topic`).
fn parse_record(line: &str) -> Result<Option<Rec>, String> {
    let doc: Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e}): {line}"))?;
    let name = doc["measurement_name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if name != "burrow_group" && name != "burrow_partition" {
        return Ok(None);
    }
    let fields = &doc[name.as_str()];
    let tag = |k: &str| doc["tag"][k].as_str().unwrap_or_default().to_owned();
    let ts_ms = doc["@timestamp"]
        .as_str()
        .and_then(parse_time)
        .ok_or_else(|| format!("no @timestamp: {line}"))?;
    let partition = if name == "burrow_partition" {
        format!("{}/{}", tag("topic"), tag("partition"))
    } else {
        String::new()
    };
    Ok(Some(Rec {
        group: tag("group"),
        partition,
        ts_ms,
        status: fields["status"].as_str().unwrap_or_default().to_owned(),
        warming_up: fields["warming_up"]
            .as_bool()
            .or_else(|| doc["warming_up"].as_bool()),
        name,
        line: line.to_owned(),
    }))
}

/// The records of `group` in the complete lines of `text` from byte `from` on.
fn records(text: &str, from: usize, group: &str) -> Result<Vec<Rec>, String> {
    let end = text.rfind('\n').map_or(0, |i| i + 1);
    let mut out = Vec::new();
    for line in text.get(from.min(end)..end).unwrap_or_default().lines() {
        if !line.starts_with('{') {
            continue;
        }
        if let Some(rec) = parse_record(line)?
            && rec.group == group
        {
            out.push(rec);
        }
    }
    Ok(out)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The group records of one evaluation each, in order (the group record closes nothing, so
/// partition records are matched by time).
fn group_records(recs: &[Rec]) -> Vec<&Rec> {
    recs.iter().filter(|r| r.is_group()).collect()
}

// ---------------------------------------------------------------------------------------
// Notifications the receiver got
// ---------------------------------------------------------------------------------------

/// One webhook request (the `json` preset).
#[derive(Clone, Debug)]
struct Note {
    /// Position among all requests of the receiver.
    index: usize,
    rule: String,
    state: String,
    group: String,
    summary: String,
    at_ms: Option<i64>,
    key_body: Option<String>,
    key_header: Option<String>,
}

impl Note {
    /// One line: rule, state, time, keys and summary.
    fn short(&self) -> String {
        format!(
            "#{} {} {} at_ms {:?} key {:?} (header {:?}): {}",
            self.index,
            self.rule,
            self.state,
            self.at_ms,
            self.key_body,
            self.key_header,
            self.summary
        )
    }
}

fn notes(receiver: &Receiver) -> Vec<Note> {
    receiver
        .requests()
        .iter()
        .enumerate()
        .map(|(index, r)| {
            let b = r.body_json().unwrap_or(Value::Null);
            let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            Note {
                index,
                rule: s(&b["rule"]),
                state: s(&b["state"]),
                group: s(&b["labels"]["group"]),
                summary: s(&b["summary"]),
                at_ms: b["at_ms"].as_i64(),
                key_body: b["idempotency_key"].as_str().map(str::to_owned),
                key_header: r.header("idempotency-key").map(str::to_owned),
            }
        })
        .collect()
}

fn notes_of(receiver: &Receiver, group: &str) -> Vec<Note> {
    notes(receiver)
        .into_iter()
        .filter(|n| n.group == group)
        .collect()
}

// ---------------------------------------------------------------------------------------
// The lagwatch process
// ---------------------------------------------------------------------------------------

/// A `lagwatch run` child process: stdout (the stdout sink's JSON) and stderr (logs) go to
/// files. Killed with SIGKILL when dropped.
struct Lagwatch {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Lagwatch {
    fn start(config: &Path, stdout: PathBuf, stderr: PathBuf) -> Lagwatch {
        let child = Command::new(env!("CARGO_BIN_EXE_lagwatch"))
            // Several collectors run at once: each takes a free port for its HTTP API.
            .env("LAGWATCH_HTTP__LISTEN", "127.0.0.1:0")
            .args(["run", "--config"])
            .arg(config)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("start lagwatch run");
        Lagwatch {
            child,
            stdout,
            stderr,
        }
    }

    /// `Err` with the log when the process has exited.
    fn running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!(
                "lagwatch exited ({status}); its log:\n{}",
                tail(&read(&self.stderr), 40)
            )),
            Err(e) => Err(format!("cannot watch lagwatch: {e}")),
        }
    }

    fn log(&self) -> String {
        read(&self.stderr)
    }

    /// SIGKILL and reap.
    fn sigkill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then SIGKILL if it is still running after 30 s.
    async fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.sigkill();
    }
}

impl Drop for Lagwatch {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.sigkill();
        }
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// How one lagwatch instance is configured.
#[derive(Clone, Debug)]
struct Setup {
    /// `admin` or `auto`.
    mode: &'static str,
    evaluation_interval: Duration,
    offset_refresh: Duration,
    group_refresh: Duration,
    rule_status: &'static str,
    rule_interval: Duration,
    allowed_lag: u64,
    max_retries: u32,
}

fn secs(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

/// Writes the configuration of one lagwatch instance into `dir` and returns its path. Every
/// instance has its own `state_dir`, file sink and receiver path; the source sees only the
/// test's group and topic.
fn write_config(
    setup: &Setup,
    dir: &Path,
    bootstrap: &str,
    group: &str,
    topic: &str,
    hook: &str,
) -> PathBuf {
    let state = dir.join("state");
    std::fs::create_dir_all(&state).unwrap();
    let text = format!(
        r#"[general]
evaluation_interval = "{eval}"
state_dir = {state:?}

[evaluator]
allowed_lag = {allowed}

[sources.live]
type = "kafka"
servers = "{bootstrap}"
mode = "{mode}"
offset_refresh = "{offsets}"
group_refresh = "{groups}"
topic_refresh = "10s"
group_allowlist = "^{group}$"
topic_allowlist = "^{topic}$"

[sinks.file]
type = "file"
path = {file:?}
fsync = "always"
rotate_bytes = 0
rotate_daily = false

[sinks.out]
type = "stdout"
format = "json"

[rules.group-status]
type = "status"
status = "{status}"
interval = "{rule_interval}"

[alerters.hook]
type = "webhook"
url = "{hook}"
max_retries = {retries}
"#,
        eval = secs(setup.evaluation_interval),
        state = state.display().to_string(),
        allowed = setup.allowed_lag,
        mode = setup.mode,
        offsets = secs(setup.offset_refresh),
        groups = secs(setup.group_refresh),
        file = dir.join("lag.ndjson").display().to_string(),
        status = setup.rule_status,
        rule_interval = secs(setup.rule_interval),
        retries = setup.max_retries,
    );
    let path = dir.join("lagwatch.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Creates the topic, fills every partition with `prefill` messages and starts the steady
/// producer.
async fn topic_with_producer(
    bootstrap: &str,
    topic: &str,
    prefill: u64,
    rate: u32,
) -> SteadyProducer {
    kafka::create_topic(bootstrap, topic, PARTITIONS)
        .await
        .unwrap();
    kafka::produce_spread(bootstrap, topic, prefill)
        .await
        .unwrap();
    SteadyProducer::start(bootstrap, topic, PARTITIONS, rate).unwrap()
}

/// Stops a scenario's workload and deletes its topic once the verdict is taken; a failure
/// here (the shared broker restarted by another test, say) is printed, not a test failure.
async fn clean_up(
    bootstrap: &str,
    topic: &str,
    producer: SteadyProducer,
    committer: Option<LagCommitter>,
) {
    if let Some(committer) = committer
        && let Err(e) = committer.stop().await
    {
        eprintln!("clean-up of {topic}: {e:#}");
    }
    if let Err(e) = producer.stop().await {
        eprintln!("clean-up of {topic}: {e:#}");
    }
    if let Err(e) = kafka::delete_topic(bootstrap, topic).await {
        eprintln!("clean-up of {topic}: {e:#}");
    }
}

/// Waits until the newest group record of the file sink, evaluated at `after_ms` or later,
/// is `status` and not warming up. Returns that record.
async fn wait_for_verdict(
    lagwatch: &mut Lagwatch,
    file: &Path,
    group: &str,
    after_ms: i64,
    status: &str,
    timeout: Duration,
) -> Result<Rec, String> {
    let deadline = Instant::now() + timeout;
    let mut last = None;
    loop {
        lagwatch.running()?;
        let recs = records(&read(file), 0, group)?;
        if let Some(rec) = recs.iter().rev().find(|r| r.is_group()) {
            if rec.ts_ms >= after_ms && rec.status == status && rec.warming_up == Some(false) {
                return Ok(rec.clone());
            }
            last = Some(rec.line.clone());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "no group record {status} and warming_up false for {group} evaluated after \
                 {after_ms} within {timeout:?}; newest record: {}\n--- lagwatch log (tail):\n{}",
                last.as_deref().unwrap_or("none"),
                tail(&lagwatch.log(), 20)
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `lagwatch check --output json` for `group` with `samples` snapshots `interval` apart:
/// the `warming_up` flag of each partition row (`None`: the row has no such flag), or the
/// problem.
async fn check_flags(
    bootstrap: &str,
    group: &str,
    samples: u32,
    interval: Duration,
) -> Result<Vec<Option<bool>>, String> {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_lagwatch"));
    cmd.args(["check", "--bootstrap", bootstrap, "--output", "json"])
        .args(["--group", &format!("^{group}$")])
        .args(["--samples", &samples.to_string()])
        .args(["--interval", &secs(interval)])
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .map_err(|_| "lagwatch check did not finish within 120 s".to_owned())?
        .map_err(|e| format!("cannot run lagwatch check: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let rows: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).map_err(|e| format!("check printed {l:?}: {e}")))
        .collect::<Result<_, _>>()?;
    if rows.len() != usize::try_from(PARTITIONS).unwrap() {
        return Err(format!(
            "lagwatch check ({samples} samples) printed {} rows, expected {PARTITIONS}: {stdout}\n{}",
            rows.len(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(rows.iter().map(|r| r["warming_up"].as_bool()).collect())
}

// ---------------------------------------------------------------------------------------
// Criterion 1 (and 2 on Kafka): restart
// ---------------------------------------------------------------------------------------

/// One combination of the restart test; returns the problems found (empty: passed) and a
/// line of facts.
async fn restart_case(
    receiver: std::sync::Arc<Receiver>,
    mode: &'static str,
    interval: Duration,
) -> (Vec<String>, String) {
    let label = format!("[{mode}, commits every {}s]", interval.as_secs());
    let mut problems = Vec::new();
    let bootstrap = env::kafka().bootstrap;
    let topic = names::topic(&format!("lw14-{mode}-{}", interval.as_secs()));
    let group = names::group(&format!("lw14-{mode}-{}", interval.as_secs()));
    let dir = tempfile::tempdir().unwrap();
    let hook = format!("{}/hook/{mode}-{}", receiver.url(), interval.as_secs());
    let setup = Setup {
        mode,
        evaluation_interval: Duration::from_secs(5),
        offset_refresh: Duration::from_secs(1),
        group_refresh: Duration::from_secs(5),
        rule_status: "warn",
        rule_interval: Duration::from_secs(5),
        allowed_lag: 0,
        max_retries: 5,
    };
    let config = write_config(&setup, dir.path(), &bootstrap, &group, &topic, &hook);
    let file = dir.path().join("lag.ndjson");

    let producer = topic_with_producer(&bootstrap, &topic, 300, RATE).await;
    let plan = CommitPlan::every(interval)
        .lags(&HEALTHY_LAGS)
        .first_gap(interval + Duration::from_secs(15));
    let committer =
        LagCommitter::start(bootstrap.as_str(), &group, &topic, PARTITIONS, plan).unwrap();
    committer
        .wait_for_commits(1, Duration::from_secs(60))
        .await
        .unwrap();

    // Fresh start, no state: the group exists with one commit.
    let mut first = Lagwatch::start(
        &config,
        dir.path().join("stdout-1.ndjson"),
        dir.path().join("stderr-1.log"),
    );

    // `lagwatch check` flags every partition of a single sample.
    match check_flags(&bootstrap, &group, 1, Duration::from_secs(1)).await {
        Ok(flags) if flags.iter().all(|f| *f == Some(true)) => {}
        Ok(flags) => problems.push(format!(
            "{label} lagwatch check with one sample: warming_up {flags:?}, expected all true"
        )),
        Err(e) => problems.push(format!("{label} {e}")),
    }

    // Judged OK with a window of at least three commits before the kill.
    let needed = 3;
    let wait_commits = interval * 3 + Duration::from_secs(60);
    if let Err(e) = committer.wait_for_commits(needed, wait_commits).await {
        problems.push(format!("{label} {e:#}"));
    }
    let history = committer.history();
    let verdict = wait_for_verdict(
        &mut first,
        &file,
        &group,
        now_ms() + 2000,
        "OK",
        Duration::from_secs(60),
    )
    .await;
    let before = match verdict {
        Ok(rec) => Some(rec),
        Err(e) => {
            problems.push(format!("{label} before the kill: {e}"));
            None
        }
    };

    // Two `check` samples further apart than the commits judge every partition.
    if interval < Duration::from_secs(10) {
        match check_flags(&bootstrap, &group, 2, interval + Duration::from_secs(1)).await {
            Ok(flags) if flags.iter().all(|f| *f == Some(false)) => {}
            Ok(flags) => problems.push(format!(
                "{label} lagwatch check with two samples: warming_up {flags:?}, expected all false"
            )),
            Err(e) => problems.push(format!("{label} {e}")),
        }
    }

    // Criterion 2 on Kafka: the fresh start's warm-up.
    let first_recs = records(&read(&file), 0, &group).unwrap_or_else(|e| {
        problems.push(format!("{label} {e}"));
        Vec::new()
    });
    let second_commit_ms = history.get(1).map(|c| wall_ms(c.at));
    check_warm_up(&label, &first_recs, second_commit_ms, &mut problems);

    // The kill and the restart.
    first.sigkill();
    let kill_offset = read(&file).rfind('\n').map_or(0, |i| i + 1);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let restarted_ms = now_ms();
    let mut second = Lagwatch::start(
        &config,
        dir.path().join("stdout-2.ndjson"),
        dir.path().join("stderr-2.log"),
    );
    let observe_until = Instant::now() + OBSERVE_AFTER_RESTART;
    while Instant::now() < observe_until {
        if let Err(e) = second.running() {
            problems.push(format!("{label} after the restart: {e}"));
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    second.stop().await;

    // What the second process wrote: the file from the kill on, and its stdout.
    let mut after = Vec::new();
    for (what, text, from) in [
        ("file sink", read(&file), kill_offset),
        ("stdout", read(&second.stdout), 0),
    ] {
        match records(&text, from, &group) {
            Ok(recs) => after.push((what, recs)),
            Err(e) => problems.push(format!("{label} {what}: {e}")),
        }
    }
    for (what, recs) in &after {
        let groups = group_records(recs);
        // 180 s at one evaluation every 5 s: about 36 evaluations; the group must be in them.
        if groups.len() < 20 {
            problems.push(format!(
                "{label} {what}: only {} evaluations of the group after the restart",
                groups.len()
            ));
        }
        let bad: Vec<&Rec> = recs
            .iter()
            .filter(|r| {
                if r.is_group() {
                    r.status != "OK"
                } else {
                    BAD_PARTITION.contains(&r.status.as_str())
                }
            })
            .collect();
        if !bad.is_empty() {
            let shown: Vec<String> = bad
                .iter()
                .take(4)
                .map(|r| {
                    format!(
                        "  {} s after the restart: {}",
                        (r.ts_ms - restarted_ms) / 1000,
                        r.line
                    )
                })
                .collect();
            problems.push(format!(
                "{label} {what}: {} of {} records after the restart are not healthy; the first:\n{}",
                bad.len(),
                recs.len(),
                shown.join("\n")
            ));
        }
        match (groups.first(), &before) {
            (Some(first_after), Some(before)) => {
                // Its windows may still be flagged warming up (until the first read of the
                // cluster); what counts is the verdict.
                if first_after.status != before.status {
                    problems.push(format!(
                        "{label} {what}: the first evaluation after the restart is {}, before \
                         the kill it was {}: {}",
                        first_after.status, before.status, first_after.line
                    ));
                }
                let first_partitions: Vec<&Rec> = recs
                    .iter()
                    .filter(|r| !r.is_group() && r.ts_ms == first_after.ts_ms)
                    .collect();
                let mut seen: Vec<&str> = first_partitions
                    .iter()
                    .map(|p| p.partition.as_str())
                    .collect();
                seen.sort_unstable();
                seen.dedup();
                if seen.len() != usize::try_from(PARTITIONS).unwrap() {
                    problems.push(format!(
                        "{label} {what}: the first evaluation after the restart shows partitions \
                         {seen:?}, expected {PARTITIONS}"
                    ));
                }
                for p in first_partitions {
                    if p.status != "OK" {
                        problems.push(format!(
                            "{label} {what}: first evaluation after the restart: {}",
                            p.line
                        ));
                    }
                }
            }
            (None, _) => problems.push(format!(
                "{label} {what}: no evaluation of the group after the restart"
            )),
            (Some(_), None) => {}
        }
    }
    // The stdout of the first process shows the same as its file lines.
    match records(&read(&first.stdout), 0, &group) {
        Ok(recs) => check_warm_up(
            &format!("{label} stdout"),
            &recs,
            second_commit_ms,
            &mut problems,
        ),
        Err(e) => problems.push(format!("{label} stdout of the first process: {e}")),
    }

    let sent = notes(&receiver)
        .into_iter()
        .filter(|n| n.group == group)
        .collect::<Vec<_>>();
    for n in &sent {
        problems.push(format!(
            "{label} notification sent: {} {} at {:?} ({}): {}",
            n.rule,
            n.state,
            n.at_ms,
            n.summary,
            n.key_body.as_deref().unwrap_or("no key")
        ));
    }
    if !problems.is_empty() {
        problems.push(format!(
            "{label} log of the second process (tail):\n{}",
            tail(&second.log(), 15)
        ));
    }
    let facts = format!(
        "{label} {} commits, first verdict before the kill: {}, {} evaluations after the restart \
         (file), {} notifications",
        committer.commits(),
        before.as_ref().map_or("none", |r| r.status.as_str()),
        after
            .first()
            .map_or(0, |(_, recs)| group_records(recs).len()),
        sent.len()
    );
    clean_up(&bootstrap, &topic, producer, Some(committer)).await;
    (problems, facts)
}

/// The fresh start's warm-up, from the records of the first process: every record before
/// the group's second commit is flagged `warming_up` (one commit cannot be judged), every
/// record from 10 s after it on is not (the window of two commits can), nothing that is not
/// warming up shows a non-OK status, and the first record exists and is warming up.
fn check_warm_up(
    label: &str,
    recs: &[Rec],
    second_commit_ms: Option<i64>,
    problems: &mut Vec<String>,
) {
    let Some(first) = recs.first() else {
        problems.push(format!(
            "{label} the fresh start wrote no record of the group"
        ));
        return;
    };
    if first.warming_up != Some(true) {
        problems.push(format!(
            "{label} the first record after a fresh start is not flagged warming_up: {}",
            first.line
        ));
    }
    for r in recs {
        if r.warming_up.is_none() {
            problems.push(format!(
                "{label} record without a warming_up flag: {}",
                r.line
            ));
            break;
        }
    }
    if let Some(second) = second_commit_ms {
        // Records are stamped in whole seconds: "before" means a second earlier.
        if let Some(r) = recs
            .iter()
            .find(|r| r.ts_ms + 1000 < second && r.warming_up != Some(true))
        {
            problems.push(format!(
                "{label} before the second commit ({} ms) a record is not warming up: {}",
                second, r.line
            ));
        }
        if let Some(r) = recs
            .iter()
            .find(|r| r.ts_ms > second + 10_000 && r.warming_up != Some(false))
        {
            problems.push(format!(
                "{label} 10 s after the second commit a record is still warming up: {}",
                r.line
            ));
        }
    }
    let judged_bad: Vec<&Rec> = recs
        .iter()
        .filter(|r| {
            let bad = if r.is_group() {
                r.status != "OK"
            } else {
                BAD_PARTITION.contains(&r.status.as_str())
            };
            bad && r.warming_up == Some(false)
        })
        .collect();
    if let Some(r) = judged_bad.first() {
        problems.push(format!(
            "{label} {} records judged (not warming up) and not healthy, the first: {}",
            judged_bad.len(),
            r.line
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restart_keeps_the_verdict_of_a_healthy_group() {
    let _ = env::kafka();
    let receiver = std::sync::Arc::new(Receiver::start().await.unwrap());
    let started = Instant::now();
    let mut cases = Vec::new();
    for mode in ["admin", "auto"] {
        for interval in [5, 60] {
            cases.push(tokio::spawn(restart_case(
                std::sync::Arc::clone(&receiver),
                mode,
                Duration::from_secs(interval),
            )));
        }
    }
    let mut problems = Vec::new();
    for case in cases {
        match case.await {
            Ok((mut p, facts)) => {
                println!("{facts}");
                problems.append(&mut p);
            }
            Err(e) => problems.push(format!("{e}")),
        }
    }
    println!("restart test: {:?}", started.elapsed());
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// Criterion 2: the demo
// ---------------------------------------------------------------------------------------

/// `lagwatch demo`: `search-catchup` has a single commit with lag during its first half
/// second (Burrow's rules call that STOP or STALL, so the group ERR). No notification may come
/// of it: no `group-error` (status) alert for the group at all, and any other rule's alert
/// only at an evaluation where none of the group's partitions was warming up any more. Every
/// record carries the flag, and a STOP or STALL partition of the group is flagged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_raises_no_alert_for_search_catchup_at_start() {
    let receiver = Receiver::start().await.unwrap();
    let hook = format!("{}/hook", receiver.url());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_lagwatch"))
            .args(["demo", "--duration", "8s", "--format", "json"])
            .args(["--webhook", &hook])
            .output()
            .expect("run lagwatch demo")
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let recs = records(&stdout, 0, "search-catchup").unwrap();
    assert!(
        group_records(&recs).len() >= 5,
        "too few evaluations of search-catchup:\n{stdout}"
    );
    // Deliveries run in the background; give the last ones a moment.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut problems = Vec::new();
    let unflagged: Vec<&Rec> = recs.iter().filter(|r| r.warming_up.is_none()).collect();
    if let Some(r) = unflagged.first() {
        problems.push(format!(
            "{} of {} records have no warming_up flag, the first: {}",
            unflagged.len(),
            recs.len(),
            r.line
        ));
    }
    for r in &recs {
        match r.warming_up {
            None => {}
            Some(false) if !r.is_group() && ["STOP", "STALL"].contains(&r.status.as_str()) => {
                problems.push(format!(
                    "judged STOP/STALL, not flagged warming up: {}",
                    r.line
                ))
            }
            _ => {}
        }
    }
    for n in notes_of(&receiver, "search-catchup") {
        if n.rule == "group-error" {
            problems.push(format!("status alert for search-catchup: {}", n.short()));
            continue;
        }
        // The evaluation the rule decided on: records are stamped in whole seconds.
        let second = n.at_ms.map(|ms| ms - ms.rem_euclid(1000));
        let warming = recs
            .iter()
            .filter(|r| Some(r.ts_ms) == second)
            .any(|r| r.warming_up != Some(false));
        if second.is_none() || warming {
            problems.push(format!(
                "alert for search-catchup decided while it was warming up: {}",
                n.short()
            ));
        }
    }
    if stderr.contains("[FIRING] group-error demo/search-catchup") {
        problems.push("the log alerter reports group-error for search-catchup".to_owned());
    }
    assert!(
        problems.is_empty(),
        "{}\n--- stderr:\n{stderr}",
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// Criteria 3 and 4: a group that goes ERR
// ---------------------------------------------------------------------------------------

/// Producer rate and healthy lag of the groups that go ERR: with `allowed_lag = 300` a lag
/// of 100 is OK whatever the window holds; once commits stop, the lag passes 300 after 10 s
/// and Burrow's STOP rule applies as soon as the silence is longer than the window's span.
const ERR_RATE: u32 = 20;
const ERR_ALLOWED_LAG: u64 = 300;

/// A healthy assign-only group on its own topic, committing every second at lag 100.
async fn committing_group(prefix: &str) -> (String, String, SteadyProducer, LagCommitter) {
    let bootstrap = env::kafka().bootstrap;
    let topic = names::topic(prefix);
    let group = names::group(prefix);
    let producer = topic_with_producer(&bootstrap, &topic, 300, ERR_RATE).await;
    let committer = LagCommitter::start(
        bootstrap.as_str(),
        &group,
        &topic,
        PARTITIONS,
        CommitPlan::every(Duration::from_secs(1)).lags(&[100]),
    )
    .unwrap();
    committer
        .wait_for_commits(1, Duration::from_secs(60))
        .await
        .unwrap();
    (topic, group, producer, committer)
}

/// Waits until `pick` finds something among the receiver's notifications of `group`.
async fn wait_for_note<T>(
    receiver: &Receiver,
    group: &str,
    timeout: Duration,
    lagwatch: &mut Lagwatch,
    what: &str,
    pick: impl Fn(&[Note]) -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let seen = notes_of(receiver, group);
        if let Some(found) = pick(&seen) {
            return found;
        }
        if let Err(e) = lagwatch.running() {
            panic!("waiting for {what}: {e}");
        }
        assert!(
            Instant::now() < deadline,
            "no {what} within {timeout:?}; notifications of {group}: {:#?}\n--- lagwatch log:\n{}",
            seen.iter().map(Note::short).collect::<Vec<_>>(),
            tail(&lagwatch.log(), 30)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Criterion 3: the receiver answers 503 while a FIRING notification is retried; lagwatch is
/// SIGKILLed and started again with the same state directory and the receiver healthy. The
/// FIRING arrives (accepted) with the idempotency key of the refused attempts, once; making
/// the group healthy brings exactly one RESOLVED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_delivers_a_firing_alert_retried_when_killed() {
    let bootstrap = env::kafka().bootstrap;
    let (topic, group, producer, committer) = committing_group("lw14-outbox").await;
    let receiver = Receiver::start().await.unwrap();
    receiver.set_default(Reply::status(503));
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup {
        mode: "admin",
        evaluation_interval: Duration::from_secs(1),
        offset_refresh: Duration::from_secs(1),
        group_refresh: Duration::from_secs(5),
        rule_status: "err",
        rule_interval: Duration::from_secs(1),
        allowed_lag: ERR_ALLOWED_LAG,
        // Backoff 0.5 s doubling up to 30 s: retrying for minutes.
        max_retries: 20,
    };
    let hook = format!("{}/hook", receiver.url());
    let config = write_config(&setup, dir.path(), &bootstrap, &group, &topic, &hook);
    let file = dir.path().join("lag.ndjson");
    let mut first = Lagwatch::start(
        &config,
        dir.path().join("stdout-1.ndjson"),
        dir.path().join("stderr-1.log"),
    );
    committer
        .wait_for_commits(4, Duration::from_secs(60))
        .await
        .unwrap();
    wait_for_verdict(
        &mut first,
        &file,
        &group,
        now_ms(),
        "OK",
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(
        notes_of(&receiver, &group).len(),
        0,
        "healthy, yet notified"
    );

    // Commits stop while the producer goes on: STOP, the group ERR, the rule fires; the
    // receiver refuses and the alerter retries.
    committer.pause();
    let refused = wait_for_note(
        &receiver,
        &group,
        Duration::from_secs(120),
        &mut first,
        "three attempts of the FIRING notification",
        |seen| {
            let firing: Vec<Note> = seen
                .iter()
                .filter(|n| n.state == "firing")
                .cloned()
                .collect();
            (firing.len() >= 3).then_some(firing)
        },
    )
    .await;
    first.sigkill();
    let killed_at = receiver.requests().len();
    receiver.set_default(Reply::ok());
    let key = refused[0].key_body.clone();
    let mut problems = Vec::new();
    for n in &refused {
        if n.key_body.is_none() || n.key_body != key || n.key_header != key {
            problems.push(format!(
                "a retried attempt carries another idempotency key than the first attempt \
                 ({key:?}): {}",
                n.short()
            ));
        }
    }

    // Restart with the same state directory; the outbox is replayed.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut second = Lagwatch::start(
        &config,
        dir.path().join("stdout-2.ndjson"),
        dir.path().join("stderr-2.log"),
    );
    let delivered = wait_for_note(
        &receiver,
        &group,
        Duration::from_secs(60),
        &mut second,
        "the FIRING notification after the restart",
        |seen| {
            seen.iter()
                .find(|n| n.index >= killed_at && n.state == "firing")
                .cloned()
        },
    )
    .await;
    if delivered.key_body.is_none() || delivered.key_body != key || delivered.key_header != key {
        problems.push(format!(
            "the FIRING delivered after the restart is not the refused one (key {key:?}): {}",
            delivered.short()
        ));
    }

    // Healthy again: exactly one RESOLVED.
    committer.resume();
    let resolved = wait_for_note(
        &receiver,
        &group,
        Duration::from_secs(90),
        &mut second,
        "the RESOLVED notification",
        |seen| seen.iter().find(|n| n.state == "resolved").cloned(),
    )
    .await;
    // Anything sent twice would come within a few evaluations.
    tokio::time::sleep(Duration::from_secs(10)).await;
    second.running().unwrap();
    let after: Vec<Note> = notes_of(&receiver, &group)
        .into_iter()
        .filter(|n| n.index >= killed_at)
        .collect();
    let firing_after = after.iter().filter(|n| n.state == "firing").count();
    let resolved_all = notes_of(&receiver, &group)
        .into_iter()
        .filter(|n| n.state == "resolved")
        .count();
    if firing_after != 1 {
        problems.push(format!(
            "{firing_after} FIRING notifications accepted after the restart, expected 1"
        ));
    }
    if resolved_all != 1 {
        problems.push(format!("{resolved_all} RESOLVED notifications, expected 1"));
    }
    if resolved.key_body.is_none() || resolved.key_body == key {
        problems.push(format!(
            "the RESOLVED needs a key of its own (it has {:?}, the FIRING {key:?})",
            resolved.key_body
        ));
    }
    println!(
        "outbox: {} refused attempts before the kill, key {key:?}; after the restart: {} \
         notification(s)",
        refused.len(),
        after.len()
    );
    second.stop().await;
    clean_up(&bootstrap, &topic, producer, Some(committer)).await;
    assert!(
        problems.is_empty(),
        "{}\n--- notifications: {:#?}\n--- log after the restart:\n{}",
        problems.join("\n"),
        notes_of(&receiver, &group)
            .iter()
            .map(Note::short)
            .collect::<Vec<_>>(),
        tail(&second.log(), 30)
    );
}

/// Words by which a summary says that the group is gone.
const GONE_WORDS: [&str; 5] = [
    "no longer",
    "deleted",
    "disappeared",
    "does not exist",
    "missing",
];

/// Criterion 4 for one source mode: returns the problems and a line of facts.
async fn deleted_group_case(mode: &'static str) -> (Vec<String>, String) {
    let label = format!("[{mode}]");
    let bootstrap = env::kafka().bootstrap;
    let (topic, group, producer, committer) =
        committing_group(&format!("lw14-deleted-{mode}")).await;
    let receiver = Receiver::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup {
        mode,
        evaluation_interval: Duration::from_secs(2),
        offset_refresh: Duration::from_secs(2),
        group_refresh: Duration::from_secs(2),
        rule_status: "err",
        rule_interval: Duration::from_secs(5),
        allowed_lag: ERR_ALLOWED_LAG,
        max_retries: 5,
    };
    let hook = format!("{}/hook", receiver.url());
    let config = write_config(&setup, dir.path(), &bootstrap, &group, &topic, &hook);
    let file = dir.path().join("lag.ndjson");
    let mut lagwatch = Lagwatch::start(
        &config,
        dir.path().join("stdout.ndjson"),
        dir.path().join("stderr.log"),
    );
    committer
        .wait_for_commits(4, Duration::from_secs(60))
        .await
        .unwrap();
    wait_for_verdict(
        &mut lagwatch,
        &file,
        &group,
        now_ms(),
        "OK",
        Duration::from_secs(60),
    )
    .await
    .unwrap();

    // The group stops: ERR, the alert fires.
    committer.pause();
    wait_for_note(
        &receiver,
        &group,
        Duration::from_secs(120),
        &mut lagwatch,
        "the FIRING notification",
        |seen| seen.iter().find(|n| n.state == "firing").cloned(),
    )
    .await;
    committer.stop().await.unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mut problems = Vec::new();
    if notes_of(&receiver, &group)
        .iter()
        .any(|n| n.state == "resolved")
    {
        problems.push(format!("{label} resolved before the group was deleted"));
    }

    // The bound: the source reports the group deleted after three reads without it, the rule
    // resolves at its first decision after 60 s without the group, the evaluation that
    // shows it takes one evaluation interval; 20 s of slack for a loaded machine.
    let reads = match mode {
        "admin" => setup.offset_refresh,
        _ => setup.group_refresh.max(setup.offset_refresh),
    };
    let bound = reads * 3
        + Duration::from_secs(60)
        + setup.rule_interval
        + setup.evaluation_interval
        + Duration::from_secs(20);
    kafka::delete_group(bootstrap.as_str(), &group)
        .await
        .unwrap();
    let deleted = Instant::now();
    let resolved = wait_for_note(
        &receiver,
        &group,
        bound + Duration::from_secs(60),
        &mut lagwatch,
        "the RESOLVED notification of the deleted group",
        |seen| seen.iter().find(|n| n.state == "resolved").cloned(),
    )
    .await;
    let took = deleted.elapsed();
    if took > bound {
        problems.push(format!(
            "{label} resolved {took:?} after the deletion, bound {bound:?}: {}",
            resolved.short()
        ));
    }
    let summary = resolved.summary.to_lowercase();
    if !GONE_WORDS.iter().any(|w| summary.contains(w)) {
        problems.push(format!(
            "{label} the RESOLVED summary does not say the group is gone: {}",
            resolved.short()
        ));
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let all = notes_of(&receiver, &group);
    if all.len() != 2 {
        problems.push(format!(
            "{label} expected one FIRING and one RESOLVED, got {:#?}",
            all.iter().map(Note::short).collect::<Vec<_>>()
        ));
    }
    if !problems.is_empty() {
        problems.push(format!(
            "{label} log (tail):\n{}",
            tail(&lagwatch.log(), 20)
        ));
    }
    lagwatch.stop().await;
    clean_up(&bootstrap, &topic, producer, None).await;
    let mut facts = String::new();
    let _ = write!(
        facts,
        "{label} resolved {took:?} after the deletion (bound {bound:?}): {:?}",
        resolved.summary
    );
    (problems, facts)
}

/// Criterion 4: a group with a firing alert is deleted (DeleteGroups); the RESOLVED
/// notification arrives within 3 source reads + 60 s + the rule interval + the evaluation
/// interval (+ 20 s slack) and its summary says the group is gone. Both source modes that
/// poll (`admin`) and stream (`auto`, where the deletion also writes a tombstone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_group_resolves_its_alert_with_a_reason() {
    let _ = env::kafka();
    let cases = [
        tokio::spawn(deleted_group_case("admin")),
        tokio::spawn(deleted_group_case("auto")),
    ];
    let mut problems = Vec::new();
    for case in cases {
        match case.await {
            Ok((mut p, facts)) => {
                println!("{facts}");
                problems.append(&mut p);
            }
            Err(e) => problems.push(format!("{e}")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
