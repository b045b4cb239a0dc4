//! `OneHotEncoder` (FATE's OneHotEncoder), local to each party: every party
//! encodes its own columns; nothing crosses parties.
//!
//! Parameters (FATE's `OneHotEncoderParam`): `transform_col_indexes` (-1:
//! every column, default), `transform_col_names` (added to the indexes),
//! `need_run` (true; false passes the data through), `need_alignment`
//! (true; recorded in the model: it concerns HomoOneHotEncoder's value
//! alignment across parties, which a hetero party does not do).
//!
//! Fit: the distinct values of each chosen column (named ops
//! [`DistinctValues`] per partition, merged by [`MergeValues`]); as FATE,
//! values must be integers or strings (string columns come from
//! DataTransform's `data_type: str`; others with a fraction fail naming the
//! column and row)
//! and a column may have at most [`ONE_HOT_LIMIT`] of them. Output header: a
//! chosen column `x0` with values 0, 1, 3 becomes `x0_0`, `x0_1`, `x0_3` in
//! its place (FATE's `'_'.join([name, str(value)])`, the value an integer as
//! FATE's `math.ceil` makes it; values in ascending order), other columns are
//! kept. Transform ([`Encode`]): 1 at the column of the row's value, 0
//! elsewhere; a value unseen in training gives all zeros (FATE's
//! `query_name_by_value` → None).
//!
//! Model: meta [`OneHotMeta`] (`transform_col_names`, `header`, `need_run`,
//! `need_alignment`), param [`OneHotModelParam`] (`col_map`: per column its
//! `values` as text and `transformed_headers`; `result_header`), FATE's
//! `OneHotMeta` / `OneHotParam`. A predict job (the model as input) encodes
//! by it, finding the columns by name.

mod ops;

pub use ops::{DistinctValues, Encode, MergeValues, Slot, ONE_HOT_LIMIT};

use crate::hetero_feature_binning::select_columns;
use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Dataset, Instance, ModelData,
    TaskContext,
};
use fedflow_computing::TypedTable;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// FATE's `OneHotEncoderParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct OneHotEncoderParam {
    /// Columns by index (-1: all).
    pub transform_col_indexes: serde_json::Value,
    /// Columns by name.
    pub transform_col_names: Option<Vec<String>>,
    /// FATE's `need_run`.
    pub need_run: bool,
    /// FATE's `need_alignment` (recorded only; see the module doc).
    pub need_alignment: bool,
}

impl Default for OneHotEncoderParam {
    fn default() -> Self {
        OneHotEncoderParam {
            transform_col_indexes: serde_json::json!(-1),
            transform_col_names: None,
            need_run: true,
            need_alignment: true,
        }
    }
}

/// FATE's `OneHotMeta`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OneHotMeta {
    /// The encoded columns.
    pub transform_col_names: Vec<String>,
    /// The input header at fit time.
    pub header: Vec<String>,
    /// Whether the encoder ran.
    pub need_run: bool,
    /// The `need_alignment` parameter.
    pub need_alignment: bool,
}

/// FATE's `ColsMap`: a column's values (as text) and their output columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColsMap {
    /// The values, ascending (`"0"`, `"1"`).
    pub values: Vec<String>,
    /// Output column per value (`x0_0`, `x0_1`).
    pub transformed_headers: Vec<String>,
}

/// FATE's `OneHotParam`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OneHotModelParam {
    /// Per encoded column.
    pub col_map: BTreeMap<String, ColsMap>,
    /// The output header.
    pub result_header: Vec<String>,
}

/// The order of a column's values: numerically when every value is a
/// number, else as text. The same on every party, so aligned headers agree.
pub(crate) fn sort_values(v: &mut Vec<String>) {
    let nums: Option<Vec<f64>> = v.iter().map(|s| s.trim().parse::<f64>().ok()).collect();
    match nums {
        Some(n) => {
            let mut pairs: Vec<(f64, String)> = n.into_iter().zip(v.drain(..)).collect();
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            pairs.dedup_by(|a, b| a.0 == b.0);
            v.extend(pairs.into_iter().map(|p| p.1));
        }
        None => {
            v.sort();
            v.dedup();
        }
    }
}

