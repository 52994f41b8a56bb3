//! `lagwatch demo`'s JSON documents carry the trends: the catching-up group gets a finite time
//! to catch up, the stopped group is not catching up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn demo_documents_show_the_catching_up_group_finite_and_the_stopped_one_not_catching_up() {
    let output = Command::new(env!("CARGO_BIN_EXE_lagwatch"))
        .args(["demo", "--duration", "12s", "--format", "json", "--no-http"])
        .args(["--seed", "7"])
        .output()
        .expect("run lagwatch demo");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let groups: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|d| d["measurement_name"] == "burrow_group")
        .collect();
    let of = |name: &str| -> Vec<&serde_json::Value> {
        groups
            .iter()
            .filter(|d| d["tag"]["group"] == name)
            .map(|d| &d["burrow_group"])
            .collect()
    };

    // search-catchup starts far behind and reads faster than messages arrive: while it lags,
    // its time to catch up is a finite number of seconds (lag 0 from about 13.5 s, so never
    // more than a few tens of seconds), and the lag shrinks.
    let catchup = of("search-catchup");
    let finite: Vec<f64> = catchup
        .iter()
        .filter(|d| d["total_lag"].as_u64().unwrap_or(0) > 0)
        .filter_map(|d| d["time_to_catch_up_seconds"].as_f64())
        .collect();
    assert!(finite.len() >= 5, "{catchup:?}");
    assert!(finite.iter().all(|s| *s > 0.0 && *s < 60.0), "{finite:?}");
    assert!(
        catchup
            .iter()
            .filter(|d| d["time_to_catch_up_seconds"].as_f64().unwrap_or(0.0) > 0.0)
            .all(|d| d["catching_up"] == true && d["lag_rate"].as_f64().unwrap_or(0.0) < 0.0),
        "{catchup:?}"
    );

    // audit-stopped stops committing after 4 s with lag left: once it is silent for longer
    // than its window spans, it is not catching up and has no time to catch up.
    let stopped = of("audit-stopped");
    let last = stopped.last().expect("audit-stopped documents");
    assert_eq!(last["catching_up"], false, "{last}");
    assert_eq!(last.get("time_to_catch_up_seconds"), None, "{last}");
    assert_eq!(last["consumption_rate"], 0.0, "{last}");
}
