//! Keeping the rule engine's open alerts in a small JSON file across restarts.
//!
//! The engine itself stays pure; this wrapper reads the file once when built and writes it
//! after every evaluation that changed the state, atomically (a temporary file next to it,
//! then a rename), so a crash leaves either the old or the new state, never half of one.

use crate::engine::{EngineState, RuleSet};
use crate::error::AlertError;
use lagwatch_component::RuleEngine;
use lagwatch_core::Snapshot;
use lagwatch_core::alert::AlertNotification;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A [`RuleSet`] whose open alerts survive restarts in a JSON file.
#[derive(Debug)]
pub struct PersistentRules {
    rules: RuleSet,
    path: PathBuf,
    written: Option<EngineState>,
}

impl PersistentRules {
    /// Wraps `rules`, restoring the open alerts from `path` when it exists. A file that is
    /// not a valid state (written by another version, damaged) is logged and ignored.
    ///
    /// # Errors
    /// [`AlertError::StateFile`] when the file exists but cannot be read.
    pub fn open(mut rules: RuleSet, path: impl Into<PathBuf>) -> Result<Self, AlertError> {
        let path = path.into();
        let written = match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<EngineState>(&bytes) {
                Ok(state) => {
                    tracing::info!(
                        path = %path.display(),
                        open_alerts = state.alerts.len(),
                        "restored alert state"
                    );
                    rules.restore(state);
                    Some(rules.state().clone())
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e,
                        "ignoring unreadable alert state file; starting without open alerts");
                    None
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(AlertError::StateFile { path, source }),
        };
        Ok(PersistentRules {
            rules,
            path,
            written,
        })
    }

    /// The wrapped rule set.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Writes the current state now (also done after every evaluation that changed it).
    ///
    /// # Errors
    /// [`AlertError::StateFile`] when the file cannot be written.
    pub fn save(&mut self) -> Result<(), AlertError> {
        let state = self.rules.state().clone();
        write_atomically(&self.path, &state).map_err(|source| AlertError::StateFile {
            path: self.path.clone(),
            source,
        })?;
        self.written = Some(state);
        Ok(())
    }
}

fn write_atomically(path: &Path, state: &EngineState) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

impl RuleEngine for PersistentRules {
    fn evaluate(&mut self, snapshot: &Snapshot) -> Vec<AlertNotification> {
        let out = self.rules.evaluate(snapshot);
        if self.written.as_ref() != Some(self.rules.state()) {
            if let Err(e) = self.save() {
                tracing::error!(error = %e, "could not save alert state");
            }
        }
        out
    }
}
