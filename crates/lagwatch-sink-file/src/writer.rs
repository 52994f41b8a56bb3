//! The blocking part of the file sink: the active file, rotation, retention and crash repair.
//! Everything here runs on Tokio's blocking pool (or at construction time).

use crate::COMPONENT;
use crate::naming::{Naming, parse_date};
use lagwatch_component::ComponentError;
use lagwatch_config::types::{FileSinkConfig, FsyncPolicy};
use lagwatch_core::Snapshot;
use lagwatch_core::measurement::{MeasurementOptions, day_of, measurements};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// Bytes read at a time when scanning the end of a file backwards.
const SCAN_CHUNK: u64 = 64 * 1024;
/// Longest last line read to find the day of the data already in the file.
const MAX_LAST_LINE: u64 = 64 * 1024;

/// The state of the active file.
#[derive(Debug)]
pub(crate) struct Writer {
    path: PathBuf,
    naming: Naming,
    rotate_bytes: u64,
    rotate_daily: bool,
    max_files: usize,
    fsync: FsyncPolicy,
    /// `None` after a failed write: the next operation reopens (and repairs) the file.
    file: Option<File>,
    /// Bytes in the active file.
    size: u64,
    /// UTC day of the newest data in the active file, when known.
    day: Option<i64>,
    /// Number of data syncs issued (observable in tests).
    pub(crate) syncs: u64,
    /// Bytes of torn last lines cut so far when (re)opening the file.
    pub(crate) repaired_bytes: u64,
}

/// An I/O error as a component error naming what was done to which path. Errors that
/// retrying cannot fix (permissions, read-only file system, a directory in the way) are
/// permanent; the rest (a full disk, an I/O error) are transient.
pub(crate) fn io_error(action: &str, path: &Path, e: io::Error) -> ComponentError {
    use io::ErrorKind::*;
    let message = format!("{action} {}: {e}", path.display());
    // A file name the file system refuses (ENAMETOOLONG: `ErrorKind::InvalidFilename`, which
    // is newer than the crate's minimum Rust version) cannot be fixed by retrying either.
    const ENAMETOOLONG: i32 = 36;
    let name_refused = cfg!(target_os = "linux") && e.raw_os_error() == Some(ENAMETOOLONG);
    let error = match e.kind() {
        PermissionDenied | ReadOnlyFilesystem | IsADirectory | NotADirectory | InvalidInput => {
            ComponentError::permanent(COMPONENT, message)
        }
        _ if name_refused => ComponentError::permanent(COMPONENT, message),
        _ => ComponentError::transient(COMPONENT, message),
    };
    error.with_source(e)
}

impl Writer {
    /// Prepares the directory, opens (and if needed repairs) the active file and applies the
    /// retention limit.
    pub(crate) fn open(config: &FileSinkConfig) -> Result<Writer, ComponentError> {
        let naming = Naming::of(&config.path).ok_or_else(|| {
            ComponentError::permanent(
                COMPONENT,
                format!(
                    "file sink path {} must end in a file name made of UTF-8 characters",
                    config.path.display()
                ),
            )
        })?;
        fs::create_dir_all(&naming.dir)
            .map_err(|e| io_error("creating directory", &naming.dir, e))?;
        let mut writer = Writer {
            path: config.path.clone(),
            naming,
            rotate_bytes: config.rotate_bytes,
            rotate_daily: config.rotate_daily,
            max_files: config.max_files,
            fsync: config.fsync,
            file: None,
            size: 0,
            day: None,
            syncs: 0,
            repaired_bytes: 0,
        };
        writer.ensure_open()?;
        writer.apply_retention();
        Ok(writer)
    }

    /// Opens the active file if it is not open, or if it was removed or renamed behind our
    /// back (for example by an external log rotation).
    fn ensure_open(&mut self) -> Result<&mut File, ComponentError> {
        if self.file.is_some() && !self.path.exists() {
            tracing::info!(path = %self.path.display(), "active file disappeared; creating it again");
            self.file = None;
        }
        if self.file.is_none() {
            let (file, size, day) = self.open_active()?;
            self.size = size;
            self.day = day;
            self.file = Some(file);
        }
        match self.file.as_mut() {
            Some(file) => Ok(file),
            None => Err(ComponentError::permanent(
                COMPONENT,
                format!("{} could not be opened", self.path.display()),
            )),
        }
    }

