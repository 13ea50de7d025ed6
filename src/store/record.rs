//! What a finished run leaves behind, and how a build decides whether to trust it.

use std::collections::BTreeMap;
use std::fmt;

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::layout::{RunFiles, Store};
use crate::data::Dataset;
use crate::fsx;
use crate::plan::{DeviceKind, Devices, RunId, RunKey};

/// Version of the record format; older records are treated as missing. 2: weights in
/// safetensors (`weights.safetensors`) rather than libtorch's archive.
pub const RECORD_FORMAT: u32 = 2;

/// One epoch's measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based epoch number.
    pub epoch: i64,
    /// Mean cross-entropy over the epoch's training batches.
    pub train_loss: f64,
    /// Running accuracy over the epoch's (augmented) training batches, in [0, 1].
    pub train_accuracy: f64,
    /// Mean cross-entropy on the test set after the epoch.
    pub test_loss: f64,
    /// Test accuracy after the epoch, in [0, 1].
    pub test_accuracy: f64,
    /// Wall time of the epoch, evaluation included.
    pub seconds: f64,
    /// Training images per second (training phase only).
    pub images_per_second: f64,
    /// The learning rate the epoch trained at (absent in runs stored by 0.2.0).
    #[serde(default)]
    pub lr: Option<f64>,
}

/// `metrics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Class names, in label order.
    pub classes: Vec<String>,
    /// One entry per completed epoch.
    pub epochs: Vec<EpochMetrics>,
    /// Test confusion matrix after the last completed epoch: `[true][predicted]`.
    pub confusion: Vec<Vec<i64>>,
}

impl Metrics {
    /// The metrics as CSV, one row per epoch.
    pub fn to_csv(&self) -> String {
        let mut s = String::from(
            "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds,images_per_second,lr\n",
        );
        for e in &self.epochs {
            s.push_str(&format!(
                "{},{},{},{},{},{},{},{}\n",
                e.epoch,
                e.train_loss,
                e.train_accuracy,
                e.test_loss,
                e.test_accuracy,
                e.seconds,
                e.images_per_second,
                e.lr.map_or(String::new(), |lr| lr.to_string())
            ));
        }
        s
    }

    /// The last epoch's metrics.
    pub fn last(&self) -> Option<&EpochMetrics> {
        self.epochs.last()
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum RunStatus {
    /// Every epoch ran.
    Complete,
    /// The training loss became NaN or infinite in `epoch`; training stopped there.
    Diverged {
        /// The epoch whose loss was not finite.
        epoch: i64,
    },
}

impl fmt::Display for RunStatus {
    /// "complete", "diverged in epoch 3": how every part of the program says it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunStatus::Complete => f.write_str("complete"),
            RunStatus::Diverged { epoch } => write!(f, "diverged in epoch {epoch}"),
        }
    }
}

/// One stored latent snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    /// Epoch (0 = before training).
    pub epoch: i64,
    /// File, relative to the run folder.
    pub file: String,
    /// Size of the latent vectors before PCA.
    pub latent_dim: i64,
    /// Fraction of the latent variance each kept component explains.
    pub explained_variance: Vec<f64>,
}

/// A file of the run and its digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Size in bytes.
    pub bytes: u64,
    /// BLAKE3 of the content.
    pub blake3: String,
}

/// The data a run trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataInfo {
    /// The source as given.
    pub source: String,
    /// Content fingerprint.
    pub fingerprint: String,
    /// Training images.
    pub train: usize,
    /// Test images.
    pub test: usize,
}

impl DataInfo {
    /// What a run records of the data it trained on.
    pub fn new(source: &std::path::Path, fingerprint: &str, dataset: &Dataset) -> Self {
        DataInfo {
            source: source.display().to_string(),
            fingerprint: fingerprint.to_owned(),
            train: dataset.train.len(),
            test: dataset.test.len(),
        }
    }
}

/// `run.json`: written last, so its presence means every other file is complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// [`RECORD_FORMAT`].
    pub format: u32,
    /// The content key the run was trained for.
    pub key: RunKey,
    /// Section and variant.
    pub id: RunId,
    /// Profile.
    pub profile: String,
    /// How it ended.
    pub status: RunStatus,
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// The processor or GPU model.
    pub device_name: String,
    /// libtorch threads used on the CPU.
    pub threads: i32,
    /// The libtorch the run was computed with, as loaded at run time (`2.11.0+cu130`);
    /// absent in records written before it was recorded, or where it cannot be told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub torch_version: Option<String>,
    /// The deterministic, cuDNN and TF32 switches it trained with (absent in records
    /// written before they were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerics: Option<Numerics>,
    /// The data.
    pub data: DataInfo,
    /// When training started.
    pub started: DateTime<Utc>,
    /// When it ended.
    pub finished: DateTime<Utc>,
    /// Snapshots taken.
    pub snapshots: Vec<SnapshotInfo>,
    /// Every file of the run but this one, with digests.
    pub files: BTreeMap<String, FileEntry>,
}

