//! The preprocessing family: FATE's small modules that reshape one party's
//! data around the models (imputation, label encoding, row weights, column
//! expansion, unions and splits). Each is local to a party unless its doc
//! says otherwise.

pub mod column_expand;
pub mod data_split;
use crate::ComponentError;

/// A parameter error at `component.path`.
pub(crate) fn param_error(component: &str, path: &str, message: String) -> ComponentError {
    ComponentError::Param {
        path: format!("{component}.{path}"),
        message,
    }
}

pub mod feature_imputation;
pub mod label_transform;
pub mod sample_weight;
pub mod scorecard;
pub mod union;
