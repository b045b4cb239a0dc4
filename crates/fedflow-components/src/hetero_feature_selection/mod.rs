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
//!   (`host_select_cols`); hosts learn nothing else. Before each federated
//!   rule a host sends the anonymous names of its remaining candidates
//!   (`host_select_candidates`), so its earlier local filters count;
//! * `hetero_sbt_filter` (`sbt_param`): the same federated ranking on the
//!   guest's HeteroSecureBoost feature importance (unused features: 0);
//! * local filters on the party's own isometric models: `statistic_filter`
//!   (`statistic_param` on a DataStatistics model: mean, stddev, skewness,
//!   kurtosis, median, `95%`, …), `coefficient_of_variation_value_thres`
//!   (`variance_coe_param`: coefficient_of_variance >= value_threshold),
//!   `outlier_cols` (`outlier_param`: the `percentile` point <=
//!   upper_threshold), `psi_filter` (`psi_param` on a PSI model).
//!
//! `iv_param`, `statistic_param`, `psi_param` and `sbt_param` take lists
//! (`metrics`, `filter_type`, `take_high`, `threshold`, `host_thresholds`):
//! one rule per entry, applied in order, scalars shared. As in FATE, a rule
//! that would drop all of a party's valued columns keeps the best one.
//!
//! Output: the instances with only the kept features. Model: the kept
//! columns, so a predict job (`pipeline.<selection>.model`) selects the same.

use crate::data_statistics::{canonical, StatisticsModelParam};
use crate::hetero_feature_binning::{anonymous_name, BinningModelParam};
use crate::psi::PsiModelParam;
use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Dataset, Instance, ModelData,
    TaskContext,
};
use fedflow_computing::{register_op, MapValuesOp, OpError, TypedTable};
use fedflow_core::Role;
use fedflow_federation::TransferVariable;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The host's candidate columns (anonymous names) before a federated filter, host → guest.
pub const HOST_SELECT_CANDIDATES: TransferVariable =
    TransferVariable::new("host_select_candidates", &[Role::Host], &[Role::Guest]);

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

/// One metric filter (FATE's `CommonFilterParam` at one index): which of
/// `(name, value)` pass. Thresholds may differ per name (hosts').
fn metric_pass(
    rule: &MetricRule,
    vals: &[(String, f64)],
    thr: &dyn Fn(&str) -> f64,
) -> BTreeSet<String> {
    let mut sorted: Vec<&(String, f64)> = vals.iter().collect();
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
            let k = (rule.threshold * vals.len() as f64).ceil() as usize;
            sorted.iter().take(k).map(|x| x.0.clone()).collect()
        }
        _ => vals
            .iter()
            .filter(|x| {
                let t = thr(&x.0);
                if rule.take_high {
                    x.1 >= t
                } else {
                    x.1 <= t
                }
            })
            .map(|x| x.0.clone())
            .collect(),
    }
}

/// FATE's `_keep_one_feature`: when nothing of `vals` passed, the best one stays.
fn keep_one(rule: &MetricRule, vals: &[(String, f64)], pass: &mut BTreeSet<String>) {
    if vals.iter().any(|v| pass.contains(&v.0)) {
        return;
    }
    let best = vals.iter().max_by(|a, b| {
        if rule.take_high {
            a.1.total_cmp(&b.1)
        } else {
            b.1.total_cmp(&a.1)
        }
    });
    if let Some(b) = best {
        pass.insert(b.0.clone());
    }
}

/// A filter on one metric of an isometric model.
#[derive(Debug, Clone)]
struct MetricRule {
    metric: String,
    kind: String,
    threshold: f64,
    take_high: bool,
    /// Per host, in roster order (`host_thresholds`); `None` = `threshold`.
    host_thresholds: Option<Vec<f64>>,
    federated: bool,
}

/// The `idx`-th value of a field that is either a scalar or a list.
fn nth(v: Option<&serde_json::Value>, idx: usize) -> Option<&serde_json::Value> {
    match v {
        Some(serde_json::Value::Array(a)) => a.get(idx).filter(|x| !x.is_null()),
        other => other,
    }
}

