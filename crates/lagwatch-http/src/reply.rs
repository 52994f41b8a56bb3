//! Responses in Burrow's shapes, shared by every route.

use crate::state::AppState;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// A JSON response with Burrow's content type.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned());
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// Burrow's `request` object: the path asked for and this host's name.
pub(crate) fn request_info(path: &str, host: &str) -> Value {
    json!({ "url": path, "host": host })
}

/// Burrow's success envelope: `error: false`, `message`, the payload under `key`, `request`.
pub(crate) fn answer(
    state: &AppState,
    uri: &Uri,
    message: &str,
    key: &str,
    value: Value,
) -> Response {
    let mut body = Map::new();
    body.insert("error".into(), Value::Bool(false));
    body.insert("message".into(), Value::String(message.into()));
    body.insert(key.into(), value);
    body.insert(
        "request".into(),
        request_info(uri.path(), &state.settings.host),
    );
    json_response(StatusCode::OK, &Value::Object(body))
}

/// Burrow's error body (`error: true`, `message`, `request`) with `status`.
pub(crate) fn error_with(status: StatusCode, message: &str, path: &str, host: &str) -> Response {
    json_response(
        status,
        &json!({ "error": true, "message": message, "request": request_info(path, host) }),
    )
}

/// Burrow's answer to any unknown path: a JSON-looking body sent as plain text, with `result`
/// instead of `request`, and a trailing newline.
pub(crate) async fn fallback() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "{\"error\":true,\"message\":\"invalid request type\",\"result\":{}}\n",
    )
        .into_response()
}
