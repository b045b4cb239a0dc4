//! `HeteroFeatureBinning` (FATE's HeteroFeatureBinning, fate-reference §6).
//!
//! Each party bins its own columns (`quantile`: split points at the
//! `1/bin_num, 2/bin_num, …, 1` quantiles of the column, exact, deduplicated;
//! `bucket`: equal width between min and max). A value falls in the bin of
//! the first split point `>=` it. Categorical columns (`category_indexes`,
//! `category_names`) get one bin per distinct value. The guest counts events (label 1) and
//! non-events per bin of its columns. For the hosts' columns it generates a
//! Paillier key (`encrypt_param.key_length`), sends `paillier_pubkey` and
//! each sample's encrypted label (`encrypted_label`, a table keyed by id);
//! each host joins it with its rows, adds the ciphertexts per bin and
//! returns `encrypted_bin_sum` with the row counts, under anonymised column
//! names (`host_<party_id>_x<index>`). The guest decrypts and computes WOE and
//! IV for every column; hosts never see a label or an IV. Labels other
//! than 0/1 (multi-class): one-vs-rest per class, each sample's label travels
//! as one ciphertext per class (`Enc(y == c)`), results per class in
//! `multi_class_result`, and the column's IV is the average over classes.
//!
//! `optimal` (FATE's optimal binning, `optimal_binning_param`, see
//! `optimal.rs`): each column is first cut into `init_bin_nums` initial
//! buckets (`init_bucket_method` quantile or bucket), then adjacent buckets
//! are merged by `metric_method` (iv, gini, chi_square: bottom-up heap
//! merge; ks: top-down splits) under `min_bin_pct` / `max_bin_pct` and
//! `mixture` until at most `bin_num` bins remain. Binary labels only. The
//! guest merges its own columns locally. For a host's columns the host
//! returns the encrypted per-initial-bucket sums as above plus the
//! anonymised names it wants merged (`optimal_columns`, its non-categorical
//! ones); the guest decrypts, merges, and sends back per column the index
//! of the last initial bucket of each final bin (`bucket_idx`); the host
//! keeps its initial split points at those indexes. The guest never sees a
//! host threshold, the host never sees a label.
//!
//! WOE/IV (FATE's `iv_calculator`): per bin, `event_rate = events /
//! total_events` and `non_event_rate = non_events / total_non_events`, both
//! computed on `count + adjustment_factor` when either count of the bin is 0;
//! `woe = ln(event_rate / non_event_rate)`, `iv_i = (event_rate −
//! non_event_rate)·woe`, `iv = Σ iv_i`. Missing (NaN) values are left out.
//!
//! Output data: the input with `transform_param` applied (`bin_num`: the bin
//! index; `woe`: the guest's WOE; null: unchanged). Model: split points and,
//! on the guest, counts, WOE and IV per bin for its own and the hosts'
//! columns. A predict job (`pipeline.<binning>.model`) only transforms.

mod ops;
mod optimal;
mod params;

pub use ops::{
    bin_of, CountBins, Counts, EncBinSums, EncSums, MergeCounts, MergeEncSums, TransformBins,
    WithEncLabel,
};
pub use optimal::{merge_counts, optimal_bins, Metric, OptimalSettings};
pub(crate) use params::select_columns;
pub use params::{
    EncryptParam, FeatureBinningParam, OptimalBinningParam, TransformParam, MAX_BIN_NUM,
};

use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Dataset, Instance, ModelData,
    TaskContext,
};
use fedflow_computing::{parallelize, TypedTable};
use fedflow_core::Role;
use fedflow_crypto::{Ciphertext, PaillierKeypair, PublicKey};
use fedflow_federation::TransferVariable;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The guest's Paillier public key, guest → host.
pub const PAILLIER_PUBKEY: TransferVariable =
    TransferVariable::new("paillier_pubkey", &[Role::Guest], &[Role::Host]);
/// The encrypted labels (table id → Enc(y)), guest → host.
pub const ENCRYPTED_LABEL: TransferVariable =
    TransferVariable::new("encrypted_label", &[Role::Guest], &[Role::Host]);
/// Per anonymised column, per bin: (Enc(Σy), rows), host → guest.
pub const ENCRYPTED_BIN_SUM: TransferVariable =
    TransferVariable::new("encrypted_bin_sum", &[Role::Host], &[Role::Guest]);

