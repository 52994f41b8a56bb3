//! A short in-memory history of every group's lag, one point per evaluation, for the JSON API
//! (and the dashboard built on it). Fed by the pipeline's snapshot channel; bounded by age.
//!
//! Besides the group's figures, every point keeps each partition's lag, packed as a varint
//! (one byte below 128, two below 16,384, …); the partitions' names are stored once per group
//! and shared by every point taken while the group's partition list stayed the same.
//!
//! Points are kept at every evaluation for the newest [`FULL_RESOLUTION`]; older ones are
//! thinned to one per [`THINNED_STEP`]. At a 10 s interval a 1 h history then holds about 110
//! points per group instead of 360: for 10,000 groups of 10 partitions, about 130 MB instead
//! of the 630 MB that every point at full size would take.

use lagwatch_core::duration::millis;
use lagwatch_core::{GroupReport, GroupStatus, Snapshot, TimestampMs};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// One evaluation of one group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HistoryPoint {
    /// Evaluation time (ms since the epoch).
    pub at_ms: TimestampMs,
    /// Group status.
    pub status: GroupStatus,
    /// Sum of the partitions' lag (messages).
    pub total_lag: u64,
    /// Lag of the most lagging partition (messages).
    pub max_lag: u64,
    /// Largest estimated time lag of any partition (seconds), when one could be estimated.
    pub max_time_lag_seconds: Option<f64>,
    /// Whether any partition was still warming up.
    pub warming_up: bool,
    /// Whether any of the group's data was stale.
    pub stale: bool,
}

impl HistoryPoint {
    /// The point for one group report.
    pub fn of(report: &GroupReport) -> HistoryPoint {
        HistoryPoint {
            at_ms: report.evaluated_at,
            status: report.status,
            total_lag: report.totallag,
            max_lag: report.maxlag.as_ref().map_or(0, |p| p.current_lag),
            max_time_lag_seconds: report.max_time_lag_seconds(),
            warming_up: report.warming_up,
            stale: report.stale,
        }
    }
}

/// A topic and partition number.
pub type PartitionKey = (String, i32);

/// Points newer than this are all kept.
pub const FULL_RESOLUTION: Duration = Duration::from_secs(10 * 60);

/// Older points are kept at most one per this step.
pub const THINNED_STEP: Duration = Duration::from_secs(60);

/// One stored point: the group's figures and every partition's lag, in the order of `keys`
/// (varints, see [`pack_lags`]).
#[derive(Debug)]
struct Stored {
    point: HistoryPoint,
    keys: Arc<[PartitionKey]>,
    lags: Box<[u8]>,
}

/// Packs lags as LEB128 varints: 7 bits per byte, low bits first, the high bit set on every
/// byte but the last.
fn pack_lags(lags: impl Iterator<Item = u64>) -> Box<[u8]> {
    let mut out = Vec::new();
    for mut lag in lags {
        while lag >= 0x80 {
            out.push((lag as u8) | 0x80);
            lag >>= 7;
        }
        out.push(lag as u8);
    }
    out.into_boxed_slice()
}

/// The lags [`pack_lags`] packed, in order.
fn unpack_lags(packed: &[u8]) -> impl Iterator<Item = u64> + '_ {
    let mut rest = packed;
    std::iter::from_fn(move || {
        let mut value = 0u64;
        for (i, &byte) in rest.iter().enumerate() {
            if i < 10 {
                value |= u64::from(byte & 0x7f) << (7 * i);
            }
            if byte & 0x80 == 0 {
                rest = &rest[i + 1..];
                return Some(value);
            }
        }
        None
    })
}

/// Drops points of `series` older than `thin_before` that follow the previous kept point
/// by less than `step_ms`.
fn thin(series: &mut VecDeque<Stored>, thin_before: TimestampMs, step_ms: i64) {
    let mut last_kept: Option<TimestampMs> = None;
    series.retain(|stored| {
        let at = stored.point.at_ms;
        if at >= thin_before {
            return true;
        }
        let keep = last_kept.is_none_or(|last| at.saturating_sub(last) >= step_ms);
        if keep {
            last_kept = Some(at);
        }
        keep
    });
}

/// Per-partition lag over time for one group (see [`History::partition_series`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PartitionLagHistory {
    /// Every partition seen in the kept points, in first-seen order.
    pub partitions: Vec<PartitionKey>,
    /// Per point (oldest first): the evaluation time and the lag of every partition of
    /// `partitions`, `None` where the partition was not part of the group then.
    pub points: Vec<(TimestampMs, Vec<Option<u64>>)>,
}

