//! `FeatureImputation` (FATE's FeatureImputation), local to each party:
//! replaces the missing values of its own columns; nothing crosses parties.
//!
//! Parameters (FATE's `FeatureImputationParam`):
//! * `missing_fill_method`: `min`, `max`, `mean`, `median` (FATE's Imputer
//!   has it; its param check does not list it) or `designated`; `null`
//!   (default): columns without a `col_missing_fill_method` entry are left
//!   as they are (FATE's skip columns).
//! * `col_missing_fill_method`: `{column: method}`, overriding the method for
//!   those columns; a name not in the header fails naming it.
//! * `default_value` (0): the `designated` value, one number or a list with
//!   one number per column.
//! * `missing_impute`: which values are missing. `null` (default): FATE's
//!   list of blank, `none`, `null`, `na`, NaN — which DataTransform has made
//!   `NaN` already, so `NaN`. A list: its numbers, and `NaN` if it lists a
//!   missing marker (`""`, `"NA"`, `"null"`, `"None"`, `"nan"`, JSON `null`).
//!   As FATE, `NaN` is then missing only when listed.
//! * `need_run` (true; false passes the data through).
//!
//! Fit: per column min, max, sum and count of the values that are not missing
//! ([`MissingStatsOp`] per partition, merged by [`MergeMissingStats`]; the
//! median from the column's values), then [`Impute`]. A column with no value
//! present fills with 0. Summary (FATE's): `missing_value`,
//! `missing_impute_value` and `missing_impute_rate` per column, `skip_cols`.
//!
//! Model: meta `{need_run, imputer_meta: {is_imputer, strategy,
//! missing_value, missing_value_type}}`, param `{header, imputer_param:
//! {missing_replace_value, missing_replace_value_type, missing_value_ratio,
//! cols_replace_method, skip_cols}}` (FATE's `FeatureImputationMeta` /
//! `FeatureImputationParam`). A predict job fills by the model's values.

mod ops;

pub use ops::{Impute, MergeMissingStats, Missing, MissingStats, MissingStatsOp, PresentValue};

use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Dataset, Instance, ModelData,
    TaskContext,
};
use fedflow_computing::TypedTable;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// FATE's `FeatureImputationParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureImputationParam {
    /// The designated value(s).
    pub default_value: Value,
    /// The method for every column.
    pub missing_fill_method: Option<String>,
    /// Methods per column.
    pub col_missing_fill_method: Option<BTreeMap<String, String>>,
    /// The values that are missing.
    pub missing_impute: Option<Vec<Value>>,
    /// FATE's `need_run`.
    pub need_run: bool,
}

impl Default for FeatureImputationParam {
    fn default() -> Self {
        FeatureImputationParam {
            default_value: json!(0),
            missing_fill_method: None,
            col_missing_fill_method: None,
            missing_impute: None,
            need_run: true,
        }
    }
}

const METHODS: &[&str] = &["min", "max", "mean", "median", "designated"];

/// Strings that stand for a missing cell (DataTransform reads them as NaN).
const NAN_MARKERS: &[&str] = &["", "na", "null", "none", "nan"];

use super::param_error as bad;

fn method(cpn: &str, path: &str, m: &str) -> Result<String, ComponentError> {
    let l = m.to_lowercase();
    if METHODS.contains(&l.as_str()) {
        Ok(l)
    } else {
        Err(bad(
            cpn,
            path,
            format!("'{m}': expected one of {}", METHODS.join(", ")),
        ))
    }
}

