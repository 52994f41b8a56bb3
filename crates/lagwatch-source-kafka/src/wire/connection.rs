//! One framed connection to one broker: TLS when the listener wants it, `ApiVersions` on
//! open, SASL authentication when the listener wants it, then one request at a time.

use super::codec;
use super::error::WireError;
use super::sasl;
use super::settings::WireSettings;
use super::transport::Transport;
use bytes::Bytes;
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::protocol::{Request, StrBytes};
use std::collections::HashMap;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A connection to one broker, used for one request at a time.
pub(super) struct Connection {
    pub(super) addr: String,
    stream: Transport,
    correlation: i32,
    /// Requests sent while opening: ApiVersions and the SASL exchange.
    pub(super) opening_requests: u64,
    /// API key → (min, max) version the broker offers.
    versions: HashMap<i16, (i16, i16)>,
}

impl Connection {
    /// Connects to `addr` as `settings` say: TLS handshake, `ApiVersions`, SASL.
    pub(super) async fn open(addr: &str, settings: &WireSettings) -> Result<Connection, WireError> {
        let timeout = settings.timeout;
        let stream = Transport::connect(addr, settings.tls.as_ref(), timeout).await?;
        let mut conn = Connection {
            addr: addr.to_owned(),
            stream,
            correlation: 0,
            opening_requests: 1,
            versions: HashMap::new(),
        };
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("lagwatch"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let response: ApiVersionsResponse = conn.call(&request, 3, timeout).await?;
        if response.error_code != 0 {
            return Err(WireError::Broker {
                addr: addr.to_owned(),
                api: "ApiVersions",
                code: response.error_code,
            });
        }
        conn.versions = response
            .api_keys
            .iter()
            .map(|k| (k.api_key, (k.min_version, k.max_version)))
            .collect();
        if let Some(sasl) = &settings.sasl {
            conn.opening_requests += sasl::authenticate(&mut conn, sasl, timeout).await?;
        }
        Ok(conn)
    }

    /// The newest version of `R` both sides speak, at least `needed` and at most `ours`.
    pub(super) fn version<R: Request>(&self, needed: i16, ours: i16) -> Result<i16, WireError> {
        let (min, max) = self.versions.get(&R::KEY).copied().unwrap_or((-1, -1));
        let version = max.min(ours).min(R::VERSIONS.max);
        if version < needed || version < min {
            return Err(WireError::Unsupported {
                addr: self.addr.clone(),
                api: api_name(R::KEY),
                offered: max,
                needed,
            });
        }
        Ok(version)
    }

    /// Sends one request and reads its response.
    pub(super) async fn call<R: Request>(
        &mut self,
        request: &R,
        version: i16,
        timeout: Duration,
    ) -> Result<R::Response, WireError> {
        let api = api_name(R::KEY);
        match tokio::time::timeout(timeout, self.exchange(request, version, api)).await {
            Ok(result) => result,
            Err(_) => Err(WireError::Timeout {
                addr: self.addr.clone(),
                api,
                timeout,
            }),
        }
    }

    async fn exchange<R: Request>(
        &mut self,
        request: &R,
        version: i16,
        api: &'static str,
    ) -> Result<R::Response, WireError> {
        self.correlation = self.correlation.wrapping_add(1);
        let codec = |message: String| WireError::Codec {
            addr: self.addr.clone(),
            api,
            message,
        };
        let frame =
            codec::encode_request(request, version, self.correlation, "lagwatch").map_err(codec)?;
        let io = |source| WireError::Io {
            addr: self.addr.clone(),
            source,
        };
        self.stream.write_all(&frame).await.map_err(io)?;
        let size = self.stream.read_i32().await.map_err(io)?;
        let size = codec::response_size(size).map_err(codec)?;
        let mut body = vec![0; size];
        self.stream.read_exact(&mut body).await.map_err(io)?;
        let (response, left) =
            codec::decode_response::<R>(Bytes::from(body), version, self.correlation)
                .map_err(codec)?;
        if left > 0 {
            tracing::trace!(addr = %self.addr, api, left, "response has trailing bytes");
        }
        Ok(response)
    }
}

fn api_name(key: i16) -> &'static str {
    match key {
        18 => "ApiVersions",
        10 => "FindCoordinator",
        9 => "OffsetFetch",
        17 => "SaslHandshake",
        36 => "SaslAuthenticate",
        3 => "Metadata",
        16 => "ListGroups",
        77 => "ShareGroupDescribe",
        90 => "DescribeShareGroupOffsets",
        _ => "request",
    }
}