/// libtorch's numeric switches a run trained with (`src/train/numerics.rs` sets
/// them), as recorded in its `run.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Numerics {
    /// libtorch's deterministic algorithms (`torch.use_deterministic_algorithms`), in
    /// warn-only mode: an operation that has none warns in the run's output.
    pub deterministic_algorithms: bool,
    /// cuDNN restricted to deterministic algorithms (`cudnn.deterministic`).
    pub cudnn_deterministic: bool,
    /// cuDNN's autotuner (`cudnn.benchmark`): times the algorithms of each new input
    /// shape and keeps the fastest, which need not sum in the same order every time.
    pub cudnn_benchmark: bool,
    /// Arithmetic of fp32 convolutions on CUDA: `ieee` (fp32), `tf32` or `bf16`.
    pub cuda_conv_precision: String,
    /// Arithmetic of fp32 matrix products on CUDA: `ieee`, `tf32` or `bf16`.
    pub cuda_matmul_precision: String,
    /// `CUBLAS_WORKSPACE_CONFIG`, which deterministic cuBLAS needs (`:4096:8`); none
    /// when unset.
    #[serde(default)]
    pub cublas_workspace_config: Option<String>,
}

/// Digests `files` (paths inside the run folder) for the record.
pub fn digest_files(
    run: &RunFiles,
    files: &[std::path::PathBuf],
) -> Result<BTreeMap<String, FileEntry>> {
    let mut out = BTreeMap::new();
    for path in files {
        let bytes = std::fs::metadata(path)?.len();
        out.insert(
            run.relative(path),
            FileEntry {
                bytes,
                blake3: crate::hash::file(path)?,
            },
        );
    }
    Ok(out)
}

/// What a run folder's record says once every file it lists has been checked against
/// its digest.
#[derive(Debug)]
pub enum Verified {
    /// No record, or one of an older format: nothing usable.
    Absent,
    /// The record, every listed file intact.
    Intact(Box<RunRecord>),
    /// Present but not trustworthy: the reason says what is wrong.
    Damaged(String),
}

/// Reads a run folder's record and checks every file it lists against its digest.
pub fn verify(run: &RunFiles) -> Verified {
    let path = run.record();
    if !path.exists() {
        return Verified::Absent;
    }
    let record: RunRecord = match fsx::read_json(&path) {
        Ok(r) => r,
        Err(e) => return Verified::Damaged(format!("{e:#}")),
    };
    if record.format != RECORD_FORMAT {
        return Verified::Absent;
    }
    for (name, entry) in &record.files {
        let file = run.dir.join(name);
        let ok = std::fs::metadata(&file).is_ok_and(|m| m.len() == entry.bytes)
            && crate::hash::file(&file).is_ok_and(|d| d == entry.blake3);
        if !ok {
            return Verified::Damaged(format!(
                "{} is missing or changed since training",
                file.display()
            ));
        }
    }
    Verified::Intact(Box::new(record))
}

/// `out/build.json`: how the last build was invoked, for the report's appendix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// The command line, program name first.
    pub command: Vec<String>,
    /// Profile built.
    pub profile: String,
    /// Sections the build was restricted to (empty: all).
    pub only: Vec<String>,
    /// This crate's version.
    pub crate_version: String,
    /// The tch crate's version.
    pub tch_version: String,
    /// The libtorch (PyTorch) version tch was built against.
    pub torch_version: String,
    /// `git describe --always --dirty` of the project, when it is a git checkout.
    pub git_commit: Option<String>,
    /// The data source and its fingerprint.
    pub data: String,
    /// Its content fingerprint.
    pub data_fingerprint: String,
    /// What the data holds, so the report can be planned again without it (absent in
    /// build.json files from before).
    #[serde(default)]
    pub data_description: Option<crate::data::Description>,
    /// The kind of device it trained on (the CPU for build.json files from before).
    #[serde(default)]
    pub device: DeviceKind,
    /// Whether it reused runs stored for another kind of device.
    #[serde(default)]
    pub reuse_any_device: bool,
    /// When the build started.
    pub started: DateTime<Utc>,
    /// When it finished.
    pub finished: DateTime<Utc>,
}

impl BuildInfo {
    /// The last build of `profile`, when `out/build.json` is one. A build.json that
    /// cannot be read is an error naming it: the runs' keys are checked against its
    /// data fingerprint, and without it each run's own would be trusted.
    pub fn last(store: &Store, profile: &str) -> Result<Option<BuildInfo>> {
        let path = store.build_info();
        if !path.exists() {
            return Ok(None);
        }
        let info: BuildInfo = fsx::read_json(&path).map_err(|e| {
            anyhow::anyhow!("{e:#}: delete it or run “report build --profile {profile}”")
        })?;
        Ok(Some(info).filter(|b| b.profile == profile))
    }

    /// The devices whose runs it accepted: what a survey without a build accepts too.
    pub fn devices(&self) -> Devices {
        Devices {
            kind: self.device,
            reuse_any: self.reuse_any_device,
        }
    }
}
