//! The [`LagSink`] and its background bulk writer.

use crate::EsError;
use crate::bulk::{Doc, ItemOutcome, chunk, is_retryable_status, parse_response};
use crate::client::{EsClient, ServerInfo};
use crate::index::IndexPattern;
use crate::spool::{FullPolicy, Spool};
use futures_util::StreamExt;
use lagwatch_component::{
    Ack, CancellationToken, ComponentError, FromConfig, LagSink, async_trait,
};
use lagwatch_config::ElasticsearchSinkConfig;
use lagwatch_config::elasticsearch::SpoolFullPolicy;
use lagwatch_core::Snapshot;
use lagwatch_core::measurement::{MeasurementOptions, measurements};
use rand::{Rng, SeedableRng};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, oneshot};

/// Counters of one sink, shared with its writer.
#[derive(Debug, Default)]
pub struct SinkStats {
    written: AtomicU64,
    dead_lettered: AtomicU64,
    retried: AtomicU64,
    requests: AtomicU64,
}

impl SinkStats {
    /// Documents Elasticsearch confirmed (created now or already present).
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }
    /// Documents refused for good and sent to the dead-letter file (or only logged).
    pub fn dead_lettered(&self) -> u64 {
        self.dead_lettered.load(Ordering::Relaxed)
    }
    /// Document sends repeated after a retryable failure.
    pub fn retried(&self) -> u64 {
        self.retried.load(Ordering::Relaxed)
    }
    /// `_bulk` requests sent.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

enum Job {
    Docs(Vec<Doc>, oneshot::Sender<Result<(), EsError>>),
    Flush(oneshot::Sender<()>),
}

/// Writes Telegraf-shaped documents to Elasticsearch or OpenSearch.
///
/// `write` hands the snapshot's documents to a background writer (started on first use,
/// inside the caller's tokio runtime) and acknowledges once every document is indexed,
/// already present, or refused for good and written to the dead-letter file. When
/// documents still fail after every retry the write fails with a transient error.
#[derive(Debug)]
pub struct ElasticsearchSink {
    name: String,
    writer: Arc<Writer>,
    pattern: IndexPattern,
    options: MeasurementOptions,
    tx: OnceLock<mpsc::Sender<Job>>,
    spool: Option<Arc<Spool>>,
    spooled: Arc<Notify>,
    drainer: OnceLock<()>,
    stop: CancellationToken,
}

impl Drop for ElasticsearchSink {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Docs(d, _) => write!(f, "Docs({})", d.len()),
            Job::Flush(_) => f.write_str("Flush"),
        }
    }
}

impl FromConfig for ElasticsearchSink {
    type Config = ElasticsearchSinkConfig;

    /// A sink named `elasticsearch[<name>]` for `config`. Does no I/O; see
    /// [`LagSink::healthcheck`].
    ///
    /// # Errors
    /// A permanent [`ComponentError`] whose source is the [`EsError`] for an invalid index
    /// pattern or data stream name, URL or CA file, or a spool directory that cannot be
    /// opened.
    fn from_config(
        name: &str,
        config: &ElasticsearchSinkConfig,
    ) -> Result<ElasticsearchSink, ComponentError> {
        let name = format!("elasticsearch[{name}]");
        ElasticsearchSink::build(&name, config.clone())
            .map_err(|e| ComponentError::permanent(&name, e.to_string()).with_source(e))
    }
}

impl ElasticsearchSink {
    fn build(name: &str, cfg: ElasticsearchSinkConfig) -> Result<ElasticsearchSink, EsError> {
        let pattern = IndexPattern::parse(&cfg.index_name, &cfg.default_tag_value)?;
        if cfg.data_stream {
            // The stream's name is the target of every document: no placeholders.
            lagwatch_config::elasticsearch::check_data_stream_name(&cfg.index_name).map_err(
                |reason| EsError::DataStream {
                    name: cfg.index_name.clone(),
                    reason: format!("index name {reason}"),
                },
            )?;
        }
        let client = EsClient::new(&cfg)?;
        let spool = if cfg.spool_dir.as_os_str().is_empty() {
            None
        } else {
            let policy = match cfg.spool_full_policy {
                SpoolFullPolicy::DropOldest => FullPolicy::DropOldest,
                _ => FullPolicy::DropNewest,
            };
            Some(Arc::new(Spool::open(
                &cfg.spool_dir,
                cfg.spool_max_bytes,
                policy,
            )?))
        };
        let options = MeasurementOptions {
            host: (!cfg.host.is_empty()).then(|| cfg.host.clone()),
            include_topics: cfg.topics,
            native_fields: cfg.native_fields,
        };
        Ok(ElasticsearchSink {
            name: name.to_owned(),
            writer: Arc::new(Writer {
                client,
                cfg,
                stats: SinkStats::default(),
            }),
            pattern,
            options,
            tx: OnceLock::new(),
            spool,
            spooled: Arc::new(Notify::new()),
            drainer: OnceLock::new(),
            stop: CancellationToken::new(),
        })
    }

