//! `report build`: trains what changed, draws, renders, and prints one line per run.

use anyhow::{Result, bail};

use crate::build::{self, BuildOptions, Built, Executor};
use crate::cli::BuildArgs;
use crate::project::Project;
use crate::store::RunStatus;
use crate::text;

/// Builds the report and prints the run table and the page's path.
pub fn run(project: &Project, args: BuildArgs) -> Result<()> {
    let opts = BuildOptions {
        profile: args.selection.profile.name(project)?,
        only: args.selection.only,
        force: args.force,
        device: args.device,
        data: args.selection.data,
        jobs: args.jobs.into(),
        reuse_any_device: args.reuse_any_device,
        executor: args.executor,
        tsne_threads: args.tsne_threads,
    };
    if args.dry_run {
        if opts.executor != Executor::Slurm {
            bail!("--dry-run prints the Slurm batch script: add --executor slurm");
        }
        match build::slurm_dry_run(project, &opts)? {
            Some(script) => print!("{script}"),
            None => eprintln!("nothing to submit: every selected run is in the store"),
        }
        return Ok(());
    }
    if opts.executor == Executor::Slurm && opts.jobs > 1 {
        bail!(
            "--jobs is for --executor local; on Slurm, max_tasks in [executor.slurm] limits the tasks at once"
        );
    }
    if opts.executor == Executor::Slurm && opts.tsne_threads.is_some() {
        bail!(
            "--tsne-threads is for --executor local; on Slurm, a CUDA task embeds with its cpus_per_task but one"
        );
    }
    let built = build::build(project, &opts)?;
    print!("{}", summary_table(&built));
    println!("{}", built.index.display());
    Ok(())
}

/// The end-of-build table: one line per selected run.
pub fn summary_table(built: &Built) -> String {
    let mut s = format!(
        "{:<24} {:>8} {:>9} {:>9} {:>14} {:>9}\n",
        "run", "result", "train acc", "test acc", "best test", "time"
    );
    let pct = |v: f64| text::percent(v, 1);
    for (spec, stored) in built
        .inventory
        .cached()
        .filter(|(spec, _)| built.selected.contains(&spec.id))
    {
        let record = &stored.record;
        let metrics = &stored.metrics;
        let result = match (&record.status, built.trained.contains(&spec.seed_run())) {
            (RunStatus::Diverged { .. }, _) => "diverged",
            (_, true) => "trained",
            (_, false) => "cached",
        };
        let last = metrics.last();
        let best = metrics
            .epochs
            .iter()
            .max_by(|a, b| a.test_accuracy.total_cmp(&b.test_accuracy))
            .map_or("-".into(), |e| {
                format!("{} (ep {})", pct(e.test_accuracy), e.epoch)
            });
        let seconds = (record.finished - record.started).num_milliseconds() as f64 / 1000.0;
        s.push_str(&format!(
            "{:<24} {:>8} {:>9} {:>9} {:>14} {:>8.0}s\n",
            spec.label(),
            result,
            last.map_or("-".into(), |e| pct(e.train_accuracy)),
            last.map_or("-".into(), |e| pct(e.test_accuracy)),
            best,
            seconds
        ));
    }
    s
}
