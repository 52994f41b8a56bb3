//! Importing a Telegraf configuration file (`telegraf.conf`) as a lagwatch [`Config`].
//!
//! Only the two plugins of the Burrow → Telegraf → Elasticsearch pipeline are imported:
//!
//! * every `[[inputs.burrow]]` → a `burrow` source, named `burrow`, `burrow-2`, … in file
//!   order. Key names are Telegraf's: `servers`, `api_prefix`, `response_timeout`,
//!   `concurrent_connections`, `username`, `password`, `tls_ca` (and the old spelling
//!   `ssl_ca`, with a warning), the six `*_include` / `*_exclude` glob lists, and the
//!   plugin's `interval` (default: `[agent] interval`, else Telegraf's `10s`). As in Telegraf,
//!   a `response_timeout` below 1 s becomes 5 s and a `concurrent_connections` below 1 becomes
//!   20 (each with a warning);
//! * every `[[outputs.elasticsearch]]` → an `elasticsearch` sink, named `elasticsearch`,
//!   `elasticsearch-2`, …: `urls` (the first; further URLs warn), `index_name`, `timeout`,
//!   `username`, `password`, `auth_bearer_token` → `bearer_token`, `tls_ca` → `ca_file`,
//!   `enable_gzip` → `gzip`, `default_tag_value`, `metric_batch_size` → `batch_max_docs`,
//!   `flush_interval` → `batch_max_wait`;
//! * `[agent]`: `interval` (the inputs' default and `general.evaluation_interval`, the
//!   cadence of the documents), `flush_interval` and `metric_batch_size` (defaults of the
//!   outputs' keys of the same name), `hostname` → the sinks' `host`, `omit_hostname`.
//!
//! Keys that ask for what lagwatch does anyway are accepted without a warning:
//! `manage_template = false` (the sink installs no template), `enable_sniffer = false`,
//! `insecure_skip_verify = false`, `omit_hostname` (lagwatch adds a `host` tag only when
//! `[agent] hostname` names one). Everything else — other keys, `[global_tags]`, and every
//! other plugin section (one warning per section) — is reported as one warning each, never
//! dropped silently. Without an `[[outputs.elasticsearch]]` a `stdout` sink is added so the
//! result runs as it is.
//!
//! Telegraf's environment-variable substitution is applied to the text first: `${VAR}`,
//! `${VAR:-default}` and `$VAR` outside comment lines, read from the environment given to
//! [`from_telegraf_toml_with_env`] (the process environment for the other
//! functions); `$$` is a `$`. An unset variable (without a default) is kept as written, as
//! Telegraf keeps it, with a warning naming its line.
//!
//! [`from_burrow_and_telegraf_toml`] combines a Burrow file with a Telegraf file,
//! for replacing both programs at once: the sources come from `burrow.toml` (lagwatch reads
//! the clusters Burrow read, so the `[[inputs.burrow]]` sections are not imported, with a
//! warning each), the sinks from `telegraf.conf`.

use crate::burrow::{BurrowImport, BurrowImportError, from_burrow_file, from_burrow_toml};
use crate::value::{ValueError, boolean, count, duration, integer, strings, text};
use lagwatch_config::elasticsearch::ElasticsearchSinkConfig;
use lagwatch_config::{
    BurrowSourceConfig, Config, ConfigError, Problem, SinkConfig, SourceConfig, StdoutSinkConfig,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::{Table, Value};

/// A configuration imported from a Telegraf file, and what could not be carried over.
#[derive(Debug, Clone, PartialEq)]
pub struct TelegrafImport {
    /// The lagwatch configuration.
    pub config: Config,
    /// One line per key (or section) of the Telegraf file that has no effect in lagwatch,
    /// naming it with its path first (e.g. `outputs.elasticsearch[0].health_check_interval`).
    pub warnings: Vec<String>,
}

/// A configuration imported from a Burrow file and a Telegraf file together
/// ([`from_burrow_and_telegraf_toml`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CombinedImport {
    /// The lagwatch configuration.
    pub config: Config,
    /// Warnings about the Burrow file (key paths of `burrow.toml`).
    pub burrow_warnings: Vec<String>,
    /// Warnings about the Telegraf file (key paths of `telegraf.conf`).
    pub telegraf_warnings: Vec<String>,
}

