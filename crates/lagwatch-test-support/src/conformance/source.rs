//! Conformance checks for offset sources.
//!
//! [`check_source`] runs the behaviour every [`OffsetSource`] must have; [`check_event`]
//! checks one event's shape and can be used on its own (e.g. on events a source emitted in a
//! more specific test). [`run_until_reads`] runs a source until the reads it recorded
//! ([`SourceContext::record_read`]) satisfy a condition.
//!
//! The checks return `Err` with a readable message instead of panicking, so a test can add
//! context (`check_source(&src, 20, t).await.expect("demo source")` — or `unwrap_or_else` with
//! a `panic!`). A panic inside the source's `run` is caught and reported as an `Err` too.
//!
//! ```no_run
//! # async fn t(source: impl lagwatch_component::OffsetSource) {
//! use lagwatch_test_support::conformance::source::check_source;
//! use std::time::Duration;
//!
//! let events = check_source(&source, 20, Duration::from_secs(30))
//!     .await
//!     .unwrap_or_else(|e| panic!("source conformance: {e}"));
//! assert!(events.len() >= 20);
//! # }
//! ```

use lagwatch_component::stats::ReadRow;
use lagwatch_component::{
    CancellationToken, ComponentError, ErrorClass, EventSender, OffsetSource, SourceContext,
};
use lagwatch_core::Event;
use std::collections::HashSet;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// How long a source may take to return from `run` once cancelled or once its receiver is
/// gone. A bound on a hang, not a speed requirement.
pub const RETURN_BOUND: Duration = Duration::from_secs(10);

/// Batches the test channel holds. Small on purpose: after cancellation the channel is no
/// longer read, so a source that waits on a full channel without watching its shutdown token
/// hangs and fails the check.
const CHANNEL_CAPACITY: usize = 4;

/// The component name [`run_until_reads`] gives the source's [`EventSender`] (the `source`
/// of every [`ReadRow`] it returns).
pub const READS_COMPONENT: &str = "source-under-test";

/// Runs `source` (its events are received and dropped) until the rows of its read log
/// satisfy `done`, then cancels it and returns the rows.
///
/// Fails with the rows seen when that does not happen within `timeout`, or when `run`
/// returns or panics before.
pub async fn run_until_reads<S, F>(
    source: &S,
    done: F,
    timeout: Duration,
) -> Result<Vec<ReadRow>, String>
where
    S: OffsetSource + ?Sized,
    F: Fn(&[ReadRow]) -> bool,
{
    let (events, mut rx) = EventSender::channel(READS_COMPONENT, CHANNEL_CAPACITY);
    let log = events.read_log().clone();
    let shutdown = CancellationToken::new();
    let ctx = SourceContext {
        events,
        shutdown: shutdown.clone(),
    };
    let watch = async {
        loop {
            tokio::select! {
                _ = rx.recv() => {}
                () = tokio::time::sleep(Duration::from_millis(10)) => {}
            }
            let rows = log.rows();
            if done(&rows) {
                return rows;
            }
        }
    };
    let run = CatchPanic(Box::pin(source.run(ctx)));
    let result = tokio::select! {
        rows = watch => Ok(rows),
        res = run => Err(format!(
            "{}: run returned before its reads were as expected ({}); reads: {:?}",
            source.name(),
            match res {
                Ok(Ok(())) => String::from("Ok"),
                Ok(Err(e)) => format!("error: {e}"),
                Err(panic) => format!("panic: {panic}"),
            },
            log.rows()
        )),
        () = tokio::time::sleep(timeout) => Err(format!(
            "{}: reads not as expected within {timeout:?}: {:?}",
            source.name(),
            log.rows()
        )),
    };
    shutdown.cancel();
    result
}

/// Runs the common source behaviour checks and returns the events collected.
///
/// In order:
/// 1. [`OffsetSource::name`] is not empty;
/// 2. [`OffsetSource::healthcheck`] returns `Ok` (within `timeout`);
/// 3. `run` is started with a fresh channel and cancellation token, and at least
///    `min_events` events are collected within `timeout` (`run` returning before that, with
///    `Ok` or an error, fails the check);
/// 4. no batch is empty and every collected event passes [`check_event`];
/// 5. the token is cancelled and the channel no longer read: `run` must return `Ok` within
///    [`RETURN_BOUND`];
/// 6. `run` is started again with the receiving side of the channel already dropped: it must
///    return `Ok` or an error of class [`ErrorClass::Closed`] within `timeout` plus
///    [`RETURN_BOUND`] (the token is cancelled after `timeout` in case the source never
///    tries to send).
///
/// A panic inside `run` or `healthcheck` is reported as `Err`, never propagated.
///
/// Needs a Tokio runtime with the time driver enabled (`#[tokio::test]`).
pub async fn check_source<S: OffsetSource + ?Sized>(
    source: &S,
    min_events: usize,
    timeout: Duration,
) -> Result<Vec<Event>, String> {
    let name = source.name().to_owned();
    if name.trim().is_empty() {
        return Err("name() is empty".into());
    }
    let who = format!("source {name:?}");

    match tokio::time::timeout(timeout, CatchPanic(source.healthcheck())).await {
        Err(_) => {
            return Err(format!(
                "{who}: healthcheck did not answer within {timeout:?}"
            ));
        }
        Ok(Err(panic)) => return Err(format!("{who}: healthcheck panicked: {panic}")),
        Ok(Ok(Err(e))) => return Err(format!("{who}: healthcheck failed: {e}")),
        Ok(Ok(Ok(()))) => {}
    }

    let events = run_and_cancel(source, &who, min_events, timeout).await?;
    run_without_receiver(source, &who, timeout).await?;
    Ok(events)
}

