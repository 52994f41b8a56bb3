//! Burrow's HTTP API v3: the same paths, envelopes, field names, status codes and quirks, so
//! Telegraf's `inputs.burrow`, BurrowUI and scripts can point at lagwatch instead.
//!
//! Differences, all on purpose: lists are sorted (Burrow's order is random); answers come
//! from the newest evaluation rather than an evaluation at request time; deleting a group
//! and setting the log level need the admin token (Burrow has no authentication at all).

use crate::auth::Admin;
use crate::reply::{answer, error_with, fallback, json_response, request_info};
use crate::state::AppState;
use axum::Extension;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use lagwatch_core::{GroupReport, GroupStatus, Snapshot};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Routes under `/v3` plus Burrow's health checks; those about one group or topic go to
/// the instance that owns it ([`crate::forward`]).
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let owned = Router::new()
        .route("/v3/kafka/{cluster}/topic/{topic}", get(topic_detail))
        .route(
            "/v3/kafka/{cluster}/consumer/{group}",
            get(consumer_detail).delete(delete_group),
        )
        .route(
            "/v3/kafka/{cluster}/consumer/{group}/topic/{topic}",
            axum::routing::delete(delete_group_topic),
        )
        .route(
            "/v3/kafka/{cluster}/consumer/{group}/status",
            get(group_status),
        )
        .route("/v3/kafka/{cluster}/consumer/{group}/lag", get(group_lag))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::forward::to_owner,
        ));
    Router::new()
        .merge(owned)
        .route("/burrow/admin", get(health))
        .route("/burrow/admin/ready", get(ready))
        .route("/v3/kafka", get(clusters))
        .route("/v3/kafka/", get(clusters))
        .route("/v3/kafka/{cluster}", get(cluster_detail))
        .merge(
            Router::new()
                .route("/v3/kafka/{cluster}/topic", get(topics))
                .route_layer(axum::middleware::from_fn_with_state(
                    (state.clone(), "topics"),
                    crate::forward::with_other_shares,
                )),
        )
        .merge(
            // Every instance holds some of a topic's consumers: gathered, not forwarded.
            Router::new()
                .route(
                    "/v3/kafka/{cluster}/topic/{topic}/consumers",
                    get(topic_consumers),
                )
                .route_layer(axum::middleware::from_fn_with_state(
                    (state.clone(), "consumers"),
                    crate::forward::with_other_shares,
                )),
        )
        .merge(
            Router::new()
                .route("/v3/kafka/{cluster}/consumer", get(consumers))
                .route_layer(axum::middleware::from_fn_with_state(
                    (state.clone(), "consumers"),
                    crate::forward::with_other_shares,
                )),
        )
        .route("/v3/config", get(main_config))
        .route("/v3/config/{kind}", get(module_list))
        .route("/v3/config/{kind}/{name}", get(module_detail))
        .route("/v3/admin/loglevel", get(get_log_level).post(set_log_level))
}

fn not_found(state: &AppState, uri: &Uri, message: &str) -> Response {
    error_with(
        StatusCode::NOT_FOUND,
        message,
        uri.path(),
        &state.settings.host,
    )
}

async fn health() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "GOOD",
    )
        .into_response()
}

async fn ready(State(state): State<AppState>) -> Response {
    let (status, text) = if state.handle.stats().ready() {
        (StatusCode::OK, "READY")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "STARTING")
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

/// Clusters known from configuration or data, sorted.
pub(crate) fn cluster_names(state: &AppState, snapshot: &Snapshot) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = state.settings.burrow.clusters.keys().cloned().collect();
    names.extend(snapshot.groups().iter().map(|g| g.cluster.clone()));
    names.extend(snapshot.topics().iter().map(|t| t.cluster.clone()));
    names
}

fn known_cluster(state: &AppState, snapshot: &Snapshot, cluster: &str) -> bool {
    state.settings.burrow.clusters.contains_key(cluster)
        || snapshot.groups().iter().any(|g| g.cluster == cluster)
        || snapshot.topics().iter().any(|t| t.cluster == cluster)
}

/// The groups of one cluster (the snapshot is sorted by cluster, then group).
pub(crate) fn cluster_groups<'s>(snapshot: &'s Snapshot, cluster: &str) -> &'s [GroupReport] {
    let groups = snapshot.groups();
    let start = groups.partition_point(|g| g.cluster.as_str() < cluster);
    let end = groups.partition_point(|g| g.cluster.as_str() <= cluster);
    &groups[start..end]
}

