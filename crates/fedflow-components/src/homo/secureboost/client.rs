//! Guest and host: labels, binning, g/h histograms of their own rows, the
//! trees as the arbiter grows them, predictions.

use super::*;
use crate::hetero_lr::{prediction_dataset, LocalData};
use crate::homo::aggregator;
use crate::tree::hist::{self, HistLayout};
use crate::tree::{FullNode, FullTree};
use crate::{Instance, Metric, ModelData, Prediction};
use fedflow_computing::TypedTable;
use fedflow_core::Party;
use rayon::prelude::*;

fn arbiter(ctx: &TaskContext) -> Result<Party, ComponentError> {
    aggregator::arbiter(&ctx.roster, &ctx.component_name)
}

/// What a client brings to training.
struct Local {
    data: LocalData,
    labels: Vec<f64>,
    validate: Option<LocalData>,
    classes: Vec<f64>,
    warm: Option<HomoSbtModel>,
}

fn load_model(md: &ModelData) -> Result<HomoSbtModel, ComponentError> {
    serde_json::from_value(md.param.clone())
        .map_err(|e| ComponentError::Input(format!("HomoSecureBoost model param: {e}")))
}

fn prepare(
    ctx: &TaskContext,
    param: &HomoSecureBoostParam,
    train: &crate::Dataset,
) -> Result<Local, ComponentError> {
    let who = ctx.local;
    let data = LocalData::load(train)?;
    if data.ids.is_empty() {
        return Err(ComponentError::Input(format!("{who}: empty train_data")));
    }
    let mut labels = Vec::with_capacity(data.ids.len());
    for (id, r) in data.ids.iter().zip(&data.rows) {
        let y = r.label.ok_or_else(|| {
            ComponentError::Input(format!(
                "{who}: train_data row {id} has no label (every party of a horizontal job needs \
                 labels: DataTransform with_label)"
            ))
        })?;
        if !y.is_finite() {
            return Err(ComponentError::Input(format!(
                "{who}: row {id}: label {y} is not a number"
            )));
        }
        if let Some(x) = r.features.iter().find(|x| x.is_infinite()) {
            return Err(ComponentError::Input(format!(
                "{who}: row {id}: feature value {x} is infinite"
            )));
        }
        labels.push(y);
    }
    let mut classes = Vec::new();
    if !param.task_type.eq("regression") {
        classes = labels.clone();
        classes.sort_by(f64::total_cmp);
        classes.dedup();
    }
    let validate = crate::homo::validate_input(ctx, &data.schema.header)?;
    let warm = match ctx.inputs.model("HomoSecureBoost") {
        Some(m) => {
            let w = load_model(m)?;
            if w.header != data.schema.header {
                return Err(ComponentError::Input(format!(
                    "{who}: warm start: the model's features {:?} differ from train_data's {:?}",
                    w.header, data.schema.header
                )));
            }
            let task = if w.objective == Objective::Lse {
                "regression"
            } else {
                "classification"
            };
            if task != param.task_type || w.multi_mode != param.multi_mode {
                return Err(ComponentError::Input(format!(
                    "{who}: warm start: the model is a {task} / {} model, the component trains {} / {}",
                    w.multi_mode, param.task_type, param.multi_mode
                )));
            }
            Some(w)
        }
        None => None,
    };
    Ok(Local {
        data,
        labels,
        validate,
        classes,
        warm,
    })
}

