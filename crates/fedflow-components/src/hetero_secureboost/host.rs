//! Host side: bins its features, builds encrypted histograms (with
//! subtraction), sends masked compressed split candidates, keeps its
//! thresholds (`split_maskdict`) and answers prediction routing.

use super::ops::{bin_matrix, sample_features, SplitMaskDict};
use super::*;
use crate::hetero_lr::{one, predict_input, train_input, LocalData};
use crate::ModelData;
use fedflow_crypto::{BigUint, PublicKey};
use rand::seq::SliceRandom;
use rand::Rng;
use rayon::prelude::*;
use std::collections::HashMap;

/// The generator of the host's mask ids and candidate shuffles, seeded from
/// the host's own split points (secret: the guest cannot predict the masks or
/// the order) so that a training is reproducible: the guest keeps the first
/// of equal-gain candidates (e.g. two features splitting a node's samples the
/// same way), and with a fresh random order that choice, the host's model and
/// the feature importance changed from run to run and engine to engine.
fn mask_rng(sps: &[Vec<f64>], n: usize, seed: u64) -> rand_chacha::ChaCha8Rng {
    use rand::SeedableRng;
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"fedflow secureboost host masks");
    h.update(seed.to_le_bytes());
    h.update((n as u64).to_le_bytes());
    for f in sps {
        h.update((f.len() as u64).to_le_bytes());
        for v in f {
            h.update(v.to_bits().to_le_bytes());
        }
    }
    rand_chacha::ChaCha8Rng::from_seed(h.finalize().into())
}

/// Encrypted histogram of one node: per feature, per bin, (sum, count).
type NodeHist = Vec<Vec<(Option<BigUint>, u32)>>;

fn compute_hist(
    pk: &PublicKey,
    cts: &[Ciphertext],
    bins: &[Vec<u16>],
    nbins: &[usize],
    members: &[usize],
) -> NodeHist {
    let n2 = pk.n_squared();
    (0..nbins.len())
        .into_par_iter()
        .map(|j| {
            let mut h: Vec<(Option<BigUint>, u32)> = vec![(None, 0); nbins[j]];
            for &i in members {
                let slot = &mut h[bins[i][j] as usize];
                slot.0 = Some(match slot.0.take() {
                    None => cts[i].raw().clone(),
                    Some(a) => a.mul_mod(cts[i].raw(), n2),
                });
                slot.1 += 1;
            }
            h
        })
        .collect()
}

fn subtract_hist(
    pk: &PublicKey,
    parent: &NodeHist,
    sib: &NodeHist,
) -> Result<NodeHist, ComponentError> {
    let n2 = pk.n_squared();
    parent
        .par_iter()
        .zip(sib)
        .map(|(p, s)| {
            p.iter()
                .zip(s)
                .map(|((pc, pn), (sc, sn))| {
                    let n = pn.checked_sub(*sn).ok_or_else(|| {
                        ComponentError::Failed(
                            "histogram subtraction: sibling larger than parent".into(),
                        )
                    })?;
                    if n == 0 {
                        return Ok((None, 0));
                    }
                    let c = match (pc, sc) {
                        (Some(a), None) => a.clone(),
                        (Some(a), Some(b)) => {
                            let inv = b.invert(n2).ok_or_else(|| {
                                ComponentError::Failed(
                                    "histogram subtraction: not invertible".into(),
                                )
                            })?;
                            a.mul_mod(&inv, n2)
                        }
                        _ => {
                            return Err(ComponentError::Failed(
                                "histogram subtraction: empty parent bin".into(),
                            ))
                        }
                    };
                    Ok((Some(c), n))
                })
                .collect()
        })
        .collect()
}

