use crate::alert_queue::AlertQueue;
use crate::changes::StatusTracker;
use crate::clock::{Clock, SystemClock};
use crate::handle::{Live, ModelRequest, Output, PipelineHandle};
use crate::handover::HandoverLink;
use crate::persister::{Job, PersisterHandle};
use crate::queue::DropOldestQueue;
use crate::state_dir::{self, AlertsFile, ModelFile};
use crate::stats::{Counters, RunSummary};
use lagwatch_component::stats::ReadLog;
use lagwatch_component::{
    AlertHandover, Alerter, ComponentError, EventSender, LagSink, MemberDirectory, NoRules,
    OffsetSource, RuleEngine, SourceContext,
};
use lagwatch_core::evaluator::EvaluatorSettings;
use lagwatch_core::model::{Applied, LagModel, ModelSettings};
use lagwatch_core::{Event, Snapshot};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
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
    /// The state directory cannot be created or used.
    #[error("state directory {path}: {source}")]
    StateDir {
        /// The directory.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// A sink's or alerter's task ended while the pipeline was running (it panicked): its
    /// component would silently stop receiving data, so the pipeline stops instead.
    #[error("{component} stopped unexpectedly: {reason}")]
    ComponentStopped {
        /// The sink or alerter.
        component: String,
        /// Why (the panic message when there is one).
        reason: String,
    },
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
    state_dir: Option<PathBuf>,
    state_save_interval: Duration,
    stats_slot: lagwatch_component::StatsSlot,
    handovers: BTreeMap<String, Arc<dyn AlertHandover>>,
    directories: BTreeMap<String, Arc<dyn MemberDirectory>>,
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
            state_dir: None,
            state_save_interval: Duration::from_secs(10),
            stats_slot: lagwatch_component::StatsSlot::new(),
            handovers: BTreeMap::new(),
            directories: BTreeMap::new(),
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

    /// Notifications queued per alerter before reminders are coalesced (default 1024); firing
    /// and resolved notifications are never dropped.
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

    /// Hands the open alerts of `cluster`'s groups to and from `store` when this instance
    /// shares the cluster with others (a source that divides its groups, such as a Kafka
    /// source with `coordination_group`): alerts of groups that move away are published there
    /// and dropped here without notification, those of groups that arrive are taken from
    /// there, so a firing alert is announced once and resolved once whichever instance owns
    /// its group. Open alerts of `cluster` restored from the state directory are dropped at
    /// start: the store holds them.
    pub fn alert_handover(mut self, cluster: &str, store: Arc<dyn AlertHandover>) -> Self {
        self.handovers.insert(cluster.to_owned(), store);
        self
    }

    /// Announces this instance through `directory` to the others sharing `cluster`: its HTTP
    /// address (once [`PipelineHandle::advertise`] sets it) and the offsets-topic partitions
    /// it owns, again at every change, withdrawn at shutdown. [`PipelineHandle::owner`]
    /// reads the others' announcements to tell which instance owns a group or a topic.
    pub fn member_directory(mut self, cluster: &str, directory: Arc<dyn MemberDirectory>) -> Self {
        self.directories.insert(cluster.to_owned(), directory);
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

    /// Keeps the model's windows, the rule engine's state and the alert outbox in this
    /// directory (created when missing), restored at the next start (default: none, all
    /// state is in memory). One directory serves one pipeline at a time.
    pub fn state_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.state_dir = dir;
        self
    }

    /// How often the model's windows are saved to the state directory (default 10 s; at
    /// least one evaluation apart). Open alerts and the outbox are saved at every change.
    pub fn state_save_interval(mut self, interval: Duration) -> Self {
        self.state_save_interval = interval;
        self
    }

    /// A slot that shows this pipeline's statistics once [`build`](Self::build) has run,
    /// for components made before it (an OTLP sink pushing operational metrics).
    pub fn stats_slot(&self) -> lagwatch_component::StatsSlot {
        self.stats_slot.clone()
    }

    /// Finishes the pipeline.
    pub fn build(self) -> Pipeline {
        let (latest, _) = watch::channel(Snapshot::default());
        let (requests_tx, requests) = mpsc::channel(64);
        let live = Arc::new(Live::default());
        for (cluster, directory) in &self.directories {
            live.peers.add_directory(cluster, Arc::clone(directory));
        }
        let pipeline = Pipeline {
            live,
            latest,
            requests_tx,
            requests,
            parts: self,
        };
        pipeline.parts.stats_slot.fill(Arc::new(pipeline.handle()));
        pipeline
    }
}

