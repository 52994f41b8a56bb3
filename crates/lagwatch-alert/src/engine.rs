//! The pure rule engine: snapshots in, alert notifications out, no I/O and no clock.

use crate::error::AlertError;
use crate::rule::{Condition, Rule, RuleKind, detail, number, status_of, worst};
use lagwatch_component::{HandedAlert, RuleEngine};
use lagwatch_config::{RuleConfig, ThresholdTarget};
use lagwatch_core::alert::{AlertNotification, AlertState};
use lagwatch_core::report::GroupReport;
use lagwatch_core::rule::Series;
use lagwatch_core::time_lag::{Confidence, MAX_SECONDS};
use lagwatch_core::trend::{CatchUp, group_trend};
use lagwatch_core::{Snapshot, TimestampMs};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Samples kept per series at most (one per evaluation).
const SERIES_CAPACITY: usize = 4096;

/// A decision due within this many milliseconds is taken now: snapshots arrive with some
/// jitter, and one a few milliseconds early must not postpone the decision by a whole
/// evaluation interval.
pub const DECISION_SLACK_MS: i64 = 250;

/// Version of the persisted [`EngineState`] format.
pub const STATE_VERSION: u32 = 1;

/// Where an alert is in its lifecycle. Inactive alerts have no record at all; resolved
/// ones are removed once the resolved notification is out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// The condition holds but not yet for the rule's `for` duration.
    Pending,
    /// Announced as firing.
    Firing,
}

/// One alert that is pending or firing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Rule name.
    pub rule: String,
    /// Labels (cluster, group and the rule's own).
    pub labels: BTreeMap<String, String>,
    /// Pending or firing.
    pub phase: Phase,
    /// When the condition started to hold (ms).
    pub pending_since_ms: TimestampMs,
    /// When the alert fired (ms), once firing.
    pub started_at_ms: Option<TimestampMs>,
    /// When the last firing notification (first or reminder) was produced (ms).
    pub last_sent_ms: Option<TimestampMs>,
    /// The value in the last firing notification (a status rule announces a worse status
    /// at once).
    #[serde(default)]
    pub notified_value: Option<f64>,
    /// Since when the alert's group is missing from the evaluations the rule watches
    /// (deleted, expired or filtered out); see [`GONE_AFTER_MS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_since_ms: Option<TimestampMs>,
}

/// An open alert whose group has been missing from the evaluations its rule watches for this
/// long (ms) is closed at the rule's next decision, with a resolved notification if it was
/// firing: the group was deleted, expired or filtered out. One minute leaves room for a source
/// that has not yet read the group again after a restart.
pub const GONE_AFTER_MS: i64 = 60_000;

/// Everything the engine must remember across a restart: the open alerts by incident id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineState {
    /// Format version ([`STATE_VERSION`]).
    pub version: u32,
    /// Pending and firing alerts by incident id.
    pub alerts: BTreeMap<String, AlertRecord>,
}

impl Default for EngineState {
    fn default() -> Self {
        EngineState {
            version: STATE_VERSION,
            alerts: BTreeMap::new(),
        }
    }
}

/// Series key: cluster, group, and for partition series topic and partition.
type SeriesKey = (String, String, Option<(String, i32)>);

/// What a rule keeps between snapshots; the series are saved with the model's windows (see
/// [`RuleEngine::window_state`]).
#[derive(Debug, Default)]
struct RuleRuntime {
    next_decision_ms: Option<TimestampMs>,
    series: HashMap<SeriesKey, Series>,
}

/// The rule engine: a set of rules with their alert lifecycle.
///
/// Time is the snapshot's [`Snapshot::at_ms`]; nothing here reads a clock or touches a file.
/// Its state (open alerts, threshold series) is handed out and taken back as plain values
/// through [`RuleEngine`]'s state methods; the runtime keeps it on disk.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    runtime: Vec<RuleRuntime>,
    state: EngineState,
}

impl RuleSet {
    /// A rule set from compiled rules, with no open alert.
    pub fn new(rules: Vec<Rule>) -> RuleSet {
        let runtime = rules.iter().map(|_| RuleRuntime::default()).collect();
        RuleSet {
            rules,
            runtime,
            state: EngineState::default(),
        }
    }

