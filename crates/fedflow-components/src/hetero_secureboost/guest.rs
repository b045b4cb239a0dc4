//! Guest side: labels, gradients, the key, split finding and the trees.

use super::ops::{bin_matrix, gain, leaf_weight, sample_features, GhLayout, Node, Objective, Tree};
use super::*;
use crate::hetero_lr::{parties, predict_input, prediction_dataset, train_input, LocalData};
use crate::tree::hist;
use crate::{Metric, ModelData, Prediction};
use fedflow_core::Party;
use fedflow_crypto::{BigUint, Obfuscation, PaillierKeypair, PrivateKey};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};

/// The guest's model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GuestModel {
    /// Feature names.
    pub header: Vec<String>,
    /// Trees in boosting order.
    pub trees: Vec<Tree>,
    /// Initial scores.
    pub init_score: Vec<f64>,
    /// Objective.
    pub objective: Objective,
    /// Class label values (classification).
    pub classes: Vec<f64>,
    /// Shrinkage.
    pub learning_rate: f64,
    /// Splits per feature (`guest:<name>` or `host_<pid>_<fid>`).
    pub feature_importance: BTreeMap<String, u32>,
    /// Training loss per round.
    pub loss_history: Vec<f64>,
}

/// Best split of a node so far.
#[derive(Clone, Debug)]
struct Best {
    gain: f64,
    site: Site,
}

#[derive(Clone, Debug)]
enum Site {
    Guest { fid: u32, bid: u16 },
    Host { host: usize, mask: u64 },
}

struct Ctx<'a> {
    ctx: &'a TaskContext,
    param: &'a HeteroSecureBoostParam,
    hosts: Vec<Party>,
    sk: &'a PrivateKey,
    bins: &'a [Vec<u16>],
    sps: &'a [Vec<f64>],
    header: &'a [String],
}

pub(super) fn train(
    ctx: &TaskContext,
    param: &HeteroSecureBoostParam,
) -> Result<ComponentOutput, ComponentError> {
    let fed = ctx.federation.as_ref();
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
    let (objective, classes, y) = objective_of(param, &labels);
    let weighted = crate::preprocess::sample_weight::is_weighted(&data.schema);
    let x: Vec<Vec<f64>> = data.rows.iter().map(|r| r.features.clone()).collect();
    let (sps, bins) = bin_matrix(&x, param.bin_num);
    let (pk, sk) = PaillierKeypair::generate(param.encrypt_param.key_length)
        .map_err(|e| ComponentError::Failed(format!("paillier keygen: {e}")))?;
    PAILLIER_PUBKEY.remote(fed, &pk, &hosts, "")?;
    crate::hetero_lr::cipher::precompute(&pk, n);
    let c = Ctx {
        ctx,
        param,
        hosts: hosts.clone(),
        sk: &sk,
        bins: &bins,
        sps: &sps,
        header: &data.schema.header,
    };

    let k = objective.dims();
    let init = objective.init(&y);
    let mut scores: Vec<Vec<f64>> = vec![init.clone(); n];
    let mut trees: Vec<Tree> = Vec::new();
    let mut importance: BTreeMap<String, u32> = BTreeMap::new();
    let mut loss_history = Vec::new();
    let mut prev_loss: Option<f64> = None;
    for round in 0..param.num_trees {
        let gh: Vec<Vec<(f64, f64)>> = (0..k)
            .map(|cls| {
                scores
                    .par_iter()
                    .zip(&y)
                    .zip(&data.rows)
                    .map(|((z, &t), r)| {
                        let (g, h) = objective.grad_hess(z, t, cls);
                        // Sample weights scale each row's g and h, as FATE.
                        if weighted {
                            (g * r.weight, h * r.weight)
                        } else {
                            (g, h)
                        }
                    })
                    .collect()
            })
            .collect();
        for (cls, ghk) in gh.iter().enumerate() {
            let t = trees.len();
            let g_min = ghk.iter().map(|v| v.0).fold(f64::INFINITY, f64::min);
            let g_max = ghk.iter().map(|v| v.0).fold(f64::NEG_INFINITY, f64::max);
            let h_max = ghk.iter().map(|v| v.1).fold(0.0, f64::max);
            let layout = GhLayout::new(g_min, g_max, h_max, n);
            let packed: Vec<BigUint> = ghk
                .iter()
                .map(|&(g, h)| BigUint::from(layout.pack(g, h)))
                .collect();
            let cts = pk
                .encrypt_raw_batch(&packed, Obfuscation::Djn)
                .map_err(|e| ComponentError::Failed(format!("paillier: {e}")))?;
            ENCRYPTED_GRAD_AND_HESS.remote(
                fed,
                &Some(GhMessage { layout, cts }),
                &hosts,
                &t.to_string(),
            )?;
            let (mut tree, leaf_of) = build_tree(&c, t, ghk, &layout, &mut importance)?;
            tree.class = cls;
            for (i, z) in scores.iter_mut().enumerate() {
                z[cls] += param.learning_rate * tree.nodes[leaf_of[i] as usize].weight;
            }
            trees.push(tree);
        }
        let loss = objective.loss(&scores, &y);
        loss_history.push(loss);
        ctx.tracker.log_metric(Metric {
            namespace: "train".into(),
            name: "loss".into(),
            metric_type: "LOSS".into(),
            points: vec![(round as f64, loss)],
        });
        tracing::info!("hetero_secureboost_guest: round {round} loss {loss}");
        if param.n_iter_no_change && prev_loss.is_some_and(|p| (p - loss).abs() < param.tol) {
            break;
        }
        prev_loss = Some(loss);
    }
    ENCRYPTED_GRAD_AND_HESS.remote(fed, &None::<GhMessage>, &hosts, &trees.len().to_string())?;

    let model = GuestModel {
        header: data.schema.header.clone(),
        trees,
        init_score: init,
        objective,
        classes,
        learning_rate: param.learning_rate,
        feature_importance: importance,
        loss_history,
    };
    let mut rows = to_predictions(&model, &data, &scores, "train");
    if let Some(v) = ctx.inputs.first("validate_data") {
        let vd = LocalData::load(v)?;
        let vs = predict_scores(ctx, &model, &vd, "validate")?;
        rows.extend(to_predictions(&model, &vd, &vs, "validate"));
    }
    let out = prediction_dataset(ctx, rows, &data.schema.sid, data.partitions)?;
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "loss_history": model.loss_history,
            "feature_importance": model.feature_importance,
            "tree_num": model.trees.len(),
            "best_iteration": model.loss_history.len(),
        }),
        data: vec![out],
        model: Some(ModelData {
            module: "HeteroSecureBoost".into(),
            meta: serde_json::to_value(param).unwrap_or_default(),
            param: serde_json::to_value(&model).unwrap_or_default(),
        }),
    })
}

