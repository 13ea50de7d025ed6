//! `report figures`: redraws the figures of a profile from the store, training nothing.

use anyhow::Result;

use crate::cli::FiguresArgs;
use crate::project::{self, Project};
use crate::store::lock::StoreLock;

/// Draws the figures of the selected sections and prints where they are.
pub fn run(project: &Project, args: FiguresArgs) -> Result<()> {
    let profile = args.selection.profile.name(project)?;
    let only = &args.selection.only;
    let data = project.data(&profile, args.selection.data.as_deref())?;
    // It rewrites out/site/figures: never while a build (or another writer) is at work.
    let _lock = StoreLock::acquire(&project.store.lock_path())?;
    let inventory = project.survey_stored(&profile, Some(&data.description))?;
    let specs: Vec<_> = inventory.runs.iter().map(|r| r.spec.clone()).collect();
    project.check_only(only, &specs)?;
    let analysis = crate::analyze::figures::analyze(
        &project.store,
        &inventory,
        &project::only_sections(only),
    )?;
    let count: usize = analysis.sections.iter().map(|s| s.runs.len()).sum();
    println!(
        "figures of {count} runs in {}",
        project.store.figures().display()
    );
    Ok(())
}
