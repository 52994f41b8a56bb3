//! Alert rules (`[rules.<name>]`) and alerters (`[alerters.<name>]`).
//!
//! Every rule type shares the selection and lifecycle keys (`clusters`, `groups`, `topics`,
//! `severity`, `labels`, `for`, `interval`, `repeat_interval`, `send_resolved`); the
//! [`rule_config!`] macro writes them into each type's struct so that unknown keys are still
//! rejected (serde's `flatten` cannot be combined with `deny_unknown_fields`).

use lagwatch_core::alert::Severity;
use lagwatch_core::duration::serde_text;
use lagwatch_core::secret::Secret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// An alert rule, selected by `type`.
///
/// Adding a variant: add its tag to [`RuleConfig::TYPES`] and [`RuleConfig::type_name`], an
/// arm in the loader (`validate::parse_rule`), in [`RuleConfig::common`] and in the semantic
/// checks, and a `Rule type` section in `docs/configuration.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RuleConfig {
    /// Aggregated partition or group lag over a window compared with a value.
    Threshold(ThresholdRuleConfig),
    /// Group status at or above WARN or ERR.
    Status(StatusRuleConfig),
    /// Estimated seconds behind above a value.
    TimeLag(TimeLagRuleConfig),
    /// Committed offset close to the log-start offset (data about to be deleted unread).
    Retention(RetentionRuleConfig),
    /// Time to catch up too long, not catching up, or unread data deleted first.
    CatchUp(CatchUpRuleConfig),
}

impl RuleConfig {
    /// Every `type` a rule section may have.
    pub const TYPES: &'static [&'static str] =
        &["threshold", "status", "time_lag", "retention", "catch_up"];

    /// This rule's `type` tag.
    pub fn type_name(&self) -> &'static str {
        match self {
            RuleConfig::Threshold(_) => "threshold",
            RuleConfig::Status(_) => "status",
            RuleConfig::TimeLag(_) => "time_lag",
            RuleConfig::Retention(_) => "retention",
            RuleConfig::CatchUp(_) => "catch_up",
        }
    }

    /// The keys every rule type has.
    pub fn common(&self) -> RuleCommon {
        match self {
            RuleConfig::Threshold(r) => r.common(),
            RuleConfig::Status(r) => r.common(),
            RuleConfig::TimeLag(r) => r.common(),
            RuleConfig::Retention(r) => r.common(),
            RuleConfig::CatchUp(r) => r.common(),
        }
    }
}

/// The keys every rule type shares, copied out of a rule section.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleCommon {
    /// Clusters the rule applies to (regex; empty: all).
    pub clusters: String,
    /// Consumer groups the rule applies to (regex; empty: all).
    pub groups: String,
    /// Topics the rule looks at (regex; empty: all).
    pub topics: String,
    /// Severity of the alerts.
    pub severity: Severity,
    /// Extra labels attached to every alert.
    pub labels: BTreeMap<String, String>,
    /// How long the condition must hold before the alert fires (`0s`: at once).
    pub for_duration: Duration,
    /// How often the rule decides.
    pub interval: Duration,
    /// Reminder period while firing (`0s`: no reminders).
    pub repeat_interval: Duration,
    /// Whether a resolved notification is sent.
    pub send_resolved: bool,
}

