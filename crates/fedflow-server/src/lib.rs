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
