//! `report build`, the whole pipeline: plan → train what the store lacks → analyze →
//! render. The plan is made once, as an [`Inventory`] of every run of the profile, and
//! handed from stage to stage; each stage writes files the next one reads.

pub mod beside;
pub mod jobs;
pub mod progress;
pub mod run;
pub mod slurm;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use chrono::Utc;

use crate::data::{self, Description};
use crate::experiment::executor::SlurmSettings;
use crate::fsx;
use crate::plan::spec::SeedRun;
use crate::plan::{DeviceKind, Devices, RunId, RunSpec};
use crate::project::{self, Project};
use crate::store::lock::StoreLock;
use crate::store::record::{BuildInfo, DataInfo};
use crate::store::{Inventory, PlannedRun, RunState, Store};
use crate::train::DeviceData;
use crate::train::device::{self, DeviceChoice};
use jobs::{Schedule, WorkerArgs};

/// The tch release this binary is built with (pinned in Cargo.toml).
pub const TCH_VERSION: &str = "0.24.0";
/// The libtorch release tch 0.24.0 is built for; torch-sys checks it at build time.
pub const TORCH_VERSION: &str = "2.11.0";

/// Where the runs a build lacks are trained.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Executor {
    /// On this machine: in the build's process, or in `--jobs` worker processes.
    #[default]
    Local,
    /// As one Slurm array job, one task per run (`[executor.slurm]` in report.toml).
    Slurm,
}

/// Options of `report build`.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Profile name.
    pub profile: String,
    /// Sections or runs to train; all when empty.
    pub only: Vec<String>,
    /// Retrain even cached runs.
    pub force: bool,
    /// Training device.
    pub device: DeviceChoice,
    /// Data source overriding the profile's.
    pub data: Option<PathBuf>,
    /// Reuse runs stored for the same spec on another kind of device.
    pub reuse_any_device: bool,
    /// Runs trained at once, each in its own process (local executor).
    pub jobs: usize,
    /// Where the runs are trained.
    pub executor: Executor,
    /// Cores kept for t-SNE while runs train; `None` for the default of
    /// [`tsne_threads`].
    pub tsne_threads: Option<usize>,
}

/// What a build produced.
#[derive(Debug)]
pub struct Built {
    /// Every run of the profile after the build.
    pub inventory: Inventory,
    /// The runs `--only` selected, in report order.
    pub selected: Vec<RunId>,
    /// The runs this build trained, each seed on its own.
    pub trained: Vec<SeedRun>,
    /// The site's index page.
    pub index: PathBuf,
}

/// What a build found before training anything: what `report build` trains from and
/// `report verify` retrains from.
pub struct Planned {
    /// The resolved data source.
    pub source: PathBuf,
    /// What it holds.
    pub description: Description,
    /// Its fingerprint, part of every run key.
    pub fingerprint: String,
    /// The device kind the runs are keyed with.
    pub devices: Devices,
    /// Every run of the profile, looked up in the store.
    pub inventory: Inventory,
    /// The runs `--only` selected.
    pub selected: Vec<RunId>,
    /// Indices into `inventory.runs` of those a build trains.
    pub todo: Vec<usize>,
}

/// Plans a build: which runs the store lacks. Reads the store, writes nothing.
pub fn plan(project: &Project, opts: &BuildOptions) -> Result<Planned> {
    let data = project.data(&opts.profile, opts.data.as_deref())?;
    let specs = project.all_runs(&opts.profile, &data.description)?;
    project.check_only(&opts.only, &specs)?;
    let fingerprint = data.description.fingerprint.clone();
    let devices = devices(opts)?;
    let inventory = project.survey(&opts.profile, specs, |_| (fingerprint.clone(), devices));
    // The templates and the prose are the author's too: a mistake there fails now, not
    // after hours of training.
    crate::render::preflight(project, &inventory)?;
    let selected: Vec<RunId> = inventory
        .runs
        .iter()
        .filter(|r| project::selected(&opts.only, &r.spec))
        .map(|r| r.spec.id.clone())
        .collect();
    let mut todo = Vec::new();
    for (i, run) in inventory.runs.iter().enumerate() {
        if !selected.contains(&run.spec.id) {
            continue;
        }
        match &run.state {
            RunState::Cached(_) if !opts.force => {}
            RunState::Damaged(why) => {
                eprintln!("warning: {}: retraining, {why}", run.spec.label());
                todo.push(i);
            }
            _ => todo.push(i),
        }
    }
    Ok(Planned {
        source: data.source,
        description: data.description,
        fingerprint,
        devices,
        inventory,
        selected,
        todo,
    })
}

