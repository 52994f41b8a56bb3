//! [`WireSettings`]: how the wire path reaches one cluster, and whether it can at all.

use super::sasl::SaslSettings;
use super::transport::TlsSettings;
use lagwatch_config::KafkaSourceConfig;
use std::time::Duration;

/// How the wire path connects to one cluster: bootstrap servers, request timeout, TLS
/// (`ssl`, `sasl_ssl`) and SASL (`sasl_plaintext`, `sasl_ssl`; PLAIN, SCRAM-SHA-256,
/// SCRAM-SHA-512), built from the same settings as the source's librdkafka clients.
///
/// Holds the SASL password and the client key; its `Debug` output shows neither.
#[derive(Clone)]
pub struct WireSettings {
    pub(crate) servers: Vec<String>,
    pub(crate) timeout: Duration,
    pub(crate) tls: Option<TlsSettings>,
    pub(crate) sasl: Option<SaslSettings>,
}

impl std::fmt::Debug for WireSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireSettings")
            .field("servers", &self.servers)
            .field("timeout", &self.timeout)
            .field("tls", &self.tls.is_some())
            .field("sasl", &self.sasl)
            .finish()
    }
}

impl WireSettings {
    /// PLAINTEXT connections to the comma-separated `servers`, each request within `timeout`.
    ///
    /// ```
    /// use lagwatch_source_kafka::wire::WireSettings;
    /// use std::time::Duration;
    /// let settings = WireSettings::plaintext(" a:9092, b:9092 ,", Duration::from_secs(5));
    /// assert_eq!(settings.servers(), ["a:9092", "b:9092"]);
    /// ```
    pub fn plaintext(servers: &str, timeout: Duration) -> WireSettings {
        WireSettings {
            servers: servers
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            timeout,
            tls: None,
            sasl: None,
        }
    }

    /// The settings for a source's cluster: its servers, `request_timeout`, and the TLS and
    /// SASL settings its `security_protocol` uses (`tls_ca`, `tls_cert`, `tls_key` with
    /// `tls_key_password`, `tls_verify_hostname`; `sasl_mechanism`, `sasl_username`,
    /// `sasl_password`). The TLS files are read here.
    ///
    /// # Errors
    /// Why the wire path cannot follow the settings, so that the source keeps librdkafka's
    /// path for this cluster: a `librdkafka` pass-through key that changes how connections are
    /// secured (`security.protocol`, `sasl.*`, `ssl.*` and other keys naming SSL or SASL), or
    /// TLS files that cannot be read or used. The reason names keys and files, never a value.
    pub fn from_config(config: &KafkaSourceConfig) -> Result<WireSettings, String> {
        if let Some(key) = config.librdkafka.keys().find(|k| changes_security(k)) {
            return Err(format!(
                "the librdkafka setting `{key}` changes how connections are secured, which the batched path does not follow"
            ));
        }
        let mut settings = WireSettings::plaintext(&config.servers, config.request_timeout);
        let protocol = config.security_protocol;
        if protocol.uses_tls() {
            settings.tls = Some(TlsSettings::new(
                &config.tls_ca,
                &config.tls_cert,
                &config.tls_key,
                config.tls_key_password.expose(),
                config.tls_verify_hostname,
            )?);
        }
        if protocol.uses_sasl() {
            settings.sasl = Some(SaslSettings {
                mechanism: config.sasl_mechanism,
                username: config.sasl_username.clone(),
                password: config.sasl_password.clone(),
            });
        }
        Ok(settings)
    }

    /// The bootstrap servers.
    pub fn servers(&self) -> &[String] {
        &self.servers
    }

