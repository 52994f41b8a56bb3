//! One group partition's ring of commits and Burrow's rules for storing a commit in it:
//! ordering by the source's commit order, back-fill, duplicates and `min-distance`.

use super::{StoredCommit, lag_between};
use crate::TimestampMs;
use crate::report::OffsetPoint;
use std::collections::VecDeque;

/// What [`store_commit`] needs to know about a commit.
#[derive(Debug, Clone, Copy)]
pub(super) struct NewCommit {
    pub(super) offset: i64,
    pub(super) timestamp_ms: TimestampMs,
    pub(super) order: Option<i64>,
    /// Model clock, whole seconds.
    pub(super) observed_ms: TimestampMs,
    /// Newest broker high-water mark of the partition.
    pub(super) high_water: i64,
}

/// Where a stored commit went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Placement {
    /// Stored as the newest commit (or merged into the newest): lag computed, `lastCommit`
    /// updated.
    Appended,
    /// Stored before newer commits (or merged into an older one): lag unknown.
    Inserted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rejected {
    BackfillFull { oldest_order: i64 },
    Duplicate,
}

/// Stores a commit in a ring holding at most `capacity` commits sorted by order, oldest first,
/// the way Burrow's storage does:
///
/// * without an order, or with an order above the newest stored one, the commit is appended
///   (the oldest commit falls out of a full ring) with lag = high-water mark − offset, floored
///   at 0;
/// * otherwise it is dropped when the ring is full and the oldest commit's order is not below
///   it, or when a commit with the same order is stored; else it is inserted at its place by
///   order (the oldest commit falls out of a full ring) with an unknown lag;
/// * `min-distance`: when the commit before the chosen place (the newest one for an append)
///   has a timestamp less than `min_distance_ms` before the new commit's, the new commit
///   replaces it and keeps its timestamp. A commit inserted as the oldest one is never merged.
pub(super) fn store_commit(
    ring: &mut VecDeque<StoredCommit>,
    capacity: usize,
    min_distance_ms: i64,
    commit: NewCommit,
) -> Result<Placement, Rejected> {
    let placement = match (commit.order, ring.back()) {
        (Some(order), Some(newest)) if order <= newest.order => {
            let full = ring.len() >= capacity;
            if let Some(oldest) = ring.front() {
                if full && oldest.order >= order {
                    return Err(Rejected::BackfillFull {
                        oldest_order: oldest.order,
                    });
                }
            }
            let mut position = 0;
            for (i, stored) in ring.iter().enumerate().rev() {
                if stored.order == order {
                    return Err(Rejected::Duplicate);
                }
                if stored.order < order {
                    position = i + 1;
                    break;
                }
            }
            // Burrow never merges a commit that becomes the oldest one.
            let becomes_oldest = position == 0 || (full && position == 1);
            (Placement::Inserted, position, becomes_oldest)
        }
        _ => (Placement::Appended, ring.len(), false),
    };
    let (kind, position, becomes_oldest) = placement;
    let order = commit
        .order
        .unwrap_or_else(|| ring.back().map_or(0, |c| c.order.saturating_add(1)));
    let lag = match kind {
        Placement::Appended => Some(lag_between(commit.high_water, commit.offset)),
        Placement::Inserted => None,
    };
    let mut point = OffsetPoint {
        offset: commit.offset,
        timestamp: commit.timestamp_ms,
        observed_at: commit.observed_ms,
        lag,
    };

    if !becomes_oldest && position > 0 {
        if let Some(previous) = ring.get_mut(position - 1) {
            let distance = i128::from(commit.timestamp_ms) - i128::from(previous.point.timestamp);
            if distance < i128::from(min_distance_ms) {
                point.timestamp = previous.point.timestamp;
                *previous = StoredCommit { point, order };
                return Ok(kind);
            }
        }
    }
    // Make room first, so the ring never grows beyond its first allocation. A full ring never
    // takes a commit at position 0 (that is a backfill commit), so `position >= 1` here.
    let mut position = position;
    if ring.len() >= capacity {
        ring.pop_front();
        position = position.saturating_sub(1);
    }
    ring.insert(position, StoredCommit { point, order });
    Ok(kind)
}