/// One group's report, if the newest evaluation has it.
pub(crate) fn find_group<'s>(
    snapshot: &'s Snapshot,
    cluster: &str,
    group: &str,
) -> Option<&'s GroupReport> {
    let groups = cluster_groups(snapshot, cluster);
    groups
        .binary_search_by(|g| g.group.as_str().cmp(group))
        .ok()
        .map(|i| &groups[i])
}

async fn clusters(State(state): State<AppState>, uri: Uri) -> Response {
    let snapshot = state.handle.latest();
    let names: Vec<String> = cluster_names(&state, &snapshot).into_iter().collect();
    answer(
        &state,
        &uri,
        "cluster list returned",
        "clusters",
        json!(names),
    )
}

async fn cluster_detail(
    State(state): State<AppState>,
    uri: Uri,
    Path(cluster): Path<String>,
) -> Response {
    let Some(module) = state.settings.burrow.clusters.get(&cluster) else {
        return not_found(&state, &uri, "cluster module not found");
    };
    answer(
        &state,
        &uri,
        "cluster module detail returned",
        "module",
        cluster_module_json(module),
    )
}

fn cluster_module_json(module: &crate::settings::ClusterModule) -> Value {
    json!({
        "class-name": module.class_name,
        "servers": module.servers,
        "client-profile": client_profile_json(&module.client_profile),
        "topic-refresh": module.topic_refresh_s,
        "offset-refresh": module.offset_refresh_s,
    })
}

fn client_profile_json(name: &str) -> Value {
    json!({
        "name": name,
        "client-id": "lagwatch",
        "kafka-version": "",
        "tls": null,
        "sasl": null,
    })
}

async fn topics(State(state): State<AppState>, uri: Uri, Path(cluster): Path<String>) -> Response {
    let snapshot = state.handle.latest();
    if !known_cluster(&state, &snapshot, &cluster) {
        return not_found(&state, &uri, "cluster not found");
    }
    let names: Vec<&str> = snapshot
        .topics()
        .iter()
        .filter(|t| t.cluster == cluster)
        .map(|t| t.topic.as_str())
        .collect();
    answer(&state, &uri, "topic list returned", "topics", json!(names))
}

async fn topic_detail(
    State(state): State<AppState>,
    uri: Uri,
    Path((cluster, topic)): Path<(String, String)>,
) -> Response {
    let snapshot = state.handle.latest();
    let Some(t) = snapshot
        .topics()
        .iter()
        .find(|t| t.cluster == cluster && t.topic == topic)
    else {
        return not_found(&state, &uri, "cluster or topic not found");
    };
    // Like Burrow, partitions without a broker sample are skipped.
    let offsets: Vec<i64> = t.high_water.iter().flatten().copied().collect();
    answer(
        &state,
        &uri,
        "topic offsets returned",
        "offsets",
        json!(offsets),
    )
}

async fn topic_consumers(
    State(state): State<AppState>,
    uri: Uri,
    Path((cluster, topic)): Path<(String, String)>,
) -> Response {
    let snapshot = state.handle.latest();
    if !known_cluster(&state, &snapshot, &cluster) {
        return not_found(&state, &uri, "cluster not found");
    }
    let names: Vec<&str> = cluster_groups(&snapshot, &cluster)
        .iter()
        .filter(|g| g.partitions.iter().any(|p| p.topic == topic))
        .map(|g| g.group.as_str())
        .collect();
    answer(
        &state,
        &uri,
        "consumers of topic returned",
        "consumers",
        json!(names),
    )
}

async fn consumers(
    State(state): State<AppState>,
    uri: Uri,
    Path(cluster): Path<String>,
) -> Response {
    let snapshot = state.handle.latest();
    if !known_cluster(&state, &snapshot, &cluster) {
        return not_found(&state, &uri, "cluster not found");
    }
    let names: Vec<&str> = cluster_groups(&snapshot, &cluster)
        .iter()
        .map(|g| g.group.as_str())
        .collect();
    answer(
        &state,
        &uri,
        "consumer list returned",
        "consumers",
        json!(names),
    )
}

async fn consumer_detail(
    State(state): State<AppState>,
    uri: Uri,
    Path((cluster, group)): Path<(String, String)>,
) -> Response {
    match state.handle.group_detail(&cluster, &group).await {
        Ok(Some(detail)) => match serde_json::to_value(&detail) {
            Ok(topics) => answer(&state, &uri, "consumer detail returned", "topics", topics),
            Err(_) => error_with(
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not encode the consumer detail",
                uri.path(),
                &state.settings.host,
            ),
        },
        Ok(None) => match state.owned_elsewhere(&cluster, &group) {
            Some(elsewhere) => not_found(
                &state,
                &uri,
                &format!("consumer not found here: {elsewhere}"),
            ),
            None => not_found(&state, &uri, "cluster or consumer not found"),
        },
        Err(e) => error_with(
            StatusCode::SERVICE_UNAVAILABLE,
            &e.to_string(),
            uri.path(),
            &state.settings.host,
        ),
    }
}

