//! The named table ops of the table path (see `table.rs`): every per-row
//! step of a full-batch epoch, so that on Spark it runs on the party's
//! executors. Ops carry only public material (the arbiter's public key,
//! the party's current weights, column scales), never a private key.
//!
//! The arithmetic is the in-memory path's (`cipher.rs`): values encrypted at
//! [`cipher::VALUE_EXP`], `Σ x·Enc(d)` as one signed bucket
//! multi-exponentiation per column and partition over the same quantised
//! multipliers, so the partitions' products multiply to exactly the
//! in-memory plaintext sums; the column scale `s` of the scaled multipliers
//! is applied once, after the reduce, as the in-memory path does.

use super::cipher::{self, quantise, X_EXP};
use super::{dot, sigmoid};
use crate::io::{Instance, Prediction};
use fedflow_computing::{
    register_op, ApplyPartitionsOp, Emitter, JoinOp, MapPartitionsOp, MapValuesOp, OpError,
    ReduceOp,
};
use fedflow_crypto::{BigUint, Ciphertext, PublicKey};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

fn op_err(e: crate::ComponentError) -> OpError {
    OpError::msg(e.to_string())
}

/// The process-wide copy of `pk` that carries its DJN table: a worker
/// process (or the standalone engine's threads) builds the table once per
/// key, sized by the first partition's row count (`cipher::precompute`).
fn cached_key(pk: &PublicKey, rows: usize) -> PublicKey {
    static KEYS: OnceLock<Mutex<HashMap<Vec<u8>, PublicKey>>> = OnceLock::new();
    let n = pk.n().to_bytes_be();
    let key = {
        let mut keys = KEYS.get_or_init(Default::default).lock();
        if keys.len() >= 4 && !keys.contains_key(&n) {
            keys.clear();
        }
        keys.entry(n).or_insert_with(|| pk.clone()).clone()
    };
    cipher::precompute(&key, rows);
    key
}

/// Label in the model's convention (`guest::target`): ±1 for LR, the value
/// for LinR.
fn target(logistic: bool, y: f64) -> f64 {
    if logistic {
        if y > 0.5 {
            1.0
        } else {
            -1.0
        }
    } else {
        y
    }
}

fn check_len(x: &Instance, m: usize) -> Result<(), OpError> {
    if x.features.len() != m {
        return Err(OpError::msg(format!(
            "an instance has {} features, expected {m} (the header's)",
            x.features.len()
        )));
    }
    Ok(())
}

fn label_of(x: &Instance) -> Result<f64, OpError> {
    x.label
        .ok_or_else(|| OpError::msg("guest train_data without labels: an instance has no label"))
}

/// Which residual a forward op encrypts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Residual {
    /// The host: `s·(x·w + b)`.
    None,
    /// The guest of LR: `s·(x·w + b) − c·y`, `y ∈ {−1, 1}`.
    Logistic,
    /// The guest of LinR: `s·(x·w + b) − c·y`.
    Linear,
}

/// `(id, x) → (id, Enc(s·(x·w + b) − c·y))`: the host's `host_forward`
/// (`Residual::None`) or the guest's encrypted half of `fore_gradient`,
/// with fresh DJN randomness per row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LrForward {
    /// The arbiter's public key.
    pub pk: PublicKey,
    /// The party's weights.
    pub w: Vec<f64>,
    /// Intercept (0 for hosts).
    pub b: f64,
    /// `s` (0.25 for LR, 1 for LinR).
    pub scale: f64,
    /// `c` (0.5 for LR, 1 for LinR; unused for hosts).
    pub c: f64,
    /// What is subtracted.
    pub residual: Residual,
    /// Always true in training; false only in the registry example
    /// (deterministic ciphertexts for the round-trip test).
    pub obfuscate: bool,
}

