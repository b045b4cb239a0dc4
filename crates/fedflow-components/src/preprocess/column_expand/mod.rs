//! `ColumnExpand` (FATE's ColumnExpand), local to a party: appends columns
//! with constant values to a raw table (a Reader's, before DataTransform),
//! e.g. to give parties the same columns.
//!
//! Parameters (FATE's `ColumnExpandParam`): `append_header` (the new column
//! names; none: the data passes through), `method` (`manual`, the only one
//! FATE has), `fill_value` (1e-8; a number or string, or a list with one per
//! appended column), `need_run` (true).
//!
//! Each row's text gets the table's delimiter and the fill values appended;
//! the header gets the names. A name already in the header fails the task
//! naming it. Model: meta `{append_header, method, fill_value, need_run}`,
//! param `{header}` (the header before expansion), FATE's `ColumnExpandMeta`
//! / `ColumnExpandParam`; a predict job expands by the model.

use super::union::is_raw;
use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Dataset, ModelData, TaskContext,
};
use fedflow_computing::{register_op, MapValuesOp, OpError, TypedTable};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// FATE's `ColumnExpandParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColumnExpandParam {
    /// Names of the appended columns.
    pub append_header: Option<Value>,
    /// `manual`.
    pub method: String,
    /// One value, or one per appended column.
    pub fill_value: Value,
    /// FATE's `need_run`.
    pub need_run: bool,
}

impl Default for ColumnExpandParam {
    fn default() -> Self {
        ColumnExpandParam {
            append_header: None,
            method: "manual".into(),
            fill_value: json!(1e-8),
            need_run: true,
        }
    }
}

/// Appends `suffix` (delimiter and values) to each raw row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppendText {
    /// The values, joined by the delimiter.
    pub values: String,
    /// The table's delimiter.
    pub delimiter: String,
}

impl MapValuesOp for AppendText {
    const NAME: &'static str = "column_expand.append_text";
    type V = String;
    type Out = String;
    fn map_value(&self, v: String) -> Result<String, OpError> {
        Ok(if v.is_empty() {
            self.values.clone()
        } else {
            format!("{v}{}{}", self.delimiter, self.values)
        })
    }
}
register_op!(map_values AppendText, example: AppendText { values: "0,0.2".into(), delimiter: ",".into() }, input: vec![("a".to_string(), "1,2".to_string()), ("b".to_string(), String::new())]);

use super::param_error as bad;

/// The appended names and their values as text.
fn plan(cpn: &str, p: &ColumnExpandParam) -> Result<(Vec<String>, Vec<String>), ComponentError> {
    if !p.method.eq_ignore_ascii_case("manual") {
        return Err(bad(
            cpn,
            "method",
            format!("'{}': expected manual", p.method),
        ));
    }
    let names: Vec<String> = match &p.append_header {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    bad(
                        cpn,
                        &format!("append_header[{i}]"),
                        format!("{v}: expected a string"),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(bad(
                cpn,
                "append_header",
                format!("{other}: expected a list of strings"),
            ))
        }
    };
    let text = |v: &Value, path: &str| match v {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) => Ok(s.clone()),
        other => Err(bad(
            cpn,
            path,
            format!("{other}: expected a number or a string"),
        )),
    };
    let values: Vec<String> = match &p.fill_value {
        Value::Array(a) => {
            if a.len() != names.len() {
                return Err(bad(
                    cpn,
                    "fill_value",
                    format!(
                        "{} values for {} append_header names: a list needs one per name",
                        a.len(),
                        names.len()
                    ),
                ));
            }
            a.iter()
                .enumerate()
                .map(|(i, v)| text(v, &format!("fill_value[{i}]")))
                .collect::<Result<_, _>>()?
        }
        v => {
            let t = text(v, "fill_value")?;
            vec![t; names.len()]
        }
    };
    Ok((names, values))
}

/// The component.
pub struct ColumnExpand;

impl Component for ColumnExpand {
    fn module(&self) -> &'static str {
        "ColumnExpand"
    }

    fn check_params(
        &self,
        component: &str,
        _role: fedflow_core::Role,
        params: &Value,
    ) -> Result<(), ComponentError> {
        let p: ColumnExpandParam = parse_params(component, params)?;
        plan(component, &p).map(|_| ())
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let cpn = ctx.component_name.as_str();
        let Some(input) = ctx.inputs.any() else {
            return Ok(ComponentOutput::default());
        };
        let p: ColumnExpandParam = match ctx.inputs.model("ColumnExpand") {
            Some(m) => parse_params(&format!("{cpn}(model meta)"), &m.meta)?,
            None => parse_params(cpn, &ctx.params)?,
        };
        let (names, values) = plan(cpn, &p)?;
        let model = ModelData {
            module: "ColumnExpand".into(),
            meta: json!({
                "append_header": names,
                "method": p.method.to_lowercase(),
                "fill_value": p.fill_value,
                "need_run": p.need_run,
            }),
            param: json!({ "header": input.schema.header }),
        };
        if !p.need_run || names.is_empty() {
            return Ok(ComponentOutput {
                summary: json!({"need_run": p.need_run, "append_header": names}),
                data: vec![input.clone()],
                model: Some(model),
            });
        }
        if !is_raw(input) {
            return Err(ComponentError::Input(format!(
                "{cpn}: ColumnExpand expands raw tables (a Reader's output, before DataTransform); its input is an instance table"
            )));
        }
        if let Some(dup) = names.iter().find(|n| input.schema.header.contains(n)) {
            return Err(bad(
                cpn,
                "append_header",
                format!("'{dup}' is already a column of the data"),
            ));
        }
        let delimiter = input
            .schema
            .extra
            .get("id_delimiter")
            .and_then(|v| v.as_str())
            .unwrap_or(",")
            .to_string();
        let table =
            TypedTable::<String, String>::from_raw(input.table.clone()).map_values(AppendText {
                values: values.join(&delimiter),
                delimiter,
            })?;
        let mut schema = input.schema.clone();
        schema.header.extend(names.iter().cloned());
        tracing::info!("{cpn}: appended {names:?}");
        Ok(ComponentOutput {
            summary: json!({"append_header": names, "fill_value": values}),
            data: vec![Dataset {
                table: table.raw().clone(),
                schema,
            }],
            model: Some(model),
        })
    }
}

#[cfg(test)]
mod tests;