/// Optimal binning: the anonymised columns the host wants merged (its
/// non-categorical ones), host → guest.
pub const OPTIMAL_COLUMNS: TransferVariable =
    TransferVariable::new("optimal_columns", &[Role::Host], &[Role::Guest]);
/// Optimal binning: per anonymised column, the index of the last initial
/// bucket of every final bin (FATE's `bucket_idx`), guest → host.
pub const BUCKET_IDX: TransferVariable =
    TransferVariable::new("bucket_idx", &[Role::Guest], &[Role::Host]);

/// `bucket_idx`: per anonymised column, the kept bucket ends.
pub type BucketIdxMessage = Vec<(String, Vec<usize>)>;

/// `encrypted_bin_sum`: per anonymised column, per bin (Enc(Σy), rows).
pub type BinSumMessage = Vec<(String, Vec<(Vec<Option<Ciphertext>>, u64)>)>;

/// One column's binning result (FATE's `IVParam` names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BinColResult {
    /// Split points (upper bounds of the bins).
    pub split_points: Vec<f64>,
    /// Events per bin (guest view).
    #[serde(default)]
    pub event_count_array: Vec<u64>,
    /// Non-events per bin.
    #[serde(default)]
    pub non_event_count_array: Vec<u64>,
    /// Rows per bin.
    #[serde(default)]
    pub count_array: Vec<u64>,
    /// WOE per bin.
    #[serde(default)]
    pub woe_array: Vec<f64>,
    /// IV per bin.
    #[serde(default)]
    pub iv_array: Vec<f64>,
    /// IV of the column.
    #[serde(default)]
    pub iv: f64,
}

/// A party's results in the model.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BinningModelParam {
    /// The party's features.
    pub header: Vec<String>,
    /// Binned columns of this party by name.
    pub binning_result: BTreeMap<String, BinColResult>,
    /// Anonymised names of this party's columns (host), by name.
    #[serde(default)]
    pub anonymous_names: BTreeMap<String, String>,
    /// Hosts' results, by host party id then anonymised name (guest).
    #[serde(default)]
    pub host_results: BTreeMap<String, BTreeMap<String, BinColResult>>,
    /// Multi-class labels: one-vs-rest results per class (guest's columns).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub multi_class_result: BTreeMap<String, BTreeMap<String, BinColResult>>,
    /// Multi-class labels: hosts' one-vs-rest results, by party id then class.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub host_multi_class_result: BTreeMap<String, BTreeMap<String, BTreeMap<String, BinColResult>>>,
}

/// One result per column from per-class results: the first class's arrays
/// with the IV averaged over classes (FATE's `mul_class_merge_type` average).
fn merge_classes(per_class: &[BTreeMap<String, BinColResult>]) -> BTreeMap<String, BinColResult> {
    let mut out = per_class.first().cloned().unwrap_or_default();
    if per_class.len() > 1 {
        for (name, r) in out.iter_mut() {
            r.iv = per_class
                .iter()
                .filter_map(|m| m.get(name).map(|x| x.iv))
                .sum::<f64>()
                / per_class.len() as f64;
        }
    }
    out
}

