//! Per-node g/h histograms and the xgboost best split over one.
//!
//! A node's histogram holds, per feature `j`, one slot per value bin
//! (`split points + 1`) and, with `use_missing`, one more for the rows whose
//! value is missing; each slot is `2·dims + 1` numbers: Σg per output
//! dimension, Σh per output dimension, the row count. Histograms add (the
//! homo arbiter sums the clients') and subtract (a sibling is its parent
//! minus the other child).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The shape of a node's histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistLayout {
    /// Output dimensions (1; the class count for a multi-output tree).
    pub dims: usize,
    /// Value bins per feature.
    pub bins: Vec<usize>,
    /// One extra slot per feature for missing values.
    pub missing: bool,
    offsets: Vec<usize>,
}

impl HistLayout {
    /// Layout for features with these split points.
    pub fn new(dims: usize, split_points: &[Vec<f64>], missing: bool) -> Self {
        let bins: Vec<usize> = split_points.iter().map(|s| s.len() + 1).collect();
        let width = 2 * dims + 1;
        let mut offsets = Vec::with_capacity(bins.len() + 1);
        let mut o = 0;
        for b in &bins {
            offsets.push(o);
            o += (b + missing as usize) * width;
        }
        offsets.push(o);
        HistLayout {
            dims,
            bins,
            missing,
            offsets,
        }
    }

    /// Numbers per slot.
    pub fn width(&self) -> usize {
        2 * self.dims + 1
    }

    /// Numbers in one node's histogram.
    pub fn len(&self) -> usize {
        self.offsets.last().copied().unwrap_or(0)
    }

    /// No feature.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Features.
    pub fn features(&self) -> usize {
        self.bins.len()
    }

    /// The bin index missing values of feature `j` take (`None`: no missing slot).
    pub fn missing_bin(&self, j: usize) -> Option<u16> {
        self.missing.then(|| self.bins[j] as u16)
    }

    fn feature(&self, j: usize) -> std::ops::Range<usize> {
        self.offsets[j]..self.offsets[j + 1]
    }
}

/// Bin of value `x` of a feature with split points `sp`: `#{s < x}`; a
/// missing (NaN) value takes the missing slot when there is one, else bin 0.
pub fn bin_value(x: f64, sp: &[f64], missing: bool) -> u16 {
    if x.is_nan() {
        return if missing { sp.len() as u16 + 1 } else { 0 };
    }
    sp.partition_point(|&s| s < x) as u16
}

/// The histogram of `rows` (indices into `bins` and `gh`): `bins[i][j]` is
/// row `i`'s bin of feature `j`, `gh[i]` its `[g…, h…]` (`2·dims` values).
/// Rows are added in the order given.
pub fn build(layout: &HistLayout, bins: &[Vec<u16>], gh: &[Vec<f64>], rows: &[usize]) -> Vec<f64> {
    let w = layout.width();
    let d = layout.dims;
    let mut out = vec![0.0; layout.len()];
    let mut parts: Vec<(usize, &mut [f64])> = Vec::with_capacity(layout.features());
    let mut rest: &mut [f64] = &mut out;
    for j in 0..layout.features() {
        let (a, b) = rest.split_at_mut(layout.feature(j).len());
        parts.push((j, a));
        rest = b;
    }
    parts.into_par_iter().for_each(|(j, h)| {
        for &i in rows {
            let s = bins[i][j] as usize * w;
            let v = &gh[i];
            for k in 0..2 * d {
                h[s + k] += v[k];
            }
            h[s + 2 * d] += 1.0;
        }
    });
    out
}

/// `a − b`, slot by slot (a sibling's histogram from its parent's).
pub fn subtract(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// A node's totals `[g…, h…, count]` read off its histogram (every row is
/// in exactly one slot of feature 0).
pub fn totals(layout: &HistLayout, hist: &[f64]) -> Vec<f64> {
    let w = layout.width();
    let mut t = vec![0.0; w];
    if layout.features() == 0 {
        return t;
    }
    for slot in hist[layout.feature(0)].chunks(w) {
        t.iter_mut().zip(slot).for_each(|(a, b)| *a += b);
    }
    t
}

/// The split criterion's parameters.
#[derive(Debug, Clone, Copy)]
pub struct SplitRule {
    /// L2 regulariser λ.
    pub lambda: f64,
    /// Minimum rows per child.
    pub min_leaf: usize,
    /// Minimum Σh per child (summed over the dimensions).
    pub min_child_weight: f64,
}

/// The best split of a node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// xgboost gain, summed over the dimensions.
    pub gain: f64,
    /// Feature.
    pub fid: u32,
    /// Rows with bin `<= bid` go left.
    pub bid: u16,
    /// Rows with a missing value go left (only with a missing slot).
    pub missing_left: bool,
    /// The left child's `[g…, h…, count]`.
    pub left: Vec<f64>,
}

