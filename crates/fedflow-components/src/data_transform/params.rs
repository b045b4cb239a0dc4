//! Parameters, with FATE's names and defaults (`DataTransformParam`).

use crate::ComponentError;
use serde::{Deserialize, Serialize};

/// FATE's `DataTransformParam` (the fields fedflow reads; others are accepted and ignored).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DataTransformParam {
    /// `dense`, `sparse` (svmlight: `label idx:value …`) or `tag` (`tag` or `tag:value` fields).
    pub input_format: String,
    /// Field separator of sparse / tag rows (FATE's `delimitor`).
    pub delimitor: String,
    /// `tag` fields carry values (`tag:value`).
    pub tag_with_value: bool,
    /// Separator of `tag:value` / `idx:value`.
    pub tag_value_delimitor: String,
    /// Whether the data has a label column.
    pub with_label: bool,
    /// The label column's name.
    pub label_name: String,
    /// `int`, `float` (FATE also accepts `long`, `float64`…).
    pub label_type: String,
    /// `dense` (fedflow's instances are dense).
    pub output_format: String,
    /// Feature type: `float64` (default), `float`, `double`, `int`, `int64`,
    /// `long` (values must be integers) or `str` (values are categories, for
    /// OneHotEncoder / HomoOneHotEncoder; dense input only).
    pub data_type: String,
    /// Replace missing values.
    pub missing_fill: bool,
    /// Fill value(s): a number, a list in header order, or `{column: value}`.
    pub default_value: Option<serde_json::Value>,
    /// `const` / `designated` (use `default_value`), `min`, `max`, `mean`, `median`.
    pub missing_fill_method: Option<String>,
    /// Strings that count as missing (default: FATE's list).
    pub missing_impute: Option<Vec<serde_json::Value>>,
    /// Replace outliers.
    pub outlier_replace: bool,
    /// `const` / `designated`, `min`, `max`, `mean`, `median`.
    pub outlier_replace_method: Option<String>,
    /// Values that count as outliers.
    pub outlier_impute: Option<Vec<serde_json::Value>>,
    /// Outlier replacement value(s), like `default_value`.
    pub outlier_replace_value: Option<serde_json::Value>,
    /// The data has a match id column.
    pub with_match_id: bool,
    /// The match id column's name.
    pub match_id_name: Option<String>,
    /// FATE's `need_run`.
    pub need_run: bool,
}

impl Default for DataTransformParam {
    fn default() -> Self {
        DataTransformParam {
            input_format: "dense".into(),
            delimitor: ",".into(),
            tag_with_value: false,
            tag_value_delimitor: ":".into(),
            with_label: false,
            label_name: "y".into(),
            label_type: "int".into(),
            output_format: "dense".into(),
            data_type: "float64".into(),
            missing_fill: false,
            default_value: None,
            missing_fill_method: None,
            missing_impute: None,
            outlier_replace: false,
            outlier_replace_method: None,
            outlier_impute: None,
            outlier_replace_value: None,
            with_match_id: false,
            match_id_name: None,
            need_run: true,
        }
    }
}

/// FATE's default missing-value strings (`imputer.get_missing_value_list`).
pub const DEFAULT_MISSING: &[&str] = &["", "NA", "na", "null", "NULL", "None", "nan", "NaN"];

impl DataTransformParam {
    pub(super) fn check(&self, component: &str) -> Result<(), ComponentError> {
        let bad = |path: &str, message: String| ComponentError::Param {
            path: format!("{component}.{path}"),
            message,
        };
        if !matches!(self.input_format.as_str(), "dense" | "sparse" | "tag") {
            return Err(bad(
                "input_format",
                format!("'{}': expected dense, sparse or tag", self.input_format),
            ));
        }
        if !matches!(
            self.label_type.as_str(),
            "int" | "long" | "float" | "float64" | "double"
        ) {
            return Err(bad(
                "label_type",
                format!(
                    "'{}': expected int, long, float or float64",
                    self.label_type
                ),
            ));
        }
        if !matches!(
            self.data_type.as_str(),
            "float64" | "float" | "float32" | "double" | "int" | "int64" | "long" | "str"
        ) {
            return Err(bad(
                "data_type",
                format!(
                    "'{}': expected float64, float, int, int64, long or str",
                    self.data_type
                ),
            ));
        }
        if self.data_type == "str" {
            if self.input_format != "dense" {
                return Err(bad(
                    "data_type",
                    format!(
                        "'str' reads dense input only (input_format is '{}')",
                        self.input_format
                    ),
                ));
            }
            for (path, on) in [
                ("missing_fill", self.missing_fill),
                ("outlier_replace", self.outlier_replace),
            ] {
                if on {
                    return Err(bad(
                        path,
                        "true: fill values are numbers, not available with data_type 'str'".into(),
                    ));
                }
            }
        }
        for (path, m) in [
            ("missing_fill_method", &self.missing_fill_method),
            ("outlier_replace_method", &self.outlier_replace_method),
        ] {
            if let Some(m) = m {
                if !matches!(
                    m.as_str(),
                    "const" | "designated" | "min" | "max" | "mean" | "median"
                ) {
                    return Err(bad(
                        path,
                        format!("'{m}': expected const, designated, min, max, mean or median"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Strings of a JSON list (numbers printed as FATE would compare them).
pub(super) fn strings(v: &Option<Vec<serde_json::Value>>, default: &[&str]) -> Vec<String> {
    match v {
        None => default.iter().map(|s| s.to_string()).collect(),
        Some(list) => list
            .iter()
            .map(|x| match x {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            })
            .collect(),
    }
}
