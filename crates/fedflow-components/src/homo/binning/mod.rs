//! `HomoFeatureBinning`: FATE's horizontal feature binning. The clients
//! (guest, hosts) hold the same columns for different rows and agree on one
//! set of split points per column, as if the rows were pooled, without
//! showing the arbiter any client's counts.
//!
//! Protocol (FATE 1.11's `homo_feature_binning`, both methods):
//! 1. each client computes, in one pass over its table, its rows and per
//!    binned column the range and the missing (NaN) count; it sends the
//!    arbiter its column names and ranges (`homo_binning_columns`; FATE's
//!    `local_static_values`: the arbiter learns each client's min and max),
//!    the arbiter checks every client bins the same columns and answers the
//!    global ranges (`homo_binning_ranges`), or an error naming the client
//!    that differs, which fails every party;
//! 2. round 0 of the secure aggregation ([`super::aggregator`]): rows and
//!    missing counts, summed;
//! 3. the query rounds: every client ranks the same query points against its
//!    own rows (`#values <= point`, one pass, [`RankQuery`]) and the arbiter
//!    sums the ranks securely and sends the sums back.
//!    - `virtual_summary` (default): one round on `sample_bins` points evenly
//!      spaced over the global range; each client then reads the split point
//!      of the `i/bin_num` quantile off the summed ranks, interpolating as
//!      FATE's `_query` does.
//!    - `recursive_query`: `bin_num` points start evenly spaced (the last at
//!      the maximum), each aiming at rank `floor(i/bin_num · non-missing)`;
//!      every round each point not yet within `ceil(error · rows)` of its aim
//!      moves half way towards the bound on its side (a bisection), until
//!      all are fixed or `max_iter` rounds; the guest tells the arbiter
//!      whether to go on (`homo_binning_converged`).
//!
//! Every client computes the same split points from the same sums. Unlike
//! FATE, which ranks against a GK quantile summary (`error`,
//! `compress_thres`, `head_size` bound its approximation), the ranks here
//! are exact, so the result is that of FATE's algorithm on exact summaries;
//! FATE's recursive query sums ranks in clear, here they go through secure
//! aggregation. Output data: `transform_param` applied as
//! HeteroFeatureBinning's (`bin_num`: bin indexes; `woe` needs labels per bin
//! and is refused). Model: the split points per column in
//! HeteroFeatureBinning's layout (no event counts). A component fed a
//! HomoFeatureBinning model only transforms, with no federation.

mod arbiter;
mod client;
mod ops;

pub(crate) use arbiter::serve;
pub(crate) use client::fit;
pub use ops::{ColStats, ColumnStats, LocalStats, MergeStats, RankQuery, SumRanks};

use crate::hetero_feature_binning::{TransformParam, MAX_BIN_NUM};
use crate::{parse_params, Component, ComponentError, ComponentOutput, TaskContext};
use fedflow_core::Role;
use fedflow_federation::TransferVariable;
use serde::{Deserialize, Serialize};

/// Client → arbiter: its binned column names and their ranges, or why it
/// cannot bin.
pub const HOMO_BINNING_COLUMNS: TransferVariable = TransferVariable::new(
    "homo_binning_columns",
    &[Role::Guest, Role::Host],
    &[Role::Arbiter],
);
/// Arbiter → clients: the global range per column, or the error.
pub const HOMO_BINNING_RANGES: TransferVariable = TransferVariable::new(
    "homo_binning_ranges",
    &[Role::Arbiter],
    &[Role::Guest, Role::Host],
);
/// Guest → arbiter (recursive query): whether every point is fixed after
/// round `n` (tag `n`).
pub const HOMO_BINNING_CONVERGED: TransferVariable =
    TransferVariable::new("homo_binning_converged", &[Role::Guest], &[Role::Arbiter]);

/// Per binned column, `(min, max)` of its non-missing values (`None`: all missing).
pub(crate) type Ranges = Vec<Option<(f64, f64)>>;
/// A client's binned columns and their ranges.
pub(crate) type Columns = (Vec<String>, Ranges);
/// `homo_binning_columns`.
pub(crate) type ColumnsMessage = Result<Columns, String>;
/// `homo_binning_ranges`.
pub(crate) type RangesMessage = Result<Ranges, String>;

