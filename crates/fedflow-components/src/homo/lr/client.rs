//! Guest and host: the same role in a horizontal job. Each trains on its
//! own rows, sends its model through secure aggregation, continues from the
//! aggregate, and predicts its own rows.

use super::params::Reg;
use super::*;
use crate::evaluation::metrics;
use crate::hetero_lr::{predict_input, prediction_dataset, sigmoid};
use crate::homo::aggregator::Client as AggClient;
use crate::homo::optim::TorchOptimizer;
use crate::Metric;
use fedflow_core::Party;

fn arbiter(ctx: &TaskContext) -> Result<Party, ComponentError> {
    ctx.roster.party(Role::Arbiter, 0).ok_or_else(|| {
        ComponentError::Input(format!(
            "{}: HomoLR needs an arbiter in the conf's role section (role.arbiter)",
            ctx.component_name
        ))
    })
}

pub(super) fn run(
    ctx: &TaskContext,
    param: &HomoLRParam,
) -> Result<ComponentOutput, ComponentError> {
    if ctx.job_type == "predict" {
        return predict_job(ctx, param);
    }
    let fed = ctx.federation.as_ref();
    let arbiter = arbiter(ctx)?;
    let schedule = Schedule::of(param);
    let warm = ctx.inputs.model("HomoLR");
    let Some(train) = ctx.inputs.first("train_data") else {
        if warm.is_none() {
            return Err(ComponentError::Input(format!(
                "{}: no train_data and no model input",
                ctx.component_name
            )));
        }
        // A model next to test data only: predict (the arbiter is told).
        let meta = Meta {
            train: false,
            classes: vec![],
            n_features: 0,
            start: vec![],
            schedule,
            error: None,
        };
        HOMO_LR_META.remote(fed, &meta, &[arbiter], "")?;
        let plan: Plan = HOMO_LR_PLAN.get_one(fed, arbiter, "")?;
        plan.map_err(ComponentError::Failed)?;
        return predict_job(ctx, param);
    };

    // Everything that can be wrong locally goes to the arbiter first, so that
    // every party fails with the same message instead of waiting.
    let local = prepare(ctx, param, train, warm);
    let meta = match &local {
        Ok(l) => Meta {
            train: true,
            classes: l.classes.clone(),
            n_features: l.data.schema.header.len(),
            start: l.warm.as_ref().map(|w| w.2.clone()).unwrap_or_default(),
            schedule: schedule.clone(),
            error: None,
        },
        Err(e) => Meta {
            train: true,
            classes: vec![],
            n_features: 0,
            start: vec![],
            schedule: schedule.clone(),
            error: Some(e.to_string()),
        },
    };
    HOMO_LR_META.remote(fed, &meta, &[arbiter], "")?;
    let plan: Plan = HOMO_LR_PLAN.get_one(fed, arbiter, "")?;
    let local = local?;
    let classes = plan.map_err(ComponentError::Failed)?;
    let k = if classes.len() > 2 { classes.len() } else { 1 };
    let ovr = k > 1;
    if let Some((ws, wc, _)) = &local.warm {
        if ws.len() != k || (ovr && wc.as_deref() != Some(classes.as_slice())) {
            return Err(ComponentError::Input(format!(
                "warm start: the HomoLR model has {} class model(s), the data's classes need {k}",
                ws.len()
            )));
        }
    }
    let labels: Vec<f64> = local
        .data
        .rows
        .iter()
        .map(|r| r.label.unwrap_or(0.0))
        .collect();
    let val_labels: Option<Vec<f64>> = local
        .validate
        .as_ref()
        .map(|v| v.rows.iter().map(|r| r.label.unwrap_or(f64::NAN)).collect());

    let mut models = Vec::with_capacity(k);
    let mut fits = Vec::with_capacity(k);
    for cls in 0..k {
        let init = match &local.warm {
            Some((ws, _, _)) => Some(aligned(&ws[cls], &local.data.schema.header)?),
            None => None,
        };
        let f = Fit {
            param,
            schedule: &schedule,
            data: &local.data,
            ys: targets(&labels, &classes, cls),
            validate: local
                .validate
                .as_ref()
                .zip(val_labels.as_ref())
                .map(|(v, l)| (v, targets(l, &classes, cls))),
            init: init.map(|w| (w.ordered(), w.intercept)),
            start: local.warm.as_ref().map(|w| w.2[cls]).unwrap_or(0),
            cls,
            suffix: if ovr {
                format!("_{}", classes[cls])
            } else {
                String::new()
            },
        };
        let fitted = fit(ctx, &f)?;
        models.push(fitted.weights.clone());
        fits.push(fitted);
    }
    let classes_opt = ovr.then_some(classes.as_slice());
    let threshold = param.predict_param.threshold;
    let mut rows = predict_rows(&local.data, &models, classes_opt, threshold, "train");
    if let Some(v) = &local.validate {
        rows.extend(predict_rows(v, &models, classes_opt, threshold, "validate"));
    }
    let out = prediction_dataset(ctx, rows, &local.data.schema.sid, local.data.partitions)?;
    let iters: Vec<u32> = fits.iter().map(|f| f.iters).collect();
    let converged: Vec<bool> = fits.iter().map(|f| f.converged).collect();
    let model_param = if ovr {
        serde_json::json!({
            "need_one_vs_rest": true,
            "classes": classes,
            "header": local.data.schema.header,
            "one_vs_rest_result": models,
            "iters": iters,
            "is_converged": converged,
            "loss_history": fits.iter().map(|f| f.loss_history.clone()).collect::<Vec<_>>(),
            "checkpoints": fits.iter().map(|f| f.checkpoints.clone()).collect::<Vec<_>>(),
        })
    } else {
        let w = &models[0];
        serde_json::json!({
            "header": w.header,
            "weight": w.weight,
            "intercept": w.intercept,
            "fit_intercept": w.fit_intercept,
            "iters": iters[0],
            "is_converged": converged[0],
            "loss_history": fits[0].loss_history,
            "best_iteration": fits[0].best_iteration,
            "checkpoints": fits[0].checkpoints,
        })
    };
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "coef": models[0].weight,
            "intercept": models[0].intercept,
            "is_converged": converged[0],
            "iters": iters[0],
            "local_loss_history": fits[0].loss_history,
            "one_vs_rest": ovr,
        }),
        data: vec![out],
        model: Some(ModelData {
            module: "HomoLR".into(),
            meta: serde_json::to_value(param).unwrap_or_default(),
            param: model_param,
        }),
    })
}

