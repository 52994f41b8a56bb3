//! Conformance checks every [`LagSink`] must pass.
//!
//! ```
//! use lagwatch_component::{async_trait, Ack, ComponentError, LagSink};
//! use lagwatch_core::Snapshot;
//! use lagwatch_test_support::{conformance::sink::check_sink, sample};
//!
//! /// A sink that accepts every record and keeps nothing.
//! struct Discard;
//!
//! #[async_trait]
//! impl LagSink for Discard {
//!     fn name(&self) -> &str {
//!         "discard"
//!     }
//!     async fn healthcheck(&self) -> Result<(), ComponentError> {
//!         Ok(())
//!     }
//!     async fn write(&self, snapshot: &Snapshot) -> Result<Ack, ComponentError> {
//!         Ok(Ack { records: sample::record_count(snapshot, false) })
//!     }
//!     async fn flush(&self) -> Result<(), ComponentError> {
//!         Ok(())
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! check_sink(&Discard, |s| sample::record_count(s, false)).await.unwrap();
//! # });
//! ```

use crate::sample;
use lagwatch_component::{Ack, LagSink};
use lagwatch_core::Snapshot;

/// Runs the shared sink behaviour checks against `sink` and returns a description of the
/// first violation as `Err` (like the source and alerter checks, so a test can add context).
///
/// `expect_records` says how many records the sink should acknowledge for a snapshot (for
/// example [`sample::record_count`]).
///
/// Checked, in order:
/// 1. `name()` is non-empty and `healthcheck()` succeeds;
/// 2. every snapshot of [`sample::snapshots`] is written and acknowledged with
///    `expect_records(snapshot)` records (this covers every partition status, a NOTFOUND
///    group, a stale group and topics);
/// 3. an empty snapshot is accepted and acknowledged with 0 records;
/// 4. `flush()` succeeds, twice in a row;
/// 5. a write after a flush still succeeds with the expected count, and a final flush
///    succeeds.
pub async fn check_sink<S, F>(sink: &S, expect_records: F) -> Result<(), String>
where
    S: LagSink + ?Sized,
    F: Fn(&Snapshot) -> usize,
{
    let name = sink.name().to_owned();
    if name.is_empty() {
        return Err("sink name must not be empty".into());
    }
    sink.healthcheck()
        .await
        .map_err(|e| format!("sink {name}: healthcheck failed: {e}"))?;

    for snapshot in sample::snapshots() {
        write_expecting(sink, &name, &snapshot, expect_records(&snapshot)).await?;
    }

    let empty = sample::empty_snapshot(sample::SAMPLE_AT_MS + 40_000, 5);
    write_expecting(sink, &name, &empty, 0).await?;

    for attempt in 1..=2 {
        sink.flush()
            .await
            .map_err(|e| format!("sink {name}: flush #{attempt} failed: {e}"))?;
    }

    let after = sample::snapshot_at(sample::SAMPLE_AT_MS + 50_000, 6);
    write_expecting(sink, &name, &after, expect_records(&after)).await?;
    sink.flush()
        .await
        .map_err(|e| format!("sink {name}: flush after a write following a flush failed: {e}"))
}

async fn write_expecting<S: LagSink + ?Sized>(
    sink: &S,
    name: &str,
    snapshot: &Snapshot,
    expected: usize,
) -> Result<(), String> {
    match sink.write(snapshot).await {
        Ok(Ack { records }) if records == expected => Ok(()),
        Ok(Ack { records }) => Err(format!(
            "sink {name}: acknowledged {records} records for cycle {} ({} groups, {} topics), expected {expected}",
            snapshot.cycle(),
            snapshot.groups().len(),
            snapshot.topics().len(),
        )),
        Err(e) => Err(format!(
            "sink {name}: write of cycle {} failed: {e}",
            snapshot.cycle()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagwatch_component::{ComponentError, async_trait};
    use std::sync::Mutex;

    /// Counts records the way a well-behaved sink does and remembers the cycles it saw.
    struct Recording(Mutex<Vec<u64>>);

    #[async_trait]
    impl LagSink for Recording {
        fn name(&self) -> &str {
            "recording"
        }
        async fn healthcheck(&self) -> Result<(), ComponentError> {
            Ok(())
        }
        async fn write(&self, snapshot: &Snapshot) -> Result<Ack, ComponentError> {
            self.0.lock().unwrap().push(snapshot.cycle());
            Ok(Ack {
                records: sample::record_count(snapshot, true),
            })
        }
        async fn flush(&self) -> Result<(), ComponentError> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_correct_sink_passes() {
        let sink = Recording(Mutex::new(Vec::new()));
        check_sink(&sink, |s| sample::record_count(s, true))
            .await
            .unwrap();
        assert_eq!(*sink.0.lock().unwrap(), [1, 2, 3, 4, 5, 6]);
    }

    #[tokio::test]
    async fn a_miscounting_sink_fails() {
        let sink = Recording(Mutex::new(Vec::new()));
        let err = check_sink(&sink, |s| sample::record_count(s, false))
            .await
            .unwrap_err();
        assert!(err.contains("acknowledged"), "{err}");
    }
}
