//! [`KafkaSource`]: the [`OffsetSource`] of one Kafka cluster, in every mode.

use crate::admin::AdminConnection;
use crate::client;
use crate::client::{Connection, QuietContext};
use crate::error::KafkaError;
use crate::interest::TopicInterest;
use crate::jitter::Jitter;
use crate::membership::{Change, Membership, Protocol};
use crate::offsets_topic::stream::{OffsetsStream, StreamStart};
use crate::reader::{Reader, ReaderSettings, Scope};
use crate::stats::{KafkaSourceStats, Stats};
use crate::wire::{WireClient, WireSettings};
use lagwatch_component::{ComponentError, FromConfig, OffsetSource, SourceContext, async_trait};
use lagwatch_config::KafkaSourceConfig;
use lagwatch_config::kafka::{CoordinationProtocol, KafkaMode, OffsetsTopicStart};
use lagwatch_core::Event;
use lagwatch_core::filter::{FilterError, NameFilter};
use lagwatch_core::sharding::Ownership;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// An [`OffsetSource`] reading one Kafka cluster; see the [crate documentation](crate).
#[derive(Debug)]
pub struct KafkaSource {
    name: String,
    cluster: String,
    config: KafkaSourceConfig,
    groups: NameFilter,
    topics: NameFilter,
    stats: Arc<Stats>,
    /// The batched committed-offset path (`wire`); `None` keeps librdkafka's
    /// one-group-per-call path.
    wire: Option<Arc<WireClient>>,
}

fn filter(
    cluster: &str,
    allow: &str,
    deny: &str,
    keys: (&str, &str),
) -> Result<NameFilter, KafkaError> {
    NameFilter::new(Some(allow), Some(deny)).map_err(|e: FilterError| KafkaError::Config {
        cluster: cluster.to_owned(),
        key: if e.pattern == allow { keys.0 } else { keys.1 }.to_owned(),
        reason: format!("invalid regular expression {:?}: {}", e.pattern, e.source),
    })
}

impl FromConfig for KafkaSource {
    type Config = KafkaSourceConfig;

    /// A source for `config`, named `kafka[<cluster>]`. The cluster name is
    /// `config.cluster`, or `name` (the section's name) when that is empty.
    ///
    /// # Errors
    /// A permanent [`ComponentError`] (`source.kafka`) whose source is the
    /// [`KafkaError::Config`] for an invalid allow or deny list, or a `librdkafka`
    /// pass-through property librdkafka does not know or whose value it refuses (the error
    /// names the key, never the value).
    fn from_config(name: &str, config: &KafkaSourceConfig) -> Result<KafkaSource, ComponentError> {
        KafkaSource::build(config.clone(), name)
            .map_err(|e| ComponentError::permanent("source.kafka", e.to_string()).with_source(e))
    }
}

impl KafkaSource {
    fn build(config: KafkaSourceConfig, default_cluster: &str) -> Result<KafkaSource, KafkaError> {
        let cluster = if config.cluster.trim().is_empty() {
            default_cluster.to_owned()
        } else {
            config.cluster.clone()
        };
        let groups = filter(
            &cluster,
            &config.group_allowlist,
            &config.group_denylist,
            ("group_allowlist", "group_denylist"),
        )?;
        let topics = filter(
            &cluster,
            &config.topic_allowlist,
            &config.topic_denylist,
            ("topic_allowlist", "topic_denylist"),
        )?;
        // Before any client is built: librdkafka's message for a bad property quotes its value.
        client::check_passthrough(&config).map_err(|(key, reason)| KafkaError::Config {
            cluster: cluster.clone(),
            key,
            reason,
        })?;
        let wire = if config.batched_offsets {
            match WireSettings::from_config(&config) {
                Ok(settings) => Some(Arc::new(WireClient::new(settings))),
                Err(reason) => {
                    tracing::info!(cluster = %cluster, %reason, "batched committed-offset reads are not possible with these settings: reading them one group at a time through librdkafka");
                    None
                }
            }
        } else {
            None
        };
        Ok(KafkaSource {
            name: format!("kafka[{cluster}]"),
            cluster,
            config,
            groups,
            topics,
            stats: Arc::new(Stats::default()),
            wire,
        })
    }

