//! The table path: full-batch binary LR / LinR training with every per-row
//! step a named table op (`table_ops.rs`), so that on the Spark engine the
//! Paillier work runs on the executors and the task process holds only
//! weights and a few ciphertexts per feature.
//!
//! The guest chooses it (full batch, no one-vs-rest, no warm start, at least
//! `FEDFLOW_LR_TABLE_MIN_ROWS` train rows, default 1,000,000) and says so in
//! `batch_info.table`; hosts and the arbiter follow (the arbiter's code is
//! the same on both paths). Per iteration, tag `"{iter}.0"` as in memory:
//! the host's forwards and the guest's `fore_gradient` travel as tables
//! (`remote_table`), the gradients and the loss as today. The plaintext
//! sums are the in-memory path's exactly (same encodings and quantised
//! multipliers, see `table_ops.rs`), so the weights agree up to float
//! summation order in the loss.

use super::cipher::{self, SCALED_MIN_ROWS};
use super::ops::{l2_term, loss_norm, update_weights};
use super::table_ops::*;
use super::*;
use crate::ModelData;
use fedflow_crypto::{BigUint, Ciphertext, PublicKey};

/// The default of `FEDFLOW_LR_TABLE_MIN_ROWS`.
pub const DEFAULT_TABLE_MIN_ROWS: u64 = 1_000_000;

/// `FEDFLOW_LR_TABLE_MIN_ROWS`, else [`DEFAULT_TABLE_MIN_ROWS`].
pub(crate) fn table_min_rows() -> u64 {
    match std::env::var("FEDFLOW_LR_TABLE_MIN_ROWS") {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            tracing::warn!(
                "FEDFLOW_LR_TABLE_MIN_ROWS={v:?} is not a row count; using {DEFAULT_TABLE_MIN_ROWS}"
            );
            DEFAULT_TABLE_MIN_ROWS
        }),
        Err(_) => DEFAULT_TABLE_MIN_ROWS,
    }
}

/// A party's train (or validate) table with its header.
pub(super) struct TableData {
    pub table: TypedTable<String, Instance>,
    pub schema: Schema,
    pub rows: u64,
}

impl TableData {
    /// Counts the rows and, as `LocalData::load`, names the features
    /// `x0…` when the header does not match the first row's.
    pub(super) fn of(ds: &Dataset) -> Result<Self, ComponentError> {
        let table: TypedTable<String, Instance> = TypedTable::from_raw(ds.table.clone());
        let rows = table.count()?;
        let mut schema = ds.schema.clone();
        if let Some((_, first)) = table.first()? {
            let m = first.features.len();
            if schema.header.len() != m {
                schema.header = (0..m).map(|j| format!("x{j}")).collect();
            }
        }
        Ok(TableData {
            table,
            schema,
            rows,
        })
    }
}

