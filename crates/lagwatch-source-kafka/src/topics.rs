//! Topic metadata and broker offsets: which partitions exist, which have a leader, and where
//! each one starts and ends. Pure bookkeeping: the source does the reading.

use crate::groups::ABSENT_READS_BEFORE_DELETE;
use lagwatch_core::filter::NameFilter;
use lagwatch_core::{BrokerOffset, Event, TimestampMs};
use std::collections::{BTreeMap, BTreeSet};

/// One topic as metadata showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    /// Partitions in metadata, leaderless ones included.
    pub partition_count: u32,
    /// Partitions that have a leader (only these are asked for offsets).
    pub with_leader: Vec<i32>,
}

/// The allowed topics of one cluster, from the newest metadata read.
#[derive(Debug)]
pub struct TopicTable {
    cluster: String,
    filter: NameFilter,
    topics: BTreeMap<String, TopicInfo>,
    /// Known topics missing from the latest metadata reads, with how many reads in a row.
    missing: BTreeMap<String, u32>,
}

impl TopicTable {
    /// An empty table for `cluster`, keeping only topics `filter` accepts.
    pub fn new(cluster: impl Into<String>, filter: NameFilter) -> TopicTable {
        TopicTable {
            cluster: cluster.into(),
            filter,
            topics: BTreeMap::new(),
            missing: BTreeMap::new(),
        }
    }

    /// Replaces the table with a new metadata read (every topic of the cluster, allowed or
    /// not). An allowed topic missing from [`ABSENT_READS_BEFORE_DELETE`] reads in a row is
    /// dropped with an [`Event::TopicDeleted`] appended to `out` (a broker that has just
    /// restarted can answer before it knows every topic); until then it is kept as it was.
    /// Returns the deleted topics.
    pub fn replace(
        &mut self,
        read: impl IntoIterator<Item = (String, TopicInfo)>,
        out: &mut Vec<Event>,
    ) -> Vec<String> {
        let mut fresh: BTreeMap<String, TopicInfo> = read
            .into_iter()
            .filter(|(name, _)| self.filter.accepts(name))
            .collect();
        self.missing.retain(|t, _| !fresh.contains_key(t));
        let mut gone = Vec::new();
        for (topic, info) in std::mem::take(&mut self.topics) {
            if fresh.contains_key(&topic) {
                continue;
            }
            let reads = self.missing.entry(topic.clone()).or_insert(0);
            *reads += 1;
            if *reads >= ABSENT_READS_BEFORE_DELETE {
                self.missing.remove(&topic);
                out.push(Event::TopicDeleted {
                    cluster: self.cluster.clone(),
                    topic: topic.clone(),
                });
                gone.push(topic);
            } else {
                fresh.insert(topic, info);
            }
        }
        self.topics = fresh;
        gone
    }

    /// Whether `topic` is in the table.
    pub fn contains(&self, topic: &str) -> bool {
        self.topics.contains_key(topic)
    }

    /// Number of topics.
    pub fn len(&self) -> usize {
        self.topics.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    /// Every partition with a leader, to ask for offsets.
    pub fn led_partitions(&self) -> Vec<(String, i32)> {
        self.topics
            .iter()
            .flat_map(|(t, info)| info.with_leader.iter().map(move |p| (t.clone(), *p)))
            .collect()
    }

    /// Total partitions in the table.
    pub fn partition_total(&self) -> usize {
        self.topics
            .values()
            .map(|i| usize::try_from(i.partition_count).unwrap_or(usize::MAX))
            .sum()
    }

    /// One [`Event::BrokerOffsets`] per topic from the latest and earliest offsets read at
    /// `observed_ms`. A partition without a latest offset is left out of its topic's sample;
    /// a missing earliest offset leaves `log_start` unknown.
    pub fn broker_offsets(
        &self,
        latest: &BTreeMap<(String, i32), i64>,
        earliest: &BTreeMap<(String, i32), i64>,
        observed_ms: TimestampMs,
    ) -> Vec<Event> {
        let mut per_topic: BTreeMap<&str, Vec<BrokerOffset>> = BTreeMap::new();
        for ((topic, partition), high_water) in latest {
            if !self.topics.contains_key(topic) {
                continue;
            }
            per_topic.entry(topic).or_default().push(BrokerOffset {
                partition: *partition,
                high_water: *high_water,
                log_start: earliest.get(&(topic.clone(), *partition)).copied(),
            });
        }
        per_topic
            .into_iter()
            .filter_map(|(topic, offsets)| {
                let info = self.topics.get(topic)?;
                Some(Event::BrokerOffsets {
                    cluster: self.cluster.clone(),
                    topic: topic.to_owned(),
                    partition_count: info.partition_count,
                    offsets,
                    observed_ms,
                })
            })
            .collect()
    }

    /// The names in the table.
    pub fn names(&self) -> BTreeSet<String> {
        self.topics.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(count: u32, led: &[i32]) -> TopicInfo {
        TopicInfo {
            partition_count: count,
            with_leader: led.to_vec(),
        }
    }

    #[test]
    fn topics_missing_from_three_reads_are_deleted_and_denied_topics_never() {
        let filter = NameFilter::new(None, Some("^__")).unwrap();
        let mut table = TopicTable::new("c", filter);
        let mut out = Vec::new();
        table.replace(
            [
                ("a".to_owned(), info(2, &[0, 1])),
                ("b".to_owned(), info(1, &[0])),
                ("__consumer_offsets".to_owned(), info(50, &[0])),
            ],
            &mut out,
        );
        assert!(out.is_empty());
        assert_eq!(table.len(), 2);
        let mut gone = Vec::new();
        for _ in 0..ABSENT_READS_BEFORE_DELETE {
            assert!(gone.is_empty() && out.is_empty(), "deleted too early");
            gone = table.replace([("a".to_owned(), info(3, &[0, 1, 2]))], &mut out);
        }
        assert_eq!(gone, vec!["b".to_owned()]);
        assert_eq!(
            out,
            vec![Event::TopicDeleted {
                cluster: "c".into(),
                topic: "b".into()
            }]
        );
        assert_eq!(table.led_partitions().len(), 3);
    }

    #[test]
    fn broker_offsets_join_latest_and_earliest_and_keep_the_metadata_count() {
        let mut table = TopicTable::new("c", NameFilter::allow_all());
        table.replace([("a".to_owned(), info(3, &[0, 1]))], &mut Vec::new());
        let latest: BTreeMap<_, _> = [(("a".to_owned(), 0), 10), (("a".to_owned(), 1), 20)].into();
        let earliest: BTreeMap<_, _> = [(("a".to_owned(), 0), 2)].into();
        let events = table.broker_offsets(&latest, &earliest, 77);
        assert_eq!(
            events,
            vec![Event::BrokerOffsets {
                cluster: "c".into(),
                topic: "a".into(),
                partition_count: 3,
                offsets: vec![
                    BrokerOffset {
                        partition: 0,
                        high_water: 10,
                        log_start: Some(2)
                    },
                    BrokerOffset {
                        partition: 1,
                        high_water: 20,
                        log_start: None
                    }
                ],
                observed_ms: 77,
            }]
        );
    }
}