/// The output header and the encoding op for `header`, given the values of
/// the encoded columns (by name, as text, in output order) and the string
/// features of the input (`str_values`: a string column's rows hold codes).
fn plan(
    cpn: &str,
    header: &[String],
    values: &ColumnValues,
    strs: &BTreeMap<String, Vec<String>>,
) -> Result<(Vec<String>, Encode), ComponentError> {
    let mut out = Vec::new();
    let mut slots = Vec::with_capacity(header.len());
    for name in header {
        match values.get(name) {
            Some(v) => {
                // (the row's value, its output offset), sorted by value.
                let mut known: Vec<(f64, usize)> = match strs.get(name) {
                    Some(dict) => v
                        .iter()
                        .enumerate()
                        .filter_map(|(pos, t)| {
                            dict.binary_search(t).ok().map(|code| (code as f64, pos))
                        })
                        .collect(),
                    None => v
                        .iter()
                        .enumerate()
                        .map(|(pos, t)| {
                            t.trim().parse::<f64>().map(|x| (x + 0.0, pos)).map_err(|_| {
                                ComponentError::Input(format!(
                                    "{cpn}: column '{name}' is numeric in the data, but its encoding has the value '{t}' (a string column: read it with DataTransform data_type 'str')"
                                ))
                            })
                        })
                        .collect::<Result<_, _>>()?,
                };
                known.sort_by(|a, b| a.0.total_cmp(&b.0));
                slots.push(Slot::OneHot {
                    at: out.len(),
                    values: known.iter().map(|k| k.0).collect(),
                    pos: known.iter().map(|k| k.1).collect(),
                });
                out.extend(v.iter().map(|t| format!("{name}_{t}")));
            }
            None => {
                slots.push(Slot::Keep(out.len()));
                out.push(name.clone());
            }
        }
    }
    let width = out.len();
    Ok((out, Encode { width, slots }))
}

/// The component.
pub struct OneHotEncoder;

impl OneHotEncoder {
    /// Learns the values of the chosen columns.
    fn fit(
        cpn: &str,
        p: &OneHotEncoderParam,
        table: &TypedTable<String, Instance>,
        header: &[String],
        strs: &BTreeMap<String, Vec<String>>,
    ) -> Result<(OneHotMeta, ColumnValues), ComponentError> {
        let cols = select_columns(
            cpn,
            "transform_col_indexes",
            &p.transform_col_indexes,
            &p.transform_col_names,
            header,
        )?;
        let names: Vec<String> = cols.iter().map(|&j| header[j].clone()).collect();
        let values = table
            .apply_partitions(DistinctValues {
                cols,
                names: names.clone(),
            })?
            .reduce(MergeValues {
                names: names.clone(),
            })?
            .unwrap_or_else(|| vec![Vec::new(); names.len()]);
        let meta = OneHotMeta {
            transform_col_names: names.clone(),
            header: header.to_vec(),
            need_run: true,
            need_alignment: p.need_alignment,
        };
        let texts = names
            .into_iter()
            .zip(values)
            .map(|(name, v)| {
                let t: Vec<String> = match strs.get(&name) {
                    // Codes index the sorted values: the texts come out sorted.
                    Some(dict) => v
                        .iter()
                        .map(|&c| dict.get(c as usize).cloned().unwrap_or_default())
                        .collect(),
                    None => v.iter().map(|&x| crate::io::number_text(x)).collect(),
                };
                (name, t)
            })
            .collect();
        Ok((meta, texts))
    }

