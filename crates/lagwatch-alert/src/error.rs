//! Errors of building rules and alerters and of the state file.

/// What went wrong while setting up alerting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AlertError {
    /// A rule could not be compiled.
    #[error("rules.{rule}: {message}")]
    Rule {
        /// Rule name.
        rule: String,
        /// What was wrong.
        message: String,
    },
    /// An alerter could not be built (bad template, method, header, HTTP client).
    #[error("alerters.{alerter}: {message}")]
    Alerter {
        /// Alerter name.
        alerter: String,
        /// What was wrong.
        message: String,
    },
}
