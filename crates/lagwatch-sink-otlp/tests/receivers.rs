//! Real OTLP receivers from the harness (`scripts/services up telegraf prometheus`):
//!
//! * gRPC: Telegraf's `inputs.opentelemetry` receives a push, and every value it wrote equals
//!   the `/metrics` (Prometheus text) sample of the same snapshot with the same name and
//!   labels, and no sample is missing;
//! * HTTP/protobuf: Prometheus with `--web.enable-otlp-receiver` receives a push at
//!   `/api/v1/otlp/v1/metrics` and answers PromQL queries with the pushed values.
//!
//! Needs `LAGWATCH_TEST_TELEGRAF` and `LAGWATCH_TEST_PROMETHEUS`; fails without them.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use lagwatch_component::clock::wall_clock_ms;
use lagwatch_component::stats::{ClusterReads, OutputStats, ReadRow, SourceState};
use lagwatch_component::{FromConfig, LagSink, RuntimeStats, StatsProvider};
use lagwatch_config::{OtlpProtocol, OtlpSinkConfig};
use lagwatch_core::Snapshot;
use lagwatch_metrics::{Format, MetricsSettings};
use lagwatch_sink_otlp::OtlpSink;
use lagwatch_test_support::sample;
use lagwatch_test_support::services::prometheus::{PromConfig, Prometheus};
use lagwatch_test_support::services::telegraf::Telegraf;
use lagwatch_test_support::services::{env, net};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

struct FixedStats(RuntimeStats);

impl StatsProvider for FixedStats {
    fn runtime_stats(&self) -> RuntimeStats {
        self.0.clone()
    }
}

fn stats(now_ms: i64) -> RuntimeStats {
    RuntimeStats {
        started_ms: now_ms - 60_000,
        cycles: 4,
        last_evaluation: Some(Duration::from_millis(3)),
        events: 99,
        event_queue_depth: 0,
        event_queue_capacity: 256,
        sources: vec![SourceState {
            name: "kafka[live]".into(),
            has_read: true,
        }],
        reads: vec![ReadRow {
            source: "kafka[live]".into(),
            cluster: "live".into(),
            reads: ClusterReads {
                reads: 4,
                failures: 1,
                last_duration: Some(Duration::from_millis(120)),
                last_success_ms: Some(now_ms - 1_000),
                last_error: None,
            },
        }],
        sinks: vec![OutputStats {
            name: "otel".into(),
            records: 12,
            queue_capacity: 8,
            ..OutputStats::default()
        }],
        alerters: Vec::new(),
        state_save_failures: 0,
        ownership: Vec::new(),
    }
}

/// `/metrics` samples (Prometheus text, native set) keyed by name and sorted labels.
type Samples = BTreeMap<(String, Vec<(String, String)>), f64>;

