//! Stage 5, the report: the store, the figure manifest and the author's prose → the
//! static site `out/site/` (index.html, style.css, report.json with its JSON Schema,
//! copies of the shown runs' metrics files under `data/`), `out/report.md` and
//! `out/report.pdf`.
//!
//! Nothing here trains or draws: it reads what the earlier stages left, builds one
//! [`context::ReportContext`] and fills the templates with it. Every output is written
//! with [`fsx::write_if_changed`], so a render that changed nothing touches nothing.

pub mod anchors;
pub mod context;
pub mod markdown;
pub mod pdf;
pub mod serve;
pub mod templates;
#[cfg(test)]
mod testutil;
pub mod typst_markup;

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::experiment::report_file::Paper;
use crate::fsx;
use crate::plan::RunId;
use crate::plan::spec::SeedRun;
use crate::project::Project;
use crate::store::record::BuildInfo;
use crate::store::{Inventory, Store};

/// The HTML page's template.
pub const PAGE_TEMPLATE: &str = "report.html";
/// The Markdown report's template.
pub const MARKDOWN_TEMPLATE: &str = "report.md";
/// The PDF report's template (Typst source).
pub const PDF_TEMPLATE: &str = "report.typ";

/// What the Typst template reads: the report context and the paper.
#[derive(serde::Serialize)]
struct PdfInput<'a> {
    #[serde(flatten)]
    report: &'a context::ReportContext,
    paper: Paper,
}

/// The JSON Schema (draft 2020-12) of `report.json`, written beside it. Built in, not a
/// template: it describes what this program writes, so a project cannot replace it.
pub const REPORT_JSON_SCHEMA: &str = include_str!("../../report.schema.json");

/// Renders the report of the surveyed runs; returns the path of `index.html`.
/// Warnings (runs not trained yet, no build.json…) go to stderr and into the page.
pub fn render(project: &Project, inventory: &Inventory) -> Result<PathBuf> {
    let templates = templates::Templates::load(&project.root)?;
    let ctx = context::assemble(project, inventory)?;
    let html = templates.render(PAGE_TEMPLATE, &ctx)?;
    let markdown = tidy_markdown(&anchors::resolve(
        &templates.render(MARKDOWN_TEMPLATE, &ctx)?,
    ));
    let store = &project.store;
    // Typeset before writing anything: a PDF that fails leaves every output as it was.
    let settings = &project.experiments.report.pdf;
    let pdf = if settings.enabled {
        let source = templates.render(
            PDF_TEMPLATE,
            &PdfInput {
                report: &ctx,
                paper: settings.paper,
            },
        )?;
        fsx::write_if_changed(&store.typst_source(), source.as_bytes())?;
        let date = BuildInfo::last(store, &ctx.profile.name)?.map(|b| b.finished);
        let key = pdf::inputs_key(store, &source, date)?;
        if pdf::is_current(store, &key) {
            None
        } else {
            let bytes = pdf::typeset(
                &source,
                &store.typst_source(),
                &templates.origin(PDF_TEMPLATE),
                &store.site(),
                date,
            )?;
            Some((bytes, key))
        }
    } else {
        None
    };
    copy_run_metrics(store, &ctx)?;
    let mut json = serde_json::to_vec_pretty(&ctx)?;
    json.push(b'\n');
    fsx::write_if_changed(&store.report_schema(), REPORT_JSON_SCHEMA.as_bytes())?;
    fsx::write_if_changed(&store.report_json(), &json)?;
    fsx::write_if_changed(
        &store.site_file(templates::STYLE),
        templates.style.as_bytes(),
    )?;
    fsx::write_if_changed(&store.markdown(), markdown.as_bytes())?;
    if let Some((bytes, key)) = pdf {
        pdf::write(store, &bytes, &key)?;
    }
    let index = store.index_html();
    fsx::write_if_changed(&index, html.as_bytes())?;
    for w in &ctx.warnings {
        eprintln!("warning: {w}");
    }
    Ok(index)
}

/// Copies the metrics files of every run the context shows numbers for from the run
/// store to where the page and `report.json` link them, byte for byte (the survey has
/// checked them against their digests).
fn copy_run_metrics(store: &Store, ctx: &context::ReportContext) -> Result<()> {
    for run in ctx.sections.iter().flat_map(|s| &s.runs) {
        for seed in &run.seed_runs {
            let Some(m) = &seed.metrics else { continue };
            let files = store.run(
                &ctx.profile.name,
                &SeedRun {
                    id: RunId {
                        section: run.section.clone(),
                        variant: run.variant.clone(),
                    },
                    seed: seed.seed,
                },
            );
            let copies = [
                (files.metrics_json(), Some(&m.json)),
                (files.metrics_csv(), m.csv.as_ref()),
            ];
            for (from, to) in copies {
                let Some(to) = to else { continue };
                let bytes = std::fs::read(&from)
                    .with_context(|| format!("cannot read {}", from.display()))?;
                fsx::write_if_changed(&store.site().join(to), &bytes)?;
            }
        }
    }
    Ok(())
}

