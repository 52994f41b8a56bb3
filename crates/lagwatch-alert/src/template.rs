//! Template variables of webhook bodies and the preset bodies.
//!
//! Every body template sees these variables (documented in docs/alerting.md):
//! `rule`, `state`, `severity`, `incident_id`, `idempotency_key`, `labels`, `alert_labels` (`labels` plus
//! `alertname` and `severity`), `cluster`, `group`, `value`,
//! `threshold`, `summary`, `started_at`, `at` (RFC 3339), `started_at_ms`, `at_ms`,
//! `reminder`, `group_status`, `total_lag`, `max_lag`, `partitions` (each with `topic`,
//! `partition`, `lag`, `value`, `status`), `receiver` (the alerter's name), and Burrow's HTTP
//! notifier names `Cluster`, `Group`, `ID`, `Start`, `Extras` and `Result` (with `Status`,
//! `TotalLag`, `Maxlag`, `TotalPartitions` and `Partitions`, each with `Topic`, `Partition`,
//! `Status`, `CurrentLag`).

use lagwatch_core::TimestampMs;
use lagwatch_core::alert::{AlertNotification, AlertState};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// RFC 3339 text of a millisecond timestamp (`1970-01-01T00:00:00Z` when out of range).
pub(crate) fn rfc3339(ms: TimestampMs) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// The variables of a body template.
pub(crate) fn variables(n: &AlertNotification, receiver: &str) -> Value {
    let partitions: Vec<Value> = n
        .partitions
        .iter()
        .map(|p| {
            json!({
                "topic": p.topic, "partition": p.partition, "lag": p.lag,
                "value": p.value, "status": p.status.as_str(),
            })
        })
        .collect();
    let burrow_partitions: Vec<Value> = n
        .partitions
        .iter()
        .map(|p| {
            json!({
                "Topic": p.topic, "Partition": p.partition, "Status": p.status.as_str(),
                "CurrentLag": p.lag,
            })
        })
        .collect();
    let status = n.group_status.map(|s| s.as_str()).unwrap_or("");
    let mut alert_labels = n.labels.clone();
    alert_labels.insert("alertname".to_owned(), n.rule.clone());
    alert_labels.insert("severity".to_owned(), n.severity.to_string());
    json!({
        "rule": n.rule,
        "state": n.state.to_string(),
        "severity": n.severity.to_string(),
        "incident_id": n.incident_id,
        "idempotency_key": n.idempotency_key,
        "labels": n.labels,
        "alert_labels": alert_labels,
        "cluster": n.cluster(),
        "group": n.group(),
        "value": n.value,
        "threshold": n.threshold,
        "summary": n.summary,
        "started_at": rfc3339(n.started_at_ms),
        "at": rfc3339(n.at_ms),
        "started_at_ms": n.started_at_ms,
        "at_ms": n.at_ms,
        "reminder": n.reminder,
        "group_status": status,
        "total_lag": n.total_lag,
        "max_lag": n.max_lag,
        "partitions": partitions,
        "receiver": receiver,
        "Cluster": n.cluster(),
        "Group": n.group(),
        "ID": n.incident_id,
        "Start": rfc3339(n.started_at_ms),
        "Extras": {},
        "Result": {
            "Cluster": n.cluster(),
            "Group": n.group(),
            "Status": status,
            "TotalLag": n.total_lag.unwrap_or(0),
            "Maxlag": n.max_lag.unwrap_or(0),
            "TotalPartitions": n.partitions.len(),
            "Partitions": burrow_partitions,
        },
    })
}

/// `json` preset: the variables themselves, minus Burrow's names.
pub(crate) const JSON_PRESET: &str = r#"{
  "rule": {{ rule|tojson }},
  "state": {{ state|tojson }},
  "severity": {{ severity|tojson }},
  "incident_id": {{ incident_id|tojson }},
  "idempotency_key": {{ idempotency_key|tojson }},
  "labels": {{ labels|tojson }},
  "value": {{ value|tojson }},
  "threshold": {{ threshold|tojson }},
  "summary": {{ summary|tojson }},
  "started_at": {{ started_at|tojson }},
  "at": {{ at|tojson }},
  "started_at_ms": {{ started_at_ms|tojson }},
  "at_ms": {{ at_ms|tojson }},
  "reminder": {{ reminder|tojson }},
  "group_status": {{ group_status|tojson }},
  "total_lag": {{ total_lag|tojson }},
  "max_lag": {{ max_lag|tojson }},
  "partitions": {{ partitions|tojson }}
}"#;

/// `burrow` preset: an event like the one Burrow's default HTTP notifier template posts
/// (incident id, severity WARN/ERR from the group status, group, start, partitions), plus the
/// state so a receiver can close the incident.
pub(crate) const BURROW_PRESET: &str = r#"{
  "id": {{ ID|tojson }},
  "state": {{ state|tojson }},
  "event": {
    "severity": {{ ("WARN" if Result.Status == "WARN" else "ERR")|tojson }},
    "cluster": {{ Cluster|tojson }},
    "group": {{ Group|tojson }},
    "start": {{ Start|tojson }},
    "status": {{ Result.Status|tojson }},
    "totallag": {{ Result.TotalLag|tojson }},
    "partitions": {{ Result.Partitions|tojson }}
  }
}"#;

/// `alertmanager` preset: Alertmanager's webhook JSON, version 4, one alert per message.
pub(crate) const ALERTMANAGER_PRESET: &str = r#"{
  "version": "4",
  "groupKey": {{ ("{}:{rule=" ~ rule ~ ",group=" ~ group ~ "}")|tojson }},
  "truncatedAlerts": 0,
  "status": {{ state|tojson }},
  "receiver": {{ receiver|tojson }},
  "groupLabels": {{ {"alertname": rule, "cluster": cluster, "group": group}|tojson }},
  "commonLabels": {{ alert_labels|tojson }},
  "commonAnnotations": {{ {"summary": summary}|tojson }},
  "externalURL": "",
  "alerts": [
    {
      "status": {{ state|tojson }},
      "labels": {{ alert_labels|tojson }},
      "annotations": {{ {"summary": summary, "value": value|string}|tojson }},
      "startsAt": {{ started_at|tojson }},
      "endsAt": {{ (at if state == "resolved" else "0001-01-01T00:00:00Z")|tojson }},
      "generatorURL": "",
      "fingerprint": {{ incident_id|tojson }}
    }
  ]
}"#;

/// Whether the notification announces a problem (for colours and emojis).
pub(crate) fn is_firing(n: &AlertNotification) -> bool {
    n.state == AlertState::Firing
}
