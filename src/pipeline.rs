//! `report build`: plan → train what is not cached → (analyze → render, in later
//! stages). Each stage reads the previous one's files in the store.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::Utc;

use crate::data;
use crate::fsx;
use crate::plan::{RunId, RunKey, RunSpec};
use crate::progress::RunProgress;
use crate::project::Project;
use crate::store::lock::StoreLock;
use crate::store::record::{self, BuildInfo, DataInfo, RECORD_FORMAT};
use crate::store::{RunRecord, RunState, RunStatus};
use crate::train::device::{self, DeviceChoice};
use crate::train::{self, DeviceData};

/// Options of `report build`.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Profile name.
    pub profile: String,
    /// Sections to build; all when empty.
    pub only: Vec<String>,
    /// Retrain even cached runs.
    pub force: bool,
    /// Training device.
    pub device: DeviceChoice,
    /// Data source overriding the profile's.
    pub data: Option<PathBuf>,
    /// Runs trained at once, each in its own process.
    pub jobs: usize,
}

/// What happened to one run in a build.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The run.
    pub spec: RunSpec,
    /// Its record after the build.
    pub record: RunRecord,
    /// Final metrics.
    pub metrics: crate::store::Metrics,
    /// Whether this build trained it.
    pub trained: bool,
}

/// What a build produced.
#[derive(Debug)]
pub struct Built {
    /// One report per run, in report order.
    pub runs: Vec<RunReport>,
    /// The site's index page.
    pub index: std::path::PathBuf,
}

/// Runs a build: trains what is not cached, draws the figures, renders the report.
pub fn build(project: &Project, opts: &BuildOptions) -> Result<Built> {
    let started = Utc::now();
    let specs = project.runs(&opts.profile, &opts.only)?;
    let source = project.data_source(&opts.profile, opts.data.as_deref())?;
    let fingerprint = data::fingerprint(&source)?;
    let store = &project.store;
    let _lock = StoreLock::acquire(&store.lock_path())?;
    // A killed build may have left half-trained runs behind; nothing reads them.
    let _ = std::fs::remove_dir_all(store.staging_root());
    fsx::remove_stale_temps(&store.out().join("runs"))?;
    fsx::remove_stale_temps(&store.out().join("cache"))?;

    let mut todo = Vec::new();
    for spec in &specs {
        let key = RunKey::of(spec, &fingerprint);
        let files = store.run(&opts.profile, &spec.id);
        match record::inspect(&files, &key) {
            RunState::Cached(_) if !opts.force => {}
            RunState::Damaged(why) => {
                eprintln!("warning: {}: retraining, {why}", spec.id);
                todo.push((spec, key));
            }
            _ => todo.push((spec, key)),
        }
    }

    let trained: Vec<RunId> = todo.iter().map(|(s, _)| s.id.clone()).collect();
    if !todo.is_empty() {
        let device = opts.device.resolve()?;
        let loaded = Instant::now();
        let dataset = data::load(&source, &store.data_cache())?;
        for (spec, _) in &todo {
            check_classes(spec, dataset.classes.len())?;
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
        let info = DataInfo {
            source: source.display().to_string(),
            fingerprint: fingerprint.clone(),
            train: dataset.train.len(),
            test: dataset.test.len(),
        };
        if opts.jobs > 1 && todo.len() > 1 {
            let specs: Vec<&RunSpec> = todo.iter().map(|(s, _)| *s).collect();
            crate::jobs::train_concurrently(project, opts, &source, &specs)?;
        } else {
            let on_device = DeviceData::new(&dataset, device);
            for (spec, key) in todo {
                train_one(project, opts, spec, key, &on_device, &info)?;
            }
        }
    }

    let reports = specs
        .into_iter()
        .map(|spec| {
            let files = store.run(&opts.profile, &spec.id);
            let key = RunKey::of(&spec, &fingerprint);
            let RunState::Cached(record) = record::inspect(&files, &key) else {
                anyhow::bail!("{}: not in the store after training", files.dir.display());
            };
            let metrics = fsx::read_json(&files.metrics_json())?;
            let trained = trained.contains(&spec.id);
            Ok(RunReport {
                spec,
                record: *record,
                metrics,
                trained,
            })
        })
        .collect::<Result<Vec<_>>>()?;
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
        started,
        finished: Utc::now(),
    };
    fsx::write_json(&store.build_info(), &info)?;
    let sections: Vec<String> = opts
        .only
        .iter()
        .map(|o| o.split('/').next().unwrap_or(o).to_owned())
        .collect();
    let drawn = Instant::now();
    crate::analyze::figures::analyze(project, &opts.profile, &info.data_fingerprint, &sections)?;
    let figures_seconds = drawn.elapsed().as_secs_f64();
    if figures_seconds > 1.0 {
        eprintln!("figures: {figures_seconds:.1} s");
    }
    let index = crate::render::render(project, &opts.profile)?;
    Ok(Built {
        runs: reports,
        index,
    })
}

