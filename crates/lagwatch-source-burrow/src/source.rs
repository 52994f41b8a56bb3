//! [`BurrowSource`]: polling Burrow servers and turning their answers into events.

use crate::BurrowError;
use crate::api::{ClusterList, ConsumerList, LagAnswer, TopicList, TopicOffsets};
use crate::glob::GlobFilter;
use lagwatch_component::{ComponentError, FromConfig, OffsetSource, SourceContext, async_trait};
use lagwatch_config::BurrowSourceConfig;
use lagwatch_core::secret::{Secret, redact_url};
use lagwatch_core::{BrokerOffset, Event, GroupReport, GroupStatus, MemberAssignment, TimestampMs};
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// An [`OffsetSource`] reading Burrow's v3 HTTP API; see the [crate documentation](crate).
#[derive(Debug)]
pub struct BurrowSource {
    name: String,
    interval: Duration,
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: Http,
    servers: Vec<Server>,
    concurrency: usize,
    clusters: GlobFilter,
    groups: GlobFilter,
    topics: GlobFilter,
    /// What each server reported last, by server index.
    state: Mutex<Vec<ServerState>>,
}

/// The HTTP client and the credentials every request carries.
#[derive(Debug, Clone)]
struct Http {
    client: reqwest::Client,
    auth: Option<(String, Secret)>,
}

/// `Debug` shows only the redacted URL.
#[derive(Clone)]
struct Server {
    /// Base URL of the API (the prefix included), without a trailing `/`.
    base: String,
    /// The same, for messages: credentials removed.
    shown: String,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("url", &self.shown).finish()
    }
}

/// What was last seen from one server, to send only changes and to notice deletions.
#[derive(Debug, Default)]
struct ServerState {
    /// Clusters announced healthy (and not since reported down).
    healthy: BTreeSet<String>,
    /// Clusters listed (and not since dropped from the server's list).
    known: BTreeSet<String>,
    /// Topics listed last, per cluster.
    topics: BTreeMap<String, BTreeSet<String>>,
    /// Groups listed last, per cluster.
    groups: BTreeMap<String, BTreeSet<String>>,
    /// Newest commit sent, per (cluster, group) and (topic, partition): (offset, timestamp).
    commits: BTreeMap<(String, String), SentCommits>,
    /// Owners sent, per (cluster, group).
    owners: BTreeMap<(String, String), Vec<MemberAssignment>>,
}

/// Newest commit sent per (topic, partition): (offset, timestamp).
type SentCommits = BTreeMap<(String, i32), (i64, TimestampMs)>;

use lagwatch_component::clock::wall_clock_ms;

/// Escapes one path segment (cluster, topic or group name).
fn segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Splits a server URL into its base API URL and the same without credentials.
fn server(url: &str, api_prefix: &str) -> Result<Server, BurrowError> {
    let bad = || BurrowError::BadUrl {
        url: redact_url(url),
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    if scheme != "http" && scheme != "https" {
        return Err(bad());
    }
    let host_end = rest.find('/').unwrap_or(rest.len());
    let (host, path) = rest.split_at(host_end);
    if host.is_empty() || host.contains(['?', '#']) {
        return Err(bad());
    }
    let path = match path.trim_end_matches('/') {
        "" => api_prefix.trim_end_matches('/'),
        p => p,
    };
    let origin = format!("{scheme}://{host}");
    Ok(Server {
        base: format!("{origin}{path}"),
        shown: format!("{}{path}", redact_url(&origin)),
    })
}

/// Most bytes of one Burrow answer read (8 MiB): enough for tens of thousands of groups or
/// topics in a list; a longer answer is an error naming the URL.
pub(crate) const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// Answer of a `GET`: status code and body.
struct Answer {
    status: u16,
    body: String,
}

impl Http {
    async fn get(&self, url: &str, shown: &str) -> Result<Answer, BurrowError> {
        let mut request = self.client.get(url);
        if let Some((user, password)) = &self.auth {
            request = request.basic_auth(user, Some(password.expose()));
        }
        let failed = |e: reqwest::Error| BurrowError::Request {
            url: shown.to_owned(),
            reason: e.without_url().to_string(),
        };
        let mut response = request.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let too_large = |e: lagwatch_core::text::BodyTooLarge| BurrowError::Request {
            url: shown.to_owned(),
            reason: e.to_string(),
        };
        let mut body = lagwatch_core::text::CappedBody::with_announced(
            MAX_ANSWER_BYTES,
            response.content_length(),
        )
        .map_err(too_large)?;
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            body.push(&chunk).map_err(too_large)?;
        }
        let body = String::from_utf8_lossy(&body.into_bytes()).into_owned();
        Ok(Answer { status, body })
    }

    /// `GET` expecting 200 and a JSON body of type `T`.
    async fn get_json<T: DeserializeOwned>(
        &self,
        url: &str,
        shown: &str,
    ) -> Result<T, BurrowError> {
        let answer = self.get(url, shown).await?;
        if answer.status != 200 {
            return Err(BurrowError::Request {
                url: shown.to_owned(),
                reason: format!("wrong response: {}", answer.status),
            });
        }
        decode(&answer.body, shown)
    }
}

