//! End to end on the harness Kafka 4.4: a real consumer group is watched by the Kafka source
//! (Admin API polling) with a `status` rule at ERR delivering to a local webhook receiver.
//! Stopping the consumer while messages keep arriving turns the group ERR (its partitions
//! STOP) and the rule fires once; starting a consumer again resolves the alert once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_lib::alert::{RuleSet, WebhookAlerter};
use lagwatch_lib::component::FromConfig;
use lagwatch_lib::config::kafka::KafkaMode;
use lagwatch_lib::config::{
    KafkaSourceConfig, RuleConfig, StatusLevel, StatusRuleConfig, WebhookAlerterConfig,
};
use lagwatch_lib::runtime::{CancellationToken, Pipeline};
use lagwatch_lib::sources::kafka::KafkaSource;
use lagwatch_test_support::services::http::Receiver;
use lagwatch_test_support::services::kafka::{self, Protocol, RunningConsumer};
use lagwatch_test_support::services::{env, names};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Notifications about `group` the receiver got: (state, group status).
fn notifications(receiver: &Receiver, group: &str) -> Vec<(String, String)> {
    receiver
        .requests()
        .iter()
        .filter_map(|r| r.body_json().ok())
        .filter(|b: &Value| b["labels"]["group"] == group)
        .map(|b| {
            (
                b["state"].as_str().unwrap_or_default().to_owned(),
                b["group_status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn wait_for(receiver: &Receiver, group: &str, n: usize, what: &str) -> Vec<(String, String)> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let seen = notifications(receiver, group);
        if seen.len() >= n {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "no {what}; notifications so far: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stopping_a_consumer_fires_the_status_rule_and_restarting_it_resolves() {
    let bootstrap = env::kafka().bootstrap;
    let topic = names::unique("lw-e2e-stop");
    let group = names::unique("lw-e2e-stop");
    kafka::create_topic(bootstrap.as_str(), &topic, 2)
        .await
        .unwrap();
    let consumer = RunningConsumer::start(
        bootstrap.as_str(),
        &group,
        &[&topic],
        Protocol::Classic,
        "e2e-1",
    )
    .unwrap();
    consumer
        .wait_for_assignment(Duration::from_secs(60))
        .await
        .unwrap();

    // Messages keep arriving the whole time.
    let producer = kafka::Trickle::start(&bootstrap, &topic, 2, Duration::from_millis(300));

    let receiver = Receiver::start().await.unwrap();
    let mut source = KafkaSourceConfig::new("live", bootstrap.as_str());
    source.mode = KafkaMode::Admin;
    source.offset_refresh = Duration::from_secs(1);
    source.group_allowlist = format!("^{group}$");
    let rule = RuleConfig::Status(StatusRuleConfig {
        status: StatusLevel::Err,
        interval: Duration::from_secs(1),
        ..StatusRuleConfig::default()
    });
    let pipeline = Pipeline::builder()
        .evaluation_interval(Duration::from_secs(1))
        .source(Box::new(KafkaSource::from_config("live", &source).unwrap()))
        .rules(Box::new(
            RuleSet::from_config(&BTreeMap::from([("stopped".to_owned(), rule)])).unwrap(),
        ))
        .alerter(Box::new(
            WebhookAlerter::from_config("hook", &WebhookAlerterConfig::new(receiver.url()))
                .unwrap(),
        ))
        .build();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(pipeline.run(shutdown.clone()));

    // A healthy consumer: nothing fires.
    tokio::time::sleep(Duration::from_secs(15)).await;
    assert_eq!(notifications(&receiver, &group), vec![]);

    // The consumer stops; its commits stop while the log keeps growing.
    consumer.stop().await.unwrap();
    let fired = wait_for(&receiver, &group, 1, "firing notification").await;
    assert_eq!(fired, vec![("firing".to_owned(), "ERR".to_owned())]);

    // A consumer of the group comes back and catches up: one resolved notification.
    let again = RunningConsumer::start(
        bootstrap.as_str(),
        &group,
        &[&topic],
        Protocol::Classic,
        "e2e-2",
    )
    .unwrap();
    let both = wait_for(&receiver, &group, 2, "resolved notification").await;
    assert_eq!(both[1].0, "resolved", "{both:?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(notifications(&receiver, &group).len(), 2);

    shutdown.cancel();
    running.await.unwrap().unwrap();
    producer.stop().await.unwrap();
    again.stop().await.unwrap();
}
