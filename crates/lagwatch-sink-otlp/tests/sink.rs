//! Hermetic tests of the OTLP sink: the sink conformance checks against a fake OTLP/HTTP
//! receiver, a 503-then-200 fault, error classes, and secrets kept out of errors.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use lagwatch_component::{ErrorClass, FromConfig, LagSink, RuntimeStats, StatsProvider};
use lagwatch_config::{OtlpProtocol, OtlpSinkConfig};
use lagwatch_core::secret::Secret;
use lagwatch_sink_otlp::OtlpSink;
use lagwatch_sink_otlp::message::CLUSTER_ATTRIBUTE;
use lagwatch_test_support::{conformance::sink::check_sink, sample};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::metrics::v1::{AggregationTemporality, metric, number_data_point};
use prost::Message;
use std::sync::{Arc, Mutex};

/// What the fake receiver saw, and the statuses it answers with (then 200).
#[derive(Default)]
struct Receiver {
    requests: Vec<(HeaderMap, ExportMetricsServiceRequest)>,
    answers: Vec<StatusCode>,
}

type Shared = Arc<Mutex<Receiver>>;

async fn export(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut r = state.lock().unwrap();
    let request = ExportMetricsServiceRequest::decode(body).unwrap();
    r.requests.push((headers, request));
    if r.answers.is_empty() {
        StatusCode::OK
    } else {
        r.answers.remove(0)
    }
}

/// A fake OTLP/HTTP receiver on a loopback port; returns its base URL.
async fn fake_receiver(answers: Vec<StatusCode>) -> (String, Shared) {
    let state: Shared = Arc::new(Mutex::new(Receiver {
        requests: Vec::new(),
        answers,
    }));
    let app = Router::new()
        .route("/v1/metrics", post(export))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), state)
}

fn http_config(url: &str) -> OtlpSinkConfig {
    let mut c = OtlpSinkConfig::new(url);
    c.protocol = OtlpProtocol::Http;
    c.instance = "test-instance".into();
    c
}

#[tokio::test]
async fn the_sink_passes_the_conformance_checks() {
    let (url, state) = fake_receiver(Vec::new()).await;
    let sink = OtlpSink::from_config("conf", &http_config(&url)).unwrap();
    check_sink(&sink, |s| sink.export(s).points).await.unwrap();
    let r = state.lock().unwrap();
    // Every non-empty snapshot was pushed (the empty one has no data point to push).
    assert_eq!(r.requests.len(), 5);
    let first = &r.requests[0].1;
    let clusters: Vec<String> = first
        .resource_metrics
        .iter()
        .map(|rm| {
            let attrs = &rm.resource.as_ref().unwrap().attributes;
            let get = |k: &str| {
                attrs.iter().find(|a| a.key == k).and_then(|a| {
                    match a.value.as_ref().and_then(|v| v.value.as_ref()) {
                        Some(any_value::Value::StringValue(s)) => Some(s.clone()),
                        _ => None,
                    }
                })
            };
            assert_eq!(get("service.name").as_deref(), Some("lagwatch"));
            assert_eq!(get("service.instance.id").as_deref(), Some("test-instance"));
            get(CLUSTER_ATTRIBUTE).unwrap()
        })
        .collect();
    // One resource per cluster of the sample, none for lagwatch's own figures (no stats).
    assert_eq!(clusters, vec!["backup".to_owned(), "live".to_owned()]);
}

#[tokio::test]
async fn a_503_is_retried_and_the_write_succeeds() {
    let (url, state) = fake_receiver(vec![StatusCode::SERVICE_UNAVAILABLE]).await;
    let sink = OtlpSink::from_config("retry", &http_config(&url)).unwrap();
    let snapshot = sample::snapshot();
    let ack = sink.write(&snapshot).await.unwrap();
    assert_eq!(ack.records, sink.export(&snapshot).points);
    let r = state.lock().unwrap();
    assert_eq!(r.requests.len(), 2, "one 503, then the retry");
    assert_eq!(r.requests[0].1, r.requests[1].1);
}

