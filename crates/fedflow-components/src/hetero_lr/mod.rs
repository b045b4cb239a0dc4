//! `HeteroLR`: FATE's coordinated hetero logistic regression
//! (fate-reference.md §6), and the shared engine of `HeteroLinR`.
//!
//! Setup: the arbiter generates a Paillier key and sends `paillier_pubkey`;
//! the guest sends `batch_info` (to hosts and arbiter) and one
//! `batch_data_index` id list per batch (to hosts).
//!
//! Per (iter, batch), tag `"{iter}.{batch}"`:
//! 1. host → guest `host_forward`: `Enc(s·x_h·w_h)` (s = 0.25 for LR, 1 for LinR);
//! 2. guest → hosts `fore_gradient`: `d = s·(x_g·w_g + b) − c·y + Σ host_forward`
//!    (c = 0.5 with y ∈ {−1, 1} for LR, c = 1 for LinR);
//! 3. guest → arbiter `guest_gradient`, host → arbiter `host_gradient`:
//!    `Enc(Σ d·x + n·α·w)` (guest adds `Σ d` for the intercept);
//! 4. loss (one host only): host → guest `loss_intermediate` `Enc(Σ (x_h w_h)²)`
//!    and `host_loss_regular`; guest → arbiter `loss` (encrypted);
//! 5. arbiter decrypts, divides by the batch size, applies the optimizer to
//!    `[hosts…, guest]` and returns `host_optim_gradient` / `guest_optim_gradient`;
//!    each party sets `w −= step` (L1: then shrinks by `lr·α`).
//!
//! After each iteration the arbiter sends `converge_flag` (tag `"{iter}"`).
//! Prediction: host → guest `host_prob`, plaintext `x_h·w_h` per id.
//!
//! Multi-class LR is FATE's one-vs-rest: the guest sends the number of
//! models (`one_vs_rest_classes`, 1 for binary and LinR) and the whole
//! protocol runs once per class with tags prefixed `"c{class}."`; the
//! prediction is the class with the highest sigmoid score.
//!
//! The guest encrypts its half of `fore_gradient` with fresh randomness, as
//! FATE does; Paillier sums `Σ d·x` are one bucket multi-exponentiation per
//! feature over fixed-point multipliers (2^-20 absolute resolution; from
//! 20,000 rows per batch on, 12 bits relative to the column's largest value,
//! one window: see `cipher.rs`). fedflow
//! cuts batches from the id-sorted rows shuffled once with a fixed seed
//! (`init_param.random_seed`, else 0), so runs are reproducible; FATE
//! shuffles with `SystemRandom`.
//!
//! Large full-batch binary trainings take the table path (`table.rs`): the
//! same protocol and sums with every per-row step a named table op, so that
//! nothing per row is collected into the task (Spark).

mod arbiter;
pub(crate) mod cipher;
mod guest;
mod host;
mod ops;
mod params;
mod table;
mod table_ops;
pub(crate) use table_ops::SumF64;

pub use params::{EncryptParam, InitParam, LinearModelParam, Penalty};

use crate::io::{Dataset, Instance, ModelData, Prediction, Schema, PREDICTION_HEADER};
use crate::{Component, ComponentError, ComponentOutput, TaskContext};
use fedflow_computing::TypedTable;
use fedflow_core::{Party, Role};
use fedflow_federation::TransferVariable;
use serde::{Deserialize, Serialize};

/// Public key, arbiter → guest and hosts.
pub const PAILLIER_PUBKEY: TransferVariable = TransferVariable::new(
    "paillier_pubkey",
    &[Role::Arbiter],
    &[Role::Guest, Role::Host],
);
/// Batch layout, guest → hosts and arbiter.
pub const BATCH_INFO: TransferVariable =
    TransferVariable::new("batch_info", &[Role::Guest], &[Role::Host, Role::Arbiter]);
/// Ids of one batch, guest → hosts.
pub const BATCH_DATA_INDEX: TransferVariable =
    TransferVariable::new("batch_data_index", &[Role::Guest], &[Role::Host]);
