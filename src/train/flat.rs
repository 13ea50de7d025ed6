//! A model's trainable parameters as views into one flat buffer per dtype, and their
//! gradients as views into a second one, so that an optimizer updates every parameter
//! with a handful of tensor operations instead of several per parameter. On a GPU each
//! operation is a kernel launch of 5–8 µs of host time, and the homework's small models
//! are bound by launches, not arithmetic.
//!
//! Gradients land in the flat buffer because autograd accumulates into an existing
//! `.grad` in place (`variable_grad += new_grad`, what PyTorch's DDP relies on for its
//! bucket views) as long as it is zeroed in place and never reset to none.

use anyhow::{Result, ensure};
use tch::{Kind, Tensor, nn};

/// The trainable parameters of a model, grouped by dtype, each group one buffer.
#[derive(Debug)]
pub struct FlatParams {
    /// One group per dtype, in the order the dtypes are first met.
    pub groups: Vec<Group>,
}

/// Parameters of one dtype: `params` holds their values, `grads` their gradients, both
/// 1-D, each parameter a dense view at the same offset into either.
#[derive(Debug)]
pub struct Group {
    /// The values; each parameter's storage is a view into it.
    pub params: Tensor,
    /// The gradients; each parameter's `.grad` is a view into it.
    pub grads: Tensor,
}

impl FlatParams {
    /// Moves every trainable variable of `vs` into flat buffers (values unchanged, memory
    /// layouts such as channels-last kept) and gives each a gradient viewing the second.
    pub fn new(vs: &nn::VarStore) -> Result<FlatParams> {
        let mut by_kind: Vec<(Kind, Vec<Tensor>)> = Vec::new();
        for var in vs.trainable_variables() {
            match by_kind.iter_mut().find(|(k, _)| *k == var.kind()) {
                Some((_, vars)) => vars.push(var),
                None => by_kind.push((var.kind(), vec![var])),
            }
        }
        let mut groups = Vec::with_capacity(by_kind.len());
        for (kind, mut vars) in by_kind {
            let mut offsets = Vec::with_capacity(vars.len());
            let mut total = 0;
            for var in &vars {
                ensure!(
                    is_dense(var),
                    "parameter of shape {:?} with strides {:?} is not dense",
                    var.size(),
                    var.stride()
                );
                offsets.push(total);
                total += var.numel() as i64;
            }
            let options = (kind, vs.device());
            let params = Tensor::zeros([total], options);
            let grads = Tensor::zeros([total], options);
            tch::no_grad(|| {
                for (var, &offset) in vars.iter_mut().zip(&offsets) {
                    let view = view_like(&params, var, offset);
                    view.shallow_clone().copy_(var);
                    var.set_data(&view);
                }
            });
            // A backward pass of zeros gives every parameter a `.grad` with its own
            // strides; pointing each at its slice of `grads` makes autograd accumulate
            // there from now on.
            let zero = vars
                .iter()
                .map(|v| v.sum(kind) * 0.0)
                .reduce(|a, b| a + b)
                .expect("a group has a parameter");
            zero.backward();
            tch::no_grad(|| {
                for (var, &offset) in vars.iter().zip(&offsets) {
                    let view = view_like(&grads, var, offset);
                    let _ = view.shallow_clone().zero_();
                    var.grad().set_data(&view);
                }
            });
            groups.push(Group { params, grads });
        }
        Ok(FlatParams { groups })
    }

    /// Zeroes every gradient in place: one operation per dtype.
    pub fn zero_grad(&self) {
        for g in &self.groups {
            let _ = g.grads.shallow_clone().zero_();
        }
    }
}

/// `buffer`'s elements from `offset` on, seen with `like`'s sizes and strides.
fn view_like(buffer: &Tensor, like: &Tensor, offset: i64) -> Tensor {
    buffer.as_strided(like.size(), like.stride(), Some(offset))
}

