//! Where a consumer group's commits live: the partition of `__consumer_offsets` a broker
//! gives to a group id.
//!
//! Every commit, group metadata record and tombstone of one group goes to one partition of
//! the offsets topic, chosen from the group id alone. Instances that divide the offsets
//! topic's partitions between them therefore divide the groups too, and a mode that asks
//! the Admin API instead (which sees every group) can keep the same division by asking
//! [`offsets_partition`] which partition a group belongs to.

use std::collections::BTreeSet;
use std::sync::{Arc, PoisonError, RwLock};

/// Java's `String.hashCode` of `text`, which Kafka's brokers use for group ids: over the
/// text's UTF-16 code units, `h = 31 * h + unit`, wrapping at 32 bits.
pub fn java_string_hash(text: &str) -> i32 {
    text.encode_utf16().fold(0i32, |hash, unit| {
        hash.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// The partition of an offsets topic with `partitions` partitions (the broker setting
/// `offsets.topic.num.partitions`, 50 by default) that holds `group`'s commits: the absolute
/// value of the group id's Java hash modulo `partitions`, as brokers compute it (a hash of
/// `i32::MIN`, whose absolute value does not fit, counts as 0). A `partitions` of 0 counts
/// as 1.
pub fn offsets_partition(group: &str, partitions: u32) -> u32 {
    let hash = java_string_hash(group);
    let positive = if hash == i32::MIN {
        0
    } else {
        hash.unsigned_abs()
    };
    positive % partitions.max(1)
}

/// Which groups this instance owns when several share a cluster's work: those whose commits
/// live in an offsets-topic partition assigned to it. Cloned handles share one state, so the
/// task that follows the assignment and the readers that filter groups see the same.
#[derive(Debug, Clone)]
pub struct Ownership {
    state: Arc<RwLock<Owned>>,
}

#[derive(Debug)]
struct Owned {
    /// `None`: not coordinated, every group is owned.
    partitions: Option<u32>,
    assigned: BTreeSet<u32>,
}

impl Ownership {
    /// Every group is owned: one instance alone.
    pub fn everything() -> Ownership {
        Ownership::with(None)
    }

    /// No group is owned yet, out of an offsets topic of `partitions` partitions: an
    /// instance before its first assignment.
    pub fn coordinated(partitions: u32) -> Ownership {
        Ownership::with(Some(partitions.max(1)))
    }

    fn with(partitions: Option<u32>) -> Ownership {
        Ownership {
            state: Arc::new(RwLock::new(Owned {
                partitions,
                assigned: BTreeSet::new(),
            })),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Owned> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Owned> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `group` is this instance's.
    pub fn owns(&self, group: &str) -> bool {
        let owned = self.read();
        match owned.partitions {
            None => true,
            Some(n) => owned.assigned.contains(&offsets_partition(group, n)),
        }
    }

    /// Whether several instances share the work.
    pub fn is_coordinated(&self) -> bool {
        self.read().partitions.is_some()
    }

    /// The offsets-topic partition count groups are divided by (`None` when not
    /// coordinated).
    pub fn partition_count(&self) -> Option<u32> {
        self.read().partitions
    }

    /// Adds `partitions` to what this instance owns; returns those it did not own before.
    pub fn assign(&self, partitions: &[u32]) -> Vec<u32> {
        let mut owned = self.write();
        partitions
            .iter()
            .copied()
            .filter(|p| owned.assigned.insert(*p))
            .collect()
    }

    /// Removes `partitions` from what this instance owns; returns those it owned.
    pub fn revoke(&self, partitions: &[u32]) -> Vec<u32> {
        let mut owned = self.write();
        partitions
            .iter()
            .copied()
            .filter(|p| owned.assigned.remove(p))
            .collect()
    }

    /// The offsets-topic partitions owned now, in order.
    pub fn assigned(&self) -> Vec<u32> {
        self.read().assigned.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (group, Java `hashCode`, partition of 50, of 4, of 12), computed with a JVM's
    /// `String.hashCode` and Kafka's `Utils.abs`.
    const VECTORS: &[(&str, i32, u32, u32, u32)] = &[
        ("", 0, 0, 0, 0),
        ("a", 97, 47, 1, 1),
        ("abc", 96354, 4, 2, 6),
        ("orders-consumer", -1204742690, 40, 2, 2),
        ("polygenelubricants", i32::MIN, 0, 0, 0),
        ("grüße-gruppe", 80269105, 5, 1, 1),
        ("группа", 1749938458, 8, 2, 10),
        ("組-日本", 956216080, 30, 0, 4),
        ("emoji-😀", 1164511306, 6, 2, 10),
        ("lagwatch.bench-0001", -540030577, 27, 1, 1),
    ];

    #[test]
    fn hashes_and_partitions_match_the_jvm() {
        for &(group, hash, p50, p4, p12) in VECTORS {
            assert_eq!(java_string_hash(group), hash, "{group:?}");
            assert_eq!(offsets_partition(group, 50), p50, "{group:?} of 50");
            assert_eq!(offsets_partition(group, 4), p4, "{group:?} of 4");
            assert_eq!(offsets_partition(group, 12), p12, "{group:?} of 12");
        }
    }

    #[test]
    fn ownership_follows_assignments_and_revocations() {
        let alone = Ownership::everything();
        assert!(alone.owns("orders-consumer") && !alone.is_coordinated());

        let shared = Ownership::coordinated(50);
        let handle = shared.clone();
        assert!(
            !shared.owns("orders-consumer"),
            "nothing before the first assignment"
        );
        assert_eq!(handle.assign(&[40, 4]), [40, 4]);
        assert_eq!(handle.assign(&[4, 5]), [5], "only what is new");
        assert!(
            shared.owns("orders-consumer") && shared.owns("abc") && shared.owns("grüße-gruppe")
        );
        assert!(!shared.owns("a"), "partition 47 is not assigned");
        assert_eq!(shared.assigned(), [4, 5, 40]);
        assert_eq!(handle.revoke(&[40, 41]), [40], "only what was owned");
        assert!(!shared.owns("orders-consumer") && shared.owns("abc"));
        assert_eq!(shared.partition_count(), Some(50));
    }

    #[test]
    fn zero_partitions_counts_as_one() {
        assert_eq!(offsets_partition("orders-consumer", 0), 0);
        assert_eq!(offsets_partition("orders-consumer", 1), 0);
    }
}
