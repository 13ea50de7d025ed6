//! The report context's shape: plain serialisable data that every renderer reads (the
//! HTML and Markdown templates, and `report.json` for other tools). Everything a
//! template shows is already formatted here, so all outputs say the same.

use serde::{Deserialize, Serialize};

use crate::analyze::seeds::Verdict;
use crate::analyze::{FigureKind, TsneStats};
use crate::plan::spec::{Expect, Metric};
use crate::render::markdown;
use crate::stats::{Outcome, Test};
use crate::store::{EpochMetrics, Metrics, RunRecord};
use crate::text;

/// Version of the context's shape; bumped when a field changes meaning or goes away.
/// `report.schema.json` (beside `report.json` in the site) describes this version, and
/// pins it.
/// 2: runs of several seeds (spreads, comparisons, claims, per-seed entries).
/// 3: numbers as numbers under their natural names, display strings under `*_text`;
/// claims decided by one-sided tests with Holm's correction (`outcome` confirmed,
/// contradicted or inconclusive), effect sizes and seeds needed; `statistics`.
pub const CONTEXT_FORMAT: u32 = 3;

/// Everything the report shows, in the order it shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportContext {
    /// The JSON Schema of this document, relative to `report.json` (it sits beside it
    /// in the site), so editors and validators find it from the file alone.
    #[serde(rename = "$schema")]
    pub schema: String,
    /// [`CONTEXT_FORMAT`].
    pub format: u32,
    /// "report 0.1.0": the program that rendered this.
    pub generator: String,
    /// Report title.
    pub title: String,
    /// Author line.
    pub author: String,
    /// The date as written in report.toml, else the day of the last build.
    pub date: String,
    /// The profile the results are from.
    pub profile: ProfileInfo,
    /// The author's prose, rendered.
    pub prose: ProseSet,
    /// Test accuracy of every run in one figure, shown under the results table.
    pub overview: Option<NumberedFigure>,
    /// The t-SNE section: one entry per run with t-SNE figures.
    pub tsne: Vec<TsneRun>,
    /// The model sections, in report order; their runs make the results table.
    pub sections: Vec<SectionEntry>,
    /// The author's claims, checked against the runs, in report order.
    pub claims: Vec<ClaimRow>,
    /// How the numbers over seeds were made, and what they mean.
    pub statistics: StatisticsInfo,
    /// The neighbours of the t-SNE tables' k-NN accuracies.
    pub tsne_neighbours: usize,
    /// References, numbered from 1.
    pub references: Vec<Reference>,
    /// The reproducibility appendix.
    pub reproducibility: Reproducibility,
    /// The Verification appendix, once `report verify` has run for this profile.
    pub verification: Option<super::verification::VerificationEntry>,
    /// Number of figures shown.
    pub figure_count: usize,
    /// Things a reader of the report should know are missing (untrained runs…).
    pub warnings: Vec<String>,
}

/// The profile the report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileInfo {
    /// Its name.
    pub name: String,
    /// Its one-line description from report.toml.
    pub description: String,
    /// Epochs of every run, as the profile sets them.
    pub epochs: Option<i64>,
    /// Training and test images of the data the runs trained on, when known.
    pub train_images: Option<usize>,
    /// Test images.
    pub test_images: Option<usize>,
    /// "5,000 training and 1,000 test images, 8 epochs", as far as known.
    pub summary: String,
}

/// Markdown and the safe HTML made from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prose {
    /// The Markdown as written.
    pub markdown: String,
    /// HTML with any raw HTML of the Markdown escaped: safe to insert as is.
    pub html: String,
}

impl Prose {
    pub(super) fn block(markdown: &str) -> Prose {
        Prose {
            markdown: markdown.trim_end().to_owned(),
            html: markdown::block(markdown),
        }
    }

    pub(super) fn inline(markdown: &str) -> Prose {
        Prose {
            markdown: markdown.trim().to_owned(),
            html: markdown::inline(markdown),
        }
    }
}

/// The author's prose files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProseSet {
    /// "Explanations and Discussions".
    pub explanations: Option<Prose>,
    /// The text of the t-SNE section.
    pub tsne: Option<Prose>,
    /// "Additional Notes".
    pub notes: Option<Prose>,
}

