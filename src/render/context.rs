//! The report as data: one [`ReportContext`] that the HTML and the Markdown templates
//! both read, also written as `out/site/report.json` for other tools.
//!
//! Every number comes from the run store (`run.json`, `metrics.json`), the figure
//! manifest (`figures.json`) or `build.json`; a run the store does not hold for the
//! current spec is "not trained yet", never an invented number. Everything a template
//! shows is formatted here, so the HTML page and the Markdown report say the same.

use crate::analyze::plot::style::thousands;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::markdown;
use crate::analyze::{Analysis, FigureKind, FigureRef, RunFigures, SectionFigures, TsneStats};
use crate::fsx;
use crate::plan::{RunKey, RunSpec, diff};
use crate::project::Project;
use crate::store::record::{self, BuildInfo, RunRecord};
use crate::store::{Metrics, RunState, RunStatus, Store};

/// Version of the context's shape; bumped when a field changes meaning or goes away.
pub const CONTEXT_FORMAT: u32 = 1;

/// Everything the report shows, in the order it shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportContext {
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
    pub overview: Option<Figure>,
    /// The t-SNE section: one entry per run with t-SNE figures.
    pub tsne: Vec<TsneRun>,
    /// The model sections, in report order; their runs make the results table.
    pub sections: Vec<SectionEntry>,
    /// References, numbered from 1.
    pub references: Vec<Reference>,
    /// The reproducibility appendix.
    pub reproducibility: Reproducibility,
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
    fn block(markdown: &str) -> Prose {
        Prose {
            markdown: markdown.trim_end().to_owned(),
            html: markdown::block(markdown),
        }
    }

    fn inline(markdown: &str) -> Prose {
        Prose {
            markdown: markdown.trim().to_owned(),
            html: markdown::inline(markdown),
        }
    }
}

/// The author's prose files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
pub struct Figure {
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
    pub architecture: Option<Figure>,
    /// Test accuracy of the variants in one figure.
    pub variants_figure: Option<Figure>,
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
    /// Output shape: "16×32×32".
    pub output: String,
    /// Trainable parameters, with thousands separators.
    pub params: String,
}

/// What the store holds for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStateKind {
    /// Trained, every epoch.
    Complete,
    /// Trained until the loss stopped being finite.
    Diverged,
    /// Nothing in the store.
    NotTrained,
    /// Trained for other settings or data: its numbers are not this spec's.
    Stale,
    /// Files missing or changed since training.
    Damaged,
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
    /// What the store holds.
    pub state: RunStateKind,
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
    /// Seed of initialisation, shuffling and augmentation.
    pub seed: u64,
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
    /// Final and best accuracies, when the run is in the store.
    pub result: Option<RunResult>,
    /// Change in final test accuracy against the run it extends.
    pub delta: Option<Delta>,
    /// Its figures.
    pub figures: RunFigureSet,
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
    fn of(value: f64) -> Accuracy {
        Accuracy {
            value,
            percent: format!("{:.2} %", 100.0 * value),
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
    pub train_loss: String,
    /// Test loss after it.
    pub test_loss: String,
    /// Best test accuracy of any epoch.
    pub best_test: Accuracy,
    /// The epoch it was reached in.
    pub best_epoch: i64,
    /// Wall time of the training, evaluation included, in seconds.
    pub seconds: f64,
    /// The same as "3 min 05 s".
    pub time: String,
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
    pub accuracy: Option<Figure>,
    /// Loss curves.
    pub loss: Option<Figure>,
    /// Confusion matrix.
    pub confusion: Option<Figure>,
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
}

/// The t-SNE figures of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TsneRun {
    /// The run, linked.
    pub run: Link,
    /// Size of the latent vector before PCA.
    pub latent_dim: Option<i64>,
    /// PCA components stored per snapshot.
    pub pca_components: i64,
    /// One per snapshot epoch.
    pub figures: Vec<TsneEntry>,
    /// All epochs side by side.
    pub panel: Option<Figure>,
}

/// One t-SNE figure with its numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TsneEntry {
    /// The scatter plot.
    pub figure: Figure,
    /// The raw numbers.
    pub stats: TsneStats,
    /// 10-NN accuracy in the 2-D embedding: "41.2 %".
    pub knn_embedding: String,
    /// 10-NN accuracy in the latent space (PCA components).
    pub knn_latent: String,
    /// KL divergence: "1.234".
    pub kl_divergence: String,
    /// Perplexity: "30".
    pub perplexity: String,
    /// Share of the latent variance the stored PCA components keep: "63.0 %".
    pub explained_variance: Option<String>,
    /// "2.4 s".
    pub seconds: String,
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

/// Anchors handed out once each: a name already taken gets `-2`, `-3`, …
#[derive(Default)]
struct Anchors(BTreeSet<String>);

