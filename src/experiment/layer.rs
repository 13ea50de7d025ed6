//! Layers as written in experiment files, and the edits a file can make to the layer
//! list it inherits.

use serde::{Deserialize, Serialize};

/// One layer as written in an experiment file. `id` names it for later edits; when
/// omitted, the planner names it after its kind (`conv1`, `bn2`, `pool3`, `fc1`…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum LayerSpec {
    /// 2-D convolution.
    Conv {
        /// The layer's name; by default its kind and position (`conv1`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// Output channels.
        out: i64,
        /// Kernel size (square).
        kernel: i64,
        /// Stride (default 1).
        #[serde(default = "one")]
        stride: i64,
        /// Zero padding on each side (default 0).
        #[serde(default)]
        padding: i64,
    },
    /// Batch normalisation over the channels of the previous layer.
    Batchnorm {
        /// The layer's name; by default its kind and position (`conv1`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// Rectified linear unit.
    Relu {
        /// The layer's name; by default its kind and position (`conv1`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// Max-pooling; the stride defaults to the kernel size.
    Maxpool {
        /// The layer's name; by default its kind and position (`conv1`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// Window size (default 2).
        #[serde(default = "two")]
        kernel: i64,
        /// Stride (default: the window size).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<i64>,
    },
    /// Flattens C×H×W to a vector: its output is the latent vector t-SNE plots.
    Flatten {
        /// The layer's name; by default its kind and position (`conv1`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// Fully connected layer; its input size is inferred.
    Linear {
        /// The layer's name; by default its kind and position (`conv1`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// Output features: a count, or `"classes"` for as many as the data has classes.
        out: Outputs,
    },
    /// Dropout with drop probability `p`.
    Dropout {
        /// The layer's name; by default its kind and position (`conv1`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// Probability that an element is zeroed while training.
        p: f64,
    },
    /// Average pooling (`nn.AvgPool2d`); the stride defaults to the kernel size.
    Avgpool {
        /// The layer's name; by default its kind and position (`conv1`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// Window size (default 2).
        #[serde(default = "two")]
        kernel: i64,
        /// Stride (default: the window size).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<i64>,
    },
    /// The mean of each channel (`nn.AdaptiveAvgPool2d(1)`): C×H×W to C×1×1.
    #[serde(rename = "global_avgpool")]
    GlobalAvgpool {
        /// The layer's name; by default its kind and position (`conv1`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// Leaky ReLU (`nn.LeakyReLU`): x for x > 0, else `negative_slope` · x.
    #[serde(rename = "leaky_relu")]
    LeakyRelu {
        /// The layer's name; by default its kind and position (`conv1`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// Slope for negative inputs (PyTorch: 0.01).
        #[serde(default = "leaky_slope")]
        negative_slope: f64,
    },
    /// GELU (`nn.GELU()`, exact): x · Φ(x), Φ the standard normal distribution function.
    Gelu {
        /// The layer's name; by default its kind and position (`conv1`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// Hyperbolic tangent (`nn.Tanh`).
    Tanh {
        /// The layer's name; by default its kind and position (`conv1`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// Logistic sigmoid (`nn.Sigmoid`): 1 / (1 + e^−x).
    Sigmoid {
        /// The layer's name; by default its kind and position (`conv1`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// Channel dropout (`nn.Dropout2d`): each channel of each image zeroed with
    /// probability `p` while training, the others scaled by 1 / (1 − p).
    Dropout2d {
        /// The layer's name; by default its kind and position (`conv1`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// Probability that a channel is zeroed while training.
        p: f64,
    },
}

fn one() -> i64 {
    1
}
fn two() -> i64 {
    2
}
fn leaky_slope() -> f64 {
    0.01
}

impl LayerSpec {
    /// The id written in the file, if any.
    pub fn id(&self) -> Option<&str> {
        match self {
            LayerSpec::Conv { id, .. }
            | LayerSpec::Batchnorm { id }
            | LayerSpec::Relu { id }
            | LayerSpec::Maxpool { id, .. }
            | LayerSpec::Flatten { id }
            | LayerSpec::Linear { id, .. }
            | LayerSpec::Dropout { id, .. }
            | LayerSpec::Avgpool { id, .. }
            | LayerSpec::GlobalAvgpool { id }
            | LayerSpec::LeakyRelu { id, .. }
            | LayerSpec::Gelu { id }
            | LayerSpec::Tanh { id }
            | LayerSpec::Sigmoid { id }
            | LayerSpec::Dropout2d { id, .. } => id.as_deref(),
        }
    }

    /// Sets the id.
    pub fn set_id(&mut self, new: String) {
        match self {
            LayerSpec::Conv { id, .. }
            | LayerSpec::Batchnorm { id }
            | LayerSpec::Relu { id }
            | LayerSpec::Maxpool { id, .. }
            | LayerSpec::Flatten { id }
            | LayerSpec::Linear { id, .. }
            | LayerSpec::Dropout { id, .. }
            | LayerSpec::Avgpool { id, .. }
            | LayerSpec::GlobalAvgpool { id }
            | LayerSpec::LeakyRelu { id, .. }
            | LayerSpec::Gelu { id }
            | LayerSpec::Tanh { id }
            | LayerSpec::Sigmoid { id }
            | LayerSpec::Dropout2d { id, .. } => *id = Some(new),
        }
    }

    /// The prefix of generated ids: `conv`, `bn`, `relu`, `pool`, `flatten`, `fc`, `drop`.
    pub fn id_prefix(&self) -> &'static str {
        match self {
            LayerSpec::Conv { .. } => "conv",
            LayerSpec::Batchnorm { .. } => "bn",
            LayerSpec::Relu { .. } => "relu",
            LayerSpec::Maxpool { .. } => "pool",
            LayerSpec::Flatten { .. } => "flatten",
            LayerSpec::Linear { .. } => "fc",
            LayerSpec::Dropout { .. } | LayerSpec::Dropout2d { .. } => "drop",
            LayerSpec::Avgpool { .. } => "pool",
            LayerSpec::GlobalAvgpool { .. } => "gap",
            LayerSpec::LeakyRelu { .. } => "lrelu",
            LayerSpec::Gelu { .. } => "gelu",
            LayerSpec::Tanh { .. } => "tanh",
            LayerSpec::Sigmoid { .. } => "sigmoid",
        }
    }
}

/// One change to an inherited layer list. Exactly one form per edit:
/// `remove = "pool1"` (or a list), `after`/`before = "conv1"` with `insert = [...]`,
/// or `layer = "conv1"` with `set = { kernel = 5 }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerEdit {
    /// Ids of layers to remove.
    #[serde(default)]
    pub remove: Option<OneOrMany>,
    /// Insert `insert` after this layer.
    #[serde(default)]
    pub after: Option<String>,
    /// Insert `insert` before this layer.
    #[serde(default)]
    pub before: Option<String>,
    /// Layers to insert.
    #[serde(default)]
    pub insert: Option<Vec<LayerSpec>>,
    /// The layer whose parameters `set` changes.
    #[serde(default)]
    pub layer: Option<String>,
    /// New parameter values for `layer`.
    #[serde(default)]
    pub set: Option<toml::Table>,
}

/// A single id or a list of ids.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One id.
    One(String),
    /// Several ids.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The ids, in order.
    pub fn ids(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// A linear layer's output count: written, or `"classes"`, the data's class count
/// (known once the plan has the data's description).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, try_from = "toml::Value")]
pub enum Outputs {
    /// A given count.
    Count(i64),
    /// `"classes"`.
    Classes(ClassesWord),
}

impl TryFrom<toml::Value> for Outputs {
    type Error = String;
    fn try_from(v: toml::Value) -> Result<Self, String> {
        match v {
            toml::Value::Integer(n) => Ok(Outputs::Count(n)),
            toml::Value::String(s) if s == "classes" => Ok(Outputs::Classes(ClassesWord::Classes)),
            other => Err(format!(
                "out must be a count or \"classes\" (the data's class count), got {other}"
            )),
        }
    }
}

/// The one word `out` may be instead of a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassesWord {
    /// `"classes"`.
    Classes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        layers: Vec<LayerSpec>,
    }

    #[test]
    fn parses_layers_with_defaults() {
        let doc: Doc = toml::from_str(
            r#"layers = [
                { type = "conv", out = 16, kernel = 5, padding = 2 },
                { type = "maxpool" },
                { id = "head", type = "linear", out = 10 },
            ]"#,
        )
        .unwrap();
        assert_eq!(
            doc.layers[0],
            LayerSpec::Conv {
                id: None,
                out: 16,
                kernel: 5,
                stride: 1,
                padding: 2
            }
        );
        assert_eq!(
            doc.layers[1],
            LayerSpec::Maxpool {
                id: None,
                kernel: 2,
                stride: None
            }
        );
        assert_eq!(doc.layers[2].id(), Some("head"));
    }

    #[test]
    fn rejects_unknown_layer_fields_and_types() {
        let err = toml::from_str::<Doc>(
            r#"layers = [{ type = "conv", out = 1, kernel = 3, kernal = 3 }]"#,
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("kernal"), "{err}");
        let err = toml::from_str::<Doc>(r#"layers = [{ type = "lstm" }]"#)
            .err()
            .unwrap();
        assert!(err.to_string().contains("lstm"), "{err}");
    }
}