/// A numbered figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumberedFigure {
    /// 1, 2, … in order of appearance.
    pub number: usize,
    /// Its anchor in the page.
    pub anchor: String,
    /// What it shows.
    pub kind: FigureKind,
    /// The title without the number: "Model 3 Accuracy".
    pub title: String,
    /// "Figure 12: Model 3 Accuracy".
    pub caption: String,
    /// SVG, relative to `out/site/`.
    pub svg: String,
    /// PNG, relative to `out/site/`.
    pub png: String,
    /// The plotted data (CSV), relative to `out/site/`, where there is one.
    pub data: Option<String>,
    /// The anchor of the run or section it belongs to, for a link back.
    pub link: Option<Link>,
}

/// A place in the report to link to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// Its title: "Model 5", "Model 9 (Adam)".
    pub title: String,
    /// Its anchor.
    pub anchor: String,
}

/// One report section (one experiment file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionEntry {
    /// Section name (the experiment file's stem).
    pub name: String,
    /// Heading: "Model 5".
    pub title: String,
    /// Its anchor.
    pub anchor: String,
    /// What it changes, in the author's words.
    pub summary: Option<Prose>,
    /// The section it extends.
    pub parent: Option<Link>,
    /// What changed against the parent, for every run of the section.
    pub changes: Vec<String>,
    /// The model drawing.
    pub architecture: Option<NumberedFigure>,
    /// Test accuracy of the variants in one figure.
    pub variants_figure: Option<NumberedFigure>,
    /// Whether the section has named variants (one subsection each).
    pub has_variants: bool,
    /// The layers, with output shapes and parameters.
    pub layers: Vec<LayerRow>,
    /// Trainable parameters.
    pub params: i64,
    /// `params` with thousands separators.
    pub params_text: String,
    /// Size of the latent (flatten) vector.
    pub flatten_size: i64,
    /// The runs, in variant order.
    pub runs: Vec<RunEntry>,
}

/// One layer of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerRow {
    /// Layer id: `conv1`.
    pub id: String,
    /// What it does: "conv k5 p2 16".
    pub op: String,
    /// Output shape, one number per dimension: `[16, 32, 32]` or `[10]`.
    pub output: Vec<i64>,
    /// The same printed: "16×32×32".
    pub output_text: String,
    /// Trainable parameters.
    pub params: i64,
    /// The same with thousands separators.
    pub params_text: String,
}

/// One run: a row of the results table and a (sub)section of its model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEntry {
    /// Section name.
    pub section: String,
    /// Variant name (`main` when the section has none).
    pub variant: String,
    /// "model-9/adam" or "model-5".
    pub id: String,
    /// "Model 9 with Adam", or the section's title when it has one run.
    pub title: String,
    /// "Adam", for sections with variants.
    pub variant_title: Option<String>,
    /// Its anchor (the section's when the section has one run).
    pub anchor: String,
    /// What the store holds: `complete`, `diverged`, `not-trained`, `stale` or
    /// `damaged` (the templates style and filter by it).
    pub state: String,
    /// The state in words: "complete", "diverged in epoch 3", "not trained yet"…
    pub status: String,
    /// Highest final test accuracy of all complete runs.
    pub best: bool,
    /// Epochs the spec asks for.
    pub epochs: i64,
    /// "SGD lr 0.01 momentum 0.9".
    pub optimizer: String,
    /// Mini-batch size.
    pub batch_size: i64,
    /// Its seeds (of initialisation, shuffling and augmentation), one stored run each.
    pub seeds: Vec<u64>,
    /// "seed 0" or "seeds 0, 1, 2".
    pub seeds_text: String,
    /// The seed whose confusion matrix and t-SNE are shown: the first stored.
    pub shown_seed: u64,
    /// Arithmetic and memory layout: "fp32, channels_last".
    pub numerics: String,
    /// Trainable parameters.
    pub params: i64,
    /// `params` with thousands separators.
    pub params_text: String,
    /// Size of the latent vector.
    pub flatten_size: i64,
    /// The run it is compared with: the parent's variant of the same name, else the
    /// parent's first run.
    pub compared: Option<Link>,
    /// What this run changes against `compared` beyond the section's `changes`.
    pub changes: Vec<String>,
    /// Final and best accuracies, when the run is in the store: one complete seed's
    /// own, or the means over its complete seeds (then without a best epoch).
    pub result: Option<RunResult>,
    /// Mean, standard deviation and 95 % interval of its numbers over its seeds.
    pub spread: Spread,
    /// Change in mean final test accuracy against the run it extends.
    pub delta: Option<Delta>,
    /// The same with its interval, test and verdict.
    pub comparison: Option<Compared>,
    /// Its final test accuracy against each other variant of its section.
    pub versus: Vec<Compared>,
    /// Each seed's state, numbers, metrics (with the site's copies of its metrics
    /// files) and provenance, in seed order.
    pub seed_runs: Vec<SeedEntry>,
    /// The devices its seeds trained on: "cpu (AMD EPYC 7B13)".
    pub devices: Vec<String>,
    /// Its figures: curves of the mean over seeds, the shown seed's confusion matrix.
    pub figures: RunFigureSet,
}

