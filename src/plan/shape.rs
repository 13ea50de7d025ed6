//! Shape inference: the arithmetic of a forward pass, without running one.
//!
//! The planner uses it to reject models whose layers do not fit before any training
//! starts, and to size linear layers; `report check` confirms it against a real dry
//! forward pass through the built network.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::layer::{Layer, LayerOp};

/// The shape of one example's activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Shape {
    /// Channels × height × width.
    Image([i64; 3]),
    /// A flat vector.
    Flat(i64),
}

impl Shape {
    /// Number of values.
    pub fn numel(&self) -> i64 {
        match self {
            Shape::Image([c, h, w]) => c * h * w,
            Shape::Flat(n) => *n,
        }
    }

    /// The shape as a list of dimensions.
    pub fn dims(&self) -> Vec<i64> {
        match self {
            Shape::Image(d) => d.to_vec(),
            Shape::Flat(n) => vec![*n],
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::Image([c, h, w]) => write!(f, "{c}×{h}×{w}"),
            Shape::Flat(n) => write!(f, "{n}"),
        }
    }
}

/// One layer with the shape it outputs and its trainable parameter count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerShape {
    /// Layer id.
    pub id: String,
    /// The layer.
    pub op: LayerOp,
    /// Output shape.
    pub output: Shape,
    /// Trainable parameters.
    pub params: i64,
}

/// Runs the shape arithmetic of `layers` on an input of shape `input`. The error says
/// which layer does not fit and why.
pub fn infer(layers: &[Layer], input: Shape) -> Result<Vec<LayerShape>, String> {
    let mut shape = input;
    let mut out = Vec::with_capacity(layers.len());
    for layer in layers {
        let id = &layer.id;
        let (output, params) = match (&layer.op, shape) {
            (
                LayerOp::Conv {
                    out,
                    kernel,
                    stride,
                    padding,
                },
                Shape::Image([c, h, w]),
            ) => {
                let size = |x: i64| (x + 2 * padding - kernel) / stride + 1;
                if h + 2 * padding < *kernel || w + 2 * padding < *kernel {
                    return Err(format!(
                        "layer {id} ({}) gets a {shape} input, smaller than its {kernel}×{kernel} kernel",
                        layer.op
                    ));
                }
                (
                    Shape::Image([*out, size(h), size(w)]),
                    out * c * kernel * kernel + out,
                )
            }
            (
                LayerOp::Maxpool { kernel, stride } | LayerOp::Avgpool { kernel, stride },
                Shape::Image([c, h, w]),
            ) => {
                if h < *kernel || w < *kernel {
                    return Err(format!(
                        "layer {id} ({}) gets a {shape} input, smaller than its {kernel}×{kernel} window",
                        layer.op
                    ));
                }
                let size = |x: i64| (x - kernel) / stride + 1;
                (Shape::Image([c, size(h), size(w)]), 0)
            }
            (LayerOp::Batchnorm, Shape::Image([c, ..]) | Shape::Flat(c)) => (shape, 2 * c),
            (LayerOp::GlobalAvgpool, Shape::Image([c, ..])) => (Shape::Image([c, 1, 1]), 0),
            (LayerOp::Dropout2d { .. }, s @ Shape::Image(_)) => (s, 0),
            (
                LayerOp::Relu
                | LayerOp::LeakyRelu { .. }
                | LayerOp::Gelu
                | LayerOp::Tanh
                | LayerOp::Sigmoid
                | LayerOp::Dropout { .. },
                s,
            ) => (s, 0),
            (LayerOp::Flatten, s) => (Shape::Flat(s.numel()), 0),
            (LayerOp::Linear { out }, Shape::Flat(n)) => (Shape::Flat(*out), n * out + out),
            (LayerOp::Linear { .. }, Shape::Image(_)) => {
                return Err(format!(
                    "layer {id} (linear) gets a {shape} image: put a flatten layer before it"
                ));
            }
            (
                LayerOp::Conv { .. }
                | LayerOp::Maxpool { .. }
                | LayerOp::Avgpool { .. }
                | LayerOp::GlobalAvgpool
                | LayerOp::Dropout2d { .. },
                Shape::Flat(_),
            ) => {
                return Err(format!(
                    "layer {id} ({}) needs an image but gets a flat vector of {shape}",
                    layer.op
                ));
            }
        };
        out.push(LayerShape {
            id: id.clone(),
            op: layer.op.clone(),
            output,
            params,
        });
        shape = output;
    }
    Ok(out)
}

