//! HTTPS: the certificate and key files, checked when the server binds.

use crate::error::HttpError;
use crate::settings::TlsFiles;
use axum_server::tls_openssl::OpenSSLConfig;

/// Reads and checks the certificate and key.
pub(crate) async fn load(files: &TlsFiles) -> Result<OpenSSLConfig, HttpError> {
    for path in [&files.cert, &files.key] {
        if let Err(e) = tokio::fs::metadata(path).await {
            return Err(HttpError::Tls {
                path: path.clone(),
                reason: e.to_string(),
            });
        }
    }
    OpenSSLConfig::from_pem_file(&files.cert, &files.key).map_err(|e| HttpError::Tls {
        path: files.cert.clone(),
        reason: e.to_string(),
    })
}