/// `Enc(s·x_h·w_h)` per sample, host → guest.
pub const HOST_FORWARD: TransferVariable =
    TransferVariable::new("host_forward", &[Role::Host], &[Role::Guest]);
/// Encrypted residual per sample, guest → hosts.
pub const FORE_GRADIENT: TransferVariable =
    TransferVariable::new("fore_gradient", &[Role::Guest], &[Role::Host]);
/// Encrypted guest gradient, guest → arbiter.
pub const GUEST_GRADIENT: TransferVariable =
    TransferVariable::new("guest_gradient", &[Role::Guest], &[Role::Arbiter]);
/// Encrypted host gradient, host → arbiter.
pub const HOST_GRADIENT: TransferVariable =
    TransferVariable::new("host_gradient", &[Role::Host], &[Role::Arbiter]);
/// Optimizer step for the guest, arbiter → guest.
pub const GUEST_OPTIM_GRADIENT: TransferVariable =
    TransferVariable::new("guest_optim_gradient", &[Role::Arbiter], &[Role::Guest]);
/// Optimizer step for a host, arbiter → host.
pub const HOST_OPTIM_GRADIENT: TransferVariable =
    TransferVariable::new("host_optim_gradient", &[Role::Arbiter], &[Role::Host]);
/// `Enc(Σ (x_h w_h)²)`, host → guest.
pub const LOSS_INTERMEDIATE: TransferVariable =
    TransferVariable::new("loss_intermediate", &[Role::Host], &[Role::Guest]);
/// The host's regularisation loss (plaintext), host → guest.
pub const HOST_LOSS_REGULAR: TransferVariable =
    TransferVariable::new("host_loss_regular", &[Role::Host], &[Role::Guest]);
/// Encrypted batch loss, guest → arbiter.
pub const LOSS: TransferVariable = TransferVariable::new("loss", &[Role::Guest], &[Role::Arbiter]);
/// Whether training converged, arbiter → guest and hosts.
pub const CONVERGE_FLAG: TransferVariable = TransferVariable::new(
    "converge_flag",
    &[Role::Arbiter],
    &[Role::Guest, Role::Host],
);
/// Number of one-vs-rest models (1 unless multi-class LR), guest → hosts and arbiter.
pub const ONE_VS_REST_CLASSES: TransferVariable = TransferVariable::new(
    "one_vs_rest_classes",
    &[Role::Guest],
    &[Role::Host, Role::Arbiter],
);
/// Whether a component with a model input trains (warm start) or predicts,
/// guest → arbiter.
pub const TRAIN_WITH_MODEL: TransferVariable =
    TransferVariable::new("train_with_model", &[Role::Guest], &[Role::Arbiter]);
/// Plaintext `x_h·w_h` per id at prediction, host → guest.
pub const HOST_PROB: TransferVariable =
    TransferVariable::new("host_prob", &[Role::Host], &[Role::Guest]);

/// `batch_info`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchInfo {
    /// The configured batch size (-1 = full batch).
    pub batch_size: i64,
    /// Number of batches.
    pub batch_num: usize,
    /// Rows per batch.
    pub sizes: Vec<usize>,
    /// The guest trains on the table path (`table.rs`); hosts and the
    /// arbiter follow. Absent = the in-memory path.
    #[serde(default)]
    pub table: bool,
}

/// Which linear model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Task {
    /// Logistic regression, Taylor loss.
    Logistic,
    /// Linear regression, squared loss.
    Linear,
}

impl Task {
    pub(crate) fn module(self) -> &'static str {
        match self {
            Task::Logistic => "HeteroLR",
            Task::Linear => "HeteroLinR",
        }
    }
    /// Scale of the forward (`0.25` for the Taylor expansion of LR).
    pub(crate) fn scale(self) -> f64 {
        match self {
            Task::Logistic => 0.25,
            Task::Linear => 1.0,
        }
    }
}

/// The component.
pub struct HeteroLR;

