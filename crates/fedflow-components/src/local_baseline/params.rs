//! FATE's `LocalBaselineParam` and the sklearn `LogisticRegression` options
//! it passes through (`model_opts`), checked as sklearn checks them.

use super::solver::{Penalty, Spec};
use crate::homo::lr::PredictParam;
use crate::preprocess::param_error;
use crate::ComponentError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// FATE's `LocalBaselineParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalBaselineParam {
    /// The sklearn model: `LogisticRegression` (any case), the only one FATE has.
    pub model_name: String,
    /// sklearn `LogisticRegression` keyword arguments.
    pub model_opts: Option<Value>,
    /// FATE's `PredictParam` (`threshold` for binary models).
    pub predict_param: PredictParam,
    /// FATE's `need_run`.
    pub need_run: bool,
}

impl Default for LocalBaselineParam {
    fn default() -> Self {
        LocalBaselineParam {
            model_name: "LogisticRegression".into(),
            model_opts: None,
            predict_param: PredictParam::default(),
            need_run: true,
        }
    }
}

/// sklearn's `LogisticRegression` arguments, with its defaults.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SklearnLR {
    /// `l1`, `l2`, `elasticnet`, `none` (or null).
    pub penalty: Option<String>,
    pub dual: bool,
    pub tol: f64,
    #[serde(rename = "C")]
    pub c: f64,
    pub fit_intercept: bool,
    pub intercept_scaling: f64,
    /// null, `balanced`, or `{label: weight}`.
    pub class_weight: Option<Value>,
    pub random_state: Option<Value>,
    pub solver: String,
    pub max_iter: i64,
    pub multi_class: String,
    pub verbose: i64,
    pub warm_start: bool,
    pub n_jobs: Option<i64>,
    pub l1_ratio: Option<f64>,
}

impl Default for SklearnLR {
    fn default() -> Self {
        SklearnLR {
            penalty: Some("l2".into()),
            dual: false,
            tol: 1e-4,
            c: 1.0,
            fit_intercept: true,
            intercept_scaling: 1.0,
            class_weight: None,
            random_state: None,
            solver: "lbfgs".into(),
            max_iter: 100,
            multi_class: "auto".into(),
            verbose: 0,
            warm_start: false,
            n_jobs: None,
            l1_ratio: None,
        }
    }
}

/// How the classes are modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MultiClass {
    /// One binary model per class (two classes: one model).
    Ovr,
    /// One softmax model over all classes.
    Multinomial,
}

/// Class weights as sklearn's `class_weight`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ClassWeight {
    None,
    Balanced,
    Given(Vec<(f64, f64)>),
}

/// The checked options.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub spec: Spec,
    pub solver: String,
    pub penalty_name: String,
    /// `multi_class` as given (`auto` is resolved once the classes are known).
    pub multi_class: String,
    pub class_weight: ClassWeight,
}

impl Options {
    /// sklearn's `auto`: one-vs-rest for two classes or liblinear, else
    /// multinomial.
    pub(crate) fn multi_class(&self, n_classes: usize) -> MultiClass {
        match self.multi_class.as_str() {
            "ovr" => MultiClass::Ovr,
            "multinomial" => MultiClass::Multinomial,
            _ if n_classes <= 2 || self.solver == "liblinear" => MultiClass::Ovr,
            _ => MultiClass::Multinomial,
        }
    }
}

