//! `DataTransform` (FATE's DataTransform, formerly DataIO): raw rows from
//! Reader (`String` id → `String` of the other columns joined by the table's
//! `id_delimiter`, names in `schema.header`) to instances
//! (`TypedTable<String, Instance>`, `schema.header` = feature names,
//! `schema.label_name` = the label column when `with_label`).
//!
//! Missing values (`missing_impute`, default FATE's list of "", "NA", "null",
//! "None", "nan"…) become NaN, or are filled (`missing_fill`) by
//! `missing_fill_method`: const/designated (`default_value`: a number, a list
//! in header order or `{column: value}`), min, max, mean, median (of the
//! column's other values). Outliers (`outlier_impute` values) likewise with
//! `outlier_replace`. A value that is not a number fails the task naming the
//! row id and the column.
//!
//! `data_type` (FATE's): `float64` (default) / `float` / `double`; `int` /
//! `int64` / `long` (a value with a fraction fails naming row and column);
//! `str` (dense input): values are categories. Each dataset then gets its
//! own dictionary (one pass, [`DistinctStrings`]: per feature its distinct
//! non-missing values, sorted); a row holds a value's index there and the
//! schema carries the lists (`str_values`, [`crate::io::str_values`]).
//! OneHotEncoder / HomoOneHotEncoder encode such columns by their strings
//! (`x0_A`); Intersection and FederatedSample pass them through; every other
//! component refuses a dataset with string columns, naming them
//! ([`crate::run`]). Downloads show the codes, not the strings.
//!
//! The model (`DataTransform`: meta = the parameters, param = header, label
//! and fill values) lets a predict job (`pipeline.data_transform_0.model`)
//! read its data exactly as in training. Runs on guest and host; a role
//! without data (arbiter) outputs nothing.

mod ops;
mod params;

pub use ops::{
    ColStats, ColStatsOp, CollectTags, Column, DistinctStrings, MergeColStats, MergeStrings,
    MergeTags, ParseDense, ParseTags,
};
pub use params::DataTransformParam;

use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Dataset, Instance, ModelData, Schema,
    TaskContext,
};
use fedflow_computing::TypedTable;
use params::{strings, DEFAULT_MISSING};
use serde::{Deserialize, Serialize};

/// The learned part of the model: what predict needs to read data as in training.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DataTransformModelParam {
    /// Feature names.
    pub header: Vec<String>,
    /// Id column name.
    pub sid: String,
    /// Label column (with_label).
    pub label_name: Option<String>,
    /// Missing fill values per feature (missing_fill).
    pub missing_fill_values: Option<Vec<f64>>,
    /// Outlier replacement values per feature (outlier_replace).
    pub outlier_replace_values: Option<Vec<f64>>,
}

/// The component.
pub struct DataTransform;

impl Component for DataTransform {
    fn module(&self) -> &'static str {
        "DataTransform"
    }

    fn check_params(
        &self,
        component: &str,
        _role: fedflow_core::Role,
        params: &serde_json::Value,
    ) -> Result<(), ComponentError> {
        parse_params::<DataTransformParam>(component, params)?.check(component)
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let Some(input) = ctx.inputs.any() else {
            return Ok(ComponentOutput::default());
        };
        let model = ctx.inputs.model("DataTransform").cloned();
        let (param, saved): (DataTransformParam, Option<DataTransformModelParam>) = match &model {
            Some(m) => (
                parse_params(&format!("{}(model meta)", ctx.component_name), &m.meta)?,
                Some(parse_params(
                    &format!("{}(model param)", ctx.component_name),
                    &m.param,
                )?),
            ),
            None => (parse_params(&ctx.component_name, &ctx.params)?, None),
        };
        param.check(&ctx.component_name)?;
        transform(ctx, input, &param, saved.as_ref())
    }
}

fn fill_vector(
    component: &str,
    path: &str,
    value: &Option<serde_json::Value>,
    features: &[String],
) -> Result<Vec<f64>, ComponentError> {
    let bad = |message: String| ComponentError::Param {
        path: format!("{component}.{path}"),
        message,
    };
    let num = |v: &serde_json::Value| -> Result<f64, ComponentError> {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| bad(format!("{v}: expected a number")))
    };
    match value {
        None => Ok(vec![0.0; features.len()]),
        Some(serde_json::Value::Array(a)) => {
            if a.len() != features.len() {
                return Err(bad(format!(
                    "{} values for {} features",
                    a.len(),
                    features.len()
                )));
            }
            a.iter().map(num).collect()
        }
        Some(serde_json::Value::Object(o)) => features
            .iter()
            .map(|f| o.get(f).map(num).unwrap_or(Ok(0.0)))
            .collect(),
        Some(v) => Ok(vec![num(v)?; features.len()]),
    }
}

