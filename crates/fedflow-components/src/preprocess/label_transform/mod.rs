//! `LabelTransform` (FATE's LabelTransform), local to the party that has
//! labels: replaces each label by its code, or (given a prediction table, as
//! after a model) turns the codes of `label`, `predict_result` and the
//! classes of `predict_detail` back into the original labels.
//!
//! Parameters (FATE's `LabelTransformParam`):
//! * `label_encoder` (`{label: code}`): the mapping. `null` (default): the
//!   data's distinct labels, ascending, get 0, 1, 2…
//! * `label_list`: FATE uses it to type the encoder's keys; fedflow's labels
//!   are numbers, so it is checked only: as long as the encoder, each key
//!   listed.
//! * `need_run` (true; false passes the data through).
//!
//! A label the encoder does not name keeps its value, as FATE's example of a
//! "partially-specified encoder" intends — unless that value is also a
//! code of another label, which would merge two classes: then the task fails
//! naming the label (FATE fails on every label not named).
//!
//! Labels are numbers in fedflow (DataTransform `label_type` int or float);
//! keys and codes must be numbers, else the task fails naming the key.
//!
//! Model: meta `{need_run}`, param `{label_encoder, encoder_key_type,
//! encoder_value_type}` with keys and codes as text (FATE's
//! `LabelTransformMeta` / `LabelTransformParam`). The module fed this model
//! (`label_transform_1` after a model in FATE's jobs) reverses the encoding
//! of prediction tables and applies it to instance tables; a regression
//! prediction (detail `{"label": …}`) passes through, as FATE.

mod ops;

pub use ops::{
    label_text, DistinctLabels, DistinctPredictionLabels, LabelMap, MergeLabels, RelabelInstances,
    RelabelPredictions,
};

use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Dataset, Instance, ModelData,
    Prediction, TaskContext, PREDICTION_HEADER,
};
use fedflow_computing::TypedTable;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// FATE's `LabelTransformParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabelTransformParam {
    /// `{label: code}`.
    pub label_encoder: Option<serde_json::Map<String, Value>>,
    /// The labels (types the keys in FATE).
    pub label_list: Option<Vec<Value>>,
    /// FATE's `need_run`.
    pub need_run: bool,
}

impl Default for LabelTransformParam {
    fn default() -> Self {
        LabelTransformParam {
            label_encoder: None,
            label_list: None,
            need_run: true,
        }
    }
}

use super::param_error as bad;

