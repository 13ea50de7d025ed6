//! `experiments/report.toml`: report-wide settings and the profiles.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

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
    /// Profile used when a command names none.
    pub default_profile: String,
    /// Section order; sections not named follow in natural order of their names.
    #[serde(default)]
    pub order: Vec<String>,
    /// References, as Markdown lines.
    #[serde(default)]
    pub references: Vec<String>,
    /// Profiles by name.
    pub profiles: BTreeMap<String, ProfileFile>,
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

/// A profile: which data, how many epochs, which snapshot epochs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    /// What the profile is for, one line.
    #[serde(default)]
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
}