macro_rules! rule_config {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $default:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            /// Clusters the rule applies to: a regular expression (empty: every cluster).
            pub clusters: String,
            /// Consumer groups the rule applies to: a regular expression (empty: every group).
            pub groups: String,
            /// Topics the rule looks at: a regular expression (empty: every topic).
            pub topics: String,
            /// Severity of the alerts (`info`, `warning`, `critical`).
            pub severity: Severity,
            /// Extra labels attached to every alert of the rule.
            pub labels: BTreeMap<String, String>,
            /// How long the condition must hold before the alert fires (`0s`: at once).
            #[serde(rename = "for", with = "serde_text")]
            pub for_duration: Duration,
            /// How often the rule decides (the engine sees every evaluation but decides only
            /// this often).
            #[serde(with = "serde_text")]
            pub interval: Duration,
            /// While firing, a reminder is sent this often (`0s`: no reminders).
            #[serde(with = "serde_text")]
            pub repeat_interval: Duration,
            /// Whether a notification is sent when the alert resolves.
            pub send_resolved: bool,
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    clusters: String::new(),
                    groups: String::new(),
                    topics: String::new(),
                    severity: Severity::Warning,
                    labels: BTreeMap::new(),
                    for_duration: Duration::ZERO,
                    interval: Duration::from_secs(60),
                    repeat_interval: Duration::ZERO,
                    send_resolved: true,
                    $( $field: $default, )*
                }
            }
        }

        impl $name {
            /// The keys every rule type shares.
            pub fn common(&self) -> RuleCommon {
                RuleCommon {
                    clusters: self.clusters.clone(),
                    groups: self.groups.clone(),
                    topics: self.topics.clone(),
                    severity: self.severity,
                    labels: self.labels.clone(),
                    for_duration: self.for_duration,
                    interval: self.interval,
                    repeat_interval: self.repeat_interval,
                    send_resolved: self.send_resolved,
                }
            }
        }
    };
}

rule_config! {
    /// `threshold`: an aggregate of partition lag (per partition) or of group total lag over a
    /// window, compared with a value. The defaults are the seed's Grafana alert: average
    /// partition lag over 60 s above 10, decided every minute.
    ThresholdRuleConfig {
        /// What is measured: `partition_lag` (every partition on its own) or `group_lag`
        /// (the sum over the selected partitions of a group).
        target: ThresholdTarget = ThresholdTarget::PartitionLag,
        /// How the samples in the window are reduced: `avg`, `max`, `min` or `last`.
        aggregate: AggregateKind = AggregateKind::Avg,
        /// Window the samples are taken from, ending at the decision time.
        #[serde(with = "serde_text")]
        window: Duration = Duration::from_secs(60),
        /// Comparison: `>` or `>=`.
        op: ThresholdOp = ThresholdOp::Gt,
        /// The threshold value (messages).
        value: f64 = 10.0,
    }
}

rule_config! {
    /// `status`: a group's Burrow status at or above `WARN` or `ERR`.
    StatusRuleConfig {
        /// The lowest status that fires: `warn` or `err`.
        status: StatusLevel = StatusLevel::Warn,
    }
}

rule_config! {
    /// `time_lag`: a partition's estimated seconds behind above a value.
    TimeLagRuleConfig {
        /// Seconds behind above which the rule fires.
        seconds: f64 = 300.0,
    }
}

rule_config! {
    /// `retention`: a partition's committed offset close to the log-start offset, so that
    /// unread messages are about to be deleted by retention.
    RetentionRuleConfig {
        /// Fires when fewer than this many messages separate the committed offset from the
        /// log-start offset (`0`: only `margin_share` counts).
        margin_messages: u64 = 0,
        /// Fires when the committed offset is within this share (0.0–1.0) of the retained
        /// messages (log end minus log start) from the log start (`0.0`: only
        /// `margin_messages` counts).
        margin_share: f64 = 0.1,
    }
}

rule_config! {
    /// `catch_up`: a lagging group's estimated time to catch up above `max_catch_up`, or not
    /// catching up at all, and (with `retention`) unread data deleted by retention before the
    /// group reads it (see the trends in `docs/evaluator.md`).
    CatchUpRuleConfig {
        /// Fires when the estimated time to catch up is longer than this (a lagging group that
        /// is not catching up always fires).
        #[serde(with = "serde_text")]
        max_catch_up: Duration = Duration::from_secs(3600),
        /// Also fires when a partition's unread messages are (or will be) deleted by retention
        /// before the group catches up.
        retention: bool = true,
    }
}

/// What a threshold rule measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdTarget {
    /// Each partition's current lag on its own; the alert lists the breaching partitions.
    #[default]
    PartitionLag,
    /// The sum of the selected partitions' current lag of a group.
    GroupLag,
}

/// How samples in the window are reduced: the rule engine's own type, so the two cannot
/// drift apart.
pub use lagwatch_core::rule::Aggregate as AggregateKind;

/// Threshold comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ThresholdOp {
    /// Strictly above.
    #[default]
    #[serde(rename = ">")]
    Gt,
    /// Above or equal.
    #[serde(rename = ">=")]
    Ge,
}