impl MapPartitionsOp for LrForward {
    const NAME: &'static str = "hetero_lr.forward";
    const PRESERVES_KEYS: bool = true;
    type K = String;
    type V = Instance;
    type K2 = String;
    type V2 = Ciphertext;
    fn map_partition(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, Instance)>,
        out: &mut Emitter<'_, String, Ciphertext>,
    ) -> Result<(), OpError> {
        let m = self.w.len();
        let mut ids = Vec::new();
        let mut vals = Vec::new();
        for (id, x) in rows {
            check_len(&x, m)?;
            let wx = dot(&x.features, &self.w) + self.b;
            let v = match self.residual {
                Residual::None => self.scale * wx,
                Residual::Logistic => self.scale * wx - self.c * target(true, label_of(&x)?),
                Residual::Linear => self.scale * wx - self.c * target(false, label_of(&x)?),
            };
            ids.push(id);
            vals.push(v);
        }
        let enc = if self.obfuscate {
            let pk = cached_key(&self.pk, vals.len());
            cipher::encrypt_vec_with(&pk, &vals, true)
        } else {
            cipher::encrypt_vec_with(&self.pk, &vals, false)
        }
        .map_err(op_err)?;
        for (id, c) in ids.iter().zip(&enc) {
            out.emit(id, c)?;
        }
        Ok(())
    }
}

/// `x → (x·w)²` (the host's `loss_intermediate` before encryption).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SquaredDot {
    /// The host's weights.
    pub w: Vec<f64>,
}

impl MapValuesOp for SquaredDot {
    const NAME: &'static str = "hetero_lr.squared_dot";
    type V = Instance;
    type Out = f64;
    fn map_value(&self, x: Instance) -> Result<f64, OpError> {
        check_len(&x, self.w.len())?;
        let wx = dot(&x.features, &self.w) + 0.0;
        Ok(wx * wx)
    }
}

/// `a + b` of f64.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SumF64;

impl ReduceOp for SumF64 {
    const NAME: &'static str = "hetero_lr.sum_f64";
    type V = f64;
    fn reduce(&self, a: f64, b: f64) -> Result<f64, OpError> {
        Ok(a + b)
    }
}

/// `Enc(a) ⋈ Enc(b) → Enc(a + b)`: the guest's half plus a host's forward.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CipherAdd {
    /// The arbiter's public key.
    pub pk: PublicKey,
}

impl JoinOp for CipherAdd {
    const NAME: &'static str = "hetero_lr.cipher_add";
    type L = Ciphertext;
    type R = Ciphertext;
    type Out = Ciphertext;
    fn join(&self, a: Ciphertext, b: Ciphertext) -> Result<Ciphertext, OpError> {
        cipher::add(&self.pk, &a, &b).map_err(op_err)
    }
}

/// Element-wise Paillier sum of two vectors (the partitions' partial sums).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CipherVecSum {
    /// The arbiter's public key.
    pub pk: PublicKey,
}

impl ReduceOp for CipherVecSum {
    const NAME: &'static str = "hetero_lr.cipher_vec_sum";
    type V = Vec<Ciphertext>;
    fn reduce(&self, a: Vec<Ciphertext>, b: Vec<Ciphertext>) -> Result<Vec<Ciphertext>, OpError> {
        if a.len() != b.len() {
            return Err(OpError::msg(format!(
                "partial sums of {} and {} values",
                a.len(),
                b.len()
            )));
        }
        a.iter()
            .zip(&b)
            .map(|(x, y)| cipher::add(&self.pk, x, y).map_err(op_err))
            .collect()
    }
}

/// `Enc(d) ⋈ x → (Enc(d), x)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WithInstance;

impl JoinOp for WithInstance {
    const NAME: &'static str = "hetero_lr.with_instance";
    type L = Ciphertext;
    type R = Instance;
    type Out = (Ciphertext, Instance);
    fn join(&self, d: Ciphertext, x: Instance) -> Result<(Ciphertext, Instance), OpError> {
        Ok((d, x))
    }
}

/// `x → |x|` per feature (of a row joined with `Enc(d)`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AbsFeatures;

impl MapValuesOp for AbsFeatures {
    const NAME: &'static str = "hetero_lr.abs_features";
    type V = (Ciphertext, Instance);
    type Out = Vec<f64>;
    fn map_value(&self, (_, x): (Ciphertext, Instance)) -> Result<Vec<f64>, OpError> {
        Ok(x.features.iter().map(|v| v.abs()).collect())
    }
}

/// Element-wise max (folded from 0 as `cipher::weighted_sum_scaled` does).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MaxVec;

