//! Burrow's HTTP API (`/v3/kafka/...`), the reference lagwatch is compared with.
//!
//! Burrow refreshes broker offsets every few seconds and evaluates groups from the commits it
//! stored, so read it with a bounded wait ([`wait_for_total_lag`]).
//!
//! **Pitfall:** Burrow drops an offset commit for a topic it does not know yet (its topic list
//! refreshes every `topic-refresh` seconds) and never reads that commit again. After
//! creating a topic, call [`wait_for_topic_offsets`] before committing offsets for it, in
//! Kafka or in ZooKeeper.

use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use serde_json::Value;

use super::env::BurrowEndpoint;
use super::{es, wait};

async fn get(endpoint: &BurrowEndpoint, path: &str) -> anyhow::Result<Option<Value>> {
    let url = format!(
        "{}/{}",
        endpoint.url.trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    let response = es::client()?
        .get(&url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .with_context(|| format!("reading {url}"))?;
    if status == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !status.is_success() {
        bail!("GET {url} answered {status}: {text}");
    }
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("{url} did not answer JSON: {text}"))?;
    if value["error"].as_bool() == Some(true) {
        bail!("GET {url}: {}", value["message"]);
    }
    Ok(Some(value))
}

/// The groups Burrow knows in its cluster.
pub async fn consumers(endpoint: &BurrowEndpoint) -> anyhow::Result<Vec<String>> {
    let answer = get(endpoint, &format!("v3/kafka/{}/consumer", endpoint.cluster))
        .await?
        .ok_or_else(|| anyhow!("Burrow does not know cluster {}", endpoint.cluster))?;
    Ok(answer["consumers"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// The end offsets Burrow knows for `topic`, by partition; `None` while it does not know the
/// topic.
pub async fn topic_offsets(
    endpoint: &BurrowEndpoint,
    topic: &str,
) -> anyhow::Result<Option<Vec<i64>>> {
    Ok(get(
        endpoint,
        &format!("v3/kafka/{}/topic/{topic}", endpoint.cluster),
    )
    .await?
    .and_then(|answer| {
        answer["offsets"]
            .as_array()
            .map(|list| list.iter().filter_map(Value::as_i64).collect())
    }))
}

/// Polls until Burrow knows `topic` with exactly the end offsets `expected` (by partition).
pub async fn wait_for_topic_offsets(
    endpoint: &BurrowEndpoint,
    topic: &str,
    expected: &[i64],
    timeout: Duration,
) -> anyhow::Result<()> {
    wait::until(
        &format!("Burrow to know topic {topic} with end offsets {expected:?}"),
        timeout,
        Duration::from_millis(500),
        || async move {
            match topic_offsets(endpoint, topic).await? {
                Some(offsets) if offsets == expected => Ok(Some(())),
                Some(offsets) => Err(anyhow!("Burrow has offsets {offsets:?}")),
                None => Err(anyhow!("Burrow does not know the topic yet")),
            }
        },
    )
    .await
}

/// The `status` object of `/v3/kafka/<cluster>/consumer/<group>/lag`; `None` while Burrow
/// does not know the group.
pub async fn consumer_lag(endpoint: &BurrowEndpoint, group: &str) -> anyhow::Result<Option<Value>> {
    Ok(get(
        endpoint,
        &format!("v3/kafka/{}/consumer/{group}/lag", endpoint.cluster),
    )
    .await?
    .map(|answer| answer["status"].clone()))
}

/// `totallag` of `group`, if Burrow knows the group.
pub async fn total_lag(endpoint: &BurrowEndpoint, group: &str) -> anyhow::Result<Option<i64>> {
    Ok(consumer_lag(endpoint, group)
        .await?
        .and_then(|status| status["totallag"].as_i64()))
}

/// Polls until Burrow reports `totallag == expected` for `group`; returns the last status.
pub async fn wait_for_total_lag(
    endpoint: &BurrowEndpoint,
    group: &str,
    expected: i64,
    timeout: Duration,
) -> anyhow::Result<Value> {
    wait::until(
        &format!("Burrow to report totallag {expected} for group {group}"),
        timeout,
        Duration::from_millis(500),
        || async move {
            match consumer_lag(endpoint, group).await? {
                None => Err(anyhow!("Burrow does not know the group yet")),
                Some(status) if status["totallag"].as_i64() == Some(expected) => Ok(Some(status)),
                Some(status) => Err(anyhow!(
                    "totallag is {}; status {status}",
                    status["totallag"]
                )),
            }
        },
    )
    .await
}
