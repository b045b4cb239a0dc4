//! `Union` (FATE's Union), local to a party: the rows of two or more of its
//! tables as one table — raw tables (Reader outputs) or instance tables
//! (after DataTransform), not a mix.
//!
//! Parameters (FATE's `UnionParam`): `need_run` (true; false passes the first
//! table through), `allow_missing` (false; fedflow's instances always have
//! one value per header column, so there is nothing to allow), and
//! `keep_duplicate` (false): an id in several tables keeps the first table's
//! row; with true every row is kept, its id suffixed with its table's
//! source component (`133_reader_1`).
//!
//! Every table must have the first one's id name and header (and, for
//! instances, label name); otherwise the task fails naming the table. Empty
//! tables are skipped. Summary (FATE's): each table's row count by source
//! component, and `Total`.

use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Dataset, Instance, TaskContext,
};
use fedflow_computing::{register_op, MapOp, OpError, TypedTable};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// FATE's `UnionParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnionParam {
    /// FATE's `need_run`.
    pub need_run: bool,
    /// Rows may have fewer features than the header (moot for fedflow).
    pub allow_missing: bool,
    /// Keep rows whose id is already in an earlier table (ids suffixed).
    pub keep_duplicate: bool,
}

impl Default for UnionParam {
    fn default() -> Self {
        UnionParam {
            need_run: true,
            allow_missing: false,
            keep_duplicate: false,
        }
    }
}

/// Appends `_{suffix}` to the id of instance rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuffixInstanceIds(pub String);

impl MapOp for SuffixInstanceIds {
    const NAME: &'static str = "union.suffix_instance_ids";
    type K = String;
    type V = Instance;
    type K2 = String;
    type V2 = Instance;
    fn map(&self, k: String, v: Instance) -> Result<(String, Instance), OpError> {
        Ok((format!("{k}_{}", self.0), v))
    }
}
register_op!(map SuffixInstanceIds, example: SuffixInstanceIds("reader_1".into()), input: vec![("a".to_string(), Instance { features: vec![1.0], label: None, weight: 1.0 })]);

/// Appends `_{suffix}` to the id of raw rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuffixRawIds(pub String);

impl MapOp for SuffixRawIds {
    const NAME: &'static str = "union.suffix_raw_ids";
    type K = String;
    type V = String;
    type K2 = String;
    type V2 = String;
    fn map(&self, k: String, v: String) -> Result<(String, String), OpError> {
        Ok((format!("{k}_{}", self.0), v))
    }
}
register_op!(map SuffixRawIds, example: SuffixRawIds("reader_1".into()), input: vec![("a".to_string(), "1,2".to_string())]);

/// Whether a dataset is a raw table (a Reader's: lines of text).
pub(crate) fn is_raw(d: &Dataset) -> bool {
    d.schema.extra.contains_key("id_delimiter")
}

fn source(d: &Dataset, i: usize) -> String {
    d.schema
        .extra
        .get("source_component")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| format!("data_{i}"))
}

/// The component.
pub struct Union;

impl Component for Union {
    fn module(&self) -> &'static str {
        "Union"
    }

    fn check_params(
        &self,
        component: &str,
        _role: fedflow_core::Role,
        params: &serde_json::Value,
    ) -> Result<(), ComponentError> {
        parse_params::<UnionParam>(component, params).map(|_| ())
    }

    fn reads_string_features(&self) -> bool {
        true
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let cpn = ctx.component_name.as_str();
        let p: UnionParam = parse_params(cpn, &ctx.params)?;
        let sets: Vec<&Dataset> = ctx.inputs.data.values().flatten().collect();
        let Some(first) = sets.first() else {
            return Ok(ComponentOutput::default());
        };
        if !p.need_run {
            return Ok(ComponentOutput {
                summary: json!({"need_run": false}),
                data: vec![(*first).clone()],
                model: None,
            });
        }
        if sets.len() < 2 {
            return Err(ComponentError::Input(format!(
                "{cpn}: Union needs two or more input tables, got {}",
                sets.len()
            )));
        }
        let raw = is_raw(first);
        let mut summary = serde_json::Map::new();
        let mut combined: Option<(Dataset, String)> = None;
        for (i, d) in sets.iter().enumerate() {
            let name = source(d, i);
            let n = d.table.count()?;
            summary.insert(name.clone(), json!(n));
            if n == 0 {
                tracing::warn!("{cpn}: table of {name} is empty");
                continue;
            }
            if is_raw(d) != raw {
                return Err(ComponentError::Input(format!(
                    "{cpn}: the table of {name} is {} and the first is {}: Union combines tables of one kind",
                    if raw { "an instance table" } else { "a raw table" },
                    if raw { "raw" } else { "an instance table" },
                )));
            }
            let table = if p.keep_duplicate {
                if raw {
                    TypedTable::<String, String>::from_raw(d.table.clone())
                        .map(SuffixRawIds(name.clone()))?
                        .raw()
                        .clone()
                } else {
                    TypedTable::<String, Instance>::from_raw(d.table.clone())
                        .map(SuffixInstanceIds(name.clone()))?
                        .raw()
                        .clone()
                }
            } else {
                d.table.clone()
            };
            combined = Some(match combined {
                None => (
                    Dataset {
                        table,
                        schema: d.schema.clone(),
                    },
                    name,
                ),
                Some((c, first_name)) => {
                    let mismatch = |what: &str, a: String, b: String| {
                        ComponentError::Input(format!(
                            "{cpn}: {what} of {name} ({b}) differs from {first_name}'s ({a})"
                        ))
                    };
                    if c.schema.sid != d.schema.sid {
                        return Err(mismatch(
                            "the id name",
                            c.schema.sid.clone(),
                            d.schema.sid.clone(),
                        ));
                    }
                    if c.schema.header != d.schema.header {
                        return Err(mismatch(
                            "the header",
                            format!("{:?}", c.schema.header),
                            format!("{:?}", d.schema.header),
                        ));
                    }
                    if c.schema.label_name != d.schema.label_name {
                        return Err(mismatch(
                            "the label name",
                            format!("{:?}", c.schema.label_name),
                            format!("{:?}", d.schema.label_name),
                        ));
                    }
                    (
                        Dataset {
                            table: c.table.union(table.as_ref(), None)?,
                            schema: c.schema,
                        },
                        first_name,
                    )
                }
            });
        }
        let out = match combined {
            Some((d, _)) => d,
            None => (*first).clone(),
        };
        let total = out.table.count()?;
        summary.insert("Total".into(), json!(total));
        tracing::info!("{cpn}: {} tables, {total} rows", sets.len());
        Ok(ComponentOutput {
            summary: serde_json::Value::Object(summary),
            data: vec![out],
            model: None,
        })
    }
}

#[cfg(test)]
mod tests;
