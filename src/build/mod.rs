//! `report build`, the whole pipeline: plan → train what the store lacks → analyze →
//! render. The plan is made once, as an [`Inventory`] of every run of the profile, and
//! handed from stage to stage; each stage writes files the next one reads.

pub mod jobs;
pub mod progress;
pub mod run;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use chrono::Utc;

use crate::data;
use crate::fsx;
use crate::plan::spec::SeedRun;
use crate::plan::{Devices, RunId, RunSpec};
use crate::project::{self, Project};
use crate::store::lock::StoreLock;
use crate::store::record::{BuildInfo, DataInfo};
use crate::store::{Inventory, RunState};
use crate::train::DeviceData;
use crate::train::device::{self, DeviceChoice};
use jobs::Schedule;

/// The tch release this binary is built with (pinned in Cargo.toml).
pub const TCH_VERSION: &str = "0.24.0";
/// The libtorch release tch 0.24.0 is built for; torch-sys checks it at build time.
pub const TORCH_VERSION: &str = "2.11.0";

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
    /// Runs trained at once, each in its own process.
    pub jobs: usize,
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

/// Runs a build: trains what is not cached, draws the figures, renders the report.
pub fn build(project: &Project, opts: &BuildOptions) -> Result<Built> {
    let started = Utc::now();
    let specs = project.all_runs(&opts.profile)?;
    project.check_only(&opts.only, &specs)?;
    let source = project.data_source(&opts.profile, opts.data.as_deref())?;
    let fingerprint = data::fingerprint(&source)?;
    let store = &project.store;
    let _lock = StoreLock::acquire(&store.lock_path())?;
    // A killed build may have left half-trained runs behind; nothing reads them.
    let _ = std::fs::remove_dir_all(store.staging_root());
    fsx::remove_stale_temps(&store.runs_root())?;
    fsx::remove_stale_temps(&store.cache_root())?;

    let device = opts.device.resolve()?;
    let devices = Devices {
        kind: device::kind(device),
        reuse_any: opts.reuse_any_device,
    };
    let mut inventory = project.survey(&opts.profile, specs, |_| (fingerprint.clone(), devices));
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
    for run in inventory
        .runs
        .iter()
        .filter(|r| selected.contains(&r.spec.id))
    {
        match &run.state {
            RunState::Cached(_) if !opts.force => {}
            RunState::Damaged(why) => {
                eprintln!("warning: {}: retraining, {why}", run.spec.label());
                todo.push(run);
            }
            _ => todo.push(run),
        }
    }

    let trained: Vec<SeedRun> = todo.iter().map(|r| r.spec.seed_run()).collect();
    if !todo.is_empty() {
        let loaded = Instant::now();
        let dataset = data::load(&source, &store.data_cache())?;
        for run in &todo {
            run::check_classes(&run.spec, dataset.classes.len())?;
        }
        eprintln!(
            "data: {} ({} train, {} test images, {} classes) in {:.1} s; device: {} ({})",
            source.display(),
            dataset.train.len(),
            dataset.test.len(),
            dataset.classes.len(),
            loaded.elapsed().as_secs_f64(),
            device::label(device),
            device::name(device)
        );
        let info = DataInfo::new(&source, &fingerprint, &dataset);
        if opts.jobs > 1 && todo.len() > 1 {
            let specs: Vec<&RunSpec> = todo.iter().map(|r| &r.spec).collect();
            let schedule = Schedule {
                root: &project.root,
                profile: &opts.profile,
                device: opts.device,
                data: &source,
                jobs: opts.jobs,
            };
            jobs::train_concurrently(&schedule, &specs)?;
        } else {
            let on_device = DeviceData::new(&dataset, device);
            for run in todo {
                run::train_one(store, &opts.profile, &run.spec, &run.key, &on_device, &info)?;
            }
        }
    }

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
        torch_version: TORCH_VERSION.to_owned(),
        git_commit: git_describe(&project.root),
        data: source.display().to_string(),
        data_fingerprint: fingerprint,
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