/// The device kind runs are keyed with, and the kinds accepted from the store. A Slurm
/// build does not ask the machine that submits, often a login node without a GPU:
/// asked for CUDA it trusts the nodes to have it; asked for `auto` each task resolves
/// it on its own node and keys its run by what it found, so the build accepts either
/// kind (as `--reuse-any-device` does).
fn devices(opts: &BuildOptions) -> Result<Devices> {
    let reuse_any = opts.reuse_any_device;
    Ok(match (opts.executor, opts.device) {
        (Executor::Slurm, DeviceChoice::Cuda(_)) => Devices {
            kind: DeviceKind::Cuda,
            reuse_any,
        },
        (Executor::Slurm, DeviceChoice::Auto) => Devices {
            kind: DeviceKind::Cpu,
            reuse_any: true,
        },
        (_, choice) => Devices {
            kind: device::kind(choice.resolve()?),
            reuse_any,
        },
    })
}

/// `--executor slurm --dry-run`: the batch script a build would submit now, or `None`
/// when every selected run is cached. Trains, submits and writes nothing.
pub fn slurm_dry_run(project: &Project, opts: &BuildOptions) -> Result<Option<String>> {
    let planned = plan(project, opts)?;
    if planned.todo.is_empty() {
        return Ok(None);
    }
    let settings = project.slurm_settings(&opts.profile);
    submission(
        project,
        opts,
        &planned,
        &planned.todo,
        &project.store,
        &settings,
    )?
    .script()
    .map(Some)
}

/// The array job that trains `planned`'s missing runs on Slurm.
fn submission<'a>(
    project: &'a Project,
    opts: &'a BuildOptions,
    planned: &Planned,
    todo: &[usize],
    into: &'a Store,
    settings: &'a SlurmSettings,
) -> Result<slurm::Submission<'a>> {
    let root = std::path::absolute(&project.root)?;
    let data = std::path::absolute(&planned.source)?;
    let cuda = planned.devices.kind == DeviceKind::Cuda;
    // Inside a task's allocation its GPUs are numbered from 0; `auto` is the task's to
    // resolve on its node.
    let auto = opts.device == DeviceChoice::Auto;
    let device = if cuda {
        DeviceChoice::Cuda(0)
    } else if auto {
        DeviceChoice::Auto
    } else {
        DeviceChoice::Cpu
    };
    let store = (into.out() != project.store.out()).then(|| into.out());
    let schedule = Schedule {
        root: &root,
        profile: &opts.profile,
        device,
        data: &data,
        jobs: 1,
        store,
    };
    // A task's cores, as on one machine: on CUDA all but one embed its snapshots.
    let cpus = settings.cpus() as usize;
    let beside = tsne_threads(None, planned.devices.kind, cpus, 1)?;
    let threads = cpus.saturating_sub(beside).max(1) as i32;
    let tasks = todo
        .iter()
        .map(|&i| {
            let spec = &planned.inventory.runs[i].spec;
            let task = slurm::script::Task {
                label: spec.label(),
                args: WorkerArgs {
                    tsne_threads: beside,
                    ..schedule.worker_args(spec, threads)
                },
            };
            let record = into.run(&opts.profile, &spec.seed_run()).record();
            (task, record)
        })
        .collect();
    Ok(slurm::Submission {
        store: into,
        root: root.clone(),
        profile: &opts.profile,
        settings,
        // `auto` asks for GPUs only where `[executor.slurm]` says how many: a node
        // hides those it was not asked for.
        gpus: if cuda {
            settings.gpus_per_task.unwrap_or(1)
        } else if auto {
            settings.gpus_per_task.unwrap_or(0)
        } else {
            0
        },
        tasks,
    })
}

