//! `LocalBaseline`: FATE's local reference model, scikit-learn's
//! `LogisticRegression` trained by one party on its own labelled rows, to
//! compare a federated model against (FATE runs it on the guest; hosts and the
//! arbiter set `need_run: false`). Nothing crosses parties.
//!
//! Parameters (FATE's `LocalBaselineParam`): `model_name`
//! (`LogisticRegression`), `model_opts` (sklearn's keyword arguments, with
//! sklearn's defaults and checks: `penalty`, `C`, `tol`, `fit_intercept`,
//! `intercept_scaling`, `class_weight`, `solver`, `max_iter`, `multi_class`,
//! `l1_ratio`, `dual`, `random_state`, `warm_start`, `verbose`, `n_jobs`),
//! `predict_param.threshold`, `need_run`. [`solver`] says which objective is
//! minimised and how; `dual: true` fails the job (not implemented), an
//! unknown argument fails it naming the argument. `random_state`,
//! `warm_start`, `verbose` and `n_jobs` do not change a fresh fit (fedflow's
//! solvers are deterministic), as in FATE, where every fit is fresh.
//!
//! Row weights: weighted input (SampleWeight upstream) is fitted with its
//! weights, as FATE passes them to sklearn's `fit`; `class_weight` multiplies
//! them.
//!
//! Output: predictions of the train (and validate) rows in FATE's layout;
//! binary scores are sklearn's `predict_proba[:, 1]` against the threshold,
//! multi-class ones the top class of `predict_proba` (one-vs-rest: sigmoids
//! normalised to sum 1, as sklearn; multinomial: softmax). Model: FATE's LR
//! layout (`header`, `weight`, `intercept`, `iters`, `is_converged`, and for
//! more than two classes `one_vs_rest_result` / `classes`, or
//! `multinomial_result`); a predict job scores with it.
//! `need_run: false`: the input passes through, no model.

mod params;
pub(crate) mod solver;

pub use params::{LocalBaselineParam, SklearnLR};

use crate::hetero_lr::{predict_input, prediction_dataset, LinearWeights, LocalData};
use crate::io::{ModelData, Prediction};
use crate::{parse_params, Component, ComponentError, ComponentOutput, TaskContext};
use fedflow_core::Role;
use params::{ClassWeight, MultiClass, Options};
use serde_json::{json, Value};
use solver::{sigmoid, Targets};

/// The component.
pub struct LocalBaseline;

impl Component for LocalBaseline {
    fn module(&self) -> &'static str {
        "LocalBaseline"
    }

    fn check_params(
        &self,
        component: &str,
        _role: Role,
        params: &Value,
    ) -> Result<(), ComponentError> {
        let p: LocalBaselineParam = parse_params(component, params)?;
        p.options(component).map(|_| ())
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let cpn = ctx.component_name.as_str();
        let p: LocalBaselineParam = parse_params(cpn, &ctx.params)?;
        let opts = p.options(cpn)?;
        if !p.need_run {
            return Ok(ComponentOutput::passthrough(ctx));
        }
        if ctx.local.role == Role::Arbiter {
            return Ok(ComponentOutput::default());
        }
        let threshold = p.predict_param.threshold;
        if ctx.job_type == "predict" || ctx.inputs.first("train_data").is_none() {
            let model = ctx.inputs.model("LocalBaseline").ok_or_else(|| {
                ComponentError::Input(format!(
                    "{cpn}: no train_data and no LocalBaseline model input"
                ))
            })?;
            let fitted = Model::from_model(model)?;
            let data = LocalData::load(predict_input(ctx)?)?;
            let rows = fitted.predict(cpn, &data, threshold, "test")?;
            let out = prediction_dataset(ctx, rows, &data.schema.sid, data.partitions)?;
            return Ok(ComponentOutput {
                summary: json!({"rows": data.ids.len()}),
                data: vec![out],
                model: Some(model.clone()),
            });
        }
        let train = ctx
            .inputs
            .first("train_data")
            .ok_or_else(|| ComponentError::Input(format!("{cpn}: no train_data")))?;
        let weighted = crate::preprocess::sample_weight::is_weighted(&train.schema);
        let data = LocalData::load(train)?;
        let model = train_model(cpn, &data, weighted, &opts)?;
        let mut rows = model.predict(cpn, &data, threshold, "train")?;
        if let Some(v) = ctx.inputs.first("validate_data") {
            let v = LocalData::load(v)?;
            rows.extend(model.predict(cpn, &v, threshold, "validate")?);
        }
        let out = prediction_dataset(ctx, rows, &data.schema.sid, data.partitions)?;
        let meta = json!({
            "penalty": opts.penalty_name,
            "tol": opts.spec.tol,
            "C": opts.spec.c,
            "fit_intercept": opts.spec.fit_intercept,
            "optimizer": opts.solver,
            "need_one_vs_rest": model.mode == Mode::Ovr,
            "multi_class": match model.mode { Mode::Multinomial => "multinomial", _ => "ovr" },
            "max_iter": opts.spec.max_iter,
            "predict_param": {"threshold": threshold},
            "model_opts": p.model_opts,
        });
        Ok(ComponentOutput {
            summary: model.summary(),
            data: vec![out],
            model: Some(ModelData {
                module: "LocalBaseline".into(),
                meta,
                param: model.param(),
            }),
        })
    }
}

