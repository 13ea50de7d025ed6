//! The runs as the report shows them: each run's seeds taken together, with its anchor,
//! its numbers, its comparisons and its figures, gathered into model sections, the
//! t-SNE section and the Claims table.

use std::collections::BTreeMap;

use super::claims::{Stated, Untested};
use super::group::{Group, Loaded};
use super::model::{
    ClaimRow, Compared, Delta, LayerRow, Link, Prose, RunEntry, RunFigureSet, SectionEntry,
    TsneEntry, TsneRun,
};
use super::numbering::Numbering;
use crate::analyze::claims::{self, Claim};
use crate::analyze::{Analysis, FigureRef, RunFigures, SectionFigures};
use crate::plan::spec::Metric;
use crate::plan::{RunId, RunSpec, diff};
use crate::stats::Method;
use crate::text;

/// The PCA column of a snapshot whose latent vectors were all the same.
const NO_VARIANCE: &str = "none (latents all equal)";

/// The runs with their anchors and figures, from which the sections are made.
pub(super) struct Runs<'a> {
    /// Every seed of every run, in report order.
    pub(super) loaded: Vec<Loaded<'a>>,
    analysis: Option<&'a Analysis>,
    section_anchor: BTreeMap<String, String>,
    run_anchor: BTreeMap<String, String>,
    /// How intervals and tests are made (`[statistics]`).
    pub(super) method: Method,
}

impl<'a> Runs<'a> {
    /// Hands out the section and run anchors (before any figure's, so that sections
    /// keep their names).
    pub(super) fn new(
        loaded: Vec<Loaded<'a>>,
        analysis: Option<&'a Analysis>,
        order: &[String],
        numbering: &mut Numbering,
        method: Method,
    ) -> Self {
        let mut section_anchor = BTreeMap::new();
        let mut run_anchor = BTreeMap::new();
        for name in order {
            let anchor = numbering.anchor(name);
            let runs = Group::all(loaded.iter().filter(|l| &l.spec.id.section == name));
            for g in &runs {
                let a = if runs.len() == 1 {
                    anchor.clone()
                } else {
                    numbering.anchor(&format!("{name}-{}", g.spec().id.variant))
                };
                run_anchor.insert(g.spec().id.to_string(), a);
            }
            section_anchor.insert(name.clone(), anchor);
        }
        Runs {
            loaded,
            analysis,
            section_anchor,
            run_anchor,
            method,
        }
    }

    pub(super) fn link(&self, spec: &RunSpec) -> Link {
        Link {
            title: spec.title(),
            anchor: self.run_anchor[&spec.id.to_string()].clone(),
        }
    }

    /// Every run, its seeds together, in report order.
    pub(super) fn groups(&self) -> Vec<Group<'_, 'a>> {
        Group::all(&self.loaded)
    }

    fn of_section(&self, name: &str) -> Vec<Group<'_, 'a>> {
        Group::all(self.loaded.iter().filter(|l| l.spec.id.section == name))
    }

    fn group(&self, id: &RunId) -> Option<Group<'_, 'a>> {
        Group::all(self.loaded.iter().filter(|l| &l.spec.id == id))
            .into_iter()
            .next()
    }

    /// The run `spec` is compared with: the parent's variant of the same name, else the
    /// parent's first run.
    fn compared(&self, spec: &RunSpec) -> Option<Group<'_, 'a>> {
        let parent = self.of_section(spec.parent.as_deref()?);
        let i = parent
            .iter()
            .position(|p| p.spec().id.variant == spec.id.variant)
            .unwrap_or(0);
        parent.into_iter().nth(i)
    }