/// One seed of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedEntry {
    /// The seed.
    pub seed: u64,
    /// What the store holds, as [`RunEntry::state`].
    pub state: String,
    /// The state in words.
    pub status: String,
    /// Its final and best accuracies.
    pub result: Option<RunResult>,
    /// Every epoch's numbers and the final confusion matrix (complete or diverged),
    /// with the site's copies of its metrics files.
    pub metrics: Option<RunMetrics>,
    /// Where and when it trained.
    pub provenance: Option<Provenance>,
}

/// An accuracy in the forms the report prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// In [0, 1].
    pub value: f64,
    /// "68.42 %".
    pub percent: String,
    /// The homework's way: "%68".
    pub rounded: String,
}

impl Accuracy {
    pub(super) fn of(value: f64) -> Accuracy {
        Accuracy {
            value,
            percent: text::percent(value, 2),
            rounded: format!("%{}", (100.0 * value).round() as i64),
        }
    }
}

/// What a stored run achieved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Epochs completed.
    pub epochs_completed: i64,
    /// Training accuracy in the last completed epoch.
    pub train: Accuracy,
    /// Test accuracy after the last completed epoch.
    pub test: Accuracy,
    /// Training loss in the last completed epoch.
    pub train_loss: f64,
    /// The same as printed: "1.3736".
    pub train_loss_text: String,
    /// Test loss after it.
    pub test_loss: f64,
    /// The same as printed: "1.4012".
    pub test_loss_text: String,
    /// Best test accuracy of any epoch (over seeds: the mean of each seed's best).
    pub best_test: Accuracy,
    /// The epoch it was reached in, for one seed.
    pub best_epoch: Option<i64>,
    /// Wall time of the training, evaluation included, in seconds (summed over seeds).
    pub seconds: f64,
    /// The same as "3 min 05 s".
    pub time: String,
}

/// A stored run's `metrics.json` as data, and where the site keeps copies of its
/// metrics files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMetrics {
    /// One entry per completed epoch, as `metrics.json` holds them (a diverged run's
    /// last, non-finite epoch is not among them).
    pub epochs: Vec<EpochMetrics>,
    /// The test confusion matrix after the last completed epoch.
    pub confusion: ConfusionMatrix,
    /// The site's copy of the run's `metrics.json`, relative to `out/site/`.
    pub json: String,
    /// The site's copy of its `metrics.csv`, relative to `out/site/`, when the store
    /// holds one.
    pub csv: Option<String>,
}

impl RunMetrics {
    /// `m` with the site paths of its copies.
    pub(super) fn of(m: &Metrics, json: String, csv: Option<String>) -> RunMetrics {
        RunMetrics {
            epochs: m.epochs.clone(),
            confusion: ConfusionMatrix {
                classes: m.classes.clone(),
                counts: m.confusion.clone(),
            },
            json,
            csv,
        }
    }
}

/// A confusion matrix with the names of its classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    /// Class names, in label order.
    pub classes: Vec<String>,
    /// Test images by `[true class][predicted class]`, in the order of `classes`.
    pub counts: Vec<Vec<i64>>,
}

