//! Membership in a coordination group: several lagwatch instances divide a cluster's
//! consumer groups by joining one Kafka consumer group on the offsets topic.
//!
//! Kafka assigns the offsets topic's partitions among the members, and a consumer group's
//! commits all live in one of those partitions ([`lagwatch_core::sharding`]), so the
//! assignment divides the groups. The member only listens to the assignment: its partitions
//! are paused at once and nothing is ever committed under the coordination group. The
//! cooperative protocol (`cooperative-sticky`, or KIP-848's `consumer` protocol) moves only
//! the partitions that change hands when a member joins or leaves. What this member owns is kept in an [`Ownership`] that the
//! source's readers consult, and every change is also sent as a [`Change`].

use crate::client::QuietContext;
use crate::error::KafkaError;
use lagwatch_core::sharding::Ownership;
use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError as RdError;
use rdkafka::statistics::Statistics;
use rdkafka::topic_partition_list::TopicPartitionList;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// The group protocol a member joins with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// The classic protocol with the `cooperative-sticky` assignor; `session_timeout` is
    /// how long the group waits for a member that stopped answering before its partitions
    /// move.
    Classic {
        /// Kafka's `session.timeout.ms`.
        session_timeout: Duration,
    },
    /// KIP-848's protocol (`group.protocol=consumer`, Kafka 4.0+): the brokers assign, every
    /// change is incremental, and the brokers' `group.consumer.session.timeout.ms` applies.
    Consumer,
}

/// A change of what this member owns, in offsets-topic partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Partitions newly assigned to this member.
    Assigned(Vec<u32>),
    /// Partitions taken from this member.
    Revoked(Vec<u32>),
}

/// This instance's membership in a coordination group; leaves the group when dropped.
#[derive(Debug)]
pub struct Membership {
    ownership: Ownership,
    changes: mpsc::UnboundedReceiver<Change>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct MembershipContext {
    quiet: QuietContext,
    ownership: Ownership,
    changes: mpsc::UnboundedSender<Change>,
}

impl ClientContext for MembershipContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        self.quiet.log(level, fac, log_message);
    }

    fn error(&self, error: RdError, reason: &str) {
        self.quiet.error(error, reason);
    }

    fn stats(&self, statistics: Statistics) {
        self.quiet.stats(statistics);
    }
}

impl ConsumerContext for MembershipContext {
    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                // Only the assignment matters: nothing is fetched under this group.
                if let Err(e) = consumer.pause(list) {
                    tracing::debug!(error = %e, "cannot pause the coordination group's partitions");
                }
                let added = self.ownership.assign(&partitions(list));
                if !added.is_empty() {
                    tracing::info!(partitions = ?added, owned = ?self.ownership.assigned(), "offsets-topic partitions assigned to this instance");
                    let _ = self.changes.send(Change::Assigned(added));
                }
            }
            Rebalance::Revoke(list) => {
                let removed = self.ownership.revoke(&partitions(list));
                if !removed.is_empty() {
                    tracing::info!(partitions = ?removed, owned = ?self.ownership.assigned(), "offsets-topic partitions handed to another instance");
                    let _ = self.changes.send(Change::Revoked(removed));
                }
            }
            Rebalance::Error(e) => {
                tracing::warn!(error = %e, "coordination group rebalance failed");
            }
        }
    }
}

fn partitions(list: &TopicPartitionList) -> Vec<u32> {
    list.elements()
        .iter()
        .filter_map(|e| u32::try_from(e.partition()).ok())
        .collect()
}

impl Membership {
    /// Joins `group` on `topic` (an offsets topic of `partition_count` partitions) with the
    /// source's connection settings `config`, with `protocol`.
    ///
    /// # Errors
    /// [`KafkaError::Internal`] when the consumer cannot be created or cannot subscribe.
    pub fn join(
        mut config: ClientConfig,
        cluster: &str,
        group: &str,
        topic: &str,
        partition_count: u32,
        protocol: Protocol,
    ) -> Result<Membership, KafkaError> {
        let ownership = Ownership::coordinated(partition_count);
        let (tx, changes) = mpsc::unbounded_channel();
        config.set("group.id", group);
        match protocol {
            Protocol::Classic { session_timeout } => {
                config
                    .set("partition.assignment.strategy", "cooperative-sticky")
                    .set(
                        "session.timeout.ms",
                        session_timeout
                            .as_millis()
                            .clamp(1, i32::MAX as u128)
                            .to_string(),
                    );
            }
            // The brokers assign (their default assignor) and keep the session timeout.
            Protocol::Consumer => {
                config.set("group.protocol", "consumer");
            }
        }
        config
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "latest");
        let context = MembershipContext {
            quiet: QuietContext::new(cluster),
            ownership: ownership.clone(),
            changes: tx,
        };
        let consumer: BaseConsumer<MembershipContext> = config
            .create_with_context(context)
            .map_err(|e| KafkaError::Internal(format!("coordination group {group}: {e}")))?;
        consumer
            .subscribe(&[topic])
            .map_err(|e| KafkaError::Internal(format!("coordination group {group}: {e}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        let halt = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("lagwatch-membership".into())
            .spawn(move || {
                // Polling serves the group protocol and the rebalance callbacks; records do
                // not come (the partitions are paused).
                while !halt.load(Ordering::Relaxed) {
                    let _ = consumer.poll(Duration::from_millis(100));
                }
                // Dropping the consumer closes it: the member leaves the group at once.
                drop(consumer);
            })
            .map_err(|e| KafkaError::Internal(format!("cannot start a thread: {e}")))?;
        Ok(Membership {
            ownership,
            changes,
            stop,
            thread: Some(thread),
        })
    }

    /// What this member owns (shared with the readers that filter groups).
    pub fn ownership(&self) -> &Ownership {
        &self.ownership
    }

    /// The next change of ownership; `None` once the member has left.
    pub async fn next_change(&mut self) -> Option<Change> {
        self.changes.recv().await
    }

    /// Leaves the group and waits until the broker has been told.
    pub fn leave(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.stop_thread();
    }
}
