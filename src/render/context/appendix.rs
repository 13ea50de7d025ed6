//! The reproducibility appendix: the build's command line and versions, the devices
//! and data the runs trained on, and each run's provenance.

use super::model::{BuildEntry, Provenance, Reproducibility, RunRepro};
use super::runs::Runs;
use crate::fsx;
use crate::store::Store;
use crate::store::record::BuildInfo;
use crate::text;

/// `build.json` when it is for `profile`; its data fingerprint is then the one runs are
/// checked against. Any other one is set aside with a warning.
pub(super) fn read_build_info(
    store: &Store,
    profile: &str,
    warnings: &mut Vec<String>,
) -> Option<BuildInfo> {
    let path = store.build_info();
    if !path.exists() {
        warnings.push(format!(
            "{}: not found, so the appendix lacks the build's details: run “report build --profile {profile}”",
            path.display()
        ));
        return None;
    }
    match fsx::read_json::<BuildInfo>(&path) {
        Ok(b) if b.profile == profile => Some(b),
        Ok(b) => {
            warnings.push(format!(
                "{} is for profile {}, not {profile}: the appendix lacks the build's details",
                path.display(),
                b.profile
            ));
            None
        }
        Err(e) => {
            warnings.push(format!("{e:#}: ignored"));
            None
        }
    }
}

/// The appendix: how the build ran and where each run trained.
pub(super) fn reproducibility(all: &Runs<'_>, build: Option<&BuildInfo>) -> Reproducibility {
    let mut devices: Vec<String> = Vec::new();
    let mut data: Vec<String> = Vec::new();
    let mut seeds: Vec<u64> = Vec::new();
    let mut threads: Vec<i32> = Vec::new();
    let mut runs = Vec::new();
    for l in &all.loaded {
        if let Some(r) = l.record() {
            let d = format!("{} ({})", r.device, r.device_name);
            if !devices.contains(&d) {
                devices.push(d);
            }
            let d = format!(
                "{} ({} / {} images, fingerprint {})",
                r.data.source,
                text::thousands(r.data.train as i64),
                text::thousands(r.data.test as i64),
                text::short_digest(&r.data.fingerprint)
            );
            if !data.contains(&d) {
                data.push(d);
            }
            if r.device == "cpu" && !threads.contains(&r.threads) {
                threads.push(r.threads);
            }
        }
        if !seeds.contains(&l.spec.train.seed) {
            seeds.push(l.spec.train.seed);
        }
        runs.push(RunRepro {
            run: all.link(l.spec),
            seed: l.spec.train.seed,
            status: l.status.clone(),
            provenance: l.record().map(Provenance::of),
            time: l.record().map(|r| {
                text::duration((r.finished - r.started).num_milliseconds() as f64 / 1000.0)
            }),
        });
    }
    Reproducibility {
        build: build.map(|b| BuildEntry {
            command: shell_join(&b.command),
            profile: b.profile.clone(),
            only: b.only.clone(),
            crate_version: b.crate_version.clone(),
            git_commit: b.git_commit.clone(),
            tch_version: b.tch_version.clone(),
            torch_version: b.torch_version.clone(),
            data: b.data.clone(),
            data_fingerprint: b.data_fingerprint.clone(),
            started: text::timestamp(&b.started),
            finished: text::timestamp(&b.finished),
        }),
        devices,
        data,
        seeds,
        threads_note: threads_note(&threads),
        threads,
        runs,
        renderer_version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// What a reader must know when CPU runs trained with different thread counts: the
/// sums of libtorch's reductions then run in another order.
fn threads_note(threads: &[i32]) -> Option<String> {
    let mut sorted = threads.to_vec();
    sorted.sort_unstable();
    (sorted.len() > 1).then(|| {
        let list: Vec<String> = sorted.iter().map(i32::to_string).collect();
        format!(
            "The CPU runs of this report trained with different libtorch thread counts ({}). \
             A thread count changes the order in which libtorch sums, so a run trained \
             again with another count gives other numbers, not only in their last bits: \
             compare runs of one thread count, or take such differences as noise.",
            list.join(", ")
        )
    })
}

/// Arguments quoted so that a POSIX shell reads them back as they were.
pub fn shell_join(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
