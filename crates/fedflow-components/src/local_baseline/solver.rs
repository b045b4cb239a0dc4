//! scikit-learn's `LogisticRegression` objective, minimised in plaintext.
//!
//! For weights `W` (one row per output: 1 for a binary or one-vs-rest model,
//! one per class for a multinomial one), intercepts `b` and row weights `s`
//! (sample weight × class weight), sklearn minimises
//!
//! ```text
//! C · Σ s_i · loss_i(W, b) + (1 − ρ)/2 · ‖W‖² + ρ · ‖W‖₁
//! ```
//!
//! with `loss_i` the binary log-loss (targets 0/1) or the softmax
//! cross-entropy, `ρ` = 0 for `l2`, 1 for `l1`, `l1_ratio` for `elasticnet`
//! and no penalty at all for `none`. The intercept is not penalised, except
//! for liblinear, which treats it as the coefficient of a constant column of
//! value `intercept_scaling` (so it is penalised like a weight).
//!
//! fedflow minimises the same objective divided by `C · Σ s` (as sklearn ≥ 1.2
//! does for lbfgs): L-BFGS for the smooth penalties, proximal gradient with
//! Nesterov acceleration (FISTA) and backtracking for `l1` / `elasticnet`.
//! Both stop when the largest component of the (proximal) gradient is at
//! most `tol`, or after `max_iter` iterations.

/// The penalty, as sklearn's `penalty` / `l1_ratio`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Penalty {
    None,
    L2,
    L1,
    ElasticNet(f64),
}

impl Penalty {
    /// `(l2 share, l1 share)` of the penalty.
    fn shares(self) -> (f64, f64) {
        match self {
            Penalty::None => (0.0, 0.0),
            Penalty::L2 => (1.0, 0.0),
            Penalty::L1 => (0.0, 1.0),
            Penalty::ElasticNet(r) => (1.0 - r, r),
        }
    }
}

/// What to fit.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub penalty: Penalty,
    /// sklearn's `C`: inverse regularisation strength.
    pub c: f64,
    pub tol: f64,
    pub max_iter: usize,
    pub fit_intercept: bool,
    /// liblinear: the intercept is the penalised weight of a constant column
    /// of this value.
    pub penalized_intercept: Option<f64>,
}

/// A fitted model: per output, the feature weights and the intercept.
#[derive(Debug, Clone)]
pub(crate) struct Fitted {
    pub coef: Vec<Vec<f64>>,
    pub intercept: Vec<f64>,
    pub n_iter: usize,
    pub converged: bool,
}

/// The targets: 0/1 per row (one output) or a class index per row
/// (multinomial over `k` classes).
pub(crate) enum Targets<'a> {
    Binary(&'a [f64]),
    Classes(&'a [usize], usize),
}

/// The normalised objective over the parameter vector
/// `[w_0 (m), b_0, w_1 (m), b_1, …]`.
struct Objective<'a> {
    x: &'a [Vec<f64>],
    t: &'a Targets<'a>,
    s: &'a [f64],
    m: usize,
    k: usize,
    /// Multiplier of the intercept parameter in the margin (1, or liblinear's
    /// `intercept_scaling`); 0 without an intercept.
    b_scale: f64,
    b_penalized: bool,
    l2: f64,
    l1: f64,
}