pub(super) fn train(
    ctx: &TaskContext,
    param: &HeteroSecureBoostParam,
) -> Result<ComponentOutput, ComponentError> {
    let fed = ctx.federation.as_ref();
    let guest = one(ctx, Role::Guest)?;
    let data = LocalData::load(train_input(ctx)?)?;
    let n = data.ids.len();
    let x: Vec<Vec<f64>> = data.rows.iter().map(|r| r.features.clone()).collect();
    let (sps, bins) = bin_matrix(&x, param.bin_num);
    let nbins: Vec<usize> = sps.iter().map(|s| s.len() + 1).collect();
    let pk: PublicKey = PAILLIER_PUBKEY.get_one(fed, guest, "")?;
    let min_leaf = param.tree_param.min_leaf_node as usize;
    let mut rng = mask_rng(&sps, n, param.random_seed);
    let mut trees: Vec<SplitMaskDict> = Vec::new();
    for t in 0.. {
        let gh: Option<GhMessage> = ENCRYPTED_GRAD_AND_HESS.get_one(fed, guest, &t.to_string())?;
        let Some(gh) = gh else { break };
        if gh.cts.len() != n {
            return Err(ComponentError::Failed(format!(
                "encrypted_grad_and_hess has {} rows, the host has {n}",
                gh.cts.len()
            )));
        }
        let per_ct = if param.cipher_compress {
            ((pk.bits() - 2) / gh.layout.pair_bits).max(1)
        } else {
            1
        };
        let shift = BigUint::one().shl(gh.layout.pair_bits);
        let use_f = sample_features(
            nbins.len(),
            param.subsample_feature_rate,
            param
                .random_seed
                .wrapping_add(t as u64)
                .wrapping_add(ctx.local.party_id.wrapping_mul(1_000_003)),
        );
        let mut dict = SplitMaskDict::new();
        let mut prev: HashMap<u32, NodeHist> = HashMap::new();
        for d in 0.. {
            let tag = format!("{t}.{d}");
            let plan: LayerPlan = TREE_NODE_QUEUE.get_one(fed, guest, &tag)?;
            if plan.nodes.is_empty() {
                break;
            }
            if plan.positions.len() != n {
                return Err(ComponentError::Failed(
                    "node_positions length differs".into(),
                ));
            }
            let mut members: HashMap<u32, Vec<usize>> = HashMap::new();
            for (i, &p) in plan.positions.iter().enumerate() {
                if p != u32::MAX {
                    members.entry(p).or_default().push(i);
                }
            }
            let empty = Vec::new();
            let mut hists: HashMap<u32, NodeHist> = HashMap::new();
            for np in plan.nodes.iter().filter(|p| p.derive_from.is_none()) {
                let m = members.get(&np.id).unwrap_or(&empty);
                hists.insert(np.id, compute_hist(&pk, &gh.cts, &bins, &nbins, m));
            }
            for np in &plan.nodes {
                if let Some((parent, sib)) = np.derive_from {
                    let (Some(p), Some(s)) = (prev.get(&parent), hists.get(&sib)) else {
                        return Err(ComponentError::Failed(format!(
                            "tree_node_queue: node {} derives from unknown histograms",
                            np.id
                        )));
                    };
                    let h = subtract_hist(&pk, p, s)?;
                    hists.insert(np.id, h);
                }
            }
            // Candidates: cumulative left sums, masked, shuffled, compressed.
            let mut masks: HashMap<u64, (u32, u32, u16)> = HashMap::new();
            let mut out = Vec::new();
            for np in &plan.nodes {
                let total = members.get(&np.id).map(|m| m.len()).unwrap_or(0);
                let hist = &hists[&np.id];
                let mut cands: Vec<(u32, u16, u32, BigUint)> = Vec::new();
                for (j, fh) in hist.iter().enumerate() {
                    if !use_f[j] {
                        continue;
                    }
                    let mut acc: Option<BigUint> = None;
                    let mut cnt = 0usize;
                    for (b, (c, k)) in fh.iter().enumerate().take(fh.len().saturating_sub(1)) {
                        if *k == 0 {
                            continue;
                        }
                        let c = c.as_ref().expect("non-empty bin has a sum");
                        acc = Some(match acc.take() {
                            None => c.clone(),
                            Some(a) => a.mul_mod(c, pk.n_squared()),
                        });
                        cnt += *k as usize;
                        if cnt < min_leaf.max(1) || total - cnt < min_leaf.max(1) {
                            continue;
                        }
                        cands.push((j as u32, b as u16, cnt as u32, acc.clone().unwrap()));
                    }
                }
                cands.shuffle(&mut rng);
                let mut ns = NodeSplits {
                    node: np.id,
                    masks: Vec::with_capacity(cands.len()),
                    counts: Vec::with_capacity(cands.len()),
                    cts: Vec::new(),
                    per_ct,
                };
                for (j, b, cnt, _) in &cands {
                    let mask: u64 = loop {
                        let m = rng.gen();
                        if !masks.contains_key(&m) {
                            break m;
                        }
                    };
                    masks.insert(mask, (np.id, *j, *b));
                    ns.masks.push(mask);
                    ns.counts.push(*cnt);
                }
                let n2 = pk.n_squared();
                ns.cts = cands
                    .par_chunks(per_ct as usize)
                    .map(|ch| {
                        let mut acc = ch[0].3.clone();
                        for c in &ch[1..] {
                            acc = acc.pow_mod(&shift, n2).mul_mod(&c.3, n2);
                        }
                        Ciphertext::from_parts(acc, 0)
                    })
                    .collect();
                out.push(ns);
            }
            ENCRYPTED_SPLITINFO_HOST.remote(fed, &out, &[guest], &tag)?;
            let wins: Vec<(u32, u64)> = FEDERATED_BEST_SPLITINFO_HOST.get_one(fed, guest, &tag)?;
            let mut res: Vec<(u32, u32, Vec<u32>)> = Vec::new();
            for (node, mask) in wins {
                let &(mnode, fid, bid) = masks.get(&mask).ok_or_else(|| {
                    ComponentError::Failed(format!(
                        "federated_best_splitinfo_host: unknown mask {mask}"
                    ))
                })?;
                if mnode != node {
                    return Err(ComponentError::Failed(
                        "winning mask of another node".into(),
                    ));
                }
                dict.insert(node, (fid, sps[fid as usize][bid as usize]));
                let left: Vec<u32> = members
                    .get(&node)
                    .unwrap_or(&empty)
                    .iter()
                    .filter(|&&i| bins[i][fid as usize] <= bid)
                    .map(|&i| i as u32)
                    .collect();
                res.push((node, fid, left));
            }
            DISPATCH_NODE_HOST_RESULT.remote(fed, &res, &[guest], &tag)?;
            prev = hists;
        }
        trees.push(dict);
    }
    tracing::info!("hetero_secureboost_host: {} trees", trees.len());
    if let Some(v) = ctx.inputs.first("validate_data") {
        serve_predict(ctx, &LocalData::load(v)?, &trees, "validate")?;
    }
    Ok(ComponentOutput {
        summary: serde_json::json!({"trees": trees.len()}),
        data: vec![],
        model: Some(ModelData {
            module: "HeteroSecureBoost".into(),
            meta: serde_json::to_value(param).unwrap_or_default(),
            param: serde_json::json!({"header": data.schema.header, "split_maskdict": trees}),
        }),
    })
}