impl ReduceOp for MaxVec {
    const NAME: &'static str = "hetero_lr.max_vec";
    type V = Vec<f64>;
    fn reduce(&self, a: Vec<f64>, b: Vec<f64>) -> Result<Vec<f64>, OpError> {
        if a.len() != b.len() {
            return Err(OpError::msg(format!(
                "instances with {} and {} features",
                a.len(),
                b.len()
            )));
        }
        Ok(a.iter().zip(&b).map(|(x, y)| x.max(*y)).collect())
    }
}

/// Quantised multipliers: relative to the column (`v / s`, `s =
/// max|x| / (2^12 − 1)`, as `cipher::weighted_sum_scaled`) or absolute at
/// 2^-20 (`cipher::weighted_sum`); `s = 0` (an all-zero column) gives zeros.
fn quantised(v: f64, scale: Option<f64>) -> i128 {
    match scale {
        Some(s) => {
            if s == 0.0 {
                0
            } else {
                (v / s).round() as i128
            }
        }
        None => quantise(v, X_EXP),
    }
}

/// The exponent of a partial sum over ciphertexts at `exp`: unchanged for
/// column-scaled multipliers (the scale is applied after the reduce), `+
/// X_EXP` for absolute ones.
fn sum_exponent(exp: i32, scaled: bool) -> i32 {
    if scaled {
        exp
    } else {
        exp + X_EXP
    }
}

/// One partition of `(Enc(d), x)` rows → `[Π Enc(d)^q(x_j)]_j` (+ `Σ d`
/// last with `intercept`): the partition's share of `Σ d·x_j`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GradientSums {
    /// The arbiter's public key.
    pub pk: PublicKey,
    /// Number of features.
    pub m: usize,
    /// Per-column scales (`None`: absolute 2^-20 multipliers).
    pub scales: Option<Vec<f64>>,
    /// Whether to append `Σ d` (the guest's intercept).
    pub intercept: bool,
}

impl ApplyPartitionsOp for GradientSums {
    const NAME: &'static str = "hetero_lr.gradient_sums";
    type K = String;
    type V = (Ciphertext, Instance);
    type Out = Vec<Ciphertext>;
    fn apply(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, (Ciphertext, Instance))>,
    ) -> Result<Vec<Ciphertext>, OpError> {
        use rayon::prelude::*;
        let mut ds = Vec::new();
        let mut xs = Vec::new();
        for (_, (d, x)) in rows {
            check_len(&x, self.m)?;
            ds.push(d);
            xs.push(x.features);
        }
        let exp = ds
            .first()
            .map(|c| c.exponent())
            .unwrap_or(cipher::VALUE_EXP);
        if ds.iter().any(|c| c.exponent() != exp) {
            return Err(OpError::msg("fore_gradient with mixed exponents"));
        }
        if let Some(s) = &self.scales {
            if s.len() != self.m {
                return Err(OpError::msg(format!(
                    "{} column scales for {} features",
                    s.len(),
                    self.m
                )));
            }
        }
        let scaled = self.scales.is_some();
        let mut out = (0..self.m)
            .into_par_iter()
            .map(|j| {
                let sc = self.scales.as_ref().map(|s| s[j]);
                let q: Vec<i128> = xs.iter().map(|x| quantised(x[j], sc)).collect();
                let r = cipher::signed_multi_exp(&self.pk, &ds, &q).map_err(op_err)?;
                Ok(Ciphertext::from_parts(r, sum_exponent(exp, scaled)))
            })
            .collect::<Result<Vec<_>, OpError>>()?;
        if self.intercept {
            let mont = self.pk.montgomery();
            out.push(Ciphertext::from_parts(
                mont.product(ds.iter().map(Ciphertext::raw)),
                exp,
            ));
        }
        Ok(out)
    }
}

/// The guest's plaintext loss terms of a row, `[y·wx, wx², (wx − y)², |coef|]`
/// with `coef = wx − 2y` (LR) or `wx − y` (LinR).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LossTerms {
    /// The guest's weights.
    pub w: Vec<f64>,
    /// Intercept.
    pub b: f64,
    /// LR (else LinR).
    pub logistic: bool,
}

impl LossTerms {
    fn wx_y(&self, x: &Instance) -> Result<(f64, f64), OpError> {
        check_len(x, self.w.len())?;
        let wx = dot(&x.features, &self.w) + self.b;
        Ok((wx, target(self.logistic, label_of(x)?)))
    }
    fn coef(&self, wx: f64, y: f64) -> f64 {
        if self.logistic {
            wx - 2.0 * y
        } else {
            wx - y
        }
    }
}

