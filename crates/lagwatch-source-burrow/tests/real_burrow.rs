//! The Burrow source against the harness's real Burrow 1.2.1 (which reads the harness Kafka
//! 3.9 and ZooKeeper): lagwatch must report, for every group Burrow knows, the status, the
//! current lag and the per-partition lags Burrow's `/lag` gives at that moment.
//!
//! Needs `LAGWATCH_TEST_BURROW`, `LAGWATCH_TEST_BURROW_CLUSTER` and
//! `LAGWATCH_TEST_KAFKA_LEGACY` (`eval "$(scripts/services env)"`); fails without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_component::FromConfig;
use lagwatch_config::BurrowSourceConfig;
use lagwatch_core::{EvaluatorSettings, GroupReport, LagModel, ModelSettings};
use lagwatch_source_burrow::BurrowSource;
use lagwatch_test_support::conformance::source::check_source;
use lagwatch_test_support::services::{burrow, env, kafka, names};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const TIMEOUT: Duration = Duration::from_secs(120);

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// What is compared, in Burrow's JSON shape: status, partition count, total lag, and per
/// partition topic, number, status and current lag.
fn essentials_of_burrow(status: &Value) -> Value {
    let mut partitions: Vec<Value> = status["partitions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| json!([p["topic"], p["partition"], p["status"], p["current_lag"]]))
        .collect();
    partitions.sort_by_key(|p| p.to_string());
    json!({
        "status": status["status"],
        "partition_count": status["partition_count"],
        "totallag": status["totallag"],
        "partitions": partitions,
    })
}

fn essentials_of_lagwatch(report: &GroupReport) -> Value {
    let mut partitions: Vec<Value> = report
        .partitions
        .iter()
        .map(|p| json!([p.topic, p.partition, p.status.as_str(), p.current_lag]))
        .collect();
    partitions.sort_by_key(|p| p.to_string());
    json!({
        "status": report.status.as_str(),
        "partition_count": report.partition_count,
        "totallag": report.totallag,
        "partitions": partitions,
    })
}

fn source_for(groups_include: Vec<String>) -> BurrowSource {
    let endpoint = env::burrow();
    BurrowSource::from_config(
        "burrow",
        &BurrowSourceConfig {
            servers: vec![endpoint.url.into()],
            interval: Duration::from_secs(1),
            groups_include,
            ..BurrowSourceConfig::default()
        },
    )
    .unwrap()
}

/// Polls through `source` into a fresh model and compares every group of the snapshot with
/// Burrow's `/lag` read right after; returns the differences (empty when all agree) and the
/// groups compared.
async fn compare_once(source: &BurrowSource) -> (Vec<String>, Vec<String>) {
    let endpoint = env::burrow();
    let mut model = LagModel::new(ModelSettings::default());
    let now = now_ms();
    for event in source.poll().await {
        model.apply(&event, now);
    }
    let snapshot = model.snapshot(now, &EvaluatorSettings::default(), 1);
    let mut differences = Vec::new();
    let mut compared = Vec::new();
    for report in snapshot
        .groups
        .iter()
        .filter(|r| r.cluster == endpoint.cluster)
    {
        compared.push(report.group.clone());
        let theirs = burrow::consumer_lag(&endpoint, &report.group)
            .await
            .unwrap();
        let ours = essentials_of_lagwatch(report);
        match theirs {
            Some(status) if essentials_of_burrow(&status) == ours => {}
            Some(status) => differences.push(format!(
                "{}: lagwatch {ours} but Burrow {}",
                report.group,
                essentials_of_burrow(&status)
            )),
            None => differences.push(format!("{}: Burrow no longer knows it", report.group)),
        }
    }
    (differences, compared)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_what_the_real_burrow_reports() {
    let endpoint = env::burrow();
    let broker = env::kafka_legacy();
    let topic = names::topic("lw-burrow-src");
    let lagging = names::group("lw-burrow-lagging");
    let caught_up = names::group("lw-burrow-caught-up");
    kafka::create_topic(&broker, &topic, 2).await.unwrap();
    kafka::produce(&broker, &topic, Some(0), 12).await.unwrap();
    kafka::produce(&broker, &topic, Some(1), 5).await.unwrap();
    burrow::wait_for_topic_offsets(&endpoint, &topic, &[12, 5], TIMEOUT)
        .await
        .unwrap();
    // Two commits per partition, without a running consumer.
    for (p0, p1) in [(2, 1), (4, 3)] {
        kafka::commit_offsets(&broker, &lagging, &[(&topic, 0, p0), (&topic, 1, p1)])
            .await
            .unwrap();
        kafka::commit_offsets(&broker, &caught_up, &[(&topic, 0, 12), (&topic, 1, 5)])
            .await
            .unwrap();
    }
    burrow::wait_for_total_lag(&endpoint, &lagging, 10, TIMEOUT)
        .await
        .unwrap();
    burrow::wait_for_total_lag(&endpoint, &caught_up, 0, TIMEOUT)
        .await
        .unwrap();

    // Our two groups, selected with a glob of alternatives.
    let ours = source_for(vec![format!("{{{lagging},{caught_up}}}")]);
    let mut last = (Vec::new(), Vec::new());
    for _ in 0..5 {
        last = compare_once(&ours).await;
        if last.0.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let (differences, mut compared) = last;
    assert!(differences.is_empty(), "{differences:#?}");
    compared.sort();
    let mut expected = vec![lagging.clone(), caught_up.clone()];
    expected.sort();
    assert_eq!(compared, expected);

    // The exact values, as Kafka's high-water marks give them.
    let mut model = LagModel::new(ModelSettings::default());
    let now = now_ms();
    for event in ours.poll().await {
        model.apply(&event, now);
    }
    let snapshot = model.snapshot(now, &EvaluatorSettings::default(), 1);
    let lag_of = |group: &str| {
        let report = snapshot.groups.iter().find(|r| r.group == group).unwrap();
        let per_partition: Vec<(i32, u64)> = report
            .partitions
            .iter()
            .map(|p| (p.partition, p.current_lag))
            .collect();
        (report.totallag, per_partition)
    };
    assert_eq!(lag_of(&lagging), (10, vec![(0, 8), (1, 2)]));
    assert_eq!(lag_of(&caught_up), (0, vec![(0, 0), (1, 0)]));

    // Every group Burrow knows (other tests' groups included), at that moment.
    let everything = source_for(Vec::new());
    let mut last = Vec::new();
    for _ in 0..5 {
        let (differences, compared) = compare_once(&everything).await;
        assert!(compared.contains(&lagging), "{compared:?}");
        last = differences;
        if last.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(last.is_empty(), "{last:#?}");

    kafka::delete_group(&broker, &lagging).await.unwrap();
    kafka::delete_group(&broker, &caught_up).await.unwrap();
    kafka::delete_topic(&broker, &topic).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_source_conformance_checks() {
    let source = source_for(Vec::new());
    let events = check_source(&source, 1, Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("burrow source conformance: {e}"));
    assert!(!events.is_empty());
}
