//! SASL authentication of a new connection: `SaslHandshake` v1, then `SaslAuthenticate`
//! requests carrying the mechanism's messages, PLAIN (RFC 4616) or SCRAM-SHA-256 /
//! SCRAM-SHA-512 (RFC 5802, RFC 7677) the way Kafka speaks them.
//!
//! The SCRAM exchange itself is [`Scram`], a pure state machine without I/O; the password
//! only ever leaves the process inside a PLAIN message or as a SCRAM proof.

use super::connection::Connection;
use super::error::WireError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use kafka_protocol::messages::{SaslAuthenticateRequest, SaslHandshakeRequest};
use kafka_protocol::protocol::StrBytes;
use lagwatch_config::kafka::SaslMechanism;
use lagwatch_core::secret::Secret;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use std::time::Duration;

/// Kafka's lower bound for SCRAM iterations: a server asking for fewer is refused.
pub(crate) const MIN_ITERATIONS: u32 = 4096;
/// An upper bound against a server that would keep the client hashing for minutes (Kafka
/// itself stores at most 16384).
pub(crate) const MAX_ITERATIONS: u32 = 1_000_000;

/// Who the wire path authenticates as, and how.
#[derive(Clone)]
pub(crate) struct SaslSettings {
    pub(crate) mechanism: SaslMechanism,
    pub(crate) username: String,
    pub(crate) password: Secret,
}

impl std::fmt::Debug for SaslSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaslSettings")
            .field("mechanism", &self.mechanism.as_librdkafka())
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

/// Authenticates the freshly opened `conn` (its `ApiVersions` answered). Returns the number
/// of requests sent.
///
/// # Errors
/// [`WireError::Authentication`] naming the broker and the mechanism when the broker refuses
/// the mechanism or the credentials (with the broker's own message, which never holds the
/// password), or when its SCRAM answers do not check out; the connection's errors otherwise.
pub(super) async fn authenticate(
    conn: &mut Connection,
    sasl: &SaslSettings,
    timeout: Duration,
) -> Result<u64, WireError> {
    let mechanism = sasl.mechanism.as_librdkafka();
    let failed = |addr: &str, message: String| WireError::Authentication {
        addr: addr.to_owned(),
        mechanism,
        message,
    };
    // v1: the mechanism's messages travel in SaslAuthenticate requests (Kafka 1.0+).
    let version = conn.version::<SaslHandshakeRequest>(1, 1)?;
    let handshake =
        SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(mechanism));
    let response = conn.call(&handshake, version, timeout).await?;
    if response.error_code != 0 {
        let offered: Vec<&str> = response.mechanisms.iter().map(|m| m.as_str()).collect();
        return Err(failed(
            &conn.addr,
            format!(
                "the listener does not enable it (Kafka error code {}; enabled: {})",
                response.error_code,
                offered.join(", ")
            ),
        ));
    }
    let version = conn.version::<SaslAuthenticateRequest>(0, 2)?;
    let mut sent = 1;
    match sasl.mechanism {
        SaslMechanism::Plain => {
            let message = plain_message(&sasl.username, sasl.password.expose());
            exchange(conn, version, timeout, mechanism, message).await?;
            sent += 1;
        }
        SaslMechanism::ScramSha256 | SaslMechanism::ScramSha512 => {
            let hash = if sasl.mechanism == SaslMechanism::ScramSha256 {
                ScramHash::Sha256
            } else {
                ScramHash::Sha512
            };
            let mut scram = Scram::new(hash, &sasl.username, &client_nonce()?);
            let first = scram.client_first().into_bytes();
            let server_first = exchange(conn, version, timeout, mechanism, first).await?;
            let client_final = scram
                .client_final(sasl.password.expose(), &server_first)
                .map_err(|m| failed(&conn.addr, m))?;
            let last = client_final.into_bytes();
            let server_final = exchange(conn, version, timeout, mechanism, last).await?;
            sent += 2;
            scram
                .verify_server_final(&server_final)
                .map_err(|m| failed(&conn.addr, m))?;
        }
    }
    Ok(sent)
}

