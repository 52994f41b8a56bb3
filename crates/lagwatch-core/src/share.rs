//! Share groups (KIP-932, Kafka 4.x): lag and status of groups whose members share the
//! records of a partition instead of owning it.
//!
//! A share group commits no offsets. For every partition it consumes, the broker keeps a
//! *share-partition start offset* (SPSO): every record below it is done (acknowledged,
//! released for good or archived). Records at and above it are available, in flight or done
//! out of order. Kafka's tools report, per partition, that start offset and the lag: the
//! records from the start offset to the log end that are not done yet (KIP-1226;
//! `DescribeShareGroupOffsets` v1, Kafka 4.2+). A source that only has the start offset sends
//! no lag, and the model takes the high-water mark minus the start offset, which counts
//! records done out of order as still waiting.
//!
//! # Status
//!
//! Burrow's rules read a window of commits; a share group has none, so its partitions are
//! judged on a window of reads instead (the newest `intervals` reads, one per poll). A sample
//! is one read: when, the start offset, the lag. In this order:
//!
//! 1. **OK** when the newest lag is 0;
//! 2. **REWIND** when the start offset ever went down between two reads (the group's offsets
//!    were reset backwards);
//! 3. with a full window, and a lag above 0 in every read while the start offset never moved:
//!    **STOP** when the group has no member (nobody consumes), **STALL** when it has members
//!    (they consume nothing to completion: stuck or poisoned records);
//! 4. **WARN** when the start offset moved (consumption progresses) but the lag grew from
//!    every read to the next and the newest is above the oldest (consumers fall behind);
//! 5. **OK** otherwise.
//!
//! A window that is not full yet is judged by 1, 2, 4 and 5 only, with `complete` below 1.
//! Statuses map to group statuses as for consumer groups (STOP, STALL and REWIND are ERR).

use crate::TimestampMs;
use crate::report::{OffsetPoint, PartitionExtras, PartitionReport};
use crate::status::PartitionStatus;
use std::collections::{BTreeMap, VecDeque};

// Defined beside the event that carries it, so that `event` does not depend on this module.
pub use crate::event::SharePartitionOffset;

/// One read of a share partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareSample {
    /// When it was read (source clock, ms).
    pub observed_ms: TimestampMs,
    /// The share-partition start offset.
    pub start_offset: i64,
    /// Records not done yet.
    pub lag: u64,
}

/// The status of one share partition from its window of reads, oldest first; see the
/// [module documentation](self) for the rules. `intervals` is the full window length.
pub fn partition_status(
    window: &[ShareSample],
    intervals: usize,
    has_members: bool,
) -> PartitionStatus {
    let Some(newest) = window.last() else {
        return PartitionStatus::Ok;
    };
    if newest.lag == 0 {
        return PartitionStatus::Ok;
    }
    if window
        .windows(2)
        .any(|pair| pair[1].start_offset < pair[0].start_offset)
    {
        return PartitionStatus::Rewind;
    }
    let oldest = window[0];
    let moved = newest.start_offset != oldest.start_offset;
    if window.len() >= intervals.max(2) && !moved && window.iter().all(|s| s.lag > 0) {
        return if has_members {
            PartitionStatus::Stall
        } else {
            PartitionStatus::Stop
        };
    }
    let growing = window.len() >= 2
        && window.windows(2).all(|pair| pair[1].lag >= pair[0].lag)
        && newest.lag > oldest.lag;
    if moved && growing {
        return PartitionStatus::Warn;
    }
    PartitionStatus::Ok
}

/// What the model keeps of one share partition.
#[derive(Debug, Default)]
struct SharePartitionState {
    window: VecDeque<ShareSample>,
    owner: String,
    client_id: String,
}

/// What the model keeps of one share group: a window of reads per partition and who is
/// assigned what.
#[derive(Debug, Default)]
pub(crate) struct ShareGroupState {
    partitions: BTreeMap<(String, i32), SharePartitionState>,
    members: bool,
    /// The newest read, for expiry.
    pub(crate) last_read_ms: TimestampMs,
}

/// One partition of a read, with its lag resolved.
pub(crate) struct ShareRead<'a> {
    pub(crate) topic: &'a str,
    pub(crate) partition: i32,
    pub(crate) start_offset: i64,
    pub(crate) lag: u64,
}

