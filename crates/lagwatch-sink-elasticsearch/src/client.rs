//! A small HTTP client for the few Elasticsearch / OpenSearch endpoints lagwatch needs.

use crate::EsError;
use flate2::Compression;
use flate2::write::GzEncoder;
use lagwatch_config::ElasticsearchSinkConfig;
use lagwatch_core::secret::{Secret, redact_url};
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderMap};
use serde_json::Value;
use std::io::Write;
use std::time::Duration;

/// Most bytes of one answer read from the cluster (64 MiB). `_bulk` answers are filtered to
/// the status and error of each item, so even a batch of tens of thousands of refused
/// documents stays far below; a longer answer is a transient error naming the cluster.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Which product answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flavor {
    /// Elasticsearch.
    Elasticsearch,
    /// OpenSearch.
    OpenSearch,
}

/// Product and version of a cluster, as [`EsClient::detect`] found them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// Elasticsearch or OpenSearch.
    pub flavor: Flavor,
    /// Full version text (`9.2.8`, `3.8.0`).
    pub version: String,
    /// Major version.
    pub major: u32,
}

impl ServerInfo {
    /// Reads the answer of `GET /_nodes/_local?filter_path=nodes.*.version` plus the product
    /// headers. Elasticsearch 7.14+ sends `X-Elastic-Product`, OpenSearch sends
    /// `X-OpenSearch-Version` (3.x); without either header a major of 1-3 means OpenSearch
    /// (Elasticsearch below 7 is refused anyway).
    pub fn from_nodes(headers: &HeaderMap, body: &Value, url: &str) -> Result<ServerInfo, EsError> {
        let version = body
            .get("nodes")
            .and_then(Value::as_object)
            .and_then(|nodes| nodes.values().next())
            .and_then(|node| node.get("version"))
            .and_then(Value::as_str)
            .ok_or_else(|| EsError::BadResponse {
                url: url.to_owned(),
                reason: "no node version in /_nodes/_local".to_owned(),
            })?
            .to_owned();
        let major: u32 = version
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .ok_or_else(|| EsError::BadResponse {
                url: url.to_owned(),
                reason: format!("unreadable version {version:?}"),
            })?;
        let flavor = if headers.contains_key("x-opensearch-version") {
            Flavor::OpenSearch
        } else if headers.contains_key("x-elastic-product") || major >= 5 {
            Flavor::Elasticsearch
        } else {
            Flavor::OpenSearch
        };
        let supported = match flavor {
            Flavor::Elasticsearch => major >= 7,
            Flavor::OpenSearch => major >= 1,
        };
        if !supported {
            return Err(EsError::Unsupported {
                url: url.to_owned(),
                version: format!("{flavor:?} {version}"),
            });
        }
        Ok(ServerInfo {
            flavor,
            version,
            major,
        })
    }
}

/// Authentication sent with every request.
#[derive(Debug, Clone)]
enum Auth {
    None,
    Basic(String, Secret),
    ApiKey(Secret),
    Bearer(Secret),
}

/// HTTP access to one cluster. `Debug` shows the URL without credentials.
#[derive(Clone)]
pub struct EsClient {
    http: reqwest::Client,
    base: String,
    shown: String,
    auth: Auth,
    gzip: bool,
}

impl std::fmt::Debug for EsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EsClient")
            .field("url", &self.shown)
            .field("auth", &self.auth)
            .field("gzip", &self.gzip)
            .finish_non_exhaustive()
    }
}

/// The answer to a `_bulk` request that reached the server.
#[derive(Debug)]
pub struct BulkReply {
    /// HTTP status of the whole request.
    pub status: u16,
    /// `Retry-After` in seconds, when the server sent one.
    pub retry_after: Option<Duration>,
    /// Response body.
    pub body: Vec<u8>,
}