/// Checks 3 to 5 of [`check_source`].
async fn run_and_cancel<S: OffsetSource + ?Sized>(
    source: &S,
    who: &str,
    min_events: usize,
    timeout: Duration,
) -> Result<Vec<Event>, String> {
    let (sender, mut receiver) = EventSender::channel("conformance", CHANNEL_CAPACITY);
    let shutdown = CancellationToken::new();
    let ctx = SourceContext {
        events: sender,
        shutdown: shutdown.clone(),
    };
    let mut run = CatchPanic(source.run(ctx));
    let mut events = Vec::new();

    // `Ok(true)`: enough events; `Ok(false)`: the channel closed first (the source's sender
    // is gone, so `run` has returned or is about to); `Err`: a failure already described.
    let collected: Result<bool, String> = {
        let collect = async {
            while events.len() < min_events {
                match receiver.recv().await {
                    Some(batch) => {
                        check_batch(&batch).map_err(|e| format!("{who}: {e}"))?;
                        events.extend(batch);
                    }
                    None => return Ok(false),
                }
            }
            Ok(true)
        };
        tokio::select! {
            biased;
            done = collect => done,
            result = &mut run => Err(early_return(who, min_events, result)),
            () = tokio::time::sleep(timeout) => Err(String::new()),
        }
    };
    let collected = match collected {
        Ok(true) => Ok(()),
        Ok(false) => Err(match tokio::time::timeout(RETURN_BOUND, &mut run).await {
            Ok(result) => early_return(who, min_events, result),
            Err(_) => format!("{who}: the event channel closed but run did not return"),
        }),
        Err(e) if e.is_empty() => Err(format!(
            "{who}: only {} of {min_events} events within {timeout:?}",
            events.len()
        )),
        Err(e) => Err(e),
    };
    if let Err(e) = collected {
        shutdown.cancel();
        return Err(e);
    }

    shutdown.cancel();
    // The receiver stays alive but unread: the source must notice the cancellation even if
    // it is waiting for room in the channel.
    let finished = tokio::time::timeout(RETURN_BOUND, &mut run).await;
    drop(receiver);
    match finished {
        Err(_) => Err(format!(
            "{who}: run did not return within {RETURN_BOUND:?} after cancellation"
        )),
        Ok(Err(panic)) => Err(format!("{who}: run panicked after cancellation: {panic}")),
        Ok(Ok(Err(e))) => Err(format!(
            "{who}: run returned an error after cancellation: {e}"
        )),
        Ok(Ok(Ok(()))) => Ok(events),
    }
}

/// Describes `run` finishing before the events were collected.
fn early_return(
    who: &str,
    min_events: usize,
    result: Result<Result<(), ComponentError>, String>,
) -> String {
    match result {
        Ok(Ok(())) => format!("{who}: run returned Ok before {min_events} events were sent"),
        Ok(Err(e)) => format!("{who}: run failed before {min_events} events were sent: {e}"),
        Err(panic) => format!("{who}: run panicked: {panic}"),
    }
}

/// Check 6 of [`check_source`].
async fn run_without_receiver<S: OffsetSource + ?Sized>(
    source: &S,
    who: &str,
    timeout: Duration,
) -> Result<(), String> {
    let (sender, receiver) = EventSender::channel("conformance", CHANNEL_CAPACITY);
    drop(receiver);
    let shutdown = CancellationToken::new();
    let ctx = SourceContext {
        events: sender,
        shutdown: shutdown.clone(),
    };
    let mut run = CatchPanic(source.run(ctx));
    let first = tokio::time::timeout(timeout, &mut run).await;
    let result = match first {
        Ok(result) => result,
        Err(_) => {
            // The source never tried to send (or ignores the closed channel); it must still
            // stop when cancelled.
            shutdown.cancel();
            match tokio::time::timeout(RETURN_BOUND, &mut run).await {
                Ok(result) => result,
                Err(_) => {
                    return Err(format!(
                        "{who}: with the receiver dropped, run neither returned within \
                         {timeout:?} nor within {RETURN_BOUND:?} of cancellation"
                    ));
                }
            }
        }
    };
    match result {
        Err(panic) => Err(format!(
            "{who}: run panicked with the receiver dropped: {panic}"
        )),
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) if e.class == ErrorClass::Closed => Ok(()),
        Ok(Err(e)) => Err(format!(
            "{who}: with the receiver dropped, run must return Ok or a closed error, got a \
             {} error: {e}",
            e.class
        )),
    }
}