impl LocalBaselineParam {
    /// Checks the parameters as FATE and sklearn do; the error names the
    /// parameter (`local_baseline_0.model_opts.solver`).
    pub(crate) fn options(&self, cpn: &str) -> Result<Options, ComponentError> {
        if !self.model_name.eq_ignore_ascii_case("logisticregression") {
            return Err(param_error(
                cpn,
                "model_name",
                format!(
                    "'{}': FATE's LocalBaseline has only LogisticRegression",
                    self.model_name
                ),
            ));
        }
        if !(self.predict_param.threshold.is_finite()) {
            return Err(param_error(
                cpn,
                "predict_param.threshold",
                "must be a number".into(),
            ));
        }
        let opts: SklearnLR = match &self.model_opts {
            None | Some(Value::Null) => SklearnLR::default(),
            Some(v @ Value::Object(_)) => serde_json::from_value(v.clone()).map_err(|e| {
                param_error(
                    cpn,
                    "model_opts",
                    format!("{e} (sklearn LogisticRegression's arguments)"),
                )
            })?,
            Some(_) => {
                return Err(param_error(
                    cpn,
                    "model_opts",
                    "must be None or dict".into(),
                ))
            }
        };
        let err = |field: &str, msg: String| param_error(cpn, &format!("model_opts.{field}"), msg);
        let solvers = [
            "lbfgs",
            "liblinear",
            "newton-cg",
            "newton-cholesky",
            "sag",
            "saga",
        ];
        if !solvers.contains(&opts.solver.as_str()) {
            return Err(err(
                "solver",
                format!("'{}': expected one of {solvers:?}", opts.solver),
            ));
        }
        let pname = opts.penalty.clone().unwrap_or_else(|| "none".into());
        let allowed: &[&str] = match opts.solver.as_str() {
            "liblinear" => &["l1", "l2"],
            "saga" => &["l1", "l2", "elasticnet", "none"],
            _ => &["l2", "none"],
        };
        if !["l1", "l2", "elasticnet", "none"].contains(&pname.as_str()) {
            return Err(err(
                "penalty",
                format!("'{pname}': expected l1, l2, elasticnet or none"),
            ));
        }
        if !allowed.contains(&pname.as_str()) {
            return Err(err(
                "penalty",
                format!(
                    "solver {} supports only penalties {allowed:?}, got {pname}",
                    opts.solver
                ),
            ));
        }
        let penalty = match pname.as_str() {
            "l1" => Penalty::L1,
            "l2" => Penalty::L2,
            "none" => Penalty::None,
            _ => match opts.l1_ratio {
                Some(r) if (0.0..=1.0).contains(&r) => Penalty::ElasticNet(r),
                other => {
                    return Err(err(
                        "l1_ratio",
                        format!("elasticnet needs l1_ratio between 0 and 1, got {other:?}"),
                    ))
                }
            },
        };
        if opts.dual {
            return Err(err(
                "dual",
                "true (liblinear's dual formulation) is not implemented; dual: false reaches \
                 the same optimum"
                    .into(),
            ));
        }
        if !(opts.c.is_finite() && opts.c > 0.0) {
            return Err(err("C", format!("{}: must be a positive number", opts.c)));
        }
        if !(opts.tol.is_finite() && opts.tol >= 0.0) {
            return Err(err("tol", format!("{}: must be >= 0", opts.tol)));
        }
        if opts.max_iter < 1 {
            return Err(err("max_iter", format!("{}: must be >= 1", opts.max_iter)));
        }
        if !(opts.intercept_scaling.is_finite() && opts.intercept_scaling > 0.0) {
            return Err(err(
                "intercept_scaling",
                format!("{}: must be positive", opts.intercept_scaling),
            ));
        }
        match opts.multi_class.as_str() {
            "auto" | "ovr" => {}
            "multinomial" if opts.solver == "liblinear" => {
                return Err(err(
                    "multi_class",
                    "solver liblinear does not support a multinomial backend".into(),
                ))
            }
            "multinomial" => {}
            other => {
                return Err(err(
                    "multi_class",
                    format!("'{other}': expected auto, ovr or multinomial"),
                ))
            }
        }
        let class_weight = match &opts.class_weight {
            None | Some(Value::Null) => ClassWeight::None,
            Some(Value::String(s)) if s == "balanced" => ClassWeight::Balanced,
            Some(Value::Object(m)) => {
                let mut given = Vec::with_capacity(m.len());
                for (k, v) in m {
                    let label: f64 = k.trim().parse().map_err(|_| {
                        err("class_weight", format!("key '{k}' is not a label value"))
                    })?;
                    let w = v
                        .as_f64()
                        .filter(|w| w.is_finite() && *w >= 0.0)
                        .ok_or_else(|| {
                            err(
                                "class_weight",
                                format!("'{k}': {v} is not a non-negative number"),
                            )
                        })?;
                    given.push((label, w));
                }
                ClassWeight::Given(given)
            }
            Some(other) => {
                return Err(err(
                    "class_weight",
                    format!("{other}: expected null, 'balanced' or a dict label → weight"),
                ))
            }
        };
        if let Some(rs) = &opts.random_state {
            if !(rs.is_null() || rs.is_u64()) {
                return Err(err(
                    "random_state",
                    format!("{rs}: expected null or a non-negative integer"),
                ));
            }
        }
        Ok(Options {
            spec: Spec {
                penalty,
                c: opts.c,
                tol: opts.tol,
                max_iter: opts.max_iter as usize,
                fit_intercept: opts.fit_intercept,
                penalized_intercept: (opts.solver == "liblinear").then_some(opts.intercept_scaling),
            },
            solver: opts.solver,
            penalty_name: pname,
            multi_class: opts.multi_class,
            class_weight,
        })
    }
}
