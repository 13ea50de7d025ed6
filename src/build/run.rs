//! One run trained into its staging folder and moved into place whole: what a
//! sequential build does for each run and what a `--jobs` worker does for its one.

use anyhow::{Context, Result};
use chrono::Utc;

use super::beside::Beside;
use super::progress::RunProgress;
use crate::fsx;
use crate::plan::{RunKey, RunSpec};
use crate::store::record::{self, DataInfo, RECORD_FORMAT};
use crate::store::{RunRecord, RunStatus, Store};
use crate::text;
use crate::train::{self, DeviceData, Taken, device};

/// Trains `spec` of `profile` on `data` and moves the finished run into the store,
/// handing each snapshot to `beside` as soon as it is written.
pub fn train_one<'a>(
    store: &Store,
    profile: &str,
    spec: &'a RunSpec,
    key: &RunKey,
    data: &DeviceData,
    info: &DataInfo,
    beside: Option<&Beside<'_, 'a>>,
) -> Result<()> {
    let staging = store.staging(profile, &spec.seed_run());
    std::fs::create_dir_all(&staging.dir)
        .with_context(|| format!("{}: cannot create folder", staging.dir.display()))?;
    let batches = (data.train_len() + spec.train.batch_size - 1) / spec.train.batch_size;
    let progress = RunProgress::start(&spec.label(), spec.train.epochs, batches);
    let started = Utc::now();
    let kind = device::kind(data.device);
    let taken = |snap: &Taken<'_>| {
        if let Some(beside) = beside {
            beside.taken(spec, kind, snap);
        }
    };
    let outcome = match train::train(spec, data, &staging, &progress, &taken) {
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
        key: key.clone(),
        id: spec.id.clone(),
        profile: profile.to_owned(),
        status: outcome.status.clone(),
        device: device::label(data.device),
        device_name: device::name(data.device),
        threads: tch::get_num_threads(),
        torch_version: train::runtime::libtorch_version(),
        numerics: Some(outcome.numerics),
        data: info.clone(),
        started,
        finished,
        snapshots: outcome.snapshots,
        files: record::digest_files(&staging, &outcome.files)?,
    };
    fsx::write_json(&staging.record(), &record)?;
    fsx::replace_dir(&staging.dir, &store.run(profile, &spec.seed_run()).dir)?;
    let _ = std::fs::remove_dir(store.staging_root());
    let last = outcome.metrics.last();
    progress.finish(&match (&outcome.status, last) {
        (RunStatus::Complete, Some(m)) => format!(
            "done: train {}, test {}, {:.0} s",
            text::percent(m.train_accuracy, 1),
            text::percent(m.test_accuracy, 1),
            (finished - started).num_milliseconds() as f64 / 1000.0
        ),
        (RunStatus::Complete, None) => "done".into(),
        (status, _) => status.to_string(),
    });
    Ok(())
}
