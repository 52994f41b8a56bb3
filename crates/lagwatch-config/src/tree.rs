//! The merged configuration as a plain value tree, and a serde deserializer over it.
//!
//! The `config` crate merges the file and the environment into its own value tree. We copy
//! that tree into [`Node`] (sorted maps, so problems come out in a stable order) and
//! deserialise each section from it ourselves, which gives two things `config`'s own
//! deserializer does not:
//!
//! * serde's standard error messages (`invalid type: string "ten", expected usize`), which
//!   [`serde_path_to_error`] then prefixes with the key path;
//! * exact text for strings: environment variables arrive as text and are turned into a
//!   number or a boolean only where the target field asks for one, so a value such as `007`
//!   stays `007` in a string field.

use serde::de::value::{MapAccessDeserializer, MapDeserializer, SeqDeserializer};
use serde::de::{self, IntoDeserializer, Visitor};
use std::collections::BTreeMap;

/// Error type of the [`Node`] deserializer: a message, serde's standard wording.
pub(crate) type DeError = de::value::Error;

/// One value of the configuration tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// YAML `~` / `null`, or a key without a value.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// Any integer (`i128` holds every integer the parsers produce).
    Int(i128),
    /// A floating-point number.
    Float(f64),
    /// Text; parsed into a number or boolean where the target field asks for one.
    Text(String),
    /// A list.
    Seq(Vec<Node>),
    /// A table, sorted by key.
    Map(BTreeMap<String, Node>),
}

impl Node {
    /// Copies `config`'s value tree.
    pub(crate) fn from_config(value: config::Value) -> Node {
        use config::ValueKind;
        match value.kind {
            ValueKind::Nil => Node::Null,
            ValueKind::Boolean(b) => Node::Bool(b),
            ValueKind::I64(i) => Node::Int(i.into()),
            ValueKind::I128(i) => Node::Int(i),
            ValueKind::U64(u) => Node::Int(u.into()),
            ValueKind::U128(u) => match i128::try_from(u) {
                Ok(i) => Node::Int(i),
                // Far beyond any configuration value; keep the digits for the error message.
                Err(_) => Node::Text(u.to_string()),
            },
            ValueKind::Float(f) => Node::Float(f),
            ValueKind::String(s) => Node::Text(s),
            ValueKind::Array(items) => {
                Node::Seq(items.into_iter().map(Node::from_config).collect())
            }
            ValueKind::Table(map) => Node::Map(
                map.into_iter()
                    .map(|(k, v)| (k, Node::from_config(v)))
                    .collect(),
            ),
        }
    }

    /// Removes the value at `path` (keys below this node). Returns whether something was
    /// removed.
    pub(crate) fn remove(&mut self, path: &[String]) -> bool {
        match (self, path) {
            (Node::Map(map), [last]) => map.remove(last).is_some(),
            (Node::Map(map), [first, rest @ ..]) => {
                map.get_mut(first).is_some_and(|child| child.remove(rest))
            }
            (Node::Seq(items), [last]) => match last.parse::<usize>() {
                Ok(i) if i < items.len() => {
                    items.remove(i);
                    true
                }
                _ => false,
            },
            (Node::Seq(items), [first, rest @ ..]) => first
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get_mut(i))
                .is_some_and(|child| child.remove(rest)),
            _ => false,
        }
    }

    /// A short description of what kind of value this is, for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Null => "an empty value",
            Node::Bool(_) => "a boolean",
            Node::Int(_) => "an integer",
            Node::Float(_) => "a floating-point number",
            Node::Text(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a table",
        }
    }

    fn visit_int<'de, V: Visitor<'de>>(i: i128, visitor: V) -> Result<V::Value, DeError> {
        if let Ok(u) = u64::try_from(i) {
            visitor.visit_u64(u)
        } else if let Ok(s) = i64::try_from(i) {
            visitor.visit_i64(s)
        } else {
            visitor.visit_i128(i)
        }
    }
}

/// Parses text for an integer field; `None` leaves the text to serde's type error.
fn parse_int(text: &str) -> Option<i128> {
    let t = text.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return None;
    }
    t.replace('_', "").parse().ok()
}

fn parse_float(text: &str) -> Option<f64> {
    text.trim().parse().ok()
}