/// The secure aggregation's prefix.
pub(crate) const AGG_PREFIX: &str = "homo_binning";

/// FATE's `consts.FLOAT_ZERO`.
const FLOAT_ZERO: f64 = 1e-8;

/// FATE 1.11's `HomoFeatureBinningParam`: names and defaults as FATE's.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HomoFeatureBinningParam {
    /// `virtual_summary` (default) or `recursive_query` (any case).
    pub method: String,
    /// GK summary compression (accepted; ranks here are exact).
    pub compress_thres: u64,
    /// GK summary head size (accepted; ranks here are exact).
    pub head_size: u64,
    /// Relative rank error: `recursive_query` fixes a point within
    /// `ceil(error · rows)` of its aim (FATE default 1e-4).
    pub error: f64,
    /// `virtual_summary`: query points over the global range (default 100).
    pub sample_bins: usize,
    /// Number of bins (default 10).
    pub bin_num: usize,
    /// Columns to bin by index (-1: all).
    pub bin_indexes: serde_json::Value,
    /// Columns to bin by name (added to `bin_indexes`).
    pub bin_names: Option<Vec<String>>,
    /// WOE smoothing (accepted; homo binning computes no WOE).
    pub adjustment_factor: f64,
    /// How the output data is transformed (`bin_num` or null).
    pub transform_param: TransformParam,
    /// Categorical columns by index (not supported by FATE's homo binning either).
    pub category_indexes: Option<Vec<usize>>,
    /// Categorical columns by name.
    pub category_names: Option<Vec<String>>,
    /// FATE's `local_only` (must stay false).
    pub local_only: bool,
    /// `false`: the data passes through, no model.
    pub need_run: bool,
    /// Skip statistics (homo binning computes none: no effect).
    pub skip_static: bool,
    /// `recursive_query`: at most this many rounds (1..=100, default 100).
    pub max_iter: usize,
}

impl Default for HomoFeatureBinningParam {
    fn default() -> Self {
        HomoFeatureBinningParam {
            method: "virtual_summary".into(),
            compress_thres: 10000,
            head_size: 10000,
            error: 1e-4,
            sample_bins: 100,
            bin_num: 10,
            bin_indexes: serde_json::json!(-1),
            bin_names: None,
            adjustment_factor: 0.5,
            transform_param: TransformParam::default(),
            category_indexes: None,
            category_names: None,
            local_only: false,
            need_run: true,
            skip_static: false,
            max_iter: 100,
        }
    }
}

/// The two methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// One round on `sample_bins` points, interpolated.
    VirtualSummary,
    /// Bisection rounds until every point is within the allowed rank error.
    RecursiveQuery,
}