impl Component for HeteroLR {
    fn module(&self) -> &'static str {
        "HeteroLR"
    }

    fn check_params(
        &self,
        component: &str,
        _role: fedflow_core::Role,
        params: &serde_json::Value,
    ) -> Result<(), ComponentError> {
        crate::parse_params::<LinearModelParam>(component, params)?.check(component)
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let param: LinearModelParam = crate::parse_params(&ctx.component_name, &ctx.params)?;
        run_linear(ctx, &param, Task::Logistic)
    }
}

pub(crate) fn run_linear(
    ctx: &TaskContext,
    param: &LinearModelParam,
    task: Task,
) -> Result<ComponentOutput, ComponentError> {
    run_linear_with(ctx, param, task, None)
}

/// [`run_linear`]; `table_min_rows` overrides `FEDFLOW_LR_TABLE_MIN_ROWS`
/// (the guest's threshold for the table path; tests force it without a
/// process-wide variable).
pub(crate) fn run_linear_with(
    ctx: &TaskContext,
    param: &LinearModelParam,
    task: Task,
    table_min_rows: Option<u64>,
) -> Result<ComponentOutput, ComponentError> {
    param.check(&ctx.component_name)?;
    // A predict job, or (as FATE allows inside a training job) a component fed
    // another component's model instead of train data; with train data too,
    // a warm start. The arbiter has no data at all: the guest tells it which
    // (`train_with_model`).
    let with_model = ctx.job_type != "predict" && !ctx.inputs.models.is_empty();
    let predict = match ctx.local.role {
        Role::Arbiter if with_model => {
            let guest = one(ctx, Role::Guest)?;
            !TRAIN_WITH_MODEL.get_one::<bool>(ctx.federation.as_ref(), guest, "")?
        }
        Role::Arbiter => ctx.job_type == "predict",
        _ => ctx.job_type == "predict" || (ctx.inputs.first("train_data").is_none() && with_model),
    };
    if ctx.local.role == Role::Guest && with_model {
        if let Some(arbiter) = ctx.roster.party(Role::Arbiter, 0) {
            TRAIN_WITH_MODEL.remote(ctx.federation.as_ref(), &!predict, &[arbiter], "")?;
        }
    }
    match (ctx.local.role, predict) {
        (Role::Guest, false) => {
            let min_rows = table_min_rows.unwrap_or_else(table::table_min_rows);
            if table::guest_chooses_table(ctx, param, task, min_rows)? {
                table::guest_train(ctx, param, task)
            } else {
                guest::train(ctx, param, task)
            }
        }
        (Role::Host, false) => host::train(ctx, param, task),
        (Role::Arbiter, false) => arbiter::train(ctx, param, task),
        (Role::Guest, true) => guest::predict_job(ctx, task),
        (Role::Host, true) => host::predict_job(ctx, task),
        (Role::Arbiter, true) => Ok(ComponentOutput::default()),
        (other, _) => Err(ComponentError::Failed(format!(
            "{} has no {other} role",
            task.module()
        ))),
    }
}

/// A party's local rows, sorted by id.
pub(crate) struct LocalData {
    pub ids: Vec<String>,
    pub rows: Vec<Instance>,
    pub schema: Schema,
    pub partitions: usize,
}

impl LocalData {
    pub(crate) fn load(ds: &Dataset) -> Result<Self, ComponentError> {
        let t: TypedTable<String, Instance> = TypedTable::from_raw(ds.table.clone());
        let partitions = t.partitions();
        let mut rows = t.collect()?;
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let (ids, rows): (Vec<String>, Vec<Instance>) = rows.into_iter().unzip();
        let mut schema = ds.schema.clone();
        if let Some(m) = rows.first().map(|r| r.features.len()) {
            if rows.iter().any(|r| r.features.len() != m) {
                return Err(ComponentError::Input(
                    "instances with different feature counts".into(),
                ));
            }
            if schema.header.len() != m {
                schema.header = (0..m).map(|j| format!("x{j}")).collect();
            }
        }
        Ok(LocalData {
            ids,
            rows,
            schema,
            partitions,
        })
    }

    /// `x·w (+ b)` per row.
    pub(crate) fn dot(&self, idx: &[usize], w: &[f64], b: f64) -> Vec<f64> {
        idx.iter()
            .map(|&i| dot(&self.rows[i].features, w) + b)
            .collect()
    }

