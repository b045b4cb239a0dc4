//! `/v1/job/*`.

use super::{blocking, body_json, field, opt_field, retcode, Reply, R};
use crate::scheduler;
use crate::state::App;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use fedflow_core::{Party, Role};
use fedflow_flow::store::{status, JobRecord, TaskRecord};
use serde_json::{json, Value};
use std::sync::Arc;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/job/submit", post(submit))
        .route("/v1/job/query", post(query))
        .route("/v1/job/list/job", post(list_job))
        .route("/v1/job/list/task", post(list_task))
        .route("/v1/job/task/query", post(task_query))
        .route("/v1/job/stop", post(stop))
        .route("/v1/job/rerun", post(rerun))
        .route("/v1/job/config", post(config))
        .route("/v1/job/log/download", post(log_download))
        .route("/v1/job/dsl/generate", post(dsl_generate))
}

/// A job row as FATE Flow prints it.
pub fn job_json(j: &JobRecord) -> Value {
    let roles = j.runtime_conf.get("role").cloned().unwrap_or(Value::Null);
    let elapsed = match (j.start_time, j.end_time) {
        (Some(s), Some(e)) => json!(e - s),
        (Some(s), None) => json!(fedflow_flow::store::now_ms() - s),
        _ => Value::Null,
    };
    json!({
        "f_job_id": j.job_id, "f_role": j.party.role, "f_party_id": j.party.party_id.to_string(),
        "f_status": j.status, "f_progress": j.progress, "f_job_type": j.job_type,
        "f_initiator_role": j.initiator.role, "f_initiator_party_id": j.initiator.party_id.to_string(),
        "f_is_initiator": j.is_initiator, "f_runtime_conf": j.runtime_conf, "f_dsl": j.dsl,
        "f_train_runtime_conf": {}, "f_roles": roles, "f_model_id": j.model_id, "f_model_version": j.model_version,
        "f_create_time": j.create_time, "f_start_time": j.start_time, "f_end_time": j.end_time,
        "f_elapsed": elapsed, "f_error": j.error, "f_description": "", "f_tag": "", "f_cancel_signal": false,
        "f_engine_name": "standalone",
    })
}

/// A task row as FATE Flow prints it.
pub fn task_json(t: &TaskRecord) -> Value {
    let elapsed = match (t.start_time, t.end_time) {
        (Some(s), Some(e)) => json!(e - s),
        _ => Value::Null,
    };
    json!({
        "f_job_id": t.job_id, "f_component_name": t.component, "f_component_module": t.module,
        "f_task_id": t.task_id, "f_task_version": t.task_version, "f_role": t.party.role,
        "f_party_id": t.party.party_id.to_string(), "f_status": t.status, "f_party_status": t.status,
        "f_run_pid": t.pid, "f_create_time": t.create_time, "f_start_time": t.start_time, "f_end_time": t.end_time,
        "f_elapsed": elapsed, "f_summary": t.summary, "f_error": t.error,
    })
}

fn party_filter(v: &Value) -> Result<Option<Party>, Reply> {
    match (opt_field(v, "role"), opt_field(v, "party_id")) {
        (Some(r), Some(p)) => Ok(Some(Party::new(
            r.parse::<Role>()
                .map_err(|e| Reply::err(retcode::ARGUMENT, format!("role: {e}")))?,
            p.parse().map_err(|_| {
                Reply::err(
                    retcode::ARGUMENT,
                    format!("party_id: '{p}' is not a party id"),
                )
            })?,
        ))),
        _ => Ok(None),
    }
}