/// Split points of a column (NaN left out).
pub fn split_points(values: &mut Vec<f64>, method: &str, bin_num: usize) -> Vec<f64> {
    values.retain(|x| !x.is_nan());
    if values.is_empty() {
        return Vec::new();
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let mut out: Vec<f64> = Vec::with_capacity(bin_num);
    for i in 1..=bin_num {
        let s = if method == "bucket" {
            let (lo, hi) = (values[0], values[n - 1]);
            if i == bin_num {
                hi
            } else {
                lo + (hi - lo) * i as f64 / bin_num as f64
            }
        } else {
            let q = i as f64 / bin_num as f64;
            let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
            values[rank - 1]
        };
        if out.last() != Some(&s) {
            out.push(s);
        }
    }
    out
}

/// WOE and IV of a column from (events, rows) per bin.
pub fn woe_iv(split_points: Vec<f64>, counts: &[(u64, u64)], adjustment: f64) -> BinColResult {
    let events: Vec<u64> = counts.iter().map(|c| c.0).collect();
    let non: Vec<u64> = counts.iter().map(|c| c.1 - c.0).collect();
    let te = events.iter().sum::<u64>().max(1) as f64;
    let tn = non.iter().sum::<u64>().max(1) as f64;
    let mut woe = Vec::new();
    let mut ivs = Vec::new();
    for (&e, &ne) in events.iter().zip(&non) {
        let (er, nr) = if e == 0 || ne == 0 {
            ((e as f64 + adjustment) / te, (ne as f64 + adjustment) / tn)
        } else {
            (e as f64 / te, ne as f64 / tn)
        };
        let w = (er / nr).ln();
        woe.push(w);
        ivs.push((er - nr) * w);
    }
    BinColResult {
        split_points,
        count_array: counts.iter().map(|c| c.1).collect(),
        event_count_array: events,
        non_event_count_array: non,
        iv: ivs.iter().sum(),
        woe_array: woe,
        iv_array: ivs,
    }
}

/// The component.
pub struct HeteroFeatureBinning;

impl Component for HeteroFeatureBinning {
    fn module(&self) -> &'static str {
        "HeteroFeatureBinning"
    }

    fn check_params(
        &self,
        component: &str,
        _role: fedflow_core::Role,
        params: &serde_json::Value,
    ) -> Result<(), ComponentError> {
        parse_params::<FeatureBinningParam>(component, params)?.check(component)
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let cpn = ctx.component_name.as_str();
        let saved = ctx.inputs.model("HeteroFeatureBinning").cloned();
        let param: FeatureBinningParam = match &saved {
            Some(m) => parse_params(&format!("{cpn}(model meta)"), &m.meta)?,
            None => parse_params(cpn, &ctx.params)?,
        };
        param.check(cpn)?;
        if !matches!(ctx.local.role, Role::Guest | Role::Host) {
            return Ok(ComponentOutput::default());
        }
        let input = ctx
            .inputs
            .any()
            .ok_or_else(|| ComponentError::Input(format!("{cpn}: no input data")))?;
        let table: TypedTable<String, Instance> = TypedTable::from_raw(input.table.clone());
        let header = input.schema.header.clone();
        let model_param: BinningModelParam = match &saved {
            Some(m) => parse_params(&format!("{cpn}(model param)"), &m.param)?,
            None => fit(ctx, &param, &table, &header)?,
        };
        let out_table = transform_table(
            cpn,
            &param.transform_param,
            &model_param,
            &table,
            &header,
            ctx.local.role,
        )?;
        let mut summary = serde_json::Map::new();
        if ctx.local.role == Role::Guest {
            let iv: serde_json::Map<String, serde_json::Value> = model_param
                .binning_result
                .iter()
                .map(|(k, v)| (k.clone(), v.iv.into()))
                .collect();
            summary.insert("iv".into(), iv.into());
            for (h, r) in &model_param.host_results {
                let iv: serde_json::Map<String, serde_json::Value> =
                    r.iter().map(|(k, v)| (k.clone(), v.iv.into())).collect();
                summary.insert(format!("host_{h}_iv"), iv.into());
            }
        } else {
            summary.insert(
                "binned_columns".into(),
                model_param.binning_result.len().into(),
            );
        }
        Ok(ComponentOutput {
            summary: summary.into(),
            data: vec![Dataset {
                table: out_table.raw().clone(),
                schema: input.schema.clone(),
            }],
            model: Some(ModelData {
                module: "HeteroFeatureBinning".into(),
                meta: serde_json::to_value(&param).unwrap_or_default(),
                param: serde_json::to_value(&model_param).unwrap_or_default(),
            }),
        })
    }
}

