//! The runs as the report shows them: each stored run with its anchor, its numbers and
//! its figures, gathered into model sections and the t-SNE section.

use std::collections::BTreeMap;

use super::model::{
    Accuracy, Delta, LayerRow, Link, Prose, Provenance, RunEntry, RunFigureSet, RunMetrics,
    RunResult, SectionEntry, TsneEntry, TsneRun,
};
use super::numbering::Numbering;
use crate::analyze::{Analysis, FigureRef, RunFigures, SectionFigures};
use crate::plan::{RunSpec, diff};
use crate::store::{
    Metrics, PlannedRun, RunFiles, RunRecord, RunState, RunStatus, Store, StoredRun,
};
use crate::text;

/// A run with what the store holds for it, as the report words it.
pub(super) struct Loaded<'a> {
    pub(super) spec: &'a RunSpec,
    /// `complete`, `diverged`, `not-trained`, `stale` or `damaged`.
    pub(super) state: &'static str,
    /// The state in words: "complete", "diverged in epoch 3", "not trained yet"…
    pub(super) status: String,
    /// The stored run, for complete and diverged runs.
    stored: Option<&'a StoredRun>,
    /// Its folder in the store, whose metrics files the site copies.
    files: RunFiles,
}

impl<'a> Loaded<'a> {
    /// `run` as the report shows it: only a run stored for its current key has numbers.
    /// `files` is its folder in the store.
    pub(super) fn of(run: &'a PlannedRun, files: RunFiles) -> Self {
        let none = |state, status: String| Loaded {
            spec: &run.spec,
            state,
            status,
            stored: None,
            files: files.clone(),
        };
        match &run.state {
            RunState::Missing => none("not-trained", "not trained yet".into()),
            RunState::Stale(_) => none(
                "stale",
                "not trained yet for its current settings (the stored run is out of date)".into(),
            ),
            RunState::Damaged(why) => none("damaged", format!("damaged: {why}")),
            RunState::Cached(stored) => Loaded {
                spec: &run.spec,
                state: match stored.record.status {
                    RunStatus::Complete => "complete",
                    RunStatus::Diverged { .. } => "diverged",
                },
                status: stored.record.status.to_string(),
                stored: Some(stored),
                files,
            },
        }
    }

    /// Whether the store holds results for it (complete or diverged).
    pub(super) fn present(&self) -> bool {
        self.stored.is_some()
    }

    /// Its record, when present.
    pub(super) fn record(&self) -> Option<&'a RunRecord> {
        self.stored.map(|s| &s.record)
    }

    /// Its metrics, when present.
    fn metrics(&self) -> Option<&'a Metrics> {
        self.stored.map(|s| &s.metrics)
    }

    /// Its metrics as data, with the site paths of the copies of its metrics files:
    /// `metrics.json` always (the numbers came from it), `metrics.csv` when the store
    /// holds one.
    fn metrics_data(&self) -> Option<RunMetrics> {
        let m = self.metrics()?;
        let id = &self.spec.id;
        let csv = self.files.metrics_csv();
        Some(RunMetrics::of(
            m,
            Store::site_run_copy(id, &self.files.metrics_json()),
            csv.is_file().then(|| Store::site_run_copy(id, &csv)),
        ))
    }

    /// Test accuracy after the last epoch, for complete runs.
    pub(super) fn final_test(&self) -> Option<f64> {
        let stored = self.stored?;
        if stored.record.status != RunStatus::Complete {
            return None;
        }
        stored.metrics.last().map(|e| e.test_accuracy)
    }
}

/// The runs with their anchors and figures, from which the sections are made.
pub(super) struct Runs<'a> {
    pub(super) loaded: Vec<Loaded<'a>>,
    analysis: Option<&'a Analysis>,
    section_anchor: BTreeMap<String, String>,
    run_anchor: BTreeMap<String, String>,
}

