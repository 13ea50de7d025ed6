//! `report list`: each run of a profile with what the store holds for it.

use anyhow::Result;

use crate::cli::ListArgs;
use crate::data;
use crate::project::Project;
use crate::store::{RunState, RunStatus};
use crate::text;

/// Prints one line per run: its state, test accuracy and a note.
pub fn run(project: &Project, args: ListArgs) -> Result<()> {
    let profile = args.selection.profile.name(project);
    let specs = project.runs(&profile, &args.selection.only)?;
    let source = project.data_source(&profile, args.selection.data.as_deref())?;
    let fingerprint = data::fingerprint(&source)?;
    let inventory = project.survey_as_last_build(&profile, specs, &fingerprint);
    println!("{:<20} {:<9} {:>9}  note", "run", "state", "test acc");
    for run in &inventory.runs {
        let (acc, note) = match &run.state {
            RunState::Cached(s) | RunState::Stale(s) => {
                let acc = s
                    .metrics
                    .last()
                    .map_or_else(|| "-".into(), |e| text::percent(e.test_accuracy, 1));
                let note = match &s.record.status {
                    RunStatus::Complete => {
                        format!("{} epochs on {}", run.spec.train.epochs, s.record.device)
                    }
                    diverged => diverged.to_string(),
                };
                (acc, note)
            }
            RunState::Damaged(why) => ("-".into(), why.clone()),
            RunState::Missing => ("-".into(), String::new()),
        };
        println!(
            "{:<20} {:<9} {:>9}  {}",
            run.spec.id.to_string(),
            run.state.to_string(),
            acc,
            note
        );
    }
    Ok(())
}