/// One `SaslAuthenticate` round: sends `message`, returns the server's answer.
async fn exchange(
    conn: &mut Connection,
    version: i16,
    timeout: Duration,
    mechanism: &'static str,
    message: Vec<u8>,
) -> Result<Bytes, WireError> {
    let request = SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(message));
    let response = conn.call(&request, version, timeout).await?;
    if response.error_code != 0 {
        let message = response
            .error_message
            .as_ref()
            .map(|m| m.to_string())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| format!("Kafka error code {}", response.error_code));
        return Err(WireError::Authentication {
            addr: conn.addr.clone(),
            mechanism,
            message,
        });
    }
    Ok(response.auth_bytes)
}

/// PLAIN's one message: no authorisation identity, the user name, the password.
fn plain_message(username: &str, password: &str) -> Vec<u8> {
    let mut message = Vec::with_capacity(username.len() + password.len() + 2);
    message.push(0);
    message.extend_from_slice(username.as_bytes());
    message.push(0);
    message.extend_from_slice(password.as_bytes());
    message
}

/// A fresh client nonce: 24 random bytes, base64 (printable, never a comma).
fn client_nonce() -> Result<String, WireError> {
    let mut bytes = [0u8; 24];
    openssl::rand::rand_bytes(&mut bytes).map_err(|e| WireError::Codec {
        addr: String::new(),
        api: "SaslAuthenticate",
        message: format!("no random bytes for a SCRAM nonce: {e}"),
    })?;
    Ok(BASE64.encode(bytes))
}

/// The hash function of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScramHash {
    /// SCRAM-SHA-256.
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

impl ScramHash {
    fn digest(self) -> MessageDigest {
        match self {
            ScramHash::Sha256 => MessageDigest::sha256(),
            ScramHash::Sha512 => MessageDigest::sha512(),
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
        let key = PKey::hmac(key).map_err(|e| e.to_string())?;
        let mut signer = Signer::new(self.digest(), &key).map_err(|e| e.to_string())?;
        signer.update(data).map_err(|e| e.to_string())?;
        signer.sign_to_vec().map_err(|e| e.to_string())
    }

    fn hash(self, data: &[u8]) -> Result<Vec<u8>, String> {
        openssl::hash::hash(self.digest(), data)
            .map(|d| d.to_vec())
            .map_err(|e| e.to_string())
    }

    fn salted_password(
        self,
        password: &str,
        salt: &[u8],
        iterations: u32,
    ) -> Result<Vec<u8>, String> {
        let mut out = vec![0; self.digest().size()];
        let iterations = usize::try_from(iterations).map_err(|e| e.to_string())?;
        openssl::pkcs5::pbkdf2_hmac(
            password.as_bytes(),
            salt,
            iterations,
            self.digest(),
            &mut out,
        )
        .map_err(|e| e.to_string())?;
        Ok(out)
    }
}

/// One SCRAM exchange from the client's side, without I/O: [`client_first`](Scram::client_first),
/// then [`client_final`](Scram::client_final) for the server's first message, then
/// [`verify_server_final`](Scram::verify_server_final).
#[derive(Debug)]
pub(crate) struct Scram {
    hash: ScramHash,
    nonce: String,
    client_first_bare: String,
    /// The signature the server must prove, once the client's final message is built.
    server_signature: Option<Vec<u8>>,
}

impl Scram {
    /// An exchange for `username` with the client nonce `nonce` (printable, no comma).
    pub(crate) fn new(hash: ScramHash, username: &str, nonce: &str) -> Scram {
        Scram {
            hash,
            nonce: nonce.to_owned(),
            client_first_bare: format!("n={},r={nonce}", sasl_name(username)),
            server_signature: None,
        }
    }

    /// The client's first message: no channel binding, no authorisation identity.
    pub(crate) fn client_first(&self) -> String {
        format!("n,,{}", self.client_first_bare)
    }

