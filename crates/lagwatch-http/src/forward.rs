//! Questions about a group or a topic that another instance owns (several instances sharing
//! a cluster, see `PipelineHandle::owner`) are forwarded to that instance, so that any
//! instance answers for every group.
//!
//! Only reads (`GET`, `HEAD`) are forwarded, and only once: a forwarded request carries
//! [`FORWARDED_BY`], and an instance that receives one answers from its own model whatever
//! it holds (a 404 that names the owning partition if the partition moved meanwhile). The
//! owner's answer is passed through as it is (status, content type, body), with
//! [`ANSWERED_BY`] naming the instance that answered. When the owner is not known (no
//! instance announced the partition yet) the route answers itself; when the owner does not
//! answer, the reply is a 502 that names it.
//!
//! Burrow's lists of a cluster's groups and topics (what Telegraf's `inputs.burrow` walks)
//! gather every instance's share the same way (`with_other_shares`): the local list, plus
//! the lists of the instances that own the other partitions now, asked once each with
//! [`FORWARDED_BY`]. An instance that does not answer is named in the envelope's `message`
//! and in `incomplete`, and its share is missing from that answer. The JSON API's group list
//! (`/api/v1/groups`, the dashboard's) does the same with whole group summaries, sorted again
//! worst first, and a topic's consumers (Burrow's `topic/<topic>/consumers` and the
//! `consumers` of the JSON API's topic, which the topic's owner completes with the other
//! instances' groups).

use crate::state::AppState;
use axum::extract::{RawPathParams, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lagwatch_runtime::Owner;
use std::time::Duration;

/// Header on a forwarded request: the address of the instance that forwarded it.
pub const FORWARDED_BY: &str = "x-lagwatch-forwarded-by";

/// Header on a request for an instance's own share of a list (sent with [`FORWARDED_BY`] by
/// an instance gathering the shares): the instance answers from its own groups only and asks
/// nobody else, even on a route that gathers shares for a request forwarded to it as the
/// owner (a topic's consumers in the JSON API).
pub const SHARE_ONLY: &str = "x-lagwatch-share-only";

/// Header on a forwarded answer: the address of the instance that answered.
pub const ANSWERED_BY: &str = "x-lagwatch-answered-by";

/// How long the owner may take to answer a forwarded request.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);

/// How long connecting to another instance may take (one that died keeps its announcement
/// until another takes its partitions over).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The largest answer read from another instance, or from this one's own list.
const BODY_LIMIT: usize = 256 * 1024 * 1024;

/// The client forwarded requests go through.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(FORWARD_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// Middleware on the routes about one group or topic (path parameters `cluster` and
/// `group` or `topic`): sends the request to the owner when another instance owns the name.
pub(crate) async fn to_owner(
    State(state): State<AppState>,
    params: RawPathParams,
    request: Request,
    next: Next,
) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD)
        || request.headers().contains_key(FORWARDED_BY)
    {
        return next.run(request).await;
    }
    let mut cluster = None;
    let mut name = None;
    for (key, value) in &params {
        match key {
            "cluster" => cluster = Some(value.to_owned()),
            "group" | "topic" if name.is_none() => name = Some(value.to_owned()),
            _ => {}
        }
    }
    let (Some(cluster), Some(name)) = (cluster, name) else {
        return next.run(request).await;
    };
    let Owner::Elsewhere {
        address: Some(owner),
        ..
    } = state.handle.owner(&cluster, &name).await
    else {
        return next.run(request).await;
    };
    forward(&state, &owner, request.method(), request.uri(), request.headers(), false)
        .await
        .unwrap_or_else(|reason| {
            tracing::warn!(%cluster, %name, %owner, %reason, "the instance that owns this group or topic did not answer a forwarded request");
            let body = serde_json::json!({
                "error": true,
                "message": format!(
                    "{name:?} of cluster {cluster:?} is owned by the lagwatch instance at \
                     {owner}, which did not answer: {reason}"
                ),
                "owner": owner,
            });
            (StatusCode::BAD_GATEWAY, axum::Json(body)).into_response()
        })
}

