//! `/v1/data/*` and `/v1/table/*`.

use super::{blocking, body_json, field, opt_field, retcode, Reply, R};
use crate::state::App;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::routing::post;
use axum::Router;
use fedflow_core::{Party, Role};
use fedflow_flow::store::{now_ms, status, JobRecord};
use fedflow_storage::meta::TableMeta;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/data/upload", post(upload))
        .route("/v1/data/download", post(download))
        .route("/v1/table/table_info", post(table_info))
        .route("/v1/table/delete", post(table_delete))
        .route("/v1/table/list", post(table_list))
        .route("/v1/table/preview", post(table_preview))
}

/// The upload conf from the query string: fate-client sends the JSON conf as
/// the raw query (`?{"file": …}`); plain `key=value` pairs work too.
fn query_conf(query: Option<&str>) -> Value {
    let Some(q) = query else { return json!({}) };
    let decoded = percent_encoding::percent_decode_str(q)
        .decode_utf8_lossy()
        .into_owned();
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(&decoded) {
        return v;
    }
    let mut m = serde_json::Map::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let d = |x: &str| {
            percent_encoding::percent_decode_str(&x.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        let val = d(v);
        m.insert(
            d(k),
            val.parse::<i64>()
                .map(Value::from)
                .unwrap_or(Value::String(val)),
        );
    }
    Value::Object(m)
}

async fn upload(State(app): State<Arc<App>>, req: Request) -> R {
    let mut conf = query_conf(req.uri().query());
    let is_multipart = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("multipart/form-data"));
    let mut saved: Option<(tempfile::TempDir, PathBuf)> = None;
    if is_multipart {
        let mut mp = Multipart::from_request(req, &())
            .await
            .map_err(|e| Reply::err(retcode::ARGUMENT, format!("multipart body: {e}")))?;
        let tmp_root = app.config.data_dir.join("upload");
        std::fs::create_dir_all(&tmp_root)
            .map_err(|e| Reply::err(retcode::EXCEPTION, e.to_string()))?;
        while let Some(mut f) = mp
            .next_field()
            .await
            .map_err(|e| Reply::err(retcode::ARGUMENT, format!("multipart body: {e}")))?
        {
            if f.name() != Some("file") {
                continue;
            }
            let name = f
                .file_name()
                .map(|n| {
                    Path::new(n)
                        .file_name()
                        .map(|x| x.to_string_lossy().into_owned())
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            let dir = tempfile::tempdir_in(&tmp_root)
                .map_err(|e| Reply::err(retcode::EXCEPTION, e.to_string()))?;
            let path = dir.path().join(if name.is_empty() {
                "upload.csv".to_string()
            } else {
                name
            });
            let mut out = tokio::fs::File::create(&path)
                .await
                .map_err(|e| Reply::err(retcode::EXCEPTION, e.to_string()))?;
            while let Some(chunk) = f.chunk().await.map_err(|e| {
                Reply::err(retcode::ARGUMENT, format!("reading the uploaded file: {e}"))
            })? {
                out.write_all(&chunk)
                    .await
                    .map_err(|e| Reply::err(retcode::EXCEPTION, e.to_string()))?;
            }
            out.flush()
                .await
                .map_err(|e| Reply::err(retcode::EXCEPTION, e.to_string()))?;
            saved = Some((dir, path));
        }
        let Some((_, path)) = &saved else {
            return Err(Reply::err(
                retcode::ARGUMENT,
                "multipart upload without a 'file' field",
            ));
        };
        conf["file"] = json!(path.display().to_string());
    } else {
        let body = axum::body::to_bytes(req.into_body(), usize::MAX)
            .await
            .map_err(|e| Reply::err(retcode::ARGUMENT, e.to_string()))?;
        let b = body_json(&body)?;
        if let (Some(o), Some(bo)) = (conf.as_object_mut(), b.as_object()) {
            for (k, v) in bo {
                o.insert(k.clone(), v.clone());
            }
        }
    }
    blocking(move || {
        let base = app.config.data_dir.clone();
        let up = fedflow_storage::parse_upload_conf(&conf, &base).map_err(|e| Reply::err(retcode::ARGUMENT, e.to_string()))?;
        let started = now_ms();
        let meta = app.storage.upload(&up).map_err(|e| Reply::err(retcode::DATA, e.to_string()));
        drop(saved);
        let meta = meta?;
        // FATE runs uploads as jobs of role `local`, party 0; record one so `job query` finds it.
        let job_id = fedflow_flow::new_job_id();
        let local = Party::new(Role::Local, 0);
        let _ = app.store.create_job(&JobRecord {
            job_id: job_id.clone(),
            party: local,
            initiator: local,
            is_initiator: true,
            status: status::SUCCESS.into(),
            job_type: "upload".into(),
            dsl: json!({"components": {"upload_0": {"module": "Upload"}}}),
            runtime_conf: json!({"initiator": {"role": "local", "party_id": 0}, "role": {"local": [0]}, "component_parameters": {"role": {"local": {"0": {"upload_0": conf}}}}}),
            model_id: None,
            model_version: None,
            progress: 100,
            error: None,
            create_time: started,
            start_time: Some(started),
            end_time: Some(now_ms()),
        });
        Ok(Reply::ok(json!({
            "job_id": job_id, "namespace": meta.namespace, "table_name": meta.name, "count": meta.count,
            "partition": meta.partitions, "board_url": format!("http://{}/#/job/{}", app.config.listen, job_id),
            "logs_directory": app.job_log_dir(&job_id).display().to_string(),
        }))
        .job(&job_id))
    })
    .await
}

async fn download(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let ns = field(&v, "namespace")?.to_string();
        let name = field(&v, "table_name")?.to_string();
        let out = PathBuf::from(field(&v, "output_path")?);
        let delim = opt_field(&v, "delimiter").unwrap_or_else(|| ",".into());
        let n = app
            .storage
            .download(&ns, &name, &out, &delim)
            .map_err(|e| Reply::err(retcode::DATA, e.to_string()))?;
        Ok(Reply::ok(
            json!({"namespace": ns, "table_name": name, "output_path": out, "count": n}),
        ))
    })
    .await
}

