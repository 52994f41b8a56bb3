//! Reading a configuration: file or text, then `LAGWATCH_` environment overrides, then
//! section-by-section deserialisation and checks.

use crate::env_override::EnvOverride;
use crate::error::{ConfigError, Error, Problem};
use crate::tree::Node;
use crate::types::Config;
use crate::validate;
use std::path::Path;

/// Environment variables starting with this prefix override configuration keys.
pub const ENV_PREFIX: &str = "LAGWATCH_";

/// Separates the levels of a key path in an environment variable name:
/// `LAGWATCH_SINKS__ARCHIVE__ROTATE_BYTES` sets `sinks.archive.rotate_bytes`. Two underscores,
/// because key names themselves contain single ones.
pub const ENV_SEPARATOR: &str = "__";

/// Text format of a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// TOML (`.toml`).
    Toml,
    /// YAML (`.yaml`, `.yml`).
    Yaml,
}

impl Format {
    /// The format a file name announces by its extension (case-insensitive), if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "toml" => Some(Format::Toml),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }

    fn file_format(self) -> config::FileFormat {
        match self {
            Format::Toml => config::FileFormat::Toml,
            Format::Yaml => config::FileFormat::Yaml,
        }
    }
}

/// Picks the overrides out of an environment. A variable counts when its name starts with
/// [`ENV_PREFIX`] (any case) and names at least a section and a key, i.e. contains
/// [`ENV_SEPARATOR`]; other `LAGWATCH_*` variables (such as one naming the configuration
/// file for the command line) are left alone. Names with characters outside
/// `A-Z a-z 0-9 _ -` or an empty level are reported as problems.
fn env_overrides(
    env: impl IntoIterator<Item = (String, String)>,
    problems: &mut Vec<Problem>,
) -> (config::Map<String, String>, Vec<EnvOverride>) {
    let mut selected = config::Map::new();
    let mut overrides = Vec::new();
    let mut env: Vec<(String, String)> = env.into_iter().collect();
    env.sort();
    for (var, value) in env {
        let Some(rest) = strip_prefix_ignore_case(&var, ENV_PREFIX) else {
            continue;
        };
        if !rest.contains(ENV_SEPARATOR) {
            continue;
        }
        let levels: Vec<String> = rest
            .split(ENV_SEPARATOR)
            .map(str::to_ascii_lowercase)
            .collect();
        let valid = levels.iter().all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
        if !valid {
            problems.push(Problem::new(
                var.clone(),
                format!(
                    "cannot turn this environment variable into a key path: write \
                     {ENV_PREFIX}<SECTION>{ENV_SEPARATOR}<KEY> with levels of letters, digits, \
                     '_' or '-' separated by {ENV_SEPARATOR:?}"
                ),
            ));
            continue;
        }
        let path = levels.join(".");
        // Names differing only in case reach the same key; which one `config` would apply
        // is not defined, so refuse the later one.
        if let Some(first) = overrides.iter().find(|o: &&EnvOverride| o.path == path) {
            problems.push(Problem::new(
                var.clone(),
                format!("sets {path} again, already set by {}", first.var),
            ));
            continue;
        }
        overrides.push(EnvOverride {
            var: var.clone(),
            path,
        });
        selected.insert(var, value);
    }
    (selected, overrides)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Reads the file (I/O errors name it) and works out its format from the extension.
fn read_file(path: &Path) -> Result<(String, Format), Error> {
    let format = Format::from_path(path).ok_or_else(|| Error::UnknownFormat {
        path: path.to_path_buf(),
    })?;
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((text, format))
}

/// The whole loading pipeline; `origin` names the text in syntax errors.
pub(crate) fn load(
    text: &str,
    format: Format,
    origin: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, Error> {
    let mut env_problems = Vec::new();
    let (env_vars, overrides) = env_overrides(env, &mut env_problems);

    let merged = config::Config::builder()
        .add_source(config::File::from_str(text, format.file_format()))
        .add_source(
            config::Environment::with_prefix(ENV_PREFIX.trim_end_matches('_'))
                .prefix_separator("_")
                .separator(ENV_SEPARATOR)
                .source(Some(env_vars)),
        )
        .build()
        .map_err(|e| match e {
            config::ConfigError::FileParse { cause, .. } => Error::Syntax {
                origin: origin.to_owned(),
                message: cause.to_string(),
            },
            other => Error::Syntax {
                origin: format!("{origin} with {ENV_PREFIX}* environment overrides"),
                message: other.to_string(),
            },
        })?;

    let tree = Node::from_config(merged.cache);
    let (config, mut problems) = validate::from_tree(tree, &overrides);
    problems.splice(0..0, env_problems);
    match config {
        Some(config) if problems.is_empty() => Ok(config),
        _ => Err(ConfigError { problems }.into()),
    }
}

impl Config {
    /// Reads a TOML (`.toml`) or YAML (`.yaml`, `.yml`) file, without environment
    /// overrides, and checks it.
    ///
    /// # Errors
    /// [`Error::UnknownFormat`] for any other extension, [`Error::Io`] when the file cannot
    /// be read, [`Error::Syntax`] when it does not parse, [`Error::Invalid`] with every
    /// problem found.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config, Error> {
        Config::load_with_env(path, std::iter::empty())
    }

    /// Reads a file like [`Config::from_file`], then applies overrides from the process
    /// environment (`LAGWATCH_<SECTION>__<KEY>=value`, see [`ENV_PREFIX`]).
    ///
    /// # Errors
    /// As [`Config::from_file`].
    pub fn load(path: impl AsRef<Path>) -> Result<Config, Error> {
        Config::load_with_env(path, process_env())
    }

    /// Reads a file like [`Config::from_file`], then applies overrides from `env` (pairs of
    /// variable name and value; only `LAGWATCH_*` names with a `__` are used).
    ///
    /// ```
    /// use lagwatch_config::Config;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("lagwatch.toml");
    /// # std::fs::write(&path, "[sources.live]\ntype = \"demo\"\n[sinks.out]\ntype = \"stdout\"\n")?;
    /// let env = [("LAGWATCH_MODEL__INTERVALS".to_string(), "15".to_string())];
    /// let config = Config::load_with_env(&path, env)?;
    /// assert_eq!(config.model.intervals, 15);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Config::from_file`]; problems caused by an override say which variable set it.
    pub fn load_with_env(
        path: impl AsRef<Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, Error> {
        let path = path.as_ref();
        let (text, format) = read_file(path)?;
        load(&text, format, &path.display().to_string(), env)
    }

    /// Parses configuration text without environment overrides, and checks it.
    ///
    /// ```
    /// use lagwatch_config::{Config, Format};
    /// let config = Config::from_str(
    ///     "[sources.live]\ntype = \"demo\"\n[sinks.out]\ntype = \"stdout\"\n",
    ///     Format::Toml,
    /// );
    /// assert!(config.is_ok());
    /// ```
    ///
    /// # Errors
    /// [`Error::Syntax`] or [`Error::Invalid`].
    pub fn from_str(text: &str, format: Format) -> Result<Config, Error> {
        Config::from_str_with_env(text, format, std::iter::empty())
    }

    /// Parses configuration text, then applies overrides from `env` as
    /// [`Config::load_with_env`] does.
    ///
    /// # Errors
    /// [`Error::Syntax`] or [`Error::Invalid`].
    pub fn from_str_with_env(
        text: &str,
        format: Format,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, Error> {
        load(text, format, "configuration text", env)
    }

    /// This configuration (built in code, or imported from a Burrow or Telegraf file) with
    /// overrides from `env` applied as [`Config::load_with_env`] applies them to a file, so
    /// `LAGWATCH_HTTP__LISTEN=...` works the same whichever way the configuration came.
    /// Without any `LAGWATCH_*` variable in `env` the configuration is returned as it is.
    ///
    /// ```
    /// use lagwatch_config::Config;
    /// # fn main() -> Result<(), lagwatch_config::Error> {
    /// let env = [("LAGWATCH_HTTP__LISTEN".to_string(), "127.0.0.1:0".to_string())];
    /// let config = Config::demo().with_env(env)?;
    /// assert_eq!(config.http.listen, "127.0.0.1:0");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Invalid`] when an override is invalid (the problem names the variable);
    /// [`Error::Render`] if the configuration has no TOML form.
    pub fn with_env(
        self,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, Error> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let any_override = env
            .iter()
            .any(|(name, _)| strip_prefix_ignore_case(name, ENV_PREFIX).is_some());
        if !any_override {
            return Ok(self);
        }
        // The text carries the secrets themselves (so they survive the round trip); it is
        // read back here and never shown: a syntax error in it is reported without it.
        let text =
            lagwatch_core::secret::serialize_exposed(|| toml::to_string(&self)).map_err(|e| {
                Error::Render {
                    message: e.to_string(),
                }
            })?;
        const ORIGIN: &str = "configuration";
        load(&text, Format::Toml, ORIGIN, env).map_err(|e| match e {
            Error::Syntax { origin, .. } if origin == ORIGIN => Error::Render {
                message: "the configuration did not read back as TOML".to_owned(),
            },
            other => other,
        })
    }
}

/// The variables of this process's environment, for [`Config::load_with_env`] and
/// [`Config::demo_with_env`]. Variables whose name or value is not valid UTF-8 are skipped
/// (where `std::env::vars` would panic).
pub fn process_env() -> Vec<(String, String)> {
    std::env::vars_os().filter_map(unicode_var).collect()
}

fn unicode_var(
    (name, value): (std::ffi::OsString, std::ffi::OsString),
) -> Option<(String, String)> {
    Some((name.into_string().ok()?, value.into_string().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn format_from_extension() {
        assert_eq!(Format::from_path(Path::new("a.toml")), Some(Format::Toml));
        assert_eq!(Format::from_path(Path::new("a.YML")), Some(Format::Yaml));
        assert_eq!(Format::from_path(Path::new("a.yaml")), Some(Format::Yaml));
        assert_eq!(Format::from_path(Path::new("a.json")), None);
        assert_eq!(Format::from_path(Path::new("toml")), None);
    }

    #[test]
    fn selects_only_sectioned_lagwatch_variables() {
        let mut problems = Vec::new();
        let (selected, overrides) = env_overrides(
            vars(&[
                ("LAGWATCH_CONFIG", "/etc/lagwatch.toml"),
                ("PATH", "/bin"),
                ("LAGWATCH_SINKS__OUT__ROTATE_BYTES", "10"),
                ("lagwatch_model__intervals", "3"),
                ("LAGWATCH_SOURCES____CLUSTER", "x"),
                ("LAGWATCH_SOURCES__A.B__CLUSTER", "x"),
                ("LAGWATCH_MODEL__INTERVALS", "4"),
            ]),
            &mut problems,
        );
        let paths: Vec<_> = overrides.iter().map(|o| o.path.as_str()).collect();
        assert_eq!(paths, ["model.intervals", "sinks.out.rotate_bytes"]);
        assert_eq!(selected.len(), 2);
        let bad: Vec<_> = problems.iter().map(Problem::to_string).collect();
        let rule = "cannot turn this environment variable into a key path: write \
                    LAGWATCH_<SECTION>__<KEY> with levels of letters, digits, '_' or '-' \
                    separated by \"__\"";
        assert_eq!(
            bad,
            [
                format!("LAGWATCH_SOURCES__A.B__CLUSTER: {rule}"),
                format!("LAGWATCH_SOURCES____CLUSTER: {rule}"),
                "lagwatch_model__intervals: sets model.intervals again, already set by \
                 LAGWATCH_MODEL__INTERVALS"
                    .to_owned(),
            ]
        );
    }
}