/// Loads the templates (user overrides included) and the prose, renders every output in
/// memory and typesets the PDF, writing nothing unless the Typst source fails (then
/// `out/report.typ`, which the error names): whatever of the author's a render would
/// fail on, `check` and `build` fail on before any training.
pub fn preflight(project: &Project, inventory: &Inventory) -> Result<()> {
    let templates = templates::Templates::load(&project.root)?;
    let ctx = context::assemble(project, inventory)?;
    templates.render(PAGE_TEMPLATE, &ctx)?;
    templates.render(MARKDOWN_TEMPLATE, &ctx)?;
    let settings = &project.experiments.report.pdf;
    let source = templates.render(
        PDF_TEMPLATE,
        &PdfInput {
            report: &ctx,
            paper: settings.paper,
        },
    )?;
    if settings.enabled {
        // Typeset too (0.3–0.5 s): a Typst mistake in the template shows now, not after
        // the training. Only a failure writes the source, for its line to be read.
        let store = &project.store;
        let origin = templates.origin(PDF_TEMPLATE);
        if let Err(e) = pdf::typeset(&source, &store.typst_source(), &origin, &store.site(), None) {
            fsx::write_if_changed(&store.typst_source(), source.as_bytes())?;
            return Err(e);
        }
    }
    Ok(())
}