impl Anchors {
    fn take(&mut self, want: &str) -> String {
        let mut name = want.to_owned();
        let mut n = 1;
        while !self.0.insert(name.clone()) {
            n += 1;
            name = format!("{want}-{n}");
        }
        name
    }
}

/// Anchors of the report's fixed parts; the templates use these names.
pub const FIXED_ANCHORS: [&str; 9] = [
    "contents",
    "explanations",
    "results",
    "tsne",
    "models",
    "notes",
    "references",
    "reproducibility",
    "warnings",
];

/// Numbers figures in order of appearance, keeping those whose files exist.
struct Figures {
    site: PathBuf,
    anchors: Anchors,
    next: usize,
}

impl Figures {
    fn add(&mut self, f: &FigureRef, link: Option<Link>) -> Option<Figure> {
        if !(self.site.join(&f.svg).is_file() && self.site.join(&f.png).is_file()) {
            return None;
        }
        self.next += 1;
        Some(Figure {
            number: self.next,
            anchor: self.anchors.take(&format!("fig-{}", f.id)),
            kind: f.kind,
            title: f.title.clone(),
            caption: format!("Figure {}: {}", self.next, f.title),
            svg: f.svg.clone(),
            png: f.png.clone(),
            data: f.data.clone().filter(|d| self.site.join(d).is_file()),
            link,
        })
    }
}

/// A run with what the store holds for it.
struct Loaded<'a> {
    spec: &'a RunSpec,
    state: RunStateKind,
    status: String,
    record: Option<RunRecord>,
    metrics: Option<Metrics>,
}

impl Loaded<'_> {
    /// Whether the store holds results for it (complete or diverged).
    fn present(&self) -> bool {
        matches!(self.state, RunStateKind::Complete | RunStateKind::Diverged)
    }

    /// Test accuracy after the last epoch, for complete runs.
    fn final_test(&self) -> Option<f64> {
        if self.state != RunStateKind::Complete {
            return None;
        }
        self.metrics.as_ref()?.last().map(|e| e.test_accuracy)
    }
}

/// The runs with their anchors and figures, from which the sections are made.
struct Runs<'a> {
    loaded: Vec<Loaded<'a>>,
    analysis: Option<Analysis>,
    section_anchor: BTreeMap<String, String>,
    run_anchor: BTreeMap<String, String>,
}

impl<'a> Runs<'a> {
    /// Hands out the section and run anchors (before any figure's, so that sections
    /// keep their names).
    fn new(
        loaded: Vec<Loaded<'a>>,
        analysis: Option<Analysis>,
        order: &[String],
        anchors: &mut Anchors,
    ) -> Self {
        let mut section_anchor = BTreeMap::new();
        let mut run_anchor = BTreeMap::new();
        for name in order {
            let anchor = anchors.take(name);
            let runs: Vec<&Loaded> = loaded
                .iter()
                .filter(|l| &l.spec.id.section == name)
                .collect();
            for l in &runs {
                let a = if runs.len() == 1 {
                    anchor.clone()
                } else {
                    anchors.take(&format!("{name}-{}", l.spec.id.variant))
                };
                run_anchor.insert(l.spec.id.to_string(), a);
            }
            section_anchor.insert(name.clone(), anchor);
        }
        Runs {
            loaded,
            analysis,
            section_anchor,
            run_anchor,
        }
    }

    fn link(&self, spec: &RunSpec) -> Link {
        Link {
            title: spec.title(),
            anchor: self.run_anchor[&spec.id.to_string()].clone(),
        }
    }

