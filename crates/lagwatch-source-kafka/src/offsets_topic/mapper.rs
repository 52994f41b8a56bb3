//! From decoded `__consumer_offsets` records to events: pure, no I/O.
//!
//! * A committed offset becomes an [`Event::Commit`] with the broker's commit time and the
//!   record's offset in the offsets topic as its order (one group always lives in one
//!   partition of that topic, so the order is consistent per group), as in Burrow.
//! * Classic group metadata of protocol type `consumer` becomes an [`Event::Members`]: every
//!   assigned partition with the member's host as owner and its client id; an empty group
//!   clears its owners. Other protocol types (Kafka Connect, ...) are skipped.
//! * A classic group tombstone or a KIP-848 consumer group tombstone becomes an
//!   [`Event::GroupDeleted`].
//! * An offset tombstone (an offset deleted or expired, or its group deleted) becomes an
//!   [`Event::OffsetDeleted`] for that partition alone: the group's other partitions may
//!   still be live. Kafka 3.x deletes a group that never had members with offset tombstones
//!   and no group tombstone; the model drops a group whose last commit is deleted.
//! * KIP-848 member records carry topic ids, not names; owners of KIP-848 groups come from
//!   the periodic group description instead.
//!
//! Groups and topics rejected by the allow/deny lists produce nothing.

use super::decode::Record;
use lagwatch_core::filter::NameFilter;
use lagwatch_core::sharding::Ownership;
use lagwatch_core::{Event, MemberAssignment};

/// Maps records of one cluster's offsets topic to events; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct RecordMapper {
    cluster: String,
    groups: NameFilter,
    topics: NameFilter,
    ownership: Ownership,
}

impl RecordMapper {
    /// A mapper for `cluster` keeping the groups and topics the filters accept.
    pub fn new(cluster: impl Into<String>, groups: NameFilter, topics: NameFilter) -> RecordMapper {
        RecordMapper {
            cluster: cluster.into(),
            groups,
            topics,
            ownership: Ownership::everything(),
        }
    }

    /// Keeps only the groups `ownership` says are this instance's (several instances sharing
    /// a cluster).
    pub fn with_ownership(mut self, ownership: Ownership) -> RecordMapper {
        self.ownership = ownership;
        self
    }

