//! Reading topic metadata (partitions, leaders, brokers) through rdkafka's safe API.

use crate::admin::AdminError;
use crate::client::Connection;
use rdkafka::error::RDKafkaErrorCode;
use std::collections::BTreeSet;
use std::time::Duration;

/// One topic of a metadata read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMetadata {
    /// Topic name.
    pub name: String,
    /// Partitions, leaderless ones included.
    pub partition_count: u32,
    /// Partitions with a leader.
    pub with_leader: Vec<i32>,
}

/// What one metadata read showed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterMetadata {
    /// Every topic without a topic-level error.
    pub topics: Vec<TopicMetadata>,
    /// Brokers in the cluster.
    pub brokers: usize,
    /// Distinct leader brokers of the listed topics' partitions.
    pub leaders: usize,
}

/// Reads the metadata of every topic (blocking: run it on a blocking thread).
///
/// # Errors
/// [`AdminError`] naming the `Metadata` operation when the cluster does not answer within
/// `timeout` or refuses the request (authentication, authorization).
pub fn read(conn: &Connection, timeout: Duration) -> Result<ClusterMetadata, AdminError> {
    let metadata = conn.metadata(timeout)?;
    let mut leaders = BTreeSet::new();
    let topics = metadata
        .topics()
        .iter()
        .filter(|t| t.error().is_none())
        .map(|t| {
            let mut with_leader = Vec::new();
            for p in t.partitions() {
                let ok = p
                    .error()
                    .is_none_or(|e| RDKafkaErrorCode::from(e) == RDKafkaErrorCode::NoError);
                if p.leader() >= 0 && ok {
                    with_leader.push(p.id());
                    leaders.insert(p.leader());
                }
            }
            with_leader.sort_unstable();
            TopicMetadata {
                name: t.name().to_owned(),
                partition_count: u32::try_from(t.partitions().len()).unwrap_or(u32::MAX),
                with_leader,
            }
        })
        .collect();
    Ok(ClusterMetadata {
        topics,
        brokers: metadata.brokers().len(),
        leaders: leaders.len(),
    })
}