impl HomoFeatureBinningParam {
    /// Checks every value (the same on every party); returns the method.
    pub fn check(&self, component: &str) -> Result<Method, ComponentError> {
        let bad = |path: &str, message: String| ComponentError::Param {
            path: format!("{component}.{path}"),
            message,
        };
        let method = match self.method.to_ascii_lowercase().as_str() {
            "virtual_summary" => Method::VirtualSummary,
            "recursive_query" => Method::RecursiveQuery,
            _ => {
                return Err(bad(
                    "method",
                    format!(
                        "'{}': expected virtual_summary or recursive_query",
                        self.method
                    ),
                ))
            }
        };
        if self.bin_num < 2 || self.bin_num > MAX_BIN_NUM {
            return Err(bad(
                "bin_num",
                format!(
                    "{}: expected an integer in [2, {MAX_BIN_NUM}]",
                    self.bin_num
                ),
            ));
        }
        if self.sample_bins < 1 || self.sample_bins > MAX_BIN_NUM {
            return Err(bad(
                "sample_bins",
                format!(
                    "{}: expected an integer in [1, {MAX_BIN_NUM}]",
                    self.sample_bins
                ),
            ));
        }
        if !(self.error > 0.0 && self.error < 1.0) {
            return Err(bad(
                "error",
                format!("{}: expected a value in (0, 1)", self.error),
            ));
        }
        if self.max_iter < 1 || self.max_iter > 100 {
            return Err(bad(
                "max_iter",
                format!("{}: expected an integer in [1, 100]", self.max_iter),
            ));
        }
        if self.compress_thres < 1 {
            return Err(bad(
                "compress_thres",
                "0: expected a positive integer".into(),
            ));
        }
        if self.head_size < 1 {
            return Err(bad("head_size", "0: expected a positive integer".into()));
        }
        if !(self.adjustment_factor > 0.0 && self.adjustment_factor < 1.0) {
            return Err(bad(
                "adjustment_factor",
                format!("{}: expected a value in (0, 1)", self.adjustment_factor),
            ));
        }
        if self
            .category_indexes
            .as_ref()
            .is_some_and(|v| !v.is_empty())
            || self.category_names.as_ref().is_some_and(|v| !v.is_empty())
        {
            let path = if self.category_indexes.is_some() {
                "category_indexes"
            } else {
                "category_names"
            };
            return Err(bad(
                path,
                "categorical columns are not supported by HomoFeatureBinning (FATE's homo binning has no category binning); encode them with HomoOneHotEncoder".into(),
            ));
        }
        if self.local_only {
            return Err(bad(
                "local_only",
                "true: HomoFeatureBinning bins across the parties; expected false".into(),
            ));
        }
        match self.transform_param.transform_type.as_deref() {
            None | Some("bin_num") => {}
            Some("woe") => {
                return Err(bad(
                    "transform_param.transform_type",
                    "'woe': HomoFeatureBinning computes no WOE (it counts no labels per bin); expected bin_num or null".into(),
                ))
            }
            Some(t) => {
                return Err(bad(
                    "transform_param.transform_type",
                    format!("'{t}': expected bin_num or null"),
                ))
            }
        }
        Ok(method)
    }
}

/// NumPy's `linspace(start, stop, num)` (endpoint included).
pub fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    match num {
        0 => Vec::new(),
        1 => vec![start],
        _ => {
            let div = (num - 1) as f64;
            let step = (stop - start) / div;
            let mut v: Vec<f64> = if step == 0.0 {
                (0..num)
                    .map(|i| i as f64 / div * (stop - start) + start)
                    .collect()
            } else {
                (0..num).map(|i| i as f64 * step + start).collect()
            };
            v[num - 1] = stop;
            v
        }
    }
}

/// `virtual_summary`: the split points of one column from the query
/// points, their summed ranks and the column's non-missing count (FATE's
/// `_query`: the `i/bin_num` quantiles read off the ranks, deduplicated).
pub fn virtual_summary_splits(
    queries: &[f64],
    ranks: &[u64],
    non_missing: u64,
    bin_num: usize,
) -> Vec<f64> {
    if queries.is_empty() {
        return Vec::new();
    }
    let pv = 1.0 / bin_num as f64;
    let mut rates: Vec<f64> = (1..bin_num).map(|i| i as f64 * pv).collect();
    rates.push(1.0);
    let mut out: Vec<f64> = rates
        .iter()
        .map(|r| {
            let rank = (r * non_missing as f64) as i64;
            let idx = ranks.partition_point(|&g| (g as i64) < rank);
            if idx + 1 >= ranks.len() {
                queries[queries.len() - 1]
            } else {
                let (q0, q1) = (queries[idx], queries[idx + 1]);
                let (g0, g1) = (ranks[idx] as f64, ranks[idx + 1] as f64);
                if (q1 - q0).abs() < FLOAT_ZERO || (g1 - g0).abs() < FLOAT_ZERO {
                    q0
                } else {
                    q0 + (q1 - q0) * ((rank as f64 - g0) / (g1 - g0))
                }
            }
        })
        .collect();
    out.sort_by(f64::total_cmp);
    out.dedup();
    out
}