    /// Opens the active file for appending, cuts a torn last line, and finds the size and the
    /// day of the data already in it.
    fn open_active(&mut self) -> Result<(File, u64, Option<i64>), ComponentError> {
        let existed = self.path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&self.path)
            .map_err(|e| io_error("opening", &self.path, e))?;
        if !existed && self.fsync == FsyncPolicy::Always {
            self.sync_dir();
        }
        let len = file
            .metadata()
            .map_err(|e| io_error("reading the size of", &self.path, e))?
            .len();
        let keep =
            complete_prefix_len(&mut file, len).map_err(|e| io_error("reading", &self.path, e))?;
        if keep < len {
            file.set_len(keep)
                .map_err(|e| io_error("cutting the torn last line of", &self.path, e))?;
            if self.fsync == FsyncPolicy::Always {
                file.sync_data()
                    .map_err(|e| io_error("syncing", &self.path, e))?;
                self.syncs += 1;
            }
            self.repaired_bytes += len - keep;
            tracing::warn!(
                path = %self.path.display(),
                removed_bytes = len - keep,
                "removed an incomplete last line (a write interrupted by a crash)"
            );
        }
        let day = if keep == 0 {
            None
        } else {
            last_line_day(&mut file, keep)
                .ok()
                .flatten()
                .or_else(|| modified_day(&file))
        };
        Ok((file, keep, day))
    }

    /// Best-effort sync of the directory, so a newly created or renamed file survives a power
    /// cut. Not every platform can sync a directory; failures are logged, not returned.
    fn sync_dir(&self) {
        let result = File::open(&self.naming.dir).and_then(|d| d.sync_all());
        if let Err(e) = result {
            tracing::debug!(dir = %self.naming.dir.display(), error = %e, "could not sync directory");
        }
    }

    /// Writes one snapshot: all documents in one buffer, one `write_all`, then a data sync
    /// under [`FsyncPolicy::Always`]. Returns the number of documents.
    pub(crate) fn write_snapshot(
        &mut self,
        snapshot: &Snapshot,
        options: &MeasurementOptions,
    ) -> Result<usize, ComponentError> {
        // Documents are rendered straight into the buffer, one record at a time: the buffer
        // is what the file gets, and it is written whole so that a failed write can be cut.
        let mut buffer = String::new();
        let records = measurements(snapshot, options)
            .map(|record| {
                record.write_document(&mut buffer);
                buffer.push('\n');
            })
            .count();
        if records == 0 {
            return Ok(0);
        }
        let len = buffer.len() as u64;
        let day = day_of(snapshot.at_ms());

        self.ensure_open()?;
        if self.size > 0 {
            let new_day = self.rotate_daily && self.day.is_some_and(|d| d != day);
            let too_big =
                self.rotate_bytes > 0 && self.size.saturating_add(len) > self.rotate_bytes;
            if new_day || too_big {
                self.rotate(self.day.unwrap_or(day))?;
            }
        }

        let before = self.size;
        let Some(file) = self.file.as_mut() else {
            return Err(ComponentError::transient(
                COMPONENT,
                format!("{} is not open", self.path.display()),
            ));
        };
        let mut result = file
            .write_all(buffer.as_bytes())
            .map_err(|e| io_error("writing to", &self.path, e));
        if result.is_ok() && self.fsync == FsyncPolicy::Always {
            result = file
                .sync_data()
                .map_err(|e| io_error("syncing", &self.path, e));
            self.syncs += 1;
        }
        if let Err(error) = result {
            // Not acknowledged, so take it back: cut what may have reached the file and reopen
            // before the next write (which also repairs the file if the cut failed).
            if let Err(e) = file.set_len(before) {
                tracing::warn!(path = %self.path.display(), error = %e, "could not cut a failed write");
            }
            self.file = None;
            return Err(error);
        }
        self.size = before + len;
        self.day = Some(day);
        Ok(records)
    }

    /// Renames the active file to the next rotated name for `name_day`, starts a new active
    /// file and applies retention.
    fn rotate(&mut self, name_day: i64) -> Result<(), ComponentError> {
        let existing = self
            .naming
            .list_rotated()
            .map_err(|e| io_error("listing", &self.naming.dir, e))?;
        let seq = existing
            .iter()
            .filter(|r| r.day == name_day)
            .map(|r| r.seq)
            .max()
            .unwrap_or(0)
            + 1;
        let target = self.naming.dir.join(self.naming.file_name(name_day, seq));
        let old = self.file.take();
        // The old file will not be written again: hand it to the disk now, so a rotated file
        // never stays unsynced for long. (Under `Always` it is synced already.)
        if let (Some(file), FsyncPolicy::Never) = (&old, self.fsync) {
            if let Err(e) = file.sync_data() {
                tracing::warn!(path = %self.path.display(), error = %e, "could not sync before rotating");
            }
        }
        drop(old);
        fs::rename(&self.path, &target).map_err(|e| {
            io_error(
                &format!("rotating (renaming to {})", target.display()),
                &self.path,
                e,
            )
        })?;
        tracing::info!(from = %self.path.display(), to = %target.display(), "rotated");
        // Creates the new active file; under `Always` this also syncs the directory, which
        // makes the rename durable too.
        self.ensure_open()?;
        self.apply_retention();
        Ok(())
    }

    /// Deletes the oldest rotated files beyond `max_files` (0 keeps all). Failures are logged:
    /// the data written so far is safe either way.
    fn apply_retention(&self) {
        if self.max_files == 0 {
            return;
        }
        let rotated = match self.naming.list_rotated() {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(dir = %self.naming.dir.display(), error = %e, "could not list rotated files");
                return;
            }
        };
        let excess = rotated.len().saturating_sub(self.max_files);
        for old in rotated.iter().take(excess) {
            match fs::remove_file(&old.path) {
                Ok(()) => {
                    tracing::info!(path = %old.path.display(), "deleted rotated file (max_files)")
                }
                Err(e) => {
                    tracing::warn!(path = %old.path.display(), error = %e, "could not delete rotated file")
                }
            }
        }
    }

    /// Forces everything written to disk; reopens the file first if a failed write closed it.
    pub(crate) fn flush(&mut self) -> Result<(), ComponentError> {
        let path = self.path.clone();
        let file = self.ensure_open()?;
        file.sync_data()
            .map_err(|e| io_error("syncing", &path, e))?;
        self.syncs += 1;
        Ok(())
    }

    /// Checks that the active file is open (opening it again if needed).
    pub(crate) fn healthcheck(&mut self) -> Result<(), ComponentError> {
        self.ensure_open().map(|_| ())
    }
}

