//! # lagwatch-http
//!
//! lagwatch's HTTP surface, answered from the running pipeline's newest evaluation (a
//! request never waits for Kafka):
//!
//! * **Burrow's API v3** (`/v3/kafka/...`, `/v3/config/...`, `/v3/admin/loglevel`,
//!   `/burrow/admin`, `/burrow/admin/ready`) with Burrow's paths, envelopes, field names,
//!   status codes and quirks, so Telegraf's `inputs.burrow` and Burrow's other clients work
//!   unchanged ([`burrow`](crate) module docs list the deliberate differences);
//! * **`/metrics`** through a [`MetricsRenderer`] (the `lagwatch-metrics` crate provides one);
//! * **`/healthz`** (the process answers) and **`/readyz`** (every source has completed a
//!   first read and an evaluation has run since);
//! * **lagwatch's JSON API** under `/api/v1` (groups with time lag and warming-up/stale flags,
//!   a short lag history per group, the pipeline's health);
//! * **a dashboard** at `/` ([`dashboard`]): hand-written HTML, script and style sheet
//!   compiled into the binary, drawing from the JSON API.
//!
//! Every route sits behind the configured [`Auth`]; deleting groups and setting the log level
//! also need the admin token.
//!
//! ```no_run
//! # async fn demo(handle: lagwatch_runtime::PipelineHandle) -> Result<(), lagwatch_http::HttpError> {
//! use lagwatch_http::{HttpServer, HttpSettings};
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! let server = HttpServer::new(HttpSettings::default(), handle).bind().await?;
//! println!("serving on {}", server.url());
//! server.serve(shutdown).await
//! # }
//! ```

/// The README's example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod api;
mod auth;
mod burrow;
pub mod dashboard;
mod error;
pub mod forward;
mod health;
pub mod history;
mod reply;
mod server;
pub mod settings;
mod state;
#[cfg(feature = "tls")]
mod tls;

pub use error::HttpError;
pub use server::{BoundServer, HttpServer};
pub use settings::{Auth, HttpSettings, TlsFiles};
pub use state::{AppState, LogLevelControl, MetricsRenderer};

use axum::Router;
use axum::http::{HeaderValue, header};

/// Every route, behind authentication.
pub fn router(state: AppState) -> Router {
    let origin = HeaderValue::from_str(&state.settings.allow_origin)
        .ok()
        .filter(|v| !v.is_empty());
    let mut app = Router::new()
        .merge(burrow::routes(&state))
        .merge(api::routes(&state))
        .merge(health::routes())
        .merge(dashboard::routes())
        .fallback(reply::fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require,
        ))
        .with_state(state);
    if let Some(origin) = origin {
        app = app.layer(axum::middleware::map_response(
            move |mut response: axum::response::Response| {
                let origin = origin.clone();
                async move {
                    response
                        .headers_mut()
                        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                    response
                }
            },
        ));
    }
    app
}
