//! The report context's shape: plain serialisable data that every renderer reads (the
//! HTML and Markdown templates, and `report.json` for other tools). Everything a
//! template shows is already formatted here, so all outputs say the same.

mod parts;
mod provenance;
mod results;
mod statistics;
mod verification;

pub use parts::*;
pub use provenance::*;
pub use results::*;
pub use statistics::*;
pub use verification::*;

use serde::{Deserialize, Serialize};

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
    pub verification: Option<VerificationEntry>,
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
