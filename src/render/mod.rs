//! Stage 5, the report: the store, the figure manifest and the author's prose → the
//! static site `out/site/` (index.html, style.css, report.json) and `out/report.md`.
//!
//! Nothing here trains or draws: it reads what the earlier stages left, builds one
//! [`context::ReportContext`] and fills the templates with it. Every output is written
//! with [`fsx::write_if_changed`], so a render that changed nothing touches nothing.

pub mod context;
pub mod markdown;
pub mod serve;
pub mod templates;
#[cfg(test)]
mod testutil;

use std::path::PathBuf;

use anyhow::Result;

use crate::fsx;
use crate::project::Project;
use crate::store::{Inventory, RunRecord};

/// The HTML page's template.
pub const PAGE_TEMPLATE: &str = "report.html";
/// The Markdown report's template.
pub const MARKDOWN_TEMPLATE: &str = "report.md";

/// Renders the report of the surveyed runs; returns the path of `index.html`.
/// Warnings (runs not trained yet, no build.json…) go to stderr and into the page.
pub fn render(project: &Project, inventory: &Inventory) -> Result<PathBuf> {
    let templates = templates::Templates::load(&project.root)?;
    let ctx = context::assemble(project, inventory)?;
    let html = templates.render(PAGE_TEMPLATE, &ctx)?;
    let markdown = tidy_markdown(&templates.render(MARKDOWN_TEMPLATE, &ctx)?);
    let store = &project.store;
    let mut json = serde_json::to_vec_pretty(&ctx)?;
    json.push(b'\n');
    fsx::write_if_changed(&store.report_json(), &json)?;
    fsx::write_if_changed(
        &store.site_file(templates::STYLE),
        templates.style.as_bytes(),
    )?;
    fsx::write_if_changed(&store.markdown(), markdown.as_bytes())?;
    let index = store.index_html();
    fsx::write_if_changed(&index, html.as_bytes())?;
    for w in &ctx.warnings {
        eprintln!("warning: {w}");
    }
    Ok(index)
}

/// Loads the templates (user overrides included) and the prose and renders both outputs
/// in memory, writing nothing: whatever of the author's a render would fail on, `check`
/// and `build` fail on before any training.
pub fn preflight(project: &Project, inventory: &Inventory) -> Result<()> {
    let templates = templates::Templates::load(&project.root)?;
    let ctx = context::assemble(project, inventory)?;
    templates.render(PAGE_TEMPLATE, &ctx)?;
    templates.render(MARKDOWN_TEMPLATE, &ctx)?;
    Ok(())
}

/// The runs of `profile` as the store holds them, for a render without a build: each
/// run's key is computed with the data fingerprint of the last build of this profile
/// (`build.json`); without one, with the fingerprint the run itself recorded, which
/// still proves the run was trained for this very spec.
pub fn survey_store(project: &Project, profile: &str) -> Result<Inventory> {
    let specs = project.all_runs(profile)?;
    let store = &project.store;
    let built = fsx::read_json::<crate::store::record::BuildInfo>(&store.build_info())
        .ok()
        .filter(|b| b.profile == profile)
        .map(|b| b.data_fingerprint);
    Ok(project.survey(profile, specs, |spec| match &built {
        Some(f) => f.clone(),
        None => fsx::read_json::<RunRecord>(&store.run(profile, &spec.id).record())
            .map(|r| r.data.fingerprint)
            .unwrap_or_default(),
    }))
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
        render(&p, &survey_store(&p, "p").unwrap()).unwrap();
        let md = std::fs::read_to_string(p.store.markdown()).unwrap();
        assert!(
            md.contains(
                "![Figure 2: Title of base-architecture](site/figures/base/architecture.png)"
            ),
            "{md}"
        );
        assert!(md.contains("*Figure 4: Title of base-confusion*"), "{md}");
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
        let index = render(&p, &survey_store(&p, "p").unwrap()).unwrap();
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
