use crate::ComponentError;
use crate::sink::{first_error, futures_all};
use async_trait::async_trait;
use lagwatch_core::alert::AlertNotification;
use std::sync::Arc;

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

#[async_trait]
impl<T: Alerter + ?Sized> Alerter for Arc<T> {
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

/// Fan-out: every alerter gets every notification; attempts are summed; the first error is
/// returned after every alerter was tried.
#[async_trait]
impl<A: Alerter> Alerter for Vec<A> {
    fn name(&self) -> &str {
        "fanout"
    }
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        first_error(futures_all(self.iter().map(|a| a.healthcheck())).await).map(|_| ())
    }
    async fn deliver(&self, n: &AlertNotification) -> Result<Delivery, ComponentError> {
        first_error(futures_all(self.iter().map(|a| a.deliver(n))).await).map(|ds| Delivery {
            attempts: ds.iter().map(|d| d.attempts).sum(),
        })
    }
}