#[tokio::test]
async fn a_400_is_permanent_and_names_the_endpoint_but_no_header_value() {
    let (url, state) = fake_receiver(vec![StatusCode::BAD_REQUEST]).await;
    let mut config = http_config(&url);
    config
        .headers
        .insert("X-Api-Key".into(), Secret::new("hunter2-key".to_owned()));
    let sink = OtlpSink::from_config("bad", &config).unwrap();
    let err = sink.write(&sample::snapshot()).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    let shown = format!("{err} {err:?} {sink:?}");
    assert!(shown.contains(&url), "{shown}");
    assert!(shown.contains("400"), "{shown}");
    assert!(!shown.contains("hunter2-key"), "{shown}");
    // The header was sent, and only once (no retry of a permanent failure).
    let r = state.lock().unwrap();
    assert_eq!(r.requests.len(), 1);
    assert_eq!(r.requests[0].0["x-api-key"], "hunter2-key");
}

#[tokio::test]
async fn connection_refused_is_transient_for_both_protocols() {
    // A port that was just free: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for protocol in [OtlpProtocol::Http, OtlpProtocol::Grpc] {
        let mut config = OtlpSinkConfig::new(format!("http://127.0.0.1:{port}"));
        config.protocol = protocol;
        config.timeout = std::time::Duration::from_secs(2);
        let sink = OtlpSink::from_config("down", &config).unwrap();
        let err = sink.write(&sample::snapshot()).await.unwrap_err();
        assert_eq!(err.class, ErrorClass::Transient, "{protocol:?}: {err}");
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );
    }
}

struct FixedStats(RuntimeStats);

impl StatsProvider for FixedStats {
    fn runtime_stats(&self) -> RuntimeStats {
        self.0.clone()
    }
}

#[tokio::test]
async fn with_stats_adds_a_resource_without_cluster_and_counters_are_cumulative_sums() {
    let stats = RuntimeStats {
        started_ms: sample::SAMPLE_AT_MS - 60_000,
        cycles: 7,
        ..RuntimeStats::default()
    };
    let sink = OtlpSink::from_config("stats", &http_config("http://127.0.0.1:1"))
        .unwrap()
        .with_stats(Arc::new(FixedStats(stats)));
    let export = sink.export(&sample::snapshot());
    let last = export.request.resource_metrics.last().unwrap();
    let attrs = &last.resource.as_ref().unwrap().attributes;
    assert!(attrs.iter().all(|a| a.key != CLUSTER_ATTRIBUTE));
    let evaluations = last.scope_metrics[0]
        .metrics
        .iter()
        .find(|m| m.name == "lagwatch_evaluations_total")
        .unwrap();
    let Some(metric::Data::Sum(sum)) = &evaluations.data else {
        panic!("not a sum: {evaluations:?}");
    };
    assert!(sum.is_monotonic);
    assert_eq!(
        sum.aggregation_temporality,
        AggregationTemporality::Cumulative as i32
    );
    let point = &sum.data_points[0];
    assert_eq!(point.value, Some(number_data_point::Value::AsDouble(7.0)));
    assert_eq!(
        point.start_time_unix_nano,
        u64::try_from(sample::SAMPLE_AT_MS - 60_000).unwrap() * 1_000_000
    );
    assert_eq!(
        point.time_unix_nano,
        u64::try_from(sample::SAMPLE_AT_MS).unwrap() * 1_000_000
    );
}

#[test]
fn bad_configurations_name_their_key() {
    let cases: Vec<(OtlpSinkConfig, &str)> = vec![
        (OtlpSinkConfig::new("127.0.0.1:4317"), "endpoint"),
        (OtlpSinkConfig::new("https://collector:4317"), "endpoint"),
        (
            {
                let mut c = OtlpSinkConfig::new("http://127.0.0.1:4317");
                c.topic_denylist = "(".into();
                c
            },
            "topic_denylist",
        ),
        (
            {
                let mut c = OtlpSinkConfig::new("http://127.0.0.1:4317");
                c.headers
                    .insert("bad header".into(), Secret::new("top\nsecret".to_owned()));
                c
            },
            "headers",
        ),
    ];
    for (config, key) in cases {
        let err = OtlpSink::from_config("x", &config).unwrap_err();
        assert_eq!(err.class, ErrorClass::Permanent);
        assert!(err.to_string().contains(key), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
    }
}
