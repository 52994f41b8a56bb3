//! `examples/watch_cluster.rs` against the harness Kafka 4.4: a group that stopped consuming
//! with lag behind it is printed as not OK, a group at the log end is not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_test_support::services::{env, kafka, names};
use std::process::Command;

mod common;

#[tokio::test(flavor = "multi_thread")]
async fn watch_cluster_prints_the_lagging_group_and_not_the_healthy_one() {
    let bootstrap = env::kafka().bootstrap;
    let topic = names::unique("lw-example");
    let lagging = names::unique("lw-example-lagging");
    let healthy = names::unique("lw-example-healthy");
    kafka::create_topic(bootstrap.as_str(), &topic, 1)
        .await
        .unwrap();
    kafka::produce(bootstrap.as_str(), &topic, Some(0), 100)
        .await
        .unwrap();
    kafka::commit_offsets(bootstrap.as_str(), &lagging, &[(&topic, 0, 40)])
        .await
        .unwrap();
    kafka::commit_offsets(bootstrap.as_str(), &healthy, &[(&topic, 0, 100)])
        .await
        .unwrap();

    // Six evaluations, 5 s apart: the lagging group's offset does not move while its lag
    // stays at 60 (STALL, or STOP once its commit is old), so it is WARN or ERR.
    let exe = common::example("watch_cluster");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(exe).arg(&bootstrap).arg("6").output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout
        .split("evaluation ")
        .last()
        .expect("at least one evaluation");
    let line = last
        .lines()
        .find(|l| l.contains(&lagging))
        .unwrap_or_else(|| panic!("{lagging} is not reported:\n{stdout}"));
    assert!(
        line.trim_start().starts_with("WARN ") || line.trim_start().starts_with("ERR "),
        "{line}"
    );
    assert!(line.contains("total lag 60"), "{line}");
    assert!(line.contains(&format!("(worst {topic}/0: ")), "{line}");
    assert!(!stdout.contains(&healthy), "{stdout}");
    assert_eq!(stdout.matches("evaluation ").count(), 6, "{stdout}");
}
