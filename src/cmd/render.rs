//! `report render`: rebuilds `out/site` and `out/report.md` from the store, training
//! and drawing nothing.

use anyhow::Result;

use crate::cli::RenderArgs;
use crate::project::Project;
use crate::store::lock::StoreLock;

/// Renders the report and prints the page's path.
pub fn run(project: &Project, args: RenderArgs) -> Result<()> {
    let profile = args.profile.name(project)?;
    // It rewrites out/site: never while a build (or another render) writes there.
    let _lock = StoreLock::acquire(&project.store.lock_path())?;
    let inventory = project.survey_stored(&profile, None)?;
    let index = crate::render::render(project, &inventory)?;
    println!("{}", index.display());
    Ok(())
}
