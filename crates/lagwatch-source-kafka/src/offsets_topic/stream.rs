//! Streaming `__consumer_offsets`: a consumer assigned every partition of the topic (no
//! group membership, nothing committed), decoding each record as it arrives.
//!
//! `isolation.level=read_committed`: transaction markers and the commits of aborted
//! transactions never reach the decoder, and a transactional commit shows when its
//! transaction commits. Records are handed on in small batches: everything that arrived
//! within a few milliseconds of the first, so a commit reaches the model well within a second.
//!
//! The stream can start at a point in time ([`StreamStart::Since`]): per partition the first
//! record at or after that time (ListOffsets by timestamp), so the recent history of every
//! group is read again at start. `enable.partition.eof` tells when every partition has
//! reached the end it had when the stream was opened ([`OffsetsStream::caught_up`]).

use super::decode::{DecodeErrorKind, decode};
use super::mapper::RecordMapper;
use crate::client::QuietContext;
use crate::error::KafkaError;
use crate::stats::Stats;
use lagwatch_config::KafkaSourceConfig;
use lagwatch_core::Event;
use lagwatch_core::filter::NameFilter;
use lagwatch_core::sharding::Ownership;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::error::{KafkaError as RdError, RDKafkaErrorCode};
use rdkafka::{ClientConfig, Message as _, Offset, TopicPartitionList};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// Where the stream starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamStart {
    /// The oldest record kept.
    Earliest,
    /// The end of each partition.
    Latest,
    /// Per partition, the first record written at or after this time (ms since the epoch).
    Since(i64),
}

impl StreamStart {
    /// Where a stream reading `history` back from `now_ms` starts: [`StreamStart::Latest`]
    /// when `history` is zero, else [`StreamStart::Since`] `now_ms - history` (never before
    /// the epoch).
    pub(crate) fn lookback(now_ms: i64, history: Duration) -> StreamStart {
        if history.is_zero() {
            return StreamStart::Latest;
        }
        let back = i64::try_from(history.as_millis()).unwrap_or(i64::MAX);
        StreamStart::Since(now_ms.saturating_sub(back).max(0))
    }
}

/// The offset to start a partition at, from what ListOffsets by timestamp answered for it:
/// the offset found; the end when no record is that recent (librdkafka answers `-1`, i.e.
/// [`Offset::End`]); the oldest record kept when the lookup failed.
pub(crate) fn history_offset(found: Result<Offset, ()>) -> Offset {
    match found {
        Ok(Offset::Offset(n)) if n >= 0 => Offset::Offset(n),
        Ok(Offset::End | Offset::Invalid) => Offset::End,
        Ok(Offset::OffsetTail(_) | Offset::Stored | Offset::Beginning | Offset::Offset(_))
        | Err(()) => Offset::Beginning,
    }
}

/// Most records handed on in one batch.
const MAX_BATCH: usize = 2_000;
/// Most bytes of events in one batch (see [`event_bytes`]): with records of at most
/// [`MAX_DECODED_BYTES`](super::decode::MAX_DECODED_BYTES) each, a batch stays under this plus
/// one record's worth.
const MAX_BATCH_BYTES: usize = 64 << 20;
/// How long a batch waits for more records after its first one.
const LINGER: Duration = Duration::from_millis(20);
/// Decode errors logged one by one before only every thousandth is.
const LOGGED_ERRORS: u64 = 10;

/// An open stream of one cluster's offsets topic.
pub(crate) struct OffsetsStream {
    consumer: StreamConsumer<QuietContext>,
    topic: String,
    mapper: RecordMapper,
    stats: Arc<Stats>,
    decode_errors: u64,
    /// Partitions that have not yet reached the end they had when the stream opened.
    behind: BTreeSet<i32>,
    /// Events of the batch being gathered (see [`OffsetsStream::next_batch`]).
    pending: Vec<Event>,
    /// The groups this instance owns (several instances sharing the cluster).
    ownership: Ownership,
    /// The owned partitions the stream has caught up with: one assigned since is read
    /// again from its start, since its groups were skipped until then.
    followed: BTreeSet<u32>,
}

