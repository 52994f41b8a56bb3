//! Names of rotated files: `<stem>-<YYYY-MM-DD>.<n>.<ext>`.

use lagwatch_core::measurement::{MS_PER_DAY, UtcDateTime, days_from_civil};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// How the active file's name splits into the parts rotated names are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Naming {
    /// Directory holding the active and the rotated files.
    pub dir: PathBuf,
    /// File name without its last extension (`lag` for `lag.ndjson`).
    pub stem: String,
    /// Last extension without the dot, if any (`ndjson`).
    pub ext: Option<String>,
}

/// A rotated file found on disk.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Rotated {
    /// UTC day (days since the epoch) of the data in the file.
    pub day: i64,
    /// Sequence number within that day, from 1.
    pub seq: u64,
    /// Full path.
    pub path: PathBuf,
}

impl Naming {
    /// Splits `path`; `None` when it has no usable UTF-8 file name.
    pub fn of(path: &Path) -> Option<Naming> {
        let name = path.file_name().and_then(OsStr::to_str)?;
        let (stem, ext) = match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => {
                (stem, Some(ext.to_owned()))
            }
            _ => (name, None),
        };
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Some(Naming {
            dir,
            stem: stem.to_owned(),
            ext,
        })
    }

    /// The file name for day `day` and sequence `seq`.
    pub fn file_name(&self, day: i64, seq: u64) -> String {
        let date = UtcDateTime::from_unix_ms(day.saturating_mul(MS_PER_DAY)).date_string();
        match &self.ext {
            Some(ext) => format!("{}-{date}.{seq}.{ext}", self.stem),
            None => format!("{}-{date}.{seq}", self.stem),
        }
    }

    /// Parses a rotated file name back into `(day, seq)`.
    pub fn parse(&self, file_name: &str) -> Option<(i64, u64)> {
        let rest = file_name
            .strip_prefix(self.stem.as_str())?
            .strip_prefix('-')?;
        let rest = match &self.ext {
            Some(ext) => rest.strip_suffix(ext.as_str())?.strip_suffix('.')?,
            None => rest,
        };
        let (date, seq) = rest.rsplit_once('.')?;
        if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let seq: u64 = seq.parse().ok()?;
        let day = parse_date(date)?;
        Some((day, seq))
    }

    /// Every rotated file of this active file in the directory, oldest first.
    pub fn list_rotated(&self) -> std::io::Result<Vec<Rotated>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            if let Some((day, seq)) = self.parse(name) {
                out.push(Rotated {
                    day,
                    seq,
                    path: entry.path(),
                });
            }
        }
        out.sort();
        Ok(out)
    }
}

/// Parses `YYYY-MM-DD` (four-digit year) into a day number, validating the calendar date.
pub(crate) fn parse_date(date: &str) -> Option<i64> {
    let bytes = date.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = date.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let year = digits(0..4)?;
    let month = u8::try_from(digits(5..7)?).ok()?;
    let day = u8::try_from(digits(8..10)?).ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // Reject dates like 2019-02-30 that do not round-trip.
    let back = UtcDateTime::from_unix_ms(days.saturating_mul(MS_PER_DAY));
    (back.year == year && back.month == month && back.day == day).then_some(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let n = Naming::of(Path::new("out/lag.ndjson")).unwrap();
        assert_eq!(n.dir, PathBuf::from("out"));
        assert_eq!(n.file_name(18_127, 3), "lag-2019-08-19.3.ndjson");
        assert_eq!(n.parse("lag-2019-08-19.3.ndjson"), Some((18_127, 3)));
        assert_eq!(n.parse("lag-2019-08-19.ndjson"), None);
        assert_eq!(n.parse("lag-2019-02-30.1.ndjson"), None);
        assert_eq!(n.parse("lag.ndjson"), None);
        assert_eq!(n.parse("lag-2019-08-19.x.ndjson"), None);
        assert_eq!(n.parse("other-2019-08-19.1.ndjson"), None);

        let bare = Naming::of(Path::new("lag")).unwrap();
        assert_eq!(bare.dir, PathBuf::from("."));
        assert_eq!(bare.ext, None);
        assert_eq!(bare.file_name(0, 1), "lag-1970-01-01.1");
        assert_eq!(bare.parse("lag-1970-01-01.12"), Some((0, 12)));

        let dotted = Naming::of(Path::new("/var/x/.hidden")).unwrap();
        assert_eq!(dotted.stem, ".hidden");
        assert_eq!(dotted.ext, None);
        assert!(Naming::of(Path::new("/")).is_none());
    }
}