fn table_json(m: &TableMeta) -> Value {
    json!({
        "table_name": m.name, "namespace": m.namespace, "count": m.count, "partition": m.partitions,
        "schema": {"header": m.schema.header, "sid": m.schema.sid}, "exist": 1, "enable": !m.disable,
        "origin": m.origin.as_str(), "engine": m.engine, "create_time": m.create_time, "update_time": m.update_time,
    })
}

async fn table_info(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let ns = field(&v, "namespace")?.to_string();
        let name = field(&v, "table_name")?.to_string();
        match app
            .storage
            .meta
            .get_table_meta(&ns, &name)
            .map_err(|e| Reply::err(retcode::EXCEPTION, e.to_string()))?
        {
            Some(m) => Ok(Reply::ok(table_json(&m))),
            // FATE answers success with exist = 0.
            None => Ok(
                Reply::ok(json!({"table_name": name, "namespace": ns, "exist": 0}))
                    .msg("no table found"),
            ),
        }
    })
    .await
}

async fn table_delete(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let ns = field(&v, "namespace")?.to_string();
        let name = field(&v, "table_name")?.to_string();
        if !app
            .storage
            .delete_table(&ns, &name)
            .map_err(|e| Reply::err(retcode::EXCEPTION, e.to_string()))?
        {
            return Err(Reply::err(retcode::DATA, format!("no table {ns}.{name}")));
        }
        Ok(Reply::ok(json!({"namespace": ns, "table_name": name})))
    })
    .await
}

async fn table_list(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let ns = opt_field(&v, "namespace");
        let list = app
            .storage
            .meta
            .list_tables(ns.as_deref())
            .map_err(|e| Reply::err(retcode::EXCEPTION, e.to_string()))?;
        Ok(Reply::ok(Value::Array(
            list.iter().map(table_json).collect(),
        )))
    })
    .await
}

async fn table_preview(State(app): State<Arc<App>>, body: Bytes) -> R {
    let v = body_json(&body)?;
    blocking(move || {
        let ns = field(&v, "namespace")?.to_string();
        let name = field(&v, "table_name")?.to_string();
        let m = fedflow_storage::require_table(app.storage.meta.as_ref(), &ns, &name)
            .map_err(|e| Reply::err(retcode::DATA, e.to_string()))?;
        Ok(Reply::ok(
            json!({"header": m.schema.header, "sid": m.schema.sid, "data": m.part_of_data}),
        ))
    })
    .await
}
