//! FATE 1.11's `HomoLogisticParam`: names and defaults as FATE's. Every key
//! FATE accepts is accepted; unknown keys and values fedflow cannot honour
//! fail the job naming the parameter.

use crate::hetero_lr::InitParam;
use crate::ComponentError;
use serde::{Deserialize, Serialize};

/// FATE's `EncryptParam` as HomoLR takes it (`method` defaults to none).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HomoEncryptParam {
    /// `null` (secure aggregation, FATE 1.11's only HomoLR mode) or `Paillier`.
    pub method: Option<String>,
    /// Key length (unused without Paillier).
    pub key_length: Option<u32>,
}

/// FATE's `CrossValidationParam`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CvParam {
    /// Folds.
    pub n_splits: Option<u32>,
    /// Task mode.
    pub mode: Option<String>,
    /// Role.
    pub role: Option<String>,
    /// Shuffle before splitting.
    pub shuffle: Option<bool>,
    /// Seed.
    pub random_seed: Option<u64>,
    /// Run cross validation instead of training.
    pub need_cv: bool,
    /// Output each fold's predictions.
    pub output_fold_history: Option<bool>,
    /// Per-fold history.
    pub history_value_type: Option<String>,
}

/// FATE's `PredictParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PredictParam {
    /// Score above which a row is predicted positive.
    pub threshold: f64,
}

impl Default for PredictParam {
    fn default() -> Self {
        PredictParam { threshold: 0.5 }
    }
}

/// FATE's `CallbackParam`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallbackParam {
    /// `EarlyStopping`, `ModelCheckpoint`, `PerformanceEvaluate`.
    pub callbacks: Vec<String>,
    /// Validate every n epochs (when the top-level one is unset).
    pub validation_freqs: Option<u32>,
    /// Stop after n validations without improvement (when the top-level one is unset).
    pub early_stopping_rounds: Option<u32>,
    /// Validation metrics.
    pub metrics: Option<Vec<String>>,
    /// Early stopping on the first metric only.
    pub use_first_metric_only: Option<bool>,
    /// `ModelCheckpoint` every n epochs (FATE: an int or `"epoch"` = 1).
    pub save_freq: Option<serde_json::Value>,
}

/// FATE's `HomoLogisticParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HomoLRParam {
    /// `L2` (default: PyTorch's `weight_decay = alpha`), `L1` (subgradient
    /// `alpha·sign(w)`) or `none`.
    pub penalty: Option<String>,
    /// Tolerance of the arbiter's convergence check.
    pub tol: f64,
    /// Regularisation strength.
    pub alpha: f64,
    /// `rmsprop` (default), `sgd`, `adam`, `adagrad`, `nesterov_momentum_sgd`.
    pub optimizer: String,
    /// Mini-batch size, -1 = full batch.
    pub batch_size: i64,
    /// Initial learning rate.
    pub learning_rate: f64,
    /// Initialisation.
    pub init_param: InitParam,
    /// Epochs.
    pub max_iter: u32,
    /// The arbiter's convergence check on the aggregated model: `diff`
    /// (loss change < tol), `abs` (loss < tol) or `weight_diff` (L2 norm of
    /// the model's change < tol).
    pub early_stop: String,
    /// Encryption: none (secure aggregation).
    pub encrypt_param: HomoEncryptParam,
    /// FATE's Paillier re-encryption period (accepted; Paillier mode is refused).
    pub re_encrypt_batches: u32,
    /// Prediction threshold.
    pub predict_param: PredictParam,
    /// Cross validation (`need_cv: true` is refused).
    pub cv_param: CvParam,
    /// Learning-rate decay per optimizer step (FATE's `LambdaLR`).
    pub decay: f64,
    /// `lr / sqrt(1 + decay·k)` if true, else `lr / (1 + decay·k)`.
    pub decay_sqrt: bool,
    /// Aggregate every n epochs.
    pub aggregate_iters: u32,
    /// `ovr` (one-vs-rest for more than two classes).
    pub multi_class: String,
    /// Validate every n epochs.
    pub validation_freqs: Option<u32>,
    /// Stop after n validations without improvement of the aggregated metric.
    pub early_stopping_rounds: Option<u32>,
    /// Validation metrics (`auc`, `ks`).
    pub metrics: Vec<String>,
    /// Early stopping on the first metric only (fedflow always uses the first).
    pub use_first_metric_only: bool,
    /// FedProx: add `mu/2·‖w − w_global‖²` to the local objective.
    pub use_proximal: bool,
    /// FedProx's `mu`.
    pub mu: f64,
    /// Callbacks.
    pub callback_param: CallbackParam,
    /// LogisticParam keys HomoLR inherits and does not use (accepted when
    /// left at FATE's defaults).
    pub shuffle: Option<bool>,
    /// See `shuffle`.
    pub batch_strategy: Option<String>,
    /// See `shuffle`.
    pub masked_rate: Option<f64>,
    /// See `shuffle`.
    pub floating_point_precision: Option<u32>,
    /// See `shuffle` (`need_stepwise: true` is refused).
    pub stepwise_param: Option<serde_json::Value>,
}

