//! `HomoSecureBoost`: FATE 1.11's horizontal SecureBoost. The clients (guest,
//! hosts) hold the same features for different rows, each with labels; the
//! arbiter grows every tree from securely aggregated g/h histograms and never
//! sees one client's. Every client ends with the same, whole model.
//!
//! Setup (tag `""`): each client sends `homo_sbt_meta` (its label classes,
//! feature names, the trees of a warm-start model, the schedule parameters,
//! or why it cannot train); the arbiter checks they agree and answers
//! `homo_sbt_plan`: the union of the classes (FATE's label alignment), or the
//! error every party then fails with.
//!
//! Binning (not on warm start, which keeps the model's split points):
//! HomoFeatureBinning's federated `recursive_query` ([`super::binning`]) with
//! `bin_num` and `binning_error`: split points of the pooled rows, the same
//! on every client, from securely summed ranks.
//!
//! Secure aggregation rounds ([`super::aggregator`], prefix `homo_sbt`), in
//! this order, the same on every party:
//! 1. `[rows, Σy]` summed: the regression init score is the pooled mean label
//!    (classification starts at 0);
//! 2. per boosting round, per tree (one per class for multi-class
//!    `single_output`, one with a leaf weight per class for `multi_output`),
//!    per depth `d`: each client sends the g/h histograms of the nodes it is
//!    asked for (the root, then the left child of every split), masked; the
//!    arbiter sums them, derives every right child as parent − left, finds
//!    each node's best split ([`crate::tree::hist::best_split`]: xgboost gain,
//!    missing values to the better side with `use_missing`) over the tree's
//!    features (`subsample_feature_rate`, seeded by `random_seed` and the
//!    tree) and answers `homo_sbt_splits` (tag `"t.d"`): per node its split
//!    or none; the clients move their rows; after the last depth the arbiter
//!    sends the nodes' weights `−G/(H+λ)` (`homo_sbt_weights`, tag `t`);
//! 3. per boosting round, the clients' mean loss weighted by rows; every party
//!    stops the same way on it (`n_iter_no_change`, `tol`).
//!
//! Differences from FATE 1.11, deliberate: FATE averages the clients' local
//! quantile split points and computes each client's init score from its own
//! labels, so its clients end with different models; here split points and
//! init score are those of the pooled rows, so the model equals that of
//! xgboost's algorithm on the pooled data (tested against a plaintext
//! replay). Ranks are exact, not GK summaries.

mod arbiter;
mod client;

use crate::hetero_secureboost::{ObjectiveParam, TreeParam, MAX_BIN_NUM};
use crate::homo::lr::PredictParam;
use crate::tree::{FullTree, Objective};
use crate::{Component, ComponentError, ComponentOutput, TaskContext};
use fedflow_core::Role;
use fedflow_federation::TransferVariable;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Client → arbiter: what the client will train.
pub const HOMO_SBT_META: TransferVariable = TransferVariable::new(
    "homo_sbt_meta",
    &[Role::Guest, Role::Host],
    &[Role::Arbiter],
);
/// Arbiter → clients: the aligned classes, or why the job cannot run.
pub const HOMO_SBT_PLAN: TransferVariable = TransferVariable::new(
    "homo_sbt_plan",
    &[Role::Arbiter],
    &[Role::Guest, Role::Host],
);
/// Arbiter → clients, per tree and depth: the split of every node.
pub const HOMO_SBT_SPLITS: TransferVariable = TransferVariable::new(
    "homo_sbt_splits",
    &[Role::Arbiter],
    &[Role::Guest, Role::Host],
);
/// Arbiter → clients, per tree: every node's weight.
pub const HOMO_SBT_WEIGHTS: TransferVariable = TransferVariable::new(
    "homo_sbt_weights",
    &[Role::Arbiter],
    &[Role::Guest, Role::Host],
);

/// First client → arbiter: the number of thresholds per feature (the
/// histograms' shape).
pub const HOMO_SBT_BINS: TransferVariable = TransferVariable::new(
    "homo_sbt_bins",
    &[Role::Guest, Role::Host],
    &[Role::Arbiter],
);