/// The tch release this binary is built with (pinned in Cargo.toml).
pub const TCH_VERSION: &str = "0.24.0";
/// The libtorch release tch 0.24.0 is built for; torch-sys checks it at build time.
pub const TORCH_VERSION: &str = "2.11.0";

/// `git describe --always --dirty` of the project, if it is a git checkout.
fn git_describe(root: &std::path::Path) -> Option<String> {
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

/// Trains one run into its staging folder and moves it into place when complete.
pub fn train_one(
    project: &Project,
    opts: &BuildOptions,
    spec: &RunSpec,
    key: RunKey,
    data: &DeviceData,
    info: &DataInfo,
) -> Result<()> {
    let store = &project.store;
    let staging = store.staging(&opts.profile, &spec.id);
    std::fs::create_dir_all(&staging.dir)
        .with_context(|| format!("{}: cannot create folder", staging.dir.display()))?;
    let batches = (data.train_len() + spec.train.batch_size - 1) / spec.train.batch_size;
    let progress = RunProgress::start(&spec.id.to_string(), spec.train.epochs, batches);
    let started = Utc::now();
    let outcome = match train::train(spec, data, &staging, &progress) {
        Ok(o) => o,
        Err(e) => {
            progress.finish("stopped");
            let _ = std::fs::remove_dir_all(&staging.dir);
            let _ = std::fs::remove_dir(store.staging_root());
            return Err(e);
        }
    };
    let finished = Utc::now();
    let record = RunRecord {
        format: RECORD_FORMAT,
        key,
        id: spec.id.clone(),
        profile: opts.profile.clone(),
        status: outcome.status.clone(),
        device: device::label(data.device),
        device_name: device::name(data.device),
        threads: tch::get_num_threads(),
        data: info.clone(),
        started,
        finished,
        snapshots: outcome.snapshots,
        files: record::digest_files(&staging, &outcome.files)?,
    };
    fsx::write_json(&staging.record(), &record)?;
    fsx::replace_dir(&staging.dir, &store.run(&opts.profile, &spec.id).dir)?;
    let _ = std::fs::remove_dir(store.staging_root());
    let last = outcome.metrics.last();
    progress.finish(&match (&outcome.status, last) {
        (RunStatus::Diverged { epoch }, _) => format!("diverged in epoch {epoch}"),
        (RunStatus::Complete, Some(m)) => format!(
            "done: train {:.1} %, test {:.1} %, {:.0} s",
            100.0 * m.train_accuracy,
            100.0 * m.test_accuracy,
            (finished - started).num_milliseconds() as f64 / 1000.0
        ),
        (RunStatus::Complete, None) => "done".into(),
    });
    Ok(())
}

/// The model's last layer must score every class of the data; checked for every run
/// before the first one trains.
fn check_classes(spec: &RunSpec, classes: usize) -> Result<()> {
    let outputs = spec.shapes.last().map_or(0, |s| s.output.numel());
    if outputs != classes as i64 {
        anyhow::bail!(
            "{}: the last layer outputs {outputs} values but the data has {classes} classes",
            spec.source.display()
        );
    }
    Ok(())
}
