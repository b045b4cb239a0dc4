//! The DSL: components, their modules and their data/model edges (v1 and v2).

use crate::conf::{err, ConfError};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One component of the DSL.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentDef {
    /// Its name (`hetero_lr_0`).
    pub name: String,
    /// FATE's module (`HeteroLR`).
    pub module: String,
    /// Data inputs by slot (`data`, `train_data`, …), each a list of `component.output`.
    pub data_inputs: BTreeMap<String, Vec<String>>,
    /// Model inputs (`component.model`, or `pipeline.component.model` in predict DSLs).
    pub model_inputs: Vec<String>,
    /// Declared data outputs.
    pub data_outputs: Vec<String>,
    /// Declared model outputs.
    pub model_outputs: Vec<String>,
}

impl ComponentDef {
    /// The components this one depends on (data and model edges within the DSL).
    pub fn upstream(&self) -> BTreeSet<String> {
        self.data_inputs
            .values()
            .flatten()
            .chain(self.model_inputs.iter())
            .filter(|r| !r.starts_with("args.") && !r.starts_with("pipeline."))
            .filter_map(|r| r.split('.').next().map(str::to_string))
            .collect()
    }
}

/// A parsed DSL, components in DAG order (dependencies first, DSL order otherwise).
#[derive(Debug, Clone)]
pub struct Dsl {
    /// Components in execution order.
    pub components: Vec<ComponentDef>,
}

fn strings(v: &Value, path: &str) -> Result<Vec<String>, ConfError> {
    match v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| err(format!("{path}.{i}"), "expected a string"))
            })
            .collect(),
        Value::String(s) => Ok(vec![s.clone()]),
        _ => Err(err(path, "expected a list of strings")),
    }
}

fn obj<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ConfError> {
    v.as_object().ok_or_else(|| err(path, "expected an object"))
}

impl Dsl {
    /// Parses a DSL (v1 or v2: the `components` object is the same shape).
    pub fn parse(v: &Value) -> Result<Dsl, ConfError> {
        let top = obj(v, "(dsl)")?;
        let comps = obj(
            top.get("components")
                .ok_or_else(|| err("components", "missing"))?,
            "components",
        )?;
        if comps.is_empty() {
            return Err(err("components", "expected at least one component"));
        }
        let mut defs = Vec::new();
        for (name, c) in comps {
            fedflow_core::names::check("component name", name)
                .map_err(|e| err(format!("components.{}", name.escape_debug()), e.to_string()))?;
            let path = format!("components.{name}");
            let c = obj(c, &path)?;
            let module = c
                .get("module")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    err(
                        format!("{path}.module"),
                        "missing (expected a module name such as \"HeteroLR\")",
                    )
                })?
                .to_string();
            let mut def = ComponentDef {
                name: name.clone(),
                module,
                data_inputs: BTreeMap::new(),
                model_inputs: Vec::new(),
                data_outputs: Vec::new(),
                model_outputs: Vec::new(),
            };
            if let Some(input) = c.get("input") {
                let ipath = format!("{path}.input");
                for (k, v) in obj(input, &ipath)? {
                    let p = format!("{ipath}.{k}");
                    match k.as_str() {
                        "data" => {
                            for (slot, refs) in obj(v, &p)? {
                                def.data_inputs
                                    .insert(slot.clone(), strings(refs, &format!("{p}.{slot}"))?);
                            }
                        }
                        "model" | "isometric_model" => def.model_inputs.extend(strings(v, &p)?),
                        "cache" => {}
                        _ => {
                            return Err(err(
                                p,
                                "unexpected key: expected data, model, isometric_model or cache",
                            ))
                        }
                    }
                }
            }
            if let Some(output) = c.get("output") {
                let opath = format!("{path}.output");
                for (k, v) in obj(output, &opath)? {
                    let p = format!("{opath}.{k}");
                    match k.as_str() {
                        "data" => def.data_outputs = strings(v, &p)?,
                        "model" => def.model_outputs = strings(v, &p)?,
                        "cache" => {}
                        _ => return Err(err(p, "unexpected key: expected data, model or cache")),
                    }
                }
            }
            defs.push(def);
        }
        // Check every reference.
        let names: BTreeMap<&str, &ComponentDef> =
            defs.iter().map(|d| (d.name.as_str(), d)).collect();
        for d in &defs {
            let refs = d
                .data_inputs
                .iter()
                .flat_map(|(slot, refs)| {
                    refs.iter()
                        .enumerate()
                        .map(move |(i, r)| (format!("input.data.{slot}.{i}"), r, true))
                })
                .chain(
                    d.model_inputs
                        .iter()
                        .enumerate()
                        .map(|(i, r)| (format!("input.model.{i}"), r, false)),
                );
            for (p, r, is_data) in refs {
                if r.starts_with("args.") || r.starts_with("pipeline.") {
                    continue;
                }
                let path = format!("components.{}.{p}", d.name);
                let (up, out) = r
                    .split_once('.')
                    .ok_or_else(|| err(&path, format!("'{r}': expected 'component.output'")))?;
                let upd = names.get(up).ok_or_else(|| {
                    err(&path, format!("'{r}' refers to unknown component '{up}'"))
                })?;
                let declared = if is_data {
                    &upd.data_outputs
                } else {
                    &upd.model_outputs
                };
                if !declared.iter().any(|o| o == out) {
                    return Err(err(
                        &path,
                        format!(
                            "'{r}': component '{up}' declares no {} output '{out}'",
                            if is_data { "data" } else { "model" }
                        ),
                    ));
                }
            }
        }
        Ok(Dsl {
            components: topo_sort(defs)?,
        })
    }

    /// A component by name.
    pub fn get(&self, name: &str) -> Option<&ComponentDef> {
        self.components.iter().find(|c| c.name == name)
    }
}

