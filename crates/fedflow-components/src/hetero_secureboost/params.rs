//! Parameters with FATE's names and defaults (`HeteroSecureBoostParam`,
//! `DecisionTreeParam`, `ObjectiveParam`, `EncryptParam`).

use crate::hetero_lr::EncryptParam;
use crate::ComponentError;
use serde::{Deserialize, Serialize};

/// FATE's `DecisionTreeParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TreeParam {
    /// `xgboost`.
    pub criterion_method: String,
    /// `[lambda]` (or `[lambda, alpha]`, or `{"l2": lambda}`).
    pub criterion_params: serde_json::Value,
    /// Maximum depth.
    pub max_depth: u32,
    /// Minimum samples to split a node.
    pub min_sample_split: u32,
    /// Minimum gain.
    pub min_impurity_split: f64,
    /// Minimum samples per leaf.
    pub min_leaf_node: u32,
    /// Minimum hessian sum per child.
    pub min_child_weight: f64,
    /// `split` (count) or `gain`.
    pub feature_importance_type: String,
    /// Missing values get their own bin and the better direction at each split.
    pub use_missing: bool,
    /// Zeros count as missing (not implemented: refused when true).
    pub zero_as_missing: bool,
    /// Nodes whose histograms are computed in one batch (memory bound only:
    /// no effect on the model).
    pub max_split_nodes: u32,
    /// FATE's per-tree flag (unused by FATE's trees; accepted).
    pub n_iter_no_change: bool,
    /// FATE's per-tree tolerance (unused by FATE's trees; accepted).
    pub tol: f64,
    /// FATE's deterministic flag (fedflow's trees are always deterministic).
    pub deterministic: bool,
}

impl Default for TreeParam {
    fn default() -> Self {
        TreeParam {
            criterion_method: "xgboost".into(),
            criterion_params: serde_json::json!([0.1]),
            max_depth: 3,
            min_sample_split: 2,
            min_impurity_split: 1e-3,
            min_leaf_node: 1,
            min_child_weight: 0.0,
            feature_importance_type: "split".into(),
            use_missing: false,
            zero_as_missing: false,
            max_split_nodes: 65536,
            n_iter_no_change: true,
            tol: 1e-3,
            deterministic: false,
        }
    }
}

impl TreeParam {
    /// The L2 regulariser λ.
    pub fn lambda(&self) -> f64 {
        match &self.criterion_params {
            serde_json::Value::Array(a) => a.first().and_then(|v| v.as_f64()).unwrap_or(0.1),
            serde_json::Value::Object(o) => o.get("l2").and_then(|v| v.as_f64()).unwrap_or(0.1),
            serde_json::Value::Number(n) => n.as_f64().unwrap_or(0.1),
            _ => 0.1,
        }
    }
}

/// FATE's `ObjectiveParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ObjectiveParam {
    /// `cross_entropy` (classification) or `lse` (regression).
    pub objective: String,
    /// Extra objective parameters (unused).
    pub params: Option<serde_json::Value>,
}

/// The largest `bin_num`: bin indices are stored as `u16`.
pub const MAX_BIN_NUM: u32 = u16::MAX as u32;

impl ObjectiveParam {
    /// FATE's rule: classification takes cross_entropy, regression one of its
    /// regression losses (of which fedflow implements lse).
    pub(crate) fn check(&self, component: &str, task_type: &str) -> Result<(), ComponentError> {
        let o = self.objective.to_ascii_lowercase();
        let message = match (task_type, o.as_str()) {
            ("classification", "cross_entropy") | ("regression", "lse") => return Ok(()),
            ("regression", "lae" | "huber" | "fair" | "log_cosh" | "tweedie") => format!(
                "objective {o} is not implemented (fedflow's regression objective is lse)"
            ),
            ("regression", _) => format!(
                "unknown regression objective {:?}: expected lse (FATE also has lae, huber, fair, log_cosh, tweedie)",
                self.objective
            ),
            _ => format!(
                "objective {:?} is not a classification objective: expected cross_entropy",
                self.objective
            ),
        };
        Err(ComponentError::Param {
            path: format!("{component}.objective_param.objective"),
            message,
        })
    }
}

