//! FATE Flow's REST API v1: `POST /v1/{page}/{action}` with JSON bodies and
//! `{retcode, retmsg, data, jobId}` replies, plus the party control plane
//! (`/v1/party/…`) and `GET /openapi.json`. Every request passes
//! [`auth::guard`] first (signatures, party-route authentication, body limits
//! and timeouts).

pub mod auth;
mod data;
mod job;
mod model;
mod party;
mod tracking;

use crate::state::App;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;

/// FATE's return codes.
pub mod retcode {
    /// Success.
    pub const SUCCESS: i64 = 0;
    /// An unexpected failure.
    pub const EXCEPTION: i64 = 100;
    /// A bad or missing argument.
    pub const ARGUMENT: i64 = 101;
    /// Missing or bad data (unknown table, job…).
    pub const DATA: i64 = 102;
    /// The operation is not allowed now.
    pub const OPERATING: i64 = 103;
    /// A peer failed.
    pub const FEDERATED: i64 = 104;
    /// The request's signature is wrong.
    pub const AUTHENTICATION: i64 = 109;
}

/// A reply in FATE's envelope.
pub struct Reply(Box<ReplyBody>);

/// The fields of a [`Reply`].
pub struct ReplyBody {
    retcode: i64,
    retmsg: String,
    data: Value,
    job_id: Option<String>,
}

impl Reply {
    /// Success with data.
    pub fn ok(data: Value) -> Self {
        Reply(Box::new(ReplyBody {
            retcode: retcode::SUCCESS,
            retmsg: "success".into(),
            data,
            job_id: None,
        }))
    }
    /// An error.
    pub fn err(code: i64, msg: impl Into<String>) -> Self {
        Reply(Box::new(ReplyBody {
            retcode: code,
            retmsg: msg.into(),
            data: Value::Null,
            job_id: None,
        }))
    }
    /// Adds `jobId`.
    pub fn job(mut self, id: &str) -> Self {
        self.0.job_id = Some(id.to_string());
        self
    }
    /// Replaces the message.
    pub fn msg(mut self, m: impl Into<String>) -> Self {
        self.0.retmsg = m.into();
        self
    }
    /// Replaces the data.
    pub fn map_data(mut self, f: impl FnOnce(Value) -> Value) -> Self {
        let d = std::mem::take(&mut self.0.data);
        self.0.data = f(d);
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let b = *self.0;
        let mut v = json!({"retcode": b.retcode, "retmsg": b.retmsg, "data": b.data});
        if let Some(j) = b.job_id {
            v["jobId"] = json!(j);
        }
        Json(v).into_response()
    }
}

/// Handler result: the error side is a reply too.
pub type R = Result<Reply, Reply>;

/// Parses a request body as a JSON object (empty = `{}`).
pub fn body_json(body: &Bytes) -> Result<Value, Reply> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(json!({}));
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        Reply::err(
            retcode::ARGUMENT,
            format!("request body is not valid JSON: {e}"),
        )
    })?;
    if !v.is_object() {
        return Err(Reply::err(
            retcode::ARGUMENT,
            "request body must be a JSON object",
        ));
    }
    Ok(v)
}

/// A required string field.
pub fn field<'a>(v: &'a Value, name: &str) -> Result<&'a str, Reply> {
    match v.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::Null) | None => Err(Reply::err(
            retcode::ARGUMENT,
            format!("required argument '{name}' is missing"),
        )),
        Some(_) => Err(Reply::err(
            retcode::ARGUMENT,
            format!("argument '{name}': expected a string"),
        )),
    }
}

/// An optional string field (numbers are accepted and printed).
pub fn opt_field(v: &Value, name: &str) -> Option<String> {
    match v.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// Runs blocking work (database, files) off the async runtime.
pub async fn blocking<F>(f: F) -> R
where
    F: FnOnce() -> R + Send + 'static,
{
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(Reply::err(
            retcode::EXCEPTION,
            format!("internal error: {e}"),
        ))
    })
}

/// The router.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/v1/version/get", post(version))
        .merge(job::routes())
        .merge(data::routes())
        .merge(tracking::routes())
        .merge(model::routes())
        .merge(party::routes())
        .merge(crate::board::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            auth::guard,
        ))
        // The guard enforces max_body_mb / max_request_mb itself.
        .layer(DefaultBodyLimit::disable())
        .with_state(app)
}

async fn not_found(req: Request) -> Response {
    (
        StatusCode::NOT_FOUND,
        Reply::err(
            404,
            format!(
                "no such API: {} {} (see /openapi.json)",
                req.method(),
                req.uri().path()
            ),
        ),
    )
        .into_response()
}

async fn version() -> Reply {
    Reply::ok(json!({"fedflow": env!("CARGO_PKG_VERSION"), "FATE": "1.11.4", "API": "v1"}))
}

async fn openapi() -> Json<Value> {
    Json(serde_json::from_str(include_str!("openapi.json")).unwrap_or(Value::Null))
}
