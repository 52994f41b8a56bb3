//! The sink: transports, error classification, retries.

use crate::OtlpError;
use crate::message::{self, Export};
use lagwatch_component::{
    Ack, ComponentError, ErrorClass, FromConfig, LagSink, StatsProvider, async_trait,
};
use lagwatch_config::{OtlpProtocol, OtlpSinkConfig};
use lagwatch_core::Snapshot;
use lagwatch_core::filter::NameFilter;
use lagwatch_core::secret::SecretUrl;
use lagwatch_metrics::{MetricsSettings, NameSet};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceResponse, metrics_service_client::MetricsServiceClient,
};
use prost::Message;
use std::sync::Arc;
use std::time::Duration;
use tonic::Code;
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue, MetadataMap};
use tonic::transport::{Channel, Endpoint};

/// Waits before the second and third attempt of a push that failed transiently.
const RETRY_WAITS: [Duration; 2] = [Duration::from_millis(250), Duration::from_millis(500)];

/// Pushes lagwatch's native metrics to an OTLP receiver after every evaluation. See the
/// [crate documentation](crate).
pub struct OtlpSink {
    name: String,
    endpoint: SecretUrl,
    transport: Transport,
    settings: MetricsSettings,
    instance: String,
    stats: Option<Arc<dyn StatsProvider>>,
}

impl std::fmt::Debug for OtlpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header values are secrets: only the endpoint (redacted) and the protocol are shown.
        f.debug_struct("OtlpSink")
            .field("name", &self.name)
            .field("endpoint", &self.endpoint)
            .field("protocol", &self.transport.protocol())
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

enum Transport {
    Grpc(Box<Grpc>),
    Http {
        client: reqwest::Client,
        url: String,
        headers: reqwest::header::HeaderMap,
    },
}

struct Grpc {
    endpoint: Endpoint,
    channel: tokio::sync::OnceCell<Channel>,
    metadata: MetadataMap,
}

impl Transport {
    fn protocol(&self) -> &'static str {
        match self {
            Transport::Grpc(_) => "grpc",
            Transport::Http { .. } => "http",
        }
    }
}

/// One failed push, classified.
struct Failure {
    class: ErrorClass,
    message: String,
}

impl FromConfig for OtlpSink {
    type Config = OtlpSinkConfig;

    /// A sink named `otlp[<name>]` for `config`. Does no I/O (the gRPC connection is made
    /// on the first push).
    ///
    /// # Errors
    /// A permanent [`ComponentError`] naming the key: an endpoint that is not an
    /// `http(s)://` URL (or `https` with gRPC), an invalid header name or value, a filter
    /// pattern that does not compile.
    fn from_config(name: &str, config: &OtlpSinkConfig) -> Result<OtlpSink, ComponentError> {
        let name = format!("otlp[{name}]");
        OtlpSink::build(&name, config)
            .map_err(|e| ComponentError::permanent(&name, e.to_string()).with_source(e))
    }
}

/// The host name: `HOSTNAME`, else the kernel's, else `lagwatch`.
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "lagwatch".to_owned())
}

fn filter(
    allow_key: &'static str,
    allow: &str,
    deny_key: &'static str,
    deny: &str,
) -> Result<NameFilter, OtlpError> {
    NameFilter::new(Some(allow), Some(deny)).map_err(|e| OtlpError::Config {
        key: if e.pattern == allow {
            allow_key
        } else {
            deny_key
        },
        reason: e.to_string(),
    })
}