    /// The disk spool, when `spool_dir` is set.
    pub fn spool(&self) -> Option<&Spool> {
        self.spool.as_deref()
    }

    /// Starts the task sending spooled documents (once; no-op without a spool).
    fn start_drainer(&self) {
        let Some(spool) = &self.spool else {
            return;
        };
        self.drainer.get_or_init(|| {
            let (writer, spool, spooled, stop) = (
                Arc::clone(&self.writer),
                Arc::clone(spool),
                Arc::clone(&self.spooled),
                self.stop.clone(),
            );
            tokio::spawn(supervise("spool drainer", self.stop.clone(), move || {
                drain(
                    Arc::clone(&writer),
                    Arc::clone(&spool),
                    Arc::clone(&spooled),
                    stop.clone(),
                )
            }));
        });
    }

    /// This sink's counters.
    pub fn stats(&self) -> &SinkStats {
        &self.writer.stats
    }

    /// The HTTP client (for setup commands and tests).
    pub fn client(&self) -> &EsClient {
        &self.writer.client
    }

    /// The documents one snapshot becomes, in order.
    pub fn documents(&self, snapshot: &Snapshot) -> Vec<Doc> {
        measurements(snapshot, &self.options)
            .map(|m| Doc::from_measurement(&m, &self.pattern))
            .collect()
    }

    /// Product and version of the cluster.
    pub async fn detect(&self) -> Result<ServerInfo, EsError> {
        self.writer.client.detect().await
    }

    fn sender(&self) -> &mpsc::Sender<Job> {
        self.tx.get_or_init(|| {
            let (tx, rx) = mpsc::channel(64);
            // Shared, so a writer restarted after a panic takes over the same queue.
            let rx = Arc::new(tokio::sync::Mutex::new(rx));
            let writer = Arc::clone(&self.writer);
            tokio::spawn(supervise("bulk writer", self.stop.clone(), move || {
                Arc::clone(&writer).run(Arc::clone(&rx))
            }));
            tx
        })
    }

    /// In data stream mode, warns when the data stream does not exist yet: the first write
    /// creates it only if a composable template with `data_stream` matches its name, and
    /// otherwise creates a plain index of that name.
    async fn check_data_stream(&self) {
        let stream = &self.writer.cfg.index_name;
        let path = format!("/_data_stream/{stream}");
        match self
            .writer
            .client
            .json(reqwest::Method::GET, &path, None)
            .await
        {
            Ok((status, _, _)) if (200..300).contains(&status) => {}
            Ok((status, _, answer)) => tracing::warn!(
                sink = %self.name,
                data_stream = %stream,
                status,
                reason = %crate::client::short(&answer),
                "data stream not found: the first write creates it only if a composable \
                 template with data_stream matches its name (lagwatch es setup \
                 --data-stream), otherwise a plain index of that name"
            ),
            Err(e) => tracing::warn!(sink = %self.name, error = %e, "cannot check the data stream"),
        }
    }

    /// Writes `docs` and waits until each is indexed, present or dead-lettered.
    pub async fn write_docs(&self, docs: Vec<Doc>) -> Result<(), EsError> {
        if docs.is_empty() {
            return Ok(());
        }
        let (tx, rx) = oneshot::channel();
        self.sender()
            .send(Job::Docs(docs, tx))
            .await
            .map_err(|_| EsError::Closed)?;
        // The answer is lost only when the writer task died with these documents: a
        // transient failure (the supervisor restarts the writer), not a closed sink.
        rx.await.map_err(|_| EsError::WriterFailed)?
    }
}

#[async_trait]
impl LagSink for ElasticsearchSink {
    fn name(&self) -> &str {
        &self.name
    }

