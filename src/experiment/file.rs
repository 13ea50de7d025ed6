//! The experiment file format (`experiments/<section>.toml`), as written: every field
//! optional, because a file may inherit the rest through `extends`.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::layer::{LayerEdit, LayerSpec};

/// One experiment file: one report section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentFile {
    /// The section this one starts from.
    pub extends: Option<String>,
    /// Section heading, e.g. "Model 3".
    pub title: Option<String>,
    /// What this section changes, in the author's words (Markdown).
    pub summary: Option<String>,
    /// The whole layer list, replacing any inherited one.
    pub layers: Option<Vec<LayerSpec>>,
    /// Changes to the inherited layer list, applied in order.
    #[serde(default)]
    pub edit: Vec<LayerEdit>,
    /// Training settings.
    pub training: Option<TrainingPatch>,
    /// Data augmentation of training batches.
    pub augment: Option<AugmentPatch>,
    /// Per-channel input normalisation.
    pub normalize: Option<Normalize>,
    /// Latent snapshots and their t-SNE.
    pub tsne: Option<TsnePatch>,
    /// Settings that apply only under one profile, by profile name.
    #[serde(default)]
    pub profiles: BTreeMap<String, SettingsPatch>,
    /// Variants of this section (e.g. one per optimizer), by name.
    #[serde(default)]
    pub variants: IndexMap<String, VariantPatch>,
}

impl ExperimentFile {
    /// The file's top-level settings as a patch.
    pub fn settings(&self) -> SettingsPatch {
        SettingsPatch {
            training: self.training.clone(),
            augment: self.augment.clone(),
            normalize: self.normalize.clone(),
            tsne: self.tsne.clone(),
        }
    }
}

/// Settings that profiles and variants may override.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    /// Training settings.
    pub training: Option<TrainingPatch>,
    /// Data augmentation.
    pub augment: Option<AugmentPatch>,
    /// Input normalisation.
    pub normalize: Option<Normalize>,
    /// Snapshots and t-SNE.
    pub tsne: Option<TsnePatch>,
}

/// A variant: a title and the settings it changes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantPatch {
    /// Subsection heading, e.g. "Adam".
    pub title: Option<String>,
    /// Training settings.
    pub training: Option<TrainingPatch>,
    /// Data augmentation.
    pub augment: Option<AugmentPatch>,
    /// Input normalisation.
    pub normalize: Option<Normalize>,
    /// Snapshots and t-SNE.
    pub tsne: Option<TsnePatch>,
}

impl VariantPatch {
    /// The variant's settings as a patch.
    pub fn settings(&self) -> SettingsPatch {
        SettingsPatch {
            training: self.training.clone(),
            augment: self.augment.clone(),
            normalize: self.normalize.clone(),
            tsne: self.tsne.clone(),
        }
    }
}

/// `[training]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingPatch {
    /// Number of epochs.
    pub epochs: Option<i64>,
    /// Mini-batch size.
    pub batch_size: Option<i64>,
    /// Seed of initialisation, shuffling and augmentation.
    pub seed: Option<u64>,
    /// The optimizer, replacing any inherited one whole.
    pub optimizer: Option<OptimizerSpec>,
    /// Memory layout of images, activations and conv weights.
    pub memory_format: Option<MemoryFormat>,
    /// Arithmetic of conv and linear layers.
    pub precision: Option<Precision>,
}

/// How 4-D tensors (images, activations, conv weights) are laid out in memory. Results
/// differ only in the last bits (other kernels sum in another order), but they differ,
/// so the choice is part of a run's key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemoryFormat {
    /// N×H×W×C strides: vectorised pooling and batch norm on the CPU (see BENCHMARKS.md).
    #[default]
    ChannelsLast,
    /// N×C×H×W, PyTorch's default.
    Contiguous,
}

impl std::fmt::Display for MemoryFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MemoryFormat::ChannelsLast => "channels_last",
            MemoryFormat::Contiguous => "contiguous",
        })
    }
}

/// The arithmetic of conv and linear layers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// 32-bit floats throughout.
    #[default]
    Fp32,
    /// Mixed precision as `torch.autocast(dtype=bfloat16)` applies it to these models:
    /// conv and linear layers compute in bfloat16 from fp32 master weights; batch norm,
    /// the loss and the optimizer stay in fp32. Slow on CPUs without bf16 instructions.
    Bf16,
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::Fp32 => "fp32",
            Precision::Bf16 => "bf16",
        })
    }
}

/// An optimizer and its hyper-parameters; defaults follow PyTorch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum OptimizerSpec {
    /// Stochastic gradient descent, with optional (Nesterov) momentum.
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Momentum factor (0: none).
        #[serde(default)]
        momentum: f64,
        /// L2 penalty added to the gradient.
        #[serde(default)]
        weight_decay: f64,
        /// Nesterov momentum instead of the classical one.
        #[serde(default)]
        nesterov: bool,
    },
    /// Adam.
    Adam {
        /// Learning rate.
        lr: f64,
        /// Decay of the running mean of gradients (PyTorch: 0.9).
        #[serde(default = "beta1")]
        beta1: f64,
        /// Decay of the running mean of squared gradients (PyTorch: 0.999).
        #[serde(default = "beta2")]
        beta2: f64,
        /// Added to the denominator for stability (PyTorch: 1e-8).
        #[serde(default = "eps")]
        eps: f64,
        /// L2 penalty added to the gradient.
        #[serde(default)]
        weight_decay: f64,
    },
    /// RMSprop.
    Rmsprop {
        /// Learning rate.
        lr: f64,
        /// Smoothing constant of the squared-gradient average (PyTorch: 0.99).
        #[serde(default = "alpha")]
        alpha: f64,
        /// Added to the denominator for stability (PyTorch: 1e-8).
        #[serde(default = "eps")]
        eps: f64,
        /// Momentum factor (0: none).
        #[serde(default)]
        momentum: f64,
        /// L2 penalty added to the gradient.
        #[serde(default)]
        weight_decay: f64,
    },
}

fn beta1() -> f64 {
    0.9
}
fn beta2() -> f64 {
    0.999
}
fn eps() -> f64 {
    1e-8
}
fn alpha() -> f64 {
    0.99
}

/// `[augment]`: applied to training batches only.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AugmentPatch {
    /// Random crop back to the image size after zero-padding this many pixels (0 = off).
    pub crop_padding: Option<i64>,
    /// Probability of a horizontal flip (0 = off).
    pub hflip: Option<f64>,
    /// Probability of a vertical flip (0 = off).
    pub vflip: Option<f64>,
}

/// `[normalize]`: per-channel mean and standard deviation of the inputs in [0, 1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normalize {
    /// Mean of R, G, B.
    pub mean: [f64; 3],
    /// Standard deviation of R, G, B.
    pub std: [f64; 3],
}

/// `[tsne]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsnePatch {
    /// Take latent snapshots and plot their t-SNE.
    pub enabled: Option<bool>,
    /// Epochs to snapshot (0 = before training); defaults to the profile's.
    pub epochs: Option<Vec<i64>>,
    /// Components kept by the PCA that compresses stored snapshots.
    pub pca: Option<i64>,
    /// t-SNE perplexity.
    pub perplexity: Option<f64>,
    /// t-SNE iterations.
    pub iterations: Option<i64>,
}