    fn section_figures(&self, name: &str) -> Option<&'a SectionFigures> {
        self.analysis?.sections.iter().find(|s| s.section == name)
    }

    /// A stored run's figures; none for a run the store does not hold, whatever an
    /// older manifest lists.
    fn run_figures(&self, g: &Group<'_, '_>) -> Option<&'a RunFigures> {
        if !g.present() {
            return None;
        }
        self.section_figures(&g.spec().id.section)?
            .runs
            .iter()
            .find(|r| r.run == g.spec().id)
    }

    /// `metric` of `g` against `other`'s.
    fn compare(&self, g: &Group<'_, '_>, other: &Group<'_, '_>, metric: Metric) -> Compared {
        Compared::of(
            &g.sample(metric),
            &other.sample(metric),
            metric,
            self.link(other.spec()),
            &self.method,
        )
    }

    /// The Claims table: every claim of every run, in report order, judged together as
    /// one family (see [`claims::judge`]); a claim whose comparison run is not in the
    /// report, or not trained, is listed as untested rather than left out.
    pub(super) fn claims(&self) -> Vec<ClaimRow> {
        struct Row<'s, 'r, 'a> {
            stated: Stated<'s>,
            samples: Option<(crate::analyze::seeds::Sample, crate::analyze::seeds::Sample)>,
            missing: Option<String>,
            group: Group<'r, 'a>,
            other: Option<Group<'r, 'a>>,
        }
        let groups = self.groups();
        let mut rows = Vec::new();
        for g in groups {
            let spec = g.spec();
            for claim in &spec.claims {
                let other = self.group(&claim.against);
                let against = match &other {
                    Some(o) => self.link(o.spec()),
                    None => Link {
                        title: claim.against.to_string(),
                        anchor: String::new(),
                    },
                };
                let stated = Stated {
                    run: self.link(spec),
                    against,
                    expect: claim.expect,
                    metric: claim.metric,
                    text: claim.text.as_deref(),
                    margin: claim.margin,
                };
                let samples = other
                    .as_ref()
                    .map(|o| (g.sample(claim.metric), o.sample(claim.metric)));
                rows.push(Row {
                    stated,
                    samples,
                    missing: other.is_none().then(|| claim.against.to_string()),
                    group: Group {
                        seeds: g.seeds.clone(),
                    },
                    other,
                });
            }
        }
        let family: Vec<Claim<'_>> = rows
            .iter()
            .filter_map(|r| {
                let (a, b) = r.samples.as_ref()?;
                Some(Claim {
                    a,
                    b,
                    metric: r.stated.metric,
                    expect: r.stated.expect,
                    margin: r.stated.margin,
                })
            })
            .collect();
        let mut judged = claims::judge(&family, &self.method).into_iter();
        rows.into_iter()
            .map(|r| {
                let Some((a, b)) = &r.samples else {
                    let metric = r.stated.metric;
                    let none = crate::analyze::seeds::Sample {
                        seeds: Vec::new(),
                        values: Vec::new(),
                        floor: 0.0,
                    };
                    let measured = Compared::of(
                        &r.group.sample(metric),
                        &none,
                        metric,
                        r.stated.against.clone(),
                        &self.method,
                    );
                    let why = Untested::NotInReport(r.missing.unwrap_or_default());
                    return ClaimRow::untested(r.stated, why, measured);
                };
                let j = judged.next().expect("one judgement per claim with samples");
                if j.contrast.comparison.is_some() {
                    return ClaimRow::judged(r.stated, &j, a, b, &self.method);
                }
                let trained = r.group.present() && r.other.as_ref().is_some_and(Group::present);
                let why = if trained {
                    Untested::OneSeed
                } else {
                    Untested::NotTrained
                };
                let measured = Compared::words(
                    &j.contrast,
                    a,
                    b,
                    r.stated.metric,
                    r.stated.against.clone(),
                    &self.method,
                    None,
                );
                ClaimRow::untested(r.stated, why, measured)
            })
            .collect()
    }

    /// The t-SNE section: every stored run with t-SNE figures (its shown seed's).
    pub(super) fn tsne(&self, figures: &mut Numbering) -> Vec<TsneRun> {
        let mut out = Vec::new();
        for g in self.groups() {
            let Some(rf) = self.run_figures(&g) else {
                continue;
            };
            let l = g.shown();
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
                let snapshot = snapshots.iter().find(|snap| snap.epoch == s.epoch);
                let kept = snapshot
                    .filter(|snap| !snap.explained_variance.is_empty())
                    // A sum of f32 fractions: all components of a small latent
                    // can add up to a rounding above 1.
                    .map(|snap| snap.explained_variance.iter().sum::<f64>().min(1.0));
                // No fractions: every latent vector was the same, nothing to keep.
                let kept_text = match (snapshot, kept) {
                    (_, Some(v)) => Some(text::percent(v, 1)),
                    (Some(_), None) => Some(NO_VARIANCE.to_owned()),
                    (None, None) => None,
                };
                entries.push(TsneEntry {
                    figure,
                    svg: t.figure.svg.clone(),
                    stats: s.clone(),
                    knn_embedding_text: text::percent(s.knn_embedding, 1),
                    knn_latent_text: text::percent(s.knn_latent, 1),
                    kl_divergence_text: format!("{:.3}", s.kl_divergence),
                    perplexity_text: text::setting(s.perplexity),
                    explained_variance: kept,
                    explained_variance_text: kept_text,
                    seconds_text: format!("{:.1} s", s.seconds),
                });
            }
            if entries.is_empty() && panel.is_none() {
                continue;
            }
            out.push(TsneRun {
                run: link,
                seed: (l.spec.seeds.len() > 1).then_some(l.spec.train.seed),
                latent_dim: snapshots.first().map(|s| s.latent_dim),
                pca_components: l.spec.train.snapshot_pca,
                figures: entries,
                panel,
            });
        }
        out
    }

    /// One model section, its figures numbered in the order the page shows them:
    /// the drawing, each run's accuracy, loss, learning rate and confusion, then the variants overlay.
    /// `best` is the highest final test accuracy of all runs.
    pub(super) fn section(
        &self,
        name: &str,
        best: Option<f64>,
        figures: &mut Numbering,
    ) -> Option<SectionEntry> {
        let runs = self.of_section(name);
        let spec = runs.first()?.spec();
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
            .map(|g| {
                self.compared(g.spec())
                    .map_or(Vec::new(), |c| diff::diff(c.spec(), g.spec()))
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
            .map(|(g, lines)| {
                let own = lines.iter().filter(|x| !common.contains(x)).cloned();
                self.run_entry(g, &runs, own.collect(), best, figures)
            })
            .collect();
        let variants_figure = sf
            .and_then(|s| s.variants.as_ref())
            .filter(|_| runs.iter().any(Group::present))
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
                    .map_or_else(|| p.clone(), |g| g.spec().section_title.clone()),
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
                    output: s.output.dims(),
                    output_text: s.output.to_string(),
                    params: s.params,
                    params_text: text::thousands(s.params),
                })
                .collect(),
            params: spec.param_count(),
            params_text: text::thousands(spec.param_count()),
            flatten_size: spec.flatten_size(),
            runs: entries,
        })
    }

    /// One run's entry; `siblings` are the runs of its section (itself included), the
    /// variants it is compared with.
    fn run_entry(
        &self,
        g: &Group<'_, '_>,
        siblings: &[Group<'_, '_>],
        changes: Vec<String>,
        best: Option<f64>,
        figures: &mut Numbering,
    ) -> RunEntry {
        let spec = g.spec();
        let link = self.link(spec);
        let rf = self.run_figures(g);
        let mut add = |f: Option<&FigureRef>| f.and_then(|f| figures.figure(f, Some(link.clone())));
        let figs = RunFigureSet {
            accuracy: add(rf.map(|r| &r.accuracy)),
            loss: add(rf.map(|r| &r.loss)),
            learning_rate: add(rf.and_then(|r| r.learning_rate.as_ref())),
            confusion: add(rf.map(|r| &r.confusion)),
        };
        let compared = self.compared(spec);
        let delta = match (
            g.final_test(),
            compared.as_ref().and_then(Group::final_test),
        ) {
            (Some(mine), Some(theirs)) => compared
                .as_ref()
                .map(|c| delta(mine - theirs, self.link(c.spec()))),
            _ => None,
        };
        let comparison = compared
            .as_ref()
            .filter(|c| c.present() && g.present())
            .map(|c| self.compare(g, c, Metric::TestAccuracy));
        let versus = siblings
            .iter()
            .filter(|o| o.spec().id != spec.id && o.present() && g.present())
            .map(|o| self.compare(g, o, Metric::TestAccuracy))
            .collect();
        let seeds = &spec.seeds;
        let list = seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        RunEntry {
            section: spec.id.section.clone(),
            variant: spec.id.variant.clone(),
            id: spec.id.to_string(),
            title: link.title.clone(),
            variant_title: spec.variant_title.clone(),
            anchor: link.anchor.clone(),
            state: g.state().to_owned(),
            status: g.status(),
            best: best.is_some() && g.final_test() == best,
            epochs: spec.train.epochs,
            optimizer: diff::optimizer(&spec.train.optimizer),
            batch_size: spec.train.batch_size,
            seeds: seeds.clone(),
            seeds_text: if seeds.len() == 1 {
                format!("seed {list}")
            } else {
                format!("seeds {list}")
            },
            shown_seed: g.shown().spec.train.seed,
            numerics: format!("{}, {}", spec.train.precision, spec.train.memory_format),
            params: spec.param_count(),
            params_text: text::thousands(spec.param_count()),
            flatten_size: spec.flatten_size(),
            compared: compared.as_ref().map(|c| self.link(c.spec())),
            changes,
            result: g.result(),
            spread: g.spread(&self.method),
            delta,
            comparison,
            versus,
            seed_runs: g.entries(),
            devices: g.devices(),
            figures: figs,
        }
    }
}

/// A change in accuracy (as a fraction) as percentage points.
pub(super) fn delta(change: f64, against: Link) -> Delta {
    let points = 100.0 * change;
    let text = text::signed(points, 2, "pp");
    let direction = match text.chars().next() {
        Some('+') => "up",
        Some('−') => "down",
        _ => "same",
    };
    Delta {
        against,
        points,
        text,
        direction: direction.to_owned(),
    }
}
