//! `experiments/report.toml`: report-wide settings and the profiles.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::experiment::dataset::DataSettings;
use crate::experiment::executor::ExecutorSettings;
use crate::experiment::statistics::{StatisticsSettings, VerifySettings};

/// The report's front matter, prose and profiles.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportFile {
    /// Report title.
    pub title: String,
    /// Author line.
    #[serde(default)]
    pub author: String,
    /// Date as written (e.g. "May 27, 2021"); the build date when absent.
    pub date: Option<String>,
    /// Prose sections by place in the report, Markdown files relative to `experiments/`.
    #[serde(default)]
    pub prose: ProseFiles,
    /// Profile used when a command names none; not needed when there is one profile.
    pub default_profile: Option<String>,
    /// Section order; sections not named follow in natural order of their names.
    #[serde(default)]
    pub order: Vec<String>,
    /// References, as Markdown lines.
    #[serde(default)]
    pub references: Vec<String>,
    /// Profiles by name.
    pub profiles: BTreeMap<String, ProfileFile>,
    /// The PDF report.
    #[serde(default)]
    pub pdf: PdfSettings,
    /// Settings of `report build --executor`.
    #[serde(default)]
    pub executor: ExecutorSettings,
    /// How the images are prepared (`[data]`).
    #[serde(default)]
    pub data: DataSettings,
    /// How seeds are taken together and claims judged (`[statistics]`).
    #[serde(default)]
    pub statistics: StatisticsSettings,
    /// How far `report verify` lets a retrained run land from its record (`[verify]`).
    #[serde(default)]
    pub verify: VerifySettings,
}

impl ReportFile {
    /// The profile a command uses when it names none: `default_profile`, else the only
    /// profile. `path` is this file, for the message when neither applies.
    pub fn default_profile(&self, path: &std::path::Path) -> Result<String, String> {
        if let Some(name) = &self.default_profile {
            return Ok(name.clone());
        }
        let names: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
        match &names[..] {
            [one] => Ok((*one).to_owned()),
            _ => Err(format!(
                "{}: {} profiles ({}) and no default_profile: name one with `default_profile = \"{}\"`, or pass --profile",
                path.display(),
                names.len(),
                names.join(", "),
                names.first().copied().unwrap_or("…")
            )),
        }
    }
}

/// `[pdf]`: whether `out/report.pdf` is written, and on which paper.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PdfSettings {
    /// Write the PDF (default: yes).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Paper size.
    #[serde(default)]
    pub paper: Paper,
}

impl Default for PdfSettings {
    fn default() -> Self {
        PdfSettings {
            enabled: true,
            paper: Paper::default(),
        }
    }
}

fn yes() -> bool {
    true
}

/// A paper size, as Typst names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Paper {
    /// ISO A4, 210 × 297 mm.
    #[default]
    A4,
    /// US Letter, 8.5 × 11 in.
    UsLetter,
}

/// The Markdown files of the author's prose.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProseFiles {
    /// "Explanations and Discussions".
    pub explanations: Option<PathBuf>,
    /// Text of the t-SNE section.
    pub tsne: Option<PathBuf>,
    /// "Additional Notes".
    pub notes: Option<PathBuf>,
}

/// A profile: which data, how many epochs, which snapshot epochs. Its values are checked
/// as `report.toml` is read, so a bad one is blamed on that file's line and column, not
/// on every experiment the profile applies to.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "ProfileTable")]
pub struct ProfileFile {
    /// What the profile is for, one line.
    pub description: String,
    /// Data source, relative to the project root (overridden by `--data`).
    pub data: PathBuf,
    /// Epochs of every run, unless an experiment's own profile table says otherwise.
    pub epochs: Option<i64>,
    /// Snapshot epochs of runs with t-SNE enabled.
    pub tsne_epochs: Option<Vec<i64>>,
    /// Memory layout for every run of the profile (see `[training] memory_format`).
    pub memory_format: Option<crate::experiment::file::MemoryFormat>,
    /// Arithmetic for every run of the profile (see `[training] precision`).
    pub precision: Option<crate::experiment::file::Precision>,
    /// Seeds of every run whose experiment names none (`[training] seeds`).
    pub seeds: Option<crate::experiment::file::Seeds>,
    /// Executor settings over the report's (`[profiles.x.executor.slurm]`).
    pub executor: ExecutorSettings,
}

/// A profile table as written, before its values are checked together.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileTable {
    #[serde(default)]
    description: String,
    data: PathBuf,
    #[serde(default, deserialize_with = "positive_epochs")]
    epochs: Option<i64>,
    #[serde(default, deserialize_with = "snapshot_epochs")]
    tsne_epochs: Option<Vec<i64>>,
    memory_format: Option<crate::experiment::file::MemoryFormat>,
    precision: Option<crate::experiment::file::Precision>,
    seeds: Option<crate::experiment::file::Seeds>,
    #[serde(default)]
    executor: ExecutorSettings,
}

impl TryFrom<ProfileTable> for ProfileFile {
    type Error = String;
    fn try_from(t: ProfileTable) -> Result<Self, String> {
        if let (Some(epochs), Some(snapshots)) = (t.epochs, &t.tsne_epochs)
            && let Some(bad) = snapshots.iter().find(|e| **e > epochs)
        {
            return Err(format!(
                "tsne_epochs: epoch {bad} is outside 0..={epochs} (the profile has {epochs} epochs)"
            ));
        }
        Ok(ProfileFile {
            description: t.description,
            data: t.data,
            epochs: t.epochs,
            tsne_epochs: t.tsne_epochs,
            memory_format: t.memory_format,
            precision: t.precision,
            seeds: t.seeds,
            executor: t.executor,
        })
    }
}

/// `epochs`, which must be positive.
fn positive_epochs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let epochs = Option::<i64>::deserialize(d)?;
    match epochs {
        Some(n) if n <= 0 => Err(D::Error::custom(format!(
            "epochs must be positive, got {n}"
        ))),
        _ => Ok(epochs),
    }
}

/// `tsne_epochs`, none negative (0 is before training).
fn snapshot_epochs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<i64>>, D::Error> {
    let epochs = Option::<Vec<i64>>::deserialize(d)?;
    if let Some(bad) = epochs.iter().flatten().find(|e| **e < 0) {
        return Err(D::Error::custom(format!(
            "tsne_epochs: epoch {bad} is negative (0 is before training)"
        )));
    }
    Ok(epochs)
}