    /// Compiles `[rules.<name>]` sections.
    ///
    /// # Errors
    /// [`AlertError::Rule`] naming the first rule that does not compile.
    pub fn from_config(rules: &BTreeMap<String, RuleConfig>) -> Result<RuleSet, AlertError> {
        let compiled = rules
            .iter()
            .map(|(name, cfg)| Rule::from_config(name, cfg))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RuleSet::new(compiled))
    }

    /// The rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The open alerts, for persisting.
    pub fn state(&self) -> &EngineState {
        &self.state
    }

    /// Restores open alerts saved by [`RuleSet::state`]. Alerts of rules that no longer
    /// exist are dropped (without a notification).
    pub fn restore(&mut self, mut state: EngineState) {
        state
            .alerts
            .retain(|_, record| self.rules.iter().any(|r| r.name == record.rule));
        state.version = STATE_VERSION;
        self.state = state;
    }

    fn record_samples(rule: &Rule, runtime: &mut RuleRuntime, snapshot: &Snapshot) {
        let RuleKind::Threshold { target, threshold } = &rule.kind else {
            return;
        };
        let at = snapshot.at_ms();
        let max_age = threshold.window_ms;
        for group in snapshot.groups().iter().filter(|g| rule.watches(g)) {
            // Stale data is never recorded: it could fire or resolve an alert by itself.
            if group.stale {
                continue;
            }
            let mut sum = 0u64;
            let mut any = false;
            for p in group.partitions.iter().filter(|p| rule.counts(p)) {
                // Nor are windows still warming up: no rule fires or resolves on them.
                if p.extras.stale || p.extras.warming_up {
                    continue;
                }
                any = true;
                sum = sum.saturating_add(p.current_lag);
                if *target == ThresholdTarget::PartitionLag {
                    let key = (
                        group.cluster.clone(),
                        group.group.clone(),
                        Some((p.topic.clone(), p.partition)),
                    );
                    runtime
                        .series
                        .entry(key)
                        .or_insert_with(|| Series::new(max_age, SERIES_CAPACITY))
                        .push(at, p.current_lag as f64);
                }
            }
            if *target == ThresholdTarget::GroupLag && any {
                let key = (group.cluster.clone(), group.group.clone(), None);
                runtime
                    .series
                    .entry(key)
                    .or_insert_with(|| Series::new(max_age, SERIES_CAPACITY))
                    .push(at, sum as f64);
            }
        }
    }

    fn condition(
        rule: &Rule,
        runtime: &RuleRuntime,
        group: &GroupReport,
        at: TimestampMs,
    ) -> Condition {
        if group.stale {
            return Condition::Unknown;
        }
        let counted: Vec<_> = group
            .partitions
            .iter()
            .filter(|p| rule.counts(p) && !p.extras.stale && !p.extras.warming_up)
            .collect();
        match &rule.kind {
            RuleKind::Threshold { target, threshold } => {
                let what = match target {
                    ThresholdTarget::PartitionLag => "partition lag",
                    ThresholdTarget::GroupLag => "group lag",
                };
                let window = lagwatch_core::duration::format(std::time::Duration::from_millis(
                    u64::try_from(threshold.window_ms).unwrap_or(0),
                ));
                let agg = format!("{:?}", threshold.aggregate).to_lowercase();
                let op = threshold.comparison.symbol();
                let limit = number(threshold.value);
                match target {
                    ThresholdTarget::GroupLag => {
                        let key = (group.cluster.clone(), group.group.clone(), None);
                        let Some((value, breached)) = runtime
                            .series
                            .get(&key)
                            .and_then(|s| threshold.check_series(s, at))
                        else {
                            return Condition::Unknown;
                        };
                        let summary = format!(
                            "{agg} {what} over {window} is {} ({}{op} {limit})",
                            number(value),
                            if breached { "" } else { "not " }
                        );
                        if breached {
                            let partitions = worst(
                                counted
                                    .iter()
                                    .map(|p| detail(p, p.current_lag as f64))
                                    .collect(),
                            );
                            Condition::Breach {
                                value,
                                partitions,
                                summary,
                            }
                        } else {
                            Condition::Clear { value, summary }
                        }
                    }
                    ThresholdTarget::PartitionLag => {
                        let mut breaching = Vec::new();
                        let mut max_value: Option<f64> = None;
                        for p in &counted {
                            let key = (
                                group.cluster.clone(),
                                group.group.clone(),
                                Some((p.topic.clone(), p.partition)),
                            );
                            let Some((value, breached)) = runtime
                                .series
                                .get(&key)
                                .and_then(|s| threshold.check_series(s, at))
                            else {
                                continue;
                            };
                            max_value = Some(max_value.map_or(value, |m: f64| m.max(value)));
                            if breached {
                                breaching.push(detail(p, value));
                            }
                        }
                        let Some(max_value) = max_value else {
                            return Condition::Unknown;
                        };
                        if breaching.is_empty() {
                            Condition::Clear {
                                value: max_value,
                                summary: format!(
                                    "{agg} {what} over {window} is at most {} (not {op} {limit})",
                                    number(max_value)
                                ),
                            }
                        } else {
                            let n = breaching.len();
                            Condition::Breach {
                                value: max_value,
                                summary: format!(
                                    "{agg} {what} over {window} is {} ({op} {limit}) on {n} \
                                     partition{}",
                                    number(max_value),
                                    if n == 1 { "" } else { "s" }
                                ),
                                partitions: worst(breaching),
                            }
                        }
                    }
                }
            }
            RuleKind::Status { min } => {
                // Partitions exist but none can be judged yet (warming up, stale): no verdict.
                let unjudged =
                    counted.is_empty() && group.partitions.iter().any(|p| rule.counts(p));
                if group.status == lagwatch_core::GroupStatus::NotFound || unjudged {
                    return Condition::Unknown;
                }
                let status = if rule.all_topics {
                    group
                        .alertable_status()
                        .unwrap_or(lagwatch_core::GroupStatus::Ok)
                } else {
                    status_of(&counted)
                };
                let value = status as i32 as f64;
                if status >= *min {
                    let partitions = worst(
                        counted
                            .iter()
                            .filter(|p| p.status != lagwatch_core::PartitionStatus::Ok)
                            .map(|p| detail(p, p.current_lag as f64))
                            .collect(),
                    );
                    Condition::Breach {
                        value,
                        partitions,
                        summary: format!("group status is {status} (at or above {min})"),
                    }
                } else {
                    Condition::Clear {
                        value,
                        summary: format!("group status is {status} (below {min})"),
                    }
                }
            }
            RuleKind::TimeLag { seconds } => {
                let mut breaching = Vec::new();
                let mut max_value: Option<f64> = None;
                for p in &counted {
                    // Without an estimate (or with one of unknown confidence, which reads
                    // 0 s) nothing can be said about this partition.
                    let Some(tl) = p.extras.time_lag else {
                        continue;
                    };
                    if tl.confidence == Confidence::Unknown || !tl.seconds.is_finite() {
                        continue;
                    }
                    max_value = Some(max_value.map_or(tl.seconds, |m: f64| m.max(tl.seconds)));
                    if tl.seconds > *seconds {
                        breaching.push(detail(p, tl.seconds));
                    }
                }
                let Some(max_value) = max_value else {
                    return Condition::Unknown;
                };
                let limit = number(*seconds);
                if breaching.is_empty() {
                    Condition::Clear {
                        value: max_value,
                        summary: format!(
                            "time lag is at most {} s (not above {limit} s)",
                            number(max_value)
                        ),
                    }
                } else {
                    Condition::Breach {
                        value: max_value,
                        summary: format!(
                            "time lag is {} s (above {limit} s) on {} partition(s)",
                            number(max_value),
                            breaching.len()
                        ),
                        partitions: worst(breaching),
                    }
                }
            }
            RuleKind::CatchUp {
                max_seconds,
                retention,
            } => Self::catch_up_condition(&counted, *max_seconds, *retention),
            RuleKind::Retention {
                margin_messages,
                margin_share,
            } => {
                // The value is the distance (messages) between the committed offset and the
                // log start; the worst partition is the closest one, so rank by -distance.
                let mut breaching = Vec::new();
                let mut closest: Option<i64> = None;
                for p in &counted {
                    let (Some(start), Some(end), Some(commit)) = (
                        p.extras.log_start_offset,
                        p.extras.log_end_offset,
                        p.end.map(|e| e.offset),
                    ) else {
                        continue;
                    };
                    let distance = commit.saturating_sub(start);
                    let retained = end.saturating_sub(start).max(0);
                    let share_margin = (retained as f64 * margin_share).ceil() as i64;
                    let margin = i64::try_from(*margin_messages)
                        .unwrap_or(i64::MAX)
                        .max(share_margin);
                    closest = Some(closest.map_or(distance, |c| c.min(distance)));
                    if distance < margin {
                        let mut d = detail(p, -(distance as f64));
                        d.value = distance as f64;
                        breaching.push((distance, d));
                    }
                }
                let Some(closest) = closest else {
                    return Condition::Unknown;
                };
                if breaching.is_empty() {
                    Condition::Clear {
                        value: closest as f64,
                        summary: format!(
                            "every committed offset is at least {closest} messages ahead of \
                             the log start"
                        ),
                    }
                } else {
                    breaching.sort_by(|a, b| {
                        a.0.cmp(&b.0)
                            .then_with(|| a.1.topic.cmp(&b.1.topic))
                            .then_with(|| a.1.partition.cmp(&b.1.partition))
                    });
                    let n = breaching.len();
                    let partitions = breaching
                        .into_iter()
                        .map(|(_, d)| d)
                        .take(crate::rule::MAX_PARTITIONS)
                        .collect();
                    Condition::Breach {
                        value: closest as f64,
                        summary: format!(
                            "committed offset only {closest} messages ahead of the log start \
                             on {n} partition(s): retention may delete unread messages"
                        ),
                        partitions,
                    }
                }
            }
        }
    }

    fn catch_up_condition(
        counted: &[&lagwatch_core::PartitionReport],
        max_seconds: f64,
        retention: bool,
    ) -> Condition {
        let trends: Vec<_> = counted
            .iter()
            .filter_map(|p| p.extras.trend.as_ref().map(|t| (*p, t)))
            .collect();
        if trends.is_empty() {
            return Condition::Unknown;
        }
        // Not catching up counts as the longest time there is.
        let seconds_of = |c: CatchUp| c.seconds().unwrap_or(MAX_SECONDS);
        let mut breaching = Vec::new();
        let (mut slow, mut stuck, mut losing) = (0usize, 0usize, 0usize);
        for (p, t) in &trends {
            let too_slow = matches!(t.catch_up, CatchUp::In { seconds } if seconds > max_seconds);
            let not_catching_up = t.catch_up == CatchUp::NotCatchingUp;
            let loses = retention && t.data_loss_before_catch_up;
            slow += usize::from(too_slow);
            stuck += usize::from(not_catching_up);
            losing += usize::from(loses);
            if too_slow || not_catching_up || loses {
                breaching.push(detail(p, seconds_of(t.catch_up)));
            }
        }
        let group = group_trend(trends.iter().map(|(_, t)| *t));
        let limit = lagwatch_core::duration::format(std::time::Duration::from_secs_f64(
            max_seconds.clamp(0.0, MAX_SECONDS),
        ));
        let value = seconds_of(group.catch_up);
        if breaching.is_empty() {
            if group.catch_up == CatchUp::Unknown {
                return Condition::Unknown;
            }
            let summary = match group.catch_up {
                CatchUp::In { seconds } => {
                    format!(
                        "catches up in {} s (not above {limit})",
                        number(seconds.round())
                    )
                }
                _ => "caught up".to_owned(),
            };
            return Condition::Clear { value, summary };
        }
        let mut parts = Vec::new();
        if stuck > 0 {
            parts.push(format!("not catching up on {stuck} partition(s)"));
        }
        if slow > 0 {
            let longest = trends
                .iter()
                .filter_map(|(_, t)| t.catch_up.seconds())
                .fold(0.0f64, f64::max);
            parts.push(format!(
                "catching up takes {} s (above {limit}) on {slow} partition(s)",
                number(longest.round())
            ));
        }
        if losing > 0 {
            let deadline = group.retention_deadline_seconds.unwrap_or(0.0);
            parts.push(if group.unread_deleted {
                format!("unread messages already deleted by retention on {losing} partition(s)")
            } else {
                format!(
                    "retention deletes unread messages in {} s, before the catch up, on \
                     {losing} partition(s)",
                    number(deadline.round())
                )
            });
        }
        Condition::Breach {
            value,
            partitions: worst(breaching),
            summary: parts.join("; "),
        }
    }

    fn labels(rule: &Rule, group: &GroupReport) -> BTreeMap<String, String> {
        let mut labels = rule.labels.clone();
        labels.insert("cluster".to_owned(), group.cluster.clone());
        labels.insert("group".to_owned(), group.group.clone());
        labels
    }

    fn threshold_of(rule: &Rule) -> Option<f64> {
        match &rule.kind {
            RuleKind::Threshold { threshold, .. } => Some(threshold.value),
            RuleKind::Status { min } => Some(*min as i32 as f64),
            RuleKind::TimeLag { seconds } => Some(*seconds),
            RuleKind::Retention { .. } => None,
            RuleKind::CatchUp { max_seconds, .. } => Some(*max_seconds),
        }
    }
}

