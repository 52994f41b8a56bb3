//! A value that never shows itself in logs, errors or serialised output.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cell::Cell;
use std::fmt;

/// Text shown in place of a secret.
pub const REDACTED: &str = "<redacted>";

thread_local! {
    /// Set while [`serialize_exposed`] runs on this thread.
    static EXPOSED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with [`Secret`] and [`SecretUrl`] serialising as their real values on this
/// thread, and restores redaction afterwards (also when `f` panics). For turning a value into
/// text that is read back at once in the same process, such as a configuration re-read with
/// environment overrides; that text must never be printed, logged or returned in an error.
///
/// ```
/// use lagwatch_core::secret::{serialize_exposed, Secret};
/// let s = Secret::new("hunter2".to_string());
/// assert_eq!(serialize_exposed(|| serde_json::to_string(&s)).ok().as_deref(), Some("\"hunter2\""));
/// assert_eq!(serde_json::to_string(&s).ok().as_deref(), Some("\"<redacted>\""));
/// ```
pub fn serialize_exposed<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            EXPOSED.with(|e| e.set(self.0));
        }
    }
    let _restore = Restore(EXPOSED.with(|e| e.replace(true)));
    f()
}

fn exposed() -> bool {
    EXPOSED.with(Cell::get)
}

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
        if self.0.as_ref().is_empty() || exposed() {
            serializer.serialize_str(self.0.as_ref())
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

/// A URL that may carry credentials in its user-info part (`https://user:password@host/`),
/// such as an Elasticsearch `url` or a Burrow server. `Debug`, `Display` and `Serialize`
/// show it with the user-info replaced by [`REDACTED`] (`https://<redacted>@host/`) and
/// everything else kept, so `lagwatch config show`, errors and logs can still name the
/// server; the URL itself is only reachable through [`SecretUrl::expose`], for requests.
///
/// ```
/// use lagwatch_core::secret::SecretUrl;
/// let url = SecretUrl::new("http://elastic:hunter2@127.0.0.1:9200/");
/// assert_eq!(url.to_string(), "http://<redacted>@127.0.0.1:9200/");
/// assert_eq!(format!("{url:?}"), "\"http://<redacted>@127.0.0.1:9200/\"");
/// assert_eq!(url.expose(), "http://elastic:hunter2@127.0.0.1:9200/");
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretUrl(String);

impl SecretUrl {
    /// Wraps a URL.
    pub fn new(url: impl Into<String>) -> Self {
        SecretUrl(url.into())
    }

    /// The URL with its credentials. Call only to send a request.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with the user-info part (if any) replaced by [`REDACTED`].
    pub fn redacted(&self) -> String {
        redact_userinfo(&self.0)
    }
}

impl From<String> for SecretUrl {
    fn from(url: String) -> Self {
        SecretUrl(url)
    }
}

impl From<&str> for SecretUrl {
    fn from(url: &str) -> Self {
        SecretUrl(url.to_owned())
    }
}

impl PartialEq<str> for SecretUrl {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for SecretUrl {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.redacted(), f)
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Serialize for SecretUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if exposed() {
            serializer.serialize_str(&self.0)
        } else {
            serializer.serialize_str(&self.redacted())
        }
    }
}

impl<'de> Deserialize<'de> for SecretUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(SecretUrl)
    }
}

/// `url` with the user-info part (`user:password@` before the host) replaced by
/// [`REDACTED`]; the scheme, host, port, path and query stay. Text without `://` is treated
/// as starting with the host.
///
/// ```
/// use lagwatch_core::secret::redact_userinfo;
/// assert_eq!(redact_userinfo("https://u:p@es:9200/x?y"), "https://<redacted>@es:9200/x?y");
/// assert_eq!(redact_userinfo("http://es:9200"), "http://es:9200");
/// ```
pub fn redact_userinfo(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{REDACTED}{}", &url[..start], &rest[at..]),
        None => url.to_owned(),
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

    #[test]
    fn secret_urls_hide_only_the_userinfo() {
        let url = SecretUrl::new("https://user:pa@ss@burrow:8000/v3/kafka?x=1");
        for shown in [
            url.to_string(),
            format!("{url:?}"),
            serde_json::to_string(&url).unwrap_or_default(),
            url.redacted(),
        ] {
            assert!(!shown.contains("pa") && !shown.contains("user"), "{shown}");
            assert!(
                shown.contains("https://<redacted>@burrow:8000/v3/kafka?x=1"),
                "{shown}"
            );
        }
        assert_eq!(url.expose(), "https://user:pa@ss@burrow:8000/v3/kafka?x=1");
        let plain = SecretUrl::from("http://127.0.0.1:9200");
        assert_eq!(plain.to_string(), "http://127.0.0.1:9200");
        assert_eq!(redact_userinfo("u:p@host:1/a@b"), "<redacted>@host:1/a@b");
        let read: SecretUrl = serde_json::from_str("\"http://a:b@h\"").unwrap();
        assert_eq!(read.expose(), "http://a:b@h");
    }
}
