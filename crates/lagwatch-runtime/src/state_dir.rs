//! The files of the state directory: what they hold, how they are written and read.
//!
//! * `model.json` — the model's windows ([`ModelState`]) and the alert rules' windows,
//!   written every `state_save_interval` and at shutdown;
//! * `alerts.json` — the open alerts and the outbox (notifications not yet accepted by their
//!   alerter), written before any notification it lists is delivered and again after each
//!   delivery.
//!
//! Every write goes to a temporary file in the same directory, is synced, renamed over the
//! old file, and the directory is synced, so a crash leaves the old or the new file, never a
//! mix. A file that cannot be parsed or has another format version is logged, renamed to
//! `<name>.unreadable` for inspection, and ignored.

use lagwatch_core::alert::AlertNotification;
use lagwatch_core::model::ModelState;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Version of both state files.
pub const FILE_VERSION: u32 = 1;

/// File of the model's windows.
pub const MODEL_FILE: &str = "model.json";

/// File of the open alerts and the outbox.
pub const ALERTS_FILE: &str = "alerts.json";

/// Contents of [`MODEL_FILE`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ModelFile {
    pub(crate) version: u32,
    pub(crate) model: ModelState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rule_windows: Option<serde_json::Value>,
}

/// Contents of [`ALERTS_FILE`].
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct AlertsFile {
    pub(crate) version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rules: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) outbox: Vec<OutboxEntry>,
}

/// A notification waiting for one alerter to accept it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct OutboxEntry {
    /// Position in the outbox; delivery follows it.
    pub(crate) seq: u64,
    /// Name of the alerter.
    pub(crate) alerter: String,
    /// The notification.
    pub(crate) notification: AlertNotification,
}

/// Writes `bytes` to `dir/name` atomically (temporary file, fsync, rename, directory fsync).
pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(name))?;
    // The rename itself is durable only once the directory is synced.
    std::fs::File::open(dir)?.sync_all()
}

/// Reads and parses `dir/name`: `None` when it does not exist, or (logged, renamed aside)
/// when it cannot be read, parsed, or has another version.
pub(crate) fn read<T: for<'de> Deserialize<'de>>(
    dir: &Path,
    name: &str,
    version_of: impl Fn(&T) -> u32,
) -> Option<T> {
    let path = dir.join(name);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e,
                "cannot read the state file; starting without it");
            return None;
        }
    };
    let problem = match serde_json::from_slice::<T>(&bytes) {
        Ok(value) if version_of(&value) == FILE_VERSION => return Some(value),
        Ok(value) => format!(
            "format version {} (this version reads {FILE_VERSION})",
            version_of(&value)
        ),
        Err(e) => format!("not a lagwatch state file: {e}"),
    };
    let aside = set_aside(&path);
    tracing::warn!(path = %path.display(), problem = %problem, moved_to = %aside.display(),
        "ignoring the state file; starting without it");
    None
}

fn set_aside(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".unreadable");
    let aside = path.with_file_name(name);
    if let Err(e) = std::fs::rename(path, &aside) {
        tracing::warn!(path = %path.display(), error = %e, "cannot move the state file aside");
    }
    aside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_file_and_leaves_no_temporary() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        write_atomically(dir.path(), "x.json", b"{\"version\":1}")?;
        write_atomically(dir.path(), "x.json", b"{\"version\":1,\"outbox\":[]}")?;
        let names: Vec<_> = std::fs::read_dir(dir.path())?
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        assert_eq!(names, ["x.json"]);
        let file: Option<AlertsFile> = read(dir.path(), "x.json", |f: &AlertsFile| f.version);
        assert!(file.is_some_and(|f| f.outbox.is_empty()));
        Ok(())
    }

    #[test]
    fn damaged_and_foreign_files_are_set_aside() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join(ALERTS_FILE), "{\"version\":1,\"outbox\":")?;
        let file: Option<AlertsFile> = read(dir.path(), ALERTS_FILE, |f: &AlertsFile| f.version);
        assert!(file.is_none());
        assert!(dir.path().join("alerts.json.unreadable").exists());
        assert!(!dir.path().join(ALERTS_FILE).exists());

        std::fs::write(dir.path().join(ALERTS_FILE), "{\"version\":7}")?;
        let file: Option<AlertsFile> = read(dir.path(), ALERTS_FILE, |f: &AlertsFile| f.version);
        assert!(file.is_none());
        let missing: Option<AlertsFile> = read(dir.path(), "none.json", |f: &AlertsFile| f.version);
        assert!(missing.is_none());
        Ok(())
    }
}
