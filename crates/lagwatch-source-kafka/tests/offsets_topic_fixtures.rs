//! Decodes `__consumer_offsets` records captured from real brokers (Kafka 4.4 and 3.9) and
//! checks them against the scenario that wrote them.
//!
//! The fixtures are written by `examples/capture_offsets_topic.rs`; its documentation lists
//! the scenario. Group and topic names carry the random suffix of the capture run, recorded
//! in the file, so a regenerated fixture passes the same assertions.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::collections::{BTreeMap, BTreeSet};

use lagwatch_source_kafka::offsets_topic::{
    ConsumerGroupAssignment, ConsumerGroupMember, GroupMetadata, OffsetCommit, Record,
    TopicIdPartitions, decode,
};
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/offsets_topic");

/// One captured record and what it decodes to.
struct Captured {
    partition: i64,
    offset: i64,
    read_committed: bool,
    record: Record,
}

struct Fixture {
    label: String,
    suffix: String,
    kip848: bool,
    records: Vec<Captured>,
}

impl Fixture {
    fn load(name: &str) -> Fixture {
        let path = format!("{FIXTURES}/{name}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let doc: Value = serde_json::from_str(&text).unwrap();
        let records = doc["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let key = unhex(r["key_hex"].as_str().unwrap());
                let value = r["value_hex"].as_str().map(unhex);
                let record = decode(&key, value.as_deref())
                    .unwrap_or_else(|e| panic!("{name} {}/{}: {e}", r["partition"], r["offset"]));
                assert!(r["note"].as_str().is_some_and(|n| !n.is_empty()));
                Captured {
                    partition: r["partition"].as_i64().unwrap(),
                    offset: r["offset"].as_i64().unwrap(),
                    read_committed: r["read_committed"].as_bool().unwrap(),
                    record,
                }
            })
            .collect();
        Fixture {
            label: doc["label"].as_str().unwrap().to_owned(),
            suffix: doc["suffix"].as_str().unwrap().to_owned(),
            kip848: doc["kip848"].as_bool().unwrap(),
            records,
        }
    }

    fn group(&self, name: &str) -> String {
        format!("lagwatch-fixture-{}-{name}", self.suffix)
    }

    fn topic(&self, name: &str) -> String {
        format!("lagwatch-fixture-{}-{name}", self.suffix)
    }

    /// Records of group `name` visible with `isolation.level=read_committed`, in log order
    /// (one group always lives in one partition of `__consumer_offsets`).
    fn of(&self, name: &str) -> Vec<&Record> {
        let group = self.group(name);
        let captured: Vec<&Captured> = self
            .records
            .iter()
            .filter(|c| c.read_committed && c.record.group() == Some(group.as_str()))
            .collect();
        assert!(
            captured
                .windows(2)
                .all(|w| w[0].partition == w[1].partition && w[0].offset < w[1].offset),
            "{}: records of {group} not in one partition in order",
            self.label
        );
        captured.into_iter().map(|c| &c.record).collect()
    }

