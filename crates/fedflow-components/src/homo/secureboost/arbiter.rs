//! Arbiter: checks the clients agree, aligns their classes, serves the
//! binning, and grows every tree from the clients' summed histograms (it
//! never sees one client's); it holds no rows.

use super::*;
use crate::homo::aggregator::{self, Server};
use crate::tree::hist::{self, HistLayout, SplitRule};
use crate::tree::sample_features;
use crate::{Metric, ModelData};
use fedflow_core::Party;

pub(super) fn run(
    ctx: &TaskContext,
    param: &HomoSecureBoostParam,
) -> Result<ComponentOutput, ComponentError> {
    if ctx.job_type == "predict" {
        return Ok(ComponentOutput::default());
    }
    let fed = ctx.federation.as_ref();
    let clients = aggregator::clients(&ctx.roster);
    if clients.is_empty() {
        return Err(ComponentError::Input(
            "HomoSecureBoost: the job has no guest or host".into(),
        ));
    }
    let metas: Vec<Meta> = HOMO_SBT_META.get(fed, &clients, "")?;
    let plan = plan(&clients, &metas, &Schedule::of(param));
    HOMO_SBT_PLAN.remote(fed, &plan, &clients, "")?;
    let classes = plan.map_err(ComponentError::Failed)?;
    if !metas[0].train {
        return Ok(ComponentOutput::default());
    }
    let objective = objective_of(param, &classes);
    let warm = metas[0].warm.is_some();
    let agg = Server::connect(ctx, AGG_PREFIX, true)?;
    let mut round = 0u64;
    let mut next = || {
        round += 1;
        round
    };
    if !warm {
        crate::homo::binning::serve(
            ctx,
            &param.binning(),
            crate::homo::binning::Method::RecursiveQuery,
        )?;
        agg.sum_back(next())?;
    }
    let guest = clients[0];
    let bins: Vec<usize> = HOMO_SBT_BINS.get_one(fed, guest, "")?;
    if bins.len() != metas[0].header.len() {
        return Err(ComponentError::Failed(format!(
            "{guest} sent bins for {} features, its header has {}",
            bins.len(),
            metas[0].header.len()
        )));
    }
    let use_missing = param.use_missing || param.tree_param.use_missing;
    let (boosters, dims) = param.shape(objective);
    let sps: Vec<Vec<f64>> = bins.iter().map(|&b| vec![0.0; b]).collect();
    let layout = HistLayout::new(dims, &sps, use_missing);
    let mut loss_history = Vec::new();
    let mut prev: Option<f64> = None;
    let mut t = 0usize;
    for r in 0..param.num_trees {
        for _ in 0..boosters {
            grow(ctx, &agg, &mut next, &layout, t, param, &clients)?;
            t += 1;
        }
        let (mean, _) = agg.aggregate(next())?;
        let loss = mean.first().copied().unwrap_or(f64::NAN);
        loss_history.push(loss);
        ctx.tracker.log_metric(Metric {
            namespace: "train".into(),
            name: "loss".into(),
            metric_type: "LOSS".into(),
            points: vec![(r as f64, loss)],
        });
        if param.n_iter_no_change && prev.is_some_and(|p| (p - loss).abs() < param.tol) {
            break;
        }
        prev = Some(loss);
    }
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "loss_history": loss_history,
            "tree_num": t,
            "clients": clients.len(),
        }),
        data: vec![],
        model: Some(ModelData {
            module: "HomoSecureBoost".into(),
            meta: serde_json::to_value(param).unwrap_or_default(),
            param: serde_json::json!({"classes": classes, "tree_num": t, "loss_history": loss_history}),
        }),
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
                "{p}'s parameters ({:?}) differ from the arbiter's ({mine:?}): every party needs \
                 the same task_type, num_trees, tree_param.max_depth, bin_num, multi_mode, \
                 use_missing and n_iter_no_change",
                m.schedule
            ));
        }
    }
    crate::homo::same_train_mode(clients, |i| metas[i].train)?;
    let (p0, m0) = (clients[0], &metas[0]);
    for (p, m) in clients.iter().zip(metas).skip(1) {
        if m.header != m0.header {
            return Err(format!(
                "{p}'s features {:?} differ from {p0}'s {:?}: a horizontal job needs the same \
                 features on every party",
                m.header, m0.header
            ));
        }
        if m.warm != m0.warm {
            return Err(format!(
                "warm start: {p}'s model ({:?} trees, classes) differs from {p0}'s ({:?})",
                m.warm, m0.warm
            ));
        }
    }
    if !m0.train {
        return Ok(vec![]);
    }
    if m0.header.is_empty() {
        return Err(format!("{p0}: train_data has no features"));
    }
    let classes = crate::homo::united_classes(metas.iter().map(|m| m.classes.as_slice()));
    if mine.task_type == "classification" && classes.len() < 2 {
        return Err(format!(
            "classification needs at least two label classes over all parties; they have {classes:?}"
        ));
    }
    if let Some((_, wc)) = &m0.warm {
        if *wc != classes {
            return Err(format!(
                "warm start: the model's classes {wc:?} differ from the data's {classes:?}"
            ));
        }
    }
    Ok(classes)
}

