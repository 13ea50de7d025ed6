//! Stage 4, analysis: figures and t-SNE embeddings drawn from the run store.
//!
//! Everything here reads the store and writes under `out/site/figures/`; nothing
//! trains. The [`Analysis`] it returns (also written as `figures.json`) is what the
//! render stage reads to place and number the figures.

pub mod claims;
pub mod embed;
pub mod figures;
pub mod plot;
pub mod seeds;
pub mod tsne;
pub mod tsne_exact;

use serde::{Deserialize, Serialize};

use crate::plan::RunId;
use crate::plan::spec::TsneMethod;

/// What a figure shows; the render stage groups and captions figures by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FigureKind {
    /// A section's model drawing.
    Architecture,
    /// Train and test accuracy per epoch of one run.
    Accuracy,
    /// Train and test loss per epoch of one run.
    Loss,
    /// The learning rate per epoch of one run whose rate changes.
    LearningRate,
    /// Final-epoch test confusion matrix of one run.
    Confusion,
    /// t-SNE of one run's latent snapshot at one epoch.
    Tsne,
    /// All t-SNE epochs of one run side by side.
    TsnePanel,
    /// Test accuracy of every run in one plot.
    OverviewAccuracy,
    /// Test accuracy of a section's variants in one plot.
    VariantAccuracy,
}

/// One figure on disk. Paths are relative to `out/site/`, so the HTML uses them as
/// they are and the Markdown report prefixes `site/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureRef {
    /// A stable anchor, e.g. `model-5-accuracy`.
    pub id: String,
    /// What it shows.
    pub kind: FigureKind,
    /// The caption without its number, e.g. "Model 5 Accuracy".
    pub title: String,
    /// The SVG file.
    pub svg: String,
    /// The PNG file.
    pub png: String,
    /// A CSV of the plotted data, where there is one (t-SNE coordinates).
    pub data: Option<String>,
}

/// Numbers that say how faithful a t-SNE picture is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TsneStats {
    /// Snapshot epoch (0 = before training).
    pub epoch: i64,
    /// Points embedded (the test set).
    pub points: usize,
    /// 10-nearest-neighbour accuracy (leave-one-out) in the 2-D embedding.
    pub knn_embedding: f64,
    /// The same in the stored latent space (the snapshot's PCA components).
    pub knn_latent: f64,
    /// KL divergence between the input and embedding affinities at the end.
    pub kl_divergence: f64,
    /// Perplexity used.
    pub perplexity: f64,
    /// Iterations run.
    pub iterations: i64,
    /// How the layout was optimised (Barnes-Hut in caches written before the choice).
    #[serde(default = "barnes_hut")]
    pub method: TsneMethod,
    /// Seconds the embedding took.
    pub seconds: f64,
}

fn barnes_hut() -> TsneMethod {
    TsneMethod::BarnesHut
}

/// A t-SNE figure with its numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TsneFigure {
    /// The scatter plot.
    pub figure: FigureRef,
    /// Its numbers.
    pub stats: TsneStats,
}

/// The figures of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFigures {
    /// The run.
    pub run: RunId,
    /// Accuracy curves.
    pub accuracy: FigureRef,
    /// Loss curves.
    pub loss: FigureRef,
    /// The learning rate per epoch, when it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<FigureRef>,
    /// Confusion matrix.
    pub confusion: FigureRef,
    /// One t-SNE per snapshot epoch, in epoch order.
    pub tsne: Vec<TsneFigure>,
    /// All t-SNE epochs in one panel, when there are any.
    pub tsne_panel: Option<FigureRef>,
}

/// The figures of one section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionFigures {
    /// Section name.
    pub section: String,
    /// Hash of everything the section's figures were drawn from.
    pub digest: String,
    /// The model drawing.
    pub architecture: FigureRef,
    /// Test accuracy of the variants together, when the section has several.
    pub variants: Option<FigureRef>,
    /// Per run, in variant order.
    pub runs: Vec<RunFigures>,
}

/// Every figure of a build, in report order: `out/site/figures/figures.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// The profile the figures show.
    pub profile: String,
    /// Test accuracy of every run.
    pub overview: Option<FigureRef>,
    /// Per section, in report order.
    pub sections: Vec<SectionFigures>,
}
