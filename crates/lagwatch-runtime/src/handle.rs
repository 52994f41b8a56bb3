//! A handle on a running pipeline: its newest snapshot, live statistics, and the few
//! questions only the model can answer (a group's whole window) or changes only it can make
//! (deleting a group). The HTTP API holds one.

use crate::alert_queue::AlertQueue;
use crate::queue::DropOldestQueue;
use crate::stats::Counters;
use lagwatch_component::stats::{OutputStats, ReadLog, RuntimeStats, SourceState, StatsProvider};
use lagwatch_core::alert::{AlertNotification, AlertState};
use lagwatch_core::{PartitionDetail, Snapshot, TimestampMs};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Every topic of one group with its partitions' windows (see
/// [`LagModel::group_detail`](lagwatch_core::model::LagModel::group_detail)).
pub type GroupDetail = BTreeMap<String, Vec<PartitionDetail>>;

/// Why a question to the pipeline got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the pipeline is not running")]
pub struct NotRunning;

/// A question or change for the model, answered between two event batches.
pub(crate) enum ModelRequest {
    /// A group's whole windows.
    GroupDetail {
        cluster: String,
        group: String,
        reply: oneshot::Sender<Option<GroupDetail>>,
    },
    /// Removes a group; answers whether it existed.
    DeleteGroup {
        cluster: String,
        group: String,
        reply: oneshot::Sender<bool>,
    },
    /// Removes one topic from a group; answers whether it existed.
    DeleteGroupTopic {
        cluster: String,
        group: String,
        topic: String,
        reply: oneshot::Sender<bool>,
    },
}

/// Whether an [`Output`] is a sink or an alerter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputKind {
    Sink,
    Alerter,
}

/// A sink or alerter as the statistics see it.
pub(crate) struct Output {
    pub(crate) kind: OutputKind,
    pub(crate) name: String,
    pub(crate) capacity: usize,
    pub(crate) counters: Arc<Counters>,
    /// Items queued now, and items dropped so far (sinks: oldest snapshots; alerters:
    /// coalesced reminders).
    pub(crate) queue: Box<dyn Fn() -> (usize, u64) + Send + Sync>,
}

impl Output {
    /// A sink's figures: its queue drops the oldest snapshot when full.
    pub(crate) fn sink(
        name: &str,
        queue: Arc<DropOldestQueue<Snapshot>>,
        capacity: usize,
        counters: Arc<Counters>,
    ) -> Output {
        let c = counters.clone();
        Output {
            kind: OutputKind::Sink,
            name: name.to_owned(),
            capacity,
            counters,
            queue: Box::new(move || (queue.len(), c.dropped.load(Ordering::Relaxed))),
        }
    }

    /// An alerter's figures: its queue coalesces reminders when full.
    pub(crate) fn alerter(
        name: &str,
        queue: Arc<AlertQueue>,
        capacity: usize,
        counters: Arc<Counters>,
    ) -> Output {
        Output {
            kind: OutputKind::Alerter,
            name: name.to_owned(),
            capacity,
            counters,
            queue: Box::new(move || (queue.len(), queue.coalesced.load(Ordering::Relaxed))),
        }
    }

    fn stats(&self) -> OutputStats {
        let (depth, dropped) = (self.queue)();
        OutputStats {
            name: self.name.clone(),
            accepted: self.counters.accepted.load(Ordering::Relaxed),
            records: self.counters.records.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
            dropped,
            queue_depth: depth as u64,
            queue_capacity: self.capacity as u64,
        }
    }
}

/// How many recent notifications [`PipelineHandle::alerts`] keeps.
pub const RECENT_ALERTS: usize = 200;

/// Alerts as the HTTP API shows them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertsView {
    /// The newest notification of every incident that is firing, oldest incident first.
    pub open: Vec<AlertNotification>,
    /// The most recent notifications (at most [`RECENT_ALERTS`]), newest first.
    pub recent: Vec<AlertNotification>,
}

/// The alerts seen since the start.
#[derive(Debug, Default)]
pub(crate) struct AlertLog {
    open: BTreeMap<String, AlertNotification>,
    recent: VecDeque<AlertNotification>,
}

impl AlertLog {
    pub(crate) fn record(&mut self, n: &AlertNotification) {
        match n.state {
            AlertState::Firing => {
                self.open.insert(n.incident_id.clone(), n.clone());
            }
            AlertState::Resolved => {
                self.open.remove(&n.incident_id);
            }
        }
        if self.recent.len() == RECENT_ALERTS {
            self.recent.pop_back();
        }
        self.recent.push_front(n.clone());
    }