    /// Appends the events of `record`, read at `record_offset` of the offsets topic, to `out`.
    pub fn apply(&self, record: Record, record_offset: i64, out: &mut Vec<Event>) {
        if record
            .group()
            .is_some_and(|g| !self.groups.accepts(g) || !self.ownership.owns(g))
        {
            return;
        }
        match record {
            Record::OffsetCommit(c) if self.topics.accepts(&c.topic) => {
                out.push(Event::Commit {
                    cluster: self.cluster.clone(),
                    group: c.group,
                    topic: c.topic,
                    partition: c.partition,
                    offset: c.offset,
                    timestamp_ms: c.commit_timestamp_ms,
                    order: Some(record_offset),
                });
            }
            Record::GroupMetadata(m) if m.protocol_type == "consumer" => {
                // Sized once: the decoder has already bounded what this builds
                // (MAX_DECODED_BYTES counts one owner entry per assigned partition).
                let total = m.members.iter().map(|member| member.assignment.len()).sum();
                let mut assignments: Vec<MemberAssignment> = Vec::with_capacity(total);
                for member in &m.members {
                    assignments.extend(
                        member
                            .assignment
                            .iter()
                            .filter(|(topic, _)| self.topics.accepts(topic))
                            .map(|(topic, partition)| MemberAssignment {
                                topic: topic.to_string(),
                                partition: *partition,
                                owner: member.client_host.clone(),
                                client_id: member.client_id.clone(),
                            }),
                    );
                }
                // In place: a stable sort would take scratch memory of up to half the list.
                assignments.sort_unstable_by(|a, b| {
                    (&a.topic, a.partition, &a.owner, &a.client_id).cmp(&(
                        &b.topic,
                        b.partition,
                        &b.owner,
                        &b.client_id,
                    ))
                });
                out.push(Event::Members {
                    cluster: self.cluster.clone(),
                    group: m.group,
                    assignments,
                });
            }
            Record::OffsetTombstone {
                group,
                topic,
                partition,
            } if self.topics.accepts(&topic) => {
                out.push(Event::OffsetDeleted {
                    cluster: self.cluster.clone(),
                    group,
                    topic,
                    partition,
                });
            }
            Record::GroupTombstone { group } | Record::ConsumerGroupTombstone { group } => {
                out.push(Event::GroupDeleted {
                    cluster: self.cluster.clone(),
                    group,
                });
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offsets_topic::decode::{
        ASSIGNED_PARTITION_BYTES, GroupMetadata, Member, OffsetCommit,
    };
    use std::sync::Arc;

    #[test]
    fn the_partition_cost_covers_the_decoded_pair_and_the_owner_entry() {
        assert!(
            std::mem::size_of::<(Arc<str>, i32)>() + std::mem::size_of::<MemberAssignment>()
                <= ASSIGNED_PARTITION_BYTES
        );
    }

    fn commit(group: &str, topic: &str) -> Record {
        Record::OffsetCommit(OffsetCommit {
            group: group.into(),
            topic: topic.into(),
            partition: 2,
            offset: 40,
            leader_epoch: None,
            metadata: String::new(),
            commit_timestamp_ms: 1_700_000_000_000,
            expire_timestamp_ms: None,
            topic_id: None,
            value_version: 3,
        })
    }

    fn mapper() -> RecordMapper {
        RecordMapper::new(
            "live",
            NameFilter::new(None, Some("^console-consumer-")).unwrap(),
            NameFilter::new(None, Some("^__")).unwrap(),
        )
    }

    #[test]
    fn a_commit_keeps_the_broker_time_and_the_record_offset_as_order() {
        let mut out = Vec::new();
        mapper().apply(commit("g", "orders"), 1234, &mut out);
        assert_eq!(
            out,
            vec![Event::Commit {
                cluster: "live".into(),
                group: "g".into(),
                topic: "orders".into(),
                partition: 2,
                offset: 40,
                timestamp_ms: 1_700_000_000_000,
                order: Some(1234),
            }]
        );
    }

    #[test]
    fn an_offset_tombstone_deletes_that_partition_only() {
        let tombstone = |group: &str, topic: &str| Record::OffsetTombstone {
            group: group.into(),
            topic: topic.into(),
            partition: 3,
        };
        let mut out = Vec::new();
        let m = mapper();
        m.apply(tombstone("g", "orders"), 7, &mut out);
        m.apply(tombstone("console-consumer-1", "orders"), 8, &mut out);
        m.apply(tombstone("g", "__consumer_offsets"), 9, &mut out);
        assert_eq!(
            out,
            vec![Event::OffsetDeleted {
                cluster: "live".into(),
                group: "g".into(),
                topic: "orders".into(),
                partition: 3,
            }]
        );
    }

    #[test]
    fn denied_groups_and_topics_give_nothing() {
        let mut out = Vec::new();
        mapper().apply(commit("console-consumer-1", "orders"), 1, &mut out);
        mapper().apply(commit("g", "__consumer_offsets"), 2, &mut out);
        mapper().apply(
            Record::GroupTombstone {
                group: "console-consumer-1".into(),
            },
            3,
            &mut out,
        );
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn group_metadata_sets_owners_and_tombstones_delete() {
        let member = |id: &str, parts: &[(&str, i32)]| Member {
            member_id: id.into(),
            group_instance_id: None,
            client_id: format!("client-{id}"),
            client_host: "/127.0.0.1".into(),
            rebalance_timeout_ms: Some(300_000),
            session_timeout_ms: 45_000,
            assignment: parts.iter().map(|(t, p)| (Arc::from(*t), *p)).collect(),
        };
        let metadata = |protocol_type: &str, members: Vec<Member>| {
            Record::GroupMetadata(GroupMetadata {
                group: "g".into(),
                protocol_type: protocol_type.into(),
                generation: 3,
                protocol: Some("range".into()),
                leader: None,
                state_timestamp_ms: None,
                members,
                value_version: 3,
            })
        };
        let mut out = Vec::new();
        let m = mapper();
        m.apply(
            metadata(
                "consumer",
                vec![
                    member("b", &[("t", 1)]),
                    member("a", &[("t", 0), ("__x", 0)]),
                ],
            ),
            1,
            &mut out,
        );
        m.apply(
            metadata("connect", vec![member("c", &[("t", 0)])]),
            2,
            &mut out,
        );
        m.apply(metadata("consumer", vec![]), 3, &mut out);
        m.apply(Record::GroupTombstone { group: "g".into() }, 4, &mut out);
        let owner = |p: i32, c: &str| MemberAssignment {
            topic: "t".into(),
            partition: p,
            owner: "/127.0.0.1".into(),
            client_id: c.into(),
        };
        assert_eq!(
            out,
            vec![
                Event::Members {
                    cluster: "live".into(),
                    group: "g".into(),
                    assignments: vec![owner(0, "client-a"), owner(1, "client-b")],
                },
                Event::Members {
                    cluster: "live".into(),
                    group: "g".into(),
                    assignments: vec![],
                },
                Event::GroupDeleted {
                    cluster: "live".into(),
                    group: "g".into(),
                },
            ]
        );
    }
}