impl Default for HomoLRParam {
    fn default() -> Self {
        HomoLRParam {
            penalty: Some("L2".into()),
            tol: 1e-4,
            alpha: 1.0,
            optimizer: "rmsprop".into(),
            batch_size: -1,
            learning_rate: 0.01,
            init_param: InitParam::default(),
            max_iter: 100,
            early_stop: "diff".into(),
            encrypt_param: HomoEncryptParam::default(),
            re_encrypt_batches: 2,
            predict_param: PredictParam::default(),
            cv_param: CvParam::default(),
            decay: 1.0,
            decay_sqrt: true,
            aggregate_iters: 1,
            multi_class: "ovr".into(),
            validation_freqs: None,
            early_stopping_rounds: None,
            metrics: vec!["auc".into(), "ks".into()],
            use_first_metric_only: false,
            use_proximal: false,
            mu: 0.1,
            callback_param: CallbackParam::default(),
            shuffle: None,
            batch_strategy: None,
            masked_rate: None,
            floating_point_precision: None,
            stepwise_param: None,
        }
    }
}

/// Regularisation as HomoLR applies it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Reg {
    /// None.
    None,
    /// `weight_decay = alpha` (every parameter, as PyTorch).
    L2(f64),
    /// `alpha·sign(w)` on the coefficients.
    L1(f64),
}

