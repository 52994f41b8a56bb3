//! Sending one HTTP request with retries, Retry-After, per-destination rate limiting and
//! redacted URLs.

use lagwatch_component::{ComponentError, Delivery};
use lagwatch_core::secret::{Secret, redact_url};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::Mutex;

/// Longest wait a `Retry-After` answer can impose; longer ones are cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Answer bodies are quoted in errors up to this many characters.
const BODY_QUOTE: usize = 200;

/// Most bytes of a webhook's or Slack's answer read (64 KiB): the answer is only classified
/// and quoted, so the rest is not read (the status decides whether the notification went
/// through).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Reads at most [`MAX_ANSWER_BYTES`] of an answer as text; a longer answer is cut there
/// (and the connection dropped). What cannot be read counts as not there.
async fn answer_text(mut response: reqwest::Response) -> String {
    let mut body = lagwatch_core::text::CappedBody::new(MAX_ANSWER_BYTES);
    while let Ok(Some(chunk)) = response.chunk().await {
        if !body.push_within_limit(&chunk) {
            break;
        }
    }
    String::from_utf8_lossy(&body.into_bytes()).into_owned()
}

/// Exponential backoff between attempts: `initial`, doubling, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Wait before the first retry.
    pub initial: Duration,
    /// Longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The wait before retry number `retry` (1-based).
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(20));
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// How an answer is classified.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Delivered,
    /// Retry after this long (`None`: the backoff's delay).
    Retry(Option<Duration>, String),
    Permanent(String),
}

/// One HTTP destination.
#[derive(Debug)]
pub(crate) struct HttpTarget {
    pub(crate) component: String,
    client: reqwest::Client,
    url: Secret,
    shown_url: String,
    method: Method,
    headers: HeaderMap,
    max_retries: u32,
    min_interval: Duration,
    pub(crate) backoff: Backoff,
    /// When the last exchange (request and response) ended; held while sending, so requests
    /// to one destination are serialised.
    last_send: Mutex<Option<Instant>>,
}

/// Builds the HTTP client every alerter uses.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("lagwatch/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {}", e.without_url()))
}

/// Builds the header map, checking names and values; values are never quoted in errors.
pub(crate) fn headers(pairs: &[(String, Secret)]) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("headers: {name:?} is not a valid header name"))?;
        let mut value = HeaderValue::from_str(value.expose())
            .map_err(|_| format!("headers.{name}: the value is not a valid header value"))?;
        value.set_sensitive(true);
        map.insert(name, value);
    }
    Ok(map)
}

/// Parses a method name.
pub(crate) fn method(name: &str) -> Result<Method, String> {
    Method::from_bytes(name.as_bytes())
        .map_err(|_| format!("method: {name:?} is not an HTTP method"))
}

