//! `HeteroFeatureSelection` (FATE's HeteroFeatureSelection).
//!
//! Filters, applied in `filter_methods` order to the candidate columns
//! (`select_col_indexes` -1 = all, plus `select_names`; other columns are
//! always kept):
//! * `manually` (`manually_param`: `filter_out_indexes`, `filter_out_names`,
//!   `left_col_indexes`, `left_col_names`; hosts may name their columns by
//!   anonymous name with `use_anonymous`), local to each party;
//! * `unique_value` (`unique_param.eps`): drops columns whose max − min < eps;
//! * `percentage_value` (`percentage_value_param.upper_pct`): drops columns in
//!   which a single value makes up at least `upper_pct` of the rows;
//! * IV filters, from the binning model given as `isometric_model`:
//!   `iv_filter` (`iv_param`: `filter_type` threshold / top_k /
//!   top_percentile, `threshold`, `take_high`, `select_federated`) and the
//!   older `iv_value_thres` (`iv_value_param.value_threshold`),
//!   `iv_percentile` (`iv_percentile_param.percentile_threshold`), `iv_top_k`
//!   (`iv_top_k_param.k`). The guest ranks its own and (with
//!   `select_federated`, default true) the hosts' columns together, and sends
//!   each host the anonymous names of its columns that pass
//!   (`host_select_cols`); hosts learn nothing else.
//!
//! Output: the instances with only the kept features. Model: the kept
//! columns, so a predict job (`pipeline.<selection>.model`) selects the same.

use crate::hetero_feature_binning::{anonymous_name, BinningModelParam};
use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Dataset, Instance, ModelData,
    TaskContext,
};
use fedflow_computing::{register_op, MapValuesOp, OpError, TypedTable};
use fedflow_core::Role;
use fedflow_federation::TransferVariable;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The host's columns that pass the guest's IV filters, guest → host.
pub const HOST_SELECT_COLS: TransferVariable =
    TransferVariable::new("host_select_cols", &[Role::Guest], &[Role::Host]);

/// Keeps the given features, in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SelectCols(pub Vec<usize>);

impl MapValuesOp for SelectCols {
    const NAME: &'static str = "hetero_feature_selection.select_cols";
    type V = Instance;
    type Out = Instance;
    fn map_value(&self, v: Instance) -> Result<Instance, OpError> {
        Ok(Instance {
            features: self.0.iter().map(|&j| v.features[j]).collect(),
            label: v.label,
            weight: v.weight,
        })
    }
}
register_op!(map_values SelectCols, example: SelectCols(vec![1]), input: vec![("a".to_string(), Instance { features: vec![1.0, 2.0], label: None, weight: 1.0 })]);

/// The component's model param.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SelectionModelParam {
    /// The input header.
    pub header: Vec<String>,
    /// Kept columns, in header order.
    pub left_cols: Vec<String>,
}

fn get<'a>(p: &'a serde_json::Value, path: &[&str]) -> Option<&'a serde_json::Value> {
    path.iter()
        .try_fold(p, |v, k| v.get(*k))
        .filter(|v| !v.is_null())
}

fn f64_at(p: &serde_json::Value, path: &[&str], default: f64) -> f64 {
    get(p, path).and_then(|v| v.as_f64()).unwrap_or(default)
}

fn strings_at(p: &serde_json::Value, path: &[&str]) -> Vec<String> {
    get(p, path)
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn indexes_at(p: &serde_json::Value, path: &[&str]) -> Vec<usize> {
    get(p, path)
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_u64().map(|i| i as usize))
                .collect()
        })
        .unwrap_or_default()
}

/// An IV rule: which of `(name, iv)` pass.
fn iv_pass(rule: &IvRule, ivs: &[(String, f64)]) -> BTreeSet<String> {
    let mut sorted: Vec<&(String, f64)> = ivs.iter().collect();
    sorted.sort_by(|a, b| {
        let o = b.1.total_cmp(&a.1);
        if rule.take_high {
            o
        } else {
            o.reverse()
        }
    });
    match rule.kind.as_str() {
        "top_k" => sorted
            .iter()
            .take(rule.threshold.max(0.0) as usize)
            .map(|x| x.0.clone())
            .collect(),
        "top_percentile" => {
            let k = (rule.threshold * ivs.len() as f64).ceil() as usize;
            sorted.iter().take(k).map(|x| x.0.clone()).collect()
        }
        _ => ivs
            .iter()
            .filter(|x| {
                if rule.take_high {
                    x.1 >= rule.threshold
                } else {
                    x.1 <= rule.threshold
                }
            })
            .map(|x| x.0.clone())
            .collect(),
    }
}

