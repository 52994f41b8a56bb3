//! The other instances sharing a cluster: this instance announces where its HTTP API answers
//! and which offsets-topic partitions it owns ([`MemberDirectory`]), and finds the instance
//! that owns a group or topic it does not (for the HTTP API to forward the question).

use lagwatch_component::directory::owner_of;
use lagwatch_component::{Member, MemberDirectory, OwnershipRow};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How long a read of a cluster's announcements is reused.
const MEMBERS_TTL: Duration = Duration::from_secs(2);

/// How long withdrawing an announcement may take at shutdown.
const WITHDRAW_LIMIT: Duration = Duration::from_secs(5);

/// Where a group or a topic is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// By this instance (also when the cluster is not shared).
    Here,
    /// By another instance sharing the cluster.
    Elsewhere {
        /// The offsets-topic partition the name hashes to.
        partition: u32,
        /// The offsets topic's partition count.
        partition_count: u32,
        /// The partitions this instance owns.
        owned_here: Vec<u32>,
        /// The base URL of the instance that announced the partition last; `None` when no
        /// instance announced it (yet).
        address: Option<String>,
    },
}

/// Ownership as shown and announced, the announcing directories and what they last said.
#[derive(Default)]
pub(crate) struct Peers {
    /// This instance's share of each cluster it shares (`RuntimeStats::ownership`).
    rows: Mutex<Vec<OwnershipRow>>,
    /// This instance's HTTP address, once a server has bound.
    address: Mutex<Option<String>>,
    /// Woken when the rows or the address change.
    changed: Notify,
    directories: Mutex<BTreeMap<String, Arc<dyn MemberDirectory>>>,
    /// The newest read of each cluster's announcements.
    members: tokio::sync::Mutex<HashMap<String, MembersRead>>,
}

/// Announcements as read at an instant.
type MembersRead = (Instant, Arc<Vec<Member>>);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Peers {
    /// The ownership rows now.
    pub(crate) fn rows(&self) -> Vec<OwnershipRow> {
        lock(&self.rows).clone()
    }

    /// Replaces the ownership rows (the handover link follows the sources' changes).
    pub(crate) fn set_rows(&self, rows: Vec<OwnershipRow>) {
        *lock(&self.rows) = rows;
        self.changed.notify_one();
    }

    /// The address announced to the other instances, once set.
    pub(crate) fn address(&self) -> Option<String> {
        lock(&self.address).clone()
    }

    /// Sets the address announced to the other instances.
    pub(crate) fn set_address(&self, address: String) {
        *lock(&self.address) = Some(address);
        self.changed.notify_one();
    }

    /// Announces through `directory` for `cluster`.
    pub(crate) fn add_directory(&self, cluster: &str, directory: Arc<dyn MemberDirectory>) {
        lock(&self.directories).insert(cluster.to_owned(), directory);
    }

    fn directories(&self) -> BTreeMap<String, Arc<dyn MemberDirectory>> {
        lock(&self.directories).clone()
    }

    /// Where `name` (a group or a topic) of `cluster` is answered.
    pub(crate) async fn owner(&self, cluster: &str, name: &str) -> Owner {
        let Some(row) = self
            .rows()
            .into_iter()
            .find(|r| r.cluster == cluster && r.partition_count > 0)
        else {
            return Owner::Here;
        };
        let partition = lagwatch_core::sharding::offsets_partition(name, row.partition_count);
        if row.offsets_partitions.contains(&partition) {
            return Owner::Here;
        }
        let own = lock(&self.address).clone();
        let address = match self.members(cluster).await {
            Some(members) => owner_of(&members, name)
                .map(|m| m.address.clone())
                .filter(|a| Some(a) != own.as_ref()),
            None => None,
        };
        Owner::Elsewhere {
            partition,
            partition_count: row.partition_count,
            owned_here: row.offsets_partitions,
            address,
        }
    }

    /// The other instances that own some of `cluster`'s offsets-topic partitions now (by
    /// their newest announcements), by address; `None` when this instance does not share
    /// the cluster.
    pub(crate) async fn others(&self, cluster: &str) -> Option<Vec<String>> {
        let row = self
            .rows()
            .into_iter()
            .find(|r| r.cluster == cluster && r.partition_count > 0)?;
        let own = lock(&self.address).clone();
        let Some(members) = self.members(cluster).await else {
            return Some(Vec::new());
        };
        let others: std::collections::BTreeSet<String> = (0..row.partition_count)
            .filter(|p| !row.offsets_partitions.contains(p))
            .filter_map(|p| {
                lagwatch_component::directory::owner_of_partition(&members, p, row.partition_count)
            })
            .map(|m| m.address.clone())
            .filter(|a| Some(a) != own.as_ref())
            .collect();
        Some(others.into_iter().collect())
    }

    /// The announcements of `cluster`, read at most [`MEMBERS_TTL`] ago; `None` without a
    /// directory or when it cannot be read.
    async fn members(&self, cluster: &str) -> Option<Arc<Vec<Member>>> {
        let directory = lock(&self.directories).get(cluster).cloned()?;
        let mut cache = self.members.lock().await;
        if let Some((at, members)) = cache.get(cluster) {
            if at.elapsed() < MEMBERS_TTL {
                return Some(Arc::clone(members));
            }
        }
        match directory.members(cluster).await {
            Ok(members) => {
                let members = Arc::new(members);
                cache.insert(cluster.to_owned(), (Instant::now(), Arc::clone(&members)));
                Some(members)
            }
            Err(e) => {
                tracing::warn!(%cluster, directory = directory.name(), error = %e, "cannot read which instance owns what");
                None
            }
        }
    }
}

