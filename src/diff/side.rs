//! One side of a diff: a project root, whose store is surveyed and assembled into a
//! report context now, exactly as `report render` would; or a plain `out/` folder (a
//! CI artifact, a published site), whose `site/report.json` is that context as it was
//! rendered. Either way the runs' resolved specs come with it, for the "what changed"
//! lines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::model::SideInfo;
use crate::fsx;
use crate::plan::RunSpec;
use crate::plan::spec::{RunId, SeedRun};
use crate::project::Project;
use crate::render::context::{self, CONTEXT_FORMAT, ReportContext, RunEntry};
use crate::stats::Method;
use crate::store::Store;

/// A build to compare: its report context and its runs' specs.
#[derive(Debug, Clone)]
pub struct Side {
    /// The path given.
    pub path: PathBuf,
    /// What the renderers read.
    pub context: ReportContext,
    /// Each run's resolved spec by run id, where known.
    specs: BTreeMap<String, RunSpec>,
    /// How the side's report made its intervals, when it is a project.
    method: Option<Method>,
    /// Whether it is a project (else a `report.json`).
    project: bool,
}

impl Side {
    /// Opens `path` for `profile` (`None`: the project's default profile, or the one
    /// its `report.json` is of). A project root has `experiments/`; an `out/` folder
    /// has `site/report.json`.
    pub fn open(path: &Path, profile: Option<&str>) -> Result<Side> {
        if path.join("experiments").is_dir() {
            Self::of_project(path, profile)
        } else if path.join("site").join("report.json").is_file() {
            Self::of_report_json(path, profile)
        } else if !path.exists() {
            bail!("{}: no such folder", path.display())
        } else {
            bail!(
                "{}: neither a project (no experiments/) nor a store (no site/report.json)",
                path.display()
            )
        }
    }

    fn of_project(path: &Path, profile: Option<&str>) -> Result<Side> {
        let project = Project::open(path)?;
        let profile = match profile {
            Some(p) => p.to_owned(),
            None => project.default_profile()?,
        };
        let report = &project.experiments.report;
        if !report.profiles.contains_key(&profile) {
            let have: Vec<&str> = report.profiles.keys().map(String::as_str).collect();
            bail!(
                "{}: no profile \"{profile}\" in its experiments (profiles: {})",
                path.display(),
                have.join(", ")
            );
        }
        let runs = project.store.runs_root().join(&profile);
        if !runs.is_dir() {
            bail!(
                "{}: no store of profile {profile} ({} is missing): run `report build --profile {profile}` there first",
                path.display(),
                runs.display()
            );
        }
        let inventory = project.survey_stored(&profile, None)?;
        let context = context::assemble(&project, &inventory)?;
        let mut specs = BTreeMap::new();
        for r in &inventory.runs {
            specs
                .entry(r.spec.id.to_string())
                .or_insert_with(|| r.spec.clone());
        }
        Ok(Side {
            path: path.to_path_buf(),
            context,
            specs,
            method: Some(report.statistics.method()),
            project: true,
        })
    }

    fn of_report_json(out: &Path, profile: Option<&str>) -> Result<Side> {
        let store = Store::new(out);
        let file = store.report_json();
        let raw: serde_json::Value = fsx::read_json(&file)?;
        let format = raw.get("format").and_then(serde_json::Value::as_u64);
        if format != Some(u64::from(CONTEXT_FORMAT)) {
            bail!(
                "{}: report.json of format {}, and this report reads format {CONTEXT_FORMAT}: render it again with this version",
                file.display(),
                format.map_or("(none)".to_owned(), |f| f.to_string())
            );
        }
        let context: ReportContext = serde_json::from_value(raw)
            .with_context(|| format!("{}: not a report.json this report wrote", file.display()))?;
        let name = &context.profile.name;
        if let Some(p) = profile
            && p != name
        {
            bail!(
                "{}: its report is of profile {name}, not {p}",
                file.display()
            );
        }
        let mut specs = BTreeMap::new();
        for r in context.sections.iter().flat_map(|s| &s.runs) {
            let seed = SeedRun {
                id: RunId {
                    section: r.section.clone(),
                    variant: r.variant.clone(),
                },
                seed: r.shown_seed,
            };
            // Only the runs the store holds have specs; the report still has the rest.
            if let Ok(spec) = fsx::read_json::<RunSpec>(&store.run(name, &seed).spec()) {
                specs.insert(r.id.clone(), spec);
            }
        }
        Ok(Side {
            path: out.to_path_buf(),
            context,
            specs,
            method: None,
            project: false,
        })
    }

    /// Every run of the report, in report order.
    pub fn runs(&self) -> impl Iterator<Item = &RunEntry> {
        self.context.sections.iter().flat_map(|s| &s.runs)
    }

    /// The resolved spec of run `id`, when known.
    pub fn spec(&self, id: &str) -> Option<&RunSpec> {
        self.specs.get(id)
    }

    /// How this side's report made its intervals: its `[statistics]`, or for a
    /// `report.json` what that records (the bootstrap's generator seed is not recorded
    /// there: the default one).
    pub fn method(&self) -> Method {
        self.method.unwrap_or_else(|| {
            let s = &self.context.statistics;
            let default = Method::default();
            Method {
                interval: s.interval,
                bootstrap: s.bootstrap.unwrap_or(default.bootstrap),
                resamples: s.resamples.unwrap_or(default.resamples),
                seed: default.seed,
            }
        })
    }

    /// Where it came from, for the diff's header.
    pub(super) fn info(&self) -> SideInfo {
        SideInfo {
            path: self.path.display().to_string(),
            source: if self.project {
                "project"
            } else {
                "report.json"
            }
            .to_owned(),
            built: self
                .context
                .reproducibility
                .build
                .as_ref()
                .map(|b| b.finished.clone()),
            runs: self.runs().count(),
        }
    }
}