    /// Reads a trained model back.
    fn load(cpn: &str, m: &ModelData) -> Result<(OneHotMeta, ColumnValues), ComponentError> {
        let meta: OneHotMeta = parse_params(&format!("{cpn}(model meta)"), &m.meta)?;
        let param: OneHotModelParam = parse_params(&format!("{cpn}(model param)"), &m.param)?;
        let values = param
            .col_map
            .into_iter()
            .map(|(name, c)| (name, c.values))
            .collect();
        Ok((meta, values))
    }
}

impl Component for OneHotEncoder {
    fn module(&self) -> &'static str {
        "OneHotEncoder"
    }

    fn reads_string_features(&self) -> bool {
        true
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let p: OneHotEncoderParam = parse_params(&ctx.component_name, &ctx.params)?;
        encode(ctx, "OneHotEncoder", &p, &mut |v| Ok(v))
    }
}

/// The values of each encoded column, by name: as text (FATE's
/// `ColsMap.values`), in output order.
pub type ColumnValues = BTreeMap<String, Vec<String>>;

/// Fits (or loads from the `module` model input) and applies the encoding of
/// one party's data; `align` turns the values this party found into the
/// ones it encodes with (identity here; HomoOneHotEncoder unites them
/// across parties). Shared by OneHotEncoder and HomoOneHotEncoder.
pub(crate) fn encode(
    ctx: &TaskContext,
    module: &str,
    p: &OneHotEncoderParam,
    align: &mut dyn FnMut(ColumnValues) -> Result<ColumnValues, ComponentError>,
) -> Result<ComponentOutput, ComponentError> {
    let cpn = ctx.component_name.as_str();
    let Some(input) = ctx.inputs.any() else {
        return Ok(ComponentOutput::default());
    };
    let header = &input.schema.header;
    let strs = crate::io::str_values(&input.schema);
    let table: TypedTable<String, Instance> = TypedTable::from_raw(input.table.clone());
    let (meta, values) = match ctx.inputs.model(module) {
        Some(m) => OneHotEncoder::load(cpn, m)?,
        None if !p.need_run => (
            OneHotMeta {
                header: header.clone(),
                need_run: false,
                need_alignment: p.need_alignment,
                ..Default::default()
            },
            BTreeMap::new(),
        ),
        None => {
            let (meta, values) = OneHotEncoder::fit(cpn, p, &table, header, &strs)?;
            (meta, align(values)?)
        }
    };
    let model = |result_header: Vec<String>| ModelData {
        module: module.into(),
        meta: serde_json::to_value(&meta).unwrap_or_default(),
        param: serde_json::to_value(OneHotModelParam {
            col_map: values
                .iter()
                .map(|(name, v)| {
                    (
                        name.clone(),
                        ColsMap {
                            values: v.clone(),
                            transformed_headers: v.iter().map(|t| format!("{name}_{t}")).collect(),
                        },
                    )
                })
                .collect(),
            result_header,
        })
        .unwrap_or_default(),
    };
    if !meta.need_run {
        return Ok(ComponentOutput {
            summary: serde_json::json!({"need_run": false}),
            data: vec![input.clone()],
            model: Some(model(header.clone())),
        });
    }
    if let Some(missing) = values.keys().find(|n| !header.contains(n)) {
        return Err(ComponentError::Input(format!(
            "{cpn}: column '{missing}' of the model is not in the input header"
        )));
    }
    let (result_header, op) = plan(cpn, header, &values, &strs)?;
    let out = table.map_values(op)?;
    let mut schema = input.schema.clone();
    schema.header = result_header.clone();
    // Encoded string columns are numbers now; the others stay strings.
    let mut left = strs;
    left.retain(|name, _| !values.contains_key(name));
    crate::io::set_str_values(&mut schema, left);
    tracing::info!(
        "{cpn}: {} columns one-hot encoded, {} -> {} features",
        values.len(),
        header.len(),
        result_header.len()
    );
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "transform_col_names": meta.transform_col_names,
            "output_columns": result_header.len(),
        }),
        data: vec![Dataset {
            table: out.raw().clone(),
            schema,
        }],
        model: Some(model(result_header)),
    })
}

#[cfg(test)]
mod tests;
