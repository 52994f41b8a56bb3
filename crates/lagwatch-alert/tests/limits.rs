//! The HTTP alerters against a receiver whose answer never ends: only the first
//! `MAX_ANSWER_BYTES` are read, then the connection is dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_alert::WebhookAlerter;
use lagwatch_component::Alerter;
use lagwatch_component::FromConfig;
use lagwatch_config::WebhookAlerterConfig;
use lagwatch_test_support::conformance::alerter::sample_notifications;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Answers every request `200 OK` with an endless chunked body, 64 KiB every 10 ms, until the
/// client hangs up; counts the body bytes the client let through.
async fn endless_receiver(sent: Arc<AtomicUsize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let sent = Arc::clone(&sent);
            tokio::spawn(async move {
                let mut head = [0u8; 8192];
                let _ = socket.read(&mut head).await;
                let start = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n";
                if socket.write_all(start.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
                while socket.write_all(chunk.as_bytes()).await.is_ok() {
                    sent.fetch_add(64 * 1024, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            });
        }
    });
    format!("http://{address}/hook")
}

#[tokio::test]
async fn an_endless_answer_is_not_read_past_the_limit() {
    let sent = Arc::new(AtomicUsize::new(0));
    let url = endless_receiver(Arc::clone(&sent)).await;
    let mut cfg = WebhookAlerterConfig::new(url);
    cfg.timeout = Duration::from_secs(20);
    cfg.max_retries = 0;
    let alerter = WebhookAlerter::from_config("hook", &cfg).unwrap();
    let [firing, _] = sample_notifications(1_700_000_000_000);
    let delivery = alerter.deliver(&firing).await.unwrap();
    assert_eq!(delivery.attempts, 1);
    // The client hung up after its 64 KiB; what the server managed to write beyond that sat
    // in socket buffers (a few MiB at most). Reading on would have taken ~6 MiB a second
    // until the 20 s timeout.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let total = sent.load(Ordering::SeqCst);
    assert!(total < 16 * 1024 * 1024, "{total} bytes were read");
}
