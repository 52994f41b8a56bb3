use crate::ComponentError;
use async_trait::async_trait;
use lagwatch_core::alert::AlertNotification;

/// How a notification was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Delivery {
    /// Attempts it took (1 when the first try succeeded).
    pub attempts: u32,
}

/// Delivers alert notifications (Slack, a webhook, the console).
#[async_trait]
pub trait Alerter: Send + Sync {
    /// A short name for logs and metrics, e.g. `slack` or `webhook[ops]`.
    fn name(&self) -> &str;

    /// Checks what can be checked without sending a message (configuration, templates).
    async fn healthcheck(&self) -> Result<(), ComponentError>;

    /// Delivers one notification, retrying transient failures as the alerter sees fit.
    async fn deliver(&self, notification: &AlertNotification) -> Result<Delivery, ComponentError>;
}

#[async_trait]
impl<T: Alerter + ?Sized> Alerter for Box<T> {
    fn name(&self) -> &str {
        (**self).name()
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        (**self).healthcheck().await
    }
    async fn deliver(&self, n: &AlertNotification) -> Result<Delivery, ComponentError> {
        (**self).deliver(n).await
    }
}
