//! The tree core every boosting model stands on (HeteroSecureBoost,
//! HomoSecureBoost): quantile thresholds and binning, the xgboost criterion,
//! the objectives, per-node g/h histograms and the best split of a
//! histogram ([`hist`]), feature subsampling and the tree model.

pub mod hist;

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

/// The prediction row of one sample with scores `z` (FATE's layout): the
/// value for regression; the class over `threshold` for binary (sigmoid of
/// the score); the most probable class for multi-class (softmax).
pub fn prediction(
    objective: Objective,
    classes: &[f64],
    threshold: f64,
    label: f64,
    z: &[f64],
    kind: &str,
) -> crate::Prediction {
    match objective {
        Objective::Lse => crate::Prediction {
            label,
            predict_result: z[0],
            predict_score: z[0],
            predict_detail: serde_json::json!({"label": z[0]}).to_string(),
            kind: kind.into(),
        },
        Objective::Binary => {
            let s = crate::hetero_lr::sigmoid(z[0]);
            let c0 = classes.first().copied().unwrap_or(0.0);
            let c1 = classes.get(1).copied().unwrap_or(1.0);
            crate::Prediction {
                label,
                predict_result: if s > threshold { c1 } else { c0 },
                predict_score: s,
                predict_detail: serde_json::json!({ c0.to_string(): 1.0 - s, c1.to_string(): s })
                    .to_string(),
                kind: kind.into(),
            }
        }
        Objective::Multi(_) => {
            let p = softmax(z);
            let (bi, bp) =
                p.iter().enumerate().fold(
                    (0, f64::NEG_INFINITY),
                    |a, (i, &v)| if v > a.1 { (i, v) } else { a },
                );
            let detail: serde_json::Map<String, serde_json::Value> = classes
                .iter()
                .zip(&p)
                .map(|(c, v)| (c.to_string(), serde_json::json!(v)))
                .collect();
            crate::Prediction {
                label,
                predict_result: classes.get(bi).copied().unwrap_or(bi as f64),
                predict_score: bp,
                predict_detail: serde_json::Value::Object(detail).to_string(),
                kind: kind.into(),
            }
        }
    }
}

/// A node of a tree every client holds whole (HomoSecureBoost).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FullNode {
    /// Node id (index in the tree).
    pub id: u32,
    /// Leaf?
    pub is_leaf: bool,
    /// Split feature.
    pub fid: Option<u32>,
    /// Split bin: rows with bin `<= bid` go left.
    pub bid: Option<u16>,
    /// The same as a value: left iff `x <= threshold`.
    pub threshold: Option<f64>,
    /// Where missing values go.
    pub missing_left: bool,
    /// Left child.
    pub left: Option<u32>,
    /// Right child.
    pub right: Option<u32>,
    /// Node weight per output dimension (`−G/(H+λ)`; leaves score with it).
    pub weight: Vec<f64>,
}

/// A tree every client holds whole.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FullTree {
    /// Nodes by id.
    pub nodes: Vec<FullNode>,
    /// The class the tree scores (single-output multi-class), else 0.
    pub class: usize,
}

impl FullTree {
    /// The leaf a row of feature values reaches.
    pub fn leaf(&self, x: &[f64]) -> &FullNode {
        let mut n = &self.nodes[0];
        while let (false, Some(fid), Some(thr), Some(l), Some(r)) =
            (n.is_leaf, n.fid, n.threshold, n.left, n.right)
        {
            let v = x.get(fid as usize).copied().unwrap_or(f64::NAN);
            let left = if v.is_nan() { n.missing_left } else { v <= thr };
            n = &self.nodes[if left { l } else { r } as usize];
        }
        n
    }
}
