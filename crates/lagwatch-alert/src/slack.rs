//! The Slack incoming-webhook alerter.

use crate::delivery::{self, HttpTarget};
use crate::rule::number;
use crate::template::{is_firing, rfc3339};
use async_trait::async_trait;
use lagwatch_component::{Alerter, ComponentError, Delivery, FromConfig};
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

impl FromConfig for SlackAlerter {
    type Config = SlackAlerterConfig;

    /// Builds the alerter `slack[<name>]` (`name` is the key of its `[alerters.<name>]`
    /// section).
    ///
    /// # Errors
    /// A permanent [`ComponentError`] of `slack[<name>]` for an invalid URL or HTTP client
    /// setting.
    fn from_config(
        name: &str,
        config: &SlackAlerterConfig,
    ) -> Result<SlackAlerter, ComponentError> {
        let component = format!("slack[{name}]");
        let fail = |message: String| ComponentError::permanent(component.clone(), message);
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
}

impl SlackAlerter {
    /// Replaces the retry backoff (tests use short waits).
    pub fn with_backoff(mut self, backoff: crate::Backoff) -> Self {
        self.target.backoff = backoff;
        self
    }

    /// The dashboard link for a notification, when configured: cluster and group are
    /// percent-encoded into the URL, so a name cannot end the link or add parameters.
    fn dashboard(&self, n: &AlertNotification) -> Option<String> {
        (!self.dashboard_url.is_empty()).then(|| {
            self.dashboard_url
                .replace("{cluster}", &percent_encode(n.cluster()))
                .replace("{group}", &percent_encode(n.group()))
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

        // Every name from outside is escaped: the fallback text is mrkdwn too.
        let mut text = format!(
            "[{state}] {}: {}/{} {} (status {status}, total lag {total}, max lag {max})",
            escape(&n.rule),
            escape(n.cluster()),
            escape(n.group()),
            escape(&n.summary)
        );
        if !n.partitions.is_empty() {
            let worst: Vec<String> = n
                .partitions
                .iter()
                .map(|p| format!("{}/{} lag {}", escape(&p.topic), p.partition, p.lag))
                .collect();
            text.push_str(&format!("; worst: {}", worst.join(", ")));
        }
        if let Some(url) = &dashboard {
            text.push_str(&format!(" {}", escape(url)));
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
            escape(&n.incident_id),
            rfc3339(n.started_at_ms)
        );
        if n.state == AlertState::Resolved {
            context.push_str(&format!(" · resolved {}", rfc3339(n.at_ms)));
        }
        if let Some(url) = &dashboard {
            context.push_str(&format!(
                " · <{}|Dashboard>",
                escape(&url.replace('|', "%7C"))
            ));
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

/// `text` with every byte but the unreserved URL characters (`A-Z a-z 0-9 - . _ ~`)
/// percent-encoded, for a value put into a URL.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every mrkdwn text of a message (the fallback `text` included).
    fn mrkdwn_texts(message: &Value) -> Vec<String> {
        let mut out = vec![message["text"].as_str().unwrap_or_default().to_owned()];
        fn walk(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(map) => {
                    if map.get("type").and_then(Value::as_str) == Some("mrkdwn") {
                        out.push(map["text"].as_str().unwrap_or_default().to_owned());
                    }
                    map.values().for_each(|v| walk(v, out));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        walk(&message["blocks"], &mut out);
        out
    }

    #[test]
    fn names_are_escaped_in_every_text_and_encoded_in_links() {
        let config = SlackAlerterConfig {
            dashboard_url: "https://grafana.example/d/lag?var-cluster={cluster}&var-group={group}"
                .to_owned(),
            ..SlackAlerterConfig::new("https://hooks.slack.com/services/T/B/x")
        };
        let alerter = SlackAlerter::from_config("ops", &config).unwrap();
        let [mut n, _] = samples();
        n.rule = "lag<!channel>".to_owned();
        n.summary = "<!here> & <https://evil.example|click>".to_owned();
        n.labels.insert("cluster".to_owned(), "x&y".to_owned());
        n.labels.insert("group".to_owned(), "a<b>|c d".to_owned());
        n.partitions[0].topic = "<@U123>".to_owned();
        let message = alerter.message(&n);
        let link = "<https://grafana.example/d/lag?var-cluster=x%26y&amp;var-group=a%3Cb%3E%7Cc%20d|Dashboard>";
        for text in mrkdwn_texts(&message) {
            let rest = text.replace(link, "");
            assert!(!rest.contains('<') && !rest.contains('>'), "{text}");
            let unescaped = rest
                .replace("&amp;", "")
                .replace("&lt;", "")
                .replace("&gt;", "");
            assert!(!unescaped.contains('&'), "{text}");
        }
        let all = mrkdwn_texts(&message).join("\n");
        assert!(all.contains(link), "{all}");
        assert!(
            all.contains("a&lt;b&gt;|c d") && all.contains("&lt;!here&gt; &amp;"),
            "{all}"
        );
    }
}