/// Runs a build: trains what is not cached, draws the figures, renders the report.
pub fn build(project: &Project, opts: &BuildOptions) -> Result<Built> {
    let started = Utc::now();
    let store = &project.store;
    let _lock = StoreLock::acquire(&store.lock_path())?;
    // A killed build may have left half-trained runs behind; nothing reads them.
    let _ = std::fs::remove_dir_all(store.staging_root());
    fsx::remove_stale_temps(&store.runs_root())?;
    fsx::remove_stale_temps(&store.cache_root())?;

    let planned = plan(project, opts)?;
    let devices = planned.devices;
    let source = planned.source.clone();
    let trained: Vec<SeedRun> = planned
        .todo
        .iter()
        .map(|&i| planned.inventory.runs[i].spec.seed_run())
        .collect();
    if !planned.todo.is_empty() {
        train(project, opts, &planned, &planned.todo, store, None)?;
    }

    let Planned {
        mut inventory,
        selected,
        fingerprint,
        description,
        ..
    } = planned;
    inventory.refresh(store, &trained);
    for run in inventory
        .runs
        .iter()
        .filter(|r| selected.contains(&r.spec.id))
    {
        if run.state.cached().is_none() {
            let dir = store.run(&opts.profile, &run.spec.seed_run()).dir;
            anyhow::bail!("{}: not in the store after training", dir.display());
        }
    }
    let info = BuildInfo {
        command: std::env::args().collect(),
        profile: opts.profile.clone(),
        only: opts.only.clone(),
        crate_version: env!("CARGO_PKG_VERSION").to_owned(),
        tch_version: TCH_VERSION.to_owned(),
        torch_version: crate::train::runtime::libtorch_version()
            .unwrap_or_else(|| TORCH_VERSION.to_owned()),
        git_commit: git_describe(&project.root),
        data: source.display().to_string(),
        data_fingerprint: fingerprint,
        data_description: Some(description),
        device: devices.kind,
        reuse_any_device: devices.reuse_any,
        started,
        finished: Utc::now(),
    };
    fsx::write_json(&store.build_info(), &info)?;
    let drawn = Instant::now();
    crate::analyze::figures::analyze(store, &inventory, &project::only_sections(&opts.only))?;
    let figures_seconds = drawn.elapsed().as_secs_f64();
    if figures_seconds > 1.0 {
        eprintln!("figures: {figures_seconds:.1} s");
    }
    let index = crate::render::render(project, &inventory)?;
    Ok(Built {
        inventory,
        selected,
        trained,
        index,
    })
}

