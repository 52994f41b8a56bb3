//! Configuration of the Elasticsearch / OpenSearch sink (`type = "elasticsearch"`).

use lagwatch_core::duration::serde_text;
use lagwatch_core::secret::{Secret, SecretUrl};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// Elasticsearch / OpenSearch sink: Telegraf-shaped documents written with `_bulk`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElasticsearchSinkConfig {
    /// Base URL of the cluster (`http://host:9200`). Required. Credentials in it
    /// (`http://user:password@host:9200`) are shown as `<redacted>` everywhere.
    pub url: SecretUrl,
    /// Index name with Telegraf's placeholders (`%Y %y %m %d %H %V` in UTC, `{{tag}}`).
    #[serde(default = "default_index_name")]
    pub index_name: String,
    /// Write to a data stream: `index_name` is then the stream's name, without placeholders.
    #[serde(default)]
    pub data_stream: bool,
    /// Value used for a `{{tag}}` placeholder when the record lacks that tag.
    #[serde(default)]
    pub default_tag_value: String,
    /// Value of Telegraf's `host` tag on every document (empty: no `host` tag).
    #[serde(default)]
    pub host: String,
    /// Write `burrow_topic` documents (broker offsets).
    #[serde(default = "default_true")]
    pub topics: bool,
    /// Add lagwatch's own fields next to Telegraf's.
    #[serde(default)]
    pub native_fields: bool,
    /// Time limit of one HTTP request.
    #[serde(default = "default_timeout", with = "serde_text")]
    pub timeout: Duration,
    /// Most documents in one `_bulk` request.
    #[serde(default = "default_batch_max_docs")]
    pub batch_max_docs: usize,
    /// Most bytes (uncompressed NDJSON) in one `_bulk` request.
    #[serde(default = "default_batch_max_bytes")]
    pub batch_max_bytes: usize,
    /// Longest time documents wait for more to join their batch.
    #[serde(default = "default_batch_max_wait", with = "serde_text")]
    pub batch_max_wait: Duration,
    /// Most `_bulk` requests in flight at once. A snapshot larger than one request is sent
    /// as several; with more than one in flight the cluster indexes one while the next is
    /// on its way.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Compress request bodies with gzip.
    #[serde(default)]
    pub gzip: bool,
    /// Retries of a retryable failure (429, 5xx, connection error) before giving up.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// Wait before the first retry; doubled for each further one (with jitter).
    #[serde(default = "default_initial_backoff", with = "serde_text")]
    pub retry_initial_backoff: Duration,
    /// Longest wait between two retries.
    #[serde(default = "default_max_backoff", with = "serde_text")]
    pub retry_max_backoff: Duration,
    /// NDJSON file receiving documents Elasticsearch refused for good (empty: logged only).
    #[serde(default)]
    pub dead_letter_path: PathBuf,
    /// Most bytes of the dead-letter file: past it the file is renamed to `<path>.1`
    /// (replacing the previous one) and a new one started.
    #[serde(default = "default_dead_letter_max_bytes")]
    pub dead_letter_max_bytes: u64,
    /// User for HTTP basic authentication (empty: none).
    #[serde(default)]
    pub username: String,
    /// Password for basic authentication.
    #[serde(default)]
    pub password: Secret,
    /// Elasticsearch API key (the base64 `id:key` form), sent as `Authorization: ApiKey`.
    #[serde(default)]
    pub api_key: Secret,
    /// Token sent as `Authorization: Bearer`.
    #[serde(default)]
    pub bearer_token: Secret,
    /// PEM file with extra CA certificates to trust for `https` (empty: system roots only).
    #[serde(default)]
    pub ca_file: PathBuf,
    /// Directory of the disk spool (empty: no spool; writes wait for Elasticsearch).
    #[serde(default)]
    pub spool_dir: PathBuf,
    /// Most bytes the spool holds.
    #[serde(default = "default_spool_max_bytes")]
    pub spool_max_bytes: u64,
    /// What happens to documents when the spool is full.
    #[serde(default)]
    pub spool_full_policy: SpoolFullPolicy,
}

/// What the Elasticsearch sink's spool does when it is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SpoolFullPolicy {
    /// Keep what is spooled; new documents are dropped (and logged).
    #[default]
    DropNewest,
    /// Delete the oldest spooled documents to make room.
    DropOldest,
}

fn default_dead_letter_max_bytes() -> u64 {
    64 * 1024 * 1024
}

fn default_spool_max_bytes() -> u64 {
    1024 * 1024 * 1024
}

impl ElasticsearchSinkConfig {
    /// A configuration for `url` with every other key at its default.
    pub fn new(url: impl Into<String>) -> ElasticsearchSinkConfig {
        ElasticsearchSinkConfig {
            url: SecretUrl::new(url),
            index_name: default_index_name(),
            data_stream: false,
            default_tag_value: String::new(),
            host: String::new(),
            topics: true,
            native_fields: false,
            timeout: default_timeout(),
            batch_max_docs: default_batch_max_docs(),
            batch_max_bytes: default_batch_max_bytes(),
            batch_max_wait: default_batch_max_wait(),
            concurrency: default_concurrency(),
            gzip: false,
            max_retries: default_max_retries(),
            retry_initial_backoff: default_initial_backoff(),
            retry_max_backoff: default_max_backoff(),
            dead_letter_path: PathBuf::new(),
            dead_letter_max_bytes: default_dead_letter_max_bytes(),
            username: String::new(),
            password: Secret::default(),
            api_key: Secret::default(),
            bearer_token: Secret::default(),
            ca_file: PathBuf::new(),
            spool_dir: PathBuf::new(),
            spool_max_bytes: default_spool_max_bytes(),
            spool_full_policy: SpoolFullPolicy::DropNewest,
        }
    }