impl Objective<'_> {
    fn dim(&self) -> usize {
        self.k * (self.m + 1)
    }

    fn penalized(&self, j: usize) -> bool {
        j % (self.m + 1) < self.m || self.b_penalized
    }

    fn margin(&self, p: &[f64], row: &[f64], c: usize) -> f64 {
        let o = c * (self.m + 1);
        let w = &p[o..o + self.m];
        row.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + p[o + self.m] * self.b_scale
    }

    /// The smooth part's value and gradient (into `g`).
    fn value_grad(&self, p: &[f64], g: &mut [f64]) -> f64 {
        g.iter_mut().for_each(|v| *v = 0.0);
        let sw: f64 = self.s.iter().sum();
        let mut loss = 0.0;
        let m1 = self.m + 1;
        let mut z = vec![0.0; self.k];
        for (i, row) in self.x.iter().enumerate() {
            let si = self.s[i] / sw;
            if si == 0.0 {
                continue;
            }
            match self.t {
                Targets::Binary(t) => {
                    let zi = self.margin(p, row, 0);
                    // log(1 + e^z) − t·z, stably.
                    loss += si * (softplus(zi) - t[i] * zi);
                    z[0] = si * (sigmoid(zi) - t[i]);
                }
                Targets::Classes(y, _) => {
                    for (c, zc) in z.iter_mut().enumerate() {
                        *zc = self.margin(p, row, c);
                    }
                    let mx = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let se: f64 = z.iter().map(|v| (v - mx).exp()).sum();
                    let lse = mx + se.ln();
                    loss += si * (lse - z[y[i]]);
                    for (c, zc) in z.iter_mut().enumerate() {
                        let pc = (*zc - lse).exp();
                        *zc = si * (pc - if c == y[i] { 1.0 } else { 0.0 });
                    }
                }
            }
            for (c, &r) in z.iter().enumerate() {
                let o = c * m1;
                for (gj, xj) in g[o..o + self.m].iter_mut().zip(row) {
                    *gj += r * xj;
                }
                g[o + self.m] += r * self.b_scale;
            }
        }
        let mut pen = 0.0;
        for j in 0..self.dim() {
            if self.penalized(j) {
                pen += 0.5 * self.l2 * p[j] * p[j];
                g[j] += self.l2 * p[j];
            }
        }
        if self.b_scale == 0.0 {
            for c in 0..self.k {
                g[c * m1 + self.m] = 0.0;
            }
        }
        loss + pen
    }

    fn l1_value(&self, p: &[f64]) -> f64 {
        if self.l1 == 0.0 {
            return 0.0;
        }
        (0..self.dim())
            .filter(|&j| self.penalized(j))
            .map(|j| self.l1 * p[j].abs())
            .sum()
    }

    /// The proximal step of the l1 part with step `step`.
    fn prox(&self, p: &mut [f64], step: f64) {
        if self.l1 == 0.0 {
            return;
        }
        let th = self.l1 * step;
        for (j, v) in p.iter_mut().enumerate() {
            if self.penalized(j) {
                *v = v.signum() * (v.abs() - th).max(0.0);
            }
        }
    }
}

fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

pub(crate) fn sigmoid(z: f64) -> f64 {
    crate::hetero_lr::sigmoid(z)
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |a, b| a.max(b.abs()))
}