    fn view(&self) -> AlertsView {
        let mut open: Vec<AlertNotification> = self.open.values().cloned().collect();
        open.sort_by(|a, b| {
            a.started_at_ms
                .cmp(&b.started_at_ms)
                .then(a.incident_id.cmp(&b.incident_id))
        });
        AlertsView {
            open,
            recent: self.recent.iter().cloned().collect(),
        }
    }
}

/// The figures the pipeline updates as it runs.
#[derive(Default)]
pub(crate) struct Live {
    pub(crate) started_ms: AtomicI64,
    pub(crate) cycles: AtomicU64,
    pub(crate) last_evaluation_us: AtomicU64,
    pub(crate) events: AtomicU64,
    pub(crate) event_queue_depth: AtomicU64,
    pub(crate) event_queue_capacity: AtomicU64,
    pub(crate) state_save_failures: Mutex<Option<Arc<AtomicU64>>>,
    pub(crate) sources: Mutex<Vec<String>>,
    pub(crate) outputs: Mutex<Vec<Output>>,
    pub(crate) reads: ReadLog,
    pub(crate) alerts: Mutex<AlertLog>,
    /// This instance's share of the clusters it shares with others, and the other
    /// instances.
    pub(crate) peers: Arc<crate::peers::Peers>,
}

impl Live {
    fn stats(&self) -> RuntimeStats {
        let sources = self
            .sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|name| SourceState {
                name: name.clone(),
                has_read: self.reads.has_read(name),
            })
            .collect();
        let (sinks, alerters) = {
            let outputs = self.outputs.lock().unwrap_or_else(PoisonError::into_inner);
            let of = |kind| {
                outputs
                    .iter()
                    .filter(|o| o.kind == kind)
                    .map(Output::stats)
                    .collect()
            };
            let (sinks, alerters) = (of(OutputKind::Sink), of(OutputKind::Alerter));
            (sinks, alerters)
        };
        let evaluation_us = self.last_evaluation_us.load(Ordering::Relaxed);
        let cycles = self.cycles.load(Ordering::Relaxed);
        RuntimeStats {
            started_ms: self.started_ms.load(Ordering::Relaxed),
            cycles,
            last_evaluation: (cycles > 0).then(|| Duration::from_micros(evaluation_us)),
            events: self.events.load(Ordering::Relaxed),
            event_queue_depth: self.event_queue_depth.load(Ordering::Relaxed),
            event_queue_capacity: self.event_queue_capacity.load(Ordering::Relaxed),
            sources,
            reads: self.reads.rows(),
            sinks,
            alerters,
            state_save_failures: self
                .state_save_failures
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .map_or(0, |f| f.load(Ordering::Relaxed)),
            ownership: self.peers.rows(),
        }
    }
}

/// A cheap, cloneable handle on a [`Pipeline`](crate::Pipeline), valid before, while and
/// after it runs. Get one with [`Pipeline::handle`](crate::Pipeline::handle).
#[derive(Clone)]
pub struct PipelineHandle {
    pub(crate) latest: watch::Sender<Snapshot>,
    pub(crate) live: Arc<Live>,
    pub(crate) requests: mpsc::Sender<ModelRequest>,
}

impl std::fmt::Debug for PipelineHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineHandle")
            .field("cycle", &self.latest.borrow().cycle())
            .finish_non_exhaustive()
    }
}

impl PipelineHandle {
    /// A handle on no pipeline that always shows `snapshot`: for serving a snapshot computed
    /// elsewhere, and for tests. Its statistics are empty and its questions fail with
    /// [`NotRunning`].
    pub fn detached(snapshot: Snapshot) -> PipelineHandle {
        let (latest, _) = watch::channel(snapshot);
        let (requests, _) = mpsc::channel(1);
        PipelineHandle {
            latest,
            live: Arc::new(Live::default()),
            requests,
        }
    }

    /// The newest snapshot (empty, cycle 0, before the first evaluation).
    pub fn latest(&self) -> Snapshot {
        self.latest.borrow().clone()
    }

