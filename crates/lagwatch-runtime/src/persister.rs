//! The one thread that writes the state directory and keeps the alert outbox.
//!
//! The evaluation loop never touches a file: it sends jobs here, in order, over a channel.
//! For notifications the order of work is what makes delivery at-least-once: the outbox
//! (with the rule engine's open alerts, in one file) is written and synced first, and only
//! then are the notifications handed to the alerters' queues; an accepted notification is
//! removed from the outbox afterwards. A crash at any point leaves either nothing of the
//! evaluation on disk (it is repeated after the restart) or the outbox holding every
//! notification not yet accepted (it is replayed, with the same idempotency keys). Without a
//! state directory the same thread keeps the outbox in memory only.

use crate::alert_queue::{AlertQueue, Offered, Queued};
use crate::state_dir::{
    ALERTS_FILE, AlertsFile, FILE_VERSION, MODEL_FILE, ModelFile, OutboxEntry, write_atomically,
};
use lagwatch_core::alert::AlertNotification;
use lagwatch_core::model::ModelState;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;

/// Work for the persister thread.
pub(crate) enum Job {
    /// An evaluation's notifications and the open alerts after it.
    Alerts {
        rules: Option<serde_json::Value>,
        notifications: Vec<AlertNotification>,
    },
    /// Alerter `alerter` is done with outbox entry `seq` (accepted, or refused for good).
    Done { alerter: usize, seq: u64 },
    /// The model's and the rules' windows.
    Model {
        model: ModelState,
        windows: Option<serde_json::Value>,
    },
    /// Answers once every job sent before it is done.
    Flush(mpsc::SyncSender<()>),
}

/// Handle of the persister thread.
pub(crate) struct PersisterHandle {
    jobs: mpsc::Sender<Job>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// `true` while a model save is queued or being written (the loop skips a save then).
    pub(crate) model_busy: Arc<AtomicBool>,
    /// Saves that failed (logged each time).
    pub(crate) failures: Arc<AtomicU64>,
}

struct Persister {
    dir: Option<PathBuf>,
    queues: Vec<(String, Arc<AlertQueue>)>,
    outbox: BTreeMap<u64, OutboxEntry>,
    next_seq: u64,
    rules: Option<serde_json::Value>,
    model_busy: Arc<AtomicBool>,
    failures: Arc<AtomicU64>,
}

impl PersisterHandle {
    /// Starts the thread. `outbox` holds entries restored from disk; those of alerters that
    /// still exist are queued at once, in order, the others dropped with a warning.
    pub(crate) fn start(
        dir: Option<PathBuf>,
        queues: Vec<(String, Arc<AlertQueue>)>,
        rules: Option<serde_json::Value>,
        outbox: Vec<OutboxEntry>,
    ) -> std::io::Result<PersisterHandle> {
        let model_busy = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(AtomicU64::new(0));
        let mut persister = Persister {
            dir,
            queues,
            outbox: BTreeMap::new(),
            next_seq: 1,
            rules,
            model_busy: model_busy.clone(),
            failures: failures.clone(),
        };
        persister.replay(outbox);
        let (jobs, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("lagwatch-state".to_owned())
            .spawn(move || persister.run(rx))?;
        Ok(PersisterHandle {
            jobs,
            thread: Some(thread),
            model_busy,
            failures,
        })
    }

    /// Sends a job; a stopped thread is reported once per job (it cannot happen unless the
    /// thread panicked, which is logged by the panic hook).
    pub(crate) fn send(&self, job: Job) {
        if self.jobs.send(job).is_err() {
            tracing::error!("the state thread has stopped; state and outbox are not saved");
        }
    }

    /// A sender for [`Job::Done`] from the alerters' tasks.
    pub(crate) fn done_sender(&self) -> mpsc::Sender<Job> {
        self.jobs.clone()
    }

    /// Waits until every job sent so far is done, at most `timeout`, without blocking the
    /// async runtime's threads.
    pub(crate) async fn flush(&self, timeout: std::time::Duration) -> bool {
        let (tx, rx) = mpsc::sync_channel(1);
        self.send(Job::Flush(tx));
        tokio::task::spawn_blocking(move || rx.recv_timeout(timeout).is_ok())
            .await
            .unwrap_or(false)
    }

    /// Stops the thread after the jobs already sent.
    pub(crate) async fn stop(mut self, timeout: std::time::Duration) {
        if !self.flush(timeout).await {
            tracing::error!("the state thread did not finish writing before the shutdown deadline");
            return;
        }
        let (jobs, _) = mpsc::channel();
        drop(std::mem::replace(&mut self.jobs, jobs));
        if let Some(thread) = self.thread.take() {
            let joined = tokio::task::spawn_blocking(move || thread.join().is_ok()).await;
            if !joined.unwrap_or(false) {
                tracing::error!("the state thread panicked");
            }
        }
    }
}

impl Persister {
    fn run(mut self, jobs: mpsc::Receiver<Job>) {
        while let Ok(job) = jobs.recv() {
            match job {
                Job::Alerts {
                    rules,
                    notifications,
                } => self.alerts(rules, notifications),
                Job::Done { alerter, seq } => {
                    if self.outbox.remove(&seq).is_some() {
                        self.save_alerts();
                    } else {
                        tracing::trace!(alerter, seq, "outbox entry already gone");
                    }
                }
                Job::Model { model, windows } => {
                    self.save_model(model, windows);
                    self.model_busy.store(false, Ordering::Release);
                }
                Job::Flush(done) => {
                    let _ = done.send(());
                }
            }
        }
    }

