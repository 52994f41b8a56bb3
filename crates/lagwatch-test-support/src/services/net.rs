//! Loopback ports for processes a test starts itself (Telegraf, Prometheus, lagwatch).

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use anyhow::{Context as _, anyhow};

use super::wait;

/// A TCP port on `127.0.0.1` that was free a moment ago.
///
/// The port is found by binding `127.0.0.1:0` and closing the socket again, so another
/// process may take it before the caller binds it; the window is small and the kernel hands
/// out ephemeral ports round-robin, which makes a collision rare. A helper that starts a child
/// on such a port fails with the child's own error message when it does happen.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind 127.0.0.1:0")?;
    Ok(listener
        .local_addr()
        .context("no local address for 127.0.0.1:0")?
        .port())
}

/// `127.0.0.1:<free port>` (see [`free_port`]).
pub fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(SocketAddr::from(([127, 0, 0, 1], free_port()?)))
}

/// Waits until something accepts TCP connections at `addr`, for at most `timeout`.
pub async fn wait_listening(addr: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
    wait::until(
        &format!("a listener at {addr}"),
        timeout,
        Duration::from_millis(100),
        || async move {
            tokio::net::TcpStream::connect(addr)
                .await
                .map(|_| Some(()))
                .map_err(|err| anyhow!("connect {addr}: {err}"))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_free_port_can_be_bound_and_then_is_listening() {
        let addr = free_addr().unwrap();
        assert_eq!(addr.ip().to_string(), "127.0.0.1");
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        wait_listening(addr, Duration::from_secs(5)).await.unwrap();
        drop(listener);
    }

    #[tokio::test]
    async fn waiting_for_a_closed_port_times_out_naming_it() {
        let addr = free_addr().unwrap();
        let err = wait_listening(addr, Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(format!("{err:#}").contains(&addr.to_string()), "{err:#}");
    }
}