/// One tree: per depth, sum the clients' histograms, derive the siblings,
/// split, tell the clients; then every node's weight.
fn grow(
    ctx: &TaskContext,
    agg: &Server<'_>,
    next: &mut impl FnMut() -> u64,
    layout: &HistLayout,
    t: usize,
    param: &HomoSecureBoostParam,
    clients: &[Party],
) -> Result<(), ComponentError> {
    let fed = ctx.federation.as_ref();
    let tp = &param.tree_param;
    let rule = SplitRule {
        lambda: tp.lambda(),
        min_leaf: tp.min_leaf_node.max(1) as usize,
        min_child_weight: tp.min_child_weight,
    };
    let min_split = (tp.min_sample_split as usize).max(2 * rule.min_leaf) as f64;
    let use_f = sample_features(
        layout.features(),
        param.subsample_feature_rate,
        param.random_seed.wrapping_add(t as u64),
    );
    let count = 2 * layout.dims;
    // Per node: totals; per node of the layer: (parent, sibling) and whether
    // the clients send its histogram.
    let mut stats: Vec<Vec<f64>> = vec![vec![]];
    let mut family: Vec<Option<(u32, u32)>> = vec![None];
    let mut parent_hists: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    let mut layer: Vec<u32> = vec![0];
    let mut send: Vec<u32> = vec![0];
    for depth in 0..tp.max_depth {
        let (sum, _) = agg.sum(next())?;
        if sum.len() != send.len() * layout.len() {
            return Err(ComponentError::Failed(format!(
                "{}: the clients sent {} histogram values for {} nodes of {}",
                ctx.component_name,
                sum.len(),
                send.len(),
                layout.len()
            )));
        }
        let mut hists: BTreeMap<u32, Vec<f64>> = send
            .iter()
            .zip(sum.chunks(layout.len().max(1)))
            .map(|(&id, h)| (id, h.to_vec()))
            .collect();
        for &id in &layer {
            if hists.contains_key(&id) {
                continue;
            }
            let (p, s) = family[id as usize].ok_or_else(|| {
                ComponentError::Failed(format!("node {id} has no histogram and no parent"))
            })?;
            let derived = hist::subtract(&parent_hists[&p], &hists[&s]);
            hists.insert(id, derived);
        }
        let mut decisions = Vec::with_capacity(layer.len());
        let mut next_layer = Vec::new();
        let mut next_send = Vec::new();
        let mut kept: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
        for &id in &layer {
            let h = &hists[&id];
            let total = if id == 0 {
                hist::totals(layout, h)
            } else {
                stats[id as usize].clone()
            };
            if id == 0 {
                stats[0] = total.clone();
            }
            let split = (total[count] + 0.5 >= min_split)
                .then(|| hist::best_split(layout, h, &total, &use_f, &rule))
                .flatten()
                .filter(|s| s.gain > tp.min_impurity_split);
            let split = match split {
                Some(s) => {
                    let l = stats.len() as u32;
                    let r = l + 1;
                    let right: Vec<f64> = total.iter().zip(&s.left).map(|(a, b)| a - b).collect();
                    stats.push(s.left.clone());
                    stats.push(right);
                    family.push(Some((id, r)));
                    family.push(Some((id, l)));
                    next_layer.extend([l, r]);
                    next_send.push(l);
                    kept.insert(id, h.clone());
                    Some((s.fid, s.bid, s.missing_left, s.gain))
                }
                None => None,
            };
            decisions.push(Decision { node: id, split });
        }
        HOMO_SBT_SPLITS.remote(fed, &decisions, clients, &format!("{t}.{depth}"))?;
        if next_layer.is_empty() {
            break;
        }
        parent_hists = kept;
        layer = next_layer;
        send = next_send;
    }
    let weights: Vec<Vec<f64>> = stats
        .iter()
        .map(|s| hist::weights(s, layout.dims, rule.lambda))
        .collect();
    HOMO_SBT_WEIGHTS.remote(fed, &weights, clients, &t.to_string())?;
    Ok(())
}