/// Objective, class values and labels as class indices (classification).
fn objective_of(param: &HeteroSecureBoostParam, labels: &[f64]) -> (Objective, Vec<f64>, Vec<f64>) {
    if param.is_regression() {
        return (Objective::Lse, vec![], labels.to_vec());
    }
    let mut classes = labels.to_vec();
    classes.sort_by(|a, b| a.partial_cmp(b).unwrap());
    classes.dedup();
    let y = labels
        .iter()
        .map(|v| classes.iter().position(|c| c == v).unwrap() as f64)
        .collect();
    let obj = if classes.len() <= 2 {
        Objective::Binary
    } else {
        Objective::Multi(classes.len())
    };
    (obj, classes, y)
}

/// Builds one tree; returns it and each sample's leaf.
fn build_tree(
    c: &Ctx<'_>,
    t: usize,
    gh: &[(f64, f64)],
    layout: &GhLayout,
    importance: &mut BTreeMap<String, u32>,
) -> Result<(Tree, Vec<u32>), ComponentError> {
    let fed = c.ctx.federation.as_ref();
    let tp = &c.param.tree_param;
    let lambda = tp.lambda();
    let n = gh.len();
    let min_leaf = tp.min_leaf_node.max(1) as usize;
    let use_f = sample_features(
        c.sps.len(),
        c.param.subsample_feature_rate,
        c.param.random_seed.wrapping_add(t as u64),
    );
    let layout_h = hist::HistLayout::new(1, c.sps, false);
    let gh_rows: Vec<Vec<f64>> = gh.iter().map(|&(g, h)| vec![g, h]).collect();
    let rule = hist::SplitRule {
        lambda,
        min_leaf,
        min_child_weight: tp.min_child_weight,
    };
    let mut nodes: Vec<Node> = vec![new_node(0)];
    // Per node: parent, sibling.
    let mut family: Vec<(Option<u32>, Option<u32>)> = vec![(None, None)];
    let mut positions = vec![0u32; n];
    let mut active: Vec<u32> = vec![0];
    let mut depth = 0u32;
    let stats = |positions: &[u32], ids: &[u32]| -> HashMap<u32, (f64, f64, usize)> {
        let mut s: HashMap<u32, (f64, f64, usize)> =
            ids.iter().map(|&i| (i, (0.0, 0.0, 0))).collect();
        for (i, p) in positions.iter().enumerate() {
            if let Some(e) = s.get_mut(p) {
                e.0 += gh[i].0;
                e.1 += gh[i].1;
                e.2 += 1;
            }
        }
        s
    };
    while depth < tp.max_depth && !active.is_empty() {
        let st = stats(&positions, &active);
        let split: Vec<u32> = active
            .iter()
            .copied()
            .filter(|id| st[id].2 >= (tp.min_sample_split as usize).max(2 * min_leaf))
            .collect();
        if split.is_empty() {
            break;
        }
        let tag = format!("{t}.{depth}");
        let splitting: std::collections::HashSet<u32> = split.iter().copied().collect();
        let plan = LayerPlan {
            nodes: split
                .iter()
                .map(|&id| {
                    let (parent, sib) = family[id as usize];
                    let derive_from = match (parent, sib) {
                        (Some(p), Some(s))
                            if splitting.contains(&s)
                                && (st[&id].2 > st[&s].2 || (st[&id].2 == st[&s].2 && id > s)) =>
                        {
                            Some((p, s))
                        }
                        _ => None,
                    };
                    NodePlan { id, derive_from }
                })
                .collect(),
            positions: positions
                .iter()
                .map(|p| if splitting.contains(p) { *p } else { u32::MAX })
                .collect(),
        };
        TREE_NODE_QUEUE.remote(fed, &plan, &c.hosts, &tag)?;

        // The guest's own candidates.
        let mut members: HashMap<u32, Vec<usize>> = HashMap::new();
        for (i, p) in positions.iter().enumerate() {
            if splitting.contains(p) {
                members.entry(*p).or_default().push(i);
            }
        }
        let mut best: HashMap<u32, Best> = HashMap::new();
        for &id in &split {
            let (g, h, cnt) = st[&id];
            let hist = hist::build(&layout_h, c.bins, &gh_rows, &members[&id]);
            let total = [g, h, cnt as f64];
            if let Some(s) = hist::best_split(&layout_h, &hist, &total, &use_f, &rule) {
                best.insert(
                    id,
                    Best {
                        gain: s.gain,
                        site: Site::Guest {
                            fid: s.fid,
                            bid: s.bid,
                        },
                    },
                );
            }
        }

        // The hosts' candidates: decrypt, unpack, score.
        let host_splits: Vec<Vec<NodeSplits>> =
            ENCRYPTED_SPLITINFO_HOST.get(fed, &c.hosts, &tag)?;
        let all_cts: Vec<Ciphertext> = host_splits
            .iter()
            .flat_map(|v| v.iter().flat_map(|ns| ns.cts.iter().cloned()))
            .collect();
        let plain =
            c.sk.decrypt_raw_batch(&all_cts)
                .map_err(|e| ComponentError::Failed(format!("paillier decrypt: {e}")))?;
        let mut off = 0;
        let w = layout.pair_bits;
        for (hi, v) in host_splits.iter().enumerate() {
            for ns in v {
                let Some(&(g, h, cnt)) = st.get(&ns.node) else {
                    return Err(ComponentError::Failed(format!(
                        "splitinfo for unknown node {}",
                        ns.node
                    )));
                };
                let per = ns.per_ct.max(1) as usize;
                for (ci, chunk) in ns.masks.chunks(per).enumerate() {
                    let p = &plain[off + ci];
                    let len = chunk.len();
                    for (j, &mask) in chunk.iter().enumerate() {
                        let cand = p.shr(w * (len - 1 - j) as u32).low_bits(w);
                        let v = cand.to_u128().ok_or_else(|| {
                            ComponentError::Failed("split sum overflows its slot".into())
                        })?;
                        let cl = ns.counts[ci * per + j] as usize;
                        let (gl, hl) = layout.unpack(v, cl as u64);
                        if cl < min_leaf || cnt < cl + min_leaf {
                            continue;
                        }
                        if hl < tp.min_child_weight || h - hl < tp.min_child_weight {
                            continue;
                        }
                        let gn = gain(g, h, gl, hl, lambda);
                        if best.get(&ns.node).is_none_or(|b| gn > b.gain) {
                            best.insert(
                                ns.node,
                                Best {
                                    gain: gn,
                                    site: Site::Host { host: hi, mask },
                                },
                            );
                        }
                    }
                }
                off += ns.cts.len();
            }
        }

        // Decide, tell each host its winning masks, collect dispatch.
        let mut wins: Vec<Vec<(u32, u64)>> = vec![Vec::new(); c.hosts.len()];
        let mut chosen: Vec<(u32, Site)> = Vec::new();
        for &id in &split {
            if let Some(b) = best.get(&id) {
                if b.gain > tp.min_impurity_split {
                    if let Site::Host { host, mask } = b.site {
                        wins[host].push((id, mask));
                    }
                    chosen.push((id, b.site.clone()));
                }
            }
        }
        for (h, wv) in c.hosts.iter().zip(&wins) {
            FEDERATED_BEST_SPLITINFO_HOST.remote(fed, wv, &[*h], &tag)?;
        }
        let dispatch: Vec<Vec<(u32, u32, Vec<u32>)>> =
            DISPATCH_NODE_HOST_RESULT.get(fed, &c.hosts, &tag)?;
        let mut host_left: HashMap<u32, (usize, u32, Vec<u32>)> = HashMap::new();
        for (hi, v) in dispatch.into_iter().enumerate() {
            for (node, fid, left) in v {
                host_left.insert(node, (hi, fid, left));
            }
        }
        let mut next = Vec::new();
        for (id, site) in chosen {
            let l = nodes.len() as u32;
            let r = l + 1;
            nodes.push(new_node(l));
            nodes.push(new_node(r));
            family.push((Some(id), Some(r)));
            family.push((Some(id), Some(l)));
            let node = &mut nodes[id as usize];
            node.is_leaf = false;
            node.left = Some(l);
            node.right = Some(r);
            match site {
                Site::Guest { fid, bid } => {
                    node.sitename = format!("guest:{}", c.ctx.local.party_id);
                    node.fid = Some(fid);
                    node.threshold = Some(c.sps[fid as usize][bid as usize]);
                    let name = c
                        .header
                        .get(fid as usize)
                        .cloned()
                        .unwrap_or_else(|| format!("x{fid}"));
                    *importance.entry(format!("guest:{name}")).or_default() += 1;
                    for &i in &members[&id] {
                        positions[i] = if c.bins[i][fid as usize] <= bid { l } else { r };
                    }
                }
                Site::Host { host, .. } => {
                    let (hi, fid, left) = host_left.remove(&id).ok_or_else(|| {
                        ComponentError::Failed(format!("no dispatch for host split at node {id}"))
                    })?;
                    if hi != host {
                        return Err(ComponentError::Failed(
                            "dispatch from the wrong host".into(),
                        ));
                    }
                    node.sitename = format!("host:{}", c.hosts[host].party_id);
                    *importance
                        .entry(format!("host_{}_{fid}", c.hosts[host].party_id))
                        .or_default() += 1;
                    for &i in &members[&id] {
                        positions[i] = r;
                    }
                    for i in left {
                        positions[i as usize] = l;
                    }
                }
            }
            next.push(l);
            next.push(r);
        }
        active = next;
        depth += 1;
    }
    TREE_NODE_QUEUE.remote(
        fed,
        &LayerPlan {
            nodes: vec![],
            positions: vec![],
        },
        &c.hosts,
        &format!("{t}.{depth}"),
    )?;
    // Leaf weights.
    let leaf_ids: Vec<u32> = nodes.iter().filter(|n| n.is_leaf).map(|n| n.id).collect();
    let st = stats(&positions, &leaf_ids);
    for id in leaf_ids {
        let (g, h, _) = st[&id];
        nodes[id as usize].weight = leaf_weight(g, h, lambda);
    }
    Ok((Tree { nodes, class: 0 }, positions))
}