impl MapValuesOp for LossTerms {
    const NAME: &'static str = "hetero_lr.loss_terms";
    type V = Instance;
    type Out = [f64; 4];
    fn map_value(&self, x: Instance) -> Result<[f64; 4], OpError> {
        let (wx, y) = self.wx_y(&x)?;
        Ok([y * wx, wx * wx, (wx - y).powi(2), self.coef(wx, y).abs()])
    }
}

/// Sums the first three loss terms, maxes the last.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LossTermsSum;

impl ReduceOp for LossTermsSum {
    const NAME: &'static str = "hetero_lr.loss_terms_sum";
    type V = [f64; 4];
    fn reduce(&self, a: [f64; 4], b: [f64; 4]) -> Result<[f64; 4], OpError> {
        Ok([a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3].max(b[3])])
    }
}

/// One partition of `(Enc(s·wx_h), x_g)` rows → `Π Enc(s·wx_h)^q(coef)`:
/// its share of the loss's cross term `Σ coef·Enc(s·wx_h)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LossCross {
    /// The arbiter's public key.
    pub pk: PublicKey,
    /// The guest's loss terms (weights, intercept, task).
    pub terms: LossTerms,
    /// The scale of `coef` (`None`: absolute 2^-20 multipliers).
    pub scale: Option<f64>,
}

impl ApplyPartitionsOp for LossCross {
    const NAME: &'static str = "hetero_lr.loss_cross";
    type K = String;
    type V = (Ciphertext, Instance);
    type Out = Ciphertext;
    fn apply(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, (Ciphertext, Instance))>,
    ) -> Result<Ciphertext, OpError> {
        let mut cts = Vec::new();
        let mut q = Vec::new();
        for (_, (c, x)) in rows {
            let (wx, y) = self.terms.wx_y(&x)?;
            q.push(quantised(self.terms.coef(wx, y), self.scale));
            cts.push(c);
        }
        let exp = cts
            .first()
            .map(|c| c.exponent())
            .unwrap_or(cipher::VALUE_EXP);
        if cts.iter().any(|c| c.exponent() != exp) {
            return Err(OpError::msg("host_forward with mixed exponents"));
        }
        let r = cipher::signed_multi_exp(&self.pk, &cts, &q).map_err(op_err)?;
        Ok(Ciphertext::from_parts(
            r,
            sum_exponent(exp, self.scale.is_some()),
        ))
    }
}

/// Paillier sum of two ciphertexts (the partitions' loss shares).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CipherSum {
    /// The arbiter's public key.
    pub pk: PublicKey,
}

impl ReduceOp for CipherSum {
    const NAME: &'static str = "hetero_lr.cipher_sum";
    type V = Ciphertext;
    fn reduce(&self, a: Ciphertext, b: Ciphertext) -> Result<Ciphertext, OpError> {
        cipher::add(&self.pk, &a, &b).map_err(op_err)
    }
}

/// `x → x·w + b`: a host's plaintext partial score (`host_prob`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartialScore {
    /// Weights.
    pub w: Vec<f64>,
    /// Intercept (0 for hosts).
    pub b: f64,
}

impl MapValuesOp for PartialScore {
    const NAME: &'static str = "hetero_lr.partial_score";
    type V = Instance;
    type Out = f64;
    fn map_value(&self, x: Instance) -> Result<f64, OpError> {
        check_len(&x, self.w.len())?;
        Ok(dot(&x.features, &self.w) + self.b)
    }
}

/// `x → (x·w + b, label or NaN)`: the guest's score and label.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GuestScore {
    /// Weights.
    pub w: Vec<f64>,
    /// Intercept.
    pub b: f64,
}

impl MapValuesOp for GuestScore {
    const NAME: &'static str = "hetero_lr.guest_score";
    type V = Instance;
    type Out = (f64, f64);
    fn map_value(&self, x: Instance) -> Result<(f64, f64), OpError> {
        check_len(&x, self.w.len())?;
        Ok((
            dot(&x.features, &self.w) + self.b,
            x.label.unwrap_or(f64::NAN),
        ))
    }
}

/// `(z, y) ⋈ z_h → (z + z_h, y)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddScore;

