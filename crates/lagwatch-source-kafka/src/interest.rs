//! Which topics' broker offsets an instance needs when several share a cluster.
//!
//! Alone, an instance reads the end offsets of every allowed topic. Sharing a cluster, it
//! needs only two kinds: the topics its own groups consume (to compute their lag), and the
//! topics it reports itself (those whose name hashes to one of its offsets-topic
//! partitions, see `lagwatch_runtime`'s topic ownership). [`TopicInterest`] learns the first
//! kind from the events the source sends: commits, member assignments and share-group
//! offsets add a (topic, group) pair; a deleted group or offset, a deleted topic and a
//! released group take it away.

use lagwatch_core::Event;
use lagwatch_core::sharding::Ownership;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;

/// The topics this instance's groups consume, shared by the source's reader and its
/// offsets-topic stream. Cloned handles share one state.
#[derive(Debug, Clone, Default)]
pub(crate) struct TopicInterest {
    /// Topic → the groups of this instance that consume it.
    consumers: Arc<Mutex<BTreeMap<String, BTreeSet<String>>>>,
    /// Woken when a topic is wanted that was not before.
    grown: Arc<Notify>,
}

impl TopicInterest {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, BTreeSet<String>>> {
        self.consumers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Follows `batch`; returns whether a topic became wanted (the caller may [`Self::wake`]
    /// whoever reads broker offsets).
    pub(crate) fn observe(&self, batch: &[Event]) -> bool {
        let mut grew = false;
        let mut consumers = self.lock();
        let mut add = |topic: &str, group: &str| {
            let groups = match consumers.get_mut(topic) {
                Some(groups) => groups,
                None => {
                    grew = true;
                    consumers.entry(topic.to_owned()).or_default()
                }
            };
            if !groups.contains(group) {
                groups.insert(group.to_owned());
            }
        };
        for event in batch {
            match event {
                Event::Commit { group, topic, .. } => add(topic, group),
                Event::Members {
                    group, assignments, ..
                }
                | Event::ShareGroupOffsets {
                    group, assignments, ..
                } => {
                    for assignment in assignments {
                        add(&assignment.topic, group);
                    }
                    if let Event::ShareGroupOffsets { partitions, .. } = event {
                        for p in partitions {
                            add(&p.topic, group);
                        }
                    }
                }
                _ => {}
            }
        }
        for event in batch {
            match event {
                Event::GroupDeleted { group, .. } => {
                    for groups in consumers.values_mut() {
                        groups.remove(group);
                    }
                }
                Event::OffsetDeleted { group, topic, .. } => {
                    if let Some(groups) = consumers.get_mut(topic) {
                        groups.remove(group);
                    }
                }
                Event::TopicDeleted { topic, .. } => {
                    consumers.remove(topic);
                }
                _ => {}
            }
        }
        consumers.retain(|_, groups| !groups.is_empty());
        grew
    }

    /// Forgets the groups `ownership` no longer gives this instance.
    pub(crate) fn retain_owned(&self, ownership: &Ownership) {
        let mut consumers = self.lock();
        for groups in consumers.values_mut() {
            groups.retain(|g| ownership.owns(g));
        }
        consumers.retain(|_, groups| !groups.is_empty());
    }

    /// Whether this instance needs `topic`'s broker offsets: always when it works alone;
    /// when the cluster is shared, if one of its groups consumes the topic or it reports the
    /// topic itself.
    pub(crate) fn wants(&self, topic: &str, ownership: &Ownership) -> bool {
        !ownership.is_coordinated() || ownership.owns(topic) || self.lock().contains_key(topic)
    }

    /// How many topics this instance's groups consume.
    pub(crate) fn consumed(&self) -> usize {
        self.lock().len()
    }

    /// Wakes the task waiting in [`Self::grown`] (or its next wait).
    pub(crate) fn wake(&self) {
        self.grown.notify_one();
    }

    /// Resolves at the next [`Self::wake`] (at once if one came since the last wait).
    pub(crate) async fn grown(&self) {
        self.grown.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagwatch_core::MemberAssignment;
    use lagwatch_core::sharding::offsets_partition;

    fn commit(group: &str, topic: &str) -> Event {
        Event::Commit {
            cluster: "c".into(),
            group: group.into(),
            topic: topic.into(),
            partition: 0,
            offset: 1,
            timestamp_ms: 1,
            order: None,
        }
    }

    /// A topic whose name hashes to partition `want` of 12.
    fn topic_in(want: u32) -> String {
        (0..)
            .map(|i| format!("t{i}"))
            .find(|t| offsets_partition(t, 12) == want)
            .unwrap_or_default()
    }

    #[test]
    fn alone_every_topic_is_wanted() {
        let interest = TopicInterest::default();
        assert!(interest.wants("anything", &Ownership::everything()));
    }

    #[test]
    fn shared_only_consumed_or_reported_topics_are_wanted() {
        let ownership = Ownership::coordinated(12);
        ownership.assign(&[3]);
        let interest = TopicInterest::default();
        let reported = topic_in(3);
        let other = topic_in(5);
        assert!(interest.wants(&reported, &ownership));
        assert!(!interest.wants(&other, &ownership));

        assert!(interest.observe(&[commit("g", &other)]));
        assert!(
            !interest.observe(&[commit("g", &other)]),
            "not new any more"
        );
        assert!(interest.wants(&other, &ownership));
        assert_eq!(interest.consumed(), 1);

        interest.observe(&[Event::OffsetDeleted {
            cluster: "c".into(),
            group: "g".into(),
            topic: other.clone(),
            partition: 0,
        }]);
        assert!(!interest.wants(&other, &ownership));
    }

    #[test]
    fn members_share_groups_deletions_and_releases_update_the_topics() {
        let ownership = Ownership::coordinated(12);
        let (mine, theirs) = {
            let mut groups = (0..).map(|i| format!("g{i}"));
            let mine = groups
                .by_ref()
                .find(|g| offsets_partition(g, 12) == 1)
                .unwrap_or_default();
            let theirs = groups
                .find(|g| offsets_partition(g, 12) == 2)
                .unwrap_or_default();
            (mine, theirs)
        };
        ownership.assign(&[1, 2]);
        let (a, b) = (topic_in(7), topic_in(8));
        let interest = TopicInterest::default();
        interest.observe(&[
            Event::Members {
                cluster: "c".into(),
                group: mine.clone(),
                assignments: vec![MemberAssignment {
                    topic: a.clone(),
                    partition: 0,
                    owner: "/127.0.0.1".into(),
                    client_id: "app".into(),
                }],
            },
            commit(&theirs, &b),
        ]);
        assert!(interest.wants(&a, &ownership) && interest.wants(&b, &ownership));

        ownership.revoke(&[2]);
        interest.retain_owned(&ownership);
        assert!(interest.wants(&a, &ownership));
        assert!(!interest.wants(&b, &ownership), "its only group moved away");

        interest.observe(&[Event::GroupDeleted {
            cluster: "c".into(),
            group: mine,
        }]);
        assert!(!interest.wants(&a, &ownership));

        interest.observe(&[commit("x", &a)]);
        interest.observe(&[Event::TopicDeleted {
            cluster: "c".into(),
            topic: a.clone(),
        }]);
        assert!(!interest.wants(&a, &ownership));
    }
}
