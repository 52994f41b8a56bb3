//! Smoke tests of the Prometheus and Telegraf helpers against the real binaries of the
//! harness (and, for `inputs.burrow`, the harness's Burrow on Kafka 3.9):
//!
//! ```text
//! scripts/services up prometheus telegraf burrow && eval "$(scripts/services env)"
//! cargo test -p lagwatch-test-support --features services --test helpers_smoke
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failing helper fails the test"
)]

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;
use lagwatch_test_support::services::prometheus::{PromConfig, Prometheus, ScrapeTarget};
use lagwatch_test_support::services::telegraf::{self, Telegraf};
use lagwatch_test_support::services::{burrow, env, kafka, names, net};

const CATCH_UP: Duration = Duration::from_secs(60);

/// A fixed exposition; with `token`, only requests bearing it get it (401 otherwise).
async fn serve_exposition(token: Option<&'static str>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new().route(
        "/custom/metrics",
        get(move |headers: HeaderMap| async move {
            if let Some(token) = token {
                let sent = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok());
                if sent != Some(format!("Bearer {token}").as_str()) {
                    return (StatusCode::UNAUTHORIZED, String::new());
                }
            }
            (
                StatusCode::OK,
                "# HELP smoke_lag A fixed value.\n# TYPE smoke_lag gauge\n\
                 smoke_lag{group=\"g1\",topic=\"t\"} 42\nsmoke_lag{group=\"g2\",topic=\"t\"} 7.5\n"
                    .to_owned(),
            )
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr.to_string()
}

#[tokio::test]
async fn prometheus_scrapes_a_fixed_exposition_and_answers_promql() {
    let address = serve_exposition(Some("smoke-token")).await;
    let prometheus = Prometheus::start(PromConfig {
        targets: vec![
            ScrapeTarget::new(address)
                .path("/custom/metrics")
                .bearer_token("smoke-token"),
        ],
        otlp_receiver: true,
    })
    .await
    .unwrap();
    let rows = prometheus
        .wait_for_query("smoke_lag", |rows| rows.len() == 2, CATCH_UP)
        .await
        .unwrap();
    let mut values: Vec<(String, f64)> = rows
        .iter()
        .map(|(labels, value)| (labels["group"].clone(), *value))
        .collect();
    values.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        values,
        vec![("g1".to_owned(), 42.0), ("g2".to_owned(), 7.5)]
    );
    assert_eq!(rows[0].0["job"], "target0");
    let sum = prometheus.query("sum(smoke_lag)").await.unwrap();
    assert_eq!(sum.len(), 1);
    assert_eq!(sum[0].1, 49.5);
    let up = prometheus.query("up").await.unwrap();
    assert_eq!(up[0].1, 1.0, "the bearer token reached the target");

    // The OTLP receiver is on: a POST with an empty protobuf request is accepted.
    let response = reqwest::Client::new()
        .post(prometheus.otlp_url())
        .header("content-type", "application/x-protobuf")
        .body(Vec::new())
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "OTLP receiver answered {}",
        response.status()
    );

    let err = prometheus.query("sum(").await.unwrap_err();
    assert!(format!("{err:#}").contains("sum("), "{err:#}");
}

