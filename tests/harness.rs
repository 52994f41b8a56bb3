//! The harness itself: what `scripts/services` promises to developers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic

use lagwatch_test_support::services::env;
use std::path::PathBuf;
use std::process::Command;

fn services_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/services")
}

/// The bootstrap address `scripts/services env` exports works with Debian's kcat.
#[test]
fn kcat_lists_the_harness_broker() {
    let kafka = env::kafka();
    let out = Command::new("kcat")
        .args(["-b", &kafka.bootstrap, "-L", "-m", "10"])
        .output()
        .expect("kcat is installed by scripts/test (apt package kcat)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "kcat -L failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("1 brokers:"), "{text}");
    let port = kafka.bootstrap.rsplit(':').next().unwrap();
    assert!(text.contains(&format!(":{port}")), "{text}");
}

/// Whether `pid` is a live process. An exited process whose parent has not collected it yet
/// (state `Z`) is not alive: services are started detached, so their parent is the init
/// process, which reaps them in its own time.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the first field after the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}

/// `up` in a separate run directory starts a service on free ports, and `down` leaves no
/// process of it behind.
#[test]
fn down_leaves_no_process_behind() {
    let run = tempfile::tempdir().unwrap();
    let script = services_script();
    let services = |args: &[&str]| {
        Command::new(&script)
            .args(args)
            .env("LAGWATCH_RUN", run.path())
            // Not the run of scripts/test: nothing of this must be stopped by its cleanup.
            .env_remove("LAGWATCH_STARTED_FILE")
            .output()
            .expect("run scripts/services")
    };
    let up = services(&["up", "zookeeper"]);
    assert!(
        up.status.success(),
        "up zookeeper failed: {}",
        String::from_utf8_lossy(&up.stderr)
    );
    let pid_file = run.path().join("zookeeper/pid");
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap_or_else(|e| panic!("{}: {e}", pid_file.display()))
        .trim()
        .parse()
        .unwrap();
    assert!(alive(pid), "zookeeper {pid} not running");
    let listed = services(&["env"]);
    let exports = String::from_utf8_lossy(&listed.stdout);
    assert!(
        exports.contains("LAGWATCH_TEST_ZOOKEEPER=127.0.0.1:"),
        "{exports}"
    );

    let down = services(&["down"]);
    assert!(
        down.status.success(),
        "down failed: {}",
        String::from_utf8_lossy(&down.stderr)
    );
    assert!(!alive(pid), "zookeeper {pid} still running after down");
    let after = services(&["env"]);
    assert!(
        !String::from_utf8_lossy(&after.stdout).contains("LAGWATCH_TEST_ZOOKEEPER="),
        "env still exports a stopped service"
    );
}