/// Change in final test accuracy against another run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// The run compared with.
    pub against: Link,
    /// Percentage points (this run minus the other).
    pub points: f64,
    /// "+1.30 pp", "−0.40 pp", "±0.00 pp".
    pub text: String,
    /// "up", "down" or "same", for styling.
    pub direction: String,
}

/// A run's figures, those present.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunFigureSet {
    /// Accuracy curves.
    pub accuracy: Option<NumberedFigure>,
    /// Loss curves.
    pub loss: Option<NumberedFigure>,
    /// The learning rate per epoch, when it changes.
    pub learning_rate: Option<NumberedFigure>,
    /// Confusion matrix.
    pub confusion: Option<NumberedFigure>,
}

/// Where and when a run trained: `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// The processor or GPU model.
    pub device_name: String,
    /// CPU threads.
    pub threads: i32,
    /// Where it trained, as the appendix's table shows it: "cpu, 2 threads", "cuda:0".
    pub device_text: String,
    /// The libtorch it ran on, as loaded at run time; none for older runs.
    #[serde(default)]
    pub torch_version: Option<String>,
    /// The data source as given.
    pub data: String,
    /// Its fingerprint (first 16 hex digits).
    pub data_fingerprint: String,
    /// Training images.
    pub train_images: usize,
    /// Test images.
    pub test_images: usize,
    /// The run's content key (first 16 hex digits).
    pub key: String,
    /// "2026-11-28 17:02:11" (UTC).
    pub started: String,
    /// When it ended.
    pub finished: String,
    /// libtorch's deterministic, cuDNN and TF32 switches (none for older runs).
    #[serde(default)]
    pub numerics: Option<crate::store::record::Numerics>,
}

impl Provenance {
    /// What `run.json` says of where and when the run trained.
    pub(super) fn of(r: &RunRecord) -> Provenance {
        Provenance {
            device: r.device.clone(),
            device_name: r.device_name.clone(),
            threads: r.threads,
            device_text: if r.device == "cpu" {
                format!(
                    "cpu, {} thread{}",
                    r.threads,
                    if r.threads == 1 { "" } else { "s" }
                )
            } else {
                r.device.clone()
            },
            torch_version: r.torch_version.clone(),
            data: r.data.source.clone(),
            data_fingerprint: text::short_digest(&r.data.fingerprint),
            train_images: r.data.train,
            test_images: r.data.test,
            key: r.key.to_string(),
            started: text::timestamp(&r.started),
            finished: text::timestamp(&r.finished),
            numerics: r.numerics.clone(),
        }
    }
}

/// The t-SNE figures of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TsneRun {
    /// The run, linked.
    pub run: Link,
    /// The seed embedded, when the run has several.
    pub seed: Option<u64>,
    /// Size of the latent vector before PCA.
    pub latent_dim: Option<i64>,
    /// PCA components stored per snapshot.
    pub pca_components: i64,
    /// One per snapshot epoch.
    pub figures: Vec<TsneEntry>,
    /// All epochs side by side.
    pub panel: Option<NumberedFigure>,
}

/// One t-SNE figure with its numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TsneEntry {
    /// The scatter plot, when the page shows it: only for a run without a panel, which
    /// shows every epoch at once.
    pub figure: Option<NumberedFigure>,
    /// The scatter plot's SVG, relative to `out/site/`, shown or not.
    pub svg: String,
    /// The numbers, as the figure manifest holds them.
    pub stats: TsneStats,
    /// k-NN accuracy in the 2-D embedding as printed: "41.2 %".
    pub knn_embedding_text: String,
    /// k-NN accuracy in the latent space (PCA components) as printed.
    pub knn_latent_text: String,
    /// KL divergence as printed: "1.234".
    pub kl_divergence_text: String,
    /// Perplexity as printed: "30".
    pub perplexity_text: String,
    /// Share of the latent variance the stored PCA components keep, in [0, 1].
    pub explained_variance: Option<f64>,
    /// The same as printed: "63.0 %".
    pub explained_variance_text: Option<String>,
    /// The embedding's time as printed: "2.4 s".
    pub seconds_text: String,
}

