//! PyTorch's optimizers over one flat parameter vector, with PyTorch's
//! update rules and defaults (`torch.optim.{SGD, RMSprop, Adam, Adagrad}`),
//! as FATE 1.11's horizontal models train through them: `weight_decay` adds
//! `wd·p` to the gradient of every parameter (intercept included), the
//! learning rate is passed per step (FATE's `LambdaLR` schedule).

/// One optimizer's state.
#[derive(Debug, Clone)]
pub struct TorchOptimizer {
    kind: Kind,
    weight_decay: f64,
    /// Momentum buffer (nesterov), square average (rmsprop), first moment
    /// (adam) or sum of squares (adagrad).
    a: Vec<f64>,
    /// Second moment (adam).
    b: Vec<f64>,
    steps: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sgd,
    Nesterov,
    RmsProp,
    Adam,
    Adagrad,
}

impl TorchOptimizer {
    /// FATE's optimizer names: `sgd`, `nesterov_momentum_sgd` (momentum
    /// 0.9), `rmsprop` (alpha 0.99, eps 1e-8), `adam` (betas 0.9/0.999,
    /// eps 1e-8), `adagrad` (eps 1e-10). `None` for any other name.
    pub fn new(name: &str, weight_decay: f64) -> Option<Self> {
        let kind = match name {
            "sgd" => Kind::Sgd,
            "nesterov_momentum_sgd" => Kind::Nesterov,
            "rmsprop" => Kind::RmsProp,
            "adam" => Kind::Adam,
            "adagrad" => Kind::Adagrad,
            _ => return None,
        };
        Some(TorchOptimizer {
            kind,
            weight_decay,
            a: Vec::new(),
            b: Vec::new(),
            steps: 0,
        })
    }

    /// One step: updates `params` in place from `grad` at learning rate `lr`.
    pub fn step(&mut self, params: &mut [f64], grad: &[f64], lr: f64) {
        if self.a.len() != params.len() {
            self.a = vec![0.0; params.len()];
            self.b = vec![0.0; params.len()];
        }
        let first = self.steps == 0;
        self.steps += 1;
        let t = self.steps as i32;
        for i in 0..params.len() {
            let g = grad[i] + self.weight_decay * params[i];
            match self.kind {
                Kind::Sgd => params[i] -= lr * g,
                Kind::Nesterov => {
                    const MU: f64 = 0.9;
                    self.a[i] = if first { g } else { MU * self.a[i] + g };
                    params[i] -= lr * (g + MU * self.a[i]);
                }
                Kind::RmsProp => {
                    const ALPHA: f64 = 0.99;
                    self.a[i] = ALPHA * self.a[i] + (1.0 - ALPHA) * g * g;
                    params[i] -= lr * g / (self.a[i].sqrt() + 1e-8);
                }
                Kind::Adam => {
                    const B1: f64 = 0.9;
                    const B2: f64 = 0.999;
                    self.a[i] = B1 * self.a[i] + (1.0 - B1) * g;
                    self.b[i] = B2 * self.b[i] + (1.0 - B2) * g * g;
                    let bc1 = 1.0 - B1.powi(t);
                    let bc2 = 1.0 - B2.powi(t);
                    let denom = self.b[i].sqrt() / bc2.sqrt() + 1e-8;
                    params[i] -= lr / bc1 * self.a[i] / denom;
                }
                Kind::Adagrad => {
                    self.a[i] += g * g;
                    params[i] -= lr * g / (self.a[i].sqrt() + 1e-10);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from `torch.optim` on p = [1.0, -2.0], g = [0.5, 0.25], lr 0.1,
    /// weight_decay 0.1, two steps with the same gradient (worked by hand
    /// from PyTorch's documented update rules).
    #[test]
    fn rules_match_pytorch() {
        let run = |name: &str| {
            let mut o = TorchOptimizer::new(name, 0.1).unwrap();
            let mut p = vec![1.0, -2.0];
            o.step(&mut p, &[0.5, 0.25], 0.1);
            o.step(&mut p, &[0.5, 0.25], 0.1);
            p
        };
        // SGD: g' = g + 0.1 p.
        let p = run("sgd");
        let p1 = [1.0 - 0.1 * 0.6, -2.0 - 0.1 * 0.05];
        let p2 = [
            p1[0] - 0.1 * (0.5 + 0.1 * p1[0]),
            p1[1] - 0.1 * (0.25 + 0.1 * p1[1]),
        ];
        assert!((p[0] - p2[0]).abs() < 1e-12 && (p[1] - p2[1]).abs() < 1e-12);
        // Adam's first step moves every parameter by lr (sign of the gradient).
        let mut o = TorchOptimizer::new("adam", 0.0).unwrap();
        let mut q = vec![1.0, -2.0];
        o.step(&mut q, &[0.5, -0.25], 0.1);
        assert!((q[0] - 0.9).abs() < 1e-6 && (q[1] + 1.9).abs() < 1e-6);
        // Adagrad's first step too.
        let mut o = TorchOptimizer::new("adagrad", 0.0).unwrap();
        let mut q = vec![1.0];
        o.step(&mut q, &[3.0], 0.1);
        assert!((q[0] - 0.9).abs() < 1e-9);
        // RMSprop's first step: lr·g/(sqrt(0.01 g²)) = 10·lr.
        let mut o = TorchOptimizer::new("rmsprop", 0.0).unwrap();
        let mut q = vec![0.0];
        o.step(&mut q, &[2.0], 0.01);
        assert!((q[0] + 0.1).abs() < 1e-6);
        // Nesterov's first step: buf = g, step g + 0.9 g.
        let mut o = TorchOptimizer::new("nesterov_momentum_sgd", 0.0).unwrap();
        let mut q = vec![0.0];
        o.step(&mut q, &[1.0], 0.1);
        assert!((q[0] + 0.19).abs() < 1e-12);
        o.step(&mut q, &[1.0], 0.1);
        // buf = 0.9 + 1 = 1.9; step = 1 + 0.9·1.9 = 2.71.
        assert!((q[0] + 0.19 + 0.271).abs() < 1e-12);
        assert!(TorchOptimizer::new("sqn", 0.0).is_none());
    }
}
