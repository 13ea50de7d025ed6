//! A project: a root folder with `experiments/`, `templates/` and `out/`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::data::{self, Description};
use crate::experiment::dataset::DataSettings;
use crate::experiment::executor::SlurmSettings;
use crate::experiment::{Experiments, REPORT_FILE};
use crate::fsx;
use crate::plan::{self, DeviceKind, Devices, RunSpec};
use crate::store::record::BuildInfo;
use crate::store::{Inventory, RunRecord, Store};

/// An opened project: its experiments parsed, its store located.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project root.
    pub root: PathBuf,
    /// Parsed experiment files.
    pub experiments: Experiments,
    /// The run store in `out/`.
    pub store: Store,
}

impl Project {
    /// Opens the project at `root`, parsing `root/experiments/`.
    pub fn open(root: &Path) -> Result<Project> {
        let dir = root.join("experiments");
        if !dir.is_dir() {
            bail!(
                "{}: no experiments folder (run report from the project root, or pass --root)",
                dir.display()
            );
        }
        let experiments = Experiments::load(&dir)?;
        Ok(Project {
            root: root.to_path_buf(),
            experiments,
            store: Store::new(&root.join("out")),
        })
    }

    /// The same project over another store: `report verify` reads its claims again over
    /// a scratch store that holds the retrained runs in place of the stored ones.
    pub fn with_store(&self, store: Store) -> Project {
        Project {
            store,
            ..self.clone()
        }
    }

    /// Every run under `profile` on `data`, restricted to `only` when it is not empty:
    /// each item names a section (`model-9`) or one variant of it (`model-9/sgd`).
    pub fn runs(&self, profile: &str, only: &[String], data: &Description) -> Result<Vec<RunSpec>> {
        let runs = self.all_runs(profile, data)?;
        self.check_only(only, &runs)?;
        Ok(runs.into_iter().filter(|r| selected(only, r)).collect())
    }

    /// Every run under `profile` on `data`, in report order.
    pub fn all_runs(&self, profile: &str, data: &Description) -> Result<Vec<RunSpec>> {
        plan::runs(&self.experiments, profile, &plan::Input::of(data))
    }

    /// The data of `profile` (see [`Project::data_source`]) and its description: from
    /// the decoded copy in the store's cache, decoding it first when there is none.
    pub fn data(&self, profile: &str, given: Option<&Path>) -> Result<ProfileData> {
        let source = self.data_source(profile, given)?;
        let description = data::describe(&source, self.data_settings(), &self.store.data_cache())?;
        Ok(ProfileData {
            source,
            description,
        })
    }

    /// Whether the data `profile` names is there.
    pub fn data_source_exists(&self, profile: &str) -> bool {
        self.data_source(profile, None).is_ok()
    }

    /// The profile a command uses when it names none (see
    /// [`crate::experiment::ReportFile::default_profile`]).
    pub fn default_profile(&self) -> Result<String> {
        let path = self.experiments.dir.join(REPORT_FILE);
        self.experiments
            .report
            .default_profile(&path)
            .map_err(anyhow::Error::msg)
    }

    /// `[data]` of `report.toml`.
    pub fn data_settings(&self) -> &DataSettings {
        &self.experiments.report.data
    }

    /// Fails on an `--only` item that names none of `runs`.
    pub fn check_only(&self, only: &[String], runs: &[RunSpec]) -> Result<()> {
        for name in only {
            if !runs.iter().any(|r| selects(name, r)) {
                let have: Vec<&str> = self
                    .experiments
                    .sections
                    .keys()
                    .map(String::as_str)
                    .collect();
                bail!(
                    "--only {name}: no such section or variant (sections: {})",
                    have.join(", ")
                );
            }
        }
        Ok(())
    }

    /// `specs` of `profile` with their keys and what the store holds for each: the one
    /// plan the later stages read. `keys` gives the data fingerprint a run's key is
    /// computed with and the devices whose runs are accepted.
    pub fn survey(
        &self,
        profile: &str,
        specs: Vec<RunSpec>,
        keys: impl Fn(&RunSpec) -> (String, Devices),
    ) -> Inventory {
        let runs = specs
            .into_iter()
            .map(|spec| {
                let (fingerprint, devices) = keys(&spec);
                let (key, also) = devices.keys(&spec, &fingerprint);
                (spec, key, also)
            })
            .collect();
        Inventory::survey(
            &self.store,
            profile,
            plan::section_order(&self.experiments),
            runs,
        )
    }

