//! What flows along the DSL's edges: datasets (a table plus FATE's schema) and models.

use fedflow_computing::Table;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// FATE's table schema: id column name, feature header, label name, and more.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// The id column's name.
    #[serde(default)]
    pub sid: String,
    /// Column names of the values (after the id; raw tables include the label).
    #[serde(default)]
    pub header: Vec<String>,
    /// The label column, once DataTransform has split it off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_name: Option<String>,
    /// Anything else a component records (match id name, anonymous header…).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The schema key of the string (categorical) features' values.
pub const STR_VALUES: &str = "str_values";

/// The string features of a dataset (DataTransform `data_type: str`): per
/// feature name, its values sorted; a row holds a value's index there.
/// Empty for numeric data.
pub fn str_values(schema: &Schema) -> std::collections::BTreeMap<String, Vec<String>> {
    schema
        .extra
        .get(STR_VALUES)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

/// Records the string features of a dataset (removes the key when empty).
pub fn set_str_values(
    schema: &mut Schema,
    values: std::collections::BTreeMap<String, Vec<String>>,
) {
    if values.is_empty() {
        schema.extra.remove(STR_VALUES);
    } else {
        schema.extra.insert(
            STR_VALUES.into(),
            serde_json::to_value(values).unwrap_or_default(),
        );
    }
}

/// A table with its schema, as components hand them to each other.
#[derive(Clone)]
pub struct Dataset {
    /// The rows (key and value types depend on the producer: Reader gives
    /// `String` ids and raw `String` values).
    pub table: Arc<dyn Table>,
    /// The schema.
    pub schema: Schema,
}

/// A component's model: FATE's Meta and Param, as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelData {
    /// The module that made it (`HeteroLR`).
    pub module: String,
    /// Settings the model was trained with (FATE's `*Meta`).
    pub meta: serde_json::Value,
    /// The learned parameters (FATE's `*Param`).
    pub param: serde_json::Value,
}

/// A task's inputs: datasets by DSL slot (`data`, `train_data`,
/// `validate_data`, `test_data`), and models.
#[derive(Clone, Default)]
pub struct Inputs {
    /// Datasets by slot, in the DSL's order.
    pub data: BTreeMap<String, Vec<Dataset>>,
    /// Models (from an upstream component or, in predict jobs, the model store).
    pub models: Vec<ModelData>,
}

impl Inputs {
    /// The first dataset of a slot.
    pub fn first(&self, slot: &str) -> Option<&Dataset> {
        self.data.get(slot).and_then(|v| v.first())
    }

    /// The first dataset of the first slot that has one, in FATE's order of
    /// preference (`data`, `train_data`, `test_data`, `validate_data`).
    pub fn any(&self) -> Option<&Dataset> {
        ["data", "train_data", "test_data", "validate_data"]
            .iter()
            .find_map(|s| self.first(s))
    }

    /// The model of a module, if one came in.
    pub fn model(&self, module: &str) -> Option<&ModelData> {
        self.models.iter().find(|m| m.module == module)
    }
}

/// One sample after DataTransform: FATE's `Instance`. Tables of instances are
/// `TypedTable<String, Instance>`, keyed by the sample id; the schema's
/// `header` names the features and `label_name` the label column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Dense feature values, in `header` order (missing values as NaN unless filled).
    pub features: Vec<f64>,
    /// The label (guest with `with_label`), else `None`.
    pub label: Option<f64>,
    /// Sample weight (1.0 unless a weight column is given).
    pub weight: f64,
}

/// A model's output row, FATE's `[label, predict_result, predict_score,
/// predict_detail]` plus its `type` (train / validate / test). Tables of
/// predictions are `TypedTable<String, Prediction>` keyed by sample id; the
/// schema's header is `["label", "predict_result", "predict_score",
/// "predict_detail", "type"]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// True label (NaN when unknown).
    pub label: f64,
    /// Predicted class (classification) or value (regression).
    pub predict_result: f64,
    /// Score of the positive class / the regression value / the top class's probability.
    pub predict_score: f64,
    /// Per-class scores as FATE prints them (`{"0": 0.1, "1": 0.9}`), JSON text.
    pub predict_detail: String,
    /// `train`, `validate` or `test`.
    pub kind: String,
}

/// The header of prediction tables.
pub const PREDICTION_HEADER: [&str; 5] = [
    "label",
    "predict_result",
    "predict_score",
    "predict_detail",
    "type",
];

/// A number as FATE prints labels and category values: an integer without
/// a fraction (`1`, not `1.0`), `-0` as `0`.
pub fn number_text(x: f64) -> String {
    format!("{}", x + 0.0)
}

/// A row value as text, for previews (table info, output data): decodes the
/// value types components exchange (raw `String`, [`Prediction`],
/// [`Instance`], numbers, lists of numbers), else hex.
pub fn preview_value(bytes: &[u8]) -> String {
    use bincode::Options;
    fn strict<T: serde::de::DeserializeOwned>(b: &[u8]) -> Option<T> {
        bincode::DefaultOptions::new()
            .with_fixint_encoding()
            .reject_trailing_bytes()
            .deserialize(b)
            .ok()
    }
    if let Some(s) = strict::<String>(bytes) {
        return s;
    }
    if let Some(p) = strict::<Prediction>(bytes) {
        return format!(
            "{},{},{},{},{}",
            p.label, p.predict_result, p.predict_score, p.predict_detail, p.kind
        );
    }
    if let Some(i) = strict::<Instance>(bytes) {
        let mut parts: Vec<String> = i.label.map(|l| vec![l.to_string()]).unwrap_or_default();
        parts.extend(i.features.iter().map(|f| f.to_string()));
        return parts.join(",");
    }
    if let Some(f) = strict::<f64>(bytes) {
        return f.to_string();
    }
    if let Some(v) = strict::<Vec<f64>>(bytes) {
        return v.iter().map(f64::to_string).collect::<Vec<_>>().join(",");
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
