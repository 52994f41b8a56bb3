//! One read of a cluster through the Admin API: topic metadata when due, broker offsets, and
//! (when asked) the groups, their members and their committed offsets.

use crate::admin::{AdminError, GroupKind, OffsetSpec};
use crate::client::Connection;
use crate::error::KafkaError;
use crate::groups::{GroupSnapshot, GroupTracker};
use crate::interest::TopicInterest;
use crate::stats::Stats;
use crate::topics::{TopicInfo, TopicTable};
use crate::wire::WireClient;
use lagwatch_core::filter::NameFilter;
use lagwatch_core::sharding::Ownership;
use lagwatch_core::{Event, MemberAssignment, TimestampMs};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// What one read covers besides broker offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scope {
    /// List and describe groups (members, owners, deleted groups).
    pub describe: bool,
    /// Fetch every group's committed offsets.
    pub commits: bool,
    /// Committed offsets are polled, not streamed: every group whose offsets were fetched
    /// also gets an [`Event::CommitsRead`] with the time of the fetch, so its time lag is
    /// estimated as of then (unchanged offsets send no commit).
    pub polled: bool,
}

/// One group's committed offsets: when they were fetched, and the offset per (topic,
/// partition).
type FetchedOffsets = (TimestampMs, BTreeMap<(String, i32), i64>);

/// Groups described per DescribeConsumerGroups call.
const DESCRIBE_BATCH: usize = 200;

/// The state kept between reads of one cluster.
pub(crate) struct Reader {
    pub(crate) conn: Arc<Connection>,
    cluster: String,
    timeout: Duration,
    topic_refresh: Duration,
    concurrency: usize,
    groups: NameFilter,
    ownership: Ownership,
    topic_filter: NameFilter,
    pub(crate) topics: TopicTable,
    pub(crate) tracker: GroupTracker,
    metadata_read: Option<Instant>,
    metadata_stale: bool,
    brokers: usize,
    leaders: usize,
    /// Log-start offsets from the newest earliest-offsets round.
    earliest: BTreeMap<(String, i32), i64>,
    stats: Arc<Stats>,
    wire: Option<Arc<WireClient>>,
    /// Share groups seen by the previous read (a group missing from a listing is deleted).
    share_groups: BTreeSet<String>,
    /// The topics this instance's groups consume (only these and the topics it reports
    /// get broker offsets when the cluster is shared).
    interest: TopicInterest,
}

/// The wall clock in ms.
pub(crate) use lagwatch_component::clock::wall_clock_ms as now_ms;

/// Runs blocking librdkafka work on the blocking pool.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, KafkaError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, KafkaError> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) => Err(KafkaError::Internal(format!("worker thread failed: {e}"))),
    }
}

/// Settings a [`Reader`] needs.
pub(crate) struct ReaderSettings {
    pub cluster: String,
    pub timeout: Duration,
    pub topic_refresh: Duration,
    pub concurrency: usize,
    pub groups: NameFilter,
    pub topics: NameFilter,
    /// The groups this instance owns (all of them unless instances share the cluster).
    pub ownership: Ownership,
    /// The batched committed-offset path, when the listener allows it.
    pub wire: Option<Arc<WireClient>>,
    /// The topics this instance's groups consume, shared with the offsets-topic stream.
    pub interest: TopicInterest,
}

impl Reader {
    pub(crate) fn new(
        conn: Arc<Connection>,
        settings: ReaderSettings,
        stats: Arc<Stats>,
    ) -> Reader {
        Reader {
            conn,
            topics: TopicTable::new(settings.cluster.clone(), settings.topics.clone()),
            tracker: GroupTracker::new(settings.cluster.clone(), settings.topics.clone()),
            topic_filter: settings.topics,
            cluster: settings.cluster,
            timeout: settings.timeout,
            topic_refresh: settings.topic_refresh,
            concurrency: settings.concurrency.max(1),
            groups: settings.groups,
            ownership: settings.ownership,
            metadata_read: None,
            metadata_stale: true,
            brokers: 0,
            leaders: 0,
            earliest: BTreeMap::new(),
            stats,
            wire: settings.wire,
            share_groups: BTreeSet::new(),
            interest: settings.interest,
        }
    }