impl OtlpSink {
    fn build(name: &str, config: &OtlpSinkConfig) -> Result<OtlpSink, OtlpError> {
        let url = config.endpoint.expose();
        let shown = config.endpoint.to_string();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(OtlpError::Config {
                key: "endpoint",
                reason: format!("{shown}: must start with http:// or https://"),
            });
        }
        if config.timeout.is_zero() {
            return Err(OtlpError::Config {
                key: "timeout",
                reason: "must be longer than 0s".into(),
            });
        }
        let settings = MetricsSettings {
            sets: vec![NameSet::Native],
            partition_series: config.partition_series,
            groups: filter(
                "group_allowlist",
                &config.group_allowlist,
                "group_denylist",
                &config.group_denylist,
            )?,
            topics: filter(
                "topic_allowlist",
                &config.topic_allowlist,
                "topic_denylist",
                &config.topic_denylist,
            )?,
            member_labels: false,
        };
        let bad_header = |header: &str| OtlpError::Config {
            key: "headers",
            reason: format!("header {header:?}: invalid name or value (the value is not shown)"),
        };
        let transport = match config.protocol {
            OtlpProtocol::Grpc => {
                if url.starts_with("https://") {
                    return Err(OtlpError::Config {
                        key: "endpoint",
                        reason: format!(
                            "{shown}: gRPC over TLS is not supported; use protocol = \"http\" for https"
                        ),
                    });
                }
                let endpoint = Endpoint::from_shared(url.to_owned())
                    .map_err(|_| OtlpError::Config {
                        key: "endpoint",
                        reason: format!("{shown}: not a valid URL"),
                    })?
                    .timeout(config.timeout)
                    .connect_timeout(config.timeout);
                let mut metadata = MetadataMap::new();
                for (header, value) in &config.headers {
                    let key = AsciiMetadataKey::from_bytes(header.to_ascii_lowercase().as_bytes())
                        .map_err(|_| bad_header(header))?;
                    let value = AsciiMetadataValue::try_from(value.expose().as_str())
                        .map_err(|_| bad_header(header))?;
                    metadata.insert(key, value);
                }
                Transport::Grpc(Box::new(Grpc {
                    endpoint,
                    channel: tokio::sync::OnceCell::new(),
                    metadata,
                }))
            }
            OtlpProtocol::Http => {
                let parsed = reqwest::Url::parse(url).map_err(|_| OtlpError::Config {
                    key: "endpoint",
                    reason: format!("{shown}: not a valid URL"),
                })?;
                let mut target = parsed.clone();
                if parsed.path().is_empty() || parsed.path() == "/" {
                    target.set_path("/v1/metrics");
                }
                let mut headers = reqwest::header::HeaderMap::new();
                headers.insert(
                    reqwest::header::CONTENT_TYPE,
                    reqwest::header::HeaderValue::from_static("application/x-protobuf"),
                );
                for (header, value) in &config.headers {
                    let key = reqwest::header::HeaderName::from_bytes(header.as_bytes())
                        .map_err(|_| bad_header(header))?;
                    let mut value = reqwest::header::HeaderValue::from_str(value.expose())
                        .map_err(|_| bad_header(header))?;
                    value.set_sensitive(true);
                    headers.insert(key, value);
                }
                let client = reqwest::Client::builder()
                    .timeout(config.timeout)
                    .build()
                    .map_err(|e| OtlpError::Config {
                        key: "endpoint",
                        reason: format!("HTTP client: {}", e.without_url()),
                    })?;
                Transport::Http {
                    client,
                    url: target.to_string(),
                    headers,
                }
            }
        };
        let instance = if config.instance.is_empty() {
            host_name()
        } else {
            config.instance.clone()
        };
        Ok(OtlpSink {
            name: name.to_owned(),
            endpoint: config.endpoint.clone(),
            transport,
            settings,
            instance,
            stats: None,
        })
    }

    /// Adds lagwatch's own figures (reads, queues, deliveries, readiness) to every push, in a
    /// resource without cluster.
    #[must_use]
    pub fn with_stats(mut self, stats: Arc<dyn StatsProvider>) -> OtlpSink {
        self.stats = Some(stats);
        self
    }

    /// The `service.instance.id` pushed.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// What a write of `snapshot` would push now.
    pub fn export(&self, snapshot: &Snapshot) -> Export {
        let stats = self.stats.as_ref().map(|s| s.runtime_stats());
        message::build(snapshot, stats.as_ref(), &self.settings, &self.instance)
    }

    fn error(&self, failure: Failure) -> ComponentError {
        ComponentError {
            class: failure.class,
            component: self.name.clone(),
            message: format!("{}: {}", self.endpoint, failure.message),
            source: None,
        }
    }

    async fn push(&self, export: &Export) -> Result<(), Failure> {
        match &self.transport {
            Transport::Grpc(grpc) => {
                let Grpc {
                    endpoint,
                    channel,
                    metadata,
                } = &**grpc;
                let channel = channel
                    .get_or_init(|| async { endpoint.connect_lazy() })
                    .await
                    .clone();
                let mut client = MetricsServiceClient::new(channel);
                let mut request = tonic::Request::new(export.request.clone());
                *request.metadata_mut() = metadata.clone();
                match client.export(request).await {
                    Ok(response) => {
                        self.partial(response.get_ref());
                        Ok(())
                    }
                    Err(status) => Err(Failure {
                        class: grpc_class(status.code()),
                        message: format!("gRPC {:?}: {}", status.code(), status.message()),
                    }),
                }
            }
            Transport::Http {
                client,
                url,
                headers,
            } => {
                let body = export.request.encode_to_vec();
                let response = client
                    .post(url)
                    .headers(headers.clone())
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| Failure {
                        // Connection refused, reset, timeout: worth another try.
                        class: ErrorClass::Transient,
                        message: e.without_url().to_string(),
                    })?;
                let status = response.status();
                let body = response.bytes().await.unwrap_or_default();
                if status.is_success() {
                    if let Ok(answer) = ExportMetricsServiceResponse::decode(body.as_ref()) {
                        self.partial(&answer);
                    }
                    return Ok(());
                }
                let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
                Err(Failure {
                    class: http_class(status.as_u16()),
                    message: format!("HTTP {status}: {}", text.trim()),
                })
            }
        }
    }

    fn partial(&self, answer: &ExportMetricsServiceResponse) {
        if let Some(partial) = &answer.partial_success {
            if partial.rejected_data_points > 0 {
                tracing::warn!(
                    sink = %self.name,
                    endpoint = %self.endpoint,
                    rejected = partial.rejected_data_points,
                    reason = %partial.error_message,
                    "OTLP receiver rejected some data points"
                );
            }
        }
    }
}