/// The rules of a `CommonFilterParam`-like object (`iv_param`,
/// `statistic_param`, `psi_param`, `sbt_param`): one per entry of `metrics`
/// (or of the longest list), scalars shared by all.
fn rules_of(p: &serde_json::Value, key: &str, default_metric: &str) -> Vec<MetricRule> {
    let obj = get(p, &[key]).cloned().unwrap_or(serde_json::json!({}));
    let fields = [
        "metrics",
        "filter_type",
        "take_high",
        "threshold",
        "select_federated",
    ];
    let n = fields
        .iter()
        .filter_map(|f| obj.get(*f).and_then(|v| v.as_array()).map(|a| a.len()))
        .max()
        .unwrap_or(1)
        .max(1);
    (0..n)
        .map(|i| MetricRule {
            metric: nth(obj.get("metrics"), i)
                .and_then(|v| v.as_str())
                .unwrap_or(default_metric)
                .to_string(),
            kind: nth(obj.get("filter_type"), i)
                .and_then(|v| v.as_str())
                .unwrap_or("threshold")
                .to_string(),
            threshold: nth(obj.get("threshold"), i)
                .and_then(|v| v.as_f64())
                .unwrap_or(1.0),
            take_high: nth(obj.get("take_high"), i)
                .and_then(|v| v.as_bool())
                .unwrap_or(true),
            host_thresholds: match nth(obj.get("host_thresholds"), i) {
                Some(serde_json::Value::Array(a)) => {
                    Some(a.iter().filter_map(|x| x.as_f64()).collect())
                }
                Some(v) => v.as_f64().map(|t| vec![t; 64]),
                None => None,
            },
            federated: nth(obj.get("select_federated"), i)
                .and_then(|v| v.as_bool())
                .unwrap_or(true),
        })
        .collect()
}

/// The single rule of FATE's older filter methods (`iv_value_thres`, …).
fn legacy_rule(metric: &str, kind: &str, threshold: f64, take_high: bool) -> MetricRule {
    MetricRule {
        metric: metric.into(),
        kind: kind.into(),
        threshold,
        take_high,
        host_thresholds: None,
        federated: true,
    }
}

/// Federated filters: the guest ranks its own and the hosts' columns on
/// metric values from its model (IV, tree feature importance).
fn federated_rules(method: &str, p: &serde_json::Value) -> Option<Vec<MetricRule>> {
    let local_only = |k: &str| {
        get(p, &[k, "local_only"])
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    };
    let mut r = match method {
        "iv_filter" => return Some(rules_of(p, "iv_param", "iv")),
        "hetero_sbt_filter" => return Some(rules_of(p, "sbt_param", "feature_importance")),
        "iv_value_thres" => legacy_rule(
            "iv",
            "threshold",
            f64_at(p, &["iv_value_param", "value_threshold"], 1.0),
            true,
        ),
        "iv_percentile" => legacy_rule(
            "iv",
            "top_percentile",
            f64_at(p, &["iv_percentile_param", "percentile_threshold"], 1.0),
            true,
        ),
        "iv_top_k" => legacy_rule(
            "iv",
            "top_k",
            f64_at(p, &["iv_top_k_param", "k"], 1.0),
            true,
        ),
        _ => return None,
    };
    // iv_value_thres → iv_value_param, iv_percentile → iv_percentile_param, …
    r.federated = !local_only(&format!("{}_param", method.trim_end_matches("_thres")));
    if method == "iv_value_thres" {
        r.host_thresholds = match get(p, &["iv_value_param", "host_thresholds"]) {
            Some(serde_json::Value::Array(a)) => {
                Some(a.iter().filter_map(|x| x.as_f64()).collect())
            }
            Some(v) => v.as_f64().map(|t| vec![t; 64]),
            None => None,
        };
    }
    Some(vec![r])
}

/// Local filters on a party's own isometric model (DataStatistics, PSI).
fn local_rules(method: &str, p: &serde_json::Value) -> Option<Vec<MetricRule>> {
    Some(match method {
        "statistic_filter" => rules_of(p, "statistic_param", "mean"),
        "psi_filter" => rules_of(p, "psi_param", "psi"),
        "coefficient_of_variation_value_thres" => vec![legacy_rule(
            "coefficient_of_variance",
            "threshold",
            f64_at(p, &["variance_coe_param", "value_threshold"], 1.0),
            true,
        )],
        "outlier_cols" => {
            let pct = f64_at(p, &["outlier_param", "percentile"], 1.0);
            vec![legacy_rule(
                &format!("{}%", (pct * 100.0 + 1e-9).floor() as i64),
                "threshold",
                f64_at(p, &["outlier_param", "upper_threshold"], 1.0),
                false,
            )]
        }
        _ => return None,
    })
}

/// Hosts' metric values by (party id, anonymous name).
type HostValues = BTreeMap<(u64, String), f64>;

/// The isometric models a selection reads metric values from.
struct IsoModels {
    binning: Option<BinningModelParam>,
    statistics: Option<StatisticsModelParam>,
    psi: Option<PsiModelParam>,
    /// Tree feature importance (guest's HeteroSecureBoost model): own
    /// columns by name, hosts' by (party id, anonymous name).
    importance: Option<(BTreeMap<String, f64>, HostValues)>,
}