impl OffsetsStream {
    /// Opens `topic` from `start`.
    ///
    /// # Errors
    /// [`KafkaError::OffsetsTopic`] when the topic is missing or not authorized, or the
    /// consumer cannot be created.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn open(
        mut config: ClientConfig,
        settings: &KafkaSourceConfig,
        topic: &str,
        start: StreamStart,
        cluster: String,
        groups: NameFilter,
        topics: NameFilter,
        ownership: Ownership,
        stats: Arc<Stats>,
        timeout: Duration,
    ) -> Result<OffsetsStream, KafkaError> {
        let unreadable = |reason: String| KafkaError::OffsetsTopic {
            topic: topic.to_owned(),
            reason,
        };
        config
            // Needed by librdkafka for a consumer; never joined (no subscribe) and nothing
            // is ever committed under it.
            .set("group.id", format!("lagwatch-offsets-reader-{cluster}"))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            // Tells when the history read at start has caught up.
            .set("enable.partition.eof", "true")
            .set("isolation.level", "read_committed")
            .set("fetch.wait.max.ms", "100")
            .set("auto.offset.reset", "earliest");
        let consumer: StreamConsumer<QuietContext> = config
            .create_with_context(QuietContext::new(&cluster))
            .map_err(|e| {
                let text = crate::creation_error::creation_error_text(&e);
                unreadable(format!(
                    "cannot create a consumer: {}",
                    crate::client::redact(&text, settings)
                ))
            })?;
        let wanted = topic.to_owned();
        let (consumer, partitions) = tokio::task::spawn_blocking(move || {
            let metadata = consumer.fetch_metadata(Some(&wanted), timeout);
            (consumer, metadata)
        })
        .await
        .map_err(|e| KafkaError::Internal(format!("worker thread failed: {e}")))?;
        let metadata = partitions.map_err(|e| unreadable(e.to_string()))?;
        let Some(meta) = metadata.topics().iter().find(|t| t.name() == topic) else {
            return Err(unreadable("not in the cluster's metadata".into()));
        };
        if let Some(e) = meta.error() {
            return Err(unreadable(RDKafkaErrorCode::from(e).to_string()));
        }
        if meta.partitions().is_empty() {
            return Err(unreadable("the topic has no partitions".into()));
        }
        let ids: Vec<i32> = meta.partitions().iter().map(|p| p.id()).collect();
        let (consumer, offsets) = match start {
            StreamStart::Earliest => (consumer, vec![Offset::Beginning; ids.len()]),
            StreamStart::Latest => (consumer, vec![Offset::End; ids.len()]),
            StreamStart::Since(at_ms) => {
                let wanted = topic.to_owned();
                let ids = ids.clone();
                tokio::task::spawn_blocking(move || {
                    let offsets = offsets_at(&consumer, &wanted, &ids, at_ms, timeout);
                    (consumer, offsets)
                })
                .await
                .map_err(|e| KafkaError::Internal(format!("worker thread failed: {e}")))?
            }
        };
        let mut assignment = TopicPartitionList::new();
        for (&id, &offset) in ids.iter().zip(&offsets) {
            assignment
                .add_partition_offset(topic, id, offset)
                .map_err(|e| unreadable(e.to_string()))?;
        }
        consumer
            .assign(&assignment)
            .map_err(|e| unreadable(e.to_string()))?;
        Ok(OffsetsStream {
            consumer,
            topic: topic.to_owned(),
            mapper: RecordMapper::new(cluster, groups, topics).with_ownership(ownership.clone()),
            stats,
            decode_errors: 0,
            behind: ids.into_iter().collect(),
            pending: Vec::new(),
            followed: ownership.assigned().into_iter().collect(),
            ownership,
        })
    }

    /// Whether every partition has reached the end it had when the stream opened (with
    /// [`StreamStart::Since`]: the history has been read).
    pub(crate) fn caught_up(&self) -> bool {
        self.behind.is_empty()
    }

    /// Waits for the next record and returns the events of it and of every record that
    /// follows within [`LINGER`] (at most [`MAX_BATCH`] records). Cancel-safe: events of a
    /// cancelled call come with the next one.
    ///
    /// # Errors
    /// [`KafkaError::OffsetsTopic`] when the topic cannot be read (authorization); other
    /// consumer errors are logged and reading goes on.
    pub(crate) async fn next_batch(&mut self) -> Result<Vec<Event>, KafkaError> {
        self.gather().await?;
        Ok(std::mem::take(&mut self.pending))
    }

    /// The body of [`OffsetsStream::next_batch`]. The events are gathered in `self.pending`,
    /// so a call cancelled by the caller's `select!` loses nothing: the next call hands them
    /// on.
    async fn gather(&mut self) -> Result<(), KafkaError> {
        self.follow_assignment();
        let mut records = usize::from(!self.pending.is_empty());
        // Bytes the batch's events hold, so a run of large owner lists is handed on early.
        let mut weight = self.pending.iter().map(event_bytes).sum::<usize>();
        loop {
            let received = if records == 0 {
                self.consumer.recv().await
            } else {
                match tokio::time::timeout(LINGER, self.consumer.recv()).await {
                    Ok(received) => received,
                    Err(_) => break,
                }
            };
            match received {
                Ok(message) => {
                    records += 1;
                    let Some(key) = message.key() else {
                        self.skip(
                            message.partition(),
                            message.offset(),
                            "record without a key",
                        );
                        continue;
                    };
                    match decode(key, message.payload()) {
                        Ok(record) => {
                            self.stats.record(true);
                            let before = self.pending.len();
                            self.mapper
                                .apply(record, message.offset(), &mut self.pending);
                            weight = weight.saturating_add(
                                self.pending[before..]
                                    .iter()
                                    .map(event_bytes)
                                    .sum::<usize>(),
                            );
                        }
                        Err(e) => {
                            if matches!(e.kind(), DecodeErrorKind::TooLarge { .. }) {
                                self.stats.oversized();
                            }
                            let reason = e.to_string();
                            self.skip(message.partition(), message.offset(), &reason);
                        }
                    }
                }
                Err(RdError::PartitionEOF(partition)) => {
                    // The end of a partition; the last one to get there ends the history
                    // read, which the caller wants to hear about at once.
                    if self.behind.remove(&partition) && self.behind.is_empty() {
                        break;
                    }
                }
                Err(e) => {
                    if is_unauthorized(&e) {
                        return Err(KafkaError::OffsetsTopic {
                            topic: self.topic.clone(),
                            reason: e.to_string(),
                        });
                    }
                    tracing::debug!(topic = %self.topic, error = %e, "offsets topic consumer error");
                    if records == 0 {
                        // Nothing read yet: let the caller's loop breathe before retrying.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        return Ok(());
                    }
                    break;
                }
            }
            if records >= MAX_BATCH || weight >= MAX_BATCH_BYTES {
                break;
            }
        }
        Ok(())
    }

    /// Reads every offsets-topic partition newly assigned to this instance again from its
    /// start: its groups were skipped while another instance had them. A partition whose
    /// seek fails is tried again at the next batch.
    fn follow_assignment(&mut self) {
        if !self.ownership.is_coordinated() {
            return;
        }
        let owned: BTreeSet<u32> = self.ownership.assigned().into_iter().collect();
        self.followed.retain(|p| owned.contains(p));
        let new: Vec<u32> = owned.difference(&self.followed).copied().collect();
        for partition in new {
            let Ok(id) = i32::try_from(partition) else {
                continue;
            };
            match self
                .consumer
                .seek(&self.topic, id, Offset::Beginning, Duration::from_secs(5))
            {
                Ok(()) => {
                    tracing::info!(topic = %self.topic, partition, "reading a newly assigned partition from its start");
                    self.followed.insert(partition);
                }
                Err(e) => {
                    tracing::debug!(topic = %self.topic, partition, error = %e, "cannot seek yet");
                }
            }
        }
    }

    fn skip(&mut self, partition: i32, offset: i64, reason: &str) {
        self.stats.record(false);
        self.decode_errors += 1;
        if self.decode_errors <= LOGGED_ERRORS || self.decode_errors % 1000 == 0 {
            tracing::warn!(
                topic = %self.topic,
                partition,
                offset,
                skipped = self.decode_errors,
                "skipping an offsets topic record that cannot be decoded: {reason}"
            );
        }
    }
}

