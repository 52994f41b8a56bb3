use crate::changes::StatusTracker;
use crate::clock::{Clock, SystemClock};
use crate::queue::DropOldestQueue;
use crate::stats::{Counters, RunSummary};
use lagwatch_component::{
    Alerter, ComponentError, EventSender, LagSink, NoRules, OffsetSource, RuleEngine, SourceContext,
};
use lagwatch_core::alert::AlertNotification;
use lagwatch_core::evaluator::EvaluatorSettings;
use lagwatch_core::model::{Applied, LagModel, ModelSettings};
use lagwatch_core::{Event, Snapshot};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long shutdown waits, by default, for sources to stop and for sinks to write and flush.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Why a pipeline run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// Every source stopped with an error, so there was nothing left to monitor.
    #[error("every source failed; last error: {0}")]
    AllSourcesFailed(#[source] ComponentError),
}

/// Assembles a [`Pipeline`]. Every setting has a default; add at least one source and one
/// sink for the pipeline to be useful.
pub struct PipelineBuilder {
    model: ModelSettings,
    evaluator: EvaluatorSettings,
    evaluation_interval: Duration,
    event_queue: usize,
    sink_queue: usize,
    alert_queue: usize,
    sources: Vec<Box<dyn OffsetSource>>,
    sinks: Vec<Box<dyn LagSink>>,
    alerters: Vec<Box<dyn Alerter>>,
    rules: Box<dyn RuleEngine>,
    clock: Arc<dyn Clock>,
    shutdown_grace: Duration,
}

impl Default for PipelineBuilder {
    fn default() -> Self {
        PipelineBuilder {
            model: ModelSettings::default(),
            evaluator: EvaluatorSettings::default(),
            evaluation_interval: Duration::from_secs(10),
            event_queue: 1024,
            sink_queue: 16,
            alert_queue: 1024,
            sources: Vec::new(),
            sinks: Vec::new(),
            alerters: Vec::new(),
            rules: Box::new(NoRules),
            clock: Arc::new(SystemClock),
            shutdown_grace: SHUTDOWN_GRACE,
        }
    }
}

impl PipelineBuilder {
    /// How commits and broker offsets are stored.
    pub fn model(mut self, settings: ModelSettings) -> Self {
        self.model = settings;
        self
    }

    /// How windows are judged.
    pub fn evaluator(mut self, settings: EvaluatorSettings) -> Self {
        self.evaluator = settings;
        self
    }

    /// Time between two evaluations (default 10 s; at least 1 ms).
    pub fn evaluation_interval(mut self, interval: Duration) -> Self {
        self.evaluation_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Event batches buffered between sources and the model (default 1024).
    pub fn event_queue(mut self, batches: usize) -> Self {
        self.event_queue = batches.max(1);
        self
    }

    /// Snapshots buffered per sink before the oldest is dropped (default 16).
    pub fn sink_queue(mut self, snapshots: usize) -> Self {
        self.sink_queue = snapshots.max(1);
        self
    }

    /// Notifications buffered per alerter before the oldest is dropped (default 1024).
    pub fn alert_queue(mut self, notifications: usize) -> Self {
        self.alert_queue = notifications.max(1);
        self
    }

    /// Adds a source.
    pub fn source(mut self, source: Box<dyn OffsetSource>) -> Self {
        self.sources.push(source);
        self
    }

    /// Adds a sink.
    pub fn sink(mut self, sink: Box<dyn LagSink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// Adds an alerter.
    pub fn alerter(mut self, alerter: Box<dyn Alerter>) -> Self {
        self.alerters.push(alerter);
        self
    }

    /// Sets the rule engine that turns snapshots into alert notifications.
    pub fn rules(mut self, rules: Box<dyn RuleEngine>) -> Self {
        self.rules = rules;
        self
    }

    /// Sets the clock (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How long shutdown waits for sources to stop and sinks to drain and flush before
    /// abandoning them (default 30 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Finishes the pipeline.
    pub fn build(self) -> Pipeline {
        let (latest, _) = watch::channel(Snapshot::default());
        Pipeline {
            parts: self,
            latest,
        }
    }
}

/// A runnable pipeline. See the [crate documentation](crate).
pub struct Pipeline {
    parts: PipelineBuilder,
    latest: watch::Sender<Snapshot>,
}

struct Worker<T> {
    name: String,
    queue: Arc<DropOldestQueue<T>>,
    counters: Arc<Counters>,
    task: tokio::task::JoinHandle<()>,
}

impl<T: Send + 'static> Worker<T> {
    /// Queues an item for the worker, counting what the queue had to drop.
    fn offer(&self, item: T, what: &str) {
        if self.queue.push(item).is_some() {
            Counters::add(&self.counters.dropped, 1);
            tracing::warn!(component = %self.name, "{what} dropped: component is not keeping up");
        }
    }
}

impl Pipeline {
    /// Starts assembling a pipeline.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// The newest snapshot, updated after every evaluation (for an HTTP API or tests).
    pub fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.latest.subscribe()
    }