    fn of_section(&self, name: &str) -> Vec<&Loaded<'a>> {
        self.loaded
            .iter()
            .filter(|l| l.spec.id.section == name)
            .collect()
    }

    /// The run `spec` is compared with: the parent's variant of the same name, else the
    /// parent's first run.
    fn compared(&self, spec: &RunSpec) -> Option<&Loaded<'a>> {
        let parent = self.of_section(spec.parent.as_deref()?);
        parent
            .iter()
            .find(|p| p.spec.id.variant == spec.id.variant)
            .or(parent.first())
            .copied()
    }

    fn section_figures(&self, name: &str) -> Option<&SectionFigures> {
        self.analysis
            .as_ref()?
            .sections
            .iter()
            .find(|s| s.section == name)
    }

    /// A stored run's figures; none for a run the store does not hold, whatever an
    /// older manifest lists.
    fn run_figures(&self, l: &Loaded) -> Option<&RunFigures> {
        if !l.present() {
            return None;
        }
        self.section_figures(&l.spec.id.section)?
            .runs
            .iter()
            .find(|r| r.run == l.spec.id)
    }

    /// The t-SNE section: every stored run with t-SNE figures.
    fn tsne(&self, figures: &mut Figures) -> Vec<TsneRun> {
        let mut out = Vec::new();
        for l in &self.loaded {
            let Some(rf) = self.run_figures(l) else {
                continue;
            };
            let link = self.link(l.spec);
            let snapshots = l.record.as_ref().map_or(&[][..], |r| &r.snapshots[..]);
            let mut entries = Vec::new();
            for t in &rf.tsne {
                let Some(figure) = figures.add(&t.figure, Some(link.clone())) else {
                    continue;
                };
                let s = &t.stats;
                let kept = snapshots
                    .iter()
                    .find(|snap| snap.epoch == s.epoch)
                    .map(|snap| snap.explained_variance.iter().sum::<f64>());
                entries.push(TsneEntry {
                    figure,
                    stats: s.clone(),
                    knn_embedding: format!("{:.1} %", 100.0 * s.knn_embedding),
                    knn_latent: format!("{:.1} %", 100.0 * s.knn_latent),
                    kl_divergence: format!("{:.3}", s.kl_divergence),
                    perplexity: diff::num(s.perplexity),
                    explained_variance: kept.map(|v| format!("{:.1} %", 100.0 * v)),
                    seconds: format!("{:.1} s", s.seconds),
                });
            }
            let panel = rf
                .tsne_panel
                .as_ref()
                .and_then(|p| figures.add(p, Some(link.clone())));
            if entries.is_empty() && panel.is_none() {
                continue;
            }
            out.push(TsneRun {
                run: link,
                latent_dim: snapshots.first().map(|s| s.latent_dim),
                pca_components: l.spec.train.snapshot_pca,
                figures: entries,
                panel,
            });
        }
        out
    }

    /// One model section, its figures numbered in the order the page shows them:
    /// the drawing, each run's accuracy, loss and confusion, then the variants overlay.
    /// `best` is the highest final test accuracy of all runs.
    fn section(
        &self,
        name: &str,
        best: Option<f64>,
        figures: &mut Figures,
    ) -> Option<SectionEntry> {
        let runs = self.of_section(name);
        let spec = runs.first()?.spec;
        let sf = self.section_figures(name);
        let section_link = Link {
            title: spec.section_title.clone(),
            anchor: self.section_anchor[name].clone(),
        };
        let architecture =
            sf.and_then(|s| figures.add(&s.architecture, Some(section_link.clone())));
        // What changed: lines every run shares go to the section, the rest to each run.
        let run_diffs: Vec<Vec<String>> = runs
            .iter()
            .map(|l| {
                self.compared(l.spec)
                    .map_or(Vec::new(), |c| diff::diff(c.spec, l.spec))
            })
            .collect();
        let common: Vec<String> = run_diffs[0]
            .iter()
            .filter(|line| run_diffs.iter().all(|d| d.contains(line)))
            .cloned()
            .collect();
        let entries = runs
            .iter()
            .zip(&run_diffs)
            .map(|(l, lines)| {
                let own = lines.iter().filter(|x| !common.contains(x)).cloned();
                self.run_entry(l, own.collect(), best, figures)
            })
            .collect();
        let variants_figure = sf
            .and_then(|s| s.variants.as_ref())
            .filter(|_| runs.iter().any(|l| l.present()))
            .and_then(|f| figures.add(f, Some(section_link.clone())));
        Some(SectionEntry {
            name: name.to_owned(),
            title: spec.section_title.clone(),
            anchor: section_link.anchor,
            summary: spec.summary.as_deref().map(Prose::block),
            parent: spec.parent.as_ref().map(|p| Link {
                title: self
                    .of_section(p)
                    .first()
                    .map_or_else(|| p.clone(), |l| l.spec.section_title.clone()),
                anchor: self.section_anchor.get(p).cloned().unwrap_or_default(),
            }),
            changes: common,
            architecture,
            variants_figure,
            has_variants: spec.variant_title.is_some(),
            layers: spec
                .shapes
                .iter()
                .map(|s| LayerRow {
                    id: s.id.clone(),
                    op: s.op.to_string(),
                    output: s.output.to_string(),
                    params: thousands(s.params),
                })
                .collect(),
            params: spec.param_count(),
            params_text: thousands(spec.param_count()),
            flatten_size: spec.flatten_size(),
            runs: entries,
        })
    }

    fn run_entry(
        &self,
        l: &Loaded,
        changes: Vec<String>,
        best: Option<f64>,
        figures: &mut Figures,
    ) -> RunEntry {
        let link = self.link(l.spec);
        let rf = self.run_figures(l);
        let mut add = |f: Option<&FigureRef>| f.and_then(|f| figures.add(f, Some(link.clone())));
        let figs = RunFigureSet {
            accuracy: add(rf.map(|r| &r.accuracy)),
            loss: add(rf.map(|r| &r.loss)),
            confusion: add(rf.map(|r| &r.confusion)),
        };
        let compared = self.compared(l.spec);
        let delta = match (l.final_test(), compared.and_then(Loaded::final_test)) {
            (Some(mine), Some(theirs)) => compared.map(|c| delta(mine - theirs, self.link(c.spec))),
            _ => None,
        };
        let spec = l.spec;
        RunEntry {
            section: spec.id.section.clone(),
            variant: spec.id.variant.clone(),
            id: spec.id.to_string(),
            title: link.title.clone(),
            variant_title: spec.variant_title.clone(),
            anchor: link.anchor.clone(),
            state: l.state,
            status: l.status.clone(),
            best: best.is_some() && l.final_test() == best,
            epochs: spec.train.epochs,
            optimizer: diff::optimizer(&spec.train.optimizer),
            batch_size: spec.train.batch_size,
            seed: spec.train.seed,
            numerics: format!("{}, {}", spec.train.precision, spec.train.memory_format),
            params: spec.param_count(),
            params_text: thousands(spec.param_count()),
            flatten_size: spec.flatten_size(),
            compared: compared.map(|c| self.link(c.spec)),
            changes,
            result: l
                .metrics
                .as_ref()
                .and_then(|m| run_result(m, l.record.as_ref())),
            delta,
            figures: figs,
            provenance: l.record.as_ref().map(provenance),
        }
    }
}

