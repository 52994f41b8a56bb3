//! Reading typed values out of an imported TOML file, shared by both importers. Every reader
//! takes the key's path (as the source file names it) so a wrong value is reported where it
//! is; the importers turn [`ValueError`] into their own `Value` error variant.

use std::time::Duration;
use toml::Value;

/// A key whose value has the wrong kind or is out of range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValueError {
    /// The key path in the imported file.
    pub(crate) path: String,
    /// What is wrong, naming the value found.
    pub(crate) message: String,
}

impl ValueError {
    pub(crate) fn new(path: &str, message: impl Into<String>) -> ValueError {
        ValueError {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}

/// `true` or `false`.
pub(crate) fn boolean(path: &str, value: &Value) -> Result<bool, ValueError> {
    value
        .as_bool()
        .ok_or_else(|| ValueError::new(path, format!("expected true or false, found {value}")))
}

/// A string.
pub(crate) fn text(path: &str, value: &Value) -> Result<String, ValueError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        other => Err(ValueError::new(
            path,
            format!("expected a string, found {other}"),
        )),
    }
}

/// Any whole number.
pub(crate) fn integer(path: &str, value: &Value) -> Result<i64, ValueError> {
    value
        .as_integer()
        .ok_or_else(|| ValueError::new(path, format!("expected a whole number, found {value}")))
}

/// A whole number of 0 or more.
pub(crate) fn unsigned(path: &str, value: &Value) -> Result<u64, ValueError> {
    match value {
        Value::Integer(i) if *i >= 0 => Ok(i.unsigned_abs()),
        other => Err(ValueError::new(
            path,
            format!("expected a whole number of 0 or more, found {other}"),
        )),
    }
}

/// A whole number of 1 or more (a count of things).
pub(crate) fn count(path: &str, value: &Value) -> Result<usize, ValueError> {
    match value {
        Value::Integer(i) if *i >= 1 => Ok(usize::try_from(*i).unwrap_or(usize::MAX)),
        other => Err(ValueError::new(
            path,
            format!("expected a whole number of 1 or more, found {other}"),
        )),
    }
}

/// A list of strings; an item is named `path[i]`.
pub(crate) fn strings(path: &str, value: &Value) -> Result<Vec<String>, ValueError> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| text(&format!("{path}[{i}]"), v))
            .collect(),
        other => Err(ValueError::new(
            path,
            format!("expected a list of strings, found {other}"),
        )),
    }
}

/// A host list as Burrow writes it: a list of strings (an item is named `path.i`) or one
/// comma-separated string; the result is comma-separated.
pub(crate) fn servers(path: &str, value: &Value) -> Result<String, ValueError> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| text(&format!("{path}.{i}"), v))
            .collect::<Result<Vec<_>, _>>()
            .map(|list| list.join(",")),
        other => text(path, other),
    }
}

/// A number of seconds (whole or fractional, as Burrow writes durations), at most
/// [`lagwatch_core::duration::MAX`].
pub(crate) fn seconds(path: &str, value: &Value) -> Result<Duration, ValueError> {
    let max = lagwatch_core::duration::MAX;
    let too_long = || {
        ValueError::new(
            path,
            format!(
                "{value} seconds is too long: at most {} (365 days) is accepted",
                max.as_secs()
            ),
        )
    };
    match value {
        Value::Integer(s) if *s >= 0 => {
            let d = Duration::from_secs(s.unsigned_abs());
            if d > max { Err(too_long()) } else { Ok(d) }
        }
        Value::Float(s) if s.is_finite() && *s >= 0.0 => {
            if *s > max.as_secs_f64() {
                Err(too_long())
            } else {
                Ok(Duration::from_secs_f64(*s))
            }
        }
        other => Err(ValueError::new(
            path,
            format!("expected a number of seconds, found {other}"),
        )),
    }
}

/// A duration as Telegraf writes it: a string like `"5s"` (a bare number in a string is
/// seconds), or a number of seconds.
pub(crate) fn duration(path: &str, value: &Value) -> Result<Duration, ValueError> {
    let bad = |found: &Value| {
        ValueError::new(
            path,
            format!("expected a duration string like \"5s\", found {found}"),
        )
    };
    match value {
        Value::String(s) => {
            if let Ok(seconds) = s.trim().parse::<u64>() {
                return Ok(Duration::from_secs(seconds));
            }
            lagwatch_core::duration::parse(s).map_err(|_| bad(value))
        }
        Value::Integer(s) if *s >= 0 => Ok(Duration::from_secs(s.unsigned_abs())),
        Value::Float(s) if s.is_finite() && *s >= 0.0 => Ok(Duration::from_secs_f64(*s)),
        other => Err(bad(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Value {
        match text.parse::<toml::Table>() {
            Ok(mut t) => t.remove("v").unwrap_or(Value::Boolean(false)),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn each_reader_names_the_key_and_the_value_found() {
        let wrong = value("v = \"x\"");
        for (found, expected) in [
            (
                boolean("a.b", &wrong).err(),
                "expected true or false, found \"x\"",
            ),
            (
                integer("a.b", &wrong).err(),
                "expected a whole number, found \"x\"",
            ),
            (
                unsigned("a.b", &value("v = -1")).err(),
                "expected a whole number of 0 or more, found -1",
            ),
            (
                count("a.b", &value("v = 0")).err(),
                "expected a whole number of 1 or more, found 0",
            ),
            (
                strings("a.b", &wrong).err(),
                "expected a list of strings, found \"x\"",
            ),
            (
                seconds("a.b", &wrong).err(),
                "expected a number of seconds, found \"x\"",
            ),
            (
                duration("a.b", &wrong).err(),
                "expected a duration string like \"5s\", found \"x\"",
            ),
        ] {
            assert_eq!(found, Some(ValueError::new("a.b", expected)));
        }
        assert_eq!(
            strings("a.b", &value("v = [\"x\", 1]")).err(),
            Some(ValueError::new("a.b[1]", "expected a string, found 1"))
        );
        assert_eq!(
            servers("a.b", &value("v = [\"x\", 1]")).err(),
            Some(ValueError::new("a.b.1", "expected a string, found 1"))
        );
    }

    #[test]
    fn good_values_are_read() {
        assert_eq!(
            servers("s", &value("v = [\"a:1\", \"b:2\"]")),
            Ok("a:1,b:2".into())
        );
        assert_eq!(
            seconds("s", &value("v = 1.5")),
            Ok(Duration::from_millis(1500))
        );
        assert_eq!(
            duration("s", &value("v = \"7\"")),
            Ok(Duration::from_secs(7))
        );
        assert_eq!(
            duration("s", &value("v = \"2m\"")),
            Ok(Duration::from_secs(120))
        );
        assert_eq!(count("s", &value("v = 3")), Ok(3));
        assert_eq!(unsigned("s", &value("v = 0")), Ok(0));
    }
}