/// The secure aggregation's prefix.
pub(crate) const AGG_PREFIX: &str = "homo_sbt";

/// FATE 1.11's `HomoSecureBoostParam`: names and defaults as FATE's.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HomoSecureBoostParam {
    /// Tree parameters (`DecisionTreeParam`).
    pub tree_param: TreeParam,
    /// `classification` or `regression`.
    pub task_type: String,
    /// Objective (`cross_entropy`; `lse` for regression).
    pub objective_param: ObjectiveParam,
    /// Shrinkage.
    pub learning_rate: f64,
    /// Boosting rounds.
    pub num_trees: u32,
    /// Fraction of features per tree.
    pub subsample_feature_rate: f64,
    /// Stop when the mean loss changes less than `tol` between rounds.
    pub n_iter_no_change: bool,
    /// Tolerance.
    pub tol: f64,
    /// Quantile bins per feature.
    pub bin_num: u32,
    /// Prediction threshold.
    pub predict_param: PredictParam,
    /// Cross validation (`need_cv: true` is refused for every module).
    pub cv_param: serde_json::Value,
    /// Log the validation loss every this many rounds (null: never).
    pub validation_freqs: Option<serde_json::Value>,
    /// Early stopping on validation (not implemented: refused when set).
    pub early_stopping_rounds: Option<u32>,
    /// Validation metrics for early stopping (refused when non-empty).
    pub metrics: Option<Vec<String>>,
    /// Early stopping on the first metric only (refused when true).
    pub use_first_metric_only: bool,
    /// Missing values get their own bin and the better side of each split.
    pub use_missing: bool,
    /// Zeros as missing (not implemented: refused when true).
    pub zero_as_missing: bool,
    /// Seed of the per-tree feature subsampling.
    pub random_seed: u64,
    /// Relative rank error of the federated binning.
    pub binning_error: f64,
    /// `distributed` or `memory`: FATE's two histogram implementations; the
    /// model is the same (fedflow has one).
    pub backend: String,
    /// `single_output` (a tree per class) or `multi_output` (one tree with a
    /// weight per class).
    pub multi_mode: String,
    /// FATE's callbacks (refused when any is set).
    pub callback_param: serde_json::Value,
}

impl Default for HomoSecureBoostParam {
    fn default() -> Self {
        HomoSecureBoostParam {
            tree_param: TreeParam::default(),
            task_type: "classification".into(),
            objective_param: ObjectiveParam::default(),
            learning_rate: 0.3,
            num_trees: 5,
            subsample_feature_rate: 1.0,
            n_iter_no_change: true,
            tol: 1e-4,
            bin_num: 32,
            predict_param: PredictParam::default(),
            cv_param: serde_json::Value::Null,
            validation_freqs: None,
            early_stopping_rounds: None,
            metrics: None,
            use_first_metric_only: false,
            use_missing: false,
            zero_as_missing: false,
            random_seed: 100,
            binning_error: 1e-4,
            backend: "distributed".into(),
            multi_mode: "single_output".into(),
            callback_param: serde_json::Value::Null,
        }
    }
}

