//! `HomoLR`: FATE 1.11's horizontal logistic regression (FedAvg over a
//! `Linear + Sigmoid` model trained with PyTorch's optimizers and BCE loss).
//! Guest and hosts hold rows of the same features, each with labels; the
//! arbiter only ever sees securely aggregated sums ([`super::aggregator`]).
//!
//! Setup (tag `""`): each client sends `homo_lr_meta` (whether it trains,
//! its label classes, feature count, warm-start epochs and the schedule
//! parameters) to the arbiter; the arbiter checks the clients agree and
//! answers `homo_lr_plan`: the union of the classes (FATE's label alignment
//! for one-vs-rest), or the error every party then fails with.
//!
//! Per model (one, or one per class for one-vs-rest with more than two
//! classes; aggregator prefix `homo_lr.c{class}`), per epoch `e`:
//! 1. each client trains one local epoch: mini-batches of its rows (full
//!    batch with `batch_size: -1`), shuffled per epoch from a fixed seed,
//!    BCE loss, gradient `(p − y)·x / |batch|`, the penalty (`L2`: PyTorch's
//!    `weight_decay = alpha` on every parameter), FedProx's `mu·(w − w_global)`
//!    with `use_proximal`, one optimizer step at `lr_at(k)` (`k` counts
//!    steps, as FATE's `LambdaLR`);
//! 2. every `aggregate_iters` epochs, aggregation round `2e`: each client
//!    sends `[w, b, epoch loss]` weighted by its row count through secure
//!    aggregation; every party receives the weighted mean and continues from
//!    it; with early stopping, round `2e + 1` aggregates the clients'
//!    validation metric (weighted by validation rows);
//! 3. the arbiter checks convergence (`early_stop`/`tol` on the aggregated
//!    loss or model, and `early_stopping_rounds` on the aggregated metric)
//!    and sends `homo_lr_converge` (tag `c{class}.{e}`).
//!
//! Every client ends with the aggregated model and predicts its own rows
//! (train, validate); a predict job scores each party's rows locally.
//!
//! Differences from FATE 1.11, all deliberate: FATE's trainer ignores
//! `early_stop`/`tol`, `penalty` (always `weight_decay = alpha`),
//! `use_proximal` and `early_stopping_rounds`; fedflow honours them as the
//! parameters describe. fedflow computes in f64 (FATE's torch model is f32)
//! and shuffles from a seed (`init_param.random_seed`, else 0).

mod arbiter;
mod client;
mod params;

pub use params::{HomoLRParam, PredictParam};

use crate::hetero_lr::{logistic_prediction, LinearWeights, LocalData};
use crate::io::{ModelData, Prediction};
use crate::{Component, ComponentError, ComponentOutput, TaskContext};
use fedflow_core::Role;
use fedflow_federation::TransferVariable;
use serde::{Deserialize, Serialize};

/// Client → arbiter: what the client will do.
pub const HOMO_LR_META: TransferVariable =
    TransferVariable::new("homo_lr_meta", &[Role::Guest, Role::Host], &[Role::Arbiter]);
/// Arbiter → clients: the aligned classes, or why the job cannot run.
pub const HOMO_LR_PLAN: TransferVariable =
    TransferVariable::new("homo_lr_plan", &[Role::Arbiter], &[Role::Guest, Role::Host]);
/// Arbiter → clients, per aggregation round: stop or go on.
pub const HOMO_LR_CONVERGE: TransferVariable = TransferVariable::new(
    "homo_lr_converge",
    &[Role::Arbiter],
    &[Role::Guest, Role::Host],
);

/// `homo_lr_meta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Meta {
    /// Trains (false: predicts with a model input).
    pub train: bool,
    /// The client's label classes, sorted.
    pub classes: Vec<f64>,
    /// Feature count.
    pub n_features: usize,
    /// Warm start: the epoch each model resumes at (empty without a model).
    pub start: Vec<u32>,
    /// Schedule parameters every party must share.
    pub schedule: Schedule,
    /// Why this client cannot train (the arbiter fails every party with it).
    pub error: Option<String>,
}

/// What must be equal on every party for the rounds to line up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Schedule {
    pub max_iter: u32,
    pub aggregate_iters: u32,
    pub validation_freqs: Option<u32>,
    pub early_stopping_rounds: Option<u32>,
}

