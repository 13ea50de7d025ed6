//! What a run measured, as the report shows it: its result and metrics, its figures
//! and t-SNE entries.

use serde::{Deserialize, Serialize};

use crate::analyze::TsneStats;
use crate::store::{EpochMetrics, Metrics};
use crate::text;

use super::parts::{Link, NumberedFigure};

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
    pub(in crate::render::context) fn of(value: f64) -> Accuracy {
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
    pub(in crate::render::context) fn of(
        m: &Metrics,
        json: String,
        csv: Option<String>,
    ) -> RunMetrics {
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