/// OTLP's retryable gRPC codes (the specification's list; RESOURCE_EXHAUSTED included, as a
/// busy receiver usually recovers).
fn grpc_class(code: Code) -> ErrorClass {
    match code {
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable
        | Code::DataLoss
        | Code::ResourceExhausted => ErrorClass::Transient,
        _ => ErrorClass::Permanent,
    }
}

/// OTLP/HTTP's retryable statuses: 429, 502, 503, 504.
fn http_class(status: u16) -> ErrorClass {
    match status {
        429 | 502 | 503 | 504 => ErrorClass::Transient,
        _ => ErrorClass::Permanent,
    }
}

#[async_trait]
impl LagSink for OtlpSink {
    fn name(&self) -> &str {
        &self.name
    }

    /// Nothing to check without sending data: OTLP has no ping. A bad endpoint shows on the
    /// first push.
    async fn healthcheck(&self) -> Result<(), ComponentError> {
        Ok(())
    }

    /// Pushes the snapshot's metrics (and lagwatch's own figures, with
    /// [`OtlpSink::with_stats`]); acknowledges the number of data points. A transient failure
    /// is tried twice more (after 250 ms and 500 ms); nothing is kept for later, as the next
    /// evaluation pushes current values again.
    async fn write(&self, snapshot: &Snapshot) -> Result<Ack, ComponentError> {
        let export = self.export(snapshot);
        if export.points == 0 {
            return Ok(Ack { records: 0 });
        }
        let mut attempt = 0;
        loop {
            match self.push(&export).await {
                Ok(()) => {
                    return Ok(Ack {
                        records: export.points,
                    });
                }
                Err(f) if f.class == ErrorClass::Transient && attempt < RETRY_WAITS.len() => {
                    tracing::debug!(sink = %self.name, endpoint = %self.endpoint, error = %f.message, "OTLP push failed, retrying");
                    tokio::time::sleep(RETRY_WAITS[attempt]).await;
                    attempt += 1;
                }
                Err(f) => return Err(self.error(f)),
            }
        }
    }

    /// Nothing is buffered.
    async fn flush(&self) -> Result<(), ComponentError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_codes_and_statuses_follow_the_otlp_specification() {
        assert_eq!(grpc_class(Code::Unavailable), ErrorClass::Transient);
        assert_eq!(grpc_class(Code::ResourceExhausted), ErrorClass::Transient);
        assert_eq!(grpc_class(Code::InvalidArgument), ErrorClass::Permanent);
        assert_eq!(grpc_class(Code::Unauthenticated), ErrorClass::Permanent);
        assert_eq!(http_class(503), ErrorClass::Transient);
        assert_eq!(http_class(429), ErrorClass::Transient);
        assert_eq!(http_class(400), ErrorClass::Permanent);
        assert_eq!(http_class(500), ErrorClass::Permanent);
    }
}