fn decode<T: DeserializeOwned>(body: &str, shown: &str) -> Result<T, BurrowError> {
    serde_json::from_str(body).map_err(|e| BurrowError::Decode {
        url: shown.to_owned(),
        reason: e.to_string(),
    })
}

/// One read of one cluster during a poll, for [`SourceContext::record_read`].
#[derive(Debug)]
struct Read {
    /// The cluster, or the server's URL (credentials removed) while the server lists none.
    cluster: String,
    took: Duration,
    /// Why the read failed, as logged.
    outcome: Result<(), String>,
}

/// Result of one group's `/lag` request.
enum Verdict {
    Found(Box<GroupReport>),
    NotFound,
}

impl FromConfig for BurrowSource {
    type Config = BurrowSourceConfig;

    /// A source for the servers `config` names, named `burrow[<servers>]`.
    ///
    /// # Errors
    /// A permanent [`ComponentError`] (`source.burrow`) whose source is the [`BurrowError`]
    /// for an invalid glob or server URL, an `https` server or `tls_ca` without TLS support,
    /// an unreadable CA file, or an HTTP client that cannot be built.
    fn from_config(
        _name: &str,
        config: &BurrowSourceConfig,
    ) -> Result<BurrowSource, ComponentError> {
        BurrowSource::build(config)
            .map_err(|e| ComponentError::permanent("source.burrow", e.to_string()).with_source(e))
    }
}

impl BurrowSource {
    fn build(config: &BurrowSourceConfig) -> Result<BurrowSource, BurrowError> {
        let servers = config
            .servers
            .iter()
            .map(|url| server(url.expose(), &config.api_prefix))
            .collect::<Result<Vec<_>, _>>()?;
        let timeout = config.response_timeout.max(Duration::from_millis(1));
        let concurrency = config.concurrent_connections.max(1);
        let builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_max_idle_per_host(concurrency.div_ceil(2));
        let builder = tls(builder, config, &servers)?;
        let client = builder
            .build()
            .map_err(|e| BurrowError::Client(e.to_string()))?;
        let auth = (!config.username.is_empty())
            .then(|| (config.username.clone(), config.password.clone()));
        let name = format!(
            "burrow[{}]",
            servers
                .iter()
                .map(|s| s.shown.as_str())
                .collect::<Vec<_>>()
                .join(",")
        );
        Ok(BurrowSource {
            name,
            interval: config.interval.max(Duration::from_millis(10)),
            inner: Arc::new(Inner {
                http: Http { client, auth },
                concurrency,
                clusters: GlobFilter::new(&config.clusters_include, &config.clusters_exclude)?,
                groups: GlobFilter::new(&config.groups_include, &config.groups_exclude)?,
                topics: GlobFilter::new(&config.topics_include, &config.topics_exclude)?,
                state: Mutex::new(servers.iter().map(|_| ServerState::default()).collect()),
                servers,
            }),
        })
    }