    /// A receiver that sees every new snapshot.
    pub fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.latest.subscribe()
    }

    /// The pipeline's figures now.
    pub fn stats(&self) -> RuntimeStats {
        self.live.stats()
    }

    /// Firing alerts and the most recent notifications (since this start: alerts restored
    /// from the state directory show up with their next notification).
    pub fn alerts(&self) -> AlertsView {
        self.live
            .alerts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .view()
    }

    /// Where `name`, a group or a topic of `cluster`, is answered: here, or (when instances
    /// share the cluster and another one owns the name's offsets-topic partition) by which
    /// instance, as far as their announcements tell.
    pub async fn owner(&self, cluster: &str, name: &str) -> crate::Owner {
        self.live.peers.owner(cluster, name).await
    }

    /// Sets the base URL of this instance's HTTP API (`http://10.0.0.7:8000`), which it
    /// announces to the instances it shares clusters with, so that they can forward
    /// questions about its groups; the HTTP server calls this once it has bound.
    pub fn advertise(&self, address: impl Into<String>) {
        self.live.peers.set_address(address.into());
    }

    /// The other instances that own part of `cluster` now (their HTTP base URLs), for
    /// answers that gather every instance's share; `None` when this instance does not share
    /// the cluster.
    pub async fn other_instances(&self, cluster: &str) -> Option<Vec<String>> {
        self.live.peers.others(cluster).await
    }

    /// The address set by [`Self::advertise`], if any.
    pub fn advertised(&self) -> Option<String> {
        self.live.peers.address()
    }

    /// When the pipeline started (ms since the epoch; 0 before it runs).
    pub fn started_ms(&self) -> TimestampMs {
        self.live.started_ms.load(Ordering::Relaxed)
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> ModelRequest,
    ) -> Result<T, NotRunning> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(make(reply))
            .await
            .map_err(|_| NotRunning)?;
        answer.await.map_err(|_| NotRunning)
    }

    /// Every topic of a group with each partition's whole commit window, owner and current lag
    /// (Burrow's consumer detail); `None` for an unknown cluster or group.
    pub async fn group_detail(
        &self,
        cluster: &str,
        group: &str,
    ) -> Result<Option<GroupDetail>, NotRunning> {
        self.ask(|reply| ModelRequest::GroupDetail {
            cluster: cluster.to_owned(),
            group: group.to_owned(),
            reply,
        })
        .await
    }

    /// Removes a group from the model (it comes back if it commits again). Answers whether
    /// the group existed.
    pub async fn delete_group(&self, cluster: &str, group: &str) -> Result<bool, NotRunning> {
        self.ask(|reply| ModelRequest::DeleteGroup {
            cluster: cluster.to_owned(),
            group: group.to_owned(),
            reply,
        })
        .await
    }

    /// Removes one topic from a group (the group too when no topic remains). Answers whether
    /// the topic was part of the group.
    pub async fn delete_group_topic(
        &self,
        cluster: &str,
        group: &str,
        topic: &str,
    ) -> Result<bool, NotRunning> {
        self.ask(|reply| ModelRequest::DeleteGroupTopic {
            cluster: cluster.to_owned(),
            group: group.to_owned(),
            topic: topic.to_owned(),
            reply,
        })
        .await
    }
}

impl StatsProvider for PipelineHandle {
    fn runtime_stats(&self) -> RuntimeStats {
        self.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagwatch_core::alert::Severity;

    fn note(group: &str, state: AlertState, at_ms: i64) -> AlertNotification {
        let labels = BTreeMap::from([("group".to_owned(), group.to_owned())]);
        AlertNotification::new(
            "lag",
            state,
            Severity::Warning,
            labels,
            1.0,
            None,
            "s",
            1_000,
            at_ms,
        )
    }

    #[test]
    fn the_alert_log_keeps_firing_incidents_and_the_newest_notifications() {
        let mut log = AlertLog::default();
        log.record(&note("a", AlertState::Firing, 1_000));
        log.record(&note("b", AlertState::Firing, 2_000));
        log.record(&note("a", AlertState::Resolved, 3_000));
        let view = log.view();
        assert_eq!(view.open.len(), 1);
        assert_eq!(view.open[0].labels["group"], "b");
        assert_eq!(
            view.recent.iter().map(|n| n.at_ms).collect::<Vec<_>>(),
            vec![3_000, 2_000, 1_000],
            "newest first"
        );
        for i in 0..RECENT_ALERTS as i64 {
            log.record(&note("c", AlertState::Firing, 10_000 + i));
        }
        let view = log.view();
        assert_eq!(view.recent.len(), RECENT_ALERTS);
        assert_eq!(view.open.len(), 2, "b and c");
    }
}