/// Whether `t`'s elements fill exactly `numel` consecutive places in some order (as
/// contiguous and channels-last tensors do), so it fits a slice of that length.
fn is_dense(t: &Tensor) -> bool {
    let mut dims: Vec<(i64, i64)> = t.size().into_iter().zip(t.stride()).collect();
    dims.retain(|&(size, _)| size != 1);
    dims.sort_by_key(|&(_, stride)| stride);
    let mut expected = 1;
    for (size, stride) in dims {
        if stride != expected {
            return false;
        }
        expected *= size;
    }
    true
}

#[cfg(test)]
mod tests {
    use tch::Device;
    use tch::nn::Module;

    use super::*;

    fn small_net(vs: &nn::VarStore) -> (nn::Conv2D, nn::Linear) {
        let root = vs.root();
        let mut conv = nn::conv2d(&root / "conv", 3, 4, 3, Default::default());
        // A channels-last weight, as the trainer makes them.
        tch::no_grad(|| {
            let cl = crate::train::model::channels_last(&conv.ws);
            conv.ws.set_data(&cl);
        });
        let linear = nn::linear(&root / "fc", 4 * 6 * 6, 5, Default::default());
        (conv, linear)
    }

    #[test]
    fn parameters_and_gradients_live_in_the_flat_buffers() {
        let vs = nn::VarStore::new(Device::Cpu);
        let (conv, linear) = small_net(&vs);
        let before: Vec<Tensor> = vs.trainable_variables().iter().map(Tensor::copy).collect();
        let weight_strides = conv.ws.stride();
        let flat = FlatParams::new(&vs).unwrap();
        assert_eq!(flat.groups.len(), 1, "all parameters are float32");
        let g = &flat.groups[0];
        let vars = vs.trainable_variables();
        assert_eq!(
            g.params.numel(),
            vars.iter().map(Tensor::numel).sum::<usize>()
        );
        for (var, old) in vars.iter().zip(&before) {
            assert!(var.equal(old), "values kept");
        }
        assert_eq!(conv.ws.stride(), weight_strides, "channels-last kept");

        // Writing the buffer writes the parameters: they share its memory.
        tch::no_grad(|| {
            let _ = g.params.shallow_clone().fill_(0.25);
        });
        assert!(vars.iter().all(|v| v.eq(0.25).all().int64_value(&[]) == 1));

        // Two backward passes accumulate into the flat gradient buffer, which holds
        // exactly the parameters' gradients; zero_grad clears them in place.
        let x = Tensor::ones([2, 3, 8, 8], (Kind::Float, Device::Cpu));
        let loss = || {
            linear
                .forward(&conv.forward(&x).flatten(1, -1))
                .sum(Kind::Float)
        };
        flat.zero_grad();
        loss().backward();
        let once = g.grads.copy();
        assert!(once.abs().sum(Kind::Float).double_value(&[]) > 0.0);
        loss().backward();
        assert!(g.grads.allclose(&(&once * 2.0), 1e-6, 1e-6, false));
        let from_params = Tensor::cat(
            &vars
                .iter()
                .map(|v| {
                    // Each gradient in the memory order of its parameter.
                    let grad = v.grad();
                    let mut order: Vec<i64> = (0..grad.dim() as i64).collect();
                    order.sort_by_key(|&d| std::cmp::Reverse(grad.stride()[d as usize]));
                    grad.permute(&order).contiguous().flatten(0, -1)
                })
                .collect::<Vec<_>>(),
            0,
        );
        assert!(from_params.equal(&g.grads));
        flat.zero_grad();
        assert!(
            vars.iter()
                .all(|v| v.grad().abs().sum(Kind::Float).double_value(&[]) == 0.0)
        );
    }

    #[test]
    fn density_accepts_contiguous_and_channels_last_only() {
        let t = Tensor::zeros([4, 3, 2, 2], (Kind::Float, Device::Cpu));
        assert!(is_dense(&t));
        assert!(is_dense(
            &t.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
        ));
        assert!(is_dense(&Tensor::zeros([1, 5], (Kind::Float, Device::Cpu))));
        assert!(!is_dense(&t.narrow(1, 0, 2)), "a slice leaves gaps");
    }
}
