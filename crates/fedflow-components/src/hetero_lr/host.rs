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
    let single_host = parties(ctx, Role::Host).len() == 1;
    let data = LocalData::load(train_input(ctx)?)?;
    let pos: HashMap<&str, usize> = data
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let pk: PublicKey = PAILLIER_PUBKEY.get_one(fed, arbiter, "")?;
    cipher::precompute(&pk, data.ids.len());
    let info: BatchInfo = BATCH_INFO.get_one(fed, guest, "")?;
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
    let m = data
        .schema
        .header
        .len()
        .max(data.rows.first().map(|r| r.features.len()).unwrap_or(0));
    let salt = 2 + ctx.local.party_id;
    let (mut w, _) = param.init_weights(m, salt);
    let mut b_unused = 0.0;
    let mut iters = 0;
    let mut converged = false;
    for iter in 0..param.max_iter {
        for (bi, idx) in batches.iter().enumerate() {
            let tag = format!("{iter}.{bi}");
            let wx = data.dot(idx, &w, 0.0);
            let scaled: Vec<f64> = wx.iter().map(|v| task.scale() * v).collect();
            let fwd = cipher::encrypt_vec(&pk, &scaled)?;
            HOST_FORWARD.remote(fed, &fwd, &[guest], &tag)?;
            if single_host {
                let sq: f64 = wx.iter().map(|v| v * v).sum();
                let enc = cipher::encrypt_vec(&pk, &[sq])?;
                LOSS_INTERMEDIATE.remote(fed, &enc[0], &[guest], &tag)?;
                HOST_LOSS_REGULAR.remote(fed, &loss_norm(param, &w), &[guest], &tag)?;
            }
            let d: Vec<Ciphertext> = FORE_GRADIENT.get_one(fed, guest, &tag)?;
            let mut grad = cipher::weighted_sums(&pk, &d, &cols[bi])?;
            for (g, r) in grad.iter_mut().zip(l2_term(param, &w, idx.len())) {
                if r != 0.0 {
                    *g = cipher::add_plain(&pk, g, r)?;
                }
            }
            HOST_GRADIENT.remote(fed, &grad, &[arbiter], &tag)?;
            let step: Vec<f64> = HOST_OPTIM_GRADIENT.get_one(fed, arbiter, &tag)?;
            update_weights(param, iter, &mut w, &mut b_unused, &step, false);
        }
        iters = iter + 1;
        converged = CONVERGE_FLAG.get_one(fed, arbiter, &iter.to_string())?;
        if converged {
            break;
        }
    }
    let weights = LinearWeights::new(&data.schema.header, &w, 0.0, false);
    send_partial_scores(ctx, &data, &weights, "train")?;
    if let Some(v) = ctx.inputs.first("validate_data") {
        send_partial_scores(ctx, &LocalData::load(v)?, &weights, "validate")?;
    }
    Ok(ComponentOutput {
        summary: serde_json::json!({"iters": iters, "is_converged": converged}),
        data: vec![],
        model: Some(ModelData {
            module: task.module().to_string(),
            meta: serde_json::to_value(param).unwrap_or_default(),
            param: serde_json::to_value(&weights).unwrap_or_default(),
        }),
    })
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
    let weights = LinearWeights::from_model(model)?;
    let data = LocalData::load(predict_input(ctx)?)?;
    send_partial_scores(ctx, &data, &weights, "test")?;
    Ok(ComponentOutput {
        summary: serde_json::json!({"rows": data.ids.len()}),
        data: vec![],
        model: Some(model.clone()),
    })
}
