//! The optimizers: libtorch's own (`torch::optim`), configured as PyTorch's Python
//! classes are for the same arguments (dampening 0, no AMSGrad, RMSprop not centered).
//! The tests check each update against the formula in PyTorch's documentation.

use anyhow::{Context, Result};
use tch::nn::{self, OptimizerConfig};

use crate::plan::spec::OptimizerSpec;

/// The optimizer `o` over every variable of `vs`.
pub fn build(o: &OptimizerSpec, vs: &nn::VarStore) -> Result<nn::Optimizer> {
    let opt = match *o {
        OptimizerSpec::Sgd {
            lr,
            momentum,
            weight_decay,
            nesterov,
        } => nn::Sgd {
            momentum,
            dampening: 0.0,
            wd: weight_decay,
            nesterov,
        }
        .build(vs, lr),
        OptimizerSpec::Adam {
            lr,
            beta1,
            beta2,
            eps,
            weight_decay,
        } => nn::Adam {
            beta1,
            beta2,
            wd: weight_decay,
            eps,
            amsgrad: false,
        }
        .build(vs, lr),
        OptimizerSpec::Rmsprop {
            lr,
            alpha,
            eps,
            momentum,
            weight_decay,
        } => nn::RmsProp {
            alpha,
            eps,
            wd: weight_decay,
            momentum,
            centered: false,
        }
        .build(vs, lr),
    };
    opt.context("cannot create the optimizer")
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor};

    use super::*;

    /// Three steps of `spec` on f(w) = Σ c_t·w + ½ Σ w² (gradient c_t + w, a different one
    /// each step), as tch does them and as `formula` says they go, from w = (1, −2, 0.5).
    fn check(spec: OptimizerSpec, formula: impl Fn(&mut State, &[f64], usize)) {
        let vs = nn::VarStore::new(Device::Cpu);
        let w = vs
            .root()
            .var_copy("w", &Tensor::from_slice(&[1.0f32, -2.0, 0.5]));
        let mut opt = build(&spec, &vs).unwrap();
        let cs = [[0.3, -0.1, 0.2], [-0.5, 0.4, 0.1], [0.2, 0.2, -0.3]];
        let mut state = State::new(&[1.0, -2.0, 0.5]);
        for (t, c) in cs.iter().enumerate() {
            let ct = Tensor::from_slice(&c.map(|x| x as f32));
            let loss = (&w * &ct).sum(Kind::Float) + (&w * &w).sum(Kind::Float) * 0.5;
            opt.backward_step(&loss);
            let grad: Vec<f64> = state.w.iter().zip(c).map(|(w, c)| c + w).collect();
            formula(&mut state, &grad, t + 1);
        }
        let got: Vec<f32> = Vec::try_from(&w).unwrap();
        for (g, e) in got.iter().zip(&state.w) {
            assert!(
                (*g as f64 - e).abs() <= 1e-6 * e.abs().max(1.0),
                "{spec:?}: tch {got:?}, formula {:?}",
                state.w
            );
        }
    }

    struct State {
        w: Vec<f64>,
        a: Vec<f64>,
        b: Vec<f64>,
    }

    impl State {
        fn new(w: &[f64]) -> State {
            State {
                w: w.to_vec(),
                a: vec![0.0; w.len()],
                b: vec![0.0; w.len()],
            }
        }
    }

    #[test]
    fn sgd_with_weight_decay_and_nesterov_momentum_is_pytorchs() {
        // torch.optim.SGD: g ← g + λw; b ← μb + g (b = g at the first step);
        // g ← g + μb with Nesterov, else g ← b; w ← w − γg.
        let (lr, mu, wd) = (0.1, 0.9, 0.01);
        for nesterov in [false, true] {
            let spec = OptimizerSpec::Sgd {
                lr,
                momentum: mu,
                weight_decay: wd,
                nesterov,
            };
            check(spec, |s, grad, t| {
                for (i, raw) in grad.iter().enumerate() {
                    let g = raw + wd * s.w[i];
                    s.a[i] = if t == 1 { g } else { mu * s.a[i] + g };
                    let step = if nesterov { g + mu * s.a[i] } else { s.a[i] };
                    s.w[i] -= lr * step;
                }
            });
        }
    }

    #[test]
    fn adam_with_weight_decay_is_pytorchs() {
        // torch.optim.Adam (L2 penalty, not AdamW): g ← g + λw; m ← β1m + (1−β1)g;
        // v ← β2v + (1−β2)g²; w ← w − γ·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε).
        let (lr, b1, b2, eps, wd) = (0.01, 0.9, 0.999, 1e-8, 0.05);
        let spec = OptimizerSpec::Adam {
            lr,
            beta1: b1,
            beta2: b2,
            eps,
            weight_decay: wd,
        };
        check(spec, |s, grad, t| {
            for (i, raw) in grad.iter().enumerate() {
                let g = raw + wd * s.w[i];
                s.a[i] = b1 * s.a[i] + (1.0 - b1) * g;
                s.b[i] = b2 * s.b[i] + (1.0 - b2) * g * g;
                let m = s.a[i] / (1.0 - b1.powi(t as i32));
                let v = s.b[i] / (1.0 - b2.powi(t as i32));
                s.w[i] -= lr * m / (v.sqrt() + eps);
            }
        });
    }

    #[test]
    fn rmsprop_with_weight_decay_and_momentum_is_pytorchs() {
        // torch.optim.RMSprop: g ← g + λw; v ← αv + (1−α)g²; with momentum μ > 0,
        // b ← μb + g/(√v + ε) and w ← w − γb, else w ← w − γg/(√v + ε).
        let (lr, alpha, eps, wd) = (0.01, 0.99, 1e-8, 0.02);
        for momentum in [0.0, 0.5] {
            let spec = OptimizerSpec::Rmsprop {
                lr,
                alpha,
                eps,
                momentum,
                weight_decay: wd,
            };
            check(spec, |s, grad, _| {
                for (i, raw) in grad.iter().enumerate() {
                    let g = raw + wd * s.w[i];
                    s.b[i] = alpha * s.b[i] + (1.0 - alpha) * g * g;
                    let step = g / (s.b[i].sqrt() + eps);
                    if momentum > 0.0 {
                        s.a[i] = momentum * s.a[i] + step;
                        s.w[i] -= lr * s.a[i];
                    } else {
                        s.w[i] -= lr * step;
                    }
                }
            });
        }
    }

    #[test]
    fn a_new_learning_rate_applies_from_the_next_step() {
        // What the schedule relies on: set_lr between steps changes γ and nothing else.
        let vs = nn::VarStore::new(Device::Cpu);
        let w = vs.root().var_copy("w", &Tensor::from_slice(&[1.0f32]));
        let spec = OptimizerSpec::Sgd {
            lr: 0.1,
            momentum: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        };
        let mut opt = build(&spec, &vs).unwrap();
        opt.set_lr(0.5);
        opt.backward_step(&(&w * 2.0).sum(Kind::Float));
        let got = f64::try_from(&w).unwrap();
        assert!((got - 0.0).abs() < 1e-7, "{got}");
    }
}
