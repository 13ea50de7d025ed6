//! `report verify`: retrains a sample of the stored runs, prints what each showed,
//! renders the report again with its Verification appendix, and fails naming every run
//! not reproduced or damaged and every claim that flipped.

use anyhow::{Result, bail};

use crate::build::Executor;
use crate::cli::VerifyArgs;
use crate::project::Project;
use crate::store::lock::StoreLock;
use crate::store::verification::{SampleInfo, Verification};
use crate::text;
use crate::verify::{self, VerifyOptions};

/// Verifies, prints the table, re-renders, and fails when anything did not reproduce.
pub fn run(project: &Project, args: VerifyArgs) -> Result<()> {
    if args.executor == Executor::Slurm && args.jobs > 1 {
        bail!(
            "--jobs is for --executor local; on Slurm, max_tasks in [executor.slurm] limits the tasks at once"
        );
    }
    if args.executor == Executor::Slurm && args.threads.is_some() {
        bail!("--threads is for --executor local; a Slurm task trains with its cpus_per_task");
    }
    let opts = VerifyOptions {
        profile: args.selection.profile.name(project)?,
        only: args.selection.only,
        sample: SampleInfo {
            all: args.all,
            per_section: args.sample.into(),
            seed: args.sample_seed,
        },
        threads: args.threads.map(usize::from),
        device: args.device,
        executor: args.executor,
        jobs: args.jobs.into(),
        data: args.selection.data,
    };
    let verification = verify::verify(project, &opts)?;
    print!("{}", table(&verification));
    {
        let _lock = StoreLock::acquire(&project.store.lock_path())?;
        let inventory = project.survey_stored(&opts.profile, None)?;
        let index = crate::render::render(project, &inventory)?;
        println!("{}", index.display());
    }
    let mut failures: Vec<String> = verification
        .runs
        .iter()
        .filter(|r| r.outcome.failed())
        .map(|r| format!("{} {}", r.run, r.outcome.word().replace('_', " ")))
        .collect();
    failures.extend(
        verification
            .claims
            .iter()
            .filter(|c| c.flipped)
            .map(|c| format!("claim “{}” of {} flipped", c.claim, c.run)),
    );
    if !failures.is_empty() {
        bail!(
            "verification failed: {} (see {})",
            failures.join("; "),
            project.store.verification().display()
        );
    }
    Ok(())
}

/// One line per verified run, then the claims that flipped.
fn table(v: &Verification) -> String {
    let mut s = format!(
        "{:<28} {:<16} {:>11}  {}\n",
        "run", "outcome", "largest Δ", "why"
    );
    for r in &v.runs {
        let largest = r
            .metrics
            .as_ref()
            .and_then(|m| m.largest.as_ref())
            .map_or("–".to_owned(), |l| {
                text::signed(100.0 * l.difference, 2, "pp")
            });
        let differ = if r.place.differences.is_empty() {
            String::new()
        } else {
            format!(" [{}]", r.place.differences.join(", "))
        };
        s.push_str(&format!(
            "{:<28} {:<16} {:>11}  {}{differ}\n",
            r.run,
            r.outcome.word(),
            largest,
            r.reason
        ));
    }
    let flipped = v.claims.iter().filter(|c| c.flipped).count();
    s.push_str(&format!(
        "claims: {} judged again, {flipped} flipped\n",
        v.claims.len()
    ));
    for c in v.claims.iter().filter(|c| c.flipped) {
        s.push_str(&format!(
            "  {}: “{}” {} → {}\n",
            c.run,
            c.claim,
            c.stored.word(),
            c.verified.word()
        ));
    }
    s
}
