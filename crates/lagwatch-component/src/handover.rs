//! Open alerts left for the next owner of their groups, when several instances share a
//! cluster and divide its consumer groups by offsets-topic partition.
//!
//! The instance that owns a group publishes every change of that group's open alerts (a new
//! pending or firing alert, a reminder sent, an alert closed); when the group moves to
//! another instance, the new owner collects what was published for the partitions it was
//! given and carries on from there: it neither announces a firing alert a second time nor
//! forgets to announce its resolution.

use crate::ComponentError;
use crate::directory::{Member, MemberDirectory, member_key};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// One open alert (or its closing) as handed from one owner to the next.
#[derive(Debug, Clone, PartialEq)]
pub struct HandedAlert {
    /// The alert's incident id (rule and labels): the key a later change replaces.
    pub id: String,
    /// Cluster of the alert's group.
    pub cluster: String,
    /// The alert's consumer group, which decides its owner.
    pub group: String,
    /// The rule engine's record of the alert; `None` once the alert is closed.
    pub record: Option<serde_json::Value>,
}

/// Where an instance leaves its open alerts for the instance that takes its groups over.
///
/// Implementations keep the latest [`HandedAlert`] per id and forget an id once it is
/// published with no record.
#[async_trait]
pub trait AlertHandover: Send + Sync {
    /// A name for logs and errors.
    fn name(&self) -> &str;

    /// Stores these changes, in order (a later change of an id replaces an earlier one).
    ///
    /// # Errors
    /// A transient [`ComponentError`] when the store cannot be reached: the caller publishes
    /// the same changes again later.
    async fn publish(&self, alerts: &[HandedAlert]) -> Result<(), ComponentError>;

    /// The open alerts of `cluster` whose group's commits live in one of `offsets_partitions`
    /// of an offsets topic of `partition_count` partitions (see
    /// [`lagwatch_core::sharding::offsets_partition`]).
    ///
    /// # Errors
    /// A transient [`ComponentError`] when the store cannot be read completely.
    async fn collect(
        &self,
        cluster: &str,
        offsets_partitions: &[u32],
        partition_count: u32,
    ) -> Result<Vec<HandedAlert>, ComponentError>;
}

/// Whether `group`'s commits live in one of `offsets_partitions` (of `partition_count`).
pub fn owned_by(group: &str, offsets_partitions: &[u32], partition_count: u32) -> bool {
    partition_count > 0
        && offsets_partitions.contains(&lagwatch_core::sharding::offsets_partition(
            group,
            partition_count,
        ))
}

/// An [`AlertHandover`] and [`MemberDirectory`] in memory, shared by the instances of one
/// process (tests, and a library user's own wiring).
#[derive(Debug, Default)]
pub struct MemoryHandover {
    alerts: Mutex<BTreeMap<String, HandedAlert>>,
    members: Mutex<BTreeMap<String, Member>>,
}

impl MemoryHandover {
    /// An empty store.
    pub fn new() -> MemoryHandover {
        MemoryHandover::default()
    }

    /// How many open alerts it holds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether it holds no open alert.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, HandedAlert>> {
        self.alerts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl AlertHandover for MemoryHandover {
    fn name(&self) -> &str {
        "memory"
    }

    async fn publish(&self, alerts: &[HandedAlert]) -> Result<(), ComponentError> {
        let mut held = self.lock();
        for alert in alerts {
            if alert.record.is_some() {
                held.insert(alert.id.clone(), alert.clone());
            } else {
                held.remove(&alert.id);
            }
        }
        Ok(())
    }

    async fn collect(
        &self,
        cluster: &str,
        offsets_partitions: &[u32],
        partition_count: u32,
    ) -> Result<Vec<HandedAlert>, ComponentError> {
        Ok(self
            .lock()
            .values()
            .filter(|a| {
                a.cluster == cluster && owned_by(&a.group, offsets_partitions, partition_count)
            })
            .cloned()
            .collect())
    }
}

#[async_trait]
impl MemberDirectory for MemoryHandover {
    fn name(&self) -> &str {
        "memory"
    }

    async fn announce(&self, member: &Member) -> Result<(), ComponentError> {
        self.members
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(member_key(&member.cluster, &member.address), member.clone());
        Ok(())
    }

    async fn withdraw(&self, cluster: &str, address: &str) -> Result<(), ComponentError> {
        self.members
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&member_key(cluster, address));
        Ok(())
    }

    async fn members(&self, cluster: &str) -> Result<Vec<Member>, ComponentError> {
        Ok(self
            .members
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .filter(|m| m.cluster == cluster)
            .cloned()
            .collect())
    }
}
