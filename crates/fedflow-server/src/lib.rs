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
    if let Some(tls) = app.config.tls.clone() {
        let pid = app.config.party_ids.first().copied().unwrap_or(0);
        let cfg = tls.server_config(pid)?;
        if let Some(l) = &tls.listen {
            let tl = tls::TlsListener::bind(l, cfg).await?;
            let taddr = axum::serve::Listener::local_addr(&tl)
                .map_err(|e| ServerError::Config(e.to_string()))?;
            println!("fedflow control plane (https, mTLS) listening on https://{taddr}");
            let r = router.clone();
            tokio::spawn(async move {
                if let Err(e) = axum::serve(tl, r).await {
                    tracing::error!("control plane listener stopped: {e}");
                }
            });
        }
    }
    let router = if app.config.tls.is_some() {
        router.layer(axum::middleware::from_fn(plain_refuses_party_routes))
    } else {
        router
    };
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = async { if let Some(t) = term.as_mut() { t.recv().await; } else { std::future::pending::<()>().await } } => {},
                }
            }
            #[cfg(not(unix))]
            let _ = ctrl_c.await;
        })
        .await
        .map_err(|e| ServerError::Config(e.to_string()))
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
