//! The board: FATE Board's pages for this party's server, served at `/` with
//! every asset embedded in the binary (hand-written HTML, CSS and JavaScript
//! with inline SVG charts; nothing is fetched from elsewhere at run time).
//!
//! The pages read FATE Flow's REST API v1 (`/v1/job/list/job`,
//! `/v1/job/query`, `/v1/tracking/…`) plus two board endpoints:
//!
//! * `GET /board/api/log?job_id=&role=&party_id=&component=&offset=` — a
//!   task's `INFO.log` from byte `offset` (at most 256 KiB per call), for the
//!   live tail: `{retcode, data: {text, offset, size}}` where `offset` is where
//!   the next call starts.
//! * `GET /board/api/jobs?limit=&page=&status=&q=` — `job/list/job`'s reply
//!   filtered by status and job id substring (the list API has no filters).
//! * `POST /board/api/login` `{app_key, secret_key}` — on a server with keys,
//!   a same-origin session cookie; the board's calls carry it and the
//!   `X-Fedflow-Board` header instead of a signature (the page asks for the
//!   key pair when a call answers retcode 109).

use crate::api::{retcode, Reply};
use crate::state::App;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

const INDEX_HTML: &str = include_str!("index.html");
const APP_JS: &str = include_str!("app.js");
const APP_CSS: &str = include_str!("app.css");

/// Most bytes of log one call returns.
const LOG_CHUNK: u64 = 256 * 1024;

/// The board's routes: the page, its assets and the board API.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(index))
        .route("/board", get(index))
        .route("/board/", get(index))
        .route("/board/app.js", get(app_js))
        .route("/board/app.css", get(app_css))
        .route("/board/api/log", get(log))
        .route("/board/api/jobs", get(jobs))
        .route("/board/api/login", axum::routing::post(login))
}

#[derive(Deserialize)]
struct Login {
    app_key: String,
    secret_key: String,
}

/// `POST /board/api/login` `{app_key, secret_key}`: on a signing server, a
/// session cookie that stands in for the signature on the board's calls
/// (which also carry `X-Fedflow-Board`, see [`crate::api::auth`]); the
/// browser never holds the secret after this call.
async fn login(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    if app.config.keys().is_none() {
        return Reply::ok(json!({"signing": false})).into_response();
    }
    let Ok(l) = serde_json::from_slice::<Login>(&body) else {
        return Reply::err(retcode::ARGUMENT, "expected {\"app_key\", \"secret_key\"}")
            .into_response();
    };
    match crate::api::auth::board_login(&app, &l.app_key, &l.secret_key) {
        Some(cookie) => (
            [(header::SET_COOKIE, cookie)],
            Reply::ok(json!({"signing": true})),
        )
            .into_response(),
        None => {
            // Slows guessing down.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            Reply::err(retcode::AUTHENTICATION, "wrong app_key or secret_key").into_response()
        }
    }
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

async fn app_css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}

#[derive(Deserialize)]
struct LogQuery {
    job_id: String,
    role: String,
    party_id: u64,
    component: String,
    #[serde(default)]
    offset: u64,
}

/// A path segment that cannot climb out of the log directory.
fn safe(seg: &str) -> bool {
    !seg.is_empty() && seg != "." && seg != ".." && !seg.contains(['/', '\\', '\0'])
}

async fn log(State(app): State<Arc<App>>, q: Result<Query<LogQuery>, QueryRejection>) -> Reply {
    let q = match q {
        Ok(Query(q)) => q,
        Err(e) => {
            return Reply::err(
                retcode::ARGUMENT,
                format!("expected job_id, role, party_id, component and optional offset: {e}"),
            )
        }
    };
    if ![&q.job_id, &q.role, &q.component].iter().all(|s| safe(s)) {
        return Reply::err(retcode::ARGUMENT, "bad job_id, role or component");
    }
    let path = match app.task_log_dir(&q.job_id, &q.role, q.party_id, &q.component) {
        Ok(d) => d.join("INFO.log"),
        Err(e) => return Reply::err(retcode::ARGUMENT, e.to_string()),
    };
    let r = tokio::task::spawn_blocking(move || read_from(&path, q.offset)).await;
    match r {
        Ok(Ok(Some((text, offset, size)))) => {
            Reply::ok(json!({"text": text, "offset": offset, "size": size}))
        }
        Ok(Ok(None)) => Reply::ok(json!({"text": "", "offset": 0, "size": 0, "missing": true})),
        Ok(Err(e)) => Reply::err(retcode::EXCEPTION, format!("reading the log: {e}")),
        Err(e) => Reply::err(retcode::EXCEPTION, format!("internal error: {e}")),
    }
}