/// Builds a notification with the group facts filled in.
#[allow(clippy::too_many_arguments)]
fn notify(
    rule: &Rule,
    group: &GroupReport,
    labels: BTreeMap<String, String>,
    state: AlertState,
    value: f64,
    summary: String,
    started_at_ms: TimestampMs,
    at: TimestampMs,
) -> AlertNotification {
    let mut n = AlertNotification::new(
        rule.name.clone(),
        state,
        rule.severity,
        labels,
        value,
        RuleSet::threshold_of(rule),
        summary,
        started_at_ms,
        at,
    );
    n.group_status = Some(group.status);
    n.total_lag = Some(group.totallag);
    n.max_lag = Some(group.maxlag.as_ref().map_or(0, |m| m.current_lag));
    n
}

impl RuleEngine for RuleSet {
    fn evaluate(&mut self, snapshot: &Snapshot) -> Vec<AlertNotification> {
        let at = snapshot.at_ms();
        let mut out = Vec::new();
        for (rule, runtime) in self.rules.iter().zip(self.runtime.iter_mut()) {
            RuleSet::record_samples(rule, runtime, snapshot);
            let due = runtime
                .next_decision_ms
                .is_none_or(|next| at >= next - DECISION_SLACK_MS);
            if !due {
                continue;
            }
            let mut next = runtime.next_decision_ms.unwrap_or(at);
            while next <= at + DECISION_SLACK_MS {
                next = next.saturating_add(rule.interval_ms);
            }
            runtime.next_decision_ms = Some(next);
            // Forget series that have no sample inside their window any more.
            runtime
                .series
                .retain(|_, s| s.last().is_some_and(|(ts, _)| ts > at - s_age(rule)));

            let mut seen = std::collections::HashSet::new();
            for group in snapshot.groups().iter().filter(|g| rule.watches(g)) {
                let labels = RuleSet::labels(rule, group);
                let id = lagwatch_core::alert::incident_id(&rule.name, &labels);
                let condition = RuleSet::condition(rule, runtime, group, at);
                if let Some(record) = self.state.alerts.get_mut(&id) {
                    record.missing_since_ms = None;
                }
                seen.insert(id.clone());
                let record = self.state.alerts.get_mut(&id);
                match (record, condition) {
                    (_, Condition::Unknown) => {}
                    (None, Condition::Clear { .. }) => {}
                    (
                        None,
                        Condition::Breach {
                            value,
                            partitions,
                            summary,
                        },
                    ) => {
                        if rule.for_ms <= 0 {
                            let mut n = notify(
                                rule,
                                group,
                                labels.clone(),
                                AlertState::Firing,
                                value,
                                summary,
                                at,
                                at,
                            );
                            n.partitions = partitions;
                            out.push(n);
                        }
                        let firing = rule.for_ms <= 0;
                        self.state.alerts.insert(
                            id,
                            AlertRecord {
                                rule: rule.name.clone(),
                                labels,
                                phase: if firing {
                                    Phase::Firing
                                } else {
                                    Phase::Pending
                                },
                                pending_since_ms: at,
                                started_at_ms: firing.then_some(at),
                                last_sent_ms: firing.then_some(at),
                                notified_value: firing.then_some(value),
                                missing_since_ms: None,
                            },
                        );
                    }
                    (
                        Some(record),
                        Condition::Breach {
                            value,
                            partitions,
                            summary,
                        },
                    ) => match record.phase {
                        Phase::Pending => {
                            if at - record.pending_since_ms >= rule.for_ms {
                                record.phase = Phase::Firing;
                                record.started_at_ms = Some(at);
                                record.last_sent_ms = Some(at);
                                record.notified_value = Some(value);
                                let mut n = notify(
                                    rule,
                                    group,
                                    labels,
                                    AlertState::Firing,
                                    value,
                                    summary,
                                    at,
                                    at,
                                );
                                n.partitions = partitions;
                                out.push(n);
                            }
                        }
                        Phase::Firing => {
                            let last = record.last_sent_ms.unwrap_or(record.pending_since_ms);
                            let escalated = matches!(rule.kind, RuleKind::Status { .. })
                                && record.notified_value.is_some_and(|v| value > v);
                            let remind = rule.repeat_ms > 0 && at - last >= rule.repeat_ms;
                            if escalated || remind {
                                record.last_sent_ms = Some(at);
                                record.notified_value = Some(value);
                                let started = record.started_at_ms.unwrap_or(at);
                                let mut n = notify(
                                    rule,
                                    group,
                                    labels,
                                    AlertState::Firing,
                                    value,
                                    summary,
                                    started,
                                    at,
                                );
                                n.partitions = partitions;
                                n.reminder = !escalated;
                                n.idempotency_key = lagwatch_core::alert::idempotency_key(
                                    &n.incident_id,
                                    AlertState::Firing,
                                    started,
                                    Some(at),
                                );
                                out.push(n);
                            }
                        }
                    },
                    (Some(record), Condition::Clear { value, summary }) => {
                        let was_firing = record.phase == Phase::Firing;
                        let started = record.started_at_ms.unwrap_or(at);
                        self.state.alerts.remove(&id);
                        if was_firing && rule.send_resolved {
                            out.push(notify(
                                rule,
                                group,
                                labels,
                                AlertState::Resolved,
                                value,
                                summary,
                                started,
                                at,
                            ));
                        }
                    }
                }
            }
            close_gone(&mut self.state, rule, &seen, at, &mut out);
        }
        out
    }

