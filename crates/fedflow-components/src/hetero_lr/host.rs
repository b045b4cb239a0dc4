//! Host side: features only; sends encrypted forwards and gradients, and the
//! plaintext partial score at prediction.

use super::cipher;
use super::ops::{l2_term, loss_norm, update_weights};
use super::*;
use crate::ModelData;
use fedflow_crypto::{Ciphertext, PublicKey};
use std::collections::HashMap;

pub(super) fn train(
    ctx: &TaskContext,
    param: &LinearModelParam,
    task: Task,
) -> Result<ComponentOutput, ComponentError> {
    let fed = ctx.federation.as_ref();
    let arbiter = one(ctx, Role::Arbiter)?;
    let guest = one(ctx, Role::Guest)?;
    let pk: PublicKey = PAILLIER_PUBKEY.get_one(fed, arbiter, "")?;
    let info: BatchInfo = BATCH_INFO.get_one(fed, guest, "")?;
    if info.table {
        return super::table::host_train(ctx, param, task, &pk, &info);
    }
    let data = LocalData::load(train_input(ctx)?)?;
    let pos: HashMap<&str, usize> = data
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    cipher::precompute(&pk, data.ids.len());
    let mut batches = Vec::with_capacity(info.batch_num);
    for bi in 0..info.batch_num {
        let ids: Vec<String> = BATCH_DATA_INDEX.get_one(fed, guest, &bi.to_string())?;
        let idx = ids
            .iter()
            .map(|id| {
                pos.get(id.as_str()).copied().ok_or_else(|| {
                    ComponentError::Failed(format!("batch_data_index: unknown id {id}"))
                })
            })
            .collect::<Result<Vec<usize>, _>>()?;
        batches.push(idx);
    }
    let cols: Vec<Vec<Vec<f64>>> = batches.iter().map(|b| data.columns(b)).collect();
    let k: usize = ONE_VS_REST_CLASSES.get_one(fed, guest, "")?;
    let warm = Warm::of(ctx, task, k)?;
    let mut models = Vec::with_capacity(k);
    let mut summaries = Vec::with_capacity(k);
    for cls in 0..k {
        let prefix = if k > 1 {
            format!("c{cls}.")
        } else {
            String::new()
        };
        let init = warm.start(cls, &data.schema.header)?;
        let (w, iters, converged) = fit(
            ctx,
            param,
            task,
            &data,
            &pk,
            &batches,
            &cols,
            &prefix,
            (init, warm.iters[cls]),
        )?;
        models.push(w);
        summaries.push((iters, converged));
    }
    let kinds: Vec<(String, &LocalData)> = vec![("train".into(), &data)];
    let validate = ctx
        .inputs
        .first("validate_data")
        .map(LocalData::load)
        .transpose()?;
    let mut kinds = kinds;
    if let Some(v) = &validate {
        kinds.push(("validate".into(), v));
    }
    for (kind, d) in kinds {
        for (cls, w) in models.iter().enumerate() {
            let tag = if k > 1 {
                format!("{kind}.c{cls}")
            } else {
                kind.clone()
            };
            send_partial_scores(ctx, d, w, &tag)?;
        }
    }
    let (iters, converged) = summaries[0];
    let mut model_param = if k > 1 {
        serde_json::json!({"need_one_vs_rest": true, "header": data.schema.header, "one_vs_rest_result": models})
    } else {
        serde_json::to_value(&models[0]).unwrap_or_default()
    };
    // The iterations done, for a warm start from this model.
    model_param["iters"] = if k > 1 {
        serde_json::json!(summaries.iter().map(|s| s.0).collect::<Vec<_>>())
    } else {
        serde_json::json!(summaries[0].0)
    };
    Ok(ComponentOutput {
        summary: serde_json::json!({"iters": iters, "is_converged": converged}),
        data: vec![],
        model: Some(ModelData {
            module: task.module().to_string(),
            meta: serde_json::to_value(param).unwrap_or_default(),
            param: model_param,
        }),
    })
}

