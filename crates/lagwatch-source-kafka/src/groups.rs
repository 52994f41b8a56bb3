//! Turning Admin API snapshots of consumer groups into events: pure, no I/O.
//!
//! The Admin API answers "where is each group now"; the model wants "what happened". The
//! [`GroupTracker`] remembers what it sent and emits only differences:
//!
//! * a [`Event::Commit`] when a partition's committed offset differs from the one sent before
//!   (or was never sent), stamped with the time of the snapshot that first showed it — the
//!   Admin API does not return commit times. A consumer that stops committing therefore sends
//!   nothing more, and the model sees its commits age (Burrow's STOP), as it would when
//!   reading `__consumer_offsets`. A consumer that commits the same offset again is not
//!   visible this way, so polling reports such a consumer as STOP, never STALL;
//! * a [`Event::Members`] when a group's owners changed (an empty list once it has none);
//! * a [`Event::GroupDeleted`] for a group the cluster has not listed in
//!   [`ABSENT_READS_BEFORE_DELETE`] reads in a row. One read is not enough: a broker that has
//!   just restarted lists the groups of a coordinator that is still loading as absent.

use lagwatch_core::filter::NameFilter;
use lagwatch_core::{Event, MemberAssignment, TimestampMs};
use std::collections::{BTreeMap, BTreeSet};

/// Consecutive reads a group (or topic) must be missing from before it is reported deleted.
pub const ABSENT_READS_BEFORE_DELETE: u32 = 3;

/// One group as one Admin API read saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupSnapshot {
    /// Committed offset per (topic, partition); partitions without an offset are absent.
    pub offsets: BTreeMap<(String, i32), i64>,
    /// Owners of the assigned partitions, when the group was described (`None`: not read this
    /// time, keep what was sent).
    pub members: Option<Vec<MemberAssignment>>,
}

#[derive(Debug, Default)]
struct Sent {
    offsets: BTreeMap<(String, i32), i64>,
    members: Option<Vec<MemberAssignment>>,
}

/// Remembers what was sent per group of one cluster; see the [module documentation](self).
#[derive(Debug)]
pub struct GroupTracker {
    cluster: String,
    topics: NameFilter,
    groups: BTreeMap<String, Sent>,
    /// Known groups missing from the latest reads, with how many reads in a row.
    missing: BTreeMap<String, u32>,
}

impl GroupTracker {
    /// A tracker for `cluster` that leaves out partitions of topics `topics` rejects.
    pub fn new(cluster: impl Into<String>, topics: NameFilter) -> GroupTracker {
        GroupTracker {
            cluster: cluster.into(),
            topics,
            groups: BTreeMap::new(),
            missing: BTreeMap::new(),
        }
    }

    /// Groups known (sent at least once).
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether no group is known.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The events for one group's snapshot taken at `now_ms`, appended to `out`.
    pub fn update(
        &mut self,
        group: &str,
        snapshot: GroupSnapshot,
        now_ms: TimestampMs,
        out: &mut Vec<Event>,
    ) {
        let sent = self.groups.entry(group.to_owned()).or_default();
        for ((topic, partition), offset) in snapshot.offsets {
            if !self.topics.accepts(&topic) {
                continue;
            }
            let key = (topic, partition);
            if sent.offsets.get(&key) == Some(&offset) {
                continue;
            }
            out.push(Event::Commit {
                cluster: self.cluster.clone(),
                group: group.to_owned(),
                topic: key.0.clone(),
                partition,
                offset,
                timestamp_ms: now_ms,
                order: None,
            });
            sent.offsets.insert(key, offset);
        }
        if let Some(mut members) = snapshot.members {
            members.retain(|m| self.topics.accepts(&m.topic));
            members.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
            if sent.members.as_ref() != Some(&members) {
                out.push(Event::Members {
                    cluster: self.cluster.clone(),
                    group: group.to_owned(),
                    assignments: members.clone(),
                });
                sent.members = Some(members);
            }
        }
    }

    /// Notes one complete group listing: a known group missing from
    /// [`ABSENT_READS_BEFORE_DELETE`] listings in a row is forgotten, with an
    /// [`Event::GroupDeleted`].
    pub fn retain(&mut self, present: &BTreeSet<String>, out: &mut Vec<Event>) {
        self.missing.retain(|g, _| !present.contains(g));
        let absent: Vec<String> = self
            .groups
            .keys()
            .filter(|g| !present.contains(*g))
            .cloned()
            .collect();
        for group in absent {
            let reads = self.missing.entry(group.clone()).or_insert(0);
            *reads += 1;
            if *reads >= ABSENT_READS_BEFORE_DELETE {
                self.remove(&group, out);
            }
        }
    }

    /// Forgets, without a deletion event, every group `ownership` no longer gives this
    /// instance (another instance took it over), so that it is sent afresh if it comes back.
    pub fn forget_unowned(&mut self, ownership: &lagwatch_core::sharding::Ownership) {
        self.groups.retain(|g, _| ownership.owns(g));
        self.missing.retain(|g, _| ownership.owns(g));
    }

    /// Forgets one group and emits [`Event::GroupDeleted`] when it was known.
    pub fn remove(&mut self, group: &str, out: &mut Vec<Event>) {
        self.missing.remove(group);
        if self.groups.remove(group).is_some() {
            out.push(Event::GroupDeleted {
                cluster: self.cluster.clone(),
                group: group.to_owned(),
            });
        }
    }

