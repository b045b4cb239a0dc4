//! Guest side: holds the labels, builds the residual, reports the loss,
//! outputs predictions.

use super::cipher;
use super::ops::{l2_term, loss_norm, update_weights};
use super::*;
use crate::{Metric, ModelData};
use fedflow_crypto::{Ciphertext, PublicKey};
use rayon::prelude::*;

/// Label in the model's convention: ±1 for LR, the value for LinR.
fn target(task: Task, y: f64) -> f64 {
    match task {
        Task::Logistic => {
            if y > 0.5 {
                1.0
            } else {
                -1.0
            }
        }
        Task::Linear => y,
    }
}

pub(super) fn train(
    ctx: &TaskContext,
    param: &LinearModelParam,
    task: Task,
) -> Result<ComponentOutput, ComponentError> {
    let fed = ctx.federation.as_ref();
    let arbiter = one(ctx, Role::Arbiter)?;
    let hosts = parties(ctx, Role::Host);
    let data = LocalData::load(train_input(ctx)?)?;
    let n = data.ids.len();
    if n == 0 {
        return Err(ComponentError::Input("empty train_data".into()));
    }
    let ys: Vec<f64> = data
        .rows
        .iter()
        .map(|r| {
            r.label
                .map(|y| target(task, y))
                .ok_or_else(|| ComponentError::Input("guest train_data without labels".into()))
        })
        .collect::<Result<_, _>>()?;
    let pk: PublicKey = PAILLIER_PUBKEY.get_one(fed, arbiter, "")?;
    cipher::precompute(&pk, n);

    let batches = param.batches(n);
    let info = BatchInfo {
        batch_size: param.batch_size,
        batch_num: batches.len(),
        sizes: batches.iter().map(|b| b.len()).collect(),
    };
    let mut to_info = hosts.clone();
    to_info.push(arbiter);
    BATCH_INFO.remote(fed, &info, &to_info, "")?;
    for (bi, b) in batches.iter().enumerate() {
        let ids: Vec<String> = b.iter().map(|&i| data.ids[i].clone()).collect();
        BATCH_DATA_INDEX.remote(fed, &ids, &hosts, &bi.to_string())?;
    }
    let cols: Vec<Vec<Vec<f64>>> = batches.iter().map(|b| data.columns(b)).collect();

    let m = data.schema.header.len().max(data.rows[0].features.len());
    let fit_intercept = param.init_param.fit_intercept;
    let (mut w, mut b) = param.init_weights(m, 1);
    let single_host = hosts.len() == 1;
    let mut iters = 0;
    let mut converged = false;
    for iter in 0..param.max_iter {
        for (bi, idx) in batches.iter().enumerate() {
            let tag = format!("{iter}.{bi}");
            let nb = idx.len();
            let wx = data.dot(idx, &w, b);
            let forwards: Vec<Vec<Ciphertext>> = HOST_FORWARD.get(fed, &hosts, &tag)?;
            if forwards.iter().any(|f| f.len() != nb) {
                return Err(ComponentError::Failed(
                    "host_forward length differs from the batch".into(),
                ));
            }
            // d = s·wx_g − c·y + Σ host forwards.
            let s = task.scale();
            let c = match task {
                Task::Logistic => 0.5,
                Task::Linear => 1.0,
            };
            // The guest's part is encrypted with fresh randomness (FATE's
            // `encrypted_half_g`): adding it in plaintext would let a host
            // strip its own forward and read `s·wx_g − c·y`.
            let half: Vec<f64> = (0..nb).map(|k| s * wx[k] - c * ys[idx[k]]).collect();
            let enc_half = cipher::encrypt_vec(&pk, &half)?;
            let d: Vec<Ciphertext> = (0..nb)
                .into_par_iter()
                .map(|k| {
                    let mut acc = enc_half[k].clone();
                    for f in &forwards {
                        acc = cipher::add(&pk, &acc, &f[k])?;
                    }
                    Ok(acc)
                })
                .collect::<Result<_, ComponentError>>()?;
            FORE_GRADIENT.remote(fed, &d, &hosts, &tag)?;

            // Enc(Σ d·x + n·α·w), then Σ d for the intercept.
            let mut grad = cipher::weighted_sums(&pk, &d, &cols[bi])?;
            let l2 = l2_term(param, &w, nb);
            for (g, r) in grad.iter_mut().zip(&l2) {
                if *r != 0.0 {
                    *g = cipher::add_plain(&pk, g, *r)?;
                }
            }
            if fit_intercept {
                grad.push(cipher::sum(&pk, &d));
            }
            GUEST_GRADIENT.remote(fed, &grad, &[arbiter], &tag)?;

            if single_host {
                let sh: Ciphertext = LOSS_INTERMEDIATE.get_one(fed, hosts[0], &tag)?;
                let reg_h: f64 = HOST_LOSS_REGULAR.get_one(fed, hosts[0], &tag)?;
                let nf = nb as f64;
                let ysb: Vec<f64> = idx.iter().map(|&i| ys[i]).collect();
                let (coef, sh_coef, plain) = match task {
                    Task::Logistic => {
                        // log2 − (0.5/n)Σ y·wx + (1/8n)Σ wx², with wx_h = 4·E.
                        let coef: Vec<f64> = (0..nb).map(|k| (wx[k] - 2.0 * ysb[k]) / nf).collect();
                        let plain = std::f64::consts::LN_2
                            - 0.5 / nf * (0..nb).map(|k| ysb[k] * wx[k]).sum::<f64>()
                            + (0..nb).map(|k| wx[k] * wx[k]).sum::<f64>() / (8.0 * nf);
                        (coef, 1.0 / (8.0 * nf), plain)
                    }
                    Task::Linear => {
                        // (1/2n)Σ (wx_g − y + wx_h)².
                        let coef: Vec<f64> = (0..nb).map(|k| (wx[k] - ysb[k]) / nf).collect();
                        let plain =
                            (0..nb).map(|k| (wx[k] - ysb[k]).powi(2)).sum::<f64>() / (2.0 * nf);
                        (coef, 1.0 / (2.0 * nf), plain)
                    }
                };
                let cross = cipher::weighted_sum(&pk, &forwards[0], &coef)?;
                let quad = cipher::mul_scalar(&pk, &sh, sh_coef)?;
                let enc = cipher::add(&pk, &cross, &quad)?;
                let enc = cipher::add_plain(&pk, &enc, plain + loss_norm(param, &w) + reg_h)?;
                LOSS.remote(fed, &enc, &[arbiter], &tag)?;
            }

            let step: Vec<f64> = GUEST_OPTIM_GRADIENT.get_one(fed, arbiter, &tag)?;
            update_weights(param, iter, &mut w, &mut b, &step, fit_intercept);
        }
        iters = iter + 1;
        converged = CONVERGE_FLAG.get_one(fed, arbiter, &iter.to_string())?;
        if converged {
            break;
        }
    }
    tracing::info!(
        "{}_guest: trained {iters} iterations, converged {converged}",
        task.module()
    );

    let weights = LinearWeights::new(&data.schema.header, &w, b, fit_intercept);
    let mut out_rows = predict_rows(ctx, &data, &weights, task, "train")?;
    if let Some(v) = ctx.inputs.first("validate_data") {
        let vd = LocalData::load(v)?;
        out_rows.extend(predict_rows(ctx, &vd, &weights, task, "validate")?);
    }
    let out = prediction_dataset(ctx, out_rows, &data.schema.sid, data.partitions)?;
    let model = ModelData {
        module: task.module().to_string(),
        meta: serde_json::to_value(param).unwrap_or_default(),
        param: serde_json::json!({
            "header": weights.header,
            "weight": weights.weight,
            "intercept": weights.intercept,
            "fit_intercept": weights.fit_intercept,
            "iters": iters,
            "is_converged": converged,
        }),
    };
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "coef": weights.weight,
            "intercept": b,
            "is_converged": converged,
            "iters": iters,
            "one_vs_rest": false,
        }),
        data: vec![out],
        model: Some(model),
    })
}

