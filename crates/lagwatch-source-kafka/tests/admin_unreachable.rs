//! The Admin API module when nothing listens at the bootstrap address: every request fails
//! within its timeout with a retriable transport error naming the request (no service needed;
//! the tests against the harness broker are in `admin_api`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use lagwatch_source_kafka::admin::{AdminConnection, OffsetSpec};
use lagwatch_test_support::services::kafka::KafkaTarget as _;

/// Runs a blocking admin call on the blocking pool, as the source does.
async fn blocking<C: rdkafka::ClientContext + 'static, T: Send + 'static>(
    conn: &Arc<AdminConnection<C>>,
    f: impl FnOnce(&AdminConnection<C>) -> T + Send + 'static,
) -> T {
    let conn = Arc::clone(conn);
    tokio::task::spawn_blocking(move || f(&conn)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_fails_within_the_timeout() {
    // A port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bootstrap = format!("127.0.0.1:{port}");
    let conn = Arc::new(AdminConnection::new(&bootstrap.client_config()).unwrap());
    let timeout = Duration::from_secs(3);
    let started = Instant::now();
    let error = blocking(&conn, move |c| c.list_groups(timeout))
        .await
        .unwrap_err();
    let took = started.elapsed();
    eprintln!("nothing listening, after {took:?}: {error}");
    assert!(took < timeout + Duration::from_secs(3), "took {took:?}");
    assert!(
        error.to_string().starts_with("ListConsumerGroups: "),
        "{error}"
    );
    assert!(error.is_retriable(), "{error}");
    assert!(error.is_transport_failure(), "{error}");
    assert!(error.to_string().contains("timed out after 3s"), "{error}");
    assert!(!error.is_auth_failure(), "{error}");

    let started = Instant::now();
    let error = blocking(&conn, move |c| {
        c.list_offsets(&[("t".to_owned(), 0)], OffsetSpec::Latest, timeout)
    })
    .await
    .unwrap_err();
    assert!(started.elapsed() < timeout + Duration::from_secs(3));
    assert!(error.to_string().starts_with("ListOffsets: "), "{error}");

    let error = blocking(&conn, move |c| c.committed_offsets("g", timeout))
        .await
        .unwrap_err();
    assert!(
        error.to_string().starts_with("ListConsumerGroupOffsets: "),
        "{error}"
    );
}
