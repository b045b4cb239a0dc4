//! Arbiter: checks the clients agree, aligns their classes, sums their
//! masked models each round (learning only the weighted mean), decides
//! convergence. It holds no rows and stores no weights.

use super::*;
use crate::homo::aggregator::{self, Server};
use crate::Metric;
use fedflow_core::Party;

pub(super) fn run(
    ctx: &TaskContext,
    param: &HomoLRParam,
) -> Result<ComponentOutput, ComponentError> {
    if ctx.job_type == "predict" {
        return Ok(ComponentOutput::default());
    }
    let fed = ctx.federation.as_ref();
    let clients = aggregator::clients(&ctx.roster);
    if clients.is_empty() {
        return Err(ComponentError::Input(
            "HomoLR: the job has no guest or host".into(),
        ));
    }
    let metas: Vec<Meta> = HOMO_LR_META.get(fed, &clients, "")?;
    let plan = plan(&clients, &metas, &Schedule::of(param));
    HOMO_LR_PLAN.remote(fed, &plan, &clients, "")?;
    let classes = plan.map_err(ComponentError::Failed)?;
    let model = |iters: Vec<u32>| ModelData {
        module: "HomoLR".into(),
        meta: serde_json::to_value(param).unwrap_or_default(),
        param: serde_json::json!({"classes": classes, "iters": iters}),
    };
    if !metas[0].train {
        return Ok(ComponentOutput {
            model: Some(model(vec![])),
            ..Default::default()
        });
    }
    let k = if classes.len() > 2 { classes.len() } else { 1 };
    let schedule = Schedule::of(param);
    let mut all_iters = Vec::with_capacity(k);
    for (cls, class) in classes.iter().enumerate().take(k) {
        let start = metas[0].start.get(cls).copied().unwrap_or(0);
        let suffix = if k > 1 {
            format!("_{class}")
        } else {
            String::new()
        };
        all_iters.push(fit(ctx, param, &schedule, &clients, cls, start, &suffix)?);
    }
    Ok(ComponentOutput {
        summary: serde_json::json!({"iters": all_iters, "clients": clients.len()}),
        data: vec![],
        model: Some(model(all_iters)),
    })
}

/// The classes every client's rows have, united; or the one error every
/// party fails with.
pub(crate) fn plan(clients: &[Party], metas: &[Meta], mine: &Schedule) -> Plan {
    for (p, m) in clients.iter().zip(metas) {
        if let Some(e) = &m.error {
            return Err(format!("{p}: {e}"));
        }
        if m.schedule != *mine {
            return Err(format!(
                "{p}'s max_iter / aggregate_iters / validation_freqs / early_stopping_rounds \
                 ({:?}) differ from the arbiter's ({mine:?}): every party needs the same",
                m.schedule
            ));
        }
    }
    crate::homo::same_train_mode(clients, |i| metas[i].train)?;
    let (p0, m0) = (clients[0], &metas[0]);
    for (p, m) in clients.iter().zip(metas).skip(1) {
        if m.train && m.n_features != m0.n_features {
            return Err(format!(
                "{p} has {} features, {p0} {}: a horizontal job needs the same features on every party",
                m.n_features, m0.n_features
            ));
        }
        if m.start != m0.start {
            return Err(format!(
                "warm start: {p}'s model was trained {:?} epochs, {p0}'s {:?}",
                m.start, m0.start
            ));
        }
    }
    if !m0.train {
        return Ok(vec![]);
    }
    let classes = crate::homo::united_classes(metas.iter().map(|m| m.classes.as_slice()));
    if classes.len() <= 2 && classes.iter().any(|&c| c != 0.0 && c != 1.0) {
        return Err(format!(
            "binary HomoLR needs labels 0 and 1; the parties' labels are {classes:?}"
        ));
    }
    let k = if classes.len() > 2 { classes.len() } else { 1 };
    if !m0.start.is_empty() && m0.start.len() != k {
        return Err(format!(
            "warm start: the model has {} class model(s), the data's {} classes need {k}",
            m0.start.len(),
            classes.len()
        ));
    }
    Ok(classes)
}

/// FATE's convergence checks, on the aggregated loss or model.
struct Converge<'a> {
    kind: &'a str,
    tol: f64,
    loss: Option<f64>,
    model: Option<Vec<f64>>,
}

impl Converge<'_> {
    fn check(&mut self, loss: f64, model: &[f64]) -> bool {
        let done = match self.kind {
            "abs" => loss < self.tol,
            "weight_diff" => self.model.as_ref().is_some_and(|prev| {
                prev.iter()
                    .zip(model)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt()
                    < self.tol
            }),
            _ => self.loss.is_some_and(|prev| (loss - prev).abs() < self.tol),
        };
        self.loss = Some(loss);
        self.model = Some(model.to_vec());
        done
    }
}

/// One model's rounds; returns the epochs trained.
fn fit(
    ctx: &TaskContext,
    param: &HomoLRParam,
    schedule: &Schedule,
    clients: &[Party],
    cls: usize,
    start: u32,
    suffix: &str,
) -> Result<u32, ComponentError> {
    let fed = ctx.federation.as_ref();
    let server = Server::connect(ctx, &format!("homo_lr.c{cls}"), true)?;
    let mut conv = Converge {
        kind: &param.early_stop,
        tol: param.tol,
        loss: None,
        model: None,
    };
    let mut best: Option<f64> = None;
    let mut stale = 0u32;
    let mut iters = start;
    for e in start..param.max_iter {
        iters = e + 1;
        if !schedule.aggregates(e) {
            continue;
        }
        let (mut mean, weight) = server.aggregate(2 * e as u64)?;
        let loss = mean.pop().unwrap_or(f64::NAN);
        ctx.tracker.log_metric(Metric {
            namespace: "train".into(),
            name: format!("loss{suffix}"),
            metric_type: "LOSS".into(),
            points: vec![(e as f64, loss)],
        });
        tracing::debug!("HomoLR arbiter: epoch {e} aggregated over weight {weight}, loss {loss}");
        let mut flag = Flag {
            stop: conv.check(loss, &mean),
            improved: false,
            early: false,
        };
        if schedule.stop_round(e) {
            let (metric, _) = server.aggregate(2 * e as u64 + 1)?;
            let metric = metric.first().copied().unwrap_or(f64::NAN);
            if best.is_none_or(|b| metric > b) {
                best = Some(metric);
                stale = 0;
                flag.improved = true;
            } else {
                stale += 1;
            }
            if schedule.early_stopping_rounds.is_some_and(|r| stale >= r) {
                flag.stop = true;
                flag.early = true;
            }
        }
        HOMO_LR_CONVERGE.remote(fed, &flag, clients, &format!("c{cls}.{e}"))?;
        if flag.stop {
            break;
        }
    }
    Ok(iters)
}