/// Why a Telegraf file cannot be imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelegrafImportError {
    /// The file cannot be read.
    #[error("cannot read Telegraf configuration {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The text (after environment substitution) is not TOML.
    #[error("Telegraf configuration is not valid TOML: {0}")]
    Syntax(String),
    /// A key has a value of the wrong kind.
    #[error("{path}: {message}")]
    Value {
        /// Key path, e.g. `inputs.burrow[0].response_timeout`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The imported configuration does not validate; problems of imported sections name
    /// the Telegraf key (`outputs.elasticsearch[0].index_name`).
    #[error("the imported configuration is not valid: {0}")]
    Invalid(#[from] ConfigError),
    /// The Burrow file of a combined import cannot be imported.
    #[error(transparent)]
    Burrow(#[from] BurrowImportError),
}

impl From<ValueError> for TelegrafImportError {
    fn from(e: ValueError) -> TelegrafImportError {
        TelegrafImportError::Value {
            path: e.path,
            message: e.message,
        }
    }
}

fn value_error(path: &str, message: impl Into<String>) -> TelegrafImportError {
    ValueError::new(path, message).into()
}

/// Imports a Telegraf configuration file with the process environment; see
/// [`from_telegraf_toml_with_env`].
///
/// # Errors
/// [`TelegrafImportError`] when the file cannot be read or imported.
pub fn from_telegraf_file(path: impl AsRef<Path>) -> Result<TelegrafImport, TelegrafImportError> {
    from_telegraf_toml(&read(path.as_ref())?)
}

/// Imports the text of a Telegraf configuration file with the process environment; see
/// [`from_telegraf_toml_with_env`].
///
/// # Errors
/// As [`from_telegraf_toml_with_env`].
pub fn from_telegraf_toml(text: &str) -> Result<TelegrafImport, TelegrafImportError> {
    from_telegraf_toml_with_env(text, lagwatch_config::process_env())
}

/// Imports the text of a Telegraf configuration file (see the
/// [module documentation](self)), substituting `$VAR` / `${VAR}` from `env`.
///
/// # Errors
/// [`TelegrafImportError`] for text that is not TOML, a key with a value of the wrong
/// kind, or a result that does not validate.
pub fn from_telegraf_toml_with_env(
    text: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<TelegrafImport, TelegrafImportError> {
    let import = import(text, &env.into_iter().collect())?;
    let mut config = import.config;
    if !config
        .sinks
        .values()
        .any(|s| matches!(s, SinkConfig::Elasticsearch(_)))
    {
        config.sinks.insert(
            "stdout".to_owned(),
            SinkConfig::Stdout(StdoutSinkConfig::default()),
        );
    }
    config
        .validate()
        .map_err(|e| telegraf_paths(e, &import.origins))?;
    Ok(TelegrafImport {
        config,
        warnings: import.warnings,
    })
}

/// Imports a Burrow file and a Telegraf file together with the process environment; see
/// [`from_burrow_and_telegraf_toml`].
///
/// # Errors
/// [`TelegrafImportError`] when a file cannot be read or imported.
pub fn from_burrow_and_telegraf_files(
    burrow: impl AsRef<Path>,
    telegraf: impl AsRef<Path>,
) -> Result<CombinedImport, TelegrafImportError> {
    let burrow = from_burrow_file(burrow)?;
    let telegraf = read(telegraf.as_ref())?;
    combine(burrow, &telegraf, lagwatch_config::process_env())
}

/// Imports a Burrow file and a Telegraf file as one configuration, for replacing Burrow
/// and Telegraf at once: sources, `[model]` and `[evaluator]` come from the Burrow file;
/// sinks and `general.evaluation_interval` from the Telegraf file. The Telegraf file's
/// `[[inputs.burrow]]` sections are not imported (lagwatch reads the clusters Burrow read
/// instead of polling Burrow), with a warning each. The Burrow import's `stdout` sink is
/// replaced by the Telegraf file's Elasticsearch sinks when it has some.
///
/// # Errors
/// [`TelegrafImportError`] when either text cannot be imported, a sink name is taken
/// twice, or the result does not validate.
pub fn from_burrow_and_telegraf_toml(
    burrow: &str,
    telegraf: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<CombinedImport, TelegrafImportError> {
    combine(from_burrow_toml(burrow)?, telegraf, env)
}

fn read(path: &Path) -> Result<String, TelegrafImportError> {
    std::fs::read_to_string(path).map_err(|source| TelegrafImportError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn combine(
    burrow: BurrowImport,
    telegraf: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<CombinedImport, TelegrafImportError> {
    let imported = import(telegraf, &env.into_iter().collect())?;
    let mut warnings = imported.warnings;
    let mut config = burrow.config;
    config.general.evaluation_interval = imported.config.general.evaluation_interval;
    for (name, origin) in &imported.origins {
        if origin.starts_with("inputs.burrow") && imported.config.sources.contains_key(name) {
            warnings.push(format!(
                "{origin}: not imported (the Burrow configuration is imported too: lagwatch \
                 reads the clusters Burrow read instead of polling Burrow)"
            ));
        }
    }
    if !imported.config.sinks.is_empty() {
        // The Burrow import's stdout sink only makes its result runnable.
        config.sinks.remove("stdout");
    }
    let mut conflicts = Vec::new();
    for (name, sink) in imported.config.sinks {
        match config.sinks.entry(name) {
            std::collections::btree_map::Entry::Occupied(taken) => {
                conflicts.push(Problem::new(
                    format!("sinks.{}", taken.key()),
                    "defined by both the Burrow and the Telegraf import",
                ));
            }
            std::collections::btree_map::Entry::Vacant(free) => {
                free.insert(sink);
            }
        }
    }
    if config.sinks.is_empty() {
        config.sinks.insert(
            "stdout".to_owned(),
            SinkConfig::Stdout(StdoutSinkConfig::default()),
        );
    }
    if !conflicts.is_empty() {
        return Err(ConfigError {
            problems: conflicts,
        }
        .into());
    }
    // Sources are the Burrow import's: only sink paths are mapped back to Telegraf keys.
    let sinks_only: BTreeMap<String, String> = imported
        .origins
        .into_iter()
        .filter(|(name, _)| config.sinks.contains_key(name))
        .collect();
    config
        .validate()
        .map_err(|e| telegraf_paths(e, &sinks_only))?;
    Ok(CombinedImport {
        config,
        burrow_warnings: burrow.warnings,
        telegraf_warnings: warnings,
    })
}

/// What [`import`] produced before the final checks.
struct Imported {
    config: Config,
    warnings: Vec<String>,
    /// The Telegraf section each source and sink came from, by component name
    /// (`burrow-2` → `inputs.burrow[1]`).
    origins: BTreeMap<String, String>,
}

/// Telegraf's defaults for what `[agent]` sets for every plugin.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

fn import(text: &str, env: &BTreeMap<String, String>) -> Result<Imported, TelegrafImportError> {
    let mut warnings = Vec::new();
    let text = substitute_env(text, env, &mut warnings);
    let root: Table = text
        .parse()
        .map_err(|e: toml::de::Error| TelegrafImportError::Syntax(e.message().to_owned()))?;
    let mut import = Importer {
        config: Config::default(),
        warnings,
        origins: BTreeMap::new(),
        agent: Agent::default(),
    };
    if let Some(agent) = root.get("agent") {
        import.agent(agent)?;
    }
    import.config.general.evaluation_interval = import.agent.interval;
    for (section, value) in &root {
        match section.as_str() {
            "agent" => {}
            "inputs" | "outputs" => {
                let Value::Table(plugins) = value else {
                    import.warn(section, "expected a table of plugins");
                    continue;
                };
                for (plugin, instances) in plugins {
                    let path = format!("{section}.{plugin}");
                    let instances: Vec<&Value> = match instances {
                        Value::Array(list) => list.iter().collect(),
                        single => vec![single],
                    };
                    for (i, instance) in instances.into_iter().enumerate() {
                        let path = format!("{path}[{i}]");
                        let Value::Table(keys) = instance else {
                            import.warn(&path, "expected a table");
                            continue;
                        };
                        match (section.as_str(), plugin.as_str()) {
                            ("inputs", "burrow") => import.burrow(&path, keys)?,
                            ("outputs", "elasticsearch") => import.elasticsearch(&path, keys)?,
                            _ => import
                                .warn(&path, "only inputs.burrow and outputs.elasticsearch are"),
                        }
                    }
                }
            }
            "processors" | "aggregators" | "secretstores" => {
                let Value::Table(plugins) = value else {
                    import.warn(section, "expected a table of plugins");
                    continue;
                };
                for (plugin, instances) in plugins {
                    let count = match instances {
                        Value::Array(list) => list.len(),
                        _ => 1,
                    };
                    for i in 0..count {
                        import.warn(
                            &format!("{section}.{plugin}[{i}]"),
                            "only inputs.burrow and outputs.elasticsearch are",
                        );
                    }
                }
            }
            "global_tags" => import.unsupported_keys(
                section,
                value,
                "lagwatch's documents carry only the tags Telegraf's burrow input sets",
            ),
            _ => import.unsupported_keys(section, value, "not a Telegraf section lagwatch knows"),
        }
    }
    Ok(Imported {
        config: import.config,
        warnings: import.warnings,
        origins: import.origins,
    })
}

/// What `[agent]` sets for every plugin.
struct Agent {
    interval: Duration,
    flush_interval: Option<Duration>,
    metric_batch_size: Option<usize>,
    hostname: String,
    omit_hostname: bool,
}

impl Default for Agent {
    fn default() -> Self {
        Agent {
            interval: DEFAULT_INTERVAL,
            flush_interval: None,
            metric_batch_size: None,
            hostname: String::new(),
            omit_hostname: false,
        }
    }
}

struct Importer {
    config: Config,
    warnings: Vec<String>,
    origins: BTreeMap<String, String>,
    agent: Agent,
}

/// Telegraf's common TLS client keys other than `tls_ca`.
const TLS_KEYS: &[&str] = &[
    "tls_cert",
    "tls_key",
    "tls_key_pwd",
    "tls_server_name",
    "tls_min_version",
    "tls_max_version",
    "tls_cipher_suites",
    "tls_renegotiation_method",
    "tls_enable",
    "ssl_cert",
    "ssl_key",
];

/// Options Telegraf offers on every input or output plugin (filters, renames, tags).
const PLUGIN_KEYS: &[&str] = &[
    "alias",
    "name_override",
    "name_prefix",
    "name_suffix",
    "namepass",
    "namedrop",
    "fieldpass",
    "fielddrop",
    "fieldinclude",
    "fieldexclude",
    "tagpass",
    "tagdrop",
    "taginclude",
    "tagexclude",
    "tags",
    "precision",
    "collection_jitter",
    "collection_offset",
    "flush_jitter",
    "metric_buffer_limit",
    "log_level",
    "startup_error_behavior",
];

impl Importer {
    fn warn(&mut self, path: &str, why: &str) {
        crate::warnings::not_imported(&mut self.warnings, path, why);
    }

    /// One warning per key under `value`.
    fn unsupported_keys(&mut self, path: &str, value: &Value, why: &str) {
        crate::warnings::not_imported_keys(&mut self.warnings, path, value, why);
    }

    fn agent(&mut self, section: &Value) -> Result<(), TelegrafImportError> {
        let Value::Table(keys) = section else {
            self.warn("agent", "expected a table");
            return Ok(());
        };
        for (key, value) in keys {
            let path = format!("agent.{key}");
            match key.as_str() {
                "interval" => self.agent.interval = duration(&path, value)?,
                "flush_interval" => self.agent.flush_interval = Some(duration(&path, value)?),
                "metric_batch_size" => {
                    self.agent.metric_batch_size = Some(count(&path, value)?);
                }
                "hostname" => self.agent.hostname = text(&path, value)?,
                "omit_hostname" => self.agent.omit_hostname = boolean(&path, value)?,
                "round_interval" | "collection_jitter" | "collection_offset" | "flush_jitter" => {
                    self.warn(
                        &path,
                        "lagwatch evaluates on its own clock, every general.evaluation_interval",
                    );
                }
                "metric_buffer_limit" => self.warn(
                    &path,
                    "an elasticsearch sink buffers on disk with spool_dir and spool_max_bytes",
                ),
                "precision" => self.warn(
                    &path,
                    "document timestamps are the evaluation time in whole seconds",
                ),
                "debug"
                | "quiet"
                | "logtarget"
                | "logfile"
                | "logfile_rotation_interval"
                | "logfile_rotation_max_size"
                | "logfile_rotation_max_archives"
                | "log_format"
                | "log_with_timezone" => self.warn(
                    &path,
                    "lagwatch logs to standard error; see -v, -q and general.log_format",
                ),
                _ => self.warn(&path, "no lagwatch counterpart"),
            }
        }
        Ok(())
    }

    /// A component name for the `n`-th section of a kind: `base`, `base-2`, …
    fn name(&mut self, base: &str, path: &str) -> String {
        let section = path.split('[').next().unwrap_or(path);
        let taken = self
            .origins
            .values()
            .filter(|origin| origin.split('[').next() == Some(section))
            .count();
        let name = if taken == 0 {
            base.to_owned()
        } else {
            format!("{base}-{}", taken + 1)
        };
        self.origins.insert(name.clone(), path.to_owned());
        name
    }

    /// `[[inputs.burrow]]` at `path` (`inputs.burrow[0]`) → a `burrow` source.
    fn burrow(&mut self, path: &str, keys: &Table) -> Result<(), TelegrafImportError> {
        let mut source = BurrowSourceConfig {
            interval: self.agent.interval,
            ..BurrowSourceConfig::default()
        };
        for (key, value) in keys {
            let full = format!("{path}.{key}");
            match key.as_str() {
                "servers" => {
                    let list = strings(&full, value)?;
                    // Telegraf polls localhost:8000 when the list is empty.
                    if !list.is_empty() {
                        source.servers = list.into_iter().map(Into::into).collect();
                    }
                }
                "api_prefix" => source.api_prefix = text(&full, value)?,
                "interval" => source.interval = duration(&full, value)?,
                "response_timeout" => {
                    let timeout = duration(&full, value)?;
                    source.response_timeout = if timeout < Duration::from_secs(1) {
                        self.warnings.push(format!(
                            "{full}: below 1s, so 5s is used (as Telegraf does)"
                        ));
                        Duration::from_secs(5)
                    } else {
                        timeout
                    };
                }
                "concurrent_connections" => {
                    let n = integer(&full, value)?;
                    source.concurrent_connections = if n < 1 {
                        self.warnings
                            .push(format!("{full}: below 1, so 20 is used (as Telegraf does)"));
                        20
                    } else {
                        usize::try_from(n).unwrap_or(usize::MAX)
                    };
                }
                "username" => source.username = text(&full, value)?,
                "password" => source.password = text(&full, value)?.into(),
                "tls_ca" => source.tls_ca = PathBuf::from(text(&full, value)?),
                "ssl_ca" => {
                    source.tls_ca = PathBuf::from(text(&full, value)?);
                    self.warnings
                        .push(format!("{full}: old Telegraf key name, read as tls_ca"));
                }
                "insecure_skip_verify" => {
                    if boolean(&full, value)? {
                        self.warn(
                            &full,
                            "the burrow source always verifies certificates; give tls_ca",
                        );
                    }
                }
                "clusters_include" => source.clusters_include = strings(&full, value)?,
                "clusters_exclude" => source.clusters_exclude = strings(&full, value)?,
                "groups_include" => source.groups_include = strings(&full, value)?,
                "groups_exclude" => source.groups_exclude = strings(&full, value)?,
                "topics_include" => source.topics_include = strings(&full, value)?,
                "topics_exclude" => source.topics_exclude = strings(&full, value)?,
                k if TLS_KEYS.contains(&k) => self.warn(
                    &full,
                    "the burrow source supports only tls_ca (no client certificate or TLS \
                     tuning)",
                ),
                k if PLUGIN_KEYS.contains(&k) => self.unsupported_keys(
                    &full,
                    value,
                    "Telegraf's per-plugin metric options have no lagwatch counterpart",
                ),
                _ => self.warn(&full, "unknown or unsupported key of inputs.burrow"),
            }
        }
        let name = self.name("burrow", path);
        self.config
            .sources
            .insert(name, SourceConfig::Burrow(Box::new(source)));
        Ok(())
    }

    /// `[[outputs.elasticsearch]]` at `path` → an `elasticsearch` sink.
    fn elasticsearch(&mut self, path: &str, keys: &Table) -> Result<(), TelegrafImportError> {
        let Some(urls) = keys.get("urls") else {
            return Err(value_error(
                &format!("{path}.urls"),
                "missing: the Elasticsearch URL(s) to write to",
            ));
        };
        let urls = strings(&format!("{path}.urls"), urls)?;
        let Some(first) = urls.first() else {
            return Err(value_error(
                &format!("{path}.urls"),
                "must name at least one URL",
            ));
        };
        let mut sink = ElasticsearchSinkConfig::new(first.clone());
        if !self.agent.omit_hostname {
            sink.host = self.agent.hostname.clone();
        }
        if let Some(wait) = self.agent.flush_interval {
            sink.batch_max_wait = wait;
        }
        if let Some(docs) = self.agent.metric_batch_size {
            sink.batch_max_docs = docs;
        }
        for (key, value) in keys {
            let full = format!("{path}.{key}");
            match key.as_str() {
                "urls" => {
                    for i in 1..urls.len() {
                        self.warn(
                            &format!("{full}[{i}]"),
                            "an elasticsearch sink writes to one URL; lagwatch uses the first",
                        );
                    }
                }
                "index_name" => sink.index_name = text(&full, value)?,
                "timeout" => sink.timeout = duration(&full, value)?,
                "username" => sink.username = text(&full, value)?,
                "password" => sink.password = text(&full, value)?.into(),
                "auth_bearer_token" => sink.bearer_token = text(&full, value)?.into(),
                "tls_ca" => sink.ca_file = PathBuf::from(text(&full, value)?),
                "ssl_ca" => {
                    sink.ca_file = PathBuf::from(text(&full, value)?);
                    self.warnings
                        .push(format!("{full}: old Telegraf key name, read as tls_ca"));
                }
                "enable_gzip" => sink.gzip = boolean(&full, value)?,
                "default_tag_value" => sink.default_tag_value = text(&full, value)?,
                "flush_interval" => sink.batch_max_wait = duration(&full, value)?,
                "metric_batch_size" => sink.batch_max_docs = count(&full, value)?,
                "manage_template" => {
                    if boolean(&full, value)? {
                        self.warn(
                            &full,
                            "the sink installs no template; run `lagwatch es setup \
                             --template-mode telegraf` (or lagwatch) once instead",
                        );
                    }
                }
                "template_name" | "overwrite_template" => self.warn(
                    &full,
                    "the sink installs no template; see `lagwatch es setup --name`",
                ),
                "enable_sniffer" => {
                    if boolean(&full, value)? {
                        self.warn(&full, "lagwatch does not discover other cluster nodes");
                    }
                }
                "health_check_interval" | "health_check_timeout" => self.warn(
                    &full,
                    "no periodic health check: failed writes are retried (max_retries) and \
                     can be spooled (spool_dir)",
                ),
                "insecure_skip_verify" => {
                    if boolean(&full, value)? {
                        self.warn(&full, "the sink always verifies certificates; give tls_ca");
                    }
                }
                "float_handling" | "float_replacement_value" => {
                    self.warn(&full, "lagwatch's documents have integer fields only")
                }
                "force_document_id" => self.warn(
                    &full,
                    "Elasticsearch chooses the document ids, as Telegraf does by default",
                ),
                "use_pipeline" | "default_pipeline" => {
                    self.warn(&full, "the sink sends no ingest pipeline");
                }
                k if TLS_KEYS.contains(&k) => self.warn(
                    &full,
                    "the sink supports only tls_ca (no client certificate or TLS tuning)",
                ),
                k if PLUGIN_KEYS.contains(&k) => self.unsupported_keys(
                    &full,
                    value,
                    "Telegraf's per-plugin metric options have no lagwatch counterpart",
                ),
                _ => self.warn(&full, "unknown or unsupported key of outputs.elasticsearch"),
            }
        }
        let name = self.name("elasticsearch", path);
        self.config
            .sinks
            .insert(name, SinkConfig::Elasticsearch(Box::new(sink)));
        Ok(())
    }
}

/// Rewrites the key paths of problems in imported sections to the Telegraf keys they came
/// from (`sinks.elasticsearch.url` → `outputs.elasticsearch[0].urls[0]`).
fn telegraf_paths(error: ConfigError, origins: &BTreeMap<String, String>) -> TelegrafImportError {
    let problems = error
        .problems
        .into_iter()
        .map(|problem| {
            let mapped = ["sources.", "sinks."].iter().find_map(|kind| {
                let rest = problem.path.strip_prefix(kind)?;
                origins.iter().find_map(|(name, origin)| {
                    let key = rest.strip_prefix(name.as_str())?;
                    let key = match key.strip_prefix('.') {
                        Some(key) => key,
                        None if key.is_empty() => "",
                        None => return None,
                    };
                    Some(telegraf_key(origin, key))
                })
            });
            Problem {
                path: mapped.unwrap_or(problem.path),
                message: problem.message,
            }
        })
        .collect();
    ConfigError { problems }.into()
}

/// `origin` (a Telegraf section path) joined with a lagwatch key under it, renamed back to
/// Telegraf's name, list indexes written `[i]`.
fn telegraf_key(origin: &str, key: &str) -> String {
    if key.is_empty() {
        return origin.to_owned();
    }
    let (first, rest) = key.split_once('.').unwrap_or((key, ""));
    let sink = origin.starts_with("outputs.");
    let renamed = match first {
        "url" if sink => "urls[0]",
        "ca_file" if sink => "tls_ca",
        "gzip" if sink => "enable_gzip",
        "bearer_token" if sink => "auth_bearer_token",
        "batch_max_docs" if sink => "metric_batch_size",
        "batch_max_wait" if sink => "flush_interval",
        other => other,
    };
    let mut path = format!("{origin}.{renamed}");
    for part in rest.split('.').filter(|p| !p.is_empty()) {
        if part.bytes().all(|b| b.is_ascii_digit()) {
            path.push_str(&format!("[{part}]"));
        } else {
            path.push('.');
            path.push_str(part);
        }
    }
    path
}

/// Telegraf's environment substitution on the file text: `${VAR}`, `${VAR:-default}` and
/// `$VAR` (names of letters, digits and `_`, not starting with a digit) outside comment
/// lines, and `$$` for a `$`. Unset variables are kept as written (as Telegraf 1.37 does),
/// with a warning naming the line.
fn substitute_env(
    text: &str,
    env: &BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) -> String {
    let mut out = String::with_capacity(text.len());
    for (number, line) in text.split_inclusive('\n').enumerate() {
        if line.trim_start().starts_with('#') || !line.contains('$') {
            out.push_str(line);
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let (name, default, consumed) = if let Some(inner) = after.strip_prefix('{') {
                match inner.find('}') {
                    Some(end) => {
                        let body = &inner[..end];
                        let (name, default) = match body.split_once(":-") {
                            Some((name, default)) => (name, Some(default)),
                            None => (body, None),
                        };
                        (name, default, end + 2)
                    }
                    None => ("", None, 0),
                }
            } else {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], None, end)
            };
            if let Some(escaped) = after.strip_prefix('$') {
                // `$$` is an escaped `$`.
                out.push('$');
                rest = escaped;
                continue;
            }
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                out.push('$');
                rest = after;
                continue;
            }
            match (env.get(name), default) {
                (Some(value), _) => out.push_str(value),
                (None, Some(default)) => out.push_str(default),
                (None, None) => {
                    out.push_str(&rest[at..at + 1 + consumed]);
                    warnings.push(format!(
                        "line {}: environment variable {name} is not set; the text is kept as \
                         it is (as Telegraf does)",
                        number + 1
                    ));
                }
            }
            rest = &after[consumed..];
        }
        out.push_str(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed pipeline's telegraf.conf, with loopback hosts, and an unrelated input.
    const SEED: &str = r#"
[agent]
  interval = "10s"

[[inputs.cpu]]
  percpu = true
  totalcpu = true

[[inputs.burrow]]
  servers = ["http://127.0.0.1:8000"]
  topics_exclude = ["__consumer_offsets"]
  groups_exclude = ["console-*"]

[[outputs.elasticsearch]]
  urls = ["http://127.0.0.1:9200"]
  timeout = "5s"
  enable_sniffer = false
  health_check_interval = "10s"
  index_name = "burrow-%Y.%m.%d"
  manage_template = false
"#;

    fn no_env() -> Vec<(String, String)> {
        Vec::new()
    }

    fn warned_paths(warnings: &[String]) -> Vec<&str> {
        warnings
            .iter()
            .map(|w| w.split(": ").next().unwrap_or(""))
            .collect()
    }

    #[test]
    fn the_seed_file_imports_with_every_dropped_key_named() {
        let import = from_telegraf_toml_with_env(SEED, no_env()).unwrap();
        let expected_source = BurrowSourceConfig {
            servers: vec!["http://127.0.0.1:8000".into()],
            topics_exclude: vec!["__consumer_offsets".into()],
            groups_exclude: vec!["console-*".into()],
            ..BurrowSourceConfig::default()
        };
        assert_eq!(
            import.config.sources,
            BTreeMap::from([(
                "burrow".to_owned(),
                SourceConfig::Burrow(Box::new(expected_source))
            )])
        );
        let expected_sink = ElasticsearchSinkConfig::new("http://127.0.0.1:9200");
        assert_eq!(
            import.config.sinks,
            BTreeMap::from([(
                "elasticsearch".to_owned(),
                SinkConfig::Elasticsearch(Box::new(expected_sink))
            )])
        );
        assert_eq!(
            import.config.general.evaluation_interval,
            Duration::from_secs(10)
        );
        assert_eq!(
            import.warnings,
            [
                "inputs.cpu[0]: not imported (only inputs.burrow and outputs.elasticsearch are)",
                "outputs.elasticsearch[0].health_check_interval: not imported (no periodic \
                 health check: failed writes are retried (max_retries) and can be spooled \
                 (spool_dir))",
            ]
        );
    }

    #[test]
    fn every_key_maps_or_warns() {
        let text = r#"
[global_tags]
  dc = "eu-1"

[agent]
  interval = "30s"
  round_interval = true
  flush_interval = "5s"
  metric_batch_size = 500
  hostname = "collector-1"
  omit_hostname = false

[[inputs.burrow]]
  servers = ["https://127.0.0.1:8000", "http://127.0.0.1:8001/api/v3/kafka"]
  api_prefix = "/burrow/v3/kafka"
  response_timeout = "3s"
  concurrent_connections = 4
  username = "telegraf"
  password = "s3cret"
  tls_ca = "/etc/telegraf/ca.pem"
  tls_cert = "/etc/telegraf/cert.pem"
  insecure_skip_verify = false
  clusters_include = ["live"]
  clusters_exclude = ["test-*"]
  groups_include = ["app-*"]
  topics_include = ["orders", "payments"]
  [inputs.burrow.tags]
    team = "data"

[[inputs.burrow]]
  interval = "1m"
  response_timeout = "500ms"
  concurrent_connections = 0
  ssl_ca = "/old.pem"

[[outputs.elasticsearch]]
  urls = ["https://127.0.0.1:9200", "https://127.0.0.1:9201"]
  index_name = "lag-{{cluster}}-%Y.%m.%d"
  default_tag_value = "none"
  username = "writer"
  password = "pw"
  auth_bearer_token = "tok"
  tls_ca = "/ca.pem"
  enable_gzip = true
  manage_template = true
  template_name = "telegraf"
  overwrite_template = false
  flush_interval = "2s"
  float_handling = "drop"

[[processors.rename]]
[[outputs.file]]
  files = ["stdout"]
"#;
        let import = from_telegraf_toml_with_env(text, no_env()).unwrap();
        let Some(SourceConfig::Burrow(first)) = import.config.sources.get("burrow") else {
            panic!("{:?}", import.config.sources);
        };
        let expected = BurrowSourceConfig {
            servers: vec![
                "https://127.0.0.1:8000".into(),
                "http://127.0.0.1:8001/api/v3/kafka".into(),
            ],
            api_prefix: "/burrow/v3/kafka".into(),
            interval: Duration::from_secs(30),
            response_timeout: Duration::from_secs(3),
            concurrent_connections: 4,
            username: "telegraf".into(),
            password: "s3cret".to_owned().into(),
            tls_ca: "/etc/telegraf/ca.pem".into(),
            clusters_include: vec!["live".into()],
            clusters_exclude: vec!["test-*".into()],
            groups_include: vec!["app-*".into()],
            groups_exclude: Vec::new(),
            topics_include: vec!["orders".into(), "payments".into()],
            topics_exclude: Vec::new(),
        };
        assert_eq!(**first, expected);
        let Some(SourceConfig::Burrow(second)) = import.config.sources.get("burrow-2") else {
            panic!("{:?}", import.config.sources);
        };
        assert_eq!(second.interval, Duration::from_secs(60));
        assert_eq!(second.response_timeout, Duration::from_secs(5));
        assert_eq!(second.concurrent_connections, 20);
        assert_eq!(second.tls_ca, PathBuf::from("/old.pem"));
        assert_eq!(
            import.config.general.evaluation_interval,
            Duration::from_secs(30)
        );

        let Some(SinkConfig::Elasticsearch(es)) = import.config.sinks.get("elasticsearch") else {
            panic!("{:?}", import.config.sinks);
        };
        let mut expected = ElasticsearchSinkConfig::new("https://127.0.0.1:9200");
        expected.index_name = "lag-{{cluster}}-%Y.%m.%d".into();
        expected.default_tag_value = "none".into();
        expected.host = "collector-1".into();
        expected.username = "writer".into();
        expected.password = "pw".to_owned().into();
        expected.bearer_token = "tok".to_owned().into();
        expected.ca_file = "/ca.pem".into();
        expected.gzip = true;
        expected.batch_max_wait = Duration::from_secs(2);
        expected.batch_max_docs = 500;
        assert_eq!(**es, expected);
        assert_eq!(
            import.config.sinks.len(),
            1,
            "no stdout sink with an ES sink"
        );

        assert_eq!(
            warned_paths(&import.warnings),
            [
                "agent.round_interval",
                "global_tags.dc",
                "inputs.burrow[0].tags.team",
                "inputs.burrow[0].tls_cert",
                "inputs.burrow[1].concurrent_connections",
                "inputs.burrow[1].response_timeout",
                "inputs.burrow[1].ssl_ca",
                "outputs.elasticsearch[0].float_handling",
                "outputs.elasticsearch[0].manage_template",
                "outputs.elasticsearch[0].overwrite_template",
                "outputs.elasticsearch[0].template_name",
                "outputs.elasticsearch[0].urls[1]",
                "outputs.file[0]",
                "processors.rename[0]",
            ]
        );

        // `LAGWATCH_*` overrides (as `lagwatch run --telegraf-config` applies them) change
        // only their key; the passwords and the token survive the round trip.
        let env = [("LAGWATCH_HTTP__LISTEN".to_owned(), "127.0.0.1:0".to_owned())];
        let overridden = import.config.clone().with_env(env).unwrap();
        let mut expected = import.config;
        expected.http.listen = "127.0.0.1:0".to_owned();
        assert_eq!(overridden, expected);
    }

    #[test]
    fn without_an_elasticsearch_output_a_stdout_sink_is_added() {
        let text = "[[inputs.burrow]]\n[[outputs.influxdb]]\nurls=[\"http://x:8086\"]\n";
        let import = from_telegraf_toml_with_env(text, no_env()).unwrap();
        assert_eq!(
            import.config.sinks,
            BTreeMap::from([(
                "stdout".to_owned(),
                SinkConfig::Stdout(StdoutSinkConfig::default())
            )])
        );
        // Telegraf's default server.
        let Some(SourceConfig::Burrow(source)) = import.config.sources.get("burrow") else {
            panic!("{:?}", import.config.sources);
        };
        assert_eq!(source.servers, ["http://localhost:8000"]);
        assert_eq!(warned_paths(&import.warnings), ["outputs.influxdb[0]"]);
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, message) in [
            (
                "[[inputs.burrow]]\nresponse_timeout = true\n",
                "inputs.burrow[0].response_timeout: expected a duration string like \"5s\", \
                 found true",
            ),
            (
                "[[inputs.burrow]]\nresponse_timeout = \"soon\"\n",
                "inputs.burrow[0].response_timeout: expected a duration string like \"5s\", \
                 found \"soon\"",
            ),
            (
                "[agent]\ninterval = \"ten\"\n[[inputs.burrow]]\n",
                "agent.interval: expected a duration string like \"5s\", found \"ten\"",
            ),
            (
                "[[inputs.burrow]]\n[[inputs.burrow]]\nservers = [\"http://a:8000\", 3]\n",
                "inputs.burrow[1].servers[1]: expected a string, found 3",
            ),
            (
                "[[inputs.burrow]]\n[[outputs.elasticsearch]]\nindex_name = \"x\"\n",
                "outputs.elasticsearch[0].urls: missing: the Elasticsearch URL(s) to write to",
            ),
        ] {
            let err = from_telegraf_toml_with_env(text, no_env()).unwrap_err();
            assert_eq!(err.to_string(), message);
        }
    }

    #[test]
    fn validation_problems_name_the_telegraf_key() {
        let text = r#"
[[inputs.burrow]]
[[inputs.burrow]]
  servers = ["ftp://127.0.0.1:8000"]
  groups_exclude = ["[oops"]
[[outputs.elasticsearch]]
  urls = ["127.0.0.1:9200"]
  index_name = "Burrow-%Q"
"#;
        let Err(TelegrafImportError::Invalid(error)) = from_telegraf_toml_with_env(text, no_env())
        else {
            panic!("expected validation problems");
        };
        assert_eq!(
            error.paths(),
            [
                "inputs.burrow[1].servers[0]",
                "inputs.burrow[1].groups_exclude[0]",
                "outputs.elasticsearch[0].urls[0]",
                "outputs.elasticsearch[0].index_name",
            ]
        );
    }

    #[test]
    fn environment_variables_are_substituted() {
        let text = r#"
# a comment with $NOT_READ stays as it is
[agent]
  interval = ${INTERVAL}
[[inputs.burrow]]
  servers = ["http://${BURROW_HOST}:8000"]
  username = "$USER_NAME"
  password = "${BURROW_PASSWORD}"
  api_prefix = "${PREFIX:-/v3/kafka}"
  groups_exclude = ["^x$", "cost-$$", "${MISSING}", "$ALSO_MISSING-x"]
"#;
        let env = [
            ("INTERVAL", "\"20s\""),
            ("BURROW_HOST", "127.0.0.1"),
            ("USER_NAME", "monitor"),
            ("BURROW_PASSWORD", "p@ss"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let import = from_telegraf_toml_with_env(text, env).unwrap();
        let Some(SourceConfig::Burrow(source)) = import.config.sources.get("burrow") else {
            panic!("{:?}", import.config.sources);
        };
        assert_eq!(source.servers, ["http://127.0.0.1:8000"]);
        assert_eq!(source.username, "monitor");
        assert_eq!(source.password.expose(), "p@ss");
        assert_eq!(source.api_prefix, "/v3/kafka");
        assert_eq!(source.interval, Duration::from_secs(20));
        assert_eq!(
            source.groups_exclude,
            ["^x$", "cost-$", "${MISSING}", "$ALSO_MISSING-x"]
        );
        assert_eq!(
            warned_paths(&import.warnings),
            ["line 10", "line 10"],
            "{:?}",
            import.warnings
        );
        assert!(import.warnings[0].contains("MISSING is not set; the text is kept"));
    }

    #[test]
    fn burrow_and_telegraf_files_combine() {
        let burrow = r#"
[cluster.live]
class-name="kafka"
servers=["127.0.0.1:9092"]

[consumer.live]
class-name="kafka"
cluster="live"
"#;
        let combined = from_burrow_and_telegraf_toml(burrow, SEED, no_env()).unwrap();
        assert_eq!(combined.config.sources.keys().collect::<Vec<_>>(), ["live"]);
        assert_eq!(
            combined.config.sinks.keys().collect::<Vec<_>>(),
            ["elasticsearch"]
        );
        assert!(combined.burrow_warnings.is_empty());
        assert_eq!(
            warned_paths(&combined.telegraf_warnings),
            [
                "inputs.cpu[0]",
                "outputs.elasticsearch[0].health_check_interval",
                "inputs.burrow[0]",
            ]
        );

        // Without an Elasticsearch output the Burrow import's stdout sink stays.
        let combined =
            from_burrow_and_telegraf_toml(burrow, "[agent]\ninterval=\"5s\"\n", no_env()).unwrap();
        assert_eq!(combined.config.sinks.keys().collect::<Vec<_>>(), ["stdout"]);
        assert_eq!(
            combined.config.general.evaluation_interval,
            Duration::from_secs(5)
        );
    }
}