/// Whether the guest trains on the table path: full batch, no one-vs-rest,
/// no warm start, at least `min_rows` rows.
pub(super) fn guest_chooses_table(
    ctx: &TaskContext,
    param: &LinearModelParam,
    task: Task,
    min_rows: u64,
) -> Result<bool, ComponentError> {
    if ctx.inputs.model(task.module()).is_some() {
        return Ok(false);
    }
    let ds = train_input(ctx)?;
    let t: TypedTable<String, Instance> = TypedTable::from_raw(ds.table.clone());
    let n = t.count()?;
    if n == 0 || n < min_rows {
        return Ok(false);
    }
    if param.batch_size >= 0 && (param.batch_size as u64) < n {
        return Ok(false);
    }
    if task == Task::Logistic {
        let labels = t
            .map_values(LabelSet)?
            .reduce(LabelSetUnion)?
            .unwrap_or_default();
        if labels.len() > 2 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Column scales of `cipher::weighted_sum_scaled` from the columns' max
/// `|x|` (0 for an all-zero column).
fn column_scales(max: &[f64]) -> Result<Vec<f64>, ComponentError> {
    max.iter()
        .map(|&m| {
            if !m.is_finite() {
                return Err(ComponentError::Failed(
                    "weighted_sum: non-finite feature value".into(),
                ));
            }
            Ok(m / ((1u64 << cipher::COLUMN_BITS) - 1) as f64)
        })
        .collect()
}

/// The column scales over the rows of `dx` when the batch is large enough
/// for column-scaled multipliers (as `cipher::weighted_sum_auto`).
fn scales_of(
    dx: &TypedTable<String, (Ciphertext, Instance)>,
    n: usize,
    m: usize,
) -> Result<Option<Vec<f64>>, ComponentError> {
    if n < SCALED_MIN_ROWS {
        return Ok(None);
    }
    let max = dx
        .map_values(AbsFeatures)?
        .reduce(MaxVec)?
        .unwrap_or_else(|| vec![0.0; m]);
    Ok(Some(column_scales(&max)?))
}

/// `[Enc(Σ d·x_j)]_j` (+ `Enc(Σ d)` with `intercept`) over `dx`'s rows:
/// per-partition multi-exponentiations, a Paillier-sum reduce, then each
/// column's scale.
fn gradient_sums(
    pk: &PublicKey,
    dx: &TypedTable<String, (Ciphertext, Instance)>,
    m: usize,
    scales: &Option<Vec<f64>>,
    intercept: bool,
) -> Result<Vec<Ciphertext>, ComponentError> {
    let mut sums = dx
        .apply_partitions(GradientSums {
            pk: pk.clone(),
            m,
            scales: scales.clone(),
            intercept,
        })?
        .reduce(CipherVecSum { pk: pk.clone() })?
        .ok_or_else(|| {
            ComponentError::Failed("fore_gradient: no id joined with the features".into())
        })?;
    if let Some(sc) = scales {
        for (g, &s) in sums.iter_mut().zip(sc) {
            if s != 0.0 {
                *g = cipher::mul_scalar(pk, g, s)?;
            }
        }
    }
    Ok(sums)
}

fn check_rows(what: &str, got: u64, n: u64) -> Result<(), ComponentError> {
    if got != n {
        return Err(ComponentError::Failed(format!(
            "{what}: {got} of the guest's {n} ids matched (expected all: the parties' ids must be intersected)"
        )));
    }
    Ok(())
}

fn schema_of(sid: &str) -> Schema {
    Schema {
        sid: sid.to_string(),
        header: PREDICTION_HEADER.iter().map(|s| s.to_string()).collect(),
        label_name: None,
        extra: Default::default(),
    }
}

/// The guest's training on the table path.
pub(super) fn guest_train(
    ctx: &TaskContext,
    param: &LinearModelParam,
    task: Task,
) -> Result<ComponentOutput, ComponentError> {
    let fed = ctx.federation.as_ref();
    let session = ctx.computing.as_ref();
    let arbiter = one(ctx, Role::Arbiter)?;
    let hosts = parties(ctx, Role::Host);
    let data = TableData::of(train_input(ctx)?)?;
    let n = data.rows;
    let x = &data.table;
    let pk: PublicKey = PAILLIER_PUBKEY.get_one(fed, arbiter, "")?;
    let info = BatchInfo {
        batch_size: param.batch_size,
        batch_num: 1,
        sizes: vec![n as usize],
        table: true,
    };
    let mut to_info = hosts.clone();
    to_info.push(arbiter);
    BATCH_INFO.remote(fed, &info, &to_info, "")?;
    ONE_VS_REST_CLASSES.remote(fed, &1usize, &to_info, "")?;
    tracing::info!(
        "{}_guest: table path, {n} rows in {} partitions",
        task.module(),
        x.partitions()
    );

    let m = data.schema.header.len();
    let fit_intercept = param.init_param.fit_intercept;
    let (mut w, mut b) = param.init_weights(m, 1);
    let single_host = hosts.len() == 1;
    let logistic = task == Task::Logistic;
    let weighted = crate::preprocess::sample_weight::is_weighted(&data.schema);
    let (s, c) = match task {
        Task::Logistic => (task.scale(), 0.5),
        Task::Linear => (task.scale(), 1.0),
    };
    let mut scales: Option<Option<Vec<f64>>> = None;
    let mut iters = 0;
    let mut converged = false;
    for iter in 0..param.max_iter {
        let tag = format!("{iter}.0");
        let forwards: Vec<TypedTable<String, Ciphertext>> =
            HOST_FORWARD.get_tables(fed, &hosts, &tag, session)?;
        // d = s·wx_g − c·y + Σ host forwards; the guest's half is encrypted
        // with fresh randomness (FATE's `encrypted_half_g`).
        let mut d = x.map_partitions(LrForward {
            pk: pk.clone(),
            w: w.clone(),
            b,
            scale: s,
            c,
            residual: if logistic {
                Residual::Logistic
            } else {
                Residual::Linear
            },
            obfuscate: true,
        })?;
        for f in &forwards {
            d = d.join(f, CipherAdd { pk: pk.clone() })?;
        }
        check_rows("host_forward", d.count()?, n)?;
        if weighted {
            d = d.join(x, CipherWeight { pk: pk.clone() })?;
        }
        FORE_GRADIENT.remote_table(fed, &d, &hosts, &tag)?;

        let dx = d.join(x, WithInstance)?;
        if scales.is_none() {
            scales = Some(scales_of(&dx, n as usize, m)?);
        }
        let col_scales = scales.clone().unwrap_or_default();
        let mut grad = gradient_sums(&pk, &dx, m, &col_scales, fit_intercept)?;
        let l2 = l2_term(param, &w, n as usize);
        for (g, r) in grad.iter_mut().zip(&l2) {
            if *r != 0.0 {
                *g = cipher::add_plain(&pk, g, *r)?;
            }
        }
        GUEST_GRADIENT.remote(fed, &grad, &[arbiter], &tag)?;

        if single_host {
            let sh: Ciphertext = LOSS_INTERMEDIATE.get_one(fed, hosts[0], &tag)?;
            let reg_h: f64 = HOST_LOSS_REGULAR.get_one(fed, hosts[0], &tag)?;
            let nf = n as f64;
            let terms = LossTerms {
                w: w.clone(),
                b,
                logistic,
            };
            let [yw, ww, res2, coef_max] = x
                .map_values(terms.clone())?
                .reduce(LossTermsSum)?
                .unwrap_or_default();
            let (sh_coef, plain) = if logistic {
                // log2 − (0.5/n)Σ y·wx + (1/8n)Σ wx², with wx_h = 4·E.
                (
                    1.0 / (8.0 * nf),
                    std::f64::consts::LN_2 - 0.5 / nf * yw + ww / (8.0 * nf),
                )
            } else {
                // (1/2n)Σ (wx_g − y + wx_h)².
                (1.0 / (2.0 * nf), res2 / (2.0 * nf))
            };
            // `cipher::weighted_sum_auto` over the coefficients.
            let coef_scale = if (n as usize) >= SCALED_MIN_ROWS {
                Some(column_scales(&[coef_max])?[0])
            } else {
                None
            };
            let cross = forwards[0]
                .join(x, WithInstance)?
                .apply_partitions(LossCross {
                    pk: pk.clone(),
                    terms,
                    scale: coef_scale,
                })?
                .reduce(CipherSum { pk: pk.clone() })?
                .ok_or_else(|| ComponentError::Failed("host_forward: no rows".into()))?;
            let cross = match coef_scale {
                Some(sc) if sc != 0.0 => cipher::mul_scalar(&pk, &cross, sc)?,
                Some(_) => Ciphertext::from_parts(BigUint::one(), cross.exponent()),
                None => cross,
            };
            let cross = cipher::mul_scalar(&pk, &cross, 1.0 / nf)?;
            let quad = cipher::mul_scalar(&pk, &sh, sh_coef)?;
            let enc = cipher::add(&pk, &cross, &quad)?;
            let enc = cipher::add_plain(&pk, &enc, plain + loss_norm(param, &w) + reg_h)?;
            LOSS.remote(fed, &enc, &[arbiter], &tag)?;
        }

        let step: Vec<f64> = GUEST_OPTIM_GRADIENT.get_one(fed, arbiter, &tag)?;
        update_weights(param, iter, &mut w, &mut b, &step, fit_intercept);
        iters = iter + 1;
        converged = CONVERGE_FLAG.get_one(fed, arbiter, &iter.to_string())?;
        if converged {
            break;
        }
    }
    tracing::info!(
        "{}_guest: trained {iters} iterations on the table path, converged {converged}",
        task.module()
    );
    let model = LinearWeights::new(&data.schema.header, &w, b, fit_intercept);

    let mut out = guest_predictions(ctx, &data, &model, logistic, "train")?;
    if let Some(v) = ctx.inputs.first("validate_data") {
        let vd = TableData::of(v)?;
        let vp = guest_predictions(ctx, &vd, &model, logistic, "validate")?;
        out = out.union_with(&vp, KeepLater)?;
    }
    let model_param = serde_json::json!({
        "header": model.header,
        "weight": model.weight,
        "intercept": model.intercept,
        "fit_intercept": model.fit_intercept,
        "iters": iters,
        "is_converged": converged,
    });
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "coef": model.weight,
            "intercept": model.intercept,
            "is_converged": converged,
            "iters": iters,
            "one_vs_rest": false,
        }),
        data: vec![Dataset {
            table: out.raw().clone(),
            schema: schema_of(&data.schema.sid),
        }],
        model: Some(ModelData {
            module: task.module().to_string(),
            meta: serde_json::to_value(param).unwrap_or_default(),
            param: model_param,
        }),
    })
}

