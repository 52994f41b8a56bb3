//! A bounded on-disk queue of documents that survives restarts and crashes.
//!
//! Documents are appended, one JSON line each, to numbered segment files
//! (`segment-<n>.ndjson`), and synced before [`Spool::append`] returns. A separate file,
//! `position`, holds the committed read position (segment and byte offset); it is replaced
//! atomically (write to a temporary file, sync, rename, sync the directory) after each batch
//! Elasticsearch has accepted. After a crash, at most the last batch read but not committed
//! is sent again — harmless, since ids are deterministic and written with `create` — and a
//! line torn by the crash (no final newline) is cut off.

use crate::EsError;
use crate::bulk::Doc;
use serde_json::{Value, json};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Largest size of one segment file before a new one is started.
pub const SEGMENT_BYTES: u64 = 16 * 1024 * 1024;

/// What to do when the spool is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FullPolicy {
    /// Keep what is spooled; refuse (and log) new documents.
    DropNewest,
    /// Delete the oldest segments to make room.
    DropOldest,
}

/// Where reading stands: a segment and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    /// Segment number.
    pub segment: u64,
    /// Byte offset in the segment.
    pub offset: u64,
}

#[derive(Debug)]
struct Inner {
    write_segment: u64,
    write_file: File,
    /// Bytes of whole lines in the segment being written; the file is cut back to this after
    /// a failed append.
    write_len: u64,
    /// A failed append could not be cut back: the next append cuts first.
    torn: bool,
    read: Cursor,
    /// Tests: the next append writes only this many bytes, then fails as a full disk would.
    #[cfg(test)]
    short_write: Option<usize>,
}

impl Inner {
    /// Appends `bytes` to the segment and syncs them.
    fn write_synced(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        #[cfg(test)]
        if let Some(n) = self.short_write.take() {
            self.write_file.write_all(&bytes[..n.min(bytes.len())])?;
            return Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "no space left on device (injected)",
            ));
        }
        self.write_file.write_all(bytes)?;
        self.write_file.sync_data()
    }

    /// Cuts the segment back to its last whole line (what `write_len` counts).
    fn cut_back(&mut self) -> std::io::Result<()> {
        self.write_file.set_len(self.write_len)?;
        self.write_file.sync_data()?;
        self.torn = false;
        Ok(())
    }
}

/// The on-disk queue.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    policy: FullPolicy,
    inner: Mutex<Inner>,
}

fn io(path: &Path, e: std::io::Error) -> EsError {
    EsError::Spool {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("segment-{n:020}.ndjson"))
}