impl IsoModels {
    fn new(ctx: &TaskContext) -> Result<Self, ComponentError> {
        let cpn = ctx.component_name.as_str();
        let parse = |module: &str| -> Option<&serde_json::Value> {
            ctx.inputs.model(module).map(|m| &m.param)
        };
        let what = format!("{cpn}(isometric model)");
        let binning = parse("HeteroFeatureBinning")
            .map(|v| parse_params(&what, v))
            .transpose()?;
        let statistics = parse("DataStatistics")
            .map(|v| parse_params(&what, v))
            .transpose()?;
        let psi = parse("PSI").map(|v| parse_params(&what, v)).transpose()?;
        let importance = parse("HeteroSecureBoost").map(|v| {
            let mut own = BTreeMap::new();
            let mut hosts = BTreeMap::new();
            if let Some(m) = v.get("feature_importance").and_then(|x| x.as_object()) {
                for (k, x) in m {
                    let x = x.as_f64().unwrap_or(0.0);
                    if let Some(name) = k.strip_prefix("guest:") {
                        own.insert(name.to_string(), x);
                    } else if let Some((pid, fid)) = k
                        .strip_prefix("host_")
                        .and_then(|r| r.split_once('_'))
                        .and_then(|(p, f)| Some((p.parse::<u64>().ok()?, f.parse::<usize>().ok()?)))
                    {
                        hosts.insert((pid, anonymous_name(pid, fid)), x);
                    }
                }
            }
            (own, hosts)
        });
        Ok(Self {
            binning,
            statistics,
            psi,
            importance,
        })
    }

    fn missing(cpn: &str, method: &str, module: &str) -> ComponentError {
        ComponentError::Input(format!(
            "{cpn}: filter '{method}' needs a {module} model as isometric_model"
        ))
    }

    /// A local filter's value of one of this party's columns.
    fn local_value(
        &self,
        cpn: &str,
        method: &str,
        metric: &str,
        col: &str,
    ) -> Result<Option<(String, f64)>, ComponentError> {
        let v = if metric == "psi" {
            let m = self
                .psi
                .as_ref()
                .ok_or_else(|| Self::missing(cpn, method, "PSI"))?;
            m.total_psi.get(col).copied()
        } else {
            let m = self
                .statistics
                .as_ref()
                .ok_or_else(|| Self::missing(cpn, method, "DataStatistics"))?;
            if !m.statistics.contains_key(canonical(metric).as_str()) {
                return Err(ComponentError::Param {
                    path: format!("{cpn}.filter_methods"),
                    message: format!("{method}: the DataStatistics model has no metric '{metric}'"),
                });
            }
            m.value(metric, col)
        };
        Ok(v.map(|v| (col.to_string(), v)))
    }

    /// A federated filter's value of one of the guest's columns.
    fn guest_value(
        &self,
        cpn: &str,
        method: &str,
        _metric: &str,
        col: &str,
    ) -> Result<Option<f64>, ComponentError> {
        if method == "hetero_sbt_filter" {
            let (own, _) = self
                .importance
                .as_ref()
                .ok_or_else(|| Self::missing(cpn, method, "HeteroSecureBoost"))?;
            return Ok(Some(own.get(col).copied().unwrap_or(0.0)));
        }
        let b = self
            .binning
            .as_ref()
            .ok_or_else(|| Self::missing(cpn, method, "HeteroFeatureBinning"))?;
        Ok(b.binning_result.get(col).map(|r| r.iv))
    }

