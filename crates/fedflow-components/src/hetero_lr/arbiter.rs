//! Arbiter side: owns the Paillier key, decrypts gradients and the loss,
//! runs the optimizer and decides convergence.

use super::ops::{Converge, Optimizer};
use super::*;
use crate::{Metric, ModelData};
use fedflow_crypto::{Ciphertext, PaillierKeypair};

pub(super) fn train(
    ctx: &TaskContext,
    param: &LinearModelParam,
    task: Task,
) -> Result<ComponentOutput, ComponentError> {
    let fed = ctx.federation.as_ref();
    let guest = one(ctx, Role::Guest)?;
    let hosts = parties(ctx, Role::Host);
    let (pk, sk) = PaillierKeypair::generate(param.encrypt_param.key_length)
        .map_err(|e| ComponentError::Failed(format!("paillier keygen: {e}")))?;
    let mut to = vec![guest];
    to.extend(hosts.iter().copied());
    PAILLIER_PUBKEY.remote(fed, &pk, &to, "")?;
    let info: BatchInfo = BATCH_INFO.get_one(fed, guest, "")?;
    let mut early_stop = param.early_stop.clone();
    if hosts.len() > 1 && early_stop != "weight_diff" {
        tracing::warn!(
            "{}: several hosts, early_stop set to weight_diff",
            task.module()
        );
        early_stop = "weight_diff".into();
    }
    let k: usize = ONE_VS_REST_CLASSES.get_one(fed, guest, "")?;
    let warm = Warm::of(ctx, task, k)?;
    let mut histories = Vec::new();
    let mut summaries = Vec::new();
    for cls in 0..k {
        let prefix = if k > 1 {
            format!("c{cls}.")
        } else {
            String::new()
        };
        let (h, iters, converged) = fit(
            ctx,
            param,
            task,
            &sk,
            &info,
            (&early_stop, warm.iters[cls]),
            &to,
            &prefix,
        )?;
        histories.push(h);
        summaries.push((iters, converged));
    }
    let (iters, converged) = summaries[0];
    let loss_history = if k > 1 {
        serde_json::json!(histories)
    } else {
        serde_json::json!(histories[0])
    };
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "iters": iters,
            "is_converged": converged,
            "loss_history": loss_history,
        }),
        data: vec![],
        model: Some(ModelData {
            module: task.module().to_string(),
            meta: serde_json::to_value(param).unwrap_or_default(),
            param: serde_json::json!({
                "iters": if k > 1 {
                    serde_json::json!(summaries.iter().map(|s| s.0).collect::<Vec<_>>())
                } else {
                    serde_json::json!(iters)
                },
                "is_converged": converged,
                "loss_history": loss_history,
            }),
        }),
    })
}

/// One training run; tags are prefixed per class.
#[allow(clippy::too_many_arguments)]
fn fit(
    ctx: &TaskContext,
    param: &LinearModelParam,
    task: Task,
    sk: &fedflow_crypto::PrivateKey,
    info: &BatchInfo,
    (early_stop, start): (&str, u32),
    to: &[fedflow_core::Party],
    prefix: &str,
) -> Result<(Vec<f64>, u32, bool), ComponentError> {
    let fed = ctx.federation.as_ref();
    let guest = one(ctx, Role::Guest)?;
    let hosts = parties(ctx, Role::Host);
    let mut opt = Optimizer::new(&param.optimizer);
    let mut conv = Converge::new(early_stop, param.tol);
    let mut loss_history = Vec::new();
    let mut iters = start;
    let mut converged = false;
    let dec = |cts: &[Ciphertext], n: usize| -> Result<Vec<f64>, ComponentError> {
        let v = sk
            .decrypt_batch(cts)
            .map_err(|e| ComponentError::Failed(format!("paillier decrypt: {e}")))?;
        Ok(v.into_iter().map(|x| x / n as f64).collect())
    };
    for iter in start..param.max_iter {
        let lr = param.lr_at(iter);
        let mut loss_sum = 0.0;
        let mut delta_sum: Vec<f64> = Vec::new();
        for bi in 0..info.batch_num {
            let tag = format!("{prefix}{iter}.{bi}");
            let nb = info.sizes[bi];
            let hg: Vec<Vec<Ciphertext>> = HOST_GRADIENT.get(fed, &hosts, &tag)?;
            let gg: Vec<Ciphertext> = GUEST_GRADIENT.get_one(fed, guest, &tag)?;
            let mut grad = Vec::new();
            let mut lens = Vec::new();
            for h in &hg {
                lens.push(h.len());
                grad.extend(dec(h, nb)?);
            }
            grad.extend(dec(&gg, nb)?);
            let delta = opt.apply(&grad, lr);
            if delta_sum.len() != delta.len() {
                delta_sum = vec![0.0; delta.len()];
            }
            for (s, d) in delta_sum.iter_mut().zip(&delta) {
                *s += d;
            }
            let mut off = 0;
            for (h, len) in hosts.iter().zip(&lens) {
                HOST_OPTIM_GRADIENT.remote(fed, &delta[off..off + len].to_vec(), &[*h], &tag)?;
                off += len;
            }
            GUEST_OPTIM_GRADIENT.remote(fed, &delta[off..].to_vec(), &[guest], &tag)?;
            if hosts.len() == 1 {
                let l: Ciphertext = LOSS.get_one(fed, guest, &tag)?;
                loss_sum += sk
                    .decrypt(&l)
                    .map_err(|e| ComponentError::Failed(format!("paillier decrypt: {e}")))?;
            }
        }
        let loss = (hosts.len() == 1).then(|| loss_sum / info.batch_num as f64);
        if let Some(l) = loss {
            loss_history.push(l);
            ctx.tracker.log_metric(Metric {
                namespace: "train".into(),
                name: "loss".into(),
                metric_type: "LOSS".into(),
                points: vec![(iter as f64, l)],
            });
            tracing::info!("{} iter {iter}: loss {l}", task.module());
        }
        let weight_diff = delta_sum.iter().map(|x| x * x).sum::<f64>().sqrt();
        converged = conv.check(loss, weight_diff);
        iters = iter + 1;
        CONVERGE_FLAG.remote(fed, &converged, to, &format!("{prefix}{iter}"))?;
        if converged {
            break;
        }
    }
    Ok((loss_history, iters, converged))
}