/// Announces this instance's address and partitions whenever either changes, retrying with
/// growing pauses when a directory cannot be reached, until `stop`; then withdraws.
pub(crate) async fn announce(peers: Arc<Peers>, stop: CancellationToken) {
    let directories = peers.directories();
    if directories.is_empty() {
        return;
    }
    // What each cluster's directory holds from this instance: address and partitions.
    let mut announced: HashMap<String, (String, Vec<u32>, u32)> = HashMap::new();
    let mut failures = 0u32;
    loop {
        let address = lock(&peers.address).clone();
        let rows = peers.rows();
        let mut failed = false;
        if let Some(address) = &address {
            for (cluster, directory) in &directories {
                let Some(row) = rows.iter().find(|r| &r.cluster == cluster) else {
                    continue;
                };
                let now = (
                    address.clone(),
                    row.offsets_partitions.clone(),
                    row.partition_count,
                );
                if announced.get(cluster) == Some(&now) {
                    continue;
                }
                let member = Member {
                    cluster: cluster.clone(),
                    address: address.clone(),
                    offsets_partitions: row.offsets_partitions.clone(),
                    partition_count: row.partition_count,
                    announced_ms: lagwatch_component::clock::wall_clock_ms(),
                };
                match directory.announce(&member).await {
                    Ok(()) => {
                        tracing::info!(%cluster, %address, offsets_partitions = ?member.offsets_partitions, "announced this instance to the others sharing the cluster");
                        if let Some((before, ..)) = announced.insert(cluster.clone(), now) {
                            if &before != address {
                                let _ = directory.withdraw(cluster, &before).await;
                            }
                        }
                    }
                    Err(e) => {
                        failed = true;
                        tracing::warn!(%cluster, directory = directory.name(), error = %e, "cannot announce this instance to the others sharing the cluster; retrying");
                    }
                }
            }
        }
        failures = if failed {
            failures.saturating_add(1)
        } else {
            0
        };
        let pause = Duration::from_secs(1 << failures.clamp(1, 6).saturating_sub(1));
        tokio::select! {
            () = stop.cancelled() => break,
            () = peers.changed.notified() => {}
            () = tokio::time::sleep(pause), if failed => {}
        }
    }
    for (cluster, (address, ..)) in announced {
        let Some(directory) = directories.get(&cluster) else {
            continue;
        };
        match tokio::time::timeout(WITHDRAW_LIMIT, directory.withdraw(&cluster, &address)).await {
            Ok(Ok(())) => {
                tracing::debug!(%cluster, %address, "withdrew this instance's announcement");
            }
            Ok(Err(e)) => {
                tracing::warn!(%cluster, error = %e, "cannot withdraw this instance's announcement; the instances that take its partitions over replace it");
            }
            Err(_) => {
                tracing::warn!(%cluster, "withdrawing this instance's announcement timed out; the instances that take its partitions over replace it");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagwatch_component::MemoryHandover;
    use lagwatch_core::sharding::offsets_partition;

    fn row(partitions: &[u32]) -> OwnershipRow {
        OwnershipRow {
            cluster: "c".into(),
            offsets_partitions: partitions.to_vec(),
            partition_count: 4,
        }
    }

    /// A group whose commits live in partition `p` of 4.
    fn group_in(p: u32) -> String {
        (0..)
            .map(|i| format!("g{i}"))
            .find(|g| offsets_partition(g, 4) == p)
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn instances_announce_find_each_other_and_withdraw() {
        let store = Arc::new(MemoryHandover::new());
        let (a, b) = (Arc::new(Peers::default()), Arc::new(Peers::default()));
        for peers in [&a, &b] {
            peers.add_directory("c", store.clone());
        }
        let stop = CancellationToken::new();
        let tasks = [
            tokio::spawn(announce(Arc::clone(&a), stop.clone())),
            tokio::spawn(announce(Arc::clone(&b), stop.clone())),
        ];
        a.set_rows(vec![row(&[0, 1])]);
        b.set_rows(vec![row(&[2, 3])]);
        // Nothing is announced before the address is known.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(store.members("c").await.unwrap().is_empty());
        a.set_address("http://127.0.0.1:1".into());
        b.set_address("http://127.0.0.1:2".into());
        let deadline = Instant::now() + Duration::from_secs(5);
        while store.members("c").await.unwrap().len() < 2 {
            assert!(Instant::now() < deadline, "not announced");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(a.owner("c", &group_in(1)).await, Owner::Here);
        assert_eq!(
            a.owner("c", &group_in(3)).await,
            Owner::Elsewhere {
                partition: 3,
                partition_count: 4,
                owned_here: vec![0, 1],
                address: Some("http://127.0.0.1:2".into()),
            }
        );
        assert_eq!(a.owner("other", &group_in(3)).await, Owner::Here);
        assert_eq!(
            a.others("c").await,
            Some(vec!["http://127.0.0.1:2".to_owned()])
        );
        assert_eq!(a.others("other").await, None);

        stop.cancel();
        for task in tasks {
            task.await.unwrap();
        }
        assert!(store.members("c").await.unwrap().is_empty(), "withdrawn");
    }
}
