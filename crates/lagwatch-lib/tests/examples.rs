//! The examples of `examples/` run as a library user would run them, and say what their
//! documentation says. `cargo test` builds examples before it runs tests; this test finds
//! them next to its own executable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

mod common;
use common::example;

fn run(name: &str, args: &[&str]) -> String {
    let out = Command::new(example(name)).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn embed_model_judges_the_group_that_keeps_up_ok_and_the_one_that_falls_behind_warn() {
    let out = run("embed_model", &[]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"keeps-up: OK (total lag 0)"), "{out}");
    // 100 behind at the first commit, then 100 produced and 60 consumed per second: 40 more
    // at each of the 9 commits after it.
    assert!(
        lines.contains(&"falls-behind: WARN (total lag 460)"),
        "{out}"
    );
    assert!(
        out.contains("orders/0: WARN lag 460 lag grew at every commit"),
        "{out}"
    );
}

#[cfg(feature = "demo")]
#[test]
fn channel_sink_hands_five_snapshots_to_the_application_and_stops() {
    let out = run("channel_sink", &[]);
    let evaluations = out.lines().filter(|l| l.starts_with("evaluation ")).count();
    assert_eq!(evaluations, 5, "{out}");
    // The demo simulates six groups.
    assert!(out.contains(": 6 groups, not OK: "), "{out}");
    assert!(
        out.lines().last().unwrap().starts_with("stopped after "),
        "{out}"
    );
}