impl HomoSecureBoostParam {
    /// Checks every value (the same on every party).
    pub fn check(&self, component: &str) -> Result<(), ComponentError> {
        let bad = |path: &str, message: &str| ComponentError::Param {
            path: format!("{component}.{path}"),
            message: message.to_string(),
        };
        if !matches!(self.task_type.as_str(), "classification" | "regression") {
            return Err(bad("task_type", "expected classification or regression"));
        }
        self.objective_param.check(component, &self.task_type)?;
        if self.num_trees == 0 {
            return Err(bad("num_trees", "expected a positive integer"));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(bad("learning_rate", "expected a positive number"));
        }
        if self.bin_num < 2 || self.bin_num > MAX_BIN_NUM - 1 {
            return Err(bad(
                "bin_num",
                &format!("expected an integer in [2, {}]", MAX_BIN_NUM - 1),
            ));
        }
        if !(self.subsample_feature_rate > 0.0 && self.subsample_feature_rate <= 1.0) {
            return Err(bad("subsample_feature_rate", "expected a number in (0, 1]"));
        }
        if !(self.binning_error > 0.0 && self.binning_error < 1.0) {
            return Err(bad("binning_error", "expected a number in (0, 1)"));
        }
        if !(self.predict_param.threshold >= 0.0 && self.predict_param.threshold <= 1.0) {
            return Err(bad(
                "predict_param.threshold",
                "expected a number in [0, 1]",
            ));
        }
        let tp = &self.tree_param;
        if tp.max_depth == 0 {
            return Err(bad("tree_param.max_depth", "expected a positive integer"));
        }
        if tp.criterion_method != "xgboost" {
            return Err(bad("tree_param.criterion_method", "expected xgboost"));
        }
        if !matches!(tp.feature_importance_type.as_str(), "split" | "gain") {
            return Err(bad(
                "tree_param.feature_importance_type",
                "expected split or gain",
            ));
        }
        if self.zero_as_missing || tp.zero_as_missing {
            return Err(bad(
                "zero_as_missing",
                "zero_as_missing is not implemented for HomoSecureBoost (missing values are NaN cells)",
            ));
        }
        if !matches!(self.backend.as_str(), "distributed" | "memory") {
            return Err(bad("backend", "expected distributed or memory"));
        }
        if !matches!(self.multi_mode.as_str(), "single_output" | "multi_output") {
            return Err(bad("multi_mode", "expected single_output or multi_output"));
        }
        if self.early_stopping_rounds.is_some() {
            return Err(bad(
                "early_stopping_rounds",
                "early stopping on validation is not implemented for HomoSecureBoost (n_iter_no_change stops on the training loss)",
            ));
        }
        if self.metrics.as_ref().is_some_and(|m| !m.is_empty()) {
            return Err(bad(
                "metrics",
                "validation metrics for early stopping are not implemented for HomoSecureBoost; use an Evaluation component",
            ));
        }
        if self.use_first_metric_only {
            return Err(bad(
                "use_first_metric_only",
                "early stopping is not implemented for HomoSecureBoost",
            ));
        }
        let callbacks = self
            .callback_param
            .get("callbacks")
            .and_then(|c| c.as_array())
            .is_some_and(|c| !c.is_empty());
        if callbacks {
            return Err(bad(
                "callback_param.callbacks",
                "callbacks are not implemented for HomoSecureBoost",
            ));
        }
        self.validation_every(component)?;
        Ok(())
    }

    /// `validation_freqs` as "every k rounds" (None: never).
    pub fn validation_every(&self, component: &str) -> Result<Option<u32>, ComponentError> {
        match &self.validation_freqs {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(v) => match v.as_u64() {
                Some(k) if k > 0 => Ok(Some(k as u32)),
                _ => Err(ComponentError::Param {
                    path: format!("{component}.validation_freqs"),
                    message: format!("expected a positive integer or null, got {v}"),
                }),
            },
        }
    }

    /// Trees per boosting round and output dimensions per tree for `classes`.
    pub fn shape(&self, objective: Objective) -> (usize, usize) {
        let k = objective.dims();
        if k > 1 && self.multi_mode == "multi_output" {
            (1, k)
        } else {
            (k, 1)
        }
    }

    /// The binning every client runs (FATE: `bin_num`, `binning_error`).
    pub(crate) fn binning(&self) -> crate::homo::binning::HomoFeatureBinningParam {
        crate::homo::binning::HomoFeatureBinningParam {
            method: "recursive_query".into(),
            bin_num: self.bin_num as usize,
            error: self.binning_error,
            ..Default::default()
        }
    }
}

/// The objective of a task over the aligned `classes`.
pub(crate) fn objective_of(param: &HomoSecureBoostParam, classes: &[f64]) -> Objective {
    if param.task_type == "regression" {
        Objective::Lse
    } else if classes.len() > 2 {
        Objective::Multi(classes.len())
    } else {
        Objective::Binary
    }
}