    /// The client's final message (with its proof) for the server's first message.
    ///
    /// # Errors
    /// A server first message that is malformed, names a mandatory extension, does not
    /// extend the client nonce, or asks for fewer than [`MIN_ITERATIONS`] (or more than
    /// [`MAX_ITERATIONS`]).
    pub(crate) fn client_final(
        &mut self,
        password: &str,
        server_first: &[u8],
    ) -> Result<String, String> {
        let server_first = std::str::from_utf8(server_first)
            .map_err(|_| "the server's first SCRAM message is not UTF-8".to_owned())?;
        let (mut nonce, mut salt, mut iterations) = (None, None, None);
        for attribute in server_first.split(',') {
            match attribute.split_once('=') {
                Some(("m", _)) => {
                    return Err(
                        "the server requires a SCRAM extension this client does not know"
                            .to_owned(),
                    );
                }
                Some(("r", value)) => nonce = Some(value),
                Some(("s", value)) => salt = Some(value),
                Some(("i", value)) => iterations = Some(value),
                _ => {}
            }
        }
        let malformed =
            |what: &str| format!("the server's first SCRAM message has no valid {what}");
        let nonce = nonce.ok_or_else(|| malformed("nonce"))?;
        if !nonce.starts_with(&self.nonce) || nonce.len() <= self.nonce.len() {
            return Err("the server's SCRAM nonce does not extend the client's".to_owned());
        }
        let salt = salt
            .and_then(|s| BASE64.decode(s).ok())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| malformed("salt"))?;
        let iterations: u32 = iterations
            .and_then(|i| i.parse().ok())
            .ok_or_else(|| malformed("iteration count"))?;
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
            return Err(format!(
                "the server asks for {iterations} SCRAM iterations, outside {MIN_ITERATIONS}..={MAX_ITERATIONS}"
            ));
        }

        let salted = self.hash.salted_password(password, &salt, iterations)?;
        let client_key = self.hash.hmac(&salted, b"Client Key")?;
        let stored_key = self.hash.hash(&client_key)?;
        // "biws" is base64("n,,"): the GS2 header of the first message, without binding.
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.client_first_bare);
        let client_signature = self.hash.hmac(&stored_key, auth_message.as_bytes())?;
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&client_signature)
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = self.hash.hmac(&salted, b"Server Key")?;
        self.server_signature = Some(self.hash.hmac(&server_key, auth_message.as_bytes())?);
        Ok(format!("{without_proof},p={}", BASE64.encode(proof)))
    }

    /// Checks the server's final message: it must prove the server knows the credentials.
    ///
    /// # Errors
    /// A server error (`e=`), a malformed message, a signature that does not match, or a
    /// call before [`client_final`](Scram::client_final).
    pub(crate) fn verify_server_final(&self, server_final: &[u8]) -> Result<(), String> {
        let expected = self
            .server_signature
            .as_ref()
            .ok_or_else(|| "the SCRAM exchange is out of order".to_owned())?;
        let server_final = std::str::from_utf8(server_final)
            .map_err(|_| "the server's final SCRAM message is not UTF-8".to_owned())?;
        let first = server_final.split(',').next().unwrap_or_default();
        if let Some(error) = first.strip_prefix("e=") {
            return Err(format!("the server refused: {error}"));
        }
        let signature = first
            .strip_prefix("v=")
            .and_then(|v| BASE64.decode(v).ok())
            .ok_or_else(|| "the server's final SCRAM message has no valid signature".to_owned())?;
        if signature.len() != expected.len() || !openssl::memcmp::eq(&signature, expected) {
            return Err(
                "the server's SCRAM signature does not match: it does not know the credentials"
                    .to_owned(),
            );
        }
        Ok(())
    }
}