impl Schedule {
    pub(crate) fn of(p: &HomoLRParam) -> Self {
        Schedule {
            max_iter: p.max_iter,
            aggregate_iters: p.aggregate_iters,
            validation_freqs: p.validation_freqs(),
            early_stopping_rounds: p.early_stopping_rounds(),
        }
    }
    /// Whether epoch `e` (0-based) ends with an aggregation.
    pub(crate) fn aggregates(&self, e: u32) -> bool {
        (e + 1).is_multiple_of(self.aggregate_iters)
    }
    /// Whether epoch `e` validates.
    pub(crate) fn validates(&self, e: u32) -> bool {
        self.validation_freqs
            .is_some_and(|f| (e + 1).is_multiple_of(f))
    }
    /// Whether aggregation round of epoch `e` carries the validation metric.
    pub(crate) fn stop_round(&self, e: u32) -> bool {
        self.early_stopping_rounds.is_some() && self.aggregates(e) && self.validates(e)
    }
}

/// `homo_lr_plan`: the classes of every client, united, or the error.
pub(crate) type Plan = Result<Vec<f64>, String>;

/// `homo_lr_converge`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Flag {
    /// Stop training.
    pub stop: bool,
    /// The aggregated validation metric improved this round (early stopping).
    pub improved: bool,
    /// Stopped by early stopping: go back to the best model.
    pub early: bool,
}

/// The component.
pub struct HomoLR;

impl Component for HomoLR {
    fn module(&self) -> &'static str {
        "HomoLR"
    }

    fn check_params(
        &self,
        component: &str,
        _role: Role,
        params: &serde_json::Value,
    ) -> Result<(), ComponentError> {
        crate::parse_params::<HomoLRParam>(component, params)?.check(component)
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let param: HomoLRParam = crate::parse_params(&ctx.component_name, &ctx.params)?;
        param.check(&ctx.component_name)?;
        crate::preprocess::sample_weight::refuse_weights(ctx, "HomoLR")?;
        match ctx.local.role {
            Role::Guest | Role::Host => client::run(ctx, &param),
            Role::Arbiter => arbiter::run(ctx, &param),
            other => Err(ComponentError::Failed(format!(
                "HomoLR has no {other} role"
            ))),
        }
    }
}

/// The one-vs-rest targets of class model `cls` (`classes` has more than
/// two values), or the 0/1 labels of a binary model.
pub(crate) fn targets(labels: &[f64], classes: &[f64], cls: usize) -> Vec<f64> {
    if classes.len() > 2 {
        let c = classes[cls];
        labels
            .iter()
            .map(|&y| if y == c { 1.0 } else { 0.0 })
            .collect()
    } else {
        labels.to_vec()
    }
}

/// Scores rows with one model, or one per class (one-vs-rest).
pub(crate) fn predict_rows(
    data: &LocalData,
    models: &[LinearWeights],
    classes: Option<&[f64]>,
    threshold: f64,
    kind: &str,
) -> Vec<(String, Prediction)> {
    let all: Vec<usize> = (0..data.ids.len()).collect();
    let zs: Vec<Vec<f64>> = models
        .iter()
        .map(|m| data.dot(&all, &m.ordered(), m.intercept))
        .collect();
    data.ids
        .iter()
        .zip(&data.rows)
        .enumerate()
        .map(|(i, (id, r))| {
            let label = r.label.unwrap_or(f64::NAN);
            let z: Vec<f64> = zs.iter().map(|zc| zc[i]).collect();
            let p = logistic_prediction(label, &z, classes, threshold, kind);
            (id.clone(), p)
        })
        .collect()
}

/// A HomoLR model read back: weights per class model, the classes
/// (one-vs-rest), the epochs each model was trained for.
pub(crate) type ModelWeights = (Vec<LinearWeights>, Option<Vec<f64>>, Vec<u32>);

/// The model input's weights (one per class for one-vs-rest), the classes,
/// and the epochs each was trained for.
pub(crate) fn model_weights(model: &ModelData) -> Result<ModelWeights, ComponentError> {
    let (ws, classes) = LinearWeights::all_from_model(model)?;
    let it = |v: &serde_json::Value| v.as_u64().unwrap_or(0) as u32;
    let iters = match model.param.get("iters") {
        Some(serde_json::Value::Array(a)) => a.iter().map(it).collect(),
        Some(v) => vec![it(v); ws.len()],
        None => vec![0; ws.len()],
    };
    if iters.len() != ws.len() {
        return Err(ComponentError::Input(format!(
            "HomoLR model: {} class models, {} iteration counts",
            ws.len(),
            iters.len()
        )));
    }
    Ok((ws, classes, iters))
}

#[cfg(test)]
mod tests;