/// Scores rows with the guest's weights plus the hosts' plaintext partial scores.
fn predict_rows(
    ctx: &TaskContext,
    data: &LocalData,
    weights: &LinearWeights,
    task: Task,
    kind: &str,
) -> Result<Vec<(String, Prediction)>, ComponentError> {
    let fed = ctx.federation.as_ref();
    let hosts = parties(ctx, Role::Host);
    let w = weights.ordered();
    let all: Vec<usize> = (0..data.ids.len()).collect();
    let mut wx = data.dot(&all, &w, weights.intercept);
    let host_parts: Vec<Vec<(String, f64)>> = HOST_PROB.get(fed, &hosts, kind)?;
    for part in host_parts {
        let map: std::collections::HashMap<String, f64> = part.into_iter().collect();
        for (k, id) in data.ids.iter().enumerate() {
            wx[k] += map.get(id).copied().ok_or_else(|| {
                ComponentError::Failed(format!("host_prob has no score for id {id}"))
            })?;
        }
    }
    Ok(data
        .ids
        .iter()
        .zip(&data.rows)
        .zip(wx)
        .map(|((id, r), z)| {
            let label = r.label.unwrap_or(f64::NAN);
            let p = match task {
                Task::Logistic => {
                    let s = sigmoid(z);
                    Prediction {
                        label,
                        predict_result: if s > 0.5 { 1.0 } else { 0.0 },
                        predict_score: s,
                        predict_detail: serde_json::json!({"0": 1.0 - s, "1": s}).to_string(),
                        kind: kind.to_string(),
                    }
                }
                Task::Linear => Prediction {
                    label,
                    predict_result: z,
                    predict_score: z,
                    predict_detail: serde_json::json!({"label": z}).to_string(),
                    kind: kind.to_string(),
                },
            };
            (id.clone(), p)
        })
        .collect())
}

pub(super) fn predict_job(
    ctx: &TaskContext,
    task: Task,
) -> Result<ComponentOutput, ComponentError> {
    let weights = LinearWeights::from_model(model_of(ctx, task)?)?;
    let data = LocalData::load(predict_input(ctx)?)?;
    let rows = predict_rows(ctx, &data, &weights, task, "test")?;
    let out = prediction_dataset(ctx, rows, &data.schema.sid, data.partitions)?;
    ctx.tracker.log_metric(Metric {
        namespace: "predict".into(),
        name: "rows".into(),
        metric_type: "SUMMARY".into(),
        points: vec![(0.0, data.ids.len() as f64)],
    });
    Ok(ComponentOutput {
        summary: serde_json::json!({"rows": data.ids.len()}),
        data: vec![out],
        model: model_of(ctx, task).ok().cloned(),
    })
}