/// A client's checked inputs.
struct Local {
    data: LocalData,
    validate: Option<LocalData>,
    classes: Vec<f64>,
    warm: Option<ModelWeights>,
}

fn prepare(
    ctx: &TaskContext,
    param: &HomoLRParam,
    train: &crate::Dataset,
    warm: Option<&ModelData>,
) -> Result<Local, ComponentError> {
    let who = ctx.local;
    let data = LocalData::load(train)?;
    if data.ids.is_empty() {
        return Err(ComponentError::Input(format!("{who}: empty train_data")));
    }
    let mut classes = Vec::new();
    for (id, r) in data.ids.iter().zip(&data.rows) {
        let y = r.label.ok_or_else(|| {
            ComponentError::Input(format!(
                "{who}: train_data row {id} has no label (every party of a horizontal job needs labels: \
                 DataTransform with_label)"
            ))
        })?;
        if !y.is_finite() {
            return Err(ComponentError::Input(format!(
                "{who}: row {id}: label {y} is not a number"
            )));
        }
        if let Some(x) = r.features.iter().find(|x| !x.is_finite()) {
            return Err(ComponentError::Input(format!(
                "{who}: row {id}: feature value {x} (fill missing values before HomoLR)"
            )));
        }
        classes.push(y);
    }
    classes.sort_by(f64::total_cmp);
    classes.dedup();
    let validate = crate::homo::validate_input(ctx, &data.schema.header)?;
    if param.early_stopping_rounds().is_some() && validate.is_none() {
        return Err(ComponentError::Param {
            path: format!("{}.early_stopping_rounds", ctx.component_name),
            message: format!("{who} has no validate_data to stop on"),
        });
    }
    let warm = match warm {
        Some(m) => Some(model_weights(m)?),
        None => None,
    };
    Ok(Local {
        data,
        validate,
        classes,
        warm,
    })
}

/// A model's weights in `header`'s order.
fn aligned(w: &LinearWeights, header: &[String]) -> Result<LinearWeights, ComponentError> {
    let ws = header
        .iter()
        .map(|h| {
            w.weight.get(h).copied().ok_or_else(|| {
                ComponentError::Input(format!("the HomoLR model has no weight for feature {h}"))
            })
        })
        .collect::<Result<Vec<f64>, _>>()?;
    Ok(LinearWeights::new(
        header,
        &ws,
        w.intercept,
        w.fit_intercept,
    ))
}

struct Fit<'a> {
    param: &'a HomoLRParam,
    schedule: &'a Schedule,
    data: &'a LocalData,
    ys: Vec<f64>,
    validate: Option<(&'a LocalData, Vec<f64>)>,
    init: Option<(Vec<f64>, f64)>,
    start: u32,
    cls: usize,
    /// Metric-name suffix per class (one-vs-rest).
    suffix: String,
}

