//! The arbiter's optimizers and convergence checks (FATE's `optim/optimizer.py`,
//! `optim/convergence.py`), and the parties' weight update.

use super::params::{LinearModelParam, Penalty};

/// Element-wise optimizer state over the concatenated gradient.
#[derive(Debug, Clone)]
pub(crate) struct Optimizer {
    kind: String,
    m: Vec<f64>,
    v: Vec<f64>,
    beta1_decay: f64,
    beta2_decay: f64,
}

impl Optimizer {
    pub(crate) fn new(kind: &str) -> Self {
        Optimizer {
            kind: kind.to_string(),
            m: Vec::new(),
            v: Vec::new(),
            beta1_decay: 1.0,
            beta2_decay: 1.0,
        }
    }

    /// The step (`delta`) for gradient `g` at learning rate `lr`.
    pub(crate) fn apply(&mut self, g: &[f64], lr: f64) -> Vec<f64> {
        if self.m.len() != g.len() {
            self.m = vec![0.0; g.len()];
            self.v = vec![0.0; g.len()];
        }
        match self.kind.as_str() {
            "rmsprop" => {
                let rho = 0.99;
                g.iter()
                    .zip(self.m.iter_mut())
                    .map(|(&gi, m)| {
                        *m = rho * *m + (1.0 - rho) * gi * gi;
                        lr * gi / (*m + 1e-6).sqrt()
                    })
                    .collect()
            }
            "adagrad" => g
                .iter()
                .zip(self.m.iter_mut())
                .map(|(&gi, m)| {
                    *m += gi * gi;
                    lr * gi / (m.sqrt() + 1e-6)
                })
                .collect(),
            "adam" => {
                let (b1, b2) = (0.9, 0.999);
                self.beta1_decay *= b1;
                self.beta2_decay *= b2;
                let (d1, d2) = (self.beta1_decay, self.beta2_decay);
                g.iter()
                    .zip(self.m.iter_mut().zip(self.v.iter_mut()))
                    .map(|(&gi, (m, v))| {
                        *m = b1 * *m + (1.0 - b1) * gi;
                        *v = b2 * *v + (1.0 - b2) * gi * gi;
                        let mh = *m / (1.0 - d1);
                        let vh = *v / (1.0 - d2);
                        lr * mh / (vh.sqrt() + 1e-8)
                    })
                    .collect()
            }
            "nesterov_momentum_sgd" => {
                // FATE: v = μ·m − lr·g; step = μ·m − (1 + μ)·v; m = v.
                let mu = 0.9;
                g.iter()
                    .zip(self.m.iter_mut())
                    .map(|(&gi, m)| {
                        let v = mu * *m - lr * gi;
                        let step = mu * *m - (1.0 + mu) * v;
                        *m = v;
                        step
                    })
                    .collect()
            }
            _ => g.iter().map(|gi| lr * gi).collect(),
        }
    }
}

/// A party applies its step: `w −= step`; L1 then shrinks towards zero by
/// `lr·α` (FATE's `_l1_updator`); the intercept (last step entry when
/// fitted) is never regularised.
pub(crate) fn update_weights(
    param: &LinearModelParam,
    iter: u32,
    w: &mut [f64],
    b: &mut f64,
    step: &[f64],
    fit_intercept: bool,
) {
    let shrink = param.lr_at(iter) * param.alpha;
    for (wi, s) in w.iter_mut().zip(step) {
        let nw = *wi - s;
        *wi = if param.penalty() == Penalty::L1 {
            nw.signum() * (nw.abs() - shrink).max(0.0)
        } else {
            nw
        };
    }
    if fit_intercept {
        if let Some(s) = step.get(w.len()) {
            *b -= s;
        }
    }
}

/// Regularisation loss of a weight vector (intercept excluded).
pub(crate) fn loss_norm(param: &LinearModelParam, w: &[f64]) -> f64 {
    match param.penalty() {
        Penalty::L2 => 0.5 * param.alpha * w.iter().map(|x| x * x).sum::<f64>(),
        Penalty::L1 => param.alpha * w.iter().map(|x| x.abs()).sum::<f64>(),
        Penalty::None => 0.0,
    }
}

/// The L2 term a party adds to its (unnormalised) gradient: `n·α·w`.
pub(crate) fn l2_term(param: &LinearModelParam, w: &[f64], n: usize) -> Vec<f64> {
    match param.penalty() {
        Penalty::L2 => w.iter().map(|x| n as f64 * param.alpha * x).collect(),
        _ => vec![0.0; w.len()],
    }
}

/// FATE's convergence functions.
pub(crate) struct Converge {
    kind: String,
    tol: f64,
    pre_loss: Option<f64>,
}

impl Converge {
    pub(crate) fn new(kind: &str, tol: f64) -> Self {
        Converge {
            kind: kind.to_string(),
            tol,
            pre_loss: None,
        }
    }

    /// Whether to stop, given the iteration's loss and `‖Σ step‖`.
    pub(crate) fn check(&mut self, loss: Option<f64>, weight_diff: f64) -> bool {
        match (self.kind.as_str(), loss) {
            ("weight_diff", _) | (_, None) => weight_diff < self.tol,
            ("abs", Some(l)) => l <= self.tol,
            (_, Some(l)) => {
                let done = self.pre_loss.is_some_and(|p| (l - p).abs() < self.tol);
                self.pre_loss = Some(l);
                done
            }
        }
    }
}