/// Roughly the heap an event holds: what its owner list copies; a fixed size otherwise.
fn event_bytes(event: &Event) -> usize {
    const EVENT: usize = std::mem::size_of::<Event>() + 64;
    match event {
        Event::Members { assignments, .. } => assignments.iter().fold(EVENT, |sum, a| {
            sum + std::mem::size_of::<lagwatch_core::MemberAssignment>()
                + a.topic.len()
                + a.owner.len()
                + a.client_id.len()
        }),
        _ => EVENT,
    }
}

/// Per partition of `topic`, the first offset at or after `at_ms` (see [`history_offset`]).
fn offsets_at(
    consumer: &StreamConsumer<QuietContext>,
    topic: &str,
    partitions: &[i32],
    at_ms: i64,
    timeout: Duration,
) -> Vec<Offset> {
    let mut wanted = TopicPartitionList::new();
    for &p in partitions {
        if wanted
            .add_partition_offset(topic, p, Offset::Offset(at_ms))
            .is_err()
        {
            return vec![Offset::Beginning; partitions.len()];
        }
    }
    match consumer.offsets_for_times(wanted, timeout) {
        Ok(found) => partitions
            .iter()
            .map(|&p| {
                let element = found.find_partition(topic, p);
                history_offset(match element {
                    Some(e) if e.error().is_ok() => Ok(e.offset()),
                    _ => Err(()),
                })
            })
            .collect(),
        Err(e) => {
            tracing::warn!(%topic, error = %e, "cannot find where the offsets topic's history starts; reading it from its oldest record");
            vec![Offset::Beginning; partitions.len()]
        }
    }
}

