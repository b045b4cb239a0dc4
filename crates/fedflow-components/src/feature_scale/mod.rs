//! `FeatureScale` (FATE's FeatureScale), local to each party.
//!
//! * `method` `standard_scale` (default): `(x − mean) / std` (population std;
//!   `with_mean`, `with_std`; a constant column keeps std 1).
//! * `min_max_scale`: `(x − min) / (max − min)`, after clipping to
//!   `[feat_lower, feat_upper]` — values in `mode` `normal`, quantiles (0..1)
//!   of the column in `mode` `cap`.
//!
//! Columns: `scale_col_indexes` (-1: all) plus `scale_names`. The model holds
//! each column's parameters so that a predict job scales identically.

use crate::hetero_feature_binning::select_columns;
use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Dataset, Instance, ModelData,
    TaskContext,
};
use fedflow_computing::{register_op, MapValuesOp, OpError, TypedTable};
use serde::{Deserialize, Serialize};

/// FATE's `FeatureScaleParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureScaleParam {
    /// `standard_scale` or `min_max_scale`.
    pub method: String,
    /// `normal` or `cap`.
    pub mode: String,
    /// Columns by index (-1: all).
    pub scale_col_indexes: serde_json::Value,
    /// Columns by name.
    pub scale_names: Option<Vec<String>>,
    /// Upper bound (value, or quantile in cap mode).
    pub feat_upper: Option<f64>,
    /// Lower bound.
    pub feat_lower: Option<f64>,
    /// Subtract the mean (standard).
    pub with_mean: bool,
    /// Divide by the std (standard).
    pub with_std: bool,
    /// FATE's `need_run`.
    pub need_run: bool,
}

impl Default for FeatureScaleParam {
    fn default() -> Self {
        FeatureScaleParam {
            method: "standard_scale".into(),
            mode: "normal".into(),
            scale_col_indexes: serde_json::json!(-1),
            scale_names: None,
            feat_upper: None,
            feat_lower: None,
            with_mean: true,
            with_std: true,
            need_run: true,
        }
    }
}

/// Per scaled column: `x' = (clip(x, lo, hi) − shift) / div`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scale {
    /// Feature indexes.
    pub cols: Vec<usize>,
    /// (lo, hi, shift, div) per column.
    pub params: Vec<(f64, f64, f64, f64)>,
}

impl MapValuesOp for Scale {
    const NAME: &'static str = "feature_scale.scale";
    type V = Instance;
    type Out = Instance;
    fn map_value(&self, mut v: Instance) -> Result<Instance, OpError> {
        for (&j, &(lo, hi, shift, div)) in self.cols.iter().zip(&self.params) {
            let x = v.features[j];
            if !x.is_nan() {
                v.features[j] = (x.clamp(lo, hi) - shift) / div;
            }
        }
        Ok(v)
    }
}
register_op!(map_values Scale, example: Scale { cols: vec![0], params: vec![(0.0, 2.0, 1.0, 2.0)] }, input: vec![("a".to_string(), Instance { features: vec![3.0], label: None, weight: 1.0 })]);

/// The component.
pub struct FeatureScale;

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let r = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[r - 1]
}

