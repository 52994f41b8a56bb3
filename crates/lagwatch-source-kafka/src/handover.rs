//! [`AlertHandover`] on a compacted Kafka topic of the monitored cluster: the instances that
//! share the cluster (`coordination_group`) leave their groups' open alerts there, one record
//! per alert keyed by its incident id (rule and labels), and a closed alert as a tombstone.
//! Compaction keeps the topic at about one record per open alert. The same topic holds the
//! instances' announcements ([`MemberDirectory`]: HTTP address and owned partitions, keyed
//! `lagwatch.member/<cluster>/<address>`).
//!
//! The topic (`coordination_alert_topic`) is created on first use when it is missing: one
//! partition (records of one key stay in order, and the new owner reads them all), the
//! brokers' default replication, `cleanup.policy=compact`.

use crate::client::{QuietContext, client_config, redact};
use lagwatch_component::directory::{MEMBER_KEY_PREFIX, member_key};
use lagwatch_component::handover::owned_by;
use lagwatch_component::{
    AlertHandover, ComponentError, HandedAlert, Member, MemberDirectory, async_trait,
};
use lagwatch_config::KafkaSourceConfig;
use rdkafka::Message as _;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// What one record of the topic holds (its key is the incident id).
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    cluster: String,
    group: String,
    alert: serde_json::Value,
}

/// Open alerts handed between the instances that share one Kafka cluster.
pub struct KafkaAlertHandover {
    name: String,
    topic: String,
    settings: KafkaSourceConfig,
    producer: FutureProducer<QuietContext>,
    created: OnceCell<()>,
    timeout: Duration,
}