/// `username` as a SCRAM `saslname`: `=` and `,` escaped as `=3D` and `=2C`.
fn sasl_name(username: &str) -> String {
    username.replace('=', "=3D").replace(',', "=2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
    const SERVER_FIRST: &str =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

    #[test]
    fn rfc_7677_scram_sha_256_vector() {
        let mut scram = Scram::new(ScramHash::Sha256, "user", NONCE);
        assert_eq!(scram.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let client_final = scram
            .client_final("pencil", SERVER_FIRST.as_bytes())
            .unwrap();
        assert_eq!(
            client_final,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        // RFC 7677, section 3 (an independent HMAC computation gives the same).
        scram
            .verify_server_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
    }

    #[test]
    fn a_wrong_server_signature_or_a_server_error_is_refused() {
        let mut scram = Scram::new(ScramHash::Sha256, "user", NONCE);
        assert!(
            scram.verify_server_final(b"v=AAAA").is_err(),
            "before client_final"
        );
        scram
            .client_final("pencil", SERVER_FIRST.as_bytes())
            .unwrap();
        let err = scram
            .verify_server_final(b"v=7rriTRBi23WpRCw4epuoNbkLjd3Hc0rxlDt4hsE0f8A=")
            .unwrap_err();
        assert!(err.contains("does not match"), "{err}");
        let err = scram.verify_server_final(b"e=invalid-proof").unwrap_err();
        assert!(err.contains("invalid-proof"), "{err}");
        assert!(scram.verify_server_final(b"garbage").is_err());
    }

    #[test]
    fn the_server_nonce_must_extend_the_clients() {
        let mut scram = Scram::new(ScramHash::Sha256, "user", NONCE);
        let err = scram
            .client_final(
                "pencil",
                b"r=somethingElse123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            )
            .unwrap_err();
        assert!(err.contains("nonce"), "{err}");
        let err = scram
            .client_final(
                "pencil",
                b"r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            )
            .unwrap_err();
        assert!(err.contains("nonce"), "{err}");
    }

    #[test]
    fn too_few_iterations_and_malformed_messages_are_refused() {
        let mut scram = Scram::new(ScramHash::Sha512, "user", NONCE);
        let nonce = format!("r={NONCE}xyz");
        for (message, needle) in [
            (format!("{nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095"), "4095"),
            (
                format!("{nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=2000000"),
                "2000000",
            ),
            (
                format!("{nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=many"),
                "iteration",
            ),
            (format!("{nonce},s=%%%,i=4096"), "salt"),
            (format!("{nonce},i=4096"), "salt"),
            ("s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096".to_owned(), "nonce"),
            (
                format!("m=ext,{nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
                "extension",
            ),
        ] {
            let err = scram
                .client_final("pencil", message.as_bytes())
                .unwrap_err();
            assert!(err.contains(needle), "{message}: {err}");
        }
        assert!(scram.client_final("pencil", &[0xff, 0xfe]).is_err());
    }

    #[test]
    fn sha_512_produces_a_64_byte_proof() {
        let mut scram = Scram::new(ScramHash::Sha512, "user", NONCE);
        let message = scram
            .client_final("pencil", SERVER_FIRST.as_bytes())
            .unwrap();
        let proof = message.rsplit_once(",p=").unwrap().1;
        assert_eq!(BASE64.decode(proof).unwrap().len(), 64);
    }

    #[test]
    fn user_names_are_escaped() {
        assert_eq!(sasl_name("a=b,c"), "a=3Db=2Cc");
        assert_eq!(sasl_name("=,"), "=3D=2C");
        let scram = Scram::new(ScramHash::Sha256, "x,y", "n");
        assert_eq!(scram.client_first(), "n,,n=x=2Cy,r=n");
    }

    #[test]
    fn plain_is_nul_separated() {
        assert_eq!(plain_message("u", "p"), b"\0u\0p");
    }

    #[test]
    fn nonces_are_fresh_and_have_no_comma() {
        let a = client_nonce().unwrap();
        let b = client_nonce().unwrap();
        assert_ne!(a, b);
        assert!(!a.contains(','));
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn the_password_never_shows_in_debug() {
        let settings = SaslSettings {
            mechanism: SaslMechanism::Plain,
            username: "u".into(),
            password: Secret::new("hunter2".to_owned()),
        };
        assert!(!format!("{settings:?}").contains("hunter2"));
    }
}