impl Component for FeatureScale {
    fn module(&self) -> &'static str {
        "FeatureScale"
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let cpn = ctx.component_name.as_str();
        let Some(input) = ctx.inputs.any() else {
            return Ok(ComponentOutput::default());
        };
        let table: TypedTable<String, Instance> = TypedTable::from_raw(input.table.clone());
        let header = &input.schema.header;
        let (param, op): (FeatureScaleParam, Scale) = match ctx.inputs.model("FeatureScale") {
            Some(m) => (
                parse_params(&format!("{cpn}(model meta)"), &m.meta)?,
                parse_params(&format!("{cpn}(model param)"), &m.param)?,
            ),
            None => {
                let p: FeatureScaleParam = parse_params(cpn, &ctx.params)?;
                if !matches!(p.method.as_str(), "standard_scale" | "min_max_scale") {
                    return Err(ComponentError::Param {
                        path: format!("{cpn}.method"),
                        message: format!(
                            "'{}': expected standard_scale or min_max_scale",
                            p.method
                        ),
                    });
                }
                if !matches!(p.mode.as_str(), "normal" | "cap") {
                    return Err(ComponentError::Param {
                        path: format!("{cpn}.mode"),
                        message: format!("'{}': expected normal or cap", p.mode),
                    });
                }
                let cols = select_columns(
                    cpn,
                    "scale_col_indexes",
                    &p.scale_col_indexes,
                    &p.scale_names,
                    header,
                )?;
                let rows = table.collect()?;
                let params = cols
                    .iter()
                    .map(|&j| {
                        let mut v: Vec<f64> = rows
                            .iter()
                            .map(|(_, i)| i.features[j])
                            .filter(|x| !x.is_nan())
                            .collect();
                        v.sort_by(f64::total_cmp);
                        let (min, max) = (
                            v.first().copied().unwrap_or(0.0),
                            v.last().copied().unwrap_or(0.0),
                        );
                        let (lo, hi) = if p.mode == "cap" {
                            (
                                quantile(&v, p.feat_lower.unwrap_or(0.0)),
                                quantile(&v, p.feat_upper.unwrap_or(1.0)),
                            )
                        } else {
                            (
                                p.feat_lower.map_or(min, |l| l.max(min)),
                                p.feat_upper.map_or(max, |u| u.min(max)),
                            )
                        };
                        if p.method == "min_max_scale" {
                            let d = if hi > lo { hi - lo } else { 1.0 };
                            (lo, hi, lo, d)
                        } else {
                            let n = v.len().max(1) as f64;
                            let clipped: Vec<f64> = v.iter().map(|x| x.clamp(lo, hi)).collect();
                            let mean = clipped.iter().sum::<f64>() / n;
                            let var = clipped.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
                            let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
                            (
                                lo,
                                hi,
                                if p.with_mean { mean } else { 0.0 },
                                if p.with_std { sd } else { 1.0 },
                            )
                        }
                    })
                    .collect();
                (p, Scale { cols, params })
            }
        };
        let out = table.map_values(op.clone())?;
        Ok(ComponentOutput {
            summary: serde_json::json!({"method": param.method, "scaled_columns": op.cols.len()}),
            data: vec![Dataset {
                table: out.raw().clone(),
                schema: input.schema.clone(),
            }],
            model: Some(ModelData {
                module: "FeatureScale".into(),
                meta: serde_json::to_value(&param).unwrap_or_default(),
                param: serde_json::to_value(&op).unwrap_or_default(),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;
    use serde_json::json;

    fn run(params: serde_json::Value) -> (Vec<Vec<f64>>, ModelData) {
        let dir = tempfile::tempdir().unwrap();
        let d = raw_dataset("id,x0,x1\na,1,10\nb,2,20\nc,3,30\nd,6,40\n", 2);
        let c = ctx(dir.path(), "dt", GUEST, json!({}), inputs("data", d));
        let d = crate::data_transform::DataTransform
            .run(&c)
            .unwrap()
            .data
            .remove(0);
        let c = ctx(dir.path(), "fs", GUEST, params, inputs("data", d));
        let out = FeatureScale.run(&c).unwrap();
        let t: TypedTable<String, Instance> = TypedTable::from_raw(out.data[0].table.clone());
        let mut rows = t.collect().unwrap();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        (
            rows.into_iter().map(|r| r.1.features).collect(),
            out.model.unwrap(),
        )
    }

    #[test]
    fn min_max_and_standard() {
        let (r, _) = run(json!({"method": "min_max_scale"}));
        assert_eq!(
            r.iter().map(|x| x[0]).collect::<Vec<_>>(),
            vec![0.0, 0.2, 0.4, 1.0]
        );
        let (r, _) = run(
            json!({"method": "min_max_scale", "feat_upper": 3, "scale_names": ["x0"], "scale_col_indexes": []}),
        );
        assert_eq!(
            r.iter().map(|x| x[0]).collect::<Vec<_>>(),
            vec![0.0, 0.5, 1.0, 1.0]
        );
        assert_eq!(r[0][1], 10.0); // x1 untouched
        let (r, _) = run(json!({}));
        // x0: mean 3, population std sqrt(3.5).
        let sd = 3.5f64.sqrt();
        assert!((r[3][0] - 3.0 / sd).abs() < 1e-12);
        let s: f64 = r.iter().map(|x| x[1]).sum();
        assert!(s.abs() < 1e-12);
    }
}
