//! Share groups (KIP-932) on the wire path: librdkafka has no admin call for them.
//!
//! 1. `Metadata` (no topics) names the brokers; `ListGroups` v5 with the type filter `share`
//!    asks each of them for the share groups it coordinates;
//! 2. `FindCoordinator` for those groups (batched, as for consumer groups), then per
//!    coordinator `ShareGroupDescribe` v1 (members and their assignments) and
//!    `DescribeShareGroupOffsets` (every topic: start offset per partition, and from v1,
//!    Kafka 4.2+, the broker's lag; [`super::share_offsets`] frames it), up to
//!    [`super::MAX_GROUPS`] groups per request. From a v0 broker (Kafka 4.0 and 4.1) the
//!    lag is the model's log end minus the start offset.
//!
//! A broker without these APIs (Kafka 3.x) has no share groups: the listing is empty.

use super::share_offsets::ShareOffsetsRequest;
use super::{WireClient, WireError};
use kafka_protocol::messages::{
    DescribeShareGroupOffsetsRequest, GroupId, ListGroupsRequest, MetadataRequest,
    ShareGroupDescribeRequest,
    describe_share_group_offsets_request::DescribeShareGroupOffsetsRequestGroup,
};
use kafka_protocol::protocol::StrBytes;
use lagwatch_core::MemberAssignment;
use lagwatch_core::share::SharePartitionOffset;
use std::collections::{BTreeMap, BTreeSet};

/// ListGroups v5 added the group type filter (KIP-848).
const LIST_GROUPS_MIN: i16 = 5;
/// ShareGroupDescribe v1 is the production version (Kafka 4.1+).
const SHARE_DESCRIBE_MIN: i16 = 1;
/// DescribeShareGroupOffsets v1 adds the broker's lag (KIP-1226, Kafka 4.2+).
const SHARE_OFFSETS_MAX: i16 = 1;

/// One share group as read: its state, members' assignments and partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareGroupRead {
    /// The group id.
    pub group: String,
    /// The group's state (`Empty`, `Stable`, `Dead`, …) as the coordinator names it.
    pub state: String,
    /// What each member is assigned (several members can share a partition).
    pub assignments: Vec<MemberAssignment>,
    /// Start offset and lag of every partition the group has started consuming.
    pub partitions: Vec<SharePartitionOffset>,
}

impl WireClient {
    /// Every share group on the cluster, sorted; empty when the brokers have no share groups
    /// (too old for `ListGroups` v5 or without share-group support).
    pub async fn list_share_groups(&self) -> Result<Vec<String>, WireError> {
        let metadata = self
            .send_any(
                &MetadataRequest::default().with_topics(Some(Vec::new())),
                4,
                12,
            )
            .await?;
        let brokers: BTreeSet<String> = metadata
            .brokers
            .iter()
            .map(|b| format!("{}:{}", b.host.as_str(), b.port))
            .collect();
        let request = ListGroupsRequest::default()
            .with_types_filter(vec![StrBytes::from_static_str("share")]);
        let mut groups = BTreeSet::new();
        for broker in brokers {
            match self
                .send(&broker, &request, LIST_GROUPS_MIN, LIST_GROUPS_MIN)
                .await
            {
                Ok(listed) if listed.error_code == 0 => {
                    groups.extend(listed.groups.into_iter().map(|g| g.group_id.0.to_string()));
                }
                Ok(listed) => {
                    return Err(WireError::Broker {
                        addr: broker,
                        api: "ListGroups",
                        code: listed.error_code,
                    });
                }
                Err(WireError::Unsupported { .. }) => return Ok(Vec::new()),
                Err(e) => return Err(e),
            }
        }
        Ok(groups.into_iter().collect())
    }