    /// Feature columns of the given rows.
    pub(crate) fn columns(&self, idx: &[usize]) -> Vec<Vec<f64>> {
        let m = self.rows.first().map(|r| r.features.len()).unwrap_or(0);
        (0..m)
            .map(|j| idx.iter().map(|&i| self.rows[i].features[j]).collect())
            .collect()
    }
}

pub(crate) fn dot(x: &[f64], w: &[f64]) -> f64 {
    x.iter().zip(w).map(|(a, b)| a * b).sum()
}

pub(crate) fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// The first training dataset.
pub(crate) fn train_input(ctx: &TaskContext) -> Result<&Dataset, ComponentError> {
    ctx.inputs
        .first("train_data")
        .or_else(|| ctx.inputs.first("data"))
        .ok_or_else(|| ComponentError::Input("no train_data input".into()))
}

/// The prediction input of a predict job.
pub(crate) fn predict_input(ctx: &TaskContext) -> Result<&Dataset, ComponentError> {
    ctx.inputs
        .first("test_data")
        .or_else(|| ctx.inputs.first("data"))
        .or_else(|| ctx.inputs.first("validate_data"))
        .or_else(|| ctx.inputs.first("train_data"))
        .ok_or_else(|| ComponentError::Input("no test_data input".into()))
}

pub(crate) fn parties(ctx: &TaskContext, role: Role) -> Vec<Party> {
    ctx.roster.parties(role)
}

pub(crate) fn one(ctx: &TaskContext, role: Role) -> Result<Party, ComponentError> {
    ctx.roster
        .party(role, 0)
        .ok_or_else(|| ComponentError::Failed(format!("the job needs a {role}")))
}

/// Builds a prediction dataset from rows.
pub(crate) fn prediction_dataset(
    ctx: &TaskContext,
    rows: Vec<(String, Prediction)>,
    sid: &str,
    partitions: usize,
) -> Result<Dataset, ComponentError> {
    let t = fedflow_computing::parallelize(ctx.computing.as_ref(), rows, partitions.max(1))?;
    Ok(Dataset {
        table: t.raw().clone(),
        schema: Schema {
            sid: sid.to_string(),
            header: PREDICTION_HEADER.iter().map(|s| s.to_string()).collect(),
            label_name: None,
            extra: Default::default(),
        },
    })
}

/// A logistic model's output row from its linear scores `z`: one score
/// (binary: class 1 when `sigmoid(z) > threshold`), or one per class of
/// `classes` (one-vs-rest: the class with the highest sigmoid score).
pub(crate) fn logistic_prediction(
    label: f64,
    z: &[f64],
    classes: Option<&[f64]>,
    threshold: f64,
    kind: &str,
) -> Prediction {
    match classes {
        Some(cl) => {
            let ps: Vec<f64> = z.iter().map(|&v| sigmoid(v)).collect();
            let (bi, bp) = ps
                .iter()
                .enumerate()
                .fold(
                    (0, f64::NEG_INFINITY),
                    |a, (c, &v)| if v > a.1 { (c, v) } else { a },
                );
            let detail: serde_json::Map<String, serde_json::Value> = cl
                .iter()
                .zip(&ps)
                .map(|(c, v)| (c.to_string(), serde_json::json!(v)))
                .collect();
            Prediction {
                label,
                predict_result: cl[bi],
                predict_score: bp,
                predict_detail: serde_json::Value::Object(detail).to_string(),
                kind: kind.to_string(),
            }
        }
        None => {
            let s = sigmoid(z[0]);
            Prediction {
                label,
                predict_result: if s > threshold { 1.0 } else { 0.0 },
                predict_score: s,
                predict_detail: serde_json::json!({"0": 1.0 - s, "1": s}).to_string(),
                kind: kind.to_string(),
            }
        }
    }
}

/// A party's learned weights, as stored in the model's param.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LinearWeights {
    pub header: Vec<String>,
    pub weight: std::collections::BTreeMap<String, f64>,
    pub intercept: f64,
    pub fit_intercept: bool,
}