/// Checks one batch: every event, plus no partition twice in one `BrokerOffsets`.
fn check_batch(batch: &[Event]) -> Result<(), String> {
    if batch.is_empty() {
        return Err("sent an empty batch".into());
    }
    for event in batch {
        check_event(event)?;
    }
    Ok(())
}

/// Checks the shape of one event: names are not empty, partitions and offsets are not
/// negative, a log start is not above its high-water mark, broker offsets name partitions
/// below the partition count and each at most once, member assignments name a topic and a
/// partition.
pub fn check_event(event: &Event) -> Result<(), String> {
    let fail = |what: String| Err(format!("malformed event ({what}): {event:?}"));
    if event.cluster().trim().is_empty() {
        return fail("empty cluster name".into());
    }
    match event {
        Event::BrokerOffsets {
            topic,
            partition_count,
            offsets,
            ..
        } => {
            if topic.trim().is_empty() {
                return fail("empty topic name".into());
            }
            let mut seen = HashSet::new();
            for o in offsets {
                if o.partition < 0 {
                    return fail(format!("negative partition {}", o.partition));
                }
                if u32::try_from(o.partition).map_or(true, |p| p >= *partition_count) {
                    return fail(format!(
                        "partition {} not below the partition count {partition_count}",
                        o.partition
                    ));
                }
                if !seen.insert(o.partition) {
                    return fail(format!("partition {} listed twice", o.partition));
                }
                if o.high_water < 0 {
                    return fail(format!("negative high-water mark {}", o.high_water));
                }
                if let Some(start) = o.log_start {
                    if start < 0 {
                        return fail(format!("negative log start {start}"));
                    }
                    if start > o.high_water {
                        return fail(format!(
                            "log start {start} above high-water mark {}",
                            o.high_water
                        ));
                    }
                }
            }
        }
        Event::Commit {
            group,
            topic,
            partition,
            offset,
            timestamp_ms,
            ..
        } => {
            if group.trim().is_empty() {
                return fail("empty group name".into());
            }
            if topic.trim().is_empty() {
                return fail("empty topic name".into());
            }
            if *partition < 0 {
                return fail(format!("negative partition {partition}"));
            }
            if *offset < 0 {
                return fail(format!("negative offset {offset}"));
            }
            if *timestamp_ms < 0 {
                return fail(format!("negative timestamp {timestamp_ms}"));
            }
        }
        Event::Members {
            group, assignments, ..
        } => {
            if group.trim().is_empty() {
                return fail("empty group name".into());
            }
            for a in assignments {
                if a.topic.trim().is_empty() {
                    return fail("assignment with an empty topic name".into());
                }
                if a.partition < 0 {
                    return fail(format!("assignment of negative partition {}", a.partition));
                }
            }
        }
        Event::GroupDeleted { group, .. } if group.trim().is_empty() => {
            return fail("empty group name".into());
        }
        Event::TopicDeleted { topic, .. } if topic.trim().is_empty() => {
            return fail("empty topic name".into());
        }
        Event::OffsetDeleted {
            group,
            topic,
            partition,
            ..
        } => {
            if group.trim().is_empty() || topic.trim().is_empty() {
                return fail("offset deletion with an empty group or topic name".into());
            }
            if *partition < 0 {
                return fail(format!("offset deletion of negative partition {partition}"));
            }
        }
        // Health reports, well-formed deletions and kinds added later: nothing more to check.
        _ => {}
    }
    Ok(())
}

/// Polls a boxed future, turning a panic into `Err(message)`.
struct CatchPanic<F>(Pin<Box<F>>)
where
    F: Future + ?Sized;

