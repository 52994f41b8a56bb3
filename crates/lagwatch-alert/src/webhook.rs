//! The generic webhook alerter.

use crate::delivery::{self, HttpTarget};
use crate::template::{self, ALERTMANAGER_PRESET, BURROW_PRESET, JSON_PRESET};
use async_trait::async_trait;
use lagwatch_component::{Alerter, ComponentError, Delivery, FromConfig};
use lagwatch_config::{WebhookAlerterConfig, WebhookPreset};
use lagwatch_core::alert::AlertNotification;

/// Sends every notification to one HTTP endpoint, the body rendered from a minijinja template
/// (the configured `body`, or the preset's).
#[derive(Debug)]
pub struct WebhookAlerter {
    name: String,
    target: HttpTarget,
    body: String,
    content_type: String,
}

impl FromConfig for WebhookAlerter {
    type Config = WebhookAlerterConfig;

    /// Builds the alerter `webhook[<name>]` (`name` is the key of its `[alerters.<name>]`
    /// section). The template is checked against a sample notification.
    ///
    /// # Errors
    /// A permanent [`ComponentError`] of `webhook[<name>]` for an invalid URL, method,
    /// header or template.
    fn from_config(
        name: &str,
        config: &WebhookAlerterConfig,
    ) -> Result<WebhookAlerter, ComponentError> {
        let component = format!("webhook[{name}]");
        let fail = |message: String| ComponentError::permanent(component.clone(), message);
        let body = if config.body.is_empty() {
            match config.preset {
                WebhookPreset::Json => JSON_PRESET,
                WebhookPreset::Burrow => BURROW_PRESET,
                WebhookPreset::Alertmanager => ALERTMANAGER_PRESET,
            }
            .to_owned()
        } else {
            config.body.clone()
        };
        let pairs: Vec<_> = config
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let headers = delivery::headers(&pairs).map_err(fail)?;
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
            .to_owned();
        let target = HttpTarget::new(
            component.clone(),
            delivery::client(config.timeout).map_err(fail)?,
            config.url.clone(),
            delivery::method(&config.method).map_err(fail)?,
            headers,
            config.max_retries,
            config.min_interval,
        )
        .map_err(fail)?;
        let alerter = WebhookAlerter {
            name: component.clone(),
            target,
            body,
            content_type,
        };
        alerter.check_template().map_err(fail)?;
        Ok(alerter)
    }
}

impl WebhookAlerter {
    /// Replaces the retry backoff (tests use short waits).
    pub fn with_backoff(mut self, backoff: crate::Backoff) -> Self {
        self.target.backoff = backoff;
        self
    }

    /// Renders the body of `n`.
    ///
    /// # Errors
    /// The template engine's message when rendering fails.
    pub fn render(&self, n: &AlertNotification) -> Result<String, String> {
        let env = minijinja::Environment::new();
        let vars =
            minijinja::Value::from(minijinja::value::Serde(template::variables(n, &self.name)));
        env.render_str(&self.body, vars)
            .map_err(|e| format!("body template: {e}"))
    }

    fn check_template(&self) -> Result<(), String> {
        for n in crate::slack::samples() {
            self.render(&n)?;
        }
        Ok(())
    }
}

#[async_trait]
impl Alerter for WebhookAlerter {
    fn name(&self) -> &str {
        &self.name
    }

    async fn healthcheck(&self) -> Result<(), ComponentError> {
        self.check_template()
            .map_err(|m| ComponentError::permanent(self.name.clone(), m))
    }

    async fn deliver(&self, n: &AlertNotification) -> Result<Delivery, ComponentError> {
        let body = self
            .render(n)
            .map_err(|m| ComponentError::permanent(self.name.clone(), m))?;
        self.target
            .send(
                body.into_bytes(),
                &self.content_type,
                &n.incident_id,
                &n.idempotency_key,
            )
            .await
    }
}
