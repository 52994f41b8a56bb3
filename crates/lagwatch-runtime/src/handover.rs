//! Open alerts across instances that share a cluster (`coordination`): what the rule engine
//! lets go when groups move away, what it takes over when groups arrive, and the changes it
//! leaves in the cluster's [`AlertHandover`] store after every evaluation.

use lagwatch_component::handover::owned_by;
use lagwatch_component::{AlertHandover, HandedAlert, RuleEngine};
use lagwatch_core::snapshot::SnapshotData;
use lagwatch_core::{Event, Snapshot};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long the rules wait, at most, for the alerts a previous owner left before they
/// judge newly owned groups without them (the store cannot be read meanwhile).
const HOLD_LIMIT: Duration = Duration::from_secs(120);

/// Alerts a previous owner left, collected for partitions this instance was given.
pub(crate) struct Adopted {
    cluster: String,
    partitions: Vec<u32>,
    alerts: Vec<HandedAlert>,
}

/// Newly owned partitions whose alerts are still being collected.
struct Awaited {
    cluster: String,
    partitions: Vec<u32>,
    count: u32,
    since: std::time::Instant,
}

/// The pipeline's side of the handover: ownership as the sources report it, and what the
/// stores hold as far as this instance knows.
pub(crate) struct HandoverLink {
    stores: BTreeMap<String, Arc<dyn AlertHandover>>,
    /// Offsets-topic partitions owned, and their count, by coordinated cluster.
    owned: HashMap<String, (BTreeSet<u32>, u32)>,
    /// The open alerts last published (or adopted), by incident id.
    published: HashMap<String, HandedAlert>,
    /// Until their alerts are adopted, the rules do not see these groups.
    awaited: Vec<Awaited>,
    publish: Option<mpsc::UnboundedSender<HandedAlert>>,
    publisher: Option<JoinHandle<()>>,
    adopted: mpsc::UnboundedSender<Adopted>,
    stop: CancellationToken,
    /// Where the ownership is shown (`RuntimeStats::ownership`) and announced.
    shown: Arc<crate::peers::Peers>,
}

/// The pause before retry number `failures` of a store operation.
fn retry_wait(failures: u32) -> Duration {
    Duration::from_secs(1 << failures.clamp(1, 5).saturating_sub(1))
}

impl HandoverLink {
    /// Starts the publishing task (when there is a store); adopted alerts arrive on the
    /// returned receiver.
    pub(crate) fn start(
        stores: BTreeMap<String, Arc<dyn AlertHandover>>,
        stop: CancellationToken,
        shown: Arc<crate::peers::Peers>,
    ) -> (HandoverLink, mpsc::UnboundedReceiver<Adopted>) {
        for (cluster, store) in &stores {
            tracing::info!(%cluster, store = store.name(), "open alerts of this cluster's groups move with their groups between the instances sharing it");
        }
        let (adopted, adopted_rx) = mpsc::unbounded_channel();
        let (publish, publisher) = if stores.is_empty() {
            (None, None)
        } else {
            let (tx, rx) = mpsc::unbounded_channel();
            let task = tokio::spawn(publish_changes(stores.clone(), rx));
            (Some(tx), Some(task))
        };
        let link = HandoverLink {
            stores,
            owned: HashMap::new(),
            published: HashMap::new(),
            awaited: Vec::new(),
            publish,
            publisher,
            adopted,
            stop,
            shown,
        };
        (link, adopted_rx)
    }

    /// At start, before any source runs: open alerts restored from the state directory for a
    /// cluster with a store are dropped, without notification. Which of its groups this
    /// instance owns is not known yet, and the store holds the alerts of the groups it will
    /// be given.
    pub(crate) fn forget_restored(&mut self, rules: &mut dyn RuleEngine) {
        for cluster in self.stores.keys() {
            let dropped = rules.release_groups(cluster, &|_| true);
            if dropped > 0 {
                tracing::info!(%cluster, open_alerts = dropped, "open alerts restored from disk left to the alert handover store (groups are shared with other instances)");
            }
        }
    }

