//! Draws every figure of a profile from the store and writes the manifest.
//!
//! Figures are pure functions of stored data, written with `write_if_changed`, so a
//! rebuild that changed nothing leaves every file as it was. Each section's inputs are
//! hashed; a section whose digest matches the previous manifest is not redrawn at all,
//! which keeps a no-change build fast.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;

use super::embed::{self, Embedded};
use super::plot::{self, Drawn};
use super::seeds::Curve;
use super::{Analysis, FigureKind, FigureRef, RunFigures, SectionFigures, TsneFigure};
use crate::fsx;
use crate::hash;
use crate::plan::{RunKey, RunSpec};
use crate::store::record::{self, EpochMetrics, RunRecord};
use crate::store::{Inventory, Metrics, RunState, RunStatus, Store};
use crate::text;

/// A run the store holds for its current key: what figures are drawn from.
struct StoredRun<'a> {
    spec: &'a RunSpec,
    record: &'a RunRecord,
    metrics: &'a Metrics,
}

/// The stored seeds of one run, in seed order: its curves are their mean, its
/// confusion matrix and t-SNE the first stored seed's.
struct Group<'r, 'a> {
    seeds: Vec<&'r StoredRun<'a>>,
}

impl<'r, 'a> Group<'r, 'a> {
    /// `runs` (in report order, seeds of a run together) gathered by run.
    fn all(runs: &[&'r StoredRun<'a>]) -> Vec<Group<'r, 'a>> {
        crate::plan::by_run(runs.iter().copied(), |r| &r.spec.id)
            .into_iter()
            .map(|seeds| Group { seeds })
            .collect()
    }

    /// The seed whose confusion matrix and t-SNE are shown.
    fn shown(&self) -> &'r StoredRun<'a> {
        self.seeds[0]
    }

    fn spec(&self) -> &'a RunSpec {
        self.shown().spec
    }

    /// The metrics the curves are drawn from: the complete seeds' (a diverged seed is
    /// left out of a mean), or the shown seed's alone when none completed.
    fn curve_runs(&self) -> Vec<&'a Metrics> {
        let complete: Vec<&Metrics> = self
            .seeds
            .iter()
            .filter(|r| r.record.status == RunStatus::Complete)
            .map(|r| r.metrics)
            .collect();
        if complete.is_empty() {
            vec![self.shown().metrics]
        } else {
            complete
        }
    }

    /// `f` of every epoch, as one curve (a mean with its spread over several seeds).
    fn curve(&self, f: impl Fn(&EpochMetrics) -> f64) -> Curve {
        Curve::of(&self.curve_runs(), f)
    }

    /// The run's title, with the shown seed when it has several: "Model 9 with Adam
    /// (seed 0)", for the figures of one seed.
    fn shown_title(&self) -> String {
        let spec = self.spec();
        if spec.seeds.len() > 1 {
            format!("{} (seed {})", spec.title(), spec.train.seed)
        } else {
            spec.title()
        }
    }
}