    /// The time limit of one request (and of connecting).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// Whether a librdkafka property changes how connections are secured or authenticated.
fn changes_security(key: &str) -> bool {
    let key = key.trim().to_ascii_lowercase();
    key == "security.protocol" || key.contains("ssl") || key.contains("sasl")
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagwatch_config::kafka::{SaslMechanism, SecurityProtocol};
    use lagwatch_core::secret::Secret;
    use std::path::{Path, PathBuf};

    fn config(protocol: SecurityProtocol) -> KafkaSourceConfig {
        let mut c = KafkaSourceConfig::new("c", "127.0.0.1:9093, 127.0.0.2:9093");
        c.security_protocol = protocol;
        c
    }

    #[test]
    fn plaintext_needs_neither_tls_nor_sasl() {
        let s = WireSettings::from_config(&config(SecurityProtocol::Plaintext)).unwrap();
        assert_eq!(s.servers(), ["127.0.0.1:9093", "127.0.0.2:9093"]);
        assert!(s.tls.is_none() && s.sasl.is_none());
    }

    #[test]
    fn every_protocol_and_mechanism_is_spoken() {
        for (protocol, tls, sasl) in [
            (SecurityProtocol::Ssl, true, false),
            (SecurityProtocol::SaslPlaintext, false, true),
            (SecurityProtocol::SaslSsl, true, true),
        ] {
            for mechanism in [
                SaslMechanism::Plain,
                SaslMechanism::ScramSha256,
                SaslMechanism::ScramSha512,
            ] {
                let mut c = config(protocol);
                c.sasl_mechanism = mechanism;
                c.sasl_username = "u".into();
                c.sasl_password = Secret::new("hunter2".to_owned());
                let s = WireSettings::from_config(&c).unwrap();
                assert_eq!(s.tls.is_some(), tls, "{protocol:?}");
                assert_eq!(s.sasl.is_some(), sasl, "{protocol:?}");
                assert!(!format!("{s:?}").contains("hunter2"));
            }
        }
    }

    #[test]
    fn security_pass_through_keys_keep_librdkafkas_path() {
        for key in [
            "ssl.cipher.suites",
            "sasl.kerberos.service.name",
            "enable.ssl.certificate.verification",
            "ssl_key",
            "enable.sasl.oauthbearer.unsecure.jwt",
        ] {
            let mut c = config(SecurityProtocol::SaslSsl);
            c.librdkafka
                .insert(key.to_owned(), Secret::new("secret-value".to_owned()));
            let reason = WireSettings::from_config(&c).unwrap_err();
            assert!(reason.contains(key), "{reason}");
            assert!(!reason.contains("secret-value"), "{reason}");
        }
        let mut c = config(SecurityProtocol::Plaintext);
        c.librdkafka
            .insert("statistics.interval.ms".into(), Secret::new("1000".into()));
        assert!(WireSettings::from_config(&c).is_ok());
    }

    #[test]
    fn tls_settings_that_cannot_be_used_keep_librdkafkas_path() {
        let mut c = config(SecurityProtocol::Ssl);
        c.tls_ca = PathBuf::from("does-not-exist/ca.pem");
        let reason = WireSettings::from_config(&c).unwrap_err();
        assert!(reason.contains("tls_ca"), "{reason}");
        let mut c = config(SecurityProtocol::Ssl);
        c.tls_key = PathBuf::from("does-not-exist/key.pem");
        assert!(WireSettings::from_config(&c).is_err());
        // Not used without TLS, like librdkafka.
        let mut c = config(SecurityProtocol::SaslPlaintext);
        c.tls_ca = PathBuf::from("does-not-exist/ca.pem");
        assert!(WireSettings::from_config(&c).is_ok());
    }

    /// A self-signed certificate and its key (encrypted with `password` when not empty),
    /// written to a fresh directory.
    fn client_identity(dir: &Path, password: &str) -> (PathBuf, PathBuf) {
        use openssl::asn1::Asn1Time;
        use openssl::hash::MessageDigest;
        use openssl::pkey::PKey;
        use openssl::rsa::Rsa;
        use openssl::symm::Cipher;
        use openssl::x509::{X509Builder, X509NameBuilder};

        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "lagwatch-test-client")
            .unwrap();
        let name = name.build();
        let mut cert = X509Builder::new().unwrap();
        cert.set_version(2).unwrap();
        cert.set_subject_name(&name).unwrap();
        cert.set_issuer_name(&name).unwrap();
        cert.set_pubkey(&key).unwrap();
        cert.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        cert.set_not_after(&Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        cert.sign(&key, MessageDigest::sha256()).unwrap();
        let cert = cert.build();
        std::fs::create_dir_all(dir).unwrap();
        let (cert_path, key_path) = (dir.join("client.pem"), dir.join("client.key"));
        std::fs::write(&cert_path, cert.to_pem().unwrap()).unwrap();
        let key_pem = if password.is_empty() {
            key.private_key_to_pem_pkcs8().unwrap()
        } else {
            key.private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), password.as_bytes())
                .unwrap()
        };
        std::fs::write(&key_path, key_pem).unwrap();
        (cert_path, key_path)
    }

    #[test]
    fn client_certificates_with_plain_or_encrypted_keys_are_used() {
        let dir = std::env::temp_dir().join(format!("lagwatch-wire-tls-{}", std::process::id()));
        for password in ["", "key-secret"] {
            let (cert, key) = client_identity(&dir.join(password.len().to_string()), password);
            let mut c = config(SecurityProtocol::Ssl);
            c.tls_cert = cert;
            c.tls_key = key;
            c.tls_key_password = Secret::new(password.to_owned());
            assert!(WireSettings::from_config(&c).unwrap().tls.is_some());
            if !password.is_empty() {
                c.tls_key_password = Secret::new("not-the-key-secret".to_owned());
                let reason = WireSettings::from_config(&c).unwrap_err();
                assert!(reason.contains("tls_key_password"), "{reason}");
                assert!(!reason.contains("not-the-key-secret"), "{reason}");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
