//! deploy/grafana: the provisioning files hold the seed's values (no service needed; the
//! dashboard's queries run against the services in `grafana`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/grafana_files.rs"]
mod grafana_files;

use grafana_files::{dashboard, yaml};
use serde_json::json;

#[test]
fn datasource_is_the_seeds() {
    let ds = &yaml("provisioning/datasources/lagwatch-elasticsearch.yaml")["datasources"][0];
    assert_eq!(ds["type"], "elasticsearch");
    assert_eq!(ds["name"], "burrow-es-data");
    assert_eq!(ds["uid"], "burrow-es-data");
    assert_eq!(ds["access"], "proxy");
    assert_eq!(ds["url"], "${LAGWATCH_ES_URL}");
    assert_eq!(ds["jsonData"]["index"], "[burrow-]YYYY.MM.DD");
    assert_eq!(ds["jsonData"]["interval"], "Daily");
    assert_eq!(ds["jsonData"]["timeField"], "@timestamp");
}

#[test]
fn alert_rule_and_contact_point_are_the_seeds() {
    let a = yaml("provisioning/alerting/lag-alert.yaml");
    let group = &a["groups"][0];
    assert_eq!(group["interval"], "1m");
    let rule = &group["rules"][0];
    assert_eq!(rule["noDataState"], "Alerting");
    assert_eq!(rule["execErrState"], "Alerting");
    assert_eq!(rule["condition"], "C");
    let data = rule["data"].as_array().unwrap();
    let by_ref = |r: &str| data.iter().find(|d| d["refId"] == r).unwrap();
    let query = by_ref("A");
    assert_eq!(query["relativeTimeRange"]["from"], 60);
    assert_eq!(query["relativeTimeRange"]["to"], 0);
    assert_eq!(query["datasourceUid"], "burrow-es-data");
    assert_eq!(
        query["model"]["query"],
        r#"measurement_name:"burrow_partition""#
    );
    assert_eq!(
        query["model"]["metrics"][0]["field"],
        "burrow_partition.lag"
    );
    let fields: Vec<&str> = query["model"]["bucketAggs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "tag.topic.keyword",
            "tag.group.keyword",
            "tag.partition.keyword",
            "@timestamp"
        ]
    );
    let reduce = by_ref("B");
    assert_eq!(reduce["model"]["type"], "reduce");
    assert_eq!(reduce["model"]["reducer"], "mean");
    assert_eq!(reduce["model"]["expression"], "A");
    let threshold = by_ref("C");
    assert_eq!(threshold["model"]["type"], "threshold");
    assert_eq!(threshold["model"]["expression"], "B");
    assert_eq!(
        threshold["model"]["conditions"][0]["evaluator"],
        json!({"type": "gt", "params": [10]})
    );

    let contact = &a["contactPoints"][0];
    assert_eq!(contact["name"], "lag-alert");
    let receiver = &contact["receivers"][0];
    assert_eq!(receiver["type"], "slack");
    assert_eq!(receiver["settings"]["url"], "${LAGWATCH_SLACK_WEBHOOK_URL}");
    assert_eq!(a["policies"][0]["receiver"], "lag-alert");
}

#[test]
fn dashboard_has_the_seed_panel_and_variables() {
    let d = dashboard();
    let seed = d["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["title"] == "groupId, topic lag by partition")
        .unwrap();
    let t = &seed["targets"][0];
    assert!(
        t["query"]
            .as_str()
            .unwrap()
            .starts_with(r#"measurement_name:"burrow_partition""#)
    );
    assert_eq!(
        t["metrics"][0],
        json!({"id": "1", "type": "max", "field": "burrow_partition.lag"})
    );
    let buckets = t["bucketAggs"].as_array().unwrap();
    assert_eq!(buckets[3]["settings"]["interval"], "1m");
    for (b, field) in buckets.iter().zip([
        "tag.topic.keyword",
        "tag.group.keyword",
        "tag.partition.keyword",
    ]) {
        assert_eq!(b["field"], field);
        assert_eq!(b["settings"]["orderBy"], "1");
        assert_eq!(b["settings"]["size"], "10");
    }
    let vars: Vec<&str> = d["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(vars, ["cluster", "group", "topic"]);
    let titles: Vec<&str> = d["panels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "groupId, topic lag by partition",
            "Group status (Telegraf status_code)",
            "Total lag per group",
            "Top 10 lagging partitions"
        ]
    );
}
