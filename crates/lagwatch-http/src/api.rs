//! lagwatch's own JSON API under `/api/v1`: what Burrow's API cannot say (time lag, warming-up
//! and stale flags, history, the pipeline's health), with deterministic ordering and distinct
//! errors for an unknown cluster and an unknown group.
//!
//! | path | answer |
//! |---|---|
//! | `GET /api/v1/status` | readiness, evaluation cycle, sources with their reads, sinks, alerters |
//! | `GET /api/v1/clusters` | every cluster with group and topic counts and staleness |
//! | `GET /api/v1/groups` | every group (worst first), filtered by `cluster`, `status`, `q` (name contains); with several instances sharing a cluster, every instance's groups |
//! | `GET /api/v1/groups/{cluster}/{group}` | one group with every partition |
//! | `GET /api/v1/groups/{cluster}/{group}/history` | the group's recent points, oldest first, with every partition's lag |
//! | `GET /api/v1/topics/{cluster}/{topic}` | the topic's end offsets and the groups consuming it (from every instance sharing the cluster) |
//! | `GET /api/v1/alerts` | firing alerts and the most recent notifications |

use crate::burrow::{cluster_groups, cluster_names, find_group};
use crate::history::HistoryPoint;
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use lagwatch_core::trend::TrendFields;
use lagwatch_core::{GroupReport, GroupStatus, PartitionReport, PartitionStatus, TimestampMs};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The JSON API; the routes about one group or topic go to the instance that owns it
/// ([`crate::forward`]).
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let owned = Router::new()
        .route("/api/v1/groups/{cluster}/{group}", get(group))
        .route("/api/v1/groups/{cluster}/{group}/history", get(history))
        .route("/api/v1/topics/{cluster}/{topic}", get(topic))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::forward::to_owner,
        ));
    Router::new()
        .merge(owned)
        .route("/api/v1/status", get(status))
        .route("/api/v1/clusters", get(clusters))
        .route("/api/v1/groups", get(groups))
        .route("/api/v1/alerts", get(alerts))
}

fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// A group in lists.
#[derive(Debug, Serialize)]
struct GroupSummary<'a> {
    cluster: &'a str,
    group: &'a str,
    status: GroupStatus,
    /// Worst partition status before Burrow caps it to ERR.
    worst_partition: Option<PartitionStatus>,
    total_lag: u64,
    max_lag: u64,
    max_time_lag_seconds: Option<f64>,
    /// Rates, time to catch up, retention deadline (each left out when unknown).
    #[serde(flatten)]
    trend: TrendFields,
    partition_count: u32,
    complete: f32,
    warming_up: bool,
    stale: bool,
    evaluated_at_ms: TimestampMs,
    /// Total lag over the kept history, at most 60 values, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    sparkline: Option<Vec<u64>>,
}

impl<'a> GroupSummary<'a> {
    fn of(g: &'a GroupReport) -> GroupSummary<'a> {
        GroupSummary {
            cluster: &g.cluster,
            group: &g.group,
            status: g.status,
            worst_partition: g.worst_partition,
            total_lag: g.totallag,
            max_lag: g.maxlag.as_ref().map_or(0, |p| p.current_lag),
            max_time_lag_seconds: g.max_time_lag_seconds(),
            trend: if g.partitions.iter().any(|p| p.extras.trend.is_some()) {
                TrendFields::from(&g.trend())
            } else {
                TrendFields::default()
            },
            partition_count: g.partition_count,
            complete: g.complete,
            warming_up: g.warming_up,
            stale: g.stale,
            evaluated_at_ms: g.evaluated_at,
            sparkline: None,
        }
    }
}

/// A partition with everything lagwatch knows about it.
#[derive(Debug, Serialize)]
struct PartitionView<'a> {
    topic: &'a str,
    partition: i32,
    status: PartitionStatus,
    owner: &'a str,
    client_id: &'a str,
    lag: u64,
    committed_offset: Option<i64>,
    committed_at_ms: Option<TimestampMs>,
    log_end_offset: Option<i64>,
    log_start_offset: Option<i64>,
    /// Committed offset minus log-start offset (negative: retention deleted unread data).
    retention_margin: Option<i64>,
    time_lag_seconds: Option<f64>,
    time_lag_confidence: Option<lagwatch_core::time_lag::Confidence>,
    /// Rates, time to catch up, retention deadline (each left out when unknown).
    #[serde(flatten)]
    trend: TrendFields,
    complete: f32,
    warming_up: bool,
    stale: bool,
    /// Why the partition has its status, in one line (empty for OK).
    reason: String,
}