    /// Forgets the groups this instance no longer owns (their release is sent by the
    /// caller), so that one coming back is read afresh.
    pub(crate) fn forget_unowned(&mut self) {
        self.tracker.forget_unowned(&self.ownership);
        self.interest.retain_owned(&self.ownership);
        let ownership = &self.ownership;
        self.share_groups.retain(|g| ownership.owns(g));
    }

    /// Every readable group's committed offsets in a few batched `OffsetFetch` requests per
    /// coordinator. `None` sends this read down librdkafka's one-group-per-call path: for
    /// good when the brokers are too old for it (logged once), for this read only after any
    /// other failure.
    async fn batched_offsets(
        &self,
        wire: &WireClient,
        groups: &[String],
    ) -> Option<BTreeMap<String, crate::wire::GroupOffsets>> {
        let before = wire.requests();
        let result = wire.committed_offsets(groups).await;
        self.stats.batched_requests(wire.requests() - before);
        match result {
            Ok(fetched) => Some(fetched),
            Err(e) if e.is_unsupported() => {
                if wire.disable() {
                    tracing::info!(cluster = %self.cluster, reason = %e, "batched committed-offset reads are not possible on this cluster: reading them one group at a time through librdkafka");
                }
                None
            }
            Err(e) => {
                tracing::debug!(cluster = %self.cluster, error = %e, "batched committed-offset read failed: this read goes through librdkafka");
                None
            }
        }
    }

    /// Reads the cluster once. Events come in the order the model wants them: deleted topics,
    /// broker offsets, then group events.
    pub(crate) async fn read(&mut self, scope: Scope) -> Result<Vec<Event>, KafkaError> {
        let started = Instant::now();
        self.stats.attempt();
        let mut events = Vec::new();
        let due = self.metadata_stale
            || self
                .metadata_read
                .is_none_or(|at| at.elapsed() >= self.topic_refresh);
        if due {
            self.refresh_metadata(&mut events).await?;
        }
        let read = self
            .read_broker_offsets(&mut events, due, &BTreeSet::new())
            .await?;
        if scope.describe || scope.commits {
            self.read_groups(scope, &mut events).await?;
        }
        self.read_share_groups(&mut events).await;
        if self.ownership.is_coordinated() && self.interest.observe(&events) {
            // Topics this read found consumed by this instance's groups: their end offsets
            // now rather than one interval later.
            self.read_broker_offsets(&mut events, false, &read).await?;
        }
        self.stats.cycle_done(started.elapsed());
        Ok(events)
    }

    /// Share groups (KIP-932), through the wire path only (librdkafka cannot list or describe
    /// them): one [`Event::ShareGroupOffsets`] per group, [`Event::GroupDeleted`] for a group
    /// gone since the previous read. A failed read is logged and skipped; the next read tries
    /// again, and nothing is taken as deleted meanwhile.
    async fn read_share_groups(&mut self, events: &mut Vec<Event>) {
        let Some(wire) = self.wire.clone().filter(|w| w.enabled()) else {
            return;
        };
        let before = wire.requests();
        let read = async {
            let listed = wire.list_share_groups().await?;
            let listed: Vec<String> = listed
                .into_iter()
                .filter(|g| self.groups.accepts(g) && self.ownership.owns(g))
                .collect();
            let described = if listed.is_empty() {
                Vec::new()
            } else {
                wire.describe_share_groups(&listed).await?
            };
            Ok::<_, crate::wire::WireError>((listed, described))
        };
        let result = read.await;
        self.stats.batched_requests(wire.requests() - before);
        let (listed, described) = match result {
            Ok(read) => read,
            Err(e) => {
                self.stats.error();
                tracing::debug!(cluster = %self.cluster, error = %e, "reading share groups failed");
                return;
            }
        };
        let observed_ms = now_ms();
        let listed: BTreeSet<String> = listed.into_iter().collect();
        for gone in self.share_groups.difference(&listed) {
            events.push(Event::GroupDeleted {
                cluster: self.cluster.clone(),
                group: gone.clone(),
            });
        }
        for g in described {
            let partitions = g
                .partitions
                .into_iter()
                .filter(|p| self.topic_filter.accepts(&p.topic))
                .collect();
            events.push(Event::ShareGroupOffsets {
                cluster: self.cluster.clone(),
                group: g.group,
                partitions,
                assignments: g.assignments,
                observed_ms,
            });
        }
        self.share_groups = listed;
    }

