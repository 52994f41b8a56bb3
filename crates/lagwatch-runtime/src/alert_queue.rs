//! The queue in front of one alerter: it never drops a firing or resolved notification.
//!
//! Below its soft capacity it simply queues. At capacity (the alerter is slow or its
//! receiver is down), a reminder of an alert that is already firing is not queued — it
//! repeats what the receiver was already told, and the next reminder comes anyway — and is
//! counted as coalesced. Firing and resolved notifications are always queued, past the
//! capacity if need be, and counted as overflow: their number is bounded by the number of
//! incidents, not by time.

use lagwatch_core::alert::AlertNotification;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Notify;

/// A notification with its place in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Queued {
    pub(crate) seq: u64,
    pub(crate) notification: AlertNotification,
}

/// What [`AlertQueue::offer`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Offered {
    Queued,
    /// Queued beyond the soft capacity.
    Overflow,
    /// A reminder not queued because the queue is full.
    Coalesced,
    /// The queue is closed.
    Closed,
}

#[derive(Debug)]
pub(crate) struct AlertQueue {
    capacity: usize,
    state: Mutex<State>,
    notify: Notify,
    pub(crate) coalesced: AtomicU64,
    pub(crate) overflow: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    items: VecDeque<Queued>,
    closed: bool,
}

impl AlertQueue {
    pub(crate) fn new(capacity: usize) -> AlertQueue {
        AlertQueue {
            capacity: capacity.max(1),
            state: Mutex::new(State::default()),
            notify: Notify::new(),
            coalesced: AtomicU64::new(0),
            overflow: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a notification would be coalesced away now (checked before it is written to
    /// the outbox, so the outbox never holds what the queue refused).
    pub(crate) fn would_coalesce(&self, n: &AlertNotification) -> bool {
        n.reminder && self.lock().items.len() >= self.capacity
    }

    /// Queues `item` (see the [module documentation](self)).
    pub(crate) fn offer(&self, item: Queued) -> Offered {
        let offered = {
            let mut s = self.lock();
            if s.closed {
                return Offered::Closed;
            }
            let full = s.items.len() >= self.capacity;
            if full && item.notification.reminder {
                self.coalesced.fetch_add(1, Ordering::Relaxed);
                return Offered::Coalesced;
            }
            s.items.push_back(item);
            if full {
                self.overflow.fetch_add(1, Ordering::Relaxed);
                Offered::Overflow
            } else {
                Offered::Queued
            }
        };
        self.notify.notify_one();
        offered
    }

    /// The next notification; `None` once the queue is closed and empty.
    pub(crate) async fn pop(&self) -> Option<Queued> {
        loop {
            let notified = self.notify.notified();
            {
                let mut s = self.lock();
                if let Some(item) = s.items.pop_front() {
                    return Some(item);
                }
                if s.closed {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// Refuses further offers; what is queued can still be taken.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagwatch_core::alert::{AlertState, Severity};
    use std::collections::BTreeMap;

    fn note(seq: u64, state: AlertState, reminder: bool) -> Queued {
        let mut n = AlertNotification::new(
            "r",
            state,
            Severity::Warning,
            BTreeMap::new(),
            1.0,
            None,
            "s",
            0,
            0,
        );
        n.reminder = reminder;
        Queued {
            seq,
            notification: n,
        }
    }

    #[tokio::test]
    async fn a_full_queue_keeps_every_state_change_and_coalesces_reminders() {
        let q = AlertQueue::new(2);
        assert_eq!(q.offer(note(1, AlertState::Firing, false)), Offered::Queued);
        assert_eq!(q.offer(note(2, AlertState::Firing, true)), Offered::Queued);
        assert!(q.would_coalesce(&note(3, AlertState::Firing, true).notification));
        assert_eq!(
            q.offer(note(3, AlertState::Firing, true)),
            Offered::Coalesced
        );
        assert_eq!(
            q.offer(note(4, AlertState::Resolved, false)),
            Offered::Overflow
        );
        assert_eq!(
            q.offer(note(5, AlertState::Firing, false)),
            Offered::Overflow
        );
        assert_eq!(q.coalesced.load(Ordering::Relaxed), 1);
        assert_eq!(q.overflow.load(Ordering::Relaxed), 2);
        q.close();
        let mut seqs = Vec::new();
        while let Some(item) = q.pop().await {
            seqs.push(item.seq);
        }
        assert_eq!(seqs, [1, 2, 4, 5]);
        assert_eq!(q.offer(note(6, AlertState::Firing, false)), Offered::Closed);
    }
}