impl HomoLRParam {
    /// The regularisation.
    pub(crate) fn reg(&self) -> Reg {
        match self
            .penalty
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            Some("L2") => Reg::L2(self.alpha),
            Some("L1") => Reg::L1(self.alpha),
            _ => Reg::None,
        }
    }

    /// Learning rate at optimizer step `k` (0 = the first batch).
    pub(crate) fn lr_at(&self, k: u64) -> f64 {
        let k = k as f64;
        if self.decay_sqrt {
            self.learning_rate / (1.0 + self.decay * k).sqrt()
        } else {
            self.learning_rate / (1.0 + self.decay * k)
        }
    }

    /// Validation period: the top-level value, else the callback's.
    pub(crate) fn validation_freqs(&self) -> Option<u32> {
        self.validation_freqs
            .or(self.callback_param.validation_freqs)
    }

    /// Early-stopping rounds: the top-level value, else the callback's when
    /// `EarlyStopping` is listed.
    pub(crate) fn early_stopping_rounds(&self) -> Option<u32> {
        self.early_stopping_rounds.or_else(|| {
            self.callback_param
                .callbacks
                .iter()
                .any(|c| c == "EarlyStopping")
                .then_some(self.callback_param.early_stopping_rounds)
                .flatten()
        })
    }

    /// The metric early stopping watches: the first of `metrics`.
    pub(crate) fn stop_metric(&self) -> &str {
        self.callback_param
            .metrics
            .as_ref()
            .and_then(|m| m.first())
            .or(self.metrics.first())
            .map(String::as_str)
            .unwrap_or("auc")
    }

    /// `ModelCheckpoint`'s period in epochs (None: no checkpoints).
    pub(crate) fn checkpoint_every(&self) -> Option<u32> {
        if !self
            .callback_param
            .callbacks
            .iter()
            .any(|c| c == "ModelCheckpoint")
        {
            return None;
        }
        match &self.callback_param.save_freq {
            Some(serde_json::Value::Number(n)) => n.as_u64().map(|v| v.max(1) as u32),
            _ => Some(1),
        }
    }

    /// FATE's checks plus every value fedflow cannot honour.
    pub(crate) fn check(&self, component: &str) -> Result<(), ComponentError> {
        let bad = |path: &str, message: String| ComponentError::Param {
            path: format!("{component}.{path}"),
            message,
        };
        if crate::homo::optim::TorchOptimizer::new(&self.optimizer, 0.0).is_none() {
            return Err(bad(
                "optimizer",
                format!(
                    "{:?}: expected one of sgd, rmsprop, adam, adagrad, nesterov_momentum_sgd{}",
                    self.optimizer,
                    if self.optimizer == "sqn" {
                        " (FATE's HomoLR has no sqn)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        if !matches!(self.early_stop.as_str(), "diff" | "abs" | "weight_diff") {
            return Err(bad(
                "early_stop",
                format!("{:?}: expected diff, abs or weight_diff", self.early_stop),
            ));
        }
        if let Some(p) = &self.penalty {
            if !matches!(p.to_ascii_uppercase().as_str(), "L1" | "L2" | "NONE") {
                return Err(bad("penalty", format!("{p:?}: expected L1, L2 or none")));
            }
        }
        if self.batch_size != -1 && self.batch_size < 1 {
            return Err(bad(
                "batch_size",
                "expected -1 or a positive integer".into(),
            ));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(bad("learning_rate", "expected a positive number".into()));
        }
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) {
            return Err(bad("alpha", "expected a number >= 0".into()));
        }
        if !(self.decay >= 0.0 && self.decay.is_finite()) {
            return Err(bad("decay", "expected a number >= 0".into()));
        }
        if self.tol.is_nan() || self.tol < 0.0 {
            return Err(bad("tol", "expected a number >= 0".into()));
        }
        if !(self.mu >= 0.0 && self.mu.is_finite()) {
            return Err(bad("mu", "expected a number >= 0".into()));
        }
        if self.max_iter == 0 {
            return Err(bad("max_iter", "expected a positive integer".into()));
        }
        if self.max_iter > 1_000_000 {
            return Err(bad("max_iter", "expected at most 1000000".into()));
        }
        if self.aggregate_iters == 0 {
            return Err(bad("aggregate_iters", "expected a positive integer".into()));
        }
        if !self.multi_class.eq_ignore_ascii_case("ovr") {
            return Err(bad(
                "multi_class",
                format!("{:?}: expected ovr", self.multi_class),
            ));
        }
        if !matches!(
            self.init_param.init_method.as_str(),
            "random_uniform" | "random_normal" | "ones" | "zeros" | "const"
        ) {
            return Err(bad(
                "init_param.init_method",
                "expected random_uniform, random_normal, ones, zeros or const".into(),
            ));
        }
        if let Some(m) = &self.encrypt_param.method {
            return Err(bad(
                "encrypt_param.method",
                if m.eq_ignore_ascii_case("paillier") {
                    "Paillier HomoLR (FATE before 1.11) is not implemented: FATE 1.11's HomoLR \
                     protects updates by secure aggregation; set method to null"
                        .into()
                } else {
                    format!("{m:?}: expected null")
                },
            ));
        }
        if self.cv_param.need_cv {
            return Err(bad(
                "cv_param.need_cv",
                "cross validation is not implemented for HomoLR; set need_cv to false".into(),
            ));
        }
        if let Some(v) = self.validation_freqs() {
            if v == 0 {
                return Err(bad(
                    "validation_freqs",
                    "expected a positive integer".into(),
                ));
            }
        }
        if let Some(r) = self.early_stopping_rounds() {
            if r == 0 {
                return Err(bad(
                    "early_stopping_rounds",
                    "expected a positive integer".into(),
                ));
            }
            if self.validation_freqs().is_none() {
                return Err(bad(
                    "early_stopping_rounds",
                    "validation_freqs must be set when early stopping is enabled".into(),
                ));
            }
        }
        let metrics = self
            .callback_param
            .metrics
            .iter()
            .flatten()
            .chain(&self.metrics);
        for m in metrics {
            if !matches!(m.as_str(), "auc" | "ks") {
                return Err(bad(
                    "metrics",
                    format!("{m:?}: HomoLR validates with auc or ks"),
                ));
            }
        }
        for c in &self.callback_param.callbacks {
            if !matches!(
                c.as_str(),
                "EarlyStopping" | "ModelCheckpoint" | "PerformanceEvaluate"
            ) {
                return Err(bad(
                    "callback_param.callbacks",
                    format!(
                        "{c:?}: expected EarlyStopping, ModelCheckpoint or PerformanceEvaluate"
                    ),
                ));
            }
        }
        match &self.callback_param.save_freq {
            None => {}
            Some(serde_json::Value::String(s)) if s == "epoch" => {}
            Some(serde_json::Value::Number(n)) if n.as_u64().is_some_and(|v| v > 0) => {}
            Some(v) => {
                return Err(bad(
                    "callback_param.save_freq",
                    format!("{v}: expected \"epoch\" or a positive integer"),
                ))
            }
        }
        if self
            .stepwise_param
            .as_ref()
            .and_then(|s| s.get("need_stepwise"))
            .and_then(|v| v.as_bool())
            == Some(true)
        {
            return Err(bad(
                "stepwise_param.need_stepwise",
                "stepwise selection is not implemented for HomoLR".into(),
            ));
        }
        if !(self.predict_param.threshold >= 0.0 && self.predict_param.threshold <= 1.0) {
            return Err(bad(
                "predict_param.threshold",
                "expected a number in [0, 1]".into(),
            ));
        }
        Ok(())
    }

    /// Initial coefficients and intercept (seeded by `init_param.random_seed`,
    /// else 0, so every party starts from the same model).
    pub(crate) fn init_weights(&self, m: usize) -> (Vec<f64>, f64) {
        let lin = crate::hetero_lr::LinearModelParam {
            init_param: self.init_param.clone(),
            ..Default::default()
        };
        lin.init_weights(m, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> Result<HomoLRParam, ComponentError> {
        let p: HomoLRParam = crate::parse_params("homo_lr_0", &v)?;
        p.check("homo_lr_0")?;
        Ok(p)
    }

    #[test]
    fn fate_examples_parse_and_bad_values_are_named() {
        let p = parse(serde_json::json!({
            "penalty": "L2", "tol": 1e-05, "alpha": 0.01, "optimizer": "sgd", "batch_size": -1,
            "learning_rate": 0.15, "init_param": {"init_method": "zeros"}, "max_iter": 1,
            "early_stop": "diff", "encrypt_param": {"method": null},
            "cv_param": {"n_splits": 4, "shuffle": true, "random_seed": 33, "need_cv": false},
            "decay": 1, "decay_sqrt": true,
            "callback_param": {"callbacks": ["ModelCheckpoint", "EarlyStopping"]}
        }))
        .unwrap();
        assert_eq!(p.checkpoint_every(), Some(1));
        assert_eq!(p.early_stopping_rounds(), None);
        let d = HomoLRParam::default();
        assert_eq!(
            (d.optimizer.as_str(), d.tol, d.alpha),
            ("rmsprop", 1e-4, 1.0)
        );
        for (v, path) in [
            (
                serde_json::json!({"optimizer": "sqn"}),
                "homo_lr_0.optimizer",
            ),
            (
                serde_json::json!({"encrypt_param": {"method": "Paillier"}}),
                "homo_lr_0.encrypt_param.method",
            ),
            (
                serde_json::json!({"cv_param": {"need_cv": true}}),
                "homo_lr_0.cv_param.need_cv",
            ),
            (
                serde_json::json!({"early_stopping_rounds": 2}),
                "homo_lr_0.early_stopping_rounds",
            ),
            (
                serde_json::json!({"aggregate_iters": 0}),
                "homo_lr_0.aggregate_iters",
            ),
            (serde_json::json!({"max_iter": 0}), "homo_lr_0.max_iter"),
            (
                serde_json::json!({"learning_rte": 0.1}),
                "homo_lr_0.learning_rte",
            ),
            (
                serde_json::json!({"callback_param": {"callbacks": ["Foo"]}}),
                "homo_lr_0.callback_param.callbacks",
            ),
        ] {
            match parse(v.clone()) {
                Err(ComponentError::Param { path: p, .. }) => assert_eq!(p, path, "{v}"),
                other => panic!("{v}: {other:?}"),
            }
        }
    }
}