    fn alert_state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.state).ok()
    }

    fn window_state(&self) -> Option<serde_json::Value> {
        let windows: Vec<SavedSeries> = self
            .rules
            .iter()
            .zip(&self.runtime)
            .flat_map(|(rule, runtime)| {
                runtime
                    .series
                    .iter()
                    .map(|((cluster, group, partition), s)| SavedSeries {
                        rule: rule.name.clone(),
                        cluster: cluster.clone(),
                        group: group.clone(),
                        partition: partition.clone(),
                        samples: s.samples().to_vec(),
                    })
            })
            .collect();
        serde_json::to_value(WindowState {
            version: STATE_VERSION,
            series: windows,
        })
        .ok()
    }

    fn restore_state(
        &mut self,
        alerts: Option<serde_json::Value>,
        windows: Option<serde_json::Value>,
    ) -> Result<(), String> {
        if let Some(alerts) = alerts {
            let state: EngineState = serde_json::from_value(alerts)
                .map_err(|e| format!("open alerts are unreadable: {e}"))?;
            if state.version != STATE_VERSION {
                return Err(format!(
                    "open alerts have format version {}, this version reads {STATE_VERSION}",
                    state.version
                ));
            }
            self.restore(state);
        }
        if let Some(windows) = windows {
            let state: WindowState = serde_json::from_value(windows)
                .map_err(|e| format!("alert rule windows are unreadable: {e}"))?;
            if state.version != STATE_VERSION {
                return Err(format!(
                    "alert rule windows have format version {}, this version reads \
                     {STATE_VERSION}",
                    state.version
                ));
            }
            for saved in state.series {
                let Some(index) = self.rules.iter().position(|r| r.name == saved.rule) else {
                    continue;
                };
                let rule = &self.rules[index];
                let RuleKind::Threshold { threshold, .. } = &rule.kind else {
                    continue;
                };
                let mut series = Series::new(threshold.window_ms, SERIES_CAPACITY);
                for (at, value) in saved.samples {
                    series.push(at, value);
                }
                self.runtime[index]
                    .series
                    .insert((saved.cluster, saved.group, saved.partition), series);
            }
        }
        Ok(())
    }

    fn release_groups(&mut self, cluster: &str, released: &dyn Fn(&str) -> bool) -> usize {
        let leaves = |record: &AlertRecord| {
            record.labels.get("cluster").is_some_and(|c| c == cluster)
                && record.labels.get("group").is_some_and(|g| released(g))
        };
        let before = self.state.alerts.len();
        self.state.alerts.retain(|_, record| !leaves(record));
        for runtime in &mut self.runtime {
            runtime
                .series
                .retain(|(c, g, _), _| !(c == cluster && released(g)));
        }
        before - self.state.alerts.len()
    }

    fn open_alerts(&self) -> Vec<HandedAlert> {
        self.state
            .alerts
            .iter()
            .filter_map(|(id, record)| {
                Some(HandedAlert {
                    id: id.clone(),
                    cluster: record.labels.get("cluster")?.clone(),
                    group: record.labels.get("group")?.clone(),
                    record: Some(serde_json::to_value(record).ok()?),
                })
            })
            .collect()
    }

    fn adopt_alerts(&mut self, alerts: Vec<HandedAlert>) -> usize {
        let mut taken = 0;
        for alert in alerts {
            let Some(Ok(mut record)) = alert.record.map(serde_json::from_value::<AlertRecord>)
            else {
                continue;
            };
            if !self.rules.iter().any(|r| r.name == record.rule) {
                continue;
            }
            // An alert this instance already announced stays as it is unless the previous
            // owner announced it too (then the earlier announcement is the incident's).
            if let Some(local) = self.state.alerts.get(&alert.id) {
                let local_first = local.phase == Phase::Firing
                    && (record.phase == Phase::Pending
                        || local.started_at_ms <= record.started_at_ms);
                if local_first {
                    continue;
                }
            }
            // The group's absence counts from this instance's own evaluations.
            record.missing_since_ms = None;
            self.state.alerts.insert(alert.id, record);
            taken += 1;
        }
        taken
    }
}