pub(super) fn run(
    ctx: &TaskContext,
    param: &HomoSecureBoostParam,
) -> Result<ComponentOutput, ComponentError> {
    if ctx.job_type == "predict" {
        return predict_job(ctx, param);
    }
    let fed = ctx.federation.as_ref();
    let arbiter = arbiter(ctx)?;
    let schedule = Schedule::of(param);
    let Some(train) = ctx.inputs.first("train_data") else {
        // A model next to test data only: predict (the arbiter is told).
        let meta = Meta {
            train: false,
            classes: vec![],
            header: vec![],
            warm: None,
            schedule,
            error: None,
        };
        HOMO_SBT_META.remote(fed, &meta, &[arbiter], "")?;
        let plan: Plan = HOMO_SBT_PLAN.get_one(fed, arbiter, "")?;
        plan.map_err(ComponentError::Failed)?;
        return predict_job(ctx, param);
    };
    // Everything that can be wrong locally goes to the arbiter first, so that
    // every party fails with the same message instead of waiting.
    let local = prepare(ctx, param, train);
    let meta = match &local {
        Ok(l) => Meta {
            train: true,
            classes: l.classes.clone(),
            header: l.data.schema.header.clone(),
            warm: l.warm.as_ref().map(|w| (w.trees.len(), w.classes.clone())),
            schedule: schedule.clone(),
            error: None,
        },
        Err(e) => Meta {
            train: true,
            classes: vec![],
            header: vec![],
            warm: None,
            schedule: schedule.clone(),
            error: Some(e.to_string()),
        },
    };
    HOMO_SBT_META.remote(fed, &meta, &[arbiter], "")?;
    let plan: Plan = HOMO_SBT_PLAN.get_one(fed, arbiter, "")?;
    let local = local?;
    let classes = plan.map_err(ComponentError::Failed)?;
    let fitted = fit(ctx, param, &local, classes)?;
    output(ctx, param, &local, fitted)
}

struct Fitted {
    model: HomoSbtModel,
    train_scores: Vec<Vec<f64>>,
}

/// Row `i`'s bin of every feature.
fn bin_rows(rows: &[Instance], sps: &[Vec<f64>], missing: bool) -> Vec<Vec<u16>> {
    rows.par_iter()
        .map(|r| {
            r.features
                .iter()
                .zip(sps)
                .map(|(&x, sp)| hist::bin_value(x, sp, missing))
                .collect()
        })
        .collect()
}

/// FATE's split points (ending at the column's maximum) as thresholds:
/// the values a row can be `<=` and still have rows above.
fn thresholds(split_points: &[f64]) -> Vec<f64> {
    let Some(&max) = split_points.last() else {
        return Vec::new();
    };
    let mut t: Vec<f64> = split_points.iter().copied().filter(|&s| s < max).collect();
    t.dedup();
    t
}

