//! fedflow's components: FATE's modules, one folder each, one file per role.
//!
//! A component sees only a [`TaskContext`]: its parameters, its party and the
//! job's roster, a computing [`Session`](fedflow_computing::Session), a
//! [`Federation`](fedflow_federation::Federation) and a [`Tracker`]. It never
//! names an engine.

mod context;
pub mod data_statistics;
pub mod data_transform;
pub mod evaluation;
pub mod feature_scale;
pub mod federated_sample;
pub mod hetero_feature_binning;
pub mod hetero_feature_selection;
pub mod hetero_linr;
pub mod hetero_lr;
pub mod hetero_pearson;
pub mod hetero_secureboost;
pub mod homo;
pub mod intersection;
pub mod io;
pub mod one_hot_encoder;
pub mod psi;
pub mod reader;
pub mod secure_add_example;
#[cfg(test)]
mod testutil;

pub use context::{
    parse_params, ComponentError, ComponentOutput, MemoryTracker, Metric, TaskContext, Tracker,
};
pub use io::{
    preview_value, Dataset, Inputs, Instance, ModelData, Prediction, Schema, PREDICTION_HEADER,
};

/// A component: runs one task (this component, for one party).
pub trait Component: Send + Sync {
    /// FATE's module name (`SecureAddExample`).
    fn module(&self) -> &'static str;
    /// Runs the task.
    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError>;
    /// Whether a task needs a data input (`input.data` in the DSL): every
    /// module but the ones that make their data (Reader, SecureAddExample).
    fn needs_data_input(&self) -> bool {
        true
    }
    /// Whether the component reads string (categorical) features, i.e.
    /// datasets whose schema has `str_values` (DataTransform `data_type:
    /// str`). Others get such data refused by [`run`], naming the columns.
    fn reads_string_features(&self) -> bool {
        false
    }
    /// Checks the parameters one party's task would run with, before any task
    /// of the job starts (so a bad value fails the job for every party at
    /// once, naming the parameter). The task checks them again when it runs.
    fn check_params(
        &self,
        component: &str,
        role: fedflow_core::Role,
        params: &serde_json::Value,
    ) -> Result<(), ComponentError> {
        let _ = (component, role, params);
        Ok(())
    }
}

/// FATE module names this build implements.
pub const MODULES: &[&str] = &[
    "Reader",
    "SecureAddExample",
    "DataTransform",
    "Intersection",
    "Evaluation",
    "HeteroFeatureBinning",
    "HeteroFeatureSelection",
    "FeatureScale",
    "HeteroLR",
    "HeteroLinR",
    "HeteroSecureBoost",
    "HeteroPearson",
    "DataStatistics",
    "PSI",
    "FederatedSample",
    "OneHotEncoder",
    "HomoLR",
    "HomoOneHotEncoder",
    "HomoFeatureBinning",
];

/// The component for a FATE module name.
pub fn component(module: &str) -> Option<Box<dyn Component>> {
    match module {
        "Reader" => Some(Box::new(reader::Reader)),
        "SecureAddExample" => Some(Box::new(secure_add_example::SecureAddExample)),
        "DataTransform" => Some(Box::new(data_transform::DataTransform)),
        "Intersection" => Some(Box::new(intersection::Intersection)),
        "Evaluation" => Some(Box::new(evaluation::Evaluation)),
        "FeatureScale" => Some(Box::new(feature_scale::FeatureScale)),
        "HeteroFeatureBinning" => Some(Box::new(hetero_feature_binning::HeteroFeatureBinning)),
        "HeteroFeatureSelection" => {
            Some(Box::new(hetero_feature_selection::HeteroFeatureSelection))
        }
        "HeteroLR" => Some(Box::new(hetero_lr::HeteroLR)),
        "HeteroLinR" => Some(Box::new(hetero_linr::HeteroLinR)),
        "HeteroSecureBoost" => Some(Box::new(hetero_secureboost::HeteroSecureBoost)),
        "HeteroPearson" => Some(Box::new(hetero_pearson::HeteroPearson)),
        "DataStatistics" => Some(Box::new(data_statistics::DataStatistics)),
        "PSI" => Some(Box::new(psi::Psi)),
        "FederatedSample" => Some(Box::new(federated_sample::FederatedSample)),
        "OneHotEncoder" => Some(Box::new(one_hot_encoder::OneHotEncoder)),
        "HomoLR" => Some(Box::new(homo::lr::HomoLR)),
        "HomoOneHotEncoder" => Some(Box::new(homo::one_hot::HomoOneHotEncoder)),
        "HomoFeatureBinning" => Some(Box::new(homo::binning::HomoFeatureBinning)),
        _ => None,
    }
}

/// Runs `component` on `ctx`: first refuses string features for a
/// component that computes on numbers (they hold category codes, which
/// would be used as values), then [`Component::run`].
pub fn run(
    component: &dyn Component,
    ctx: &TaskContext,
) -> Result<ComponentOutput, ComponentError> {
    if !component.reads_string_features() {
        for d in ctx.inputs.data.values().flatten() {
            let strs = io::str_values(&d.schema);
            if !strs.is_empty() {
                let cols: Vec<&String> = strs.keys().collect();
                return Err(ComponentError::Input(format!(
                    "{} ({}): columns {cols:?} are strings (DataTransform data_type 'str'); encode them first with OneHotEncoder / HomoOneHotEncoder (transform_col_names)",
                    ctx.component_name,
                    component.module()
                )));
            }
        }
    }
    component.run(ctx)
}