    async fn refresh_metadata(&mut self, events: &mut Vec<Event>) -> Result<(), KafkaError> {
        let conn = Arc::clone(&self.conn);
        let timeout = self.timeout;
        let read = blocking(move || Ok(crate::metadata::read(&conn, timeout)?)).await?;
        self.stats.requests(1);
        self.brokers = read.brokers;
        self.leaders = read.leaders;
        let deleted = self.topics.replace(
            read.topics.into_iter().map(|t| {
                (
                    t.name,
                    TopicInfo {
                        partition_count: t.partition_count,
                        with_leader: t.with_leader,
                    },
                )
            }),
            events,
        );
        for topic in &deleted {
            self.tracker.forget_topic(topic);
        }
        self.metadata_read = Some(Instant::now());
        self.metadata_stale = false;
        tracing::debug!(
            cluster = %self.cluster,
            topics = self.topics.len(),
            partitions = self.topics.partition_total(),
            deleted = deleted.len(),
            "topic metadata read"
        );
        Ok(())
    }

    /// The latest offsets of every led partition this instance wants (all of them unless
    /// the cluster is shared, see [`TopicInterest`]) but those of the topics in `skip`: one
    /// ListOffsets round (a request per leader broker). The earliest offsets (log start) move
    /// only with retention: they are read in a second round together with the topic metadata
    /// (`with_earliest`) and for partitions without one yet, and reused between. Returns the
    /// topics read when the cluster is shared (else nothing).
    async fn read_broker_offsets(
        &mut self,
        events: &mut Vec<Event>,
        with_earliest: bool,
        skip: &BTreeSet<String>,
    ) -> Result<BTreeSet<String>, KafkaError> {
        let mut partitions = self.topics.led_partitions();
        let coordinated = self.ownership.is_coordinated();
        if coordinated {
            let led = partitions.len();
            partitions
                .retain(|(t, _)| !skip.contains(t) && self.interest.wants(t, &self.ownership));
            tracing::debug!(cluster = %self.cluster, partitions = partitions.len(), led, consumed_topics = self.interest.consumed(), "broker offsets of this instance's topics");
        } else if !skip.is_empty() {
            partitions.retain(|(t, _)| !skip.contains(t));
        }
        // Only a shared cluster reads again what a read learnt (see `read`).
        let read: BTreeSet<String> = if coordinated {
            partitions.iter().map(|(t, _)| t.clone()).collect()
        } else {
            BTreeSet::new()
        };
        if partitions.is_empty() {
            return Ok(read);
        }
        let without_earliest: Vec<(String, i32)> = if with_earliest {
            partitions.clone()
        } else {
            partitions
                .iter()
                .filter(|p| !self.earliest.contains_key(*p))
                .cloned()
                .collect()
        };
        let earliest_round = !without_earliest.is_empty();
        let leaders = self.leaders.max(1);
        let conn = Arc::clone(&self.conn);
        let timeout = self.timeout;
        let (latest, earliest) = blocking(move || {
            let latest = conn.list_offsets(&partitions, OffsetSpec::Latest, timeout)?;
            let earliest = if earliest_round {
                Some(conn.list_offsets(&without_earliest, OffsetSpec::Earliest, timeout)?)
            } else {
                None
            };
            Ok((latest, earliest))
        })
        .await?;
        self.stats
            .requests(leaders * if earliest_round { 2 } else { 1 });
        let observed = now_ms();
        let mut ok = |list: Vec<crate::admin::PartitionOffset>| -> BTreeMap<(String, i32), i64> {
            let mut map = BTreeMap::new();
            for p in list {
                match p.offset {
                    Ok(offset) => {
                        map.insert((p.topic, p.partition), offset);
                    }
                    Err(e) => {
                        // A leader moved or a topic went away: read metadata again next time.
                        tracing::debug!(topic = %p.topic, partition = p.partition, error = %e, "no offset for partition");
                        self.metadata_stale = true;
                    }
                }
            }
            map
        };
        let latest = ok(latest);
        if let Some(earliest) = earliest {
            let earliest = ok(earliest);
            if with_earliest {
                // A full round: partitions gone from metadata are dropped with it.
                self.earliest = earliest;
            } else {
                self.earliest.extend(earliest);
            }
        }
        events.extend(
            self.topics
                .broker_offsets(&latest, &self.earliest, observed),
        );
        Ok(read)
    }

