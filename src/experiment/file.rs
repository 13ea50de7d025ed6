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
    pub normalize: Option<NormalizeSetting>,
    /// Latent snapshots and their t-SNE.
    pub tsne: Option<TsnePatch>,
    /// What the author expects this section's change to do: checked against the runs,
    /// never inherited by the sections that extend this one.
    pub claim: Option<Claims>,
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
    pub normalize: Option<NormalizeSetting>,
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
    pub normalize: Option<NormalizeSetting>,
    /// Snapshots and t-SNE.
    pub tsne: Option<TsnePatch>,
    /// What the author expects of this variant (not inherited, as the section's).
    pub claim: Option<Claims>,
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
    /// Seed of initialisation, shuffling and augmentation: one run.
    pub seed: Option<u64>,
    /// Several seeds, one run each: `seeds = 3` (seeds 0, 1, 2) or `seeds = [0, 5]`.
    pub seeds: Option<Seeds>,
    /// The optimizer, replacing any inherited one whole.
    pub optimizer: Option<OptimizerSpec>,
    /// How the learning rate changes from epoch to epoch (default: it stays).
    pub lr_schedule: Option<LrSchedule>,
    /// Epochs of linear warm-up before the schedule: the learning rate of epoch
    /// e ≤ w is lr · e / w.
    pub warmup_epochs: Option<i64>,
    /// Memory layout of images, activations and conv weights.
    pub memory_format: Option<MemoryFormat>,
    /// Arithmetic of conv and linear layers.
    pub precision: Option<Precision>,
    /// libtorch's deterministic algorithms where it has them, and cuDNN's, with its
    /// autotuner off (`torch.use_deterministic_algorithms(True, warn_only=True)`,
    /// `cudnn.deterministic = True`, `cudnn.benchmark = False`): on CUDA the same spec
    /// then gives the same floats run after run, a little slower. Default false.
    pub deterministic: Option<bool>,
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

/// A learning-rate schedule, stepped once per epoch as PyTorch's `lr_scheduler`s are
/// (`scheduler.step()` after each epoch): epoch 1 trains at step 0. Formulas are
/// PyTorch's, with lr the optimizer's own rate and s the step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum LrSchedule {
    /// `StepLR`: lr · gamma^⌊s / step_size⌋.
    Step {
        /// Steps between decays.
        step_size: i64,
        /// Factor of each decay (PyTorch: 0.1).
        #[serde(default = "gamma")]
        gamma: f64,
    },
    /// `MultiStepLR`: lr · gamma^(number of milestones ≤ s).
    Multistep {
        /// Steps at which the rate decays, increasing.
        milestones: Vec<i64>,
        /// Factor of each decay (PyTorch: 0.1).
        #[serde(default = "gamma")]
        gamma: f64,
    },
    /// `CosineAnnealingLR`, closed form: eta_min + (lr − eta_min) · (1 + cos(π s / t_max)) / 2.
    Cosine {
        /// Steps of one half cosine (default: the epochs after warm-up).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        t_max: Option<i64>,
        /// The lowest rate (PyTorch: 0).
        #[serde(default)]
        eta_min: f64,
    },
}

impl OptimizerSpec {
    /// The learning rate, as written.
    pub fn lr(&self) -> f64 {
        match *self {
            OptimizerSpec::Sgd { lr, .. }
            | OptimizerSpec::Adam { lr, .. }
            | OptimizerSpec::Rmsprop { lr, .. } => lr,
        }
    }
}

fn gamma() -> f64 {
    0.1
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
    /// Mean of each channel (R, G, B; one value for grayscale data).
    pub mean: Vec<f64>,
    /// Standard deviation of each channel.
    pub std: Vec<f64>,
}

/// How inputs are normalised: a `[normalize]` table of values, or `normalize = "auto"`
/// for the training images' own per-channel mean and standard deviation (computed when
/// the data is loaded; the data's fingerprint is in every run key, so the values are
/// fixed by the key too). Written back as it was read, so runs keyed with values keep
/// their keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, try_from = "toml::Value")]
pub enum NormalizeSetting {
    /// `"auto"`.
    Auto(AutoWord),
    /// Given values.
    Values(Normalize),
}

/// The one word `normalize` may be instead of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AutoWord {
    /// `"auto"`.
    Auto,
}

impl TryFrom<toml::Value> for NormalizeSetting {
    type Error = String;
    fn try_from(v: toml::Value) -> Result<Self, String> {
        match v {
            toml::Value::String(s) if s == "auto" => Ok(NormalizeSetting::Auto(AutoWord::Auto)),
            toml::Value::Table(_) => Normalize::deserialize(v)
                .map(NormalizeSetting::Values)
                .map_err(|e| e.message().trim().to_owned()),
            other => Err(format!(
                "normalize must be \"auto\" or a table with mean and std, got {other}"
            )),
        }
    }
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
    /// How the layout is optimised; default: exact for runs trained on CUDA, Barnes-Hut
    /// for runs trained on the CPU.
    pub method: Option<TsneMethod>,
}