fn fit(
    ctx: &TaskContext,
    param: &HomoSecureBoostParam,
    local: &Local,
    classes: Vec<f64>,
) -> Result<Fitted, ComponentError> {
    let cpn = &ctx.component_name;
    let fed = ctx.federation.as_ref();
    let arbiter = arbiter(ctx)?;
    let header = &local.data.schema.header;
    let objective = objective_of(param, &classes);
    let use_missing = param.use_missing || param.tree_param.use_missing;
    // Class indices as labels (classification).
    let y: Vec<f64> = if objective == Objective::Lse {
        local.labels.clone()
    } else {
        local
            .labels
            .iter()
            .map(|v| classes.iter().position(|c| c == v).unwrap_or(0) as f64)
            .collect()
    };
    let n = y.len();
    let agg = aggregator::Client::connect(ctx, AGG_PREFIX, true)?;
    let mut round = 0u64;
    let mut next = || {
        round += 1;
        round
    };

    // Split points, init score, starting scores.
    let (sps, init, mut trees, mut importance, mut loss_history) = match &local.warm {
        Some(w) => (
            w.split_points.clone(),
            w.init_score.clone(),
            w.trees.clone(),
            w.feature_importance.clone(),
            w.loss_history.clone(),
        ),
        None => {
            let table: TypedTable<String, Instance> = TypedTable::from_raw(
                ctx.inputs
                    .first("train_data")
                    .ok_or_else(|| ComponentError::Input("no train_data".into()))?
                    .table
                    .clone(),
            );
            let binning = param.binning();
            let bm = crate::homo::binning::fit(
                ctx,
                &binning,
                crate::homo::binning::Method::RecursiveQuery,
                &table,
                header,
            )?;
            let sps: Vec<Vec<f64>> = header
                .iter()
                .map(|h| {
                    bm.binning_result
                        .get(h)
                        .map(|r| thresholds(&r.split_points))
                        .unwrap_or_default()
                })
                .collect();
            let stats = agg.aggregate_sum(next(), &[n as f64, y.iter().sum::<f64>()])?;
            let init = match objective {
                Objective::Lse => vec![stats[1] / stats[0].max(1.0)],
                o => vec![0.0; o.dims()],
            };
            (sps, init, Vec::new(), BTreeMap::new(), Vec::new())
        }
    };
    let model_of = |trees: Vec<FullTree>, importance, loss_history| HomoSbtModel {
        header: header.clone(),
        split_points: sps.clone(),
        trees,
        init_score: init.clone(),
        objective,
        classes: classes.clone(),
        learning_rate: param.learning_rate,
        multi_mode: param.multi_mode.clone(),
        use_missing,
        feature_importance: importance,
        loss_history,
    };
    if aggregator::clients(&ctx.roster).first() == Some(&ctx.local) {
        let counts: Vec<usize> = sps.iter().map(|s| s.len()).collect();
        HOMO_SBT_BINS.remote(fed, &counts, &[arbiter], "")?;
    }
    let bins = bin_rows(&local.data.rows, &sps, use_missing);
    let mut scores: Vec<Vec<f64>> = {
        let m = model_of(trees.clone(), BTreeMap::new(), Vec::new());
        local
            .data
            .rows
            .par_iter()
            .map(|r| m.scores(&r.features))
            .collect()
    };
    let every = param.validation_every(cpn)?;
    let (boosters, dims) = param.shape(objective);
    let layout = HistLayout::new(dims, &sps, use_missing);
    let mut prev_loss: Option<f64> = None;
    let start = trees.len();
    for r in 0..param.num_trees {
        let k = objective.dims();
        // g/h of every class from the scores before this round.
        let gh_all: Vec<Vec<(f64, f64)>> = scores
            .par_iter()
            .zip(&y)
            .map(|(z, &t)| (0..k).map(|c| objective.grad_hess(z, t, c)).collect())
            .collect();
        for b in 0..boosters {
            let t = trees.len() - start;
            let gh: Vec<Vec<f64>> = gh_all
                .iter()
                .map(|v| {
                    if dims == 1 {
                        vec![v[b].0, v[b].1]
                    } else {
                        v.iter().map(|p| p.0).chain(v.iter().map(|p| p.1)).collect()
                    }
                })
                .collect();
            let (mut tree, leaf_of, splits) =
                grow(ctx, &agg, &mut next, &layout, &bins, &gh, t, param)?;
            tree.class = if dims == 1 { b } else { 0 };
            for (fid, g) in splits {
                let name = header
                    .get(fid as usize)
                    .cloned()
                    .unwrap_or_else(|| format!("x{fid}"));
                *importance.entry(name).or_insert(0.0) +=
                    if param.tree_param.feature_importance_type == "gain" {
                        g
                    } else {
                        1.0
                    };
            }
            for (z, &leaf) in scores.iter_mut().zip(&leaf_of) {
                let w = &tree.nodes[leaf as usize].weight;
                if dims == 1 {
                    z[b] += param.learning_rate * w[0];
                } else {
                    z.iter_mut()
                        .zip(w)
                        .for_each(|(a, w)| *a += param.learning_rate * w);
                }
            }
            trees.push(tree);
        }
        let local_loss = objective.loss(&scores, &y);
        let loss = agg.aggregate(next(), &[local_loss], n as f64)?[0];
        loss_history.push(loss);
        let x = (start / boosters.max(1)) as f64 + r as f64;
        ctx.tracker.log_metric(Metric {
            namespace: "train".into(),
            name: "loss".into(),
            metric_type: "LOSS".into(),
            points: vec![(x, loss)],
        });
        if let (Some(e), Some(v)) = (every, &local.validate) {
            if (r + 1).is_multiple_of(e) {
                let m = model_of(trees.clone(), BTreeMap::new(), Vec::new());
                let (vs, vy) = validation(&m, v, &classes);
                ctx.tracker.log_metric(Metric {
                    namespace: "validate".into(),
                    name: "loss".into(),
                    metric_type: "LOSS".into(),
                    points: vec![(x, objective.loss(&vs, &vy))],
                });
            }
        }
        tracing::info!("homo_secureboost {}: round {r} loss {loss}", ctx.local);
        if param.n_iter_no_change && prev_loss.is_some_and(|p| (p - loss).abs() < param.tol) {
            break;
        }
        prev_loss = Some(loss);
    }
    Ok(Fitted {
        model: model_of(trees, importance, loss_history),
        train_scores: scores,
    })
}

