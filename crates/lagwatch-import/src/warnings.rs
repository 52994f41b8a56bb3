//! Warnings shared by the configuration imports (burrow.toml, telegraf.conf): every key that
//! has no effect in lagwatch is named, never dropped silently.

use toml::Value;

/// Adds `path: not imported (why)`.
pub(crate) fn not_imported(out: &mut Vec<String>, path: &str, why: &str) {
    out.push(format!("{path}: not imported ({why})"));
}

/// One [`not_imported`] line per key under `value` (tables are walked down; an empty table is
/// one line).
pub(crate) fn not_imported_keys(out: &mut Vec<String>, path: &str, value: &Value, why: &str) {
    match value {
        Value::Table(table) if !table.is_empty() => {
            for (key, inner) in table {
                not_imported_keys(out, &format!("{path}.{key}"), inner, why);
            }
        }
        _ => not_imported(out, path, why),
    }
}
