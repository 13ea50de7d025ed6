//! `report list`: each run of a profile with what the store holds for it.

use anyhow::Result;

use crate::cli::ListArgs;
use crate::project::{self, Project};
use crate::stats::Summary;
use crate::store::{PlannedRun, RunState, RunStatus};
use crate::text;

/// Prints one line per run: its state, test accuracy and a note.
pub fn run(project: &Project, args: ListArgs) -> Result<()> {
    let profile = args.selection.profile.name(project)?;
    let data = project.data(&profile, args.selection.data.as_deref())?;
    let mut inventory = project.survey_stored(&profile, Some(&data.description))?;
    let only = &args.selection.only;
    let specs: Vec<_> = inventory.runs.iter().map(|r| r.spec.clone()).collect();
    project.check_only(only, &specs)?;
    inventory.runs.retain(|r| project::selected(only, &r.spec));
    println!("{:<20} {:<9} {:>13}  note", "run", "state", "test acc");
    for seeds in crate::plan::by_run(&inventory.runs, |r| &r.spec.id) {
        let id = &seeds[0].spec.id;
        if seeds.len() == 1 {
            let (acc, note) = seed_line(&seeds[0].state, seeds[0].spec.train.epochs);
            println!(
                "{:<20} {:<9} {:>13}  {}",
                id.to_string(),
                seeds[0].state.to_string(),
                acc,
                note
            );
        } else {
            print_group(&id.to_string(), &seeds);
        }
    }
    Ok(())
}

/// A run of several seeds: one line with the mean and spread of its complete cached
/// seeds, then one indented line per seed.
fn print_group(id: &str, seeds: &[&PlannedRun]) {
    let states: Vec<String> = seeds.iter().map(|r| r.state.to_string()).collect();
    let state = if states.iter().all(|s| s == &states[0]) {
        states[0].clone()
    } else {
        "partial".to_owned()
    };
    let finals: Vec<f64> = seeds
        .iter()
        .filter_map(|r| r.state.cached())
        .filter(|s| s.record.status == RunStatus::Complete)
        .filter_map(|s| s.metrics.last().map(|e| e.test_accuracy))
        .collect();
    let summary = Summary::of(&finals);
    let acc = match (summary.mean, summary.std) {
        (Some(m), Some(sd)) => text::percent_spread(m, sd, 1),
        (Some(m), None) => text::percent(m, 1),
        _ => "-".to_owned(),
    };
    let cached = seeds.iter().filter(|r| r.state.cached().is_some()).count();
    println!(
        "{id:<20} {state:<9} {acc:>13}  {} seeds, {cached} cached",
        seeds.len()
    );
    for r in seeds {
        let (acc, note) = seed_line(&r.state, r.spec.train.epochs);
        let seed = format!("  seed {}", r.spec.train.seed);
        println!("{seed:<20} {:<9} {acc:>13}  {note}", r.state.to_string());
    }
}

/// The test accuracy and note of one stored run.
fn seed_line(state: &RunState, epochs: i64) -> (String, String) {
    match state {
        RunState::Cached(s) | RunState::Stale(s) => {
            let acc = s
                .metrics
                .last()
                .map_or_else(|| "-".into(), |e| text::percent(e.test_accuracy, 1));
            let note = match &s.record.status {
                RunStatus::Complete => format!("{epochs} epochs on {}", s.record.device),
                diverged => diverged.to_string(),
            };
            (acc, note)
        }
        RunState::Damaged(why) => ("-".into(), why.clone()),
        RunState::Missing => ("-".into(), String::new()),
    }
}