    /// Follows ownership changes in a batch of events.
    pub(crate) fn observe(&mut self, batch: &[Event], rules: &mut dyn RuleEngine) {
        let mut changed = false;
        for event in batch {
            match event {
                Event::GroupsReleased {
                    cluster,
                    offsets_partitions,
                    partition_count,
                } => {
                    self.released(rules, cluster, offsets_partitions, *partition_count);
                    changed = true;
                }
                Event::GroupsAcquired {
                    cluster,
                    offsets_partitions,
                    partition_count,
                } => {
                    self.acquired(cluster, offsets_partitions, *partition_count);
                    changed = true;
                }
                _ => {}
            }
        }
        if changed {
            let mut rows: Vec<lagwatch_component::OwnershipRow> = self
                .owned
                .iter()
                .map(
                    |(cluster, (owned, count))| lagwatch_component::OwnershipRow {
                        cluster: cluster.clone(),
                        offsets_partitions: owned.iter().copied().collect(),
                        partition_count: *count,
                    },
                )
                .collect();
            rows.sort_by(|a, b| a.cluster.cmp(&b.cluster));
            self.shown.set_rows(rows);
        }
    }

    fn released(
        &mut self,
        rules: &mut dyn RuleEngine,
        cluster: &str,
        partitions: &[u32],
        count: u32,
    ) {
        let owned = self.owned.entry(cluster.to_owned()).or_default();
        owned.1 = count;
        for p in partitions {
            owned.0.remove(p);
        }
        let leaves = |group: &str| owned_by(group, partitions, count);
        let dropped = rules.release_groups(cluster, &leaves);
        // The next owner finds them in the store: no closing is published.
        self.published
            .retain(|_, a| !(a.cluster == cluster && leaves(&a.group)));
        if dropped > 0 {
            tracing::info!(%cluster, offsets_partitions = ?partitions, open_alerts = dropped, "open alerts handed over with their groups");
        }
    }

    fn acquired(&mut self, cluster: &str, partitions: &[u32], count: u32) {
        let owned = self.owned.entry(cluster.to_owned()).or_default();
        owned.1 = count;
        owned.0.extend(partitions.iter().copied());
        if partitions.is_empty() {
            return;
        }
        let Some(store) = self.stores.get(cluster).cloned() else {
            return;
        };
        self.awaited.push(Awaited {
            cluster: cluster.to_owned(),
            partitions: partitions.to_vec(),
            count,
            since: std::time::Instant::now(),
        });
        let (cluster, partitions) = (cluster.to_owned(), partitions.to_vec());
        let (adopted, stop) = (self.adopted.clone(), self.stop.clone());
        tokio::spawn(async move {
            let mut failures = 0u32;
            loop {
                match store.collect(&cluster, &partitions, count).await {
                    Ok(alerts) => {
                        let _ = adopted.send(Adopted {
                            cluster,
                            partitions,
                            alerts,
                        });
                        return;
                    }
                    Err(e) => {
                        failures = failures.saturating_add(1);
                        let wait = retry_wait(failures);
                        tracing::warn!(%cluster, store = store.name(), error = %e, ?wait, "cannot read the open alerts left for newly owned groups; retrying");
                        tokio::select! {
                            () = stop.cancelled() => return,
                            () = tokio::time::sleep(wait) => {}
                        }
                    }
                }
            }
        });
    }

    /// Takes over alerts collected for newly owned groups, unless the groups have moved on
    /// again meanwhile.
    pub(crate) fn adopt(&mut self, rules: &mut dyn RuleEngine, adopted: Adopted) {
        let Adopted {
            cluster,
            partitions,
            alerts,
        } = adopted;
        self.awaited
            .retain(|a| !(a.cluster == cluster && a.partitions == partitions));
        let Some((owned, count)) = self.owned.get(&cluster) else {
            return;
        };
        let owned: Vec<u32> = owned.iter().copied().collect();
        let alerts: Vec<HandedAlert> = alerts
            .into_iter()
            .filter(|a| owned_by(&a.group, &owned, *count))
            .collect();
        if alerts.is_empty() {
            return;
        }
        for a in &alerts {
            self.published.insert(a.id.clone(), a.clone());
        }
        let offered = alerts.len();
        let taken = rules.adopt_alerts(alerts);
        tracing::info!(%cluster, offered, taken, "took over the open alerts of newly owned groups");
    }

    /// What the rules should judge: `snapshot` itself, or (while the alerts of newly owned
    /// groups are being collected, at most [`HOLD_LIMIT`]) a copy without those groups, so
    /// that no alert of theirs is announced again before the previous owner's record of it
    /// is known.
    pub(crate) fn rules_view(&mut self, snapshot: &Snapshot) -> Option<Snapshot> {
        self.awaited.retain(|a| {
            let waiting = a.since.elapsed() < HOLD_LIMIT;
            if !waiting {
                tracing::warn!(cluster = %a.cluster, offsets_partitions = ?a.partitions, "alerts of newly owned groups not collected in time; judging those groups without them");
            }
            waiting
        });
        if self.awaited.is_empty() {
            return None;
        }
        let held = |cluster: &str, group: &str| {
            self.awaited
                .iter()
                .any(|a| a.cluster == cluster && owned_by(group, &a.partitions, a.count))
        };
        let data = snapshot.data();
        Some(Snapshot::new(SnapshotData {
            at_ms: data.at_ms,
            cycle: data.cycle,
            groups: data
                .groups
                .iter()
                .filter(|g| !held(&g.cluster, &g.group))
                .cloned()
                .collect(),
            topics: data.topics.clone(),
        }))
    }

