//! One layer of a model, validated, and the one place that spells a layer for people.
//!
//! Both the run spec (which lists layers) and shape inference (which walks them) build
//! on these types, so they live apart from either.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A layer with its final id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    /// Unique within its model.
    pub id: String,
    /// What the layer does.
    pub op: LayerOp,
}

/// A layer's operation and parameters, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum LayerOp {
    /// 2-D convolution.
    Conv {
        /// Output channels.
        out: i64,
        /// Kernel size (square).
        kernel: i64,
        /// Stride.
        stride: i64,
        /// Zero padding on each side.
        padding: i64,
    },
    /// Batch normalisation.
    Batchnorm,
    /// ReLU.
    Relu,
    /// Max-pooling.
    Maxpool {
        /// Window size.
        kernel: i64,
        /// Stride.
        stride: i64,
    },
    /// Flatten; its output is the latent vector.
    Flatten,
    /// Fully connected layer.
    Linear {
        /// Output features.
        out: i64,
    },
    /// Dropout.
    Dropout {
        /// Probability that an element is zeroed while training.
        p: f64,
    },
    /// Average pooling.
    Avgpool {
        /// Window size.
        kernel: i64,
        /// Stride.
        stride: i64,
    },
    /// The mean of each channel: C×H×W to C×1×1.
    #[serde(rename = "global_avgpool")]
    GlobalAvgpool,
    /// Leaky ReLU.
    #[serde(rename = "leaky_relu")]
    LeakyRelu {
        /// Slope for negative inputs.
        negative_slope: f64,
    },
    /// GELU, exact.
    Gelu,
    /// Hyperbolic tangent.
    Tanh,
    /// Logistic sigmoid.
    Sigmoid,
    /// Channel dropout.
    Dropout2d {
        /// Probability that a channel is zeroed while training.
        p: f64,
    },
}

impl LayerOp {
    /// Whether the layer keeps its input's shape and has no parameters: an activation or
    /// a dropout, which the diagram folds into the block before it.
    pub fn is_elementwise(&self) -> bool {
        matches!(
            self,
            LayerOp::Relu
                | LayerOp::LeakyRelu { .. }
                | LayerOp::Gelu
                | LayerOp::Tanh
                | LayerOp::Sigmoid
                | LayerOp::Dropout { .. }
                | LayerOp::Dropout2d { .. }
        )
    }
}

/// How a layer is spelled. Text set in a line of prose and a label inside a drawn block
/// have different room, so the same layer reads `conv k5 p2 16` in one and
/// `conv 5×5, 16 · pad 2` in the other; every notation is spelled in [`LayerOp::label`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notation {
    /// Short, in the words of the experiment files: `conv k5 p2 16`, `maxpool 2`,
    /// `relu`. What [`fmt::Display`] writes: the "what changed" lines, `report check`
    /// and error messages.
    Compact,
    /// Written out, for the architecture diagram's blocks: `conv 5×5, 16 · pad 2`,
    /// `maxpool 2×2`, `ReLU`, `flatten (latent vector)`.
    Diagram,
    /// Like [`Notation::Diagram`], for a layer the diagram folds into the block before
    /// it (`conv … + BN + ReLU`), where batchnorm shrinks to `BN`.
    Folded,
}

impl LayerOp {
    /// The layer's operation and parameters in `notation`.
    pub fn label(&self, notation: Notation) -> String {
        let mut s = String::new();
        self.spell(notation, &mut s)
            .expect("writing to a String cannot fail");
        s
    }

