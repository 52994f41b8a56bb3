use crate::handover::HandedAlert;
use lagwatch_core::Snapshot;
use lagwatch_core::alert::AlertNotification;

/// Turns each evaluation snapshot into alert state changes.
///
/// Implementations are pure state machines (no I/O): the runtime calls
/// [`evaluate`](RuleEngine::evaluate) after every cycle and hands what it returns to the
/// alerters. Their state goes in and out as plain JSON values, which the runtime keeps on
/// disk (when a state directory is configured) so a restart neither repeats nor forgets an
/// alert: [`alert_state`](RuleEngine::alert_state) is saved together with the notifications
/// an evaluation produced, before they are delivered;
/// [`window_state`](RuleEngine::window_state) periodically with the model's windows.
pub trait RuleEngine: Send {
    /// Observes one snapshot and returns the notifications to deliver (possibly none).
    fn evaluate(&mut self, snapshot: &Snapshot) -> Vec<AlertNotification>;

    /// The open alerts (small; saved whenever it changes). `None`: nothing to save.
    fn alert_state(&self) -> Option<serde_json::Value> {
        None
    }

    /// What the rules remember between evaluations apart from open alerts (e.g. the samples
    /// of averaging windows; may be large, saved periodically). `None`: nothing to save.
    fn window_state(&self) -> Option<serde_json::Value> {
        None
    }

    /// Takes back what [`alert_state`](RuleEngine::alert_state) and
    /// [`window_state`](RuleEngine::window_state) returned before a restart.
    ///
    /// # Errors
    /// A description of what could not be read; the engine then starts without that state.
    fn restore_state(
        &mut self,
        alerts: Option<serde_json::Value>,
        windows: Option<serde_json::Value>,
    ) -> Result<(), String> {
        let _ = (alerts, windows);
        Ok(())
    }

    /// Another instance took over the groups of `cluster` for which `released` is true:
    /// forgets their open alerts and windows without any notification (the next owner picks
    /// the alerts up, see [`open_alerts`](RuleEngine::open_alerts)). Returns how many open
    /// alerts were let go.
    fn release_groups(&mut self, cluster: &str, released: &dyn Fn(&str) -> bool) -> usize {
        let _ = (cluster, released);
        0
    }

    /// Every open alert (pending or firing), for the instance that may own its group next.
    fn open_alerts(&self) -> Vec<HandedAlert> {
        Vec::new()
    }

    /// Takes over open alerts a previous owner of their groups left (records from
    /// [`open_alerts`](RuleEngine::open_alerts)); alerts of rules this engine does not have,
    /// and records it cannot read, are skipped. Returns how many were taken.
    fn adopt_alerts(&mut self, alerts: Vec<HandedAlert>) -> usize {
        let _ = alerts;
        0
    }
}

impl<T: RuleEngine + ?Sized> RuleEngine for Box<T> {
    fn evaluate(&mut self, snapshot: &Snapshot) -> Vec<AlertNotification> {
        (**self).evaluate(snapshot)
    }

    fn alert_state(&self) -> Option<serde_json::Value> {
        (**self).alert_state()
    }

    fn window_state(&self) -> Option<serde_json::Value> {
        (**self).window_state()
    }

    fn restore_state(
        &mut self,
        alerts: Option<serde_json::Value>,
        windows: Option<serde_json::Value>,
    ) -> Result<(), String> {
        (**self).restore_state(alerts, windows)
    }

    fn release_groups(&mut self, cluster: &str, released: &dyn Fn(&str) -> bool) -> usize {
        (**self).release_groups(cluster, released)
    }

    fn open_alerts(&self) -> Vec<HandedAlert> {
        (**self).open_alerts()
    }

    fn adopt_alerts(&mut self, alerts: Vec<HandedAlert>) -> usize {
        (**self).adopt_alerts(alerts)
    }
}

/// A rule engine without rules.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoRules;

impl RuleEngine for NoRules {
    fn evaluate(&mut self, _: &Snapshot) -> Vec<AlertNotification> {
        Vec::new()
    }
}