impl JoinOp for AddScore {
    const NAME: &'static str = "hetero_lr.add_score";
    type L = (f64, f64);
    type R = f64;
    type Out = (f64, f64);
    fn join(&self, (z, y): (f64, f64), h: f64) -> Result<(f64, f64), OpError> {
        Ok((z + h, y))
    }
}

/// `(z, y) → Prediction` as the in-memory `guest::predict_rows` builds it
/// (binary LR or LinR).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToPrediction {
    /// LR (else LinR).
    pub logistic: bool,
    /// `train` or `validate`.
    pub kind: String,
}

impl MapValuesOp for ToPrediction {
    const NAME: &'static str = "hetero_lr.to_prediction";
    type V = (f64, f64);
    type Out = Prediction;
    fn map_value(&self, (z, label): (f64, f64)) -> Result<Prediction, OpError> {
        Ok(if self.logistic {
            let s = sigmoid(z);
            Prediction {
                label,
                predict_result: if s > 0.5 { 1.0 } else { 0.0 },
                predict_score: s,
                predict_detail: serde_json::json!({"0": 1.0 - s, "1": s}).to_string(),
                kind: self.kind.clone(),
            }
        } else {
            Prediction {
                label,
                predict_result: z,
                predict_score: z,
                predict_detail: serde_json::json!({"label": z}).to_string(),
                kind: self.kind.clone(),
            }
        })
    }
}

/// Union's merge keeping the right (later) row, as `parallelize` keeps the
/// last of duplicate keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeepLater;

impl ReduceOp for KeepLater {
    const NAME: &'static str = "hetero_lr.keep_later";
    type V = Prediction;
    fn reduce(&self, _a: Prediction, b: Prediction) -> Result<Prediction, OpError> {
        Ok(b)
    }
}

/// The distinct labels of a row (LR: to tell binary from one-vs-rest).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabelSet;

impl MapValuesOp for LabelSet {
    const NAME: &'static str = "hetero_lr.label_set";
    type V = Instance;
    type Out = Vec<f64>;
    fn map_value(&self, x: Instance) -> Result<Vec<f64>, OpError> {
        Ok(vec![label_of(&x)?])
    }
}

/// Union of sorted label sets, capped at 3 values (more than 2 classes is
/// all that matters).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabelSetUnion;

impl ReduceOp for LabelSetUnion {
    const NAME: &'static str = "hetero_lr.label_set_union";
    type V = Vec<f64>;
    fn reduce(&self, a: Vec<f64>, b: Vec<f64>) -> Result<Vec<f64>, OpError> {
        let mut v = a;
        v.extend(b);
        v.sort_by(|x, y| x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal));
        v.dedup();
        v.truncate(3);
        Ok(v)
    }
}

// ------------------------------------------------------------ registry examples

/// A fixed 320-bit public key for the examples (deterministic, no DJN use).
fn example_pk() -> PublicKey {
    let mut n = [0xa5u8; 40];
    n[39] |= 1;
    match PublicKey::from_n(BigUint::from_bytes_be(&n)) {
        Ok(pk) => pk,
        Err(e) => unreachable!("a 320-bit odd modulus is a valid key: {e}"),
    }
}

fn example_inst(v: f64, y: f64) -> Instance {
    Instance {
        features: vec![v, -2.0 * v],
        label: Some(y),
        weight: 1.0,
    }
}

fn example_ct(v: f64) -> Ciphertext {
    match cipher::encrypt_vec_with(&example_pk(), &[v], false) {
        Ok(mut c) => c.remove(0),
        Err(e) => unreachable!("example encryption: {e}"),
    }
}

fn example_prediction(kind: &str) -> Prediction {
    Prediction {
        label: 1.0,
        predict_result: 2.0,
        predict_score: 2.0,
        predict_detail: "{\"label\": 2.0}".into(),
        kind: kind.into(),
    }
}

fn example_forward(residual: Residual) -> LrForward {
    LrForward {
        pk: example_pk(),
        w: vec![0.5, -0.25],
        b: 0.1,
        scale: 0.25,
        c: 0.5,
        residual,
        obfuscate: false,
    }
}

fn example_terms() -> LossTerms {
    LossTerms {
        w: vec![0.5, -0.25],
        b: 0.1,
        logistic: true,
    }
}

/// `Enc(d) ⋈ row → Enc(d · weight)`: a residual scaled by its row's sample
/// weight ([`cipher::mul_weight`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CipherWeight {
    /// The arbiter's public key.
    pub pk: PublicKey,
}