/// Segment numbers present in `dir`, ascending.
fn segments(dir: &Path) -> Result<Vec<u64>, EsError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let entry = entry.map_err(|e| io(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name
            .strip_prefix("segment-")
            .and_then(|r| r.strip_suffix(".ndjson"))
            .and_then(|n| n.parse::<u64>().ok())
        {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

fn sync_dir(dir: &Path) -> Result<(), EsError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(dir, e))
}

impl Spool {
    /// Opens (or creates) the spool in `dir`, repairing a torn last line.
    pub fn open(dir: &Path, max_bytes: u64, policy: FullPolicy) -> Result<Spool, EsError> {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let position = dir.join("position");
        let mut read = match std::fs::read_to_string(&position) {
            Ok(text) => {
                let mut parts = text.split_whitespace().map(str::parse::<u64>);
                match (parts.next(), parts.next()) {
                    (Some(Ok(segment)), Some(Ok(offset))) => Cursor { segment, offset },
                    _ => {
                        return Err(EsError::Spool {
                            path: position.display().to_string(),
                            reason: format!("unreadable position {text:?}"),
                        });
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Cursor {
                segment: 0,
                offset: 0,
            },
            Err(e) => return Err(io(&position, e)),
        };
        let mut present = segments(dir)?;
        // Segments wholly before the read position were consumed.
        for n in present.iter().filter(|n| **n < read.segment) {
            let path = segment_path(dir, *n);
            std::fs::remove_file(&path).map_err(|e| io(&path, e))?;
        }
        present.retain(|n| *n >= read.segment);
        if read.segment == 0 {
            read.segment = present.first().copied().unwrap_or(1);
        }
        let write_segment = present
            .last()
            .copied()
            .unwrap_or(read.segment)
            .max(read.segment);
        let path = segment_path(dir, write_segment);
        let write_file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        // Cut a line torn by a crash.
        let text = std::fs::read(&path).map_err(|e| io(&path, e))?;
        let keep = text.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
        if keep < text.len() {
            tracing::warn!(path = %path.display(), bytes = text.len() - keep, "spool: cutting a line torn by a crash");
            write_file.set_len(keep as u64).map_err(|e| io(&path, e))?;
            write_file.sync_all().map_err(|e| io(&path, e))?;
        }
        sync_dir(dir)?;
        Ok(Spool {
            dir: dir.to_owned(),
            max_bytes,
            policy,
            inner: Mutex::new(Inner {
                write_segment,
                write_file,
                write_len: keep as u64,
                torn: false,
                read,
                #[cfg(test)]
                short_write: None,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes spooled and not yet committed as sent.
    pub fn pending_bytes(&self) -> u64 {
        let inner = self.lock();
        self.pending(&inner)
    }

    fn pending(&self, inner: &Inner) -> u64 {
        let mut total = 0;
        for n in inner.read.segment..=inner.write_segment {
            let len = if n == inner.write_segment {
                inner.write_len
            } else {
                std::fs::metadata(segment_path(&self.dir, n)).map_or(0, |m| m.len())
            };
            total += len;
        }
        total.saturating_sub(inner.read.offset)
    }

    /// Appends `docs` (synced before returning). Returns how many were accepted: all, or
    /// fewer when the spool is full under [`FullPolicy::DropNewest`] (the rest are dropped
    /// and logged).
    pub fn append(&self, docs: &[Doc]) -> Result<usize, EsError> {
        let mut inner = self.lock();
        let mut text = String::new();
        let mut accepted = 0;
        let mut pending = self.pending(&inner);
        for doc in docs {
            let line = json!({"index": doc.index, "id": doc.id, "source": doc.source}).to_string();
            let len = line.len() as u64 + 1;
            if pending + len > self.max_bytes {
                match self.policy {
                    FullPolicy::DropNewest => break,
                    FullPolicy::DropOldest => {
                        pending = self.drop_oldest(&mut inner, len)?;
                        if pending + len > self.max_bytes {
                            break;
                        }
                    }
                }
            }
            text.push_str(&line);
            text.push('\n');
            pending += len;
            accepted += 1;
        }
        if accepted < docs.len() {
            tracing::error!(
                dir = %self.dir.display(),
                dropped = docs.len() - accepted,
                max_bytes = self.max_bytes,
                first_dropped_index = %docs[accepted].index,
                first_dropped_id = %docs[accepted].id,
                "spool full: documents dropped"
            );
        }
        if text.is_empty() {
            return Ok(accepted);
        }
        if inner.write_len > 0 && inner.write_len + text.len() as u64 > SEGMENT_BYTES {
            let next = inner.write_segment + 1;
            let path = segment_path(&self.dir, next);
            inner.write_file = OpenOptions::new()
                .create(true)
                .read(true)
                .append(true)
                .open(&path)
                .map_err(|e| io(&path, e))?;
            inner.write_segment = next;
            inner.write_len = 0;
            inner.torn = false;
            sync_dir(&self.dir)?;
        }
        let path = segment_path(&self.dir, inner.write_segment);
        if inner.torn {
            // An earlier failed append left part of a line behind: appending after it would
            // glue that fragment to the next document and lose both.
            inner.cut_back().map_err(|e| io(&path, e))?;
        }
        if let Err(e) = inner.write_synced(text.as_bytes()) {
            // Not accepted, so take it back (a full disk can leave part of it written).
            inner.torn = true;
            match inner.cut_back() {
                Ok(()) => {
                    tracing::warn!(path = %path.display(), error = %e, "spool: append failed; cut the segment back to its last whole document")
                }
                Err(cut) => {
                    tracing::error!(path = %path.display(), error = %e, cut_error = %cut, "spool: append failed and the segment could not be cut back yet; the next append tries again")
                }
            }
            return Err(io(&path, e));
        }
        inner.write_len += text.len() as u64;
        Ok(accepted)
    }

    /// Tests: makes the next append write only `bytes` bytes and then fail.
    #[cfg(test)]
    fn inject_short_write(&self, bytes: usize) {
        self.lock().short_write = Some(bytes);
    }

    /// Deletes the oldest segments (never the one being written) until `need` more bytes
    /// fit; returns the new pending size.
    fn drop_oldest(&self, inner: &mut Inner, need: u64) -> Result<u64, EsError> {
        while self.pending(inner) + need > self.max_bytes
            && inner.read.segment < inner.write_segment
        {
            let path = segment_path(&self.dir, inner.read.segment);
            let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
            std::fs::remove_file(&path).map_err(|e| io(&path, e))?;
            tracing::error!(path = %path.display(), bytes, "spool full: oldest segment dropped");
            inner.read = Cursor {
                segment: inner.read.segment + 1,
                offset: 0,
            };
            self.write_position(inner.read)?;
        }
        Ok(self.pending(inner))
    }

    /// Reads up to `max_docs` documents / `max_bytes` bytes from the read position without
    /// consuming them; returns them and the cursor after them.
    pub fn peek(&self, max_docs: usize, max_bytes: usize) -> Result<(Vec<Doc>, Cursor), EsError> {
        let inner = self.lock();
        let mut cursor = inner.read;
        let mut docs = Vec::new();
        let mut bytes = 0;
        while cursor.segment <= inner.write_segment && docs.len() < max_docs && bytes < max_bytes {
            let path = segment_path(&self.dir, cursor.segment);
            let end = if cursor.segment == inner.write_segment {
                inner.write_len
            } else {
                std::fs::metadata(&path).map_err(|e| io(&path, e))?.len()
            };
            if cursor.offset >= end {
                if cursor.segment == inner.write_segment {
                    break;
                }
                cursor = Cursor {
                    segment: cursor.segment + 1,
                    offset: 0,
                };
                continue;
            }
            let mut file = File::open(&path).map_err(|e| io(&path, e))?;
            file.seek(SeekFrom::Start(cursor.offset))
                .map_err(|e| io(&path, e))?;
            let mut reader = BufReader::new(file);
            let mut line = String::new();
            while cursor.offset < end && docs.len() < max_docs && bytes < max_bytes {
                line.clear();
                let n = reader.read_line(&mut line).map_err(|e| io(&path, e))?;
                if n == 0 || !line.ends_with('\n') {
                    break;
                }
                cursor.offset += n as u64;
                bytes += n;
                match parse_line(&line) {
                    Some(doc) => docs.push(doc),
                    None => {
                        tracing::error!(path = %path.display(), offset = cursor.offset - n as u64, "spool: unreadable line skipped")
                    }
                }
            }
        }
        Ok((docs, cursor))
    }

    /// Marks everything before `cursor` as sent: writes the position durably and deletes
    /// segments that are wholly consumed.
    pub fn commit(&self, cursor: Cursor) -> Result<(), EsError> {
        let mut inner = self.lock();
        if cursor <= inner.read {
            return Ok(());
        }
        self.write_position(cursor)?;
        for n in inner.read.segment..cursor.segment {
            let path = segment_path(&self.dir, n);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&path, e)),
            }
        }
        inner.read = cursor;
        Ok(())
    }

    fn write_position(&self, cursor: Cursor) -> Result<(), EsError> {
        let tmp = self.dir.join("position.tmp");
        let position = self.dir.join("position");
        let mut file = File::create(&tmp).map_err(|e| io(&tmp, e))?;
        file.write_all(format!("{} {}\n", cursor.segment, cursor.offset).as_bytes())
            .and_then(|_| file.sync_all())
            .map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, &position).map_err(|e| io(&position, e))?;
        sync_dir(&self.dir)
    }
}

fn parse_line(line: &str) -> Option<Doc> {
    let v: Value = serde_json::from_str(line).ok()?;
    Some(Doc {
        index: v.get("index")?.as_str()?.to_owned(),
        id: v.get("id")?.as_str()?.to_owned(),
        source: v.get("source")?.as_str()?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(n: usize) -> Doc {
        Doc {
            index: "i".into(),
            id: format!("{n:032x}"),
            source: format!(r#"{{"n":{n}}}"#),
        }
    }

    #[test]
    fn survives_reopen_and_drains_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 1 << 20, FullPolicy::DropNewest).unwrap();
        assert_eq!(
            spool.append(&(0..5).map(doc).collect::<Vec<_>>()).unwrap(),
            5
        );
        let (docs, cursor) = spool.peek(2, usize::MAX).unwrap();
        assert_eq!(docs, [doc(0), doc(1)]);
        spool.commit(cursor).unwrap();
        drop(spool);
        // Reopened (a restart): the committed documents are gone, the rest come in order.
        let spool = Spool::open(dir.path(), 1 << 20, FullPolicy::DropNewest).unwrap();
        spool.append(&[doc(5)]).unwrap();
        let (docs, cursor) = spool.peek(100, usize::MAX).unwrap();
        assert_eq!(docs, (2..6).map(doc).collect::<Vec<_>>());
        // Not committed: a crash now sends them again.
        drop(spool);
        let spool = Spool::open(dir.path(), 1 << 20, FullPolicy::DropNewest).unwrap();
        assert_eq!(spool.peek(100, usize::MAX).unwrap().0.len(), 4);
        spool.commit(cursor).unwrap();
        assert_eq!(spool.pending_bytes(), 0);
        assert!(spool.peek(100, usize::MAX).unwrap().0.is_empty());
    }

    #[test]
    fn a_torn_last_line_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 1 << 20, FullPolicy::DropNewest).unwrap();
        spool.append(&[doc(0), doc(1)]).unwrap();
        drop(spool);
        let seg = segment_path(dir.path(), 1);
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(br#"{"index":"i","id":"x","sou"#).unwrap();
        drop(f);
        let spool = Spool::open(dir.path(), 1 << 20, FullPolicy::DropNewest).unwrap();
        spool.append(&[doc(2)]).unwrap();
        let (docs, _) = spool.peek(100, usize::MAX).unwrap();
        assert_eq!(docs, [doc(0), doc(1), doc(2)]);
    }

    #[test]
    fn a_failed_append_is_cut_back_and_loses_no_later_document() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 1 << 20, FullPolicy::DropNewest).unwrap();
        spool.append(&[doc(0)]).unwrap();
        spool.inject_short_write(17);
        let err = spool.append(&[doc(1)]).unwrap_err().to_string();
        assert!(
            err.contains("segment-") && err.contains("no space"),
            "{err}"
        );
        assert_eq!(spool.append(&[doc(2)]).unwrap(), 1);
        let (docs, cursor) = spool.peek(100, usize::MAX).unwrap();
        assert_eq!(docs, [doc(0), doc(2)]);
        let on_disk = std::fs::metadata(segment_path(dir.path(), 1))
            .unwrap()
            .len();
        assert_eq!(spool.pending_bytes(), on_disk);
        spool.commit(cursor).unwrap();
        assert_eq!(spool.pending_bytes(), 0);
        // And after a restart nothing is repaired or skipped either.
        drop(spool);
        let spool = Spool::open(dir.path(), 1 << 20, FullPolicy::DropNewest).unwrap();
        spool.append(&[doc(3)]).unwrap();
        assert_eq!(spool.peek(100, usize::MAX).unwrap().0, [doc(3)]);
    }

    #[test]
    fn full_spool_drops_newest_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let line = json!({"index": "i", "id": doc(0).id, "source": doc(0).source})
            .to_string()
            .len() as u64
            + 1;
        let spool = Spool::open(dir.path(), line * 3, FullPolicy::DropNewest).unwrap();
        assert_eq!(
            spool.append(&(0..5).map(doc).collect::<Vec<_>>()).unwrap(),
            3
        );
        assert_eq!(
            spool.peek(100, usize::MAX).unwrap().0,
            [doc(0), doc(1), doc(2)]
        );
    }
}
