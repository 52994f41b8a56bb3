//! Alert lines shown under the table on a terminal.
//!
//! A table that redraws in place overwrites whatever else was printed to the terminal —
//! log lines about alerts included. An [`AlertFeed`] keeps the newest alert state changes;
//! its [`FeedAlerter`] is an [`Alerter`] that adds every notification to it, and a
//! [`StdoutSink`](crate::StdoutSink) given the feed prints them under its table.

use lagwatch_component::{Alerter, ComponentError, Delivery, async_trait};
use lagwatch_core::alert::{AlertNotification, AlertState};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// The newest alert lines, shared by a [`FeedAlerter`] and the sinks showing them.
#[derive(Debug, Clone)]
pub struct AlertFeed {
    lines: Arc<Mutex<VecDeque<String>>>,
    capacity: usize,
}

impl AlertFeed {
    /// A feed keeping the newest `capacity` lines (at least one).
    pub fn new(capacity: usize) -> AlertFeed {
        AlertFeed {
            lines: Arc::new(Mutex::new(VecDeque::new())),
            capacity: capacity.max(1),
        }
    }

    /// Adds a line, dropping the oldest beyond the capacity.
    pub fn push(&self, line: String) {
        if let Ok(mut lines) = self.lines.lock() {
            while lines.len() >= self.capacity {
                lines.pop_front();
            }
            lines.push_back(line);
        }
    }

    /// The lines, oldest first.
    pub fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// An alerter that adds every notification to this feed.
    pub fn alerter(&self) -> FeedAlerter {
        FeedAlerter { feed: self.clone() }
    }

    /// One line for `n`: time (UTC), state, rule, cluster/group and the summary, with
    /// control characters in any of them made visible (`\x1b`), so a name cannot drive the
    /// terminal.
    pub fn line(n: &AlertNotification) -> String {
        let state = match (n.state, n.reminder) {
            (AlertState::Firing, true) => "STILL FIRING",
            (AlertState::Firing, false) => "FIRING",
            (AlertState::Resolved, _) => "RESOLVED",
        };
        let secs = n.at_ms.div_euclid(1000).rem_euclid(86_400);
        let target = match (n.labels.get("cluster"), n.labels.get("group")) {
            (Some(c), Some(g)) => format!("{c}/{g}"),
            (Some(c), None) => c.clone(),
            _ => String::new(),
        };
        use lagwatch_core::text::escape_for_terminal as shown;
        format!(
            "{:02}:{:02}:{:02} {state:<8} {} {}: {}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            shown(&n.rule),
            shown(&target),
            shown(&n.summary)
        )
    }
}

/// The [`Alerter`] of an [`AlertFeed`].
#[derive(Debug, Clone)]
pub struct FeedAlerter {
    feed: AlertFeed,
}

#[async_trait]
impl Alerter for FeedAlerter {
    fn name(&self) -> &str {
        "alert-feed"
    }

    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }

    async fn deliver(&self, n: &AlertNotification) -> Result<Delivery, ComponentError> {
        self.feed.push(AlertFeed::line(n));
        Ok(Delivery { attempts: 1 })
    }
}
