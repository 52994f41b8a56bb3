//! The log alerter: notifications as log lines.

use async_trait::async_trait;
use lagwatch_component::{Alerter, ComponentError, Delivery, FromConfig};
use lagwatch_config::LogAlerterConfig;
use lagwatch_core::alert::AlertNotification;

/// Writes every notification (firing and resolved) as one `tracing` event at WARN level with
/// target `lagwatch::alert`, so it shows even where only warnings are logged (the demo's
/// table mode).
#[derive(Debug, Clone)]
pub struct LogAlerter {
    name: String,
}

impl FromConfig for LogAlerter {
    type Config = LogAlerterConfig;

    /// A log alerter named `log[<name>]`. Never fails.
    fn from_config(name: &str, _config: &LogAlerterConfig) -> Result<LogAlerter, ComponentError> {
        Ok(LogAlerter {
            name: format!("log[{name}]"),
        })
    }
}

impl LogAlerter {
    /// One line describing `n`, as logged.
    pub fn line(n: &AlertNotification) -> String {
        let partitions: Vec<String> = n
            .partitions
            .iter()
            .map(|p| format!("{}/{}={}", p.topic, p.partition, p.lag))
            .collect();
        let mut line = format!(
            "[{}{}] {} {}/{}: {}",
            n.state.to_string().to_uppercase(),
            if n.reminder { ", reminder" } else { "" },
            n.rule,
            n.cluster(),
            n.group(),
            n.summary
        );
        if let Some(status) = n.group_status {
            line.push_str(&format!(" | status {status}"));
        }
        if let Some(total) = n.total_lag {
            line.push_str(&format!(" | total lag {total}"));
        }
        if !partitions.is_empty() {
            line.push_str(&format!(" | worst {}", partitions.join(" ")));
        }
        line
    }
}

#[async_trait]
impl Alerter for LogAlerter {
    fn name(&self) -> &str {
        &self.name
    }

    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }

    async fn deliver(&self, n: &AlertNotification) -> Result<Delivery, ComponentError> {
        let line = LogAlerter::line(n);
        tracing::warn!(target: "lagwatch::alert", incident = %n.incident_id,
            severity = %n.severity, "{line}");
        Ok(Delivery { attempts: 1 })
    }
}