/// How the model scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Binary,
    Ovr,
    Multinomial,
}

/// A fitted or loaded model.
struct Model {
    mode: Mode,
    /// The label values, sorted (binary: `[negative, positive]`).
    classes: Vec<f64>,
    /// One per output (binary: 1; one-vs-rest and multinomial: per class).
    weights: Vec<LinearWeights>,
    iters: usize,
    converged: bool,
}

/// Trains on `data`'s labelled rows.
fn train_model(
    cpn: &str,
    data: &LocalData,
    weighted: bool,
    opts: &Options,
) -> Result<Model, ComponentError> {
    if data.ids.is_empty() {
        return Err(ComponentError::Input(format!("{cpn}: empty train_data")));
    }
    if data.schema.header.is_empty() {
        return Err(ComponentError::Input(format!(
            "{cpn}: train_data has no features"
        )));
    }
    let mut labels = Vec::with_capacity(data.rows.len());
    let mut x = Vec::with_capacity(data.rows.len());
    for (id, r) in data.ids.iter().zip(&data.rows) {
        let y = r.label.ok_or_else(|| {
            ComponentError::Input(format!(
                "{cpn}: row {id} has no label (LocalBaseline trains on labelled rows: \
                 DataTransform with_label on this party, or need_run: false)"
            ))
        })?;
        if !y.is_finite() {
            return Err(ComponentError::Input(format!(
                "{cpn}: row {id}: label {y} is not a number"
            )));
        }
        if let Some(v) = r.features.iter().find(|v| !v.is_finite()) {
            return Err(ComponentError::Input(format!(
                "{cpn}: row {id}: feature value {v} (sklearn refuses NaN: fill missing values \
                 first, e.g. FeatureImputation)"
            )));
        }
        labels.push(y);
        x.push(r.features.clone());
    }
    let mut classes = labels.clone();
    classes.sort_by(f64::total_cmp);
    classes.dedup();
    if classes.len() < 2 {
        return Err(ComponentError::Input(format!(
            "{cpn}: the labels hold one class ({:?}); LogisticRegression needs at least 2",
            classes.first()
        )));
    }
    let class_of: Vec<usize> = labels
        .iter()
        .map(|y| classes.partition_point(|c| c < y))
        .collect();
    // Row weights: the input's (SampleWeight) times the class weights.
    let mut s: Vec<f64> = data
        .rows
        .iter()
        .map(|r| if weighted { r.weight } else { 1.0 })
        .collect();
    let cw: Vec<f64> = match &opts.class_weight {
        ClassWeight::None => vec![1.0; classes.len()],
        ClassWeight::Balanced => {
            let mut n = vec![0usize; classes.len()];
            class_of.iter().for_each(|&c| n[c] += 1);
            let total = labels.len() as f64;
            n.iter()
                .map(|&nc| total / (classes.len() as f64 * nc as f64))
                .collect()
        }
        ClassWeight::Given(g) => classes
            .iter()
            .map(|c| g.iter().find(|(l, _)| l == c).map(|p| p.1).unwrap_or(1.0))
            .collect(),
    };
    if let ClassWeight::Given(g) = &opts.class_weight {
        if let Some((l, _)) = g.iter().find(|(l, _)| !classes.contains(l)) {
            return Err(ComponentError::Param {
                path: format!("{cpn}.model_opts.class_weight"),
                message: format!("label {l} is not among the data's classes {classes:?}"),
            });
        }
    }
    for (si, &c) in s.iter_mut().zip(&class_of) {
        *si *= cw[c];
    }
    if !s.iter().any(|&w| w > 0.0) {
        return Err(ComponentError::Input(format!("{cpn}: every row weighs 0")));
    }
    let header = &data.schema.header;
    let fit_b = opts.spec.fit_intercept;
    let k = classes.len();
    let (mode, fits) = match opts.multi_class(k) {
        MultiClass::Multinomial => {
            let f = solver::fit(&x, &Targets::Classes(&class_of, k), &s, &opts.spec);
            (Mode::Multinomial, vec![f])
        }
        MultiClass::Ovr if k == 2 => {
            let t: Vec<f64> = class_of.iter().map(|&c| c as f64).collect();
            (
                Mode::Binary,
                vec![solver::fit(&x, &Targets::Binary(&t), &s, &opts.spec)],
            )
        }
        MultiClass::Ovr => {
            let fits = (0..k)
                .map(|cls| {
                    let t: Vec<f64> = class_of
                        .iter()
                        .map(|&c| if c == cls { 1.0 } else { 0.0 })
                        .collect();
                    solver::fit(&x, &Targets::Binary(&t), &s, &opts.spec)
                })
                .collect::<Vec<_>>();
            (Mode::Ovr, fits)
        }
    };
    // sklearn's n_iter_ for one-vs-rest is per class; FATE reports the first.
    let iters = fits.iter().map(|f| f.n_iter).max().unwrap_or(0);
    let converged = fits.iter().all(|f| f.converged);
    let weights = fits
        .iter()
        .flat_map(|f| {
            f.coef
                .iter()
                .zip(&f.intercept)
                .map(|(w, &b)| LinearWeights::new(header, w, b, fit_b))
        })
        .collect();
    tracing::info!(
        "LocalBaseline: {mode:?} over {k} classes, {iters} iterations, converged {converged}"
    );
    Ok(Model {
        mode,
        classes,
        weights,
        iters,
        converged,
    })
}

