//! The HTTP alerters against a real local HTTP server (127.0.0.1).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_alert::{Backoff, LogAlerter, SlackAlerter, WebhookAlerter};
use lagwatch_component::FromConfig;
use lagwatch_component::{Alerter, ErrorClass};
use lagwatch_config::{LogAlerterConfig, SlackAlerterConfig, WebhookAlerterConfig, WebhookPreset};
use lagwatch_core::alert::{AlertState, PartitionDetail};
use lagwatch_core::secret::Secret;
use lagwatch_core::{GroupStatus, PartitionStatus};
use lagwatch_test_support::conformance::alerter::{check_alerter, sample_notifications};
use lagwatch_test_support::services::http::{Receiver, Reply};
use std::time::Duration;

/// The secret part of the test webhook URLs; it must never show up in an error.
const SECRET_PATH: &str = "/services/T000/B000/s3cr3t-t0ken";
const AT_MS: i64 = 1_700_000_000_000;
const WAIT: Duration = Duration::from_secs(20);

fn quick() -> Backoff {
    Backoff {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(200),
    }
}

fn slack(receiver: &Receiver) -> SlackAlerter {
    let mut cfg = SlackAlerterConfig::new(format!("{}{SECRET_PATH}", receiver.url()));
    cfg.min_interval = Duration::ZERO;
    cfg.dashboard_url = "https://grafana.example/d/lag?var-group={group}".to_owned();
    SlackAlerter::from_config("ops", &cfg)
        .unwrap()
        .with_backoff(quick())
}

fn webhook(receiver: &Receiver, preset: WebhookPreset) -> WebhookAlerter {
    let mut cfg = WebhookAlerterConfig::new(format!("{}{SECRET_PATH}", receiver.url()));
    cfg.preset = preset;
    WebhookAlerter::from_config("hook", &cfg)
        .unwrap()
        .with_backoff(quick())
}

fn rich_firing() -> lagwatch_core::alert::AlertNotification {
    let [mut n, _] = sample_notifications(AT_MS);
    n.group_status = Some(GroupStatus::Warn);
    n.total_lag = Some(104);
    n.max_lag = Some(54);
    n.partitions = vec![PartitionDetail {
        topic: "payment_log".to_owned(),
        partition: 0,
        lag: 54,
        value: 54.0,
        status: PartitionStatus::Warn,
    }];
    n
}

#[tokio::test]
async fn every_alerter_passes_the_conformance_checks() {
    let receiver = Receiver::start().await.unwrap();
    check_alerter(&slack(&receiver), AT_MS)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for preset in [
        WebhookPreset::Json,
        WebhookPreset::Burrow,
        WebhookPreset::Alertmanager,
    ] {
        check_alerter(&webhook(&receiver, preset), AT_MS)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    check_alerter(
        &LogAlerter::from_config("console", &LogAlerterConfig::default()).unwrap(),
        AT_MS,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let requests = receiver.wait_for_requests(8, WAIT).await.unwrap();
    assert_eq!(requests.len(), 8);
    for r in &requests {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, SECRET_PATH);
        assert_eq!(r.header("content-type"), Some("application/json"));
        r.body_json().unwrap();
    }
}

#[tokio::test]
async fn slack_message_has_blocks_and_a_text_fallback_for_firing_and_resolved() {
    let receiver = Receiver::start().await.unwrap();
    let alerter = slack(&receiver);
    let firing = rich_firing();
    let mut resolved = firing.clone();
    resolved.state = AlertState::Resolved;
    resolved.at_ms = AT_MS + 120_000;
    alerter.deliver(&firing).await.unwrap();
    alerter.deliver(&resolved).await.unwrap();
    let requests = receiver.wait_for_requests(2, WAIT).await.unwrap();
    let body = requests[0].body_json().unwrap();
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with("[FIRING] average-lag-above-10: live/hdfs_consumer "),
        "{text}"
    );
    for part in [
        "status WARN",
        "total lag 104",
        "max lag 54",
        "payment_log/0 lag 54",
        "https://grafana.example/d/lag?var-group=hdfs_consumer",
    ] {
        assert!(text.contains(part), "{part:?} missing from {text:?}");
    }
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["text"], "FIRING: average-lag-above-10");
    let fields: Vec<&str> = blocks[1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "*Cluster*\nlive",
            "*Group*\nhdfs_consumer",
            "*Status*\nWARN",
            "*Severity*\nwarning",
            "*Total lag*\n104",
            "*Max lag*\n54",
            "*Rule*\naverage-lag-above-10",
            "*Value*\n54 (threshold 10)",
        ]
    );
    assert!(
        blocks[2]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("`payment_log` / 0: lag 54")
    );
    let context = blocks[3]["elements"][0]["text"].as_str().unwrap();
    assert!(context.contains("|Dashboard>"), "{context}");

    let body = requests[1].body_json().unwrap();
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .starts_with("[RESOLVED] average-lag-above-10: live/hdfs_consumer")
    );
    assert_eq!(
        body["blocks"][0]["text"]["text"],
        "RESOLVED: average-lag-above-10"
    );
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after() {
    let receiver = Receiver::start().await.unwrap();
    receiver.push(
        Reply::status(429)
            .header("Retry-After", "1")
            .body("rate_limited"),
    );
    let alerter = slack(&receiver);
    let delivery = alerter.deliver(&rich_firing()).await.unwrap();
    assert_eq!(delivery.attempts, 2);
    let requests = receiver.wait_for_requests(2, WAIT).await.unwrap();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].received_instant - requests[0].received_instant;
    assert!(gap >= Duration::from_secs(1), "retried after {gap:?}");
    assert_eq!(requests[0].body, requests[1].body);
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_until_delivered() {
    let receiver = Receiver::start().await.unwrap();
    receiver.push(Reply::status(500).body("rollup_error"));
    receiver.push(Reply::status(503));
    let alerter = webhook(&receiver, WebhookPreset::Json);
    let delivery = alerter.deliver(&rich_firing()).await.unwrap();
    assert_eq!(delivery.attempts, 3);
    let requests = receiver.wait_for_requests(3, WAIT).await.unwrap();
    assert_eq!(requests.len(), 3);
    // Backoff 50 ms, then 100 ms.
    assert!(
        requests[1].received_instant - requests[0].received_instant >= Duration::from_millis(50)
    );
    assert!(
        requests[2].received_instant - requests[1].received_instant >= Duration::from_millis(100)
    );
}