/// How a t-SNE layout is optimised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TsneMethod {
    /// bhtsne's Barnes-Hut approximation (θ = 0.5), one CPU thread per embedding.
    BarnesHut,
    /// The exact gradient over all pairs in tensor operations, on a GPU when there is one.
    Exact,
}

impl std::fmt::Display for TsneMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TsneMethod::BarnesHut => "barnes-hut",
            TsneMethod::Exact => "exact",
        })
    }
}

/// `seeds`: how many (`seeds = 3`: seeds 0, 1 and 2) or which (`seeds = [0, 5]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeds(pub Vec<u64>);

impl<'de> Deserialize<'de> for Seeds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Seeds;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a count of seeds (3) or a list of distinct seeds ([0, 1, 2])")
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Seeds, E> {
                if n < 1 {
                    return Err(E::custom(format!("seeds = {n}: give at least one seed")));
                }
                Ok(Seeds((0..n as u64).collect()))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Seeds, E> {
                self.visit_i64(i64::try_from(n).unwrap_or(i64::MAX))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Seeds, A::Error> {
                use serde::de::Error;
                let mut seeds: Vec<u64> = Vec::new();
                while let Some(s) = seq.next_element::<u64>()? {
                    if seeds.contains(&s) {
                        return Err(A::Error::custom(format!("seeds: seed {s} is listed twice")));
                    }
                    seeds.push(s);
                }
                if seeds.is_empty() {
                    return Err(A::Error::custom("seeds = []: give at least one seed"));
                }
                Ok(Seeds(seeds))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// `claim`: one claim or several.
#[derive(Debug, Clone, PartialEq)]
pub enum Claims {
    /// `claim = "better"` or `claim = { expect = … }`.
    One(ClaimSpec),
    /// `claim = [{ … }, { … }]`.
    Many(Vec<ClaimSpec>),
}

impl Claims {
    /// Every claim, in the order written.
    pub fn list(&self) -> Vec<ClaimSpec> {
        match self {
            Claims::One(c) => vec![c.clone()],
            Claims::Many(v) => v.clone(),
        }
    }
}

/// One claim as written.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimSpec {
    /// `"better"`: final test accuracy against the section this one extends.
    Expect(Expect),
    /// The full form.
    Table(ClaimTable),
}

/// `{ expect = "worse", metric = "train_accuracy", against = "model-3", text = "…" }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimTable {
    /// What the change does to the metric.
    pub expect: Expect,
    /// The metric compared (final test accuracy when left out).
    #[serde(default)]
    pub metric: Metric,
    /// The runs compared with: `"model-3"`, `"model-9/adam"` or a list; the section
    /// this one extends when left out.
    #[serde(default, deserialize_with = "against")]
    pub against: Option<Vec<String>>,
    /// The claim in the author's words, shown in the Claims table.
    pub text: Option<String>,
    /// The margin of a `same`, `not_better` or `not_worse` claim on an accuracy, in
    /// percentage points (default: `[statistics] margin_pp`).
    #[serde(default, deserialize_with = "super::statistics::positive_option")]
    pub margin_pp: Option<f64>,
    /// The margin of such a claim on a loss, in the loss's units (default:
    /// `[statistics] loss_margin`).
    #[serde(default, deserialize_with = "super::statistics::positive_option")]
    pub margin: Option<f64>,
}

// Claims come in several shapes; serde's untagged enums would answer a mistake with
// "did not match any variant", so each shape is told apart here and the error says
// what was expected.
impl<'de> Deserialize<'de> for Claims {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let one = |v: toml::Value| -> Result<ClaimSpec, String> {
            match v {
                toml::Value::String(s) => Expect::parse(&s).map(ClaimSpec::Expect),
                t @ toml::Value::Table(_) => ClaimTable::deserialize(t)
                    .map(ClaimSpec::Table)
                    .map_err(|e| format!("claim: {}", e.message())),
                other => Err(format!(
                    "claim: expected {} or a table, got {}",
                    expected_words(),
                    other.type_str()
                )),
            }
        };
        match toml::Value::deserialize(d)? {
            toml::Value::Array(items) => items
                .into_iter()
                .map(one)
                .collect::<Result<Vec<_>, _>>()
                .map(Claims::Many)
                .map_err(D::Error::custom),
            v => one(v).map(Claims::One).map_err(D::Error::custom),
        }
    }
}