/// Middleware on Burrow's lists of one cluster: adds the other instances' entries of the
/// array `field` (`consumers`, `topics`) to this instance's answer when the cluster is
/// shared, sorted and without duplicates.
pub(crate) async fn with_other_shares(
    State((state, field)): State<(AppState, &'static str)>,
    params: RawPathParams,
    request: Request,
    next: Next,
) -> Response {
    if *request.method() != Method::GET || request.headers().contains_key(FORWARDED_BY) {
        return next.run(request).await;
    }
    let Some(cluster) = params
        .iter()
        .find(|(key, _)| *key == "cluster")
        .map(|(_, value)| value.to_owned())
    else {
        return next.run(request).await;
    };
    let others = match state.handle.other_instances(&cluster).await {
        Some(others) if !others.is_empty() => others,
        _ => return next.run(request).await,
    };
    let (method, uri, headers) = (
        request.method().clone(),
        request.uri().clone(),
        request.headers().clone(),
    );
    let local = next.run(request).await;
    if !local.status().is_success() {
        return local;
    }
    let (parts, body) = local.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "could not read the list").into_response();
    };
    let Ok(mut answer) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    let mut entries: std::collections::BTreeSet<String> = names(&answer[field]);
    let (theirs, missing) = ask_others(&state, others, &method, &uri, &headers).await;
    for their in &theirs {
        entries.extend(names(&their[field]));
    }
    answer[field] = serde_json::json!(entries);
    if !missing.is_empty() {
        answer["message"] = serde_json::json!(format!(
            "{} returned without the share of {} instance(s) that did not answer",
            field,
            missing.len()
        ));
        answer["incomplete"] = serde_json::json!(missing);
    }
    let mut response = (parts.status, axum::Json(answer)).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_LENGTH {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}

/// Asks each of `others` the same request, marked with [`FORWARDED_BY`] and [`SHARE_ONLY`] so
/// that each answers with its own share only. Returns the JSON answers, and for each instance
/// that gave none an object `{"instance", "error"}` (also logged as a warning).
pub(crate) async fn ask_others(
    state: &AppState,
    others: Vec<String>,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let mut asks = tokio::task::JoinSet::new();
    for other in others {
        let (state, method, uri, headers) =
            (state.clone(), method.clone(), uri.clone(), headers.clone());
        asks.spawn(async move {
            let answer = async {
                let response = forward(&state, &other, &method, &uri, &headers, true).await?;
                if !response.status().is_success() {
                    return Err(format!("answered {}", response.status()));
                }
                let bytes = axum::body::to_bytes(response.into_body(), BODY_LIMIT)
                    .await
                    .map_err(|e| e.to_string())?;
                serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|e| e.to_string())
            };
            let answer = answer.await;
            (other, answer)
        });
    }
    let (mut answers, mut missing) = (Vec::new(), Vec::new());
    while let Some(done) = asks.join_next().await {
        match done {
            Ok((_, Ok(theirs))) => answers.push(theirs),
            Ok((other, Err(reason))) => {
                tracing::warn!(path = %uri.path(), instance = %other, %reason, "an instance sharing a cluster did not give its share of a list");
                missing.push(serde_json::json!({"instance": other, "error": reason}));
            }
            Err(e) => missing.push(serde_json::json!({"error": e.to_string()})),
        }
    }
    (answers, missing)
}

/// The strings of a JSON array (nothing for anything else).
fn names(list: &serde_json::Value) -> std::collections::BTreeSet<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Sends the request to `owner` and returns its answer; `share_only` adds [`SHARE_ONLY`].
async fn forward(
    state: &AppState,
    owner: &str,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    share_only: bool,
) -> Result<Response, String> {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{}{path}", owner.trim_end_matches('/'));
    let method = reqwest::Method::from_bytes(method.as_str().as_bytes())
        .map_err(|e| format!("method: {e}"))?;
    let mut outgoing = state.peer_client.request(method, &url);
    for name in [header::AUTHORIZATION, header::ACCEPT] {
        if let Some(value) = headers.get(&name) {
            outgoing = outgoing.header(name.as_str(), value.as_bytes());
        }
    }
    let me = state
        .handle
        .advertised()
        .unwrap_or_else(|| "unknown".to_owned());
    outgoing = outgoing.header(FORWARDED_BY, me);
    if share_only {
        outgoing = outgoing.header(SHARE_ONLY, "true");
    }
    let answer = outgoing.send().await.map_err(|e| e.to_string())?;
    let status =
        StatusCode::from_u16(answer.status().as_u16()).map_err(|e| format!("status: {e}"))?;
    let content_type = answer
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok());
    let body = answer.bytes().await.map_err(|e| e.to_string())?;
    let mut response = (status, body).into_response();
    let out = response.headers_mut();
    if let Some(content_type) = content_type {
        out.insert(header::CONTENT_TYPE, content_type);
    }
    if let Ok(owner) = HeaderValue::from_str(owner) {
        out.insert(ANSWERED_BY, owner);
    }
    Ok(response)
}