fn new_node(id: u32) -> Node {
    Node {
        id,
        sitename: String::new(),
        is_leaf: true,
        weight: 0.0,
        fid: None,
        threshold: None,
        left: None,
        right: None,
    }
}

/// FATE's predict protocol over `data`; returns scores per sample.
pub(super) fn predict_scores(
    ctx: &TaskContext,
    model: &GuestModel,
    data: &LocalData,
    kind: &str,
) -> Result<Vec<Vec<f64>>, ComponentError> {
    let fed = ctx.federation.as_ref();
    let hosts = parties(ctx, Role::Host);
    PREDICT_IDS.remote(fed, &data.ids, &hosts, kind)?;
    let host_index: HashMap<String, usize> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| (format!("host:{}", h.party_id), i))
        .collect();
    let n = data.ids.len();
    let mut pos: Vec<Vec<u32>> = vec![vec![0; n]; model.trees.len()];
    for r in 0.. {
        let tag = format!("{kind}.{r}");
        let mut pending: Vec<Vec<(u32, u32, u32)>> = vec![Vec::new(); hosts.len()];
        for (t, (tree, tpos)) in model.trees.iter().zip(pos.iter_mut()).enumerate() {
            for (i, pi) in tpos.iter_mut().enumerate() {
                loop {
                    let node = &tree.nodes[*pi as usize];
                    if node.is_leaf {
                        break;
                    }
                    if let (Some(fid), Some(thr)) = (node.fid, node.threshold) {
                        let x = data.rows[i].features[fid as usize];
                        *pi = if x.is_nan() || x <= thr {
                            node.left.unwrap()
                        } else {
                            node.right.unwrap()
                        };
                    } else {
                        let h = *host_index.get(&node.sitename).ok_or_else(|| {
                            ComponentError::Failed(format!(
                                "model names unknown site {}",
                                node.sitename
                            ))
                        })?;
                        pending[h].push((i as u32, t as u32, node.id));
                        break;
                    }
                }
            }
        }
        if pending.iter().all(|p| p.is_empty()) {
            for h in &hosts {
                PREDICT_DATA.remote(fed, &None::<Vec<(u32, u32, u32)>>, &[*h], &tag)?;
            }
            break;
        }
        for (h, p) in hosts.iter().zip(&pending) {
            PREDICT_DATA.remote(fed, &Some(p.clone()), &[*h], &tag)?;
        }
        let dirs: Vec<Vec<bool>> = PREDICT_DATA_BY_HOST.get(fed, &hosts, &tag)?;
        for (p, d) in pending.iter().zip(&dirs) {
            if p.len() != d.len() {
                return Err(ComponentError::Failed(
                    "predict_data_by_host length differs".into(),
                ));
            }
            for (&(i, t, node), &left) in p.iter().zip(d) {
                let nd = &model.trees[t as usize].nodes[node as usize];
                pos[t as usize][i as usize] = if left {
                    nd.left.unwrap()
                } else {
                    nd.right.unwrap()
                };
            }
        }
    }
    let mut scores = vec![model.init_score.clone(); n];
    for (t, tree) in model.trees.iter().enumerate() {
        for (i, z) in scores.iter_mut().enumerate() {
            z[tree.class] += model.learning_rate * tree.nodes[pos[t][i] as usize].weight;
        }
    }
    Ok(scores)
}