/// The output data of a binning component: `table` with `tp` applied using
/// the split points (and, for `woe`, the WOE) of `model`.
pub(crate) fn transform_table(
    cpn: &str,
    tp: &TransformParam,
    model: &BinningModelParam,
    table: &TypedTable<String, Instance>,
    header: &[String],
    role: Role,
) -> Result<TypedTable<String, Instance>, ComponentError> {
    let bin_cols: Vec<usize> = header
        .iter()
        .enumerate()
        .filter(|(_, h)| model.binning_result.contains_key(*h))
        .map(|(i, _)| i)
        .collect();
    match tp.transform_type.as_deref() {
        None => Ok(table.clone()),
        Some(kind) => {
            let mut cols = match &tp.transform_cols {
                serde_json::Value::Number(n) if n.as_i64() == Some(-1) => bin_cols.clone(),
                v => select_columns(cpn, "transform_param.transform_cols", v, &None, header)?,
            };
            cols.extend(select_columns(
                cpn,
                "transform_param.transform_names",
                &serde_json::Value::Null,
                &tp.transform_names,
                header,
            )?);
            cols.retain(|c| bin_cols.contains(c));
            cols.sort_unstable();
            cols.dedup();
            if kind == "woe" && role == Role::Host {
                return Err(ComponentError::Param {
                    path: format!("{cpn}.transform_param.transform_type"),
                    message: "woe transform is for the guest only (the host has no WOE)".into(),
                });
            }
            let res = |c: &usize| &model.binning_result[&header[*c]];
            Ok(table.map_values(TransformBins {
                splits: cols.iter().map(|c| res(c).split_points.clone()).collect(),
                woe: (kind == "woe")
                    .then(|| cols.iter().map(|c| res(c).woe_array.clone()).collect()),
                cols,
            })?)
        }
    }
}

