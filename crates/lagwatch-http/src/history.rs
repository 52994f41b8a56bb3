//! A short in-memory history of every group's lag, one point per evaluation, for the JSON API
//! (and the dashboard built on it). Fed by the pipeline's snapshot channel; bounded by age.

use lagwatch_core::{GroupReport, GroupStatus, Snapshot, TimestampMs};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::{PoisonError, RwLock};
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
            max_time_lag_seconds: max_time_lag_seconds(report),
            warming_up: report.warming_up,
            stale: report.stale,
        }
    }
}

/// The largest time-lag estimate of a group's partitions (unknown estimates left out).
pub fn max_time_lag_seconds(report: &GroupReport) -> Option<f64> {
    report
        .partitions
        .iter()
        .filter_map(|p| p.extras.time_lag)
        .filter(|t| t.confidence != lagwatch_core::time_lag::Confidence::Unknown)
        .map(|t| t.seconds)
        .reduce(f64::max)
}

/// Every group's recent points, oldest first, kept for `keep`.
#[derive(Debug)]
pub struct History {
    keep_ms: i64,
    groups: RwLock<HashMap<(String, String), VecDeque<HistoryPoint>>>,
}

impl History {
    /// An empty history keeping points for `keep`.
    pub fn new(keep: Duration) -> History {
        History {
            keep_ms: i64::try_from(keep.as_millis()).unwrap_or(i64::MAX),
            groups: RwLock::new(HashMap::new()),
        }
    }

    /// Adds one point per group of `snapshot`; drops points older than the kept span, and
    /// groups whose newest point is that old.
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
            series.push_back(point);
        }
        groups.retain(|_, series| {
            while series.front().is_some_and(|p| p.at_ms < cutoff) {
                series.pop_front();
            }
            !series.is_empty()
        });
    }

    /// A group's points, oldest first (empty for an unknown group).
    pub fn series(&self, cluster: &str, group: &str) -> Vec<HistoryPoint> {
        let groups = self.groups.read().unwrap_or_else(PoisonError::into_inner);
        groups
            .get(&(cluster.to_owned(), group.to_owned()))
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// A group's total lag over time, at most `points` values spread over the kept span
    /// (for sparklines), oldest first.
    pub fn total_lag_sparkline(&self, cluster: &str, group: &str, points: usize) -> Vec<u64> {
        let groups = self.groups.read().unwrap_or_else(PoisonError::into_inner);
        let Some(series) = groups.get(&(cluster.to_owned(), group.to_owned())) else {
            return Vec::new();
        };
        let step = series.len().div_ceil(points.max(1)).max(1);
        series.iter().step_by(step).map(|p| p.total_lag).collect()
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
