//! `--jobs N`: independent runs trained at once, each in its own `report` process.
//!
//! Processes rather than threads because libtorch's random generator is global: runs
//! sharing a process would draw from one stream and lose their reproducibility. The
//! parent holds the store lock and schedules the costliest runs first, so the build
//! ends soon after its longest run; each worker trains one run into its own staging
//! folder and moves it into place, exactly as a sequential build does.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::plan::RunSpec;
use crate::plan::layer::LayerOp;
use crate::plan::shape::Shape;
use crate::train::device::DeviceChoice;

/// The hidden subcommand a worker runs.
pub const WORKER_COMMAND: &str = "__train-run";

/// What a worker is told: the parent writes these with [`WorkerArgs::to_args`] and the
/// worker's command line parses them back with the same type.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct WorkerArgs {
    /// The profile.
    #[arg(long)]
    pub profile: String,
    /// The run: `section` or `section/variant`.
    #[arg(long)]
    pub run: String,
    /// Its seed.
    #[arg(long)]
    pub seed: u64,
    /// The training device, as the parent was given it.
    #[arg(long)]
    pub device: DeviceChoice,
    /// libtorch threads: the parent's cores shared among its workers.
    #[arg(long)]
    pub threads: i32,
    /// The data source the parent resolved.
    #[arg(long)]
    pub data: PathBuf,
    /// Threads that embed the run's snapshots while it trains (none on Slurm).
    #[arg(long, default_value_t = 0)]
    pub tsne_threads: usize,
    /// The store to train into, when not the project's `out/` (`report verify`'s
    /// scratch store).
    #[arg(long)]
    pub store: Option<PathBuf>,
}

impl WorkerArgs {
    /// The arguments after the program name, `--root` and the subcommand.
    pub fn to_args(&self) -> Vec<OsString> {
        vec![
            "--profile".into(),
            self.profile.clone().into(),
            "--run".into(),
            self.run.clone().into(),
            "--seed".into(),
            self.seed.to_string().into(),
            "--device".into(),
            self.device.to_string().into(),
            "--threads".into(),
            self.threads.to_string().into(),
            "--data".into(),
            self.data.clone().into(),
            "--tsne-threads".into(),
            self.tsne_threads.to_string().into(),
        ]
        .into_iter()
        .chain(
            self.store
                .iter()
                .flat_map(|s| [OsString::from("--store"), s.clone().into()]),
        )
        .collect()
    }
}

/// What every worker of one build shares.
#[derive(Debug)]
pub struct Schedule<'a> {
    /// The project root, handed to each worker as `--root`.
    pub root: &'a Path,
    /// The profile.
    pub profile: &'a str,
    /// The device as given on the command line.
    pub device: DeviceChoice,
    /// The resolved data source.
    pub data: &'a Path,
    /// Workers at once.
    pub jobs: usize,
    /// The store the workers train into, when not the project's.
    pub store: Option<&'a Path>,
}

impl Schedule<'_> {
    /// What the worker training `spec` with `threads` libtorch threads is told.
    pub fn worker_args(&self, spec: &RunSpec, threads: i32) -> WorkerArgs {
        WorkerArgs {
            profile: self.profile.to_owned(),
            run: spec.id.to_string(),
            seed: spec.train.seed,
            device: self.device,
            threads,
            data: self.data.to_path_buf(),
            tsne_threads: 0,
            store: self.store.map(Path::to_path_buf),
        }
    }
}

/// Trains `specs` with up to `schedule.jobs` worker processes, longest first, each with
/// `threads` libtorch threads and `tsne_threads` for its snapshots' t-SNE.
pub fn train_concurrently(
    schedule: &Schedule<'_>,
    specs: &[&RunSpec],
    threads: usize,
    tsne_threads: usize,
) -> Result<()> {
    let mut queue: Vec<&RunSpec> = specs.to_vec();
    queue.sort_by_key(|s| std::cmp::Reverse(cost(s)));
    let exe = std::env::current_exe().context("cannot find the report binary")?;
    let mut running: Vec<(&RunSpec, Child)> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    let mut interrupted = false;
    while !queue.is_empty() || !running.is_empty() {
        while running.len() < schedule.jobs && failed.is_empty() && !crate::interrupt::requested() {
            let Some(spec) = queue.first().copied() else {
                break;
            };
            queue.remove(0);
            let args = WorkerArgs {
                tsne_threads,
                ..schedule.worker_args(spec, threads as i32)
            };
            let child = Command::new(&exe)
                .arg("--root")
                .arg(schedule.root)
                .arg(WORKER_COMMAND)
                .args(args.to_args())
                .env("REPORT_PROGRESS", "plain")
                .spawn()
                .context("cannot start a training process")?;
            running.push((spec, child));
        }
        if queue.is_empty() && running.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        let mut still = Vec::new();
        for (spec, mut child) in running {
            match child.try_wait()? {
                None => still.push((spec, child)),
                Some(status) if status.success() => {}
                Some(status) => {
                    interrupted |= status.code() == Some(130);
                    failed.push(format!("{} ({status})", spec.label()));
                }
            }
        }
        running = still;
        if !failed.is_empty() || crate::interrupt::requested() {
            queue.clear();
        }
    }
    if interrupted || crate::interrupt::requested() {
        return Err(crate::interrupt::Interrupted.into());
    }
    if !failed.is_empty() {
        bail!(
            "training failed for {}; see the messages above",
            failed.join(", ")
        );
    }
    Ok(())
}

/// Multiply-accumulates of one forward pass: the scheduler's estimate of a run's cost.
fn cost(spec: &RunSpec) -> i64 {
    let mut channels = 3;
    let mut macs = 0;
    for s in &spec.shapes {
        macs += match (&s.op, s.output) {
            (LayerOp::Conv { kernel, .. }, Shape::Image([c, h, w])) => {
                c * h * w * channels * kernel * kernel
            }
            (LayerOp::Linear { .. }, _) => s.params,
            _ => 0,
        };
        if let Shape::Image([c, ..]) = s.output {
            channels = c;
        }
    }
    macs * spec.train.epochs
}