impl EsClient {
    /// A client for the cluster and credentials of `cfg`.
    pub fn new(cfg: &ElasticsearchSinkConfig) -> Result<EsClient, EsError> {
        let shown = redact_url(cfg.url.expose());
        #[allow(unused_mut)]
        let mut builder = reqwest::Client::builder().timeout(cfg.timeout);
        if !cfg.ca_file.as_os_str().is_empty() {
            #[cfg(feature = "tls")]
            {
                let pem = std::fs::read(&cfg.ca_file).map_err(|e| EsError::CaFile {
                    path: cfg.ca_file.display().to_string(),
                    reason: e.to_string(),
                })?;
                let certs =
                    reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| EsError::CaFile {
                        path: cfg.ca_file.display().to_string(),
                        reason: e.to_string(),
                    })?;
                for cert in certs {
                    builder = builder.add_root_certificate(cert);
                }
            }
            #[cfg(not(feature = "tls"))]
            return Err(EsError::NoTls { url: shown });
        }
        #[cfg(not(feature = "tls"))]
        if cfg.url.expose().starts_with("https://") {
            return Err(EsError::NoTls { url: shown });
        }
        let http = builder.build().map_err(|e| EsError::Client {
            url: shown.clone(),
            reason: e.to_string(),
        })?;
        let auth = if !cfg.username.is_empty() {
            Auth::Basic(cfg.username.clone(), cfg.password.clone())
        } else if !cfg.api_key.expose().is_empty() {
            Auth::ApiKey(cfg.api_key.clone())
        } else if !cfg.bearer_token.expose().is_empty() {
            Auth::Bearer(cfg.bearer_token.clone())
        } else {
            Auth::None
        };
        Ok(EsClient {
            http,
            base: cfg.url.expose().trim_end_matches('/').to_owned(),
            shown,
            auth,
            gzip: cfg.gzip,
        })
    }

    /// The cluster URL for messages (credentials and path removed).
    pub fn shown_url(&self) -> &str {
        &self.shown
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.http.request(method, format!("{}{}", self.base, path));
        match &self.auth {
            Auth::None => req,
            Auth::Basic(user, password) => req.basic_auth(user, Some(password.expose())),
            Auth::ApiKey(key) => req.header(
                reqwest::header::AUTHORIZATION,
                format!("ApiKey {}", key.expose()),
            ),
            Auth::Bearer(token) => req.bearer_auth(token.expose()),
        }
    }

    fn transport(&self, e: reqwest::Error) -> EsError {
        // reqwest's message names the URL, credentials included: never show it.
        let e = e.without_url();
        EsError::Transport {
            url: self.shown.clone(),
            reason: if e.is_timeout() {
                "timed out".to_owned()
            } else if e.is_connect() {
                "connection failed".to_owned()
            } else {
                e.to_string()
            },
        }
    }

    /// Reads a response body, at most [`MAX_RESPONSE_BYTES`].
    async fn read_body(&self, mut resp: reqwest::Response) -> Result<Vec<u8>, EsError> {
        let too_large = |e: lagwatch_core::text::BodyTooLarge| EsError::Transport {
            url: self.shown.clone(),
            reason: e.to_string(),
        };
        let mut body = lagwatch_core::text::CappedBody::with_announced(
            MAX_RESPONSE_BYTES,
            resp.content_length(),
        )
        .map_err(too_large)?;
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(e))? {
            body.push(&chunk).map_err(too_large)?;
        }
        Ok(body.into_bytes())
    }

    /// Sends a JSON request and returns the status and the parsed body (`null` when empty).
    pub async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, HeaderMap, Value), EsError> {
        let mut req = self.request(method, path);
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(|e| self.transport(e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = self.read_body(resp).await?;
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Ok((status, headers, value))
    }

    /// Product and version, from `GET /_nodes/_local` (never `GET /`, which some builds
    /// refuse with 405).
    pub async fn detect(&self) -> Result<ServerInfo, EsError> {
        let (status, headers, body) = self
            .json(
                reqwest::Method::GET,
                "/_nodes/_local?filter_path=nodes.*.version",
                None,
            )
            .await?;
        if status != 200 {
            return Err(EsError::Status {
                url: self.shown.clone(),
                what: "GET /_nodes/_local".to_owned(),
                status,
                reason: short(&body),
            });
        }
        ServerInfo::from_nodes(&headers, &body, &self.shown)
    }

    /// Posts an NDJSON body to `/_bulk` (gzip-compressed when configured).
    pub async fn bulk(&self, body: String) -> Result<BulkReply, EsError> {
        let bytes = if self.gzip {
            let mut enc = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
            enc.write_all(body.as_bytes())
                .and_then(|_| enc.finish())
                .map_err(|e| EsError::Client {
                    url: self.shown.clone(),
                    reason: format!("gzip: {e}"),
                })?
        } else {
            body.into_bytes()
        };
        let mut req = self
            .request(
                reqwest::Method::POST,
                "/_bulk?filter_path=errors,items.*.status,items.*.error",
            )
            .header(CONTENT_TYPE, "application/x-ndjson");
        if self.gzip {
            req = req.header(CONTENT_ENCODING, "gzip");
        }
        let req = req.body(bytes);
        let resp = req.send().await.map_err(|e| self.transport(e))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = self.read_body(resp).await?;
        Ok(BulkReply {
            status,
            retry_after,
            body,
        })
    }
}

/// A short description of an error body for messages.
pub fn short(body: &Value) -> String {
    let error = body.get("error");
    match error {
        Some(Value::Object(e)) => format!(
            "{}: {}",
            e.get("type").and_then(Value::as_str).unwrap_or("error"),
            e.get("reason").and_then(Value::as_str).unwrap_or("")
        ),
        Some(Value::String(s)) => s.clone(),
        _ => {
            let mut text = body.to_string();
            lagwatch_core::text::truncate_at_char_boundary(&mut text, 200);
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(name: &'static str, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, reqwest::header::HeaderValue::from_static(value));
        h
    }

    #[test]
    fn versions_and_flavors() {
        let nodes = |v: &str| json!({"nodes": {"abc": {"version": v}}});
        let es9 = ServerInfo::from_nodes(
            &headers("x-elastic-product", "Elasticsearch"),
            &nodes("9.2.8"),
            "u",
        )
        .unwrap();
        assert_eq!(
            (es9.flavor, es9.major, es9.version.as_str()),
            (Flavor::Elasticsearch, 9, "9.2.8")
        );
        let es8 = ServerInfo::from_nodes(&HeaderMap::new(), &nodes("8.19.0"), "u").unwrap();
        assert_eq!((es8.flavor, es8.major), (Flavor::Elasticsearch, 8));
        let os3 = ServerInfo::from_nodes(
            &headers("x-opensearch-version", "OpenSearch/3.8.0 (opensearch)"),
            &nodes("3.8.0"),
            "u",
        )
        .unwrap();
        assert_eq!((os3.flavor, os3.major), (Flavor::OpenSearch, 3));
        let os2 = ServerInfo::from_nodes(&HeaderMap::new(), &nodes("2.17.1"), "u").unwrap();
        assert_eq!((os2.flavor, os2.major), (Flavor::OpenSearch, 2));
        let old = ServerInfo::from_nodes(
            &headers("x-elastic-product", "Elasticsearch"),
            &nodes("6.8.0"),
            "http://es",
        )
        .unwrap_err()
        .to_string();
        assert!(old.contains("6.8.0") && old.contains("http://es"), "{old}");
        assert!(ServerInfo::from_nodes(&HeaderMap::new(), &json!({}), "u").is_err());
        assert!(ServerInfo::from_nodes(&HeaderMap::new(), &nodes("x"), "u").is_err());
    }

    /// A server answering every request with an endless chunked body.
    async fn endless_server() -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut head = [0u8; 4096];
                    let _ = socket.read(&mut head).await;
                    let start = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                    if socket.write_all(start.as_bytes()).await.is_err() {
                        return;
                    }
                    let chunk = format!("{:x}\r\n{}\r\n", 1 << 20, " ".repeat(1 << 20));
                    while socket.write_all(chunk.as_bytes()).await.is_ok() {}
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn an_endless_answer_is_cut_at_the_limit() {
        let port = endless_server().await;
        let mut cfg = ElasticsearchSinkConfig::new(format!("http://127.0.0.1:{port}"));
        cfg.timeout = Duration::from_secs(60);
        let client = EsClient::new(&cfg).unwrap();
        let err = client.detect().await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("127.0.0.1:{port}"))
                && text.contains("larger than 67108864 bytes"),
            "{text}"
        );
        assert!(err.is_retryable());
        let err = client
            .bulk("{}\n".to_owned())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("larger than 67108864 bytes"), "{err}");
    }

    #[tokio::test]
    async fn credentials_in_the_url_never_show_in_errors_or_debug() {
        // A server that hangs up on every request: reqwest's error then names the URL.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                drop(socket);
            }
        });
        let cfg = ElasticsearchSinkConfig::new(format!("http://esuser:espw@127.0.0.1:{port}"));
        let client = EsClient::new(&cfg).unwrap();
        let err = client.detect().await.unwrap_err().to_string();
        assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
        let debug = format!("{client:?} {cfg:?}");
        for shown in [&err, &debug] {
            assert!(
                !shown.contains("espw") && !shown.contains("esuser"),
                "{shown}"
            );
        }
    }

    #[test]
    fn long_bodies_are_cut_on_a_character_boundary() {
        // `{"k":"` is 6 bytes: with 193 ASCII letters after it, the 'é' takes bytes 199-200.
        for pad in 190..200 {
            let body = json!({"k": format!("{}é{}", "a".repeat(pad), "ü".repeat(100))});
            let text = short(&body);
            assert!(text.len() <= 200, "{pad}: {}", text.len());
            assert!(body.to_string().starts_with(&text), "{pad}");
        }
    }

    #[test]
    fn error_bodies_are_shortened() {
        assert_eq!(
            short(
                &json!({"error": {"type": "security_exception", "reason": "denied"}, "status": 403})
            ),
            "security_exception: denied"
        );
        assert_eq!(
            short(&json!({"error": "Incorrect HTTP method"})),
            "Incorrect HTTP method"
        );
    }
}
