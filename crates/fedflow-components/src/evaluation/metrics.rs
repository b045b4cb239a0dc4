//! Evaluation metrics as plain functions over (label, score) pairs.

/// Area under the ROC curve; ties get average ranks (0.5 credit). `None`
/// without both classes.
pub fn auc(labels: &[f64], scores: &[f64]) -> Option<f64> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut pos, mut i) = (0.0f64, 0u64, 0usize);
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if labels[k] == 1.0 {
                rank_sum += avg;
                pos += 1;
            }
        }
        i = j + 1;
    }
    let neg = scores.len() as u64 - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let p = pos as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * neg as f64))
}

/// ROC points `(threshold, fpr, tpr)`, one per distinct score (descending),
/// starting at (+inf, 0, 0).
pub fn roc(labels: &[f64], scores: &[f64]) -> Vec<(f64, f64, f64)> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let pos = labels.iter().filter(|&&l| l == 1.0).count() as f64;
    let neg = labels.len() as f64 - pos;
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut out = vec![(f64::INFINITY, 0.0, 0.0)];
    let mut i = 0;
    while i < idx.len() {
        let t = scores[idx[i]];
        while i < idx.len() && scores[idx[i]] == t {
            if labels[idx[i]] == 1.0 {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        out.push((
            t,
            if neg > 0.0 { fp / neg } else { 0.0 },
            if pos > 0.0 { tp / pos } else { 0.0 },
        ));
    }
    out
}

/// KS: the largest `tpr − fpr` over thresholds.
pub fn ks(labels: &[f64], scores: &[f64]) -> f64 {
    roc(labels, scores)
        .iter()
        .map(|&(_, f, t)| t - f)
        .fold(0.0, f64::max)
}

/// (precision, recall) of class `pos` for predicted classes.
pub fn precision_recall(labels: &[f64], predicted: &[f64], pos: f64) -> (f64, f64) {
    let mut tp = 0.0;
    let mut pp = 0.0;
    let mut ap = 0.0;
    for (&l, &p) in labels.iter().zip(predicted) {
        if p == pos {
            pp += 1.0;
            if l == pos {
                tp += 1.0;
            }
        }
        if l == pos {
            ap += 1.0;
        }
    }
    (
        if pp > 0.0 { tp / pp } else { 0.0 },
        if ap > 0.0 { tp / ap } else { 0.0 },
    )
}

/// Fraction of equal labels.
pub fn accuracy(labels: &[f64], predicted: &[f64]) -> f64 {
    if labels.is_empty() {
        return 0.0;
    }
    labels.iter().zip(predicted).filter(|(a, b)| a == b).count() as f64 / labels.len() as f64
}

/// Macro-averaged (precision, recall) over the classes seen in labels.
pub fn macro_precision_recall(labels: &[f64], predicted: &[f64]) -> (f64, f64) {
    let mut classes: Vec<f64> = labels.to_vec();
    classes.sort_by(f64::total_cmp);
    classes.dedup();
    if classes.is_empty() {
        return (0.0, 0.0);
    }
    let (mut p, mut r) = (0.0, 0.0);
    for &c in &classes {
        let (pc, rc) = precision_recall(labels, predicted, c);
        p += pc;
        r += rc;
    }
    (p / classes.len() as f64, r / classes.len() as f64)
}

/// Lift and gain at each tenth of the samples ranked by score (descending):
/// `(fraction, lift, gain)`.
pub fn lift_gain(labels: &[f64], scores: &[f64], bins: usize) -> Vec<(f64, f64, f64)> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let n = idx.len();
    let pos = labels.iter().filter(|&&l| l == 1.0).count() as f64;
    if n == 0 || pos == 0.0 {
        return Vec::new();
    }
    let base = pos / n as f64;
    (1..=bins)
        .map(|b| {
            let k = (n * b).div_ceil(bins);
            let hits = idx[..k].iter().filter(|&&i| labels[i] == 1.0).count() as f64;
            (b as f64 / bins as f64, (hits / k as f64) / base, hits / pos)
        })
        .collect()
}

/// Regression metrics: (rmse, mse, mae, median_ae, r2, explained_variance).
pub fn regression(labels: &[f64], predicted: &[f64]) -> [f64; 6] {
    let n = labels.len() as f64;
    if labels.is_empty() {
        return [0.0; 6];
    }
    let err: Vec<f64> = labels.iter().zip(predicted).map(|(y, p)| y - p).collect();
    let mse = err.iter().map(|e| e * e).sum::<f64>() / n;
    let mae = err.iter().map(|e| e.abs()).sum::<f64>() / n;
    let mut abs: Vec<f64> = err.iter().map(|e| e.abs()).collect();
    abs.sort_by(f64::total_cmp);
    let m = abs.len();
    let medae = if m % 2 == 1 {
        abs[m / 2]
    } else {
        (abs[m / 2 - 1] + abs[m / 2]) / 2.0
    };
    let mean = labels.iter().sum::<f64>() / n;
    let var_y = labels.iter().map(|y| (y - mean) * (y - mean)).sum::<f64>() / n;
    let mean_e = err.iter().sum::<f64>() / n;
    let var_e = err.iter().map(|e| (e - mean_e) * (e - mean_e)).sum::<f64>() / n;
    let (r2, ev) = if var_y > 0.0 {
        (1.0 - mse / var_y, 1.0 - var_e / var_y)
    } else {
        (0.0, 0.0)
    };
    [mse.sqrt(), mse, mae, medae, r2, ev]
}
