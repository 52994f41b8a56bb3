//! Allow/deny lists of names (groups, topics) by regular expression.

use regex::Regex;

/// A name filter: a name passes when it matches the allow pattern (or there is none) and does
/// not match the deny pattern. Deny wins over allow. Empty patterns mean "not set", as in
/// Burrow's configuration.
#[derive(Debug, Clone, Default)]
pub struct NameFilter {
    allow: Option<Regex>,
    deny: Option<Regex>,
}

/// A pattern that is not a valid regular expression.
#[derive(Debug, thiserror::Error)]
#[error("invalid regular expression {pattern:?}: {source}")]
pub struct FilterError {
    /// The pattern as written.
    pub pattern: String,
    /// What the regex engine said.
    #[source]
    pub source: regex::Error,
}

impl NameFilter {
    /// A filter that lets every name through.
    pub fn allow_all() -> NameFilter {
        NameFilter::default()
    }

    /// Builds a filter from optional allow and deny patterns (empty strings are treated as
    /// unset).
    pub fn new(allow: Option<&str>, deny: Option<&str>) -> Result<NameFilter, FilterError> {
        Ok(NameFilter {
            allow: compile(allow)?,
            deny: compile(deny)?,
        })
    }

    /// Whether `name` passes.
    pub fn accepts(&self, name: &str) -> bool {
        if let Some(deny) = &self.deny {
            if deny.is_match(name) {
                return false;
            }
        }
        self.allow.as_ref().is_none_or(|allow| allow.is_match(name))
    }
}

fn compile(pattern: Option<&str>) -> Result<Option<Regex>, FilterError> {
    match pattern {
        None => Ok(None),
        Some("") => Ok(None),
        Some(p) => Regex::new(p).map(Some).map_err(|source| FilterError {
            pattern: p.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_denylist() -> Result<(), FilterError> {
        let f = NameFilter::new(Some(""), Some("^(console-consumer-|quick-).*$"))?;
        assert!(!f.accepts("console-consumer-123"));
        assert!(!f.accepts("quick-start"));
        assert!(f.accepts("hdfs_consumer"));
        Ok(())
    }

    #[test]
    fn deny_wins_over_allow() -> Result<(), FilterError> {
        let f = NameFilter::new(Some("^app-"), Some("-test$"))?;
        assert!(f.accepts("app-orders"));
        assert!(!f.accepts("app-orders-test"));
        assert!(!f.accepts("other"));
        Ok(())
    }

    #[test]
    fn bad_pattern_names_itself() {
        let err = NameFilter::new(Some("("), None)
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("\"(\"")));
    }
}