fn is_unauthorized(e: &RdError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::GroupAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed
                | RDKafkaErrorCode::SaslAuthenticationFailed
                | RDKafkaErrorCode::Authentication
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookback_starts_history_before_now_or_at_the_end_when_off() {
        let now = 1_700_000_900_000;
        assert_eq!(
            StreamStart::lookback(now, Duration::from_secs(900)),
            StreamStart::Since(1_700_000_000_000)
        );
        assert_eq!(
            StreamStart::lookback(now, Duration::ZERO),
            StreamStart::Latest
        );
        // Never before the epoch, whatever the history.
        assert_eq!(
            StreamStart::lookback(5_000, Duration::from_secs(3600)),
            StreamStart::Since(0)
        );
        assert_eq!(
            StreamStart::lookback(now, Duration::MAX),
            StreamStart::Since(0)
        );
    }

    #[test]
    fn history_offset_takes_the_found_offset_the_end_or_the_oldest_record() {
        assert_eq!(history_offset(Ok(Offset::Offset(42))), Offset::Offset(42));
        // No record that recent: nothing to read again in that partition.
        assert_eq!(history_offset(Ok(Offset::End)), Offset::End);
        assert_eq!(history_offset(Ok(Offset::Invalid)), Offset::End);
        // The lookup failed: read what the partition still holds.
        assert_eq!(history_offset(Err(())), Offset::Beginning);
        assert_eq!(history_offset(Ok(Offset::Offset(-7))), Offset::Beginning);
    }
}
