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
    let labels: Vec<f64> = data
        .rows
        .iter()
        .map(|r| {
            r.label
                .ok_or_else(|| ComponentError::Input("guest train_data without labels".into()))
        })
        .collect::<Result<_, _>>()?;
    let mut classes = labels.clone();
    classes.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    classes.dedup();
    let ovr = task == Task::Logistic && classes.len() > 2;
    let pk: PublicKey = PAILLIER_PUBKEY.get_one(fed, arbiter, "")?;
    cipher::precompute(&pk, n);

    let batches = param.batches(n);
    let info = BatchInfo {
        batch_size: param.batch_size,
        batch_num: batches.len(),
        sizes: batches.iter().map(|b| b.len()).collect(),
        table: false,
    };
    let mut to_info = hosts.clone();
    to_info.push(arbiter);
    BATCH_INFO.remote(fed, &info, &to_info, "")?;
    for (bi, b) in batches.iter().enumerate() {
        let ids: Vec<String> = b.iter().map(|&i| data.ids[i].clone()).collect();
        BATCH_DATA_INDEX.remote(fed, &ids, &hosts, &bi.to_string())?;
    }
    let cols: Vec<Vec<Vec<f64>>> = batches.iter().map(|b| data.columns(b)).collect();

    let k = if ovr { classes.len() } else { 1 };
    let warm = Warm::of(ctx, task, k)?;
    ONE_VS_REST_CLASSES.remote(fed, &k, &to_info, "")?;
    let mut models = Vec::with_capacity(k);
    let mut summaries = Vec::with_capacity(k);
    for cls in 0..k {
        let positive = classes.get(cls).copied().unwrap_or(1.0);
        let ys: Vec<f64> = labels
            .iter()
            .map(|&y| {
                if ovr {
                    if y == positive {
                        1.0
                    } else {
                        -1.0
                    }
                } else {
                    target(task, y)
                }
            })
            .collect();
        let prefix = if ovr {
            format!("c{cls}.")
        } else {
            String::new()
        };
        let f = Fit {
            param,
            task,
            data: &data,
            ys: &ys,
            pk: &pk,
            batches: &batches,
            cols: &cols,
            prefix: &prefix,
            init: warm.start(cls, &data.schema.header)?,
            start: warm.iters[cls],
        };
        let (weights, iters, converged) = fit(ctx, &f)?;
        models.push(weights);
        summaries.push((iters, converged));
    }
    let classes_opt = ovr.then_some(classes.as_slice());
    let mut out_rows = predict_rows(ctx, &data, &models, classes_opt, task, "train")?;
    if let Some(v) = ctx.inputs.first("validate_data") {
        let vd = LocalData::load(v)?;
        out_rows.extend(predict_rows(
            ctx,
            &vd,
            &models,
            classes_opt,
            task,
            "validate",
        )?);
    }
    let out = prediction_dataset(ctx, out_rows, &data.schema.sid, data.partitions)?;
    let (iters, converged) = summaries[0];
    let model_param = if ovr {
        serde_json::json!({
            "need_one_vs_rest": true,
            "classes": classes,
            "header": data.schema.header,
            "one_vs_rest_result": models,
            "iters": summaries.iter().map(|s| s.0).collect::<Vec<_>>(),
            "is_converged": summaries.iter().map(|s| s.1).collect::<Vec<_>>(),
        })
    } else {
        let w = &models[0];
        serde_json::json!({
            "header": w.header,
            "weight": w.weight,
            "intercept": w.intercept,
            "fit_intercept": w.fit_intercept,
            "iters": iters,
            "is_converged": converged,
        })
    };
    let model = ModelData {
        module: task.module().to_string(),
        meta: serde_json::to_value(param).unwrap_or_default(),
        param: model_param,
    };
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "coef": models[0].weight,
            "intercept": models[0].intercept,
            "is_converged": converged,
            "iters": iters,
            "one_vs_rest": ovr,
        }),
        data: vec![out],
        model: Some(model),
    })
}

struct Fit<'a> {
    param: &'a LinearModelParam,
    task: Task,
    data: &'a LocalData,
    ys: &'a [f64],
    pk: &'a PublicKey,
    batches: &'a [Vec<usize>],
    cols: &'a [Vec<Vec<f64>>],
    prefix: &'a str,
    /// Warm start: weights and intercept.
    init: Option<(Vec<f64>, f64)>,
    /// Warm start: the first iteration.
    start: u32,
}