impl<'a> PartitionView<'a> {
    fn of(p: &'a PartitionReport) -> PartitionView<'a> {
        let committed = p.end.map(|e| e.offset);
        PartitionView {
            topic: &p.topic,
            partition: p.partition,
            status: p.status,
            owner: &p.owner,
            client_id: &p.client_id,
            lag: p.current_lag,
            committed_offset: committed,
            committed_at_ms: p.end.map(|e| e.timestamp),
            log_end_offset: p.extras.log_end_offset,
            log_start_offset: p.extras.log_start_offset,
            retention_margin: committed
                .zip(p.extras.log_start_offset)
                .map(|(c, s)| c.saturating_sub(s)),
            time_lag_seconds: p.extras.time_lag.map(|t| t.seconds),
            time_lag_confidence: p.extras.time_lag.map(|t| t.confidence),
            trend: p
                .extras
                .trend
                .as_ref()
                .map(TrendFields::from)
                .unwrap_or_default(),
            complete: p.complete,
            warming_up: p.extras.warming_up,
            stale: p.extras.stale,
            reason: String::new(),
        }
    }
}

async fn status(State(state): State<AppState>) -> Response {
    let stats = state.handle.stats();
    let snapshot = state.handle.latest();
    let sources: Vec<_> = stats
        .sources
        .iter()
        .map(|s| {
            let reads: Vec<_> = stats
                .reads
                .iter()
                .filter(|r| r.source == s.name)
                .map(|r| {
                    json!({
                        "cluster": r.cluster,
                        "reads": r.reads.reads,
                        "failures": r.reads.failures,
                        "last_duration_seconds": r.reads.last_duration.map(|d| d.as_secs_f64()),
                        "last_success_ms": r.reads.last_success_ms,
                        "last_error": r.reads.last_error,
                    })
                })
                .collect();
            json!({ "name": s.name, "has_read": s.has_read, "clusters": reads })
        })
        .collect();
    let outputs = |list: &[lagwatch_component::stats::OutputStats]| -> Vec<serde_json::Value> {
        list.iter()
            .map(|o| {
                json!({
                    "name": o.name, "accepted": o.accepted, "records": o.records,
                    "failed": o.failed, "dropped": o.dropped,
                    "queue_depth": o.queue_depth, "queue_capacity": o.queue_capacity,
                })
            })
            .collect()
    };
    let (history_groups, history_points) = state.history.counts();
    Json(json!({
        "ready": stats.ready(),
        "started_ms": stats.started_ms,
        "cycle": snapshot.cycle(),
        "evaluated_at_ms": snapshot.at_ms(),
        "last_evaluation_seconds": stats.last_evaluation.map(|d| d.as_secs_f64()),
        "events": stats.events,
        "event_queue": { "depth": stats.event_queue_depth, "capacity": stats.event_queue_capacity },
        "state_save_failures": stats.state_save_failures,
        "history": { "groups": history_groups, "points": history_points },
        "coordination": stats.ownership.iter().map(|row| json!({
            "cluster": row.cluster,
            "offsets_partitions": row.offsets_partitions,
            "partition_count": row.partition_count,
        })).collect::<Vec<_>>(),
        "sources": sources,
        "sinks": outputs(&stats.sinks),
        "alerters": outputs(&stats.alerters),
    }))
    .into_response()
}

async fn clusters(State(state): State<AppState>) -> Response {
    let snapshot = state.handle.latest();
    let list: Vec<_> = cluster_names(&state, &snapshot)
        .iter()
        .map(|c| {
            let groups = cluster_groups(&snapshot, c);
            json!({
                "cluster": c,
                "groups": groups.len(),
                "groups_not_ok": groups.iter().filter(|g| g.status != GroupStatus::Ok).count(),
                "topics": snapshot.topics().iter().filter(|t| &t.cluster == c).count(),
                "stale": groups.iter().any(|g| g.stale),
            })
        })
        .collect();
    Json(list).into_response()
}

/// Query of `/api/v1/groups`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GroupQuery {
    cluster: Option<String>,
    /// `OK`, `WARN` or `ERR`.
    status: Option<String>,
    /// Part of the group name.
    q: Option<String>,
    /// Add a sparkline of total lag to each group.
    sparkline: bool,
}

