//! The report as data: one [`ReportContext`] that every renderer reads (the HTML and
//! Markdown templates), also written as `out/site/report.json` for other tools.
//!
//! Every number comes from the run store (through the [`Inventory`] of the build), the
//! figure manifest (`figures.json`) or `build.json`; a run the store does not hold for
//! the current spec is "not trained yet", never an invented number.
//!
//! - `model`: the context's serialisable types, plain data.
//! - `runs`: stored runs → model sections, results rows and the t-SNE section.
//! - `numbering`: figure numbers and anchors in page order.
//! - `appendix`: the reproducibility appendix.
//! - `prose`: the author's prose, with its live numbers evaluated over the context.

mod appendix;
mod claims;
mod evidence;
mod group;
mod model;
mod numbering;
mod prose;
mod runs;
mod statement;
mod verification;

use std::path::PathBuf;

use anyhow::Result;
use chrono::Utc;

use crate::analyze::Analysis;
use crate::fsx;
use crate::project::Project;
use crate::store::{Inventory, Store};
use crate::text;
pub use appendix::shell_join;
use appendix::{read_build_info, reproducibility};
/// How a metric, a difference of it and an interval of that difference are printed.
pub use evidence::{signed, span, value};
use group::{Group, Loaded};
pub use model::*;
pub use numbering::FIXED_ANCHORS;
use numbering::Numbering;
use runs::Runs;