impl std::fmt::Debug for KafkaAlertHandover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaAlertHandover")
            .field("name", &self.name)
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl KafkaAlertHandover {
    /// The handover of the cluster `settings` reads, on its [`alert topic`]
    /// (`KafkaSourceConfig::alert_topic`). Nothing is contacted until the first use.
    ///
    /// [`alert topic`]: KafkaSourceConfig::alert_topic
    ///
    /// # Errors
    /// A permanent [`ComponentError`] when there is no topic (no `coordination_group`) or the
    /// client cannot be created from the settings.
    pub fn new(settings: &KafkaSourceConfig) -> Result<KafkaAlertHandover, ComponentError> {
        let name = format!(
            "alert-handover[{}:{}]",
            settings.cluster,
            settings.alert_topic()
        );
        let topic = settings.alert_topic();
        if topic.is_empty() {
            return Err(ComponentError::permanent(
                &name,
                "no coordination_group: nothing to hand over",
            ));
        }
        let timeout = settings.request_timeout.max(Duration::from_secs(10));
        let mut config = client_config(settings);
        config
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("message.timeout.ms", timeout.as_millis().to_string())
            .set("linger.ms", "5");
        let producer = config
            .create_with_context(QuietContext::new(&settings.cluster))
            .map_err(|e| {
                ComponentError::permanent(
                    &name,
                    format!(
                        "cannot create a producer: {}",
                        redact(&crate::creation_error::creation_error_text(&e), settings)
                    ),
                )
            })?;
        Ok(KafkaAlertHandover {
            name,
            topic,
            settings: settings.clone(),
            producer,
            created: OnceCell::new(),
            timeout,
        })
    }

    /// The topic's name.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    fn fail(&self, what: &str, reason: impl std::fmt::Display) -> ComponentError {
        ComponentError::transient(
            &self.name,
            format!(
                "{what} {}: {}",
                self.topic,
                redact(&reason.to_string(), &self.settings)
            ),
        )
    }

    /// Creates the topic unless it exists (once per process).
    async fn ensure_topic(&self) -> Result<(), ComponentError> {
        self.created
            .get_or_try_init(|| async {
                let admin: AdminClient<QuietContext> = client_config(&self.settings)
                    .create_with_context(QuietContext::new(&self.settings.cluster))
                    .map_err(|e| self.fail("cannot create an admin client for", e))?;
                let topic = NewTopic::new(&self.topic, 1, TopicReplication::Fixed(-1))
                    .set("cleanup.policy", "compact");
                let options = AdminOptions::new().operation_timeout(Some(self.timeout));
                let results = admin
                    .create_topics([&topic], &options)
                    .await
                    .map_err(|e| self.fail("cannot create", e))?;
                for result in results {
                    match result {
                        Ok(_) => {
                            tracing::info!(topic = %self.topic, "created the alert handover topic");
                        }
                        Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                        // Not allowed to create topics: one created beforehand (as the
                        // operations guide describes for locked-down clusters) still serves;
                        // if there is none, publishing and reading say so.
                        Err((
                            _,
                            code @ (RDKafkaErrorCode::TopicAuthorizationFailed
                            | RDKafkaErrorCode::ClusterAuthorizationFailed),
                        )) => {
                            tracing::warn!(topic = %self.topic, error = %code, "not allowed to create the alert handover topic; using it as it is (create it beforehand: one partition, cleanup.policy=compact)");
                        }
                        Err((_, code)) => return Err(self.fail("cannot create", code)),
                    }
                }
                Ok(())
            })
            .await
            .map(|_| ())
    }

    /// The newest value of every key in the topic (blocking: run off the runtime).
    fn read_all(
        config: ClientConfig,
        cluster: String,
        topic: String,
        timeout: Duration,
    ) -> Result<BTreeMap<String, Vec<u8>>, String> {
        let consumer: BaseConsumer<QuietContext> = config
            .create_with_context(QuietContext::new(&cluster))
            .map_err(|e| format!("cannot create a consumer: {e}"))?;
        let (low, high) = consumer
            .fetch_watermarks(&topic, 0, timeout)
            .map_err(|e| format!("cannot read its offsets: {e}"))?;
        let mut open = BTreeMap::new();
        if high <= low {
            return Ok(open);
        }
        let mut assignment = TopicPartitionList::new();
        assignment
            .add_partition_offset(&topic, 0, Offset::Beginning)
            .map_err(|e| e.to_string())?;
        consumer.assign(&assignment).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + timeout;
        let mut next = low;
        while next < high {
            if Instant::now() > deadline {
                return Err(format!(
                    "read only up to offset {next} of {high} within {timeout:?}"
                ));
            }
            let Some(message) = consumer.poll(Duration::from_millis(200)) else {
                continue;
            };
            let message = message.map_err(|e| e.to_string())?;
            next = message.offset() + 1;
            let Some(key) = message.key().and_then(|k| std::str::from_utf8(k).ok()) else {
                continue;
            };
            match message.payload() {
                None => {
                    open.remove(key);
                }
                Some(payload) => {
                    open.insert(key.to_owned(), payload.to_vec());
                }
            }
        }
        Ok(open)
    }

    /// Every record of the topic, newest per key: alerts and member announcements.
    async fn records(&self) -> Result<BTreeMap<String, Vec<u8>>, ComponentError> {
        self.ensure_topic().await?;
        let mut config = client_config(&self.settings);
        config
            // Needed by librdkafka for a consumer; never joined and nothing is committed.
            .set("group.id", format!("{}-reader", self.topic))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest");
        let (topic, timeout) = (self.topic.clone(), self.timeout * 3);
        let reader = self.settings.cluster.clone();
        tokio::task::spawn_blocking(move || {
            KafkaAlertHandover::read_all(config, reader, topic, timeout)
        })
        .await
        .map_err(|e| self.fail("reader thread failed for", e))?
        .map_err(|e| self.fail("cannot read", e))
    }

    /// Writes `records` (key, value; no value is a tombstone) and waits until every one is
    /// confirmed (acks=all).
    async fn write(&self, records: &[(String, Option<Vec<u8>>)]) -> Result<(), ComponentError> {
        self.ensure_topic().await?;
        let mut sends = Vec::with_capacity(records.len());
        for (key, payload) in records {
            let mut record: FutureRecord<'_, str, Vec<u8>> =
                FutureRecord::to(&self.topic).key(key.as_str()).partition(0);
            if let Some(payload) = payload {
                record = record.payload(payload);
            }
            sends.push(
                self.producer
                    .send_result(record)
                    .map_err(|(e, _)| self.fail("cannot queue a record for", e))?,
            );
        }
        for send in sends {
            match send.await {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => return Err(self.fail("cannot write to", e)),
                Err(_) => return Err(self.fail("write abandoned for", "producer closed")),
            }
        }
        Ok(())
    }
}

