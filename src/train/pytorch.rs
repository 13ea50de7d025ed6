//! A run's network as a PyTorch module: the text of the `model.py` written beside
//! `weights.safetensors`, so a reader loads a trained run with torch alone.
//!
//! The file mirrors `model.rs` op for op (the same aten calls in the same order, the
//! same input scaling as `augment::Normalizer`, the same memory layout and arithmetic),
//! so on the same device it gives the run's own predictions. Modules are named by layer
//! id, as the weights are, so `load_state_dict(strict=True)` checks every name and
//! shape. The text depends only on the spec and the class names: no dates, no paths.

use std::fmt::Write as _;

use crate::plan::RunSpec;
use crate::plan::layer::LayerOp;
use crate::plan::shape::Shape;
use crate::plan::spec::{MemoryFormat, Normalize, Precision};

/// Python's keywords: an id spelled like one cannot be an attribute (`self.class`).
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// The text of `model.py` for `spec`, whose images have shape `input` and whose logits
/// name `classes` in order.
pub fn model_py(spec: &RunSpec, normalize: &Normalize, input: Shape, classes: &[String]) -> String {
    let t = &spec.train;
    let bf16 = t.precision == Precision::Bf16;
    let mut s = String::new();
    s.push_str(HEADER);
    let folder = format!(
        "out/runs/{}/{}/{}",
        spec.profile, spec.id.section, spec.id.variant
    );
    let _ = writeln!(s, "    import sys; sys.path.insert(0, {})", py_str(&folder));
    s.push_str(USAGE);
    if bf16 {
        s.push_str("import torch.nn.functional as F\n");
    }
    s.push('\n');
    let _ = writeln!(s, "RUN = {}", py_str(&spec.id.to_string()));
    let _ = writeln!(s, "PROFILE = {}", py_str(&spec.profile));
    let _ = writeln!(s, "TITLE = {}", py_str(&spec.title()));
    s.push_str("# The names of the logits' columns, in label order.\n");
    let names: Vec<String> = classes.iter().map(|c| py_str(c)).collect();
    let _ = writeln!(s, "CLASSES = ({})", tuple_items(&names));
    s.push_str(
        "\n# The input normalisation the run trained and was tested with: uint8 values / 255,\n\
         # then (x - MEAN) / STD per channel, in the data's channel order (R, G, B; one for grayscale).\n",
    );
    let floats = |v: &[f64]| tuple_items(&v.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>());
    let _ = writeln!(s, "MEAN = ({})", floats(&normalize.mean));
    let _ = writeln!(s, "STD = ({})", floats(&normalize.std));
    s.push_str(
        "# The memory layout the run computed in. channels_last changes only the strides, not\n\
         # the values; keeping it picks the kernels the run used, so the floats agree too.\n",
    );
    let format = match t.memory_format {
        MemoryFormat::ChannelsLast => "torch.channels_last",
        MemoryFormat::Contiguous => "torch.contiguous_format",
    };
    let _ = writeln!(s, "MEMORY_FORMAT = {format}");
    s.push_str(PREPROCESS);
    if bf16 {
        s.push_str(IN_BF16);
    }

    s.push_str("\n\nclass Net(nn.Module):\n");
    let _ = write!(
        s,
        "    \"\"\"The network, layer by layer as the experiment lists it; the input is {}.",
        ascii(input)
    );
    if bf16 {
        s.push_str(
            "\n\n    Conv and linear layers compute in bfloat16 from their float32 weights (the run's\n    \
             precision = \"bf16\", like torch.autocast) and return float32; the rest is float32.\n    ",
        );
    }
    s.push_str("\"\"\"\n\n    def __init__(self):\n        super().__init__()\n");
    let mut previous = input;
    let mut forward = String::new();
    for layer in &spec.shapes {
        let module = match (&layer.op, previous) {
            (
                LayerOp::Conv {
                    out,
                    kernel,
                    stride,
                    padding,
                },
                Shape::Image([c, ..]),
            ) => format!(
                "nn.Conv2d({c}, {out}, kernel_size={kernel}, stride={stride}, padding={padding})"
            ),
            (LayerOp::Batchnorm, Shape::Image([c, ..])) => format!("nn.BatchNorm2d({c})"),
            (LayerOp::Batchnorm, Shape::Flat(n)) => format!("nn.BatchNorm1d({n})"),
            (LayerOp::Relu, _) => "nn.ReLU()".to_owned(),
            (LayerOp::Maxpool { kernel, stride }, _) => {
                format!("nn.MaxPool2d(kernel_size={kernel}, stride={stride})")
            }
            (LayerOp::Flatten, _) => "nn.Flatten()".to_owned(),
            (LayerOp::Linear { out }, Shape::Flat(n)) => format!("nn.Linear({n}, {out})"),
            (LayerOp::Dropout { p }, _) => format!("nn.Dropout(p={p:?})"),
            (LayerOp::Avgpool { kernel, stride }, _) => {
                format!("nn.AvgPool2d(kernel_size={kernel}, stride={stride})")
            }
            (LayerOp::GlobalAvgpool, _) => "nn.AdaptiveAvgPool2d(1)".to_owned(),
            (LayerOp::LeakyRelu { negative_slope }, _) => {
                format!("nn.LeakyReLU(negative_slope={negative_slope:?})")
            }
            (LayerOp::Gelu, _) => "nn.GELU()".to_owned(),
            (LayerOp::Tanh, _) => "nn.Tanh()".to_owned(),
            (LayerOp::Sigmoid, _) => "nn.Sigmoid()".to_owned(),
            (LayerOp::Dropout2d { p }, _) => format!("nn.Dropout2d(p={p:?})"),
            (op, shape) => unreachable!("shape inference accepted {op} on {shape}"),
        };
        // An id that is not a Python name (`conv-a`, `class`) is still a module name,
        // through add_module, so the state_dict keys stay the weights' names.
        let call = if is_identifier(&layer.id) {
            let _ = writeln!(s, "        self.{} = {module}", layer.id);
            format!("self.{}", layer.id)
        } else {
            let name = py_str(&layer.id);
            let _ = writeln!(s, "        self.add_module({name}, {module})");
            format!("self.get_submodule({name})")
        };
        let low = bf16 && matches!(layer.op, LayerOp::Conv { .. } | LayerOp::Linear { .. });
        let value = if low {
            format!("in_bf16({call}, x)")
        } else {
            format!("{call}(x)")
        };
        let target = if layer.op == LayerOp::Flatten {
            "x = latent"
        } else {
            "x"
        };
        let _ = writeln!(
            forward,
            "        {target} = {value}  # {}",
            ascii(layer.output)
        );
        previous = layer.output;
    }
    s.push_str(
        "\n    def forward_latent(self, x):\n        \
         \"\"\"Class scores (logits) and latent vectors (the flatten layer's output) of a\n        \
         batch from preprocess.\"\"\"\n        \
         x = x.contiguous(memory_format=MEMORY_FORMAT)\n",
    );
    s.push_str(&forward);
    s.push_str("        return x, latent\n");
    s.push_str(FOOTER);
    s
}