fn transform(
    ctx: &TaskContext,
    input: &Dataset,
    param: &DataTransformParam,
    saved: Option<&DataTransformModelParam>,
) -> Result<ComponentOutput, ComponentError> {
    let cpn = ctx.component_name.as_str();
    if param.input_format != "dense" {
        return transform_tags(ctx, input, param, saved);
    }
    let columns = input.schema.header.clone();
    let sep = input
        .schema
        .extra
        .get("id_delimiter")
        .and_then(|v| v.as_str())
        .unwrap_or(",")
        .to_string();
    let label_idx = if param.with_label {
        let i = columns.iter().position(|c| c == &param.label_name);
        if i.is_none() && saved.is_none() {
            return Err(ComponentError::Input(format!(
                "{cpn}: label column '{}' is not in the header {:?}",
                param.label_name, columns
            )));
        }
        i
    } else {
        None
    };
    let mut skip = Vec::new();
    let mut match_id_name = None;
    if param.with_match_id {
        let name = param
            .match_id_name
            .clone()
            .or_else(|| columns.first().cloned())
            .unwrap_or_default();
        if let Some(i) = columns.iter().position(|c| c == &name) {
            skip.push(i);
            match_id_name = Some(name);
        }
    }
    let features: Vec<String> = columns
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != label_idx && !skip.contains(i))
        .map(|(_, c)| c.clone())
        .collect();
    if let Some(s) = saved {
        if s.header != features {
            return Err(ComponentError::Input(format!(
                "{cpn}: the data's features {:?} differ from the model's {:?}",
                features, s.header
            )));
        }
    }
    let missing = strings(&param.missing_impute, DEFAULT_MISSING);
    let outliers = if param.outlier_replace {
        strings(&param.outlier_impute, &[])
    } else {
        Vec::new()
    };
    let raw: TypedTable<String, String> = TypedTable::from_raw(input.table.clone());
    let mut op = ParseDense {
        sep,
        columns: columns.clone(),
        label_idx,
        skip,
        label_float: !matches!(param.label_type.as_str(), "int" | "long"),
        missing,
        outliers,
        missing_fill: None,
        outlier_fill: None,
        strings: None,
        int_features: matches!(param.data_type.as_str(), "int" | "int64" | "long"),
    };
    // data_type str: every feature's distinct values (this dataset's own).
    if param.data_type == "str" {
        let dict = raw
            .apply_partitions(DistinctStrings {
                parse: op.clone(),
                n: features.len(),
            })?
            .reduce(MergeStrings)?
            .unwrap_or_else(|| vec![Vec::new(); features.len()]);
        op.strings = Some(dict);
    }
    // Fill values: from the model (predict), given, or column statistics.
    let mut missing_fill = None;
    let mut outlier_fill = None;
    if let Some(s) = saved {
        missing_fill = s.missing_fill_values.clone();
        outlier_fill = s.outlier_replace_values.clone();
    } else {
        let stat =
            |m: &Option<String>| matches!(m.as_deref(), Some("min" | "max" | "mean" | "median"));
        let need_stats = (param.missing_fill && stat(&param.missing_fill_method))
            || (param.outlier_replace && stat(&param.outlier_replace_method));
        let plain = if need_stats {
            Some(raw.map_partitions(op.clone())?)
        } else {
            None
        };
        let stats = match &plain {
            Some(t) => t
                .apply_partitions(ColStatsOp { n: features.len() })?
                .reduce(MergeColStats)?,
            None => None,
        };
        let resolve = |method: &Option<String>,
                       path: &str,
                       value: &Option<serde_json::Value>|
         -> Result<Vec<f64>, ComponentError> {
            match method.as_deref() {
                Some(m @ ("min" | "max" | "mean")) => {
                    let s = stats.clone().unwrap_or_default();
                    Ok((0..features.len())
                        .map(|j| {
                            let (lo, hi, sum, n) =
                                s.0.get(j).copied().unwrap_or((0.0, 0.0, 0.0, 0));
                            if n == 0 {
                                0.0
                            } else if m == "min" {
                                lo
                            } else if m == "max" {
                                hi
                            } else {
                                sum / n as f64
                            }
                        })
                        .collect())
                }
                Some("median") => {
                    let t = plain.as_ref().expect("stats computed");
                    (0..features.len())
                        .map(|j| {
                            let mut v: Vec<f64> = t
                                .map_values(Column(j))?
                                .collect()?
                                .into_iter()
                                .map(|(_, x)| x)
                                .filter(|x| !x.is_nan())
                                .collect();
                            v.sort_by(f64::total_cmp);
                            Ok(median(&v))
                        })
                        .collect()
                }
                _ => fill_vector(cpn, path, value, &features),
            }
        };
        if param.missing_fill {
            missing_fill = Some(resolve(
                &param.missing_fill_method,
                "default_value",
                &param.default_value,
            )?);
        }
        if param.outlier_replace {
            outlier_fill = Some(resolve(
                &param.outlier_replace_method,
                "outlier_replace_value",
                &param.outlier_replace_value,
            )?);
        }
    }
    op.missing_fill = missing_fill.clone();
    op.outlier_fill = outlier_fill.clone();
    let strings_dict = op.strings.clone();
    let table: TypedTable<String, Instance> = raw.map_partitions(op)?;
    let count = table.count()?;
    let label_name = label_idx.map(|_| param.label_name.clone());
    let mut extra = serde_json::Map::new();
    if let Some(m) = &match_id_name {
        extra.insert("match_id_name".into(), m.clone().into());
    }
    let mut schema = Schema {
        sid: input.schema.sid.clone(),
        header: features.clone(),
        label_name: label_name.clone(),
        extra,
    };
    if let Some(dict) = strings_dict {
        crate::io::set_str_values(&mut schema, features.iter().cloned().zip(dict).collect());
    }
    tracing::info!(
        "{cpn}: {count} instances, {} features, label {:?}",
        features.len(),
        label_name
    );
    let model = ModelData {
        module: "DataTransform".into(),
        meta: serde_json::to_value(param).unwrap_or_default(),
        param: serde_json::to_value(DataTransformModelParam {
            header: features.clone(),
            sid: input.schema.sid.clone(),
            label_name: label_name.clone(),
            missing_fill_values: missing_fill,
            outlier_replace_values: outlier_fill,
        })
        .unwrap_or_default(),
    };
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "count": count,
            "features": features.len(),
            "label_name": label_name,
        }),
        data: vec![Dataset {
            table: table.raw().clone(),
            schema,
        }],
        model: Some(model),
    })
}

