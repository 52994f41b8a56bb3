//! Where the instances sharing a cluster answer: each one announces its HTTP address and the
//! offsets-topic partitions it owns, so that any of them can send a question about a group
//! or a topic to the instance that owns it.
//!
//! Announcements are kept per (cluster, address); a later one from the same address
//! replaces the earlier. An instance that dies without withdrawing leaves its last
//! announcement behind, so the owner of a partition is the *newest* announcement that
//! claims it: the instance that took the partition over announced after the one that lost
//! it.

use crate::ComponentError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// One instance's announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Cluster the instance shares.
    pub cluster: String,
    /// Base URL of the instance's HTTP API (`http://10.0.0.7:8000`).
    pub address: String,
    /// The offsets-topic partitions it owned when it announced.
    pub offsets_partitions: Vec<u32>,
    /// The offsets topic's partition count.
    pub partition_count: u32,
    /// When it announced (ms since the epoch).
    pub announced_ms: i64,
}

/// Where instances sharing a cluster announce themselves.
#[async_trait]
pub trait MemberDirectory: Send + Sync {
    /// A name for logs and errors.
    fn name(&self) -> &str;

    /// Stores `member`, replacing the previous announcement of its cluster and address.
    ///
    /// # Errors
    /// A transient [`ComponentError`] when the store cannot be reached.
    async fn announce(&self, member: &Member) -> Result<(), ComponentError>;

    /// Removes the announcement of `address` for `cluster` (an instance that stops).
    ///
    /// # Errors
    /// A transient [`ComponentError`] when the store cannot be reached.
    async fn withdraw(&self, cluster: &str, address: &str) -> Result<(), ComponentError>;

    /// Every announcement kept for `cluster`.
    ///
    /// # Errors
    /// A transient [`ComponentError`] when the store cannot be read completely.
    async fn members(&self, cluster: &str) -> Result<Vec<Member>, ComponentError>;
}

/// The member that owns `name` (a group or a topic): the newest announcement claiming the
/// offsets-topic partition `name` hashes to. `None` when no announcement claims it.
pub fn owner_of<'a>(members: &'a [Member], name: &str) -> Option<&'a Member> {
    members
        .iter()
        .filter(|m| {
            m.partition_count > 0
                && m.offsets_partitions
                    .contains(&lagwatch_core::sharding::offsets_partition(
                        name,
                        m.partition_count,
                    ))
        })
        .max_by(|a, b| {
            a.announced_ms
                .cmp(&b.announced_ms)
                .then_with(|| a.address.cmp(&b.address))
        })
}

/// The member that owns `partition` of an offsets topic of `partition_count` partitions:
/// the newest announcement (for that partition count) claiming it.
pub fn owner_of_partition(
    members: &[Member],
    partition: u32,
    partition_count: u32,
) -> Option<&Member> {
    members
        .iter()
        .filter(|m| {
            partition_count > 0
                && m.partition_count == partition_count
                && m.offsets_partitions.contains(&partition)
        })
        .max_by(|a, b| {
            a.announced_ms
                .cmp(&b.announced_ms)
                .then_with(|| a.address.cmp(&b.address))
        })
}

/// How every [`member_key`] starts (a store that shares its keys with other records tells
/// announcements apart by it).
pub const MEMBER_KEY_PREFIX: &str = "lagwatch.member/";

/// The key a store keeps a member's announcement under: cluster and address.
pub fn member_key(cluster: &str, address: &str) -> String {
    format!("{MEMBER_KEY_PREFIX}{cluster}/{address}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagwatch_core::sharding::offsets_partition;

    fn member(address: &str, partitions: &[u32], at: i64) -> Member {
        Member {
            cluster: "c".into(),
            address: address.into(),
            offsets_partitions: partitions.to_vec(),
            partition_count: 12,
            announced_ms: at,
        }
    }

    #[test]
    fn the_newest_claim_of_a_partition_owns_it() {
        let group = "orders-consumer";
        let p = offsets_partition(group, 12);
        let other = (p + 1) % 12;
        // The instance that died still claims `p`; the one that took it over announced later.
        let members = vec![
            member("http://a:8000", &[p, other], 100),
            member("http://b:8000", &[p], 200),
        ];
        assert_eq!(
            owner_of(&members, group).map(|m| m.address.as_str()),
            Some("http://b:8000")
        );
        let unclaimed = vec![member("http://a:8000", &[other], 100)];
        assert_eq!(owner_of(&unclaimed, group), None);
        assert_eq!(owner_of(&[], group), None);
        assert_eq!(
            owner_of_partition(&members, other, 12).map(|m| m.address.as_str()),
            Some("http://a:8000"),
            "a stale claim still counts where nobody newer claims the partition"
        );
        assert_eq!(
            owner_of_partition(&members, p, 12).map(|m| m.address.as_str()),
            Some("http://b:8000")
        );
        assert_eq!(owner_of_partition(&members, p, 50), None, "another count");
    }
}