fn to_predictions(
    model: &GuestModel,
    data: &LocalData,
    scores: &[Vec<f64>],
    kind: &str,
) -> Vec<(String, Prediction)> {
    data.ids
        .iter()
        .zip(&data.rows)
        .zip(scores)
        .map(|((id, r), z)| {
            let label = r.label.unwrap_or(f64::NAN);
            let p = crate::tree::prediction(model.objective, &model.classes, 0.5, label, z, kind);
            (id.clone(), p)
        })
        .collect()
}

pub(super) fn predict_job(ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
    let md = ctx.inputs.model("HeteroSecureBoost").ok_or_else(|| {
        ComponentError::Input("predict job without a HeteroSecureBoost model".into())
    })?;
    let model: GuestModel = serde_json::from_value(md.param.clone())
        .map_err(|e| ComponentError::Input(format!("HeteroSecureBoost model param: {e}")))?;
    let data = LocalData::load(predict_input(ctx)?)?;
    let scores = predict_scores(ctx, &model, &data, "test")?;
    let rows = to_predictions(&model, &data, &scores, "test");
    let out = prediction_dataset(ctx, rows, &data.schema.sid, data.partitions)?;
    Ok(ComponentOutput {
        summary: serde_json::json!({"rows": data.ids.len()}),
        data: vec![out],
        model: Some(md.clone()),
    })
}