fn topo_sort(defs: Vec<ComponentDef>) -> Result<Vec<ComponentDef>, ConfError> {
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut left = defs;
    let mut out = Vec::new();
    while !left.is_empty() {
        let pos = left
            .iter()
            .position(|d| d.upstream().iter().all(|u| done.contains(u)));
        match pos {
            Some(i) => {
                let d = left.remove(i);
                done.insert(d.name.clone());
                out.push(d);
            }
            None => {
                let names: Vec<_> = left.iter().map(|d| d.name.as_str()).collect();
                return Err(err(
                    "components",
                    format!("dependency cycle among {}", names.join(", ")),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lr_dsl_order_and_errors() {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/examples/fate/hetero_lr_normal_dsl.json");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        let d = Dsl::parse(&v).unwrap();
        let names: Vec<_> = d.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "reader_0",
                "data_transform_0",
                "intersection_0",
                "hetero_lr_0",
                "evaluation_0"
            ]
        );
        assert_eq!(
            d.get("hetero_lr_0")
                .unwrap()
                .upstream()
                .into_iter()
                .collect::<Vec<_>>(),
            ["intersection_0"]
        );

        let bad =
            json!({"components": {"a": {"module": "X", "input": {"data": {"data": ["b.data"]}}}}});
        assert_eq!(
            Dsl::parse(&bad).unwrap_err().to_string(),
            "components.a.input.data.data.0: 'b.data' refers to unknown component 'b'"
        );
        let cyc = json!({"components": {
            "a": {"module": "X", "input": {"data": {"data": ["b.data"]}}, "output": {"data": ["data"]}},
            "b": {"module": "X", "input": {"data": {"data": ["a.data"]}}, "output": {"data": ["data"]}}}});
        assert_eq!(
            Dsl::parse(&cyc).unwrap_err().to_string(),
            "components: dependency cycle among a, b"
        );
        assert_eq!(
            Dsl::parse(&json!({"components": {"a": {}}}))
                .unwrap_err()
                .path,
            "components.a.module"
        );
        let out = json!({"components": {"a": {"module": "X", "output": {"data": ["data"]}}, "b": {"module": "X", "input": {"data": {"data": ["a.train"]}}}}});
        assert!(Dsl::parse(&out)
            .unwrap_err()
            .to_string()
            .contains("declares no data output 'train'"));
        // A model edge from a component that declares no model output at all.
        let nomodel = json!({"components": {
            "a": {"module": "X", "output": {"data": ["data"]}},
            "b": {"module": "X", "input": {"data": {"data": ["a.data"]}, "model": ["a.model"]}}}});
        let e = Dsl::parse(&nomodel).unwrap_err().to_string();
        assert!(
            e.starts_with("components.b.input.model.0:") && e.contains("declares no model output"),
            "{e}"
        );
        // ... and a data edge to a component that declares no outputs.
        let nodata = json!({"components": {
            "reader_0": {"module": "Reader"},
            "b": {"module": "X", "input": {"data": {"data": ["reader_0.data"]}}}}});
        let e = Dsl::parse(&nodata).unwrap_err().to_string();
        assert!(e.contains("declares no data output 'data'"), "{e}");
    }
}
