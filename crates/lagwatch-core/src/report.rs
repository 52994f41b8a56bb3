//! Evaluated groups and partitions, shaped like Burrow's v3 `/lag` status objects.
//!
//! Field names and status strings serialise exactly as Burrow writes them (`current_lag`,
//! `observedAt`, `partition_count`, `maxlag`, `totallag`). Fields lagwatch adds beyond Burrow
//! live in [`PartitionExtras`] and are skipped when serialising in Burrow's shape.

use crate::TimestampMs;
use crate::status::{GroupStatus, PartitionStatus};
use crate::time_lag::TimeLag;
use crate::trend::{GroupTrend, Trend};
use serde::{Deserialize, Serialize};

/// One stored consumer commit (Burrow's `ConsumerOffset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetPoint {
    /// Committed offset.
    pub offset: i64,
    /// Commit time from the commit record (ms).
    pub timestamp: TimestampMs,
    /// When lagwatch stored the commit (ms), Burrow's `observedAt`.
    #[serde(rename = "observedAt", default)]
    pub observed_at: TimestampMs,
    /// Lag at the time of the commit against the newest broker sample then known; `None` for
    /// commits inserted out of order.
    pub lag: Option<u64>,
}

/// Evaluation of one partition of a group (Burrow's `PartitionStatus`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartitionReport {
    /// Topic.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
    /// Host of the owning consumer, empty when unknown.
    #[serde(default)]
    pub owner: String,
    /// Client id of the owning consumer, empty when unknown.
    #[serde(default)]
    pub client_id: String,
    /// Partition status.
    pub status: PartitionStatus,
    /// Oldest commit in the window.
    pub start: Option<OffsetPoint>,
    /// Newest commit in the window.
    pub end: Option<OffsetPoint>,
    /// Newest broker end offset minus newest committed offset, floored at 0.
    pub current_lag: u64,
    /// Filled slots of the window divided by its size.
    pub complete: f32,
    /// What lagwatch knows beyond Burrow (not part of Burrow's JSON).
    #[serde(skip)]
    pub extras: PartitionExtras,
}

/// Per-partition facts lagwatch adds to Burrow's evaluation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartitionExtras {
    /// Newest broker high-water mark, when known.
    pub log_end_offset: Option<i64>,
    /// Newest broker log-start offset, when known.
    pub log_start_offset: Option<i64>,
    /// Estimated time lag.
    pub time_lag: Option<TimeLag>,
    /// Age of the newest broker sample at evaluation time (ms), when any sample exists.
    pub broker_sample_age_ms: Option<i64>,
    /// `true` when the source could not read the cluster recently, so the data may be old.
    pub stale: bool,
    /// `true` while the window cannot support a verdict yet: it holds a single commit, or it
    /// is filled to less than the evaluator's `minimum_complete`, or the model was restored
    /// from saved state and its cluster has not been read since. Burrow's status is still
    /// computed, but alert rules neither fire nor resolve on such a partition.
    pub warming_up: bool,
    /// Rates, time to catch up and retention deadline, when the model computed them (not for
    /// `lagwatch eval` input or external verdicts).
    pub trend: Option<Trend>,
}

/// One partition of a group as Burrow's consumer-detail endpoint shows it (note the hyphen
/// in `current-lag`, unlike the status endpoints' `current_lag`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionDetail {
    /// The whole commit window, oldest first; empty slots (`null`) come first. Empty for a
    /// partition the group never committed.
    pub offsets: Vec<Option<OffsetPoint>>,
    /// Host of the owning consumer, empty when unknown.
    pub owner: String,
    /// Client id of the owning consumer, empty when unknown.
    pub client_id: String,
    /// Newest broker end offset minus newest committed offset, floored at 0; 0 without data.
    #[serde(rename = "current-lag")]
    pub current_lag: u64,
}

/// Evaluation of one consumer group (Burrow's `ConsumerGroupStatus`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupReport {
    /// Cluster name.
    pub cluster: String,
    /// Group name.
    pub group: String,
    /// Group status: OK, WARN, ERR or NOTFOUND.
    pub status: GroupStatus,
    /// Share of partitions whose window is full (1.0 for NOTFOUND).
    pub complete: f32,
    /// Partition evaluations (all of them, as Burrow's `/lag` lists them).
    pub partitions: Vec<PartitionReport>,
    /// Number of partitions of the group.
    pub partition_count: u32,
    /// The partition with the highest current lag (first in topic/partition order on ties).
    pub maxlag: Option<PartitionReport>,
    /// Sum of every partition's current lag.
    pub totallag: u64,
    /// Evaluation time (ms). Not part of Burrow's JSON.
    #[serde(skip)]
    pub evaluated_at: TimestampMs,
    /// The worst partition status, before Burrow caps it to ERR (`None` without partitions).
    #[serde(skip)]
    pub worst_partition: Option<PartitionStatus>,
    /// `true` when any of the group's data is stale.
    #[serde(skip)]
    pub stale: bool,
    /// `true` when any partition is warming up ([`PartitionExtras::warming_up`]).
    #[serde(skip)]
    pub warming_up: bool,
    /// A consumer group or a share group. Serialised (`"group_type": "share"`) for share groups
    /// only, so a consumer group's JSON keeps Burrow's shape.
    #[serde(default, skip_serializing_if = "GroupType::is_consumer")]
    pub group_type: GroupType,
}

