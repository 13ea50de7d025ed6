//! Resolved, validated run specifications: what the trainer reads.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use crate::experiment::file::{
    Expect, LrSchedule, MemoryFormat, Metric, Normalize, NormalizeSetting, OptimizerSpec,
    Precision, TsneMethod,
};

use super::layer::Layer;
use super::shape::LayerShape;

/// The variant name of a section that declares no variants.
pub const DEFAULT_VARIANT: &str = "main";

/// Names one run within a profile: a section and one of its variants.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RunId {
    /// Section name, the experiment file's stem.
    pub section: String,
    /// Variant name, [`DEFAULT_VARIANT`] when the section has none.
    pub variant: String,
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.variant == DEFAULT_VARIANT {
            write!(f, "{}", self.section)
        } else {
            write!(f, "{}/{}", self.section, self.variant)
        }
    }
}

/// One stored run: a run with one of its seeds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SeedRun {
    /// The run.
    pub id: RunId,
    /// The seed.
    pub seed: u64,
}

impl fmt::Display for SeedRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} seed {}", self.id, self.seed)
    }
}

/// Data augmentation of training batches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Augment {
    /// Zero-padding before a random crop back to size (0 = no crop).
    pub crop_padding: i64,
    /// Horizontal flip probability.
    pub hflip: f64,
    /// Vertical flip probability.
    pub vflip: f64,
}

/// Everything that determines a run's weights and metrics. Its hash is the run's key,
/// so presentation (titles, prose, t-SNE settings) is deliberately not in here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSpec {
    /// The model.
    pub layers: Vec<Layer>,
    /// Optimizer and hyper-parameters.
    pub optimizer: OptimizerSpec,
    /// The learning rate's schedule (`t_max` of a cosine filled in); none: constant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr_schedule: Option<LrSchedule>,
    /// Epochs of linear warm-up before the schedule.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub warmup_epochs: i64,
    /// Number of epochs.
    pub epochs: i64,
    /// Mini-batch size.
    pub batch_size: i64,
    /// Seed of initialisation, shuffling and augmentation.
    pub seed: u64,
    /// Augmentation of training batches.
    pub augment: Augment,
    /// Input normalisation.
    pub normalize: NormalizeSetting,
    /// Epochs at which the test set's latent vectors are stored (0 = before training).
    pub snapshot_epochs: Vec<i64>,
    /// PCA components kept in stored snapshots.
    pub snapshot_pca: i64,
    /// Memory layout of images, activations and conv weights.
    pub memory_format: MemoryFormat,
    /// Arithmetic of conv and linear layers.
    pub precision: Precision,
    /// Deterministic algorithms on CUDA (see `[training] deterministic`). Left out of
    /// the key when false, so runs keep the keys they had before the setting existed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deterministic: bool,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// t-SNE settings: analysis only, so changing them never retrains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TsneSettings {
    /// Perplexity.
    pub perplexity: f64,
    /// Gradient-descent iterations.
    pub iterations: i64,
    /// The optimiser, when the experiment names one (else chosen by the run's device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<TsneMethod>,
}

/// One run, fully resolved: the unit the trainer and the store work with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSpec {
    /// Section and variant.
    pub id: RunId,
    /// Profile name.
    pub profile: String,
    /// Section heading.
    pub section_title: String,
    /// Variant heading, when the section has variants.
    pub variant_title: Option<String>,
    /// What the section changes, in the author's words.
    pub summary: Option<String>,
    /// The section this one extends.
    pub parent: Option<String>,
    /// The experiment file.
    pub source: PathBuf,
    /// What training needs.
    pub train: TrainSpec,
    /// How snapshots are embedded.
    pub tsne: TsneSettings,
    /// The shape of one input image (channels, height, width), from the data.
    pub input: [i64; 3],
    /// Per-layer output shapes and parameter counts, from shape inference.
    pub shapes: Vec<LayerShape>,
    /// The seeds of this run, in order: one stored run each, `train.seed` being this
    /// one's. The first is the seed whose t-SNE and confusion matrix are shown.
    pub seeds: Vec<u64>,
    /// What the author expects of this run.
    pub claims: Vec<Claim>,
}

/// A claim of the author, resolved: `metric` of this run against `against`'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// What the run's change is expected to do to the metric.
    pub expect: Expect,
    /// The metric.
    pub metric: Metric,
    /// The run compared with.
    pub against: RunId,
    /// The claim in the author's words.
    pub text: Option<String>,
    /// For `same`, `not_better` and `not_worse`: how far the metric may move and still
    /// count, in the metric's own units (a fraction for accuracies, like the
    /// differences; the loss's units for losses).
    pub margin: Option<f64>,
}

impl RunSpec {
    /// Run title for humans: "Model 9 with Adam" or "Model 1".
    pub fn title(&self) -> String {
        match &self.variant_title {
            Some(v) => format!("{} with {v}", self.section_title),
            None => self.section_title.clone(),
        }
    }

    /// This run with its seed: what the store keeps one folder for.
    pub fn seed_run(&self) -> SeedRun {
        SeedRun {
            id: self.id.clone(),
            seed: self.train.seed,
        }
    }

    /// How messages name this run: `model-9/adam`, or `model-9/adam seed 1` when the run
    /// has several seeds.
    pub fn label(&self) -> String {
        if self.seeds.len() > 1 {
            self.seed_run().to_string()
        } else {
            self.id.to_string()
        }
    }

    /// Whether this is the first of its seeds, the one whose t-SNE and confusion matrix
    /// the report shows.
    pub fn is_first_seed(&self) -> bool {
        self.seeds.first() == Some(&self.train.seed)
    }

    /// Size of the latent (flatten) vector.
    pub fn flatten_size(&self) -> i64 {
        super::shape::flatten_size(&self.shapes)
    }

    /// Total trainable parameters.
    pub fn param_count(&self) -> i64 {
        self.shapes.iter().map(|s| s.params).sum()
    }

    /// A run of `layers` titled `title`, with plain settings (SGD lr 0.01 momentum 0.9,
    /// batch 64, 8 epochs, no augmentation or snapshots) and no shapes, for unit tests
    /// of the code that reads specs.
    #[cfg(test)]
    pub fn example(title: &str, layers: Vec<Layer>) -> RunSpec {
        RunSpec {
            id: RunId {
                section: title.to_lowercase().replace(' ', "-"),
                variant: DEFAULT_VARIANT.to_owned(),
            },
            profile: "quick".to_owned(),
            section_title: title.to_owned(),
            variant_title: None,
            summary: None,
            parent: None,
            source: PathBuf::from("experiments/x.toml"),
            input: [3, 32, 32],
            train: TrainSpec {
                layers,
                optimizer: OptimizerSpec::Sgd {
                    lr: 0.01,
                    momentum: 0.9,
                    weight_decay: 0.0,
                    nesterov: false,
                },
                lr_schedule: None,
                warmup_epochs: 0,
                epochs: 8,
                batch_size: 64,
                seed: 0,
                augment: Augment {
                    crop_padding: 0,
                    hflip: 0.0,
                    vflip: 0.0,
                },
                normalize: NormalizeSetting::Values(Normalize {
                    mean: vec![0.5; 3],
                    std: vec![0.25; 3],
                }),
                snapshot_epochs: vec![],
                snapshot_pca: 50,
                memory_format: MemoryFormat::default(),
                precision: Precision::default(),
                deterministic: false,
            },
            tsne: TsneSettings {
                perplexity: 30.0,
                iterations: 1000,
                method: None,
            },
            shapes: vec![],
            seeds: vec![0],
            claims: vec![],
        }
    }
}