/// Every group's recent points, oldest first, kept for `keep`.
#[derive(Debug)]
pub struct History {
    keep_ms: i64,
    groups: RwLock<HashMap<(String, String), VecDeque<Stored>>>,
}

impl History {
    /// An empty history keeping points for `keep`.
    pub fn new(keep: Duration) -> History {
        History {
            keep_ms: millis(keep),
            groups: RwLock::new(HashMap::new()),
        }
    }

    /// Adds one point per group of `snapshot`; drops points older than the kept span, and
    /// the points of a group the snapshot no longer has (deleted) once its newest point is
    /// [`FULL_RESOLUTION`] old (or the kept span, when shorter).
    pub fn record(&self, snapshot: &Snapshot) {
        if snapshot.cycle() == 0 {
            return;
        }
        let cutoff = snapshot.at_ms().saturating_sub(self.keep_ms);
        let mut groups = self.groups.write().unwrap_or_else(PoisonError::into_inner);
        for report in snapshot.groups() {
            let point = HistoryPoint::of(report);
            let series = match groups.get_mut(&(report.cluster.clone(), report.group.clone())) {
                Some(series) => series,
                None => groups
                    .entry((report.cluster.clone(), report.group.clone()))
                    .or_default(),
            };
            // Shares the previous point's partition names when they did not change.
            let same = series.back().is_some_and(|last| {
                last.keys.len() == report.partitions.len()
                    && last
                        .keys
                        .iter()
                        .zip(&report.partitions)
                        .all(|((t, p), r)| *t == r.topic && *p == r.partition)
            });
            let keys = match series.back() {
                Some(last) if same => last.keys.clone(),
                _ => report
                    .partitions
                    .iter()
                    .map(|p| (p.topic.clone(), p.partition))
                    .collect(),
            };
            let lags = pack_lags(report.partitions.iter().map(|p| p.current_lag));
            series.push_back(Stored { point, keys, lags });
        }
        let thin_before = snapshot.at_ms().saturating_sub(millis(FULL_RESOLUTION));
        let step_ms = millis(THINNED_STEP);
        // A group of this snapshot got a point at its time above; one without is gone.
        let gone_before = thin_before.max(cutoff);
        groups.retain(|_, series| {
            if series.back().is_some_and(|p| p.point.at_ms < gone_before) {
                return false;
            }
            while series.front().is_some_and(|p| p.point.at_ms < cutoff) {
                series.pop_front();
            }
            thin(series, thin_before, step_ms);
            !series.is_empty()
        });
    }

    /// How many groups have points, and how many points there are in all: what the history
    /// holds in memory (see docs/http-api.md for the size of a point).
    pub fn counts(&self) -> (usize, usize) {
        let groups = self.groups.read().unwrap_or_else(PoisonError::into_inner);
        (groups.len(), groups.values().map(VecDeque::len).sum())
    }

    /// A group's points, oldest first (empty for an unknown group).
    pub fn series(&self, cluster: &str, group: &str) -> Vec<HistoryPoint> {
        let groups = self.groups.read().unwrap_or_else(PoisonError::into_inner);
        groups
            .get(&(cluster.to_owned(), group.to_owned()))
            .map(|s| s.iter().map(|p| p.point).collect())
            .unwrap_or_default()
    }

    /// A group's per-partition lag over time, oldest first (empty for an unknown group).
    pub fn partition_series(&self, cluster: &str, group: &str) -> PartitionLagHistory {
        let groups = self.groups.read().unwrap_or_else(PoisonError::into_inner);
        let Some(series) = groups.get(&(cluster.to_owned(), group.to_owned())) else {
            return PartitionLagHistory::default();
        };
        let mut out = PartitionLagHistory::default();
        let mut index: HashMap<&PartitionKey, usize> = HashMap::new();
        for stored in series {
            for key in stored.keys.iter() {
                if !index.contains_key(key) {
                    index.insert(key, out.partitions.len());
                    out.partitions.push(key.clone());
                }
            }
        }
        for stored in series {
            let mut lags = vec![None; out.partitions.len()];
            for (key, lag) in stored.keys.iter().zip(unpack_lags(&stored.lags)) {
                if let Some(&i) = index.get(key) {
                    lags[i] = Some(lag);
                }
            }
            out.points.push((stored.point.at_ms, lags));
        }
        out
    }