/// xgboost gain of splitting `total` into `left` and the rest, over `d` dims.
pub fn gain_of(total: &[f64], left: &[f64], d: usize, lambda: f64) -> f64 {
    (0..d)
        .map(|k| super::gain(total[k], total[d + k], left[k], left[d + k], lambda))
        .sum()
}

/// The node weights `−G/(H+λ)` per dimension of `[g…, h…, …]`.
pub fn weights(stats: &[f64], d: usize, lambda: f64) -> Vec<f64> {
    (0..d)
        .map(|k| super::leaf_weight(stats[k], stats[d + k], lambda))
        .collect()
}

/// The best split of the node with histogram `hist` and totals `total`
/// over the features `use_f` marks; `None` when no split satisfies the rule.
/// Candidates: every value bin `b` (left: bins `<= b`) and, when the feature
/// has missing rows, both directions for them; ties ([`improves`]) keep the
/// first (lowest feature, bin, missing right before left).
pub fn best_split(
    layout: &HistLayout,
    hist: &[f64],
    total: &[f64],
    use_f: &[bool],
    rule: &SplitRule,
) -> Option<Split> {
    let w = layout.width();
    let d = layout.dims;
    let cnt = total[2 * d];
    let hsum = |s: &[f64]| s[d..2 * d].iter().sum::<f64>();
    let h_total = hsum(total);
    let min_leaf = rule.min_leaf as f64;
    let per_feature: Vec<Option<Split>> = (0..layout.features())
        .into_par_iter()
        .map(|j| {
            if !use_f.get(j).copied().unwrap_or(false) {
                return None;
            }
            let h = &hist[layout.feature(j)];
            let nb = layout.bins[j];
            let missing: Option<&[f64]> = layout
                .missing
                .then(|| &h[nb * w..(nb + 1) * w])
                .filter(|m| m[2 * d] >= 0.5);
            let mut left = vec![0.0; w];
            let mut best: Option<Split> = None;
            for b in 0..nb {
                let slot = &h[b * w..(b + 1) * w];
                if slot[2 * d] < 0.5 {
                    continue;
                }
                left.iter_mut().zip(slot).for_each(|(a, x)| *a += x);
                let mut consider = |l: &[f64], missing_left: bool| {
                    let cl = l[2 * d];
                    if cl < min_leaf || cnt - cl < min_leaf {
                        return;
                    }
                    let hl = hsum(l);
                    if hl < rule.min_child_weight || h_total - hl < rule.min_child_weight {
                        return;
                    }
                    let g = gain_of(total, l, d, rule.lambda);
                    if best.as_ref().is_none_or(|s| improves(g, s.gain)) {
                        best = Some(Split {
                            gain: g,
                            fid: j as u32,
                            bid: b as u16,
                            missing_left,
                            left: l.to_vec(),
                        });
                    }
                };
                consider(&left, false);
                if let Some(m) = missing {
                    let with: Vec<f64> = left.iter().zip(m).map(|(a, x)| a + x).collect();
                    consider(&with, true);
                }
            }
            best
        })
        .collect();
    per_feature
        .into_iter()
        .flatten()
        .fold(None, |acc: Option<Split>, s| match acc {
            Some(a) if !improves(s.gain, a.gain) => Some(a),
            _ => Some(s),
        })
}