impl Model {
    fn param(&self) -> Value {
        let base = |w: &LinearWeights| {
            json!({
                "header": w.header,
                "weight": w.weight,
                "intercept": w.intercept,
                "fit_intercept": w.fit_intercept,
                "iters": self.iters,
                "is_converged": self.converged,
                "best_iteration": -1,
            })
        };
        match self.mode {
            Mode::Binary => {
                let mut v = base(&self.weights[0]);
                v["classes"] = json!(self.classes);
                v
            }
            Mode::Ovr | Mode::Multinomial => {
                let key = if self.mode == Mode::Ovr {
                    "one_vs_rest_result"
                } else {
                    "multinomial_result"
                };
                json!({
                    "need_one_vs_rest": self.mode == Mode::Ovr,
                    "header": self.weights[0].header,
                    "classes": self.classes,
                    "one_vs_rest_classes": self.classes.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                    key: self.weights,
                    "iters": self.iters,
                    "is_converged": self.converged,
                })
            }
        }
    }

    fn summary(&self) -> Value {
        let one = |w: &LinearWeights| {
            json!({
                "coef": w.weight,
                "intercept": w.intercept,
                "is_converged": self.converged,
                "iters": self.iters,
            })
        };
        match self.mode {
            Mode::Binary => {
                let mut v = one(&self.weights[0]);
                v["one_vs_rest"] = json!(false);
                v
            }
            _ => {
                let mut m = serde_json::Map::new();
                for (c, w) in self.classes.iter().zip(&self.weights) {
                    m.insert(c.to_string(), one(w));
                }
                m.insert("one_vs_rest".into(), json!(self.mode == Mode::Ovr));
                m.insert("multinomial".into(), json!(self.mode == Mode::Multinomial));
                Value::Object(m)
            }
        }
    }