impl ShareGroupState {
    /// Stores one read of the group: a sample per partition (a partition missing from the
    /// read is forgotten, as the group no longer consumes it) and the members' assignment.
    pub(crate) fn apply(
        &mut self,
        reads: &[ShareRead<'_>],
        assignments: &[crate::event::MemberAssignment],
        observed_ms: TimestampMs,
        intervals: usize,
    ) {
        let intervals = intervals.max(1);
        let mut kept = BTreeMap::new();
        for r in reads {
            let key = (r.topic.to_owned(), r.partition);
            let mut state = self.partitions.remove(&key).unwrap_or_default();
            if state.window.len() >= intervals {
                state.window.pop_front();
            }
            state.window.push_back(ShareSample {
                observed_ms,
                start_offset: r.start_offset,
                lag: r.lag,
            });
            state.owner.clear();
            state.client_id.clear();
            kept.insert(key, state);
        }
        self.partitions = kept;
        for a in assignments {
            if let Some(p) = self.partitions.get_mut(&(a.topic.clone(), a.partition)) {
                // Several members can share a partition: list them all.
                for (field, value) in [(&mut p.owner, &a.owner), (&mut p.client_id, &a.client_id)] {
                    if !field.split(',').any(|v| v == value) {
                        if !field.is_empty() {
                            field.push(',');
                        }
                        field.push_str(value);
                    }
                }
            }
        }
        self.members = !assignments.is_empty();
        self.last_read_ms = self.last_read_ms.max(observed_ms);
    }

    /// One report per partition. `broker(topic, partition)` gives the newest high-water mark
    /// and log-start offset the model holds.
    pub(crate) fn evaluate(
        &self,
        intervals: usize,
        stale: bool,
        broker: impl Fn(&str, i32) -> (Option<i64>, Option<i64>),
    ) -> Vec<PartitionReport> {
        let intervals = intervals.max(1);
        self.partitions
            .iter()
            .filter_map(|((topic, partition), state)| {
                let window: Vec<ShareSample> = state.window.iter().copied().collect();
                let (oldest, newest) = (*window.first()?, *window.last()?);
                let point = |s: ShareSample| OffsetPoint {
                    offset: s.start_offset,
                    timestamp: s.observed_ms,
                    observed_at: s.observed_ms,
                    lag: Some(s.lag),
                };
                let (log_end_offset, log_start_offset) = broker(topic, *partition);
                Some(PartitionReport {
                    topic: topic.clone(),
                    partition: *partition,
                    owner: state.owner.clone(),
                    client_id: state.client_id.clone(),
                    status: partition_status(&window, intervals, self.members),
                    start: Some(point(oldest)),
                    end: Some(point(newest)),
                    current_lag: newest.lag,
                    complete: (window.len() as f32 / intervals as f32).min(1.0),
                    extras: PartitionExtras {
                        log_end_offset,
                        log_start_offset,
                        stale,
                        ..PartitionExtras::default()
                    },
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A window from `(start offset, lag)` pairs read 10 s apart.
    fn window(reads: &[(i64, u64)]) -> Vec<ShareSample> {
        reads
            .iter()
            .enumerate()
            .map(|(i, &(start_offset, lag))| ShareSample {
                observed_ms: 10_000 * i as i64,
                start_offset,
                lag,
            })
            .collect()
    }

    #[test]
    fn statuses_follow_the_documented_rules() {
        use PartitionStatus::*;
        type Case<'a> = (&'a [(i64, u64)], bool, PartitionStatus);
        let cases: &[Case<'_>] = &[
            // 1: caught up, whatever came before.
            (&[(0, 9), (0, 9), (0, 9), (9, 0)], true, Ok),
            (&[], true, Ok),
            // 2: the start offset went back.
            (&[(50, 10), (40, 20), (45, 15)], true, Rewind),
            // 3: full window, lag > 0 throughout, start offset never moved.
            (&[(50, 250), (50, 250), (50, 260), (50, 270)], false, Stop),
            (&[(50, 250), (50, 250), (50, 260), (50, 270)], true, Stall),
            // ... not with a window short of full.
            (&[(50, 250), (50, 250), (50, 260)], true, Ok),
            // 4: progress, but the lag grows at every read.
            (&[(0, 10), (5, 12), (9, 12), (20, 30)], true, Warn),
            // ... and not when it shrank once, or never grew.
            (&[(0, 10), (5, 9), (9, 12), (20, 30)], true, Ok),
            (&[(0, 10), (5, 10), (9, 10), (20, 10)], true, Ok),
            // 5: progress with a steady lag.
            (&[(0, 100), (100, 100), (200, 100), (300, 100)], false, Ok),
        ];
        for (reads, members, expected) in cases {
            assert_eq!(
                partition_status(&window(reads), 4, *members),
                *expected,
                "{reads:?} members={members}"
            );
        }
    }

    #[test]
    fn reads_fill_a_bounded_window_and_list_every_member_of_a_partition() {
        use crate::event::MemberAssignment;
        let mut state = ShareGroupState::default();
        let assign = |owner: &str, client: &str| MemberAssignment {
            topic: "jobs".into(),
            partition: 0,
            owner: owner.into(),
            client_id: client.into(),
        };
        for i in 0..5 {
            let reads = [ShareRead {
                topic: "jobs",
                partition: 0,
                start_offset: 10 * i,
                lag: 5,
            }];
            state.apply(
                &reads,
                &[assign("m1", "c1"), assign("m2", "c2")],
                1_000 * i,
                3,
            );
        }
        let reports = state.evaluate(3, false, |_, _| (Some(75), Some(0)));
        assert_eq!(reports.len(), 1);
        let p = &reports[0];
        assert_eq!((p.owner.as_str(), p.client_id.as_str()), ("m1,m2", "c1,c2"));
        assert_eq!(p.start.map(|s| s.offset), Some(20));
        assert_eq!(
            p.end.map(|s| (s.offset, s.timestamp, s.lag)),
            Some((40, 4_000, Some(5)))
        );
        assert_eq!((p.current_lag, p.complete), (5, 1.0));
        assert_eq!(p.extras.log_end_offset, Some(75));

        // A partition left out of the next read is forgotten.
        state.apply(&[], &[], 5_000, 3);
        assert!(state.evaluate(3, false, |_, _| (None, None)).is_empty());
        assert_eq!(state.last_read_ms, 5_000);
    }
}
