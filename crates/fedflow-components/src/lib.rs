//! fedflow's components: FATE's modules, one folder each, one file per role.
//!
//! A component sees only a [`TaskContext`]: its parameters, its party and the
//! job's roster, a computing [`Session`](fedflow_computing::Session), a
//! [`Federation`](fedflow_federation::Federation) and a [`Tracker`]. It never
//! names an engine.

mod context;
pub mod cv;
pub mod data_statistics;
pub mod data_transform;
pub mod evaluation;
pub mod feature_scale;
pub mod federated_sample;
pub mod feldman_verifiable_sum;
pub mod hetero_feature_binning;
pub mod hetero_feature_selection;
pub mod hetero_linr;
pub mod hetero_lr;
pub mod hetero_pearson;
pub mod hetero_secureboost;
pub mod homo;
pub mod intersection;
pub mod io;
pub mod local_baseline;
pub mod one_hot_encoder;
pub mod preprocess;
pub mod psi;
pub mod reader;
pub mod secure_add_example;
pub mod secure_information_retrieval;
#[cfg(test)]
mod testutil;
pub mod tree;

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
    "HomoSecureBoost",
    "HomoSecureboost",
    "FeatureImputation",
    "LabelTransform",
    "SampleWeight",
    "Union",
    "ColumnExpand",
    "HeteroDataSplit",
    "HomoDataSplit",
    "Scorecard",
    "LocalBaseline",
    "FeldmanVerifiableSum",
    "SecureInformationRetrieval",
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
        "HomoSecureBoost" | "HomoSecureboost" => Some(Box::new(homo::secureboost::HomoSecureBoost)),
        "HomoOneHotEncoder" => Some(Box::new(homo::one_hot::HomoOneHotEncoder)),
        "HomoFeatureBinning" => Some(Box::new(homo::binning::HomoFeatureBinning)),
        "FeatureImputation" => Some(Box::new(preprocess::feature_imputation::FeatureImputation)),
        "LabelTransform" => Some(Box::new(preprocess::label_transform::LabelTransform)),
        "SampleWeight" => Some(Box::new(preprocess::sample_weight::SampleWeight)),
        "Union" => Some(Box::new(preprocess::union::Union)),
        "ColumnExpand" => Some(Box::new(preprocess::column_expand::ColumnExpand)),
        "HeteroDataSplit" => Some(Box::new(preprocess::data_split::HeteroDataSplit)),
        "HomoDataSplit" => Some(Box::new(preprocess::data_split::HomoDataSplit)),
        "Scorecard" => Some(Box::new(preprocess::scorecard::Scorecard)),
        "LocalBaseline" => Some(Box::new(local_baseline::LocalBaseline)),
        "FeldmanVerifiableSum" => Some(Box::new(feldman_verifiable_sum::FeldmanVerifiableSum)),
        "SecureInformationRetrieval" => Some(Box::new(
            secure_information_retrieval::SecureInformationRetrieval,
        )),
        _ => None,
    }
}

/// FATE options a module does not implement, refused (so that a job never
/// runs without them): cross validation (`cv_param.need_cv: true`) for a
/// module outside [`cv::MODULES`], a malformed `cv_param`, and stepwise
/// selection (`stepwise_param.need_stepwise: true`). Returns the parsed
/// `cv_param`.
pub fn check_unsupported_options(
    component: &str,
    module: &str,
    params: &serde_json::Value,
) -> Result<cv::CvParam, ComponentError> {
    let cv = cv::params(component, module, params)?;
    for (path, key, what) in [("stepwise_param", "need_stepwise", "stepwise selection")] {
        if params.get(path).and_then(|v| v.get(key)) == Some(&serde_json::Value::Bool(true)) {
            return Err(ComponentError::Param {
                path: format!("{component}.{path}.{key}"),
                message: format!("{what} is not implemented for {module}"),
            });
        }
    }
    Ok(cv)
}

/// [`Component::check_params`] after [`check_unsupported_options`].
pub fn check_params(
    component: &dyn Component,
    name: &str,
    role: fedflow_core::Role,
    params: &serde_json::Value,
) -> Result<(), ComponentError> {
    check_unsupported_options(name, component.module(), params)?;
    component.check_params(name, role, params)
}

/// Runs `component` on `ctx`: first refuses [`check_unsupported_options`]
/// and string features for a component that computes on numbers (they hold
/// category codes, which would be used as values), then [`Component::run`].
pub fn run(
    component: &dyn Component,
    ctx: &TaskContext,
) -> Result<ComponentOutput, ComponentError> {
    let cv = check_unsupported_options(&ctx.component_name, component.module(), &ctx.params)?;
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
    if let (true, Some(mode)) = (cv.need_cv, cv::mode_of(component.module())) {
        if ctx.job_type != "predict" {
            return cv::run(component, ctx, &cv, mode);
        }
    }
    component.run(ctx)
}

#[cfg(test)]
mod option_tests {
    use super::*;

    #[test]
    fn cross_validation_and_stepwise_are_refused_naming_the_parameter() {
        let lr = component("HeteroLR").unwrap();
        let scale = component("FeatureScale").unwrap();
        for (c, p, path, what) in [
            (
                scale.as_ref(),
                serde_json::json!({"cv_param": {"need_cv": true, "n_splits": 4}}),
                "hetero_lr_0.cv_param.need_cv",
                "is not implemented for FeatureScale",
            ),
            (
                lr.as_ref(),
                serde_json::json!({"stepwise_param": {"need_stepwise": true}}),
                "hetero_lr_0.stepwise_param.need_stepwise",
                "is not implemented for HeteroLR",
            ),
        ] {
            let e = check_params(c, "hetero_lr_0", fedflow_core::Role::Guest, &p)
                .unwrap_err()
                .to_string();
            assert!(e.contains(path) && e.contains(what), "{e}");
        }
        // HeteroLR has cross validation.
        let cv = serde_json::json!({"cv_param": {"need_cv": true, "n_splits": 4}});
        assert!(check_params(lr.as_ref(), "hetero_lr_0", fedflow_core::Role::Guest, &cv).is_ok());
        let off = serde_json::json!({"cv_param": {"need_cv": false},
            "stepwise_param": {"need_stepwise": false}});
        assert!(check_unsupported_options("x", "HeteroLR", &off).is_ok());
    }
}