struct Fitted {
    weights: LinearWeights,
    iters: u32,
    converged: bool,
    loss_history: Vec<f64>,
    best_iteration: Option<u32>,
    checkpoints: Vec<serde_json::Value>,
}

/// Row order of epoch `e`: id order for a full batch, else shuffled from
/// the seed and the epoch.
pub(crate) fn epoch_order(n: usize, batch: usize, seed: u64, e: u32) -> Vec<usize> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut order: Vec<usize> = (0..n).collect();
    if batch < n {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
            seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(e as u64),
        );
        order.shuffle(&mut rng);
    }
    order
}

/// The batch size for `n` rows.
pub(crate) fn batch_len(param: &HomoLRParam, n: usize) -> usize {
    if param.batch_size < 0 || param.batch_size as usize >= n {
        n
    } else {
        param.batch_size as usize
    }
}

/// PyTorch's BCELoss of one row (logs clamped at -100).
pub(crate) fn bce(s: f64, y: f64) -> f64 {
    -(y * s.ln().max(-100.0) + (1.0 - y) * (1.0 - s).ln().max(-100.0))
}

/// Mean gradient and mean loss over `batch`, penalty and proximal term
/// included. `p` is `[w…, b]` (b when the intercept is fitted).
fn batch_gradient(f: &Fit<'_>, batch: &[usize], p: &[f64], global: &[f64]) -> (Vec<f64>, f64) {
    let m = f.data.schema.header.len();
    let fit_b = p.len() > m;
    let b = if fit_b { p[m] } else { 0.0 };
    let mut g = vec![0.0; p.len()];
    let mut loss = 0.0;
    for &i in batch {
        let x = &f.data.rows[i].features;
        let z = crate::hetero_lr::dot(x, &p[..m]) + b;
        let s = sigmoid(z);
        let d = s - f.ys[i];
        for (gj, xj) in g.iter_mut().zip(x) {
            *gj += d * xj;
        }
        if fit_b {
            g[m] += d;
        }
        loss += bce(s, f.ys[i]);
    }
    let nb = batch.len() as f64;
    g.iter_mut().for_each(|v| *v /= nb);
    if let Reg::L1(a) = f.param.reg() {
        for j in 0..m {
            g[j] += a * p[j].signum() * (p[j] != 0.0) as u8 as f64;
        }
    }
    if f.param.use_proximal {
        for j in 0..p.len() {
            g[j] += f.param.mu * (p[j] - global[j]);
        }
    }
    (g, loss / nb)
}

/// Scores of `p` on the validation rows (none without validate_data).
fn validation_scores(f: &Fit<'_>, p: &[f64]) -> Option<Vec<f64>> {
    let (v, _) = f.validate.as_ref()?;
    let m = f.data.schema.header.len();
    let b = if p.len() > m { p[m] } else { 0.0 };
    Some(
        v.rows
            .iter()
            .map(|r| sigmoid(crate::hetero_lr::dot(&r.features, &p[..m]) + b))
            .collect(),
    )
}

/// Validation metric `name` (auc or ks) of the validation `scores`.
fn validation_metric(f: &Fit<'_>, scores: &[f64], name: &str) -> f64 {
    let Some((_, ys)) = &f.validate else {
        return f64::NAN;
    };
    match name {
        "ks" => metrics::ks(ys, scores),
        _ => metrics::auc(ys, scores).unwrap_or(0.5),
    }
}