/// Whether gain `new` beats `old`: by more than a relative 1e-9, so that
/// candidates with the same partition (equal gains, up to the rounding of
/// sums that arrive through secure aggregation) keep the first.
pub fn improves(new: f64, old: f64) -> bool {
    new > old + 1e-9 * old.abs().max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> SplitRule {
        SplitRule {
            lambda: 0.1,
            min_leaf: 1,
            min_child_weight: 0.0,
        }
    }

    #[test]
    fn histograms_add_up_and_the_best_split_is_the_brute_force_one() {
        // Two features, 6 rows, one dimension.
        let sps = vec![vec![1.0, 2.0], vec![0.5]];
        let x = [
            [0.0, 0.0],
            [1.5, 1.0],
            [2.5, 0.0],
            [0.5, 1.0],
            [3.0, 1.0],
            [1.0, 0.0],
        ];
        let g = [-1.0, 0.5, 0.8, -0.7, 0.9, -0.2];
        let layout = HistLayout::new(1, &sps, false);
        let bins: Vec<Vec<u16>> = x
            .iter()
            .map(|r| {
                vec![
                    bin_value(r[0], &sps[0], false),
                    bin_value(r[1], &sps[1], false),
                ]
            })
            .collect();
        let gh: Vec<Vec<f64>> = g.iter().map(|&g| vec![g, 0.25]).collect();
        let all: Vec<usize> = (0..6).collect();
        let hist = build(&layout, &bins, &gh, &all);
        let total = totals(&layout, &hist);
        assert_eq!(total[2], 6.0);
        assert!((total[0] - g.iter().sum::<f64>()).abs() < 1e-12);
        // Sibling by subtraction equals building it.
        let left = build(&layout, &bins, &gh, &[0, 1, 2]);
        let right = build(&layout, &bins, &gh, &[3, 4, 5]);
        for (a, b) in subtract(&hist, &left).iter().zip(&right) {
            assert!((a - b).abs() < 1e-12);
        }
        // Brute force over thresholds.
        let mut brute: Option<(f64, u32, u16)> = None;
        for (j, sp) in sps.iter().enumerate() {
            for (b, &thr) in sp.iter().enumerate() {
                let (mut gl, mut hl, mut n) = (0.0, 0.0, 0);
                for (r, &gi) in x.iter().zip(&g) {
                    if r[j] <= thr {
                        gl += gi;
                        hl += 0.25;
                        n += 1;
                    }
                }
                if n == 0 || n == 6 {
                    continue;
                }
                let gn = crate::tree::gain(total[0], total[1], gl, hl, 0.1);
                if brute.is_none_or(|b| gn > b.0) {
                    brute = Some((gn, j as u32, b as u16));
                }
            }
        }
        let s = best_split(&layout, &hist, &total, &[true, true], &rule()).unwrap();
        let (gn, fid, bid) = brute.unwrap();
        assert_eq!((s.fid, s.bid), (fid, bid));
        assert!((s.gain - gn).abs() < 1e-12);
        // Excluding the winner's feature picks another.
        let mut use_f = vec![true, true];
        use_f[fid as usize] = false;
        let other = best_split(&layout, &hist, &total, &use_f, &rule()).unwrap();
        assert_ne!(other.fid, fid);
    }

    #[test]
    fn missing_values_get_their_slot_and_the_better_direction() {
        let sps = vec![vec![1.0]];
        let layout = HistLayout::new(1, &sps, true);
        assert_eq!(layout.missing_bin(0), Some(2));
        // Missing rows have large positive g, like the right side.
        let x = [0.0, 0.5, 2.0, 3.0, f64::NAN, f64::NAN];
        let g = [-1.0, -1.0, 1.0, 1.0, 1.0, 1.0];
        let bins: Vec<Vec<u16>> = x
            .iter()
            .map(|&v| vec![bin_value(v, &sps[0], true)])
            .collect();
        assert_eq!(bins[4], vec![2]);
        let gh: Vec<Vec<f64>> = g.iter().map(|&g| vec![g, 1.0]).collect();
        let hist = build(&layout, &bins, &gh, &(0..6).collect::<Vec<_>>());
        let total = totals(&layout, &hist);
        let s = best_split(&layout, &hist, &total, &[true], &rule()).unwrap();
        assert_eq!((s.bid, s.missing_left), (0, false));
        assert_eq!(s.left[2], 2.0);
        // Flip the missing rows' gradients: they join the left.
        let gh: Vec<Vec<f64>> = g
            .iter()
            .enumerate()
            .map(|(i, &g)| vec![if i >= 4 { -1.0 } else { g }, 1.0])
            .collect();
        let hist = build(&layout, &bins, &gh, &(0..6).collect::<Vec<_>>());
        let total = totals(&layout, &hist);
        let s = best_split(&layout, &hist, &total, &[true], &rule()).unwrap();
        assert_eq!((s.bid, s.missing_left), (0, true));
        assert_eq!(s.left[2], 4.0);
    }

    #[test]
    fn multi_output_gain_sums_the_dimensions() {
        let total = [1.0, -2.0, 3.0, 4.0, 10.0];
        let left = [0.5, -1.5, 1.0, 2.0, 4.0];
        let g = gain_of(&total, &left, 2, 0.1);
        let e = crate::tree::gain(1.0, 3.0, 0.5, 1.0, 0.1)
            + crate::tree::gain(-2.0, 4.0, -1.5, 2.0, 0.1);
        assert!((g - e).abs() < 1e-15);
        assert_eq!(weights(&total, 2, 0.1), vec![-1.0 / 3.1, 2.0 / 4.1]);
    }
}