/// `sparse` (svmlight `label idx:value …`) and `tag` (`tag` / `tag:value`)
/// rows to dense instances; the header is the sorted distinct tags (sparse:
/// `0..=max index`), absent keys are 0; the label is the first field.
fn transform_tags(
    ctx: &TaskContext,
    input: &Dataset,
    param: &DataTransformParam,
    saved: Option<&DataTransformModelParam>,
) -> Result<ComponentOutput, ComponentError> {
    let cpn = ctx.component_name.as_str();
    let sep = input
        .schema
        .extra
        .get("id_delimiter")
        .and_then(|v| v.as_str())
        .unwrap_or(param.delimitor.as_str())
        .to_string();
    let fields = CollectTags {
        sep,
        kv_sep: param.tag_value_delimitor.clone(),
        with_label: param.with_label,
        with_value: param.input_format == "sparse" || param.tag_with_value,
    };
    let raw: TypedTable<String, String> = TypedTable::from_raw(input.table.clone());
    let header = match saved {
        Some(s) => s.header.clone(),
        None => {
            let keys = raw
                .apply_partitions(fields.clone())?
                .reduce(MergeTags)?
                .unwrap_or_default();
            if param.input_format == "sparse" {
                let mut max = None;
                for k in &keys {
                    let i: usize = k.parse().map_err(|_| {
                        ComponentError::Input(format!(
                            "{cpn}: sparse feature index '{k}' is not a non-negative integer"
                        ))
                    })?;
                    max = max.max(Some(i));
                }
                max.map_or(Vec::new(), |m| (0..=m).map(|i| i.to_string()).collect())
            } else {
                keys
            }
        }
    };
    let table: TypedTable<String, Instance> = raw.map_partitions(ParseTags {
        fields,
        header: header.clone(),
        label_float: !matches!(param.label_type.as_str(), "int" | "long"),
    })?;
    let count = table.count()?;
    let label_name = param.with_label.then(|| param.label_name.clone());
    tracing::info!(
        "{cpn}: {count} instances, {} features ({})",
        header.len(),
        param.input_format
    );
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "count": count,
            "features": header.len(),
            "label_name": label_name,
        }),
        data: vec![Dataset {
            table: table.raw().clone(),
            schema: Schema {
                sid: input.schema.sid.clone(),
                header: header.clone(),
                label_name: label_name.clone(),
                extra: Default::default(),
            },
        }],
        model: Some(ModelData {
            module: "DataTransform".into(),
            meta: serde_json::to_value(param).unwrap_or_default(),
            param: serde_json::to_value(DataTransformModelParam {
                header,
                sid: input.schema.sid.clone(),
                label_name,
                missing_fill_values: None,
                outlier_replace_values: None,
            })
            .unwrap_or_default(),
        }),
    })
}

/// The median of sorted values (0 for none).
pub(crate) fn median(v: &[f64]) -> f64 {
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests;