impl<F: Future + ?Sized> Future for CatchPanic<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-text panic payload)".into()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use lagwatch_component::async_trait;
    use lagwatch_core::{BrokerOffset, MemberAssignment};

    /// How a test source misbehaves.
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Good,
        PanicInRun,
        IgnoresCancel,
        ReturnsEarly,
        TooFewEvents,
        Malformed,
        UnhealthyHealthcheck,
        PermanentErrorWhenClosed,
        EmptyName,
    }

    struct Fake(Mode);

    fn broker(partition: i32, high_water: i64, log_start: Option<i64>) -> Event {
        Event::BrokerOffsets {
            cluster: "c".into(),
            topic: "t".into(),
            partition_count: 2,
            offsets: vec![BrokerOffset {
                partition,
                high_water,
                log_start,
            }],
            observed_ms: 1,
        }
    }

    #[async_trait]
    impl OffsetSource for Fake {
        fn name(&self) -> &str {
            if self.0 == Mode::EmptyName {
                ""
            } else {
                "fake"
            }
        }
        async fn healthcheck(&self) -> Result<(), ComponentError> {
            if self.0 == Mode::UnhealthyHealthcheck {
                return Err(ComponentError::transient("fake", "unreachable"));
            }
            Ok(())
        }
        async fn run(&self, ctx: SourceContext) -> Result<(), ComponentError> {
            let mut sent = 0;
            loop {
                match self.0 {
                    Mode::PanicInRun if sent == 2 => panic!("boom"),
                    Mode::ReturnsEarly if sent == 2 => return Ok(()),
                    Mode::TooFewEvents if sent == 2 => {
                        ctx.shutdown.cancelled().await;
                        return Ok(());
                    }
                    _ => {}
                }
                let event = if self.0 == Mode::Malformed && sent == 3 {
                    broker(0, 5, Some(9))
                } else {
                    broker(1, 10 + sent, Some(0))
                };
                let send = ctx.events.send(event);
                if self.0 == Mode::IgnoresCancel {
                    // Waits for room in the channel without looking at the token.
                    if send.await.is_err() {
                        return Ok(());
                    }
                } else {
                    tokio::select! {
                        () = ctx.shutdown.cancelled() => return Ok(()),
                        r = send => if let Err(e) = r {
                            if self.0 == Mode::PermanentErrorWhenClosed {
                                return Err(ComponentError::permanent("fake", "lost"));
                            }
                            return Err(e);
                        },
                    }
                }
                sent += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }

    async fn check(mode: Mode) -> Result<Vec<Event>, String> {
        check_source(&Fake(mode), 8, Duration::from_secs(5)).await
    }

    #[tokio::test(start_paused = true)]
    async fn a_well_behaved_source_passes() {
        let events = check(Mode::Good).await.unwrap();
        assert!(events.len() >= 8);
    }

    #[tokio::test(start_paused = true)]
    async fn misbehaviour_is_reported() {
        let cases = [
            (Mode::PanicInRun, "panicked: boom"),
            (Mode::IgnoresCancel, "did not return"),
            (Mode::ReturnsEarly, "returned Ok before"),
            (Mode::TooFewEvents, "only 2 of 8"),
            (Mode::Malformed, "log start 9 above"),
            (Mode::UnhealthyHealthcheck, "healthcheck failed"),
            (
                Mode::PermanentErrorWhenClosed,
                "must return Ok or a closed error",
            ),
            (Mode::EmptyName, "name() is empty"),
        ];
        for (mode, expected) in cases {
            let err = check(mode).await.expect_err(expected);
            assert!(err.contains(expected), "expected {expected:?} in {err:?}");
        }
    }

    #[test]
    fn malformed_events_are_rejected() {
        let bad = [
            broker(-1, 5, None),
            broker(2, 5, None),
            broker(0, -5, None),
            broker(0, 5, Some(-1)),
            broker(0, 5, Some(6)),
            Event::BrokerOffsets {
                cluster: "c".into(),
                topic: "t".into(),
                partition_count: 2,
                offsets: vec![
                    BrokerOffset {
                        partition: 0,
                        high_water: 1,
                        log_start: None,
                    };
                    2
                ],
                observed_ms: 1,
            },
            Event::Commit {
                cluster: "c".into(),
                group: "".into(),
                topic: "t".into(),
                partition: 0,
                offset: 1,
                timestamp_ms: 1,
                order: None,
            },
            Event::Commit {
                cluster: "c".into(),
                group: "g".into(),
                topic: "t".into(),
                partition: 0,
                offset: -1,
                timestamp_ms: 1,
                order: None,
            },
            Event::Commit {
                cluster: "".into(),
                group: "g".into(),
                topic: "t".into(),
                partition: 0,
                offset: 1,
                timestamp_ms: 1,
                order: None,
            },
            Event::Members {
                cluster: "c".into(),
                group: "g".into(),
                assignments: vec![MemberAssignment {
                    topic: "".into(),
                    partition: 0,
                    owner: "/h".into(),
                    client_id: "x".into(),
                }],
            },
            Event::TopicDeleted {
                cluster: "c".into(),
                topic: " ".into(),
            },
        ];
        for event in &bad {
            assert!(check_event(event).is_err(), "accepted {event:?}");
        }
        assert!(check_event(&broker(1, 5, Some(5))).is_ok());
        assert!(
            check_event(&Event::Members {
                cluster: "c".into(),
                group: "g".into(),
                assignments: vec![],
            })
            .is_ok()
        );
    }
}