/// A runnable pipeline. See the [crate documentation](crate).
pub struct Pipeline {
    parts: PipelineBuilder,
    latest: watch::Sender<Snapshot>,
    live: Arc<Live>,
    requests_tx: mpsc::Sender<ModelRequest>,
    requests: mpsc::Receiver<ModelRequest>,
}

/// A sink's task and what the pipeline knows of it.
struct SinkWorker {
    name: String,
    queue: Arc<DropOldestQueue<Snapshot>>,
    counters: Arc<Counters>,
}

impl SinkWorker {
    /// Queues a snapshot for the sink, counting what the queue had to drop.
    fn offer(&self, snapshot: Snapshot) {
        if self.queue.push(snapshot).is_some() {
            Counters::add(&self.counters.dropped, 1);
            tracing::warn!(component = %self.name, "snapshot dropped: sink is not keeping up");
        }
    }
}

/// An alerter's task and what the pipeline knows of it.
struct AlertWorker {
    name: String,
    queue: Arc<AlertQueue>,
    counters: Arc<Counters>,
}

/// Every sink and alerter task, by task id, so one that ends early is noticed.
#[derive(Default)]
struct Tasks {
    set: JoinSet<()>,
    names: std::collections::HashMap<tokio::task::Id, String>,
}

impl Tasks {
    fn spawn(&mut self, name: &str, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = self.set.spawn(task);
        self.names.insert(handle.id(), name.to_owned());
    }