/// Draws the figures of `only` (every section when empty) and returns the manifest of
/// all sections; sections outside `only` keep their previous entries.
pub fn analyze(store: &Store, inventory: &Inventory, only: &[String]) -> Result<Analysis> {
    let profile = inventory.profile.as_str();
    let mut stored = Vec::new();
    for run in &inventory.runs {
        match &run.state {
            RunState::Cached(s) => stored.push(StoredRun {
                spec: &run.spec,
                record: &s.record,
                metrics: &s.metrics,
            }),
            // A figure shows a real run's data or does not exist: never a damaged one.
            RunState::Damaged(why) => {
                anyhow::bail!("{}: {why}; `report build` retrains it", run.spec.id)
            }
            RunState::Missing | RunState::Stale(_) => {}
        }
    }
    let specs: Vec<&RunSpec> = inventory.runs.iter().map(|r| &r.spec).collect();
    let previous: Option<Analysis> = fsx::read_json(&store.figure_manifest())
        .ok()
        .filter(|a: &Analysis| a.profile == profile);
    let y_range = accuracy_range(&stored);
    let mut sections = Vec::new();
    for section in inventory.sections.iter().cloned() {
        let runs: Vec<&StoredRun<'_>> = stored
            .iter()
            .filter(|r| r.spec.id.section == section)
            .collect();
        if runs.is_empty() {
            continue;
        }
        let digest = section_digest(&runs, y_range);
        let runs = Group::all(&runs);
        let old = previous
            .as_ref()
            .and_then(|a| a.sections.iter().find(|s| s.section == section));
        let in_scope = only.is_empty() || only.contains(&section);
        match old {
            Some(old) if old.digest == digest || !in_scope => sections.push(old.clone()),
            _ if !in_scope => {}
            _ => sections.push(draw_section(store, &specs, &runs, y_range, digest)?),
        }
    }
    let all: Vec<&StoredRun<'_>> = stored.iter().collect();
    let overview = draw_overview(store, &Group::all(&all), y_range)?;
    let analysis = Analysis {
        profile: profile.to_owned(),
        overview,
        sections,
    };
    let mut bytes = serde_json::to_vec_pretty(&analysis)?;
    bytes.push(b'\n');
    fsx::write_if_changed(&store.figure_manifest(), &bytes)?;
    Ok(analysis)
}