fn fit(ctx: &TaskContext, f: &Fit<'_>) -> Result<Fitted, ComponentError> {
    let fed = ctx.federation.as_ref();
    let arbiter = arbiter(ctx)?;
    let param = f.param;
    let agg = AggClient::connect(ctx, &format!("homo_lr.c{}", f.cls), true)?;
    let n = f.data.ids.len();
    let m = f.data.schema.header.len();
    let fit_b = param.init_param.fit_intercept;
    let (w0, b0) = f.init.clone().unwrap_or_else(|| param.init_weights(m));
    let mut p = w0;
    if fit_b {
        p.push(b0);
    }
    let wd = match param.reg() {
        Reg::L2(a) => a,
        _ => 0.0,
    };
    let mut opt =
        TorchOptimizer::new(&param.optimizer, wd).ok_or_else(|| ComponentError::Param {
            path: format!("{}.optimizer", ctx.component_name),
            message: format!("unknown optimizer {:?}", param.optimizer),
        })?;
    let mut global = p.clone();
    let bs = batch_len(param, n);
    let seed = param.init_param.random_seed.unwrap_or(0);
    let mut k_step = 0u64;
    let mut history = Vec::new();
    let mut best: Option<(Vec<f64>, u32)> = None;
    let mut checkpoints = Vec::new();
    let mut iters = f.start;
    let mut converged = false;
    for e in f.start..param.max_iter {
        let order = epoch_order(n, bs, seed, e);
        let mut loss_sum = 0.0;
        for batch in order.chunks(bs) {
            let (g, loss) = batch_gradient(f, batch, &p, &global);
            opt.step(&mut p, &g, param.lr_at(k_step));
            k_step += 1;
            loss_sum += loss * batch.len() as f64;
        }
        let epoch_loss = loss_sum / n as f64;
        history.push(epoch_loss);
        ctx.tracker.log_metric(Metric {
            namespace: "train".into(),
            name: format!("loss{}", f.suffix),
            metric_type: "LOSS".into(),
            points: vec![(e as f64, epoch_loss)],
        });
        iters = e + 1;
        let mut stop = None;
        if f.schedule.aggregates(e) {
            let mut v = p.clone();
            v.push(epoch_loss);
            let mean = agg.aggregate(2 * e as u64, &v, n as f64)?;
            if mean.len() != v.len() {
                return Err(ComponentError::Failed(format!(
                    "aggregation round {e}: {} values back for {} sent",
                    mean.len(),
                    v.len()
                )));
            }
            let len = p.len();
            p.copy_from_slice(&mean[..len]);
            global.copy_from_slice(&p);
            if f.schedule.stop_round(e) {
                let scores = validation_scores(f, &p).unwrap_or_default();
                let metric = validation_metric(f, &scores, param.stop_metric());
                let nv = f.validate.as_ref().map(|v| v.0.ids.len()).unwrap_or(0);
                agg.aggregate(2 * e as u64 + 1, &[metric], nv as f64)?;
            }
            let flag: Flag = HOMO_LR_CONVERGE.get_one(fed, arbiter, &format!("c{}.{e}", f.cls))?;
            if flag.improved {
                best = Some((p.clone(), e + 1));
            }
            if flag.stop {
                stop = Some(flag.early);
            }
        }
        if let Some(scores) = f
            .schedule
            .validates(e)
            .then(|| validation_scores(f, &p))
            .flatten()
        {
            for name in ["auc", "ks"] {
                if param.metrics.iter().any(|x| x == name) {
                    ctx.tracker.log_metric(Metric {
                        namespace: "validate".into(),
                        name: format!("{name}{}", f.suffix),
                        metric_type: "EVALUATION".into(),
                        points: vec![(e as f64, validation_metric(f, &scores, name))],
                    });
                }
            }
        }
        if let Some(every) = param.checkpoint_every() {
            if (e + 1) % every == 0 {
                checkpoints.push(serde_json::json!({
                    "epoch": e + 1,
                    "coef": p[..m].to_vec(),
                    "intercept": if fit_b { p[m] } else { 0.0 },
                }));
            }
        }
        if let Some(early) = stop {
            converged = true;
            if early {
                if let Some((bp, _)) = &best {
                    p.clone_from(bp);
                }
            }
            break;
        }
    }
    tracing::info!(
        "HomoLR {}: class model {} trained {iters} epochs, converged {converged}",
        ctx.local,
        f.cls
    );
    let b = if fit_b { p[m] } else { 0.0 };
    Ok(Fitted {
        weights: LinearWeights::new(&f.data.schema.header, &p[..m], b, fit_b),
        iters,
        converged,
        loss_history: history,
        best_iteration: best.map(|b| b.1),
        checkpoints,
    })
}

/// Scores this party's rows with the model input, locally.
fn predict_job(ctx: &TaskContext, param: &HomoLRParam) -> Result<ComponentOutput, ComponentError> {
    let md = ctx
        .inputs
        .model("HomoLR")
        .ok_or_else(|| ComponentError::Input("predict job without a HomoLR model".into()))?;
    let (ws, classes, _) = model_weights(md)?;
    let data = LocalData::load(predict_input(ctx)?)?;
    let ws = ws
        .iter()
        .map(|w| aligned(w, &data.schema.header))
        .collect::<Result<Vec<_>, _>>()?;
    let rows = predict_rows(
        &data,
        &ws,
        classes.as_deref(),
        param.predict_param.threshold,
        "test",
    );
    let out = prediction_dataset(ctx, rows, &data.schema.sid, data.partitions)?;
    Ok(ComponentOutput {
        summary: serde_json::json!({"rows": data.ids.len()}),
        data: vec![out],
        model: Some(md.clone()),
    })
}
