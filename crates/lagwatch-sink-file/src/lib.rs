//! # lagwatch-sink-file
//!
//! A [`LagSink`] that appends every evaluation to a file as newline-delimited JSON: one
//! document per line, exactly the document Telegraf's Elasticsearch output writes for
//! `burrow_group`, `burrow_partition` and (with `topics = true`) `burrow_topic` records
//! (see [`lagwatch_core::measurement`]). The file can be bulk-loaded into Elasticsearch, read
//! by a log shipper, or processed with `jq`.
//!
//! ## Durability
//!
//! Each snapshot is serialised into one buffer and appended with a single write. With
//! [`FsyncPolicy::Always`] (the default) the data is synced to disk before `write` returns,
//! so an acknowledged snapshot survives a power cut; with [`FsyncPolicy::Never`] the
//! operating system decides (a crash of lagwatch loses nothing; a power cut may), and
//! [`flush`](LagSink::flush) syncs. A write that fails is cut back out of the file and not
//! acknowledged.
//!
//! A crash in the middle of a write can leave a torn last line. When the sink opens a file
//! that does not end with a newline it truncates it back to just after the last newline and
//! logs a warning with the number of bytes removed, so readers only ever see whole documents.
//!
//! ## Rotation and retention
//!
//! The active file keeps the configured name. It is renamed to
//! `<stem>-<YYYY-MM-DD>.<n>.<ext>` (for `lag.ndjson`: `lag-2019-08-19.1.ndjson`, then `.2`, …)
//! when
//!
//! * `rotate_bytes` is non-zero and the next snapshot would make it larger than that (the
//!   rotation happens before the write, so a snapshot never spans two files, and a single
//!   snapshot larger than the limit still goes whole into a fresh file); or
//! * `rotate_daily` is set and the next snapshot's UTC day differs from the day of the data
//!   in the file (after a restart, read back from the last document).
//!
//! The date in the rotated name is the UTC day of the data in that file; `n` counts up from 1
//! within a day. A file name without an extension gets no extension in rotated names. With
//! `max_files` non-zero (14 by default), the oldest rotated files (by date, then number) are
//! deleted so that at most `max_files` remain; the active file is not counted. If the active file is removed
//! or renamed by someone else, the next write creates it again.
//!
//! All file I/O of `write`, `flush` and `healthcheck` runs on Tokio's blocking thread pool.
//! [`FileSink::from_config`] does its (short) I/O directly; call it at startup.
//!
//! ```
//! use lagwatch_component::{FromConfig, LagSink};
//! use lagwatch_config::types::FileSinkConfig;
//! use lagwatch_core::report::GroupReport;
//! use lagwatch_core::snapshot::SnapshotData;
//! use lagwatch_core::Snapshot;
//! use lagwatch_sink_file::FileSink;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("lag/lag.ndjson");
//! let sink = FileSink::from_config("archive", &FileSinkConfig::new(&path)).unwrap();
//!
//! let snapshot = Snapshot::new(SnapshotData {
//!     at_ms: 1_566_203_530_000,
//!     cycle: 1,
//!     groups: vec![GroupReport::not_found("live", "ghost", 1_566_203_530_000)],
//!     topics: Vec::new(),
//! });
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let ack = sink.write(&snapshot).await.unwrap();
//! assert_eq!(ack.records, 1);
//! sink.flush().await.unwrap();
//! # });
//! let text = std::fs::read_to_string(&path).unwrap();
//! assert!(text.starts_with(r#"{"@timestamp":"2019-08-19T08:32:10Z","burrow_group":"#));
//! assert_eq!(text.lines().count(), 1);
//! ```

/// The README's example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod naming;
mod writer;

use lagwatch_component::{Ack, ComponentError, FromConfig, LagSink, async_trait};
use lagwatch_config::types::FileSinkConfig;
#[cfg(doc)]
use lagwatch_config::types::FsyncPolicy;
use lagwatch_core::Snapshot;
use lagwatch_core::measurement::MeasurementOptions;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use writer::Writer;

/// Component name used in errors.
pub(crate) const COMPONENT: &str = "sink.file";

/// Appends Telegraf-shaped JSON documents to a file; see the [crate documentation](crate).
#[derive(Debug)]
pub struct FileSink {
    config: FileSinkConfig,
    options: MeasurementOptions,
    writer: Arc<Mutex<Writer>>,
}

impl FromConfig for FileSink {
    type Config = FileSinkConfig;

    /// Creates the parent directories, opens (or creates) the file for appending, repairs a
    /// torn last line and applies `max_files`.
    ///
    /// Errors name the path: an unusable path or directory, missing permissions.
    fn from_config(_name: &str, config: &FileSinkConfig) -> Result<FileSink, ComponentError> {
        let config = config.clone();
        let writer = Writer::open(&config)?;
        let options = MeasurementOptions {
            host: None,
            include_topics: config.topics,
            native_fields: true,
        };
        Ok(FileSink {
            config,
            options,
            writer: Arc::new(Mutex::new(writer)),
        })
    }
}

impl FileSink {
    /// Replaces the options of the documents. The default has no `host` tag, lagwatch's
    /// native fields on, and `burrow_topic` records when the configuration's `topics` is set.
    pub fn with_measurement_options(mut self, options: MeasurementOptions) -> FileSink {
        self.options = options;
        self
    }

    /// The options used for documents.
    pub fn measurement_options(&self) -> &MeasurementOptions {
        &self.options
    }

    /// The active file's path.
    pub fn path(&self) -> &Path {
        &self.config.path
    }

    /// Bytes of torn last lines removed so far (at [`from_config`](Self::from_config), or when
    /// the file was reopened after a failed write); 0 when every file was intact.
    pub fn repaired_bytes(&self) -> u64 {
        self.writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .repaired_bytes
    }

    /// Runs `op` on the writer on the blocking pool.
    async fn blocking<T, F>(&self, op: F) -> Result<T, ComponentError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Writer) -> Result<T, ComponentError> + Send + 'static,
    {
        let writer = Arc::clone(&self.writer);
        let joined = tokio::task::spawn_blocking(move || {
            let mut guard = writer.lock().unwrap_or_else(PoisonError::into_inner);
            op(&mut guard)
        })
        .await;
        match joined {
            Ok(result) => result,
            Err(e) => Err(ComponentError::permanent(
                COMPONENT,
                format!(
                    "{}: the file task did not finish: {e}",
                    self.config.path.display()
                ),
            )),
        }
    }

    /// Number of data syncs issued so far (for tests of the fsync policy).
    #[cfg(test)]
    fn syncs(&self) -> u64 {
        self.writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .syncs
    }
}

#[async_trait]
impl LagSink for FileSink {
    fn name(&self) -> &str {
        "file"
    }

    /// Checks that the file is open, creating it again if it was removed.
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        self.blocking(|w| w.healthcheck()).await
    }

    async fn write(&self, snapshot: &Snapshot) -> Result<Ack, ComponentError> {
        let snapshot = snapshot.clone();
        let options = self.options.clone();
        let records = self
            .blocking(move |w| w.write_snapshot(&snapshot, &options))
            .await?;
        Ok(Ack { records })
    }

    /// Syncs the file to disk. The file stays open; later writes work as before.
    async fn flush(&self) -> Result<(), ComponentError> {
        self.blocking(|w| w.flush()).await
    }
}

#[cfg(test)]
mod tests;