/// `against`: one run's name or a list of them.
fn against<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    use serde::de::Error;
    let wrong = || D::Error::custom("against: expected a run (\"model-3\") or a list of runs");
    match toml::Value::deserialize(d)? {
        toml::Value::String(s) => Ok(Some(vec![s])),
        toml::Value::Array(items) => items
            .into_iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(wrong))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        _ => Err(wrong()),
    }
}

/// What a claim expects of its metric, for the better (higher accuracy, lower loss).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Improves it.
    Better,
    /// Makes it worse.
    Worse,
    /// Changes it by less than the margin either way (an equivalence test).
    Same,
    /// Improves it by no more than the margin (it may make it worse).
    NotBetter,
    /// Makes it worse by no more than the margin (a non-inferiority test).
    NotWorse,
}

impl Expect {
    /// Every expectation, as written in experiment files.
    pub const ALL: [Expect; 5] = [
        Expect::Better,
        Expect::Worse,
        Expect::Same,
        Expect::NotBetter,
        Expect::NotWorse,
    ];

    /// The word an experiment file uses: `"not_better"`.
    pub fn word(&self) -> &'static str {
        match self {
            Expect::Better => "better",
            Expect::Worse => "worse",
            Expect::Same => "same",
            Expect::NotBetter => "not_better",
            Expect::NotWorse => "not_worse",
        }
    }

    /// Whether the claim is judged against a margin (sameness and non-inferiority).
    pub fn has_margin(&self) -> bool {
        matches!(self, Expect::Same | Expect::NotBetter | Expect::NotWorse)
    }
}

/// A number of a run that claims and comparisons are about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Test accuracy after the last epoch.
    #[default]
    TestAccuracy,
    /// The best test accuracy of any epoch.
    BestTestAccuracy,
    /// Training accuracy of the last epoch.
    TrainAccuracy,
    /// Training loss of the last epoch.
    TrainLoss,
    /// Test loss after the last epoch.
    TestLoss,
}

impl Expect {
    /// One of [`Expect::ALL`]'s words.
    fn parse(s: &str) -> Result<Expect, String> {
        Expect::ALL
            .into_iter()
            .find(|e| e.word() == s)
            .ok_or_else(|| format!("claim = \"{s}\": expected {}", expected_words()))
    }
}

/// `"better", "worse", "same", "not_better" or "not_worse"`.
fn expected_words() -> String {
    let words: Vec<String> = Expect::ALL
        .iter()
        .map(|e| format!("\"{}\"", e.word()))
        .collect();
    let (last, rest) = words.split_last().expect("five words");
    format!("{} or {last}", rest.join(", "))
}

impl Metric {
    /// Every metric, in the order tables show them.
    pub const ALL: [Metric; 5] = [
        Metric::TestAccuracy,
        Metric::BestTestAccuracy,
        Metric::TrainAccuracy,
        Metric::TrainLoss,
        Metric::TestLoss,
    ];

    /// Whether a higher value is better (accuracies) rather than a lower (losses).
    pub fn higher_is_better(&self) -> bool {
        !matches!(self, Metric::TrainLoss | Metric::TestLoss)
    }

    /// The metric in words: "final test accuracy".
    pub fn words(&self) -> &'static str {
        match self {
            Metric::TestAccuracy => "final test accuracy",
            Metric::BestTestAccuracy => "best test accuracy",
            Metric::TrainAccuracy => "final training accuracy",
            Metric::TrainLoss => "final training loss",
            Metric::TestLoss => "final test loss",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Doc {
        normalize: NormalizeSetting,
    }

    #[test]
    fn normalize_is_auto_or_a_table_of_values() {
        let doc: Doc = toml::from_str("normalize = \"auto\"").unwrap();
        assert_eq!(doc.normalize, NormalizeSetting::Auto(AutoWord::Auto));
        let doc: Doc =
            toml::from_str("[normalize]\nmean = [0.5, 0.5, 0.5]\nstd = [1, 1, 1]").unwrap();
        let values = Normalize {
            mean: vec![0.5; 3],
            std: vec![1.0; 3],
        };
        assert_eq!(doc.normalize, NormalizeSetting::Values(values.clone()));
        // Written back as it was read: values as the table they always were.
        assert_eq!(
            serde_json::to_value(NormalizeSetting::Values(values.clone())).unwrap(),
            serde_json::to_value(&values).unwrap()
        );
        assert_eq!(
            serde_json::to_value(NormalizeSetting::Auto(AutoWord::Auto)).unwrap(),
            "auto"
        );
        let err = toml::from_str::<Doc>("normalize = \"imagenet\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("normalize must be \"auto\""), "{err}");
        let err = toml::from_str::<Doc>("[normalize]\nmeans = [0, 0, 0]\nstd = [1, 1, 1]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `means`"), "{err}");
    }
}
