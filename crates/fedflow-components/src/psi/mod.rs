//! `PSI` (FATE's PSI): population stability index of each feature between
//! `train_data` (expected) and `validate_data` (actual). Local: no federation
//! traffic.
//!
//! Parameters (FATE's `PSIParam`): `max_bin_num` (20), `need_run` (true),
//! `dense_missing_val` (a value counted as missing besides NaN),
//! `binning_error` (accepted; bins here are exact quantiles of the train data).
//!
//! Per feature: split points are the train column's quantiles (up to
//! `max_bin_num` bins, equal points merged, as HeteroFeatureBinning's
//! quantile method), missing values get a bin of their own; with `e`, `a` the
//! shares of train and validate rows in a bin (a share of 0 taken as 1e-5),
//! the bin's PSI is `(a − e)·ln(a / e)` and the feature's PSI their sum.
//!
//! Output data: the train data, unchanged. Model param: [`PsiModelParam`].

use crate::hetero_feature_binning::split_points;
use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Instance, ModelData, TaskContext,
};
use fedflow_computing::TypedTable;
use fedflow_core::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A share of 0 counts as this (keeps the logarithm finite).
pub const PSI_EPS: f64 = 1e-5;

/// The component's parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PsiParam {
    /// Most bins per feature.
    pub max_bin_num: usize,
    /// Run at all (false: pass the data through).
    pub need_run: bool,
    /// A value counted as missing (besides NaN).
    pub dense_missing_val: Option<f64>,
    /// FATE's quantile summary error (unused: exact quantiles).
    pub binning_error: f64,
}

impl Default for PsiParam {
    fn default() -> Self {
        Self {
            max_bin_num: 20,
            need_run: true,
            dense_missing_val: None,
            binning_error: 1e-4,
        }
    }
}

/// One feature's PSI detail.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeaturePsi {
    /// Upper bounds of the bins (train quantiles); a last bin holds missing values.
    pub split_points: Vec<f64>,
    /// Train (expected) rows per bin, the missing bin last.
    pub expected_count: Vec<u64>,
    /// Validate (actual) rows per bin, the missing bin last.
    pub actual_count: Vec<u64>,
    /// PSI per bin.
    pub psi: Vec<f64>,
}

/// The model param.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PsiModelParam {
    /// The train header.
    pub header: Vec<String>,
    /// PSI of each feature, by name.
    pub total_psi: BTreeMap<String, f64>,
    /// Per-bin detail, by name.
    pub detail: BTreeMap<String, FeaturePsi>,
}

/// The bin of `x`: the first split point `>= x`, values above the last in the
/// last bin; NaN in the missing bin `splits.len()`.
fn bin_of(splits: &[f64], x: f64) -> usize {
    if x.is_nan() {
        return splits.len();
    }
    splits
        .partition_point(|&s| s < x)
        .min(splits.len().saturating_sub(1))
}

/// PSI of one feature: `train` and `validate` values (missing ones already
/// replaced by NaN).
pub fn feature_psi(train: &[f64], validate: &[f64], max_bin_num: usize) -> (f64, FeaturePsi) {
    let mut sorted = train.to_vec();
    let splits = split_points(&mut sorted, "quantile", max_bin_num.max(1));
    let nb = splits.len() + 1;
    let count = |xs: &[f64]| {
        let mut c = vec![0u64; nb];
        for &x in xs {
            c[bin_of(&splits, x)] += 1;
        }
        c
    };
    let (e, a) = (count(train), count(validate));
    let (ne, na) = (train.len().max(1) as f64, validate.len().max(1) as f64);
    let psi: Vec<f64> = e
        .iter()
        .zip(&a)
        .map(|(&ce, &ca)| {
            let pe = if ce == 0 { PSI_EPS } else { ce as f64 / ne };
            let pa = if ca == 0 { PSI_EPS } else { ca as f64 / na };
            (pa - pe) * (pa / pe).ln()
        })
        .collect();
    (
        psi.iter().sum(),
        FeaturePsi {
            split_points: splits,
            expected_count: e,
            actual_count: a,
            psi,
        },
    )
}

/// The component.
pub struct Psi;

impl Component for Psi {
    fn module(&self) -> &'static str {
        "PSI"
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let cpn = ctx.component_name.as_str();
        if !matches!(ctx.local.role, Role::Guest | Role::Host) {
            return Ok(ComponentOutput::default());
        }
        let p: PsiParam = parse_params(cpn, &ctx.params)?;
        let train = ctx
            .inputs
            .first("train_data")
            .or_else(|| ctx.inputs.first("data"))
            .ok_or_else(|| ComponentError::Input(format!("{cpn}: no train_data")))?;
        if !p.need_run {
            return Ok(ComponentOutput {
                data: vec![train.clone()],
                ..Default::default()
            });
        }
        let validate = ctx
            .inputs
            .first("validate_data")
            .ok_or_else(|| ComponentError::Input(format!("{cpn}: no validate_data")))?;
        let header = train.schema.header.clone();
        if validate.schema.header != header {
            return Err(ComponentError::Input(format!(
                "{cpn}: validate_data's header {:?} differs from train_data's {header:?}",
                validate.schema.header
            )));
        }
        let columns = |d: &crate::Dataset| -> Result<Vec<Vec<f64>>, ComponentError> {
            let t: TypedTable<String, Instance> = TypedTable::from_raw(d.table.clone());
            let rows = t.collect()?;
            Ok((0..header.len())
                .map(|j| {
                    rows.iter()
                        .map(|(_, i)| {
                            let x = i.features.get(j).copied().unwrap_or(f64::NAN);
                            if Some(x) == p.dense_missing_val {
                                f64::NAN
                            } else {
                                x
                            }
                        })
                        .collect()
                })
                .collect())
        };
        let (tc, vc) = (columns(train)?, columns(validate)?);
        let mut param = PsiModelParam {
            header: header.clone(),
            ..Default::default()
        };
        for (j, name) in header.iter().enumerate() {
            let (total, detail) = feature_psi(&tc[j], &vc[j], p.max_bin_num);
            param.total_psi.insert(name.clone(), total);
            param.detail.insert(name.clone(), detail);
        }
        Ok(ComponentOutput {
            summary: serde_json::json!({ "total_psi": param.total_psi }),
            data: vec![train.clone()],
            model: Some(ModelData {
                module: "PSI".into(),
                meta: ctx.params.clone(),
                param: serde_json::to_value(&param).unwrap_or_default(),
            }),
        })
    }
}

#[cfg(test)]
mod tests;
