//! The Slack incoming-webhook alerter.

use crate::delivery::{self, HttpTarget};
use crate::error::AlertError;
use crate::rule::number;
use crate::template::{is_firing, rfc3339};
use async_trait::async_trait;
use lagwatch_component::{Alerter, ComponentError, Delivery};
use lagwatch_config::SlackAlerterConfig;
use lagwatch_core::alert::{AlertNotification, AlertState, PartitionDetail, Severity};
use lagwatch_core::status::{GroupStatus, PartitionStatus};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Slack refuses section texts longer than this.
const SECTION_TEXT_MAX: usize = 3000;

/// Posts every notification to a Slack incoming webhook: Block Kit blocks (header, cluster,
/// group, status, total and max lag, rule and value, worst partitions, dashboard link) plus a
/// plain-text `text` fallback for notifications and old clients. Resolved alerts get their
/// own message.
#[derive(Debug)]
pub struct SlackAlerter {
    name: String,
    target: HttpTarget,
    dashboard_url: String,
}

impl SlackAlerter {
    /// Builds the alerter named `name` (the key of its `[alerters.<name>]` section).
    ///
    /// # Errors
    /// [`AlertError::Alerter`] for an invalid URL or HTTP client setting.
    pub fn new(name: &str, config: &SlackAlerterConfig) -> Result<SlackAlerter, AlertError> {
        let fail = |message: String| AlertError::Alerter {
            alerter: name.to_owned(),
            message,
        };
        let component = format!("slack[{name}]");
        let target = HttpTarget::new(
            component.clone(),
            delivery::client(config.timeout).map_err(fail)?,
            config.url.clone(),
            Method::POST,
            reqwest::header::HeaderMap::new(),
            config.max_retries,
            config.min_interval,
        )
        .map_err(fail)?;
        Ok(SlackAlerter {
            name: component,
            target,
            dashboard_url: config.dashboard_url.clone(),
        })
    }

    /// Replaces the retry backoff (tests use short waits).
    pub fn with_backoff(mut self, backoff: crate::Backoff) -> Self {
        self.target.backoff = backoff;
        self
    }

    /// The dashboard link for a notification, when configured.
    fn dashboard(&self, n: &AlertNotification) -> Option<String> {
        (!self.dashboard_url.is_empty()).then(|| {
            self.dashboard_url
                .replace("{cluster}", n.cluster())
                .replace("{group}", n.group())
        })
    }

    /// The JSON message for `n`.
    pub fn message(&self, n: &AlertNotification) -> Value {
        let firing = is_firing(n);
        let state = match (n.state, n.reminder) {
            (AlertState::Firing, false) => "FIRING",
            (AlertState::Firing, true) => "STILL FIRING",
            (AlertState::Resolved, _) => "RESOLVED",
        };
        let icon = if firing {
            ":rotating_light:"
        } else {
            ":white_check_mark:"
        };
        let status = n.group_status.map_or("unknown", |s| s.as_str());
        let total = n.total_lag.map_or("unknown".to_owned(), |v| v.to_string());
        let max = n.max_lag.map_or("unknown".to_owned(), |v| v.to_string());
        let value = match n.threshold {
            Some(t) => format!("{} (threshold {})", number(n.value), number(t)),
            None => number(n.value),
        };
        let dashboard = self.dashboard(n);

        let mut text = format!(
            "[{state}] {}: {}/{} {} (status {status}, total lag {total}, max lag {max})",
            n.rule,
            n.cluster(),
            n.group(),
            n.summary
        );
        if !n.partitions.is_empty() {
            let worst: Vec<String> = n
                .partitions
                .iter()
                .map(|p| format!("{}/{} lag {}", p.topic, p.partition, p.lag))
                .collect();
            text.push_str(&format!("; worst: {}", worst.join(", ")));
        }
        if let Some(url) = &dashboard {
            text.push_str(&format!(" {url}"));
        }

        let field = |title: &str, value: &str| json!({"type": "mrkdwn", "text": format!("*{title}*\n{}", escape(value))});
        let mut blocks = vec![
            json!({
                "type": "header",
                "text": {"type": "plain_text", "text": cut(&format!("{state}: {}", n.rule), 150)},
            }),
            json!({
                "type": "section",
                "text": {"type": "mrkdwn", "text": cut(&format!("{icon} {}", escape(&n.summary)), SECTION_TEXT_MAX)},
                "fields": [
                    field("Cluster", n.cluster()),
                    field("Group", n.group()),
                    field("Status", status),
                    field("Severity", &n.severity.to_string()),
                    field("Total lag", &total),
                    field("Max lag", &max),
                    field("Rule", &n.rule),
                    field("Value", &value),
                ],
            }),
        ];
        if !n.partitions.is_empty() {
            let mut lines = vec!["*Worst partitions*".to_owned()];
            for p in &n.partitions {
                lines.push(format!(
                    "• `{}` / {}: lag {} ({}, value {})",
                    escape(&p.topic),
                    p.partition,
                    p.lag,
                    p.status,
                    number(p.value)
                ));
            }
            blocks.push(json!({
                "type": "section",
                "text": {"type": "mrkdwn", "text": cut(&lines.join("\n"), SECTION_TEXT_MAX)},
            }));
        }
        let mut context = format!(
            "incident `{}` · started {}",
            n.incident_id,
            rfc3339(n.started_at_ms)
        );
        if n.state == AlertState::Resolved {
            context.push_str(&format!(" · resolved {}", rfc3339(n.at_ms)));
        }
        if let Some(url) = &dashboard {
            context.push_str(&format!(" · <{url}|Dashboard>"));
        }
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]}));
        json!({"text": text, "blocks": blocks})
    }
}

/// Escapes the three characters Slack's mrkdwn treats specially.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// At most `max` characters.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut t: String = text.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A firing and a resolved sample notification, used to check templates at startup.
pub(crate) fn samples() -> [AlertNotification; 2] {
    let labels = BTreeMap::from([
        ("cluster".to_owned(), "live".to_owned()),
        ("group".to_owned(), "hdfs_consumer".to_owned()),
    ]);
    let mut firing = AlertNotification::new(
        "sample",
        AlertState::Firing,
        Severity::Warning,
        labels.clone(),
        54.0,
        Some(10.0),
        "avg partition lag over 1m is 54 (> 10) on 1 partition",
        0,
        0,
    );
    firing.group_status = Some(GroupStatus::Warn);
    firing.total_lag = Some(54);
    firing.max_lag = Some(54);
    firing.partitions = vec![PartitionDetail {
        topic: "payment_log".to_owned(),
        partition: 0,
        lag: 54,
        value: 54.0,
        status: PartitionStatus::Warn,
    }];
    let mut resolved = firing.clone();
    resolved.state = AlertState::Resolved;
    resolved.partitions.clear();
    resolved.at_ms = 60_000;
    [firing, resolved]
}

#[async_trait]
impl Alerter for SlackAlerter {
    fn name(&self) -> &str {
        &self.name
    }

    async fn healthcheck(&self) -> Result<(), ComponentError> {
        // Sending a message is the only way to test an incoming webhook; the URL was
        // checked when the alerter was built.
        tracing::debug!(alerter = %self.name, url = %self.target.shown_url(), "slack alerter ready");
        Ok(())
    }

    async fn deliver(&self, n: &AlertNotification) -> Result<Delivery, ComponentError> {
        let body = serde_json::to_vec(&self.message(n)).map_err(|e| {
            ComponentError::permanent(self.name.clone(), format!("cannot encode message: {e}"))
        })?;
        self.target
            .send(body, "application/json", &n.incident_id, &n.idempotency_key)
            .await
    }
}