    async fn healthcheck(&self) -> Result<(), ComponentError> {
        let info = self
            .detect()
            .await
            .map_err(|e| e.into_component(&self.name))?;
        tracing::info!(
            sink = %self.name,
            url = %self.writer.client.shown_url(),
            flavor = ?info.flavor,
            version = %info.version,
            "elasticsearch sink connected"
        );
        if self.writer.cfg.data_stream {
            self.check_data_stream().await;
        }
        Ok(())
    }

    async fn write(&self, snapshot: &Snapshot) -> Result<Ack, ComponentError> {
        let docs = self.documents(snapshot);
        if let Some(spool) = &self.spool {
            let accepted = spool
                .append(&docs)
                .map_err(|e| e.into_component(&self.name))?;
            self.spooled.notify_one();
            self.start_drainer();
            return Ok(Ack { records: accepted });
        }
        let records = docs.len();
        self.write_docs(docs)
            .await
            .map_err(|e| e.into_component(&self.name))?;
        Ok(Ack { records })
    }

    async fn flush(&self) -> Result<(), ComponentError> {
        if let Some(spool) = &self.spool {
            // Give the drainer a bounded moment; what is left stays safely spooled.
            self.start_drainer();
            self.spooled.notify_one();
            let deadline = deadline_after(self.writer.cfg.timeout);
            while spool.pending_bytes() > 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            return Ok(());
        }
        let Some(tx) = self.tx.get() else {
            return Ok(());
        };
        let (done, wait) = oneshot::channel();
        if tx.send(Job::Flush(done)).await.is_err() {
            return Err(ComponentError::closed(&self.name));
        }
        wait.await.map_err(|_| ComponentError::closed(&self.name))
    }
}