/// Builds the context of `profile` from the project and its store. Reads only; fails
/// on what the author must fix (a prose file that is missing, an unknown profile).
pub fn build(project: &Project, profile: &str) -> Result<ReportContext> {
    let report = &project.experiments.report;
    let store = &project.store;
    let specs = project.runs(profile, &[])?;
    let mut warnings = Vec::new();

    let build_info = read_build_info(store, profile, &mut warnings);
    let fingerprint = build_info.as_ref().map(|b| b.data_fingerprint.clone());
    let loaded: Vec<Loaded> = specs
        .iter()
        .map(|spec| load_run(store, profile, spec, fingerprint.as_deref()))
        .collect();
    let not_trained: Vec<String> = loaded
        .iter()
        .filter(|l| !l.present())
        .map(|l| l.spec.id.to_string())
        .collect();
    if !not_trained.is_empty() {
        warnings.push(format!(
            "{} of {} runs have no results for their current settings ({}): run “report build --profile {profile}”",
            not_trained.len(),
            loaded.len(),
            not_trained.join(", ")
        ));
    }
    let analysis = read_analysis(store, profile, &mut warnings);
    let overview_ref = analysis.as_ref().and_then(|a| a.overview.clone());

    let mut anchors = Anchors::default();
    for a in FIXED_ANCHORS {
        anchors.take(a);
    }
    let order = crate::plan::section_order(&project.experiments);
    let runs = Runs::new(loaded, analysis, &order, &mut anchors);
    let mut figures = Figures {
        site: store.site(),
        anchors,
        next: 0,
    };
    // Figures are numbered in the order the page shows them: the overview under the
    // results table, the t-SNE section, then the model sections.
    let overview = overview_ref.and_then(|f| {
        figures.add(
            &f,
            Some(Link {
                title: "Results".into(),
                anchor: "results".into(),
            }),
        )
    });
    let tsne = runs.tsne(&mut figures);
    // Only complete runs compete for "best"; ties all count.
    let best = runs
        .loaded
        .iter()
        .filter_map(Loaded::final_test)
        .fold(None, |b: Option<f64>, a| Some(b.map_or(a, |b| b.max(a))));
    let sections = order
        .iter()
        .filter_map(|name| runs.section(name, best, &mut figures))
        .collect();

    let dir = &project.experiments.dir;
    let read_prose = |key: &str, path: &Option<PathBuf>| -> Result<Option<Prose>> {
        let Some(rel) = path else { return Ok(None) };
        let path = dir.join(rel);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "{}: cannot read the prose file named by [prose] {key} in {}",
                path.display(),
                dir.join(crate::experiment::REPORT_FILE).display()
            )
        })?;
        Ok(Some(Prose::block(&text)))
    };
    let prose = ProseSet {
        explanations: read_prose("explanations", &report.prose.explanations)?,
        tsne: read_prose("tsne", &report.prose.tsne)?,
        notes: read_prose("notes", &report.prose.notes)?,
    };
    let references = report
        .references
        .iter()
        .enumerate()
        .map(|(i, r)| Reference {
            number: i + 1,
            anchor: format!("ref-{}", i + 1),
            text: Prose::inline(r),
        })
        .collect();

    let profile_file = report.profiles.get(profile);
    let epochs = profile_file.and_then(|p| p.epochs);
    let data_counts = runs
        .loaded
        .iter()
        .find_map(|l| l.record.as_ref())
        .map(|r| (r.data.train, r.data.test));
    let date = report.date.clone().unwrap_or_else(|| {
        let day = build_info.as_ref().map_or_else(Utc::now, |b| b.finished);
        day.format("%B %-d, %Y").to_string()
    });
    let reproducibility = reproducibility(&runs, build_info.as_ref());

    Ok(ReportContext {
        format: CONTEXT_FORMAT,
        generator: format!("report {}", env!("CARGO_PKG_VERSION")),
        title: report.title.clone(),
        author: report.author.clone(),
        date,
        profile: ProfileInfo {
            name: profile.to_owned(),
            description: profile_file
                .map(|p| p.description.clone())
                .unwrap_or_default(),
            epochs,
            train_images: data_counts.map(|d| d.0),
            test_images: data_counts.map(|d| d.1),
            summary: profile_summary(data_counts, epochs),
        },
        prose,
        overview,
        tsne,
        sections,
        references,
        reproducibility,
        figure_count: figures.next,
        warnings,
    })
}

