//! FATE Flow's REST API v1: `POST /v1/{page}/{action}` with JSON bodies and
//! `{retcode, retmsg, data, jobId}` replies, plus the party control plane
//! (`/v1/party/…`) and `GET /openapi.json`.

mod data;
mod job;
mod model;
mod party;
mod tracking;

use crate::state::App;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
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
        .layer(axum::middleware::from_fn_with_state(app.clone(), signature))
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

/// fate-client's optional HMAC-SHA1 request signing: when the server has an
/// app_key/secret_key, every public request must carry TIMESTAMP, NONCE,
/// APP_KEY and SIGNATURE = base64(HMAC-SHA1(secret, timestamp \n nonce \n
/// app_key \n path?query \n json body \n form body)), within 60 s. The party
/// control plane is not signed this way.
async fn signature(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let (Some(key), Some(secret)) = (app.config.app_key.clone(), app.config.secret_key.clone())
    else {
        return next.run(req).await;
    };
    if req.uri().path().starts_with("/v1/party/") || req.uri().path() == "/openapi.json" {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let h = |n: &str| {
        parts
            .headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (Some(ts), Some(nonce), Some(app_key), Some(sig)) =
        (h("TIMESTAMP"), h("NONCE"), h("APP_KEY"), h("SIGNATURE"))
    else {
        return Reply::err(
            retcode::AUTHENTICATION,
            "this server requires signed requests (TIMESTAMP, NONCE, APP_KEY, SIGNATURE)",
        )
        .into_response();
    };
    if app_key != key {
        return Reply::err(retcode::AUTHENTICATION, "unknown APP_KEY").into_response();
    }
    let now = fedflow_flow::store::now_ms();
    if ts
        .parse::<i64>()
        .map(|t| (now - t).abs() > 60_000)
        .unwrap_or(true)
    {
        return Reply::err(
            retcode::AUTHENTICATION,
            "TIMESTAMP is missing or more than 60 s off",
        )
        .into_response();
    }
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            return Reply::err(retcode::ARGUMENT, format!("reading the body: {e}")).into_response()
        }
    };
    let is_json = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    let is_form = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let path_url = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let mut msg = Vec::new();
    for (i, part) in [
        ts.as_bytes(),
        nonce.as_bytes(),
        app_key.as_bytes(),
        path_url.as_bytes(),
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            msg.push(b'\n');
        }
        msg.extend_from_slice(part);
    }
    msg.push(b'\n');
    if is_json {
        msg.extend_from_slice(&bytes);
    }
    msg.push(b'\n');
    if is_form {
        // fate-client signs sorted, percent-encoded form fields.
        let mut pairs: Vec<(String, String)> = form_pairs(&bytes);
        pairs.sort();
        let enc = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", quote(k), quote(v)))
            .collect::<Vec<_>>()
            .join("&");
        msg.extend_from_slice(enc.as_bytes());
    }
    use hmac::Mac;
    let Ok(mut mac) = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()) else {
        return Reply::err(retcode::EXCEPTION, "bad secret key").into_response();
    };
    mac.update(&msg);
    use base64::Engine;
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    if expected != sig {
        return Reply::err(retcode::AUTHENTICATION, "SIGNATURE does not match").into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let s = String::from_utf8_lossy(body);
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let d = |x: &str| {
                percent_encoding::percent_decode_str(&x.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (d(k), d(v))
        })
        .collect()
}

fn quote(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}
