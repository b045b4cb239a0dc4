//! `SampleWeight` (FATE's SampleWeight), local to a party: sets each row's
//! weight, from its label's class weight or from a weight column, for the
//! models downstream that honour weights (HeteroLR, HeteroLinR,
//! HeteroSecureBoost; the others fail on weighted input, naming it).
//!
//! Parameters (FATE's `SampleWeightParam`): `class_weight` (none,
//! `"balanced"`: `n / (classes · n_class)` as sklearn's, or a dict label →
//! weight; labels it does not name weigh 1), `sample_weight_name` (a feature
//! column holding the weights; it leaves the features; takes precedence over
//! `class_weight`, as in FATE), `normalize` (false; with
//! `sample_weight_name`, divide the weights by their mean), `need_run`
//! (true). With neither weight source the data passes through unweighted.
//!
//! The output's schema carries FATE's mark `"sample_weight": "weight"`,
//! which is how downstream models know the weights are meant. Model: meta
//! `{class_weight, sample_weight_name, normalize, need_run}`, param
//! `{class_weight}` (the resolved weights, label text → weight); a job given
//! the model weighs its data by the model's class weights (a balanced model
//! keeps the training data's weights, as FATE's transform does).
//!
//! Unlike FATE, a weight column that is the first feature works (FATE's
//! `if weight_loc:` treats column 0 as "no column" and fails).

mod ops;

pub use ops::{AssignWeight, ClassCounts, ColumnSum, MergeCounts};

use crate::hetero_lr::SumF64;

use super::label_transform::label_text;
use super::param_error as bad;
use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Dataset, Instance, ModelData,
    TaskContext,
};
use fedflow_computing::TypedTable;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The schema key that marks weighted data (FATE's `schema["sample_weight"]`).
pub const WEIGHT_MARK: &str = "sample_weight";

/// Whether a dataset's rows carry weights meant for the model.
pub fn is_weighted(schema: &crate::Schema) -> bool {
    schema.extra.contains_key(WEIGHT_MARK)
}

/// Fails when any input of the task is weighted: for models that cannot
/// honour sample weights (weights must never be dropped silently).
pub fn refuse_weights(ctx: &TaskContext, module: &str) -> Result<(), ComponentError> {
    let weighted = ctx
        .inputs
        .data
        .iter()
        .find(|(_, v)| v.iter().any(|d| is_weighted(&d.schema)));
    if let Some((slot, _)) = weighted {
        return Err(ComponentError::Input(format!(
            "{}: its {slot} has sample weights (from SampleWeight), which {module} cannot honour; \
             weighted training is supported by HeteroLR, HeteroLinR and HeteroSecureBoost",
            ctx.component_name
        )));
    }
    Ok(())
}

/// FATE's `SampleWeightParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SampleWeightParam {
    /// `"balanced"` or a dict label → weight.
    pub class_weight: Option<Value>,
    /// The weight column.
    pub sample_weight_name: Option<String>,
    /// Divide column weights by their mean.
    pub normalize: bool,
    /// FATE's `need_run`.
    pub need_run: bool,
}

impl Default for SampleWeightParam {
    fn default() -> Self {
        SampleWeightParam {
            class_weight: None,
            sample_weight_name: None,
            normalize: false,
            need_run: true,
        }
    }
}

/// Where the weights come from.
enum Source {
    Balanced,
    Classes(Vec<(f64, f64)>),
    Column(String),
    None,
}

fn source(cpn: &str, p: &SampleWeightParam) -> Result<Source, ComponentError> {
    let classes = match &p.class_weight {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("balanced") => Some(Source::Balanced),
        Some(Value::Object(m)) => {
            let mut v = Vec::new();
            for (k, w) in m {
                let l: f64 = k.trim().parse().map_err(|_| {
                    bad(
                        cpn,
                        "class_weight",
                        format!("label '{k}': expected a number"),
                    )
                })?;
                let w = w
                    .as_f64()
                    .filter(|w| w.is_finite() && *w >= 0.0)
                    .ok_or_else(|| {
                        bad(
                            cpn,
                            &format!("class_weight.{k}"),
                            format!("{w}: expected a non-negative number"),
                        )
                    })?;
                v.push((l, w));
            }
            Some(Source::Classes(v))
        }
        Some(other) => {
            return Err(bad(
                cpn,
                "class_weight",
                format!("{other}: expected 'balanced' or a dict of label → weight"),
            ))
        }
    };
    Ok(match (&p.sample_weight_name, classes) {
        (Some(n), c) => {
            if c.is_some() {
                tracing::warn!(
                    "{cpn}: both sample_weight_name and class_weight given; the weights come from column '{n}' (as FATE)"
                );
            }
            Source::Column(n.clone())
        }
        (None, Some(c)) => c,
        (None, None) => Source::None,
    })
}

/// The component.
pub struct SampleWeight;

