//! `out/verify.json`: what the last `report verify` retrained and what it found. The
//! verify stage writes it; the render stage reads it for the report's Verification
//! appendix. Plain data: the rule that decides an outcome lives in `verify::rule`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::layout::Store;
use super::record::{EpochMetrics, Numerics, RunRecord};
use crate::fsx;
use crate::stats::Outcome;

/// Version of the file's format.
pub const VERIFICATION_FORMAT: u32 = 1;

/// `out/verify.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// [`VERIFICATION_FORMAT`].
    pub format: u32,
    /// The profile verified.
    pub profile: String,
    /// The command line, program name first.
    pub command: Vec<String>,
    /// When the verification finished.
    pub verified_at: DateTime<Utc>,
    /// Which runs were picked.
    pub sample: SampleInfo,
    /// Each picked run, in report order.
    pub runs: Vec<VerifiedRun>,
    /// Every claim of the report, judged on the stored runs and on the retrained ones.
    pub claims: Vec<ClaimCheck>,
}

impl Verification {
    /// The last verification of `profile`, when `out/verify.json` is one; an
    /// unreadable file is an error naming it.
    pub fn last(store: &Store, profile: &str) -> anyhow::Result<Option<Verification>> {
        let path = store.verification();
        if !path.exists() {
            return Ok(None);
        }
        let v: Verification = fsx::read_json(&path)?;
        Ok((v.profile == profile && v.format == VERIFICATION_FORMAT).then_some(v))
    }

    /// Whether anything failed: a run not reproduced or damaged, or a claim that flipped.
    pub fn failed(&self) -> bool {
        self.runs.iter().any(|r| r.outcome.failed()) || self.claims.iter().any(|c| c.flipped)
    }
}

/// How the runs were picked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleInfo {
    /// Every stored run (`--all`).
    pub all: bool,
    /// Runs picked per section otherwise (`--sample K`).
    pub per_section: usize,
    /// The seed of the pick (`--sample-seed S`): the same seed picks the same runs.
    pub seed: u64,
}

/// What retraining a stored run showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyOutcome {
    /// Retrained where it was trained, every metric and the weights equal bit for bit.
    Identical,
    /// Retrained elsewhere (another device, thread count or libtorch), and inside the
    /// tolerance the rule says.
    WithinTolerance,
    /// Outside the tolerance, or not bit for bit where it should have been.
    NotReproduced,
    /// The stored files do not match their digests: nothing was retrained.
    Damaged,
}

impl VerifyOutcome {
    /// Whether this outcome fails a verification.
    pub fn failed(self) -> bool {
        matches!(self, VerifyOutcome::NotReproduced | VerifyOutcome::Damaged)
    }

    /// The word, as verify.json spells it.
    pub fn word(self) -> &'static str {
        match self {
            VerifyOutcome::Identical => "identical",
            VerifyOutcome::WithinTolerance => "within_tolerance",
            VerifyOutcome::NotReproduced => "not_reproduced",
            VerifyOutcome::Damaged => "damaged",
        }
    }
}

/// Which rule decided an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// Same machine, threads, libtorch and numerics: every metric equal bit for bit.
    BitForBit,
    /// The final test accuracy inside the 95 % prediction interval of the run's stored
    /// seeds.
    SeedSpread {
        /// The interval, as fractions.
        low: f64,
        /// Its upper end.
        high: f64,
        /// The stored seeds it was computed from.
        seeds: usize,
    },
    /// Every epoch's train and test accuracy within `accuracy` of the stored one, and
    /// its losses within `loss` when one is set.
    Tolerance {
        /// Accuracy tolerance, a fraction (`[verify] tolerance_pp` / 100).
        accuracy: f64,
        /// Loss tolerance (`[verify] tolerance_loss`), when set.
        loss: Option<f64>,
        /// Where it came from: `tolerance_pp` or, for a run with one seed and no
        /// `[verify]` tolerance, the claims' `margin_pp`.
        source: ToleranceSource,
    },
}

/// Where an accuracy tolerance came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToleranceSource {
    /// `[verify] tolerance_pp` in report.toml.
    Verify,
    /// `[statistics] margin_pp`: a run of one seed has no spread to measure.
    Margin,
}

/// One retrained run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifiedRun {
    /// `model-3/main/seed-1`.
    pub run: String,
    /// The run's section.
    pub section: String,
    /// Its variant.
    pub variant: String,
    /// Its seed.
    pub seed: u64,
    /// What retraining showed.
    pub outcome: VerifyOutcome,
    /// The rule applied; none for a damaged run.
    pub rule: Option<Rule>,
    /// Why, in one sentence: the first difference, or the rule that held.
    pub reason: String,
    /// Where it was trained and retrained.
    #[serde(rename = "where")]
    pub place: Place,
    /// The metrics side by side; none for a damaged run.
    pub metrics: Option<MetricsComparison>,
}

/// Where a run was trained and where it was retrained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    /// As the record says.
    pub stored: Setting,
    /// As the retrained record says; none for a damaged run.
    pub retrained: Option<Setting>,
    /// What differs between the two: "threads 2 → 1".
    pub differences: Vec<String>,
}

/// What of a machine and a library can change a run's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// The processor or GPU model.
    pub device_name: String,
    /// libtorch threads.
    pub threads: i32,
    /// libtorch, as loaded at run time; none where the record does not say.
    pub torch_version: Option<String>,
    /// libtorch's numeric switches; none where the record does not say.
    pub numerics: Option<Numerics>,
}

impl Setting {
    /// What `record` says of where it trained.
    pub fn of(record: &RunRecord) -> Setting {
        Setting {
            device: record.device.clone(),
            device_name: record.device_name.clone(),
            threads: record.threads,
            torch_version: record.torch_version.clone(),
            numerics: record.numerics.clone(),
        }
    }
}

/// The stored and retrained metrics of each epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsComparison {
    /// One per epoch either side has.
    pub epochs: Vec<EpochPair>,
    /// The largest difference of an accuracy, in any epoch; none without epochs.
    pub largest: Option<Largest>,
}

/// One epoch, both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochPair {
    /// 1-based epoch.
    pub epoch: i64,
    /// As stored; none when the stored run has no such epoch.
    pub stored: Option<Values>,
    /// As retrained; none when the retrained run has no such epoch.
    pub retrained: Option<Values>,
}

/// The four numbers of an epoch that are compared (not its times).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Values {
    /// Mean training cross-entropy.
    pub train_loss: f64,
    /// Training accuracy, a fraction.
    pub train_accuracy: f64,
    /// Test cross-entropy.
    pub test_loss: f64,
    /// Test accuracy, a fraction.
    pub test_accuracy: f64,
}

impl Values {
    /// The compared numbers of `e`.
    pub fn of(e: &EpochMetrics) -> Values {
        Values {
            train_loss: e.train_loss,
            train_accuracy: e.train_accuracy,
            test_loss: e.test_loss,
            test_accuracy: e.test_accuracy,
        }
    }
}

/// The largest accuracy difference between the two sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Largest {
    /// `test_accuracy` or `train_accuracy`.
    pub metric: String,
    /// In which epoch.
    pub epoch: i64,
    /// Retrained − stored, a fraction.
    pub difference: f64,
}

/// One claim, on the stored runs and on the retrained ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimCheck {
    /// The run the claim is about, as the report titles it.
    pub run: String,
    /// The claim as the report states it.
    pub claim: String,
    /// Its outcome on the stored runs.
    pub stored: Outcome,
    /// Its outcome with the retrained runs in place of the stored ones.
    pub verified: Outcome,
    /// Whether the two differ.
    pub flipped: bool,
}
