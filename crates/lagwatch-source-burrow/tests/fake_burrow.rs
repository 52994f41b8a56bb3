//! The Burrow source against a small fake Burrow on loopback: request sequence, commit
//! de-duplication, verdicts, NOTFOUND, per-group errors, a server that goes down, basic
//! authentication and globs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use lagwatch_component::FromConfig;
use lagwatch_config::BurrowSourceConfig;
use lagwatch_core::secret::Secret;
use lagwatch_core::{
    BrokerOffset, EvaluatorSettings, Event, GroupStatus, LagModel, MemberAssignment, ModelSettings,
    PartitionStatus,
};
use lagwatch_source_burrow::BurrowSource;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

#[derive(Default)]
struct Fake {
    down: AtomicBool,
    /// Leave `good` out of the group list.
    hide_good: AtomicBool,
    /// Committed offset of `good` on partition 0.
    good_offset: AtomicI64,
    /// Leave `c1` out of the cluster list.
    hide_c1: AtomicBool,
}

/// `Basic dXNlcjpwdw==` is `user:pw`.
const AUTH: &str = "Basic dXNlcjpwdw==";

fn lag_body(group: &str, offset: i64) -> String {
    format!(
        r#"{{"error":false,"message":"consumer status returned","status":{{"cluster":"c1","group":"{group}","status":"ERR","complete":0.5,"partitions":[{{"topic":"t","partition":0,"owner":"/10.0.0.1","client_id":"app-1","status":"STALL","start":{{"offset":3,"timestamp":1000,"observedAt":1500,"lag":7}},"end":{{"offset":{offset},"timestamp":2000,"observedAt":2500,"lag":null}},"current_lag":{lag},"complete":0.5}},{{"topic":"hidden","partition":0,"owner":"","client_id":"","status":"OK","start":null,"end":null,"current_lag":0,"complete":0}}],"partition_count":2,"maxlag":null,"totallag":{lag}}},"request":{{"url":"/x","host":"h"}}}}"#,
        lag = 10 - offset
    )
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn handle(fake: Arc<Fake>, uri: Uri, headers: HeaderMap) -> Response {
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(AUTH)
    {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let path = uri.path();
    if fake.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let ok = |body: &str| json(StatusCode::OK, body.to_owned());
    match path {
        "/v3/kafka" if fake.hide_c1.load(Ordering::SeqCst) => {
            ok(r#"{"error":false,"clusters":["skip-me"]}"#)
        }
        "/v3/kafka" => ok(r#"{"error":false,"clusters":["c1","skip-me"]}"#),
        "/v3/kafka/c1/topic" => ok(r#"{"error":false,"topics":["t","hidden"]}"#),
        "/v3/kafka/c1/topic/t" => ok(r#"{"error":false,"offsets":[10,20]}"#),
        "/v3/kafka/c1/consumer" if fake.hide_good.load(Ordering::SeqCst) => {
            ok(r#"{"error":false,"consumers":["broken","gone"]}"#)
        }
        "/v3/kafka/c1/consumer" => ok(r#"{"error":false,"consumers":["good","broken","gone"]}"#),
        "/v3/kafka/c1/consumer/good/lag" => {
            json(StatusCode::OK, lag_body("good", fake.good_offset.load(Ordering::SeqCst)))
        }
        "/v3/kafka/c1/consumer/gone/lag" => json(
            StatusCode::NOT_FOUND,
            r#"{"error":false,"message":"consumer status returned","status":{"cluster":"c1","group":"gone","status":"NOTFOUND","complete":1,"partitions":[],"partition_count":0,"maxlag":null,"totallag":0},"request":{"url":"/x","host":"h"}}"#.to_owned(),
        ),
        // `broken` and anything else: a server error.
        _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn start(fake: Arc<Fake>) -> String {
    let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let fake = Arc::clone(&fake);
        async move { handle(fake, uri, headers).await }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

fn config(url: String) -> BurrowSourceConfig {
    BurrowSourceConfig {
        servers: vec![url.into()],
        username: "user".into(),
        password: Secret::new("pw".into()),
        clusters_exclude: vec!["skip-*".into()],
        topics_exclude: vec!["hid{den,e}".into()],
        concurrent_connections: 2,
        ..BurrowSourceConfig::default()
    }
}

/// Events without their clock-dependent fields.
fn without_clock(events: Vec<Event>) -> Vec<Event> {
    events
        .into_iter()
        .map(|e| match e {
            Event::BrokerOffsets {
                cluster,
                topic,
                partition_count,
                offsets,
                ..
            } => Event::BrokerOffsets {
                cluster,
                topic,
                partition_count,
                offsets,
                observed_ms: 0,
            },
            Event::GroupVerdict {
                cluster,
                group,
                mut report,
            } => {
                report.evaluated_at = 0;
                Event::GroupVerdict {
                    cluster,
                    group,
                    report,
                }
            }
            other => other,
        })
        .collect()
}

#[tokio::test]
async fn polls_like_telegraf_and_passes_burrows_verdicts() {
    let fake = Arc::new(Fake::default());
    fake.good_offset.store(4, Ordering::SeqCst);
    let url = start(Arc::clone(&fake)).await;
    let source = BurrowSource::from_config("burrow", &config(url)).unwrap();

    let first = without_clock(source.poll().await);
    let kinds: Vec<&str> = first
        .iter()
        .map(|e| match e {
            Event::SourceHealth { .. } => "health",
            Event::BrokerOffsets { .. } => "broker",
            Event::Commit { .. } => "commit",
            Event::Members { .. } => "members",
            Event::GroupVerdict { .. } => "verdict",
            _ => "other",
        })
        .collect();
    // The excluded cluster and topic are never read; `broken` (500) and `gone` (NOTFOUND)
    // give nothing.
    assert_eq!(kinds, ["health", "broker", "commit", "members", "verdict"]);
    assert_eq!(
        first[1],
        Event::BrokerOffsets {
            cluster: "c1".into(),
            topic: "t".into(),
            partition_count: 2,
            offsets: vec![
                BrokerOffset {
                    partition: 0,
                    high_water: 10,
                    log_start: None
                },
                BrokerOffset {
                    partition: 1,
                    high_water: 20,
                    log_start: None
                },
            ],
            observed_ms: 0,
        }
    );
    assert_eq!(
        first[2],
        Event::Commit {
            cluster: "c1".into(),
            group: "good".into(),
            topic: "t".into(),
            partition: 0,
            offset: 4,
            timestamp_ms: 2000,
            order: None,
        }
    );
    assert_eq!(
        first[3],
        Event::Members {
            cluster: "c1".into(),
            group: "good".into(),
            assignments: vec![MemberAssignment {
                topic: "t".into(),
                partition: 0,
                owner: "/10.0.0.1".into(),
                client_id: "app-1".into(),
            }],
        }
    );
    let Event::GroupVerdict { report, .. } = &first[4] else {
        panic!("not a verdict: {:?}", first[4]);
    };
    assert_eq!(report.status, GroupStatus::Err);
    assert_eq!(report.totallag, 6);
    assert_eq!(report.partition_count, 2);
    // The topic globs filter partition rows, not the group's totals.
    assert_eq!(report.partitions.len(), 1);
    assert_eq!(report.partitions[0].status, PartitionStatus::Stall);
    assert_eq!(report.worst_partition, Some(PartitionStatus::Stall));

    // The model reports Burrow's verdict unchanged.
    let mut model = LagModel::new(ModelSettings::default());
    for event in &first {
        model.apply(event, 3_000);
    }
    let snapshot = model.snapshot(3_000, &EvaluatorSettings::default(), 1);
    assert_eq!(snapshot.groups.len(), 1);
    assert_eq!(snapshot.groups[0].status, GroupStatus::Err);
    assert_eq!(snapshot.groups[0].partitions, report.partitions);

    // Unchanged commit and owners are not sent again; the verdict is.
    let second = without_clock(source.poll().await);
    assert_eq!(second.len(), 2, "{second:?}");
    assert!(matches!(second[0], Event::BrokerOffsets { .. }));
    assert!(matches!(second[1], Event::GroupVerdict { .. }));

    // A new commit is sent once.
    fake.good_offset.store(8, Ordering::SeqCst);
    let third = without_clock(source.poll().await);
    let commits: Vec<i64> = third
        .iter()
        .filter_map(|e| match e {
            Event::Commit { offset, .. } => Some(*offset),
            _ => None,
        })
        .collect();
    assert_eq!(commits, vec![8]);

    // The server goes down: its cluster is reported stale, once.
    fake.down.store(true, Ordering::SeqCst);
    let down = source.poll().await;
    assert_eq!(down.len(), 1, "{down:?}");
    assert!(matches!(
        &down[0],
        Event::SourceHealth { cluster, healthy: false, reason: Some(reason) }
            if cluster == "c1" && reason.contains("wrong response: 503")
    ));
    assert!(source.poll().await.is_empty());

    // Back: healthy again, data resumes.
    fake.down.store(false, Ordering::SeqCst);
    let back = source.poll().await;
    assert!(matches!(
        &back[0],
        Event::SourceHealth { cluster, healthy: true, .. } if cluster == "c1"
    ));
    assert!(back.iter().any(|e| matches!(e, Event::GroupVerdict { .. })));
}

#[tokio::test]
async fn a_group_burrow_stops_listing_is_deleted() {
    let fake = Arc::new(Fake::default());
    let url = start(Arc::clone(&fake)).await;
    let mut cfg = config(url);
    cfg.groups_include = vec!["go?d".into(), "b*".into()];
    cfg.groups_exclude = vec!["broke[mn]".into()];
    let source = BurrowSource::from_config("burrow", &cfg).unwrap();
    let first = source.poll().await;
    let verdicts: Vec<&str> = first
        .iter()
        .filter_map(|e| match e {
            Event::GroupVerdict { group, .. } => Some(group.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(verdicts, ["good"]);
    assert!(
        !first
            .iter()
            .any(|e| matches!(e, Event::GroupDeleted { .. }))
    );

    fake.hide_good.store(true, Ordering::SeqCst);
    let second = source.poll().await;
    let deleted: Vec<&Event> = second
        .iter()
        .filter(|e| matches!(e, Event::GroupDeleted { .. }))
        .collect();
    assert_eq!(
        deleted,
        [&Event::GroupDeleted {
            cluster: "c1".into(),
            group: "good".into()
        }]
    );
    // Once gone, it is not deleted again.
    assert!(
        source
            .poll()
            .await
            .iter()
            .all(|e| !matches!(e, Event::GroupDeleted { .. }))
    );
}

#[tokio::test]
async fn a_cluster_burrow_stops_listing_has_its_groups_and_topics_deleted() {
    let fake = Arc::new(Fake::default());
    fake.good_offset.store(4, Ordering::SeqCst);
    let url = start(Arc::clone(&fake)).await;
    let source = BurrowSource::from_config("burrow", &config(url)).unwrap();
    let first = source.poll().await;
    assert!(first.iter().any(|e| matches!(e, Event::Commit { .. })));

    fake.hide_c1.store(true, Ordering::SeqCst);
    // `broken` (its /lag fails, but Burrow lists it) and `good` were listed; `gone` answered
    // NOTFOUND and `hidden` is excluded by the topic globs.
    assert_eq!(
        source.poll().await,
        [
            Event::GroupDeleted {
                cluster: "c1".into(),
                group: "broken".into()
            },
            Event::GroupDeleted {
                cluster: "c1".into(),
                group: "good".into()
            },
            Event::TopicDeleted {
                cluster: "c1".into(),
                topic: "t".into()
            },
        ]
    );
    // Forgotten: nothing more while it stays away.
    assert_eq!(source.poll().await, []);

    // When it comes back it is new again: healthy, and its commit is sent again.
    fake.hide_c1.store(false, Ordering::SeqCst);
    let back = source.poll().await;
    assert!(matches!(
        &back[0],
        Event::SourceHealth { cluster, healthy: true, .. } if cluster == "c1"
    ));
    assert!(back.iter().any(|e| matches!(
        e,
        Event::Commit { group, offset: 4, .. } if group == "good"
    )));
}

#[tokio::test]
async fn wrong_credentials_fail_the_healthcheck() {
    use lagwatch_component::OffsetSource;
    let fake = Arc::new(Fake::default());
    let url = start(Arc::clone(&fake)).await;
    let mut cfg = config(url);
    cfg.password = Secret::new("wrong".into());
    let source = BurrowSource::from_config("burrow", &cfg).unwrap();
    let error = source.healthcheck().await.unwrap_err();
    assert!(error.to_string().contains("wrong response: 401"), "{error}");
    assert!(!error.to_string().contains("wrong\""), "{error}");
    cfg.password = Secret::new("pw".into());
    BurrowSource::from_config("burrow", &cfg)
        .unwrap()
        .healthcheck()
        .await
        .unwrap();
}

/// Runs the source (draining its batches) until `done` holds for its read log.
async fn run_until(
    source: &BurrowSource,
    rx: &mut tokio::sync::mpsc::Receiver<Vec<Event>>,
    ctx: lagwatch_component::SourceContext,
    done: impl Fn(&[lagwatch_component::stats::ReadRow]) -> bool,
) {
    use lagwatch_component::OffsetSource;
    let log = ctx.events.read_log().clone();
    let watch = async {
        loop {
            tokio::select! {
                _ = rx.recv() => {}
                () = tokio::time::sleep(std::time::Duration::from_millis(10)) => {}
            }
            if done(&log.rows()) {
                return;
            }
        }
    };
    let run = source.run(ctx);
    tokio::select! {
        () = watch => {}
        res = run => panic!("run returned early: {res:?}"),
        () = tokio::time::sleep(std::time::Duration::from_secs(30)) => {
            panic!("read log never as expected: {:?}", log.rows())
        }
    }
}

#[tokio::test]
async fn every_poll_records_one_read_per_cluster_and_failures_count() {
    use lagwatch_component::{CancellationToken, EventSender, SourceContext};
    let fake = Arc::new(Fake::default());
    let url = start(Arc::clone(&fake)).await;
    let mut cfg = config(url);
    cfg.interval = std::time::Duration::from_millis(20);
    let source = BurrowSource::from_config("burrow", &cfg).unwrap();
    let (events, mut rx) = EventSender::channel("burrow-src", 64);
    let log = events.read_log().clone();
    let ctx = || SourceContext {
        events: events.clone(),
        shutdown: CancellationToken::new(),
    };

    run_until(&source, &mut rx, ctx(), |rows| {
        rows.first().is_some_and(|r| r.reads.reads >= 2)
    })
    .await;
    let rows = log.rows();
    assert_eq!(rows.len(), 1, "only the accepted cluster: {rows:?}");
    assert_eq!(
        (rows[0].source.as_str(), rows[0].cluster.as_str()),
        ("burrow-src", "c1")
    );
    assert!(rows[0].reads.reads >= 2, "{rows:?}");
    // The group `broken` answers 500: skipped, the read of the cluster still succeeds.
    assert_eq!(rows[0].reads.failures, 0, "{rows:?}");
    assert!(rows[0].reads.last_success_ms.is_some());
    assert!(log.has_read("burrow-src"));

    fake.down.store(true, Ordering::SeqCst);
    run_until(&source, &mut rx, ctx(), |rows| {
        rows.first().is_some_and(|r| r.reads.failures >= 1)
    })
    .await;
    let rows = log.rows();
    assert_eq!(
        rows.len(),
        1,
        "failures count for the cluster listed before: {rows:?}"
    );
    let reason = rows[0].reads.last_error.clone().unwrap_or_default();
    assert!(reason.contains("wrong response: 503"), "{reason}");
    assert!(!reason.contains("pw"), "{reason}");
}

#[tokio::test]
async fn an_unreachable_server_counts_failed_reads_under_its_redacted_url() {
    use lagwatch_component::{CancellationToken, EventSender, SourceContext};
    let closed = lagwatch_test_support::services::net::free_port().unwrap();
    let mut cfg = config(format!("http://user:secretpw@127.0.0.1:{closed}"));
    cfg.interval = std::time::Duration::from_millis(20);
    let source = BurrowSource::from_config("burrow", &cfg).unwrap();
    let (events, mut rx) = EventSender::channel("burrow-src", 64);
    let log = events.read_log().clone();
    let ctx = SourceContext {
        events,
        shutdown: CancellationToken::new(),
    };
    run_until(&source, &mut rx, ctx, |rows| {
        rows.first().is_some_and(|r| r.reads.failures >= 2)
    })
    .await;
    let rows = log.rows();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        rows[0].cluster,
        format!("http://127.0.0.1:{closed}/v3/kafka"),
        "{rows:?}"
    );
    assert!(rows[0].reads.failures >= 2, "{rows:?}");
    assert_eq!(rows[0].reads.last_success_ms, None);
    assert!(!format!("{rows:?}").contains("secretpw"), "{rows:?}");
    assert!(!log.has_read("burrow-src"));
}
