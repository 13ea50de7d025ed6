//! Where results come from: each run's provenance, the references, and the
//! reproducibility appendix.

use serde::{Deserialize, Serialize};

use crate::store::RunRecord;
use crate::text;

use super::parts::{Link, Prose};

/// Where and when a run trained: `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// The processor or GPU model.
    pub device_name: String,
    /// CPU threads.
    pub threads: i32,
    /// Where it trained, as the appendix's table shows it: "cpu, 2 threads", "cuda:0".
    pub device_text: String,
    /// The libtorch it ran on, as loaded at run time; none for older runs.
    #[serde(default)]
    pub torch_version: Option<String>,
    /// The data source as given.
    pub data: String,
    /// Its fingerprint (first 16 hex digits).
    pub data_fingerprint: String,
    /// Training images.
    pub train_images: usize,
    /// Test images.
    pub test_images: usize,
    /// The run's content key (first 16 hex digits).
    pub key: String,
    /// "2026-11-28 17:02:11" (UTC).
    pub started: String,
    /// When it ended.
    pub finished: String,
    /// libtorch's deterministic, cuDNN and TF32 switches (none for older runs).
    #[serde(default)]
    pub numerics: Option<crate::store::record::Numerics>,
}

impl Provenance {
    /// What `run.json` says of where and when the run trained.
    pub(in crate::render::context) fn of(r: &RunRecord) -> Provenance {
        Provenance {
            device: r.device.clone(),
            device_name: r.device_name.clone(),
            threads: r.threads,
            device_text: if r.device == "cpu" {
                format!(
                    "cpu, {} thread{}",
                    r.threads,
                    if r.threads == 1 { "" } else { "s" }
                )
            } else {
                r.device.clone()
            },
            torch_version: r.torch_version.clone(),
            data: r.data.source.clone(),
            data_fingerprint: text::short_digest(&r.data.fingerprint),
            train_images: r.data.train,
            test_images: r.data.test,
            key: r.key.to_string(),
            started: text::timestamp(&r.started),
            finished: text::timestamp(&r.finished),
            numerics: r.numerics.clone(),
        }
    }
}

/// A numbered reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// 1, 2, …
    pub number: usize,
    /// `ref-1`.
    pub anchor: String,
    /// The line as written and as HTML.
    pub text: Prose,
}

/// The reproducibility appendix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reproducibility {
    /// The last build of this profile (`out/build.json`), when there is one.
    pub build: Option<BuildEntry>,
    /// The devices runs trained on: "cpu (AMD EPYC)".
    pub devices: Vec<String>,
    /// The data the runs trained on: "./data/x.tar.gz (5,000 / 1,000 images,
    /// fingerprint c163788433c9e49b)".
    pub data: Vec<String>,
    /// Distinct seeds of the runs.
    pub seeds: Vec<u64>,
    /// Distinct libtorch thread counts of the runs trained on the CPU, lowest first.
    pub threads: Vec<i32>,
    /// Said when CPU runs of the report trained with different thread counts.
    pub threads_note: Option<String>,
    /// Per run, in report order.
    pub runs: Vec<RunRepro>,
    /// This program's version, which rendered the report.
    pub renderer_version: String,
}

/// `build.json`, formatted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildEntry {
    /// The command line, quoted for a POSIX shell.
    pub command: String,
    /// Profile built.
    pub profile: String,
    /// Sections the build was restricted to.
    pub only: Vec<String>,
    /// The crate version that built.
    pub crate_version: String,
    /// `git describe` of the project.
    pub git_commit: Option<String>,
    /// tch version.
    pub tch_version: String,
    /// libtorch version.
    pub torch_version: String,
    /// The data source.
    pub data: String,
    /// Its full fingerprint.
    pub data_fingerprint: String,
    /// When the build started (UTC).
    pub started: String,
    /// When it finished (UTC).
    pub finished: String,
}

/// One run's line of the appendix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRepro {
    /// The run, linked.
    pub run: Link,
    /// Its seed.
    pub seed: u64,
    /// Its state in words.
    pub status: String,
    /// Where and when it trained.
    pub provenance: Option<Provenance>,
    /// How long it took.
    pub time: Option<String>,
}