    /// The cluster name events carry.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// What the source has done so far.
    pub fn stats(&self) -> KafkaSourceStats {
        self.stats.snapshot()
    }

    fn connect(&self) -> Result<Arc<Connection>, KafkaError> {
        let config = client::client_config(&self.config);
        AdminConnection::new_with_context(&config, QuietContext::new(&self.cluster))
            .map(Arc::new)
            .map_err(|e| KafkaError::Config {
                cluster: self.cluster.clone(),
                key: "librdkafka".into(),
                reason: client::redact(&e.to_string(), &self.config),
            })
    }

    fn reader(
        &self,
        conn: Arc<Connection>,
        ownership: Ownership,
        interest: TopicInterest,
    ) -> Reader {
        Reader::new(
            conn,
            ReaderSettings {
                cluster: self.cluster.clone(),
                timeout: self.config.request_timeout,
                topic_refresh: self.config.topic_refresh,
                concurrency: self.config.concurrency,
                groups: self.groups.clone(),
                topics: self.topics.clone(),
                ownership,
                wire: self.wire.clone(),
                interest,
            },
            Arc::clone(&self.stats),
        )
    }

    /// Reads the whole cluster once through the Admin API — broker offsets, groups, members
    /// and committed offsets — and returns the events, as one `admin` cycle would send them.
    /// Used by `lagwatch check`.
    ///
    /// # Errors
    /// The first failure (the caller adds which cluster it was about).
    pub async fn read_once(&self) -> Result<Vec<Event>, KafkaError> {
        let conn = self.connect()?;
        let mut reader = self.reader(conn, Ownership::everything(), TopicInterest::default());
        reader
            .read(Scope {
                describe: true,
                commits: true,
                polled: true,
            })
            .await
    }

    /// A reusable reader for several snapshots (see [`KafkaSource::read_once`]).
    ///
    /// # Errors
    /// [`KafkaError::Config`] when librdkafka refuses the client settings.
    pub fn snapshots(&self) -> Result<Snapshots, KafkaError> {
        Ok(Snapshots {
            reader: self.reader(
                self.connect()?,
                Ownership::everything(),
                TopicInterest::default(),
            ),
        })
    }

    fn cluster_error(&self, e: &KafkaError) -> String {
        format!("kafka cluster {:?}: {e}", self.cluster)
    }
}

/// Repeated full Admin API reads of one cluster, each sending only what changed since the
/// previous one (commits whose offset moved, owners that changed, deleted groups and topics).
pub struct Snapshots {
    reader: Reader,
}

impl std::fmt::Debug for Snapshots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshots").finish_non_exhaustive()
    }
}

impl Snapshots {
    /// Reads the cluster once more.
    ///
    /// # Errors
    /// The first failure of the read.
    pub async fn next(&mut self) -> Result<Vec<Event>, KafkaError> {
        self.reader
            .read(Scope {
                describe: true,
                commits: true,
                polled: true,
            })
            .await
    }
}

/// Health as last reported, so a change is sent (and logged) once.
struct Health {
    cluster: String,
    source: String,
    healthy: Option<bool>,
    /// What kind of failure was last reported (operation and error code): librdkafka's
    /// messages carry counters and timings, so the text itself changes from read to read.
    kind: Option<String>,
    since: Option<Instant>,
}

impl Health {
    fn ok(&mut self, events: &mut Vec<Event>) {
        if self.healthy != Some(true) {
            if self.healthy == Some(false) {
                tracing::info!(
                    source = %self.source,
                    cluster = %self.cluster,
                    stale_for = ?self.since.map(|s| s.elapsed()),
                    "cluster readable again"
                );
            }
            events.insert(
                0,
                Event::SourceHealth {
                    cluster: self.cluster.clone(),
                    healthy: true,
                    reason: None,
                },
            );
            self.healthy = Some(true);
            self.kind = None;
            self.since = None;
        }
    }

