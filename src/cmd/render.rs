//! `report render`: rebuilds `out/site` and `out/report.md` from the store, training
//! and drawing nothing.

use anyhow::Result;

use crate::cli::RenderArgs;
use crate::project::Project;

/// Renders the report and prints the page's path.
pub fn run(project: &Project, args: RenderArgs) -> Result<()> {
    let profile = args.profile.name(project);
    let inventory = crate::render::survey_store(project, &profile)?;
    let index = crate::render::render(project, &inventory)?;
    println!("{}", index.display());
    Ok(())
}