/// One binary (or regression) training run; tags are prefixed per class.
fn fit(ctx: &TaskContext, f: &Fit<'_>) -> Result<(LinearWeights, u32, bool), ComponentError> {
    let fed = ctx.federation.as_ref();
    let arbiter = one(ctx, Role::Arbiter)?;
    let hosts = parties(ctx, Role::Host);
    let (param, task, data, ys, pk, batches, cols, prefix) = (
        f.param, f.task, f.data, f.ys, f.pk, f.batches, f.cols, f.prefix,
    );
    let pk = pk.clone();
    let m = data.schema.header.len().max(data.rows[0].features.len());
    let fit_intercept = param.init_param.fit_intercept;
    let (mut w, mut b) = f.init.clone().unwrap_or_else(|| param.init_weights(m, 1));
    let single_host = hosts.len() == 1;
    let weighted = crate::preprocess::sample_weight::is_weighted(&data.schema);
    let mut iters = f.start;
    let mut converged = false;
    for iter in f.start..param.max_iter {
        for (bi, idx) in batches.iter().enumerate() {
            let tag = format!("{prefix}{iter}.{bi}");
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
                    if weighted {
                        // Sample weights scale the whole residual (FATE
                        // scales only the guest's half: its quirk).
                        acc = cipher::mul_weight(&pk, &acc, data.rows[idx[k]].weight)?;
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
                        let coef: Vec<f64> = (0..nb).map(|k| wx[k] - 2.0 * ysb[k]).collect();
                        let plain = std::f64::consts::LN_2
                            - 0.5 / nf * (0..nb).map(|k| ysb[k] * wx[k]).sum::<f64>()
                            + (0..nb).map(|k| wx[k] * wx[k]).sum::<f64>() / (8.0 * nf);
                        (coef, 1.0 / (8.0 * nf), plain)
                    }
                    Task::Linear => {
                        // (1/2n)Σ (wx_g − y + wx_h)².
                        let coef: Vec<f64> = (0..nb).map(|k| wx[k] - ysb[k]).collect();
                        let plain =
                            (0..nb).map(|k| (wx[k] - ysb[k]).powi(2)).sum::<f64>() / (2.0 * nf);
                        (coef, 1.0 / (2.0 * nf), plain)
                    }
                };
                // Multipliers are quantised at 2^-20: scale by 1/n afterwards,
                // not inside them (they would lose precision for large batches).
                let cross = cipher::weighted_sum_auto(&pk, &forwards[0], &coef)?;
                let cross = cipher::mul_scalar(&pk, &cross, 1.0 / nf)?;
                let quad = cipher::mul_scalar(&pk, &sh, sh_coef)?;
                let enc = cipher::add(&pk, &cross, &quad)?;
                let enc = cipher::add_plain(&pk, &enc, plain + loss_norm(param, &w) + reg_h)?;
                LOSS.remote(fed, &enc, &[arbiter], &tag)?;
            }

            let step: Vec<f64> = GUEST_OPTIM_GRADIENT.get_one(fed, arbiter, &tag)?;
            update_weights(param, iter, &mut w, &mut b, &step, fit_intercept);
        }
        iters = iter + 1;
        converged = CONVERGE_FLAG.get_one(fed, arbiter, &format!("{prefix}{iter}"))?;
        if converged {
            break;
        }
    }
    tracing::info!(
        "{}_guest: trained {iters} iterations, converged {converged}",
        task.module()
    );

    Ok((
        LinearWeights::new(&data.schema.header, &w, b, fit_intercept),
        iters,
        converged,
    ))
}

/// Scores rows with the guest's weights plus the hosts' plaintext partial
/// scores (one model, or one per class for one-vs-rest).
fn predict_rows(
    ctx: &TaskContext,
    data: &LocalData,
    models: &[LinearWeights],
    classes: Option<&[f64]>,
    task: Task,
    kind: &str,
) -> Result<Vec<(String, Prediction)>, ComponentError> {
    let fed = ctx.federation.as_ref();
    let hosts = parties(ctx, Role::Host);
    let all: Vec<usize> = (0..data.ids.len()).collect();
    let mut zs: Vec<Vec<f64>> = Vec::with_capacity(models.len());
    for (cls, weights) in models.iter().enumerate() {
        let mut wx = data.dot(&all, &weights.ordered(), weights.intercept);
        let tag = match classes {
            Some(_) => format!("{kind}.c{cls}"),
            None => kind.to_string(),
        };
        let host_parts: Vec<Vec<(String, f64)>> = HOST_PROB.get(fed, &hosts, &tag)?;
        for part in host_parts {
            let map: std::collections::HashMap<String, f64> = part.into_iter().collect();
            for (k, id) in data.ids.iter().enumerate() {
                wx[k] += map.get(id).copied().ok_or_else(|| {
                    ComponentError::Failed(format!("host_prob has no score for id {id}"))
                })?;
            }
        }
        zs.push(wx);
    }
    Ok(data
        .ids
        .iter()
        .zip(&data.rows)
        .enumerate()
        .map(|(i, (id, r))| {
            let label = r.label.unwrap_or(f64::NAN);
            let p = match task {
                Task::Logistic => {
                    let z: Vec<f64> = zs.iter().map(|zc| zc[i]).collect();
                    logistic_prediction(label, &z, classes, 0.5, kind)
                }
                Task::Linear => {
                    let z = zs[0][i];
                    Prediction {
                        label,
                        predict_result: z,
                        predict_score: z,
                        predict_detail: serde_json::json!({"label": z}).to_string(),
                        kind: kind.to_string(),
                    }
                }
            };
            (id.clone(), p)
        })
        .collect())
}

pub(super) fn predict_job(
    ctx: &TaskContext,
    task: Task,
) -> Result<ComponentOutput, ComponentError> {
    let md = model_of(ctx, task)?;
    let (models, classes) = LinearWeights::all_from_model(md)?;
    let data = LocalData::load(predict_input(ctx)?)?;
    let rows = predict_rows(ctx, &data, &models, classes.as_deref(), task, "test")?;
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
        model: Some(md.clone()),
    })
}