    async fn read_groups(
        &mut self,
        scope: Scope,
        events: &mut Vec<Event>,
    ) -> Result<(), KafkaError> {
        let conn = Arc::clone(&self.conn);
        let timeout = self.timeout;
        let (listed, partial) = blocking(move || Ok(conn.list_groups_partial(timeout)?)).await?;
        for error in &partial {
            self.stats.error();
            tracing::warn!(cluster = %self.cluster, %error, "a broker did not list its groups; no group is taken as deleted this time");
        }
        self.stats.requests(self.brokers.max(1));
        let groups: Vec<_> = listed
            .into_iter()
            .filter(|g| self.groups.accepts(&g.group) && self.ownership.owns(&g.group))
            .collect();
        let present: BTreeSet<String> = groups.iter().map(|g| g.group.clone()).collect();
        // librdkafka lists classic and KIP-848 consumer groups (share and streams groups never
        // appear); a kind it cannot tell is skipped rather than guessed.
        let readable: Vec<String> = groups
            .iter()
            .filter(|g| matches!(g.kind, GroupKind::Classic | GroupKind::Consumer))
            .map(|g| g.group.clone())
            .collect();
        self.stats
            .groups(groups.len(), groups.len() - readable.len());

        let mut members: BTreeMap<String, Vec<MemberAssignment>> = BTreeMap::new();
        if scope.describe {
            // Classic groups: one ListGroups + DescribeGroups per broker for all of them.
            // KIP-848 groups: DescribeConsumerGroups, which costs a FindCoordinator and a
            // ConsumerGroupDescribe per group.
            let classic: BTreeSet<&String> = groups
                .iter()
                .filter(|g| g.kind == GroupKind::Classic)
                .map(|g| &g.group)
                .collect();
            let modern: Vec<String> = groups
                .iter()
                .filter(|g| g.kind == GroupKind::Consumer)
                .map(|g| g.group.clone())
                .collect();
            let mut described = Vec::new();
            if !classic.is_empty() {
                let conn = Arc::clone(&self.conn);
                let all = blocking(move || Ok(conn.describe_classic_groups(timeout)?)).await?;
                self.stats.requests(2 * self.brokers.max(1));
                described.extend(all.into_iter().filter(|d| classic.contains(&d.group)));
            }
            for batch in modern.chunks(DESCRIBE_BATCH) {
                let conn = Arc::clone(&self.conn);
                let batch = batch.to_vec();
                let n = batch.len();
                described
                    .extend(blocking(move || Ok(conn.describe_groups(&batch, timeout)?)).await?);
                self.stats.requests(2 * n);
            }
            for d in described {
                if let Some(e) = &d.error {
                    self.stats.error();
                    tracing::debug!(cluster = %self.cluster, group = %d.group, error = %e, "describing group failed");
                    continue;
                }
                let owned = d
                    .members
                    .iter()
                    .flat_map(|m| {
                        m.assignment
                            .iter()
                            .map(|(topic, partition)| MemberAssignment {
                                topic: topic.clone(),
                                partition: *partition,
                                owner: owner_host(&m.host),
                                client_id: m.client_id.clone(),
                            })
                    })
                    .collect();
                members.insert(d.group, owned);
            }
        }

        let mut offsets: BTreeMap<String, FetchedOffsets> = BTreeMap::new();
        let batched = match &self.wire {
            Some(wire) if scope.commits && wire.enabled() => {
                self.batched_offsets(wire, &readable).await
            }
            _ => None,
        };
        if let Some(fetched) = batched {
            let fetched_ms = now_ms();
            for (group, answer) in fetched {
                match answer {
                    Ok(map) => {
                        offsets.insert(group, (fetched_ms, map));
                    }
                    Err(code) => {
                        self.stats.error();
                        tracing::debug!(cluster = %self.cluster, group = %group, code, "fetching committed offsets failed (Kafka error code)");
                    }
                }
            }
        } else if scope.commits {
            let mut pending = readable.iter().cloned();
            let mut running: JoinSet<(String, Result<_, AdminError>)> = JoinSet::new();
            loop {
                while running.len() < self.concurrency {
                    let Some(group): Option<String> = pending.next() else {
                        break;
                    };
                    let conn = Arc::clone(&self.conn);
                    running.spawn_blocking(move || {
                        let result = conn.committed_offsets(&group, timeout);
                        (group, result)
                    });
                }
                let Some(joined) = running.join_next().await else {
                    break;
                };
                // FindCoordinator + OffsetFetch.
                self.stats.requests(2);
                match joined {
                    Ok((group, Ok(list))) => {
                        let map = list
                            .into_iter()
                            .filter_map(|c| Some(((c.topic, c.partition), c.offset?)))
                            .collect();
                        offsets.insert(group, (now_ms(), map));
                    }
                    Ok((group, Err(e))) => {
                        self.stats.error();
                        tracing::debug!(cluster = %self.cluster, group = %group, error = %e, "fetching committed offsets failed");
                        if cluster_wide(&e) {
                            running.abort_all();
                            return Err(e.into());
                        }
                    }
                    Err(e) => {
                        return Err(KafkaError::Internal(format!("worker thread failed: {e}")));
                    }
                }
            }
        }

        let now = now_ms();
        for group in &readable {
            let (read_ms, offsets) = match offsets.remove(group) {
                Some((at, map)) if scope.polled && !map.is_empty() => (Some(at), map),
                Some((_, map)) => (None, map),
                None => (None, BTreeMap::new()),
            };
            let mut owned = members.remove(group);
            // A topic newer than the last metadata read: read metadata again next time, and
            // send these owners once the topic is known (the model keeps early commits, not
            // early owners).
            let unknown =
                |topic: &String| !self.topics.contains(topic) && self.topic_filter.accepts(topic);
            if offsets.keys().any(|(t, _)| unknown(t))
                || owned
                    .as_ref()
                    .is_some_and(|m| m.iter().any(|a| unknown(&a.topic)))
            {
                self.metadata_stale = true;
                if owned
                    .as_ref()
                    .is_some_and(|m| m.iter().any(|a| unknown(&a.topic)))
                {
                    owned = None;
                }
            }
            let snapshot = GroupSnapshot {
                offsets,
                members: owned,
            };
            self.tracker.update(group, snapshot, now, events);
            if let Some(read_ms) = read_ms {
                events.push(Event::CommitsRead {
                    cluster: self.cluster.clone(),
                    group: group.clone(),
                    read_ms,
                });
            }
        }
        if partial.is_empty() {
            self.tracker.retain(&present, events);
        }
        Ok(())
    }
}

/// Whether a per-group failure is really the cluster's (so the whole read failed).
fn cluster_wide(e: &AdminError) -> bool {
    use rdkafka::types::RDKafkaErrorCode as Code;
    e.is_auth_failure()
        || matches!(e, AdminError::TimedOut { .. })
        || matches!(
            e.kafka_code(),
            Some(Code::AllBrokersDown | Code::BrokerTransportFailure | Code::OperationTimedOut)
        )
}

/// Burrow shows owners as the client host librdkafka reports, e.g. `/127.0.0.1`.
fn owner_host(host: &str) -> String {
    host.to_owned()
}