    /// Time between two polls.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Polls every server once (servers in parallel) and returns the events, server by
    /// server, in the order described in the [crate documentation](crate). Errors are logged
    /// and leave out only the part of the answer they concern.
    pub async fn poll(&self) -> Vec<Event> {
        self.poll_reads().await.0
    }

    /// [`poll`](Self::poll), recording one read per cluster of each server in `ctx`.
    async fn poll_and_record(&self, ctx: &SourceContext) -> Vec<Event> {
        let (events, reads) = self.poll_reads().await;
        for read in reads {
            let outcome = read.outcome.as_ref().map(|_| ()).map_err(String::as_str);
            ctx.record_read(&read.cluster, read.took, outcome);
        }
        events
    }

    async fn poll_reads(&self) -> (Vec<Event>, Vec<Read>) {
        let mut tasks = JoinSet::new();
        for index in 0..self.inner.servers.len() {
            let inner = Arc::clone(&self.inner);
            tasks.spawn(async move { (index, inner.poll_server(index).await) });
        }
        let mut results = Vec::new();
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(result) => results.push(result),
                Err(e) => {
                    tracing::error!(source = %self.name, error = %e, "Burrow poll task failed")
                }
            }
        }
        results.sort_by_key(|(index, _)| *index);
        let mut events = Vec::new();
        let mut reads = Vec::new();
        for (_, (server_events, server_reads)) in results {
            events.extend(server_events);
            reads.extend(server_reads);
        }
        (events, reads)
    }
}

