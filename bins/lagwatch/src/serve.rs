//! Starting the HTTP API next to the pipeline.

use crate::cli::HttpArgs;
use crate::logging::LogControl;
use lagwatch_lib::config::Config;
use lagwatch_lib::http::{BoundServer, HttpServer};
use lagwatch_lib::runtime::PipelineHandle;
use std::sync::Arc;

/// What to do when the configured address is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Busy {
    /// Fail: an operator's scrapers and Telegraf expect the configured address.
    Fail,
    /// Take a free port instead (the demo, which prints where it listens).
    AnyPort,
}

/// Applies `--http` / `--no-http` to the configuration.
pub(crate) fn apply_args(config: &mut Config, args: &HttpArgs) {
    if args.no_http {
        config.http.enabled = false;
    }
    if let Some(addr) = args.listen {
        config.http.enabled = true;
        config.http.listen = addr.to_string();
    }
}

/// Binds the HTTP API for `handle` when the configuration asks for it.
pub(crate) async fn bind(
    config: &Config,
    handle: PipelineHandle,
    logs: Option<LogControl>,
    busy: Busy,
) -> anyhow::Result<Option<BoundServer>> {
    let Some(mut settings) = lagwatch_lib::http_settings(config)? else {
        return Ok(None);
    };
    let renderer = lagwatch_lib::metrics_renderer(config)?;
    let make = |settings, handle| {
        let mut server = HttpServer::new(settings, handle).metrics(renderer.clone());
        if let Some(logs) = &logs {
            server = server.log_level(Arc::new(logs.clone()));
        }
        server
    };
    match make(settings.clone(), handle.clone()).bind().await {
        Ok(bound) => Ok(Some(bound)),
        Err(e) if busy == Busy::AnyPort => {
            tracing::warn!(error = %e, "HTTP API: configured address not available; using a free port");
            settings.listen.set_port(0);
            Ok(Some(make(settings, handle).bind().await?))
        }
        Err(e) => Err(anyhow::Error::new(e)
            .context("the HTTP API cannot start (set http.listen or --http ADDR, or --no-http)")),
    }
}