    fn from_model(model: &ModelData) -> Result<Self, ComponentError> {
        let bad = |what: &str| ComponentError::Input(format!("LocalBaseline model param: {what}"));
        let p = &model.param;
        let num = |k: &str| p.get(k).and_then(|v| v.as_u64()).unwrap_or(0) as usize;
        let iters = num("iters");
        let converged = p
            .get("is_converged")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let classes: Vec<f64> = match p.get("classes") {
            Some(c) => {
                serde_json::from_value(c.clone()).map_err(|e| bad(&format!("classes: {e}")))?
            }
            None => vec![0.0, 1.0],
        };
        let (mode, weights) = if let Some(list) = p.get("multinomial_result") {
            (
                Mode::Multinomial,
                serde_json::from_value(list.clone()).map_err(|e| bad(&e.to_string()))?,
            )
        } else if let Some(list) = p.get("one_vs_rest_result") {
            (
                Mode::Ovr,
                serde_json::from_value(list.clone()).map_err(|e| bad(&e.to_string()))?,
            )
        } else {
            (
                Mode::Binary,
                vec![serde_json::from_value(p.clone()).map_err(|e| bad(&e.to_string()))?],
            )
        };
        let want = if mode == Mode::Binary {
            1
        } else {
            classes.len()
        };
        if weights.len() != want || classes.len() < 2 {
            return Err(bad(&format!(
                "{} weight sets for {} classes",
                weights.len(),
                classes.len()
            )));
        }
        Ok(Model {
            mode,
            classes,
            weights,
            iters,
            converged,
        })
    }

    /// sklearn's `predict_proba` per row, in FATE's prediction layout.
    fn predict(
        &self,
        cpn: &str,
        data: &LocalData,
        threshold: f64,
        kind: &str,
    ) -> Result<Vec<(String, Prediction)>, ComponentError> {
        let ws: Vec<Vec<f64>> = self
            .weights
            .iter()
            .map(|w| {
                data.schema
                    .header
                    .iter()
                    .map(|h| {
                        w.weight.get(h).copied().ok_or_else(|| {
                            ComponentError::Input(format!(
                                "{cpn}: the LocalBaseline model has no weight for feature {h}"
                            ))
                        })
                    })
                    .collect::<Result<Vec<f64>, _>>()
            })
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(data.ids.len());
        for (id, r) in data.ids.iter().zip(&data.rows) {
            if let Some(v) = r.features.iter().find(|v| !v.is_finite()) {
                return Err(ComponentError::Input(format!(
                    "{cpn}: row {id}: feature value {v} (fill missing values first)"
                )));
            }
            let z: Vec<f64> = ws
                .iter()
                .zip(&self.weights)
                .map(|(w, lw)| crate::hetero_lr::dot(&r.features, w) + lw.intercept)
                .collect();
            let label = r.label.unwrap_or(f64::NAN);
            let probs: Vec<f64> = match self.mode {
                Mode::Binary => {
                    let s = sigmoid(z[0]);
                    vec![1.0 - s, s]
                }
                Mode::Ovr => {
                    let sg: Vec<f64> = z.iter().map(|&v| sigmoid(v)).collect();
                    let t: f64 = sg.iter().sum();
                    sg.iter().map(|v| v / t).collect()
                }
                Mode::Multinomial => {
                    let mx = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let e: Vec<f64> = z.iter().map(|v| (v - mx).exp()).collect();
                    let t: f64 = e.iter().sum();
                    e.iter().map(|v| v / t).collect()
                }
            };
            let detail: serde_json::Map<String, Value> = self
                .classes
                .iter()
                .zip(&probs)
                .map(|(c, v)| (c.to_string(), json!(v)))
                .collect();
            let (result, score) = if self.classes.len() == 2 {
                // Binary: the positive class's score against the threshold.
                let s = probs[1];
                (self.classes[usize::from(s > threshold)], s)
            } else {
                let (bi, bp) =
                    probs
                        .iter()
                        .enumerate()
                        .fold(
                            (0, f64::NEG_INFINITY),
                            |a, (c, &v)| if v > a.1 { (c, v) } else { a },
                        );
                (self.classes[bi], bp)
            };
            let p = Prediction {
                label,
                predict_result: result,
                predict_score: score,
                predict_detail: Value::Object(detail).to_string(),
                kind: kind.to_string(),
            };
            out.push((id.clone(), p));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