/// A numbered reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// 1, 2, …
    pub number: usize,
    /// `ref-1`.
    pub anchor: String,
    /// The line as written and as HTML.
    pub text: Prose,
}

/// The reproducibility appendix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reproducibility {
    /// The last build of this profile (`out/build.json`), when there is one.
    pub build: Option<BuildEntry>,
    /// The devices runs trained on: "cpu (AMD EPYC)".
    pub devices: Vec<String>,
    /// The data the runs trained on: "./data/x.tar.gz (5,000 / 1,000 images,
    /// fingerprint c163788433c9e49b)".
    pub data: Vec<String>,
    /// Distinct seeds of the runs.
    pub seeds: Vec<u64>,
    /// Distinct libtorch thread counts of the runs trained on the CPU, lowest first.
    pub threads: Vec<i32>,
    /// Said when CPU runs of the report trained with different thread counts.
    pub threads_note: Option<String>,
    /// Per run, in report order.
    pub runs: Vec<RunRepro>,
    /// This program's version, which rendered the report.
    pub renderer_version: String,
}

/// `build.json`, formatted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildEntry {
    /// The command line, quoted for a POSIX shell.
    pub command: String,
    /// Profile built.
    pub profile: String,
    /// Sections the build was restricted to.
    pub only: Vec<String>,
    /// The crate version that built.
    pub crate_version: String,
    /// `git describe` of the project.
    pub git_commit: Option<String>,
    /// tch version.
    pub tch_version: String,
    /// libtorch version.
    pub torch_version: String,
    /// The data source.
    pub data: String,
    /// Its full fingerprint.
    pub data_fingerprint: String,
    /// When the build started (UTC).
    pub started: String,
    /// When it finished (UTC).
    pub finished: String,
}

/// One run's line of the appendix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRepro {
    /// The run, linked.
    pub run: Link,
    /// Its seed.
    pub seed: u64,
    /// Its state in words.
    pub status: String,
    /// Where and when it trained.
    pub provenance: Option<Provenance>,
    /// How long it took.
    pub time: Option<String>,
}

/// One number of a run over its complete seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Seeds counted.
    pub n: usize,
    /// The mean (accuracies as fractions).
    pub mean: Option<f64>,
    /// The sample standard deviation, with two seeds or more.
    pub std: Option<f64>,
    /// The 95 % interval of the mean (Student t or a bootstrap), with two seeds or more.
    pub interval: Option<[f64; 2]>,
    /// Whether the seeds spread less than the metric resolves (one image), so the
    /// interval was made with that spread instead.
    pub floored: bool,
    /// "62.31 % ± 1.20 (95 % CI 59.33–65.29 %)", or "62.31 %" for one seed.
    pub text: String,
    /// "62.31 ± 1.20 %", or "62.31 %": for table cells.
    pub short: String,
}

/// A run's numbers over its seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Every seed of the run, in order.
    pub seeds: Vec<u64>,
    /// The complete seeds the numbers are taken over.
    pub complete: Vec<u64>,
    /// "3 seeds (0, 1, 2)" or "1 seed: no spread".
    pub note: String,
    /// Seeds left out of the numbers and why: "seed 2: diverged in epoch 3".
    pub left_out: Vec<String>,
    /// Final test accuracy.
    pub test: Stat,
    /// Each seed's best test accuracy of any epoch.
    pub best_test: Stat,
    /// Final training accuracy.
    pub train: Stat,
    /// Final training loss.
    pub train_loss: Stat,
    /// Final test loss.
    pub test_loss: Stat,
}