/// Scores and class-index labels of the validate rows.
fn validation(m: &HomoSbtModel, v: &LocalData, classes: &[f64]) -> (Vec<Vec<f64>>, Vec<f64>) {
    let scores: Vec<Vec<f64>> = v.rows.par_iter().map(|r| m.scores(&r.features)).collect();
    let y = v
        .rows
        .iter()
        .map(|r| {
            let l = r.label.unwrap_or(f64::NAN);
            if m.objective == Objective::Lse {
                l
            } else {
                classes.iter().position(|c| *c == l).unwrap_or(0) as f64
            }
        })
        .collect();
    (scores, y)
}

/// A grown tree, each row's leaf, every split's `(feature, gain)`.
type Grown = (FullTree, Vec<u32>, Vec<(u32, f64)>);

/// One tree: the depth rounds with the arbiter. Returns the tree, each
/// row's leaf and every split's `(feature, gain)`.
#[allow(clippy::too_many_arguments)]
fn grow(
    ctx: &TaskContext,
    agg: &aggregator::Client<'_>,
    next: &mut impl FnMut() -> u64,
    layout: &HistLayout,
    bins: &[Vec<u16>],
    gh: &[Vec<f64>],
    t: usize,
    param: &HomoSecureBoostParam,
) -> Result<Grown, ComponentError> {
    let fed = ctx.federation.as_ref();
    let arbiter = arbiter(ctx)?;
    let n = bins.len();
    let mut nodes = vec![leaf_node(0)];
    let mut positions = vec![0u32; n];
    // Nodes of this depth and which of them the arbiter needs histograms of.
    let mut layer: Vec<u32> = vec![0];
    let mut send: Vec<u32> = vec![0];
    let mut gains: Vec<(u32, f64)> = Vec::new();
    for depth in 0..param.tree_param.max_depth {
        let mut members: BTreeMap<u32, Vec<usize>> = send.iter().map(|&s| (s, vec![])).collect();
        for (i, p) in positions.iter().enumerate() {
            if let Some(m) = members.get_mut(p) {
                m.push(i);
            }
        }
        let mut upload = Vec::with_capacity(send.len() * layout.len());
        for s in &send {
            upload.extend(hist::build(layout, bins, gh, &members[s]));
        }
        agg.send(next(), &upload, 1.0)?;
        let decisions: Vec<Decision> =
            HOMO_SBT_SPLITS.get_one(fed, arbiter, &format!("{t}.{depth}"))?;
        if decisions.len() != layer.len()
            || decisions.iter().zip(&layer).any(|(d, &id)| d.node != id)
        {
            return Err(ComponentError::Failed(format!(
                "{}: the arbiter's splits do not match the tree's nodes at depth {depth}",
                ctx.component_name
            )));
        }
        let mut next_layer = Vec::new();
        let mut next_send = Vec::new();
        let mut moves: BTreeMap<u32, (u32, u16, bool, u32, u32)> = BTreeMap::new();
        for d in &decisions {
            let Some((fid, bid, missing_left, gain)) = d.split else {
                continue;
            };
            let sp = layout.bins.get(fid as usize).ok_or_else(|| {
                ComponentError::Failed(format!("the arbiter split on unknown feature {fid}"))
            })?;
            if bid as usize >= *sp {
                return Err(ComponentError::Failed(format!(
                    "the arbiter split feature {fid} at unknown bin {bid}"
                )));
            }
            let l = nodes.len() as u32;
            let r = l + 1;
            nodes.push(leaf_node(l));
            nodes.push(leaf_node(r));
            let nd = &mut nodes[d.node as usize];
            nd.is_leaf = false;
            nd.fid = Some(fid);
            nd.bid = Some(bid);
            nd.missing_left = missing_left || !layout.missing;
            nd.left = Some(l);
            nd.right = Some(r);
            gains.push((fid, gain));
            moves.insert(d.node, (fid, bid, nd.missing_left, l, r));
            next_layer.extend([l, r]);
            next_send.push(l);
        }
        positions.par_iter_mut().enumerate().for_each(|(i, p)| {
            if let Some(&(fid, bid, missing_left, l, r)) = moves.get(p) {
                let b = bins[i][fid as usize];
                let left = if layout.missing_bin(fid as usize) == Some(b) {
                    missing_left
                } else {
                    b <= bid
                };
                *p = if left { l } else { r };
            }
        });
        if next_layer.is_empty() {
            break;
        }
        layer = next_layer;
        send = next_send;
    }
    let weights: Vec<Vec<f64>> = HOMO_SBT_WEIGHTS.get_one(fed, arbiter, &t.to_string())?;
    if weights.len() != nodes.len() || weights.iter().any(|w| w.len() != layout.dims) {
        return Err(ComponentError::Failed(format!(
            "{}: the arbiter sent {} node weights for {} nodes",
            ctx.component_name,
            weights.len(),
            nodes.len()
        )));
    }
    for (nd, w) in nodes.iter_mut().zip(weights) {
        nd.weight = w;
    }
    Ok((FullTree { nodes, class: 0 }, positions, gains))
}