struct IvRule {
    kind: String,
    threshold: f64,
    take_high: bool,
    federated: bool,
}

fn iv_rule(method: &str, p: &serde_json::Value) -> Option<IvRule> {
    let federated = get(p, &["iv_param", "select_federated"])
        .and_then(|v| v.as_bool())
        .unwrap_or(true);
    match method {
        "iv_filter" => Some(IvRule {
            kind: get(p, &["iv_param", "filter_type"])
                .and_then(|v| v.as_str())
                .unwrap_or("threshold")
                .to_string(),
            threshold: f64_at(p, &["iv_param", "threshold"], 1.0),
            take_high: get(p, &["iv_param", "take_high"])
                .and_then(|v| v.as_bool())
                .unwrap_or(true),
            federated,
        }),
        "iv_value_thres" => Some(IvRule {
            kind: "threshold".into(),
            threshold: f64_at(p, &["iv_value_param", "value_threshold"], 1.0),
            take_high: true,
            federated: true,
        }),
        "iv_percentile" => Some(IvRule {
            kind: "top_percentile".into(),
            threshold: f64_at(p, &["iv_percentile_param", "percentile_threshold"], 1.0),
            take_high: true,
            federated: true,
        }),
        "iv_top_k" => Some(IvRule {
            kind: "top_k".into(),
            threshold: f64_at(p, &["iv_top_k_param", "k"], 1.0),
            take_high: true,
            federated: true,
        }),
        _ => None,
    }
}

/// The component.
pub struct HeteroFeatureSelection;

impl Component for HeteroFeatureSelection {
    fn module(&self) -> &'static str {
        "HeteroFeatureSelection"
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let cpn = ctx.component_name.as_str();
        if !matches!(ctx.local.role, Role::Guest | Role::Host) {
            return Ok(ComponentOutput::default());
        }
        let input = ctx
            .inputs
            .any()
            .ok_or_else(|| ComponentError::Input(format!("{cpn}: no input data")))?;
        let header = input.schema.header.clone();
        let saved = ctx.inputs.model("HeteroFeatureSelection").cloned();
        let (meta, left): (serde_json::Value, Vec<String>) = match &saved {
            Some(m) => {
                let mp: SelectionModelParam =
                    parse_params(&format!("{cpn}(model param)"), &m.param)?;
                (m.meta.clone(), mp.left_cols)
            }
            None => (ctx.params.clone(), fit(ctx, &header)?),
        };
        let cols: Vec<usize> = header
            .iter()
            .enumerate()
            .filter(|(_, h)| left.contains(h))
            .map(|(i, _)| i)
            .collect();
        if cols.len() != left.len() {
            return Err(ComponentError::Input(format!(
                "{cpn}: the data's header {header:?} lacks some of the model's columns {left:?}"
            )));
        }
        let table: TypedTable<String, Instance> = TypedTable::from_raw(input.table.clone());
        let out = table.map_values(SelectCols(cols.clone()))?;
        let mut schema = input.schema.clone();
        schema.header = cols.iter().map(|&i| header[i].clone()).collect();
        Ok(ComponentOutput {
            summary: serde_json::json!({
                "left_cols": schema.header,
                "filtered": header.len() - cols.len(),
            }),
            data: vec![Dataset {
                table: out.raw().clone(),
                schema: schema.clone(),
            }],
            model: Some(ModelData {
                module: "HeteroFeatureSelection".into(),
                meta,
                param: serde_json::to_value(SelectionModelParam {
                    header,
                    left_cols: schema.header,
                })
                .unwrap_or_default(),
            }),
        })
    }
}