    /// The runs of `profile` as the store holds them, for a command that trains nothing
    /// (`render`, `figures`, `list`, `verify`, `diff`): the one survey of a store.
    ///
    /// With `data` (the profile's data, read now), each run is keyed with its
    /// fingerprint, so a run trained on other data reads as stale. Without it, with the
    /// fingerprint and devices of the last build of this profile (`build.json`), so a
    /// store can be read where its data is not; without a build either, with the
    /// fingerprint and device each run recorded, which still proves the run was
    /// trained for this very spec.
    pub fn survey_stored(&self, profile: &str, data: Option<&Description>) -> Result<Inventory> {
        let built = BuildInfo::last(&self.store, profile)?;
        // The plan needs the data's shape and classes: the last build recorded them.
        let description = match (
            data,
            built.as_ref().and_then(|b| b.data_description.as_ref()),
        ) {
            (Some(d), _) | (None, Some(d)) => d.clone(),
            (None, None) => self.data(profile, None)?.description,
        };
        let specs = self.all_runs(profile, &description)?;
        let built_devices = built.as_ref().map(BuildInfo::devices);
        Ok(self.survey(profile, specs, |spec| match (data, &built) {
            (Some(d), _) => (d.fingerprint.clone(), built_devices.unwrap_or_default()),
            (None, Some(b)) => (b.data_fingerprint.clone(), b.devices()),
            (None, None) => {
                let record = self.store.run(profile, &spec.seed_run()).record();
                fsx::read_json::<RunRecord>(&record).map_or_else(
                    |_| (String::new(), Devices::default()),
                    |r| {
                        let devices = Devices {
                            kind: DeviceKind::of_label(&r.device),
                            reuse_any: false,
                        };
                        (r.data.fingerprint, devices)
                    },
                )
            }
        }))
    }

    /// `[executor.slurm]` of `report.toml` with the profile's own over it.
    pub fn slurm_settings(&self, profile: &str) -> SlurmSettings {
        let report = &self.experiments.report;
        let own = report.profiles.get(profile).map(|p| &p.executor.slurm);
        match own {
            Some(own) => report.executor.slurm.over(own),
            None => report.executor.slurm.clone(),
        }
    }

    /// The data source of `profile`: `--data` when given, else the profile's `data`,
    /// relative to the project root. It must exist: no silent fallback to other data.
    pub fn data_source(&self, profile: &str, given: Option<&Path>) -> Result<PathBuf> {
        if let Some(path) = given {
            if !path.exists() {
                bail!("{}: dataset not found (given with --data)", path.display());
            }
            return Ok(path.to_path_buf());
        }
        let p = self
            .experiments
            .report
            .profiles
            .get(profile)
            .with_context(|| format!("unknown profile \"{profile}\""))?;
        let path = self.root.join(&p.data);
        if !path.exists() {
            let fetch = if path.ends_with("cifar-10-batches-bin") {
                " or run `report data fetch cifar10`"
            } else {
                ""
            };
            bail!(
                "{}: dataset not found (named by profile {profile} in experiments/{REPORT_FILE}); pass --data PATH{fetch}",
                path.display()
            );
        }
        Ok(path)
    }
}

/// A profile's data: where it is and what it holds.
#[derive(Debug, Clone)]
pub struct ProfileData {
    /// The source.
    pub source: PathBuf,
    /// Its description.
    pub description: Description,
}

/// The sections that `--only` items name (`model-9/adam` names `model-9`).
pub fn only_sections(only: &[String]) -> Vec<String> {
    only.iter()
        .map(|o| o.split('/').next().unwrap_or(o).to_owned())
        .collect()
}

/// Whether `run` is among those `only` names (all are when it is empty).
pub fn selected(only: &[String], run: &RunSpec) -> bool {
    only.is_empty() || only.iter().any(|n| selects(n, run))
}

/// Whether an `--only` item names this run.
fn selects(name: &str, run: &RunSpec) -> bool {
    match name.split_once('/') {
        Some((section, variant)) => run.id.section == section && run.id.variant == variant,
        None => run.id.section == name,
    }
}