#[tokio::test]
async fn telegraf_reads_the_harness_burrow_once() {
    let endpoint = env::burrow();
    let broker = env::kafka_legacy();
    let topic = names::topic("tg-burrow");
    let group = names::group("tg-burrow");
    kafka::create_topic(&broker, &topic, 2).await.unwrap();
    kafka::produce(&broker, &topic, Some(0), 5).await.unwrap();
    kafka::produce(&broker, &topic, Some(1), 3).await.unwrap();
    burrow::wait_for_topic_offsets(&endpoint, &topic, &[5, 3], CATCH_UP)
        .await
        .unwrap();
    kafka::commit_offsets(
        &broker,
        &group,
        &[(topic.as_str(), 0, 2), (topic.as_str(), 1, 3)],
    )
    .await
    .unwrap();
    burrow::wait_for_total_lag(&endpoint, &group, 3, CATCH_UP)
        .await
        .unwrap();

    let inputs = format!(
        "[[inputs.burrow]]\n  servers = [\"{}\"]\n  groups_include = [\"{group}\"]\n  topics_include = [\"{topic}\"]\n",
        endpoint.url
    );
    let metrics = telegraf::gather_once(&inputs).await.unwrap();
    let group_row = metrics
        .iter()
        .find(|m| m.name == "burrow_group" && m.tag("group") == Some(group.as_str()))
        .unwrap_or_else(|| panic!("no burrow_group for {group} in {metrics:#?}"));
    assert_eq!(group_row.tag("cluster"), Some(endpoint.cluster.as_str()));
    assert_eq!(group_row.int("total_lag"), Some(3));
    assert_eq!(group_row.int("offset"), Some(5));
    assert!(group_row.tag("host").is_none(), "omit_hostname is set");
    let partitions: Vec<_> = metrics
        .iter()
        .filter(|m| m.name == "burrow_partition" && m.tag("group") == Some(group.as_str()))
        .collect();
    assert_eq!(partitions.len(), 2, "{metrics:#?}");
    let lag_of = |p: &str| {
        partitions
            .iter()
            .find(|m| m.tag("partition") == Some(p))
            .and_then(|m| m.int("lag"))
    };
    assert_eq!((lag_of("0"), lag_of("1")), (Some(3), Some(0)));
    let mut topic_rows: Vec<(String, i64)> = metrics
        .iter()
        .filter(|m| m.name == "burrow_topic" && m.tag("topic") == Some(topic.as_str()))
        .map(|m| {
            (
                m.tag("partition").unwrap().to_owned(),
                m.int("offset").unwrap(),
            )
        })
        .collect();
    topic_rows.sort();
    assert_eq!(topic_rows, vec![("0".to_owned(), 5), ("1".to_owned(), 3)]);

    // A second gather of the same data has the same series, fields, types and values.
    let again = telegraf::gather_once(&inputs).await.unwrap();
    let differences =
        telegraf::compare_gathers(&again, &metrics, &["lag", "offset", "total_lag", "status"]);
    assert!(differences.is_empty(), "{differences:#?}");

    // An unreachable server is an error line, not a failure, in the report form.
    let dead = net::free_addr().unwrap();
    let report = telegraf::gather_once_report(&format!(
        "[[inputs.burrow]]\n  servers = [\"http://{dead}\"]\n"
    ))
    .await
    .unwrap();
    assert!(report.metrics.is_empty(), "{:?}", report.metrics);
    assert!(!report.errors.is_empty(), "{}", report.log);
    let err = telegraf::gather_once(&format!(
        "[[inputs.burrow]]\n  servers = [\"http://{dead}\"]\n"
    ))
    .await
    .unwrap_err();
    assert!(format!("{err:#}").contains("telegraf.conf"), "{err:#}");
}

#[tokio::test]
async fn telegraf_opentelemetry_input_starts_and_listens() {
    let addr = net::free_addr().unwrap();
    let agent = Telegraf::start(&format!(
        "[[inputs.opentelemetry]]\n  service_address = \"{addr}\"\n"
    ))
    .await
    .unwrap();
    net::wait_listening(addr, CATCH_UP).await.unwrap();
    assert!(agent.metrics().unwrap().is_empty());
    drop(agent);

    // A long-running agent's output is read back while it runs.
    let mut agent = Telegraf::start("[[inputs.mem]]\n").await.unwrap();
    let metrics = agent
        .wait_for(|m| m.iter().any(|m| m.name == "mem"), CATCH_UP)
        .await
        .unwrap();
    assert!(metrics[0].int("total").unwrap_or_default() > 0);
    drop(agent);

    // A configuration Telegraf refuses fails at start, naming the file.
    let err = Telegraf::start("[[inputs.no_such_input]]\n")
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("telegraf.conf"), "{err:#}");
}