impl Component for SampleWeight {
    fn module(&self) -> &'static str {
        "SampleWeight"
    }

    fn check_params(
        &self,
        component: &str,
        _role: fedflow_core::Role,
        params: &Value,
    ) -> Result<(), ComponentError> {
        let p: SampleWeightParam = parse_params(component, params)?;
        source(component, &p).map(|_| ())
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let cpn = ctx.component_name.as_str();
        let Some(input) = ctx.inputs.any() else {
            return Ok(ComponentOutput::default());
        };
        let model = ctx.inputs.model("SampleWeight");
        let p: SampleWeightParam = match model {
            Some(m) => parse_params(&format!("{cpn}(model meta)"), &m.meta)?,
            None => parse_params(cpn, &ctx.params)?,
        };
        let mut src = source(cpn, &p)?;
        if let (Some(m), Source::Balanced) = (model, &src) {
            // A balanced model keeps the class weights it was trained with.
            let resolved: SampleWeightParam = parse_params(
                &format!("{cpn}(model param)"),
                &json!({"class_weight": m.param.get("class_weight").cloned().unwrap_or(Value::Null)}),
            )?;
            src = source(cpn, &resolved)?;
        }
        let meta = json!({
            "class_weight": p.class_weight,
            "sample_weight_name": p.sample_weight_name,
            "normalize": p.normalize,
            "need_run": p.need_run,
        });
        let passthrough = |summary: Value| ComponentOutput {
            summary,
            data: vec![input.clone()],
            model: Some(ModelData {
                module: "SampleWeight".into(),
                meta: meta.clone(),
                param: json!({"class_weight": Value::Null}),
            }),
        };
        if !p.need_run {
            return Ok(passthrough(json!({"need_run": false})));
        }
        if matches!(src, Source::None) {
            return Ok(passthrough(json!({"weight_mode": Value::Null})));
        }
        let t: TypedTable<String, Instance> = TypedTable::from_raw(input.table.clone());
        let mut schema = input.schema.clone();
        let (op, mode) = match src {
            Source::Column(name) => {
                let loc = schema
                    .header
                    .iter()
                    .position(|h| *h == name)
                    .ok_or_else(|| {
                        bad(
                            cpn,
                            "sample_weight_name",
                            format!(
                                "'{name}' is not a column of the data (columns: {})",
                                schema.header.join(", ")
                            ),
                        )
                    })?;
                let base = if p.normalize {
                    let n = t.count()?;
                    let sum = t
                        .apply_partitions(ColumnSum(loc))?
                        .reduce(SumF64)?
                        .unwrap_or(0.0);
                    if n == 0 || sum <= 0.0 {
                        return Err(ComponentError::Input(format!(
                            "{cpn}: normalize needs a positive sum of '{name}' (it is {sum} over {n} rows)"
                        )));
                    }
                    sum / n as f64
                } else {
                    1.0
                };
                schema.header.remove(loc);
                (
                    AssignWeight {
                        class_weight: Vec::new(),
                        column: Some(loc),
                        base,
                    },
                    "sample weight name",
                )
            }
            Source::Balanced => {
                let counts = t
                    .apply_partitions(ClassCounts)?
                    .reduce(MergeCounts)?
                    .unwrap_or_default();
                if counts.iter().any(|(l, _)| l.is_nan()) {
                    return Err(bad(
                        cpn,
                        "class_weight",
                        "'balanced' needs labels and the data has rows without one (set need_run: false for parties without labels)".into(),
                    ));
                }
                let n: u64 = counts.iter().map(|(_, c)| c).sum();
                let k = counts.len() as f64;
                let cw = counts
                    .iter()
                    .map(|&(l, c)| (l, n as f64 / (k * c as f64)))
                    .collect();
                (
                    AssignWeight {
                        class_weight: cw,
                        column: None,
                        base: 1.0,
                    },
                    "class weight",
                )
            }
            Source::Classes(cw) => {
                if input.schema.label_name.is_none() {
                    return Err(bad(
                        cpn,
                        "class_weight",
                        "class weights need labels and the data has none (set need_run: false for parties without labels)".into(),
                    ));
                }
                (
                    AssignWeight {
                        class_weight: cw,
                        column: None,
                        base: 1.0,
                    },
                    "class weight",
                )
            }
            Source::None => unreachable!("handled above"),
        };
        let class_weight: serde_json::Map<String, Value> = op
            .class_weight
            .iter()
            .map(|(l, w)| (label_text(*l), json!(w)))
            .collect();
        let out = t.map_values(op)?;
        schema.extra.insert(WEIGHT_MARK.into(), json!("weight"));
        tracing::info!("{cpn}: weights by {mode}");
        Ok(ComponentOutput {
            summary: json!({
                "weight_mode": mode,
                "class_weight": if class_weight.is_empty() { Value::Null } else { Value::Object(class_weight.clone()) },
                "sample_weight_name": p.sample_weight_name,
            }),
            data: vec![Dataset {
                table: out.raw().clone(),
                schema,
            }],
            model: Some(ModelData {
                module: "SampleWeight".into(),
                meta,
                param: json!({"class_weight": if class_weight.is_empty() { Value::Null } else { Value::Object(class_weight) }}),
            }),
        })
    }
}

#[cfg(test)]
mod tests;
