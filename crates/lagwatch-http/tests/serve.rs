//! The server on a real socket: plain HTTP, HTTPS with a certificate from files, bind errors,
//! and a graceful stop.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use lagwatch_http::{HttpError, HttpServer, HttpSettings, TlsFiles};
use lagwatch_runtime::PipelineHandle;
use lagwatch_test_support::sample;
use tokio_util::sync::CancellationToken;

fn settings() -> HttpSettings {
    HttpSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..HttpSettings::default()
    }
}

#[tokio::test]
async fn serves_on_a_free_port_and_stops_when_asked() {
    let server = HttpServer::new(settings(), PipelineHandle::detached(sample::snapshot()))
        .bind()
        .await
        .unwrap();
    let url = server.url();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let stop = CancellationToken::new();
    let task = tokio::spawn(server.serve(stop.clone()));
    let body: serde_json::Value = reqwest::get(format!("{url}/v3/kafka"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["clusters"], serde_json::json!(["backup", "live"]));
    stop.cancel();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), task).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "{ended:?}");
}

#[tokio::test]
async fn a_taken_address_is_a_bind_error_naming_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let result = HttpServer::new(
        HttpSettings {
            listen: addr,
            ..HttpSettings::default()
        },
        PipelineHandle::detached(sample::snapshot()),
    )
    .bind()
    .await;
    let Err(e) = result else {
        panic!("bound a taken address");
    };
    assert!(matches!(e, HttpError::Bind { .. }));
    assert!(
        e.to_string()
            .contains(&format!("cannot listen on {addr} (http.listen)")),
        "{e}"
    );
}

/// A self-signed certificate for 127.0.0.1, written as PEM files.
fn self_signed(dir: &std::path::Path) -> (TlsFiles, Vec<u8>) {
    use openssl::asn1::Asn1Time;
    use openssl::bn::{BigNum, MsbOption};
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;
    use openssl::x509::extension::SubjectAlternativeName;
    use openssl::x509::{X509, X509NameBuilder};

    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "127.0.0.1").unwrap();
    let name = name.build();
    let mut cert = X509::builder().unwrap();
    cert.set_version(2).unwrap();
    let mut serial = BigNum::new().unwrap();
    serial.rand(64, MsbOption::MAYBE_ZERO, false).unwrap();
    cert.set_serial_number(&serial.to_asn1_integer().unwrap())
        .unwrap();
    cert.set_subject_name(&name).unwrap();
    cert.set_issuer_name(&name).unwrap();
    cert.set_pubkey(&key).unwrap();
    cert.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    cert.set_not_after(&Asn1Time::days_from_now(2).unwrap())
        .unwrap();
    let san = SubjectAlternativeName::new()
        .ip("127.0.0.1")
        .build(&cert.x509v3_context(None, None))
        .unwrap();
    cert.append_extension(san).unwrap();
    cert.sign(&key, MessageDigest::sha256()).unwrap();
    let cert_pem = cert.build().to_pem().unwrap();
    let files = TlsFiles {
        cert: dir.join("tls.crt"),
        key: dir.join("tls.key"),
    };
    std::fs::write(&files.cert, &cert_pem).unwrap();
    std::fs::write(&files.key, key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    (files, cert_pem)
}

#[tokio::test]
async fn https_with_certificate_files() {
    let dir = tempfile::tempdir().unwrap();
    let (files, cert_pem) = self_signed(dir.path());
    let server = HttpServer::new(
        HttpSettings {
            tls: Some(files),
            ..settings()
        },
        PipelineHandle::detached(sample::snapshot()),
    )
    .bind()
    .await
    .unwrap();
    let url = server.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let stop = CancellationToken::new();
    let task = tokio::spawn(server.serve(stop.clone()));
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&cert_pem).unwrap())
        .build()
        .unwrap();
    let answer = client
        .get(format!("{url}/burrow/admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(answer.text().await.unwrap(), "GOOD");
    // Plain HTTP to the HTTPS port gets no answer in the clear.
    let plain = reqwest::get(format!("{}/burrow/admin", url.replacen("https", "http", 1))).await;
    assert!(!plain.is_ok_and(|r| r.status().is_success()));
    stop.cancel();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), task).await;
}

#[tokio::test]
async fn a_missing_certificate_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let result = HttpServer::new(
        HttpSettings {
            tls: Some(TlsFiles {
                cert: dir.path().join("missing.crt"),
                key: dir.path().join("missing.key"),
            }),
            ..settings()
        },
        PipelineHandle::detached(sample::snapshot()),
    )
    .bind()
    .await;
    let Err(e) = result else {
        panic!("bound without a certificate");
    };
    assert!(e.to_string().contains("missing.crt"), "{e}");
}
