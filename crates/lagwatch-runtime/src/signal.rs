use tokio_util::sync::CancellationToken;

/// Cancels `token` on SIGINT (Ctrl-C) or SIGTERM. Returns immediately; the waiting happens in a
/// background task. A second signal while shutting down exits the process at once.
pub fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested, flushing sinks (signal again to exit at once)");
        token.cancel();
        wait_for_signal().await;
        tracing::warn!("second signal: exiting without flushing");
        std::process::exit(130);
    });
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops lagwatch");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