fn fit(
    ctx: &TaskContext,
    param: &FeatureBinningParam,
    table: &TypedTable<String, Instance>,
    header: &[String],
) -> Result<BinningModelParam, ComponentError> {
    let cpn = ctx.component_name.as_str();
    let fed = ctx.federation.as_ref();
    let cols = select_columns(
        cpn,
        "bin_indexes",
        &param.bin_indexes,
        &param.bin_names,
        header,
    )?;
    let categorical = select_columns(
        cpn,
        "category_indexes",
        &param
            .category_indexes
            .as_ref()
            .map_or(serde_json::Value::Null, |v| serde_json::json!(v)),
        &param.category_names,
        header,
    )?;
    let rows = table.collect()?;
    // Optimal binning starts from `init_bin_nums` initial buckets.
    let optimal = param.method == "optimal";
    let (init_method, init_num) = if optimal {
        let o = &param.optimal_binning_param;
        (o.init_bucket_method.as_str(), o.init_bin_nums)
    } else {
        (param.method.as_str(), param.bin_num)
    };
    let mut splits: Vec<Vec<f64>> = cols
        .iter()
        .map(|&j| {
            let mut v: Vec<f64> = rows.iter().map(|(_, i)| i.features[j]).collect();
            if categorical.contains(&j) {
                // One bin per distinct value: the values themselves are the split points.
                v.retain(|x| !x.is_nan());
                v.sort_by(f64::total_cmp);
                v.dedup();
                v
            } else {
                split_points(&mut v, init_method, init_num)
            }
        })
        .collect();
    let mut model = BinningModelParam {
        header: header.to_vec(),
        ..Default::default()
    };
    if ctx.local.role == Role::Guest {
        if let Some((id, l)) = rows.iter().find_map(|(k, i)| match i.label {
            Some(l) if !l.is_nan() => None,
            other => Some((k, other)),
        }) {
            return Err(ComponentError::Input(format!(
                "{cpn}: row '{id}' has label {l:?}; binning needs a label on every guest row"
            )));
        }
        let mut classes: Vec<f64> = rows.iter().filter_map(|(_, i)| i.label).collect();
        classes.sort_by(f64::total_cmp);
        classes.dedup();
        // Binary (0/1): event = 1. Otherwise one-vs-rest for every class.
        let events: Vec<f64> = if classes.iter().all(|&c| c == 0.0 || c == 1.0) {
            vec![1.0]
        } else {
            classes.clone()
        };
        let settings = if optimal {
            if events.len() > 1 {
                return Err(ComponentError::Param {
                    path: format!("{cpn}.method"),
                    message: format!(
                        "optimal binning needs a binary 0/1 label; the data has {} classes",
                        classes.len()
                    ),
                });
            }
            let event_total = rows.iter().filter(|(_, i)| i.label == Some(1.0)).count();
            let o = &param.optimal_binning_param;
            let settings = OptimalSettings::new(
                param.metric(cpn)?,
                param.bin_num,
                o.min_bin_pct,
                o.max_bin_pct,
                o.mixture,
                param.adjustment_factor,
                rows.len() as u64,
                event_total as u64,
            );
            // Own columns: count per initial bucket, merge, keep the kept ends.
            let counts = table
                .apply_partitions(CountBins {
                    cols: cols.clone(),
                    splits: splits.clone(),
                    event: 1.0,
                })?
                .reduce(MergeCounts)?
                .unwrap_or_else(|| splits.iter().map(|s| vec![(0, 0); s.len()]).collect());
            for (k, &j) in cols.iter().enumerate() {
                if !categorical.contains(&j) {
                    let ends = optimal_bins(&counts[k], &settings);
                    splits[k] = ends.iter().map(|&e| splits[k][e]).collect();
                }
            }
            Some(settings)
        } else {
            None
        };
        let mut mine: Vec<BTreeMap<String, BinColResult>> = Vec::new();
        for &ev in &events {
            let counts = table
                .apply_partitions(CountBins {
                    cols: cols.clone(),
                    splits: splits.clone(),
                    event: ev,
                })?
                .reduce(MergeCounts)?
                .unwrap_or_else(|| splits.iter().map(|s| vec![(0, 0); s.len()]).collect());
            mine.push(
                cols.iter()
                    .zip(&splits)
                    .zip(&counts)
                    .map(|((&j, sp), c)| {
                        (
                            header[j].clone(),
                            woe_iv(sp.clone(), c, param.adjustment_factor),
                        )
                    })
                    .collect(),
            );
        }
        model.binning_result = merge_classes(&mine);
        if events.len() > 1 {
            model.multi_class_result = events
                .iter()
                .zip(mine)
                .map(|(e, m)| (e.to_string(), m))
                .collect();
        }
        let hosts = ctx.roster.parties(Role::Host);
        if !param.local_only && !hosts.is_empty() {
            let (pk, sk) = PaillierKeypair::generate(param.encrypt_param.key_length)
                .map_err(|e| ComponentError::Failed(format!("{cpn}: paillier keygen: {e}")))?;
            pk.precompute_djn();
            // One ciphertext per class: Enc(label == event).
            let enc: Vec<(String, Vec<Ciphertext>)> = rows
                .par_iter()
                .map(|(k, i)| {
                    let y = i.label.unwrap_or(f64::NAN);
                    events
                        .iter()
                        .map(|&e| pk.encrypt_i64(i64::from(y == e)))
                        .collect::<Result<Vec<_>, _>>()
                        .map(|c| (k.clone(), c))
                })
                .collect::<Result<_, _>>()
                .map_err(|e| ComponentError::Failed(format!("{cpn}: encrypting labels: {e}")))?;
            let enc = parallelize(ctx.computing.as_ref(), enc, table.partitions().max(1))?;
            PAILLIER_PUBKEY.remote(fed, &pk, &hosts, "")?;
            ENCRYPTED_LABEL.remote_table(fed, &enc, &hosts, "")?;
            for h in hosts {
                let sums: BinSumMessage = ENCRYPTED_BIN_SUM.get_one(fed, h, "")?;
                let to_merge: Vec<String> = match settings {
                    Some(_) => OPTIMAL_COLUMNS.get_one(fed, h, "")?,
                    None => Vec::new(),
                };
                let mut bucket_idx: BucketIdxMessage = Vec::new();
                let mut per_class: Vec<BTreeMap<String, BinColResult>> =
                    vec![BTreeMap::new(); events.len()];
                for (name, bins) in sums {
                    for (k, res) in per_class.iter_mut().enumerate() {
                        let counts: Vec<(u64, u64)> = bins
                            .iter()
                            .map(|(c, n)| {
                                let e = match c.get(k) {
                                    Some(Some(c)) => sk.decrypt(c).map_err(|e| {
                                        ComponentError::Failed(format!(
                                            "{cpn}: decrypting {name}: {e}"
                                        ))
                                    })?,
                                    _ => 0.0,
                                };
                                Ok((e.round() as u64, *n))
                            })
                            .collect::<Result<_, ComponentError>>()?;
                        if counts.iter().any(|c| c.0 > c.1) {
                            return Err(ComponentError::Failed(format!(
                                "{cpn}: {h} sent inconsistent bin sums for {name}"
                            )));
                        }
                        let counts = match &settings {
                            Some(s) if to_merge.contains(&name) => {
                                let ends = optimal_bins(&counts, s);
                                let merged = merge_counts(&counts, &ends);
                                bucket_idx.push((name.clone(), ends));
                                merged
                            }
                            _ => counts,
                        };
                        res.insert(
                            name.clone(),
                            woe_iv(Vec::new(), &counts, param.adjustment_factor),
                        );
                    }
                }
                if settings.is_some() {
                    BUCKET_IDX.remote(fed, &bucket_idx, &[h], "")?;
                }
                model
                    .host_results
                    .insert(h.party_id.to_string(), merge_classes(&per_class));
                if events.len() > 1 {
                    model.host_multi_class_result.insert(
                        h.party_id.to_string(),
                        events
                            .iter()
                            .zip(per_class)
                            .map(|(e, m)| (e.to_string(), m))
                            .collect(),
                    );
                }
            }
        }
    } else {
        if !param.local_only {
            let guest = ctx.roster.party(Role::Guest, 0).ok_or_else(|| {
                ComponentError::Failed("HeteroFeatureBinning needs a guest".into())
            })?;
            let pk: PublicKey = PAILLIER_PUBKEY.get_one(fed, guest, "")?;
            let enc: TypedTable<String, Vec<Ciphertext>> =
                ENCRYPTED_LABEL.get_table(fed, guest, "", ctx.computing.as_ref())?;
            let sums = table
                .join(&enc, WithEncLabel)?
                .apply_partitions(EncBinSums {
                    pk: pk.clone(),
                    cols: cols.clone(),
                    splits: splits.clone(),
                })?
                .reduce(MergeEncSums { pk })?
                .unwrap_or_else(|| {
                    splits
                        .iter()
                        .map(|s| vec![(Vec::new(), 0); s.len()])
                        .collect()
                });
            let msg: BinSumMessage = cols
                .iter()
                .zip(sums)
                .map(|(&j, s)| (anonymous_name(ctx.local.party_id, j), s))
                .collect();
            ENCRYPTED_BIN_SUM.remote(fed, &msg, &[guest], "")?;
            if optimal {
                // The guest merges the non-categorical columns and names the
                // initial buckets that end a final bin.
                let merge: Vec<(usize, String)> = cols
                    .iter()
                    .enumerate()
                    .filter(|(_, j)| !categorical.contains(j))
                    .map(|(k, &j)| (k, anonymous_name(ctx.local.party_id, j)))
                    .collect();
                let names: Vec<String> = merge.iter().map(|m| m.1.clone()).collect();
                OPTIMAL_COLUMNS.remote(fed, &names, &[guest], "")?;
                let idx: BucketIdxMessage = BUCKET_IDX.get_one(fed, guest, "")?;
                let idx: BTreeMap<String, Vec<usize>> = idx.into_iter().collect();
                for (k, name) in merge {
                    let ends = idx.get(&name).ok_or_else(|| {
                        ComponentError::Failed(format!(
                            "{cpn}: the guest sent no bucket_idx for {name}"
                        ))
                    })?;
                    splits[k] = kept_splits(&splits[k], ends).ok_or_else(|| {
                        ComponentError::Failed(format!(
                            "{cpn}: the guest's bucket_idx for {name} does not fit its {} initial buckets",
                            splits[k].len()
                        ))
                    })?;
                }
            }
        }
        if !(optimal && param.local_only) {
            // Optimal binning needs the guest's labels: a local-only host bins nothing.
            for (&j, sp) in cols.iter().zip(&splits) {
                model.binning_result.insert(
                    header[j].clone(),
                    BinColResult {
                        split_points: sp.clone(),
                        ..Default::default()
                    },
                );
                model
                    .anonymous_names
                    .insert(header[j].clone(), anonymous_name(ctx.local.party_id, j));
            }
        }
    }
    Ok(model)
}

/// The split points of the final bins: the initial split points at `ends`
/// (strictly increasing, the last one the last initial bucket), or `None`.
fn kept_splits(init: &[f64], ends: &[usize]) -> Option<Vec<f64>> {
    let ok = ends.windows(2).all(|w| w[0] < w[1])
        && match ends.last() {
            Some(&e) => e + 1 == init.len(),
            None => init.is_empty(),
        };
    ok.then(|| ends.iter().map(|&e| init[e]).collect())
}

/// FATE's anonymised column name: `host_<party_id>_x<index>`.
pub fn anonymous_name(party_id: u64, index: usize) -> String {
    format!("host_{party_id}_x{index}")
}

#[cfg(test)]
mod tests;
