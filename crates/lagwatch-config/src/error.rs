//! What can go wrong while loading or checking a configuration.

use std::fmt;
use std::path::PathBuf;

/// One thing wrong with a configuration, at one key path.
///
/// Displays as `path: message`, e.g. `model.intervals: must be at least 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key path of the offending key (`sources.live.type`), or of the section when
    /// the problem is about the section as a whole (`sinks`).
    pub path: String,
    /// What is wrong, in one line.
    pub message: String,
}

impl Problem {
    /// A problem at `path`. Line breaks in `message` are folded so the problem stays on one
    /// line.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Problem {
        let message: String = message.into();
        let message = if message.contains('\n') {
            message
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("; ")
        } else {
            message
        };
        Problem {
            path: path.into(),
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found in a configuration, in a stable order (general, model, evaluator,
/// sources by name, sinks by name). Displays one problem per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", lines(.problems))]
pub struct ConfigError {
    /// The problems; never empty when returned as an error.
    pub problems: Vec<Problem>,
}

fn lines(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl ConfigError {
    /// The key paths of all problems, in order; handy in tests and for tooling.
    pub fn paths(&self) -> Vec<&str> {
        self.problems.iter().map(|p| p.path.as_str()).collect()
    }
}

/// Any failure of this crate: the file cannot be read or parsed, or its content is invalid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration file could not be read.
    #[error("cannot read configuration file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file name does not tell the format.
    #[error(
        "cannot tell the format of configuration file {}: name it *.toml, *.yaml or *.yml",
        path.display()
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The text is not valid TOML or YAML, or an environment override could not be applied.
    #[error("cannot parse {origin}: {message}")]
    Syntax {
        /// Where the text came from: a file name, `configuration text` or `environment`.
        origin: String,
        /// What the parser said (may span several lines, with a pointer into the text).
        message: String,
    },
    /// The configuration was parsed but has problems; all of them are listed.
    #[error("invalid configuration ({count}):\n{errors}", count = count(.0.problems.len()), errors = .0)]
    Invalid(#[from] ConfigError),
    /// The configuration could not be written out as TOML.
    #[error("cannot render the configuration as TOML: {message}")]
    Render {
        /// What the TOML writer said.
        message: String,
    },
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 problem".to_owned()
    } else {
        format!("{n} problems")
    }
}

impl Error {
    /// The problems when this is [`Error::Invalid`].
    pub fn problems(&self) -> Option<&[Problem]> {
        match self {
            Error::Invalid(e) => Some(&e.problems),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_one_line_per_problem() {
        let e = ConfigError {
            problems: vec![
                Problem::new("model.intervals", "must be at least 1"),
                Problem::new("sinks", "no sink configured"),
            ],
        };
        assert_eq!(
            e.to_string(),
            "model.intervals: must be at least 1\nsinks: no sink configured"
        );
        assert_eq!(
            Error::from(e).to_string(),
            "invalid configuration (2 problems):\n\
             model.intervals: must be at least 1\nsinks: no sink configured"
        );
    }

    #[test]
    fn folds_multi_line_messages() {
        let p = Problem::new(
            "a",
            "regex parse error:\n    (\n    ^\nerror: unclosed group\n",
        );
        assert_eq!(
            p.to_string(),
            "a: regex parse error:; (; ^; error: unclosed group"
        );
    }
}
