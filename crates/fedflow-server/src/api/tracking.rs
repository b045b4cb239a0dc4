//! `/v1/tracking/*`: metrics, parameters, output data and models of a task.

use super::{blocking, body_json, field, opt_field, retcode, Reply, R};
use crate::state::App;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use fedflow_core::{Party, Role};
use fedflow_flow::JobConf;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/tracking/component/metrics", post(metrics))
        .route("/v1/tracking/component/metric/all", post(metric_all))
        .route("/v1/tracking/component/metric_data", post(metric_data))
        .route("/v1/tracking/component/parameters", post(parameters))
        .route("/v1/tracking/component/output/data", post(output_data))
        .route(
            "/v1/tracking/component/output/data/table",
            post(output_table),
        )
        .route("/v1/tracking/component/output/model", post(output_model))
        .route("/v1/tracking/component/list", post(component_list))
        .route("/v1/tracking/component/summary/download", post(summary))
}

struct Target {
    job_id: String,
    component: String,
    party: Party,
}

fn target(v: &Value) -> Result<Target, Reply> {
    let role: Role = field(v, "role")?
        .parse()
        .map_err(|e| Reply::err(retcode::ARGUMENT, format!("role: {e}")))?;
    let pid = opt_field(v, "party_id")
        .ok_or_else(|| Reply::err(retcode::ARGUMENT, "required argument 'party_id' is missing"))?;
    Ok(Target {
        job_id: field(v, "job_id")?.to_string(),
        component: field(v, "component_name")?.to_string(),
        party: Party::new(
            role,
            pid.parse().map_err(|_| {
                Reply::err(
                    retcode::ARGUMENT,
                    format!("party_id: '{pid}' is not a party id"),
                )
            })?,
        ),
    })
}

fn ex(e: impl std::fmt::Display) -> Reply {
    Reply::err(retcode::EXCEPTION, e.to_string())
}

async fn metrics(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let t = target(&v)?;
        let ms = app
            .store
            .metrics(&t.job_id, &t.component, t.party)
            .map_err(ex)?;
        let mut by_ns = serde_json::Map::new();
        for m in ms {
            if let Some(a) = by_ns
                .entry(m.namespace)
                .or_insert_with(|| json!([]))
                .as_array_mut()
            {
                a.push(json!(m.name));
            }
        }
        Ok(Reply::ok(Value::Object(by_ns)))
    })
    .await
}

async fn metric_all(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let t = target(&v)?;
        let ms = app
            .store
            .metrics(&t.job_id, &t.component, t.party)
            .map_err(ex)?;
        let mut out = serde_json::Map::new();
        for m in ms {
            let entry = out.entry(m.namespace.clone()).or_insert_with(|| json!({}));
            entry[&m.name] =
                json!({"data": m.points, "meta": {"metric_type": m.metric_type, "name": m.name}});
        }
        Ok(Reply::ok(Value::Object(out)))
    })
    .await
}

async fn metric_data(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let t = target(&v)?;
        let ns = field(&v, "metric_namespace")?.to_string();
        let name = field(&v, "metric_name")?.to_string();
        let ms = app
            .store
            .metrics(&t.job_id, &t.component, t.party)
            .map_err(ex)?;
        let m = ms
            .into_iter()
            .find(|m| m.namespace == ns && m.name == name)
            .ok_or_else(|| {
                Reply::err(
                    retcode::DATA,
                    format!("no metric {ns}.{name} for {} {}", t.component, t.party),
                )
            })?;
        let mut r = Reply::ok(json!(m.points));
        r = r.msg("success");
        Ok(with_meta(
            r,
            json!({"metric_type": m.metric_type, "name": m.name, "namespace": m.namespace}),
        ))
    })
    .await
}

fn with_meta(r: Reply, meta: Value) -> Reply {
    // FATE puts metric meta beside data; our envelope carries it inside data.
    r.map_data(|data| json!({"data": data, "meta": meta}))
}

