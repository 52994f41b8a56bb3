//! `lagwatch check` failing before it reads a cluster: an address nothing listens on, and
//! bad arguments (no service needed; the checks against a broker are in `check`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Output;
use std::time::Duration;

async fn check(args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_lagwatch"));
    cmd.arg("check").args(args).kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("lagwatch check finishes")
        .expect("lagwatch check runs")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_cluster_exits_3_with_a_clear_error() {
    // A loopback port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bootstrap = format!("127.0.0.1:{port}");
    let out = check(&["--bootstrap", &bootstrap, "--timeout", "3s"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("cannot read the cluster"), "{stderr}");
}

#[tokio::test]
async fn bad_arguments_name_what_is_wrong() {
    let out = check(&["--bootstrap", "no-port-here"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("servers") && stderr.contains("no-port-here"),
        "{stderr}"
    );
    let out = check(&["--bootstrap", "127.0.0.1:9092", "--group", "("]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("group_allowlist"), "{stderr}");
}
