//! `/healthz`, `/readyz` and `/metrics`.

use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The process is up and answering.
async fn healthz() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "ok\n",
    )
        .into_response()
}

/// Ready once every source has completed a first read and an evaluation ran since; 503 with
/// the sources still waiting otherwise.
async fn readyz(State(state): State<AppState>) -> Response {
    let stats = state.handle.stats();
    if stats.ready() {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "ready\n",
        )
            .into_response();
    }
    let mut text = String::from("not ready:");
    if stats.cycles == 0 {
        text.push_str(" no evaluation yet;");
    }
    for s in stats.sources.iter().filter(|s| !s.has_read) {
        text.push_str(" waiting for the first read of ");
        text.push_str(&s.name);
        text.push(';');
    }
    text.pop();
    text.push('\n');
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(renderer) = state.metrics.clone() else {
        return crate::reply::fallback().await;
    };
    let snapshot = state.handle.latest();
    let stats = state.handle.stats();
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut out = String::new();
    let content_type = renderer.render(&snapshot, &stats, accept.as_deref(), &mut out);
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], out).into_response()
}
