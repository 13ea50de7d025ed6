//! `report verify`: retrains a sample of the stored runs from their specs into a scratch
//! store (`out/.verify/`), compares each with its record ([`rule`]), judges every claim
//! again with the retrained runs in place of the stored ones, and writes
//! `out/verify.json`. No stored run is written: the scratch store has its own runs,
//! staging and logs; only the data's decoded copy is shared, which is read.
//!
//! It reuses the build's plan and training (`build::plan`, `build::train`), so a run
//! retrains exactly as `report build` would train it: in this process, in `--jobs`
//! workers or as a Slurm array.

pub mod pick;
pub mod rule;

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::Utc;

use crate::build::{self, BuildOptions, Executor};
use crate::fsx;
use crate::plan::Devices;
use crate::project::Project;
use crate::render::context::{self, ClaimRow};
use crate::store::lock::StoreLock;
use crate::store::record::{self, Verified};
use crate::store::verification::{
    ClaimCheck, Place, SampleInfo, Setting, VERIFICATION_FORMAT, Verification, VerifiedRun,
    VerifyOutcome,
};
use crate::store::{Metrics, RunState, RunStatus, Store};
use crate::train::device::DeviceChoice;
use rule::{Side, Tolerances};

/// Options of `report verify`.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Profile.
    pub profile: String,
    /// Sections or runs to pick from; all when empty.
    pub only: Vec<String>,
    /// Which runs to retrain.
    pub sample: SampleInfo,
    /// libtorch threads per training process; `None`: each run's recorded count (in
    /// this process), or the build's share of the cores (`--jobs`, Slurm).
    pub threads: Option<usize>,
    /// Training device.
    pub device: DeviceChoice,
    /// Where the runs are retrained.
    pub executor: Executor,
    /// Runs retrained at once (local executor).
    pub jobs: usize,
    /// Data source overriding the profile's.
    pub data: Option<PathBuf>,
}

/// Verifies `opts.profile`'s stored runs and writes `out/verify.json`.
pub fn verify(project: &Project, opts: &VerifyOptions) -> Result<Verification> {
    let store = &project.store;
    let _lock = StoreLock::acquire(&store.lock_path())?;
    let build_opts = BuildOptions {
        profile: opts.profile.clone(),
        only: opts.only.clone(),
        force: false,
        device: opts.device,
        data: opts.data.clone(),
        // A run stored on another kind of device is still the run to verify.
        reuse_any_device: true,
        jobs: opts.jobs,
        executor: opts.executor,
        tsne_threads: (opts.executor == Executor::Local).then_some(0),
    };
    let planned = build::plan(project, &build_opts)?;
    let inventory = &planned.inventory;
    let picked = pick::pick(inventory, &planned.selected, &opts.sample);
    if picked.is_empty() {
        anyhow::bail!(
            "profile {}: no stored run to verify: run “report build --profile {}” first",
            opts.profile,
            opts.profile
        );
    }

    let scratch = store.verify_scratch();
    if scratch.out().exists() {
        std::fs::remove_dir_all(scratch.out())
            .with_context(|| format!("{}: cannot empty", scratch.out().display()))?;
    }
    let retrain: Vec<usize> = picked
        .iter()
        .copied()
        .filter(|&i| inventory.runs[i].state.cached().is_some())
        .collect();
    retrain_all(project, &build_opts, &planned, &retrain, &scratch, opts)?;

    let settings = &project.experiments.report;
    let tolerances = Tolerances {
        accuracy_pp: settings.verify.tolerance_pp,
        loss: settings.verify.tolerance_loss,
        margin_pp: settings.statistics.margin_pp,
    };
    let runs = picked
        .iter()
        .map(|&i| verified_run(inventory, i, &scratch, &tolerances))
        .collect::<Result<Vec<_>>>()?;
    let claims = claims_again(project, &planned, &scratch)?;
    let verification = Verification {
        format: VERIFICATION_FORMAT,
        profile: opts.profile.clone(),
        command: std::env::args().collect(),
        verified_at: Utc::now(),
        sample: opts.sample.clone(),
        runs,
        claims,
    };
    fsx::write_json(&store.verification(), &verification)?;
    Ok(verification)
}

/// Retrains `todo` into `scratch`: with the asked thread count, or in this process
/// grouped by each run's recorded count so that a run can come back bit for bit.
fn retrain_all(
    project: &Project,
    build_opts: &BuildOptions,
    planned: &build::Planned,
    todo: &[usize],
    scratch: &Store,
    opts: &VerifyOptions,
) -> Result<()> {
    if todo.is_empty() {
        return Ok(());
    }
    let recorded = opts.threads.is_none() && opts.executor == Executor::Local && opts.jobs == 1;
    if !recorded {
        return build::train(project, build_opts, planned, todo, scratch, opts.threads);
    }
    let threads_of = |i: usize| {
        planned.inventory.runs[i]
            .state
            .cached()
            .map_or(1, |s| s.record.threads.max(1) as usize)
    };
    let mut counts: Vec<usize> = todo.iter().map(|&i| threads_of(i)).collect();
    counts.sort_unstable();
    counts.dedup();
    for n in counts {
        let group: Vec<usize> = todo
            .iter()
            .copied()
            .filter(|&i| threads_of(i) == n)
            .collect();
        build::train(project, build_opts, planned, &group, scratch, Some(n))?;
    }
    Ok(())
}

