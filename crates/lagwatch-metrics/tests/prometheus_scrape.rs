//! A real Prometheus (`LAGWATCH_TEST_PROMETHEUS`) scrapes the three name sets, once through
//! content negotiation (OpenMetrics, what Prometheus asks for) and once as Prometheus text
//! 0.0.4, and answers PromQL with the encoded values: the output parses in the real parser,
//! `# UNIT`, `info`, NaN and escaped label values included.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::routing::get;
use lagwatch_core::Snapshot;
use lagwatch_core::snapshot::SnapshotData;
use lagwatch_metrics::{Format, MetricsSettings, NameSet, content_type, encode, render};
use lagwatch_test_support::services::env;
use lagwatch_test_support::services::prometheus::{PromConfig, Prometheus, ScrapeTarget};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
struct Served {
    snapshot: Snapshot,
    settings: Arc<MetricsSettings>,
}

async fn negotiated(
    State(s): State<Served>,
    headers: HeaderMap,
) -> ([(header::HeaderName, &'static str); 1], String) {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let mut body = String::new();
    let kind = render(
        &s.snapshot,
        Some(common::stats()),
        s.settings.clone(),
        accept,
        &mut body,
    )
    .unwrap();
    ([(header::CONTENT_TYPE, kind)], body)
}

async fn text(State(s): State<Served>) -> ([(header::HeaderName, &'static str); 1], String) {
    let body = encode(
        &s.snapshot,
        Some(common::stats()),
        s.settings.clone(),
        Format::PrometheusText,
    )
    .unwrap();
    (
        [(header::CONTENT_TYPE, content_type(Format::PrometheusText))],
        body,
    )
}

/// The small snapshot at the current time, with a group name that needs escaping.
fn snapshot() -> Snapshot {
    let mut data: SnapshotData = common::small_snapshot().data().clone();
    data.at_ms = lagwatch_component::clock::wall_clock_ms();
    let mut odd = data.groups[0].clone();
    odd.group = "odd \"group\"\\with\nnewline".into();
    data.groups.push(odd);
    Snapshot::new(data)
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_scrapes_every_set_in_both_formats() {
    let _ = env::prometheus();
    let served = Served {
        snapshot: snapshot(),
        settings: Arc::new(MetricsSettings::with_sets(&NameSet::ALL)),
    };
    let app = Router::new()
        .route("/metrics", get(negotiated))
        .route("/text", get(text))
        .with_state(served);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let prometheus = Prometheus::start(PromConfig {
        targets: vec![
            ScrapeTarget::new(addr.clone()),
            ScrapeTarget::new(addr.clone()).path("/text"),
        ],
        otlp_receiver: false,
    })
    .await
    .unwrap();
    let wait = Duration::from_secs(30);
    let log = || prometheus.log();

    // Both targets up: both bodies parsed.
    prometheus
        .wait_for_query(
            "up",
            |rows| rows.len() == 2 && rows.iter().all(|(_, v)| *v == 1.0),
            wait,
        )
        .await
        .unwrap_or_else(|e| panic!("{e:#}\n{}", log()));

    for (query, want) in [
        ("lagwatch_group_total_lag_messages{group=\"app\"}", 10.0),
        (
            "lagwatch_group_lag_seconds{topic=\"orders\",partition=\"0\",group=\"app\"}",
            2.5,
        ),
        ("lagwatch_reads_total{source=\"kafka[live]\"}", 5.0),
        ("lagwatch_build_info", 1.0),
        (
            "kafka_consumergroup_lag{consumergroup=\"app\",topic=\"orders\",partition=\"1\"}",
            -1.0,
        ),
        (
            "kafka_consumergroup_lag_sum{consumergroup=\"app\",topic=\"orders\"}",
            10.0,
        ),
        ("kafka_consumergroup_group_max_lag{group=\"app\"}", 10.0),
        ("kafka_consumergroup_poll_time_ms", 250.0),
        (
            "lagwatch_group_total_lag_messages{group=\"odd \\\"group\\\"\\\\with\\nnewline\"}",
            10.0,
        ),
    ] {
        let rows = prometheus
            .wait_for_query(query, |rows| rows.len() == 2, wait)
            .await
            .unwrap_or_else(|e| panic!("{e:#}\n{}", log()));
        for (labels, value) in &rows {
            assert_eq!(*value, want, "{query} from {labels:?}");
        }
    }
    // NaN (nothing committed) arrives as NaN.
    let rows = prometheus
        .wait_for_query(
            "kafka_consumergroup_group_lag{group=\"app\",topic=\"orders\",partition=\"1\"}",
            |rows| rows.len() == 2,
            wait,
        )
        .await
        .unwrap();
    assert!(rows.iter().all(|(_, v)| v.is_nan()), "{rows:?}");
}
