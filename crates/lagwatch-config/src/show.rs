//! The effective configuration written back out, and the built-in demo configuration.

use crate::error::Error;
use crate::load::Format;
use crate::types::{
    AlerterConfig, Config, DemoSourceConfig, LogAlerterConfig, RuleConfig, SinkConfig,
    SourceConfig, StatusLevel, StatusRuleConfig, StdoutSinkConfig, ThresholdRuleConfig,
};
use std::collections::BTreeMap;
use std::time::Duration;

impl Config {
    /// The configuration as TOML with every key present (defaults filled in) and secrets
    /// replaced by `<redacted>`: what `lagwatch config show` prints.
    ///
    /// ```
    /// use lagwatch_config::Config;
    /// # fn main() -> Result<(), lagwatch_config::Error> {
    /// let text = Config::demo().to_toml_redacted()?;
    /// assert!(text.contains("evaluation_interval = \"1s\""));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Render`] if a value has no TOML form (no value of today's sections hits
    /// this; the error is there for sections yet to come).
    pub fn to_toml_redacted(&self) -> Result<String, Error> {
        toml::to_string(self).map_err(|e| Error::Render {
            message: e.to_string(),
        })
    }

    /// The built-in configuration of `lagwatch demo`: one simulated cluster (source `demo`),
    /// a console sink (sink `console`), an evaluation every second and windows of 10
    /// commits, two alert rules — the seed's Grafana alert (rule `average-lag-above-10`:
    /// average partition lag over 60 s above 10, decided every minute) and a status rule
    /// (rule `group-error`: group status ERR, decided every 10 s) — and a `log` alerter
    /// (alerter `console`). State is kept in memory only (`persist_state = false`).
    /// Everything else is at its default.
    pub fn demo() -> Config {
        let mut config = Config::default();
        config.general.evaluation_interval = Duration::from_secs(1);
        config.general.persist_state = false;
        config.model.intervals = 10;
        config.sources = BTreeMap::from([(
            "demo".to_owned(),
            SourceConfig::Demo(DemoSourceConfig::default()),
        )]);
        config.sinks = BTreeMap::from([(
            "console".to_owned(),
            SinkConfig::Stdout(StdoutSinkConfig::default()),
        )]);
        config.rules = BTreeMap::from([
            (
                "average-lag-above-10".to_owned(),
                RuleConfig::Threshold(ThresholdRuleConfig::default()),
            ),
            (
                "group-error".to_owned(),
                RuleConfig::Status(StatusRuleConfig {
                    status: StatusLevel::Err,
                    interval: Duration::from_secs(10),
                    ..StatusRuleConfig::default()
                }),
            ),
        ]);
        config.alerters = BTreeMap::from([(
            "console".to_owned(),
            AlerterConfig::Log(LogAlerterConfig::default()),
        )]);
        config
    }

    /// [`Config::demo`] with `LAGWATCH_*` overrides from `env` applied, e.g.
    /// `LAGWATCH_SOURCES__DEMO__PARTITIONS=8`.
    ///
    /// # Errors
    /// [`Error::Invalid`] when an override is invalid.
    pub fn demo_with_env(env: impl IntoIterator<Item = (String, String)>) -> Result<Config, Error> {
        let text = Config::demo().to_toml_redacted()?;
        Config::from_str_with_env(&text, Format::Toml, env)
    }
}
