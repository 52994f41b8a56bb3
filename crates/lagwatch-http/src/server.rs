//! Binding the listener and serving until shutdown.

use crate::error::HttpError;
use crate::history::History;
use crate::settings::HttpSettings;
use crate::state::{AppState, LogLevelControl, MetricsRenderer};
use lagwatch_runtime::PipelineHandle;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Builds the server: settings, the pipeline it answers for, and optional log-level control
/// and metrics renderer.
pub struct HttpServer {
    state: AppState,
}

impl HttpServer {
    /// A server answering for `handle`.
    pub fn new(settings: HttpSettings, handle: PipelineHandle) -> HttpServer {
        let history = Arc::new(History::new(settings.history));
        HttpServer {
            state: AppState {
                handle,
                settings: Arc::new(settings),
                history,
                log_level: None,
                metrics: None,
                peer_client: crate::forward::client(),
            },
        }
    }

    /// Lets `POST /v3/admin/loglevel` change the process's log level.
    pub fn log_level(mut self, control: Arc<dyn LogLevelControl>) -> HttpServer {
        self.state.log_level = Some(control);
        self
    }

    /// Serves `/metrics` with this renderer (without one, `/metrics` answers 404).
    pub fn metrics(mut self, renderer: Arc<dyn MetricsRenderer>) -> HttpServer {
        self.state.metrics = Some(renderer);
        self
    }

    /// The router, for embedding in an application's own server or for tests.
    pub fn router(&self) -> axum::Router {
        crate::router(self.state.clone())
    }

    /// The history the JSON API serves (fed by [`BoundServer::serve`]).
    pub fn history(&self) -> Arc<History> {
        self.state.history.clone()
    }

    /// Binds the listen address (checking the TLS files), so errors come before the pipeline
    /// starts and the real port is known when port 0 was asked for.
    pub async fn bind(self) -> Result<BoundServer, HttpError> {
        let addr = self.state.settings.listen;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| HttpError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| HttpError::Bind { addr, source })?;
        #[cfg(feature = "tls")]
        let tls = match &self.state.settings.tls {
            Some(files) => Some(crate::tls::load(files).await?),
            None => None,
        };
        #[cfg(not(feature = "tls"))]
        if self.state.settings.tls.is_some() {
            return Err(HttpError::TlsUnsupported);
        }
        Ok(BoundServer {
            state: self.state,
            listener,
            local,
            #[cfg(feature = "tls")]
            tls,
        })
    }
}

/// A server whose listener is bound; [`BoundServer::serve`] answers requests.
pub struct BoundServer {
    state: AppState,
    listener: tokio::net::TcpListener,
    local: SocketAddr,
    #[cfg(feature = "tls")]
    tls: Option<axum_server::tls_openssl::OpenSSLConfig>,
}

impl BoundServer {
    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// `http://` or `https://` and the bound address.
    pub fn url(&self) -> String {
        let scheme = if self.state.settings.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.local)
    }

    /// The base URL announced to the instances sharing a cluster with this one (see
    /// [`lagwatch_runtime::PipelineHandle::advertise`]): the `advertise` setting, else
    /// [`Self::url`] with the host name in place of an unspecified IP.
    pub fn advertised_url(&self) -> String {
        if let Some(address) = &self.state.settings.advertise {
            return address.trim_end_matches('/').to_owned();
        }
        if self.local.ip().is_unspecified() {
            let scheme = if self.state.settings.tls.is_some() {
                "https"
            } else {
                "http"
            };
            return format!(
                "{scheme}://{}:{}",
                crate::settings::host_name(),
                self.local.port()
            );
        }
        self.url()
    }

    /// Serves until `shutdown` is cancelled, then finishes the requests in flight. Also
    /// records every snapshot into the history, and announces [`Self::advertised_url`] to
    /// the instances sharing a cluster with this one.
    pub async fn serve(self, shutdown: CancellationToken) -> Result<(), HttpError> {
        self.state.handle.advertise(self.advertised_url());
        let history = self.state.history.clone();
        let snapshots = self.state.handle.subscribe();
        let follow_token = shutdown.clone();
        let follower = tokio::spawn(async move { history.follow(snapshots, follow_token).await });
        let app = crate::router(self.state.clone());
        let local = self.local;
        tracing::info!(url = %self.url(), "HTTP API listening");
        #[cfg(feature = "tls")]
        if let Some(config) = self.tls {
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            let token = shutdown.clone();
            tokio::spawn(async move {
                token.cancelled().await;
                stopper.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
            });
            let std_listener = self
                .listener
                .into_std()
                .map_err(|source| HttpError::Serve {
                    addr: local,
                    source,
                })?;
            let result = axum_server::from_tcp(std_listener)
                .map_err(|source| HttpError::Serve {
                    addr: local,
                    source,
                })?
                .acceptor(axum_server::tls_openssl::OpenSSLAcceptor::new(config))
                .handle(handle)
                .serve(app.into_make_service())
                .await
                .map_err(|source| HttpError::Serve {
                    addr: local,
                    source,
                });
            follower.abort();
            return result;
        }
        let result = axum::serve(self.listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
            .map_err(|source| HttpError::Serve {
                addr: local,
                source,
            });
        follower.abort();
        result
    }
}
