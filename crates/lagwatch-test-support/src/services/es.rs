//! Small Elasticsearch / OpenSearch helpers over plain HTTP (both speak the same API for
//! what lagwatch needs). `url` is the base URL from [`env::elasticsearch`](super::env::elasticsearch)
//! or [`env::opensearch`](super::env::opensearch).

use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::wait;

/// Upper bound of one request.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A client with connect and request timeouts.
pub fn client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(HTTP_TIMEOUT)
        .build()
        .context("cannot build an HTTP client")
}

/// Sends `method url/path` with an optional JSON body; returns status and parsed JSON body
/// (`Value::Null` for an empty body).
pub async fn request(
    method: Method,
    url: &str,
    path: &str,
    body: Option<&Value>,
) -> anyhow::Result<(StatusCode, Value)> {
    let full = format!(
        "{}/{}",
        url.trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    let mut builder = client()?.request(method.clone(), &full);
    if let Some(body) = body {
        builder = builder.json(body);
    }
    let response = builder
        .send()
        .await
        .with_context(|| format!("{method} {full}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .with_context(|| format!("reading the answer to {method} {full}"))?;
    let value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Ok((status, value))
}

async fn expect_success(
    method: Method,
    url: &str,
    path: &str,
    body: Option<&Value>,
) -> anyhow::Result<Value> {
    let (status, value) = request(method.clone(), url, path, body).await?;
    if !status.is_success() {
        bail!("{method} {path} answered {status}: {value}");
    }
    Ok(value)
}

/// Indexes `doc` into `index` (with `id` if given) and returns the document id.
pub async fn index_doc(
    url: &str,
    index: &str,
    id: Option<&str>,
    doc: &Value,
) -> anyhow::Result<String> {
    let answer = match id {
        Some(id) => {
            expect_success(Method::PUT, url, &format!("{index}/_doc/{id}"), Some(doc)).await?
        }
        None => expect_success(Method::POST, url, &format!("{index}/_doc"), Some(doc)).await?,
    };
    answer["_id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no _id in the answer: {answer}"))
}

/// Makes everything indexed so far searchable.
pub async fn refresh(url: &str, index: &str) -> anyhow::Result<()> {
    expect_success(Method::POST, url, &format!("{index}/_refresh"), None)
        .await
        .map(drop)
}

/// Runs `_search` with the given request body (e.g. `{"query": {"term": {"group": "g1"}}}`)
/// and returns the whole answer.
pub async fn search(url: &str, index: &str, query: &Value) -> anyhow::Result<Value> {
    expect_success(Method::POST, url, &format!("{index}/_search"), Some(query)).await
}

/// The `_source` of every hit of `_search` with `query`.
pub async fn search_sources(url: &str, index: &str, query: &Value) -> anyhow::Result<Vec<Value>> {
    let answer = search(url, index, query).await?;
    let hits = answer["hits"]["hits"]
        .as_array()
        .ok_or_else(|| anyhow!("no hits in the answer: {answer}"))?;
    Ok(hits.iter().map(|hit| hit["_source"].clone()).collect())
}

/// Number of documents in `index` (patterns like `lag-*` work); a missing index counts 0.
pub async fn count(url: &str, index: &str) -> anyhow::Result<u64> {
    let (status, answer) = request(Method::GET, url, &format!("{index}/_count"), None).await?;
    if status == StatusCode::NOT_FOUND {
        return Ok(0);
    }
    if !status.is_success() {
        bail!("GET {index}/_count answered {status}: {answer}");
    }
    answer["count"]
        .as_u64()
        .ok_or_else(|| anyhow!("no count in the answer: {answer}"))
}

/// Refreshes and counts until `index` holds at least `n` documents; returns the count.
pub async fn wait_for_count(
    url: &str,
    index: &str,
    n: u64,
    timeout: Duration,
) -> anyhow::Result<u64> {
    wait::until(
        &format!("{n} document(s) in {index}"),
        timeout,
        Duration::from_millis(250),
        || async move {
            // Refreshing an index that does not exist yet fails; counting then says 0.
            let _ = refresh(url, index).await;
            let found = count(url, index).await?;
            if found >= n {
                Ok(Some(found))
            } else {
                Err(anyhow!("{found} so far"))
            }
        },
    )
    .await
}

/// Deletes `index` (a missing index is not an error).
pub async fn delete_index(url: &str, index: &str) -> anyhow::Result<()> {
    let (status, answer) = request(Method::DELETE, url, index, None).await?;
    if status.is_success() || status == StatusCode::NOT_FOUND {
        Ok(())
    } else {
        bail!("DELETE {index} answered {status}: {answer}")
    }
}

/// Waits for the cluster health to be at least yellow; returns the health document.
pub async fn wait_for_yellow(url: &str, timeout: Duration) -> anyhow::Result<Value> {
    let seconds = timeout.as_secs().max(1);
    expect_success(
        Method::GET,
        url,
        &format!("_cluster/health?wait_for_status=yellow&timeout={seconds}s"),
        None,
    )
    .await
}

/// A `_search` body for documents whose `field` equals `value` exactly (a `term` query; use
/// a keyword field, or `<field>.keyword` with dynamic mappings).
pub fn term_query(field: &str, value: &Value) -> Value {
    json!({ "query": { "term": { field: value } } })
}
