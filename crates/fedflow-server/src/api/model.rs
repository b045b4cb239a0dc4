//! `/v1/model/*`: deploy, load, query, predict DSL and conf.

use super::{blocking, body_json, field, opt_field, retcode, Reply, R};
use crate::state::App;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use fedflow_flow::store::{now_ms, ModelRecord};
use serde_json::{json, Value};
use std::sync::Arc;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/model/deploy", post(deploy))
        .route("/v1/model/load", post(load))
        .route("/v1/model/query", post(query))
        .route("/v1/model/get/predict/dsl", post(predict_dsl))
        .route("/v1/model/get/predict/conf", post(predict_conf))
}

fn ex(e: impl std::fmt::Display) -> Reply {
    Reply::err(retcode::EXCEPTION, e.to_string())
}

/// The parties' model records of a version (from the training job's rows).
fn records(app: &App, model_id: &str, version: &str) -> Result<Vec<ModelRecord>, Reply> {
    let existing = app
        .store
        .models(Some(model_id), Some(version), None)
        .map_err(ex)?;
    if !existing.is_empty() {
        return Ok(existing);
    }
    // A training job's models are indexed on first use.
    let jobs = app
        .store
        .jobs(Some(version), None, None, None)
        .map_err(ex)?;
    let mut out = Vec::new();
    for j in jobs
        .into_iter()
        .filter(|j| j.model_id.as_deref() == Some(model_id))
    {
        if j.status != fedflow_flow::store::status::SUCCESS {
            return Err(Reply::err(
                retcode::OPERATING,
                format!("training job {version} is {}, not success", j.status),
            ));
        }
        let r = ModelRecord {
            model_id: model_id.to_string(),
            model_version: version.to_string(),
            party: j.party,
            job_id: j.job_id.clone(),
            dsl: j.dsl.clone(),
            runtime_conf: j.runtime_conf.clone(),
            deployed: false,
            parent_version: None,
            create_time: j.create_time,
        };
        app.store.put_model(&r).map_err(ex)?;
        out.push(r);
    }
    if out.is_empty() {
        return Err(Reply::err(
            retcode::DATA,
            format!("no model {model_id} version {version}"),
        ));
    }
    Ok(out)
}

async fn deploy(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let model_id = field(&v, "model_id")?.to_string();
        let version = field(&v, "model_version")?.to_string();
        let cpn_list: Option<Vec<String>> = match v.get("cpn_list") {
            Some(Value::Array(a)) => Some(a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()),
            Some(Value::String(s)) => Some(s.split(',').map(|x| x.trim().to_string()).collect()),
            _ => None,
        };
        let recs = records(&app, &model_id, &version)?;
        let new_version = fedflow_flow::new_job_id();
        let train_dsl = recs[0].dsl.clone();
        let predict = super::job::predict_dsl(&train_dsl, cpn_list.as_deref()).map_err(|e| Reply::err(retcode::ARGUMENT, e))?;
        let cpns: Vec<String> = predict["components"].as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        for r in &recs {
            for c in &cpns {
                if let Some(m) = app.models.load(&model_id, &version, r.party, c).map_err(ex)? {
                    app.models.save(&model_id, &new_version, r.party, c, &m).map_err(ex)?;
                }
            }
            app.store
                .put_model(&ModelRecord {
                    model_version: new_version.clone(),
                    dsl: predict.clone(),
                    deployed: true,
                    parent_version: Some(version.clone()),
                    create_time: now_ms(),
                    ..r.clone()
                })
                .map_err(ex)?;
        }
        Ok(Reply::ok(json!({"model_id": model_id, "model_version": new_version, "parent_version": version, "components": cpns}))
            .msg("deploy model success"))
    })
    .await
}

async fn load(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let model_id = field(&v, "model_id")?.to_string();
        let version = field(&v, "model_version")?.to_string();
        let recs = records(&app, &model_id, &version)?;
        Ok(Reply::ok(json!({"model_id": model_id, "model_version": version, "parties": recs.iter().map(|r| r.party.to_string()).collect::<Vec<_>>(),
            "detail": "model is available to predict jobs; fedflow has no FATE-Serving attached"}))
        .msg("load model success"))
    })
    .await
}

async fn query(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let model_id = opt_field(&v, "model_id");
        let version = opt_field(&v, "model_version");
        if let (Some(m), Some(ver)) = (&model_id, &version) {
            let _ = records(&app, m, ver);
        }
        let recs = app.store.models(model_id.as_deref(), version.as_deref(), None).map_err(ex)?;
        if recs.is_empty() {
            return Err(Reply::err(retcode::DATA, "no model found"));
        }
        Ok(Reply::ok(Value::Array(
            recs.iter()
                .map(|r| {
                    json!({"f_model_id": r.model_id, "f_model_version": r.model_version, "f_role": r.party.role,
                        "f_party_id": r.party.party_id.to_string(), "f_job_id": r.job_id, "f_deployed": r.deployed,
                        "f_parent_version": r.parent_version, "f_create_time": r.create_time})
                })
                .collect(),
        )))
    })
    .await
}

async fn predict_dsl(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let model_id = field(&v, "model_id")?.to_string();
        let version = field(&v, "model_version")?.to_string();
        let recs = records(&app, &model_id, &version)?;
        let r = &recs[0];
        if r.deployed {
            return Ok(Reply::ok(r.dsl.clone()));
        }
        super::job::predict_dsl(&r.dsl, None)
            .map(Reply::ok)
            .map_err(|e| Reply::err(retcode::ARGUMENT, e))
    })
    .await
}

async fn predict_conf(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let model_id = field(&v, "model_id")?.to_string();
        let version = field(&v, "model_version")?.to_string();
        let recs = records(&app, &model_id, &version)?;
        let conf = &recs[0].runtime_conf;
        Ok(Reply::ok(json!({
            "dsl_version": 2,
            "initiator": conf.get("initiator"),
            "role": conf.get("role"),
            "job_parameters": {"common": {"job_type": "predict", "model_id": model_id, "model_version": version}},
            "component_parameters": {"role": conf.pointer("/component_parameters/role").cloned().unwrap_or(json!({}))},
        })))
    })
    .await
}