    fn replay(&mut self, mut entries: Vec<OutboxEntry>) {
        entries.sort_by_key(|e| e.seq);
        let mut replayed = 0usize;
        for entry in entries {
            self.next_seq = self.next_seq.max(entry.seq.saturating_add(1));
            let Some((_, queue)) = self.queues.iter().find(|(name, _)| *name == entry.alerter)
            else {
                tracing::warn!(alerter = %entry.alerter, incident = %entry.notification.incident_id,
                    state = %entry.notification.state,
                    "dropping a saved notification of an alerter that is no longer configured");
                continue;
            };
            let item = Queued {
                seq: entry.seq,
                notification: entry.notification.clone(),
            };
            match queue.offer(item) {
                Offered::Queued | Offered::Overflow => {
                    replayed += 1;
                    self.outbox.insert(entry.seq, entry);
                }
                // A reminder the full queue did not take: it is counted, and it must leave
                // the outbox too, or it would stay there unsent and be replayed at every start.
                Offered::Coalesced => {}
                // Not delivered this run: it stays for the next start.
                Offered::Closed => {
                    self.outbox.insert(entry.seq, entry);
                }
            }
        }
        if replayed > 0 {
            tracing::info!(
                notifications = replayed,
                "replaying notifications not delivered before the restart"
            );
        }
    }

    fn alerts(&mut self, rules: Option<serde_json::Value>, notifications: Vec<AlertNotification>) {
        let mut accepted = Vec::new();
        for n in &notifications {
            for index in 0..self.queues.len() {
                let (name, queue) = (self.queues[index].0.clone(), self.queues[index].1.clone());
                if queue.would_coalesce(n) {
                    queue.coalesced.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(alerter = %name, incident = %n.incident_id,
                        "reminder skipped: the alerter's queue is full");
                    continue;
                }
                let seq = self.next_seq;
                self.next_seq += 1;
                self.outbox.insert(
                    seq,
                    OutboxEntry {
                        seq,
                        alerter: name,
                        notification: n.clone(),
                    },
                );
                accepted.push((index, seq, n));
            }
        }
        let changed = rules.is_some() && rules != self.rules;
        if changed {
            self.rules = rules;
        }
        if changed || !accepted.is_empty() {
            self.save_alerts();
        }
        // Only now, with the outbox on disk, may the alerters see them.
        for (index, seq, n) in accepted {
            let (name, queue) = &self.queues[index];
            let item = Queued {
                seq,
                notification: n.clone(),
            };
            match queue.offer(item) {
                Offered::Queued | Offered::Coalesced => {}
                Offered::Overflow => {
                    tracing::warn!(alerter = %name, queued = queue.len(), incident = %n.incident_id,
                        "alerter is behind; notification queued beyond its queue size");
                }
                Offered::Closed => {
                    tracing::debug!(alerter = %name, "alerter stopped; notification stays in the outbox");
                }
            }
        }
    }

    fn save_alerts(&mut self) {
        let Some(dir) = &self.dir else {
            return;
        };
        let file = AlertsFile {
            version: FILE_VERSION,
            rules: self.rules.clone(),
            outbox: self.outbox.values().cloned().collect(),
        };
        let result = serde_json::to_vec(&file)
            .map_err(std::io::Error::other)
            .and_then(|bytes| write_atomically(dir, ALERTS_FILE, &bytes));
        if let Err(e) = result {
            self.failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!(path = %dir.join(ALERTS_FILE).display(), error = %e,
                "cannot save open alerts and the outbox; a restart now may repeat or lose notifications");
        }
    }

    fn save_model(&mut self, model: ModelState, windows: Option<serde_json::Value>) {
        let Some(dir) = &self.dir else {
            return;
        };
        let started = std::time::Instant::now();
        let file = ModelFile {
            version: FILE_VERSION,
            model,
            rule_windows: windows,
        };
        let result = serde_json::to_vec(&file)
            .map_err(std::io::Error::other)
            .and_then(|bytes| {
                write_atomically(dir, MODEL_FILE, &bytes)?;
                Ok(bytes.len())
            });
        match result {
            Ok(bytes) => tracing::debug!(
                bytes,
                partitions = file.model.partitions(),
                took_ms = started.elapsed().as_millis() as u64,
                "state saved"
            ),
            Err(e) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(path = %dir.join(MODEL_FILE).display(), error = %e,
                    "cannot save the model's windows; a restart now starts from older ones");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagwatch_core::alert::{AlertState, Severity};

    fn entry(seq: u64, reminder: bool) -> OutboxEntry {
        let mut n = AlertNotification::new(
            "r",
            AlertState::Firing,
            Severity::Warning,
            std::collections::BTreeMap::new(),
            1.0,
            None,
            "s",
            0,
            0,
        );
        n.reminder = reminder;
        OutboxEntry {
            seq,
            alerter: "a".to_owned(),
            notification: n,
        }
    }

    #[test]
    fn a_replayed_reminder_the_full_queue_refuses_leaves_the_outbox() {
        let queue = Arc::new(AlertQueue::new(1));
        let mut persister = Persister {
            dir: None,
            queues: vec![("a".to_owned(), queue.clone())],
            outbox: BTreeMap::new(),
            next_seq: 1,
            rules: None,
            model_busy: Arc::new(AtomicBool::new(false)),
            failures: Arc::new(AtomicU64::new(0)),
        };
        persister.replay(vec![entry(2, true), entry(1, false), entry(3, false)]);
        // The firing ones are queued (the second beyond the size); the reminder is coalesced
        // and must not stay in the outbox, where nothing would ever deliver or remove it.
        assert_eq!(persister.outbox.keys().copied().collect::<Vec<_>>(), [1, 3]);
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.coalesced.load(Ordering::Relaxed), 1);
        assert_eq!(persister.next_seq, 4);
    }
}
