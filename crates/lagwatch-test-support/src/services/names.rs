//! Unique names for topics and groups, so tests never see each other's data.
//!
//! Names look like `<prefix>-<pid>-<counter>-<random>` and use only the characters Kafka
//! allows in topic names (`[a-zA-Z0-9._-]`, at most 249), which are also valid group ids,
//! ZooKeeper node names and (lower-cased) Elasticsearch index names.

use std::sync::atomic::{AtomicU64, Ordering};

use std::hash::{BuildHasher as _, Hasher as _, RandomState};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// 32 unpredictable bits: the process's random hash keys over time and counter.
fn random_u32(counter: u64) -> u32 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(counter);
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let hash = hasher.finish();
    // Fold both halves in; the truncation is the point.
    (hash ^ (hash >> 32)) as u32
}

/// Longest topic name Kafka accepts.
pub const MAX_TOPIC_NAME: usize = 249;

/// A new unique name starting with `prefix`.
///
/// Characters Kafka does not allow are replaced by `_`; a long prefix is shortened so the
/// whole name fits in [`MAX_TOPIC_NAME`].
pub fn unique(prefix: &str) -> String {
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = random_u32(counter);
    let suffix = format!("-{}-{counter}-{random:08x}", std::process::id());
    let mut clean: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() || clean.chars().all(|c| c == '.') {
        clean = "lagwatch".to_owned();
    }
    clean.truncate(MAX_TOPIC_NAME - suffix.len());
    clean + &suffix
}

/// A unique topic name (`t-<prefix>-...`).
pub fn topic(prefix: &str) -> String {
    unique(&format!("t-{prefix}"))
}

/// A unique consumer group id (`g-<prefix>-...`).
pub fn group(prefix: &str) -> String {
    unique(&format!("g-{prefix}"))
}

/// A unique Elasticsearch / OpenSearch index name (lower case, `i-<prefix>-...`).
pub fn index(prefix: &str) -> String {
    unique(&format!("i-{}", prefix.to_ascii_lowercase())).to_ascii_lowercase()
}

/// Whether `name` is a valid Kafka topic name.
pub fn is_valid_topic(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TOPIC_NAME
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_valid() {
        let a = topic("lag test/ä");
        let b = topic("lag test/ä");
        assert_ne!(a, b);
        assert!(is_valid_topic(&a), "{a}");
        assert!(a.starts_with("t-lag_test__-"), "{a}");
        assert!(a.contains(&format!("-{}-", std::process::id())), "{a}");
    }

    #[test]
    fn long_prefixes_are_cut() {
        let name = group(&"x".repeat(400));
        assert!(name.len() <= MAX_TOPIC_NAME);
        assert!(is_valid_topic(&name));
    }

    #[test]
    fn odd_prefixes_still_give_valid_names() {
        assert!(is_valid_topic(&unique("")));
        assert!(is_valid_topic(&unique("..")));
        let idx = index("Lag");
        assert_eq!(idx, idx.to_ascii_lowercase());
    }
}