/// The kinds of group lagwatch reports.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum GroupType {
    /// A consumer group that commits offsets: classic or KIP-848 (`consumer` protocol).
    #[default]
    Consumer,
    /// A share group (KIP-932): no commits; judged by the share-group rules (the `share`
    /// module, docs/evaluator.md §10).
    Share,
}

impl GroupType {
    /// `"consumer"` or `"share"`, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupType::Consumer => "consumer",
            GroupType::Share => "share",
        }
    }

    /// `true` for [`GroupType::Consumer`].
    pub fn is_consumer(&self) -> bool {
        *self == GroupType::Consumer
    }
}

impl GroupReport {
    /// Burrow's answer for an unknown cluster or group.
    pub fn not_found(cluster: &str, group: &str, now_ms: TimestampMs) -> GroupReport {
        GroupReport {
            group_type: crate::report::GroupType::Consumer,
            cluster: cluster.to_owned(),
            group: group.to_owned(),
            status: GroupStatus::NotFound,
            complete: 1.0,
            partitions: Vec::new(),
            partition_count: 0,
            maxlag: None,
            totallag: 0,
            evaluated_at: now_ms,
            worst_partition: None,
            stale: false,
            warming_up: false,
        }
    }

    /// The partitions an alert rule may judge: neither stale nor warming up.
    pub fn judged_partitions(&self) -> impl Iterator<Item = &PartitionReport> {
        self.partitions
            .iter()
            .filter(|p| !p.extras.stale && !p.extras.warming_up)
    }

    /// The group status computed from [`GroupReport::judged_partitions`] only, with STOP,
    /// STALL and REWIND reported as ERR like [`GroupReport::status`]; `None` when no partition
    /// can be judged (all warming up or stale) or the group is NOTFOUND.
    pub fn alertable_status(&self) -> Option<GroupStatus> {
        if self.status == GroupStatus::NotFound {
            return None;
        }
        if !self.warming_up && !self.stale {
            return Some(self.status);
        }
        self.judged_partitions()
            .map(|p| p.status.group_level())
            .max()
    }

    /// The group's trend, combined from every partition's
    /// ([`crate::trend::group_trend`]; partitions without a trend are left out).
    ///
    /// Computed on each call from the partitions (no field, so Burrow's JSON shape and every
    /// existing `GroupReport` literal stay as they are).
    pub fn trend(&self) -> GroupTrend {
        crate::trend::group_trend(
            self.partitions
                .iter()
                .filter_map(|p| p.extras.trend.as_ref()),
        )
    }

    /// The trend of [`GroupReport::judged_partitions`] only (what alert rules look at).
    pub fn judged_trend(&self) -> GroupTrend {
        crate::trend::group_trend(
            self.judged_partitions()
                .filter_map(|p| p.extras.trend.as_ref()),
        )
    }

    /// A copy with only the non-OK partitions listed, as Burrow's `/status` endpoint returns.
    pub fn only_problems(&self) -> GroupReport {
        let mut copy = self.clone();
        copy.partitions.retain(|p| p.status != PartitionStatus::Ok);
        copy
    }

    /// Sum of the committed offsets of the newest commit of every partition (Telegraf's
    /// `burrow_group.offset`).
    pub fn offset_sum(&self) -> i64 {
        self.partitions
            .iter()
            .filter_map(|p| p.end.map(|e| e.offset))
            .fold(0i64, i64::saturating_add)
    }

    /// The largest time-lag estimate of any partition (unknown estimates left out); `None`
    /// when there is none.
    pub fn max_time_lag_seconds(&self) -> Option<f64> {
        self.partitions
            .iter()
            .filter_map(|p| p.extras.time_lag.as_ref()?.estimated_seconds())
            .reduce(f64::max)
    }

    /// Newest commit timestamp over all partitions, 0 when none (Telegraf's
    /// `burrow_group.timestamp`).
    pub fn newest_commit_ms(&self) -> TimestampMs {
        self.partitions
            .iter()
            .filter_map(|p| p.end.map(|e| e.timestamp))
            .max()
            .unwrap_or(0)
    }
}