impl HttpTarget {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        component: String,
        client: reqwest::Client,
        url: Secret,
        method: Method,
        headers: HeaderMap,
        max_retries: u32,
        min_interval: Duration,
    ) -> Result<HttpTarget, String> {
        let shown_url = redact_url(url.expose());
        let parsed = reqwest::Url::parse(url.expose())
            .map_err(|e| format!("url: not a valid URL ({e}): {shown_url}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("url: scheme must be http or https: {shown_url}"));
        }
        if parsed.scheme() == "https" && !cfg!(feature = "tls") {
            return Err(format!(
                "url: https needs lagwatch-alert built with the `tls` cargo feature: {shown_url}"
            ));
        }
        Ok(HttpTarget {
            component,
            client,
            url,
            shown_url,
            method,
            headers,
            max_retries,
            min_interval,
            backoff: Backoff::default(),
            last_send: Mutex::new(None),
        })
    }

    /// The URL as it may be logged.
    pub(crate) fn shown_url(&self) -> &str {
        &self.shown_url
    }

    /// Sends `body` until it is accepted, a permanent error comes back or the retries are
    /// used up. `classify` may refine the status-based decision (Slack's bodies). Every
    /// attempt carries the notification's key in an `Idempotency-Key` header, so a receiver
    /// can drop a notification it already accepted (a retry, or a replay after a restart).
    pub(crate) async fn send(
        &self,
        body: Vec<u8>,
        content_type: &str,
        incident: &str,
        idempotency_key: &str,
    ) -> Result<Delivery, ComponentError> {
        let mut last = self.last_send.lock().await;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if let Some(prev) = *last {
                // Checked: an absurd min_interval waits for it, never overflows the clock.
                let now = Instant::now();
                match prev.checked_add(self.min_interval) {
                    Some(ready) if ready > now => tokio::time::sleep(ready - now).await,
                    Some(_) => {}
                    None => tokio::time::sleep(self.min_interval).await,
                }
            }
            let mut request = self
                .client
                .request(self.method.clone(), self.url.expose().as_str())
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body.clone());
            if !idempotency_key.is_empty() {
                request = request.header("Idempotency-Key", idempotency_key);
            }
            for (name, value) in &self.headers {
                // The content type was set above (from these headers when they name one).
                if name != reqwest::header::CONTENT_TYPE {
                    request = request.header(name, value);
                }
            }
            let outcome = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let retry_after = response
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(parse_retry_after);
                    let text = answer_text(response).await;
                    classify(status, retry_after, &text)
                }
                Err(e) => {
                    let e = e.without_url();
                    let kind = if e.is_timeout() {
                        "timed out"
                    } else if e.is_connect() {
                        "connection failed"
                    } else {
                        "request failed"
                    };
                    Outcome::Retry(None, format!("{kind}: {}", chain(&e)))
                }
            };
            // Spacing counts from the end of this exchange, so the destination never sees two
            // requests closer than `min_interval`, however long the connection took to open.
            *last = Some(Instant::now());
            match outcome {
                Outcome::Delivered => {
                    tracing::debug!(alerter = %self.component, url = %self.shown_url,
                        incident, attempts = attempt, "notification delivered");
                    return Ok(Delivery { attempts: attempt });
                }
                Outcome::Permanent(reason) => {
                    tracing::error!(alerter = %self.component, url = %self.shown_url,
                        incident, attempts = attempt, %reason,
                        "notification refused; not retrying");
                    return Err(ComponentError::permanent(
                        self.component.clone(),
                        format!("{} refused the notification: {reason}", self.shown_url),
                    ));
                }
                Outcome::Retry(wait, reason) => {
                    if attempt > self.max_retries {
                        tracing::error!(alerter = %self.component, url = %self.shown_url,
                            incident, attempts = attempt, %reason,
                            "notification not delivered; retries used up");
                        return Err(ComponentError::transient(
                            self.component.clone(),
                            format!(
                                "{} did not accept the notification after {attempt} attempts: \
                                 {reason}",
                                self.shown_url
                            ),
                        ));
                    }
                    let wait = wait.unwrap_or_else(|| self.backoff.delay(attempt));
                    tracing::warn!(alerter = %self.component, url = %self.shown_url,
                        incident, attempt, %reason, wait_ms = wait.as_millis() as u64,
                        "notification not delivered yet; retrying");
                    tokio::time::sleep(wait).await;
                    // The wait already spaced the requests.
                    *last = None;
                }
            }
        }
    }
}

/// Decides what an answer means. 2xx delivered; 429 retried after `Retry-After`; 5xx and
/// 408 retried with backoff; anything else is permanent (Slack's 400 `invalid_payload` /
/// `no_text`, 403 `invalid_token`, 404 `no_service` / `channel_not_found`, 410
/// `channel_is_archived`).
fn classify(status: StatusCode, retry_after: Option<Duration>, body: &str) -> Outcome {
    let quoted: String = body.trim().chars().take(BODY_QUOTE).collect();
    let reason = if quoted.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {quoted}")
    };
    if status.is_success() {
        Outcome::Delivered
    } else if status == StatusCode::TOO_MANY_REQUESTS {
        Outcome::Retry(retry_after.map(|d| d.min(MAX_RETRY_AFTER)), reason)
    } else if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        Outcome::Retry(retry_after.map(|d| d.min(MAX_RETRY_AFTER)), reason)
    } else {
        Outcome::Permanent(reason)
    }
}

/// An error and its causes on one line (`a: b: c`). The request's URL was removed from the
/// error before, so nothing here shows it.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// `Retry-After` as seconds or as an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let b = Backoff::default();
        let delays: Vec<u128> = (1..=8).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    }

    #[test]
    fn answers_are_classified() {
        assert_eq!(classify(StatusCode::OK, None, "ok"), Outcome::Delivered);
        assert_eq!(
            classify(
                StatusCode::TOO_MANY_REQUESTS,
                Some(Duration::from_secs(2)),
                ""
            ),
            Outcome::Retry(
                Some(Duration::from_secs(2)),
                "HTTP 429 Too Many Requests".into()
            )
        );
        assert_eq!(
            classify(StatusCode::INTERNAL_SERVER_ERROR, None, "rollup_error"),
            Outcome::Retry(None, "HTTP 500 Internal Server Error: rollup_error".into())
        );
        assert_eq!(
            classify(StatusCode::NOT_FOUND, None, "no_service"),
            Outcome::Permanent("HTTP 404 Not Found: no_service".into())
        );
        assert_eq!(
            classify(StatusCode::BAD_REQUEST, None, "invalid_payload"),
            Outcome::Permanent("HTTP 400 Bad Request: invalid_payload".into())
        );
        assert_eq!(
            classify(StatusCode::GONE, None, "channel_is_archived"),
            Outcome::Permanent("HTTP 410 Gone: channel_is_archived".into())
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
