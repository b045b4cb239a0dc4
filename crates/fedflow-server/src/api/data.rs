//! `/v1/data/*` and `/v1/table/*`.

use super::{blocking, body_json, field, opt_field, retcode, Reply, R};
use crate::state::App;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::response::{IntoResponse, Response};
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
        // No file in the request: the conf names a server-side file, which
        // FATE reads only with use_local_data = 0 and fedflow only under
        // the configured roots.
        if matches!(conf.get("use_local_data"), Some(v) if v == &json!(1) || v == &json!(true) || v == &json!("1"))
        {
            return Err(Reply::err(
                retcode::ARGUMENT,
                "upload conf: field 'use_local_data': 1 says the client sends the file, but the request carries none (expected a multipart body with a 'file' field)",
            ));
        }
        if let Some(f) = conf.get("file").and_then(Value::as_str) {
            let p = app
                .confine
                .upload_file(f)
                .map_err(|e| Reply::err(retcode::ARGUMENT, e))?;
            conf["file"] = json!(p.display().to_string());
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
            "logs_directory": app.job_log_dir(&job_id).map(|d| d.display().to_string()).unwrap_or_default(),
        }))
        .job(&job_id))
    })
    .await
}

/// FATE's download: the table as CSV, written to `output_path` under the
/// server's export area ([`crate::confine`]), or, without `output_path`,
/// streamed back as the reply body (`text/csv`).
async fn download(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let app2 = app.clone();
    let r = tokio::task::spawn_blocking(move || -> Result<(Value, Option<PathBuf>), Reply> {
        let app = app2;
        let ns = field(&v, "namespace")?.to_string();
        let name = field(&v, "table_name")?.to_string();
        for (f, x) in [("namespace", &ns), ("table_name", &name)] {
            fedflow_core::names::check_table(f, x)
                .map_err(|e| Reply::err(retcode::ARGUMENT, e.to_string()))?;
        }
        let delim = opt_field(&v, "delimiter").unwrap_or_else(|| ",".into());
        let stream = v.get("output_path").is_none_or(Value::is_null);
        let out = if stream {
            let tmp = app.confine.export_dir().join(format!(
                ".stream-{}-{}.csv",
                std::process::id(),
                fedflow_flow::new_job_id()
            ));
            tmp
        } else {
            let o = field(&v, "output_path")?;
            app.confine
                .export_path(o)
                .map_err(|e| Reply::err(retcode::ARGUMENT, e))?
        };
        let n = app
            .storage
            .download_with(&ns, &name, &out, &delim, Some(fedflow_components::preview_value))
            .map_err(|e| Reply::err(retcode::DATA, e.to_string()))?;
        Ok((
            json!({"namespace": ns, "table_name": name, "output_path": if stream { Value::Null } else { json!(out) }, "count": n}),
            stream.then_some(out),
        ))
    })
    .await;
    match r {
        Ok(Ok((data, None))) => Reply::ok(data).into_response(),
        Ok(Ok((data, Some(tmp)))) => {
            let file = match std::fs::File::open(&tmp) {
                Ok(f) => f,
                Err(e) => return Reply::err(retcode::EXCEPTION, e.to_string()).into_response(),
            };
            // The open handle keeps the data readable; the name goes now.
            let _ = std::fs::remove_file(&tmp);
            let file = tokio::fs::File::from_std(file);
            let stream = futures_util::stream::unfold(file, |mut f| async move {
                use tokio::io::AsyncReadExt;
                let mut buf = vec![0u8; 1 << 16];
                match f.read(&mut buf).await {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok::<_, std::io::Error>(Bytes::from(buf)), f))
                    }
                    Err(e) => Some((Err(e), f)),
                }
            });
            (
                [
                    ("content-type", "text/csv".to_string()),
                    ("x-fedflow-count", data["count"].to_string()),
                ],
                axum::body::Body::from_stream(stream),
            )
                .into_response()
        }
        Ok(Err(r)) => r.into_response(),
        Err(e) => Reply::err(retcode::EXCEPTION, e.to_string()).into_response(),
    }
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
        if !app.storage.delete_table(&ns, &name).map_err(|e| {
            let code = match e {
                fedflow_storage::StorageError::InvalidName { .. }
                | fedflow_storage::StorageError::Conf { .. } => retcode::ARGUMENT,
                _ => retcode::EXCEPTION,
            };
            Reply::err(code, e.to_string())
        })? {
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
