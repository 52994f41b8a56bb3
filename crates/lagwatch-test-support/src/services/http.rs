//! A local HTTP receiver for alerter tests (Slack-style webhooks, generic webhooks, ...).
//!
//! [`Receiver::start`] listens on `127.0.0.1:<free port>`, records every request (method,
//! path with query, headers, body, time of arrival) and answers from a scripted queue of
//! responses; when the queue is empty it answers the default response (`200`, body `ok`,
//! changeable with [`Receiver::set_default`]).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use std::time::Duration;
//! use lagwatch_test_support::services::http::{Receiver, Reply};
//!
//! let receiver = Receiver::start().await?;
//! receiver.push(Reply::status(429).header("Retry-After", "1"));
//! // ... point the alerter at receiver.url() ...
//! let requests = receiver.wait_for_requests(2, Duration::from_secs(10)).await?;
//! assert_eq!(requests[1].method, "POST");
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::wait;

/// Largest request body the receiver accepts.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Path and query, e.g. `/hooks/abc?x=1`.
    pub path: String,
    /// Headers in arrival order, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// Wall-clock time of arrival.
    pub received_at: SystemTime,
    /// Monotonic time of arrival, for measuring gaps between retries.
    pub received_instant: Instant,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as (lossy) UTF-8 text.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    pub fn body_json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_slice(&self.body)
            .with_context(|| format!("body is not JSON: {}", self.body_text()))
    }
}

/// A scripted answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Extra response headers, e.g. `Retry-After`.
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: String,
    /// How long to wait before answering (for client timeout tests).
    pub delay: Duration,
}

impl Default for Reply {
    fn default() -> Self {
        Reply::ok()
    }
}

impl Reply {
    /// `200` with body `ok`.
    pub fn ok() -> Reply {
        Reply::status(200).body("ok")
    }

    /// The given status with an empty body.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: String::new(),
            delay: Duration::ZERO,
        }
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: &str) -> Reply {
        self.body = body.to_owned();
        self
    }

    /// Answers only after `delay`.
    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

#[derive(Default)]
struct Inner {
    requests: Mutex<Vec<RecordedRequest>>,
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Reply>,
}

/// The running receiver; stops when dropped.
pub struct Receiver {
    url: String,
    inner: Arc<Inner>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

async fn answer(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    let received_at = SystemTime::now();
    let received_instant = Instant::now();
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map(|b| b.to_vec());
    let recorded = RecordedRequest {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.as_ref().map(Clone::clone).unwrap_or_default(),
        received_at,
        received_instant,
    };
    if let Ok(mut requests) = inner.requests.lock() {
        requests.push(recorded);
    }
    if body.is_err() {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
    }
    let reply = inner
        .script
        .lock()
        .ok()
        .and_then(|mut script| script.pop_front())
        .or_else(|| inner.default.lock().ok().map(|d| d.clone()))
        .unwrap_or_default();
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in &reply.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response
}

impl Receiver {
    /// Starts listening on `127.0.0.1` at a free port.
    pub async fn start() -> anyhow::Result<Receiver> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot bind 127.0.0.1:0")?;
        let address = listener.local_addr().context("no local address")?;
        let inner = Arc::new(Inner::default());
        let router = Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&inner));
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(err) = server.await {
                eprintln!("test HTTP receiver stopped with an error: {err}");
            }
        });
        Ok(Receiver {
            url: format!("http://{address}"),
            inner,
            shutdown: Some(shutdown),
            task,
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Queues `reply` as the answer to the next request not yet answered.
    pub fn push(&self, reply: Reply) {
        if let Ok(mut script) = self.inner.script.lock() {
            script.push_back(reply);
        }
    }

    /// Replaces the answer used once the queue is empty.
    pub fn set_default(&self, reply: Reply) {
        if let Ok(mut default) = self.inner.default.lock() {
            *default = reply;
        }
    }

    /// All requests so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Waits until at least `n` requests arrived; returns all of them.
    pub async fn wait_for_requests(
        &self,
        n: usize,
        timeout: Duration,
    ) -> anyhow::Result<Vec<RecordedRequest>> {
        let inner = Arc::clone(&self.inner);
        wait::until(
            &format!("{n} request(s) at {}", self.url),
            timeout,
            Duration::from_millis(20),
            || {
                let requests = inner.requests.lock().map(|r| r.clone()).unwrap_or_default();
                async move {
                    if requests.len() >= n {
                        Ok(Some(requests))
                    } else {
                        Err(anyhow::anyhow!("{} request(s) so far", requests.len()))
                    }
                }
            },
        )
        .await
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn send(url: &str, body: &str) -> (u16, Option<String>, String) {
        let response = reqwest::Client::new()
            .post(format!("{url}/hook?x=1"))
            .header("X-Test", "yes")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let retry = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, retry, response.text().await.unwrap())
    }

    #[tokio::test]
    async fn records_requests_and_follows_the_script() {
        let receiver = Receiver::start().await.unwrap();
        receiver.push(
            Reply::status(429)
                .header("Retry-After", "2")
                .body("slow down"),
        );
        let first = send(receiver.url(), r#"{"text":"one"}"#).await;
        assert_eq!(first, (429, Some("2".to_owned()), "slow down".to_owned()));
        let second = send(receiver.url(), "two").await;
        assert_eq!(second, (200, None, "ok".to_owned()));
        receiver.set_default(Reply::status(500));
        assert_eq!(send(receiver.url(), "three").await.0, 500);

        let requests = receiver
            .wait_for_requests(3, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(requests.len(), 3);
        assert_eq!(requests[0].method, "POST");
        assert_eq!(requests[0].path, "/hook?x=1");
        assert_eq!(requests[0].header("x-test"), Some("yes"));
        assert_eq!(requests[0].body_json().unwrap()["text"], "one");
        assert_eq!(requests[1].body_text(), "two");
        assert!(requests[0].received_instant <= requests[1].received_instant);
    }

    #[tokio::test]
    async fn waiting_for_too_many_requests_times_out() {
        let receiver = Receiver::start().await.unwrap();
        let err = receiver
            .wait_for_requests(1, Duration::from_millis(100))
            .await
            .unwrap_err();
        assert!(
            format!("{err:#}").contains("0 request(s) so far"),
            "{err:#}"
        );
    }
}