/// Whether a key of the topic is a member announcement rather than an alert.
fn is_member_key(key: &str) -> bool {
    key.starts_with(MEMBER_KEY_PREFIX)
}

#[async_trait]
impl AlertHandover for KafkaAlertHandover {
    fn name(&self) -> &str {
        &self.name
    }

    async fn publish(&self, alerts: &[HandedAlert]) -> Result<(), ComponentError> {
        if alerts.is_empty() {
            return Ok(());
        }
        let mut records = Vec::with_capacity(alerts.len());
        for alert in alerts {
            let payload = match &alert.record {
                Some(record) => Some(
                    serde_json::to_vec(&Stored {
                        cluster: alert.cluster.clone(),
                        group: alert.group.clone(),
                        alert: record.clone(),
                    })
                    .map_err(|e| self.fail("cannot encode a record for", e))?,
                ),
                None => None,
            };
            records.push((alert.id.clone(), payload));
        }
        // Every record is confirmed before the changes count as published.
        self.write(&records).await
    }

    async fn collect(
        &self,
        cluster: &str,
        offsets_partitions: &[u32],
        partition_count: u32,
    ) -> Result<Vec<HandedAlert>, ComponentError> {
        let open = self
            .records()
            .await?
            .into_iter()
            .filter(|(key, _)| !is_member_key(key))
            .filter_map(|(key, payload)| match serde_json::from_slice::<Stored>(&payload) {
                Ok(stored) => Some((key, stored)),
                Err(e) => {
                    tracing::warn!(topic = %self.topic, %key, error = %e, "skipping an unreadable alert handover record");
                    None
                }
            });
        Ok(open
            .filter(|(_, s)| {
                s.cluster == cluster && owned_by(&s.group, offsets_partitions, partition_count)
            })
            .map(|(id, s)| HandedAlert {
                id,
                cluster: s.cluster,
                group: s.group,
                record: Some(s.alert),
            })
            .collect())
    }
}

#[async_trait]
impl MemberDirectory for KafkaAlertHandover {
    fn name(&self) -> &str {
        &self.name
    }

    async fn announce(&self, member: &Member) -> Result<(), ComponentError> {
        let payload =
            serde_json::to_vec(member).map_err(|e| self.fail("cannot encode a member for", e))?;
        self.write(&[(member_key(&member.cluster, &member.address), Some(payload))])
            .await
    }

    async fn withdraw(&self, cluster: &str, address: &str) -> Result<(), ComponentError> {
        self.write(&[(member_key(cluster, address), None)]).await
    }

    async fn members(&self, cluster: &str) -> Result<Vec<Member>, ComponentError> {
        Ok(self
            .records()
            .await?
            .into_iter()
            .filter(|(key, _)| is_member_key(key))
            .filter_map(|(key, payload)| match serde_json::from_slice::<Member>(&payload) {
                Ok(member) => Some(member),
                Err(e) => {
                    tracing::warn!(topic = %self.topic, %key, error = %e, "skipping an unreadable member announcement");
                    None
                }
            })
            .filter(|m| m.cluster == cluster)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_keys_are_told_from_incident_ids() {
        assert!(is_member_key(&member_key("live", "http://10.0.0.7:8000")));
        assert!(!is_member_key("lag-above:live/orders"));
    }
}
