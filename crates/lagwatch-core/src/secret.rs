//! A value that never shows itself in logs, errors or serialised output.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Text shown in place of a secret.
pub const REDACTED: &str = "<redacted>";

/// Holds a secret (password, token, webhook URL). `Debug`, `Display` and `Serialize` print
/// [`REDACTED`]; the value is only reachable through [`Secret::expose`]. An empty secret
/// serialises as an empty string: there is nothing to hide, and a configuration shown with
/// `lagwatch config show` then reads back the same.
///
/// ```
/// use lagwatch_core::secret::Secret;
/// let s = Secret::new("hunter2".to_string());
/// assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<T = String>(T);

impl<T> Secret<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The secret value itself. Call only where the value is handed to the peer that needs it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T: AsRef<str>> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.as_ref().is_empty() {
            serializer.serialize_str("")
        } else {
            serializer.serialize_str(REDACTED)
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Secret)
    }
}

/// Shows a URL with everything after the host replaced, so a webhook URL whose path is the
/// secret can still be named in a log line: `https://hooks.slack.com/<redacted>`.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s, r),
        None => return REDACTED.to_owned(),
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..host_end];
    // Drop user:password@ if present.
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    if host_end == rest.len() {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{host}/{REDACTED}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_redacted() {
        let s = Secret::new("pw".to_string());
        assert_eq!(
            serde_json::to_string(&s).ok().as_deref(),
            Some("\"<redacted>\"")
        );
    }

    #[test]
    fn redact_url_keeps_only_scheme_and_host() {
        assert_eq!(
            redact_url("https://hooks.slack.com/services/T0/B0/xyz"),
            "https://hooks.slack.com/<redacted>"
        );
        assert_eq!(
            redact_url("http://u:p@127.0.0.1:9200"),
            "http://127.0.0.1:9200"
        );
        assert_eq!(redact_url("not a url"), REDACTED);
    }
}