fn dotp(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Fits one model (binary or multinomial) on rows `x` with weights `s`.
pub(crate) fn fit(x: &[Vec<f64>], t: &Targets<'_>, s: &[f64], spec: &Spec) -> Fitted {
    let m = x.first().map(|r| r.len()).unwrap_or(0);
    let k = match t {
        Targets::Binary(_) => 1,
        Targets::Classes(_, k) => *k,
    };
    let sw: f64 = s.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let (l2s, l1s) = spec.penalty.shares();
    let obj = Objective {
        x,
        t,
        s,
        m,
        k,
        b_scale: match (spec.fit_intercept, spec.penalized_intercept) {
            (false, _) => 0.0,
            (true, Some(scale)) => scale,
            (true, None) => 1.0,
        },
        b_penalized: spec.fit_intercept && spec.penalized_intercept.is_some(),
        l2: l2s / (spec.c * sw),
        l1: l1s / (spec.c * sw),
    };
    let p0 = vec![0.0; obj.dim()];
    let (p, n_iter, converged) = if obj.l1 > 0.0 {
        fista(&obj, p0, spec.tol, spec.max_iter)
    } else {
        lbfgs(&obj, p0, spec.tol, spec.max_iter)
    };
    let m1 = m + 1;
    Fitted {
        coef: (0..k).map(|c| p[c * m1..c * m1 + m].to_vec()).collect(),
        intercept: (0..k).map(|c| p[c * m1 + m] * obj.b_scale).collect(),
        n_iter,
        converged,
    }
}

/// L-BFGS (10 corrections) with a backtracking Armijo line search.
fn lbfgs(
    obj: &Objective<'_>,
    mut p: Vec<f64>,
    tol: f64,
    max_iter: usize,
) -> (Vec<f64>, usize, bool) {
    const MEMORY: usize = 10;
    let d = p.len();
    let mut g = vec![0.0; d];
    let mut f = obj.value_grad(&p, &mut g);
    if max_abs(&g) <= tol {
        return (p, 0, true);
    }
    let mut mem: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> = Default::default();
    let mut gn = vec![0.0; d];
    for it in 1..=max_iter {
        // Two-loop recursion: dir = −H·g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(mem.len());
        for (s, y, rho) in mem.iter().rev() {
            let a = rho * dotp(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        if let Some((s, y, _)) = mem.back() {
            let gamma = dotp(s, y) / dotp(y, y);
            q.iter_mut().for_each(|v| *v *= gamma);
        } else {
            let n = dotp(&g, &g).sqrt();
            q.iter_mut().for_each(|v| *v /= n.max(1.0));
        }
        for ((s, y, rho), a) in mem.iter().zip(alphas.iter().rev()) {
            let b = rho * dotp(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let mut dir: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dotp(&g, &dir);
        if slope >= 0.0 {
            mem.clear();
            dir = g.iter().map(|v| -v).collect();
            slope = -dotp(&g, &g);
        }
        let mut step = 1.0;
        let mut pn = vec![0.0; d];
        let mut fnew = f;
        let mut accepted = false;
        for _ in 0..60 {
            pn.iter_mut()
                .zip(&p)
                .zip(&dir)
                .for_each(|((n, pi), di)| *n = pi + step * di);
            fnew = obj.value_grad(&pn, &mut gn);
            if fnew <= f + 1e-4 * step * slope {
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            return (p, it, max_abs(&g) <= tol);
        }
        let s: Vec<f64> = pn.iter().zip(&p).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dotp(&s, &y);
        if sy > 1e-12 {
            if mem.len() == MEMORY {
                mem.pop_front();
            }
            mem.push_back((s, y, 1.0 / sy));
        }
        let fold = f;
        std::mem::swap(&mut p, &mut pn);
        std::mem::swap(&mut g, &mut gn);
        f = fnew;
        if max_abs(&g) <= tol {
            return (p, it, true);
        }
        // scipy's ftol (sklearn passes 64 · machine epsilon).
        if (fold - f) <= 64.0 * f64::EPSILON * fold.abs().max(f.abs()).max(1.0) {
            return (p, it, true);
        }
    }
    (p, max_iter, false)
}

/// FISTA with backtracking and adaptive restart, for the l1 penalties.
fn fista(
    obj: &Objective<'_>,
    mut p: Vec<f64>,
    tol: f64,
    max_iter: usize,
) -> (Vec<f64>, usize, bool) {
    let d = p.len();
    let mut lip = 1.0;
    let mut y = p.clone();
    let mut t: f64 = 1.0;
    let mut gy = vec![0.0; d];
    let mut gp = vec![0.0; d];
    let mut f_p = obj.value_grad(&p, &mut gp) + obj.l1_value(&p);
    for it in 1..=max_iter {
        let fy = obj.value_grad(&y, &mut gy);
        let mut pn;
        loop {
            pn = y
                .iter()
                .zip(&gy)
                .map(|(a, b)| a - b / lip)
                .collect::<Vec<_>>();
            obj.prox(&mut pn, 1.0 / lip);
            let diff: Vec<f64> = pn.iter().zip(&y).map(|(a, b)| a - b).collect();
            let mut scratch = vec![0.0; d];
            let fpn = obj.value_grad(&pn, &mut scratch);
            if fpn <= fy + dotp(&gy, &diff) + 0.5 * lip * dotp(&diff, &diff) + 1e-15 || lip > 1e12 {
                break;
            }
            lip *= 2.0;
        }
        let f_new = obj.value_grad(&pn, &mut gp) + obj.l1_value(&pn);
        let t_new = (1.0 + (1.0 + 4.0 * t * t).sqrt()) / 2.0;
        if f_new > f_p {
            // Restart the momentum.
            t = 1.0;
            y = pn.clone();
        } else {
            let mom = (t - 1.0) / t_new;
            y = pn.iter().zip(&p).map(|(a, b)| a + mom * (a - b)).collect();
            t = t_new;
        }
        p = pn;
        f_p = f_new;
        // The proximal gradient at p: (p − prox(p − g/L))·L.
        let mut q: Vec<f64> = p.iter().zip(&gp).map(|(a, b)| a - b / lip).collect();
        obj.prox(&mut q, 1.0 / lip);
        let gmap: Vec<f64> = p.iter().zip(&q).map(|(a, b)| (a - b) * lip).collect();
        if max_abs(&gmap) <= tol {
            return (p, it, true);
        }
        lip *= 0.9;
    }
    (p, max_iter, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> (Vec<Vec<f64>>, Vec<f64>) {
        // y = 1 when x0 + 0.5·x1 > 0.2, with some label noise.
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..200 {
            let a = ((i * 37) % 101) as f64 / 50.0 - 1.0;
            let b = ((i * 53) % 97) as f64 / 48.0 - 1.0;
            x.push(vec![a, b]);
            let mut l = if a + 0.5 * b > 0.2 { 1.0 } else { 0.0 };
            if i % 17 == 0 {
                l = 1.0 - l;
            }
            y.push(l);
        }
        (x, y)
    }

    fn spec(penalty: Penalty) -> Spec {
        Spec {
            penalty,
            c: 1.0,
            tol: 1e-10,
            max_iter: 100_000,
            fit_intercept: true,
            penalized_intercept: None,
        }
    }

    /// The full (unnormalised) gradient of sklearn's objective at the fit.
    fn kkt_gap(x: &[Vec<f64>], y: &[f64], f: &Fitted, sp: &Spec) -> f64 {
        let (l2, l1) = sp.penalty.shares();
        let mut g = [0.0; 3];
        for (r, &t) in x.iter().zip(y) {
            let z = r[0] * f.coef[0][0] + r[1] * f.coef[0][1] + f.intercept[0];
            let e = sigmoid(z) - t;
            g[0] += sp.c * e * r[0];
            g[1] += sp.c * e * r[1];
            g[2] += sp.c * e;
        }
        let mut gap: f64 = g[2].abs();
        for (&gj, &w) in g.iter().zip(&f.coef[0]) {
            let smooth = gj + l2 * w;
            gap = gap.max(if w != 0.0 {
                (smooth + l1 * w.signum()).abs()
            } else {
                (smooth.abs() - l1).max(0.0)
            });
        }
        gap
    }

    #[test]
    fn every_penalty_reaches_the_optimality_conditions() {
        let (x, y) = data();
        let s = vec![1.0; x.len()];
        for pen in [
            Penalty::None,
            Penalty::L2,
            Penalty::L1,
            Penalty::ElasticNet(0.5),
        ] {
            let sp = spec(pen);
            let f = fit(&x, &Targets::Binary(&y), &s, &sp);
            assert!(f.converged, "{pen:?}");
            let gap = kkt_gap(&x, &y, &f, &sp);
            assert!(gap < 1e-6, "{pen:?}: gap {gap}");
        }
    }

    #[test]
    fn a_strong_l1_penalty_zeroes_weights_and_max_iter_is_honoured() {
        let (x, y) = data();
        let s = vec![1.0; x.len()];
        let mut sp = spec(Penalty::L1);
        sp.c = 1e-4;
        let f = fit(&x, &Targets::Binary(&y), &s, &sp);
        assert_eq!(f.coef[0], vec![0.0, 0.0]);
        let mut sp = spec(Penalty::L2);
        sp.max_iter = 2;
        let f = fit(&x, &Targets::Binary(&y), &s, &sp);
        assert_eq!((f.n_iter, f.converged), (2, false));
    }

    #[test]
    fn weights_count_like_repeated_rows() {
        let (x, y) = data();
        let mut s = vec![1.0; x.len()];
        s[3] = 3.0;
        let mut x2 = x.clone();
        let mut y2 = y.clone();
        for _ in 0..2 {
            x2.push(x[3].clone());
            y2.push(y[3]);
        }
        let sp = spec(Penalty::L2);
        let a = fit(&x, &Targets::Binary(&y), &s, &sp);
        let b = fit(&x2, &Targets::Binary(&y2), &vec![1.0; x2.len()], &sp);
        for j in 0..2 {
            assert!((a.coef[0][j] - b.coef[0][j]).abs() < 1e-7);
        }
    }

    #[test]
    fn multinomial_gradient_vanishes_and_matches_binary_on_two_classes() {
        let (x, y) = data();
        let s = vec![1.0; x.len()];
        let idx: Vec<usize> = y.iter().map(|&v| v as usize).collect();
        let sp = spec(Penalty::None);
        let mf = fit(&x, &Targets::Classes(&idx, 2), &s, &sp);
        let bf = fit(&x, &Targets::Binary(&y), &s, &sp);
        // Without a penalty, softmax over two classes is the logistic model
        // of the difference of the two rows.
        for j in 0..2 {
            let d = mf.coef[1][j] - mf.coef[0][j];
            assert!((d - bf.coef[0][j]).abs() < 1e-5, "{d} vs {}", bf.coef[0][j]);
        }
    }
}