fn status_response(state: &AppState, uri: &Uri, cluster: &str, group: &str, all: bool) -> Response {
    let snapshot = state.handle.latest();
    let report = match find_group(&snapshot, cluster, group) {
        Some(r) if all => r.clone(),
        Some(r) => r.only_problems(),
        None => GroupReport::not_found(cluster, group, snapshot.at_ms()),
    };
    let code = if report.status == GroupStatus::NotFound {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let value = serde_json::to_value(&report).unwrap_or(Value::Null);
    let elsewhere = (code == StatusCode::NOT_FOUND)
        .then(|| state.owned_elsewhere(cluster, group))
        .flatten();
    let body = json!({
        "error": false,
        "message": elsewhere.map_or_else(
            || "consumer status returned".to_owned(),
            |e| format!("consumer not found here: {e}"),
        ),
        "status": value,
        "request": request_info(uri.path(), &state.settings.host),
    });
    json_response(code, &body)
}

async fn group_status(
    State(state): State<AppState>,
    uri: Uri,
    Path((cluster, group)): Path<(String, String)>,
) -> Response {
    status_response(&state, &uri, &cluster, &group, false)
}

async fn group_lag(
    State(state): State<AppState>,
    uri: Uri,
    Path((cluster, group)): Path<(String, String)>,
) -> Response {
    status_response(&state, &uri, &cluster, &group, true)
}

/// Refuses a change unless the admin token was sent: 403 while none is configured, 401
/// when it was not sent or is wrong.
fn admin_refusal(state: &AppState, uri: &Uri, admin: Admin) -> Option<Response> {
    if state.settings.admin_token.is_none() {
        return Some(error_with(
            StatusCode::FORBIDDEN,
            "changes through the API are disabled: set http.admin_token",
            uri.path(),
            &state.settings.host,
        ));
    }
    (!admin.0).then(|| {
        error_with(
            StatusCode::UNAUTHORIZED,
            "this request needs the admin token",
            uri.path(),
            &state.settings.host,
        )
    })
}

async fn delete_group(
    State(state): State<AppState>,
    uri: Uri,
    Extension(admin): Extension<Admin>,
    Path((cluster, group)): Path<(String, String)>,
) -> Response {
    if let Some(refused) = admin_refusal(&state, &uri, admin) {
        return refused;
    }
    // Like Burrow: 200 whether or not the group existed.
    if let Err(e) = state.handle.delete_group(&cluster, &group).await {
        return error_with(
            StatusCode::SERVICE_UNAVAILABLE,
            &e.to_string(),
            uri.path(),
            &state.settings.host,
        );
    }
    removed(&state, &uri)
}

async fn delete_group_topic(
    State(state): State<AppState>,
    uri: Uri,
    Extension(admin): Extension<Admin>,
    Path((cluster, group, topic)): Path<(String, String, String)>,
) -> Response {
    if let Some(refused) = admin_refusal(&state, &uri, admin) {
        return refused;
    }
    if let Err(e) = state
        .handle
        .delete_group_topic(&cluster, &group, &topic)
        .await
    {
        return error_with(
            StatusCode::SERVICE_UNAVAILABLE,
            &e.to_string(),
            uri.path(),
            &state.settings.host,
        );
    }
    removed(&state, &uri)
}

fn removed(state: &AppState, uri: &Uri) -> Response {
    json_response(
        StatusCode::OK,
        &json!({
            "error": false,
            "message": "consumer group removed",
            "request": request_info(uri.path(), &state.settings.host),
        }),
    )
}

async fn main_config(State(state): State<AppState>, uri: Uri) -> Response {
    let s = &state.settings;
    let body = json!({
        "error": false,
        "message": "main config returned",
        "request": request_info(uri.path(), &s.host),
        "general": {
            "pidfile": "",
            "stdout-logfile": "",
            "access-control-allow-origin": s.allow_origin,
        },
        "logging": {
            "filename": "",
            "max-size": 0,
            "max-backups": 0,
            "max-age": 0,
            "use-local-time": false,
            "use-compression": false,
            "level": state.log_level.as_ref().map(|l| l.current()).unwrap_or_else(|| "info".to_owned()),
        },
        "zookeeper": { "servers": [], "timeout": 0, "root-path": "" },
        "httpserver": {
            "default": {
                "address": s.listen.to_string(),
                "tls": if s.tls.is_some() { "default" } else { "" },
                "timeout": 300,
            }
        },
    });
    json_response(StatusCode::OK, &body)
}

/// Module names of one kind (`storage`, `evaluator`, `cluster`, `consumer`, `notifier`).
fn module_names(state: &AppState, kind: &str) -> Option<Vec<String>> {
    let b = &state.settings.burrow;
    Some(match kind {
        "storage" | "evaluator" => vec!["default".to_owned()],
        "cluster" => b.clusters.keys().cloned().collect(),
        "consumer" => b.consumers.keys().cloned().collect(),
        "notifier" => b.notifiers.keys().cloned().collect(),
        _ => return None,
    })
}

async fn module_list(
    State(state): State<AppState>,
    uri: Uri,
    Path(kind): Path<String>,
) -> Response {
    let Some(names) = module_names(&state, &kind) else {
        return fallback().await;
    };
    let body = json!({
        "error": false,
        "message": "module list returned",
        "request": request_info(uri.path(), &state.settings.host),
        "coordinator": kind,
        "modules": names,
    });
    json_response(StatusCode::OK, &body)
}

async fn module_detail(
    State(state): State<AppState>,
    uri: Uri,
    Path((kind, name)): Path<(String, String)>,
) -> Response {
    let b = &state.settings.burrow;
    let module = match kind.as_str() {
        "storage" if name == "default" => Some(json!({
            "class-name": "inmemory",
            "intervals": b.storage.intervals,
            "min-distance": b.storage.min_distance_s,
            "group-allowlist": b.storage.group_allowlist,
            "expire-group": b.storage.expire_group_s,
        })),
        "evaluator" if name == "default" => Some(json!({
            "class-name": "caching",
            "expire-cache": b.evaluation_interval_s,
        })),
        "cluster" => b.clusters.get(&name).map(cluster_module_json),
        "consumer" => b.consumers.get(&name).map(|c| {
            json!({
                "class-name": c.class_name,
                "cluster": c.cluster,
                "servers": c.servers,
                "group-allowlist": c.group_allowlist,
                "zookeeper-path": c.zookeeper_path,
                "zookeeper-timeout": c.zookeeper_timeout_s,
                "client-profile": client_profile_json("default"),
                "offsets-topic": c.offsets_topic,
                "start-latest": c.start_latest,
            })
        }),
        "notifier" => b.notifiers.get(&name).map(|class| {
            json!({
                "class-name": class,
                "group-allowlist": "",
                "interval": 0,
                "threshold": 0,
                "template-open": "",
                "template-close": "",
                "extra": {},
                "send-close": true,
            })
        }),
        "storage" | "evaluator" => None,
        _ => return fallback().await,
    };
    match module {
        Some(module) => answer(
            &state,
            &uri,
            &format!("{kind} module detail returned"),
            "module",
            module,
        ),
        None => not_found(&state, &uri, &format!("{kind} module not found")),
    }
}

async fn get_log_level(State(state): State<AppState>, uri: Uri) -> Response {
    let level = state
        .log_level
        .as_ref()
        .map(|l| l.current())
        .unwrap_or_else(|| "info".to_owned());
    answer(&state, &uri, "log level returned", "level", json!(level))
}

/// Burrow's level names (case-insensitive) mapped to ours; `None` for an unknown name.
pub(crate) fn level_name(given: &str) -> Option<&'static str> {
    match given.to_ascii_lowercase().as_str() {
        "debug" | "trace" => Some("debug"),
        "info" => Some("info"),
        "warning" | "warn" => Some("warn"),
        "error" | "fatal" | "panic" => Some("error"),
        _ => None,
    }
}

async fn set_log_level(
    State(state): State<AppState>,
    uri: Uri,
    Extension(admin): Extension<Admin>,
    body: axum::body::Bytes,
) -> Response {
    if let Some(refused) = admin_refusal(&state, &uri, admin) {
        return refused;
    }
    let host = &state.settings.host;
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error_with(
            StatusCode::BAD_REQUEST,
            "could not decode message body",
            uri.path(),
            host,
        );
    };
    let Some(level) = request
        .get("level")
        .and_then(Value::as_str)
        .and_then(level_name)
    else {
        // Burrow answers an unknown level with 404.
        return error_with(StatusCode::NOT_FOUND, "unknown log level", uri.path(), host);
    };
    let Some(control) = &state.log_level else {
        return error_with(
            StatusCode::NOT_IMPLEMENTED,
            "this process cannot change its log level",
            uri.path(),
            host,
        );
    };
    if let Err(e) = control.set(level) {
        return error_with(StatusCode::INTERNAL_SERVER_ERROR, &e, uri.path(), host);
    }
    tracing::info!(level, "log level set through the API");
    json_response(
        StatusCode::OK,
        &json!({ "error": false, "message": "set log level", "request": request_info(uri.path(), host) }),
    )
}