async fn parameters(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let t = target(&v)?;
        let j = app
            .store
            .job(&t.job_id, t.party)
            .map_err(ex)?
            .ok_or_else(|| {
                Reply::err(
                    retcode::DATA,
                    format!("no job {} for {}", t.job_id, t.party),
                )
            })?;
        let conf = JobConf::parse(&j.runtime_conf).map_err(ex)?;
        let idx = conf.index_of(t.party).unwrap_or(0);
        let module = j
            .dsl
            .pointer(&format!("/components/{}/module", t.component))
            .cloned()
            .unwrap_or(Value::Null);
        Ok(Reply::ok(json!({
            "module": module,
            "ComponentParam": conf.component_parameters(&t.component, t.party.role, idx),
        })))
    })
    .await
}

async fn output_data(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let t = target(&v)?;
        let limit = v.get("limit").and_then(Value::as_u64).unwrap_or(100).min(1000) as usize;
        let outs = app.store.outputs(&t.job_id, &t.component, t.party).map_err(ex)?;
        let mut data = Vec::new();
        let mut meta = Vec::new();
        for (ns, name) in &outs {
            let m = fedflow_storage::require_table(app.storage.meta.as_ref(), ns, name).map_err(ex)?;
            let blocks = fedflow_storage::upload::read_checked(&m, app.storage.storage.as_ref()).map_err(ex)?;
            let rows: Vec<Value> = blocks
                .iter()
                .flat_map(|b| b.iter())
                .take(limit)
                .map(|(k, v)| {
                    let mut row = vec![json!(fedflow_components::preview_value(k))];
                    row.extend(fedflow_components::preview_value(v).split(',').map(|s| json!(s)));
                    Value::Array(row)
                })
                .collect();
            let mut header = vec![if m.schema.sid.is_empty() { "id".to_string() } else { m.schema.sid.clone() }];
            header.extend(m.schema.header.split(',').filter(|s| !s.is_empty()).map(str::to_string));
            data.push(Value::Array(rows));
            meta.push(json!({"header": header, "total": m.count, "table": {"namespace": ns, "name": name}}));
        }
        if outs.is_empty() {
            return Err(Reply::err(retcode::DATA, format!("{} {} has no output data", t.component, t.party)));
        }
        Ok(Reply::ok(json!({"data": data, "meta": meta})))
    })
    .await
}

async fn output_table(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let t = target(&v)?;
        let outs = app
            .store
            .outputs(&t.job_id, &t.component, t.party)
            .map_err(ex)?;
        Ok(Reply::ok(Value::Array(
            outs.iter()
                .enumerate()
                .map(|(i, (ns, n))| json!({"data_name": i, "table_namespace": ns, "table_name": n}))
                .collect(),
        )))
    })
    .await
}

async fn output_model(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let t = target(&v)?;
        let j = app
            .store
            .job(&t.job_id, t.party)
            .map_err(ex)?
            .ok_or_else(|| Reply::err(retcode::DATA, format!("no job {}", t.job_id)))?;
        let id = j.model_id.unwrap_or_default();
        let m = app
            .models
            .load(&id, &t.job_id, t.party, &t.component)
            .map_err(ex)?
            .ok_or_else(|| {
                Reply::err(
                    retcode::DATA,
                    format!("{} {} has no model", t.component, t.party),
                )
            })?;
        Ok(Reply::ok(
            json!({"data": m.param, "meta": {"meta_data": m.meta, "module_name": m.module}}),
        ))
    })
    .await
}

async fn component_list(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let job_id = field(&v, "job_id")?.to_string();
        let jobs = app
            .store
            .jobs(Some(&job_id), None, None, Some(1))
            .map_err(ex)?;
        let j = jobs
            .first()
            .ok_or_else(|| Reply::err(retcode::DATA, format!("no job {job_id}")))?;
        let names: Vec<Value> = j
            .dsl
            .get("components")
            .and_then(Value::as_object)
            .map(|c| c.keys().map(|k| json!({"component_name": k})).collect())
            .unwrap_or_default();
        Ok(Reply::ok(json!({"components": names})))
    })
    .await
}

async fn summary(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let t = target(&v)?;
        let task = app
            .store
            .task(&t.job_id, &t.component, t.party)
            .map_err(ex)?
            .ok_or_else(|| Reply::err(retcode::DATA, "no such task"))?;
        Ok(Reply::ok(task.summary.unwrap_or(Value::Null)))
    })
    .await
}