/// One y-range for every accuracy plot, so sections compare at a glance: from a round
/// number below the lowest accuracy to 100 %.
fn accuracy_range(runs: &[StoredRun<'_>]) -> (f64, f64) {
    let lowest = runs
        .iter()
        .flat_map(|r| r.metrics.epochs.iter())
        .flat_map(|e| [e.train_accuracy, e.test_accuracy])
        .fold(1.0f64, f64::min);
    ((lowest * 10.0).floor() * 10.0, 100.0)
}

/// Everything a section's figures depend on: run keys and record digests (which cover
/// metrics and snapshots), titles, t-SNE settings, the shared y-range and this version.
fn section_digest(runs: &[&StoredRun<'_>], y_range: (f64, f64)) -> String {
    #[derive(Serialize)]
    struct RunInput<'a> {
        key: &'a RunKey,
        files: &'a BTreeMap<String, record::FileEntry>,
        title: String,
        tsne: &'a crate::plan::spec::TsneSettings,
        parent: Option<&'a String>,
        seeds: &'a [u64],
    }
    let inputs: Vec<RunInput<'_>> = runs
        .iter()
        .map(|r| RunInput {
            key: &r.record.key,
            files: &r.record.files,
            title: r.spec.title(),
            tsne: &r.spec.tsne,
            parent: r.spec.parent.as_ref(),
            seeds: &r.spec.seeds,
        })
        .collect();
    hash::value(&(env!("CARGO_PKG_VERSION"), DRAWING, y_range, inputs))
}

/// The look of the figures (sizes, fonts, file encoding); bumped when drawing changes
/// within a release, so a rebuild redraws figures drawn the old way. 2: text sized for
/// the page (12.1 units at least), PNGs with their density. 3: means over seeds with
/// their bands.
const DRAWING: u32 = 3;

/// Writes a drawn figure as `<stem>.svg` and `<stem>.png` under the site folder.
fn save(
    store: &Store,
    stem: &str,
    id: String,
    kind: FigureKind,
    title: String,
    drawn: Drawn,
) -> Result<FigureRef> {
    let site = store.site();
    let (svg, png) = (format!("{stem}.svg"), format!("{stem}.png"));
    fsx::write_if_changed(&site.join(&svg), drawn.svg.as_bytes())?;
    fsx::write_if_changed(&site.join(&png), &drawn.png)?;
    Ok(FigureRef {
        id,
        kind,
        title,
        svg,
        png,
        data: None,
    })
}

fn draw_section(
    store: &Store,
    specs: &[&RunSpec],
    runs: &[Group<'_, '_>],
    y_range: (f64, f64),
    digest: String,
) -> Result<SectionFigures> {
    let first = runs[0].spec();
    let section = first.id.section.clone();
    let parent = first
        .parent
        .as_ref()
        .and_then(|p| specs.iter().copied().find(|s| &s.id.section == p));
    let architecture = save(
        store,
        &Store::figure_stem(&section, None, "architecture"),
        format!("{section}-architecture"),
        FigureKind::Architecture,
        first.section_title.clone(),
        plot::architecture(first, parent)?,
    )?;
    let variants = if runs.len() > 1 {
        let series: Vec<(String, Curve)> = runs
            .iter()
            .map(|r| {
                let spec = r.spec();
                let name = spec
                    .variant_title
                    .clone()
                    .unwrap_or_else(|| spec.id.variant.clone());
                (name, r.curve(|e| 100.0 * e.test_accuracy))
            })
            .collect();
        let title = format!("{} Test Accuracy by Variant", first.section_title);
        Some(save(
            store,
            &Store::figure_stem(&section, None, "variants"),
            format!("{section}-variants"),
            FigureKind::VariantAccuracy,
            title.clone(),
            plot::overlay(&title, &series, "Test accuracy (%)", y_range)?,
        )?)
    } else {
        None
    };
    let shown: Vec<(&RunSpec, &RunRecord)> =
        runs.iter().map(|g| (g.spec(), g.shown().record)).collect();
    let embedded = embed::embed_runs(store, &shown)?;
    let mut run_figures = Vec::new();
    for (run, embedded) in runs.iter().zip(embedded) {
        run_figures.push(draw_run(store, run, y_range, embedded)?);
    }
    Ok(SectionFigures {
        section,
        digest,
        architecture,
        variants,
        runs: run_figures,
    })
}

/// Draws one run's figures; `embedded` holds its shown seed's snapshot labels and
/// embeddings.
fn draw_run(
    store: &Store,
    group: &Group<'_, '_>,
    y_range: (f64, f64),
    embedded: Embedded,
) -> Result<RunFigures> {
    let run = group.shown();
    let spec = run.spec;
    let (section, variant) = (
        &spec.id.section,
        spec.variant_title
            .as_ref()
            .map(|_| spec.id.variant.as_str()),
    );
    let stem = |name: &str| Store::figure_stem(section, variant, name);
    let id = |name: &str| match variant {
        Some(v) => format!("{section}-{v}-{name}"),
        None => format!("{section}-{name}"),
    };
    let title = spec.title();
    let accuracy = save(
        store,
        &stem("accuracy"),
        id("accuracy"),
        FigureKind::Accuracy,
        format!("{title} Accuracy"),
        plot::accuracy(
            &format!("{title} Accuracy"),
            &group.curve(|e| e.train_accuracy),
            &group.curve(|e| e.test_accuracy),
            y_range,
        )?,
    )?;
    let loss = save(
        store,
        &stem("loss"),
        id("loss"),
        FigureKind::Loss,
        format!("{title} Loss"),
        plot::loss(
            &format!("{title} Loss"),
            &group.curve(|e| e.train_loss),
            &group.curve(|e| e.test_loss),
        )?,
    )?;
    // Every seed of a run trains at the same rates: the shown seed's are the run's.
    let rates: Vec<(i64, f64)> = run
        .metrics
        .epochs
        .iter()
        .filter_map(|e| Some((e.epoch, e.lr?)))
        .collect();
    let learning_rate = if rates.windows(2).any(|w| w[0].1 != w[1].1) {
        Some(save(
            store,
            &stem("learning-rate"),
            id("learning-rate"),
            FigureKind::LearningRate,
            format!("{title} Learning Rate"),
            plot::learning_rate(&format!("{title} Learning Rate"), &rates)?,
        )?)
    } else {
        None
    };
    // One seed's matrix and t-SNE: a mean of confusion matrices or of embeddings
    // would show no run that happened.
    let title = group.shown_title();
    let confusion = save(
        store,
        &stem("confusion"),
        id("confusion"),
        FigureKind::Confusion,
        format!("{title} Confusion Matrix"),
        plot::confusion(&format!("{title} Confusion Matrix"), run.metrics)?,
    )?;

    let mut tsne_figures = Vec::new();
    let mut panels = Vec::new();
    let labels = embedded.labels;
    for (snap, result) in run.record.snapshots.iter().zip(embedded.snapshots) {
        let name = format!("tsne-epoch-{:03}", snap.epoch);
        let csv_rel = format!("{}.csv", stem(&name));
        fsx::write_if_changed(
            &store.site().join(&csv_rel),
            coords_csv(&result.coords, &labels, &run.metrics.classes).as_bytes(),
        )?;
        let fig_title = format!("t-SNE of {title}, Epoch {}", snap.epoch);
        let subtitle = format!(
            "10-NN accuracy: 2-D {}, latent (PCA {}) {} · KL {:.2} · perplexity {}, {} iterations",
            text::percent(result.stats.knn_embedding, 1),
            run.spec.train.snapshot_pca,
            text::percent(result.stats.knn_latent, 1),
            result.stats.kl_divergence,
            result.stats.perplexity,
            result.stats.iterations
        );
        let mut figure = save(
            store,
            &stem(&name),
            id(&name),
            FigureKind::Tsne,
            fig_title.clone(),
            plot::tsne_scatter(
                &fig_title,
                &subtitle,
                &result.coords,
                &labels,
                &run.metrics.classes,
            )?,
        )?;
        figure.data = Some(csv_rel);
        panels.push((format!("Epoch {}", snap.epoch), result.coords));
        tsne_figures.push(TsneFigure {
            figure,
            stats: result.stats,
        });
    }
    let tsne_panel = if panels.is_empty() {
        None
    } else {
        let t = format!(
            "t-SNE of {title}, Epochs {}",
            panels
                .iter()
                .map(|p| p.0.trim_start_matches("Epoch "))
                .collect::<Vec<_>>()
                .join(", ")
        );
        Some(save(
            store,
            &stem("tsne-panel"),
            id("tsne-panel"),
            FigureKind::TsnePanel,
            t.clone(),
            plot::tsne_panel(&t, &panels, &labels, &run.metrics.classes)?,
        )?)
    };
    Ok(RunFigures {
        run: spec.id.clone(),
        accuracy,
        loss,
        learning_rate,
        confusion,
        tsne: tsne_figures,
        tsne_panel,
    })
}

fn draw_overview(
    store: &Store,
    runs: &[Group<'_, '_>],
    y_range: (f64, f64),
) -> Result<Option<FigureRef>> {
    if runs.is_empty() {
        return Ok(None);
    }
    let series: Vec<(String, Curve)> = runs
        .iter()
        .map(|r| (r.spec().title(), r.curve(|e| 100.0 * e.test_accuracy)))
        .collect();
    let title = "Test Accuracy of Every Model".to_owned();
    Ok(Some(save(
        store,
        "figures/overview/test-accuracy",
        "overview-test-accuracy".into(),
        FigureKind::OverviewAccuracy,
        title.clone(),
        plot::overlay(&title, &series, "Test accuracy (%)", y_range)?,
    )?))
}

fn coords_csv(coords: &[[f32; 2]], labels: &[u8], classes: &[String]) -> String {
    let mut s = String::from("x,y,label,class\n");
    for (c, l) in coords.iter().zip(labels) {
        let class = classes.get(*l as usize).map_or("", String::as_str);
        s.push_str(&format!("{},{},{l},{class}\n", c[0], c[1]));
    }
    s
}