/// One run's metric against another's: the difference of means, its interval, the
/// test and the verdict, with the effect's size and the seeds a clear answer needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compared {
    /// The run compared with.
    pub against: Link,
    /// The metric.
    pub metric: Metric,
    /// Mean of this run minus mean of the other (accuracies as fractions), when both
    /// have a complete seed.
    pub difference: Option<f64>,
    /// Its 95 % interval, with two complete seeds or more on each side.
    pub interval: Option<[f64; 2]>,
    /// Two-sided p-value of "no difference".
    pub p_value: Option<f64>,
    /// `paired` (same seeds on both sides) or `welch`.
    pub test: Option<Test>,
    /// Whether a spread below the measurement's resolution (one image) was counted as
    /// that resolution.
    pub floored: bool,
    /// `better`, `worse` or `within-noise`; none without an interval.
    pub verdict: Option<Verdict>,
    /// "better", "worse", "within noise", or "1 seed: untested".
    pub verdict_text: String,
    /// "+1.23 pp (95 % CI −0.50 to +2.96 pp), p = 0.120, paired, 3 seeds".
    pub text: String,
    /// The difference alone: "+1.23 pp".
    pub difference_text: String,
    /// "95 % CI −0.50 to +2.96 pp", "no interval" with one seed.
    pub interval_text: String,
    /// "p = 0.120, paired, 3 seeds".
    pub test_text: String,
    /// Hedges' g of this run against the other (the difference in pooled standard
    /// deviations, small-sample corrected).
    pub hedges_g: Option<f64>,
    /// P(a seed of this run does better than a seed of the other), with its interval.
    pub probability_of_improvement: Option<Probability>,
    /// "g = +1.20, P(better) = 0.89 [0.56, 1.00]".
    pub effect_text: String,
    /// Seeds per side that would give this comparison's test 80 % power if the true
    /// difference were the one observed: for a claim, the claim's test; else the
    /// two-sided test of any difference. `null` when no number would (the difference
    /// lies the wrong way or is 0), beyond 1,000, or untested.
    pub seeds_needed: Option<usize>,
    /// "12 seeds per side for 80 % power", or why there is no number.
    pub seeds_needed_text: String,
    /// A claim's margin, in the metric's units (accuracies as fractions); `null` for a
    /// comparison or a claim without one.
    pub margin: Option<f64>,
    /// "±1.00 pp".
    pub margin_text: Option<String>,
    /// A claim's one-sided p-value (for sameness the larger of TOST's two), before the
    /// correction.
    pub p_claim: Option<f64>,
    /// The same after Holm's correction over the report's claims; its verdict reads
    /// this.
    pub p_adjusted: Option<f64>,
    /// The 90 % interval a claim's one-sided tests at 5 % read.
    pub claim_interval: Option<[f64; 2]>,
}

/// A probability with its 95 % interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probability {
    /// In [0, 1].
    pub value: f64,
    /// Its 95 % interval.
    pub interval: [f64; 2],
    /// "0.89 [0.56, 1.00]".
    pub text: String,
}

/// One claim of the author, checked: a row of the Claims table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimRow {
    /// The run the claim is about.
    pub run: Link,
    /// The claim in the author's words, or as the experiment states it: "better final
    /// test accuracy than Model 2".
    pub claim: String,
    /// What it expects.
    pub expect: Expect,
    /// The comparison that checks it.
    pub measured: Compared,
    /// What the runs say: `confirmed`, `contradicted` or `inconclusive`.
    pub outcome: Outcome,
    /// The same in words.
    pub outcome_text: String,
    /// How the claim was tested and what the test read: "TOST against ±1.00 pp: the 90
    /// % interval −0.31 to +0.52 pp lies inside it, p = 0.004 (Holm 0.021)".
    pub reason: String,
}

/// How the numbers over seeds were made, and what they mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatisticsInfo {
    /// How intervals and tests were made: `t` or `bootstrap`.
    pub interval: crate::stats::IntervalKind,
    /// With a bootstrap: `bca` or `percentile`.
    pub bootstrap: Option<crate::stats::BootstrapKind>,
    /// With a bootstrap: its resamples.
    pub resamples: Option<usize>,
    /// The confidence level of every interval of a mean or a difference (0.95).
    pub confidence: f64,
    /// "95 %".
    pub confidence_text: String,
    /// The level of each claim's one-sided tests (0.05).
    pub alpha: f64,
    /// "5 %".
    pub alpha_text: String,
    /// "90 %": the interval a claim's one-sided tests read.
    pub claim_level_text: String,
    /// The default margin of accuracy claims, in percentage points.
    pub margin_pp: f64,
    /// The claims tested together in Holm's correction.
    pub family: usize,
    /// One paragraph saying what varies between seeds, what ± and the brackets are,
    /// which tests were used, the margin and the correction.
    pub statement: String,
}
