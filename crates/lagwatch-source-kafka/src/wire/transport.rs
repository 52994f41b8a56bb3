//! The byte stream under a [`Connection`](super::connection::Connection): plain TCP, or TLS
//! over TCP with the source's CA, client certificate and host-name setting.

use super::error::WireError;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// How TLS connections are made: a connector built once per cluster from the source's
/// settings (files are read when the settings are built, not on every connection).
#[derive(Clone)]
pub(crate) struct TlsSettings {
    connector: tokio_native_tls::TlsConnector,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings").finish_non_exhaustive()
    }
}

impl TlsSettings {
    /// A connector trusting the PEM certificates in `ca` (empty: the system's roots),
    /// presenting `cert` with its private key `key` when both are set (`key_password` for an
    /// encrypted key), and checking the broker's host name unless `verify_hostname` is false.
    ///
    /// # Errors
    /// A reason naming the setting that could not be used (never a secret's value).
    pub(crate) fn new(
        ca: &Path,
        cert: &Path,
        key: &Path,
        key_password: &str,
        verify_hostname: bool,
    ) -> Result<TlsSettings, String> {
        let mut builder = native_tls::TlsConnector::builder();
        if !ca.as_os_str().is_empty() {
            let pem = read("tls_ca", ca)?;
            let certs = native_tls::Certificate::stack_from_pem(&pem)
                .map_err(|e| format!("tls_ca {}: not PEM certificates: {e}", ca.display()))?;
            if certs.is_empty() {
                return Err(format!("tls_ca {}: no certificate in it", ca.display()));
            }
            for cert in certs {
                builder.add_root_certificate(cert);
            }
            // Like librdkafka's `ssl.ca.location`: only the configured authority is trusted.
            builder.disable_built_in_roots(true);
        }
        match (cert.as_os_str().is_empty(), key.as_os_str().is_empty()) {
            (true, true) => {}
            (false, false) => {
                let cert_pem = read("tls_cert", cert)?;
                let key_pem = pkcs8_key(key, &read("tls_key", key)?, key_password)?;
                let identity = native_tls::Identity::from_pkcs8(&cert_pem, &key_pem)
                    .map_err(|e| format!("tls_cert and tls_key cannot be used together: {e}"))?;
                builder.identity(identity);
            }
            _ => return Err("tls_cert and tls_key are only used together".to_owned()),
        }
        builder.danger_accept_invalid_hostnames(!verify_hostname);
        let connector = builder
            .build()
            .map_err(|e| format!("the TLS settings cannot be used: {e}"))?;
        Ok(TlsSettings {
            connector: connector.into(),
        })
    }
}

fn read(key: &str, path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{key} {}: {e}", path.display()))
}

/// The private key in `pem` (PKCS#8 or a traditional key, encrypted with `password` when that
/// is not empty) as an unencrypted PKCS#8 PEM, the form native-tls takes.
fn pkcs8_key(path: &Path, pem: &[u8], password: &str) -> Result<Vec<u8>, String> {
    let key = if password.is_empty() {
        openssl::pkey::PKey::private_key_from_pem(pem)
    } else {
        openssl::pkey::PKey::private_key_from_pem_passphrase(pem, password.as_bytes())
    };
    // OpenSSL's message names no password; it is kept out on purpose anyway.
    let key = key.map_err(|_| {
        format!(
            "tls_key {}: not a PEM private key, or tls_key_password does not open it",
            path.display()
        )
    })?;
    key.private_key_to_pem_pkcs8()
        .map_err(|e| format!("tls_key {}: {e}", path.display()))
}

/// The host part of `host:port` (brackets of an IPv6 address removed), the name a broker's
/// certificate is checked against and sent as SNI.
pub(crate) fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// A connection's byte stream.
pub(crate) enum Transport {
    /// PLAINTEXT and SASL_PLAINTEXT listeners.
    Plain(TcpStream),
    /// SSL and SASL_SSL listeners.
    Tls(Box<tokio_native_tls::TlsStream<TcpStream>>),
}

impl Transport {
    /// Connects to `addr` and, with `tls`, completes the TLS handshake, all within `timeout`.
    pub(crate) async fn connect(
        addr: &str,
        tls: Option<&TlsSettings>,
        timeout: Duration,
    ) -> Result<Transport, WireError> {
        let timed_out = |api| WireError::Timeout {
            addr: addr.to_owned(),
            api,
            timeout,
        };
        let io = |source| WireError::Io {
            addr: addr.to_owned(),
            source,
        };
        let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| timed_out("connect"))?
            .map_err(io)?;
        stream.set_nodelay(true).map_err(io)?;
        let Some(tls) = tls else {
            return Ok(Transport::Plain(stream));
        };
        let stream = tokio::time::timeout(timeout, tls.connector.connect(host_of(addr), stream))
            .await
            .map_err(|_| timed_out("TLS handshake"))?
            .map_err(|e| WireError::Tls {
                addr: addr.to_owned(),
                message: e.to_string(),
            })?;
        Ok(Transport::Tls(Box::new(stream)))
    }
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_flush(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_is_the_part_before_the_port() {
        assert_eq!(host_of("broker-1.example:9093"), "broker-1.example");
        assert_eq!(host_of("127.0.0.1:9093"), "127.0.0.1");
        assert_eq!(host_of("[::1]:9093"), "::1");
        assert_eq!(host_of("no-port"), "no-port");
    }

    #[test]
    fn unreadable_files_name_the_setting() {
        let missing = Path::new("does-not-exist/ca.pem");
        let err = TlsSettings::new(missing, Path::new(""), Path::new(""), "", true).unwrap_err();
        assert!(err.starts_with("tls_ca "), "{err}");
        let err = TlsSettings::new(Path::new(""), missing, Path::new(""), "", true).unwrap_err();
        assert!(err.contains("together"), "{err}");
    }

    #[test]
    fn default_settings_build_a_connector() {
        let empty = Path::new("");
        assert!(TlsSettings::new(empty, empty, empty, "", false).is_ok());
    }
}
