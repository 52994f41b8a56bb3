//! Bounded polling: wait for a condition, give up with a clear error after a deadline.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::bail;

/// Calls `probe` every `interval` until it returns `Ok(Some(value))`, for at most `timeout`.
///
/// `Ok(None)` means "not yet"; an `Err` is remembered and retried too (the service may still
/// be catching up). After the deadline the error names `what` and the last error or
/// "still not ready" state seen.
pub async fn until<T, F, Fut>(
    what: &str,
    timeout: Duration,
    interval: Duration,
    mut probe: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let last = match probe().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => String::from("condition not met yet"),
            Err(err) => format!("{err:#}"),
        };
        if Instant::now() + interval > deadline {
            bail!("timed out after {timeout:?} waiting for {what}: {last}");
        }
        tokio::time::sleep(interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_the_first_ready_value() {
        let mut calls = 0;
        let value = until(
            "three calls",
            Duration::from_secs(5),
            Duration::from_millis(1),
            || {
                calls += 1;
                let n = calls;
                async move { Ok((n >= 3).then_some(n)) }
            },
        )
        .await
        .unwrap();
        assert_eq!(value, 3);
    }

    #[tokio::test]
    async fn gives_up_with_the_last_error() {
        let err = until::<(), _, _>(
            "never",
            Duration::from_millis(30),
            Duration::from_millis(5),
            || async { anyhow::bail!("broken") },
        )
        .await
        .unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("waiting for never: broken"), "{text}");
    }
}
