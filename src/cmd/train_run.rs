//! The hidden `__train-run` command: one worker of `report build --jobs`, training the
//! one run its parent names. The parent holds the store lock.

use anyhow::{Result, bail};

use crate::build::beside::with_beside;
use crate::build::jobs::WorkerArgs;
use crate::build::run::train_one;
use crate::data;
use crate::plan::RunKey;
use crate::project::Project;
use crate::store::Store;
use crate::store::record::DataInfo;
use crate::train::DeviceData;

/// Trains the run and moves it into the store.
pub fn run(project: &Project, args: WorkerArgs) -> Result<()> {
    tch::set_num_threads(args.threads);
    // The parent decoded the data into the cache, so this reads the decoded copy.
    let dataset = data::load(
        &args.data,
        project.data_settings(),
        &project.store.data_cache(),
    )?;
    let description = dataset.description();
    let specs = project.runs(&args.profile, std::slice::from_ref(&args.run), &description)?;
    let matching: Vec<_> = specs.iter().filter(|s| s.train.seed == args.seed).collect();
    let [spec] = &matching[..] else {
        bail!("{} seed {}: expected exactly one run", args.run, args.seed)
    };
    let fingerprint = description.fingerprint;
    let device = args.device.resolve()?;
    let info = DataInfo::new(&args.data, &fingerprint, &dataset);
    let on_device = DeviceData::new(&dataset, device);
    drop(dataset);
    let key = RunKey::of(spec, &fingerprint, crate::train::device::kind(device));
    let store = args
        .store
        .as_deref()
        .map_or_else(|| project.store.clone(), Store::new);
    with_beside(&store, args.tsne_threads, |beside| {
        train_one(&store, &args.profile, spec, &key, &on_device, &info, beside)
    })
}