impl<'a> Runs<'a> {
    /// Hands out the section and run anchors (before any figure's, so that sections
    /// keep their names).
    pub(super) fn new(
        loaded: Vec<Loaded<'a>>,
        analysis: Option<&'a Analysis>,
        order: &[String],
        numbering: &mut Numbering,
    ) -> Self {
        let mut section_anchor = BTreeMap::new();
        let mut run_anchor = BTreeMap::new();
        for name in order {
            let anchor = numbering.anchor(name);
            let runs: Vec<&Loaded<'_>> = loaded
                .iter()
                .filter(|l| &l.spec.id.section == name)
                .collect();
            for l in &runs {
                let a = if runs.len() == 1 {
                    anchor.clone()
                } else {
                    numbering.anchor(&format!("{name}-{}", l.spec.id.variant))
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

    pub(super) fn link(&self, spec: &RunSpec) -> Link {
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

    fn section_figures(&self, name: &str) -> Option<&'a SectionFigures> {
        self.analysis?.sections.iter().find(|s| s.section == name)
    }

    /// A stored run's figures; none for a run the store does not hold, whatever an
    /// older manifest lists.
    fn run_figures(&self, l: &Loaded<'_>) -> Option<&RunFigures> {
        if !l.present() {
            return None;
        }
        self.section_figures(&l.spec.id.section)?
            .runs
            .iter()
            .find(|r| r.run == l.spec.id)
    }

    /// The t-SNE section: every stored run with t-SNE figures.
    pub(super) fn tsne(&self, figures: &mut Numbering) -> Vec<TsneRun> {
        let mut out = Vec::new();
        for l in &self.loaded {
            let Some(rf) = self.run_figures(l) else {
                continue;
            };
            let link = self.link(l.spec);
            let snapshots = l.record().map_or(&[][..], |r| &r.snapshots[..]);
            // The panel shows every epoch side by side; the single plots are shown
            // only without it (and linked from the table either way).
            let panel = rf
                .tsne_panel
                .as_ref()
                .and_then(|p| figures.figure(p, Some(link.clone())));
            let mut entries = Vec::new();
            for t in &rf.tsne {
                let figure = match panel {
                    Some(_) if figures.exists(&t.figure) => None,
                    Some(_) => continue,
                    None => match figures.figure(&t.figure, Some(link.clone())) {
                        Some(f) => Some(f),
                        None => continue,
                    },
                };
                let s = &t.stats;
                let kept = snapshots
                    .iter()
                    .find(|snap| snap.epoch == s.epoch)
                    .map(|snap| snap.explained_variance.iter().sum::<f64>());
                entries.push(TsneEntry {
                    figure,
                    svg: t.figure.svg.clone(),
                    stats: s.clone(),
                    knn_embedding: text::percent(s.knn_embedding, 1),
                    knn_latent: text::percent(s.knn_latent, 1),
                    kl_divergence: format!("{:.3}", s.kl_divergence),
                    perplexity: text::setting(s.perplexity),
                    explained_variance: kept.map(|v| text::percent(v, 1)),
                    explained_variance_value: kept,
                    seconds: format!("{:.1} s", s.seconds),
                });
            }
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
    pub(super) fn section(
        &self,
        name: &str,
        best: Option<f64>,
        figures: &mut Numbering,
    ) -> Option<SectionEntry> {
        let runs = self.of_section(name);
        let spec = runs.first()?.spec;
        let sf = self.section_figures(name);
        let section_link = Link {
            title: spec.section_title.clone(),
            anchor: self.section_anchor[name].clone(),
        };
        let architecture =
            sf.and_then(|s| figures.figure(&s.architecture, Some(section_link.clone())));
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
            .and_then(|f| figures.figure(f, Some(section_link.clone())));
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
                    params: text::thousands(s.params),
                    params_value: s.params,
                })
                .collect(),
            params: spec.param_count(),
            params_text: text::thousands(spec.param_count()),
            flatten_size: spec.flatten_size(),
            runs: entries,
        })
    }

    fn run_entry(
        &self,
        l: &Loaded<'_>,
        changes: Vec<String>,
        best: Option<f64>,
        figures: &mut Numbering,
    ) -> RunEntry {
        let link = self.link(l.spec);
        let rf = self.run_figures(l);
        let mut add = |f: Option<&FigureRef>| f.and_then(|f| figures.figure(f, Some(link.clone())));
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
            state: l.state.to_owned(),
            status: l.status.clone(),
            best: best.is_some() && l.final_test() == best,
            epochs: spec.train.epochs,
            optimizer: diff::optimizer(&spec.train.optimizer),
            batch_size: spec.train.batch_size,
            seed: spec.train.seed,
            numerics: format!("{}, {}", spec.train.precision, spec.train.memory_format),
            params: spec.param_count(),
            params_text: text::thousands(spec.param_count()),
            flatten_size: spec.flatten_size(),
            compared: compared.map(|c| self.link(c.spec)),
            changes,
            result: l.metrics().and_then(|m| run_result(m, l.record())),
            metrics: l.metrics_data(),
            delta,
            figures: figs,
            provenance: l.record().map(Provenance::of),
        }
    }
}

/// Final and best accuracies of a stored run, formatted.
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
        train_loss_value: last.train_loss,
        test_loss: format!("{:.4}", last.test_loss),
        test_loss_value: last.test_loss,
        best_test: Accuracy::of(best.test_accuracy),
        best_epoch: best.epoch,
        seconds,
        time: text::duration(seconds),
    })
}

/// A change in accuracy (as a fraction) as percentage points.
pub(super) fn delta(change: f64, against: Link) -> Delta {
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