    /// A federated filter's value of a host's column (anonymous name).
    fn host_value(
        &self,
        cpn: &str,
        method: &str,
        _metric: &str,
        party_id: u64,
        anon: &str,
    ) -> Result<Option<f64>, ComponentError> {
        if method == "hetero_sbt_filter" {
            let (_, hosts) = self
                .importance
                .as_ref()
                .ok_or_else(|| Self::missing(cpn, method, "HeteroSecureBoost"))?;
            return Ok(Some(
                hosts
                    .get(&(party_id, anon.to_string()))
                    .copied()
                    .unwrap_or(0.0),
            ));
        }
        let b = self
            .binning
            .as_ref()
            .ok_or_else(|| Self::missing(cpn, method, "HeteroFeatureBinning"))?;
        Ok(b.host_results
            .get(&party_id.to_string())
            .and_then(|r| r.get(anon))
            .map(|r| r.iv))
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
    let models = IsoModels::new(ctx)?;
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
                let b = models.binning.as_ref().ok_or_else(|| {
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
                if let Some(rules) = local_rules(other, p) {
                    for rule in &rules {
                        let vals: Vec<(String, f64)> = left
                            .iter()
                            .filter_map(|c| {
                                models.local_value(cpn, other, &rule.metric, c).transpose()
                            })
                            .collect::<Result<_, _>>()?;
                        let mut pass = metric_pass(rule, &vals, &|_| rule.threshold);
                        keep_one(rule, &vals, &mut pass);
                        // Columns the model has no value for are kept.
                        left.retain(|c| pass.contains(c) || !vals.iter().any(|v| &v.0 == c));
                    }
                    continue;
                }
                let Some(rules) = federated_rules(other, p) else {
                    return Err(ComponentError::Param {
                        path: format!("{cpn}.filter_methods"),
                        message: format!("'{other}' is not implemented in this build (manually, unique_value, percentage_value, iv_filter, iv_value_thres, iv_percentile, iv_top_k, statistic_filter, coefficient_of_variation_value_thres, outlier_cols, psi_filter, hetero_sbt_filter, vif_filter, correlation_filter are)"),
                    });
                };
                for (i, rule) in rules.iter().enumerate() {
                    let tag = if rules.len() > 1 {
                        format!("{m}.{i}")
                    } else {
                        m.clone()
                    };
                    let federated = rule.federated && !ctx.roster.parties(Role::Host).is_empty();
                    if is_host {
                        if federated {
                            let guest = ctx.roster.party(Role::Guest, 0).ok_or_else(|| {
                                ComponentError::Failed(
                                    "HeteroFeatureSelection needs a guest".into(),
                                )
                            })?;
                            // Our candidates, by anonymous name, then the guest's verdict.
                            let mine: Vec<String> = header
                                .iter()
                                .enumerate()
                                .filter(|(_, h)| left.contains(*h))
                                .map(|(i, _)| anon(i))
                                .collect();
                            HOST_SELECT_CANDIDATES.remote(fed, &mine, &[guest], &tag)?;
                            let pass: Vec<String> = HOST_SELECT_COLS.get_one(fed, guest, &tag)?;
                            let pass: BTreeSet<String> =
                                pass.iter().filter_map(|n| name_of(n)).collect();
                            left.retain(|c| pass.contains(c));
                        }
                        continue;
                    }
                    let mut vals: Vec<(String, f64)> = Vec::new();
                    for c in &left {
                        if let Some(v) = models.guest_value(cpn, other, &rule.metric, c)? {
                            vals.push((c.clone(), v));
                        }
                    }
                    let n_guest = vals.len();
                    let hosts = ctx.roster.parties(Role::Host);
                    let mut host_vals: Vec<Vec<(String, f64)>> = Vec::new();
                    if federated {
                        for h in &hosts {
                            let cands: Vec<String> =
                                HOST_SELECT_CANDIDATES.get_one(fed, *h, &tag)?;
                            let mut hv = Vec::new();
                            for a in cands {
                                // Unknown to the model: kept.
                                let v = models
                                    .host_value(cpn, other, &rule.metric, h.party_id, &a)?
                                    .unwrap_or(f64::NAN);
                                hv.push((format!("{}#{a}", h.party_id), v));
                            }
                            vals.extend(hv.iter().filter(|x| !x.1.is_nan()).cloned());
                            host_vals.push(hv);
                        }
                    }
                    let host_thr = |n: &str| -> f64 {
                        let Some((pid, _)) = n.split_once('#') else {
                            return rule.threshold;
                        };
                        let idx = hosts.iter().position(|h| h.party_id.to_string() == pid);
                        match (&rule.host_thresholds, idx) {
                            (Some(t), Some(i)) => t.get(i).copied().unwrap_or(rule.threshold),
                            _ => rule.threshold,
                        }
                    };
                    let mut pass = metric_pass(rule, &vals, &host_thr);
                    keep_one(rule, &vals[..n_guest], &mut pass);
                    // Guest columns without a value (not binned, …) are kept.
                    left.retain(|c| pass.contains(c) || !vals[..n_guest].iter().any(|v| &v.0 == c));
                    if federated {
                        for (h, hv) in hosts.iter().zip(&host_vals) {
                            let known: Vec<(String, f64)> =
                                hv.iter().filter(|x| !x.1.is_nan()).cloned().collect();
                            keep_one(rule, &known, &mut pass);
                            let prefix = format!("{}#", h.party_id);
                            let names: Vec<String> = hv
                                .iter()
                                .filter(|x| x.1.is_nan() || pass.contains(&x.0))
                                .filter_map(|x| x.0.strip_prefix(&prefix).map(str::to_string))
                                .collect();
                            HOST_SELECT_COLS.remote(fed, &names, &[*h], &tag)?;
                        }
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