async fn submit(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    let dsl = v.get("job_dsl").cloned().unwrap_or_else(|| json!({}));
    let conf = v.get("job_runtime_conf").cloned().ok_or_else(|| {
        Reply::err(
            retcode::ARGUMENT,
            "required argument 'job_runtime_conf' is missing",
        )
    })?;
    blocking(move || {
        let s = scheduler::submit(&app, dsl.clone(), conf).map_err(|e| Reply::err(retcode::ARGUMENT, e))?;
        let logs = app.job_log_dir(&s.job_id).map_err(|e| Reply::err(retcode::ARGUMENT, e.to_string()))?;
        Ok(Reply::ok(json!({
            "job_id": s.job_id,
            "model_info": {"model_id": s.model_id, "model_version": s.model_version},
            "logs_directory": logs.display().to_string(),
            "board_url": format!("http://{}/#/job/{}", app.config.listen, s.job_id),
            "code": 0, "message": "success",
            "dsl_path": logs.join("job_dsl.json").display().to_string(),
            "runtime_conf_path": logs.join("job_runtime_conf.json").display().to_string(),
            "runtime_conf_on_party_path": logs.join("job_runtime_on_party_conf.json").display().to_string(),
            "pipeline_dsl_path": logs.join("pipeline_dsl.json").display().to_string(),
            "train_runtime_conf_path": logs.join("train_runtime_conf.json").display().to_string(),
        }))
        .job(&s.job_id))
    })
    .await
}

async fn query(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let job_id = opt_field(&v, "job_id");
        let party = party_filter(&v)?;
        let st = opt_field(&v, "status");
        let jobs = app
            .store
            .jobs(job_id.as_deref(), party, st.as_deref(), Some(1000))
            .map_err(|e| Reply::err(retcode::EXCEPTION, e.to_string()))?;
        if jobs.is_empty() {
            return Err(Reply::err(
                retcode::DATA,
                format!(
                    "no job found{}",
                    job_id.map(|j| format!(" with id {j}")).unwrap_or_default()
                ),
            ));
        }
        Ok(Reply::ok(Value::Array(jobs.iter().map(job_json).collect())))
    })
    .await
}

async fn list_job(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let limit = v
            .get("limit")
            .and_then(Value::as_u64)
            .unwrap_or(10)
            .min(1000) as usize;
        let page = v.get("page").and_then(Value::as_u64).unwrap_or(1).max(1) as usize;
        let ids = app
            .store
            .job_ids((page - 1) * limit, limit)
            .map_err(|e| Reply::err(retcode::EXCEPTION, e.to_string()))?;
        let mut jobs = Vec::new();
        for id in &ids {
            for j in app
                .store
                .jobs(Some(id), None, None, None)
                .map_err(|e| Reply::err(retcode::EXCEPTION, e.to_string()))?
            {
                let mut jv = job_json(&j);
                if let Some(o) = jv.as_object_mut() {
                    o.remove("f_runtime_conf");
                    o.remove("f_dsl");
                }
                jobs.push(jv);
            }
        }
        let total: usize = app
            .store
            .db()
            .query("SELECT COUNT(DISTINCT f_job_id) FROM t_job", &[])
            .ok()
            .and_then(|r| r.first().and_then(|r| r.i64(0).ok()))
            .unwrap_or(0) as usize;
        Ok(Reply::ok(json!({"jobs": jobs, "count": total})))
    })
    .await
}

async fn task_query(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let job_id = field(&v, "job_id")?.to_string();
        let party = party_filter(&v)?;
        let cpn = opt_field(&v, "component_name");
        let tasks = app
            .store
            .tasks(&job_id, cpn.as_deref(), party)
            .map_err(|e| Reply::err(retcode::EXCEPTION, e.to_string()))?;
        if tasks.is_empty() {
            return Err(Reply::err(
                retcode::DATA,
                format!("no task found for job {job_id}"),
            ));
        }
        Ok(Reply::ok(Value::Array(
            tasks.iter().map(task_json).collect(),
        )))
    })
    .await
}

async fn list_task(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let job_id = field(&v, "job_id")?.to_string();
        let tasks = app
            .store
            .tasks(&job_id, None, None)
            .map_err(|e| Reply::err(retcode::EXCEPTION, e.to_string()))?;
        Ok(Reply::ok(
            json!({"tasks": tasks.iter().map(task_json).collect::<Vec<_>>(), "count": tasks.len()}),
        ))
    })
    .await
}