/// Builds the context of the surveyed runs from the project, its store, the figure
/// manifest and `build.json`. Reads only; fails on what the author must fix (a prose
/// file that is missing).
pub fn assemble(project: &Project, inventory: &Inventory) -> Result<ReportContext> {
    let report = &project.experiments.report;
    let store = &project.store;
    let profile = inventory.profile.as_str();
    let mut warnings = Vec::new();

    let build_info = read_build_info(store, profile, &mut warnings);
    let loaded: Vec<Loaded<'_>> = inventory
        .runs
        .iter()
        .map(|r| Loaded::of(r, store.run(profile, &r.spec.seed_run())))
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

    let mut figures = Numbering::new(store.site());
    let order = &inventory.sections;
    let runs = Runs::new(
        loaded,
        analysis.as_ref(),
        order,
        &mut figures,
        report.statistics.method(),
    );
    // Figures are numbered in the order the page shows them: the overview under the
    // results table, the t-SNE section, then the model sections.
    let overview = overview_ref.and_then(|f| {
        figures.figure(
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
        .groups()
        .iter()
        .filter_map(Group::final_test)
        .fold(None, |b: Option<f64>, a| Some(b.map_or(a, |b| b.max(a))));
    let sections = order
        .iter()
        .filter_map(|name| runs.section(name, best, &mut figures))
        .collect();

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
        .find_map(Loaded::record)
        .map(|r| (r.data.train, r.data.test));
    let date = report.date.clone().unwrap_or_else(|| {
        let day = build_info.as_ref().map_or_else(Utc::now, |b| b.finished);
        day.format("%B %-d, %Y").to_string()
    });
    let reproducibility = reproducibility(&runs, build_info.as_ref());
    let verification = verification::read(store, profile, build_info.as_ref(), &mut warnings);
    let claims = runs.claims();
    let mut seed_counts: Vec<usize> = runs.groups().iter().map(|g| g.seeds.len()).collect();
    seed_counts.sort_unstable();
    seed_counts.dedup();
    let statistics = statement::statistics(
        &report.statistics,
        &statement::Facts {
            seed_counts,
            test_images: data_counts.map(|d| d.1),
            family: claims
                .iter()
                .filter(|c| c.measured.p_adjusted.is_some())
                .count(),
            claims: claims.len(),
        },
    );

    let mut ctx = ReportContext {
        schema: Store::REPORT_SCHEMA.to_owned(),
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
        prose: ProseSet::default(),
        overview,
        tsne,
        sections,
        claims,
        statistics,
        tsne_neighbours: crate::analyze::embed::KNN_K,
        references,
        reproducibility,
        verification,
        figure_count: figures.count(),
        warnings,
    };
    // The prose last: its expressions read the rest of the context.
    let dir = &project.experiments.dir;
    let read_prose = |key: &str, path: &Option<PathBuf>| -> Result<Option<Prose>> {
        let Some(rel) = path else { return Ok(None) };
        let what = format!(
            "the prose file named by [prose] {key} in {}",
            dir.join(crate::experiment::REPORT_FILE).display()
        );
        let file = dir.join(rel);
        let text = crate::experiment::read_text(&file, &what)?;
        Ok(Some(Prose::block(&prose::expand(&file, &text, &ctx)?)))
    };
    let prose = ProseSet {
        explanations: read_prose("explanations", &report.prose.explanations)?,
        tsne: read_prose("tsne", &report.prose.tsne)?,
        notes: read_prose("notes", &report.prose.notes)?,
    };
    ctx.prose = prose;
    Ok(ctx)
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

/// "5,000 training and 1,000 test images, 8 epochs", as far as known.
fn profile_summary(data: Option<(usize, usize)>, epochs: Option<i64>) -> String {
    let mut parts = Vec::new();
    if let Some((train, test)) = data {
        parts.push(format!(
            "{} training and {} test images",
            text::thousands(train as i64),
            text::thousands(test as i64)
        ));
    }
    if let Some(e) = epochs {
        parts.push(format!("{e} epochs"));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::testutil::*;
    use crate::store::RunStatus;
    use crate::text::{duration, thousands};
    use runs::delta;
    use std::collections::BTreeSet;

    /// The context `report render` builds: the store surveyed alone.
    fn build(p: &Project, profile: &str) -> Result<ReportContext> {
        super::assemble(p, &p.survey_stored(profile, None)?)
    }

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
        assert_eq!(sgd.state, "complete");
        assert_eq!(
            (r.train.percent.as_str(), r.train.rounded.as_str()),
            ("68.40 %", "%68")
        );
        assert_eq!(
            (r.test.percent.as_str(), r.test.rounded.as_str()),
            ("55.00 %", "%55")
        );
        assert_eq!(
            (r.best_test.percent.as_str(), r.best_epoch),
            ("55.00 %", Some(2))
        );
        assert_eq!(r.time, "2 min 05 s");
        assert_eq!(sgd.title, "Child with SGD");
        let adam = run(&ctx, "child/adam");
        // The best test accuracy is the first epoch that reached the maximum.
        let a = adam.result.as_ref().unwrap();
        assert_eq!(
            (a.best_test.percent.as_str(), a.best_epoch),
            ("42.00 %", Some(1))
        );
        let missing = run(&ctx, "grand/adam");
        assert_eq!(missing.state, "not-trained");
        assert_eq!(missing.status, "not trained yet");
        assert!(
            missing.result.is_none()
                && missing.delta.is_none()
                && missing.seed_runs.iter().all(|s| s.provenance.is_none())
        );
        assert!(
            ctx.warnings.iter().any(|w| w.contains("grand/adam")),
            "{:?}",
            ctx.warnings
        );
        let diverged = run(&ctx, "results");
        assert_eq!(diverged.state, "diverged");
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
    fn seeds_are_taken_together_a_diverged_one_left_out_and_claims_checked() {
        let (_d, p) = seeded();
        store_build_info(&p);
        let complete = RunStatus::Complete;
        // base: final test 0.60, 0.62, 0.64; results: 0.50, 0.52 and a diverged seed.
        for (seed, test) in [(7, 0.60), (8, 0.62), (9, 0.64)] {
            store_run(
                &p,
                &seed_spec(&p, "base", seed),
                &[(0.5, 0.4), (0.7, test)],
                complete.clone(),
            );
        }
        for (seed, test) in [(7, 0.50), (8, 0.52)] {
            store_run(
                &p,
                &seed_spec(&p, "results", seed),
                &[(0.5, 0.4), (0.6, test)],
                complete.clone(),
            );
        }
        store_run(
            &p,
            &seed_spec(&p, "results", 9),
            &[(0.3, 0.99)],
            RunStatus::Diverged { epoch: 2 },
        );
        let ctx = build(&p, "p").unwrap();
        let base = run(&ctx, "base");
        let s = &base.spread;
        assert_eq!(
            (s.seeds.clone(), s.complete.clone()),
            (vec![7, 8, 9], vec![7, 8, 9])
        );
        assert!((s.test.mean.unwrap() - 0.62).abs() < 1e-12);
        assert!((s.test.std.unwrap() - 0.02).abs() < 1e-12);
        // scipy: t.ppf(0.975, 2) * 0.02 / sqrt(3) = 0.049682...
        let [lo, hi] = s.test.interval.unwrap();
        assert!((hi - 0.62 - 0.04968275).abs() < 1e-6 && (0.62 - lo - 0.04968275).abs() < 1e-6);
        assert_eq!(s.test.short, "62.00 ± 2.00 %");
        let r = base.result.as_ref().unwrap();
        assert_eq!((r.test.percent.as_str(), r.best_epoch), ("62.00 %", None));
        assert_eq!(base.seeds_text, "seeds 7, 8, 9");
        assert_eq!(base.seed_runs.len(), 3);
        // The diverged seed (its 99 % never reached a final epoch) is named, not averaged.
        let results = run(&ctx, "results");
        assert_eq!(results.state, "complete");
        assert_eq!(results.spread.complete, [7, 8]);
        assert_eq!(results.spread.left_out, ["seed 9: diverged in epoch 2"]);
        assert!((results.spread.test.mean.unwrap() - 0.51).abs() < 1e-12);
        assert_eq!(results.spread.note, "2 of 3 seeds complete (7, 8)");
        // Seeds 7–9 against 7–8: not the same seeds, so Welch's test.
        let c = results.comparison.as_ref().unwrap();
        assert_eq!(c.test, Some(crate::stats::Test::Welch));
        assert!((c.difference.unwrap() + 0.11).abs() < 1e-12);
        assert_eq!(c.verdict, Some(crate::analyze::seeds::Verdict::Worse));
        assert_eq!(c.verdict_text, "worse");
        assert_eq!(ctx.claims.len(), 1);
        let claim = &ctx.claims[0];
        assert_eq!(claim.run.title, "Results Section");
        assert_eq!(claim.claim, "worse final test accuracy than Base");
        // The claim reads the same comparison, with its own one-sided test.
        assert_eq!(
            (
                claim.measured.difference,
                claim.measured.interval,
                claim.measured.test
            ),
            (c.difference, c.interval, c.test)
        );
        assert_eq!(claim.outcome, crate::stats::Outcome::Confirmed);
        assert_eq!(ctx.statistics.family, 1);
        assert!(claim.measured.p_adjusted.unwrap() < 0.05);
        // The site copies every seed's metrics, the diverged one's too.
        let copies: Vec<String> = results
            .seed_runs
            .iter()
            .filter_map(|s| s.metrics.as_ref().map(|m| m.json.clone()))
            .collect();
        assert_eq!(
            copies,
            [
                "data/results/main/seed-7/metrics.json",
                "data/results/main/seed-8/metrics.json",
                "data/results/main/seed-9/metrics.json"
            ]
        );
    }

    #[test]
    fn every_epoch_and_the_confusion_matrix_are_data_with_numbers_as_numbers() {
        let (_d, p) = stored();
        let csv = p
            .store
            .run("p", &spec(&p, "child/sgd").seed_run())
            .metrics_csv();
        std::fs::write(&csv, "epoch\n").unwrap();
        let ctx = build(&p, "p").unwrap();
        assert_eq!(ctx.schema, "report.schema.json");
        let sgd = run(&ctx, "child/sgd");
        let r = sgd.result.as_ref().unwrap();
        assert_eq!((r.train_loss_text.as_str(), r.train_loss), ("1.0000", 1.0));
        assert_eq!((r.test_loss_text.as_str(), r.test_loss), ("1.5000", 1.5));
        let m = sgd.seed_runs[0].metrics.as_ref().unwrap();
        let stored: crate::store::Metrics = fsx::read_json(
            &p.store
                .run("p", &spec(&p, "child/sgd").seed_run())
                .metrics_json(),
        )
        .unwrap();
        assert_eq!(m.epochs, stored.epochs);
        assert_eq!(m.confusion.classes, ["a", "b"]);
        assert_eq!(m.confusion.counts, stored.confusion);
        assert_eq!(m.json, "data/child/sgd/seed-7/metrics.json");
        assert_eq!(m.csv.as_deref(), Some("data/child/sgd/seed-7/metrics.csv"));
        // A run without metrics.csv links only its metrics.json.
        let base = run(&ctx, "base").seed_runs[0].metrics.as_ref().unwrap();
        assert_eq!(
            (base.json.as_str(), base.csv.as_deref()),
            ("data/base/main/seed-7/metrics.json", None)
        );
        // A diverged run keeps the epochs it completed; a missing one has none.
        let diverged = run(&ctx, "results").seed_runs[0].metrics.as_ref().unwrap();
        assert_eq!(diverged.epochs.len(), 1);
        assert!(run(&ctx, "grand/adam").seed_runs[0].metrics.is_none());
        let layer = &section(&ctx, "base").layers[0];
        assert_eq!(layer.params_text, thousands(layer.params), "{layer:?}");
        assert!(layer.params > 0);
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
        assert_eq!(base.state, "stale");
        assert!(base.result.is_none());
        // Without build.json, a run is checked against the data it recorded.
        std::fs::remove_file(p.store.build_info()).unwrap();
        let ctx = build(&p, "p").unwrap();
        assert_eq!(run(&ctx, "base").state, "complete");
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
                    [&f.accuracy, &f.loss, &f.learning_rate, &f.confusion]
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