/// The text from `offset` (whole UTF-8 characters only), the next offset and
/// the file's size; `None` when the file does not exist (yet).
fn read_from(path: &std::path::Path, offset: u64) -> std::io::Result<Option<(String, u64, u64)>> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let size = f.metadata()?.len();
    // A log that shrank (rotated, rerun) restarts from the beginning.
    let start = if offset > size { 0 } else { offset };
    f.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::new();
    f.take(LOG_CHUNK).read_to_end(&mut buf)?;
    // Stop before a partly written character; the next call picks it up.
    let mut end = buf.len();
    if let Err(e) = std::str::from_utf8(&buf) {
        if e.error_len().is_none() {
            end = e.valid_up_to();
        }
    }
    let text = String::from_utf8_lossy(&buf[..end]).into_owned();
    Ok(Some((text, start + end as u64, size)))
}

async fn jobs(State(app): State<Arc<App>>, Query(q): Query<HashMap<String, String>>) -> Reply {
    let num = |k: &str, d: usize| q.get(k).and_then(|v| v.parse::<usize>().ok()).unwrap_or(d);
    let limit = num("limit", 20).clamp(1, 1000);
    let page = num("page", 1).max(1);
    let status = q.get("status").filter(|s| !s.is_empty()).cloned();
    let needle = q
        .get("q")
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    let r = tokio::task::spawn_blocking(move || {
        let all = app.store.jobs(None, None, status.as_deref(), None)?;
        let mut ids: Vec<(i64, String)> = Vec::new();
        let mut by_id: HashMap<String, Vec<Value>> = HashMap::new();
        for j in all {
            if let Some(n) = &needle {
                if !j.job_id.to_lowercase().contains(n) {
                    continue;
                }
            }
            let v = row(&j);
            let e = by_id.entry(j.job_id.clone()).or_default();
            if e.is_empty() {
                ids.push((j.create_time, j.job_id.clone()));
            }
            e.push(v);
        }
        ids.sort_by(|a, b| b.cmp(a));
        let count = ids.len();
        let jobs: Vec<Value> = ids
            .iter()
            .skip((page - 1) * limit)
            .take(limit)
            .flat_map(|(_, id)| by_id.remove(id).unwrap_or_default())
            .collect();
        Ok::<_, fedflow_storage::StorageError>(json!({"jobs": jobs, "count": count}))
    })
    .await;
    match r {
        Ok(Ok(v)) => Reply::ok(v),
        Ok(Err(e)) => Reply::err(retcode::EXCEPTION, e.to_string()),
        Err(e) => Reply::err(retcode::EXCEPTION, format!("internal error: {e}")),
    }
}

/// A job row with `job/list/job`'s fields (without the DSL and conf).
fn row(j: &fedflow_flow::store::JobRecord) -> Value {
    let elapsed = match (j.start_time, j.end_time) {
        (Some(s), Some(e)) => json!(e - s),
        (Some(s), None) => json!(fedflow_flow::store::now_ms() - s),
        _ => Value::Null,
    };
    json!({
        "f_job_id": j.job_id, "f_role": j.party.role, "f_party_id": j.party.party_id.to_string(),
        "f_status": j.status, "f_progress": j.progress, "f_job_type": j.job_type,
        "f_initiator_role": j.initiator.role, "f_initiator_party_id": j.initiator.party_id.to_string(),
        "f_is_initiator": j.is_initiator, "f_create_time": j.create_time, "f_start_time": j.start_time,
        "f_end_time": j.end_time, "f_elapsed": elapsed, "f_error": j.error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_reads_from_offset_and_stops_before_partial_characters() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("INFO.log");
        assert!(read_from(&p, 0).unwrap().is_none());
        std::fs::write(&p, "abc\n").unwrap();
        assert_eq!(read_from(&p, 0).unwrap().unwrap(), ("abc\n".into(), 4, 4));
        assert_eq!(read_from(&p, 2).unwrap().unwrap(), ("c\n".into(), 4, 4));
        assert_eq!(read_from(&p, 9).unwrap().unwrap(), ("abc\n".into(), 4, 4));
        let mut bytes = b"x".to_vec();
        bytes.extend_from_slice(&"é".as_bytes()[..1]);
        std::fs::write(&p, &bytes).unwrap();
        assert_eq!(read_from(&p, 0).unwrap().unwrap(), ("x".into(), 1, 2));
        assert!(!safe("..") && !safe("a/b") && safe("guest"));
    }
}