/// Sends spooled documents in order until `stop`; a batch is committed only once every
/// document in it is indexed, present or dead-lettered.
async fn drain(
    writer: Arc<Writer>,
    spool: Arc<Spool>,
    spooled: Arc<Notify>,
    stop: CancellationToken,
) {
    let mut failures: u32 = 0;
    loop {
        if stop.is_cancelled() {
            return;
        }
        let (docs, cursor) = match spool.peek(writer.cfg.batch_max_docs, writer.cfg.batch_max_bytes)
        {
            Ok(next) => next,
            Err(e) => {
                tracing::error!(error = %e, "spool: cannot read");
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(writer.cfg.retry_max_backoff) => continue,
                }
            }
        };
        if docs.is_empty() {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = spooled.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            continue;
        }
        let result = tokio::select! {
            _ = stop.cancelled() => return,
            r = writer.write_all(&docs) => r,
        };
        match result {
            Ok(()) => {
                failures = 0;
                if let Err(e) = spool.commit(cursor) {
                    tracing::error!(error = %e, "spool: cannot commit the read position");
                }
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                let wait = backoff(
                    failures,
                    writer.cfg.retry_initial_backoff,
                    writer.cfg.retry_max_backoff,
                    None,
                );
                tracing::warn!(error = %e, pending_bytes = spool.pending_bytes(), ?wait, "spool: Elasticsearch not reachable, keeping documents");
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}

/// The background writer: gathers documents into bounded `_bulk` requests and sends them.
#[derive(Debug)]
struct Writer {
    client: EsClient,
    cfg: ElasticsearchSinkConfig,
    stats: SinkStats,
}

/// Runs the task `make` builds until it ends by itself. A task that panics is logged at
/// error level and started again (after a short, growing pause), so a bug hit by one batch
/// never silently stops the sink; `stop` ends the supervision.
async fn supervise<F, Fut>(what: &'static str, stop: CancellationToken, mut make: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut restarts: u32 = 0;
    loop {
        match tokio::spawn(make()).await {
            Ok(()) => return,
            // The runtime is shutting down.
            Err(e) if e.is_cancelled() => return,
            Err(e) => {
                restarts = restarts.saturating_add(1);
                let wait = backoff(
                    restarts,
                    Duration::from_millis(100),
                    Duration::from_secs(30),
                    None,
                );
                tracing::error!(task = what, restarts, error = %e, ?wait, "Elasticsearch sink task failed; restarting it");
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}

impl Writer {
    async fn run(self: Arc<Self>, rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
        let mut rx = rx.lock().await;
        while let Some(first) = rx.recv().await {
            let mut docs: Vec<Doc> = Vec::new();
            let mut bytes = 0usize;
            let mut waiters = Vec::new();
            let mut flushes = Vec::new();
            let mut take = |job: Job, docs: &mut Vec<Doc>, bytes: &mut usize| match job {
                Job::Docs(d, tx) => {
                    *bytes += d.iter().map(Doc::bulk_len).sum::<usize>();
                    docs.extend(d);
                    waiters.push(tx);
                    false
                }
                Job::Flush(tx) => {
                    flushes.push(tx);
                    true
                }
            };
            let mut now = take(first, &mut docs, &mut bytes);
            let deadline = deadline_after(self.cfg.batch_max_wait);
            while !now && docs.len() < self.cfg.batch_max_docs && bytes < self.cfg.batch_max_bytes {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(job)) => now = take(job, &mut docs, &mut bytes),
                    Ok(None) | Err(_) => break,
                }
            }
            let result = self.write_all(&docs).await;
            for tx in waiters {
                let _ = tx.send(match &result {
                    Ok(()) => Ok(()),
                    Err(e) => Err(copy_error(e)),
                });
            }
            for tx in flushes {
                let _ = tx.send(());
            }
        }
    }

    /// Sends `docs` as bounded `_bulk` requests, at most `concurrency` in flight; every
    /// request is tried (and retried) even when another failed, and the first error is
    /// returned.
    async fn write_all(&self, docs: &[Doc]) -> Result<(), EsError> {
        let batches = chunk(docs, self.cfg.batch_max_docs, self.cfg.batch_max_bytes);
        let mut sent = futures_util::stream::iter(batches)
            .map(|(start, count)| self.send_batch(&docs[start..start + count]))
            .buffer_unordered(self.cfg.concurrency.max(1));
        let mut first_error = None;
        while let Some(result) = sent.next().await {
            if let Err(e) = result {
                tracing::warn!(url = %self.client.shown_url(), error = %e, "documents not written");
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Sends one batch, retrying its retryable failures item by item.
    async fn send_batch(&self, docs: &[Doc]) -> Result<(), EsError> {
        let mut pending: Vec<&Doc> = docs.iter().collect();
        let mut attempt: u32 = 0;
        loop {
            let mut body = String::with_capacity(pending.iter().map(|d| d.bulk_len()).sum());
            for d in &pending {
                d.write_bulk(&mut body);
            }
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let (retry, retry_after, reason): (Vec<&Doc>, Option<Duration>, String) =
                match self.client.bulk(body).await {
                    Err(e @ EsError::Transport { .. }) => (pending.clone(), None, e.to_string()),
                    Err(e) => return Err(e),
                    Ok(reply) if (200..300).contains(&reply.status) => {
                        let outcomes =
                            parse_response(&reply.body, pending.len(), self.client.shown_url())?;
                        let mut retry = Vec::new();
                        let mut last = String::new();
                        for (doc, outcome) in pending.iter().zip(outcomes) {
                            match outcome {
                                ItemOutcome::Written => {
                                    self.stats.written.fetch_add(1, Ordering::Relaxed);
                                }
                                ItemOutcome::Retry { status, reason } => {
                                    last = format!("item HTTP {status}: {reason}");
                                    retry.push(*doc);
                                }
                                ItemOutcome::Permanent { status, reason } => {
                                    self.dead_letter(doc, status, &reason)?;
                                }
                            }
                        }
                        (retry, None, last)
                    }
                    Ok(reply) if is_retryable_status(reply.status) => (
                        pending.clone(),
                        reply.retry_after,
                        format!("HTTP {}: {}", reply.status, body_text(&reply.body)),
                    ),
                    Ok(reply) if reply.status == 413 && pending.len() > 1 => {
                        // Too big for the server: halve and send each half.
                        let owned: Vec<Doc> = pending.iter().map(|d| (*d).clone()).collect();
                        let (a, b) = owned.split_at(owned.len() / 2);
                        Box::pin(self.send_batch(a)).await?;
                        return Box::pin(self.send_batch(b)).await;
                    }
                    Ok(reply) if reply.status == 400 || reply.status == 413 => {
                        // The request itself was refused: every document in it is at fault.
                        let reason = body_text(&reply.body);
                        for doc in &pending {
                            self.dead_letter(doc, reply.status, &reason)?;
                        }
                        (Vec::new(), None, String::new())
                    }
                    Ok(reply) => {
                        return Err(EsError::Status {
                            url: self.client.shown_url().to_owned(),
                            what: "POST /_bulk".to_owned(),
                            status: reply.status,
                            reason: body_text(&reply.body),
                        });
                    }
                };
            if retry.is_empty() {
                return Ok(());
            }
            attempt += 1;
            if attempt > self.cfg.max_retries {
                return Err(EsError::RetriesExhausted {
                    url: self.client.shown_url().to_owned(),
                    docs: retry.len(),
                    attempts: attempt,
                    reason,
                });
            }
            self.stats
                .retried
                .fetch_add(retry.len() as u64, Ordering::Relaxed);
            let wait = backoff(
                attempt,
                self.cfg.retry_initial_backoff,
                self.cfg.retry_max_backoff,
                retry_after,
            );
            tracing::debug!(attempt, docs = retry.len(), ?wait, %reason, "retrying documents");
            tokio::time::sleep(wait).await;
            pending = retry;
        }
    }

    /// Records a document refused for good: one line in the dead-letter file (synced), or
    /// an error log line when there is no such file.
    fn dead_letter(&self, doc: &Doc, status: u16, reason: &str) -> Result<(), EsError> {
        self.stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
        let path: &PathBuf = &self.cfg.dead_letter_path;
        if path.as_os_str().is_empty() {
            tracing::error!(index = %doc.index, id = %doc.id, status, %reason, "document refused by Elasticsearch and dropped (no dead_letter_path)");
            return Ok(());
        }
        tracing::warn!(index = %doc.index, id = %doc.id, status, %reason, path = %path.display(), "document refused by Elasticsearch, written to the dead-letter file");
        let document = serde_json::from_str::<serde_json::Value>(&doc.source)
            .unwrap_or_else(|_| serde_json::Value::String(doc.source.clone()));
        let line = serde_json::json!({
            "index": doc.index,
            "id": doc.id,
            "status": status,
            "reason": reason,
            "document": document,
        });
        let fail = |e: std::io::Error| EsError::DeadLetter {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let mut text = line.to_string();
        text.push('\n');
        self.rotate_dead_letters(path, text.len() as u64)
            .map_err(fail)?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(fail)?;
        file.write_all(text.as_bytes()).map_err(fail)?;
        file.sync_data().map_err(fail)
    }
}

impl Writer {
    /// Keeps the dead-letter file within `dead_letter_max_bytes`: when `adding` more bytes
    /// would pass it, the file becomes `<path>.1` (replacing the previous one) and the next
    /// line starts a new file. A line larger than the limit still goes whole into a new file.
    fn rotate_dead_letters(&self, path: &std::path::Path, adding: u64) -> std::io::Result<()> {
        let size = match std::fs::metadata(path) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if size == 0 || size.saturating_add(adding) <= self.cfg.dead_letter_max_bytes {
            return Ok(());
        }
        let mut previous = path.as_os_str().to_owned();
        previous.push(".1");
        std::fs::rename(path, &previous)?;
        tracing::info!(path = %path.display(), max_bytes = self.cfg.dead_letter_max_bytes, "dead-letter file full: renamed to .1, starting a new one");
        Ok(())
    }
}

/// Now plus `wait`, saturating (about a year ahead) instead of overflowing on an absurd
/// configured duration.
fn deadline_after(wait: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(wait)
        .or_else(|| now.checked_add(lagwatch_core::duration::MAX))
        .unwrap_or(now)
}

/// The wait before retry number `attempt` (1-based): `initial * 2^(attempt-1)` capped at
/// `max`, then a random point between half and all of it; a longer `Retry-After` wins (also
/// capped at `max`).
pub(crate) fn backoff(
    attempt: u32,
    initial: Duration,
    max: Duration,
    retry_after: Option<Duration>,
) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
    let base = initial.saturating_mul(factor).min(max);
    let jittered = if base.is_zero() {
        base
    } else {
        let half = base / 2;
        half + jitter_rng().random_range(Duration::ZERO..=base - half)
    };
    match retry_after {
        Some(after) if after > jittered => after.min(max),
        _ => jittered,
    }
}

/// A small random generator seeded from the clock and a counter (no OS entropy needed for
/// jitter).
fn jitter_rng() -> rand::rngs::SmallRng {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    rand::rngs::SmallRng::seed_from_u64(nanos ^ COUNTER.fetch_add(0x9e37_79b9, Ordering::Relaxed))
}

fn body_text(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => crate::client::short(&v),
        Err(_) => String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
    }
}

/// `EsError` is not `Clone` (it may grow sources); waiters each get an equal copy.
fn copy_error(e: &EsError) -> EsError {
    match e {
        EsError::Transport { url, reason } => EsError::Transport {
            url: url.clone(),
            reason: reason.clone(),
        },
        EsError::RetriesExhausted {
            url,
            docs,
            attempts,
            reason,
        } => EsError::RetriesExhausted {
            url: url.clone(),
            docs: *docs,
            attempts: *attempts,
            reason: reason.clone(),
        },
        EsError::Status {
            url,
            what,
            status,
            reason,
        } => EsError::Status {
            url: url.clone(),
            what: what.clone(),
            status: *status,
            reason: reason.clone(),
        },
        EsError::Closed => EsError::Closed,
        EsError::WriterFailed => EsError::WriterFailed,
        other => EsError::Client {
            url: String::new(),
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_task_is_restarted_and_keeps_its_queue() {
        let (tx, rx) = mpsc::channel::<u32>(4);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        for n in [1, 2, 3] {
            tx.send(n).await.unwrap();
        }
        drop(tx);
        let (rx2, seen2) = (Arc::clone(&rx), Arc::clone(&seen));
        let supervised = supervise("test", CancellationToken::new(), move || {
            let (rx, seen) = (Arc::clone(&rx2), Arc::clone(&seen2));
            async move {
                let mut rx = rx.lock().await;
                while let Some(n) = rx.recv().await {
                    seen.lock().unwrap().push(n);
                    if n == 2 {
                        panic!("bad item {n}");
                    }
                }
            }
        });
        // Bounded wait for a hang, not a speed check.
        tokio::time::timeout(Duration::from_secs(30), supervised)
            .await
            .unwrap();
        assert_eq!(*seen.lock().unwrap(), [1, 2, 3]);
    }

    #[tokio::test]
    async fn supervision_ends_with_stop() {
        let stop = CancellationToken::new();
        stop.cancel();
        let runs = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&runs);
        supervise("test", stop, move || {
            let runs = Arc::clone(&counted);
            async move {
                runs.fetch_add(1, Ordering::Relaxed);
                panic!("always");
            }
        })
        .await;
        assert_eq!(runs.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn the_dead_letter_file_is_bounded_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dead.ndjson");
        let mut cfg = ElasticsearchSinkConfig::new("http://127.0.0.1:9");
        cfg.dead_letter_path = path.clone();
        let writer = Writer {
            client: EsClient::new(&cfg).unwrap(),
            cfg,
            stats: SinkStats::default(),
        };
        // 70 refused documents of 1 MiB each: more than the default limit of 64 MiB.
        let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(1 << 20));
        for n in 0..70 {
            let doc = Doc {
                index: "i".into(),
                id: format!("{n}"),
                source: big.clone(),
            };
            writer.dead_letter(&doc, 400, "mapping conflict").unwrap();
        }
        let limit = 64 * 1024 * 1024;
        let current = std::fs::metadata(&path).unwrap().len();
        let previous = std::fs::metadata(dir.path().join("dead.ndjson.1"))
            .unwrap()
            .len();
        assert!(
            current <= limit && previous <= limit,
            "{current} {previous}"
        );
        // Nothing but the current and the previous file, the newest document last.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["id"], "69");
    }

    #[test]
    fn deadlines_saturate_instead_of_overflowing() {
        let far = deadline_after(Duration::MAX);
        assert!(far > tokio::time::Instant::now());
        let soon = deadline_after(Duration::from_secs(1));
        assert!(soon < far);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let ms = Duration::from_millis;
        for _ in 0..200 {
            let first = backoff(1, ms(100), ms(1000), None);
            assert!(first >= ms(50) && first <= ms(100), "{first:?}");
            let third = backoff(3, ms(100), ms(1000), None);
            assert!(third >= ms(200) && third <= ms(400), "{third:?}");
            let late = backoff(40, ms(100), ms(1000), None);
            assert!(late >= ms(500) && late <= ms(1000), "{late:?}");
        }
        assert_eq!(backoff(1, ms(100), ms(1000), Some(ms(700))), ms(700));
        assert_eq!(backoff(1, ms(100), ms(1000), Some(ms(5000))), ms(1000));
        assert_eq!(backoff(1, Duration::ZERO, ms(1000), None), Duration::ZERO);
    }
}
