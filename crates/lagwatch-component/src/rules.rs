use lagwatch_core::Snapshot;
use lagwatch_core::alert::AlertNotification;

/// Turns each evaluation snapshot into alert state changes.
///
/// Implementations are pure state machines (no I/O): the runtime calls
/// [`evaluate`](RuleEngine::evaluate) after every cycle and hands what it returns to the
/// alerters.
pub trait RuleEngine: Send {
    /// Observes one snapshot and returns the notifications to deliver (possibly none).
    fn evaluate(&mut self, snapshot: &Snapshot) -> Vec<AlertNotification>;
}

impl<T: RuleEngine + ?Sized> RuleEngine for Box<T> {
    fn evaluate(&mut self, snapshot: &Snapshot) -> Vec<AlertNotification> {
        (**self).evaluate(snapshot)
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