    /// Runs until `shutdown` is cancelled (or every source has failed), then stops the sources,
    /// evaluates once more, drains the sink and alert queues and flushes the sinks.
    pub async fn run(self, shutdown: CancellationToken) -> Result<RunSummary, RuntimeError> {
        let Pipeline { parts, latest } = self;
        let PipelineBuilder {
            model,
            evaluator,
            evaluation_interval,
            event_queue,
            sink_queue,
            alert_queue,
            sources,
            sinks,
            alerters,
            mut rules,
            clock,
            shutdown_grace,
        } = parts;

        tracing::info!(
            sources = ?sources.iter().map(|s| s.name().to_owned()).collect::<Vec<_>>(),
            sinks = ?sinks.iter().map(|s| s.name().to_owned()).collect::<Vec<_>>(),
            alerters = ?alerters.iter().map(|a| a.name().to_owned()).collect::<Vec<_>>(),
            evaluation_interval = ?evaluation_interval,
            intervals = model.intervals,
            "pipeline starting"
        );

        let sink_workers: Vec<Worker<Snapshot>> = sinks
            .into_iter()
            .map(|sink| spawn_sink(sink, sink_queue))
            .collect();
        let alert_workers: Vec<Worker<AlertNotification>> = alerters
            .into_iter()
            .map(|alerter| spawn_alerter(alerter, alert_queue))
            .collect();

        let source_token = shutdown.child_token();
        let (events, mut event_rx) = EventSender::channel("pipeline", event_queue);
        let mut source_tasks = JoinSet::new();
        let source_count = sources.len();
        for source in sources {
            let ctx = SourceContext {
                events: events.named(source.name().to_owned()),
                shutdown: source_token.clone(),
            };
            source_tasks.spawn(async move {
                let name = source.name().to_owned();
                let result = source.run(ctx).await;
                (name, result)
            });
        }
        drop(events);

        let mut state = LoopState {
            model: LagModel::new(model),
            evaluator,
            clock,
            last_evaluated_ms: None,
            tracker: StatusTracker::default(),
            summary: RunSummary::default(),
        };
        let mut failed_sources = 0usize;
        let mut fatal: Option<ComponentError> = None;

        let mut ticker = tokio::time::interval(evaluation_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await; // the first tick is immediate; evaluate after one interval

        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                _ = ticker.tick() => {
                    state.evaluate(&latest, &mut *rules, &sink_workers, &alert_workers);
                }
                Some(batch) = event_rx.recv() => state.apply(batch),
                Some(joined) = source_tasks.join_next() => {
                    match joined {
                        Ok((name, Ok(()))) => tracing::info!(source = %name, "source finished"),
                        Ok((name, Err(e))) => {
                            failed_sources += 1;
                            tracing::error!(source = %name, error = %e, "source stopped with an error");
                            fatal = Some(e);
                        }
                        Err(e) => {
                            failed_sources += 1;
                            tracing::error!(error = %e, "source task panicked");
                            fatal = Some(ComponentError::permanent("pipeline", format!("source task panicked: {e}")));
                        }
                    }
                    if source_count > 0 && failed_sources == source_count {
                        break;
                    }
                }
            }
        }

        // Shutdown: stop sources, keep draining their events so none waits on a full channel.
        source_token.cancel();
        let deadline = Instant::now() + shutdown_grace;
        while !source_tasks.is_empty() {
            tokio::select! {
                Some(batch) = event_rx.recv() => state.apply(batch),
                joined = source_tasks.join_next() => {
                    if let Some(Ok((name, Err(e)))) = joined {
                        if e.class != lagwatch_component::ErrorClass::Closed {
                            tracing::warn!(source = %name, error = %e, "source ended with an error during shutdown");
                        }
                    }
                }
                _ = tokio::time::sleep_until(deadline.into()) => {
                    tracing::warn!("sources did not stop within {shutdown_grace:?}; abandoning them");
                    source_tasks.abort_all();
                    break;
                }
            }
        }
        while let Ok(batch) = event_rx.try_recv() {
            state.apply(batch);
        }
        // Records are stamped in whole seconds and sinks key them by time: a last evaluation
        // in the same second as the previous one would carry the same keys (Elasticsearch's
        // `create` keeps the first). Wait for the next second — at most one, and only while
        // that leaves most of the shutdown grace to the sinks.
        let now = state.clock.now_ms();
        if state
            .last_evaluated_ms
            .is_some_and(|last| last.div_euclid(1000) == now.div_euclid(1000))
        {
            let wait =
                Duration::from_millis(u64::try_from(1000 - now.rem_euclid(1000)).unwrap_or(1000));
            if wait < deadline.saturating_duration_since(Instant::now()) / 2 {
                tokio::time::sleep(wait).await;
            }
        }
        state.evaluate(&latest, &mut *rules, &sink_workers, &alert_workers);

        let mut summary = state.summary;
        summary.sinks = finish(sink_workers, deadline).await;
        summary.alerters = finish(alert_workers, deadline).await;
        tracing::info!(
            cycles = summary.cycles,
            events = summary.events,
            ignored = summary.events_ignored,
            "pipeline stopped"
        );