    fn spell(&self, notation: Notation, w: &mut impl fmt::Write) -> fmt::Result {
        let compact = notation == Notation::Compact;
        match *self {
            LayerOp::Conv {
                out,
                kernel,
                stride,
                padding,
            } if compact => {
                write!(w, "conv k{kernel}")?;
                if stride != 1 {
                    write!(w, " s{stride}")?;
                }
                if padding != 0 {
                    write!(w, " p{padding}")?;
                }
                write!(w, " {out}")
            }
            LayerOp::Conv {
                out,
                kernel,
                stride,
                padding,
            } => {
                write!(w, "conv {kernel}×{kernel}, {out}")?;
                if stride != 1 {
                    write!(w, " · stride {stride}")?;
                }
                if padding != 0 {
                    write!(w, " · pad {padding}")?;
                }
                Ok(())
            }
            // A window that moves by its own size is the usual case; only other strides
            // are spelled.
            LayerOp::Maxpool { kernel, stride } | LayerOp::Avgpool { kernel, stride }
                if compact =>
            {
                write!(w, "{} {kernel}", self.pool_name())?;
                if stride != kernel {
                    write!(w, " s{stride}")?;
                }
                Ok(())
            }
            LayerOp::Maxpool { kernel, stride } | LayerOp::Avgpool { kernel, stride } => {
                write!(w, "{} {kernel}×{kernel}", self.pool_name())?;
                if stride != kernel {
                    write!(w, " · stride {stride}")?;
                }
                Ok(())
            }
            LayerOp::GlobalAvgpool if compact => w.write_str("global_avgpool"),
            LayerOp::GlobalAvgpool => w.write_str("global avgpool"),
            LayerOp::LeakyRelu { negative_slope } if compact => {
                write!(w, "leaky_relu {negative_slope}")
            }
            LayerOp::LeakyRelu { negative_slope } => write!(w, "LeakyReLU {negative_slope}"),
            LayerOp::Gelu if compact => w.write_str("gelu"),
            LayerOp::Gelu => w.write_str("GELU"),
            LayerOp::Tanh => w.write_str("tanh"),
            LayerOp::Sigmoid => w.write_str("sigmoid"),
            LayerOp::Dropout2d { p } => write!(w, "dropout2d {p}"),
            LayerOp::Batchnorm if notation == Notation::Folded => w.write_str("BN"),
            LayerOp::Batchnorm => w.write_str("batchnorm"),
            LayerOp::Relu if compact => w.write_str("relu"),
            LayerOp::Relu => w.write_str("ReLU"),
            LayerOp::Flatten if compact => w.write_str("flatten"),
            LayerOp::Flatten => w.write_str("flatten (latent vector)"),
            LayerOp::Linear { out } => write!(w, "linear {out}"),
            LayerOp::Dropout { p } => write!(w, "dropout {p}"),
        }
    }
}

impl LayerOp {
    fn pool_name(&self) -> &'static str {
        match self {
            LayerOp::Avgpool { .. } => "avgpool",
            _ => "maxpool",
        }
    }
}

impl fmt::Display for LayerOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.spell(Notation::Compact, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(stride: i64, padding: i64) -> LayerOp {
        LayerOp::Conv {
            out: 16,
            kernel: 5,
            stride,
            padding,
        }
    }

    #[test]
    fn every_notation_spells_every_layer() {
        let ops = [
            conv(1, 0),
            conv(2, 2),
            LayerOp::Maxpool {
                kernel: 2,
                stride: 2,
            },
            LayerOp::Maxpool {
                kernel: 3,
                stride: 2,
            },
            LayerOp::Batchnorm,
            LayerOp::Relu,
            LayerOp::Flatten,
            LayerOp::Linear { out: 128 },
            LayerOp::Dropout { p: 0.5 },
            LayerOp::Avgpool {
                kernel: 2,
                stride: 1,
            },
            LayerOp::GlobalAvgpool,
            LayerOp::LeakyRelu {
                negative_slope: 0.2,
            },
            LayerOp::Gelu,
            LayerOp::Tanh,
            LayerOp::Sigmoid,
            LayerOp::Dropout2d { p: 0.1 },
        ];
        let spelled = |n: Notation| ops.iter().map(|op| op.label(n)).collect::<Vec<_>>();
        assert_eq!(
            spelled(Notation::Compact),
            [
                "conv k5 16",
                "conv k5 s2 p2 16",
                "maxpool 2",
                "maxpool 3 s2",
                "batchnorm",
                "relu",
                "flatten",
                "linear 128",
                "dropout 0.5",
                "avgpool 2 s1",
                "global_avgpool",
                "leaky_relu 0.2",
                "gelu",
                "tanh",
                "sigmoid",
                "dropout2d 0.1",
            ]
        );
        let display: Vec<String> = ops.iter().map(LayerOp::to_string).collect();
        assert_eq!(display, spelled(Notation::Compact));
        let diagram = [
            "conv 5×5, 16",
            "conv 5×5, 16 · stride 2 · pad 2",
            "maxpool 2×2",
            "maxpool 3×3 · stride 2",
            "batchnorm",
            "ReLU",
            "flatten (latent vector)",
            "linear 128",
            "dropout 0.5",
            "avgpool 2×2 · stride 1",
            "global avgpool",
            "LeakyReLU 0.2",
            "GELU",
            "tanh",
            "sigmoid",
            "dropout2d 0.1",
        ];
        assert_eq!(spelled(Notation::Diagram), diagram);
        let mut folded = diagram;
        folded[4] = "BN";
        assert_eq!(spelled(Notation::Folded), folded);
    }
}