/// Sort key: worst first (ERR, WARN, OK), then the larger total lag, then by name.
fn severity(g: &GroupReport) -> (std::cmp::Reverse<GroupStatus>, std::cmp::Reverse<u64>) {
    (std::cmp::Reverse(g.status), std::cmp::Reverse(g.totallag))
}

async fn groups(
    State(state): State<AppState>,
    Query(query): Query<GroupQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let wanted_status = match query.status.as_deref().map(str::to_ascii_uppercase) {
        None => None,
        Some(s) => match s.as_str() {
            "OK" => Some(GroupStatus::Ok),
            "WARN" => Some(GroupStatus::Warn),
            "ERR" => Some(GroupStatus::Err),
            _ => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    format!("status must be OK, WARN or ERR, not {s:?}"),
                );
            }
        },
    };
    let snapshot = state.handle.latest();
    let mut list: Vec<&GroupReport> = snapshot
        .groups()
        .iter()
        .filter(|g| query.cluster.as_ref().is_none_or(|c| &g.cluster == c))
        .filter(|g| wanted_status.is_none_or(|s| g.status == s))
        .filter(|g| {
            query
                .q
                .as_ref()
                .is_none_or(|q| g.group.contains(q.as_str()))
        })
        .collect();
    list.sort_by(|a, b| {
        severity(a)
            .cmp(&severity(b))
            .then_with(|| (&a.cluster, &a.group).cmp(&(&b.cluster, &b.group)))
    });
    let summaries: Vec<GroupSummary<'_>> = list
        .into_iter()
        .map(|g| {
            let mut s = GroupSummary::of(g);
            if query.sparkline {
                s.sparkline = Some(state.history.total_lag_sparkline(&g.cluster, &g.group, 60));
            }
            s
        })
        .collect();
    let others = if headers.contains_key(crate::forward::FORWARDED_BY) {
        Vec::new()
    } else {
        other_instances(&state, &snapshot, query.cluster.as_deref()).await
    };
    if others.is_empty() {
        return Json(json!({ "evaluated_at_ms": snapshot.at_ms(), "groups": summaries }))
            .into_response();
    }
    let (theirs, missing) =
        crate::forward::ask_others(&state, others, &Method::GET, &uri, &headers).await;
    let mut body = json!({
        "evaluated_at_ms": snapshot.at_ms(),
        "groups": merge_group_lists(&summaries, &theirs),
    });
    if !missing.is_empty() {
        body["incomplete"] = json!(missing);
    }
    Json(body).into_response()
}

/// The other instances that share a cluster of this list (`cluster`, or every cluster this
/// instance knows), each named once.
async fn other_instances(
    state: &AppState,
    snapshot: &lagwatch_core::Snapshot,
    cluster: Option<&str>,
) -> Vec<String> {
    let clusters = match cluster {
        Some(cluster) => std::collections::BTreeSet::from([cluster.to_owned()]),
        None => cluster_names(state, snapshot),
    };
    let mut others = std::collections::BTreeSet::new();
    for cluster in &clusters {
        others.extend(
            state
                .handle
                .other_instances(cluster)
                .await
                .unwrap_or_default(),
        );
    }
    others.into_iter().collect()
}

