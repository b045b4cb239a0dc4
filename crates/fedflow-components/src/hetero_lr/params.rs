//! Parameters, with FATE's names and defaults (`LogisticParam`,
//! `LinearParam`, `InitParam`, `EncryptParam`).

use crate::ComponentError;
use serde::{Deserialize, Serialize};

/// FATE's `InitParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct InitParam {
    /// `random_uniform` (default), `random_normal`, `ones`, `zeros`, `const`.
    pub init_method: String,
    /// Value for `const`.
    pub init_const: f64,
    /// Learn an intercept.
    pub fit_intercept: bool,
    /// Seed of random initialisation (none = 0 here, for reproducibility).
    pub random_seed: Option<u64>,
}

impl Default for InitParam {
    fn default() -> Self {
        InitParam {
            init_method: "random_uniform".into(),
            init_const: 1.0,
            fit_intercept: true,
            random_seed: None,
        }
    }
}

/// FATE's `EncryptParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct EncryptParam {
    /// `Paillier` (only one supported).
    pub method: Option<String>,
    /// Key length in bits.
    pub key_length: u32,
}

impl EncryptParam {
    /// `method` is Paillier (any case) or unset; key length as FATE requires.
    pub(crate) fn check(&self, component: &str) -> Result<(), ComponentError> {
        let bad = |path: &str, message: String| ComponentError::Param {
            path: format!("{component}.encrypt_param.{path}"),
            message,
        };
        match self
            .method
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("paillier") => {}
            Some("ipcl") => {
                return Err(bad(
                    "method",
                    "IPCL (Intel's Paillier library) is not implemented; use Paillier".into(),
                ))
            }
            Some(_) => {
                return Err(bad(
                    "method",
                    format!(
                        "unknown encryption method {:?}: expected Paillier",
                        self.method.as_deref().unwrap_or_default()
                    ),
                ))
            }
        }
        if self.key_length < 512 {
            return Err(bad("key_length", "expected at least 512".into()));
        }
        Ok(())
    }
}

impl Default for EncryptParam {
    fn default() -> Self {
        EncryptParam {
            method: Some("Paillier".into()),
            key_length: 1024,
        }
    }
}

/// FATE's `LogisticParam` (HeteroLR) and `LinearParam` (HeteroLinR); the
/// defaults are LR's, [`LinearModelParam::linr_defaults`] gives LinR's.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LinearModelParam {
    /// `L2` (default), `L1` or `none`.
    pub penalty: Option<String>,
    /// Convergence tolerance.
    pub tol: f64,
    /// Regularisation strength.
    pub alpha: f64,
    /// `rmsprop` (LR default), `sgd` (LinR default), `adam`, `adagrad`,
    /// `nesterov_momentum_sgd` (μ = 0.9).
    pub optimizer: String,
    /// Mini-batch size, -1 = full batch.
    pub batch_size: i64,
    /// Shuffle the rows once before cutting batches (FATE's default; fedflow
    /// seeds the shuffle with `init_param.random_seed`, else 0, so runs repeat).
    pub shuffle: bool,
    /// `full` (FATE's default; `random` is accepted and treated as `full`).
    pub batch_strategy: String,
    /// Accepted for compatibility; fedflow sends exact batch ids.
    pub masked_rate: f64,
    /// Initial learning rate.
    pub learning_rate: f64,
    /// Initialisation.
    pub init_param: InitParam,
    /// Maximum iterations (epochs).
    pub max_iter: u32,
    /// `diff` (default), `abs` or `weight_diff`.
    pub early_stop: String,
    /// Encryption.
    pub encrypt_param: EncryptParam,
    /// Learning-rate decay.
    pub decay: f64,
    /// `lr / sqrt(1 + decay·t)` if true, else `lr / (1 + decay·t)`.
    pub decay_sqrt: bool,
    /// `ovr` (one-vs-rest for more than two classes; the only mode).
    pub multi_class: String,
    /// FATE's `floating_point_precision` (accepted; fedflow always uses fixed point).
    pub floating_point_precision: Option<u32>,
}

impl Default for LinearModelParam {
    fn default() -> Self {
        LinearModelParam {
            penalty: Some("L2".into()),
            tol: 1e-4,
            alpha: 1.0,
            optimizer: "rmsprop".into(),
            batch_size: -1,
            shuffle: true,
            batch_strategy: "full".into(),
            masked_rate: 5.0,
            learning_rate: 0.01,
            init_param: InitParam::default(),
            max_iter: 100,
            early_stop: "diff".into(),
            encrypt_param: EncryptParam::default(),
            decay: 1.0,
            decay_sqrt: true,
            multi_class: "ovr".into(),
            floating_point_precision: Some(23),
        }
    }
}

/// Regularisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Penalty {
    /// None.
    None,
    /// L1 (proximal shrinkage by `lr·alpha`).
    L1,
    /// L2 (`alpha·w` added to the gradient).
    L2,
}

impl LinearModelParam {
    /// FATE's `LinearParam` defaults overlaid with the given JSON.
    pub fn linr_from_json(
        component: &str,
        params: &serde_json::Value,
    ) -> Result<Self, ComponentError> {
        let mut base = serde_json::json!({"optimizer": "sgd", "max_iter": 20});
        if let (Some(b), Some(p)) = (base.as_object_mut(), params.as_object()) {
            for (k, v) in p {
                b.insert(k.clone(), v.clone());
            }
        }
        crate::parse_params(component, &base)
    }

    /// The penalty.
    pub fn penalty(&self) -> Penalty {
        match self.penalty.as_deref().map(|s| s.to_ascii_uppercase()) {
            Some(s) if s == "L1" => Penalty::L1,
            Some(s) if s == "L2" => Penalty::L2,
            _ => Penalty::None,
        }
    }

    /// Learning rate at iteration `t` (FATE's `decay_learning_rate`).
    pub fn lr_at(&self, t: u32) -> f64 {
        let t = t as f64;
        if self.decay_sqrt {
            self.learning_rate / (1.0 + self.decay * t).sqrt()
        } else {
            self.learning_rate / (1.0 + self.decay * t)
        }
    }

    /// Row indices per batch over `n` id-sorted rows: shuffled once (when
    /// `shuffle`), then cut into consecutive batches of `batch_size`.
    pub fn batches(&self, n: usize) -> Vec<Vec<usize>> {
        use rand::seq::SliceRandom;
        use rand::SeedableRng;
        let mut order: Vec<usize> = (0..n).collect();
        let bs = if self.batch_size < 0 || self.batch_size as usize >= n {
            n
        } else {
            self.batch_size as usize
        };
        if self.shuffle && bs < n {
            let mut rng =
                rand_chacha::ChaCha8Rng::seed_from_u64(self.init_param.random_seed.unwrap_or(0));
            order.shuffle(&mut rng);
        }
        order.chunks(bs.max(1)).map(|c| c.to_vec()).collect()
    }

    pub(crate) fn check(&self, component: &str) -> Result<(), ComponentError> {
        let bad = |path: &str, message: &str| ComponentError::Param {
            path: format!("{component}.{path}"),
            message: message.to_string(),
        };
        if !matches!(
            self.optimizer.as_str(),
            "sgd" | "rmsprop" | "adam" | "adagrad" | "nesterov_momentum_sgd"
        ) {
            return Err(bad(
                "optimizer",
                "expected one of sgd, rmsprop, adam, adagrad, nesterov_momentum_sgd",
            ));
        }
        if !matches!(self.early_stop.as_str(), "diff" | "abs" | "weight_diff") {
            return Err(bad("early_stop", "expected one of diff, abs, weight_diff"));
        }
        if self.batch_size != -1 && self.batch_size < 10 {
            return Err(bad("batch_size", "expected -1 or an integer >= 10"));
        }
        if self.learning_rate.is_nan() || self.learning_rate <= 0.0 {
            return Err(bad("learning_rate", "expected a positive number"));
        }
        if let Some(p) = &self.penalty {
            let p = p.to_ascii_uppercase();
            if !matches!(p.as_str(), "L1" | "L2" | "NONE") {
                return Err(bad("penalty", "expected L1, L2 or none"));
            }
        }
        if !matches!(
            self.init_param.init_method.as_str(),
            "random_uniform" | "random_normal" | "ones" | "zeros" | "const"
        ) {
            return Err(bad(
                "init_param.init_method",
                "expected random_uniform, random_normal, ones, zeros or const",
            ));
        }
        if self.max_iter == 0 {
            return Err(bad("max_iter", "expected a positive integer"));
        }
        self.encrypt_param.check(component)?;
        Ok(())
    }

    /// Initial weights (`n` coefficients, plus the intercept when fitted).
    pub fn init_weights(&self, n: usize, salt: u64) -> (Vec<f64>, f64) {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
            self.init_param.random_seed.unwrap_or(0).wrapping_add(salt),
        );
        let mut draw = || -> f64 {
            match self.init_param.init_method.as_str() {
                "zeros" => 0.0,
                "ones" => 1.0,
                "const" => self.init_param.init_const,
                "random_normal" => {
                    // Box-Muller.
                    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
                    let u2: f64 = rng.gen();
                    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
                }
                _ => rng.gen::<f64>(),
            }
        };
        let w: Vec<f64> = (0..n).map(|_| draw()).collect();
        let b = if self.init_param.fit_intercept {
            draw()
        } else {
            0.0
        };
        (w, b)
    }
}