    /// `(topic, partition, offset, metadata)` of every offset commit of group `name`.
    fn commits(&self, name: &str) -> Vec<(String, i32, i64, String)> {
        self.of(name)
            .into_iter()
            .filter_map(|r| match r {
                Record::OffsetCommit(c) => {
                    Some((c.topic.clone(), c.partition, c.offset, c.metadata.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// The offset commits of this broker: value version and whether it has a topic id.
    fn check_commit_format(&self, commit: &OffsetCommit) {
        match self.label.as_str() {
            // Kafka 4.4 writes value version 4 (flexible) with the topic id tagged field.
            "kafka-4.4" => {
                assert_eq!(commit.value_version, 4);
                assert!(commit.topic_id.is_some());
            }
            // Kafka 3.9 writes value version 3.
            "kafka-3.9" => {
                assert_eq!(commit.value_version, 3);
                assert_eq!(commit.topic_id, None);
            }
            other => panic!("unexpected fixture {other}"),
        }
        // librdkafka commits without a leader epoch; no expiry since value version 2.
        assert_eq!(commit.leader_epoch, None);
        assert_eq!(commit.expire_timestamp_ms, None);
        assert!(commit.commit_timestamp_ms > 1_700_000_000_000);
    }
}

fn unhex(s: &str) -> Vec<u8> {
    assert_eq!(s.len() % 2, 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn both() -> [Fixture; 2] {
    [
        Fixture::load("kafka-4.4.json"),
        Fixture::load("kafka-3.9.json"),
    ]
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn fixtures_are_small_and_only_about_the_scenario() {
    let mut total = 0;
    for entry in std::fs::read_dir(FIXTURES).unwrap() {
        total += entry.unwrap().metadata().unwrap().len();
    }
    assert!(total < 200 * 1024, "fixtures take {total} bytes");
    for f in both() {
        let prefix = format!("lagwatch-fixture-{}-", f.suffix);
        assert!(!f.records.is_empty());
        for c in &f.records {
            assert!(c.record.group().unwrap().starts_with(&prefix));
        }
    }
    let [new, old] = both();
    assert_eq!((new.label.as_str(), new.kip848), ("kafka-4.4", true));
    assert_eq!((old.label.as_str(), old.kip848), ("kafka-3.9", false));
}

#[test]
fn classic_group_with_two_members() {
    for f in both() {
        let records = f.of("classic");
        let metadata: Vec<&GroupMetadata> = records
            .iter()
            .filter_map(|r| match r {
                Record::GroupMetadata(m) => Some(m),
                _ => None,
            })
            .collect();
        let a = f.topic("a");
        for m in &metadata {
            assert_eq!(m.group, f.group("classic"));
            assert_eq!(m.value_version, 3, "{}", f.label);
            assert!(m.state_timestamp_ms.is_some());
        }

        // Generation 1: the first member alone owns both partitions.
        let gen1 = metadata.iter().find(|m| m.generation == 1).unwrap();
        assert_eq!(gen1.protocol_type, "consumer");
        assert_eq!(gen1.protocol.as_deref(), Some("range"));
        assert_eq!(gen1.members.len(), 1);
        let first = &gen1.members[0];
        assert_eq!(first.client_id, "fixture-classic-1");
        assert_eq!(gen1.leader.as_ref(), Some(&first.member_id));
        assert_eq!(
            first.assignment,
            vec![(a.as_str().into(), 0), (a.as_str().into(), 1)]
        );

        // Generation 2: two members, one partition each (range: member ids sort the
        // first member first).
        let gen2 = metadata.iter().find(|m| m.generation == 2).unwrap();
        assert_eq!(gen2.protocol_type, "consumer");
        assert_eq!(gen2.protocol.as_deref(), Some("range"));
        assert_eq!(gen2.leader.as_ref(), Some(&first.member_id));
        let members: BTreeMap<&str, _> = gen2
            .members
            .iter()
            .map(|m| (m.client_id.as_str(), m))
            .collect();
        assert_eq!(
            members.keys().copied().collect::<Vec<_>>(),
            ["fixture-classic-1", "fixture-classic-2"]
        );
        for (client, partition) in [("fixture-classic-1", 0), ("fixture-classic-2", 1)] {
            let m = members[client];
            assert!(m.member_id.starts_with(&format!("{client}-")));
            assert_eq!(m.group_instance_id, None);
            assert_eq!(m.client_host, "/127.0.0.1");
            assert_eq!(m.session_timeout_ms, 10_000);
            assert_eq!(m.rebalance_timeout_ms, Some(300_000));
            assert_eq!(m.assignment, vec![(a.as_str().into(), partition)]);
        }
        assert_eq!(members["fixture-classic-1"].member_id, first.member_id);

        // Both left: generation 3, empty.
        let last = metadata.last().unwrap();
        assert_eq!(
            (last.generation, last.protocol_type.as_str()),
            (3, "consumer")
        );
        assert_eq!((&last.protocol, &last.leader), (&None, &None));
        assert!(last.members.is_empty());
        // Kafka 4.4 first writes an empty generation-0 record when the group is created.
        let generations: Vec<i32> = metadata.iter().map(|m| m.generation).collect();
        match f.label.as_str() {
            "kafka-4.4" => assert_eq!(generations, [0, 1, 2, 3]),
            _ => assert_eq!(generations, [1, 2, 3]),
        }

        // Offsets: each member committed 1 first (librdkafka commits as it goes) and 5
        // when done.
        let commits = f.commits("classic");
        let last_per_partition: BTreeMap<i32, i64> =
            commits.iter().map(|(_, p, o, _)| (*p, *o)).collect();
        assert_eq!(last_per_partition, BTreeMap::from([(0, 5), (1, 5)]));
        assert!(commits.iter().all(|(t, _, _, m)| *t == a && m.is_empty()));
        for r in &records {
            if let Record::OffsetCommit(c) = r {
                f.check_commit_format(c);
            }
        }
    }
}

#[test]
fn kip848_group_with_one_member_then_deleted() {
    let f = Fixture::load("kafka-4.4.json");
    let group = f.group("consumer");
    let a = f.topic("a");
    let records = f.of("consumer");

    let member: Vec<&ConsumerGroupMember> = records
        .iter()
        .filter_map(|r| match r {
            Record::ConsumerGroupMember(m) => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(member.len(), 1);
    let member = member[0];
    assert_eq!(member.group, group);
    assert_eq!(member.client_id, "fixture-consumer-1");
    assert_eq!(member.client_host, "/127.0.0.1");
    assert_eq!(member.subscribed_topic_names, vec![a.clone()]);
    assert_eq!(member.instance_id, None);
    assert_eq!(member.rack_id, None);
    assert_eq!(member.server_assignor, None);
    assert_eq!(member.rebalance_timeout_ms, 300_000);
    assert!(!member.classic_protocol);
    // KIP-848 member ids are 22-character base64 UUIDs.
    assert_eq!(member.member_id.len(), 22);

    // The topic id of topic a, from the offset commits (value version 4).
    let topic_ids: BTreeSet<[u8; 16]> = records
        .iter()
        .filter_map(|r| match r {
            Record::OffsetCommit(c) => {
                f.check_commit_format(c);
                c.topic_id
            }
            _ => None,
        })
        .collect();
    assert_eq!(topic_ids.len(), 1);
    let topic_a = *topic_ids.first().unwrap();

    let assignments: Vec<&ConsumerGroupAssignment> = records
        .iter()
        .filter_map(|r| match r {
            Record::ConsumerGroupAssignment(x) => Some(x),
            _ => None,
        })
        .collect();
    assert_eq!(assignments.len(), 1);
    let assignment = assignments[0];
    assert_eq!(assignment.member_id, member.member_id);
    assert_eq!(
        assignment.assigned,
        vec![TopicIdPartitions {
            topic_id: topic_a,
            partitions: vec![0, 1]
        }]
    );
    assert!(assignment.pending_revocation.is_empty());
    assert_eq!(assignment.state, 0); // STABLE
    assert!(assignment.member_epoch > assignment.previous_member_epoch);

    assert_eq!(
        f.commits("consumer"),
        vec![(a.clone(), 0, 5, s("")), (a.clone(), 1, 5, s(""))]
    );

    // The exact sequence of record kinds the coordinator wrote.
    let shape: Vec<String> = records
        .iter()
        .map(|r| match r {
            Record::ConsumerGroupMember(_) => s("member"),
            Record::ConsumerGroup { epoch, .. } => format!("group epoch {epoch}"),
            Record::ConsumerGroupAssignment(_) => s("assignment"),
            Record::OffsetCommit(c) => format!("commit {}", c.partition),
            Record::ConsumerGroupAssignmentTombstone { member_id, .. } => {
                assert_eq!(*member_id, member.member_id);
                s("assignment tombstone")
            }
            Record::ConsumerGroupMemberTombstone { member_id, .. } => {
                assert_eq!(*member_id, member.member_id);
                s("member tombstone")
            }
            Record::OffsetTombstone {
                topic, partition, ..
            } => {
                assert_eq!(*topic, a);
                format!("offset tombstone {partition}")
            }
            Record::ConsumerGroupTombstone { .. } => s("group tombstone"),
            Record::Other {
                key_version,
                group: g,
                tombstone,
            } => {
                assert_eq!(g.as_deref(), Some(group.as_str()));
                format!(
                    "other {key_version}{}",
                    if *tombstone { " tombstone" } else { "" }
                )
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        shape,
        [
            "member",
            "group epoch 2",
            "other 7",
            "other 6",
            "assignment",
            "commit 0",
            "commit 1",
            "assignment tombstone",
            "other 7 tombstone",
            "member tombstone",
            "group epoch 3",
            "other 6",
            "offset tombstone 0",
            "offset tombstone 1",
            "other 6 tombstone",
            "other 4 tombstone",
            "group tombstone",
        ]
    );
}

#[test]
fn assign_only_group_and_metadata_string() {
    for f in both() {
        let a = f.topic("a");
        let b = f.topic("b");
        let simple: BTreeSet<_> = f.commits("simple").into_iter().collect();
        assert_eq!(
            simple,
            BTreeSet::from([
                (a.clone(), 0, 3, s("")),
                (a.clone(), 1, 4, s("")),
                (b.clone(), 0, 5, s("")),
            ]),
            "{}",
            f.label
        );
        assert_eq!(f.of("simple").len(), 3, "{}: only offset commits", f.label);
        assert_eq!(
            f.commits("metadata"),
            vec![(b.clone(), 0, 7, s("lagwatch fixture metadata"))]
        );
        for r in f.of("simple").into_iter().chain(f.of("metadata")) {
            let Record::OffsetCommit(c) = r else {
                panic!("unexpected {r:?}");
            };
            f.check_commit_format(c);
        }
    }
}

#[test]
fn transactional_commits() {
    for f in both() {
        let b = f.topic("b");
        // read_committed: only the committed transaction's offset.
        assert_eq!(f.commits("txn"), vec![(b.clone(), 0, 10, s(""))]);
        // read_uncommitted also shows the aborted one; it is the only such record.
        let aborted: Vec<&Captured> = f.records.iter().filter(|c| !c.read_committed).collect();
        assert_eq!(aborted.len(), 1, "{}", f.label);
        let Record::OffsetCommit(c) = &aborted[0].record else {
            panic!("unexpected {:?}", aborted[0].record);
        };
        assert_eq!(
            (c.group.as_str(), c.topic.as_str(), c.partition, c.offset),
            (f.group("txn").as_str(), b.as_str(), 0, 20)
        );
        f.check_commit_format(c);
    }
}

#[test]
fn deleted_group_tombstones() {
    for f in both() {
        let group = f.group("deleted");
        let a = f.topic("a");
        let records = f.of("deleted");
        let Record::OffsetCommit(c) = records[0] else {
            panic!("unexpected {:?}", records[0]);
        };
        assert_eq!(
            (c.topic.as_str(), c.partition, c.offset),
            (a.as_str(), 0, 1)
        );
        f.check_commit_format(c);
        assert_eq!(
            records[1],
            &Record::OffsetTombstone {
                group: group.clone(),
                topic: a.clone(),
                partition: 0
            }
        );
        // Kafka 4.4's coordinator also writes a group tombstone for a group that only had
        // committed offsets; 3.9's writes none for such a group.
        let rest: Vec<&Record> = records[2..].to_vec();
        match f.label.as_str() {
            "kafka-4.4" => assert_eq!(rest, [&Record::GroupTombstone { group }]),
            _ => assert!(rest.is_empty(), "{rest:?}"),
        }
    }
}