/// `build.json` when it is for `profile`; its data fingerprint is then the one runs are
/// checked against. Any other one is set aside with a warning.
fn read_build_info(store: &Store, profile: &str, warnings: &mut Vec<String>) -> Option<BuildInfo> {
    let path = store.build_info();
    if !path.exists() {
        warnings.push(format!(
            "{}: not found, so the appendix lacks the build's details: run “report build --profile {profile}”",
            path.display()
        ));
        return None;
    }
    match fsx::read_json::<BuildInfo>(&path) {
        Ok(b) if b.profile == profile => Some(b),
        Ok(b) => {
            warnings.push(format!(
                "{} is for profile {}, not {profile}: the appendix lacks the build's details",
                path.display(),
                b.profile
            ));
            None
        }
        Err(e) => {
            warnings.push(format!("{e:#}: ignored"));
            None
        }
    }
}

/// The figure manifest when it is for `profile`.
fn read_analysis(store: &Store, profile: &str, warnings: &mut Vec<String>) -> Option<Analysis> {
    let path = store.figure_manifest();
    if !path.exists() {
        return None;
    }
    match fsx::read_json::<Analysis>(&path) {
        Ok(a) if a.profile == profile => Some(a),
        Ok(a) => {
            warnings.push(format!(
                "{} holds the figures of profile {}, not {profile}: no figures shown",
                path.display(),
                a.profile
            ));
            None
        }
        Err(e) => {
            warnings.push(format!("{e:#}: no figures shown"));
            None
        }
    }
}

/// What the store holds for `spec`. Its key is computed with the last build's data
/// fingerprint; without one (no `build.json` for this profile) with the fingerprint the
/// run itself recorded, which still proves the run was trained for this very spec.
fn load_run<'a>(
    store: &Store,
    profile: &str,
    spec: &'a RunSpec,
    fingerprint: Option<&str>,
) -> Loaded<'a> {
    let files = store.run(profile, &spec.id);
    let fingerprint = match fingerprint {
        Some(f) => f.to_owned(),
        None => fsx::read_json::<RunRecord>(&files.record())
            .map(|r| r.data.fingerprint)
            .unwrap_or_default(),
    };
    let missing = |state, status: String| Loaded {
        spec,
        state,
        status,
        record: None,
        metrics: None,
    };
    match record::inspect(&files, &RunKey::of(spec, &fingerprint)) {
        RunState::Missing => missing(RunStateKind::NotTrained, "not trained yet".into()),
        RunState::Stale(_) => missing(
            RunStateKind::Stale,
            "not trained yet for its current settings (the stored run is out of date)".into(),
        ),
        RunState::Damaged(why) => missing(RunStateKind::Damaged, format!("damaged: {why}")),
        RunState::Cached(record) => match fsx::read_json::<Metrics>(&files.metrics_json()) {
            Err(e) => missing(RunStateKind::Damaged, format!("damaged: {e:#}")),
            Ok(metrics) => {
                let (state, status) = match record.status {
                    RunStatus::Complete => (RunStateKind::Complete, "complete".to_owned()),
                    RunStatus::Diverged { epoch } => {
                        (RunStateKind::Diverged, format!("diverged in epoch {epoch}"))
                    }
                };
                Loaded {
                    spec,
                    state,
                    status,
                    record: Some(*record),
                    metrics: Some(metrics),
                }
            }
        },
    }
}

