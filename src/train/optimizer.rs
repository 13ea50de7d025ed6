//! The optimizers: PyTorch's SGD, Adam and RMSprop (as `torch.optim` and libtorch's
//! C++ `torch::optim` define them for the same arguments: dampening 0, no AMSGrad,
//! RMSprop not centered), applied to the flat buffers of [`FlatParams`], so that a step
//! updates every parameter with a handful of operations, whatever the model's depth.
//! The tests check each update against the formula in PyTorch's documentation and
//! against libtorch's own optimizers (tch's `nn::Sgd`, `nn::Adam`, `nn::RmsProp`).

use anyhow::Result;
use tch::{Tensor, nn};

use super::flat::{FlatParams, Group};
use crate::plan::spec::OptimizerSpec;

/// An optimizer over every trainable variable of a model.
#[derive(Debug)]
pub struct Optimizer {
    flat: FlatParams,
    rule: OptimizerSpec,
    /// Per group of [`FlatParams`]: the rule's running buffers.
    state: Vec<State>,
    lr: f64,
    /// Steps taken, for Adam's bias corrections.
    steps: i32,
}

/// A rule's running buffers for one flat group, shaped like its parameters.
#[derive(Debug)]
enum State {
    /// SGD's momentum buffer, made from the first step's gradient (as PyTorch does).
    Sgd { momentum: Option<Tensor> },
    /// Adam's first and second moment estimates.
    Adam { m: Tensor, v: Tensor },
    /// RMSprop's running mean of squared gradients and momentum buffer.
    Rmsprop { square: Tensor, momentum: Tensor },
}

/// The optimizer `o` over every trainable variable of `vs`, which it moves into flat
/// buffers (see [`FlatParams`]).
pub fn build(o: &OptimizerSpec, vs: &nn::VarStore) -> Result<Optimizer> {
    let flat = FlatParams::new(vs)?;
    let state = flat
        .groups
        .iter()
        .map(|g| match o {
            OptimizerSpec::Sgd { .. } => State::Sgd { momentum: None },
            OptimizerSpec::Adam { .. } => State::Adam {
                m: g.params.zeros_like(),
                v: g.params.zeros_like(),
            },
            OptimizerSpec::Rmsprop { .. } => State::Rmsprop {
                square: g.params.zeros_like(),
                momentum: g.params.zeros_like(),
            },
        })
        .collect();
    Ok(Optimizer {
        flat,
        rule: o.clone(),
        state,
        lr: o.lr(),
        steps: 0,
    })
}

impl Optimizer {
    /// The learning rate of the steps from now on.
    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// Zeroes the gradients, back-propagates `loss` and takes one step.
    pub fn backward_step(&mut self, loss: &Tensor) {
        self.flat.zero_grad();
        loss.backward();
        self.steps += 1;
        tch::no_grad(|| {
            for (g, state) in self.flat.groups.iter().zip(&mut self.state) {
                step(&self.rule, self.lr, self.steps, g, state);
            }
        });
    }
}

