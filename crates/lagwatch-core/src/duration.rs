//! Durations written as text (`"30s"`, `"1m"`, `"500ms"`, `"7d"`), for configuration.

use serde::{Deserialize, Deserializer, Serializer};
use std::time::Duration;

/// Parses a human duration such as `"30s"`, `"1m 30s"` or `"250ms"`.
pub fn parse(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("invalid duration {text:?}: {e} (write e.g. \"30s\", \"5m\", \"500ms\")"))
}

/// Formats a duration the way [`parse`] reads it.
pub fn format(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// `#[serde(with = "lagwatch_core::duration::serde_text")]` for `Duration` fields.
pub mod serde_text {
    use super::*;

    /// Deserialises a duration from text.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
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
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| parse(&t).map_err(serde::de::Error::custom))
            .transpose()
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
    fn parses_common_forms() {
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse("thirty").is_err());
    }
}