    /// The name of a finished task and why it finished early.
    fn describe(
        &self,
        joined: Result<(tokio::task::Id, ()), tokio::task::JoinError>,
    ) -> (String, String) {
        match joined {
            Ok((id, ())) => (
                self.names.get(&id).cloned().unwrap_or_default(),
                "its task returned".to_owned(),
            ),
            Err(e) => {
                let name = self.names.get(&e.id()).cloned().unwrap_or_default();
                let reason = if e.is_panic() {
                    let payload = e.into_panic();
                    let text = payload
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_else(|| "unknown panic".to_owned());
                    format!("panicked: {text}")
                } else {
                    "cancelled".to_owned()
                };
                (name, reason)
            }
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

    /// A handle for the HTTP API and the like: newest snapshot, live statistics, a group's
    /// whole windows, deleting a group. It stays valid after the pipeline stops (questions
    /// then fail with [`NotRunning`](crate::NotRunning)).
    pub fn handle(&self) -> PipelineHandle {
        PipelineHandle {
            latest: self.latest.clone(),
            live: self.live.clone(),
            requests: self.requests_tx.clone(),
        }
    }

    /// Runs until `shutdown` is cancelled (or every source has failed), then stops the sources,
    /// evaluates once more, drains the sink and alert queues and flushes the sinks.
    ///
    /// With a state directory, the saved windows, open alerts and undelivered notifications
    /// are restored first (see [`PipelineBuilder::state_dir`]).
    pub async fn run(self, shutdown: CancellationToken) -> Result<RunSummary, RuntimeError> {
        let Pipeline {
            parts,
            latest,
            live,
            requests_tx,
            mut requests,
        } = self;
        drop(requests_tx);
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
            state_dir,
            state_save_interval,
            stats_slot: _,
            handovers,
            directories: _,
        } = parts;

        tracing::info!(
            sources = ?sources.iter().map(|s| s.name().to_owned()).collect::<Vec<_>>(),
            sinks = ?sinks.iter().map(|s| s.name().to_owned()).collect::<Vec<_>>(),
            alerters = ?alerters.iter().map(|a| a.name().to_owned()).collect::<Vec<_>>(),
            evaluation_interval = ?evaluation_interval,
            intervals = model.intervals,
            state_dir = ?state_dir,
            "pipeline starting"
        );

        // Restore what the previous run saved.
        let mut model = LagModel::new(model);
        let mut saved_outbox = Vec::new();
        let mut saved_rules = None;
        if let Some(dir) = &state_dir {
            std::fs::create_dir_all(dir).map_err(|source| RuntimeError::StateDir {
                path: dir.clone(),
                source,
            })?;
            let model_file: Option<ModelFile> =
                state_dir::read(dir, state_dir::MODEL_FILE, |f: &ModelFile| f.version);
            let alerts_file: Option<AlertsFile> =
                state_dir::read(dir, state_dir::ALERTS_FILE, |f: &AlertsFile| f.version);
            let mut windows = None;
            if let Some(file) = model_file {
                let age_ms = clock.now_ms().saturating_sub(file.model.saved_at_ms);
                match model.restore(file.model, clock.now_ms()) {
                    Ok(restored) => tracing::info!(
                        clusters = restored.clusters,
                        groups = restored.groups,
                        partitions = restored.partitions,
                        commits = restored.commits,
                        expired_or_filtered_groups = restored.groups_dropped,
                        age_s = age_ms / 1000,
                        "restored the model's windows"
                    ),
                    Err(e) => tracing::warn!(error = %e, "ignoring the saved model state"),
                }
                windows = file.rule_windows;
            }
            if let Some(file) = alerts_file {
                saved_rules = file.rules;
                saved_outbox = file.outbox;
            }
            if saved_rules.is_some() || windows.is_some() {
                if let Err(e) = rules.restore_state(saved_rules.clone(), windows) {
                    tracing::warn!(error = %e, "ignoring the saved alert state");
                    saved_rules = None;
                }
            }
        }

        let handover_stop = shutdown.child_token();
        let (mut handover, mut adopted) =
            HandoverLink::start(handovers, handover_stop.clone(), live.peers.clone());
        let announcer = tokio::spawn(crate::peers::announce(
            live.peers.clone(),
            handover_stop.clone(),
        ));
        handover.forget_restored(&mut *rules);

        live.started_ms.store(clock.now_ms(), Ordering::Relaxed);
        live.event_queue_capacity
            .store(event_queue.max(1) as u64, Ordering::Relaxed);
        let source_names: Vec<String> = sources.iter().map(|s| s.name().to_owned()).collect();
        *live
            .sources
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = source_names.clone();

        let mut tasks = Tasks::default();
        let sink_workers: Vec<SinkWorker> = sinks
            .into_iter()
            .map(|sink| spawn_sink(sink, sink_queue, &mut tasks))
            .collect();
        let alert_queues: Vec<(String, Arc<AlertQueue>)> = alerters
            .iter()
            .map(|a| (a.name().to_owned(), Arc::new(AlertQueue::new(alert_queue))))
            .collect();
        let persister = PersisterHandle::start(
            state_dir.clone(),
            alert_queues.clone(),
            saved_rules.clone(),
            saved_outbox,
        )
        .map_err(|source| RuntimeError::StateDir {
            path: state_dir.clone().unwrap_or_default(),
            source,
        })?;
        *live
            .state_save_failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(persister.failures.clone());
        let stopping = CancellationToken::new();
        let alert_workers: Vec<AlertWorker> = alerters
            .into_iter()
            .zip(alert_queues)
            .enumerate()
            .map(|(index, (alerter, (_, queue)))| {
                spawn_alerter(alerter, index, queue, &persister, &stopping, &mut tasks)
            })
            .collect();

        {
            let mut outputs = live
                .outputs
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            outputs.extend(sink_workers.iter().map(|w| {
                Output::sink(
                    &w.name,
                    w.queue.clone(),
                    sink_queue.max(1),
                    w.counters.clone(),
                )
            }));
            outputs.extend(alert_workers.iter().map(|w| {
                Output::alerter(&w.name, w.queue.clone(), alert_queue, w.counters.clone())
            }));
        }

        let source_token = shutdown.child_token();
        let (events, mut event_rx) = EventSender::channel("pipeline", event_queue);
        let events = events.with_read_log(live.reads.clone());
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
            model,
            evaluator,
            clock,
            last_evaluated_ms: None,
            tracker: StatusTracker::default(),
            summary: RunSummary::default(),
            persist: state_dir.is_some(),
            save_interval_ms: i64::try_from(state_save_interval.as_millis()).unwrap_or(i64::MAX),
            last_saved_ms: None,
            sent_alert_state: saved_rules,
            live: live.clone(),
        };
        let mut failed_sources = 0usize;
        let mut fatal: Option<ComponentError> = None;
        let mut stopped: Option<RuntimeError> = None;

        let mut ticker = tokio::time::interval(evaluation_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await; // the first tick is immediate; evaluate after one interval
        // Unless every source has read its cluster once before that: then the first
        // evaluation comes right after (see `FirstEvaluation`), and the interval counts from it.
        let mut first = FirstEvaluation::new(source_names, evaluation_interval);

        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                _ = ticker.tick() => {
                    state.evaluate(&latest, &mut *rules, &sink_workers, &persister, &mut handover);
                    first.done();
                }
                () = first.wait() => {
                    if first.due(&live.reads, event_rx.is_empty()) {
                        state.evaluate(&latest, &mut *rules, &sink_workers, &persister, &mut handover);
                        first.done();
                        ticker.reset();
                    }
                }
                Some(batch) = event_rx.recv() => {
                    live.event_queue_depth.store(event_rx.len() as u64, Ordering::Relaxed);
                    state.apply(batch, &mut handover, &mut *rules);
                }
                Some(taken) = adopted.recv() => handover.adopt(&mut *rules, taken),
                Some(request) = requests.recv() => state.answer(request),
                Some(joined) = tasks.set.join_next_with_id() => {
                    let (component, reason) = tasks.describe(joined);
                    tracing::error!(%component, %reason, "component task stopped unexpectedly; stopping the pipeline");
                    stopped = Some(RuntimeError::ComponentStopped { component, reason });
                    break;
                }
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
        let deadline = Instant::now()
            .checked_add(shutdown_grace)
            .unwrap_or_else(|| Instant::now() + SHUTDOWN_GRACE);
        while !source_tasks.is_empty() {
            tokio::select! {
                Some(batch) = event_rx.recv() => state.apply(batch, &mut handover, &mut *rules),
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
            state.apply(batch, &mut handover, &mut *rules);
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
        state.evaluate(
            &latest,
            &mut *rules,
            &sink_workers,
            &persister,
            &mut handover,
        );
        handover_stop.cancel();
        handover
            .finish(deadline.saturating_duration_since(Instant::now()) / 2)
            .await;
        // Withdraws this instance's announcements (bounded inside).
        let _ = announcer.await;
        // The last windows, whatever the save interval.
        state.save(&*rules, &persister, true);

        // Let the last evaluation's notifications reach the alerters' queues before they
        // close. Alerters: what is queued is delivered until the deadline; a notification whose
        // receiver keeps failing stays in the outbox for the next start.
        persister
            .flush(deadline.saturating_duration_since(Instant::now()))
            .await;
        stopping.cancel();
        for w in &sink_workers {
            w.queue.close();
        }
        for w in &alert_workers {
            w.queue.close();
        }
        if tokio::time::timeout_at(deadline.into(), async {
            while tasks.set.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            let behind: Vec<String> = sink_workers
                .iter()
                .map(|w| (w.name.clone(), w.queue.len()))
                .chain(
                    alert_workers
                        .iter()
                        .map(|w| (w.name.clone(), w.queue.len())),
                )
                .filter(|(_, queued)| *queued > 0)
                .map(|(name, queued)| format!("{name} ({queued} queued)"))
                .collect();
            tracing::error!(components = ?behind, "did not finish writing before the shutdown deadline");
            tasks.set.abort_all();
        }
        let remaining = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_secs(5));
        let save_failures = persister.failures.clone();
        persister.stop(remaining).await;

        let mut summary = state.summary;
        summary.state_save_failures = save_failures.load(Ordering::Relaxed);
        summary.sinks = sink_workers
            .iter()
            .map(|w| w.counters.snapshot(&w.name))
            .collect();
        summary.alerters = alert_workers
            .iter()
            .map(|w| {
                let mut stats = w.counters.snapshot(&w.name);
                stats.dropped = w.queue.coalesced.load(Ordering::Relaxed);
                stats
            })
            .collect();
        tracing::info!(
            cycles = summary.cycles,
            events = summary.events,
            ignored = summary.events_ignored,
            "pipeline stopped"
        );

        if let Some(e) = stopped {
            return Err(e);
        }
        match fatal {
            Some(e) if source_count > 0 && failed_sources == source_count => {
                Err(RuntimeError::AllSourcesFailed(e))
            }
            _ => Ok(summary),
        }
    }
}

/// When the first evaluation is due. Sources read their clusters in a few hundred
/// milliseconds to a few seconds, while the evaluation interval is 10 s by default: waiting a
/// whole interval would leave the API, the sinks and `/readyz` empty for that long after every
/// start. So once every source has completed its first read, and the events it sent are
/// applied (the event queue is empty), the first evaluation follows after [`FIRST_SETTLE`]
/// (for the events a source sends just after recording its read). The regular interval still
/// applies when a source takes longer.
struct FirstEvaluation {
    sources: Vec<String>,
    /// `None` once the first evaluation ran (or when the interval is too short to matter).
    check: Option<tokio::time::Interval>,
    due_at: Option<tokio::time::Instant>,
}

/// How often readiness is checked before the first evaluation.
const FIRST_CHECK: Duration = Duration::from_millis(100);

/// Delay between every source's first read and the first evaluation.
const FIRST_SETTLE: Duration = Duration::from_millis(300);

impl FirstEvaluation {
    fn new(sources: Vec<String>, interval: Duration) -> FirstEvaluation {
        let worth_it = !sources.is_empty() && interval > FIRST_SETTLE + FIRST_CHECK;
        FirstEvaluation {
            sources,
            check: worth_it.then(|| tokio::time::interval(FIRST_CHECK)),
            due_at: None,
        }
    }

    /// Resolves at the next check while the first evaluation is pending; never after.
    async fn wait(&mut self) {
        match &mut self.check {
            Some(check) => {
                check.tick().await;
            }
            None => std::future::pending().await,
        }
    }

    /// Whether the first evaluation is due now: every source has read once and the queue was
    /// empty at least [`FIRST_SETTLE`] ago.
    fn due(&mut self, reads: &ReadLog, queue_empty: bool) -> bool {
        let now = tokio::time::Instant::now();
        match self.due_at {
            Some(at) => now >= at,
            None => {
                if queue_empty && self.sources.iter().all(|s| reads.has_read(s)) {
                    self.due_at = Some(now + FIRST_SETTLE);
                }
                false
            }
        }
    }

    /// The first evaluation ran.
    fn done(&mut self) {
        self.check = None;
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
    /// Whether windows are saved (a state directory is configured).
    persist: bool,
    save_interval_ms: i64,
    last_saved_ms: Option<i64>,
    /// The rule engine's open alerts as last handed to the persister.
    sent_alert_state: Option<serde_json::Value>,
    /// Figures shown by [`PipelineHandle::stats`].
    live: Arc<Live>,
}

impl LoopState {
    /// Applies a batch of events to the model; ownership changes among them go to the
    /// handover first (the rule engine lets released groups' alerts go).
    fn apply(
        &mut self,
        batch: Vec<Event>,
        handover: &mut HandoverLink,
        rules: &mut dyn RuleEngine,
    ) {
        handover.observe(&batch, rules);
        let now = self.clock.now_ms();
        for event in &batch {
            self.summary.events += 1;
            if let Applied::Ignored(reason) = self.model.apply(event, now) {
                self.summary.events_ignored += 1;
                tracing::trace!(cluster = event.cluster(), %reason, "event ignored");
            }
        }
        self.live
            .events
            .store(self.summary.events, Ordering::Relaxed);
    }

    /// Answers a question from a [`PipelineHandle`] (a receiver that went away is ignored).
    fn answer(&mut self, request: ModelRequest) {
        match request {
            ModelRequest::GroupDetail {
                cluster,
                group,
                reply,
            } => {
                let _ = reply.send(self.model.group_detail(&cluster, &group));
            }
            ModelRequest::DeleteGroup {
                cluster,
                group,
                reply,
            } => {
                let event = Event::GroupDeleted {
                    cluster: cluster.clone(),
                    group: group.clone(),
                };
                let existed = matches!(
                    self.model.apply(&event, self.clock.now_ms()),
                    Applied::Stored
                );
                tracing::info!(%cluster, %group, existed, "group deleted through the API");
                let _ = reply.send(existed);
            }
            ModelRequest::DeleteGroupTopic {
                cluster,
                group,
                topic,
                reply,
            } => {
                let existed = self.model.remove_group_topic(&cluster, &group, &topic);
                tracing::info!(%cluster, %group, %topic, existed, "topic removed from a group through the API");
                let _ = reply.send(existed);
            }
        }
    }

    fn evaluate(
        &mut self,
        latest: &watch::Sender<Snapshot>,
        rules: &mut dyn RuleEngine,
        sinks: &[SinkWorker],
        persister: &PersisterHandle,
        handover: &mut HandoverLink,
    ) {
        let started = Instant::now();
        self.summary.cycles += 1;
        let cycle = self.summary.cycles;
        let now = self.clock.now_ms();
        self.last_evaluated_ms = Some(now);
        let mut data = self.model.snapshot(now, &self.evaluator, cycle);
        if handover.shares_a_cluster() {
            data.topics
                .retain(|t| handover.reports_topic(&t.cluster, &t.topic));
        }
        let snapshot = Snapshot::new(data);
        let changes = self.tracker.observe(&snapshot);
        for sink in sinks {
            sink.offer(snapshot.clone());
        }
        let notifications = match handover.rules_view(&snapshot) {
            Some(view) => rules.evaluate(&view),
            None => rules.evaluate(&snapshot),
        };
        self.summary.notifications += notifications.len() as u64;
        if !notifications.is_empty() {
            let mut log = self
                .live
                .alerts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for n in &notifications {
                log.record(n);
            }
        }
        for n in &notifications {
            tracing::info!(
                rule = %n.rule, state = %n.state, severity = %n.severity,
                labels = ?n.labels, value = n.value, key = %n.idempotency_key, "alert"
            );
        }
        // The open alerts and this evaluation's notifications go to the outbox together;
        // the alerters get them from there once they are on disk.
        let alert_state = rules.alert_state();
        if !notifications.is_empty() || alert_state != self.sent_alert_state {
            self.sent_alert_state = alert_state.clone();
            persister.send(Job::Alerts {
                rules: alert_state,
                notifications,
            });
        }
        handover.after_evaluation(rules);
        self.save(rules, persister, false);
        let partitions: usize = snapshot.groups().iter().map(|g| g.partitions.len()).sum();
        let warming_up = snapshot.groups().iter().filter(|g| g.warming_up).count();
        latest.send_replace(snapshot.clone());
        self.live.cycles.store(cycle, Ordering::Relaxed);
        self.live.last_evaluation_us.store(
            u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        tracing::debug!(
            cycle,
            groups = snapshot.groups().len(),
            partitions,
            warming_up_groups = warming_up,
            status_changes = changes,
            took_us = started.elapsed().as_micros() as u64,
            "evaluation cycle"
        );
    }

    /// Hands the windows to the persister when the save interval has passed (or `force`),
    /// unless the previous save is still being written.
    fn save(&mut self, rules: &dyn RuleEngine, persister: &PersisterHandle, force: bool) {
        if !self.persist {
            return;
        }
        let now = self.clock.now_ms();
        let due = self
            .last_saved_ms
            .is_none_or(|last| now.saturating_sub(last) >= self.save_interval_ms);
        if !(force || due) {
            return;
        }
        let busy = persister.model_busy.swap(true, Ordering::AcqRel);
        if busy && !force {
            tracing::debug!("previous state save still being written; skipping this one");
            return;
        }
        self.last_saved_ms = Some(now);
        persister.send(Job::Model {
            model: self.model.save_state(now),
            windows: rules.window_state(),
        });
    }
}

fn spawn_sink(sink: Box<dyn LagSink>, capacity: usize, tasks: &mut Tasks) -> SinkWorker {
    let name = sink.name().to_owned();
    let queue = Arc::new(DropOldestQueue::new(capacity));
    let counters = Arc::new(Counters::default());
    let (q, c, n) = (queue.clone(), counters.clone(), name.clone());
    tasks.spawn(&name, async move {
        while let Some(snapshot) = q.pop().await {
            match sink.write(&snapshot).await {
                Ok(ack) => {
                    Counters::add(&c.accepted, 1);
                    Counters::add(&c.records, ack.records as u64);
                }
                Err(e) => {
                    Counters::add(&c.failed, 1);
                    tracing::warn!(sink = %n, cycle = snapshot.cycle(), error = %e, "sink write failed");
                }
            }
        }
        if let Err(e) = sink.flush().await {
            tracing::error!(sink = %n, error = %e, "sink flush failed at shutdown");
        }
    });
    SinkWorker {
        name,
        queue,
        counters,
    }
}

/// Waits before delivering a notification again after its alerter gave up on it with a
/// transient error: 5 s, doubling, at most a minute.
fn redelivery_delay(round: u32) -> Duration {
    Duration::from_secs(5)
        .saturating_mul(2u32.saturating_pow(round.saturating_sub(1).min(8)))
        .min(Duration::from_secs(60))
}

fn spawn_alerter(
    alerter: Box<dyn Alerter>,
    index: usize,
    queue: Arc<AlertQueue>,
    persister: &PersisterHandle,
    stopping: &CancellationToken,
    tasks: &mut Tasks,
) -> AlertWorker {
    let name = alerter.name().to_owned();
    let counters = Arc::new(Counters::default());
    let (q, c, n, stopping) = (
        queue.clone(),
        counters.clone(),
        name.clone(),
        stopping.clone(),
    );
    let done = persister.done_sender();
    tasks.spawn(&name, async move {
        // Notifications go out in order: a notification that cannot be delivered yet holds
        // back the ones behind it (a resolved notification never overtakes its firing one).
        'queue: while let Some(item) = q.pop().await {
            let mut round = 0u32;
            loop {
                match alerter.deliver(&item.notification).await {
                    Ok(d) => {
                        Counters::add(&c.accepted, 1);
                        Counters::add(&c.records, u64::from(d.attempts));
                        break;
                    }
                    Err(e) if e.class == lagwatch_component::ErrorClass::Transient => {
                        Counters::add(&c.failed, 1);
                        round += 1;
                        let wait = redelivery_delay(round);
                        tracing::warn!(alerter = %n, incident = %item.notification.incident_id,
                            key = %item.notification.idempotency_key, error = %e, retry_in = ?wait,
                            "notification not delivered yet; it stays in the outbox");
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = stopping.cancelled() => break 'queue,
                        }
                    }
                    Err(e) => {
                        Counters::add(&c.failed, 1);
                        tracing::error!(alerter = %n, incident = %item.notification.incident_id,
                            key = %item.notification.idempotency_key, error = %e,
                            "notification refused for good; removed from the outbox");
                        break;
                    }
                }
            }
            let _ = done.send(Job::Done {
                alerter: index,
                seq: item.seq,
            });
        }
    });
    AlertWorker {
        name,
        queue,
        counters,
    }
}