/// Lowest group status a status rule fires at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StatusLevel {
    /// WARN or ERR.
    #[default]
    Warn,
    /// ERR only.
    Err,
}

/// An alerter, selected by `type`.
///
/// Adding a variant: add its tag to [`AlerterConfig::TYPES`] and
/// [`AlerterConfig::type_name`], an arm in the loader (`validate::parse_alerter`) and in the
/// semantic checks, and an `Alerter type` section in `docs/configuration.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AlerterConfig {
    /// A Slack incoming webhook.
    Slack(SlackAlerterConfig),
    /// Any HTTP endpoint, with a body template.
    Webhook(WebhookAlerterConfig),
    /// Log lines (through `tracing`).
    Log(LogAlerterConfig),
}

impl AlerterConfig {
    /// Every `type` an alerter section may have.
    pub const TYPES: &'static [&'static str] = &["slack", "webhook", "log"];

    /// This alerter's `type` tag.
    pub fn type_name(&self) -> &'static str {
        match self {
            AlerterConfig::Slack(_) => "slack",
            AlerterConfig::Webhook(_) => "webhook",
            AlerterConfig::Log(_) => "log",
        }
    }
}

/// Retry and rate settings every HTTP alerter shares.
fn default_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_max_retries() -> u32 {
    5
}

fn default_slack_min_interval() -> Duration {
    Duration::from_secs(1)
}

/// A Slack incoming webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackAlerterConfig {
    /// The incoming-webhook URL (the URL is the credential). Required.
    pub url: Secret,
    /// Link added to each message; `{cluster}` and `{group}` are replaced (empty: none).
    #[serde(default)]
    pub dashboard_url: String,
    /// Time limit of one request.
    #[serde(default = "default_timeout", with = "serde_text")]
    pub timeout: Duration,
    /// Retries after a failed attempt (5xx, 429, connection errors).
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// Smallest gap between two messages to this webhook (Slack allows about one a second).
    #[serde(default = "default_slack_min_interval", with = "serde_text")]
    pub min_interval: Duration,
}

impl SlackAlerterConfig {
    /// A configuration for `url` with every other key at its default.
    pub fn new(url: impl Into<String>) -> SlackAlerterConfig {
        SlackAlerterConfig {
            url: Secret::new(url.into()),
            dashboard_url: String::new(),
            timeout: default_timeout(),
            max_retries: default_max_retries(),
            min_interval: default_slack_min_interval(),
        }
    }
}

/// Body of a webhook request when no `body` template is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WebhookPreset {
    /// The notification itself as JSON.
    #[default]
    Json,
    /// The variables and body of Burrow's HTTP notifier default template.
    Burrow,
    /// Prometheus Alertmanager's webhook JSON (`version` 4).
    Alertmanager,
}

fn default_method() -> String {
    "POST".to_owned()
}

/// A generic HTTP webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookAlerterConfig {
    /// Endpoint URL (may hold a token, so it is a secret). Required.
    pub url: Secret,
    /// HTTP method.
    #[serde(default = "default_method")]
    pub method: String,
    /// Extra request headers (values may hold tokens and are secrets).
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// Body when `body` is empty.
    #[serde(default)]
    pub preset: WebhookPreset,
    /// Body template (minijinja syntax); empty: the preset's body.
    #[serde(default)]
    pub body: String,
    /// Time limit of one request.
    #[serde(default = "default_timeout", with = "serde_text")]
    pub timeout: Duration,
    /// Retries after a failed attempt (5xx, 429, connection errors).
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// Smallest gap between two requests to this endpoint (`0s`: none).
    #[serde(default, with = "serde_text")]
    pub min_interval: Duration,
}

impl WebhookAlerterConfig {
    /// A configuration for `url` with every other key at its default.
    pub fn new(url: impl Into<String>) -> WebhookAlerterConfig {
        WebhookAlerterConfig {
            url: Secret::new(url.into()),
            method: default_method(),
            headers: BTreeMap::new(),
            preset: WebhookPreset::Json,
            body: String::new(),
            timeout: default_timeout(),
            max_retries: default_max_retries(),
            min_interval: Duration::ZERO,
        }
    }
}

/// Log lines through `tracing` (target `lagwatch::alert`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LogAlerterConfig {}