    fn failed(&mut self, reason: String, kind: String) -> Option<Event> {
        let changed = self.healthy != Some(false) || self.kind.as_deref() != Some(&kind);
        if !changed {
            return None;
        }
        tracing::error!(source = %self.source, "{reason}; data of this cluster is stale until it can be read again");
        if self.healthy != Some(false) {
            self.since = Some(Instant::now());
        }
        self.healthy = Some(false);
        self.kind = Some(kind);
        Some(Event::SourceHealth {
            cluster: self.cluster.clone(),
            healthy: false,
            reason: Some(reason),
        })
    }
}

#[async_trait]
impl OffsetSource for KafkaSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn healthcheck(&self) -> Result<(), ComponentError> {
        let conn = self.connect().map_err(|e| {
            ComponentError::permanent(self.name.clone(), self.cluster_error(&e)).with_source(e)
        })?;
        let timeout = self.config.request_timeout;
        crate::reader::blocking(move || Ok(crate::metadata::read(&conn, timeout)?))
            .await
            .map(|_| ())
            .map_err(|e| {
                ComponentError::transient(self.name.clone(), self.cluster_error(&e)).with_source(e)
            })
    }

    async fn run(&self, ctx: SourceContext) -> Result<(), ComponentError> {
        let conn = self.connect().map_err(|e| {
            ComponentError::permanent(self.name.clone(), self.cluster_error(&e)).with_source(e)
        })?;
        tracing::info!(
            source = %self.name,
            mode = self.config.mode.as_str(),
            settings = %client::describe(&self.config),
            offset_refresh = ?self.config.offset_refresh,
            topic_refresh = ?self.config.topic_refresh,
            "kafka source starting"
        );
        // Several instances sharing the cluster: join them before the first read, so that
        // it reads only this instance's groups.
        let mut membership = match self.join_coordination(&ctx).await {
            Ok(joined) => joined,
            Err(e) => {
                return Err(
                    ComponentError::permanent(self.name.clone(), self.cluster_error(&e))
                        .with_source(e),
                );
            }
        };
        let ownership = membership
            .as_ref()
            .map_or_else(Ownership::everything, |m| m.ownership().clone());
        // Sharing the cluster, broker offsets are read only for the topics this instance's
        // groups consume (learnt from what the reader and the stream send) and those it
        // reports.
        let interest = TopicInterest::default();
        let mut reader = self.reader(conn, ownership.clone(), interest.clone());
        let mut health = Health {
            cluster: self.cluster.clone(),
            source: self.name.clone(),
            healthy: None,
            kind: None,
            since: None,
        };
        // Whether committed offsets come from the Admin API (else from the offsets topic).
        let poll_commits = Arc::new(AtomicBool::new(self.config.mode == KafkaMode::Admin));
        // Whether the source's view of the cluster is complete, so that a successful read
        // may be recorded: at once when polling; when streaming, once the offsets topic has
        // been read up to the end it had at the start (its history), or once commits fall
        // back to polling. Failed reads are recorded always.
        let view_complete = Arc::new(AtomicBool::new(self.config.mode == KafkaMode::Admin));
        let stream_token = ctx.shutdown.child_token();
        let _stop_stream = stream_token.clone().drop_guard();
        let mut stream_started = false;
        let streaming = self.config.mode != KafkaMode::Admin;
        if !streaming {
            self.stats.set_mode("admin");
        }

        // Reads start every `offset_refresh`; while commits are polled, each interval is
        // jittered (see `jitter`) so that polls do not lock onto the consumers' commit cycle.
        let mut jitter = Jitter::new(&self.cluster);
        let mut next_read = tokio::time::Instant::now();
        let mut last_describe: Option<Instant> = None;
        let mut last_read: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                biased;
                () = ctx.shutdown.cancelled() => return Ok(()),
                change = next_change(&mut membership) => {
                    let partition_count = ownership.partition_count().unwrap_or(1);
                    let event = match change {
                        Change::Revoked(partitions) => {
                            // Another instance has these groups now: they leave this one's
                            // model (not deleted in Kafka), and come back afresh if returned.
                            reader.forget_unowned();
                            Event::GroupsReleased {
                                cluster: self.cluster.clone(),
                                offsets_partitions: partitions,
                                partition_count,
                            }
                        }
                        Change::Assigned(partitions) => {
                            // New groups: read them (and their owners) now rather than at
                            // the next interval; the stream reads their partitions again
                            // from the start by itself. The runtime picks up the alerts
                            // their previous owner left open.
                            last_describe = None;
                            next_read = tokio::time::Instant::now();
                            Event::GroupsAcquired {
                                cluster: self.cluster.clone(),
                                offsets_partitions: partitions,
                                partition_count,
                            }
                        }
                    };
                    tokio::select! {
                        biased;
                        () = ctx.shutdown.cancelled() => return Ok(()),
                        sent = ctx.events.send_batch(vec![event]) => sent?,
                    }
                    continue;
                }
                () = interest.grown(), if ownership.is_coordinated() => {
                    // The stream found this instance's groups consuming new topics (a
                    // takeover, a new group): their end offsets soon, not one interval later.
                    let soon = last_read.map_or_else(tokio::time::Instant::now, |at| at + WANTED_TOPICS_GAP);
                    next_read = next_read.min(soon);
                    continue;
                }
                () = tokio::time::sleep_until(next_read) => {}
            }
            last_read = Some(tokio::time::Instant::now());
            let polling = poll_commits.load(Ordering::Relaxed);
            let interval = if polling {
                jitter.around(self.config.offset_refresh)
            } else {
                self.config.offset_refresh
            };
            // A read that overruns its interval delays the next one rather than queueing.
            next_read = (next_read + interval).max(tokio::time::Instant::now());
            // In auto mode the first read is a full Admin API snapshot; streaming starts at
            // the end of the offsets topic once it has been sent.
            let snapshot_first = self.config.mode == KafkaMode::Auto && !stream_started;
            // In offsets-topic mode the stream opens right after the first broker offsets; the
            // first group description follows at the next read.
            let opening_stream = self.config.mode == KafkaMode::OffsetsTopic && !stream_started;
            let describe_due = !opening_stream
                && (polling
                    || snapshot_first
                    || last_describe.is_none_or(|at| at.elapsed() >= self.config.group_refresh));
            let scope = Scope {
                describe: describe_due,
                commits: polling || snapshot_first,
                // Auto mode's first snapshot is followed by the stream, which keeps its
                // commits current: only reads that poll commits say as of when.
                polled: polling,
            };
            let read_started = Instant::now();
            let read = tokio::select! {
                biased;
                () = ctx.shutdown.cancelled() => return Ok(()),
                read = reader.read(scope) => read,
            };
            let took = read_started.elapsed();
            // This round's outcome for the read log: the reason as logged on failure.
            let mut outcome: Result<(), String> = Ok(());
            let mut batch = match read {
                Ok(mut events) => {
                    if describe_due {
                        last_describe = Some(Instant::now());
                    }
                    health.ok(&mut events);
                    events
                }
                Err(e) => {
                    self.stats.error();
                    outcome = Err(self.cluster_error(&e));
                    health
                        .failed(self.cluster_error(&e), e.kind())
                        .into_iter()
                        .collect()
                }
            };
            if streaming && !stream_started && health.healthy == Some(true) {
                let start = self.stream_start();
                match self.open_stream(start, ownership.clone()).await {
                    Ok(stream) => {
                        stream_started = true;
                        self.stats.set_mode("offsets-topic");
                        tracing::info!(source = %self.name, mode = "offsets-topic", start = ?start, "streaming commits from {}", self.config.offsets_topic);
                        // Broker offsets reach the model before any commit of the stream
                        // (a commit without them is parked, only the newest per partition).
                        // With a history read in auto mode, the snapshot's commits wait until
                        // the history is read and then fill only the partitions it missed.
                        let backlog = if self.config.mode == KafkaMode::Auto
                            && matches!(start, StreamStart::Since(_))
                        {
                            Backlog::hold(&mut batch)
                        } else {
                            Backlog::default()
                        };
                        tokio::select! {
                            biased;
                            () = ctx.shutdown.cancelled() => return Ok(()),
                            sent = ctx.events.send_batch(batch) => sent?,
                        }
                        self.spawn_stream(
                            stream,
                            backlog,
                            &ctx,
                            stream_token.clone(),
                            StreamLinks {
                                poll_commits: Arc::clone(&poll_commits),
                                view_complete: Arc::clone(&view_complete),
                                interest: ownership.is_coordinated().then(|| interest.clone()),
                            },
                        );
                        continue;
                    }
                    Err(e) if self.config.mode == KafkaMode::Auto => {
                        stream_started = true;
                        poll_commits.store(true, Ordering::Relaxed);
                        // This round was a full snapshot, and the next ones poll commits.
                        view_complete.store(true, Ordering::Relaxed);
                        self.stats.set_mode("admin");
                        tracing::warn!(source = %self.name, mode = "admin", error = %e, "offsets topic unreadable; polling committed offsets through the Admin API instead");
                    }
                    Err(e) => {
                        self.stats.error();
                        outcome = Err(self.cluster_error(&e));
                        batch.extend(health.failed(self.cluster_error(&e), e.kind()));
                    }
                }
            }
            match &outcome {
                Ok(()) if view_complete.load(Ordering::Relaxed) => {
                    ctx.record_read(&self.cluster, took, Ok(()));
                }
                Ok(()) => {}
                Err(reason) => ctx.record_read(&self.cluster, took, Err(reason)),
            }
            tracing::debug!(source = %self.name, events = batch.len(), stats = ?self.stats.snapshot(), "cycle done");
            tokio::select! {
                biased;
                () = ctx.shutdown.cancelled() => return Ok(()),
                sent = ctx.events.send_batch(batch) => sent?,
            }
        }
    }
}

