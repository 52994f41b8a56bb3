#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A misspelled `librdkafka` pass-through key whose value is a secret: the error names the
//! key and never the value, neither in its text, its Debug form nor the log. No services
//! needed: nothing is sent anywhere.

use lagwatch_component::FromConfig;
use lagwatch_component::OffsetSource;
use lagwatch_config::KafkaSourceConfig;
use lagwatch_core::secret::Secret;
use lagwatch_source_kafka::KafkaSource;
use std::io::Write;
use std::sync::{Arc, Mutex};

const SECRET: &str = "Sup3r-s3cret-token-7f2c";

/// Everything logged, at every level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_misspelled_passthrough_key_is_named_and_its_secret_value_shown_nowhere() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut config = KafkaSourceConfig::new("payments", "127.0.0.1:9");
    config.librdkafka.insert(
        "sasl.oauthbearer.client.secrt".into(),
        Secret::new(SECRET.into()),
    );
    // Wherever the bad key is caught, construction or first connection, its error is checked.
    let (text, debug) = match KafkaSource::from_config("payments", &config) {
        Err(e) => (e.to_string(), format!("{e:?}")),
        Ok(source) => {
            let e = source.healthcheck().await.unwrap_err();
            (e.to_string(), format!("{e:?}"))
        }
    };
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("librdkafka.sasl.oauthbearer.client.secrt"),
        "the error names the key: {text}"
    );
    assert!(text.contains("\"payments\""), "and the cluster: {text}");
    for (what, output) in [("error", &text), ("Debug", &debug), ("log", &logged)] {
        assert!(
            !output.contains(SECRET),
            "the secret is in the {what}: {output}"
        );
    }
}
