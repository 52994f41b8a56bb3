//! The demo source as an `OffsetSource`: the shared source conformance checks, plus what is
//! specific to it (one batch per step, broker offsets first).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_component::FromConfig;
use lagwatch_component::{CancellationToken, EventSender, OffsetSource, SourceContext};
use lagwatch_config::DemoSourceConfig;
use lagwatch_core::Event;
use lagwatch_source_demo::{DemoSource, MIN_TICK};
use lagwatch_test_support::conformance::source::check_source;
use std::time::Duration;

/// Generous bound on waits: these tests never assert on speed, only that nothing hangs.
const HANG_BOUND: Duration = Duration::from_secs(30);

fn fast_config() -> DemoSourceConfig {
    DemoSourceConfig {
        cluster: "conformance".into(),
        tick: Duration::from_millis(20),
        ..DemoSourceConfig::default()
    }
}

#[tokio::test]
async fn passes_source_conformance() {
    let source = DemoSource::from_config("demo", &fast_config()).unwrap();
    let events = check_source(&source, 100, HANG_BOUND)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(events.len() >= 100);
    assert!(events.iter().all(|e| e.cluster() == "conformance"));
    assert!(events.iter().any(|e| matches!(e, Event::Commit { .. })));
}

#[tokio::test]
async fn passes_conformance_behind_a_box() {
    let source: Box<dyn OffsetSource> =
        Box::new(DemoSource::from_config("demo", &fast_config()).unwrap());
    check_source(source.as_ref(), 10, HANG_BOUND)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn name_and_tick() {
    let source = DemoSource::from_config("demo", &DemoSourceConfig::default()).unwrap();
    assert_eq!(source.name(), "demo[demo]");
    assert_eq!(source.tick(), Duration::from_millis(500));
    let tiny = DemoSource::from_config(
        "demo",
        &DemoSourceConfig {
            tick: Duration::ZERO,
            ..DemoSourceConfig::default()
        },
    )
    .unwrap();
    assert_eq!(tiny.tick(), MIN_TICK);
}

#[tokio::test]
async fn healthcheck_is_ok() {
    DemoSource::from_config("demo", &DemoSourceConfig::default())
        .unwrap()
        .healthcheck()
        .await
        .unwrap();
}

#[tokio::test]
async fn every_batch_is_one_step_starting_with_broker_offsets() {
    let source = DemoSource::from_config("demo", &fast_config()).unwrap();
    let (events, mut batches) = EventSender::channel("test", 8);
    let shutdown = CancellationToken::new();
    let ctx = SourceContext {
        events,
        shutdown: shutdown.clone(),
    };
    let collect = async {
        let mut got = Vec::new();
        while got.len() < 5 {
            got.push(batches.recv().await.expect("source stopped early"));
        }
        got
    };
    let mut run = source.run(ctx);
    let got = tokio::select! {
        got = collect => got,
        res = &mut run => panic!("run returned early: {res:?}"),
        () = tokio::time::sleep(HANG_BOUND) => panic!("no batches"),
    };
    for (k, batch) in got.iter().enumerate() {
        assert!(
            matches!(batch[0], Event::BrokerOffsets { .. }),
            "batch {k} does not start with broker offsets"
        );
        let commit_times: Vec<i64> = batch
            .iter()
            .filter_map(|e| match e {
                Event::Commit { timestamp_ms, .. } => Some(*timestamp_ms),
                _ => None,
            })
            .collect();
        assert!(
            commit_times.windows(2).all(|w| w[0] == w[1]),
            "one step per batch"
        );
    }
    assert!(
        !got[0].iter().any(|e| matches!(e, Event::Commit { .. })),
        "the first step only warms up"
    );
    shutdown.cancel();
    tokio::time::timeout(HANG_BOUND, run)
        .await
        .expect("run returned after cancellation")
        .expect("run returned Ok");
}

#[tokio::test]
async fn a_restarted_run_continues_the_same_cluster() {
    // The simulation belongs to the source, not to one `run` call: offsets keep growing.
    let source = DemoSource::from_config("demo", &fast_config()).unwrap();
    let mut high_waters = Vec::new();
    for _ in 0..2 {
        let (events, mut batches) = EventSender::channel("test", 8);
        let shutdown = CancellationToken::new();
        let ctx = SourceContext {
            events,
            shutdown: shutdown.clone(),
        };
        let first = tokio::select! {
            b = batches.recv() => b.expect("a batch"),
            res = source.run(ctx) => panic!("run returned early: {res:?}"),
            () = tokio::time::sleep(HANG_BOUND) => panic!("no batch"),
        };
        if let Event::BrokerOffsets { offsets, .. } = &first[0] {
            high_waters.push(offsets[0].high_water);
        }
        shutdown.cancel();
    }
    assert_eq!(high_waters.len(), 2);
    assert!(high_waters[1] > high_waters[0], "{high_waters:?}");
}

#[tokio::test]
async fn every_step_is_recorded_as_a_successful_read_of_the_cluster() {
    let source = DemoSource::from_config("demo", &fast_config()).unwrap();
    let (events, mut batches) = EventSender::channel("demo-src", 8);
    let log = events.read_log().clone();
    let shutdown = CancellationToken::new();
    let ctx = SourceContext {
        events,
        shutdown: shutdown.clone(),
    };
    let collect = async {
        for _ in 0..3 {
            batches.recv().await.expect("source stopped early");
        }
    };
    let mut run = source.run(ctx);
    tokio::select! {
        () = collect => {}
        res = &mut run => panic!("run returned early: {res:?}"),
        () = tokio::time::sleep(HANG_BOUND) => panic!("no batches"),
    }
    let rows = log.rows();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].source, "demo-src");
    assert_eq!(rows[0].cluster, "conformance");
    assert!(rows[0].reads.reads >= 3, "{rows:?}");
    assert_eq!(rows[0].reads.failures, 0);
    assert!(rows[0].reads.last_success_ms.is_some());
    assert!(rows[0].reads.last_duration.is_some());
    assert!(log.has_read("demo-src"));
    shutdown.cancel();
    tokio::time::timeout(HANG_BOUND, run)
        .await
        .expect("run returned after cancellation")
        .expect("run returned Ok");
}