/// One update of group `g` by `rule` at step `t` (from 1), in PyTorch's arithmetic.
fn step(rule: &OptimizerSpec, lr: f64, t: i32, g: &Group, state: &mut State) {
    let mut p = g.params.shallow_clone();
    // g ← g + λw (an L2 penalty, in every rule), as a new tensor: the stored gradient
    // stays the loss's own.
    let decayed = |weight_decay: f64| {
        if weight_decay != 0.0 {
            &g.grads + &g.params * weight_decay
        } else {
            g.grads.shallow_clone()
        }
    };
    match (rule, state) {
        (
            &OptimizerSpec::Sgd {
                momentum,
                weight_decay,
                nesterov,
                ..
            },
            State::Sgd { momentum: buffer },
        ) => {
            // b ← μb + g (b = g at the first step); g ← g + μb with Nesterov, else
            // g ← b; w ← w − γg.
            let mut d = decayed(weight_decay);
            if momentum != 0.0 {
                match *buffer {
                    Some(ref mut b) => {
                        let _ = b.g_mul_scalar_(momentum).g_add_(&d);
                    }
                    None => *buffer = Some(d.copy()),
                }
                let b = buffer.as_ref().expect("set above").shallow_clone();
                d = if nesterov { &d + &b * momentum } else { b };
            }
            let _ = p.g_add_(&(d * -lr));
        }
        (
            &OptimizerSpec::Adam {
                beta1,
                beta2,
                eps,
                weight_decay,
                ..
            },
            State::Adam { m, v },
        ) => {
            // m ← β1m + (1−β1)g; v ← β2v + (1−β2)g²;
            // w ← w − γ/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε).
            let d = decayed(weight_decay);
            let _ = m.g_mul_scalar_(beta1).g_add_(&(&d * (1.0 - beta1)));
            let _ = v.g_mul_scalar_(beta2).addcmul_(&(&d * (1.0 - beta2)), &d);
            let correction1 = 1.0 - beta1.powi(t);
            let correction2 = 1.0 - beta2.powi(t);
            let denominator = (v.sqrt() / correction2.sqrt()).g_add_scalar_(eps);
            let _ = p.addcdiv_(&(&*m * (-lr / correction1)), &denominator);
        }
        (
            &OptimizerSpec::Rmsprop {
                alpha,
                eps,
                momentum,
                weight_decay,
                ..
            },
            State::Rmsprop {
                square,
                momentum: buffer,
            },
        ) => {
            // v ← αv + (1−α)g²; with momentum μ > 0, b ← μb + g/(√v + ε) and
            // w ← w − γb, else w ← w − γg/(√v + ε).
            let d = decayed(weight_decay);
            let _ = square
                .g_mul_scalar_(alpha)
                .addcmul_(&(&d * (1.0 - alpha)), &d);
            let average = square.sqrt().g_add_scalar_(eps);
            if momentum > 0.0 {
                let _ = buffer.g_mul_scalar_(momentum).addcdiv_(&d, &average);
                let _ = p.g_add_(&(&*buffer * -lr));
            } else {
                let _ = p.addcdiv_(&(d * -lr), &average);
            }
        }
        _ => unreachable!("each rule's state is made by build for that rule"),
    }
}

#[cfg(test)]
mod tests {
    use tch::nn::{ModuleT, OptimizerConfig};
    use tch::{Device, Kind, Tensor};

    use super::*;

    /// Conv (channels-last weight), ReLU, batch norm, linear: the kinds of parameter a
    /// run has. Not conv then batch norm: the conv bias's gradient would be zero in exact
    /// arithmetic, rounding noise in floats, and Adam and RMSprop (which divide by the
    /// gradient's own scale) step ±γ on noise, so any two correct implementations that
    /// round one operation differently part by O(γ) there.
    struct Small {
        conv: nn::Conv2D,
        bn: nn::BatchNorm,
        fc: nn::Linear,
    }

    impl Small {
        fn new(vs: &nn::VarStore) -> Small {
            let root = vs.root();
            let mut conv = nn::conv2d(&root / "conv", 3, 6, 3, Default::default());
            tch::no_grad(|| {
                let cl = crate::train::model::channels_last(&conv.ws);
                conv.ws.set_data(&cl);
            });
            Small {
                conv,
                bn: nn::batch_norm2d(&root / "bn", 6, Default::default()),
                fc: nn::linear(&root / "fc", 6 * 6 * 6, 4, Default::default()),
            }
        }

        fn loss(&self, x: &Tensor, y: &Tensor) -> Tensor {
            let h = self.conv.forward_t(x, true).relu().apply_t(&self.bn, true);
            self.fc
                .forward_t(&h.flatten(1, -1), true)
                .cross_entropy_for_logits(y)
        }
    }

