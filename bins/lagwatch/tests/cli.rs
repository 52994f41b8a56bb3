//! End-to-end tests of the `lagwatch` binary.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn lagwatch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lagwatch"))
}

fn run_with_stdin(mut cmd: Command, stdin: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start lagwatch");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for lagwatch")
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/lagwatch-core/tests/fixtures/burrow_vectors.json")
}

/// Every Burrow vector of the shared fixture, fed through `lagwatch eval` on standard input,
/// gives the expected group status, partition statuses and total lag.
#[test]
fn eval_reproduces_burrow_on_every_fixture_vector() {
    let text = std::fs::read_to_string(fixture()).expect("read fixture");
    let fixture: Value = serde_json::from_str(&text).expect("fixture is JSON");
    let cases = fixture["cases"].as_array().expect("cases array");
    assert!(cases.len() >= 20, "fixture has {} cases", cases.len());
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let mut cmd = lagwatch();
        cmd.args(["eval", "-", "--compact"]);
        let out = run_with_stdin(cmd, &case["input"].to_string());
        assert!(
            out.status.success(),
            "{name}: eval failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let reports: Value = serde_json::from_slice(&out.stdout).expect("eval prints JSON");
        let report = &reports[0];
        let expect = &case["expect"];
        assert_eq!(report["status"], expect["status"], "{name}: group status");
        if let Some(total) = expect.get("totallag") {
            assert_eq!(&report["totallag"], total, "{name}: totallag");
        }
        // Expected statuses are listed in input order; the report sorts by topic/partition.
        let reported = report["partitions"].as_array().expect("partitions");
        let got: Vec<&Value> = case["input"]["groups"][0]["partitions"]
            .as_array()
            .expect("input partitions")
            .iter()
            .map(|want| {
                reported
                    .iter()
                    .find(|p| p["topic"] == want["topic"] && p["partition"] == want["partition"])
                    .map(|p| &p["status"])
                    .unwrap_or_else(|| panic!("{name}: partition {want} missing from the report"))
            })
            .collect();
        let want: Vec<&Value> = expect["partitions"]
            .as_array()
            .expect("expected partitions")
            .iter()
            .collect();
        assert_eq!(got, want, "{name}: partition statuses");
    }
}

#[test]
fn eval_output_uses_burrow_field_names() {
    let input = r#"{"now_ms": 1000000, "intervals": 5, "groups": [{"cluster": "c", "group": "g",
        "partitions": [{"topic": "t", "partition": 0, "broker_offset": 600, "offsets": [
          {"offset": 100, "timestamp": 900000, "lag": 50}, {"offset": 200, "timestamp": 920000, "lag": 60},
          {"offset": 300, "timestamp": 940000, "lag": 60}, {"offset": 400, "timestamp": 960000, "lag": 70},
          {"offset": 500, "timestamp": 980000, "lag": 80}]}]}]}"#;
    let mut cmd = lagwatch();
    cmd.arg("eval");
    let out = run_with_stdin(cmd, input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let g = &reports[0];
    for key in [
        "cluster",
        "group",
        "status",
        "complete",
        "partitions",
        "partition_count",
        "maxlag",
        "totallag",
    ] {
        assert!(g.get(key).is_some(), "missing {key} in {g}");
    }
    assert_eq!(g["status"], "WARN");
    let p = &g["partitions"][0];
    assert_eq!(p["status"], "WARN");
    assert_eq!(p["current_lag"], 100);
    assert_eq!(p["start"]["offset"], 100);
    assert!(p["end"].get("observedAt").is_some(), "{p}");
}

#[test]
fn eval_names_the_problem_in_bad_input() {
    let mut cmd = lagwatch();
    cmd.arg("eval");
    let out = run_with_stdin(cmd, r#"{"groups": []}"#);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("now_ms"), "{err}");
}

#[test]
fn eval_refuses_input_past_its_size_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("huge.json");
    // Sparse: costs no disk, reads as NUL bytes.
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(64 * 1024 * 1024 + 1).expect("set_len");
    drop(file);
    let out = lagwatch()
        .arg("eval")
        .arg(&path)
        .output()
        .expect("run lagwatch");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("huge.json") && err.contains("64 MiB"), "{err}");
}

#[test]
fn eval_refuses_absurd_intervals_with_an_error() {
    let mut cmd = lagwatch();
    cmd.arg("eval");
    let out = run_with_stdin(
        cmd,
        r#"{"now_ms": 1, "intervals": 1000000000000, "groups": [{"cluster": "c", "group": "g",
            "partitions": [{"topic": "t", "partition": 0, "current_lag": 0,
            "offsets": [{"offset": 1, "timestamp": 1}]}]}]}"#,
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("intervals must be at most 10000"), "{err}");
}

#[test]
fn validate_reports_every_problem_with_its_key_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        r#"
[model]
intervals = "ten"

[sources.live]
type = "kafak"

[sinks.archive]
type = "file"
"#,
    )
    .expect("write config");
    let out = lagwatch()
        .args(["validate", "--config"])
        .arg(&path)
        .output()
        .expect("run validate");
    assert_eq!(out.status.code(), Some(1));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    for key in ["model.intervals", "sources.live.type", "sinks.archive.path"] {
        assert!(text.contains(key), "{key} not named in:\n{text}");
    }
}

#[test]
fn validate_accepts_the_example_configurations() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/config");
    for name in ["lagwatch.toml", "lagwatch.yaml"] {
        let out = lagwatch()
            .args(["validate", "--config"])
            .arg(root.join(name))
            .output()
            .expect("run validate");
        assert!(
            out.status.success(),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
    }
}