/// Runs of blank lines (which template logic leaves behind) become one, except inside
/// fenced code blocks; the file ends with one newline.
pub fn tidy_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fence: Option<&str> = None;
    let mut blank = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let is_blank = line.trim().is_empty();
        if fence.is_none() && is_blank {
            if !blank && !out.is_empty() {
                out.push('\n');
            }
            blank = true;
            continue;
        }
        blank = false;
        for marker in ["```", "~~~"] {
            if trimmed.starts_with(marker) {
                match fence {
                    None => fence = Some(marker),
                    Some(open) if open == marker => fence = None,
                    Some(_) => {}
                }
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{DeviceKind, Devices};
    use crate::render::testutil::*;

    /// Every `](site/…)` target of the Markdown report, relative to `out/`.
    fn site_links(md: &str) -> Vec<String> {
        md.split("](site/")
            .skip(1)
            .map(|rest| format!("site/{}", &rest[..rest.find(')').unwrap()]))
            .collect()
    }

    #[test]
    fn markdown_images_are_pngs_under_site_that_exist() {
        let (_d, p) = stored();
        store_figures(&p);
        render(&p, &p.survey_stored("p", None).unwrap()).unwrap();
        let md = std::fs::read_to_string(p.store.markdown()).unwrap();
        assert!(
            md.contains(
                "![Figure 2: Title of base-architecture](site/figures/base/architecture.png)"
            ),
            "{md}"
        );
        // The caption is a plain paragraph (an emphasised one reads as a heading to
        // markdownlint), and the image's link target is the heading above it.
        assert!(
            md.contains("\n\nFigure 4: Title of base-confusion\n"),
            "{md}"
        );
        assert!(!md.contains("*Figure") && !md.contains("<a id"), "{md}");
        let links = site_links(&md);
        let images: Vec<&String> = links.iter().filter(|l| l.ends_with(".png")).collect();
        assert_eq!(
            images.len(),
            4,
            "overview, architecture, accuracy, confusion: {links:?}"
        );
        for link in &links {
            assert!(p.store.out().join(link).is_file(), "{link} does not exist");
        }
        assert!(!md.contains(".svg)"), "Markdown shows PNGs: {md}");
        // Not HTML-escaped: the title is shown as written, its markup neutralised.
        assert!(
            md.starts_with("# T \\<script\\>alert(1)\\</script\\>\n"),
            "{md}"
        );
        assert!(!md.contains("&lt;") && !md.contains("&#x2F;"), "{md}");
    }

    #[test]
    fn html_escapes_titles_and_keeps_figures_relative() {
        let (_d, p) = stored();
        store_figures(&p);
        let index = render(&p, &p.survey_stored("p", None).unwrap()).unwrap();
        let html = std::fs::read_to_string(&index).unwrap();
        assert!(!html.contains("<script"), "raw script in the page");
        assert!(html.contains("T &lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains(r#"<source srcset="figures/base/architecture.svg" type="image/svg+xml"><img src="figures/base/architecture.png""#));
        assert!(
            !html.contains("src=\"/") && !html.contains("href=\"/"),
            "absolute paths"
        );
        let json: ReportContextCheck =
            serde_json::from_slice(&std::fs::read(p.store.report_json()).unwrap()).unwrap();
        assert_eq!(json.sections.len(), 4);
    }

    /// A change that makes a part of `report.json` wrong.
    type Spoil = fn(&mut serde_json::Value);

    /// The schema's complaints about `report.json`, one line each.
    fn schema_errors(json: &serde_json::Value) -> Vec<String> {
        let schema: serde_json::Value = serde_json::from_str(REPORT_JSON_SCHEMA).unwrap();
        let validator = jsonschema::draft202012::new(&schema).unwrap();
        validator
            .iter_errors(json)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect()
    }

    fn report_json(p: &Project) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p.store.report_json()).unwrap()).unwrap()
    }

    #[test]
    fn the_site_holds_the_schema_and_the_shown_runs_metrics_files() {
        let (_d, p) = stored();
        store_figures(&p);
        let id = |run: &str| spec(&p, run).seed_run();
        let sgd = p.store.run("p", &id("child/sgd"));
        std::fs::write(sgd.metrics_csv(), "epoch,train_loss\n1,1\n").unwrap();
        let index = render(&p, &p.survey_stored("p", None).unwrap()).unwrap();
        let site = p.store.site();
        assert_eq!(
            std::fs::read_to_string(p.store.report_schema()).unwrap(),
            REPORT_JSON_SCHEMA
        );
        // Byte-for-byte copies, only of the runs the report has numbers for.
        for (from, to) in [
            (sgd.metrics_json(), "data/child/sgd/seed-7/metrics.json"),
            (sgd.metrics_csv(), "data/child/sgd/seed-7/metrics.csv"),
            (
                p.store.run("p", &id("results")).metrics_json(),
                "data/results/main/seed-7/metrics.json",
            ),
        ] {
            assert_eq!(
                std::fs::read(from).unwrap(),
                std::fs::read(site.join(to)).unwrap()
            );
        }
        assert!(
            !site.join("data/base/main/seed-7/metrics.csv").exists(),
            "no csv in the store"
        );
        assert!(!site.join("data/grand/adam").exists(), "not trained");
        let html = std::fs::read_to_string(&index).unwrap();
        assert!(
            html.contains(r#"<a href="data/child/sgd/seed-7/metrics.json">metrics.json</a> (with the confusion matrix), <a href="data/child/sgd/seed-7/metrics.csv">metrics.csv</a>."#),
            "{html}"
        );
        assert!(html.contains(r#"<a href="data/results/main/seed-7/metrics.json">"#));
        let md = std::fs::read_to_string(p.store.markdown()).unwrap();
        assert!(
            md.contains("[metrics.json](site/data/child/sgd/seed-7/metrics.json) (with the confusion matrix), [metrics.csv](site/data/child/sgd/seed-7/metrics.csv)."),
            "{md}"
        );
        // Every relative link of the page names a file of the site.
        for link in html
            .split("href=\"")
            .skip(1)
            .map(|r| &r[..r.find('"').unwrap()])
        {
            if !link.starts_with('#') && !link.contains(':') {
                assert!(site.join(link).is_file(), "{link} does not exist");
            }
        }
        let json = report_json(&p);
        assert_eq!(json["$schema"], Store::REPORT_SCHEMA);
        let errors = schema_errors(&json);
        assert!(errors.is_empty(), "{errors:#?}");
    }

    #[test]
    fn the_schema_accepts_every_state_of_a_run_and_refuses_mistakes() {
        // Untrained, stale, diverged, complete; with and without figures and build.json.
        let (_d, p) = project();
        render(&p, &p.survey_stored("p", None).unwrap()).unwrap();
        let errors = schema_errors(&report_json(&p));
        assert!(errors.is_empty(), "nothing trained: {errors:#?}");
        let (_d, p) = stored();
        store_run_with(
            &p,
            &spec(&p, "grand/adam"),
            &[(0.9, 0.9)],
            crate::store::RunStatus::Complete,
            "other",
        );
        store_figures(&p);
        render(&p, &p.survey_stored("p", None).unwrap()).unwrap();
        let json = report_json(&p);
        let states: Vec<&str> = json["sections"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["runs"].as_array().unwrap())
            .map(|r| r["state"].as_str().unwrap())
            .collect();
        for state in ["complete", "diverged", "stale"] {
            assert!(states.contains(&state), "{states:?}");
        }
        let errors = schema_errors(&json);
        assert!(errors.is_empty(), "{errors:#?}");
        // A number as a string, a field gone, a field too many, a state unheard of.
        let run = "/sections/0/runs/0";
        let mistakes: [(&str, Spoil); 4] = [
            ("/result/train_loss", |v| *v = "1.0000".into()),
            ("/seed_runs/0/metrics/epochs/0", |v| {
                v.as_object_mut().unwrap().remove("test_accuracy");
            }),
            ("/seed_runs/0/metrics/confusion", |v| {
                v.as_object_mut().unwrap().insert("extra".into(), 1.into());
            }),
            ("/state", |v| *v = "finished".into()),
        ];
        for (path, spoil) in mistakes {
            let mut bad = json.clone();
            spoil(bad.pointer_mut(&format!("{run}{path}")).unwrap());
            // Reported where the mistake is, not at a field around it.
            let spoilt = format!("{run}{path}: ");
            let errors = schema_errors(&bad);
            assert!(
                !errors.is_empty() && errors.iter().all(|e| e.starts_with(&spoilt)),
                "{path}: {errors:?}"
            );
        }
    }

    #[test]
    fn figures_below_the_first_screen_load_lazily() {
        let (_d, p) = stored();
        store_figures(&p);
        let index = render(&p, &p.survey_stored("p", None).unwrap()).unwrap();
        let html = std::fs::read_to_string(&index).unwrap();
        let imgs: Vec<&str> = html
            .split("<img ")
            .skip(1)
            .map(|rest| &rest[..rest.find('>').unwrap()])
            .collect();
        assert!(imgs.len() >= 3, "{imgs:?}");
        assert!(
            imgs[0].contains("Figure 1:") && !imgs[0].contains("loading="),
            "Figure 1 is on the first screen: {}",
            imgs[0]
        );
        for img in &imgs[1..] {
            assert!(img.contains(r#"loading="lazy""#), "{img}");
        }
    }

    #[test]
    fn a_run_of_another_kind_of_device_is_stale_unless_its_reuse_is_asked_for() {
        use crate::store::RunState;
        let (_d, p) = stored();
        let data = crate::data::Description::cifar10(FINGERPRINT);
        let specs = p.all_runs("p", &data).unwrap();
        let base_state = |devices: Devices| {
            let inv = p.survey("p", specs.clone(), |_| (FINGERPRINT.to_owned(), devices));
            let run = inv.runs.into_iter().find(|r| r.spec.id.section == "base");
            run.unwrap().state
        };
        let cuda = Devices {
            kind: DeviceKind::Cuda,
            reuse_any: false,
        };
        // The fixture's runs were stored with CPU keys.
        assert!(matches!(
            base_state(Devices::default()),
            RunState::Cached(_)
        ));
        assert!(matches!(base_state(cuda), RunState::Stale(_)));
        let reuse = Devices {
            reuse_any: true,
            ..cuda
        };
        assert!(matches!(base_state(reuse), RunState::Cached(_)));
        // A render without a build accepts what the last build did.
        store_build_info(&p);
        let mut info = crate::store::record::BuildInfo::last(&p.store, "p")
            .unwrap()
            .unwrap();
        let rendered_base = |info: &crate::store::record::BuildInfo| {
            fsx::write_json(&p.store.build_info(), info).unwrap();
            let inv = p.survey_stored("p", None).unwrap();
            let run = inv.runs.into_iter().find(|r| r.spec.id.section == "base");
            run.unwrap().state
        };
        info.device = DeviceKind::Cuda;
        assert!(matches!(rendered_base(&info), RunState::Stale(_)));
        info.reuse_any_device = true;
        assert!(matches!(rendered_base(&info), RunState::Cached(_)));
    }

    #[test]
    fn tidy_markdown_keeps_one_blank_line_except_in_code() {
        assert_eq!(
            tidy_markdown("\n\n# A\n\n\n\ntext  \nmore\n\n\n```\ncode\n\n\nend\n```\n\n\n"),
            "# A\n\ntext  \nmore\n\n```\ncode\n\n\nend\n```\n"
        );
    }

    #[derive(serde::Deserialize)]
    struct ReportContextCheck {
        sections: Vec<serde_json::Value>,
    }
}