    /// Forgets what was sent for `topic` (deleted from the cluster), so that a topic created
    /// again under the same name starts afresh.
    pub fn forget_topic(&mut self, topic: &str) {
        for sent in self.groups.values_mut() {
            sent.offsets.retain(|(t, _), _| t != topic);
            if let Some(members) = &mut sent.members {
                members.retain(|m| m.topic != topic);
            }
        }
    }

    /// Records a commit learnt elsewhere (the offsets topic), so a later snapshot showing the
    /// same offset does not send it again.
    pub fn note_commit(&mut self, group: &str, topic: &str, partition: i32, offset: i64) {
        self.groups
            .entry(group.to_owned())
            .or_default()
            .offsets
            .insert((topic.to_owned(), partition), offset);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(
        offsets: &[(&str, i32, i64)],
        members: Option<&[(&str, i32, &str)]>,
    ) -> GroupSnapshot {
        GroupSnapshot {
            offsets: offsets
                .iter()
                .map(|(t, p, o)| ((t.to_string(), *p), *o))
                .collect(),
            members: members.map(|m| {
                m.iter()
                    .map(|(t, p, c)| MemberAssignment {
                        topic: t.to_string(),
                        partition: *p,
                        owner: "/127.0.0.1".into(),
                        client_id: c.to_string(),
                    })
                    .collect()
            }),
        }
    }

    fn commits(events: &[Event]) -> Vec<(String, i32, i64, TimestampMs)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Commit {
                    topic,
                    partition,
                    offset,
                    timestamp_ms,
                    ..
                } => Some((topic.clone(), *partition, *offset, *timestamp_ms)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_commit_is_sent_once_per_new_offset_with_the_time_it_was_first_seen() {
        let mut tracker = GroupTracker::new("c", NameFilter::allow_all());
        let mut out = Vec::new();
        tracker.update(
            "g",
            snapshot(&[("t", 0, 5), ("t", 1, 7)], None),
            1_000,
            &mut out,
        );
        tracker.update(
            "g",
            snapshot(&[("t", 0, 5), ("t", 1, 7)], None),
            2_000,
            &mut out,
        );
        tracker.update(
            "g",
            snapshot(&[("t", 0, 9), ("t", 1, 7)], None),
            3_000,
            &mut out,
        );
        assert_eq!(
            commits(&out),
            vec![
                ("t".into(), 0, 5, 1_000),
                ("t".into(), 1, 7, 1_000),
                ("t".into(), 0, 9, 3_000)
            ]
        );
    }

    #[test]
    fn members_are_sent_when_they_change_and_denied_topics_are_left_out() {
        let topics = NameFilter::new(None, Some("^__")).unwrap();
        let mut tracker = GroupTracker::new("c", topics);
        let mut out = Vec::new();
        let owned = [("t", 0, "a"), ("__x", 0, "a")];
        tracker.update("g", snapshot(&[("__x", 0, 1)], Some(&owned)), 1, &mut out);
        tracker.update("g", snapshot(&[], Some(&owned)), 2, &mut out);
        tracker.update("g", snapshot(&[], None), 3, &mut out);
        tracker.update("g", snapshot(&[], Some(&[])), 4, &mut out);
        let members: Vec<usize> = out
            .iter()
            .map(|e| match e {
                Event::Members { assignments, .. } => assignments.len(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(members, vec![1, 0]);
    }

    #[test]
    fn groups_missing_from_three_listings_in_a_row_are_deleted_once() {
        let mut tracker = GroupTracker::new("c", NameFilter::allow_all());
        let mut out = Vec::new();
        tracker.update("a", snapshot(&[("t", 0, 1)], None), 1, &mut out);
        tracker.update("b", snapshot(&[("t", 0, 1)], None), 1, &mut out);
        out.clear();
        let present: BTreeSet<String> = ["a".to_owned()].into();
        let both: BTreeSet<String> = ["a".to_owned(), "b".to_owned()].into();
        // Missing twice, listed again: the count starts over.
        tracker.retain(&present, &mut out);
        tracker.retain(&present, &mut out);
        tracker.retain(&both, &mut out);
        assert!(out.is_empty(), "{out:?}");
        for _ in 0..ABSENT_READS_BEFORE_DELETE + 1 {
            tracker.retain(&present, &mut out);
        }
        assert_eq!(
            out,
            vec![Event::GroupDeleted {
                cluster: "c".into(),
                group: "b".into()
            }]
        );
        assert_eq!(tracker.len(), 1);
    }

    #[test]
    fn a_recreated_topic_is_sent_again_after_forget_topic() {
        let mut tracker = GroupTracker::new("c", NameFilter::allow_all());
        let mut out = Vec::new();
        tracker.update("g", snapshot(&[("t", 0, 4)], None), 1, &mut out);
        tracker.forget_topic("t");
        tracker.update("g", snapshot(&[("t", 0, 4)], None), 2, &mut out);
        assert_eq!(commits(&out).len(), 2);
    }

    #[test]
    fn commits_noted_from_the_stream_are_not_repeated() {
        let mut tracker = GroupTracker::new("c", NameFilter::allow_all());
        let mut out = Vec::new();
        tracker.note_commit("g", "t", 0, 4);
        tracker.update("g", snapshot(&[("t", 0, 4)], None), 2, &mut out);
        assert!(out.is_empty(), "{out:?}");
    }
}
