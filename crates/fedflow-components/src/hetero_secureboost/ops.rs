//! SecureBoost's building blocks: quantile binning, the xgboost criterion,
//! objectives, the g/h fixed-point layout and the tree model.

use serde::{Deserialize, Serialize};

/// Split points of one feature: at most `bin_num − 1` thresholds; a value
/// `x` is in bin `#{s < x}` and goes left at split `b` iff `x ≤ split[b]`.
pub fn split_points(values: &[f64], bin_num: u32) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v.dedup();
    if v.len() <= 1 {
        return vec![];
    }
    let bins = bin_num as usize;
    if v.len() <= bins {
        v.pop();
        return v;
    }
    // Quantiles of the full (non-deduplicated) distribution.
    let mut all: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = all.len();
    let mut sp: Vec<f64> = (1..bins)
        .map(|k| all[((k * n) / bins).saturating_sub(1).min(n - 1)])
        .collect();
    sp.dedup();
    let max = all[n - 1];
    sp.retain(|&s| s < max);
    sp
}

/// Bin of a value given its feature's split points (NaN → bin 0).
pub fn bin_of(x: f64, sp: &[f64]) -> u16 {
    if x.is_nan() {
        return 0;
    }
    sp.partition_point(|&s| s < x) as u16
}

/// Bins of a row-major matrix: `(split points per feature, bins[row][feature])`.
pub fn bin_matrix(x: &[Vec<f64>], bin_num: u32) -> (Vec<Vec<f64>>, Vec<Vec<u16>>) {
    let m = x.first().map(|r| r.len()).unwrap_or(0);
    let sps: Vec<Vec<f64>> = (0..m)
        .map(|j| {
            let col: Vec<f64> = x.iter().map(|r| r[j]).collect();
            split_points(&col, bin_num)
        })
        .collect();
    let bins = x
        .iter()
        .map(|r| (0..m).map(|j| bin_of(r[j], &sps[j])).collect())
        .collect();
    (sps, bins)
}

/// xgboost node score `G²/(H+λ)`.
pub fn score(g: f64, h: f64, lambda: f64) -> f64 {
    g * g / (h + lambda)
}

/// Gain of splitting `(g, h)` into left `(gl, hl)` and the rest.
pub fn gain(g: f64, h: f64, gl: f64, hl: f64, lambda: f64) -> f64 {
    score(gl, hl, lambda) + score(g - gl, h - hl, lambda) - score(g, h, lambda)
}

/// Leaf weight `−G/(H+λ)`.
pub fn leaf_weight(g: f64, h: f64, lambda: f64) -> f64 {
    -g / (h + lambda)
}

/// Softmax of a score vector.
pub fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

/// Objective kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Objective {
    /// Sigmoid binary cross-entropy (one score).
    Binary,
    /// Softmax cross-entropy over `k` classes (one tree per class per round).
    Multi(usize),
    /// Least squares.
    Lse,
}

impl Objective {
    /// Scores per sample.
    pub fn dims(self) -> usize {
        match self {
            Objective::Multi(k) => k,
            _ => 1,
        }
    }

    /// Initial score (binary and multi-class 0; regression the mean label).
    pub fn init(self, y: &[f64]) -> Vec<f64> {
        match self {
            Objective::Lse => vec![y.iter().sum::<f64>() / y.len().max(1) as f64],
            o => vec![0.0; o.dims()],
        }
    }

    /// `(g, h)` of class `k` for one sample with scores `z` and label `y`
    /// (class index for classification).
    pub fn grad_hess(self, z: &[f64], y: f64, k: usize) -> (f64, f64) {
        match self {
            Objective::Binary => {
                let p = crate::hetero_lr::sigmoid(z[0]);
                (p - y, p * (1.0 - p))
            }
            Objective::Multi(_) => {
                let p = softmax(z);
                let t = if y as usize == k { 1.0 } else { 0.0 };
                (p[k] - t, p[k] * (1.0 - p[k]))
            }
            Objective::Lse => (z[0] - y, 1.0),
        }
    }