/// This instance's summaries and the `groups` of the other instances' answers as one list,
/// worst first as [`severity`] orders it, each group once (this instance's entry wins while a
/// group changes hands). An entry without a readable `cluster`, `group`, `status` or
/// `total_lag` is left out.
fn merge_group_lists(
    mine: &[GroupSummary<'_>],
    theirs: &[serde_json::Value],
) -> Vec<serde_json::Value> {
    let mine = mine.iter().filter_map(|s| serde_json::to_value(s).ok());
    merge_shares(mine, theirs, "groups", |item| {
        let name = (
            item["cluster"].as_str()?.to_owned(),
            item["group"].as_str()?.to_owned(),
        );
        let status = GroupStatus::deserialize(&item["status"]).ok()?;
        let total_lag = item["total_lag"].as_u64()?;
        let order = (std::cmp::Reverse(status), std::cmp::Reverse(total_lag));
        Some((name.clone(), (order, name)))
    })
}

/// `mine` followed by the entries of the array `field` of each answer in `theirs`, each
/// entry once by the identity `key` gives (the first wins: this instance's), sorted by the
/// order `key` gives with it. Entries `key` cannot read (`None`) are left out.
fn merge_shares<I: Eq + std::hash::Hash, K: Ord>(
    mine: impl IntoIterator<Item = serde_json::Value>,
    theirs: &[serde_json::Value],
    field: &str,
    key: impl Fn(&serde_json::Value) -> Option<(I, K)>,
) -> Vec<serde_json::Value> {
    let theirs = theirs
        .iter()
        .filter_map(|answer| answer[field].as_array())
        .flatten()
        .cloned();
    let mut seen = std::collections::HashSet::new();
    let mut merged: Vec<(K, serde_json::Value)> = mine
        .into_iter()
        .chain(theirs)
        .filter_map(|item| {
            let (id, order) = key(&item)?;
            seen.insert(id).then_some((order, item))
        })
        .collect();
    merged.sort_by(|a, b| a.0.cmp(&b.0));
    merged.into_iter().map(|(_, item)| item).collect()
}

/// 404 naming what is unknown: the cluster, or the group in a known cluster.
fn unknown_group(
    state: &AppState,
    snapshot: &lagwatch_core::Snapshot,
    cluster: &str,
    group: &str,
) -> Response {
    if let Some(elsewhere) = state.owned_elsewhere(cluster, group) {
        problem(StatusCode::NOT_FOUND, format!("no group here: {elsewhere}"))
    } else if cluster_names(state, snapshot).contains(cluster) {
        problem(
            StatusCode::NOT_FOUND,
            format!("no group {group:?} in cluster {cluster:?}"),
        )
    } else {
        problem(StatusCode::NOT_FOUND, format!("no cluster {cluster:?}"))
    }
}

async fn group(
    State(state): State<AppState>,
    Path((cluster, group)): Path<(String, String)>,
) -> Response {
    let snapshot = state.handle.latest();
    let Some(g) = find_group(&snapshot, &cluster, &group) else {
        return unknown_group(&state, &snapshot, &cluster, &group);
    };
    let partitions: Vec<PartitionView<'_>> = g
        .partitions
        .iter()
        .map(|p| {
            let mut view = PartitionView::of(p);
            view.reason = lagwatch_core::explain::explain(p, g.evaluated_at);
            view
        })
        .collect();
    Json(json!({ "group": GroupSummary::of(g), "partitions": partitions })).into_response()
}

async fn history(
    State(state): State<AppState>,
    Path((cluster, group)): Path<(String, String)>,
) -> Response {
    let snapshot = state.handle.latest();
    if find_group(&snapshot, &cluster, &group).is_none() {
        return unknown_group(&state, &snapshot, &cluster, &group);
    }
    let points: Vec<HistoryPoint> = state.history.series(&cluster, &group);
    let by_partition = state.history.partition_series(&cluster, &group);
    let partitions: Vec<_> = by_partition
        .partitions
        .iter()
        .map(|(topic, partition)| json!({ "topic": topic, "partition": partition }))
        .collect();
    let partition_points: Vec<_> = by_partition
        .points
        .iter()
        .map(|(at_ms, lags)| json!({ "at_ms": at_ms, "lag": lags }))
        .collect();
    Json(json!({
        "cluster": cluster,
        "group": group,
        "kept_seconds": state.settings.history.as_secs(),
        "points": points,
        "partitions": partitions,
        "partition_points": partition_points,
    }))
    .into_response()
}

async fn topic(
    State(state): State<AppState>,
    Path((cluster, topic)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let snapshot = state.handle.latest();
    if headers.contains_key(crate::forward::SHARE_ONLY) {
        // Another instance completes its list: this one's consumers, known topic or not.
        let consumers = topic_consumers(&snapshot, &cluster, &topic);
        return Json(json!({ "consumers": consumers })).into_response();
    }
    let Some(t) = snapshot
        .topics()
        .iter()
        .find(|t| t.cluster == cluster && t.topic == topic)
    else {
        return if let Some(elsewhere) = state.owned_elsewhere(&cluster, &topic) {
            problem(StatusCode::NOT_FOUND, format!("no topic here: {elsewhere}"))
        } else if cluster_names(&state, &snapshot).contains(&cluster) {
            problem(
                StatusCode::NOT_FOUND,
                format!("no topic {topic:?} in cluster {cluster:?}"),
            )
        } else {
            problem(StatusCode::NOT_FOUND, format!("no cluster {cluster:?}"))
        };
    };
    let consumers = topic_consumers(&snapshot, &cluster, &topic);
    let mut body = json!({
        "cluster": cluster,
        "topic": topic,
        "end_offsets": t.high_water,
        "start_offsets": t.log_start,
    });
    let others = state
        .handle
        .other_instances(&cluster)
        .await
        .unwrap_or_default();
    if others.is_empty() {
        body["consumers"] = json!(consumers);
        return Json(body).into_response();
    }
    let (theirs, missing) =
        crate::forward::ask_others(&state, others, &Method::GET, &uri, &headers).await;
    let by_name = |item: &serde_json::Value| {
        let group = item["group"].as_str()?.to_owned();
        Some((group.clone(), group))
    };
    body["consumers"] = json!(merge_shares(consumers, &theirs, "consumers", by_name));
    if !missing.is_empty() {
        body["incomplete"] = json!(missing);
    }
    Json(body).into_response()
}

/// The groups of `cluster` in this instance's snapshot that consume `topic`, by name, each
/// with its lag, worst status and time lag on the topic's partitions.
fn topic_consumers(
    snapshot: &lagwatch_core::Snapshot,
    cluster: &str,
    topic: &str,
) -> Vec<serde_json::Value> {
    cluster_groups(snapshot, cluster)
        .iter()
        .filter(|g| g.partitions.iter().any(|p| p.topic == topic))
        .map(|g| {
            let parts = g.partitions.iter().filter(|p| p.topic == topic);
            let lag: u64 = parts.clone().map(|p| p.current_lag).sum();
            let worst = parts.clone().map(|p| p.status).max();
            let time_lag = parts
                .filter_map(|p| p.extras.time_lag.as_ref()?.estimated_seconds())
                .reduce(f64::max);
            json!({
                "group": g.group, "status": g.status, "worst_partition": worst,
                "lag": lag, "max_time_lag_seconds": time_lag,
                "warming_up": g.warming_up, "stale": g.stale,
            })
        })
        .collect()
}

async fn alerts(State(state): State<AppState>) -> Response {
    let view = state.handle.alerts();
    Json(json!({ "open": view.open, "recent": view.recent })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary<'a>(group: &'a str, status: GroupStatus, total_lag: u64) -> GroupSummary<'a> {
        GroupSummary {
            cluster: "live",
            group,
            status,
            worst_partition: None,
            total_lag,
            max_lag: total_lag,
            max_time_lag_seconds: None,
            trend: TrendFields::default(),
            partition_count: 1,
            complete: 1.0,
            warming_up: false,
            stale: false,
            evaluated_at_ms: 0,
            sparkline: None,
        }
    }

    #[test]
    fn other_instances_groups_merge_worst_first_each_once() {
        let mine = [
            summary("a", GroupStatus::Ok, 5),
            summary("b", GroupStatus::Warn, 1),
        ];
        let theirs = [
            json!({"groups": [
                {"cluster": "live", "group": "c", "status": "ERR", "total_lag": 0},
                {"cluster": "live", "group": "a", "status": "ERR", "total_lag": 99},
                {"cluster": "live", "group": "d", "status": "OK", "total_lag": 7},
            ]}),
            json!({"groups": [
                {"cluster": "live", "group": "e", "status": "OK", "total_lag": 5},
                {"cluster": "live", "group": "broken", "status": "SOMETHING", "total_lag": 1},
                {"cluster": "live", "status": "OK", "total_lag": 1},
            ]}),
            json!({"error": "not a list"}),
        ];
        let merged = merge_group_lists(&mine, &theirs);
        let order: Vec<(&str, &str)> = merged
            .iter()
            .map(|g| (g["group"].as_str().unwrap(), g["status"].as_str().unwrap()))
            .collect();
        // "a" is this instance's (OK, 5), not the other's stale ERR entry.
        assert_eq!(
            order,
            [
                ("c", "ERR"),
                ("b", "WARN"),
                ("d", "OK"),
                ("a", "OK"),
                ("e", "OK")
            ]
        );
        assert_eq!(merged[3]["total_lag"], 5);
    }
}