/// Threshold series as saved with the model's windows.
#[derive(Debug, Serialize, Deserialize)]
struct WindowState {
    version: u32,
    series: Vec<SavedSeries>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedSeries {
    rule: String,
    cluster: String,
    group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    partition: Option<(String, i32)>,
    samples: Vec<(TimestampMs, f64)>,
}

/// Closes the open alerts of `rule` whose group was not among the evaluated groups (`seen`
/// holds the incident ids that were) for [`GONE_AFTER_MS`].
fn close_gone(
    state: &mut EngineState,
    rule: &Rule,
    seen: &std::collections::HashSet<String>,
    at: TimestampMs,
    out: &mut Vec<AlertNotification>,
) {
    let mut gone = Vec::new();
    for (id, record) in &mut state.alerts {
        if record.rule != rule.name || seen.contains(id) {
            continue;
        }
        let since = *record.missing_since_ms.get_or_insert(at);
        if at - since >= GONE_AFTER_MS - DECISION_SLACK_MS {
            gone.push(id.clone());
        }
    }
    for id in gone {
        let Some(record) = state.alerts.remove(&id) else {
            continue;
        };
        if record.phase != Phase::Firing || !rule.send_resolved {
            continue;
        }
        let group = record.labels.get("group").cloned().unwrap_or_default();
        let cluster = record.labels.get("cluster").cloned().unwrap_or_default();
        let started = record.started_at_ms.unwrap_or(at);
        let mut n = AlertNotification::new(
            rule.name.clone(),
            AlertState::Resolved,
            rule.severity,
            record.labels,
            0.0,
            RuleSet::threshold_of(rule),
            format!(
                "group {group} of cluster {cluster} is no longer evaluated (deleted, \
                     expired or filtered out)"
            ),
            started,
            at,
        );
        n.group_status = Some(lagwatch_core::GroupStatus::NotFound);
        out.push(n);
    }
}

/// How long a rule's series stay useful (ms).
fn s_age(rule: &Rule) -> i64 {
    match &rule.kind {
        RuleKind::Threshold { threshold, .. } => threshold.window_ms,
        _ => 0,
    }
}