/// `homo_sbt_meta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Meta {
    /// Trains (false: predicts with a model input).
    pub train: bool,
    /// The client's label classes, sorted (classification).
    pub classes: Vec<f64>,
    /// Feature names.
    pub header: Vec<String>,
    /// Warm start: the model's trees (0: none) and classes.
    pub warm: Option<(usize, Vec<f64>)>,
    /// The parameters every party must share.
    pub schedule: Schedule,
    /// Why this client cannot train.
    pub error: Option<String>,
}

/// What must be equal on every party for the rounds to line up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Schedule {
    pub task_type: String,
    pub num_trees: u32,
    pub max_depth: u32,
    pub bin_num: u32,
    pub multi_mode: String,
    pub use_missing: bool,
    pub n_iter_no_change: bool,
}

impl Schedule {
    pub(crate) fn of(p: &HomoSecureBoostParam) -> Self {
        Schedule {
            task_type: p.task_type.clone(),
            num_trees: p.num_trees,
            max_depth: p.tree_param.max_depth,
            bin_num: p.bin_num,
            multi_mode: p.multi_mode.clone(),
            use_missing: p.use_missing || p.tree_param.use_missing,
            n_iter_no_change: p.n_iter_no_change,
        }
    }
}

/// `homo_sbt_plan`: the aligned classes, or the error.
pub(crate) type Plan = Result<Vec<f64>, String>;

/// One node's entry in `homo_sbt_splits`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Decision {
    /// Node id.
    pub node: u32,
    /// `(fid, bid, missing_left, gain)`, or none: the node is a leaf.
    pub split: Option<(u32, u16, bool, f64)>,
}

/// The model every client holds (the same on every client).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HomoSbtModel {
    /// Feature names.
    pub header: Vec<String>,
    /// Split points (thresholds) per feature.
    pub split_points: Vec<Vec<f64>>,
    /// Trees in boosting order.
    pub trees: Vec<FullTree>,
    /// Initial score per dimension.
    pub init_score: Vec<f64>,
    /// Objective.
    pub objective: Objective,
    /// Class values (classification).
    pub classes: Vec<f64>,
    /// Shrinkage.
    pub learning_rate: f64,
    /// `single_output` or `multi_output`.
    pub multi_mode: String,
    /// Missing values have their own bin.
    pub use_missing: bool,
    /// Per feature name: splits (`split`) or total gain (`gain`).
    pub feature_importance: BTreeMap<String, f64>,
    /// Mean training loss per round.
    pub loss_history: Vec<f64>,
}

impl HomoSbtModel {
    /// Scores of one row.
    pub fn scores(&self, x: &[f64]) -> Vec<f64> {
        let mut z = self.init_score.clone();
        for t in &self.trees {
            let leaf = t.leaf(x);
            if leaf.weight.len() > 1 {
                z.iter_mut()
                    .zip(&leaf.weight)
                    .for_each(|(a, w)| *a += self.learning_rate * w);
            } else if let Some(w) = leaf.weight.first() {
                z[t.class] += self.learning_rate * w;
            }
        }
        z
    }
}

/// The component.
pub struct HomoSecureBoost;

impl Component for HomoSecureBoost {
    fn module(&self) -> &'static str {
        "HomoSecureBoost"
    }

    fn check_params(
        &self,
        component: &str,
        _role: Role,
        params: &serde_json::Value,
    ) -> Result<(), ComponentError> {
        crate::parse_params::<HomoSecureBoostParam>(component, params)?.check(component)
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let param: HomoSecureBoostParam = crate::parse_params(&ctx.component_name, &ctx.params)?;
        param.check(&ctx.component_name)?;
        crate::preprocess::sample_weight::refuse_weights(ctx, "HomoSecureBoost")?;
        match ctx.local.role {
            Role::Guest | Role::Host => client::run(ctx, &param),
            Role::Arbiter => arbiter::run(ctx, &param),
            other => Err(ComponentError::Failed(format!(
                "HomoSecureBoost has no {other} role"
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