fn parse_bool(text: &str) -> Option<bool> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("true") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

macro_rules! deserialize_integer {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            match self {
                Node::Text(text) => match parse_int(&text) {
                    Some(i) => Node::visit_int(i, visitor),
                    None => visitor.visit_string(text),
                },
                other => other.deserialize_any(visitor),
            }
        }
    )*};
}

macro_rules! deserialize_float {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            match self {
                Node::Text(text) => match parse_float(&text) {
                    Some(f) => visitor.visit_f64(f),
                    None => visitor.visit_string(text),
                },
                other => other.deserialize_any(visitor),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Node {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self {
            Node::Null => visitor.visit_unit(),
            Node::Bool(b) => visitor.visit_bool(b),
            Node::Int(i) => Node::visit_int(i, visitor),
            Node::Float(f) => visitor.visit_f64(f),
            Node::Text(s) => visitor.visit_string(s),
            Node::Seq(items) => {
                let mut seq = SeqDeserializer::new(items.into_iter());
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Node::Map(map) => {
                let mut access = MapDeserializer::new(map.into_iter());
                let value = visitor.visit_map(&mut access)?;
                access.end()?;
                Ok(value)
            }
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self {
            Node::Text(text) => match parse_bool(&text) {
                Some(b) => visitor.visit_bool(b),
                None => visitor.visit_string(text),
            },
            other => other.deserialize_any(visitor),
        }
    }

    deserialize_integer! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
    }

    deserialize_float! { deserialize_f32 deserialize_f64 }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self {
            Node::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self {
            // A unit variant written as its name: `log_format = "json"`.
            Node::Text(text) => visitor.visit_enum(text.into_deserializer()),
            // A variant with data written as a one-key table: `{ name = { ... } }`.
            Node::Map(map) => visitor.visit_enum(MapAccessDeserializer::new(MapDeserializer::new(
                map.into_iter(),
            ))),
            other => other.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, DeError> for Node {
    type Deserializer = Node;

    fn into_deserializer(self) -> Node {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    fn text(s: &str) -> Node {
        Node::Text(s.to_owned())
    }

    fn err<T: for<'de> Deserialize<'de> + std::fmt::Debug>(node: Node) -> String {
        match T::deserialize(node) {
            Ok(v) => format!("unexpectedly parsed {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn text_becomes_numbers_and_booleans_where_asked() {
        assert_eq!(usize::deserialize(text("15")), Ok(15));
        assert_eq!(u64::deserialize(text(" 1_000 ")), Ok(1000));
        assert_eq!(i32::deserialize(text("-3")), Ok(-3));
        assert_eq!(f32::deserialize(text("0.5")), Ok(0.5));
        assert_eq!(bool::deserialize(text("TRUE")), Ok(true));
        assert_eq!(bool::deserialize(text("false")), Ok(false));
    }

    #[test]
    fn text_stays_exact_in_string_fields() {
        assert_eq!(String::deserialize(text("007")), Ok("007".to_owned()));
    }

    #[test]
    fn type_errors_use_serde_wording() {
        assert_eq!(
            err::<usize>(text("ten")),
            "invalid type: string \"ten\", expected usize"
        );
        assert_eq!(
            err::<String>(Node::Int(123)),
            "invalid type: integer `123`, expected a string"
        );
        assert_eq!(
            err::<u32>(Node::Int(-1)),
            "invalid value: integer `-1`, expected u32"
        );
        assert_eq!(
            err::<bool>(text("yes")),
            "invalid type: string \"yes\", expected a boolean"
        );
    }

    #[test]
    fn removes_nested_keys() {
        let mut tree = Node::Map(BTreeMap::from([(
            "a".to_owned(),
            Node::Map(BTreeMap::from([
                ("b".to_owned(), Node::Int(1)),
                ("c".to_owned(), Node::Int(2)),
            ])),
        )]));
        assert!(tree.remove(&["a".to_owned(), "b".to_owned()]));
        assert!(!tree.remove(&["a".to_owned(), "b".to_owned()]));
        assert_eq!(
            tree,
            Node::Map(BTreeMap::from([(
                "a".to_owned(),
                Node::Map(BTreeMap::from([("c".to_owned(), Node::Int(2))]))
            )]))
        );
    }
}