async fn stop(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let job_id = field(&v, "job_id")?.to_string();
        let end = opt_field(&v, "stop_status").unwrap_or_else(|| status::CANCELED.to_string());
        if end != status::CANCELED && end != status::FAILED {
            return Err(Reply::err(
                retcode::ARGUMENT,
                format!("stop_status: expected canceled or failed, got {end}"),
            ));
        }
        let jobs = app
            .store
            .jobs(Some(&job_id), None, None, None)
            .map_err(|e| Reply::err(retcode::EXCEPTION, e.to_string()))?;
        let Some(init) = jobs.iter().find(|j| j.is_initiator) else {
            return Err(Reply::err(
                retcode::DATA,
                format!("no job {job_id} initiated on this server"),
            ));
        };
        if status::is_terminal(&init.status) {
            return Err(Reply::err(
                retcode::OPERATING,
                format!("job {job_id} already ended ({})", init.status),
            ));
        }
        if app.scheduling.lock().contains(&job_id) {
            app.stopping.lock().insert(job_id.clone(), end.clone());
        } else {
            for j in &jobs {
                let _ = app.store.set_job_status(
                    &job_id,
                    Some(j.party),
                    &end,
                    Some("stopped by a user"),
                );
            }
        }
        Ok(Reply::ok(json!({"job_id": job_id, "status": end}))
            .job(&job_id)
            .msg("stop job success"))
    })
    .await
}

async fn rerun(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let job_id = field(&v, "job_id")?.to_string();
        let jobs = app
            .store
            .jobs(Some(&job_id), None, None, None)
            .map_err(|e| Reply::err(retcode::EXCEPTION, e.to_string()))?;
        let Some(init) = jobs.iter().find(|j| j.is_initiator) else {
            return Err(Reply::err(
                retcode::DATA,
                format!("no job {job_id} initiated on this server"),
            ));
        };
        if !status::is_terminal(&init.status) || app.scheduling.lock().contains(&job_id) {
            return Err(Reply::err(
                retcode::OPERATING,
                format!("job {job_id} is still {}", init.status),
            ));
        }
        if init.status == status::SUCCESS {
            return Err(Reply::err(
                retcode::OPERATING,
                format!("job {job_id} succeeded; nothing to rerun"),
            ));
        }
        for j in &jobs {
            let _ = app
                .store
                .set_job_status(&job_id, Some(j.party), status::WAITING, None);
        }
        scheduler::start_driver(&app, &job_id);
        Ok(Reply::ok(json!({"job_id": job_id}))
            .job(&job_id)
            .msg("rerun job success"))
    })
    .await
}

async fn config(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let job_id = field(&v, "job_id")?.to_string();
        let party = party_filter(&v)?;
        let jobs = app.store.jobs(Some(&job_id), party, None, None).map_err(|e| Reply::err(retcode::EXCEPTION, e.to_string()))?;
        let j = jobs.first().ok_or_else(|| Reply::err(retcode::DATA, format!("no job {job_id}")))?;
        Ok(Reply::ok(json!({
            "job_id": job_id, "dsl": j.dsl, "runtime_conf": j.runtime_conf, "train_runtime_conf": {},
            "model_info": {"model_id": j.model_id, "model_version": j.model_version},
        })))
    })
    .await
}