/// The missing values `missing_impute` lists.
fn missing_of(cpn: &str, list: &Option<Vec<Value>>) -> Result<Missing, ComponentError> {
    let Some(list) = list else {
        return Ok(Missing {
            nan: true,
            values: Vec::new(),
        });
    };
    let mut m = Missing::default();
    for (i, v) in list.iter().enumerate() {
        match v {
            Value::Null => m.nan = true,
            Value::Number(n) => m.values.extend(n.as_f64()),
            Value::String(s) if NAN_MARKERS.contains(&s.trim().to_lowercase().as_str()) => {
                m.nan = true
            }
            Value::String(s) => match s.trim().parse::<f64>() {
                Ok(x) if x.is_nan() => m.nan = true,
                Ok(x) => m.values.push(x),
                Err(_) => {
                    return Err(bad(
                        cpn,
                        &format!("missing_impute[{i}]"),
                        format!("'{s}': features are numbers after DataTransform; expected a number or a missing marker (\"\", \"NA\", \"null\", \"None\", \"nan\")"),
                    ))
                }
            },
            other => {
                return Err(bad(
                    cpn,
                    &format!("missing_impute[{i}]"),
                    format!("{other}: expected a number or a string"),
                ))
            }
        }
    }
    Ok(m)
}

/// The designated value for column `j` of `n`.
fn designated(cpn: &str, v: &Value, j: usize, n: usize) -> Result<f64, ComponentError> {
    let num = |v: &Value, path: &str| {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .ok_or_else(|| bad(cpn, path, format!("{v}: expected a number")))
    };
    match v {
        Value::Array(a) if a.len() != n => Err(bad(
            cpn,
            "default_value",
            format!(
                "{} values for {n} columns: a list needs one per column",
                a.len()
            ),
        )),
        Value::Array(a) => num(&a[j], &format!("default_value[{j}]")),
        other => num(other, "default_value"),
    }
}

/// A trained imputer: per column its method (`None`: skipped) and fill value.
#[derive(Debug, Clone, PartialEq)]
struct Imputer {
    header: Vec<String>,
    methods: Vec<Option<String>>,
    fill: Vec<Option<f64>>,
    missing: Missing,
    missing_list: Vec<Value>,
}

impl Imputer {
    fn skip_cols(&self) -> Vec<String> {
        self.header
            .iter()
            .zip(&self.methods)
            .filter(|(_, m)| m.is_none())
            .map(|(h, _)| h.clone())
            .collect()
    }

    fn model(&self, need_run: bool, ratio: &[f64]) -> ModelData {
        let filled: Vec<(&String, f64)> = self
            .header
            .iter()
            .zip(&self.fill)
            .filter_map(|(h, f)| f.map(|f| (h, f)))
            .collect();
        ModelData {
            module: "FeatureImputation".into(),
            meta: json!({
                "need_run": need_run,
                "imputer_meta": {
                    "is_imputer": true,
                    "strategy": "",
                    "missing_value": self.missing_list.iter().map(value_text).collect::<Vec<_>>(),
                    "missing_value_type": self.missing_list.iter().map(value_type).collect::<Vec<_>>(),
                },
            }),
            param: json!({
                "header": self.header,
                "imputer_param": {
                    "missing_replace_value": filled.iter().map(|(h, f)| ((*h).clone(), json!(f.to_string()))).collect::<serde_json::Map<_, _>>(),
                    "missing_replace_value_type": filled.iter().map(|(h, _)| ((*h).clone(), json!("float"))).collect::<serde_json::Map<_, _>>(),
                    "missing_value_ratio": self.header.iter().zip(ratio).map(|(h, r)| (h.clone(), json!(r))).collect::<serde_json::Map<_, _>>(),
                    "cols_replace_method": self.header.iter().zip(&self.methods).map(|(h, m)| (h.clone(), json!(m.clone().unwrap_or_else(|| "None".into())))).collect::<serde_json::Map<_, _>>(),
                    "skip_cols": self.skip_cols(),
                },
            }),
        }
    }