impl LinearWeights {
    pub(crate) fn new(header: &[String], w: &[f64], b: f64, fit_intercept: bool) -> Self {
        LinearWeights {
            header: header.to_vec(),
            weight: header.iter().cloned().zip(w.iter().copied()).collect(),
            intercept: b,
            fit_intercept,
        }
    }
    pub(crate) fn ordered(&self) -> Vec<f64> {
        self.header
            .iter()
            .map(|h| self.weight.get(h).copied().unwrap_or(0.0))
            .collect()
    }
    /// The model's weights: one, or one per class (with the class values)
    /// for one-vs-rest.
    pub(crate) fn all_from_model(
        model: &ModelData,
    ) -> Result<(Vec<Self>, Option<Vec<f64>>), ComponentError> {
        let bad = |e: serde_json::Error| {
            ComponentError::Input(format!("{} model param: {e}", model.module))
        };
        if let Some(list) = model.param.get("one_vs_rest_result") {
            let ws: Vec<Self> = serde_json::from_value(list.clone()).map_err(bad)?;
            let classes: Option<Vec<f64>> = match model.param.get("classes") {
                Some(c) => Some(serde_json::from_value(c.clone()).map_err(bad)?),
                None => None,
            };
            Ok((ws, classes))
        } else {
            Ok((
                vec![serde_json::from_value(model.param.clone()).map_err(bad)?],
                None,
            ))
        }
    }
}

/// Warm start (FATE's: a model input next to `train_data`): per class, the
/// weights to start from (`None` without a model) and the iteration to resume
/// at, the model's `iters`; training goes on until `max_iter` in total.
pub(crate) struct Warm {
    pub weights: Option<Vec<LinearWeights>>,
    pub iters: Vec<u32>,
}

impl Warm {
    /// From the component's model input, for `k` classes.
    pub(crate) fn of(ctx: &TaskContext, task: Task, k: usize) -> Result<Self, ComponentError> {
        let Some(model) = ctx.inputs.model(task.module()) else {
            return Ok(Warm {
                weights: None,
                iters: vec![0; k],
            });
        };
        let it = |v: &serde_json::Value| v.as_u64().unwrap_or(0) as u32;
        let iters: Vec<u32> = match model.param.get("iters") {
            Some(serde_json::Value::Array(a)) => a.iter().map(it).collect(),
            Some(v) => vec![it(v); k],
            None => vec![0; k],
        };
        let weights = match ctx.local.role {
            Role::Arbiter => None,
            _ => Some(LinearWeights::all_from_model(model)?.0),
        };
        if iters.len() != k || weights.as_ref().is_some_and(|w| w.len() != k) {
            return Err(ComponentError::Input(format!(
                "warm start: the {} model has {} class model(s), the data {k}",
                task.module(),
                iters.len()
            )));
        }
        tracing::info!("{}: warm start from iteration {}", task.module(), iters[0]);
        Ok(Warm { weights, iters })
    }

    /// Class `cls`'s start: weights in `header` order and intercept.
    pub(crate) fn start(
        &self,
        cls: usize,
        header: &[String],
    ) -> Result<Option<(Vec<f64>, f64)>, ComponentError> {
        let Some(w) = self.weights.as_ref().and_then(|w| w.get(cls)) else {
            return Ok(None);
        };
        let ws = header
            .iter()
            .map(|h| {
                w.weight.get(h).copied().ok_or_else(|| {
                    ComponentError::Input(format!("warm start: the model has no weight for {h}"))
                })
            })
            .collect::<Result<Vec<f64>, _>>()?;
        Ok(Some((ws, w.intercept)))
    }
}

pub(crate) fn model_of(ctx: &TaskContext, task: Task) -> Result<&ModelData, ComponentError> {
    ctx.inputs.model(task.module()).ok_or_else(|| {
        ComponentError::Input(format!("predict job without a {} model", task.module()))
    })
}

#[cfg(test)]
pub(crate) mod harness;
#[cfg(test)]
mod tests;