async fn log_download(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let job_id = match field(&v, "job_id") {
        Ok(j) => j.to_string(),
        Err(r) => return r.into_response(),
    };
    let dir = match app.job_log_dir(&job_id) {
        Ok(d) => d,
        Err(e) => return Reply::err(retcode::ARGUMENT, e.to_string()).into_response(),
    };
    let result = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        if !dir.is_dir() {
            return Err(format!("no logs for job {job_id}"));
        }
        let enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut tar = tar::Builder::new(enc);
        tar.append_dir_all(".", &dir).map_err(|e| e.to_string())?;
        tar.into_inner()
            .and_then(|e| e.finish())
            .map_err(|e| e.to_string())
    })
    .await;
    match result {
        Ok(Ok(bytes)) => (
            [
                ("content-type", "application/octet-stream"),
                ("content-disposition", "attachment; filename=logs.tar.gz"),
            ],
            Body::from(bytes),
        )
            .into_response(),
        Ok(Err(e)) => Reply::err(retcode::DATA, e).into_response(),
        Err(e) => Reply::err(retcode::EXCEPTION, e.to_string()).into_response(),
    }
}

/// The predict DSL of a training DSL: the listed components (default: all
/// but Evaluation), train inputs read as test data, models from the pipeline.
pub fn predict_dsl(train: &Value, cpn_list: Option<&[String]>) -> Result<Value, String> {
    let comps = train
        .get("components")
        .and_then(Value::as_object)
        .ok_or("train DSL has no 'components'")?;
    let mut out = serde_json::Map::new();
    for (name, c) in comps {
        let module = c.get("module").and_then(Value::as_str).unwrap_or_default();
        let keep = match cpn_list {
            Some(list) => list.iter().any(|n| n == name),
            None => module != "Evaluation",
        };
        if !keep {
            continue;
        }
        let mut nc = serde_json::Map::new();
        nc.insert("module".into(), json!(module));
        let mut input = serde_json::Map::new();
        if let Some(data) = c.pointer("/input/data").and_then(Value::as_object) {
            let mut d = serde_json::Map::new();
            for (slot, refs) in data {
                let keep_refs: Vec<Value> = refs
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|r| {
                        r.as_str()
                            .and_then(|s| s.split('.').next())
                            .is_some_and(|u| {
                                comps.contains_key(u)
                                    && (cpn_list.is_none()
                                        || cpn_list.is_some_and(|l| l.iter().any(|n| n == u)))
                            })
                    })
                    .cloned()
                    .collect();
                if slot == "validate_data" || keep_refs.is_empty() {
                    continue;
                }
                let slot = if slot == "train_data" {
                    "test_data"
                } else {
                    slot.as_str()
                };
                d.insert(slot.into(), Value::Array(keep_refs));
            }
            if !d.is_empty() {
                input.insert("data".into(), Value::Object(d));
            }
        }
        if c.pointer("/output/model")
            .and_then(Value::as_array)
            .is_some_and(|m| !m.is_empty())
        {
            input.insert("model".into(), json!([format!("pipeline.{name}.model")]));
        }
        if !input.is_empty() {
            nc.insert("input".into(), Value::Object(input));
        }
        if let Some(data_out) = c.pointer("/output/data") {
            nc.insert("output".into(), json!({"data": data_out}));
        }
        out.insert(name.clone(), Value::Object(nc));
    }
    Ok(json!({"components": out}))
}

async fn dsl_generate(body: Bytes) -> R {
    let v = body_json(&body)?;
    let train = match v.get("train_dsl") {
        Some(Value::String(s)) => serde_json::from_str(s)
            .map_err(|e| Reply::err(retcode::ARGUMENT, format!("train_dsl: {e}")))?,
        Some(v @ Value::Object(_)) => v.clone(),
        _ => {
            return Err(Reply::err(
                retcode::ARGUMENT,
                "required argument 'train_dsl' is missing",
            ))
        }
    };
    let list: Option<Vec<String>> = match v.get("cpn_str") {
        Some(Value::String(s)) => Some(
            s.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect(),
        ),
        Some(Value::Array(a)) => Some(
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
        ),
        _ => None,
    };
    predict_dsl(&train, list.as_deref())
        .map(Reply::ok)
        .map_err(|e| Reply::err(retcode::ARGUMENT, e))
}