#[cfg(feature = "tls")]
fn tls(
    builder: reqwest::ClientBuilder,
    config: &BurrowSourceConfig,
    _servers: &[Server],
) -> Result<reqwest::ClientBuilder, BurrowError> {
    if config.tls_ca.as_os_str().is_empty() {
        return Ok(builder);
    }
    let path = config.tls_ca.display().to_string();
    let pem = std::fs::read(&config.tls_ca).map_err(|e| BurrowError::Ca {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let certificate = reqwest::Certificate::from_pem(&pem).map_err(|e| BurrowError::Ca {
        path,
        reason: e.to_string(),
    })?;
    Ok(builder.add_root_certificate(certificate))
}

#[cfg(not(feature = "tls"))]
fn tls(
    builder: reqwest::ClientBuilder,
    config: &BurrowSourceConfig,
    servers: &[Server],
) -> Result<reqwest::ClientBuilder, BurrowError> {
    if !config.tls_ca.as_os_str().is_empty() {
        return Err(BurrowError::NoTls {
            what: "tls_ca".into(),
        });
    }
    if let Some(s) = servers.iter().find(|s| s.base.starts_with("https://")) {
        return Err(BurrowError::NoTls {
            what: format!("server {}", s.shown),
        });
    }
    Ok(builder)
}

/// A cluster server `index` listed before and lists no more: forgets it, and — unless another
/// server still lists a cluster of that name — sends [`Event::GroupDeleted`] for every group and
/// [`Event::TopicDeleted`] for every topic last listed for it, so sinks stop reporting it.
fn forget_cluster(state: &mut [ServerState], index: usize, cluster: &str, events: &mut Vec<Event>) {
    let elsewhere = state
        .iter()
        .enumerate()
        .any(|(i, s)| i != index && s.known.contains(cluster));
    let Some(s) = state.get_mut(index) else {
        return;
    };
    s.known.remove(cluster);
    s.healthy.remove(cluster);
    s.commits.retain(|(c, _), _| c != cluster);
    s.owners.retain(|(c, _), _| c != cluster);
    let groups = s.groups.remove(cluster).unwrap_or_default();
    let topics = s.topics.remove(cluster).unwrap_or_default();
    if elsewhere {
        return;
    }
    tracing::info!(
        cluster,
        "Burrow no longer lists the cluster; its groups and topics are deleted"
    );
    for group in groups {
        events.push(Event::GroupDeleted {
            cluster: cluster.to_owned(),
            group,
        });
    }
    for topic in topics {
        events.push(Event::TopicDeleted {
            cluster: cluster.to_owned(),
            topic,
        });
    }
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, Vec<ServerState>> {
        // The state only remembers what was sent; a poisoned lock is taken over.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One server's events, and one [`Read`] per cluster it lists: the cluster list plus that
    /// cluster's topic and group lists (a list that cannot be read fails the read; a single
    /// topic or group that cannot be read is only skipped). When the cluster list itself cannot
    /// be read, every cluster the server listed before gets a failed read (the server's URL
    /// when it never listed one).
    async fn poll_server(self: Arc<Self>, index: usize) -> (Vec<Event>, Vec<Read>) {
        let Some(server) = self.servers.get(index).cloned() else {
            return (Vec::new(), Vec::new());
        };
        let mut events = Vec::new();
        let mut reads = Vec::new();
        let started = std::time::Instant::now();
        let listed = self
            .http
            .get_json::<ClusterList>(&server.base, &server.shown)
            .await;
        let clusters = match listed {
            Ok(list) => list.clusters,
            Err(e) => {
                tracing::warn!(error = %e, "Burrow server does not answer; its clusters are stale");
                let took = started.elapsed();
                let mut state = self.state();
                if let Some(s) = state.get_mut(index) {
                    let mut failed: Vec<String> = s.known.iter().cloned().collect();
                    if failed.is_empty() {
                        failed.push(server.shown.clone());
                    }
                    reads.extend(failed.into_iter().map(|cluster| Read {
                        cluster,
                        took,
                        outcome: Err(e.to_string()),
                    }));
                    for cluster in std::mem::take(&mut s.healthy) {
                        events.push(Event::SourceHealth {
                            cluster,
                            healthy: false,
                            reason: Some(e.to_string()),
                        });
                    }
                }
                return (events, reads);
            }
        };
        let list_took = started.elapsed();
        let mut clusters: Vec<String> = clusters
            .into_iter()
            .filter(|c| !c.trim().is_empty() && self.clusters.accepts(c))
            .collect();
        clusters.sort();
        clusters.dedup();
        {
            let mut state = self.state();
            let dropped: Vec<String> = state.get(index).map_or_else(Vec::new, |s| {
                s.known
                    .iter()
                    .filter(|c| clusters.binary_search(c).is_err())
                    .cloned()
                    .collect()
            });
            for cluster in dropped {
                forget_cluster(&mut state, index, &cluster, &mut events);
            }
            if let Some(s) = state.get_mut(index) {
                for cluster in &clusters {
                    s.known.insert(cluster.clone());
                    if s.healthy.insert(cluster.clone()) {
                        events.push(Event::SourceHealth {
                            cluster: cluster.clone(),
                            healthy: true,
                            reason: None,
                        });
                    }
                }
            }
        }
        for cluster in clusters {
            let cluster_started = std::time::Instant::now();
            let base = format!("{}/{}", server.base, segment(&cluster));
            let shown = format!("{}/{}", server.shown, segment(&cluster));
            let topics = self
                .poll_topics(index, &cluster, &base, &shown, &mut events)
                .await;
            let groups = self
                .poll_groups(index, &cluster, &base, &shown, &mut events)
                .await;
            reads.push(Read {
                took: list_took + cluster_started.elapsed(),
                outcome: topics.and(groups),
                cluster,
            });
        }
        (events, reads)
    }

    /// Fetches one of Burrow's name lists (topics or groups of a cluster) and keeps the
    /// non-empty names `filter` accepts; the error (after a warning) when the list cannot be
    /// read, so only that part of the cluster is skipped.
    async fn list_names<L: DeserializeOwned>(
        &self,
        cluster: &str,
        url: &str,
        shown: &str,
        what: &str,
        filter: &GlobFilter,
        names: impl FnOnce(L) -> Vec<String>,
    ) -> Result<BTreeSet<String>, String> {
        match self.http.get_json::<L>(url, shown).await {
            Ok(list) => Ok(names(list)
                .into_iter()
                .filter(|n| !n.trim().is_empty() && filter.accepts(n))
                .collect()),
            Err(e) => {
                tracing::warn!(cluster, error = %e, "cannot list Burrow's {what}; skipped");
                Err(e.to_string())
            }
        }
    }

    async fn poll_topics(
        &self,
        index: usize,
        cluster: &str,
        base: &str,
        shown: &str,
        events: &mut Vec<Event>,
    ) -> Result<(), String> {
        let url = format!("{base}/topic");
        let shown_list = format!("{shown}/topic");
        let topics = self
            .list_names(
                cluster,
                &url,
                &shown_list,
                "topics",
                &self.topics,
                |l: TopicList| l.topics,
            )
            .await?;
        let fetched = self
            .fetch_all(topics.iter().cloned(), |topic| {
                let url = format!("{url}/{}", segment(topic));
                let shown = format!("{shown_list}/{}", segment(topic));
                move |http: Http| async move { http.get_json::<TopicOffsets>(&url, &shown).await }
            })
            .await;
        let observed_ms = wall_clock_ms();
        for (topic, result) in fetched {
            match result {
                Ok(answer) => {
                    let offsets: Vec<BrokerOffset> = answer
                        .offsets
                        .iter()
                        .enumerate()
                        .filter(|(_, o)| **o >= 0)
                        .map(|(p, &high_water)| BrokerOffset {
                            partition: i32::try_from(p).unwrap_or(i32::MAX),
                            high_water,
                            log_start: None,
                        })
                        .collect();
                    if offsets.is_empty() {
                        continue;
                    }
                    events.push(Event::BrokerOffsets {
                        cluster: cluster.to_owned(),
                        topic,
                        partition_count: u32::try_from(answer.offsets.len()).unwrap_or(u32::MAX),
                        offsets,
                        observed_ms,
                    });
                }
                Err(e) => tracing::warn!(cluster, topic, error = %e, "topic skipped"),
            }
        }
        let mut state = self.state();
        if let Some(s) = state.get_mut(index) {
            let before = s.topics.insert(cluster.to_owned(), topics.clone());
            for gone in before.unwrap_or_default().difference(&topics) {
                events.push(Event::TopicDeleted {
                    cluster: cluster.to_owned(),
                    topic: gone.clone(),
                });
            }
        }
        Ok(())
    }

    async fn poll_groups(
        &self,
        index: usize,
        cluster: &str,
        base: &str,
        shown: &str,
        events: &mut Vec<Event>,
    ) -> Result<(), String> {
        let url = format!("{base}/consumer");
        let shown_list = format!("{shown}/consumer");
        let groups = self
            .list_names(
                cluster,
                &url,
                &shown_list,
                "groups",
                &self.groups,
                |l: ConsumerList| l.consumers,
            )
            .await?;
        let fetched = self
            .fetch_all(groups.iter().cloned(), |group| {
                let url = format!("{url}/{}/lag", segment(group));
                let shown = format!("{shown_list}/{}/lag", segment(group));
                move |http: Http| async move {
                    let answer = http.get(&url, &shown).await?;
                    match answer.status {
                        200 => Ok(Verdict::Found(Box::new(
                            decode::<LagAnswer>(&answer.body, &shown)?.status,
                        ))),
                        404 => match decode::<LagAnswer>(&answer.body, &shown) {
                            Ok(a) if a.status.status == GroupStatus::NotFound => {
                                Ok(Verdict::NotFound)
                            }
                            _ => Err(BurrowError::Request {
                                url: shown,
                                reason: "wrong response: 404".into(),
                            }),
                        },
                        other => Err(BurrowError::Request {
                            url: shown,
                            reason: format!("wrong response: {other}"),
                        }),
                    }
                }
            })
            .await;
        let now = wall_clock_ms();
        let mut state = self.state();
        let Some(s) = state.get_mut(index) else {
            return Ok(());
        };
        let mut present = groups.clone();
        for (group, result) in fetched {
            match result {
                Ok(Verdict::Found(report)) => {
                    self.group_events(s, cluster, &group, *report, now, events);
                }
                Ok(Verdict::NotFound) => {
                    present.remove(&group);
                }
                Err(e) => tracing::warn!(cluster, group, error = %e, "group skipped"),
            }
        }
        let before = s.groups.insert(cluster.to_owned(), present.clone());
        for gone in before.unwrap_or_default().difference(&present) {
            let key = (cluster.to_owned(), gone.clone());
            s.commits.remove(&key);
            s.owners.remove(&key);
            events.push(Event::GroupDeleted {
                cluster: cluster.to_owned(),
                group: gone.clone(),
            });
        }
        Ok(())
    }

    /// Commits that changed, owners that changed, and the verdict of one group.
    fn group_events(
        &self,
        s: &mut ServerState,
        cluster: &str,
        group: &str,
        mut report: GroupReport,
        now: TimestampMs,
        events: &mut Vec<Event>,
    ) {
        let key = (cluster.to_owned(), group.to_owned());
        let sent = s.commits.entry(key.clone()).or_default();
        let mut owners = Vec::new();
        for p in &report.partitions {
            if !self.topics.accepts(&p.topic) {
                continue;
            }
            if let Some(end) = p.end {
                let newest = (end.offset, end.timestamp);
                let slot = (p.topic.clone(), p.partition);
                if sent.get(&slot) != Some(&newest) && end.offset >= 0 && end.timestamp >= 0 {
                    sent.insert(slot, newest);
                    events.push(Event::Commit {
                        cluster: cluster.to_owned(),
                        group: group.to_owned(),
                        topic: p.topic.clone(),
                        partition: p.partition,
                        offset: end.offset,
                        timestamp_ms: end.timestamp,
                        order: None,
                    });
                }
            }
            if !p.owner.is_empty() || !p.client_id.is_empty() {
                owners.push(MemberAssignment {
                    topic: p.topic.clone(),
                    partition: p.partition,
                    owner: p.owner.clone(),
                    client_id: p.client_id.clone(),
                });
            }
        }
        let previous = s.owners.get(&key);
        let changed = match previous {
            Some(before) => *before != owners,
            None => !owners.is_empty(),
        };
        if changed {
            s.owners.insert(key, owners.clone());
            events.push(Event::Members {
                cluster: cluster.to_owned(),
                group: group.to_owned(),
                assignments: owners,
            });
        }
        // Like Telegraf, the topic globs filter partition rows but not the group's totals.
        report.partitions.retain(|p| self.topics.accepts(&p.topic));
        report.worst_partition = report.partitions.iter().map(|p| p.status).max();
        report.evaluated_at = now;
        cluster.clone_into(&mut report.cluster);
        group.clone_into(&mut report.group);
        events.push(Event::GroupVerdict {
            cluster: cluster.to_owned(),
            group: group.to_owned(),
            report: Box::new(report),
        });
    }

    /// Runs one request per name, at most `concurrency` at once, and returns the results in
    /// name order.
    async fn fetch_all<T, F, Fut>(
        &self,
        names: impl Iterator<Item = String>,
        make: impl Fn(&str) -> F,
    ) -> Vec<(String, Result<T, BurrowError>)>
    where
        T: Send + 'static,
        F: FnOnce(Http) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, BurrowError>> + Send + 'static,
    {
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = JoinSet::new();
        let mut order = Vec::new();
        for (i, name) in names.enumerate() {
            let request = make(&name);
            let http = self.http.clone();
            let slots = Arc::clone(&slots);
            order.push(name);
            tasks.spawn(async move {
                let _slot = slots.acquire_owned().await;
                (i, request(http).await)
            });
        }
        let mut done: Vec<(usize, Result<T, BurrowError>)> = Vec::with_capacity(order.len());
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(result) => done.push(result),
                Err(e) => tracing::error!(error = %e, "Burrow request task failed"),
            }
        }
        done.sort_by_key(|(i, _)| *i);
        done.into_iter()
            .filter_map(|(i, result)| order.get(i).map(|name| (name.clone(), result)))
            .collect()
    }
}

#[async_trait]
impl OffsetSource for BurrowSource {
    fn name(&self) -> &str {
        &self.name
    }

    /// Asks every server for its cluster list; fails (transient) naming the first server
    /// that does not answer it.
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        for server in &self.inner.servers {
            self.inner
                .http
                .get_json::<ClusterList>(&server.base, &server.shown)
                .await
                .map_err(|e| ComponentError::transient(&self.name, e.to_string()))?;
        }
        Ok(())
    }

    /// Polls every `interval` until `ctx.shutdown` is cancelled (then returns `Ok`) or the
    /// pipeline stops receiving (then a [`Closed`](lagwatch_component::ErrorClass::Closed)
    /// error). Each poll's events go out as one batch, and each poll records one read per
    /// cluster of every server ([`SourceContext::record_read`]; see `poll_server`).
    async fn run(&self, ctx: SourceContext) -> Result<(), ComponentError> {
        tracing::debug!(source = %self.name, interval = ?self.interval, "Burrow source started");
        ctx.poll_every(self.interval, || self.poll_and_record(&ctx))
            .await?;
        tracing::debug!(source = %self.name, "Burrow source stopped");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_get_the_prefix_only_without_a_path() {
        let s = server("http://burrow:8000", "/v3/kafka").unwrap();
        assert_eq!(s.base, "http://burrow:8000/v3/kafka");
        let s = server("http://burrow:8000/", "/v3/kafka").unwrap();
        assert_eq!(s.base, "http://burrow:8000/v3/kafka");
        let s = server("https://u:pw@proxy/burrow/v3/kafka/", "/v3/kafka").unwrap();
        assert_eq!(s.base, "https://u:pw@proxy/burrow/v3/kafka");
        assert_eq!(s.shown, "https://proxy/burrow/v3/kafka");
        for bad in ["burrow:8000", "ftp://x", "http://", "http:///v3"] {
            assert!(server(bad, "/v3/kafka").is_err(), "{bad}");
        }
    }

    #[cfg(not(feature = "tls"))]
    #[test]
    fn https_without_tls_support_is_refused_up_front() {
        let config = BurrowSourceConfig {
            servers: vec!["https://user:pw@burrow:8000".into()],
            ..BurrowSourceConfig::default()
        };
        let error = BurrowSource::from_config("burrow", &config).unwrap_err();
        assert_eq!(
            error.to_string(),
            "source.burrow: server https://burrow:8000/v3/kafka needs TLS, which this build lacks (cargo feature \"tls\" of lagwatch-source-burrow)"
        );
    }

    #[cfg(feature = "tls")]
    #[test]
    fn an_unreadable_ca_file_is_named() {
        let config = BurrowSourceConfig {
            tls_ca: "/nonexistent/ca.pem".into(),
            ..BurrowSourceConfig::default()
        };
        let error = BurrowSource::from_config("burrow", &config)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("source.burrow: cannot use CA file /nonexistent/ca.pem: "),
            "{error}"
        );
    }

    #[tokio::test]
    async fn credentials_in_server_urls_never_show_in_errors_or_debug() {
        // A server that hangs up on every request.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                drop(socket);
            }
        });
        let config = BurrowSourceConfig {
            servers: vec![format!("http://burrowuser:burrowpw@127.0.0.1:{port}").into()],
            ..BurrowSourceConfig::default()
        };
        let source = BurrowSource::from_config("burrow", &config).unwrap();
        let err = source.healthcheck().await.unwrap_err().to_string();
        assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
        let debug = format!("{source:?} {config:?}");
        for shown in [&err, &debug, &source.name().to_owned()] {
            assert!(
                !shown.contains("burrowpw") && !shown.contains("burrowuser"),
                "{shown}"
            );
        }
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(segment("orders.eu-1_x"), "orders.eu-1_x");
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
    }
}