    fn load(cpn: &str, m: &ModelData) -> Result<Imputer, ComponentError> {
        let at = |what: &str| {
            ComponentError::Input(format!(
                "{cpn}: the FeatureImputation model has no valid {what}"
            ))
        };
        let header: Vec<String> =
            serde_json::from_value(m.param["header"].clone()).map_err(|_| at("header"))?;
        let p = &m.param["imputer_param"];
        let methods = header
            .iter()
            .map(|h| match p["cols_replace_method"][h].as_str() {
                None | Some("None") => None,
                Some(s) => Some(s.to_string()),
            })
            .collect();
        let fill = header
            .iter()
            .map(|h| match &p["missing_replace_value"][h] {
                Value::Null => Ok(None),
                v => v
                    .as_str()
                    .and_then(|s| s.parse::<f64>().ok())
                    .or_else(|| v.as_f64())
                    .map(Some)
                    .ok_or_else(|| at(&format!("missing_replace_value of '{h}'"))),
            })
            .collect::<Result<_, _>>()?;
        let missing_list: Vec<Value> = m.meta["imputer_meta"]["missing_value"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let missing = missing_of(&format!("{cpn}(model meta)"), &Some(missing_list.clone()))?;
        Ok(Imputer {
            header,
            methods,
            fill,
            missing,
            missing_list,
        })
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

fn value_type(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "str",
        Value::Null => "NoneType",
        Value::Number(n) if n.is_f64() => "float",
        _ => "int",
    }
}

/// FATE's default missing list, for the model and summary.
fn default_missing_list() -> Vec<Value> {
    ["", "none", "null", "na", "None", "nan"]
        .iter()
        .map(|s| json!(s))
        .collect()
}

/// The component.
pub struct FeatureImputation;

impl FeatureImputation {
    fn fit(
        cpn: &str,
        p: &FeatureImputationParam,
        table: &TypedTable<String, Instance>,
        header: &[String],
    ) -> Result<(Imputer, MissingStats), ComponentError> {
        let all = match &p.missing_fill_method {
            Some(m) => Some(method(cpn, "missing_fill_method", m)?),
            None => None,
        };
        let per_col = p.col_missing_fill_method.clone().unwrap_or_default();
        for (name, m) in &per_col {
            if !header.contains(name) {
                return Err(bad(
                    cpn,
                    &format!("col_missing_fill_method.{name}"),
                    format!("'{name}' is not in the data's header {header:?}"),
                ));
            }
            method(cpn, &format!("col_missing_fill_method.{name}"), m)?;
        }
        let methods: Vec<Option<String>> = header
            .iter()
            .map(|h| match per_col.get(h) {
                Some(m) => Some(m.to_lowercase()),
                None => all.clone(),
            })
            .collect();
        let missing = missing_of(cpn, &p.missing_impute)?;
        let n = header.len();
        let stats = table
            .apply_partitions(MissingStatsOp {
                n,
                missing: missing.clone(),
            })?
            .reduce(MergeMissingStats)?
            .unwrap_or_else(|| MissingStats {
                present: vec![(0.0, 0.0, 0.0, 0); n],
                missing: vec![0; n],
                rows: 0,
            });
        let mut fill = Vec::with_capacity(n);
        for (j, m) in methods.iter().enumerate() {
            let (lo, hi, sum, count) = stats.present[j];
            let v = match m.as_deref() {
                None => None,
                Some(_) if count == 0 && m.as_deref() != Some("designated") => Some(0.0),
                Some("min") => Some(lo),
                Some("max") => Some(hi),
                Some("mean") => Some(sum / count as f64),
                Some("median") => {
                    let mut v: Vec<f64> = table
                        .map_values(PresentValue {
                            col: j,
                            missing: missing.clone(),
                        })?
                        .collect()?
                        .into_iter()
                        .map(|(_, x)| x)
                        .filter(|x| !x.is_nan())
                        .collect();
                    v.sort_by(f64::total_cmp);
                    Some(crate::data_transform::median(&v))
                }
                Some(_) => Some(designated(cpn, &p.default_value, j, n)?),
            };
            fill.push(v);
        }
        let imputer = Imputer {
            header: header.to_vec(),
            methods,
            fill,
            missing,
            missing_list: p
                .missing_impute
                .clone()
                .unwrap_or_else(default_missing_list),
        };
        Ok((imputer, stats))
    }
}

impl Component for FeatureImputation {
    fn module(&self) -> &'static str {
        "FeatureImputation"
    }

    fn check_params(
        &self,
        component: &str,
        _role: fedflow_core::Role,
        params: &Value,
    ) -> Result<(), ComponentError> {
        let p: FeatureImputationParam = parse_params(component, params)?;
        if let Some(m) = &p.missing_fill_method {
            method(component, "missing_fill_method", m)?;
        }
        for (name, m) in p.col_missing_fill_method.iter().flatten() {
            method(component, &format!("col_missing_fill_method.{name}"), m)?;
        }
        missing_of(component, &p.missing_impute)?;
        Ok(())
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let cpn = ctx.component_name.as_str();
        let Some(input) = ctx.inputs.any() else {
            return Ok(ComponentOutput::default());
        };
        let header = &input.schema.header;
        let table: TypedTable<String, Instance> = TypedTable::from_raw(input.table.clone());
        let (imputer, need_run, stats) = match ctx.inputs.model("FeatureImputation") {
            Some(m) => {
                let imp = Imputer::load(cpn, m)?;
                let need_run = m.meta["need_run"].as_bool().unwrap_or(true);
                if need_run && &imp.header != header {
                    return Err(ComponentError::Input(format!(
                        "{cpn}: the data's header {header:?} differs from the model's {:?}",
                        imp.header
                    )));
                }
                let stats = if need_run {
                    table
                        .apply_partitions(MissingStatsOp {
                            n: header.len(),
                            missing: imp.missing.clone(),
                        })?
                        .reduce(MergeMissingStats)?
                } else {
                    None
                };
                (imp, need_run, stats)
            }
            None => {
                let p: FeatureImputationParam = parse_params(cpn, &ctx.params)?;
                if !p.need_run {
                    let imp = Imputer {
                        header: header.clone(),
                        methods: vec![None; header.len()],
                        fill: vec![None; header.len()],
                        missing: Missing::default(),
                        missing_list: Vec::new(),
                    };
                    (imp, false, None)
                } else {
                    let (imp, stats) = Self::fit(cpn, &p, &table, header)?;
                    (imp, true, Some(stats))
                }
            }
        };
        if !need_run {
            return Ok(ComponentOutput {
                summary: json!({"need_run": false}),
                data: vec![input.clone()],
                model: Some(imputer.model(false, &[])),
            });
        }
        // FATE's impute rate: the share of rows whose value was replaced.
        let ratio: Vec<f64> = match &stats {
            Some(s) if s.rows > 0 => s
                .missing
                .iter()
                .zip(&imputer.fill)
                .map(|(&m, f)| {
                    if f.is_some() {
                        m as f64 / s.rows as f64
                    } else {
                        0.0
                    }
                })
                .collect(),
            _ => vec![0.0; header.len()],
        };
        let out = table.map_values(Impute {
            fill: imputer.fill.clone(),
            missing: imputer.missing.clone(),
        })?;
        tracing::info!(
            "{cpn}: {} of {} columns imputed",
            imputer.fill.iter().filter(|f| f.is_some()).count(),
            header.len()
        );
        let summary = json!({
            "missing_value": imputer.missing_list,
            "missing_impute_value": header.iter().zip(&imputer.fill).map(|(h, f)| (h.clone(), json!(f.unwrap_or(0.0)))).collect::<serde_json::Map<_, _>>(),
            "missing_impute_rate": header.iter().zip(&ratio).map(|(h, r)| (h.clone(), json!(r))).collect::<serde_json::Map<_, _>>(),
            "skip_cols": imputer.skip_cols(),
        });
        Ok(ComponentOutput {
            summary,
            data: vec![Dataset {
                table: out.raw().clone(),
                schema: input.schema.clone(),
            }],
            model: Some(imputer.model(true, &ratio)),
        })
    }
}

#[cfg(test)]
mod tests;