    /// Mean training loss.
    pub fn loss(self, scores: &[Vec<f64>], y: &[f64]) -> f64 {
        let n = y.len().max(1) as f64;
        let eps = 1e-15;
        scores
            .iter()
            .zip(y)
            .map(|(z, &t)| match self {
                Objective::Binary => {
                    let p = crate::hetero_lr::sigmoid(z[0]).clamp(eps, 1.0 - eps);
                    -(t * p.ln() + (1.0 - t) * (1.0 - p).ln())
                }
                Objective::Multi(_) => -softmax(z)[t as usize].max(eps).ln(),
                Objective::Lse => (z[0] - t).powi(2),
            })
            .sum::<f64>()
            / n
    }
}

/// Fractional bits of packed g/h (2^-36 ≈ 1.5e-11 per value; FATE packs 53
/// bits, but fewer bits mean more split sums per compressed ciphertext and
/// fewer squarings when compressing).
pub const FRAC_BITS: u32 = 36;

/// Fixed-point layout of a packed `(g, h)` plaintext:
/// `((g + g_off)·2^frac) << h_bits | h·2^frac`, each slot with headroom for
/// summing all samples; the whole pair fits a `u128`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct GhLayout {
    /// Fractional bits.
    pub frac: u32,
    /// Offset added to g (≥ −min g).
    pub g_off: f64,
    /// Bits of the h slot (value + headroom).
    pub h_bits: u32,
    /// Bits of the whole pair.
    pub pair_bits: u32,
}

impl GhLayout {
    /// Layout for gradients with `g ∈ [g_min, g_max]`, `h ∈ [0, h_max]`, `n` samples.
    pub fn new(g_min: f64, g_max: f64, h_max: f64, n: usize) -> Self {
        let head = 64 - (n as u64).leading_zeros();
        let g_off = (-g_min).max(0.0);
        let g_int = ((g_max + g_off).max(1.0)).log2().ceil() as u32 + 1;
        let h_int = (h_max.max(1.0)).log2().ceil() as u32 + 1;
        let frac = ((126 - 2 * head - g_int - h_int) / 2).min(FRAC_BITS);
        let h_bits = frac + h_int + head;
        let pair_bits = h_bits + frac + g_int + head;
        GhLayout {
            frac,
            g_off,
            h_bits,
            pair_bits,
        }
    }

    /// The packed plaintext of one sample.
    pub fn pack(&self, g: f64, h: f64) -> u128 {
        let s = 2f64.powi(self.frac as i32);
        let gi = ((g + self.g_off) * s).round().max(0.0) as u128;
        let hi = (h * s).round().max(0.0) as u128;
        (gi << self.h_bits) | hi
    }

    /// `(Σg, Σh)` of a sum of `count` packed plaintexts.
    pub fn unpack(&self, v: u128, count: u64) -> (f64, f64) {
        let s = 2f64.powi(self.frac as i32);
        let hi = v & ((1u128 << self.h_bits) - 1);
        let gi = v >> self.h_bits;
        (gi as f64 / s - self.g_off * count as f64, hi as f64 / s)
    }
}

/// A tree node as the guest stores it (host splits carry only the site).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Node {
    /// Node id (index in the tree).
    pub id: u32,
    /// `guest:9999` or `host:10000`.
    pub sitename: String,
    /// Leaf?
    pub is_leaf: bool,
    /// Leaf weight.
    pub weight: f64,
    /// Guest splits: feature index; host splits: none.
    pub fid: Option<u32>,
    /// Guest splits: threshold (left iff `x ≤ threshold`).
    pub threshold: Option<f64>,
    /// Left child.
    pub left: Option<u32>,
    /// Right child.
    pub right: Option<u32>,
}

/// One tree of the guest's model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tree {
    /// Nodes by id.
    pub nodes: Vec<Node>,
    /// The class the tree scores (multi-class), else 0.
    pub class: usize,
}

/// A host's part of one tree: node id → (feature index, threshold).
pub type SplitMaskDict = std::collections::BTreeMap<u32, (u32, f64)>;

/// Features a party uses for one tree (`subsample_feature_rate`), seeded.
pub fn sample_features(m: usize, rate: f64, seed: u64) -> Vec<bool> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    if rate >= 1.0 || m == 0 {
        return vec![true; m];
    }
    let k = ((m as f64 * rate).ceil() as usize).clamp(1, m);
    let mut idx: Vec<usize> = (0..m).collect();
    idx.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    let mut keep = vec![false; m];
    for &i in &idx[..k] {
        keep[i] = true;
    }
    keep
}