#[tokio::test]
async fn permanent_errors_are_not_retried_and_name_the_reason_not_the_url() {
    for (status, body) in [
        (404, "no_service"),
        (400, "invalid_payload"),
        (403, "invalid_token"),
        (410, "channel_is_archived"),
    ] {
        let receiver = Receiver::start().await.unwrap();
        receiver.push(Reply::status(status).body(body));
        let err = slack(&receiver).deliver(&rich_firing()).await.unwrap_err();
        assert_eq!(err.class, ErrorClass::Permanent);
        let text = err.to_string();
        assert!(
            text.contains(&status.to_string()) && text.contains(body),
            "{text}"
        );
        assert!(!text.contains("s3cr3t"), "the URL leaked: {text}");
        assert!(text.contains("<redacted>"), "{text}");
        // Give a wrong retry the time to show up.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.requests().len(), 1, "HTTP {status} was retried");
    }
}

#[tokio::test]
async fn retries_are_bounded_and_connection_errors_retried() {
    let receiver = Receiver::start().await.unwrap();
    receiver.set_default(Reply::status(502));
    let mut cfg = WebhookAlerterConfig::new(format!("{}{SECRET_PATH}", receiver.url()));
    cfg.max_retries = 2;
    let alerter = WebhookAlerter::from_config("hook", &cfg)
        .unwrap()
        .with_backoff(quick());
    let err = alerter.deliver(&rich_firing()).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Transient);
    assert_eq!(receiver.requests().len(), 3);
    assert!(err.to_string().contains("after 3 attempts"), "{err}");

    // A port nobody listens on: connection refused, retried, then a transient error.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cfg = WebhookAlerterConfig::new(format!("http://127.0.0.1:{port}{SECRET_PATH}"));
    cfg.max_retries = 1;
    let alerter = WebhookAlerter::from_config("down", &cfg)
        .unwrap()
        .with_backoff(quick());
    let err = alerter.deliver(&rich_firing()).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Transient);
    let text = err.to_string();
    assert!(
        text.contains("after 2 attempts: connection failed"),
        "{text}"
    );
    assert!(!text.contains("s3cr3t"), "the URL leaked: {text}");
}

#[tokio::test]
async fn requests_to_one_destination_are_rate_limited() {
    let receiver = Receiver::start().await.unwrap();
    let mut cfg = SlackAlerterConfig::new(format!("{}{SECRET_PATH}", receiver.url()));
    cfg.min_interval = Duration::from_millis(400);
    let alerter = std::sync::Arc::new(SlackAlerter::from_config("ops", &cfg).unwrap());
    let n = rich_firing();
    let sends: Vec<_> = (0..3)
        .map(|_| {
            let a = alerter.clone();
            let n = n.clone();
            tokio::spawn(async move { a.deliver(&n).await })
        })
        .collect();
    for s in sends {
        s.await.unwrap().unwrap();
    }
    let requests = receiver.wait_for_requests(3, WAIT).await.unwrap();
    for pair in requests.windows(2) {
        let gap = pair[1].received_instant - pair[0].received_instant;
        assert!(gap >= Duration::from_millis(400), "gap {gap:?}");
    }
}