fn run_result(m: &Metrics, record: Option<&RunRecord>) -> Option<RunResult> {
    let last = m.last()?;
    let best = m.epochs.iter().fold(last, |b, e| {
        if e.test_accuracy > b.test_accuracy {
            e
        } else {
            b
        }
    });
    // The first epoch that reached the best accuracy.
    let best = m
        .epochs
        .iter()
        .find(|e| e.test_accuracy == best.test_accuracy)
        .unwrap_or(best);
    let seconds = record.map_or_else(
        || m.epochs.iter().map(|e| e.seconds).sum(),
        |r| (r.finished - r.started).num_milliseconds() as f64 / 1000.0,
    );
    Some(RunResult {
        epochs_completed: m.epochs.len() as i64,
        train: Accuracy::of(last.train_accuracy),
        test: Accuracy::of(last.test_accuracy),
        train_loss: format!("{:.4}", last.train_loss),
        test_loss: format!("{:.4}", last.test_loss),
        best_test: Accuracy::of(best.test_accuracy),
        best_epoch: best.epoch,
        seconds,
        time: duration(seconds),
    })
}

/// A change in accuracy (as a fraction) as percentage points.
fn delta(change: f64, against: Link) -> Delta {
    let points = 100.0 * change;
    let (text, direction) = if points.abs() < 0.005 {
        ("±0.00 pp".to_owned(), "same")
    } else if points > 0.0 {
        (format!("+{points:.2} pp"), "up")
    } else {
        (format!("−{:.2} pp", -points), "down")
    };
    Delta {
        against,
        points,
        text,
        direction: direction.to_owned(),
    }
}

fn provenance(r: &RunRecord) -> Provenance {
    Provenance {
        device: r.device.clone(),
        device_name: r.device_name.clone(),
        threads: r.threads,
        data: r.data.source.clone(),
        data_fingerprint: short(&r.data.fingerprint),
        train_images: r.data.train,
        test_images: r.data.test,
        key: r.key.to_string(),
        started: timestamp(&r.started),
        finished: timestamp(&r.finished),
    }
}