/// One training run; tags are prefixed per class.
#[allow(clippy::too_many_arguments)]
fn fit(
    ctx: &TaskContext,
    param: &LinearModelParam,
    task: Task,
    data: &LocalData,
    pk: &PublicKey,
    batches: &[Vec<usize>],
    cols: &[Vec<Vec<f64>>],
    prefix: &str,
    (init, start): (Option<(Vec<f64>, f64)>, u32),
) -> Result<(LinearWeights, u32, bool), ComponentError> {
    let fed = ctx.federation.as_ref();
    let arbiter = one(ctx, Role::Arbiter)?;
    let guest = one(ctx, Role::Guest)?;
    let single_host = parties(ctx, Role::Host).len() == 1;
    let m = data
        .schema
        .header
        .len()
        .max(data.rows.first().map(|r| r.features.len()).unwrap_or(0));
    let salt = 2 + ctx.local.party_id;
    let (mut w, _) = init.unwrap_or_else(|| param.init_weights(m, salt));
    let mut b_unused = 0.0;
    let mut iters = start;
    let mut converged = false;
    for iter in start..param.max_iter {
        for (bi, idx) in batches.iter().enumerate() {
            let tag = format!("{prefix}{iter}.{bi}");
            let wx = data.dot(idx, &w, 0.0);
            let scaled: Vec<f64> = wx.iter().map(|v| task.scale() * v).collect();
            let fwd = cipher::encrypt_vec(pk, &scaled)?;
            HOST_FORWARD.remote(fed, &fwd, &[guest], &tag)?;
            if single_host {
                let sq: f64 = wx.iter().map(|v| v * v).sum();
                let enc = cipher::encrypt_vec(pk, &[sq])?;
                LOSS_INTERMEDIATE.remote(fed, &enc[0], &[guest], &tag)?;
                HOST_LOSS_REGULAR.remote(fed, &loss_norm(param, &w), &[guest], &tag)?;
            }
            let d: Vec<Ciphertext> = FORE_GRADIENT.get_one(fed, guest, &tag)?;
            let mut grad = cipher::weighted_sums(pk, &d, &cols[bi])?;
            for (g, r) in grad.iter_mut().zip(l2_term(param, &w, idx.len())) {
                if r != 0.0 {
                    *g = cipher::add_plain(pk, g, r)?;
                }
            }
            HOST_GRADIENT.remote(fed, &grad, &[arbiter], &tag)?;
            let step: Vec<f64> = HOST_OPTIM_GRADIENT.get_one(fed, arbiter, &tag)?;
            update_weights(param, iter, &mut w, &mut b_unused, &step, false);
        }
        iters = iter + 1;
        converged = CONVERGE_FLAG.get_one(fed, arbiter, &format!("{prefix}{iter}"))?;
        if converged {
            break;
        }
    }
    Ok((
        LinearWeights::new(&data.schema.header, &w, 0.0, false),
        iters,
        converged,
    ))
}

fn send_partial_scores(
    ctx: &TaskContext,
    data: &LocalData,
    weights: &LinearWeights,
    kind: &str,
) -> Result<(), ComponentError> {
    let guest = one(ctx, Role::Guest)?;
    let w = weights.ordered();
    let all: Vec<usize> = (0..data.ids.len()).collect();
    let wx = data.dot(&all, &w, 0.0);
    let rows: Vec<(String, f64)> = data.ids.iter().cloned().zip(wx).collect();
    HOST_PROB.remote(ctx.federation.as_ref(), &rows, &[guest], kind)?;
    Ok(())
}

pub(super) fn predict_job(
    ctx: &TaskContext,
    task: Task,
) -> Result<ComponentOutput, ComponentError> {
    let model = model_of(ctx, task)?;
    let (models, _) = LinearWeights::all_from_model(model)?;
    let data = LocalData::load(predict_input(ctx)?)?;
    for (cls, w) in models.iter().enumerate() {
        let tag = if models.len() > 1 {
            format!("test.c{cls}")
        } else {
            "test".to_string()
        };
        send_partial_scores(ctx, &data, w, &tag)?;
    }
    Ok(ComponentOutput {
        summary: serde_json::json!({"rows": data.ids.len()}),
        data: vec![],
        model: Some(model.clone()),
    })
}