/// Trains the runs `todo` (indices into `planned.inventory`) into the store `into`:
/// decodes the data into the project's cache once, then trains in this process, in
/// `--jobs` workers, or as a Slurm array. `threads` sets libtorch's threads per process
/// (local executor); `None` shares the cores as a build does. A build trains into the
/// project's store; `report verify` into a scratch store beside it.
pub fn train(
    project: &Project,
    opts: &BuildOptions,
    planned: &Planned,
    todo: &[usize],
    into: &Store,
    threads: Option<usize>,
) -> Result<()> {
    let store = into;
    let indices = todo;
    let todo: Vec<&PlannedRun> = todo.iter().map(|&i| &planned.inventory.runs[i]).collect();
    // Checked before the data is read: a wrong --tsne-threads fails at once.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let concurrent = opts.jobs > 1 && todo.len() > 1;
    let processes = if concurrent { opts.jobs } else { 1 };
    let beside = tsne_threads(opts.tsne_threads, planned.devices.kind, cores, processes)?;
    // Training shares what t-SNE leaves; one thread each at the least.
    let threads = threads.unwrap_or((cores.saturating_sub(beside) / processes).max(1));
    let loaded = Instant::now();
    let dataset = data::load(
        &planned.source,
        project.data_settings(),
        &project.store.data_cache(),
    )?;
    let device_line = match opts.executor {
        Executor::Local => {
            let device = opts.device.resolve()?;
            format!("{} ({})", device::label(device), device::name(device))
        }
        Executor::Slurm => match (opts.device, planned.devices.kind) {
            (DeviceChoice::Auto, _) => {
                "auto: each Slurm task takes its node's GPU if it was given one, else the CPU"
                    .to_owned()
            }
            (_, DeviceKind::Cpu) => "cpu on the Slurm cluster's nodes".to_owned(),
            (_, DeviceKind::Cuda) => "cuda on the Slurm cluster's nodes".to_owned(),
        },
    };
    eprintln!(
        "data: {} ({} train, {} test images of {}, {} classes) in {:.1} s; device: {device_line}",
        planned.source.display(),
        dataset.train.len(),
        dataset.test.len(),
        dataset.shape,
        dataset.classes.len(),
        loaded.elapsed().as_secs_f64(),
    );
    if opts.executor == Executor::Slurm {
        drop(dataset);
        let settings = project.slurm_settings(&opts.profile);
        return submission(project, opts, planned, indices, into, &settings)?.run();
    }
    let info = DataInfo::new(&planned.source, &planned.fingerprint, &dataset);
    if concurrent {
        let specs: Vec<&RunSpec> = todo.iter().map(|r| &r.spec).collect();
        let schedule = Schedule {
            root: &project.root,
            profile: &opts.profile,
            device: opts.device,
            data: &planned.source,
            jobs: opts.jobs,
            store: (into.out() != project.store.out()).then(|| into.out()),
        };
        // Each worker embeds its own run's snapshots with its share of the kept cores.
        let each = beside.div_ceil(processes);
        return jobs::train_concurrently(&schedule, &specs, threads, each);
    }
    let device = opts.device.resolve()?;
    let on_device = DeviceData::new(&dataset, device);
    tch::set_num_threads(threads as i32);
    let trained = beside::with_beside(store, beside, |beside| {
        todo.iter().try_for_each(|run| {
            let (spec, key) = (&run.spec, &run.key);
            run::train_one(store, &opts.profile, spec, key, &on_device, &info, beside)
        })
    });
    tch::set_num_threads(cores as i32);
    trained
}

/// Cores kept for t-SNE while runs train in `processes` local processes: `asked`
/// (`--tsne-threads`), else on CUDA the cores training leaves free (each process needs
/// one to launch its kernels) and on the CPU none, since training uses every core and
/// embeddings beside it would only slow it down by as much.
pub fn tsne_threads(
    asked: Option<usize>,
    kind: DeviceKind,
    cores: usize,
    processes: usize,
) -> Result<usize> {
    match (asked, kind) {
        (Some(k), DeviceKind::Cpu) if k >= cores => anyhow::bail!(
            "--tsne-threads {k}: this machine has {cores} core{} and CPU training needs one at least",
            if cores == 1 { "" } else { "s" }
        ),
        (Some(k), _) => Ok(k),
        (None, DeviceKind::Cuda) => Ok(cores.saturating_sub(processes)),
        (None, DeviceKind::Cpu) => Ok(0),
    }
}

/// `git describe --always --dirty` of the project, if it is a git checkout.
fn git_describe(root: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsne_keeps_the_cores_cuda_training_leaves_and_none_of_a_cpu_builds() {
        // 16 cores, 4 GPU training processes of one launching core each.
        assert_eq!(tsne_threads(None, DeviceKind::Cuda, 16, 4).unwrap(), 12);
        assert_eq!(tsne_threads(None, DeviceKind::Cuda, 4, 11).unwrap(), 0);
        assert_eq!(tsne_threads(None, DeviceKind::Cpu, 16, 1).unwrap(), 0);
        assert_eq!(tsne_threads(Some(3), DeviceKind::Cuda, 16, 4).unwrap(), 3);
        assert_eq!(tsne_threads(Some(1), DeviceKind::Cpu, 2, 1).unwrap(), 1);
        let err = tsne_threads(Some(2), DeviceKind::Cpu, 2, 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--tsne-threads 2: this machine has 2 cores and CPU training needs one at least"
        );
    }
}