    /// Problems with this configuration, as `(key, message)` pairs (key relative to the sink).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let url = self.url.expose();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            out.push(("url", "must start with http:// or https://".to_owned()));
        }
        match check_index_name(&self.index_name) {
            Err(e) => out.push(("index_name", e)),
            Ok(()) if self.data_stream => {
                if let Err(e) = check_data_stream_name(&self.index_name) {
                    out.push(("index_name", e));
                }
            }
            Ok(()) => {}
        }
        if self.timeout.is_zero() {
            out.push(("timeout", "must be longer than 0s".to_owned()));
        }
        if self.batch_max_docs < 1 {
            out.push(("batch_max_docs", "must be at least 1".to_owned()));
        }
        if !(1..=64).contains(&self.concurrency) {
            out.push(("concurrency", "must be between 1 and 64".to_owned()));
        }
        if self.spool_max_bytes < 1024 * 1024 {
            out.push((
                "spool_max_bytes",
                "must be at least 1048576 (1 MiB)".to_owned(),
            ));
        }
        if self.dead_letter_max_bytes < 1024 * 1024 {
            out.push((
                "dead_letter_max_bytes",
                "must be at least 1048576 (1 MiB)".to_owned(),
            ));
        }
        if self.batch_max_bytes < 1024 {
            out.push(("batch_max_bytes", "must be at least 1024".to_owned()));
        }
        if self.retry_initial_backoff > self.retry_max_backoff {
            out.push((
                "retry_initial_backoff",
                "must not be longer than retry_max_backoff".to_owned(),
            ));
        }
        out
    }
}

/// Checks an index-name pattern: only `%Y %y %m %d %H %V` escapes, closed `{{…}}` tags,
/// no characters Elasticsearch refuses in index names.
pub fn check_index_name(pattern: &str) -> Result<(), String> {
    if pattern.is_empty() {
        return Err("must not be empty".to_owned());
    }
    // The pattern without its `{{tag}}` parts: characters Elasticsearch refuses are only
    // checked there (tag values are lower-cased when the name is built).
    let mut literal = String::new();
    let mut rest = pattern;
    while let Some(pos) = rest.find(['%', '{']) {
        literal.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if let Some(after) = tail.strip_prefix('%') {
            match after.chars().next() {
                Some('Y' | 'y' | 'm' | 'd' | 'H' | 'V') => rest = &after[1..],
                Some(c) => {
                    return Err(format!(
                        "unknown placeholder %{c} (known: %Y %y %m %d %H %V)"
                    ));
                }
                None => return Err("ends with a lone %".to_owned()),
            }
        } else if let Some(after) = tail.strip_prefix("{{") {
            let Some(end) = after.find("}}") else {
                return Err("a {{ is not closed by }}".to_owned());
            };
            if after[..end].trim().is_empty() {
                return Err("{{}} names no tag".to_owned());
            }
            rest = &after[end + 2..];
        } else {
            literal.push('{');
            rest = &tail[1..];
        }
    }
    literal.push_str(rest);
    if pattern.starts_with(['_', '-', '+']) {
        return Err("must not start with _, - or +".to_owned());
    }
    if let Some(c) = literal.chars().find(|c| {
        matches!(
            c,
            '\\' | '/' | '*' | '?' | '"' | '<' | '>' | '|' | ' ' | ',' | '#' | ':'
        ) || c.is_uppercase()
    }) {
        return Err(format!("must not contain {c:?}"));
    }
    Ok(())
}

/// Checks the name of a data stream (`data_stream = true`), which must already pass
/// [`check_index_name`]: one fixed name, so no `%` date or `{{tag}}` placeholders (every
/// document goes to the stream; its backing indices roll over instead of date-named
/// indices), not starting with `.ds-` (the backing indices' prefix), at most 255 bytes.
pub fn check_data_stream_name(name: &str) -> Result<(), String> {
    const WHY: &str = "when data_stream = true (it is then the data stream's name";
    if let Some(pos) = name.find('%') {
        let placeholder = name.get(pos..pos + 2).unwrap_or("%");
        return Err(format!(
            "must not contain the date placeholder {placeholder} {WHY}; the stream rolls \
             over its own backing indices, set data_stream = false for date-named indices)"
        ));
    }
    if let Some(pos) = name.find("{{") {
        let end = name[pos..].find("}}").map_or(name.len(), |e| pos + e + 2);
        return Err(format!(
            "must not contain the tag placeholder {} {WHY}; every document goes to that \
             one stream)",
            &name[pos..end]
        ));
    }
    if name.starts_with(".ds-") {
        return Err(format!(
            "must not start with .ds- {WHY}; .ds- starts the names of its backing indices)"
        ));
    }
    if name == "." || name == ".." {
        return Err("must not be . or ..".to_owned());
    }
    if name.len() > 255 {
        return Err(format!(
            "must be at most 255 bytes {WHY}), not {}",
            name.len()
        ));
    }
    Ok(())
}

fn default_index_name() -> String {
    "burrow-%Y.%m.%d".to_owned()
}

fn default_true() -> bool {
    true
}

fn default_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_batch_max_docs() -> usize {
    1000
}

fn default_batch_max_bytes() -> usize {
    5 * 1024 * 1024
}

fn default_batch_max_wait() -> Duration {
    Duration::from_secs(1)
}

fn default_concurrency() -> usize {
    2
}

fn default_max_retries() -> u32 {
    5
}

fn default_initial_backoff() -> Duration {
    Duration::from_millis(200)
}

fn default_max_backoff() -> Duration {
    Duration::from_secs(30)
}