/// `recursive_query`: one query point (FATE's `SplitPointNode`).
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPoint {
    /// The point.
    pub value: f64,
    /// Lower bound of its search interval.
    pub min: f64,
    /// Upper bound.
    pub max: f64,
    /// The rank it aims at.
    pub aim: f64,
    /// Fixed: within the allowed error of its aim (or cannot move).
    pub fixed: bool,
}

/// `recursive_query`: the starting points of a column with range
/// `(min, max)`: `bin_num` points evenly spaced after `min`, aiming at
/// ranks `floor(i/bin_num · non_missing)`.
pub fn recursive_start(min: f64, max: f64, non_missing: u64, bin_num: usize) -> Vec<QueryPoint> {
    let values = linspace(min, max, bin_num + 1);
    let aims = linspace(0.0, 1.0, bin_num + 1);
    values
        .iter()
        .zip(&aims)
        .skip(1)
        .map(|(&value, &a)| QueryPoint {
            value,
            min,
            max,
            aim: (a * non_missing as f64).floor(),
            fixed: false,
        })
        .collect()
}

/// `recursive_query`: moves every point not within `allowed` of its aim half
/// way towards the bound on its side (FATE's `renew_query_points_table`).
pub fn recursive_step(points: &mut [QueryPoint], ranks: &[u64], allowed: f64) {
    for (p, &r) in points.iter_mut().zip(ranks) {
        if p.fixed {
            continue;
        }
        let r = r as f64;
        let towards = if r - p.aim > allowed {
            Some(p.min)
        } else if p.aim - r > allowed {
            Some(p.max)
        } else {
            None
        };
        match towards {
            None => p.fixed = true,
            Some(bound) => {
                let v = (p.value + bound) / 2.0;
                if (v - p.value).abs() <= FLOAT_ZERO * 0.9 {
                    p.value += FLOAT_ZERO * 0.9;
                    p.fixed = true;
                } else if bound == p.min {
                    p.max = p.value;
                    p.value = v;
                } else {
                    p.min = p.value;
                    p.value = v;
                }
            }
        }
    }
}

/// `recursive_query`: the final split points (FATE's: sorted, values within
/// `FLOAT_ZERO` of 0 become 0, values within `FLOAT_ZERO` of the previous
/// one dropped).
pub fn recursive_splits(points: &[QueryPoint]) -> Vec<f64> {
    let mut sp: Vec<f64> = points.iter().map(|p| p.value).collect();
    sp.sort_by(f64::total_cmp);
    sp.dedup();
    let Some(&first) = sp.first() else {
        return Vec::new();
    };
    let mut out = vec![if first.abs() > FLOAT_ZERO { first } else { 0.0 }];
    let mut last = first;
    for &v in &sp[1..] {
        let v = if v.abs() < FLOAT_ZERO { 0.0 } else { v };
        if (v - last).abs() > FLOAT_ZERO {
            out.push(v);
        }
        last = v;
    }
    out
}

/// Whether this task fits (a train job without a HomoFeatureBinning model
/// input, `need_run`). The arbiter decides the same way.
pub(crate) fn fits(ctx: &TaskContext, p: &HomoFeatureBinningParam) -> bool {
    p.need_run && ctx.job_type != "predict" && ctx.inputs.model("HomoFeatureBinning").is_none()
}

/// The component.
pub struct HomoFeatureBinning;

impl Component for HomoFeatureBinning {
    fn module(&self) -> &'static str {
        "HomoFeatureBinning"
    }

    fn check_params(
        &self,
        component: &str,
        _role: Role,
        params: &serde_json::Value,
    ) -> Result<(), ComponentError> {
        parse_params::<HomoFeatureBinningParam>(component, params)?
            .check(component)
            .map(|_| ())
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let cpn = ctx.component_name.as_str();
        let p: HomoFeatureBinningParam = parse_params(cpn, &ctx.params)?;
        let method = p.check(cpn)?;
        match ctx.local.role {
            Role::Guest | Role::Host => client::run(ctx, &p, method),
            Role::Arbiter => arbiter::run(ctx, &p, method),
            other => Err(ComponentError::Failed(format!(
                "HomoFeatureBinning has no {other} role"
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
