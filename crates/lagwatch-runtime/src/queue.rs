use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::Notify;

/// A bounded queue whose producer never waits: pushing into a full queue drops the oldest
/// item (and reports it), so the consumer always gets the newest data.
#[derive(Debug)]
pub struct DropOldestQueue<T> {
    capacity: usize,
    state: Mutex<State<T>>,
    notify: Notify,
}

#[derive(Debug)]
struct State<T> {
    items: VecDeque<T>,
    closed: bool,
}

impl<T> DropOldestQueue<T> {
    /// A queue holding at most `capacity` items (at least 1).
    pub fn new(capacity: usize) -> DropOldestQueue<T> {
        DropOldestQueue {
            capacity: capacity.max(1),
            state: Mutex::new(State {
                items: VecDeque::new(),
                closed: false,
            }),
            notify: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        // A panic while holding this lock cannot leave the deque inconsistent, so a poisoned
        // lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds an item; returns the item that had to be dropped to make room, if any. Items
    /// pushed after [`close`](Self::close) are returned as dropped.
    pub fn push(&self, item: T) -> Option<T> {
        let dropped = {
            let mut s = self.lock();
            if s.closed {
                return Some(item);
            }
            let dropped = if s.items.len() >= self.capacity {
                s.items.pop_front()
            } else {
                None
            };
            s.items.push_back(item);
            dropped
        };
        self.notify.notify_one();
        dropped
    }

    /// Takes the oldest item, waiting for one; `None` once the queue is closed and empty.
    pub async fn pop(&self) -> Option<T> {
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

    /// Stops accepting items; [`pop`](Self::pop) drains what is left, then returns `None`.
    pub fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Whether [`DropOldestQueue::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Whether no item is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn full_queue_drops_the_oldest() {
        let q = DropOldestQueue::new(2);
        assert_eq!(q.push(1), None);
        assert_eq!(q.push(2), None);
        assert_eq!(q.push(3), Some(1));
        assert_eq!(q.pop().await, Some(2));
        assert_eq!(q.pop().await, Some(3));
        q.close();
        assert_eq!(q.pop().await, None);
        assert_eq!(q.push(4), Some(4));
    }

    #[tokio::test]
    async fn close_drains_before_ending() {
        let q = std::sync::Arc::new(DropOldestQueue::new(4));
        q.push("a");
        q.close();
        assert_eq!(q.pop().await, Some("a"));
        assert_eq!(q.pop().await, None);
    }

    #[tokio::test]
    async fn pop_waits_for_a_push() {
        let q = std::sync::Arc::new(DropOldestQueue::new(1));
        let q2 = q.clone();
        let waiter = tokio::spawn(async move { q2.pop().await });
        tokio::task::yield_now().await;
        q.push(7);
        assert_eq!(waiter.await.ok().flatten(), Some(7));
    }
}