#[tokio::test]
async fn webhook_method_headers_and_template() {
    let receiver = Receiver::start().await.unwrap();
    let mut cfg = WebhookAlerterConfig::new(format!("{}/hook", receiver.url()));
    cfg.method = "PUT".to_owned();
    cfg.headers
        .insert("X-Token".to_owned(), Secret::new("abc".to_owned()));
    cfg.headers.insert(
        "Content-Type".to_owned(),
        Secret::new("text/plain".to_owned()),
    );
    cfg.body = "{{ state }} {{ cluster }}/{{ group }} {{ value }} \
                {% for p in partitions %}{{ p.topic }}:{{ p.partition }}={{ p.lag }}{% endfor %}"
        .to_owned();
    let alerter = WebhookAlerter::from_config("hook", &cfg).unwrap();
    alerter.deliver(&rich_firing()).await.unwrap();
    let r = &receiver.wait_for_requests(1, WAIT).await.unwrap()[0];
    assert_eq!(r.method, "PUT");
    assert_eq!(r.header("x-token"), Some("abc"));
    let content_types: Vec<_> = r
        .headers
        .iter()
        .filter(|(n, _)| n == "content-type")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(content_types, ["text/plain"]);
    assert_eq!(
        r.body_text(),
        "firing live/hdfs_consumer 54.0 payment_log:0=54"
    );
}

#[tokio::test]
async fn presets_produce_alertmanager_and_burrow_bodies() {
    let receiver = Receiver::start().await.unwrap();
    let mut resolved = rich_firing();
    resolved.state = AlertState::Resolved;
    resolved.at_ms = AT_MS + 60_000;
    webhook(&receiver, WebhookPreset::Alertmanager)
        .deliver(&resolved)
        .await
        .unwrap();
    webhook(&receiver, WebhookPreset::Burrow)
        .deliver(&rich_firing())
        .await
        .unwrap();
    let requests = receiver.wait_for_requests(2, WAIT).await.unwrap();
    let am = requests[0].body_json().unwrap();
    assert_eq!(am["version"], "4");
    assert_eq!(am["status"], "resolved");
    assert_eq!(am["receiver"], "webhook[hook]");
    assert_eq!(am["groupLabels"]["alertname"], "average-lag-above-10");
    let alert = &am["alerts"][0];
    assert_eq!(alert["status"], "resolved");
    assert_eq!(alert["labels"]["group"], "hdfs_consumer");
    assert_eq!(alert["labels"]["severity"], "warning");
    assert_eq!(alert["startsAt"], "2023-11-14T22:13:20Z");
    assert_eq!(alert["endsAt"], "2023-11-14T22:14:20Z");
    assert_eq!(alert["fingerprint"], resolved.incident_id.as_str());

    let burrow = requests[1].body_json().unwrap();
    assert_eq!(burrow["id"], resolved.incident_id.as_str());
    assert_eq!(burrow["event"]["severity"], "WARN");
    assert_eq!(burrow["event"]["cluster"], "live");
    assert_eq!(burrow["event"]["group"], "hdfs_consumer");
    assert_eq!(burrow["event"]["totallag"], 104);
    assert_eq!(burrow["event"]["partitions"][0]["Topic"], "payment_log");
    assert_eq!(burrow["event"]["partitions"][0]["CurrentLag"], 54);
}

#[test]
fn bad_templates_methods_and_urls_are_refused_at_startup() {
    let mut cfg = WebhookAlerterConfig::new("http://127.0.0.1:9/x");
    cfg.body = "{{ unclosed".to_owned();
    let err = WebhookAlerter::from_config("hook", &cfg)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("webhook[hook]: body template:"), "{err}");

    let mut cfg = WebhookAlerterConfig::new("http://127.0.0.1:9/x");
    cfg.method = "P O S T".to_owned();
    let err = WebhookAlerter::from_config("hook", &cfg)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "webhook[hook]: method: \"P O S T\" is not an HTTP method"
    );

    let cfg = SlackAlerterConfig::new("ftp://hooks.example/services/secret");
    let err = SlackAlerter::from_config("ops", &cfg)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "slack[ops]: url: scheme must be http or https: ftp://hooks.example/<redacted>"
    );
}

/// The example body template of docs/alerting.md renders as documented.
#[tokio::test]
async fn documented_template_example_works() {
    let receiver = Receiver::start().await.unwrap();
    let mut cfg = WebhookAlerterConfig::new(format!("{}/hook", receiver.url()));
    cfg.method = "PUT".to_owned();
    cfg.body = r#"{"text": {{ ("[" ~ state ~ "] " ~ group ~ ": " ~ summary)|tojson }}}"#.to_owned();
    WebhookAlerter::from_config("pager", &cfg)
        .unwrap()
        .deliver(&rich_firing())
        .await
        .unwrap();
    let r = &receiver.wait_for_requests(1, WAIT).await.unwrap()[0];
    assert_eq!(
        r.body_json().unwrap(),
        serde_json::json!({
            "text": "[firing] hdfs_consumer: average lag over the last 60s is 54 (above 10)"
        })
    );
}