/// The size of the flatten layer's output (0 if there is none).
pub fn flatten_size(shapes: &[LayerShape]) -> i64 {
    shapes
        .iter()
        .find(|s| s.op == LayerOp::Flatten)
        .map_or(0, |s| s.output.numel())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(id: &str, op: LayerOp) -> Layer {
        Layer { id: id.into(), op }
    }

    fn conv(out: i64, kernel: i64, padding: i64) -> LayerOp {
        LayerOp::Conv {
            out,
            kernel,
            stride: 1,
            padding,
        }
    }

    const POOL: LayerOp = LayerOp::Maxpool {
        kernel: 2,
        stride: 2,
    };

    #[test]
    fn model_1_shapes_and_params_match_pytorch() {
        let layers = vec![
            layer("conv1", conv(16, 5, 2)),
            layer("relu1", LayerOp::Relu),
            layer("pool1", POOL),
            layer("conv2", conv(32, 5, 2)),
            layer("pool2", POOL),
            layer("conv3", conv(16, 3, 1)),
            layer("pool3", POOL),
            layer("flatten", LayerOp::Flatten),
            layer("fc1", LayerOp::Linear { out: 128 }),
            layer("fc2", LayerOp::Linear { out: 10 }),
        ];
        let shapes = infer(&layers, Shape::Image([3, 32, 32])).unwrap();
        let outs: Vec<String> = shapes.iter().map(|s| s.output.to_string()).collect();
        assert_eq!(
            outs,
            [
                "16×32×32",
                "16×32×32",
                "16×16×16",
                "32×16×16",
                "32×8×8",
                "16×8×8",
                "16×4×4",
                "256",
                "128",
                "10"
            ]
        );
        assert_eq!(flatten_size(&shapes), 256);
        // nn.Conv2d(3,16,5): 1216; Conv2d(16,32,5): 12832; Conv2d(32,16,3): 4624;
        // Linear(256,128): 32896; Linear(128,10): 1290.
        let total: i64 = shapes.iter().map(|s| s.params).sum();
        assert_eq!(total, 1216 + 12832 + 4624 + 32896 + 1290);
    }

    #[test]
    fn batchnorm_counts_scale_and_shift_and_pool_floors() {
        let layers = vec![
            layer("conv1", conv(16, 3, 0)),
            layer("bn1", LayerOp::Batchnorm),
            layer("pool1", POOL),
        ];
        let shapes = infer(&layers, Shape::Image([3, 32, 32])).unwrap();
        assert_eq!(shapes[1].params, 32);
        assert_eq!(shapes[2].output, Shape::Image([16, 15, 15]));
    }

    #[test]
    fn misfits_name_the_layer() {
        let err = infer(
            &[layer("fc1", LayerOp::Linear { out: 3 })],
            Shape::Image([3, 32, 32]),
        )
        .unwrap_err();
        assert!(err.contains("fc1") && err.contains("flatten"), "{err}");
        let err = infer(&[layer("conv9", conv(4, 5, 0))], Shape::Image([3, 4, 4])).unwrap_err();
        assert!(err.contains("conv9") && err.contains("3×4×4"), "{err}");
        let err = infer(
            &[layer("f", LayerOp::Flatten), layer("pool1", POOL)],
            Shape::Image([3, 4, 4]),
        )
        .unwrap_err();
        assert!(err.contains("pool1"), "{err}");
    }
}