fn leaf_node(id: u32) -> FullNode {
    FullNode {
        id,
        is_leaf: true,
        fid: None,
        bid: None,
        threshold: None,
        missing_left: true,
        left: None,
        right: None,
        weight: vec![],
    }
}

fn rows_of(
    m: &HomoSbtModel,
    data: &LocalData,
    scores: &[Vec<f64>],
    threshold: f64,
    kind: &str,
) -> Vec<(String, Prediction)> {
    data.ids
        .iter()
        .zip(&data.rows)
        .zip(scores)
        .map(|((id, r), z)| {
            let label = r.label.unwrap_or(f64::NAN);
            (
                id.clone(),
                crate::tree::prediction(m.objective, &m.classes, threshold, label, z, kind),
            )
        })
        .collect()
}

fn output(
    ctx: &TaskContext,
    param: &HomoSecureBoostParam,
    local: &Local,
    fitted: Fitted,
) -> Result<ComponentOutput, ComponentError> {
    let mut model = fitted.model;
    for t in &mut model.trees {
        for nd in &mut t.nodes {
            if let (Some(fid), Some(bid)) = (nd.fid, nd.bid) {
                nd.threshold = model
                    .split_points
                    .get(fid as usize)
                    .and_then(|s| s.get(bid as usize))
                    .copied();
            }
        }
    }
    let th = param.predict_param.threshold;
    let mut rows = rows_of(&model, &local.data, &fitted.train_scores, th, "train");
    if let Some(v) = &local.validate {
        let vs: Vec<Vec<f64>> = v
            .rows
            .par_iter()
            .map(|r| model.scores(&r.features))
            .collect();
        rows.extend(rows_of(&model, v, &vs, th, "validate"));
    }
    let out = prediction_dataset(ctx, rows, &local.data.schema.sid, local.data.partitions)?;
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "loss_history": model.loss_history,
            "feature_importance": model.feature_importance,
            "tree_num": model.trees.len(),
            "classes": model.classes,
        }),
        data: vec![out],
        model: Some(ModelData {
            module: "HomoSecureBoost".into(),
            meta: serde_json::to_value(param).unwrap_or_default(),
            param: serde_json::to_value(&model).unwrap_or_default(),
        }),
    })
}

/// A predict job (or a model next to test data only): every client scores
/// its own rows with the model, no federation.
fn predict_job(
    ctx: &TaskContext,
    param: &HomoSecureBoostParam,
) -> Result<ComponentOutput, ComponentError> {
    let md = ctx.inputs.model("HomoSecureBoost").ok_or_else(|| {
        ComponentError::Input(format!(
            "{}: a predict job needs the HomoSecureBoost model of the training job",
            ctx.component_name
        ))
    })?;
    let model = load_model(md)?;
    let input = crate::hetero_lr::predict_input(ctx).map_err(|_| {
        ComponentError::Input(format!(
            "{}: no test_data: nothing feeds this component data (is the Reader upstream \
             configured with a table for {} in the conf's component_parameters?)",
            ctx.component_name, ctx.local
        ))
    })?;
    let data = LocalData::load(input)?;
    if !data.ids.is_empty() && data.schema.header != model.header {
        return Err(ComponentError::Input(format!(
            "{}: the data's features {:?} differ from the model's {:?}",
            ctx.component_name, data.schema.header, model.header
        )));
    }
    let scores: Vec<Vec<f64>> = data
        .rows
        .par_iter()
        .map(|r| model.scores(&r.features))
        .collect();
    let rows = rows_of(
        &model,
        &data,
        &scores,
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
