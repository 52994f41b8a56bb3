//! Durations written as text (`"30s"`, `"1m"`, `"500ms"`, `"7d"`), for configuration.

use serde::{Deserialize, Deserializer, Serializer};
use std::time::Duration;

/// The longest duration any setting accepts: 365 days. Longer ones are refused when read, so
/// that adding a configured duration to a clock reading (`Instant + Duration`) or to a
/// timestamp in milliseconds can never overflow, and a typo such as `"10000d"` is caught.
pub const MAX: Duration = Duration::from_secs(365 * 86_400);

/// `d` in whole milliseconds as the model's timestamps count them, saturating at `i64::MAX`.
pub fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Parses a human duration such as `"30s"`, `"1m 30s"` or `"250ms"`, at most [`MAX`].
pub fn parse(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim()).map_err(|e| {
        format!("invalid duration {text:?}: {e} (write e.g. \"30s\", \"5m\", \"500ms\")")
    })?;
    if d > MAX {
        return Err(format!(
            "duration {text:?} is too long: at most 365 days (\"365d\") is accepted"
        ));
    }
    Ok(d)
}

/// Formats a duration the way [`parse`] reads it.
pub fn format(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// Reads a duration from text; any other type gets an error that shows how to write one.
struct TextVisitor;

impl serde::de::Visitor<'_> for TextVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a duration such as \"30s\", \"5m\" or \"500ms\"")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
        parse(v).map_err(E::custom)
    }
}

/// `#[serde(with = "lagwatch_core::duration::serde_text")]` for `Duration` fields.
pub mod serde_text {
    use super::*;

    /// Deserialises a duration from text.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        d.deserialize_str(TextVisitor)
    }

    /// Serialises a duration as text.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*d))
    }
}

/// `#[serde(with = "lagwatch_core::duration::serde_text_opt")]` for `Option<Duration>` fields.
pub mod serde_text_opt {
    use super::*;

    /// Deserialises an optional duration from text.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(with = "super::serde_text")] Duration);
        Option::<Wrapped>::deserialize(d).map(|w| w.map(|Wrapped(d)| d))
    }

    /// Serialises an optional duration as text.
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&format(*d)),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_refused_with_an_example() {
        #[derive(Debug, Deserialize)]
        struct S {
            #[serde(with = "serde_text")]
            #[allow(dead_code)]
            d: Duration,
        }
        let err = serde_json::from_str::<S>(r#"{"d": 5}"#)
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("a duration such as \"30s\"")));
        let ok = serde_json::from_str::<S>(r#"{"d": "5s"}"#)
            .map(|s| s.d)
            .ok();
        assert_eq!(ok, Some(Duration::from_secs(5)));
    }

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse("thirty").is_err());
    }

    #[test]
    fn absurd_durations_are_refused() {
        assert_eq!(parse("365d"), Ok(Duration::from_secs(365 * 86_400)));
        let err = parse("366d").unwrap_err();
        assert!(
            err.contains("\"366d\"") && err.contains("at most 365 days"),
            "{err}"
        );
        let err = parse("500000000y").unwrap_err();
        assert!(err.contains("at most 365 days"), "{err}");
    }
}
