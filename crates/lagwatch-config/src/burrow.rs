//! The `burrow` source section: reading an existing Burrow's v3 HTTP API, the way Telegraf's
//! `inputs.burrow` does.

use lagwatch_core::duration::serde_text;
use lagwatch_core::secret::{Secret, SecretUrl};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// A source polling one or more Burrow v3 HTTP APIs.
///
/// Key names follow Telegraf's `inputs.burrow` options where they exist, so a Telegraf
/// section translates key by key. Cluster names in events are Burrow's own cluster names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BurrowSourceConfig {
    /// Base URLs of the Burrow servers. A URL without a path gets `api_prefix`; a URL with a
    /// path uses that path instead. Credentials in a URL (`http://user:password@host`) are
    /// shown as `<redacted>` everywhere.
    #[serde(deserialize_with = "string_list::deserialize")]
    pub servers: Vec<SecretUrl>,
    /// API path used for URLs without a path.
    pub api_prefix: String,
    /// Time between two polls of every server.
    #[serde(with = "serde_text")]
    pub interval: Duration,
    /// Time limit of one HTTP request (connecting, headers and body).
    #[serde(with = "serde_text")]
    pub response_timeout: Duration,
    /// Per-topic and per-group requests in flight at once, per server.
    pub concurrent_connections: usize,
    /// User name for HTTP basic authentication; empty: no authentication.
    pub username: String,
    /// Password for HTTP basic authentication.
    pub password: Secret,
    /// PEM file of a certificate authority trusted for `https` servers (empty: the system's).
    pub tls_ca: PathBuf,
    /// Cluster name globs to read (empty: all).
    #[serde(deserialize_with = "string_list::deserialize")]
    pub clusters_include: Vec<String>,
    /// Cluster name globs to skip (wins over the include list).
    #[serde(deserialize_with = "string_list::deserialize")]
    pub clusters_exclude: Vec<String>,
    /// Group name globs to read (empty: all).
    #[serde(deserialize_with = "string_list::deserialize")]
    pub groups_include: Vec<String>,
    /// Group name globs to skip (wins over the include list).
    #[serde(deserialize_with = "string_list::deserialize")]
    pub groups_exclude: Vec<String>,
    /// Topic name globs to read (empty: all).
    #[serde(deserialize_with = "string_list::deserialize")]
    pub topics_include: Vec<String>,
    /// Topic name globs to skip (wins over the include list).
    #[serde(deserialize_with = "string_list::deserialize")]
    pub topics_exclude: Vec<String>,
}

impl Default for BurrowSourceConfig {
    fn default() -> Self {
        BurrowSourceConfig {
            servers: vec![SecretUrl::new("http://localhost:8000")],
            api_prefix: "/v3/kafka".to_owned(),
            interval: Duration::from_secs(10),
            response_timeout: Duration::from_secs(5),
            concurrent_connections: 20,
            username: String::new(),
            password: Secret::default(),
            tls_ca: PathBuf::new(),
            clusters_include: Vec::new(),
            clusters_exclude: Vec::new(),
            groups_include: Vec::new(),
            groups_exclude: Vec::new(),
            topics_include: Vec::new(),
            topics_exclude: Vec::new(),
        }
    }
}

/// The semantic checks of a burrow source section at `path`.
pub(crate) fn check(path: &str, c: &BurrowSourceConfig, report: &mut dyn FnMut(String, String)) {
    if c.servers.is_empty() {
        report(
            format!("{path}.servers"),
            "must name at least one server".into(),
        );
    }
    for (i, server) in c.servers.iter().enumerate() {
        let server = server.expose();
        let scheme_ok = server.starts_with("http://") || server.starts_with("https://");
        let host_ok = server
            .split_once("://")
            .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
        if !scheme_ok || !host_ok {
            report(
                format!("{path}.servers.{i}"),
                format!(
                    "must be an http:// or https:// URL with a host, got {:?}",
                    lagwatch_core::secret::redact_url(server)
                ),
            );
        }
    }
    if !c.api_prefix.starts_with('/') {
        report(
            format!("{path}.api_prefix"),
            format!("must start with '/', got {:?}", c.api_prefix),
        );
    }
    for (key, value) in [
        ("interval", c.interval),
        ("response_timeout", c.response_timeout),
    ] {
        if value.is_zero() {
            report(format!("{path}.{key}"), "must be longer than 0s".into());
        }
    }
    if c.concurrent_connections < 1 {
        report(
            format!("{path}.concurrent_connections"),
            "must be at least 1".into(),
        );
    }
    for (key, list) in [
        ("clusters_include", &c.clusters_include),
        ("clusters_exclude", &c.clusters_exclude),
        ("groups_include", &c.groups_include),
        ("groups_exclude", &c.groups_exclude),
        ("topics_include", &c.topics_include),
        ("topics_exclude", &c.topics_exclude),
    ] {
        for (i, pattern) in list.iter().enumerate() {
            if let Some(problem) = glob_problem(pattern) {
                report(
                    format!("{path}.{key}.{i}"),
                    format!("glob {pattern:?} {problem}"),
                );
            }
        }
    }
}

/// Checks a glob pattern of the burrow source (`*`, `?`, `[...]`, `{a,b}`): balanced
/// brackets and braces, no empty class. Returns what is wrong.
pub(crate) fn glob_problem(pattern: &str) -> Option<String> {
    let mut chars = pattern.chars().peekable();
    let mut braces = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.next().is_none() => {
                return Some("ends with an unfinished escape `\\`".into());
            }
            '[' => {
                let mut members = 0usize;
                if chars.peek() == Some(&'!') {
                    chars.next();
                }
                loop {
                    match chars.next() {
                        None => return Some("has a `[` without its `]`".into()),
                        Some(']') if members > 0 => break,
                        Some(_) => members += 1,
                    }
                }
            }
            '{' => braces += 1,
            '}' => {
                if braces == 0 {
                    return Some("has a `}` without its `{`".into());
                }
                braces -= 1;
            }
            _ => {}
        }
    }
    (braces > 0).then(|| "has a `{` without its `}`".into())
}

/// A list of strings written as a list or, from an environment variable, as one
/// comma-separated string.
mod string_list {
    use serde::de::{self, Deserializer, SeqAccess, Visitor};
    use std::fmt;

    pub(super) fn deserialize<'de, D: Deserializer<'de>, T: From<String>>(
        d: D,
    ) -> Result<Vec<T>, D::Error> {
        struct ListVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: From<String>> Visitor<'de> for ListVisitor<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of strings or a comma-separated string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<T>, E> {
                Ok(v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| T::from(s.to_owned()))
                    .collect())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    out.push(T::from(item));
                }
                Ok(out)
            }
        }
        d.deserialize_any(ListVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_problems_are_named() {
        for good in ["*", "a?c", "[abc]*", "[!a-z]x", "{a,b}-*", "[]]", r"a\*"] {
            assert_eq!(glob_problem(good), None, "{good}");
        }
        assert_eq!(
            glob_problem("[ab").as_deref(),
            Some("has a `[` without its `]`")
        );
        assert_eq!(
            glob_problem("{a,b").as_deref(),
            Some("has a `{` without its `}`")
        );
        assert_eq!(
            glob_problem("a}").as_deref(),
            Some("has a `}` without its `{`")
        );
    }
}