fn fit(ctx: &TaskContext, header: &[String]) -> Result<Vec<String>, ComponentError> {
    let cpn = ctx.component_name.as_str();
    let p = &ctx.params;
    let fed = ctx.federation.as_ref();
    let is_host = ctx.local.role == Role::Host;
    let pid = ctx.local.party_id;
    // Candidates.
    let idx = get(p, &["select_col_indexes"])
        .cloned()
        .unwrap_or(serde_json::json!(-1));
    let cand_idx: Vec<usize> = match &idx {
        serde_json::Value::Number(n) if n.as_i64() == Some(-1) => (0..header.len()).collect(),
        _ => indexes_at(p, &["select_col_indexes"]),
    };
    let mut cand: BTreeSet<String> = cand_idx
        .iter()
        .filter_map(|&i| header.get(i).cloned())
        .collect();
    cand.extend(
        strings_at(p, &["select_names"])
            .into_iter()
            .filter(|n| header.contains(n)),
    );
    let mut left = cand.clone();
    let anon = |i: usize| anonymous_name(pid, i);
    let name_of = |n: &str| -> Option<String> {
        // A column named by its own name or (hosts) its anonymous name.
        if header.iter().any(|h| h == n) {
            return Some(n.to_string());
        }
        (0..header.len())
            .find(|&i| anon(i) == n)
            .map(|i| header[i].clone())
    };
    let binning: Option<BinningModelParam> = match ctx.inputs.model("HeteroFeatureBinning") {
        Some(m) => Some(parse_params(&format!("{cpn}(isometric model)"), &m.param)?),
        None => None,
    };
    let methods: Vec<String> = get(p, &["filter_methods"])
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_else(|| vec!["manually".into()]);
    for m in &methods {
        match m.as_str() {
            "manually" => {
                let mp = &["manually_param"];
                let out_names: BTreeSet<String> = strings_at(p, &[mp[0], "filter_out_names"])
                    .iter()
                    .filter_map(|n| name_of(n))
                    .chain(
                        indexes_at(p, &[mp[0], "filter_out_indexes"])
                            .into_iter()
                            .filter_map(|i| header.get(i).cloned()),
                    )
                    .collect();
                left.retain(|c| !out_names.contains(c));
                let keep_names: Vec<String> = strings_at(p, &[mp[0], "left_col_names"]);
                let keep_idx: Vec<usize> = indexes_at(p, &[mp[0], "left_col_indexes"]);
                if !keep_names.is_empty() || !keep_idx.is_empty() {
                    let keep: BTreeSet<String> = keep_names
                        .iter()
                        .filter_map(|n| name_of(n))
                        .chain(keep_idx.into_iter().filter_map(|i| header.get(i).cloned()))
                        .collect();
                    left.retain(|c| keep.contains(c));
                }
            }
            "unique_value" => {
                let eps = f64_at(p, &["unique_param", "eps"], 1e-6);
                let t: TypedTable<String, Instance> =
                    TypedTable::from_raw(ctx.inputs.any().expect("checked").table.clone());
                let stats = t
                    .apply_partitions(crate::data_transform::ColStatsOp { n: header.len() })?
                    .reduce(crate::data_transform::MergeColStats)?
                    .unwrap_or_default();
                left.retain(|c| {
                    let j = header.iter().position(|h| h == c).unwrap_or(0);
                    stats.0.get(j).is_some_and(|s| s.1 - s.0 >= eps)
                });
            }
            "percentage_value" => {
                // Drop columns in which one value makes up at least upper_pct of the rows.
                let upper = f64_at(p, &["percentage_value_param", "upper_pct"], 1.0);
                let t: TypedTable<String, Instance> =
                    TypedTable::from_raw(ctx.inputs.any().expect("checked").table.clone());
                let rows = t.collect()?;
                let n = rows.len().max(1) as f64;
                left.retain(|c| {
                    let j = header.iter().position(|h| h == c).unwrap_or(0);
                    let mut counts: std::collections::HashMap<u64, usize> = Default::default();
                    for (_, i) in &rows {
                        *counts.entry(i.features[j].to_bits()).or_default() += 1;
                    }
                    let top = counts.values().copied().max().unwrap_or(0) as f64;
                    top / n < upper
                });
            }
            "vif_filter" => {
                let model = pearson_filters::pearson_model(ctx, m)?;
                let threshold = f64_at(p, &["vif_param", "threshold"], 10.0);
                left = pearson_filters::vif_filter(&left, &model, threshold);
            }
            "correlation_filter" => {
                let federated = get(p, &["correlation_param", "select_federated"])
                    .and_then(|v| v.as_bool())
                    .unwrap_or(true);
                if is_host {
                    if federated {
                        let guest = ctx.roster.party(Role::Guest, 0).ok_or_else(|| {
                            ComponentError::Failed("HeteroFeatureSelection needs a guest".into())
                        })?;
                        let pass: Vec<String> = HOST_SELECT_COLS.get_one(fed, guest, m)?;
                        let pass: BTreeSet<String> =
                            pass.iter().filter_map(|n| name_of(n)).collect();
                        left.retain(|c| pass.contains(c));
                    }
                    continue;
                }
                let model = pearson_filters::pearson_model(ctx, m)?;
                let b = binning.as_ref().ok_or_else(|| {
                    ComponentError::Input(format!(
                        "{cpn}: filter '{m}' sorts by iv and needs a HeteroFeatureBinning model as isometric_model"
                    ))
                })?;
                let threshold = f64_at(p, &["correlation_param", "threshold"], 0.1);
                let host_left: BTreeSet<String> = if federated {
                    model.host_names().iter().cloned().collect()
                } else {
                    BTreeSet::new()
                };
                let (g, h) =
                    pearson_filters::correlation_filter(&left, &host_left, &model, b, threshold);
                left = g;
                if federated {
                    if let Some(hp) = model.host_party_id().and_then(|id| {
                        ctx.roster
                            .parties(Role::Host)
                            .into_iter()
                            .find(|x| x.party_id == id)
                    }) {
                        HOST_SELECT_COLS.remote(
                            fed,
                            &h.into_iter().collect::<Vec<_>>(),
                            &[hp],
                            m,
                        )?;
                    }
                }
            }
            other => {
                let Some(rule) = iv_rule(other, p) else {
                    return Err(ComponentError::Param {
                        path: format!("{cpn}.filter_methods"),
                        message: format!("'{other}' is not implemented in this build (manually, unique_value, percentage_value, iv_filter, iv_value_thres, iv_percentile, iv_top_k are)"),
                    });
                };
                let federated = rule.federated && !ctx.roster.parties(Role::Host).is_empty();
                if is_host {
                    if federated {
                        let guest = ctx.roster.party(Role::Guest, 0).ok_or_else(|| {
                            ComponentError::Failed("HeteroFeatureSelection needs a guest".into())
                        })?;
                        let pass: Vec<String> = HOST_SELECT_COLS.get_one(fed, guest, m)?;
                        let pass: BTreeSet<String> =
                            pass.iter().filter_map(|n| name_of(n)).collect();
                        left.retain(|c| pass.contains(c));
                    }
                    continue;
                }
                let b = binning.as_ref().ok_or_else(|| {
                    ComponentError::Input(format!(
                        "{cpn}: filter '{other}' needs a HeteroFeatureBinning model as isometric_model"
                    ))
                })?;
                let mut ivs: Vec<(String, f64)> = left
                    .iter()
                    .filter_map(|c| b.binning_result.get(c).map(|r| (c.clone(), r.iv)))
                    .collect();
                let hosts = ctx.roster.parties(Role::Host);
                if federated {
                    for h in &hosts {
                        if let Some(r) = b.host_results.get(&h.party_id.to_string()) {
                            ivs.extend(
                                r.iter().map(|(k, v)| (format!("{}#{k}", h.party_id), v.iv)),
                            );
                        }
                    }
                }
                let pass = iv_pass(&rule, &ivs);
                // Guest columns without IV (not binned) are kept.
                left.retain(|c| pass.contains(c) || !b.binning_result.contains_key(c));
                if federated {
                    for h in &hosts {
                        let prefix = format!("{}#", h.party_id);
                        let names: Vec<String> = pass
                            .iter()
                            .filter_map(|n| n.strip_prefix(&prefix).map(str::to_string))
                            .collect();
                        HOST_SELECT_COLS.remote(fed, &names, &[*h], m)?;
                    }
                }
            }
        }
    }
    // Columns that were not candidates are kept.
    Ok(header
        .iter()
        .filter(|h| left.contains(*h) || !cand.contains(*h))
        .cloned()
        .collect())
}

mod pearson_filters;
#[cfg(test)]
mod tests;