/// Answers the guest's routing requests for `kind` (`validate`, `test`).
pub(super) fn serve_predict(
    ctx: &TaskContext,
    data: &LocalData,
    trees: &[SplitMaskDict],
    kind: &str,
) -> Result<(), ComponentError> {
    let fed = ctx.federation.as_ref();
    let guest = one(ctx, Role::Guest)?;
    let ids: Vec<String> = PREDICT_IDS.get_one(fed, guest, kind)?;
    let pos: HashMap<&str, usize> = data
        .ids
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let rows: Vec<usize> = ids
        .iter()
        .map(|id| {
            pos.get(id.as_str())
                .copied()
                .ok_or_else(|| ComponentError::Failed(format!("predict: host has no row {id}")))
        })
        .collect::<Result<_, _>>()?;
    for r in 0.. {
        let tag = format!("{kind}.{r}");
        let req: Option<Vec<(u32, u32, u32)>> = PREDICT_DATA.get_one(fed, guest, &tag)?;
        let Some(req) = req else { break };
        let dirs = req
            .iter()
            .map(|&(s, t, node)| {
                let (fid, thr) = trees
                    .get(t as usize)
                    .and_then(|d| d.get(&node))
                    .ok_or_else(|| {
                        ComponentError::Failed(format!(
                            "predict: no host split at tree {t} node {node}"
                        ))
                    })?;
                let x = data.rows[rows[s as usize]].features[*fid as usize];
                Ok(x.is_nan() || x <= *thr)
            })
            .collect::<Result<Vec<bool>, ComponentError>>()?;
        PREDICT_DATA_BY_HOST.remote(fed, &dirs, &[guest], &tag)?;
    }
    Ok(())
}

pub(super) fn predict_job(ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
    let model = ctx.inputs.model("HeteroSecureBoost").ok_or_else(|| {
        ComponentError::Input("predict job without a HeteroSecureBoost model".into())
    })?;
    let trees: Vec<SplitMaskDict> =
        serde_json::from_value(model.param["split_maskdict"].clone())
            .map_err(|e| ComponentError::Input(format!("HeteroSecureBoost model param: {e}")))?;
    let data = LocalData::load(predict_input(ctx)?)?;
    serve_predict(ctx, &data, &trees, "test")?;
    Ok(ComponentOutput {
        summary: serde_json::json!({"rows": data.ids.len()}),
        data: vec![],
        model: Some(model.clone()),
    })
}