/// The verdict on one picked run: damaged without training, else the rule's.
fn verified_run(
    inventory: &crate::store::Inventory,
    i: usize,
    scratch: &Store,
    tolerances: &Tolerances,
) -> Result<VerifiedRun> {
    let run = &inventory.runs[i];
    let spec = &run.spec;
    let seed_run = spec.seed_run();
    // As the store lays it out: the variant named even where the report leaves it out.
    let name = format!(
        "{}/{}/seed-{}",
        spec.id.section, spec.id.variant, spec.train.seed
    );
    let base = |outcome, reason: String, place, metrics, rule| VerifiedRun {
        run: name.clone(),
        section: spec.id.section.clone(),
        variant: spec.id.variant.clone(),
        seed: spec.train.seed,
        outcome,
        rule,
        reason,
        place,
        metrics,
    };
    let stored = match &run.state {
        RunState::Cached(s) => s,
        RunState::Damaged(why) => {
            let place = Place {
                stored: unknown_setting(),
                retrained: None,
                differences: vec![],
            };
            return Ok(base(VerifyOutcome::Damaged, why.clone(), place, None, None));
        }
        other => unreachable!("picked only stored runs, got {other}"),
    };
    let files = scratch.run(&inventory.profile, &seed_run);
    let retrained = match record::verify(&files) {
        Verified::Intact(r) => *r,
        Verified::Absent => anyhow::bail!("{}: not retrained", files.dir.display()),
        Verified::Damaged(why) => anyhow::bail!("the retrained run is damaged: {why}"),
    };
    let metrics: Metrics = fsx::read_json(&files.metrics_json())?;
    // Every complete stored seed of the same run: the spread a retraining is held to.
    let seeds: Vec<f64> = inventory
        .runs
        .iter()
        .filter(|r| r.spec.id == spec.id)
        .filter_map(|r| r.state.cached())
        .filter(|s| s.record.status == RunStatus::Complete)
        .filter_map(|s| s.metrics.last().map(|m| m.test_accuracy))
        .collect();
    let test_images = stored.record.data.test.max(1);
    let judged = rule::judge(
        Side {
            record: &stored.record,
            metrics: &stored.metrics,
        },
        Side {
            record: &retrained,
            metrics: &metrics,
        },
        &seeds,
        1.0 / test_images as f64,
        tolerances,
    );
    let place = Place {
        stored: Setting::of(&stored.record),
        retrained: Some(Setting::of(&retrained)),
        differences: judged.differences,
    };
    Ok(base(
        judged.outcome,
        judged.reason,
        place,
        Some(judged.metrics),
        Some(judged.rule),
    ))
}

/// What a damaged record can no longer say.
fn unknown_setting() -> Setting {
    Setting {
        device: "unknown".into(),
        device_name: "unknown".into(),
        threads: 0,
        torch_version: None,
        numerics: None,
    }
}

/// Every claim judged on the stored runs and again over `scratch`, where every stored
/// run not retrained is linked beside the retrained ones.
fn claims_again(
    project: &Project,
    planned: &build::Planned,
    scratch: &Store,
) -> Result<Vec<ClaimCheck>> {
    let store = &project.store;
    let profile = planned.inventory.profile.as_str();
    for run in &planned.inventory.runs {
        if run.state.cached().is_none() {
            continue;
        }
        let seed_run = run.spec.seed_run();
        let target = scratch.run(profile, &seed_run);
        if !target.record().exists() {
            fsx::link_tree(&store.run(profile, &seed_run).dir, &target.dir)?;
        }
    }
    if store.build_info().exists() {
        fsx::link_tree(&store.build_info(), &scratch.build_info())?;
    }
    let view = project.with_store(scratch.clone());
    let specs = planned
        .inventory
        .runs
        .iter()
        .map(|r| r.spec.clone())
        .collect();
    let fingerprint = planned.fingerprint.clone();
    let devices = Devices {
        kind: planned.devices.kind,
        reuse_any: true,
    };
    let again = view.survey(profile, specs, |_| (fingerprint.clone(), devices));
    let before = context::assemble(project, &planned.inventory)?.claims;
    let after = context::assemble(&view, &again)?.claims;
    Ok(before
        .iter()
        .zip(&after)
        .map(|(a, b): (&ClaimRow, &ClaimRow)| ClaimCheck {
            run: a.run.title.clone(),
            claim: a.claim.clone(),
            stored: a.outcome,
            verified: b.outcome,
            flipped: a.outcome != b.outcome,
        })
        .collect())
}