    /// Members, assignments and partition offsets of `groups`. A group its coordinator does
    /// not know (deleted meanwhile) or answers with an error is left out; the caller keeps
    /// what it knew. Fails as a whole only when no broker can be asked.
    pub async fn describe_share_groups(
        &self,
        groups: &[String],
    ) -> Result<Vec<ShareGroupRead>, WireError> {
        let (by_coordinator, failed) = self.by_coordinator(groups).await?;
        for (group, code) in failed {
            tracing::debug!(group = %group, code, "no coordinator for share group");
        }
        let mut read = Vec::new();
        for (addr, groups) in by_coordinator {
            for chunk in groups.chunks(self.max_groups) {
                match self.describe_at(&addr, chunk).await {
                    Ok(groups) => read.extend(groups),
                    Err(e @ WireError::Unsupported { .. }) => return Err(e),
                    Err(e) => {
                        tracing::debug!(error = %e, groups = chunk.len(), "describing share groups failed");
                    }
                }
            }
        }
        read.sort_by(|a, b| a.group.cmp(&b.group));
        Ok(read)
    }

    /// `ShareGroupDescribe` and `DescribeShareGroupOffsets` for `groups` at their coordinator.
    async fn describe_at(
        &self,
        addr: &str,
        groups: &[String],
    ) -> Result<Vec<ShareGroupRead>, WireError> {
        let ids: Vec<GroupId> = groups
            .iter()
            .map(|g| GroupId(StrBytes::from_string(g.clone())))
            .collect();
        let described = self
            .send(
                addr,
                &ShareGroupDescribeRequest::default().with_group_ids(ids.clone()),
                SHARE_DESCRIBE_MIN,
                SHARE_DESCRIBE_MIN,
            )
            .await?;
        let offsets = self
            .send(
                addr,
                &ShareOffsetsRequest(
                    DescribeShareGroupOffsetsRequest::default().with_groups(
                        ids.into_iter()
                            .map(|id| {
                                DescribeShareGroupOffsetsRequestGroup::default()
                                    .with_group_id(id)
                                    .with_topics(None)
                            })
                            .collect(),
                    ),
                ),
                0,
                SHARE_OFFSETS_MAX,
            )
            .await?;

        let mut partitions: BTreeMap<String, Vec<SharePartitionOffset>> = BTreeMap::new();
        for g in offsets.groups {
            if g.error_code != 0 {
                tracing::debug!(group = %g.group_id.as_str(), code = g.error_code, "share group offsets not read");
                continue;
            }
            let list = partitions.entry(g.group_id.to_string()).or_default();
            for t in g.topics {
                for p in t.partitions {
                    // A partition the group has not started on has no start offset yet.
                    if p.error_code != 0 || p.start_offset < 0 {
                        continue;
                    }
                    list.push(SharePartitionOffset {
                        topic: t.topic_name.to_string(),
                        partition: p.partition_index,
                        start_offset: p.start_offset,
                        lag: p.lag,
                    });
                }
            }
        }
        let mut read = Vec::new();
        for g in described.groups {
            let group = g.group_id.0.to_string();
            if g.error_code != 0 {
                tracing::debug!(group = %group, code = g.error_code, "share group not described");
                continue;
            }
            let assignments = g
                .members
                .iter()
                .flat_map(|m| {
                    let owner = m.client_host.as_str().trim_start_matches('/').to_owned();
                    let client_id = m.client_id.to_string();
                    m.assignment.topic_partitions.iter().flat_map(move |tp| {
                        let (owner, client_id) = (owner.clone(), client_id.clone());
                        let topic = tp.topic_name.0.to_string();
                        tp.partitions
                            .iter()
                            .map(move |&partition| MemberAssignment {
                                topic: topic.clone(),
                                partition,
                                owner: owner.clone(),
                                client_id: client_id.clone(),
                            })
                    })
                })
                .collect();
            let Some(partitions) = partitions.remove(&group) else {
                continue;
            };
            read.push(ShareGroupRead {
                group,
                state: g.group_state.to_string(),
                assignments,
                partitions,
            });
        }
        Ok(read)
    }
}
