//! Comparing the *shape* of two JSON documents: keys and JSON types, not values.
//!
//! Used to hold lagwatch's answers next to a real service's answers (Burrow's `/v3/kafka/...`
//! API) when the values cannot be equal (offsets, timestamps) but every client that parses the
//! real service must be able to parse lagwatch the same way.
//!
//! The rules of [`compare_shapes`]:
//!
//! * **Types**: `null`, `bool`, `number`, `string`, `array` and `object` must match. `null` on
//!   one side and an object on the other is a difference (a client that reads a field of the
//!   object fails on `null`, and the other way round).
//! * **Objects** must have the same set of keys; a key present on one side only is reported
//!   once, and common keys are compared recursively.
//! * **Arrays** of the same length are compared element by element (a fixed-size window such
//!   as Burrow's commit ring mixes `null` slots and objects in a fixed order). Otherwise every
//!   element of ours is compared with the *first* element of theirs, and every element of
//!   theirs with the first element of ours, so a list whose elements differ in shape among
//!   themselves is caught as well. When either side is empty nothing can be compared and
//!   nothing is reported (an empty list is data, not shape).
//! * **Numbers**: integer and float literals are told apart only in the direction that breaks
//!   clients: ours a float literal (`1.0`, `0.5`, `1e3`) where theirs is an integer literal.
//!   A client written against theirs may decode that field into an integer type (Go's
//!   `int64`/`uint64`, as Telegraf does), which refuses `1.0`. The opposite (ours an integer
//!   where theirs is a float) is accepted by every float decoder and is not reported. Keys
//!   listed in [`ShapeRules::float_keys`] hold floats that the other side may print without a
//!   fraction (Go prints the `float32` `1.0` as `1`), so they accept any number;
//!   [`ShapeRules::default`] lists Burrow's only float field, `complete`.
//!
//! Paths name the place of a difference as a client would: `status.partitions[0].end`, with
//! `$` for the document itself.
//!
//! ```
//! use lagwatch_test_support::services::shape::compare_shapes;
//! use serde_json::json;
//!
//! let ours = json!({"status": {"partitions": [{"end": null, "lag": 3.0}]}});
//! let theirs = json!({"status": {"partitions": [{"end": {"offset": 1}, "lag": 3}], "maxlag": null}});
//! assert_eq!(
//!     compare_shapes(&ours, &theirs),
//!     vec![
//!         "status: key `maxlag` only in theirs".to_owned(),
//!         "status.partitions[0].end: ours is null, theirs is object".to_owned(),
//!         "status.partitions[0].lag: ours is a float (3.0), theirs an integer (3)".to_owned(),
//!     ]
//! );
//! ```

use std::collections::BTreeSet;

use serde_json::Value;

/// Exceptions to the rules of [`compare_shapes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeRules {
    /// Object keys whose values are floats on both sides even when one side prints them
    /// without a fraction: any number matches any number there.
    pub float_keys: BTreeSet<String>,
}

impl Default for ShapeRules {
    /// Burrow's float fields: `complete` (a `float32`, printed `1` when the window is full).
    fn default() -> Self {
        ShapeRules {
            float_keys: BTreeSet::from([String::from("complete")]),
        }
    }
}

impl ShapeRules {
    /// No exceptions: integer and float literals are told apart under every key.
    pub fn strict() -> ShapeRules {
        ShapeRules {
            float_keys: BTreeSet::new(),
        }
    }
}

/// Every difference in keys and JSON types between `ours` and `theirs`, with the
/// [`default`](ShapeRules::default) rules; empty when the shapes agree. See the
/// [module documentation](self) for the rules.
pub fn compare_shapes(ours: &Value, theirs: &Value) -> Vec<String> {
    compare_shapes_with(ours, theirs, &ShapeRules::default())
}

/// [`compare_shapes`] with explicit [`ShapeRules`].
pub fn compare_shapes_with(ours: &Value, theirs: &Value, rules: &ShapeRules) -> Vec<String> {
    let mut out = Differences::default();
    compare(ours, theirs, "$", false, rules, &mut out);
    out.list
}

#[derive(Default)]
struct Differences {
    list: Vec<String>,
    seen: BTreeSet<String>,
}