fn scrape(snapshot: &Snapshot, stats: &RuntimeStats) -> Samples {
    let text = lagwatch_metrics::encode(
        snapshot,
        Some(stats.clone()),
        Arc::new(MetricsSettings::default()),
        Format::PrometheusText,
    )
    .unwrap();
    let mut out = Samples::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        // The sample's label values have no commas or quotes inside.
        let mut pairs: Vec<(String, String)> = labels
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_owned(), v.trim_matches('"').to_owned())
            })
            .collect();
        pairs.sort();
        out.insert((name.to_owned(), pairs), value.parse().unwrap());
    }
    out
}

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * a.abs().max(1.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_push_to_telegraf_equals_the_metrics_endpoint() {
    // Fails (never skips) without the harness's Telegraf.
    let _ = env::telegraf();
    let addr = net::free_addr().unwrap();
    let inputs = format!(
        "[[inputs.opentelemetry]]\n  service_address = \"{addr}\"\n  metrics_schema = \"prometheus-v1\"\n"
    );
    let mut telegraf = Telegraf::start(&inputs).await.unwrap();
    net::wait_listening(addr, Duration::from_secs(30))
        .await
        .unwrap();

    let now = wall_clock_ms();
    let snapshot = sample::snapshot_at(now, 1);
    let stats = stats(now);
    let mut config = OtlpSinkConfig::new(format!("http://{addr}"));
    config.protocol = OtlpProtocol::Grpc;
    config.instance = "receiver-test".into();
    let sink = OtlpSink::from_config("otel", &config)
        .unwrap()
        .with_stats(Arc::new(FixedStats(stats.clone())));
    let ack = sink.write(&snapshot).await.unwrap();

    let expected = scrape(&snapshot, &stats);
    assert_eq!(
        ack.records,
        expected.len(),
        "one data point per /metrics sample"
    );
    let metrics = telegraf
        .wait_for(|m| m.len() >= expected.len(), Duration::from_secs(30))
        .await
        .unwrap();

    // Resource and scope attributes become tags too; the data point's own are the labels.
    let resource_tag =
        |k: &str| k.starts_with("service.") || k == "kafka.cluster.name" || k.starts_with("otel.");
    let mut seen = BTreeMap::new();
    for m in &metrics {
        let value = m
            .float("gauge")
            .or_else(|| m.float("counter"))
            .or_else(|| m.int("gauge").map(|v| v as f64))
            .or_else(|| m.int("counter").map(|v| v as f64))
            .unwrap_or_else(|| panic!("no gauge or counter field in {m:?}"));
        let mut labels: Vec<(String, String)> = m
            .tags
            .iter()
            .filter(|(k, _)| !resource_tag(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels.sort();
        let key = (m.name.clone(), labels);
        let want = expected
            .get(&key)
            .unwrap_or_else(|| panic!("Telegraf wrote {key:?} = {value}, which /metrics lacks"));
        assert!(same(*want, value), "{key:?}: /metrics {want}, OTLP {value}");
        if let Some(cluster) = key.1.iter().find(|(k, _)| k == "cluster") {
            if lagwatch_metrics::is_cluster_scoped(&family_of(&m.name)) {
                assert_eq!(
                    m.tag("kafka.cluster.name"),
                    Some(cluster.1.as_str()),
                    "{m:?}"
                );
            }
        }
        assert_eq!(m.tag("service.name"), Some("lagwatch"), "{m:?}");
        assert_eq!(m.tag("service.instance.id"), Some("receiver-test"), "{m:?}");
        seen.insert(key, value);
    }
    let missing: Vec<_> = expected.keys().filter(|k| !seen.contains_key(*k)).collect();
    assert!(missing.is_empty(), "not received by Telegraf: {missing:?}");
}

/// A family with just the name, enough for [`lagwatch_metrics::is_cluster_scoped`].
fn family_of(name: &str) -> lagwatch_metrics::Family {
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    lagwatch_metrics::Family {
        name: leaked,
        help: "",
        kind: lagwatch_metrics::MetricKind::Gauge,
        unit: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn http_push_to_prometheus_answers_promql() {
    // Fails (never skips) without the harness's Prometheus.
    let _ = env::prometheus();
    let prometheus = Prometheus::start(PromConfig {
        targets: Vec::new(),
        otlp_receiver: true,
    })
    .await
    .unwrap();

    let now = wall_clock_ms();
    let snapshot = sample::snapshot_at(now, 1);
    let stats = stats(now);
    let mut config = OtlpSinkConfig::new(prometheus.otlp_url());
    config.protocol = OtlpProtocol::Http;
    config.instance = "receiver-test".into();
    let sink = OtlpSink::from_config("otel", &config)
        .unwrap()
        .with_stats(Arc::new(FixedStats(stats.clone())));
    sink.write(&snapshot).await.unwrap();
    let expected = scrape(&snapshot, &stats);

    for (name, group) in [
        ("lagwatch_group_total_lag_messages", "billing"),
        ("lagwatch_group_max_lag_messages", "hdfs_consumer"),
        ("lagwatch_group_status", "billing"),
    ] {
        let want = expected
            .iter()
            .find(|((n, labels), _)| {
                n == name && labels.iter().any(|(k, v)| k == "group" && v == group)
            })
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("/metrics has no {name} for {group}"));
        let query = format!("{name}{{cluster=\"live\",group=\"{group}\"}}");
        let rows = prometheus
            .wait_for_query(&query, |rows| rows.len() == 1, Duration::from_secs(30))
            .await
            .unwrap_or_else(|e| panic!("{e:#}\n--- Prometheus log:\n{}", prometheus.log()));
        assert!(
            same(rows[0].1, want),
            "{query}: Prometheus {}, /metrics {want}",
            rows[0].1
        );
        // service.name and service.instance.id become job and instance.
        assert_eq!(rows[0].0.get("job").map(String::as_str), Some("lagwatch"));
        assert_eq!(
            rows[0].0.get("instance").map(String::as_str),
            Some("receiver-test")
        );
    }
    // A counter arrives as a counter with its name.
    let rows = prometheus
        .wait_for_query(
            "lagwatch_reads_total{cluster=\"live\"}",
            |rows| rows.len() == 1,
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(rows[0].1, 4.0);
}