impl Default for ObjectiveParam {
    fn default() -> Self {
        ObjectiveParam {
            objective: "cross_entropy".into(),
            params: None,
        }
    }
}

/// FATE's `HeteroSecureBoostParam` (std boosting strategy).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct HeteroSecureBoostParam {
    /// `classification` or `regression`.
    pub task_type: String,
    /// Objective.
    pub objective_param: ObjectiveParam,
    /// Boosting rounds.
    pub num_trees: u32,
    /// Shrinkage.
    pub learning_rate: f64,
    /// Tree parameters.
    pub tree_param: TreeParam,
    /// Quantile bins per feature.
    pub bin_num: u32,
    /// Fraction of features per tree.
    pub subsample_feature_rate: f64,
    /// Stop when the loss changes less than `tol`.
    pub n_iter_no_change: bool,
    /// Tolerance.
    pub tol: f64,
    /// Encryption.
    pub encrypt_param: EncryptParam,
    /// Seed.
    pub random_seed: u64,
    /// Pack several split sums per ciphertext before sending them.
    pub cipher_compress: bool,
    /// `std` only.
    pub boosting_strategy: String,
}

impl Default for HeteroSecureBoostParam {
    fn default() -> Self {
        HeteroSecureBoostParam {
            task_type: "classification".into(),
            objective_param: ObjectiveParam::default(),
            num_trees: 5,
            learning_rate: 0.3,
            tree_param: TreeParam::default(),
            bin_num: 32,
            subsample_feature_rate: 1.0,
            n_iter_no_change: true,
            tol: 1e-4,
            encrypt_param: EncryptParam::default(),
            random_seed: 100,
            cipher_compress: true,
            boosting_strategy: "std".into(),
        }
    }
}

impl HeteroSecureBoostParam {
    pub(crate) fn check(&self, component: &str) -> Result<(), ComponentError> {
        let bad = |path: &str, message: &str| ComponentError::Param {
            path: format!("{component}.{path}"),
            message: message.to_string(),
        };
        if !matches!(self.task_type.as_str(), "classification" | "regression") {
            return Err(bad("task_type", "expected classification or regression"));
        }
        if self.num_trees == 0 {
            return Err(bad("num_trees", "expected a positive integer"));
        }
        if self.bin_num < 2 || self.bin_num > MAX_BIN_NUM {
            return Err(bad(
                "bin_num",
                &format!("expected an integer in [2, {MAX_BIN_NUM}] (bins are 16-bit)"),
            ));
        }
        self.objective_param.check(component, &self.task_type)?;
        self.encrypt_param.check(component)?;
        if self.tree_param.max_depth == 0 {
            return Err(bad("tree_param.max_depth", "expected a positive integer"));
        }
        for (flag, name) in [
            (self.tree_param.use_missing, "use_missing"),
            (self.tree_param.zero_as_missing, "zero_as_missing"),
        ] {
            if flag {
                return Err(bad(
                    &format!("tree_param.{name}"),
                    "missing-value handling is not implemented for HeteroSecureBoost (HomoSecureBoost has use_missing)",
                ));
            }
        }
        if !(self.subsample_feature_rate > 0.0 && self.subsample_feature_rate <= 1.0) {
            return Err(bad("subsample_feature_rate", "expected a number in (0, 1]"));
        }
        if self.boosting_strategy != "std" {
            return Err(bad(
                "boosting_strategy",
                "only std is implemented (mix and layered are HeteroFastSecureBoost)",
            ));
        }
        Ok(())
    }

    /// Regression task.
    pub fn is_regression(&self) -> bool {
        self.task_type == "regression"
    }
}
