//! Builds a libtorch network from a resolved layer list.

use tch::Tensor;
use tch::nn::{self, Module, ModuleT};

use crate::plan::shape::{LayerShape, Shape};
use crate::plan::spec::LayerOp;

/// A sequential network that can also return its latent (flatten) output.
#[derive(Debug)]
pub struct Net {
    blocks: Vec<Block>,
}

#[derive(Debug)]
enum Block {
    Conv(nn::Conv2D),
    BatchNorm(nn::BatchNorm),
    Relu,
    MaxPool { kernel: i64, stride: i64 },
    Flatten,
    Linear(nn::Linear),
    Dropout(f64),
}

/// PyTorch's default initialisation of conv and linear layers: weights and biases
/// uniform in ±1/√fan_in. tch's own default (Kaiming with a ReLU gain) starts larger,
/// which would make results drift from the PyTorch reference the homework used.
fn torch_default(fan_in: i64) -> nn::Init {
    let bound = 1.0 / (fan_in as f64).sqrt();
    nn::Init::Uniform {
        lo: -bound,
        up: bound,
    }
}

/// PyTorch's batch norm starts as the identity (scale 1, shift 0); tch's default draws
/// the scale from U(0, 1), which mutes channels at random and slows early training by
/// several points of accuracy on the homework's Model 9.
fn batch_norm_config() -> nn::BatchNormConfig {
    nn::BatchNormConfig {
        ws_init: nn::Init::Const(1.0),
        ..Default::default()
    }
}

impl Net {
    /// Creates the layers under `vs`, one sub-path per layer id, so saved weights are
    /// named after the experiment's layers. `input` is one example's shape.
    pub fn new(vs: &nn::Path, shapes: &[LayerShape], input: Shape) -> Net {
        let mut previous = input;
        let mut blocks = Vec::with_capacity(shapes.len());
        for s in shapes {
            let p = vs / s.id.as_str();
            let block = match (&s.op, previous) {
                (
                    LayerOp::Conv {
                        out,
                        kernel,
                        stride,
                        padding,
                    },
                    Shape::Image([c, ..]),
                ) => {
                    let init = torch_default(c * kernel * kernel);
                    let cfg = nn::ConvConfig {
                        stride: *stride,
                        padding: *padding,
                        ws_init: init,
                        bs_init: init,
                        ..Default::default()
                    };
                    Block::Conv(nn::conv2d(p, c, *out, *kernel, cfg))
                }
                (LayerOp::Batchnorm, Shape::Image([c, ..])) => {
                    Block::BatchNorm(nn::batch_norm2d(p, c, batch_norm_config()))
                }
                (LayerOp::Batchnorm, Shape::Flat(n)) => {
                    Block::BatchNorm(nn::batch_norm1d(p, n, batch_norm_config()))
                }
                (LayerOp::Relu, _) => Block::Relu,
                (LayerOp::Maxpool { kernel, stride }, _) => Block::MaxPool {
                    kernel: *kernel,
                    stride: *stride,
                },
                (LayerOp::Flatten, _) => Block::Flatten,
                (LayerOp::Linear { out }, Shape::Flat(n)) => {
                    let init = torch_default(n);
                    let cfg = nn::LinearConfig {
                        ws_init: init,
                        bs_init: Some(init),
                        bias: true,
                    };
                    Block::Linear(nn::linear(p, n, *out, cfg))
                }
                (LayerOp::Dropout { p }, _) => Block::Dropout(*p),
                (op, shape) => unreachable!("shape inference accepted {op} on {shape}"),
            };
            blocks.push(block);
            previous = s.output;
        }
        Net { blocks }
    }

    /// Class scores and the latent vectors (the flatten output) of a batch.
    pub fn forward_latent(&self, xs: &Tensor, train: bool) -> (Tensor, Tensor) {
        let mut x = xs.shallow_clone();
        let mut latent = None;
        for block in &self.blocks {
            x = match block {
                Block::Conv(c) => c.forward(&x),
                Block::BatchNorm(b) => b.forward_t(&x, train),
                Block::Relu => x.relu(),
                Block::MaxPool { kernel, stride } => x.max_pool2d(
                    [*kernel, *kernel],
                    [*stride, *stride],
                    [0, 0],
                    [1, 1],
                    false,
                ),
                Block::Flatten => {
                    let flat = x.flatten(1, -1);
                    latent = Some(flat.shallow_clone());
                    flat
                }
                Block::Linear(l) => l.forward(&x),
                Block::Dropout(p) => x.dropout(*p, train),
            };
        }
        (x, latent.expect("validated models have a flatten layer"))
    }

    /// Class scores of a batch.
    pub fn forward(&self, xs: &Tensor, train: bool) -> Tensor {
        self.forward_latent(xs, train).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::shape::infer;
    use crate::plan::spec::Layer;

    #[test]
    fn built_network_agrees_with_shape_inference_and_param_count() {
        let layers = vec![
            Layer {
                id: "conv1".into(),
                op: LayerOp::Conv {
                    out: 4,
                    kernel: 3,
                    stride: 1,
                    padding: 0,
                },
            },
            Layer {
                id: "bn1".into(),
                op: LayerOp::Batchnorm,
            },
            Layer {
                id: "relu1".into(),
                op: LayerOp::Relu,
            },
            Layer {
                id: "pool1".into(),
                op: LayerOp::Maxpool {
                    kernel: 2,
                    stride: 2,
                },
            },
            Layer {
                id: "flatten1".into(),
                op: LayerOp::Flatten,
            },
            Layer {
                id: "drop1".into(),
                op: LayerOp::Dropout { p: 0.5 },
            },
            Layer {
                id: "fc1".into(),
                op: LayerOp::Linear { out: 10 },
            },
        ];
        let input = Shape::Image([3, 8, 8]);
        let shapes = infer(&layers, input).unwrap();
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let net = Net::new(&vs.root(), &shapes, input);
        let (logits, latent) =
            net.forward_latent(&Tensor::zeros([2, 3, 8, 8], tch::kind::FLOAT_CPU), false);
        assert_eq!(logits.size(), [2, 10]);
        assert_eq!(latent.size(), [2, 4 * 3 * 3]);
        let params: i64 = vs
            .trainable_variables()
            .iter()
            .map(|t| t.numel() as i64)
            .sum();
        assert_eq!(params, shapes.iter().map(|s| s.params).sum::<i64>());
        let names = vs.variables();
        assert!(
            names["bn1.weight"].equal(&Tensor::ones([4], tch::kind::FLOAT_CPU)),
            "batch norm starts as the identity"
        );
        assert!(
            names.contains_key("conv1.weight") && names.contains_key("fc1.bias"),
            "{:?}",
            names.keys()
        );
    }
}