    /// 20 steps of ours and of libtorch's own optimizer (`theirs`) from the same weights
    /// on the same batches, the learning rate cut halfway: equal parameters and batch
    /// norm statistics within 1e-6.
    fn against_libtorch(spec: OptimizerSpec, theirs: impl Fn(&nn::VarStore) -> nn::Optimizer) {
        let vs_ours = nn::VarStore::new(Device::Cpu);
        let mut vs_theirs = nn::VarStore::new(Device::Cpu);
        let (net_ours, net_theirs) = (Small::new(&vs_ours), Small::new(&vs_theirs));
        vs_theirs.copy(&vs_ours).unwrap();
        let start = net_ours.fc.ws.copy();
        let mut ours = build(&spec, &vs_ours).unwrap();
        let mut theirs = theirs(&vs_theirs);
        let values: Vec<f32> = (0..8 * 3 * 8 * 8)
            .map(|i| (i * 37 % 101) as f32 / 50.0 - 1.0)
            .collect();
        let x = Tensor::from_slice(&values).view([8, 3, 8, 8]);
        let y = Tensor::from_slice(&[0i64, 1, 2, 3, 3, 2, 1, 0]);
        for step in 0..20 {
            if step == 10 {
                ours.set_lr(spec.lr() / 3.0);
                theirs.set_lr(spec.lr() / 3.0);
            }
            let (batch, labels) = (x.roll([step], [0]), y.roll([step], [0]));
            ours.backward_step(&net_ours.loss(&batch, &labels));
            theirs.backward_step(&net_theirs.loss(&batch, &labels));
        }
        let moved = (&net_ours.fc.ws - &start).abs().max().double_value(&[]);
        assert!(moved > 1e-4, "{spec:?}: the weights barely moved ({moved})");
        let (a, b) = (vs_ours.variables(), vs_theirs.variables());
        assert_eq!(a.len(), 8, "weights, biases and batch norm statistics");
        for (name, t) in &a {
            let diff = (t - &b[name]).abs().max().double_value(&[]);
            assert!(diff <= 1e-6, "{spec:?}: {name} differs by {diff}");
        }
    }

    #[test]
    fn sgd_matches_libtorchs_for_20_steps() {
        for (momentum, weight_decay, nesterov) in
            [(0.0, 0.0, false), (0.9, 5e-4, false), (0.9, 1e-3, true)]
        {
            let spec = OptimizerSpec::Sgd {
                lr: 0.05,
                momentum,
                weight_decay,
                nesterov,
            };
            against_libtorch(spec, |vs| {
                nn::Sgd {
                    momentum,
                    dampening: 0.0,
                    wd: weight_decay,
                    nesterov,
                }
                .build(vs, 0.05)
                .unwrap()
            });
        }
    }

    #[test]
    fn adam_matches_libtorchs_for_20_steps() {
        for weight_decay in [0.0, 1e-3] {
            let spec = OptimizerSpec::Adam {
                lr: 0.01,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay,
            };
            against_libtorch(spec, |vs| {
                nn::Adam {
                    beta1: 0.9,
                    beta2: 0.999,
                    wd: weight_decay,
                    eps: 1e-8,
                    amsgrad: false,
                }
                .build(vs, 0.01)
                .unwrap()
            });
        }
    }

    #[test]
    fn rmsprop_matches_libtorchs_for_20_steps() {
        for (momentum, weight_decay) in [(0.0, 0.0), (0.5, 1e-3)] {
            let spec = OptimizerSpec::Rmsprop {
                lr: 0.001,
                alpha: 0.99,
                eps: 1e-8,
                momentum,
                weight_decay,
            };
            against_libtorch(spec, |vs| {
                nn::RmsProp {
                    alpha: 0.99,
                    eps: 1e-8,
                    wd: weight_decay,
                    momentum,
                    centered: false,
                }
                .build(vs, 0.001)
                .unwrap()
            });
        }
    }

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