impl JoinOp for CipherWeight {
    const NAME: &'static str = "hetero_lr.cipher_weight";
    type L = Ciphertext;
    type R = Instance;
    type Out = Ciphertext;
    fn join(&self, d: Ciphertext, x: Instance) -> Result<Ciphertext, OpError> {
        cipher::mul_weight(&self.pk, &d, x.weight).map_err(op_err)
    }
}

register_op!(map_partitions LrForward, example: example_forward(Residual::Logistic),
    input: vec![("a".to_string(), example_inst(1.5, 1.0)), ("b".to_string(), example_inst(-0.5, 0.0))]);
register_op!(map_values SquaredDot, example: SquaredDot { w: vec![0.5, -0.25] },
    input: vec![("a".to_string(), example_inst(1.5, 1.0))]);
register_op!(reduce SumF64, example: SumF64, input: vec![(1.5f64, 2.25f64)]);
register_op!(join CipherAdd, example: CipherAdd { pk: example_pk() },
    input: vec![(example_ct(0.5), example_ct(-1.25))]);
register_op!(reduce CipherVecSum, example: CipherVecSum { pk: example_pk() },
    input: vec![(vec![example_ct(0.5), example_ct(2.0)], vec![example_ct(-1.25), example_ct(1.0)])]);
register_op!(join CipherWeight, example: CipherWeight { pk: example_pk() }, input: vec![(example_ct(0.5), example_inst(1.5, 1.0))]);
register_op!(join WithInstance, example: WithInstance, input: vec![(example_ct(0.5), example_inst(1.5, 1.0))]);
register_op!(map_values AbsFeatures, example: AbsFeatures,
    input: vec![("a".to_string(), (example_ct(0.5), example_inst(-1.5, 1.0)))]);
register_op!(reduce MaxVec, example: MaxVec, input: vec![(vec![1.0f64, 3.0], vec![2.0f64, 0.5])]);
register_op!(apply_partitions GradientSums,
    example: GradientSums { pk: example_pk(), m: 2, scales: Some(vec![1.5 / 4095.0, 0.0]), intercept: true },
    input: vec![("a".to_string(), (example_ct(0.5), example_inst(1.5, 1.0))),
                ("b".to_string(), (example_ct(-0.25), example_inst(-0.75, 0.0)))]);
register_op!(map_values LossTerms, example: example_terms(), input: vec![("a".to_string(), example_inst(1.5, 1.0))]);
register_op!(reduce LossTermsSum, example: LossTermsSum, input: vec![([1.0f64, 2.0, 3.0, 4.0], [0.5f64, 0.5, 0.5, 5.0])]);
register_op!(apply_partitions LossCross, example: LossCross { pk: example_pk(), terms: example_terms(), scale: None },
    input: vec![("a".to_string(), (example_ct(0.5), example_inst(1.5, 1.0))),
                ("b".to_string(), (example_ct(-0.25), example_inst(-0.75, 0.0)))]);
register_op!(reduce CipherSum, example: CipherSum { pk: example_pk() }, input: vec![(example_ct(0.5), example_ct(-1.25))]);
register_op!(map_values PartialScore, example: PartialScore { w: vec![0.5, -0.25], b: 0.0 },
    input: vec![("a".to_string(), example_inst(1.5, 1.0))]);
register_op!(map_values GuestScore, example: GuestScore { w: vec![0.5, -0.25], b: 0.1 },
    input: vec![("a".to_string(), example_inst(1.5, 1.0))]);
register_op!(join AddScore, example: AddScore, input: vec![((0.5f64, 1.0f64), 0.25f64)]);
register_op!(map_values ToPrediction, example: ToPrediction { logistic: true, kind: "train".into() },
    input: vec![("a".to_string(), (0.5f64, 1.0f64))]);
register_op!(reduce KeepLater, example: KeepLater,
    input: vec![(example_prediction("train"), example_prediction("validate"))]);
register_op!(map_values LabelSet, example: LabelSet, input: vec![("a".to_string(), example_inst(1.5, 1.0))]);
register_op!(reduce LabelSetUnion, example: LabelSetUnion, input: vec![(vec![0.0f64, 1.0], vec![1.0f64, 2.0, 3.0])]);
