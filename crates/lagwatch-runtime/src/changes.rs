//! Logs partition and group status transitions between two snapshots, so an operator
//! following the log sees problems appear and clear.

use lagwatch_core::{GroupStatus, PartitionStatus, Snapshot};
use std::collections::HashMap;

#[derive(Debug, Default)]
pub(crate) struct StatusTracker {
    groups: HashMap<(String, String), GroupStatus>,
    partitions: HashMap<(String, String, String, i32), PartitionStatus>,
}

impl StatusTracker {
    /// Compares with the previous snapshot, logs each change, and returns how many changed.
    pub(crate) fn observe(&mut self, snapshot: &Snapshot) -> usize {
        let mut changes = 0;
        let mut groups = HashMap::with_capacity(self.groups.len());
        let mut partitions = HashMap::with_capacity(self.partitions.len());
        for g in snapshot.groups() {
            let key = (g.cluster.clone(), g.group.clone());
            let before = self.groups.get(&key).copied();
            if before.is_some_and(|b| b != g.status) {
                changes += 1;
                tracing::info!(
                    cluster = %g.cluster, group = %g.group,
                    from = %before.map_or("-", GroupStatus::as_str), to = %g.status,
                    total_lag = g.totallag, "group status changed"
                );
            }
            groups.insert(key, g.status);
            for p in &g.partitions {
                let key = (
                    g.cluster.clone(),
                    g.group.clone(),
                    p.topic.clone(),
                    p.partition,
                );
                let before = self.partitions.get(&key).copied();
                if before.is_some_and(|b| b != p.status) {
                    changes += 1;
                    tracing::debug!(
                        cluster = %g.cluster, group = %g.group, topic = %p.topic,
                        partition = p.partition,
                        from = %before.map_or("-", PartitionStatus::as_str), to = %p.status,
                        lag = p.current_lag, "partition status changed"
                    );
                }
                partitions.insert(key, p.status);
            }
        }
        self.groups = groups;
        self.partitions = partitions;
        changes
    }
}