    /// Whether this instance reports `topic` of `cluster` (its broker offsets: `burrow_topic`
    /// records, topic metrics). Every instance sharing a cluster reads every topic's offsets
    /// (its groups' lag needs them), so one of them reports each topic: the owner of the
    /// offsets-topic partition the topic's name hashes to, as for a group. A cluster this
    /// instance does not share reports every topic.
    pub(crate) fn reports_topic(&self, cluster: &str, topic: &str) -> bool {
        self.owned.get(cluster).is_none_or(|(owned, count)| {
            *count > 0 && owned.contains(&lagwatch_core::sharding::offsets_partition(topic, *count))
        })
    }

    /// Whether some cluster is shared with other instances.
    pub(crate) fn shares_a_cluster(&self) -> bool {
        !self.owned.is_empty()
    }

    /// After an evaluation: publishes the open alerts that changed, and closings.
    pub(crate) fn after_evaluation(&mut self, rules: &dyn RuleEngine) {
        let Some(publish) = &self.publish else {
            return;
        };
        let mut current: HashMap<String, HandedAlert> = rules
            .open_alerts()
            .into_iter()
            .filter(|a| self.stores.contains_key(&a.cluster))
            .map(|a| (a.id.clone(), a))
            .collect();
        for (id, before) in &self.published {
            if !current.contains_key(id) {
                let _ = publish.send(HandedAlert {
                    record: None,
                    ..before.clone()
                });
            }
        }
        for (id, now) in &current {
            if self.published.get(id) != Some(now) {
                let _ = publish.send(now.clone());
            }
        }
        std::mem::swap(&mut self.published, &mut current);
    }

    /// Publishes what is still pending, waiting at most `wait`.
    pub(crate) async fn finish(&mut self, wait: Duration) {
        self.publish = None;
        if let Some(task) = self.publisher.take() {
            if tokio::time::timeout(wait, task).await.is_err() {
                tracing::warn!(
                    "open alerts not all published to the alert handover store before the shutdown deadline"
                );
            }
        }
    }
}

/// Publishes changes in order; a change that cannot be published is kept (a later change of
/// the same alert replaces it) and tried again with growing pauses. Ends once the channel is
/// closed and nothing is pending, or after one last try.
async fn publish_changes(
    stores: BTreeMap<String, Arc<dyn AlertHandover>>,
    mut changes: mpsc::UnboundedReceiver<HandedAlert>,
) {
    let mut pending: BTreeMap<String, BTreeMap<String, HandedAlert>> = BTreeMap::new();
    let mut failures = 0u32;
    let mut open = true;
    loop {
        if pending.is_empty() {
            match changes.recv().await {
                Some(change) => keep(&mut pending, change),
                None => return,
            }
        }
        while let Ok(change) = changes.try_recv() {
            keep(&mut pending, change);
        }
        let mut failed = false;
        for (cluster, alerts) in &mut pending {
            let Some(store) = stores.get(cluster) else {
                alerts.clear();
                continue;
            };
            let batch: Vec<HandedAlert> = alerts.values().cloned().collect();
            match store.publish(&batch).await {
                Ok(()) => alerts.clear(),
                Err(e) => {
                    failed = true;
                    tracing::warn!(%cluster, store = store.name(), alerts = batch.len(), error = %e, "cannot publish open alerts to the alert handover store; keeping them");
                }
            }
        }
        pending.retain(|_, alerts| !alerts.is_empty());
        if !failed {
            failures = 0;
            continue;
        }
        if !open {
            return;
        }
        failures = failures.saturating_add(1);
        let sleep = tokio::time::sleep(retry_wait(failures));
        tokio::pin!(sleep);
        // Keep taking changes while waiting; a closed channel means one last try.
        loop {
            tokio::select! {
                () = &mut sleep => break,
                change = changes.recv() => match change {
                    Some(change) => keep(&mut pending, change),
                    None => {
                        open = false;
                        break;
                    }
                },
            }
        }
    }
}

fn keep(pending: &mut BTreeMap<String, BTreeMap<String, HandedAlert>>, change: HandedAlert) {
    pending
        .entry(change.cluster.clone())
        .or_default()
        .insert(change.id.clone(), change);
}
