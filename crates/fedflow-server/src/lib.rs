//! fedflow's server: FATE Flow's role for one organisation.
//!
//! * [`config`]: TOML file + environment overrides.
//! * [`api`]: FATE Flow's REST API v1 (`POST /v1/{page}/{action}`, JSON,
//!   `{retcode, retmsg, data, jobId}` replies) plus the party-to-party control
//!   plane under `/v1/party/…`.
//! * [`scheduler`]: the initiator drives a job's DAG, asking every party's
//!   server (this one or others, by the route table) to create, start, stop
//!   and report tasks.
//! * [`party`]: the party side: each task runs as a `fedflow task run`
//!   executor process with its own log file, as FATE Flow's task executor.

pub mod api;
pub mod board;
pub mod config;
pub mod confine;
pub mod party;
pub mod scheduler;
mod state;
pub mod tls;

pub use config::ServerConfig;
pub use state::App;

use std::sync::Arc;

/// Starts the server and serves until Ctrl-C / SIGTERM.
pub async fn serve(config: ServerConfig) -> Result<(), ServerError> {
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| ServerError::Config(format!("listen {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServerError::Config(e.to_string()))?;
    let app = Arc::new(App::open(config)?);
    app.recover();
    app.start_federation_endpoint()?;
    tracing::info!(
        "fedflow server listening on http://{addr} (data dir {})",
        app.config.data_dir.display()
    );
    println!("fedflow server listening on http://{addr}");
    let router = api::router(app.clone());
    let header_timeout = std::time::Duration::from_secs(app.config.request_timeout);
    if let Some(tls) = app.config.tls.clone() {
        let pid = app.config.party_ids.first().copied().unwrap_or(0);
        let cfg = tls.server_config(pid)?;
        if let Some(l) = &tls.listen {
            let tl = tls::TlsListener::bind(l, cfg).await?;
            let taddr = axum::serve::Listener::local_addr(&tl)
                .map_err(|e| ServerError::Config(e.to_string()))?;
            println!("fedflow control plane (https, mTLS) listening on https://{taddr}");
            // Callers here presented a certificate of the federation's CA.
            let r = router.clone().layer(axum::Extension(api::auth::MtlsPeer));
            tokio::spawn(serve_connections(
                tl,
                r,
                header_timeout,
                std::future::pending::<()>(),
            ));
        }
    }
    let router = if app.config.tls.is_some() {
        router.layer(axum::middleware::from_fn(plain_refuses_party_routes))
    } else {
        router
    };
    serve_connections(listener, router, header_timeout, shutdown_signal()).await;
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = ctrl_c => {},
            _ = async {
                match term.as_mut() {
                    Some(t) => { t.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Serves connections until `shutdown`: hyper's HTTP/1 with a header read
/// timeout (`request_timeout`: a client that does not send its headers in
/// time gets 408 and is disconnected), the peer address as
/// `ConnectInfo<SocketAddr>` for the party routes' loopback check.
async fn serve_connections<L>(
    mut listener: L,
    router: axum::Router,
    header_timeout: std::time::Duration,
    shutdown: impl std::future::Future<Output = ()>,
) where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
{
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            c = listener.accept() => c,
            _ = &mut shutdown => return,
        };
        let router = router.clone();
        tokio::spawn(async move {
            let svc =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let mut req = req.map(axum::body::Body::new);
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    tower::ServiceExt::oneshot(router.clone(), req)
                });
            let mut b = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            b.http1()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            if let Err(e) = b
                .serve_connection_with_upgrades(TokioIo::new(io), svc)
                .await
            {
                tracing::debug!("connection from {peer}: {e}");
            }
        });
    }
}

/// With `[tls]`, the party-to-party routes are only served over mTLS.
async fn plain_refuses_party_routes(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if req.uri().path().starts_with("/v1/party/") {
        use axum::response::IntoResponse;
        return (
            axum::http::StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({
                "retcode": 403,
                "retmsg": "party-to-party calls are accepted only over HTTPS with a client certificate (tls.listen)"
            })),
        )
            .into_response();
    }
    next.run(req).await
}

/// A server failure at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Bad configuration.
    #[error("server config: {0}")]
    Config(String),
    /// The meta store or storage failed.
    #[error(transparent)]
    Storage(#[from] fedflow_storage::StorageError),
}
