//! `--jobs N`: independent runs trained at once, each in its own `report` process.
//!
//! Processes rather than threads because libtorch's random generator is global: runs
//! sharing a process would draw from one stream and lose their reproducibility. The
//! parent holds the store lock and schedules the costliest runs first, so the build
//! ends soon after its longest run; each worker trains one run into its own staging
//! folder and moves it into place, exactly as a sequential build does.

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::data;
use crate::pipeline::{self, BuildOptions};
use crate::plan::{RunKey, RunSpec};
use crate::project::Project;
use crate::store::record::DataInfo;
use crate::train::DeviceData;
use crate::train::device::DeviceChoice;

/// The hidden subcommand a worker runs.
pub const WORKER_COMMAND: &str = "__train-run";

/// Trains `specs` with up to `opts.jobs` worker processes, longest first.
pub fn train_concurrently(
    project: &Project,
    opts: &BuildOptions,
    source: &Path,
    specs: &[&RunSpec],
) -> Result<()> {
    let mut queue: Vec<&RunSpec> = specs.to_vec();
    queue.sort_by_key(|s| std::cmp::Reverse(cost(s)));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = (cores / opts.jobs).max(1);
    let exe = std::env::current_exe().context("cannot find the report binary")?;
    let mut running: Vec<(String, Child)> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    let mut interrupted = false;
    while !queue.is_empty() || !running.is_empty() {
        while running.len() < opts.jobs && failed.is_empty() && !crate::interrupt::requested() {
            let Some(spec) = queue.first().copied() else {
                break;
            };
            queue.remove(0);
            let child = Command::new(&exe)
                .arg("--root")
                .arg(&project.root)
                .args([
                    WORKER_COMMAND,
                    "--profile",
                    &opts.profile,
                    "--run",
                    &spec.id.to_string(),
                ])
                .args([
                    "--device",
                    &device_arg(opts.device),
                    "--threads",
                    &threads.to_string(),
                ])
                .arg("--data")
                .arg(source)
                .env("REPORT_PROGRESS", "plain")
                .spawn()
                .context("cannot start a training process")?;
            running.push((spec.id.to_string(), child));
        }
        if queue.is_empty() && running.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        let mut still = Vec::new();
        for (id, mut child) in running {
            match child.try_wait()? {
                None => still.push((id, child)),
                Some(status) if status.success() => {}
                Some(status) => {
                    interrupted |= status.code() == Some(130);
                    failed.push(format!("{id} ({status})"));
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

/// A worker: trains one run of `profile`, named `section` or `section/variant`.
pub fn worker(
    project: &Project,
    profile: &str,
    run: &str,
    device: DeviceChoice,
    threads: i32,
    source: &Path,
) -> Result<()> {
    tch::set_num_threads(threads);
    let specs = project.runs(profile, &[run.to_owned()])?;
    let [spec] = &specs[..] else {
        bail!("{run}: expected exactly one run")
    };
    let fingerprint = data::fingerprint(source)?;
    let dataset = data::load(source, &project.store.data_cache())?;
    let device = device.resolve()?;
    let info = DataInfo {
        source: source.display().to_string(),
        fingerprint: fingerprint.clone(),
        train: dataset.train.len(),
        test: dataset.test.len(),
    };
    let on_device = DeviceData::new(&dataset, device);
    drop(dataset);
    let opts = BuildOptions {
        profile: profile.to_owned(),
        only: vec![run.to_owned()],
        force: true,
        device: DeviceChoice::Cpu,
        data: Some(source.to_path_buf()),
        jobs: 1,
    };
    pipeline::train_one(
        project,
        &opts,
        spec,
        RunKey::of(spec, &fingerprint),
        &on_device,
        &info,
    )
}

/// Multiply-accumulates of one forward pass: the scheduler's estimate of a run's cost.
fn cost(spec: &RunSpec) -> i64 {
    use crate::plan::shape::Shape;
    use crate::plan::spec::LayerOp;
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

fn device_arg(d: DeviceChoice) -> String {
    match d {
        DeviceChoice::Auto => "auto".into(),
        DeviceChoice::Cpu => "cpu".into(),
        DeviceChoice::Cuda(n) => format!("cuda:{n}"),
    }
}