/// The fixed top of the docstring: what the file is.
const HEADER: &str = r#""""The trained network of one `report` run, for PyTorch: torch alone, no other package.

Generated by `report` from the run's spec (RUN, PROFILE below). weights.safetensors,
beside this file, holds the trained tensors under PyTorch's state_dict names. To load
it, from the project's folder:

"#;

/// The rest of the docstring, after the line that puts the run's folder on `sys.path`.
const USAGE: &str = r#"    import model
    net = model.load()  # eval mode, on the CPU; model.load(device="cuda") for a GPU

net(model.preprocess(images)) gives the class scores (logits) of uint8 images
N x 3 x 32 x 32 (RGB, channels first, values 0..255: CIFAR-10's binary layout; turn
N x H x W x 3 batches from numpy or PIL with images.permute(0, 3, 1, 2) first), in the
order of CLASSES. net.forward_latent(x) also returns the latent vectors t-SNE plots.
"""

import array
import json
import os
import struct
import sys

import torch
from torch import nn
"#;

/// `preprocess`: the same ops in the same order as `augment::Normalizer`.
const PREPROCESS: &str = r#"

def preprocess(images):
    """uint8 images N x C x H x W (the data's channels, 0..255) -> the network's float32 input."""
    x = images.float() / 255.0
    mean = torch.tensor(MEAN, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    std = torch.tensor(STD, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    return (x - mean) / std
"#;

/// `in_bf16`: what `Net::compute` does for a bf16 run.
const IN_BF16: &str = r#"

def in_bf16(layer, x):
    """A conv or linear layer in bfloat16: input, weight and bias cast down, output back up."""
    weight, bias = layer.weight.bfloat16(), layer.bias.bfloat16()
    if isinstance(layer, nn.Conv2d):
        y = F.conv2d(x.bfloat16(), weight, bias, layer.stride, layer.padding)
    else:
        y = F.linear(x.bfloat16(), weight, bias)
    return y.float()
"#;

/// `forward`, the safetensors reader and `load`.
const FOOTER: &str = r#"
    def forward(self, x):
        """Class scores (logits) of a batch from preprocess."""
        return self.forward_latent(x)[0]


def read_safetensors(path):
    """The tensors of a safetensors file of float32 tensors (as report writes them): an
    8-byte little-endian header length, a JSON header, then the raw little-endian data."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    body = data[8 + length :]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: {name} is {info['dtype']}, not F32")
        start, end = info["data_offsets"]
        values = array.array("f")
        values.frombytes(body[start:end])
        if sys.byteorder == "big":
            values.byteswap()
        flat = torch.frombuffer(values, dtype=torch.float32) if values else torch.empty(0)
        tensors[name] = flat.reshape(info["shape"]).clone()
    return tensors