        match fatal {
            Some(e) if source_count > 0 && failed_sources == source_count => {
                Err(RuntimeError::AllSourcesFailed(e))
            }
            _ => Ok(summary),
        }
    }
}

struct LoopState {
    model: LagModel,
    evaluator: EvaluatorSettings,
    clock: Arc<dyn Clock>,
    /// When the newest evaluation ran (clock ms).
    last_evaluated_ms: Option<i64>,
    tracker: StatusTracker,
    summary: RunSummary,
}

impl LoopState {
    fn apply(&mut self, batch: Vec<Event>) {
        let now = self.clock.now_ms();
        for event in &batch {
            self.summary.events += 1;
            if let Applied::Ignored(reason) = self.model.apply(event, now) {
                self.summary.events_ignored += 1;
                tracing::trace!(cluster = event.cluster(), %reason, "event ignored");
            }
        }
    }

    fn evaluate(
        &mut self,
        latest: &watch::Sender<Snapshot>,
        rules: &mut dyn RuleEngine,
        sinks: &[Worker<Snapshot>],
        alerters: &[Worker<AlertNotification>],
    ) {
        let started = Instant::now();
        self.summary.cycles += 1;
        let cycle = self.summary.cycles;
        let now = self.clock.now_ms();
        self.last_evaluated_ms = Some(now);
        let data = self.model.snapshot(now, &self.evaluator, cycle);
        let snapshot = Snapshot::new(data);
        let changes = self.tracker.observe(&snapshot);
        for sink in sinks {
            sink.offer(snapshot.clone(), "snapshot");
        }
        let notifications = rules.evaluate(&snapshot);
        self.summary.notifications += notifications.len() as u64;
        for n in notifications {
            tracing::info!(
                rule = %n.rule, state = %n.state, severity = %n.severity,
                labels = ?n.labels, value = n.value, "alert"
            );
            for alerter in alerters {
                alerter.offer(n.clone(), "notification");
            }
        }
        let partitions: usize = snapshot.groups().iter().map(|g| g.partitions.len()).sum();
        latest.send_replace(snapshot.clone());
        tracing::debug!(
            cycle,
            groups = snapshot.groups().len(),
            partitions,
            status_changes = changes,
            took_us = started.elapsed().as_micros() as u64,
            "evaluation cycle"
        );
    }
}

fn spawn_sink(sink: Box<dyn LagSink>, capacity: usize) -> Worker<Snapshot> {
    let name = sink.name().to_owned();
    let queue = Arc::new(DropOldestQueue::new(capacity));
    let counters = Arc::new(Counters::default());
    let task = {
        let (queue, counters, name) = (queue.clone(), counters.clone(), name.clone());
        tokio::spawn(async move {
            while let Some(snapshot) = queue.pop().await {
                match sink.write(&snapshot).await {
                    Ok(ack) => {
                        Counters::add(&counters.accepted, 1);
                        Counters::add(&counters.records, ack.records as u64);
                    }
                    Err(e) => {
                        Counters::add(&counters.failed, 1);
                        tracing::warn!(sink = %name, cycle = snapshot.cycle(), error = %e, "sink write failed");
                    }
                }
            }
            if let Err(e) = sink.flush().await {
                tracing::error!(sink = %name, error = %e, "sink flush failed at shutdown");
            }
        })
    };
    Worker {
        name,
        queue,
        counters,
        task,
    }
}

fn spawn_alerter(alerter: Box<dyn Alerter>, capacity: usize) -> Worker<AlertNotification> {
    let name = alerter.name().to_owned();
    let queue = Arc::new(DropOldestQueue::new(capacity));
    let counters = Arc::new(Counters::default());
    let task = {
        let (queue, counters, name) = (queue.clone(), counters.clone(), name.clone());
        tokio::spawn(async move {
            while let Some(n) = queue.pop().await {
                match alerter.deliver(&n).await {
                    Ok(d) => {
                        Counters::add(&counters.accepted, 1);
                        Counters::add(&counters.records, u64::from(d.attempts));
                    }
                    Err(e) => {
                        Counters::add(&counters.failed, 1);
                        tracing::error!(alerter = %name, incident = %n.incident_id, error = %e, "alert delivery failed");
                    }
                }
            }
        })
    };
    Worker {
        name,
        queue,
        counters,
        task,
    }
}

async fn finish<T>(workers: Vec<Worker<T>>, deadline: Instant) -> Vec<crate::ComponentStats> {
    let mut stats = Vec::with_capacity(workers.len());
    for w in workers {
        w.queue.close();
        let mut task = w.task;
        if tokio::time::timeout_at(deadline.into(), &mut task)
            .await
            .is_err()
        {
            tracing::error!(component = %w.name, queued = w.queue.len(), "did not finish writing before the shutdown deadline");
            task.abort();
        }
        stats.push(w.counters.snapshot(&w.name));
    }
    stats
}