    /// A group's total lag over time, at most `points` values spread over the kept span
    /// (for sparklines), oldest first.
    pub fn total_lag_sparkline(&self, cluster: &str, group: &str, points: usize) -> Vec<u64> {
        let groups = self.groups.read().unwrap_or_else(PoisonError::into_inner);
        let Some(series) = groups.get(&(cluster.to_owned(), group.to_owned())) else {
            return Vec::new();
        };
        let step = series.len().div_ceil(points.max(1)).max(1);
        series
            .iter()
            .step_by(step)
            .map(|p| p.point.total_lag)
            .collect()
    }

    /// Records every snapshot the channel sees until `shutdown`.
    pub async fn follow(
        &self,
        mut snapshots: watch::Receiver<Snapshot>,
        shutdown: CancellationToken,
    ) {
        loop {
            let snapshot = snapshots.borrow_and_update().clone();
            self.record(&snapshot);
            tokio::select! {
                () = shutdown.cancelled() => return,
                changed = snapshots.changed() => if changed.is_err() { return },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagwatch_core::snapshot::SnapshotData;

    fn snapshot(at_ms: i64, cycle: u64, lag: u64) -> Snapshot {
        let mut report = GroupReport::not_found("c", "g", at_ms);
        report.status = GroupStatus::Warn;
        report.totallag = lag;
        Snapshot::new(SnapshotData {
            at_ms,
            cycle,
            groups: vec![report],
            topics: Vec::new(),
        })
    }

    fn partition(topic: &str, partition: i32, lag: u64) -> lagwatch_core::PartitionReport {
        lagwatch_core::PartitionReport {
            topic: topic.into(),
            partition,
            owner: String::new(),
            client_id: String::new(),
            status: lagwatch_core::PartitionStatus::Ok,
            start: None,
            end: None,
            current_lag: lag,
            complete: 1.0,
            extras: Default::default(),
        }
    }

    fn with_partitions(at_ms: i64, cycle: u64, parts: Vec<(&str, i32, u64)>) -> Snapshot {
        let mut report = GroupReport::not_found("c", "g", at_ms);
        report.status = GroupStatus::Ok;
        report.partitions = parts
            .into_iter()
            .map(|(t, p, lag)| partition(t, p, lag))
            .collect();
        Snapshot::new(SnapshotData {
            at_ms,
            cycle,
            groups: vec![report],
            topics: Vec::new(),
        })
    }

    #[test]
    fn keeps_every_partitions_lag_per_point_within_the_span() {
        let history = History::new(Duration::from_secs(60));
        history.record(&with_partitions(0, 1, vec![("a", 0, 5), ("a", 1, 7)]));
        history.record(&with_partitions(30_000, 2, vec![("a", 0, 6), ("a", 1, 8)]));
        // A partition appears, one disappears.
        history.record(&with_partitions(60_000, 3, vec![("a", 0, 9), ("b", 0, 1)]));
        let series = history.partition_series("c", "g");
        assert_eq!(
            series.partitions,
            vec![
                ("a".to_owned(), 0),
                ("a".to_owned(), 1),
                ("b".to_owned(), 0)
            ]
        );
        assert_eq!(
            series.points,
            vec![
                (0, vec![Some(5), Some(7), None]),
                (30_000, vec![Some(6), Some(8), None]),
                (60_000, vec![Some(9), None, Some(1)]),
            ]
        );
        // Points older than the span go, with their partitions.
        history.record(&with_partitions(95_000, 4, vec![("a", 0, 2), ("b", 0, 3)]));
        let series = history.partition_series("c", "g");
        assert_eq!(
            series.partitions,
            vec![("a".to_owned(), 0), ("b".to_owned(), 0)]
        );
        assert_eq!(series.points.len(), 2);
        assert_eq!(
            history.partition_series("c", "nope"),
            PartitionLagHistory::default()
        );
    }

    #[test]
    fn lags_pack_to_varints_and_back() {
        let lags = [0, 1, 127, 128, 16_383, 16_384, 1 << 40, u64::MAX];
        let packed = pack_lags(lags.iter().copied());
        // 1 + 1 + 1 + 2 + 2 + 3 + 6 + 10 bytes.
        assert_eq!(packed.len(), 26);
        assert_eq!(unpack_lags(&packed).collect::<Vec<_>>(), lags);
        assert_eq!(&*pack_lags([300].into_iter()), &[0xac, 0x02]);
        assert_eq!(unpack_lags(&pack_lags(std::iter::empty())).count(), 0);
    }

    #[test]
    fn points_older_than_the_full_resolution_span_are_thinned_to_one_per_step() {
        let history = History::new(Duration::from_secs(3600));
        // 40 minutes of evaluations every 10 s.
        let end = 40 * 60 * 1000;
        for (i, at) in (0..=end).step_by(10_000).enumerate() {
            history.record(&with_partitions(at, i as u64 + 1, vec![("a", 0, i as u64)]));
        }
        let at: Vec<i64> = history.series("c", "g").iter().map(|p| p.at_ms).collect();
        let full = millis(FULL_RESOLUTION);
        let step = millis(THINNED_STEP);
        let (old, recent): (Vec<i64>, Vec<i64>) = at.iter().partition(|&&t| t < end - full);
        // Every point of the newest 10 minutes (60 intervals and the newest point)...
        assert_eq!(recent.len(), 61, "{recent:?}");
        // ...and before that one per minute: 0, 60 s, ..., 29 min.
        assert_eq!(old, (0..30).map(|m| m * step).collect::<Vec<_>>());
        // Lags stay with their points.
        let series = history.partition_series("c", "g");
        assert_eq!(series.points[1], (60_000, vec![Some(6)]));
        assert_eq!(series.points.last().unwrap(), &(end, vec![Some(240)]));
    }

    #[test]
    fn unchanged_partition_lists_share_one_copy_of_the_names() {
        let history = History::new(Duration::from_secs(600));
        for i in 0..3 {
            history.record(&with_partitions(i * 1000, i as u64 + 1, vec![("a", 0, 1)]));
        }
        let groups = history.groups.read().unwrap();
        let series = &groups[&("c".to_owned(), "g".to_owned())];
        assert!(Arc::ptr_eq(&series[0].keys, &series[2].keys));
    }

    #[test]
    fn a_deleted_group_keeps_its_points_for_the_full_resolution_span_only() {
        let history = History::new(Duration::from_secs(3600));
        let minute = 60_000i64;
        for i in 0..20 {
            let at = i * minute;
            let mut parts = vec![("t", 0, 5)];
            if i < 15 {
                parts.push(("t", 1, 7));
            }
            let mut snap = with_partitions(at, i as u64 + 1, parts).data().clone();
            // "gone" is deleted after minute 5; "g" stays.
            if i <= 5 {
                let mut gone = snap.groups[0].clone();
                gone.group = "gone".into();
                snap.groups.push(gone);
            }
            history.record(&Snapshot::new(snap));
            let kept = history.series("c", "gone").len();
            if i <= 5 {
                assert_eq!(kept, i as usize + 1);
            } else if i <= 5 + 10 {
                assert_eq!(kept, 6, "minute {i}: the deleted group's points are kept");
            } else {
                assert_eq!(kept, 0, "minute {i}: 10 minutes after, they are dropped");
            }
        }
        assert_eq!(history.series("c", "g").len(), 20);
        assert_eq!(history.counts(), (1, 20));
    }

    #[test]
    fn keeps_points_for_the_configured_span_only() {
        let history = History::new(Duration::from_secs(60));
        history.record(&snapshot(0, 0, 99)); // cycle 0: the empty start, not recorded
        for (i, at) in [0i64, 30_000, 60_000, 90_000].iter().enumerate() {
            history.record(&snapshot(*at, i as u64 + 1, i as u64 * 10));
        }
        let series = history.series("c", "g");
        assert_eq!(
            series
                .iter()
                .map(|p| (p.at_ms, p.total_lag))
                .collect::<Vec<_>>(),
            vec![(30_000, 10), (60_000, 20), (90_000, 30)]
        );
        assert_eq!(series[0].status, GroupStatus::Warn);
        assert_eq!(history.total_lag_sparkline("c", "g", 2), vec![10, 30]);
        assert!(history.series("c", "other").is_empty());

        // A group that disappears is forgotten once its newest point is too old.
        let empty = Snapshot::new(SnapshotData {
            at_ms: 200_000,
            cycle: 9,
            groups: Vec::new(),
            topics: Vec::new(),
        });
        history.record(&empty);
        assert!(history.series("c", "g").is_empty());
    }
}