/// The guest's predictions of one dataset as a table: its scores plus the
/// hosts' partial scores (`host_prob` tables), keyed by id.
fn guest_predictions(
    ctx: &TaskContext,
    data: &TableData,
    model: &LinearWeights,
    logistic: bool,
    kind: &str,
) -> Result<TypedTable<String, Prediction>, ComponentError> {
    let fed = ctx.federation.as_ref();
    let hosts = parties(ctx, Role::Host);
    let parts: Vec<TypedTable<String, f64>> =
        HOST_PROB.get_tables(fed, &hosts, kind, ctx.computing.as_ref())?;
    let mut z = data.table.map_values(GuestScore {
        w: model.ordered(),
        b: model.intercept,
    })?;
    for p in &parts {
        z = z.join(p, AddScore)?;
    }
    check_rows(&format!("host_prob ({kind})"), z.count()?, data.rows)?;
    Ok(z.map_values(ToPrediction {
        logistic,
        kind: kind.to_string(),
    })?)
}

/// A host's training on the table path (the guest chose it).
pub(super) fn host_train(
    ctx: &TaskContext,
    param: &LinearModelParam,
    task: Task,
    pk: &PublicKey,
    info: &BatchInfo,
) -> Result<ComponentOutput, ComponentError> {
    let fed = ctx.federation.as_ref();
    let session = ctx.computing.as_ref();
    let arbiter = one(ctx, Role::Arbiter)?;
    let guest = one(ctx, Role::Guest)?;
    let k: usize = ONE_VS_REST_CLASSES.get_one(fed, guest, "")?;
    let n = match (k, info.sizes.as_slice()) {
        (1, [n]) => *n,
        _ => {
            return Err(ComponentError::Failed(format!(
                "batch_info: the table path expects one full batch of one model, got {} batch(es) of {k} model(s)",
                info.sizes.len()
            )))
        }
    };
    let data = TableData::of(train_input(ctx)?)?;
    let x = &data.table;
    let single_host = parties(ctx, Role::Host).len() == 1;
    let m = data.schema.header.len();
    let salt = 2 + ctx.local.party_id;
    let (mut w, _) = param.init_weights(m, salt);
    let mut b_unused = 0.0;
    let mut scales: Option<Option<Vec<f64>>> = None;
    let mut iters = 0;
    let mut converged = false;
    for iter in 0..param.max_iter {
        let tag = format!("{iter}.0");
        let fwd = x.map_partitions(LrForward {
            pk: pk.clone(),
            w: w.clone(),
            b: 0.0,
            scale: task.scale(),
            c: 0.0,
            residual: Residual::None,
            obfuscate: true,
        })?;
        HOST_FORWARD.remote_table(fed, &fwd, &[guest], &tag)?;
        if single_host {
            let sq = x
                .map_values(SquaredDot { w: w.clone() })?
                .reduce(SumF64)?
                .unwrap_or(0.0);
            let enc = cipher::encrypt_vec(pk, &[sq])?;
            LOSS_INTERMEDIATE.remote(fed, &enc[0], &[guest], &tag)?;
            HOST_LOSS_REGULAR.remote(fed, &loss_norm(param, &w), &[guest], &tag)?;
        }
        let d: TypedTable<String, Ciphertext> =
            FORE_GRADIENT.get_table(fed, guest, &tag, session)?;
        let dx = d.join(x, WithInstance)?;
        if scales.is_none() {
            check_rows("fore_gradient", dx.count()?, n as u64)?;
            scales = Some(scales_of(&dx, n, m)?);
        }
        let col_scales = scales.clone().unwrap_or_default();
        let mut grad = gradient_sums(pk, &dx, m, &col_scales, false)?;
        for (g, r) in grad.iter_mut().zip(l2_term(param, &w, n)) {
            if r != 0.0 {
                *g = cipher::add_plain(pk, g, r)?;
            }
        }
        HOST_GRADIENT.remote(fed, &grad, &[arbiter], &tag)?;
        let step: Vec<f64> = HOST_OPTIM_GRADIENT.get_one(fed, arbiter, &tag)?;
        update_weights(param, iter, &mut w, &mut b_unused, &step, false);
        iters = iter + 1;
        converged = CONVERGE_FLAG.get_one(fed, arbiter, &iter.to_string())?;
        if converged {
            break;
        }
    }
    let model = LinearWeights::new(&data.schema.header, &w, 0.0, false);
    send_partial_scores(ctx, x, &model, "train")?;
    if let Some(v) = ctx.inputs.first("validate_data") {
        let vd = TableData::of(v)?;
        send_partial_scores(ctx, &vd.table, &model, "validate")?;
    }
    let mut model_param = serde_json::to_value(&model).unwrap_or_default();
    model_param["iters"] = serde_json::json!(iters);
    Ok(ComponentOutput {
        summary: serde_json::json!({"iters": iters, "is_converged": converged}),
        data: vec![],
        model: Some(ModelData {
            module: task.module().to_string(),
            meta: serde_json::to_value(param).unwrap_or_default(),
            param: model_param,
        }),
    })
}

fn send_partial_scores(
    ctx: &TaskContext,
    x: &TypedTable<String, Instance>,
    model: &LinearWeights,
    kind: &str,
) -> Result<(), ComponentError> {
    let guest = one(ctx, Role::Guest)?;
    let scores = x.map_values(PartialScore {
        w: model.ordered(),
        b: 0.0,
    })?;
    HOST_PROB.remote_table(ctx.federation.as_ref(), &scores, &[guest], kind)?;
    Ok(())
}