fn number(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The encoder's `(label, code)` pairs, checked against `label_list`.
fn encoder_pairs(
    cpn: &str,
    p: &LabelTransformParam,
) -> Result<Option<Vec<(f64, f64)>>, ComponentError> {
    let Some(enc) = &p.label_encoder else {
        if let Some(list) = &p.label_list {
            for (i, v) in list.iter().enumerate() {
                number(v).ok_or_else(|| {
                    bad(
                        cpn,
                        &format!("label_list[{i}]"),
                        format!("{v}: labels are numbers in fedflow"),
                    )
                })?;
            }
        }
        return Ok(None);
    };
    let mut pairs = Vec::with_capacity(enc.len());
    for (k, v) in enc {
        let path = format!("label_encoder.{k}");
        let from = k
            .trim()
            .parse::<f64>()
            .map_err(|_| bad(cpn, &path, format!("label '{k}': labels are numbers in fedflow (DataTransform label_type int or float)")))?;
        let to = number(v).ok_or_else(|| bad(cpn, &path, format!("{v}: expected a number")))?;
        pairs.push((from, to));
    }
    if let Some(list) = &p.label_list {
        if list.len() != enc.len() {
            return Err(bad(
                cpn,
                "label_list",
                format!(
                    "{} labels for {} label_encoder keys: they must match",
                    list.len(),
                    enc.len()
                ),
            ));
        }
        let listed: Vec<f64> = list
            .iter()
            .enumerate()
            .map(|(i, v)| {
                number(v).ok_or_else(|| {
                    bad(
                        cpn,
                        &format!("label_list[{i}]"),
                        format!("{v}: labels are numbers in fedflow"),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        for (k, (from, _)) in enc.keys().zip(&pairs) {
            if !listed.contains(from) {
                return Err(bad(
                    cpn,
                    "label_list",
                    format!("label_encoder key '{k}' is not in label_list {list:?}"),
                ));
            }
        }
    }
    Ok(Some(pairs))
}

/// `pairs` completed for `labels`: a label not mapped keeps its value unless
/// that value is another label's code.
fn complete(cpn: &str, pairs: &[(f64, f64)], labels: &[f64]) -> Result<LabelMap, ComponentError> {
    let mut map = pairs.to_vec();
    for &l in labels {
        if pairs.iter().any(|(f, _)| *f == l) {
            continue;
        }
        if let Some((f, _)) = pairs.iter().find(|(_, t)| *t == l) {
            return Err(ComponentError::Input(format!(
                "{cpn}: label {} is not in the label encoder, and label {} is encoded as {}: keeping it would merge two classes; name every label in label_encoder",
                label_text(l),
                label_text(*f),
                label_text(l)
            )));
        }
        map.push((l, l));
    }
    Ok(LabelMap(map))
}

fn model(need_run: bool, pairs: &[(f64, f64)]) -> ModelData {
    let enc: serde_json::Map<String, Value> = pairs
        .iter()
        .map(|(f, t)| (label_text(*f), json!(label_text(*t))))
        .collect();
    let ty = |x: f64| if x.fract() == 0.0 { "int" } else { "float" };
    ModelData {
        module: "LabelTransform".into(),
        meta: json!({ "need_run": need_run }),
        param: json!({
            "label_encoder": enc,
            "encoder_key_type": pairs.iter().map(|(f, _)| (label_text(*f), json!(ty(*f)))).collect::<serde_json::Map<_, _>>(),
            "encoder_value_type": pairs.iter().map(|(f, t)| (label_text(*f), json!(ty(*t)))).collect::<serde_json::Map<_, _>>(),
        }),
    }
}

fn load(cpn: &str, m: &ModelData) -> Result<(bool, Vec<(f64, f64)>), ComponentError> {
    let need_run = m.meta["need_run"].as_bool().unwrap_or(true);
    let mut pairs = Vec::new();
    for (k, v) in m.param["label_encoder"].as_object().into_iter().flatten() {
        match (k.parse::<f64>().ok(), number(v)) {
            (Some(f), Some(t)) => pairs.push((f, t)),
            _ => {
                return Err(ComponentError::Input(format!(
                "{cpn}: the LabelTransform model's label_encoder entry '{k}': {v} is not numeric"
            )))
            }
        }
    }
    Ok((need_run, pairs))
}

/// The component.
pub struct LabelTransform;

impl Component for LabelTransform {
    fn module(&self) -> &'static str {
        "LabelTransform"
    }

    fn check_params(
        &self,
        component: &str,
        _role: fedflow_core::Role,
        params: &Value,
    ) -> Result<(), ComponentError> {
        let p: LabelTransformParam = parse_params(component, params)?;
        encoder_pairs(component, &p)?;
        Ok(())
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let cpn = ctx.component_name.as_str();
        let Some(input) = ctx.inputs.any() else {
            return Ok(ComponentOutput::default());
        };
        let is_prediction = input
            .schema
            .header
            .iter()
            .map(String::as_str)
            .eq(PREDICTION_HEADER);
        let from_model = ctx.inputs.model("LabelTransform");
        let (need_run, given) = match from_model {
            Some(m) => {
                let (n, p) = load(cpn, m)?;
                (n, Some(p))
            }
            None => {
                let p: LabelTransformParam = parse_params(cpn, &ctx.params)?;
                (p.need_run, encoder_pairs(cpn, &p)?)
            }
        };
        if !need_run {
            return Ok(ComponentOutput {
                summary: json!({"need_run": false}),
                data: vec![input.clone()],
                model: Some(model(false, &given.unwrap_or_default())),
            });
        }
        let labels = if is_prediction {
            let t: TypedTable<String, Prediction> = TypedTable::from_raw(input.table.clone());
            t.apply_partitions(DistinctPredictionLabels)?
                .reduce(MergeLabels)?
        } else {
            let t: TypedTable<String, Instance> = TypedTable::from_raw(input.table.clone());
            t.apply_partitions(DistinctLabels)?.reduce(MergeLabels)?
        }
        .unwrap_or_default();
        let pairs: Vec<(f64, f64)> = match given {
            Some(p) => p,
            None => labels
                .iter()
                .enumerate()
                .map(|(i, &l)| (l, i as f64))
                .collect(),
        };
        // After a model (its LabelTransform as input), predictions are decoded.
        let decode = is_prediction && from_model.is_some();
        let table = if is_prediction {
            let t: TypedTable<String, Prediction> = TypedTable::from_raw(input.table.clone());
            let regression = t
                .first()?
                .map(|(_, p)| {
                    serde_json::from_str::<serde_json::Map<String, Value>>(&p.predict_detail)
                        .map(|d| d.keys().all(|k| k == "label"))
                        .unwrap_or(false)
                })
                .unwrap_or(false);
            if regression {
                input.table.clone()
            } else {
                let directed: Vec<(f64, f64)> = if decode {
                    pairs.iter().map(|(f, t)| (*t, *f)).collect()
                } else {
                    pairs.clone()
                };
                t.map_values(RelabelPredictions(complete(cpn, &directed, &labels)?))?
                    .raw()
                    .clone()
            }
        } else {
            let t: TypedTable<String, Instance> = TypedTable::from_raw(input.table.clone());
            t.map_values(RelabelInstances(complete(cpn, &pairs, &labels)?))?
                .raw()
                .clone()
        };
        tracing::info!(
            "{cpn}: {} labels encoded ({})",
            pairs.len(),
            if decode {
                "decoded predictions"
            } else {
                "encoded"
            }
        );
        let encoder: serde_json::Map<String, Value> = pairs
            .iter()
            .map(|(f, t)| (label_text(*f), json!(t)))
            .collect();
        Ok(ComponentOutput {
            summary: json!({ "label_encoder": encoder }),
            data: vec![Dataset {
                table,
                schema: input.schema.clone(),
            }],
            model: Some(model(true, &pairs)),
        })
    }
}

#[cfg(test)]
mod tests;