impl Differences {
    fn push(&mut self, message: String) {
        // Arrays are compared both ways, so one difference can be found twice.
        if self.seen.insert(message.clone()) {
            self.list.push(message);
        }
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn child(path: &str, key: &str) -> String {
    if path == "$" {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

fn compare(
    ours: &Value,
    theirs: &Value,
    path: &str,
    any_number: bool,
    rules: &ShapeRules,
    out: &mut Differences,
) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            for key in a.keys().filter(|k| !b.contains_key(*k)) {
                out.push(format!("{path}: key `{key}` only in ours"));
            }
            for key in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{path}: key `{key}` only in theirs"));
            }
            for (key, value) in a {
                if let Some(other) = b.get(key) {
                    let floats = rules.float_keys.contains(key);
                    compare(value, other, &child(path, key), floats, rules, out);
                }
            }
        }
        // Arrays of the same length are compared element by element: a window such as
        // Burrow's commit ring mixes `null` slots and objects in a fixed order.
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                compare(x, y, &index(path, i), any_number, rules, out);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if let (Some(first_a), Some(first_b)) = (a.first(), b.first()) {
                for (i, value) in a.iter().enumerate() {
                    compare(value, first_b, &index(path, i), any_number, rules, out);
                }
                for (i, value) in b.iter().enumerate().skip(1) {
                    compare(first_a, value, &index(path, i), any_number, rules, out);
                }
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            if !any_number && a.is_f64() && !b.is_f64() {
                out.push(format!(
                    "{path}: ours is a float ({a}), theirs an integer ({b})"
                ));
            }
        }
        _ => {
            let (a, b) = (type_name(ours), type_name(theirs));
            if a != b {
                out.push(format!("{path}: ours is {a}, theirs is {b}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn equal_shapes_with_different_values_agree() {
        let ours = json!({"a": 1, "b": "x", "c": [1, 2], "d": {"e": true}, "f": null, "g": 1});
        let theirs = json!({"a": 7, "b": "y", "c": [9], "d": {"e": false}, "f": null, "g": 0.5});
        assert_eq!(compare_shapes(&ours, &theirs), Vec::<String>::new());
    }

    #[test]
    fn windows_of_equal_length_are_compared_slot_by_slot() {
        let ours = json!({"offsets": [null, null, {"offset": 1}]});
        let same = json!({"offsets": [null, null, {"offset": 9}]});
        assert_eq!(compare_shapes(&ours, &same), Vec::<String>::new());
        let shifted = json!({"offsets": [{"offset": 9}, null, null]});
        assert_eq!(
            compare_shapes(&ours, &shifted),
            vec![
                "offsets[0]: ours is null, theirs is object",
                "offsets[2]: ours is object, theirs is null",
            ]
        );
    }

    #[test]
    fn keys_on_one_side_are_named_with_their_object() {
        let ours = json!({"status": {"a": 1, "extra": 2}});
        let theirs = json!({"status": {"a": 1, "missing": 2}, "top": 1});
        assert_eq!(
            compare_shapes(&ours, &theirs),
            vec![
                "$: key `top` only in theirs",
                "status: key `extra` only in ours",
                "status: key `missing` only in theirs",
            ]
        );
    }

    #[test]
    fn null_against_an_object_is_reported_both_ways() {
        assert_eq!(
            compare_shapes(&json!({"maxlag": null}), &json!({"maxlag": {"lag": 1}})),
            vec!["maxlag: ours is null, theirs is object"]
        );
        assert_eq!(
            compare_shapes(&json!({"maxlag": {"lag": 1}}), &json!({"maxlag": null})),
            vec!["maxlag: ours is object, theirs is null"]
        );
    }

    #[test]
    fn every_array_element_is_compared_with_the_first_of_the_other_side() {
        let ours = json!({"p": [{"end": {"o": 1}}, {"end": null}, {"end": {"o": 2}}]});
        let theirs = json!({"p": [{"end": {"o": 1}}, {"end": {"o": 1, "x": 1}}]});
        assert_eq!(
            compare_shapes(&ours, &theirs),
            vec![
                "p[1].end: ours is null, theirs is object",
                "p[1].end: key `x` only in theirs",
            ]
        );
    }

    #[test]
    fn paths_nest_through_arrays_and_objects() {
        let ours = json!({"status": {"partitions": [{"end": {"offset": "1"}}]}});
        let theirs = json!({"status": {"partitions": [{"end": {"offset": 1}}]}});
        assert_eq!(
            compare_shapes(&ours, &theirs),
            vec!["status.partitions[0].end.offset: ours is string, theirs is number"]
        );
    }

    #[test]
    fn an_empty_array_on_either_side_is_not_a_difference() {
        assert!(compare_shapes(&json!({"a": []}), &json!({"a": [{"x": 1}]})).is_empty());
        assert!(compare_shapes(&json!({"a": [1]}), &json!({"a": []})).is_empty());
    }

    #[test]
    fn a_float_where_theirs_is_an_integer_is_reported_not_the_reverse() {
        assert_eq!(
            compare_shapes(&json!({"totallag": 380.0}), &json!({"totallag": 380})),
            vec!["totallag: ours is a float (380.0), theirs an integer (380)"]
        );
        assert!(compare_shapes(&json!({"ratio": 1}), &json!({"ratio": 0.25})).is_empty());
        assert!(compare_shapes(&json!({"ratio": 0.5}), &json!({"ratio": 0.25})).is_empty());
    }

    #[test]
    fn float_keys_accept_any_number_even_inside_arrays() {
        let ours = json!({"complete": 1.0, "partitions": [{"complete": 0.5}]});
        let theirs = json!({"complete": 1, "partitions": [{"complete": 1}]});
        assert!(compare_shapes(&ours, &theirs).is_empty());
        assert_eq!(
            compare_shapes_with(&ours, &theirs, &ShapeRules::strict()),
            vec![
                "complete: ours is a float (1.0), theirs an integer (1)",
                "partitions[0].complete: ours is a float (0.5), theirs an integer (1)",
            ]
        );
    }

    #[test]
    fn different_root_types_are_named_at_the_root() {
        assert_eq!(
            compare_shapes(&json!([1]), &json!({"a": 1})),
            vec!["$: ours is array, theirs is object"]
        );
    }

    #[test]
    fn bool_and_string_mismatches_are_types() {
        assert_eq!(
            compare_shapes(&json!({"error": "false"}), &json!({"error": false})),
            vec!["error: ours is string, theirs is bool"]
        );
    }
}