/// The acceptance run of the demo: 20 seconds of the simulated cluster show every partition
/// status, and the command exits 0 by itself.
#[test]
fn demo_shows_every_partition_status_and_exits() {
    let out = lagwatch()
        .args(["demo", "--duration", "20s", "--format", "json"])
        .output()
        .expect("run demo");
    assert!(
        out.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut seen = BTreeSet::new();
    let mut lines = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let doc: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        lines += 1;
        if doc["measurement_name"] == "burrow_partition" {
            if let Some(s) = doc["burrow_partition"]["status"].as_str() {
                seen.insert(s.to_owned());
            }
        }
    }
    assert!(lines > 0, "demo printed nothing");
    for status in ["OK", "WARN", "STOP", "STALL", "REWIND"] {
        assert!(
            seen.contains(status),
            "{status} never appeared; saw {seen:?}"
        );
    }
}

#[test]
fn help_and_version_work_for_every_subcommand() {
    let out = lagwatch().arg("--version").output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("lagwatch "), "{text}");
    assert!(text.contains("\ncommit: "), "{text}");
    assert!(text.contains("\nlibrdkafka: 2."), "{text}");
    assert!(
        text.contains("\nfeatures: ") && text.contains("kafka") && text.contains("http"),
        "{text}"
    );
    let short = lagwatch().arg("-V").output().expect("run");
    assert_eq!(
        String::from_utf8_lossy(&short.stdout).trim(),
        format!("lagwatch {}", env!("CARGO_PKG_VERSION"))
    );
    for sub in ["demo", "run", "validate", "eval", "config"] {
        let out = lagwatch().args([sub, "--help"]).output().expect("run");
        assert!(out.status.success(), "{sub} --help");
        assert!(!out.stdout.is_empty());
    }
}

/// `lagwatch run` with JSON logs and a file sink: SIGTERM makes it evaluate once more, flush
/// the file and exit 0; the file then holds whole documents of every evaluation.
#[test]
fn run_stops_gracefully_on_sigterm_and_flushes_the_file_sink() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_path = dir.path().join("out/lag.ndjson");
    let config = dir.path().join("lagwatch.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[general]
evaluation_interval = "200ms"
log_format = "json"

[sources.sim]
type = "demo"

[sinks.archive]
type = "file"
path = "{}"
"#,
            out_path.display()
        ),
    )
    .expect("write config");
    let child = lagwatch()
        .args(["run", "--http", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--state-dir")
        .arg(config.with_file_name("state"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start lagwatch run");
    // Wait (bounded) until the sink has written something, then ask for a shutdown.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::metadata(&out_path).map(|m| m.len()).unwrap_or(0) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no output within 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("send SIGTERM");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait for lagwatch");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let stderr = String::from_utf8_lossy(&out.stderr);
    let messages: Vec<String> = stderr
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}"));
            v["fields"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    for expected in ["pipeline starting", "pipeline stopped"] {
        assert!(
            messages.iter().any(|m| m == expected),
            "{expected:?} not logged: {messages:?}"
        );
    }
    let text = std::fs::read_to_string(&out_path).expect("read sink file");
    assert!(text.ends_with('\n'), "torn last line");
    let mut timestamps = BTreeSet::new();
    for line in text.lines() {
        let doc: Value = serde_json::from_str(line).expect("whole JSON documents");
        timestamps.insert(doc["@timestamp"].as_str().unwrap_or_default().to_owned());
    }
    assert!(!timestamps.is_empty());
}

#[test]
fn run_refuses_to_start_when_its_http_address_is_taken() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("lagwatch.toml");
    std::fs::write(
        &config,
        "[sources.sim]\ntype = \"demo\"\n\n[sinks.out]\ntype = \"stdout\"\nformat = \"json\"\n",
    )
    .expect("write config");
    let out = lagwatch()
        .args(["run", "--http", &addr, "--state-dir"])
        .arg(dir.path().join("state"))
        .arg("--config")
        .arg(&config)
        .output()
        .expect("run lagwatch");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cannot listen on {addr} (http.listen)"))
            && err.contains("--no-http"),
        "{err}"
    );
}

#[test]
fn demo_prints_where_its_http_api_listens_and_serves_burrows_api() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = lagwatch()
        .args([
            "demo",
            "--duration",
            "20s",
            "--format",
            "json",
            "--http",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start lagwatch demo");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            line.split_once("HTTP API on http://")
                .and_then(|(_, rest)| rest.split_whitespace().next().map(str::to_owned))
        })
        .expect("the demo prints its HTTP address");
    // A plain HTTP/1.0 request: the demo's cluster list, in Burrow's envelope.
    let mut body = String::new();
    for _ in 0..50 {
        let mut stream = std::net::TcpStream::connect(&url).expect("connect");
        write!(
            stream,
            "GET /v3/kafka/demo/consumer HTTP/1.0\r\nHost: x\r\n\r\n"
        )
        .expect("send");
        body.clear();
        stream.read_to_string(&mut body).expect("read");
        if body.contains("billing-healthy") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        body.starts_with("HTTP/1.0 200") || body.starts_with("HTTP/1.1 200"),
        "{body}"
    );
    assert!(
        body.contains("\"message\":\"consumer list returned\""),
        "{body}"
    );
    assert!(body.contains("billing-healthy"), "{body}");
}
