use std::fmt;

/// Whether retrying may help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorClass {
    /// A network failure, a timeout, an overloaded peer: retrying later may succeed.
    Transient,
    /// Bad configuration, refused credentials, invalid data: retrying will not help.
    Permanent,
    /// The pipeline is shutting down.
    Closed,
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorClass::Transient => "transient",
            ErrorClass::Permanent => "permanent",
            ErrorClass::Closed => "closed",
        })
    }
}

/// An error reported by a source, sink or alerter, naming the component and what it talked to.
///
/// Never put a secret into `message`: name a URL with
/// [`redact_url`](lagwatch_core::secret::redact_url).
#[derive(Debug, thiserror::Error)]
#[error("{component}: {message}")]
pub struct ComponentError {
    /// Whether retrying may help.
    pub class: ErrorClass,
    /// The component's name (e.g. `sink.file`, `source.kafka[live]`).
    pub component: String,
    /// What went wrong, with context (cluster, group, URL, path).
    pub message: String,
    /// The underlying error, if any.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ComponentError {
    /// A transient error.
    pub fn transient(component: impl Into<String>, message: impl Into<String>) -> Self {
        ComponentError {
            class: ErrorClass::Transient,
            component: component.into(),
            message: message.into(),
            source: None,
        }
    }

    /// A permanent error.
    pub fn permanent(component: impl Into<String>, message: impl Into<String>) -> Self {
        ComponentError {
            class: ErrorClass::Permanent,
            component: component.into(),
            message: message.into(),
            source: None,
        }
    }

    /// The pipeline is closing, so the component's output cannot go anywhere.
    pub fn closed(component: impl Into<String>) -> Self {
        ComponentError {
            class: ErrorClass::Closed,
            component: component.into(),
            message: "pipeline is shutting down".into(),
            source: None,
        }
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Whether retrying may help.
    pub fn is_retryable(&self) -> bool {
        self.class == ErrorClass::Transient
    }
}
