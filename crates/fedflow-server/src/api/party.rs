//! `/v1/party/*`: the control plane the initiator's scheduler calls on each
//! party's server (create a job, start / collect / stop a task, set the
//! party's job state), as FATE Flow's federated scheduling routes.

use super::{blocking, body_json, retcode, Reply, R};
use crate::party::{CreateJob, TaskAddr};
use crate::state::App;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::post;
use axum::Router;
use fedflow_core::{Party, Role};
use serde_json::json;
use std::sync::Arc;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/party/{job_id}/{role}/{party_id}/create", post(create))
        .route(
            "/v1/party/{job_id}/{role}/{party_id}/status/{status}",
            post(job_status),
        )
        .route(
            "/v1/party/{job_id}/{component}/{version}/{role}/{party_id}/start",
            post(start),
        )
        .route(
            "/v1/party/{job_id}/{component}/{version}/{role}/{party_id}/collect",
            post(collect),
        )
        .route(
            "/v1/party/{job_id}/{component}/{version}/{role}/{party_id}/stop/{status}",
            post(stop),
        )
}

fn party(role: &str, pid: u64) -> Result<Party, Reply> {
    Ok(Party::new(
        role.parse::<Role>()
            .map_err(|e| Reply::err(retcode::ARGUMENT, e.to_string()))?,
        pid,
    ))
}

/// Checks the names of a party route's path (they become log and mailbox
/// paths) against [`fedflow_core::names`].
fn names(pairs: &[(&str, &str)]) -> Result<(), Reply> {
    for (f, v) in pairs {
        fedflow_core::names::check(f, v)
            .map_err(|e| Reply::err(retcode::ARGUMENT, e.to_string()))?;
    }
    Ok(())
}

fn fed(e: String) -> Reply {
    Reply::err(retcode::FEDERATED, e)
}

async fn create(
    State(app): State<Arc<App>>,
    Path((job_id, role, pid)): Path<(String, String, u64)>,
    body: Bytes,
) -> R {
    names(&[("job_id", &job_id)])?;
    let v = body_json(&body)?;
    blocking(move || {
        let req: CreateJob =
            serde_json::from_value(v).map_err(|e| Reply::err(retcode::ARGUMENT, e.to_string()))?;
        if req.job_id != job_id || req.party != party(&role, pid)? {
            return Err(Reply::err(retcode::ARGUMENT, "path and body disagree"));
        }
        app.party_create_job(&req).map_err(fed)?;
        Ok(Reply::ok(json!({})))
    })
    .await
}

async fn job_status(
    State(app): State<Arc<App>>,
    Path((job_id, role, pid, status)): Path<(String, String, u64, String)>,
    body: Bytes,
) -> R {
    names(&[("job_id", &job_id), ("status", &status)])?;
    let v = body_json(&body)?;
    blocking(move || {
        let error = v.get("error").and_then(|e| e.as_str()).map(str::to_string);
        app.party_job_status(&job_id, party(&role, pid)?, &status, error.as_deref())
            .map_err(fed)?;
        Ok(Reply::ok(json!({})))
    })
    .await
}

fn addr(
    job_id: String,
    component: String,
    version: i64,
    role: &str,
    pid: u64,
) -> Result<TaskAddr, Reply> {
    names(&[("job_id", &job_id), ("component_name", &component)])?;
    Ok(TaskAddr {
        job_id,
        component,
        task_version: version,
        party: party(role, pid)?,
    })
}

async fn start(
    State(app): State<Arc<App>>,
    Path((job_id, component, version, role, pid)): Path<(String, String, i64, String, u64)>,
    body: Bytes,
) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let module = v
            .get("module")
            .and_then(|m| m.as_str())
            .unwrap_or_default()
            .to_string();
        app.party_start_task(&addr(job_id, component, version, &role, pid)?, &module)
            .map_err(fed)?;
        Ok(Reply::ok(json!({})))
    })
    .await
}

async fn collect(
    State(app): State<Arc<App>>,
    Path((job_id, component, version, role, pid)): Path<(String, String, i64, String, u64)>,
) -> R {
    blocking(move || {
        let rec = app
            .party_collect(&addr(job_id, component, version, &role, pid)?)
            .map_err(fed)?;
        Ok(Reply::ok(serde_json::to_value(rec).map_err(|e| {
            Reply::err(retcode::EXCEPTION, e.to_string())
        })?))
    })
    .await
}

async fn stop(
    State(app): State<Arc<App>>,
    Path((job_id, component, version, role, pid, status)): Path<(
        String,
        String,
        i64,
        String,
        u64,
        String,
    )>,
) -> R {
    blocking(move || {
        app.party_stop_task(&addr(job_id, component, version, &role, pid)?, &status)
            .map_err(fed)?;
        Ok(Reply::ok(json!({})))
    })
    .await
}
