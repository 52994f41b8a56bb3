//! One framed connection to one broker: `ApiVersions` on open, then one request at a time.

use super::MAX_RESPONSE_BYTES;
use super::error::WireError;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiVersionsRequest, ApiVersionsResponse, RequestHeader, ResponseHeader,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use std::collections::HashMap;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A connection to one broker, used for one request at a time.
pub(super) struct Connection {
    pub(super) addr: String,
    stream: TcpStream,
    correlation: i32,
    /// API key → (min, max) version the broker offers.
    versions: HashMap<i16, (i16, i16)>,
}

impl Connection {
    pub(super) async fn open(addr: &str, timeout: Duration) -> Result<Connection, WireError> {
        let io = |source| WireError::Io {
            addr: addr.to_owned(),
            source,
        };
        let stream = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(connected) => connected.map_err(io)?,
            Err(_) => {
                return Err(WireError::Timeout {
                    addr: addr.to_owned(),
                    api: "connect",
                    timeout,
                });
            }
        };
        stream.set_nodelay(true).map_err(io)?;
        let mut conn = Connection {
            addr: addr.to_owned(),
            stream,
            correlation: 0,
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
        Ok(conn)
    }

    /// The newest version of `R` both sides speak, at least `needed` and at most `ours`.
    pub(super) fn version<R: Request>(
        &self,
        api: &'static str,
        needed: i16,
        ours: i16,
    ) -> Result<i16, WireError> {
        let (min, max) = self.versions.get(&R::KEY).copied().unwrap_or((-1, -1));
        let version = max.min(ours).min(R::VERSIONS.max);
        if version < needed || version < min {
            return Err(WireError::Unsupported {
                addr: self.addr.clone(),
                api,
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
        let addr = self.addr.clone();
        self.correlation = self.correlation.wrapping_add(1);
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(StrBytes::from_static_str("lagwatch")));
        let mut frame = BytesMut::new();
        frame.put_i32(0);
        header
            .encode(&mut frame, R::header_version(version))
            .map_err(|e| codec_error(&addr, api, e))?;
        request
            .encode(&mut frame, version)
            .map_err(|e| codec_error(&addr, api, e))?;
        let size = i32::try_from(frame.len() - 4).map_err(|_| WireError::Codec {
            addr: self.addr.clone(),
            api,
            message: "request too large".to_owned(),
        })?;
        frame[..4].copy_from_slice(&size.to_be_bytes());

        let io = |source| WireError::Io {
            addr: self.addr.clone(),
            source,
        };
        self.stream.write_all(&frame).await.map_err(io)?;
        let size = self.stream.read_i32().await.map_err(io)?;
        let size = usize::try_from(size)
            .ok()
            .filter(|s| *s <= MAX_RESPONSE_BYTES)
            .ok_or_else(|| WireError::Codec {
                addr: self.addr.clone(),
                api,
                message: format!("response size {size} out of range"),
            })?;
        let mut body = vec![0; size];
        self.stream.read_exact(&mut body).await.map_err(io)?;
        let mut body = Bytes::from(body);
        let response_header = ResponseHeader::decode(
            &mut body,
            <R::Response as HeaderVersion>::header_version(version),
        )
        .map_err(|e| codec_error(&addr, api, e))?;
        if response_header.correlation_id != self.correlation {
            return Err(WireError::Codec {
                addr: self.addr.clone(),
                api,
                message: format!(
                    "correlation id {} answered, {} expected",
                    response_header.correlation_id, self.correlation
                ),
            });
        }
        let response =
            R::Response::decode(&mut body, version).map_err(|e| codec_error(&addr, api, e))?;
        if body.has_remaining() {
            tracing::trace!(addr = %self.addr, api, left = body.remaining(), "response has trailing bytes");
        }
        Ok(response)
    }
}

fn codec_error(addr: &str, api: &'static str, e: impl std::fmt::Display) -> WireError {
    WireError::Codec {
        addr: addr.to_owned(),
        api,
        message: e.to_string(),
    }
}

pub(super) fn api_name(key: i16) -> &'static str {
    match key {
        18 => "ApiVersions",
        10 => "FindCoordinator",
        9 => "OffsetFetch",
        _ => "request",
    }
}