/// The next change of this instance's share of the groups; never, when it works alone.
async fn next_change(membership: &mut Option<Membership>) -> Change {
    match membership {
        Some(m) => match m.next_change().await {
            Some(change) => change,
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

/// The partition count of the offsets topic `topic`.
async fn offsets_topic_partitions(
    config: rdkafka::ClientConfig,
    cluster: &str,
    topic: &str,
    timeout: Duration,
) -> Result<u32, KafkaError> {
    use rdkafka::consumer::{BaseConsumer, Consumer as _};
    let unreadable = |reason: String| KafkaError::OffsetsTopic {
        topic: topic.to_owned(),
        reason,
    };
    let consumer: BaseConsumer<QuietContext> = config
        .create_with_context(QuietContext::new(cluster))
        .map_err(|e| unreadable(format!("cannot create a client: {e}")))?;
    let wanted = topic.to_owned();
    let metadata =
        tokio::task::spawn_blocking(move || consumer.fetch_metadata(Some(&wanted), timeout))
            .await
            .map_err(|e| KafkaError::Internal(format!("worker thread failed: {e}")))?
            .map_err(|e| unreadable(e.to_string()))?;
    let count = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())
        .map_or(0, |t| t.partitions().len());
    match u32::try_from(count) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(unreadable("no partitions in the cluster's metadata".into())),
    }
}

/// What the offsets-topic stream task shares with the source's read loop.
struct StreamLinks {
    /// Set when the stream fails in `auto` mode: commits are polled from then on.
    poll_commits: Arc<AtomicBool>,
    /// Set once the stream has read the history (the view of the cluster is complete).
    view_complete: Arc<AtomicBool>,
    /// When the cluster is shared: the topics this instance's groups consume, which the
    /// stream's commits add to.
    interest: Option<TopicInterest>,
}

/// The shortest time between two reads that new wanted topics bring forward.
const WANTED_TOPICS_GAP: Duration = Duration::from_secs(1);

/// How long the history read at start may take before the held snapshot commits are sent
/// anyway.
const HISTORY_DEADLINE: Duration = Duration::from_secs(120);

/// What `auto` mode holds back while the history of the offsets topic is read at start: the
/// Admin API snapshot's commits (sent afterwards for the partitions the history did not
/// cover) and its owners (sent again for groups the history deleted: they exist now).
#[derive(Debug, Default)]
struct Backlog {
    commits: Vec<Event>,
    members: Vec<Event>,
    /// (group, topic, partition) with a commit or an offset deletion in the history.
    covered: BTreeSet<(String, String, i32)>,
    /// Groups a tombstone in the history deleted.
    deleted: BTreeSet<String>,
}

impl Backlog {
    /// Takes the commits out of `batch` and keeps a copy of its owners.
    fn hold(batch: &mut Vec<Event>) -> Backlog {
        let (commits, rest): (Vec<Event>, Vec<Event>) = std::mem::take(batch)
            .into_iter()
            .partition(|e| matches!(e, Event::Commit { .. }));
        *batch = rest;
        let members = batch
            .iter()
            .filter(|e| matches!(e, Event::Members { .. }))
            .cloned()
            .collect();
        Backlog {
            commits,
            members,
            ..Backlog::default()
        }
    }

    fn is_empty(&self) -> bool {
        self.commits.is_empty() && self.members.is_empty()
    }

    /// Notes what a batch of the history covers.
    fn observe(&mut self, batch: &[Event]) {
        for event in batch {
            match event {
                Event::Commit {
                    group,
                    topic,
                    partition,
                    ..
                } => {
                    self.covered
                        .insert((group.clone(), topic.clone(), *partition));
                }
                Event::GroupDeleted { group, .. } => {
                    self.covered.retain(|(g, _, _)| g != group);
                    self.deleted.insert(group.clone());
                }
                // The history is newer than the snapshot: a deleted offset stays deleted
                // unless a later commit in the history covers it again.
                Event::OffsetDeleted {
                    group,
                    topic,
                    partition,
                    ..
                } => {
                    self.covered
                        .insert((group.clone(), topic.clone(), *partition));
                }
                _ => {}
            }
        }
    }

    /// What is still to send once the history is read.
    fn release(self) -> Vec<Event> {
        let Backlog {
            commits,
            members,
            covered,
            deleted,
        } = self;
        let mut out: Vec<Event> = members
            .into_iter()
            .filter(|e| matches!(e, Event::Members { group, .. } if deleted.contains(group)))
            .collect();
        out.extend(commits.into_iter().filter(|e| match e {
            Event::Commit {
                group,
                topic,
                partition,
                ..
            } => !covered.contains(&(group.clone(), topic.clone(), *partition)),
            _ => true,
        }));
        out
    }
}

impl KafkaSource {
    /// Where streaming starts: the whole topic for `offsets-topic` mode from `earliest`,
    /// else `history` back from now (the end when `history` is `0s`).
    fn stream_start(&self) -> StreamStart {
        match (self.config.mode, self.config.offsets_topic_start) {
            (KafkaMode::OffsetsTopic, OffsetsTopicStart::Earliest) => StreamStart::Earliest,
            _ => StreamStart::lookback(crate::reader::now_ms(), self.config.history),
        }
    }

    /// Opens the offsets topic at `start`, keeping the groups `ownership` gives this
    /// instance.
    async fn open_stream(
        &self,
        start: StreamStart,
        ownership: Ownership,
    ) -> Result<OffsetsStream, KafkaError> {
        OffsetsStream::open(
            client::client_config(&self.config),
            &self.config,
            &self.config.offsets_topic,
            start,
            self.cluster.clone(),
            self.groups.clone(),
            self.topics.clone(),
            ownership,
            Arc::clone(&self.stats),
            self.config.request_timeout,
        )
        .await
    }

    /// Joins the instances sharing this cluster (`coordination_group`) and waits, for at
    /// most the session timeout and a few seconds more, for the first assignment; `None`
    /// when this instance works alone.
    ///
    /// # Errors
    /// [`KafkaError::OffsetsTopic`] when the offsets topic's partitions cannot be counted;
    /// [`KafkaError::Internal`] when the member cannot be created.
    async fn join_coordination(
        &self,
        ctx: &SourceContext,
    ) -> Result<Option<Membership>, KafkaError> {
        let group = self.config.coordination_group.clone();
        if group.is_empty() {
            return Ok(None);
        }
        let topic = self.config.offsets_topic.clone();
        let partitions = offsets_topic_partitions(
            client::client_config(&self.config),
            &self.cluster,
            &topic,
            self.config.request_timeout,
        )
        .await?;
        let mut membership = Membership::join(
            client::client_config(&self.config),
            &self.cluster,
            &group,
            &topic,
            partitions,
            match self.config.coordination_protocol {
                CoordinationProtocol::Classic => Protocol::Classic {
                    session_timeout: self.config.coordination_session_timeout,
                },
                CoordinationProtocol::Consumer => Protocol::Consumer,
            },
        )?;
        tracing::info!(source = %self.name, coordination_group = %group, protocol = self.config.coordination_protocol.as_str(), offsets_partitions = partitions, "joining the instances that share this cluster");
        let session = match self.config.coordination_protocol {
            CoordinationProtocol::Classic => self.config.coordination_session_timeout,
            // The brokers' default `group.consumer.session.timeout.ms`.
            CoordinationProtocol::Consumer => Duration::from_secs(45),
        };
        let wait = session + Duration::from_secs(10);
        tokio::select! {
            () = ctx.shutdown.cancelled() => {}
            first = tokio::time::timeout(wait, membership.next_change()) => match first {
                Ok(Some(change)) => {
                    tracing::info!(source = %self.name, owned = ?membership.ownership().assigned(), "first share of the cluster's groups");
                    if let Change::Assigned(owned) = change {
                        let acquired = Event::GroupsAcquired {
                            cluster: self.cluster.clone(),
                            offsets_partitions: owned,
                            partition_count: partitions,
                        };
                        // Fails only when the pipeline is stopping, which the caller sees.
                        let _ = ctx.events.send_batch(vec![acquired]).await;
                    }
                }
                _ => {
                    tracing::warn!(source = %self.name, coordination_group = %group, "no offsets-topic partition assigned yet; reading no group until one is");
                    // Tells the runtime the cluster is shared, so this instance reports none
                    // of its topics either.
                    let nothing = Event::GroupsAcquired {
                        cluster: self.cluster.clone(),
                        offsets_partitions: Vec::new(),
                        partition_count: partitions,
                    };
                    let _ = ctx.events.send_batch(vec![nothing]).await;
                }
            },
        }
        Ok(Some(membership))
    }

    /// Spawns the task that streams the offsets topic until `token` is cancelled, sending
    /// `backlog` once the stream has caught up. When the stream later fails in `auto` mode,
    /// commits fall back to polling.
    ///
    /// Once the stream has read every partition up to the end it had when opened, the view
    /// of the cluster is complete: `view_complete` is set and the first successful read is
    /// recorded at once (its duration: the history read); the broker-offsets rounds record
    /// the following ones.
    fn spawn_stream(
        &self,
        mut stream: OffsetsStream,
        backlog: Backlog,
        ctx: &SourceContext,
        token: CancellationToken,
        links: StreamLinks,
    ) {
        let StreamLinks {
            poll_commits,
            view_complete,
            interest,
        } = links;
        let reads = ctx.clone();
        let cluster = self.cluster.clone();
        let events = ctx.events.clone();
        let name = self.name.clone();
        let auto = self.config.mode == KafkaMode::Auto;
        let stats = Arc::clone(&self.stats);
        tokio::spawn(async move {
            let mut backlog = (!backlog.is_empty()).then_some(backlog);
            let started = Instant::now();
            let deadline = tokio::time::Instant::now() + HISTORY_DEADLINE;
            loop {
                let batch = tokio::select! {
                    biased;
                    () = token.cancelled() => return,
                    batch = stream.next_batch() => Some(batch),
                    () = tokio::time::sleep_until(deadline), if backlog.is_some() => None,
                };
                let mut batch = match batch {
                    Some(Ok(batch)) => batch,
                    None => {
                        tracing::warn!(source = %name, "the offsets topic's history is not read after {HISTORY_DEADLINE:?}; sending the snapshot's commits for the partitions not seen yet");
                        Vec::new()
                    }
                    Some(Err(e)) if auto => {
                        poll_commits.store(true, Ordering::Relaxed);
                        view_complete.store(true, Ordering::Relaxed);
                        stats.set_mode("admin");
                        tracing::warn!(source = %name, mode = "admin", error = %e, "offsets topic stream failed; polling committed offsets through the Admin API instead");
                        // The snapshot's commits still count.
                        if let Some(held) = backlog.take() {
                            let _ = events.send_batch(held.commits).await;
                        }
                        return;
                    }
                    Some(Err(e)) => {
                        stats.error();
                        tracing::warn!(source = %name, error = %e, "reading the offsets topic failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                // Recorded after this batch is sent, so the history is on its way to the model.
                let caught_up_now = stream.caught_up() && !view_complete.load(Ordering::Relaxed);
                if let Some(held) = backlog.as_mut() {
                    held.observe(&batch);
                    if stream.caught_up() || tokio::time::Instant::now() >= deadline {
                        if let Some(held) = backlog.take() {
                            tracing::info!(source = %name, took = ?started.elapsed(), "offsets topic history read");
                            batch.extend(held.release());
                        }
                    }
                }
                if let Some(interest) = &interest {
                    if interest.observe(&batch) {
                        interest.wake();
                    }
                }
                if !batch.is_empty() {
                    tokio::select! {
                        biased;
                        () = token.cancelled() => return,
                        sent = events.send_batch(batch) => if sent.is_err() { return },
                    }
                }
                if caught_up_now && !view_complete.swap(true, Ordering::Relaxed) {
                    reads.record_read(&cluster, started.elapsed(), Ok(()));
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health() -> Health {
        Health {
            cluster: "live".into(),
            source: "kafka[live]".into(),
            healthy: None,
            kind: None,
            since: None,
        }
    }

    #[test]
    fn a_failure_is_reported_once_until_its_kind_changes_or_the_cluster_recovers() {
        let mut h = health();
        let kind = "Metadata:_TRANSPORT".to_owned();
        assert!(
            h.failed("refused (after 0ms)".into(), kind.clone())
                .is_some()
        );
        assert!(
            h.failed("refused (after 3ms, 2 suppressed)".into(), kind.clone())
                .is_none()
        );
        let auth = "Metadata:_AUTHENTICATION".to_owned();
        assert!(h.failed("bad password".into(), auth).is_some());
        let mut events = vec![Event::TopicDeleted {
            cluster: "live".into(),
            topic: "t".into(),
        }];
        h.ok(&mut events);
        assert!(matches!(
            events[0],
            Event::SourceHealth { healthy: true, .. }
        ));
        h.ok(&mut events);
        assert_eq!(events.len(), 2, "fresh is reported once");
        assert!(h.failed("refused".into(), kind).is_some());
    }

    fn commit(group: &str, partition: i32, offset: i64) -> Event {
        Event::Commit {
            cluster: "live".into(),
            group: group.into(),
            topic: "t".into(),
            partition,
            offset,
            timestamp_ms: 1,
            order: None,
        }
    }

    fn members(group: &str) -> Event {
        Event::Members {
            cluster: "live".into(),
            group: group.into(),
            assignments: vec![],
        }
    }

    #[test]
    fn an_offset_the_history_deleted_is_not_sent_from_the_snapshot() {
        let mut batch = vec![commit("a", 0, 10), commit("a", 1, 20)];
        let mut backlog = Backlog::hold(&mut batch);
        backlog.observe(&[Event::OffsetDeleted {
            cluster: "live".into(),
            group: "a".into(),
            topic: "t".into(),
            partition: 1,
        }]);
        assert_eq!(backlog.release(), vec![commit("a", 0, 10)]);
    }

    #[test]
    fn the_snapshot_fills_only_what_the_history_did_not_cover() {
        let broker = Event::TopicDeleted {
            cluster: "live".into(),
            topic: "gone".into(),
        };
        let mut batch = vec![
            broker.clone(),
            members("a"),
            members("b"),
            commit("a", 0, 10),
            commit("a", 1, 20),
            commit("b", 0, 30),
        ];
        let mut backlog = Backlog::hold(&mut batch);
        assert_eq!(
            batch,
            vec![broker, members("a"), members("b")],
            "no commit goes first"
        );
        // The history has a's partition 0 and b's partition 0, then deletes b (an older
        // incarnation of it: the snapshot shows b exists now).
        backlog.observe(&[commit("a", 0, 9), commit("b", 0, 29)]);
        backlog.observe(&[Event::GroupDeleted {
            cluster: "live".into(),
            group: "b".into(),
        }]);
        assert_eq!(
            backlog.release(),
            vec![members("b"), commit("a", 1, 20), commit("b", 0, 30)]
        );
    }
}
