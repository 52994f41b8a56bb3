//! Conformance checks every [`Alerter`] must pass.

use lagwatch_component::Alerter;
use lagwatch_core::alert::{AlertNotification, AlertState, Severity};
use std::collections::BTreeMap;

/// A firing and a resolved notification for the same incident, as a rule engine would emit
/// them: cluster `live`, group `hdfs_consumer`, topic `payment_log`, partition `0`.
pub fn sample_notifications(at_ms: i64) -> [AlertNotification; 2] {
    let mut labels = BTreeMap::new();
    labels.insert("cluster".to_string(), "live".to_string());
    labels.insert("group".to_string(), "hdfs_consumer".to_string());
    labels.insert("topic".to_string(), "payment_log".to_string());
    labels.insert("partition".to_string(), "0".to_string());
    let firing = AlertNotification::new(
        "average-lag-above-10",
        AlertState::Firing,
        Severity::Warning,
        labels.clone(),
        54.0,
        Some(10.0),
        "average lag over the last 60s is 54 (above 10)",
        at_ms,
        at_ms,
    );
    let resolved = AlertNotification::new(
        "average-lag-above-10",
        AlertState::Resolved,
        Severity::Warning,
        labels,
        3.0,
        Some(10.0),
        "average lag over the last 60s is 3 (not above 10)",
        at_ms,
        at_ms + 120_000,
    );
    [firing, resolved]
}

/// Runs the shared alerter checks against `alerter` and returns a description of the first
/// violation as `Err`: a non-empty name, a passing healthcheck, and successful delivery (at
/// least one attempt reported) of a firing and a resolved notification of the same incident.
///
/// Use it with an alerter pointed at a receiver that accepts everything (for example
/// `lagwatch_test_support::services::http::Receiver` when that module is enabled), then check
/// what the receiver got.
pub async fn check_alerter<A: Alerter + ?Sized>(alerter: &A, at_ms: i64) -> Result<(), String> {
    let name = alerter.name().to_owned();
    if name.is_empty() {
        return Err("alerter name must not be empty".into());
    }
    alerter
        .healthcheck()
        .await
        .map_err(|e| format!("alerter {name}: healthcheck failed: {e}"))?;
    let [firing, resolved] = sample_notifications(at_ms);
    if firing.incident_id != resolved.incident_id {
        return Err("sample notifications must share an incident".into());
    }
    for n in [&firing, &resolved] {
        match alerter.deliver(n).await {
            Ok(d) if d.attempts >= 1 => {}
            Ok(_) => {
                return Err(format!(
                    "alerter {name}: delivery of the {} notification reported 0 attempts",
                    n.state
                ));
            }
            Err(e) => {
                return Err(format!(
                    "alerter {name}: delivering the {} notification failed: {e}",
                    n.state
                ));
            }
        }
    }
    Ok(())
}