fn reproducibility(all: &Runs, build: Option<&BuildInfo>) -> Reproducibility {
    let mut devices: Vec<String> = Vec::new();
    let mut data: Vec<String> = Vec::new();
    let mut seeds: Vec<u64> = Vec::new();
    let mut runs = Vec::new();
    for l in &all.loaded {
        if let Some(r) = &l.record {
            let d = format!("{} ({})", r.device, r.device_name);
            if !devices.contains(&d) {
                devices.push(d);
            }
            let d = format!(
                "{} ({} / {} images, fingerprint {})",
                r.data.source,
                thousands(r.data.train as i64),
                thousands(r.data.test as i64),
                short(&r.data.fingerprint)
            );
            if !data.contains(&d) {
                data.push(d);
            }
        }
        if !seeds.contains(&l.spec.train.seed) {
            seeds.push(l.spec.train.seed);
        }
        runs.push(RunRepro {
            run: all.link(l.spec),
            seed: l.spec.train.seed,
            status: l.status.clone(),
            provenance: l.record.as_ref().map(provenance),
            time: l
                .record
                .as_ref()
                .map(|r| duration((r.finished - r.started).num_milliseconds() as f64 / 1000.0)),
        });
    }
    Reproducibility {
        build: build.map(|b| BuildEntry {
            command: shell_join(&b.command),
            profile: b.profile.clone(),
            only: b.only.clone(),
            crate_version: b.crate_version.clone(),
            git_commit: b.git_commit.clone(),
            tch_version: b.tch_version.clone(),
            torch_version: b.torch_version.clone(),
            data: b.data.clone(),
            data_fingerprint: b.data_fingerprint.clone(),
            started: timestamp(&b.started),
            finished: timestamp(&b.finished),
        }),
        devices,
        data,
        seeds,
        runs,
        renderer_version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

fn profile_summary(data: Option<(usize, usize)>, epochs: Option<i64>) -> String {
    let mut parts = Vec::new();
    if let Some((train, test)) = data {
        parts.push(format!(
            "{} training and {} test images",
            thousands(train as i64),
            thousands(test as i64)
        ));
    }
    if let Some(e) = epochs {
        parts.push(format!("{e} epochs"));
    }
    parts.join(", ")
}

/// "42 s", "3 min 05 s", "1 h 02 min".
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as i64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

fn timestamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn short(hex: &str) -> String {
    hex[..16.min(hex.len())].to_owned()
}

/// Arguments quoted so that a POSIX shell reads them back as they were.
pub fn shell_join(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::testutil::*;

    fn run<'a>(ctx: &'a ReportContext, id: &str) -> &'a RunEntry {
        ctx.sections
            .iter()
            .flat_map(|s| &s.runs)
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("no run {id}"))
    }

    fn section<'a>(ctx: &'a ReportContext, name: &str) -> &'a SectionEntry {
        ctx.sections.iter().find(|s| s.name == name).unwrap()
    }

    #[test]
    fn numbers_come_from_the_store_and_missing_runs_have_none() {
        let (_d, p) = stored();
        let ctx = build(&p, "p").unwrap();
        let sgd = run(&ctx, "child/sgd");
        let r = sgd.result.as_ref().unwrap();
        assert_eq!(sgd.state, RunStateKind::Complete);
        assert_eq!(
            (r.train.percent.as_str(), r.train.rounded.as_str()),
            ("68.40 %", "%68")
        );
        assert_eq!(
            (r.test.percent.as_str(), r.test.rounded.as_str()),
            ("55.00 %", "%55")
        );
        assert_eq!((r.best_test.percent.as_str(), r.best_epoch), ("55.00 %", 2));
        assert_eq!(r.time, "2 min 05 s");
        assert_eq!(sgd.title, "Child with SGD");
        let adam = run(&ctx, "child/adam");
        // The best test accuracy is the first epoch that reached the maximum.
        let a = adam.result.as_ref().unwrap();
        assert_eq!((a.best_test.percent.as_str(), a.best_epoch), ("42.00 %", 1));
        let missing = run(&ctx, "grand/adam");
        assert_eq!(missing.state, RunStateKind::NotTrained);
        assert_eq!(missing.status, "not trained yet");
        assert!(
            missing.result.is_none() && missing.delta.is_none() && missing.provenance.is_none()
        );
        assert!(
            ctx.warnings.iter().any(|w| w.contains("grand/adam")),
            "{:?}",
            ctx.warnings
        );
        let diverged = run(&ctx, "results");
        assert_eq!(diverged.state, RunStateKind::Diverged);
        assert_eq!(diverged.status, "diverged in epoch 2");
        assert!(diverged.delta.is_none());
        // Only complete runs compete for "best".
        let best: Vec<&str> = ctx
            .sections
            .iter()
            .flat_map(|s| &s.runs)
            .filter(|r| r.best)
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(best, ["grand/sgd"]);
    }

    #[test]
    fn changes_against_the_parent_compare_the_right_runs() {
        let (_d, p) = stored();
        let ctx = build(&p, "p").unwrap();
        // Variants against a parent with one run: each against that run.
        let d = run(&ctx, "child/sgd").delta.as_ref().unwrap();
        assert_eq!(
            (d.text.as_str(), d.against.title.as_str()),
            ("+5.00 pp", "Base")
        );
        assert_eq!(d.direction, "up");
        let d = run(&ctx, "child/adam").delta.as_ref().unwrap();
        assert_eq!(
            (d.text.as_str(), d.against.anchor.as_str()),
            ("−10.00 pp", "base")
        );
        // Against a parent with variants: the variant of the same name.
        let d = run(&ctx, "grand/sgd").delta.as_ref().unwrap();
        assert_eq!(d.against.title, "Child with SGD");
        assert_eq!(d.against.anchor, "child-sgd");
        assert!((d.points - 5.0).abs() < 1e-9, "{}", d.points);
        // What changed: shared lines on the section, the rest on the run.
        let child = section(&ctx, "child");
        assert_eq!(child.changes, ["added bn1 (batchnorm) after conv1"]);
        assert!(run(&ctx, "child/sgd").changes.is_empty());
        assert_eq!(
            run(&ctx, "child/adam").changes,
            ["optimizer: SGD lr 0.05 momentum 0.9 → Adam lr 0.01"]
        );
        assert_eq!(
            section(&ctx, "grand").changes,
            ["conv1: conv k3 p1 4 → conv k3 p1 8"]
        );
        assert!(run(&ctx, "grand/adam").changes.is_empty());
        assert_eq!(
            section(&ctx, "results").changes,
            ["augmentation: vertical flip probability 0 → 0.5"]
        );
        assert_eq!(child.parent.as_ref().unwrap().title, "Base");
        assert!(section(&ctx, "base").parent.is_none());
    }

    #[test]
    fn a_run_trained_for_other_data_or_settings_shows_no_numbers() {
        let (_d, p) = project();
        store_build_info(&p);
        store_run_with(
            &p,
            &spec(&p, "base"),
            &[(0.9, 0.9)],
            RunStatus::Complete,
            "other",
        );
        let ctx = build(&p, "p").unwrap();
        let base = run(&ctx, "base");
        assert_eq!(base.state, RunStateKind::Stale);
        assert!(base.result.is_none());
        // Without build.json, a run is checked against the data it recorded.
        std::fs::remove_file(p.store.build_info()).unwrap();
        let ctx = build(&p, "p").unwrap();
        assert_eq!(run(&ctx, "base").state, RunStateKind::Complete);
        assert!(ctx.reproducibility.build.is_none());
    }

    #[test]
    fn figures_are_numbered_in_order_and_absent_ones_skipped() {
        let (_d, p) = stored();
        store_figures(&p);
        let ctx = build(&p, "p").unwrap();
        let overview = ctx.overview.as_ref().unwrap();
        assert_eq!(
            (overview.number, overview.caption.as_str()),
            (1, "Figure 1: Title of overview")
        );
        let base = section(&ctx, "base");
        assert_eq!(base.architecture.as_ref().unwrap().number, 2);
        let figs = &base.runs[0].figures;
        assert_eq!(figs.accuracy.as_ref().unwrap().number, 3);
        assert!(figs.loss.is_none(), "its files are absent");
        assert_eq!(figs.confusion.as_ref().unwrap().number, 4);
        assert_eq!(
            figs.confusion.as_ref().unwrap().anchor,
            "fig-base-confusion"
        );
        assert_eq!(ctx.figure_count, 4);
        // A manifest of another profile is not used.
        let mut a: Analysis = fsx::read_json(&p.store.figure_manifest()).unwrap();
        a.profile = "other".into();
        fsx::write_json(&p.store.figure_manifest(), &a).unwrap();
        let ctx = build(&p, "p").unwrap();
        assert_eq!(ctx.figure_count, 0);
        assert!(ctx.warnings.iter().any(|w| w.contains("profile other")));
    }

    #[test]
    fn anchors_are_unique_and_sections_keep_their_names() {
        let (_d, p) = stored();
        store_figures(&p);
        let ctx = build(&p, "p").unwrap();
        assert_eq!(section(&ctx, "base").anchor, "base");
        assert_eq!(
            section(&ctx, "results").anchor,
            "results-2",
            "`results` is taken"
        );
        assert_eq!(run(&ctx, "child/adam").anchor, "child-adam");
        assert_eq!(
            run(&ctx, "base").anchor,
            "base",
            "a single run uses its section's"
        );
        let mut all: Vec<String> = FIXED_ANCHORS.iter().map(|s| s.to_string()).collect();
        for s in &ctx.sections {
            all.push(s.anchor.clone());
            all.extend(
                s.runs
                    .iter()
                    .filter(|_| s.has_variants)
                    .map(|r| r.anchor.clone()),
            );
            all.extend(s.architecture.iter().map(|f| f.anchor.clone()));
            for r in &s.runs {
                let f = &r.figures;
                all.extend(
                    [&f.accuracy, &f.loss, &f.confusion]
                        .into_iter()
                        .flatten()
                        .map(|f| f.anchor.clone()),
                );
            }
        }
        all.extend(ctx.overview.iter().map(|f| f.anchor.clone()));
        all.extend(ctx.references.iter().map(|r| r.anchor.clone()));
        let unique: BTreeSet<&String> = all.iter().collect();
        assert_eq!(unique.len(), all.len(), "{all:?}");
    }

    #[test]
    fn prose_references_and_appendix() {
        let (_d, p) = stored();
        let ctx = build(&p, "p").unwrap();
        let prose = ctx.prose.explanations.as_ref().unwrap();
        assert!(
            prose.html.contains("<em>prose</em>") && prose.html.contains("&lt;b&gt;raw"),
            "{}",
            prose.html
        );
        assert_eq!(
            ctx.references[0].text.html,
            r#"R <a href="https://example.org">https://example.org</a>."#
        );
        assert_eq!(
            ctx.date, "March 4, 2026",
            "the build's day when report.toml has no date"
        );
        let b = ctx.reproducibility.build.as_ref().unwrap();
        assert_eq!(b.command, "report build --data 'my data'");
        assert_eq!(ctx.reproducibility.devices, ["cpu (Test CPU)"]);
        assert_eq!(ctx.reproducibility.seeds, [7]);
        assert_eq!(
            ctx.profile.summary,
            "5,000 training and 1,000 test images, 2 epochs"
        );
        // A prose file that is named but missing is the author's error to fix.
        std::fs::remove_file(p.experiments.dir.join("prose/e.md")).unwrap();
        let err = format!("{:#}", build(&p, "p").unwrap_err());
        assert!(
            err.contains("prose/e.md") && err.contains("explanations"),
            "{err}"
        );
    }

    #[test]
    fn formatting_helpers() {
        assert_eq!(thousands(1_459_194), "1,459,194");
        assert_eq!(thousands(999), "999");
        assert_eq!(duration(59.4), "59 s");
        assert_eq!(duration(3725.0), "1 h 02 min");
        assert_eq!(
            delta(
                -0.00001,
                Link {
                    title: String::new(),
                    anchor: String::new()
                }
            )
            .text,
            "±0.00 pp"
        );
        assert_eq!(
            shell_join(&["a".into(), "it's".into(), "".into()]),
            r"a 'it'\''s' ''"
        );
    }
}