/// Length of the longest prefix of the file (of length `len`) that ends with `\n`, i.e. the
/// file without a torn last line. 0 when the file has no newline at all.
fn complete_prefix_len(file: &mut File, len: u64) -> io::Result<u64> {
    if len == 0 {
        return Ok(0);
    }
    let mut end = len;
    let mut chunk = Vec::new();
    while end > 0 {
        let start = end.saturating_sub(SCAN_CHUNK);
        chunk.resize((end - start) as usize, 0);
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        if let Some(pos) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + pos as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// The UTC day of the `@timestamp` of the last line of the first `len` bytes (which end with a
/// newline). `None` when the line is too long or has no readable timestamp.
fn last_line_day(file: &mut File, len: u64) -> io::Result<Option<i64>> {
    let start = len.saturating_sub(MAX_LAST_LINE);
    let mut tail = vec![0u8; (len - start) as usize];
    file.seek(SeekFrom::Start(start))?;
    file.read_exact(&mut tail)?;
    let body = tail.strip_suffix(b"\n").unwrap_or(&tail);
    let line = match body.iter().rposition(|&b| b == b'\n') {
        Some(pos) => &body[pos + 1..],
        None if start == 0 => body,
        None => return Ok(None),
    };
    const KEY: &[u8] = b"\"@timestamp\":\"";
    let Some(at) = line.windows(KEY.len()).position(|w| w == KEY) else {
        return Ok(None);
    };
    let date = line.get(at + KEY.len()..at + KEY.len() + 10);
    Ok(date
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(parse_date))
}

/// The UTC day of the file's modification time, if the platform reports one.
fn modified_day(file: &File) -> Option<i64> {
    let modified = file.metadata().ok()?.modified().ok()?;
    let ms = modified.duration_since(UNIX_EPOCH).ok()?.as_millis();
    Some(day_of(i64::try_from(ms).ok()?))
}