def load(folder=None, device="cpu"):
    """The trained network of the run in `folder` (default: this file's folder), in eval
    mode on `device`."""
    folder = folder or os.path.dirname(os.path.abspath(__file__))
    net = Net()
    # strict: every name and shape must match. The file has no num_batches_tracked
    # (libtorch's batch norm keeps none); PyTorch fills it in, and eval mode never reads it.
    net.load_state_dict(read_safetensors(os.path.join(folder, "weights.safetensors")))
    return net.to(device, memory_format=MEMORY_FORMAT).eval()
"#;

/// Whether `id` can be written `self.<id>`: an ASCII Python name that is not a keyword
/// (non-ASCII names are valid Python too, but are normalised, which could rename them).
fn is_identifier(id: &str) -> bool {
    let mut chars = id.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&id)
}

/// `s` as a Python string literal in ASCII, so the file is the same text in any encoding.
fn py_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if (c as u32) < 0x1_0000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// The inside of a Python tuple: a one-item tuple needs its trailing comma.
fn tuple_items(items: &[String]) -> String {
    match items {
        [one] => format!("{one},"),
        _ => items.join(", "),
    }
}

/// A shape in the ASCII of the rest of the file: `4 x 16 x 16`, `1024`.
fn ascii(shape: Shape) -> String {
    match shape {
        Shape::Image([c, h, w]) => format!("{c} x {h} x {w}"),
        Shape::Flat(n) => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::layer::Layer;
    use crate::plan::shape::infer;

    fn layer(id: &str, op: LayerOp) -> Layer {
        Layer { id: id.into(), op }
    }

    fn spec(precision: Precision, format: MemoryFormat) -> RunSpec {
        let layers = vec![
            layer(
                "conv1",
                LayerOp::Conv {
                    out: 4,
                    kernel: 3,
                    stride: 1,
                    padding: 1,
                },
            ),
            layer("bn1", LayerOp::Batchnorm),
            layer("relu1", LayerOp::Relu),
            layer(
                "pool1",
                LayerOp::Maxpool {
                    kernel: 2,
                    stride: 2,
                },
            ),
            layer("flatten1", LayerOp::Flatten),
            layer("drop-1", LayerOp::Dropout { p: 0.25 }),
            layer("class", LayerOp::Linear { out: 8 }),
            layer("bn2", LayerOp::Batchnorm),
            layer("fc2", LayerOp::Linear { out: 3 }),
        ];
        let mut spec = RunSpec::example("Tiny \"net\"", layers.clone());
        spec.shapes = infer(&layers, Shape::Image([3, 8, 8])).unwrap();
        spec.train.precision = precision;
        spec.train.memory_format = format;
        spec
    }

    /// What `RunSpec::example` normalises with.
    fn example_normalize() -> Normalize {
        Normalize {
            mean: vec![0.5; 3],
            std: vec![0.25; 3],
        }
    }

    fn classes() -> Vec<String> {
        ["cat", "dög", "ship"].map(String::from).to_vec()
    }

    #[test]
    fn modules_named_and_ordered_as_the_spec() {
        let spec = spec(Precision::Fp32, MemoryFormat::ChannelsLast);
        let text = model_py(
            &spec,
            &example_normalize(),
            Shape::Image([3, 8, 8]),
            &classes(),
        );
        for line in [
            "        self.conv1 = nn.Conv2d(3, 4, kernel_size=3, stride=1, padding=1)\n",
            "        self.bn1 = nn.BatchNorm2d(4)\n",
            "        self.relu1 = nn.ReLU()\n",
            "        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)\n",
            "        self.flatten1 = nn.Flatten()\n",
            "        self.add_module(\"drop-1\", nn.Dropout(p=0.25))\n",
            "        self.add_module(\"class\", nn.Linear(64, 8))\n",
            "        self.bn2 = nn.BatchNorm1d(8)\n",
            "        self.fc2 = nn.Linear(8, 3)\n",
            "        x = self.conv1(x)  # 4 x 8 x 8\n",
            "        x = latent = self.flatten1(x)  # 64\n",
            "        x = self.get_submodule(\"class\")(x)  # 8\n",
            "        return x, latent\n",
            "MEAN = (0.5, 0.5, 0.5)\n",
            "STD = (0.25, 0.25, 0.25)\n",
            "MEMORY_FORMAT = torch.channels_last\n",
            "CLASSES = (\"cat\", \"d\\u00f6g\", \"ship\")\n",
            "TITLE = \"Tiny \\\"net\\\"\"\n",
            "RUN = \"tiny-\\\"net\\\"\"\n",
            "    import sys; sys.path.insert(0, \"out/runs/quick/tiny-\\\"net\\\"/main\")\n",
            "    \"\"\"The network, layer by layer as the experiment lists it; the input is 3 x 8 x 8.\"\"\"\n",
        ] {
            assert!(text.contains(line), "no {line:?} in:\n{text}");
        }
        // The forward pass runs the layers in the spec's order.
        let order: Vec<usize> = ["conv1(x)", "bn1(x)", "relu1(x)", "pool1(x)", "flatten1(x)"]
            .iter()
            .map(|call| text.find(call).unwrap())
            .collect();
        assert!(order.is_sorted(), "{order:?}");
        assert!(text.is_ascii(), "the file is ASCII");
        assert!(!text.contains("in_bf16"), "fp32 runs compute in fp32");
        assert_eq!(
            text,
            model_py(
                &spec,
                &example_normalize(),
                Shape::Image([3, 8, 8]),
                &classes()
            ),
            "the same spec gives the same text"
        );
    }

    #[test]
    fn bf16_and_contiguous_runs_say_so() {
        let spec = spec(Precision::Bf16, MemoryFormat::Contiguous);
        let text = model_py(
            &spec,
            &example_normalize(),
            Shape::Image([3, 8, 8]),
            &["one".to_owned()],
        );
        for line in [
            "MEMORY_FORMAT = torch.contiguous_format\n",
            "def in_bf16(layer, x):\n",
            "        x = in_bf16(self.conv1, x)  # 4 x 8 x 8\n",
            "        x = in_bf16(self.get_submodule(\"class\"), x)  # 8\n",
            "        x = self.bn1(x)  # 4 x 8 x 8\n",
            "CLASSES = (\"one\",)\n",
        ] {
            assert!(text.contains(line), "no {line:?} in:\n{text}");
        }
    }

    #[test]
    fn python_names_and_strings() {
        assert!(is_identifier("conv1") && is_identifier("_x"));
        for id in ["1conv", "conv-1", "", "class", "None", "é"] {
            assert!(!is_identifier(id), "{id}");
        }
        assert_eq!(py_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
        assert_eq!(py_str("🙂"), "\"\\U0001f642\"");
    }
}
