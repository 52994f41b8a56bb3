//! Streaming `__consumer_offsets`: a consumer assigned every partition of the topic (no
//! group membership, nothing committed), decoding each record as it arrives.
//!
//! `isolation.level=read_committed`: transaction markers and the commits of aborted
//! transactions never reach the decoder, and a transactional commit shows when its
//! transaction commits. Records are handed on in small batches: everything that arrived
//! within a few milliseconds of the first, so a commit reaches the model well within a second.

use super::decode::decode;
use super::mapper::RecordMapper;
use crate::client::QuietContext;
use crate::error::KafkaError;
use crate::stats::Stats;
use lagwatch_core::Event;
use lagwatch_core::filter::NameFilter;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::error::{KafkaError as RdError, RDKafkaErrorCode};
use rdkafka::{ClientConfig, Message as _, Offset, TopicPartitionList};
use std::sync::Arc;
use std::time::Duration;

/// Where the stream starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamStart {
    /// The oldest record kept.
    Earliest,
    /// The end of each partition.
    Latest,
}

/// Most records handed on in one batch.
const MAX_BATCH: usize = 2_000;
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
        topic: &str,
        start: StreamStart,
        cluster: String,
        groups: NameFilter,
        topics: NameFilter,
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
            .set("enable.partition.eof", "false")
            .set("isolation.level", "read_committed")
            .set("fetch.wait.max.ms", "100")
            .set("auto.offset.reset", "earliest");
        let consumer: StreamConsumer<QuietContext> = config
            .create_with_context(QuietContext::new(&cluster))
            .map_err(|e| unreadable(format!("cannot create a consumer: {e}")))?;
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
        let offset = match start {
            StreamStart::Earliest => Offset::Beginning,
            StreamStart::Latest => Offset::End,
        };
        let mut assignment = TopicPartitionList::new();
        for p in meta.partitions() {
            assignment
                .add_partition_offset(topic, p.id(), offset)
                .map_err(|e| unreadable(e.to_string()))?;
        }
        consumer
            .assign(&assignment)
            .map_err(|e| unreadable(e.to_string()))?;
        Ok(OffsetsStream {
            consumer,
            topic: topic.to_owned(),
            mapper: RecordMapper::new(cluster, groups, topics),
            stats,
            decode_errors: 0,
        })
    }

    /// Waits for the next record and returns the events of it and of every record that
    /// follows within [`LINGER`] (at most [`MAX_BATCH`] records).
    ///
    /// # Errors
    /// [`KafkaError::OffsetsTopic`] when the topic cannot be read (authorization); other
    /// consumer errors are logged and reading goes on.
    pub(crate) async fn next_batch(&mut self) -> Result<Vec<Event>, KafkaError> {
        let mut events = Vec::new();
        let mut records = 0usize;
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
                            self.mapper.apply(record, message.offset(), &mut events);
                        }
                        Err(e) => {
                            let reason = e.to_string();
                            self.skip(message.partition(), message.offset(), &reason);
                        }
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
                        return Ok(events);
                    }
                    break;
                }
            }
            if records >= MAX_BATCH {
                break;
            }
        }
        Ok(events)
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
